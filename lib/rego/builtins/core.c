/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Core builtins: comparison, arithmetic, membership, aggregates, types and
 * numbers. Integers that fit int64 stay exact; results that overflow fall
 * back to floating point (arbitrary precision is not implemented yet).
 */
#include "../internal.h"

#include <math.h>
#include <strings.h>

#include <openssl/bn.h>

#define A0 args[0]
#define A1 args[1]

/* ------------------------------------------------ arbitrary precision */

/* An integer value (int64 or integral JSON text without fraction or
 * exponent) as a BIGNUM; NULL when @v is not such an integer. */
static BIGNUM *int_bn(const struct val *v)
{
	BIGNUM *bn = NULL;
	if (v->kind != VAL_NUMBER)
		return NULL;
	if (v->is_int) {
		char t[24];
		snprintf(t, sizeof(t), "%lld", (long long)v->i);
		return BN_dec2bn(&bn, t) ? bn : NULL;
	}
	const char *t = v->num.text;
	for (const char *c = t; *c; c++)
		if (*c == '.' || *c == 'e' || *c == 'E')
			return NULL;
	return BN_dec2bn(&bn, t) ? bn : NULL;
}

static struct val *bn_val(const BIGNUM *bn)
{
	char *t = BN_bn2dec(bn);
	if (!t)
		return NULL;
	struct val *v = val_number_text(t, strlen(t));
	OPENSSL_free(t);
	return v;
}

/* Exact integer arithmetic beyond int64. Returns 1 when not applicable
 * (non-integers or inexact division), 0 with *out set, -ENOMEM. */
static int bn_arith(const struct val *a, const struct val *b, int op, struct val **out)
{
	BIGNUM *x = int_bn(a), *y = int_bn(b), *r = BN_new(), *rem = BN_new();
	BN_CTX *ctx = BN_CTX_new();
	int rc = 1;
	if (!x || !y || !r || !rem || !ctx)
		goto out;
	switch (op) {
	case 0: rc = BN_add(r, x, y) ? 0 : -ENOMEM; break;
	case 1: rc = BN_sub(r, x, y) ? 0 : -ENOMEM; break;
	case 2: rc = BN_mul(r, x, y, ctx) ? 0 : -ENOMEM; break;
	case 3:
		if (BN_is_zero(y) || !BN_div(r, rem, x, y, ctx) || !BN_is_zero(rem))
			goto out;
		rc = 0;
		break;
	case 4:
		/* Go's big.Int Rem: sign follows the dividend */
		if (BN_is_zero(y) || !BN_div(NULL, r, x, y, ctx))
			goto out;
		rc = 0;
		break;
	}
	if (rc == 0) {
		*out = bn_val(r);
		if (!*out)
			rc = -ENOMEM;
	}
out:
	BN_free(x);
	BN_free(y);
	BN_free(r);
	BN_free(rem);
	BN_CTX_free(ctx);
	return rc;
}

static int bi_cmp(struct val **args, struct val **out, int op)
{
	int c = val_compare(A0, A1);
	bool r = false;
	switch (op) {
	case 0: r = c == 0; break;
	case 1: r = c != 0; break;
	case 2: r = c < 0; break;
	case 3: r = c <= 0; break;
	case 4: r = c > 0; break;
	case 5: r = c >= 0; break;
	}
	*out = val_bool(r);
	return 0;
}

static int bi_equal(struct ev *ev, struct val **args, struct val **out) { (void)ev; return bi_cmp(args, out, 0); }
static int bi_neq(struct ev *ev, struct val **args, struct val **out) { (void)ev; return bi_cmp(args, out, 1); }
static int bi_lt(struct ev *ev, struct val **args, struct val **out) { (void)ev; return bi_cmp(args, out, 2); }
static int bi_lte(struct ev *ev, struct val **args, struct val **out) { (void)ev; return bi_cmp(args, out, 3); }
static int bi_gt(struct ev *ev, struct val **args, struct val **out) { (void)ev; return bi_cmp(args, out, 4); }
static int bi_gte(struct ev *ev, struct val **args, struct val **out) { (void)ev; return bi_cmp(args, out, 5); }

