/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto.x509.parse_certificates, parse_and_verify_certificates,
 * parse_keypair and crypto.parse_private_keys over OpenSSL. The output mirrors the commonly used fields of Go's
 * x509.Certificate as OPA serialises it (Subject/Issuer names, validity,
 * SANs, CA flags, serial number); not every Go field is reproduced.
 */
#include "../internal.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define A0 args[0]

#include <arpa/inet.h>

static bool inet_ntop_ok(const unsigned char *ip, char *b, size_t n, int v)
{
	return inet_ntop(v == 4 ? AF_INET : AF_INET6, ip, b, (socklen_t)n) != NULL;
}

#define X509_MAX_CERTS 64 /* certificates in one input */

static int b64_std_dec(const char *s, size_t n, struct buf *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	int bits = 0;
	size_t chars = 0;
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	/* Go's StdEncoding is strict: whole quanta of four, '=' padding only */
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\n' && s[i] != '\r')
			chars++;
	if (chars % 4 != 0)
		return -EBADMSG;
	while (n > 0 && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '\r')
			continue;
		const char *c = s[i] ? memchr(al, s[i], 64) : NULL;
		if (!c)
			return -EBADMSG;
		acc = (acc << 6) | (uint32_t)(c - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addch(out, (char)((acc >> bits) & 0xff));
		}
	}
	return buf_error(out);
}

/* Certificates from PEM text, base64(PEM), or base64(DER chain). */
static int load_certs(struct ev *ev, const char *fn, const struct val *in, X509 **certs, size_t *n)
{
	struct buf raw = BUF_INIT;
	const char *p = in->str.s;
	size_t len = in->str.len;
	*n = 0;
	if (!memmem(p, len, "-----BEGIN", 10)) {
		if (b64_std_dec(p, len, &raw) < 0) {
			buf_release(&raw);
			return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: illegal base64 data at input byte 0", fn);
		}
		p = raw.p;
		len = raw.len;
	}
	int rc = 0;
	if (memmem(p, len, "-----BEGIN", 10)) {
		BIO *bio = BIO_new_mem_buf(p, (int)len);
		X509 *x;
		while (bio && *n < X509_MAX_CERTS && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
			certs[(*n)++] = x;
		BIO_free(bio);
	} else {
		const unsigned char *q = (const unsigned char *)p, *end = q + len;
		while (q < end && *n < X509_MAX_CERTS) {
			X509 *x = d2i_X509(NULL, &q, (long)(end - q));
			if (!x) {
				rc = -EBADMSG;
				break;
			}
			certs[(*n)++] = x;
		}
	}
	buf_release(&raw);
	if (rc < 0 || *n == 0) {
		for (size_t i = 0; i < *n; i++)
			X509_free(certs[i]);
		*n = 0;
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: x509: malformed certificate", fn);
	}
	return 0;
}

static int put_str(struct val *o, const char *k, const char *s, size_t n)
{
	return val_object_put_cstr(o, k, val_string(s, n));
}

static struct val *name_obj(X509_NAME *nm)
{
	static const struct {
		int nid;
		const char *key;
		bool list;
	} f[] = {
		{ NID_commonName, "CommonName", false },        { NID_serialNumber, "SerialNumber", false },
		{ NID_countryName, "Country", true },           { NID_organizationName, "Organization", true },
		{ NID_organizationalUnitName, "OrganizationalUnit", true }, { NID_localityName, "Locality", true },
		{ NID_stateOrProvinceName, "Province", true },  { NID_streetAddress, "StreetAddress", true },
		{ NID_postalCode, "PostalCode", true },
	};
	struct val *o = val_object_new(8);
	/* Go's pkix.Name always has these string fields */
	if (o && (put_str(o, "CommonName", "", 0) < 0 || put_str(o, "SerialNumber", "", 0) < 0)) {
		val_unref(o);
		return NULL;
	}
	for (size_t i = 0; o && i < ARRAY_SIZE(f); i++) {
		struct val *lst = f[i].list ? val_array_new(1) : NULL;
		int idx = -1;
		while ((idx = X509_NAME_get_index_by_NID(nm, f[i].nid, idx)) >= 0) {
			ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, idx));
			unsigned char *u = NULL;
			int ul = ASN1_STRING_to_UTF8(&u, d);
			if (ul < 0)
				continue;
			if (f[i].list)
				val_array_push(lst, val_string((const char *)u, (size_t)ul));
			else
				put_str(o, f[i].key, (const char *)u, (size_t)ul);
			OPENSSL_free(u);
		}
		if (lst && lst->arr.n)
			val_object_put_cstr(o, f[i].key, lst);
		else
			val_unref(lst);
	}
	return o;
}

