/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's file system tree, built inside its private mount
 * namespace:
 *
 *   RT_STAGE (tmpfs)            pivot_root'ed into first, so the host's root
 *     img/      the image       stays reachable at /oldroot for binds
 *     ov/       overlay upper+work (tmpfs): mount points the read-only image
 *               lacks, and the writable layer of --writable-tmpfs
 *     newroot/  overlay(img)    gets /proc /sys /dev /tmp, home, cwd, binds
 *     oldroot/  the host
 *
 * then /oldroot is detached and newroot becomes "/" (pivot_root(".", ".")).
 *
 * Paths inside the image are untrusted: every one is resolved with
 * openat2(RESOLVE_IN_ROOT), so an image's symlink ("/home -> /etc") is
 * followed as the container would see it and never reaches the host, and
 * mounts are placed on the resolved fd through /proc/self/fd.
 */
#include "internal.h"

#ifdef ARCA_RT_HAVE_FUSE
#include "harden.h"
#endif

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define OLDROOT "/oldroot"
#define FDPATH_FMT OLDROOT "/proc/self/fd/%d"
#define RT_LOOP_TRIES 32

static int open_in_root(int rootfd, const char *path, uint64_t flags)
{
	while (*path == '/')
		path++;
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/*
 * Makes sure @path exists in the container (directories 0755, a final
 * empty file when !@dir) and returns an O_PATH fd of it. Missing components
 * are created in their resolved parent, so a symlink in the image can
 * redirect the creation only within the image.
 */
static int ensure_path(int rootfd, const char *path, bool dir)
{
	int fd = open_in_root(rootfd, path, O_PATH);
	if (fd >= 0 || fd != -ENOENT)
		return fd;
	_cleanup_free_ char *parent = strdup(path);
	if (!parent)
		return -ENOMEM;
	char *slash = strrchr(parent, '/');
	if (!slash)
		return -EINVAL;
	const char *name = path + (slash - parent) + 1;
	*slash = '\0';
	int pfd = *parent ? ensure_path(rootfd, parent, true) : open_in_root(rootfd, "/", O_PATH);
	if (pfd < 0)
		return pfd;
	_cleanup_close_ int pfd_c = pfd;
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (dir) {
		if (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST)
			return -errno;
	} else {
		int f = openat(pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (f < 0 && errno != EEXIST)
			return -errno;
		if (f >= 0)
			close(f);
	}
	/* resolve again from the root: the parent fd may be a path through a
	 * symlink that RESOLVE_IN_ROOT must judge as a whole */
	return open_in_root(rootfd, path, O_PATH);
}

static void fdpath(int fd, char out[64]) { snprintf(out, 64, FDPATH_FMT, fd); }

/* Mounts on the container path @path (created when missing). */
static int mount_in(int rootfd, const char *src, const char *path, bool dir, const char *type, unsigned long flags,
		    const char *data, struct arca_err *e)
{
	int fd = ensure_path(rootfd, path, dir);
	if (fd < 0)
		return err_setsys(e, fd, "creating mount point '%s' in the container", path);
	_cleanup_close_ int fdc = fd;
	char t[64];
	fdpath(fd, t);
	if (mount(src, t, type, flags, data) < 0)
		return err_setsys(e, -errno, "mounting %s on '%s' in the container", type ? type : src, path);
	return 0;
}

/* Sets flags on the whole mount tree now at container path @path. */
static int setattr_in(int rootfd, const char *path, uint64_t set, struct arca_err *e)
{
	int fd = open_in_root(rootfd, path, O_PATH);
	if (fd < 0)
		return err_setsys(e, fd, "opening '%s' in the container", path);
	_cleanup_close_ int fdc = fd;
	struct mount_attr attr = { .attr_set = set };
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return err_setsys(e, -errno, "restricting the mount on '%s'", path);
	return 0;
}

/* A recursive bind of host @src (a path under /oldroot) at @dst. */
static int bind_in(int rootfd, const char *src, const char *dst, bool ro, struct arca_err *e)
{
	struct stat st;
	if (stat(src, &st) < 0)
		return err_setsys(e, -errno, "bind source '%s'", src + strlen(OLDROOT));
	int rc = mount_in(rootfd, src, dst, S_ISDIR(st.st_mode), NULL, MS_BIND | MS_REC, NULL, e);
	if (rc < 0)
		return rc;
	return setattr_in(rootfd, dst, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ro ? MOUNT_ATTR_RDONLY : 0), e);
}

/* ------------------------------------------------------------ the image */

/*
 * A read-only loop device over the partition's byte range. AUTOCLEAR makes
 * the kernel detach it once the last mount and open of it are gone, so it
 * vanishes with the container's mount namespace whatever happens to arca.
 */
int rt_loop_attach(int sif_fd, uint64_t off, uint64_t size, char path[32], int *out_fd, struct arca_err *e)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return err_setsys(e, -errno, "opening /dev/loop-control");
	for (int tries = 0; tries < RT_LOOP_TRIES; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return err_setsys(e, -errno, "finding a free loop device");
		snprintf(path, 32, "/dev/loop%d", n);
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* udev has not created the node yet */
			return err_setsys(e, -errno, "opening %s", path);
		}
		struct loop_config cfg = { .fd = (uint32_t)sif_fd };
		cfg.info.lo_offset = off;
		cfg.info.lo_sizelimit = size;
		cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
			*out_fd = TAKE_FD(fd);
			return 0;
		}
		if (errno == EBUSY)
			continue; /* another process took it between GET_FREE and here */
		if (errno != EINVAL && errno != ENOTTY)
			return err_setsys(e, -errno, "configuring %s", path);
		/* kernels before 5.8: attach, then set the range and flags */
		if (ioctl(fd, LOOP_SET_FD, sif_fd) < 0) {
			if (errno == EBUSY)
				continue;
			return err_setsys(e, -errno, "attaching %s", path);
		}
		struct loop_info64 info = { 0 };
		info.lo_offset = off;
		info.lo_sizelimit = size;
		info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
		if (ioctl(fd, LOOP_SET_STATUS64, &info) < 0) {
			int err = -errno;
			ioctl(fd, LOOP_CLR_FD, 0);
			return err_setsys(e, err, "setting up %s", path);
		}
		*out_fd = TAKE_FD(fd);
		return 0;
	}
	return err_set(e, -EBUSY, "no free loop device after %d attempts", RT_LOOP_TRIES);
}

