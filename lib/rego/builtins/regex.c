/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Regex and glob builtins. Patterns are compiled by RE2 through re2_shim.cc
 * (linear-time matching, Go regexp syntax); globs are translated to RE2.
 */
#include "../internal.h"
#include "../re2_shim.h"

#define A0 args[0]
#define A1 args[1]
#define A2 args[2]

#define REGEX_MAX_GROUPS 64
#define REGEX_CACHE_SIZE 64 /* compiled patterns kept per engine */

#include <pthread.h>

/* A small per-engine cache of compiled patterns: RE2 compilation costs
 * microseconds, matching nanoseconds, and policies reuse a few patterns.
 * Entries are refcounted so one can be evicted while another evaluation
 * still matches with it; the mutex makes the cache safe to share between
 * threads evaluating the same engine. */
struct re_entry {
	char *pat;
	size_t len;
	struct rego_re *re;
	unsigned refs;
	uint64_t used;
};

struct re_cache {
	pthread_mutex_t lock;
	struct re_entry e[REGEX_CACHE_SIZE];
	uint64_t tick;
};

static pthread_mutex_t cache_init_lock = PTHREAD_MUTEX_INITIALIZER;

void rego_re_cache_free(struct re_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < REGEX_CACHE_SIZE; i++) {
		free(c->e[i].pat);
		rego_re_free(c->e[i].re);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

struct re_handle {
	struct re_cache *c;
	struct re_entry *ent; /* NULL: not cached, free re */
	struct rego_re *re;
};

static void handle_release(struct re_handle *h)
{
	if (!h->re)
		return;
	if (!h->ent) {
		rego_re_free(h->re);
	} else {
		pthread_mutex_lock(&h->c->lock);
		if (--h->ent->refs == 0 && !h->ent->pat) {
			rego_re_free(h->ent->re);
			h->ent->re = NULL;
		}
		pthread_mutex_unlock(&h->c->lock);
	}
	h->re = NULL;
}

static void re_freep(struct rego_re **r) { rego_re_free(*r); }

static int compile_raw(struct ev *ev, const char *fn, struct val *pat, struct rego_re **out)
{
	char err[256] = "";
	int rc = rego_re_compile(pat->str.s, pat->str.len, out, err, sizeof(err));
	if (rc == -EBADMSG)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: error parsing regexp: %s", fn, err);
	return rc;
}

static int compile_cached(struct ev *ev, const char *fn, struct val *pat, struct re_handle *h)
{
	struct rego *r = ev->r;
	h->c = NULL;
	h->ent = NULL;
	h->re = NULL;
	/* created once; after that the global lock is not needed to find it
	 * (the acquire pairs with the release below) */
	struct re_cache *c = __atomic_load_n(&r->re_cache, __ATOMIC_ACQUIRE);
	if (!c) {
		pthread_mutex_lock(&cache_init_lock);
		c = r->re_cache;
		if (!c) {
			c = calloc(1, sizeof(*c));
			if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
				free(c);
				c = NULL;
			}
			__atomic_store_n(&r->re_cache, c, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&cache_init_lock);
	}
	if (!c)
		return compile_raw(ev, fn, pat, &h->re);
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < REGEX_CACHE_SIZE; i++) {
		struct re_entry *e = &c->e[i];
		if (e->pat && e->len == pat->str.len && memcmp(e->pat, pat->str.s, e->len) == 0) {
			e->refs++;
			e->used = ++c->tick;
			h->c = c;
			h->ent = e;
			h->re = e->re;
			pthread_mutex_unlock(&c->lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&c->lock);
	struct rego_re *re = NULL;
	int rc = compile_raw(ev, fn, pat, &re);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	struct re_entry *victim = NULL;
	for (size_t i = 0; i < REGEX_CACHE_SIZE; i++) {
		struct re_entry *e = &c->e[i];
		if (e->refs)
			continue;
		if (!victim || !e->pat || e->used < victim->used)
			victim = e;
		if (!e->pat)
			break;
	}
	char *copy = victim ? malloc(pat->str.len + 1) : NULL;
	if (victim && copy) {
		free(victim->pat);
		rego_re_free(victim->re);
		memcpy(copy, pat->str.s, pat->str.len);
		copy[pat->str.len] = 0;
		victim->pat = copy;
		victim->len = pat->str.len;
		victim->re = re;
		victim->refs = 1;
		victim->used = ++c->tick;
		h->c = c;
		h->ent = victim;
	}
	pthread_mutex_unlock(&c->lock);
	h->re = re;
	return 0;
}

static int need_str(struct ev *ev, const char *fn, int pos, struct val *v)
{
	return v->kind == VAL_STRING ? 0 : bi_type_err(ev, fn, pos, "string", v);
}

static int regex_match(struct ev *ev, const char *fn, struct val **args, struct val **out)
{
	int rc = need_str(ev, fn, 1, A0);
	if (!rc)
		rc = need_str(ev, fn, 2, A1);
	if (rc)
		return rc;
	struct re_handle h;
	rc = compile_cached(ev, fn, A0, &h);
	if (rc < 0)
		return rc;
	*out = val_bool(rego_re_match(h.re, A1->str.s, A1->str.len) == 1);
	handle_release(&h);
	return 0;
}

static int bi_regex_match(struct ev *ev, struct val **args, struct val **out)
{
	return regex_match(ev, "regex.match", args, out);
}

/* the deprecated alias names itself in its errors */
static int bi_re_match(struct ev *ev, struct val **args, struct val **out)
{
	return regex_match(ev, "re_match", args, out);
}

static int bi_regex_is_valid(struct ev *ev, struct val **args, struct val **out)
{
	(void)ev;
	struct rego_re *re = NULL;
	bool ok = A0->kind == VAL_STRING && rego_re_compile(A0->str.s, A0->str.len, &re, NULL, 0) == 0;
	rego_re_free(re);
	*out = val_bool(ok);
	return 0;
}

/* Calls @f for each non-overlapping match (Go's FindAll semantics), at most
 * @max (< 0: all). */
typedef int (*match_fn)(const char *s, const long *offs, int ng, void *arg);

static int each_match(struct rego_re *re, const char *s, size_t n, int64_t max, match_fn f, void *arg)
{
	long offs[2 * REGEX_MAX_GROUPS];
	int ng = rego_re_groups(re) + 1;
	if (ng > REGEX_MAX_GROUPS)
		ng = REGEX_MAX_GROUPS;
	size_t pos = 0;
	int64_t count = 0;
	long prev_end = -1;
	while (pos <= n && (max < 0 || count < max)) {
		if (!rego_re_find(re, s, n, pos, false, offs, 2 * ng))
			break;
		if (offs[1] == offs[0] && offs[0] == prev_end) {
			/* empty match right after the previous one: advance one rune */
			if ((size_t)offs[0] >= n)
				break;
			pos = (size_t)offs[0] + 1;
			while (pos < n && ((unsigned char)s[pos] & 0xc0) == 0x80)
				pos++;
			continue;
		}
		int rc = f(s, offs, ng, arg);
		if (rc < 0)
			return rc;
		count++;
		prev_end = offs[1];
		if (offs[1] > offs[0]) {
			pos = (size_t)offs[1];
		} else {
			pos = (size_t)offs[1] + 1;
			while (pos < n && ((unsigned char)s[pos] & 0xc0) == 0x80)
				pos++;
		}
	}
	return 0;
}

static int push_whole(const char *s, const long *offs, int ng, void *arg)
{
	(void)ng;
	return val_array_push(arg, val_string(s + offs[0], (size_t)(offs[1] - offs[0])));
}

static int push_groups(const char *s, const long *offs, int ng, void *arg)
{
	struct val *g = val_array_new((size_t)ng);
	for (int i = 0; g && i < ng; i++) {
		struct val *x = offs[2 * i] < 0 ? val_string("", 0) : val_string(s + offs[2 * i], (size_t)(offs[2 * i + 1] - offs[2 * i]));
		if (val_array_push(g, x) < 0) {
			val_unref(g);
			return -ENOMEM;
		}
	}
	return g ? val_array_push(arg, g) : -ENOMEM;
}

static int find(struct ev *ev, const char *fn, struct val **args, struct val **out, match_fn f)
{
	int rc = need_str(ev, fn, 1, A0);
	if (!rc)
		rc = need_str(ev, fn, 2, A1);
	if (rc)
		return rc;
	int64_t max;
	if (A2->kind != VAL_NUMBER || !num_is_int(A2, &max))
		return bi_type_err(ev, fn, 3, "number", A2);
	_cleanup_(re_freep) struct rego_re *re = NULL;
	rc = compile_raw(ev, fn, A0, &re);
	if (rc < 0)
		return rc;
	struct val *a = val_array_new(4);
	if (!a)
		return -ENOMEM;
	rc = each_match(re, A1->str.s, A1->str.len, max, f, a);
	if (rc < 0) {
		val_unref(a);
		return rc;
	}
	*out = a;
	return 0;
}

static int bi_regex_find_n(struct ev *ev, struct val **args, struct val **out)
{
	return find(ev, "regex.find_n", args, out, push_whole);
}

static int bi_regex_find_all_sub(struct ev *ev, struct val **args, struct val **out)
{
	return find(ev, "regex.find_all_string_submatch_n", args, out, push_groups);
}

struct split_st {
	struct val *a;
	size_t last;
};

static int split_cb(const char *s, const long *offs, int ng, void *arg)
{
	struct split_st *st = arg;
	(void)ng;
	int rc = val_array_push(st->a, val_string(s + st->last, (size_t)offs[0] - st->last));
	st->last = (size_t)offs[1];
	return rc;
}

static int bi_regex_split(struct ev *ev, struct val **args, struct val **out)
{
	int rc = need_str(ev, "regex.split", 1, A0);
	if (!rc)
		rc = need_str(ev, "regex.split", 2, A1);
	if (rc)
		return rc;
	_cleanup_(re_freep) struct rego_re *re = NULL;
	rc = compile_raw(ev, "regex.split", A0, &re);
	if (rc < 0)
		return rc;
	struct split_st st = { val_array_new(4), 0 };
	if (!st.a)
		return -ENOMEM;
	rc = each_match(re, A1->str.s, A1->str.len, -1, split_cb, &st);
	if (rc == 0)
		rc = val_array_push(st.a, val_string(A1->str.s + st.last, A1->str.len - st.last));
	if (rc < 0) {
		val_unref(st.a);
		return rc;
	}
	*out = st.a;
	return 0;
}

struct repl_st {
	struct buf *b;
	size_t last;
	const struct val *tmpl;
};

/* Go's Regexp.Expand: $1, ${1}, $$ (named groups unsupported: empty). */
static int repl_cb(const char *s, const long *offs, int ng, void *arg)
{
	struct repl_st *st = arg;
	buf_add(st->b, s + st->last, (size_t)offs[0] - st->last);
	const char *t = st->tmpl->str.s;
	size_t n = st->tmpl->str.len;
	for (size_t i = 0; i < n; i++) {
		if (t[i] != '$' || i + 1 >= n) {
			buf_addch(st->b, t[i]);
			continue;
		}
		if (t[i + 1] == '$') {
			buf_addch(st->b, '$');
			i++;
			continue;
		}
		size_t j = i + 1;
		bool brace = t[j] == '{';
		if (brace)
			j++;
		size_t st0 = j;
		while (j < n && ((t[j] >= '0' && t[j] <= '9') || (t[j] >= 'a' && t[j] <= 'z') || (t[j] >= 'A' && t[j] <= 'Z') || t[j] == '_'))
			j++;
		if (j == st0 || (brace && (j >= n || t[j] != '}'))) {
			buf_addch(st->b, '$');
			continue;
		}
		bool num = true;
		long g = 0;
		for (size_t k = st0; k < j; k++) {
			if (t[k] < '0' || t[k] > '9')
				num = false;
			else if (g < 100000)
				g = g * 10 + (t[k] - '0');
		}
		if (num && g < ng && offs[2 * g] >= 0)
			buf_add(st->b, s + offs[2 * g], (size_t)(offs[2 * g + 1] - offs[2 * g]));
		i = brace ? j : j - 1;
	}
	st->last = (size_t)offs[1];
	return 0;
}

static int bi_regex_replace(struct ev *ev, struct val **args, struct val **out)
{
	int rc = need_str(ev, "regex.replace", 1, A0);
	if (!rc)
		rc = need_str(ev, "regex.replace", 2, A1);
	if (!rc)
		rc = need_str(ev, "regex.replace", 3, A2);
	if (rc)
		return rc;
	_cleanup_(re_freep) struct rego_re *re = NULL;
	rc = compile_raw(ev, "regex.replace", A1, &re);
	if (rc < 0)
		return rc;
	struct buf b = BUF_INIT;
	struct repl_st st = { &b, 0, A2 };
	rc = each_match(re, A0->str.s, A0->str.len, -1, repl_cb, &st);
	buf_add(&b, A0->str.s + st.last, A0->str.len - st.last);
	if (rc == 0 && buf_error(&b) == 0)
		*out = val_string(b.p, b.len);
	buf_release(&b);
	return rc < 0 ? rc : (*out ? 0 : -ENOMEM);
}

/* ------------------------------------------------------------- glob */

static void re_quote(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strchr("\\.+*?()|[]{}^$", s[i]) && s[i])
			buf_addch(b, '\\');
		buf_addch(b, s[i]);
	}
}

