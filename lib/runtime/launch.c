/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One launch, three processes:
 *
 *   arca (host side)     gate, image checks, environment, cgroup; forwards
 *    |                   signals; returns the workload's status
 *    +- init (pid 1)     new mount/pid/ipc/uts (+user, +net) namespaces:
 *        |               mounts the image and pivot_roots; then reaps and
 *        |               forwards signals, exits with the workload's status
 *        +- workload     drops capabilities, no_new_privs, seccomp, execve
 *
 * The init dies with arca (PR_SET_PDEATHSIG), and the kernel kills every
 * process of a pid namespace when its init exits, so the workload, the
 * FUSE server and whatever they started cannot outlive the launch; the
 * mounts live only in the namespace that dies with them.
 */
#include "integrity.h"
#include "internal.h"

#include "harden.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/securebits.h>

#define ENV_DIR "/.singularity.d/env"

/* A record the init or the workload sends arca when it cannot go on. */
enum { MSG_SETUP = 1, MSG_EXEC = 2 };
struct rt_msg {
	int32_t kind;
	int32_t code;
	char text[ARCA_ERR_MSG_MAX];
};

struct launch {
	const struct rt_opts *o;
	struct rt_mnt m;
	char **envp; /* the workload's environment (host, image descriptor, overrides) */
	struct rt_env ovr;
	uid_t uid;
	gid_t gid;
	bool userns;
	bool netns;
	int sync_rd; /* arca -> init: "go" once the cgroup holds the init */
	int err_wr;  /* init/workload -> arca: struct rt_msg */
	char *home;
	bool home_on_host;
	char *cwd;
	bool *bind_dir;
	char *passwd_line;
	char *group_line;
	char *console;
	struct rt_seccomp *seccomp;
	struct rt_kept_mount kept;
};

static void report(int fd, int kind, int code, const char *text)
{
	struct rt_msg msg = { .kind = kind, .code = code };
	snprintf(msg.text, sizeof(msg.text), "%s", text);
	/* one write below PIPE_BUF: atomic, and nothing to do if it fails */
	ssize_t n = write(fd, &msg, sizeof(msg));
	(void)n;
}

static _Noreturn void child_fail(const struct launch *l, const struct arca_err *e, int code)
{
	report(l->err_wr, MSG_SETUP, code, err_msg(e));
	_exit(255);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = strlen(s);
	ssize_t w = write(fd, s, n);
	int rc = w == (ssize_t)n ? 0 : (w < 0 ? -errno : -EIO);
	close(fd);
	return rc;
}

/* The caller's ids and only those (root inside with fakeroot): a user
 * namespace that maps nothing else cannot be used to reach another
 * user's files. */
static int map_ids(uid_t in_uid, uid_t out_uid, gid_t in_gid, gid_t out_gid, struct arca_err *e)
{
	char buf[64];
	int rc = write_str("/proc/self/setgroups", "deny");
	if (rc < 0 && rc != -ENOENT)
		return err_setsys(e, rc, "writing setgroups");
	snprintf(buf, sizeof(buf), "%u %u 1\n", (unsigned)in_gid, (unsigned)out_gid);
	if ((rc = write_str("/proc/self/gid_map", buf)) < 0)
		return err_setsys(e, rc, "writing the gid map");
	snprintf(buf, sizeof(buf), "%u %u 1\n", (unsigned)in_uid, (unsigned)out_uid);
	if ((rc = write_str("/proc/self/uid_map", buf)) < 0)
		return err_setsys(e, rc, "writing the uid map");
	return 0;
}

static int loopback_up(struct arca_err *e)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return err_setsys(e, -errno, "socket");
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int rc = 0;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		rc = err_setsys(e, -errno, "reading the loopback flags");
	else {
		ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			rc = err_setsys(e, -errno, "bringing up the loopback interface");
	}
	close(s);
	return rc;
}

void rt_trace(const char *what)
{
	if (log_get_level() < LOG_DEBUG)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	log_msg(LOG_DEBUG, "runtime: %lld.%06ld %d %s", (long long)ts.tv_sec, ts.tv_nsec / 1000, (int)getpid(), what);
}

/* ------------------------------------------------------------ workload */

