/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resource limits for availability: memory, CPU bandwidth and number of
 * tasks, through cgroup v2 where its controllers are usable, else cgroup v1
 * per-controller hierarchies (hosts with a v1/v2 hybrid bind the controllers
 * to v1 and leave the v2 tree empty).
 *
 * Where the cgroup goes: always below the launcher's own cgroup, never at
 * the root of a hierarchy, so limits already placed on the launcher (a
 * systemd slice, a batch scheduler's job) keep applying to the container.
 *  - v2 forbids processes in a cgroup whose controllers are enabled for its
 *    children, and the launcher's cgroup holds the launcher; so the new
 *    cgroup is a sibling: below the nearest ancestor that is writable and
 *    can hand the controllers down. For unprivileged users this is what
 *    systemd's user delegation (user@UID.service) provides; without it
 *    there is nothing writable and limits cannot be had.
 *  - v1 has no such rule: arca-<pid> goes right below the launcher's
 *    cgroup in each controller's hierarchy. v1 is never delegated to users.
 *
 * Leftovers: a SIGKILLed arca cannot remove its cgroup (the pid namespace
 * takes the container's processes with it, so the cgroup is left empty),
 * and neither cgroup version removes empty cgroups by itself (v1's
 * release_agent is one global, root-only program). So each setup first
 * removes what earlier launches left in the directories it is about to use.
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "harden.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* Named limits. */
#define CG_MAX_FILE (1u << 20)    /* cgroup.procs, mountinfo, ... */
#define CG_MAX_PATH 4096
#define CG_KILL_ROUNDS 100        /* v1: kill passes over cgroup.procs */
#define CG_RMDIR_TRIES 100        /* ~1 s of EBUSY while tasks exit */
#define CG_CPU_PERIOD 100000      /* us; the kernel's default period */
#define CG_CPU_MIN_QUOTA 1000     /* us; the kernel's minimum quota */
#define CG_SWEEP_MAX 4096         /* entries of a parent looked at for leftovers */
#define CG_STALE_SEC 2            /* a leftover is older than any setup in progress */

enum { CTL_MEMORY, CTL_CPU, CTL_PIDS, CTL_N };
static const char *const ctl_names[CTL_N] = { "memory", "cpu", "pids" };

struct rt_cgroup {
	int version;      /* 1 or 2 */
	char *dir[CTL_N]; /* v2: dir[0] only; v1: per controller, NULL if unused */
};

static void cg_free(struct rt_cgroup *cg)
{
	if (!cg)
		return;
	for (int i = 0; i < CTL_N; i++)
		free(cg->dir[i]);
	free(cg);
}

const char *rt_cgroup_path(const struct rt_cgroup *cg)
{
	for (int i = 0; i < CTL_N; i++)
		if (cg->dir[i])
			return cg->dir[i];
	return "";
}

/* ------------------------------------------------------------------ files */

static int write_str(const char *dir, const char *file, const char *s, struct arca_err *e)
{
	char path[CG_MAX_PATH];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return err_set(e, -ENAMETOOLONG, "cgroup path too long");
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_setsys(e, -errno, "cgroup: open '%s'", path);
	ssize_t w = write(fd, s, strlen(s));
	int rc = w < 0 ? -errno : (size_t)w == strlen(s) ? 0 : -EIO;
	close(fd);
	if (rc < 0)
		return err_setsys(e, rc, "cgroup: writing '%s' to '%s'", s, path);
	return 0;
}

static int read_str(const char *dir, const char *file, struct buf *out)
{
	char path[CG_MAX_PATH];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -ENAMETOOLONG;
	buf_reset(out);
	return file_read_all(path, CG_MAX_FILE, out, NULL);
}

/* True when the space-separated @list holds the word @w. */
static bool has_word(const char *list, const char *w, const char *seps)
{
	size_t n = strlen(w);
	for (const char *p = list; *p;) {
		size_t k = strcspn(p, seps);
		if (k == n && memcmp(p, w, n) == 0)
			return true;
		p += k;
		p += strspn(p, seps);
	}
	return false;
}

/* Undoes mountinfo's octal escapes (\040 for space and so on) in place. */
static void unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p;) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
		    p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 4;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
}

/* ------------------------------------------------------------- discovery */

