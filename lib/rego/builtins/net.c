/* SPDX-License-Identifier: Apache-2.0 */
/* net.cidr_* builtins over IPv4 and IPv6 prefixes (16-byte addresses;
 * IPv4 is kept in its own family and never matches IPv6). */
#include "../internal.h"

#include <arpa/inet.h>

#define A0 args[0]
#define A1 args[1]

#define NET_MAX_EXPAND 65536 /* addresses net.cidr_expand may produce */

struct prefix {
	int family; /* 4 or 6 */
	uint8_t a[16];
	unsigned bits; /* prefix length */
};

static unsigned addr_len(const struct prefix *p) { return p->family == 4 ? 4u : 16u; }

/* "a.b.c.d/n", "x::/n", or a bare address when @allow_ip (full length). */
static bool parse_prefix(const struct val *v, bool allow_ip, struct prefix *p)
{
	char buf[128];
	if (v->kind != VAL_STRING || v->str.len >= sizeof(buf))
		return false;
	memcpy(buf, v->str.s, v->str.len);
	buf[v->str.len] = 0;
	char *slash = strchr(buf, '/');
	long bits = -1;
	if (slash) {
		char *end;
		*slash = 0;
		if (!slash[1])
			return false;
		bits = strtol(slash + 1, &end, 10);
		if (*end || bits < 0)
			return false;
	} else if (!allow_ip) {
		return false;
	}
	memset(p->a, 0, sizeof(p->a));
	if (inet_pton(AF_INET, buf, p->a) == 1) {
		p->family = 4;
		if (bits > 32)
			return false;
		p->bits = bits < 0 ? 32u : (unsigned)bits;
	} else if (inet_pton(AF_INET6, buf, p->a) == 1) {
		p->family = 6;
		if (bits > 128)
			return false;
		p->bits = bits < 0 ? 128u : (unsigned)bits;
	} else {
		return false;
	}
	return true;
}

static void mask(struct prefix *p)
{
	for (unsigned i = 0; i < addr_len(p); i++) {
		unsigned lo = i * 8;
		if (p->bits <= lo)
			p->a[i] = 0;
		else if (p->bits < lo + 8)
			p->a[i] &= (uint8_t)(0xff << (lo + 8 - p->bits));
	}
}

/* Does network @n contain @x (address or network)? */
static bool contains(const struct prefix *n, const struct prefix *x)
{
	if (n->family != x->family || x->bits < n->bits)
		return false;
	struct prefix a = *n, b = *x;
	b.bits = n->bits;
	mask(&a);
	mask(&b);
	return memcmp(a.a, b.a, addr_len(&a)) == 0;
}

static int bad_cidr(struct ev *ev, const char *fn, const struct val *v)
{
	if (v->kind != VAL_STRING)
		return bi_type_err(ev, fn, 1, "string", v);
	return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: invalid CIDR address: %.*s", fn, (int)v->str.len, v->str.s);
}

static int bi_cidr_contains(struct ev *ev, struct val **args, struct val **out)
{
	struct prefix n, x;
	if (!parse_prefix(A0, false, &n))
		return bad_cidr(ev, "net.cidr_contains", A0);
	if (!parse_prefix(A1, true, &x))
		return bad_cidr(ev, "net.cidr_contains", A1);
	*out = val_bool(contains(&n, &x));
	return 0;
}

static int bi_cidr_intersects(struct ev *ev, struct val **args, struct val **out)
{
	struct prefix a, b;
	if (!parse_prefix(A0, false, &a))
		return bad_cidr(ev, "net.cidr_intersects", A0);
	if (!parse_prefix(A1, false, &b))
		return bad_cidr(ev, "net.cidr_intersects", A1);
	*out = val_bool(contains(&a, &b) || contains(&b, &a));
	return 0;
}

static int bi_cidr_is_valid(struct ev *ev, struct val **args, struct val **out)
{
	(void)ev;
	struct prefix p;
	*out = val_bool(parse_prefix(A0, false, &p));
	return 0;
}

static struct val *addr_text(const struct prefix *p, bool with_bits)
{
	char b[INET6_ADDRSTRLEN + 8];
	inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->a, b, sizeof(b));
	if (with_bits)
		snprintf(b + strlen(b), sizeof(b) - strlen(b), "/%u", p->bits);
	return val_cstr(b);
}

