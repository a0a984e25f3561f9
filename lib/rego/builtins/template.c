/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strings.render_template: the part of Go's text/template that policies
 * use: {{.a.b}}, {{$v}}, {{$v.a}}, literals, {{if}} / {{else if}} /
 * {{else}}, {{range [$i[, $v] :=] x}} with {{else}}, comment actions
 * and the {{- -}} trim markers. Functions and pipelines are refused.
 * Values print as Go's fmt does for the JSON values OPA hands over; a
 * missing key prints "<undefined>", as in OPA.
 *
 * The template is interpreted from its text: a block runs up to its
 * {{else}} or {{end}}, with output switched off where a branch is not
 * taken, so no tree is built. Every action costs an evaluation step.
 */
#include "../internal.h"

#include <ctype.h>

#define A0 args[0]
#define A1 args[1]

#define TMPL_MAX_DEPTH 64 /* nested if/range blocks */
#define TMPL_MAX_VARS 64  /* variables in scope */

struct tvar {
	const char *name; /* without '$'; "" for $ itself */
	size_t len;
	struct val *v;    /* borrowed */
};

struct tctx {
	struct ev *ev;
	const char *s;
	size_t n;
	struct buf *out;
	struct tvar vars[TMPL_MAX_VARS];
	size_t nvars;
	unsigned depth;
};

enum tend { TE_EOF, TE_END, TE_ELSE, TE_ELSEIF };

static int terr(struct tctx *c, const char *what)
{
	return ev_error(c->ev, -EINVAL, EC_BUILTIN, "strings.render_template: %s", what);
}

static bool is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

/* Go's %v of a JSON value. */
static void go_print(const struct val *v, struct buf *b)
{
	switch (v->kind) {
	case VAL_NULL: buf_addstr(b, "<nil>"); break;
	case VAL_BOOL: buf_addstr(b, v->b ? "true" : "false"); break;
	case VAL_NUMBER: val_to_json(v, b, 0); break;
	case VAL_STRING: buf_add(b, v->str.s, v->str.len); break;
	case VAL_ARRAY:
	case VAL_SET:
		buf_addch(b, '[');
		for (size_t i = 0; i < v->arr.n; i++) {
			if (i)
				buf_addch(b, ' ');
			go_print(v->arr.items[i], b);
		}
		buf_addch(b, ']');
		break;
	case VAL_OBJECT:
		buf_addstr(b, "map[");
		for (size_t i = 0; i < v->obj.n; i++) {
			if (i)
				buf_addch(b, ' ');
			go_print(v->obj.keys[i], b);
			buf_addch(b, ':');
			go_print(v->obj.vals[i], b);
		}
		buf_addch(b, ']');
		break;
	}
}

/* Go's truth: false, 0, nil and empty values are false. */
static bool go_true(const struct val *v)
{
	if (!v)
		return false;
	switch (v->kind) {
	case VAL_NULL: return false;
	case VAL_BOOL: return v->b;
	case VAL_NUMBER: return num_d(v) != 0;
	case VAL_STRING: return v->str.len != 0;
	case VAL_ARRAY:
	case VAL_SET: return v->arr.n != 0;
	default: return v->obj.n != 0;
	}
}

static size_t ident_end(const char *s, size_t i, size_t e)
{
	while (i < e && (isalnum((unsigned char)s[i]) || s[i] == '_'))
		i++;
	return i;
}

/* Follows ".a.b" from @v (fields from s[i..e)); NULL when a key is missing. */
static int fields(struct tctx *c, struct val *v, size_t i, size_t e, struct val **out)
{
	for (size_t k = i; k < e; k = ident_end(c->s, k + 1, e))
		if (c->s[k] != '.' || ident_end(c->s, k + 1, e) == k + 1)
			return terr(c, "unsupported expression (only fields, variables and literals)");
	while (i < e && v) {
		size_t j = ident_end(c->s, i + 1, e);
		if (v->kind != VAL_OBJECT)
			return terr(c, "can't evaluate a field of a value that is not an object");
		v = val_object_get(v, &(struct val){ .refs = 0, .kind = VAL_STRING,
						     .str = { (char *)c->s + i + 1, j - i - 1 } });
		i = j;
	}
	*out = v;
	return 0;
}