static struct val *time_str(const ASN1_TIME *t)
{
	struct tm tm;
	char b[64];
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return val_cstr("");
	snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	return val_cstr(b);
}

static struct val *cert_obj(X509 *x)
{
	struct val *o = val_object_new(16);
	if (!o)
		return NULL;
	val_object_put_cstr(o, "Subject", name_obj(X509_get_subject_name(x)));
	val_object_put_cstr(o, "Issuer", name_obj(X509_get_issuer_name(x)));
	val_object_put_cstr(o, "NotBefore", time_str(X509_get0_notBefore(x)));
	val_object_put_cstr(o, "NotAfter", time_str(X509_get0_notAfter(x)));
	val_object_put_cstr(o, "Version", val_int(X509_get_version(x) + 1));
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *dec = bn ? BN_bn2dec(bn) : NULL;
	if (dec)
		val_object_put_cstr(o, "SerialNumber", val_number_text(dec, strlen(dec)));
	OPENSSL_free(dec);
	BN_free(bn);
	struct val *dns = val_array_new(2), *emails = val_array_new(0), *ips = val_array_new(0), *uris = val_array_new(0);
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		const ASN1_STRING *s = NULL;
		struct val *dst = NULL;
		if (g->type == GEN_DNS) {
			s = g->d.dNSName;
			dst = dns;
		} else if (g->type == GEN_EMAIL) {
			s = g->d.rfc822Name;
			dst = emails;
		} else if (g->type == GEN_URI) {
			s = g->d.uniformResourceIdentifier;
			dst = uris;
		} else if (g->type == GEN_IPADD) {
			char b[64];
			const unsigned char *ip = ASN1_STRING_get0_data(g->d.iPAddress);
			int l = ASN1_STRING_length(g->d.iPAddress);
			if (l == 4 && inet_ntop_ok(ip, b, sizeof(b), 4))
				val_array_push(ips, val_cstr(b));
			else if (l == 16 && inet_ntop_ok(ip, b, sizeof(b), 6))
				val_array_push(ips, val_cstr(b));
			continue;
		}
		if (s && dst)
			val_array_push(dst, val_string((const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s)));
	}
	GENERAL_NAMES_free(sans);
	struct { const char *k; struct val *v; } lists[] = { { "DNSNames", dns }, { "EmailAddresses", emails },
							     { "IPAddresses", ips }, { "URIStrings", uris } };
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		/* Go serialises empty (nil) slices as null */
		if (lists[i].v && lists[i].v->arr.n) {
			val_object_put_cstr(o, lists[i].k, lists[i].v);
		} else {
			val_unref(lists[i].v);
			val_object_put_cstr(o, lists[i].k, val_null());
		}
	}
	uint32_t exf = X509_get_extension_flags(x);
	val_object_put_cstr(o, "IsCA", val_bool((exf & EXFLAG_CA) != 0));
	val_object_put_cstr(o, "BasicConstraintsValid", val_bool((exf & EXFLAG_BCONS) != 0));
	long pl = X509_get_pathlen(x);
	val_object_put_cstr(o, "MaxPathLen", val_int(pl >= 0 ? pl : -1));
	if (exf & EXFLAG_KUSAGE)
		val_object_put_cstr(o, "KeyUsage", val_int((int64_t)X509_get_key_usage(x)));
	unsigned char *der = NULL;
	int dl = i2d_X509(x, &der);
	if (dl > 0) {
		struct buf b = BUF_INIT;
		static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		for (int i = 0; i < dl; i += 3) {
			uint32_t v = (uint32_t)der[i] << 16 | (i + 1 < dl ? (uint32_t)der[i + 1] << 8 : 0) | (i + 2 < dl ? der[i + 2] : 0);
			buf_addch(&b, al[(v >> 18) & 63]);
			buf_addch(&b, al[(v >> 12) & 63]);
			buf_addch(&b, i + 1 < dl ? al[(v >> 6) & 63] : '=');
			buf_addch(&b, i + 2 < dl ? al[v & 63] : '=');
		}
		if (!buf_error(&b))
			put_str(o, "Raw", b.p, b.len);
		buf_release(&b);
	}
	OPENSSL_free(der);
	return o;
}

