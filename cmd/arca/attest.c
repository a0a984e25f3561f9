/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca attest status|ek|ak|credential|activate|quote|verify|refstate|check:
 * host integrity from the TPM, the measured-boot event log and the IMA
 * list. The TPM is reached through the TCTI in --tcti, $ARCA_TPM_TCTI or
 * device:/dev/tpmrm0.
 */
#include "attest.h"
#include "cmd.h"

#include <sys/stat.h>
#include <openssl/rand.h>

#define FILE_MAX (64u << 10)

static const char *tcti_opt;

static int read_file(const char *path, size_t max, struct buf *b)
{
	struct arca_err e = { 0 };
	if (file_read_all(path, max, b, &e) < 0) {
		cmd_error("%s", err_msg(&e));
		return -1;
	}
	return 0;
}

static int write_file(const char *path, const void *p, size_t n)
{
	struct arca_err e = { 0 };
	if (file_write_atomic(path, p, n, 0644, &e) < 0) {
		cmd_error("%s", err_msg(&e));
		return -1;
	}
	return 0;
}

static int parse_nonce(const char *s, uint8_t *out, size_t *len)
{
	size_t n = strlen(s);
	if (n == 0 || n % 2 || n / 2 > ATTEST_NONCE_MAX || hex_decode(s, n, out, ATTEST_NONCE_MAX, len) < 0) {
		cmd_error("--nonce: expected 2..%u hex digits, got '%s'", 2 * ATTEST_NONCE_MAX, s);
		return -1;
	}
	return 0;
}

static int print_json(const struct val *v)
{
	struct buf b = BUF_INIT;
	val_to_json(v, &b, JSON_PRETTY);
	buf_addch(&b, '\n');
	int rc = cmd_out(&b);
	buf_release(&b);
	return rc;
}

static int open_tpm(struct attest_tpm **t)
{
	struct arca_err e = { 0 };
	if (attest_tpm_open(tcti_opt, t, &e) < 0) {
		cmd_error("%s", err_msg(&e));
		return -1;
	}
	return 0;
}

/* Host evidence files: NULL when absent (on a host without them). */
static int load_evlog(const char *path, bool required, struct attest_evlog **out)
{
	struct arca_err e = { 0 };
	if (attest_evlog_load(path, required, out, &e) < 0) {
		cmd_error("%s", err_msg(&e));
		return -1;
	}
	return 0;
}

static int load_ima(const char *path, bool required, struct attest_ima **out)
{
	struct arca_err e = { 0 };
	if (attest_ima_load(path, required, out, &e) < 0) {
		cmd_error("%s", err_msg(&e));
		return -1;
	}
	return 0;
}

static int load_json(const char *path, struct val **out)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct arca_err e = { 0 };
	if (read_file(path, 64u << 20, &b) < 0)
		return -1;
	struct json_limits lim = json_limits_default;
	lim.max_depth = 32;
	if (val_from_json(b.p, b.len, &lim, out, &e) < 0) {
		cmd_error("'%s': %s", path, err_msg(&e));
		return -1;
	}
	return 0;
}

static int load_quote(const char *path, struct attest_quote *q)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct arca_err e = { 0 };
	if (read_file(path, 1u << 20, &b) < 0)
		return -1;
	if (attest_quote_from_json(b.p, b.len, q, &e) < 0) {
		cmd_error("'%s': %s", path, err_msg(&e));
		return -1;
	}
	return 0;
}

