/* SPDX-License-Identifier: Apache-2.0 */
/* uri.parse and uri.is_valid, following Go's net/url parsing rules for the
 * parts OPA reports (scheme, hostname, port, path, raw_path, raw_query,
 * fragment). */
#include "../internal.h"

#include <ctype.h>

#define A0 args[0]

struct uri {
	const char *scheme, *host, *port, *path, *query, *frag;
	size_t scheme_n, host_n, port_n, path_n, query_n, frag_n;
	bool has_query, has_frag;
};

static int hexv(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

/* Percent-decoding; on a bad escape writes it to @bad (e.g. "%6") */
static bool unescape(const char *s, size_t n, struct buf *out, char bad[4])
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			buf_addch(out, s[i]);
			continue;
		}
		if (i + 2 >= n || hexv(s[i + 1]) < 0 || hexv(s[i + 2]) < 0) {
			size_t l = n - i < 3 ? n - i : 3;
			memcpy(bad, s + i, l);
			bad[l] = 0;
			return false;
		}
		buf_addch(out, (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2])));
		i += 2;
	}
	return true;
}

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Go's escape(path, encodePath) */
static void escape_path(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || strchr("$&+,/:;=@!'()*", c))
			buf_addch(out, (char)c);
		else
			buf_addf(out, "%%%02X", c);
	}
}

static bool valid_encoded(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!unreserved(c) && !strchr("!$&'()*+,;=:@[]/%", c))
			return false;
	}
	return true;
}

/* 0, or -EBADMSG with @err set to Go's message. */
static int uri_parse(const char *s, size_t n, struct uri *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	const char *p = s, *end = s + n;
	const char *hash = memchr(p, '#', n);
	if (hash) {
		u->has_frag = true;
		u->frag = hash + 1;
		u->frag_n = (size_t)(end - hash - 1);
		end = hash;
	}
	/* scheme */
	if (p < end && isalpha((unsigned char)*p)) {
		const char *c = p;
		while (c < end && (isalnum((unsigned char)*c) || *c == '+' || *c == '-' || *c == '.'))
			c++;
		if (c < end && *c == ':') {
			u->scheme = p;
			u->scheme_n = (size_t)(c - p);
			p = c + 1;
		}
	}
	const char *q = memchr(p, '?', (size_t)(end - p));
	if (q) {
		u->has_query = true;
		u->query = q + 1;
		u->query_n = (size_t)(end - q - 1);
		end = q;
	}
	if (u->scheme && (end - p < 1 || *p != '/'))
		return 0; /* opaque (mailto:...) */
	if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
		p += 2;
		const char *a = p;
		while (p < end && *p != '/')
			p++;
		const char *ae = p;
		const char *at = NULL;
		for (const char *c = a; c < ae; c++)
			if (*c == '@')
				at = c;
		if (at) {
			for (const char *c = a; c < at; c++)
				if (!unreserved((unsigned char)*c) && !strchr("!$&'()*+,;=:%", *c)) {
					snprintf(err, errlen, "net/url: invalid userinfo");
					return -EBADMSG;
				}
			a = at + 1;
		}
		const char *hend = ae;
		if (a < ae && *a == '[') {
			const char *rb = memchr(a, ']', (size_t)(ae - a));
			if (!rb) {
				snprintf(err, errlen, "missing ']' in host");
				return -EBADMSG;
			}
			u->host = a + 1;
			u->host_n = (size_t)(rb - a - 1);
			hend = rb + 1;
			if (hend < ae && *hend != ':') {
				snprintf(err, errlen, "invalid port \"%.*s\" after host", (int)(ae - hend), hend);
				return -EBADMSG;
			}
		} else {
			const char *colon = NULL;
			for (const char *c = a; c < ae; c++)
				if (*c == ':')
					colon = c;
			hend = colon ? colon : ae;
			u->host = a;
			u->host_n = (size_t)(hend - a);
			for (const char *c = a; c < hend; c++)
				if (*c == '%') {
					snprintf(err, errlen, "invalid URL escape \"%.*s\"", (int)(hend - c < 3 ? hend - c : 3), c);
					return -EBADMSG;
				}
		}
		if (hend < ae && *hend == ':') {
			for (const char *c = hend + 1; c < ae; c++)
				if (!isdigit((unsigned char)*c)) {
					snprintf(err, errlen, "invalid port \"%.*s\" after host", (int)(ae - hend), hend);
					return -EBADMSG;
				}
			u->port = hend + 1;
			u->port_n = (size_t)(ae - hend - 1);
		}
	}
	u->path = p;
	u->path_n = (size_t)(end - p);
	return 0;
}

