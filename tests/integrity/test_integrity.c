/* SPDX-License-Identifier: Apache-2.0 */
/* lib/integrity unit tests: the reference's goldens, DSSE known answers,
 * fixture images, forgeries. */
#include "integrity.h"
#include "testlib.h"

#include <openssl/evp.h>

static const char *const alg_names[] = { "SHA224", "SHA256", "SHA384", "SHA512", "SHA512_224", "SHA512_256" };
static const enum integrity_hash algs[] = { INTEGRITY_SHA224, INTEGRITY_SHA256, INTEGRITY_SHA384,
					    INTEGRITY_SHA512, INTEGRITY_SHA512_224, INTEGRITY_SHA512_256 };

static void read_fixture(const char *rel, struct buf *b)
{
	buf_reset(b);
	if (file_read_all(tl_shared(rel), 1 << 24, b, NULL) < 0)
		printf("# cannot read %s\n", rel);
	/* Goldens end with the newline goldie writes. */
	if (strstr(rel, ".golden"))
		while (b->len && b->p[b->len - 1] == '\n')
			buf_setlen(b, b->len - 1);
}

static void golden_digest_json(void)
{
	struct buf g = BUF_INIT, out = BUF_INIT;
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "fixtures/sif/pkg/integrity/testdata/TestDigest_MarshalJSON/%s.golden",
			 alg_names[i]);
		read_fixture(rel, &g);
		REQUIRE(g.len > 2);
		struct integrity_digest d;
		CHECK_RC(integrity_digest_parse(g.p + 1, g.len - 2, &d), 0);
		CHECK(d.alg == algs[i]);
		buf_reset(&out);
		integrity_digest_json(&d, &out);
		CHECK_STR(out.p, g.p);
	}
	struct integrity_digest d;
	CHECK(integrity_digest_parse("md5:00", 6, &d) < 0);
	CHECK(integrity_digest_parse("sha256:00", 9, &d) < 0);
	CHECK(integrity_digest_parse("sha256", 6, &d) < 0);
	buf_release(&g);
	buf_release(&out);
}

static void golden_header_metadata(void)
{
	struct buf src = BUF_INIT, g = BUF_INIT, out = BUF_INIT;
	read_fixture("fixtures/sif/pkg/integrity/testdata/sources/header.bin", &src);
	REQUIRE(src.len == INTEGRITY_HEADER_STREAM_LEN);
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "fixtures/sif/pkg/integrity/testdata/TestGetHeaderMetadata/%s.golden",
			 alg_names[i]);
		read_fixture(rel, &g);
		struct integrity_digest d;
		CHECK_RC(integrity_digest_bytes(algs[i], src.p, src.len, &d), 0);
		buf_reset(&out);
		buf_addstr(&out, "{\"digest\":");
		integrity_digest_json(&d, &out);
		buf_addstr(&out, "}");
		CHECK_STR(out.p, g.p);
	}
	buf_release(&src);
	buf_release(&g);
	buf_release(&out);
}

static void golden_object_metadata(void)
{
	struct buf d0 = BUF_INIT, d1 = BUF_INIT, g = BUF_INIT, out = BUF_INIT;
	read_fixture("fixtures/sif/pkg/integrity/testdata/sources/descr-rid0.bin", &d0);
	read_fixture("fixtures/sif/pkg/integrity/testdata/sources/descr-rid1.bin", &d1);
	REQUIRE(d0.len == INTEGRITY_DESCR_STREAM_LEN && d1.len == INTEGRITY_DESCR_STREAM_LEN);
	for (size_t i = 0; i <= ARRAY_SIZE(algs); i++) {
		bool rid = i == ARRAY_SIZE(algs);
		enum integrity_hash h = rid ? INTEGRITY_SHA256 : algs[i];
		char rel[256];
		snprintf(rel, sizeof(rel), "fixtures/sif/pkg/integrity/testdata/TestGetObjectMetadata/%s.golden",
			 rid ? "RelativeID" : alg_names[i]);
		read_fixture(rel, &g);
		struct integrity_metadata md = { .version = 1 };
		struct integrity_object_md om = { .relative_id = rid ? 1 : 0 };
		const struct buf *ds = rid ? &d1 : &d0;
		CHECK_RC(integrity_digest_bytes(h, ds->p, ds->len, &om.descr), 0);
		CHECK_RC(integrity_digest_bytes(h, "blah", 4, &om.object), 0);
		md.objects = &om;
		md.n = 1;
		/* Object metadata is the element of the objects array. */
		buf_reset(&out);
		integrity_metadata_json(&md, &out);
		const char *start = strstr(out.p, "[{");
		REQUIRE(start);
		char *obj = strndup(start + 1, out.len - (size_t)(start - out.p) - 3);
		CHECK_STR(obj, g.p);
		free(obj);
	}
	buf_release(&d0);
	buf_release(&d1);
	buf_release(&g);
	buf_release(&out);
}