/* Translates a glob (gobwas/glob syntax as OPA uses) into an anchored RE2
 * pattern. -EBADMSG on unbalanced brackets. */
static int glob_to_re(const struct val *g, const struct val *delims, struct buf *b)
{
	struct buf notd = BUF_INIT; /* "[^...]" for one non-delimiter char */
	if (delims && delims->arr.n) {
		buf_addstr(&notd, "[^");
		for (size_t i = 0; i < delims->arr.n; i++) {
			const struct val *d = delims->arr.items[i];
			for (size_t k = 0; k < d->str.len; k++) {
				if (strchr("\\]^-[", d->str.s[k]))
					buf_addch(&notd, '\\');
				buf_addch(&notd, d->str.s[k]);
			}
		}
		buf_addch(&notd, ']');
	} else {
		buf_addstr(&notd, "(?s:.)");
	}
	const char *s = g->str.s;
	size_t n = g->str.len;
	int braces = 0;
	buf_addstr(b, "^(?s:");
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		switch (c) {
		case '*':
			if (i + 1 < n && s[i + 1] == '*') {
				buf_addstr(b, "(?s:.)*");
				i++;
			} else {
				buf_add(b, notd.p, notd.len);
				buf_addch(b, '*');
			}
			break;
		case '?':
			buf_add(b, notd.p, notd.len);
			break;
		case '\\':
			if (i + 1 < n) {
				re_quote(b, s + i + 1, 1);
				i++;
			}
			break;
		case '[': {
			size_t j = i + 1;
			buf_addch(b, '[');
			if (j < n && s[j] == '!') {
				buf_addch(b, '^');
				j++;
			}
			while (j < n && s[j] != ']') {
				if (s[j] == '\\' || s[j] == '[')
					buf_addch(b, '\\');
				buf_addch(b, s[j]);
				j++;
			}
			if (j >= n) {
				buf_release(&notd);
				return -EBADMSG;
			}
			buf_addch(b, ']');
			i = j;
			break;
		}
		case ']':
			buf_release(&notd);
			return -EBADMSG;
		case '{':
			braces++;
			buf_addstr(b, "(?:");
			break;
		case '}':
			if (braces > 0) {
				braces--;
				buf_addch(b, ')');
			} else {
				re_quote(b, &c, 1);
			}
			break;
		case ',':
			buf_addch(b, braces > 0 ? '|' : ',');
			break;
		default:
			re_quote(b, &c, 1);
		}
	}
	buf_release(&notd);
	if (braces)
		return -EBADMSG;
	buf_addstr(b, ")$");
	return buf_error(b);
}

