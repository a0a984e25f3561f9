/* SPDX-License-Identifier: Apache-2.0 */
/* Key management for `arca key`: the OpenPGP keyring (gpgme, one
 * GNUPGHOME per key directory) and PEM key pairs. */
#include "internal.h"

#include <gpgme.h>
#include <openssl/pem.h>

/* Named limits: keys listed, key material imported. */
#define KEYRING_MAX_KEYS 4096
#define KEYRING_MAX_IMPORT (16u << 20)

static gpgme_error_t pass_cb(void *hook, const char *uid_hint, const char *info, int prev_bad, int fd)
{
	(void)uid_hint;
	(void)info;
	const char *pass = hook;
	if (prev_bad || !pass)
		return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
	if (fd_write_full(fd, pass, strlen(pass)) < 0 || fd_write_full(fd, "\n", 1) < 0)
		return gpgme_error(GPG_ERR_CANCELED);
	return 0;
}

static int open_ctx(const char *home, const char *pass, gpgme_ctx_t *out, struct arca_err *e)
{
	gpgme_check_version(NULL);
	gpgme_ctx_t ctx;
	gpgme_error_t err = gpgme_new(&ctx);
	if (err)
		return err_set(e, -ENOMEM, "gpgme: %s", gpgme_strerror(err));
	err = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home);
	if (err) {
		gpgme_release(ctx);
		return err_set(e, -EIO, "gpgme: cannot use GNUPGHOME '%s': %s", home, gpgme_strerror(err));
	}
	if (pass) {
		gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
		gpgme_set_passphrase_cb(ctx, pass_cb, (void *)pass);
	}
	*out = ctx;
	return 0;
}

static void ctxp(gpgme_ctx_t *c)
{
	if (*c)
		gpgme_release(*c);
}

int integrity_pgp_list(const char *home, bool secret, struct integrity_pgp_key **out, size_t *n, struct arca_err *e)
{
	_cleanup_(ctxp) gpgme_ctx_t ctx = NULL;
	int rc = open_ctx(home, NULL, &ctx, e);
	if (rc < 0)
		return rc;
	gpgme_error_t err = gpgme_op_keylist_start(ctx, NULL, secret ? 1 : 0);
	if (err)
		return err_set(e, -EIO, "gpgme: cannot list keys: %s", gpgme_strerror(err));
	struct integrity_pgp_key *v = NULL;
	size_t k = 0;
	gpgme_key_t key;
	while (!gpgme_op_keylist_next(ctx, &key)) {
		struct integrity_pgp_key *nv = k < KEYRING_MAX_KEYS ? realloc(v, (k + 1) * sizeof(*nv)) : NULL;
		if (!nv) {
			gpgme_key_unref(key);
			gpgme_op_keylist_end(ctx);
			free(v);
			return err_set(e, k < KEYRING_MAX_KEYS ? -ENOMEM : -E2BIG, "cannot list keys");
		}
		v = nv;
		struct integrity_pgp_key *p = &v[k++];
		memset(p, 0, sizeof(*p));
		snprintf(p->fpr, sizeof(p->fpr), "%s", key->fpr ? key->fpr : "");
		snprintf(p->uid, sizeof(p->uid), "%s", key->uids && key->uids->uid ? key->uids->uid : "");
		if (key->subkeys) {
			char *algo = gpgme_pubkey_algo_string(key->subkeys);
			snprintf(p->algo, sizeof(p->algo), "%s", algo ? algo : "?");
			gpgme_free(algo);
			p->created = key->subkeys->timestamp;
			p->expires = key->subkeys->expires;
		}
		p->secret = key->secret;
		p->revoked = key->revoked;
		p->expired = key->expired;
		gpgme_key_unref(key);
	}
	gpgme_op_keylist_end(ctx);
	*out = v;
	*n = k;
	return 0;
}

int integrity_pgp_import(const char *home, const void *data, size_t n, size_t *imported, struct arca_err *e)
{
	_cleanup_(ctxp) gpgme_ctx_t ctx = NULL;
	gpgme_data_t d = NULL;
	if (n > KEYRING_MAX_IMPORT)
		return err_set(e, -E2BIG, "key material larger than %u bytes", KEYRING_MAX_IMPORT);
	int rc = open_ctx(home, NULL, &ctx, e);
	if (rc < 0)
		return rc;
	if (gpgme_data_new_from_mem(&d, data, n, 0))
		return err_set(e, -ENOMEM, "out of memory");
	gpgme_error_t err = gpgme_op_import(ctx, d);
	gpgme_data_release(d);
	if (err)
		return err_set(e, -EIO, "OpenPGP import failed: %s", gpgme_strerror(err));
	gpgme_import_result_t r = gpgme_op_import_result(ctx);
	if (!r || r->considered == 0)
		return err_set(e, -EBADMSG, "no OpenPGP keys found in the input");
	*imported = (size_t)r->imported + (size_t)r->secret_imported + (size_t)r->unchanged;
	return 0;
}

