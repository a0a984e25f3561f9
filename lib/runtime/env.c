/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's environment and the option parsers the CLI shares with
 * scripts: bind lists and sizes.
 */
#include "internal.h"

#include <ctype.h>
#include <libgen.h>

#define RT_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

void rt_env_release(struct rt_env *env)
{
	if (env->v) {
		for (size_t i = 0; i < env->n; i++)
			free(env->v[i]);
		free(env->v);
	}
	*env = (struct rt_env){ 0 };
}

static size_t keylen(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq ? (size_t)(eq - kv) : strlen(kv);
}

bool rt_env_key_ok(const char *kv, size_t n)
{
	if (n == 0 || isdigit((unsigned char)kv[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)kv[i]) && kv[i] != '_')
			return false;
	return true;
}

static ssize_t env_find(const struct rt_env *env, const char *key, size_t klen)
{
	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->v[i], key, klen) && env->v[i][klen] == '=')
			return (ssize_t)i;
	return -1;
}

void rt_env_put(struct rt_env *env, const char *kv)
{
	if (env->oom)
		return;
	char *copy = strdup(kv);
	if (!copy) {
		env->oom = true;
		return;
	}
	ssize_t i = env_find(env, kv, keylen(kv));
	if (i >= 0) {
		free(env->v[i]);
		env->v[i] = copy;
		return;
	}
	if (env->n + 2 > env->cap) {
		size_t cap = env->cap ? env->cap * 2 : 32;
		char **nv = realloc(env->v, cap * sizeof(char *));
		if (!nv) {
			free(copy);
			env->oom = true;
			return;
		}
		env->v = nv;
		env->cap = cap;
	}
	env->v[env->n++] = copy;
	env->v[env->n] = NULL;
}

void rt_env_set(struct rt_env *env, const char *key, const char *val)
{
	_cleanup_free_ char *kv = NULL;
	if (asprintf(&kv, "%s=%s", key, val) < 0) {
		env->oom = true;
		return;
	}
	rt_env_put(env, kv);
}

const char *rt_env_get(const struct rt_env *env, const char *key)
{
	ssize_t i = env_find(env, key, strlen(key));
	return i >= 0 ? env->v[i] + strlen(key) + 1 : NULL;
}

static bool has_prefix(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

/* Variables that never pass from the host (Apptainer's "always omit"). */
static bool host_omitted(const char *kv)
{
	static const char *const omit[] = { "HOME", "PATH", "LD_LIBRARY_PATH", "PS1", "SINGULARITY_SHELL",
					    "APPTAINER_SHELL", "SINGULARITY_APPNAME", "APPTAINER_APPNAME" };
	size_t n = keylen(kv);
	for (size_t i = 0; i < ARRAY_SIZE(omit); i++)
		if (strlen(omit[i]) == n && !strncmp(kv, omit[i], n))
			return true;
	/* arca's own and the reference's control variables configure the
	 * launcher, not the workload */
	return has_prefix(kv, "APPTAINER_") || has_prefix(kv, "SINGULARITY_") || has_prefix(kv, "ARCA_");
}

static bool always_passed(const char *kv)
{
	static const char *const pass[] = { "TERM",	   "http_proxy", "HTTP_PROXY", "https_proxy",
					    "HTTPS_PROXY", "no_proxy",	 "NO_PROXY",   "all_proxy",
					    "ALL_PROXY",   "ftp_proxy",	 "FTP_PROXY" };
	size_t n = keylen(kv);
	for (size_t i = 0; i < ARRAY_SIZE(pass); i++)
		if (strlen(pass[i]) == n && !strncmp(kv, pass[i], n))
			return true;
	return false;
}

/*
 * The environment descriptor holds shell assignments ("K=V" or
 * "export K=V" lines, values optionally quoted). Only plain assignments are
 * taken; anything else is left to the env scripts inside the image.
 */
static void env_apply_descriptor(struct rt_env *env, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *s = p;
		p = nl ? nl + 1 : end;
		while (s < le && isspace((unsigned char)*s))
			s++;
		if (le - s > 7 && !strncmp(s, "export ", 7))
			s += 7;
		const char *eq = memchr(s, '=', (size_t)(le - s));
		if (!eq || !rt_env_key_ok(s, (size_t)(eq - s)))
			continue;
		const char *v = eq + 1, *ve = le;
		while (ve > v && isspace((unsigned char)ve[-1]))
			ve--;
		if (ve - v >= 2 && (*v == '"' || *v == '\'') && ve[-1] == *v) {
			v++;
			ve--;
		}
		_cleanup_free_ char *kv = NULL;
		if (asprintf(&kv, "%.*s=%.*s", (int)(eq - s), s, (int)(ve - v), v) < 0) {
			env->oom = true;
			return;
		}
		rt_env_put(env, kv);
	}
}

int rt_env_build(const struct rt_opts *o, const struct sif_image *img, const char *home, struct rt_env *env,
		 struct rt_env *overrides, struct arca_err *e)
{
	bool clean = o->cleanenv || o->containall;
	for (char **p = environ; p && *p; p++) {
		const char *kv = *p;
		if (!strchr(kv, '='))
			continue;
		if (has_prefix(kv, "APPTAINERENV_") || has_prefix(kv, "SINGULARITYENV_")) {
			const char *rest = strchr(kv, '_') + 1;
			if (rt_env_key_ok(rest, keylen(rest)))
				rt_env_put(overrides, rest);
			continue;
		}
		if (always_passed(kv) || (!clean && !host_omitted(kv)))
			rt_env_put(env, kv);
	}
	if (clean)
		rt_env_set(env, "LANG", "C");
	rt_env_set(env, "PATH", RT_DEFAULT_PATH);
	rt_env_set(env, "HOME", home);

