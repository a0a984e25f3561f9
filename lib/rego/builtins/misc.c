/* SPDX-License-Identifier: Apache-2.0 */
/* walk, graph.reachable, semver, numbers.range_step, uuid, opa.runtime builtins. */
#include "../internal.h"

#include <ctype.h>
#include <strings.h>
#include <openssl/rand.h>

#define A0 args[0]
#define A1 args[1]
#define A2 args[2]

#define WALK_MAX_DEPTH 512

/* walk(x): every [path, value] pair, as an array of pairs (a relation: the
 * evaluator yields each element). */
static int walk_rec(struct val *v, struct val *path, struct val *out, unsigned depth)
{
	if (depth > WALK_MAX_DEPTH)
		return -E2BIG;
	struct val *pair = val_array_new(2);
	struct val *pc = val_array_new(path->arr.n);
	for (size_t i = 0; pc && i < path->arr.n; i++)
		val_array_push(pc, val_ref(path->arr.items[i]));
	if (!pair || !pc || val_array_push(pair, pc) < 0 || val_array_push(pair, val_ref(v)) < 0 ||
	    val_array_push(out, pair) < 0) {
		if (!pair)
			val_unref(pc);
		return -ENOMEM;
	}
	size_t n = v->kind == VAL_OBJECT ? v->obj.n : (v->kind == VAL_ARRAY || v->kind == VAL_SET) ? v->arr.n : 0;
	for (size_t i = 0; i < n; i++) {
		struct val *k = v->kind == VAL_OBJECT ? val_ref(v->obj.keys[i]) : v->kind == VAL_SET ? val_ref(v->arr.items[i]) : val_int((int64_t)i);
		struct val *c = v->kind == VAL_OBJECT ? v->obj.vals[i] : v->arr.items[i];
		if (!k || val_array_push(path, k) < 0)
			return -ENOMEM;
		int rc = walk_rec(c, path, out, depth + 1);
		path->arr.n--;
		val_unref(path->arr.items[path->arr.n]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int bi_walk(struct ev *ev, struct val **args, struct val **out)
{
	struct val *path = val_array_new(8), *res = val_array_new(8);
	int rc = path && res ? walk_rec(A0, path, res, 0) : -ENOMEM;
	val_unref(path);
	if (rc < 0) {
		val_unref(res);
		return rc == -E2BIG ? ev_error(ev, rc, EC_BUILTIN, "walk: value nested too deeply") : rc;
	}
	*out = res;
	return 0;
}

static struct val *neighbours(struct val *g, struct val *n)
{
	struct val *e = val_object_get(g, n);
	return e && (e->kind == VAL_ARRAY || e->kind == VAL_SET) ? e : NULL;
}

static int bi_reachable(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_OBJECT)
		return bi_type_err(ev, "graph.reachable", 1, "object", A0);
	if (A1->kind != VAL_ARRAY && A1->kind != VAL_SET)
		return bi_type_err(ev, "graph.reachable", 2, "one of {array, set}", A1);
	struct val *seen = val_set_new(8), *queue = val_array_new(8);
	int rc = seen && queue ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < A1->arr.n; i++)
		rc = val_array_push(queue, val_ref(A1->arr.items[i]));
	for (size_t q = 0; rc == 0 && q < queue->arr.n; q++) {
		struct val *n = queue->arr.items[q];
		if (val_set_contains(seen, n) || !val_object_get(A0, n))
			continue;
		rc = val_set_add(seen, val_ref(n));
		struct val *e = neighbours(A0, n);
		for (size_t i = 0; rc == 0 && e && i < e->arr.n; i++)
			if (!val_set_contains(seen, e->arr.items[i]))
				rc = val_array_push(queue, val_ref(e->arr.items[i]));
	}
	val_unref(queue);
	if (rc < 0) {
		val_unref(seen);
		return rc;
	}
	*out = seen;
	return 0;
}

static int paths_rec(struct val *g, struct val *n, struct val *path, struct val *out, unsigned depth)
{
	if (depth > WALK_MAX_DEPTH)
		return -E2BIG;
	struct val *e = neighbours(g, n);
	bool ext = false;
	int rc = val_array_push(path, val_ref(n));
	if (rc < 0)
		return rc;
	for (size_t i = 0; e && i < e->arr.n && rc == 0; i++) {
		struct val *m = e->arr.items[i];
		bool onpath = false;
		for (size_t k = 0; k < path->arr.n; k++)
			onpath = onpath || val_equal(path->arr.items[k], m);
		if (onpath || !val_object_get(g, m))
			continue;
		ext = true;
		rc = paths_rec(g, m, path, out, depth + 1);
	}
	if (rc == 0 && !ext) {
		struct val *c = val_array_new(path->arr.n);
		for (size_t k = 0; c && k < path->arr.n; k++)
			val_array_push(c, val_ref(path->arr.items[k]));
		rc = c ? val_set_add(out, c) : -ENOMEM;
	}
	path->arr.n--;
	val_unref(path->arr.items[path->arr.n]);
	return rc;
}

static int bi_reachable_paths(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_OBJECT)
		return bi_type_err(ev, "graph.reachable_paths", 1, "object", A0);
	if (A1->kind != VAL_ARRAY && A1->kind != VAL_SET)
		return bi_type_err(ev, "graph.reachable_paths", 2, "one of {array, set}", A1);
	struct val *res = val_set_new(4), *path = val_array_new(8);
	int rc = res && path ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < A1->arr.n; i++)
		if (val_object_get(A0, A1->arr.items[i]))
			rc = paths_rec(A0, A1->arr.items[i], path, res, 0);
	val_unref(path);
	if (rc < 0) {
		val_unref(res);
		return rc == -E2BIG ? ev_error(ev, rc, EC_BUILTIN, "graph.reachable_paths: graph too deep") : rc;
	}
	*out = res;
	return 0;
}

