/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal TAP producer for arca's unit tests. Each TEST() is one case;
 * CHECK() records a failure and continues, REQUIRE() ends the case. The
 * program exits non-zero when any case failed. Fixture paths come from
 * ARCA_SHARED (set by meson), the build tree from ARCA_BUILD.
 */
#ifndef ARCA_TESTLIB_H
#define ARCA_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tl_case_failed;
static int tl_failed;
static int tl_count;

#define CHECK(cond)                                                           \
	do {                                                                      \
		if (!(cond)) {                                                        \
			printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			tl_case_failed = 1;                                               \
		}                                                                     \
	} while (0)
#define REQUIRE(cond)                                                         \
	do {                                                                      \
		if (!(cond)) {                                                        \
			printf("# %s:%d: requirement failed: %s\n", __FILE__, __LINE__,   \
			       #cond);                                                    \
			tl_case_failed = 1;                                               \
			return;                                                           \
		}                                                                     \
	} while (0)
#define CHECK_RC(expr, want)                                                  \
	do {                                                                      \
		long _got = (long)(expr);                                             \
		if (_got != (long)(want)) {                                           \
			printf("# %s:%d: %s returned %ld, want %ld\n", __FILE__, __LINE__, \
			       #expr, _got, (long)(want));                                \
			tl_case_failed = 1;                                               \
		}                                                                     \
	} while (0)
#define CHECK_STR(a, b)                                                       \
	do {                                                                      \
		const char *_a = (a), *_b = (b);                                      \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                              \
			printf("# %s:%d: %s == \"%s\", want \"%s\"\n", __FILE__,          \
			       __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)");     \
			tl_case_failed = 1;                                               \
		}                                                                     \
	} while (0)

static inline void tl_run(const char *name, void (*fn)(void))
{
	tl_case_failed = 0;
	tl_count++;
	fflush(stdout);
	fn();
	printf("%s %d - %s\n", tl_case_failed ? "not ok" : "ok", tl_count, name);
	fflush(stdout);
	if (tl_case_failed)
		tl_failed++;
}
#define RUN(fn) tl_run(#fn, fn)
#define TL_DONE()                                                             \
	do {                                                                      \
		printf("1..%d\n", tl_count);                                          \
		return tl_failed ? 1 : 0;                                             \
	} while (0)

/* Joins ARCA_SHARED with a relative path into a static buffer. */
static inline const char *tl_shared(const char *rel)
{
	static char path[4096];
	const char *root = getenv("ARCA_SHARED");
	snprintf(path, sizeof(path), "%s/%s", root ? root : "../shared", rel);
	return path;
}

#endif
