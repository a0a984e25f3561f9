/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Block sources (bounds at construction and on every read, custom backends)
 * and the in-process squashfs walk the FUSE server is built on: a sound
 * image reads completely, junk is refused before anything is mounted, and
 * corrupted images are counted as unreadable, never a crash.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harden.h"
#include "testlib.h"

static char tmpdir[] = "/tmp/arca-blocksrc.XXXXXX";

static int write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int rc = fd_write_full(fd, p, n);
	close(fd);
	return rc;
}

static void test_file_bounds(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/data", tmpdir);
	uint8_t data[1000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	REQUIRE(write_file(path, data, sizeof(data)) == 0);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);
	struct rt_blocksrc *src = NULL;
	struct arca_err e = { 0 };
	CHECK_RC(rt_blocksrc_file(fd, 900, 101, &src, &e), -EINVAL);
	CHECK(strstr(err_msg(&e), "beyond the end") != NULL);
	CHECK_RC(rt_blocksrc_file(fd, 1001, 0, &src, &e), -EINVAL);
	CHECK_RC(rt_blocksrc_file(fd, UINT64_MAX - 5, 10, &src, &e), -EINVAL);
	CHECK_RC(rt_blocksrc_file(fd, 100, 800, &src, &e), 0);
	close(fd); /* the source holds its own descriptor */
	REQUIRE(src);
	CHECK(rt_blocksrc_size(src) == 800);
	uint8_t b[16];
	CHECK_RC(rt_blocksrc_read(src, 0, b, 4), 0);
	CHECK(b[0] == 100 && b[3] == 103);
	CHECK_RC(rt_blocksrc_read(src, 796, b, 4), 0);
	CHECK(b[3] == (uint8_t)899);
	CHECK_RC(rt_blocksrc_read(src, 797, b, 4), -EIO); /* crosses the end */
	CHECK_RC(rt_blocksrc_read(src, 800, b, 0), 0);
	CHECK_RC(rt_blocksrc_read(src, UINT64_MAX, b, 2), -EIO);
	int fds[4];
	CHECK(rt_blocksrc_fds(src, fds, 4) == 1);
	CHECK(fcntl(fds[0], F_GETFD) == FD_CLOEXEC);
	rt_blocksrc_free(src);
	rt_blocksrc_free(NULL);

	int p[2];
	REQUIRE(pipe2(p, O_CLOEXEC) == 0);
	CHECK_RC(rt_blocksrc_file(p[0], 0, 10, &src, &e), -EINVAL);
	close(p[0]);
	close(p[1]);
}

struct mem {
	const uint8_t *p;
	int *freed;
};

static int mem_read(void *ctx, uint64_t off, void *p, size_t n)
{
	struct mem *m = ctx;
	memcpy(p, m->p + off, n);
	return 0;
}

static void mem_free(void *ctx)
{
	struct mem *m = ctx;
	(*m->freed)++;
	free(m);
}

static const struct rt_blocksrc_ops mem_ops = { .read_at = mem_read, .free = mem_free };

static void test_custom_backend(void)
{
	static const uint8_t bytes[] = "0123456789";
	int freed = 0;
	struct mem *m = malloc(sizeof(*m));
	REQUIRE(m);
	*m = (struct mem){ bytes, &freed };
	struct rt_blocksrc *src = NULL;
	CHECK_RC(rt_blocksrc_new(&mem_ops, m, 10, &src, NULL), 0);
	char b[4] = { 0 };
	CHECK_RC(rt_blocksrc_read(src, 7, b, 3), 0);
	CHECK(memcmp(b, "789", 3) == 0);
	CHECK_RC(rt_blocksrc_read(src, 8, b, 3), -EIO); /* never reaches the backend */
	int fds[2];
	CHECK(rt_blocksrc_fds(src, fds, 2) == 0);
	rt_blocksrc_free(src);
	CHECK(freed == 1);

	/* No read operation: refused, and the context still released. */
	static const struct rt_blocksrc_ops bad = { .free = mem_free };
	m = malloc(sizeof(*m));
	REQUIRE(m);
	*m = (struct mem){ bytes, &freed };
	CHECK_RC(rt_blocksrc_new(&bad, m, 10, &src, NULL), -EINVAL);
	CHECK(freed == 2);
}

