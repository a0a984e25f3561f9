/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the bounded ecl.toml reader: accepted configurations are
 * internally consistent. */
#include "integrity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct integrity_ecl *ecl = NULL;
	if (integrity_ecl_parse((const char *)data, size, &ecl, NULL) < 0)
		return 0;
	for (size_t i = 0; i < ecl->n; i++) {
		if (!ecl->groups[i].has_mode || ecl->groups[i].mode > INTEGRITY_ECL_BLACKLIST)
			__builtin_trap();
		for (size_t k = 0; k < ecl->groups[i].nkeys; k++)
			if (strlen(ecl->groups[i].keys[k]) > size)
				__builtin_trap();
	}
	integrity_ecl_free(ecl);
	return 0;
}
