/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The whole verification of one host's evidence as a report (JSON shape in
 * attest.h): the quote first; the logs are replayed against the quoted PCRs
 * only when the quote verified, and their contents reach the report only
 * when their replay matched — no unverified byte reaches a policy.
 */
#include "internal.h"

static struct val *quote_val(const struct attest_tpms *t)
{
	struct val *o = val_object_new(8);
	if (!o || obj_str(o, "type", "quote") < 0 || obj_hex(o, "nonce", t->extra, t->extra_len) < 0 ||
	    obj_hex(o, "signer", t->signer, t->signer_len) < 0 || obj_int(o, "clock", (int64_t)(t->clock & INT64_MAX)) < 0 ||
	    obj_int(o, "reset_count", t->reset_count) < 0 || obj_int(o, "restart_count", t->restart_count) < 0 ||
	    obj_bool(o, "safe", t->safe) < 0 ||
	    obj_int(o, "firmware_version", (int64_t)(t->firmware_version & INT64_MAX)) < 0) {
		val_unref(o);
		return NULL;
	}
	return o;
}

/* The PCRs the IMA list extends (PCR 10 unless the list says otherwise). */
static uint32_t ima_mask(const struct attest_ima *ima)
{
	uint32_t m = 1u << 10;
	for (size_t i = 0; ima && i < attest_ima_count(ima); i++)
		m |= 1u << attest_ima_entry(ima, i)->pcr;
	return m;
}

int attest_verify_report(const struct attest_verify_input *in, struct val **out, struct arca_err *e)
{
	_cleanup_val_ struct val *r = val_object_new(8);
	struct attest_checks c;
	if (!r || attest_checks_init(&c) < 0)
		return -ENOMEM;
	struct attest_tpms t;
	struct arca_err why = { 0 };
	int rc = attest_quote_verify(in->quote, in->ak, &in->opts, &t, &why);
	if (rc == -ENOMEM)
		goto out;
	bool quote_ok = rc == 0;
	if ((rc = attest_checks_add(&c, "quote", quote_ok ? ATTEST_PASSED : ATTEST_FAILED, quote_ok ? NULL : why.msg)) < 0)
		goto out;
	if (quote_ok) {
		size_t nl;
		const uint8_t *name = attest_pub_name(in->ak, &nl);
		struct val *ak = val_object_new(2);
		if ((rc = val_object_put_cstr(r, "quote", quote_val(&t))) < 0 ||
		    (rc = val_object_put_cstr(r, "pcrs", attest_pcrs_to_val(&in->quote->pcrs))) < 0 ||
		    (rc = val_object_put_cstr(r, "ak", ak)) < 0 || (rc = obj_hex(ak, "name", name, nl)) < 0 ||
		    (rc = obj_str(ak, "type", attest_pub_type(in->ak) == ATTEST_KEY_ECC ? "ecc" : "rsa")) < 0)
			goto out;
	}
	const struct attest_pcrs *pcrs = quote_ok ? &in->quote->pcrs : NULL;
	const char *no_quote = "the quote did not verify";
	if (in->log) {
		enum attest_status st = ATTEST_UNAVAILABLE;
		const char *reason = no_quote;
		struct attest_pcrs rep;
		err_clear(&why);
		if (pcrs) {
			uint32_t mask = 0xffffffu & ~(in->ima ? ima_mask(in->ima) : 1u << 10);
			if (attest_evlog_replay(in->log, &rep, &why) < 0 ||
			    attest_pcrs_compare(&rep, pcrs, mask, "eventlog", &why) < 0) {
				st = ATTEST_FAILED;
				reason = why.msg;
			} else {
				st = ATTEST_PASSED;
				reason = NULL;
			}
		}
		if ((rc = attest_checks_add(&c, "eventlog_replay", st, reason)) < 0)
			goto out;
		if (st == ATTEST_PASSED) {
			struct val *info = NULL;
			if ((rc = attest_evlog_info(in->log, &info, e)) < 0 ||
			    (rc = val_object_put_cstr(r, "eventlog", info)) < 0)
				goto out;
		}
	}
	if (in->ima) {
		enum attest_status st = ATTEST_UNAVAILABLE;
		const char *reason = no_quote;
		err_clear(&why);
		if (pcrs) {
			bool ok = attest_ima_verify(in->ima, pcrs, &why) == 0;
			st = ok ? ATTEST_PASSED : ATTEST_FAILED;
			reason = ok ? NULL : why.msg;
		}
		if ((rc = attest_checks_add(&c, "ima_replay", st, reason)) < 0)
			goto out;
		if (st == ATTEST_PASSED) {
			struct val *io = val_object_new(2);
			if ((rc = val_object_put_cstr(r, "ima", io)) < 0 ||
			    (rc = obj_int(io, "entries", (int64_t)attest_ima_count(in->ima))) < 0)
				goto out;
		}
	}
	if (in->refstate) {
		/* evidence that did not verify counts as absent */
		bool log_ok = true, ima_ok = true;
		for (size_t i = 0; i < c.list->arr.n; i++) {
			const struct val *ck = c.list->arr.items[i];
			const char *n = val_str(val_object_get_cstr(ck, "name"));
			bool passed = !strcmp(val_str(val_object_get_cstr(ck, "status")), "passed");
			if (!strcmp(n, "eventlog_replay"))
				log_ok = passed;
			if (!strcmp(n, "ima_replay"))
				ima_ok = passed;
		}
		if ((rc = attest_refstate_check(in->refstate, pcrs, log_ok ? in->log : NULL, ima_ok ? in->ima : NULL, &c,
						e)) < 0)
			goto out;
	}
	bool verified = !c.failed && !c.unavailable;
	if ((rc = obj_bool(r, "verified", verified)) < 0 ||
	    (!verified && (rc = obj_str(r, "reason", c.first_reason)) < 0) ||
	    (rc = val_object_put_cstr(r, "checks", val_ref(c.list))) < 0)
		goto out;
	if (!verified)
		err_set(e, -EPERM, "%s", c.first_reason);
	*out = TAKE_PTR(r);
	rc = verified ? 0 : -EPERM;
out:
	attest_checks_release(&c);
	return rc;
}
