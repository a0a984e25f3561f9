/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rego parser, terms and expressions: the grammar that rule heads, rule
 * bodies, queries and input terms share (refs, calls, operators, collections,
 * comprehensions, literals with some/every/not/with, bodies, template
 * strings). Kept apart from parser.c, which holds the module level and the
 * entry points, so that each reads in one sitting; the parser state and the
 * helpers both use are declared in internal.h.
 * Operator precedence follows OPA: in < relational < | < & < + - < * / %.
 */
#include "internal.h"

static struct term *mk_call(struct parser *p, const char *name, struct term *a, struct term *b)
{
	struct term *t = mk(p, T_CALL);
	if (!t || !a || (b == NULL && strcmp(name, "minus") != 0 && 0))
		return NULL;
	t->name = rego_intern(p->r, name, strlen(name));
	t->n = b ? 2 : 1;
	t->items = rego_alloc(p->r, 2 * sizeof(struct term *));
	if (!t->items || !t->name) {
		p->rc = -ENOMEM;
		return NULL;
	}
	t->items[0] = a;
	t->items[1] = b;
	t->line = a->line;
	return t;
}

static struct term *parse_term_noor(struct parser *p);

/* Ref operands after a head: .name and [term]. A '[' that starts a new line
 * begins a new expression instead. */
struct term *parse_ref_ops(struct parser *p, struct term *head)
{
	struct plist ops = { 0 };
	if (!head)
		return NULL;
	while (p->rc == 0) {
		struct tok *t = cur(p);
		if (t->kind == TK_DOT && peek(p, 1)->kind == TK_IDENT && !peek(p, 1)->nlb) {
			adv(p);
			pl_push(p, &ops, mk_str(p, cur(p)->text, cur(p)->len));
			adv(p);
		} else if (t->kind == TK_DOT && peek(p, 1)->kind == TK_EOF) {
			adv(p);
			perr(p, "unexpected eof token: expected ident");
			break;
		} else if (t->kind == TK_LBRACK && !t->nlb) {
			adv(p);
			pl_push(p, &ops, parse_term(p));
			if (cur(p)->kind != TK_RBRACK) {
				perr(p, "expected ']'");
				break;
			}
			adv(p);
		} else {
			break;
		}
	}
	if (p->rc < 0 || ops.n == 0) {
		free(ops.v);
		return p->rc < 0 ? NULL : head;
	}
	if (head->kind == T_REF) {
		/* extend an existing ref */
		struct term **items = rego_alloc(p->r, (head->n + ops.n) * sizeof(*items));
		if (!items) {
			free(ops.v);
			p->rc = -ENOMEM;
			return NULL;
		}
		memcpy(items, head->items, head->n * sizeof(*items));
		memcpy(items + head->n, ops.v, ops.n * sizeof(*items));
		head->items = items;
		head->n += ops.n;
		free(ops.v);
		return head;
	}
	struct term *ref = mk(p, T_REF);
	if (!ref) {
		free(ops.v);
		return NULL;
	}
	ref->line = head->line;
	struct plist all = { 0 };
	pl_push(p, &all, head);
	for (size_t i = 0; i < ops.n; i++)
		pl_push(p, &all, ops.v[i]);
	free(ops.v);
	ref->n = all.n;
	ref->items = pl_finish(p, &all);
	return p->rc < 0 ? NULL : ref;
}

/* Dotted name of a ref made of a var head and constant-string operands
 * (for calls: count, strings.replace_n, data.pkg.f). */
static bool ref_dotted(struct term *t, struct buf *b)
{
	if (t->kind == T_VAR) {
		buf_addstr(b, t->name);
		return true;
	}
	if (t->kind != T_REF || t->items[0]->kind != T_VAR)
		return false;
	buf_addstr(b, t->items[0]->name);
	for (size_t i = 1; i < t->n; i++) {
		struct term *o = t->items[i];
		if (o->kind != T_VALUE || o->v->kind != VAL_STRING)
			return false;
		buf_addch(b, '.');
		buf_add(b, o->v->str.s, o->v->str.len);
	}
	return true;
}

