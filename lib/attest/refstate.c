/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reference states: what an operator expects of a host (shape in attest.h),
 * created from a known-good host's evidence and compared with a host's
 * evidence, naming every failing entry (up to REF_MAX_NAMED per check).
 */
#include "internal.h"

#include <fnmatch.h>

#define REF_MAX_NAMED 10u
#define REF_MAX_PATTERNS 4096u

/* fnmatch metacharacters in a literal value are escaped so the created
 * pattern matches exactly that value. */
static char *glob_escape(const char *s)
{
	struct buf b = BUF_INIT;
	for (; *s; s++) {
		if (strchr("*?[]\\", *s))
			buf_addch(&b, '\\');
		buf_addch(&b, *s);
	}
	return buf_error(&b) ? NULL : buf_detach(&b, NULL);
}

/* The digest of an event as "hex" in the preferred bank (sha256, else any). */
static const char *pick_digest(const struct val *digest)
{
	const char *s = val_str(val_object_get_cstr(digest, "sha256"));
	if (!s && digest && digest->kind == VAL_OBJECT && digest->obj.n)
		s = val_str(digest->obj.vals[0]);
	return s;
}

static struct val *digest_list(const struct val *items)
{
	struct val *a = val_set_new(items ? items->arr.n : 0);
	for (size_t i = 0; a && items && i < items->arr.n; i++) {
		const char *d = pick_digest(val_object_get_cstr(items->arr.items[i], "digest"));
		if (d && val_set_add(a, val_cstr(d)) < 0) {
			val_unref(a);
			return NULL;
		}
	}
	return a;
}

static int ima_digest_str(const struct attest_ima *l, const struct attest_ima_entry *en, char *out, size_t cap)
{
	if (!en->hash_alg[0] || !en->digest_len || 2 * en->digest_len + strlen(en->hash_alg) + 2 > cap)
		return -EBADMSG;
	size_t n = (size_t)snprintf(out, cap, "%s:", en->hash_alg);
	hex_encode(attest_ima_bytes(l) + en->digest_off, en->digest_len, out + n);
	return 0;
}

int attest_refstate_create(const struct attest_pcrs *pcrs, const struct attest_evlog *log,
			   const struct attest_ima *ima, struct val **out, struct arca_err *e)
{
	_cleanup_val_ struct val *r = val_object_new(4);
	if (!r || obj_int(r, "version", 1) < 0)
		return -ENOMEM;
	if (pcrs && val_object_put_cstr(r, "pcrs", attest_pcrs_to_val(pcrs)) < 0)
		return -ENOMEM;
	if (log) {
		_cleanup_val_ struct val *info = NULL;
		int rc = attest_evlog_info(log, &info, e);
		if (rc < 0)
			return rc;
		struct val *mb = val_object_new(8);
		if (!mb || val_object_put_cstr(r, "measured_boot", mb) < 0)
			return -ENOMEM;
		static const char *const keys[] = { "secureboot", "pk", "kek", "db", "dbx" };
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			struct val *v = val_object_get_cstr(info, keys[i]);
			if (v && v->kind != VAL_NULL && val_object_put_cstr(mb, keys[i], val_ref(v)) < 0)
				return -ENOMEM;
		}
		if (val_object_put_cstr(mb, "boot_components", digest_list(val_object_get_cstr(info, "boot_components"))) < 0 ||
		    val_object_put_cstr(mb, "firmware", digest_list(val_object_get_cstr(info, "firmware"))) < 0)
			return -ENOMEM;
		const char *cl = val_str(val_object_get_cstr(info, "kernel_cmdline"));
		if (cl) {
			_cleanup_free_ char *g = glob_escape(cl);
			if (!g || obj_str(mb, "kernel_cmdline", g) < 0)
				return -ENOMEM;
		}
	}
	if (ima) {
		struct val *io = val_object_new(2), *allow = val_object_new(64), *ex = val_array_new(0);
		if (!io || val_object_put_cstr(r, "ima", io) < 0 || val_object_put_cstr(io, "allow", allow) < 0 ||
		    val_object_put_cstr(io, "exclude", ex) < 0)
			return -ENOMEM;
		/* Build path -> set of digests; objects are immutable once
		 * shared, so collect per path first. */
		_cleanup_val_ struct val *tmp = val_object_new(64);
		if (!tmp)
			return -ENOMEM;
		for (size_t i = 0; i < attest_ima_count(ima); i++) {
			const struct attest_ima_entry *en = attest_ima_entry(ima, i);
			char d[2 * ATTEST_DIGEST_MAX + 24];
			if (en->violation || !en->path_len || ima_digest_str(ima, en, d, sizeof(d)) < 0)
				continue;
			struct val *key = val_string((const char *)attest_ima_bytes(ima) + en->path_off, en->path_len);
			if (!key)
				return -ENOMEM;
			struct val *set = val_object_get(tmp, key);
			if (!set) {
				set = val_set_new(1);
				if (val_object_put(tmp, val_ref(key), set) < 0) {
					val_unref(key);
					return -ENOMEM;
				}
			}
			val_unref(key);
			if (val_set_add(set, val_cstr(d)) < 0)
				return -ENOMEM;
		}
		for (size_t i = 0; i < tmp->obj.n; i++)
			if (val_object_put(allow, val_ref(tmp->obj.keys[i]), val_ref(tmp->obj.vals[i])) < 0)
				return -ENOMEM;
	}
	*out = TAKE_PTR(r);
	return 0;
}