static int certs_array(X509 **certs, size_t n, struct val **out)
{
	struct val *a = val_array_new(n);
	for (size_t i = 0; a && i < n; i++)
		if (val_array_push(a, cert_obj(certs[i])) < 0) {
			val_unref(a);
			a = NULL;
		}
	*out = a;
	return a ? 0 : -ENOMEM;
}

static int bi_parse_certificates(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "crypto.x509.parse_certificates", 1, "string", A0);
	X509 *certs[X509_MAX_CERTS];
	size_t n;
	int rc = load_certs(ev, "crypto.x509.parse_certificates", A0, certs, &n);
	if (rc < 0)
		return rc;
	rc = certs_array(certs, n, out);
	for (size_t i = 0; i < n; i++)
		X509_free(certs[i]);
	return rc;
}

/* [valid, certs]: the first certificate is the root, the last the leaf,
 * everything between intermediates (OPA's order). */
static int bi_parse_and_verify(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "crypto.x509.parse_and_verify_certificates", 1, "string", A0);
	X509 *certs[X509_MAX_CERTS];
	size_t n = 0;
	struct arca_err scratch = { 0 };
	struct arca_err *saved = ev->err;
	const char *saved_code = ev->ecode;
	ev->err = &scratch;
	int rc = load_certs(ev, "crypto.x509.parse_and_verify_certificates", A0, certs, &n);
	ev->err = saved;
	ev->ecode = saved_code;
	bool ok = false;
	struct val *arr = NULL;
	if (rc == 0 && n >= 2) {
		X509_STORE *st = X509_STORE_new();
		STACK_OF(X509) *inter = sk_X509_new_null();
		X509_STORE_CTX *ctx = X509_STORE_CTX_new();
		if (st && inter && ctx) {
			X509_STORE_add_cert(st, certs[0]);
			for (size_t i = 1; i + 1 < n; i++)
				sk_X509_push(inter, certs[i]);
			if (X509_STORE_CTX_init(ctx, st, certs[n - 1], inter) == 1) {
				X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
				X509_VERIFY_PARAM_set_time(vp, (time_t)(ev_now_ns(ev) / 1000000000));
				ok = X509_verify_cert(ctx) == 1;
			}
		}
		X509_STORE_CTX_free(ctx);
		sk_X509_free(inter);
		X509_STORE_free(st);
	}
	if (ok) {
		/* report leaf first, as Go's verified chain */
		X509 *rev[X509_MAX_CERTS];
		for (size_t i = 0; i < n; i++)
			rev[i] = certs[n - 1 - i];
		rc = certs_array(rev, n, &arr);
	}
	for (size_t i = 0; i < n; i++)
		X509_free(certs[i]);
	if (rc == -ENOMEM)
		return rc;
	struct val *res = val_array_new(2);
	if (!res || val_array_push(res, val_bool(ok)) < 0 ||
	    val_array_push(res, arr ? arr : val_array_new(0)) < 0) {
		val_unref(res);
		return -ENOMEM;
	}
	*out = res;
	return 0;
}

