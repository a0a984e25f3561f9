/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/attest against a real (software) TPM: run under swtpm.sh, which sets
 * ARCA_TPM_TCTI. Synthetic event logs and IMA lists are extended into the
 * swtpm's PCRs, then quoted, so replay is checked against a real quote.
 */
#include "attest.h"
#include "gen.h"
#include "soft.h"
#include "testlib.h"

static struct attest_tpm *tpm;
static struct buf ak_blob = BUF_INIT, ak_pub = BUF_INIT, ak2_blob = BUF_INIT, ak2_pub = BUF_INIT;
static struct buf evlog = BUF_INIT, ima_bin = BUF_INIT;

static bool msg_has(const struct arca_err *e, const char *s)
{
	if (!strstr(e->msg, s)) {
		printf("# message \"%s\" lacks \"%s\"\n", e->msg, s);
		return false;
	}
	return true;
}

static void test_open(void)
{
	struct arca_err e = { 0 };
	int rc = attest_tpm_open(NULL, &tpm, &e);
	if (rc < 0)
		printf("# %s\n", e.msg);
	REQUIRE(rc == 0);
	struct attest_tpm *t = NULL;
	CHECK_RC(attest_tpm_open("device:/nonexistent/tpm", &t, &e), -ENODEV);
}

static void test_ek(void)
{
	struct arca_err e = { 0 };
	for (int ecc = 0; ecc < 2; ecc++) {
		struct buf pub = BUF_INIT;
		REQUIRE(attest_tpm_ek_public(tpm, ecc, &pub, &e) == 0);
		struct attest_pub *ek = NULL;
		REQUIRE(attest_pub_decode((const uint8_t *)pub.p, pub.len, &ek, &e) == 0);
		CHECK(attest_pub_type(ek) == (ecc ? ATTEST_KEY_ECC : ATTEST_KEY_RSA));
		CHECK((attest_pub_attrs(ek) & (ATTEST_OBJ_RESTRICTED | ATTEST_OBJ_DECRYPT)) ==
		      (ATTEST_OBJ_RESTRICTED | ATTEST_OBJ_DECRYPT));
		/* an EK is not an AK */
		CHECK_RC(attest_pub_check_ak(ek, &e), -EPERM);
		attest_pub_free(ek);
		/* deterministic: the same key every time */
		struct buf again = BUF_INIT;
		REQUIRE(attest_tpm_ek_public(tpm, ecc, &again, &e) == 0);
		CHECK(again.len == pub.len && !memcmp(again.p, pub.p, pub.len));
		buf_release(&again);
		buf_release(&pub);
	}
	struct buf cert = BUF_INIT;
	CHECK_RC(attest_tpm_ek_cert(tpm, false, &cert, &e), -ENOENT);
	buf_release(&cert);
}

static void test_ak(void)
{
	struct arca_err e = { 0 };
	REQUIRE(attest_tpm_ak_create(tpm, false, &ak_blob, &ak_pub, &e) == 0);
	REQUIRE(attest_tpm_ak_create(tpm, true, &ak2_blob, &ak2_pub, &e) == 0);
	struct attest_pub *ak = NULL;
	REQUIRE(attest_pub_decode((const uint8_t *)ak_pub.p, ak_pub.len, &ak, &e) == 0);
	CHECK_RC(attest_pub_check_ak(ak, &e), 0);
	attest_pub_free(ak);
	REQUIRE(attest_pub_decode((const uint8_t *)ak2_pub.p, ak2_pub.len, &ak, &e) == 0);
	CHECK(attest_pub_type(ak) == ATTEST_KEY_ECC);
	CHECK_RC(attest_pub_check_ak(ak, &e), 0);
	attest_pub_free(ak);
}

