/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Engine lifecycle, the policy tree (packages and rule paths) and name
 * resolution: rule names used in bodies become data references, import
 * aliases are expanded, calls to user functions are bound to their node.
 */
#include "internal.h"

struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
	max_align_t data[];
};

struct rego_priv {
	struct arena_blk *arena;
	struct val **held;
	size_t nheld, capheld;
};

/* The arena and held values hang off a side structure to keep struct rego
 * small; stored in a static table keyed by the engine would be racy, so it
 * is allocated together with the engine. */
struct rego_full {
	struct rego r;
	struct rego_priv p;
};

static struct rego_priv *priv(struct rego *r) { return &((struct rego_full *)r)->p; }

void *rego_alloc(struct rego *r, size_t n)
{
	struct rego_priv *p = priv(r);
	size_t need = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!p->arena || p->arena->cap - p->arena->used < need) {
		size_t cap = need > 65536 ? need : 65536;
		struct arena_blk *b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = p->arena;
		b->used = 0;
		b->cap = cap;
		p->arena = b;
	}
	void *res = (char *)p->arena->data + p->arena->used;
	p->arena->used += need;
	memset(res, 0, n);
	return res;
}

int rego_hold(struct rego *r, struct val *v)
{
	struct rego_priv *p = priv(r);
	if (p->nheld == p->capheld) {
		size_t nc = p->capheld ? p->capheld * 2 : 256;
		struct val **nv = realloc(p->held, nc * sizeof(*nv));
		if (!nv) {
			val_unref(v);
			return -ENOMEM;
		}
		p->held = nv;
		p->capheld = nc;
	}
	p->held[p->nheld++] = v;
	return 0;
}

const char *rego_intern(struct rego *r, const char *s, size_t len)
{
	/* linear probing hash set of strings */
	if (r->natoms * 2 >= r->capatoms) {
		size_t nc = r->capatoms ? r->capatoms * 2 : 1024;
		char **na = calloc(nc, sizeof(*na));
		if (!na)
			return NULL;
		for (size_t i = 0; i < r->capatoms; i++) {
			if (!r->atoms[i])
				continue;
			uint64_t h = 1469598103934665603ull;
			for (const char *c = r->atoms[i]; *c; c++)
				h = (h ^ (uint8_t)*c) * 1099511628211ull;
			size_t j = (size_t)h & (nc - 1);
			while (na[j])
				j = (j + 1) & (nc - 1);
			na[j] = r->atoms[i];
		}
		free(r->atoms);
		r->atoms = na;
		r->capatoms = nc;
	}
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	size_t j = (size_t)h & (r->capatoms - 1);
	while (r->atoms[j]) {
		if (strlen(r->atoms[j]) == len && memcmp(r->atoms[j], s, len) == 0)
			return r->atoms[j];
		j = (j + 1) & (r->capatoms - 1);
	}
	char *c = strndup(s, len);
	if (!c)
		return NULL;
	r->atoms[j] = c;
	r->natoms++;
	return c;
}

struct rego *rego_new(void)
{
	struct rego_full *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->r.lim.max_steps = REGO_DEFAULT_MAX_STEPS;
	f->r.lim.timeout_ms = REGO_DEFAULT_TIMEOUT_MS;
	f->r.re_cache = NULL;
	f->r.a_data = rego_intern(&f->r, "data", 4);
	f->r.a_input = rego_intern(&f->r, "input", 5);
	if (!f->r.a_data || !f->r.a_input) {
		rego_free(&f->r);
		return NULL;
	}
	return &f->r;
}

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	val_unref(n->key);
	free(n);
}

void rego_free(struct rego *r)
{
	if (!r)
		return;
	struct rego_priv *p = priv(r);
	for (size_t i = 0; i < p->nheld; i++)
		val_unref(p->held[i]);
	free(p->held);
	while (p->arena) {
		struct arena_blk *b = p->arena;
		p->arena = b->next;
		free(b);
	}
	for (size_t i = 0; i < r->capatoms; i++)
		free(r->atoms[i]);
	free(r->atoms);
	free(r->mods);
	node_free(r->root);
	rego_index_free(r->index);
	val_unref(r->data);
	rego_re_cache_free(r->re_cache);
	free(r);
}

