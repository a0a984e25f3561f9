/* SPDX-License-Identifier: Apache-2.0 */
/* lib/attest parsers and the software-side verifier, without a TPM. */
#include "attest.h"
#include "gen.h"
#include "soft.h"
#include "testlib.h"

static bool msg_has(const struct arca_err *e, const char *s)
{
	if (!strstr(e->msg, s)) {
		printf("# message \"%s\" lacks \"%s\"\n", e->msg, s);
		return false;
	}
	return true;
}

static void ext(const char *alg, uint8_t *pcr, size_t n, const uint8_t *d)
{
	uint8_t t[128];
	memcpy(t, pcr, n);
	memcpy(t + n, d, n);
	gen_sha(alg, t, 2 * n, pcr);
}

/* -------------------------------------------------------------- selection */

static void test_pcrsel(void)
{
	struct attest_pcrs s;
	struct arca_err e = { 0 };
	CHECK_RC(attest_pcrsel_parse("sha256:0-7,10+sha1:10", &s, &e), 0);
	CHECK(s.nbanks == 2 && s.bank[0].alg == ATTEST_ALG_SHA256 && s.bank[0].mask == 0x4ff);
	CHECK(s.bank[1].alg == ATTEST_ALG_SHA1 && s.bank[1].mask == 0x400);
	struct buf b = BUF_INIT;
	attest_pcrsel_format(&s, &b);
	CHECK_STR(b.p, "sha256:0-7,10+sha1:10");
	buf_release(&b);
	CHECK_RC(attest_pcrsel_parse("sha256:all", &s, &e), 0);
	CHECK(s.bank[0].mask == 0xffffff);
	CHECK_RC(attest_pcrsel_parse("sha256:24", &s, &e), -EINVAL);
	CHECK_RC(attest_pcrsel_parse("md5:1", &s, &e), -EINVAL);
	CHECK(msg_has(&e, "unknown bank 'md5'"));
	CHECK_RC(attest_pcrsel_parse("sha256:3-1", &s, &e), -EINVAL);
	CHECK_RC(attest_pcrsel_parse("sha256:1+sha256:2", &s, &e), -EINVAL);
	CHECK_RC(attest_pcrsel_parse("sha256", &s, &e), -EINVAL);
	CHECK_RC(attest_pcrsel_parse("sha256:", &s, &e), -EINVAL);
}

/* -------------------------------------------------------------- event log */

static void test_evlog_replay(void)
{
	struct buf b = BUF_INIT;
	struct gen_evlog_opts o = { .secureboot = true, .cmdline = "root=/dev/sda1 ro quiet", .boot_apps = 2 };
	gen_evlog(&b, &o);
	struct attest_evlog *l = NULL;
	struct arca_err e = { 0 };
	REQUIRE(attest_evlog_parse((const uint8_t *)b.p, b.len, &l, &e) == 0);
	CHECK(attest_evlog_count(l) == 2 + 5 + 8 + 2 + 1);
	struct attest_pcrs p;
	CHECK_RC(attest_evlog_replay(l, &p, &e), 0);
	CHECK(p.nbanks == 2);
	const struct attest_bank *b256 = attest_pcrs_find(&p, ATTEST_ALG_SHA256);
	REQUIRE(b256);
	CHECK(b256->mask == 0xffffff);
	/* PCR 8 by hand: one EV_IPL event, digest = H(event data) */
	uint8_t want[32] = { 0 }, d[32];
	const char *ipl = "kernel_cmdline: root=/dev/sda1 ro quiet";
	gen_sha("sha256", ipl, strlen(ipl) + 1, d);
	ext("sha256", want, 32, d);
	CHECK(!memcmp(b256->pcr[8], want, 32));
	/* PCR 1: only the separator */
	memset(want, 0, 32);
	gen_sha("sha256", "\0\0\0\0", 4, d);
	ext("sha256", want, 32, d);
	CHECK(!memcmp(b256->pcr[1], want, 32));

	struct val *info = NULL;
	REQUIRE(attest_evlog_info(l, &info, &e) == 0);
	CHECK(val_object_get_cstr(info, "secureboot")->kind == VAL_BOOL && val_object_get_cstr(info, "secureboot")->b);
	CHECK_STR(val_str(val_object_get_cstr(info, "kernel_cmdline")), "root=/dev/sda1 ro quiet");
	const struct val *db = val_object_get_cstr(info, "db"), *dbx = val_object_get_cstr(info, "dbx");
	CHECK(db && db->arr.n == 1 && !strncmp(val_str(db->arr.items[0]), "x509:", 5));
	CHECK(dbx && dbx->arr.n == 3 && !strncmp(val_str(dbx->arr.items[0]), "sha256:00070e", 13));
	CHECK(val_object_get_cstr(info, "boot_components")->arr.n == 2);
	CHECK(val_object_get_cstr(info, "firmware")->arr.n == 2);
	val_unref(info);
	attest_evlog_free(l);
	buf_release(&b);
}

