/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the DSSE envelope parser and, through it, the image-metadata
 * parser: a parsed envelope must serialise and parse back to the same
 * envelope, and parsed metadata must serialise to text that parses. */
#include "integrity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct integrity_dsse d, d2;
	if (integrity_dsse_parse((const char *)data, size, &d, NULL) < 0)
		return 0;
	struct buf b = BUF_INIT;
	integrity_dsse_serialise(&d, &b);
	if (integrity_dsse_parse(b.p, b.len, &d2, NULL) < 0)
		__builtin_trap();
	if (d.payload_len != d2.payload_len || memcmp(d.payload, d2.payload, d.payload_len) != 0 ||
	    d.nsigs != d2.nsigs || strcmp(d.payload_type, d2.payload_type) != 0)
		__builtin_trap();
	for (size_t i = 0; i < d.nsigs; i++)
		if (d.sigs[i].sig_len != d2.sigs[i].sig_len || memcmp(d.sigs[i].sig, d2.sigs[i].sig, d.sigs[i].sig_len) ||
		    strcmp(d.sigs[i].keyid, d2.sigs[i].keyid))
			__builtin_trap();
	struct integrity_metadata md, md2;
	if (integrity_metadata_parse((const char *)d.payload, d.payload_len, &md, NULL) == 0) {
		struct buf j = BUF_INIT;
		integrity_metadata_json(&md, &j);
		if (integrity_metadata_parse(j.p, j.len, &md2, NULL) < 0 || md2.n != md.n)
			__builtin_trap();
		integrity_metadata_release(&md2);
		integrity_metadata_release(&md);
		buf_release(&j);
	}
	integrity_dsse_release(&d);
	integrity_dsse_release(&d2);
	buf_release(&b);
	return 0;
}
