/* SPDX-License-Identifier: Apache-2.0 */
/* arca's TOML 1.0 parser: cases from the specification (toml.io/en/v1.0.0),
 * each valid document with the JSON it must become, each invalid one with
 * the code it must fail with. */
#include "base.h"
#include "testlib.h"

/* Parses @len bytes of @toml; the JSON text, or NULL (message printed). */
static char *to_json_n(const char *toml, size_t len, struct arca_err *e)
{
	struct val *v = NULL;
	if (val_from_toml(toml, len, &v, e) < 0) {
		printf("# %s\n", e->msg);
		return NULL;
	}
	struct buf b = BUF_INIT;
	val_to_json(v, &b, 0);
	val_unref(v);
	return buf_detach(&b, NULL);
}

struct good {
	const char *toml, *json;
};
struct bad {
	const char *toml;
	int code;
};

static void check_good(const struct good *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct arca_err e = { 0 };
		char *j = to_json_n(g[i].toml, strlen(g[i].toml), &e);
		if (!j || strcmp(j, g[i].json) != 0) {
			printf("# case %zu: %s\n#   got  %s\n#   want %s\n", i, g[i].toml, j ? j : "(error)", g[i].json);
			tl_case_failed = 1;
		}
		free(j);
	}
}

static void check_bad(const struct bad *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct val *v = NULL;
		struct arca_err e = { 0 };
		int rc = val_from_toml(b[i].toml, strlen(b[i].toml), &v, &e);
		if (rc != b[i].code || v != NULL) {
			printf("# case %zu: %s\n#   returned %d, want %d\n", i, b[i].toml, rc, b[i].code);
			tl_case_failed = 1;
		} else if (!strstr(e.msg, "line ") || !strstr(e.msg, ", column ")) {
			printf("# case %zu: message without a position: %s\n", i, e.msg);
			tl_case_failed = 1;
		}
		val_unref(v);
	}
}

static void test_values(void)
{
	static const struct good g[] = {
		{ "", "{}" },
		{ "# only a comment", "{}" },
		{ "\n\n  \t\n", "{}" },
		{ "a = 1\nb = 'lit\\n'\nc = [1, 2.5, true]\n[t]\nd = 1979-05-27T07:32:00Z\n[[g]]\nx = \"y\"\n[[g]]\nx = \"z\"\n",
		  "{\"a\":1,\"b\":\"lit\\\\n\",\"c\":[1,2.5,true],\"g\":[{\"x\":\"y\"},{\"x\":\"z\"}],"
		  "\"t\":{\"d\":\"1979-05-27T07:32:00Z\"}}" },
		{ "a = \"caf\\u00e9\"\n", "{\"a\":\"caf\xc3\xa9\"}" },
		{ "a = 1 # comment\r\nb = 2\r\n", "{\"a\":1,\"b\":2}" },
		{ "a=1#c", "{\"a\":1}" },
		{ "\xef\xbb\xbf" "a = 1", "{\"a\":1}" },
		/* booleans */
		{ "t = true\nf = false", "{\"f\":false,\"t\":true}" },
	};
	check_good(g, ARRAY_SIZE(g));
}

static void test_keys(void)
{
	static const struct good g[] = {
		{ "bare_key-1 = 1\n1234 = 2", "{\"1234\":2,\"bare_key-1\":1}" },
		{ "\"127.0.0.1\" = 1\n\"ʎǝʞ\" = 2\n'quoted \"v\"' = 3",
		  "{\"127.0.0.1\":1,\"quoted \\\"v\\\"\":3,\"ʎǝʞ\":2}" },
		{ "\"\" = 1", "{\"\":1}" },
		{ "'' = 1", "{\"\":1}" },
		{ "a.b.c = 1\na.b.d = 2\na.e = 3", "{\"a\":{\"b\":{\"c\":1,\"d\":2},\"e\":3}}" },
		{ "a . b  .\t\"c d\" = 1", "{\"a\":{\"b\":{\"c d\":1}}}" },
		{ "3.14159 = 'pi'", "{\"3\":{\"14159\":\"pi\"}}" },
		{ "site.\"google.com\" = true", "{\"site\":{\"google.com\":true}}" },
		{ "\"a\\u0000b\" = 1", "{\"a\\u0000b\":1}" },
		/* spec: defining dotted keys out of order is valid */
		{ "apple.type = 'fruit'\norange.type = 'fruit'\napple.skin = 'thin'",
		  "{\"apple\":{\"skin\":\"thin\",\"type\":\"fruit\"},\"orange\":{\"type\":\"fruit\"}}" },
	};
	static const struct bad b[] = {
		{ "= 1", -EBADMSG },
		{ "a", -EBADMSG },
		{ "a =", -EBADMSG },
		{ "a = \n1", -EBADMSG },
		{ "a b = 1", -EBADMSG },
		{ "a. = 1", -EBADMSG },
		{ ".a = 1", -EBADMSG },
		{ "a..b = 1", -EBADMSG },
		{ "a = 1 b = 2", -EBADMSG },
		{ "\"\"\"a\"\"\" = 1", -EBADMSG },
		{ "k\xc3\xa9y = 1", -EBADMSG }, /* bare keys are ASCII */
		{ "a = 1\na = 2", -EBADMSG },
		{ "a = 1\n\"a\" = 2", -EBADMSG },
		{ "a = 1\na.b = 2", -EBADMSG },
		{ "a.b = 1\na.b.c = 2", -EBADMSG },
		{ "a.b = 1\na = {}", -EBADMSG },
		{ "a = {}\na.b = 1", -EBADMSG },
		{ "a = []\na.b = 1", -EBADMSG },
	};
	check_good(g, ARRAY_SIZE(g));
	check_bad(b, ARRAY_SIZE(b));
}

