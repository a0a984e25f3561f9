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

int main(void)
{
	RUN(test_with_in_negation);
	RUN(test_compile_checks);
	RUN(test_many_inputs);
	RUN(test_prepared);
	RUN(test_step_limit);
	RUN(test_parse_error);
	TL_DONE();
}
