/* SPDX-License-Identifier: Apache-2.0 */
/* lib/rego public API: prepare once, evaluate many times, limits. */
#include "rego.h"
#include "testlib.h"

static const char *policy = "package arca\n"
			    "default allow := false\n"
			    "allow if {\n"
			    "\tinput.image.registry in data.registries\n"
			    "\tcount(deny) == 0\n"
			    "}\n"
			    "deny contains msg if {\n"
			    "\tinput.user == \"root\"\n"
			    "\tmsg := \"root not allowed\"\n"
			    "}\n";

static struct val *json(const char *s)
{
	struct val *v = NULL;
	if (val_from_json(s, strlen(s), NULL, &v, NULL) < 0)
		return NULL;
	return v;
}

static void test_prepared(void)
{
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	REQUIRE(r);
	CHECK_RC(rego_add_module(r, "p.rego", policy, strlen(policy), 0, &e), 0);
	struct val *data = json("{\"registries\":[\"ghcr.io\",\"docker.io\"]}");
	CHECK_RC(rego_set_data(r, data, &e), 0);
	val_unref(data);
	CHECK_RC(rego_compile(r, &e), 0);
	struct rego_query *q = NULL;
	CHECK_RC(rego_prepare(r, "data.arca.allow", 15, 0, &q, &e), 0);
	REQUIRE(q);
	const char *inputs[] = { "{\"image\":{\"registry\":\"ghcr.io\"},\"user\":\"bob\"}",
				 "{\"image\":{\"registry\":\"evil.io\"},\"user\":\"bob\"}",
				 "{\"image\":{\"registry\":\"ghcr.io\"},\"user\":\"root\"}" };
	const bool want[] = { true, false, false };
	for (int i = 0; i < 3; i++) {
		struct val *in = json(inputs[i]), *out = NULL;
		CHECK_RC(rego_query_value(q, in, &out, &e), 0);
		CHECK(out && out->kind == VAL_BOOL && out->b == want[i]);
		val_unref(out);
		val_unref(in);
	}
	rego_query_free(q);
	rego_free(r);
}

static void test_step_limit(void)
{
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	const char *src = "package x\np := count([1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000)])\n";
	CHECK_RC(rego_add_module(r, "x.rego", src, strlen(src), 0, &e), 0);
	struct rego_limits lim = { 100000, 1000 };
	rego_set_limits(r, &lim);
	struct rego_query *q = NULL;
	CHECK_RC(rego_prepare(r, "data.x.p", 8, 0, &q, &e), 0);
	struct val *out = NULL;
	CHECK_RC(rego_query_value(q, NULL, &out, &e), -E2BIG);
	CHECK(strstr(err_msg(&e), "eval_limit_error") != NULL);
	val_unref(out);
	rego_query_free(q);
	rego_free(r);
}

static void test_parse_error(void)
{
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	const char *src = "package x\np := [1, 2\n";
	CHECK(rego_add_module(r, "bad.rego", src, strlen(src), 0, &e) == -EBADMSG);
	CHECK(strstr(err_msg(&e), "bad.rego:") != NULL);
	rego_free(r);
}

static void test_compile_checks(void)
{
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	const char *src = "package x\np if nosuch.fn(1)\nq if count(1, 2, 3)\n";
	CHECK_RC(rego_add_module(r, "c.rego", src, strlen(src), 0, &e), 0);
	CHECK(rego_compile(r, &e) == -EBADMSG);
	CHECK(strstr(err_msg(&e), "c.rego:2: rego_type_error: undefined function nosuch.fn") != NULL);
	rego_free(r);
}

static void test_many_inputs(void)
{
	/* one prepared query, many inputs: results must not leak between runs */
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	const char *src = "package y\ndouble := input.n * 2\nbig if double > 10\n";
	CHECK_RC(rego_add_module(r, "y.rego", src, strlen(src), 0, &e), 0);
	struct rego_query *q = NULL;
	CHECK_RC(rego_prepare(r, "data.y.double", 13, 0, &q, &e), 0);
	REQUIRE(q);
	for (int i = 0; i < 100; i++) {
		char in[32];
		snprintf(in, sizeof(in), "{\"n\": %d}", i);
		struct val *iv = json(in), *out = NULL;
		CHECK_RC(rego_query_value(q, iv, &out, &e), 0);
		int64_t got = -1;
		CHECK(out && val_get_int(out, &got) && got == 2 * i);
		val_unref(out);
		val_unref(iv);
	}
	struct val *out = NULL;
	CHECK_RC(rego_query_value(q, NULL, &out, &e), 0);
	CHECK(out == NULL); /* undefined without input */
	rego_query_free(q);
	rego_free(r);
}

