/* SPDX-License-Identifier: Apache-2.0 */
/* JSON text <-> struct val, bounded for hostile input. */
#include "base.h"

const struct json_limits json_limits_default = {
	.max_depth = JSON_MAX_DEPTH_DEFAULT,
	.max_bytes = 256u << 20,
	.max_items = 16u << 20,
};

#define JSON_SHARE_SLOTS 256

struct jp {
	const char *s;
	size_t len, pos;
	const struct json_limits *lim;
	size_t items;
	struct arca_err *e;
	struct buf scratch;
	/* Short strings repeat (object keys, enum-like values): one value is
	 * shared for equal text, which values being immutable allows. A
	 * direct-mapped cache holding a reference per slot. */
	struct val *shared[JSON_SHARE_SLOTS];
};

#define JSON_SHARE_MAX 32 /* longest string shared */

static struct val *jp_shared_string(struct jp *p, const char *str, size_t len)
{
	if (len > JSON_SHARE_MAX)
		return val_string(str, len);
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)str[i]) * 16777619u;
	struct val **slot = &p->shared[h % JSON_SHARE_SLOTS];
	if (*slot && (*slot)->str.len == len && memcmp((*slot)->str.s, str, len) == 0)
		return val_ref(*slot);
	struct val *v = val_string(str, len);
	if (v) {
		val_unref(*slot);
		*slot = val_ref(v);
	}
	return v;
}

static int jp_fail(struct jp *p, int code, const char *what)
{
	return err_set(p->e, code, "json: %s at offset %zu", what, p->pos);
}

static void jp_ws(struct jp *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int jp_value(struct jp *p, unsigned depth, struct val **out);

static int hex4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int d = hex_digit(s[i]);
		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/* Bytes a string can hold without escaping or UTF-8 decoding. */
static const bool json_plain[256] = {
	[0x20] = 1, [0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1,
};

static int jp_string(struct jp *p, struct val **out)
{
	/* caller saw '"' */
	p->pos++;
	struct buf *b = &p->scratch;
	buf_reset(b);
	/* Most strings are plain ASCII without escapes: take them in one copy
	 * straight from the input, which is what large data documents are. */
	size_t run = p->pos;
	while (run < p->len && json_plain[(unsigned char)p->s[run]])
		run++;
	if (run < p->len && p->s[run] == '"') {
		*out = jp_shared_string(p, p->s + p->pos, run - p->pos);
		p->pos = run + 1;
		return *out ? 0 : jp_fail(p, -ENOMEM, "out of memory");
	}
	buf_add(b, p->s + p->pos, run - p->pos);
	p->pos = run;
	for (;;) {
		if (p->pos >= p->len)
			return jp_fail(p, -EBADMSG, "unterminated string");
		unsigned char c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20)
			return jp_fail(p, -EBADMSG, "control character in string");
		if (c == '\\') {
			if (p->pos + 1 >= p->len)
				return jp_fail(p, -EBADMSG, "unterminated escape");
			char esc = p->s[p->pos + 1];
			p->pos += 2;
			switch (esc) {
			case '"': buf_addch(b, '"'); break;
			case '\\': buf_addch(b, '\\'); break;
			case '/': buf_addch(b, '/'); break;
			case 'b': buf_addch(b, '\b'); break;
			case 'f': buf_addch(b, '\f'); break;
			case 'n': buf_addch(b, '\n'); break;
			case 'r': buf_addch(b, '\r'); break;
			case 't': buf_addch(b, '\t'); break;
			case 'u': {
				uint32_t cp, lo;
				if (p->len - p->pos < 4 || hex4(p->s + p->pos, &cp) < 0)
					return jp_fail(p, -EBADMSG, "bad \\u escape");
				p->pos += 4;
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (p->len - p->pos >= 6 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u' &&
					    hex4(p->s + p->pos + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
						p->pos += 6;
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					} else
						cp = 0xFFFD; /* lone surrogate, as Go decodes it */
				} else if (cp >= 0xDC00 && cp <= 0xDFFF)
					cp = 0xFFFD;
				buf_add_utf8(b, cp);
				break;
			}
			default:
				return jp_fail(p, -EBADMSG, "bad escape");
			}
			continue;
		}
		uint32_t cp;
		size_t n = utf8_seq((const unsigned char *)p->s + p->pos, p->len - p->pos, &cp);
		if (n == 0)
			return jp_fail(p, -EBADMSG, "invalid UTF-8 in string");
		buf_add(b, p->s + p->pos, n);
		p->pos += n;
	}
	if (buf_error(b))
		return jp_fail(p, -ENOMEM, "out of memory");
	*out = val_string(b->p, b->len);
	return *out ? 0 : jp_fail(p, -ENOMEM, "out of memory");
}

static int jp_number(struct jp *p, struct val **out)
{
	size_t start = p->pos;
	const char *s = p->s;
	size_t i = p->pos;
	if (i < p->len && s[i] == '-')
		i++;
	if (i >= p->len)
		goto bad;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		goto bad;
	if (i < p->len && s[i] == '.') {
		i++;
		if (i >= p->len || s[i] < '0' || s[i] > '9')
			goto bad;
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < p->len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= p->len || s[i] < '0' || s[i] > '9')
			goto bad;
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	p->pos = i;
	*out = val_number_text(s + start, i - start);
	return *out ? 0 : jp_fail(p, -ENOMEM, "out of memory");
bad:
	p->pos = i;
	return jp_fail(p, -EBADMSG, "malformed number");
}

static int jp_lit(struct jp *p, const char *word, struct val *v, struct val **out)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return jp_fail(p, -EBADMSG, "unexpected character");
	p->pos += n;
	*out = v;
	return 0;
}

