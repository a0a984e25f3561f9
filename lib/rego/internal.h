/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/rego internals: tokens, the AST, the compiled policy tree and the
 * evaluator state. Never installed; only lib/rego and its tests include it.
 */
#ifndef ARCA_REGO_INTERNAL_H
#define ARCA_REGO_INTERNAL_H

#include "base.h"
#include "rego.h"

/* Named limits for hostile policies (see rego.h for the runtime ones). */
#define REGO_MAX_SOURCE (16u << 20)    /* bytes of one module */
#define REGO_MAX_PARSE_DEPTH 256       /* nesting of terms/bodies */
#define REGO_MAX_CALL_DEPTH 512        /* nested rule/function evaluations */

/* ------------------------------------------------------------------ lexer */

enum tok_kind {
	TK_EOF = 0,
	TK_IDENT,
	TK_STRING,   /* "..." or `...`; text holds the decoded bytes */
	TK_TEMPLATE, /* $"..." or $`...`; text holds the raw body */
	TK_NUMBER,
	TK_LBRACE, TK_RBRACE, TK_LBRACK, TK_RBRACK, TK_LPAREN, TK_RPAREN,
	TK_DOT, TK_COMMA, TK_SEMI, TK_COLON, TK_ASSIGN /* := */, TK_UNIFY /* = */,
	TK_EQ, TK_NEQ, TK_LT, TK_LE, TK_GT, TK_GE,
	TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_PERCENT, TK_AMP, TK_PIPE,
	TK_NEWLINE,
};

struct tok {
	enum tok_kind kind;
	char *text; /* owned; identifiers, strings, numbers */
	size_t len;
	int line, col;
	bool raw; /* raw string/template (backquotes) */
	bool nlb; /* a newline precedes this token */
};

struct lexer {
	const char *src;
	size_t len, pos;
	int line, col;
};

/* Scans all tokens of @src; -EBADMSG with a located message on bad input. */
int rego_lex(const char *name, const char *src, size_t len, struct tok **out, size_t *n, struct arca_err *e);
void rego_toks_free(struct tok *t, size_t n);
/* Index just past the string, raw string or template starting at s[i]
 * ('"', '`', or '$' before either), or SIZE_MAX when it is unterminated. */
size_t rego_skip_literal(const char *s, size_t n, size_t i, unsigned depth);
/* s[i] is the '{' opening a template expression: index just past its
 * matching '}', or SIZE_MAX. Nested strings and templates are skipped. */
size_t rego_skip_template_expr(const char *s, size_t n, size_t i, unsigned depth);

/* -------------------------------------------------------------------- AST */

enum term_kind {
	T_VALUE,  /* constant scalar or ground composite: v */
	T_VAR,    /* name */
	T_REF,    /* items[0] head (var or term), items[1..] operands */
	T_ARRAY,  /* items */
	T_SET,    /* items */
	T_OBJECT, /* items: k0, v0, k1, v1, ... */
	T_ACOMP,  /* items[0] head; body */
	T_SCOMP,  /* items[0] head; body */
	T_OCOMP,  /* items[0] key, items[1] value; body */
	T_CALL,   /* name (dotted builtin/function path); items: args */
	T_TEMPLATE, /* items: alternating string constants and expressions */
};

struct body;

struct term {
	enum term_kind kind;
	int line;
	struct val *v;        /* T_VALUE */
	const char *name;     /* T_VAR (interned), T_CALL (interned dotted name) */
	struct term **items;
	size_t n;
	struct body *body;    /* comprehensions */
	struct node *fnode;   /* T_CALL: resolved user function, if any */
	const struct builtin_decl *bi; /* T_CALL: resolved builtin, if any */
	/* T_REF with head data: the node reached by the leading constant
	 * string operands (resolved at compile time), and how many operands
	 * that walk consumed. NULL when no operand could be consumed. */
	struct node *dnode;
	size_t dn;
	size_t hint; /* T_VALUE string operand of a ref: see obj_get_hint */
	/* T_CALL of a comparison or membership builtin with its two operands
	 * (no output operand): evaluated inline by the direct path */
	enum { CMP_NONE, CMP_EQ, CMP_NEQ, CMP_LT, CMP_LTE, CMP_GT, CMP_GTE, CMP_IN } cmp;
	/* ...and operand dn (a constant string) names no node below dnode, so
	 * the rest of the ref reads the base document only. */
	bool dbase;
};

