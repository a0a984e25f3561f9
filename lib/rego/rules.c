/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rule evaluation: complete rules (memoised per query), multi-value and
 * ref-head rules building sets and objects, functions, and the public
 * prepared-query API.
 */
#include "internal.h"

#include <time.h>


struct rsol {
	struct rule *r;
	struct val *value;    /* complete: the value so far */
	struct val *coll;     /* collection being built */
	struct val *keys[16];
	size_t nk;
	bool any;
	bool first; /* a constant value ends the rule's body at its first solution */
	const char *conflict;
};

static int rsol_value(struct ev *ev, struct val *v, void *arg)
{
	struct rsol *s = arg;
	s->any = true;
	if (s->value) {
		if (!val_equal(s->value, v)) {
			ev->line = s->r->line; /* OPA locates the conflict at the rule */
			return ev_error(ev, -EINVAL, EC_CONFLICT, "%s", s->conflict);
		}
		return 0;
	}
	s->value = vref(v);
	return 0;
}

/* Inserts @v (or, for R_MULTI, adds it to a set) at coll[keys...]. */
static int coll_insert(struct ev *ev, struct rsol *s, struct val *v)
{
	struct val *cur = s->coll;
	bool multi = s->r->kind == R_MULTI;
	for (size_t i = 0; i < s->nk; i++) {
		bool last = i + 1 == s->nk;
		if (cur->kind != VAL_OBJECT)
			return ev_error(ev, -EINVAL, EC_CONFLICT, "object keys must be unique");
		struct val *nx = val_object_get(cur, s->keys[i]);
		if (last && !multi) {
			if (nx) {
				if (!val_equal(nx, v))
					return ev_error(ev, -EINVAL, EC_CONFLICT, "object keys must be unique");
				return 0;
			}
			return val_object_put(cur, vref(s->keys[i]), vref(v));
		}
		if (!nx) {
			nx = (last && multi) ? val_set_new(4) : val_object_new(4);
			if (!nx || val_object_put(cur, vref(s->keys[i]), nx) < 0)
				return -ENOMEM;
		} else if (nx->refs > 1) {
			return ev_error(ev, -EINVAL, EC_CONFLICT, "object keys must be unique");
		}
		cur = nx;
	}
	if (multi) {
		if (cur->kind != VAL_SET)
			return ev_error(ev, -EINVAL, EC_CONFLICT, "object keys must be unique");
		return val_set_add(cur, vref(v));
	}
	return 0;
}

static int rsol_coll_leaf(struct ev *ev, struct val *v, void *arg)
{
	struct rsol *s = arg;
	s->any = true;
	return coll_insert(ev, s, v);
}

static int rsol_keys(struct ev *ev, struct rsol *s, size_t i);

static int rsol_key(struct ev *ev, struct val *v, void *arg)
{
	struct rsol *s = arg;
	size_t i = s->nk;
	s->keys[s->nk++] = v;
	int rc = rsol_keys(ev, s, s->r->nstatic + s->nk);
	s->nk = i;
	(void)i;
	return rc;
}

static int rsol_keys(struct ev *ev, struct rsol *s, size_t i)
{
	struct rule *r = s->r;
	if (i == r->npath)
		return ev_term(ev, r->kind == R_MULTI ? r->key : r->value, rsol_coll_leaf, s);
	if (s->nk >= ARRAY_SIZE(s->keys))
		return ev_error(ev, -E2BIG, EC_LIMIT, "rule head ref too long");
	return ev_term(ev, r->path[i], rsol_key, s);
}

static int rsol_cont(struct ev *ev, void *arg)
{
	struct rsol *s = arg;
	if (s->coll) {
		s->nk = 0;
		return rsol_keys(ev, s, s->r->nstatic);
	}
	struct term *v = s->r->value;
	if (v->kind == T_VALUE) {
		/* further solutions of this body could only repeat the value */
		int rc = rsol_value(ev, v->v, s);
		return rc == 0 && s->first ? EV_STOP : rc;
	}
	return ev_term(ev, v, rsol_value, s);
}