static struct term *parse_call_args(struct parser *p, struct term *fn)
{
	struct buf name = BUF_INIT;
	if (!ref_dotted(fn, &name)) {
		buf_release(&name);
		perr(p, "invalid function name");
		return NULL;
	}
	struct term *c = mk(p, T_CALL);
	if (!c) {
		buf_release(&name);
		return NULL;
	}
	c->line = fn->line;
	c->name = rego_intern(p->r, name.p, name.len);
	buf_release(&name);
	adv(p); /* ( */
	c->items = parse_arg_list(p, &c->n, "call");
	return p->rc < 0 ? NULL : c;
}

struct term **parse_arg_list(struct parser *p, size_t *n, const char *what)
{
	struct plist args = { 0 };
	while (p->rc == 0 && cur(p)->kind != TK_RPAREN) {
		pl_push(p, &args, parse_term(p));
		if (cur(p)->kind == TK_COMMA)
			adv(p);
		else if (cur(p)->kind != TK_RPAREN)
			perr(p, "expected ',' or ')' in %s", what);
	}
	adv(p);
	*n = args.n;
	return pl_finish(p, &args);
}

static struct term *parse_template(struct parser *p, struct tok *tk);
static struct term *mk_member3(struct parser *p, struct term *k, struct term *v, struct term *coll);
static struct term *parse_rel(struct parser *p, bool allow_or);
static struct term *parse_kv_in(struct parser *p, struct term *k);

/* Ground composite literals become constants so evaluation does not
 * rebuild them every time. */
static struct term *fold_const(struct parser *p, struct term *t)
{
	if (!t || (t->kind != T_ARRAY && t->kind != T_SET && t->kind != T_OBJECT))
		return t;
	for (size_t i = 0; i < t->n; i++)
		if (t->items[i]->kind != T_VALUE)
			return t;
	struct val *v = NULL;
	if (const_value(t, &v) < 0)
		return t;
	if (rego_hold(p->r, v) < 0) {
		p->rc = -ENOMEM;
		return NULL;
	}
	t->kind = T_VALUE;
	t->v = v;
	t->items = NULL;
	t->n = 0;
	return t;
}

/* A comprehension after its head (@a, and @b for an object's value): the
 * '|', then the body up to @close. */
static struct term *mk_comp(struct parser *p, enum term_kind k, struct term *a, struct term *b, enum tok_kind close)
{
	adv(p);
	struct term *res = mk(p, k);
	size_t n = b ? 2 : 1;
	if (!res || !(res->items = rego_alloc(p->r, n * sizeof(struct term *))))
		return NULL;
	res->items[0] = a;
	if (b)
		res->items[1] = b;
	res->n = n;
	res->body = parse_query_until(p, close);
	if (p->rc < 0)
		return NULL;
	adv(p);
	return res;
}

/* The rest of an array or set: `, item`... up to @close (a trailing comma
 * allowed; an object's pairs arrive here already read), then the term. */
static struct term *finish_items(struct parser *p, struct plist *items, enum tok_kind close, enum term_kind k)
{
	while (k != T_OBJECT && p->rc == 0 && cur(p)->kind == TK_COMMA) {
		adv(p);
		if (cur(p)->kind == close)
			break;
		pl_push(p, items, parse_term(p));
	}
	if (p->rc == 0 && cur(p)->kind != close)
		perr(p, close == TK_RBRACK ? "expected ']'" : "expected '}'");
	adv(p);
	struct term *res = mk(p, k);
	if (!res) {
		free(items->v);
		return NULL;
	}
	res->n = items->n;
	res->items = pl_finish(p, items);
	return res;
}

struct term *parse_primary(struct parser *p)
{
	struct tok *t = cur(p);
	struct term *res = NULL;

