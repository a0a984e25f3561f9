/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The unprivileged root filesystem: a read-only FUSE server for the image's
 * SquashFS partition, built on libsquashfs (parsing, decompression) and
 * libfuse3's low-level API.
 *
 * Why FUSE: the kernel refuses to mount squashfs inside a user namespace
 * (it is not FS_USERNS_MOUNT: a crafted image could exploit the in-kernel
 * parser), while fuse is allowed there since Linux 4.18. The parser then
 * runs in a process of the user's own, unprivileged, not-dumpable.
 *
 * How it mounts: rt_fuse_mount() opens /dev/fuse and calls mount(2) itself
 * with "fd=N,rootmode=...,user_id=,group_id=". No fusermount is needed: the
 * caller holds CAP_SYS_ADMIN over its mount namespace (root, or the owner of
 * the user namespace). The forked daemon hands the already-mounted fd to
 * libfuse with fuse_session_mount(se, "/dev/fd/N"), which libfuse (>= 3.3)
 * documents as "the fd is already mounted, just use it"; the alternative,
 * fuse_session_custom_io(), would make us re-implement request I/O.
 *
 * Why the daemon goes away on its own: it moves into a private copy of the
 * mount namespace *before* the FUSE mount exists, so it never holds a
 * reference to the mount. When the container's namespace dies (or someone
 * unmounts), the superblock goes, the kernel aborts the connection, reads
 * on /dev/fuse fail with ENODEV and fuse_session_loop() returns.
 *
 * This file is the FUSE side (operations, daemon, mount); the image side,
 * reading the squashfs with every offset, count and size checked, is in
 * squashfuse_image.c behind the rt_sq_ functions of internal.h.
 */
#define FUSE_USE_VERSION 35

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sqfs/inode.h>
#include <sqfs/meta_reader.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "harden.h"
#include "internal.h"

/* Named limits. */
#define SQ_TIMEOUT 86400.0 /* the image never changes */
#define SQ_KEEP_FDS 16
#define SQ_UNMOUNT_GRACE_MS 2000

/* The session's state: the image and what the kernel told us. */
struct srv {
	struct sq *sq;
	bool no_open; /* the kernel opens files without asking us */
};

static void sq_freep(struct sq **s) { rt_sq_free(*s); }

/* FUSE node ids: 1 is the root; every other node is its inode reference
 * (block << 16 | offset) plus 2, so hard links share one node and no state
 * per node is needed (forget is a no-op). */
static uint64_t sq_nodeid(const struct sq *s, uint64_t ref) { return ref == rt_sq_root(s) ? FUSE_ROOT_ID : ref + 2; }

static int sq_ref(const struct sq *s, fuse_ino_t ino, uint64_t *ref)
{
	if (ino == FUSE_ROOT_ID) {
		*ref = rt_sq_root(s);
		return 0;
	}
	if (ino < 2)
		return -EIO;
	*ref = ino - 2;
	return 0;
}

/* ------------------------------------------------------------- FUSE glue */

static struct srv *srv_of(fuse_req_t req) { return fuse_req_userdata(req); }
static struct sq *sq_of(fuse_req_t req) { return srv_of(req)->sq; }

