/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evaluator, bodies: the general path of one expression of a body (the
 * cases direct.c leaves to it): unification and assignment, some/some-in,
 * every, and/or, `not`, and `with` modifiers, which install overrides for
 * one expression and run the rest of the body without them. Kept apart
 * from eval.c, which evaluates terms (patterns, refs, calls, comprehensions),
 * so that each reads in one sitting; continuation protocol as in eval.c.
 */
#include "internal.h"

struct body_st {
	struct body *b;
	size_t i;
	cont_fn k;
	void *arg;
};

static int body_next(struct ev *ev, void *arg)
{
	struct body_st *s = arg;
	return ev_body(ev, s->b, s->i + 1, s->k, s->arg);
}

static int truthy(struct ev *ev, struct val *v, void *arg)
{
	struct body_st *s = arg;
	if (v->kind == VAL_BOOL && !v->b)
		return 0;
	return s->k == NULL ? EV_STOP : body_next(ev, s);
}

static int stop_cont(struct ev *ev, void *arg)
{
	(void)ev;
	(void)arg;
	return EV_STOP;
}

/* Declares the variables of a pattern term (fresh, shadowing outer ones). */
static int declare_vars(struct ev *ev, struct term *t)
{
	int rc = 0;
	switch (t->kind) {
	case T_VAR:
		if (!ev_is_root(ev, t->name))
			rc = ev_bind(ev, t->name, NULL);
		break;
	case T_ARRAY:
	case T_OBJECT:
	case T_SET:
		for (size_t i = 0; i < t->n && rc == 0; i++)
			if (t->kind != T_OBJECT || i % 2 == 1)
				rc = declare_vars(ev, t->items[i]);
		break;
	default:
		break;
	}
	return rc;
}

struct somein_st {
	struct expr *x;
	struct body_st *s;
	struct val *v;
};

static int somein_after_key(struct ev *ev, void *arg)
{
	struct somein_st *si = arg;
	return ev_match_pub(ev, si->x->b, si->v, body_next, si->s);
}

static int somein_kv(struct ev *ev, struct val *k, struct val *v, void *arg)
{
	struct somein_st *si = arg;
	int rc = ev_step(ev);
	if (rc < 0)
		return rc;
	si->v = v;
	if (si->x->a)
		return ev_match_pub(ev, si->x->a, k, somein_after_key, si);
	return ev_match_pub(ev, si->x->b, v, body_next, si->s);
}

static int somein_coll(struct ev *ev, struct val *c, void *arg)
{
	struct somein_st si = { ((struct somein_st *)arg)->x, ((struct somein_st *)arg)->s, NULL };
	return ev_each_kv(ev, c, somein_kv, &si);
}

struct every_st {
	struct expr *x;
	bool ok, defined;
};

static int every_kv(struct ev *ev, struct val *k, struct val *v, void *arg)
{
	struct every_st *es = arg;
	size_t mark = ev->ntrail;
	int rc = 0;
	/* variables are bound fresh (a plain variable directly to its value,
	 * a pattern's variables declared unbound) */
	struct term *ka = es->x->a, *va = es->x->b;
	if (ka)
		rc = ka->kind == T_VAR ? (ev_is_root(ev, ka->name) ? 0 : ev_bind(ev, ka->name, k)) : declare_vars(ev, ka);
	if (rc == 0)
		rc = va->kind == T_VAR ? (ev_is_root(ev, va->name) ? 0 : ev_bind(ev, va->name, v)) : declare_vars(ev, va);
	if (rc == 0)
		rc = ev_body(ev, es->x->body, 0, stop_cont, NULL);
	ev_undo(ev, mark);
	if (rc < 0)
		return rc;
	if (rc != EV_STOP) {
		es->ok = false;
		return EV_STOP;
	}
	return 0;
}

static int every_coll(struct ev *ev, struct val *c, void *arg)
{
	struct every_st *es = arg;
	es->defined = true;
	if (c->kind != VAL_ARRAY && c->kind != VAL_SET && c->kind != VAL_OBJECT) {
		es->ok = false;
		return EV_STOP;
	}
	int rc = ev_each_kv(ev, c, every_kv, es);
	if (rc < 0)
		return rc;
	return EV_STOP; /* first value of the domain only */
}

