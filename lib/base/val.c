/* SPDX-License-Identifier: Apache-2.0 */
/* The value model: construction, ownership and OPA's total order. */
#include "base.h"

static struct val v_null = { .refs = 0, .kind = VAL_NULL };
static struct val v_true = { .refs = 0, .kind = VAL_BOOL, .b = true };
static struct val v_false = { .refs = 0, .kind = VAL_BOOL, .b = false };

struct val *val_ref(struct val *v)
{
	if (v && v->refs)
		v->refs++;
	return v;
}

/*
 * Collections created with a capacity keep their first item vectors in the
 * same block as the value (an object: keys, then values). Growing beyond it
 * moves both vectors to their own allocations; the block itself stays.
 */
static inline bool coll_inline(const struct val *v, struct val *const *p)
{
	return p == (struct val *const *)(const void *)(v + 1);
}

static void val_free(struct val *v)
{
	switch (v->kind) {
	case VAL_NUMBER:
		if (!v->is_int)
			free(v->num.text);
		break;
	case VAL_STRING:
		/* val_string() keeps the bytes in the same block */
		if (v->str.s != (char *)(v + 1))
			free(v->str.s);
		break;
	case VAL_ARRAY:
	case VAL_SET:
		for (size_t i = 0; i < v->arr.n; i++)
			val_unref(v->arr.items[i]);
		if (!coll_inline(v, v->arr.items))
			free(v->arr.items);
		break;
	case VAL_OBJECT:
		for (size_t i = 0; i < v->obj.n; i++) {
			val_unref(v->obj.keys[i]);
			val_unref(v->obj.vals[i]);
		}
		if (!coll_inline(v, v->obj.keys)) {
			free(v->obj.keys);
			free(v->obj.vals);
		}
		break;
	default:
		break;
	}
	free(v);
}

void val_unref(struct val *v)
{
	if (!v || v->refs == 0)
		return;
	if (--v->refs == 0)
		val_free(v);
}

static struct val *val_alloc(enum val_kind k)
{
	struct val *v = calloc(1, sizeof(*v));
	if (v) {
		v->refs = 1;
		v->kind = (uint8_t)k;
	}
	return v;
}

struct val *val_null(void) { return &v_null; }
struct val *val_bool(bool b) { return b ? &v_true : &v_false; }

/* Small non-negative integers (array indices, counts) are immortal
 * singletons like null/true/false: no allocation on the hot paths. They are
 * filled in before main() and never written afterwards. */
#define VAL_SMALL_INTS 256
static struct val v_small[VAL_SMALL_INTS];

__attribute__((constructor)) static void val_small_init(void)
{
	for (size_t i = 0; i < VAL_SMALL_INTS; i++) {
		v_small[i].kind = VAL_NUMBER;
		v_small[i].is_int = true;
		v_small[i].i = (int64_t)i;
	}
}

struct val *val_int(int64_t i)
{
	if (i >= 0 && i < VAL_SMALL_INTS)
		return &v_small[i];
	struct val *v = val_alloc(VAL_NUMBER);
	if (v) {
		v->is_int = true;
		v->i = i;
	}
	return v;
}