static void fill_entry(struct fuse_entry_param *ep)
{
	ep->attr_timeout = SQ_TIMEOUT;
	ep->entry_timeout = SQ_TIMEOUT;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct srv *srv = userdata;
	/* Answering open with ENOSYS makes the kernel stop sending open and
	 * release (and cache pages as with keep_cache): two round trips per
	 * file less. Safe because open needs nothing from us: the mount is
	 * read-only, modes are checked by the kernel, only regular files reach
	 * open, and reads validate the inode themselves. */
	srv->no_open = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
	/* Immutable image: let the kernel cache symlink targets and never
	 * drop page cache because of attribute changes. */
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct sq *s = sq_of(req);
	uint64_t pref;
	sqfs_readdir_state_t st;
	size_t nlen = strlen(name);
	if (nlen > RT_SQFS_MAX_NAME) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	int rc = sq_ref(s, parent, &pref);
	if (rc == 0)
		rc = rt_sq_dir_open(s, pref, &st, NULL);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	struct rt_sqfs_dent d;
	for (uint32_t n = 0;; n++) {
		if (n >= RT_SQFS_MAX_DIR_ENTRIES) {
			fuse_reply_err(req, EIO);
			return;
		}
		rc = rt_sq_dir_next(s, &st, &d);
		if (rc < 0) {
			fuse_reply_err(req, -rc);
			return;
		}
		if (rc > 0)
			break;
		if (d.len == nlen && memcmp(d.name, name, nlen) == 0) {
			const sqfs_inode_generic_t *i;
			struct fuse_entry_param ep = { 0 };
			rc = rt_sq_inode(s, d.ref, &i);
			if (rc == 0)
				rc = rt_sq_stat(s, i, &ep.attr);
			/* The entry's type must agree with the inode it names. */
			if (rc == 0 && rt_sq_type_bits(d.type) != (ep.attr.st_mode & S_IFMT))
				rc = -EIO;
			if (rc == 0 && d.ref + 2 < d.ref)
				rc = -EIO;
			if (rc < 0) {
				fuse_reply_err(req, -rc);
				return;
			}
			ep.ino = sq_nodeid(s, d.ref);
			fill_entry(&ep);
			fuse_reply_entry(req, &ep);
			return;
		}
	}
	/* A negative entry with a timeout: the kernel caches "no such file",
	 * which matters for $PATH and library search. */
	struct fuse_entry_param ep = { 0 };
	fill_entry(&ep);
	fuse_reply_entry(req, &ep);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct sq *s = sq_of(req);
	uint64_t ref;
	const sqfs_inode_generic_t *i;
	struct stat st;
	int rc = sq_ref(s, ino, &ref);
	if (rc == 0)
		rc = rt_sq_inode(s, ref, &i);
	if (rc == 0)
		rc = rt_sq_stat(s, i, &st);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, SQ_TIMEOUT);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct sq *s = sq_of(req);
	uint64_t ref;
	const sqfs_inode_generic_t *i;
	int rc = sq_ref(s, ino, &ref);
	if (rc == 0)
		rc = rt_sq_inode(s, ref, &i);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	char target[RT_SQFS_MAX_SYMLINK + 1];
	rc = rt_sq_readlink(i, target);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
}