struct kv {
	struct val *k, *v;
	size_t idx;
};

/* Object keys from JSON text are strings: bytewise order, then length, as
 * val_compare orders strings. */
static int key_cmp(const struct val *a, const struct val *b)
{
	size_t n = a->str.len < b->str.len ? a->str.len : b->str.len;
	if (n && a->str.s[0] != b->str.s[0])
		return (uint8_t)a->str.s[0] < (uint8_t)b->str.s[0] ? -1 : 1;
	int c = memcmp(a->str.s, b->str.s, n);
	if (c)
		return c < 0 ? -1 : 1;
	return a->str.len == b->str.len ? 0 : (a->str.len < b->str.len ? -1 : 1);
}

static int kv_cmp(const void *x, const void *y)
{
	const struct kv *a = x, *b = y;
	int c = key_cmp(a->k, b->k);
	if (c)
		return c;
	return a->idx < b->idx ? -1 : (a->idx > b->idx ? 1 : 0);
}

static bool kvs_sorted(const struct kv *kvs, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (kv_cmp(&kvs[i - 1], &kvs[i]) > 0)
			return false;
	return true;
}

/* Small objects (most of them): no qsort set-up, same order as kv_cmp. */
static void kvs_insertion_sort(struct kv *kvs, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct kv x = kvs[i];
		size_t j = i;
		while (j > 0 && kv_cmp(&kvs[j - 1], &x) > 0) {
			kvs[j] = kvs[j - 1];
			j--;
		}
		kvs[j] = x;
	}
}

static int jp_object(struct jp *p, unsigned depth, struct val **out)
{
	p->pos++; /* '{' */
	/* small objects collect their members on the stack */
	struct kv small[16];
	struct kv *kvs = small;
	size_t n = 0, cap = ARRAY_SIZE(small);
	int rc = 0;
	jp_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		goto build;
	}
	for (;;) {
		jp_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != '"') {
			rc = jp_fail(p, -EBADMSG, "expected object key");
			goto fail;
		}
		struct val *k = NULL, *v = NULL;
		rc = jp_string(p, &k);
		if (rc < 0)
			goto fail;
		jp_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ':') {
			val_unref(k);
			rc = jp_fail(p, -EBADMSG, "expected ':'");
			goto fail;
		}
		p->pos++;
		rc = jp_value(p, depth + 1, &v);
		if (rc < 0) {
			val_unref(k);
			goto fail;
		}
		if (n == cap) {
			size_t ncap = cap * 2;
			struct kv *nk = reallocarray(kvs == small ? NULL : kvs, ncap, sizeof(*nk));
			if (!nk) {
				val_unref(k);
				val_unref(v);
				rc = jp_fail(p, -ENOMEM, "out of memory");
				goto fail;
			}
			if (kvs == small)
				memcpy(nk, small, sizeof(small));
			kvs = nk;
			cap = ncap;
		}
		kvs[n] = (struct kv){ k, v, n };
		n++;
		jp_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == '}') {
			p->pos++;
			break;
		}
		rc = jp_fail(p, -EBADMSG, "expected ',' or '}'");
		goto fail;
	}
