/* SPDX-License-Identifier: Apache-2.0 */
/* Object, array, set and JSON-document builtins. */
#include "../internal.h"

#define A0 args[0]
#define A1 args[1]
#define A2 args[2]

static int ret(struct val **out, struct val *v)
{
	*out = v;
	return v ? 0 : -ENOMEM;
}

static struct val *obj_copy(const struct val *o)
{
	struct val *c = val_object_new(o->obj.n);
	for (size_t i = 0; c && i < o->obj.n; i++)
		if (val_object_put(c, val_ref(o->obj.keys[i]), val_ref(o->obj.vals[i])) < 0) {
			val_unref(c);
			return NULL;
		}
	return c;
}

static int bi_object_get(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_OBJECT)
		return bi_type_err(ev, "object.get", 1, "object", A0);
	if (A1->kind != VAL_ARRAY) {
		struct val *v = val_object_get(A0, A1);
		return ret(out, val_ref(v ? v : A2));
	}
	struct val *cur = A0;
	for (size_t i = 0; i < A1->arr.n && cur; i++) {
		struct val *k = A1->arr.items[i];
		if (cur->kind == VAL_OBJECT) {
			cur = val_object_get(cur, k);
		} else if (cur->kind == VAL_ARRAY) {
			int64_t idx;
			cur = (num_is_int(k, &idx) && idx >= 0 && (uint64_t)idx < cur->arr.n) ? cur->arr.items[idx] : NULL;
		} else if (cur->kind == VAL_SET) {
			cur = val_set_contains(cur, k) ? k : NULL;
		} else {
			cur = NULL;
		}
	}
	return ret(out, val_ref(cur ? cur : A2));
}

static int bi_object_keys(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_OBJECT)
		return bi_type_err(ev, "object.keys", 1, "object", A0);
	struct val *s = val_set_new(A0->obj.n);
	for (size_t i = 0; s && i < A0->obj.n; i++)
		if (val_set_add(s, val_ref(A0->obj.keys[i])) < 0) {
			val_unref(s);
			return -ENOMEM;
		}
	return ret(out, s);
}

/* Keys given as an array, set or object (its keys). */
static bool keys_has(const struct val *keys, const struct val *k)
{
	if (keys->kind == VAL_SET)
		return val_set_contains(keys, k);
	if (keys->kind == VAL_OBJECT)
		return val_object_get(keys, k) != NULL;
	for (size_t i = 0; i < keys->arr.n; i++)
		if (val_equal(keys->arr.items[i], k))
			return true;
	return false;
}

static int filter_remove(struct ev *ev, const char *fn, struct val **args, struct val **out, bool keep)
{
	if (A0->kind != VAL_OBJECT)
		return bi_type_err(ev, fn, 1, "object", A0);
	if (A1->kind != VAL_ARRAY && A1->kind != VAL_SET && A1->kind != VAL_OBJECT)
		return bi_type_err(ev, fn, 2, "one of {object, set, array}", A1);
	struct val *o = val_object_new(A0->obj.n);
	for (size_t i = 0; o && i < A0->obj.n; i++)
		if (keys_has(A1, A0->obj.keys[i]) == keep)
			if (val_object_put(o, val_ref(A0->obj.keys[i]), val_ref(A0->obj.vals[i])) < 0) {
				val_unref(o);
				return -ENOMEM;
			}
	return ret(out, o);
}
static int bi_object_filter(struct ev *ev, struct val **args, struct val **out) { return filter_remove(ev, "object.filter", args, out, true); }
static int bi_object_remove(struct ev *ev, struct val **args, struct val **out) { return filter_remove(ev, "object.remove", args, out, false); }

