/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Top-down Rego evaluator. Every generator takes a continuation: a term
 * yields each of its values to a vcont_fn, a body calls its cont_fn once per
 * solution. Variable bindings live on a trail that is unwound on
 * backtracking. A continuation returning EV_STOP ends the enumeration
 * early (used by `not`, `every` and existence checks); negative values are
 * errors and always propagate.
 * This file evaluates terms (patterns, unification, refs and virtual
 * documents, calls, comprehensions, templates); the general path of body
 * expressions (=, :=, some, every, not, `with`) is in eval_body.c.
 */
#include "internal.h"

#include <time.h>

int ev_error(struct ev *ev, int code, const char *ecode, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!ev->ecode)
		ev->ecode = ecode;
	if (ev->err && ev->err->code == 0) {
		if (ev->mod)
			err_set(ev->err, code, "%s:%d: %s: %s", ev->mod->name, ev->line, ecode, msg);
		else
			err_set(ev->err, code, "%s: %s", ecode, msg);
	}
	return code;
}

/* ----------------------------------------------------------- bindings */

int ev_trail_grow(struct ev *ev)
{
	size_t nc = ev->captrail ? ev->captrail * 2 : 64;
	struct bind *nb = reallocarray(ev->trail, nc, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	ev->trail = nb;
	ev->captrail = nc;
	return 0;
}


static bool unbound_var(struct ev *ev, struct term *t)
{
	if (t->kind != T_VAR || ev_is_root(ev, t->name))
		return false;
	struct bind *b = ev_lookup(ev, t->name);
	return !b || !b->v;
}

/* Can the term be evaluated to values (unbound vars only where refs
 * enumerate them)? */
static bool evaluable(struct ev *ev, struct term *t)
{
	switch (t->kind) {
	case T_VAR:
		return !unbound_var(ev, t);
	case T_REF:
		if (t->items[0]->kind == T_VAR)
			return !unbound_var(ev, t->items[0]);
		return evaluable(ev, t->items[0]);
	case T_ARRAY:
	case T_SET:
	case T_OBJECT:
		for (size_t i = 0; i < t->n; i++)
			if (!evaluable(ev, t->items[i]))
				return false;
		return true;
	default:
		return true;
	}
}

int ev_step_slow(struct ev *ev)
{
	uint64_t max = ev->r->lim.max_steps;
	/* past the budget step_check is left behind, so every later step
	 * comes back here and fails too */
	if (max && ev->steps > max)
		return ev_error(ev, -E2BIG, EC_LIMIT, "evaluation exceeded %llu steps", (unsigned long long)max);
	if (ev->deadline_ns && (ev->steps & 1023) == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec > ev->deadline_ns)
			return ev_error(ev, -ETIME, EC_CANCEL, "evaluation deadline exceeded");
	}
	uint64_t next = (ev->steps | 1023) + 1;
	if (max && max < next)
		next = max + 1;
	ev->step_check = next;
	return 0;
}

/* --------------------------------------------------------- collections */

/* Iterates keys and values of a collection. */
int ev_each_kv(struct ev *ev, struct val *c, kv_fn f, void *arg)
{
	int rc = 0;
	switch (c->kind) {
	case VAL_ARRAY:
		for (size_t i = 0; i < c->arr.n && rc == 0; i++) {
			struct val *k = val_int((int64_t)i);
			if (!k)
				return -ENOMEM;
			rc = f(ev, k, c->arr.items[i], arg);
			vunref(k);
		}
		break;
	case VAL_SET:
		for (size_t i = 0; i < c->arr.n && rc == 0; i++)
			rc = f(ev, c->arr.items[i], c->arr.items[i], arg);
		break;
	case VAL_OBJECT:
		for (size_t i = 0; i < c->obj.n && rc == 0; i++)
			rc = f(ev, c->obj.keys[i], c->obj.vals[i], arg);
		break;
	default:
		break;
	}
	return rc;
}

/* ------------------------------------------------------------- match */

static int match(struct ev *ev, struct term *t, struct val *v, cont_fn k, void *arg);

/* The value of object key @t in a pattern or unification: OPA requires
 * keys ground once plugged, so a bound variable is as good as a constant.
 * 0 with *out set, 1 undefined, or an unsafe-variable error. */