static int set_op(struct ev *ev, const char *fn, struct val **args, struct val **out, int op);

static int arith(struct ev *ev, const char *fn, struct val **args, struct val **out, int op)
{
	if (op == 1 && A0->kind == VAL_SET && A1->kind == VAL_SET)
		return set_op(ev, fn, args, out, 2);
	if (op == 1 && A0->kind == VAL_SET)
		return bi_type_err(ev, fn, 2, "set", A1);
	if (A0->kind != VAL_NUMBER)
		return bi_type_err(ev, fn, 1, "number", A0);
	if (A1->kind != VAL_NUMBER)
		return bi_type_err(ev, fn, 2, "number", A1);
	int64_t a, b, r;
	if (A0->is_int && A1->is_int) {
		a = A0->i;
		b = A1->i;
		bool ok = false;
		switch (op) {
		case 0: ok = !__builtin_add_overflow(a, b, &r); break;
		case 1: ok = !__builtin_sub_overflow(a, b, &r); break;
		case 2: ok = !__builtin_mul_overflow(a, b, &r); break;
		case 3:
			if (b == 0)
				return ev_error(ev, -EINVAL, EC_BUILTIN, "div: divide by zero");
			if (a % b == 0 && !(a == INT64_MIN && b == -1)) {
				r = a / b;
				ok = true;
			}
			break;
		case 4:
			if (b == 0)
				return ev_error(ev, -EINVAL, EC_BUILTIN, "rem: modulo by zero");
			r = (b == -1) ? 0 : a % b;
			ok = true;
			break;
		}
		if (ok) {
			*out = val_int(r);
			return *out ? 0 : -ENOMEM;
		}
	}
	if (!(op >= 3 && num_d(A1) == 0)) {
		int brc = bn_arith(A0, A1, op, out);
		if (brc <= 0)
			return brc;
	}
	double x = num_d(A0), y = num_d(A1), z = 0;
	switch (op) {
	case 0: z = x + y; break;
	case 1: z = x - y; break;
	case 2: z = x * y; break;
	case 3:
		if (y == 0)
			return ev_error(ev, -EINVAL, EC_BUILTIN, "div: divide by zero");
		z = x / y;
		break;
	case 4:
		if (x != floor(x) || y != floor(y))
			return ev_error(ev, -EINVAL, EC_BUILTIN, "rem: modulo on floating-point number");
		if (y == 0)
			return ev_error(ev, -EINVAL, EC_BUILTIN, "rem: modulo by zero");
		z = fmod(x, y);
		break;
	}
	*out = num_from_double(z);
	return *out ? 0 : -ENOMEM;
}

static int bi_plus(struct ev *ev, struct val **args, struct val **out) { return arith(ev, "plus", args, out, 0); }
static int bi_minus(struct ev *ev, struct val **args, struct val **out) { return arith(ev, "minus", args, out, 1); }
static int bi_mul(struct ev *ev, struct val **args, struct val **out) { return arith(ev, "mul", args, out, 2); }
static int bi_div(struct ev *ev, struct val **args, struct val **out) { return arith(ev, "div", args, out, 3); }
static int bi_rem(struct ev *ev, struct val **args, struct val **out) { return arith(ev, "rem", args, out, 4); }

/* op 0 intersection (and), 1 union (or), 2 difference */
static int set_op(struct ev *ev, const char *fn, struct val **args, struct val **out, int op)
{
	if (A0->kind != VAL_SET)
		return bi_type_err(ev, fn, 1, "set", A0);
	if (A1->kind != VAL_SET)
		return bi_type_err(ev, fn, 2, "set", A1);
	struct val *s = val_set_new(A0->arr.n + A1->arr.n);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < A0->arr.n; i++) {
		bool in = val_set_contains(A1, A0->arr.items[i]);
		if ((op == 0 && in) || op == 1 || (op == 2 && !in))
			if (val_set_add(s, val_ref(A0->arr.items[i])) < 0)
				goto oom;
	}
	if (op == 1)
		for (size_t i = 0; i < A1->arr.n; i++)
			if (val_set_add(s, val_ref(A1->arr.items[i])) < 0)
				goto oom;
	*out = s;
	return 0;
