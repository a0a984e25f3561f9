/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/integrity: signing and verifying SIF images, compatible with the
 * reference implementation (sylabs/sif pkg/integrity).
 *
 *  - digests over the integrity-protected bytes of the header (61 bytes),
 *    each descriptor (557 bytes, with its ID relative to its group) and each
 *    object's data, in one streaming libcrypto pass over the mapped image
 *  - the image-metadata JSON, byte-identical to the reference's
 *  - DSSE envelopes (Ed25519, ECDSA P-256, RSA PKCS#1 v1.5/PSS keys in PEM;
 *    X.509 certificates with code-signing usage)
 *  - OpenPGP clear-signed metadata through gpgme and a caller-chosen
 *    GNUPGHOME
 *  - legacy SIFHASH signatures: verify only
 *
 * Verification semantics are the reference's: work is split into groups;
 * every signature linked to a group must pass; the objects a signature
 * covers must equal the group's current objects (unless individual objects
 * were selected); non-signature objects outside any group fail. Every verify
 * function fails closed: anything but a complete success is a refusal
 * (-EPERM with a precise reason) or an error.
 */
#ifndef ARCA_INTEGRITY_H
#define ARCA_INTEGRITY_H

#include "base.h"
#include "sif.h"

/* ------------------------------------------------------------- digests */

enum integrity_hash {
	INTEGRITY_HASH_NONE = 0,
	INTEGRITY_SHA224,
	INTEGRITY_SHA256,
	INTEGRITY_SHA384,
	INTEGRITY_SHA512,
	INTEGRITY_SHA512_224,
	INTEGRITY_SHA512_256,
};
#define INTEGRITY_DIGEST_MAX 64

struct integrity_digest {
	enum integrity_hash alg;
	size_t len;
	uint8_t v[INTEGRITY_DIGEST_MAX];
};

/* "sha256", "sha512_224", ...; NULL for unknown. */
const char *integrity_hash_name(enum integrity_hash h);
/* Accepts the reference names and "sha-256"-style spellings; 0 when unknown. */
enum integrity_hash integrity_hash_parse(const char *name);
size_t integrity_hash_size(enum integrity_hash h);
/* SIF descriptor hash types: only SHA-256/384/512 can be stored. */
int integrity_hash_to_sif(enum integrity_hash h, int32_t *out);
enum integrity_hash integrity_hash_from_sif(int32_t t);

/* Digest of @n bytes (may be huge: hashed in one streaming pass). */
int integrity_digest_bytes(enum integrity_hash h, const void *p, size_t n, struct integrity_digest *out);
/* Appends the JSON string "alg:hex". */
void integrity_digest_json(const struct integrity_digest *d, struct buf *out);
/* Parses "alg:hex" (without quotes); -EBADMSG when malformed. */
int integrity_digest_parse(const char *s, size_t n, struct integrity_digest *out);
/* Constant-time comparison of algorithm, length and value. */
bool integrity_digest_equal(const struct integrity_digest *a, const struct integrity_digest *b);

/* The integrity-protected byte streams of the reference. */
#define INTEGRITY_HEADER_STREAM_LEN 61
#define INTEGRITY_DESCR_STREAM_LEN 557
void integrity_header_stream(const struct sif_header *h, uint8_t out[INTEGRITY_HEADER_STREAM_LEN]);
void integrity_descr_stream(const struct sif_descr *d, uint32_t relative_id, uint8_t out[INTEGRITY_DESCR_STREAM_LEN]);

/* ------------------------------------------------------------ metadata */

struct integrity_object_md {
	uint32_t relative_id;
	struct integrity_digest descr;
	struct integrity_digest object;
};

struct integrity_metadata {
	int64_t version; /* 1 */
	struct integrity_digest header;
	struct integrity_object_md *objects;
	size_t n;
};

/* Named limit: objects listed in one signature's metadata. */
#define INTEGRITY_MAX_MD_OBJECTS 65536

void integrity_metadata_release(struct integrity_metadata *md);
/* Computes the metadata of objects @ids (sorted ascending, all in one group
 * whose lowest ID is @min_id). */
int integrity_metadata_compute(const struct sif_image *img, uint32_t min_id, const uint32_t *ids, size_t n,
			       enum integrity_hash h, struct integrity_metadata *out, struct arca_err *e);
/* Appends the JSON text exactly as the reference's encoding/json emits it
 * (no trailing newline). */
void integrity_metadata_json(const struct integrity_metadata *md, struct buf *out);
/* Strict parse of the JSON text (trailing whitespace allowed). */
int integrity_metadata_parse(const char *text, size_t len, struct integrity_metadata *out, struct arca_err *e);

