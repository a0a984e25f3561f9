/* SPDX-License-Identifier: Apache-2.0 */
/* lib/runtime internal: shared between the launcher's files. Never installed. */
#ifndef ARCA_RUNTIME_INTERNAL_H
#define ARCA_RUNTIME_INTERNAL_H

#include "runtime.h"
#include "sif.h"

#include <limits.h>
#include <sys/types.h>

#include <sqfs/predef.h>

/* Launch phases in the debug log (arca -v), with a monotonic timestamp in
 * microseconds: where start-up time goes. */
void rt_trace(const char *what);

/* --------------------------------------- bounded squashfs metadata (sqinode.c) */

/* Named limits of what an untrusted image's inodes and directories may
 * claim, whoever reads them. */
#define RT_SQFS_MAX_NAME 256                /* squashfs: names are 1..256 bytes */
#define RT_SQFS_MAX_SYMLINK 4095            /* what the kernel accepts from readlink */
#define RT_SQFS_MAX_FILE_BLOCKS (1u << 24)  /* 64 MiB of block list: 2 TiB files at 128 KiB blocks */
#define RT_SQFS_MAX_DIR_ENTRIES (1u << 22)  /* entries walked in one directory */

/*
 * Reads the inode at @ref (metadata block offset << 16 | byte offset, as
 * squashfs directory entries and the superblock store it) through @inodes,
 * a metadata reader over the inode table. Its size fields are checked on
 * the raw bytes before libsquashfs allocates from them. -EBADMSG when the
 * reference lies outside the table or the inode is malformed, -EFBIG when
 * it claims more than RT_SQFS_MAX_FILE_BLOCKS blocks, -ENOMEM. *out is
 * written only on success; the caller frees it with sqfs_free().
 */
int rt_sqfs_inode_read(sqfs_meta_reader_t *inodes, const sqfs_super_t *sb, uint64_t ref, sqfs_inode_generic_t **out,
		       struct arca_err *e);

/* A directory entry with a validated name. */
struct rt_sqfs_dent {
	char name[RT_SQFS_MAX_NAME + 1];
	size_t len;
	uint64_t ref; /* the inode reference */
	uint32_t inum;
	unsigned type; /* SQFS_INODE_* of the basic kind */
};

/*
 * The next entry of a listing begun with sqfs_readdir_state_init(), read
 * through @dirs (a metadata reader over the directory table). 1 at the end;
 * -EBADMSG for a corrupt listing, including names the VFS cannot represent
 * ("", ".", "..", holding '/' or NUL).
 */
int rt_sqfs_dir_next(sqfs_meta_reader_t *dirs, sqfs_readdir_state_t *st, struct rt_sqfs_dent *d);

/* ------------------------- FUSE root: its image side (squashfuse_image.c) */

/* What squashfuse.c's FUSE operations read the image through. Inodes are
 * named by reference (rt_sqfs_inode_read); errors are -EIO for anything
 * corrupt (the request fails, the server goes on), -EFBIG for a file
 * larger than RT_SQFS_MAX_FILE_BLOCKS blocks. */
#define RT_SQ_MAX_READ (8u << 20) /* one FUSE read request */

struct sq;
struct stat;
struct statvfs;
struct rt_blocksrc;

/* Opens every table the server needs; the same checks decide whether
 * rt_fuse_mount() mounts anything at all (-EBADMSG, -ENOTSUP). @src is
 * borrowed and must outlive the result. */
int rt_sq_open(struct rt_blocksrc *src, struct sq **out, struct arca_err *e);
void rt_sq_free(struct sq *s);
uint64_t rt_sq_root(const struct sq *s); /* the root directory's inode reference */
void rt_sq_statfs(const struct sq *s, struct statvfs *sv);
/* The inode at @ref, borrowed from the cache: valid until the next call. */
int rt_sq_inode(struct sq *s, uint64_t ref, const sqfs_inode_generic_t **out);
bool rt_sq_is_dir(const sqfs_inode_generic_t *i);
bool rt_sq_is_file(const sqfs_inode_generic_t *i);
bool rt_sq_is_link(const sqfs_inode_generic_t *i);
/* S_IF* of a squashfs inode type, 0 when unknown. */
mode_t rt_sq_type_bits(unsigned type);
int rt_sq_stat(struct sq *s, const sqfs_inode_generic_t *i, struct stat *st);
/* Up to @size bytes (at most RT_SQ_MAX_READ) of the file at @ref from @off,
 * in a buffer of @s valid until the next call; 0 bytes at the end. */