static int bi_glob_match(struct ev *ev, struct val **args, struct val **out)
{
	int rc = need_str(ev, "glob.match", 1, A0);
	if (!rc)
		rc = need_str(ev, "glob.match", 3, A2);
	if (rc)
		return rc;
	struct val *delims = NULL, *dot = NULL;
	if (A1->kind == VAL_ARRAY) {
		for (size_t i = 0; i < A1->arr.n; i++)
			if (A1->arr.items[i]->kind != VAL_STRING)
				return ev_error(ev, -EINVAL, EC_TYPE, "glob.match: operand 2 must be array of strings but got array containing %s",
						val_type_name(A1->arr.items[i]));
		if (A1->arr.n == 0) {
			dot = val_array_new(1);
			if (!dot || val_array_push(dot, val_cstr(".")) < 0) {
				val_unref(dot);
				return -ENOMEM;
			}
			delims = dot;
		} else {
			delims = A1;
		}
	} else if (A1->kind != VAL_NULL) {
		return bi_type_err(ev, "glob.match", 2, "array", A1);
	}
	struct buf b = BUF_INIT;
	rc = glob_to_re(A0, delims, &b);
	val_unref(dot);
	if (rc < 0) {
		buf_release(&b);
		if (rc == -EBADMSG)
			return ev_error(ev, -EINVAL, EC_BUILTIN, "glob.match: invalid glob pattern");
		return rc;
	}
	struct rego_re *re = NULL;
	rc = rego_re_compile(b.p, b.len, &re, NULL, 0);
	buf_release(&b);
	if (rc < 0)
		return rc == -EBADMSG ? ev_error(ev, -EINVAL, EC_BUILTIN, "glob.match: invalid glob pattern") : rc;
	*out = val_bool(rego_re_match(re, A2->str.s, A2->str.len) == 1);
	rego_re_free(re);
	return 0;
}