static int key_value(struct ev *ev, struct term *t, struct val **out)
{
	if (t->kind == T_VALUE) {
		*out = vref(t->v);
		return 0;
	}
	int rc = ev_term1(ev, t, out);
	if (rc == 1)
		return 0;
	if (rc == 0)
		return 1;
	if (rc < 0)
		return rc;
	return ev_error(ev, -EINVAL, EC_UNSAFE, "line %d: object keys in unification must be ground", t->line);
}

struct match_items {
	struct term **items;
	struct val **vals;
	size_t n, i;
	cont_fn k;
	void *arg;
};

static int match_items_next(struct ev *ev, void *arg)
{
	struct match_items *m = arg;
	if (m->i == m->n)
		return m->k(ev, m->arg);
	size_t i = m->i++;
	int rc = match(ev, m->items[i], m->vals[i], match_items_next, m);
	m->i = i;
	return rc;
}

struct eqk {
	struct val *want;
	cont_fn k;
	void *arg;
};

static int eq_cont(struct ev *ev, struct val *v, void *arg)
{
	struct eqk *q = arg;
	if (!val_equal(v, q->want))
		return 0;
	return q->k(ev, q->arg);
}

/* Binds the unbound variables of pattern @t so that it equals @v. */
static int match(struct ev *ev, struct term *t, struct val *v, cont_fn k, void *arg)
{
	switch (t->kind) {
	case T_VAR:
		if (unbound_var(ev, t)) {
			size_t mark = ev->ntrail;
			int rc = ev_bind(ev, t->name, v);
			if (rc == 0)
				rc = k(ev, arg);
			ev_undo(ev, mark);
			return rc;
		}
		break;
	case T_ARRAY:
		if (evaluable(ev, t))
			break;
		if (v->kind != VAL_ARRAY || v->arr.n != t->n)
			return 0;
		{
			struct match_items m = { t->items, v->arr.items, t->n, 0, k, arg };
			return match_items_next(ev, &m);
		}
	case T_OBJECT:
		if (evaluable(ev, t))
			break;
		if (v->kind != VAL_OBJECT || v->obj.n != t->n / 2)
			return 0;
		{
			/* keys must be ground; look each up */
			size_t n = t->n / 2;
			struct term **pats = calloc(n ? n : 1, sizeof(*pats));
			struct val **vals = calloc(n ? n : 1, sizeof(*vals));
			int rc = 0;
			if (!pats || !vals) {
				free(pats);
				free(vals);
				return -ENOMEM;
			}
			for (size_t i = 0; i < n && rc == 0; i++) {
				struct val *kv;
				rc = key_value(ev, t->items[2 * i], &kv);
				if (rc != 0)
					break;
				struct val *x = val_object_get(v, kv);
				vunref(kv);
				if (!x) {
					rc = 1;
					break;
				}
				pats[i] = t->items[2 * i + 1];
				vals[i] = x;
			}
			if (rc == 0) {
				struct match_items m = { pats, vals, n, 0, k, arg };
				rc = match_items_next(ev, &m);
			} else if (rc == 1) {
				rc = 0;
			}
			free(pats);
			free(vals);
			return rc;
		}
	default:
		break;
	}
	struct eqk q = { v, k, arg };
	return ev_term(ev, t, eq_cont, &q);
}

/* ----------------------------------------------------------- unify */

struct unify_st {
	struct term *other;
	cont_fn k;
	void *arg;
};

static int unify_val(struct ev *ev, struct val *v, void *arg)
{
	struct unify_st *u = arg;
	return match(ev, u->other, v, u->k, u->arg);
}

struct unify_items {
	struct term **a, **b;
	size_t n, i;
	cont_fn k;
	void *arg;
};

static int unify_items_next(struct ev *ev, void *arg)
{
	struct unify_items *u = arg;
	if (u->i == u->n)
		return u->k(ev, u->arg);
	size_t i = u->i++;
	int rc = ev_unify(ev, u->a[i], u->b[i], unify_items_next, u);
	u->i = i;
	return rc;
}