	if (++p->depth > REGO_MAX_PARSE_DEPTH) {
		perr(p, "nesting deeper than %d", REGO_MAX_PARSE_DEPTH);
		return NULL;
	}
	switch (t->kind) {
	case TK_NUMBER:
		res = mk_val(p, val_number_text(t->text, t->len));
		adv(p);
		break;
	case TK_STRING:
		res = mk_str(p, t->text, t->len);
		adv(p);
		break;
	case TK_TEMPLATE:
		res = parse_template(p, t);
		adv(p);
		break;
	case TK_MINUS:
		adv(p);
		if (cur(p)->kind == TK_NUMBER && !cur(p)->nlb) {
			struct buf b = BUF_INIT;
			buf_addch(&b, '-');
			buf_add(&b, cur(p)->text, cur(p)->len);
			res = buf_error(&b) ? NULL : mk_val(p, val_number_text(b.p, b.len));
			buf_release(&b);
			adv(p);
		} else {
			struct term *x = parse_primary(p);
			struct term *zero = mk_val(p, val_int(0));
			res = x && zero ? mk_call(p, "minus", zero, x) : NULL;
		}
		break;
	case TK_LPAREN:
		adv(p);
		res = parse_term(p);
		if (p->rc == 0 && res && cur(p)->kind == TK_COMMA) {
			adv(p);
			res = parse_kv_in(p, res);
			if (p->rc == 0 && !res)
				perr(p, "expected 'in' after ','");
		}
		if (cur(p)->kind != TK_RPAREN) {
			perr(p, "expected ')'");
			return NULL;
		}
		adv(p);
		break;
	case TK_LBRACK: {
		adv(p);
		struct plist items = { 0 };
		if (cur(p)->kind != TK_RBRACK) {
			struct term *first = parse_term_noor(p);
			if (p->rc == 0 && cur(p)->kind == TK_PIPE) {
				if (!(res = mk_comp(p, T_ACOMP, first, NULL, TK_RBRACK)))
					return NULL;
				break;
			}
			pl_push(p, &items, first);
		}
		res = finish_items(p, &items, TK_RBRACK, T_ARRAY);
		break;
	}
	case TK_LBRACE: {
		adv(p);
		struct plist items = { 0 };
		if (cur(p)->kind == TK_RBRACE) {
			adv(p);
			res = mk(p, T_OBJECT);
			break;
		}
		struct term *first = parse_term_noor(p);
		if (p->rc < 0)
			return NULL;
		if (cur(p)->kind != TK_COLON) {
			if (cur(p)->kind == TK_PIPE) {
				if (!(res = mk_comp(p, T_SCOMP, first, NULL, TK_RBRACE)))
					return NULL;
				break;
			}
			pl_push(p, &items, first);
			res = finish_items(p, &items, TK_RBRACE, T_SET);
			break;
		}
		adv(p);
		struct term *v1 = parse_term_noor(p);
		if (p->rc == 0 && cur(p)->kind == TK_PIPE) {
			if (!(res = mk_comp(p, T_OCOMP, first, v1, TK_RBRACE)))
				return NULL;
			break;
		}
		pl_push(p, &items, first);
		pl_push(p, &items, v1);
		while (p->rc == 0 && cur(p)->kind == TK_COMMA) {
			adv(p);
			if (cur(p)->kind == TK_RBRACE)
				break;
			pl_push(p, &items, parse_term(p));
			if (cur(p)->kind != TK_COLON) {
				perr(p, "expected ':' in object");
				break;
			}
			adv(p);
			pl_push(p, &items, parse_term(p));
		}
		res = finish_items(p, &items, TK_RBRACE, T_OBJECT);
		break;
	}
	case TK_IDENT:
		if ((strcmp(t->text, "true") == 0 || strcmp(t->text, "false") == 0) && !(peek(p, 1)->kind == TK_DOT && !peek(p, 1)->nlb)) {
			res = mk_val(p, val_bool(t->text[0] == 't'));
			adv(p);
		} else if (strcmp(t->text, "null") == 0 && !(peek(p, 1)->kind == TK_DOT && !peek(p, 1)->nlb)) {
			res = mk_val(p, val_null());
			adv(p);
		} else if (strcmp(t->text, "set") == 0 && peek(p, 1)->kind == TK_LPAREN &&
			   peek(p, 2)->kind == TK_RPAREN) {
			adv(p);
			adv(p);
			adv(p);
			res = mk(p, T_SET);
		} else if (reserved(t->text) && !(peek(p, 1)->kind == TK_DOT && !peek(p, 1)->nlb) &&
			   !(strcmp(t->text, "contains") == 0 && peek(p, 1)->kind == TK_LPAREN && !peek(p, 1)->nlb) && !(p->v0 && (strcmp(t->text, "if") == 0 || strcmp(t->text, "contains") == 0 ||
							     strcmp(t->text, "in") == 0 || strcmp(t->text, "every") == 0))) {
			perr(p, "unexpected %s keyword", t->text);
			return NULL;
		} else {
			res = mk_var(p, t->text, t->len);
			adv(p);
			/* dotted names directly followed by '(' are calls */
			res = parse_ref_ops(p, res);
			if (p->rc == 0 && cur(p)->kind == TK_LPAREN && !cur(p)->nlb)
				res = parse_call_args(p, res);
		}
		break;
	default:
		perr(p, "unexpected token");
		return NULL;
	}
	if (p->rc < 0)
		return NULL;
	res = fold_const(p, res);
	res = parse_ref_ops(p, res);
	p->depth--;
	return res;
}

