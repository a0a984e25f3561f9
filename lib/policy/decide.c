/* SPDX-License-Identifier: Apache-2.0 */
/* Evaluating the site's launch policy (see policy.h). */
#include "policy.h"
#include "rego.h"

#include <dirent.h>

/*
 * What runs when a site has written no policy yet: an image whose signature
 * is broken never runs (it changed after signing); unsigned images and
 * signatures no trusted key can check run with a warning, as they would
 * with the reference runtime; in attested mode the host must have passed
 * attestation. Sites replace it by putting their own modules in the policy
 * directory.
 */
const char policy_default_rego[] =
	"package arca.launch\n"
	"\n"
	"import rego.v1\n"
	"\n"
	"default allow := false\n"
	"\n"
	"allow if count(deny) == 0\n"
	"\n"
	"deny contains msg if {\n"
	"\tsome s in input.signatures\n"
	"\tnot s.ok\n"
	"\tnot s.untrusted\n"
	"\tmsg := sprintf(\"signature %d does not verify: %s\", [s.id, s.reason])\n"
	"}\n"
	"\n"
	"warn contains msg if {\n"
	"\tsome s in input.signatures\n"
	"\ts.untrusted\n"
	"\tmsg := sprintf(\"signature %d is by no trusted key: %s\", [s.id, s.reason])\n"
	"}\n"
	"\n"
	"deny contains \"attested mode: the host has not passed attestation\" if {\n"
	"\tinput.mode == \"attested\"\n"
	"\tnot input.host.attestation.status == \"passed\"\n"
	"}\n"
	"\n"
	"warn contains \"the image is not signed\" if count(input.signatures) == 0\n"
	"\n"
	"warn contains msg if {\n"
	"\tinput.user.uid == 0\n"
	"\tinput.image.file.writable_by_others\n"
	"\tmsg := \"users other than root can write the image file: it can change after this check\"\n"
	"}\n";

void policy_decision_release(struct policy_decision *d)
{
	val_unref(d->result);
	val_unref(d->deny);
	val_unref(d->warn);
	memset(d, 0, sizeof(*d));
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds every *.rego of @dir in name order (so that errors are
 * reproducible) and data.json when present; *n receives the module count. */
static int load_dir(struct rego *r, const char *dir, size_t *n, struct arca_err *e)
{
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : err_setsys(e, -errno, "policy directory '%s'", dir);
	char *names[POLICY_MAX_MODULES];
	size_t cnt = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".rego") != 0)
			continue;
		if (cnt == POLICY_MAX_MODULES) {
			rc = err_set(e, -E2BIG, "policy directory '%s' holds more than %d modules", dir,
				     POLICY_MAX_MODULES);
			break;
		}
		if (!(names[cnt] = strdup(de->d_name))) {
			rc = err_set(e, -ENOMEM, "out of memory");
			break;
		}
		cnt++;
	}
	closedir(d);
	qsort(names, cnt, sizeof(*names), name_cmp);
	for (size_t i = 0; i < cnt && rc == 0; i++) {
		_cleanup_buf_ struct buf path = BUF_INIT, src = BUF_INIT;
		buf_addf(&path, "%s/%s", dir, names[i]);
		if (buf_error(&path) < 0)
			rc = err_set(e, -ENOMEM, "out of memory");
		else if ((rc = file_read_all(path.p, POLICY_MAX_MODULE_BYTES, &src, e)) >= 0)
			rc = rego_add_module(r, path.p, src.p, src.len, 0, e);
	}
	for (size_t i = 0; i < cnt; i++)
		free(names[i]);
	if (rc < 0)
		return rc;
	*n = cnt;

	_cleanup_buf_ struct buf path = BUF_INIT, text = BUF_INIT;
	buf_addf(&path, "%s/data.json", dir);
	if (buf_error(&path) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	rc = file_read_all(path.p, POLICY_MAX_DATA_BYTES, &text, e);
	if (rc == -ENOENT) {
		err_clear(e);
		return 0;
	}
	_cleanup_val_ struct val *data = NULL;
	if (rc < 0 || (rc = val_from_json(text.p, text.len, NULL, &data, e)) < 0)
		return err_wrap(e, rc, "'%s'", path.p);
	return rego_set_data(r, data, e);
}

/* Collects strings from a set or array into a fresh array. */
static struct val *strings(const struct val *v)
{
	struct val *a = val_array_new(v ? v->arr.n : 0);
	if (!a || !v || (v->kind != VAL_SET && v->kind != VAL_ARRAY))
		return a;
	for (size_t i = 0; i < v->arr.n; i++) {
		struct val *s = v->arr.items[i];
		struct val *item = NULL;
		if (s->kind == VAL_STRING) {
			item = val_ref(s);
		} else {
			struct buf b = BUF_INIT;
			val_to_json(s, &b, 0);
			item = buf_error(&b) < 0 ? NULL : val_string(b.p ? b.p : "", b.len);
			buf_release(&b);
		}
		if (!item || val_array_push(a, item) < 0) {
			val_unref(a);
			return NULL;
		}
	}
	return a;
}