static struct val *merge(const struct val *a, const struct val *b)
{
	if (a->kind != VAL_OBJECT || b->kind != VAL_OBJECT)
		return val_ref((struct val *)b);
	struct val *o = obj_copy(a);
	for (size_t i = 0; o && i < b->obj.n; i++) {
		struct val *old = val_object_get(o, b->obj.keys[i]);
		struct val *nv = old ? merge(old, b->obj.vals[i]) : val_ref(b->obj.vals[i]);
		if (!nv || val_object_put(o, val_ref(b->obj.keys[i]), nv) < 0) {
			val_unref(o);
			return NULL;
		}
	}
	return o;
}

static int bi_object_union(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_OBJECT)
		return bi_type_err(ev, "object.union", 1, "object", A0);
	if (A1->kind != VAL_OBJECT)
		return bi_type_err(ev, "object.union", 2, "object", A1);
	return ret(out, merge(A0, A1));
}

static int bi_object_union_n(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_ARRAY)
		return bi_type_err(ev, "object.union_n", 1, "array", A0);
	struct val *acc = val_object_new(0);
	for (size_t i = 0; acc && i < A0->arr.n; i++) {
		if (A0->arr.items[i]->kind != VAL_OBJECT) {
			val_unref(acc);
			return ev_error(ev, -EINVAL, EC_TYPE, "object.union_n: operand 1 must be array of objects but got array containing %s",
					val_type_name(A0->arr.items[i]));
		}
		struct val *n = merge(acc, A0->arr.items[i]);
		val_unref(acc);
		acc = n;
	}
	return ret(out, acc);
}

static int cmp_valp(const void *a, const void *b)
{
	return val_compare(*(struct val *const *)a, *(struct val *const *)b);
}

static bool subset(const struct val *sup, const struct val *sub)
{
	if (sup->kind == VAL_OBJECT && sub->kind == VAL_OBJECT) {
		for (size_t i = 0; i < sub->obj.n; i++) {
			struct val *x = val_object_get(sup, sub->obj.keys[i]);
			if (!x || !subset(x, sub->obj.vals[i]))
				return false;
		}
		return true;
	}
	if (sup->kind == VAL_SET && sub->kind == VAL_SET) {
		for (size_t i = 0; i < sub->arr.n; i++)
			if (!val_set_contains(sup, sub->arr.items[i]))
				return false;
		return true;
	}
	if (sup->kind == VAL_SET && sub->kind == VAL_ARRAY) {
		for (size_t i = 0; i < sub->arr.n; i++)
			if (!val_set_contains(sup, sub->arr.items[i]))
				return false;
		return true;
	}
	if (sup->kind == VAL_ARRAY && sub->kind == VAL_SET) {
		/* every element of the set somewhere in the array: searched in
		 * a sorted copy, so a large array costs n log n, not n * m */
		struct val **v = malloc((sup->arr.n ? sup->arr.n : 1) * sizeof(*v));
		if (!v)
			return false;
		memcpy(v, sup->arr.items, sup->arr.n * sizeof(*v));
		qsort(v, sup->arr.n, sizeof(*v), cmp_valp);
		bool all = true;
		for (size_t i = 0; i < sub->arr.n && all; i++)
			all = bsearch(&sub->arr.items[i], v, sup->arr.n, sizeof(*v), cmp_valp) != NULL;
		free(v);
		return all;
	}
	if (sup->kind == VAL_ARRAY && sub->kind == VAL_ARRAY) {
		/* contiguous sub-slice */
		if (sub->arr.n == 0)
			return true;
		for (size_t s = 0; s + sub->arr.n <= sup->arr.n; s++) {
			size_t j = 0;
			while (j < sub->arr.n && val_equal(sup->arr.items[s + j], sub->arr.items[j]))
				j++;
			if (j == sub->arr.n)
				return true;
		}
		return false;
	}
	return val_equal(sup, sub);
}

