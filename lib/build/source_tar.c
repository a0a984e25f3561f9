/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tar archive (plain, gzip or zstd; ustar, GNU and pax) as the root
 * filesystem, read with libarchive. The archive is untrusted: nothing is
 * ever extracted to disk, and every entry passes the tree's path checks
 * (no absolute paths, no "..", no path through a non-directory, bounded
 * names, depth and entry count). Hard links may only name an earlier
 * entry. Symlink targets are data and may point anywhere: they are only
 * resolved inside the container at run time.
 */
#include "internal.h"

#include <archive.h>
#include <archive_entry.h>

#define TAR_READ_CHUNK (1u << 20)
#define TAR_BLOCK (1u << 16)

struct tar_read {
	struct btree *t;
	struct bsink *sink;
	struct archive *a;
	uint8_t *buf;
};

static int tar_fail(struct tar_read *r, struct arca_err *e, const char *what)
{
	const char *msg = archive_error_string(r->a);
	return err_set(e, -EBADMSG, "tar: %s: %s", what, msg ? msg : "unknown error");
}

static int add_xattrs(struct tar_read *r, struct archive_entry *ent, struct bnode *n, const char *path,
		      struct arca_err *e)
{
	if (archive_entry_xattr_reset(ent) == 0)
		return 0;
	const char *key;
	const void *val;
	size_t len;
	while (archive_entry_xattr_next(ent, &key, &val, &len) == ARCHIVE_OK) {
		if (!key || !xattr_name_ok(key)) {
			if (!r->t->warned_xattrs++)
				tree_warn(r->t, "'%s': xattr '%s' cannot be stored in squashfs, skipped", path,
					  key ? key : "");
			continue;
		}
		int rc = bnode_add_xattr(n, key, val, len);
		if (rc == -E2BIG)
			return err_set(e, rc, "tar: '%s': more than %u xattrs or a value over %u bytes", path,
				       BUILD_MAX_XATTRS, BUILD_MAX_XATTR_VALUE);
		if (rc == -ENOMEM)
			return err_set(e, rc, "out of memory");
	}
	return 0;
}

static int copy_data(struct tar_read *r, struct bnode *n, const char *path, struct arca_err *e)
{
	int rc = r->sink->begin(r->sink, n, e);
	if (rc < 0)
		return rc;
	for (;;) {
		/* archive_read_data() fills the holes of sparse entries with zeros;
		 * the block processor turns all-zero blocks back into sparse ones. */
		la_ssize_t got = archive_read_data(r->a, r->buf, TAR_READ_CHUNK);
		if (got < 0)
			return err_wrap(e, tar_fail(r, e, "reading data"), "'%s'", path);
		if (got == 0)
			break;
		rc = r->sink->append(r->sink, r->buf, (size_t)got, e);
		if (rc < 0)
			return rc;
	}
	return r->sink->end(r->sink, e);
}

static int add_hardlink(struct tar_read *r, struct bnode *n, const char *path, const char *target,
			struct arca_err *e)
{
	struct bnode *dir, *p;
	const char *leaf;
	size_t leaf_len;
	int rc = tree_walk(r->t, target, false, &dir, &leaf, &leaf_len, e);
	if (rc < 0 || !leaf || !(p = tree_child(r->t, dir, leaf, leaf_len)))
		return err_set(e, -EBADMSG, "tar: hard link '%s' -> '%s': the target is not an earlier entry", path,
			       target);
	p = bnode_primary(p);
	if (S_ISDIR(p->mode) || p == n)
		return err_set(e, -EBADMSG, "tar: hard link '%s' -> '%s' refused", path, target);
	if (p->nlink >= UINT32_MAX - 1)
		return err_set(e, -E2BIG, "tar: too many links to '%s'", target);
	n->link = p;
	n->mode = p->mode;
	p->nlink++;
	r->t->res.hardlinks++;
	return 0;
}