int ev_unify(struct ev *ev, struct term *a, struct term *b, cont_fn k, void *arg)
{
	if (a->kind == T_ARRAY && b->kind == T_ARRAY && !(evaluable(ev, a) && evaluable(ev, b))) {
		if (a->n != b->n)
			return 0;
		struct unify_items u = { a->items, b->items, a->n, 0, k, arg };
		return unify_items_next(ev, &u);
	}
	if (a->kind == T_OBJECT && b->kind == T_OBJECT && !(evaluable(ev, a) && evaluable(ev, b))) {
		if (a->n != b->n)
			return 0;
		size_t n = a->n / 2;
		struct term **pa = calloc(n ? n : 1, sizeof(*pa)), **pb = calloc(n ? n : 1, sizeof(*pb));
		struct val **ka = calloc(2 * n + 1, sizeof(*ka));
		int rc = 0;
		if (!pa || !pb || !ka) {
			free(pa);
			free(pb);
			free(ka);
			return -ENOMEM;
		}
		struct val **kb = ka + n;
		for (size_t i = 0; i < n && rc == 0; i++) {
			rc = key_value(ev, a->items[2 * i], &ka[i]);
			if (rc == 0)
				rc = key_value(ev, b->items[2 * i], &kb[i]);
		}
		for (size_t i = 0; i < n && rc == 0; i++) {
			size_t j;
			for (j = 0; j < n; j++)
				if (val_equal(kb[j], ka[i]))
					break;
			if (j == n)
				rc = 1;
			else {
				pa[i] = a->items[2 * i + 1];
				pb[i] = b->items[2 * j + 1];
			}
		}
		if (rc == 0) {
			struct unify_items ui = { pa, pb, n, 0, k, arg };
			rc = unify_items_next(ev, &ui);
		} else if (rc == 1) {
			rc = 0;
		}
		for (size_t i = 0; i < 2 * n; i++)
			vunref(ka[i]);
		free(ka);
		free(pa);
		free(pb);
		return rc;
	}
	struct unify_st u = { b, k, arg };
	if (evaluable(ev, a) && !(unbound_var(ev, b) == false && !evaluable(ev, b) && 0))
		return ev_term(ev, a, unify_val, &u);
	if (evaluable(ev, b)) {
		u.other = a;
		return ev_term(ev, b, unify_val, &u);
	}
	return ev_error(ev, -EINVAL, EC_UNSAFE, "line %d: var is unsafe in unification", a->line);
}

/* --------------------------------------------------------- composites */

struct comp_st {
	struct term *t;
	struct val **vals;
	size_t i;
	vcont_fn k;
	void *arg;
};

static int comp_build(struct ev *ev, struct comp_st *c)
{
	struct term *t = c->t;
	struct val *out = NULL;
	int rc = 0;
	if (t->kind == T_ARRAY) {
		out = val_array_new(t->n);
		for (size_t i = 0; out && i < t->n && rc == 0; i++)
			rc = val_array_push(out, vref(c->vals[i]));
	} else if (t->kind == T_SET) {
		out = val_set_new(t->n);
		for (size_t i = 0; out && i < t->n && rc == 0; i++)
			rc = val_set_add(out, vref(c->vals[i]));
	} else {
		out = val_object_new(t->n / 2);
		for (size_t i = 0; out && i + 1 < t->n && rc == 0; i += 2)
			rc = val_object_put(out, vref(c->vals[i]), vref(c->vals[i + 1]));
	}
	if (!out || rc < 0) {
		vunref(out);
		return -ENOMEM;
	}
	rc = c->k(ev, out, c->arg);
	vunref(out);
	return rc;
}

static int comp_next(struct ev *ev, struct comp_st *c);

static int comp_item(struct ev *ev, struct val *v, void *arg)
{
	struct comp_st *c = arg;
	size_t i = c->i;
	c->vals[i] = v;
	c->i = i + 1;
	int rc = comp_next(ev, c);
	c->i = i;
	return rc;
}

static int comp_next(struct ev *ev, struct comp_st *c)
{
	if (c->i == c->t->n)
		return comp_build(ev, c);
	return ev_term(ev, c->t->items[c->i], comp_item, c);
}

