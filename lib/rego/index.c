/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Membership index for the base document: `x in data.blocked_digests` and
 * its kin scan the array once per evaluation. Large arrays of strings in
 * data are hashed once, when the engine gets its data, so the test is one
 * probe. The index is read-only during evaluation (threads share it) and
 * is rebuilt whenever the data changes.
 */
#include "internal.h"

/* Arrays shorter than this are scanned: hashing costs more than it saves. */
#define REGO_INDEX_MIN_ITEMS 16
/* Named bounds: how deep the data is searched for arrays, how many arrays
 * are indexed (a hostile data document cannot make the build unbounded). */
#define REGO_INDEX_MAX_DEPTH 32
#define REGO_INDEX_MAX_ARRAYS 4096

struct arr_index {
	const struct val *arr; /* borrowed from rego.data */
	uint32_t *slot;        /* element index + 1, 0 empty */
	size_t mask;
};

struct rego_index {
	struct arr_index *a; /* open addressing by array pointer */
	size_t mask, n;
};

/* Eight bytes a step: digests, the usual contents of such lists, are long. */
static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	uint64_t t = 0;
	for (; i < n; i++)
		t = (t << 8) | (uint8_t)s[i];
	h = (h ^ t) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

static size_t hash_ptr(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (size_t)x;
}

static bool all_strings(const struct val *a)
{
	for (size_t i = 0; i < a->arr.n; i++)
		if (a->arr.items[i]->kind != VAL_STRING)
			return false;
	return true;
}

static int index_array(struct arr_index *x, const struct val *a)
{
	size_t cap = 32;
	while (cap < a->arr.n * 2)
		cap *= 2;
	x->slot = calloc(cap, sizeof(*x->slot));
	if (!x->slot)
		return -ENOMEM;
	x->arr = a;
	x->mask = cap - 1;
	for (size_t i = 0; i < a->arr.n; i++) {
		const struct val *s = a->arr.items[i];
		size_t j = (size_t)hash_bytes(s->str.s, s->str.len) & x->mask;
		while (x->slot[j])
			j = (j + 1) & x->mask;
		x->slot[j] = (uint32_t)i + 1;
	}
	return 0;
}

struct found {
	const struct val **a;
	size_t n, cap;
	int rc;
};

/* Collects the arrays to index, at most REGO_INDEX_MAX_ARRAYS. */
static void find_arrays(const struct val *v, unsigned depth, struct found *f)
{
	if (depth > REGO_INDEX_MAX_DEPTH || f->n == REGO_INDEX_MAX_ARRAYS || f->rc < 0)
		return;
	/* scalars hold no arrays: they are not visited */
	if (v->kind == VAL_OBJECT) {
		for (size_t i = 0; i < v->obj.n; i++)
			if (v->obj.vals[i]->kind == VAL_OBJECT || v->obj.vals[i]->kind == VAL_ARRAY)
				find_arrays(v->obj.vals[i], depth + 1, f);
	} else if (v->kind == VAL_ARRAY) {
		if (v->arr.n >= REGO_INDEX_MIN_ITEMS && v->arr.n < UINT32_MAX && all_strings(v)) {
			if (f->n == f->cap) {
				size_t nc = f->cap ? f->cap * 2 : 16;
				const struct val **na = reallocarray(f->a, nc, sizeof(*na));
				if (!na) {
					f->rc = -ENOMEM;
					return;
				}
				f->a = na;
				f->cap = nc;
			}
			f->a[f->n++] = v;
			return;
		}
		for (size_t i = 0; i < v->arr.n; i++)
			if (v->arr.items[i]->kind == VAL_OBJECT || v->arr.items[i]->kind == VAL_ARRAY)
				find_arrays(v->arr.items[i], depth + 1, f);
	}
}

void rego_index_free(struct rego_index *x)
{
	if (!x)
		return;
	for (size_t i = 0; i <= x->mask; i++)
		free(x->a[i].slot);
	free(x->a);
	free(x);
}

int rego_index_build(const struct val *data, struct rego_index **out)
{
	*out = NULL;
	struct found f = { 0 };
	find_arrays(data, 0, &f);
	const struct val **arrs = f.a;
	size_t n = f.n;
	if (f.rc < 0 || n == 0) {
		free(arrs);
		return f.rc;
	}
	struct rego_index *x = calloc(1, sizeof(*x));
	size_t cap = 8;
	while (cap < n * 2)
		cap *= 2;
	if (x)
		x->a = calloc(cap, sizeof(*x->a));
	int rc = x && x->a ? 0 : -ENOMEM;
	if (rc == 0)
		x->mask = cap - 1;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t j = hash_ptr(arrs[i]) & x->mask;
		while (x->a[j].arr)
			j = (j + 1) & x->mask;
		rc = index_array(&x->a[j], arrs[i]);
		x->n++;
	}
	free(arrs);
	if (rc < 0) {
		if (x && x->a)
			rego_index_free(x);
		else
			free(x);
		return rc;
	}
	*out = x;
	return 0;
}

int rego_index_member(const struct rego_index *x, const struct val *arr, const struct val *item)
{
	if (!x || arr->arr.n < REGO_INDEX_MIN_ITEMS)
		return -1;
	size_t j = hash_ptr(arr) & x->mask;
	while (x->a[j].arr && x->a[j].arr != arr)
		j = (j + 1) & x->mask;
	const struct arr_index *ai = &x->a[j];
	if (!ai->arr)
		return -1;
	if (item->kind != VAL_STRING)
		return 0; /* the array holds only strings */
	size_t k = (size_t)hash_bytes(item->str.s, item->str.len) & ai->mask;
	for (; ai->slot[k]; k = (k + 1) & ai->mask)
		if (str_eq(arr->arr.items[ai->slot[k] - 1], item))
			return 1;
	return 0;
}