/* Evaluates one rule (and its else chain) in a fresh frame. */
static inline __attribute__((always_inline)) int eval_rule(struct ev *ev, struct rule *r, struct rsol *s,
							   struct guard_cache *gc)
{
	size_t frame = ev->frame, mark = ev->ntrail;
	struct module *mod = ev->mod;
	struct rule *rule = ev->rule;
	int rc = 0;
	if (++ev->depth > REGO_MAX_CALL_DEPTH) {
		ev->depth--;
		return ev_error(ev, -E2BIG, EC_LIMIT, "rule evaluation nested deeper than %d", REGO_MAX_CALL_DEPTH);
	}
	for (struct rule *x = r; x; x = x->els) {
		ev->frame = ev->ntrail;
		ev->mod = x->mod;
		ev->rule = x;
		s->r = x;
		s->any = false;
		rc = x->guard ? ev_rule_guard(ev, x, gc) : 2;
		if (rc > 0)
			rc = ev_body(ev, x->body, rc == 1 ? 1 : 0, rsol_cont, s);
		while (ev->ntrail > mark) {
			ev->ntrail--;
			vunref(ev->trail[ev->ntrail].v);
		}
		if (rc < 0 || s->any)
			break;
	}
	s->r = r;
	ev->frame = frame;
	ev->mod = mod;
	ev->rule = rule;
	ev->depth--;
	return rc < 0 ? rc : 0;
}

/* Merges two virtual documents produced for the same path by different
 * rules: objects key by key, sets by union; anything else must be equal.
 * At depth @leaf an object is some rule's value, which another rule may
 * not extend (OPA: eval_conflict_error), so there it must be equal too. */
static int merge_docs(struct ev *ev, struct val *a, struct val *b, struct val **out, unsigned depth, size_t leaf)
{
	if (depth > REGO_MAX_CALL_DEPTH)
		return ev_error(ev, -E2BIG, EC_LIMIT, "documents nested too deeply");
	if (a->kind == VAL_OBJECT && b->kind == VAL_OBJECT && depth != leaf) {
		struct val *o = val_object_new(a->obj.n + b->obj.n);
		int rc = o ? 0 : -ENOMEM;
		for (size_t i = 0; i < a->obj.n && rc == 0; i++)
			rc = val_object_put(o, vref(a->obj.keys[i]), vref(a->obj.vals[i]));
		for (size_t i = 0; i < b->obj.n && rc == 0; i++) {
			struct val *x = val_object_get(o, b->obj.keys[i]), *m = NULL;
			if (!x) {
				rc = val_object_put(o, vref(b->obj.keys[i]), vref(b->obj.vals[i]));
				continue;
			}
			rc = merge_docs(ev, x, b->obj.vals[i], &m, depth + 1, leaf);
			if (rc == 0)
				rc = val_object_put(o, vref(b->obj.keys[i]), m);
		}
		if (rc < 0) {
			vunref(o);
			return rc;
		}
		*out = o;
		return 0;
	}
	if (a->kind == VAL_SET && b->kind == VAL_SET) {
		struct val *u = val_set_new(a->arr.n + b->arr.n);
		int rc = u ? 0 : -ENOMEM;
		for (size_t i = 0; i < a->arr.n && rc == 0; i++)
			rc = val_set_add(u, vref(a->arr.items[i]));
		for (size_t i = 0; i < b->arr.n && rc == 0; i++)
			rc = val_set_add(u, vref(b->arr.items[i]));
		if (rc < 0) {
			vunref(u);
			return rc;
		}
		*out = u;
		return 0;
	}
	if (!val_equal(a, b))
		return ev_error(ev, -EINVAL, EC_CONFLICT, "object keys must be unique");
	*out = vref(a);
	return 0;
}

/* A base document @a and the virtual one @b at the same path, merged as
 * OPA's evaluator merges them when a whole package is read: objects key
 * by key, and where one side is not an object the base document wins.
 * Depth is bounded by the documents themselves (JSON and rule values). */
static struct val *merge_base(struct val *a, struct val *b, unsigned depth)
{
	if (a->kind != VAL_OBJECT || b->kind != VAL_OBJECT || depth > REGO_MAX_CALL_DEPTH)
		return vref(a);
	struct val *o = val_object_new(a->obj.n + b->obj.n);
	for (size_t i = 0; o && i < b->obj.n; i++) {
		struct val *x = val_object_get(a, b->obj.keys[i]);
		struct val *m = x ? merge_base(x, b->obj.vals[i], depth + 1) : vref(b->obj.vals[i]);
		if (!m || val_object_put(o, vref(b->obj.keys[i]), m) < 0) {
			vunref(o);
			return NULL;
		}
	}
	for (size_t i = 0; o && i < a->obj.n; i++)
		if (!val_object_get(o, a->obj.keys[i]) && val_object_put(o, vref(a->obj.keys[i]), vref(a->obj.vals[i])) < 0) {
			vunref(o);
			return NULL;
		}
	return o;
}

