/* SPDX-License-Identifier: Apache-2.0 */
/* String builtins: concat, search, case, split/replace, trim, sprintf. */
#include "../internal.h"

#include <ctype.h>
#include <math.h>

#define A0 args[0]
#define A1 args[1]
#define A2 args[2]

static int need_str(struct ev *ev, const char *fn, int pos, struct val *v)
{
	if (v->kind == VAL_STRING)
		return 0;
	return bi_type_err(ev, fn, pos, "string", v);
}

#define STR1(fn) do { int _r = need_str(ev, fn, 1, A0); if (_r) return _r; } while (0)
#define STR2(fn) do { int _r = need_str(ev, fn, 1, A0); if (!_r) _r = need_str(ev, fn, 2, A1); if (_r) return _r; } while (0)

static int ret(struct val **out, struct val *v)
{
	*out = v;
	return v ? 0 : -ENOMEM;
}

static const char *memfind(const char *h, size_t hn, const char *n, size_t nn)
{
	if (nn == 0)
		return h;
	/* !n: unreachable (nn > 0), but -O3 with the sanitizers cannot see it */
	if (nn > hn || !n)
		return NULL;
	return memmem(h, hn, n, nn);
}

static int bi_concat(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "concat", 1, "string", A0);
	if (A1->kind != VAL_ARRAY && A1->kind != VAL_SET)
		return bi_type_err(ev, "concat", 2, "one of {array, set}", A1);
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < A1->arr.n; i++) {
		struct val *x = A1->arr.items[i];
		if (x->kind != VAL_STRING) {
			buf_release(&b);
			return ev_error(ev, -EINVAL, EC_TYPE, "concat: operand 2 must be one of {array, set} of strings but got %s containing %s",
					val_type_name(A1), val_type_name(x));
		}
		if (i)
			buf_add(&b, A0->str.s, A0->str.len);
		buf_add(&b, x->str.s, x->str.len);
	}
	struct val *v = buf_error(&b) ? NULL : val_string(b.p, b.len);
	buf_release(&b);
	return ret(out, v);
}

static int bi_contains(struct ev *ev, struct val **args, struct val **out)
{
	STR2("contains");
	return ret(out, val_bool(memfind(A0->str.s, A0->str.len, A1->str.s, A1->str.len) != NULL));
}

static int bi_startswith(struct ev *ev, struct val **args, struct val **out)
{
	STR2("startswith");
	return ret(out, val_bool(A1->str.len <= A0->str.len && memcmp(A0->str.s, A1->str.s, A1->str.len) == 0));
}

static int bi_endswith(struct ev *ev, struct val **args, struct val **out)
{
	STR2("endswith");
	return ret(out, val_bool(A1->str.len <= A0->str.len &&
				 memcmp(A0->str.s + A0->str.len - A1->str.len, A1->str.s, A1->str.len) == 0));
}

static int casefn(struct ev *ev, const char *fn, struct val **args, struct val **out, bool up)
{
	STR1(fn);
	struct val *v = val_string(A0->str.s, A0->str.len);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < v->str.len; i++)
		v->str.s[i] = (char)(up ? toupper((unsigned char)v->str.s[i]) : tolower((unsigned char)v->str.s[i]));
	*out = v;
	return 0;
}
static int bi_lower(struct ev *ev, struct val **args, struct val **out) { return casefn(ev, "lower", args, out, false); }
static int bi_upper(struct ev *ev, struct val **args, struct val **out) { return casefn(ev, "upper", args, out, true); }

