/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kept image mounts: an opt-in for root launches (rt_opts.keep_mounted).
 *
 * A kernel squashfs mount starts with a cold page cache, so every launch
 * decompresses what the workload touches afresh; for a small static
 * binary that is most of the launch. With keep_mounted, the image's
 * squashfs stays mounted in the host's mount namespace under RT_KEEP_DIR
 * after the container exits, and the next launch of the same image binds
 * that mount instead of attaching a loop device: its pages are warm.
 *
 * Layout, all root's (the directory is 0700 and a private mount of its
 * own, so the mounts under it do not propagate into other namespaces):
 *
 *   NAME       the squashfs, on an autoclear read-only loop device
 *   NAME.lock  flock'ed: exclusive while the mount is made, checked or
 *              removed, shared by every launch using it (its init holds
 *              the lock for the container's life); its mtime is the
 *              expiry time, its content the image path (for listing)
 *
 * NAME encodes the image file's identity (device, inode, partition range,
 * ctime and mtime): an image changed in place or replaced gets a new
 * mount, never the old one. A kept mount is used only after its loop
 * device is checked to be backed by that inode at that range.
 *
 * No process stays behind: expired mounts are removed by the next root
 * launch or by `arca mounts --drop`; a reboot clears /run.
 */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <linux/major.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>

#define KEEP_LOCK_SUFFIX ".lock"
#define KEEP_LOCK_TRIES 8 /* a lock file removed under us: open it again */
/* An entry's file names with their NUL: the identity below takes at most
 * 8 fields of 16 hex digits and 16 characters around them (160). */
#define KEEP_NAME_MAX 160
#define KEEP_LOCKNAME_MAX (KEEP_NAME_MAX + sizeof(KEEP_LOCK_SUFFIX) - 1)

static const char *keep_dir(void)
{
	/* tests point it elsewhere; arca is not setuid, so the environment
	 * is the caller's own */
	const char *d = getenv("ARCA_MOUNTS_DIR");
	return d && *d == '/' ? d : RT_KEEP_DIR;
}

static bool is_mount_root(int dirfd, const char *name)
{
	struct statx sx;
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, 0, &sx) < 0)
		return false;
	return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/*
 * Opens the directory, creating it (and making it a private mount) when
 * @create. It must be root's and closed to everyone else: everything in
 * it is trusted to be what arca put there.
 */
static int open_dir(bool create, struct arca_err *e)
{
	const char *dir = keep_dir();
	if (create) {
		char parent[PATH_MAX];
		snprintf(parent, sizeof(parent), "%s", dir);
		char *slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			if (mkdir(parent, 0755) < 0 && errno != EEXIST)
				return err_setsys(e, -errno, "creating '%s'", parent);
		}
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return err_setsys(e, -errno, "creating '%s'", dir);
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT && !create ? -ENOENT : err_setsys(e, -errno, "opening '%s'", dir);
	_cleanup_close_ int fdc = fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_setsys(e, -errno, "'%s'", dir);
	/* no access for others at all: the mounts under it show images that
	 * may be readable by root only */
	if (st.st_uid != 0 || (st.st_mode & 077))
		return err_set(e, -EPERM, "'%s' must be root's and accessible by root only (0700)", dir);
	if (create && !is_mount_root(AT_FDCWD, dir)) {
		if (mount(dir, dir, NULL, MS_BIND, NULL) < 0 || mount(NULL, dir, NULL, MS_PRIVATE, NULL) < 0)
			return err_setsys(e, -errno, "making '%s' a private mount", dir);
		/* the fd above is of the directory under the new mount */
		close(TAKE_FD(fdc));
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return err_setsys(e, -errno, "opening '%s'", dir);
		return fd;
	}
	return TAKE_FD(fdc);
}

/*
 * Opens and flocks NAME.lock (@op: LOCK_EX or LOCK_EX | LOCK_NB), making
 * sure the locked file is still the one at that name (a remover unlinks it
 * while holding the lock). Returns the fd, -EWOULDBLOCK when busy, -ENOENT
 * when !@create and it is gone.
 */