static struct term *parse_factor(struct parser *p)
{
	struct term *l = parse_primary(p);
	while (p->rc == 0 && l) {
		const char *op = NULL;
		switch (cur(p)->kind) {
		case TK_STAR: op = "mul"; break;
		case TK_SLASH: op = "div"; break;
		case TK_PERCENT: op = "rem"; break;
		default: return l;
		}
		adv(p);
		l = mk_call(p, op, l, parse_primary(p));
	}
	return l;
}

static struct term *parse_arith(struct parser *p)
{
	struct term *l = parse_factor(p);
	while (p->rc == 0 && l) {
		const char *op = NULL;
		if (cur(p)->nlb)
			return l; /* "-x" on a new line starts a new expression */
		switch (cur(p)->kind) {
		case TK_PLUS: op = "plus"; break;
		case TK_MINUS: op = "minus"; break;
		default: return l;
		}
		adv(p);
		struct term *r = parse_factor(p);
		l = r ? mk_call(p, op, l, r) : NULL;
	}
	return l;
}

static struct term *parse_and(struct parser *p)
{
	struct term *l = parse_arith(p);
	while (p->rc == 0 && l && cur(p)->kind == TK_AMP) {
		adv(p);
		struct term *r = parse_arith(p);
		l = r ? mk_call(p, "and", l, r) : NULL;
	}
	return l;
}

static struct term *parse_or_lvl(struct parser *p, bool allow_or)
{
	struct term *l = parse_and(p);
	while (allow_or && p->rc == 0 && l && cur(p)->kind == TK_PIPE) {
		adv(p);
		struct term *r = parse_and(p);
		l = r ? mk_call(p, "or", l, r) : NULL;
	}
	return l;
}

static struct term *parse_rel(struct parser *p, bool allow_or)
{
	struct term *l = parse_or_lvl(p, allow_or);
	while (p->rc == 0 && l) {
		const char *op = NULL;
		switch (cur(p)->kind) {
		case TK_EQ: op = "equal"; break;
		case TK_NEQ: op = "neq"; break;
		case TK_LT: op = "lt"; break;
		case TK_LE: op = "lte"; break;
		case TK_GT: op = "gt"; break;
		case TK_GE: op = "gte"; break;
		default: return l;
		}
		adv(p);
		struct term *r = parse_or_lvl(p, allow_or);
		l = r ? mk_call(p, op, l, r) : NULL;
	}
	return l;
}

static bool in_kw(struct parser *p)
{
	/* a newline ends the expression: "in" on the next line starts a new
	 * rule or expression (e.g. a rule named in.foo) */
	return cur(p)->kind == TK_IDENT && strcmp(cur(p)->text, "in") == 0 && !cur(p)->nlb;
}

static struct term *parse_in(struct parser *p, bool allow_or)
{
	struct term *l = parse_rel(p, allow_or);
	while (p->rc == 0 && l && in_kw(p)) {
		adv(p);
		struct term *r = parse_rel(p, allow_or);
		l = r ? mk_call(p, "internal.member_2", l, r) : NULL;
	}
	return l;
}

struct term *parse_term(struct parser *p) { return parse_in(p, true); }
static struct term *parse_term_noor(struct parser *p) { return parse_in(p, false); }

/* After "k," has been read: "v in coll", where `in` takes the operands
 * next to it, so "k, v in c in d" is ((k, v in c) in d) as in OPA. NULL
 * without an error when no `in` follows v (the caller backtracks). */