static int activate(bool ecc_ek, const struct buf *ek_pub, const struct buf *name_of, const struct buf *blob,
		    struct buf *got, struct arca_err *e)
{
	struct attest_pub *ek = NULL, *ak = NULL;
	int rc = attest_pub_decode((const uint8_t *)ek_pub->p, ek_pub->len, &ek, e);
	if (rc == 0)
		rc = attest_pub_decode((const uint8_t *)name_of->p, name_of->len, &ak, e);
	struct buf id = BUF_INIT, sec = BUF_INIT;
	static const uint8_t secret[32] = "a verifier's one-time secret...";
	size_t nl;
	if (rc == 0) {
		const uint8_t *name = attest_pub_name(ak, &nl);
		rc = attest_make_credential(ek, name, nl, secret, sizeof(secret), &id, &sec, e);
	}
	if (rc == 0)
		rc = attest_tpm_activate(tpm, ecc_ek, (const uint8_t *)blob->p, blob->len, (const uint8_t *)id.p, id.len,
					 (const uint8_t *)sec.p, sec.len, got, e);
	if (rc == 0 && (got->len != sizeof(secret) || memcmp(got->p, secret, sizeof(secret))))
		rc = -EBADMSG;
	attest_pub_free(ek);
	attest_pub_free(ak);
	buf_release(&id);
	buf_release(&sec);
	return rc;
}

static void test_credential(void)
{
	struct arca_err e = { 0 };
	struct buf ek = BUF_INIT, ekc = BUF_INIT, got = BUF_INIT;
	REQUIRE(attest_tpm_ek_public(tpm, false, &ek, &e) == 0);
	REQUIRE(attest_tpm_ek_public(tpm, true, &ekc, &e) == 0);
	int rc = activate(false, &ek, &ak_pub, &ak_blob, &got, &e);
	if (rc < 0)
		printf("# %s\n", e.msg);
	CHECK(rc == 0);
	buf_reset(&got);
	rc = activate(true, &ekc, &ak2_pub, &ak2_blob, &got, &e);
	if (rc < 0)
		printf("# %s\n", e.msg);
	CHECK(rc == 0);

	/* AK not bound: the credential names AK 2, the TPM is asked with AK 1 */
	buf_reset(&got);
	CHECK_RC(activate(false, &ek, &ak2_pub, &ak_blob, &got, &e), -EPERM);
	CHECK(msg_has(&e, "AK not bound to this EK"));
	/* an "EK" that is not this TPM's: the TPM cannot recover the seed */
	struct soft_ak fake;
	soft_ak_new(&fake, false, 0x000300b2u);
	/* dress the soft key as an EK: AES-128-CFB symmetric */
	struct buf fek = BUF_INIT;
	{
		struct attest_pub *k = NULL;
		REQUIRE(attest_pub_decode((const uint8_t *)ek.p, ek.len, &k, &e) == 0);
		attest_pub_free(k);
		/* same template, other modulus: splice the soft modulus in */
		buf_add(&fek, ek.p, ek.len - 256);
		buf_add(&fek, fake.pub.p + fake.pub.len - 256, 256);
	}
	buf_reset(&got);
	CHECK_RC(activate(false, &fek, &ak_pub, &ak_blob, &got, &e), -EPERM);
	buf_release(&fek);
	soft_ak_free(&fake);
	buf_release(&ek);
	buf_release(&ekc);
	buf_release(&got);
}

/* Extends every measured event of @log into the TPM. */
static int extend_log(const struct buf *log, struct arca_err *e)
{
	struct attest_evlog *l = NULL;
	int rc = attest_evlog_parse((const uint8_t *)log->p, log->len, &l, e);
	for (size_t i = 0; rc == 0 && i < attest_evlog_count(l); i++) {
		const struct attest_event *ev = attest_evlog_event(l, i);
		if (ev->type == ATTEST_EV_NO_ACTION)
			continue;
		struct attest_pcrs d;
		memset(&d, 0, sizeof(d));
		for (size_t k = 0; k < ev->ndigests; k++) {
			struct attest_bank *b = attest_pcrs_bank(&d, ev->digest[k].alg, true);
			b->mask = 1u << ev->pcr;
			memcpy(b->pcr[ev->pcr], ev->digest[k].d, attest_alg_size(b->alg));
		}
		rc = attest_tpm_pcr_extend(tpm, ev->pcr, &d, e);
	}
	attest_evlog_free(l);
	return rc;
}