static int bi_uri_parse(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "uri.parse", 1, "string", A0);
	struct uri u;
	char err[256] = "", bad[4] = "";
	int rc = uri_parse(A0->str.s, A0->str.len, &u, err, sizeof(err));
	struct buf path = BUF_INIT, frag = BUF_INIT;
	if (rc == 0 && !unescape(u.path, u.path_n, &path, bad)) {
		snprintf(err, sizeof(err), "invalid URL escape \"%s\"", bad);
		rc = -EBADMSG;
	}
	if (rc == 0 && u.has_frag && !unescape(u.frag, u.frag_n, &frag, bad)) {
		snprintf(err, sizeof(err), "invalid URL escape \"%s\"", bad);
		rc = -EBADMSG;
	}
	if (rc < 0) {
		buf_release(&path);
		buf_release(&frag);
		return ev_error(ev, -EINVAL, EC_BUILTIN, "uri.parse: parse \"%.*s\": %s", (int)A0->str.len, A0->str.s, err);
	}
	struct val *o = val_object_new(8);
	if (o && u.scheme_n)
		val_object_put_cstr(o, "scheme", val_string(u.scheme, u.scheme_n));
	if (o && u.host_n)
		val_object_put_cstr(o, "hostname", val_string(u.host, u.host_n));
	if (o && u.port_n)
		val_object_put_cstr(o, "port", val_string(u.port, u.port_n));
	if (o && path.len) {
		val_object_put_cstr(o, "path", val_string(path.p, path.len));
		struct buf esc = BUF_INIT;
		escape_path(path.p, path.len, &esc);
		/* the raw form matters only when an escaped '/' would otherwise
		 * change the path's segments */
		bool slash = memmem(u.path, u.path_n, "%2F", 3) || memmem(u.path, u.path_n, "%2f", 3);
		bool use_raw = slash && valid_encoded(u.path, u.path_n);
		val_object_put_cstr(o, "raw_path", use_raw ? val_string(u.path, u.path_n) : val_string(esc.p, esc.len));
		buf_release(&esc);
	}
	if (o && u.query_n)
		val_object_put_cstr(o, "raw_query", val_string(u.query, u.query_n));
	if (o && frag.len)
		val_object_put_cstr(o, "fragment", val_string(frag.p, frag.len));
	buf_release(&path);
	buf_release(&frag);
	*out = o;
	return o ? 0 : -ENOMEM;
}

static int bi_uri_is_valid(struct ev *ev, struct val **args, struct val **out)
{
	(void)ev;
	bool ok = false;
	if (A0->kind == VAL_STRING && A0->str.len) {
		struct uri u;
		char err[256], bad[4];
		struct buf b = BUF_INIT;
		ok = uri_parse(A0->str.s, A0->str.len, &u, err, sizeof(err)) == 0 && unescape(u.path, u.path_n, &b, bad);
		buf_release(&b);
	}
	*out = val_bool(ok);
	return 0;
}

const struct builtin_decl rego_builtins_uri[] = {
	{ "uri.parse", 1, bi_uri_parse, "URI components (Go net/url rules)" },
	{ "uri.is_valid", 1, bi_uri_is_valid, "URI parses" },
	{ NULL, 0, NULL, NULL },
};