/* All capabilities gone for good: bounding set emptied (nothing can come
 * back through execve of a file with capabilities), ambient cleared, and
 * securebits locked so uid 0 gains nothing from exec or setuid. */
static int caps_drop_all(struct arca_err *e)
{
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
					     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
					     SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
		  0, 0, 0) < 0)
		return err_setsys(e, -errno, "locking securebits");
	for (unsigned long cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return err_setsys(e, -errno, "dropping capability %lu from the bounding set", cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_setsys(e, -errno, "clearing ambient capabilities");
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) < 0)
		return err_setsys(e, -errno, "clearing capabilities");
	return 0;
}

static bool has_env_scripts(void)
{
	DIR *d = opendir(ENV_DIR);
	if (!d)
		return false;
	bool found = false;
	for (struct dirent *de; !found && (de = readdir(d));) {
		size_t n = strlen(de->d_name);
		found = n > 3 && !strcmp(de->d_name + n - 3, ".sh");
	}
	closedir(d);
	return found;
}

/* execve() of @argv[0], searched in @path when it has no slash (as
 * execvp does, but with the container's PATH rather than arca's). */
static void exec_search(char *const argv[], char *const envp[], const char *path)
{
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
		return;
	}
	int err = ENOENT;
	const char *p = path ? path : "/usr/bin:/bin";
	for (;;) {
		const char *colon = strchr(p, ':');
		size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
		char full[4096];
		int n = snprintf(full, sizeof(full), "%.*s%s%s", (int)dlen, p, dlen ? "/" : "", argv[0]);
		if (n > 0 && (size_t)n < sizeof(full)) {
			execve(full, argv, envp);
			if (errno == EACCES)
				err = EACCES;
			else if (errno != ENOENT && errno != ENOTDIR)
				return;
		}
		if (!colon)
			break;
		p = colon + 1;
	}
	errno = err;
}

