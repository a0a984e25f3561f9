/* SPDX-License-Identifier: Apache-2.0 */
/*
 * METADATA annotations, as OPA reads them: a comment block whose first
 * line is "# METADATA" holds YAML and annotates the package clause or rule
 * on the line after it. Authors and related resources are normalised to
 * objects and the scope defaults by what is annotated ("package" or
 * "rule"). rego.metadata.rule and rego.metadata.chain return them.
 */
#include "internal.h"

#define REGO_MAX_ANNOT_BYTES (1u << 20) /* YAML of one block */

#define A0 args[0]

struct line {
	const char *p; /* after leading blanks */
	size_t n;      /* to the end of the line, without '\n' */
	bool comment, blank;
};

static void line_at(const char *src, size_t len, size_t *pos, struct line *l)
{
	size_t i = *pos, e = i;
	while (e < len && src[e] != '\n')
		e++;
	*pos = e < len ? e + 1 : e;
	while (i < e && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r'))
		i++;
	l->p = src + i;
	l->n = e - i;
	while (l->n && (l->p[l->n - 1] == '\r' || l->p[l->n - 1] == ' ' || l->p[l->n - 1] == '\t'))
		l->n--;
	l->blank = l->n == 0;
	l->comment = l->n && l->p[0] == '#';
}

/* Carries whether a raw string (backquotes) is open across lines, so that
 * "# METADATA" inside one is not taken for a comment. */
static void raw_state(const struct line *l, bool *in_raw)
{
	for (size_t i = 0; i < l->n; i++) {
		char c = l->p[i];
		if (*in_raw) {
			if (c == '`')
				*in_raw = false;
		} else if (c == '`') {
			*in_raw = true;
		} else if (c == '#') {
			return; /* a comment to the end of the line */
		} else if (c == '"') {
			for (i++; i < l->n && l->p[i] != '"'; i++)
				if (l->p[i] == '\\')
					i++;
		}
	}
}

static bool is_metadata(const struct line *l)
{
	size_t i = 1;
	while (i < l->n && l->p[i] == ' ')
		i++;
	return l->comment && l->n - i == 8 && memcmp(l->p + i, "METADATA", 8) == 0;
}

static int put(struct val *o, const char *k, struct val *v)
{
	return v ? val_object_put_cstr(o, k, v) : -ENOMEM;
}

/* "Jane Doe <jane@example.com>" as {name, email}. */
static struct val *author(struct val *a)
{
	if (a->kind != VAL_STRING)
		return val_ref(a);
	const char *s = a->str.s, *lt = memchr(s, '<', a->str.len);
	struct val *o = val_object_new(2);
	size_t nl = lt ? (size_t)(lt - s) : a->str.len;
	while (nl && s[nl - 1] == ' ')
		nl--;
	int rc = o ? 0 : -ENOMEM;
	if (rc == 0 && nl)
		rc = put(o, "name", val_string(s, nl));
	if (rc == 0 && lt && a->str.s[a->str.len - 1] == '>')
		rc = put(o, "email", val_string(lt + 1, a->str.len - (size_t)(lt - s) - 2));
	if (rc < 0) {
		val_unref(o);
		return NULL;
	}
	return o;
}

static struct val *each(struct val *list, struct val *(*f)(struct val *))
{
	if (list->kind != VAL_ARRAY)
		return val_ref(list);
	struct val *a = val_array_new(list->arr.n);
	for (size_t i = 0; a && i < list->arr.n; i++)
		if (val_array_push(a, f(list->arr.items[i])) < 0) {
			val_unref(a);
			return NULL;
		}
	return a;
}

static struct val *resource(struct val *r)
{
	if (r->kind != VAL_STRING)
		return val_ref(r);
	struct val *o = val_object_new(1);
	if (o && put(o, "ref", val_ref(r)) < 0) {
		val_unref(o);
		return NULL;
	}
	return o;
}

static struct val *normalise(struct val *y, const char *scope)
{
	struct val *o = val_object_new(y->obj.n + 1);
	int rc = o ? 0 : -ENOMEM;
	for (size_t i = 0; i < y->obj.n && rc == 0; i++) {
		const char *k = val_str(y->obj.keys[i]);
		struct val *v = y->obj.vals[i];
		if (k && !strcmp(k, "authors"))
			v = each(v, author);
		else if (k && !strcmp(k, "related_resources"))
			v = each(v, resource);
		else
			v = val_ref(v);
		rc = v ? val_object_put(o, val_ref(y->obj.keys[i]), v) : -ENOMEM;
	}
	if (rc == 0 && !val_object_get_cstr(o, "scope"))
		rc = put(o, "scope", val_cstr(scope));
	if (rc < 0) {
		val_unref(o);
		return NULL;
	}
	return o;
}

static struct rule *rule_at(struct module *m, int line)
{
	for (size_t i = 0; i < m->nrules; i++)
		for (struct rule *x = m->rules[i]; x; x = x->els)
			if (x->line == line)
				return x;
	return NULL;
}

int rego_annotations_attach(struct rego *r, struct module *m, const char *src, size_t len, struct arca_err *e)
{
	size_t pos = 0;
	int lineno = 0, pkg_line = 0;
	/* the package clause is the first statement */
	while (pos < len && !pkg_line) {
		struct line l;
		line_at(src, len, &pos, &l);
		lineno++;
		if (!l.blank && !l.comment)
			pkg_line = lineno;
	}
	pos = 0;
	lineno = 0;
	bool in_raw = false;
	while (pos < len) {
		struct line l;
		line_at(src, len, &pos, &l);
		lineno++;
		bool inside = in_raw;
		raw_state(&l, &in_raw);
		if (inside || !is_metadata(&l))
			continue;
		int at = lineno;
		struct buf y = BUF_INIT;
		while (pos < len) {
			size_t save = pos;
			line_at(src, len, &pos, &l);
			if (!l.comment) {
				pos = save;
				break;
			}
			lineno++;
			size_t skip = l.n > 1 && l.p[1] == ' ' ? 2 : 1;
			buf_add(&y, l.p + skip, l.n - skip);
			buf_addch(&y, '\n');
		}
		/* the annotated statement: the next line that is not blank */
		int target = lineno + 1;
		for (size_t q = pos; q < len;) {
			line_at(src, len, &q, &l);
			if (!l.blank)
				break;
			target++;
		}
		if (buf_error(&y) || y.len > REGO_MAX_ANNOT_BYTES) {
			buf_release(&y);
			return err_set(e, -E2BIG, "%s:%d: rego_parse_error: annotation too large", m->name, at);
		}
		struct val *v = NULL;
		char msg[256];
		int rc = rego_yaml_parse(y.p ? y.p : "", y.len, &v, msg, sizeof(msg));
		buf_release(&y);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0 || (v->kind != VAL_OBJECT && v->kind != VAL_NULL)) {
			val_unref(v);
			return err_set(e, -EBADMSG, "%s:%d: rego_parse_error: invalid METADATA block: %s", m->name, at,
				       rc < 0 ? msg : "not an object");
		}
		if (v->kind == VAL_NULL) {
			val_unref(v);
			v = val_object_new(0);
			if (!v)
				return -ENOMEM;
		}
		struct rule *x = target == pkg_line ? NULL : rule_at(m, target);
		struct val *a = target == pkg_line || x ? normalise(v, x ? "rule" : "package") : NULL;
		val_unref(v);
		if (!a)
			continue; /* annotates nothing this engine keeps */
		if (rego_hold(r, a) < 0)
			return -ENOMEM;
		if (x)
			x->annot = a;
		else
			m->annot = a;
	}
	return 0;
}