int rego_add_module(struct rego *r, const char *name, const char *src, size_t len, unsigned flags,
		    struct arca_err *e)
{
	struct module *m = NULL;
	if (r->compiled)
		return err_set(e, -EINVAL, "engine already compiled");
	int rc = rego_parse_module(r, name, src, len, (flags & REGO_V0) != 0, &m, e);
	if (rc < 0)
		return rc;
	struct module **nm = realloc(r->mods, (r->nmods + 1) * sizeof(*nm));
	if (!nm)
		return err_set(e, -ENOMEM, "out of memory");
	r->mods = nm;
	r->mods[r->nmods++] = m;
	return 0;
}

/* Points every node at the base document below its path (borrowed). */
static void node_set_base(struct node *n, struct val *base)
{
	n->base = base;
	for (size_t i = 0; i < n->nkids; i++)
		node_set_base(n->kids[i], base ? val_object_get(base, n->kids[i]->key) : NULL);
}

int rego_set_data(struct rego *r, struct val *data, struct arca_err *e)
{
	if (!data || data->kind != VAL_OBJECT)
		return err_set(e, -EINVAL, "data must be an object");
	/* the index is keyed by the addresses of the old data's arrays: it
	 * goes before they are released */
	struct rego_index *ix = NULL;
	int rc = rego_index_build(data, &ix);
	if (rc < 0)
		return err_set(e, rc, "out of memory");
	rego_index_free(r->index);
	r->index = ix;
	val_unref(r->data);
	r->data = val_ref(data);
	if (r->root)
		node_set_base(r->root, r->data);
	return 0;
}

void rego_set_limits(struct rego *r, const struct rego_limits *lim) { r->lim = *lim; }

struct node *node_child(struct node *n, const char *name)
{
	/* kids are kept sorted by name (node_get): binary search */
	size_t lo = 0, hi = n->nkids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(n->kids[mid]->name, name);
		if (c == 0)
			return n->kids[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct node *node_new(struct rego *r, const char *name, const char *parent_full)
{
	struct node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = rego_intern(r, name, strlen(name));
	n->key = val_cstr(name);
	struct buf b = BUF_INIT;
	if (parent_full) {
		buf_addstr(&b, parent_full);
		buf_addch(&b, '.');
	}
	buf_addstr(&b, name);
	n->fullname = rego_intern(r, b.p, b.len);
	buf_release(&b);
	n->id = r->nnodes++;
	if (!n->name || !n->key || !n->fullname) {
		val_unref(n->key);
		free(n);
		return NULL;
	}
	return n;
}

static struct node *node_get(struct rego *r, struct node *n, const char *name)
{
	struct node *c = node_child(n, name);
	if (c)
		return c;
	struct node **nk = realloc(n->kids, (n->nkids + 1) * sizeof(*nk));
	if (!nk)
		return NULL;
	n->kids = nk;
	c = node_new(r, name, n->fullname);
	if (!c)
		return NULL;
	/* keep kids sorted by name so documents come out ordered */
	size_t i = n->nkids;
	while (i > 0 && strcmp(n->kids[i - 1]->name, name) > 0) {
		n->kids[i] = n->kids[i - 1];
		i--;
	}
	n->kids[i] = c;
	n->nkids++;
	return c;
}

struct node *rego_find_func(struct rego *r, const char *fullname)
{
	if (!r->root || strncmp(fullname, "data.", 5) != 0)
		return NULL;
	struct node *n = r->root;
	const char *p = fullname + 5;
	while (*p && n) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		char name[256];
		if (len >= sizeof(name))
			return NULL;
		memcpy(name, p, len);
		name[len] = 0;
		n = node_child(n, name);
		p = dot ? dot + 1 : p + len;
	}
	return n && n->has_func ? n : NULL;
}

/* ------------------------------------------------------- resolution */

static bool is_root(const char *n) { return strcmp(n, "data") == 0 || strcmp(n, "input") == 0; }

struct scope {
	struct rego *r;
	struct module *m;
	const char **locals;
	size_t nlocals, caplocals;
	int rc;
};

static bool is_local(struct scope *s, const char *name)
{
	for (size_t i = 0; i < s->nlocals; i++)
		if (s->locals[i] == name)
			return true;
	return false;
}

static void add_local(struct scope *s, const char *name)
{
	if (is_local(s, name))
		return;
	if (s->nlocals == s->caplocals) {
		size_t nc = s->caplocals ? s->caplocals * 2 : 16;
		const char **nl = realloc(s->locals, nc * sizeof(*nl));
		if (!nl) {
			s->rc = -ENOMEM;
			return;
		}
		s->locals = nl;
		s->caplocals = nc;
	}
	s->locals[s->nlocals++] = name;
}

static void pattern_locals(struct scope *s, struct term *t)
{
	if (!t)
		return;
	switch (t->kind) {
	case T_VAR:
		add_local(s, t->name);
		break;
	case T_ARRAY:
	case T_OBJECT:
	case T_SET:
		for (size_t i = 0; i < t->n; i++)
			pattern_locals(s, t->items[i]);
		break;
	default:
		break;
	}
}

static void body_locals(struct scope *s, struct body *b);

static void term_locals(struct scope *s, struct term *t)
{
	if (!t)
		return;
	if (t->body)
		body_locals(s, t->body);
	for (size_t i = 0; i < t->n; i++)
		if (t->items && t->items[i])
			term_locals(s, t->items[i]);
}

static void body_locals(struct scope *s, struct body *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		struct expr *x = b->e[i];
		switch (x->kind) {
		case E_ASSIGN:
			pattern_locals(s, x->a);
			break;
		case E_SOME:
			for (size_t j = 0; j < x->nvars; j++)
				add_local(s, x->vars[j]->name);
			break;
		case E_SOME_IN:
		case E_EVERY:
			pattern_locals(s, x->a);
			pattern_locals(s, x->b);
			break;
		default:
			break;
		}
		if (x->body)
			body_locals(s, x->body);
		if (x->body2)
			body_locals(s, x->body2);
		term_locals(s, x->a);
		term_locals(s, x->b);
		term_locals(s, x->c);
	}
}

