/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential fuzzer of arca's TOML parser (lib/base/toml.c) against
 * toml++ 3.3 (fuzz/toml_oracle.cc): on the same text both must accept or
 * both refuse, and when both accept their values must serialise to the
 * same JSON. arca's parser runs on every input (for the sanitizers); the
 * comparison is skipped where the two are known to differ on purpose:
 *
 *  - non-ASCII text: toml++ 3.3 reaches undefined behaviour in its Unicode
 *    tables, so it only ever sees ASCII;
 *  - a limit of arca's (-E2BIG: nesting deeper than TOML_MAX_DEPTH, which
 *    is below toml++'s 256 nested values, or deep dotted keys, which toml++
 *    does not bound);
 *  - a run of more than 40 digits and underscores: toml++ reads a number or
 *    a date into a 128-character buffer (fractional seconds 64 digits) and
 *    refuses longer ones that TOML allows, such as 0x0000...01 or many
 *    fractional digits.
 */
#include "base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int toml_oracle_parse(const char *text, size_t len, struct val **out, struct arca_err *e);

#define DIGIT_RUN_MAX 40

static bool comparable(const uint8_t *d, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		if (d[i] >= 0x80)
			return false;
		run = (d[i] >= '0' && d[i] <= '9') || d[i] == '_' ? run + 1 : 0;
		if (run > DIGIT_RUN_MAX)
			return false;
	}
	return true;
}

static char *json(const struct val *v)
{
	struct buf b = BUF_INIT;
	val_to_json(v, &b, 0);
	return buf_detach(&b, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct val *mine = NULL, *theirs = NULL;
	struct arca_err e1 = { 0 }, e2 = { 0 };
	int r1 = val_from_toml((const char *)data, size, &mine, &e1);
	if (r1 == -E2BIG || !comparable(data, size)) {
		val_unref(mine);
		return 0;
	}
	int r2 = toml_oracle_parse((const char *)data, size, &theirs, &e2);
	if ((r1 == 0) != (r2 == 0)) {
		fprintf(stderr, "disagreement: arca %d (%s), toml++ %d (%s)\n", r1, err_msg(&e1), r2, err_msg(&e2));
		abort();
	}
	if (r1 == 0) {
		char *a = json(mine), *b = json(theirs);
		if (!a || !b || strcmp(a, b) != 0) {
			fprintf(stderr, "different values:\n arca:  %s\n toml++: %s\n", a ? a : "?", b ? b : "?");
			abort();
		}
		free(a);
		free(b);
	}
	val_unref(mine);
	val_unref(theirs);
	return 0;
}