static int ev_composite(struct ev *ev, struct term *t, vcont_fn k, void *arg)
{
	struct val *small[16];
	struct val **vals = t->n <= 16 ? small : calloc(t->n, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	struct comp_st c = { t, vals, 0, k, arg };
	int rc = comp_next(ev, &c);
	if (vals != small)
		free(vals);
	return rc;
}

/* ------------------------------------------------------ comprehensions */

struct collect {
	struct term *t;
	struct val *out;
};

struct collect_kv {
	struct collect *c;
	struct val *key;
};

static int collect_val(struct ev *ev, struct val *v, void *arg)
{
	(void)ev;
	struct collect *c = arg;
	if (c->t->kind == T_ACOMP)
		return val_array_push(c->out, vref(v));
	return val_set_add(c->out, vref(v));
}

static int collect_ov(struct ev *ev, struct val *v, void *arg)
{
	struct collect_kv *kv = arg;
	struct val *old = val_object_get(kv->c->out, kv->key);
	if (old) {
		if (!val_equal(old, v))
			return ev_error(ev, -EINVAL, EC_CONFLICT, "object keys must be unique");
		return 0;
	}
	return val_object_put(kv->c->out, vref(kv->key), vref(v));
}

static int collect_ok(struct ev *ev, struct val *v, void *arg)
{
	struct collect_kv kv = { arg, v };
	return ev_term(ev, ((struct collect *)arg)->t->items[1], collect_ov, &kv);
}

static int collect_sol(struct ev *ev, void *arg)
{
	struct collect *c = arg;
	if (c->t->kind == T_OCOMP)
		return ev_term(ev, c->t->items[0], collect_ok, c);
	return ev_term(ev, c->t->items[0], collect_val, c);
}

static int ev_comprehension(struct ev *ev, struct term *t, vcont_fn k, void *arg)
{
	struct collect c = { t, NULL };
	c.out = t->kind == T_ACOMP ? val_array_new(4) : t->kind == T_SCOMP ? val_set_new(4) : val_object_new(4);
	if (!c.out)
		return -ENOMEM;
	size_t mark = ev->ntrail;
	int rc = ev_body(ev, t->body, 0, collect_sol, &c);
	ev_undo(ev, mark);
	if (rc == 0)
		rc = k(ev, c.out, arg);
	vunref(c.out);
	return rc;
}

/* ----------------------------------------------------------- refs */

struct ops_st {
	struct term **ops;
	size_t n;
	vcont_fn k;
	void *arg;
	bool base; /* walking a base document: see base_child */
};

struct val *base_child(struct val *c, struct val *k)
{
	struct val *x = ev_child(c, k);
	int64_t ik;
	if (!x && c->kind == VAL_OBJECT && k->kind == VAL_NUMBER && num_is_int(k, &ik)) {
		char t[24];
		snprintf(t, sizeof(t), "%lld", (long long)ik);
		x = val_object_get_cstr(c, t);
	}
	return x;
}

static int apply_ops(struct ev *ev, struct val *v, struct ops_st *o, size_t i);

/* apply_ops from a base document on: every later operand reads base data. */
static int apply_ops_base(struct ev *ev, struct val *v, struct ops_st *o, size_t i)
{
	bool was = o->base;
	o->base = true;
	int rc = apply_ops(ev, v, o, i);
	o->base = was;
	return rc;
}

struct iter_st {
	struct ops_st *o;
	size_t i;
	struct term *op;
};

static int iter_kv(struct ev *ev, struct val *key, struct val *v, void *arg);

struct iter_k2 {
	struct iter_st *it;
	struct val *v;
};

static int iter_after_match(struct ev *ev, void *arg)
{
	struct iter_k2 *k2 = arg;
	return apply_ops(ev, k2->v, k2->it->o, k2->it->i + 1);
}

static int iter_kv(struct ev *ev, struct val *key, struct val *v, void *arg)
{
	struct iter_st *it = arg;
	struct iter_k2 k2 = { it, v };
	int rc = ev_step(ev);
	if (rc < 0)
		return rc;
	return match(ev, it->op, key, iter_after_match, &k2);
}

struct key_st {
	struct ops_st *o;
	size_t i;
	struct val *coll;
};

static int key_cont(struct ev *ev, struct val *key, void *arg)
{
	struct key_st *ks = arg;
	struct val *c = ks->o->base ? base_child(ks->coll, key) : ev_child(ks->coll, key);
	if (!c)
		return 0;
	return apply_ops(ev, c, ks->o, ks->i + 1);
}

static int apply_ops(struct ev *ev, struct val *v, struct ops_st *o, size_t i)
{
	if (i == o->n)
		return o->k(ev, v, o->arg);
	struct term *op = o->ops[i];
	if (evaluable(ev, op)) {
		if (op->kind == T_VALUE) {
			struct val *c = o->base ? base_child(v, op->v) : ev_child(v, op->v);
			return c ? apply_ops(ev, c, o, i + 1) : 0;
		}
		struct key_st ks = { o, i, v };
		return ev_term(ev, op, key_cont, &ks);
	}
	struct iter_st it = { o, i, op };
	return ev_each_kv(ev, v, iter_kv, &it);
}

/* Virtual documents. */
static int node_value(struct ev *ev, struct node *n, struct val *base, struct val **out);

static int ev_data(struct ev *ev, struct node *n, struct val *base, struct ops_st *o, size_t i);

static struct val *path_override(struct ev *ev, struct val *path, bool *deeper)
{
	struct val *found = NULL;
	*deeper = false;
	for (size_t w = 0; w < ev->nwo; w++) {
		struct wover *x = &ev->wo[w];
		if (x->kind != 1)
			continue;
		size_t pn = x->path->arr.n, qn = path->arr.n;
		size_t m = pn < qn ? pn : qn;
		bool pre = true;
		for (size_t j = 0; j < m && pre; j++)
			pre = val_equal(x->path->arr.items[j], path->arr.items[j]);
		if (!pre)
			continue;
		if (pn <= qn) {
			/* override at or above: navigate into it */
			struct val *v = x->v;
			for (size_t j = pn; j < qn && v; j++)
				v = ev_child(v, path->arr.items[j]);
			found = v ? v : NULL;
			if (!v)
				found = NULL;
			return found ? found : (struct val *)-1;
		}
		*deeper = true;
	}
	return NULL;
}

struct data_key {
	struct node *n;
	struct val *base;
	struct ops_st *o;
	size_t i;
};

static int data_key_cont(struct ev *ev, struct val *key, void *arg)
{
	struct data_key *dk = arg;
	struct node *c = NULL;
	if (key->kind == VAL_STRING && dk->n)
		c = node_child(dk->n, key->str.s);
	struct val *b = dk->base ? base_child(dk->base, key) : NULL;
	if (c && !c->has_func)
		return ev_data(ev, c, b, dk->o, dk->i + 1);
	if (c && c->has_func) {
		struct val *fv = NULL;
		int rc = rego_func0_value(ev, c, &fv);
		if (rc < 0 || !fv)
			return rc;
		rc = apply_ops(ev, fv, dk->o, dk->i + 1);
		vunref(fv);
		return rc;
	}
	if (ev->nwo && key->kind == VAL_STRING)
		return ev_data(ev, NULL, b, dk->o, dk->i + 1);
	if (!b)
		return 0;
	return apply_ops_base(ev, b, dk->o, dk->i + 1);
}

/* Path of the ref walked so far, for `with data.x` overrides. */
static struct val *data_path(struct ops_st *o, size_t i)
{
	struct val *p = val_array_new(i);
	for (size_t j = 0; p && j < i; j++)
		if (val_array_push(p, vref(o->ops[j]->v)) < 0)
			return NULL;
	return p;
}

static struct val *set_path(struct val *doc, struct val *path, size_t i, struct val *v);

/* Applies `with data...` overrides below @path to @v (may be NULL).
 * Returns a new reference, or NULL when still undefined. */
static struct val *patch_deeper(struct ev *ev, struct val *path, struct val *v)
{
	struct val *cur = v ? vref(v) : NULL;
	for (size_t w = 0; w < ev->nwo; w++) {
		struct wover *x = &ev->wo[w];
		if (x->kind != 1 || x->path->arr.n <= path->arr.n)
			continue;
		bool pre = true;
		for (size_t j = 0; j < path->arr.n && pre; j++)
			pre = val_equal(x->path->arr.items[j], path->arr.items[j]);
		if (!pre)
			continue;
		struct val *nv = set_path(cur, x->path, path->arr.n, x->v);
		vunref(cur);
		cur = nv;
	}
	return cur;
}

static int ev_data(struct ev *ev, struct node *n, struct val *base, struct ops_st *o, size_t i)
{
	int rc;
	bool deeper = false;
	struct val *path = NULL;
	if (ev->nwo) {
		/* overrides: only constant prefixes are tracked */
		bool all_const = true;
		for (size_t j = 0; j < i; j++)
			if (o->ops[j]->kind != T_VALUE)
				all_const = false;
		if (all_const) {
			path = data_path(o, i);
			if (!path)
				return -ENOMEM;
			struct val *ov = path_override(ev, path, &deeper);
			if (ov == (struct val *)-1) {
				vunref(path);
				return 0;
			}
			if (ov) {
				vunref(path);
				return apply_ops(ev, ov, o, i);
			}
		}
	}
	struct val *v = NULL;
	bool from_base = false;
	bool whole = !n || n->rules || n->dflt || i == o->n || !evaluable(ev, o->ops[i]);
	if (!whole && deeper) {
		/* an override lives below: descend only if the key is constant */
		whole = o->ops[i]->kind != T_VALUE;
	}
	if (!whole) {
		vunref(path);
		struct term *op = o->ops[i];
		struct data_key dk = { n, base, o, i };
		if (op->kind == T_VALUE)
			return data_key_cont(ev, op->v, &dk);
		return ev_term(ev, op, data_key_cont, &dk);
	}
	if (n) {
		rc = node_value(ev, n, base, &v);
		if (rc < 0) {
			vunref(path);
			return rc;
		}
	} else if (base) {
		v = vref(base);
		from_base = true;
	}
	if (deeper && path) {
		struct val *pv = patch_deeper(ev, path, v);
		vunref(v);
		v = pv;
	}
	vunref(path);
	if (!v)
		return 0;
	rc = from_base ? apply_ops_base(ev, v, o, i) : apply_ops(ev, v, o, i);
	vunref(v);
	return rc;
}

static int node_value(struct ev *ev, struct node *n, struct val *base, struct val **out)
{
	return rego_eval_node_value(ev, n, base, out);
}

static int head_cont(struct ev *ev, struct val *v, void *arg)
{
	return apply_ops(ev, v, arg, 0);
}

static int ev_ref(struct ev *ev, struct term *t, vcont_fn k, void *arg)
{
	struct term *h = t->items[0];
	struct ops_st o = { t->items + 1, t->n - 1, k, arg, false };
	if (h->kind == T_VAR && h->name == ev->r->a_data) {
		if (t->dnode && !ev->nwo) {
			/* the constant prefix was resolved to a node (and its base
			 * document) at compile time */
			if (t->dbase) {
				/* as data_key_cont without a node */
				struct val *b = t->dnode->base ? base_child(t->dnode->base, o.ops[t->dn]->v) : NULL;
				return b ? apply_ops_base(ev, b, &o, t->dn + 1) : 0;
			}
			return ev_data(ev, t->dnode, t->dnode->base, &o, t->dn);
		}
		return ev_data(ev, ev->r->root, ev->r->data, &o, 0);
	}
	if (h->kind == T_VAR && h->name == ev->r->a_input) {
		if (!ev->input)
			return 0;
		return apply_ops(ev, ev->input, &o, 0);
	}
	if (h->kind == T_VAR) {
		struct bind *b = ev_lookup(ev, h->name);
		if (!b || !b->v)
			return ev_error(ev, -EINVAL, EC_UNSAFE, "line %d: var %s is unsafe", t->line, h->name);
		return apply_ops(ev, b->v, &o, 0);
	}
	return ev_term(ev, h, head_cont, &o);
}

/* ------------------------------------------------------------ calls */

struct call_st {
	struct term *t;
	struct val *vals[8];
	unsigned char order[8]; /* argument evaluated at step i */
	size_t nin, i;
	struct term *out_term;
	vcont_fn k;
	void *arg;
	struct val *result;
};

static int call_out_matched(struct ev *ev, void *arg)
{
	struct call_st *c = arg;
	return c->k(ev, val_bool(true), c->arg);
}


static int call_invoke(struct ev *ev, struct call_st *c)
{
	struct val *res = NULL;
	bool found = false;
	int rc = ev_dispatch(ev, c->t->name, c->t->fnode, c->t->bi, c->vals, c->nin, &res, c->t->line, &found);
	if (rc < 0 || !res)
		return rc < 0 ? rc : 0;
	const struct builtin_decl *bi = c->t->bi;
	if (builtin_is_relation(bi) && res->kind == VAL_ARRAY) {
		for (size_t i = 0; i < res->arr.n && rc == 0; i++) {
			struct val *x = res->arr.items[i];
			rc = c->out_term ? match(ev, c->out_term, x, call_out_matched, c) : c->k(ev, x, c->arg);
		}
		vunref(res);
		return rc;
	}
	if (c->out_term)
		rc = match(ev, c->out_term, res, call_out_matched, c);
	else
		rc = c->k(ev, res, c->arg);
	vunref(res);
	return rc;
}

static int call_arg(struct ev *ev, struct val *v, void *arg)
{
	struct call_st *c = arg;
	size_t i = c->i;
	c->vals[c->order[i]] = v;
	c->i = i + 1;
	int rc = c->i == c->nin ? call_invoke(ev, c) : ev_term(ev, c->t->items[c->order[c->i]], call_arg, c);
	c->i = i;
	return rc;
}

static size_t func_arity(struct ev *ev, struct term *t, bool *known)
{
	*known = true;
	if (t->fnode && t->fnode->rules)
		return t->fnode->rules->nargs;
	if (t->fnode && t->fnode->dflt)
		return t->fnode->dflt->nargs;
	const struct builtin_decl *d = t->bi ? t->bi : builtin_find(t->name);
	if (d)
		return d->nargs;
	(void)ev;
	*known = false;
	return t->n;
}

static int ev_call(struct ev *ev, struct term *t, vcont_fn k, void *arg)
{
	struct call_st c = { .t = t, .k = k, .arg = arg };
	bool known;
	size_t ar = func_arity(ev, t, &known);
	if (!known && !t->fnode) {
		/* maybe a with-replaced name; else unknown */
		bool rep = false;
		for (size_t w = 0; w < ev->nwo; w++)
			if (ev->wo[w].kind == 2 && ev->wo[w].fname == t->name)
				rep = true;
		if (!rep)
			return ev_error(ev, -EINVAL, "rego_type_error", "line %d: undefined function %s", t->line, t->name);
	}
	if (t->n == ar + 1) {
		c.out_term = t->items[ar];
		c.nin = ar;
	} else if (t->n == ar) {
		c.nin = ar;
	} else {
		return ev_error(ev, -EINVAL, "rego_type_error", "line %d: %s: arity mismatch", t->line, t->name);
	}
	if (c.nin > ARRAY_SIZE(c.vals))
		return ev_error(ev, -E2BIG, EC_LIMIT, "too many arguments");
	if (c.nin == 0)
		return call_invoke(ev, &c);
	/* An unbound variable argument is evaluated after the others, which
	 * may bind it: `x == input.xs[x]` enumerates x through the ref (OPA
	 * treats variables in ref operands as outputs). */
	size_t no = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c.nin; i++) {
			struct term *a = t->items[i];
			struct bind *b = a->kind == T_VAR && !ev_is_root(ev, a->name) ? ev_lookup(ev, a->name) : NULL;
			bool late = a->kind == T_VAR && !ev_is_root(ev, a->name) && (!b || !b->v);
			if (late == (pass == 1))
				c.order[no++] = (unsigned char)i;
		}
	return ev_term(ev, t->items[c.order[0]], call_arg, &c);
}

