/* SPDX-License-Identifier: Apache-2.0 */
/* Digest and HMAC builtins over OpenSSL libcrypto. */
#include "../internal.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define A0 args[0]
#define A1 args[1]

static int hex_out(const unsigned char *md, unsigned n, struct val **out)
{
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	hex_encode(md, n, hex);
	*out = val_string(hex, 2 * (size_t)n);
	return *out ? 0 : -ENOMEM;
}

static int digest(struct ev *ev, const char *fn, const EVP_MD *md, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, fn, 1, "string", A0);
	unsigned char buf[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (!EVP_Digest(A0->str.s, A0->str.len, buf, &n, md, NULL))
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: digest failed", fn);
	return hex_out(buf, n, out);
}

static int hmac(struct ev *ev, const char *fn, const EVP_MD *md, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, fn, 1, "string", A0);
	if (A1->kind != VAL_STRING)
		return bi_type_err(ev, fn, 2, "string", A1);
	unsigned char buf[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (A1->str.len > INT32_MAX ||
	    !HMAC(md, A1->str.s, (int)A1->str.len, (const unsigned char *)A0->str.s, A0->str.len, buf, &n))
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: hmac failed", fn);
	return hex_out(buf, n, out);
}

static int bi_md5(struct ev *ev, struct val **args, struct val **out) { return digest(ev, "crypto.md5", EVP_md5(), args, out); }
static int bi_sha1(struct ev *ev, struct val **args, struct val **out) { return digest(ev, "crypto.sha1", EVP_sha1(), args, out); }
static int bi_sha256(struct ev *ev, struct val **args, struct val **out) { return digest(ev, "crypto.sha256", EVP_sha256(), args, out); }
static int bi_sha512(struct ev *ev, struct val **args, struct val **out) { return digest(ev, "crypto.sha512", EVP_sha512(), args, out); }
static int bi_hmd5(struct ev *ev, struct val **args, struct val **out) { return hmac(ev, "crypto.hmac.md5", EVP_md5(), args, out); }
static int bi_hsha1(struct ev *ev, struct val **args, struct val **out) { return hmac(ev, "crypto.hmac.sha1", EVP_sha1(), args, out); }
static int bi_hsha256(struct ev *ev, struct val **args, struct val **out) { return hmac(ev, "crypto.hmac.sha256", EVP_sha256(), args, out); }
static int bi_hsha512(struct ev *ev, struct val **args, struct val **out) { return hmac(ev, "crypto.hmac.sha512", EVP_sha512(), args, out); }

static int bi_hmac_equal(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "crypto.hmac.equal", 1, "string", A0);
	if (A1->kind != VAL_STRING)
		return bi_type_err(ev, "crypto.hmac.equal", 2, "string", A1);
	bool eq = A0->str.len == A1->str.len && ct_memeq(A0->str.s, A1->str.s, A0->str.len);
	*out = val_bool(eq);
	return 0;
}

const struct builtin_decl rego_builtins_crypto[] = {
	{ "crypto.md5", 1, bi_md5, "MD5 hex digest" },
	{ "crypto.sha1", 1, bi_sha1, "SHA-1 hex digest" },
	{ "crypto.sha256", 1, bi_sha256, "SHA-256 hex digest" },
	{ "crypto.sha512", 1, bi_sha512, "SHA-512 hex digest" },
	{ "crypto.hmac.md5", 2, bi_hmd5, "HMAC-MD5 hex" },
	{ "crypto.hmac.sha1", 2, bi_hsha1, "HMAC-SHA1 hex" },
	{ "crypto.hmac.sha256", 2, bi_hsha256, "HMAC-SHA256 hex" },
	{ "crypto.hmac.sha512", 2, bi_hsha512, "HMAC-SHA512 hex" },
	{ "crypto.hmac.equal", 2, bi_hmac_equal, "constant-time MAC comparison" },
	{ NULL, 0, NULL, NULL },
};
