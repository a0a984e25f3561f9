/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON Web Token builtins: io.jwt.decode, io.jwt.verify_* and
 * io.jwt.decode_verify over OpenSSL. Keys are PEM certificates, PEM public
 * keys, or JWK / JWK sets; HMAC secrets are plain strings. Verification
 * results are booleans; malformed tokens are builtin errors.
 */
#include "../internal.h"

#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define A0 args[0]
#define A1 args[1]

#define JWT_MAX_KEYS 64 /* keys tried from one JWK set */

/* Raw (unpadded) base64url; -EBADMSG with *bad the offending offset. */
static int b64url_dec(const char *s, size_t n, struct buf *out, size_t *bad)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	int bits = 0;
	while (n > 0 && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		const char *c = s[i] ? memchr(al, s[i], 64) : NULL;
		if (!c) {
			*bad = i;
			return -EBADMSG;
		}
		acc = (acc << 6) | (uint32_t)(c - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addch(out, (char)((acc >> bits) & 0xff));
		}
	}
	if (n % 4 == 1) {
		*bad = n - 1;
		return -EBADMSG;
	}
	return buf_error(out);
}

struct jwt {
	const char *parts[3];
	size_t lens[3];
	struct val *header, *payload;
	struct buf sig;
	struct val *inner; /* nested token (header cty "JWT"), a string */
};

static void jwt_release(struct jwt *j)
{
	val_unref(j->inner);
	val_unref(j->header);
	val_unref(j->payload);
	buf_release(&j->sig);
}

static int jwt_parse(struct ev *ev, const char *fn, struct val *tok, struct jwt *j)
{
	memset(j, 0, sizeof(*j));
	buf_init(&j->sig);
	if (tok->kind != VAL_STRING)
		return bi_type_err(ev, fn, 1, "string", tok);
	const char *s = tok->str.s, *end = s + tok->str.len;
	size_t ndots = 0;
	for (const char *c = s; c < end; c++)
		ndots += *c == '.';
	if (ndots == 0)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: encoded JWT had no period separators", fn);
	if (ndots != 2)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: encoded JWT must have 3 sections, found %zu", fn, ndots + 1);
	const char *p = s;
	for (size_t i = 0; i < 3; i++) {
		const char *dot = i < 2 ? memchr(p, '.', (size_t)(end - p)) : end;
		j->parts[i] = p;
		j->lens[i] = (size_t)(dot - p);
		p = dot + 1;
	}
	static const char *const what[] = { "header", "payload", "signature" };
	struct val **dst[2] = { &j->header, &j->payload };
	for (int i = 0; i < 3; i++) {
		struct buf b = BUF_INIT;
		size_t bad = 0;
		if (b64url_dec(j->parts[i], j->lens[i], i == 2 ? &j->sig : &b, &bad) < 0) {
			buf_release(&b);
			return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: JWT %s had invalid encoding: illegal base64 data at input byte %zu",
					fn, what[i], bad);
		}
		if (i < 2) {
			const char *cty = i == 1 ? val_str(val_object_get_cstr(j->header, "cty")) : NULL;
			int rc = val_from_json(b.p, b.len, NULL, dst[i], NULL);
			if (cty && !strcasecmp(cty, "JWT") && (rc < 0 || (*dst[i])->kind == VAL_STRING)) {
				/* nested token: a JSON string or the raw compact form */
				j->inner = rc == 0 ? val_ref(*dst[i]) : val_string(b.p, b.len);
				buf_release(&b);
				if (!j->inner)
					return -ENOMEM;
				continue;
			}
			buf_release(&b);
			if (rc < 0 || (*dst[i])->kind != VAL_OBJECT)
				return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: JWT %s is not a JSON object", fn, what[i]);
			if (i == 0 && val_object_get_cstr(j->header, "enc"))
				return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: JWT is a JWE object, which is not supported", fn);
		}
	}
	return 0;
}

