/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SquashFS writer on libsquashfs. The image is written in place at an
 * offset of the SIF file (an sqfs_file_t over the fd with a base offset),
 * so the partition never exists as a separate file.
 *
 * Order on disk, as the kernel expects: super block, compressor options,
 * data and fragment blocks (block processor, worker threads), inode table,
 * directory table, fragment table, export table, ID table, xattr tables;
 * padded to 4 KiB so the partition can be loop-mounted on its own.
 */
#include "internal.h"

#include <inttypes.h>

#include <sys/sysmacros.h>
#include <time.h>

#include <sqfs/block_processor.h>
#include <sqfs/block_writer.h>
#include <sqfs/compressor.h>
#include <sqfs/dir_writer.h>
#include <sqfs/error.h>
#include <sqfs/frag_table.h>
#include <sqfs/id_table.h>
#include <sqfs/io.h>
#include <sqfs/meta_writer.h>
#include <sqfs/super.h>
#include <sqfs/xattr_writer.h>

#define SQW_PAD 4096u
#define SQW_BACKLOG_BYTES (128u << 20)

/* ------------------------------------------------------------ file */

struct sqw_file {
	sqfs_file_t f; /* first: libsquashfs passes &f back to us */
	int fd;
	uint64_t base;
	uint64_t size;
};

static void sqw_file_destroy(sqfs_object_t *o)
{
	(void)o; /* embedded in struct sqw, freed with it */
}

static int sqw_file_read_at(sqfs_file_t *f, sqfs_u64 off, void *p, size_t n)
{
	struct sqw_file *sf = (struct sqw_file *)f;
	if (!range_ok(off, n, sf->size))
		return SQFS_ERROR_OUT_OF_BOUNDS;
	return fd_pread_full(sf->fd, p, n, sf->base + off) < 0 ? SQFS_ERROR_IO : 0;
}

static int sqw_file_write_at(sqfs_file_t *f, sqfs_u64 off, const void *p, size_t n)
{
	struct sqw_file *sf = (struct sqw_file *)f;
	uint64_t end;
	if (!ck_add64(off, n, &end) || !ck_add64(sf->base, end, &(uint64_t){ 0 }))
		return SQFS_ERROR_OVERFLOW;
	if (fd_pwrite_full(sf->fd, p, n, sf->base + off) < 0)
		return SQFS_ERROR_IO;
	/* Relaxed atomics: the progress reporter reads the size from the
	 * main thread while libsquashfs may write from a worker. */
	if (end > sf->size)
		__atomic_store_n(&sf->size, end, __ATOMIC_RELAXED);
	return 0;
}

static sqfs_u64 sqw_file_get_size(const sqfs_file_t *f)
{
	return ((const struct sqw_file *)f)->size;
}

static int sqw_file_truncate(sqfs_file_t *f, sqfs_u64 size)
{
	/* The block writer drops a just-written duplicate block this way. The
	 * partition is the last object of the image, so nothing lies beyond. */
	struct sqw_file *sf = (struct sqw_file *)f;
	uint64_t end;
	if (!ck_add64(sf->base, size, &end) || end > INT64_MAX)
		return SQFS_ERROR_OVERFLOW;
	if (ftruncate(sf->fd, (off_t)end) < 0)
		return SQFS_ERROR_IO;
	__atomic_store_n(&sf->size, size, __ATOMIC_RELAXED);
	return 0;
}

/* ------------------------------------------------------------ "none" */

/* A compressor that never compresses: do_block returning 0 tells
 * libsquashfs the block did not shrink, so it is stored raw — data,
 * fragments and metadata alike. The super block names gzip because the
 * format has no "none" ID; a reader never needs to inflate anything. */
struct none_cmp {
	sqfs_compressor_t c;
	uint32_t block_size;
};

