/* SPDX-License-Identifier: Apache-2.0 */
/* Builtin lookup across the family tables, and helpers shared by them. */
#include "../internal.h"

#include <math.h>

static const struct builtin_decl *const families[] = {
	rego_builtins_core,
	rego_builtins_strings,
	rego_builtins_collections,
	rego_builtins_encoding,
	rego_builtins_units,
	rego_builtins_crypto,
	rego_builtins_regex,
	rego_builtins_net,
	rego_builtins_time,
	rego_builtins_jwt,
	rego_builtins_misc,
	rego_builtins_x509,
	rego_builtins_uri,
	rego_builtins_aws,
	rego_builtins_jsonschema,
	rego_builtins_http,
	rego_builtins_globs,
	rego_builtins_template,
	rego_builtins_yaml,
	rego_builtins_metadata,
	rego_builtins_parsemodule,
};

const struct builtin_decl *builtin_find(const char *name)
{
	for (size_t f = 0; f < ARRAY_SIZE(families); f++)
		for (const struct builtin_decl *d = families[f]; d->name; d++)
			if (strcmp(d->name, name) == 0)
				return d;
	return NULL;
}

const char *val_type_name(const struct val *v)
{
	static const char *const names[] = { "null", "boolean", "number", "string", "array", "object", "set" };
	return v->kind < ARRAY_SIZE(names) ? names[v->kind] : "unknown";
}

int bi_type_err(struct ev *ev, const char *fn, int pos, const char *want, const struct val *got)
{
	return ev_error(ev, -EINVAL, EC_TYPE, "%s: operand %d must be %s but got %s", fn, pos, want, val_type_name(got));
}

double num_d(const struct val *v)
{
	if (v->kind != VAL_NUMBER)
		return 0;
	return v->is_int ? (double)v->i : v->num.d;
}

bool num_is_int(const struct val *v, int64_t *out)
{
	if (v->kind != VAL_NUMBER)
		return false;
	if (v->is_int) {
		*out = v->i;
		return true;
	}
	double d = v->num.d;
	if (d == floor(d) && fabs(d) < 9.2e18) {
		*out = (int64_t)d;
		return true;
	}
	return false;
}

bool num_is_int128(const struct val *v, __int128 *out)
{
	int64_t i;
	if (num_is_int(v, &i) && (v->is_int || fabs(v->num.d) < 9e15)) {
		*out = i;
		return true;
	}
	if (v->kind != VAL_NUMBER || v->is_int || !v->num.text)
		return false;
	/* integer text beyond int64: OPA's numbers are exact there */
	const char *t = v->num.text;
	bool neg = *t == '-';
	t += neg;
	size_t n = strlen(t);
	if (n == 0 || n > 38 || strspn(t, "0123456789") != n)
		return false;
	__int128 x = 0;
	for (size_t k = 0; k < n; k++)
		x = x * 10 + (t[k] - '0');
	*out = neg ? -x : x;
	return true;
}

struct val *num_from_int128(__int128 x)
{
	if (x >= INT64_MIN && x <= INT64_MAX)
		return val_int((int64_t)x);
	char b[48], *p = b + sizeof(b) - 1;
	unsigned __int128 u = x < 0 ? -(unsigned __int128)x : (unsigned __int128)x;
	*p = 0;
	do {
		*--p = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	if (x < 0)
		*--p = '-';
	return val_number_text(p, strlen(p));
}

struct val *num_from_double(double d)
{
	if (d == floor(d) && fabs(d) < 9.007199254740992e15)
		return val_int((int64_t)d);
	return val_double(d);
}

static void text_rec(const struct val *v, struct buf *b)
{
	switch (v->kind) {
	case VAL_SET:
		if (v->arr.n == 0) {
			buf_addstr(b, "set()");
			return;
		}
		buf_addch(b, '{');
		for (size_t i = 0; i < v->arr.n; i++) {
			if (i)
				buf_addstr(b, ", ");
			text_rec(v->arr.items[i], b);
		}
		buf_addch(b, '}');
		return;
	case VAL_ARRAY:
		buf_addch(b, '[');
		for (size_t i = 0; i < v->arr.n; i++) {
			if (i)
				buf_addstr(b, ", ");
			text_rec(v->arr.items[i], b);
		}
		buf_addch(b, ']');
		return;
	case VAL_OBJECT:
		buf_addch(b, '{');
		for (size_t i = 0; i < v->obj.n; i++) {
			if (i)
				buf_addstr(b, ", ");
			text_rec(v->obj.keys[i], b);
			buf_addstr(b, ": ");
			text_rec(v->obj.vals[i], b);
		}
		buf_addch(b, '}');
		return;
	default:
		val_to_json(v, b, 0);
	}
}

int val_to_text(const struct val *v, struct buf *b)
{
	text_rec(v, b);
	return buf_error(b);
}

void rego_val_text(const struct val *v, struct buf *out) { text_rec(v, out); }

struct val *ev_cache_get(struct ev *ev, const struct val *key)
{
	return ev->bcache ? val_object_get(ev->bcache, key) : NULL;
}

int ev_cache_put(struct ev *ev, struct val *key, struct val *v)
{
	if (!ev->bcache && !(ev->bcache = val_object_new(4))) {
		val_unref(key);
		val_unref(v);
		return -ENOMEM;
	}
	return val_object_put(ev->bcache, key, v);
}