static int quote(const struct buf *blob, const char *sel, const uint8_t *nonce, struct attest_quote *q,
		 struct arca_err *e)
{
	struct attest_pcrs s;
	attest_quote_init(q);
	int rc = attest_pcrsel_parse(sel, &s, e);
	if (rc == 0)
		rc = attest_tpm_quote(tpm, (const uint8_t *)blob->p, blob->len, &s, nonce, 16, q, e);
	return rc;
}

static int verify(const struct attest_quote *q, const struct buf *pub, const uint8_t *nonce,
		  const struct attest_tpms *prev, struct attest_tpms *out, struct arca_err *e)
{
	struct attest_pub *ak = NULL;
	int rc = attest_pub_decode((const uint8_t *)pub->p, pub->len, &ak, e);
	struct attest_verify_opts o = { .nonce = nonce, .nonce_len = 16, .previous = prev };
	if (rc == 0)
		rc = attest_quote_verify(q, ak, &o, out, e);
	attest_pub_free(ak);
	return rc;
}

static void test_eventlog_quote(void)
{
	struct arca_err e = { 0 };
	struct gen_evlog_opts o = { .secureboot = true, .cmdline = "root=/dev/vda ro", .boot_apps = 3 };
	gen_evlog(&evlog, &o);
	REQUIRE(extend_log(&evlog, &e) == 0);
	const uint8_t nonce[16] = "event-log-nonce";
	struct attest_quote q;
	REQUIRE(quote(&ak_blob, "sha1:0-9+sha256:0-9", nonce, &q, &e) == 0);
	struct attest_tpms t;
	CHECK_RC(verify(&q, &ak_pub, nonce, NULL, &t, &e), 0);
	CHECK(t.nsel == 2);
	/* ECC AK too */
	struct attest_quote q2;
	REQUIRE(quote(&ak2_blob, "sha256:0-9", nonce, &q2, &e) == 0);
	CHECK_RC(verify(&q2, &ak2_pub, nonce, NULL, NULL, &e), 0);
	attest_quote_release(&q2);

	struct attest_evlog *l = NULL;
	struct attest_pcrs rep;
	REQUIRE(attest_evlog_parse((const uint8_t *)evlog.p, evlog.len, &l, &e) == 0);
	REQUIRE(attest_evlog_replay(l, &rep, &e) == 0);
	CHECK_RC(attest_pcrs_compare(&rep, &q.pcrs, 0x3ff, "eventlog", &e), 0);
	attest_evlog_free(l);

	/* a changed log entry (one boot application's digest) */
	struct buf bad = BUF_INIT;
	struct gen_evlog_opts o2 = o;
	o2.app_seed = 1;
	gen_evlog(&bad, &o2);
	REQUIRE(attest_evlog_parse((const uint8_t *)bad.p, bad.len, &l, &e) == 0);
	REQUIRE(attest_evlog_replay(l, &rep, &e) == 0);
	CHECK_RC(attest_pcrs_compare(&rep, &q.pcrs, 0x3ff, "eventlog", &e), -EPERM);
	CHECK(msg_has(&e, "eventlog: sha1 PCR 4 is "));
	attest_evlog_free(l);
	buf_release(&bad);

	/* a log with one boot application fewer / more than was measured */
	for (unsigned apps = 2; apps <= 4; apps += 2) {
		struct gen_evlog_opts o3 = o;
		o3.boot_apps = apps;
		gen_evlog(&bad, &o3);
		REQUIRE(attest_evlog_parse((const uint8_t *)bad.p, bad.len, &l, &e) == 0);
		REQUIRE(attest_evlog_replay(l, &rep, &e) == 0);
		CHECK_RC(attest_pcrs_compare(&rep, &q.pcrs, 0x3ff, "eventlog", &e), -EPERM);
		CHECK(msg_has(&e, "PCR 4 is"));
		attest_evlog_free(l);
		buf_release(&bad);
	}
	attest_quote_release(&q);
}