static int evaluate(const struct policy_config *c, struct val *input, struct policy_decision *d, struct arca_err *e)
{
	struct rego *r = rego_new();
	if (!r)
		return err_set(e, -ENOMEM, "out of memory");
	struct rego_limits lim = { .max_steps = c->max_steps, .timeout_ms = c->timeout_ms };
	rego_set_limits(r, &lim);
	size_t n = 0;
	int rc = c->dir && c->dir[0] ? load_dir(r, c->dir, &n, e) : 0;
	if (rc == 0 && n == 0) {
		d->builtin_policy = true;
		rc = rego_add_module(r, "arca-default.rego", policy_default_rego, strlen(policy_default_rego), 0, e);
	}
	struct rego_query *q = NULL;
	if (rc == 0)
		rc = rego_compile(r, e);
	if (rc == 0)
		rc = rego_prepare(r, c->query, strlen(c->query), 0, &q, e);
	if (rc == 0)
		rc = rego_query_value(q, input, &d->result, e);
	rego_query_free(q);
	rego_free(r);
	return rc;
}

int policy_decide(const struct policy_config *c, struct val *input, struct policy_decision *d, struct arca_err *e)
{
	memset(d, 0, sizeof(*d));
	struct arca_err pe = { 0 };
	int rc = evaluate(c, input, d, &pe);
	const struct val *res = d->result;
	if (rc < 0) {
		snprintf(d->reason, sizeof(d->reason), "policy error: %s", err_msg(&pe));
	} else if (!res) {
		snprintf(d->reason, sizeof(d->reason), "policy gave no decision (%s is undefined)", c->query);
	} else if (res->kind == VAL_BOOL) {
		d->policy_allow = res->b;
	} else if (res->kind == VAL_OBJECT) {
		const struct val *a = val_object_get_cstr(res, "allow");
		d->policy_allow = a && a->kind == VAL_BOOL && a->b;
		d->deny = strings(val_object_get_cstr(res, "deny"));
		d->warn = strings(val_object_get_cstr(res, "warn"));
	} else {
		snprintf(d->reason, sizeof(d->reason), "policy answered neither a boolean nor an object");
	}
	if (!d->deny)
		d->deny = val_array_new(0);
	if (!d->warn)
		d->warn = val_array_new(0);
	if (!d->deny || !d->warn) {
		policy_decision_release(d);
		return err_set(e, -ENOMEM, "out of memory");
	}
	if (d->deny->arr.n > 0) {
		d->policy_allow = false;
		snprintf(d->reason, sizeof(d->reason), "denied: %s", d->deny->arr.items[0]->str.s);
	} else if (!d->reason[0] && !d->policy_allow) {
		snprintf(d->reason, sizeof(d->reason), "denied: %s.allow is not true", c->query);
	}
	/* Attested mode needs proof from the host whatever the policy says. */
	if (d->policy_allow && c->mode == POLICY_ATTESTED) {
		const struct val *h = val_object_get_cstr(input, "host");
		const struct val *at = h ? val_object_get_cstr(h, "attestation") : NULL;
		const char *st = at ? val_str(val_object_get_cstr(at, "status")) : NULL;
		if (!st || strcmp(st, "passed") != 0) {
			d->policy_allow = false;
			snprintf(d->reason, sizeof(d->reason), "attested mode: the host has not passed attestation");
		}
	}
	d->allowed = d->policy_allow || c->mode == POLICY_PERMISSIVE;
	return 0;
}

void policy_launch_release(struct policy_launch *l)
{
	val_unref(l->input);
	policy_decision_release(&l->d);
	memset(l, 0, sizeof(*l));
}

/* "This caller may not write there", as opposed to a broken log or disk. */
static bool log_not_writable(int rc)
{
	return rc == -EACCES || rc == -EPERM || rc == -EROFS;
}

int policy_launch(const struct policy_config *c, const char *image_path, const struct sif_image *img,
		  const struct policy_request *req, bool advisory, struct policy_launch *l, struct arca_err *e)
{
	memset(l, 0, sizeof(*l));
	int rc = policy_input(c, image_path, img, NULL, req, &l->input, e);
	if (rc < 0)
		return rc;
	if ((rc = policy_decide(c, l->input, &l->d, e)) < 0) {
		val_unref(TAKE_PTR(l->input));
		return rc;
	}
	if (!c->decision_log || !c->decision_log[0])
		return 0;
	struct arca_err le = { 0 };
	rc = policy_log_append(c->decision_log, c, l->input, &l->d, &le);
	if (rc >= 0) {
		l->logged = true;
		return 0;
	}
	l->log_rc = rc;
	snprintf(l->log_error, sizeof(l->log_error), "%s", err_msg(&le));
	/* A launch nobody could audit afterwards does not happen, unless
	 * nothing is being enforced, or the caller's launch is advisory anyway
	 * and only lacks the right to write the site's log. */
	if (!l->d.allowed || c->mode == POLICY_PERMISSIVE || (advisory && log_not_writable(rc)))
		return 0;
	l->log_refused = true;
	l->d.allowed = false;
	snprintf(l->d.reason, sizeof(l->d.reason), "the decision could not be logged: %.400s", l->log_error);
	return 0;
}