struct dirh {
	uint64_t ref;
	sqfs_readdir_state_t st;
	uint64_t pos; /* 0 ".", 1 "..", 2.. entries */
	uint32_t inum, parent_inum;
};

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sq *s = sq_of(req);
	struct dirh *h = calloc(1, sizeof(*h));
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	const sqfs_inode_generic_t *i;
	int rc = sq_ref(s, ino, &h->ref);
	if (rc == 0)
		rc = rt_sq_dir_open(s, h->ref, &h->st, &h->parent_inum);
	if (rc == 0)
		rc = rt_sq_inode(s, h->ref, &i);
	if (rc < 0) {
		free(h);
		fuse_reply_err(req, -rc);
		return;
	}
	h->inum = i->base.inode_number;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	if (fuse_reply_open(req, fi) != 0)
		free(h);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	free((struct dirh *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static unsigned dtype_of(unsigned sqtype) { return (unsigned)(rt_sq_type_bits(sqtype) >> 12); }

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi, bool plus)
{
	(void)ino;
	struct sq *s = sq_of(req);
	struct dirh *h = (struct dirh *)(uintptr_t)fi->fh;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (size > RT_SQ_MAX_READ)
		size = RT_SQ_MAX_READ;
	/* Seeking back (rewinddir, or a restarted read) re-walks the listing:
	 * squashfs has no stable cookies other than positions. */
	if ((uint64_t)off != h->pos) {
		sqfs_readdir_state_reset(&h->st);
		h->pos = 0;
	}
	_cleanup_free_ char *buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	int rc = 0;
	while (true) {
		if (h->pos >= RT_SQFS_MAX_DIR_ENTRIES) {
			rc = -EIO;
			break;
		}
		struct rt_sqfs_dent d;
		sqfs_readdir_state_t saved = h->st;
		struct stat st = { 0 };
		struct fuse_entry_param ep = { 0 };
		if (h->pos < 2) {
			strcpy(d.name, h->pos == 0 ? "." : "..");
			st.st_mode = S_IFDIR;
			st.st_ino = h->pos == 0 ? h->inum : h->parent_inum;
		} else {
			rc = rt_sq_dir_next(s, &h->st, &d);
			if (rc != 0)
				break;
		}
		if (h->pos < (uint64_t)off) {
			h->pos++; /* walking up to the requested position */
			continue;
		}
		if (h->pos >= 2) {
			st.st_mode = (mode_t)(dtype_of(d.type) << 12);
			st.st_ino = d.inum; /* some readers skip entries with d_ino 0 */
			if (plus) {
				const sqfs_inode_generic_t *i;
				rc = rt_sq_inode(s, d.ref, &i);
				if (rc == 0)
					rc = rt_sq_stat(s, i, &ep.attr);
				if (rc == 0 && d.ref + 2 < d.ref)
					rc = -EIO;
				if (rc < 0) {
					/* Unsent: the next call meets the same
					 * entry and reports the error itself. */
					h->st = saved;
					break;
				}
				st = ep.attr;
				ep.ino = sq_nodeid(s, d.ref);
				fill_entry(&ep);
			}
		}
		size_t need;
		if (plus) {
			if (h->pos < 2)
				ep.attr = st; /* ino 0: the kernel makes no dentry */
			need = fuse_add_direntry_plus(req, buf + used, size - used, d.name, &ep, (off_t)(h->pos + 1));
		} else {
			need = fuse_add_direntry(req, buf + used, size - used, d.name, &st, (off_t)(h->pos + 1));
		}
		if (need > size - used) {
			if (h->pos >= 2)
				h->st = saved; /* not sent: read it again next time */
			break;
		}
		used += need;
		h->pos++;
	}
	if (rc < 0 && used == 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, buf, used);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sq *s = sq_of(req);
	uint64_t ref;
	const sqfs_inode_generic_t *i;
	if (srv_of(req)->no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	int rc = sq_ref(s, ino, &ref);
	if (rc == 0)
		rc = rt_sq_inode(s, ref, &i);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (!rt_sq_is_file(i)) {
		fuse_reply_err(req, rt_sq_is_dir(i) ? EISDIR : EIO);
		return;
	}
	fi->keep_cache = 1;
	fi->noflush = 1;
	fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	struct sq *s = sq_of(req);
	uint64_t ref;
	const uint8_t *p = NULL;
	size_t n = 0;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	int rc = sq_ref(s, ino, &ref);
	if (rc == 0)
		rc = rt_sq_read(s, ref, (uint64_t)off, size, &p, &n);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, (const char *)p, n);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct statvfs sv;
	rt_sq_statfs(sq_of(req), &sv);
	fuse_reply_statfs(req, &sv);
}

static void reply_xattr(fuse_req_t req, int rc, const struct buf *b, size_t size)
{
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (size == 0)
		fuse_reply_xattr(req, b->len);
	else if (b->len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, b->p, b->len);
}

/* With @name, that xattr's value; without, the list of names. */
static void do_xattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct sq *s = sq_of(req);
	uint64_t ref;
	int rc = sq_ref(s, ino, &ref);
	if (rc == 0)
		rc = rt_sq_xattrs(s, ref, name, &b);
	reply_xattr(req, rc, &b, size);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	do_xattr(req, ino, name, size);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) { do_xattr(req, ino, NULL, size); }

static const struct fuse_lowlevel_ops sq_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.open = op_open,
	.read = op_read,
	.statfs = op_statfs,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
};

/* ------------------------------------------------------- mount and daemon */

/* What the daemon tells rt_fuse_mount() once it is ready (or not). */
struct hello {
	int code;
	char msg[256];
};

static int send_all(int fd, const void *p, size_t n)
{
	ssize_t w;
	do
		w = send(fd, p, n, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)n ? 0 : -EIO;
}

