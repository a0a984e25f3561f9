/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Direct evaluation: terms with at most one value and the commonest
 * expressions on them, computed without the continuation chain of eval.c,
 * and the equality index that skips rule bodies. Each entry point either
 * finishes the work exactly as the general path would, or reports before
 * binding anything that the general path must run instead.
 */
#include "internal.h"

/* ------------------------------------------------------ direct terms */

static int first_owned(struct ev *ev, struct val *v, void *arg)
{
	(void)ev;
	struct val **out = arg;
	*out = vref(v);
	return EV_STOP;
}

static int term1b(struct ev *ev, struct term *t, struct val **out, bool *owned);

/* Walks operands ops[i..] from @cur, which lives at least as long as @root
 * (a reference, consumed; NULL when @cur is borrowed from something that
 * outlives the evaluation of this term: input, base data, a binding, the
 * memo table). The result is borrowed (*owned false) when it lies in such
 * a document: taking and dropping a reference per term was a tenth of an
 * evaluation. */
static inline __attribute__((always_inline)) int ops1(struct ev *ev, struct val *root, struct val *cur,
						    struct term **ops, size_t n, size_t i, bool base, struct val **out,
						    bool *owned)
{
	for (; i < n && cur; i++) {
		struct term *op = ops[i];
		if (op->kind == T_VALUE) {
			if (cur->kind == VAL_OBJECT && op->v->kind == VAL_STRING)
				cur = obj_get_hint(cur, op->v, &op->hint);
			else
				cur = base ? base_child(cur, op->v) : ev_child(cur, op->v);
			continue;
		}
		struct val *key;
		bool kown;
		int rc = term1b(ev, op, &key, &kown);
		if (rc != 1) {
			vunref(root);
			return rc;
		}
		struct val *c = base ? base_child(cur, key) : ev_child(cur, key);
		if (c == key) {
			/* a set yields the key itself: it becomes the root */
			vunref(root);
			root = vref(c);
		}
		if (kown)
			vunref(key);
		cur = c;
	}
	if (!cur) {
		vunref(root);
		return 0;
	}
	*owned = root != NULL;
	if (!root || cur == root) {
		*out = cur;
		return 1;
	}
	*out = vref(cur);
	vunref(root);
	return 1;
}

static inline __attribute__((always_inline)) int ref1(struct ev *ev, struct term *t, struct val **out, bool *owned)
{
	struct term *h = t->items[0];
	struct term **ops = t->items + 1;
	size_t n = t->n - 1;
	struct val *v = NULL;
	if (h->kind == T_VAR && h->name == ev->r->a_data) {
		if (!t->dnode || ev->nwo)
			return EV_GENERAL;
		size_t i = t->dn;
		if (t->dbase) {
			return t->dnode->base ? ops1(ev, NULL, t->dnode->base, ops, n, i, true, out, owned) : 0;
		}
		struct node *nd = t->dnode;
		if (!nd->rules && !nd->dflt)
			return EV_GENERAL; /* a package: documents are merged */
		struct val *m = ev->memo[nd->id];
		if (m) {
			/* memoised (the commonest case): borrowed from the table,
			 * which keeps it until the query ends */
			if (m == &rego_memo_undefined)
				return 0;
			return ops1(ev, NULL, m, ops, n, i, false, out, owned);
		}
		int rc = rego_eval_node_value(ev, nd, nd->base, &v);
		if (rc < 0)
			return rc;
		if (!v)
			return 0;
		return ops1(ev, v, v, ops, n, i, false, out, owned);
	}
	if (h->kind == T_VAR && h->name == ev->r->a_input) {
		if (!ev->input)
			return 0;
		return ops1(ev, NULL, ev->input, ops, n, 0, false, out, owned);
	}
	if (h->kind == T_VAR && h->name != ev->r->a_data) {
		struct bind *b = ev_lookup(ev, h->name);
		if (!b || !b->v)
			return EV_GENERAL;
		return ops1(ev, NULL, b->v, ops, n, 0, false, out, owned);
	}
	int rc = ev_term1(ev, h, &v);
	if (rc != 1)
		return rc;
	return ops1(ev, v, v, ops, n, 0, false, out, owned);
}

int ev_ref1(struct ev *ev, struct term *t, struct val **out)
{
	bool owned;
	int rc = ref1(ev, t, out, &owned);
	if (rc == 1 && !owned)
		vref(*out);
	return rc;
}