int integrity_pgp_export(const char *home, const char *pattern, bool secret, const char *pass, struct buf *out,
			 struct arca_err *e)
{
	_cleanup_(ctxp) gpgme_ctx_t ctx = NULL;
	gpgme_data_t d = NULL;
	int rc = open_ctx(home, pass, &ctx, e);
	if (rc < 0)
		return rc;
	gpgme_set_armor(ctx, 1);
	if (gpgme_data_new(&d))
		return err_set(e, -ENOMEM, "out of memory");
	gpgme_error_t err = gpgme_op_export(ctx, pattern, secret ? GPGME_EXPORT_MODE_SECRET : 0, d);
	size_t n = 0;
	char *p = gpgme_data_release_and_get_mem(d, &n);
	if (err || !p || n == 0) {
		gpgme_free(p);
		return err_set(e, -ENOENT, "no %s key matches '%s'%s%s", secret ? "secret" : "public", pattern,
			       err ? ": " : "", err ? gpgme_strerror(err) : "");
	}
	buf_add(out, p, n);
	secure_wipe(p, n);
	gpgme_free(p);
	return buf_error(out) < 0 ? err_set(e, -ENOMEM, "out of memory") : 0;
}

int integrity_pgp_remove(const char *home, const char *fpr, struct arca_err *e)
{
	_cleanup_(ctxp) gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	int rc = open_ctx(home, NULL, &ctx, e);
	if (rc < 0)
		return rc;
	/* Only an exact fingerprint removes a key: no pattern matching. */
	if (strlen(fpr) != 40 || gpgme_get_key(ctx, fpr, &key, 0) || !key)
		return err_set(e, -ENOENT, "no key with fingerprint '%s'", fpr);
	gpgme_error_t err = gpgme_op_delete_ext(ctx, key, GPGME_DELETE_ALLOW_SECRET | GPGME_DELETE_FORCE);
	gpgme_key_unref(key);
	if (err)
		return err_set(e, -EIO, "cannot remove key: %s", gpgme_strerror(err));
	return 0;
}

int integrity_pgp_generate(const char *home, const char *uid, const char *algo, const char *pass,
			   char fpr[INTEGRITY_FPR_HEX], struct arca_err *e)
{
	_cleanup_(ctxp) gpgme_ctx_t ctx = NULL;
	int rc = open_ctx(home, pass && *pass ? pass : NULL, &ctx, e);
	if (rc < 0)
		return rc;
	unsigned flags = GPGME_CREATE_SIGN | GPGME_CREATE_NOEXPIRE | GPGME_CREATE_FORCE;
	if (!pass || !*pass)
		flags |= GPGME_CREATE_NOPASSWD;
	gpgme_error_t err = gpgme_op_createkey(ctx, uid, algo ? algo : "rsa4096", 0, 0, NULL, flags);
	if (err)
		return err_set(e, -EIO, "cannot create the OpenPGP key: %s", gpgme_strerror(err));
	gpgme_genkey_result_t r = gpgme_op_genkey_result(ctx);
	if (!r || !r->fpr)
		return err_set(e, -EIO, "gpg created no key");
	snprintf(fpr, INTEGRITY_FPR_HEX, "%s", r->fpr);
	return 0;
}

int integrity_pem_generate(const char *type, const char *priv_path, const char *pub_path, const char *pass,
			   struct arca_err *e)
{
	EVP_PKEY *k = NULL;
	if (!type || !strcmp(type, "ed25519"))
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (!strcmp(type, "ecdsa"))
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (!strcmp(type, "rsa"))
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	else
		return err_set(e, -EINVAL, "unknown key type '%s' (ed25519, ecdsa or rsa)", type);
	if (!k)
		return err_set(e, -EIO, "key generation failed");
	BIO *priv = BIO_new(BIO_s_mem()), *pub = BIO_new(BIO_s_mem());
	int rc = -ENOMEM;
	if (!priv || !pub)
		goto out;
	const EVP_CIPHER *enc = pass && *pass ? EVP_aes_256_cbc() : NULL;
	if (PEM_write_bio_PKCS8PrivateKey(priv, k, enc, enc ? (char *)pass : NULL, enc ? (int)strlen(pass) : 0, NULL,
					  NULL) != 1 ||
	    PEM_write_bio_PUBKEY(pub, k) != 1) {
		rc = err_set(e, -EIO, "cannot encode the key");
		goto out;
	}
	char *p;
	long n = BIO_get_mem_data(priv, &p);
	rc = file_write_atomic(priv_path, p, (size_t)n, 0600, e);
	secure_wipe(p, (size_t)n);
	if (rc < 0)
		goto out;
	n = BIO_get_mem_data(pub, &p);
	rc = file_write_atomic(pub_path, p, (size_t)n, 0644, e);
out:
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(k);
	if (rc == -ENOMEM && e && !e->msg[0])
		err_set(e, rc, "out of memory");
	return rc;
}