static int bi_object_subset(struct ev *ev, struct val **args, struct val **out)
{
	static const char *const want = "one of {object, array, set}";
	if (A0->kind != VAL_OBJECT && A0->kind != VAL_ARRAY && A0->kind != VAL_SET)
		return bi_type_err(ev, "object.subset", 1, want, A0);
	if (A1->kind != VAL_OBJECT && A1->kind != VAL_ARRAY && A1->kind != VAL_SET)
		return bi_type_err(ev, "object.subset", 2, want, A1);
	if (A0->kind == VAL_OBJECT && A1->kind != VAL_OBJECT)
		return ev_error(ev, -EINVAL, EC_TYPE, "object.subset: if the first argument is an object, the second argument must also be an object");
	if (A0->kind != VAL_OBJECT && A1->kind == VAL_OBJECT)
		return ev_error(ev, -EINVAL, EC_TYPE, "object.subset: if the second argument is an object, the first argument must also be an object");
	return ret(out, val_bool(subset(A0, A1)));
}

static int bi_union(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_SET)
		return bi_type_err(ev, "union", 1, "set", A0);
	struct val *s = val_set_new(4);
	for (size_t i = 0; s && i < A0->arr.n; i++) {
		struct val *x = A0->arr.items[i];
		if (x->kind != VAL_SET) {
			val_unref(s);
			return ev_error(ev, -EINVAL, EC_TYPE, "union: operand 1 must be set of sets but got set containing %s", val_type_name(x));
		}
		for (size_t j = 0; j < x->arr.n; j++)
			if (val_set_add(s, val_ref(x->arr.items[j])) < 0) {
				val_unref(s);
				return -ENOMEM;
			}
	}
	return ret(out, s);
}

static int bi_intersection(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_SET)
		return bi_type_err(ev, "intersection", 1, "set", A0);
	for (size_t i = 0; i < A0->arr.n; i++)
		if (A0->arr.items[i]->kind != VAL_SET)
			return ev_error(ev, -EINVAL, EC_TYPE, "intersection: operand 1 must be set of sets but got set containing %s",
					val_type_name(A0->arr.items[i]));
	struct val *s = val_set_new(4);
	if (!s)
		return -ENOMEM;
	if (A0->arr.n == 0)
		return ret(out, s);
	struct val *first = A0->arr.items[0];
	for (size_t j = 0; j < first->arr.n; j++) {
		bool all = true;
		for (size_t i = 1; i < A0->arr.n && all; i++)
			all = val_set_contains(A0->arr.items[i], first->arr.items[j]);
		if (all && val_set_add(s, val_ref(first->arr.items[j])) < 0) {
			val_unref(s);
			return -ENOMEM;
		}
	}
	return ret(out, s);
}

static int bi_array_concat(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_ARRAY)
		return bi_type_err(ev, "array.concat", 1, "array", A0);
	if (A1->kind != VAL_ARRAY)
		return bi_type_err(ev, "array.concat", 2, "array", A1);
	struct val *a = val_array_new(A0->arr.n + A1->arr.n);
	for (size_t i = 0; a && i < A0->arr.n + A1->arr.n; i++) {
		struct val *x = i < A0->arr.n ? A0->arr.items[i] : A1->arr.items[i - A0->arr.n];
		if (val_array_push(a, val_ref(x)) < 0) {
			val_unref(a);
			return -ENOMEM;
		}
	}
	return ret(out, a);
}

static int bi_array_slice(struct ev *ev, struct val **args, struct val **out)
{
	int64_t s, e;
	if (A0->kind != VAL_ARRAY)
		return bi_type_err(ev, "array.slice", 1, "array", A0);
	if (A1->kind != VAL_NUMBER || !num_is_int(A1, &s))
		return bi_type_err(ev, "array.slice", 2, "number", A1);
	if (A2->kind != VAL_NUMBER || !num_is_int(A2, &e))
		return bi_type_err(ev, "array.slice", 3, "number", A2);
	int64_t n = (int64_t)A0->arr.n;
	if (s < 0)
		s = 0;
	if (e > n)
		e = n;
	if (s > e)
		s = e;
	struct val *a = val_array_new((size_t)(e - s));
	for (int64_t i = s; a && i < e; i++)
		if (val_array_push(a, val_ref(A0->arr.items[i])) < 0) {
			val_unref(a);
			return -ENOMEM;
		}
	return ret(out, a);
}