static int split_n(struct val *s, struct val *sep, int64_t n, struct val **out)
{
	struct val *a = val_array_new(4);
	if (!a)
		return -ENOMEM;
	const char *p = s->str.s, *end = s->str.s + s->str.len;
	if (n == 0) {
		*out = a;
		return 0;
	}
	if (sep->str.len == 0) {
		/* split into UTF-8 characters */
		while (p < end && (n < 0 || (int64_t)a->arr.n < n - 1)) {
			const char *q = p + 1;
			while (q < end && ((unsigned char)*q & 0xc0) == 0x80)
				q++;
			if (val_array_push(a, val_string(p, (size_t)(q - p))) < 0)
				goto oom;
			p = q;
		}
		if (p < end && val_array_push(a, val_string(p, (size_t)(end - p))) < 0)
			goto oom;
		*out = a;
		return 0;
	}
	for (;;) {
		const char *q = (n < 0 || (int64_t)a->arr.n < n - 1) ? memfind(p, (size_t)(end - p), sep->str.s, sep->str.len) : NULL;
		if (!q) {
			if (val_array_push(a, val_string(p, (size_t)(end - p))) < 0)
				goto oom;
			break;
		}
		if (val_array_push(a, val_string(p, (size_t)(q - p))) < 0)
			goto oom;
		p = q + sep->str.len;
	}
	*out = a;
	return 0;
oom:
	val_unref(a);
	return -ENOMEM;
}

static int bi_split(struct ev *ev, struct val **args, struct val **out)
{
	STR2("split");
	return split_n(A0, A1, -1, out);
}

static int bi_split_n(struct ev *ev, struct val **args, struct val **out)
{
	STR2("strings.split_n");
	int64_t n;
	if (A2->kind != VAL_NUMBER)
		return bi_type_err(ev, "strings.split_n", 3, "number", A2);
	if (!A2->is_int && !num_is_int(A2, &n))
		return ev_error(ev, -EINVAL, EC_TYPE, "strings.split_n: operand 3 must be integer number but got floating-point number");
	num_is_int(A2, &n);
	/* OPA: the first n parts (n > 0) or the last -n parts (n < 0) */
	struct val *all = NULL;
	int rc = split_n(A0, A1, -1, &all);
	if (rc < 0)
		return rc;
	size_t total = all->arr.n, from = 0, to = total;
	if (n >= 0)
		to = (uint64_t)n < total ? (size_t)n : total;
	else
		from = (uint64_t)(-n) < total ? total - (size_t)(-n) : 0;
	struct val *a = val_array_new(to - from);
	for (size_t i = from; a && i < to; i++)
		if (val_array_push(a, val_ref(all->arr.items[i])) < 0) {
			val_unref(a);
			a = NULL;
		}
	val_unref(all);
	return ret(out, a);
}

static struct val *replace_all(const char *s, size_t n, const char *old, size_t on, const char *nw, size_t nn, int64_t max)
{
	struct buf b = BUF_INIT;
	const char *p = s, *end = s + n;
	int64_t done = 0;
	if (on == 0) {
		/* Go: insert at every rune boundary */
		while (p <= end && (max < 0 || done < max)) {
			buf_add(&b, nw, nn);
			done++;
			if (p == end)
				break;
			const char *q = p + 1;
			while (q < end && ((unsigned char)*q & 0xc0) == 0x80)
				q++;
			buf_add(&b, p, (size_t)(q - p));
			p = q;
		}
		buf_add(&b, p, (size_t)(end - p));
	} else {
		while (max < 0 || done < max) {
			const char *q = memfind(p, (size_t)(end - p), old, on);
			if (!q)
				break;
			buf_add(&b, p, (size_t)(q - p));
			buf_add(&b, nw, nn);
			p = q + on;
			done++;
		}
		buf_add(&b, p, (size_t)(end - p));
	}
	struct val *v = buf_error(&b) ? NULL : val_string(b.p, b.len);
	buf_release(&b);
	return v;
}

static int bi_replace(struct ev *ev, struct val **args, struct val **out)
{
	STR2("replace");
	if (A2->kind != VAL_STRING)
		return bi_type_err(ev, "replace", 3, "string", A2);
	return ret(out, replace_all(A0->str.s, A0->str.len, A1->str.s, A1->str.len, A2->str.s, A2->str.len, -1));
}