static const char *env_value(char *const *envp, const char *key)
{
	size_t n = strlen(key);
	for (; *envp; envp++)
		if (!strncmp(*envp, key, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static _Noreturn void workload(struct launch *l)
{
	const struct rt_opts *o = l->o;
	struct arca_err e = { 0 };
	sigset_t none;
	sigemptyset(&none);

	rt_trace("workload: forked");
	if (o->pwd) {
		if (chdir(o->pwd) < 0) {
			err_setsys(&e, -errno, "working directory '%s'", o->pwd);
			child_fail(l, &e, e.code);
		}
	} else if (!(l->m.cwd_visible && chdir(l->cwd) == 0) && !(l->m.home_visible && chdir(l->home) == 0) &&
		   chdir("/") < 0) {
		err_setsys(&e, -errno, "chdir /");
		child_fail(l, &e, e.code);
	}

	/* what to run: [shell wrapper] target args... */
	size_t extra = o->argc + 8;
	char **argv = calloc(extra, sizeof(char *));
	if (!argv)
		_exit(255);
	size_t n = 0;
	bool wrap = has_env_scripts() && access("/bin/sh", X_OK) == 0;
	_cleanup_buf_ struct buf script = BUF_INIT;
	if (wrap) {
		/* the image's env scripts first, as the reference's action
		 * scripts do; then what the user set wins over them */
		buf_addstr(&script, "for __arca_f in " ENV_DIR "/*.sh; do if [ -f \"$__arca_f\" ]; then . \"$__arca_f\"; "
				    "fi; done; unset __arca_f; ");
		for (size_t i = 0; i < l->ovr.n; i++) {
			const char *kv = l->ovr.v[i];
			const char *eq = strchr(kv, '=');
			buf_addf(&script, "export %.*s=", (int)(eq - kv), kv);
			rt_shell_quote(&script, eq + 1);
			buf_addstr(&script, "; ");
		}
		buf_addstr(&script, "exec \"$@\"");
		if (buf_error(&script))
			_exit(255);
		argv[n++] = (char *)"/bin/sh";
		argv[n++] = (char *)"-c";
		argv[n++] = script.p;
		argv[n++] = (char *)"arca";
	}
	switch (o->action) {
	case RT_ACTION_RUN: {
		const char *rs = access("/.singularity.d/runscript", F_OK) == 0 ? "/.singularity.d/runscript"
			       : access("/singularity", F_OK) == 0	    ? "/singularity"
									    : NULL;
		if (!rs) {
			err_set(&e, -ENOENT, "the image has no runscript (/.singularity.d/runscript)");
			child_fail(l, &e, e.code);
		}
		if (access(rs, X_OK) != 0)
			argv[n++] = (char *)"/bin/sh";
		argv[n++] = (char *)rs;
		break;
	}
	case RT_ACTION_SHELL: {
		const char *sh = o->shell;
		if (!sh) {
			const char *s = env_value(l->envp, "SHELL");
			sh = s && s[0] == '/' && access(s, X_OK) == 0 ? s : "/bin/sh";
		}
		argv[n++] = (char *)sh;
		break;
	}
	case RT_ACTION_EXEC:
		break;
	}
	for (size_t i = 0; i < o->argc; i++)
		argv[n++] = o->argv[i];
	argv[n] = NULL;

	/* identity: fakeroot as real root still gets its capabilities only in
	 * a user namespace of its own */
	if (o->fakeroot && !l->userns) {
		if (unshare(CLONE_NEWUSER) < 0) {
			err_setsys(&e, -errno, "creating the fakeroot user namespace");
			child_fail(l, &e, e.code);
		}
		if (map_ids(0, l->uid, 0, l->gid, &e) < 0)
			child_fail(l, &e, e.code);
	}
	if (!o->fakeroot && caps_drop_all(&e) < 0)
		child_fail(l, &e, e.code);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		err_setsys(&e, -errno, "setting no_new_privs");
		child_fail(l, &e, e.code);
	}
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		_exit(255);
	/* last: from here on the filter applies to us too */
	rt_trace("workload: seccomp");
#ifdef ARCA_RT_HAVE_SECCOMP
	if (l->seccomp && rt_seccomp_install(l->seccomp, &e) < 0)
		child_fail(l, &e, e.code);
#endif

	rt_trace("workload: execve");
	exec_search(argv, l->envp, env_value(l->envp, "PATH"));
	int err = errno;
	const char *what = wrap ? argv[4] : argv[0];
	char text[ARCA_ERR_MSG_MAX];
	snprintf(text, sizeof(text), "executing '%s': %s", what ? what : "", strerror(err));
	report(l->err_wr, MSG_EXEC, -err, text);
	_exit(err == ENOENT ? 127 : 126);
}

/* ------------------------------------------------------------ init */

static const int fwd_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static _Noreturn void init_main(struct launch *l)
{
	struct arca_err e = { 0 };

	if (l->userns && map_ids(l->o->fakeroot ? 0 : l->uid, l->uid, l->o->fakeroot ? 0 : l->gid, l->gid, &e) < 0)
		child_fail(l, &e, e.code);
	if (l->netns && loopback_up(&e) < 0)
		child_fail(l, &e, e.code);
	if (l->o->hostname && sethostname(l->o->hostname, strlen(l->o->hostname)) < 0) {
		err_setsys(&e, -errno, "setting the hostname");
		child_fail(l, &e, e.code);
	}
	rt_trace("init: namespaces ready");
	int rc = rt_mount_container(&l->m, &e);
	if (rc < 0)
		child_fail(l, &e, rc);
	rt_trace("init: container mounted");
	close(l->m.sif_fd);

	char go;
	ssize_t r;
	do
		r = read(l->sync_rd, &go, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		_exit(255); /* arca is gone (or refused); nothing to report to */
	/* arca holds its end open until the container is gone: a hang-up
	 * means it died, possibly before PR_SET_PDEATHSIG was in place */
	struct pollfd pfd = { .fd = l->sync_rd, .events = POLLIN };
	if (poll(&pfd, 1, 0) != 0)
		_exit(255);
	close(l->sync_rd);

	/* the workload must not be able to ptrace or read its init; set
	 * before the fork (the workload's execve makes it dumpable again) */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	pid_t w = fork();
	if (w < 0) {
		err_setsys(&e, -errno, "fork");
		child_fail(l, &e, e.code);
	}
	if (w == 0)
		workload(l);
	close(l->err_wr);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaddset(&set, fwd_signals[i]);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			/* a terminal's signal went to the whole foreground group,
			 * the workload included; only relay the ones sent to us */
			if (si.si_code != SI_KERNEL)
				kill(w, sig);
			continue;
		}
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG);
			if (p <= 0)
				break;
			if (p == w) {
				rt_trace("init: workload exited");
				_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			}
		}
	}
}

