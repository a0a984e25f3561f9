/* SPDX-License-Identifier: Apache-2.0 */
/* lib/attest internals: never installed, never included outside lib/attest. */
#ifndef ARCA_ATTEST_INTERNAL_H
#define ARCA_ATTEST_INTERNAL_H

#include "attest.h"

#include <strings.h>

#include <openssl/evp.h>

/* The fetched digest for a TPM algorithm (cached; NULL when unknown). */
const EVP_MD *attest_md(uint16_t alg);
/* H(a || b). */
int attest_hash2(uint16_t alg, const void *a, size_t an, const void *b, size_t bn, uint8_t *out);

/* Puts key -> string/int/bool into an object; -ENOMEM. */
static inline int obj_str(struct val *o, const char *k, const char *s)
{
	return val_object_put_cstr(o, k, s ? val_cstr(s) : val_null());
}
static inline int obj_int(struct val *o, const char *k, int64_t i) { return val_object_put_cstr(o, k, val_int(i)); }
static inline int obj_bool(struct val *o, const char *k, bool b) { return val_object_put_cstr(o, k, val_bool(b)); }
static inline int obj_hex(struct val *o, const char *k, const uint8_t *p, size_t n)
{
	char *h = malloc(2 * n + 1);
	if (!h)
		return -ENOMEM;
	hex_encode(p, n, h);
	int rc = val_object_put_cstr(o, k, val_cstr(h));
	free(h);
	return rc;
}

/* Big-endian stores (TPM wire format). */
static inline void put_u16be(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void buf_u16be(struct buf *b, uint16_t v) { uint8_t t[2]; put_u16be(t, v); buf_add(b, t, 2); }
static inline void buf_u32be(struct buf *b, uint32_t v) { uint8_t t[4]; put_u32be(t, v); buf_add(b, t, 4); }
/* TPM2B: u16 size || bytes. */
static inline void buf_tpm2b(struct buf *b, const void *p, size_t n) { buf_u16be(b, (uint16_t)n); buf_add(b, p, n); }

/* Reads a TPM2B (u16 big-endian size) of at most @max bytes. */
static inline _wur_ int rd_tpm2b(struct rd *r, size_t max, const uint8_t **p, size_t *n)
{
	uint16_t sz;
	int rc = rd_u16be(r, &sz);
	if (rc < 0)
		return rc;
	if (sz > max)
		return -EBADMSG;
	*n = sz;
	return rd_bytes(r, sz, p);
}

struct attest_pub {
	uint16_t type, name_alg;
	uint32_t attrs;
	uint16_t sym_alg, sym_bits, sym_mode; /* TPM_ALG_NULL (0x0010) when none */
	uint16_t scheme, scheme_hash;
	uint16_t curve;
	uint8_t name[2 + ATTEST_DIGEST_MAX];
	size_t name_len; /* 0 for PEM keys */
	uint8_t x[ATTEST_DIGEST_MAX + 2], y[ATTEST_DIGEST_MAX + 2]; /* ECC point */
	size_t x_len, y_len;
	EVP_PKEY *pkey;
};

#define ATTEST_ALG_NULL 0x0010u
#define ATTEST_ALG_AES 0x0006u
#define ATTEST_ALG_CFB 0x0043u
#define ATTEST_ECC_NIST_P256 0x0003u
#define ATTEST_ECC_NIST_P384 0x0004u

#endif
