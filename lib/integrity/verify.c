/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verification with the reference's semantics. The work is a list of
 * tasks: one per selected group (all of the group's objects, which must
 * equal the set a signature covers) or per selected object (a subset is
 * fine). Each task needs at least one signature linked to it, and every
 * signature linked to it must verify. Any failure refuses the image.
 */
#include "internal.h"

/* Named limit: tasks (groups plus objects) in one verification. */
#define VERIFY_MAX_TASKS 4096

struct task {
	bool legacy;
	bool is_group; /* group task, else object task */
	bool subset_ok;
	uint32_t group;
	uint32_t object;
	const struct sif_descr **ods;
	size_t nods;
};

const char *integrity_sig_kind_name(enum integrity_sig_kind k)
{
	switch (k) {
	case INTEGRITY_SIG_DSSE: return "dsse";
	case INTEGRITY_SIG_PGP: return "pgp";
	case INTEGRITY_SIG_LEGACY: return "legacy";
	default: return "unknown";
	}
}

void integrity_report_free(struct integrity_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->sigs[i].signed_ids);
		free(r->sigs[i].verified_ids);
	}
	free(r->sigs);
	free(r);
}

bool integrity_report_object_ok(const struct integrity_report *r, uint32_t id)
{
	bool seen = false;
	for (size_t i = 0; i < r->n; i++) {
		for (size_t j = 0; j < r->sigs[i].nverified; j++) {
			if (r->sigs[i].verified_ids[j] != id)
				continue;
			if (!r->sigs[i].ok)
				return false;
			seen = true;
		}
	}
	return seen;
}

