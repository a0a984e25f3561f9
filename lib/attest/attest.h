/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/attest: host integrity — what the host's TPM proves about the
 * firmware, boot chain, kernel and executed files.
 *
 *  - PCR banks and selections ("sha256:0-7,10+sha1:10")
 *  - the TCG PC Client crypto-agile event log (binary_bios_measurements):
 *    bounded parse, per-bank replay, Secure Boot / boot components / kernel
 *    command line extraction
 *  - the IMA measurement list (binary and ASCII; ima, ima-ng, ima-sig,
 *    ima-buf templates): parse, incremental replay of PCR 10 per bank
 *  - TPM 2.0 quotes: TPMS_ATTEST / TPMT_SIGNATURE / TPM2B_PUBLIC decoding and
 *    verification in pure C with OpenSSL (no TPM on the verifier side)
 *  - credential activation: MakeCredential on the verifier side (pure C),
 *    ActivateCredential on the TPM
 *  - the TPM itself through tss2-esys (tpm.c), Secure Boot hints from
 *    efivars, reference states as JSON
 *
 * Every decoder of untrusted bytes goes through struct rd and enforces the
 * ATTEST_*_MAX limits below. Verification functions are fail-closed: any
 * result but full success is -EPERM with a precise reason (or another
 * negative errno for malformed input). A check that cannot run on this host
 * is "unavailable", never "passed".
 *
 * JSON shapes (all produced with lib/base's struct val, so they are valid
 * Rego input documents):
 *
 *   attest_verify_report() / `arca attest verify --json` / `check --json`:
 *     { "verified": bool,                 # every requested check passed
 *       "reason": string,                 # first failure; absent when verified
 *       "checks": [ { "name": "quote"|"eventlog_replay"|"ima_replay"|
 *                            "refstate_pcrs"|"refstate_measured_boot"|
 *                            "refstate_ima",
 *                     "status": "passed"|"failed"|"unavailable",
 *                     "reason": string? } ],   # "quote" reasons start with
 *                                          # signature:|nonce:|pcr_digest:|clock:
 *       "quote": { "type": "quote", "nonce": hex, "signer": hex name,
 *                  "clock": int, "reset_count": int, "restart_count": int,
 *                  "safe": bool, "firmware_version": int },
 *       "pcrs": { "<bank>": { "<index>": hex, ... }, ... },
 *       "ak": { "name": hex, "type": "rsa"|"ecc" },
 *       "eventlog": attest_evlog_info() object, when its replay passed,
 *       "ima": { "entries": int }, when its replay passed }
 *     "quote", "pcrs" and "ak" are present only when the quote verified.
 *
 *   attest_evlog_info():
 *     { "events": int, "banks": [alg...], "startup_locality": int,
 *       "secureboot": bool|null, "setup_mode": bool|null,
 *       "pk"|"kek"|"db"|"dbx": [ "x509:<sha256 of DER>" | "sha256:<hash>" |
 *                                "<guid>:<sha256 of data>" ],
 *       "boot_components": [ { "pcr": int, "digest": {alg: hex} } ],
 *       "firmware": [ { "type": event type name, "digest": {alg: hex} } ],
 *       "kernel_cmdline": string|null }
 *
 *   attest_status() / `arca attest status --json`:
 *     { "tpm": {"status": s, "tcti": s, "reason"?: s},
 *       "eventlog": {"status": s, "path": s, "events"?: int},
 *       "ima": {"status": s, "path": s, "entries"?: int},
 *       "secureboot": {"status": s, "enabled"?: bool, "setup_mode"?: bool},
 *       "lockdown": {"status": s, "mode"?: s} }
 *     with status "available" or "unavailable".
 *
 * Reference state (refstate.c), every member optional:
 *   { "version": 1,
 *     "pcrs": { "<bank>": { "<index>": hex } },
 *     "measured_boot": { "secureboot": bool,
 *                        "pk"|"kek"|"db": [entry...]     # exact set
 *                        "dbx": [entry...]               # must all be present
 *                        "boot_components": [hex...]     # allowed digests (any bank)
 *                        "firmware": [hex...]            # allowed digests
 *                        "kernel_cmdline": fnmatch glob },
 *     "ima": { "allow": { "/path": ["alg:hex", ...] },
 *              "exclude": [fnmatch glob, ...] } }
 */