struct cg_host {
	char v2[CG_MAX_PATH];           /* cgroup2 mountpoint, "" if none */
	char v1[CTL_N][CG_MAX_PATH];    /* v1 mountpoint per controller, "" if none */
	char own_v2[CG_MAX_PATH];       /* our cgroup path in v2 ("/..."), "" if unknown */
	char own_v1[CTL_N][CG_MAX_PATH];
};

static int find_mounts(struct cg_host *h)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = file_read_all("/proc/self/mountinfo", CG_MAX_FILE, &b, NULL);
	if (rc < 0)
		return rc;
	char *save = NULL;
	for (char *line = strtok_r(b.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		char *f[5] = { 0 }, *s2 = NULL;
		int nf = 0;
		for (char *t = strtok_r(line, " ", &s2); t && nf < 5; t = strtok_r(NULL, " ", &s2))
			f[nf++] = t;
		char *tail = sep + 3, *s3 = NULL;
		char *fstype = strtok_r(tail, " ", &s3);
		(void)strtok_r(NULL, " ", &s3);
		char *super = strtok_r(NULL, " ", &s3);
		if (nf < 5 || !fstype || strlen(f[4]) >= CG_MAX_PATH)
			continue;
		/* Only hierarchies mounted at their root: a bind mount of a
		 * sub-tree would put the cgroup somewhere else than we think. */
		if (strcmp(f[3], "/") != 0)
			continue;
		unescape(f[4]);
		if (strcmp(fstype, "cgroup2") == 0 && !h->v2[0]) {
			snprintf(h->v2, sizeof(h->v2), "%s", f[4]);
		} else if (strcmp(fstype, "cgroup") == 0 && super) {
			for (int c = 0; c < CTL_N; c++)
				if (!h->v1[c][0] && has_word(super, ctl_names[c], ","))
					snprintf(h->v1[c], sizeof(h->v1[c]), "%s", f[4]);
		}
	}
	return 0;
}

static int find_own(struct cg_host *h)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = file_read_all("/proc/self/cgroup", CG_MAX_FILE, &b, NULL);
	if (rc < 0)
		return rc;
	char *save = NULL;
	for (char *line = strtok_r(b.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* hierarchy-id:controller-list:path; v2 is "0::path". */
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || c2[1] != '/' || strlen(c2 + 1) >= CG_MAX_PATH)
			continue;
		*c2 = '\0';
		const char *ctls = c1 + 1, *path = c2 + 1;
		/* A path of a cgroup namespace's parent ("/.." prefix) is not
		 * below any mount we can see. */
		if (strstr(path, "/.."))
			continue;
		if (strncmp(line, "0:", 2) == 0 && *ctls == '\0') {
			snprintf(h->own_v2, sizeof(h->own_v2), "%s", path);
			continue;
		}
		for (int c = 0; c < CTL_N; c++)
			if (has_word(ctls, ctl_names[c], ","))
				snprintf(h->own_v1[c], sizeof(h->own_v1[c]), "%s", path);
	}
	return 0;
}

static bool is_cgroup2(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* ------------------------------------------------------------------ limits */

static bool needed(const struct rt_limits *l, int c)
{
	switch (c) {
	case CTL_MEMORY: return l->memory_bytes > 0;
	case CTL_CPU: return l->cpus > 0;
	default: return l->pids > 0;
	}
}

static int cpu_quota(double cpus, int64_t *quota, struct arca_err *e)
{
	if (!isfinite(cpus) || cpus > 1e6)
		return err_set(e, -EINVAL, "--cpus %g is out of range", cpus);
	double q = cpus * CG_CPU_PERIOD;
	int64_t up = (int64_t)q;
	if ((double)up < q)
		up++; /* round up: never less CPU than asked */
	*quota = up < CG_CPU_MIN_QUOTA ? CG_CPU_MIN_QUOTA : up;
	return 0;
}

static int apply_v2(const char *dir, const struct rt_limits *l, struct arca_err *e)
{
	char v[64];
	int rc;
	if (l->memory_bytes > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)l->memory_bytes);
		if ((rc = write_str(dir, "memory.max", v, e)) < 0)
			return rc;
	}
	if (l->cpus > 0) {
		int64_t quota = 0;
		if ((rc = cpu_quota(l->cpus, &quota, e)) < 0)
			return rc;
		snprintf(v, sizeof(v), "%lld %d", (long long)quota, CG_CPU_PERIOD);
		if ((rc = write_str(dir, "cpu.max", v, e)) < 0)
			return rc;
	}
	if (l->pids > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)l->pids);
		if ((rc = write_str(dir, "pids.max", v, e)) < 0)
			return rc;
	}
	return 0;
}