static int node_compute(struct ev *ev, struct node *n, struct val *base, struct val **out)
{
	int rc = 0;
	*out = NULL;
	if (n->has_func)
		return 0;
	if (n->rules || n->dflt) {
		struct guard_cache gc = { 0 };
		/* keys[] is scratch below nk: left uninitialised on purpose */
		struct rsol s;
		s.r = NULL;
		s.value = s.coll = NULL;
		s.nk = 0;
		s.any = false;
		/* OPA stops a body at its first solution only under early exit:
		 * otherwise later solutions still run (and may raise errors) */
		s.first = n->ee;
		bool coll = n->coll;
		s.conflict = "complete rules must not produce multiple outputs";
		if (coll) {
			s.coll = n->coll_set ? val_set_new(4) : val_object_new(4);
			if (!s.coll)
				return -ENOMEM;
		}
		for (struct rule *r = n->rules; r && rc == 0; r = r->next_in_node) {
			if (coll && r->npath == r->nstatic && r->kind != R_MULTI) {
				/* complete rule at a node that also has ref-head rules */
				continue;
			}
			s.r = r;
			rc = eval_rule(ev, r, &s, &gc);
			if (n->ee && s.value)
				break;
		}
		guard_cache_release(&gc);
		if (rc < 0) {
			vunref(s.value);
			vunref(s.coll);
			return rc;
		}
		if (coll && s.coll->kind == VAL_OBJECT) {
			/* rules at deeper static paths contribute to the same object;
			 * the shallowest value of a ref-head rule here, counted from
			 * a child's key, is a leaf no child may extend */
			size_t rleaf = SIZE_MAX;
			for (struct rule *r = n->rules; r; r = r->next_in_node)
				if (r->kind != R_MULTI && r->npath > r->nstatic && r->npath - r->nstatic - 1 < rleaf)
					rleaf = r->npath - r->nstatic - 1;
			for (size_t i = 0; i < n->nkids && rc == 0; i++) {
				struct node *c = n->kids[i];
				struct val *cv = NULL;
				if (c->has_func)
					continue;
				rc = rego_eval_node_value(ev, c, NULL, &cv);
				if (rc < 0)
					break;
				if (!cv)
					continue; /* an undefined key leaves the others */
				struct val *old = val_object_get(s.coll, c->key);
				if (!old) {
					rc = val_object_put(s.coll, vref(c->key), cv);
					continue;
				}
				struct val *m = NULL;
				/* a child holding complete rules is itself a leaf */
				rc = merge_docs(ev, old, cv, &m, 0, c->rules && !c->coll ? 0 : rleaf);
				vunref(cv);
				if (rc == 0)
					rc = val_object_put(s.coll, vref(c->key), m);
			}
			if (rc < 0) {
				vunref(s.coll);
				return rc;
			}
		}
		if (coll) {
			*out = s.coll;
			return 0;
		}
		if (!s.value && n->dflt) {
			s.r = n->dflt;
			rc = eval_rule(ev, n->dflt, &s, &gc);
			guard_cache_release(&gc);
			if (rc < 0)
				return rc;
		}
		*out = s.value;
		return 0;
	}
	/* a package (or intermediate) node: object of its children and base data */
	struct val *o = val_object_new(n->nkids);
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < n->nkids && rc == 0; i++) {
		struct node *c = n->kids[i];
		struct val *cv = NULL;
		if (c->has_func) {
			/* `f() := 1` has no arguments: OPA sees a plain rule */
			rc = rego_func0_value(ev, c, &cv);
			if (rc == 0 && cv)
				rc = val_object_put(o, vref(c->key), cv);
			continue;
		}
		struct val *cb = base ? val_object_get(base, c->key) : NULL;
		rc = rego_eval_node_value(ev, c, cb, &cv);
		if (rc == 0 && cv && cb && (c->rules || c->dflt)) {
			struct val *m = merge_base(cb, cv, 0);
			vunref(cv);
			cv = m;
			if (!cv)
				rc = -ENOMEM;
		}
		if (rc == 0 && cv)
			rc = val_object_put(o, vref(c->key), cv);
	}
	if (rc == 0 && base && base->kind == VAL_OBJECT) {
		for (size_t i = 0; i < base->obj.n && rc == 0; i++)
			if (!val_object_get(o, base->obj.keys[i]))
				rc = val_object_put(o, vref(base->obj.keys[i]), vref(base->obj.vals[i]));
	}
	if (rc < 0) {
		vunref(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* Memo entry of a node whose value was computed and is undefined: `not p`
 * and `p` in several rules must not recompute it. Immortal (refs 0), so
 * releasing it with the other memo entries is a no-op. */
struct val rego_memo_undefined = { .refs = 0, .kind = VAL_NULL };

int rego_eval_node_value(struct ev *ev, struct node *n, struct val *base, struct val **out)
{
	*out = NULL;
	struct val *m = ev->memo[n->id];
	if (m) {
		if (m != &rego_memo_undefined)
			*out = vref(m);
		return 0;
	}
	if (ev->busy[n->id])
		return ev_error(ev, -EINVAL, EC_RECURSION, "rule %s is recursive", n->fullname);
	ev->busy[n->id] = true;
	struct val *v = NULL;
	int rc = node_compute(ev, n, base, &v);
	ev->busy[n->id] = false;
	if (rc < 0)
		return rc;
	if (v) {
		ev->memo[n->id] = vref(v);
		*out = v;
	} else if (!n->has_func) {
		ev->memo[n->id] = &rego_memo_undefined;
	}
	/* each id is set at most once per table: touched never overflows */
	if (ev->memo[n->id] && ev->memo == ev->memo_root)
		ev->touched[ev->ntouched++] = n->id;
	return 0;
}

/* ---------------------------------------------------------- functions */

struct fsol {
	struct rsol rs;
	struct rule *r;
	struct val **args;
	size_t n, i;
};

static int match_arg(struct ev *ev, void *arg);

static int fn_after_args(struct ev *ev, void *arg)
{
	struct fsol *f = arg;
	return ev_body(ev, f->r->body, 0, rsol_cont, &f->rs);
}

/* match is static in eval.c: use unification via a tiny body instead */

static int match_arg(struct ev *ev, void *arg)
{
	struct fsol *f = arg;
	if (f->i == f->n)
		return fn_after_args(ev, f);
	size_t i = f->i++;
	int rc = ev_match_pub(ev, f->r->args[i], f->args[i], match_arg, f);
	f->i = i;
	return rc;
}

int rego_func0_value(struct ev *ev, struct node *fn, struct val **out)
{
	*out = NULL;
	struct rule *x = fn->rules ? fn->rules : fn->dflt;
	if (!x || x->nargs != 0)
		return 0;
	return ev_call_func(ev, fn, NULL, 0, out);
}

int ev_call_func(struct ev *ev, struct node *fn, struct val **args, size_t n, struct val **out)
{
	struct fsol f;
	f.rs.r = NULL;
	f.rs.value = f.rs.coll = NULL;
	f.rs.nk = 0;
	f.rs.any = false;
	f.rs.first = false;
	f.r = NULL;
	f.i = 0;
	int rc = 0;
	*out = NULL;
	f.rs.conflict = "functions must not produce multiple outputs for same inputs";
	f.args = args;
	f.n = n;
	if (++ev->depth > REGO_MAX_CALL_DEPTH) {
		ev->depth--;
		return ev_error(ev, -E2BIG, EC_LIMIT, "function calls nested deeper than %d", REGO_MAX_CALL_DEPTH);
	}
	size_t frame = ev->frame, mark = ev->ntrail;
	struct module *mod = ev->mod;
	struct rule *rule = ev->rule;
	for (struct rule *r0 = fn->rules; r0 && rc == 0; r0 = r0->next_in_node) {
		for (struct rule *x = r0; x; x = x->els) {
			if (x->nargs != n)
				continue;
			ev->frame = ev->ntrail;
			ev->mod = x->mod;
			ev->rule = x;
			f.r = x;
			f.rs.r = x;
			f.rs.any = false;
			f.i = 0;
			/* declare parameters fresh in this frame */
			rc = match_arg(ev, &f);
			while (ev->ntrail > mark) {
				ev->ntrail--;
				vunref(ev->trail[ev->ntrail].v);
			}
			if (rc < 0 || f.rs.any)
				break;
		}
	}
	if (rc == 0 && !f.rs.value && fn->dflt) {
		f.rs.r = fn->dflt;
		rc = ev_term(ev, fn->dflt->value, rsol_value, &f.rs);
	}
	ev->frame = frame;
	ev->mod = mod;
	ev->rule = rule;
	ev->depth--;
	if (rc < 0) {
		vunref(f.rs.value);
		return rc;
	}
	*out = f.rs.value;
	return 0;
}

/* ------------------------------------------------------------ queries */

struct rego_query {
	struct rego *r;
	struct body *body;
	const char **vars;
	size_t nvars;
	struct body *vbody; /* "$value = <term>" for single-term queries */
	const char *vvar;
	/* rego_query_eval runs vbody: the query's one expression has a value
	 * of its own (a false one included) that OPA reports (see
	 * query_captures) */
	bool capture;
	/* Per-evaluation scratch kept between evaluations (a query is used by
	 * one thread at a time): memo and recursion flags per node, the trail. */
	struct val **memo;
	bool *busy;
	unsigned *touched;
	struct bind *trail;
	size_t captrail;
};

static void qvars_term(struct rego_query *q, struct term *t, int *rc);

static void qvars_add(struct rego_query *q, const char *name, int *rc)
{
	if (name[0] == '$' || strcmp(name, "data") == 0 || strcmp(name, "input") == 0)
		return;
	for (size_t i = 0; i < q->nvars; i++)
		if (q->vars[i] == name)
			return;
	const char **nv = realloc(q->vars, (q->nvars + 1) * sizeof(*nv));
	if (!nv) {
		*rc = -ENOMEM;
		return;
	}
	q->vars = nv;
	q->vars[q->nvars++] = name;
}

static void qvars_term(struct rego_query *q, struct term *t, int *rc)
{
	if (!t)
		return;
	if (t->kind == T_VAR) {
		qvars_add(q, t->name, rc);
		return;
	}
	if (t->kind == T_ACOMP || t->kind == T_SCOMP || t->kind == T_OCOMP)
		return;
	for (size_t i = 0; i < t->n; i++)
		qvars_term(q, t->items[i], rc);
}

/* Does @t iterate: a ref with a variable operand, or a relation (walk)?
 * Comprehensions are values of their own and are not looked into. */
static bool term_iterates(const struct term *t)
{
	if (!t)
		return false;
	switch (t->kind) {
	case T_ACOMP:
	case T_SCOMP:
	case T_OCOMP:
	case T_VALUE:
	case T_VAR:
		return false;
	case T_REF:
		for (size_t i = 1; i < t->n; i++)
			if (t->items[i]->kind == T_VAR)
				return true;
		break;
	case T_CALL:
		if (builtin_is_relation(t->bi))
			return true;
		break;
	default:
		break;
	}
	for (size_t i = 0; i < t->n; i++)
		if (term_iterates(t->items[i]))
			return true;
	return false;
}

/*
 * OPA evaluates a query of one expression that is a term, or a call
 * without its output operand, as `term = $value` with no truthiness check
 * unless the expression iterates (rego.go, rewriteQueryToCaptureValue): the
 * query `data.p.allow` has one result whose value is false when allow is
 * false, where the rule body `allow` would fail.
 */
static bool query_captures(const struct body *b)
{
	if (b->n != 1)
		return false;
	const struct expr *x = b->e[0];
	if (x->kind != E_TERM || x->negated || term_iterates(x->a))
		return false;
	const struct term *t = x->a;
	if (t->kind == T_CALL) {
		size_t arity = t->fnode ? (t->fnode->rules ? t->fnode->rules->nargs : t->fnode->dflt ? t->fnode->dflt->nargs : 0)
					: t->bi ? t->bi->nargs : SIZE_MAX;
		return t->n == arity;
	}
	return true;
}

int rego_prepare(struct rego *r, const char *query, size_t len, unsigned flags, struct rego_query **out,
		 struct arca_err *e)
{
	int rc;
	if (!r->compiled) {
		rc = rego_compile(r, e);
		if (rc < 0)
			return rc;
	}
	struct rego_query *q = calloc(1, sizeof(*q));
	if (!q)
		return err_set(e, -ENOMEM, "out of memory");
	q->r = r;
	rc = rego_parse_query(r, query, len, (flags & REGO_V0) != 0, &q->body, e);
	if (rc == 0)
		rc = rego_resolve_query(r, q->body);
	for (size_t i = 0; rc == 0 && i < q->body->n; i++) {
		struct expr *x = q->body->e[i];
		if (x->kind == E_SOME)
			for (size_t j = 0; j < x->nvars; j++)
				qvars_add(q, x->vars[j]->name, &rc);
		if (x->kind == E_EVERY)
			continue;
		qvars_term(q, x->a, &rc);
		qvars_term(q, x->b, &rc);
		if (x->kind != E_SOME_IN)
			qvars_term(q, x->c, &rc);
	}
	if (rc == 0 && q->body->n == 1 && q->body->e[0]->kind == E_TERM && !q->body->e[0]->negated) {
		struct body *vb = rego_alloc(r, sizeof(*vb));
		struct expr **ve = rego_alloc(r, sizeof(*ve));
		struct expr *x = rego_alloc(r, sizeof(*x));
		struct term *var = rego_alloc(r, sizeof(*var));
		q->vvar = rego_intern(r, "$value", 6);
		if (!vb || !ve || !x || !var || !q->vvar) {
			rc = -ENOMEM;
		} else {
			var->kind = T_VAR;
			var->name = q->vvar;
			x->kind = E_UNIFY;
			x->line = q->body->e[0]->line;
			x->a = var;
			x->b = q->body->e[0]->a;
			x->with = q->body->e[0]->with;
			x->nwith = q->body->e[0]->nwith;
			ve[0] = x;
			vb->e = ve;
			vb->n = 1;
			q->vbody = vb;
			q->capture = query_captures(q->body);
		}
	}
	if (rc < 0) {
		rego_query_free(q);
		if (rc == -ENOMEM)
			err_set(e, rc, "out of memory");
		return rc;
	}
	*out = q;
	return 0;
}

void rego_query_free(struct rego_query *q)
{
	if (!q)
		return;
	free(q->vars);
	free(q->memo);
	free(q->busy);
	free(q->touched);
	free(q->trail);
	free(q);
}

struct qres {
	const char **vars;
	size_t nvars;
	struct val *out;
};

static struct val *lookup_top(struct ev *ev, const char *name)
{
	for (size_t i = ev->ntrail; i > 0; i--)
		if (ev->trail[i - 1].name == name)
			return ev->trail[i - 1].v;
	return NULL;
}

static int qres_cont(struct ev *ev, void *arg)
{
	struct qres *qr = arg;
	struct val *o = val_object_new(qr->nvars);
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < qr->nvars; i++) {
		struct val *v = lookup_top(ev, qr->vars[i]);
		if (v && val_object_put_cstr(o, qr->vars[i], vref(v)) < 0) {
			vunref(o);
			return -ENOMEM;
		}
	}
	return val_array_push(qr->out, o);
}

/* rego_query_value: keeps the first solution's value; later solutions are
 * still enumerated (they may raise conflicts, as with the full result). */
struct qfirst {
	const char *var;
	struct val *v;
};

static int qfirst_cont(struct ev *ev, void *arg)
{
	struct qfirst *qf = arg;
	if (!qf->v) {
		struct val *v = lookup_top(ev, qf->var);
		qf->v = v ? vref(v) : val_bool(true);
	}
	return 0;
}

int64_t ev_now_ns(struct ev *ev)
{
	if (!ev->now_set) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ev->now_ns = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
		ev->now_set = true;
	}
	return ev->now_ns;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Evaluates @body, calling @k per solution. @direct: @body is "$value =
 * term" and @karg the struct qfirst, so a single-valued term may be
 * computed directly, without unification (ev_term1 binds nothing: when the
 * term enumerates, the body runs as usual). */
static int run_query(struct rego_query *q, struct body *body, cont_fn k, void *karg, struct val *input,
		     unsigned flags, struct arca_err *e, bool direct)
{
	struct rego *r = q->r;
	struct arca_err scratch;
	err_clear(&scratch); /* not zeroed whole: the message buffer is large */
	struct ev ev = { .r = r, .err = e ? e : &scratch };
	int rc = 0;

	if (e)
		err_clear(e);
	ev.input = input ? vref(input) : NULL;
	ev.strict = (flags & REGO_STRICT_BUILTINS) != 0;
	size_t nn = r->nnodes ? r->nnodes : 1;
	if (!q->memo)
		q->memo = calloc(nn, sizeof(*q->memo));
	if (!q->busy)
		q->busy = calloc(nn, sizeof(*q->busy));
	if (!q->touched)
		q->touched = calloc(nn, sizeof(*q->touched));
	ev.memo = ev.memo_root = q->memo;
	ev.busy = q->busy;
	ev.touched = q->touched;
	ev.trail = TAKE_PTR(q->trail);
	ev.captrail = q->captrail;
	if (!ev.memo || !ev.busy || !ev.touched) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	if (r->lim.timeout_ms)
		ev.deadline_ns = mono_ns() + (uint64_t)r->lim.timeout_ms * 1000000ull;
	rc = EV_GENERAL;
	if (direct && !body->e[0]->nwith) {
		struct val *v = NULL;
		ev.line = body->e[0]->line;
		rc = ev_term1(&ev, body->e[0]->b, &v);
		if (rc == 1) {
			((struct qfirst *)karg)->v = v;
			rc = 0;
		}
	}
	if (rc == EV_GENERAL)
		rc = ev_body(&ev, body, 0, k, karg);
	if (rc > 0)
		rc = 0;
	if (rc == -ENOMEM && ev.err->code == 0)
		err_set(ev.err, rc, "out of memory");
	else if (rc < 0 && ev.err->code == 0)
		err_set(ev.err, rc, "evaluation failed");
out:
	/* the scratch goes back to the query clean: no memo, no busy flag */
	for (size_t i = 0; i < ev.ntouched; i++) {
		vunref(ev.memo[ev.touched[i]]);
		ev.memo[ev.touched[i]] = NULL;
	}
	if (ev.busy)
		memset(ev.busy, 0, nn * sizeof(*ev.busy));
	for (size_t i = 0; i < ev.ntrail; i++)
		vunref(ev.trail[i].v);
	q->trail = ev.trail;
	q->captrail = ev.captrail;
	free(ev.wo);
	vunref(ev.bcache);
	vunref(ev.input);
	return rc;
}

static int run_query_all(struct rego_query *q, struct body *body, const char **vars, size_t nvars,
			 struct val *input, unsigned flags, struct val **out, struct arca_err *e)
{
	struct qres qr = { vars, nvars, val_array_new(1) };
	if (!qr.out)
		return err_set(e, -ENOMEM, "out of memory");
	int rc = run_query(q, body, qres_cont, &qr, input, flags, e, false);
	if (rc < 0) {
		vunref(qr.out);
		return rc;
	}
	*out = qr.out;
	return 0;
}

int rego_query_eval(struct rego_query *q, struct val *input, unsigned flags, struct val **out, struct arca_err *e)
{
	return run_query_all(q, q->capture ? q->vbody : q->body, q->vars, q->nvars, input, flags, out, e);
}

int rego_query_value(struct rego_query *q, struct val *input, struct val **out, struct arca_err *e)
{
	struct val *res = NULL;
	*out = NULL;
	if (q->vbody) {
		struct qfirst qf = { q->vvar, NULL };
		int rc = run_query(q, q->vbody, qfirst_cont, &qf, input, 0, e, true);
		if (rc < 0) {
			vunref(qf.v);
			return rc;
		}
		*out = qf.v;
		return 0;
	}
	int rc = run_query_all(q, q->body, q->vars, q->nvars, input, 0, &res, e);
	if (rc < 0)
		return rc;
	/* a single-ref query: the value is the ref's value, so re-run as x = ref */
	if (res->arr.n > 0 && res->arr.items[0]->obj.n > 0)
		*out = vref(res->arr.items[0]->obj.vals[0]);
	else if (res->arr.n > 0)
		*out = val_bool(true);
	vunref(res);
	return 0;
}