/* ------------------------------------------------------------ arca side */

static volatile pid_t fwd_pid;

static void fwd_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si && si->si_code == SI_KERNEL)
		return;
	if (fwd_pid > 0)
		kill(fwd_pid, sig);
}

static void launch_release(struct launch *l)
{
	rt_keep_release(&l->kept);
	rt_env_release(&l->ovr);
	if (l->envp) {
		for (char **p = l->envp; *p; p++)
			free(*p);
		free(l->envp);
	}
	free(l->home);
	free(l->cwd);
	free(l->bind_dir);
	free(l->passwd_line);
	free(l->console);
	free(l->group_line);
#ifdef ARCA_RT_HAVE_SECCOMP
	rt_seccomp_free(l->seccomp);
#endif
}

static int prepare(struct launch *l, const struct sif_image *img, struct arca_err *e)
{
	const struct rt_opts *o = l->o;
	if (o->action == RT_ACTION_EXEC && o->argc == 0)
		return err_set(e, -EINVAL, "exec needs a command");
	if (o->argc > RT_MAX_ARGS)
		return err_set(e, -E2BIG, "more than %u arguments", RT_MAX_ARGS);
	if (o->n_binds > RT_MAX_BINDS)
		return err_set(e, -E2BIG, "more than %u binds", RT_MAX_BINDS);
	l->uid = getuid();
	l->gid = getgid();
	l->userns = geteuid() != 0 || o->userns;
	l->netns = o->net == RT_NET_NONE;
	struct passwd *pw = getpwuid(l->uid);
	const char *home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : getenv("HOME");
	l->home = strdup(home && home[0] == '/' ? home : "/");
	/* the user's own entries for the image's passwd and group (not with
	 * fakeroot: root is the image's own) */
	if (!o->fakeroot && pw && pw->pw_name && !strpbrk(pw->pw_name, ":\n")) {
		if (asprintf(&l->passwd_line, "%s:x:%u:%u:%s:%s:%s\n", pw->pw_name, (unsigned)l->uid, (unsigned)l->gid,
			     pw->pw_name, l->home ? l->home : "/", "/bin/sh") < 0)
			l->passwd_line = NULL;
		struct group *gr = getgrgid(l->gid);
		if (gr && gr->gr_name && !strpbrk(gr->gr_name, ":\n") &&
		    asprintf(&l->group_line, "%s:x:%u:\n", gr->gr_name, (unsigned)l->gid) < 0)
			l->group_line = NULL;
	}
	char cwd[4096];
	if (getcwd(cwd, sizeof(cwd)))
		l->cwd = strdup(cwd);
	if (!l->home)
		return err_set(e, -ENOMEM, "out of memory");
	struct stat hst;
	l->home_on_host = stat(l->home, &hst) == 0 && S_ISDIR(hst.st_mode);
	for (int fd = 0; fd <= 2 && !l->console; fd++) {
		const char *t = isatty(fd) ? ttyname(fd) : NULL;
		if (t && !strncmp(t, "/dev/", 5) && !(l->console = strdup(t)))
			return err_set(e, -ENOMEM, "out of memory");
	}
	/* bind sources are checked here, where the host's paths are plain */
	l->bind_dir = calloc(o->n_binds + 1, sizeof(bool));
	if (!l->bind_dir)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < o->n_binds; i++) {
		struct stat st;
		if (stat(o->binds[i].src, &st) < 0)
			return err_setsys(e, -errno, "bind source '%s'", o->binds[i].src);
		l->bind_dir[i] = S_ISDIR(st.st_mode);
	}

	struct rt_env env = { 0 };
	int rc = rt_env_build(o, img, l->home, &env, &l->ovr, e);
	for (size_t i = 0; rc >= 0 && i < l->ovr.n; i++)
		rt_env_put(&env, l->ovr.v[i]);
	if (rc >= 0 && (env.oom || !env.v)) {
		rt_env_release(&env);
		rc = err_set(e, -ENOMEM, "out of memory");
	}
	if (rc < 0) {
		rt_env_release(&env);
		return rc;
	}
	l->envp = TAKE_PTR(env.v);