enum expr_kind {
	E_TERM,
	E_UNIFY,   /* a = b */
	E_ASSIGN,  /* a := b */
	E_SOME,    /* some v1, v2 (declarations) */
	E_SOME_IN, /* some [k,] v in coll: a = k (or NULL), b = v, c = coll */
	E_EVERY,   /* every [k,] v in coll { body } */
	E_BODY,    /* { body } (after not) */
	E_AND,     /* body and body2 (future.keywords.and) */
	E_OR,      /* body or body2 (future.keywords.or) */
};

struct with {
	struct term *target; /* ref: input..., data..., or a function/builtin name */
	struct term *value;
};

struct expr {
	enum expr_kind kind;
	bool negated;
	int line;
	struct term *a, *b, *c;
	struct term **vars; /* E_SOME */
	size_t nvars;
	struct body *body;  /* E_EVERY, E_BODY, E_AND/E_OR lhs */
	struct body *body2; /* E_AND/E_OR rhs */
	struct with *with;
	size_t nwith;
};

struct body {
	struct expr **e;
	size_t n;
};

enum rule_kind {
	R_COMPLETE,  /* p := v / p if {...} / a.b.c := v */
	R_MULTI,     /* p contains x / p[x] (v0) */
	R_FUNC,
};

struct module;

struct rule {
	enum rule_kind kind;
	bool is_default;
	int line;
	struct module *mod;
	struct term **path;  /* head ref operands after the package (first is a string) */
	size_t npath;
	size_t nstatic;      /* leading constant-string path elements */
	struct term **args;  /* R_FUNC */
	size_t nargs;
	struct term *key;    /* R_MULTI element */
	struct term *value;  /* NULL: true */
	struct body *body;   /* never NULL (empty body == true) */
	struct rule *els;    /* else chain */
	struct rule *next_in_node;
	/* Equality index: the body starts with `guard == gval` (or `=`), guard
	 * a ref without variables, gval a constant. When guard's value differs
	 * the body is skipped without being entered (see ev_rule_guard). Rules
	 * of one node testing the same ref share one guard term, whose value is
	 * then looked up once per evaluation of the node. */
	struct term *guard;
	struct val *gval;
	struct val *annot; /* METADATA annotations (with "scope"), or NULL */
};

struct import {
	struct term *ref; /* data.x.y or input.x */
	const char *alias;
};

struct module {
	char *name;
	struct val *pkg; /* array of strings (without "data") */
	struct import *imports;
	size_t nimports;
	struct rule **rules;
	size_t nrules;
	bool v0;
	struct val *annot; /* METADATA before the package clause, or NULL */
};

/* annotations.c: reads the METADATA comment blocks of @src and attaches
 * them to the package or rule that follows each (annotations with their
 * "scope" set). -EBADMSG with a located message when a block is not a
 * YAML object. */
int rego_annotations_attach(struct rego *r, struct module *m, const char *src, size_t len, struct arca_err *e);
/* yaml.c: the first YAML document of s[0..n): 0 with *out, -EBADMSG with
 * Go's message in @msg, -ENOMEM. */
int rego_yaml_parse(const char *s, size_t n, struct val **out, char *msg, size_t msglen);

/* Parses one module. -EBADMSG with "name:line: message" on syntax errors. */
int rego_parse_module(struct rego *r, const char *name, const char *src, size_t len, bool v0,
		      struct module **out, struct arca_err *e);
/* Parses a query body. */
int rego_parse_query(struct rego *r, const char *src, size_t len, bool v0, struct body **out, struct arca_err *e);
/* Parses a single term (input_term in conformance cases) that must be ground. */
int rego_parse_value(struct rego *r, const char *src, size_t len, struct val **out, struct arca_err *e);

const char *rego_intern(struct rego *r, const char *s, size_t len);

/* ----------------------------------------------------------------- parser */

