/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/runtime: runs a workload from a SIF image in a hardened container.
 *
 * One launch (rt_launch):
 *  - the image is opened once; the signer gate (the execution control list)
 *    and then the caller's launch gate (arca's policy decision) decide on
 *    that open file before anything of it is mounted;
 *  - the primary SquashFS partition is mounted read-only: a kernel loop device
 *    when running as root, a FUSE server inside a user namespace otherwise;
 *  - new mount, pid, ipc and uts namespaces (and user, and net with
 *    RT_NET_NONE); pivot_root into the image with /proc, a minimal /dev,
 *    tmpfs /tmp, the user's home and working directory, and binds;
 *  - the workload runs as the calling user (or as root inside a user
 *    namespace with fakeroot), with no_new_privs, no capabilities, seccomp
 *    and optional cgroup limits;
 *  - PID 1 inside is arca's own init: it reaps zombies, forwards signals
 *    and hands the workload's status back.
 *
 * Nothing outlives the launch: mounts exist only in the container's private
 * mount namespace, the loop device is autoclear, and every process arca
 * starts dies with it (PR_SET_PDEATHSIG, pid namespace teardown). The one
 * exception is asked for: keep_mounted leaves the image's squashfs mounted
 * under RT_KEEP_DIR until it expires (no process stays with it).
 */
#ifndef ARCA_RUNTIME_H
#define ARCA_RUNTIME_H

#include "base.h"

struct sif_image;

enum rt_action { RT_ACTION_RUN, RT_ACTION_EXEC, RT_ACTION_SHELL };
enum rt_net { RT_NET_HOST, RT_NET_NONE };

struct rt_bind {
	char *src; /* host path */
	char *dst; /* path in the container */
	bool ro;
};

/* Named limits on what one launch accepts. */
#define RT_MAX_BINDS 256
#define RT_MAX_ENV 4096
#define RT_MAX_ARGS 65536

struct rt_opts {
	const char *image;
	enum rt_action action;
	/* exec: the command and its arguments (argc >= 1); run and shell: the
	 * arguments passed on to the runscript or shell. */
	char *const *argv;
	size_t argc;

	enum rt_net net;
	bool fakeroot;       /* root inside a user namespace, keeps its capabilities there */
	bool userns;         /* a user namespace (and FUSE root) even when running as root */
	bool contain;        /* no home/cwd binds: an empty home */
	bool containall;     /* contain, and a clean environment */
	bool no_home;        /* no home at all (nor its bind) */
	bool cleanenv;       /* only TERM and proxy variables pass from the host */
	bool writable_tmpfs; /* root writable through an overlay with a tmpfs upper */
	const char *pwd;     /* working directory inside; NULL: cwd when bound, else home */
	const char *hostname;
	const char *shell;   /* shell action: NULL picks $SHELL when in the image, else /bin/sh */
	const char *const *env; /* K=V, applied last (override the image's) */
	size_t n_env;
	const struct rt_bind *binds;
	size_t n_binds;
	const char *seccomp_profile; /* OCI seccomp JSON; NULL: arca's default deny-list */
	const char *ecl_config;      /* NULL: the system execution control list */
	/*
	 * The launch gate: called once the image is open and has passed the
	 * signer gate, before anything of it is mounted, with the very image
	 * that will be mounted (the same open file: the decision cannot be
	 * about another file than the one that runs, whatever happens to the
	 * path meanwhile). A negative return refuses the launch with that code
	 * and @e (-EPERM for a refusal). NULL: no gate.
	 */
	int (*gate)(void *ctx, const char *image, const struct sif_image *img, struct arca_err *e);
	void *gate_ctx;

	/*
	 * Seconds the image's squashfs stays mounted after the launch, for the
	 * next launch of the same image to find it warm (root, loop path only;
	 * see rt_kept_list). 0: unmounted with the container, the default.
	 */
	unsigned keep_mounted;

	int64_t memory_bytes; /* <= 0: no limit */
	double cpus;
	int64_t pids;
};

struct rt_result {
	int status;       /* the workload's exit status, 128+N when killed by signal N */
	bool exec_failed; /* the command could not be started (status 126/127; e says why) */
};

/*
 * Launches the container and waits for the workload. Returns 0 once the
 * workload ran (or failed to execute: res->exec_failed) with its status in
 * @res; a negative errno when the launch was refused or set-up failed before
 * the workload started (-EPERM signer gate or o->gate, -ENOTSUP unusable limits or
 * features, -ENOENT missing partition or runscript). Forwards SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the workload meanwhile.
 * Must be called from a single-threaded process.
 */
int rt_launch(const struct rt_opts *o, struct rt_result *res, struct arca_err *e) _wur_;

/*
 * Parses Apptainer's bind list "src[:dst[:ro|rw]][,src2...]" and appends
 * the entries to *binds (realloc'd; *n updated). Relative sources are made
 * absolute against the current directory. -EINVAL on a malformed entry,
 * -E2BIG past RT_MAX_BINDS.
 */
int rt_bind_parse(const char *spec, struct rt_bind **binds, size_t *n, struct arca_err *e);
void rt_binds_free(struct rt_bind *binds, size_t n);

/*
 * Parses a memory size: bytes, or a number with a k/m/g/t suffix (binary
 * units, optional trailing "b"). -EINVAL otherwise.
 */
int rt_parse_size(const char *s, int64_t *out);

/* --------------------------------------------------- kept image mounts */

/* Where kept mounts live (root's, 0700; $ARCA_MOUNTS_DIR overrides it). */
#define RT_KEEP_DIR "/run/arca/mounts"
#define RT_KEEP_MAX_SECONDS (7u * 24 * 3600)

struct rt_kept {
	char *image;     /* the path it was first mounted for */
	char *path;      /* the mount point */
	int64_t expires; /* seconds since the epoch */
	bool in_use;     /* a running container holds it */
	bool mounted;
};

/* Lists the kept mounts (none when the directory does not exist). */
int rt_kept_list(struct rt_kept **out, size_t *n, struct arca_err *e) _wur_;
void rt_kept_free(struct rt_kept *v, size_t n);

/*
 * Unmounts the kept mounts that have expired (@all: every one) and no
 * running container holds; counts those dropped and those left in use.
 * A mount point whose lock file was deleted by hand counts as expired
 * (rt_kept_list shows it too). Root launches drop the expired ones on
 * their own.
 */
int rt_kept_drop(bool all, unsigned *dropped, unsigned *busy, struct arca_err *e) _wur_;

/* ------------------------------------------------------------- inspect */

enum {
	RT_INSPECT_LABELS = 1u << 0,
	RT_INSPECT_DEFFILE = 1u << 1,
	RT_INSPECT_RUNSCRIPT = 1u << 2,
	RT_INSPECT_ENVIRONMENT = 1u << 3,
	RT_INSPECT_TEST = 1u << 4,
};

/*
 * Reads an image's metadata without mounting it: an object with the keys
 * asked for in @what: "labels" (object: the image's JSON labels
 * descriptor merged with /.singularity.d/labels.json), "deffile" (the
 * definition file descriptor or /.singularity.d/Singularity), "runscript",
 * "environment" (the environment descriptor, else the env/9x-environment.sh
 * scripts), "test". Missing items are empty strings / an empty object.
 */
int rt_inspect(const char *image, unsigned what, struct val **out, struct arca_err *e) _wur_;

#endif