static int bi_replace_n(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_OBJECT)
		return bi_type_err(ev, "strings.replace_n", 1, "object", A0);
	if (A1->kind != VAL_STRING)
		return bi_type_err(ev, "strings.replace_n", 2, "string", A1);
	for (size_t i = 0; i < A0->obj.n; i++) {
		if (A0->obj.keys[i]->kind != VAL_STRING)
			return ev_error(ev, -EINVAL, EC_TYPE, "strings.replace_n: operand 1 non-string key found in pattern object");
		if (A0->obj.vals[i]->kind != VAL_STRING)
			return ev_error(ev, -EINVAL, EC_TYPE, "strings.replace_n: operand 1 non-string value found in pattern object");
	}
	/* Go's strings.NewReplacer: at each position, the first matching old
	 * string in argument order (keys sorted here) wins */
	struct buf b = BUF_INIT;
	const char *s = A1->str.s;
	size_t n = A1->str.len, i = 0;
	while (i < n) {
		bool hit = false;
		for (size_t k = 0; k < A0->obj.n; k++) {
			struct val *o = A0->obj.keys[k];
			if (o->str.len && o->str.len <= n - i && memcmp(s + i, o->str.s, o->str.len) == 0) {
				buf_add(&b, A0->obj.vals[k]->str.s, A0->obj.vals[k]->str.len);
				i += o->str.len;
				hit = true;
				break;
			}
		}
		if (!hit)
			buf_addch(&b, s[i++]);
	}
	struct val *v = buf_error(&b) ? NULL : val_string(b.p, b.len);
	buf_release(&b);
	return ret(out, v);
}

static bool in_cut(const struct val *cut, unsigned char c, const char *p, size_t left, size_t *clen)
{
	/* cutset is a set of UTF-8 runes */
	const char *s = cut->str.s;
	size_t n = cut->str.len, i = 0;
	(void)c;
	while (i < n) {
		size_t l = 1;
		while (i + l < n && ((unsigned char)s[i + l] & 0xc0) == 0x80)
			l++;
		if (l <= left && memcmp(p, s + i, l) == 0) {
			*clen = l;
			return true;
		}
		i += l;
	}
	return false;
}

static int trimfn(struct ev *ev, const char *fn, struct val **args, struct val **out, bool left, bool right)
{
	STR2(fn);
	const char *p = A0->str.s, *end = p + A0->str.len;
	size_t cl;
	while (left && p < end && in_cut(A1, (unsigned char)*p, p, (size_t)(end - p), &cl))
		p += cl;
	while (right && end > p) {
		const char *q = end - 1;
		while (q > p && ((unsigned char)*q & 0xc0) == 0x80)
			q--;
		if (!in_cut(A1, (unsigned char)*q, q, (size_t)(end - q), &cl) || cl != (size_t)(end - q))
			break;
		end = q;
	}
	return ret(out, val_string(p, (size_t)(end - p)));
}
static int bi_trim(struct ev *ev, struct val **args, struct val **out) { return trimfn(ev, "trim", args, out, true, true); }
static int bi_trim_left(struct ev *ev, struct val **args, struct val **out) { return trimfn(ev, "trim_left", args, out, true, false); }
static int bi_trim_right(struct ev *ev, struct val **args, struct val **out) { return trimfn(ev, "trim_right", args, out, false, true); }

static int bi_trim_prefix(struct ev *ev, struct val **args, struct val **out)
{
	STR2("trim_prefix");
	if (A1->str.len <= A0->str.len && memcmp(A0->str.s, A1->str.s, A1->str.len) == 0)
		return ret(out, val_string(A0->str.s + A1->str.len, A0->str.len - A1->str.len));
	return ret(out, val_ref(A0));
}

