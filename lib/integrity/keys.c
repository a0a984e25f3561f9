/* SPDX-License-Identifier: Apache-2.0 */
/* Key material: PEM keys, X.509 certificates, signers, verifiers and the
 * key directory layout. */
#include "internal.h"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pwd.h>
#include <sys/stat.h>

/* Named limits: a key or certificate file, keys per signer/verifier. */
#define KEY_FILE_MAX (1u << 20)
#define KEYS_MAX 16

static int no_passphrase(char *pass, size_t size, size_t *len, const OSSL_PARAM params[], void *arg)
{
	(void)pass;
	(void)size;
	(void)params;
	(void)arg;
	*len = 0;
	return 0;
}

static int load_pkey(const char *path, bool private, const char *pass, EVP_PKEY **out, struct arca_err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = file_read_all(path, KEY_FILE_MAX, &b, e);
	if (rc < 0)
		return rc;
	EVP_PKEY *k = NULL;
	/* One decoder for PKCS#8, PKIX, PKCS#1 RSA and SEC1 EC in PEM. */
	OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(
		&k, "PEM", NULL, NULL, private ? OSSL_KEYMGMT_SELECT_KEYPAIR : OSSL_KEYMGMT_SELECT_PUBLIC_KEY, NULL, NULL);
	if (!dctx) {
		secure_wipe(b.p, b.len);
		return err_set(e, -ENOMEM, "out of memory");
	}
	/* Never let libcrypto prompt on its own: without a passphrase an
	 * encrypted key simply fails to decode and the caller asks. */
	if (pass)
		OSSL_DECODER_CTX_set_passphrase(dctx, (const unsigned char *)pass, strlen(pass));
	else
		OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, NULL);
	const unsigned char *p = (const unsigned char *)b.p;
	size_t left = b.len;
	int ok = OSSL_DECODER_from_data(dctx, &p, &left);
	OSSL_DECODER_CTX_free(dctx);
	secure_wipe(b.p, b.len);
	if (ok != 1 || !k)
		return err_set(e, -EBADMSG, "'%s': not a PEM %s key (or wrong passphrase)", path,
			       private ? "private" : "public");
	int id = EVP_PKEY_get_base_id(k);
	if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(k) < 2048) {
		EVP_PKEY_free(k);
		return err_set(e, -EINVAL, "'%s': RSA keys shorter than 2048 bits are refused", path);
	}
	if (id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519 && id != EVP_PKEY_EC) {
		EVP_PKEY_free(k);
		return err_set(e, -EINVAL, "'%s': unsupported key type (Ed25519, ECDSA or RSA expected)", path);
	}
	char kid[INTEGRITY_KEYID_MAX];
	if (integrity_keyid(k, kid, NULL) < 0) {
		EVP_PKEY_free(k);
		return err_set(e, -EINVAL, "'%s': unsupported elliptic curve", path);
	}
	*out = k;
	return 0;
}

static int keys_push(EVP_PKEY ***keys, size_t *n, EVP_PKEY *k, struct arca_err *e)
{
	if (*n >= KEYS_MAX) {
		EVP_PKEY_free(k);
		return err_set(e, -E2BIG, "more than %d keys", KEYS_MAX);
	}
	EVP_PKEY **nk = realloc(*keys, (*n + 1) * sizeof(*nk));
	if (!nk) {
		EVP_PKEY_free(k);
		return err_set(e, -ENOMEM, "out of memory");
	}
	nk[(*n)++] = k;
	*keys = nk;
	return 0;
}

/* ------------------------------------------------------------ signer */

int integrity_signer_new(struct integrity_signer **out)
{
	struct integrity_signer *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->hash = INTEGRITY_SHA256;
	*out = s;
	return 0;
}

static void free_secret(char *p)
{
	if (p) {
		secure_wipe(p, strlen(p));
		free(p);
	}
}

void integrity_signer_free(struct integrity_signer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nkeys; i++)
		EVP_PKEY_free(s->keys[i]);
	free(s->keys);
	free(s->gnupghome);
	free(s->pgp_fpr);
	free_secret(s->pgp_pass);
	free(s);
}