static int bi_array_reverse(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_ARRAY)
		return bi_type_err(ev, "array.reverse", 1, "array", A0);
	struct val *a = val_array_new(A0->arr.n);
	for (size_t i = A0->arr.n; a && i > 0; i--)
		if (val_array_push(a, val_ref(A0->arr.items[i - 1])) < 0) {
			val_unref(a);
			return -ENOMEM;
		}
	return ret(out, a);
}

static int flatten(struct val *dst, const struct val *a, unsigned depth)
{
	if (depth > 512)
		return -E2BIG;
	for (size_t i = 0; i < a->arr.n; i++) {
		struct val *x = a->arr.items[i];
		int rc = 0;
		if (x->kind == VAL_ARRAY && depth == 0) /* OPA flattens one level */
			for (size_t j = 0; j < x->arr.n && rc == 0; j++)
				rc = val_array_push(dst, val_ref(x->arr.items[j]));
		else
			rc = val_array_push(dst, val_ref(x));
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int bi_array_flatten(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_ARRAY)
		return bi_type_err(ev, "array.flatten", 1, "array", A0);
	struct val *a = val_array_new(A0->arr.n);
	if (!a || flatten(a, A0, 0) < 0) {
		val_unref(a);
		return -ENOMEM;
	}
	return ret(out, a);
}

/* ---------------------------------------------------- json.filter/remove */

/* Paths: strings "a/b/c" or arrays of segments. Returns an array of arrays. */
static int parse_paths(struct ev *ev, const char *fn, struct val *ps, struct val **out)
{
	if (ps->kind != VAL_ARRAY && ps->kind != VAL_SET)
		return bi_type_err(ev, fn, 2, "one of {set, array}", ps);
	struct val *all = val_array_new(ps->arr.n);
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < ps->arr.n; i++) {
		struct val *p = ps->arr.items[i], *segs;
		if (p->kind == VAL_STRING) {
			segs = val_array_new(4);
			const char *s = p->str.s, *end = s + p->str.len;
			while (segs && s < end && *s == '/')
				s++;
			while (segs && s < end) {
				const char *q = memchr(s, '/', (size_t)(end - s));
				if (!q)
					q = end;
				/* JSON pointer escapes */
				struct buf b = BUF_INIT;
				for (const char *c = s; c < q; c++) {
					if (*c == '~' && c + 1 < q && c[1] == '1') {
						buf_addch(&b, '/');
						c++;
					} else if (*c == '~' && c + 1 < q && c[1] == '0') {
						buf_addch(&b, '~');
						c++;
					} else {
						buf_addch(&b, *c);
					}
				}
				if (val_array_push(segs, val_string(b.p, b.len)) < 0)
					segs = NULL;
				buf_release(&b);
				s = q + 1;
			}
		} else if (p->kind == VAL_ARRAY) {
			segs = val_ref(p);
		} else {
			val_unref(all);
			return ev_error(ev, -EINVAL, EC_TYPE,
					"%s: operand 2 must be one of {set, array} containing string paths or array of path segments but got %s",
					fn, val_type_name(p));
		}
		if (!segs || val_array_push(all, segs) < 0) {
			val_unref(all);
			return -ENOMEM;
		}
	}
	*out = all;
	return 0;
}

static struct val *seg_child(const struct val *v, const struct val *seg, struct val **key)
{
	*key = NULL;
	if (v->kind == VAL_OBJECT) {
		struct val *x = val_object_get(v, seg);
		if (x)
			*key = (struct val *)seg;
		return x;
	}
	if (v->kind == VAL_ARRAY) {
		int64_t i = -1;
		if (seg->kind == VAL_STRING) {
			char *end;
			long long l = strtoll(seg->str.s, &end, 10);
			if (*end == 0 && seg->str.len)
				i = l;
		} else {
			num_is_int(seg, &i);
		}
		return (i >= 0 && (uint64_t)i < v->arr.n) ? v->arr.items[i] : NULL;
	}
	if (v->kind == VAL_SET)
		return val_set_contains(v, seg) ? (struct val *)seg : NULL;
	return NULL;
}