#ifndef ARCA_ATTEST_H
#define ARCA_ATTEST_H

#include "base.h"

/* ---------------------------------------------------------------- limits */

#define ATTEST_PCR_COUNT 24
#define ATTEST_BANK_MAX 4      /* banks held at once (sha1, sha256, sha384, sha512) */
#define ATTEST_DIGEST_MAX 64
#define ATTEST_EVLOG_MAX_BYTES (16u << 20)
#define ATTEST_EVLOG_MAX_EVENTS 100000u
#define ATTEST_EVLOG_MAX_EVENT_SIZE (1u << 20)
#define ATTEST_EVLOG_MAX_DIGESTS 8u /* digest entries per event / algorithms in the header */
#define ATTEST_IMA_MAX_BYTES (256u << 20)
#define ATTEST_IMA_MAX_ENTRIES 2000000u
#define ATTEST_IMA_MAX_NAME 255u    /* template name (kernel: TCG_EVENT_NAME_LEN_MAX) */
#define ATTEST_IMA_MAX_DATA (1u << 20) /* template data of one entry */
#define ATTEST_IMA_MAX_FIELDS 16u
#define ATTEST_TPMS_MAX_BYTES 4096u
#define ATTEST_NONCE_MAX 64u
#define ATTEST_REFSTATE_MAX_BYTES (64u << 20)
#define ATTEST_AK_FILE_MAX (64u << 10) /* TPM2B_PUBLIC + TPM2B_PRIVATE */

/* --------------------------------------------------------------- hashes */

/* TPM_ALG_ID values. */
#define ATTEST_ALG_SHA1 0x0004
#define ATTEST_ALG_SHA256 0x000b
#define ATTEST_ALG_SHA384 0x000c
#define ATTEST_ALG_SHA512 0x000d

/* "sha256" etc.; NULL for an algorithm arca does not support. */
const char *attest_alg_name(uint16_t alg);
/* 0 when unknown. */
uint16_t attest_alg_from_name(const char *name, size_t len);
/* Digest size in bytes; 0 when unknown. */
size_t attest_alg_size(uint16_t alg);
/* One-shot digest; out must hold attest_alg_size(alg) bytes. -ENOTSUP for
 * an unknown algorithm. */
int attest_hash(uint16_t alg, const void *p, size_t n, uint8_t *out);

/* ----------------------------------------------------------------- PCRs */

struct attest_bank {
	uint16_t alg;
	uint32_t mask; /* bit i: PCR i selected / holds a value */
	uint8_t pcr[ATTEST_PCR_COUNT][ATTEST_DIGEST_MAX];
};

/* A set of banks: a PCR selection (masks only) or PCR values. Banks keep
 * the order in which they were added (a quote's selection order). */
struct attest_pcrs {
	size_t nbanks;
	struct attest_bank bank[ATTEST_BANK_MAX];
};

/* The bank for @alg, or NULL; with @create, adds an empty bank (NULL when
 * full or the algorithm is unknown). */
struct attest_bank *attest_pcrs_bank(struct attest_pcrs *p, uint16_t alg, bool create);
const struct attest_bank *attest_pcrs_find(const struct attest_pcrs *p, uint16_t alg);
/* Parses "sha256:0-10,16+sha1:0-7" (also "sha256:all"). Values are zero. */
int attest_pcrsel_parse(const char *s, struct attest_pcrs *sel, struct arca_err *e);
/* Appends the selection in the same syntax. */
void attest_pcrsel_format(const struct attest_pcrs *sel, struct buf *out);
/* PCR value at TPM2_Startup(CLEAR) from locality 0: zeros, except the
 * PC Client DRTM PCRs 17..22 which start as all ones. */
void attest_pcr_initial(uint16_t alg, unsigned index, uint8_t *out);
/* pcr = H(pcr || digest), both attest_alg_size(alg) bytes. */
int attest_pcr_extend(uint16_t alg, uint8_t *pcr, const uint8_t *digest);
/* {"sha256": {"0": hex, ...}, ...} */
struct val *attest_pcrs_to_val(const struct attest_pcrs *p);
int attest_pcrs_from_val(const struct val *v, struct attest_pcrs *out, struct arca_err *e);
/*
 * Compares the PCRs of @want selected by @mask (and present in @want) with
 * @got. Every selected PCR must be present in @got for the same bank.
 * -EPERM naming the first differing bank/PCR ("@what").
 */
