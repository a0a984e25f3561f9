/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container metadata Apptainer/SingularityCE users expect, generated
 * from the build options: /.singularity.d inside the root filesystem
 * (labels.json, env/90-environment.sh, runscript, Singularity and the
 * action scripts the runtime execs) and the "inspect-metadata.json" object
 * that `apptainer inspect` reads from the SIF without mounting it.
 */
#include "internal.h"

#include <inttypes.h>

#include <time.h>

static bool env_name_ok(const char *k)
{
	if (!k || !(*k == '_' || (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z')))
		return false;
	for (const char *c = k; *c; c++)
		if (!(*c == '_' || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
			return false;
	return true;
}

/* POSIX shell single quoting: every byte is literal except ', written '\''. */
static void sh_quote(struct buf *b, const char *s)
{
	buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_addstr(b, "'\\''");
		else
			buf_addch(b, *s);
	}
	buf_addch(b, '\'');
}

void build_label_date(int64_t t, char *out, size_t cap)
{
	static const char *const days[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };
	static const char *const months[] = { "January", "February", "March",     "April",   "May",      "June",
					      "July",    "August",   "September", "October", "November", "December" };
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, cap, "%" PRId64, t);
		return;
	}
	/* The reference formats with Go's "Monday_2_January_2006_15:4:5_MST":
	 * no zero padding anywhere. arca always builds in UTC. */
	snprintf(out, cap, "%s_%d_%s_%d_%d:%d:%d_UTC", days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int put_str(struct val *o, const char *k, const char *v, size_t len)
{
	struct val *s = val_string(v, len);
	if (!s)
		return -ENOMEM;
	return val_object_put_cstr(o, k, s);
}

int meta_prepare(const struct build_opts *o, const char *arch, int64_t now, struct meta *m, struct arca_err *e)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->labels_json);
	buf_init(&m->env_sh);
	buf_init(&m->runscript);
	buf_init(&m->deffile);
	buf_init(&m->inspect_json);
	if (o->n_labels > BUILD_MAX_KV || o->n_env > BUILD_MAX_KV)
		return err_set(e, -E2BIG, "more than %u labels or environment variables", BUILD_MAX_KV);

	_cleanup_val_ struct val *labels = val_object_new(8);
	if (!labels)
		return err_set(e, -ENOMEM, "out of memory");
	int rc = put_str(labels, "org.label-schema.build-arch", arch, strlen(arch));
	if (!rc && (!o->deterministic || o->has_epoch)) {
		char date[96];
		build_label_date(o->has_epoch ? o->epoch : now, date, sizeof(date));
		rc = put_str(labels, "org.label-schema.build-date", date, strlen(date));
	}
	if (!rc)
		rc = put_str(labels, "org.label-schema.schema-version", "1.0", 3);
	if (!rc)
		rc = put_str(labels, "org.label-schema.usage.arca.version", ARCA_VERSION_STRING,
			     strlen(ARCA_VERSION_STRING));
	for (size_t i = 0; !rc && i < o->n_labels; i++) {
		const struct build_kv *kv = &o->labels[i];
		if (!kv->key || !*kv->key || !kv->value)
			return err_set(e, -EINVAL, "label %zu has an empty key", i + 1);
		rc = put_str(labels, kv->key, kv->value, strlen(kv->value));
	}
	if (rc)
		return err_set(e, -ENOMEM, "out of memory");
	val_to_json(labels, &m->labels_json, JSON_PRETTY);
	buf_addch(&m->labels_json, '\n');

	buf_addstr(&m->env_sh, "#!/bin/sh\n# Custom environment shell code should follow\n\n");
	for (size_t i = 0; i < o->n_env; i++) {
		const struct build_kv *kv = &o->env[i];
		if (!env_name_ok(kv->key) || !kv->value)
			return err_set(e, -EINVAL, "invalid environment variable name '%s'", kv->key ? kv->key : "");
		buf_addf(&m->env_sh, "export %s=", kv->key);
		sh_quote(&m->env_sh, kv->value);
		buf_addch(&m->env_sh, '\n');
	}
	m->has_env = o->n_env > 0;

	if (o->runscript) {
		if (o->runscript_len > BUILD_MAX_META_FILE)
			return err_set(e, -E2BIG, "runscript over %u bytes", BUILD_MAX_META_FILE);
		buf_add(&m->runscript, o->runscript, o->runscript_len);
		m->has_runscript = true;
	} else {
		buf_addstr(&m->runscript, "#!/bin/sh\n\necho \"This image defines no runscript.\" >&2\n");
	}
	if (o->deffile) {
		if (o->deffile_len > BUILD_MAX_META_FILE)
			return err_set(e, -E2BIG, "definition file over %u bytes", BUILD_MAX_META_FILE);
		buf_add(&m->deffile, o->deffile, o->deffile_len);
		m->has_deffile = true;
	}

	/* {"data":{"attributes":{...}},"type":"container"} as the reference's
	 * inspect.Metadata marshals it. */
	_cleanup_val_ struct val *attrs = val_object_new(4);
	_cleanup_val_ struct val *envs = val_object_new(1);
	if (!attrs || !envs)
		return err_set(e, -ENOMEM, "out of memory");
	rc = put_str(envs, "/.singularity.d/env/90-environment.sh", m->env_sh.p, m->env_sh.len);
	if (!rc)
		rc = val_object_put_cstr(attrs, "environment", val_ref(envs));
	if (!rc)
		rc = val_object_put_cstr(attrs, "labels", val_ref(labels));
	if (!rc)
		rc = put_str(attrs, "runscript", m->runscript.p, m->runscript.len);
	if (!rc && m->has_deffile)
		rc = put_str(attrs, "deffile", m->deffile.p, m->deffile.len);
	struct val *data = val_object_new(1), *top = val_object_new(2);
	if (!data || !top)
		rc = -ENOMEM;
	if (!rc)
		rc = val_object_put_cstr(data, "attributes", val_ref(attrs));
	if (!rc) {
		rc = val_object_put_cstr(top, "data", data);
		data = NULL;
		if (!rc)
			rc = put_str(top, "type", "container", 9);
	}
	if (rc || !top) {
		val_unref(data);
		val_unref(top);
		return err_set(e, -ENOMEM, "out of memory");
	}
	val_to_json(top, &m->inspect_json, JSON_ESCAPE_HTML);
	val_unref(top);
	val_unref(data);
	int bad = buf_error(&m->labels_json) | buf_error(&m->env_sh) | buf_error(&m->runscript) |
		  buf_error(&m->deffile) | buf_error(&m->inspect_json);
	if (bad)
		return err_set(e, -ENOMEM, "out of memory");
	return 0;
}

void meta_release(struct meta *m)
{
	buf_release(&m->labels_json);
	buf_release(&m->env_sh);
	buf_release(&m->runscript);
	buf_release(&m->deffile);
	buf_release(&m->inspect_json);
}

/* The action scripts the runtime execs: source the environment, then do
 * what the action names. Written for arca; behaviour as the reference's. */
static const char env_loop[] = "for script in /.singularity.d/env/*.sh; do\n"
			       "    if [ -f \"$script\" ]; then\n"
			       "        . \"$script\"\n"
			       "    fi\n"
			       "done\n\n";

static const char act_exec[] = "exec \"$@\"\n";
static const char act_run[] = "if [ -x /.singularity.d/runscript ]; then\n"
			      "    exec /.singularity.d/runscript \"$@\"\n"
			      "fi\n"
			      "echo \"no runscript in this image, starting /bin/sh\" >&2\n"
			      "exec /bin/sh \"$@\"\n";
static const char act_shell[] = "if [ -x /bin/bash ]; then\n"
				"    SHELL=/bin/bash\n"
				"    export SHELL\n"
				"    exec /bin/bash --norc \"$@\"\n"
				"fi\n"
				"SHELL=/bin/sh\n"
				"export SHELL\n"
				"exec /bin/sh \"$@\"\n";
static const char act_start[] = "if [ -x /.singularity.d/startscript ]; then\n"
				"    exec /.singularity.d/startscript\n"
				"fi\n";
static const char act_test[] = "if [ -x /.singularity.d/test ]; then\n"
			       "    exec /.singularity.d/test \"$@\"\n"
			       "fi\n"
			       "exec /bin/sh -c true\n";
static const char env_base[] = "#!/bin/sh\n# Base environment of images built by arca.\n";
static const char env_99[] = "#!/bin/sh\n"
			     "if [ -z \"${LD_LIBRARY_PATH:-}\" ]; then\n"
			     "    LD_LIBRARY_PATH=/.singularity.d/libs\n"
			     "else\n"
			     "    LD_LIBRARY_PATH=\"$LD_LIBRARY_PATH:/.singularity.d/libs\"\n"
			     "fi\n"
			     "export LD_LIBRARY_PATH\n";

static int gen_node(struct btree *t, const char *path, uint32_t mode, enum bnode_origin origin, struct bnode **out,
		    struct arca_err *e)
{
	struct bnode *dir, *n;
	const char *leaf;
	size_t leaf_len;
	int rc = tree_walk(t, path, true, &dir, &leaf, &leaf_len, e);
	if (rc < 0)
		return rc;
	BUG_ON(!leaf);
	n = tree_child(t, dir, leaf, leaf_len);
	if (!n) {
		rc = tree_add_child(t, dir, leaf, leaf_len, &n, e);
		if (rc < 0)
			return rc;
	}
	n->mode = mode;
	n->origin = (uint8_t)origin;
	n->uid = n->gid = 0;
	n->mtime = t->has_epoch ? t->epoch : t->gen_time;
	*out = n;
	return 0;
}

static int gen_file(struct btree *t, struct bsink *sink, const char *path, uint32_t perm, enum bnode_origin origin,
		    const char *a, size_t alen, const char *b, size_t blen, struct arca_err *e)
{
	struct bnode *n;
	int rc = gen_node(t, path, S_IFREG | perm, origin, &n, e);
	if (rc < 0)
		return rc;
	rc = sink->begin(sink, n, e);
	if (rc >= 0 && alen)
		rc = sink->append(sink, a, alen, e);
	if (rc >= 0 && blen)
		rc = sink->append(sink, b, blen, e);
	if (rc >= 0)
		rc = sink->end(sink, e);
	return rc;
}

static int gen_action(struct btree *t, struct bsink *sink, const char *name, const char *body, struct arca_err *e)
{
	char path[64];
	snprintf(path, sizeof(path), ".singularity.d/actions/%s", name);
	struct buf b = BUF_INIT;
	buf_addstr(&b, "#!/bin/sh\n\n");
	buf_addstr(&b, env_loop);
	buf_addstr(&b, body);
	int rc = buf_error(&b) ? err_set(e, -ENOMEM, "out of memory")
			       : gen_file(t, sink, path, 0755, ORIGIN_GEN_DEFAULT, b.p, b.len, NULL, 0, e);
	buf_release(&b);
	return rc;
}

static int gen_link(struct btree *t, const char *path, const char *target, struct arca_err *e)
{
	struct bnode *n;
	int rc = gen_node(t, path, S_IFLNK | 0777, ORIGIN_GEN_DEFAULT, &n, e);
	if (rc < 0)
		return rc;
	free(n->target);
	n->target = strdup(target);
	return n->target ? 0 : err_set(e, -ENOMEM, "out of memory");
}

int meta_add_tree(struct btree *t, struct bsink *sink, const struct meta *m, struct arca_err *e)
{
	static const char *const dirs[] = { ".singularity.d", ".singularity.d/actions", ".singularity.d/env",
					    ".singularity.d/libs" };
	struct bnode *n;
	int rc = 0;
	for (size_t i = 0; rc >= 0 && i < ARRAY_SIZE(dirs); i++)
		rc = gen_node(t, dirs[i], S_IFDIR | 0755, ORIGIN_GEN_DEFAULT, &n, e);
	if (rc >= 0)
		rc = gen_action(t, sink, "exec", act_exec, e);
	if (rc >= 0)
		rc = gen_action(t, sink, "run", act_run, e);
	if (rc >= 0)
		rc = gen_action(t, sink, "shell", act_shell, e);
	if (rc >= 0)
		rc = gen_action(t, sink, "start", act_start, e);
	if (rc >= 0)
		rc = gen_action(t, sink, "test", act_test, e);
	if (rc >= 0)
		rc = gen_file(t, sink, ".singularity.d/env/01-base.sh", 0755, ORIGIN_GEN_DEFAULT, env_base,
			      strlen(env_base), NULL, 0, e);
	if (rc >= 0)
		rc = gen_file(t, sink, ".singularity.d/env/90-environment.sh", 0755,
			      m->has_env ? ORIGIN_GEN_FORCE : ORIGIN_GEN_DEFAULT, m->env_sh.p, m->env_sh.len, NULL, 0,
			      e);
	if (rc >= 0)
		rc = gen_file(t, sink, ".singularity.d/env/99-base.sh", 0755, ORIGIN_GEN_DEFAULT, env_99,
			      strlen(env_99), NULL, 0, e);
	if (rc >= 0)
		rc = gen_file(t, sink, ".singularity.d/runscript", 0755,
			      m->has_runscript ? ORIGIN_GEN_FORCE : ORIGIN_GEN_DEFAULT, m->runscript.p,
			      m->runscript.len, NULL, 0, e);
	if (rc >= 0)
		rc = gen_file(t, sink, ".singularity.d/startscript", 0755, ORIGIN_GEN_DEFAULT, "#!/bin/sh\n", 10,
			      NULL, 0, e);
	if (rc >= 0)
		rc = gen_file(t, sink, ".singularity.d/labels.json", 0644, ORIGIN_GEN_FORCE, m->labels_json.p,
			      m->labels_json.len, NULL, 0, e);
	if (rc >= 0 && m->has_deffile)
		rc = gen_file(t, sink, ".singularity.d/Singularity", 0644, ORIGIN_GEN_FORCE, m->deffile.p,
			      m->deffile.len, NULL, 0, e);
	if (rc >= 0)
		rc = gen_link(t, "singularity", ".singularity.d/runscript", e);
	if (rc >= 0)
		rc = gen_link(t, "environment", ".singularity.d/env/90-environment.sh", e);
	return rc;
}