static struct term *parse_kv_in(struct parser *p, struct term *k)
{
	struct term *v = parse_rel(p, true);
	if (p->rc < 0 || !v || !in_kw(p))
		return NULL;
	adv(p);
	struct term *c = parse_rel(p, true);
	struct term *l = c ? mk_member3(p, k, v, c) : NULL;
	while (p->rc == 0 && l && in_kw(p)) {
		adv(p);
		struct term *r = parse_rel(p, true);
		l = r ? mk_call(p, "internal.member_2", l, r) : NULL;
	}
	return p->rc < 0 ? NULL : l;
}

/* "k, v in coll" used as a term (outside some/every). */
static struct term *mk_member3(struct parser *p, struct term *k, struct term *v, struct term *coll)
{
	struct term *t = mk(p, T_CALL);
	if (!t)
		return NULL;
	t->name = rego_intern(p->r, "internal.member_3", 17);
	t->items = rego_alloc(p->r, 3 * sizeof(struct term *));
	if (!t->items || !t->name) {
		p->rc = -ENOMEM;
		return NULL;
	}
	t->items[0] = k;
	t->items[1] = v;
	t->items[2] = coll;
	t->n = 3;
	t->line = k->line;
	return t;
}

static struct expr *mk_expr(struct parser *p, enum expr_kind k)
{
	struct expr *x = rego_alloc(p->r, sizeof(*x));
	if (!x) {
		p->rc = -ENOMEM;
		return NULL;
	}
	x->kind = k;
	x->line = cur(p)->line;
	return x;
}

static struct expr *parse_literal(struct parser *p)
{
	struct expr *x = NULL;

	if (is_kw(p, "not")) {
		adv(p);
		if (cur(p)->kind == TK_LBRACE) {
			x = mk_expr(p, E_BODY);
			if (!x)
				return NULL;
			x->body = parse_body_braces(p);
			x->negated = true;
			return p->rc < 0 ? NULL : x;
		}
		x = parse_literal(p);
		if (x)
			x->negated = true;
		return x;
	}
	if (is_kw(p, "some") || is_kw(p, "every")) {
		bool every = is_kw(p, "every");
		adv(p);
		struct plist vars = { 0 };
		struct term *first = parse_rel(p, false), *second = NULL;
		if (p->rc == 0 && cur(p)->kind == TK_COMMA) {
			adv(p);
			second = parse_rel(p, false);
			if (p->rc == 0 && !in_kw(p) && !every) {
				/* some a, b, c */
				pl_push(p, &vars, first);
				pl_push(p, &vars, second);
				while (p->rc == 0 && cur(p)->kind == TK_COMMA) {
					adv(p);
					pl_push(p, &vars, parse_rel(p, false));
				}
				goto decl;
			}
		}
		if (p->rc < 0)
			return NULL;
		if (in_kw(p)) {
			adv(p);
			x = mk_expr(p, every ? E_EVERY : E_SOME_IN);
			if (!x)
				return NULL;
			x->a = second ? first : NULL;
			x->b = second ? second : first;
			x->c = parse_rel(p, true);
			if (every)
				x->body = parse_body_braces(p);
			goto with;
		}
		if (every) {
			perr(p, "expected 'in' in every");
			return NULL;
		}
		pl_push(p, &vars, first);
	decl:
		for (size_t i = 0; i < vars.n && p->rc == 0; i++)
			if (((struct term *)vars.v[i])->kind != T_VAR)
				perr(p, "expected variable in some declaration");
		x = mk_expr(p, E_SOME);
		if (x) {
			x->nvars = vars.n;
			x->vars = pl_finish(p, &vars);
		} else {
			free(vars.v);
		}
		return p->rc < 0 ? NULL : x;
	}
	{
		struct term *l = parse_term(p);
		if (p->rc < 0)
			return NULL;
		if (cur(p)->kind == TK_COMMA && !cur(p)->nlb) {
			/* "k, v in xs" as an expression */
			size_t save = p->i;
			adv(p);
			struct term *t = parse_kv_in(p, l);
			if (p->rc < 0)
				return NULL;
			if (t) {
				x = mk_expr(p, E_TERM);
				if (x)
					x->a = t;
				goto with;
			}
			p->i = save;
		}
		if (cur(p)->kind == TK_UNIFY || cur(p)->kind == TK_ASSIGN) {
			x = mk_expr(p, cur(p)->kind == TK_UNIFY ? E_UNIFY : E_ASSIGN);
			adv(p);
			if (!x)
				return NULL;
			x->line = l->line;
			x->a = l;
			x->b = parse_term(p);
			if (p->rc == 0 && x->b && cur(p)->kind == TK_COMMA && !cur(p)->nlb) {
				/* x := k, v in coll */
				size_t save = p->i;
				adv(p);
				struct term *t = parse_kv_in(p, x->b);
				if (p->rc < 0)
					return NULL;
				if (t)
					x->b = t;
				else
					p->i = save;
			}
		} else {
			x = mk_expr(p, E_TERM);
			if (!x)
				return NULL;
			x->line = l->line;
			x->a = l;
		}
	}
with:
	if (p->rc < 0 || !x)
		return NULL;
	{
		struct with ws[32];
		size_t nw = 0;
		while (is_kw(p, "with") && p->rc == 0) {
			adv(p);
			if (nw == ARRAY_SIZE(ws)) {
				perr(p, "too many with modifiers");
				return NULL;
			}
			ws[nw].target = parse_primary(p);
			if (!is_kw(p, "as")) {
				perr(p, "expected 'as' in with");
				return NULL;
			}
			adv(p);
			ws[nw].value = parse_term(p);
			nw++;
		}
		if (nw) {
			x->with = rego_alloc(p->r, nw * sizeof(struct with));
			if (!x->with) {
				p->rc = -ENOMEM;
				return NULL;
			}
			memcpy(x->with, ws, nw * sizeof(struct with));
			x->nwith = nw;
		}
	}
	return p->rc < 0 ? NULL : x;
}