	for (size_t i = 0; i < sif_descr_slots(img); i++) {
		const struct sif_descr *d = sif_descr_slot(img, i);
		if (d->used && d->datatype == SIF_DATA_ENVVAR)
			env_apply_descriptor(env, (const char *)sif_object_data(img, d), (size_t)d->size);
	}

	_cleanup_free_ char *abs = realpath(o->image, NULL);
	const char *path = abs ? abs : o->image;
	_cleanup_free_ char *dup = strdup(path);
	const char *name = dup ? basename(dup) : path;
	static const char *const action[] = { "run", "exec", "shell" };
	rt_env_set(env, "APPTAINER_CONTAINER", path);
	rt_env_set(env, "APPTAINER_NAME", name);
	rt_env_set(env, "SINGULARITY_CONTAINER", path);
	rt_env_set(env, "SINGULARITY_NAME", name);
	rt_env_set(env, "APPTAINER_COMMAND", action[o->action]);
	rt_env_set(env, "ARCA_CONTAINER", path);
	if (o->action == RT_ACTION_SHELL)
		rt_env_set(env, "PS1", "Arca> ");

	if (o->n_env > RT_MAX_ENV)
		return err_set(e, -E2BIG, "more than %u --env values", RT_MAX_ENV);
	for (size_t i = 0; i < o->n_env; i++) {
		const char *kv = o->env[i];
		if (!strchr(kv, '=') || !rt_env_key_ok(kv, keylen(kv)))
			return err_set(e, -EINVAL, "--env '%s': expected NAME=VALUE", kv);
		rt_env_put(overrides, kv);
	}
	if (env->oom || overrides->oom)
		return err_set(e, -ENOMEM, "out of memory");
	return 0;
}

void rt_shell_quote(struct buf *b, const char *s)
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

/* ------------------------------------------------------------ option parsers */

void rt_binds_free(struct rt_bind *binds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(binds[i].src);
		free(binds[i].dst);
	}
	free(binds);
}

static char *absolute(const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	char *out = NULL;
	if (asprintf(&out, "%s/%s", strcmp(cwd, "/") ? cwd : "", p) < 0)
		return NULL;
	return out;
}

static bool has_dot_component(const char *p)
{
	for (const char *c = p; *c;) {
		while (*c == '/')
			c++;
		size_t len = strcspn(c, "/");
		if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return true;
		c += len;
	}
	return false;
}

int rt_bind_parse(const char *spec, struct rt_bind **binds, size_t *n, struct arca_err *e)
{
	_cleanup_free_ char *copy = strdup(spec);
	if (!copy)
		return err_set(e, -ENOMEM, "out of memory");
	char *save = NULL;
	for (char *ent = strtok_r(copy, ",", &save); ent; ent = strtok_r(NULL, ",", &save)) {
		if (*n >= RT_MAX_BINDS)
			return err_set(e, -E2BIG, "more than %u binds", RT_MAX_BINDS);
		char *f[3] = { ent, NULL, NULL };
		char *c1 = strchr(ent, ':');
		if (c1) {
			*c1 = '\0';
			f[1] = c1 + 1;
			char *c2 = strchr(f[1], ':');
			if (c2) {
				*c2 = '\0';
				f[2] = c2 + 1;
			}
		}
		bool ro = false;
		if (f[1] && !f[2] && (!strcmp(f[1], "ro") || !strcmp(f[1], "rw"))) {
			/* "src:ro" is Apptainer's shorthand for src:src:ro */
			f[2] = f[1];
			f[1] = NULL;
		}
		if (f[2]) {
			if (!strcmp(f[2], "ro"))
				ro = true;
			else if (strcmp(f[2], "rw"))
				return err_set(e, -EINVAL, "bind '%s': unknown option '%s' (ro or rw)", spec, f[2]);
		}
		if (!*f[0] || (f[1] && !*f[1]))
			return err_set(e, -EINVAL, "bind '%s': empty path", spec);
		if (f[1] && (f[1][0] != '/' || has_dot_component(f[1])))
			return err_set(e, -EINVAL, "bind '%s': destination '%s' must be absolute, without . or ..",
				       spec, f[1]);
		struct rt_bind *nb = realloc(*binds, (*n + 1) * sizeof(**binds));
		if (!nb)
			return err_set(e, -ENOMEM, "out of memory");
		*binds = nb;
		char *src = absolute(f[0]);
		char *dst = f[1] ? strdup(f[1]) : (src ? strdup(src) : NULL);
		if (!src || !dst) {
			free(src);
			free(dst);
			return err_set(e, -ENOMEM, "out of memory");
		}
		nb[*n] = (struct rt_bind){ .src = src, .dst = dst, .ro = ro };
		(*n)++;
	}
	return 0;
}

int rt_parse_size(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	double mul = 1;
	switch (tolower((unsigned char)*end)) {
	case 'k':
		mul = 1024.0;
		end++;
		break;
	case 'm':
		mul = 1024.0 * 1024;
		end++;
		break;
	case 'g':
		mul = 1024.0 * 1024 * 1024;
		end++;
		break;
	case 't':
		mul = 1024.0 * 1024 * 1024 * 1024;
		end++;
		break;
	default:
		break;
	}
	if (tolower((unsigned char)*end) == 'b')
		end++;
	if (*end)
		return -EINVAL;
	double r = v * mul;
	if (r >= 9.2e18)
		return -EINVAL;
	*out = (int64_t)r;
	return 0;
}