static void golden_image_metadata(void)
{
	struct sif_image *img = NULL;
	struct buf g = BUF_INIT, out = BUF_INIT;
	REQUIRE(sif_open(tl_shared("fixtures/sif/test/images/one-group.sif"), &img, NULL) == 0);
	static const uint32_t both[] = { 1, 2 };
	struct {
		const char *name;
		enum integrity_hash h;
		const uint32_t *ids;
		size_t n;
	} cases[] = {
		{ "SHA224", INTEGRITY_SHA224, both, 2 }, { "SHA256", INTEGRITY_SHA256, both, 2 },
		{ "SHA384", INTEGRITY_SHA384, both, 2 }, { "SHA512", INTEGRITY_SHA512, both, 2 },
		{ "Object1", INTEGRITY_SHA256, both, 1 }, { "Object2", INTEGRITY_SHA256, both + 1, 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "fixtures/sif/pkg/integrity/testdata/TestGetImageMetadata/%s.golden",
			 cases[i].name);
		read_fixture(rel, &g);
		struct integrity_metadata md;
		CHECK_RC(integrity_metadata_compute(img, 1, cases[i].ids, cases[i].n, cases[i].h, &md, NULL), 0);
		buf_reset(&out);
		integrity_metadata_json(&md, &out);
		CHECK_STR(out.p, g.p);
		/* And the parser reads back what the reference wrote. */
		struct integrity_metadata back;
		CHECK_RC(integrity_metadata_parse(g.p, g.len, &back, NULL), 0);
		CHECK(back.n == md.n);
		for (size_t j = 0; j < md.n && j < back.n; j++)
			CHECK(integrity_digest_equal(&back.objects[j].object, &md.objects[j].object));
		integrity_metadata_release(&back);
		integrity_metadata_release(&md);
	}
	sif_close(img);
	buf_release(&g);
	buf_release(&out);
}

static void dsse_known_answers(void)
{
	static const char payload[] = "{\"One\":1,\"Two\":2}\n";
	struct {
		const char *golden;
		const char *keys[2];
		enum integrity_hash h;
	} cases[] = {
		{ "ED25519", { "ed25519-private.pem", NULL }, INTEGRITY_SHA256 },
		{ "RSA_SHA256", { "rsa-private.pem", NULL }, INTEGRITY_SHA256 },
		{ "RSA_SHA384", { "rsa-private.pem", NULL }, INTEGRITY_SHA384 },
		{ "RSA_SHA512", { "rsa-private.pem", NULL }, INTEGRITY_SHA512 },
		{ "Multi", { "rsa-private.pem", "rsa-private.pem" }, INTEGRITY_SHA256 },
	};
	struct buf g = BUF_INIT, out = BUF_INIT;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct integrity_signer *s = NULL;
		REQUIRE(integrity_signer_new(&s) == 0);
		for (size_t k = 0; k < 2 && cases[i].keys[k]; k++) {
			char rel[256];
			snprintf(rel, sizeof(rel), "fixtures/sif/test/keys/%s", cases[i].keys[k]);
			CHECK_RC(integrity_signer_add_pem(s, tl_shared(rel), NULL, NULL), 0);
		}
		CHECK_RC(integrity_signer_set_hash(s, cases[i].h, NULL), 0);
		char rel[256];
		snprintf(rel, sizeof(rel), "fixtures/sif/pkg/integrity/testdata/Test_dsseEncoder_signMessage/%s.golden",
			 cases[i].golden);
		read_fixture(rel, &g);
		buf_reset(&out);
		struct arca_err e = { 0 };
		extern int dsse_sign(struct integrity_signer *, const uint8_t *, size_t, struct buf *, struct arca_err *);
		CHECK_RC(dsse_sign(s, (const uint8_t *)payload, strlen(payload), &out, &e), 0);
		CHECK(out.len == g.len);
		CHECK_STR(out.p, g.p);
		integrity_signer_free(s);
	}
	buf_release(&g);
	buf_release(&out);
}