static void test_evlog_locality(void)
{
	struct buf b = BUF_INIT;
	struct gen_evlog_opts o = { .locality = 3 };
	gen_evlog(&b, &o);
	struct attest_evlog *l = NULL;
	struct arca_err e = { 0 };
	REQUIRE(attest_evlog_parse((const uint8_t *)b.p, b.len, &l, &e) == 0);
	struct attest_pcrs p;
	CHECK_RC(attest_evlog_replay(l, &p, &e), 0);
	/* PCR 0 starts at 00..03 and the StartupLocality event itself is
	 * EV_NO_ACTION, so it is not extended. */
	uint8_t want[32] = { 0 }, d[32];
	want[31] = 3;
	gen_sha("sha256", "F\0W\0 \0v\0001\0\0\0", 12, d);
	ext("sha256", want, 32, d);
	gen_sha("sha256", "firmware volume", 15, d);
	ext("sha256", want, 32, d);
	gen_sha("sha256", "\0\0\0\0", 4, d);
	ext("sha256", want, 32, d);
	CHECK(!memcmp(attest_pcrs_find(&p, ATTEST_ALG_SHA256)->pcr[0], want, 32));
	attest_evlog_free(l);
	buf_release(&b);
}

static void test_evlog_malformed(void)
{
	struct buf b = BUF_INIT;
	struct gen_evlog_opts o = { .secureboot = true, .cmdline = "x", .boot_apps = 1 };
	gen_evlog(&b, &o);
	struct attest_evlog *l = NULL;
	struct arca_err e = { 0 };
	/* Every truncation is refused, except those ending on an event boundary. */
	size_t accepted = 0;
	for (size_t n = 0; n < b.len; n++) {
		int rc = attest_evlog_parse((const uint8_t *)b.p, n, &l, &e);
		if (rc == 0) {
			accepted++;
			attest_evlog_free(l);
			l = NULL;
		} else {
			CHECK(rc == -EBADMSG);
		}
	}
	CHECK(accepted == 17);
	CHECK_RC(attest_evlog_parse((const uint8_t *)b.p, b.len - 1, &l, &e), -EBADMSG);
	CHECK(msg_has(&e, "runs past the end"));

	uint8_t *p = (uint8_t *)b.p;
	/* not a crypto-agile log */
	p[32] ^= 1;
	CHECK_RC(attest_evlog_parse(p, b.len, &l, &e), -EBADMSG);
	CHECK(msg_has(&e, "Spec ID Event03"));
	p[32] ^= 1;
	/* first event after the header: change its digest count */
	size_t first = 32 + 37; /* SHA1-format header event + Spec ID data */
	p[first + 8] = 3;
	CHECK_RC(attest_evlog_parse(p, b.len, &l, &e), -EBADMSG);
	CHECK(msg_has(&e, "has 3 digests, the header lists 2"));
	p[first + 8] = 2;
	/* an algorithm not in the header */
	p[first + 12] = 0x0c;
	CHECK_RC(attest_evlog_parse(p, b.len, &l, &e), -EBADMSG);
	CHECK(msg_has(&e, "not in the header"));
	p[first + 12] = 0x04;
	/* PCR out of range */
	p[first] = 24;
	CHECK_RC(attest_evlog_parse(p, b.len, &l, &e), -EBADMSG);
	CHECK(msg_has(&e, "PCR 24"));
	p[first] = 0;
	/* an event size over the limit */
	size_t szoff = first + 12 + 2 + 20 + 2 + 32;
	put_u32le(p + szoff, ATTEST_EVLOG_MAX_EVENT_SIZE + 1);
	CHECK_RC(attest_evlog_parse(p, b.len, &l, &e), -E2BIG);
	put_u32le(p + szoff, 12);
	CHECK_RC(attest_evlog_parse(p, b.len, &l, &e), 0);
	attest_evlog_free(l);
	buf_release(&b);
}

