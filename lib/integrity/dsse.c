/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DSSE envelopes (secure-systems-lab DSSE v1) as the reference writes them:
 * payload type application/vnd.sylabs.sif-metadata+json, signatures over
 * the pre-authentication encoding, key IDs as SSH SHA256 fingerprints.
 */
#include "internal.h"

#include <openssl/core_names.h>
#include <openssl/rsa.h>

/* ------------------------------------------------------------ base64 */

static const char b64_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_encode(const uint8_t *p, size_t n, bool pad, struct buf *out)
{
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		char q[4] = { b64_alpha[v >> 18], b64_alpha[(v >> 12) & 63], b64_alpha[(v >> 6) & 63], b64_alpha[v & 63] };
		buf_add(out, q, 4);
	}
	size_t rest = n - i;
	if (rest) {
		uint32_t v = (uint32_t)p[i] << 16 | (rest == 2 ? (uint32_t)p[i + 1] << 8 : 0);
		buf_addch(out, b64_alpha[v >> 18]);
		buf_addch(out, b64_alpha[(v >> 12) & 63]);
		if (rest == 2)
			buf_addch(out, b64_alpha[(v >> 6) & 63]);
		if (pad)
			buf_add(out, "==", 3 - rest);
	}
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-') /* standard and URL-safe alphabets */
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int b64_decode(const char *s, size_t n, bool raw, struct buf *out)
{
	size_t pad = 0;
	if (!raw) {
		if (n % 4)
			return -EBADMSG;
		while (pad < 2 && n > 0 && s[n - 1] == '=') {
			n--;
			pad++;
		}
	}
	if (n % 4 == 1)
		return -EBADMSG;
	if (!raw && pad != (4 - n % 4) % 4)
		return -EBADMSG;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val(s[i]);
		if (v < 0)
			return -EBADMSG;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addch(out, (char)(acc >> bits));
			acc &= (1u << bits) - 1;
		}
	}
	/* Canonical encodings leave no stray set bits. */
	if (acc != 0)
		return -EBADMSG;
	return buf_error(out);
}

/* -------------------------------------------------------- envelopes */

void integrity_dsse_release(struct integrity_dsse *d)
{
	if (!d)
		return;
	free(d->payload_type);
	free(d->payload);
	for (size_t i = 0; i < d->nsigs; i++) {
		free(d->sigs[i].keyid);
		free(d->sigs[i].sig);
	}
	free(d->sigs);
	memset(d, 0, sizeof(*d));
}

static int b64_field(const struct val *v, uint8_t **out, size_t *len)
{
	struct buf b = BUF_INIT;
	if (!v || v->kind != VAL_STRING)
		return -EBADMSG;
	/* go-securesystemslib accepts standard or URL-safe, padded or not. */
	int rc = b64_decode(v->str.s, v->str.len, false, &b);
	if (rc < 0) {
		buf_reset(&b);
		rc = b64_decode(v->str.s, v->str.len, true, &b);
	}
	if (rc < 0) {
		buf_release(&b);
		return rc;
	}
	*out = (uint8_t *)buf_detach(&b, len);
	return *out ? 0 : -ENOMEM;
}