static int push_id(uint32_t **ids, size_t *n, uint32_t id)
{
	uint32_t *p = realloc(*ids, (*n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	p[(*n)++] = id;
	*ids = p;
	return 0;
}

static bool is_sig(const struct sif_descr *d) { return d->datatype == SIF_DATA_SIGNATURE; }

/* Sorted, unique insert (the reference's insertSorted). */
static int insert_sorted(uint32_t **ids, size_t *n, uint32_t id)
{
	size_t i = 0;
	while (i < *n && (*ids)[i] < id)
		i++;
	if (i < *n && (*ids)[i] == id)
		return 0;
	if (*n >= VERIFY_MAX_TASKS)
		return -E2BIG;
	int rc = push_id(ids, n, 0);
	if (rc < 0)
		return rc;
	memmove(*ids + i + 1, *ids + i, (*n - 1 - i) * sizeof(**ids));
	(*ids)[i] = id;
	return 0;
}

static int group_objects(const struct sif_image *img, uint32_t group, const struct sif_descr ***out, size_t *n)
{
	size_t slots = sif_descr_slots(img), k = 0;
	const struct sif_descr **v = calloc(slots ? slots : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < slots; i++) {
		const struct sif_descr *d = sif_descr_slot(img, i);
		if (d->used && sif_descr_group(d) == group)
			v[k++] = d;
	}
	*out = v;
	*n = k;
	return 0;
}

static bool group_min_id(const struct sif_image *img, uint32_t group, uint32_t *min)
{
	bool found = false;
	for (size_t i = 0; i < sif_descr_slots(img); i++) {
		const struct sif_descr *d = sif_descr_slot(img, i);
		if (d->used && group && sif_descr_group(d) == group && (!found || d->id < *min)) {
			*min = d->id;
			found = true;
		}
	}
	return found;
}

struct ctx {
	const struct sif_image *img;
	const struct integrity_verifier *v;
	struct integrity_report *r;
};

static struct integrity_sig_result *new_result(struct ctx *c, const struct sif_descr *sig)
{
	struct integrity_sig_result *p = realloc(c->r->sigs, (c->r->n + 1) * sizeof(*p));
	if (!p)
		return NULL;
	c->r->sigs = p;
	struct integrity_sig_result *res = &p[c->r->n++];
	memset(res, 0, sizeof(*res));
	res->sig_id = sig->id;
	uint8_t fp[SIF_FINGERPRINT_LEN];
	size_t fl = 0;
	if (sif_descr_signature(sig, &res->hashtype, fp, &fl) < 0)
		res->hashtype = 0;
	return res;
}

/* Records @res as failed with @e's message; returns -EPERM (or -ENOMEM). */
static int fail_result(struct ctx *c, struct integrity_sig_result *res, int rc, struct arca_err *e)
{
	res->ok = false;
	res->untrusted = rc == -ENOKEY;
	snprintf(res->reason, sizeof(res->reason), "%s", err_msg(e));
	if (c->r->code == 0) {
		c->r->code = rc == -ENOMEM ? rc : -EPERM;
		snprintf(c->r->reason, sizeof(c->r->reason), "%s", res->reason);
	}
	return rc == -ENOMEM ? rc : -EPERM;
}

static int check_fingerprint(const struct sif_descr *sig, const uint8_t fp[SIF_FINGERPRINT_LEN], struct arca_err *e)
{
	int32_t ht;
	uint8_t dfp[SIF_FINGERPRINT_LEN];
	size_t fl = 0;
	if (sif_descr_signature(sig, &ht, dfp, &fl) < 0 || fl != SIF_FINGERPRINT_LEN ||
	    !ct_memeq(dfp, fp, SIF_FINGERPRINT_LEN))
		return err_set(e, -EPERM, "fingerprint in descriptor does not correspond to signing entity");
	return 0;
}

static void set_fpr(struct integrity_sig_result *res, const uint8_t fp[SIF_FINGERPRINT_LEN])
{
	static const char hx[] = "0123456789ABCDEF";
	for (size_t i = 0; i < SIF_FINGERPRINT_LEN; i++) {
		res->fingerprint[2 * i] = hx[fp[i] >> 4];
		res->fingerprint[2 * i + 1] = hx[fp[i] & 15];
	}
	res->fingerprint[2 * SIF_FINGERPRINT_LEN] = '\0';
}

/* Checks one non-legacy signature against task @t. */
static int verify_one(struct ctx *c, const struct task *t, const struct sif_descr *sig, struct integrity_sig_result *res,
		      struct arca_err *e)
{
	const uint8_t *data = sif_object_data(c->img, sig);
	size_t n = (size_t)sig->size;
	_cleanup_buf_ struct buf text = BUF_INIT;
	struct integrity_metadata md = { 0 };
	uint8_t fp[SIF_FINGERPRINT_LEN];
	uint32_t min_id = 0;
	int rc;

	if (dsse_looks_like(data, n)) {
		res->kind = INTEGRITY_SIG_DSSE;
		rc = dsse_verify(c->v, integrity_hash_from_sif(res->hashtype), (const char *)data, n, &text, res, e);
		if (rc < 0)
			return err_wrap(e, rc, "signature object %" PRIu32 " not valid", sig->id);
	} else {
		res->kind = INTEGRITY_SIG_PGP;
		rc = pgp_verify_clearsigned(c->v->gnupghome, data, n, &text, fp, e);
		if (rc < 0)
			return err_wrap(e, rc, "signature object %" PRIu32 " not valid", sig->id);
		set_fpr(res, fp);
	}
	rc = integrity_metadata_parse(text.p, text.len, &md, e);
	if (rc < 0)
		return err_wrap(e, rc == -ENOMEM ? rc : -EPERM, "signature object %" PRIu32 " not valid", sig->id);
	if (!group_min_id(c->img, t->group, &min_id)) {
		rc = err_set(e, -EPERM, "group %" PRIu32 " not found", t->group);
		goto out;
	}
	if (res->kind == INTEGRITY_SIG_PGP && (rc = check_fingerprint(sig, fp, e)) < 0)
		goto out;
	for (size_t i = 0; i < md.n; i++) {
		uint32_t abs;
		if (__builtin_add_overflow(min_id, md.objects[i].relative_id, &abs) || push_id(&res->signed_ids, &res->nsigned, abs) < 0) {
			rc = err_set(e, -EPERM, "signature object %" PRIu32 ": object ID out of range", sig->id);
			goto out;
		}
	}
	/* The signed set must equal the group's objects (group tasks). */
	if (!t->subset_ok) {
		for (size_t i = 0; i < t->nods; i++) {
			bool found = false;
			for (size_t j = 0; j < res->nsigned && !found; j++)
				found = res->signed_ids[j] == t->ods[i]->id;
			if (!found) {
				rc = err_set(e, -EPERM, "object %" PRIu32 ": object not signed", t->ods[i]->id);
				goto out;
			}
		}
		for (size_t j = 0; j < res->nsigned; j++) {
			bool found = false;
			for (size_t i = 0; i < t->nods && !found; i++)
				found = res->signed_ids[j] == t->ods[i]->id;
			if (!found) {
				rc = err_set(e, -EPERM, "object %" PRIu32 ": signed object not found", res->signed_ids[j]);
				goto out;
			}
		}
	}
	/* Header, then each object's descriptor and data. */
	uint8_t hs[INTEGRITY_HEADER_STREAM_LEN];
	struct integrity_digest d;
	integrity_header_stream(sif_get_header(c->img), hs);
	if (integrity_digest_bytes(md.header.alg, hs, sizeof(hs), &d) < 0 || !integrity_digest_equal(&d, &md.header)) {
		rc = err_set(e, -EPERM, "header integrity compromised");
		goto out;
	}
	for (size_t i = 0; i < t->nods; i++) {
		const struct sif_descr *od = t->ods[i];
		const struct integrity_object_md *om = NULL;
		for (size_t j = 0; j < md.n && !om; j++)
			if (res->signed_ids[j] == od->id)
				om = &md.objects[j];
		if (!om) {
			rc = err_set(e, -EPERM, "object %" PRIu32 ": object not signed", od->id);
			goto out;
		}
		uint8_t ds[INTEGRITY_DESCR_STREAM_LEN];
		integrity_descr_stream(od, om->relative_id, ds);
		if (integrity_digest_bytes(om->descr.alg, ds, sizeof(ds), &d) < 0 || !integrity_digest_equal(&d, &om->descr)) {
			rc = err_set(e, -EPERM, "data object descriptor integrity compromised: %" PRIu32, od->id);
			goto out;
		}
		if (integrity_digest_bytes(om->object.alg, sif_object_data(c->img, od), (size_t)od->size, &d) < 0 ||
		    !integrity_digest_equal(&d, &om->object)) {
			rc = err_set(e, -EPERM, "data object integrity compromised: %" PRIu32, od->id);
			goto out;
		}
		if (push_id(&res->verified_ids, &res->nverified, od->id) < 0) {
			rc = err_set(e, -ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	integrity_metadata_release(&md);
	return rc;
}

static int verify_legacy_one(struct ctx *c, const struct task *t, const struct sif_descr *sig,
			     struct integrity_sig_result *res, struct arca_err *e)
{
	_cleanup_buf_ struct buf text = BUF_INIT;
	uint8_t fp[SIF_FINGERPRINT_LEN];
	struct integrity_digest want, got;
	res->kind = INTEGRITY_SIG_LEGACY;
	int rc = pgp_verify_clearsigned(c->v->gnupghome, sif_object_data(c->img, sig), (size_t)sig->size, &text, fp, e);
	if (rc < 0)
		return err_wrap(e, rc, "signature object %" PRIu32 " not valid", sig->id);
	set_fpr(res, fp);
	if ((rc = check_fingerprint(sig, fp, e)) < 0)
		return rc;
	enum integrity_hash h = integrity_hash_from_sif(res->hashtype);
	if (h == INTEGRITY_HASH_NONE)
		return err_set(e, -EPERM, "signature object %" PRIu32 ": unsupported hash type", sig->id);
	if ((rc = legacy_digest_parse(text.p, text.len, h, &want, e)) < 0)
		return rc;
	if (legacy_digest_objects(c->img, t->ods, t->nods, h, &got) < 0 || !integrity_digest_equal(&want, &got)) {
		if (t->is_group)
			return err_set(e, -EPERM, "data object integrity compromised (group %" PRIu32 ")", t->group);
		return err_set(e, -EPERM, "data object integrity compromised: %" PRIu32, t->object);
	}
	for (size_t i = 0; i < t->nods; i++) {
		if (push_id(&res->signed_ids, &res->nsigned, t->ods[i]->id) < 0 ||
		    push_id(&res->verified_ids, &res->nverified, t->ods[i]->id) < 0)
			return err_set(e, -ENOMEM, "out of memory");
	}
	return 0;
}

static int run_task(struct ctx *c, const struct task *t, struct arca_err *e)
{
	size_t found = 0;
	int first = 0;
	for (size_t i = 0; i < sif_descr_slots(c->img); i++) {
		const struct sif_descr *sig = sif_descr_slot(c->img, i);
		bool link_group;
		if (!sig->used || !is_sig(sig))
			continue;
		uint32_t link = sif_descr_link(sig, &link_group);
		const uint8_t *data = sif_object_data(c->img, sig);
		if (t->is_group || !t->legacy) {
			/* Group-linked signatures of the task's group, of the
			 * right generation (legacy or not). */
			if (!link_group || link != t->group || legacy_is_legacy(data, (size_t)sig->size) != t->legacy)
				continue;
		} else if (link_group || link != t->object) {
			continue;
		}
		found++;
		struct integrity_sig_result *res = new_result(c, sig);
		if (!res)
			return err_set(e, -ENOMEM, "out of memory");
		struct arca_err se = { 0 };
		int rc = t->legacy ? verify_legacy_one(c, t, sig, res, &se) : verify_one(c, t, sig, res, &se);
		if (rc < 0) {
			rc = fail_result(c, res, rc, &se);
			if (!first) {
				first = rc;
				err_set(e, rc, "%s", res->reason);
			}
			if (rc == -ENOMEM)
				return rc;
		} else {
			res->ok = true;
		}
	}
	if (found == 0) {
		if (t->is_group)
			err_set(e, -EPERM, "signature not found for object group %" PRIu32, t->group);
		else
			err_set(e, -EPERM, "signature not found for object %" PRIu32, t->object);
		if (c->r->code == 0) {
			c->r->code = -EPERM;
			snprintf(c->r->reason, sizeof(c->r->reason), "%s", err_msg(e));
		}
		return -EPERM;
	}
	return first;
}

int integrity_verify(const struct sif_image *img, const struct integrity_verifier *v,
		     const struct integrity_verify_opts *o, struct integrity_report **out, struct arca_err *e)
{
	struct integrity_verify_opts none = { 0 };
	struct integrity_report *r = calloc(1, sizeof(*r));
	uint32_t *groups = NULL, *objects = NULL;
	size_t ngroups = 0, nobjects = 0;
	int rc = 0, first = 0;

	if (out)
		*out = NULL;
	if (!r)
		return err_set(e, -ENOMEM, "out of memory");
	if (!o)
		o = &none;
	struct ctx c = { img, v, r };
	bool legacy = o->legacy || o->legacy_all;

	for (size_t i = 0; i < o->ngroups; i++)
		if (o->groups[i] == 0 || (rc = insert_sorted(&groups, &ngroups, o->groups[i])) < 0) {
			rc = err_set(e, rc < 0 ? rc : -EINVAL, "invalid group ID");
			goto out;
		}
	for (size_t i = 0; i < o->nobjects; i++)
		if (o->objects[i] == 0 || (rc = insert_sorted(&objects, &nobjects, o->objects[i])) < 0) {
			rc = err_set(e, rc < 0 ? rc : -EINVAL, "invalid object ID");
			goto out;
		}
	/* Reference: "legacy all" adds every grouped non-signature object. */
	if (o->legacy_all)
		for (size_t i = 0; i < sif_descr_slots(img); i++) {
			const struct sif_descr *d = sif_descr_slot(img, i);
			if (d->used && !is_sig(d) && sif_descr_group(d) != 0 &&
			    (rc = insert_sorted(&objects, &nobjects, d->id)) < 0) {
				rc = err_set(e, rc, "too many objects");
				goto out;
			}
		}
	if (ngroups == 0 && nobjects == 0) {
		for (size_t i = 0; i < sif_descr_slots(img); i++) {
			const struct sif_descr *d = sif_descr_slot(img, i);
			if (d->used && sif_descr_group(d) != 0 &&
			    (rc = insert_sorted(&groups, &ngroups, sif_descr_group(d))) < 0) {
				rc = err_set(e, rc, "too many groups");
				goto out;
			}
		}
		if (ngroups == 0) {
			rc = err_set(e, -EPERM, "no groups found: the image has no signed content");
			goto out;
		}
	}
	/* Every non-signature object must belong to a group (and so be
	 * covered by the group's signatures). */
	for (size_t i = 0; i < sif_descr_slots(img); i++) {
		const struct sif_descr *d = sif_descr_slot(img, i);
		if (d->used && !is_sig(d) && sif_descr_group(d) == 0) {
			rc = err_set(e, -EPERM, "object %" PRIu32 ": non-signature object not associated with object group",
				     d->id);
			goto out;
		}
	}

	for (size_t i = 0; i < ngroups + nobjects; i++) {
		struct task t = { .legacy = legacy };
		struct arca_err te = { 0 };
		if (i < ngroups) {
			t.is_group = true;
			t.group = groups[i];
			if ((rc = group_objects(img, t.group, &t.ods, &t.nods)) < 0) {
				rc = err_set(e, rc, "out of memory");
				goto out;
			}
			if (t.nods == 0) {
				free(t.ods);
				rc = err_set(e, -EPERM, "group %" PRIu32 " not found", t.group);
				goto out;
			}
		} else {
			const struct sif_descr *d;
			t.object = objects[i - ngroups];
			if (sif_find_id(img, t.object, &d) < 0) {
				rc = err_set(e, -EPERM, "object %" PRIu32 " not found", t.object);
				goto out;
			}
			t.ods = calloc(1, sizeof(*t.ods));
			if (!t.ods) {
				rc = err_set(e, -ENOMEM, "out of memory");
				goto out;
			}
			t.ods[0] = d;
			t.nods = 1;
			t.group = sif_descr_group(d);
			t.subset_ok = true;
		}
		rc = run_task(&c, &t, &te);
		free(t.ods);
		if (rc < 0 && !first) {
			first = rc;
			err_set(e, rc, "%s", err_msg(&te));
		}
		if (rc == -ENOMEM)
			goto out;
	}
	rc = first;
out:
	if (rc < 0 && r->code == 0) {
		r->code = rc;
		snprintf(r->reason, sizeof(r->reason), "%s", err_msg(e));
	}
	free(groups);
	free(objects);
	/* Fail closed: a report that recorded any failure refuses. */
	if (rc == 0 && r->code != 0)
		rc = err_set(e, -EPERM, "%s", r->reason);
	if (out)
		*out = r;
	else
		integrity_report_free(r);
	return rc;
}
