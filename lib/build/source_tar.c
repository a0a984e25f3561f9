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

/* libarchive is opened on first use (dl_load in base.h): only `arca build`
 * from a tar needs it, and linking it costs every other verb its start-up. */
static typeof(archive_entry_gid) *sym_archive_entry_gid;
static typeof(archive_entry_hardlink) *sym_archive_entry_hardlink;
static typeof(archive_entry_mode) *sym_archive_entry_mode;
static typeof(archive_entry_mtime) *sym_archive_entry_mtime;
static typeof(archive_entry_pathname) *sym_archive_entry_pathname;
static typeof(archive_entry_rdev) *sym_archive_entry_rdev;
static typeof(archive_entry_symlink) *sym_archive_entry_symlink;
static typeof(archive_entry_uid) *sym_archive_entry_uid;
static typeof(archive_entry_xattr_next) *sym_archive_entry_xattr_next;
static typeof(archive_entry_xattr_reset) *sym_archive_entry_xattr_reset;
static typeof(archive_error_string) *sym_archive_error_string;
static typeof(archive_read_data) *sym_archive_read_data;
static typeof(archive_read_free) *sym_archive_read_free;
static typeof(archive_read_new) *sym_archive_read_new;
static typeof(archive_read_next_header) *sym_archive_read_next_header;
static typeof(archive_read_open_fd) *sym_archive_read_open_fd;
static typeof(archive_read_open_memory) *sym_archive_read_open_memory;
static typeof(archive_read_support_filter_gzip) *sym_archive_read_support_filter_gzip;
static typeof(archive_read_support_filter_zstd) *sym_archive_read_support_filter_zstd;
static typeof(archive_read_support_format_gnutar) *sym_archive_read_support_format_gnutar;
static typeof(archive_read_support_format_tar) *sym_archive_read_support_format_tar;
static const struct dl_sym archive_syms[] = {
	DL_SYM(archive_entry_gid),
	DL_SYM(archive_entry_hardlink),
	DL_SYM(archive_entry_mode),
	DL_SYM(archive_entry_mtime),
	DL_SYM(archive_entry_pathname),
	DL_SYM(archive_entry_rdev),
	DL_SYM(archive_entry_symlink),
	DL_SYM(archive_entry_uid),
	DL_SYM(archive_entry_xattr_next),
	DL_SYM(archive_entry_xattr_reset),
	DL_SYM(archive_error_string),
	DL_SYM(archive_read_data),
	DL_SYM(archive_read_free),
	DL_SYM(archive_read_new),
	DL_SYM(archive_read_next_header),
	DL_SYM(archive_read_open_fd),
	DL_SYM(archive_read_open_memory),
	DL_SYM(archive_read_support_filter_gzip),
	DL_SYM(archive_read_support_filter_zstd),
	DL_SYM(archive_read_support_format_gnutar),
	DL_SYM(archive_read_support_format_tar),
};
static struct dl_lib archive_lib = DL_LIB(ARCA_SONAME_ARCHIVE, archive_syms);

struct tar_read {
	struct btree *t;
	struct bsink *sink;
	struct archive *a;
	uint8_t *buf;
};

static int tar_fail(struct tar_read *r, struct arca_err *e, const char *what)
{
	const char *msg = sym_archive_error_string(r->a);
	return err_set(e, -EBADMSG, "tar: %s: %s", what, msg ? msg : "unknown error");
}

static int add_xattrs(struct tar_read *r, struct archive_entry *ent, struct bnode *n, const char *path,
		      struct arca_err *e)
{
	if (sym_archive_entry_xattr_reset(ent) == 0)
		return 0;
	const char *key;
	const void *val;
	size_t len;
	while (sym_archive_entry_xattr_next(ent, &key, &val, &len) == ARCHIVE_OK) {
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
		/* sym_archive_read_data() fills the holes of sparse entries with zeros;
		 * the block processor turns all-zero blocks back into sparse ones. */
		la_ssize_t got = sym_archive_read_data(r->a, r->buf, TAR_READ_CHUNK);
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
	const char *path = sym_archive_entry_pathname(ent);
	if (!path || !*path)
		return err_set(e, -EBADMSG, "tar: entry without a name");
	const char *hardlink = sym_archive_entry_hardlink(ent);
	uint32_t mode = (uint32_t)sym_archive_entry_mode(ent) & 0xffffu;
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
	tree_apply_policy(t, n, (uint32_t)sym_archive_entry_uid(ent), (uint32_t)sym_archive_entry_gid(ent),
			  (int64_t)sym_archive_entry_mtime(ent));
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
		const char *target = sym_archive_entry_symlink(ent);
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
		n->rdev = (uint64_t)sym_archive_entry_rdev(ent);
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
		int ar = sym_archive_read_next_header(r->a, &ent);
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
	struct archive *a = sym_archive_read_new();
	if (!a)
		return NULL;
	/* Only tar, only these filters: nothing else is a supported SOURCE. */
	if (sym_archive_read_support_format_tar(a) != ARCHIVE_OK || sym_archive_read_support_format_gnutar(a) != ARCHIVE_OK ||
	    sym_archive_read_support_filter_gzip(a) != ARCHIVE_OK || sym_archive_read_support_filter_zstd(a) != ARCHIVE_OK) {
		sym_archive_read_free(a);
		return NULL;
	}
	return a;
}

static int tar_read(struct btree *t, struct bsink *sink, int fd, const void *p, size_t len, struct arca_err *e)
{
	struct tar_read r = { .t = t, .sink = sink };
	int rc = dl_load(&archive_lib, e);
	if (rc < 0)
		return rc;
	r.a = tar_new();
	r.buf = malloc(TAR_READ_CHUNK);
	if (!r.a || !r.buf) {
		if (r.a)
			sym_archive_read_free(r.a);
		free(r.buf);
		return err_set(e, -ENOMEM, "out of memory");
	}
	int ar = fd >= 0 ? sym_archive_read_open_fd(r.a, fd, TAR_BLOCK) : sym_archive_read_open_memory(r.a, p, len);
	rc = ar == ARCHIVE_OK ? tar_run(&r, e) : tar_fail(&r, e, "opening the archive");
	sym_archive_read_free(r.a);
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