/* Keeps only the parts of @v named by @paths (each from index @d). */
static struct val *jfilter(struct val *v, struct val **paths, size_t np, size_t d)
{
	for (size_t i = 0; i < np; i++)
		if (paths[i]->arr.n == d)
			return val_ref(v);
	if (v->kind == VAL_OBJECT) {
		struct val *o = val_object_new(4);
		for (size_t k = 0; o && k < v->obj.n; k++) {
			struct val **sub = malloc(np * sizeof(*sub));
			size_t ns = 0;
			if (!sub)
				break;
			for (size_t i = 0; i < np; i++)
				if (paths[i]->arr.n > d && val_equal(paths[i]->arr.items[d], v->obj.keys[k]))
					sub[ns++] = paths[i];
			if (ns) {
				struct val *c = jfilter(v->obj.vals[k], sub, ns, d + 1);
				if (c && val_object_put(o, val_ref(v->obj.keys[k]), c) < 0) {
					free(sub);
					val_unref(o);
					return NULL;
				}
			}
			free(sub);
		}
		return o;
	}
	if (v->kind == VAL_ARRAY || v->kind == VAL_SET) {
		struct val *a = v->kind == VAL_ARRAY ? val_array_new(4) : val_set_new(4);
		for (size_t k = 0; a && k < v->arr.n; k++) {
			struct val **sub = malloc(np * sizeof(*sub));
			size_t ns = 0;
			if (!sub)
				break;
			for (size_t i = 0; i < np; i++) {
				struct val *seg = paths[i]->arr.items[d], *key;
				if (paths[i]->arr.n <= d)
					continue;
				struct val *c = seg_child(v, seg, &key);
				if (c && (v->kind == VAL_SET ? val_equal(c, v->arr.items[k]) : c == v->arr.items[k]))
					sub[ns++] = paths[i];
			}
			if (ns) {
				struct val *c = jfilter(v->arr.items[k], sub, ns, d + 1);
				if (c && (v->kind == VAL_ARRAY ? val_array_push(a, c) : val_set_add(a, c)) < 0) {
					free(sub);
					val_unref(a);
					return NULL;
				}
			}
			free(sub);
		}
		return a;
	}
	return NULL;
}

static int bi_json_filter(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_OBJECT)
		return bi_type_err(ev, "json.filter", 1, "object", A0);
	struct val *paths;
	int rc = parse_paths(ev, "json.filter", A1, &paths);
	if (rc < 0)
		return rc;
	struct val *r = jfilter(A0, paths->arr.items, paths->arr.n, 0);
	val_unref(paths);
	if (!r)
		r = val_object_new(0);
	return ret(out, r);
}