/* The tpm2-tools triple: message, signature, PCR file. */
static int load_quote_files(const char *msg, const char *sig, const char *pcrs, struct attest_quote *q)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct arca_err e = { 0 };
	if (read_file(msg, ATTEST_TPMS_MAX_BYTES, &q->attest) < 0 || read_file(sig, FILE_MAX, &q->signature) < 0 ||
	    read_file(pcrs, FILE_MAX, &b) < 0)
		return -1;
	if (attest_quote_pcrfile_read((const uint8_t *)b.p, b.len, q, &e) < 0) {
		cmd_error("'%s': %s", pcrs, err_msg(&e));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ status */

static int do_status(int argc, char **argv)
{
	static const char usage[] = "usage: arca attest status [--json] [--tcti T] [--eventlog F] [--ima F] [--efivars DIR] [--lockdown F]\n";
	struct attest_host h = { 0 };
	bool json = false;
	const struct cmd_opt opts[] = {
		CMD_OPT_FLAG("json", &json),
		CMD_OPT_STR("tcti", &tcti_opt),
		CMD_OPT_STR("eventlog", &h.eventlog),
		CMD_OPT_STR("ima", &h.ima),
		CMD_OPT_STR("efivars", &h.efivars),
		CMD_OPT_STR("lockdown", &h.lockdown),
	};
	int rc_opt = cmd_getopt(argc, argv, opts, ARRAY_SIZE(opts), usage);
	if (rc_opt >= 0)
		return rc_opt;
	h.tcti = tcti_opt;
	struct val *s = NULL;
	struct arca_err e = { 0 };
	if (attest_status(&h, &s, &e) < 0)
		return cmd_fail(&e, -ENOMEM, "status");
	int rc = 0;
	if (json) {
		rc = print_json(s);
	} else {
		static const char *const parts[] = { "tpm", "eventlog", "ima", "secureboot", "lockdown" };
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
			const struct val *p = val_object_get_cstr(s, parts[i]);
			const char *st = val_str(val_object_get_cstr(p, "status"));
			buf_addf(&b, "%-11s %s", parts[i], st);
			const struct val *v;
			int64_t n;
			if ((v = val_object_get_cstr(p, "tcti")))
				buf_addf(&b, " (%s)", val_str(v));
			if (val_get_int(val_object_get_cstr(p, "events"), &n))
				buf_addf(&b, ", %" PRId64 " events", n);
			if (val_get_int(val_object_get_cstr(p, "entries"), &n))
				buf_addf(&b, ", %" PRId64 " entries", n);
			if ((v = val_object_get_cstr(p, "enabled")))
				buf_addf(&b, ", %s", v->b ? "enabled" : "disabled");
			if ((v = val_object_get_cstr(p, "setup_mode")) && v->b)
				buf_addstr(&b, ", setup mode");
			if ((v = val_object_get_cstr(p, "mode")))
				buf_addf(&b, ", %s", val_str(v));
			if ((v = val_object_get_cstr(p, "reason")))
				buf_addf(&b, ": %s", val_str(v));
			buf_addch(&b, '\n');
		}
		rc = cmd_out(&b);
		buf_release(&b);
	}
	val_unref(s);
	return rc;
}

/* ------------------------------------------------------------- EK and AK */

static int do_ek(int argc, char **argv)
{
	static const char usage[] = "usage: arca attest ek [--ecc] [--pub FILE] [--pem FILE] [--cert FILE] [--tcti T]\n";
	bool ecc = false;
	const char *pub = NULL, *pem = NULL, *cert = NULL;
	const struct cmd_opt opts[] = {
		CMD_OPT_FLAG("ecc", &ecc),
		CMD_OPT_STR("pub", &pub),
		CMD_OPT_STR("pem", &pem),
		CMD_OPT_STR("cert", &cert),
		CMD_OPT_STR("tcti", &tcti_opt),
	};
	int rc_opt = cmd_getopt(argc, argv, opts, ARRAY_SIZE(opts), usage);
	if (rc_opt >= 0)
		return rc_opt;
	_cleanup_(attest_tpm_closep) struct attest_tpm *t = NULL;
	if (open_tpm(&t) < 0)
		return 1;
	_cleanup_buf_ struct buf b = BUF_INIT;
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct arca_err e = { 0 };
	if (attest_tpm_ek_public(t, ecc, &b, &e) < 0)
		return cmd_fail(&e, e.code, "EK");
	_cleanup_(attest_pub_freep) struct attest_pub *k = NULL;
	if (attest_pub_decode((const uint8_t *)b.p, b.len, &k, &e) < 0 || attest_pub_pem(k, &p) < 0)
		return cmd_fail(&e, -EIO, "EK");
	if (pub && write_file(pub, b.p, b.len) < 0)
		return 1;
	if (pem && write_file(pem, p.p, p.len) < 0)
		return 1;
	if (cert) {
		_cleanup_buf_ struct buf der = BUF_INIT;
		if (attest_tpm_ek_cert(t, ecc, &der, &e) < 0)
			return cmd_fail(&e, e.code, "EK certificate");
		if (write_file(cert, der.p, der.len) < 0)
			return 1;
	}
	if (!pub && !pem)
		return cmd_out(&p);
	return 0;
}

