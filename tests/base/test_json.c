/* SPDX-License-Identifier: Apache-2.0 */
#include "base.h"
#include "testlib.h"

static struct val *parse(const char *s)
{
	struct val *v = NULL;
	struct arca_err e = { 0 };
	if (val_from_json(s, strlen(s), NULL, &v, &e) < 0) {
		printf("# parse '%s': %s\n", s, e.msg);
		return NULL;
	}
	return v;
}

static void roundtrip(const char *in, const char *want, unsigned flags)
{
	_cleanup_val_ struct val *v = parse(in);
	CHECK(v != NULL);
	if (!v)
		return;
	_cleanup_buf_ struct buf b = BUF_INIT;
	val_to_json(v, &b, flags);
	CHECK_STR(b.p, want);
}

static void scalars_and_sorting(void)
{
	roundtrip(" {\"b\": [1, 2.50, -3e2, true, null], \"a\": \"x\\u00e9\\n\"} ",
		  "{\"a\":\"xé\\n\",\"b\":[1,2.50,-3e2,true,null]}", 0);
	roundtrip("{\"a\":1,\"a\":2}", "{\"a\":2}", 0);
	roundtrip("\"<&>\\u2028\"", "\"\\u003c\\u0026\\u003e\\u2028\"", JSON_ESCAPE_HTML);
	roundtrip("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"", 0);
	roundtrip("{\"a\":[1,{}],\"b\":[]}", "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}", JSON_PRETTY);
	roundtrip("123456789012345678901234567890", "123456789012345678901234567890", 0);
}

static void rejects_malformed(void)
{
	static const char *bad[] = { "", "{", "[1,]", "{\"a\"}", "01", "1.", "-", "tru", "\"\x01\"",
				     "\"\\x\"", "[1] 2", "\"\xff\"", "{1:2}", "1e", "nul" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct val *v = NULL;
		struct arca_err e = { 0 };
		int rc = val_from_json(bad[i], strlen(bad[i]), NULL, &v, &e);
		if (rc != -EBADMSG)
			printf("# accepted bad json #%zu\n", i);
		CHECK(rc == -EBADMSG);
		CHECK(v == NULL);
		CHECK(strstr(e.msg, "offset") != NULL);
	}
}

static void depth_limit(void)
{
	char deep[2100];
	memset(deep, '[', 1050);
	memset(deep + 1050, ']', 1050);
	deep[2100 - 1] = '\0';
	struct val *v = NULL;
	struct json_limits lim = json_limits_default;
	lim.max_depth = 1000;
	CHECK_RC(val_from_json(deep, 2100 - 1, &lim, &v, NULL), -E2BIG);
	lim.max_depth = 64;
	CHECK_RC(val_from_json("[[[1]]]", 7, &lim, &v, NULL), 0);
	val_unref(v);
}

static void total_order(void)
{
	_cleanup_val_ struct val *a = parse("[null, false, true, 0, \"\", [], {}]");
	REQUIRE(a);
	for (size_t i = 0; i + 1 < a->arr.n; i++)
		CHECK(val_compare(a->arr.items[i], a->arr.items[i + 1]) < 0);
	_cleanup_val_ struct val *n = parse("[-1e3, -10, 0.5, 1, 1.0, 2, 1e1, 100000000000000000000]");
	REQUIRE(n);
	CHECK(val_compare(n->arr.items[0], n->arr.items[1]) < 0);
	CHECK(val_compare(n->arr.items[2], n->arr.items[3]) < 0);
	CHECK(val_compare(n->arr.items[3], n->arr.items[4]) == 0);
	CHECK(val_compare(n->arr.items[5], n->arr.items[6]) < 0);
	CHECK(val_compare(n->arr.items[6], n->arr.items[7]) < 0);
	_cleanup_val_ struct val *s = val_set_new(0);
	CHECK_RC(val_set_add(s, val_int(3)), 0);
	CHECK_RC(val_set_add(s, val_int(1)), 0);
	CHECK_RC(val_set_add(s, val_int(3)), 0);
	CHECK(s->arr.n == 2);
	_cleanup_val_ struct val *one = val_int(1);
	CHECK(val_set_contains(s, one));
}

static void doubles_format_like_go(void)
{
	struct {
		double d;
		const char *want;
	} cases[] = { { 0.1, "0.1" }, { 1e21, "1e+21" }, { 1.5e-7, "1.5e-7" }, { 123.25, "123.25" }, { 3, "3" } };
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_val_ struct val *v = val_double(cases[i].d);
		_cleanup_buf_ struct buf b = BUF_INIT;
		val_to_json(v, &b, 0);
		CHECK_STR(b.p, cases[i].want);
	}
}

static void dup_cstr_refuses_nul_and_long(void)
{
	struct val *v = NULL;
	char *out = NULL;
	CHECK(val_from_json("[\"/srv/a\", \"/srv/a\\u0000b\", 1, \"0123456789\"]", 44, NULL, &v, NULL) == 0);
	CHECK_RC(val_dup_cstr(v->arr.items[0], 16, &out), 0);
	CHECK_STR(out, "/srv/a");
	free(out);
	out = NULL;
	CHECK_RC(val_dup_cstr(v->arr.items[1], 16, &out), -EBADMSG);
	CHECK_RC(val_dup_cstr(v->arr.items[2], 16, &out), -EBADMSG);
	CHECK_RC(val_dup_cstr(v->arr.items[3], 9, &out), -E2BIG);
	CHECK_RC(val_dup_cstr(v->arr.items[3], 10, &out), 0);
	free(out);
	val_unref(v);
}

int main(void)
{
	RUN(scalars_and_sorting);
	RUN(rejects_malformed);
	RUN(depth_limit);
	RUN(total_order);
	RUN(doubles_format_like_go);
	RUN(dup_cstr_refuses_nul_and_long);
	TL_DONE();
}
