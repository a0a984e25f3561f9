/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signing as the reference does: one signature object per group, outside
 * any group and linked to the group, covering the header and the chosen
 * objects of the group (all of them by default).
 */
#include "internal.h"

/* Named limit: signatures added in one signing run. */
#define SIGN_MAX_SIGNATURES 256

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int group_ids(const struct sif_image *img, uint32_t group, uint32_t **out, size_t *n)
{
	size_t slots = sif_descr_slots(img), k = 0;
	uint32_t *v = calloc(slots ? slots : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < slots; i++) {
		const struct sif_descr *d = sif_descr_slot(img, i);
		if (d->used && sif_descr_group(d) == group)
			v[k++] = d->id;
	}
	qsort(v, k, sizeof(*v), cmp_u32);
	*out = v;
	*n = k;
	return 0;
}

int integrity_sign_group(const struct sif_image *img, struct integrity_signer *s, uint32_t group,
			 const uint32_t *ids, size_t n, struct buf *sig_out, int32_t *hashtype,
			 uint8_t fp[SIF_FINGERPRINT_LEN], size_t *fp_len, struct arca_err *e)
{
	_cleanup_free_ uint32_t *all = NULL;
	_cleanup_free_ uint32_t *sel = NULL;
	_cleanup_buf_ struct buf json = BUF_INIT;
	struct integrity_metadata md = { 0 };
	uint32_t min_id = 0;
	size_t nall = 0;
	int rc;

	if (group == 0)
		return err_set(e, -EINVAL, "invalid group ID 0 (objects to sign must be in a group)");
	if (!s->pgp && s->nkeys == 0)
		return err_set(e, -EINVAL, "no signing key material");
	if ((rc = group_ids(img, group, &all, &nall)) < 0)
		return err_set(e, rc, "out of memory");
	if (nall == 0)
		return err_set(e, -ENOENT, "group %" PRIu32 " not found", group);
	min_id = all[0];
	if (ids && n) {
		sel = calloc(n, sizeof(*sel));
		if (!sel)
			return err_set(e, -ENOMEM, "out of memory");
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			const struct sif_descr *d;
			if (sif_find_id(img, ids[i], &d) < 0)
				return err_set(e, -ENOENT, "object %" PRIu32 " not found", ids[i]);
			if (sif_descr_group(d) != group)
				return err_set(e, -EINVAL, "object %" PRIu32 ": unexpected group ID (%" PRIu32 ")", ids[i],
					       sif_descr_group(d));
			bool dup = false;
			for (size_t j = 0; j < k; j++)
				dup = dup || sel[j] == ids[i];
			if (!dup)
				sel[k++] = ids[i];
		}
		qsort(sel, k, sizeof(*sel), cmp_u32);
		n = k;
	} else {
		sel = TAKE_PTR(all);
		n = nall;
	}
	rc = integrity_metadata_compute(img, min_id, sel, n, s->hash, &md, e);
	if (rc < 0)
		return rc;
	integrity_metadata_json(&md, &json);
	integrity_metadata_release(&md);
	if (buf_error(&json) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	if (s->pgp) {
		enum integrity_hash sh;
		rc = pgp_clearsign(s, (const uint8_t *)json.p, json.len, sig_out, fp, &sh, e);
		if (rc < 0)
			return rc;
		*fp_len = SIF_FINGERPRINT_LEN;
		return integrity_hash_to_sif(sh, hashtype);
	}
	rc = dsse_sign(s, (const uint8_t *)json.p, json.len, sig_out, e);
	if (rc < 0)
		return rc;
	*fp_len = 0;
	return integrity_hash_to_sif(s->hash, hashtype) < 0 ? err_set(e, -EINVAL, "unsupported signature hash") : 0;
}

struct pending {
	uint32_t group;
	uint32_t *ids;
	size_t n;
	struct buf sig;
	int32_t hashtype;
	uint8_t fp[SIF_FINGERPRINT_LEN];
	size_t fp_len;
};

