/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Legacy SIFHASH signatures (verify only): a clear-signed text
 * "SIFHASH:\n<hex digest>" over the data of one object, or of all of a
 * group's objects concatenated. They protect neither the header nor the
 * descriptors, so arca only checks them when asked to (--legacy-insecure).
 */
#include "internal.h"

static const char legacy_prefix[] = "SIFHASH:\n";

bool legacy_is_legacy(const uint8_t *p, size_t n)
{
	struct integrity_clearsign cs;
	if (integrity_clearsign_parse((const char *)p, n, &cs, NULL) < 0)
		return false;
	bool legacy = cs.text.len >= sizeof(legacy_prefix) - 1 &&
		      !memcmp(cs.text.p, legacy_prefix, sizeof(legacy_prefix) - 1);
	integrity_clearsign_release(&cs);
	return legacy;
}

int legacy_digest_parse(const char *text, size_t n, enum integrity_hash h, struct integrity_digest *out,
			struct arca_err *e)
{
	size_t pl = sizeof(legacy_prefix) - 1;
	if (n < pl || memcmp(text, legacy_prefix, pl) != 0)
		return err_set(e, -EPERM, "legacy signature: text does not start with SIFHASH");
	text += pl;
	n -= pl;
	if (n && text[n - 1] == '\n')
		n--;
	size_t want = integrity_hash_size(h);
	size_t got = 0;
	if (!want || n != 2 * want || hex_decode(text, n, out->v, sizeof(out->v), &got) < 0 || got != want)
		return err_set(e, -EPERM, "legacy signature: malformed digest");
	out->alg = h;
	out->len = want;
	return 0;
}

int legacy_digest_objects(const struct sif_image *img, const struct sif_descr *const *ds, size_t n,
			  enum integrity_hash h, struct integrity_digest *out)
{
	const EVP_MD *md = integrity_evp_md(h);
	if (!md)
		return -EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	int rc = -EIO;
	unsigned int len = 0;
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (EVP_DigestUpdate(ctx, sif_object_data(img, ds[i]), (size_t)ds[i]->size) != 1)
			goto out;
	if (EVP_DigestFinal_ex(ctx, out->v, &len) != 1)
		goto out;
	out->alg = h;
	out->len = len;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}