/* ------------------------------------------------------------- builtins */

static bool scope_is(const struct val *a, const char *scope)
{
	const char *s = a ? val_str(val_object_get_cstr(a, "scope")) : NULL;
	return s && !strcmp(s, scope);
}

static int bi_metadata_rule(struct ev *ev, struct val **args, struct val **out)
{
	(void)args;
	struct val *a = ev->rule ? ev->rule->annot : NULL;
	*out = scope_is(a, "rule") ? val_ref(a) : val_object_new(0);
	return *out ? 0 : -ENOMEM;
}

/* Same package and the same constant head path. */
static bool same_path(const struct rule *x, const struct rule *y)
{
	if (!val_equal(x->mod->pkg, y->mod->pkg) || x->nstatic != y->nstatic)
		return false;
	for (size_t i = 0; i < x->nstatic; i++)
		if (!val_equal(x->path[i]->v, y->path[i]->v))
			return false;
	return true;
}

static int push_entry(struct val *chain, struct val *path, struct val *annot)
{
	struct val *o = val_object_new(2);
	int rc = o ? put(o, "path", path) : (val_unref(path), -ENOMEM);
	if (rc == 0 && annot)
		rc = put(o, "annotations", val_ref(annot));
	if (rc < 0) {
		val_unref(o);
		return rc;
	}
	return val_array_push(chain, o);
}