int integrity_signer_add_pem(struct integrity_signer *s, const char *path, const char *pass, struct arca_err *e)
{
	EVP_PKEY *k;
	if (s->pgp)
		return err_set(e, -EINVAL, "a signer uses either PEM keys or an OpenPGP key");
	int rc = load_pkey(path, true, pass, &k, e);
	return rc < 0 ? rc : keys_push(&s->keys, &s->nkeys, k, e);
}

int integrity_signer_set_hash(struct integrity_signer *s, enum integrity_hash h, struct arca_err *e)
{
	int32_t t;
	if (integrity_hash_to_sif(h, &t) < 0)
		return err_set(e, -EINVAL, "signatures use sha256, sha384 or sha512");
	s->hash = h;
	return 0;
}

void integrity_signer_set_rsa_pss(struct integrity_signer *s, bool pss) { s->rsa_pss = pss; }

void integrity_signer_set_prompt(struct integrity_signer *s, integrity_prompt_fn fn, void *ctx)
{
	s->prompt = fn;
	s->prompt_ctx = ctx;
}

int integrity_signer_set_pgp(struct integrity_signer *s, const char *home, const char *fpr, size_t idx,
			     const char *pass, struct arca_err *e)
{
	if (s->nkeys)
		return err_set(e, -EINVAL, "a signer uses either PEM keys or an OpenPGP key");
	s->gnupghome = strdup(home);
	s->pgp_fpr = fpr ? strdup(fpr) : NULL;
	s->pgp_pass = pass ? strdup(pass) : NULL;
	if (!s->gnupghome || (fpr && !s->pgp_fpr) || (pass && !s->pgp_pass))
		return err_set(e, -ENOMEM, "out of memory");
	s->pgp_idx = idx;
	s->pgp = true;
	return 0;
}

/* ---------------------------------------------------------- verifier */

int integrity_verifier_new(struct integrity_verifier **out)
{
	struct integrity_verifier *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*out = v;
	return 0;
}

void integrity_verifier_free(struct integrity_verifier *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nkeys; i++)
		EVP_PKEY_free(v->keys[i]);
	free(v->keys);
	free(v->gnupghome);
	free(v);
}

int integrity_verifier_add_pem(struct integrity_verifier *v, const char *path, struct arca_err *e)
{
	EVP_PKEY *k;
	/* A public key, or else the public half of a private key. */
	int rc = load_pkey(path, false, NULL, &k, NULL);
	if (rc < 0)
		rc = load_pkey(path, true, NULL, &k, e);
	return rc < 0 ? rc : keys_push(&v->keys, &v->nkeys, k, e);
}

int integrity_verifier_set_gnupghome(struct integrity_verifier *v, const char *home, struct arca_err *e)
{
	char *h = strdup(home);
	if (!h)
		return err_set(e, -ENOMEM, "out of memory");
	free(v->gnupghome);
	v->gnupghome = h;
	return 0;
}

static int read_certs(const char *path, STACK_OF(X509) **out, struct arca_err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = file_read_all(path, KEY_FILE_MAX, &b, e);
	if (rc < 0)
		return rc;
	BIO *bio = BIO_new_mem_buf(b.p, (int)b.len);
	STACK_OF(X509) *sk = sk_X509_new_null();
	if (!bio || !sk) {
		BIO_free(bio);
		sk_X509_free(sk);
		return err_set(e, -ENOMEM, "out of memory");
	}
	X509 *x;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(sk) >= 256 || !sk_X509_push(sk, x)) {
			X509_free(x);
			break;
		}
	}
	BIO_free(bio);
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return err_set(e, -EBADMSG, "'%s': no PEM certificate", path);
	}
	*out = sk;
	return 0;
}

/* X.509: a certificate with an extended key usage extension must list code
 * signing (or any usage); one without the extension is unrestricted. */
static bool allows_code_signing(X509 *x)
{
	uint32_t flags = X509_get_extension_flags(x);
	if (!(flags & EXFLAG_XKUSAGE))
		return true;
	uint32_t xku = X509_get_extended_key_usage(x);
	return (xku & XKU_CODE_SIGN) || (xku & XKU_ANYEKU);
}

