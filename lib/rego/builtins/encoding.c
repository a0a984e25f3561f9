/* SPDX-License-Identifier: Apache-2.0 */
/* Encoding builtins: base64, base64url, hex, urlquery, json text. */
#include "../internal.h"

#include <ctype.h>

#define A0 args[0]
#define A1 args[1]

static int ret(struct val **out, struct val *v)
{
	*out = v;
	return v ? 0 : -ENOMEM;
}

static struct val *buf_val(struct buf *b)
{
	struct val *v = buf_error(b) ? NULL : val_string(b->p, b->len);
	buf_release(b);
	return v;
}

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64_enc(struct buf *b, const uint8_t *p, size_t n, const char *alpha, bool pad)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t rem = n - i;
		if (rem > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (rem > 2)
			v |= p[i + 2];
		buf_addch(b, alpha[(v >> 18) & 63]);
		buf_addch(b, alpha[(v >> 12) & 63]);
		if (rem > 1)
			buf_addch(b, alpha[(v >> 6) & 63]);
		else if (pad)
			buf_addch(b, '=');
		if (rem > 2)
			buf_addch(b, alpha[v & 63]);
		else if (pad)
			buf_addch(b, '=');
	}
}

/* Strict decoding; @pad_opt accepts missing padding. -EBADMSG on bad input. */
static int b64_dec(struct buf *b, const char *s, size_t n, const char *alpha, bool pad_opt)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i, npad = 0;
	while (n > 0 && s[n - 1] == '=') {
		n--;
		npad++;
	}
	if (npad > 2 || (!pad_opt && (n + npad) % 4 != 0))
		return -EBADMSG;
	if (npad && (n + npad) % 4 != 0)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		const char *c = memchr(alpha, s[i], 64);
		if (!c || !s[i])
			return -EBADMSG;
		acc = (acc << 6) | (uint32_t)(c - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addch(b, (char)((acc >> bits) & 0xff));
		}
	}
	if (n % 4 == 1)
		return -EBADMSG;
	return 0;
}

static int need_str(struct ev *ev, const char *fn, struct val *v)
{
	return v->kind == VAL_STRING ? 0 : bi_type_err(ev, fn, 1, "string", v);
}

#define ENC(name, fnname, alpha, pad)                                                 \
	static int name(struct ev *ev, struct val **args, struct val **out)           \
	{                                                                             \
		int rc = need_str(ev, fnname, A0);                                        \
		if (rc)                                                                   \
			return rc;                                                            \
		struct buf b = BUF_INIT;                                                  \
		b64_enc(&b, (const uint8_t *)A0->str.s, A0->str.len, alpha, pad);         \
		return ret(out, buf_val(&b));                                             \
	}
ENC(bi_b64_enc, "base64.encode", b64std, true)
ENC(bi_b64url_enc, "base64url.encode", b64url, true)
ENC(bi_b64url_enc_np, "base64url.encode_no_pad", b64url, false)

static int b64dec(struct ev *ev, const char *fn, struct val **args, struct val **out, const char *alpha, bool padopt)
{
	int rc = need_str(ev, fn, A0);
	if (rc)
		return rc;
	struct buf b = BUF_INIT;
	if (b64_dec(&b, A0->str.s, A0->str.len, alpha, padopt) < 0) {
		buf_release(&b);
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: illegal base64 data", fn);
	}
	return ret(out, buf_val(&b));
}
static int bi_b64_dec(struct ev *ev, struct val **args, struct val **out) { return b64dec(ev, "base64.decode", args, out, b64std, false); }
static int bi_b64url_dec(struct ev *ev, struct val **args, struct val **out) { return b64dec(ev, "base64url.decode", args, out, b64url, true); }

static int bi_b64_valid(struct ev *ev, struct val **args, struct val **out)
{
	int rc = need_str(ev, "base64.is_valid", A0);
	if (rc)
		return rc;
	struct buf b = BUF_INIT;
	bool ok = b64_dec(&b, A0->str.s, A0->str.len, b64std, false) == 0;
	buf_release(&b);
	return ret(out, val_bool(ok));
}