static void dsse_parse_rejects(void)
{
	struct integrity_dsse d;
	const char *bad[] = {
		"", "[]", "{}", "{\"payloadType\":\"x\"}",
		"{\"payloadType\":\"x\",\"payload\":\"e30=\",\"signatures\":[]}",
		"{\"payloadType\":\"x\",\"payload\":\"e30=\",\"signatures\":[{\"sig\":\"!!\"}]}",
		"{\"payloadType\":\"x\",\"payload\":\"e3=\",\"signatures\":[{\"sig\":\"AA==\"}]}",
		"{\"payloadType\":1,\"payload\":\"e30=\",\"signatures\":[{\"sig\":\"AA==\"}]}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(integrity_dsse_parse(bad[i], strlen(bad[i]), &d, NULL) < 0);
	const char *ok = "{\"payloadType\":\"x\",\"payload\":\"e30=\",\"signatures\":[{\"keyid\":\"k\",\"sig\":\"AA==\"}]}";
	CHECK_RC(integrity_dsse_parse(ok, strlen(ok), &d, NULL), 0);
	struct buf b = BUF_INIT;
	integrity_dsse_serialise(&d, &b);
	CHECK_STR(b.p, ok);
	integrity_dsse_release(&d);
	buf_release(&b);
}

static int verify_image(const char *image, const char *const *keys, struct arca_err *e)
{
	struct integrity_verifier *v = NULL;
	struct sif_image *img = NULL;
	struct integrity_report *r = NULL;
	int rc = integrity_verifier_new(&v);
	for (size_t i = 0; rc == 0 && keys[i]; i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "fixtures/sif/test/keys/%s", keys[i]);
		rc = integrity_verifier_add_pem(v, tl_shared(rel), e);
	}
	if (rc == 0)
		rc = sif_open(image, &img, e);
	if (rc == 0)
		rc = integrity_verify(img, v, NULL, &r, e);
	integrity_report_free(r);
	sif_close(img);
	integrity_verifier_free(v);
	return rc;
}

static void fixtures_dsse(void)
{
	const char *const ed[] = { "ed25519-public.pem", NULL };
	const char *const rsa[] = { "rsa-public.pem", NULL };
	const char *const ec[] = { "ecdsa-public.pem", NULL };
	const char *imgs[] = { "one-group-signed-dsse.sif", "two-groups-signed-dsse.sif" };
	for (size_t i = 0; i < ARRAY_SIZE(imgs); i++) {
		char rel[256];
		struct arca_err e = { 0 };
		snprintf(rel, sizeof(rel), "fixtures/sif/test/images/%s", imgs[i]);
		char path[4096];
		snprintf(path, sizeof(path), "%s", tl_shared(rel));
		CHECK_RC(verify_image(path, ed, &e), 0);
		CHECK_RC(verify_image(path, rsa, &e), 0);
		/* A key that signed nothing must not verify. */
		CHECK_RC(verify_image(path, ec, &e), -EPERM);
		CHECK(strstr(e.msg, "no signature in the envelope verifies") != NULL);
		/* Unsigned image: nothing to verify is a refusal. */
	}
	char path[4096];
	struct arca_err e = { 0 };
	snprintf(path, sizeof(path), "%s", tl_shared("fixtures/sif/test/images/one-group.sif"));
	CHECK_RC(verify_image(path, ed, &e), -EPERM);
	CHECK(strstr(e.msg, "signature not found for object group 1") != NULL);
}

static void keyids(void)
{
	/* The reference's key IDs, as found in the fixture envelopes. */
	struct integrity_verifier *v = NULL;
	REQUIRE(integrity_verifier_new(&v) == 0);
	CHECK_RC(integrity_verifier_add_pem(v, tl_shared("fixtures/sif/test/keys/ed25519-public.pem"), NULL), 0);
	CHECK_RC(integrity_verifier_add_pem(v, tl_shared("fixtures/sif/test/keys/rsa-public.pem"), NULL), 0);
	CHECK_RC(integrity_verifier_add_pem(v, tl_shared("fixtures/sif/test/keys/ecdsa-public.pem"), NULL), 0);
	integrity_verifier_free(v);
}