static void test_quote_negative(void)
{
	struct arca_err e = { 0 };
	const uint8_t n1[16] = "first nonce....", n2[16] = "second nonce...";
	struct attest_quote q1, q2;
	REQUIRE(quote(&ak_blob, "sha256:0-7", n1, &q1, &e) == 0);
	usleep(20000);
	REQUIRE(quote(&ak_blob, "sha256:0-7", n2, &q2, &e) == 0);
	struct attest_tpms t1, t2;
	REQUIRE(verify(&q1, &ak_pub, n1, NULL, &t1, &e) == 0);
	REQUIRE(verify(&q2, &ak_pub, n2, &t1, &t2, &e) == 0);
	/* wrong nonce */
	CHECK_RC(verify(&q1, &ak_pub, n2, NULL, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "nonce:"));
	/* replayed quote: the older one after the newer, and the same one twice */
	CHECK_RC(verify(&q1, &ak_pub, n1, &t2, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "is not after the previous quote"));
	CHECK_RC(verify(&q2, &ak_pub, n2, &t2, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "replayed quote (same nonce"));
	/* wrong AK */
	CHECK_RC(verify(&q1, &ak2_pub, n1, NULL, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "signature:"));
	/* changed PCR */
	attest_pcrs_bank(&q1.pcrs, ATTEST_ALG_SHA256, false)->pcr[5][3] ^= 0x80;
	CHECK_RC(verify(&q1, &ak_pub, n1, NULL, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "pcr_digest: the PCR values do not match"));
	attest_pcrs_bank(&q1.pcrs, ATTEST_ALG_SHA256, false)->pcr[5][3] ^= 0x80;
	/* truncated structures */
	q1.attest.len--;
	CHECK_RC(verify(&q1, &ak_pub, n1, NULL, NULL, &e), -EBADMSG);
	CHECK(msg_has(&e, "TPMS_ATTEST: malformed pcrDigest"));
	q1.attest.len++;
	q1.signature.len -= 10;
	CHECK_RC(verify(&q1, &ak_pub, n1, NULL, NULL, &e), -EBADMSG);
	CHECK(msg_has(&e, "TPMT_SIGNATURE: malformed RSA signature"));
	q1.signature.len += 10;
	CHECK_RC(verify(&q1, &ak_pub, n1, NULL, NULL, &e), 0);
	attest_quote_release(&q1);
	attest_quote_release(&q2);
}

