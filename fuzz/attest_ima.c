/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the IMA list parsers (first byte: 0 binary, else ASCII): parsed
 * fields lie inside the list's bytes and an accepted list replays. */
#include "attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct attest_ima *l = NULL;
	int rc = data[0] == 0 ? attest_ima_parse(data + 1, size - 1, &l, NULL)
			      : attest_ima_parse_ascii((const char *)data + 1, size - 1, &l, NULL);
	if (rc < 0)
		return 0;
	size_t n = attest_ima_count(l);
	const uint8_t *base = attest_ima_bytes(l);
	for (size_t i = 0; i < n; i++) {
		const struct attest_ima_entry *en = attest_ima_entry(l, i);
		if (en->pcr >= ATTEST_PCR_COUNT || strlen(en->template_name) == 0)
			__builtin_trap();
		/* touch every byte the entry points at (ASan checks the bounds) */
		volatile uint8_t x = 0;
		for (size_t k = 0; k < en->data_len; k++)
			x = (uint8_t)(x ^ base[en->data_off + k]);
		for (size_t k = 0; k < en->path_len; k++)
			x = (uint8_t)(x ^ base[en->path_off + k]);
		for (size_t k = 0; k < en->digest_len; k++)
			x = (uint8_t)(x ^ base[en->digest_off + k]);
		for (size_t k = 0; k < en->sig_len; k++)
			x = (uint8_t)(x ^ base[en->sig_off + k]);
	}
	struct attest_pcrs st;
	memset(&st, 0, sizeof(st));
	attest_pcrs_bank(&st, ATTEST_ALG_SHA1, true)->mask = 0xffffff;
	attest_pcrs_bank(&st, ATTEST_ALG_SHA256, true)->mask = 0xffffff;
	for (size_t k = 0; k < st.nbanks; k++)
		for (unsigned i = 0; i < ATTEST_PCR_COUNT; i++)
			attest_pcr_initial(st.bank[k].alg, i, st.bank[k].pcr[i]);
	if (attest_ima_replay(l, 0, &st, NULL) < 0)
		__builtin_trap();
	/* replay must agree with itself: verify against its own result */
	if (n && attest_ima_verify(l, &st, NULL) < 0)
		__builtin_trap();
	attest_ima_free(l);
	return 0;
}