static int bi_decode(struct ev *ev, struct val **args, struct val **out)
{
	struct jwt j;
	int rc = jwt_parse(ev, "io.jwt.decode", A0, &j);
	for (unsigned depth = 0; rc == 0 && j.inner; depth++) {
		struct val *inner = val_ref(j.inner);
		jwt_release(&j);
		rc = depth < 8 ? jwt_parse(ev, "io.jwt.decode", inner, &j)
			       : ev_error(ev, -E2BIG, EC_BUILTIN, "io.jwt.decode: JWT nested too deeply");
		val_unref(inner);
	}
	if (rc < 0) {
		jwt_release(&j);
		return rc;
	}
	char *hex = malloc(2 * j.sig.len + 1);
	struct val *a = val_array_new(3);
	if (hex && a) {
		hex_encode((const uint8_t *)j.sig.p, j.sig.len, hex);
		rc = val_array_push(a, val_ref(j.header));
		if (rc == 0)
			rc = val_array_push(a, val_ref(j.payload));
		if (rc == 0)
			rc = val_array_push(a, val_string(hex, 2 * j.sig.len));
	} else {
		rc = -ENOMEM;
	}
	free(hex);
	jwt_release(&j);
	if (rc < 0) {
		val_unref(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* ------------------------------------------------------------ keys */

static BIGNUM *jwk_bn(const struct val *k, const char *name)
{
	const char *s = val_str(val_object_get_cstr(k, name));
	struct buf b = BUF_INIT;
	size_t bad;
	if (!s || b64url_dec(s, strlen(s), &b, &bad) < 0) {
		buf_release(&b);
		return NULL;
	}
	BIGNUM *bn = BN_bin2bn((const unsigned char *)b.p, (int)b.len, NULL);
	buf_release(&b);
	return bn;
}

static EVP_PKEY *jwk_key(const struct val *k)
{
	const char *kty = val_str(val_object_get_cstr(k, "kty"));
	EVP_PKEY *pk = NULL;
	if (!kty)
		return NULL;
	if (!strcmp(kty, "RSA")) {
		BIGNUM *n = jwk_bn(k, "n"), *e = jwk_bn(k, "e");
		OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
		OSSL_PARAM *params = NULL;
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		if (n && e && bld && ctx && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) && (params = OSSL_PARAM_BLD_to_param(bld)) &&
		    EVP_PKEY_fromdata_init(ctx) > 0)
			EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params);
		OSSL_PARAM_free(params);
		OSSL_PARAM_BLD_free(bld);
		EVP_PKEY_CTX_free(ctx);
		BN_free(n);
		BN_free(e);
	} else if (!strcmp(kty, "EC")) {
		const char *crv = val_str(val_object_get_cstr(k, "crv"));
		const char *grp = !crv ? NULL : !strcmp(crv, "P-256") ? "prime256v1" : !strcmp(crv, "P-384") ? "secp384r1"
							 : !strcmp(crv, "P-521") ? "secp521r1" : NULL;
		size_t cl = !crv ? 0 : !strcmp(crv, "P-256") ? 32 : !strcmp(crv, "P-384") ? 48 : 66;
		BIGNUM *x = jwk_bn(k, "x"), *y = jwk_bn(k, "y");
		unsigned char pt[1 + 2 * 66];
		OSSL_PARAM params[3];
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		if (grp && x && y && ctx && BN_bn2binpad(x, pt + 1, (int)cl) > 0 && BN_bn2binpad(y, pt + 1 + cl, (int)cl) > 0) {
			pt[0] = 4;
			params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)grp, 0);
			params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * cl);
			params[2] = OSSL_PARAM_construct_end();
			if (EVP_PKEY_fromdata_init(ctx) > 0)
				EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params);
		}
		EVP_PKEY_CTX_free(ctx);
		BN_free(x);
		BN_free(y);
	} else if (!strcmp(kty, "OKP")) {
		const char *xs = val_str(val_object_get_cstr(k, "x"));
		struct buf b = BUF_INIT;
		size_t bad;
		if (xs && b64url_dec(xs, strlen(xs), &b, &bad) == 0)
			pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, (const unsigned char *)b.p, b.len);
		buf_release(&b);
	}
	return pk;
}