static void test_ima_quote(void)
{
	struct arca_err e = { 0 };
	uint8_t p1[20], p256[32];
	struct buf ascii = BUF_INIT;
	gen_ima_list(300, &ima_bin, &ascii, p1, p256);
	for (size_t i = 0; i < 300; i++) {
		struct gen_ima_entry en;
		struct buf scratch = BUF_INIT;
		struct attest_pcrs d;
		memset(&d, 0, sizeof(d));
		struct attest_bank *b1 = attest_pcrs_bank(&d, ATTEST_ALG_SHA1, true);
		struct attest_bank *b2 = attest_pcrs_bank(&d, ATTEST_ALG_SHA256, true);
		b1->mask = b2->mask = 1u << 10;
		gen_ima_standard(i, &en);
		gen_ima_append(&scratch, NULL, &en, b1->pcr[10], b2->pcr[10]);
		buf_release(&scratch);
		REQUIRE(attest_tpm_pcr_extend(tpm, 10, &d, &e) == 0);
	}
	const uint8_t nonce[16] = "ima nonce......";
	struct attest_quote q;
	REQUIRE(quote(&ak_blob, "sha1:10+sha256:10", nonce, &q, &e) == 0);
	REQUIRE(verify(&q, &ak_pub, nonce, NULL, NULL, &e) == 0);
	CHECK(!memcmp(attest_pcrs_find(&q.pcrs, ATTEST_ALG_SHA256)->pcr[10], p256, 32));
	struct attest_ima *l = NULL;
	REQUIRE(attest_ima_parse((const uint8_t *)ima_bin.p, ima_bin.len, &l, &e) == 0);
	CHECK_RC(attest_ima_verify(l, &q.pcrs, &e), 0);
	attest_ima_free(l);
	REQUIRE(attest_ima_parse_ascii(ascii.p, ascii.len, &l, &e) == 0);
	CHECK_RC(attest_ima_verify(l, &q.pcrs, &e), 0);
	attest_ima_free(l);
	/* longer than the PCR */
	struct buf more = BUF_INIT;
	uint8_t x1[20], x256[32];
	gen_ima_list(301, &more, NULL, x1, x256);
	REQUIRE(attest_ima_parse((const uint8_t *)more.p, more.len, &l, &e) == 0);
	CHECK_RC(attest_ima_verify(l, &q.pcrs, &e), -EPERM);
	CHECK(msg_has(&e, "entries 301..301 (first '/usr/bin/prog300') are not in it"));
	attest_ima_free(l);
	buf_release(&more);
	/* shorter */
	gen_ima_list(299, &more, NULL, x1, x256);
	REQUIRE(attest_ima_parse((const uint8_t *)more.p, more.len, &l, &e) == 0);
	CHECK_RC(attest_ima_verify(l, &q.pcrs, &e), -EPERM);
	CHECK(msg_has(&e, "replay of 299 entries does not match the quote"));
	attest_ima_free(l);
	buf_release(&more);
	attest_quote_release(&q);
	buf_release(&ascii);
}