static int bi_trim_suffix(struct ev *ev, struct val **args, struct val **out)
{
	STR2("trim_suffix");
	if (A1->str.len <= A0->str.len && memcmp(A0->str.s + A0->str.len - A1->str.len, A1->str.s, A1->str.len) == 0)
		return ret(out, val_string(A0->str.s, A0->str.len - A1->str.len));
	return ret(out, val_ref(A0));
}

static int bi_trim_space(struct ev *ev, struct val **args, struct val **out)
{
	STR1("trim_space");
	const char *p = A0->str.s, *end = p + A0->str.len;
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	return ret(out, val_string(p, (size_t)(end - p)));
}

/* Byte offsets of each rune start, plus the end. */
static size_t *runes(const struct val *s, size_t *n)
{
	size_t *r = malloc((s->str.len + 1) * sizeof(*r));
	size_t k = 0;
	if (!r)
		return NULL;
	for (size_t i = 0; i < s->str.len; i += utf8_step(s->str.s + i, s->str.len - i))
		r[k++] = i;
	r[k] = s->str.len;
	*n = k;
	return r;
}

static int bi_substring(struct ev *ev, struct val **args, struct val **out)
{
	int64_t off, len;
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "substring", 1, "string", A0);
	if (A1->kind != VAL_NUMBER)
		return bi_type_err(ev, "substring", 2, "number", A1);
	if (A2->kind != VAL_NUMBER)
		return bi_type_err(ev, "substring", 3, "number", A2);
	if (!num_is_int(A1, &off))
		return ev_error(ev, -EINVAL, EC_TYPE, "substring: operand 2 must be integer number but got floating-point number");
	if (!num_is_int(A2, &len))
		return ev_error(ev, -EINVAL, EC_TYPE, "substring: operand 3 must be integer number but got floating-point number");
	if (off < 0)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "substring: negative offset");
	size_t n;
	size_t *r = runes(A0, &n);
	if (!r)
		return -ENOMEM;
	struct val *v;
	if ((uint64_t)off >= n) {
		v = val_string("", 0);
	} else {
		size_t end = (len < 0 || (uint64_t)off + (uint64_t)len > n) ? n : (size_t)(off + len);
		v = val_string(A0->str.s + r[off], r[end] - r[off]);
	}
	free(r);
	return ret(out, v);
}

static int bi_indexof(struct ev *ev, struct val **args, struct val **out)
{
	STR2("indexof");
	const char *q = memfind(A0->str.s, A0->str.len, A1->str.s, A1->str.len);
	if (!q)
		return ret(out, val_int(-1));
	int64_t idx = 0;
	for (const char *p = A0->str.s; p < q; p++)
		if (((unsigned char)*p & 0xc0) != 0x80)
			idx++;
	return ret(out, val_int(idx));
}

static int bi_indexof_n(struct ev *ev, struct val **args, struct val **out)
{
	STR2("indexof_n");
	struct val *a = val_array_new(4);
	if (!a)
		return -ENOMEM;
	const char *s = A0->str.s;
	size_t n = A0->str.len;
	int64_t ri = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (A1->str.len <= n - i && memcmp(s + i, A1->str.s, A1->str.len) == 0 && (A1->str.len || i < n))
			if (val_array_push(a, val_int(ri)) < 0) {
				val_unref(a);
				return -ENOMEM;
			}
		ri++;
	}
	*out = a;
	return 0;
}

static int bi_reverse(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "reverse", 1, "string", A0);
	size_t n;
	size_t *r = runes(A0, &n);
	if (!r)
		return -ENOMEM;
	struct buf b = BUF_INIT;
	for (size_t i = n; i > 0; i--)
		buf_add(&b, A0->str.s + r[i - 1], r[i] - r[i - 1]);
	free(r);
	struct val *v = buf_error(&b) ? NULL : val_string(b.p, b.len);
	buf_release(&b);
	return ret(out, v);
}

