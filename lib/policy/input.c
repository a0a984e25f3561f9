/* SPDX-License-Identifier: Apache-2.0 */
/* The launch decision's input document (see policy.h for its shape). */
#include "policy.h"

#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>
#include <time.h>

/* Named limit: supplementary groups reported to the policy. */
#define POLICY_MAX_GROUPS 256

/* Builders that keep going after an allocation failure and report it once
 * at the end: put() consumes @v even when @o is NULL. */
static void put(struct val *o, const char *k, struct val *v, bool *oom)
{
	if (!o || !v) {
		val_unref(v);
		*oom = true;
	} else if (val_object_put_cstr(o, k, v) < 0) {
		*oom = true;
	}
}

static void push(struct val *a, struct val *v, bool *oom)
{
	if (!a || !v) {
		val_unref(v);
		*oom = true;
	} else if (val_array_push(a, v) < 0) {
		*oom = true;
	}
}

static struct val *ids(const uint32_t *p, size_t n, bool *oom)
{
	struct val *a = val_array_new(n);
	for (size_t i = 0; i < n; i++)
		push(a, val_int(p[i]), oom);
	return a;
}

/*
 * Where the open image lives: the kernel's name for the open file, not a
 * second resolution of the caller's path, which could be re-pointed (a
 * symlink swapped) between the open and now and so name another file than
 * the one the decision is about. NULL when unknown: an image in memory, or
 * a file deleted since it was opened.
 */
static char *open_path(const struct sif_image *img)
{
	int fd = sif_fd(img);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_nlink == 0)
		return NULL;
	char link[64], buf[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0 || buf[0] != '/')
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/*
 * Who may change the open file: a launch reads the image lazily, long
 * after the checks, so a file that users other than root can write may
 * hold other bytes by then (ACLs are not looked at). null when unknown.
 */
static struct val *file_doc(const struct sif_image *img, bool *oom)
{
	struct stat st;
	int fd = sif_fd(img);
	if (fd < 0 || fstat(fd, &st) < 0)
		return val_null();
	struct val *o = val_object_new(4);
	put(o, "uid", val_int(st.st_uid), oom);
	put(o, "gid", val_int(st.st_gid), oom);
	put(o, "mode", val_int(st.st_mode & 07777), oom);
	bool others = (st.st_uid != 0 && (st.st_mode & S_IWUSR)) || (st.st_mode & (S_IWGRP | S_IWOTH));
	put(o, "writable_by_others", val_bool(others), oom);
	return o;
}

static struct val *image_doc(const char *path, const struct sif_image *img, const struct integrity_report *r,
			     bool *oom)
{
	struct val *o = val_object_new(12);
	const struct sif_header *h = sif_get_header(img);
	char id[37];
	sif_id_string(h->id, id);
	put(o, "path", val_cstr(path), oom);
	char *real = open_path(img);
	if (real) {
		put(o, "realpath", val_cstr(real), oom);
		free(real);
	}
	uint64_t size;
	(void)sif_file_data(img, &size);
	put(o, "size", val_int((int64_t)size), oom);
	put(o, "file", file_doc(img, oom), oom);
	put(o, "id", val_cstr(id), oom);
	put(o, "arch", val_cstr(sif_arch_name(h->arch)), oom);
	put(o, "deterministic", val_bool(sif_is_deterministic(img)), oom);

	const struct sif_descr *d;
	if (sif_primary_partition(img, &d) == 0) {
		int32_t fs, pt;
		uint8_t arch[SIF_ARCH_LEN];
		struct val *p = val_object_new(4);
		if (sif_descr_partition(d, &fs, &pt, arch) == 0) {
			put(p, "fstype", val_cstr(sif_fstype_name(fs)), oom);
			put(p, "arch", val_cstr(sif_arch_name(arch)), oom);
		}
		put(p, "id", val_int(d->id), oom);
		put(p, "size", val_int(d->size), oom);
		put(o, "primary", p, oom);
	}

	/* Signers whose signature passed: what allow-lists are written against. */
	struct val *signers = val_set_new(4);
	bool any_ok = false;
	for (size_t i = 0; r && i < r->n; i++) {
		const struct integrity_sig_result *s = &r->sigs[i];
		if (!s->ok)
			continue;
		any_ok = true;
		if (s->fingerprint[0] && signers && val_set_add(signers, val_cstr(s->fingerprint)) < 0)
			*oom = true;
		for (size_t k = 0; k < s->nkeyids; k++)
			if (signers && val_set_add(signers, val_cstr(s->keyids[k])) < 0)
				*oom = true;
	}
	put(o, "signers", signers, oom);
	put(o, "signed", val_bool(any_ok), oom);
	put(o, "verified", val_bool(r && r->code == 0), oom);
	if (r && r->code != 0)
		put(o, "reason", val_cstr(r->reason), oom);
	return o;
}