int ev_dispatch(struct ev *ev, const char *name, struct node *fn, const struct builtin_decl *bi, struct val **args,
		    size_t n, struct val **out, int line, bool *found)
{
	/* `with` replacements, innermost first */
	for (size_t w = ev->nwo; w > 0; w--) {
		struct wover *x = &ev->wo[w - 1];
		if (x->kind != 2)
			continue;
		if (x->fname == name || (fn && x->fname == fn->fullname)) {
			if (x->v) {
				*out = vref(x->v);
				return 0;
			}
			/* replacement function: OPA calls it with no function
			 * replaced at all (a mock never calls another mock); the
			 * hidden overrides are marked 3 and restored after */
			struct wover saved = *x;
			size_t nhide = ev->nwo; /* overrides pushed inside are popped inside */
			bool *hid = calloc(nhide, sizeof(*hid));
			if (!hid)
				return -ENOMEM;
			for (size_t j = 0; j < nhide; j++)
				if (ev->wo[j].kind == 2) {
					ev->wo[j].kind = 3;
					hid[j] = true;
				}
			struct node *rfn = saved.fterm ? saved.fterm->fnode : NULL;
			int rc = ev_dispatch(ev, saved.fname == name && !rfn ? saved.fterm->name : (rfn ? rfn->fullname : saved.fterm->name),
					  rfn, NULL, args, n, out, line, found);
			for (size_t j = 0; j < nhide; j++)
				if (hid[j])
					ev->wo[j].kind = 2;
			free(hid);
			return rc;
		}
	}
	*found = true;
	if (fn)
		return ev_call_func(ev, fn, args, n, out);
	const struct builtin_decl *d = bi ? bi : builtin_find(name);
	if (!d) {
		struct node *f2 = rego_find_func(ev->r, name);
		if (f2)
			return ev_call_func(ev, f2, args, n, out);
		return ev_error(ev, -EINVAL, "rego_type_error", "line %d: undefined function %s", line, name);
	}
	int rc = d->fn(ev, args, out);
	if (rc < 0 && rc != -ENOMEM && ev->ecode && (strcmp(ev->ecode, EC_BUILTIN) == 0 || strcmp(ev->ecode, EC_TYPE) == 0) && !ev->strict) {
		ev->ecode = NULL;
		if (ev->err)
			err_clear(ev->err);
		*out = NULL;
		return 0;
	}
	if (rc == 1) {
		*out = NULL;
		return 0;
	}
	return rc;
}