static int mount_image(struct rt_mnt *m, const char *target, int kept_fd, struct arca_err *e)
{
	if (kept_fd >= 0) {
		char src[64];
		snprintf(src, sizeof(src), "/proc/self/fd/%d", kept_fd);
		if (mount(src, target, NULL, MS_BIND, NULL) < 0)
			return err_setsys(e, -errno, "binding the kept mount of the image");
		return 0;
	}
	if (m->loop) {
		char dev[32];
		int lfd = -1;
		int rc = rt_loop_attach(m->sif_fd, m->part_off, m->part_size, dev, &lfd, e);
		if (rc < 0)
			return rc;
		_cleanup_close_ int lfd_c = lfd;
		if (mount(dev, target, "squashfs", MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
			return err_setsys(e, -errno, "mounting the image's squashfs from %s", dev);
		return 0;
	}
#ifdef ARCA_RT_HAVE_FUSE
	struct rt_blocksrc *src = NULL;
	int rc = rt_blocksrc_file(m->sif_fd, m->part_off, m->part_size, &src, e);
	if (rc < 0)
		return rc;
	rc = rt_fuse_mount(src, target, &m->fuse_pid, e);
	rt_blocksrc_free(src);
	return rc;
#else
	(void)target;
	return err_set(e, -ENOTSUP, "unprivileged launches need the FUSE root, which this build lacks");
#endif
}

/*
 * The image under an overlay whose upper layer is tmpfs: mount points the
 * image lacks can be created, and --writable-tmpfs gets its writable layer.
 * The root is made read-only again after pivot_root unless asked otherwise.
 * Returns 1 with the overlay, 0 without: when the image already has every
 * mount point (and the user's entries) and nothing is to be written, or
 * when the kernel refused the overlay (a plain bind of the image then;
 * missing mount points are skipped).
 */
static int premake_all(struct rt_mnt *m, struct arca_err *e);

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return false;
	bool empty = true;
	for (struct dirent *de; empty && (de = readdir(d));)
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

static int mount_root(struct rt_mnt *m, struct arca_err *e)
{
	static const char opts[] = "lowerdir=" RT_STAGE "/img,upperdir=" RT_STAGE "/ov/upper,workdir=" RT_STAGE
				   "/ov/work";
	if (mkdir(RT_STAGE "/ov/upper", 0755) < 0 || mkdir(RT_STAGE "/ov/work", 0755) < 0)
		return err_setsys(e, -errno, "creating the overlay directories");
	struct stat st;
	/* the merged root takes the upper root's attributes: the image's */
	if (stat(RT_STAGE "/img", &st) == 0)
		chmod(RT_STAGE "/ov/upper", st.st_mode & 07777);
	int rc = premake_all(m, e);
	if (rc < 0)
		return rc;
	/* nothing to add to the image and nothing to write: the overlay
	 * would only cost time, at mount and on every lookup */
	if (!m->o->writable_tmpfs && dir_empty(RT_STAGE "/ov/upper")) {
		if (mount(RT_STAGE "/img", RT_STAGE "/newroot", NULL, MS_BIND, NULL) < 0)
			return err_setsys(e, -errno, "binding the image root");
		return 0;
	}
	/* in a user namespace overlayfs may only use user.* xattrs */
	if (m->userns && mount("overlay", RT_STAGE "/newroot", "overlay", MS_NOSUID | MS_NODEV,
			       "userxattr,lowerdir=" RT_STAGE "/img,upperdir=" RT_STAGE "/ov/upper,workdir=" RT_STAGE
			       "/ov/work") == 0)
		return 1;
	if (mount("overlay", RT_STAGE "/newroot", "overlay", MS_NOSUID | MS_NODEV, opts) == 0)
		return 1;
	log_debug("runtime: overlay refused (%s), the root stays a plain read-only mount", strerror(errno));
	if (mount(RT_STAGE "/img", RT_STAGE "/newroot", NULL, MS_BIND | MS_REC, NULL) < 0)
		return err_setsys(e, -errno, "binding the image root");
	return 0;
}

/* ------------------------------------------------------------ /dev */

static int setup_dev(int rootfd, bool userns, const char *console, struct arca_err *e)
{
	int rc = mount_in(rootfd, "tmpfs", "/dev", true, "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV,
			  "mode=0755,size=512k", e);
	if (rc < 0)
		return rc;
	/* Device nodes are bind mounts of the host's: creating nodes needs
	 * CAP_MKNOD in the initial namespace, and a bind is its own mount, not
	 * subject to the tmpfs's nodev. */
	static const char *const devs[] = { "null", "zero", "full", "random", "urandom", "tty" };
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++) {
		char src[64], dst[64];
		snprintf(src, sizeof(src), OLDROOT "/dev/%s", devs[i]);
		snprintf(dst, sizeof(dst), "/dev/%s", devs[i]);
		if ((rc = mount_in(rootfd, src, dst, false, NULL, MS_BIND, NULL, e)) < 0 ||
		    (rc = setattr_in(rootfd, dst, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, e)) < 0)
			return rc;
	}
	/* the caller's terminal, which the private devpts below cannot show,
	 * as /dev/console: ttyname() inside then finds it */
	if (console) {
		char src[PATH_MAX];
		snprintf(src, sizeof(src), OLDROOT "%s", console);
		if ((rc = mount_in(rootfd, src, "/dev/console", false, NULL, MS_BIND, NULL, e)) < 0 ||
		    (rc = setattr_in(rootfd, "/dev/console", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, e)) < 0)
			return rc;
	}
	/* a private devpts: the container sees only its own terminals */
	rc = mount_in(rootfd, "devpts", "/dev/pts", true, "devpts", MS_NOSUID | MS_NOEXEC,
		      userns ? "newinstance,ptmxmode=0666,mode=0620" : "newinstance,ptmxmode=0666,mode=0620,gid=5", e);
	if (rc < 0)
		return rc;
	rc = mount_in(rootfd, "tmpfs", "/dev/shm", true, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", e);
	if (rc < 0)
		return rc;
	int dfd = open_in_root(rootfd, "/dev", O_DIRECTORY | O_RDONLY);
	if (dfd < 0)
		return err_setsys(e, dfd, "opening the container's /dev");
	_cleanup_close_ int dfd_c = dfd;
	static const char *const links[][2] = { { "ptmx", "pts/ptmx" },	     { "fd", "/proc/self/fd" },
						{ "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
						{ "stderr", "/proc/self/fd/2" } };
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][1], dfd, links[i][0]) < 0)
			return err_setsys(e, -errno, "creating /dev/%s", links[i][0]);
	return 0;
}

