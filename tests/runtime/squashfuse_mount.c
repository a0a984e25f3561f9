/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test driver for the FUSE squashfs server, doing what the launcher does:
 *
 *   squashfuse_mount [--offset N] [--keep] [--pidfile F] IMAGE MOUNTPOINT CMD [ARG...]
 *
 * Enters a new mount namespace (and, when not root, a user namespace that
 * maps the caller to root, as `unshare -Urm` would), mounts IMAGE's
 * squashfs (starting at byte N) at MOUNTPOINT with rt_fuse_mount(), runs CMD
 * with $MNT set, then unmounts and checks the daemon is gone. With --keep it
 * neither unmounts nor waits: the daemon must exit by itself once the
 * namespace dies (the test checks with the pid written to --pidfile).
 * Exits with CMD's status, or 125 on a driver failure.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harden.h"

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fd_write_full(fd, text, strlen(text));
	close(fd);
	return rc;
}

static _Noreturn void fail(const char *what, int rc)
{
	fprintf(stderr, "squashfuse_mount: %s: %s\n", what, strerror(-rc));
	exit(125);
}

int main(int argc, char **argv)
{
	uint64_t offset = 0;
	bool keep = false;
	const char *pidfile = NULL;
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--offset") == 0 && i + 1 < argc)
			offset = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--keep") == 0)
			keep = true;
		else if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc)
			pidfile = argv[++i];
		else
			break;
	}
	if (argc - i < 3) {
		fprintf(stderr, "usage: squashfuse_mount [--offset N] [--keep] [--pidfile F] IMAGE MOUNTPOINT CMD...\n");
		return 125;
	}
	const char *image = argv[i], *mnt = argv[i + 1];
	char **cmd = argv + i + 2;

	uid_t uid = getuid();
	gid_t gid = getgid();
	if (geteuid() != 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			fail("unshare user+mount namespace", -errno);
		char map[64];
		int rc = write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
		if (rc == 0)
			rc = write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
		if (rc == 0)
			rc = write_file("/proc/self/gid_map", map);
		if (rc < 0)
			fail("id maps", rc);
	} else if (unshare(CLONE_NEWNS) < 0) {
		fail("unshare mount namespace", -errno);
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail("make / private", -errno);

	struct arca_err e = { 0 };
	int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail(image, -errno);
	struct stat st;
	if (fstat(fd, &st) < 0)
		fail("stat", -errno);
	struct rt_blocksrc *src = NULL;
	uint64_t size = (uint64_t)st.st_size > offset ? (uint64_t)st.st_size - offset : 0;
	int rc = rt_blocksrc_file(fd, offset, size, &src, &e);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "squashfuse_mount: %s\n", err_msg(&e));
		return 125;
	}
	pid_t daemon = 0;
	rc = rt_fuse_mount(src, mnt, &daemon, &e);
	rt_blocksrc_free(src);
	if (rc < 0) {
		fprintf(stderr, "squashfuse_mount: %s\n", err_msg(&e));
		return 124;
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "we");
		if (!f)
			fail(pidfile, -errno);
		fprintf(f, "%d\n", (int)daemon);
		fclose(f);
	}

	pid_t child = fork();
	if (child < 0)
		fail("fork", -errno);
	if (child == 0) {
		setenv("MNT", mnt, 1);
		execvp(cmd[0], cmd);
		fprintf(stderr, "squashfuse_mount: exec %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			fail("waitpid", -errno);
	int ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	if (!keep) {
		rc = rt_fuse_unmount(mnt, daemon, &e);
		if (rc < 0) {
			fprintf(stderr, "squashfuse_mount: %s\n", err_msg(&e));
			return 125;
		}
		if (kill(daemon, 0) == 0 || errno != ESRCH) {
			fprintf(stderr, "squashfuse_mount: fuse daemon %d still exists after unmount\n", (int)daemon);
			return 125;
		}
	}
	return ret;
}