static void none_destroy(sqfs_object_t *o) { free(o); }
static sqfs_object_t *none_copy(const sqfs_object_t *o)
{
	struct none_cmp *n = malloc(sizeof(*n));
	if (n)
		memcpy(n, o, sizeof(*n));
	return (sqfs_object_t *)n;
}
static void none_get_config(const sqfs_compressor_t *c, sqfs_compressor_config_t *cfg)
{
	const struct none_cmp *n = (const struct none_cmp *)c;
	sqfs_compressor_config_init(cfg, SQFS_COMP_GZIP, n->block_size, 0);
}
static int none_options(sqfs_compressor_t *c, sqfs_file_t *f)
{
	(void)c;
	(void)f;
	return 0;
}
static sqfs_s32 none_do_block(sqfs_compressor_t *c, const sqfs_u8 *in, sqfs_u32 size, sqfs_u8 *out, sqfs_u32 outsize)
{
	(void)c;
	(void)in;
	(void)size;
	(void)out;
	(void)outsize;
	return 0;
}

static sqfs_compressor_t *none_new(uint32_t block_size)
{
	struct none_cmp *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->c.base.destroy = none_destroy;
	n->c.base.copy = none_copy;
	n->c.get_configuration = none_get_config;
	n->c.write_options = none_options;
	n->c.read_options = none_options;
	n->c.do_block = none_do_block;
	n->block_size = block_size;
	return &n->c;
}

/* ------------------------------------------------------------ wrapper */

/* libsquashfs 1.2's lz4 backend keeps a "compressed" result even when it
 * is larger than the input (a 4-byte ID table block becomes 5 bytes).
 * The kernel copes; squashfs-tools' unsquashfs refuses such an image. The
 * format's rule is to store a block raw when compression does not shrink
 * it, so every backend is wrapped to enforce that. */
struct wrap_cmp {
	sqfs_compressor_t c;
	sqfs_compressor_t *inner;
};

static void wrap_destroy(sqfs_object_t *o)
{
	struct wrap_cmp *w = (struct wrap_cmp *)o;
	sqfs_destroy(w->inner);
	free(w);
}
static sqfs_compressor_t *wrap_new(sqfs_compressor_t *inner);
static sqfs_object_t *wrap_copy(const sqfs_object_t *o)
{
	const struct wrap_cmp *w = (const struct wrap_cmp *)o;
	sqfs_compressor_t *in = sqfs_copy(w->inner);
	if (!in)
		return NULL;
	sqfs_compressor_t *c = wrap_new(in);
	if (!c)
		sqfs_destroy(in);
	return (sqfs_object_t *)c;
}
static void wrap_get_config(const sqfs_compressor_t *c, sqfs_compressor_config_t *cfg)
{
	const struct wrap_cmp *w = (const struct wrap_cmp *)c;
	w->inner->get_configuration(w->inner, cfg);
}
static int wrap_write_options(sqfs_compressor_t *c, sqfs_file_t *f)
{
	struct wrap_cmp *w = (struct wrap_cmp *)c;
	return w->inner->write_options(w->inner, f);
}
static int wrap_read_options(sqfs_compressor_t *c, sqfs_file_t *f)
{
	struct wrap_cmp *w = (struct wrap_cmp *)c;
	return w->inner->read_options(w->inner, f);
}
static sqfs_s32 wrap_do_block(sqfs_compressor_t *c, const sqfs_u8 *in, sqfs_u32 size, sqfs_u8 *out, sqfs_u32 outsize)
{
	struct wrap_cmp *w = (struct wrap_cmp *)c;
	sqfs_s32 r = w->inner->do_block(w->inner, in, size, out, outsize);
	return r > 0 && (sqfs_u32)r >= size ? 0 : r;
}

static sqfs_compressor_t *wrap_new(sqfs_compressor_t *inner)
{
	struct wrap_cmp *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->c.base.destroy = wrap_destroy;
	w->c.base.copy = wrap_copy;
	w->c.get_configuration = wrap_get_config;
	w->c.write_options = wrap_write_options;
	w->c.read_options = wrap_read_options;
	w->c.do_block = wrap_do_block;
	w->inner = inner;
	return &w->c;
}

/* ------------------------------------------------------------ writer */