int ev_call1(struct ev *ev, struct term *t, struct val **out)
{
	struct val *args[8];
	size_t nargs;
	if (ev->nwo)
		return EV_GENERAL; /* functions may be replaced */
	if (t->fnode)
		nargs = t->fnode->rules ? t->fnode->rules->nargs : t->fnode->dflt ? t->fnode->dflt->nargs : SIZE_MAX;
	else if (t->bi && !builtin_is_relation(t->bi))
		nargs = t->bi->nargs;
	else
		return EV_GENERAL;
	if (nargs != t->n || nargs > ARRAY_SIZE(args))
		return EV_GENERAL; /* an output operand, or an arity error */
	size_t i;
	int rc = 1;
	bool own[ARRAY_SIZE(args)];
	/* arguments are borrowed by builtins and bound (referenced) by
	 * functions: they need not be owned here */
	for (i = 0; i < nargs; i++) {
		rc = term1b(ev, t->items[i], &args[i], &own[i]);
		if (rc != 1)
			break;
	}
	if (rc == 1) {
		struct val *res = NULL;
		bool found = false;
		rc = ev_dispatch(ev, t->name, t->fnode, t->bi, args, nargs, &res, t->line, &found);
		if (rc == 0 && res) {
			*out = res;
			rc = 1;
		}
	}
	while (i > 0) {
		i--;
		if (own[i])
			vunref(args[i]);
	}
	return rc;
}

static int composite1(struct ev *ev, struct term *t, struct val **out)
{
	struct val *o = t->kind == T_ARRAY ? val_array_new(t->n) : t->kind == T_SET ? val_set_new(t->n)
										: val_object_new(t->n / 2);
	if (!o)
		return -ENOMEM;
	int rc = 1;
	for (size_t i = 0; i < t->n && rc == 1; i++) {
		struct val *x = NULL, *y = NULL;
		rc = ev_term1(ev, t->items[i], &x);
		if (rc != 1)
			break;
		if (t->kind == T_ARRAY) {
			rc = val_array_push(o, x) < 0 ? -ENOMEM : 1;
		} else if (t->kind == T_SET) {
			rc = val_set_add(o, x) < 0 ? -ENOMEM : 1;
		} else {
			rc = ev_term1(ev, t->items[++i], &y);
			if (rc != 1) {
				vunref(x);
				break;
			}
			rc = val_object_put(o, x, y) < 0 ? -ENOMEM : 1;
		}
	}
	if (rc != 1) {
		vunref(o);
		return rc;
	}
	*out = o;
	return 1;
}

/* ev_term1 with the result possibly borrowed (*owned false): from the
 * policy, input, base data, a binding or the memo table, all of which
 * outlive the expression that asks. */
static int term1b(struct ev *ev, struct term *t, struct val **out, bool *owned)
{
	*owned = false;
	switch (t->kind) {
	case T_VALUE:
		*out = t->v;
		return 1;
	case T_VAR: {
		if (t->name == ev->r->a_input) {
			if (!ev->input)
				return 0;
			*out = ev->input;
			return 1;
		}
		if (t->name == ev->r->a_data)
			return EV_GENERAL;
		struct bind *b = ev_lookup(ev, t->name);
		if (!b || !b->v)
			return EV_GENERAL;
		*out = b->v;
		return 1;
	}
	case T_REF:
		return ref1(ev, t, out, owned);
	default:
		*owned = true;
		return ev_term1(ev, t, out);
	}
}

int ev_term1(struct ev *ev, struct term *t, struct val **out)
{
	switch (t->kind) {
	case T_VALUE:
	case T_VAR:
	case T_REF: {
		/* term1b handles these without coming back here */
		bool owned;
		int rc = term1b(ev, t, out, &owned);
		if (rc == 1 && !owned)
			vref(*out);
		return rc;
	}
	case T_CALL:
		return ev_call1(ev, t, out);
	case T_ARRAY:
	case T_SET:
	case T_OBJECT:
		return composite1(ev, t, out);
	case T_ACOMP:
	case T_SCOMP:
	case T_OCOMP:
	case T_TEMPLATE: {
		/* exactly one value, built by the general path */
		struct val *v = NULL;
		int rc = ev_term(ev, t, first_owned, &v);
		if (rc < 0) {
			vunref(v);
			return rc;
		}
		if (!v)
			return 0;
		*out = v;
		return 1;
	}
	}
	return EV_GENERAL;
}

/* ------------------------------------------------------ equality index */

int ev_rule_guard(struct ev *ev, struct rule *x, struct guard_cache *gc)
{
	/* `with` may replace `equal` or the documents the guard reads */
	if (!x->guard || ev->nwo)
		return 2;
	ev->line = x->body->e[0]->line;
	if (gc->guard != x->guard) {
		struct val *v = NULL;
		int rc = ev_term1(ev, x->guard, &v);
		if (rc < 0)
			return rc;
		guard_cache_release(gc);
		gc->guard = x->guard;
		gc->rc = rc;
		gc->v = rc == 1 ? v : NULL;
	}
	if (gc->rc == EV_GENERAL)
		return 2;
	/* the first expression counts as evaluated, as in ev_body */
	bool eq = gc->rc == 1 && val_equal(gc->v, x->gval);
	int rc = ev_step(ev);
	if (rc < 0)
		return rc;
	return eq ? 1 : 0;
}

