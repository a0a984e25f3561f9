/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPM2_MakeCredential in software (TPM 2.0 Part 1, 24: credential
 * protection), so a verifier without a TPM can check that an AK lives in
 * the same TPM as an EK: only that TPM can recover the seed with its EK and
 * only releases the credential when the named object (the AK) is loaded.
 */
#include "internal.h"

#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

int attest_kdfa(uint16_t alg, const uint8_t *key, size_t key_len, const char *label, const uint8_t *u,
		size_t u_len, const uint8_t *v, size_t v_len, uint8_t *out, size_t bits)
{
	/* K(i) = HMAC(key, [i]32 || label || 00h || contextU || contextV || [bits]32) */
	const EVP_MD *md = attest_md(alg);
	size_t hs = attest_alg_size(alg), need = (bits + 7) / 8;
	if (!md || key_len > INT32_MAX)
		return -ENOTSUP;
	struct buf m = BUF_INIT;
	buf_addzero(&m, 4);
	buf_add(&m, label, strlen(label) + 1);
	if (u_len)
		buf_add(&m, u, u_len);
	if (v_len)
		buf_add(&m, v, v_len);
	buf_u32be(&m, (uint32_t)bits);
	int rc = buf_error(&m);
	uint8_t blk[ATTEST_DIGEST_MAX];
	for (uint32_t i = 1, done = 0; rc == 0 && done < need; i++) {
		unsigned hl = 0;
		put_u32be((uint8_t *)m.p, i);
		if (!HMAC(md, key, (int)key_len, (const uint8_t *)m.p, m.len, blk, &hl)) {
			rc = -EIO;
			break;
		}
		size_t c = need - done < hs ? need - done : hs;
		memcpy(out + done, blk, c);
		done += (uint32_t)c;
	}
	if (rc == 0 && bits % 8)
		out[0] &= (uint8_t)((1u << (bits % 8)) - 1);
	secure_wipe(blk, sizeof(blk));
	buf_release(&m);
	return rc;
}

/* KDFe (Part 1, 11.4.10.3): K(i) = H([i]32 || Z || label || 00h || U || V). */
static int kdfe(uint16_t alg, const uint8_t *z, size_t zl, const char *label, const uint8_t *u, size_t ul,
		const uint8_t *v, size_t vl, uint8_t *out, size_t bytes)
{
	const EVP_MD *md = attest_md(alg);
	size_t hs = attest_alg_size(alg);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !md) {
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	uint8_t blk[ATTEST_DIGEST_MAX], ctr[4];
	int rc = 0;
	for (uint32_t i = 1, done = 0; done < bytes; i++) {
		unsigned l;
		put_u32be(ctr, i);
		if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, ctr, 4) != 1 ||
		    EVP_DigestUpdate(ctx, z, zl) != 1 || EVP_DigestUpdate(ctx, label, strlen(label) + 1) != 1 ||
		    EVP_DigestUpdate(ctx, u, ul) != 1 || EVP_DigestUpdate(ctx, v, vl) != 1 ||
		    EVP_DigestFinal_ex(ctx, blk, &l) != 1) {
			rc = -EIO;
			break;
		}
		size_t c = bytes - done < hs ? bytes - done : hs;
		memcpy(out + done, blk, c);
		done += (uint32_t)c;
	}
	EVP_MD_CTX_free(ctx);
	secure_wipe(blk, sizeof(blk));
	return rc;
}

static int seed_rsa(const struct attest_pub *ek, uint8_t *seed, size_t n, struct buf *enc)
{
	if (RAND_bytes(seed, (int)n) != 1)
		return -EIO;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek->pkey, NULL);
	const EVP_MD *md = attest_md(ek->name_alg);
	char *label = OPENSSL_memdup("IDENTITY", 9); /* the NUL is part of the label */
	uint8_t out[512];
	size_t ol = sizeof(out);
	int rc = -EIO;
	if (ctx && md && label && EVP_PKEY_encrypt_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
	    EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, 9) == 1) {
		label = NULL;
		if (EVP_PKEY_encrypt(ctx, out, &ol, seed, n) == 1) {
			buf_tpm2b(enc, out, ol);
			rc = buf_error(enc);
		}
	}
	OPENSSL_free(label);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

static int seed_ecc(const struct attest_pub *ek, uint8_t *seed, size_t n, struct buf *enc)
{
	if (ek->curve != ATTEST_ECC_NIST_P256)
		return -ENOTSUP;
	EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY_CTX *dctx = eph ? EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL) : NULL;
	uint8_t z[66], pt[1 + 2 * 32], ekx[32] = { 0 };
	size_t zl = sizeof(z), pl = 0;
	int rc = -EIO;
	if (!dctx || EVP_PKEY_derive_init(dctx) != 1 || EVP_PKEY_derive_set_peer(dctx, ek->pkey) != 1 ||
	    EVP_PKEY_derive(dctx, z, &zl) != 1 ||
	    EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &pl) != 1 ||
	    pl != sizeof(pt) || ek->x_len > 32)
		goto out;
	memcpy(ekx + 32 - ek->x_len, ek->x, ek->x_len);
	/* seed = KDFe(nameAlg, Z, "IDENTITY", QeU.x, QsV.x) */
	if (kdfe(ek->name_alg, z, zl, "IDENTITY", pt + 1, 32, ekx, 32, seed, n) < 0)
		goto out;
	struct buf point = BUF_INIT;
	buf_tpm2b(&point, pt + 1, 32);
	buf_tpm2b(&point, pt + 33, 32);
	buf_tpm2b(enc, point.p, point.len);
	buf_release(&point);
	rc = buf_error(enc);