struct sqw {
	struct bsink sink;
	struct sqw_file file;
	struct btree *tree;
	enum build_compress comp;
	sqfs_compressor_t *cmp, *uncmp;
	sqfs_block_writer_t *bw;
	sqfs_frag_table_t *ft;
	sqfs_block_processor_t *proc;
	sqfs_id_table_t *idt;
	sqfs_xattr_writer_t *xw;
	sqfs_meta_writer_t *im, *dm;
	sqfs_dir_writer_t *dw;
	sqfs_super_t super;
	uint32_t inode_count;
	build_progress_fn progress;
	void *progress_ctx;
	struct timespec last_progress;
	uint64_t appends;
};

static int sqfs_err(struct arca_err *e, int rc, const char *what)
{
	int code = rc == SQFS_ERROR_ALLOC ? -ENOMEM : rc == SQFS_ERROR_OVERFLOW ? -E2BIG : -EIO;
	return err_set(e, code, "squashfs: %s failed (libsquashfs error %d)", what, rc);
}

static SQFS_COMPRESSOR comp_id(enum build_compress c)
{
	switch (c) {
	case BUILD_COMP_ZSTD:
		return SQFS_COMP_ZSTD;
	case BUILD_COMP_GZIP:
		return SQFS_COMP_GZIP;
	case BUILD_COMP_XZ:
		return SQFS_COMP_XZ;
	case BUILD_COMP_LZ4:
		return SQFS_COMP_LZ4;
	case BUILD_COMP_NONE:
		break;
	}
	return SQFS_COMP_GZIP;
}

static void report(struct sqw *w, bool force, bool done)
{
	if (!w->progress)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)(now.tv_sec - w->last_progress.tv_sec) * 1000 +
		     (now.tv_nsec - w->last_progress.tv_nsec) / 1000000;
	if (!force && ms < 250)
		return;
	w->last_progress = now;
	struct build_progress p = {
		.entries = w->tree->count,
		.files = w->tree->res.files,
		.bytes_in = w->tree->res.bytes_in,
		.bytes_out = __atomic_load_n(&w->file.size, __ATOMIC_RELAXED),
		.done = done,
	};
	w->progress(w->progress_ctx, &p);
}

static int sink_begin(struct bsink *s, struct bnode *n, struct arca_err *e)
{
	struct sqw *w = (struct sqw *)s;
	int rc = sqfs_block_processor_begin_file(w->proc, &n->inode, NULL, 0);
	if (rc)
		return sqfs_err(e, rc, "starting a file");
	w->tree->res.files++;
	return 0;
}

static int sink_append(struct bsink *s, const void *p, size_t len, struct arca_err *e)
{
	struct sqw *w = (struct sqw *)s;
	int rc = sqfs_block_processor_append(w->proc, p, len);
	if (rc)
		return sqfs_err(e, rc, "writing file data");
	w->tree->res.bytes_in += len;
	if ((++w->appends & 15) == 0)
		report(w, false, false);
	return 0;
}

static int sink_end(struct bsink *s, struct arca_err *e)
{
	struct sqw *w = (struct sqw *)s;
	int rc = sqfs_block_processor_end_file(w->proc);
	if (rc)
		return sqfs_err(e, rc, "finishing a file");
	return 0;
}

struct bsink *sqw_sink(struct sqw *w) { return &w->sink; }

void sqw_free(struct sqw *w)
{
	if (!w)
		return;
	/* The processor first: its workers use the compressor and writer. */
	sqfs_destroy(w->proc);
	sqfs_destroy(w->dw);
	sqfs_destroy(w->im);
	sqfs_destroy(w->dm);
	sqfs_destroy(w->bw);
	sqfs_destroy(w->ft);
	sqfs_destroy(w->idt);
	sqfs_destroy(w->xw);
	sqfs_destroy(w->cmp);
	sqfs_destroy(w->uncmp);
	free(w);
}