int attest_pcrs_compare(const struct attest_pcrs *got, const struct attest_pcrs *want, uint32_t mask,
			const char *what, struct arca_err *e);

/* ------------------------------------------------------------ event log */

/* TCG PC Client event types used by the extraction. */
#define ATTEST_EV_NO_ACTION 0x00000003u
#define ATTEST_EV_SEPARATOR 0x00000004u
#define ATTEST_EV_EVENT_TAG 0x00000006u
#define ATTEST_EV_S_CRTM_VERSION 0x00000008u
#define ATTEST_EV_POST_CODE 0x00000001u
#define ATTEST_EV_IPL 0x0000000du
#define ATTEST_EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001u
#define ATTEST_EV_EFI_VARIABLE_BOOT 0x80000002u
#define ATTEST_EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define ATTEST_EV_EFI_ACTION 0x80000007u
#define ATTEST_EV_EFI_PLATFORM_FIRMWARE_BLOB 0x80000008u
#define ATTEST_EV_EFI_VARIABLE_AUTHORITY 0x800000e0u

struct attest_event {
	uint32_t pcr;
	uint32_t type;
	size_t ndigests;
	struct {
		uint16_t alg;
		const uint8_t *d; /* borrowed from the log's bytes */
	} digest[ATTEST_EVLOG_MAX_DIGESTS];
	const uint8_t *data;
	size_t len;
	size_t offset; /* byte offset of the event in the log */
};

struct attest_evlog; /* opaque; owns a copy of the log bytes */

/*
 * Parses a crypto-agile log: the SHA1-format Spec ID event ("Spec ID
 * Event03") first, then TCG_PCR_EVENT2 records whose digest sizes come from
 * the header. Every event must carry a digest for every header algorithm.
 * -EBADMSG (with the byte offset) for malformed input, -E2BIG over a limit.
 */
int attest_evlog_parse(const uint8_t *p, size_t n, struct attest_evlog **out, struct arca_err *e);
void attest_evlog_free(struct attest_evlog *l);
static inline void attest_evlog_freep(struct attest_evlog **l) { attest_evlog_free(*l); }
size_t attest_evlog_count(const struct attest_evlog *l);
const struct attest_event *attest_evlog_event(const struct attest_evlog *l, size_t i);
/* The header's algorithms (in header order). */
size_t attest_evlog_algs(const struct attest_evlog *l, uint16_t *algs, size_t cap);
/*
 * Replays every bank of the log into @out: all 24 PCRs get values (their
 * initial value when the log has no event for them, so a quoted PCR the
 * log does not explain fails the comparison). EV_NO_ACTION events are not extended; a StartupLocality
 * event sets PCR 0's initial value.
 */
int attest_evlog_replay(const struct attest_evlog *l, struct attest_pcrs *out, struct arca_err *e);
/* The extracted boot facts (shape in the header comment). */
int attest_evlog_info(const struct attest_evlog *l, struct val **out, struct arca_err *e);
/* "EV_IPL", ... or NULL. */
const char *attest_event_type_name(uint32_t type);

/* ------------------------------------------------------------------ IMA */

struct attest_ima_entry {
	uint32_t pcr;
	uint8_t template_digest[20]; /* SHA-1, as listed */
	bool violation;              /* template digest all zero */
	char template_name[ATTEST_IMA_MAX_NAME + 1];
	size_t data_off, data_len; /* template data within the list's bytes */
	/* Parsed fields (d/d-ng, n/n-ng, sig); for unknown templates empty. */
	char hash_alg[16];         /* "sha256", or "sha1" for the ima template */
	size_t digest_off, digest_len;
	size_t path_off, path_len; /* without the terminating NUL */
	size_t sig_off, sig_len;
};

struct attest_ima; /* opaque list */

/* Binary list (binary_runtime_measurements, host byte order = little
 * endian; the "ima" template without a data length, as the kernel writes
 * it). Each entry's listed SHA-1 template digest must match its data. */
