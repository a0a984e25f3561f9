/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Block sources: where the bytes of the SquashFS partition come from. The
 * FUSE server and anything else that reads the image go through
 * rt_blocksrc_read(), which checks every range against the partition size,
 * so a backend never sees a read outside the partition — the corrupt-image
 * defence does not depend on each backend getting its arithmetic right.
 */
#include <fcntl.h>
#include <sqfs/error.h>
#include <sqfs/io.h>
#include <sys/stat.h>

#include "harden.h"

struct rt_blocksrc {
	const struct rt_blocksrc_ops *ops;
	void *ctx;
	uint64_t size;
};

int rt_blocksrc_new(const struct rt_blocksrc_ops *ops, void *ctx, uint64_t size, struct rt_blocksrc **out,
		    struct arca_err *e)
{
	if (!ops || !ops->read_at) {
		if (ops && ops->free)
			ops->free(ctx);
		return err_set(e, -EINVAL, "block source without a read operation");
	}
	struct rt_blocksrc *s = calloc(1, sizeof(*s));
	if (!s) {
		if (ops->free)
			ops->free(ctx);
		return err_set(e, -ENOMEM, "out of memory");
	}
	s->ops = ops;
	s->ctx = ctx;
	s->size = size;
	*out = s;
	return 0;
}

void rt_blocksrc_free(struct rt_blocksrc *src)
{
	if (!src)
		return;
	if (src->ops->free)
		src->ops->free(src->ctx);
	free(src);
}

uint64_t rt_blocksrc_size(const struct rt_blocksrc *src) { return src->size; }

int rt_blocksrc_read(struct rt_blocksrc *src, uint64_t off, void *p, size_t n)
{
	if (!range_ok(off, n, src->size))
		return -EIO;
	if (n == 0)
		return 0;
	return src->ops->read_at(src->ctx, off, p, n);
}

size_t rt_blocksrc_fds(const struct rt_blocksrc *src, int *fds, size_t max)
{
	if (!src->ops->fds)
		return 0;
	size_t n = src->ops->fds(src->ctx, fds, max);
	return n < max ? n : max;
}

/* ------------------------------------------------------------- file range */

struct file_range {
	int fd;
	uint64_t base;
};

static int file_read_at(void *ctx, uint64_t off, void *p, size_t n)
{
	struct file_range *f = ctx;
	uint64_t abs;
	if (!ck_add64(f->base, off, &abs) || abs > INT64_MAX)
		return -EIO;
	int rc = fd_pread_full(f->fd, p, n, abs);
	/* A file that shrank under us reads short: that is an I/O error to
	 * the filesystem, not a malformed message. */
	return rc == -EBADMSG ? -EIO : rc;
}

static void file_free(void *ctx)
{
	struct file_range *f = ctx;
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

static size_t file_fds(void *ctx, int *fds, size_t max)
{
	struct file_range *f = ctx;
	if (max < 1)
		return 0;
	fds[0] = f->fd;
	return 1;
}

static const struct rt_blocksrc_ops file_ops = {
	.read_at = file_read_at,
	.free = file_free,
	.fds = file_fds,
};

int rt_blocksrc_file(int fd, uint64_t offset, uint64_t size, struct rt_blocksrc **out, struct arca_err *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_setsys(e, -errno, "stat of image");
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return err_set(e, -EINVAL, "image is not a regular file or block device");
	if (size == 0)
		return err_set(e, -EINVAL, "empty squashfs partition");
	/* Block devices report size 0 in st_size; only files can be checked
	 * here, the reads themselves catch the rest. */
	if (S_ISREG(st.st_mode) && !range_ok(offset, size, (uint64_t)st.st_size))
		return err_set(e, -EINVAL,
			       "squashfs partition [%llu, +%llu) lies beyond the end of the image (%llu bytes)",
			       (unsigned long long)offset, (unsigned long long)size,
			       (unsigned long long)st.st_size);
	uint64_t end;
	if (!ck_add64(offset, size, &end) || end > INT64_MAX)
		return err_set(e, -EINVAL, "squashfs partition range overflows");

	struct file_range *f = calloc(1, sizeof(*f));
	if (!f)
		return err_set(e, -ENOMEM, "out of memory");
	f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (f->fd < 0) {
		int rc = -errno;
		free(f);
		return err_setsys(e, rc, "dup of image fd");
	}
	f->base = offset;
	return rt_blocksrc_new(&file_ops, f, size, out, e);
}

/* ------------------------------------------------- as a libsquashfs file */

struct sqfs_src {
	sqfs_file_t base; /* first: libsquashfs casts */
	struct rt_blocksrc *src;
};

static void sqfs_src_destroy(sqfs_object_t *o) { free(o); }

static int sqfs_src_read_at(sqfs_file_t *f, sqfs_u64 off, void *p, size_t n)
{
	struct sqfs_src *sf = (struct sqfs_src *)f;
	if (!range_ok(off, n, sf->src->size))
		return SQFS_ERROR_OUT_OF_BOUNDS;
	return rt_blocksrc_read(sf->src, off, p, n) < 0 ? SQFS_ERROR_IO : 0;
}

/* The image is read-only: libsquashfs must never write to it. */
static int sqfs_src_write_at(sqfs_file_t *f, sqfs_u64 off, const void *p, size_t n)
{
	(void)f, (void)off, (void)p, (void)n;
	return SQFS_ERROR_IO;
}

static sqfs_u64 sqfs_src_size(const sqfs_file_t *f) { return ((const struct sqfs_src *)f)->src->size; }

static int sqfs_src_truncate(sqfs_file_t *f, sqfs_u64 size)
{
	(void)f, (void)size;
	return SQFS_ERROR_IO;
}

struct sqfs_file_t *rt_blocksrc_sqfs(struct rt_blocksrc *src)
{
	struct sqfs_src *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->base.base.destroy = sqfs_src_destroy;
	f->base.read_at = sqfs_src_read_at;
	f->base.write_at = sqfs_src_write_at;
	f->base.get_size = sqfs_src_size;
	f->base.truncate = sqfs_src_truncate;
	f->src = src;
	return &f->base;
}