static int bi_glob_quote_meta(struct ev *ev, struct val **args, struct val **out)
{
	int rc = need_str(ev, "glob.quote_meta", 1, A0);
	if (rc)
		return rc;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < A0->str.len; i++) {
		if (strchr("*?\\[]{}", A0->str.s[i]) && A0->str.s[i])
			buf_addch(&b, '\\');
		buf_addch(&b, A0->str.s[i]);
	}
	*out = buf_error(&b) ? NULL : val_string(b.p, b.len);
	buf_release(&b);
	return *out ? 0 : -ENOMEM;
}

/* regex.template_match(template, value, start, end): the template is
 * literal text with regular expressions between the delimiters (gorilla
 * mux style, as OPA): "urn:foo:{.*}" matches the whole value when
 * ^urn:foo:(.*)$ does. */
static int bi_regex_template_match(struct ev *ev, struct val **args, struct val **out)
{
	static const char fn[] = "regex.template_match";
	int rc = 0;
	for (int i = 0; i < 4 && rc == 0; i++)
		rc = need_str(ev, fn, i + 1, args[i]);
	if (rc)
		return rc;
	if (args[2]->str.len != 1 || args[3]->str.len != 1)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: delimiters must be single characters", fn);
	char open = args[2]->str.s[0], close = args[3]->str.s[0];
	const char *t = A0->str.s;
	size_t n = A0->str.len, lit = 0;
	struct buf b = BUF_INIT;
	buf_addch(&b, '^');
	for (size_t i = 0; i < n; i++) {
		if (t[i] != open)
			continue;
		/* the expression runs to the matching close delimiter */
		size_t level = 1, j = i + 1;
		for (; j < n && level; j++)
			level += t[j] == open ? 1 : t[j] == close ? (size_t)-1 : 0;
		if (level) {
			buf_release(&b);
			return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: unbalanced braces in %s", fn, t);
		}
		re_quote(&b, t + lit, i - lit);
		buf_addch(&b, '(');
		buf_add(&b, t + i + 1, j - i - 2);
		buf_addch(&b, ')');
		lit = j;
		i = j - 1;
	}
	re_quote(&b, t + lit, n - lit);
	buf_addch(&b, '$');
	if (buf_error(&b)) {
		buf_release(&b);
		return -ENOMEM;
	}
	struct val *pat = val_string(b.p, b.len);
	buf_release(&b);
	if (!pat)
		return -ENOMEM;
	struct rego_re *re = NULL;
	rc = compile_raw(ev, fn, pat, &re);
	val_unref(pat);
	if (rc < 0)
		return rc;
	*out = val_bool(rego_re_match(re, A1->str.s, A1->str.len) == 1);
	rego_re_free(re);
	return 0;
}

const struct builtin_decl rego_builtins_regex[] = {
	{ "regex.match", 2, bi_regex_match, "pattern matches anywhere in value" },
	{ "regex.is_valid", 1, bi_regex_is_valid, "pattern compiles" },
	{ "regex.find_n", 3, bi_regex_find_n, "up to n matches" },
	{ "regex.find_all_string_submatch_n", 3, bi_regex_find_all_sub, "up to n matches with groups" },
	{ "regex.split", 2, bi_regex_split, "split around matches" },
	{ "regex.replace", 3, bi_regex_replace, "replace all matches ($1 expansion)" },
	{ "re_match", 2, bi_re_match, "deprecated alias of regex.match" },
	{ "glob.match", 3, bi_glob_match, "glob match with delimiters" },
	{ "glob.quote_meta", 1, bi_glob_quote_meta, "escape glob metacharacters" },
	{ "regex.template_match", 4, bi_regex_template_match, "template of literal text and delimited expressions matches" },
	{ NULL, 0, NULL, NULL },
};