int attest_ima_parse(const uint8_t *p, size_t n, struct attest_ima **out, struct arca_err *e);
/* ASCII list (ascii_runtime_measurements): "pcr hash template fields...". */
int attest_ima_parse_ascii(const char *p, size_t n, struct attest_ima **out, struct arca_err *e);
void attest_ima_free(struct attest_ima *l);
static inline void attest_ima_freep(struct attest_ima **l) { attest_ima_free(*l); }
size_t attest_ima_count(const struct attest_ima *l);
const struct attest_ima_entry *attest_ima_entry(const struct attest_ima *l, size_t i);
/* The list's bytes (for the *_off fields). */
const uint8_t *attest_ima_bytes(const struct attest_ima *l);

/*
 * Replays entries [from, count) into @state: for every bank in @state with
 * the entry's PCR selected in its mask, extends the SHA-1 template digest
 * (sha1 bank) or the hash of the template data in the bank's algorithm
 * (other banks; kernels >= 5.x); violations extend all 0xFF. Callers doing
 * incremental replay keep @state between calls and start at the previous
 * count. Entries for PCRs outside a bank's mask are ignored for that bank.
 */
int attest_ima_replay(const struct attest_ima *l, size_t from, struct attest_pcrs *state, struct arca_err *e);
/*
 * Replays the whole list from the initial PCR values and compares with
 * @quoted for the PCRs the list uses (normally 10). On a mismatch, tries to
 * name the cause: if a prefix of k entries matches, the log is longer than
 * the PCR ("entries k.. are not in the quoted PCR"); otherwise the log is
 * shorter or an entry differs. -EPERM.
 */
int attest_ima_verify(const struct attest_ima *l, const struct attest_pcrs *quoted, struct arca_err *e);

/* ----------------------------------------------------- TPM structures */

#define ATTEST_TPM_GENERATED 0xff544347u
#define ATTEST_ST_ATTEST_QUOTE 0x8018u

struct attest_pcrsel_entry {
	uint16_t alg;
	uint32_t mask;
};

/* A decoded TPMS_ATTEST of type quote. */
struct attest_tpms {
	uint32_t magic;
	uint16_t type;
	uint8_t signer[2 + ATTEST_DIGEST_MAX];
	size_t signer_len;
	uint8_t extra[ATTEST_NONCE_MAX];
	size_t extra_len;
	uint64_t clock;
	uint32_t reset_count, restart_count;
	uint8_t safe;
	uint64_t firmware_version;
	size_t nsel; /* TPML_PCR_SELECTION in order */
	struct attest_pcrsel_entry sel[ATTEST_BANK_MAX];
	uint8_t pcr_digest[ATTEST_DIGEST_MAX];
	size_t pcr_digest_len;
};

/* Decodes a TPMS_ATTEST (big endian, exact length). Checks the magic and
 * that the type is a quote; -EBADMSG otherwise. */
int attest_tpms_decode(const uint8_t *p, size_t n, struct attest_tpms *out, struct arca_err *e);

#define ATTEST_SIG_RSASSA 0x0014u
#define ATTEST_SIG_RSAPSS 0x0016u
#define ATTEST_SIG_ECDSA 0x0018u

/* A decoded TPMT_SIGNATURE; pointers borrow the input. */
struct attest_sig {
	uint16_t sig_alg, hash_alg;
	const uint8_t *sig; size_t sig_len; /* RSA */
	const uint8_t *r; size_t r_len;     /* ECDSA */
	const uint8_t *s; size_t s_len;
};
int attest_sig_decode(const uint8_t *p, size_t n, struct attest_sig *out, struct arca_err *e);

/* TPMA_OBJECT bits. */
#define ATTEST_OBJ_FIXEDTPM (1u << 1)
#define ATTEST_OBJ_FIXEDPARENT (1u << 4)
#define ATTEST_OBJ_SENSITIVEDATAORIGIN (1u << 5)
#define ATTEST_OBJ_USERWITHAUTH (1u << 6)
#define ATTEST_OBJ_ADMINWITHPOLICY (1u << 7)
#define ATTEST_OBJ_RESTRICTED (1u << 16)
#define ATTEST_OBJ_DECRYPT (1u << 17)
#define ATTEST_OBJ_SIGN (1u << 18)

#define ATTEST_KEY_RSA 0x0001u
#define ATTEST_KEY_ECC 0x0023u