/* --------------------------------------------------------- templates */

static int first_val(struct ev *ev, struct val *v, void *arg)
{
	struct val **out = arg;
	(void)ev;
	*out = vref(v);
	return EV_STOP;
}

/* Template strings: each expression contributes its first value (strings
 * raw, other values in Rego text form), "<undefined>" when it has none. */
static int ev_template(struct ev *ev, struct term *t, vcont_fn k, void *arg)
{
	struct buf b = BUF_INIT;
	int rc = 0;
	for (size_t i = 0; i < t->n && rc >= 0; i++) {
		struct term *p = t->items[i];
		if ((i % 2) == 0 && p->kind == T_VALUE && p->v->kind == VAL_STRING) {
			buf_add(&b, p->v->str.s, p->v->str.len);
			continue;
		}
		struct val *v = NULL;
		rc = ev_term(ev, p, first_val, &v);
		if (rc < 0)
			break;
		rc = 0;
		if (!v)
			buf_addstr(&b, "<undefined>");
		else if (v->kind == VAL_STRING)
			buf_add(&b, v->str.s, v->str.len);
		else
			val_to_text(v, &b);
		vunref(v);
	}
	if (rc >= 0) {
		struct val *v = buf_error(&b) ? NULL : val_string(b.p, b.len);
		rc = v ? k(ev, v, arg) : -ENOMEM;
		vunref(v);
	}
	buf_release(&b);
	return rc;
}

