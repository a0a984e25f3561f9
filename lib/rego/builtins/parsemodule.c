/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rego.parse_module(filename, source): the module's syntax tree in the
 * shape of OPA's AST JSON (package, imports, rules with head and body;
 * terms as {"type", "value"}). The module is parsed by a scratch engine
 * freed before returning, so a policy calling this in a loop does not
 * grow the calling engine. What this parser folds or desugars (constant
 * composites, `x in xs`) appears in its folded form.
 */
#include "../internal.h"

#define A0 args[0]
#define A1 args[1]

/* Above what the parser can nest (each level is a body, an expression
 * and a term), so a parsed module never hits it. */
#define AST_MAX_DEPTH (4 * REGO_MAX_PARSE_DEPTH + 16)

/* Appends @item to @a; on failure both are released and NULL returned, so
 * a loop can carry on with a == NULL. */
static struct val *push(struct val *a, struct val *item)
{
	if (!a) {
		val_unref(item);
		return NULL;
	}
	if (val_array_push(a, item) < 0) {
		val_unref(a);
		return NULL;
	}
	return a;
}

/* A [key, value] pair. */
static struct val *pair(struct val *k, struct val *v)
{
	return push(push(val_array_new(2), k), v);
}

static struct val *typed(const char *type, struct val *v)
{
	struct val *o = v ? val_object_new(2) : NULL;
	if (!o || val_object_put_cstr(o, "type", val_cstr(type)) < 0) {
		val_unref(v);
		val_unref(o);
		return NULL;
	}
	if (val_object_put_cstr(o, "value", v) < 0) { /* consumed v */
		val_unref(o);
		return NULL;
	}
	return o;
}

static struct val *value_ast(const struct val *v, unsigned depth)
{
	if (depth > AST_MAX_DEPTH)
		return NULL;
	switch (v->kind) {
	case VAL_NULL: return typed("null", val_null());
	case VAL_BOOL: return typed("boolean", val_bool(v->b));
	case VAL_NUMBER: return typed("number", val_ref((struct val *)v));
	case VAL_STRING: return typed("string", val_ref((struct val *)v));
	case VAL_ARRAY:
	case VAL_SET: {
		struct val *a = val_array_new(v->arr.n);
		for (size_t i = 0; a && i < v->arr.n; i++)
			a = push(a, value_ast(v->arr.items[i], depth + 1));
		return typed(v->kind == VAL_SET ? "set" : "array", a);
	}
	default: {
		struct val *a = val_array_new(v->obj.n);
		for (size_t i = 0; a && i < v->obj.n; i++)
			a = push(a, pair(value_ast(v->obj.keys[i], depth + 1), value_ast(v->obj.vals[i], depth + 1)));
		return typed("object", a);
	}
	}
}

static struct val *var_ast(const char *name) { return typed("var", val_cstr(name)); }

static struct val *body_ast(struct body *b, unsigned depth);

/* A dotted name ("io.jwt.decode") as the ref OPA puts first in a call. */
static struct val *name_ref(const char *name)
{
	const char *dot = strchr(name, '.');
	size_t hn = dot ? (size_t)(dot - name) : strlen(name);
	struct val *a = push(val_array_new(2), typed("var", val_string(name, hn)));
	while (dot && a) {
		const char *s = dot + 1;
		dot = strchr(s, '.');
		a = push(a, typed("string", val_string(s, dot ? (size_t)(dot - s) : strlen(s))));
	}
	return typed("ref", a);
}