/* ------------------------------------------------------------ mount points */

/*
 * Creates RT_STAGE/ov/upper/<canon>/<rest>: the directories of @canon (a
 * resolved path that exists in the image) with the image's modes, then
 * @rest, the last component a file unless @dir.
 */
static int upper_mirror(const char *canon, const char *rest, bool dir)
{
	char up[PATH_MAX], low[PATH_MAX];
	int w = snprintf(up, sizeof(up), RT_STAGE "/ov/upper%s%s%s", canon, *rest ? "/" : "", rest);
	if (w < 0 || (size_t)w >= sizeof(up))
		return -ENAMETOOLONG;
	size_t upbase = strlen(RT_STAGE "/ov/upper");
	size_t canon_end = upbase + strlen(canon);
	for (char *p = up + upbase + 1;; p++) {
		bool last = *p == '\0';
		if (*p != '/' && !last)
			continue;
		*p = '\0';
		mode_t mode = 0755;
		struct stat st;
		if ((size_t)(p - up) <= canon_end) {
			snprintf(low, sizeof(low), RT_STAGE "/img%s", up + upbase);
			if (stat(low, &st) == 0)
				mode = st.st_mode & 07777;
		}
		if (last && !dir) {
			int f = open(up, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
			if (f < 0 && errno != EEXIST)
				return -errno;
			if (f >= 0)
				close(f);
			return 0;
		}
		if (mkdir(up, mode) < 0 && errno != EEXIST)
			return -errno;
		if (last)
			return 0;
		*p = '/';
	}
}

/* The image's resolved location of @fd (open below RT_STAGE/img), relative
 * to the image root, into @canon. */
static int image_canon(int fd, char canon[PATH_MAX])
{
	char link[64], real[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, real, sizeof(real) - 1);
	if (n < 0)
		return -errno;
	real[n] = '\0';
	size_t base = strlen(RT_STAGE "/img");
	if (strncmp(real, RT_STAGE "/img", base) || (real[base] && real[base] != '/'))
		return -EXDEV;
	snprintf(canon, PATH_MAX, "%s", real + base);
	return 0;
}

/*
 * Mount points the image lacks are created in the overlay's upper layer
 * before the overlay is mounted: inside the overlay, creating them under a
 * directory the image gives to root would need a copy-up that a user
 * namespace cannot do (root's files have no owner there). The path is
 * first resolved in the image as the container will resolve it (symlinks
 * inside the image root), so the new entries land where lookups find them.
 */
static int premake(const char *path, bool dir, bool *existed)
{
	*existed = false;
	if (path[0] != '/' || strstr(path, "/../") || strstr(path, "/./"))
		return -EINVAL;
	_cleanup_close_ int imgfd = open(RT_STAGE "/img", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (imgfd < 0)
		return -errno;
	char canon[PATH_MAX] = ""; /* canonical existing prefix, relative to the image root */
	const char *rest = path;
	for (;;) {
		while (*rest == '/')
			rest++;
		if (!*rest) {
			*existed = true;
			return 0;
		}
		const char *slash = strchr(rest, '/');
		size_t prefix = slash ? (size_t)(slash - path) : strlen(path);
		char try[PATH_MAX];
		if (prefix >= sizeof(try))
			return -ENAMETOOLONG;
		memcpy(try, path, prefix);
		try[prefix] = '\0';
		int fd = open_in_root(imgfd, try, O_PATH);
		if (fd == -ENOENT)
			break;
		if (fd < 0)
			return fd;
		int rc = image_canon(fd, canon);
		close(fd);
		if (rc < 0)
			return rc;
		rest = slash ? slash : path + strlen(path);
	}
	return upper_mirror(canon, rest, dir);
}

/*
 * The caller's entry in the image's /etc/passwd and /etc/group (written to
 * the upper layer), as the reference does, so that names resolve inside.
 * Only when the image has the file and lacks the id; @line is the entry.
 */
static int augment_db(const char *path, const char *line, unsigned id)
{
	_cleanup_close_ int imgfd = open(RT_STAGE "/img", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (imgfd < 0)
		return -errno;
	int fd = open_in_root(imgfd, path, O_RDONLY);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	_cleanup_close_ int fdc = fd;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = fd_read_all(fd, RT_SQFS_MAX_FILE, &b, NULL);
	if (rc < 0)
		return rc;
	/* name:x:ID:... : is the id there already? */
	for (const char *l = b.p; l && *l;) {
		const char *nl = strchr(l, '\n');
		const char *end = nl ? nl : l + strlen(l);
		const char *c = l;
		for (int f = 0; f < 2 && c; f++) {
			c = memchr(c, ':', (size_t)(end - c));
			if (c)
				c++;
		}
		if (c && c[0] >= '0' && c[0] <= '9' && strtoul(c, NULL, 10) == id)
			return 0;
		l = nl ? nl + 1 : NULL;
	}
	char canon[PATH_MAX];
	if ((rc = image_canon(fd, canon)) < 0)
		return rc;
	char *slash = strrchr(canon, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if ((rc = upper_mirror(canon, "", true)) < 0)
		return rc;
	*slash = '/';
	if (b.len && b.p[b.len - 1] != '\n')
		buf_addch(&b, '\n');
	buf_addstr(&b, line);
	if (buf_error(&b))
		return -ENOMEM;
	char up[PATH_MAX + 32];
	snprintf(up, sizeof(up), RT_STAGE "/ov/upper%s", canon);
	_cleanup_close_ int out = open(up, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, st.st_mode & 0644);
	if (out < 0)
		return -errno;
	return fd_write_full(out, b.p, b.len);
}

static int premake_all(struct rt_mnt *m, struct arca_err *e)
{
	if (m->passwd_line && augment_db("/etc/passwd", m->passwd_line, m->uid) < 0)
		log_debug("runtime: cannot add the user to /etc/passwd");
	if (m->group_line && augment_db("/etc/group", m->group_line, m->gid) < 0)
		log_debug("runtime: cannot add the group to /etc/group");
	bool existed;
	static const char *const std_dirs[] = { "/proc", "/sys", "/dev", "/tmp" };
	for (size_t i = 0; i < ARRAY_SIZE(std_dirs); i++)
		if (premake(std_dirs[i], true, &existed) < 0)
			log_debug("runtime: cannot prepare '%s'", std_dirs[i]);
	bool want_home = m->home_on_host || m->o->contain || m->o->containall;
	if (m->home && strcmp(m->home, "/") != 0 && !m->o->no_home && want_home && premake(m->home, true, &existed) < 0)
		log_debug("runtime: cannot prepare home '%s'", m->home);
	if (m->cwd && !m->o->containall && !m->o->contain) {
		int rc = premake(m->cwd, true, &existed);
		m->cwd_in_image = rc == 0 && existed;
	}
	for (size_t i = 0; i < m->o->n_binds; i++) {
		const struct rt_bind *b = &m->o->binds[i];
		int rc = premake(b->dst, m->bind_dir[i], &existed);
		if (rc < 0)
			return err_setsys(e, rc, "bind destination '%s'", b->dst);
	}
	return 0;
}

/* ------------------------------------------------------------ assembly */

static bool exists_in(int rootfd, const char *path)
{
	int fd = open_in_root(rootfd, path, O_PATH);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* True when @path is @dir or below it. */
static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n && dir[n - 1] == '/')
		n--;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

static int populate(struct rt_mnt *m, int rootfd, bool overlay, struct arca_err *e)
{
	const struct rt_opts *o = m->o;
	int rc = mount_in(rootfd, "proc", "/proc", true, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, e);
	if (rc < 0)
		return rc;
	/* sysfs may be mounted only by the owner of the network namespace;
	 * otherwise the host's, read-only */
	struct arca_err tmp = { 0 };
	if (mount_in(rootfd, "sysfs", "/sys", true, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
		     &tmp) < 0) {
		if ((rc = mount_in(rootfd, OLDROOT "/sys", "/sys", true, NULL, MS_BIND | MS_REC, NULL, e)) < 0 ||
		    (rc = setattr_in(rootfd, "/sys",
				     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, e)) < 0)
			return rc;
	}
	if ((rc = setup_dev(rootfd, m->userns, m->console, e)) < 0)
		return rc;
	if ((rc = mount_in(rootfd, "tmpfs", "/tmp", true, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", e)) < 0)
		return rc;
	if (exists_in(rootfd, "/var/tmp") &&
	    (rc = mount_in(rootfd, "tmpfs", "/var/tmp", true, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", e)) < 0)
		return rc;

	/* the host's name resolution and time zone, as the reference binds
	 * them, where the image has the file (nothing is created for them) */
	static const char *const host_files[] = { "/etc/resolv.conf", "/etc/hosts", "/etc/localtime" };
	for (size_t i = 0; i < ARRAY_SIZE(host_files); i++) {
		const char *f = host_files[i];
		if (m->netns && strcmp(f, "/etc/localtime") != 0)
			continue;
		char src[PATH_MAX];
		struct stat st;
		snprintf(src, sizeof(src), OLDROOT "%s", f);
		int fd = open_in_root(rootfd, f, O_PATH);
		if (fd < 0)
			continue;
		struct stat ist;
		bool regular = fstat(fd, &ist) == 0 && S_ISREG(ist.st_mode);
		close(fd);
		if (regular && stat(src, &st) == 0 && S_ISREG(st.st_mode) && (rc = bind_in(rootfd, src, f, true, e)) < 0)
			return rc;
	}

	/* home: the user's own (or an empty tmpfs with --containall); a home
	 * that cannot be placed is left out rather than failing the launch */
	bool can_create = overlay;
	struct arca_err soft = { 0 };
	if (m->home && strcmp(m->home, "/") != 0 && !o->no_home && (can_create || exists_in(rootfd, m->home))) {
		if (o->containall || o->contain) {
			m->home_visible = mount_in(rootfd, "tmpfs", m->home, true, "tmpfs", MS_NOSUID | MS_NODEV,
						   "mode=0755", &soft) == 0;
		} else {
			_cleanup_free_ char *src = NULL;
			struct stat st;
			if (asprintf(&src, OLDROOT "%s", m->home) < 0)
				return err_set(e, -ENOMEM, "out of memory");
			if (stat(src, &st) == 0 && S_ISDIR(st.st_mode))
				m->home_visible = bind_in(rootfd, src, m->home, false, &soft) == 0;
		}
		if (!m->home_visible)
			log_debug("runtime: home '%s' left out: %s", m->home, err_msg(&soft));
	}
	/* the working directory, when the image does not have it already */
	if (m->cwd && !o->containall && !o->contain) {
		if (m->cwd_in_image || (m->home_visible && path_under(m->cwd, m->home))) {
			m->cwd_visible = exists_in(rootfd, m->cwd);
		} else if (can_create) {
			_cleanup_free_ char *src = NULL;
			if (asprintf(&src, OLDROOT "%s", m->cwd) < 0)
				return err_set(e, -ENOMEM, "out of memory");
			/* an unreadable cwd is not worth failing the launch for */
			m->cwd_visible = bind_in(rootfd, src, m->cwd, false, &soft) == 0;
		}
	}
	for (size_t i = 0; i < o->n_binds; i++) {
		const struct rt_bind *b = &o->binds[i];
		_cleanup_free_ char *src = NULL;
		if (asprintf(&src, OLDROOT "%s", b->src) < 0)
			return err_set(e, -ENOMEM, "out of memory");
		if (!can_create && !exists_in(rootfd, b->dst))
			return err_set(e, -ENOENT,
				       "bind destination '%s' does not exist in the image (and no overlay to create it)",
				       b->dst);
		if ((rc = bind_in(rootfd, src, b->dst, b->ro, e)) < 0)
			return rc;
	}
	return 0;
}

int rt_mount_container(struct rt_mnt *m, struct arca_err *e)
{
	/* nothing mounted from here on may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return err_setsys(e, -errno, "making the mount namespace private");
	/* the kept mount is taken before the staging tmpfs can hide its path,
	 * and must be the one arca checked (its lock keeps it there) */
	_cleanup_close_ int kept_fd = -1;
	if (m->kept) {
		struct stat st;
		kept_fd = open(m->kept, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (kept_fd < 0)
			return err_setsys(e, -errno, "opening the kept mount '%s'", m->kept);
		if (fstat(kept_fd, &st) < 0 || st.st_dev != m->kept_dev)
			return err_set(e, -ESTALE, "the kept mount '%s' changed", m->kept);
	}
	if (mount("tmpfs", RT_STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m") < 0)
		return err_setsys(e, -errno, "mounting the staging tmpfs");
	static const char *const dirs[] = { RT_STAGE "/img", RT_STAGE "/ov", RT_STAGE "/newroot", RT_STAGE "/oldroot" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (mkdir(dirs[i], 0755) < 0)
			return err_setsys(e, -errno, "creating '%s'", dirs[i]);
	/* the overlay's tmpfs is private to it, so its size caps --writable-tmpfs */
	if (mount("tmpfs", RT_STAGE "/ov", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m") < 0)
		return err_setsys(e, -errno, "mounting the overlay tmpfs");

	rt_trace("mounts: staging ready");
	int rc = mount_image(m, RT_STAGE "/img", kept_fd, e);
	if (rc < 0)
		return rc;
	rt_trace("mounts: image mounted");
	int overlay = mount_root(m, e);
	if (overlay < 0)
		return overlay;

	if (chdir(RT_STAGE) < 0)
		return err_setsys(e, -errno, "entering the staging directory");
	if (syscall(SYS_pivot_root, ".", "oldroot") < 0)
		return err_setsys(e, -errno, "pivot_root into the staging directory");
	if (chdir("/") < 0)
		return err_setsys(e, -errno, "chdir /");

	int rootfd = open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_setsys(e, -errno, "opening the container root");
	_cleanup_close_ int rootfd_c = rootfd;
	rt_trace("mounts: overlay and first pivot");
	if ((rc = populate(m, rootfd, overlay > 0, e)) < 0)
		return rc;
	rt_trace("mounts: populated");

	/* the host goes away; then the container root replaces the staging
	 * tmpfs, which is detached from under it */
	if (umount2(OLDROOT, MNT_DETACH) < 0)
		return err_setsys(e, -errno, "detaching the host root");
	if (chdir("/newroot") < 0)
		return err_setsys(e, -errno, "entering the container root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return err_setsys(e, -errno, "pivot_root into the container");
	if (umount2(".", MNT_DETACH) < 0)
		return err_setsys(e, -errno, "detaching the staging directory");
	if (chdir("/") < 0)
		return err_setsys(e, -errno, "chdir /");
	if (!m->o->writable_tmpfs &&
	    mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		return err_setsys(e, -errno, "making the container root read-only");
	return 0;
}