/* Regression: `with` inside not/every must not swallow early stops. */
static void test_with_in_negation(void)
{
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	const char *src = "package w\nq if input.x == 1\n"
			  "a if not q with input.x as 2\n"
			  "b if not q with input.x as 1\n"
			  "c if every v in [1] { q with input.x as v }\n";
	CHECK_RC(rego_add_module(r, "w.rego", src, strlen(src), 0, &e), 0);
	const char *names[] = { "data.w.a", "data.w.b", "data.w.c" };
	const bool want[] = { true, false, true };
	for (int i = 0; i < 3; i++) {
		struct rego_query *q = NULL;
		struct val *out = NULL;
		CHECK_RC(rego_prepare(r, names[i], strlen(names[i]), 0, &q, &e), 0);
		CHECK_RC(rego_query_value(q, NULL, &out, &e), 0);
		CHECK((out != NULL) == want[i]);
		val_unref(out);
		rego_query_free(q);
	}
	rego_free(r);
}

/* The equality index skips rule bodies whose first expression compares a
 * ground ref with another constant: results must be exactly those of
 * evaluating every body (else chains, numbers, `with`, data refs, errors). */
static void test_equality_index(void)
{
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	const char *src = "package ix\n"
			  "kind := input.kind\n"
			  "msg contains \"pod\" if input.kind == \"Pod\"\n"
			  "msg contains \"svc\" if { \"Service\" == input.kind; input.port > 0 }\n"
			  "msg contains \"one\" if input.n = 1\n"
			  "msg contains \"via-rule\" if kind == \"Pod\"\n"
			  "msg contains \"via-data\" if data.cfg.mode == \"strict\"\n"
			  "tier := \"a\" if input.kind == \"Pod\"\n"
			  "else := \"b\" if input.kind == \"Service\"\n"
			  "else := \"c\"\n"
			  "conflict := 1 if input.x == 1\n"
			  "conflict := 2 if input.x == 1\n"
			  "bad if conflict == 3\n"
			  "replaced if msg == {\"svc\", \"via-data\"} with input.kind as \"Service\" with input.port as 1\n";
	CHECK_RC(rego_add_module(r, "ix.rego", src, strlen(src), 0, &e), 0);
	struct val *data = json("{\"cfg\":{\"mode\":\"strict\"}}");
	CHECK_RC(rego_set_data(r, data, &e), 0);
	val_unref(data);
	CHECK_RC(rego_compile(r, &e), 0);
	const struct {
		const char *query, *input, *want; /* want NULL: undefined; "!" an error */
	} cases[] = {
		{ "data.ix.msg", "{\"kind\":\"Pod\"}", "[\"pod\",\"via-data\",\"via-rule\"]" },
		{ "data.ix.msg", "{\"kind\":\"Service\",\"port\":80}", "[\"svc\",\"via-data\"]" },
		{ "data.ix.msg", "{\"kind\":\"Service\",\"port\":0}", "[\"via-data\"]" },
		{ "data.ix.msg", "{\"n\":1.0}", "[\"one\",\"via-data\"]" },
		{ "data.ix.msg", "{}", "[\"via-data\"]" },
		{ "data.ix.tier", "{\"kind\":\"Pod\"}", "\"a\"" },
		{ "data.ix.tier", "{\"kind\":\"Service\"}", "\"b\"" },
		{ "data.ix.tier", "{\"kind\":7}", "\"c\"" },
		{ "data.ix.bad", "{\"x\":2}", NULL },
		{ "data.ix.bad", "{\"x\":1}", "!" },
		{ "data.ix.replaced", "{\"kind\":\"Pod\"}", "true" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rego_query *q = NULL;
		struct val *in = json(cases[i].input), *out = NULL;
		CHECK_RC(rego_prepare(r, cases[i].query, strlen(cases[i].query), 0, &q, &e), 0);
		int rc = rego_query_value(q, in, &out, &e);
		if (cases[i].want && strcmp(cases[i].want, "!") == 0) {
			CHECK(rc == -EINVAL && strstr(err_msg(&e), "eval_conflict_error") != NULL);
		} else if (!cases[i].want) {
			CHECK_RC(rc, 0);
			CHECK(out == NULL);
		} else {
			CHECK_RC(rc, 0);
			struct buf b = BUF_INIT;
			if (out)
				val_to_json(out, &b, 0);
			CHECK(out && strcmp(b.p, cases[i].want) == 0);
			if (!out || strcmp(b.p, cases[i].want) != 0)
				fprintf(stderr, "# %s %s: got %s, want %s\n", cases[i].query, cases[i].input,
					out ? b.p : "undefined", cases[i].want);
			buf_release(&b);
		}
		val_unref(out);
		val_unref(in);
		rego_query_free(q);
	}
	rego_free(r);
}

/* OPA's rewriteQueryToCaptureValue: a one-expression query that does not
 * iterate reports its value, false included; one that iterates keeps only
 * the solutions whose value is not false. */
static void test_false_value_result(void)
{
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	REQUIRE(r);
	CHECK_RC(rego_add_module(r, "p.rego", policy, strlen(policy), 0, &e), 0);
	struct val *data = json("{\"registries\":[\"ghcr.io\"]}");
	CHECK_RC(rego_set_data(r, data, &e), 0);
	val_unref(data);
	CHECK_RC(rego_compile(r, &e), 0);
	static const struct {
		const char *query;
		size_t nsol;
	} cases[] = {
		{ "data.arca.allow", 1 },       /* false: one solution */
		{ "1 > 2", 1 },                 /* a call's value is captured too */
		{ "data.arca.nothing", 0 },     /* undefined stays undefined */
		{ "not data.arca.allow", 1 },   /* negation is a plain expression */
		{ "[false, true][_]", 1 },      /* iteration: false dropped */
		{ "x := 1; false", 0 },         /* several expressions: checked */
	};
	struct val *in = json("{\"image\":{\"registry\":\"evil.io\"}}");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rego_query *q = NULL;
		struct val *res = NULL;
		CHECK_RC(rego_prepare(r, cases[i].query, strlen(cases[i].query), 0, &q, &e), 0);
		CHECK_RC(rego_query_eval(q, in, 0, &res, &e), 0);
		CHECK(res && res->kind == VAL_ARRAY && res->arr.n == cases[i].nsol);
		if (res && res->arr.n != cases[i].nsol)
			fprintf(stderr, "# %s: %zu solutions, want %zu\n", cases[i].query, res->arr.n, cases[i].nsol);
		val_unref(res);
		rego_query_free(q);
	}
	val_unref(in);
	rego_free(r);
}

