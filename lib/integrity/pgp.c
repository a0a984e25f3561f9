/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OpenPGP clear-signed metadata (RFC 4880 section 7) through gpgme, with a
 * caller-chosen GNUPGHOME. Before gpg sees a message, arca parses the
 * armour itself and requires exactly one clear-signed block; the text gpg
 * reports as signed must then equal the text arca parsed, so nothing
 * outside the signed block can reach a decision.
 */
#include "internal.h"

#include <gpgme.h>
#include <locale.h>

/* Named limits for untrusted clear-signed messages. */
#define CLEARSIGN_MAX_BYTES (16u << 20)
#define CLEARSIGN_MAX_HEADERS 16

void integrity_clearsign_release(struct integrity_clearsign *c)
{
	if (!c)
		return;
	buf_release(&c->text);
	buf_release(&c->signature);
	c->hash_header = NULL;
}

struct lines {
	const char *p;
	size_t left;
};

/* Next line without its terminator (LF or CRLF); false at the end. */
static bool next_line(struct lines *l, const char **line, size_t *len, bool *had_eol)
{
	if (l->left == 0)
		return false;
	const char *nl = memchr(l->p, '\n', l->left);
	size_t n = nl ? (size_t)(nl - l->p) : l->left;
	*line = l->p;
	*len = n;
	*had_eol = nl != NULL;
	l->p += nl ? n + 1 : n;
	l->left -= nl ? n + 1 : n;
	if (*len && (*line)[*len - 1] == '\r')
		(*len)--;
	return true;
}

static bool line_is(const char *line, size_t len, const char *s)
{
	size_t n = strlen(s);
	/* RFC 4880: trailing whitespace on armour lines is ignored. */
	while (len > n && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	return len == n && !memcmp(line, s, n);
}

static bool all_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

int integrity_clearsign_parse(const char *text, size_t len, struct integrity_clearsign *out, struct arca_err *e)
{
	struct lines l = { text, len };
	const char *line;
	size_t n;
	bool eol;
	struct integrity_clearsign c = { .text = BUF_INIT, .signature = BUF_INIT };
	_cleanup_buf_ struct buf b64 = BUF_INIT;
	int rc = -EBADMSG;

	if (len > CLEARSIGN_MAX_BYTES)
		return err_set(e, -E2BIG, "clear-signed message larger than %u bytes", CLEARSIGN_MAX_BYTES);
	if (!next_line(&l, &line, &n, &eol) || !line_is(line, n, "-----BEGIN PGP SIGNED MESSAGE-----") || !eol)
		return err_set(e, -EBADMSG, "not a clear-signed message");
	/* Armour headers ("Hash: ..."), then one empty line. */
	for (int h = 0;; h++) {
		if (!next_line(&l, &line, &n, &eol) || !eol)
			return err_set(e, -EBADMSG, "clear-signed message: truncated headers");
		if (n == 0)
			break;
		if (h >= CLEARSIGN_MAX_HEADERS)
			return err_set(e, -E2BIG, "clear-signed message: too many headers");
		if (n > 6 && !memcmp(line, "Hash: ", 6)) {
			if (c.hash_header)
				return err_set(e, -EBADMSG, "clear-signed message: repeated Hash header");
			c.hash_header = line + 6;
			c.hash_header_len = n - 6;
		} else {
			return err_set(e, -EBADMSG, "clear-signed message: unexpected header");
		}
	}
	/* Cleartext up to the signature armour; dash-escaped lines unescaped. */
	bool first = true;
	for (;;) {
		if (!next_line(&l, &line, &n, &eol) || !eol) {
			rc = err_set(e, -EBADMSG, "clear-signed message: no signature block");
			goto fail;
		}
		if (line_is(line, n, "-----BEGIN PGP SIGNATURE-----"))
			break;
		if (n > 0 && line[0] == '-') {
			if (n < 2 || line[1] != ' ') {
				rc = err_set(e, -EBADMSG, "clear-signed message: unescaped dash line in the text");
				goto fail;
			}
			line += 2;
			n -= 2;
		}
		if (!first)
			buf_addch(&c.text, '\n');
		buf_add(&c.text, line, n);
		first = false;
	}
	/* Signature armour headers, an empty line, base64, optional CRC. */
	for (int h = 0;; h++) {
		if (!next_line(&l, &line, &n, &eol) || h > CLEARSIGN_MAX_HEADERS) {
			rc = err_set(e, -EBADMSG, "clear-signed message: bad signature armour");
			goto fail;
		}
		if (n == 0)
			break;
		if (!memchr(line, ':', n)) {
			rc = err_set(e, -EBADMSG, "clear-signed message: bad signature armour header");
			goto fail;
		}
	}
	bool ended = false, crc_seen = false;
	while (next_line(&l, &line, &n, &eol)) {
		if (line_is(line, n, "-----END PGP SIGNATURE-----")) {
			ended = true;
			break;
		}
		if (crc_seen) {
			rc = err_set(e, -EBADMSG, "clear-signed message: data after the armour checksum");
			goto fail;
		}
		while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		if (n == 5 && line[0] == '=') {
			crc_seen = true; /* checksum: gpg validates it */
			continue;
		}
		buf_add(&b64, line, n);
	}
	if (!ended) {
		rc = err_set(e, -EBADMSG, "clear-signed message: signature armour not terminated");
		goto fail;
	}
	/* Only whitespace may follow; a second message is refused. */
	if (!all_space(l.p, l.left)) {
		rc = err_set(e, -EBADMSG, "clear-signed message: trailing data after the signature");
		goto fail;
	}
	if (b64.len == 0 || b64_decode(b64.p, b64.len, false, &c.signature) < 0) {
		rc = err_set(e, -EBADMSG, "clear-signed message: signature is not base64");
		goto fail;
	}
	if (buf_error(&c.text) < 0 || buf_error(&c.signature) < 0) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	integrity_clearsign_release(&c);
	return rc;
}

/* ------------------------------------------------------------- gpgme */

static int gpg_ctx(const char *home, gpgme_ctx_t *out, struct arca_err *e)
{
	static bool inited;
	if (!inited) {
		gpgme_check_version(NULL);
		setlocale(LC_CTYPE, "");
		inited = true;
	}
	gpgme_ctx_t ctx;
	gpgme_error_t err = gpgme_new(&ctx);
	if (err)
		return err_set(e, -ENOMEM, "gpgme: %s", gpgme_strerror(err));
	err = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
	if (!err)
		err = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home);
	if (err) {
		gpgme_release(ctx);
		return err_set(e, -EIO, "gpgme: cannot use GNUPGHOME '%s': %s", home, gpgme_strerror(err));
	}
	*out = ctx;
	return 0;
}