build:;
	/* Sort once (stable by position) and keep the last of duplicate keys,
	 * as Go's decoder does; avoids quadratic inserts on hostile input. */
	if (n > 1 && !kvs_sorted(kvs, n)) {
		if (n <= 16)
			kvs_insertion_sort(kvs, n);
		else
			qsort(kvs, n, sizeof(*kvs), kv_cmp);
	}
	struct val *o = val_object_new(n);
	if (!o) {
		rc = jp_fail(p, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && key_cmp(kvs[i].k, kvs[i + 1].k) == 0) {
			val_unref(kvs[i].k);
			val_unref(kvs[i].v);
			continue;
		}
		o->obj.keys[o->obj.n] = kvs[i].k;
		o->obj.vals[o->obj.n] = kvs[i].v;
		o->obj.n++;
	}
	if (kvs != small)
		free(kvs);
	*out = o;
	return 0;
fail:
	for (size_t i = 0; i < n; i++) {
		val_unref(kvs[i].k);
		val_unref(kvs[i].v);
	}
	if (kvs != small)
		free(kvs);
	return rc;
}

/* Items are collected first (on the stack while few) so the array is made
 * with its exact size: one allocation for a small array. */
static int jp_array(struct jp *p, unsigned depth, struct val **out)
{
	p->pos++; /* '[' */
	struct val *small[16];
	struct val **items = small;
	size_t n = 0, cap = ARRAY_SIZE(small);
	int rc = 0;
	jp_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		goto build;
	}
	for (;;) {
		struct val *v = NULL;
		rc = jp_value(p, depth + 1, &v);
		if (rc < 0)
			goto fail;
		if (n == cap) {
			size_t ncap = cap * 2;
			struct val **ni = reallocarray(items == small ? NULL : items, ncap, sizeof(*ni));
			if (!ni) {
				val_unref(v);
				rc = jp_fail(p, -ENOMEM, "out of memory");
				goto fail;
			}
			if (items == small)
				memcpy(ni, small, sizeof(small));
			items = ni;
			cap = ncap;
		}
		items[n++] = v;
		jp_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == ']') {
			p->pos++;
			break;
		}
		rc = jp_fail(p, -EBADMSG, "expected ',' or ']'");
		goto fail;
	}
build:;
	struct val *a = val_array_new(n);
	if (!a) {
		rc = jp_fail(p, -ENOMEM, "out of memory");
		goto fail;
	}
	if (n)
		memcpy(a->arr.items, items, n * sizeof(*items));
	a->arr.n = n;
	if (items != small)
		free(items);
	*out = a;
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		val_unref(items[i]);
	if (items != small)
		free(items);
	return rc;
}

static int jp_value(struct jp *p, unsigned depth, struct val **out)
{
	if (depth > p->lim->max_depth)
		return jp_fail(p, -E2BIG, "nesting deeper than the limit");
	if (++p->items > p->lim->max_items)
		return jp_fail(p, -E2BIG, "more values than the limit");
	jp_ws(p);
	if (p->pos >= p->len)
		return jp_fail(p, -EBADMSG, "unexpected end of input");
	switch (p->s[p->pos]) {
	case '{': return jp_object(p, depth, out);
	case '[': return jp_array(p, depth, out);
	case '"': return jp_string(p, out);
	case 't': return jp_lit(p, "true", val_bool(true), out);
	case 'f': return jp_lit(p, "false", val_bool(false), out);
	case 'n': return jp_lit(p, "null", val_null(), out);
	default: return jp_number(p, out);
	}
}

int val_from_json(const char *text, size_t len, const struct json_limits *lim, struct val **out,
		  struct arca_err *e)
{
	struct jp p = { .s = text, .len = len, .lim = lim ? lim : &json_limits_default, .e = e };
	buf_init(&p.scratch);
	if (len > p.lim->max_bytes) {
		buf_release(&p.scratch);
		return err_set(e, -E2BIG, "json: input of %zu bytes exceeds the limit of %zu", len, p.lim->max_bytes);
	}
	struct val *v = NULL;
	int rc = jp_value(&p, 0, &v);
	buf_release(&p.scratch);
	for (size_t i = 0; i < JSON_SHARE_SLOTS; i++)
		val_unref(p.shared[i]);
	if (rc < 0)
		return rc;
	jp_ws(&p);
	if (p.pos != p.len) {
		val_unref(v);
		return jp_fail(&p, -EBADMSG, "trailing data after value");
	}
	*out = v;
	return 0;
}