static bool pkg_has_rule(struct scope *s, const char *name)
{
	for (size_t i = 0; i < s->r->nmods; i++) {
		struct module *m = s->r->mods[i];
		if (!val_equal(m->pkg, s->m->pkg))
			continue;
		for (size_t j = 0; j < m->nrules; j++) {
			struct term *p0 = m->rules[j]->path[0];
			if (p0->v->str.len == strlen(name) && memcmp(p0->v->str.s, name, p0->v->str.len) == 0)
				return true;
		}
	}
	return false;
}

static struct import *find_import(struct scope *s, const char *name)
{
	for (size_t i = 0; i < s->m->nimports; i++)
		if (s->m->imports[i].alias == name)
			return &s->m->imports[i];
	return NULL;
}

static struct term *mkstr(struct scope *s, const char *str, size_t len)
{
	struct term *t = rego_alloc(s->r, sizeof(*t));
	struct val *v = val_string(str, len);
	if (!t || !v || rego_hold(s->r, v) < 0) {
		s->rc = -ENOMEM;
		return NULL;
	}
	t->kind = T_VALUE;
	t->v = v;
	return t;
}

/* Rewrites T_VAR @t (in place) into data.<pkg>.<name>. */
static void var_to_rule_ref(struct scope *s, struct term *t)
{
	struct val *pkg = s->m->pkg;
	size_t n = 1 + pkg->arr.n + 1;
	struct term **items = rego_alloc(s->r, n * sizeof(*items));
	struct term *head = rego_alloc(s->r, sizeof(*head));
	if (!items || !head) {
		s->rc = -ENOMEM;
		return;
	}
	head->kind = T_VAR;
	head->name = rego_intern(s->r, "data", 4);
	head->line = t->line;
	items[0] = head;
	for (size_t i = 0; i < pkg->arr.n; i++)
		items[1 + i] = mkstr(s, pkg->arr.items[i]->str.s, pkg->arr.items[i]->str.len);
	items[n - 1] = mkstr(s, t->name, strlen(t->name));
	t->kind = T_REF;
	t->items = items;
	t->n = n;
	t->name = NULL;
}

static void var_to_import(struct scope *s, struct term *t, struct import *im)
{
	(void)s;
	if (im->ref->kind == T_VAR) {
		t->name = im->ref->name;
		return;
	}
	t->kind = T_REF;
	t->items = im->ref->items;
	t->n = im->ref->n;
	t->name = NULL;
}

static void resolve_body(struct scope *s, struct body *b);

/*
 * data.a.b.c...: walks the policy tree along the leading constant string
 * operands the way the evaluator would (stopping at a node with rules, at a
 * function, or where the tree ends), so evaluation can start at that node.
 * The tree is complete when names are resolved.
 */