int sqw_open(const struct sqw_opts *o, struct sqw **out, struct arca_err *e)
{
	uint32_t bs = o->block_size;
	if (bs < 4096 || bs > (1u << 20) || (bs & (bs - 1)))
		return err_set(e, -EINVAL, "block size %" PRIu32 " is not a power of two from 4 KiB to 1 MiB", bs);
	struct sqw *w = calloc(1, sizeof(*w));
	if (!w)
		return err_set(e, -ENOMEM, "out of memory");
	w->sink = (struct bsink){ sink_begin, sink_append, sink_end };
	w->file.f.base.destroy = sqw_file_destroy;
	w->file.f.read_at = sqw_file_read_at;
	w->file.f.write_at = sqw_file_write_at;
	w->file.f.get_size = sqw_file_get_size;
	w->file.f.truncate = sqw_file_truncate;
	w->file.fd = o->fd;
	w->file.base = o->base;
	w->tree = o->tree;
	w->comp = o->compress;
	w->progress = o->progress;
	w->progress_ctx = o->progress_ctx;
	clock_gettime(CLOCK_MONOTONIC, &w->last_progress);

	int rc;
	sqfs_compressor_config_t cfg, ucfg;
	SQFS_COMPRESSOR id = comp_id(o->compress);
	if (o->compress == BUILD_COMP_NONE) {
		w->cmp = none_new(bs);
		w->uncmp = none_new(bs);
		if (!w->cmp || !w->uncmp) {
			sqw_free(w);
			return err_set(e, -ENOMEM, "out of memory");
		}
	} else {
		/* Library defaults match mksquashfs's (gzip 9, zstd 15, xz 6,
		 * plain lz4), which keeps the benchmark a like-for-like race. */
		rc = sqfs_compressor_config_init(&cfg, id, bs, 0);
		sqfs_compressor_t *raw = NULL;
		if (!rc)
			rc = sqfs_compressor_create(&cfg, &raw);
		if (!rc && !(w->cmp = wrap_new(raw))) {
			sqfs_destroy(raw);
			rc = SQFS_ERROR_ALLOC;
		}
		if (!rc) {
			rc = sqfs_compressor_config_init(&ucfg, id, bs, SQFS_COMP_FLAG_UNCOMPRESS);
			if (!rc)
				rc = sqfs_compressor_create(&ucfg, &w->uncmp);
		}
		if (rc) {
			sqw_free(w);
			return err_set(e, rc == SQFS_ERROR_UNSUPPORTED ? -ENOTSUP : -EINVAL,
				       "compressor '%s' is not available in libsquashfs (error %d)",
				       build_compress_name(o->compress), rc);
		}
	}

	rc = sqfs_super_init(&w->super, bs, o->mtime, id);
	if (rc) {
		sqw_free(w);
		return sqfs_err(e, rc, "super block init");
	}
	if (o->compress == BUILD_COMP_NONE)
		w->super.flags |= SQFS_FLAG_UNCOMPRESSED_INODES | SQFS_FLAG_UNCOMPRESSED_DATA |
				  SQFS_FLAG_UNCOMPRESSED_FRAGMENTS | SQFS_FLAG_UNCOMPRESSED_XATTRS |
				  SQFS_FLAG_UNCOMPRESSED_IDS;
	/* Reserve the super block; it is rewritten with the table offsets. */
	rc = sqfs_super_write(&w->super, &w->file.f);
	if (rc) {
		sqw_free(w);
		return sqfs_err(e, rc, "writing the super block");
	}
	rc = w->cmp->write_options(w->cmp, &w->file.f);
	if (rc < 0) {
		sqw_free(w);
		return sqfs_err(e, rc, "writing compressor options");
	}
	if (rc > 0)
		w->super.flags |= SQFS_FLAG_COMPRESSOR_OPTIONS;

	w->bw = sqfs_block_writer_create(&w->file.f, SQW_PAD, 0);
	w->ft = sqfs_frag_table_create(0);
	w->idt = sqfs_id_table_create(0);
	w->xw = sqfs_xattr_writer_create(0);
	if (!w->bw || !w->ft || !w->idt || !w->xw) {
		sqw_free(w);
		return err_set(e, -ENOMEM, "out of memory");
	}
	unsigned threads = o->threads;
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 1;
	}
	if (threads > 64)
		threads = 64;
	/*
	 * Blocks in flight, bounded by SQW_BACKLOG_BYTES of block buffers.
	 * libsquashfs completes blocks in order and compresses one fragment
	 * block at a time; with a short queue, a tree of small files waits on
	 * each fragment block and runs on one core (measured: 20,000 small
	 * files, gzip, 2 threads: 1.9 s with 24 blocks, 1.0 s with 1024, the
	 * mksquashfs figure being 1.15 s; peak RSS 27 -> 158 MiB on the
	 * 239 MiB benchmark tree, mksquashfs 320 MiB).
	 */
	size_t backlog = SQW_BACKLOG_BYTES / bs;
	if (backlog < (size_t)threads * 8 + 8)
		backlog = (size_t)threads * 8 + 8;
	if (backlog > 4096)
		backlog = 4096;
	sqfs_block_processor_desc_t desc = {
		.size = sizeof(desc),
		.max_block_size = bs,
		.num_workers = threads,
		.max_backlog = (sqfs_u32)backlog,
		.cmp = w->cmp,
		.wr = w->bw,
		.tbl = w->ft,
		.file = &w->file.f,
		.uncmp = w->uncmp,
	};
	rc = sqfs_block_processor_create_ex(&desc, &w->proc);
	if (rc) {
		sqw_free(w);
		return sqfs_err(e, rc, "starting the block processor");
	}
	*out = w;
	return 0;
}

