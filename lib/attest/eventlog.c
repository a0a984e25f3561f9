/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TCG PC Client crypto-agile event log (TCG PC Client Platform Firmware
 * Profile, section 10): a SHA1-format first event carrying the Spec ID
 * header that names the banks and their digest sizes, then TCG_PCR_EVENT2
 * records. All fields little endian.
 */
#include "internal.h"

struct attest_evlog {
	uint8_t *bytes;
	size_t len;
	struct attest_event *ev;
	size_t nev;
	size_t nalgs;
	uint16_t alg[ATTEST_EVLOG_MAX_DIGESTS];
	uint16_t alg_size[ATTEST_EVLOG_MAX_DIGESTS];
	int locality; /* -1: no StartupLocality event */
};

static const char spec_id_sig[16] = "Spec ID Event03";
static const char startup_locality_sig[16] = "StartupLocality";

static const struct {
	uint32_t type;
	const char *name;
} event_names[] = {
	{ 0x00000000, "EV_PREBOOT_CERT" },
	{ 0x00000001, "EV_POST_CODE" },
	{ 0x00000002, "EV_UNUSED" },
	{ 0x00000003, "EV_NO_ACTION" },
	{ 0x00000004, "EV_SEPARATOR" },
	{ 0x00000005, "EV_ACTION" },
	{ 0x00000006, "EV_EVENT_TAG" },
	{ 0x00000007, "EV_S_CRTM_CONTENTS" },
	{ 0x00000008, "EV_S_CRTM_VERSION" },
	{ 0x00000009, "EV_CPU_MICROCODE" },
	{ 0x0000000a, "EV_PLATFORM_CONFIG_FLAGS" },
	{ 0x0000000b, "EV_TABLE_OF_DEVICES" },
	{ 0x0000000c, "EV_COMPACT_HASH" },
	{ 0x0000000d, "EV_IPL" },
	{ 0x0000000e, "EV_IPL_PARTITION_DATA" },
	{ 0x0000000f, "EV_NONHOST_CODE" },
	{ 0x00000010, "EV_NONHOST_CONFIG" },
	{ 0x00000011, "EV_NONHOST_INFO" },
	{ 0x00000012, "EV_OMIT_BOOT_DEVICE_EVENTS" },
	{ 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
	{ 0x80000002, "EV_EFI_VARIABLE_BOOT" },
	{ 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
	{ 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER" },
	{ 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
	{ 0x80000006, "EV_EFI_GPT_EVENT" },
	{ 0x80000007, "EV_EFI_ACTION" },
	{ 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
	{ 0x80000009, "EV_EFI_HANDOFF_TABLES" },
	{ 0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
	{ 0x8000000b, "EV_EFI_HANDOFF_TABLES2" },
	{ 0x8000000c, "EV_EFI_VARIABLE_BOOT2" },
	{ 0x80000010, "EV_EFI_HCRTM_EVENT" },
	{ 0x800000e0, "EV_EFI_VARIABLE_AUTHORITY" },
	{ 0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB" },
	{ 0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
};

const char *attest_event_type_name(uint32_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(event_names); i++)
		if (event_names[i].type == type)
			return event_names[i].name;
	return NULL;
}

void attest_evlog_free(struct attest_evlog *l)
{
	if (!l)
		return;
	free(l->bytes);
	free(l->ev);
	free(l);
}

size_t attest_evlog_count(const struct attest_evlog *l) { return l->nev; }

const struct attest_event *attest_evlog_event(const struct attest_evlog *l, size_t i)
{
	return i < l->nev ? &l->ev[i] : NULL;
}

size_t attest_evlog_algs(const struct attest_evlog *l, uint16_t *algs, size_t cap)
{
	for (size_t i = 0; i < l->nalgs && i < cap; i++)
		algs[i] = l->alg[i];
	return l->nalgs;
}

/* TCG_EfiSpecIDEvent inside the SHA1-format first event. */
static int parse_header(struct attest_evlog *l, struct rd *r, struct arca_err *e)
{
	uint32_t pcr, type, size;
	struct rd ev;
	if (rd_u32le(r, &pcr) < 0 || rd_u32le(r, &type) < 0 || rd_skip(r, 20) < 0 || rd_u32le(r, &size) < 0 ||
	    rd_sub(r, size, &ev) < 0)
		return err_set(e, -EBADMSG, "event log: truncated first event");
	if (type != ATTEST_EV_NO_ACTION || pcr != 0)
		return err_set(e, -EBADMSG, "event log: first event is not the Spec ID event (type 0x%x, PCR %u)",
			       type, pcr);
	const uint8_t *sig;
	uint32_t platform_class, nalgs;
	uint8_t minor, major, errata, uintn;
	if (rd_bytes(&ev, 16, &sig) < 0 || rd_u32le(&ev, &platform_class) < 0 || rd_u8(&ev, &minor) < 0 ||
	    rd_u8(&ev, &major) < 0 || rd_u8(&ev, &errata) < 0 || rd_u8(&ev, &uintn) < 0 || rd_u32le(&ev, &nalgs) < 0)
		return err_set(e, -EBADMSG, "event log: truncated Spec ID event");
	if (memcmp(sig, spec_id_sig, 16) != 0)
		return err_set(e, -EBADMSG, "event log: not a crypto-agile log (no \"Spec ID Event03\" signature)");
	if (major != 2)
		return err_set(e, -EBADMSG, "event log: unsupported spec version %u.%u", major, minor);
	if (nalgs == 0 || nalgs > ATTEST_EVLOG_MAX_DIGESTS)
		return err_set(e, nalgs ? -E2BIG : -EBADMSG, "event log: %u algorithms in the Spec ID event (1..%u)",
			       nalgs, ATTEST_EVLOG_MAX_DIGESTS);
	for (uint32_t i = 0; i < nalgs; i++) {
		uint16_t alg, sz;
		if (rd_u16le(&ev, &alg) < 0 || rd_u16le(&ev, &sz) < 0)
			return err_set(e, -EBADMSG, "event log: truncated digest sizes in the Spec ID event");
		if (sz == 0 || sz > ATTEST_DIGEST_MAX)
			return err_set(e, -EBADMSG, "event log: algorithm 0x%04x has digest size %u", alg, sz);
		size_t known = attest_alg_size(alg);
		if (known && known != sz)
			return err_set(e, -EBADMSG, "event log: %s digest size %u, expected %zu", attest_alg_name(alg),
				       sz, known);
		for (size_t j = 0; j < l->nalgs; j++)
			if (l->alg[j] == alg)
				return err_set(e, -EBADMSG, "event log: algorithm 0x%04x listed twice", alg);
		l->alg[l->nalgs] = alg;
		l->alg_size[l->nalgs] = sz;
		l->nalgs++;
	}
	uint8_t vendor;
	if (rd_u8(&ev, &vendor) < 0 || rd_skip(&ev, vendor) < 0)
		return err_set(e, -EBADMSG, "event log: truncated vendor info in the Spec ID event");
	return 0;
}

static int parse_event(struct attest_evlog *l, struct rd *r, size_t off, struct attest_event *out,
		       struct arca_err *e)
{
	uint32_t count, size;
	memset(out, 0, sizeof(*out));
	out->offset = off;
	if (rd_u32le(r, &out->pcr) < 0 || rd_u32le(r, &out->type) < 0 || rd_u32le(r, &count) < 0)
		return err_set(e, -EBADMSG, "event log: truncated event header at offset %zu", off);
	if (out->pcr >= ATTEST_PCR_COUNT)
		return err_set(e, -EBADMSG, "event log: event at offset %zu names PCR %u", off, out->pcr);
	if (count != l->nalgs)
		return err_set(e, -EBADMSG, "event log: event at offset %zu has %u digests, the header lists %zu",
			       off, count, l->nalgs);
	uint32_t seen = 0;
	for (uint32_t i = 0; i < count; i++) {
		uint16_t alg;
		if (rd_u16le(r, &alg) < 0)
			return err_set(e, -EBADMSG, "event log: truncated digest at offset %zu", off);
		size_t k = 0;
		while (k < l->nalgs && l->alg[k] != alg)
			k++;
		if (k == l->nalgs)
			return err_set(e, -EBADMSG, "event log: event at offset %zu uses algorithm 0x%04x not in the header",
				       off, alg);
		if (seen & (1u << k))
			return err_set(e, -EBADMSG, "event log: event at offset %zu has two 0x%04x digests", off, alg);
		seen |= 1u << k;
		const uint8_t *d;
		if (rd_bytes(r, l->alg_size[k], &d) < 0)
			return err_set(e, -EBADMSG, "event log: truncated digest at offset %zu", off);
		out->digest[out->ndigests].alg = alg;
		out->digest[out->ndigests].d = d;
		out->ndigests++;
	}
	if (rd_u32le(r, &size) < 0)
		return err_set(e, -EBADMSG, "event log: truncated event size at offset %zu", off);
	if (size > ATTEST_EVLOG_MAX_EVENT_SIZE)
		return err_set(e, -E2BIG, "event log: event at offset %zu has %u bytes of data (limit %u)", off, size,
			       ATTEST_EVLOG_MAX_EVENT_SIZE);
	if (rd_bytes(r, size, &out->data) < 0)
		return err_set(e, -EBADMSG, "event log: event at offset %zu: data runs past the end", off);
	out->len = size;
	return 0;
}

int attest_evlog_parse(const uint8_t *p, size_t n, struct attest_evlog **out, struct arca_err *e)
{
	if (n > ATTEST_EVLOG_MAX_BYTES)
		return err_set(e, -E2BIG, "event log: %zu bytes (limit %u)", n, ATTEST_EVLOG_MAX_BYTES);
	struct attest_evlog *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	int rc;
	l->locality = -1;
	l->bytes = malloc(n ? n : 1);
	if (!l->bytes) {
		rc = -ENOMEM;
		goto fail;
	}
	memcpy(l->bytes, p, n);
	l->len = n;
	struct rd r = rd_make(l->bytes, n);
	rc = parse_header(l, &r, e);
	if (rc < 0)
		goto fail;
	size_t cap = 0;
	while (r.left > 0) {
		if (l->nev >= ATTEST_EVLOG_MAX_EVENTS) {
			rc = err_set(e, -E2BIG, "event log: more than %u events", ATTEST_EVLOG_MAX_EVENTS);
			goto fail;
		}
		if (l->nev == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct attest_event *nv = reallocarray(l->ev, ncap, sizeof(*nv));
			if (!nv) {
				rc = -ENOMEM;
				goto fail;
			}
			l->ev = nv;
			cap = ncap;
		}
		struct attest_event *ev = &l->ev[l->nev];
		rc = parse_event(l, &r, n - r.left, ev, e);
		if (rc < 0)
			goto fail;
		if (ev->type == ATTEST_EV_NO_ACTION && ev->pcr == 0 && ev->len == 17 &&
		    !memcmp(ev->data, startup_locality_sig, 16)) {
			if (l->locality >= 0) {
				rc = err_set(e, -EBADMSG, "event log: second StartupLocality event at offset %zu",
					     ev->offset);
				goto fail;
			}
			l->locality = ev->data[16];
		}
		l->nev++;
	}
	*out = l;
	return 0;
fail:
	attest_evlog_free(l);
	return rc;
}

int attest_evlog_replay(const struct attest_evlog *l, struct attest_pcrs *out, struct arca_err *e)
{
	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < l->nalgs; k++) {
		if (!attest_alg_size(l->alg[k]))
			continue; /* a bank arca cannot hash (e.g. SM3): not replayed */
		struct attest_bank *b = attest_pcrs_bank(out, l->alg[k], true);
		if (!b)
			break;
		for (unsigned i = 0; i < ATTEST_PCR_COUNT; i++)
			attest_pcr_initial(b->alg, i, b->pcr[i]);
		/* PC Client PFP 10.4.5.3: the locality the TPM was started from
		 * is the last byte of PCR 0's initial value. */
		if (l->locality > 0)
			b->pcr[0][attest_alg_size(b->alg) - 1] = (uint8_t)l->locality;
		b->mask = (1u << ATTEST_PCR_COUNT) - 1;
	}
	for (size_t i = 0; i < l->nev; i++) {
		const struct attest_event *ev = &l->ev[i];
		if (ev->type == ATTEST_EV_NO_ACTION)
			continue; /* informational only: never extended */
		for (size_t d = 0; d < ev->ndigests; d++) {
			struct attest_bank *b = attest_pcrs_bank(out, ev->digest[d].alg, false);
			if (!b)
				continue;
			int rc = attest_pcr_extend(b->alg, b->pcr[ev->pcr], ev->digest[d].d);
			if (rc < 0)
				return err_setsys(e, rc, "event log: extending event %zu", i);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ extraction */

static void guid_format(const uint8_t *g, char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3], g[2], g[1], g[0],
		 g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* UTF-16LE to ASCII ('?' for anything else); stops at NUL. */
static char *utf16_ascii(const uint8_t *p, size_t nchars)
{
	char *s = malloc(nchars + 1);
	if (!s)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < nchars; i++) {
		uint16_t c = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
		if (c == 0)
			break;
		s[j++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	s[j] = '\0';
	return s;
}

static struct val *digests_val(const struct attest_event *ev)
{
	struct val *o = val_object_new(ev->ndigests);
	if (!o)
		return NULL;
	for (size_t d = 0; d < ev->ndigests; d++) {
		const char *name = attest_alg_name(ev->digest[d].alg);
		if (name && obj_hex(o, name, ev->digest[d].d, attest_alg_size(ev->digest[d].alg)) < 0) {
			val_unref(o);
			return NULL;
		}
	}
	return o;
}

#define EFI_CERT_X509 "a5c059a1-94e4-4aa7-87b5-ab155c2bf072"
#define EFI_CERT_SHA256 "c1c41626-504c-4092-aca9-41f936934328"

/* EFI_SIGNATURE_LIST records (UEFI 2.x, 32.4.1) into "kind:hex" strings. */
static int sig_lists(const uint8_t *p, size_t n, struct val *arr, size_t off, struct arca_err *e)
{
	struct rd r = rd_make(p, n);
	while (r.left > 0) {
		const uint8_t *type;
		uint32_t list_size, hdr_size, sig_size;
		struct rd list;
		if (rd_bytes(&r, 16, &type) < 0 || rd_u32le(&r, &list_size) < 0 || rd_u32le(&r, &hdr_size) < 0 ||
		    rd_u32le(&r, &sig_size) < 0 || list_size < 28 || rd_sub(&r, list_size - 28, &list) < 0 ||
		    rd_skip(&list, hdr_size) < 0)
			return err_set(e, -EBADMSG, "event log: event at offset %zu: malformed EFI_SIGNATURE_LIST", off);
		if (sig_size <= 16 || list.left % sig_size != 0)
			return err_set(e, -EBADMSG, "event log: event at offset %zu: bad signature size %u", off, sig_size);
		char guid[37];
		guid_format(type, guid);
		while (list.left > 0) {
			const uint8_t *sig;
			if (rd_skip(&list, 16) < 0 || rd_bytes(&list, sig_size - 16, &sig) < 0)
				return -EBADMSG;
			size_t slen = sig_size - 16;
			uint8_t h[32];
			char hex[65], item[128];
			if (!strcmp(guid, EFI_CERT_SHA256) && slen == 32) {
				hex_encode(sig, 32, hex);
				snprintf(item, sizeof(item), "sha256:%s", hex);
			} else {
				if (attest_hash(ATTEST_ALG_SHA256, sig, slen, h) < 0)
					return -EIO;
				hex_encode(h, 32, hex);
				snprintf(item, sizeof(item), "%s:%s", !strcmp(guid, EFI_CERT_X509) ? "x509" : guid, hex);
			}
			if (val_array_push(arr, val_cstr(item)) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* UEFI_VARIABLE_DATA: GUID, u64 name chars, u64 data bytes, name, data. */
static int efi_variable(const struct attest_event *ev, char **name, const uint8_t **data, size_t *len)
{
	struct rd r = rd_make(ev->data, ev->len);
	uint64_t nchars, dlen;
	const uint8_t *np;
	if (rd_skip(&r, 16) < 0 || rd_u64le(&r, &nchars) < 0 || rd_u64le(&r, &dlen) < 0 || nchars > r.left / 2 ||
	    rd_bytes(&r, (size_t)nchars * 2, &np) < 0 || dlen > r.left || rd_bytes(&r, (size_t)dlen, data) < 0)
		return -EBADMSG;
	*len = (size_t)dlen;
	*name = utf16_ascii(np, (size_t)nchars);
	return *name ? 0 : -ENOMEM;
}

/* The Linux EFI stub's tag for the measured load options (kernel command line). */
#define LINUX_LOAD_OPTIONS_TAG 0x8f3b22edu

static char *cmdline_of(const struct attest_event *ev)
{
	static const char grub_prefix[] = "kernel_cmdline: ";
	if (ev->type == ATTEST_EV_IPL && ev->len >= sizeof(grub_prefix) - 1 &&
	    !memcmp(ev->data, grub_prefix, sizeof(grub_prefix) - 1)) {
		size_t n = ev->len - (sizeof(grub_prefix) - 1);
		const char *s = (const char *)ev->data + sizeof(grub_prefix) - 1;
		while (n > 0 && s[n - 1] == '\0')
			n--;
		return strndup(s, n);
	}
	/* systemd-boot / systemd-stub: the command line as UTF-16LE. */
	if (ev->type == ATTEST_EV_IPL && (ev->pcr == 12 || ev->pcr == 8 || ev->pcr == 9) && ev->len >= 4 &&
	    ev->len % 2 == 0 && ev->data[1] == 0 && ev->data[0] >= 0x20)
		return utf16_ascii(ev->data, ev->len / 2);
	if (ev->type == ATTEST_EV_EVENT_TAG && ev->len >= 8) {
		struct rd r = rd_make(ev->data, ev->len);
		uint32_t tag, sz;
		const uint8_t *d;
		if (rd_u32le(&r, &tag) < 0 || rd_u32le(&r, &sz) < 0 || rd_bytes(&r, sz, &d) < 0)
			return NULL;
		if (tag == LINUX_LOAD_OPTIONS_TAG && sz % 2 == 0)
			return utf16_ascii(d, sz / 2);
	}
	return NULL;
}

int attest_evlog_info(const struct attest_evlog *l, struct val **out, struct arca_err *e)
{
	_cleanup_val_ struct val *o = val_object_new(12);
	struct val *pk = val_array_new(1), *kek = val_array_new(1), *db = val_array_new(4), *dbx = val_array_new(4);
	struct val *boot = val_array_new(4), *fw = val_array_new(4), *banks = val_array_new(l->nalgs);
	if (!o || obj_int(o, "events", (int64_t)l->nev) < 0 || val_object_put_cstr(o, "pk", pk) < 0 ||
	    val_object_put_cstr(o, "kek", kek) < 0 || val_object_put_cstr(o, "db", db) < 0 ||
	    val_object_put_cstr(o, "dbx", dbx) < 0 || val_object_put_cstr(o, "boot_components", boot) < 0 ||
	    val_object_put_cstr(o, "firmware", fw) < 0 || val_object_put_cstr(o, "banks", banks) < 0 ||
	    obj_int(o, "startup_locality", l->locality < 0 ? 0 : l->locality) < 0)
		return -ENOMEM;
	for (size_t k = 0; k < l->nalgs; k++)
		if (attest_alg_name(l->alg[k]) && val_array_push(banks, val_cstr(attest_alg_name(l->alg[k]))) < 0)
			return -ENOMEM;
	int secureboot = -1, setup = -1;
	_cleanup_free_ char *cmdline = NULL;
	for (size_t i = 0; i < l->nev; i++) {
		const struct attest_event *ev = &l->ev[i];
		int rc;
		if (ev->type == ATTEST_EV_EFI_VARIABLE_DRIVER_CONFIG && ev->pcr == 7) {
			_cleanup_free_ char *name = NULL;
			const uint8_t *data;
			size_t len;
			rc = efi_variable(ev, &name, &data, &len);
			if (rc < 0)
				return rc == -ENOMEM ? rc
						     : err_set(e, -EBADMSG, "event log: event at offset %zu: malformed "
									    "UEFI_VARIABLE_DATA", ev->offset);
			struct val *dst = !strcmp(name, "PK") ? pk : !strcmp(name, "KEK") ? kek
				       : !strcmp(name, "db") ? db : !strcmp(name, "dbx") ? dbx : NULL;
			if (!strcmp(name, "SecureBoot"))
				secureboot = len >= 1 && data[0] == 1;
			else if (!strcmp(name, "SetupMode"))
				setup = len >= 1 && data[0] == 1;
			else if (dst && (rc = sig_lists(data, len, dst, ev->offset, e)) < 0)
				return rc;
		} else if (ev->type == ATTEST_EV_EFI_BOOT_SERVICES_APPLICATION && ev->pcr == 4) {
			struct val *c = val_object_new(2);
			if (!c || val_array_push(boot, c) < 0 || obj_int(c, "pcr", ev->pcr) < 0 ||
			    val_object_put_cstr(c, "digest", digests_val(ev)) < 0)
				return -ENOMEM;
		} else if (ev->pcr == 0 && ev->type != ATTEST_EV_NO_ACTION && ev->type != ATTEST_EV_SEPARATOR) {
			const char *tn = attest_event_type_name(ev->type);
			char tbuf[16];
			if (!tn) {
				snprintf(tbuf, sizeof(tbuf), "0x%08x", ev->type);
				tn = tbuf;
			}
			struct val *c = val_object_new(2);
			if (!c || val_array_push(fw, c) < 0 || obj_str(c, "type", tn) < 0 ||
			    val_object_put_cstr(c, "digest", digests_val(ev)) < 0)
				return -ENOMEM;
		}
		if (!cmdline && (ev->pcr == 8 || ev->pcr == 9 || ev->pcr == 12) &&
		    (ev->type == ATTEST_EV_IPL || ev->type == ATTEST_EV_EVENT_TAG))
			cmdline = cmdline_of(ev);
	}
	if (val_object_put_cstr(o, "secureboot", secureboot < 0 ? val_null() : val_bool(secureboot)) < 0 ||
	    val_object_put_cstr(o, "setup_mode", setup < 0 ? val_null() : val_bool(setup)) < 0 ||
	    obj_str(o, "kernel_cmdline", cmdline) < 0)
		return -ENOMEM;
	*out = TAKE_PTR(o);
	return 0;
}