oom:
	val_unref(s);
	return -ENOMEM;
}

static int bi_and(struct ev *ev, struct val **args, struct val **out) { return set_op(ev, "and", args, out, 0); }
static int bi_or(struct ev *ev, struct val **args, struct val **out) { return set_op(ev, "or", args, out, 1); }

static int bi_member2(struct ev *ev, struct val **args, struct val **out)
{
	bool found = false;
	struct val *c = A1;
	int in;
	if (c->kind == VAL_SET) {
		found = val_set_contains(c, A0);
	} else if (c->kind == VAL_ARRAY && (in = rego_index_member(ev->r->index, c, A0)) >= 0) {
		found = in;
	} else if (c->kind == VAL_ARRAY) {
		for (size_t i = 0; i < c->arr.n && !found; i++)
			found = val_equal(c->arr.items[i], A0);
	} else if (c->kind == VAL_OBJECT) {
		for (size_t i = 0; i < c->obj.n && !found; i++)
			found = val_equal(c->obj.vals[i], A0);
	}
	*out = val_bool(found);
	return 0;
}

static int bi_member3(struct ev *ev, struct val **args, struct val **out)
{
	(void)ev;
	bool found = false;
	struct val *c = args[2];
	if (c->kind == VAL_ARRAY) {
		int64_t i;
		if (num_is_int(A0, &i) && A0->kind == VAL_NUMBER && i >= 0 && (uint64_t)i < c->arr.n)
			found = val_equal(c->arr.items[i], A1);
	} else if (c->kind == VAL_OBJECT) {
		struct val *x = val_object_get(c, A0);
		found = x && val_equal(x, A1);
	} else if (c->kind == VAL_SET) {
		found = val_equal(A0, A1) && val_set_contains(c, A0);
	}
	*out = val_bool(found);
	return 0;
}

static size_t utf8_len(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i += utf8_step(s + i, n - i))
		c++;
	return c;
}

static int bi_count(struct ev *ev, struct val **args, struct val **out)
{
	size_t n;
	switch (A0->kind) {
	case VAL_STRING: n = utf8_len(A0->str.s, A0->str.len); break;
	case VAL_ARRAY:
	case VAL_SET: n = A0->arr.n; break;
	case VAL_OBJECT: n = A0->obj.n; break;
	default: return bi_type_err(ev, "count", 1, "one of {array, object, set, string}", A0);
	}
	*out = val_int((int64_t)n);
	return *out ? 0 : -ENOMEM;
}

static int agg(struct ev *ev, const char *fn, struct val **args, struct val **out, int op)
{
	if (A0->kind != VAL_ARRAY && A0->kind != VAL_SET)
		return bi_type_err(ev, fn, 1, "any of {array, set}", A0);
	size_t n = A0->arr.n;
	struct val **it = A0->arr.items;
	if (op >= 2) {
		/* max/min over any values */
		if (n == 0)
			return 1;
		struct val *best = it[0];
		for (size_t i = 1; i < n; i++) {
			int c = val_compare(it[i], best);
			if ((op == 2 && c > 0) || (op == 3 && c < 0))
				best = it[i];
		}
		*out = val_ref(best);
		return 0;
	}
	bool allint = true;
	for (size_t i = 0; i < n && allint; i++) {
		if (it[i]->kind != VAL_NUMBER)
			break;
		BIGNUM *t = it[i]->is_int ? NULL : int_bn(it[i]);
		allint = it[i]->is_int || t;
		BN_free(t);
	}
	if (allint && n > 0) {
		bool ok = true;
		for (size_t i = 0; i < n; i++)
			ok = ok && it[i]->kind == VAL_NUMBER;
		if (ok) {
			struct val *acc = val_int(op == 0 ? 0 : 1);
			for (size_t i = 0; acc && i < n; i++) {
				struct val *nx = NULL;
				struct val *pair[2] = { acc, it[i] };
				int64_t r;
				if (acc->is_int && it[i]->is_int &&
				    (op == 0 ? !__builtin_add_overflow(acc->i, it[i]->i, &r) : !__builtin_mul_overflow(acc->i, it[i]->i, &r)))
					nx = val_int(r);
				else if (bn_arith(pair[0], pair[1], op == 0 ? 0 : 2, &nx) != 0)
					nx = NULL;
				val_unref(acc);
				acc = nx;
			}
			*out = acc;
			return acc ? 0 : -ENOMEM;
		}
	}
	int64_t acc = op == 0 ? 0 : 1;
	double dacc = (double)acc;
	bool exact = true;
	for (size_t i = 0; i < n; i++) {
		if (it[i]->kind != VAL_NUMBER)
			return ev_error(ev, -EINVAL, EC_TYPE, "%s: operand 1 must be any of {array, set} containing numbers but got %s", fn, val_type_name(it[i]));
		if (exact && it[i]->is_int) {
			int64_t r;
			bool ok = op == 0 ? !__builtin_add_overflow(acc, it[i]->i, &r) : !__builtin_mul_overflow(acc, it[i]->i, &r);
			if (ok) {
				acc = r;
				dacc = (double)r;
				continue;
			}
		}
		if (exact) {
			exact = false;
			dacc = (double)acc;
		}
		dacc = op == 0 ? dacc + num_d(it[i]) : dacc * num_d(it[i]);
	}
	*out = exact ? val_int(acc) : num_from_double(dacc);
	return *out ? 0 : -ENOMEM;
}