static struct val *term_ast(struct term *t, unsigned depth)
{
	if (!t || depth > AST_MAX_DEPTH)
		return NULL;
	struct val *a;
	switch (t->kind) {
	case T_VALUE: return value_ast(t->v, depth);
	case T_VAR: return var_ast(t->name);
	case T_CALL:
		a = push(val_array_new(t->n + 1), name_ref(t->name));
		for (size_t i = 0; a && i < t->n; i++)
			a = push(a, term_ast(t->items[i], depth + 1));
		return typed("call", a);
	case T_ACOMP:
	case T_SCOMP:
	case T_OCOMP: {
		struct val *o = val_object_new(3);
		int rc = o ? 0 : -ENOMEM;
		if (rc == 0 && t->kind == T_OCOMP) {
			rc = val_object_put_cstr(o, "key", term_ast(t->items[0], depth + 1));
			if (rc == 0)
				rc = val_object_put_cstr(o, "value", term_ast(t->items[1], depth + 1));
		} else if (rc == 0) {
			rc = val_object_put_cstr(o, "term", term_ast(t->items[0], depth + 1));
		}
		if (rc == 0)
			rc = val_object_put_cstr(o, "body", body_ast(t->body, depth + 1));
		if (rc < 0) {
			val_unref(o);
			o = NULL;
		}
		return typed(t->kind == T_ACOMP ? "arraycomprehension" : t->kind == T_SCOMP ? "setcomprehension"
											    : "objectcomprehension",
			     o);
	}
	case T_OBJECT:
		a = val_array_new(t->n / 2);
		for (size_t i = 0; a && i + 1 < t->n; i += 2)
			a = push(a, pair(term_ast(t->items[i], depth + 1), term_ast(t->items[i + 1], depth + 1)));
		return typed("object", a);
	default: /* refs, arrays, sets, templates: a list of terms */
		a = val_array_new(t->n);
		for (size_t i = 0; a && i < t->n; i++)
			a = push(a, term_ast(t->items[i], depth + 1));
		return typed(t->kind == T_REF ? "ref" : t->kind == T_ARRAY ? "array" : t->kind == T_SET ? "set" : "templatestring", a);
	}
}

static struct val *op_terms(const char *op, struct term *a, struct term *b, unsigned depth)
{
	return push(push(push(val_array_new(3), name_ref(op)), term_ast(a, depth)), term_ast(b, depth));
}

static struct val *expr_ast(struct expr *x, size_t index, unsigned depth)
{
	struct val *o = val_object_new(4), *terms = NULL;
	if (!o)
		return NULL;
	switch (x->kind) {
	case E_UNIFY: terms = op_terms("eq", x->a, x->b, depth + 1); break;
	case E_ASSIGN: terms = op_terms("assign", x->a, x->b, depth + 1); break;
	case E_TERM:
		if (x->a->kind == T_CALL) {
			/* a call expression's terms are the operator and operands */
			terms = push(val_array_new(x->a->n + 1), name_ref(x->a->name));
			for (size_t i = 0; terms && i < x->a->n; i++)
				terms = push(terms, term_ast(x->a->items[i], depth + 1));
		} else {
			terms = term_ast(x->a, depth + 1);
		}
		break;
	case E_SOME: {
		struct val *syms = val_array_new(x->nvars);
		for (size_t i = 0; syms && i < x->nvars; i++)
			syms = push(syms, term_ast(x->vars[i], depth + 1));
		terms = val_object_new(1);
		if (terms && val_object_put_cstr(terms, "symbols", syms) < 0) {
			val_unref(terms);
			terms = NULL;
		}
		break;
	}
	default: {
		/* some-in, every, not { }, and/or: their parts by name */
		terms = val_object_new(4);
		int rc = terms ? 0 : -ENOMEM;
		if (rc == 0 && x->a)
			rc = val_object_put_cstr(terms, "key", term_ast(x->a, depth + 1));
		if (rc == 0 && x->b)
			rc = val_object_put_cstr(terms, "value", term_ast(x->b, depth + 1));
		if (rc == 0 && x->c)
			rc = val_object_put_cstr(terms, "domain", term_ast(x->c, depth + 1));
		if (rc == 0 && x->body)
			rc = val_object_put_cstr(terms, "body", body_ast(x->body, depth + 1));
		if (rc < 0) {
			val_unref(terms);
			terms = NULL;
		}
		break;
	}
	}
	int rc = terms ? val_object_put_cstr(o, "terms", terms) : -ENOMEM;
	if (rc == 0)
		rc = val_object_put_cstr(o, "index", val_int((int64_t)index));
	if (rc == 0 && x->negated)
		rc = val_object_put_cstr(o, "negated", val_bool(true));
	if (rc == 0 && x->nwith) {
		struct val *ws = val_array_new(x->nwith);
		for (size_t i = 0; ws && i < x->nwith; i++) {
			struct val *w = val_object_new(2);
			if (w && (val_object_put_cstr(w, "target", term_ast(x->with[i].target, depth + 1)) < 0 ||
				  val_object_put_cstr(w, "value", term_ast(x->with[i].value, depth + 1)) < 0)) {
				val_unref(w);
				w = NULL;
			}
			ws = push(ws, w);
		}
		rc = val_object_put_cstr(o, "with", ws);
	}
	if (rc < 0) {
		val_unref(o);
		return NULL;
	}
	return o;
}

