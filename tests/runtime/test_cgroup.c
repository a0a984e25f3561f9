/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup limits: a pids limit stops a fork loop, memory and CPU limits reach
 * the control files, destroy kills what still runs and leaves no directory,
 * an unprivileged user without delegation gets a clear -ENOTSUP, and what a
 * SIGKILLed launch leaves behind is removed by the next setup. The
 * root cases need root (they are skipped otherwise); every process they
 * start is killed and reaped by pid.
 */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "harden.h"
#include "testlib.h"

static int found;
static char want_name[32];

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (flag == FTW_D && ftw->level > 0 && strcmp(path + ftw->base, want_name) == 0)
		found++;
	/* Pruning deep trees keeps this quick on hosts with many cgroups. */
	return ftw->level > 6 ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
}

/* How many directories named arca-<pid> exist under /sys/fs/cgroup. */
static int count_dirs(pid_t pid)
{
	found = 0;
	snprintf(want_name, sizeof(want_name), "arca-%d", (int)pid);
	nftw("/sys/fs/cgroup", visit, 32, FTW_PHYS | FTW_ACTIONRETVAL);
	return found;
}

/* A child that waits for a byte on @fd, then runs @fn and exits with its
 * result. */
static pid_t spawn_waiting(int *wfd, int (*fn)(void))
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		char c;
		if (read(p[0], &c, 1) != 1)
			_exit(99);
		_exit(fn());
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