/* -------------------------------------------------------------------- IMA */

static struct attest_pcrs ima_quoted(const uint8_t p1[20], const uint8_t p256[32])
{
	struct attest_pcrs q;
	memset(&q, 0, sizeof(q));
	struct attest_bank *b = attest_pcrs_bank(&q, ATTEST_ALG_SHA1, true);
	b->mask = 1u << 10;
	memcpy(b->pcr[10], p1, 20);
	b = attest_pcrs_bank(&q, ATTEST_ALG_SHA256, true);
	b->mask = 1u << 10;
	memcpy(b->pcr[10], p256, 32);
	return q;
}

static void test_ima_replay(void)
{
	struct buf bin = BUF_INIT, ascii = BUF_INIT;
	uint8_t p1[20], p256[32];
	gen_ima_list(50, &bin, &ascii, p1, p256);
	struct attest_ima *l = NULL, *la = NULL;
	struct arca_err e = { 0 };
	REQUIRE(attest_ima_parse((const uint8_t *)bin.p, bin.len, &l, &e) == 0);
	REQUIRE(attest_ima_parse_ascii(ascii.p, ascii.len, &la, &e) == 0);
	CHECK(attest_ima_count(l) == 50 && attest_ima_count(la) == 50);
	const struct attest_ima_entry *en = attest_ima_entry(l, 3);
	CHECK_STR(en->template_name, "ima-sig");
	CHECK_STR(en->hash_alg, "sha256");
	CHECK(en->path_len == strlen("/usr/bin/prog3") &&
	      !memcmp(attest_ima_bytes(l) + en->path_off, "/usr/bin/prog3", en->path_len));
	CHECK(en->sig_len == 6);
	struct attest_pcrs q = ima_quoted(p1, p256);
	CHECK_RC(attest_ima_verify(l, &q, &e), 0);
	CHECK_RC(attest_ima_verify(la, &q, &e), 0);

	/* incremental: the first 20 entries (as read earlier), then the
	 * full list replayed from entry 20 on the kept state */
	struct attest_pcrs st = ima_quoted(p1, p256);
	for (size_t k = 0; k < st.nbanks; k++)
		memset(st.bank[k].pcr[10], 0, 32);
	struct buf b20 = BUF_INIT, a20 = BUF_INIT;
	uint8_t x1[20], x256[32];
	gen_ima_list(20, &b20, &a20, x1, x256);
	struct attest_ima *l20 = NULL;
	REQUIRE(attest_ima_parse((const uint8_t *)bin.p, b20.len, &l20, &e) == 0);
	CHECK_RC(attest_ima_replay(l20, 0, &st, &e), 0);
	CHECK(!memcmp(attest_pcrs_find(&st, ATTEST_ALG_SHA256)->pcr[10], x256, 32));
	CHECK_RC(attest_ima_replay(l, 20, &st, &e), 0);
	CHECK_RC(attest_pcrs_compare(&st, &q, 1u << 10, "ima", &e), 0);
	/* incremental by byte offset: the bytes appended since the first read
	 * parse on their own and replay onto the kept state */
	struct attest_ima *tail = NULL;
	struct attest_pcrs st2;
	memset(&st2, 0, sizeof(st2));
	attest_pcrs_bank(&st2, ATTEST_ALG_SHA256, true)->mask = 1u << 10;
	CHECK_RC(attest_ima_replay(l20, 0, &st2, &e), 0);
	REQUIRE(attest_ima_parse((const uint8_t *)bin.p + b20.len, bin.len - b20.len, &tail, &e) == 0);
	CHECK(attest_ima_count(tail) == 30);
	CHECK_RC(attest_ima_replay(tail, 0, &st2, &e), 0);
	CHECK(!memcmp(attest_pcrs_find(&st2, ATTEST_ALG_SHA256)->pcr[10], p256, 32));
	attest_ima_free(tail);
	attest_ima_free(l20);
	buf_release(&b20);
	buf_release(&a20);
	CHECK_RC(attest_ima_replay(l, 51, &st, &e), -EINVAL);

	/* the same list with one more entry: longer than the PCR */
	struct buf bin2 = BUF_INIT;
	buf_add(&bin2, bin.p, bin.len);
	struct gen_ima_entry extra;
	uint8_t e1[20], e256[32];
	gen_ima_standard(50, &extra);
	gen_ima_append(&bin2, NULL, &extra, e1, e256);
	struct attest_ima *l2 = NULL;
	REQUIRE(attest_ima_parse((const uint8_t *)bin2.p, bin2.len, &l2, &e) == 0);
	CHECK_RC(attest_ima_verify(l2, &q, &e), -EPERM);
	CHECK(msg_has(&e, "longer than the quoted PCR: entries 51..51 (first '/usr/bin/prog50')"));
	attest_ima_free(l2);

	/* shorter: the first 49 entries */
	size_t cut = bin.len;
	{
		struct buf one = BUF_INIT;
		gen_ima_standard(49, &extra);
		gen_ima_append(&one, NULL, &extra, e1, e256);
		cut -= one.len;
		buf_release(&one);
	}
	REQUIRE(attest_ima_parse((const uint8_t *)bin.p, cut, &l2, &e) == 0);
	CHECK_RC(attest_ima_verify(l2, &q, &e), -EPERM);
	CHECK(msg_has(&e, "log shorter than the PCR or an entry changed"));
	attest_ima_free(l2);

	/* a PCR the quote lacks */
	struct attest_pcrs q0;
	memset(&q0, 0, sizeof(q0));
	attest_pcrs_bank(&q0, ATTEST_ALG_SHA256, true)->mask = 1;
	CHECK_RC(attest_ima_verify(l, &q0, &e), -EPERM);
	CHECK(msg_has(&e, "PCR 10 is not in the quote"));

	buf_release(&bin2);
	attest_ima_free(l);
	attest_ima_free(la);
	buf_release(&bin);
	buf_release(&ascii);
}