int rt_sq_read(struct sq *s, uint64_t ref, uint64_t off, size_t size, const uint8_t **out, size_t *outlen);
/* Starts a listing of the directory at @ref (-ENOTDIR), with its parent's
 * inode number when @parent_inum is not NULL. */
int rt_sq_dir_open(struct sq *s, uint64_t ref, sqfs_readdir_state_t *st, uint32_t *parent_inum);
int rt_sq_dir_next(struct sq *s, sqfs_readdir_state_t *st, struct rt_sqfs_dent *d);
/* The target of a symlink inode: 1..RT_SQFS_MAX_SYMLINK bytes, no NUL. */
int rt_sq_readlink(const sqfs_inode_generic_t *i, char target[RT_SQFS_MAX_SYMLINK + 1]);
/* With @name, that xattr's value into @out (-ENODATA absent); without,
 * every "name\0" appended to @out. */
int rt_sq_xattrs(struct sq *s, uint64_t ref, const char *name, struct buf *out);

/* ------------------------------------------------- squashfs (image.c) */

/* Named limits for reading metadata files out of an untrusted image. */
#define RT_SQFS_MAX_FILE (4u << 20)
#define RT_SQFS_MAX_SYMLINKS 16
#define RT_SQFS_MAX_DIRENTS 4096
#define RT_SQFS_MAX_FRAGMENTS (1u << 20) /* a 16 MiB fragment table */

struct rt_sqfs;
/* A read-only view of a SquashFS image held in memory (borrowed; it must
 * outlive the view). -EBADMSG when it is not a readable squashfs. */
int rt_sqfs_open(const uint8_t *data, uint64_t size, struct rt_sqfs **out, struct arca_err *e);
void rt_sqfs_close(struct rt_sqfs *fs);
/* Appends the regular file at absolute @path (symlinks followed inside the
 * image) to @out. -ENOENT absent, -EISDIR not a regular file, -E2BIG over @max. */
int rt_sqfs_read_file(struct rt_sqfs *fs, const char *path, size_t max, struct buf *out, struct arca_err *e);
/* The sorted names in the directory at @path (a NULL-terminated array the
 * caller frees with rt_strv_free). -ENOENT absent. */
int rt_sqfs_list_dir(struct rt_sqfs *fs, const char *path, char ***names, size_t *n, struct arca_err *e);

void rt_strv_free(char **v);

/* The primary squashfs partition of an open image, checked for launch:
 * -ENOENT none, -ENOTSUP encrypted or not squashfs, -ENOEXEC other arch. */
int rt_image_partition(const struct sif_image *img, const struct sif_descr **out, struct arca_err *e);

/* ------------------------------------------------------- seccomp (seccomp.c) */

struct rt_seccomp;
struct sock_filter;
/* Who compiles the program rt_seccomp_bpf returns. */
enum rt_seccomp_compiler {
	RT_SECCOMP_ARCA,              /* arca's compiler: the program installed for the native ABI */
	RT_SECCOMP_LIBSECCOMP,        /* libseccomp, the whole profile (the fallback) */
	RT_SECCOMP_LIBSECCOMP_OTHERS, /* libseccomp, the listed other ABIs: stacked on arca's */
};
/* The BPF program of @p as @by compiles it; -ENOTSUP when arca's compiler
 * cannot. For tests; *out is the caller's to free. */
int rt_seccomp_bpf(const struct rt_seccomp *p, enum rt_seccomp_compiler by, struct sock_filter **out, size_t *n,
		   struct arca_err *e);

/* ------------------------------------------------------ environment (env.c) */