static int reap(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

static void test_no_limits(void)
{
	struct rt_limits l = { 0 };
	struct rt_cgroup *cg = (struct rt_cgroup *)1;
	CHECK_RC(rt_cgroup_setup(&l, getpid(), &cg, NULL), 0);
	CHECK(cg == NULL);
	rt_cgroup_destroy(NULL);
}

/* Forks until refused; every fork pauses. Returns how many succeeded. */
static int fork_loop(void)
{
	pid_t kids[32];
	int n = 0;
	for (; n < 32; n++) {
		pid_t k = fork();
		if (k < 0)
			break;
		if (k == 0) {
			pause();
			_exit(0);
		}
		kids[n] = k;
	}
	for (int i = 0; i < n; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	return n;
}

static void test_pids_limit(void)
{
	if (geteuid() != 0) {
		printf("# SKIP: needs root\n");
		return;
	}
	int wfd;
	pid_t pid = spawn_waiting(&wfd, fork_loop);
	REQUIRE(pid > 0);
	struct rt_limits l = { .pids = 5 };
	struct rt_cgroup *cg = NULL;
	struct arca_err e = { 0 };
	int rc = rt_cgroup_setup(&l, pid, &cg, &e);
	if (rc < 0)
		printf("# %s\n", err_msg(&e));
	CHECK_RC(rc, 0);
	CHECK(write(wfd, "g", 1) == 1);
	close(wfd);
	int st = reap(pid);
	CHECK(WIFEXITED(st));
	/* The child itself is one of the five tasks. */
	printf("# forks allowed under pids.max=5: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	if (rc == 0)
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 4);
	CHECK(count_dirs(pid) > 0);
	rt_cgroup_destroy(cg);
	CHECK_RC(count_dirs(pid), 0);
}

static int sleeper(void)
{
	pause();
	return 0;
}

static void test_memory_cpu_files(void)
{
	if (geteuid() != 0) {
		printf("# SKIP: needs root\n");
		return;
	}
	int wfd;
	pid_t pid = spawn_waiting(&wfd, sleeper);
	REQUIRE(pid > 0);
	struct rt_limits l = { .memory_bytes = 64ll << 20, .cpus = 0.5, .pids = 100 };
	struct rt_cgroup *cg = NULL;
	struct arca_err e = { 0 };
	int rc = rt_cgroup_setup(&l, pid, &cg, &e);
	if (rc < 0)
		printf("# %s\n", err_msg(&e));
	CHECK_RC(rc, 0);
	if (rc == 0) {
		printf("# cgroup: %s\n", rt_cgroup_path(cg));
		struct buf b = BUF_INIT;
		if (rt_cgroup_read(cg, "memory.max", &b) == 0 || rt_cgroup_read(cg, "memory.limit_in_bytes", &b) == 0)
			CHECK_STR(b.p, "67108864\n");
		else
			CHECK(false && "no memory limit file");
		if (rt_cgroup_read(cg, "cpu.max", &b) == 0)
			CHECK_STR(b.p, "50000 100000\n");
		else if (rt_cgroup_read(cg, "cpu.cfs_quota_us", &b) == 0)
			CHECK_STR(b.p, "50000\n");
		else
			CHECK(false && "no cpu limit file");
		CHECK_RC(rt_cgroup_read(cg, "pids.max", &b), 0);
		CHECK_STR(b.p, "100\n");
		CHECK_RC(rt_cgroup_read(cg, "no.such.file", &b), -ENOENT);
		buf_release(&b);
	}
	/* Destroy with the process still running: it is killed. */
	rt_cgroup_destroy(cg);
	if (rc < 0)
		kill(pid, SIGKILL);
	close(wfd);
	int st = reap(pid);
	CHECK(rc < 0 || (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL));
	CHECK_RC(count_dirs(pid), 0);
}

static void test_bad_values(void)
{
	if (geteuid() != 0) {
		printf("# SKIP: needs root\n");
		return;
	}
	int wfd;
	pid_t pid = spawn_waiting(&wfd, sleeper);
	REQUIRE(pid > 0);
	struct rt_limits l = { .cpus = 1.0 / 0.0 };
	struct rt_cgroup *cg = NULL;
	struct arca_err e = { 0 };
	CHECK_RC(rt_cgroup_setup(&l, pid, &cg, &e), -EINVAL);
	CHECK(strstr(err_msg(&e), "--cpus") != NULL);
	CHECK(cg == NULL);
	kill(pid, SIGKILL);
	close(wfd);
	reap(pid);
	CHECK_RC(count_dirs(pid), 0);
	l = (struct rt_limits){ .pids = 5 };
	CHECK_RC(rt_cgroup_setup(&l, 0, &cg, &e), -EINVAL);
}

static void test_unprivileged(void)
{
	if (geteuid() != 0) {
		/* Already unprivileged: the check runs in this process. */
		struct rt_limits l = { .pids = 5 };
		struct rt_cgroup *cg = NULL;
		struct arca_err e = { 0 };
		int rc = rt_cgroup_setup(&l, getpid(), &cg, &e);
		printf("# unprivileged: %d %s\n", rc, rc < 0 ? err_msg(&e) : rt_cgroup_path(cg));
		CHECK(rc == 0 || rc == -ENOTSUP);
		rt_cgroup_destroy(cg);
		return;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(90);
		struct rt_limits l = { .pids = 5, .memory_bytes = 1 << 30 };
		struct rt_cgroup *cg = NULL;
		struct arca_err e = { 0 };
		int rc = rt_cgroup_setup(&l, getpid(), &cg, &e);
		printf("# unprivileged: %s\n", rc < 0 ? err_msg(&e) : rt_cgroup_path(cg));
		fflush(stdout);
		/* A delegated subtree would make this succeed; this host has
		 * none, so the refusal must be -ENOTSUP with the reason. */
		if (rc == 0) {
			rt_cgroup_destroy(cg);
			_exit(0);
		}
		_exit(rc == -ENOTSUP && strstr(err_msg(&e), "delegation or root") ? 0 : 1);
	}
	int st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* mkdir @parent/arca-@pid, with its times set @age seconds back. */
static int make_leftover(const char *parent, pid_t pid, int age, char *path, size_t n)
{
	snprintf(path, n, "%s/arca-%d", parent, (int)pid);
	if (mkdir(path, 0755) < 0)
		return -errno;
	struct timespec ts[2];
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	return utimensat(AT_FDCWD, path, ts, 0) < 0 ? -errno : 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/*
 * What a SIGKILLed arca leaves: an empty arca-<pid> whose init is gone.
 * The next setup in the same place removes it, and leaves alone a
 * directory whose pid lives and one made a moment ago (a launch still
 * setting up, perhaps from another pid namespace).
 */
static void test_stale_swept(void)
{
	if (geteuid() != 0) {
		printf("# SKIP: needs root\n");
		return;
	}
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	REQUIRE(dead > 0);
	reap(dead);
	pid_t dead2 = fork();
	if (dead2 == 0)
		_exit(0);
	REQUIRE(dead2 > 0);
	reap(dead2);

	/* where this host puts arca's cgroups: beside a first one */
	int wfd;
	pid_t pid = spawn_waiting(&wfd, sleeper);
	REQUIRE(pid > 0);
	struct rt_limits l = { .pids = 64 };
	struct rt_cgroup *cg = NULL;
	struct arca_err e = { 0 };
	int rc = rt_cgroup_setup(&l, pid, &cg, &e);
	if (rc < 0) {
		printf("# SKIP: %s\n", err_msg(&e));
		kill(pid, SIGKILL);
		reap(pid);
		return;
	}
	char parent[4096];
	snprintf(parent, sizeof(parent), "%s", rt_cgroup_path(cg));
	*strrchr(parent, '/') = '\0';
	rt_cgroup_destroy(cg); /* kills the sleeper */
	reap(pid);

	char stale[4096], live[4096], young[4096];
	REQUIRE(make_leftover(parent, dead, 60, stale, sizeof(stale)) == 0);
	REQUIRE(make_leftover(parent, getpid(), 60, live, sizeof(live)) == 0);
	REQUIRE(make_leftover(parent, dead2, 0, young, sizeof(young)) == 0);

	pid = spawn_waiting(&wfd, sleeper);
	REQUIRE(pid > 0);
	CHECK_RC(rt_cgroup_setup(&l, pid, &cg, &e), 0);
	CHECK(!exists(stale));
	CHECK(exists(live));
	CHECK(exists(young));
	rt_cgroup_destroy(cg);
	reap(pid);
	close(wfd);
	rmdir(stale);
	rmdir(live);
	rmdir(young);
}

int main(void)
{
	tl_run("no limits: nothing created", test_no_limits);
	tl_run("pids limit 5 stops a fork loop; destroy leaves no directory", test_pids_limit);
	tl_run("memory, cpu and pids values reach the control files; destroy kills", test_memory_cpu_files);
	tl_run("invalid values are refused before anything is created", test_bad_values);
	tl_run("unprivileged without delegation: -ENOTSUP with the reason", test_unprivileged);
	tl_run("a SIGKILLed launch's empty cgroup is removed by the next setup", test_stale_swept);
	TL_DONE();
}