/* --------------------------------------------------------------- keys */

struct integrity_signer;
struct integrity_verifier;

/*
 * DSSE signer: one or more PEM private keys (PKCS#8, PKCS#1 RSA, SEC1 EC),
 * each producing one signature in the envelope. @pass may be NULL; it is
 * only used for encrypted PEM. RSA signs with PKCS#1 v1.5 unless @rsa_pss.
 */
int integrity_signer_new(struct integrity_signer **out);
void integrity_signer_free(struct integrity_signer *s);
static inline void integrity_signer_freep(struct integrity_signer **s) { integrity_signer_free(*s); }
#define _cleanup_integrity_signer_ _cleanup_(integrity_signer_freep)
int integrity_signer_add_pem(struct integrity_signer *s, const char *path, const char *pass, struct arca_err *e);
/* Hash for the metadata and the signatures: sha256 (default), sha384, sha512. */
int integrity_signer_set_hash(struct integrity_signer *s, enum integrity_hash h, struct arca_err *e);
void integrity_signer_set_rsa_pss(struct integrity_signer *s, bool pss);
/*
 * OpenPGP signer: the secret key with fingerprint (or 0-based index in the
 * secret keyring's listing when @fpr is NULL) @idx in GNUPGHOME @home.
 * @pass (may be NULL) is given to gpg-agent through loopback pinentry.
 */
int integrity_signer_set_pgp(struct integrity_signer *s, const char *home, const char *fpr, size_t idx,
			     const char *pass, struct arca_err *e);
/* Asked for an OpenPGP key's passphrase only when gpg needs one and none
 * was given: returns a malloc'd string (wiped and freed by arca) or NULL
 * to give up. Lets the command line prompt; the library never does. */
typedef char *(*integrity_prompt_fn)(void *ctx, const char *what);
void integrity_signer_set_prompt(struct integrity_signer *s, integrity_prompt_fn fn, void *ctx);

int integrity_verifier_new(struct integrity_verifier **out);
void integrity_verifier_free(struct integrity_verifier *v);
static inline void integrity_verifier_freep(struct integrity_verifier **v) { integrity_verifier_free(*v); }
#define _cleanup_integrity_verifier_ _cleanup_(integrity_verifier_freep)
/* A PEM public key (PKIX "PUBLIC KEY", PKCS#1 "RSA PUBLIC KEY") or a
 * private key whose public half is used. */
int integrity_verifier_add_pem(struct integrity_verifier *v, const char *path, struct arca_err *e) _wur_;
/*
 * A leaf certificate (PEM) that must chain to @roots (PEM bundle; NULL: the
 * system's trust store) through optional @intermediates, be valid now and
 * allow code signing (extended key usage). Its public key is then trusted.
 */
int integrity_verifier_add_certificate(struct integrity_verifier *v, const char *cert, const char *intermediates,
				       const char *roots, struct arca_err *e) _wur_;
/* The GNUPGHOME whose public keyring verifies OpenPGP signatures. */
int integrity_verifier_set_gnupghome(struct integrity_verifier *v, const char *home, struct arca_err *e);

/* ------------------------------------------------------------- signing */

struct integrity_sign_opts {
	const uint32_t *groups; /* sign these groups (0 entries: see below) */
	size_t ngroups;
	const uint32_t *objects; /* sign these objects, one signature per group */
	size_t nobjects;
	/* Neither given: one signature per group in the image. */
	const struct sif_when *when; /* NULL: deterministic images stay so, else now */
};

/* Signs @path in place (crash-safe: all signatures are added in one commit). */
int integrity_sign(const char *path, struct integrity_signer *s, const struct integrity_sign_opts *o,
		   struct arca_err *e) _wur_;

/* Produces the signature object for one group of an open image (the
 * envelope or clear-signed text), for callers that assemble images. */
int integrity_sign_group(const struct sif_image *img, struct integrity_signer *s, uint32_t group,
			 const uint32_t *ids, size_t n, struct buf *sig_out, int32_t *hashtype,
			 uint8_t fp[SIF_FINGERPRINT_LEN], size_t *fp_len, struct arca_err *e) _wur_;

/* ---------------------------------------------------------- verifying */

enum integrity_sig_kind {
	INTEGRITY_SIG_UNKNOWN = 0,
	INTEGRITY_SIG_DSSE,
	INTEGRITY_SIG_PGP,
	INTEGRITY_SIG_LEGACY,
};
const char *integrity_sig_kind_name(enum integrity_sig_kind k);

