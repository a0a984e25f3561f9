/* SPDX-License-Identifier: Apache-2.0 */
#include "base.h"
#include "testlib.h"

static char *to_json(const char *toml)
{
	struct val *v = NULL;
	struct arca_err e = { 0 };
	if (val_from_toml(toml, strlen(toml), &v, &e) < 0) {
		printf("# %s\n", e.msg);
		return NULL;
	}
	struct buf b = BUF_INIT;
	val_to_json(v, &b, 0);
	val_unref(v);
	buf_addch(&b, '\0');
	return b.p;
}

static void test_values(void)
{
	char *j = to_json("a = 1\nb = 'lit\\n'\nc = [1, 2.5, true]\n[t]\nd = 1979-05-27T07:32:00Z\n"
			  "[[g]]\nx = \"y\"\n[[g]]\nx = \"z\"\n");
	CHECK_STR(j, "{\"a\":1,\"b\":\"lit\\\\n\",\"c\":[1,2.5,true],\"g\":[{\"x\":\"y\"},{\"x\":\"z\"}],"
		     "\"t\":{\"d\":\"1979-05-27T07:32:00Z\"}}");
	free(j);
	j = to_json("a = \"caf\\u00e9\"\n");
	CHECK_STR(j, "{\"a\":\"caf\xc3\xa9\"}");
	free(j);
}

static void test_errors(void)
{
	struct val *v = NULL;
	struct arca_err e = { 0 };
	CHECK_RC(val_from_toml("a = yes\n", 8, &v, &e), -EBADMSG);
	CHECK(strstr(e.msg, "line 1") != NULL);
	CHECK_RC(val_from_toml("a = 1\na = 2\n", 12, &v, &e), -EBADMSG);
	CHECK_RC(val_from_toml("a = inf\n", 8, &v, &e), -EBADMSG);
	CHECK(strstr(e.msg, "inf") != NULL);
	CHECK_RC(val_from_toml("a = \"x\0\"\n", 9, &v, &e), -EBADMSG);
	/* toml++ asserted (debug) or assumed (release) that a table header
	 * starts with a key character; found by fuzz_integrity_ecl */
	CHECK_RC(val_from_toml("[[+execgroup]]\n", 15, &v, &e), -EBADMSG);
	CHECK_RC(val_from_toml("#\n[+x]\n", 7, &v, &e), -EBADMSG);
	/* non-ASCII text reached undefined behaviour in toml++'s Unicode
	 * tables (found by fuzz_integrity_ecl); escapes still work */
	CHECK_RC(val_from_toml("\xc8\xa8", 2, &v, &e), -EBADMSG);
	CHECK(strstr(e.msg, "line 1: non-ASCII") != NULL);
	CHECK_RC(val_from_toml("# caf\xc3\xa9\na = 1\n", 13, &v, &e), -EBADMSG);
	CHECK(v == NULL);
	CHECK(v == NULL);
}

int main(void)
{
	RUN(test_values);
	RUN(test_errors);
	TL_DONE();
}