/* ------------------------------------------------------------ inodes */

static int cmp_kids(const void *a, const void *b)
{
	const struct bnode *x = *(const struct bnode *const *)a, *y = *(const struct bnode *const *)b;
	/* SquashFS directories are searched by the kernel in byte order. */
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);
	if (c)
		return c;
	return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

/* Post-order numbering: children before their directory, the root last.
 * Directory inodes need their parent's number, hence a pass of its own. */
static int number_tree(struct sqw *w, struct bnode *dir, unsigned depth, struct arca_err *e)
{
	if (depth > BUILD_MAX_DEPTH + 1)
		return err_set(e, -E2BIG, "tree nests deeper than %u", BUILD_MAX_DEPTH);
	if (dir->nkids > 1)
		qsort(dir->kids, dir->nkids, sizeof(*dir->kids), cmp_kids);
	for (size_t i = 0; i < dir->nkids; i++) {
		struct bnode *k = dir->kids[i];
		if (S_ISDIR(k->mode)) {
			int rc = number_tree(w, k, depth + 1, e);
			if (rc < 0)
				return rc;
		} else {
			struct bnode *p = bnode_primary(k);
			if (!p->ino)
				p->ino = ++w->inode_count;
		}
	}
	dir->ino = ++w->inode_count;
	return 0;
}

static int ids_and_xattrs(struct sqw *w, struct bnode *n, sqfs_inode_generic_t *ino, struct arca_err *e)
{
	sqfs_u16 ui, gi;
	int rc = sqfs_id_table_id_to_index(w->idt, n->uid, &ui);
	if (!rc)
		rc = sqfs_id_table_id_to_index(w->idt, n->gid, &gi);
	if (rc)
		return sqfs_err(e, rc, "recording an owner ID (more than 65536 distinct IDs?)");
	ino->base.mode = (sqfs_u16)n->mode;
	ino->base.uid_idx = ui;
	ino->base.gid_idx = gi;
	ino->base.mod_time = n->mtime;
	ino->base.inode_number = n->ino;
	if (n->nxattrs) {
		sqfs_u32 idx;
		rc = sqfs_xattr_writer_begin(w->xw, 0);
		for (size_t i = 0; !rc && i < n->nxattrs; i++)
			rc = sqfs_xattr_writer_add(w->xw, n->xattrs[i].key, n->xattrs[i].value, n->xattrs[i].len);
		if (!rc)
			rc = sqfs_xattr_writer_end(w->xw, &idx);
		if (!rc)
			rc = sqfs_inode_set_xattr_index(ino, idx);
		if (rc)
			return sqfs_err(e, rc, "recording xattrs");
	}
	return 0;
}