/* `x in data.list` on a list long enough to be hashed (index.c) answers
 * as the scan would, before and after the data is replaced. */
static void test_member_index(void)
{
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	REQUIRE(r);
	const char *src = "package m\nhit if input.x in data.list\nmiss if not input.x in data.list\n";
	CHECK_RC(rego_add_module(r, "m.rego", src, strlen(src), 0, &e), 0);
	struct buf b = BUF_INIT;
	buf_addstr(&b, "{\"list\":[");
	for (int i = 0; i < 100; i++)
		buf_addf(&b, "%s\"item%d\"", i ? "," : "", i);
	buf_addstr(&b, "]}");
	struct val *data = json(b.p);
	buf_release(&b);
	REQUIRE(data);
	CHECK_RC(rego_set_data(r, data, &e), 0);
	val_unref(data);
	CHECK_RC(rego_compile(r, &e), 0);
	static const struct {
		const char *input;
		bool hit;
	} cases[] = {
		{ "{\"x\":\"item0\"}", true },   { "{\"x\":\"item99\"}", true },
		{ "{\"x\":\"item100\"}", false }, { "{\"x\":\"\"}", false },
		{ "{\"x\":7}", false },            { "{\"x\":[\"item1\"]}", false },
	};
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			/* the same list rebuilt: the old index must not be used */
			struct val *d2 = json("{\"list\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\","
					      "\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"item0\"]}");
			CHECK_RC(rego_set_data(r, d2, &e), 0);
			val_unref(d2);
		}
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			bool want = cases[i].hit && (round == 0 || strcmp(cases[i].input, "{\"x\":\"item0\"}") == 0);
			struct val *in = json(cases[i].input), *out = NULL;
			struct rego_query *q = NULL;
			CHECK_RC(rego_prepare(r, "data.m.hit", 10, 0, &q, &e), 0);
			CHECK_RC(rego_query_value(q, in, &out, &e), 0);
			CHECK((out != NULL) == want);
			val_unref(out);
			rego_query_free(q);
			CHECK_RC(rego_prepare(r, "data.m.miss", 11, 0, &q, &e), 0);
			CHECK_RC(rego_query_value(q, in, &out, &e), 0);
			CHECK((out != NULL) == !want);
			val_unref(out);
			rego_query_free(q);
			val_unref(in);
		}
	}
	rego_free(r);
}