static void test_ima_templates(void)
{
	/* legacy "ima" template, a violation, then ima-ng */
	struct buf bin = BUF_INIT, ascii = BUF_INIT;
	uint8_t p1[20] = { 0 }, p256[32] = { 0 }, e1[20], e256[32];
	struct gen_ima_entry en[3];
	gen_ima_standard(1, &en[0]);
	en[0].tmpl = "ima";
	gen_ima_standard(2, &en[1]);
	en[1].violation = true;
	gen_ima_standard(3, &en[2]);
	en[2].tmpl = "ima-ng";
	snprintf(en[2].path, sizeof(en[2].path), "/opt/with space/x");
	for (int i = 0; i < 3; i++) {
		gen_ima_append(&bin, &ascii, &en[i], e1, e256);
		ext("sha1", p1, 20, e1);
		ext("sha256", p256, 32, e256);
	}
	struct attest_ima *l = NULL;
	struct arca_err e = { 0 };
	REQUIRE(attest_ima_parse((const uint8_t *)bin.p, bin.len, &l, &e) == 0);
	CHECK(attest_ima_entry(l, 1)->violation);
	CHECK_STR(attest_ima_entry(l, 0)->hash_alg, "sha1");
	struct attest_pcrs q = ima_quoted(p1, p256);
	CHECK_RC(attest_ima_verify(l, &q, &e), 0);
	attest_ima_free(l);
	REQUIRE(attest_ima_parse_ascii(ascii.p, ascii.len, &l, &e) == 0);
	CHECK_RC(attest_ima_verify(l, &q, &e), 0);
	const struct attest_ima_entry *x = attest_ima_entry(l, 2);
	CHECK(x->path_len == strlen("/opt/with space/x"));
	attest_ima_free(l);

	/* a changed entry: its listed digest no longer matches */
	char *p = memmem(bin.p, bin.len, "/opt/with", 9);
	REQUIRE(p);
	p[1] = 'X';
	CHECK_RC(attest_ima_parse((const uint8_t *)bin.p, bin.len, &l, &e), -EBADMSG);
	CHECK(msg_has(&e, "entry 2 ('/Xpt/with space/x'): template digest does not match its data"));
	buf_release(&bin);
	buf_release(&ascii);
}