/* A TPM public key (TPMT_PUBLIC) with its OpenSSL form and TPM name. */
struct attest_pub;

/* Decodes a TPM2B_PUBLIC (tpm2-tools' .pub files) or TPMT_PUBLIC. */
int attest_pub_decode(const uint8_t *p, size_t n, struct attest_pub **out, struct arca_err *e);
/* Loads a TPM2B_PUBLIC file or a PEM public key (no TPM name then). */
int attest_pub_load(const char *path, struct attest_pub **out, struct arca_err *e);
void attest_pub_free(struct attest_pub *k);
static inline void attest_pub_freep(struct attest_pub **k) { attest_pub_free(*k); }
/* The TPM name (nameAlg || H(TPMT_PUBLIC)); length 0 for PEM keys. */
const uint8_t *attest_pub_name(const struct attest_pub *k, size_t *len);
uint16_t attest_pub_type(const struct attest_pub *k);
uint32_t attest_pub_attrs(const struct attest_pub *k);
/* Appends the SubjectPublicKeyInfo PEM. */
int attest_pub_pem(const struct attest_pub *k, struct buf *out);
/* The object is a restricted signing key that cannot leave its TPM. */
int attest_pub_check_ak(const struct attest_pub *k, struct arca_err *e);

/* --------------------------------------------------------------- quotes */

/* A quote as produced by the TPM plus the PCR values it claims. */
struct attest_quote {
	struct buf attest;    /* TPMS_ATTEST bytes */
	struct buf signature; /* TPMT_SIGNATURE bytes */
	struct attest_pcrs pcrs;
};
void attest_quote_init(struct attest_quote *q);
void attest_quote_release(struct attest_quote *q);

/* {"version":1,"attest":hex,"signature":hex,"pcrs":{...}} */
int attest_quote_to_json(const struct attest_quote *q, struct buf *out);
int attest_quote_from_json(const char *text, size_t n, struct attest_quote *q, struct arca_err *e);
/* tpm2-tools files: the TPMS_ATTEST message, TPMT_SIGNATURE, and the
 * "serialized" PCR file (host-order TPML_PCR_SELECTION, a u32 count and
 * TPML_DIGEST records, as tpm2_quote -o writes and tpm2_checkquote -f reads). */
int attest_quote_pcrfile_write(const struct attest_quote *q, const struct attest_tpms *t, struct buf *out,
			       struct arca_err *e);
int attest_quote_pcrfile_read(const uint8_t *p, size_t n, struct attest_quote *q, struct arca_err *e);

struct attest_clock {
	uint64_t clock;
	uint32_t reset_count, restart_count;
};

struct attest_verify_opts {
	const uint8_t *nonce; /* required */
	size_t nonce_len;
	const struct attest_tpms *previous; /* a previously accepted quote, or NULL */
};

/*
 * Verifies @q with the AK @ak: TPMS_ATTEST magic/type, signature
 * (RSASSA/RSAPSS/ECDSA over the attest bytes with the signature's hash),
 * extraData == nonce, every selected PCR present in q->pcrs, pcrDigest ==
 * H(selected values in selection order), and — when o->previous is given —
 * reset/restart/clock strictly newer and a different nonce. On success
 * *out (may be NULL) holds the decoded attest. -EPERM names the failing
 * check; -EBADMSG for malformed structures.
 */
_wur_ int attest_quote_verify(const struct attest_quote *q, const struct attest_pub *ak,
			      const struct attest_verify_opts *o, struct attest_tpms *out, struct arca_err *e);

struct attest_verify_input {
	const struct attest_quote *quote;
	const struct attest_pub *ak;
	struct attest_verify_opts opts;
	const struct attest_evlog *log; /* NULL: not requested */
	const struct attest_ima *ima;   /* NULL: not requested */
	const struct val *refstate;     /* NULL: not requested */
};

/*
 * Verifies the quote, then replays the event log against the quoted PCRs
 * (all but the IMA PCRs) and the IMA list against PCR 10, then compares
 * with the reference state. *out receives the report even when a check
 * fails (return -EPERM, reason in @e); other negative codes are errors.
 */
int attest_verify_report(const struct attest_verify_input *in, struct val **out, struct arca_err *e);

/* ---------------------------------------------------------- credentials */