struct body *one_body(struct parser *p, struct expr *x)
{
	struct body *b = rego_alloc(p->r, sizeof(*b));
	struct expr **e = rego_alloc(p->r, sizeof(*e));
	if (!b || !e) {
		p->rc = -ENOMEM;
		return NULL;
	}
	e[0] = x;
	b->e = e;
	b->n = 1;
	return b;
}

static struct expr *parse_logic_or(struct parser *p);

/* Operand of and/or: a literal, an explicit { body }, or a ( group ). */
static struct expr *parse_logic_operand(struct parser *p)
{
	if (cur(p)->kind == TK_LBRACE) {
		struct expr *x = mk_expr(p, E_BODY);
		if (!x)
			return NULL;
		x->body = parse_body_braces(p);
		return p->rc < 0 ? NULL : x;
	}
	if (cur(p)->kind == TK_LPAREN) {
		/* try a parenthesised logic group; fall back to a term */
		size_t save = p->i;
		adv(p);
		struct expr *x = parse_logic_or(p);
		if (p->rc == 0 && x && (x->kind == E_AND || x->kind == E_OR || x->nwith || x->negated) &&
		    cur(p)->kind == TK_RPAREN) {
			adv(p);
			return x;
		}
		p->rc = 0;
		if (p->e)
			err_clear(p->e);
		p->i = save;
	}
	if (is_kw(p, "not") && peek(p, 1)->kind == TK_LPAREN) {
		adv(p);
		struct expr *x = parse_logic_operand(p);
		if (!x)
			return NULL;
		if (x->kind == E_AND || x->kind == E_OR) {
			struct expr *n = mk_expr(p, E_BODY);
			if (!n)
				return NULL;
			n->body = one_body(p, x);
			n->negated = true;
			return n;
		}
		x->negated = !x->negated;
		return x;
	}
	return parse_literal(p);
}

/* `a and b`, `a or b`: left-associative chains of @kind over @operand,
 * while the keyword is imported (@enabled). */
static struct expr *parse_logic_chain(struct parser *p, enum expr_kind kind, const char *kw, bool enabled,
				      struct expr *(*operand)(struct parser *))
{
	struct expr *l = operand(p);
	while (p->rc == 0 && l && enabled && is_kw(p, kw)) {
		adv(p);
		struct expr *r = operand(p);
		struct expr *x = r ? mk_expr(p, kind) : NULL;
		if (!x)
			return NULL;
		x->body = one_body(p, l);
		x->body2 = one_body(p, r);
		x->line = l->line;
		/* `a and b with ...` scopes the modifier over the whole expression */
		if (r->nwith && r->kind != E_BODY && r->kind != E_AND && r->kind != E_OR) {
			x->with = r->with;
			x->nwith = r->nwith;
			r->with = NULL;
			r->nwith = 0;
		}
		l = x;
	}
	return l;
}

