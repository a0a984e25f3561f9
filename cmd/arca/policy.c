/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca policy: OPA-like front end to lib/rego.
 *
 *   arca policy eval -d FILE|DIR [-d ...] [-i input.json] [--data data.json]
 *                    [--format json|pretty|raw] [--v0] QUERY
 *   arca policy test [--v0] [-v] DIR|FILE...
 *   arca policy check [--v0] FILE|DIR...
 *   arca policy bench -d FILE|DIR [-i input.json] [--data data.json] [-n N] [--cold] QUERY
 */
#include <dirent.h>
#include <getopt.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "rego.h"

#define POLICY_MAX_FILE (64u << 20) /* bytes of one policy or data file */
#define POLICY_MAX_DEPTH 32         /* directory nesting when loading */

struct load {
	struct rego *r;
	struct val *data;
	unsigned flags;
	size_t nmods;
};

static int load_json(const char *path, struct val **out)
{
	struct buf b = BUF_INIT;
	struct arca_err e = { 0 };
	int rc = file_read_all(path, POLICY_MAX_FILE, &b, &e);
	if (rc == 0)
		rc = val_from_json(b.p, b.len, NULL, out, &e);
	buf_release(&b);
	if (rc < 0)
		cmd_fail(&e, rc, path);
	return rc;
}

