/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPM 2.0 structures on the verifier side (TPM 2.0 Part 2): TPMS_ATTEST,
 * TPMT_SIGNATURE, TPMT_PUBLIC — decoded big endian through struct rd with
 * exact lengths — and quote verification with OpenSSL only.
 */
#include "internal.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

/* ------------------------------------------------------------ TPMS_ATTEST */

static int rd_pcrsel(struct rd *r, size_t *nsel, struct attest_pcrsel_entry *sel, const char *what,
		     struct arca_err *e)
{
	uint32_t count;
	if (rd_u32be(r, &count) < 0)
		return err_set(e, -EBADMSG, "%s: truncated PCR selection", what);
	if (count > ATTEST_BANK_MAX)
		return err_set(e, -EBADMSG, "%s: %u PCR banks selected (at most %d)", what, count, ATTEST_BANK_MAX);
	for (uint32_t i = 0; i < count; i++) {
		uint8_t n;
		const uint8_t *bits;
		if (rd_u16be(r, &sel[i].alg) < 0 || rd_u8(r, &n) < 0 || rd_bytes(r, n, &bits) < 0)
			return err_set(e, -EBADMSG, "%s: truncated PCR selection", what);
		if (n < 3 || n > 4) /* PC Client: 24 PCRs; sizeofSelect is 3 (4 tolerated) */
			return err_set(e, -EBADMSG, "%s: PCR select size %u", what, n);
		if (n == 4 && bits[3])
			return err_set(e, -EBADMSG, "%s: PCR above 23 selected", what);
		sel[i].mask = (uint32_t)bits[0] | (uint32_t)bits[1] << 8 | (uint32_t)bits[2] << 16;
		if (!attest_alg_size(sel[i].alg))
			return err_set(e, -EBADMSG, "%s: unsupported PCR bank 0x%04x", what, sel[i].alg);
		for (uint32_t j = 0; j < i; j++)
			if (sel[j].alg == sel[i].alg)
				return err_set(e, -EBADMSG, "%s: bank %s selected twice", what, attest_alg_name(sel[i].alg));
	}
	*nsel = count;
	return 0;
}

int attest_tpms_decode(const uint8_t *p, size_t n, struct attest_tpms *out, struct arca_err *e)
{
	memset(out, 0, sizeof(*out));
	if (n > ATTEST_TPMS_MAX_BYTES)
		return err_set(e, -E2BIG, "TPMS_ATTEST: %zu bytes (limit %u)", n, ATTEST_TPMS_MAX_BYTES);
	struct rd r = rd_make(p, n);
	const uint8_t *b;
	size_t len;
	if (rd_u32be(&r, &out->magic) < 0 || rd_u16be(&r, &out->type) < 0)
		return err_set(e, -EBADMSG, "TPMS_ATTEST: truncated header");
	if (out->magic != ATTEST_TPM_GENERATED)
		return err_set(e, -EBADMSG, "TPMS_ATTEST: magic 0x%08x is not TPM_GENERATED_VALUE", out->magic);
	if (out->type != ATTEST_ST_ATTEST_QUOTE)
		return err_set(e, -EBADMSG, "TPMS_ATTEST: type 0x%04x is not TPM_ST_ATTEST_QUOTE", out->type);
	if (rd_tpm2b(&r, sizeof(out->signer), &b, &len) < 0)
		return err_set(e, -EBADMSG, "TPMS_ATTEST: malformed qualifiedSigner");
	memcpy(out->signer, b, len);
	out->signer_len = len;
	if (rd_tpm2b(&r, sizeof(out->extra), &b, &len) < 0)
		return err_set(e, -EBADMSG, "TPMS_ATTEST: malformed extraData");
	memcpy(out->extra, b, len);
	out->extra_len = len;
	if (rd_u64be(&r, &out->clock) < 0 || rd_u32be(&r, &out->reset_count) < 0 ||
	    rd_u32be(&r, &out->restart_count) < 0 || rd_u8(&r, &out->safe) < 0 ||
	    rd_u64be(&r, &out->firmware_version) < 0)
		return err_set(e, -EBADMSG, "TPMS_ATTEST: truncated clock info");
	if (out->safe > 1)
		return err_set(e, -EBADMSG, "TPMS_ATTEST: clock safe flag %u", out->safe);
	int rc = rd_pcrsel(&r, &out->nsel, out->sel, "TPMS_ATTEST", e);
	if (rc < 0)
		return rc;
	if (rd_tpm2b(&r, ATTEST_DIGEST_MAX, &b, &len) < 0)
		return err_set(e, -EBADMSG, "TPMS_ATTEST: malformed pcrDigest");
	memcpy(out->pcr_digest, b, len);
	out->pcr_digest_len = len;
	if (r.left)
		return err_set(e, -EBADMSG, "TPMS_ATTEST: %zu trailing bytes", r.left);
	return 0;
}