static void test_refstate(void)
{
	struct arca_err e = { 0 };
	const uint8_t nonce[16] = "refstate nonce.";
	struct attest_quote q;
	REQUIRE(quote(&ak_blob, "sha256:0-10", nonce, &q, &e) == 0);
	struct attest_evlog *l = NULL;
	struct attest_ima *im = NULL;
	REQUIRE(attest_evlog_parse((const uint8_t *)evlog.p, evlog.len, &l, &e) == 0);
	REQUIRE(attest_ima_parse((const uint8_t *)ima_bin.p, ima_bin.len, &im, &e) == 0);
	struct val *ref = NULL;
	REQUIRE(attest_refstate_create(&q.pcrs, l, im, &ref, &e) == 0);
	struct attest_checks c;
	REQUIRE(attest_checks_init(&c) == 0);
	CHECK_RC(attest_refstate_check(ref, &q.pcrs, l, im, &c, &e), 0);
	CHECK(!c.failed && !c.unavailable);
	attest_checks_release(&c);
	/* no evidence: unavailable, never passed */
	REQUIRE(attest_checks_init(&c) == 0);
	CHECK_RC(attest_refstate_check(ref, NULL, NULL, NULL, &c, &e), 0);
	CHECK(!c.failed && c.unavailable && c.list->arr.n == 3);
	for (size_t i = 0; i < c.list->arr.n; i++)
		CHECK_STR(val_str(val_object_get_cstr(c.list->arr.items[i], "status")), "unavailable");
	attest_checks_release(&c);

	/* a host whose evidence differs, named entry by entry */
	struct buf bin = BUF_INIT, other = BUF_INIT;
	uint8_t x1[20], x256[32];
	gen_ima_list(5, &bin, NULL, x1, x256);
	struct gen_ima_entry en;
	gen_ima_standard(2, &en);
	en.fdigest[0] ^= 1;
	gen_ima_append(&bin, NULL, &en, x1, x256);
	gen_ima_standard(0, &en);
	snprintf(en.path, sizeof(en.path), "/tmp/evil");
	gen_ima_append(&bin, NULL, &en, x1, x256);
	struct attest_ima *im2 = NULL;
	REQUIRE(attest_ima_parse((const uint8_t *)bin.p, bin.len, &im2, &e) == 0);
	struct gen_evlog_opts o = { .secureboot = false, .cmdline = "root=/dev/vda init=/bin/sh", .boot_apps = 3,
				    .dbx_seed = 9 };
	gen_evlog(&other, &o);
	struct attest_evlog *l2 = NULL;
	REQUIRE(attest_evlog_parse((const uint8_t *)other.p, other.len, &l2, &e) == 0);
	REQUIRE(attest_checks_init(&c) == 0);
	CHECK_RC(attest_refstate_check(ref, &q.pcrs, l2, im2, &c, &e), 0);
	CHECK(c.failed);
	struct buf j = BUF_INIT;
	val_to_json(c.list, &j, 0);
	CHECK(strstr(j.p, "entry 7 '/tmp/evil': not in the allow-list") != NULL);
	CHECK(strstr(j.p, "entry 6 '/usr/bin/prog2': digest sha256:") != NULL);
	CHECK(strstr(j.p, "secureboot: disabled, expected enabled") != NULL);
	CHECK(strstr(j.p, "kernel_cmdline: 'root=/dev/vda init=/bin/sh' does not match 'root=/dev/vda ro'") != NULL);
	CHECK(strstr(j.p, "dbx: sha256:") != NULL);
	if (!c.failed || !strstr(j.p, "/tmp/evil"))
		printf("# %s\n", j.p);
	buf_release(&j);
	attest_checks_release(&c);
	attest_evlog_free(l2);
	attest_ima_free(im2);
	buf_release(&bin);
	buf_release(&other);
	val_unref(ref);
	attest_evlog_free(l);
	attest_ima_free(im);
	attest_quote_release(&q);
}

static void test_status(void)
{
	struct attest_host h = { .eventlog = "/nonexistent/bios", .ima = "/nonexistent/ima",
				 .efivars = "/nonexistent/efivars", .lockdown = "/nonexistent/lockdown" };
	struct val *s = NULL;
	struct arca_err e = { 0 };
	REQUIRE(attest_status(&h, &s, &e) == 0);
	CHECK_STR(val_str(val_object_get_cstr(val_object_get_cstr(s, "tpm"), "status")), "available");
	CHECK_STR(val_str(val_object_get_cstr(val_object_get_cstr(s, "ima"), "status")), "unavailable");
	CHECK_STR(val_str(val_object_get_cstr(val_object_get_cstr(s, "secureboot"), "status")), "unavailable");
	val_unref(s);
	h.tcti = "device:/nonexistent/tpmrm0";
	REQUIRE(attest_status(&h, &s, &e) == 0);
	CHECK_STR(val_str(val_object_get_cstr(val_object_get_cstr(s, "tpm"), "status")), "unavailable");
	val_unref(s);
}

int main(void)
{
	RUN(test_open);
	if (!tpm) {
		printf("Bail out! no TPM at ARCA_TPM_TCTI\n");
		return 1;
	}
	RUN(test_ek);
	RUN(test_ak);
	RUN(test_credential);
	RUN(test_eventlog_quote);
	RUN(test_quote_negative);
	RUN(test_ima_quote);
	RUN(test_refstate);
	/* swtpm serves one connection at a time: status opens its own */
	attest_tpm_close(tpm);
	RUN(test_status);
	buf_release(&ak_blob);
	buf_release(&ak_pub);
	buf_release(&ak2_blob);
	buf_release(&ak2_pub);
	buf_release(&evlog);
	buf_release(&ima_bin);
	TL_DONE();
}