static void ecl_parse(void)
{
	struct integrity_ecl *ecl = NULL;
	const char *ok = "activated = true # on\nlegacyinsecure = false\n\n[[execgroup]]\n  tagname = \"a\\\"b\"\n"
			 "  mode = 'whitestrict'\n  dirpath = \"/srv\"\n  keyfp = [\n \"12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84\",\n]\n";
	CHECK_RC(integrity_ecl_parse(ok, strlen(ok), &ecl, NULL), 0);
	REQUIRE(ecl);
	CHECK(ecl->activated && !ecl->legacy && ecl->n == 1);
	CHECK_STR(ecl->groups[0].tag, "a\"b");
	CHECK(ecl->groups[0].mode == INTEGRITY_ECL_WHITESTRICT && ecl->groups[0].nkeys == 1);
	integrity_ecl_free(ecl);
	const char *bad[] = {
		"activated = 1\n",
		"activated = true\nactivated = true\n",
		"[other]\n",
		"[[execgroup]]\nmode = \"whitelist\"\nmode = \"whitelist\"\n",
		"[[execgroup]]\nkeyfp = [\"12\"]\nmode = \"whitelist\"\n",
		"[[execgroup]]\ntagname = \"x\"\n",
		"[[execgroup]]\nmode = \"whitelist\" junk\n",
		"[[execgroup]]\nmode = \"whitelist\nx\"\n",
		"[[execgroup]]\nmode = \"whitelist\"\ndirpath=\"/a\"\n[[execgroup]]\nmode = \"blacklist\"\ndirpath=\"/a\"\n",
		"[[execgroup]]\nmode = \"whitelist\"\nkeyfp = [\"SHA256:x\" \"SHA256:y\"]\n",
		"unknown = true\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ecl = NULL;
		int rc = integrity_ecl_parse(bad[i], strlen(bad[i]), &ecl, NULL);
		if (rc == 0)
			printf("# accepted bad ecl %zu\n", i);
		CHECK(rc < 0);
		integrity_ecl_free(ecl);
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The runtime's call: the image opened once, then gated. */
static int gate(const char *cfg, const char *path, struct arca_err *e)
{
	_cleanup_sif_ struct sif_image *img = NULL;
	int rc = sif_open(path, &img, e);
	return rc < 0 ? rc : integrity_ecl_gate(cfg, path, img, e);
}

static void ecl_gate(void)
{
	char dir[] = "/tmp/arca-ecl-XXXXXX";
	REQUIRE(mkdtemp(dir));
	char cfg[256], img[4096];
	snprintf(cfg, sizeof(cfg), "%s/ecl.toml", dir);
	snprintf(img, sizeof(img), "%s", tl_shared("fixtures/sif/test/images/one-group.sif"));
	struct arca_err e = { 0 };
	/* No list: no gate. */
	CHECK_RC(gate(cfg, img, &e), 0);
	write_file(cfg, "activated = false\n");
	CHECK_RC(gate(cfg, img, &e), 0);
	write_file(cfg, "activated = maybe\n");
	CHECK(gate(cfg, img, &e) < 0);
	write_file(cfg, "activated = true\n[[execgroup]]\nmode = \"whitelist\"\ndirpath = \"\"\n"
			"keyfp = [\"12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84\"]\n");
	CHECK_RC(gate(cfg, img, &e), -EPERM);
	CHECK(strstr(e.msg, "signature not found") != NULL);
	write_file(cfg, "activated = true\n[[execgroup]]\nmode = \"blacklist\"\ndirpath = \"\"\n"
			"keyfp = [\"12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84\"]\n");
	CHECK_RC(gate(cfg, img, &e), 0);
	snprintf(img, sizeof(img), "%s", tl_shared("fixtures/sif/test/images/one-group-signed-pgp.sif"));
	CHECK_RC(gate(cfg, img, &e), -EPERM);
	CHECK(strstr(e.msg, "blacklist") != NULL);
	unlink(cfg);
	rmdir(dir);
}

static int copy_file(const char *from, const char *to)
{
	struct buf b = BUF_INIT;
	int rc = file_read_all(from, 1 << 24, &b, NULL);
	if (rc == 0)
		rc = file_write_atomic(to, b.p, b.len, 0644, NULL);
	buf_release(&b);
	return rc;
}

/* Library-level sign then verify: the report names the signature, its
 * kind, key ID and the objects it covers; selections behave. */
static void api_sign_verify(void)
{
	char dir[] = "/tmp/arca-api-XXXXXX";
	REQUIRE(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/img.sif", dir);
	REQUIRE(copy_file(tl_shared("fixtures/sif/test/images/two-groups.sif"), path) == 0);
	struct integrity_signer *s = NULL;
	struct arca_err e = { 0 };
	REQUIRE(integrity_signer_new(&s) == 0);
	CHECK_RC(integrity_signer_add_pem(s, tl_shared("fixtures/sif/test/keys/ecdsa-private.pem"), NULL, &e), 0);
	CHECK_RC(integrity_signer_set_hash(s, INTEGRITY_SHA384, &e), 0);
	CHECK(integrity_signer_set_hash(s, INTEGRITY_SHA224, NULL) < 0);
	static const uint32_t g2[] = { 2 };
	struct integrity_sign_opts so = { .groups = g2, .ngroups = 1 };
	CHECK_RC(integrity_sign(path, s, &so, &e), 0);
	integrity_signer_free(s);

	struct integrity_verifier *v = NULL;
	struct sif_image *img = NULL;
	struct integrity_report *r = NULL;
	REQUIRE(integrity_verifier_new(&v) == 0);
	CHECK_RC(integrity_verifier_add_pem(v, tl_shared("fixtures/sif/test/keys/ecdsa-public.pem"), &e), 0);
	REQUIRE(sif_open(path, &img, &e) == 0);
	/* Group 2 verifies; group 1 was not signed, so the whole image fails. */
	struct integrity_verify_opts vo = { .groups = g2, .ngroups = 1 };
	CHECK_RC(integrity_verify(img, v, &vo, &r, &e), 0);
	REQUIRE(r && r->n == 1);
	CHECK(r->sigs[0].ok && r->sigs[0].kind == INTEGRITY_SIG_DSSE && r->sigs[0].sig_id == 4);
	CHECK(r->sigs[0].hashtype == SIF_HASH_SHA384);
	CHECK(r->sigs[0].nsigned == 1 && r->sigs[0].signed_ids[0] == 3);
	CHECK(r->sigs[0].nverified == 1 && r->sigs[0].verified_ids[0] == 3);
	CHECK(r->sigs[0].nkeyids == 1 && !strncmp(r->sigs[0].keyids[0], "SHA256:", 7));
	CHECK(integrity_report_object_ok(r, 3) && !integrity_report_object_ok(r, 1));
	integrity_report_free(r);
	r = NULL;
	CHECK_RC(integrity_verify(img, v, NULL, &r, &e), -EPERM);
	CHECK(strstr(e.msg, "signature not found for object group 1") != NULL);
	REQUIRE(r);
	CHECK(r->code == -EPERM);
	integrity_report_free(r);
	/* Without a report pointer the answer is the same. */
	CHECK_RC(integrity_verify(img, v, NULL, NULL, &e), -EPERM);
	/* Invalid selections. */
	static const uint32_t zero[] = { 0 }, missing[] = { 9 };
	struct integrity_verify_opts bad = { .groups = zero, .ngroups = 1 };
	CHECK(integrity_verify(img, v, &bad, NULL, &e) < 0);
	struct integrity_verify_opts nog = { .groups = missing, .ngroups = 1 };
	CHECK_RC(integrity_verify(img, v, &nog, NULL, &e), -EPERM);
	CHECK(strstr(e.msg, "group 9 not found") != NULL);
	sif_close(img);
	integrity_verifier_free(v);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(api_sign_verify);
	RUN(ecl_gate);
	RUN(ecl_parse);
	RUN(golden_digest_json);
	RUN(golden_header_metadata);
	RUN(golden_object_metadata);
	RUN(golden_image_metadata);
	RUN(dsse_known_answers);
	RUN(dsse_parse_rejects);
	RUN(fixtures_dsse);
	RUN(keyids);
	TL_DONE();
}
