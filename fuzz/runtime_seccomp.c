/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the OCI seccomp profile parser, and compiles every accepted
 * profile with libseccomp (in memory, never loaded), so whatever the parser
 * lets through must also be a filter libseccomp can build or refuse
 * cleanly. */
#include "../lib/runtime/harden.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_seccomp *p = NULL;
	struct arca_err e = { 0 };
	if (rt_seccomp_parse_oci((const char *)data, size, &p, &e) < 0) {
		if (e.msg[0] == '\0')
			__builtin_trap(); /* every refusal says why */
		return 0;
	}
	(void)rt_seccomp_check(p, &e);
	rt_seccomp_free(p);
	return 0;
}