#define INTEGRITY_REASON_MAX 512
#define INTEGRITY_KEYID_MAX 96

/* The outcome of checking one signature object. */
struct integrity_sig_result {
	uint32_t sig_id;
	enum integrity_sig_kind kind;
	int32_t hashtype;
	bool ok;
	bool untrusted; /* !ok only because no trusted key could check it (-ENOKEY) */
	char reason[INTEGRITY_REASON_MAX]; /* when !ok */
	char fingerprint[2 * SIF_FINGERPRINT_LEN + 1]; /* OpenPGP primary key, "" otherwise */
	char keyids[4][INTEGRITY_KEYID_MAX];           /* DSSE: accepted key IDs */
	size_t nkeyids;
	uint32_t *signed_ids; /* objects the signature covers */
	size_t nsigned;
	uint32_t *verified_ids; /* objects checked against it */
	size_t nverified;
};

struct integrity_report {
	struct integrity_sig_result *sigs;
	size_t n;
	int code;                          /* 0: everything verified */
	char reason[INTEGRITY_REASON_MAX]; /* first failure */
};
void integrity_report_free(struct integrity_report *r);
static inline void integrity_report_freep(struct integrity_report **r) { integrity_report_free(*r); }
#define _cleanup_integrity_report_ _cleanup_(integrity_report_freep)
/* True when object @id was verified by at least one passing signature. */
bool integrity_report_object_ok(const struct integrity_report *r, uint32_t id);

struct integrity_verify_opts {
	const uint32_t *groups;
	size_t ngroups;
	const uint32_t *objects;
	size_t nobjects;
	bool legacy;     /* consider only legacy SIFHASH signatures */
	bool legacy_all; /* legacy, one task per grouped non-signature object */
};

/*
 * Verifies @img. Returns 0 only when every selected task had at least one
 * signature and every signature passed; -EPERM with e->msg naming the first
 * failure otherwise (or another negative errno on errors). *out (may be
 * NULL) always receives the per-signature report when non-NULL was given
 * and allocation succeeded, even on failure, for display.
 */
int integrity_verify(const struct sif_image *img, const struct integrity_verifier *v,
		     const struct integrity_verify_opts *o, struct integrity_report **out, struct arca_err *e) _wur_;

/* ------------------------------------------------------ DSSE primitives */

#define INTEGRITY_DSSE_PAYLOAD_TYPE "application/vnd.sylabs.sif-metadata+json"
/* Named limits for untrusted envelopes. */
#define INTEGRITY_DSSE_MAX_BYTES (16u << 20)
#define INTEGRITY_DSSE_MAX_SIGS 64

struct integrity_dsse_sig {
	char *keyid; /* may be "" */
	uint8_t *sig;
	size_t sig_len;
};
struct integrity_dsse {
	char *payload_type;
	uint8_t *payload;
	size_t payload_len;
	struct integrity_dsse_sig *sigs;
	size_t nsigs;
};
void integrity_dsse_release(struct integrity_dsse *d);
int integrity_dsse_parse(const char *text, size_t len, struct integrity_dsse *out, struct arca_err *e) _wur_;
/* Appends the envelope byte for byte as the reference stores it (fields in
 * struct order, HTML-escaped strings, no trailing newline). */
void integrity_dsse_serialise(const struct integrity_dsse *d, struct buf *out);
/* DSSEv1 pre-authentication encoding. */
void integrity_dsse_pae(const char *type, const uint8_t *payload, size_t n, struct buf *out);

/* Key ID as the reference computes it: SSH SHA256 fingerprint of the public
 * key ("SHA256:" + unpadded base64). @pkey is an EVP_PKEY. */
int integrity_keyid(const void *pkey, char out[INTEGRITY_KEYID_MAX], struct arca_err *e);

/* ---------------------------------------------------- OpenPGP armour */

/* The parts of a clear-signed message, pointing into the input. */
struct integrity_clearsign {
	const char *hash_header; /* value of "Hash:" or NULL */
	size_t hash_header_len;
	struct buf text;      /* cleartext, dash-unescaped, without the final line break */
	struct buf signature; /* binary signature packets (base64-decoded) */
};
void integrity_clearsign_release(struct integrity_clearsign *c);
/* Strict parser: the input must be exactly one clear-signed message
 * (trailing whitespace allowed). */
int integrity_clearsign_parse(const char *text, size_t len, struct integrity_clearsign *out, struct arca_err *e) _wur_;

/* ------------------------------------------------------------ keyring */