static int bi_strings_count(struct ev *ev, struct val **args, struct val **out)
{
	STR2("strings.count");
	int64_t c = 0;
	if (A1->str.len == 0) {
		size_t n;
		size_t *r = runes(A0, &n);
		if (!r)
			return -ENOMEM;
		free(r);
		c = (int64_t)n + 1;
	} else {
		const char *p = A0->str.s, *end = p + A0->str.len, *q;
		while ((q = memfind(p, (size_t)(end - p), A1->str.s, A1->str.len))) {
			c++;
			p = q + A1->str.len;
		}
	}
	return ret(out, val_int(c));
}

static int any_match(struct ev *ev, const char *fn, struct val **args, struct val **out, bool prefix)
{
	for (int k = 0; k < 2; k++) {
		struct val *x = args[k];
		if (x->kind == VAL_STRING)
			continue;
		if (x->kind != VAL_ARRAY && x->kind != VAL_SET)
			return ev_error(ev, -EINVAL, EC_TYPE, "%s: operand %d must be one of {string, set, array} but got %s", fn,
					k + 1, val_type_name(x));
		for (size_t i = 0; i < x->arr.n; i++)
			if (x->arr.items[i]->kind != VAL_STRING)
				return ev_error(ev, -EINVAL, EC_TYPE, "%s: operand %d must be %s of strings but got %s containing %s",
						fn, k + 1, val_type_name(x), val_type_name(x), val_type_name(x->arr.items[i]));
	}
	struct val *one[2][1] = { { A0 }, { A1 } };
	struct val **l[2];
	size_t n[2];
	for (int k = 0; k < 2; k++) {
		if (args[k]->kind == VAL_STRING) {
			l[k] = one[k];
			n[k] = 1;
		} else {
			l[k] = args[k]->arr.items;
			n[k] = args[k]->arr.n;
		}
	}
	bool hit = false;
	for (size_t i = 0; i < n[0] && !hit; i++)
		for (size_t j = 0; j < n[1] && !hit; j++) {
			struct val *s = l[0][i], *p = l[1][j];
			if (p->str.len <= s->str.len)
				hit = prefix ? memcmp(s->str.s, p->str.s, p->str.len) == 0
					     : memcmp(s->str.s + s->str.len - p->str.len, p->str.s, p->str.len) == 0;
		}
	return ret(out, val_bool(hit));
}
static int bi_any_prefix(struct ev *ev, struct val **args, struct val **out) { return any_match(ev, "strings.any_prefix_match", args, out, true); }
static int bi_any_suffix(struct ev *ev, struct val **args, struct val **out) { return any_match(ev, "strings.any_suffix_match", args, out, false); }

static int bi_format_int(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_NUMBER)
		return bi_type_err(ev, "format_int", 1, "number", A0);
	if (A1->kind != VAL_NUMBER)
		return bi_type_err(ev, "format_int", 2, "number", A1);
	int64_t base;
	if (!num_is_int(A1, &base) || (base != 2 && base != 8 && base != 10 && base != 16))
		return ev_error(ev, -EINVAL, EC_TYPE, "format_int: operand 2 must be one of {2, 8, 10, 16}");
	__int128 x;
	if (!num_is_int128(A0, &x)) {
		double d = num_d(A0);
		if (!(fabs(d) < 9.2e18))
			return ev_error(ev, -ERANGE, EC_BUILTIN, "format_int: number out of range");
		x = (int64_t)(d < 0 ? ceil(d) : floor(d));
	}
	char buf[160], *p = buf + sizeof(buf) - 1;
	*p = 0;
	unsigned __int128 u = x < 0 ? -(unsigned __int128)x : (unsigned __int128)x;
	do {
		*--p = "0123456789abcdef"[(int)(u % (unsigned)base)];
		u /= (unsigned)base;
	} while (u);
	if (x < 0)
		*--p = '-';
	return ret(out, val_cstr(p));
}

