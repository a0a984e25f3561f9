/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/build: turns a root filesystem (a directory or a tar archive, plain,
 * gzip or zstd) into a SIF image whose primary partition is a SquashFS
 * made in-process with libsquashfs and streamed straight into the image
 * file (no temporary copy).
 *
 * What the image holds, as Apptainer/SingularityCE builds it:
 *  - the launch script "#!/usr/bin/env run-singularity\n" in the header
 *  - a Deffile object (datatype 0x4001) when a definition file is given
 *  - a JSON-generic object "inspect-metadata.json" ({"data":{"attributes":
 *    {labels, environment, runscript, deffile}},"type":"container"}), which
 *    `apptainer inspect` reads without mounting the image
 *  - Labels (0x4003, the JSON labels object) and EnvVar (0x4002, the
 *    90-environment.sh text) objects, so arca's own tools find them
 *    without parsing the metadata JSON
 *  - the SquashFS primary system partition (FsSquash/PartPrimSys, arch)
 *    whose root carries /.singularity.d/{labels.json, env/90-environment.sh,
 *    runscript, Singularity, action and env scripts} merged over the source tree.
 *
 * Library code never prints: warnings and progress go through callbacks.
 */
#ifndef ARCA_BUILD_H
#define ARCA_BUILD_H

#include "base.h"

enum build_compress {
	BUILD_COMP_LZ4 = 0, /* the default: fastest to decompress at launch */
	BUILD_COMP_ZSTD,
	BUILD_COMP_GZIP,
	BUILD_COMP_XZ,
	BUILD_COMP_NONE, /* SquashFS with every block and table stored raw */
};
/* "lz4", "zstd", "gzip", "xz", "none" <-> enum; parse returns -EINVAL. */
int build_compress_parse(const char *name, enum build_compress *out);
const char *build_compress_name(enum build_compress c);

/*
 * Why lz4 by default: launch latency is mostly cold decompression of the
 * blocks a workload touches, and lz4 is the cheapest to decompress.
 * Measured on the 239 MiB benchmark tree (bench/build, 128 KiB blocks),
 * user CPU to decompress the whole image with sqfs2tar, best of 3:
 *     lz4 0.07 s   zstd 0.16 s   gzip 0.73 s   xz 4.30 s
 * at image sizes of 186, 142, 151 and 141 MiB. zstd saves a quarter of the
 * bytes for 2-3x the decompression CPU: pick it (--compress zstd) when
 * images travel over slow links more often than they start.
 */
#define BUILD_DEFAULT_COMPRESS BUILD_COMP_LZ4
#define BUILD_DEFAULT_BLOCK_SIZE (128u * 1024u)

/* Named limits for untrusted sources (tar archives above all). */
#define BUILD_MAX_ENTRIES 4000000u      /* entries in a tree */
#define BUILD_MAX_NAME 255u             /* one path component (SquashFS limit) */
#define BUILD_MAX_PATH 4096u            /* a whole path */
#define BUILD_MAX_DEPTH 256u            /* directory nesting */
#define BUILD_MAX_SYMLINK 4095u         /* symlink target */
#define BUILD_MAX_XATTRS 128u           /* per inode */
#define BUILD_MAX_XATTR_VALUE 65536u    /* one value */
#define BUILD_MAX_META_FILE (16u << 20) /* deffile, runscript */
#define BUILD_MAX_KV 4096u              /* --label / --env pairs */

struct build_kv {
	const char *key;
	const char *value;
};

/* Progress of a build, reported at most a few times per second. */
struct build_progress {
	uint64_t entries;    /* tree entries seen so far */
	uint64_t files;      /* regular files written */
	uint64_t bytes_in;   /* file bytes read from the source */
	uint64_t bytes_out;  /* bytes of SquashFS written so far */
	bool done;
};
typedef void (*build_progress_fn)(void *ctx, const struct build_progress *p);
/* A non-fatal event (a skipped device node, an xattr that cannot be kept). */
typedef void (*build_warn_fn)(void *ctx, const char *msg);

struct build_opts {
	const char *source; /* directory or tar archive */
	const char *output; /* SIF path, replaced atomically on success */
	enum build_compress compress;
	uint32_t block_size; /* 0: BUILD_DEFAULT_BLOCK_SIZE; power of two 4 KiB..1 MiB */
	unsigned threads;    /* compressor workers; 0: online CPUs */
	const char *arch;    /* Go name; NULL: the host's */
	const struct build_kv *labels;
	size_t n_labels;
	const struct build_kv *env;
	size_t n_env;
	const char *deffile; /* text of the definition file, or NULL */
	size_t deffile_len;
	const char *runscript; /* text of the runscript, or NULL */
	size_t runscript_len;
	/*
	 * Ownership. privileged: keep owners and device nodes as found (the
	 * caller is root). Otherwise every entry is owned by 0:0 (as the
	 * reference passes -all-root to mksquashfs for unprivileged builds)
	 * and device nodes are skipped with a warning: an unprivileged user
	 * must not be able to mint device nodes into an image.
	 */
	bool privileged;
	/* Nil image ID and zero SIF times; with has_epoch, every SquashFS
	 * time is the epoch (SOURCE_DATE_EPOCH), else the source's. */
	bool deterministic;
	bool has_epoch;
	int64_t epoch;
	build_progress_fn progress;
	void *progress_ctx;
	build_warn_fn warn;
	void *warn_ctx;
};

void build_opts_init(struct build_opts *o);

struct build_result {
	uint64_t entries, files, dirs, symlinks, hardlinks, devices, skipped;
	uint64_t bytes_in;   /* file data read */
	uint64_t sqfs_size;  /* partition size (padded to 4 KiB) */
	uint64_t sqfs_offset; /* partition offset in the image */
};

/*
 * Builds the image described by @o. The output appears only when every step
 * succeeded (the SIF writer's atomic rename); on failure it is untouched.
 * Errors: -EINVAL bad options, -EBADMSG / -E2BIG / -EPERM a refused source
 * (malformed or hostile archive, a limit hit, a path escaping the root),
 * -errno for I/O. @res (may be NULL) is written only on success.
 */
int build_image(const struct build_opts *o, struct build_result *res, struct arca_err *e);

/*
 * Parses a tar archive held in memory exactly as build_image() would
 * (every path and limit check) and discards the file data. For the fuzzer
 * and for tests; *entries (may be NULL) receives the tree's entry count.
 */
int build_tar_check(const void *data, size_t len, uint64_t *entries, struct arca_err *e);

/* The reference's label date format ("Sunday_20_October_2024_19:58:50_UTC"). */
void build_label_date(int64_t t, char *out, size_t cap);

#endif