static void resolve_data_prefix(struct rego *r, struct term *t)
{
	struct term *h = t->items[0];
	t->dnode = NULL;
	t->dn = 0;
	t->dbase = false;
	if (h->kind != T_VAR || h->name != r->a_data || !r->root)
		return;
	struct node *n = r->root;
	size_t i = 0;
	while (i + 1 < t->n && !n->rules && !n->dflt) {
		struct term *op = t->items[i + 1];
		if (op->kind != T_VALUE || op->v->kind != VAL_STRING)
			break;
		struct node *c = node_child(n, op->v->str.s);
		if (!c) {
			t->dbase = true;
			break;
		}
		if (c->has_func)
			break;
		n = c;
		i++;
	}
	if (i > 0 || t->dbase) {
		t->dnode = n;
		t->dn = i;
	}
}

static void resolve_term(struct scope *s, struct term *t)
{
	if (!t || s->rc < 0)
		return;
	switch (t->kind) {
	case T_VAR:
		if (is_root(t->name) || is_local(s, t->name) || t->name[0] == '$')
			return;
		if (find_import(s, t->name))
			var_to_import(s, t, find_import(s, t->name));
		else if (pkg_has_rule(s, t->name))
			var_to_rule_ref(s, t);
		if (t->kind == T_REF && s->rc == 0)
			resolve_data_prefix(s->r, t);
		return;
	case T_REF: {
		struct term *h = t->items[0];
		if (h->kind == T_VAR && !is_root(h->name) && !is_local(s, h->name) && h->name[0] != '$') {
			struct import *im = find_import(s, h->name);
			struct term tmp = *h;
			if (im)
				var_to_import(s, &tmp, im);
			else if (pkg_has_rule(s, h->name))
				var_to_rule_ref(s, &tmp);
			if (tmp.kind == T_REF) {
				struct term **items = rego_alloc(s->r, (tmp.n + t->n - 1) * sizeof(*items));
				if (!items) {
					s->rc = -ENOMEM;
					return;
				}
				memcpy(items, tmp.items, tmp.n * sizeof(*items));
				memcpy(items + tmp.n, t->items + 1, (t->n - 1) * sizeof(*items));
				t->items = items;
				t->n = tmp.n + t->n - 1;
			} else if (tmp.name != h->name) {
				struct term *nh = rego_alloc(s->r, sizeof(*nh));
				if (!nh) {
					s->rc = -ENOMEM;
					return;
				}
				*nh = tmp;
				t->items[0] = nh;
			}
		} else {
			resolve_term(s, h);
		}
		for (size_t i = 1; i < t->n; i++)
			resolve_term(s, t->items[i]);
		resolve_data_prefix(s->r, t);
		return;
	}
	case T_CALL: {
		for (size_t i = 0; i < t->n; i++)
			resolve_term(s, t->items[i]);
		const char *dot = strchr(t->name, '.');
		size_t first = dot ? (size_t)(dot - t->name) : strlen(t->name);
		const char *fname = rego_intern(s->r, t->name, first);
		struct buf full = BUF_INIT;
		struct import *im = fname ? find_import(s, fname) : NULL;
		if (strncmp(t->name, "data.", 5) == 0) {
			buf_addstr(&full, t->name);
		} else if (im && im->ref->kind == T_REF) {
			buf_addstr(&full, im->ref->items[0]->name);
			for (size_t i = 1; i < im->ref->n; i++) {
				buf_addch(&full, '.');
				buf_add(&full, im->ref->items[i]->v->str.s, im->ref->items[i]->v->str.len);
			}
			buf_addstr(&full, t->name + first);
		} else if (fname && pkg_has_rule(s, fname)) {
			/* a function of the package wins over a builtin of the same name
			 * (v1 policies may define any/all, which are v0-only builtins) */
			buf_addstr(&full, "data");
			for (size_t i = 0; i < s->m->pkg->arr.n; i++) {
				buf_addch(&full, '.');
				buf_add(&full, s->m->pkg->arr.items[i]->str.s, s->m->pkg->arr.items[i]->str.len);
			}
			buf_addch(&full, '.');
			buf_addstr(&full, t->name);
		}
		if (full.len) {
			struct node *fn = rego_find_func(s->r, full.p);
			if (fn) {
				t->fnode = fn;
				t->name = fn->fullname;
			}
		}
		buf_release(&full);
		if (!t->fnode)
			t->bi = builtin_find(t->name);
		t->cmp = CMP_NONE;
		if (t->bi && t->n == 2) {
			static const struct {
				const char *name;
				int cmp;
			} cmps[] = { { "equal", CMP_EQ }, { "neq", CMP_NEQ }, { "lt", CMP_LT }, { "lte", CMP_LTE },
				     { "gt", CMP_GT }, { "gte", CMP_GTE }, { "internal.member_2", CMP_IN } };
			for (size_t i = 0; i < ARRAY_SIZE(cmps); i++)
				if (strcmp(t->bi->name, cmps[i].name) == 0)
					t->cmp = cmps[i].cmp;
		}
		return;
	}
	default:
		if (t->body)
			resolve_body(s, t->body);
		for (size_t i = 0; i < t->n; i++)
			resolve_term(s, t->items[i]);
		return;
	}
}

