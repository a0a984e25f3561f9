/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A directory as the root filesystem. The walk stays below the root by
 * construction: every step is an openat() relative to an fd of the parent
 * with O_NOFOLLOW, so a symlink in the tree (or one swapped in during the
 * build) is recorded as a symlink and never followed.
 */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/xattr.h>

#define DIR_READ_CHUNK (1u << 20)

/* Hard links in the source: (dev, ino) of the first name seen, in an
 * open-addressing table so a tree full of links stays linear. */
struct hl_entry {
	dev_t dev;
	ino_t ino;
	struct bnode *node;
};

struct dir_walk {
	struct btree *t;
	struct bsink *sink;
	uint8_t *buf;
	struct hl_entry *hl; /* node == NULL: free slot */
	size_t nhl, caphl;   /* caphl: a power of two */
	struct buf path; /* path of the current entry, for xattrs and messages */
	bool proc_ok;    /* /proc/self/fd is there */
};

static size_t hl_slot(const struct dir_walk *w, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)ino * 0xc2b2ae3d27d4eb4full);
	size_t i = (size_t)(h ^ (h >> 29)) & (w->caphl - 1);
	while (w->hl[i].node && !(w->hl[i].dev == dev && w->hl[i].ino == ino))
		i = (i + 1) & (w->caphl - 1);
	return i;
}

static struct bnode *hl_find(struct dir_walk *w, dev_t dev, ino_t ino)
{
	return w->caphl ? w->hl[hl_slot(w, dev, ino)].node : NULL;
}

static int hl_add(struct dir_walk *w, dev_t dev, ino_t ino, struct bnode *n)
{
	if ((w->nhl + 1) * 2 > w->caphl) {
		size_t nc = w->caphl ? w->caphl * 2 : 64;
		struct hl_entry *old = w->hl;
		size_t oldcap = w->caphl;
		w->hl = calloc(nc, sizeof(*w->hl));
		if (!w->hl) {
			w->hl = old;
			return -ENOMEM;
		}
		w->caphl = nc;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].node)
				w->hl[hl_slot(w, old[i].dev, old[i].ino)] = old[i];
		free(old);
	}
	w->hl[hl_slot(w, dev, ino)] = (struct hl_entry){ dev, ino, n };
	w->nhl++;
	return 0;
}

/* Keeps user.*, trusted.* and security.* attributes; the rest (system.*,
 * POSIX ACLs) has no SquashFS encoding and is reported once. */
static int read_xattrs(struct dir_walk *w, int fd, int dfd, const char *name, struct bnode *n, struct arca_err *e)
{
	/* Files and directories are read through the fd already open for
	 * them; other entries through the parent's fd (/proc/self/fd/N/name,
	 * last component not followed). Either way a directory swapped for a
	 * symlink while the build runs cannot redirect the read outside the
	 * tree. The plain path is the fallback when /proc is not mounted. */
	char fdpath[64 + BUILD_MAX_NAME];
	const char *path = w->path.p;
	if (fd < 0 && dfd >= 0 && w->proc_ok) {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d/%s", dfd, name);
		path = fdpath;
	}
	char names[65536];
	ssize_t len = fd >= 0 ? flistxattr(fd, names, sizeof(names)) : llistxattr(path, names, sizeof(names));
	if (len < 0) {
		if (errno == ENOTSUP || errno == ENODATA)
			return 0;
		if (errno == ERANGE)
			return err_set(e, -E2BIG, "'%s': xattr names exceed %zu bytes", w->path.p, sizeof(names));
		return err_setsys(e, -errno, "listing xattrs of '%s'", w->path.p);
	}
	for (ssize_t o = 0; o < len;) {
		const char *key = names + o;
		size_t klen = strnlen(key, (size_t)(len - o));
		o += (ssize_t)klen + 1;
		if (!xattr_name_ok(key)) {
			if (!w->t->warned_xattrs++)
				tree_warn(w->t, "'%s': xattr '%s' cannot be stored in squashfs, skipped", w->path.p, key);
			continue;
		}
		uint8_t val[BUILD_MAX_XATTR_VALUE];
		ssize_t vl = fd >= 0 ? fgetxattr(fd, key, val, sizeof(val)) : lgetxattr(path, key, val, sizeof(val));
		if (vl < 0) {
			/* security.* may be unreadable for an unprivileged caller. */
			if (errno == EPERM || errno == EACCES || errno == ENODATA)
				continue;
			return err_setsys(e, -errno, "reading xattr '%s' of '%s'", key, w->path.p);
		}
		int rc = bnode_add_xattr(n, key, val, (size_t)vl);
		if (rc == -E2BIG)
			return err_set(e, rc, "'%s': more than %u xattrs", w->path.p, BUILD_MAX_XATTRS);
		if (rc < 0 && rc != -EEXIST)
			return err_set(e, rc, "out of memory");
	}
	return 0;
}