static int add_pending(struct pending **p, size_t *n, uint32_t group, uint32_t *ids, size_t nids)
{
	if (*n >= SIGN_MAX_SIGNATURES)
		return -E2BIG;
	struct pending *np = realloc(*p, (*n + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	np[*n] = (struct pending){ .group = group, .ids = ids, .n = nids, .sig = BUF_INIT };
	(*n)++;
	*p = np;
	return 0;
}

/* The image must not have changed between reading it for signing and
 * editing it: compare header and descriptor table. */
static bool same_image(const struct sif_image *img, const struct sif_writer *w)
{
	uint8_t a[SIF_DESCR_SIZE], b[SIF_DESCR_SIZE];
	uint8_t ha[SIF_HEADER_SIZE], hb[SIF_HEADER_SIZE];
	sif_header_encode(sif_get_header(img), ha);
	sif_header_encode(sif_writer_header(w), hb);
	if (memcmp(ha, hb, sizeof(ha)) != 0)
		return false;
	for (size_t i = 0; i < sif_descr_slots(img); i++) {
		sif_descr_encode(sif_descr_slot(img, i), a);
		sif_descr_encode(sif_writer_slot(w, i), b);
		if (memcmp(a, b, sizeof(a)) != 0)
			return false;
	}
	return true;
}

int integrity_sign(const char *path, struct integrity_signer *s, const struct integrity_sign_opts *o,
		   struct arca_err *e)
{
	struct integrity_sign_opts none = { 0 };
	_cleanup_sif_ struct sif_image *img = NULL;
	_cleanup_sif_writer_ struct sif_writer *w = NULL;
	struct pending *p = NULL;
	size_t np = 0;
	int rc;

	if (!o)
		o = &none;
	rc = sif_open(path, &img, e);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < o->ngroups; i++) {
		if (o->groups[i] == 0) {
			rc = err_set(e, -EINVAL, "invalid group ID 0");
			goto out;
		}
		if ((rc = add_pending(&p, &np, o->groups[i], NULL, 0)) < 0) {
			rc = err_set(e, rc, "too many signatures");
			goto out;
		}
	}
	if (o->nobjects) {
		/* One signature per group of the selected objects, groups in
		 * ascending order. */
		uint32_t *gs = calloc(o->nobjects, sizeof(*gs));
		size_t ng = 0;
		if (!gs) {
			rc = err_set(e, -ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < o->nobjects; i++) {
			const struct sif_descr *d;
			if (sif_find_id(img, o->objects[i], &d) < 0) {
				free(gs);
				rc = err_set(e, -ENOENT, "object %" PRIu32 " not found", o->objects[i]);
				goto out;
			}
			bool dup = false;
			for (size_t j = 0; j < ng; j++)
				dup = dup || gs[j] == sif_descr_group(d);
			if (!dup)
				gs[ng++] = sif_descr_group(d);
		}
		qsort(gs, ng, sizeof(*gs), cmp_u32);
		for (size_t g = 0; g < ng && rc >= 0; g++) {
			uint32_t *ids = calloc(o->nobjects, sizeof(*ids));
			size_t k = 0;
			if (!ids) {
				rc = -ENOMEM;
				break;
			}
			for (size_t i = 0; i < o->nobjects; i++) {
				const struct sif_descr *d;
				if (sif_find_id(img, o->objects[i], &d) == 0 && sif_descr_group(d) == gs[g])
					ids[k++] = o->objects[i];
			}
			rc = add_pending(&p, &np, gs[g], ids, k);
			if (rc < 0)
				free(ids);
		}
		free(gs);
		if (rc < 0) {
			rc = err_set(e, rc, "cannot plan signatures");
			goto out;
		}
	}
	if (np == 0) {
		uint32_t *gs = NULL;
		size_t ng = 0;
		for (size_t i = 0; i < sif_descr_slots(img); i++) {
			const struct sif_descr *d = sif_descr_slot(img, i);
			uint32_t g = sif_descr_group(d);
			bool dup = false;
			if (!d->used || g == 0)
				continue;
			for (size_t j = 0; j < ng; j++)
				dup = dup || gs[j] == g;
			if (dup)
				continue;
			uint32_t *ngs = realloc(gs, (ng + 1) * sizeof(*ngs));
			if (!ngs) {
				free(gs);
				rc = err_set(e, -ENOMEM, "out of memory");
				goto out;
			}
			gs = ngs;
			gs[ng++] = g;
		}
		if (ng == 0) {
			rc = err_set(e, -ENOENT, "no groups found: nothing to sign");
			goto out;
		}
		qsort(gs, ng, sizeof(*gs), cmp_u32);
		for (size_t g = 0; g < ng; g++)
			if ((rc = add_pending(&p, &np, gs[g], NULL, 0)) < 0)
				break;
		free(gs);
		if (rc < 0) {
			rc = err_set(e, rc, "too many signatures");
			goto out;
		}
	}
	for (size_t i = 0; i < np; i++) {
		rc = integrity_sign_group(img, s, p[i].group, p[i].ids, p[i].n, &p[i].sig, &p[i].hashtype, p[i].fp,
					  &p[i].fp_len, e);
		if (rc < 0) {
			err_wrap(e, rc, "signing group %" PRIu32, p[i].group);
			goto out;
		}
	}

	rc = sif_edit(path, &w, e);
	if (rc < 0)
		goto out;
	if (!same_image(img, w)) {
		rc = err_set(e, -EAGAIN, "'%s' changed while it was being signed", path);
		goto out;
	}
	struct sif_when when = { .deterministic = sif_is_deterministic(img) };
	for (size_t i = 0; i < np; i++) {
		struct sif_input in;
		sif_input_init(&in, SIF_DATA_SIGNATURE);
		in.data = p[i].sig.p;
		in.size = p[i].sig.len;
		in.group_id = 0;
		in.linked_id = sif_link_group(p[i].group);
		if ((rc = sif_input_signature(&in, p[i].hashtype, p[i].fp, p[i].fp_len)) < 0) {
			rc = err_set(e, rc, "cannot describe the signature");
			goto out;
		}
		rc = sif_add(w, &in, o->when ? o->when : &when, NULL, e);
		if (rc < 0)
			goto out;
	}
	rc = sif_writer_commit(w, e);
out:
	for (size_t i = 0; i < np; i++) {
		free(p[i].ids);
		buf_release(&p[i].sig);
	}
	free(p);
	return rc;
}