int integrity_dsse_parse(const char *text, size_t len, struct integrity_dsse *out, struct arca_err *e)
{
	struct json_limits lim = { .max_depth = 4, .max_bytes = INTEGRITY_DSSE_MAX_BYTES,
				   .max_items = 8 + 4 * INTEGRITY_DSSE_MAX_SIGS };
	_cleanup_val_ struct val *root = NULL;
	struct integrity_dsse d = { 0 };
	int rc;

	if (len > INTEGRITY_DSSE_MAX_BYTES)
		return err_set(e, -E2BIG, "dsse: envelope larger than %u bytes", INTEGRITY_DSSE_MAX_BYTES);
	rc = val_from_json(text, len, &lim, &root, e);
	if (rc < 0)
		return err_wrap(e, rc, "dsse: envelope");
	if (root->kind != VAL_OBJECT)
		return err_set(e, -EBADMSG, "dsse: envelope is not a JSON object");
	const char *pt = val_str(val_object_get_cstr(root, "payloadType"));
	if (!pt)
		return err_set(e, -EBADMSG, "dsse: payloadType missing");
	d.payload_type = strdup(pt);
	if (!d.payload_type)
		return err_set(e, -ENOMEM, "out of memory");
	rc = b64_field(val_object_get_cstr(root, "payload"), &d.payload, &d.payload_len);
	if (rc < 0) {
		rc = err_set(e, rc == -ENOMEM ? rc : -EBADMSG, "dsse: payload missing or not base64");
		goto fail;
	}
	const struct val *sigs = val_object_get_cstr(root, "signatures");
	if (!sigs || sigs->kind != VAL_ARRAY || sigs->arr.n == 0) {
		rc = err_set(e, -EBADMSG, "dsse: no signatures");
		goto fail;
	}
	if (sigs->arr.n > INTEGRITY_DSSE_MAX_SIGS) {
		rc = err_set(e, -E2BIG, "dsse: more than %d signatures", INTEGRITY_DSSE_MAX_SIGS);
		goto fail;
	}
	d.sigs = calloc(sigs->arr.n, sizeof(*d.sigs));
	if (!d.sigs) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < sigs->arr.n; i++) {
		const struct val *s = sigs->arr.items[i];
		struct integrity_dsse_sig *ds = &d.sigs[i];
		d.nsigs = i + 1;
		if (s->kind != VAL_OBJECT) {
			rc = err_set(e, -EBADMSG, "dsse: signature %zu is not an object", i);
			goto fail;
		}
		const struct val *kid = val_object_get_cstr(s, "keyid");
		if (kid && kid->kind != VAL_STRING && kid->kind != VAL_NULL) {
			rc = err_set(e, -EBADMSG, "dsse: signature %zu: keyid is not a string", i);
			goto fail;
		}
		ds->keyid = strdup(kid && kid->kind == VAL_STRING ? kid->str.s : "");
		if (!ds->keyid) {
			rc = err_set(e, -ENOMEM, "out of memory");
			goto fail;
		}
		rc = b64_field(val_object_get_cstr(s, "sig"), &ds->sig, &ds->sig_len);
		if (rc < 0 || ds->sig_len == 0) {
			rc = err_set(e, rc == -ENOMEM ? rc : -EBADMSG, "dsse: signature %zu: sig missing or not base64", i);
			goto fail;
		}
	}
	*out = d;
	return 0;
fail:
	integrity_dsse_release(&d);
	return rc;
}

void integrity_dsse_serialise(const struct integrity_dsse *d, struct buf *out)
{
	buf_addstr(out, "{\"payloadType\":");
	json_quote(out, d->payload_type, strlen(d->payload_type), JSON_ESCAPE_HTML);
	buf_addstr(out, ",\"payload\":\"");
	b64_encode(d->payload, d->payload_len, true, out);
	buf_addstr(out, "\",\"signatures\":[");
	for (size_t i = 0; i < d->nsigs; i++) {
		if (i)
			buf_addch(out, ',');
		buf_addstr(out, "{\"keyid\":");
		json_quote(out, d->sigs[i].keyid, strlen(d->sigs[i].keyid), JSON_ESCAPE_HTML);
		buf_addstr(out, ",\"sig\":\"");
		b64_encode(d->sigs[i].sig, d->sigs[i].sig_len, true, out);
		buf_addstr(out, "\"}");
	}
	/* No trailing newline: the reference's signature objects and
	 * goldens end with the closing brace. */
	buf_addstr(out, "]}");
}

void integrity_dsse_pae(const char *type, const uint8_t *payload, size_t n, struct buf *out)
{
	size_t tl = strlen(type);
	buf_addf(out, "DSSEv1 %zu ", tl);
	buf_add(out, type, tl);
	buf_addf(out, " %zu ", n);
	buf_add(out, payload, n);
}

