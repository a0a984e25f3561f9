/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OPA conformance harness: runs every case of $ARCA_SHARED/conformance/opa/
 * {v1,v0} through lib/rego and compares as OPA's runner does. Prints
 * per-directory and total counts; emits one TAP line per directory which
 * fails only when a case listed in conformance-pass.txt no longer passes.
 *
 *   conformance [--write FILE] [--verbose] [--only SUBSTR] [PASSLIST]
 *
 * --write FILE lists the passing cases, sorted: the new PASSLIST.
 */
#include <dirent.h>
#include <yaml.h>

#include "base.h"
#include "rego.h"


static bool verbose;
static const char *only;

/* ------------------------------------------------------------- yaml */

static bool is_number(const char *s)
{
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (!*p)
		return false;
	bool digit = false, dot = false, exp = false;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if (*p == '.' && !dot && !exp)
			dot = true;
		else if ((*p == 'e' || *p == 'E') && digit && !exp) {
			exp = true;
			if (p[1] == '+' || p[1] == '-')
				p++;
		} else
			return false;
	}
	return digit;
}

static struct val *yaml_to_val(yaml_document_t *d, yaml_node_t *n, int depth)
{
	if (!n || depth > 200)
		return NULL;
	switch (n->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)n->data.scalar.value;
		size_t len = n->data.scalar.length;
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
			if (!strcmp(s, "null") || !strcmp(s, "~") || len == 0)
				return val_null();
			if (!strcmp(s, "true"))
				return val_bool(true);
			if (!strcmp(s, "false"))
				return val_bool(false);
			if (is_number(s)) {
				const char *t = s[0] == '+' ? s + 1 : s;
				return val_number_text(t, strlen(t));
			}
		}
		return val_string(s, len);
	}
	case YAML_SEQUENCE_NODE: {
		struct val *a = val_array_new(4);
		for (yaml_node_item_t *i = n->data.sequence.items.start; a && i < n->data.sequence.items.top; i++)
			if (val_array_push(a, yaml_to_val(d, yaml_document_get_node(d, *i), depth + 1)) < 0)
				return NULL;
		return a;
	}
	case YAML_MAPPING_NODE: {
		struct val *o = val_object_new(4);
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; o && p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(d, p->key);
			struct val *kv = val_string((const char *)k->data.scalar.value, k->data.scalar.length);
			if (val_object_put(o, kv, yaml_to_val(d, yaml_document_get_node(d, p->value), depth + 1)) < 0)
				return NULL;
		}
		return o;
	}
	default:
		return NULL;
	}
}

/* ------------------------------------------------------------ cases */

struct passlist {
	char **v;
	size_t n;
};