/* --------------------------------------------------------- TPMT_SIGNATURE */

int attest_sig_decode(const uint8_t *p, size_t n, struct attest_sig *out, struct arca_err *e)
{
	memset(out, 0, sizeof(*out));
	struct rd r = rd_make(p, n);
	if (rd_u16be(&r, &out->sig_alg) < 0 || rd_u16be(&r, &out->hash_alg) < 0)
		return err_set(e, -EBADMSG, "TPMT_SIGNATURE: truncated");
	switch (out->sig_alg) {
	case ATTEST_SIG_RSASSA:
	case ATTEST_SIG_RSAPSS:
		if (rd_tpm2b(&r, 512, &out->sig, &out->sig_len) < 0 || out->sig_len == 0)
			return err_set(e, -EBADMSG, "TPMT_SIGNATURE: malformed RSA signature");
		break;
	case ATTEST_SIG_ECDSA:
		if (rd_tpm2b(&r, 66, &out->r, &out->r_len) < 0 || rd_tpm2b(&r, 66, &out->s, &out->s_len) < 0 ||
		    !out->r_len || !out->s_len)
			return err_set(e, -EBADMSG, "TPMT_SIGNATURE: malformed ECDSA signature");
		break;
	default:
		return err_set(e, -EBADMSG, "TPMT_SIGNATURE: unsupported scheme 0x%04x", out->sig_alg);
	}
	if (!attest_alg_size(out->hash_alg))
		return err_set(e, -EBADMSG, "TPMT_SIGNATURE: unsupported hash 0x%04x", out->hash_alg);
	if (r.left)
		return err_set(e, -EBADMSG, "TPMT_SIGNATURE: %zu trailing bytes", r.left);
	return 0;
}

/* ------------------------------------------------------------ TPMT_PUBLIC */

void attest_pub_free(struct attest_pub *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

static int rsa_pkey(const uint8_t *n, size_t nlen, uint32_t exp, EVP_PKEY **out)
{
	int rc = -EIO;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!bld || !bn || !be || !ctx || !BN_set_word(be, exp ? exp : 65537) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) || !(params = OSSL_PARAM_BLD_to_param(bld)))
		goto out;
	if (EVP_PKEY_fromdata_init(ctx) == 1 && EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1)
		rc = 0;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

static int ec_pkey(const char *group, const uint8_t *x, size_t xl, const uint8_t *y, size_t yl, size_t field,
		   EVP_PKEY **out)
{
	uint8_t pt[1 + 2 * 66] = { 4 };
	if (xl > field || yl > field)
		return -EBADMSG;
	/* TPM2B coordinates may be shorter than the field: left-pad. */
	memcpy(pt + 1 + field - xl, x, xl);
	memcpy(pt + 1 + 2 * field - yl, y, yl);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * field),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	int rc = -EBADMSG;
	if (ctx && EVP_PKEY_fromdata_init(ctx) == 1 && EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1)
		rc = 0;
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* TPMT_SYM_DEF_OBJECT */
static int rd_symdef(struct rd *r, struct attest_pub *k)
{
	if (rd_u16be(r, &k->sym_alg) < 0)
		return -EBADMSG;
	if (k->sym_alg == ATTEST_ALG_NULL)
		return 0;
	if (rd_u16be(r, &k->sym_bits) < 0 || rd_u16be(r, &k->sym_mode) < 0)
		return -EBADMSG;
	return 0;
}