#ifdef ARCA_RT_HAVE_SECCOMP
	/* the profile is read on the host: the path may not exist inside */
	if (o->seccomp_profile)
		rc = rt_seccomp_load_file(o->seccomp_profile, &l->seccomp, e);
	else
		rc = rt_seccomp_default(&l->seccomp, e);
	if (rc < 0)
		return err_wrap(e, rc, "seccomp");
	/* a user's profile is compiled here once, so that its errors come
	 * before anything starts; arca's own list is tested, and compiling it
	 * twice would only add to every start */
	if (o->seccomp_profile && (rc = rt_seccomp_check(l->seccomp, e)) < 0)
		return err_wrap(e, rc, "seccomp");
#else
	if (o->seccomp_profile)
		return err_set(e, -ENOTSUP, "this build has no seccomp support");
	log_debug("runtime: built without seccomp, no filter applied");
#endif
	return 0;
}

/*
 * Root launches drop the kept mounts that have expired, and with
 * keep_mounted use (or make) the image's. Keeping is an optimisation: when
 * it fails the launch mounts the image itself, as without it.
 */
static void use_kept_mount(struct launch *l, const char *image, struct arca_err *e)
{
	unsigned dropped = 0;
	struct arca_err ign = { 0 };
	if (rt_keep_expire(&dropped, &ign) < 0)
		log_debug("runtime: dropping expired kept mounts: %s", err_msg(&ign));
	else if (dropped)
		log_debug("runtime: dropped %u expired kept mount(s)", dropped);
	if (!l->o->keep_mounted)
		return;
	int rc = rt_keep_acquire(l->m.sif_fd, l->m.part_off, l->m.part_size, image, l->o->keep_mounted, &l->kept, e);
	if (rc < 0) {
		log_msg(LOG_WARN, "not keeping the image mounted: %s", err_msg(e));
		err_clear(e);
		return;
	}
	l->m.kept = l->kept.path;
	l->m.kept_dev = l->kept.dev;
}