/* sprintf with Go verbs. The format specs passed to buf_addf are built
 * here from a whitelist of flag characters and one verb, hence the local
 * -Wformat-nonliteral exceptions. */
/* sprintf with Go verbs: %v %s %d %f %e %g %x %X %o %b %q %t %c %%. */
static void fmt_val(struct buf *b, struct val *v)
{
	if (v->kind == VAL_STRING)
		buf_add(b, v->str.s, v->str.len);
	else
		val_to_text(v, b);
}

static int bi_sprintf(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "sprintf", 1, "string", A0);
	if (A1->kind != VAL_ARRAY)
		return bi_type_err(ev, "sprintf", 2, "array", A1);
	struct buf b = BUF_INIT;
	const char *f = A0->str.s, *end = f + A0->str.len;
	size_t ai = 0;
	while (f < end) {
		if (*f != '%') {
			buf_addch(&b, *f++);
			continue;
		}
		f++;
		if (f < end && *f == '%') {
			buf_addch(&b, '%');
			f++;
			continue;
		}
		char spec[32];
		size_t sl = 0;
		spec[sl++] = '%';
		while (f < end && strchr("+-# 0123456789.", *f) && sl < sizeof(spec) - 3)
			spec[sl++] = *f++;
		if (f >= end)
			break;
		char verb = *f++;
		if (ai >= A1->arr.n) {
			buf_addf(&b, "%%!%c(MISSING)", verb);
			continue;
		}
		struct val *v = A1->arr.items[ai++];
		switch (verb) {
		case 'd':
			if (v->kind == VAL_NUMBER) {
				int64_t i;
				if (num_is_int(v, &i)) {
					spec[sl++] = 'l';
					spec[sl++] = 'l';
					spec[sl++] = 'd';
					spec[sl] = 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
					buf_addf(&b, spec, (long long)i);
#pragma GCC diagnostic pop
				} else {
					buf_addstr(&b, "%!d(float64=");
					fmt_val(&b, v);
					buf_addch(&b, ')');
				}
			} else {
				buf_addstr(&b, "%!d(");
				buf_addstr(&b, val_type_name(v));
				buf_addch(&b, '=');
				fmt_val(&b, v);
				buf_addch(&b, ')');
			}
			break;
		case 'f':
		case 'e':
		case 'g':
		case 'E':
		case 'G':
			if (v->kind == VAL_NUMBER) {
				spec[sl++] = verb;
				spec[sl] = 0;
				if (verb == 'g' && !strchr(spec, '.')) {
					/* Go %g: shortest representation */
					struct val *dv = val_double(num_d(v));
					if (dv) {
						buf_addstr(&b, dv->is_int ? "" : "");
						fmt_val(&b, v);
						val_unref(dv);
					}
				} else {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
					buf_addf(&b, spec, num_d(v));
#pragma GCC diagnostic pop
				}
			} else {
				fmt_val(&b, v);
			}
			break;
		case 'x':
		case 'X':
		case 'o':
		case 'b':
			if (v->kind == VAL_NUMBER) {
				int64_t i;
				if (num_is_int(v, &i)) {
					if (verb == 'b') {
						char tmp[80], *p = tmp + sizeof(tmp) - 1;
						uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
						*p = 0;
						do {
							*--p = (char)('0' + (u & 1));
							u >>= 1;
						} while (u);
						if (i < 0)
							buf_addch(&b, '-');
						buf_addstr(&b, p);
					} else {
						if (i < 0) {
							buf_addch(&b, '-');
							i = -i;
						}
						spec[sl++] = 'l';
						spec[sl++] = 'l';
						spec[sl++] = verb;
						spec[sl] = 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
						buf_addf(&b, spec, (unsigned long long)i);
#pragma GCC diagnostic pop
					}
				} else {
					fmt_val(&b, v);
				}
			} else if (v->kind == VAL_STRING && (verb == 'x' || verb == 'X')) {
				for (size_t i = 0; i < v->str.len; i++)
					buf_addf(&b, verb == 'x' ? "%02x" : "%02X", (unsigned char)v->str.s[i]);
			} else {
				fmt_val(&b, v);
			}
			break;
		case 'q':
			if (v->kind == VAL_STRING)
				json_quote(&b, v->str.s, v->str.len, 0);
			else
				fmt_val(&b, v);
			break;
		case 't':
		case 's':
		case 'v':
		default: {
			struct buf t = BUF_INIT;
			fmt_val(&t, v);
			/* width / precision on strings */
			int width = 0;
			bool leftj = false;
			for (size_t i = 1; i < sl; i++) {
				if (spec[i] == '-')
					leftj = true;
				else if (spec[i] >= '0' && spec[i] <= '9' && !strchr(spec, '.'))
					width = width * 10 + (spec[i] - '0');
			}
			size_t tl = t.len;
			if (!leftj)
				for (size_t i = tl; (int)i < width; i++)
					buf_addch(&b, ' ');
			buf_add(&b, t.p, t.len);
			if (leftj)
				for (size_t i = tl; (int)i < width; i++)
					buf_addch(&b, ' ');
			buf_release(&t);
			break;
		}
		}
	}
	if (ai < A1->arr.n) {
		buf_addstr(&b, "%!(EXTRA ");
		for (size_t i = ai; i < A1->arr.n; i++) {
			if (i > ai)
				buf_addstr(&b, ", ");
			buf_addstr(&b, val_type_name(A1->arr.items[i]));
			buf_addch(&b, '=');
			fmt_val(&b, A1->arr.items[i]);
		}
		buf_addch(&b, ')');
	}
	struct val *v = buf_error(&b) ? NULL : val_string(b.p, b.len);
	buf_release(&b);
	return ret(out, v);
}