static void test_strings(void)
{
	static const struct good g[] = {
		{ "s = \"\\b\\t\\n\\f\\r\\\"\\\\\"", "{\"s\":\"\\u0008\\t\\n\\u000c\\r\\\"\\\\\"}" },
		{ "s = \"\\u00E9\\U0001F600\\u0000\"", "{\"s\":\"\xc3\xa9\xf0\x9f\x98\x80\\u0000\"}" },
		{ "s = \"tab\there\"", "{\"s\":\"tab\\there\"}" },
		{ "s = 'C:\\Users\\x'", "{\"s\":\"C:\\\\Users\\\\x\"}" },
		{ "s = '<\\i\\c*\\s*>'", "{\"s\":\"<\\\\i\\\\c*\\\\s*>\"}" },
		{ "s = \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "{\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}" },
		{ "s = \"\"\"\nRoses\nViolets\"\"\"", "{\"s\":\"Roses\\nViolets\"}" },
		{ "s = \"\"\"\r\nRoses\r\nViolets\"\"\"", "{\"s\":\"Roses\\nViolets\"}" },
		{ "s = \"\"\"\n\nx\"\"\"", "{\"s\":\"\\nx\"}" },
		{ "s = \"\"\"The quick \\\n\n   brown \\\n  fox.\"\"\"", "{\"s\":\"The quick brown fox.\"}" },
		{ "s = \"\"\"\\\n  \t \n  x\\  \n\"\"\"", "{\"s\":\"x\"}" },
		{ "s = \"\"\"a \\\"\"\" b\"\"\"", "{\"s\":\"a \\\"\\\"\\\" b\"}" },
		{ "s = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"",
		  "{\"s\":\"Here are two quotation marks: \\\"\\\". Simple enough.\"}" },
		{ "s = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"",
		  "{\"s\":\"\\\"This,\\\" she said, \\\"is just a pointless statement.\\\"\"}" },
		{ "s = \"\"\"x\"\"\"\"\"", "{\"s\":\"x\\\"\\\"\"}" },
		{ "s = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''",
		  "{\"s\":\"The first newline is\\ntrimmed in raw strings.\\n   All other whitespace\\n   is "
		  "preserved.\\n\"}" },
		{ "s = '''I [dw]on't need \\d{2} apples'''", "{\"s\":\"I [dw]on't need \\\\d{2} apples\"}" },
		{ "s = ''''That,' she said, 'is still pointless.''''",
		  "{\"s\":\"'That,' she said, 'is still pointless.'\"}" },
		{ "s = '''a\tb'''", "{\"s\":\"a\\tb\"}" },
		{ "s = \"\"", "{\"s\":\"\"}" },
		{ "s = ''", "{\"s\":\"\"}" },
		{ "s = \"\"\"\"\"\"", "{\"s\":\"\"}" },
	};
	static const struct bad b[] = {
		{ "s = \"abc", -EBADMSG },
		{ "s = \"a\nb\"", -EBADMSG },
		{ "s = 'a\nb'", -EBADMSG },
		{ "s = \"\\x41\"", -EBADMSG },   /* TOML 1.1, not 1.0 */
		{ "s = \"\\e\"", -EBADMSG },
		{ "s = \"\\ \"", -EBADMSG },
		{ "s = \"\\u12\"", -EBADMSG },
		{ "s = \"\\u12G4\"", -EBADMSG },
		{ "s = \"\\uD800\"", -EBADMSG },  /* a surrogate */
		{ "s = \"\\uDFFF\"", -EBADMSG },
		{ "s = \"\\U00110000\"", -EBADMSG },
		{ "s = \"\\U0000D800\"", -EBADMSG },
		{ "s = \"a\x01\"", -EBADMSG },
		{ "s = \"a\x7f\"", -EBADMSG },
		{ "s = 'a\x1f'", -EBADMSG },
		{ "s = \"a\rb\"", -EBADMSG },
		{ "s = \"\"\"a\rb\"\"\"", -EBADMSG },
		{ "s = \"\"\"a\x08\"\"\"", -EBADMSG },
		{ "s = '''a\x7f'''", -EBADMSG },
		{ "s = \"\"\"abc", -EBADMSG },
		{ "s = '''abc''", -EBADMSG },
		{ "s = \"\"\"x\"\"\"\"\"\"", -EBADMSG }, /* three quotes in the body */
		{ "s = '''x''''''", -EBADMSG },
		{ "s = \"\"\"a\\ b\"\"\"", -EBADMSG },  /* a backslash then space, not at a line end */
		{ "s = \"x\" \"y\"", -EBADMSG },
	};
	check_good(g, ARRAY_SIZE(g));
	check_bad(b, ARRAY_SIZE(b));
}

static void test_numbers(void)
{
	static const struct good g[] = {
		{ "a = +99\nb = 42\nc = 0\nd = -17\ne = -0\nf = +0", "{\"a\":99,\"b\":42,\"c\":0,\"d\":-17,\"e\":0,\"f\":0}" },
		{ "a = 1_000\nb = 5_349_221\nc = 53_49_221\nd = 1_2_3_4_5", "{\"a\":1000,\"b\":5349221,\"c\":5349221,\"d\":12345}" },
		{ "a = 9223372036854775807\nb = -9223372036854775808",
		  "{\"a\":9223372036854775807,\"b\":-9223372036854775808}" },
		{ "a = 0xDEADBEEF\nb = 0xdeadbeef\nc = 0xdead_beef\nd = 0x00ff", "{\"a\":3735928559,\"b\":3735928559,\"c\":3735928559,\"d\":255}" },
		{ "a = 0o01234567\nb = 0o755\nc = 0b11010110\nd = 0b0_1", "{\"a\":342391,\"b\":493,\"c\":214,\"d\":1}" },
		{ "a = 0x7FFFFFFFFFFFFFFF", "{\"a\":9223372036854775807}" },
		{ "a = +1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\nf = -2E-2\ng = 6.626e-34\nh = 224_617.445_991_228",
		  "{\"a\":1,\"b\":3.1415,\"c\":-0.01,\"d\":5e+22,\"e\":1000000,\"f\":-0.02,\"g\":6.626e-34,\"h\":224617.445991228}" },
		{ "a = 0.0\nb = -0.0\nc = 0e0\nd = 1e1_0\ne = 1.5_5", "{\"a\":0,\"b\":0,\"c\":0,\"d\":10000000000,\"e\":1.55}" },
		{ "a = 1e-400", "{\"a\":0}" }, /* rounds to zero, as strtod does */
		{ "a = [1,2]", "{\"a\":[1,2]}" },
		{ "a = {x=1}", "{\"a\":{\"x\":1}}" },
	};
	static const struct bad b[] = {
		{ "a = 01", -EBADMSG },
		{ "a = +01", -EBADMSG },
		{ "a = 0_0", -EBADMSG },
		{ "a = 1__2", -EBADMSG },
		{ "a = _1", -EBADMSG },
		{ "a = 1_", -EBADMSG },
		{ "a = 9223372036854775808", -EBADMSG },
		{ "a = -9223372036854775809", -EBADMSG },
		{ "a = 0x8000000000000000", -EBADMSG },
		{ "a = 0xFFFFFFFFFFFFFFFFFF", -EBADMSG },
		{ "a = +0x1", -EBADMSG },
		{ "a = -0b1", -EBADMSG },
		{ "a = 0X1", -EBADMSG },
		{ "a = 0x", -EBADMSG },
		{ "a = 0x_1", -EBADMSG },
		{ "a = 0xg", -EBADMSG },
		{ "a = 0o8", -EBADMSG },
		{ "a = 0b2", -EBADMSG },
		{ "a = 0b", -EBADMSG },
		{ "a = 1.", -EBADMSG },
		{ "a = .1", -EBADMSG },
		{ "a = +.1", -EBADMSG },
		{ "a = 1.e5", -EBADMSG },
		{ "a = 1e", -EBADMSG },
		{ "a = 1e+", -EBADMSG },
		{ "a = 1e_5", -EBADMSG },
		{ "a = 1_.5", -EBADMSG },
		{ "a = 1._5", -EBADMSG },
		{ "a = 1.5_", -EBADMSG },
		{ "a = 01.5", -EBADMSG },
		{ "a = 1.2.3", -EBADMSG },
		{ "a = 1e5e5", -EBADMSG },
		{ "a = 1e400", -EBADMSG },
		{ "a = 1x", -EBADMSG },
		{ "a = 1 2", -EBADMSG },
		{ "a = +", -EBADMSG },
		{ "a = -", -EBADMSG },
		{ "a = inf", -EBADMSG },
		{ "a = +inf", -EBADMSG },
		{ "a = -inf", -EBADMSG },
		{ "a = nan", -EBADMSG },
		{ "a = +nan", -EBADMSG },
		{ "a = -nan", -EBADMSG },
		{ "a = Inf", -EBADMSG },
		{ "a = infinity", -EBADMSG },
		{ "a = True", -EBADMSG },
		{ "a = yes", -EBADMSG },
		{ "a = truex", -EBADMSG },
	};
	check_good(g, ARRAY_SIZE(g));
	check_bad(b, ARRAY_SIZE(b));
}

static void test_dates(void)
{
	static const struct good g[] = {
		{ "a = 1979-05-27T07:32:00Z", "{\"a\":\"1979-05-27T07:32:00Z\"}" },
		{ "a = 1979-05-27T00:32:00-07:00", "{\"a\":\"1979-05-27T00:32:00-07:00\"}" },
		{ "a = 1979-05-27T00:32:00.999999+07:30", "{\"a\":\"1979-05-27T00:32:00.999999+07:30\"}" },
		{ "a = 1979-05-27 07:32:00z", "{\"a\":\"1979-05-27T07:32:00Z\"}" },
		{ "a = 1979-05-27t07:32:00+00:00", "{\"a\":\"1979-05-27T07:32:00Z\"}" },
		{ "a = 1979-05-27T07:32:00-00:00", "{\"a\":\"1979-05-27T07:32:00Z\"}" },
		{ "a = 1979-05-27T07:32:00", "{\"a\":\"1979-05-27T07:32:00\"}" },
		{ "a = 1979-05-27T00:32:00.999999", "{\"a\":\"1979-05-27T00:32:00.999999\"}" },
		{ "a = 1979-05-27T00:32:00.5000", "{\"a\":\"1979-05-27T00:32:00.5\"}" },
		{ "a = 1979-05-27T00:32:00.000", "{\"a\":\"1979-05-27T00:32:00\"}" },
		{ "a = 1979-05-27T00:32:00.1234567891234", "{\"a\":\"1979-05-27T00:32:00.123456789\"}" },
		{ "a = 1979-05-27", "{\"a\":\"1979-05-27\"}" },
		{ "a = 1979-05-27 # a date, then a comment", "{\"a\":\"1979-05-27\"}" },
		{ "a = [1979-05-27 ,1979-05-27]", "{\"a\":[\"1979-05-27\",\"1979-05-27\"]}" },
		{ "a = 07:32:00\nb = 00:32:00.999999", "{\"a\":\"07:32:00\",\"b\":\"00:32:00.999999\"}" },
		{ "a = 2000-02-29\nb = 2024-02-29\nc = 0000-01-01\nd = 9999-12-31T23:59:59Z",
		  "{\"a\":\"2000-02-29\",\"b\":\"2024-02-29\",\"c\":\"0000-01-01\",\"d\":\"9999-12-31T23:59:59Z\"}" },
	};
	static const struct bad b[] = {
		{ "a = 1979-13-27", -EBADMSG },
		{ "a = 1979-00-27", -EBADMSG },
		{ "a = 1979-05-32", -EBADMSG },
		{ "a = 1979-05-00", -EBADMSG },
		{ "a = 1979-04-31", -EBADMSG },
		{ "a = 1900-02-29", -EBADMSG },
		{ "a = 2023-02-29", -EBADMSG },
		{ "a = 1979-5-27", -EBADMSG },
		{ "a = 79-05-27", -EBADMSG },
		{ "a = 1979-05-27T24:00:00", -EBADMSG },
		{ "a = 1979-05-27T07:60:00", -EBADMSG },
		{ "a = 1979-05-27T07:32:60", -EBADMSG },
		{ "a = 1979-05-27T07:32", -EBADMSG },   /* seconds are required in TOML 1.0 */
		{ "a = 07:32", -EBADMSG },
		{ "a = 7:32:00", -EBADMSG },
		{ "a = 1979-05-27T07:32:00.", -EBADMSG },
		{ "a = 1979-05-27T07:32:00+7:00", -EBADMSG },
		{ "a = 1979-05-27T07:32:00+24:00", -EBADMSG },
		{ "a = 1979-05-27T07:32:00+07:60", -EBADMSG },
		{ "a = 1979-05-27T07:32:00+0700", -EBADMSG },
		{ "a = 1979-05-27T07:32:00ZZ", -EBADMSG },
		{ "a = 1979-05-27X07:32:00", -EBADMSG },
		{ "a = 1979-05-27  07:32:00", -EBADMSG },
		{ "a = 1979-05-27 7", -EBADMSG },
		{ "a = 07:32:00Z", -EBADMSG },          /* a local time has no offset */
		{ "a = 07:32:00-07:00", -EBADMSG },
		{ "a = 1979-05-27Z", -EBADMSG },
	};
	check_good(g, ARRAY_SIZE(g));
	check_bad(b, ARRAY_SIZE(b));
}

static void test_arrays(void)
{
	static const struct good g[] = {
		{ "a = []\nb = [ ]\nc = [\n]", "{\"a\":[],\"b\":[],\"c\":[]}" },
		{ "a = [1, 2, 3,]", "{\"a\":[1,2,3]}" },
		{ "a = [ \"red\", 'yellow', \"\"\"green\"\"\" ]", "{\"a\":[\"red\",\"yellow\",\"green\"]}" },
		{ "a = [ [ 1, 2 ], [3, 4, 5] ]", "{\"a\":[[1,2],[3,4,5]]}" },
		{ "a = [ [ 1, 2 ], [\"a\", \"b\", \"c\"] ]", "{\"a\":[[1,2],[\"a\",\"b\",\"c\"]]}" },
		{ "a = [ 0.1, 0.2, 0.5, 1, 2, 5 ]", "{\"a\":[0.1,0.2,0.5,1,2,5]}" },
		{ "a = [ \"all\", 'strings', \"\"\"are the same\"\"\", '''type''' ]",
		  "{\"a\":[\"all\",\"strings\",\"are the same\",\"type\"]}" },
		{ "a = [\n  1, # one\n  # nothing\n  2\n  ,\n  3 # three\n,]", "{\"a\":[1,2,3]}" },
		{ "a = [ { x = 1, y = 2 }, { x = 3 } ]", "{\"a\":[{\"x\":1,\"y\":2},{\"x\":3}]}" },
		{ "a = [[[[[[[[[[1]]]]]]]]]]", "{\"a\":[[[[[[[[[[1]]]]]]]]]]}" },
		{ "a = [\r\n1,\r\n2\r\n]", "{\"a\":[1,2]}" },
	};
	static const struct bad b[] = {
		{ "a = [", -EBADMSG },
		{ "a = [1", -EBADMSG },
		{ "a = [1,", -EBADMSG },
		{ "a = [,]", -EBADMSG },
		{ "a = [1,,2]", -EBADMSG },
		{ "a = [1 2]", -EBADMSG },
		{ "a = [1]]", -EBADMSG },
		{ "a = [1 # comment ]", -EBADMSG },
		{ "a = [\"a\nb\"]", -EBADMSG },
		{ "a = [1\r2]", -EBADMSG },
	};
	check_good(g, ARRAY_SIZE(g));
	check_bad(b, ARRAY_SIZE(b));
}

static void test_inline_tables(void)
{
	static const struct good g[] = {
		{ "name = { first = \"Tom\", last = \"Preston-Werner\" }",
		  "{\"name\":{\"first\":\"Tom\",\"last\":\"Preston-Werner\"}}" },
		{ "point = { x = 1, y = 2 }", "{\"point\":{\"x\":1,\"y\":2}}" },
		{ "animal = { type.name = \"pug\" }", "{\"animal\":{\"type\":{\"name\":\"pug\"}}}" },
		{ "a = {}\nb = {  }", "{\"a\":{},\"b\":{}}" },
		{ "a = { b = { c = { d = [ { e = 1 } ] } } }", "{\"a\":{\"b\":{\"c\":{\"d\":[{\"e\":1}]}}}}" },
		{ "a = { x.y = 1, x.z = 2 }", "{\"a\":{\"x\":{\"y\":1,\"z\":2}}}" },
		{ "a = {x=1}\n[b]\nc = {y = [1, {z = 2}]}", "{\"a\":{\"x\":1},\"b\":{\"c\":{\"y\":[1,{\"z\":2}]}}}" },
	};
	static const struct bad b[] = {
		{ "a = {", -EBADMSG },
		{ "a = { x = 1", -EBADMSG },
		{ "a = { x = 1, }", -EBADMSG },          /* no trailing comma */
		{ "a = { , }", -EBADMSG },
		{ "a = { x = 1\n}", -EBADMSG },          /* no newline */
		{ "a = {\nx = 1 }", -EBADMSG },
		{ "a = { x = 1 # c\n}", -EBADMSG },
		{ "a = { x = 1 y = 2 }", -EBADMSG },
		{ "a = { x = 1, x = 2 }", -EBADMSG },
		{ "a = { x = {}, x.y = 1 }", -EBADMSG },
		{ "a = { x.y = 1, x = 2 }", -EBADMSG },
		/* spec: inline tables are complete as written */
		{ "type = { name = \"Nail\" }\ntype.edible = false", -EBADMSG },
		{ "a = { x = 1 }\n[a]", -EBADMSG },
		{ "a = { x = 1 }\n[a.b]", -EBADMSG },
		{ "a = { x = {} }\n[a.x]", -EBADMSG },
		{ "a = { x = [] }\n[[a.x]]", -EBADMSG },
		{ "a = { }\n[[a]]", -EBADMSG },
	};
	check_good(g, ARRAY_SIZE(g));
	check_bad(b, ARRAY_SIZE(b));
}

static void test_tables(void)
{
	static const struct good g[] = {
		{ "[table]", "{\"table\":{}}" },
		{ "[table-1]\nkey1 = \"some string\"\nkey2 = 123\n\n[table-2]\nkey1 = \"another string\"\nkey2 = 456",
		  "{\"table-1\":{\"key1\":\"some string\",\"key2\":123},\"table-2\":{\"key1\":\"another string\",\"key2\":456}}" },
		{ "[dog.\"tater.man\"]\ntype.name = \"pug\"", "{\"dog\":{\"tater.man\":{\"type\":{\"name\":\"pug\"}}}}" },
		{ "[a.b.c]\n[ d.e.f ]\n[ g .  h  . i ]\n[ j . \"k\" . 'l' ]",
		  "{\"a\":{\"b\":{\"c\":{}}},\"d\":{\"e\":{\"f\":{}}},\"g\":{\"h\":{\"i\":{}}},\"j\":{\"k\":{\"l\":{}}}}" },
		/* spec: super-tables need not be defined, and may be later */
		{ "[x.y.z.w]\n[x]", "{\"x\":{\"y\":{\"z\":{\"w\":{}}}}}" },
		{ "[a.b]\nc = 1\n[a]\nd = 2", "{\"a\":{\"b\":{\"c\":1},\"d\":2}}" },
		/* spec: out-of-order tables are valid */
		{ "[fruit.apple]\n[animal]\n[fruit.orange]", "{\"animal\":{},\"fruit\":{\"apple\":{},\"orange\":{}}}" },
		/* spec: sub-tables of tables made by dotted keys */
		{ "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true",
		  "{\"fruit\":{\"apple\":{\"color\":\"red\",\"taste\":{\"sweet\":true},\"texture\":{\"smooth\":true}}}}" },
		{ "a.b = 1\n[a.c]\nd = 2", "{\"a\":{\"b\":1,\"c\":{\"d\":2}}}" },
		/* a dotted key may add to a parent that a header only named (as toml++) */
		{ "[a.b.c]\n[a]\nb.d = 1", "{\"a\":{\"b\":{\"c\":{},\"d\":1}}}" },
		{ "[a.b.c]\n[a]\nb.d.e = 1\n[a.b]", "{\"a\":{\"b\":{\"c\":{},\"d\":{\"e\":1}}}}" },
		{ "[a]\n[b]\n[c]\n[a.x]", "{\"a\":{\"x\":{}},\"b\":{},\"c\":{}}" },
		{ "[ a ]  # comment\nb = 1", "{\"a\":{\"b\":1}}" },
		{ "[\"\"]\na = 1", "{\"\":{\"a\":1}}" },
	};
	static const struct bad b[] = {
		{ "[]", -EBADMSG },
		{ "[a", -EBADMSG },
		{ "[a]]", -EBADMSG },
		{ "[a.]", -EBADMSG },
		{ "[.a]", -EBADMSG },
		{ "[a] b = 1", -EBADMSG },
		{ "[a]\n[a]", -EBADMSG },
		{ "[a]\nb = 1\n[a]", -EBADMSG },
		{ "[a.b]\n[a.b]", -EBADMSG },
		{ "[a]\nb = 1\n[a.b]", -EBADMSG },
		{ "a = 1\n[a]", -EBADMSG },
		{ "a = 1\n[a.b]", -EBADMSG },
		{ "[a\nb]", -EBADMSG },
		{ "[a b]", -EBADMSG },
		{ "[[+execgroup]]\n", -EBADMSG },
		{ "#\n[+x]\n", -EBADMSG },
		/* spec: a table made by dotted keys cannot be defined by a header */
		{ "[fruit]\napple.color = \"red\"\n[fruit.apple]", -EBADMSG },
		{ "[fruit]\napple.taste.sweet = true\n[fruit.apple.taste]", -EBADMSG },
		{ "a.b = 1\n[a]", -EBADMSG },
		/* nor can dotted keys add to a table a header defined */
		{ "[a.b.c]\nz = 9\n[a]\nb.c.t = 1", -EBADMSG },
		{ "[a.b.c.d]\nz = 9\n[a]\nb.c.d.k.t = 1", -EBADMSG },
		{ "[a]\nb.c = 1\n[a.b]", -EBADMSG },
		/* a header cannot define a parent a dotted key put a value in (as toml++) */
		{ "[a.b.c]\n[a]\nb.x = 1\n[a.b]", -EBADMSG },
	};
	check_good(g, ARRAY_SIZE(g));
	check_bad(b, ARRAY_SIZE(b));
}

static void test_arrays_of_tables(void)
{
	static const struct good g[] = {
		{ "[[products]]\nname = \"Hammer\"\nsku = 738594937\n\n[[products]]  # empty table\n\n[[products]]\nname = \"Nail\"",
		  "{\"products\":[{\"name\":\"Hammer\",\"sku\":738594937},{},{\"name\":\"Nail\"}]}" },
		{ "[[fruits]]\nname = \"apple\"\n[fruits.physical]\ncolor = \"red\"\n[[fruits.varieties]]\nname = \"red delicious\"\n"
		  "[[fruits.varieties]]\nname = \"granny smith\"\n[[fruits]]\nname = \"banana\"\n[[fruits.varieties]]\nname = \"plantain\"",
		  "{\"fruits\":[{\"name\":\"apple\",\"physical\":{\"color\":\"red\"},\"varieties\":[{\"name\":\"red delicious\"},"
		  "{\"name\":\"granny smith\"}]},{\"name\":\"banana\",\"varieties\":[{\"name\":\"plantain\"}]}]}" },
		{ "[[a.b]]\nx = 1\n[[a.b]]\nx = 2\n[a]\ny = 3", "{\"a\":{\"b\":[{\"x\":1},{\"x\":2}],\"y\":3}}" },
		{ "[[a]]\n[a.b]\nc = 1\n[[a]]\n[a.b]\nc = 2", "{\"a\":[{\"b\":{\"c\":1}},{\"b\":{\"c\":2}}]}" },
		{ "[[a]]\nb.c = 1\n[[a]]\nb.c = 2", "{\"a\":[{\"b\":{\"c\":1}},{\"b\":{\"c\":2}}]}" },
		{ "[[ a ]]\n[[ a . b ]]", "{\"a\":[{\"b\":[{}]}]}" },
	};
	static const struct bad b[] = {
		{ "[[a]", -EBADMSG },
		{ "[[a] ]", -EBADMSG },
		{ "[ [a]]", -EBADMSG },
		{ "[[]]", -EBADMSG },
		/* spec: a static array cannot be appended to */
		{ "fruits = []\n[[fruits]]", -EBADMSG },
		{ "a = [{}]\n[[a]]", -EBADMSG },
		{ "a = [{}]\n[a.b]", -EBADMSG },
		/* spec: nor a table become an array of tables, or back */
		{ "[[fruits]]\nname = \"apple\"\n[[fruits.varieties]]\nname = \"red delicious\"\n[fruits.varieties]\nname = \"granny smith\"",
		  -EBADMSG },
		{ "[[fruits]]\nname = \"apple\"\n[fruits.physical]\ncolor = \"red\"\n[[fruits.physical]]\ncolor = \"green\"", -EBADMSG },
		{ "[a]\n[[a]]", -EBADMSG },
		{ "[[a]]\n[a]", -EBADMSG },
		{ "a = 1\n[[a]]", -EBADMSG },
		{ "a.b = 1\n[[a]]", -EBADMSG },
		{ "[[a]]\na.b = 1\n[[a.a]]", -EBADMSG },
		{ "[[a]]\nb = 1\nb = 2", -EBADMSG },
	};
	check_good(g, ARRAY_SIZE(g));
	check_bad(b, ARRAY_SIZE(b));
}

static void test_text(void)
{
	/* UTF-8 is accepted in strings, quoted keys and comments, and
	 * validated: invalid sequences, overlong forms, surrogates and code
	 * points past U+10FFFF are refused wherever they are */
	static const struct good g[] = {
		{ "# caf\xc3\xa9\na = 1\n", "{\"a\":1}" },
		{ "\"\xc3\xa9t\xc3\xa9\" = '\xe2\x82\xac'", "{\"\xc3\xa9t\xc3\xa9\":\"\xe2\x82\xac\"}" },
		{ "a = '\xf4\x8f\xbf\xbf'", "{\"a\":\"\xf4\x8f\xbf\xbf\"}" }, /* U+10FFFF */
		{ "a = '\xc2\x80'", "{\"a\":\"\xc2\x80\"}" },                 /* a C1 control is no TOML control */
		{ "a = \"\"\"\xc8\xa8\n\xc8\xa8\"\"\"", "{\"a\":\"\xc8\xa8\\n\xc8\xa8\"}" },
	};
	static const struct bad b[] = {
		{ "\xc8\xa8", -EBADMSG },              /* outside a string or comment */
		{ "a = \xc8\xa8", -EBADMSG },
		{ "a = 'x\xc3'", -EBADMSG },           /* cut short */
		{ "a = 'x\x80'", -EBADMSG },           /* a lone continuation byte */
		{ "a = '\xc0\xaf'", -EBADMSG },        /* overlong '/' */
		{ "a = '\xe0\x80\xaf'", -EBADMSG },
		{ "a = '\xf0\x80\x80\xaf'", -EBADMSG },
		{ "a = '\xed\xa0\x80'", -EBADMSG },    /* the surrogate U+D800 */
		{ "a = '\xf4\x90\x80\x80'", -EBADMSG }, /* U+110000 */
		{ "a = '\xff'", -EBADMSG },
		{ "# \xed\xbf\xbf\n", -EBADMSG },
		{ "# a\x01\n", -EBADMSG },             /* control characters in comments */
		{ "# a\x7f\n", -EBADMSG },
		{ "# a\rb\n", -EBADMSG },
		{ "a = 1\r", -EBADMSG },              /* a lone CR is no newline */
		{ "a = 1\rb = 2", -EBADMSG },
		{ "\xef\xbb", -EBADMSG },
	};
	check_good(g, ARRAY_SIZE(g));
	check_bad(b, ARRAY_SIZE(b));
}

static void test_errors(void)
{
	struct val *v = NULL;
	struct arca_err e = { 0 };
	CHECK_RC(val_from_toml("a = yes\n", 8, &v, &e), -EBADMSG);
	CHECK(strstr(e.msg, "line 1, column 5") != NULL);
	CHECK_RC(val_from_toml("a = 1\na = 2\n", 12, &v, &e), -EBADMSG);
	CHECK(strstr(e.msg, "line 2, column 1") != NULL && strstr(e.msg, "\"a\"") != NULL);
	CHECK_RC(val_from_toml("a = inf\n", 8, &v, &e), -EBADMSG);
	CHECK(strstr(e.msg, "inf") != NULL);
	CHECK_RC(val_from_toml("a = \"x\0\"\n", 9, &v, &e), -EBADMSG);
	CHECK(strstr(e.msg, "NUL") != NULL);
	/* columns count characters, not bytes */
	CHECK_RC(val_from_toml("s = '\xc3\xa9\xc3\xa9' x", 12, &v, &e), -EBADMSG);
	CHECK(strstr(e.msg, "line 1, column 10") != NULL);
	CHECK_RC(val_from_toml("a = 1\n\n[b]\nc = 'x\n", 18, &v, &e), -EBADMSG);
	CHECK(strstr(e.msg, "line 4, column 5") != NULL);
	/* key names in messages are quoted and escaped */
	CHECK_RC(val_from_toml("\"\\n\" = 1\n\"\\n\" = 2", 17, &v, &e), -EBADMSG);
	CHECK(strstr(e.msg, "\"\\x0a\"") != NULL);
	CHECK(v == NULL);
}

/* Named limits: nesting depth and input size, -E2BIG. */
static void test_limits(void)
{
	struct val *v = NULL;
	struct arca_err e = { 0 };
	struct buf b = BUF_INIT;
	buf_addstr(&b, "a = ");
	for (int i = 0; i < 127; i++)
		buf_addch(&b, '[');
	for (int i = 0; i < 127; i++)
		buf_addch(&b, ']');
	CHECK_RC(val_from_toml(b.p, b.len, &v, &e), 0);
	val_unref(v);
	v = NULL;
	buf_reset(&b);
	buf_addstr(&b, "a = ");
	for (int i = 0; i < 100000; i++)
		buf_addstr(&b, i % 2 ? "[" : "{b=");
	CHECK_RC(val_from_toml(b.p, b.len, &v, &e), -E2BIG);
	buf_reset(&b);
	buf_addstr(&b, "a = ");
	for (int i = 0; i < 100000; i++)
		buf_addstr(&b, "{b=");
	CHECK_RC(val_from_toml(b.p, b.len, &v, &e), -E2BIG);
	buf_reset(&b);
	buf_addch(&b, '[');
	for (int i = 0; i < 200; i++)
		buf_addstr(&b, "a.");
	buf_addstr(&b, "a]");
	CHECK_RC(val_from_toml(b.p, b.len, &v, &e), -E2BIG);
	buf_reset(&b);
	for (int i = 0; i < 200; i++)
		buf_addstr(&b, "a.");
	buf_addstr(&b, "a = 1");
	CHECK_RC(val_from_toml(b.p, b.len, &v, &e), -E2BIG);
	buf_reset(&b);
	for (int i = 0; i < 200; i++)
		buf_addstr(&b, "[[a]]\n[a.a]\n");
	CHECK_RC(val_from_toml(b.p, b.len, &v, &e), 0);
	val_unref(v);
	v = NULL;
	buf_reset(&b);
	buf_addstr(&b, "[a");
	for (int i = 0; i < 80; i++)
		buf_addstr(&b, ".a");
	buf_addstr(&b, "]\nb = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	CHECK_RC(val_from_toml(b.p, b.len, &v, &e), -E2BIG);
	CHECK(v == NULL);
	/* many keys in one table: each key is found through the index */
	buf_reset(&b);
	for (int i = 0; i < 50000; i++)
		buf_addf(&b, "k%d = %d\n", 50000 - i, i);
	CHECK_RC(val_from_toml(b.p, b.len, &v, &e), 0);
	CHECK(v && v->kind == VAL_OBJECT && v->obj.n == 50000);
	val_unref(v);
	v = NULL;
	buf_addstr(&b, "k77 = 1\n");
	CHECK_RC(val_from_toml(b.p, b.len, &v, &e), -EBADMSG);
	buf_release(&b);
	char big[1];
	CHECK_RC(val_from_toml(big, (size_t)(4u << 20) + 1, &v, &e), -E2BIG);
}

int main(void)
{
	RUN(test_values);
	RUN(test_keys);
	RUN(test_strings);
	RUN(test_numbers);
	RUN(test_dates);
	RUN(test_arrays);
	RUN(test_inline_tables);
	RUN(test_tables);
	RUN(test_arrays_of_tables);
	RUN(test_text);
	RUN(test_errors);
	RUN(test_limits);
	TL_DONE();
}