static int bi_sum(struct ev *ev, struct val **args, struct val **out) { return agg(ev, "sum", args, out, 0); }
static int bi_product(struct ev *ev, struct val **args, struct val **out) { return agg(ev, "product", args, out, 1); }
static int bi_max(struct ev *ev, struct val **args, struct val **out) { return agg(ev, "max", args, out, 2); }
static int bi_min(struct ev *ev, struct val **args, struct val **out) { return agg(ev, "min", args, out, 3); }

static int cmpv(const void *a, const void *b)
{
	return val_compare(*(struct val *const *)a, *(struct val *const *)b);
}

static int bi_sort(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_ARRAY && A0->kind != VAL_SET)
		return bi_type_err(ev, "sort", 1, "any of {array, set}", A0);
	struct val *a = val_array_new(A0->arr.n);
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < A0->arr.n; i++)
		if (val_array_push(a, val_ref(A0->arr.items[i])) < 0) {
			val_unref(a);
			return -ENOMEM;
		}
	qsort(a->arr.items, a->arr.n, sizeof(struct val *), cmpv);
	*out = a;
	return 0;
}

static int num1(struct ev *ev, const char *fn, struct val **args, struct val **out, int op)
{
	if (A0->kind != VAL_NUMBER)
		return bi_type_err(ev, fn, 1, "number", A0);
	if (A0->is_int) {
		if (op == 0 && A0->i == INT64_MIN)
			*out = val_double(9223372036854775808.0);
		else
			*out = val_int(op == 0 && A0->i < 0 ? -A0->i : A0->i);
		return *out ? 0 : -ENOMEM;
	}
	double d = A0->num.d, r = d;
	switch (op) {
	case 0: r = fabs(d); break;
	case 1: r = round(d); break;
	case 2: r = ceil(d); break;
	case 3: r = floor(d); break;
	}
	*out = num_from_double(r);
	return *out ? 0 : -ENOMEM;
}

static int bi_abs(struct ev *ev, struct val **args, struct val **out) { return num1(ev, "abs", args, out, 0); }
static int bi_round(struct ev *ev, struct val **args, struct val **out) { return num1(ev, "round", args, out, 1); }
static int bi_ceil(struct ev *ev, struct val **args, struct val **out) { return num1(ev, "ceil", args, out, 2); }
static int bi_floor(struct ev *ev, struct val **args, struct val **out) { return num1(ev, "floor", args, out, 3); }

static bool json_number_syntax(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && s[i] == '-')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return false;
	if (s[i] == '0')
		i++;
	else
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == n;
}