/* Bodies longer than this keep their order: the reordering below is
 * quadratic in the expressions of one body. */
#define REGO_MAX_REORDER 512

struct names {
	const char **v;
	size_t n, cap;
	int rc;
};

static void names_add(struct names *ns, const char *name)
{
	for (size_t i = 0; i < ns->n; i++)
		if (ns->v[i] == name)
			return;
	if (ns->n == ns->cap) {
		size_t nc = ns->cap ? ns->cap * 2 : 8;
		const char **nv = realloc(ns->v, nc * sizeof(*nv));
		if (!nv) {
			ns->rc = -ENOMEM;
			return;
		}
		ns->v = nv;
		ns->cap = nc;
	}
	ns->v[ns->n++] = name;
}

static void names_body(struct names *ns, const struct body *b);

static void names_term(struct names *ns, const struct term *t)
{
	if (!t)
		return;
	if (t->kind == T_VAR && !is_root(t->name))
		names_add(ns, t->name);
	for (size_t i = 0; i < t->n; i++)
		if (t->items && t->items[i])
			names_term(ns, t->items[i]);
	if (t->body)
		names_body(ns, t->body);
}

/* The variables expression @x mentions; `some x` declares but binds
 * nothing, so it mentions none. */
static void names_expr(struct names *ns, const struct expr *x)
{
	if (x->kind == E_SOME)
		return;
	names_term(ns, x->a);
	names_term(ns, x->b);
	names_term(ns, x->c);
	if (x->body)
		names_body(ns, x->body);
	if (x->body2)
		names_body(ns, x->body2);
	for (size_t i = 0; i < x->nwith; i++)
		names_term(ns, x->with[i].value);
}

static void names_body(struct names *ns, const struct body *b)
{
	for (size_t i = 0; i < b->n; i++)
		names_expr(ns, b->e[i]);
}

static bool expr_mentions(const struct expr *x, const char *name)
{
	struct names ns = { 0 };
	names_expr(&ns, x);
	bool found = false;
	for (size_t i = 0; i < ns.n && !found; i++)
		found = ns.v[i] == name;
	free(ns.v);
	return found;
}

/*
 * OPA orders a body for safety: an expression runs once its variables are
 * bound. A negation cannot bind, so `not a = f(1); a = f(2)` means "a is
 * f(2) and not f(1)": each negated expression is moved after the first
 * later positive expressions that mention its variables still unbound.
 * Moving a negation later never changes what the body means, only when the
 * test is made.
 */
static int reorder_body(struct body *b)
{
	if (b->n > REGO_MAX_REORDER)
		return 0;
	for (size_t i = 0; i < b->n; i++) {
		struct expr *x = b->e[i];
		if (!x->negated)
			continue;
		struct names ns = { 0 };
		names_expr(&ns, x);
		if (ns.rc < 0) {
			free(ns.v);
			return ns.rc;
		}
		size_t to = i;
		for (size_t k = 0; k < ns.n; k++) {
			bool bound = false;
			for (size_t j = 0; j < i && !bound; j++)
				bound = !b->e[j]->negated && expr_mentions(b->e[j], ns.v[k]);
			for (size_t j = i + 1; j < b->n && !bound; j++)
				if (!b->e[j]->negated && expr_mentions(b->e[j], ns.v[k])) {
					bound = true;
					if (j > to)
						to = j;
				}
		}
		free(ns.v);
		if (to > i) {
			memmove(&b->e[i], &b->e[i + 1], (to - i) * sizeof(*b->e));
			b->e[to] = x;
			i--; /* a new expression is at i */
		}
	}
	return 0;
}