/* ------------------------------------------------------------ terms */

int ev_term(struct ev *ev, struct term *t, vcont_fn k, void *arg)
{
	switch (t->kind) {
	case T_VALUE:
		return k(ev, t->v, arg);
	case T_VAR: {
		if (t->name == ev->r->a_input)
			return ev->input ? k(ev, ev->input, arg) : 0;
		if (t->name == ev->r->a_data) {
			struct ops_st o = { NULL, 0, k, arg, false };
			return ev_data(ev, ev->r->root, ev->r->data, &o, 0);
		}
		struct bind *b = ev_lookup(ev, t->name);
		if (!b || !b->v)
			return ev_error(ev, -EINVAL, EC_UNSAFE, "line %d: var %s is unsafe", t->line,
					t->name[0] == '$' ? "_" : t->name);
		return k(ev, b->v, arg);
	}
	case T_REF:
	case T_CALL: {
		struct val *v = NULL;
		int rc = t->kind == T_REF ? ev_ref1(ev, t, &v) : ev_call1(ev, t, &v);
		if (rc == 1) {
			rc = k(ev, v, arg);
			vunref(v);
			return rc;
		}
		if (rc != EV_GENERAL)
			return rc;
		return t->kind == T_REF ? ev_ref(ev, t, k, arg) : ev_call(ev, t, k, arg);
	}
	case T_ARRAY:
	case T_SET:
	case T_OBJECT:
		return ev_composite(ev, t, k, arg);
	case T_ACOMP:
	case T_SCOMP:
	case T_OCOMP:
		return ev_comprehension(ev, t, k, arg);
	case T_TEMPLATE:
		return ev_template(ev, t, k, arg);
	}
	return -EINVAL;
}

/* Returns a copy of @doc with @v stored at @path[i..]. */
static struct val *set_path(struct val *doc, struct val *path, size_t i, struct val *v)
{
	if (i == path->arr.n)
		return vref(v);
	struct val *key = path->arr.items[i];
	struct val *o = val_object_new(doc && doc->kind == VAL_OBJECT ? doc->obj.n + 1 : 1);
	if (!o)
		return NULL;
	if (doc && doc->kind == VAL_OBJECT)
		for (size_t j = 0; j < doc->obj.n; j++)
			if (val_object_put(o, vref(doc->obj.keys[j]), vref(doc->obj.vals[j])) < 0)
				goto fail;
	struct val *sub = set_path(doc && doc->kind == VAL_OBJECT ? val_object_get(doc, key) : NULL, path, i + 1, v);
	if (!sub || val_object_put(o, vref(key), sub) < 0)
		goto fail;
	return o;
fail:
	vunref(o);
	return NULL;
}

struct val *rego_set_path(struct val *doc, struct val *path, struct val *v)
{
	return set_path(doc, path, 0, v);
}

int ev_match_pub(struct ev *ev, struct term *t, struct val *v, cont_fn k, void *arg)
{
	return match(ev, t, v, k, arg);
}