static int bi_to_number(struct ev *ev, struct val **args, struct val **out)
{
	switch (A0->kind) {
	case VAL_NULL: *out = val_int(0); break;
	case VAL_BOOL: *out = val_int(A0->b ? 1 : 0); break;
	case VAL_NUMBER: *out = val_ref(A0); break;
	case VAL_STRING:
		if (!json_number_syntax(A0->str.s, A0->str.len)) {
			const char *t = A0->str.s;
			if (*t == '-' || *t == '+')
				t++;
			if (!strcasecmp(t, "nan") || !strcasecmp(t, "inf") || !strcasecmp(t, "infinity"))
				return ev_error(ev, -EINVAL, EC_TYPE, "to_number: operand 1 must be a valid number string");
		}
		if (!json_number_syntax(A0->str.s, A0->str.len))
			return ev_error(ev, -EINVAL, EC_BUILTIN, "to_number: invalid syntax");
		*out = val_number_text(A0->str.s, A0->str.len);
		break;
	default:
		return bi_type_err(ev, "to_number", 1, "any of {boolean, null, number, string}", A0);
	}
	return *out ? 0 : -ENOMEM;
}

#define IS_FN(nm, k)                                                                     \
	static int bi_is_##nm(struct ev *ev, struct val **args, struct val **out)          \
	{                                                                                  \
		(void)ev;                                                                      \
		*out = val_bool(A0->kind == (k));                                              \
		return 0;                                                                      \
	}
IS_FN(number, VAL_NUMBER)
IS_FN(string, VAL_STRING)
IS_FN(boolean, VAL_BOOL)
IS_FN(array, VAL_ARRAY)
IS_FN(set, VAL_SET)
IS_FN(object, VAL_OBJECT)
IS_FN(null, VAL_NULL)

static int bi_type_name(struct ev *ev, struct val **args, struct val **out)
{
	(void)ev;
	*out = val_cstr(val_type_name(A0));
	return *out ? 0 : -ENOMEM;
}

static int bi_numbers_range(struct ev *ev, struct val **args, struct val **out)
{
	int64_t a, b;
	if (!num_is_int(A0, &a))
		return ev_error(ev, -EINVAL, EC_TYPE, "numbers.range: operand 1 must be integer number but got %s",
				A0->kind == VAL_NUMBER ? "floating-point number" : val_type_name(A0));
	if (!num_is_int(A1, &b))
		return ev_error(ev, -EINVAL, EC_TYPE, "numbers.range: operand 2 must be integer number but got %s",
				A1->kind == VAL_NUMBER ? "floating-point number" : val_type_name(A1));
	uint64_t n = (uint64_t)(a < b ? b - a : a - b) + 1;
	if (n > 10000000)
		return ev_error(ev, -E2BIG, EC_BUILTIN, "numbers.range: range too large");
	struct val *arr = val_array_new((size_t)n);
	if (!arr)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		if (val_array_push(arr, val_int(a < b ? a + (int64_t)i : a - (int64_t)i)) < 0) {
			val_unref(arr);
			return -ENOMEM;
		}
	*out = arr;
	return 0;
}

static int bi_print(struct ev *ev, struct val **args, struct val **out)
{
	(void)ev;
	(void)args;
	*out = val_bool(true);
	return 0;
}

static int bi_time_now_ns(struct ev *ev, struct val **args, struct val **out)
{
	(void)args;
	*out = val_int(ev_now_ns(ev));
	return *out ? 0 : -ENOMEM;
}

