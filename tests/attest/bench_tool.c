/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest_bench: the in-process numbers for bench/attest/verify.sh.
 *   attest_bench verify QUOTE.json AK.pub NONCE_HEX N
 *       N times: decode the quote JSON and the AK, verify; prints us/op
 *   attest_bench replay IMA QUOTE.json RUNS
 *       parse + replay + compare the IMA list with the quote's PCR 10;
 *       best of RUNS, prints ms (and parse / replay separately)
 */
#include "attest.h"

#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int fail(const char *what, const struct arca_err *e)
{
	fprintf(stderr, "attest_bench: %s: %s\n", what, err_msg(e));
	return 1;
}

static int bench_verify(char **argv)
{
	struct buf qj = BUF_INIT, pub = BUF_INIT;
	struct arca_err e = { 0 };
	uint8_t nonce[ATTEST_NONCE_MAX];
	size_t nl;
	if (file_read_all(argv[2], 1u << 20, &qj, &e) < 0 || file_read_all(argv[3], 1u << 16, &pub, &e) < 0)
		return fail("read", &e);
	if (hex_decode(argv[4], strlen(argv[4]), nonce, sizeof(nonce), &nl) < 0)
		return fail("nonce", &e);
	long n = atol(argv[5]);
	double t0 = now_ms();
	for (long i = 0; i < n; i++) {
		struct attest_quote q;
		struct attest_pub *ak = NULL;
		attest_quote_init(&q);
		struct attest_verify_opts o = { .nonce = nonce, .nonce_len = nl };
		if (attest_quote_from_json(qj.p, qj.len, &q, &e) < 0 ||
		    attest_pub_decode((const uint8_t *)pub.p, pub.len, &ak, &e) < 0 ||
		    attest_quote_verify(&q, ak, &o, NULL, &e) < 0)
			return fail("verify", &e);
		attest_pub_free(ak);
		attest_quote_release(&q);
	}
	double t = now_ms() - t0;
	printf("%.1f\n", t * 1e3 / (double)n);
	buf_release(&qj);
	buf_release(&pub);
	return 0;
}

static int bench_replay(char **argv)
{
	struct buf raw = BUF_INIT, qj = BUF_INIT;
	struct arca_err e = { 0 };
	struct attest_quote q;
	attest_quote_init(&q);
	if (file_read_all(argv[2], ATTEST_IMA_MAX_BYTES, &raw, &e) < 0 || file_read_all(argv[3], 1u << 20, &qj, &e) < 0 ||
	    attest_quote_from_json(qj.p, qj.len, &q, &e) < 0)
		return fail("read", &e);
	int runs = atoi(argv[4]);
	double best = 1e30, best_parse = 1e30, best_replay = 1e30;
	size_t count = 0;
	for (int r = 0; r < runs; r++) {
		struct attest_ima *l = NULL;
		double t0 = now_ms();
		if (attest_ima_parse((const uint8_t *)raw.p, raw.len, &l, &e) < 0)
			return fail("parse", &e);
		double t1 = now_ms();
		if (attest_ima_verify(l, &q.pcrs, &e) < 0)
			return fail("replay", &e);
		double t2 = now_ms();
		count = attest_ima_count(l);
		attest_ima_free(l);
		if (t2 - t0 < best)
			best = t2 - t0;
		if (t1 - t0 < best_parse)
			best_parse = t1 - t0;
		if (t2 - t1 < best_replay)
			best_replay = t2 - t1;
	}
	printf("%zu %.2f %.2f %.2f\n", count, best, best_parse, best_replay);
	attest_quote_release(&q);
	buf_release(&raw);
	buf_release(&qj);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "verify"))
		return bench_verify(argv);
	if (argc == 5 && !strcmp(argv[1], "replay"))
		return bench_replay(argv);
	fprintf(stderr, "usage: attest_bench verify QUOTE AK NONCE N | replay IMA QUOTE RUNS\n");
	return 2;
}