static int emit(struct sqw *w, struct bnode *n, sqfs_inode_generic_t *ino, struct arca_err *e)
{
	sqfs_u64 block;
	sqfs_u32 off;
	sqfs_meta_writer_get_position(w->im, &block, &off);
	n->ref = (block << 16) | off;
	int rc = sqfs_meta_writer_write_inode(w->im, ino);
	if (rc)
		return sqfs_err(e, rc, "writing an inode");
	n->written = true;
	return 0;
}

static sqfs_inode_generic_t *inode_alloc(size_t payload)
{
	sqfs_inode_generic_t *i = calloc(1, sizeof(*i) + payload);
	if (i)
		i->payload_bytes_available = i->payload_bytes_used = (sqfs_u32)payload;
	return i;
}

static int write_leaf(struct sqw *w, struct bnode *n, struct arca_err *e)
{
	_cleanup_free_ sqfs_inode_generic_t *own = NULL;
	sqfs_inode_generic_t *ino;
	uint32_t type = n->mode & S_IFMT;
	if (type == S_IFREG) {
		ino = n->inode;
		if (!ino)
			return err_set(e, -EIO, "squashfs: file '%s' has no data inode", n->name);
		if (n->nlink > 1) {
			int rc = sqfs_inode_make_extended(ino);
			if (rc)
				return sqfs_err(e, rc, "extending a file inode");
			ino->data.file_ext.nlink = n->nlink;
		}
	} else if (type == S_IFLNK) {
		size_t len = strlen(n->target);
		own = ino = inode_alloc(len);
		if (!ino)
			return err_set(e, -ENOMEM, "out of memory");
		ino->base.type = SQFS_INODE_SLINK;
		ino->data.slink.nlink = n->nlink;
		ino->data.slink.target_size = (sqfs_u32)len;
		memcpy(ino->extra, n->target, len);
	} else {
		own = ino = inode_alloc(0);
		if (!ino)
			return err_set(e, -ENOMEM, "out of memory");
		if (type == S_IFBLK || type == S_IFCHR) {
			uint32_t maj = major((dev_t)n->rdev), min = minor((dev_t)n->rdev);
			ino->base.type = type == S_IFBLK ? SQFS_INODE_BDEV : SQFS_INODE_CDEV;
			ino->data.dev.nlink = n->nlink;
			/* Linux's new_encode_dev(), which the kernel decodes. */
			ino->data.dev.devno = (min & 0xffu) | (maj << 8) | ((min & ~0xffu) << 12);
		} else if (type == S_IFIFO || type == S_IFSOCK) {
			ino->base.type = type == S_IFIFO ? SQFS_INODE_FIFO : SQFS_INODE_SOCKET;
			ino->data.ipc.nlink = n->nlink;
		} else {
			return err_set(e, -EBADMSG, "'%s': unsupported file type 0%o", n->name, type);
		}
	}
	int rc = ids_and_xattrs(w, n, ino, e);
	if (rc < 0)
		return rc;
	return emit(w, n, ino, e);
}