static bool listed(struct passlist *pl, const char *key)
{
	size_t lo = 0, hi = pl->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(pl->v[mid], key);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int cmpval(const void *a, const void *b) { return val_compare(*(struct val *const *)a, *(struct val *const *)b); }

/* A result row as OPA's runner sees it: through JSON (sets become arrays),
 * and with sort_bindings each binding's array value sorted. */
static struct val *row_norm(struct val *row, bool sortb)
{
	struct buf b = BUF_INIT;
	struct val *v = NULL;
	val_to_json(row, &b, 0);
	if (val_from_json(b.p, b.len, NULL, &v, NULL) < 0)
		v = NULL;
	buf_release(&b);
	for (size_t i = 0; v && sortb && v->kind == VAL_OBJECT && i < v->obj.n; i++) {
		struct val *a = v->obj.vals[i];
		if (a->kind == VAL_ARRAY && a->arr.n > 1)
			qsort(a->arr.items, a->arr.n, sizeof(struct val *), cmpval);
	}
	return v;
}

/* OPA's runner compares the wanted and the got rows as sets: order and
 * duplicates of rows do not matter. */
static bool rows_equal(struct val *want, struct val *res, bool sortb, struct buf *why)
{
	struct val *ws = val_set_new(want->arr.n), *gs = val_set_new(res->arr.n);
	bool ok = ws && gs;
	for (size_t i = 0; ok && i < want->arr.n; i++)
		ok = val_set_add(ws, row_norm(want->arr.items[i], false)) == 0;
	for (size_t i = 0; ok && i < res->arr.n; i++)
		ok = val_set_add(gs, row_norm(res->arr.items[i], sortb)) == 0;
	if (ok && !val_equal(ws, gs)) {
		ok = false;
		buf_addstr(why, "got ");
		val_to_json(gs, why, 0);
		buf_addstr(why, " want ");
		val_to_json(ws, why, 0);
	}
	val_unref(ws);
	val_unref(gs);
	return ok;
}

/* Returns true when the case passes. */
static bool run_case(struct val *c, bool v0, struct buf *why)
{
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	bool ok = false;
	struct rego_query *q = NULL;
	struct val *res = NULL, *input = NULL;
	struct rego_limits lim = { 2000000, 2000 };
	rego_set_limits(r, &lim);
	const char *query = val_str(val_object_get_cstr(c, "query"));
	struct val *mods = val_object_get_cstr(c, "modules");
	struct val *data = val_object_get_cstr(c, "data");
	struct val *want = val_object_get_cstr(c, "want_result");
	const char *want_err = val_str(val_object_get_cstr(c, "want_error"));
	const char *want_code = val_str(val_object_get_cstr(c, "want_error_code"));
	struct val *strict = val_object_get_cstr(c, "strict_error");
	struct val *sortb = val_object_get_cstr(c, "sort_bindings");
	unsigned fl = v0 ? REGO_V0 : 0;
	int rc = 0;

	if (!query) {
		buf_addstr(why, "no query");
		goto out;
	}
	for (size_t i = 0; mods && mods->kind == VAL_ARRAY && i < mods->arr.n && rc == 0; i++) {
		const char *src = val_str(mods->arr.items[i]);
		char name[32];
		snprintf(name, sizeof(name), "test-%zu.rego", i);
		if (src)
			rc = rego_add_module(r, name, src, strlen(src), fl, &e);
	}
	if (rc == 0 && data && data->kind == VAL_OBJECT)
		rc = rego_set_data(r, data, &e);
	if (rc == 0)
		rc = rego_compile(r, &e);
	if (rc == 0)
		rc = rego_prepare(r, query, strlen(query), fl, &q, &e);
	if (rc == 0) {
		struct val *in = val_object_get_cstr(c, "input");
		const char *it = val_str(val_object_get_cstr(c, "input_term"));
		if (in)
			input = val_ref(in);
		else if (it)
			rc = rego_parse_term(it, strlen(it), &input, &e);
	}
	if (rc == 0)
		rc = rego_query_eval(q, input, strict && strict->kind == VAL_BOOL && strict->b ? REGO_STRICT_BUILTINS : 0,
				     &res, &e);
	if (want_err || want_code) {
		if (rc >= 0) {
			buf_addstr(why, "expected error, got result ");
			val_to_json(res, why, 0);
			goto out;
		}
		const char *m = err_msg(&e);
		if (want_code && !strstr(m, want_code)) {
			buf_addf(why, "error code mismatch: want %s got %s", want_code, m);
			goto out;
		}
		if (want_err && !strstr(m, want_err)) {
			buf_addf(why, "error mismatch: want %s got %s", want_err, m);
			goto out;
		}
		ok = true;
		goto out;
	}
	if (rc < 0) {
		buf_addf(why, "error: %s", err_msg(&e));
		goto out;
	}
	if (!want || want->kind != VAL_ARRAY) {
		ok = res->arr.n == 0;
		if (!ok) {
			buf_addstr(why, "expected undefined, got ");
			val_to_json(res, why, 0);
		}
		goto out;
	}
	ok = rows_equal(want, res, sortb && sortb->kind == VAL_BOOL && sortb->b, why);
out:
	val_unref(res);
	val_unref(input);
	rego_query_free(q);
	rego_free(r);
	return ok;
}

struct dirstat {
	char name[128];
	unsigned pass, fail, regress;
};

static int cmpname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_file(const char *path, const char *rel, const char *ver, struct dirstat *ds, struct passlist *pl,
		     struct passlist *wr)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	for (;;) {
		yaml_document_t d;
		if (!yaml_parser_load(&p, &d))
			break;
		yaml_node_t *root = yaml_document_get_root_node(&d);
		if (!root) {
			yaml_document_delete(&d);
			break;
		}
		struct val *doc = yaml_to_val(&d, root, 0);
		yaml_document_delete(&d);
		struct val *cases = val_object_get_cstr(doc, "cases");
		for (size_t i = 0; cases && cases->kind == VAL_ARRAY && i < cases->arr.n; i++) {
			struct val *c = cases->arr.items[i];
			const char *note = val_str(val_object_get_cstr(c, "note"));
			char key[1400];
			snprintf(key, sizeof(key), "%s#%zu %s", rel, i, note ? note : "?");
			if (only && !strstr(key, only))
				continue;
			struct buf why = BUF_INIT;
			bool ok = run_case(c, strcmp(ver, "v0") == 0, &why);
			if (ok) {
				ds->pass++;
				if (wr) {
					wr->v = realloc(wr->v, (wr->n + 1) * sizeof(char *));
					wr->v[wr->n++] = strdup(key);
				}
			} else {
				ds->fail++;
				if (listed(pl, key)) {
					ds->regress++;
					printf("# REGRESSION %s: %.300s\n", key, why.p);
				} else if (verbose) {
					printf("# FAIL %s: %.400s\n", key, why.p);
				}
			}
			buf_release(&why);
		}
		val_unref(doc);
	}
	yaml_parser_delete(&p);
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *shared = getenv("ARCA_SHARED");
	const char *write_path = NULL, *pass_path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--write") && i + 1 < argc)
			write_path = argv[++i];
		else if (!strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else
			pass_path = argv[i];
	}
	if (!shared) {
		printf("1..0 # SKIP ARCA_SHARED not set\n");
		return 0;
	}
	struct passlist pl = { 0 };
	if (pass_path) {
		struct buf b = BUF_INIT;
		if (file_read_all(pass_path, 64u << 20, &b, NULL) == 0) {
			char *save = NULL;
			for (char *line = strtok_r(b.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
				if (!*line || *line == '#')
					continue;
				pl.v = realloc(pl.v, (pl.n + 1) * sizeof(char *));
				pl.v[pl.n++] = strdup(line);
			}
		}
		buf_release(&b);
		qsort(pl.v, pl.n, sizeof(char *), cmpstr);
	}
	struct passlist written = { 0 };
	struct passlist *wr = write_path ? &written : NULL;
	unsigned tap = 0, tpass[2] = { 0 }, tfail[2] = { 0 };
	int status = 0;
	const char *vers[] = { "v1", "v0" };
	for (int vi = 0; vi < 2; vi++) {
		char base[4096];
		snprintf(base, sizeof(base), "%s/conformance/opa/%s", shared, vers[vi]);
		DIR *d = opendir(base);
		if (!d)
			continue;
		char **names = NULL;
		size_t nn = 0;
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			names = realloc(names, (nn + 1) * sizeof(char *));
			names[nn++] = strdup(de->d_name);
		}
		closedir(d);
		qsort(names, nn, sizeof(char *), cmpname);
		for (size_t i = 0; i < nn; i++) {
			struct dirstat ds = { 0 };
			snprintf(ds.name, sizeof(ds.name), "%s", names[i]);
			char sub[4500];
			snprintf(sub, sizeof(sub), "%s/%s", base, names[i]);
			DIR *sd = opendir(sub);
			if (sd) {
				char **files = NULL;
				size_t nf = 0;
				while ((de = readdir(sd))) {
					size_t l = strlen(de->d_name);
					if (l > 5 && !strcmp(de->d_name + l - 5, ".yaml")) {
						files = realloc(files, (nf + 1) * sizeof(char *));
						files[nf++] = strdup(de->d_name);
					}
				}
				closedir(sd);
				qsort(files, nf, sizeof(char *), cmpname);
				for (size_t j = 0; j < nf; j++) {
					char fp[5000];
					snprintf(fp, sizeof(fp), "%s/%s", sub, files[j]);
					char rel[600];
					snprintf(rel, sizeof(rel), "%s/%s/%s", vers[vi], names[i], files[j]);
					run_file(fp, rel, vers[vi], &ds, &pl, wr);
					free(files[j]);
				}
				free(files);
			}
			if (ds.pass + ds.fail) {
				tap++;
				printf("# %s/%s: %u passed, %u failed\n", vers[vi], ds.name, ds.pass, ds.fail);
				printf("%s %u - %s/%s%s\n", ds.regress ? "not ok" : "ok", tap, vers[vi], ds.name,
				       ds.regress ? " (regressions)" : "");
				if (ds.regress)
					status = 1;
			}
			tpass[vi] += ds.pass;
			tfail[vi] += ds.fail;
			free(names[i]);
		}
		free(names);
		printf("# total %s: %u passed, %u failed, %u cases\n", vers[vi], tpass[vi], tfail[vi], tpass[vi] + tfail[vi]);
	}
	printf("1..%u\n", tap);
	if (wr) {
		/* sorted (bytewise), as the committed list is kept */
		qsort(written.v, written.n, sizeof(char *), cmpstr);
		FILE *f = fopen(write_path, "w");
		for (size_t i = 0; f && i < written.n; i++)
			fprintf(f, "%s\n", written.v[i]);
		if (f)
			fclose(f);
		for (size_t i = 0; i < written.n; i++)
			free(written.v[i]);
		free(written.v);
	}
	for (size_t i = 0; i < pl.n; i++)
		free(pl.v[i]);
	free(pl.v);
	return status;
}