static int bi_hex_enc(struct ev *ev, struct val **args, struct val **out)
{
	int rc = need_str(ev, "hex.encode", A0);
	if (rc)
		return rc;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < A0->str.len; i++)
		buf_addf(&b, "%02x", (unsigned char)A0->str.s[i]);
	return ret(out, buf_val(&b));
}

static int bi_hex_dec(struct ev *ev, struct val **args, struct val **out)
{
	int rc = need_str(ev, "hex.decode", A0);
	if (rc)
		return rc;
	size_t n = A0->str.len;
	uint8_t *p = malloc(n / 2 + 1);
	size_t got = 0;
	if (!p)
		return -ENOMEM;
	if (hex_decode(A0->str.s, n, p, n / 2 + 1, &got) < 0) {
		free(p);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)A0->str.s[i];
			if (!isxdigit(c))
				return ev_error(ev, -EINVAL, EC_BUILTIN, "hex.decode: encoding/hex: invalid byte: U+%04X '%c'", c,
						c >= 0x20 && c < 0x7f ? c : '?');
		}
		return ev_error(ev, -EINVAL, EC_BUILTIN, "hex.decode: encoding/hex: odd length hex string");
	}
	struct val *v = val_string((const char *)p, got);
	free(p);
	return ret(out, v);
}

/* Go's url.QueryEscape */
static void qescape(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			buf_addch(b, (char)c);
		else if (c == ' ')
			buf_addch(b, '+');
		else
			buf_addf(b, "%%%02X", c);
	}
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int qunescape(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			buf_addch(b, ' ');
		} else if (s[i] == '%') {
			if (i + 2 >= n)
				return -EBADMSG;
			int h = unhex(s[i + 1]), l = unhex(s[i + 2]);
			if (h < 0 || l < 0)
				return -EBADMSG;
			buf_addch(b, (char)(h * 16 + l));
			i += 2;
		} else {
			buf_addch(b, s[i]);
		}
	}
	return 0;
}

static int bi_urlquery_enc(struct ev *ev, struct val **args, struct val **out)
{
	int rc = need_str(ev, "urlquery.encode", A0);
	if (rc)
		return rc;
	struct buf b = BUF_INIT;
	qescape(&b, A0->str.s, A0->str.len);
	return ret(out, buf_val(&b));
}

static int bi_urlquery_dec(struct ev *ev, struct val **args, struct val **out)
{
	int rc = need_str(ev, "urlquery.decode", A0);
	if (rc)
		return rc;
	struct buf b = BUF_INIT;
	if (qunescape(&b, A0->str.s, A0->str.len) < 0) {
		buf_release(&b);
		return ev_error(ev, -EINVAL, EC_BUILTIN, "urlquery.decode: invalid URL escape");
	}
	return ret(out, buf_val(&b));
}

static int bi_urlquery_enc_obj(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_OBJECT)
		return bi_type_err(ev, "urlquery.encode_object", 1, "object", A0);
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < A0->obj.n; i++) {
		struct val *k = A0->obj.keys[i], *v = A0->obj.vals[i];
		if (k->kind != VAL_STRING) {
			buf_release(&b);
			return bi_type_err(ev, "urlquery.encode_object", 1, "object[string: any<string, array[string], set[string]>]", A0);
		}
		struct val *one[1] = { v };
		struct val **items = one;
		size_t n = 1;
		if (v->kind == VAL_ARRAY || v->kind == VAL_SET) {
			items = v->arr.items;
			n = v->arr.n;
		}
		for (size_t j = 0; j < n; j++) {
			if (items[j]->kind != VAL_STRING) {
				buf_release(&b);
				return bi_type_err(ev, "urlquery.encode_object", 1,
						   "object[string: any<string, array[string], set[string]>]", A0);
			}
			if (b.len)
				buf_addch(&b, '&');
			qescape(&b, k->str.s, k->str.len);
			buf_addch(&b, '=');
			qescape(&b, items[j]->str.s, items[j]->str.len);
		}
	}
	return ret(out, buf_val(&b));
}

