/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The local check: this host's TPM quoted with a fresh nonce, the quote
 * verified, the host's event log and IMA list replayed against it and all
 * of it compared with a reference state. `arca attest check` prints it;
 * the launch policy's attested mode decides on it.
 */
#include "internal.h"

#include <openssl/rand.h>

/* A present but unreadable file is an error; an absent one is a host
 * without it, unless the caller named it. */
static int evidence_read(const char *path, bool required, size_t max, struct buf *b, struct arca_err *e)
{
	int rc = file_read_all(path, max, b, e);
	if (rc == -ENOENT && !required) {
		err_clear(e);
		return 0;
	}
	return rc < 0 ? rc : 1;
}

int attest_evlog_load(const char *path, bool required, struct attest_evlog **out, struct arca_err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	*out = NULL;
	int rc = evidence_read(path, required, ATTEST_EVLOG_MAX_BYTES, &b, e);
	if (rc <= 0)
		return rc;
	rc = attest_evlog_parse((const uint8_t *)b.p, b.len, out, e);
	return rc < 0 ? err_wrap(e, rc, "'%s'", path) : 0;
}

int attest_ima_load(const char *path, bool required, struct attest_ima **out, struct arca_err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	*out = NULL;
	int rc = evidence_read(path, required, ATTEST_IMA_MAX_BYTES, &b, e);
	if (rc <= 0)
		return rc;
	/* ASCII lists start with the PCR number in decimal and a space; a
	 * binary list starts with a little-endian u32 PCR. */
	size_t i = 0;
	while (i < b.len && i < 3 && b.p[i] >= '0' && b.p[i] <= '9')
		i++;
	bool ascii = i > 0 && i < b.len && b.p[i] == ' ';
	rc = ascii ? attest_ima_parse_ascii(b.p, b.len, out, e) : attest_ima_parse((const uint8_t *)b.p, b.len, out, e);
	return rc < 0 ? err_wrap(e, rc, "'%s'", path) : 0;
}

int attest_refstate_load(const char *path, struct val **out, struct arca_err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = file_read_all(path, ATTEST_REFSTATE_MAX_BYTES, &b, e);
	if (rc < 0)
		return rc;
	struct json_limits lim = json_limits_default;
	lim.max_depth = 32;
	rc = val_from_json(b.p, b.len, &lim, out, e);
	return rc < 0 ? err_wrap(e, rc, "'%s'", path) : 0;
}

int attest_default_ak_path(struct buf *path)
{
	const char *dir = getenv("ARCA_ATTEST_DIR"), *home = getenv("HOME");
	if (dir && *dir)
		buf_addf(path, "%s/ak.key", dir);
	else if (home && *home)
		buf_addf(path, "%s/.config/arca/attest/ak.key", home);
	else
		return -ENOENT;
	return buf_error(path);
}

int attest_check_selection(const struct val *refstate, struct attest_pcrs *sel, struct arca_err *e)
{
	int rc = attest_pcrsel_parse("sha256:0-10", sel, e);
	if (rc < 0)
		return rc;
	struct attest_pcrs rp;
	struct arca_err ignored = { 0 };
	const struct val *rv = refstate ? val_object_get_cstr(refstate, "pcrs") : NULL;
	/* a malformed "pcrs" section fails the comparison later, by name */
	if (rv && attest_pcrs_from_val(rv, &rp, &ignored) == 0) {
		for (size_t k = 0; k < rp.nbanks; k++) {
			struct attest_bank *b = attest_pcrs_bank(sel, rp.bank[k].alg, true);
			if (b)
				b->mask |= rp.bank[k].mask;
		}
	}
	return 0;
}

/* Quote with the AK in @ak_path, or with a throw-away AK (enough for a
 * check made here, where nobody needs to know the key beforehand). */
