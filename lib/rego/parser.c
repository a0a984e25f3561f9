/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rego parser: tokens -> AST (internal.h). Recursive descent with a named
 * depth limit. AST nodes live in the engine's arena and are freed with it.
 * This file holds the parser's cursor, error and node helpers, the module
 * level (package, imports, rules and their else chains) and the entry
 * points; terms, expressions and bodies are in parser_expr.c.
 */
#include "internal.h"

/* ------------------------------------------------------------ arena */



struct tok *cur(struct parser *p) { return &p->t[p->i]; }
struct tok *peek(struct parser *p, size_t k) { return &p->t[p->i + k < p->n ? p->i + k : p->n - 1]; }
void adv(struct parser *p)
{
	if (p->i + 1 < p->n)
		p->i++;
}

int perr(struct parser *p, const char *fmt, ...)
{
	if (p->rc < 0)
		return p->rc;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->rc = err_set(p->e, -EBADMSG, "%s:%d: rego_parse_error: %s", p->name, cur(p)->line, msg);
	return p->rc;
}

bool is_kw(struct parser *p, const char *kw)
{
	struct tok *t = cur(p);
	if (t->kind != TK_IDENT || strcmp(t->text, kw) != 0)
		return false;
	/* keywords directly followed by '.' are ref heads (as.foo) */
	struct tok *nx = &p->t[p->i + 1 < p->n ? p->i + 1 : p->n - 1];
	return !(nx->kind == TK_DOT && !nx->nlb);
}

bool reserved(const char *s)
{
	static const char *const kws[] = { "as", "default", "else", "false", "import", "package", "not", "null",
					   "true", "with", "some", "every", "in", "if", "contains" };
	for (size_t i = 0; i < ARRAY_SIZE(kws); i++)
		if (strcmp(s, kws[i]) == 0)
			return true;
	return false;
}

struct term *mk(struct parser *p, enum term_kind k)
{
	struct term *t = rego_alloc(p->r, sizeof(*t));
	if (!t) {
		p->rc = -ENOMEM;
		return NULL;
	}
	t->kind = k;
	t->line = cur(p)->line;
	return t;
}

struct term *mk_val(struct parser *p, struct val *v)
{
	if (!v) {
		p->rc = -ENOMEM;
		return NULL;
	}
	if (rego_hold(p->r, v) < 0) {
		p->rc = -ENOMEM;
		return NULL;
	}
	struct term *t = mk(p, T_VALUE);
	if (t)
		t->v = v;
	return t;
}

int pl_push(struct parser *p, struct plist *l, void *x)
{
	if (!x)
		return p->rc < 0 ? p->rc : (p->rc = -ENOMEM);
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 4;
		void **nv = realloc(l->v, nc * sizeof(void *));
		if (!nv)
			return p->rc = -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = x;
	return 0;
}

void *pl_finish(struct parser *p, struct plist *l)
{
	void **out = rego_alloc(p->r, (l->n ? l->n : 1) * sizeof(void *));
	if (!out) {
		p->rc = -ENOMEM;
	} else if (l->n) {
		memcpy(out, l->v, l->n * sizeof(void *));
	}
	free(l->v);
	l->v = NULL;
	return out;
}

struct term *mk_var(struct parser *p, const char *name, size_t len)
{
	struct term *t = mk(p, T_VAR);
	if (!t)
		return NULL;
	if (len == 1 && name[0] == '_') {
		char w[32];
		int wl = snprintf(w, sizeof(w), "$_%u", p->r->wild++);
		t->name = rego_intern(p->r, w, (size_t)wl);
	} else {
		t->name = rego_intern(p->r, name, len);
	}
	if (!t->name)
		p->rc = -ENOMEM;
	return t;
}

struct term *mk_str(struct parser *p, const char *s, size_t len)
{
	return mk_val(p, val_string(s, len));
}

static struct body *empty_body(struct parser *p)
{
	struct body *b = rego_alloc(p->r, sizeof(*b));
	if (!b)
		p->rc = -ENOMEM;
	return b;
}

/* ------------------------------------------------------------ rules */

static struct rule *mk_rule(struct parser *p, struct module *m)
{
	struct rule *r = rego_alloc(p->r, sizeof(*r));
	if (!r) {
		p->rc = -ENOMEM;
		return NULL;
	}
	r->mod = m;
	r->line = cur(p)->line;
	return r;
}