/* Integer literal text (optional '-', digits only) that fits int64. */
static bool text_as_int64(const char *t, size_t len, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (len && t[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len)
		return false;
	uint64_t acc = 0;
	for (; i < len; i++) {
		if (t[i] < '0' || t[i] > '9')
			return false;
		if (!ck_mul64(acc, 10, &acc) || !ck_add64(acc, (uint64_t)(t[i] - '0'), &acc))
			return false;
	}
	if (neg) {
		if (acc > (uint64_t)INT64_MAX + 1)
			return false;
		*out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
	} else {
		if (acc > (uint64_t)INT64_MAX)
			return false;
		*out = (int64_t)acc;
	}
	return true;
}

struct val *val_number_text(const char *text, size_t len)
{
	int64_t i;
	if (text_as_int64(text, len, &i))
		return val_int(i);
	struct val *v = val_alloc(VAL_NUMBER);
	if (!v)
		return NULL;
	v->num.text = strndup(text, len);
	if (!v->num.text) {
		free(v);
		return NULL;
	}
	v->num.d = strtod(v->num.text, NULL);
	return v;
}

/* Shortest text that reads back as @d, formatted as Go's encoding/json does
 * (plain notation for 1e-6 <= |d| < 1e21, exponent otherwise). */
static void format_double(double d, char *out, size_t cap)
{
	char tmp[64];
	int p;
	for (p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* tmp = [-]D.DDDDe[+-]XX */
	bool neg = tmp[0] == '-';
	const char *s = tmp + (neg ? 1 : 0);
	char digits[32];
	size_t nd = 0;
	const char *c = s;
	for (; *c && *c != 'e'; c++)
		if (*c != '.')
			digits[nd++] = *c;
	int exp10 = atoi(c + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	double a = d < 0 ? -d : d;
	size_t o = 0;
#define PUT(ch)                                                               \
	do {                                                                      \
		if (o + 1 < cap)                                                      \
			out[o++] = (ch);                                                  \
	} while (0)
	if (neg)
		PUT('-');
	if (a != 0 && (a < 1e-6 || a >= 1e21)) {
		PUT(digits[0]);
		if (nd > 1) {
			PUT('.');
			for (size_t k = 1; k < nd; k++)
				PUT(digits[k]);
		}
		char e[16];
		snprintf(e, sizeof(e), "e%c%d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
		for (char *q = e; *q; q++)
			PUT(*q);
	} else if (exp10 < 0) {
		PUT('0');
		PUT('.');
		for (int k = -1; k > exp10; k--)
			PUT('0');
		for (size_t k = 0; k < nd; k++)
			PUT(digits[k]);
	} else {
		for (int k = 0; k <= exp10 || (size_t)k < nd; k++) {
			if (k == exp10 + 1)
				PUT('.');
			PUT((size_t)k < nd ? digits[k] : '0');
		}
	}
#undef PUT
	out[o] = '\0';
}

struct val *val_double(double d)
{
	if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308)
		return val_null(); /* JSON has no NaN or infinities */
	if (d >= -9.2e18 && d <= 9.2e18 && d == (double)(int64_t)d)
		return val_int((int64_t)d);
	char text[64];
	format_double(d, text, sizeof(text));
	struct val *v = val_alloc(VAL_NUMBER);
	if (!v)
		return NULL;
	v->num.text = strdup(text);
	if (!v->num.text) {
		free(v);
		return NULL;
	}
	v->num.d = d;
	return v;
}

struct val *val_string(const char *s, size_t len)
{
	/* one block: the value, then its bytes (strings are immutable) */
	if (len > SIZE_MAX - sizeof(struct val) - 1)
		return NULL;
	struct val *v = malloc(sizeof(*v) + len + 1);
	if (!v)
		return NULL;
	memset(v, 0, sizeof(*v));
	v->refs = 1;
	v->kind = VAL_STRING;
	v->str.s = (char *)(v + 1);
	if (len)
		memcpy(v->str.s, s, len);
	v->str.s[len] = '\0';
	v->str.len = len;
	return v;
}

struct val *val_cstr(const char *s) { return val_string(s, strlen(s)); }

static struct val *val_coll_new(enum val_kind k, size_t cap)
{
	size_t per = k == VAL_OBJECT ? 2 * sizeof(struct val *) : sizeof(struct val *);
	size_t vec, total;
	if (!ck_mul(cap, per, &vec) || !ck_add(sizeof(struct val), vec, &total))
		return NULL;
	struct val *v = malloc(total);
	if (!v)
		return NULL;
	memset(v, 0, sizeof(*v));
	v->refs = 1;
	v->kind = (uint8_t)k;
	if (cap) {
		struct val **items = (struct val **)(void *)(v + 1);
		if (k == VAL_OBJECT) {
			v->obj.keys = items;
			v->obj.vals = items + cap;
			v->obj.cap = cap;
		} else {
			v->arr.items = items;
			v->arr.cap = cap;
		}
	}
	return v;
}

struct val *val_array_new(size_t cap) { return val_coll_new(VAL_ARRAY, cap); }
struct val *val_set_new(size_t cap) { return val_coll_new(VAL_SET, cap); }
struct val *val_object_new(size_t cap) { return val_coll_new(VAL_OBJECT, cap); }

static int arr_reserve(struct val *a, size_t extra)
{
	size_t need;
	if (!ck_add(a->arr.n, extra, &need))
		return -ENOMEM;
	if (need <= a->arr.cap)
		return 0;
	size_t ncap = a->arr.cap ? a->arr.cap * 2 : 4;
	if (ncap < need)
		ncap = need;
	struct val **ni;
	if (coll_inline(a, a->arr.items)) {
		ni = reallocarray(NULL, ncap, sizeof(*ni));
		if (ni && a->arr.n)
			memcpy(ni, a->arr.items, a->arr.n * sizeof(*ni));
	} else {
		ni = reallocarray(a->arr.items, ncap, sizeof(*ni));
	}
	if (!ni)
		return -ENOMEM;
	a->arr.items = ni;
	a->arr.cap = ncap;
	return 0;
}

int val_array_push(struct val *a, struct val *item)
{
	BUG_ON(a->kind != VAL_ARRAY || a->refs > 1);
	if (!item || arr_reserve(a, 1) < 0) {
		val_unref(item);
		return -ENOMEM;
	}
	a->arr.items[a->arr.n++] = item;
	return 0;
}

/* String order (bytewise, then length) with the first byte compared inline:
 * object keys mostly differ there, and memcmp is a call. */
static inline int str_cmp(const struct val *a, const struct val *b)
{
	size_t n = a->str.len < b->str.len ? a->str.len : b->str.len;
	if (n && a->str.s[0] != b->str.s[0])
		return (uint8_t)a->str.s[0] < (uint8_t)b->str.s[0] ? -1 : 1;
	int c = memcmp(a->str.s, b->str.s, n);
	if (c)
		return c < 0 ? -1 : 1;
	return a->str.len == b->str.len ? 0 : (a->str.len < b->str.len ? -1 : 1);
}

/* Binary search in a sorted value vector: index of @x, or ~insertion point. */
static ssize_t vec_find(struct val *const *items, size_t n, const struct val *x)
{
	size_t lo = 0, hi = n;
	if (x->kind == VAL_STRING) {
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const struct val *y = items[mid];
			int c = y->kind == VAL_STRING ? str_cmp(y, x) : (y->kind < VAL_STRING ? -1 : 1);
			if (c == 0)
				return (ssize_t)mid;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return ~(ssize_t)lo;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = val_compare(items[mid], x);
		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return ~(ssize_t)lo;
}

int val_set_add(struct val *s, struct val *item)
{
	BUG_ON(s->kind != VAL_SET || s->refs > 1);
	if (!item)
		return -ENOMEM;
	ssize_t at = vec_find(s->arr.items, s->arr.n, item);
	if (at >= 0) {
		val_unref(item);
		return 0;
	}
	if (arr_reserve(s, 1) < 0) {
		val_unref(item);
		return -ENOMEM;
	}
	size_t pos = (size_t)~at;
	memmove(s->arr.items + pos + 1, s->arr.items + pos, (s->arr.n - pos) * sizeof(*s->arr.items));
	s->arr.items[pos] = item;
	s->arr.n++;
	return 0;
}

/* Lookup only (no insertion point): small vectors of strings are scanned,
 * which tests lengths before bytes and needs no ordering compare. */
static ssize_t vec_lookup(struct val *const *items, size_t n, const struct val *x)
{
	if (x->kind != VAL_STRING || n > 8)
		return vec_find(items, n, x);
	for (size_t i = 0; i < n; i++)
		if (items[i]->kind == VAL_STRING && val_equal(items[i], x))
			return (ssize_t)i;
	return -1;
}

bool val_set_contains(const struct val *s, const struct val *item)
{
	if (!s || s->kind != VAL_SET)
		return false;
	return vec_lookup(s->arr.items, s->arr.n, item) >= 0;
}

int val_object_put(struct val *o, struct val *key, struct val *v)
{
	BUG_ON(o->kind != VAL_OBJECT || o->refs > 1);
	if (!key || !v)
		goto oom;
	ssize_t at = vec_find(o->obj.keys, o->obj.n, key);
	if (at >= 0) {
		val_unref(key);
		val_unref(o->obj.vals[at]);
		o->obj.vals[at] = v;
		return 0;
	}
	if (o->obj.n == o->obj.cap) {
		size_t ncap = o->obj.cap ? o->obj.cap * 2 : 4;
		if (coll_inline(o, o->obj.keys)) {
			/* both vectors leave the value's block together */
			struct val **nk = reallocarray(NULL, ncap, sizeof(*nk));
			struct val **nv = reallocarray(NULL, ncap, sizeof(*nv));
			if (!nk || !nv) {
				free(nk);
				free(nv);
				goto oom;
			}
			memcpy(nk, o->obj.keys, o->obj.n * sizeof(*nk));
			memcpy(nv, o->obj.vals, o->obj.n * sizeof(*nv));
			o->obj.keys = nk;
			o->obj.vals = nv;
		} else {
			struct val **nk = reallocarray(o->obj.keys, ncap, sizeof(*nk));
			if (!nk)
				goto oom;
			o->obj.keys = nk;
			struct val **nv = reallocarray(o->obj.vals, ncap, sizeof(*nv));
			if (!nv)
				goto oom;
			o->obj.vals = nv;
		}
		o->obj.cap = ncap;
	}
	size_t pos = (size_t)~at;
	size_t tail = (o->obj.n - pos) * sizeof(struct val *);
	memmove(o->obj.keys + pos + 1, o->obj.keys + pos, tail);
	memmove(o->obj.vals + pos + 1, o->obj.vals + pos, tail);
	o->obj.keys[pos] = key;
	o->obj.vals[pos] = v;
	o->obj.n++;
	return 0;
oom:
	val_unref(key);
	val_unref(v);
	return -ENOMEM;
}

int val_object_put_cstr(struct val *o, const char *key, struct val *v)
{
	return val_object_put(o, val_cstr(key), v);
}

struct val *val_object_get(const struct val *o, const struct val *key)
{
	if (!o || o->kind != VAL_OBJECT)
		return NULL;
	ssize_t at = vec_lookup(o->obj.keys, o->obj.n, key);
	return at >= 0 ? o->obj.vals[at] : NULL;
}

struct val *val_object_get_cstr(const struct val *o, const char *key)
{
	struct val k = { .refs = 0, .kind = VAL_STRING };
	k.str.s = (char *)key;
	k.str.len = strlen(key);
	return val_object_get(o, &k);
}

const char *val_str(const struct val *v) { return v && v->kind == VAL_STRING ? v->str.s : NULL; }

int val_dup_cstr(const struct val *v, size_t max, char **out)
{
	const char *s = val_str(v);
	if (!s || strlen(s) != v->str.len)
		return -EBADMSG;
	if (v->str.len > max)
		return -E2BIG;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

bool val_get_int(const struct val *v, int64_t *out)
{
	if (!v || v->kind != VAL_NUMBER || !v->is_int)
		return false;
	*out = v->i;
	return true;
}

/*
 * Exact comparison of decimal numbers: each is reduced to a sign, a digit
 * string without leading/trailing zeros and the decimal exponent of its
 * first digit, so integers beyond int64 and decimals compare exactly.
 */
struct decnum {
	bool neg, zero;
	char digits[128];
	size_t nd;
	long exp; /* value = 0.d1d2d3... * 10^exp */
	bool inexact; /* too many digits: fall back to double */
};

static void decnum_parse(const char *t, struct decnum *d)
{
	memset(d, 0, sizeof(*d));
	const char *c = t;
	if (*c == '-') {
		d->neg = true;
		c++;
	} else if (*c == '+')
		c++;
	long point = -1, count = 0, lead = 0;
	bool seen_nonzero = false;
	for (; *c && *c != 'e' && *c != 'E'; c++) {
		if (*c == '.') {
			point = count;
			continue;
		}
		if (*c < '0' || *c > '9')
			break;
		count++;
		if (!seen_nonzero && *c == '0') {
			lead++;
			continue;
		}
		seen_nonzero = true;
		if (d->nd < sizeof(d->digits) - 1)
			d->digits[d->nd++] = *c;
		else
			d->inexact = true;
	}
	if (point < 0)
		point = count;
	long e = 0;
	if (*c == 'e' || *c == 'E') {
		e = strtol(c + 1, NULL, 10);
		if (e > 100000000L || e < -100000000L)
			e = e > 0 ? 100000000L : -100000000L;
	}
	while (d->nd && d->digits[d->nd - 1] == '0')
		d->nd--;
	d->digits[d->nd] = '\0';
	if (d->nd == 0) {
		d->zero = true;
		d->neg = false;
		return;
	}
	d->exp = point - lead + e;
}

static int decnum_cmp_abs(const struct decnum *a, const struct decnum *b)
{
	if (a->exp != b->exp)
		return a->exp < b->exp ? -1 : 1;
	size_t n = a->nd < b->nd ? a->nd : b->nd;
	int c = memcmp(a->digits, b->digits, n);
	if (c)
		return c < 0 ? -1 : 1;
	return a->nd == b->nd ? 0 : (a->nd < b->nd ? -1 : 1);
}

int val_number_compare(const struct val *a, const struct val *b)
{
	if (a->is_int && b->is_int)
		return a->i < b->i ? -1 : (a->i > b->i ? 1 : 0);
	char ta[32], tb[32];
	const char *sa = a->num.text, *sb = b->num.text;
	if (a->is_int) {
		snprintf(ta, sizeof(ta), "%lld", (long long)a->i);
		sa = ta;
	}
	if (b->is_int) {
		snprintf(tb, sizeof(tb), "%lld", (long long)b->i);
		sb = tb;
	}
	struct decnum da, db;
	decnum_parse(sa, &da);
	decnum_parse(sb, &db);
	if (da.zero && db.zero)
		return 0;
	int sgn_a = da.zero ? 0 : (da.neg ? -1 : 1);
	int sgn_b = db.zero ? 0 : (db.neg ? -1 : 1);
	if (sgn_a != sgn_b)
		return sgn_a < sgn_b ? -1 : 1;
	int c = decnum_cmp_abs(&da, &db);
	return sgn_a < 0 ? -c : c;
}

static int cmp_vec(struct val *const *a, size_t na, struct val *const *b, size_t nb)
{
	size_t n = na < nb ? na : nb;
	for (size_t i = 0; i < n; i++) {
		int c = val_compare(a[i], b[i]);
		if (c)
			return c;
	}
	return na == nb ? 0 : (na < nb ? -1 : 1);
}

int val_compare(const struct val *a, const struct val *b)
{
	if (a == b)
		return 0;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	switch (a->kind) {
	case VAL_NULL:
		return 0;
	case VAL_BOOL:
		return a->b == b->b ? 0 : (a->b ? 1 : -1);
	case VAL_NUMBER:
		return val_number_compare(a, b);
	case VAL_STRING:
		return str_cmp(a, b);
	case VAL_ARRAY:
	case VAL_SET:
		return cmp_vec(a->arr.items, a->arr.n, b->arr.items, b->arr.n);
	case VAL_OBJECT: {
		size_t n = a->obj.n < b->obj.n ? a->obj.n : b->obj.n;
		for (size_t i = 0; i < n; i++) {
			int c = val_compare(a->obj.keys[i], b->obj.keys[i]);
			if (c)
				return c;
			c = val_compare(a->obj.vals[i], b->obj.vals[i]);
			if (c)
				return c;
		}
		return a->obj.n == b->obj.n ? 0 : (a->obj.n < b->obj.n ? -1 : 1);
	}
	}
	return 0;
}