static void gpg_ctxp(gpgme_ctx_t *c)
{
	if (*c)
		gpgme_release(*c);
}
static void gpg_datap(gpgme_data_t *d)
{
	if (*d)
		gpgme_data_release(*d);
}
static void gpg_keyp(gpgme_key_t *k)
{
	if (*k)
		gpgme_key_unref(*k);
}

static int data_to_buf(gpgme_data_t d, struct buf *out)
{
	size_t n = 0;
	char *p = gpgme_data_release_and_get_mem(d, &n);
	if (!p)
		return n ? -ENOMEM : 0;
	buf_add(out, p, n);
	gpgme_free(p);
	return buf_error(out);
}

static int fpr_bin(const char *hex, uint8_t fp[SIF_FINGERPRINT_LEN])
{
	size_t got = 0;
	if (!hex || strlen(hex) != 2 * SIF_FINGERPRINT_LEN ||
	    hex_decode(hex, 2 * SIF_FINGERPRINT_LEN, fp, SIF_FINGERPRINT_LEN, &got) < 0 || got != SIF_FINGERPRINT_LEN)
		return -EINVAL;
	return 0;
}

/* gpg asks (loopback pinentry) only for protected keys: the given
 * passphrase, else the caller's prompt, else give up. No retries. */
static gpgme_error_t pass_cb(void *hook, const char *uid_hint, const char *info, int prev_bad, int fd)
{
	(void)info;
	struct integrity_signer *s = hook;
	if (prev_bad)
		return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
	char *asked = NULL;
	const char *pass = s->pgp_pass;
	if (!pass && s->prompt)
		pass = asked = s->prompt(s->prompt_ctx, uid_hint ? uid_hint : "OpenPGP key");
	if (!pass)
		return gpgme_error(GPG_ERR_NO_PASSPHRASE);
	gpgme_error_t err = 0;
	if (fd_write_full(fd, pass, strlen(pass)) < 0 || fd_write_full(fd, "\n", 1) < 0)
		err = gpgme_error(GPG_ERR_CANCELED);
	if (asked) {
		secure_wipe(asked, strlen(asked));
		free(asked);
	}
	return err;
}