static struct term *true_term(struct parser *p) { return mk_val(p, val_bool(true)); }

/* Body after a head: "if { ... }", "if expr", "{ ... }" (v0 or after if). */
static struct body *parse_rule_body(struct parser *p, bool *had)
{
	*had = false;
	if (is_kw(p, "if")) {
		adv(p);
		*had = true;
		if (cur(p)->kind == TK_LBRACE) {
			/* braces are a body, unless they only parse as a term:
			 * `if {x: 1 | ...}` is one object comprehension (OPA
			 * backtracks the same way) */
			size_t at = p->i;
			unsigned depth = p->depth;
			struct body *b = parse_body_braces(p);
			if (p->rc != -EBADMSG || !p->e)
				return b;
			/* when neither parses, the body's error is the one meant */
			struct arca_err first = *p->e;
			p->rc = 0;
			err_clear(p->e);
			p->i = at;
			p->depth = depth;
			struct expr *x = parse_expr_top(p);
			if (p->rc == -EBADMSG) {
				*p->e = first;
				return NULL;
			}
			return x ? one_body(p, x) : NULL;
		}
		struct plist ex = { 0 };
		pl_push(p, &ex, parse_expr_top(p));
		struct body *b = rego_alloc(p->r, sizeof(*b));
		if (!b) {
			free(ex.v);
			p->rc = -ENOMEM;
			return NULL;
		}
		b->n = ex.n;
		b->e = pl_finish(p, &ex);
		return p->rc < 0 ? NULL : b;
	}
	if (cur(p)->kind == TK_LBRACE && !cur(p)->nlb) {
		*had = true;
		return parse_body_braces(p);
	}
	return empty_body(p);
}

static int parse_rule(struct parser *p, struct module *m, struct plist *rules)
{
	struct rule *r = mk_rule(p, m);
	if (!r)
		return p->rc;
	if (is_kw(p, "default") && peek(p, 1)->kind != TK_DOT) {
		r->is_default = true;
		adv(p);
	}
	if (cur(p)->kind != TK_IDENT || (reserved(cur(p)->text) && peek(p, 1)->kind != TK_DOT)) {
		return perr(p, "expected rule name");
	}
	/* head ref */
	struct term *head = mk_var(p, cur(p)->text, cur(p)->len);
	adv(p);
	head = parse_ref_ops(p, head);
	if (p->rc < 0)
		return p->rc;
	struct plist path = { 0 };
	pl_push(p, &path, mk_str(p, head->kind == T_VAR ? head->name : head->items[0]->name,
				 strlen(head->kind == T_VAR ? head->name : head->items[0]->name)));
	if (head->kind == T_REF)
		for (size_t i = 1; i < head->n; i++)
			pl_push(p, &path, head->items[i]);
	r->npath = path.n;
	r->path = pl_finish(p, &path);
	if (p->rc < 0)
		return p->rc;
	r->nstatic = 0;
	while (r->nstatic < r->npath && r->path[r->nstatic]->kind == T_VALUE &&
	       r->path[r->nstatic]->v->kind == VAL_STRING)
		r->nstatic++;

	if (cur(p)->kind == TK_LPAREN && !cur(p)->nlb) {
		r->kind = R_FUNC;
		adv(p);
		r->args = parse_arg_list(p, &r->nargs, "function arguments");
		if (p->rc < 0)
			return p->rc;
	}
	if (is_kw(p, "contains")) {
		adv(p);
		r->kind = R_MULTI;
		r->key = parse_term(p);
	} else if (cur(p)->kind == TK_ASSIGN || cur(p)->kind == TK_UNIFY) {
		adv(p);
		r->value = parse_term(p);
	} else if (p->v0 && r->kind != R_FUNC && r->npath == 2 && !r->is_default && !is_kw(p, "if")) {
		/* v0: p[x] { ... } is a partial set; with `if` (future.keywords)
		 * OPA reads p[x] if ... as p[x] := true if ... */
		r->kind = R_MULTI;
		r->key = r->path[1];
		r->npath = 1;
		r->nstatic = 1;
	}
	if (p->rc < 0)
		return p->rc;
	if (!r->value && r->kind != R_MULTI)
		r->value = true_term(p);
	if (r->is_default) {
		r->body = empty_body(p);
		return pl_push(p, rules, r);
	}
	bool had;
	r->body = parse_rule_body(p, &had);
	if (p->rc < 0)
		return p->rc;
	if (!p->v0 && !had && r->kind == R_MULTI && cur(p)->kind == TK_LBRACE)
		return perr(p, "`if` keyword is required before rule body");
	pl_push(p, rules, r);
	/* else chain */
	struct rule *prev = r;
	while (p->rc == 0 && is_kw(p, "else")) {
		adv(p);
		struct rule *el = mk_rule(p, m);
		if (!el)
			return p->rc;
		*el = *r;
		el->els = NULL;
		el->line = cur(p)->line;
		if (cur(p)->kind == TK_ASSIGN || cur(p)->kind == TK_UNIFY) {
			adv(p);
			el->value = parse_term(p);
		} else {
			el->value = true_term(p);
		}
		el->body = parse_rule_body(p, &had);
		prev->els = el;
		prev = el;
	}
	/* v0 allows several bodies for one head: p { a } { b } */
	while (p->rc == 0 && cur(p)->kind == TK_LBRACE && !cur(p)->nlb) {
		struct rule *r2 = mk_rule(p, m);
		if (!r2)
			return p->rc;
		*r2 = *r;
		r2->els = NULL;
		r2->body = parse_body_braces(p);
		pl_push(p, rules, r2);
	}
	return p->rc;
}