static int lock_entry(int dirfd, const char *lockname, bool create, int op, struct arca_err *e)
{
	for (int i = 0; i < KEEP_LOCK_TRIES; i++) {
		int fl = O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0);
		int fd = openat(dirfd, lockname, fl, 0600);
		if (fd < 0)
			return errno == ENOENT && !create ? -ENOENT : err_setsys(e, -errno, "opening '%s'", lockname);
		_cleanup_close_ int fdc = fd;
		if (flock(fd, op) < 0)
			return errno == EWOULDBLOCK ? -EWOULDBLOCK : err_setsys(e, -errno, "locking '%s'", lockname);
		struct stat a, b;
		if (fstat(fd, &a) < 0)
			return err_setsys(e, -errno, "'%s'", lockname);
		if (fstatat(dirfd, lockname, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return TAKE_FD(fdc);
		if (!create)
			return -ENOENT;
	}
	return err_set(e, -EAGAIN, "'%s' keeps being replaced", lockname);
}

/*
 * Whether mount point @name holds a squashfs on a loop device backed by
 * @img (its device and inode) at [off, off+size). Fills *dev with the
 * mount's device.
 */
static bool mount_matches(int dirfd, const char *name, const struct stat *img, uint64_t off, uint64_t size,
			  dev_t *dev)
{
	if (!is_mount_root(dirfd, name))
		return false;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	_cleanup_close_ int fdc = fd;
	struct stat st;
	struct statfs sf;
	if (fstat(fd, &st) < 0 || fstatfs(fd, &sf) < 0 || sf.f_type != SQUASHFS_MAGIC || major(st.st_dev) != LOOP_MAJOR)
		return false;
	char path[32];
	snprintf(path, sizeof(path), "/dev/loop%u", minor(st.st_dev));
	_cleanup_close_ int lfd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat lst;
	struct loop_info64 info;
	if (lfd < 0 || fstat(lfd, &lst) < 0 || !S_ISBLK(lst.st_mode) || lst.st_rdev != st.st_dev ||
	    ioctl(lfd, LOOP_GET_STATUS64, &info) < 0)
		return false;
	/* the kernel reports the backing device in stat's encoding */
	if (info.lo_device != (uint64_t)img->st_dev || info.lo_inode != (uint64_t)img->st_ino ||
	    info.lo_offset != off || info.lo_sizelimit != size || !(info.lo_flags & LO_FLAGS_READ_ONLY))
		return false;
	*dev = st.st_dev;
	return true;
}

static void remove_entry(int dirfd, const char *name, const char *lockname)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", keep_dir(), name);
	/* detached: a launch that already bound it keeps its own copy */
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
		log_debug("runtime: unmounting kept '%s': %s", path, strerror(errno));
	unlinkat(dirfd, name, AT_REMOVEDIR);
	unlinkat(dirfd, lockname, 0);
}

static int64_t now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int rt_keep_acquire(int sif_fd, uint64_t off, uint64_t size, const char *image, unsigned seconds,
		    struct rt_kept_mount *k, struct arca_err *e)
{
	if (seconds > RT_KEEP_MAX_SECONDS)
		return err_set(e, -EINVAL, "keeping a mount longer than %u seconds", RT_KEEP_MAX_SECONDS);
	struct stat img;
	if (fstat(sif_fd, &img) < 0)
		return err_setsys(e, -errno, "'%s'", image);
	/* another launch of the same file at the same moment made the same
	 * name: the lock below serialises them */
	char name[KEEP_NAME_MAX], lockname[KEEP_LOCKNAME_MAX];
	snprintf(name, sizeof(name), "d%" PRIx64 "-i%" PRIx64 "-o%" PRIx64 "-s%" PRIx64 "-c%" PRIx64 ".%lx-m%" PRIx64 ".%lx",
		 (uint64_t)img.st_dev, (uint64_t)img.st_ino, off, size, (uint64_t)img.st_ctim.tv_sec, img.st_ctim.tv_nsec,
		 (uint64_t)img.st_mtim.tv_sec, img.st_mtim.tv_nsec);
	snprintf(lockname, sizeof(lockname), "%s" KEEP_LOCK_SUFFIX, name);