/* The secret key chosen by fingerprint (primary or subkey) or by index. */
static int pick_secret_key(gpgme_ctx_t ctx, const char *fpr, size_t idx, gpgme_key_t *out, struct arca_err *e)
{
	gpgme_error_t err = gpgme_op_keylist_start(ctx, NULL, 1);
	if (err)
		return err_set(e, -EIO, "gpgme: cannot list secret keys: %s", gpgme_strerror(err));
	gpgme_key_t key, found = NULL;
	size_t i = 0;
	while (!found && !gpgme_op_keylist_next(ctx, &key)) {
		bool match = false;
		if (fpr) {
			for (gpgme_subkey_t sk = key->subkeys; sk && !match; sk = sk->next)
				match = sk->fpr && !strcasecmp(sk->fpr, fpr);
		} else {
			match = i == idx;
		}
		i++;
		if (match)
			found = key;
		else
			gpgme_key_unref(key);
	}
	gpgme_op_keylist_end(ctx);
	if (!found) {
		if (fpr)
			return err_set(e, -ENOENT, "no secret OpenPGP key with fingerprint %s", fpr);
		return err_set(e, -ENOENT, "no secret OpenPGP key at index %zu (%zu keys)", idx, i);
	}
	if (!found->can_sign || found->revoked || found->expired || found->disabled) {
		gpgme_key_unref(found);
		return err_set(e, -EPERM, "the OpenPGP key cannot sign (revoked, expired or disabled)");
	}
	*out = found;
	return 0;
}

int pgp_clearsign(struct integrity_signer *s, const uint8_t *text, size_t n, struct buf *out,
		  uint8_t fp[SIF_FINGERPRINT_LEN], enum integrity_hash *sig_hash, struct arca_err *e)
{
	_cleanup_(gpg_ctxp) gpgme_ctx_t ctx = NULL;
	_cleanup_(gpg_datap) gpgme_data_t in = NULL;
	gpgme_data_t sig = NULL;
	_cleanup_(gpg_keyp) gpgme_key_t key = NULL;
	int rc = gpg_ctx(s->gnupghome, &ctx, e);
	if (rc < 0)
		return rc;
	if ((rc = pick_secret_key(ctx, s->pgp_fpr, s->pgp_idx, &key, e)) < 0)
		return rc;
	if (fpr_bin(key->fpr, fp) < 0)
		return err_set(e, -EINVAL, "OpenPGP key has no v4 fingerprint");
	gpgme_set_armor(ctx, 1);
	gpgme_set_textmode(ctx, 1);
	gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
	gpgme_set_passphrase_cb(ctx, pass_cb, s);
	if (gpgme_signers_add(ctx, key) || gpgme_data_new_from_mem(&in, (const char *)text, n, 0) ||
	    gpgme_data_new(&sig))
		return err_set(e, -ENOMEM, "gpgme: out of memory");
	gpgme_error_t err = gpgme_op_sign(ctx, in, sig, GPGME_SIG_MODE_CLEAR);
	if (err) {
		gpgme_data_release(sig);
		return err_set(e, -EPERM, "OpenPGP signing failed: %s", gpgme_strerror(err));
	}
	gpgme_sign_result_t res = gpgme_op_sign_result(ctx);
	if (!res || !res->signatures || res->invalid_signers) {
		gpgme_data_release(sig);
		return err_set(e, -EPERM, "OpenPGP signing produced no signature");
	}
	gpgme_hash_algo_t hash = res->signatures->hash_algo;
	if ((rc = data_to_buf(sig, out)) < 0)
		return err_set(e, rc, "out of memory");
	/* The descriptor's hash type must name the signature's digest. */
	if (hash == GPGME_MD_SHA256)
		*sig_hash = INTEGRITY_SHA256;
	else if (hash == GPGME_MD_SHA384)
		*sig_hash = INTEGRITY_SHA384;
	else if (hash == GPGME_MD_SHA512)
		*sig_hash = INTEGRITY_SHA512;
	else
		return err_set(e, -EPERM, "gpg signed with digest %s; configure SHA256, SHA384 or SHA512",
			       gpgme_hash_algo_name(hash));
	return 0;
}