/* TPMT_{RSA,ECC}_SCHEME and TPMT_KDF_SCHEME: a scheme and, unless NULL or
 * RSAES, a hash (ECDAA adds a count). */
static int rd_scheme(struct rd *r, uint16_t *scheme, uint16_t *hash)
{
	*hash = 0;
	if (rd_u16be(r, scheme) < 0)
		return -EBADMSG;
	if (*scheme == ATTEST_ALG_NULL || *scheme == 0x0015 /* RSAES */)
		return 0;
	if (rd_u16be(r, hash) < 0)
		return -EBADMSG;
	if (*scheme == 0x001a /* ECDAA */)
		return rd_skip(r, 2);
	return 0;
}

static int decode_tpmt(const uint8_t *p, size_t n, struct attest_pub *k, struct arca_err *e)
{
	struct rd r = rd_make(p, n);
	const uint8_t *b;
	size_t len;
	if (rd_u16be(&r, &k->type) < 0 || rd_u16be(&r, &k->name_alg) < 0 || rd_u32be(&r, &k->attrs) < 0 ||
	    rd_tpm2b(&r, ATTEST_DIGEST_MAX, &b, &len) < 0 || rd_symdef(&r, k) < 0)
		return err_set(e, -EBADMSG, "TPMT_PUBLIC: truncated header");
	if (!attest_alg_size(k->name_alg))
		return err_set(e, -EBADMSG, "TPMT_PUBLIC: unsupported name algorithm 0x%04x", k->name_alg);
	int rc;
	if (k->type == ATTEST_KEY_RSA) {
		uint16_t bits;
		uint32_t exp;
		if (rd_scheme(&r, &k->scheme, &k->scheme_hash) < 0 || rd_u16be(&r, &bits) < 0 || rd_u32be(&r, &exp) < 0 ||
		    rd_tpm2b(&r, 512, &b, &len) < 0)
			return err_set(e, -EBADMSG, "TPMT_PUBLIC: malformed RSA parameters");
		if (bits < 2048 || len * 8 != bits)
			return err_set(e, -EBADMSG, "TPMT_PUBLIC: RSA modulus of %zu bytes for %u bits", len, bits);
		rc = rsa_pkey(b, len, exp, &k->pkey);
	} else if (k->type == ATTEST_KEY_ECC) {
		uint16_t kdf, kdf_hash;
		const uint8_t *x, *y;
		if (rd_scheme(&r, &k->scheme, &k->scheme_hash) < 0 || rd_u16be(&r, &k->curve) < 0 ||
		    rd_scheme(&r, &kdf, &kdf_hash) < 0 || rd_tpm2b(&r, 66, &x, &k->x_len) < 0 ||
		    rd_tpm2b(&r, 66, &y, &k->y_len) < 0)
			return err_set(e, -EBADMSG, "TPMT_PUBLIC: malformed ECC parameters");
		memcpy(k->x, x, k->x_len);
		memcpy(k->y, y, k->y_len);
		if (k->curve == ATTEST_ECC_NIST_P256)
			rc = ec_pkey("prime256v1", x, k->x_len, y, k->y_len, 32, &k->pkey);
		else if (k->curve == ATTEST_ECC_NIST_P384)
			rc = ec_pkey("secp384r1", x, k->x_len, y, k->y_len, 48, &k->pkey);
		else
			return err_set(e, -EBADMSG, "TPMT_PUBLIC: unsupported curve 0x%04x", k->curve);
	} else {
		return err_set(e, -EBADMSG, "TPMT_PUBLIC: unsupported key type 0x%04x", k->type);
	}
	if (rc < 0)
		return err_set(e, -EBADMSG, "TPMT_PUBLIC: not a valid public key");
	if (r.left)
		return err_set(e, -EBADMSG, "TPMT_PUBLIC: %zu trailing bytes", r.left);
	/* TPM 2.0 Part 1, 16: Name = nameAlg || H_nameAlg(TPMT_PUBLIC). */
	put_u16be(k->name, k->name_alg);
	if (attest_hash(k->name_alg, p, n, k->name + 2) < 0)
		return -EIO;
	k->name_len = 2 + attest_alg_size(k->name_alg);
	return 0;
}

