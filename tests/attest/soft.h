/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A software "TPM" for the unit tests: an OpenSSL key dressed as a TPM AK
 * (TPM2B_PUBLIC) and quotes (TPMS_ATTEST + TPMT_SIGNATURE) it signs, so the
 * verifier's checks can be exercised — and forged — without swtpm.
 */
#ifndef ARCA_TESTS_ATTEST_SOFT_H
#define ARCA_TESTS_ATTEST_SOFT_H

#include "attest.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

static inline void be16(struct buf *b, uint16_t v)
{
	uint8_t t[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	buf_add(b, t, 2);
}
static inline void be32(struct buf *b, uint32_t v)
{
	uint8_t t[4];
	put_u32be(t, v);
	buf_add(b, t, 4);
}
static inline void be64(struct buf *b, uint64_t v)
{
	be32(b, (uint32_t)(v >> 32));
	be32(b, (uint32_t)v);
}

struct soft_ak {
	EVP_PKEY *key;
	bool ecc;
	struct buf pub; /* TPM2B_PUBLIC */
};

static inline void soft_bn(struct buf *b, const BIGNUM *bn, size_t len)
{
	uint8_t tmp[512];
	BN_bn2binpad(bn, tmp, (int)len);
	be16(b, (uint16_t)len);
	buf_add(b, tmp, len);
}

/* attrs: fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign */
#define SOFT_AK_ATTRS 0x00050072u

static inline void soft_ak_new(struct soft_ak *ak, bool ecc, uint32_t attrs)
{
	memset(ak, 0, sizeof(*ak));
	buf_init(&ak->pub);
	ak->ecc = ecc;
	ak->key = ecc ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	struct buf t = BUF_INIT;
	be16(&t, ecc ? 0x0023 : 0x0001);
	be16(&t, 0x000b);
	be32(&t, attrs);
	be16(&t, 0); /* authPolicy */
	be16(&t, 0x0010); /* symmetric NULL */
	if (ecc) {
		be16(&t, 0x0018);
		be16(&t, 0x000b);
		be16(&t, 0x0003);
		be16(&t, 0x0010);
		BIGNUM *x = NULL, *y = NULL;
		EVP_PKEY_get_bn_param(ak->key, OSSL_PKEY_PARAM_EC_PUB_X, &x);
		EVP_PKEY_get_bn_param(ak->key, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
		soft_bn(&t, x, 32);
		soft_bn(&t, y, 32);
		BN_free(x);
		BN_free(y);
	} else {
		be16(&t, 0x0014);
		be16(&t, 0x000b);
		be16(&t, 2048);
		be32(&t, 0);
		BIGNUM *n = NULL;
		EVP_PKEY_get_bn_param(ak->key, OSSL_PKEY_PARAM_RSA_N, &n);
		soft_bn(&t, n, 256);
		BN_free(n);
	}
	be16(&ak->pub, (uint16_t)t.len);
	buf_add(&ak->pub, t.p, t.len);
	buf_release(&t);
}

static inline void soft_ak_free(struct soft_ak *ak)
{
	EVP_PKEY_free(ak->key);
	buf_release(&ak->pub);
}

struct soft_clock {
	uint64_t clock;
	uint32_t reset, restart;
};

/* Quotes @pcrs (all PCRs in their masks) with @nonce. */
static inline void soft_quote(const struct soft_ak *ak, const struct attest_pcrs *pcrs, const uint8_t *nonce,
			      size_t nlen, const struct soft_clock *c, struct attest_quote *q)
{
	attest_quote_init(q);
	q->pcrs = *pcrs;
	struct buf *a = &q->attest;
	be32(a, 0xff544347);
	be16(a, 0x8018);
	be16(a, 34); /* qualifiedSigner: some name */
	be16(a, 0x000b);
	buf_addzero(a, 32);
	be16(a, (uint16_t)nlen);
	buf_add(a, nonce, nlen);
	be64(a, c ? c->clock : 1000);
	be32(a, c ? c->reset : 1);
	be32(a, c ? c->restart : 0);
	buf_addch(a, 1);
	be64(a, 0x2019102300163636ull);
	be32(a, (uint32_t)pcrs->nbanks);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t k = 0; k < pcrs->nbanks; k++) {
		const struct attest_bank *b = &pcrs->bank[k];
		be16(a, b->alg);
		buf_addch(a, 3);
		buf_addch(a, (char)(b->mask & 0xff));
		buf_addch(a, (char)((b->mask >> 8) & 0xff));
		buf_addch(a, (char)((b->mask >> 16) & 0xff));
		for (unsigned j = 0; j < 24; j++)
			if (b->mask & (1u << j))
				EVP_DigestUpdate(ctx, b->pcr[j], attest_alg_size(b->alg));
	}
	uint8_t d[32];
	unsigned dl;
	EVP_DigestFinal_ex(ctx, d, &dl);
	EVP_MD_CTX_free(ctx);
	be16(a, 32);
	buf_add(a, d, 32);

	uint8_t sig[512];
	size_t slen = sizeof(sig);
	ctx = EVP_MD_CTX_new();
	EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, ak->key);
	EVP_DigestSign(ctx, sig, &slen, (const uint8_t *)a->p, a->len);
	EVP_MD_CTX_free(ctx);
	struct buf *s = &q->signature;
	be16(s, ak->ecc ? 0x0018 : 0x0014);
	be16(s, 0x000b);
	if (ak->ecc) {
		const uint8_t *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)slen);
		soft_bn(s, ECDSA_SIG_get0_r(es), 32);
		soft_bn(s, ECDSA_SIG_get0_s(es), 32);
		ECDSA_SIG_free(es);
	} else {
		be16(s, (uint16_t)slen);
		buf_add(s, sig, slen);
	}
}

#endif