/* PEM text or base64(PEM)/base64(DER) into raw bytes for the readers below. */
static int pem_or_b64(const struct val *in, struct buf *out, bool *is_pem)
{
	*is_pem = memmem(in->str.s, in->str.len, "-----BEGIN", 10) != NULL;
	if (*is_pem) {
		buf_add(out, in->str.s, in->str.len);
		return buf_error(out);
	}
	int rc = b64_std_dec(in->str.s, in->str.len, out);
	if (rc < 0)
		return rc;
	if (memmem(out->p, out->len, "-----BEGIN", 10))
		*is_pem = true;
	return rc;
}

static int bi_parse_csr(struct ev *ev, struct val **args, struct val **out)
{
	static const char *const fn = "crypto.x509.parse_certificate_request";
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, fn, 1, "string", A0);
	struct buf raw = BUF_INIT;
	bool pem;
	X509_REQ *req = NULL;
	if (pem_or_b64(A0, &raw, &pem) < 0) {
		buf_release(&raw);
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: illegal base64 data at input byte 0", fn);
	}
	{
		if (pem) {
			BIO *bio = BIO_new_mem_buf(raw.p, (int)raw.len);
			req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
			BIO_free(bio);
		} else {
			const unsigned char *q = (const unsigned char *)raw.p;
			req = d2i_X509_REQ(NULL, &q, (long)raw.len);
		}
	}
	buf_release(&raw);
	if (!req)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: asn1: structure error: malformed certificate request", fn);
	struct val *o = val_object_new(4);
	if (o) {
		val_object_put_cstr(o, "Subject", name_obj(X509_REQ_get_subject_name(req)));
		val_object_put_cstr(o, "Version", val_int(X509_REQ_get_version(req)));
	}
	X509_REQ_free(req);
	*out = o;
	return o ? 0 : -ENOMEM;
}

static void put_b64url_bn(struct val *o, const char *k, const BIGNUM *bn)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int n = bn ? BN_num_bytes(bn) : 0;
	unsigned char *p = n > 0 ? malloc((size_t)n) : NULL;
	if (!p)
		return;
	BN_bn2bin(bn, p);
	struct buf b = BUF_INIT;
	for (int i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		buf_addch(&b, al[(v >> 18) & 63]);
		buf_addch(&b, al[(v >> 12) & 63]);
		if (i + 1 < n)
			buf_addch(&b, al[(v >> 6) & 63]);
		if (i + 2 < n)
			buf_addch(&b, al[v & 63]);
	}
	secure_wipe(p, (size_t)n);
	free(p);
	if (!buf_error(&b))
		put_str(o, k, b.p, b.len);
	secure_wipe(b.p, b.len);
	buf_release(&b);
}

