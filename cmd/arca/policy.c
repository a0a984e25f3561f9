/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca policy: OPA-like front end to lib/rego.
 *
 *   arca policy eval -d FILE|DIR [-d ...] [-i input.json] [--data data.json]
 *                    [--format json|pretty|raw] [--v0] QUERY
 *   arca policy test [--v0] [-v] DIR|FILE...
 *   arca policy check [--v0] FILE|DIR...
 *   arca policy bench -d FILE|DIR [-i input.json] [--data data.json] [-n N] [--cold] QUERY
 *   arca policy launch [--config FILE] [--json] [--action A] IMAGE [CMD...]
 *   arca policy log verify FILE
 */
#include <dirent.h>
#include <getopt.h>
#include <sys/stat.h>
#include <time.h>


#include "attest.h"
#include "cmd.h"
#include "policy.h"
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
		case 'h':
			return -1;
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

/* ------------------------------------------------------------ host facts */

struct host_check {
	const char *status; /* "passed", "failed" or "unavailable" */
	char reason[ARCA_ERR_MSG_MAX];
	struct val *report; /* attest_verify_report()'s, when a quote was made */
};

static int host_set(struct host_check *h, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int host_set(struct host_check *h, const char *status, const char *fmt, ...)
{
	va_list ap;
	h->status = status;
	va_start(ap, fmt);
	vsnprintf(h->reason, sizeof(h->reason), fmt, ap);
	va_end(ap);
	return 0;
}

/*
 * The local attestation `arca attest check` makes, with [attest] tcti and
 * refstate: a fresh nonce, a quote of sha256:0-10 and the PCRs the
 * reference state names, the event log and IMA list replayed against it,
 * everything compared with the reference state. What cannot be done here
 * is "unavailable", never "passed".
 */
static int host_attest(const struct policy_config *c, struct host_check *h)
{
	struct arca_err e = { 0 };
	if (!c->refstate || !c->refstate[0])
		return host_set(h, "unavailable", "no reference state is configured ([attest] refstate)");
	_cleanup_val_ struct val *ref = NULL;
	if (attest_refstate_load(c->refstate, &ref, &e) < 0)
		return host_set(h, "unavailable", "reference state: %s", err_msg(&e));
	struct attest_host where = { .tcti = c->tcti };
	_cleanup_(attest_evlog_freep) struct attest_evlog *log = NULL;
	_cleanup_(attest_ima_freep) struct attest_ima *ima = NULL;
	if (attest_evlog_load(attest_host_eventlog(&where), false, &log, &e) < 0 ||
	    attest_ima_load(attest_host_ima(&where), false, &ima, &e) < 0)
		return host_set(h, "failed", "host evidence: %s", err_msg(&e));
	/* the default AK of `arca attest` when there is one, else a
	 * throw-away AK: nobody needs to know the key of a check made here */
	_cleanup_buf_ struct buf ak = BUF_INIT;
	bool have_ak = attest_default_ak_path(&ak) == 0 && access(ak.p, R_OK) == 0;
	struct attest_local o = {
		.tcti = c->tcti, .ak_path = have_ak ? ak.p : NULL, .log = log, .ima = ima, .refstate = ref,
	};
	int rc = attest_check_local(&o, &h->report, &e);
	if (rc == 0)
		return host_set(h, "passed", "%s", "");
	if (!h->report)
		return host_set(h, "unavailable", "%s", err_msg(&e));
	return host_set(h, attest_report_status(h->report), "%s", err_msg(&e));
}

/* Shared with run.c: input.host for @c's mode. Only attested mode needs
 * facts about the host, and gathering them means talking to the TPM: the
 * other modes get NULL (input.host.status "unavailable") and never touch
 * it, which keeps every other launch fast. -ENOMEM only. */
int cmd_policy_host(const struct policy_config *c, struct val **out)
{
	*out = NULL;
	if (c->mode != POLICY_ATTESTED)
		return 0;
	struct host_check h = { 0 };
	(void)host_attest(c, &h);
	struct val *doc = val_object_new(2), *at = val_object_new(3);
	bool ok = doc && at && val_object_put_cstr(at, "status", val_cstr(h.status)) == 0 &&
		  (!h.reason[0] || val_object_put_cstr(at, "reason", val_cstr(h.reason)) == 0) &&
		  (!h.report || val_object_put_cstr(at, "report", val_ref(h.report)) == 0) &&
		  val_object_put_cstr(doc, "tcti", val_cstr(attest_tcti_default(c->tcti))) == 0 &&
		  val_object_put_cstr(doc, "attestation", TAKE_PTR(at)) == 0;
	val_unref(h.report);
	val_unref(at);
	if (!ok) {
		val_unref(doc);
		return -ENOMEM;
	}
	*out = doc;
	return 0;
}

/* ------------------------------------------------------------ launch */

/* The decision document of `arca policy launch --json`. */
static struct val *decision_doc(const struct policy_config *c, const struct policy_decision *d)
{
	struct val *o = val_object_new(10);
	if (!o)
		return NULL;
	bool ok = val_object_put_cstr(o, "allowed", val_bool(d->allowed)) == 0 &&
		  val_object_put_cstr(o, "policy_allow", val_bool(d->policy_allow)) == 0 &&
		  val_object_put_cstr(o, "mode", val_cstr(policy_mode_name(c->mode))) == 0 &&
		  val_object_put_cstr(o, "builtin_policy", val_bool(d->builtin_policy)) == 0 &&
		  val_object_put_cstr(o, "policy_dir", val_cstr(c->dir)) == 0 &&
		  val_object_put_cstr(o, "query", val_cstr(c->query)) == 0 &&
		  val_object_put_cstr(o, "deny", val_ref(d->deny)) == 0 &&
		  val_object_put_cstr(o, "warn", val_ref(d->warn)) == 0 &&
		  val_object_put_cstr(o, "reason", val_cstr(d->reason)) == 0 &&
		  val_object_put_cstr(o, "result", d->result ? val_ref(d->result) : val_null()) == 0;
	if (!ok) {
		val_unref(o);
		return NULL;
	}
	return o;
}

static const char launch_help[] =
	"usage: arca policy launch [--config FILE] [--json] [--action run|exec|shell] IMAGE [CMD...]\n"
	"\n"
	"Prints the decision 'arca run|exec|shell' would get for IMAGE from the launch\n"
	"policy of the configuration (--config, else $ARCA_CONFIG, else\n"
	"/etc/arca/arca.toml): allowed, mode, deny, warn and reason; --json prints the\n"
	"whole decision document and its input. In attested mode the host is attested\n"
	"first, as for a launch. Nothing runs, nothing is logged, and the execution\n"
	"control list is not consulted. Without any configuration file launches are not\n"
	"gated; what is shown then is what the defaults would decide (an empty arca.toml\n"
	"turns them on). The action is exec when CMD is given, else run.\n"
	"Exit status: 0 if the launch would be allowed, 1 if refused or on error.\n";

static int do_launch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "json", no_argument, NULL, 'j' },
		{ "action", required_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *action = NULL;
	bool json = false;
	int c;
	optind = 1;
	/* '+': options end at the image, the rest is the command */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'j': json = true; break;
		case 'a':
			if (strcmp(optarg, "run") && strcmp(optarg, "exec") && strcmp(optarg, "shell")) {
				cmd_error("policy launch: --action takes run, exec or shell");
				return EXIT_USAGE;
			}
			action = optarg;
			break;
		case 'h': fputs(launch_help, stdout); return 0;
		default: fputs(launch_help, stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cmd_error("policy launch: missing image");
		fputs(launch_help, stderr);
		return EXIT_USAGE;
	}
	const char *image = argv[optind++];
	struct policy_request req = { .command = action ? action : optind < argc ? "exec" : "run",
				      .args = argv + optind };

	struct arca_err e = { 0 };
	_cleanup_policy_config_ struct policy_config *cfg = NULL;
	_cleanup_sif_ struct sif_image *img = NULL;
	_cleanup_val_ struct val *host = NULL;
	_cleanup_val_ struct val *input = NULL;
	int rc = policy_config_load(config, &cfg, &e);
	if (rc < 0)
		return cmd_fail(&e, rc, "policy launch");
	if (cfg->unconfigured)
		cmd_warn("no %s: arca run|exec|shell apply no launch policy; the defaults would decide:",
			 POLICY_CONFIG_PATH);
	if ((rc = sif_open(image, &img, &e)) < 0)
		return cmd_fail(&e, rc, "policy launch");
	if (cmd_policy_host(cfg, &host) < 0)
		return cmd_fail(NULL, -ENOMEM, "policy launch");
	req.host = host;
	if ((rc = policy_input(cfg, image, img, NULL, &req, &input, &e)) < 0)
		return cmd_fail(&e, rc, "policy launch");
	struct policy_decision d;
	if ((rc = policy_decide(cfg, input, &d, &e)) < 0)
		return cmd_fail(&e, rc, "policy launch");

	_cleanup_buf_ struct buf out = BUF_INIT;
	if (json) {
		_cleanup_val_ struct val *top = val_object_new(2);
		struct val *dd = decision_doc(cfg, &d);
		if (!top || !dd || val_object_put_cstr(top, "decision", dd) < 0 ||
		    val_object_put_cstr(top, "input", val_ref(input)) < 0) {
			policy_decision_release(&d);
			return cmd_fail(NULL, -ENOMEM, "policy launch");
		}
		val_to_json(top, &out, JSON_PRETTY);
		buf_addch(&out, '\n');
	} else {
		buf_addf(&out, "allowed: %s\nmode: %s\npolicy: %s (%s)\n", d.allowed ? "true" : "false",
			 policy_mode_name(cfg->mode), d.builtin_policy ? "embedded default" : cfg->dir, cfg->query);
		for (size_t i = 0; i < d.deny->arr.n; i++)
			buf_addf(&out, "deny: %s\n", val_str(d.deny->arr.items[i]));
		for (size_t i = 0; i < d.warn->arr.n; i++)
			buf_addf(&out, "warn: %s\n", val_str(d.warn->arr.items[i]));
		if (d.reason[0])
			buf_addf(&out, "reason: %s\n", d.reason);
		const struct val *at = host ? val_object_get_cstr(host, "attestation") : NULL;
		if (at) {
			const char *why = val_str(val_object_get_cstr(at, "reason"));
			buf_addf(&out, "host attestation: %s%s%s\n", val_str(val_object_get_cstr(at, "status")),
				 why ? ": " : "", why ? why : "");
		}
	}
	bool allowed = d.allowed;
	policy_decision_release(&d);
	if (cmd_out(&out))
		return 1;
	return allowed ? 0 : 1;
}