bool dsse_looks_like(const uint8_t *p, size_t n)
{
	/* The reference decides by decoding JSON with the right payload
	 * type; a clear-signed message never starts with '{'. */
	while (n && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
		p++;
		n--;
	}
	return n && *p == '{';
}

/* -------------------------------------------------------------- keyid */

static void ssh_string(struct buf *b, const void *p, size_t n)
{
	uint8_t len[4];
	put_u32be(len, (uint32_t)n);
	buf_add(b, len, 4);
	buf_add(b, p, n);
}

static int ssh_mpint(struct buf *b, const EVP_PKEY *k, const char *param)
{
	BIGNUM *bn = NULL;
	if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
		return -EINVAL;
	int nb = BN_num_bytes(bn);
	uint8_t *tmp = malloc((size_t)nb + 1);
	if (!tmp) {
		BN_free(bn);
		return -ENOMEM;
	}
	/* SSH mpint: big-endian, a leading zero when the top bit is set. */
	tmp[0] = 0;
	BN_bn2bin(bn, tmp + 1);
	size_t off = (nb > 0 && (tmp[1] & 0x80)) ? 0 : 1;
	ssh_string(b, tmp + off, (size_t)nb + 1 - off);
	free(tmp);
	BN_free(bn);
	return 0;
}

static int ssh_wire(const EVP_PKEY *k, struct buf *b)
{
	int id = EVP_PKEY_get_base_id(k);
	if (id == EVP_PKEY_ED25519) {
		uint8_t raw[32];
		size_t rl = sizeof(raw);
		if (EVP_PKEY_get_raw_public_key(k, raw, &rl) != 1 || rl != 32)
			return -EINVAL;
		ssh_string(b, "ssh-ed25519", 11);
		ssh_string(b, raw, rl);
		return 0;
	}
	if (id == EVP_PKEY_RSA) {
		ssh_string(b, "ssh-rsa", 7);
		int rc = ssh_mpint(b, k, OSSL_PKEY_PARAM_RSA_E);
		return rc < 0 ? rc : ssh_mpint(b, k, OSSL_PKEY_PARAM_RSA_N);
	}
	if (id == EVP_PKEY_EC) {
		char group[64];
		size_t gl = 0;
		if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &gl) != 1)
			return -EINVAL;
		const char *name;
		size_t fs;
		if (!strcmp(group, "prime256v1"))
			name = "nistp256", fs = 32;
		else if (!strcmp(group, "secp384r1"))
			name = "nistp384", fs = 48;
		else if (!strcmp(group, "secp521r1"))
			name = "nistp521", fs = 66;
		else
			return -EINVAL;
		BIGNUM *x = NULL, *y = NULL;
		uint8_t pt[1 + 2 * 66];
		int rc = -EINVAL;
		if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
		    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
		    BN_bn2binpad(x, pt + 1, (int)fs) == (int)fs && BN_bn2binpad(y, pt + 1 + fs, (int)fs) == (int)fs) {
			/* SSH: the uncompressed point, whatever form the PEM used. */
			pt[0] = 4;
			char kt[32];
			snprintf(kt, sizeof(kt), "ecdsa-sha2-%s", name);
			ssh_string(b, kt, strlen(kt));
			ssh_string(b, name, strlen(name));
			ssh_string(b, pt, 1 + 2 * fs);
			rc = 0;
		}
		BN_free(x);
		BN_free(y);
		return rc;
	}
	return -EINVAL;
}

