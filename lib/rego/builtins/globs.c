/* SPDX-License-Identifier: Apache-2.0 */
/*
 * regex.globs_match: whether two glob patterns match a common string, in
 * the pattern language OPA takes from glob-intersection: a literal byte,
 * '.' (any byte), a class "[a-z]" ("[^...]" negated), each optionally
 * followed by '*' (zero or more) or '+' (one or more); '\' escapes.
 *
 * Each pattern is a chain of states; the patterns intersect when the
 * product of the two chains reaches both ends, stepping only on byte sets
 * that overlap.
 */
#include "../internal.h"

#define A0 args[0]
#define A1 args[1]

/* Named limit: tokens of one pattern (the product has n1 * n2 states). */
#define GLOBS_MAX_TOKENS 1024

struct gtok {
	uint64_t set[4]; /* bytes this token accepts */
	bool star;       /* repeats zero or more times */
};

struct gpat {
	struct gtok *t;
	size_t n;
};

static void set_add(struct gtok *t, unsigned char c) { t->set[c >> 6] |= UINT64_C(1) << (c & 63); }

static int gerr(struct ev *ev, const struct val *in, size_t pos, const char *what)
{
	return ev_error(ev, -EINVAL, EC_BUILTIN, "regex.globs_match: input:%.*s, pos:%zu, %s: the input provided is invalid",
			(int)in->str.len, in->str.s, pos, what);
}

static int push(struct gpat *p, const struct gtok *t)
{
	if (p->n == GLOBS_MAX_TOKENS)
		return -E2BIG;
	p->t[p->n++] = *t;
	return 0;
}

/* Parses @in into @p (p->t sized GLOBS_MAX_TOKENS); an error is reported. */
static int gparse(struct ev *ev, const struct val *in, struct gpat *p)
{
	const unsigned char *s = (const unsigned char *)in->str.s;
	size_t n = in->str.len;
	bool have = false; /* the last token may take a '*' or '+' */
	p->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct gtok t = { { 0 }, false };
		unsigned char c = s[i];
		if (c == '*' || c == '+') {
			if (!have)
				return gerr(ev, in, i + 1, c == '*' ? "'*' with no preceding token" : "'+' with no preceding token");
			if (c == '*') {
				p->t[p->n - 1].star = true;
			} else {
				/* X+ is X X* */
				t = p->t[p->n - 1];
				t.star = true;
				if (push(p, &t) < 0)
					return ev_error(ev, -E2BIG, EC_BUILTIN, "regex.globs_match: pattern too long");
			}
			have = false;
			continue;
		}
		if (c == ']')
			return gerr(ev, in, i + 1, "set-close ']' with no preceding '['");
		if (c == '.') {
			memset(t.set, 0xff, sizeof(t.set));
		} else if (c == '\\') {
			if (++i == n)
				return gerr(ev, in, i, "escape '\\' at end of input");
			set_add(&t, s[i]);
		} else if (c == '[') {
			size_t open = i++;
			bool neg = i < n && s[i] == '^';
			if (neg)
				i++;
			for (; i < n && s[i] != ']'; i++) {
				unsigned char lo = s[i];
				if (lo == '\\' && i + 1 < n)
					lo = s[++i];
				unsigned char hi = lo;
				if (i + 2 < n && s[i + 1] == '-' && s[i + 2] != ']') {
					hi = s[i + 2];
					if (hi == '\\' && i + 3 < n)
						hi = s[++i + 2];
					i += 2;
					if (hi < lo)
						return gerr(ev, in, i + 1, "range with start after end");
				}
				for (unsigned x = lo; x <= hi; x++)
					set_add(&t, (unsigned char)x);
			}
			if (i == n)
				return gerr(ev, in, open + 1, "set-open '[' with no closing ']'");
			if (neg)
				for (size_t w = 0; w < 4; w++)
					t.set[w] = ~t.set[w];
		} else {
			set_add(&t, c);
		}
		if (push(p, &t) < 0)
			return ev_error(ev, -E2BIG, EC_BUILTIN, "regex.globs_match: pattern too long");
		have = true;
	}
	return 0;
}

static bool overlap(const struct gtok *a, const struct gtok *b)
{
	for (size_t w = 0; w < 4; w++)
		if (a->set[w] & b->set[w])
			return true;
	return false;
}

/* Breadth-first search of the product of the two chains; visited pairs
 * are marked in @seen, (a->n + 1) * (b->n + 1) flags. */
static bool intersect(const struct gpat *a, const struct gpat *b, bool *seen, size_t *queue)
{
	size_t w = b->n + 1, head = 0, tail = 0;
	seen[0] = true;
	queue[tail++] = 0;
	while (head < tail) {
		size_t st = queue[head++], i = st / w, j = st % w;
		if (i == a->n && j == b->n)
			return true;
		size_t next[5];
		size_t nn = 0;
		/* a starred token may be skipped on either side */
		if (i < a->n && a->t[i].star)
			next[nn++] = (i + 1) * w + j;
		if (j < b->n && b->t[j].star)
			next[nn++] = i * w + j + 1;
		if (i < a->n && j < b->n && overlap(&a->t[i], &b->t[j])) {
			size_t ni = a->t[i].star ? i : i + 1, nj = b->t[j].star ? j : j + 1;
			next[nn++] = ni * w + nj;
			/* a star may also stop after this byte */
			if (a->t[i].star)
				next[nn++] = (i + 1) * w + nj;
			if (b->t[j].star)
				next[nn++] = ni * w + j + 1;
		}
		for (size_t k = 0; k < nn; k++)
			if (!seen[next[k]]) {
				seen[next[k]] = true;
				queue[tail++] = next[k];
			}
	}
	return false;
}

static int bi_globs_match(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "regex.globs_match", 1, "string", A0);
	if (A1->kind != VAL_STRING)
		return bi_type_err(ev, "regex.globs_match", 2, "string", A1);
	struct gpat a = { calloc(GLOBS_MAX_TOKENS, sizeof(struct gtok)), 0 };
	struct gpat b = { calloc(GLOBS_MAX_TOKENS, sizeof(struct gtok)), 0 };
	bool *seen = NULL;
	size_t *queue = NULL;
	int rc = a.t && b.t ? 0 : -ENOMEM;
	if (rc == 0)
		rc = gparse(ev, A0, &a);
	if (rc == 0)
		rc = gparse(ev, A1, &b);
	if (rc == 0) {
		/* both counts are at most GLOBS_MAX_TOKENS: no overflow */
		size_t states = (a.n + 1) * (b.n + 1);
		seen = calloc(states, sizeof(*seen));
		queue = malloc(states * sizeof(*queue));
		if (!seen || !queue)
			rc = -ENOMEM;
		else
			*out = val_bool(intersect(&a, &b, seen, queue));
	}
	free(seen);
	free(queue);
	free(a.t);
	free(b.t);
	return rc;
}

const struct builtin_decl rego_builtins_globs[] = {
	{ "regex.globs_match", 2, bi_globs_match, "two glob patterns match a common string" },
	{ NULL, 0, NULL, NULL },
};