static int bi_urlquery_dec_obj(struct ev *ev, struct val **args, struct val **out)
{
	int rc = need_str(ev, "urlquery.decode_object", A0);
	if (rc)
		return rc;
	struct val *o = val_object_new(4);
	const char *s = A0->str.s, *end = s + A0->str.len;
	while (o && s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		if (!amp)
			amp = end;
		const char *eq = memchr(s, '=', (size_t)(amp - s));
		struct buf k = BUF_INIT, v = BUF_INIT;
		int r1 = qunescape(&k, s, (size_t)((eq ? eq : amp) - s));
		int r2 = eq ? qunescape(&v, eq + 1, (size_t)(amp - eq - 1)) : 0;
		if (r1 < 0 || r2 < 0) {
			buf_release(&k);
			buf_release(&v);
			val_unref(o);
			return ev_error(ev, -EINVAL, EC_BUILTIN, "urlquery.decode_object: invalid URL escape");
		}
		if (k.len || eq) {
			struct val *key = val_string(k.p, k.len);
			struct val *arr = key ? val_object_get(o, key) : NULL;
			struct val *na = val_array_new(arr ? arr->arr.n + 1 : 1);
			for (size_t i = 0; na && arr && i < arr->arr.n; i++)
				val_array_push(na, val_ref(arr->arr.items[i]));
			if (na)
				val_array_push(na, val_string(v.p, v.len));
			if (!key || !na || val_object_put(o, key, na) < 0) {
				val_unref(o);
				o = NULL;
			}
		}
		buf_release(&k);
		buf_release(&v);
		s = amp + 1;
	}
	return ret(out, o);
}

static int bi_json_marshal(struct ev *ev, struct val **args, struct val **out)
{
	(void)ev;
	struct buf b = BUF_INIT;
	val_to_json(A0, &b, 0);
	return ret(out, buf_val(&b));
}

/* JSON with Go's MarshalIndent layout: each line starts with @prefix
 * followed by one @indent per nesting level. */
static void json_indent(struct buf *b, const struct val *v, const char *prefix, const char *indent, unsigned depth)
{
	bool set = v->kind == VAL_SET;
	size_t n = v->kind == VAL_OBJECT ? v->obj.n : (v->kind == VAL_ARRAY || set) ? v->arr.n : 0;
	if ((v->kind != VAL_OBJECT && v->kind != VAL_ARRAY && !set) || n == 0) {
		val_to_json(v, b, 0);
		return;
	}
	buf_addch(b, v->kind == VAL_OBJECT ? '{' : '[');
	for (size_t i = 0; i < n; i++) {
		buf_addch(b, '\n');
		buf_addstr(b, prefix);
		for (unsigned d = 0; d <= depth; d++)
			buf_addstr(b, indent);
		if (v->kind == VAL_OBJECT) {
			const struct val *k = v->obj.keys[i];
			if (k->kind == VAL_STRING)
				json_quote(b, k->str.s, k->str.len, 0);
			else {
				struct buf kb = BUF_INIT;
				val_to_json(k, &kb, 0);
				json_quote(b, kb.p, kb.len, 0);
				buf_release(&kb);
			}
			buf_addstr(b, ": ");
			json_indent(b, v->obj.vals[i], prefix, indent, depth + 1);
		} else {
			json_indent(b, v->arr.items[i], prefix, indent, depth + 1);
		}
		if (i + 1 < n)
			buf_addch(b, ',');
	}
	buf_addch(b, '\n');
	buf_addstr(b, prefix);
	for (unsigned d = 0; d < depth; d++)
		buf_addstr(b, indent);
	buf_addch(b, v->kind == VAL_OBJECT ? '}' : ']');
}

