/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local Secure Boot and lockdown hints: the EFI variables as the kernel
 * exposes them and the lockdown LSM's mode. Only hints — a compromised
 * kernel can lie about both; what a verifier trusts is the quoted event log.
 */
#include "internal.h"

#define EFI_GLOBAL_GUID "8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define EFIVAR_MAX 64u

/* efivarfs: a u32 attribute word, then the data. */
static int efivar_u8(const char *dir, const char *name, uint8_t *v, struct arca_err *e)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s-" EFI_GLOBAL_GUID, dir, name);
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = file_read_all(path, EFIVAR_MAX, &b, NULL);
	if (rc < 0)
		return err_setsys(e, rc == -ENOENT ? -ENOENT : rc, "efivars: '%s'", path);
	if (b.len != 5)
		return err_set(e, -EBADMSG, "efivars: '%s' holds %zu bytes, expected 5", path, b.len);
	*v = (uint8_t)b.p[4];
	return 0;
}

int attest_efi_secureboot(const char *efivars_dir, bool *enabled, bool *setup_mode, struct arca_err *e)
{
	const char *dir = efivars_dir ? efivars_dir : "/sys/firmware/efi/efivars";
	uint8_t sb, sm = 0;
	int rc = efivar_u8(dir, "SecureBoot", &sb, e);
	if (rc < 0)
		return rc;
	if (efivar_u8(dir, "SetupMode", &sm, NULL) < 0)
		sm = 0;
	if (sb > 1 || sm > 1)
		return err_set(e, -EBADMSG, "efivars: SecureBoot=%u SetupMode=%u", sb, sm);
	*enabled = sb == 1;
	*setup_mode = sm == 1;
	return sb;
}

int attest_lockdown(const char *path, char *mode, size_t cap, struct arca_err *e)
{
	path = path ? path : "/sys/kernel/security/lockdown";
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = file_read_all(path, 256, &b, NULL);
	if (rc < 0)
		return err_setsys(e, rc, "lockdown: '%s'", path);
	/* "none [integrity] confidentiality": the bracketed word is active */
	const char *l = strchr(b.p, '['), *r = l ? strchr(l, ']') : NULL;
	if (!l || !r || (size_t)(r - l - 1) >= cap)
		return err_set(e, -EBADMSG, "lockdown: '%s': no active mode", path);
	memcpy(mode, l + 1, (size_t)(r - l - 1));
	mode[r - l - 1] = '\0';
	return 0;
}