int pgp_verify_clearsigned(const char *home, const uint8_t *msg, size_t n, struct buf *text_out,
			   uint8_t fp[SIF_FINGERPRINT_LEN], struct arca_err *e)
{
	struct integrity_clearsign cs;
	_cleanup_(gpg_ctxp) gpgme_ctx_t ctx = NULL;
	_cleanup_(gpg_datap) gpgme_data_t in = NULL;
	gpgme_data_t plain = NULL;
	_cleanup_(gpg_keyp) gpgme_key_t key = NULL;
	_cleanup_buf_ struct buf got = BUF_INIT;
	int rc;

	if (!home)
		return err_set(e, -EPERM, "no OpenPGP keyring given for an OpenPGP signature");
	rc = integrity_clearsign_parse((const char *)msg, n, &cs, e);
	if (rc < 0)
		return rc == -ENOMEM ? rc : -EPERM;
	if ((rc = gpg_ctx(home, &ctx, e)) < 0)
		goto out;
	if (gpgme_data_new_from_mem(&in, (const char *)msg, n, 0) || gpgme_data_new(&plain)) {
		rc = err_set(e, -ENOMEM, "gpgme: out of memory");
		goto out;
	}
	gpgme_error_t err = gpgme_op_verify(ctx, in, NULL, plain);
	if (err) {
		gpgme_data_release(plain);
		rc = err_set(e, -EPERM, "OpenPGP verification failed: %s", gpgme_strerror(err));
		goto out;
	}
	if ((rc = data_to_buf(plain, &got)) < 0) {
		err_set(e, rc, "out of memory");
		goto out;
	}
	gpgme_verify_result_t res = gpgme_op_verify_result(ctx);
	if (!res || !res->signatures) {
		rc = err_set(e, -EPERM, "OpenPGP: no signature found");
		goto out;
	}
	if (res->signatures->next) {
		rc = err_set(e, -EPERM, "OpenPGP: more than one signature in one message");
		goto out;
	}
	gpgme_signature_t sig = res->signatures;
	if (gpgme_err_code(sig->status) != GPG_ERR_NO_ERROR) {
		if (gpgme_err_code(sig->status) == GPG_ERR_NO_PUBKEY)
			rc = err_set(e, -ENOKEY, "OpenPGP: signing key %s is not in the keyring", sig->fpr ? sig->fpr : "?");
		else
			rc = err_set(e, -EPERM, "OpenPGP: bad signature: %s", gpgme_strerror(sig->status));
		goto out;
	}
	/* RFC 4880 hashes not deprecated by NIST, as the reference accepts. */
	if (sig->hash_algo != GPGME_MD_SHA224 && sig->hash_algo != GPGME_MD_SHA256 &&
	    sig->hash_algo != GPGME_MD_SHA384 && sig->hash_algo != GPGME_MD_SHA512) {
		rc = err_set(e, -EPERM, "OpenPGP: signature digest %s not accepted", gpgme_hash_algo_name(sig->hash_algo));
		goto out;
	}
	/* gpg reports the signed text with a final line break. */
	if (got.len && got.p[got.len - 1] == '\n')
		buf_setlen(&got, got.len - 1);
	if (got.len && got.p[got.len - 1] == '\r')
		buf_setlen(&got, got.len - 1);
	if (got.len != cs.text.len || memcmp(got.p, cs.text.p, got.len) != 0) {
		rc = err_set(e, -EPERM, "OpenPGP: signed text differs from the message text");
		goto out;
	}
	err = gpgme_get_key(ctx, sig->fpr, &key, 0);
	if (err || !key || fpr_bin(key->fpr, fp) < 0) {
		rc = err_set(e, -EPERM, "OpenPGP: cannot resolve the signing key's primary fingerprint");
		goto out;
	}
	buf_add(text_out, cs.text.p, cs.text.len);
	rc = buf_error(text_out);
out:
	integrity_clearsign_release(&cs);
	return rc;
}
