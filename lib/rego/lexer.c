/* SPDX-License-Identifier: Apache-2.0 */
/* Rego lexer: source text -> tokens. Newlines are recorded on the token that
 * follows them (nlb) because they separate body expressions. */
#include "internal.h"

#include <ctype.h>

void rego_toks_free(struct tok *t, size_t n)
{
	if (!t)
		return;
	for (size_t i = 0; i < n; i++)
		free(t[i].text);
	free(t);
}

static int utf8_put(struct buf *b, uint32_t cp)
{
	if (cp < 0x80) {
		buf_addch(b, (char)cp);
	} else if (cp < 0x800) {
		buf_addch(b, (char)(0xc0 | (cp >> 6)));
		buf_addch(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addch(b, (char)(0xe0 | (cp >> 12)));
		buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addch(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x110000) {
		buf_addch(b, (char)(0xf0 | (cp >> 18)));
		buf_addch(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addch(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		return -EBADMSG;
	}
	return 0;
}

static int hex4(const char *s, size_t left, uint32_t *out)
{
	uint32_t v = 0;
	if (left < 4)
		return -EBADMSG;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -EBADMSG;
	}
	*out = v;
	return 0;
}

size_t rego_skip_literal(const char *s, size_t n, size_t i, unsigned depth)
{
	bool tmpl = i < n && s[i] == '$';
	if (tmpl)
		i++;
	if (i >= n || depth > REGO_MAX_PARSE_DEPTH)
		return SIZE_MAX;
	char q = s[i++];
	while (i < n) {
		char c = s[i];
		if (c == q)
			return i + 1;
		/* raw strings have no escapes; raw templates only \{ */
		if (c == '\\' && i + 1 < n && (q == '"' || (tmpl && s[i + 1] == '{'))) {
			i += 2;
			continue;
		}
		if (q == '"' && c == '\n')
			return SIZE_MAX;
		if (tmpl && c == '{') {
			i = rego_skip_template_expr(s, n, i, depth + 1);
			if (i == SIZE_MAX)
				return SIZE_MAX;
			continue;
		}
		i++;
	}
	return SIZE_MAX;
}

size_t rego_skip_template_expr(const char *s, size_t n, size_t i, unsigned depth)
{
	size_t open = 0;
	if (depth > REGO_MAX_PARSE_DEPTH)
		return SIZE_MAX;
	while (i < n) {
		char c = s[i];
		if (c == '{') {
			open++;
		} else if (c == '}') {
			if (--open == 0)
				return i + 1;
		} else if (c == '"' || c == '`' || (c == '$' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '`'))) {
			/* a nested string or template: its braces and quotes are its own */
			i = rego_skip_literal(s, n, i, depth + 1);
			if (i == SIZE_MAX)
				return SIZE_MAX;
			continue;
		}
		i++;
	}
	return SIZE_MAX;
}

/* Decodes a JSON-style string body starting after the opening quote; stops
 * at the closing quote (or, for templates, keeps escapes raw). */
static int lex_string(struct lexer *lx, struct buf *b, bool keep_escapes)
{
	while (lx->pos < lx->len) {
		char c = lx->src[lx->pos];
		if (c == '"') {
			lx->pos++;
			return 0;
		}
		if (c == '\n')
			return -EBADMSG;
		if (c == '\\') {
			if (lx->pos + 1 >= lx->len)
				return -EBADMSG;
			char d = lx->src[lx->pos + 1];
			if (keep_escapes) {
				buf_addch(b, c);
				buf_addch(b, d);
				lx->pos += 2;
				continue;
			}
			lx->pos += 2;
			switch (d) {
			case '"': buf_addch(b, '"'); break;
			case '\\': buf_addch(b, '\\'); break;
			case '/': buf_addch(b, '/'); break;
			case 'b': buf_addch(b, '\b'); break;
			case 'f': buf_addch(b, '\f'); break;
			case 'n': buf_addch(b, '\n'); break;
			case 'r': buf_addch(b, '\r'); break;
			case 't': buf_addch(b, '\t'); break;
			case 'u': {
				uint32_t cp;
				if (hex4(lx->src + lx->pos, lx->len - lx->pos, &cp) < 0)
					return -EBADMSG;
				lx->pos += 4;
				if (cp >= 0xd800 && cp < 0xdc00 && lx->pos + 6 <= lx->len && lx->src[lx->pos] == '\\' &&
				    lx->src[lx->pos + 1] == 'u') {
					uint32_t lo;
					if (hex4(lx->src + lx->pos + 2, lx->len - lx->pos - 2, &lo) == 0 && lo >= 0xdc00 &&
					    lo < 0xe000) {
						cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
						lx->pos += 6;
					}
				}
				if (utf8_put(b, cp) < 0)
					return -EBADMSG;
				break;
			}
			default:
				return -EBADMSG;
			}
			continue;
		}
		buf_addch(b, c);
		lx->pos++;
	}
	return -EBADMSG;
}

/* Like strndup but keeps embedded NULs (raw strings may contain them). */
static char *memdup0(const char *p, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, p, n);
		d[n] = 0;
	}
	return d;
}