static struct val *prefix(const struct val *pkg, size_t n)
{
	struct val *p = val_array_new(n);
	for (size_t i = 0; p && i < n; i++)
		if (val_array_push(p, val_ref(pkg->arr.items[i])) < 0) {
			val_unref(p);
			return NULL;
		}
	return p;
}

/* rego.metadata.chain: the rule's entry, then the annotations of its
 * document, its package and the packages above, innermost first. */
static int bi_metadata_chain(struct ev *ev, struct val **args, struct val **out)
{
	(void)args;
	struct rule *x = ev->rule;
	struct val *chain = val_array_new(4);
	if (!chain)
		return -ENOMEM;
	if (!x) {
		*out = chain;
		return 0;
	}
	const struct val *pkg = x->mod->pkg;
	struct rego *r = ev->r;
	struct val *path = prefix(pkg, pkg->arr.n);
	for (size_t i = 0; path && i < x->nstatic; i++)
		if (val_array_push(path, val_ref(x->path[i]->v)) < 0) {
			val_unref(path);
			path = NULL;
		}
	int rc = path ? push_entry(chain, path, scope_is(x->annot, "rule") ? x->annot : NULL) : -ENOMEM;
	/* a document-scoped annotation on any rule of the same path */
	struct val *doc = NULL;
	for (size_t i = 0; i < r->nmods && !doc; i++)
		for (size_t j = 0; j < r->mods[i]->nrules && !doc; j++)
			for (struct rule *y = r->mods[i]->rules[j]; y && !doc; y = y->els)
				if (scope_is(y->annot, "document") && same_path(x, y))
					doc = y->annot;
	if (rc == 0 && doc) {
		/* path now belongs to the first entry, which chain holds */
		struct val *dp = prefix(path, path->arr.n);
		rc = dp ? push_entry(chain, dp, doc) : -ENOMEM;
	}
	/* the package, then enclosing packages' "subpackages" annotations */
	for (size_t k = pkg->arr.n; k > 0 && rc == 0; k--) {
		struct val *want = prefix(pkg, k), *found = NULL;
		if (!want) {
			rc = -ENOMEM;
			break;
		}
		for (size_t i = 0; i < r->nmods && !found; i++) {
			struct module *m = r->mods[i];
			if (m->annot && val_equal(m->pkg, want) &&
			    ((k == pkg->arr.n && scope_is(m->annot, "package")) || scope_is(m->annot, "subpackages")))
				found = m->annot;
		}
		if (found)
			rc = push_entry(chain, want, found);
		else
			val_unref(want);
	}
	if (rc < 0) {
		val_unref(chain);
		return rc;
	}
	*out = chain;
	return 0;
}

const struct builtin_decl rego_builtins_metadata[] = {
	{ "rego.metadata.rule", 0, bi_metadata_rule, "the METADATA annotations of the rule being evaluated" },
	{ "rego.metadata.chain", 0, bi_metadata_chain, "annotations from the rule up through its packages" },
	{ NULL, 0, NULL, NULL },
};