static struct val *jremove(struct val *v, struct val **paths, size_t np, size_t d)
{
	if (v->kind == VAL_OBJECT) {
		struct val *o = val_object_new(v->obj.n);
		for (size_t k = 0; o && k < v->obj.n; k++) {
			bool drop = false;
			struct val **sub = malloc((np ? np : 1) * sizeof(*sub));
			size_t ns = 0;
			if (!sub) {
				val_unref(o);
				return NULL;
			}
			for (size_t i = 0; i < np; i++) {
				if (paths[i]->arr.n <= d || !val_equal(paths[i]->arr.items[d], v->obj.keys[k]))
					continue;
				if (paths[i]->arr.n == d + 1)
					drop = true;
				else
					sub[ns++] = paths[i];
			}
			if (!drop) {
				struct val *c = ns ? jremove(v->obj.vals[k], sub, ns, d + 1) : val_ref(v->obj.vals[k]);
				if (!c || val_object_put(o, val_ref(v->obj.keys[k]), c) < 0) {
					free(sub);
					val_unref(o);
					return NULL;
				}
			}
			free(sub);
		}
		return o;
	}
	if (v->kind == VAL_ARRAY) {
		struct val *a = val_array_new(v->arr.n);
		for (size_t k = 0; a && k < v->arr.n; k++) {
			bool drop = false;
			struct val **sub = malloc((np ? np : 1) * sizeof(*sub));
			size_t ns = 0;
			if (!sub) {
				val_unref(a);
				return NULL;
			}
			for (size_t i = 0; i < np; i++) {
				struct val *key;
				if (paths[i]->arr.n <= d || seg_child(v, paths[i]->arr.items[d], &key) != v->arr.items[k])
					continue;
				if (paths[i]->arr.n == d + 1)
					drop = true;
				else
					sub[ns++] = paths[i];
			}
			if (!drop) {
				struct val *c = ns ? jremove(v->arr.items[k], sub, ns, d + 1) : val_ref(v->arr.items[k]);
				if (!c || val_array_push(a, c) < 0) {
					free(sub);
					val_unref(a);
					return NULL;
				}
			}
			free(sub);
		}
		return a;
	}
	return val_ref(v);
}

static int bi_json_remove(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_OBJECT)
		return bi_type_err(ev, "json.remove", 1, "object", A0);
	struct val *paths;
	int rc = parse_paths(ev, "json.remove", A1, &paths);
	if (rc < 0)
		return rc;
	struct val *r = jremove(A0, paths->arr.items, paths->arr.n, 0);
	val_unref(paths);
	return ret(out, r);
}

/* ---------------------------------------------------------- json.patch */

#define PATCH_MAX_DEPTH 256

/* Path as segments: "/a/b" (JSON pointer) or an array. NULL when invalid. */
static struct val *patch_path(const struct val *p)
{
	if (p && p->kind == VAL_ARRAY)
		return val_ref((struct val *)p);
	if (!p || p->kind != VAL_STRING)
		return NULL;
	if (p->str.len == 0)
		return val_array_new(0);
	/* JSON pointer; the leading '/' is optional, empty segments are keys */
	struct val *segs = val_array_new(4);
	const char *c = p->str.s, *end = c + p->str.len;
	if (*c == '/')
		c++;
	for (;;) {
		const char *q = memchr(c, '/', (size_t)(end - c));
		const char *se = q ? q : end;
		struct buf sb = BUF_INIT;
		for (const char *x = c; x < se; x++) {
			if (*x == '~' && x + 1 < se && (x[1] == '0' || x[1] == '1')) {
				buf_addch(&sb, x[1] == '0' ? '~' : '/');
				x++;
			} else {
				buf_addch(&sb, *x);
			}
		}
		int rc = segs ? val_array_push(segs, val_string(sb.p, sb.len)) : -ENOMEM;
		buf_release(&sb);
		if (rc < 0) {
			val_unref(segs);
			return NULL;
		}
		if (!q)
			break;
		c = q + 1;
	}
	return segs;
}

static bool arr_index(const struct val *seg, size_t n, bool allow_end, size_t *out)
{
	if (seg->kind == VAL_STRING) {
		if (allow_end && seg->str.len == 1 && seg->str.s[0] == '-') {
			*out = n;
			return true;
		}
		if (seg->str.len == 0 || seg->str.len > 18 || (seg->str.len > 1 && seg->str.s[0] == '0'))
			return false;
		size_t v = 0;
		for (size_t i = 0; i < seg->str.len; i++) {
			if (seg->str.s[i] < '0' || seg->str.s[i] > '9')
				return false;
			v = v * 10 + (size_t)(seg->str.s[i] - '0');
		}
		*out = v;
	} else {
		int64_t i;
		if (!num_is_int(seg, &i) || i < 0)
			return false;
		*out = (size_t)i;
	}
	return *out < n || (allow_end && *out == n);
}