/* An RSA private key (PKCS#1 or PKCS#8 PEM) as a JWK object. */
static int bi_parse_rsa_key(struct ev *ev, struct val **args, struct val **out)
{
	static const char *const fn = "crypto.x509.parse_rsa_private_key";
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, fn, 1, "string", A0);
	struct buf raw = BUF_INIT;
	bool pem;
	EVP_PKEY *pk = NULL;
	if (pem_or_b64(A0, &raw, &pem) < 0) {
		buf_release(&raw);
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: illegal base64 data at input byte 0", fn);
	}
	if (pem) {
		BIO *bio = BIO_new_mem_buf(raw.p, (int)raw.len);
		pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
	}
	secure_wipe(raw.p, raw.len);
	buf_release(&raw);
	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pk);
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: failed to parse RSA private key", fn);
	}
	static const struct {
		const char *k, *param;
	} f[] = { { "n", OSSL_PKEY_PARAM_RSA_N }, { "e", OSSL_PKEY_PARAM_RSA_E }, { "d", OSSL_PKEY_PARAM_RSA_D },
		  { "p", OSSL_PKEY_PARAM_RSA_FACTOR1 }, { "q", OSSL_PKEY_PARAM_RSA_FACTOR2 },
		  { "dp", OSSL_PKEY_PARAM_RSA_EXPONENT1 }, { "dq", OSSL_PKEY_PARAM_RSA_EXPONENT2 },
		  { "qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1 } };
	struct val *o = val_object_new(9);
	if (o)
		put_str(o, "kty", "RSA", 3);
	for (size_t i = 0; o && i < ARRAY_SIZE(f); i++) {
		BIGNUM *bn = NULL;
		if (EVP_PKEY_get_bn_param(pk, f[i].param, &bn) == 1)
			put_b64url_bn(o, f[i].k, bn);
		BN_clear_free(bn);
	}
	EVP_PKEY_free(pk);
	*out = o;
	return o ? 0 : -ENOMEM;
}

#define X509_MAX_KEYS 64 /* private keys in one input */

/* A big number as a JSON number (Go marshals *big.Int so). */
static int put_bn_num(struct val *o, const char *k, const BIGNUM *bn)
{
	char *d = bn ? BN_bn2dec(bn) : NULL;
	if (!d)
		return -ENOMEM;
	struct val *v = val_number_text(d, strlen(d));
	OPENSSL_clear_free(d, strlen(d));
	return v ? val_object_put_cstr(o, k, v) : -ENOMEM;
}

/* A private key as Go's encoding/json renders its key struct: RSA keys
 * as {N, E, D, Primes}, EC keys as {X, Y, D}; others as {}. */
static struct val *key_obj(EVP_PKEY *pk)
{
	struct val *o = val_object_new(4);
	int rc = o ? 0 : -ENOMEM;
	const char *const *names = NULL;
	static const char *const rsa[] = { "N", OSSL_PKEY_PARAM_RSA_N, "E", OSSL_PKEY_PARAM_RSA_E, "D",
					   OSSL_PKEY_PARAM_RSA_D, NULL };
	static const char *const ec[] = { "X", OSSL_PKEY_PARAM_EC_PUB_X, "Y", OSSL_PKEY_PARAM_EC_PUB_Y, "D",
					  OSSL_PKEY_PARAM_PRIV_KEY, NULL };
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA)
		names = rsa;
	else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC)
		names = ec;
	for (size_t i = 0; names && names[i] && rc == 0; i += 2) {
		BIGNUM *bn = NULL;
		if (EVP_PKEY_get_bn_param(pk, names[i + 1], &bn) == 1)
			rc = put_bn_num(o, names[i], bn);
		BN_clear_free(bn);
	}
	if (rc == 0 && names == rsa) {
		struct val *primes = val_array_new(2);
		static const char *const f[] = { OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2 };
		for (size_t i = 0; primes && i < 2 && rc == 0; i++) {
			BIGNUM *bn = NULL;
			char *d = EVP_PKEY_get_bn_param(pk, f[i], &bn) == 1 ? BN_bn2dec(bn) : NULL;
			if (d) {
				rc = val_array_push(primes, val_number_text(d, strlen(d)));
				OPENSSL_clear_free(d, strlen(d));
			}
			BN_clear_free(bn);
		}
		if (primes && rc == 0)
			rc = val_object_put_cstr(o, "Primes", primes);
		else {
			val_unref(primes);
			rc = -ENOMEM;
		}
	}
	if (rc < 0) {
		val_unref(o);
		return NULL;
	}
	return o;
}

/* Reads up to X509_MAX_KEYS private keys from PEM text or base64(PEM). */
static size_t read_keys(const struct val *in, EVP_PKEY **keys)
{
	struct buf raw = BUF_INIT;
	bool pem;
	size_t n = 0;
	if (pem_or_b64(in, &raw, &pem) == 0 && pem) {
		BIO *bio = BIO_new_mem_buf(raw.p, (int)raw.len);
		EVP_PKEY *pk;
		while (bio && n < X509_MAX_KEYS && (pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)))
			keys[n++] = pk;
		BIO_free(bio);
	}
	ERR_clear_error();
	secure_wipe(raw.p, raw.len);
	buf_release(&raw);
	return n;
}

/* crypto.parse_private_keys: every private key of the PEM text (or
 * base64 of it); [] when there is none, null for the empty string. */