out:
	secure_wipe(z, sizeof(z));
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_free(eph);
	return rc;
}

int attest_make_credential(const struct attest_pub *ek, const uint8_t *ak_name, size_t ak_name_len,
			   const uint8_t *secret, size_t secret_len, struct buf *id_object,
			   struct buf *enc_secret, struct arca_err *e)
{
	if (!ek->name_len)
		return err_set(e, -EINVAL, "make credential: the EK must be given as a TPM2B_PUBLIC");
	if (!(ek->attrs & ATTEST_OBJ_RESTRICTED) || !(ek->attrs & ATTEST_OBJ_DECRYPT))
		return err_set(e, -EINVAL, "make credential: the EK is not a restricted decryption key");
	if (ek->sym_alg != ATTEST_ALG_AES || ek->sym_mode != ATTEST_ALG_CFB ||
	    (ek->sym_bits != 128 && ek->sym_bits != 256))
		return err_set(e, -ENOTSUP, "make credential: EK symmetric algorithm is not AES-CFB");
	if (secret_len == 0 || secret_len > ATTEST_DIGEST_MAX)
		return err_set(e, -EINVAL, "make credential: secret of %zu bytes (1..%d)", secret_len, ATTEST_DIGEST_MAX);
	if (ak_name_len < 2 || ak_name_len > 2 + ATTEST_DIGEST_MAX)
		return err_set(e, -EINVAL, "make credential: bad AK name");
	size_t hs = attest_alg_size(ek->name_alg);
	uint8_t seed[ATTEST_DIGEST_MAX], sym[32], hkey[ATTEST_DIGEST_MAX], hmac[ATTEST_DIGEST_MAX];
	uint8_t plain[2 + ATTEST_DIGEST_MAX], ct[2 + ATTEST_DIGEST_MAX];
	int rc = ek->type == ATTEST_KEY_RSA ? seed_rsa(ek, seed, hs, enc_secret) : seed_ecc(ek, seed, hs, enc_secret);
	if (rc < 0) {
		err_set(e, rc, "make credential: cannot protect the seed for the EK");
		goto out;
	}
	/* symKey = KDFa(nameAlg, seed, "STORAGE", name, NULL, keyBits) */
	if ((rc = attest_kdfa(ek->name_alg, seed, hs, "STORAGE", ak_name, ak_name_len, NULL, 0, sym, ek->sym_bits)) < 0)
		goto out;
	/* credential as a TPM2B_DIGEST, AES-CFB with a zero IV */
	put_u16be(plain, (uint16_t)secret_len);
	memcpy(plain + 2, secret, secret_len);
	size_t pl = 2 + secret_len;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	static const uint8_t iv[16];
	int outl = 0, fl = 0;
	int ok = c && EVP_EncryptInit_ex(c, ek->sym_bits == 128 ? EVP_aes_128_cfb128() : EVP_aes_256_cfb128(), NULL, sym,
					 iv) == 1 &&
		 EVP_EncryptUpdate(c, ct, &outl, plain, (int)pl) == 1 && EVP_EncryptFinal_ex(c, ct + outl, &fl) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok || (size_t)(outl + fl) != pl) {
		rc = -EIO;
		goto out;
	}
	/* HMACkey = KDFa(nameAlg, seed, "INTEGRITY", NULL, NULL, bits);
	 * outerHMAC = HMAC(HMACkey, encIdentity || name) */
	if ((rc = attest_kdfa(ek->name_alg, seed, hs, "INTEGRITY", NULL, 0, NULL, 0, hkey, hs * 8)) < 0)
		goto out;
	struct buf m = BUF_INIT;
	buf_add(&m, ct, pl);
	buf_add(&m, ak_name, ak_name_len);
	unsigned hl = 0;
	ok = buf_error(&m) == 0 && HMAC(attest_md(ek->name_alg), hkey, (int)hs, (const uint8_t *)m.p, m.len, hmac, &hl);
	buf_release(&m);
	if (!ok) {
		rc = -EIO;
		goto out;
	}
	/* TPM2B_ID_OBJECT: size || TPM2B_DIGEST(integrityHMAC) || encIdentity */
	buf_u16be(id_object, (uint16_t)(2 + hs + pl));
	buf_tpm2b(id_object, hmac, hs);
	buf_add(id_object, ct, pl);
	rc = buf_error(id_object);
out:
	secure_wipe(seed, sizeof(seed));
	secure_wipe(sym, sizeof(sym));
	secure_wipe(hkey, sizeof(hkey));
	secure_wipe(plain, sizeof(plain));
	return rc;
}
