/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>

#include "base.h"
#include "testlib.h"

/* libm is always present and its prototypes are at hand: a stand-in for the
 * optional libraries arca opens on first use. */
static typeof(cos) *sym_cos;
static typeof(sqrt) *sym_sqrt;
static typeof(cos) *sym_arca_no_such_symbol;

static void test_load(void)
{
	static const struct dl_sym syms[] = { DL_SYM(cos), DL_SYM(sqrt) };
	static struct dl_lib lib = DL_LIB("libm.so.6", syms);
	struct arca_err e = { 0 };
	CHECK_RC(dl_load(&lib, &e), 0);
	CHECK(sym_cos && sym_sqrt && lib.handle);
	CHECK(sym_sqrt(16.0) == 4.0);
	/* A second load is a no-op. */
	void *h = lib.handle;
	CHECK_RC(dl_load(&lib, &e), 0);
	CHECK(lib.handle == h);
}

static void test_missing_library(void)
{
	static const struct dl_sym syms[] = { DL_SYM(cos) };
	static struct dl_lib lib = DL_LIB("libarca-no-such-library.so.7", syms);
	struct arca_err e = { 0 };
	CHECK_RC(dl_load(&lib, &e), -ENOPKG);
	CHECK(strstr(e.msg, "libarca-no-such-library.so.7") != NULL);
	CHECK(lib.handle == NULL);
}

static void test_missing_symbol(void)
{
	sym_cos = NULL;
	static const struct dl_sym syms[] = { DL_SYM(cos), DL_SYM(arca_no_such_symbol) };
	static struct dl_lib lib = DL_LIB("libm.so.6", syms);
	struct arca_err e = { 0 };
	CHECK_RC(dl_load(&lib, &e), -ENOPKG);
	CHECK(strstr(e.msg, "arca_no_such_symbol") != NULL);
	/* No half-filled table: the symbol that did resolve is not left set. */
	CHECK(sym_cos == NULL && sym_arca_no_such_symbol == NULL && lib.handle == NULL);
}

int main(void)
{
	RUN(test_load);
	RUN(test_missing_symbol);
	RUN(test_missing_library);
	TL_DONE();
}