/* ---------------------------------------------------------------- checks */

struct fails {
	struct buf msg;
	size_t n;
};

static void fail_add(struct fails *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_add(struct fails *f, const char *fmt, ...)
{
	if (f->n++ >= REF_MAX_NAMED)
		return;
	if (f->msg.len)
		buf_addstr(&f->msg, "; ");
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&f->msg, fmt, ap);
	va_end(ap);
}

static int fail_finish(struct attest_checks *c, const char *name, struct fails *f)
{
	if (f->n > REF_MAX_NAMED)
		buf_addf(&f->msg, "; and %zu more", f->n - REF_MAX_NAMED);
	int rc = buf_error(&f->msg);
	if (rc == 0)
		rc = attest_checks_add(c, name, f->n ? ATTEST_FAILED : ATTEST_PASSED, f->n ? f->msg.p : NULL);
	buf_release(&f->msg);
	return rc;
}

static bool str_in(const struct val *arr, const char *s)
{
	if (!arr || (arr->kind != VAL_ARRAY && arr->kind != VAL_SET))
		return false;
	for (size_t i = 0; i < arr->arr.n; i++) {
		const char *x = val_str(arr->arr.items[i]);
		if (x && !strcasecmp(x, s))
			return true;
	}
	return false;
}

static void check_keyset(struct fails *f, const char *name, const struct val *want, const struct val *got, bool exact)
{
	if (!want)
		return;
	if (want->kind != VAL_ARRAY && want->kind != VAL_SET) {
		fail_add(f, "%s: reference is not a list", name);
		return;
	}
	for (size_t i = 0; i < want->arr.n; i++) {
		const char *w = val_str(want->arr.items[i]);
		if (w && !str_in(got, w))
			fail_add(f, "%s: %s is missing", name, w);
	}
	for (size_t i = 0; exact && got && i < got->arr.n; i++) {
		const char *g = val_str(got->arr.items[i]);
		if (g && !str_in(want, g))
			fail_add(f, "%s: %s is not in the reference", name, g);
	}
}

static void check_digests(struct fails *f, const char *what, const struct val *allowed, const struct val *items)
{
	if (!allowed)
		return;
	for (size_t i = 0; items && i < items->arr.n; i++) {
		const struct val *d = val_object_get_cstr(items->arr.items[i], "digest");
		bool ok = false;
		for (size_t k = 0; d && d->kind == VAL_OBJECT && k < d->obj.n && !ok; k++)
			ok = str_in(allowed, val_str(d->obj.vals[k]) ? val_str(d->obj.vals[k]) : "");
		if (!ok)
			fail_add(f, "%s #%zu (%s) is not allowed", what, i + 1, pick_digest(d) ? pick_digest(d) : "?");
	}
}

static int check_boot(const struct val *mb, const struct attest_evlog *log, struct attest_checks *c, struct arca_err *e)
{
	_cleanup_val_ struct val *info = NULL;
	int rc = attest_evlog_info(log, &info, e);
	if (rc < 0)
		return attest_checks_add(c, "refstate_measured_boot", ATTEST_FAILED, e ? e->msg : "malformed event log");
	struct fails f = { BUF_INIT, 0 };
	const struct val *sb = val_object_get_cstr(mb, "secureboot");
	const struct val *gsb = val_object_get_cstr(info, "secureboot");
	if (sb && sb->kind == VAL_BOOL) {
		if (!gsb || gsb->kind != VAL_BOOL)
			fail_add(&f, "secureboot: the event log does not record SecureBoot");
		else if (gsb->b != sb->b)
			fail_add(&f, "secureboot: %s, expected %s", gsb->b ? "enabled" : "disabled",
				 sb->b ? "enabled" : "disabled");
	}
	check_keyset(&f, "pk", val_object_get_cstr(mb, "pk"), val_object_get_cstr(info, "pk"), true);
	check_keyset(&f, "kek", val_object_get_cstr(mb, "kek"), val_object_get_cstr(info, "kek"), true);
	check_keyset(&f, "db", val_object_get_cstr(mb, "db"), val_object_get_cstr(info, "db"), true);
	/* dbx only grows: every revoked entry of the reference must be there */
	check_keyset(&f, "dbx", val_object_get_cstr(mb, "dbx"), val_object_get_cstr(info, "dbx"), false);
	check_digests(&f, "boot component", val_object_get_cstr(mb, "boot_components"),
		      val_object_get_cstr(info, "boot_components"));
	check_digests(&f, "firmware event", val_object_get_cstr(mb, "firmware"), val_object_get_cstr(info, "firmware"));
	const char *pat = val_str(val_object_get_cstr(mb, "kernel_cmdline"));
	if (pat) {
		const char *cl = val_str(val_object_get_cstr(info, "kernel_cmdline"));
		if (!cl)
			fail_add(&f, "kernel_cmdline: not measured in the event log");
		else if (fnmatch(pat, cl, 0) != 0)
			fail_add(&f, "kernel_cmdline: '%s' does not match '%s'", cl, pat);
	}
	return fail_finish(c, "refstate_measured_boot", &f);
}