static int open_src(const char *path, struct rt_blocksrc **src)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	fstat(fd, &st);
	int rc = rt_blocksrc_file(fd, 0, (uint64_t)st.st_size, src, NULL);
	close(fd);
	return rc;
}

static void test_squashfs_walk(void)
{
	char cmd[1024], img[128];
	snprintf(img, sizeof(img), "%s/img.sqfs", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd %s; mkdir -p t/d/e; echo hi >t/a; head -c 300000 /dev/urandom >t/d/big; seq 1 30000 >t/d/text; ln -s a t/l;"
		 " ln t/a t/d/e/h; truncate -s 1M t/sparse;"
		 " mksquashfs t img.sqfs -noappend -quiet -no-progress -b 65536 >/dev/null 2>&1",
		 tmpdir);
	if (system(cmd) != 0) {
		printf("# SKIP: mksquashfs unavailable\n");
		return;
	}
	struct rt_blocksrc *src = NULL;
	struct arca_err e = { 0 };
	REQUIRE(open_src(img, &src) == 0);
	CHECK_RC(rt_squashfs_check(src, 1000, 1 << 30, &e), 0);
	rt_blocksrc_free(src);

	/* Junk: refused at open, by rt_fuse_mount too, before any mount. */
	char junk[128];
	snprintf(junk, sizeof(junk), "%s/junk", tmpdir);
	uint8_t zero[8192] = { 0 };
	REQUIRE(write_file(junk, zero, sizeof(zero)) == 0);
	REQUIRE(open_src(junk, &src) == 0);
	CHECK_RC(rt_squashfs_check(src, 1000, 1 << 30, &e), -EBADMSG);
	CHECK(strstr(err_msg(&e), "squashfs") != NULL);
	pid_t pid = 0;
	CHECK_RC(rt_fuse_mount(src, "/nonexistent-mountpoint", &pid, &e), -EBADMSG);
	CHECK(pid == 0);
	rt_blocksrc_free(src);

	/* Corruptions everywhere: counted, refused or read; never a crash. */
	struct buf b = BUF_INIT;
	REQUIRE(file_read_all(img, 1 << 24, &b, NULL) == 0);
	char bad[128];
	snprintf(bad, sizeof(bad), "%s/bad", tmpdir);
	unsigned seed = 12345, refused = 0, damaged = 0;
	for (int round = 0; round < 300; round++) {
		struct buf c = BUF_INIT;
		buf_add(&c, b.p, b.len);
		REQUIRE(buf_error(&c) == 0);
		for (int k = 0; k < 1 + round % 8; k++) {
			seed = seed * 1103515245u + 12345u;
			/* Half the damage lands in the tables at the end. */
			size_t off = round % 2 ? (seed >> 8) % c.len : c.len - 1 - (seed >> 8) % 4096;
			c.p[off] = (char)(seed >> 24);
		}
		REQUIRE(write_file(bad, c.p, c.len) == 0);
		buf_release(&c);
		REQUIRE(open_src(bad, &src) == 0);
		int rc = rt_squashfs_check(src, 1000, 1 << 24, NULL);
		refused += rc < 0;
		damaged += rc > 0;
		rt_blocksrc_free(src);
	}
	printf("# 300 corrupted images: %u refused, %u with unreadable entries\n", refused, damaged);
	buf_release(&b);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	tl_run("file source: range checked at creation and on every read", test_file_bounds);
	tl_run("custom backend: reads bounded before the backend, context freed", test_custom_backend);
	tl_run("squashfs walk: sound image reads whole, junk refused, corruption survived", test_squashfs_walk);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	TL_DONE();
}