/* ----------------------------------------------------------- serializer */

void json_quote(struct buf *out, const char *s, size_t len, unsigned flags)
{
	static const char hexd[] = "0123456789abcdef";
	buf_addch(out, '"');
	size_t i = 0, run = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;
		char ubuf[8];
		size_t adv = 1;
		if (c >= 0x80) {
			uint32_t cp;
			size_t n = utf8_seq((const unsigned char *)s + i, len - i, &cp);
			if (n == 0)
				rep = "\\ufffd"; /* invalid UTF-8 is replaced, as Go does */
			else {
				adv = n;
				if (cp == 0x2028)
					rep = "\\u2028";
				else if (cp == 0x2029)
					rep = "\\u2029";
			}
		} else if (c == '"')
			rep = "\\\"";
		else if (c == '\\')
			rep = "\\\\";
		else if (c == '\n')
			rep = "\\n";
		else if (c == '\r')
			rep = "\\r";
		else if (c == '\t')
			rep = "\\t";
		else if (c < 0x20 || ((flags & JSON_ESCAPE_HTML) && (c == '<' || c == '>' || c == '&'))) {
			ubuf[0] = '\\';
			ubuf[1] = 'u';
			ubuf[2] = '0';
			ubuf[3] = '0';
			ubuf[4] = hexd[c >> 4];
			ubuf[5] = hexd[c & 15];
			ubuf[6] = '\0';
			rep = ubuf;
		}
		if (rep) {
			buf_add(out, s + i - run, run);
			run = 0;
			buf_addstr(out, rep);
			i += adv;
			continue;
		}
		run += adv;
		i += adv;
	}
	buf_add(out, s + len - run, run);
	buf_addch(out, '"');
}

static void indent(struct buf *out, unsigned level)
{
	buf_addch(out, '\n');
	for (unsigned i = 0; i < level; i++)
		buf_add(out, "  ", 2);
}

static void to_json(const struct val *v, struct buf *out, unsigned flags, unsigned level)
{
	bool pretty = flags & JSON_PRETTY;
	switch (v->kind) {
	case VAL_NULL:
		buf_add(out, "null", 4);
		break;
	case VAL_BOOL:
		buf_addstr(out, v->b ? "true" : "false");
		break;
	case VAL_NUMBER:
		if (v->is_int)
			buf_addf(out, "%lld", (long long)v->i);
		else
			buf_addstr(out, v->num.text);
		break;
	case VAL_STRING:
		json_quote(out, v->str.s, v->str.len, flags);
		break;
	case VAL_ARRAY:
	case VAL_SET:
		buf_addch(out, '[');
		for (size_t i = 0; i < v->arr.n; i++) {
			if (i)
				buf_addch(out, ',');
			if (pretty)
				indent(out, level + 1);
			to_json(v->arr.items[i], out, flags, level + 1);
		}
		if (pretty && v->arr.n)
			indent(out, level);
		buf_addch(out, ']');
		break;
	case VAL_OBJECT:
		buf_addch(out, '{');
		for (size_t i = 0; i < v->obj.n; i++) {
			if (i)
				buf_addch(out, ',');
			if (pretty)
				indent(out, level + 1);
			const struct val *k = v->obj.keys[i];
			if (k->kind == VAL_STRING)
				to_json(k, out, flags, level + 1);
			else {
				/* Non-string keys (Rego) are written as their JSON text. */
				struct buf kb = BUF_INIT;
				to_json(k, &kb, flags & ~(unsigned)JSON_PRETTY, 0);
				json_quote(out, kb.p, kb.len, flags);
				if (buf_error(&kb))
					out->oom = true;
				buf_release(&kb);
			}
			buf_addch(out, ':');
			if (pretty)
				buf_addch(out, ' ');
			to_json(v->obj.vals[i], out, flags, level + 1);
		}
		if (pretty && v->obj.n)
			indent(out, level);
		buf_addch(out, '}');
		break;
	}
}

void val_to_json(const struct val *v, struct buf *out, unsigned flags) { to_json(v, out, flags, 0); }