static int bi_parse_private_keys(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "crypto.parse_private_keys", 1, "string", A0);
	if (A0->str.len == 0) {
		*out = val_null();
		return 0;
	}
	EVP_PKEY *keys[X509_MAX_KEYS];
	size_t n = read_keys(A0, keys);
	struct val *a = val_array_new(n);
	for (size_t i = 0; i < n; i++) {
		if (a && val_array_push(a, key_obj(keys[i])) < 0) {
			val_unref(a);
			a = NULL;
		}
		EVP_PKEY_free(keys[i]);
	}
	*out = a;
	return a ? 0 : -ENOMEM;
}

/* crypto.x509.parse_keypair(cert, key): as Go's tls.X509KeyPair, the
 * DER certificates (base64) and the key, which must match the first. */
static int bi_parse_keypair(struct ev *ev, struct val **args, struct val **out)
{
	static const char fn[] = "crypto.x509.parse_keypair";
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, fn, 1, "string", A0);
	if (args[1]->kind != VAL_STRING)
		return bi_type_err(ev, fn, 2, "string", args[1]);
	X509 *certs[X509_MAX_CERTS];
	size_t nc = 0;
	int rc = load_certs(ev, fn, A0, certs, &nc);
	if (rc < 0)
		return rc;
	EVP_PKEY *keys[X509_MAX_KEYS];
	size_t nk = read_keys(args[1], keys);
	struct val *o = NULL;
	if (nk == 0)
		rc = ev_error(ev, -EINVAL, EC_BUILTIN, "%s: tls: failed to find any PEM data in key input", fn);
	else if (X509_check_private_key(certs[0], keys[0]) != 1)
		rc = ev_error(ev, -EINVAL, EC_BUILTIN, "%s: tls: private key does not match public key", fn);
	ERR_clear_error();
	if (rc == 0) {
		o = val_object_new(2);
		struct val *ders = val_array_new(nc);
		rc = o && ders ? 0 : -ENOMEM;
		for (size_t i = 0; i < nc && rc == 0; i++) {
			unsigned char *der = NULL;
			int len = i2d_X509(certs[i], &der);
			/* certificates are bounded by the input string: no overflow */
			char *b64 = len > 0 ? malloc(4 * (((size_t)len + 2) / 3) + 1) : NULL;
			int bl = b64 ? EVP_EncodeBlock((unsigned char *)b64, der, len) : -1;
			OPENSSL_free(der);
			rc = bl >= 0 ? val_array_push(ders, val_string(b64, (size_t)bl)) : -ENOMEM;
			free(b64);
		}
		if (rc == 0)
			rc = val_object_put_cstr(o, "Certificate", ders);
		else
			val_unref(ders);
		if (rc == 0) {
			struct val *k = key_obj(keys[0]);
			rc = k ? val_object_put_cstr(o, "PrivateKey", k) : -ENOMEM;
		}
	}
	for (size_t i = 0; i < nc; i++)
		X509_free(certs[i]);
	for (size_t i = 0; i < nk; i++)
		EVP_PKEY_free(keys[i]);
	if (rc < 0) {
		val_unref(o);
		return rc;
	}
	*out = o;
	return 0;
}

const struct builtin_decl rego_builtins_x509[] = {
	{ "crypto.x509.parse_certificate_request", 1, bi_parse_csr, "certificate request subject" },
	{ "crypto.x509.parse_rsa_private_key", 1, bi_parse_rsa_key, "RSA private key as a JWK" },
	{ "crypto.x509.parse_keypair", 2, bi_parse_keypair, "certificate chain (DER, base64) and matching private key" },
	{ "crypto.parse_private_keys", 1, bi_parse_private_keys, "private keys of PEM text" },
	{ "crypto.x509.parse_certificates", 1, bi_parse_certificates, "certificates from PEM or base64 DER" },
	{ "crypto.x509.parse_and_verify_certificates", 1, bi_parse_and_verify, "[valid, certs] for root..leaf chain" },
	{ NULL, 0, NULL, NULL },
};