/* --------------------------------------------------------- expressions */

/* Each element of @c bound to @va (and its key or index to @ka), then the
 * rest of the body: what E_SOME_IN does through each_kv and match. */
static int some_in_fast(struct ev *ev, struct val *c, struct term *ka, struct term *va, struct body *b, size_t i,
			cont_fn k, void *arg)
{
	size_t n = c->kind == VAL_OBJECT ? c->obj.n : (c->kind == VAL_ARRAY || c->kind == VAL_SET) ? c->arr.n : 0;
	int rc = 0;
	for (size_t j = 0; j < n && rc == 0; j++) {
		struct val *key, *v;
		if (c->kind == VAL_OBJECT) {
			key = c->obj.keys[j];
			v = c->obj.vals[j];
		} else if (c->kind == VAL_SET) {
			key = v = c->arr.items[j];
		} else {
			v = c->arr.items[j];
			key = ka ? val_int((int64_t)j) : NULL;
			if (ka && !key)
				return -ENOMEM;
		}
		rc = ev_step(ev);
		size_t mark = ev->ntrail;
		if (rc == 0 && ka)
			rc = ev_bind(ev, ka->name, key);
		if (rc == 0)
			rc = ev_bind(ev, va->name, v);
		if (rc == 0)
			rc = ev_body(ev, b, i + 1, k, arg);
		ev_undo(ev, mark);
		if (c->kind == VAL_ARRAY)
			vunref(key);
	}
	return rc;
}

/* x in c, as internal.member_2 */
static bool member(struct ev *ev, const struct val *x, const struct val *c)
{
	switch (c->kind) {
	case VAL_SET:
		return val_set_contains(c, x);
	case VAL_ARRAY: {
		int in = rego_index_member(ev->r->index, c, x);
		if (in >= 0)
			return in;
	}
		for (size_t i = 0; i < c->arr.n; i++)
			if (val_equal(c->arr.items[i], x))
				return true;
		return false;
	case VAL_OBJECT:
		for (size_t i = 0; i < c->obj.n; i++)
			if (val_equal(c->obj.vals[i], x))
				return true;
		return false;
	default:
		return false;
	}
}

/* A comparison (==, !=, <, <=, >, >=, in) on two single-valued operands:
 * 1 with *holds set, 0 undefined, EV_GENERAL or an error as ev_call1.
 * These builtins never fail, so computing them here changes nothing but
 * the cost: no dispatch, no boolean result to allocate and test. */
static int cmp1(struct ev *ev, struct term *t, bool *holds)
{
	struct val *a, *b;
	bool aown, bown;
	int rc = term1b(ev, t->items[0], &a, &aown);
	if (rc != 1)
		return rc;
	rc = term1b(ev, t->items[1], &b, &bown);
	if (rc != 1) {
		if (aown)
			vunref(a);
		return rc;
	}
	switch (t->cmp) {
	case CMP_EQ: *holds = val_equal(a, b); break;
	case CMP_NEQ: *holds = !val_equal(a, b); break;
	case CMP_LT: *holds = val_compare(a, b) < 0; break;
	case CMP_LTE: *holds = val_compare(a, b) <= 0; break;
	case CMP_GT: *holds = val_compare(a, b) > 0; break;
	case CMP_GTE: *holds = val_compare(a, b) >= 0; break;
	case CMP_IN: *holds = member(ev, a, b); break;
	default: *holds = false; break;
	}
	if (aown)
		vunref(a);
	if (bown)
		vunref(b);
	return 1;
}

static int stop_first(struct ev *ev, void *arg)
{
	(void)ev;
	(void)arg;
	return EV_STOP;
}

/* every [k,] v in c { body }: the body must hold for each element, with
 * plain variables bound fresh to the key and value (as every_kv does). 1 it
 * holds, 0 it does not, or an error. */
static int every_fast(struct ev *ev, struct expr *x, struct val *c)
{
	struct term *ka = x->a, *va = x->b;
	size_t n;
	if (c->kind == VAL_OBJECT)
		n = c->obj.n;
	else if (c->kind == VAL_ARRAY || c->kind == VAL_SET)
		n = c->arr.n;
	else
		return 0;
	for (size_t j = 0; j < n; j++) {
		struct val *key, *v;
		bool owned = false;
		if (c->kind == VAL_OBJECT) {
			key = c->obj.keys[j];
			v = c->obj.vals[j];
		} else if (c->kind == VAL_SET) {
			key = v = c->arr.items[j];
		} else {
			v = c->arr.items[j];
			key = NULL;
			if (ka) {
				key = val_int((int64_t)j);
				if (!key)
					return -ENOMEM;
				owned = true;
			}
		}
		size_t mark = ev->ntrail;
		int rc = ka ? ev_bind(ev, ka->name, key) : 0;
		if (rc == 0)
			rc = ev_bind(ev, va->name, v);
		if (rc == 0)
			rc = ev_body(ev, x->body, 0, stop_first, NULL);
		ev_undo(ev, mark);
		if (owned)
			vunref(key);
		if (rc < 0)
			return rc;
		if (rc != EV_STOP)
			return 0;
	}
	return 1;
}