/*
 * The parser's shared state, for its two files only: parser.c (cursor,
 * errors, node constructors, module level, entry points) and parser_expr.c
 * (terms, expressions, bodies, templates). The first error is kept in p->rc
 * (negative errno; perr also writes the located message to p->e) and the
 * parse unwinds: node builders then return NULL, the others p->rc.
 */
struct parser {
	struct rego *r;
	const char *name;
	struct tok *t;
	size_t n, i;
	bool v0;
	bool kw_and, kw_or; /* experimental logic keywords imported */
	unsigned depth;
	struct arca_err *e;
	int rc;
};

/* A growable list of pointers living in the arena once finished. */
struct plist {
	void **v;
	size_t n, cap;
};

/* parser.c */
struct tok *cur(struct parser *p);
struct tok *peek(struct parser *p, size_t k);
void adv(struct parser *p);
int perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool is_kw(struct parser *p, const char *kw);
bool reserved(const char *s);
struct term *mk(struct parser *p, enum term_kind k);
struct term *mk_val(struct parser *p, struct val *v);
struct term *mk_var(struct parser *p, const char *name, size_t len);
struct term *mk_str(struct parser *p, const char *s, size_t len);
int pl_push(struct parser *p, struct plist *l, void *x);
void *pl_finish(struct parser *p, struct plist *l);

/* parser_expr.c */
struct term *parse_term(struct parser *p);
/* Terms up to and including ')' (the '(' already read), comma-separated;
 * @what names the list in the error. */
struct term **parse_arg_list(struct parser *p, size_t *n, const char *what);
struct term *parse_primary(struct parser *p);
struct term *parse_ref_ops(struct parser *p, struct term *head);
struct expr *parse_expr_top(struct parser *p);
struct body *parse_query_until(struct parser *p, enum tok_kind end);
struct body *parse_body_braces(struct parser *p);
struct body *one_body(struct parser *p, struct expr *x);
/* The value of a ground term (constants and collections of them):
 * 0 with *out (a reference), -EINVAL when @t is not ground, -ENOMEM. */
int const_value(struct term *t, struct val **out);

/* ---------------------------------------------------------- policy tree */

struct node {
	const char *name;
	struct val *key; /* string */
	struct node **kids;
	size_t nkids;
	struct rule *rules; /* linked by next_in_node */
	struct rule *dflt;
	bool has_func;
	bool multi;  /* rules are R_MULTI */
	/* Set at compile time from the rules: the value is a collection built
	 * by the rules (multi-value or ref-head rules), and it is a set. */
	bool coll, coll_set;
	/* Early exit (OPA's, topdown PR #3898): complete rules whose values are
	 * all the same constant, so the first rule to succeed decides. */
	bool ee;
	unsigned id; /* memo slot */
	bool is_pkg;
	const char *fullname; /* interned "data.a.b" */
	struct val *base; /* borrowed from rego.data: the base document at this
			   * path, NULL if none (kept by rego_compile/rego_set_data) */
};

struct arena_blk;

struct rego {
	struct module **mods;
	size_t nmods;
	struct node *root;
	unsigned nnodes;
	struct val *data;
	/* interned strings */
	char **atoms;
	size_t natoms, capatoms;
	struct rego_limits lim;
	bool compiled;
	unsigned wild;
	const char *a_data, *a_input; /* interned "data", "input" */
	struct re_cache *re_cache;   /* compiled regex patterns (builtins/regex.c) */
	struct rego_index *index;    /* membership index of data (index.c) */
};

/* index.c: hashes the large arrays of strings in @data (borrowed; it must
 * outlive the index). rego_index_member: 1 @item is in @arr, 0 it is not,
 * -1 @arr is not indexed (scan it). */
struct rego_index;
int rego_index_build(const struct val *data, struct rego_index **out);
void rego_index_free(struct rego_index *x);
int rego_index_member(const struct rego_index *x, const struct val *arr, const struct val *item);

struct node *node_child(struct node *n, const char *name);

/* ------------------------------------------------------------- evaluator */

/* val_ref/val_unref inlined for the evaluator's hot paths: only the last
 * release (which frees) goes through the library. */
static inline struct val *vref(struct val *v)
{
	if (v && v->refs)
		v->refs++;
	return v;
}