/* Parses @key (PEM certificate/public key or JWK[S]) into up to @max keys. */
static int load_keys(struct ev *ev, const char *fn, const struct val *key, EVP_PKEY **keys, size_t max, size_t *n)
{
	*n = 0;
	const char *s = key->str.s;
	if (strstr(s, "-----BEGIN CERTIFICATE-----")) {
		BIO *bio = BIO_new_mem_buf(s, (int)key->str.len);
		X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		if (!x) {
			BIO_free(bio);
			return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: failed to parse a PEM certificate", fn);
		}
		/* trailing non-space data after the block */
		char rest[64];
		int rn = BIO_read(bio, rest, sizeof(rest) - 1);
		BIO_free(bio);
		if (rn > 0) {
			bool junk = false;
			for (int i = 0; i < rn; i++)
				if (rest[i] != '\n' && rest[i] != '\r' && rest[i] != ' ' && rest[i] != '\t')
					junk = true;
			if (junk) {
				X509_free(x);
				return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: extra data after a PEM certificate block", fn);
			}
		}
		keys[0] = X509_get_pubkey(x);
		X509_free(x);
		if (!keys[0])
			return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: failed to extract a Key from the PEM certificate", fn);
		*n = 1;
		return 0;
	}
	if (strstr(s, "-----BEGIN")) {
		/* OPA decodes the block and knows two types: any other block
		 * (-----BEGIN CERT-----, a private key) names no key */
		if (!strstr(s, "-----BEGIN PUBLIC KEY-----"))
			return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: failed to extract a Key from the PEM certificate", fn);
		BIO *bio = BIO_new_mem_buf(s, (int)key->str.len);
		keys[0] = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		if (!keys[0])
			return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: failed to parse a PEM public key", fn);
		*n = 1;
		return 0;
	}
	struct val *j = NULL;
	if (val_from_json(s, key->str.len, NULL, &j, NULL) < 0 || j->kind != VAL_OBJECT) {
		val_unref(j);
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: failed to parse a JWK key (set)", fn);
	}
	struct val *set = val_object_get_cstr(j, "keys");
	if (set && set->kind == VAL_ARRAY) {
		for (size_t i = 0; i < set->arr.n && *n < max; i++) {
			EVP_PKEY *k = jwk_key(set->arr.items[i]);
			if (k)
				keys[(*n)++] = k;
		}
	} else {
		EVP_PKEY *k = jwk_key(j);
		if (k)
			keys[(*n)++] = k;
	}
	val_unref(j);
	if (*n == 0)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: failed to parse a JWK key (set)", fn);
	return 0;
}

/* ------------------------------------------------------------ verify */

static const EVP_MD *alg_md(const char *alg)
{
	const char *bits = alg + 2;
	if (!strcmp(bits, "256"))
		return EVP_sha256();
	if (!strcmp(bits, "384"))
		return EVP_sha384();
	if (!strcmp(bits, "512"))
		return EVP_sha512();
	return NULL;
}

/* Signature check of header.payload with one key; alg like "RS256". */
static bool verify_with(const struct jwt *j, const char *alg, EVP_PKEY *pk)
{
	size_t mlen = j->lens[0] + 1 + j->lens[1];
	const unsigned char *msg = (const unsigned char *)j->parts[0];
	const unsigned char *sig = (const unsigned char *)j->sig.p;
	size_t slen = j->sig.len;
	bool ok = false;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	if (!ctx)
		return false;
	if (!strcmp(alg, "EdDSA")) {
		ok = EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519 && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
		     EVP_DigestVerify(ctx, sig, slen, msg, mlen) == 1;
		EVP_MD_CTX_free(ctx);
		return ok;
	}
	const EVP_MD *md = strlen(alg) == 5 ? alg_md(alg) : NULL;
	if (!md) {
		EVP_MD_CTX_free(ctx);
		return false;
	}
	unsigned char der[160];
	if (alg[0] == 'E') {
		if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC || slen % 2 || slen > 132)
			goto out;
		/* JWS carries r||s; OpenSSL wants DER */
		ECDSA_SIG *es = ECDSA_SIG_new();
		BIGNUM *r = BN_bin2bn(sig, (int)(slen / 2), NULL), *s = BN_bin2bn(sig + slen / 2, (int)(slen / 2), NULL);
		if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
			BN_free(r);
			BN_free(s);
			ECDSA_SIG_free(es);
			goto out;
		}
		unsigned char *p = der;
		int dl = i2d_ECDSA_SIG(es, NULL);
		if (dl <= 0 || dl > (int)sizeof(der)) {
			ECDSA_SIG_free(es);
			goto out;
		}
		i2d_ECDSA_SIG(es, &p);
		ECDSA_SIG_free(es);
		sig = der;
		slen = (size_t)dl;
	} else if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pk) != 1)
		goto out;
	if (alg[0] == 'P' && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
			      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto out;
	ok = EVP_DigestVerify(ctx, sig, slen, msg, mlen) == 1;
out:
	EVP_MD_CTX_free(ctx);
	return ok;
}