/* Evaluates the operand s[i..e) with @dot: *out borrowed (or @own, a new
 * reference for literals), NULL when undefined. */
static int operand(struct tctx *c, size_t i, size_t e, struct val *dot, struct val **out, struct val **own)
{
	const char *s = c->s;
	*own = NULL;
	while (i < e && is_space(s[i]))
		i++;
	while (e > i && is_space(s[e - 1]))
		e--;
	if (i == e)
		return terr(c, "missing value");
	if (s[i] == '.')
		return e == i + 1 ? (*out = dot, 0) : fields(c, dot, i, e, out);
	if (s[i] == '$') {
		size_t j = ident_end(s, i + 1, e);
		for (size_t k = c->nvars; k > 0; k--) {
			struct tvar *x = &c->vars[k - 1];
			if (x->len == j - i - 1 && memcmp(x->name, s + i + 1, x->len) == 0)
				return fields(c, x->v, j, e, out);
		}
		return terr(c, "undefined variable");
	}
	struct val *lit = NULL;
	if (s[i] == '"' || s[i] == '-' || isdigit((unsigned char)s[i]) || !strncmp(s + i, "true", e - i) ||
	    !strncmp(s + i, "false", e - i) || !strncmp(s + i, "nil", e - i)) {
		if (e - i == 3 && !memcmp(s + i, "nil", 3))
			lit = val_null();
		else if (val_from_json(s + i, e - i, NULL, &lit, NULL) < 0)
			lit = NULL;
	}
	if (!lit)
		return terr(c, "unsupported expression (only fields, variables and literals)");
	*own = lit;
	*out = lit;
	return 0;
}

/* The next action at or after @pos: text before it is s[pos..*text_end),
 * its content s[*a..*b), and *next the position after it. false at the
 * end of the template. Trim markers are applied to the text bounds. */
static int next_action(struct tctx *c, size_t pos, size_t *text_end, size_t *a, size_t *b, size_t *next, bool *found)
{
	const char *s = c->s;
	const char *o = pos < c->n ? memmem(s + pos, c->n - pos, "{{", 2) : NULL;
	*found = o != NULL;
	if (!o) {
		*text_end = c->n;
		return 0;
	}
	size_t k = (size_t)(o - s), i = k + 2;
	*text_end = k;
	if (i + 1 < c->n && s[i] == '-' && is_space(s[i + 1])) {
		while (*text_end > pos && is_space(s[*text_end - 1]))
			(*text_end)--;
		i++;
	}
	size_t j = i;
	bool instr = false;
	for (; j + 1 < c->n; j++) {
		if (instr && s[j] == '\\')
			j++;
		else if (s[j] == '"')
			instr = !instr;
		else if (!instr && s[j] == '}' && s[j + 1] == '}')
			break;
	}
	if (j + 1 >= c->n)
		return terr(c, "unclosed action");
	*next = j + 2;
	size_t e = j;
	if (e >= i + 2 && s[e - 1] == '-' && is_space(s[e - 2])) {
		e--;
		while (*next < c->n && is_space(s[*next]))
			(*next)++;
	}
	while (i < e && is_space(s[i]))
		i++;
	while (e > i && is_space(s[e - 1]))
		e--;
	*a = i;
	*b = e;
	return 0;
}

static bool kw(struct tctx *c, size_t a, size_t b, const char *w)
{
	size_t l = strlen(w);
	return b - a >= l && !memcmp(c->s + a, w, l) && (b - a == l || is_space(c->s[a + l]));
}