static int apply_v1(struct rt_cgroup *cg, const struct rt_limits *l, struct arca_err *e)
{
	char v[64];
	int rc;
	if (l->memory_bytes > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)l->memory_bytes);
		if ((rc = write_str(cg->dir[CTL_MEMORY], "memory.limit_in_bytes", v, e)) < 0)
			return rc;
	}
	if (l->cpus > 0) {
		int64_t quota = 0;
		if ((rc = cpu_quota(l->cpus, &quota, e)) < 0)
			return rc;
		snprintf(v, sizeof(v), "%d", CG_CPU_PERIOD);
		if ((rc = write_str(cg->dir[CTL_CPU], "cpu.cfs_period_us", v, e)) < 0)
			return rc;
		snprintf(v, sizeof(v), "%lld", (long long)quota);
		if ((rc = write_str(cg->dir[CTL_CPU], "cpu.cfs_quota_us", v, e)) < 0)
			return rc;
	}
	if (l->pids > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)l->pids);
		if ((rc = write_str(cg->dir[CTL_PIDS], "pids.max", v, e)) < 0)
			return rc;
	}
	return 0;
}

/* mkdir, replacing an empty leftover of an earlier run whose pid was
 * reused (rmdir only succeeds on a cgroup without tasks or children). */
static int make_dir(const char *path, struct arca_err *e)
{
	if (mkdir(path, 0755) == 0)
		return 0;
	if (errno == EEXIST && rmdir(path) == 0 && mkdir(path, 0755) == 0)
		return 0;
	return err_setsys(e, -errno, "cgroup: mkdir '%s'", path);
}

/*
 * Removes leftovers of earlier launches below @parent: arca-<pid>
 * directories owned by us whose init <pid> is gone. rmdir only succeeds on
 * a cgroup without tasks or children, so a cgroup in use is never touched;
 * the age keeps out a launch that has just created its directory and not
 * yet moved its init in (it may run in another pid namespace, where the
 * pid in the name means nothing to us). Best effort: nothing here fails
 * the launch.
 */