/* Long lists take the two-thread paths (parse check and replay). */
static void test_ima_long(void)
{
	struct buf bin = BUF_INIT;
	uint8_t p1[20], p256[32];
	gen_ima_list(1500, &bin, NULL, p1, p256);
	struct attest_ima *l = NULL;
	struct arca_err e = { 0 };
	REQUIRE(attest_ima_parse((const uint8_t *)bin.p, bin.len, &l, &e) == 0);
	struct attest_pcrs q = ima_quoted(p1, p256);
	CHECK_RC(attest_ima_verify(l, &q, &e), 0);
	q.bank[1].pcr[10][0] ^= 1;
	CHECK_RC(attest_ima_verify(l, &q, &e), -EPERM);
	attest_ima_free(l);
	char *p = memmem(bin.p, bin.len, "/usr/bin/prog1200", 17);
	REQUIRE(p);
	p[5] = 'X';
	CHECK_RC(attest_ima_parse((const uint8_t *)bin.p, bin.len, &l, &e), -EBADMSG);
	CHECK(msg_has(&e, "entry 1200 ('/usr/Xin/prog1200')"));
	buf_release(&bin);
}

static void test_ima_malformed(void)
{
	struct buf bin = BUF_INIT;
	uint8_t p1[20], p256[32];
	gen_ima_list(4, &bin, NULL, p1, p256);
	struct attest_ima *l = NULL;
	struct arca_err e = { 0 };
	size_t accepted = 0;
	for (size_t n = 0; n < bin.len; n++) {
		int rc = attest_ima_parse((const uint8_t *)bin.p, n, &l, &e);
		if (rc == 0) {
			accepted++;
			attest_ima_free(l);
		} else {
			CHECK(rc == -EBADMSG);
		}
	}
	CHECK(accepted == 4);
	uint8_t *p = (uint8_t *)bin.p;
	put_u32le(p + 24, 300); /* template name length */
	CHECK_RC(attest_ima_parse(p, bin.len, &l, &e), -EBADMSG);
	CHECK(msg_has(&e, "template name length 300"));
	put_u32le(p + 24, 6);
	put_u32le(p + 34, ATTEST_IMA_MAX_DATA + 1);
	CHECK_RC(attest_ima_parse(p, bin.len, &l, &e), -E2BIG);
	put_u32le(p + 34, 1);
	CHECK_RC(attest_ima_parse(p, bin.len, &l, &e), -EBADMSG);
	buf_release(&bin);
	static const char bad[] = "10 zz ima-ng sha256:00 /x\n";
	CHECK_RC(attest_ima_parse_ascii(bad, strlen(bad), &l, &e), -EBADMSG);
	CHECK(msg_has(&e, "line 1: template hash is not 40 hex digits"));
	static const char bad2[] = "10 0000000000000000000000000000000000000000 ima-foo x y\n";
	CHECK_RC(attest_ima_parse_ascii(bad2, strlen(bad2), &l, &e), -EBADMSG);
	CHECK(msg_has(&e, "unsupported template 'ima-foo'"));
}