static int recv_all(int fd, void *p, size_t n)
{
	ssize_t r;
	do
		r = recv(fd, p, n, 0);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)n ? 0 : -EIO;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Closes every inherited descriptor but @keep: a daemon holding, say, the
 * launcher's exec-status pipe open would make the launcher wait forever. */
static void close_all_but(int *keep, size_t n)
{
	qsort(keep, n, sizeof(*keep), cmp_int);
	unsigned from = 3;
	for (size_t k = 0; k < n; k++) {
		if (keep[k] < (int)from)
			continue;
		if ((unsigned)keep[k] > from)
			syscall(SYS_close_range, from, (unsigned)keep[k] - 1, 0);
		from = (unsigned)keep[k] + 1;
	}
	syscall(SYS_close_range, from, ~0u, 0);
}

/*
 * What the server may do once it serves: read requests and the image,
 * write replies, manage memory, exit. The parser of an untrusted image runs
 * here, so a bug in it must find nothing to use: no capabilities (it holds
 * all of them over the user namespace it was forked in), no new privileges,
 * no opening, no exec, no sockets, no other ABI. Denied calls fail with
 * EPERM, which the request at hand turns into EIO.
 */
static const char *const server_syscalls[] = {
	"read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "sendto", "sendmsg", "recvfrom",
	"recvmsg", "close", "lseek", "fstat", "newfstatat", "mmap", "munmap", "mremap", "mprotect", "madvise",
	"brk", "futex", "sched_yield", "getrandom", "clock_gettime", "clock_nanosleep", "nanosleep", "getpid",
	"gettid", "tgkill", "rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "sigaltstack", "restart_syscall",
	"exit", "exit_group",
};

static int confine(struct arca_err *e)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_setsys(e, -errno, "no_new_privs");
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return err_setsys(e, -errno, "dropping capabilities");
	struct rt_seccomp *p = NULL;
	int rc = rt_seccomp_allowlist(server_syscalls, ARRAY_SIZE(server_syscalls), EPERM, &p, e);
	if (rc == 0)
		rc = rt_seccomp_install(p, e);
	rt_seccomp_free(p);
	return rc;
}

static _Noreturn void daemon_main(struct sq *s, struct rt_blocksrc *src, int fuse_fd, int sock)
{
	struct hello h = { 0 };
	struct fuse_session *se = NULL;

	/* Out of the launcher's process group, so a terminal's ^C does not
	 * take the root filesystem away before the container sees it. */
	setsid();
	/* Same uid as the container: not dumpable keeps it from ptrace and
	 * /proc/<pid>/mem of the server. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);

	/* A private copy of the mount namespace taken before the FUSE mount
	 * exists: the daemon then holds no reference to the mount, and the
	 * container's namespace going away is what ends the daemon. Private
	 * propagation keeps the later mount from appearing here. */
	if (unshare(CLONE_NEWNS) < 0) {
		h.code = -errno;
		snprintf(h.msg, sizeof(h.msg), "fuse daemon: unshare of mount namespace: %s", strerror(errno));
		goto fail;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		h.code = -errno;
		snprintf(h.msg, sizeof(h.msg), "fuse daemon: making mounts private: %s", strerror(errno));
		goto fail;
	}
	if (chdir("/") < 0) {
		h.code = -errno;
		snprintf(h.msg, sizeof(h.msg), "fuse daemon: chdir: %s", strerror(errno));
		goto fail;
	}

	char *argv[] = { (char *)"arca-fuse", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct srv srv = { .sq = s };
	se = fuse_session_new(&args, &sq_ops, sizeof(sq_ops), &srv);
	if (!se) {
		h.code = -ENOMEM;
		snprintf(h.msg, sizeof(h.msg), "fuse daemon: fuse_session_new failed");
		goto fail;
	}
	char fdpath[32];
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fuse_fd);
	if (fuse_session_mount(se, fdpath) != 0) {
		h.code = -EIO;
		snprintf(h.msg, sizeof(h.msg), "fuse daemon: libfuse refused the mounted fd");
		goto fail;
	}

	int keep[SQ_KEEP_FDS + 2];
	size_t nkeep = rt_blocksrc_fds(src, keep, SQ_KEEP_FDS);
	keep[nkeep++] = fuse_fd;
	keep[nkeep++] = sock;
	close_all_but(keep, nkeep);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		if (log_get_level() < LOG_DEBUG)
			dup2(null, 2);
		if (null > 2)
			close(null);
	}
	struct arca_err e = { 0 };
	if (confine(&e) < 0) {
		h.code = e.code;
		snprintf(h.msg, sizeof(h.msg), "fuse daemon: %s", err_msg(&e));
		goto fail;
	}

	if (send_all(sock, &h, sizeof(h)) < 0)
		_exit(1);
	/* Wait for rt_fuse_mount() to have mounted: reading /dev/fuse before
	 * the mount exists fails with EPERM. EOF means it gave up. */
	char go;
	if (recv_all(sock, &go, 1) < 0)
		_exit(1);
	close(sock);

	int rc = fuse_session_loop(se);
	fuse_session_destroy(se);
	_exit(rc == 0 ? 0 : 1);