static int bi_cidr_expand(struct ev *ev, struct val **args, struct val **out)
{
	struct prefix p;
	if (!parse_prefix(A0, false, &p))
		return bad_cidr(ev, "net.cidr_expand", A0);
	unsigned hostbits = addr_len(&p) * 8 - p.bits;
	if (hostbits > 16)
		return ev_error(ev, -E2BIG, EC_BUILTIN, "net.cidr_expand: more than %u addresses", NET_MAX_EXPAND);
	mask(&p);
	struct val *s = val_set_new((size_t)1 << hostbits);
	unsigned al = addr_len(&p);
	struct prefix cur = p;
	cur.bits = al * 8;
	for (uint32_t i = 0; s && i < (1u << hostbits); i++) {
		struct prefix x = cur;
		uint32_t carry = i;
		for (unsigned k = al; k > 0 && carry; k--) {
			uint32_t sum = x.a[k - 1] + (carry & 0xff);
			x.a[k - 1] = (uint8_t)sum;
			carry = (carry >> 8) + (sum >> 8);
		}
		if (val_set_add(s, addr_text(&x, false)) < 0) {
			val_unref(s);
			return -ENOMEM;
		}
	}
	*out = s;
	return s ? 0 : -ENOMEM;
}

/* net.cidr_contains_matches: pairs [i, j] of matching elements. */
static int cm_items(struct ev *ev, struct val *v, int pos, struct val **keys, struct val **cidrs, size_t *n, size_t cap)
{
	*n = 0;
	if (v->kind == VAL_STRING) {
		keys[0] = v;
		cidrs[0] = v;
		*n = 1;
		return 0;
	}
	if (v->kind != VAL_ARRAY && v->kind != VAL_SET && v->kind != VAL_OBJECT)
		return ev_error(ev, -EINVAL, EC_TYPE, "net.cidr_contains_matches: operand %d must be one of {string, array, set, object} but got %s", pos, val_type_name(v));
	size_t cnt = v->kind == VAL_OBJECT ? v->obj.n : v->arr.n;
	if (cnt > cap)
		return ev_error(ev, -E2BIG, EC_BUILTIN, "net.cidr_contains_matches: too many elements");
	for (size_t i = 0; i < cnt; i++) {
		struct val *x = v->kind == VAL_OBJECT ? v->obj.vals[i] : v->arr.items[i];
		struct val *k = v->kind == VAL_OBJECT ? v->obj.keys[i] : v->kind == VAL_SET ? x : NULL;
		struct val *c = x;
		if (x->kind == VAL_ARRAY) {
			if (x->arr.n == 0 || x->arr.items[0]->kind != VAL_STRING)
				return ev_error(ev, -EINVAL, EC_BUILTIN, "net.cidr_contains_matches: operand %d: element must be string or non-empty array", pos);
			c = x->arr.items[0];
		} else if (x->kind != VAL_STRING) {
			return ev_error(ev, -EINVAL, EC_BUILTIN, "net.cidr_contains_matches: operand %d: element must be string or non-empty array", pos);
		}
		keys[i] = k ? val_ref(k) : val_int((int64_t)i);
		cidrs[i] = c;
		(*n)++;
	}
	return 0;
}