static struct val *body_ast(struct body *b, unsigned depth)
{
	if (!b || depth > AST_MAX_DEPTH)
		return NULL;
	struct val *a = val_array_new(b->n);
	for (size_t i = 0; a && i < b->n; i++)
		a = push(a, expr_ast(b->e[i], i, depth + 1));
	return a;
}

static struct val *rule_ast(struct rule *x, unsigned depth)
{
	struct val *head = val_object_new(5), *ref = val_array_new(x->npath), *o = val_object_new(4);
	int rc = head && ref && o ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < x->npath; i++)
		rc = val_array_push(ref, i == 0 ? var_ast(x->path[0]->v->str.s) : term_ast(x->path[i], depth + 1));
	if (rc == 0)
		rc = val_object_put_cstr(head, "name", val_ref(x->path[0]->v));
	if (rc == 0)
		rc = val_object_put_cstr(head, "ref", vref(ref));
	if (rc == 0 && x->key)
		rc = val_object_put_cstr(head, "key", term_ast(x->key, depth + 1));
	if (rc == 0 && x->value)
		rc = val_object_put_cstr(head, "value", term_ast(x->value, depth + 1));
	if (rc == 0 && x->nargs) {
		struct val *args = val_array_new(x->nargs);
		for (size_t i = 0; args && i < x->nargs; i++)
			args = push(args, term_ast(x->args[i], depth + 1));
		rc = val_object_put_cstr(head, "args", args);
	}
	if (rc == 0)
		rc = val_object_put_cstr(o, "head", vref(head));
	if (rc == 0)
		rc = val_object_put_cstr(o, "body", body_ast(x->body, depth + 1));
	if (rc == 0 && x->is_default)
		rc = val_object_put_cstr(o, "default", val_bool(true));
	if (rc == 0 && x->els)
		rc = val_object_put_cstr(o, "else", depth < AST_MAX_DEPTH ? rule_ast(x->els, depth + 1) : NULL);
	val_unref(head);
	val_unref(ref);
	if (rc < 0) {
		val_unref(o);
		return NULL;
	}
	return o;
}

static struct val *module_ast(struct module *m)
{
	struct val *o = val_object_new(3), *path = val_array_new(m->pkg->arr.n + 1);
	int rc = o && path && val_array_push(path, var_ast("data")) == 0 ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < m->pkg->arr.n; i++)
		rc = val_array_push(path, typed("string", val_ref(m->pkg->arr.items[i])));
	if (rc == 0) {
		struct val *pkg = val_object_new(1);
		rc = pkg ? val_object_put_cstr(pkg, "path", vref(path)) : -ENOMEM;
		if (rc == 0)
			rc = val_object_put_cstr(o, "package", pkg);
		else
			val_unref(pkg);
	}
	if (rc == 0 && m->nimports) {
		struct val *imps = val_array_new(m->nimports);
		for (size_t i = 0; imps && i < m->nimports; i++) {
			struct val *im = val_object_new(2);
			if (im && val_object_put_cstr(im, "path", term_ast(m->imports[i].ref, 0)) < 0) {
				val_unref(im);
				im = NULL;
			}
			imps = push(imps, im);
		}
		rc = val_object_put_cstr(o, "imports", imps);
	}
	if (rc == 0 && m->nrules) {
		struct val *rules = val_array_new(m->nrules);
		for (size_t i = 0; rules && i < m->nrules; i++)
			rules = push(rules, rule_ast(m->rules[i], 0));
		rc = val_object_put_cstr(o, "rules", rules);
	}
	val_unref(path);
	if (rc < 0) {
		val_unref(o);
		return NULL;
	}
	return o;
}

static int bi_parse_module(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "rego.parse_module", 1, "string", A0);
	if (A1->kind != VAL_STRING)
		return bi_type_err(ev, "rego.parse_module", 2, "string", A1);
	struct rego *r = rego_new();
	struct arca_err e = { 0 };
	if (!r)
		return -ENOMEM;
	int rc = rego_add_module(r, A0->str.s, A1->str.s, A1->str.len, 0, &e);
	if (rc == 0) {
		*out = module_ast(r->mods[0]);
		rc = *out ? 0 : -ENOMEM;
	} else if (rc != -ENOMEM) {
		rc = ev_error(ev, -EINVAL, EC_BUILTIN, "rego.parse_module: %s", err_msg(&e));
	}
	err_clear(&e);
	rego_free(r);
	return rc;
}

const struct builtin_decl rego_builtins_parsemodule[] = {
	{ "rego.parse_module", 2, bi_parse_module, "a module's syntax tree in OPA's AST JSON shape" },
	{ NULL, 0, NULL, NULL },
};