/* ------------------------------------------------------------ log */

static const char log_help[] =
	"usage: arca policy log verify FILE\n"
	"\n"
	"Checks every line of a decision log: its hash, and that it chains to the line\n"
	"before (so an edited, removed or reordered line is found; lines cut off the\n"
	"end are not, as with any hash chain kept in one place). Prints\n"
	"'N entries, chain intact', or names the first line that does not check\n"
	"and exits 1.\n";

static int do_log(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(log_help, stdout);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "verify") != 0 || argv[2][0] == '-') {
		cmd_error("policy log: expected 'verify FILE'");
		fputs(log_help, stderr);
		return EXIT_USAGE;
	}
	struct arca_err e = { 0 };
	size_t n = 0;
	int rc = policy_log_verify(argv[2], &n, &e);
	if (rc < 0)
		return cmd_fail(&e, rc, "policy log verify");
	if (!cmd_quiet)
		printf("%zu %s, chain intact\n", n, n == 1 ? "entry" : "entries");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: arca policy eval -d FILE|DIR [-i input.json] [--data data.json] [--format json|pretty|raw] [--v0] QUERY\n"
		"       arca policy test [--v0] [-v] DIR|FILE...\n"
		"       arca policy check [--v0] FILE|DIR...\n"
		"       arca policy bench -d FILE|DIR [-i input.json] [--data data.json] [-n N] [--cold] QUERY\n"
		"       arca policy launch [--config FILE] [--json] [--action run|exec|shell] IMAGE [CMD...]\n"
		"       arca policy log verify FILE\n"
		"\n"
		"eval, test, check and bench work on Rego files as OPA's commands do; launch shows\n"
		"the decision the launch policy of arca.toml gives an image, and log verify checks\n"
		"a decision log's hash chain. 'arca policy launch --help' and 'arca policy log\n"
		"--help' say more.\n");
}

int cmd_policy(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(verb, "launch"))
		return do_launch(argc - 1, argv + 1);
	if (!strcmp(verb, "log"))
		return do_log(argc - 1, argv + 1);
	if (strcmp(verb, "eval") && strcmp(verb, "test") && strcmp(verb, "check") && strcmp(verb, "bench")) {
		cmd_error("policy: unknown command '%s'", verb);
		usage(stderr);
		return EXIT_USAGE;
	}
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
	if (status < 0) {
		usage(stdout); /* --help */
		status = 0;
		goto out;
	}
	if (status) {
		usage(stderr);
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
		usage(stderr);
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
			usage(stderr);
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
		usage(stderr);
		status = EXIT_USAGE;
	}
out:
	val_unref(l.data);
	rego_free(l.r);
	return status;
}