/* ------------------------------------------------------------------ quotes */

static struct attest_pcrs some_pcrs(void)
{
	struct attest_pcrs p;
	memset(&p, 0, sizeof(p));
	struct attest_bank *b = attest_pcrs_bank(&p, ATTEST_ALG_SHA256, true);
	b->mask = 0x4ff;
	for (unsigned i = 0; i < 24; i++)
		memset(b->pcr[i], (int)i + 1, 32);
	return p;
}

static void quote_cases(bool ecc)
{
	struct soft_ak ak, other;
	soft_ak_new(&ak, ecc, SOFT_AK_ATTRS);
	soft_ak_new(&other, ecc, SOFT_AK_ATTRS);
	struct attest_pub *pub = NULL, *wrong = NULL;
	struct arca_err e = { 0 };
	REQUIRE(attest_pub_decode((const uint8_t *)ak.pub.p, ak.pub.len, &pub, &e) == 0);
	REQUIRE(attest_pub_decode((const uint8_t *)other.pub.p, other.pub.len, &wrong, &e) == 0);
	CHECK_RC(attest_pub_check_ak(pub, &e), 0);
	size_t nl;
	attest_pub_name(pub, &nl);
	CHECK(nl == 34);

	uint8_t nonce[16] = "0123456789abcdef", nonce2[16] = "fedcba9876543210";
	struct attest_pcrs pcrs = some_pcrs();
	struct soft_clock c1 = { 5000, 3, 1 };
	struct attest_quote q;
	soft_quote(&ak, &pcrs, nonce, 16, &c1, &q);
	struct attest_verify_opts o = { .nonce = nonce, .nonce_len = 16 };
	struct attest_tpms t;
	CHECK_RC(attest_quote_verify(&q, pub, &o, &t, &e), 0);
	CHECK(t.clock == 5000 && t.reset_count == 3 && t.nsel == 1 && t.sel[0].mask == 0x4ff);

	/* wrong nonce */
	o.nonce = nonce2;
	CHECK_RC(attest_quote_verify(&q, pub, &o, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "nonce: the quote's qualifying data is not the expected nonce"));
	o.nonce = nonce;
	/* wrong AK */
	CHECK_RC(attest_quote_verify(&q, wrong, &o, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "signature: quote is not signed by this AK"));
	/* a changed PCR value */
	struct attest_bank *b = attest_pcrs_bank(&q.pcrs, ATTEST_ALG_SHA256, false);
	b->pcr[7][0] ^= 1;
	CHECK_RC(attest_quote_verify(&q, pub, &o, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "pcr_digest: the PCR values do not match the quoted digest"));
	b->pcr[7][0] ^= 1;
	/* a PCR value claimed but not quoted */
	b->mask |= 1u << 12;
	CHECK_RC(attest_quote_verify(&q, pub, &o, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "sha256 PCR 12 is not covered by the quote"));
	b->mask &= ~(1u << 12);
	/* a quoted PCR without a value */
	b->mask &= ~(1u << 3);
	CHECK_RC(attest_quote_verify(&q, pub, &o, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "quoted sha256 PCR 3 has no value"));
	b->mask |= 1u << 3;
	/* a changed attest byte breaks the signature */
	q.attest.p[40] ^= 1;
	CHECK_RC(attest_quote_verify(&q, pub, &o, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "not signed by this AK"));
	q.attest.p[40] ^= 1;

	/* replay: the same quote again, then an older one */
	o.previous = &t;
	CHECK_RC(attest_quote_verify(&q, pub, &o, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "replayed quote (same nonce"));
	struct attest_quote q2;
	struct soft_clock c0 = { 4000, 3, 1 };
	soft_quote(&ak, &pcrs, nonce2, 16, &c0, &q2);
	o.nonce = nonce2;
	CHECK_RC(attest_quote_verify(&q2, pub, &o, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "clock: 4000 is not after the previous quote's 5000"));
	attest_quote_release(&q2);
	struct soft_clock cr = { 9000, 2, 1 };
	soft_quote(&ak, &pcrs, nonce2, 16, &cr, &q2);
	CHECK_RC(attest_quote_verify(&q2, pub, &o, NULL, &e), -EPERM);
	CHECK(msg_has(&e, "reset count went backwards (2 < 3)"));
	attest_quote_release(&q2);
	struct soft_clock cn = { 100, 4, 0 }; /* after a reboot the clock restarts */
	soft_quote(&ak, &pcrs, nonce2, 16, &cn, &q2);
	CHECK_RC(attest_quote_verify(&q2, pub, &o, NULL, &e), 0);
	attest_quote_release(&q2);

	/* JSON round trip */
	struct buf j = BUF_INIT;
	CHECK_RC(attest_quote_to_json(&q, &j), 0);
	struct attest_quote q3;
	attest_quote_init(&q3);
	CHECK_RC(attest_quote_from_json(j.p, j.len, &q3, &e), 0);
	o.previous = NULL;
	o.nonce = nonce;
	CHECK_RC(attest_quote_verify(&q3, pub, &o, NULL, &e), 0);
	/* tpm2-tools PCR file round trip */
	struct buf pf = BUF_INIT;
	CHECK_RC(attest_quote_pcrfile_write(&q, &t, &pf, &e), 0);
	CHECK(pf.len == 132 + 4 + 2 * 532);
	CHECK_RC(attest_quote_pcrfile_read((const uint8_t *)pf.p, pf.len, &q3, &e), 0);
	CHECK_RC(attest_quote_verify(&q3, pub, &o, NULL, &e), 0);
	CHECK_RC(attest_quote_pcrfile_read((const uint8_t *)pf.p, pf.len - 1, &q3, &e), -EBADMSG);
	buf_release(&pf);
	buf_release(&j);
	attest_quote_release(&q3);

	attest_quote_release(&q);
	attest_pub_free(pub);
	attest_pub_free(wrong);
	soft_ak_free(&ak);
	soft_ak_free(&other);
}