static int block(struct tctx *c, size_t pos, struct val *dot, bool emit, size_t *after, enum tend *t, size_t *ca,
		 size_t *cb);

/* {{if}} at s[a..b) (condition after "if"); runs to its {{end}}. */
static int run_if(struct tctx *c, size_t ca, size_t cb, size_t pos, struct val *dot, bool emit, size_t *after)
{
	bool taken = false;
	for (;;) {
		bool cond = false;
		if (emit && !taken) {
			struct val *v, *own;
			int rc = operand(c, ca, cb, dot, &v, &own);
			if (rc < 0)
				return rc;
			cond = go_true(v);
			val_unref(own);
		}
		enum tend t;
		int rc = block(c, pos, dot, emit && !taken && cond, &pos, &t, &ca, &cb);
		if (rc < 0)
			return rc;
		taken = taken || cond;
		if (t == TE_END) {
			*after = pos;
			return 0;
		}
		if (t == TE_ELSE) {
			rc = block(c, pos, dot, emit && !taken, &pos, &t, &ca, &cb);
			if (rc < 0)
				return rc;
			if (t != TE_END)
				return terr(c, "expected {{end}} after {{else}}");
			*after = pos;
			return 0;
		}
		if (t != TE_ELSEIF)
			return terr(c, "unterminated {{if}}");
	}
}

static int run_range(struct tctx *c, size_t ca, size_t cb, size_t pos, struct val *dot, bool emit, size_t *after)
{
	/* optional "$i, $v :=" or "$v :=" */
	struct tvar names[2];
	size_t nn = 0;
	const char *decl = memmem(c->s + ca, cb - ca, ":=", 2);
	if (decl) {
		size_t i = ca, e = (size_t)(decl - c->s);
		while (i < e && nn < 2) {
			while (i < e && (is_space(c->s[i]) || c->s[i] == ','))
				i++;
			if (i == e)
				break;
			if (c->s[i] != '$')
				return terr(c, "bad range variable");
			size_t j = ident_end(c->s, i + 1, e);
			names[nn++] = (struct tvar){ c->s + i + 1, j - i - 1, NULL };
			i = j;
		}
		ca = e + 2;
	}
	struct val *coll = NULL, *own = NULL;
	if (emit) {
		int rc = operand(c, ca, cb, dot, &coll, &own);
		if (rc < 0)
			return rc;
	}
	size_t n = !coll ? 0 : coll->kind == VAL_OBJECT ? coll->obj.n : (coll->kind == VAL_ARRAY || coll->kind == VAL_SET) ? coll->arr.n : 0;
	if (coll && n == 0 && coll->kind != VAL_OBJECT && coll->kind != VAL_ARRAY && coll->kind != VAL_SET && coll->kind != VAL_NULL) {
		val_unref(own);
		return terr(c, "range can't iterate over a value that is not a collection");
	}
	enum tend t = TE_EOF;
	size_t end = pos;
	int rc = 0;
	if (n == 0 || c->nvars + 2 > TMPL_MAX_VARS) {
		rc = block(c, pos, dot, false, &end, &t, &ca, &cb);
	} else {
		for (size_t k = 0; k < n && rc == 0; k++) {
			struct val *key = coll->kind == VAL_OBJECT ? coll->obj.keys[k] : coll->kind == VAL_SET ? coll->arr.items[k] : val_int((int64_t)k);
			struct val *el = coll->kind == VAL_OBJECT ? coll->obj.vals[k] : coll->arr.items[k];
			size_t mark = c->nvars;
			if (nn == 2) {
				c->vars[c->nvars++] = (struct tvar){ names[0].name, names[0].len, key };
				c->vars[c->nvars++] = (struct tvar){ names[1].name, names[1].len, el };
			} else if (nn == 1) {
				c->vars[c->nvars++] = (struct tvar){ names[0].name, names[0].len, el };
			}
			rc = block(c, pos, el, true, &end, &t, &ca, &cb);
			c->nvars = mark;
			if (coll->kind == VAL_ARRAY)
				val_unref(key);
		}
	}
	if (rc == 0 && t == TE_ELSE)
		rc = block(c, end, dot, emit && n == 0, &end, &t, &ca, &cb);
	val_unref(own);
	if (rc < 0)
		return rc;
	if (t != TE_END)
		return terr(c, "unterminated {{range}}");
	*after = end;
	return 0;
}