static inline void vunref(struct val *v)
{
	if (!v || v->refs == 0) /* immortal: null, booleans, small integers */
		return;
	if (v->refs > 1)
		v->refs--;
	else
		val_unref(v);
}


struct bind {
	const char *name;
	struct val *v; /* NULL: declared and unbound */
};

struct wover {  /* one active `with` override */
	int kind;           /* 0 input, 1 data path, 2 function */
	struct val *path;   /* array of keys below the root */
	const char *fname;  /* kind 2: function/builtin name replaced */
	struct val *v;      /* replacement value (kind 0/1/2 value) */
	struct term *fterm; /* kind 2: replacement function reference */
};

struct ev {
	struct rego *r;
	struct val *input;
	struct bind *trail;
	size_t ntrail, captrail;
	size_t frame; /* lookups stop here */
	struct val **memo; /* per node id */
	/* The query's own memo table (not a `with` scope's) and the ids set in
	 * it, so that only those are released after the evaluation. */
	struct val **memo_root;
	unsigned *touched;
	size_t ntouched;
	bool *busy;       /* per node id: recursion check */
	struct wover *wo;
	size_t nwo, capwo;
	uint64_t steps;
	uint64_t step_check; /* ev_step_slow runs when steps reaches this */
	uint64_t deadline_ns;
	unsigned depth;
	bool strict;
	struct arca_err *err;
	int64_t now_ns;     /* read through ev_now_ns() */
	bool now_set;
	struct module *mod; /* module of the rule being evaluated */
	struct rule *rule;  /* the rule being evaluated (rego.metadata.*) */
	const char *ecode; /* OPA code of the error in err */
	int line;          /* line of the expression being evaluated */
	struct val *bcache; /* per-query builtin results (uuid.rfc4122, rand.intn) */
};

/* Bindings: the innermost binding of @name in the current frame, or NULL. */
static inline struct bind *ev_lookup(struct ev *ev, const char *name)
{
	for (size_t i = ev->ntrail; i > ev->frame; i--)
		if (ev->trail[i - 1].name == name)
			return &ev->trail[i - 1];
	return NULL;
}

int ev_trail_grow(struct ev *ev);

/* Pushes a binding (@v referenced; NULL declares the name unbound). */
static inline int ev_bind(struct ev *ev, const char *name, struct val *v)
{
	if (ev->ntrail == ev->captrail && ev_trail_grow(ev) < 0)
		return -ENOMEM;
	ev->trail[ev->ntrail].name = name;
	ev->trail[ev->ntrail].v = vref(v);
	ev->ntrail++;
	return 0;
}

/* Pops the bindings above @mark. */
static inline void ev_undo(struct ev *ev, size_t mark)
{
	while (ev->ntrail > mark) {
		ev->ntrail--;
		vunref(ev->trail[ev->ntrail].v);
	}
}

/* Names are interned, so the roots compare by pointer. */
static inline bool ev_is_root(const struct ev *ev, const char *name)
{
	return name == ev->r->a_data || name == ev->r->a_input;
}

int ev_step_slow(struct ev *ev);

/* Counts one evaluation step; the budget and the clock are looked at only
 * when the budget is spent or every 1024 steps. */
static inline int ev_step(struct ev *ev)
{
	if (++ev->steps >= ev->step_check)
		return ev_step_slow(ev);
	return 0;
}

bool num_is_int(const struct val *v, int64_t *out);

/* Equal strings, with the cheap mismatches (length, first byte) tested
 * before the memcmp call: object keys mostly differ there. */
static inline __attribute__((always_inline)) bool str_eq(const struct val *a, const struct val *b)
{
	size_t n = a->str.len;
	if (n != b->str.len)
		return false;
	const char *x = a->str.s, *y = b->str.s;
	if (n > 16)
		return x[0] == y[0] && memcmp(x, y, n) == 0;
	/* keys are short: two overlapping word compares (first and last 8 or
	 * 4 bytes, all within the strings) cost less than the call */
	if (n >= 8) {
		uint64_t p, q;
		memcpy(&p, x, 8);
		memcpy(&q, y, 8);
		if (p != q)
			return false;
		memcpy(&p, x + n - 8, 8);
		memcpy(&q, y + n - 8, 8);
		return p == q;
	}
	if (n >= 4) {
		uint32_t p, q;
		memcpy(&p, x, 4);
		memcpy(&q, y, 4);
		if (p != q)
			return false;
		memcpy(&p, x + n - 4, 4);
		memcpy(&q, y + n - 4, 4);
		return p == q;
	}
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return false;
	return true;
}

