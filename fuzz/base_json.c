/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the JSON parser and checks that serialising and re-parsing a value
 * yields an equal value. */
#include "base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct val *v = NULL, *w = NULL;
	struct json_limits lim = json_limits_default;
	lim.max_depth = 128;
	if (val_from_json((const char *)data, size, &lim, &v, NULL) < 0)
		return 0;
	struct buf b = BUF_INIT;
	val_to_json(v, &b, 0);
	if (val_from_json(b.p, b.len, &lim, &w, NULL) < 0 || val_compare(v, w) != 0)
		__builtin_trap();
	buf_release(&b);
	val_unref(v);
	val_unref(w);
	return 0;
}