static int do_ak(int argc, char **argv)
{
	static const char usage[] =
		"usage: arca attest ak --key FILE --pub FILE [--pem FILE] [--ecc] [--tcti T]\n"
		"Creates an attestation key under the EK; --key is the TPM-wrapped key file,\n"
		"--pub its TPM2B_PUBLIC (for verifiers and tpm2_checkquote).\n";
	bool ecc = false;
	const char *key = NULL, *pub = NULL, *pem = NULL;
	const struct cmd_opt opts[] = {
		CMD_OPT_FLAG("ecc", &ecc),
		CMD_OPT_STR("key", &key),
		CMD_OPT_STR("pub", &pub),
		CMD_OPT_STR("pem", &pem),
		CMD_OPT_STR("tcti", &tcti_opt),
	};
	int rc_opt = cmd_getopt(argc, argv, opts, ARRAY_SIZE(opts), usage);
	if (rc_opt >= 0)
		return rc_opt;
	if (!key || !pub) {
		cmd_error("ak: --key and --pub are required");
		return EXIT_USAGE;
	}
	_cleanup_(attest_tpm_closep) struct attest_tpm *t = NULL;
	if (open_tpm(&t) < 0)
		return 1;
	_cleanup_buf_ struct buf blob = BUF_INIT;
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct arca_err e = { 0 };
	if (attest_tpm_ak_create(t, ecc, &blob, &p, &e) < 0)
		return cmd_fail(&e, e.code, "AK");
	if (write_file(key, blob.p, blob.len) < 0 || write_file(pub, p.p, p.len) < 0)
		return 1;
	if (pem) {
		_cleanup_(attest_pub_freep) struct attest_pub *k = NULL;
		_cleanup_buf_ struct buf pm = BUF_INIT;
		if (attest_pub_decode((const uint8_t *)p.p, p.len, &k, &e) < 0 || attest_pub_pem(k, &pm) < 0)
			return cmd_fail(&e, -EIO, "AK");
		if (write_file(pem, pm.p, pm.len) < 0)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ credentials */

static int do_credential(int argc, char **argv)
{
	static const char usage[] =
		"usage: arca attest credential --ek ek.pub --ak ak.pub --secret HEX [-o FILE]\n"
		"Wraps SECRET so only the TPM holding both the EK and the AK can recover it\n"
		"(TPM2_MakeCredential, computed without a TPM).\n";
	const char *ekp = NULL, *akp = NULL, *sec = NULL, *outp = NULL;
	const struct cmd_opt opts[] = {
		CMD_OPT_STR("ek", &ekp),
		CMD_OPT_STR("ak", &akp),
		CMD_OPT_STR("secret", &sec),
		CMD_OPT_STRC("out", 'o', &outp),
	};
	int rc_opt = cmd_getopt(argc, argv, opts, ARRAY_SIZE(opts), usage);
	if (rc_opt >= 0)
		return rc_opt;
	if (!ekp || !akp || !sec) {
		cmd_error("credential: --ek, --ak and --secret are required");
		return EXIT_USAGE;
	}
	uint8_t secret[ATTEST_NONCE_MAX];
	size_t sl;
	if (parse_nonce(sec, secret, &sl) < 0)
		return EXIT_USAGE;
	struct arca_err e = { 0 };
	_cleanup_(attest_pub_freep) struct attest_pub *ek = NULL;
	_cleanup_(attest_pub_freep) struct attest_pub *ak = NULL;
	if (attest_pub_load(ekp, &ek, &e) < 0 || attest_pub_load(akp, &ak, &e) < 0)
		return cmd_fail(&e, e.code, "credential");
	if (attest_pub_check_ak(ak, &e) < 0)
		return cmd_fail(&e, e.code, "credential");
	size_t nl;
	const uint8_t *name = attest_pub_name(ak, &nl);
	_cleanup_buf_ struct buf id = BUF_INIT;
	_cleanup_buf_ struct buf es = BUF_INIT;
	if (attest_make_credential(ek, name, nl, secret, sl, &id, &es, &e) < 0)
		return cmd_fail(&e, e.code, "credential");
	secure_wipe(secret, sizeof(secret));
	_cleanup_buf_ struct buf j = BUF_INIT;
	char *h1 = malloc(2 * id.len + 1), *h2 = malloc(2 * es.len + 1);
	if (!h1 || !h2) {
		free(h1);
		free(h2);
		cmd_error("out of memory");
		return 1;
	}
	hex_encode((const uint8_t *)id.p, id.len, h1);
	hex_encode((const uint8_t *)es.p, es.len, h2);
	buf_addf(&j, "{\n  \"id_object\": \"%s\",\n  \"encrypted_secret\": \"%s\"\n}\n", h1, h2);
	free(h1);
	free(h2);
	if (outp)
		return write_file(outp, j.p, j.len) < 0;
	return cmd_out(&j);
}

static int hex_member(const struct val *o, const char *k, struct buf *out)
{
	const char *s = val_str(val_object_get_cstr(o, k));
	size_t n = s ? strlen(s) : 1, got;
	if (!s || n % 2 || n / 2 > 4096 || !buf_grow(out, n / 2) || hex_decode(s, n, (uint8_t *)out->p, n / 2, &got) < 0) {
		cmd_error("credential file: \"%s\" missing or not hex", k);
		return -1;
	}
	out->len = got;
	return 0;
}

static int do_activate(int argc, char **argv)
{
	static const char usage[] = "usage: arca attest activate --key ak.key --credential FILE [--ecc-ek] [--tcti T]\n";
	const char *key = NULL, *cred = NULL;
	bool ecc = false;
	const struct cmd_opt opts[] = {
		CMD_OPT_STR("key", &key),
		CMD_OPT_STR("credential", &cred),
		CMD_OPT_FLAG("ecc-ek", &ecc),
		CMD_OPT_STR("tcti", &tcti_opt),
	};
	int rc_opt = cmd_getopt(argc, argv, opts, ARRAY_SIZE(opts), usage);
	if (rc_opt >= 0)
		return rc_opt;
	if (!key || !cred) {
		cmd_error("activate: --key and --credential are required");
		return EXIT_USAGE;
	}
	_cleanup_buf_ struct buf blob = BUF_INIT;
	_cleanup_buf_ struct buf id = BUF_INIT;
	_cleanup_buf_ struct buf es = BUF_INIT;
	_cleanup_buf_ struct buf out = BUF_INIT;
	_cleanup_val_ struct val *j = NULL;
	if (read_file(key, FILE_MAX, &blob) < 0 || load_json(cred, &j) < 0 || hex_member(j, "id_object", &id) < 0 ||
	    hex_member(j, "encrypted_secret", &es) < 0)
		return 1;
	_cleanup_(attest_tpm_closep) struct attest_tpm *t = NULL;
	if (open_tpm(&t) < 0)
		return 1;
	struct arca_err e = { 0 };
	if (attest_tpm_activate(t, ecc, (const uint8_t *)blob.p, blob.len, (const uint8_t *)id.p, id.len,
				(const uint8_t *)es.p, es.len, &out, &e) < 0)
		return cmd_fail(&e, e.code, "activate");
	char hex[2 * ATTEST_DIGEST_MAX + 1];
	hex_encode((const uint8_t *)out.p, out.len < ATTEST_DIGEST_MAX ? out.len : ATTEST_DIGEST_MAX, hex);
	printf("%s\n", hex);
	secure_wipe(out.p, out.len);
	return 0;
}

/* ------------------------------------------------------------------ quote */

/* Creates the default AK (key file, TPM2B_PUBLIC and PEM beside it). */
static int create_default_key(const char *key)
{
	_cleanup_free_ char *dir = strdup(key);
	if (!dir)
		return -1;
	*strrchr(dir, '/') = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			cmd_error("cannot create '%s': %s", dir, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		cmd_error("cannot create '%s': %s", dir, strerror(errno));
		return -1;
	}
	_cleanup_(attest_tpm_closep) struct attest_tpm *t = NULL;
	if (open_tpm(&t) < 0)
		return -1;
	_cleanup_buf_ struct buf blob = BUF_INIT;
	_cleanup_buf_ struct buf pub = BUF_INIT;
	_cleanup_buf_ struct buf pem = BUF_INIT;
	_cleanup_buf_ struct buf path = BUF_INIT;
	_cleanup_(attest_pub_freep) struct attest_pub *k = NULL;
	struct arca_err e = { 0 };
	if (attest_tpm_ak_create(t, false, &blob, &pub, &e) < 0 ||
	    attest_pub_decode((const uint8_t *)pub.p, pub.len, &k, &e) < 0 || attest_pub_pem(k, &pem) < 0) {
		cmd_fail(&e, e.code ? e.code : -EIO, "AK");
		return -1;
	}
	buf_addf(&path, "%s/ak.pub", dir);
	if (write_file(path.p, pub.p, pub.len) < 0)
		return -1;
	buf_reset(&path);
	buf_addf(&path, "%s/ak.pem", dir);
	if (write_file(path.p, pem.p, pem.len) < 0 || write_file(key, blob.p, blob.len) < 0)
		return -1;
	cmd_warn("created the attestation key '%s' (public part: %s/ak.pub)", key, dir);
	return 0;
}


static int take_quote(const char *key, const char *sel_s, const uint8_t *nonce, size_t nl, struct attest_quote *q)
{
	struct attest_pcrs sel;
	struct arca_err e = { 0 };
	if (attest_pcrsel_parse(sel_s, &sel, &e) < 0) {
		cmd_error("--pcrs: %s", err_msg(&e));
		return -1;
	}
	_cleanup_(attest_tpm_closep) struct attest_tpm *t = NULL;
	if (open_tpm(&t) < 0)
		return -1;
	_cleanup_buf_ struct buf blob = BUF_INIT;
	if (read_file(key, ATTEST_AK_FILE_MAX, &blob) < 0)
		return -1;
	if (attest_tpm_quote(t, (const uint8_t *)blob.p, blob.len, &sel, nonce, nl, q, &e) < 0) {
		cmd_fail(&e, e.code, "quote");
		return -1;
	}
	return 0;
}

static int do_quote(int argc, char **argv)
{
	static const char usage[] =
		"usage: arca attest quote --nonce HEX [--key ak.key] [--pcrs sha256:0-10] [-o quote.json]\n"
		"                         [--message F --signature F --pcr-file F] [--tcti T]\n"
		"The tpm2-tools files (TPMS_ATTEST, TPMT_SIGNATURE, serialized PCRs) are what\n"
		"tpm2_checkquote -m -s -f reads. Without --key, the AK in $ARCA_ATTEST_DIR\n"
		"(default ~/.config/arca/attest) is used, and created there on first use.\n";
	const char *nonce_s = NULL, *sel = "sha256:0-10", *key = NULL, *outp = NULL, *msg = NULL, *sig = NULL,
		   *pf = NULL;
	const struct cmd_opt opts[] = {
		CMD_OPT_STR("nonce", &nonce_s),
		CMD_OPT_STR("pcrs", &sel),
		CMD_OPT_STR("key", &key),
		CMD_OPT_STRC("out", 'o', &outp),
		CMD_OPT_STR("message", &msg),
		CMD_OPT_STR("signature", &sig),
		CMD_OPT_STR("pcr-file", &pf),
		CMD_OPT_STR("tcti", &tcti_opt),
	};
	int rc_opt = cmd_getopt(argc, argv, opts, ARRAY_SIZE(opts), usage);
	if (rc_opt >= 0)
		return rc_opt;
	uint8_t nonce[ATTEST_NONCE_MAX];
	size_t nl;
	if (!nonce_s) {
		cmd_error("quote: --nonce is required");
		return EXIT_USAGE;
	}
	_cleanup_buf_ struct buf defkey = BUF_INIT;
	if (!key) {
		if (attest_default_ak_path(&defkey) < 0) {
			cmd_error("quote: no --key and no home directory (set ARCA_ATTEST_DIR)");
			return EXIT_USAGE;
		}
		key = defkey.p;
		if (access(key, F_OK) < 0 && create_default_key(key) < 0)
			return 1;
	}
	if (parse_nonce(nonce_s, nonce, &nl) < 0)
		return EXIT_USAGE;
	struct attest_quote q;
	attest_quote_init(&q);
	int rc = 1;
	struct arca_err e = { 0 };
	struct attest_tpms t;
	_cleanup_buf_ struct buf j = BUF_INIT;
	if (take_quote(key, sel, nonce, nl, &q) < 0)
		goto out;
	if (attest_quote_to_json(&q, &j) < 0)
		goto out;
	if (outp ? write_file(outp, j.p, j.len) < 0 : (!msg && cmd_out(&j) != 0))
		goto out;
	if (msg && write_file(msg, q.attest.p, q.attest.len) < 0)
		goto out;
	if (sig && write_file(sig, q.signature.p, q.signature.len) < 0)
		goto out;
	if (pf) {
		_cleanup_buf_ struct buf b = BUF_INIT;
		if (attest_tpms_decode((const uint8_t *)q.attest.p, q.attest.len, &t, &e) < 0 ||
		    attest_quote_pcrfile_write(&q, &t, &b, &e) < 0) {
			cmd_fail(&e, e.code, "PCR file");
			goto out;
		}
		if (write_file(pf, b.p, b.len) < 0)
			goto out;
	}
	rc = 0;
out:
	attest_quote_release(&q);
	return rc;
}

/* ----------------------------------------------------------------- verify */

static int report_out(const struct val *r, bool json)
{
	if (json)
		return print_json(r);
	struct buf b = BUF_INIT;
	const struct val *v = val_object_get_cstr(r, "verified");
	buf_addf(&b, "%s\n", v && v->b ? "verified" : "NOT verified");
	const struct val *q = val_object_get_cstr(r, "quote");
	int64_t clock, reset, restart;
	if (q && val_get_int(val_object_get_cstr(q, "clock"), &clock) &&
	    val_get_int(val_object_get_cstr(q, "reset_count"), &reset) &&
	    val_get_int(val_object_get_cstr(q, "restart_count"), &restart))
		buf_addf(&b, "  quote: clock %" PRId64 ", resets %" PRId64 ", restarts %" PRId64 "\n", clock, reset, restart);
	const struct val *cs = val_object_get_cstr(r, "checks");
	for (size_t i = 0; cs && i < cs->arr.n; i++) {
		const struct val *c = cs->arr.items[i];
		const char *reason = val_str(val_object_get_cstr(c, "reason"));
		buf_addf(&b, "  %-24s %s%s%s\n", val_str(val_object_get_cstr(c, "name")),
			 val_str(val_object_get_cstr(c, "status")), reason ? ": " : "", reason ? reason : "");
	}
	int rc = cmd_out(&b);
	buf_release(&b);
	return rc;
}

static int do_verify(int argc, char **argv)
{
	static const char usage[] =
		"usage: arca attest verify --ak ak.pub --nonce HEX [--previous QUOTE] [--eventlog F]\n"
		"                          [--ima F] [--refstate F] [--json]\n"
		"                          (QUOTE | --message F --signature F --pcr-file F)\n"
		"No TPM needed. Exit 0 only when every requested check passed.\n";
	const char *akp = NULL, *nonce_s = NULL, *prev = NULL, *logp = NULL, *imap = NULL, *refp = NULL, *msg = NULL,
		   *sig = NULL, *pf = NULL;
	bool json = false;
	const struct cmd_opt opts[] = {
		CMD_OPT_STR("ak", &akp),
		CMD_OPT_STR("nonce", &nonce_s),
		CMD_OPT_STR("previous", &prev),
		CMD_OPT_STR("eventlog", &logp),
		CMD_OPT_STR("ima", &imap),
		CMD_OPT_STR("refstate", &refp),
		CMD_OPT_FLAG("json", &json),
		CMD_OPT_STR("message", &msg),
		CMD_OPT_STR("signature", &sig),
		CMD_OPT_STR("pcr-file", &pf),
	};
	int rc_opt = cmd_getopt(argc, argv, opts, ARRAY_SIZE(opts), usage);
	if (rc_opt >= 0)
		return rc_opt;
	bool triple = msg || sig || pf;
	if (!akp || !nonce_s || (triple ? (!msg || !sig || !pf || optind != argc) : optind + 1 != argc)) {
		cmd_error("verify: --ak, --nonce and one quote (a file, or --message/--signature/--pcr-file) are required");
		return EXIT_USAGE;
	}
	uint8_t nonce[ATTEST_NONCE_MAX];
	size_t nl;
	if (parse_nonce(nonce_s, nonce, &nl) < 0)
		return EXIT_USAGE;
	struct arca_err e = { 0 };
	_cleanup_(attest_pub_freep) struct attest_pub *ak = NULL;
	if (attest_pub_load(akp, &ak, &e) < 0)
		return cmd_fail(&e, e.code, "AK");
	struct attest_quote q, pq;
	attest_quote_init(&q);
	attest_quote_init(&pq);
	struct attest_tpms pt;
	_cleanup_(attest_evlog_freep) struct attest_evlog *log = NULL;
	_cleanup_(attest_ima_freep) struct attest_ima *ima = NULL;
	_cleanup_val_ struct val *ref = NULL;
	_cleanup_val_ struct val *r = NULL;
	int rc = 1;
	if (triple ? load_quote_files(msg, sig, pf, &q) < 0 : load_quote(argv[optind], &q) < 0)
		goto out;
	struct attest_verify_input in = { .quote = &q, .ak = ak, .opts = { .nonce = nonce, .nonce_len = nl } };
	if (prev) {
		/* the previous quote was accepted before: only its clock and
		 * nonce matter here, so decoding it is enough */
		if (load_quote(prev, &pq) < 0)
			goto out;
		if (attest_tpms_decode((const uint8_t *)pq.attest.p, pq.attest.len, &pt, &e) < 0) {
			cmd_fail(&e, e.code, "previous quote");
			goto out;
		}
		in.opts.previous = &pt;
	}
	if ((logp && load_evlog(logp, true, &log) < 0) || (imap && load_ima(imap, true, &ima) < 0) ||
	    (refp && load_json(refp, &ref) < 0))
		goto out;
	in.log = log;
	in.ima = ima;
	in.refstate = ref;
	int vr = attest_verify_report(&in, &r, &e);
	if (vr < 0 && vr != -EPERM) {
		cmd_fail(&e, vr, "verify");
		goto out;
	}
	rc = report_out(r, json);
	if (vr == -EPERM) {
		if (!json && !cmd_quiet)
			cmd_error("verification failed: %s", err_msg(&e));
		rc = 1;
	}
out:
	attest_quote_release(&q);
	attest_quote_release(&pq);
	return rc;
}

/* --------------------------------------------------------- refstate/check */

static int do_refstate(int argc, char **argv)
{
	static const char usage[] =
		"usage: arca attest refstate [--eventlog F] [--ima F] [--quote QUOTE | --pcrs SEL] [-o FILE]\n"
		"A reference state from this (known-good) host's current evidence; the logs\n"
		"default to the kernel's, the PCR values come from a quote or the local TPM.\n";
	const char *logp = NULL, *imap = NULL, *qp = NULL, *sel_s = NULL, *outp = NULL;
	const struct cmd_opt opts[] = {
		CMD_OPT_STR("eventlog", &logp),
		CMD_OPT_STR("ima", &imap),
		CMD_OPT_STR("quote", &qp),
		CMD_OPT_STR("pcrs", &sel_s),
		CMD_OPT_STRC("out", 'o', &outp),
		CMD_OPT_STR("tcti", &tcti_opt),
	};
	int rc_opt = cmd_getopt(argc, argv, opts, ARRAY_SIZE(opts), usage);
	if (rc_opt >= 0)
		return rc_opt;
	struct attest_host h = { 0 };
	_cleanup_(attest_evlog_freep) struct attest_evlog *log = NULL;
	_cleanup_(attest_ima_freep) struct attest_ima *ima = NULL;
	if (load_evlog(logp ? logp : attest_host_eventlog(&h), logp != NULL, &log) < 0 ||
	    load_ima(imap ? imap : attest_host_ima(&h), imap != NULL, &ima) < 0)
		return 1;
	struct attest_quote q;
	attest_quote_init(&q);
	bool have_pcrs = false;
	struct arca_err e = { 0 };
	int rc = 1;
	_cleanup_val_ struct val *ref = NULL;
	if (qp) {
		if (load_quote(qp, &q) < 0)
			goto out;
		have_pcrs = true;
	} else if (sel_s) {
		struct attest_pcrs sel;
		_cleanup_(attest_tpm_closep) struct attest_tpm *t = NULL;
		if (attest_pcrsel_parse(sel_s, &sel, &e) < 0) {
			cmd_error("--pcrs: %s", err_msg(&e));
			goto out;
		}
		if (open_tpm(&t) < 0)
			goto out;
		if (attest_tpm_pcr_read(t, &sel, &q.pcrs, &e) < 0) {
			cmd_fail(&e, e.code, "PCR read");
			goto out;
		}
		have_pcrs = true;
	}
	if (!log && !ima && !have_pcrs) {
		cmd_error("refstate: no evidence on this host (no event log, no IMA list, no PCRs given)");
		goto out;
	}
	if (attest_refstate_create(have_pcrs ? &q.pcrs : NULL, log, ima, &ref, &e) < 0) {
		cmd_fail(&e, e.code, "refstate");
		goto out;
	}
	struct buf b = BUF_INIT;
	val_to_json(ref, &b, JSON_PRETTY);
	buf_addch(&b, '\n');
	rc = outp ? write_file(outp, b.p, b.len) < 0 : cmd_out(&b);
	buf_release(&b);
out:
	attest_quote_release(&q);
	return rc;
}

static int do_check(int argc, char **argv)
{
	static const char usage[] =
		"usage: arca attest check --refstate FILE [--key ak.key] [--pcrs SEL] [--eventlog F]\n"
		"                         [--ima F] [--json] [--tcti T]\n"
		"--pcrs defaults to sha256:0-10 plus the PCRs the reference state names.\n"
		"Quotes the local TPM with a fresh nonce, verifies the quote, replays the logs\n"
		"against it and compares everything with the reference state. What this host\n"
		"lacks is \"unavailable\", never \"passed\"; exit 0 only when every check passed.\n";
	const char *refp = NULL, *key = NULL, *sel = NULL, *logp = NULL, *imap = NULL;
	bool json = false;
	const struct cmd_opt opts[] = {
		CMD_OPT_STR("refstate", &refp),
		CMD_OPT_STR("key", &key),
		CMD_OPT_STR("pcrs", &sel),
		CMD_OPT_STR("eventlog", &logp),
		CMD_OPT_STR("ima", &imap),
		CMD_OPT_FLAG("json", &json),
		CMD_OPT_STR("tcti", &tcti_opt),
	};
	int rc_opt = cmd_getopt(argc, argv, opts, ARRAY_SIZE(opts), usage);
	if (rc_opt >= 0)
		return rc_opt;
	if (!refp) {
		cmd_error("check: --refstate is required");
		return EXIT_USAGE;
	}
	_cleanup_buf_ struct buf defkey = BUF_INIT;
	if (!key && attest_default_ak_path(&defkey) == 0 && access(defkey.p, R_OK) == 0)
		key = defkey.p;
	struct attest_host h = { 0 };
	struct arca_err e = { 0 };
	_cleanup_val_ struct val *ref = NULL;
	_cleanup_val_ struct val *r = NULL;
	_cleanup_(attest_evlog_freep) struct attest_evlog *log = NULL;
	_cleanup_(attest_ima_freep) struct attest_ima *ima = NULL;
	if (attest_refstate_load(refp, &ref, &e) < 0 ||
	    attest_evlog_load(logp ? logp : attest_host_eventlog(&h), logp != NULL, &log, &e) < 0 ||
	    attest_ima_load(imap ? imap : attest_host_ima(&h), imap != NULL, &ima, &e) < 0)
		return cmd_fail(&e, e.code, "check");
	struct attest_pcrs selv;
	if (sel && attest_pcrsel_parse(sel, &selv, &e) < 0) {
		cmd_error("--pcrs: %s", err_msg(&e));
		return EXIT_USAGE;
	}
	struct attest_local o = {
		.tcti = tcti_opt, .ak_path = key, .sel = sel ? &selv : NULL, .log = log, .ima = ima, .refstate = ref,
	};
	int vr = attest_check_local(&o, &r, &e);
	if (vr < 0 && vr != -EPERM)
		return cmd_fail(&e, vr, "check");
	int rc = report_out(r, json);
	if (vr == -EPERM) {
		if (!json && !cmd_quiet)
			cmd_error("check failed: %s", err_msg(&e));
		rc = 1;
	}
	return rc;
}

/* ------------------------------------------------------------------- verb */

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} subs[] = {
	{ "status", do_status, "what this host offers: TPM, event log, IMA, Secure Boot, lockdown" },
	{ "ek", do_ek, "print or save the TPM's endorsement key (and certificate)" },
	{ "ak", do_ak, "create an attestation key under the EK" },
	{ "credential", do_credential, "wrap a secret for an EK/AK pair (verifier side, no TPM)" },
	{ "activate", do_activate, "recover a credential with the TPM (proves the AK is in it)" },
	{ "quote", do_quote, "quote PCRs with a nonce" },
	{ "verify", do_verify, "verify a quote, replay logs, compare with a reference state" },
	{ "refstate", do_refstate, "create a reference state from this host's evidence" },
	{ "check", do_check, "quote, replay and compare locally with a reference state" },
};

int cmd_attest(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		FILE *f = argc < 2 ? stderr : stdout;
		fprintf(f, "usage: arca attest <command> [options]\n\ncommands:\n");
		for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
			fprintf(f, "  %-11s %s\n", subs[i].name, subs[i].help);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		if (!strcmp(subs[i].name, argv[1])) {
			optind = 0;
			return subs[i].fn(argc - 1, argv + 1);
		}
	}
	cmd_error("attest: unknown command '%s'", argv[1]);
	return EXIT_USAGE;
}