/* Runs the actions from @pos until {{end}}, {{else}} or the end of the
 * template (*t says which; *after is past it; for {{else if x}} the
 * condition is s[*ca..*cb)). Output only when @emit. */
static int block(struct tctx *c, size_t pos, struct val *dot, bool emit, size_t *after, enum tend *t, size_t *ca,
		 size_t *cb)
{
	if (++c->depth > TMPL_MAX_DEPTH) {
		c->depth--;
		return terr(c, "blocks nested too deeply");
	}
	int rc = 0;
	for (;;) {
		size_t te = pos, a = 0, b = 0, next = pos;
		bool found;
		rc = next_action(c, pos, &te, &a, &b, &next, &found);
		if (rc < 0)
			break;
		if (emit)
			buf_add(c->out, c->s + pos, te - pos);
		if (!found) {
			*t = TE_EOF;
			*after = c->n;
			break;
		}
		if ((rc = ev_step(c->ev)) < 0)
			break;
		pos = next;
		if (b - a >= 4 && !memcmp(c->s + a, "/*", 2) && !memcmp(c->s + b - 2, "*/", 2))
			continue;
		if (kw(c, a, b, "end")) {
			*t = TE_END;
			*after = pos;
			break;
		}
		if (kw(c, a, b, "else")) {
			size_t i = a + 4;
			while (i < b && is_space(c->s[i]))
				i++;
			if (i < b && kw(c, i, b, "if")) {
				*t = TE_ELSEIF;
				*ca = i + 2;
				*cb = b;
			} else {
				*t = TE_ELSE;
			}
			*after = pos;
			break;
		}
		if (kw(c, a, b, "if"))
			rc = run_if(c, a + 2, b, pos, dot, emit, &pos);
		else if (kw(c, a, b, "range"))
			rc = run_range(c, a + 5, b, pos, dot, emit, &pos);
		else if (emit) {
			struct val *v, *own;
			rc = operand(c, a, b, dot, &v, &own);
			if (rc == 0) {
				if (v)
					go_print(v, c->out);
				else
					buf_addstr(c->out, "<undefined>");
			}
			val_unref(own);
		}
		if (rc < 0)
			break;
	}
	c->depth--;
	return rc;
}

static int bi_render_template(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "strings.render_template", 1, "string", A0);
	if (A1->kind != VAL_OBJECT)
		return bi_type_err(ev, "strings.render_template", 2, "object", A1);
	struct buf b = BUF_INIT;
	struct tctx c = { .ev = ev, .s = A0->str.s, .n = A0->str.len, .out = &b };
	c.vars[c.nvars++] = (struct tvar){ "", 0, A1 };
	size_t after, ca, cb;
	enum tend t;
	int rc = block(&c, 0, A1, true, &after, &t, &ca, &cb);
	if (rc == 0 && t != TE_EOF)
		rc = terr(&c, t == TE_END ? "unexpected {{end}}" : "unexpected {{else}}");
	if (rc == 0 && buf_error(&b))
		rc = -ENOMEM;
	if (rc == 0) {
		*out = val_string(b.p, b.len);
		rc = *out ? 0 : -ENOMEM;
	}
	buf_release(&b);
	return rc;
}

const struct builtin_decl rego_builtins_template[] = {
	{ "strings.render_template", 2, bi_render_template, "Go text/template subset: fields, variables, if, range" },
	{ NULL, 0, NULL, NULL },
};
