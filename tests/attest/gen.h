/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Generators of synthetic evidence for the attest tests, fuzz seeds and the
 * benchmark: crypto-agile event logs (sha1 + sha256 banks) and IMA lists in
 * binary and ASCII form. Written from the formats, independently of
 * lib/attest's parsers, so the two check each other.
 */
#ifndef ARCA_TESTS_ATTEST_GEN_H
#define ARCA_TESTS_ATTEST_GEN_H

#include "attest.h"
#include "base.h"

#include <openssl/evp.h>

static inline void gen_u32(struct buf *b, uint32_t v)
{
	uint8_t t[4];
	put_u32le(t, v);
	buf_add(b, t, 4);
}
static inline void gen_u16(struct buf *b, uint16_t v)
{
	uint8_t t[2];
	put_u16le(t, v);
	buf_add(b, t, 2);
}
static inline void gen_u64(struct buf *b, uint64_t v)
{
	uint8_t t[8];
	put_u64le(t, v);
	buf_add(b, t, 8);
}

static inline void gen_sha(const char *name, const void *p, size_t n, uint8_t *out)
{
	unsigned len;
	EVP_Digest(p, n, out, &len, EVP_get_digestbyname(name), NULL);
}

/* ------------------------------------------------------------ event log */

/* Spec ID header event with sha1 and sha256 banks. */
static inline void gen_evlog_header(struct buf *b)
{
	struct buf ev = BUF_INIT;
	buf_add(&ev, "Spec ID Event03", 16);
	gen_u32(&ev, 0);          /* platform class */
	buf_addch(&ev, 0);        /* minor */
	buf_addch(&ev, 2);        /* major */
	buf_addch(&ev, 0);        /* errata */
	buf_addch(&ev, 2);        /* uintn size */
	gen_u32(&ev, 2);
	gen_u16(&ev, 0x0004);
	gen_u16(&ev, 20);
	gen_u16(&ev, 0x000b);
	gen_u16(&ev, 32);
	buf_addch(&ev, 0); /* vendor info size */
	gen_u32(b, 0);
	gen_u32(b, 3); /* EV_NO_ACTION */
	buf_addzero(b, 20);
	gen_u32(b, (uint32_t)ev.len);
	buf_add(b, ev.p, ev.len);
	buf_release(&ev);
}

/* A TCG_PCR_EVENT2 whose digests are the hashes of @data (or of @hashed
 * when given: firmware measures e.g. the Authenticode image, not the event). */
static inline void gen_evlog_event(struct buf *b, uint32_t pcr, uint32_t type, const void *data, size_t n,
				   const void *hashed, size_t hn)
{
	uint8_t s1[20], s256[32];
	if (!hashed) {
		hashed = data;
		hn = n;
	}
	gen_sha("sha1", hashed, hn, s1);
	gen_sha("sha256", hashed, hn, s256);
	gen_u32(b, pcr);
	gen_u32(b, type);
	gen_u32(b, 2);
	gen_u16(b, 0x0004);
	buf_add(b, s1, 20);
	gen_u16(b, 0x000b);
	buf_add(b, s256, 32);
	gen_u32(b, (uint32_t)n);
	buf_add(b, data, n);
}

static inline void gen_utf16(struct buf *b, const char *s)
{
	for (; *s; s++)
		gen_u16(b, (uint16_t)(unsigned char)*s);
}

/* UEFI_VARIABLE_DATA for the EFI global variable GUID. */
static inline void gen_efi_var(struct buf *b, const char *name, const void *data, size_t n)
{
	static const uint8_t global[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
					    0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };
	buf_add(b, global, 16);
	gen_u64(b, strlen(name));
	gen_u64(b, n);
	gen_utf16(b, name);
	buf_add(b, data, n);
}

