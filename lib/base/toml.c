/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TOML 1.0 text -> struct val: arca's own parser (https://toml.io/en/v1.0.0).
 *
 * The text is read in one pass, without backtracking, into a tree of struct
 * tnode that keeps what the value model cannot: how each table came to be (a
 * [header], a parent named in a header, a dotted key, an inline table) and
 * whether an array is an array of tables. TOML's rules against defining
 * anything twice are decided on those flags; the finished tree then becomes
 * objects, arrays and scalars.
 *
 * Text is UTF-8 and is validated before anything else: invalid sequences,
 * overlong forms, surrogates and code points past U+10FFFF are refused, so
 * that every later step may copy non-ASCII bytes as they are. Such
 * characters are allowed where TOML allows them: in strings, quoted keys
 * and comments.
 *
 * Where TOML leaves room, the parser decides as toml++ 3.3 did (arca's
 * reader until this one; the fuzzer fuzz/base_toml.c compares the two):
 * a [header] may define a table that an earlier header created as a parent
 * only while every member of it is a table or an array of tables; a dotted
 * key may extend a table that dotted keys created or that a header created
 * as a parent; CRLF inside multi-line strings becomes LF; fractional seconds
 * are truncated to nanoseconds; a leap second (:60) is refused.
 */
#include "base.h"

#include <math.h>

/* Named limits. The text: a value costs up to about 40 times its bytes
 * while both the tree and its values exist (`a = [1,1,...]`), and callers
 * bound their files lower still (arca.toml, ecl.toml: 1 MiB). */
#define TOML_MAX_BYTES (4u << 20)
/* Nesting of tables, arrays and inline tables, counted from the root: the
 * tree and the values made from it are walked recursively. */
#define TOML_MAX_DEPTH 128

enum { TN_TABLE, TN_ARRAY, TN_LEAF };
enum {
	TN_IMPLICIT = 1 << 0, /* a parent named in a [header], not defined yet */
	TN_DOTTED = 1 << 1,   /* created by a dotted key */
	TN_SEALED = 1 << 2,   /* inline table or static array: complete as written */
	TN_AOT = 1 << 3,      /* array of tables: each [[header]] appends one */
};

struct tnode {
	uint8_t kind;
	uint8_t flags;
	unsigned depth;
	struct val *leaf;    /* TN_LEAF */
	struct val **keys;   /* TN_TABLE: the key (a string) of kids[i] */
	struct tnode **kids; /* TN_TABLE: members in document order; TN_ARRAY: items */
	size_t n, cap;
};

/* One slot of the key index: member @i of table @parent. */
struct slot {
	struct tnode *parent; /* NULL: free */
	size_t i;
};

struct tp {
	const char *s;
	size_t len, pos;
	struct arca_err *e;
	struct slot *idx; /* open addressing over (table, key) */
	size_t idx_cap, idx_n;
	struct buf str; /* scratch: the body of the string being read */
	char what[24];  /* scratch for messages */
	char quoted[96];
};

/* ------------------------------------------------------------------ errors */

static int fail(struct tp *p, size_t at, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(struct tp *p, size_t at, int code, const char *fmt, ...)
{
	/* positions are worked out only here: errors are rare, text is not */
	size_t line = 1, col = 1;
	for (size_t i = 0; i < at && i < p->len; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)p->s[i] & 0xc0) != 0x80) {
			col++;
		}
	}
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(p->e, code, "line %zu, column %zu: %s", line, col, msg);
}

static int oom(struct tp *p) { return err_set(p->e, -ENOMEM, "out of memory"); }

/* The character at @at, for a message. */
static const char *what(struct tp *p, size_t at)
{
	if (at >= p->len)
		return "end of input";
	unsigned char c = (unsigned char)p->s[at];
	if (c == '\n')
		return "end of line";
	if (c >= 0x20 && c < 0x7f)
		snprintf(p->what, sizeof(p->what), "'%c'", c);
	else
		snprintf(p->what, sizeof(p->what), "byte 0x%02x", c);
	return p->what;
}

/* A key for a message: quoted, cut short, bytes outside printable ASCII
 * escaped (a key may hold any character). */
