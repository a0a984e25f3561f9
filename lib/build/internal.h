/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/build internals: the in-memory tree every source is read into, the
 * data sink that file contents stream through (the SquashFS block
 * processor, or nothing for checks), and the source readers.
 */
#ifndef ARCA_BUILD_INTERNAL_H
#define ARCA_BUILD_INTERNAL_H

#include "build.h"

#include <sys/stat.h>

#include <sqfs/inode.h>

struct bxattr {
	char *key;
	uint8_t *value;
	size_t len;
};

/* Where a node came from; decides what wins when two entries share a path. */
enum bnode_origin {
	ORIGIN_SOURCE = 0,
	ORIGIN_GEN_DEFAULT, /* generated unless the source has its own */
	ORIGIN_GEN_FORCE,   /* generated from the build options; the source's is dropped */
};

/*
 * One name in the tree. A hard link is a node whose `link` points at the
 * primary node that owns the inode; the primary counts its names in nlink.
 * Nodes never move once allocated: the block processor keeps &inode and
 * updates the file inode until sqfs_block_processor_finish().
 */
struct bnode {
	char *name; /* "" for the root */
	size_t name_len;
	struct bnode *parent;
	struct bnode **kids;
	size_t nkids, capkids;
	struct bnode *hnext; /* hash chain (parent, name) */

	uint32_t mode; /* type and permission bits */
	uint32_t uid, gid;
	uint32_t mtime;
	uint64_t rdev;
	char *target; /* symlink target */
	struct bxattr *xattrs;
	size_t nxattrs;
	struct bnode *link; /* hard link: the primary */
	uint32_t nlink;     /* on a primary: its names */
	uint8_t origin;
	bool detached;

	/* SquashFS state */
	sqfs_inode_generic_t *inode; /* regular files: kept by the block processor */
	uint32_t ino;
	uint64_t ref;
	bool written;
	struct bnode *gnext; /* graveyard / all-nodes list */
};

struct btree {
	struct bnode *root;
	uint64_t count;
	struct bnode **ht;
	size_t htcap, htn;
	struct bnode *all; /* every allocated node, for release */
	/* policy */
	bool privileged;
	bool has_epoch;
	uint32_t epoch;
	uint32_t gen_time; /* times of generated entries */
	bool has_skip;     /* the image being written, when it lies inside the source */
	dev_t skip_dev;
	ino_t skip_ino;
	build_warn_fn warn;
	void *warn_ctx;
	uint64_t warned_devices, warned_xattrs;
	struct build_result res;
};

void tree_init(struct btree *t);
void tree_release(struct btree *t);
/* Allocates the root directory (0755, 0:0). */
int tree_make_root(struct btree *t, struct arca_err *e);
struct bnode *tree_child(const struct btree *t, const struct bnode *dir, const char *name, size_t len);
/* Adds a new child (which must not exist). */
int tree_add_child(struct btree *t, struct bnode *dir, const char *name, size_t len, struct bnode **out,
		   struct arca_err *e);
/* Unlinks @n from its parent (and the hash); it stays allocated until
 * tree_release because the block processor may still update its inode. */
void tree_detach(struct btree *t, struct bnode *n);
/*
 * Resolves a relative slash-separated @path (untrusted): empty and "."
 * components are skipped, ".." and absolute paths are refused (-EPERM),
 * component and path lengths are bounded. Missing parent directories are
 * created (0755) when @create. *leaf is NULL when the path names the root.
 */
int tree_walk(struct btree *t, const char *path, bool create, struct bnode **parent, const char **leaf,
	      size_t *leaf_len, struct arca_err *e);
/* The primary of a (possibly hard-linked) node. */
static inline struct bnode *bnode_primary(struct bnode *n) { return n->link ? n->link : n; }
int bnode_add_xattr(struct bnode *n, const char *key, const void *val, size_t len);
/* Applies the ownership and time policy to fresh metadata. */
void tree_apply_policy(const struct btree *t, struct bnode *n, uint32_t uid, uint32_t gid, int64_t mtime);
void tree_warn(struct btree *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether an xattr name can be stored in SquashFS (user., trusted., security.). */
bool xattr_name_ok(const char *key);

/* File contents stream through a sink. */
struct bsink {
	int (*begin)(struct bsink *s, struct bnode *n, struct arca_err *e);
	int (*append)(struct bsink *s, const void *p, size_t len, struct arca_err *e);
	int (*end)(struct bsink *s, struct arca_err *e);
};

/* Sources. Each adds entries under the tree's root and streams file data. */
int source_dir_read(struct btree *t, struct bsink *sink, const char *dir, struct arca_err *e);
int source_tar_read_fd(struct btree *t, struct bsink *sink, int fd, struct arca_err *e);
int source_tar_read_mem(struct btree *t, struct bsink *sink, const void *p, size_t len, struct arca_err *e);
/* Replaces or merges a source entry that collides with an existing node.
 * Returns 1 when the caller should skip the source entry, 0 to go on (the
 * old node was detached, or *existing is a directory to update). */
int tree_resolve_collision(struct btree *t, struct bnode *existing, uint32_t new_mode, const char *path,
			   struct arca_err *e);

/* The SquashFS writer (sqfs.c). */
struct sqw;
struct sqw_opts {
	int fd;
	uint64_t base;
	enum build_compress compress;
	uint32_t block_size;
	unsigned threads;
	uint32_t mtime;
	build_progress_fn progress;
	void *progress_ctx;
	struct btree *tree;
};
int sqw_open(const struct sqw_opts *o, struct sqw **out, struct arca_err *e);
struct bsink *sqw_sink(struct sqw *w);
/* Finishes data, writes inodes/directories/tables and the super block;
 * *size receives the image size padded to 4 KiB. */
int sqw_finish(struct sqw *w, uint64_t *size, struct arca_err *e);
void sqw_free(struct sqw *w);

/* Generated /.singularity.d content (meta.c). */
struct meta {
	struct buf labels_json;   /* labels.json, pretty */
	struct buf env_sh;        /* 90-environment.sh */
	struct buf runscript;
	struct buf deffile;
	struct buf inspect_json;  /* inspect-metadata.json */
	bool has_deffile, has_runscript, has_env;
};
int meta_prepare(const struct build_opts *o, const char *arch, int64_t now, struct meta *m, struct arca_err *e);
void meta_release(struct meta *m);
/* Adds the /.singularity.d tree and root links to @t through @sink. */
int meta_add_tree(struct btree *t, struct bsink *sink, const struct meta *m, struct arca_err *e);

#endif