static struct val *patch_get(struct val *doc, struct val *path)
{
	struct val *cur = doc;
	for (size_t i = 0; cur && i < path->arr.n; i++) {
		struct val *seg = path->arr.items[i];
		size_t idx;
		if (cur->kind == VAL_OBJECT)
			cur = val_object_get(cur, seg);
		else if (cur->kind == VAL_ARRAY)
			cur = arr_index(seg, cur->arr.n, false, &idx) ? cur->arr.items[idx] : NULL;
		else if (cur->kind == VAL_SET)
			cur = val_set_contains(cur, seg) ? seg : NULL;
		else
			cur = NULL;
	}
	return cur;
}

/* mode: 0 add, 1 replace, 2 remove. Returns a new document or NULL. */
static struct val *patch_apply(struct val *doc, struct val *path, size_t i, struct val *v, int mode)
{
	if (i == path->arr.n)
		return mode == 2 ? NULL : val_ref(v);
	if (i > PATCH_MAX_DEPTH)
		return NULL;
	struct val *seg = path->arr.items[i];
	bool last = i + 1 == path->arr.n;
	if (doc->kind == VAL_OBJECT) {
		struct val *child = val_object_get(doc, seg);
		if (!child && (!last || mode != 0))
			return NULL;
		struct val *o = val_object_new(doc->obj.n + 1);
		for (size_t k = 0; o && k < doc->obj.n; k++) {
			if (last && mode == 2 && val_equal(doc->obj.keys[k], seg))
				continue;
			if (val_object_put(o, val_ref(doc->obj.keys[k]), val_ref(doc->obj.vals[k])) < 0) {
				val_unref(o);
				return NULL;
			}
		}
		if (o && !(last && mode == 2)) {
			struct val *nc = last ? val_ref(v) : patch_apply(child, path, i + 1, v, mode);
			if (!nc || val_object_put(o, val_ref(seg), nc) < 0) {
				val_unref(o);
				return NULL;
			}
		}
		return o;
	}
	if (doc->kind == VAL_ARRAY) {
		size_t idx;
		if (!arr_index(seg, doc->arr.n, last && mode == 0, &idx))
			return NULL;
		struct val *a = val_array_new(doc->arr.n + 1);
		for (size_t k = 0; a && k <= doc->arr.n; k++) {
			if (k == idx) {
				if (last && mode == 0) {
					if (val_array_push(a, val_ref(v)) < 0)
						goto fail;
				} else if (!(last && mode == 2)) {
					struct val *nc = last ? val_ref(v) : patch_apply(doc->arr.items[k], path, i + 1, v, mode);
					if (!nc || val_array_push(a, nc) < 0)
						goto fail;
					continue;
				} else {
					continue;
				}
			}
			if (k < doc->arr.n && val_array_push(a, val_ref(doc->arr.items[k])) < 0)
				goto fail;
		}
		return a;
	fail:
		val_unref(a);
		return NULL;
	}
	if (doc->kind == VAL_SET && last) {
		if (mode == 0 && !val_equal(seg, v))
			return NULL;
		if (mode != 0 && !val_set_contains(doc, seg))
			return NULL;
		struct val *st = val_set_new(doc->arr.n + 1);
		for (size_t k = 0; st && k < doc->arr.n; k++)
			if (!(mode == 2 && val_equal(doc->arr.items[k], seg)))
				val_set_add(st, val_ref(doc->arr.items[k]));
		if (st && mode == 0)
			val_set_add(st, val_ref(v));
		return st;
	}
	if (doc->kind == VAL_SET) {
		/* a set element is named by itself; patching inside it replaces it */
		if (!val_set_contains(doc, seg))
			return NULL;
		struct val *nc = patch_apply(seg, path, i + 1, v, mode);
		struct val *st = nc ? val_set_new(doc->arr.n) : NULL;
		if (!st) {
			val_unref(nc);
			return NULL;
		}
		int rc = 0;
		for (size_t k = 0; rc == 0 && k < doc->arr.n; k++)
			if (!val_equal(doc->arr.items[k], seg))
				rc = val_set_add(st, val_ref(doc->arr.items[k]));
		if (rc < 0 || val_set_add(st, nc) < 0) { /* val_set_add owns nc */
			if (rc < 0)
				val_unref(nc);
			val_unref(st);
			return NULL;
		}
		return st;
	}
	return NULL;
}