int rt_launch(const struct rt_opts *o, struct rt_result *res, struct arca_err *e)
{
	rt_trace("launch: start");
	/* Opened once: both gates below decide on this file, and its fd is
	 * what gets mounted. */
	_cleanup_sif_ struct sif_image *img = NULL;
	int rc = sif_open(o->image, &img, e);
	if (rc < 0)
		return rc;
	/* the signer gate decides before anything of the image is used */
	if ((rc = integrity_ecl_gate(o->ecl_config, o->image, img, e)) < 0)
		return err_wrap(e, rc, "execution control list");
	const struct sif_descr *part;
	if ((rc = rt_image_partition(img, &part, e)) < 0)
		return rc;
	if (o->gate) {
		rt_trace("launch: gate");
		if ((rc = o->gate(o->gate_ctx, o->image, img, e)) < 0)
			return rc;
		rt_trace("launch: gate passed");
	}

	struct launch l = { .o = o, .sync_rd = -1, .err_wr = -1, .kept.lock_fd = -1 };
	if ((rc = prepare(&l, img, e)) < 0) {
		launch_release(&l);
		return rc;
	}
	l.m = (struct rt_mnt){
		.o = o,
		.loop = !l.userns,
		.userns = l.userns,
		.netns = l.netns,
		.sif_fd = sif_fd(img),
		.part_off = (uint64_t)part->offset,
		.part_size = (uint64_t)part->size,
		.home = l.home,
		.home_on_host = l.home_on_host,
		.cwd = l.cwd,
		.bind_dir = l.bind_dir,
		.console = l.console,
		.passwd_line = l.passwd_line,
		.group_line = l.group_line,
		.uid = o->fakeroot ? 0 : (unsigned)l.uid,
		.gid = o->fakeroot ? 0 : (unsigned)l.gid,
	};
	if (l.m.loop)
		use_kept_mount(&l, o->image, e);

	int syncp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	if (pipe2(syncp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		rc = err_setsys(e, -errno, "pipe");
		goto out_pipes;
	}
	l.sync_rd = syncp[0];
	l.err_wr = errp[1];

	/* Signals stay blocked from here: the init inherits the mask and takes
	 * them with sigwaitinfo; arca installs its forwarders once it knows
	 * whom to forward to. */
	sigset_t block, old_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaddset(&block, fwd_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &old_mask);

	unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
	if (l.userns)
		flags |= CLONE_NEWUSER;
	if (l.netns)
		flags |= CLONE_NEWNET;
	rt_trace("launch: clone");
	pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		rc = err_setsys(e, -errno, "creating the container's namespaces");
		if (rc == -EPERM || rc == -ENOSPC || rc == -EINVAL)
			err_wrap(e, rc, "are user namespaces enabled for this user?");
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		goto out_pipes;
	}
	if (pid == 0) {
		/* arca's death takes the container down; a death before this
		 * line is seen as a hang-up of the sync pipe (init_main) */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(syncp[1]);
		close(errp[0]);
		init_main(&l);
	}
	close(syncp[0]);
	close(errp[1]);
	syncp[0] = errp[1] = -1;

	struct sigaction sa = { .sa_sigaction = fwd_handler, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigaction old_sa[ARRAY_SIZE(fwd_signals)];
	sigemptyset(&sa.sa_mask);
	fwd_pid = pid;
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaction(fwd_signals[i], &sa, &old_sa[i]);

	struct rt_cgroup *cg = NULL;
	struct rt_limits lim = { .memory_bytes = o->memory_bytes, .cpus = o->cpus, .pids = o->pids };
	rc = 0;
	if (lim.memory_bytes > 0 || lim.cpus > 0 || lim.pids > 0) {
#ifdef ARCA_RT_HAVE_CGROUP
		rc = rt_cgroup_setup(&lim, pid, &cg, e);
#else
		rc = err_set(e, -ENOTSUP, "resource limits are not available in this build");
#endif
	}
	/* an init that already failed has closed its end: EPIPE, not SIGPIPE;
	 * its own message is in the error pipe */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old_pipe);
	if (rc >= 0 && write(syncp[1], "g", 1) != 1 && errno != EPIPE)
		rc = err_setsys(e, -errno, "starting the container");
	sigaction(SIGPIPE, &old_pipe, NULL);
	/* syncp[1] stays open until the init is reaped: see init_main */
	if (rc < 0)
		kill(pid, SIGKILL);

	sigset_t fwd;
	sigemptyset(&fwd);
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaddset(&fwd, fwd_signals[i]);
	sigprocmask(SIG_UNBLOCK, &fwd, NULL);

	int st = 0;
	pid_t w;
	do
		w = waitpid(pid, &st, 0);
	while (w < 0 && errno == EINTR);

	rt_trace("launch: init exited");
	sigprocmask(SIG_BLOCK, &fwd, NULL);
	fwd_pid = 0;
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaction(fwd_signals[i], &old_sa[i], NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
#ifdef ARCA_RT_HAVE_CGROUP
	rt_cgroup_destroy(cg);
#else
	(void)cg;
#endif
	if (rc < 0)
		goto out_pipes;

	struct rt_msg msg = { 0 };
	int fl = fcntl(errp[0], F_GETFL);
	fcntl(errp[0], F_SETFL, fl | O_NONBLOCK);
	ssize_t got = read(errp[0], &msg, sizeof(msg));
	msg.text[sizeof(msg.text) - 1] = '\0';
	int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (got == (ssize_t)sizeof(msg) && msg.kind == MSG_SETUP) {
		rc = err_set(e, msg.code < 0 ? msg.code : -EIO, "%s", msg.text);
	} else if (got == (ssize_t)sizeof(msg) && msg.kind == MSG_EXEC) {
		err_set(e, msg.code < 0 ? msg.code : -EIO, "%s", msg.text);
		res->status = status;
		res->exec_failed = true;
		rc = 0;
	} else {
		res->status = status;
		res->exec_failed = false;
		rc = 0;
	}

out_pipes:
	for (int i = 0; i < 2; i++) {
		if (syncp[i] >= 0)
			close(syncp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	launch_release(&l);
	return rc;
}