const struct builtin_decl rego_builtins_strings[] = {
	{ "concat", 2, bi_concat, "join strings with a delimiter" },
	{ "contains", 2, bi_contains, "substring test" },
	{ "startswith", 2, bi_startswith, "prefix test" },
	{ "endswith", 2, bi_endswith, "suffix test" },
	{ "lower", 1, bi_lower, "lower case" },
	{ "upper", 1, bi_upper, "upper case" },
	{ "split", 2, bi_split, "split by delimiter" },
	{ "strings.split_n", 3, bi_split_n, "split into at most n parts" },
	{ "replace", 3, bi_replace, "replace all occurrences" },
	{ "strings.replace_n", 2, bi_replace_n, "replace by pattern object" },
	{ "trim", 2, bi_trim, "trim cutset both ends" },
	{ "trim_left", 2, bi_trim_left, "trim cutset left" },
	{ "trim_right", 2, bi_trim_right, "trim cutset right" },
	{ "trim_prefix", 2, bi_trim_prefix, "remove prefix" },
	{ "trim_suffix", 2, bi_trim_suffix, "remove suffix" },
	{ "trim_space", 1, bi_trim_space, "trim white space" },
	{ "substring", 3, bi_substring, "substring by rune offset and length" },
	{ "indexof", 2, bi_indexof, "rune index of first match" },
	{ "indexof_n", 2, bi_indexof_n, "rune indexes of all matches" },
	{ "strings.reverse", 1, bi_reverse, "reverse runes" },
	{ "strings.count", 2, bi_strings_count, "count non-overlapping matches" },
	{ "strings.any_prefix_match", 2, bi_any_prefix, "any string has any prefix" },
	{ "strings.any_suffix_match", 2, bi_any_suffix, "any string has any suffix" },
	{ "format_int", 2, bi_format_int, "integer in base 2, 8, 10 or 16" },
	{ "sprintf", 2, bi_sprintf, "Go-style formatting" },
	{ NULL, 0, NULL, NULL },
};