static void test_quote_rsa(void) { quote_cases(false); }
static void test_quote_ecc(void) { quote_cases(true); }

static void test_tpms_malformed(void)
{
	struct soft_ak ak;
	soft_ak_new(&ak, false, SOFT_AK_ATTRS);
	struct attest_pcrs pcrs = some_pcrs();
	struct attest_quote q;
	soft_quote(&ak, &pcrs, (const uint8_t *)"n", 1, NULL, &q);
	struct attest_tpms t;
	struct arca_err e = { 0 };
	const uint8_t *a = (const uint8_t *)q.attest.p;
	CHECK_RC(attest_tpms_decode(a, q.attest.len, &t, &e), 0);
	for (size_t n = 0; n < q.attest.len; n++)
		CHECK_RC(attest_tpms_decode(a, n, &t, &e), -EBADMSG);
	q.attest.p[0] = 0;
	CHECK_RC(attest_tpms_decode(a, q.attest.len, &t, &e), -EBADMSG);
	CHECK(msg_has(&e, "is not TPM_GENERATED_VALUE"));
	q.attest.p[0] = (char)0xff;
	q.attest.p[5] = 0x17;
	CHECK_RC(attest_tpms_decode(a, q.attest.len, &t, &e), -EBADMSG);
	CHECK(msg_has(&e, "type 0x8017 is not TPM_ST_ATTEST_QUOTE"));
	q.attest.p[5] = 0x18;
	buf_addch(&q.attest, 0);
	CHECK_RC(attest_tpms_decode((const uint8_t *)q.attest.p, q.attest.len, &t, &e), -EBADMSG);
	CHECK(msg_has(&e, "1 trailing bytes"));

	struct attest_sig s;
	const uint8_t *sp = (const uint8_t *)q.signature.p;
	CHECK_RC(attest_sig_decode(sp, q.signature.len, &s, &e), 0);
	for (size_t n = 0; n < q.signature.len; n++)
		CHECK(attest_sig_decode(sp, n, &s, &e) == -EBADMSG);
	struct attest_pub *k = NULL;
	const uint8_t *pp = (const uint8_t *)ak.pub.p;
	for (size_t n = 3; n < ak.pub.len; n++) {
		int rc = attest_pub_decode(pp, n, &k, &e);
		CHECK(rc == -EBADMSG);
		if (rc == 0)
			attest_pub_free(k);
	}
	attest_quote_release(&q);
	soft_ak_free(&ak);

	/* not a restricted signing key */
	soft_ak_new(&ak, false, 0x00040072u);
	REQUIRE(attest_pub_decode((const uint8_t *)ak.pub.p, ak.pub.len, &k, &e) == 0);
	CHECK_RC(attest_pub_check_ak(k, &e), -EPERM);
	CHECK(msg_has(&e, "attribute restricted is not set"));
	attest_pub_free(k);
	soft_ak_free(&ak);
}

