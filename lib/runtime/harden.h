/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/runtime internal: the self-contained pieces the launcher composes.
 *
 *  - struct rt_blocksrc: reads the bytes of the image's SquashFS partition.
 *    A plain file range today; a decrypting source (LUKS2 in user space)
 *    plugs in later through rt_blocksrc_new().
 *  - the FUSE SquashFS server used for unprivileged launches, where the
 *    kernel refuses to mount squashfs inside a user namespace.
 *  - seccomp: arca's default deny-list and OCI seccomp profiles.
 *  - cgroups: memory / cpu / pids limits on cgroup v2, or v1 controllers.
 *
 * Never installed. Same conventions as lib/base: negative errno returns, an
 * optional struct arca_err last, destructors accept NULL.
 */
#ifndef ARCA_RUNTIME_HARDEN_H
#define ARCA_RUNTIME_HARDEN_H

#include <stdint.h>
#include <sys/types.h>

#include "base.h"

/* ------------------------------------------------------------ block source */

struct rt_blocksrc; /* reads bytes of the SquashFS partition; a decrypting source plugs in later */

/*
 * Backend of a block source. read_at() reads exactly @n bytes at @off,
 * relative to the start of the partition; the caller has already checked
 * that [off, off+n) lies within the size given to rt_blocksrc_new(). It
 * returns 0 or a negative errno (-EIO for a short read). It may be called
 * from several threads at once. free() releases @ctx (may be NULL).
 */
struct rt_blocksrc_ops {
	int (*read_at)(void *ctx, uint64_t off, void *p, size_t n);
	void (*free)(void *ctx);
	/* Optional: the file descriptors the backend reads through, so a
	 * forked server can close every other inherited descriptor. Returns
	 * how many it wrote to @fds (at most @max). */
	size_t (*fds)(void *ctx, int *fds, size_t max);
};

/* Wraps a backend. Takes ownership of @ctx even on failure. */
int rt_blocksrc_new(const struct rt_blocksrc_ops *ops, void *ctx, uint64_t size, struct rt_blocksrc **out,
		    struct arca_err *e);

/*
 * The byte range [offset, offset+size) of the file open at @fd. The fd is
 * duplicated (O_CLOEXEC); the caller keeps its own. -EINVAL when the range is
 * empty or lies beyond the end of the file.
 */
int rt_blocksrc_file(int fd, uint64_t offset, uint64_t size, struct rt_blocksrc **out, struct arca_err *e);
void rt_blocksrc_free(struct rt_blocksrc *src);
uint64_t rt_blocksrc_size(const struct rt_blocksrc *src);
/* Bounds-checked read of exactly @n bytes: -EIO when out of range or short. */
int rt_blocksrc_read(struct rt_blocksrc *src, uint64_t off, void *p, size_t n);
/* The descriptors the source needs (see rt_blocksrc_ops.fds). */
size_t rt_blocksrc_fds(const struct rt_blocksrc *src, int *fds, size_t max);
/* The source as a libsquashfs sqfs_file_t: bounds-checked reads, writes
 * and truncation refused. @src is borrowed and must outlive it; release it
 * with sqfs_destroy(). NULL on allocation failure. */
struct sqfs_file_t;
struct sqfs_file_t *rt_blocksrc_sqfs(struct rt_blocksrc *src);

/* ------------------------------------------------------ FUSE squashfs root */

/*
 * Called inside the container's (user+)mount namespace: forks a FUSE daemon
 * serving the squashfs read-only at mountpoint, returns once the mount is
 * live. The daemon exits by itself when the mount goes away (namespace
 * destroyed, connection aborted) or on rt_fuse_unmount.
 *
 * The caller must hold CAP_SYS_ADMIN over its mount namespace (root, or the
 * owner of the user namespace). The squashfs superblock is checked before
 * anything is mounted (-EBADMSG when it is not a usable squashfs). The mount
 * is nosuid,nodev,ro with default_permissions (the kernel enforces the
 * image's modes) and allow_other. The daemon lives in a private copy of the
 * mount namespace without the FUSE mount, so it never keeps the container's
 * namespace alive; it is not dumpable, in its own session, and before it
 * serves it drops every capability, sets no_new_privs and confines itself to
 * a seccomp allow-list (read/write its descriptors, memory, exit). Called
 * from a container's pid 1, the daemon lives in that pid namespace and dies
 * with it. Every inherited descriptor but its own is closed in the daemon.
 * *daemon_pid is written only on success; the caller reaps it
 * (rt_fuse_unmount does). @src stays owned by the caller (the daemon holds
 * its own copy).
 */