static void resolve_body(struct scope *s, struct body *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		struct expr *x = b->e[i];
		resolve_term(s, x->a);
		resolve_term(s, x->b);
		resolve_term(s, x->c);
		if (x->body)
			resolve_body(s, x->body);
		if (x->body2)
			resolve_body(s, x->body2);
		for (size_t j = 0; j < x->nwith; j++) {
			resolve_term(s, x->with[j].target);
			if (x->with[j].target->kind == T_CALL)
				continue;
			resolve_term(s, x->with[j].value);
		}
	}
	if (s->rc == 0)
		s->rc = reorder_body(b);
}

/* A ref whose every operand is a constant: input.a.b or data.p.q */
static bool ground_ref(struct rego *r, struct term *t)
{
	if (t->kind != T_REF || t->items[0]->kind != T_VAR)
		return false;
	if (t->items[0]->name != r->a_input && t->items[0]->name != r->a_data)
		return false;
	for (size_t i = 1; i < t->n; i++)
		if (t->items[i]->kind != T_VALUE)
			return false;
	return true;
}

/* Equality index of a rule: its first expression compares a ground ref
 * with a constant (`input.kind == "Pod"`), so a rule whose constant differs
 * from the ref's value is skipped without entering its body. */
static void index_rule(struct rego *r, struct rule *x)
{
	x->guard = NULL;
	x->gval = NULL;
	if (x->kind == R_FUNC || !x->body || x->body->n == 0)
		return;
	struct expr *e = x->body->e[0];
	if (e->negated || e->nwith)
		return;
	struct term *a, *b;
	if (e->kind == E_UNIFY) {
		a = e->a;
		b = e->b;
	} else if (e->kind == E_TERM && e->a->kind == T_CALL && e->a->n == 2 && !e->a->fnode && e->a->bi &&
		   strcmp(e->a->bi->name, "equal") == 0) {
		a = e->a->items[0];
		b = e->a->items[1];
	} else {
		return;
	}
	if (a->kind == T_VALUE) {
		struct term *t = a;
		a = b;
		b = t;
	}
	if (b->kind != T_VALUE || !ground_ref(r, a))
		return;
	x->guard = a;
	x->gval = b->v;
}

static bool same_ref(const struct term *a, const struct term *b)
{
	if (a->n != b->n || a->items[0]->name != b->items[0]->name)
		return false;
	for (size_t i = 1; i < a->n; i++)
		if (!val_equal(a->items[i]->v, b->items[i]->v))
			return false;
	return true;
}

/* Rules of a node (and their else chains) that test the same ref share the
 * first such rule's guard term, so the node looks the value up once. */
static void share_guards(struct node *n)
{
	struct term *seen[8];
	size_t nseen = 0;
	for (struct rule *r = n->rules; r; r = r->next_in_node)
		for (struct rule *x = r; x; x = x->els) {
			if (!x->guard)
				continue;
			size_t i;
			for (i = 0; i < nseen; i++)
				if (same_ref(seen[i], x->guard))
					break;
			if (i < nseen)
				x->guard = seen[i];
			else if (nseen < ARRAY_SIZE(seen))
				seen[nseen++] = x->guard;
		}
	for (size_t i = 0; i < n->nkids; i++)
		share_guards(n->kids[i]);
}

/* A template among a function's arguments is no pattern: OPA compares it
 * with the argument once the body has bound its variables, as if
 * `f(a) if { ...; a = $"..." }` had been written. */
static int template_args(struct rego *r, struct rule *x)
{
	for (size_t i = 0; i < x->nargs; i++) {
		struct term *t = x->args[i];
		if (t->kind != T_TEMPLATE)
			continue;
		char name[32];
		int len = snprintf(name, sizeof(name), "$_%u", r->wild++);
		struct term *v = rego_alloc(r, sizeof(*v));
		struct expr *e = rego_alloc(r, sizeof(*e));
		struct body *b = rego_alloc(r, sizeof(*b));
		struct expr **es = b ? rego_alloc(r, (x->body->n + 1) * sizeof(*es)) : NULL;
		const char *nm = rego_intern(r, name, (size_t)len);
		if (!v || !e || !b || !es || !nm)
			return -ENOMEM;
		v->kind = T_VAR;
		v->line = t->line;
		v->name = nm;
		e->kind = E_UNIFY;
		e->line = t->line;
		e->a = v;
		e->b = t;
		memcpy(es, x->body->e, x->body->n * sizeof(*es));
		es[x->body->n] = e;
		b->e = es;
		b->n = x->body->n + 1;
		x->body = b;
		x->args[i] = v;
	}
	return 0;
}

