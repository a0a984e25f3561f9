/* SPDX-License-Identifier: Apache-2.0 */
/* lib/integrity internals: never installed. */
#ifndef ARCA_INTEGRITY_INTERNAL_H
#define ARCA_INTEGRITY_INTERNAL_H

#include "integrity.h"

#include <openssl/evp.h>

/* The libcrypto digest for @h; NULL when unknown. */
const EVP_MD *integrity_evp_md(enum integrity_hash h);

/* Base64 (standard alphabet). decode is strict: padding required unless
 * @raw, no whitespace, canonical trailing bits. */
void b64_encode(const uint8_t *p, size_t n, bool pad, struct buf *out);
int b64_decode(const char *s, size_t n, bool raw, struct buf *out);

struct integrity_signer {
	EVP_PKEY **keys;
	size_t nkeys;
	enum integrity_hash hash;
	bool rsa_pss;
	bool pgp;
	char *gnupghome;
	char *pgp_fpr;
	size_t pgp_idx;
	char *pgp_pass;
	integrity_prompt_fn prompt;
	void *prompt_ctx;
};

struct integrity_verifier {
	EVP_PKEY **keys;
	size_t nkeys;
	char *gnupghome;
};

/* dsse.c */
int dsse_sign(struct integrity_signer *s, const uint8_t *payload, size_t n, struct buf *out, struct arca_err *e);
/* On success, the accepted key IDs are written to @res. */
int dsse_verify(const struct integrity_verifier *v, enum integrity_hash h, const char *text, size_t len,
		struct buf *payload_out, struct integrity_sig_result *res, struct arca_err *e) _wur_;
bool dsse_looks_like(const uint8_t *p, size_t n);

/* pgp.c */
int pgp_clearsign(struct integrity_signer *s, const uint8_t *text, size_t n, struct buf *out,
		  uint8_t fp[SIF_FINGERPRINT_LEN], enum integrity_hash *sig_hash, struct arca_err *e);
/* Verifies a clear-signed message with the keyring of @home; returns the
 * signed text and the signer's primary-key fingerprint (binary). */
int pgp_verify_clearsigned(const char *home, const uint8_t *msg, size_t n, struct buf *text_out,
			   uint8_t fp[SIF_FINGERPRINT_LEN], struct arca_err *e) _wur_;

/* legacy.c */
bool legacy_is_legacy(const uint8_t *p, size_t n);
int legacy_digest_parse(const char *text, size_t n, enum integrity_hash h, struct integrity_digest *out,
			struct arca_err *e) _wur_;
int legacy_digest_objects(const struct sif_image *img, const struct sif_descr *const *ds, size_t n,
			  enum integrity_hash h, struct integrity_digest *out);

#endif