int rt_fuse_mount(struct rt_blocksrc *src, const char *mountpoint, pid_t *daemon_pid, struct arca_err *e);

/*
 * Opens the squashfs and reads it the way the FUSE server does: every
 * directory, inode, symlink and xattr, and file contents up to @max_bytes in
 * all, visiting at most @max_entries entries. Returns the number of
 * unreadable entries (0 for a sound image), or a negative errno when the
 * image does not open at all. For image checks and fuzzing.
 */
int rt_squashfs_check(struct rt_blocksrc *src, uint64_t max_entries, uint64_t max_bytes, struct arca_err *e);

/* Detaches the mount (if still there) and waits for the daemon to exit,
 * killing it after a grace period. A daemon_pid <= 0 only unmounts. */
int rt_fuse_unmount(const char *mountpoint, pid_t daemon_pid, struct arca_err *e);

/* ----------------------------------------------------------------- seccomp */

/*
 * After no_new_privs, right before execve in the container. NULL = arca's
 * default deny-list; otherwise an OCI runtime-spec `linux.seccomp` object
 * (a JSON file holding either that object or a whole config.json with it at
 * .linux.seccomp). Installs the filter on the calling thread.
 */
int rt_seccomp_apply(const char *oci_json_path, struct arca_err *e);

/* A parsed profile, for callers that want errors before forking. */
struct rt_seccomp;
/* arca's default deny-list. */
int rt_seccomp_default(struct rt_seccomp **out, struct arca_err *e);
/* An allow-list: only @names (unknown ones skipped), everything else fails
 * with @deny_errno; other ABIs kill the process. For arca's own helpers
 * (the FUSE server). */
int rt_seccomp_allowlist(const char *const *names, size_t n, int deny_errno, struct rt_seccomp **out,
			 struct arca_err *e);
/* Parses OCI seccomp JSON text (see rt_seccomp_apply). -EBADMSG on malformed
 * or unknown fields values (actions, operators, architectures, flags),
 * -E2BIG past the named limits, -ENOTSUP for features arca refuses
 * (SCMP_ACT_NOTIFY, listenerPath). */
int rt_seccomp_parse_oci(const char *json, size_t len, struct rt_seccomp **out, struct arca_err *e);
int rt_seccomp_load_file(const char *path, struct rt_seccomp **out, struct arca_err *e);
/* Builds whatever the profile still needs from libseccomp (the filter for
 * the other architectures it lists, or all of it where arca's compiler
 * cannot), without installing anything: its errors, before forking. */
int rt_seccomp_check(const struct rt_seccomp *p, struct arca_err *e);
/* Installs the filter on the calling thread, setting no_new_privs. A
 * profile listing other architectures is two stacked filters; a failure
 * may leave the first installed, so on error the caller must exit rather
 * than run anything. */
int rt_seccomp_install(const struct rt_seccomp *p, struct arca_err *e);
void rt_seccomp_free(struct rt_seccomp *p);

/* ----------------------------------------------------------------- cgroups */

struct rt_limits {
	int64_t memory_bytes;
	double cpus;
	int64_t pids;
}; /* <=0 : unset */

struct rt_cgroup;

/*
 * Creates a cgroup (v2 where usable, else v1 controllers) with the limits and
 * moves pid in; -ENOTSUP with a clear message when impossible. Unprivileged
 * callers need a writable, delegated v2 subtree (systemd user delegation).
 * With no limit set, *out is NULL and nothing is created.
 */
int rt_cgroup_setup(const struct rt_limits *l, pid_t pid, struct rt_cgroup **out, struct arca_err *e);
/* Kills what still runs in the cgroup, removes its directories, frees. */
void rt_cgroup_destroy(struct rt_cgroup *cg);
/* The cgroup's directory (v2) or its first controller directory (v1). */
const char *rt_cgroup_path(const struct rt_cgroup *cg);
/* Reads a control file (say "memory.max", "memory.limit_in_bytes",
 * "memory.events") from whichever of the cgroup's directories has it;
 * -ENOENT when none does. */
int rt_cgroup_read(const struct rt_cgroup *cg, const char *file, struct buf *out);

#endif