static int bits(struct ev *ev, const char *fn, struct val **args, struct val **out, int op)
{
	int64_t a, b = 0;
	if (!num_is_int(A0, &a) || A0->kind != VAL_NUMBER)
		return A0->kind == VAL_NUMBER ? ev_error(ev, -EINVAL, EC_TYPE, "%s: operand 1 must be integer number but got floating-point number", fn)
					      : bi_type_err(ev, fn, 1, "number", A0);
	if (op != 3) {
		if (!num_is_int(A1, &b) || A1->kind != VAL_NUMBER)
			return A1->kind == VAL_NUMBER ? ev_error(ev, -EINVAL, EC_TYPE, "%s: operand 2 must be integer number but got floating-point number", fn)
						      : bi_type_err(ev, fn, 2, "number", A1);
	}
	int64_t r = 0;
	switch (op) {
	case 0: r = a & b; break;
	case 1: r = a | b; break;
	case 2: r = a ^ b; break;
	case 3: r = ~a; break;
	case 4:
		if (b < 0)
			return ev_error(ev, -EINVAL, EC_TYPE, "%s: operand 2 must be an unsigned integer number but got a negative integer", fn);
		/* exact, as OPA's big integers: a << 63 still fits 128 bits */
		if (b < 64) {
			*out = num_from_int128((__int128)((unsigned __int128)(__int128)a << b));
			return *out ? 0 : -ENOMEM;
		}
		if (a != 0)
			return ev_error(ev, -ERANGE, EC_BUILTIN, "%s: result out of range", fn);
		break;
	case 5:
		if (b < 0)
			return ev_error(ev, -EINVAL, EC_TYPE, "%s: operand 2 must be an unsigned integer number but got a negative integer", fn);
		r = b >= 63 ? (a < 0 ? -1 : 0) : a >> b;
		break;
	}
	*out = val_int(r);
	return *out ? 0 : -ENOMEM;
}
static int bi_bits_and(struct ev *ev, struct val **args, struct val **out) { return bits(ev, "bits.and", args, out, 0); }
static int bi_bits_or(struct ev *ev, struct val **args, struct val **out) { return bits(ev, "bits.or", args, out, 1); }
static int bi_bits_xor(struct ev *ev, struct val **args, struct val **out) { return bits(ev, "bits.xor", args, out, 2); }
static int bi_bits_neg(struct ev *ev, struct val **args, struct val **out) { return bits(ev, "bits.negate", args, out, 3); }
static int bi_bits_lsh(struct ev *ev, struct val **args, struct val **out) { return bits(ev, "bits.lsh", args, out, 4); }
static int bi_bits_rsh(struct ev *ev, struct val **args, struct val **out) { return bits(ev, "bits.rsh", args, out, 5); }

/* Deprecated v0 builtins still found in older policies. */
static int anyall(struct ev *ev, const char *fn, struct val **args, struct val **out, bool all)
{
	if (A0->kind != VAL_ARRAY && A0->kind != VAL_SET)
		return bi_type_err(ev, fn, 1, "one of {array, set}", A0);
	bool r = all;
	for (size_t i = 0; i < A0->arr.n; i++) {
		bool t = A0->arr.items[i]->kind == VAL_BOOL && A0->arr.items[i]->b;
		if (all && !t)
			r = false;
		if (!all && t)
			r = true;
	}
	*out = val_bool(r);
	return 0;
}
static int bi_set_diff(struct ev *ev, struct val **args, struct val **out) { return set_op(ev, "set_diff", args, out, 2); }
static int bi_any(struct ev *ev, struct val **args, struct val **out) { return anyall(ev, "any", args, out, false); }
static int bi_all(struct ev *ev, struct val **args, struct val **out) { return anyall(ev, "all", args, out, true); }

static int bi_cast_array(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind == VAL_ARRAY) {
		*out = val_ref(A0);
		return 0;
	}
	if (A0->kind != VAL_SET)
		return bi_type_err(ev, "cast_array", 1, "one of {array, set}", A0);
	struct val *a = val_array_new(A0->arr.n);
	for (size_t i = 0; a && i < A0->arr.n; i++)
		if (val_array_push(a, val_ref(A0->arr.items[i])) < 0) {
			val_unref(a);
			a = NULL;
		}
	*out = a;
	return a ? 0 : -ENOMEM;
}

static int bi_cast_set(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind == VAL_SET) {
		*out = val_ref(A0);
		return 0;
	}
	if (A0->kind != VAL_ARRAY)
		return bi_type_err(ev, "cast_set", 1, "one of {array, set}", A0);
	struct val *st = val_set_new(A0->arr.n);
	for (size_t i = 0; st && i < A0->arr.n; i++)
		if (val_set_add(st, val_ref(A0->arr.items[i])) < 0) {
			val_unref(st);
			st = NULL;
		}
	*out = st;
	return st ? 0 : -ENOMEM;
}