static bool verify_hmac(const struct jwt *j, const char *alg, const struct val *secret)
{
	const EVP_MD *md = strlen(alg) == 5 ? alg_md(alg) : NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned ml = 0;
	if (!md || secret->str.len > INT32_MAX ||
	    !HMAC(md, secret->str.s, (int)secret->str.len, (const unsigned char *)j->parts[0], j->lens[0] + 1 + j->lens[1],
		  mac, &ml))
		return false;
	return ml == j->sig.len && ct_memeq(mac, j->sig.p, ml);
}

static int verify_key(struct ev *ev, const char *fn, const struct jwt *j, const char *alg, const struct val *key, bool *ok)
{
	EVP_PKEY *keys[JWT_MAX_KEYS];
	size_t n = 0;
	*ok = false;
	int rc = load_keys(ev, fn, key, keys, JWT_MAX_KEYS, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!*ok)
			*ok = verify_with(j, alg, keys[i]);
		EVP_PKEY_free(keys[i]);
	}
	return 0;
}

static int verify(struct ev *ev, const char *fn, const char *alg, struct val **args, struct val **out)
{
	struct jwt j;
	if (A1->kind != VAL_STRING)
		return bi_type_err(ev, fn, 2, "string", A1);
	int rc = jwt_parse(ev, fn, A0, &j);
	bool ok = false;
	if (rc == 0) {
		if (alg[0] == 'H')
			ok = verify_hmac(&j, alg, A1);
		else
			rc = verify_key(ev, fn, &j, alg, A1, &ok);
	}
	jwt_release(&j);
	if (rc < 0)
		return rc;
	*out = val_bool(ok);
	return 0;
}