static struct val *ref_to_path(struct parser *p, struct term *t, bool skip_root)
{
	struct val *a = val_array_new(4);
	if (!a)
		return NULL;
	if (t->kind == T_VAR) {
		if (!skip_root && val_array_push(a, val_cstr(t->name)) < 0)
			goto bad;
		return a;
	}
	if (t->kind != T_REF || t->items[0]->kind != T_VAR)
		goto bad;
	if (!skip_root && val_array_push(a, val_cstr(t->items[0]->name)) < 0)
		goto bad;
	for (size_t i = 1; i < t->n; i++) {
		if (t->items[i]->kind != T_VALUE)
			goto bad;
		if (val_array_push(a, val_ref(t->items[i]->v)) < 0)
			goto bad;
	}
	return a;
bad:
	val_unref(a);
	perr(p, "invalid path");
	return NULL;
}

int rego_parse_module(struct rego *r, const char *name, const char *src, size_t len, bool v0,
		      struct module **out, struct arca_err *e)
{
	struct tok *toks = NULL;
	size_t nt = 0;
	int rc = rego_lex(name, src, len, &toks, &nt, e);
	if (rc < 0)
		return rc;
	struct parser p = { .r = r, .name = name, .t = toks, .n = nt, .v0 = v0, .e = e };
	struct plist rules = { 0 }, imps = { 0 };
	struct module *m = rego_alloc(r, sizeof(*m));
	if (!m) {
		rc = -ENOMEM;
		goto out;
	}
	m->v0 = v0;
	m->name = rego_alloc(r, strlen(name) + 1);
	if (!m->name) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(m->name, name, strlen(name) + 1);
	if (!is_kw(&p, "package")) {
		rc = perr(&p, "package expected");
		goto out;
	}
	adv(&p);
	{
		struct term *pk = mk_var(&p, cur(&p)->text ? cur(&p)->text : "", cur(&p)->text ? cur(&p)->len : 0);
		if (cur(&p)->kind != TK_IDENT) {
			rc = perr(&p, "package name expected");
			goto out;
		}
		adv(&p);
		pk = parse_ref_ops(&p, pk);
		if (p.rc < 0)
			goto out;
		m->pkg = ref_to_path(&p, pk, false);
		if (!m->pkg)
			goto out;
		rego_hold(r, m->pkg);
	}
	while (p.rc == 0 && is_kw(&p, "import")) {
		adv(&p);
		struct term *it = parse_primary(&p);
		if (p.rc < 0)
			goto out;
		const char *alias = NULL;
		if (is_kw(&p, "as")) {
			adv(&p);
			if (cur(&p)->kind != TK_IDENT) {
				perr(&p, "expected alias");
				goto out;
			}
			alias = rego_intern(r, cur(&p)->text, cur(&p)->len);
			adv(&p);
		}
		const char *root = it->kind == T_VAR ? it->name : it->kind == T_REF ? it->items[0]->kind == T_VAR ? it->items[0]->name : "" : "";
		if (strcmp(root, "future") == 0 || strcmp(root, "rego") == 0) {
			if (it->kind == T_REF && it->n == 3 && it->items[2]->kind == T_VALUE && it->items[2]->v->kind == VAL_STRING) {
				if (strcmp(it->items[2]->v->str.s, "and") == 0)
					p.kw_and = true;
				if (strcmp(it->items[2]->v->str.s, "or") == 0)
					p.kw_or = true;
			}
			continue;
		}
		if (strcmp(root, "data") != 0 && strcmp(root, "input") != 0) {
			perr(&p, "invalid import path");
			goto out;
		}
		if (!alias) {
			if (it->kind != T_REF) {
				alias = root;
			} else {
				struct term *last = it->items[it->n - 1];
				if (last->kind != T_VALUE || last->v->kind != VAL_STRING) {
					perr(&p, "invalid import path");
					goto out;
				}
				alias = rego_intern(r, last->v->str.s, last->v->str.len);
			}
		}
		struct import *im = rego_alloc(r, sizeof(*im));
		if (!im) {
			p.rc = -ENOMEM;
			goto out;
		}
		im->ref = it;
		im->alias = alias;
		pl_push(&p, &imps, im);
	}
	while (p.rc == 0 && cur(&p)->kind != TK_EOF) {
		if (!cur(&p)->nlb && p.i > 0 && cur(&p)->kind != TK_SEMI) {
			perr(&p, "unexpected token");
			break;
		}
		parse_rule(&p, m, &rules);
	}
	if (p.rc < 0)
		goto out;
	m->nrules = rules.n;
	m->rules = pl_finish(&p, &rules);
	m->nimports = imps.n;
	{
		struct import **iv = pl_finish(&p, &imps);
		m->imports = rego_alloc(r, (m->nimports ? m->nimports : 1) * sizeof(struct import));
		if (iv && m->imports)
			for (size_t i = 0; i < m->nimports; i++)
				m->imports[i] = *iv[i];
	}
	if (p.rc == 0)
		p.rc = rego_annotations_attach(r, m, src, len, e);
	if (p.rc == 0)
		*out = m;
out:
	free(rules.v);
	free(imps.v);
	rego_toks_free(toks, nt);
	if (rc == 0)
		rc = p.rc;
	if (rc == -ENOMEM)
		err_set(e, rc, "out of memory");
	return rc;
}

