/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the tar reader of `arca build` (libarchive underneath, arca's
 * path, link and limit checks on top): any input must be accepted into a
 * consistent tree or refused with an error, never crash or leak. */
#include "build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arca_err e = { 0 };
	uint64_t entries = 0;
	int rc = build_tar_check(data, size, &entries, &e);
	/* A refusal always says why; an accepted tree has at least its root. */
	if ((rc < 0 && !e.msg[0]) || (rc == 0 && entries == 0))
		__builtin_trap();
	return 0;
}