static int write_dir(struct sqw *w, struct bnode *dir, uint32_t parent_ino, struct arca_err *e)
{
	uint32_t subdirs = 0;
	for (size_t i = 0; i < dir->nkids; i++) {
		struct bnode *k = dir->kids[i];
		int rc;
		if (S_ISDIR(k->mode)) {
			subdirs++;
			rc = write_dir(w, k, dir->ino, e);
		} else {
			struct bnode *p = bnode_primary(k);
			rc = p->written ? 0 : write_leaf(w, p, e);
		}
		if (rc < 0)
			return rc;
	}
	int rc = sqfs_dir_writer_begin(w->dw, 0);
	for (size_t i = 0; !rc && i < dir->nkids; i++) {
		struct bnode *k = dir->kids[i], *p = bnode_primary(k);
		rc = sqfs_dir_writer_add_entry(w->dw, k->name, p->ino, p->ref, (sqfs_u16)p->mode);
	}
	if (!rc)
		rc = sqfs_dir_writer_end(w->dw);
	if (rc)
		return sqfs_err(e, rc, "writing a directory");
	_cleanup_free_ sqfs_inode_generic_t *ino = sqfs_dir_writer_create_inode(w->dw, 2 + subdirs, 0xFFFFFFFFu,
										 parent_ino);
	if (!ino)
		return err_set(e, -ENOMEM, "out of memory");
	/* libsquashfs 1.2 adds the entry count to @hlinks; POSIX directory
	 * semantics (and mksquashfs) want 2 + subdirectories. */
	if (ino->base.type == SQFS_INODE_EXT_DIR)
		ino->data.dir_ext.nlink = 2 + subdirs;
	else
		ino->data.dir.nlink = 2 + subdirs;
	rc = ids_and_xattrs(w, dir, ino, e);
	if (rc < 0)
		return rc;
	return emit(w, dir, ino, e);
}

static int pad_to(struct sqw *w, uint64_t *size, struct arca_err *e)
{
	static const uint8_t zero[SQW_PAD];
	uint64_t end;
	if (!ck_align64(w->file.size, SQW_PAD, &end))
		return err_set(e, -E2BIG, "image too large");
	size_t n = (size_t)(end - w->file.size);
	if (n && w->file.f.write_at(&w->file.f, w->file.size, zero, n))
		return err_setsys(e, -EIO, "padding the squashfs image");
	*size = end;
	return 0;
}

int sqw_finish(struct sqw *w, uint64_t *size, struct arca_err *e)
{
	struct btree *t = w->tree;
	int rc = sqfs_block_processor_finish(w->proc);
	if (rc)
		return sqfs_err(e, rc, "flushing data blocks");
	report(w, true, false);

	w->im = sqfs_meta_writer_create(&w->file.f, w->cmp, 0);
	w->dm = sqfs_meta_writer_create(&w->file.f, w->cmp, SQFS_META_WRITER_KEEP_IN_MEMORY);
	if (!w->im || !w->dm)
		return err_set(e, -ENOMEM, "out of memory");
	w->dw = sqfs_dir_writer_create(w->dm, SQFS_DIR_WRITER_CREATE_EXPORT_TABLE);
	if (!w->dw)
		return err_set(e, -ENOMEM, "out of memory");

	rc = number_tree(w, t->root, 0, e);
	if (rc < 0)
		return rc;
	w->super.inode_table_start = w->file.size;
	rc = write_dir(w, t->root, w->inode_count + 1, e);
	if (rc < 0)
		return rc;
	rc = sqfs_meta_writer_flush(w->im);
	if (!rc)
		rc = sqfs_meta_writer_flush(w->dm);
	if (rc)
		return sqfs_err(e, rc, "flushing metadata");
	w->super.root_inode_ref = t->root->ref;
	w->super.directory_table_start = w->file.size;
	rc = sqfs_meta_write_write_to_file(w->dm);
	if (rc)
		return sqfs_err(e, rc, "writing the directory table");
	w->super.inode_count = w->inode_count;

	rc = sqfs_frag_table_write(w->ft, &w->file.f, &w->super, w->cmp);
	if (!rc)
		rc = sqfs_dir_writer_write_export_table(w->dw, &w->file.f, w->cmp, t->root->ino, t->root->ref,
							&w->super);
	if (!rc)
		rc = sqfs_id_table_write(w->idt, &w->file.f, &w->super, w->cmp);
	if (!rc)
		rc = sqfs_xattr_writer_flush(w->xw, &w->file.f, &w->super, w->cmp);
	if (rc)
		return sqfs_err(e, rc, "writing tables");
	w->super.bytes_used = w->file.size;
	rc = pad_to(w, size, e);
	if (rc < 0)
		return rc;
	rc = sqfs_super_write(&w->super, &w->file.f);
	if (rc)
		return sqfs_err(e, rc, "writing the super block");
	report(w, true, true);
	return 0;
}