int integrity_keyid(const void *pkey, char out[INTEGRITY_KEYID_MAX], struct arca_err *e)
{
	_cleanup_buf_ struct buf w = BUF_INIT;
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct integrity_digest d;
	int rc = ssh_wire(pkey, &w);
	if (rc < 0)
		return err_set(e, rc, "unsupported key type for a key ID");
	if ((rc = buf_error(&w)) < 0 || (rc = integrity_digest_bytes(INTEGRITY_SHA256, w.p, w.len, &d)) < 0)
		return err_set(e, rc, "cannot compute key ID");
	buf_addstr(&b, "SHA256:");
	b64_encode(d.v, d.len, false, &b);
	if (buf_error(&b) < 0 || b.len >= INTEGRITY_KEYID_MAX)
		return err_set(e, -ENOMEM, "out of memory");
	memcpy(out, b.p, b.len + 1);
	return 0;
}

/* ------------------------------------------------- sign and verify */

static int pkey_sign(EVP_PKEY *k, enum integrity_hash h, bool pss, const struct buf *msg, uint8_t **sig,
		     size_t *sig_len)
{
	int id = EVP_PKEY_get_base_id(k);
	/* Ed25519 signs the message itself; the others sign its digest. */
	const EVP_MD *md = id == EVP_PKEY_ED25519 ? NULL : integrity_evp_md(h);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int rc = -EIO;
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestSignInit(ctx, &pctx, md, NULL, k) != 1)
		goto out;
	if (id == EVP_PKEY_RSA) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) != 1)
			goto out;
		if (pss && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
			goto out;
	}
	size_t n = 0;
	if (EVP_DigestSign(ctx, NULL, &n, (const uint8_t *)msg->p, msg->len) != 1)
		goto out;
	*sig = malloc(n);
	if (!*sig) {
		rc = -ENOMEM;
		goto out;
	}
	if (EVP_DigestSign(ctx, *sig, &n, (const uint8_t *)msg->p, msg->len) != 1) {
		free(*sig);
		*sig = NULL;
		goto out;
	}
	*sig_len = n;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* 1 when @sig verifies, 0 when not. */
static int pkey_verify_padding(EVP_PKEY *k, enum integrity_hash h, int padding, const struct buf *msg,
			       const uint8_t *sig, size_t n)
{
	int id = EVP_PKEY_get_base_id(k);
	const EVP_MD *md = id == EVP_PKEY_ED25519 ? NULL : integrity_evp_md(h);
	if (id != EVP_PKEY_ED25519 && !md)
		return 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = 0;
	if (!ctx)
		return 0;
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k) != 1)
		goto out;
	if (id == EVP_PKEY_RSA) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, padding) != 1)
			goto out;
		if (padding == RSA_PKCS1_PSS_PADDING && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1)
			goto out;
	}
	ok = EVP_DigestVerify(ctx, sig, n, (const uint8_t *)msg->p, msg->len) == 1;
out:
	EVP_MD_CTX_free(ctx);
	return ok;
}

static bool pkey_verify(EVP_PKEY *k, enum integrity_hash h, const struct buf *msg, const uint8_t *sig, size_t n)
{
	if (pkey_verify_padding(k, h, RSA_PKCS1_PADDING, msg, sig, n))
		return true;
	/* RSA keys may have signed with PSS (sigstore's RSA-PSS signer). */
	return EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA &&
	       pkey_verify_padding(k, h, RSA_PKCS1_PSS_PADDING, msg, sig, n);
}