fail:
	send_all(sock, &h, sizeof(h));
	_exit(1);
}

int rt_fuse_mount(struct rt_blocksrc *src, const char *mountpoint, pid_t *daemon_pid, struct arca_err *e)
{
	_cleanup_(sq_freep) struct sq *s = NULL;
	int rc = rt_sq_open(src, &s, e);
	if (rc < 0)
		return rc;

	_cleanup_close_ int fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fuse_fd < 0)
		return err_setsys(e, -errno, "open /dev/fuse");
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return err_setsys(e, -errno, "socketpair");
	_cleanup_close_ int sock = sp[0];
	pid_t pid = fork();
	if (pid < 0) {
		close(sp[1]);
		return err_setsys(e, -errno, "fork of fuse daemon");
	}
	if (pid == 0) {
		close(sp[0]);
		daemon_main(s, src, fuse_fd, sp[1]);
	}
	close(sp[1]);

	struct hello h;
	if (recv_all(sock, &h, sizeof(h)) < 0) {
		rc = err_set(e, -EIO, "fuse daemon died while starting");
		goto kill;
	}
	if (h.code < 0) {
		h.msg[sizeof(h.msg) - 1] = '\0';
		rc = err_set(e, h.code, "%s", h.msg);
		goto kill;
	}

	char opts[160];
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=%u,group_id=%u,default_permissions,allow_other",
		 fuse_fd, (unsigned)getuid(), (unsigned)getgid());
	if (mount("arca", mountpoint, "fuse", MS_RDONLY | MS_NOSUID | MS_NODEV, opts) < 0) {
		rc = err_setsys(e, -errno, "mount fuse at '%s'", mountpoint);
		goto kill;
	}
	if (send_all(sock, "g", 1) < 0) {
		umount2(mountpoint, MNT_DETACH);
		rc = err_set(e, -EIO, "fuse daemon died while starting");
		goto kill;
	}
	*daemon_pid = pid;
	return 0;

kill:
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return rc;
}

/* Waits up to @ms for @pid to exit (reaping it when it is our child). */
static bool wait_exit(pid_t pid, int ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return errno == ESRCH;
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	close(pfd);
	if (r <= 0)
		return false;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return true;
}

int rt_fuse_unmount(const char *mountpoint, pid_t daemon_pid, struct arca_err *e)
{
	int rc = 0;
	if (mountpoint && umount2(mountpoint, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		rc = err_setsys(e, -errno, "unmount '%s'", mountpoint);
	if (daemon_pid <= 0)
		return rc;
	if (wait_exit(daemon_pid, SQ_UNMOUNT_GRACE_MS))
		return rc;
	/* Still running: another namespace holds the mount. The caller asked
	 * for it to go, so it goes. */
	kill(daemon_pid, SIGTERM);
	if (!wait_exit(daemon_pid, SQ_UNMOUNT_GRACE_MS / 2)) {
		kill(daemon_pid, SIGKILL);
		wait_exit(daemon_pid, -1);
	}
	return rc;
}
