/* SPDX-License-Identifier: Apache-2.0 */
/* What this host offers for attestation. Missing pieces are "unavailable". */
#include "internal.h"

const char *attest_host_eventlog(const struct attest_host *h)
{
	return h && h->eventlog ? h->eventlog : "/sys/kernel/security/tpm0/binary_bios_measurements";
}

const char *attest_host_ima(const struct attest_host *h)
{
	return h && h->ima ? h->ima : "/sys/kernel/security/ima/binary_runtime_measurements";
}

static struct val *section(struct val *root, const char *name, bool available, const char *reason)
{
	struct val *o = val_object_new(4);
	if (!o || val_object_put_cstr(root, name, o) < 0)
		return NULL;
	if (obj_str(o, "status", available ? "available" : "unavailable") < 0 ||
	    (reason && obj_str(o, "reason", reason) < 0))
		return NULL;
	return o;
}

int attest_status(const struct attest_host *h, struct val **out, struct arca_err *e)
{
	(void)e;
	_cleanup_val_ struct val *root = val_object_new(5);
	if (!root)
		return -ENOMEM;
	struct arca_err why = { 0 };
	struct val *s;

	/* TPM: opening is not enough for a device TCTI; a PCR read proves it answers. */
	const char *tcti = attest_tcti_default(h ? h->tcti : NULL);
	struct attest_tpm *t = NULL;
	int rc = attest_tpm_open(tcti, &t, &why);
	if (rc == 0) {
		struct attest_pcrs sel, got;
		if (attest_pcrsel_parse("sha256:0", &sel, &why) == 0)
			rc = attest_tpm_pcr_read(t, &sel, &got, &why);
		attest_tpm_close(t);
	}
	if (!(s = section(root, "tpm", rc == 0, rc == 0 ? NULL : why.msg)) || obj_str(s, "tcti", tcti) < 0)
		return -ENOMEM;

	const char *path = attest_host_eventlog(h);
	_cleanup_buf_ struct buf b = BUF_INIT;
	err_clear(&why);
	rc = file_read_all(path, ATTEST_EVLOG_MAX_BYTES, &b, &why);
	struct attest_evlog *l = NULL;
	if (rc == 0 && (rc = attest_evlog_parse((const uint8_t *)b.p, b.len, &l, &why)) == 0) {
		if (!(s = section(root, "eventlog", true, NULL)) || obj_int(s, "events", (int64_t)attest_evlog_count(l)) < 0) {
			attest_evlog_free(l);
			return -ENOMEM;
		}
		attest_evlog_free(l);
	} else if (!(s = section(root, "eventlog", false, why.msg))) {
		return -ENOMEM;
	}
	if (obj_str(s, "path", path) < 0)
		return -ENOMEM;

	path = attest_host_ima(h);
	buf_reset(&b);
	err_clear(&why);
	rc = file_read_all(path, ATTEST_IMA_MAX_BYTES, &b, &why);
	struct attest_ima *im = NULL;
	if (rc == 0 && (rc = attest_ima_parse((const uint8_t *)b.p, b.len, &im, &why)) == 0) {
		if (!(s = section(root, "ima", true, NULL)) || obj_int(s, "entries", (int64_t)attest_ima_count(im)) < 0) {
			attest_ima_free(im);
			return -ENOMEM;
		}
		attest_ima_free(im);
	} else if (!(s = section(root, "ima", false, why.msg))) {
		return -ENOMEM;
	}
	if (obj_str(s, "path", path) < 0)
		return -ENOMEM;

	bool en = false, setup = false;
	err_clear(&why);
	rc = attest_efi_secureboot(h ? h->efivars : NULL, &en, &setup, &why);
	if (!(s = section(root, "secureboot", rc >= 0, rc >= 0 ? NULL : why.msg)))
		return -ENOMEM;
	if (rc >= 0 && (obj_bool(s, "enabled", en) < 0 || obj_bool(s, "setup_mode", setup) < 0))
		return -ENOMEM;

	char mode[32];
	err_clear(&why);
	rc = attest_lockdown(h ? h->lockdown : NULL, mode, sizeof(mode), &why);
	if (!(s = section(root, "lockdown", rc == 0, rc == 0 ? NULL : why.msg)))
		return -ENOMEM;
	if (rc == 0 && obj_str(s, "mode", mode) < 0)
		return -ENOMEM;
	*out = TAKE_PTR(root);
	return 0;
}
