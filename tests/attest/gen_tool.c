/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest_gen: synthetic evidence for the CLI tests and the benchmark.
 *   attest_gen evlog OUT [secureboot|nosecureboot] [APPS] [APP_SEED] [CMDLINE]
 *   attest_gen ima OUT COUNT [ASCII_OUT]
 *   attest_gen extend-evlog FILE   measured events into the TPM ($ARCA_TPM_TCTI)
 *   attest_gen extend-ima FILE     every entry into its PCR, sha1 and sha256 banks
 */
#include "attest.h"
#include "gen.h"

static int die(const char *what, const struct arca_err *e)
{
	fprintf(stderr, "attest_gen: %s: %s\n", what, e ? err_msg(e) : "failed");
	return 1;
}

static int save(const char *path, const struct buf *b)
{
	struct arca_err e = { 0 };
	return file_write_atomic(path, b->p, b->len, 0644, &e) < 0 ? die(path, &e) : 0;
}

static int extend_evlog(struct attest_tpm *t, const char *path)
{
	struct buf b = BUF_INIT;
	struct arca_err e = { 0 };
	struct attest_evlog *l = NULL;
	if (file_read_all(path, ATTEST_EVLOG_MAX_BYTES, &b, &e) < 0 ||
	    attest_evlog_parse((const uint8_t *)b.p, b.len, &l, &e) < 0)
		return die(path, &e);
	for (size_t i = 0; i < attest_evlog_count(l); i++) {
		const struct attest_event *ev = attest_evlog_event(l, i);
		if (ev->type == ATTEST_EV_NO_ACTION)
			continue;
		struct attest_pcrs d;
		memset(&d, 0, sizeof(d));
		for (size_t k = 0; k < ev->ndigests; k++) {
			struct attest_bank *bk = attest_pcrs_bank(&d, ev->digest[k].alg, true);
			if (!bk)
				continue;
			bk->mask = 1u << ev->pcr;
			memcpy(bk->pcr[ev->pcr], ev->digest[k].d, attest_alg_size(bk->alg));
		}
		if (attest_tpm_pcr_extend(t, ev->pcr, &d, &e) < 0)
			return die("extend", &e);
	}
	attest_evlog_free(l);
	buf_release(&b);
	return 0;
}

/* Replays each entry into a scratch state to learn what the kernel would
 * extend, then extends exactly that into the TPM. */
static int extend_ima(struct attest_tpm *t, const char *path)
{
	struct buf b = BUF_INIT;
	struct arca_err e = { 0 };
	struct attest_ima *l = NULL;
	if (file_read_all(path, ATTEST_IMA_MAX_BYTES, &b, &e) < 0 ||
	    attest_ima_parse((const uint8_t *)b.p, b.len, &l, &e) < 0)
		return die(path, &e);
	for (size_t i = 0; i < attest_ima_count(l); i++) {
		const struct attest_ima_entry *en = attest_ima_entry(l, i);
		struct attest_pcrs d;
		memset(&d, 0, sizeof(d));
		struct attest_bank *b1 = attest_pcrs_bank(&d, ATTEST_ALG_SHA1, true);
		struct attest_bank *b2 = attest_pcrs_bank(&d, ATTEST_ALG_SHA256, true);
		b1->mask = b2->mask = 1u << en->pcr;
		if (en->violation) {
			memset(b1->pcr[en->pcr], 0xff, 20);
			memset(b2->pcr[en->pcr], 0xff, 32);
		} else {
			memcpy(b1->pcr[en->pcr], en->template_digest, 20);
			if (!strcmp(en->template_name, "ima")) {
				uint8_t buf[20 + 256] = { 0 };
				memcpy(buf, attest_ima_bytes(l) + en->digest_off, 20);
				memcpy(buf + 20, attest_ima_bytes(l) + en->path_off, en->path_len);
				gen_sha("sha256", buf, sizeof(buf), b2->pcr[en->pcr]);
			} else {
				gen_sha("sha256", attest_ima_bytes(l) + en->data_off, en->data_len, b2->pcr[en->pcr]);
			}
		}
		if (attest_tpm_pcr_extend(t, en->pcr, &d, &e) < 0)
			return die("extend", &e);
	}
	attest_ima_free(l);
	buf_release(&b);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: attest_gen evlog|ima|extend-evlog|extend-ima ...\n");
		return 2;
	}
	struct buf b = BUF_INIT, a = BUF_INIT;
	int rc = 0;
	if (!strcmp(argv[1], "evlog")) {
		struct gen_evlog_opts o = { .secureboot = argc < 4 || strcmp(argv[3], "nosecureboot") != 0,
					    .boot_apps = argc > 4 ? (unsigned)atoi(argv[4]) : 2,
					    .app_seed = argc > 5 ? (uint8_t)atoi(argv[5]) : 0,
					    .cmdline = argc > 6 ? argv[6] : "root=/dev/vda1 ro quiet" };
		gen_evlog(&b, &o);
		rc = save(argv[2], &b);
	} else if (!strcmp(argv[1], "ima") && argc >= 4) {
		uint8_t p1[20], p256[32];
		gen_ima_list((size_t)strtoul(argv[3], NULL, 10), &b, &a, p1, p256);
		rc = save(argv[2], &b);
		if (rc == 0 && argc > 4)
			rc = save(argv[4], &a);
	} else if (!strcmp(argv[1], "extend-evlog") || !strcmp(argv[1], "extend-ima")) {
		struct attest_tpm *t = NULL;
		struct arca_err e = { 0 };
		if (attest_tpm_open(NULL, &t, &e) < 0)
			return die("TPM", &e);
		rc = argv[1][7] == 'e' ? extend_evlog(t, argv[2]) : extend_ima(t, argv[2]);
		attest_tpm_close(t);
	} else {
		fprintf(stderr, "attest_gen: unknown mode '%s'\n", argv[1]);
		rc = 2;
	}
	buf_release(&b);
	buf_release(&a);
	return rc;
}