static int bi_cidr_contains_matches(struct ev *ev, struct val **args, struct val **out)
{
	enum { CAP = 4096 };
	struct val **k0 = calloc(CAP, sizeof(*k0)), **c0 = calloc(CAP, sizeof(*c0));
	struct val **k1 = calloc(CAP, sizeof(*k1)), **c1 = calloc(CAP, sizeof(*c1));
	size_t n0 = 0, n1 = 0;
	int rc = -ENOMEM;
	struct val *s = NULL;
	if (!k0 || !c0 || !k1 || !c1)
		goto out;
	rc = cm_items(ev, A0, 1, k0, c0, &n0, CAP);
	if (rc == 0)
		rc = cm_items(ev, A1, 2, k1, c1, &n1, CAP);
	if (rc < 0)
		goto out;
	s = val_set_new(4);
	for (size_t i = 0; s && i < n0 && rc == 0; i++) {
		struct prefix a;
		if (!parse_prefix(c0[i], true, &a)) {
			rc = bad_cidr(ev, "net.cidr_contains_matches", c0[i]);
			break;
		}
		for (size_t j = 0; j < n1 && rc == 0; j++) {
			struct prefix b;
			if (!parse_prefix(c1[j], true, &b)) {
				rc = bad_cidr(ev, "net.cidr_contains_matches", c1[j]);
				break;
			}
			if (contains(&a, &b)) {
				struct val *pair = val_array_new(2);
				if (!pair || val_array_push(pair, val_ref(k0[i])) < 0 || val_array_push(pair, val_ref(k1[j])) < 0 ||
				    val_set_add(s, pair) < 0)
					rc = -ENOMEM;
			}
		}
	}
out:
	if (A0->kind != VAL_STRING)
		for (size_t i = 0; k0 && i < n0; i++)
			val_unref(k0[i]);
	if (A1->kind != VAL_STRING)
		for (size_t i = 0; k1 && i < n1; i++)
			val_unref(k1[i]);
	free(k0);
	free(c0);
	free(k1);
	free(c1);
	if (rc < 0) {
		val_unref(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int cmp_prefix(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	int c = memcmp(x->a, y->a, 16);
	if (c)
		return c;
	return x->bits < y->bits ? -1 : x->bits > y->bits ? 1 : 0;
}

/* Is @p the lower half of a network whose upper half is @q? */
static bool siblings(const struct prefix *p, const struct prefix *q)
{
	if (p->family != q->family || p->bits != q->bits || p->bits == 0)
		return false;
	struct prefix a = *p, b = *q;
	a.bits = b.bits = p->bits - 1;
	mask(&a);
	mask(&b);
	if (memcmp(a.a, b.a, 16) != 0)
		return false;
	unsigned bit = p->bits - 1;
	return !(p->a[bit / 8] & (0x80 >> (bit % 8))) && (q->a[bit / 8] & (0x80 >> (bit % 8)));
}

#define NET_MAX_MERGE 65536

static int bi_cidr_merge(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_ARRAY && A0->kind != VAL_SET)
		return bi_type_err(ev, "net.cidr_merge", 1, "one of {array, set}", A0);
	size_t n = A0->arr.n;
	if (n > NET_MAX_MERGE)
		return ev_error(ev, -E2BIG, EC_BUILTIN, "net.cidr_merge: too many prefixes");
	struct prefix *ps = calloc(n ? n : 1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct val *x = A0->arr.items[i];
		if (x->kind != VAL_STRING) {
			free(ps);
			return bi_type_err(ev, "net.cidr_merge", 1, "one of {array, set} of strings", x);
		}
		if (!parse_prefix(x, true, &ps[i])) {
			free(ps);
			return ev_error(ev, -EINVAL, EC_BUILTIN, "net.cidr_merge: IP address %.*s invalid", (int)x->str.len, x->str.s);
		}
		if (ps[i].family == 6 && !memchr(x->str.s, '/', x->str.len)) {
			free(ps);
			return ev_error(ev, -EINVAL, EC_BUILTIN, "net.cidr_merge: IPv6 invalid: needs prefix length");
		}
		if (ps[i].family == 4 && !memchr(x->str.s, '/', x->str.len)) {
			/* OPA gives a bare IPv4 address Go's classful default mask
			 * (net.IP.DefaultMask): class A /8, B /16, otherwise /24 */
			ps[i].bits = ps[i].a[0] < 0x80 ? 8u : ps[i].a[0] < 0xc0 ? 16u : 24u;
		}
		mask(&ps[i]);
	}
	/* repeat: sort, drop contained prefixes, join sibling halves */
	bool changed = true;
	while (changed) {
		changed = false;
		qsort(ps, n, sizeof(*ps), cmp_prefix);
		size_t m = 0;
		for (size_t i = 0; i < n; i++) {
			if (m && contains(&ps[m - 1], &ps[i])) {
				changed = changed || true;
				continue;
			}
			if (m && siblings(&ps[m - 1], &ps[i])) {
				ps[m - 1].bits--;
				changed = true;
				continue;
			}
			ps[m++] = ps[i];
		}
		if (m != n)
			changed = true;
		n = m;
		if (!changed)
			break;
		changed = false;
		/* another pass only if something merged */
		for (size_t i = 0; i + 1 < n; i++)
			if (contains(&ps[i], &ps[i + 1]) || siblings(&ps[i], &ps[i + 1]))
				changed = true;
	}
	struct val *s = val_set_new(n);
	for (size_t i = 0; s && i < n; i++)
		if (val_set_add(s, addr_text(&ps[i], true)) < 0) {
			val_unref(s);
			s = NULL;
		}
	free(ps);
	*out = s;
	return s ? 0 : -ENOMEM;
}

const struct builtin_decl rego_builtins_net[] = {
	{ "net.cidr_merge", 1, bi_cidr_merge, "smallest set of covering prefixes" },
	{ "net.cidr_contains", 2, bi_cidr_contains, "network contains address or network" },
	{ "net.cidr_intersects", 2, bi_cidr_intersects, "networks overlap" },
	{ "net.cidr_overlap", 2, bi_cidr_contains, "deprecated alias of net.cidr_contains" },
	{ "net.cidr_is_valid", 1, bi_cidr_is_valid, "valid CIDR" },
	{ "net.cidr_expand", 1, bi_cidr_expand, "all addresses of a small network" },
	{ "net.cidr_contains_matches", 2, bi_cidr_contains_matches, "pairs of matching elements" },
	{ NULL, 0, NULL, NULL },
};