static int ev_expr_plain(struct ev *ev, struct expr *x, struct body_st *s)
{
	size_t mark = ev->ntrail;
	int rc = 0;
	switch (x->kind) {
	case E_TERM:
		rc = ev_term(ev, x->a, truthy, s);
		break;
	case E_UNIFY:
		rc = ev_unify(ev, x->a, x->b, body_next, s);
		break;
	case E_ASSIGN:
		rc = declare_vars(ev, x->a);
		if (rc == 0)
			rc = ev_unify(ev, x->a, x->b, body_next, s);
		break;
	case E_SOME:
		for (size_t i = 0; i < x->nvars && rc == 0; i++)
			rc = ev_bind(ev, x->vars[i]->name, NULL);
		if (rc == 0)
			rc = body_next(ev, s);
		break;
	case E_SOME_IN: {
		if (x->a)
			rc = declare_vars(ev, x->a);
		if (rc == 0)
			rc = declare_vars(ev, x->b);
		struct somein_st si = { x, s, NULL };
		if (rc == 0)
			rc = ev_term(ev, x->c, somein_coll, &si);
		break;
	}
	case E_AND:
	case E_OR:
		rc = ev_body(ev, x->body, 0, stop_cont, NULL);
		ev_undo(ev, mark);
		if (rc < 0)
			break;
		if (x->kind == E_AND ? rc == EV_STOP : rc != EV_STOP) {
			rc = ev_body(ev, x->body2, 0, stop_cont, NULL);
			ev_undo(ev, mark);
			if (rc < 0)
				break;
		}
		if (rc == EV_STOP)
			rc = body_next(ev, s);
		break;
	case E_BODY:
		rc = ev_body(ev, x->body, 0, stop_cont, NULL);
		if (rc == EV_STOP)
			rc = body_next(ev, s);
		break;
	case E_EVERY: {
		struct every_st es = { x, true, false };
		bool any = false;
		(void)any;
		rc = ev_term(ev, x->c, every_coll, &es);
		if (rc == EV_STOP || rc == 0) {
			if (rc == 0) {
				/* undefined domain: every is vacuously true */
			}
			rc = es.ok && es.defined ? body_next(ev, s) : 0;
		}
		break;
	}
	}
	ev_undo(ev, mark);
	return rc;
}

static int ev_expr_neg(struct ev *ev, struct expr *x, struct body_st *s)
{
	if (!x->negated)
		return ev_expr_plain(ev, x, s);
	struct body_st probe = { NULL, 0, NULL, NULL };
	struct body one = { &x, 1 };
	struct expr copy = *x;
	copy.negated = false;
	copy.nwith = 0;
	struct expr *cp = &copy;
	one.e = &cp;
	(void)probe;
	size_t mark = ev->ntrail;
	int rc = ev_body(ev, &one, 0, stop_cont, NULL);
	ev_undo(ev, mark);
	if (rc < 0)
		return rc;
	if (rc == EV_STOP)
		return 0;
	return body_next(ev, s);
}

/* `with`: install overrides for this expression only. The continuation
 * (the rest of the body) runs with them removed again, with the outer
 * memo table and input. */
struct with_st {
	struct body_st *s;
	size_t nwo_before;
	struct val **outer_memo;
	bool *outer_busy;
	struct val *outer_input;
};