#define VERIFY(name, alg)                                                                                  \
	static int bi_verify_##name(struct ev *ev, struct val **args, struct val **out)                      \
	{                                                                                                    \
		return verify(ev, "io.jwt.verify_" #name, alg, args, out);                                       \
	}
VERIFY(hs256, "HS256")
VERIFY(hs384, "HS384")
VERIFY(hs512, "HS512")
VERIFY(rs256, "RS256")
VERIFY(rs384, "RS384")
VERIFY(rs512, "RS512")
VERIFY(ps256, "PS256")
VERIFY(ps384, "PS384")
VERIFY(ps512, "PS512")
VERIFY(es256, "ES256")
VERIFY(es384, "ES384")
VERIFY(es512, "ES512")
VERIFY(eddsa, "EdDSA")

/* io.jwt.decode_verify(token, constraints) -> [valid, header, payload] */
static int bi_decode_verify(struct ev *ev, struct val **args, struct val **out)
{
	static const char *const fn = "io.jwt.decode_verify";
	if (A1->kind != VAL_OBJECT)
		return bi_type_err(ev, fn, 2, "object", A1);
	struct jwt j;
	int rc = jwt_parse(ev, fn, A0, &j);
	bool ok = false;
	if (rc < 0) {
		jwt_release(&j);
		return rc;
	}
	struct val *cert = val_object_get_cstr(A1, "cert"), *secret = val_object_get_cstr(A1, "secret");
	const char *want_alg = val_str(val_object_get_cstr(A1, "alg"));
	for (size_t i = 0; i < A1->obj.n; i++) {
		const char *k = val_str(A1->obj.keys[i]);
		if (!k || (strcmp(k, "cert") && strcmp(k, "secret") && strcmp(k, "alg") && strcmp(k, "iss") &&
			   strcmp(k, "aud") && strcmp(k, "time"))) {
			jwt_release(&j);
			return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: unknown token validation constraint: %s", fn, k ? k : "?");
		}
	}
	bool verified_outer = false;
	for (unsigned depth = 0; rc == 0; depth++) {
		const char *alg = val_str(val_object_get_cstr(j.header, "alg"));
		struct val *crit = val_object_get_cstr(j.header, "crit");
		ok = false;
		if (verified_outer) {
			ok = true;
		} else if (!alg || (want_alg && strcmp(alg, want_alg) != 0) || (crit && !(crit->kind == VAL_ARRAY && crit->arr.n == 0))) {
			ok = false; /* unknown critical header parameters are never understood */
		} else if (alg[0] == 'H') {
			ok = secret && secret->kind == VAL_STRING && verify_hmac(&j, alg, secret);
		} else if (cert && cert->kind == VAL_STRING) {
			rc = verify_key(ev, fn, &j, alg, cert, &ok);
		}
		if (rc < 0 || !ok || !j.inner)
			break;
		/* the outer signature covers the nested token; inner levels are
		 * decoded, not re-verified (as OPA) */
		want_alg = NULL;
		secret = cert = NULL;
		verified_outer = true;
		if (depth >= 8) {
			ok = false;
			break;
		}
		struct val *inner = val_ref(j.inner);
		jwt_release(&j);
		rc = jwt_parse(ev, fn, inner, &j);
		val_unref(inner);
	}
	if (rc == 0 && ok) {
		/* registered claims */
		int64_t now = ev_now_ns(ev);
		struct val *t = val_object_get_cstr(A1, "time");
		if (t && t->kind == VAL_NUMBER)
			now = t->is_int ? t->i : (int64_t)num_d(t);
		double nows = (double)now / 1e9;
		struct val *exp = val_object_get_cstr(j.payload, "exp"), *nbf = val_object_get_cstr(j.payload, "nbf");
		if (exp && exp->kind != VAL_NUMBER)
			rc = ev_error(ev, -EINVAL, EC_BUILTIN, "%s: exp value must be a number", fn);
		else if (nbf && nbf->kind != VAL_NUMBER)
			rc = ev_error(ev, -EINVAL, EC_BUILTIN, "%s: nbf value must be a number", fn);
		else if ((exp && nows >= num_d(exp)) || (nbf && nows < num_d(nbf)))
			ok = false;
		struct val *iss = val_object_get_cstr(A1, "iss");
		if (ok && iss) {
			struct val *ti = val_object_get_cstr(j.payload, "iss");
			ok = ti && val_equal(ti, iss);
		}
		struct val *aud = val_object_get_cstr(A1, "aud"), *ta = val_object_get_cstr(j.payload, "aud");
		if (ok && aud) {
			if (!ta)
				ok = false;
			else if (ta->kind == VAL_STRING)
				ok = val_equal(ta, aud);
			else if (ta->kind == VAL_ARRAY) {
				bool hit = false;
				for (size_t i = 0; i < ta->arr.n; i++)
					hit = hit || val_equal(ta->arr.items[i], aud);
				ok = hit;
			} else
				ok = false;
		} else if (ok && ta) {
			ok = false; /* token names an audience the caller did not ask for */
		}
	}
	if (rc < 0) {
		jwt_release(&j);
		return rc;
	}
	struct val *a = val_array_new(3);
	if (a && (val_array_push(a, val_bool(ok)) < 0 ||
		  val_array_push(a, ok ? val_ref(j.header) : val_object_new(0)) < 0 ||
		  val_array_push(a, ok ? val_ref(j.payload) : val_object_new(0)) < 0)) {
		val_unref(a);
		a = NULL;
	}
	jwt_release(&j);
	*out = a;
	return a ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------ signing */

static void b64url_enc(struct buf *b, const unsigned char *p, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		buf_addch(b, al[(v >> 18) & 63]);
		buf_addch(b, al[(v >> 12) & 63]);
		if (i + 1 < n)
			buf_addch(b, al[(v >> 6) & 63]);
		if (i + 2 < n)
			buf_addch(b, al[v & 63]);
	}
}

static EVP_PKEY *jwk_private(const struct val *k)
{
	const char *kty = val_str(val_object_get_cstr(k, "kty"));
	EVP_PKEY *pk = NULL;
	if (!kty)
		return NULL;
	if (!strcmp(kty, "RSA")) {
		static const char *const names[] = { "n", "e", "d", "p", "q", "dp", "dq", "qi" };
		static const char *const params[] = { OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
						      OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
						      OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
						      OSSL_PKEY_PARAM_RSA_COEFFICIENT1 };
		BIGNUM *bn[8] = { 0 };
		OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
		OSSL_PARAM *ps = NULL;
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		bool ok = bld && ctx;
		for (int i = 0; i < 8 && ok; i++) {
			bn[i] = jwk_bn(k, names[i]);
			if (bn[i])
				ok = OSSL_PARAM_BLD_push_BN(bld, params[i], bn[i]) == 1;
			else if (i < 3)
				ok = false;
		}
		if (ok && (ps = OSSL_PARAM_BLD_to_param(bld)) && EVP_PKEY_fromdata_init(ctx) > 0)
			EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, ps);
		OSSL_PARAM_free(ps);
		OSSL_PARAM_BLD_free(bld);
		EVP_PKEY_CTX_free(ctx);
		for (int i = 0; i < 8; i++)
			BN_clear_free(bn[i]);
	} else if (!strcmp(kty, "EC")) {
		const char *crv = val_str(val_object_get_cstr(k, "crv"));
		const char *grp = !crv ? NULL : !strcmp(crv, "P-256") ? "prime256v1" : !strcmp(crv, "P-384") ? "secp384r1"
							 : !strcmp(crv, "P-521") ? "secp521r1" : NULL;
		size_t cl = !crv ? 0 : !strcmp(crv, "P-256") ? 32 : !strcmp(crv, "P-384") ? 48 : 66;
		BIGNUM *x = jwk_bn(k, "x"), *y = jwk_bn(k, "y"), *d = jwk_bn(k, "d");
		unsigned char pt[1 + 2 * 66];
		OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
		OSSL_PARAM *ps = NULL;
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		if (grp && x && y && d && bld && ctx && BN_bn2binpad(x, pt + 1, (int)cl) > 0 && BN_bn2binpad(y, pt + 1 + cl, (int)cl) > 0) {
			pt[0] = 4;
			if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, grp, 0) &&
			    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * cl) &&
			    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) && (ps = OSSL_PARAM_BLD_to_param(bld)) &&
			    EVP_PKEY_fromdata_init(ctx) > 0)
				EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, ps);
		}
		OSSL_PARAM_free(ps);
		OSSL_PARAM_BLD_free(bld);
		EVP_PKEY_CTX_free(ctx);
		BN_free(x);
		BN_free(y);
		BN_clear_free(d);
	} else if (!strcmp(kty, "OKP")) {
		const char *ds = val_str(val_object_get_cstr(k, "d"));
		struct buf b = BUF_INIT;
		size_t bad;
		if (ds && b64url_dec(ds, strlen(ds), &b, &bad) == 0)
			pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, (const unsigned char *)b.p, b.len);
		secure_wipe(b.p, b.len);
		buf_release(&b);
	}
	return pk;
}