static int resolve_rule(struct rego *r, struct module *m, struct rule *ru)
{
	struct scope s = { .r = r, .m = m };
	for (struct rule *x = ru; x; x = x->els) {
		if (x->kind == R_FUNC && (s.rc = template_args(r, x)) < 0)
			break;
		s.nlocals = 0;
		for (size_t i = 0; i < x->nargs; i++)
			pattern_locals(&s, x->args[i]);
		body_locals(&s, x->body);
		/* head vars bound by the body stay local */
		for (size_t i = 1; i < x->npath; i++)
			if (x->path[i]->kind == T_VAR)
				add_local(&s, x->path[i]->name);
		if (x->key && x->key->kind == T_VAR)
			add_local(&s, x->key->name);
		resolve_body(&s, x->body);
		index_rule(r, x);
		resolve_term(&s, x->value);
		resolve_term(&s, x->key);
		for (size_t i = 1; i < x->npath; i++)
			resolve_term(&s, x->path[i]);
		for (size_t i = 0; i < x->nargs; i++)
			resolve_term(&s, x->args[i]);
		if (s.rc < 0)
			break;
	}
	free(s.locals);
	return s.rc;
}


/* ------------------------------------------------------- static checks */

struct check {
	struct rego *r;
	struct module *m;
	struct arca_err *e;
	int rc;
};

static void check_body(struct check *c, struct body *b);

/* Calls must name a builtin or a user function, with a known arity (one
 * extra argument is the output). OPA reports these as rego_type_error. */
static void check_term(struct check *c, struct term *t)
{
	if (!t || c->rc < 0)
		return;
	if (t->kind == T_CALL) {
		size_t want = 0;
		bool known = true;
		if (t->fnode)
			want = t->fnode->rules ? t->fnode->rules->nargs : t->fnode->dflt ? t->fnode->dflt->nargs : 0;
		else if (t->bi)
			want = t->bi->nargs;
		else
			known = false;
		if (!known) {
			c->rc = err_set(c->e, -EBADMSG, "%s:%d: rego_type_error: undefined function %s", c->m->name, t->line, t->name);
			return;
		}
		if (t->n != want && t->n != want + 1) {
			c->rc = err_set(c->e, -EBADMSG, "%s:%d: rego_type_error: %s: arity mismatch: have %zu, want %zu", c->m->name,
					t->line, t->name, t->n, want);
			return;
		}
	}
	if (t->body)
		check_body(c, t->body);
	for (size_t i = 0; i < t->n; i++)
		check_term(c, t->items[i]);
}

static void check_body(struct check *c, struct body *b)
{
	for (size_t i = 0; b && i < b->n && c->rc == 0; i++) {
		struct expr *x = b->e[i];
		/* a call whose function is replaced by `with` may name a function
		 * that only the replacement provides */
		if (x->nwith == 0) {
			check_term(c, x->a);
			check_term(c, x->b);
			check_term(c, x->c);
		}
		check_body(c, x->body);
		check_body(c, x->body2);
	}
}

static int check_rules(struct rego *r, struct arca_err *e)
{
	struct check c = { .r = r, .e = e };
	for (size_t i = 0; i < r->nmods && c.rc == 0; i++) {
		c.m = r->mods[i];
		for (size_t j = 0; j < c.m->nrules && c.rc == 0; j++)
			for (struct rule *x = c.m->rules[j]; x && c.rc == 0; x = x->els) {
				check_body(&c, x->body);
				check_term(&c, x->value);
				check_term(&c, x->key);
			}
	}
	return c.rc;
}

/* What node_compute builds for each node, decided once. */
static void node_kinds(struct node *n)
{
	n->coll = n->multi;
	n->coll_set = n->multi;
	for (struct rule *r = n->rules; r; r = r->next_in_node) {
		if (r->npath > r->nstatic || r->kind == R_MULTI)
			n->coll = true;
		if (r->npath > r->nstatic)
			n->coll_set = false;
	}
	if (!n->coll)
		n->coll_set = false;
	n->ee = !n->coll && !n->has_func && n->rules;
	for (struct rule *r = n->rules; r && n->ee; r = r->next_in_node)
		if (r->els || !r->value || r->value->kind != T_VALUE || !val_equal(r->value->v, n->rules->value->v))
			n->ee = false;
	for (size_t i = 0; i < n->nkids; i++)
		node_kinds(n->kids[i]);
}

