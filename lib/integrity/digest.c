/* SPDX-License-Identifier: Apache-2.0 */
/* Digests, their "alg:hex" text form, and the integrity-protected streams. */
#include "internal.h"

#include <sys/mman.h>

static const struct {
	enum integrity_hash h;
	const char *name;
	size_t size;
} hashes[] = {
	{ INTEGRITY_SHA224, "sha224", 28 },         { INTEGRITY_SHA256, "sha256", 32 },
	{ INTEGRITY_SHA384, "sha384", 48 },         { INTEGRITY_SHA512, "sha512", 64 },
	{ INTEGRITY_SHA512_224, "sha512_224", 28 }, { INTEGRITY_SHA512_256, "sha512_256", 32 },
};

const char *integrity_hash_name(enum integrity_hash h)
{
	for (size_t i = 0; i < ARRAY_SIZE(hashes); i++)
		if (hashes[i].h == h)
			return hashes[i].name;
	return NULL;
}

size_t integrity_hash_size(enum integrity_hash h)
{
	for (size_t i = 0; i < ARRAY_SIZE(hashes); i++)
		if (hashes[i].h == h)
			return hashes[i].size;
	return 0;
}

enum integrity_hash integrity_hash_parse(const char *name)
{
	char norm[32];
	size_t j = 0;
	if (!name)
		return INTEGRITY_HASH_NONE;
	/* "SHA-512/256" and "sha512-256" spell the same function. */
	for (size_t i = 0; name[i] && j + 1 < sizeof(norm); i++) {
		char c = name[i];
		if (c == '-' && j == 3)
			continue;
		if (c == '/' || c == '-')
			c = '_';
		norm[j++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	norm[j] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(hashes); i++)
		if (!strcmp(norm, hashes[i].name))
			return hashes[i].h;
	return INTEGRITY_HASH_NONE;
}

int integrity_hash_to_sif(enum integrity_hash h, int32_t *out)
{
	/* SIF: the descriptor can only name SHA-256/384/512 among ours. */
	switch (h) {
	case INTEGRITY_SHA256: *out = SIF_HASH_SHA256; return 0;
	case INTEGRITY_SHA384: *out = SIF_HASH_SHA384; return 0;
	case INTEGRITY_SHA512: *out = SIF_HASH_SHA512; return 0;
	default: return -EINVAL;
	}
}

enum integrity_hash integrity_hash_from_sif(int32_t t)
{
	switch (t) {
	case SIF_HASH_SHA256: return INTEGRITY_SHA256;
	case SIF_HASH_SHA384: return INTEGRITY_SHA384;
	case SIF_HASH_SHA512: return INTEGRITY_SHA512;
	default: return INTEGRITY_HASH_NONE;
	}
}

const EVP_MD *integrity_evp_md(enum integrity_hash h)
{
	switch (h) {
	case INTEGRITY_SHA224: return EVP_sha224();
	case INTEGRITY_SHA256: return EVP_sha256();
	case INTEGRITY_SHA384: return EVP_sha384();
	case INTEGRITY_SHA512: return EVP_sha512();
	case INTEGRITY_SHA512_224: return EVP_sha512_224();
	case INTEGRITY_SHA512_256: return EVP_sha512_256();
	default: return NULL;
	}
}

/* Chunk size of the streaming pass: large enough to amortise the call,
 * small enough that read-ahead hints stay ahead of the hash. */
#define DIGEST_CHUNK (8u << 20)

int integrity_digest_bytes(enum integrity_hash h, const void *p, size_t n, struct integrity_digest *out)
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
	const uint8_t *b = p;
	long page = sysconf(_SC_PAGESIZE);
	for (size_t off = 0; off < n;) {
		size_t chunk = n - off < DIGEST_CHUNK ? n - off : DIGEST_CHUNK;
		/* Hint the kernel to read the next chunk while this one is
		 * hashed (mapped files only; a failure is harmless). */
		if (page > 0 && n - off > chunk) {
			uintptr_t next = (uintptr_t)(b + off + chunk) & ~((uintptr_t)page - 1);
			size_t ahead = n - off - chunk < DIGEST_CHUNK ? n - off - chunk : DIGEST_CHUNK;
			(void)madvise((void *)next, ahead, MADV_WILLNEED);
		}
		if (EVP_DigestUpdate(ctx, b + off, chunk) != 1)
			goto out;
		off += chunk;
	}
	if (EVP_DigestFinal_ex(ctx, out->v, &len) != 1)
		goto out;
	out->alg = h;
	out->len = len;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

void integrity_digest_json(const struct integrity_digest *d, struct buf *out)
{
	char hex[2 * INTEGRITY_DIGEST_MAX + 1];
	hex_encode(d->v, d->len, hex);
	buf_addf(out, "\"%s:%s\"", integrity_hash_name(d->alg), hex);
}

int integrity_digest_parse(const char *s, size_t n, struct integrity_digest *out)
{
	const char *colon = memchr(s, ':', n);
	if (!colon)
		return -EBADMSG;
	size_t nl = (size_t)(colon - s);
	char name[16];
	if (nl == 0 || nl >= sizeof(name))
		return -EBADMSG;
	memcpy(name, s, nl);
	name[nl] = '\0';
	enum integrity_hash h = INTEGRITY_HASH_NONE;
	/* Only the reference's exact names, no alternative spellings. */
	for (size_t i = 0; i < ARRAY_SIZE(hashes); i++)
		if (!strcmp(name, hashes[i].name))
			h = hashes[i].h;
	if (h == INTEGRITY_HASH_NONE)
		return -EBADMSG;
	const char *hex = colon + 1;
	size_t hl = n - nl - 1;
	size_t want = integrity_hash_size(h);
	if (hl != 2 * want || memchr(hex, ':', hl))
		return -EBADMSG;
	size_t got = 0;
	if (hex_decode(hex, hl, out->v, sizeof(out->v), &got) < 0 || got != want)
		return -EBADMSG;
	out->alg = h;
	out->len = want;
	return 0;
}

bool integrity_digest_equal(const struct integrity_digest *a, const struct integrity_digest *b)
{
	if (a->alg != b->alg || a->len != b->len || a->len > INTEGRITY_DIGEST_MAX)
		return false;
	return ct_memeq(a->v, b->v, a->len);
}

void integrity_header_stream(const struct sif_header *h, uint8_t out[INTEGRITY_HEADER_STREAM_LEN])
{
	/* Reference: launch script, magic, version and ID, in file order. */
	uint8_t *p = out;
	memcpy(p, h->launch, SIF_LAUNCH_LEN);
	p += SIF_LAUNCH_LEN;
	memcpy(p, h->magic, SIF_MAGIC_LEN);
	p += SIF_MAGIC_LEN;
	memcpy(p, h->version, SIF_VERSION_LEN);
	p += SIF_VERSION_LEN;
	memcpy(p, h->id, SIF_ID_LEN);
}

void integrity_descr_stream(const struct sif_descr *d, uint32_t relative_id, uint8_t out[INTEGRITY_DESCR_STREAM_LEN])
{
	/* Reference: data type, used, relative ID, linked ID, size, created,
	 * uid, gid (little-endian), name, extra. The absolute ID, group,
	 * offset, padding and modification time are deliberately excluded
	 * so objects can move and be re-grouped without breaking signatures. */
	uint8_t *p = out;
	put_u32le(p, (uint32_t)d->datatype);
	p += 4;
	*p++ = d->used ? 1 : 0;
	put_u32le(p, relative_id);
	p += 4;
	put_u32le(p, d->linked_id);
	p += 4;
	put_u64le(p, (uint64_t)d->size);
	p += 8;
	put_u64le(p, (uint64_t)d->created_at);
	p += 8;
	put_u64le(p, (uint64_t)d->uid);
	p += 8;
	put_u64le(p, (uint64_t)d->gid);
	p += 8;
	memcpy(p, d->name, SIF_NAME_LEN);
	p += SIF_NAME_LEN;
	memcpy(p, d->extra, SIF_EXTRA_LEN);
}
