/* SPDX-License-Identifier: Apache-2.0 */
#include "base.h"

#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

int fd_read_all(int fd, size_t max, struct buf *out, struct arca_err *e)
{
	for (;;) {
		if (out->len > max)
			return err_set(e, -E2BIG, "input larger than %zu bytes", max);
		if (!buf_grow(out, 65536))
			return err_set(e, -ENOMEM, "out of memory");
		size_t room = out->cap - out->len - 1;
		ssize_t n = read(fd, out->p + out->len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_setsys(e, -errno, "read");
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->p[out->len] = '\0';
	}
	if (out->len > max)
		return err_set(e, -E2BIG, "input larger than %zu bytes", max);
	return 0;
}

int file_read_all(const char *path, size_t max, struct buf *out, struct arca_err *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_setsys(e, -errno, "cannot open '%s'", path);
	int rc = fd_read_all(fd, max, out, e);
	if (rc < 0)
		return err_wrap(e, rc, "'%s'", path);
	return 0;
}

int fd_write_full(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int fd_pread_full(int fd, void *p, size_t n, uint64_t off)
{
	uint8_t *c = p;
	while (n) {
		if (off > (uint64_t)INT64_MAX)
			return -EOVERFLOW;
		ssize_t r = pread(fd, c, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EBADMSG;
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int fd_pwrite_full(int fd, const void *p, size_t n, uint64_t off)
{
	const uint8_t *c = p;
	while (n) {
		if (off > (uint64_t)INT64_MAX)
			return -EOVERFLOW;
		ssize_t w = pwrite(fd, c, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	const char *dir = dirname(copy);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

int atomic_open(struct atomic_file *af, const char *path, mode_t mode, struct arca_err *e)
{
	*af = (struct atomic_file){ .fd = -1 };
	af->path = strdup(path);
	size_t n = strlen(path) + 16;
	af->tmp_path = malloc(n);
	if (!af->path || !af->tmp_path) {
		atomic_abort(af);
		return err_set(e, -ENOMEM, "out of memory");
	}
	snprintf(af->tmp_path, n, "%s.XXXXXX", path);
	af->fd = mkostemp(af->tmp_path, O_CLOEXEC);
	if (af->fd < 0) {
		int rc = -errno;
		free(af->tmp_path);
		af->tmp_path = NULL;
		atomic_abort(af);
		return err_setsys(e, rc, "cannot create temporary file beside '%s'", path);
	}
	if (fchmod(af->fd, mode) < 0) {
		int rc = -errno;
		atomic_abort(af);
		return err_setsys(e, rc, "chmod '%s'", path);
	}
	return 0;
}

int atomic_commit(struct atomic_file *af, struct arca_err *e)
{
	int rc;
	if (fsync(af->fd) < 0) {
		rc = err_setsys(e, -errno, "fsync '%s'", af->tmp_path);
		goto fail;
	}
	if (close(af->fd) < 0) {
		af->fd = -1;
		rc = err_setsys(e, -errno, "close '%s'", af->tmp_path);
		goto fail;
	}
	af->fd = -1;
	if (rename(af->tmp_path, af->path) < 0) {
		rc = err_setsys(e, -errno, "rename to '%s'", af->path);
		goto fail;
	}
	rc = fsync_dir_of(af->path);
	free(af->tmp_path);
	af->tmp_path = NULL;
	atomic_abort(af);
	if (rc < 0)
		return err_setsys(e, rc, "fsync directory of '%s'", af->path);
	return 0;
fail:
	atomic_abort(af);
	return rc;
}

void atomic_abort(struct atomic_file *af)
{
	if (af->fd >= 0)
		close(af->fd);
	af->fd = -1;
	if (af->tmp_path)
		unlink(af->tmp_path);
	free(af->tmp_path);
	free(af->path);
	af->tmp_path = NULL;
	af->path = NULL;
}

int file_write_atomic(const char *path, const void *p, size_t n, mode_t mode, struct arca_err *e)
{
	struct atomic_file af;
	int rc = atomic_open(&af, path, mode, e);
	if (rc < 0)
		return rc;
	rc = fd_write_full(af.fd, p, n);
	if (rc < 0) {
		atomic_abort(&af);
		return err_setsys(e, rc, "write '%s'", path);
	}
	return atomic_commit(&af, e);
}