static void sweep_stale(const char *parent)
{
	DIR *d = opendir(parent);
	if (!d)
		return;
	int dfd = dirfd(d);
	uid_t me = geteuid();
	time_t now = time(NULL);
	struct dirent *de;
	for (unsigned n = 0; n < CG_SWEEP_MAX && (de = readdir(d)); n++) {
		const char *digits = de->d_name + 5;
		if (strncmp(de->d_name, "arca-", 5) != 0 || !*digits || strlen(digits) > 10 ||
		    strspn(digits, "0123456789") != strlen(digits))
			continue;
		long pid = strtol(digits, NULL, 10);
		struct stat st;
		if (pid <= 0 || pid > INT32_MAX || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || st.st_uid != me || now - st.st_mtime < CG_STALE_SEC)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		(void)unlinkat(dfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void remove_dir(const char *path)
{
	for (int i = 0; i < CG_RMDIR_TRIES; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return;
		if (errno != EBUSY)
			return;
		sleep_ms(10);
	}
}

/* ----------------------------------------------------------------- v2 path */

/* Whether @dir can give its children every needed controller, enabling
 * them in its subtree_control when it may. */
static bool v2_usable(const char *dir, const struct rt_limits *l)
{
	char p[CG_MAX_PATH];
	if ((size_t)snprintf(p, sizeof(p), "%s/cgroup.procs", dir) >= sizeof(p))
		return false;
	/* Moving a task needs write access to the common ancestor's procs
	 * file (cgroup v2 delegation rules); creating needs the directory. */
	if (access(dir, W_OK) < 0 || access(p, W_OK) < 0)
		return false;
	_cleanup_buf_ struct buf avail = BUF_INIT, on = BUF_INIT;
	if (read_str(dir, "cgroup.controllers", &avail) < 0 || read_str(dir, "cgroup.subtree_control", &on) < 0)
		return false;
	for (int c = 0; c < CTL_N; c++) {
		if (!needed(l, c) || has_word(on.p, ctl_names[c], " \n"))
			continue;
		if (!has_word(avail.p, ctl_names[c], " \n"))
			return false;
		char w[16];
		snprintf(w, sizeof(w), "+%s", ctl_names[c]);
		/* EBUSY when @dir holds processes itself: not this one. */
		if (write_str(dir, "cgroup.subtree_control", w, NULL) < 0)
			return false;
	}
	return true;
}

static int setup_v2(const struct cg_host *h, const struct rt_limits *l, pid_t pid, struct rt_cgroup *cg,
		    struct arca_err *e)
{
	char dir[CG_MAX_PATH];
	/* Start at our cgroup's parent, or at the root when we are in it. */
	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", h->v2, strcmp(h->own_v2, "/") == 0 ? "" : h->own_v2) >=
	    sizeof(dir))
		return err_set(e, -ENAMETOOLONG, "cgroup path too long");
	size_t root_len = strlen(h->v2);
	if (strcmp(h->own_v2, "/") != 0)
		*strrchr(dir, '/') = '\0';
	while (!v2_usable(dir, l)) {
		if (strlen(dir) <= root_len)
			return -ENOTSUP;
		*strrchr(dir, '/') = '\0';
	}
	sweep_stale(dir);
	char path[CG_MAX_PATH];
	if ((size_t)snprintf(path, sizeof(path), "%s/arca-%d", dir, (int)pid) >= sizeof(path))
		return err_set(e, -ENAMETOOLONG, "cgroup path too long");
	int rc = make_dir(path, e);
	if (rc < 0)
		return rc;
	cg->version = 2;
	cg->dir[0] = strdup(path);
	if (!cg->dir[0]) {
		rmdir(path);
		return err_set(e, -ENOMEM, "out of memory");
	}
	char ps[24];
	snprintf(ps, sizeof(ps), "%d", (int)pid);
	if ((rc = apply_v2(path, l, e)) < 0 || (rc = write_str(path, "cgroup.procs", ps, e)) < 0)
		return rc;
	return 0;
}

/* ----------------------------------------------------------------- v1 path */

static int setup_v1(const struct cg_host *h, const struct rt_limits *l, pid_t pid, struct rt_cgroup *cg,
		    struct arca_err *e)
{
	cg->version = 1;
	char ps[24];
	snprintf(ps, sizeof(ps), "%d", (int)pid);
	/* Every hierarchy an earlier launch may have used, limits asked for
	 * this time or not. */
	for (int c = 0; c < CTL_N; c++) {
		char parent[CG_MAX_PATH];
		if (h->v1[c][0] && h->own_v1[c][0] &&
		    (size_t)snprintf(parent, sizeof(parent), "%s%s", h->v1[c],
				     strcmp(h->own_v1[c], "/") == 0 ? "" : h->own_v1[c]) < sizeof(parent))
			sweep_stale(parent);
	}
	for (int c = 0; c < CTL_N; c++) {
		if (!needed(l, c))
			continue;
		/* cpu may share a hierarchy with cpuacct: one directory then. */
		bool shared = false;
		for (int o = 0; o < c; o++)
			shared |= cg->dir[o] && strcmp(h->v1[o], h->v1[c]) == 0;
		char parent[CG_MAX_PATH], path[CG_MAX_PATH];
		if ((size_t)snprintf(parent, sizeof(parent), "%s%s", h->v1[c],
				     strcmp(h->own_v1[c], "/") == 0 ? "" : h->own_v1[c]) >= sizeof(parent) ||
		    (size_t)snprintf(path, sizeof(path), "%s/arca-%d", parent, (int)pid) >= sizeof(path))
			return err_set(e, -ENAMETOOLONG, "cgroup path too long");
		if (access(parent, W_OK) < 0)
			return -ENOTSUP;
		cg->dir[c] = strdup(path);
		if (!cg->dir[c])
			return err_set(e, -ENOMEM, "out of memory");
		if (shared)
			continue;
		int rc = make_dir(path, e);
		if (rc < 0) {
			free(cg->dir[c]);
			cg->dir[c] = NULL;
			return rc;
		}
	}
	int rc = apply_v1(cg, l, e);
	if (rc < 0)
		return rc;
	for (int c = 0; c < CTL_N; c++) {
		bool shared = false;
		for (int o = 0; o < c; o++)
			shared |= cg->dir[o] && cg->dir[c] && strcmp(cg->dir[o], cg->dir[c]) == 0;
		if (cg->dir[c] && !shared && (rc = write_str(cg->dir[c], "cgroup.procs", ps, e)) < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------- API */

int rt_cgroup_setup(const struct rt_limits *l, pid_t pid, struct rt_cgroup **out, struct arca_err *e)
{
	*out = NULL;
	if (!needed(l, CTL_MEMORY) && !needed(l, CTL_CPU) && !needed(l, CTL_PIDS))
		return 0;
	if (pid <= 0)
		return err_set(e, -EINVAL, "cgroup: no process to limit");
	int64_t quota = 0;
	if (l->cpus > 0 && cpu_quota(l->cpus, &quota, e) < 0)
		return e ? e->code : -EINVAL;

	struct cg_host *h = calloc(1, sizeof(*h));
	if (!h)
		return err_set(e, -ENOMEM, "out of memory");
	int rc = find_mounts(h);
	if (rc == 0)
		rc = find_own(h);
	if (rc < 0) {
		free(h);
		return err_setsys(e, rc, "cgroup: reading /proc/self");
	}
	if (h->v2[0] && !is_cgroup2(h->v2))
		h->v2[0] = '\0';

	struct rt_cgroup *cg = calloc(1, sizeof(*cg));
	if (!cg) {
		free(h);
		return err_set(e, -ENOMEM, "out of memory");
	}

	/* v2 first: one tree, cgroup.kill, no per-controller bookkeeping. */
	rc = -ENOTSUP;
	if (h->v2[0] && h->own_v2[0])
		rc = setup_v2(h, l, pid, cg, e);
	bool v1_complete = true;
	for (int c = 0; c < CTL_N; c++)
		v1_complete &= !needed(l, c) || (h->v1[c][0] && h->own_v1[c][0]);
	if (rc == -ENOTSUP && v1_complete) {
		err_clear(e);
		rc = setup_v1(h, l, pid, cg, e);
	}
	if (rc == -ENOTSUP) {
		struct buf what = BUF_INIT;
		for (int c = 0; c < CTL_N; c++)
			if (needed(l, c))
				buf_addf(&what, "%s%s", what.len ? ", " : "", ctl_names[c]);
		rc = err_set(e, -ENOTSUP,
			     "resource limits need cgroup v2 delegation or root: no writable cgroup offers the %s "
			     "controller(s) to this %s user",
			     what.len ? what.p : "needed", geteuid() == 0 ? "root" : "unprivileged");
		buf_release(&what);
	}
	free(h);
	if (rc < 0) {
		rt_cgroup_destroy(cg);
		return rc;
	}
	*out = cg;
	return 0;
}

/* Pids listed in cgroup.procs of @dir, killed; returns how many. */
static size_t kill_listed(const char *dir)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	if (read_str(dir, "cgroup.procs", &b) < 0)
		return 0;
	size_t n = 0;
	for (char *p = b.p; *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0 && v <= INT32_MAX) {
			kill((pid_t)v, SIGKILL);
			n++;
		}
		p = end + strspn(end, "\n");
	}
	return n;
}

void rt_cgroup_destroy(struct rt_cgroup *cg)
{
	if (!cg)
		return;
	if (cg->version == 2 && cg->dir[0]) {
		/* cgroup.kill (Linux 5.14) kills atomically, forks included;
		 * older kernels get the v1-style loop below. */
		if (write_str(cg->dir[0], "cgroup.kill", "1", NULL) < 0)
			for (int r = 0; r < CG_KILL_ROUNDS && kill_listed(cg->dir[0]) > 0; r++)
				sleep_ms(10);
		remove_dir(cg->dir[0]);
	} else {
		/* v1 has no atomic kill: repeat until nothing is listed (a
		 * pids limit bounds how fast it can fork meanwhile). */
		for (int r = 0; r < CG_KILL_ROUNDS; r++) {
			size_t n = 0;
			for (int c = 0; c < CTL_N; c++)
				if (cg->dir[c])
					n += kill_listed(cg->dir[c]);
			if (n == 0)
				break;
			sleep_ms(10);
		}
		for (int c = 0; c < CTL_N; c++)
			if (cg->dir[c])
				remove_dir(cg->dir[c]);
	}
	cg_free(cg);
}

int rt_cgroup_read(const struct rt_cgroup *cg, const char *file, struct buf *out)
{
	for (int c = 0; c < CTL_N; c++) {
		if (!cg->dir[c])
			continue;
		int rc = read_str(cg->dir[c], file, out);
		if (rc != -ENOENT)
			return rc;
	}
	return -ENOENT;
}