/* Signs @msg with @alg and the JWK @key; appends base64url(signature). */
static int jws_sign(struct ev *ev, const char *fn, const char *alg, const struct val *key, const struct buf *msg, struct buf *out)
{
	unsigned char sig[1024];
	size_t sl = sizeof(sig);
	bool ok = false;
	if (alg[0] == 'H' && strlen(alg) == 5 && alg_md(alg)) {
		const char *ks = val_str(val_object_get_cstr(key, "k"));
		struct buf kb = BUF_INIT;
		size_t bad;
		unsigned ml = 0;
		if (ks && b64url_dec(ks, strlen(ks), &kb, &bad) == 0 && kb.len <= INT32_MAX)
			ok = HMAC(alg_md(alg), kb.p, (int)kb.len, (const unsigned char *)msg->p, msg->len, sig, &ml) != NULL;
		sl = ml;
		secure_wipe(kb.p, kb.len);
		buf_release(&kb);
	} else {
		EVP_PKEY *pk = jwk_private(key);
		const EVP_MD *md = strcmp(alg, "EdDSA") == 0 ? NULL : strlen(alg) == 5 ? alg_md(alg) : NULL;
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pctx = NULL;
		if (pk && ctx && (md || !strcmp(alg, "EdDSA")) && EVP_DigestSignInit(ctx, &pctx, md, NULL, pk) == 1 &&
		    (alg[0] != 'P' || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
				       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1)))
			ok = EVP_DigestSign(ctx, sig, &sl, (const unsigned char *)msg->p, msg->len) == 1;
		if (ok && alg[0] == 'E' && strcmp(alg, "EdDSA") != 0) {
			/* DER -> r||s with each half padded to the curve size */
			const unsigned char *p = sig;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sl);
			int bits = EVP_PKEY_get_bits(pk);
			size_t half = (size_t)(bits + 7) / 8;
			const BIGNUM *r, *s2;
			ok = es != NULL && half <= sizeof(sig) / 2;
			if (ok) {
				ECDSA_SIG_get0(es, &r, &s2);
				ok = BN_bn2binpad(r, sig, (int)half) > 0 && BN_bn2binpad(s2, sig + half, (int)half) > 0;
				sl = 2 * half;
			}
			ECDSA_SIG_free(es);
		}
		EVP_MD_CTX_free(ctx);
		EVP_PKEY_free(pk);
	}
	if (!ok)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: failed to sign with the given key", fn);
	b64url_enc(out, sig, sl);
	return 0;
}