static struct val *signatures_doc(const struct integrity_report *r, bool *oom)
{
	struct val *a = val_array_new(r ? r->n : 0);
	for (size_t i = 0; r && i < r->n; i++) {
		const struct integrity_sig_result *s = &r->sigs[i];
		struct val *o = val_object_new(8);
		put(o, "id", val_int(s->sig_id), oom);
		put(o, "kind", val_cstr(integrity_sig_kind_name(s->kind)), oom);
		put(o, "hash", val_cstr(sif_hashtype_name(s->hashtype)), oom);
		put(o, "ok", val_bool(s->ok), oom);
		if (!s->ok) {
			put(o, "reason", val_cstr(s->reason), oom);
			put(o, "untrusted", val_bool(s->untrusted), oom);
		}
		if (s->fingerprint[0])
			put(o, "fingerprint", val_cstr(s->fingerprint), oom);
		if (s->nkeyids) {
			struct val *k = val_array_new(s->nkeyids);
			for (size_t j = 0; j < s->nkeyids; j++)
				push(k, val_cstr(s->keyids[j]), oom);
			put(o, "keyids", k, oom);
		}
		put(o, "objects", ids(s->signed_ids, s->nsigned, oom), oom);
		push(a, o, oom);
	}
	return a;
}

static struct val *user_doc(bool *oom)
{
	struct val *o = val_object_new(4);
	uid_t uid = getuid();
	put(o, "uid", val_int(uid), oom);
	put(o, "gid", val_int(getgid()), oom);
	char pwbuf[4096];
	struct passwd pw, *res = NULL;
	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res)
		put(o, "name", val_cstr(res->pw_name), oom);
	gid_t groups[POLICY_MAX_GROUPS];
	int n = getgroups(POLICY_MAX_GROUPS, groups);
	struct val *g = val_array_new(n > 0 ? (size_t)n : 0);
	for (int i = 0; i < n; i++)
		push(g, val_int(groups[i]), oom);
	put(o, "groups", g, oom);
	return o;
}

static struct val *request_doc(const struct policy_request *req, bool *oom)
{
	struct val *o = val_object_new(4);
	put(o, "command", val_cstr(req && req->command ? req->command : "run"), oom);
	struct val *a = val_array_new(4);
	for (size_t i = 0; req && req->args && req->args[i]; i++)
		push(a, val_cstr(req->args[i]), oom);
	put(o, "args", a, oom);
	put(o, "options", req && req->options ? val_ref(req->options) : val_object_new(0), oom);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	put(o, "time_ns", val_int((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec), oom);
	return o;
}

int policy_input(const struct policy_config *c, const char *image_path, const struct sif_image *img,
		 const struct integrity_verifier *v, const struct policy_request *req, struct val **out,
		 struct arca_err *e)
{
	_cleanup_integrity_verifier_ struct integrity_verifier *own = NULL;
	if (!v) {
		int rc = integrity_verifier_global(&own, e);
		if (rc < 0)
			return rc;
		v = own;
	}
	/* Only the report matters here: a failed verification is a fact the
	 * policy weighs, and its reason travels in input.image.reason. */
	_cleanup_integrity_report_ struct integrity_report *r = NULL;
	struct arca_err ve = { 0 };
	struct integrity_verify_opts o = { 0 };
	int vrc = integrity_verify(img, v, &o, &r, &ve);
	if (!r)
		return err_set(e, -ENOMEM, "out of memory");
	if (vrc < 0 && r->code == 0) {
		r->code = vrc;
		snprintf(r->reason, sizeof(r->reason), "%s", err_msg(&ve));
	}

	bool oom = false;
	struct val *doc = val_object_new(6);
	put(doc, "mode", val_cstr(policy_mode_name(c->mode)), &oom);
	put(doc, "image", image_doc(image_path, img, r, &oom), &oom);
	put(doc, "signatures", signatures_doc(r, &oom), &oom);
	if (req && req->host)
		put(doc, "host", val_ref(req->host), &oom);
	else {
		struct val *h = val_object_new(1);
		put(h, "status", val_cstr("unavailable"), &oom);
		put(doc, "host", h, &oom);
	}
	put(doc, "user", user_doc(&oom), &oom);
	put(doc, "request", request_doc(req, &oom), &oom);
	if (oom || !doc) {
		val_unref(doc);
		return err_set(e, -ENOMEM, "out of memory");
	}
	*out = doc;
	return 0;
}