/* Bytewise string order, as val_compare orders strings. */
static inline int str_order(const struct val *a, const struct val *b)
{
	size_t n = a->str.len < b->str.len ? a->str.len : b->str.len;
	if (n && a->str.s[0] != b->str.s[0])
		return (uint8_t)a->str.s[0] < (uint8_t)b->str.s[0] ? -1 : 1;
	int c = memcmp(a->str.s, b->str.s, n);
	if (c)
		return c;
	return a->str.len == b->str.len ? 0 : (a->str.len < b->str.len ? -1 : 1);
}

/* val_object_get for the evaluator: string keys (nearly all lookups) are
 * searched here, inline, scanning small objects and bisecting large ones;
 * objects keep keys sorted in val_compare order, where strings sort after
 * null, booleans and numbers and before composites. */
static inline size_t obj_find_str(const struct val *o, const struct val *k)
{
	struct val *const *keys = o->obj.keys;
	size_t n = o->obj.n;
	if (n <= 8) {
		for (size_t i = 0; i < n; i++)
			if (keys[i]->kind == VAL_STRING && str_eq(keys[i], k))
				return i;
		return SIZE_MAX;
	}
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct val *y = keys[mid];
		int c = y->kind == VAL_STRING ? str_order(y, k) : (y->kind < VAL_STRING ? -1 : 1);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

static inline struct val *obj_get(const struct val *o, const struct val *k)
{
	if (k->kind != VAL_STRING)
		return val_object_get(o, k);
	size_t i = obj_find_str(o, k);
	return i == SIZE_MAX ? NULL : o->obj.vals[i];
}

/* obj_get for a constant key of a ref (input.user.name): inputs of one
 * policy share their shape, so the key's position in the object last time
 * is tried first. @hint lives in the compiled term, which threads share:
 * it is read and written with relaxed atomics, and any value is safe. */
static inline __attribute__((always_inline)) struct val *obj_get_hint(const struct val *o, const struct val *k, size_t *hint)
{
	size_t h = __atomic_load_n(hint, __ATOMIC_RELAXED);
	if (h < o->obj.n && o->obj.keys[h]->kind == VAL_STRING && str_eq(o->obj.keys[h], k))
		return o->obj.vals[h];
	size_t i = obj_find_str(o, k);
	if (i == SIZE_MAX)
		return NULL;
	__atomic_store_n(hint, i, __ATOMIC_RELAXED);
	return o->obj.vals[i];
}

/* The element of collection @c at key @k (borrowed), NULL if none. A set
 * yields @k itself. */
static inline struct val *ev_child(struct val *c, struct val *k)
{
	switch (c->kind) {
	case VAL_ARRAY: {
		int64_t i;
		if (k->kind != VAL_NUMBER || !num_is_int(k, &i) || i < 0 || (uint64_t)i >= c->arr.n)
			return NULL;
		return c->arr.items[i];
	}
	case VAL_OBJECT:
		return obj_get(c, k);
	case VAL_SET:
		return val_set_contains(c, k) ? k : NULL;
	default:
		return NULL;
	}
}

/* ev_child for base documents (data loaded as JSON). OPA reads them from
 * its store by path, whose elements are strings, so data.x[2] finds the
 * key "2" of an object. */
struct val *base_child(struct val *c, struct val *k);

typedef int (*cont_fn)(struct ev *ev, void *arg);
typedef int (*vcont_fn)(struct ev *ev, struct val *v, void *arg);

/* Positive return from a continuation: stop enumerating (not an error). */
#define EV_STOP 1

int ev_body_expr(struct ev *ev, struct body *b, size_t i, cont_fn k, void *arg);

/* Evaluates body @b from expression @i on, calling @k once per solution.
 * The end of a body is reached once per expression: inline. */
static inline int ev_body(struct ev *ev, struct body *b, size_t i, cont_fn k, void *arg)
{
	if (i == b->n)
		return k(ev, arg);
	return ev_body_expr(ev, b, i, k, arg);
}

/* Calls builtin @bi or function @fn (honouring `with` replacements of
 * @name): 0 with *out set or NULL (undefined), or an error. */
int ev_dispatch(struct ev *ev, const char *name, struct node *fn, const struct builtin_decl *bi, struct val **args,
		size_t n, struct val **out, int line, bool *found);

/*
 * Direct evaluation (direct.c). Most terms have at most one value:
 * constants, bound variables, refs whose operands are all bound, calls of
 * builtins and functions on such terms. ev_term1() computes that value
 * without the continuation chain. It binds nothing, so when a term turns
 * out to enumerate (an unbound operand, `with` overrides, virtual documents
 * below a package) it returns EV_GENERAL and the caller starts over on the
 * general path, which then sees the same memoised rules and raises the same
 * errors in the same order.
 *
 * Returns 1 with *out set (a reference the caller releases), 0 when
 * undefined, EV_GENERAL, or a negative error. ev_ref1/ev_call1 are the same
 * for a T_REF and a T_CALL.
 */
#define EV_GENERAL 2
int ev_term1(struct ev *ev, struct term *t, struct val **out);
int ev_ref1(struct ev *ev, struct term *t, struct val **out);
int ev_call1(struct ev *ev, struct term *t, struct val **out);
/* ev_body_expr (direct.c) evaluates `t`, `not t`, `x := t`, comparisons,
 * `some [k,] v in t` and `every` on a single-valued t itself; anything else
 * goes to ev_body_general: expression @b->e[@i] (step counted, line set)
 * on the general path (`with`, unification, enumerating terms). */
int ev_body_general(struct ev *ev, struct body *b, size_t i, cont_fn k, void *arg);
/* Checks rule @x's equality index before its body runs: 0 the body cannot
 * succeed (skip it), 1 the first expression held (run the body from its
 * second expression), 2 no index applies (run the whole body), or an error
 * the first expression would have raised. */
struct guard_cache {
	struct term *guard; /* whose value is held below */
	int rc;             /* ev_term1's answer: 1 value, 0 undefined, 2 general */
	struct val *v;
};
int ev_rule_guard(struct ev *ev, struct rule *x, struct guard_cache *gc);
static inline void guard_cache_release(struct guard_cache *gc)
{
	if (gc->rc == 1)
		vunref(gc->v);
	gc->guard = NULL;
	gc->rc = 0;
	gc->v = NULL;
}
/* The wall-clock time of this evaluation: read once, on first use, so every
 * builtin of one query sees the same instant. */
int64_t ev_now_ns(struct ev *ev);
int ev_term(struct ev *ev, struct term *t, vcont_fn k, void *arg);
int ev_call_func(struct ev *ev, struct node *fn, struct val **args, size_t n, struct val **out);
/* The value of a function declared without arguments (`f() := 1`), which
 * OPA treats as a plain rule; *out NULL when @fn takes arguments or is
 * undefined. */
int rego_func0_value(struct ev *ev, struct node *fn, struct val **out);
struct node *rego_find_func(struct rego *r, const char *fullname);
int rego_eval_node_value(struct ev *ev, struct node *n, struct val *base, struct val **out);
/* The memo entry of a node computed as undefined (see rules.c). */
extern struct val rego_memo_undefined;
struct val *rego_set_path(struct val *doc, struct val *path, struct val *v);
int ev_match_pub(struct ev *ev, struct term *t, struct val *v, cont_fn k, void *arg);
/* eval.c, for eval_body.c: unifies terms @a and @b, calling @k once per
 * set of bindings that makes them equal (undone again before returning). */
int ev_unify(struct ev *ev, struct term *a, struct term *b, cont_fn k, void *arg);
/* Calls @f with each key and value of collection @c (a set's elements are
 * their own keys) until it returns nonzero; scalars have none. */
typedef int (*kv_fn)(struct ev *ev, struct val *k, struct val *v, void *arg);
int ev_each_kv(struct ev *ev, struct val *c, kv_fn f, void *arg);
void *rego_alloc(struct rego *r, size_t n);
int rego_hold(struct rego *r, struct val *v);
int rego_resolve_query(struct rego *r, struct body *b);
int ev_error(struct ev *ev, int code, const char *ecode, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Error codes (OPA's) carried in the message prefix "code: message". */
#define EC_TYPE "eval_type_error"
#define EC_BUILTIN "eval_builtin_error"
#define EC_CONFLICT "eval_conflict_error"
#define EC_CANCEL "eval_cancel_error"
#define EC_LIMIT "eval_limit_error"
#define EC_UNSAFE "rego_unsafe_var_error"
#define EC_COMPILE "rego_compile_error"
#define EC_RECURSION "rego_recursion_error"
#define EC_PARSE "rego_parse_error"

/* ---------------------------------------------------------------- builtins */

/*
 * A builtin returns 0 with *out set (defined), 1 when undefined, or a
 * negative errno after ev_error() (eval_type_error / eval_builtin_error).
 * Arguments are borrowed; *out is owned by the caller.
 */
typedef int (*builtin_fn)(struct ev *ev, struct val **args, struct val **out);

struct builtin_decl {
	const char *name;
	unsigned nargs;
	builtin_fn fn;
	const char *desc;
};

const struct builtin_decl *builtin_find(const char *name);
/* Relations (walk) return an array whose elements are separate results.
 * Inline: every direct call asks. */
static inline bool builtin_is_relation(const struct builtin_decl *d)
{
	return d && d->name[0] == 'w' && strcmp(d->name, "walk") == 0;
}
void rego_re_cache_free(struct re_cache *c);
/* Per-query memo for builtins whose result must stay stable within one
 * evaluation. get borrows; put takes ownership of @key and @v. */
struct val *ev_cache_get(struct ev *ev, const struct val *key);
int ev_cache_put(struct ev *ev, struct val *key, struct val *v);

/* Family registration tables (one per file under builtins/). */
extern const struct builtin_decl rego_builtins_core[];
extern const struct builtin_decl rego_builtins_strings[];
extern const struct builtin_decl rego_builtins_collections[];
extern const struct builtin_decl rego_builtins_encoding[];
extern const struct builtin_decl rego_builtins_units[];
extern const struct builtin_decl rego_builtins_crypto[];
extern const struct builtin_decl rego_builtins_regex[];
extern const struct builtin_decl rego_builtins_net[];
extern const struct builtin_decl rego_builtins_time[];
extern const struct builtin_decl rego_builtins_jwt[];
extern const struct builtin_decl rego_builtins_misc[];
extern const struct builtin_decl rego_builtins_x509[];
extern const struct builtin_decl rego_builtins_uri[];
extern const struct builtin_decl rego_builtins_aws[];
extern const struct builtin_decl rego_builtins_jsonschema[];
extern const struct builtin_decl rego_builtins_http[];
extern const struct builtin_decl rego_builtins_globs[];
extern const struct builtin_decl rego_builtins_template[];
extern const struct builtin_decl rego_builtins_yaml[];
extern const struct builtin_decl rego_builtins_metadata[];
extern const struct builtin_decl rego_builtins_parsemodule[];

/* Bytes of the rune at @s (@n > 0 bytes left), decoding as Go does: an
 * invalid or truncated sequence counts as one byte (one U+FFFD rune), so
 * count() and the rune-indexed string builtins agree with OPA on bad UTF-8. */
static inline size_t utf8_step(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	unsigned lo = 0x80, hi = 0xbf;
	size_t need;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		if (s[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		if (s[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else
		return 1;
	if (n < need || s[1] < lo || s[1] > hi)
		return 1;
	for (size_t i = 2; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	return need;
}

/* Helpers shared by builtins */
int bi_type_err(struct ev *ev, const char *fn, int pos, const char *want, const struct val *got);
const char *val_type_name(const struct val *v);
double num_d(const struct val *v);
struct val *num_from_double(double d);
/* Integers past int64 (up to 38 digits), which OPA keeps exact: true with
 * *out when @v is an integer in that range. */
bool num_is_int128(const struct val *v, __int128 *out);
struct val *num_from_int128(__int128 x);
int val_to_text(const struct val *v, struct buf *b); /* Rego text form (sets as {..}) */

#endif