/* ------------------------------------------------------------ semver */

struct semver {
	uint64_t v[3];
	const char *pre;
	size_t prelen;
};

static bool num_part(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	if (s >= end || !isdigit((unsigned char)*s) || (*s == '0' && s + 1 < end && isdigit((unsigned char)s[1])))
		return false;
	*v = 0;
	while (s < end && isdigit((unsigned char)*s)) {
		if (*v > UINT64_MAX / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*p = s;
	return true;
}

static bool ident_ok(const char *s, const char *end, bool numeric_no_lead_zero)
{
	if (s >= end)
		return false;
	const char *start = s;
	while (s < end) {
		const char *dot = memchr(s, '.', (size_t)(end - s));
		const char *e = dot ? dot : end;
		if (e == s)
			return false;
		bool alldig = true;
		for (const char *c = s; c < e; c++) {
			if (!isalnum((unsigned char)*c) && *c != '-')
				return false;
			alldig = alldig && isdigit((unsigned char)*c);
		}
		if (numeric_no_lead_zero && alldig && e - s > 1 && *s == '0')
			return false;
		s = dot ? dot + 1 : end;
		if (dot && s == end)
			return false;
	}
	(void)start;
	return true;
}

static bool semver_parse(const struct val *x, struct semver *sv)
{
	if (x->kind != VAL_STRING)
		return false;
	const char *p = x->str.s, *end = p + x->str.len;
	memset(sv, 0, sizeof(*sv));
	for (int i = 0; i < 3; i++) {
		if (i && (p >= end || *p++ != '.'))
			return false;
		if (!num_part(&p, end, &sv->v[i]))
			return false;
	}
	const char *plus = memchr(p, '+', (size_t)(end - p));
	const char *pend = plus ? plus : end;
	if (p < pend) {
		if (*p != '-' || !ident_ok(p + 1, pend, true))
			return false;
		sv->pre = p + 1;
		sv->prelen = (size_t)(pend - p - 1);
	}
	if (plus && !ident_ok(plus + 1, end, false))
		return false;
	return true;
}

static int cmp_pre(const struct semver *a, const struct semver *b)
{
	if (!a->prelen || !b->prelen)
		return a->prelen ? -1 : b->prelen ? 1 : 0;
	const char *x = a->pre, *xe = x + a->prelen, *y = b->pre, *ye = y + b->prelen;
	while (x < xe && y < ye) {
		const char *xd = memchr(x, '.', (size_t)(xe - x)), *yd = memchr(y, '.', (size_t)(ye - y));
		const char *xn = xd ? xd : xe, *yn = yd ? yd : ye;
		bool xnum = true, ynum = true;
		for (const char *c = x; c < xn; c++)
			xnum = xnum && isdigit((unsigned char)*c);
		for (const char *c = y; c < yn; c++)
			ynum = ynum && isdigit((unsigned char)*c);
		int c = 0;
		if (xnum && ynum) {
			size_t xl = (size_t)(xn - x), yl = (size_t)(yn - y);
			c = xl != yl ? (xl < yl ? -1 : 1) : memcmp(x, y, xl);
		} else if (xnum != ynum) {
			c = xnum ? -1 : 1;
		} else {
			size_t xl = (size_t)(xn - x), yl = (size_t)(yn - y);
			c = memcmp(x, y, xl < yl ? xl : yl);
			if (!c)
				c = xl < yl ? -1 : xl > yl ? 1 : 0;
		}
		if (c)
			return c < 0 ? -1 : 1;
		x = xd ? xd + 1 : xe;
		y = yd ? yd + 1 : ye;
	}
	return x < xe ? 1 : y < ye ? -1 : 0;
}

static int bi_semver_is_valid(struct ev *ev, struct val **args, struct val **out)
{
	(void)ev;
	struct semver s;
	*out = val_bool(semver_parse(A0, &s));
	return 0;
}

static int bi_semver_compare(struct ev *ev, struct val **args, struct val **out)
{
	struct semver a, b;
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "semver.compare", 1, "string", A0);
	if (A1->kind != VAL_STRING)
		return bi_type_err(ev, "semver.compare", 2, "string", A1);
	if (!semver_parse(A0, &a))
		return ev_error(ev, -EINVAL, EC_BUILTIN, "semver.compare: operand 1: string \"%.*s\" is not a valid SemVer",
				(int)A0->str.len, A0->str.s);
	if (!semver_parse(A1, &b))
		return ev_error(ev, -EINVAL, EC_BUILTIN, "semver.compare: operand 2: string \"%.*s\" is not a valid SemVer",
				(int)A1->str.len, A1->str.s);
	int c = 0;
	for (int i = 0; i < 3 && !c; i++)
		c = a.v[i] < b.v[i] ? -1 : a.v[i] > b.v[i] ? 1 : 0;
	if (!c)
		c = cmp_pre(&a, &b);
	*out = val_int(c);
	return *out ? 0 : -ENOMEM;
}

static int bi_range_step(struct ev *ev, struct val **args, struct val **out)
{
	int64_t a, b, s;
	if (!num_is_int(A0, &a) || A0->kind != VAL_NUMBER)
		return ev_error(ev, -EINVAL, EC_TYPE, "numbers.range_step: operand 1 must be integer number but got %s",
				A0->kind == VAL_NUMBER ? "floating-point number" : val_type_name(A0));
	if (!num_is_int(A1, &b) || A1->kind != VAL_NUMBER)
		return ev_error(ev, -EINVAL, EC_TYPE, "numbers.range_step: operand 2 must be integer number but got %s",
				A1->kind == VAL_NUMBER ? "floating-point number" : val_type_name(A1));
	__int128 s128;
	if (A2->kind != VAL_NUMBER || !num_is_int128(A2, &s128))
		return ev_error(ev, -EINVAL, EC_TYPE, "numbers.range_step: operand 3 must be integer number but got %s",
				A2->kind == VAL_NUMBER ? "floating-point number" : val_type_name(A2));
	if (s128 <= 0)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "numbers.range_step: step must be a positive integer");
	uint64_t span = a < b ? (uint64_t)b - (uint64_t)a : (uint64_t)a - (uint64_t)b;
	/* a step past the span (OPA's may exceed int64) leaves the start */
	if (s128 > (__int128)span) {
		*out = val_array_new(1);
		if (*out && val_array_push(*out, val_int(a)) < 0)
			*out = NULL;
		return *out ? 0 : -ENOMEM;
	}
	s = (int64_t)s128;
	if (span / (uint64_t)s > 10000000)
		return ev_error(ev, -E2BIG, EC_BUILTIN, "numbers.range_step: range too large");
	struct val *arr = val_array_new((size_t)(span / (uint64_t)s + 1));
	for (uint64_t i = 0; arr && i <= span; i += (uint64_t)s)
		if (val_array_push(arr, val_int(a <= b ? a + (int64_t)i : a - (int64_t)i)) < 0) {
			val_unref(arr);
			return -ENOMEM;
		}
	*out = arr;
	return arr ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------ uuid */

static int bi_uuid_rfc4122(struct ev *ev, struct val **args, struct val **out)
{
	/* Random v4 UUID, one per key within a query (as OPA). */
	unsigned char b[16];
	struct val *key = val_array_new(2);
	if (!key || val_array_push(key, val_cstr("uuid.rfc4122")) < 0 || val_array_push(key, val_ref(args[0])) < 0) {
		val_unref(key);
		return -ENOMEM;
	}
	struct val *hit = ev_cache_get(ev, key);
	if (hit) {
		val_unref(key);
		*out = val_ref(hit);
		return 0;
	}
	if (RAND_bytes(b, sizeof(b)) != 1) {
		val_unref(key);
		return ev_error(ev, -EIO, EC_BUILTIN, "uuid.rfc4122: no randomness");
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	char s[37];
	snprintf(s, sizeof(s), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
		 b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	*out = val_cstr(s);
	if (!*out) {
		val_unref(key);
		return -ENOMEM;
	}
	return ev_cache_put(ev, key, val_ref(*out));
}

static int bi_rand_intn(struct ev *ev, struct val **args, struct val **out)
{
	int64_t n;
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "rand.intn", 1, "string", A0);
	if (A1->kind != VAL_NUMBER || !num_is_int(A1, &n))
		return bi_type_err(ev, "rand.intn", 2, "number", A1);
	struct val *key = val_array_new(3);
	if (!key || val_array_push(key, val_cstr("rand.intn")) < 0 || val_array_push(key, val_ref(A0)) < 0 ||
	    val_array_push(key, val_ref(A1)) < 0) {
		val_unref(key);
		return -ENOMEM;
	}
	struct val *hit = ev_cache_get(ev, key);
	if (hit) {
		val_unref(key);
		*out = val_ref(hit);
		return 0;
	}
	uint64_t r = 0;
	if (n < 0)
		n = -n;
	if (n > 0 && RAND_bytes((unsigned char *)&r, sizeof(r)) != 1) {
		val_unref(key);
		return ev_error(ev, -EIO, EC_BUILTIN, "rand.intn: no randomness");
	}
	*out = val_int(n > 0 ? (int64_t)(r % (uint64_t)n) : 0);
	if (!*out) {
		val_unref(key);
		return -ENOMEM;
	}
	return ev_cache_put(ev, key, val_ref(*out));
}

static int bi_uuid_parse(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "uuid.parse", 1, "string", A0);
	const char *s = A0->str.s;
	size_t n = A0->str.len;
	if (n == 45 && !strncasecmp(s, "urn:uuid:", 9)) {
		s += 9;
		n -= 9;
	} else if (n == 38 && ((s[0] == '{' && s[37] == '}') || (s[0] == '(' && s[37] == ')'))) {
		s++;
		n -= 2;
	}
	uint8_t b[16];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (n == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i] != '-')
				return 1;
			continue;
		}
		if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]) || k == 16)
			return 1;
		char h[3] = { s[i], s[i + 1], 0 };
		b[k++] = (uint8_t)strtoul(h, NULL, 16);
		i++;
	}
	if (k != 16 || (n != 36 && n != 32))
		return 1;
	int version = b[6] >> 4;
	const char *variant = (b[8] & 0x80) == 0 ? "Reserved, NCS backward compatibility" : (b[8] & 0xc0) == 0x80 ? "RFC4122" :
				(b[8] & 0xe0) == 0xc0 ? "Reserved, Microsoft Corporation backward compatibility" : "Reserved, reserved for future definition";
	struct val *o = val_object_new(4);
	if (!o || val_object_put_cstr(o, "version", val_int(version)) < 0 || val_object_put_cstr(o, "variant", val_cstr(variant)) < 0) {
		val_unref(o);
		return -ENOMEM;
	}
	if (version == 1 || version == 2) {
		uint64_t t = ((uint64_t)(b[6] & 0x0f) << 56) | ((uint64_t)b[7] << 48) | ((uint64_t)b[4] << 40) | ((uint64_t)b[5] << 32) |
			     ((uint64_t)b[0] << 24) | ((uint64_t)b[1] << 16) | ((uint64_t)b[2] << 8) | b[3];
		/* 100 ns intervals since 1582-10-15 to Unix ns */
		int64_t ns = ((int64_t)t - 122192928000000000LL) * 100;
		char mac[18];
		snprintf(mac, sizeof(mac), "%02x-%02x-%02x-%02x-%02x-%02x", b[10], b[11], b[12], b[13], b[14], b[15]);
		int clock = ((b[8] & 0x3f) << 8) | b[9];
		const char *macv = (b[10] & 2) ? ((b[10] & 1) ? "local:multicast" : "local:unicast")
					       : ((b[10] & 1) ? "global:multicast" : "global:unicast");
		if (val_object_put_cstr(o, "time", val_int(ns)) < 0 || val_object_put_cstr(o, "nodeid", val_cstr(mac)) < 0 ||
		    val_object_put_cstr(o, "macvariables", val_cstr(macv)) < 0 ||
		    val_object_put_cstr(o, "clocksequence", val_int(clock)) < 0) {
			val_unref(o);
			return -ENOMEM;
		}
		if (version == 2) {
			uint32_t id = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
			if (val_object_put_cstr(o, "id", val_int(id)) < 0 || val_object_put_cstr(o, "domain", val_cstr(b[9] == 0 ? "Person" : b[9] == 1 ? "Group" : "Org")) < 0) {
				val_unref(o);
				return -ENOMEM;
			}
		}
	}
	*out = o;
	return 0;
}

