/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.send, declared so that policies calling it compile, check their
 * requests as OPA does, and can be tested with `with http.send as mock`.
 * arca's engine never opens network connections from a policy: a request
 * that passes the checks fails as an unreachable network does in OPA.
 */
#include "../internal.h"

#define A0 args[0]

#define EC_HTTP_NETWORK "eval_http_send_network_error"

/* OPA's accepted request keys (topdown/http.go), sorted. */
static const char *const http_keys[] = {
	"body", "cache", "cache_ignored_headers", "caching_mode", "enable_redirect", "force_cache",
	"force_cache_duration_seconds", "force_json_decode", "force_yaml_decode", "headers", "max_retry_attempts",
	"method", "raise_error", "raw_body", "timeout", "tls_ca_cert", "tls_ca_cert_env_variable", "tls_ca_cert_file",
	"tls_client_cert", "tls_client_cert_env_variable", "tls_client_cert_file", "tls_client_key",
	"tls_client_key_env_variable", "tls_client_key_file", "tls_insecure_skip_verify", "tls_server_name",
	"tls_use_system_certs", "url",
};

static bool http_key_known(const struct val *k)
{
	if (k->kind != VAL_STRING)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(http_keys); i++)
		if (strlen(http_keys[i]) == k->str.len && memcmp(http_keys[i], k->str.s, k->str.len) == 0)
			return true;
	return false;
}

/* Reports the keys of @s (a set of strings) in OPA's wording. */
static int http_key_err(struct ev *ev, const char *what, struct val *s)
{
	struct buf b = BUF_INIT;
	int rc = val_to_text(s, &b);
	val_unref(s);
	if (rc < 0) {
		buf_release(&b);
		return rc;
	}
	rc = ev_error(ev, -EINVAL, EC_TYPE, "http.send: %s request parameters(s): %s", what, b.p);
	buf_release(&b);
	return rc;
}

static int bi_http_send(struct ev *ev, struct val **args, struct val **out)
{
	(void)out;
	if (A0->kind != VAL_OBJECT)
		return bi_type_err(ev, "http.send", 1, "object", A0);
	struct val *bad = val_set_new(4);
	if (!bad)
		return -ENOMEM;
	for (size_t i = 0; i < A0->obj.n; i++)
		if (!http_key_known(A0->obj.keys[i]) && val_set_add(bad, val_ref(A0->obj.keys[i])) < 0) {
			val_unref(bad);
			return -ENOMEM;
		}
	if (bad->arr.n)
		return http_key_err(ev, "invalid", bad);
	val_unref(bad);
	struct val *missing = val_set_new(2);
	if (!missing)
		return -ENOMEM;
	static const char *const required[] = { "method", "url" };
	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (!val_object_get_cstr(A0, required[i]) && val_set_add(missing, val_cstr(required[i])) < 0) {
			val_unref(missing);
			return -ENOMEM;
		}
	if (missing->arr.n)
		return http_key_err(ev, "missing required", missing);
	val_unref(missing);
	/* Reported as OPA reports a request that cannot be sent: an error
	 * that stops the evaluation even without strict builtin errors, so
	 * a rule that depends on the answer fails closed; with raise_error
	 * false, as the response object OPA gives then. */
	static const char msg[] = "http.send: network access is disabled in arca policies";
	struct val *re = val_object_get_cstr(A0, "raise_error");
	if (re && re->kind == VAL_BOOL && !re->b) {
		struct val *err = val_object_new(2), *o = val_object_new(2);
		int rc = err && o ? val_object_put_cstr(err, "code", val_cstr(EC_HTTP_NETWORK)) : -ENOMEM;
		if (rc == 0)
			rc = val_object_put_cstr(err, "message", val_cstr(msg));
		if (rc == 0) {
			rc = val_object_put_cstr(o, "error", err); /* takes err */
			err = NULL;
		}
		if (rc == 0)
			rc = val_object_put_cstr(o, "status_code", val_int(0));
		val_unref(err);
		if (rc < 0) {
			val_unref(o);
			return rc;
		}
		*out = o;
		return 0;
	}
	return ev_error(ev, -EPERM, EC_HTTP_NETWORK, "%s", msg);
}

const struct builtin_decl rego_builtins_http[] = {
	{ "http.send", 1, bi_http_send, "checks the request; never sends it (no network from policies)" },
	{ NULL, 0, NULL, NULL },
};
