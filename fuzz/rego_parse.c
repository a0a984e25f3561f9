/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the Rego lexer, parser and compiler, then evaluates the whole
 * document under a tight step budget so evaluator crashes surface too. */
#include "base.h"
#include "rego.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_err e = { 0 };
	struct rego *r = rego_new();
	struct rego_query *q = NULL;
	struct val *out = NULL;
	struct rego_limits lim = { 20000, 200 };
	if (!r)
		return 0;
	rego_set_limits(r, &lim);
	if (rego_add_module(r, "fuzz.rego", (const char *)data, size, 0, &e) == 0 && rego_compile(r, &e) == 0 &&
	    rego_prepare(r, "data", 4, 0, &q, &e) == 0)
		(void)rego_query_eval(q, NULL, 0, &out, &e);
	val_unref(out);
	rego_query_free(q);
	rego_free(r);
	return 0;
}
