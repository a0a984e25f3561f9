/* SPDX-License-Identifier: Apache-2.0 */
/* The image metadata that signatures cover, as JSON identical to the
 * reference's: {"version":1,"header":{"digest":D},"objects":[{"relativeId":N,
 * "descriptorDigest":D,"objectDigest":D},...]} in struct field order. */
#include "internal.h"

void integrity_metadata_release(struct integrity_metadata *md)
{
	if (!md)
		return;
	free(md->objects);
	md->objects = NULL;
	md->n = 0;
}

int integrity_metadata_compute(const struct sif_image *img, uint32_t min_id, const uint32_t *ids, size_t n,
			       enum integrity_hash h, struct integrity_metadata *out, struct arca_err *e)
{
	struct integrity_metadata md = { .version = 1 };
	uint8_t hs[INTEGRITY_HEADER_STREAM_LEN];
	int rc;

	if (n > INTEGRITY_MAX_MD_OBJECTS)
		return err_set(e, -E2BIG, "too many objects to sign (%zu)", n);
	integrity_header_stream(sif_get_header(img), hs);
	rc = integrity_digest_bytes(h, hs, sizeof(hs), &md.header);
	if (rc < 0)
		return err_set(e, rc, "cannot hash the header");
	md.objects = calloc(n ? n : 1, sizeof(*md.objects));
	if (!md.objects)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct sif_descr *d;
		if (sif_find_id(img, ids[i], &d) < 0) {
			rc = err_set(e, -ENOENT, "object %" PRIu32 " not found", ids[i]);
			goto fail;
		}
		if (ids[i] < min_id) {
			rc = err_set(e, -EINVAL, "object %" PRIu32 " lies below its group's minimum ID", ids[i]);
			goto fail;
		}
		struct integrity_object_md *om = &md.objects[i];
		om->relative_id = ids[i] - min_id;
		uint8_t ds[INTEGRITY_DESCR_STREAM_LEN];
		integrity_descr_stream(d, om->relative_id, ds);
		rc = integrity_digest_bytes(h, ds, sizeof(ds), &om->descr);
		if (rc >= 0)
			rc = integrity_digest_bytes(h, sif_object_data(img, d), (size_t)d->size, &om->object);
		if (rc < 0) {
			rc = err_set(e, rc, "cannot hash object %" PRIu32, ids[i]);
			goto fail;
		}
	}
	md.n = n;
	*out = md;
	return 0;
fail:
	integrity_metadata_release(&md);
	return rc;
}

void integrity_metadata_json(const struct integrity_metadata *md, struct buf *out)
{
	buf_addf(out, "{\"version\":%" PRId64 ",\"header\":{\"digest\":", md->version);
	integrity_digest_json(&md->header, out);
	/* Go encodes a nil slice as null; the reference always has objects. */
	if (md->n == 0) {
		buf_addstr(out, "},\"objects\":null}");
		return;
	}
	buf_addstr(out, "},\"objects\":[");
	for (size_t i = 0; i < md->n; i++) {
		const struct integrity_object_md *om = &md->objects[i];
		if (i)
			buf_addch(out, ',');
		buf_addf(out, "{\"relativeId\":%" PRIu32 ",\"descriptorDigest\":", om->relative_id);
		integrity_digest_json(&om->descr, out);
		buf_addstr(out, ",\"objectDigest\":");
		integrity_digest_json(&om->object, out);
		buf_addch(out, '}');
	}
	buf_addstr(out, "]}");
}

static int get_digest(const struct val *o, const char *key, struct integrity_digest *d, struct arca_err *e)
{
	const struct val *v = val_object_get_cstr(o, key);
	if (!v || v->kind != VAL_STRING)
		return err_set(e, -EBADMSG, "metadata: \"%s\" missing or not a string", key);
	if (integrity_digest_parse(v->str.s, v->str.len, d) < 0)
		return err_set(e, -EBADMSG, "metadata: \"%s\" is not a valid digest", key);
	return 0;
}

static bool only_keys(const struct val *o, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < o->obj.n; i++) {
		const char *k = val_str(o->obj.keys[i]);
		bool found = false;
		for (size_t j = 0; k && j < n; j++)
			found = found || !strcmp(k, keys[j]);
		if (!found)
			return false;
	}
	return true;
}

int integrity_metadata_parse(const char *text, size_t len, struct integrity_metadata *out, struct arca_err *e)
{
	static const char *const top_keys[] = { "version", "header", "objects" };
	static const char *const hdr_keys[] = { "digest" };
	static const char *const obj_keys[] = { "relativeId", "descriptorDigest", "objectDigest" };
	struct json_limits lim = { .max_depth = 8, .max_bytes = 16u << 20, .max_items = 4 * INTEGRITY_MAX_MD_OBJECTS + 16 };
	_cleanup_val_ struct val *root = NULL;
	struct integrity_metadata md = { 0 };
	int64_t ver;
	int rc;

	rc = val_from_json(text, len, &lim, &root, e);
	if (rc < 0)
		return err_wrap(e, rc, "metadata");
	if (root->kind != VAL_OBJECT || !only_keys(root, top_keys, ARRAY_SIZE(top_keys)))
		return err_set(e, -EBADMSG, "metadata: not an object with version, header and objects");
	if (!val_get_int(val_object_get_cstr(root, "version"), &ver) || ver != 1)
		return err_set(e, -EBADMSG, "metadata: unsupported version");
	md.version = ver;
	const struct val *hdr = val_object_get_cstr(root, "header");
	if (!hdr || hdr->kind != VAL_OBJECT || !only_keys(hdr, hdr_keys, 1))
		return err_set(e, -EBADMSG, "metadata: bad header");
	rc = get_digest(hdr, "digest", &md.header, e);
	if (rc < 0)
		return rc;
	const struct val *objs = val_object_get_cstr(root, "objects");
	if (!objs || objs->kind != VAL_ARRAY || objs->arr.n == 0)
		return err_set(e, -EBADMSG, "metadata: no objects");
	if (objs->arr.n > INTEGRITY_MAX_MD_OBJECTS)
		return err_set(e, -E2BIG, "metadata: too many objects");
	md.objects = calloc(objs->arr.n, sizeof(*md.objects));
	if (!md.objects)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < objs->arr.n; i++) {
		const struct val *o = objs->arr.items[i];
		int64_t rid;
		if (o->kind != VAL_OBJECT || !only_keys(o, obj_keys, ARRAY_SIZE(obj_keys)) ||
		    !val_get_int(val_object_get_cstr(o, "relativeId"), &rid) || rid < 0 || rid > UINT32_MAX) {
			rc = err_set(e, -EBADMSG, "metadata: bad object entry %zu", i);
			goto fail;
		}
		md.objects[i].relative_id = (uint32_t)rid;
		for (size_t j = 0; j < i; j++)
			if (md.objects[j].relative_id == (uint32_t)rid) {
				rc = err_set(e, -EBADMSG, "metadata: object %" PRId64 " listed twice", rid);
				goto fail;
			}
		if ((rc = get_digest(o, "descriptorDigest", &md.objects[i].descr, e)) < 0 ||
		    (rc = get_digest(o, "objectDigest", &md.objects[i].object, e)) < 0)
			goto fail;
		/* One signature uses one hash function throughout. */
		if (md.objects[i].descr.alg != md.header.alg || md.objects[i].object.alg != md.header.alg) {
			rc = err_set(e, -EBADMSG, "metadata: mixed digest algorithms");
			goto fail;
		}
	}
	md.n = objs->arr.n;
	*out = md;
	return 0;
fail:
	integrity_metadata_release(&md);
	return rc;
}