static struct expr *parse_logic_and(struct parser *p)
{
	return parse_logic_chain(p, E_AND, "and", p->kw_and, parse_logic_operand);
}

static struct expr *parse_logic_or(struct parser *p)
{
	return parse_logic_chain(p, E_OR, "or", p->kw_or, parse_logic_and);
}

struct expr *parse_expr_top(struct parser *p)
{
	if (!p->kw_and && !p->kw_or)
		return parse_literal(p);
	return parse_logic_or(p);
}

/* Expressions separated by ';' or newlines until @end (not consumed). */
struct body *parse_query_until(struct parser *p, enum tok_kind end)
{
	struct plist ex = { 0 };
	if (++p->depth > REGO_MAX_PARSE_DEPTH) {
		perr(p, "nesting deeper than %d", REGO_MAX_PARSE_DEPTH);
		return NULL;
	}
	while (p->rc == 0 && cur(p)->kind != end) {
		size_t before = p->i;
		pl_push(p, &ex, parse_expr_top(p));
		if (p->rc < 0)
			break;
		if (cur(p)->kind == TK_SEMI) {
			adv(p);
		} else if (cur(p)->kind != end && !cur(p)->nlb) {
			perr(p, "unexpected token after expression");
		}
		if (p->i == before)
			perr(p, "parser made no progress");
	}
	struct body *b = rego_alloc(p->r, sizeof(*b));
	if (!b) {
		free(ex.v);
		p->rc = -ENOMEM;
		return NULL;
	}
	b->n = ex.n;
	b->e = pl_finish(p, &ex);
	p->depth--;
	return p->rc < 0 ? NULL : b;
}

struct body *parse_body_braces(struct parser *p)
{
	if (cur(p)->kind != TK_LBRACE) {
		perr(p, "expected '{'");
		return NULL;
	}
	adv(p);
	struct body *b = parse_query_until(p, TK_RBRACE);
	if (p->rc == 0)
		adv(p);
	return b;
}

/* Template string: split "text {expr} text" into constant and term parts. */
/* One {expression} of a template. With `with` modifiers it becomes
 * [x | x = term with ...][0]: the value under the modifiers, undefined
 * (rendered "<undefined>") when the expression is. */
static struct term *template_expr(struct parser *p)
{
	struct expr *x = parse_expr_top(p);
	if (!x || p->rc < 0)
		return NULL;
	if (x->kind != E_TERM || x->negated) {
		perr(p, "template expression must be a term");
		return NULL;
	}
	if (!x->nwith)
		return x->a;
	struct term *v = mk_var(p, "_", 1), *comp = mk(p, T_ACOMP), *ref = mk(p, T_REF);
	struct term *zero = mk_val(p, val_int(0));
	struct term **ci = rego_alloc(p->r, sizeof(*ci)), **ri = rego_alloc(p->r, 2 * sizeof(*ri));
	if (!v || !comp || !ref || !zero || !ci || !ri) {
		p->rc = -ENOMEM;
		return NULL;
	}
	x->kind = E_UNIFY;
	x->b = x->a;
	x->a = v;
	ci[0] = v;
	comp->items = ci;
	comp->n = 1;
	comp->body = one_body(p, x);
	ri[0] = comp;
	ri[1] = zero;
	ref->items = ri;
	ref->n = 2;
	return p->rc < 0 ? NULL : ref;
}

static struct term *parse_template(struct parser *p, struct tok *tk)
{
	struct plist parts = { 0 };
	struct buf lit = BUF_INIT;
	const char *s = tk->text;
	size_t n = tk->len, i = 0;