/* A growable NULL-terminated list of "K=V" strings, keyed by K. */
struct rt_env {
	char **v;
	size_t n, cap;
	bool oom;
};
void rt_env_release(struct rt_env *env);
/* Sets (replaces) K; @kv is "K=V". Copies. */
void rt_env_put(struct rt_env *env, const char *kv);
void rt_env_set(struct rt_env *env, const char *key, const char *val);
const char *rt_env_get(const struct rt_env *env, const char *key);
bool rt_env_key_ok(const char *kv, size_t keylen);

/*
 * The container's environment before the image's env scripts run, as
 * Apptainer builds it: the host's variables (all but HOME, PATH,
 * LD_LIBRARY_PATH and the APPTAINER/SINGULARITY controls; only TERM and
 * proxies with cleanenv), the default PATH, HOME, the
 * image's environment descriptor, APPTAINER_* identification. @overrides
 * receives what must win over the image's env scripts: the APPTAINERENV_ /
 * SINGULARITYENV_ host variables and the --env values.
 */
int rt_env_build(const struct rt_opts *o, const struct sif_image *img, const char *home, struct rt_env *env,
		 struct rt_env *overrides, struct arca_err *e);

/* Appends @s to @b quoted for a POSIX shell ('...'). */
void rt_shell_quote(struct buf *b, const char *s);

/* ----------------------------------------------------------- mounts (mounts.c) */

/* Where the container's tree is assembled inside the private mount
 * namespace before pivot_root (shadowing it there hides nothing: host paths
 * stay reachable through /oldroot during set-up). */
#define RT_STAGE "/tmp"

struct rt_mnt {
	const struct rt_opts *o;
	bool loop;   /* kernel loop device (root), else FUSE */
	bool userns; /* inside a new user namespace */
	bool netns;  /* inside a new network namespace */
	int sif_fd;
	uint64_t part_off, part_size;
	const char *kept; /* the image's kept mount in the host tree (rt_keep_acquire), or NULL */
	dev_t kept_dev;
	const char *home; /* the user's home: host path and container path */
	bool home_on_host; /* it exists on the host (else only --contain makes one) */
	const char *cwd;  /* host working directory, or NULL */
	const bool *bind_dir; /* per bind: the source is a directory (stat'ed on the host) */
	const char *console;     /* host path of the caller's terminal, or NULL */
	const char *passwd_line; /* the user's /etc/passwd entry to add, or NULL */
	const char *group_line;  /* the group's /etc/group entry to add, or NULL */
	unsigned uid, gid;       /* the ids inside */
	/* results */
	pid_t fuse_pid;
	bool cwd_in_image; /* the image itself has cwd (then it is not bound) */
	bool cwd_visible;  /* cwd exists in the container */
	bool home_visible; /* home exists in the container */
};

/*
 * Runs in the container's fresh mount namespace (as root or as the owner
 * of its user namespace): mounts the image, assembles the tree and
 * pivot_roots into it. On return the calling process's root is the
 * container's, read-only unless writable_tmpfs, and no host path is
 * reachable except through the binds.
 */
int rt_mount_container(struct rt_mnt *m, struct arca_err *e);

/*
 * A read-only autoclear loop device over [off, off+size) of @sif_fd: its
 * path in @path and an open fd in *out_fd (the device is detached once
 * that fd and every mount of it are gone).
 */
int rt_loop_attach(int sif_fd, uint64_t off, uint64_t size, char path[32], int *out_fd, struct arca_err *e);

/* ------------------------------------------------------ kept mounts (keep.c) */

struct rt_kept_mount {
	int lock_fd; /* shared lock: the mount stays while it is held */
	dev_t dev;   /* the mount's device */
	char path[PATH_MAX];
};

/*
 * Finds or makes the kept mount of @sif_fd's partition [off, off+size)
 * (root only) and renews its expiry to now + @seconds. On success the
 * caller holds it (k->lock_fd) until rt_keep_release.
 */
int rt_keep_acquire(int sif_fd, uint64_t off, uint64_t size, const char *image, unsigned seconds,
		    struct rt_kept_mount *k, struct arca_err *e);
void rt_keep_release(struct rt_kept_mount *k);
/* What every root launch does: unmounts the expired kept mounts no
 * container holds (rt_kept_drop without its search for orphans). */
int rt_keep_expire(unsigned *dropped, struct arca_err *e);

#endif