static int with_rest(struct ev *ev, void *arg)
{
	struct with_st *w = arg;
	size_t n = ev->nwo - w->nwo_before;
	struct wover *tmp = malloc((n ? n : 1) * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	if (n)
		memcpy(tmp, ev->wo + w->nwo_before, n * sizeof(*tmp));
	ev->nwo = w->nwo_before;
	struct val **im = ev->memo;
	bool *ib = ev->busy;
	struct val *ii = ev->input;
	ev->memo = w->outer_memo;
	ev->busy = w->outer_busy;
	ev->input = w->outer_input;
	int rc = body_next(ev, w->s);
	ev->memo = im;
	ev->busy = ib;
	ev->input = ii;
	if (n)
		memcpy(ev->wo + w->nwo_before, tmp, n * sizeof(*tmp));
	ev->nwo = w->nwo_before + n;
	free(tmp);
	return rc;
}

static int with_val(struct ev *ev, struct val *v, void *arg)
{
	struct val **out = arg;
	(void)ev;
	*out = vref(v);
	return EV_STOP;
}

static struct val *term_path(struct term *t, const char **root)
{
	struct val *p = val_array_new(4);
	if (!p)
		return NULL;
	if (t->kind == T_VAR) {
		*root = t->name;
		return p;
	}
	if (t->kind != T_REF || t->items[0]->kind != T_VAR) {
		vunref(p);
		return NULL;
	}
	*root = t->items[0]->name;
	for (size_t i = 1; i < t->n; i++) {
		if (t->items[i]->kind != T_VALUE || val_array_push(p, vref(t->items[i]->v)) < 0) {
			vunref(p);
			return NULL;
		}
	}
	return p;
}


/* "root.a.b" for a ref's root and string path, interned: how functions
 * and built-ins are named. NULL when out of memory. */
static const char *dotted_name(struct ev *ev, const char *root, const struct val *path)
{
	_cleanup_buf_ struct buf nm = BUF_INIT;
	buf_addstr(&nm, root);
	for (size_t j = 0; j < path->arr.n; j++) {
		buf_addch(&nm, '.');
		if (path->arr.items[j]->kind == VAL_STRING)
			buf_add(&nm, path->arr.items[j]->str.s, path->arr.items[j]->str.len);
	}
	return buf_error(&nm) ? NULL : rego_intern(ev->r, nm.p, nm.len);
}

static int push_wo(struct ev *ev, struct wover *w)
{
	if (ev->nwo == ev->capwo) {
		size_t nc = ev->capwo ? ev->capwo * 2 : 8;
		struct wover *nw = realloc(ev->wo, nc * sizeof(*nw));
		if (!nw)
			return -ENOMEM;
		ev->wo = nw;
		ev->capwo = nc;
	}
	ev->wo[ev->nwo++] = *w;
	return 0;
}

/* Internal marker: a `with` value was undefined, so the expression is.
 * Distinct from EV_STOP, which the continuation may return. */
#define WITH_UNDEFINED 2

static int ev_expr_with(struct ev *ev, struct expr *x, struct body_st *s)
{
	size_t before = ev->nwo;
	struct val *saved_input = ev->input ? vref(ev->input) : NULL;
	int rc = 0;
	for (size_t i = 0; i < x->nwith && rc == 0; i++) {
		struct with *w = &x->with[i];
		const char *root = NULL;
		struct val *path = term_path(w->target, &root);
		if (!path) {
			rc = ev_error(ev, -EINVAL, EC_COMPILE, "line %d: invalid with target", x->line);
			break;
		}
		struct wover o = { 0 };
		if (strcmp(root, "input") == 0) {
			struct val *v = NULL;
			rc = ev_term(ev, w->value, with_val, &v);
			if (rc == EV_STOP)
				rc = 0;
			if (rc == 0 && v) {
				struct val *ni = path->arr.n == 0 ? vref(v) : rego_set_path(ev->input, path, v);
				vunref(v);
				if (!ni)
					rc = -ENOMEM;
				else {
					vunref(ev->input);
					ev->input = ni;
				}
			} else if (rc == 0) {
				rc = WITH_UNDEFINED; /* undefined replacement: expression undefined */
			}
			vunref(path);
			continue;
		}
		/* function replacement? */
		const char *fname = dotted_name(ev, root, path);
		if (!fname) {
			vunref(path);
			rc = -ENOMEM;
			break;
		}
		struct node *fnode = rego_find_func(ev->r, fname);
		if (fnode || builtin_find(fname)) {
			o.kind = 2;
			o.fname = fnode ? fnode->fullname : fname;
			o.path = path;
			/* value: function name or a plain value */
			struct term *vt = w->value;
			const char *vroot = NULL;
			struct val *vp = (vt->kind == T_VAR || vt->kind == T_REF) ? term_path(vt, &vroot) : NULL;
			bool isfn = false;
			const char *vname = vp ? dotted_name(ev, vroot, vp) : NULL;
			if (vname) {
				struct node *vf = rego_find_func(ev->r, vname);
				if (vf || builtin_find(vname)) {
					isfn = true;
					struct term *ft = calloc(1, sizeof(*ft));
					if (!ft) {
						rc = -ENOMEM;
					} else {
						ft->kind = T_CALL;
						ft->name = vf ? vf->fullname : vname;
						ft->fnode = vf;
						o.fterm = ft;
					}
				}
			}
			vunref(vp);
			if (!isfn && rc == 0) {
				struct val *v = NULL;
				rc = ev_term(ev, w->value, with_val, &v);
				if (rc == EV_STOP)
					rc = 0;
				o.v = v;
				if (!v && rc == 0) {
					vunref(path);
					rc = WITH_UNDEFINED;
					break;
				}
			}
		} else {
			o.kind = 1;
			o.path = path;
			struct val *v = NULL;
			rc = ev_term(ev, w->value, with_val, &v);
			if (rc == EV_STOP)
				rc = 0;
			if (!v && rc == 0) {
				vunref(path);
				rc = WITH_UNDEFINED;
				break;
			}
			o.v = v;
		}
		if (rc == 0)
			rc = push_wo(ev, &o);
		if (rc < 0) {
			vunref(o.path);
			vunref(o.v);
		}
	}
	if (rc == 0) {
		struct with_st ws = { s, before, ev->memo, ev->busy, saved_input };
		size_t nn = ev->r->nnodes ? ev->r->nnodes : 1;
		struct val **im = calloc(nn, sizeof(*im));
		bool *ib = calloc(nn, sizeof(*ib));
		if (!im || !ib) {
			free(im);
			free(ib);
			rc = -ENOMEM;
		} else {
			ev->memo = im;
			ev->busy = ib;
			struct expr copy = *x;
			copy.nwith = 0;
			struct expr *cp = &copy;
			struct body one = { &cp, 1 };
			struct body_st s2 = { &one, 0, with_rest, &ws };
			rc = ev_expr_neg(ev, &copy, &s2);
			for (size_t j = 0; j < ev->r->nnodes; j++)
				vunref(im[j]);
			free(im);
			free(ib);
			ev->memo = ws.outer_memo;
			ev->busy = ws.outer_busy;
		}
	}
	if (rc == WITH_UNDEFINED)
		rc = 0;
	while (ev->nwo > before) {
		ev->nwo--;
		vunref(ev->wo[ev->nwo].path);
		vunref(ev->wo[ev->nwo].v);
		free(ev->wo[ev->nwo].fterm);
	}
	vunref(ev->input);
	ev->input = saved_input;
	return rc;
}

int ev_body_general(struct ev *ev, struct body *b, size_t i, cont_fn k, void *arg)
{
	struct body_st s = { b, i, k, arg };
	struct expr *x = b->e[i];
	if (x->nwith)
		return ev_expr_with(ev, x, &s);
	return ev_expr_neg(ev, x, &s);
}