static int bi_json_patch(struct ev *ev, struct val **args, struct val **out)
{
	if (A1->kind != VAL_ARRAY)
		return bi_type_err(ev, "json.patch", 2, "array", A1);
	struct val *doc = val_ref(A0);
	for (size_t i = 0; doc && i < A1->arr.n; i++) {
		struct val *op = A1->arr.items[i];
		const char *name = val_str(val_object_get_cstr(op, "op"));
		struct val *path = patch_path(val_object_get_cstr(op, "path"));
		struct val *nd = NULL;
		if (!name || !path) {
			val_unref(path);
			val_unref(doc);
			return ev_error(ev, -EINVAL, EC_BUILTIN, "json.patch: invalid patch operation");
		}
		struct val *value = val_object_get_cstr(op, "value");
		if (!strcmp(name, "add") || !strcmp(name, "replace")) {
			if (value)
				nd = patch_apply(doc, path, 0, value, name[0] == 'a' ? 0 : 1);
		} else if (!strcmp(name, "remove")) {
			if (path->arr.n)
				nd = patch_apply(doc, path, 0, NULL, 2);
		} else if (!strcmp(name, "test")) {
			struct val *cur = patch_get(doc, path);
			nd = cur && value && val_equal(cur, value) ? val_ref(doc) : NULL;
		} else if (!strcmp(name, "move") || !strcmp(name, "copy")) {
			struct val *from = patch_path(val_object_get_cstr(op, "from"));
			struct val *cur = from ? patch_get(doc, from) : NULL;
			if (cur) {
				val_ref(cur);
				struct val *tmp = name[0] == 'm' ? (from->arr.n ? patch_apply(doc, from, 0, NULL, 2) : NULL) : val_ref(doc);
				if (tmp)
					nd = patch_apply(tmp, path, 0, cur, 0);
				val_unref(tmp);
				val_unref(cur);
			}
			val_unref(from);
		}
		val_unref(path);
		val_unref(doc);
		doc = nd;
	}
	if (!doc)
		return 1; /* a failing operation makes the result undefined */
	*out = doc;
	return 0;
}

const struct builtin_decl rego_builtins_collections[] = {
	{ "json.patch", 2, bi_json_patch, "apply an RFC 6902 patch" },
	{ "object.get", 3, bi_object_get, "value at key or path, else default" },
	{ "object.keys", 1, bi_object_keys, "set of keys" },
	{ "object.filter", 2, bi_object_filter, "keep the given keys" },
	{ "object.remove", 2, bi_object_remove, "drop the given keys" },
	{ "object.union", 2, bi_object_union, "recursive merge, right wins" },
	{ "object.union_n", 1, bi_object_union_n, "merge an array of objects" },
	{ "object.subset", 2, bi_object_subset, "recursive subset test" },
	{ "union", 1, bi_union, "union of a set of sets" },
	{ "intersection", 1, bi_intersection, "intersection of a set of sets" },
	{ "array.concat", 2, bi_array_concat, "concatenate arrays" },
	{ "array.slice", 3, bi_array_slice, "sub-array [start, stop)" },
	{ "array.reverse", 1, bi_array_reverse, "reverse an array" },
	{ "array.flatten", 1, bi_array_flatten, "flatten nested arrays" },
	{ "json.filter", 2, bi_json_filter, "keep only the given paths" },
	{ "json.remove", 2, bi_json_remove, "remove the given paths" },
	{ NULL, 0, NULL, NULL },
};