int integrity_verifier_add_certificate(struct integrity_verifier *v, const char *cert, const char *intermediates,
				       const char *roots, struct arca_err *e)
{
	STACK_OF(X509) *leafs = NULL, *inter = NULL, *rootsk = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int rc = read_certs(cert, &leafs, e);
	if (rc < 0)
		return rc;
	if (intermediates && (rc = read_certs(intermediates, &inter, e)) < 0)
		goto out;
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (!store || !ctx) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	if (roots) {
		if ((rc = read_certs(roots, &rootsk, e)) < 0)
			goto out;
		for (int i = 0; i < sk_X509_num(rootsk); i++)
			X509_STORE_add_cert(store, sk_X509_value(rootsk, i));
	} else if (X509_STORE_set_default_paths(store) != 1) {
		rc = err_set(e, -EIO, "cannot load the system's trusted certificates");
		goto out;
	}
	X509 *leaf = sk_X509_value(leafs, 0);
	if (X509_STORE_CTX_init(ctx, store, leaf, inter) != 1) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		rc = err_set(e, -EPERM, "certificate '%s' not trusted: %s", cert,
			     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	for (int i = 0; i < sk_X509_num(chain); i++)
		if (!allows_code_signing(sk_X509_value(chain, i))) {
			rc = err_set(e, -EPERM, "certificate '%s': %s does not allow code signing", cert,
				     i == 0 ? "the certificate" : "a certificate in its chain");
			goto out;
		}
	uint32_t ku_flags = X509_get_extension_flags(leaf);
	if ((ku_flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) {
		rc = err_set(e, -EPERM, "certificate '%s': key usage does not allow digital signatures", cert);
		goto out;
	}
	EVP_PKEY *k = X509_get_pubkey(leaf);
	if (!k) {
		rc = err_set(e, -EBADMSG, "certificate '%s': unreadable public key", cert);
		goto out;
	}
	char kid[INTEGRITY_KEYID_MAX];
	if (integrity_keyid(k, kid, NULL) < 0) {
		EVP_PKEY_free(k);
		rc = err_set(e, -EINVAL, "certificate '%s': unsupported key type", cert);
		goto out;
	}
	rc = keys_push(&v->keys, &v->nkeys, k, e);
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(leafs, X509_free);
	sk_X509_pop_free(inter, X509_free);
	sk_X509_pop_free(rootsk, X509_free);
	return rc;
}

/* ---------------------------------------------------------- key dirs */

int integrity_keydir(bool global, struct buf *out, struct arca_err *e)
{
	if (global) {
		buf_addstr(out, "/etc/arca/keys");
	} else {
		const char *env = getenv("ARCA_KEYDIR");
		if (env && *env) {
			buf_addstr(out, env);
		} else {
			const char *home = getenv("HOME");
			if (!home || !*home) {
				struct passwd *pw = getpwuid(getuid());
				home = pw ? pw->pw_dir : NULL;
			}
			if (!home)
				return err_set(e, -ENOENT, "cannot find the home directory (set ARCA_KEYDIR)");
			buf_addf(out, "%s/.config/arca/keys", home);
		}
	}
	return buf_error(out) < 0 ? err_set(e, -ENOMEM, "out of memory") : 0;
}

static int mkdir_p(char *path, mode_t mode)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int r = mkdir(path, 0755);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -errno;
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int integrity_keydir_gnupg(bool global, bool create, struct buf *out, struct arca_err *e)
{
	int rc = integrity_keydir(global, out, e);
	if (rc < 0)
		return rc;
	buf_addstr(out, "/gnupg");
	if (buf_error(out) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	if (create) {
		rc = mkdir_p(out->p, 0700);
		if (rc < 0)
			return err_setsys(e, rc, "cannot create '%s'", out->p);
		/* gpg refuses homes that others can read. */
		if (chmod(out->p, 0700) < 0)
			return err_setsys(e, -errno, "cannot set the mode of '%s'", out->p);
		/* Sign with SHA-256 like the reference (gpg would otherwise
		 * follow the key's preferences, often SHA-512); an existing
		 * gpg.conf is the owner's and left alone. */
		_cleanup_buf_ struct buf conf = BUF_INIT;
		buf_addf(&conf, "%s/gpg.conf", out->p);
		if (buf_error(&conf) < 0)
			return err_set(e, -ENOMEM, "out of memory");
		if (access(conf.p, F_OK) < 0) {
			static const char text[] = "# written by arca: sign with SHA-256 as the reference SIF tools do\n"
						   "personal-digest-preferences SHA256\n";
			rc = file_write_atomic(conf.p, text, sizeof(text) - 1, 0600, e);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}