static int encode_raw(struct ev *ev, const char *fn, const char *hdr, size_t hl, const char *pl, size_t pn,
		      const struct val *key, struct val **out)
{
	struct val *h = NULL;
	if (hl == 0)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: missing or invalid 'alg' header: cannot parse JSON: cannot parse empty string", fn);
	if (val_from_json(hdr, hl, NULL, &h, NULL) < 0 || h->kind != VAL_OBJECT) {
		/* OPA reports a broken object as such; any other header (not
		 * an object at all) simply has no "alg" */
		bool broken = !h && memchr(hdr, '{', hl);
		val_unref(h);
		if (broken)
			return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: missing or invalid 'alg' header: cannot parse JSON", fn);
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: missing or invalid 'alg' header: jwsbb: header \"alg\" not found", fn);
	}
	const char *alg = val_str(val_object_get_cstr(h, "alg"));
	const char *typ = val_str(val_object_get_cstr(h, "typ"));
	int rc = 0;
	if (!alg)
		rc = ev_error(ev, -EINVAL, EC_BUILTIN, "%s: missing or invalid 'alg' header: jwsbb: header \"alg\" not found", fn);
	else if (strcmp(alg, "EdDSA") && !(strlen(alg) == 5 && strchr("HRPE", alg[0]) && alg_md(alg)))
		rc = ev_error(ev, -EINVAL, EC_BUILTIN, "%s: unknown JWS algorithm: %s", fn, alg);
	if (rc == 0 && typ && !strcmp(typ, "JWT")) {
		struct val *pv = NULL;
		if (val_from_json(pl, pn, NULL, &pv, NULL) < 0 || pv->kind != VAL_OBJECT)
			rc = ev_error(ev, -EINVAL, EC_BUILTIN, "%s: type is JWT but payload is not JSON", fn);
		val_unref(pv);
	}
	struct buf t = BUF_INIT;
	if (rc == 0) {
		b64url_enc(&t, (const unsigned char *)hdr, hl);
		buf_addch(&t, '.');
		b64url_enc(&t, (const unsigned char *)pl, pn);
		struct buf msg = BUF_INIT;
		buf_add(&msg, t.p, t.len);
		buf_addch(&t, '.');
		rc = buf_error(&msg) ? -ENOMEM : jws_sign(ev, fn, alg, key, &msg, &t);
		buf_release(&msg);
	}
	val_unref(h);
	if (rc == 0)
		*out = buf_error(&t) ? NULL : val_string(t.p, t.len);
	buf_release(&t);
	return rc < 0 ? rc : (*out ? 0 : -ENOMEM);
}