static int check_ima(const struct val *ref, const struct attest_ima *ima, struct attest_checks *c)
{
	const struct val *allow = val_object_get_cstr(ref, "allow"), *ex = val_object_get_cstr(ref, "exclude");
	if ((allow && allow->kind != VAL_OBJECT) || (ex && ex->kind != VAL_ARRAY))
		return attest_checks_add(c, "refstate_ima", ATTEST_FAILED, "reference: ima.allow must be an object, ima.exclude a list");
	if (ex && ex->arr.n > REF_MAX_PATTERNS)
		return attest_checks_add(c, "refstate_ima", ATTEST_FAILED, "reference: too many exclude patterns");
	struct fails f = { BUF_INIT, 0 };
	const uint8_t *base = attest_ima_bytes(ima);
	_cleanup_free_ char *path = NULL;
	for (size_t i = 0; i < attest_ima_count(ima); i++) {
		const struct attest_ima_entry *en = attest_ima_entry(ima, i);
		free(path);
		path = strndup((const char *)base + en->path_off, en->path_len);
		if (!path)
			return -ENOMEM;
		bool excluded = false;
		for (size_t k = 0; ex && k < ex->arr.n && !excluded; k++) {
			const char *p = val_str(ex->arr.items[k]);
			excluded = p && fnmatch(p, path, 0) == 0;
		}
		if (excluded)
			continue;
		if (en->violation) {
			fail_add(&f, "entry %zu '%s': measurement violation", i + 1, path);
			continue;
		}
		const struct val *ds = allow ? val_object_get_cstr(allow, path) : NULL;
		char d[2 * ATTEST_DIGEST_MAX + 24];
		if (!ds)
			fail_add(&f, "entry %zu '%s': not in the allow-list", i + 1, path);
		else if (ima_digest_str(ima, en, d, sizeof(d)) < 0)
			fail_add(&f, "entry %zu '%s': no file digest", i + 1, path);
		else if (!str_in(ds, d))
			fail_add(&f, "entry %zu '%s': digest %s is not allowed", i + 1, path, d);
	}
	return fail_finish(c, "refstate_ima", &f);
}

int attest_refstate_check(const struct val *ref, const struct attest_pcrs *pcrs, const struct attest_evlog *log,
			  const struct attest_ima *ima, struct attest_checks *c, struct arca_err *e)
{
	if (!ref || ref->kind != VAL_OBJECT)
		return err_set(e, -EBADMSG, "reference state: expected an object");
	int64_t ver;
	if (!val_get_int(val_object_get_cstr(ref, "version"), &ver) || ver != 1)
		return err_set(e, -EBADMSG, "reference state: unsupported version");
	int rc = 0;
	const struct val *rp = val_object_get_cstr(ref, "pcrs");
	if (rp) {
		struct attest_pcrs want;
		struct arca_err why = { 0 };
		if ((rc = attest_pcrs_from_val(rp, &want, e)) < 0)
			return err_wrap(e, rc, "reference state");
		if (!pcrs)
			rc = attest_checks_add(c, "refstate_pcrs", ATTEST_UNAVAILABLE, "no quoted PCR values");
		else if (attest_pcrs_compare(pcrs, &want, 0xffffffu, "pcrs", &why) < 0)
			rc = attest_checks_add(c, "refstate_pcrs", ATTEST_FAILED, why.msg);
		else
			rc = attest_checks_add(c, "refstate_pcrs", ATTEST_PASSED, NULL);
		if (rc < 0)
			return rc;
	}
	const struct val *mb = val_object_get_cstr(ref, "measured_boot");
	if (mb) {
		rc = log ? check_boot(mb, log, c, e)
			 : attest_checks_add(c, "refstate_measured_boot", ATTEST_UNAVAILABLE, "no event log");
		if (rc < 0)
			return rc;
	}
	const struct val *ri = val_object_get_cstr(ref, "ima");
	if (ri) {
		rc = ima ? check_ima(ri, ima, c) : attest_checks_add(c, "refstate_ima", ATTEST_UNAVAILABLE, "no IMA measurement list");
		if (rc < 0)
			return rc;
	}
	return 0;
}