int rego_compile(struct rego *r, struct arca_err *e)
{
	if (r->compiled)
		return 0;
	r->root = node_new(r, "data", NULL);
	if (!r->root)
		return err_set(e, -ENOMEM, "out of memory");
	r->root->is_pkg = true;
	for (size_t i = 0; i < r->nmods; i++) {
		struct module *m = r->mods[i];
		struct node *pn = r->root;
		for (size_t j = 0; j < m->pkg->arr.n && pn; j++) {
			if (m->pkg->arr.items[j]->kind != VAL_STRING)
				return err_set(e, -EBADMSG, "%s: rego_compile_error: invalid package path", m->name);
			pn = node_get(r, pn, m->pkg->arr.items[j]->str.s);
		}
		if (!pn)
			return err_set(e, -ENOMEM, "out of memory");
		pn->is_pkg = true;
		for (size_t j = 0; j < m->nrules; j++) {
			struct rule *ru = m->rules[j];
			struct node *n = pn;
			for (size_t k = 0; k < ru->nstatic && n; k++)
				n = node_get(r, n, ru->path[k]->v->str.s);
			if (!n)
				return err_set(e, -ENOMEM, "out of memory");
			if (ru->kind == R_FUNC)
				n->has_func = true;
			if (ru->kind == R_MULTI)
				n->multi = true;
			if (ru->is_default) {
				if (n->dflt)
					return err_set(e, -EBADMSG, "%s:%d: rego_type_error: multiple default rules %s found",
						       m->name, ru->line, n->fullname);
				n->dflt = ru;
			} else {
				struct rule **pp = &n->rules;
				while (*pp)
					pp = &(*pp)->next_in_node;
				*pp = ru;
			}
		}
	}
	for (size_t i = 0; i < r->nmods; i++) {
		struct module *m = r->mods[i];
		for (size_t j = 0; j < m->nrules; j++) {
			int rc = resolve_rule(r, m, m->rules[j]);
			if (rc < 0)
				return err_set(e, rc, "out of memory");
		}
	}
	share_guards(r->root);
	node_kinds(r->root);
	{
		int rc = check_rules(r, e);
		if (rc < 0)
			return rc;
	}
	if (!r->data) {
		r->data = val_object_new(0);
		if (!r->data)
			return err_set(e, -ENOMEM, "out of memory");
	}
	node_set_base(r->root, r->data);
	r->compiled = true;
	return 0;
}

/* Resolves calls in a query (no package context). */
int rego_resolve_query(struct rego *r, struct body *b)
{
	static struct module qmod;
	struct module m = { 0 };
	(void)qmod;
	m.pkg = val_array_new(0);
	if (!m.pkg)
		return -ENOMEM;
	struct scope s = { .r = r, .m = &m };
	body_locals(&s, b);
	resolve_body(&s, b);
	free(s.locals);
	val_unref(m.pkg);
	return s.rc;
}

static int names_rec(struct node *n, const char *prefix, struct val *out)
{
	if ((n->rules || n->dflt) && strncmp(n->name, prefix, strlen(prefix)) == 0 && !n->has_func)
		if (val_set_add(out, val_cstr(n->fullname)) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < n->nkids; i++) {
		int rc = names_rec(n->kids[i], prefix, out);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int rego_rule_names(struct rego *r, const char *prefix, struct val **out)
{
	if (!r->compiled || !r->root)
		return -EINVAL;
	struct val *s = val_set_new(8);
	if (!s || names_rec(r->root, prefix, s) < 0) {
		val_unref(s);
		return -ENOMEM;
	}
	/* sets are sorted arrays: hand back an array */
	struct val *a = val_array_new(s->arr.n);
	for (size_t i = 0; a && i < s->arr.n; i++)
		if (val_array_push(a, val_ref(s->arr.items[i])) < 0) {
			val_unref(a);
			a = NULL;
		}
	val_unref(s);
	if (!a)
		return -ENOMEM;
	*out = a;
	return 0;
}