/*
 * The commonest expressions on a single-valued term, without the general
 * machinery: `t` (true unless false or undefined), `not t`, `x := t` and
 * `some [k,] v in t`.
 * *done is false when the term enumerates (nothing was bound then); the
 * return value is otherwise the body's, whatever the continuation returned.
 */
static inline __attribute__((always_inline)) int expr_fast(struct ev *ev, struct expr *x, struct body *b, size_t i,
							  cont_fn k, void *arg, bool *done)
{
	struct val *v = NULL;
	int rc;
	*done = false;
	switch (x->kind) {
	case E_TERM: {
		bool holds;
		if (x->a->cmp && !ev->nwo) {
			/* `with` may replace the builtin: then the general path */
			rc = cmp1(ev, x->a, &holds);
			if (rc == EV_GENERAL)
				return 0;
			*done = true;
			if (rc < 0)
				return rc;
			/* cmp1 leaves holds unset when the comparison is undefined */
			holds = rc == 1 && holds;
		} else {
			bool own = false;
			rc = term1b(ev, x->a, &v, &own);
			if (rc == EV_GENERAL)
				return 0;
			*done = true;
			if (rc < 0)
				return rc;
			holds = rc == 1 && !(v->kind == VAL_BOOL && !v->b);
			if (rc == 1 && own)
				vunref(v);
		}
		if (x->negated) {
			/* the negated expression counts as a body of its own */
			rc = ev_step(ev);
			if (rc < 0)
				return rc;
			holds = !holds;
		}
		return holds ? ev_body(ev, b, i + 1, k, arg) : 0;
	}
	case E_ASSIGN: {
		if (x->negated || x->a->kind != T_VAR || ev_is_root(ev, x->a->name))
			return 0;
		rc = ev_term1(ev, x->b, &v);
		if (rc == EV_GENERAL)
			return 0;
		*done = true;
		if (rc != 1)
			return rc;
		size_t mark = ev->ntrail;
		rc = ev_bind(ev, x->a->name, v);
		vunref(v);
		if (rc == 0)
			rc = ev_body(ev, b, i + 1, k, arg);
		ev_undo(ev, mark);
		return rc;
	}
	case E_SOME_IN: {
		/* some [k,] v in coll, plain distinct variables, one collection */
		struct term *ka = x->a, *va = x->b;
		if (x->negated || va->kind != T_VAR || ev_is_root(ev, va->name) ||
		    (ka && (ka->kind != T_VAR || ev_is_root(ev, ka->name) || ka->name == va->name)))
			return 0;
		struct val *c = NULL;
		rc = ev_term1(ev, x->c, &c);
		if (rc == EV_GENERAL)
			return 0;
		*done = true;
		if (rc != 1)
			return rc;
		rc = some_in_fast(ev, c, ka, va, b, i, k, arg);
		vunref(c);
		return rc;
	}
	case E_EVERY: {
		struct term *ka = x->a, *va = x->b;
		if (x->negated || va->kind != T_VAR || ev_is_root(ev, va->name) ||
		    (ka && (ka->kind != T_VAR || ev_is_root(ev, ka->name))))
			return 0;
		struct val *c = NULL;
		rc = ev_term1(ev, x->c, &c);
		if (rc == EV_GENERAL)
			return 0;
		*done = true;
		if (rc != 1)
			return rc; /* an undefined domain fails, as in every_coll */
		rc = every_fast(ev, x, c);
		vunref(c);
		return rc == 1 ? ev_body(ev, b, i + 1, k, arg) : rc;
	}
	default:
		return 0;
	}
}

/* One expression of a body, then (through the continuation) the rest. The
 * direct forms are tried first, inline; the general path takes the rest. */
int ev_body_expr(struct ev *ev, struct body *b, size_t i, cont_fn k, void *arg)
{
	int rc = ev_step(ev);
	if (rc < 0)
		return rc;
	struct expr *x = b->e[i];
	ev->line = x->line;
	if (!x->nwith) {
		bool done;
		rc = expr_fast(ev, x, b, i, k, arg, &done);
		if (done)
			return rc;
	}
	return ev_body_general(ev, b, i, k, arg);
}