/*
 * TPM2_MakeCredential in software: wraps @secret (<= 64 bytes) for the
 * object named @ak_name so that only the TPM holding @ek can recover it
 * with ActivateCredential. RSA EKs (OAEP seed, label "IDENTITY") and ECC
 * P-256 EKs (ECDH seed, KDFe). Outputs TPM2B_ID_OBJECT and
 * TPM2B_ENCRYPTED_SECRET bytes.
 */
int attest_make_credential(const struct attest_pub *ek, const uint8_t *ak_name, size_t ak_name_len,
			   const uint8_t *secret, size_t secret_len, struct buf *id_object,
			   struct buf *enc_secret, struct arca_err *e);
/* KDFa (TPM 2.0 Part 1, 11.4.10.2); exposed for known-answer tests. */
int attest_kdfa(uint16_t alg, const uint8_t *key, size_t key_len, const char *label, const uint8_t *u,
		size_t u_len, const uint8_t *v, size_t v_len, uint8_t *out, size_t bits);

/* ------------------------------------------------------------------ TPM */

struct attest_tpm;

/* The TCTI string: @conf, else $ARCA_TPM_TCTI, else "device:/dev/tpmrm0". */
const char *attest_tcti_default(const char *conf);
/* Opens the TPM. -ENODEV when the device is missing; -EIO on TCTI errors. */
int attest_tpm_open(const char *tcti, struct attest_tpm **out, struct arca_err *e);
void attest_tpm_close(struct attest_tpm *t);
static inline void attest_tpm_closep(struct attest_tpm **t) { attest_tpm_close(*t); }
/* TPM2B_PUBLIC of the EK (TCG EK Credential Profile template: RSA 2048
 * "L-1" or ECC P-256 "L-2"), created as a primary and flushed again. */
int attest_tpm_ek_public(struct attest_tpm *t, bool ecc, struct buf *pub, struct arca_err *e);
/* EK certificate (DER) from NV 0x01c00002 (RSA) / 0x01c0000a (ECC);
 * -ENOENT when absent. */
int attest_tpm_ek_cert(struct attest_tpm *t, bool ecc, struct buf *der, struct arca_err *e);
/*
 * Creates an AK (restricted signing; RSA-2048 RSASSA-SHA256 or ECC P-256
 * ECDSA-SHA256) under the EK. @blob receives TPM2B_PUBLIC || TPM2B_PRIVATE
 * (the key file, loadable under the same TPM's EK); @pub the TPM2B_PUBLIC.
 */
int attest_tpm_ak_create(struct attest_tpm *t, bool ecc, struct buf *blob, struct buf *pub, struct arca_err *e);
/* Quotes @sel with the AK from @blob, nonce as qualifying data; fills @q
 * (attest, signature, PCR values read in the same selection). */
int attest_tpm_quote(struct attest_tpm *t, const uint8_t *blob, size_t blob_len, const struct attest_pcrs *sel,
		     const uint8_t *nonce, size_t nonce_len, struct attest_quote *q, struct arca_err *e);
/* ActivateCredential with the AK from @blob and the EK; @secret receives
 * the recovered credential. -EPERM when the TPM refuses (AK not bound). */
int attest_tpm_activate(struct attest_tpm *t, bool ecc_ek, const uint8_t *blob, size_t blob_len,
			const uint8_t *id_object, size_t id_len, const uint8_t *enc_secret, size_t enc_len,
			struct buf *secret, struct arca_err *e);
int attest_tpm_pcr_read(struct attest_tpm *t, const struct attest_pcrs *sel, struct attest_pcrs *out,
			struct arca_err *e);
/* Extends @digests (one per bank in @d with PCR @index in its mask). */
int attest_tpm_pcr_extend(struct attest_tpm *t, unsigned index, const struct attest_pcrs *d, struct arca_err *e);

/* ------------------------------------------------------------- host */

/* Where the host's sources live; NULL members take the defaults
 * (/sys/kernel/security/..., /sys/firmware/efi/efivars). Tests point them
 * at fabricated trees. */
struct attest_host {
	const char *eventlog;  /* binary_bios_measurements */
	const char *ima;       /* binary_runtime_measurements */
	const char *efivars;   /* directory */
	const char *lockdown;  /* file */
	const char *tcti;
};