int dsse_sign(struct integrity_signer *s, const uint8_t *payload, size_t n, struct buf *out, struct arca_err *e)
{
	struct integrity_dsse d = { 0 };
	_cleanup_buf_ struct buf pae = BUF_INIT;
	int rc = 0;

	if (s->nkeys == 0)
		return err_set(e, -EINVAL, "no signing key");
	integrity_dsse_pae(INTEGRITY_DSSE_PAYLOAD_TYPE, payload, n, &pae);
	if (buf_error(&pae) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	d.payload_type = strdup(INTEGRITY_DSSE_PAYLOAD_TYPE);
	d.payload = malloc(n ? n : 1);
	d.sigs = calloc(s->nkeys, sizeof(*d.sigs));
	if (!d.payload_type || !d.payload || !d.sigs) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(d.payload, payload, n);
	d.payload_len = n;
	for (size_t i = 0; i < s->nkeys; i++) {
		struct integrity_dsse_sig *ds = &d.sigs[i];
		char kid[INTEGRITY_KEYID_MAX];
		d.nsigs = i + 1;
		rc = integrity_keyid(s->keys[i], kid, e);
		if (rc < 0)
			goto out;
		ds->keyid = strdup(kid);
		if (!ds->keyid) {
			rc = err_set(e, -ENOMEM, "out of memory");
			goto out;
		}
		rc = pkey_sign(s->keys[i], s->hash, s->rsa_pss, &pae, &ds->sig, &ds->sig_len);
		if (rc < 0) {
			rc = err_set(e, rc, "signing with key %zu (%s) failed", i + 1, kid);
			goto out;
		}
	}
	integrity_dsse_serialise(&d, out);
	rc = buf_error(out);
	if (rc < 0)
		err_set(e, rc, "out of memory");
out:
	integrity_dsse_release(&d);
	return rc;
}

int dsse_verify(const struct integrity_verifier *v, enum integrity_hash h, const char *text, size_t len,
		struct buf *payload_out, struct integrity_sig_result *res, struct arca_err *e)
{
	struct integrity_dsse d = { 0 };
	_cleanup_buf_ struct buf pae = BUF_INIT;
	char kids[16][INTEGRITY_KEYID_MAX];
	size_t nk = v->nkeys < ARRAY_SIZE(kids) ? v->nkeys : ARRAY_SIZE(kids);
	bool accepted[16] = { false };
	size_t naccepted = 0;
	int rc;

	if (v->nkeys == 0)
		return err_set(e, -ENOKEY, "no public key or certificate given for a DSSE signature");
	if (h == INTEGRITY_HASH_NONE)
		return err_set(e, -EPERM, "signature descriptor names an unsupported hash type");
	rc = integrity_dsse_parse(text, len, &d, e);
	if (rc < 0)
		return rc == -ENOMEM ? rc : -EPERM;
	integrity_dsse_pae(d.payload_type, d.payload, d.payload_len, &pae);
	if ((rc = buf_error(&pae)) < 0) {
		err_set(e, rc, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < nk; k++)
		if (integrity_keyid(v->keys[k], kids[k], NULL) < 0)
			kids[k][0] = '\0';
	/* DSSE (threshold 1, as the reference): the envelope holds when at
	 * least one trusted key verifies a signature over the PAE. A key ID
	 * in the envelope only narrows which keys are tried. */
	for (size_t i = 0; i < d.nsigs; i++) {
		for (size_t k = 0; k < nk; k++) {
			if (d.sigs[i].keyid[0] && kids[k][0] && strcmp(d.sigs[i].keyid, kids[k]) != 0)
				continue;
			if (!pkey_verify(v->keys[k], h, &pae, d.sigs[i].sig, d.sigs[i].sig_len))
				continue;
			if (!accepted[k]) {
				accepted[k] = true;
				naccepted++;
			}
		}
	}
	if (naccepted == 0) {
		rc = err_set(e, -ENOKEY, "dsse: no signature in the envelope verifies with the given key(s)");
		goto out;
	}
	if (strcmp(d.payload_type, INTEGRITY_DSSE_PAYLOAD_TYPE) != 0) {
		rc = err_set(e, -EPERM, "dsse: unexpected payload type \"%s\"", d.payload_type);
		goto out;
	}
	res->nkeyids = 0;
	for (size_t k = 0; k < nk; k++)
		if (accepted[k] && res->nkeyids < ARRAY_SIZE(res->keyids))
			memcpy(res->keyids[res->nkeyids++], kids[k], INTEGRITY_KEYID_MAX);
	buf_add(payload_out, d.payload, d.payload_len);
	rc = buf_error(payload_out);
out:
	integrity_dsse_release(&d);
	return rc;
}