#define INTEGRITY_FPR_HEX 41
struct integrity_pgp_key {
	char fpr[INTEGRITY_FPR_HEX];
	char uid[256];
	char algo[32];
	int64_t created, expires;
	bool secret, revoked, expired;
};
/* Keys of the OpenPGP keyring in GNUPGHOME @home (*out: malloc'd array). */
int integrity_pgp_list(const char *home, bool secret, struct integrity_pgp_key **out, size_t *n, struct arca_err *e);
/* Imports armoured or binary OpenPGP keys; *imported counts keys taken. */
int integrity_pgp_import(const char *home, const void *data, size_t n, size_t *imported, struct arca_err *e);
/* Armoured export of the keys matching @pattern (a fingerprint). */
int integrity_pgp_export(const char *home, const char *pattern, bool secret, const char *pass, struct buf *out,
			 struct arca_err *e);
/* Removes the key (and its secret part) with exactly this fingerprint. */
int integrity_pgp_remove(const char *home, const char *fpr, struct arca_err *e);
/* Creates a signing key ("rsa4096" default, "ed25519", ...) without expiry;
 * @pass NULL or "" leaves it unprotected. */
int integrity_pgp_generate(const char *home, const char *uid, const char *algo, const char *pass,
			   char fpr[INTEGRITY_FPR_HEX], struct arca_err *e);
/* A new PEM key pair: PKCS#8 private key (encrypted with @pass when given,
 * mode 0600) and PKIX public key. @type: ed25519 (default), ecdsa, rsa. */
int integrity_pem_generate(const char *type, const char *priv_path, const char *pub_path, const char *pass,
			   struct arca_err *e);

/* ------------------------------------------------- execution control */

/* The signer gate (the reference runtime's ecl.toml; see ecl.c for the
 * accepted syntax). */
enum integrity_ecl_mode { INTEGRITY_ECL_WHITELIST = 0, INTEGRITY_ECL_WHITESTRICT, INTEGRITY_ECL_BLACKLIST };
struct integrity_ecl_group {
	char *tag;
	char *dirpath; /* NULL or "": any directory */
	enum integrity_ecl_mode mode;
	bool has_mode;
	char **keys; /* OpenPGP fingerprints (40 hex) or DSSE key IDs */
	size_t nkeys;
};
struct integrity_ecl {
	bool activated;
	bool legacy; /* legacyinsecure */
	struct integrity_ecl_group *groups;
	size_t n;
};
int integrity_ecl_parse(const char *text, size_t len, struct integrity_ecl **out, struct arca_err *e) _wur_;
int integrity_ecl_load(const char *path, struct integrity_ecl **out, struct arca_err *e) _wur_;
void integrity_ecl_free(struct integrity_ecl *ecl);
/*
 * 0 when @ecl lets the image at @image_path run: not activated; or, in the
 * execution group of the image's directory (else the first group without a
 * directory), whitelist: the image verifies and a passing signature is by a
 * listed key; whitestrict: it verifies and every listed key signed;
 * blacklist: no signature names a listed key. -EPERM with the reason
 * otherwise, including when no group applies.
 */
int integrity_ecl_check(const struct integrity_ecl *ecl, const char *image_path, const struct sif_image *img,
			const struct integrity_verifier *v, struct arca_err *e) _wur_;

/* A verifier holding the administrators' keys: the global OpenPGP keyring
 * (/etc/arca/keys/gnupg) and the PEM public keys in /etc/arca/keys/pem. */
int integrity_verifier_global(struct integrity_verifier **out, struct arca_err *e) _wur_;

/* Where administrators put the list: absent means no gate. */
#define INTEGRITY_ECL_PATH "/etc/arca/ecl.toml"
/*
 * The launch-time gate in one call, for the runtime: loads @config (NULL:
 * INTEGRITY_ECL_PATH; a missing file means no gate and returns 0) and
 * checks @img, opened from @path, with the administrators' keys (the global
 * keyring /etc/arca/keys/gnupg and the PEM public keys in
 * /etc/arca/keys/pem). The image is the caller's open one, not the path
 * opened again: a path checked then reopened can be swapped in between.
 * Any error, including an unreadable or malformed list, refuses (< 0).
 */
int integrity_ecl_gate(const char *config, const char *path, const struct sif_image *img,
		       struct arca_err *e) _wur_;

/* ------------------------------------------------------------ key dirs */

/* $ARCA_KEYDIR, else ~/.config/arca/keys; @global: /etc/arca/keys. */
int integrity_keydir(bool global, struct buf *out, struct arca_err *e);
/* <keydir>/gnupg, created 0700 when @create. */
int integrity_keydir_gnupg(bool global, bool create, struct buf *out, struct arca_err *e);

#endif
