/* SPDX-License-Identifier: Apache-2.0 */
/* The arca configuration file (arca.toml). */
#include "policy.h"

#include <limits.h>

const char *policy_mode_name(enum policy_mode m)
{
	switch (m) {
	case POLICY_PERMISSIVE: return "permissive";
	case POLICY_ENFORCING: return "enforcing";
	case POLICY_ATTESTED: return "attested";
	}
	return "unknown";
}

void policy_config_free(struct policy_config *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c->query);
	free(c->decision_log);
	free(c->ecl);
	free(c->tcti);
	free(c->refstate);
	free(c);
}

static int set_str(char **dst, const struct val *v, const char *name, struct arca_err *e)
{
	char *d = NULL;
	int rc = val_dup_cstr(v, PATH_MAX, &d);
	if (rc == -EBADMSG)
		return err_set(e, rc, "%s must be a string without NUL", name);
	if (rc == -E2BIG)
		return err_set(e, rc, "%s is longer than %d bytes", name, PATH_MAX);
	if (rc < 0)
		return err_set(e, rc, "out of memory");
	free(*dst);
	*dst = d;
	return 0;
}

static int set_uint(uint64_t *dst, const struct val *v, uint64_t max, const char *name, struct arca_err *e)
{
	int64_t i;
	if (!val_get_int(v, &i) || i < 0 || (uint64_t)i > max)
		return err_set(e, -EBADMSG, "%s must be an integer from 0 to %" PRIu64, name, max);
	*dst = (uint64_t)i;
	return 0;
}

/* One [section]: every key must be known, so that a misspelt key is an
 * error rather than a silently ignored setting. */
static int section(struct policy_config *c, const char *sect, const struct val *t, struct arca_err *e)
{
	if (t->kind != VAL_OBJECT)
		return err_set(e, -EBADMSG, "[%s] must be a table", sect);
	for (size_t i = 0; i < t->obj.n; i++) {
		const char *k = val_str(t->obj.keys[i]);
		const struct val *v = t->obj.vals[i];
		char name[128];
		snprintf(name, sizeof(name), "%s.%s", sect, k);
		int rc;
		uint64_t u = 0;
		if (!strcmp(sect, "policy") && !strcmp(k, "dir"))
			rc = set_str(&c->dir, v, name, e);
		else if (!strcmp(sect, "policy") && !strcmp(k, "query"))
			rc = set_str(&c->query, v, name, e);
		else if (!strcmp(sect, "policy") && !strcmp(k, "decision_log"))
			rc = set_str(&c->decision_log, v, name, e);
		else if (!strcmp(sect, "policy") && !strcmp(k, "max_steps"))
			rc = set_uint(&c->max_steps, v, UINT64_MAX >> 1, name, e);
		else if (!strcmp(sect, "policy") && !strcmp(k, "timeout_ms")) {
			rc = set_uint(&u, v, 3600000, name, e);
			c->timeout_ms = (unsigned)u;
		} else if (!strcmp(sect, "images") && !strcmp(k, "ecl")) {
			rc = set_str(&c->ecl, v, name, e);
		} else if (!strcmp(sect, "images") && !strcmp(k, "keep_mounted")) {
			rc = set_uint(&u, v, POLICY_MAX_KEEP_MOUNTED, name, e);
			c->keep_mounted = (unsigned)u;
		} else if (!strcmp(sect, "attest") && !strcmp(k, "tcti")) {
			rc = set_str(&c->tcti, v, name, e);
		} else if (!strcmp(sect, "attest") && !strcmp(k, "refstate")) {
			rc = set_str(&c->refstate, v, name, e);
		} else {
			rc = err_set(e, -EBADMSG, "unknown setting %s", name);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int apply(struct policy_config *c, const struct val *doc, struct arca_err *e)
{
	for (size_t i = 0; i < doc->obj.n; i++) {
		const char *k = val_str(doc->obj.keys[i]);
		const struct val *v = doc->obj.vals[i];
		int rc;
		if (!strcmp(k, "mode")) {
			const char *m = val_str(v);
			if (m && !strcmp(m, "permissive"))
				c->mode = POLICY_PERMISSIVE;
			else if (m && !strcmp(m, "enforcing"))
				c->mode = POLICY_ENFORCING;
			else if (m && !strcmp(m, "attested"))
				c->mode = POLICY_ATTESTED;
			else
				return err_set(e, -EBADMSG, "mode must be \"permissive\", \"enforcing\" or \"attested\"");
			continue;
		}
		if (!strcmp(k, "policy") || !strcmp(k, "images") || !strcmp(k, "attest"))
			rc = section(c, k, v, e);
		else
			rc = err_set(e, -EBADMSG, "unknown setting %s", k);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static struct policy_config *defaults(void)
{
	struct policy_config *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->mode = POLICY_ENFORCING;
	c->dir = strdup(POLICY_DEFAULT_DIR);
	c->query = strdup(POLICY_DEFAULT_QUERY);
	c->decision_log = strdup(POLICY_DEFAULT_LOG);
	c->ecl = strdup(INTEGRITY_ECL_PATH);
	c->max_steps = 10000000;
	c->timeout_ms = 2000;
	if (!c->dir || !c->query || !c->decision_log || !c->ecl) {
		policy_config_free(c);
		return NULL;
	}
	return c;
}

int policy_config_parse(const char *text, size_t len, struct policy_config **out, struct arca_err *e)
{
	if (len > POLICY_CONFIG_MAX_BYTES)
		return err_set(e, -E2BIG, "configuration larger than %u bytes", POLICY_CONFIG_MAX_BYTES);
	struct policy_config *c = defaults();
	if (!c)
		return err_set(e, -ENOMEM, "out of memory");
	_cleanup_val_ struct val *doc = NULL;
	int rc = val_from_toml(text, len, &doc, e);
	if (rc >= 0)
		rc = apply(c, doc, e);
	if (rc < 0) {
		policy_config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int policy_config_load(const char *path, struct policy_config **out, struct arca_err *e)
{
	bool explicit_path = path != NULL;
	/* secure_getenv: were arca ever given privileges it does not have
	 * from its caller (setuid, file capabilities), the caller must not
	 * pick the configuration that judges them */
	if (!path)
		path = secure_getenv("ARCA_CONFIG");
	explicit_path |= path != NULL;
	if (!path)
		path = POLICY_CONFIG_PATH;

	_cleanup_buf_ struct buf text = BUF_INIT;
	int rc = file_read_all(path, POLICY_CONFIG_MAX_BYTES, &text, e);
	if (rc == -ENOENT && !explicit_path) {
		err_clear(e);
		struct policy_config *c = defaults();
		char *nolog = strdup("");
		if (!c || !nolog) {
			policy_config_free(c);
			free(nolog);
			return err_set(e, -ENOMEM, "out of memory");
		}
		free(c->decision_log);
		c->decision_log = nolog;
		c->unconfigured = true;
		*out = c;
		return 0;
	}
	if (rc >= 0)
		rc = policy_config_parse(text.p, text.len, out, e);
	return rc < 0 ? err_wrap(e, rc, "configuration '%s'", path) : 0;
}
