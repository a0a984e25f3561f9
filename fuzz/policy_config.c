/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the configuration reader: the TOML parser and the field checks after it. */
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_config *c = NULL;
	if (policy_config_parse((const char *)data, size, &c, NULL) == 0)
		policy_config_free(c);
	return 0;
}