static int bi_json_marshal_opts(struct ev *ev, struct val **args, struct val **out)
{
	if (A1->kind != VAL_OBJECT)
		return bi_type_err(ev, "json.marshal_with_options", 2, "object", A1);
	const char *prefix = "", *indent = "\t";
	bool pretty = false, explicit_off = false;
	for (size_t i = 0; i < A1->obj.n; i++) {
		const char *k = val_str(A1->obj.keys[i]);
		struct val *v = A1->obj.vals[i];
		if (k && !strcmp(k, "pretty") && v->kind == VAL_BOOL) {
			pretty = v->b;
			explicit_off = !v->b;
		} else if (k && !strcmp(k, "indent") && v->kind == VAL_STRING) {
			indent = v->str.s;
			pretty = true;
		} else if (k && !strcmp(k, "prefix") && v->kind == VAL_STRING) {
			prefix = v->str.s;
			pretty = true;
		} else if (k && strcmp(k, "pretty") && strcmp(k, "indent") && strcmp(k, "prefix")) {
			return ev_error(ev, -EINVAL, EC_TYPE, "json.marshal_with_options: operand 2 object contained unknown key \"%s\"", k);
		} else {
			return ev_error(ev, -EINVAL, EC_TYPE, "json.marshal_with_options: operand 2 must be object with optional keys pretty (boolean), prefix (string), indent (string)");
		}
	}
	if (explicit_off)
		pretty = false;
	struct buf b = BUF_INIT;
	if (pretty) {
		buf_addstr(&b, prefix);
		json_indent(&b, A0, prefix, indent, 0);
	} else {
		val_to_json(A0, &b, 0);
	}
	return ret(out, buf_val(&b));
}

static int bi_json_unmarshal(struct ev *ev, struct val **args, struct val **out)
{
	int rc = need_str(ev, "json.unmarshal", A0);
	if (rc)
		return rc;
	struct val *v = NULL;
	struct arca_err e = { 0 };
	if (val_from_json(A0->str.s, A0->str.len, NULL, &v, &e) < 0)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "json.unmarshal: %s", err_msg(&e));
	*out = v;
	return 0;
}

static int bi_json_is_valid(struct ev *ev, struct val **args, struct val **out)
{
	(void)ev;
	if (A0->kind != VAL_STRING)
		return ret(out, val_bool(false));
	struct val *v = NULL;
	bool ok = val_from_json(A0->str.s, A0->str.len, NULL, &v, NULL) == 0;
	val_unref(v);
	return ret(out, val_bool(ok));
}

const struct builtin_decl rego_builtins_encoding[] = {
	{ "base64.encode", 1, bi_b64_enc, "standard base64 with padding" },
	{ "base64.decode", 1, bi_b64_dec, "strict standard base64" },
	{ "base64.is_valid", 1, bi_b64_valid, "is standard base64" },
	{ "base64url.encode", 1, bi_b64url_enc, "URL-safe base64 with padding" },
	{ "base64url.encode_no_pad", 1, bi_b64url_enc_np, "URL-safe base64 without padding" },
	{ "base64url.decode", 1, bi_b64url_dec, "URL-safe base64, padding optional" },
	{ "hex.encode", 1, bi_hex_enc, "lower-case hex" },
	{ "hex.decode", 1, bi_hex_dec, "hex to bytes" },
	{ "urlquery.encode", 1, bi_urlquery_enc, "query escaping" },
	{ "urlquery.decode", 1, bi_urlquery_dec, "query unescaping" },
	{ "urlquery.encode_object", 1, bi_urlquery_enc_obj, "object to query string" },
	{ "urlquery.decode_object", 1, bi_urlquery_dec_obj, "query string to object of arrays" },
	{ "json.marshal", 1, bi_json_marshal, "value to JSON text" },
	{ "json.unmarshal", 1, bi_json_unmarshal, "JSON text to value" },
	{ "json.marshal_with_options", 2, bi_json_marshal_opts, "value to JSON text, optionally indented" },
	{ "json.is_valid", 1, bi_json_is_valid, "is valid JSON text" },
	{ NULL, 0, NULL, NULL },
};