static const char *quoted(struct tp *p, const struct val *key)
{
	size_t o = 0, cap = sizeof(p->quoted);
	p->quoted[o++] = '"';
	for (size_t i = 0; i < key->str.len; i++) {
		unsigned char c = (unsigned char)key->str.s[i];
		if (o + 8 >= cap) {
			memcpy(p->quoted + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			p->quoted[o++] = (char)c;
		else
			o += (size_t)snprintf(p->quoted + o, cap - o, "\\x%02x", c);
	}
	p->quoted[o++] = '"';
	p->quoted[o] = '\0';
	return p->quoted;
}

/* -------------------------------------------------------------- the tree */

static struct tnode *tnode_new(int kind, unsigned flags, unsigned depth)
{
	struct tnode *t = calloc(1, sizeof(*t));
	if (t) {
		t->kind = (uint8_t)kind;
		t->flags = (uint8_t)flags;
		t->depth = depth;
	}
	return t;
}

/* Recursion is bounded by TOML_MAX_DEPTH: no node is made deeper. */
static void tnode_free(struct tnode *t)
{
	if (!t)
		return;
	val_unref(t->leaf);
	for (size_t i = 0; i < t->n; i++) {
		if (t->keys)
			val_unref(t->keys[i]);
		tnode_free(t->kids[i]);
	}
	free(t->keys);
	free(t->kids);
	free(t);
}

static int tnode_reserve(struct tnode *t)
{
	if (t->n < t->cap)
		return 0;
	size_t ncap = t->cap ? t->cap * 2 : 4;
	struct tnode **kids = reallocarray(t->kids, ncap, sizeof(*kids));
	if (!kids)
		return -ENOMEM;
	t->kids = kids;
	if (t->kind == TN_TABLE) {
		struct val **keys = reallocarray(t->keys, ncap, sizeof(*keys));
		if (!keys)
			return -ENOMEM;
		t->keys = keys;
	}
	t->cap = ncap;
	return 0;
}

static uint64_t key_hash(const struct tnode *parent, const char *k, size_t n)
{
	/* FNV-1a, seeded with the table: one index serves every table */
	uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ull);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static struct tnode *table_get(const struct tp *p, const struct tnode *t, const struct val *key)
{
	if (!p->idx_cap)
		return NULL;
	size_t mask = p->idx_cap - 1;
	for (size_t h = (size_t)key_hash(t, key->str.s, key->str.len) & mask;; h = (h + 1) & mask) {
		const struct slot *s = &p->idx[h];
		if (!s->parent)
			return NULL;
		if (s->parent == t && val_equal(t->keys[s->i], key))
			return t->kids[s->i];
	}
}

static int idx_grow(struct tp *p)
{
	size_t ncap = p->idx_cap ? p->idx_cap * 2 : 64;
	struct slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t j = 0; j < p->idx_cap; j++) {
		struct slot s = p->idx[j];
		if (!s.parent)
			continue;
		const struct val *key = s.parent->keys[s.i];
		size_t h = (size_t)key_hash(s.parent, key->str.s, key->str.len) & (ncap - 1);
		while (ns[h].parent)
			h = (h + 1) & (ncap - 1);
		ns[h] = s;
	}
	free(p->idx);
	p->idx = ns;
	p->idx_cap = ncap;
	return 0;
}

/* Adds member @key = @child to table @t (the caller checked the key is
 * new). Takes ownership of both, also on failure. */
static int table_put(struct tp *p, struct tnode *t, struct val *key, struct tnode *child)
{
	if (!key || !child || tnode_reserve(t) < 0 || ((p->idx_n + 1) * 2 > p->idx_cap && idx_grow(p) < 0)) {
		val_unref(key);
		tnode_free(child);
		return oom(p);
	}
	size_t mask = p->idx_cap - 1;
	size_t h = (size_t)key_hash(t, key->str.s, key->str.len) & mask;
	while (p->idx[h].parent)
		h = (h + 1) & mask;
	p->idx[h] = (struct slot){ t, t->n };
	p->idx_n++;
	t->keys[t->n] = key;
	t->kids[t->n++] = child;
	return 0;
}

static int array_push(struct tp *p, struct tnode *a, struct tnode *child)
{
	if (!child || tnode_reserve(a) < 0) {
		tnode_free(child);
		return oom(p);
	}
	a->kids[a->n++] = child;
	return 0;
}

/* A new table @key in @t, at the next depth. */
static int new_table(struct tp *p, size_t at, struct tnode *t, struct val *key, unsigned flags,
		     struct tnode **out)
{
	if (t->depth >= TOML_MAX_DEPTH) {
		val_unref(key);
		return fail(p, at, -E2BIG, "tables nested deeper than %d", TOML_MAX_DEPTH);
	}
	struct tnode *sub = tnode_new(TN_TABLE, flags, t->depth + 1);
	int rc = table_put(p, t, key, sub);
	if (rc < 0)
		return rc;
	*out = sub;
	return 0;
}

/* -------------------------------------------------------------- lexing */

static bool at_end(const struct tp *p) { return p->pos >= p->len; }
static char peek(const struct tp *p) { return p->pos < p->len ? p->s[p->pos] : '\0'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_bare(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-';
}
/* TOML: control characters other than tab are not allowed in strings and
 * comments (newlines only where a multi-line string allows them) */
static bool is_ctrl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

static void skip_ws(struct tp *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
		p->pos++;
}

/* Length of the newline at @at (LF or CRLF), 0 if none. */
static size_t newline_at(const struct tp *p, size_t at)
{
	if (at < p->len && p->s[at] == '\n')
		return 1;
	if (at + 1 < p->len && p->s[at] == '\r' && p->s[at + 1] == '\n')
		return 2;
	return 0;
}

/* A comment at p->pos ('#'), up to but not including its newline. */
static int comment(struct tp *p)
{
	for (p->pos++; p->pos < p->len && !newline_at(p, p->pos); p->pos++)
		if (is_ctrl((unsigned char)p->s[p->pos]))
			return fail(p, p->pos, -EBADMSG, "control character %s in a comment", what(p, p->pos));
	return 0;
}

/* Whitespace, comments and newlines, as allowed inside arrays. */
static int skip_blank(struct tp *p)
{
	for (;;) {
		skip_ws(p);
		size_t nl = newline_at(p, p->pos);
		if (nl) {
			p->pos += nl;
		} else if (peek(p) == '#') {
			int rc = comment(p);
			if (rc < 0)
				return rc;
		} else {
			return 0;
		}
	}
}

/* After a key/value pair or a header: a comment, then a newline or the end. */
static int line_end(struct tp *p)
{
	skip_ws(p);
	if (peek(p) == '#') {
		int rc = comment(p);
		if (rc < 0)
			return rc;
	}
	if (at_end(p))
		return 0;
	size_t nl = newline_at(p, p->pos);
	if (!nl)
		return fail(p, p->pos, -EBADMSG, "expected the end of the line, saw %s", what(p, p->pos));
	p->pos += nl;
	return 0;
}

static int check_text(struct tp *p)
{
	for (size_t i = 0; i < p->len;) {
		unsigned char c = (unsigned char)p->s[i];
		if (c == 0)
			return fail(p, i, -EBADMSG, "NUL byte in TOML text");
		if (c < 0x80) {
			i++;
			continue;
		}
		uint32_t cp;
		size_t n = utf8_seq((const unsigned char *)p->s + i, p->len - i, &cp);
		if (!n)
			return fail(p, i, -EBADMSG, "invalid UTF-8 (byte 0x%02x)", c);
		i += n;
	}
	return 0;
}

/* ------------------------------------------------------------- strings */

/* An escape at p->pos ('\\') in a basic string. */
static int escape(struct tp *p)
{
	size_t at = p->pos;
	char c = p->pos + 1 < p->len ? p->s[p->pos + 1] : '\0';
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	const char *m = c ? strchr(from, c) : NULL;
	if (m) {
		buf_addch(&p->str, to[m - from]);
		p->pos += 2;
		return 0;
	}
	if (c != 'u' && c != 'U')
		return fail(p, at, -EBADMSG, "invalid escape in a string: backslash, then %s", what(p, at + 1));
	size_t n = c == 'u' ? 4 : 8;
	if (!range_ok(at + 2, n, p->len))
		return fail(p, at, -EBADMSG, "\\%c needs %zu hex digits", c, n);
	uint32_t cp = 0;
	for (size_t i = 0; i < n; i++) {
		int d = hex_digit(p->s[at + 2 + i]);
		if (d < 0)
			return fail(p, at, -EBADMSG, "\\%c needs %zu hex digits", c, n);
		cp = cp << 4 | (uint32_t)d;
	}
	/* TOML: "any Unicode scalar value" */
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return fail(p, at, -EBADMSG, "\\%c%.*s is not a Unicode scalar value", c, (int)n, p->s + at + 2);
	buf_add_utf8(&p->str, cp);
	p->pos = at + 2 + n;
	return 0;
}

/* A single-line basic ("") or literal ('') string at p->pos into p->str. */
static int string_line(struct tp *p)
{
	size_t at = p->pos;
	char q = p->s[p->pos++];
	buf_reset(&p->str);
	for (;;) {
		if (at_end(p) || newline_at(p, p->pos))
			return fail(p, at, -EBADMSG, "string not closed on its line");
		char c = p->s[p->pos];
		if (c == q) {
			p->pos++;
			break;
		}
		if (c == '\\' && q == '"') {
			int rc = escape(p);
			if (rc < 0)
				return rc;
			continue;
		}
		if (is_ctrl((unsigned char)c))
			return fail(p, p->pos, -EBADMSG, "control character %s in a string", what(p, p->pos));
		buf_addch(&p->str, c);
		p->pos++;
	}
	return buf_error(&p->str) < 0 ? oom(p) : 0;
}

/* A multi-line basic (""") or literal (''') string at p->pos into p->str. */
static int string_multi(struct tp *p)
{
	size_t at = p->pos;
	char q = p->s[p->pos];
	p->pos += 3;
	buf_reset(&p->str);
	/* TOML: a newline right after the opening delimiter is trimmed */
	p->pos += newline_at(p, p->pos);
	for (;;) {
		if (at_end(p))
			return fail(p, at, -EBADMSG, "multi-line string not closed");
		char c = p->s[p->pos];
		size_t nl = newline_at(p, p->pos);
		if (c == q) {
			size_t run = 0;
			while (p->pos + run < p->len && p->s[p->pos + run] == q)
				run++;
			if (run >= 3) {
				/* up to two quotes may end the body, right before the delimiter */
				if (run > 5)
					return fail(p, p->pos, -EBADMSG, "too many quotes at the end of a multi-line string");
				buf_add(&p->str, p->s + p->pos, run - 3);
				p->pos += run;
				break;
			}
			buf_add(&p->str, p->s + p->pos, run);
			p->pos += run;
		} else if (nl) {
			buf_addch(&p->str, '\n');
			p->pos += nl;
		} else if (c == '\\' && q == '"') {
			/* a line-ending backslash trims the newline and all
			 * whitespace up to the next other character */
			size_t j = p->pos + 1;
			while (j < p->len && (p->s[j] == ' ' || p->s[j] == '\t'))
				j++;
			if (newline_at(p, j)) {
				for (p->pos = j;;) {
					size_t skip = newline_at(p, p->pos);
					if (!skip && (peek(p) == ' ' || peek(p) == '\t'))
						skip = 1;
					if (!skip)
						break;
					p->pos += skip;
				}
				continue;
			}
			int rc = escape(p);
			if (rc < 0)
				return rc;
		} else if (is_ctrl((unsigned char)c)) {
			return fail(p, p->pos, -EBADMSG, "control character %s in a string", what(p, p->pos));
		} else {
			buf_addch(&p->str, c);
			p->pos++;
		}
	}
	return buf_error(&p->str) < 0 ? oom(p) : 0;
}

/* -------------------------------------------------------------- numbers */

/* Digits of @base from t[*i], underscores only between two digits.
 * Returns the number of digits, 0 when malformed. */
static size_t digits(const char *t, size_t n, size_t *i, int base)
{
	size_t count = 0;
	while (*i < n) {
		char c = t[*i];
		if (c == '_') {
			if (!count || *i + 1 >= n || hex_digit(t[*i + 1]) < 0 || hex_digit(t[*i + 1]) >= base)
				return 0;
			(*i)++;
			continue;
		}
		int d = hex_digit(c);
		if (d < 0 || d >= base)
			break;
		count++;
		(*i)++;
	}
	return count;
}

/* The integer value of t[from, to) in @base (underscores skipped), at most
 * @max; false when larger. */
static bool int_value(const char *t, size_t from, size_t to, unsigned base, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	for (size_t i = from; i < to; i++) {
		if (t[i] == '_')
			continue;
		if (!ck_mul64(v, base, &v) || !ck_add64(v, (uint64_t)hex_digit(t[i]), &v) || v > max)
			return false;
	}
	*out = v;
	return true;
}

static int number(struct tp *p, size_t at, size_t n, struct val **out)
{
	const char *t = p->s + at;
	size_t i = (t[0] == '+' || t[0] == '-') ? 1 : 0;
	bool neg = t[0] == '-';
	if (n - i == 3 && (!memcmp(t + i, "inf", 3) || !memcmp(t + i, "nan", 3)))
		return fail(p, at, -EBADMSG, "inf and nan have no JSON value");
	uint64_t u;
	if (n - i > 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b')) {
		unsigned base = t[i + 1] == 'x' ? 16 : t[i + 1] == 'o' ? 8 : 2;
		size_t j = i + 2;
		if (i || !digits(t, n, &j, (int)base) || j != n)
			return fail(p, at, -EBADMSG, "malformed integer %.*s", (int)(n > 64 ? 64 : n), t);
		if (!int_value(t, i + 2, n, base, INT64_MAX, &u))
			return fail(p, at, -EBADMSG, "integer %.*s does not fit in 64 bits", (int)(n > 64 ? 64 : n), t);
		*out = val_int((int64_t)u);
		return *out ? 0 : oom(p);
	}
	size_t j = i;
	size_t nint = digits(t, n, &j, 10);
	bool ok = nint > 0 && !(t[i] == '0' && nint > 1), is_float = false;
	if (ok && j < n && t[j] == '.') {
		j++;
		ok = digits(t, n, &j, 10) > 0;
		is_float = true;
	}
	if (ok && j < n && (t[j] == 'e' || t[j] == 'E')) {
		j++;
		if (j < n && (t[j] == '+' || t[j] == '-'))
			j++;
		ok = digits(t, n, &j, 10) > 0;
		is_float = true;
	}
	if (!ok || j != n)
		return fail(p, at, -EBADMSG, "malformed value %.*s", (int)(n > 64 ? 64 : n), t);
	if (!is_float) {
		if (!int_value(t, i, n, 10, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &u))
			return fail(p, at, -EBADMSG, "integer %.*s does not fit in 64 bits", (int)(n > 64 ? 64 : n), t);
		*out = val_int(neg ? (int64_t)(0 - u) : (int64_t)u);
		return *out ? 0 : oom(p);
	}
	buf_reset(&p->str);
	for (size_t k = 0; k < n; k++)
		if (t[k] != '_')
			buf_addch(&p->str, t[k]);
	if (buf_error(&p->str) < 0)
		return oom(p);
	/* strtod reads '.' as the point: arca never sets LC_NUMERIC */
	double d = strtod(p->str.p, NULL);
	if (!isfinite(d))
		return fail(p, at, -EBADMSG, "float %.*s is out of range", (int)(n > 64 ? 64 : n), t);
	*out = val_double(d);
	return *out ? 0 : oom(p);
}

/* ----------------------------------------------------------- date/time */

/* @n decimal digits at t[*i] as a number; false when not digits. */
static bool fixed(const char *t, size_t len, size_t *i, size_t n, unsigned *out)
{
	unsigned v = 0;
	if (!range_ok(*i, n, len))
		return false;
	for (size_t k = 0; k < n; k++) {
		if (!is_digit(t[*i + k]))
			return false;
		v = v * 10 + (unsigned)(t[*i + k] - '0');
	}
	*i += n;
	*out = v;
	return true;
}

static bool is_date(const char *t, size_t n)
{
	return n >= 10 && is_digit(t[0]) && is_digit(t[1]) && is_digit(t[2]) && is_digit(t[3]) && t[4] == '-' &&
	       is_digit(t[5]) && is_digit(t[6]) && t[7] == '-' && is_digit(t[8]) && is_digit(t[9]);
}

static bool is_time(const char *t, size_t n) { return n >= 3 && is_digit(t[0]) && is_digit(t[1]) && t[2] == ':'; }

/* RFC 3339 full-date at t[*i], printed to @b. */
static bool date_part(const char *t, size_t n, size_t *i, struct buf *b)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, m, d;
	if (!fixed(t, n, i, 4, &y) || *i >= n || t[(*i)++] != '-' || !fixed(t, n, i, 2, &m) || *i >= n ||
	    t[(*i)++] != '-' || !fixed(t, n, i, 2, &d))
		return false;
	bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
		return false;
	buf_addf(b, "%04u-%02u-%02u", y, m, d);
	return true;
}

/* RFC 3339 partial-time at t[*i], printed to @b as toml++ prints it: the
 * fraction truncated to nanoseconds, without trailing zeros, none if zero. */
static bool time_part(const char *t, size_t n, size_t *i, struct buf *b)
{
	unsigned h, m, s;
	if (!fixed(t, n, i, 2, &h) || *i >= n || t[(*i)++] != ':' || !fixed(t, n, i, 2, &m) || *i >= n ||
	    t[(*i)++] != ':' || !fixed(t, n, i, 2, &s))
		return false;
	if (h > 23 || m > 59 || s > 59)
		return false;
	buf_addf(b, "%02u:%02u:%02u", h, m, s);
	if (*i < n && t[*i] == '.') {
		size_t from = ++(*i);
		while (*i < n && is_digit(t[*i]))
			(*i)++;
		if (*i == from)
			return false;
		size_t keep = *i - from > 9 ? 9 : *i - from;
		while (keep && t[from + keep - 1] == '0')
			keep--;
		if (keep) {
			buf_addch(b, '.');
			buf_add(b, t + from, keep);
		}
	}
	return true;
}

/* A local date, local time, or local or offset date-time. */
static int datetime(struct tp *p, size_t at, size_t n, struct val **out)
{
	const char *t = p->s + at;
	_cleanup_buf_ struct buf b = BUF_INIT;
	size_t i = 0;
	bool ok;
	if (is_time(t, n)) {
		ok = time_part(t, n, &i, &b);
	} else {
		ok = date_part(t, n, &i, &b);
		if (ok && i < n) {
			ok = t[i] == 'T' || t[i] == 't' || t[i] == ' ';
			i++;
			buf_addch(&b, 'T');
			ok = ok && time_part(t, n, &i, &b);
		}
		if (ok && i < n && (t[i] == 'Z' || t[i] == 'z')) {
			i++;
			buf_addch(&b, 'Z');
		} else if (ok && i < n && (t[i] == '+' || t[i] == '-')) {
			char sign = t[i++];
			unsigned oh, om;
			ok = fixed(t, n, &i, 2, &oh) && i < n && t[i++] == ':' && fixed(t, n, &i, 2, &om) && oh <= 23 &&
			     om <= 59;
			/* a zero offset is printed as Z, whatever its sign */
			if (ok && oh == 0 && om == 0)
				buf_addch(&b, 'Z');
			else if (ok)
				buf_addf(&b, "%c%02u:%02u", sign, oh, om);
		}
	}
	if (!ok || i != n)
		return fail(p, at, -EBADMSG, "malformed date or time %.*s", (int)(n > 64 ? 64 : n), t);
	if (buf_error(&b) < 0)
		return oom(p);
	*out = val_string(b.p, b.len);
	return *out ? 0 : oom(p);
}

/* --------------------------------------------------------------- values */

static bool is_token(char c) { return is_bare(c) || c == '+' || c == '.' || c == ':'; }

static size_t token_len(const struct tp *p, size_t at)
{
	size_t i = at;
	while (i < p->len && is_token(p->s[i]))
		i++;
	return i - at;
}

/* A number, boolean, date or time: one token, classified by its shape. */
static int scalar(struct tp *p, struct val **out)
{
	size_t at = p->pos, n = token_len(p, at);
	const char *t = p->s + at;
	/* TOML: "you may replace the T delimiter with a space" */
	if (n == 10 && is_date(t, n) && at + 11 < p->len && t[10] == ' ' && is_digit(t[11]))
		n = 11 + token_len(p, at + 11);
	if (!n)
		return fail(p, at, -EBADMSG, "expected a value, saw %s", what(p, at));
	int rc;
	if ((n == 4 && !memcmp(t, "true", 4)) || (n == 5 && !memcmp(t, "false", 5))) {
		*out = val_bool(n == 4);
		rc = 0;
	} else if (is_date(t, n) || is_time(t, n)) {
		rc = datetime(p, at, n, out);
	} else {
		rc = number(p, at, n, out);
	}
	if (rc >= 0)
		p->pos = at + n;
	return rc;
}

static int value(struct tp *p, unsigned depth, struct tnode **out);
static int keyval(struct tp *p, struct tnode *t);

static int array(struct tp *p, unsigned depth, struct tnode **out)
{
	size_t at = p->pos++;
	struct tnode *a = tnode_new(TN_ARRAY, TN_SEALED, depth);
	if (!a)
		return oom(p);
	int rc;
	for (;;) {
		if ((rc = skip_blank(p)) < 0)
			break;
		if (peek(p) == ']') {
			p->pos++;
			break;
		}
		if (at_end(p)) {
			rc = fail(p, at, -EBADMSG, "array not closed");
			break;
		}
		struct tnode *item = NULL;
		if ((rc = value(p, depth + 1, &item)) < 0 || (rc = array_push(p, a, item)) < 0)
			break;
		if ((rc = skip_blank(p)) < 0)
			break;
		if (peek(p) == ',') {
			p->pos++;
		} else if (peek(p) == ']') {
			p->pos++;
			break;
		} else {
			rc = fail(p, p->pos, -EBADMSG, "expected ',' or ']' in an array, saw %s", what(p, p->pos));
			break;
		}
	}
	if (rc < 0) {
		tnode_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* TOML: an inline table stays on one line, has no trailing comma and is
 * complete as written (nothing outside it may add to it). */
static int inline_table(struct tp *p, unsigned depth, struct tnode **out)
{
	p->pos++;
	struct tnode *t = tnode_new(TN_TABLE, 0, depth);
	if (!t)
		return oom(p);
	int rc = 0;
	skip_ws(p);
	if (peek(p) == '}') {
		p->pos++;
	} else {
		for (;;) {
			skip_ws(p);
			if ((rc = keyval(p, t)) < 0)
				break;
			skip_ws(p);
			if (peek(p) == ',') {
				p->pos++;
			} else if (peek(p) == '}') {
				p->pos++;
				break;
			} else {
				rc = fail(p, p->pos, -EBADMSG, "expected ',' or '}' in an inline table, saw %s",
					  what(p, p->pos));
				break;
			}
		}
	}
	if (rc < 0) {
		tnode_free(t);
		return rc;
	}
	t->flags = TN_SEALED;
	*out = t;
	return 0;
}

static int value(struct tp *p, unsigned depth, struct tnode **out)
{
	if (depth > TOML_MAX_DEPTH)
		return fail(p, p->pos, -E2BIG, "values nested deeper than %d", TOML_MAX_DEPTH);
	char c = peek(p);
	if (c == '[')
		return array(p, depth, out);
	if (c == '{')
		return inline_table(p, depth, out);
	struct val *v = NULL;
	int rc;
	if (c == '"' || c == '\'') {
		bool multi = p->pos + 2 < p->len && p->s[p->pos + 1] == c && p->s[p->pos + 2] == c;
		rc = multi ? string_multi(p) : string_line(p);
		if (rc >= 0 && !(v = val_string(p->str.p, p->str.len)))
			rc = oom(p);
	} else {
		rc = scalar(p, &v);
	}
	if (rc < 0)
		return rc;
	struct tnode *leaf = tnode_new(TN_LEAF, 0, depth);
	if (!leaf) {
		val_unref(v);
		return oom(p);
	}
	leaf->leaf = v;
	*out = leaf;
	return 0;
}

/* ------------------------------------------------------ keys and tables */

/* One part of a key: bare, "basic" or 'literal'. */
static int key_part(struct tp *p, struct val **out)
{
	size_t at = p->pos;
	char c = peek(p);
	if (c == '"' || c == '\'') {
		int rc = string_line(p);
		if (rc < 0)
			return rc;
		*out = val_string(p->str.p, p->str.len);
	} else {
		while (p->pos < p->len && is_bare(p->s[p->pos]))
			p->pos++;
		if (p->pos == at)
			return fail(p, at, -EBADMSG, "expected a key, saw %s", what(p, at));
		*out = val_string(p->s + at, p->pos - at);
	}
	return *out ? 0 : oom(p);
}

/* One part of a (dotted) key, as read by key_next(). */
struct keypart {
	size_t at;         /* where it starts, for messages */
	struct val *key;   /* the part, a string */
	struct tnode *sub; /* the member of the table it names, NULL if none */
	bool last;         /* no dot follows */
};

static void keypart_release(struct keypart *k) { val_unref(k->key); }

/* Reads a key part and the whitespace after it, and the dot when one
 * follows; looks the part up in @t. */
static int key_next(struct tp *p, struct tnode *t, struct keypart *k)
{
	k->at = p->pos;
	int rc = key_part(p, &k->key);
	if (rc < 0)
		return rc;
	skip_ws(p);
	k->last = peek(p) != '.';
	if (!k->last) {
		p->pos++;
		skip_ws(p);
	}
	k->sub = table_get(p, t, k->key);
	return 0;
}

/* key = value into table @t (a section's table or an inline table). */
static int keyval(struct tp *p, struct tnode *t)
{
	for (;;) {
		_cleanup_(keypart_release) struct keypart k = { 0 };
		int rc = key_next(p, t, &k);
		if (rc < 0)
			return rc;
		struct tnode *sub = k.sub;
		if (k.last) {
			if (sub)
				return fail(p, k.at, -EBADMSG, "key %s defined twice", quoted(p, k.key));
			if (peek(p) != '=')
				return fail(p, p->pos, -EBADMSG, "expected '=' after a key, saw %s", what(p, p->pos));
			p->pos++;
			skip_ws(p);
			struct tnode *v = NULL;
			if ((rc = value(p, t->depth + 1, &v)) < 0)
				return rc;
			return table_put(p, t, TAKE_PTR(k.key), v);
		}
		if (!sub) {
			rc = new_table(p, k.at, t, TAKE_PTR(k.key), TN_DOTTED, &sub);
			if (rc < 0)
				return rc;
		} else if (sub->kind != TN_TABLE || !(sub->flags & (TN_DOTTED | TN_IMPLICIT))) {
			/* TOML: dotted keys may not add to a table defined
			 * otherwise (a header, an inline table) nor to a value */
			return fail(p, k.at, -EBADMSG, "key %s is already defined: a dotted key cannot add to it",
				    quoted(p, k.key));
		}
		t = sub;
	}
}

/* toml++'s rule for a header defining a table that an earlier header
 * created as a parent: no dotted key may have put a value in it. */
static bool definable(const struct tnode *t)
{
	if (!(t->flags & TN_IMPLICIT))
		return false;
	for (size_t i = 0; i < t->n; i++) {
		const struct tnode *k = t->kids[i];
		if (k->kind == TN_LEAF || (k->kind == TN_ARRAY && !k->n))
			return false;
		for (size_t j = 0; k->kind == TN_ARRAY && j < k->n; j++)
			if (k->kids[j]->kind != TN_TABLE)
				return false;
	}
	return true;
}

/* A new table element of array of tables @a. */
static int aot_append(struct tp *p, size_t at, struct tnode *a, struct tnode **out)
{
	if (a->depth >= TOML_MAX_DEPTH)
		return fail(p, at, -E2BIG, "tables nested deeper than %d", TOML_MAX_DEPTH);
	struct tnode *t = tnode_new(TN_TABLE, 0, a->depth + 1);
	int rc = array_push(p, a, t);
	if (rc < 0)
		return rc;
	*out = t;
	return 0;
}

/* A [table] or [[array of tables]] header at p->pos; *cur becomes the
 * table that the following key/value pairs go to. */
static int header(struct tp *p, struct tnode *root, struct tnode **cur)
{
	size_t at = p->pos++;
	bool aot = peek(p) == '[';
	if (aot)
		p->pos++;
	skip_ws(p);
	struct tnode *t = root;
	for (;;) {
		_cleanup_(keypart_release) struct keypart k = { 0 };
		int rc = key_next(p, t, &k);
		if (rc < 0)
			return rc;
		struct tnode *sub = k.sub;
		if (!k.last) {
			if (!sub) {
				if ((rc = new_table(p, k.at, t, TAKE_PTR(k.key), TN_IMPLICIT, &sub)) < 0)
					return rc;
			} else if (sub->kind == TN_ARRAY && (sub->flags & TN_AOT)) {
				/* TOML: a header below an array of tables
				 * goes to its last table */
				sub = sub->kids[sub->n - 1];
			} else if (sub->kind != TN_TABLE || (sub->flags & TN_SEALED)) {
				return fail(p, k.at, -EBADMSG, "key %s is a value, not a table", quoted(p, k.key));
			}
			t = sub;
			continue;
		}
		if (peek(p) != ']' || (aot && (p->pos + 1 >= p->len || p->s[p->pos + 1] != ']')))
			return fail(p, p->pos, -EBADMSG, "expected '%s' to close a header, saw %s", aot ? "]]" : "]",
				    what(p, p->pos));
		p->pos += aot ? 2 : 1;
		if (!sub && aot) {
			if (t->depth >= TOML_MAX_DEPTH)
				return fail(p, k.at, -E2BIG, "tables nested deeper than %d", TOML_MAX_DEPTH);
			struct tnode *a = tnode_new(TN_ARRAY, TN_AOT, t->depth + 1);
			if ((rc = table_put(p, t, TAKE_PTR(k.key), a)) < 0)
				return rc;
			return aot_append(p, k.at, a, cur);
		}
		if (!sub)
			return new_table(p, k.at, t, TAKE_PTR(k.key), 0, cur);
		if (aot && sub->kind == TN_ARRAY && (sub->flags & TN_AOT))
			return aot_append(p, k.at, sub, cur);
		if (!aot && sub->kind == TN_TABLE && definable(sub)) {
			sub->flags &= (uint8_t)~TN_IMPLICIT;
			*cur = sub;
			return 0;
		}
		return fail(p, at, -EBADMSG, "%s %s is already defined", aot ? "array of tables" : "table",
			    quoted(p, k.key));
	}
}

static int document(struct tp *p, struct tnode *root)
{
	struct tnode *cur = root;
	/* a byte order mark, as editors on some systems write one */
	if (p->len >= 3 && !memcmp(p->s, "\xef\xbb\xbf", 3))
		p->pos = 3;
	for (;;) {
		skip_ws(p);
		if (at_end(p))
			return 0;
		char c = peek(p);
		int rc = 0;
		if (c == '[')
			rc = header(p, root, &cur);
		else if (c != '#' && !newline_at(p, p->pos))
			rc = keyval(p, cur);
		if (rc < 0 || (rc = line_end(p)) < 0)
			return rc;
	}
}

/* --------------------------------------------------------------- output */

struct member {
	struct val *key;
	const struct tnode *node;
};

static int member_cmp(const void *a, const void *b)
{
	return val_compare(((const struct member *)a)->key, ((const struct member *)b)->key);
}

/* The value of node @t; NULL only when out of memory. */
static struct val *to_val(const struct tnode *t)
{
	if (t->kind == TN_LEAF)
		return val_ref(t->leaf);
	if (t->kind == TN_ARRAY) {
		struct val *a = val_array_new(t->n);
		for (size_t i = 0; a && i < t->n; i++) {
			if (val_array_push(a, to_val(t->kids[i])) < 0) {
				val_unref(a);
				return NULL;
			}
		}
		return a;
	}
	/* in key order, so that each val_object_put appends */
	_cleanup_free_ struct member *m = t->n ? calloc(t->n, sizeof(*m)) : NULL;
	struct val *o = val_object_new(t->n);
	if (!o || (t->n && !m)) {
		val_unref(o);
		return NULL;
	}
	for (size_t i = 0; i < t->n; i++)
		m[i] = (struct member){ t->keys[i], t->kids[i] };
	if (t->n)
		qsort(m, t->n, sizeof(*m), member_cmp);
	for (size_t i = 0; i < t->n; i++) {
		if (val_object_put(o, val_ref(m[i].key), to_val(m[i].node)) < 0) {
			val_unref(o);
			return NULL;
		}
	}
	return o;
}

int val_from_toml(const char *text, size_t len, struct val **out, struct arca_err *e)
{
	*out = NULL;
	if (len > TOML_MAX_BYTES)
		return err_set(e, -E2BIG, "TOML text larger than %u bytes", TOML_MAX_BYTES);
	struct tp p = { .s = text, .len = len, .e = e, .str = BUF_INIT };
	struct tnode *root = tnode_new(TN_TABLE, 0, 0);
	if (!root)
		return err_set(e, -ENOMEM, "out of memory");
	int rc = check_text(&p);
	if (rc >= 0)
		rc = document(&p, root);
	free(p.idx);
	buf_release(&p.str);
	if (rc >= 0) {
		struct val *v = to_val(root);
		if (v)
			*out = v;
		else
			rc = err_set(e, -ENOMEM, "out of memory");
	}
	tnode_free(root);
	return rc < 0 ? rc : 0;
}
