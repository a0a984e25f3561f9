/* SPDX-License-Identifier: Apache-2.0 */
/* providers.aws.sign_req: AWS Signature Version 4 over a request object. */
#include "../internal.h"

#include <ctype.h>
#include <strings.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define A0 args[0]
#define A1 args[1]
#define A2 args[2]

static const char *const fn = "providers.aws.sign_req";

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned ml = 0;
	EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

static bool hmac256(const void *key, size_t kl, const char *msg, unsigned char out[32])
{
	unsigned ml = 0;
	return kl <= INT32_MAX && HMAC(EVP_sha256(), key, (int)kl, (const unsigned char *)msg, strlen(msg), out, &ml) != NULL;
}

static int bi_aws_sign(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_OBJECT)
		return bi_type_err(ev, fn, 1, "object", A0);
	if (A1->kind != VAL_OBJECT)
		return bi_type_err(ev, fn, 2, "object", A1);
	struct val *method = val_object_get_cstr(A0, "method"), *url = val_object_get_cstr(A0, "url");
	if (!method || !url)
		return ev_error(ev, -EINVAL, EC_TYPE, "%s: operand 1 missing required request parameters(s): {\"method\", \"url\"}", fn);
	if (method->kind != VAL_STRING || url->kind != VAL_STRING)
		return ev_error(ev, -EINVAL, EC_TYPE, "%s: operand 1 invalid values for required request parameters(s): {\"method\", \"url\"}", fn);
	static const char *const cfg_keys[] = { "aws_access_key", "aws_secret_access_key", "aws_service", "aws_region" };
	const char *cfg[4];
	for (int i = 0; i < 4; i++) {
		struct val *v = val_object_get_cstr(A1, cfg_keys[i]);
		if (!v)
			return ev_error(ev, -EINVAL, EC_TYPE, "%s: operand 2 missing required AWS config parameters(s): {\"aws_access_key\", \"aws_region\", \"aws_secret_access_key\", \"aws_service\"}", fn);
		if (v->kind != VAL_STRING)
			return ev_error(ev, -EINVAL, EC_TYPE, "%s: operand 2 invalid values for required AWS config parameters(s): {\"aws_access_key\", \"aws_region\", \"aws_secret_access_key\", \"aws_service\"}", fn);
		cfg[i] = v->str.s;
	}
	struct val *dps = val_object_get_cstr(A1, "disable_payload_signing");
	if (dps && dps->kind != VAL_BOOL)
		return ev_error(ev, -EINVAL, EC_TYPE, "%s: operand 2 invalid value for 'disable_payload_signing' in AWS config", fn);
	const char *token = val_str(val_object_get_cstr(A1, "aws_session_token"));
	int64_t ns;
	if (A2->kind != VAL_NUMBER || !num_is_int(A2, &ns) || ns < 0)
		return ev_error(ev, -EINVAL, EC_TYPE, "%s: operand 3 could not convert time_ns value into a unix timestamp", fn);
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char amzdate[32], date[16];
	strftime(amzdate, sizeof(amzdate), "%Y%m%dT%H%M%SZ", &tm);
	strftime(date, sizeof(date), "%Y%m%d", &tm);

	/* URL: scheme://host[:port]/path?query */
	const char *u = url->str.s, *hs = strstr(u, "://");
	hs = hs ? hs + 3 : u;
	const char *pe = hs + strcspn(hs, "/?#");
	struct buf host = BUF_INIT, path = BUF_INIT, query = BUF_INIT;
	buf_add(&host, hs, (size_t)(pe - hs));
	const char *pathp = pe, *qs = pathp + strcspn(pathp, "?#");
	/* OPA signs the URL path as given (empty stays empty) */
	buf_add(&path, pathp, (size_t)(qs - pathp));
	if (*qs == '?') {
		const char *qe = qs + 1 + strcspn(qs + 1, "#");
		buf_add(&query, qs + 1, (size_t)(qe - qs - 1));
	}

	/* payload hash */
	char phash[65];
	struct val *raw = val_object_get_cstr(A0, "raw_body"), *body = val_object_get_cstr(A0, "body");
	struct buf pay = BUF_INIT;
	if (raw && raw->kind == VAL_STRING)
		buf_add(&pay, raw->str.s, raw->str.len);
	else if (body)
		val_to_json(body, &pay, 0);
	sha256_hex(pay.p, pay.len, phash);
	buf_release(&pay);
	struct val *hdrs_in = val_object_get_cstr(A0, "headers");
	const char *content_sha = (dps && dps->b) ? "UNSIGNED-PAYLOAD" : phash;
	/* a caller-supplied x-amz-content-sha256 is what gets signed (as OPA
	 * does), but the request leaves with the real one */
	struct val *existing = hdrs_in && hdrs_in->kind == VAL_OBJECT ? val_object_get_cstr(hdrs_in, "x-amz-content-sha256") : NULL;
	const char *signed_sha = existing && existing->kind == VAL_STRING ? existing->str.s : content_sha;

	/* headers to sign: request headers + host, x-amz-date, content sha, token */
	struct val *h = val_object_new(8);
	int rc = h ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && hdrs_in && hdrs_in->kind == VAL_OBJECT && i < hdrs_in->obj.n; i++)
		rc = val_object_put(h, val_ref(hdrs_in->obj.keys[i]), val_ref(hdrs_in->obj.vals[i]));
	if (rc == 0)
		rc = val_object_put_cstr(h, "host", val_string(host.p, host.len));
	if (rc == 0)
		rc = val_object_put_cstr(h, "x-amz-date", val_cstr(amzdate));
	if (rc == 0)
		rc = val_object_put_cstr(h, "x-amz-content-sha256", val_cstr(signed_sha));
	if (rc == 0 && token)
		rc = val_object_put_cstr(h, "x-amz-security-token", val_cstr(token));
	struct buf canon = BUF_INIT, signed_h = BUF_INIT, creq = BUF_INIT;
	/* canonical headers: lower-case names, sorted (object keys are sorted;
	 * lower-casing may reorder, so sort the names explicitly) */
	size_t nh = h ? h->obj.n : 0;
	char **names = calloc(nh ? nh : 1, sizeof(char *));
	for (size_t i = 0; rc == 0 && names && i < nh; i++) {
		const struct val *k = h->obj.keys[i];
		names[i] = k->kind == VAL_STRING ? strndup(k->str.s, k->str.len) : strdup("");
		for (char *c = names[i]; c && *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	for (size_t i = 0; names && i < nh; i++)
		for (size_t j = i + 1; j < nh; j++)
			if (names[i] && names[j] && strcmp(names[i], names[j]) > 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	for (size_t i = 0; rc == 0 && names && i < nh; i++) {
		struct val *v = NULL;
		for (size_t k = 0; k < nh && !v; k++)
			if (h->obj.keys[k]->kind == VAL_STRING && strcasecmp(h->obj.keys[k]->str.s, names[i]) == 0)
				v = h->obj.vals[k];
		buf_addstr(&canon, names[i]);
		buf_addch(&canon, ':');
		if (v && v->kind == VAL_STRING)
			buf_add(&canon, v->str.s, v->str.len);
		else if (v)
			val_to_json(v, &canon, 0);
		buf_addch(&canon, '\n');
		if (i)
			buf_addch(&signed_h, ';');
		buf_addstr(&signed_h, names[i]);
	}
	for (size_t i = 0; names && i < nh; i++)
		free(names[i]);
	free(names);
	char meth[16];
	snprintf(meth, sizeof(meth), "%.*s", (int)method->str.len, method->str.s);
	/* the method is signed as given, as OPA does */
	buf_addf(&creq, "%s\n%s\n%s\n%s\n%s\n%s", meth, path.p, query.p, canon.p, signed_h.p, content_sha);
	char chash[65];
	sha256_hex(creq.p, creq.len, chash);
	struct buf sts = BUF_INIT;
	buf_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amzdate, date, cfg[3], cfg[2], chash);
	unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
	char kseed[512];
	snprintf(kseed, sizeof(kseed), "AWS4%s", cfg[1]);
	bool ok = hmac256(kseed, strlen(kseed), date, k1) && hmac256(k1, 32, cfg[3], k2) && hmac256(k2, 32, cfg[2], k3) &&
		  hmac256(k3, 32, "aws4_request", k4) && hmac256(k4, 32, sts.p, sig);
	secure_wipe(kseed, sizeof(kseed));
	char sighex[65];
	hex_encode(sig, 32, sighex);
	if (rc == 0 && ok) {
		struct buf auth = BUF_INIT;
		buf_addf(&auth, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request,SignedHeaders=%s,Signature=%s", cfg[0], date,
			 cfg[3], cfg[2], signed_h.p, sighex);
		rc = val_object_put_cstr(h, "Authorization", val_string(auth.p, auth.len));
		if (rc == 0)
			rc = val_object_put_cstr(h, "x-amz-content-sha256", val_cstr(content_sha));
		buf_release(&auth);
	}
	buf_release(&canon);
	buf_release(&signed_h);
	buf_release(&creq);
	buf_release(&sts);
	buf_release(&host);
	buf_release(&path);
	buf_release(&query);
	if (rc < 0 || !ok) {
		val_unref(h);
		return rc < 0 ? rc : ev_error(ev, -EINVAL, EC_BUILTIN, "%s: signing failed", fn);
	}
	struct val *res = val_object_new(A0->obj.n + 1);
	for (size_t i = 0; res && i < A0->obj.n; i++)
		val_object_put(res, val_ref(A0->obj.keys[i]), val_ref(A0->obj.vals[i]));
	if (!res || val_object_put_cstr(res, "headers", h) < 0) {
		val_unref(res);
		return -ENOMEM;
	}
	*out = res;
	return 0;
}

const struct builtin_decl rego_builtins_aws[] = {
	{ "providers.aws.sign_req", 3, bi_aws_sign, "AWS SigV4-signed request" },
	{ NULL, 0, NULL, NULL },
};