static int copy_file(struct dir_walk *w, int dfd, const char *name, uint64_t size, struct bnode *n,
		     struct arca_err *e)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_setsys(e, -errno, "opening '%s'", w->path.p);
	int rc = read_xattrs(w, fd, dfd, name, n, e);
	if (rc < 0)
		return rc;
	rc = w->sink->begin(w->sink, n, e);
	if (rc < 0)
		return rc;
	/* Up to the size stat saw, then one read to see EOF: a small file
	 * costs one read when it fits the buffer and has not grown. */
	uint64_t got = 0;
	for (;;) {
		if (got == size && size > 0 && size < DIR_READ_CHUNK)
			break;
		ssize_t r = read(fd, w->buf, DIR_READ_CHUNK);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return err_setsys(e, -errno, "reading '%s'", w->path.p);
		}
		if (r == 0)
			break;
		rc = w->sink->append(w->sink, w->buf, (size_t)r, e);
		if (rc < 0)
			return rc;
		got += (uint64_t)r;
	}
	return w->sink->end(w->sink, e);
}

/* Its own frame, so the target buffer is not held across the recursion. */
static int read_link(struct dir_walk *w, int dfd, const char *name, struct bnode *n, struct arca_err *e)
{
	char target[BUILD_MAX_SYMLINK + 2];
	ssize_t l = readlinkat(dfd, name, target, sizeof(target));
	if (l < 0)
		return err_setsys(e, -errno, "readlink '%s'", w->path.p);
	if ((size_t)l > BUILD_MAX_SYMLINK || l == 0)
		return err_set(e, -E2BIG, "'%s': symlink target of %zd bytes", w->path.p, l);
	n->target = strndup(target, (size_t)l);
	if (!n->target)
		return err_set(e, -ENOMEM, "out of memory");
	w->t->res.symlinks++;
	return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int walk(struct dir_walk *w, int dfd, struct bnode *dir, unsigned depth, struct arca_err *e);

static int add_entry(struct dir_walk *w, int dfd, struct bnode *dir, const char *name, unsigned depth,
		     struct arca_err *e)
{
	struct btree *t = w->t;
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_setsys(e, -errno, "stat '%s'", w->path.p);
	uint32_t type = st.st_mode & S_IFMT;
	if (t->has_skip && st.st_dev == t->skip_dev && st.st_ino == t->skip_ino) {
		/* The image's own temporary file: reading it while it grows
		 * would never end. */
		tree_warn(t, "'%s': the image being built, skipped", w->path.p);
		return 0;
	}
	if ((type == S_IFBLK || type == S_IFCHR) && !t->privileged) {
		if (++t->res.skipped <= 5)
			tree_warn(t, "'%s': device node skipped (unprivileged build)%s", w->path.p,
				  t->res.skipped == 5 ? "; further ones are skipped silently" : "");
		return 0;
	}
	struct bnode *n = tree_child(t, dir, name, strlen(name));
	if (n) {
		int rc = tree_resolve_collision(t, n, st.st_mode, w->path.p, e);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return 0;
		if (!n->detached && S_ISDIR(n->mode))
			goto have_node;
	}
	int rc = tree_add_child(t, dir, name, strlen(name), &n, e);
	if (rc < 0)
		return err_wrap(e, rc, "'%s'", w->path.p);
have_node:
	n->origin = ORIGIN_SOURCE;
	n->mode = st.st_mode & 0xffffu;
	tree_apply_policy(t, n, st.st_uid, st.st_gid, st.st_mtime);
	t->res.entries++;

	if (type != S_IFDIR && st.st_nlink > 1) {
		struct bnode *p = hl_find(w, st.st_dev, st.st_ino);
		if (p) {
			n->link = p;
			p->nlink++;
			t->res.hardlinks++;
			return 0;
		}
		if (hl_add(w, st.st_dev, st.st_ino, n) < 0)
			return err_set(e, -ENOMEM, "out of memory");
	}
	if (type != S_IFDIR && type != S_IFREG) {
		rc = read_xattrs(w, -1, dfd, name, n, e);
		if (rc < 0)
			return rc;
	}
	switch (type) {
	case S_IFDIR: {
		t->res.dirs++;
		int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return err_setsys(e, -errno, "opening directory '%s'", w->path.p);
		rc = read_xattrs(w, sub, dfd, name, n, e);
		if (rc >= 0)
			rc = walk(w, sub, n, depth + 1, e);
		close(sub);
		return rc;
	}
	case S_IFREG:
		return copy_file(w, dfd, name, (uint64_t)st.st_size, n, e);
	case S_IFLNK:
		return read_link(w, dfd, name, n, e);
	case S_IFBLK:
	case S_IFCHR:
		n->rdev = st.st_rdev;
		t->res.devices++;
		return 0;
	case S_IFIFO:
	case S_IFSOCK:
		return 0;
	default:
		return err_set(e, -EBADMSG, "'%s': unsupported file type", w->path.p);
	}
}

static int walk(struct dir_walk *w, int dfd, struct bnode *dir, unsigned depth, struct arca_err *e)
{
	if (depth > BUILD_MAX_DEPTH)
		return err_set(e, -E2BIG, "'%s' nests deeper than %u directories", w->path.p, BUILD_MAX_DEPTH);
	int fd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	if (fd2 < 0)
		return err_setsys(e, -errno, "dup");
	DIR *d = fdopendir(fd2);
	if (!d) {
		close(fd2);
		return err_setsys(e, -errno, "opening directory '%s'", w->path.p);
	}
	/* Sorted names make the image independent of readdir order. */
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			char **nn = realloc(names, nc * sizeof(*nn));
			if (!nn) {
				rc = err_set(e, -ENOMEM, "out of memory");
				goto out;
			}
			names = nn;
			cap = nc;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = err_set(e, -ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (errno) {
		rc = err_setsys(e, -errno, "reading directory '%s'", w->path.p);
		goto out;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	size_t base = w->path.len;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		buf_setlen(&w->path, base);
		buf_addch(&w->path, '/');
		buf_addstr(&w->path, names[i]);
		if (buf_error(&w->path)) {
			rc = err_set(e, -ENOMEM, "out of memory");
			break;
		}
		rc = add_entry(w, dfd, dir, names[i], depth, e);
	}
	buf_setlen(&w->path, base);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int source_dir_read(struct btree *t, struct bsink *sink, const char *dir, struct arca_err *e)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_setsys(e, -errno, "opening '%s'", dir);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_setsys(e, -errno, "stat '%s'", dir);
	struct dir_walk w = { .t = t, .sink = sink, .path = BUF_INIT };
	w.proc_ok = access("/proc/self/fd", F_OK) == 0;
	w.buf = malloc(DIR_READ_CHUNK);
	if (!w.buf)
		return err_set(e, -ENOMEM, "out of memory");
	buf_addstr(&w.path, dir);
	while (w.path.len > 1 && w.path.p[w.path.len - 1] == '/')
		buf_setlen(&w.path, w.path.len - 1);
	t->root->origin = ORIGIN_SOURCE;
	t->root->mode = st.st_mode & 0xffffu;
	tree_apply_policy(t, t->root, st.st_uid, st.st_gid, st.st_mtime);
	int rc = read_xattrs(&w, fd, -1, NULL, t->root, e);
	if (rc >= 0)
		rc = walk(&w, fd, t->root, 0, e);
	free(w.buf);
	free(w.hl);
	buf_release(&w.path);
	return rc;
}