/* One EFI_SIGNATURE_LIST with one x509 entry (fake DER) or sha256 hashes. */
static inline void gen_siglist(struct buf *b, bool x509, const uint8_t *data, size_t n, size_t count)
{
	static const uint8_t x509_guid[16] = { 0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
					       0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };
	static const uint8_t sha_guid[16] = { 0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40,
					      0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 };
	static const uint8_t owner[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	buf_add(b, x509 ? x509_guid : sha_guid, 16);
	gen_u32(b, (uint32_t)(28 + count * (16 + n)));
	gen_u32(b, 0);
	gen_u32(b, (uint32_t)(16 + n));
	for (size_t i = 0; i < count; i++) {
		buf_add(b, owner, 16);
		buf_add(b, data + i * n, n);
	}
}

struct gen_evlog_opts {
	bool secureboot;
	int locality;          /* StartupLocality event when > 0 */
	const char *cmdline;   /* grub "kernel_cmdline: " EV_IPL on PCR 8 */
	unsigned boot_apps;    /* EV_EFI_BOOT_SERVICES_APPLICATION events on PCR 4 */
	uint8_t app_seed;      /* varies the boot application digests */
	uint8_t dbx_seed;
};

static inline void gen_evlog(struct buf *b, const struct gen_evlog_opts *o)
{
	gen_evlog_header(b);
	if (o->locality > 0) {
		uint8_t sl[17] = "StartupLocality";
		sl[16] = (uint8_t)o->locality;
		gen_evlog_event(b, 0, 3, sl, 17, NULL, 0);
	}
	gen_evlog_event(b, 0, 0x8, "F\0W\0 \0v\0001\0\0\0", 12, NULL, 0); /* EV_S_CRTM_VERSION */
	gen_evlog_event(b, 0, 0x80000008, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16, "firmware volume", 15);
	uint8_t sb = o->secureboot ? 1 : 0;
	struct buf v = BUF_INIT, sl = BUF_INIT;
	gen_efi_var(&v, "SecureBoot", &sb, 1);
	gen_evlog_event(b, 7, 0x80000001, v.p, v.len, NULL, 0);
	const uint8_t pk[] = "PK certificate DER";
	buf_reset(&sl);
	gen_siglist(&sl, true, pk, sizeof(pk), 1);
	buf_reset(&v);
	gen_efi_var(&v, "PK", sl.p, sl.len);
	gen_evlog_event(b, 7, 0x80000001, v.p, v.len, NULL, 0);
	const uint8_t kek[] = "KEK certificate DER";
	buf_reset(&sl);
	gen_siglist(&sl, true, kek, sizeof(kek), 1);
	buf_reset(&v);
	gen_efi_var(&v, "KEK", sl.p, sl.len);
	gen_evlog_event(b, 7, 0x80000001, v.p, v.len, NULL, 0);
	const uint8_t db[] = "db certificate DER";
	buf_reset(&sl);
	gen_siglist(&sl, true, db, sizeof(db), 1);
	buf_reset(&v);
	gen_efi_var(&v, "db", sl.p, sl.len);
	gen_evlog_event(b, 7, 0x80000001, v.p, v.len, NULL, 0);
	uint8_t dbx[3 * 32];
	for (size_t i = 0; i < sizeof(dbx); i++)
		dbx[i] = (uint8_t)(i * 7 + o->dbx_seed);
	buf_reset(&sl);
	gen_siglist(&sl, false, dbx, 32, 3);
	buf_reset(&v);
	gen_efi_var(&v, "dbx", sl.p, sl.len);
	gen_evlog_event(b, 7, 0x80000001, v.p, v.len, NULL, 0);
	static const uint8_t sep[4] = { 0 };
	for (uint32_t pcr = 0; pcr <= 7; pcr++)
		gen_evlog_event(b, pcr, 4, sep, 4, NULL, 0);
	for (unsigned i = 0; i < o->boot_apps; i++) {
		uint8_t img[32], ev[32] = { 0 };
		for (size_t k = 0; k < sizeof(img); k++)
			img[k] = (uint8_t)(i * 31 + k + o->app_seed);
		gen_evlog_event(b, 4, 0x80000003, ev, sizeof(ev), img, sizeof(img));
	}
	if (o->cmdline) {
		buf_reset(&v);
		buf_addstr(&v, "kernel_cmdline: ");
		buf_addstr(&v, o->cmdline);
		buf_addch(&v, '\0');
		gen_evlog_event(b, 8, 0xd, v.p, v.len, NULL, 0);
	}
	buf_release(&v);
	buf_release(&sl);
}

/* ------------------------------------------------------------------- IMA */

/* The ima-ng template data: d-ng "sha256:" NUL digest, n-ng path NUL. */
static inline void gen_ima_ng_data(struct buf *d, const uint8_t *fdigest, const char *path, const uint8_t *sig,
				   size_t siglen, bool with_sig)
{
	gen_u32(d, 8 + 32);
	buf_add(d, "sha256:", 8);
	buf_add(d, fdigest, 32);
	gen_u32(d, (uint32_t)strlen(path) + 1);
	buf_add(d, path, strlen(path) + 1);
	if (with_sig) {
		gen_u32(d, (uint32_t)siglen);
		buf_add(d, sig, siglen);
	}
}

struct gen_ima_entry {
	const char *tmpl; /* "ima-ng", "ima-sig", "ima" */
	char path[128];
	uint8_t fdigest[32];
	bool violation;
};

/*
 * Appends one entry to the binary (@bin) and ASCII (@ascii, may be NULL)
 * lists and returns its template hashes for the sha1 and sha256 banks
 * (what the kernel extends).
 */
static inline void gen_ima_append(struct buf *bin, struct buf *ascii, const struct gen_ima_entry *en,
				  uint8_t ext1[20], uint8_t ext256[32])
{
	struct buf d = BUF_INIT;
	uint8_t th1[20], th256[32];
	bool legacy = !strcmp(en->tmpl, "ima");
	static const uint8_t sig[6] = { 0x03, 0x02, 0xaa, 0xbb, 0xcc, 0xdd };
	if (legacy) {
		uint8_t fd[20], pad[256] = { 0 };
		memcpy(fd, en->fdigest, 20);
		memcpy(pad, en->path, strlen(en->path));
		struct buf h = BUF_INIT;
		buf_add(&h, fd, 20);
		buf_add(&h, pad, 256);
		gen_sha("sha1", h.p, h.len, th1);
		gen_sha("sha256", h.p, h.len, th256);
		buf_release(&h);
		buf_add(&d, fd, 20);
		gen_u32(&d, (uint32_t)strlen(en->path));
		buf_add(&d, en->path, strlen(en->path));
	} else {
		gen_ima_ng_data(&d, en->fdigest, en->path, sig, sizeof(sig), !strcmp(en->tmpl, "ima-sig"));
		gen_sha("sha1", d.p, d.len, th1);
		gen_sha("sha256", d.p, d.len, th256);
	}
	if (en->violation) {
		memset(th1, 0, 20);
		memset(ext1, 0xff, 20);
		memset(ext256, 0xff, 32);
	} else {
		memcpy(ext1, th1, 20);
		memcpy(ext256, th256, 32);
	}
	gen_u32(bin, 10);
	buf_add(bin, th1, 20);
	gen_u32(bin, (uint32_t)strlen(en->tmpl));
	buf_addstr(bin, en->tmpl);
	if (!legacy)
		gen_u32(bin, (uint32_t)d.len);
	buf_add(bin, d.p, d.len);
	if (ascii) {
		char h[65];
		hex_encode(th1, 20, h);
		buf_addf(ascii, "10 %s %s ", h, en->tmpl);
		if (legacy) {
			hex_encode(en->fdigest, 20, h);
			buf_addf(ascii, "%s %s\n", h, en->path);
		} else {
			hex_encode(en->fdigest, 32, h);
			buf_addf(ascii, "sha256:%s %s", h, en->path);
			if (!strcmp(en->tmpl, "ima-sig")) {
				hex_encode(sig, sizeof(sig), h);
				buf_addf(ascii, " %s", h);
			}
			buf_addch(ascii, '\n');
		}
	}
	buf_release(&d);
}

/* The i-th entry of the standard synthetic list. */
static inline void gen_ima_standard(size_t i, struct gen_ima_entry *en)
{
	memset(en, 0, sizeof(*en));
	en->tmpl = "ima-ng";
	if (i == 0) {
		snprintf(en->path, sizeof(en->path), "boot_aggregate");
	} else {
		snprintf(en->path, sizeof(en->path), "/usr/bin/prog%zu", i);
		if (i % 7 == 3)
			en->tmpl = "ima-sig";
	}
	for (size_t k = 0; k < 32; k++)
		en->fdigest[k] = (uint8_t)(i * 13 + k);
}

/* Builds a list of @n standard entries; @pcr1/@pcr256 receive PCR 10. */
static inline void gen_ima_list(size_t n, struct buf *bin, struct buf *ascii, uint8_t pcr1[20], uint8_t pcr256[32])
{
	memset(pcr1, 0, 20);
	memset(pcr256, 0, 32);
	for (size_t i = 0; i < n; i++) {
		struct gen_ima_entry en;
		uint8_t e1[20], e256[32], t[64];
		gen_ima_standard(i, &en);
		gen_ima_append(bin, ascii, &en, e1, e256);
		memcpy(t, pcr1, 20);
		memcpy(t + 20, e1, 20);
		gen_sha("sha1", t, 40, pcr1);
		memcpy(t, pcr256, 32);
		memcpy(t + 32, e256, 32);
		gen_sha("sha256", t, 64, pcr256);
	}
}

#endif