static int push(struct tok **v, size_t *n, size_t *cap, struct tok t)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct tok *p = realloc(*v, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = nc;
	}
	(*v)[(*n)++] = t;
	return 0;
}

int rego_lex(const char *name, const char *src, size_t len, struct tok **out, size_t *nout, struct arca_err *e)
{
	struct lexer lx = { .src = src, .len = len, .pos = 0, .line = 1 };
	struct tok *v = NULL;
	size_t n = 0, cap = 0;
	bool nl = true;
	int rc = 0;
	size_t line_start = 0;

	if (len > REGO_MAX_SOURCE)
		return err_set(e, -E2BIG, "%s: module larger than %u bytes", name, REGO_MAX_SOURCE);
	while (lx.pos < len) {
		char c = src[lx.pos];
		if (c == '\n') {
			nl = true;
			lx.line++;
			lx.pos++;
			line_start = lx.pos;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			lx.pos++;
			continue;
		}
		if (c == '#') {
			while (lx.pos < len && src[lx.pos] != '\n')
				lx.pos++;
			continue;
		}
		struct tok t = { .line = lx.line, .col = (int)(lx.pos - line_start) + 1, .nlb = nl };
		nl = false;
		if (isalpha((unsigned char)c) || c == '_') {
			size_t s = lx.pos;
			while (lx.pos < len && (isalnum((unsigned char)src[lx.pos]) || src[lx.pos] == '_'))
				lx.pos++;
			t.kind = TK_IDENT;
			t.text = strndup(src + s, lx.pos - s);
			t.len = lx.pos - s;
		} else if (isdigit((unsigned char)c) ||
			   (c == '.' && lx.pos + 1 < len && isdigit((unsigned char)src[lx.pos + 1]) && n > 0 &&
			    v[n - 1].kind != TK_IDENT && v[n - 1].kind != TK_RBRACK && v[n - 1].kind != TK_RPAREN &&
			    v[n - 1].kind != TK_RBRACE)) {
			size_t s = lx.pos;
			while (lx.pos < len && isdigit((unsigned char)src[lx.pos]))
				lx.pos++;
			if (lx.pos < len && src[lx.pos] == '.' && lx.pos + 1 < len && isdigit((unsigned char)src[lx.pos + 1])) {
				lx.pos++;
				while (lx.pos < len && isdigit((unsigned char)src[lx.pos]))
					lx.pos++;
			}
			if (lx.pos < len && (src[lx.pos] == 'e' || src[lx.pos] == 'E')) {
				size_t save = lx.pos;
				lx.pos++;
				if (lx.pos < len && (src[lx.pos] == '+' || src[lx.pos] == '-'))
					lx.pos++;
				if (lx.pos < len && isdigit((unsigned char)src[lx.pos])) {
					while (lx.pos < len && isdigit((unsigned char)src[lx.pos]))
						lx.pos++;
				} else {
					lx.pos = save;
				}
			}
			t.kind = TK_NUMBER;
			t.text = strndup(src + s, lx.pos - s);
			t.len = lx.pos - s;
		} else if (c == '$' && lx.pos + 1 < len && (src[lx.pos + 1] == '"' || src[lx.pos + 1] == '`')) {
			/* template: the body is kept raw (escapes included); its
			 * {expressions} may hold strings and templates of their own */
			size_t end = rego_skip_literal(src, len, lx.pos, 0);
			if (end == SIZE_MAX) {
				rc = err_set(e, -EBADMSG, "%s:%d: rego_parse_error: non-terminated string", name, t.line);
				goto fail;
			}
			t.kind = TK_TEMPLATE;
			t.raw = src[lx.pos + 1] == '`';
			t.text = memdup0(src + lx.pos + 2, end - lx.pos - 3);
			t.len = end - lx.pos - 3;
			for (size_t j = lx.pos; j < end; j++)
				if (src[j] == '\n')
					lx.line++;
			lx.pos = end;
		} else if (c == '"') {
			struct buf b = BUF_INIT;
			lx.pos++;
			if (lex_string(&lx, &b, false) < 0) {
				buf_release(&b);
				rc = err_set(e, -EBADMSG, "%s:%d: rego_parse_error: non-terminated string", name, t.line);
				goto fail;
			}
			t.kind = TK_STRING;
			t.text = buf_detach(&b, &t.len);
		} else if (c == '`') {
			lx.pos++;
			size_t s = lx.pos;
			while (lx.pos < len && src[lx.pos] != '`') {
				if (src[lx.pos] == '\n')
					lx.line++;
				lx.pos++;
			}
			if (lx.pos >= len) {
				rc = err_set(e, -EBADMSG, "%s:%d: rego_parse_error: non-terminated raw string", name, t.line);
				goto fail;
			}
			t.kind = TK_STRING;
			t.raw = true;
			t.text = memdup0(src + s, lx.pos - s);
			t.len = lx.pos - s;
			lx.pos++;
		} else {
			char d = lx.pos + 1 < len ? src[lx.pos + 1] : 0;
			size_t adv = 1;
			switch (c) {
			case '{': t.kind = TK_LBRACE; break;
			case '}': t.kind = TK_RBRACE; break;
			case '[': t.kind = TK_LBRACK; break;
			case ']': t.kind = TK_RBRACK; break;
			case '(': t.kind = TK_LPAREN; break;
			case ')': t.kind = TK_RPAREN; break;
			case '.': t.kind = TK_DOT; break;
			case ',': t.kind = TK_COMMA; break;
			case ';': t.kind = TK_SEMI; break;
			case '+': t.kind = TK_PLUS; break;
			case '-': t.kind = TK_MINUS; break;
			case '*': t.kind = TK_STAR; break;
			case '/': t.kind = TK_SLASH; break;
			case '%': t.kind = TK_PERCENT; break;
			case '&': t.kind = TK_AMP; break;
			case '|': t.kind = TK_PIPE; break;
			case ':':
				if (d == '=') {
					t.kind = TK_ASSIGN;
					adv = 2;
				} else {
					t.kind = TK_COLON;
				}
				break;
			case '=':
				if (d == '=') {
					t.kind = TK_EQ;
					adv = 2;
				} else {
					t.kind = TK_UNIFY;
				}
				break;
			case '!':
				if (d != '=') {
					rc = err_set(e, -EBADMSG, "%s:%d: rego_parse_error: unexpected '!'", name, t.line);
					goto fail;
				}
				t.kind = TK_NEQ;
				adv = 2;
				break;
			case '<':
				t.kind = d == '=' ? TK_LE : TK_LT;
				adv = d == '=' ? 2 : 1;
				break;
			case '>':
				t.kind = d == '=' ? TK_GE : TK_GT;
				adv = d == '=' ? 2 : 1;
				break;
			default:
				rc = err_set(e, -EBADMSG, "%s:%d: rego_parse_error: illegal character '%c'", name, t.line,
					     isprint((unsigned char)c) ? c : '?');
				goto fail;
			}
			lx.pos += adv;
		}
		if ((t.kind == TK_IDENT || t.kind == TK_NUMBER || t.kind == TK_STRING || t.kind == TK_TEMPLATE) &&
		    !t.text) {
			rc = -ENOMEM;
			goto fail;
		}
		rc = push(&v, &n, &cap, t);
		if (rc < 0) {
			free(t.text);
			goto fail;
		}
	}
	struct tok eof = { .kind = TK_EOF, .line = lx.line, .nlb = true };
	rc = push(&v, &n, &cap, eof);
	if (rc < 0)
		goto fail;
	*out = v;
	*nout = n;
	return 0;
fail:
	rego_toks_free(v, n);
	return rc;
}