static int bi_encode_sign_raw(struct ev *ev, struct val **args, struct val **out)
{
	static const char *const fn = "io.jwt.encode_sign_raw";
	for (int i = 0; i < 3; i++)
		if (args[i]->kind != VAL_STRING)
			return bi_type_err(ev, fn, i + 1, "string", args[i]);
	struct val *key = NULL;
	if (val_from_json(args[2]->str.s, args[2]->str.len, NULL, &key, NULL) < 0 || key->kind != VAL_OBJECT) {
		val_unref(key);
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: failed to parse a JWK key (set)", fn);
	}
	int rc = encode_raw(ev, fn, A0->str.s, A0->str.len, A1->str.s, A1->str.len, key, out);
	val_unref(key);
	return rc;
}

static int bi_encode_sign(struct ev *ev, struct val **args, struct val **out)
{
	static const char *const fn = "io.jwt.encode_sign";
	for (int i = 0; i < 3; i++)
		if (args[i]->kind != VAL_OBJECT)
			return bi_type_err(ev, fn, i + 1, "object", args[i]);
	struct buf h = BUF_INIT, p = BUF_INIT;
	val_to_json(A0, &h, 0);
	val_to_json(A1, &p, 0);
	int rc = buf_error(&h) || buf_error(&p) ? -ENOMEM : encode_raw(ev, fn, h.p, h.len, p.p, p.len, args[2], out);
	buf_release(&h);
	buf_release(&p);
	return rc;
}

const struct builtin_decl rego_builtins_jwt[] = {
	{ "io.jwt.encode_sign", 3, bi_encode_sign, "signed JWT from header, payload and JWK" },
	{ "io.jwt.encode_sign_raw", 3, bi_encode_sign_raw, "signed JWT from raw JSON texts and JWK" },
	{ "io.jwt.decode", 1, bi_decode, "[header, payload, signature hex]" },
	{ "io.jwt.decode_verify", 2, bi_decode_verify, "[valid, header, payload] under constraints" },
	{ "io.jwt.verify_hs256", 2, bi_verify_hs256, "HMAC-SHA256 signature" },
	{ "io.jwt.verify_hs384", 2, bi_verify_hs384, "HMAC-SHA384 signature" },
	{ "io.jwt.verify_hs512", 2, bi_verify_hs512, "HMAC-SHA512 signature" },
	{ "io.jwt.verify_rs256", 2, bi_verify_rs256, "RSA PKCS#1 v1.5 SHA-256" },
	{ "io.jwt.verify_rs384", 2, bi_verify_rs384, "RSA PKCS#1 v1.5 SHA-384" },
	{ "io.jwt.verify_rs512", 2, bi_verify_rs512, "RSA PKCS#1 v1.5 SHA-512" },
	{ "io.jwt.verify_ps256", 2, bi_verify_ps256, "RSA-PSS SHA-256" },
	{ "io.jwt.verify_ps384", 2, bi_verify_ps384, "RSA-PSS SHA-384" },
	{ "io.jwt.verify_ps512", 2, bi_verify_ps512, "RSA-PSS SHA-512" },
	{ "io.jwt.verify_es256", 2, bi_verify_es256, "ECDSA P-256 SHA-256" },
	{ "io.jwt.verify_es384", 2, bi_verify_es384, "ECDSA P-384 SHA-384" },
	{ "io.jwt.verify_es512", 2, bi_verify_es512, "ECDSA P-521 SHA-512" },
	{ "io.jwt.verify_eddsa", 2, bi_verify_eddsa, "Ed25519" },
	{ NULL, 0, NULL, NULL },
};
