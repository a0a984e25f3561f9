/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the TPM structure decoders. First byte selects: 0 TPMS_ATTEST,
 * 1 TPMT_SIGNATURE, 2 TPM2B_PUBLIC, 3 tpm2-tools PCR file, 4 quote JSON.
 * Accepted structures must round-trip where a writer exists.
 */
#include "attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	switch (data[0] % 5) {
	case 0: {
		struct attest_tpms t;
		if (attest_tpms_decode(p, n, &t, NULL) == 0 &&
		    (t.magic != ATTEST_TPM_GENERATED || t.nsel > ATTEST_BANK_MAX || t.extra_len > ATTEST_NONCE_MAX))
			__builtin_trap();
		break;
	}
	case 1: {
		struct attest_sig s;
		if (attest_sig_decode(p, n, &s, NULL) == 0 && s.sig_len + s.r_len + s.s_len > n)
			__builtin_trap();
		break;
	}
	case 2: {
		struct attest_pub *k = NULL;
		if (attest_pub_decode(p, n, &k, NULL) == 0) {
			size_t nl;
			attest_pub_name(k, &nl);
			if (nl < 2)
				__builtin_trap();
			(void)attest_pub_check_ak(k, NULL);
			attest_pub_free(k);
		}
		break;
	}
	case 3: {
		struct attest_quote q;
		attest_quote_init(&q);
		(void)attest_quote_pcrfile_read(p, n, &q, NULL);
		attest_quote_release(&q);
		break;
	}
	default: {
		struct attest_quote q, q2;
		attest_quote_init(&q);
		attest_quote_init(&q2);
		if (attest_quote_from_json((const char *)p, n, &q, NULL) == 0) {
			struct buf b = BUF_INIT;
			if (attest_quote_to_json(&q, &b) < 0 || attest_quote_from_json(b.p, b.len, &q2, NULL) < 0 ||
			    q2.attest.len != q.attest.len || memcmp(q2.attest.p, q.attest.p, q.attest.len) ||
			    q2.signature.len != q.signature.len)
				__builtin_trap();
			buf_release(&b);
		}
		attest_quote_release(&q);
		attest_quote_release(&q2);
		break;
	}
	}
	return 0;
}