static int add_entry(struct tar_read *r, struct archive_entry *ent, struct arca_err *e)
{
	struct btree *t = r->t;
	const char *path = archive_entry_pathname(ent);
	if (!path || !*path)
		return err_set(e, -EBADMSG, "tar: entry without a name");
	const char *hardlink = archive_entry_hardlink(ent);
	uint32_t mode = (uint32_t)archive_entry_mode(ent) & 0xffffu;
	uint32_t type = mode & S_IFMT;
	if (hardlink)
		type = S_IFREG; /* refined from the target below */
	else if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK && type != S_IFCHR && type != S_IFBLK &&
		 type != S_IFIFO && type != S_IFSOCK)
		return err_set(e, -EBADMSG, "tar: '%s': unsupported entry type 0%o", path, type);
	if ((type == S_IFCHR || type == S_IFBLK) && !t->privileged) {
		if (++t->res.skipped <= 5)
			tree_warn(t, "'%s': device node skipped (unprivileged build)%s", path,
				  t->res.skipped == 5 ? "; further ones are skipped silently" : "");
		return 0;
	}

	struct bnode *dir, *n;
	const char *leaf;
	size_t leaf_len;
	int rc = tree_walk(t, path, true, &dir, &leaf, &leaf_len, e);
	if (rc < 0)
		return err_wrap(e, rc, "tar");
	if (!leaf) {
		/* "./": the root's own metadata */
		if (type != S_IFDIR || hardlink)
			return err_set(e, -EBADMSG, "tar: '%s' names the root but is not a directory", path);
		n = t->root;
		n->origin = ORIGIN_SOURCE;
		goto meta;
	}
	n = tree_child(t, dir, leaf, leaf_len);
	if (n) {
		rc = tree_resolve_collision(t, n, hardlink ? S_IFREG : type, path, e);
		if (rc < 0)
			return err_wrap(e, rc, "tar");
		if (rc == 1)
			return 0;
		if (!n->detached && S_ISDIR(n->mode))
			goto meta;
	}
	rc = tree_add_child(t, dir, leaf, leaf_len, &n, e);
	if (rc < 0)
		return err_wrap(e, rc, "tar: '%s'", path);
	n->origin = ORIGIN_SOURCE;
	t->res.entries++;
	if (hardlink)
		return add_hardlink(r, n, path, hardlink, e);
meta:
	n->mode = (mode & 07777) | type;
	tree_apply_policy(t, n, (uint32_t)archive_entry_uid(ent), (uint32_t)archive_entry_gid(ent),
			  (int64_t)archive_entry_mtime(ent));
	rc = add_xattrs(r, ent, n, path, e);
	if (rc < 0)
		return rc;
	switch (type) {
	case S_IFDIR:
		if (n != t->root)
			t->res.dirs++;
		return 0;
	case S_IFREG:
		return copy_data(r, n, path, e);
	case S_IFLNK: {
		const char *target = archive_entry_symlink(ent);
		size_t len = target ? strnlen(target, BUILD_MAX_SYMLINK + 1) : 0;
		if (len == 0 || len > BUILD_MAX_SYMLINK)
			return err_set(e, -EBADMSG, "tar: '%s': symlink target empty or over %u bytes", path,
				       BUILD_MAX_SYMLINK);
		n->target = strndup(target, len);
		if (!n->target)
			return err_set(e, -ENOMEM, "out of memory");
		t->res.symlinks++;
		return 0;
	}
	case S_IFCHR:
	case S_IFBLK:
		n->rdev = (uint64_t)archive_entry_rdev(ent);
		t->res.devices++;
		return 0;
	default:
		return 0;
	}
}

static int tar_run(struct tar_read *r, struct arca_err *e)
{
	struct archive_entry *ent;
	for (;;) {
		int ar = archive_read_next_header(r->a, &ent);
		if (ar == ARCHIVE_EOF)
			return 0;
		if (ar == ARCHIVE_FATAL || ar == ARCHIVE_RETRY)
			return tar_fail(r, e, "reading header");
		/* ARCHIVE_WARN (an unknown pax keyword, a charset oddity) goes on. */
		int rc = add_entry(r, ent, e);
		if (rc < 0)
			return rc;
	}
}

static struct archive *tar_new(void)
{
	struct archive *a = archive_read_new();
	if (!a)
		return NULL;
	/* Only tar, only these filters: nothing else is a supported SOURCE. */
	if (archive_read_support_format_tar(a) != ARCHIVE_OK || archive_read_support_format_gnutar(a) != ARCHIVE_OK ||
	    archive_read_support_filter_gzip(a) != ARCHIVE_OK || archive_read_support_filter_zstd(a) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static int tar_read(struct btree *t, struct bsink *sink, int fd, const void *p, size_t len, struct arca_err *e)
{
	struct tar_read r = { .t = t, .sink = sink };
	r.a = tar_new();
	r.buf = malloc(TAR_READ_CHUNK);
	if (!r.a || !r.buf) {
		if (r.a)
			archive_read_free(r.a);
		free(r.buf);
		return err_set(e, -ENOMEM, "out of memory");
	}
	int ar = fd >= 0 ? archive_read_open_fd(r.a, fd, TAR_BLOCK) : archive_read_open_memory(r.a, p, len);
	int rc = ar == ARCHIVE_OK ? tar_run(&r, e) : tar_fail(&r, e, "opening the archive");
	archive_read_free(r.a);
	free(r.buf);
	return rc;
}

int source_tar_read_fd(struct btree *t, struct bsink *sink, int fd, struct arca_err *e)
{
	return tar_read(t, sink, fd, NULL, 0, e);
}

int source_tar_read_mem(struct btree *t, struct bsink *sink, const void *p, size_t len, struct arca_err *e)
{
	return tar_read(t, sink, -1, p, len, e);
}