/* Builtins reading hostile values stop at their named limits with an
 * error, and http.send never reaches the network. */
static void strict_error(const char *rule, const char *want)
{
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	struct buf src = BUF_INIT;
	buf_addf(&src, "package h\np := x if {\n\tx := %s\n}\n", rule);
	CHECK_RC(rego_add_module(r, "h.rego", src.p, src.len, 0, &e), 0);
	struct rego_query *q = NULL;
	CHECK_RC(rego_prepare(r, "data.h.p", 8, 0, &q, &e), 0);
	struct val *out = NULL;
	CHECK(rego_query_eval(q, NULL, REGO_STRICT_BUILTINS, &out, &e) < 0);
	CHECK(strstr(err_msg(&e), want) != NULL);
	val_unref(out);
	rego_query_free(q);
	rego_free(r);
	buf_release(&src);
}

/* A deny rule that asks the network must not quietly stop denying: the
 * request fails the evaluation even without strict builtin errors. */
static void test_http_send_fails_closed(void)
{
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	const char *src = "package h\ndeny if http.send({\"method\": \"get\", \"url\": \"http://x\"}).status_code != 200\n";
	CHECK_RC(rego_add_module(r, "h.rego", src, strlen(src), 0, &e), 0);
	struct rego_query *q = NULL;
	CHECK_RC(rego_prepare(r, "data.h.deny", 11, 0, &q, &e), 0);
	struct val *out = NULL;
	CHECK(rego_query_eval(q, NULL, 0, &out, &e) < 0);
	CHECK(strstr(err_msg(&e), "eval_http_send_network_error") != NULL);
	val_unref(out);
	rego_query_free(q);
	rego_free(r);
}

static void test_hostile_builtins(void)
{
	/* an alias bomb: 10^8 values from a few hundred bytes */
	struct buf y = BUF_INIT;
	buf_addstr(&y, "yaml.unmarshal(\"a: &a [1,1,1,1,1,1,1,1,1,1]\\n");
	for (char c = 'b'; c <= 'i'; c++) {
		buf_addf(&y, "%c: &%c [", c, c);
		for (int i = 0; i < 10; i++)
			buf_addf(&y, "%s*%c", i ? "," : "", c - 1);
		buf_addstr(&y, "]\\n");
	}
	buf_addstr(&y, "\")");
	strict_error(y.p, "document too large");
	buf_release(&y);
	strict_error("regex.globs_match(concat(\"\", [\"a\" | numbers.range(1, 2000)[_]]), \"a*\")", "pattern too long");
	strict_error("http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1:1\"})", "network access is disabled");
	struct buf t = BUF_INIT;
	buf_addstr(&t, "strings.render_template(\"");
	for (int i = 0; i < 100; i++)
		buf_addstr(&t, "{{if true}}");
	buf_addstr(&t, "\", {})");
	strict_error(t.p, "nested too deeply");
	buf_release(&t);
}

int main(void)
{
	RUN(test_member_index);
	RUN(test_false_value_result);
	RUN(test_equality_index);
	RUN(test_with_in_negation);
	RUN(test_compile_checks);
	RUN(test_many_inputs);
	RUN(test_prepared);
	RUN(test_step_limit);
	RUN(test_parse_error);
	RUN(test_hostile_builtins);
	RUN(test_http_send_fails_closed);
	TL_DONE();
}