#define CAST_SAME(nm, k, want)                                                        \
	static int bi_cast_##nm(struct ev *ev, struct val **args, struct val **out)     \
	{                                                                               \
		if (A0->kind != (k))                                                        \
			return bi_type_err(ev, "cast_" #nm, 1, want, A0);                       \
		*out = val_ref(A0);                                                         \
		return 0;                                                                   \
	}
CAST_SAME(string, VAL_STRING, "string")
CAST_SAME(boolean, VAL_BOOL, "boolean")
CAST_SAME(null, VAL_NULL, "null")
CAST_SAME(object, VAL_OBJECT, "object")

const struct builtin_decl rego_builtins_core[] = {
	{ "any", 1, bi_any, "deprecated: some element is true" },
	{ "all", 1, bi_all, "deprecated: every element is true" },
	{ "set_diff", 2, bi_set_diff, "deprecated: set difference (a - b)" },
	{ "cast_array", 1, bi_cast_array, "deprecated: set or array to array" },
	{ "cast_set", 1, bi_cast_set, "deprecated: array or set to set" },
	{ "cast_string", 1, bi_cast_string, "deprecated: identity on strings" },
	{ "cast_boolean", 1, bi_cast_boolean, "deprecated: identity on booleans" },
	{ "cast_null", 1, bi_cast_null, "deprecated: identity on null" },
	{ "cast_object", 1, bi_cast_object, "deprecated: identity on objects" },
	{ "equal", 2, bi_equal, "a == b" },
	{ "neq", 2, bi_neq, "a != b" },
	{ "lt", 2, bi_lt, "a < b" },
	{ "lte", 2, bi_lte, "a <= b" },
	{ "gt", 2, bi_gt, "a > b" },
	{ "gte", 2, bi_gte, "a >= b" },
	{ "plus", 2, bi_plus, "a + b" },
	{ "minus", 2, bi_minus, "a - b (numbers) or set difference" },
	{ "mul", 2, bi_mul, "a * b" },
	{ "div", 2, bi_div, "a / b" },
	{ "rem", 2, bi_rem, "a % b" },
	{ "and", 2, bi_and, "set intersection" },
	{ "or", 2, bi_or, "set union" },
	{ "internal.member_2", 2, bi_member2, "x in coll" },
	{ "internal.member_3", 3, bi_member3, "k, v in coll" },
	{ "count", 1, bi_count, "number of elements" },
	{ "sum", 1, bi_sum, "sum of numbers" },
	{ "product", 1, bi_product, "product of numbers" },
	{ "max", 1, bi_max, "largest element" },
	{ "min", 1, bi_min, "smallest element" },
	{ "sort", 1, bi_sort, "sorted array" },
	{ "abs", 1, bi_abs, "absolute value" },
	{ "round", 1, bi_round, "round half away from zero" },
	{ "ceil", 1, bi_ceil, "ceiling" },
	{ "floor", 1, bi_floor, "floor" },
	{ "to_number", 1, bi_to_number, "convert to number" },
	{ "is_number", 1, bi_is_number, "type check" },
	{ "is_string", 1, bi_is_string, "type check" },
	{ "is_boolean", 1, bi_is_boolean, "type check" },
	{ "is_array", 1, bi_is_array, "type check" },
	{ "is_set", 1, bi_is_set, "type check" },
	{ "is_object", 1, bi_is_object, "type check" },
	{ "is_null", 1, bi_is_null, "type check" },
	{ "type_name", 1, bi_type_name, "name of the value's type" },
	{ "numbers.range", 2, bi_numbers_range, "integers from a to b inclusive" },
	{ "print", 1, bi_print, "debug output (ignored)" },
	{ "time.now_ns", 0, bi_time_now_ns, "current time, fixed per query" },
	{ "bits.and", 2, bi_bits_and, "bitwise and" },
	{ "bits.or", 2, bi_bits_or, "bitwise or" },
	{ "bits.xor", 2, bi_bits_xor, "bitwise xor" },
	{ "bits.negate", 1, bi_bits_neg, "bitwise not" },
	{ "bits.lsh", 2, bi_bits_lsh, "shift left" },
	{ "bits.rsh", 2, bi_bits_rsh, "shift right" },
	{ NULL, 0, NULL, NULL },
};