	int dirfd = open_dir(true, e);
	if (dirfd < 0)
		return err_wrap(e, dirfd, "kept mounts");
	_cleanup_close_ int dirfd_c = dirfd;
	int lfd = lock_entry(dirfd, lockname, true, LOCK_EX, e);
	if (lfd < 0)
		return lfd;
	_cleanup_close_ int lfd_c = lfd;

	snprintf(k->path, sizeof(k->path), "%s/%s", keep_dir(), name);
	bool fresh = false;
	if (!mount_matches(dirfd, name, &img, off, size, &k->dev)) {
		/* a leftover (its loop device reused, or a failed attempt) goes */
		if (is_mount_root(dirfd, name))
			umount2(k->path, MNT_DETACH | UMOUNT_NOFOLLOW);
		if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
			return err_setsys(e, -errno, "creating '%s'", k->path);
		char dev[32];
		int loopfd = -1;
		int rc = rt_loop_attach(sif_fd, off, size, dev, &loopfd, e);
		if (rc < 0)
			return rc;
		_cleanup_close_ int loopfd_c = loopfd;
		if (mount(dev, k->path, "squashfs", MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
			return err_setsys(e, -errno, "mounting the image's squashfs from %s", dev);
		if (!mount_matches(dirfd, name, &img, off, size, &k->dev)) {
			umount2(k->path, MNT_DETACH | UMOUNT_NOFOLLOW);
			return err_set(e, -EIO, "the mount made at '%s' is not the image's", k->path);
		}
		fresh = true;
		/* what `arca mounts` shows (the name is what counts): the path
		 * the open file has now, else the one given */
		char shown[PATH_MAX], fdp[32];
		snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", sif_fd);
		ssize_t sl = readlink(fdp, shown, sizeof(shown) - 1);
		if (sl > 0 && shown[0] == '/')
			shown[sl] = '\0';
		else
			snprintf(shown, sizeof(shown), "%s", image);
		if (ftruncate(lfd, 0) < 0 || pwrite(lfd, shown, strlen(shown), 0) < 0)
			log_debug("runtime: recording the image path of '%s': %s", k->path, strerror(errno));
	}
	/* the lock file's mtime is the expiry: now + seconds, renewed by use */
	const struct timespec exp = { .tv_sec = now_sec() + seconds };
	const struct timespec t[2] = { exp, exp };
	if (futimens(lfd, t) < 0)
		return err_setsys(e, -errno, "renewing '%s'", lockname);
	if (flock(lfd, LOCK_SH) < 0)
		return err_setsys(e, -errno, "locking '%s'", lockname);
	log_debug("runtime: %s kept mount %s", fresh ? "made" : "using", k->path);
	k->lock_fd = TAKE_FD(lfd_c);
	return 0;
}

void rt_keep_release(struct rt_kept_mount *k)
{
	if (k->lock_fd >= 0)
		close(k->lock_fd);
	k->lock_fd = -1;
}

/* Calls @fn for every entry (NAME, NAME.lock, and the lock's fd locked
 * exclusively, or a negative fd when a launch holds it), in no order;
 * none when the directory does not exist. */
static int each_entry(int (*fn)(void *ctx, int dirfd, const char *name, const char *lockname, int lfd), void *ctx,
		      bool orphans, struct arca_err *e)
{
	int dirfd = open_dir(false, e);
	if (dirfd == -ENOENT)
		return 0;
	if (dirfd < 0)
		return dirfd;
	_cleanup_close_ int dirfd_c = dirfd;
	int dfd = dup(dirfd);
	if (dfd < 0)
		return err_setsys(e, -errno, "kept mounts");
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return err_setsys(e, -errno, "kept mounts");
	}
	/* A mount point whose lock file is gone (deleted by hand) would never
	 * be listed or dropped: it gets a lock file that expired long ago. Only
	 * a hand can make one: arca creates the lock before the mount point and
	 * removes it after. Looked for by `arca mounts`, not by every launch. */
	for (struct dirent *de; orphans && (de = readdir(d));) {
		size_t len = strlen(de->d_name);
		struct stat st;
		if (de->d_name[0] == '.' || len >= KEEP_NAME_MAX || fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		char lockname[KEEP_LOCKNAME_MAX];
		memcpy(lockname, de->d_name, len);
		memcpy(lockname + len, KEEP_LOCK_SUFFIX, sizeof(KEEP_LOCK_SUFFIX));
		int lfd = openat(dirfd, lockname, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (lfd >= 0) {
			const struct timespec past[2] = { { 0 }, { 0 } };
			if (futimens(lfd, past) < 0)
				log_debug("runtime: expiring orphaned '%s': %s", de->d_name, strerror(errno));
			close(lfd);
		}
	}
	if (orphans)
		rewinddir(d);
	int rc = 0;
	for (struct dirent *de; rc >= 0 && (de = readdir(d));) {
		size_t len = strlen(de->d_name), sl = strlen(KEEP_LOCK_SUFFIX);
		if (len <= sl || len >= KEEP_LOCKNAME_MAX || strcmp(de->d_name + len - sl, KEEP_LOCK_SUFFIX))
			continue;
		char name[KEEP_NAME_MAX];
		memcpy(name, de->d_name, len - sl);
		name[len - sl] = '\0';
		struct arca_err ignored = { 0 };
		int lfd = lock_entry(dirfd, de->d_name, false, LOCK_EX | LOCK_NB, &ignored);
		if (lfd == -ENOENT)
			continue;
		rc = fn(ctx, dirfd, name, de->d_name, lfd);
		if (lfd >= 0)
			close(lfd);
	}
	closedir(d);
	return rc;
}

struct drop_ctx {
	bool all;
	unsigned dropped, busy;
};

static int drop_one(void *ctx, int dirfd, const char *name, const char *lockname, int lfd)
{
	struct drop_ctx *c = ctx;
	if (lfd < 0) {
		c->busy++; /* a container is using it */
		return 0;
	}
	struct stat st;
	if (!c->all && fstat(lfd, &st) == 0 && st.st_mtim.tv_sec > now_sec())
		return 0;
	remove_entry(dirfd, name, lockname);
	c->dropped++;
	return 0;
}

static int drop(bool all, bool orphans, unsigned *dropped, unsigned *busy, struct arca_err *e)
{
	*dropped = *busy = 0;
	struct drop_ctx c = { .all = all };
	int rc = each_entry(drop_one, &c, orphans, e);
	*dropped = c.dropped;
	*busy = c.busy;
	return rc;
}

int rt_kept_drop(bool all, unsigned *dropped, unsigned *busy, struct arca_err *e)
{
	return drop(all, true, dropped, busy, e);
}

int rt_keep_expire(unsigned *dropped, struct arca_err *e)
{
	unsigned busy;
	return drop(false, false, dropped, &busy, e);
}

struct list_ctx {
	struct rt_kept *v;
	size_t n;
};

static int list_one(void *ctx, int dirfd, const char *name, const char *lockname, int lfd)
{
	(void)lockname;
	struct list_ctx *c = ctx;
	struct rt_kept *v = realloc(c->v, (c->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->v = v;
	struct rt_kept *k = &v[c->n];
	memset(k, 0, sizeof(*k));
	k->in_use = lfd < 0;
	k->mounted = is_mount_root(dirfd, name);
	char buf[PATH_MAX] = "";
	int fd = lfd >= 0 ? lfd : openat(dirfd, lockname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) == 0)
			k->expires = (int64_t)st.st_mtim.tv_sec;
		ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[got > 0 ? got : 0] = '\0';
		if (fd != lfd)
			close(fd);
	}
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", keep_dir(), name);
	k->image = strdup(buf[0] ? buf : "(unknown image)");
	k->path = strdup(path);
	c->n++;
	return k->image && k->path ? 0 : -ENOMEM;
}

int rt_kept_list(struct rt_kept **out, size_t *n, struct arca_err *e)
{
	*out = NULL;
	*n = 0;
	struct list_ctx c = { 0 };
	int rc = each_entry(list_one, &c, true, e);
	if (rc < 0) {
		rt_kept_free(c.v, c.n);
		return rc == -ENOMEM ? err_set(e, rc, "out of memory") : rc;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

void rt_kept_free(struct rt_kept *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].image);
		free(v[i].path);
	}
	free(v);
}