/* OPA reports its environment variables and configuration here when run
 * as a server; a policy judging containers has no business reading arca's
 * environment, so it gets what OPA gives without a runtime: {}. */
static int bi_opa_runtime(struct ev *ev, struct val **args, struct val **out)
{
	(void)ev;
	(void)args;
	*out = val_object_new(0);
	return *out ? 0 : -ENOMEM;
}

const struct builtin_decl rego_builtins_misc[] = {
	{ "walk", 1, bi_walk, "every [path, value] pair (relation)" },
	{ "graph.reachable", 2, bi_reachable, "nodes reachable from the initial set" },
	{ "graph.reachable_paths", 2, bi_reachable_paths, "maximal acyclic paths from the initial set" },
	{ "semver.is_valid", 1, bi_semver_is_valid, "valid SemVer 2.0.0" },
	{ "semver.compare", 2, bi_semver_compare, "-1, 0, 1 by SemVer precedence" },
	{ "numbers.range_step", 3, bi_range_step, "integers from a to b by step" },
	{ "uuid.rfc4122", 1, bi_uuid_rfc4122, "random version 4 UUID" },
	{ "uuid.parse", 1, bi_uuid_parse, "UUID fields" },
	{ "rand.intn", 2, bi_rand_intn, "random integer in [0, n), stable per query and arguments" },
	{ "opa.runtime", 0, bi_opa_runtime, "runtime information: none is exposed (empty object)" },
	{ NULL, 0, NULL, NULL },
};