int attest_pub_decode(const uint8_t *p, size_t n, struct attest_pub **out, struct arca_err *e)
{
	struct attest_pub *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	/* A TPM2B_PUBLIC starts with its own size; a bare TPMT_PUBLIC starts
	 * with the key type (0x0001 / 0x0023), never equal to n - 2. */
	if (n >= 2 && (size_t)(p[0] << 8 | p[1]) == n - 2) {
		p += 2;
		n -= 2;
	}
	int rc = decode_tpmt(p, n, k, e);
	if (rc < 0) {
		attest_pub_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int attest_pub_load(const char *path, struct attest_pub **out, struct arca_err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = file_read_all(path, 1u << 16, &b, e);
	if (rc < 0)
		return rc;
	if (b.len > 11 && !memcmp(b.p, "-----BEGIN ", 11)) {
		BIO *bio = BIO_new_mem_buf(b.p, (int)b.len);
		EVP_PKEY *pk = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		if (!pk)
			return err_set(e, -EBADMSG, "'%s': not a PEM public key", path);
		struct attest_pub *k = calloc(1, sizeof(*k));
		if (!k) {
			EVP_PKEY_free(pk);
			return -ENOMEM;
		}
		k->pkey = pk;
		k->type = EVP_PKEY_base_id(pk) == EVP_PKEY_RSA ? ATTEST_KEY_RSA : ATTEST_KEY_ECC;
		*out = k;
		return 0;
	}
	rc = attest_pub_decode((const uint8_t *)b.p, b.len, out, e);
	if (rc < 0)
		return err_wrap(e, rc, "'%s'", path);
	return 0;
}

const uint8_t *attest_pub_name(const struct attest_pub *k, size_t *len)
{
	*len = k->name_len;
	return k->name;
}
uint16_t attest_pub_type(const struct attest_pub *k) { return k->type; }
uint32_t attest_pub_attrs(const struct attest_pub *k) { return k->attrs; }

int attest_pub_pem(const struct attest_pub *k, struct buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio)
		return -ENOMEM;
	int rc = -EIO;
	if (PEM_write_bio_PUBKEY(bio, k->pkey) == 1) {
		char *p;
		long n = BIO_get_mem_data(bio, &p);
		buf_add(out, p, (size_t)n);
		rc = buf_error(out);
	}
	BIO_free(bio);
	return rc;
}

int attest_pub_check_ak(const struct attest_pub *k, struct arca_err *e)
{
	if (!k->name_len)
		return err_set(e, -EPERM, "AK: a PEM key carries no TPM attributes; give its TPM2B_PUBLIC");
	static const struct {
		uint32_t bit;
		const char *name;
	} need[] = {
		{ ATTEST_OBJ_FIXEDTPM, "fixedTPM" },
		{ ATTEST_OBJ_FIXEDPARENT, "fixedParent" },
		{ ATTEST_OBJ_SENSITIVEDATAORIGIN, "sensitiveDataOrigin" },
		{ ATTEST_OBJ_RESTRICTED, "restricted" },
		{ ATTEST_OBJ_SIGN, "sign" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		if (!(k->attrs & need[i].bit))
			return err_set(e, -EPERM, "AK: attribute %s is not set (attributes 0x%08x)", need[i].name, k->attrs);
	if (k->attrs & ATTEST_OBJ_DECRYPT)
		return err_set(e, -EPERM, "AK: a restricted signing key must not also decrypt");
	return 0;
}

/* ------------------------------------------------------------------ quotes */

void attest_quote_init(struct attest_quote *q)
{
	memset(q, 0, sizeof(*q));
	buf_init(&q->attest);
	buf_init(&q->signature);
}

void attest_quote_release(struct attest_quote *q)
{
	buf_release(&q->attest);
	buf_release(&q->signature);
	memset(&q->pcrs, 0, sizeof(q->pcrs));
}

static int verify_signature(const uint8_t *msg, size_t n, const struct attest_sig *s, const struct attest_pub *ak,
			    struct arca_err *e)
{
	const EVP_MD *md = attest_md(s->hash_alg);
	int kt = EVP_PKEY_base_id(ak->pkey);
	if ((s->sig_alg == ATTEST_SIG_ECDSA) != (kt == EVP_PKEY_EC))
		return err_set(e, -EPERM, "signature: %s signature for a%s key", s->sig_alg == ATTEST_SIG_ECDSA ? "ECDSA" : "RSA",
			       kt == EVP_PKEY_EC ? "n ECC" : "n RSA");
	uint8_t *der = NULL;
	const uint8_t *sig = s->sig;
	size_t sig_len = s->sig_len;
	if (s->sig_alg == ATTEST_SIG_ECDSA) {
		ECDSA_SIG *es = ECDSA_SIG_new();
		BIGNUM *r = BN_bin2bn(s->r, (int)s->r_len, NULL), *ss = BN_bin2bn(s->s, (int)s->s_len, NULL);
		if (!es || !r || !ss || ECDSA_SIG_set0(es, r, ss) != 1) {
			ECDSA_SIG_free(es);
			BN_free(r);
			BN_free(ss);
			return -ENOMEM;
		}
		int dl = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		if (dl <= 0)
			return -ENOMEM;
		sig = der;
		sig_len = (size_t)dl;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = ctx && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, ak->pkey) == 1;
	if (ok && s->sig_alg == ATTEST_SIG_RSASSA)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
	if (ok && s->sig_alg == ATTEST_SIG_RSAPSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1;
	int v = ok ? EVP_DigestVerify(ctx, sig, sig_len, msg, n) : -1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	if (!ok)
		return err_set(e, -EIO, "signature: cannot set up verification");
	if (v != 1)
		return err_set(e, -EPERM, "signature: quote is not signed by this AK");
	return 0;
}

int attest_quote_verify(const struct attest_quote *q, const struct attest_pub *ak,
			const struct attest_verify_opts *o, struct attest_tpms *out, struct arca_err *e)
{
	struct attest_tpms t;
	struct attest_sig s;
	const uint8_t *msg = (const uint8_t *)q->attest.p;
	int rc = attest_tpms_decode(msg, q->attest.len, &t, e);
	if (rc < 0)
		return rc;
	if ((rc = attest_sig_decode((const uint8_t *)q->signature.p, q->signature.len, &s, e)) < 0)
		return rc;
	/* The signature first: nothing else in the attest is trustworthy
	 * before it is proven to come from the AK. */
	if ((rc = verify_signature(msg, q->attest.len, &s, ak, e)) < 0)
		return rc;
	if (!o || !o->nonce)
		return err_set(e, -EINVAL, "nonce: none given");
	if (t.extra_len != o->nonce_len || !ct_memeq(t.extra, o->nonce, o->nonce_len))
		return err_set(e, -EPERM, "nonce: the quote's qualifying data is not the expected nonce");
	/* pcrDigest: H_sig(selected PCR values, selection order, ascending). */
	size_t dsz = attest_alg_size(s.hash_alg);
	if (t.pcr_digest_len != dsz)
		return err_set(e, -EPERM, "pcr_digest: %zu bytes, the signature hash has %zu", t.pcr_digest_len, dsz);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex2(ctx, attest_md(s.hash_alg), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	uint32_t covered[ATTEST_BANK_MAX] = { 0 };
	for (size_t i = 0; i < t.nsel; i++) {
		const struct attest_bank *b = attest_pcrs_find(&q->pcrs, t.sel[i].alg);
		for (unsigned j = 0; j < ATTEST_PCR_COUNT; j++) {
			if (!(t.sel[i].mask & (1u << j)))
				continue;
			if (!b || !(b->mask & (1u << j))) {
				EVP_MD_CTX_free(ctx);
				return err_set(e, -EPERM, "pcr_digest: quoted %s PCR %u has no value", attest_alg_name(t.sel[i].alg), j);
			}
			EVP_DigestUpdate(ctx, b->pcr[j], attest_alg_size(b->alg));
		}
		if (b)
			covered[b - q->pcrs.bank] = t.sel[i].mask;
	}
	uint8_t d[ATTEST_DIGEST_MAX];
	unsigned dl;
	int fin = EVP_DigestFinal_ex(ctx, d, &dl);
	EVP_MD_CTX_free(ctx);
	if (fin != 1)
		return -EIO;
	if (!ct_memeq(d, t.pcr_digest, dsz))
		return err_set(e, -EPERM, "pcr_digest: the PCR values do not match the quoted digest");
	for (size_t k = 0; k < q->pcrs.nbanks; k++) {
		uint32_t extra = q->pcrs.bank[k].mask & ~covered[k];
		if (extra)
			return err_set(e, -EPERM, "pcr_digest: %s PCR %u is not covered by the quote",
				       attest_alg_name(q->pcrs.bank[k].alg), (unsigned)__builtin_ctz(extra));
	}
	if (o->previous) {
		const struct attest_tpms *p = o->previous;
		if (p->extra_len == t.extra_len && !memcmp(p->extra, t.extra, t.extra_len))
			return err_set(e, -EPERM, "clock: replayed quote (same nonce as the previous quote)");
		if (t.reset_count < p->reset_count)
			return err_set(e, -EPERM, "clock: reset count went backwards (%u < %u)", t.reset_count,
				       p->reset_count);
		if (t.reset_count == p->reset_count) {
			if (t.restart_count < p->restart_count)
				return err_set(e, -EPERM, "clock: restart count went backwards (%u < %u)",
					       t.restart_count, p->restart_count);
			if (t.clock <= p->clock)
				return err_set(e, -EPERM, "clock: %" PRIu64 " is not after the previous quote's %" PRIu64
							  " (replayed quote)", t.clock, p->clock);
		}
	}
	if (out)
		*out = t;
	return 0;
}

/* -------------------------------------------------------------------- JSON */

int attest_quote_to_json(const struct attest_quote *q, struct buf *out)
{
	_cleanup_val_ struct val *o = val_object_new(4);
	if (!o || obj_int(o, "version", 1) < 0 ||
	    obj_hex(o, "attest", (const uint8_t *)q->attest.p, q->attest.len) < 0 ||
	    obj_hex(o, "signature", (const uint8_t *)q->signature.p, q->signature.len) < 0 ||
	    val_object_put_cstr(o, "pcrs", attest_pcrs_to_val(&q->pcrs)) < 0)
		return -ENOMEM;
	val_to_json(o, out, JSON_PRETTY);
	buf_addch(out, '\n');
	return buf_error(out);
}

static int hex_member(const struct val *o, const char *k, struct buf *out, struct arca_err *e)
{
	const char *s = val_str(val_object_get_cstr(o, k));
	if (!s)
		return err_set(e, -EBADMSG, "quote: missing \"%s\"", k);
	size_t n = strlen(s), got;
	if (n % 2 || n / 2 > ATTEST_TPMS_MAX_BYTES)
		return err_set(e, -EBADMSG, "quote: \"%s\" is not hex of at most %u bytes", k, ATTEST_TPMS_MAX_BYTES);
	buf_reset(out);
	if (!buf_grow(out, n / 2))
		return -ENOMEM;
	if (hex_decode(s, n, (uint8_t *)out->p, n / 2, &got) < 0)
		return err_set(e, -EBADMSG, "quote: \"%s\" is not hex", k);
	out->len = got;
	out->p[got] = '\0';
	return 0;
}

int attest_quote_from_json(const char *text, size_t n, struct attest_quote *q, struct arca_err *e)
{
	struct json_limits lim = json_limits_default;
	lim.max_bytes = 1u << 20;
	lim.max_depth = 8;
	_cleanup_val_ struct val *v = NULL;
	int rc = val_from_json(text, n, &lim, &v, e);
	if (rc < 0)
		return err_wrap(e, rc, "quote");
	if (v->kind != VAL_OBJECT)
		return err_set(e, -EBADMSG, "quote: expected an object");
	int64_t ver;
	if (!val_get_int(val_object_get_cstr(v, "version"), &ver) || ver != 1)
		return err_set(e, -EBADMSG, "quote: unsupported version");
	if ((rc = hex_member(v, "attest", &q->attest, e)) < 0 || (rc = hex_member(v, "signature", &q->signature, e)) < 0)
		return rc;
	if ((rc = attest_pcrs_from_val(val_object_get_cstr(v, "pcrs"), &q->pcrs, e)) < 0)
		return err_wrap(e, rc, "quote");
	return 0;
}

/* ---------------------------------------------------- tpm2-tools PCR file */

/* The in-memory layout of tss2's TPML_PCR_SELECTION (4 + 16 * 8 bytes) and
 * TPML_DIGEST (4 + 8 * 66), written by tpm2-tools in host (little) order. */
#define T2_SEL_SIZE 132u
#define T2_SEL_MAX 16u
#define T2_DIG_SIZE 532u
#define T2_DIG_MAX 8u

int attest_quote_pcrfile_write(const struct attest_quote *q, const struct attest_tpms *t, struct buf *out,
			       struct arca_err *e)
{
	uint8_t sel[T2_SEL_SIZE] = { 0 };
	put_u32le(sel, (uint32_t)t->nsel);
	size_t nvals = 0;
	for (size_t i = 0; i < t->nsel; i++) {
		uint8_t *s = sel + 4 + 8 * i;
		put_u16le(s, t->sel[i].alg);
		s[2] = 3;
		s[3] = (uint8_t)t->sel[i].mask;
		s[4] = (uint8_t)(t->sel[i].mask >> 8);
		s[5] = (uint8_t)(t->sel[i].mask >> 16);
		nvals += (size_t)__builtin_popcount(t->sel[i].mask);
	}
	buf_add(out, sel, sizeof(sel));
	size_t nlists = (nvals + T2_DIG_MAX - 1) / T2_DIG_MAX;
	uint8_t le[4];
	put_u32le(le, (uint32_t)nlists);
	buf_add(out, le, 4);
	uint8_t list[T2_DIG_SIZE];
	size_t in_list = 0;
	memset(list, 0, sizeof(list));
	for (size_t i = 0; i < t->nsel; i++) {
		const struct attest_bank *b = attest_pcrs_find(&q->pcrs, t->sel[i].alg);
		size_t sz = attest_alg_size(t->sel[i].alg);
		for (unsigned j = 0; j < ATTEST_PCR_COUNT; j++) {
			if (!(t->sel[i].mask & (1u << j)))
				continue;
			if (!b || !(b->mask & (1u << j)))
				return err_set(e, -EINVAL, "PCR file: no value for %s PCR %u", attest_alg_name(t->sel[i].alg), j);
			uint8_t *d = list + 4 + 66 * in_list;
			put_u16le(d, (uint16_t)sz);
			memcpy(d + 2, b->pcr[j], sz);
			if (++in_list == T2_DIG_MAX) {
				put_u32le(list, (uint32_t)in_list);
				buf_add(out, list, sizeof(list));
				memset(list, 0, sizeof(list));
				in_list = 0;
			}
		}
	}
	if (in_list) {
		put_u32le(list, (uint32_t)in_list);
		buf_add(out, list, sizeof(list));
	}
	return buf_error(out);
}

int attest_quote_pcrfile_read(const uint8_t *p, size_t n, struct attest_quote *q, struct arca_err *e)
{
	struct rd r = rd_make(p, n), sr;
	uint32_t nsel, nlists;
	memset(&q->pcrs, 0, sizeof(q->pcrs));
	if (rd_sub(&r, T2_SEL_SIZE, &sr) < 0 || rd_u32le(&sr, &nsel) < 0 || rd_u32le(&r, &nlists) < 0)
		return err_set(e, -EBADMSG, "PCR file: truncated");
	if (nsel > ATTEST_BANK_MAX)
		return err_set(e, -EBADMSG, "PCR file: %u banks", nsel);
	struct attest_pcrsel_entry sel[ATTEST_BANK_MAX];
	for (uint32_t i = 0; i < nsel; i++) {
		uint16_t alg;
		uint8_t sz;
		const uint8_t *bits;
		if (rd_u16le(&sr, &alg) < 0 || rd_u8(&sr, &sz) < 0 || rd_bytes(&sr, 5, &bits) < 0)
			return -EBADMSG;
		if (sz < 3 || sz > 4 || !attest_alg_size(alg) || (sz == 4 && bits[3]))
			return err_set(e, -EBADMSG, "PCR file: bad selection %u", i);
		sel[i].alg = alg;
		sel[i].mask = (uint32_t)bits[0] | (uint32_t)bits[1] << 8 | (uint32_t)bits[2] << 16;
	}
	if (nlists > ATTEST_BANK_MAX * ATTEST_PCR_COUNT / T2_DIG_MAX + 1)
		return err_set(e, -EBADMSG, "PCR file: %u digest lists", nlists);
	size_t li = 0, in_list = 0;
	uint32_t count = 0;
	struct rd lr = { 0 };
	for (uint32_t i = 0; i < nsel; i++) {
		struct attest_bank *b = attest_pcrs_bank(&q->pcrs, sel[i].alg, true);
		if (!b)
			return err_set(e, -EBADMSG, "PCR file: bank %s twice", attest_alg_name(sel[i].alg));
		size_t sz = attest_alg_size(sel[i].alg);
		for (unsigned j = 0; j < ATTEST_PCR_COUNT; j++) {
			if (!(sel[i].mask & (1u << j)))
				continue;
			if (in_list == count) {
				if (li++ == nlists || rd_sub(&r, T2_DIG_SIZE, &lr) < 0 || rd_u32le(&lr, &count) < 0 ||
				    count == 0 || count > T2_DIG_MAX)
					return err_set(e, -EBADMSG, "PCR file: fewer values than selected PCRs");
				in_list = 0;
			}
			uint16_t dsz;
			const uint8_t *d;
			if (rd_u16le(&lr, &dsz) < 0 || rd_bytes(&lr, 64, &d) < 0 || dsz != sz)
				return err_set(e, -EBADMSG, "PCR file: bad digest for %s PCR %u", attest_alg_name(b->alg), j);
			memcpy(b->pcr[j], d, sz);
			b->mask |= 1u << j;
			in_list++;
		}
	}
	if (li != nlists || in_list != count || r.left)
		return err_set(e, -EBADMSG, "PCR file: more values than selected PCRs");
	return 0;
}