	while (i < n && p->rc == 0) {
		char c = s[i];
		if (tk->raw && c == '\\' && i + 1 < n && s[i + 1] == '{') {
			buf_addch(&lit, '{');
			i += 2;
			continue;
		}
		if (!tk->raw && c == '\\' && i + 1 < n) {
			char d = s[i + 1];
			i += 2;
			switch (d) {
			case 'n': buf_addch(&lit, '\n'); break;
			case 't': buf_addch(&lit, '\t'); break;
			case 'r': buf_addch(&lit, '\r'); break;
			case 'b': buf_addch(&lit, '\b'); break;
			case 'f': buf_addch(&lit, '\f'); break;
			case 'u': {
				/* reuse the lexer by decoding through a string token */
				char tmp[8] = { '"', '\\', 'u', 0, 0, 0, 0, '"' };
				if (i + 4 > n) {
					perr(p, "bad escape in template");
					break;
				}
				memcpy(tmp + 3, s + i, 4);
				i += 4;
				struct tok *tt = NULL;
				size_t tn = 0;
				if (rego_lex(p->name, tmp, 8, &tt, &tn, NULL) == 0 && tt[0].kind == TK_STRING)
					buf_add(&lit, tt[0].text, tt[0].len);
				else
					perr(p, "bad escape in template");
				rego_toks_free(tt, tn);
				break;
			}
			default: buf_addch(&lit, d); break;
			}
			continue;
		}
		if (c == '{') {
			size_t j = rego_skip_template_expr(s, n, i, 0);
			if (j == SIZE_MAX) {
				perr(p, "unterminated template expression");
				break;
			}
			j--; /* at the closing brace */
			pl_push(p, &parts, mk_str(p, lit.p, lit.len));
			buf_reset(&lit);
			/* parse the inner expression text on its own */
			struct buf src = BUF_INIT;
			const char *inner = s + i + 1;
			size_t ilen = j - i - 1;
			buf_add(&src, inner, ilen);
			struct tok *tt = NULL;
			size_t tn = 0;
			int rc = rego_lex(p->name, src.p, src.len, &tt, &tn, p->e);
			buf_release(&src);
			if (rc < 0) {
				p->rc = rc;
				break;
			}
			struct parser sub = { .r = p->r, .name = p->name, .t = tt, .n = tn, .v0 = p->v0,
					      .depth = p->depth, .e = p->e, .kw_and = p->kw_and, .kw_or = p->kw_or };
			struct term *x = template_expr(&sub);
			if (sub.rc == 0 && sub.t[sub.i].kind != TK_EOF)
				perr(&sub, "unexpected token in template expression");
			rego_toks_free(tt, tn);
			if (sub.rc < 0) {
				p->rc = sub.rc;
				break;
			}
			pl_push(p, &parts, x);
			i = j + 1;
			continue;
		}
		buf_addch(&lit, c);
		i++;
	}
	if (p->rc == 0)
		pl_push(p, &parts, mk_str(p, lit.p, lit.len));
	buf_release(&lit);
	struct term *t = mk(p, T_TEMPLATE);
	if (!t) {
		free(parts.v);
		return NULL;
	}
	t->n = parts.n;
	t->items = pl_finish(p, &parts);
	return p->rc < 0 ? NULL : t;
}

int const_value(struct term *t, struct val **out)
{
	struct val *v = NULL;
	int rc = 0;
	switch (t->kind) {
	case T_VALUE:
		*out = val_ref(t->v);
		return 0;
	case T_ARRAY:
	case T_SET:
		v = t->kind == T_ARRAY ? val_array_new(t->n) : val_set_new(t->n);
		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < t->n && rc == 0; i++) {
			struct val *x;
			rc = const_value(t->items[i], &x);
			if (rc == 0)
				rc = t->kind == T_ARRAY ? val_array_push(v, x) : val_set_add(v, x);
		}
		break;
	case T_OBJECT:
		v = val_object_new(t->n / 2);
		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i + 1 < t->n && rc == 0; i += 2) {
			struct val *k, *x;
			rc = const_value(t->items[i], &k);
			if (rc == 0) {
				rc = const_value(t->items[i + 1], &x);
				if (rc == 0)
					rc = val_object_put(v, k, x);
				else
					val_unref(k);
			}
		}
		break;
	default:
		return -EINVAL;
	}
	if (rc < 0) {
		val_unref(v);
		return rc;
	}
	*out = v;
	return 0;
}
