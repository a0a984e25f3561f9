/* SPDX-License-Identifier: Apache-2.0 */
#include "../internal.h"

const struct builtin_decl rego_builtins_encoding[] = {
	{ NULL, 0, NULL, NULL },
};