static int merge_data(struct load *l, struct val *v, const char *path)
{
	if (v->kind != VAL_OBJECT) {
		cmd_error("%s: data must be a JSON object", path);
		return -EINVAL;
	}
	for (size_t i = 0; i < v->obj.n; i++)
		if (val_object_put(l->data, val_ref(v->obj.keys[i]), val_ref(v->obj.vals[i])) < 0)
			return -ENOMEM;
	return 0;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static int load_path(struct load *l, const char *path, unsigned depth)
{
	struct stat st;
	if (depth > POLICY_MAX_DEPTH) {
		cmd_error("%s: directories nested too deeply", path);
		return -E2BIG;
	}
	if (stat(path, &st) < 0) {
		cmd_error("%s: %s", path, strerror(errno));
		return -errno;
	}
	if (S_ISDIR(st.st_mode)) {
		struct dirent **ents = NULL;
		int n = scandir(path, &ents, NULL, alphasort);
		if (n < 0) {
			cmd_error("%s: %s", path, strerror(errno));
			return -errno;
		}
		int rc = 0;
		for (int i = 0; i < n; i++) {
			const char *nm = ents[i]->d_name;
			if (rc == 0 && nm[0] != '.') {
				struct buf p = BUF_INIT;
				buf_addf(&p, "%s/%s", path, nm);
				struct stat cst;
				if (stat(p.p, &cst) == 0 &&
				    (S_ISDIR(cst.st_mode) || ends_with(nm, ".rego") || strcmp(nm, "data.json") == 0))
					rc = load_path(l, p.p, depth + 1);
				buf_release(&p);
			}
			free(ents[i]);
		}
		free(ents);
		return rc;
	}
	if (ends_with(path, ".json")) {
		struct val *v = NULL;
		int rc = load_json(path, &v);
		if (rc == 0)
			rc = merge_data(l, v, path);
		val_unref(v);
		return rc;
	}
	struct buf b = BUF_INIT;
	struct arca_err e = { 0 };
	int rc = file_read_all(path, POLICY_MAX_FILE, &b, &e);
	if (rc == 0)
		rc = rego_add_module(l->r, path, b.p, b.len, l->flags, &e);
	buf_release(&b);
	if (rc < 0)
		return cmd_fail(&e, rc, path), rc;
	l->nmods++;
	return 0;
}

static int finish_load(struct load *l)
{
	struct arca_err e = { 0 };
	int rc = rego_set_data(l->r, l->data, &e);
	if (rc == 0)
		rc = rego_compile(l->r, &e);
	if (rc < 0)
		cmd_fail(&e, rc, "compile");
	return rc;
}

static const struct option long_opts[] = {
	{ "data", required_argument, NULL, 'D' },  { "input", required_argument, NULL, 'i' },
	{ "format", required_argument, NULL, 'f' }, { "v0", no_argument, NULL, '0' },
	{ "count", required_argument, NULL, 'n' },  { "verbose", no_argument, NULL, 'v' },
	{ "cold", no_argument, NULL, 'C' },
	{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
};

struct opts {
	const char *paths[64];
	size_t npaths;
	const char *input, *format;
	long count;
	bool verbose;
	bool cold;
	const char *data_path;
};

static int parse_opts(int argc, char **argv, struct opts *o, struct load *l)
{
	int c;
	optind = 1;
	o->format = "json";
	o->count = 10000;
	while ((c = getopt_long(argc, argv, "d:i:f:n:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'd':
		case 'D':
			if (c == 'd' || ends_with(optarg, ".rego")) {
				if (o->npaths == ARRAY_SIZE(o->paths)) {
					cmd_error("too many -d paths");
					return EXIT_USAGE;
				}
				o->paths[o->npaths++] = optarg;
			} else {
				struct val *v = NULL;
				o->data_path = optarg;
				if (load_json(optarg, &v) < 0)
					return 1;
				int rc = merge_data(l, v, optarg);
				val_unref(v);
				if (rc < 0)
					return 1;
			}
			break;
		case 'i':
			o->input = optarg;
			break;
		case 'f':
			o->format = optarg;
			break;
		case '0':
			l->flags |= REGO_V0;
			break;
		case 'n':
			o->count = strtol(optarg, NULL, 10);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'C':
			o->cold = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	return 0;
}

static void print_value(struct buf *b, const struct val *v, const char *fmt)
{
	if (strcmp(fmt, "raw") == 0 && v->kind == VAL_STRING) {
		buf_add(b, v->str.s, v->str.len);
	} else {
		val_to_json(v, b, strcmp(fmt, "raw") == 0 ? 0 : JSON_PRETTY);
	}
	buf_addch(b, '\n');
}

static int do_eval(struct opts *o, struct load *l, const char *query)
{
	struct arca_err e = { 0 };
	struct val *input = NULL, *res = NULL, *value = NULL;
	struct rego_query *q = NULL;
	int rc, status = 1;
	struct buf out = BUF_INIT;

	if (o->input && load_json(o->input, &input) < 0)
		return 1;
	rc = rego_prepare(l->r, query, strlen(query), l->flags, &q, &e);
	if (rc < 0) {
		cmd_fail(&e, rc, "query");
		goto out;
	}
	rc = rego_query_eval(q, input, 0, &res, &e);
	if (rc == 0 && res->arr.n > 0)
		rc = rego_query_value(q, input, &value, &e);
	if (rc < 0) {
		cmd_fail(&e, rc, "eval");
		goto out;
	}
	if (strcmp(o->format, "json") == 0) {
		/* opa eval's shape; expression values are reported for
		 * single-expression queries, true for each expression otherwise */
		struct val *top = val_object_new(1), *arr = val_array_new(res->arr.n);
		for (size_t i = 0; top && arr && i < res->arr.n; i++) {
			struct val *r1 = val_object_new(2), *exprs = val_array_new(1), *ex = val_object_new(2);
			struct val *ev = value && res->arr.n == 1 ? val_ref(value) : val_bool(true);
			if (!r1 || !exprs || !ex)
				break;
			val_object_put_cstr(ex, "value", ev);
			val_object_put_cstr(ex, "text", val_cstr(query));
			val_array_push(exprs, ex);
			val_object_put_cstr(r1, "expressions", exprs);
			if (res->arr.items[i]->obj.n)
				val_object_put_cstr(r1, "bindings", val_ref(res->arr.items[i]));
			val_array_push(arr, r1);
		}
		if (top && arr && res->arr.n)
			val_object_put_cstr(top, "result", val_ref(arr));
		if (top)
			val_to_json(top, &out, JSON_PRETTY);
		buf_addch(&out, '\n');
		val_unref(arr);
		val_unref(top);
	} else if (res->arr.n == 0) {
		if (strcmp(o->format, "pretty") == 0)
			buf_addstr(&out, "undefined\n");
	} else if (value && res->arr.items[0]->obj.n == 0) {
		print_value(&out, value, o->format);
	} else {
		for (size_t i = 0; i < res->arr.n; i++)
			print_value(&out, res->arr.items[i], o->format);
	}
	status = cmd_out(&out);
out:
	buf_release(&out);
	val_unref(value);
	val_unref(res);
	val_unref(input);
	rego_query_free(q);
	return status;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* Benchmarks run in rounds: on a shared machine the mean wall time mostly
 * measures the other tenants, so the best round and the process CPU time
 * per iteration are reported beside it. */
#define BENCH_ROUNDS 5

struct bench_clock {
	double t0, c0, best;
	double round_t0;
};

static void bench_start(struct bench_clock *b)
{
	b->t0 = b->round_t0 = now_s();
	b->c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	b->best = 0;
}

static void bench_round(struct bench_clock *b, long iters)
{
	double t = now_s();
	double per = (t - b->round_t0) / (double)(iters > 0 ? iters : 1);
	if (b->best == 0 || per < b->best)
		b->best = per;
	b->round_t0 = t;
}

static void bench_report(const struct bench_clock *b, long n, const char *what)
{
	double dt = now_s() - b->t0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - b->c0;
	printf("%ld %s in %.3f s: %.2f µs mean, %.2f µs best round, %.2f µs cpu per evaluation\n", n, what, dt,
	       dt * 1e6 / (double)n, b->best * 1e6, cpu * 1e6 / (double)n);
}

static int do_test(struct opts *o, struct load *l)
{
	struct val *names = NULL;
	struct arca_err e = { 0 };
	unsigned pass = 0, fail = 0, errs = 0;
	if (rego_rule_names(l->r, "test_", &names) < 0) {
		cmd_error("out of memory");
		return 1;
	}
	for (size_t i = 0; i < names->arr.n; i++) {
		const char *name = val_str(names->arr.items[i]);
		struct rego_query *q = NULL;
		struct val *v = NULL;
		double t0 = now_s();
		int rc = rego_prepare(l->r, name, strlen(name), l->flags, &q, &e);
		if (rc == 0)
			rc = rego_query_value(q, NULL, &v, &e);
		double us = (now_s() - t0) * 1e6;
		const char *verdict;
		if (rc < 0) {
			verdict = "ERROR";
			errs++;
		} else if (v && !(v->kind == VAL_BOOL && !v->b)) {
			verdict = "PASS";
			pass++;
		} else {
			verdict = "FAIL";
			fail++;
		}
		if (o->verbose || strcmp(verdict, "PASS") != 0) {
			printf("%s: %s (%.1fµs)\n", name, verdict, us);
			if (rc < 0)
				printf("  %s\n", err_msg(&e));
		}
		val_unref(v);
		rego_query_free(q);
	}
	unsigned total = pass + fail + errs;
	if (fail || errs)
		printf("--------------------------------------------------------------------------------\n");
	if (pass)
		printf("PASS: %u/%u\n", pass, total);
	if (fail)
		printf("FAIL: %u/%u\n", fail, total);
	if (errs)
		printf("ERROR: %u/%u\n", errs, total);
	if (!total)
		printf("no tests found\n");
	val_unref(names);
	return (fail || errs || !total) ? 1 : 0;
}

int cmd_policy_load(char *const *paths, size_t n, const char *data_path, unsigned flags, struct rego **out);

/* --cold: the whole one-shot path in process (read and parse the policy and
 * data files, compile, prepare, evaluate) without process start-up. */
static int do_bench_cold(struct opts *o, struct load *l, const char *query)
{
	struct arca_err e = { 0 };
	struct val *input = NULL;
	if (o->input && load_json(o->input, &input) < 0)
		return 1;
	long n = o->count > 0 ? o->count : 100;
	long per_round = n / BENCH_ROUNDS > 0 ? n / BENCH_ROUNDS : 1;
	struct bench_clock bc;
	bench_start(&bc);
	int rc = 0;
	for (long i = 0; i < n && rc == 0; i++) {
		if (i > 0 && i % per_round == 0)
			bench_round(&bc, per_round);
		struct rego *r = NULL;
		struct rego_query *q = NULL;
		struct val *v = NULL;
		rc = cmd_policy_load((char *const *)o->paths, o->npaths, o->data_path, l->flags, &r);
		if (rc == 0)
			rc = rego_prepare(r, query, strlen(query), l->flags, &q, &e);
		if (rc == 0)
			rc = rego_query_value(q, input, &v, &e);
		val_unref(v);
		rego_query_free(q);
		rego_free(r);
	}
	if (n % per_round == 0)
		bench_round(&bc, per_round);
	val_unref(input);
	if (rc < 0)
		return cmd_fail(&e, rc, "eval");
	bench_report(&bc, n, "cold evaluations (read+parse policy and data, compile, evaluate; in process)");
	return 0;
}

static int do_bench(struct opts *o, struct load *l, const char *query)
{
	if (o->cold)
		return do_bench_cold(o, l, query);
	struct arca_err e = { 0 };
	struct val *input = NULL;
	struct rego_query *q = NULL;
	if (o->input && load_json(o->input, &input) < 0)
		return 1;
	int rc = rego_prepare(l->r, query, strlen(query), l->flags, &q, &e);
	if (rc < 0) {
		val_unref(input);
		return cmd_fail(&e, rc, "query");
	}
	long n = o->count > 0 ? o->count : 10000;
	long per_round = n / BENCH_ROUNDS > 0 ? n / BENCH_ROUNDS : 1;
	struct bench_clock bc;
	bench_start(&bc);
	for (long i = 0; i < n && rc == 0; i++) {
		if (i > 0 && i % per_round == 0)
			bench_round(&bc, per_round);
		struct val *v = NULL;
		rc = rego_query_value(q, input, &v, &e);
		val_unref(v);
	}
	if (n % per_round == 0)
		bench_round(&bc, per_round);
	rego_query_free(q);
	val_unref(input);
	if (rc < 0)
		return cmd_fail(&e, rc, "eval");
	bench_report(&bc, n, "prepared evaluations");
	return 0;
}

/* Shared with serve.c: loads policies (files or directories) and an
 * optional data file into a compiled engine. Reports errors itself. */
int cmd_policy_load(char *const *paths, size_t n, const char *data_path, unsigned flags, struct rego **out);
int cmd_policy_load(char *const *paths, size_t n, const char *data_path, unsigned flags, struct rego **out)
{
	struct load l = { .r = rego_new(), .data = val_object_new(4), .flags = flags };
	int rc = l.r && l.data ? 0 : -ENOMEM;
	if (rc < 0)
		cmd_error("out of memory");
	if (rc == 0 && data_path) {
		struct val *v = NULL;
		rc = load_json(data_path, &v);
		if (rc == 0)
			rc = merge_data(&l, v, data_path);
		val_unref(v);
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = load_path(&l, paths[i], 0);
	if (rc == 0)
		rc = finish_load(&l);
	val_unref(l.data);
	if (rc < 0) {
		rego_free(l.r);
		return rc;
	}
	*out = l.r;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: arca policy eval -d FILE|DIR [-i input.json] [--data data.json] [--format json|pretty|raw] [--v0] QUERY\n"
		"       arca policy test [--v0] [-v] DIR|FILE...\n"
		"       arca policy check [--v0] FILE|DIR...\n"
		"       arca policy bench -d FILE|DIR [-i input.json] [--data data.json] [-n N] [--cold] QUERY\n");
}

int cmd_policy(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return EXIT_USAGE;
	}
	const char *verb = argv[1];
	struct opts o = { 0 };
	struct load l = { 0 };
	int status;
	l.r = rego_new();
	l.data = val_object_new(4);
	if (!l.r || !l.data) {
		cmd_error("out of memory");
		status = 1;
		goto out;
	}
	status = parse_opts(argc - 1, argv + 1, &o, &l);
	if (status) {
		usage();
		goto out;
	}
	int rest = argc - 1 - optind;
	char **args = argv + 1 + optind;
	if (strcmp(verb, "test") == 0 || strcmp(verb, "check") == 0) {
		for (int i = 0; i < rest && o.npaths < ARRAY_SIZE(o.paths); i++)
			o.paths[o.npaths++] = args[i];
		rest = 0;
	}
	if (o.npaths == 0) {
		usage();
		status = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < o.npaths; i++)
		if (load_path(&l, o.paths[i], 0) < 0) {
			status = 1;
			goto out;
		}
	if (finish_load(&l) < 0) {
		status = 1;
		goto out;
	}
	if (strcmp(verb, "eval") == 0 || strcmp(verb, "bench") == 0) {
		if (rest != 1) {
			usage();
			status = EXIT_USAGE;
			goto out;
		}
		status = verb[0] == 'e' ? do_eval(&o, &l, args[0]) : do_bench(&o, &l, args[0]);
	} else if (strcmp(verb, "test") == 0) {
		status = do_test(&o, &l);
	} else if (strcmp(verb, "check") == 0) {
		if (!cmd_quiet)
			printf("%zu module(s) ok\n", l.nmods);
		status = 0;
	} else {
		usage();
		status = EXIT_USAGE;
	}
out:
	val_unref(l.data);
	rego_free(l.r);
	return status;
}
