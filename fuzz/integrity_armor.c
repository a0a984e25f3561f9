/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the OpenPGP clear-signed armour parser that runs before gpg sees
 * a signature: whatever it accepts must have a signature body and text
 * no longer than the input. */
#include "integrity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct integrity_clearsign c;
	if (integrity_clearsign_parse((const char *)data, size, &c, NULL) < 0)
		return 0;
	if (c.signature.len == 0 || c.text.len > size || c.signature.len > size)
		__builtin_trap();
	if (c.hash_header && (c.hash_header < (const char *)data || c.hash_header + c.hash_header_len > (const char *)data + size))
		__builtin_trap();
	integrity_clearsign_release(&c);
	return 0;
}