static void put_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

static void test_host_hints(void)
{
	char dir[] = "/tmp/arca-attest-efi.XXXXXX";
	REQUIRE(mkdtemp(dir));
	char p[256], mode[32];
	bool en = true, setup = true;
	struct arca_err e = { 0 };
	CHECK_RC(attest_efi_secureboot(dir, &en, &setup, &e), -ENOENT);
	snprintf(p, sizeof(p), "%s/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c", dir);
	put_file(p, "\x06\0\0\0\x01", 5);
	snprintf(p, sizeof(p), "%s/SetupMode-8be4df61-93ca-11d2-aa0d-00e098032b8c", dir);
	put_file(p, "\x06\0\0\0\0", 5);
	CHECK_RC(attest_efi_secureboot(dir, &en, &setup, &e), 1);
	CHECK(en && !setup);
	snprintf(p, sizeof(p), "%s/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c", dir);
	put_file(p, "\x06\0\0\0\x01\x01", 6);
	CHECK_RC(attest_efi_secureboot(dir, &en, &setup, &e), -EBADMSG);
	snprintf(p, sizeof(p), "%s/lockdown", dir);
	put_file(p, "none [integrity] confidentiality\n", 33);
	CHECK_RC(attest_lockdown(p, mode, sizeof(mode), &e), 0);
	CHECK_STR(mode, "integrity");
	put_file(p, "none integrity\n", 15);
	CHECK_RC(attest_lockdown(p, mode, sizeof(mode), &e), -EBADMSG);
	/* status: every piece absent is "unavailable" */
	struct attest_host h = { .tcti = "device:/nonexistent/tpmrm0", .eventlog = "/nonexistent/log",
				 .ima = "/nonexistent/ima", .efivars = dir, .lockdown = p };
	struct val *st = NULL;
	REQUIRE(attest_status(&h, &st, &e) == 0);
	CHECK_STR(val_str(val_object_get_cstr(val_object_get_cstr(st, "tpm"), "status")), "unavailable");
	CHECK_STR(val_str(val_object_get_cstr(val_object_get_cstr(st, "eventlog"), "status")), "unavailable");
	CHECK_STR(val_str(val_object_get_cstr(val_object_get_cstr(st, "secureboot"), "status")), "unavailable");
	val_unref(st);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	RUN(test_pcrsel);
	RUN(test_evlog_replay);
	RUN(test_evlog_locality);
	RUN(test_evlog_malformed);
	RUN(test_ima_replay);
	RUN(test_ima_templates);
	RUN(test_ima_long);
	RUN(test_ima_malformed);
	RUN(test_quote_rsa);
	RUN(test_quote_ecc);
	RUN(test_tpms_malformed);
	RUN(test_host_hints);
	TL_DONE();
}