/* Secure Boot from efivars: 1 enabled, 0 disabled, -ENOENT unavailable. */
int attest_efi_secureboot(const char *efivars_dir, bool *enabled, bool *setup_mode, struct arca_err *e);
/* Kernel lockdown mode ("none", "integrity", "confidentiality"); -ENOENT. */
int attest_lockdown(const char *path, char *mode, size_t cap, struct arca_err *e);
/* What the host offers (shape in the header comment). Never fails for a
 * missing component; -ENOMEM only. */
int attest_status(const struct attest_host *h, struct val **out, struct arca_err *e);
const char *attest_host_eventlog(const struct attest_host *h);
const char *attest_host_ima(const struct attest_host *h);

/* ------------------------------------------------------- local check */

/* This host's evidence files (attest_host_eventlog/ima give the paths). An
 * absent file is a host without it: *out NULL and 0, unless @required. A
 * present file that cannot be read or parsed is an error naming it. The
 * IMA list may be binary or ASCII. */
int attest_evlog_load(const char *path, bool required, struct attest_evlog **out, struct arca_err *e);
int attest_ima_load(const char *path, bool required, struct attest_ima **out, struct arca_err *e);
/* A reference state file (JSON, at most ATTEST_REFSTATE_MAX_BYTES). */
int attest_refstate_load(const char *path, struct val **out, struct arca_err *e);
/* The AK key file `arca attest` uses by default: $ARCA_ATTEST_DIR/ak.key,
 * else ~/.config/arca/attest/ak.key (appended to @path; -ENOENT: no home). */
int attest_default_ak_path(struct buf *path);
/* What a local check quotes: sha256:0-10 and every PCR @refstate names. */
int attest_check_selection(const struct val *refstate, struct attest_pcrs *sel, struct arca_err *e);

struct attest_local {
	const char *tcti;
	const char *ak_path;            /* NULL: a throw-away AK */
	const struct attest_pcrs *sel;  /* NULL: attest_check_selection() */
	const struct attest_evlog *log; /* NULL: not replayed */
	const struct attest_ima *ima;   /* NULL: not replayed */
	const struct val *refstate;     /* NULL: not compared */
};
/*
 * Quotes this host's TPM with a fresh nonce, verifies the quote, replays
 * the logs against it and compares with the reference state:
 * attest_verify_report()'s report in *out, 0 when every check passed,
 * -EPERM when one failed or could not be made (a host without a TPM: the
 * quote and all that needs it are "unavailable"). Other negative codes (no
 * AK, the TPM refusing the quote) leave *out NULL.
 */
int attest_check_local(const struct attest_local *o, struct val **out, struct arca_err *e);
/* One word for a report: "passed" when verified, "failed" when a check
 * failed, "unavailable" when the rest could not be made. */
const char *attest_report_status(const struct val *report);

/* -------------------------------------------------------- reference */

/*
 * A reference state from the current evidence: the PCR values, the event
 * log's boot facts and the IMA list's files (each may be NULL).
 */
int attest_refstate_create(const struct attest_pcrs *pcrs, const struct attest_evlog *log,
			   const struct attest_ima *ima, struct val **out, struct arca_err *e);

enum attest_status { ATTEST_PASSED = 0, ATTEST_FAILED, ATTEST_UNAVAILABLE };
const char *attest_status_name(enum attest_status s);

/* A list of named check results (for reports). */
struct attest_checks {
	struct val *list; /* array of {"name","status","reason"?} */
	bool failed, unavailable;
	char first_reason[ARCA_ERR_MSG_MAX];
};
int attest_checks_init(struct attest_checks *c);
void attest_checks_release(struct attest_checks *c);
int attest_checks_add(struct attest_checks *c, const char *name, enum attest_status s, const char *reason);

/*
 * Compares evidence with a reference state; each section of @ref present
 * becomes a check in @c ("pcrs", "measured_boot", "ima"). A section whose
 * evidence is NULL is "unavailable". Failing entries are named in the
 * reasons (IMA: every path not allowed, up to a bound).
 */
int attest_refstate_check(const struct val *ref, const struct attest_pcrs *pcrs, const struct attest_evlog *log,
			  const struct attest_ima *ima, struct attest_checks *c, struct arca_err *e);

#endif
