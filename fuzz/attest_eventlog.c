/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the crypto-agile event log parser, replay and extraction: an
 * accepted log replays, its events lie inside the input, and its facts
 * serialise. */
#include "attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attest_evlog *l = NULL;
	if (attest_evlog_parse(data, size, &l, NULL) < 0)
		return 0;
	size_t total = 0;
	for (size_t i = 0; i < attest_evlog_count(l); i++) {
		const struct attest_event *ev = attest_evlog_event(l, i);
		if (ev->pcr >= ATTEST_PCR_COUNT || ev->offset >= size || ev->len > size)
			__builtin_trap();
		total += ev->len;
	}
	if (total > size)
		__builtin_trap();
	struct attest_pcrs p;
	if (attest_evlog_replay(l, &p, NULL) < 0)
		__builtin_trap();
	struct val *info = NULL;
	if (attest_evlog_info(l, &info, NULL) == 0) {
		struct buf b = BUF_INIT;
		val_to_json(info, &b, 0);
		buf_release(&b);
		val_unref(info);
	}
	attest_evlog_free(l);
	return 0;
}