static int local_quote(struct attest_tpm *t, const char *ak_path, const struct attest_pcrs *sel,
		       const uint8_t *nonce, size_t nl, struct attest_quote *q, struct attest_pub **ak,
		       struct arca_err *e)
{
	_cleanup_buf_ struct buf blob = BUF_INIT;
	_cleanup_buf_ struct buf pub = BUF_INIT;
	int rc;
	if (ak_path)
		rc = file_read_all(ak_path, ATTEST_AK_FILE_MAX, &blob, e);
	else if ((rc = attest_tpm_ak_create(t, false, &blob, &pub, e)) < 0)
		rc = err_wrap(e, rc, "AK");
	if (rc < 0)
		return rc;
	/* the key file begins with its TPM2B_PUBLIC */
	size_t n = blob.len >= 2 ? (size_t)((uint8_t)blob.p[0] << 8 | (uint8_t)blob.p[1]) + 2 : 0;
	if (n > blob.len)
		return err_set(e, -EBADMSG, "AK key file is truncated");
	if ((rc = attest_pub_decode((const uint8_t *)blob.p, n, ak, e)) < 0)
		return err_wrap(e, rc, "AK key file");
	if ((rc = attest_tpm_quote(t, (const uint8_t *)blob.p, blob.len, sel, nonce, nl, q, e)) < 0)
		return err_wrap(e, rc, "quote");
	return 0;
}

/* Without a quote, the report says so for everything that needed one and
 * still compares what can be compared without it. */
static int report_unquoted(const struct attest_local *o, const char *why, struct val **out, struct arca_err *e)
{
	struct attest_checks cs;
	int rc = attest_checks_init(&cs);
	if (rc < 0)
		return rc;
	rc = attest_checks_add(&cs, "quote", ATTEST_UNAVAILABLE, why);
	if (rc == 0 && o->log)
		rc = attest_checks_add(&cs, "eventlog_replay", ATTEST_UNAVAILABLE, "no verified quote");
	if (rc == 0 && o->ima)
		rc = attest_checks_add(&cs, "ima_replay", ATTEST_UNAVAILABLE, "no verified quote");
	if (rc == 0 && o->refstate)
		rc = attest_refstate_check(o->refstate, NULL, NULL, NULL, &cs, e);
	struct val *r = rc < 0 ? NULL : val_object_new(3);
	if (!r || obj_bool(r, "verified", false) < 0 || obj_str(r, "reason", cs.first_reason) < 0 ||
	    val_object_put_cstr(r, "checks", val_ref(cs.list)) < 0) {
		val_unref(r);
		attest_checks_release(&cs);
		return rc < 0 ? rc : err_set(e, -ENOMEM, "out of memory");
	}
	rc = err_set(e, -EPERM, "%s", cs.first_reason);
	attest_checks_release(&cs);
	*out = r;
	return rc;
}

int attest_check_local(const struct attest_local *o, struct val **out, struct arca_err *e)
{
	*out = NULL;
	struct attest_pcrs sel;
	int rc = o->sel ? 0 : attest_check_selection(o->refstate, &sel, e);
	if (rc < 0)
		return rc;
	_cleanup_(attest_tpm_closep) struct attest_tpm *t = NULL;
	struct arca_err te = { 0 };
	if (attest_tpm_open(o->tcti, &t, &te) < 0)
		return report_unquoted(o, err_msg(&te), out, e);
	uint8_t nonce[32];
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return err_set(e, -EIO, "no randomness for the nonce");
	struct attest_quote q;
	attest_quote_init(&q);
	_cleanup_(attest_pub_freep) struct attest_pub *ak = NULL;
	rc = local_quote(t, o->ak_path, o->sel ? o->sel : &sel, nonce, sizeof(nonce), &q, &ak, e);
	if (rc == 0) {
		struct attest_verify_input in = { .quote = &q,
						  .ak = ak,
						  .opts = { .nonce = nonce, .nonce_len = sizeof(nonce) },
						  .log = o->log,
						  .ima = o->ima,
						  .refstate = o->refstate };
		rc = attest_verify_report(&in, out, e);
	}
	attest_quote_release(&q);
	return rc;
}

const char *attest_report_status(const struct val *report)
{
	const struct val *v = val_object_get_cstr(report, "verified");
	if (v && v->kind == VAL_BOOL && v->b)
		return "passed";
	const struct val *cs = val_object_get_cstr(report, "checks");
	bool unavailable = false;
	for (size_t i = 0; cs && cs->kind == VAL_ARRAY && i < cs->arr.n; i++) {
		const char *s = val_str(val_object_get_cstr(cs->arr.items[i], "status"));
		if (s && !strcmp(s, "failed"))
			return "failed";
		unavailable |= s && !strcmp(s, "unavailable");
	}
	return unavailable ? "unavailable" : "failed";
}