int rego_parse_query(struct rego *r, const char *src, size_t len, bool v0, struct body **out, struct arca_err *e)
{
	struct tok *toks = NULL;
	size_t nt = 0;
	int rc = rego_lex("query", src, len, &toks, &nt, e);
	if (rc < 0)
		return rc;
	struct parser p = { .r = r, .name = "query", .t = toks, .n = nt, .v0 = v0, .e = e };
	struct body *b = parse_query_until(&p, TK_EOF);
	rego_toks_free(toks, nt);
	if (p.rc < 0)
		return p.rc;
	if (b->n == 0)
		return err_set(e, -EBADMSG, "query: rego_parse_error: empty query");
	*out = b;
	return 0;
}

int rego_parse_value(struct rego *r, const char *src, size_t len, struct val **out, struct arca_err *e)
{
	struct tok *toks = NULL;
	size_t nt = 0;
	int rc = rego_lex("term", src, len, &toks, &nt, e);
	if (rc < 0)
		return rc;
	struct parser p = { .r = r, .name = "term", .t = toks, .n = nt, .e = e };
	struct term *t = parse_term(&p);
	if (p.rc == 0 && cur(&p)->kind != TK_EOF)
		perr(&p, "trailing tokens after term");
	rego_toks_free(toks, nt);
	if (p.rc < 0)
		return p.rc;
	rc = const_value(t, out);
	if (rc < 0)
		return err_set(e, rc, "term: not a ground value");
	return 0;
}

/* For tools and tests: parses a ground Rego term (e.g. "{1, 2}") without an
 * engine. */
int rego_parse_term(const char *src, size_t len, struct val **out, struct arca_err *e)
{
	struct rego *r = rego_new();
	if (!r)
		return err_set(e, -ENOMEM, "out of memory");
	int rc = rego_parse_value(r, src, len, out, e);
	rego_free(r);
	return rc;
}
