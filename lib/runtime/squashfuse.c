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
 * Corrupt images: libsquashfs checks table bounds and decompression; on top
 * of that every computed offset, count and size here is checked, and every
 * failure becomes EIO for the one request, never a crash of the server.
 */
#define FUSE_USE_VERSION 35

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sqfs/block.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/error.h>
#include <sqfs/frag_table.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/meta_reader.h>
#include <sqfs/super.h>
#include <sqfs/xattr.h>
#include <sqfs/xattr_reader.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "harden.h"
#include "internal.h"

/* Named limits. */
#define SQ_CACHE_BYTES (32u << 20)  /* decompressed data blocks kept */
#define SQ_CACHE_MIN 8
#define SQ_CACHE_MAX 512
#define SQ_ICACHE_SLOTS 4096        /* inodes kept (direct-mapped) */
#define SQ_ICACHE_BYTES (64u << 20) /* ... and the bytes they may hold */
#define SQ_MAX_FRAGMENTS (1u << 22) /* fragment blocks in one image (64 MiB of table; 512 GiB of tails) */
#define SQ_MAX_XATTR_IDS (1u << 22) /* distinct xattr sets in one image (64 MiB of table) */
#define SQ_MAX_XATTRS 1024          /* key/value pairs per inode */
#define SQ_MAX_XATTR_LIST 65536     /* XATTR_LIST_MAX */
#define SQ_MAX_XATTR_VALUE 65536    /* XATTR_SIZE_MAX */
#define SQ_MAX_XATTR_NAME 255       /* XATTR_NAME_MAX */
#define SQ_MAX_READ (8u << 20)      /* one FUSE read request */
#define SQ_TIMEOUT 86400.0          /* the image never changes */
#define SQ_MAX_DEPTH 256            /* directory nesting walked by rt_squashfs_check */
#define SQ_KEEP_FDS 16
#define SQ_NO_FRAGMENT 0xFFFFFFFFu
#define SQ_NO_XATTR 0xFFFFFFFFu
#define SQ_UNMOUNT_GRACE_MS 2000

/* --------------------------------------------------------------- the image */

struct bslot {
	uint64_t ref, idx; /* idx == block count: the fragment tail */
	uint64_t stamp;    /* 0: empty */
	uint8_t *data;
	size_t len;
};

struct islot {
	uint64_t ref;
	sqfs_inode_generic_t *ino; /* NULL: empty */
};

struct sq {
	sqfs_file_t *file; /* over the block source (rt_blocksrc_sqfs) */
	sqfs_super_t super;
	sqfs_compressor_t *cmp;
	sqfs_id_table_t *ids;
	sqfs_meta_reader_t *inodes;
	sqfs_meta_reader_t *dirs;
	sqfs_data_reader_t *data;
	sqfs_xattr_reader_t *xattr; /* NULL: image has no xattrs */
	sqfs_meta_reader_t *xkv;    /* the xattr key/value table */
	uint64_t xattr_start;
	sqfs_frag_table_t *frags;
	uint8_t *zbuf; /* one compressed block, block_size bytes */
	uint64_t root_ref;
	struct islot icache[SQ_ICACHE_SLOTS];
	size_t icache_bytes;
	struct bslot *bcache;
	size_t nbcache;
	uint64_t clock;
	uint8_t *rbuf; /* reply buffer for read, grown up to SQ_MAX_READ */
	size_t rbuf_cap;
	bool no_open; /* the kernel opens files without asking us */
};

static void sq_free(struct sq *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < SQ_ICACHE_SLOTS; i++)
		free(s->icache[i].ino);
	for (size_t i = 0; i < s->nbcache; i++)
		free(s->bcache[i].data);
	free(s->bcache);
	free(s->rbuf);
	free(s->zbuf);
	sqfs_destroy(s->frags);
	sqfs_destroy(s->xkv);
	sqfs_destroy(s->xattr);
	sqfs_destroy(s->data);
	sqfs_destroy(s->dirs);
	sqfs_destroy(s->inodes);
	sqfs_destroy(s->ids);
	sqfs_destroy(s->cmp);
	sqfs_destroy(s->file);
	free(s);
}

static void sq_freep(struct sq **s) { sq_free(*s); }

static const char *sq_strerror(int rc)
{
	switch (rc) {
	case SQFS_ERROR_ALLOC: return "out of memory";
	case SQFS_ERROR_IO: return "read error";
	case SQFS_ERROR_COMPRESSOR: return "decompression failed";
	case SQFS_ERROR_CORRUPTED: return "corrupted";
	case SQFS_ERROR_UNSUPPORTED: return "unsupported feature";
	case SQFS_ERROR_OVERFLOW: return "numeric overflow";
	case SQFS_ERROR_OUT_OF_BOUNDS: return "location out of bounds";
	case SFQS_ERROR_SUPER_MAGIC: /* sic: libsquashfs 1.2 spells it so */
		return "not a squashfs (bad magic)";
	case SFQS_ERROR_SUPER_VERSION: return "unsupported squashfs version";
	case SQFS_ERROR_SUPER_BLOCK_SIZE: return "invalid block size";
	default: return "invalid";
	}
}

static int sq_fail(struct arca_err *e, int rc, const char *what)
{
	return err_set(e, rc == SQFS_ERROR_ALLOC ? -ENOMEM : -EBADMSG, "squashfs %s: %s", what, sq_strerror(rc));
}

static int sq_inode(struct sq *s, uint64_t ref, const sqfs_inode_generic_t **out);

/* Whether the index of a table of @count 16-byte entries (one u64 location
 * per 8 KiB metadata block of 512 entries), found @skip bytes after
 * @start, lies within the first @end bytes of the image. */
static bool table_fits(uint64_t start, uint64_t skip, uint64_t count, uint64_t end)
{
	uint64_t blocks = count / 512 + (count % 512 != 0), at;
	return ck_add64(start, skip, &at) && range_ok(at, blocks * 8, end);
}

/* Opens every table the server needs; the same checks decide whether
 * rt_fuse_mount() mounts anything at all. */
static int sq_open(struct rt_blocksrc *src, struct sq **out, struct arca_err *e)
{
	_cleanup_(sq_freep) struct sq *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, -ENOMEM, "out of memory");
	sqfs_file_t *f = s->file = rt_blocksrc_sqfs(src);
	if (!f)
		return err_set(e, -ENOMEM, "out of memory");

	int rc = sqfs_super_read(&s->super, f);
	if (rc)
		return sq_fail(e, rc, "superblock");
	const sqfs_super_t *sb = &s->super;
	/* squashfs: every table lies within bytes_used, which lies within the
	 * partition; the inode table precedes the directory table. */
	if (sb->bytes_used > rt_blocksrc_size(src))
		return err_set(e, -EBADMSG, "squashfs claims %llu bytes, partition holds %llu",
			       (unsigned long long)sb->bytes_used, (unsigned long long)rt_blocksrc_size(src));
	if (sb->inode_table_start >= sb->directory_table_start || sb->directory_table_start >= sb->bytes_used)
		return err_set(e, -EBADMSG, "squashfs table locations are inconsistent");

	sqfs_compressor_config_t cfg;
	rc = sqfs_compressor_config_init(&cfg, (SQFS_COMPRESSOR)sb->compression_id, sb->block_size,
					 SQFS_COMP_FLAG_UNCOMPRESS);
	if (rc == 0)
		rc = sqfs_compressor_create(&cfg, &s->cmp);
	if (rc)
		return err_set(e, -ENOTSUP, "squashfs compressor %u: %s", sb->compression_id, sq_strerror(rc));
	if (sb->flags & SQFS_FLAG_COMPRESSOR_OPTIONS) {
		rc = s->cmp->read_options(s->cmp, f);
		if (rc)
			return sq_fail(e, rc, "compressor options");
	}

	s->ids = sqfs_id_table_create(0);
	if (!s->ids)
		return err_set(e, -ENOMEM, "out of memory");
	rc = sqfs_id_table_read(s->ids, f, sb, s->cmp);
	if (rc)
		return sq_fail(e, rc, "id table");

	s->inodes = sqfs_meta_reader_create(f, s->cmp, sb->inode_table_start, sb->directory_table_start);
	s->dirs = sqfs_meta_reader_create(f, s->cmp, sb->directory_table_start, sb->bytes_used);
	s->data = sqfs_data_reader_create(f, sb->block_size, s->cmp, 0);
	if (!s->inodes || !s->dirs || !s->data)
		return err_set(e, -ENOMEM, "out of memory");
	/* Fragments go through our block cache, not the data reader's: it
	 * keeps one fragment block and decompressed it again for every small
	 * file whose tail it holds. */
	s->frags = sqfs_frag_table_create(0);
	s->zbuf = malloc(sb->block_size);
	if (!s->frags || !s->zbuf)
		return err_set(e, -ENOMEM, "out of memory");
	/* libsquashfs allocates 16 bytes per claimed fragment up front. The
	 * table's index (one u64 per 512 entries, squashfs) must fit between
	 * its start and the end of the image, which bounds the claim by the
	 * image's size. */
	if (sb->fragment_entry_count > SQ_MAX_FRAGMENTS ||
	    !table_fits(sb->fragment_table_start, 0, sb->fragment_entry_count, sb->bytes_used))
		return err_set(e, -EBADMSG, "squashfs fragment table is larger than the image");
	if (sb->fragment_entry_count > 0 && (rc = sqfs_frag_table_read(s->frags, f, sb, s->cmp)) != 0)
		return sq_fail(e, rc, "fragment table");

	if (!(sb->flags & SQFS_FLAG_NO_XATTRS) && sb->xattr_id_table_start != UINT64_MAX) {
		/* squashfs: the xattr id table starts with the location of the
		 * key/value table (which lies before it) and the id count, then
		 * its index; the count is bounded as the fragments' is. */
		uint8_t hdr[16] = { 0 };
		uint32_t ids;
		struct rd r = rd_make(hdr, sizeof(hdr));
		if (f->read_at(f, sb->xattr_id_table_start, hdr, sizeof(hdr)) || rd_u64le(&r, &s->xattr_start) < 0 ||
		    rd_u32le(&r, &ids) < 0 || ids > SQ_MAX_XATTR_IDS || s->xattr_start >= sb->xattr_id_table_start ||
		    !table_fits(sb->xattr_id_table_start, sizeof(hdr), ids, sb->bytes_used))
			return err_set(e, -EBADMSG, "squashfs xattr table location is inconsistent");
		s->xattr = sqfs_xattr_reader_create(0);
		if (!s->xattr)
			return err_set(e, -ENOMEM, "out of memory");
		rc = sqfs_xattr_reader_load(s->xattr, sb, f, s->cmp);
		if (rc)
			return sq_fail(e, rc, "xattr table");
		s->xkv = sqfs_meta_reader_create(f, s->cmp, s->xattr_start, sb->xattr_id_table_start);
		if (!s->xkv)
			return err_set(e, -ENOMEM, "out of memory");
	}

	size_t n = SQ_CACHE_BYTES / sb->block_size;
	s->nbcache = n < SQ_CACHE_MIN ? SQ_CACHE_MIN : n > SQ_CACHE_MAX ? SQ_CACHE_MAX : n;
	s->bcache = calloc(s->nbcache, sizeof(*s->bcache));
	if (!s->bcache)
		return err_set(e, -ENOMEM, "out of memory");

	s->root_ref = sb->root_inode_ref;
	const sqfs_inode_generic_t *root;
	rc = sq_inode(s, s->root_ref, &root);
	if (rc < 0)
		return err_set(e, -EBADMSG, "squashfs root inode is unreadable");
	if (root->base.type != SQFS_INODE_DIR && root->base.type != SQFS_INODE_EXT_DIR)
		return err_set(e, -EBADMSG, "squashfs root inode is not a directory");
	*out = TAKE_PTR(s);
	return 0;
}

/* FUSE node ids: 1 is the root; every other node is its inode reference
 * (block << 16 | offset) plus 2, so hard links share one node and no state
 * per node is needed (forget is a no-op). */
static uint64_t sq_nodeid(const struct sq *s, uint64_t ref) { return ref == s->root_ref ? FUSE_ROOT_ID : ref + 2; }

static int sq_ref(const struct sq *s, fuse_ino_t ino, uint64_t *ref)
{
	if (ino == FUSE_ROOT_ID) {
		*ref = s->root_ref;
		return 0;
	}
	if (ino < 2)
		return -EIO;
	*ref = ino - 2;
	return 0;
}

/*
 * The inode at @ref, borrowed from the cache: valid until the next
 * sq_inode() call. -EIO for anything malformed.
 */
static int sq_inode(struct sq *s, uint64_t ref, const sqfs_inode_generic_t **out)
{
	struct islot *slot = &s->icache[(ref ^ (ref >> 16) * 0x9E3779B1u) % SQ_ICACHE_SLOTS];
	if (slot->ino && slot->ref == ref) {
		*out = slot->ino;
		return 0;
	}
	sqfs_inode_generic_t *ino = NULL;
	int rc = rt_sqfs_inode_read(s->inodes, &s->super, ref, &ino, NULL);
	if (rc < 0)
		return rc == -EFBIG ? rc : -EIO; /* a file too large for us, else corrupt */
	/* Inodes carry their block lists: bound the bytes cached, not just
	 * the slots, or a hostile image of many huge sparse files would make
	 * the server hold gigabytes. Past the budget, start over. */
	size_t cost = sizeof(*ino) + ino->payload_bytes_available;
	if (slot->ino)
		s->icache_bytes -= sizeof(*slot->ino) + slot->ino->payload_bytes_available;
	free(slot->ino);
	slot->ino = NULL;
	if (s->icache_bytes + cost > SQ_ICACHE_BYTES) {
		for (size_t k = 0; k < SQ_ICACHE_SLOTS; k++) {
			free(s->icache[k].ino);
			s->icache[k].ino = NULL;
		}
		s->icache_bytes = 0;
	}
	slot->ino = ino;
	slot->ref = ref;
	s->icache_bytes += cost;
	*out = ino;
	return 0;
}

static bool sq_is_dir(const sqfs_inode_generic_t *i)
{
	return i->base.type == SQFS_INODE_DIR || i->base.type == SQFS_INODE_EXT_DIR;
}
static bool sq_is_file(const sqfs_inode_generic_t *i)
{
	return i->base.type == SQFS_INODE_FILE || i->base.type == SQFS_INODE_EXT_FILE;
}
static bool sq_is_link(const sqfs_inode_generic_t *i)
{
	return i->base.type == SQFS_INODE_SLINK || i->base.type == SQFS_INODE_EXT_SLINK;
}

static mode_t sq_type_bits(unsigned type)
{
	switch (type) {
	case SQFS_INODE_DIR: case SQFS_INODE_EXT_DIR: return S_IFDIR;
	case SQFS_INODE_FILE: case SQFS_INODE_EXT_FILE: return S_IFREG;
	case SQFS_INODE_SLINK: case SQFS_INODE_EXT_SLINK: return S_IFLNK;
	case SQFS_INODE_BDEV: case SQFS_INODE_EXT_BDEV: return S_IFBLK;
	case SQFS_INODE_CDEV: case SQFS_INODE_EXT_CDEV: return S_IFCHR;
	case SQFS_INODE_FIFO: case SQFS_INODE_EXT_FIFO: return S_IFIFO;
	case SQFS_INODE_SOCKET: case SQFS_INODE_EXT_SOCKET: return S_IFSOCK;
	default: return 0;
	}
}

static int sq_stat(struct sq *s, const sqfs_inode_generic_t *i, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	mode_t type = sq_type_bits(i->base.type);
	if (!type)
		return -EIO;
	/* The type comes from the inode type, never from the stored mode. */
	st->st_mode = type | (i->base.mode & 07777);
	st->st_ino = i->base.inode_number;
	st->st_mtime = (time_t)i->base.mod_time;
	st->st_atime = st->st_ctime = st->st_mtime;
	st->st_blksize = (blksize_t)s->super.block_size;
	sqfs_u32 uid, gid;
	if (sqfs_id_table_index_to_id(s->ids, i->base.uid_idx, &uid) ||
	    sqfs_id_table_index_to_id(s->ids, i->base.gid_idx, &gid))
		return -EIO;
	st->st_uid = uid;
	st->st_gid = gid;
	uint64_t size = 0;
	unsigned nlink = 1, devno = 0;
	switch (i->base.type) {
	case SQFS_INODE_DIR: nlink = i->data.dir.nlink; size = i->data.dir.size; break;
	case SQFS_INODE_EXT_DIR: nlink = i->data.dir_ext.nlink; size = i->data.dir_ext.size; break;
	case SQFS_INODE_FILE: size = i->data.file.file_size; break;
	case SQFS_INODE_EXT_FILE: nlink = i->data.file_ext.nlink; size = i->data.file_ext.file_size; break;
	case SQFS_INODE_SLINK: nlink = i->data.slink.nlink; size = i->data.slink.target_size; break;
	case SQFS_INODE_EXT_SLINK: nlink = i->data.slink_ext.nlink; size = i->data.slink_ext.target_size; break;
	case SQFS_INODE_BDEV: case SQFS_INODE_CDEV:
		nlink = i->data.dev.nlink; devno = i->data.dev.devno; break;
	case SQFS_INODE_EXT_BDEV: case SQFS_INODE_EXT_CDEV:
		nlink = i->data.dev_ext.nlink; devno = i->data.dev_ext.devno; break;
	case SQFS_INODE_FIFO: case SQFS_INODE_SOCKET: nlink = i->data.ipc.nlink; break;
	default: nlink = i->data.ipc_ext.nlink; break;
	}
	if (size > INT64_MAX)
		return -EIO;
	st->st_nlink = nlink;
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	/* squashfs stores device numbers in the old 32-bit encoding:
	 * minor's low byte, 12 bits of major, then minor's high bits. */
	st->st_rdev = makedev((devno >> 8) & 0xFFF, (devno & 0xFF) | ((devno >> 12) & 0xFFF00));
	return 0;
}

/* --------------------------------------------------------------- file data */

/* Block layout of a regular file, cross-checked against what libsquashfs
 * decoded: full blocks in the block list, the tail in a fragment or as a
 * short last block. */
struct flayout {
	uint64_t size;
	uint64_t nblocks; /* entries in the block list */
	bool frag;
};

static int sq_layout(const struct sq *s, const sqfs_inode_generic_t *i, struct flayout *l)
{
	sqfs_u32 fidx, foff;
	if (sqfs_inode_get_file_size(i, &l->size) || sqfs_inode_get_frag_location(i, &fidx, &foff))
		return -EIO;
	if (l->size > INT64_MAX)
		return -EIO;
	uint64_t bs = s->super.block_size;
	l->frag = fidx != SQ_NO_FRAGMENT;
	l->nblocks = sqfs_inode_get_file_block_count(i);
	uint64_t want = l->frag ? l->size / bs : (l->size + bs - 1) / bs;
	if (l->nblocks != want)
		return -EIO;
	return 0;
}

#define SQ_FRAG_KEY UINT64_MAX /* bcache key of fragment blocks: (SQ_FRAG_KEY, index) */

static int sq_block(struct sq *s, uint64_t ref, const sqfs_inode_generic_t *i, const struct flayout *l, uint64_t idx,
		    const uint8_t **p, size_t *len);

/* A whole decompressed fragment block, through the block cache. */
static int sq_frag_block(struct sq *s, uint32_t fidx, const uint8_t **p, size_t *len)
{
	return sq_block(s, SQ_FRAG_KEY, NULL, NULL, fidx, p, len);
}

static int sq_frag_load(struct sq *s, uint64_t fidx, uint8_t **out, size_t *outlen)
{
	sqfs_fragment_t fr;
	if (fidx >= s->super.fragment_entry_count || sqfs_frag_table_lookup(s->frags, (sqfs_u32)fidx, &fr))
		return -EIO;
	/* squashfs: bit 24 of the size marks a block stored uncompressed; a
	 * fragment block holds at most one block_size of data. */
	size_t disk = SQFS_ON_DISK_BLOCK_SIZE(fr.size);
	if (disk == 0 || disk > s->super.block_size || !range_ok(fr.start_offset, disk, s->super.bytes_used))
		return -EIO;
	uint8_t *data = malloc(s->super.block_size);
	if (!data)
		return -ENOMEM;
	size_t n = disk;
	if (SQFS_IS_BLOCK_COMPRESSED(fr.size)) {
		if (s->file->read_at(s->file, fr.start_offset, s->zbuf, disk)) {
			free(data);
			return -EIO;
		}
		sqfs_s32 r = s->cmp->do_block(s->cmp, s->zbuf, (sqfs_u32)disk, data, s->super.block_size);
		if (r <= 0) {
			free(data);
			return -EIO;
		}
		n = (size_t)r;
	} else if (s->file->read_at(s->file, fr.start_offset, data, disk)) {
		free(data);
		return -EIO;
	}
	*out = data;
	*outlen = n;
	return 0;
}

/* Decompressed block @idx of the file (idx == nblocks: the fragment tail),
 * from the bounded LRU cache; with ref SQ_FRAG_KEY, fragment block @idx.
 * The pointer is valid until the next call. */
static int sq_block(struct sq *s, uint64_t ref, const sqfs_inode_generic_t *i, const struct flayout *l, uint64_t idx,
		    const uint8_t **p, size_t *len)
{
	if (ref != SQ_FRAG_KEY && idx >= l->nblocks) {
		/* The tail: a slice of a fragment block, bounds-checked. */
		sqfs_u32 fidx, foff;
		const uint8_t *fb;
		size_t fblen;
		uint64_t want = l->size - l->nblocks * s->super.block_size;
		if (sqfs_inode_get_frag_location(i, &fidx, &foff))
			return -EIO;
		int rc = sq_frag_block(s, fidx, &fb, &fblen);
		if (rc < 0)
			return rc;
		if (!range_ok(foff, want, fblen))
			return -EIO;
		*p = fb + foff;
		*len = (size_t)want;
		return 0;
	}
	struct bslot *victim = &s->bcache[0];
	for (size_t k = 0; k < s->nbcache; k++) {
		struct bslot *b = &s->bcache[k];
		if (b->stamp && b->ref == ref && b->idx == idx) {
			b->stamp = ++s->clock;
			*p = b->data;
			*len = b->len;
			return 0;
		}
		if (b->stamp < victim->stamp)
			victim = b;
	}
	size_t got = 0;
	uint8_t *data = NULL;
	if (ref == SQ_FRAG_KEY) {
		int rc = sq_frag_load(s, idx, &data, &got);
		if (rc < 0)
			return rc;
	} else {
		uint64_t bs = s->super.block_size;
		uint64_t want = idx + 1 < l->nblocks || l->frag ? bs : l->size - idx * bs;
		if (sqfs_data_reader_get_block(s->data, i, (size_t)idx, &got, &data) || got != want) {
			free(data);
			return -EIO;
		}
	}
	free(victim->data);
	*victim = (struct bslot){ .ref = ref, .idx = idx, .stamp = ++s->clock, .data = data, .len = got };
	*p = data;
	*len = got;
	return 0;
}

static int sq_read(struct sq *s, uint64_t ref, uint64_t off, size_t size, const uint8_t **out, size_t *outlen)
{
	const sqfs_inode_generic_t *i;
	struct flayout l;
	int rc = sq_inode(s, ref, &i);
	if (rc < 0)
		return rc;
	if (!sq_is_file(i))
		return -EIO;
	rc = sq_layout(s, i, &l);
	if (rc < 0)
		return rc;
	if (off >= l.size) {
		*outlen = 0;
		return 0;
	}
	if (size > l.size - off)
		size = (size_t)(l.size - off);
	if (size > SQ_MAX_READ)
		size = SQ_MAX_READ;
	if (size > s->rbuf_cap) {
		uint8_t *nb = realloc(s->rbuf, size);
		if (!nb)
			return -ENOMEM;
		s->rbuf = nb;
		s->rbuf_cap = size;
	}
	uint64_t bs = s->super.block_size;
	size_t done = 0;
	while (done < size) {
		uint64_t pos = off + done, idx = pos / bs, in = pos % bs;
		const uint8_t *p;
		size_t len;
		/* sq_block() may evict the inode from its cache only through
		 * sq_inode(), which it does not call: @i stays valid. */
		rc = sq_block(s, ref, i, &l, idx, &p, &len);
		if (rc < 0)
			return rc;
		if (in >= len)
			return -EIO;
		size_t n = len - (size_t)in;
		if (n > size - done)
			n = size - done;
		memcpy(s->rbuf + done, p + in, n);
		done += n;
	}
	*out = s->rbuf;
	*outlen = size;
	return 0;
}

/* ------------------------------------------------------------- directories */

/* Next entry of a directory listing; 1 at the end, -EIO when corrupt. */
static int sq_dir_next(struct sq *s, sqfs_readdir_state_t *st, struct rt_sqfs_dent *d)
{
	int rc = rt_sqfs_dir_next(s->dirs, st, d);
	return rc < 0 ? -EIO : rc;
}

static int sq_dir_open(struct sq *s, uint64_t ref, sqfs_readdir_state_t *st, uint32_t *parent_inum)
{
	const sqfs_inode_generic_t *i;
	int rc = sq_inode(s, ref, &i);
	if (rc < 0)
		return rc;
	if (!sq_is_dir(i))
		return -ENOTDIR;
	if (parent_inum)
		*parent_inum = i->base.type == SQFS_INODE_DIR ? i->data.dir.parent_inode
							      : i->data.dir_ext.parent_inode;
	return sqfs_readdir_state_init(st, &s->super, i) ? -EIO : 0;
}

/* ------------------------------------------------------------- FUSE glue */

static struct sq *sq_of(fuse_req_t req) { return fuse_req_userdata(req); }

static void fill_entry(struct fuse_entry_param *ep)
{
	ep->attr_timeout = SQ_TIMEOUT;
	ep->entry_timeout = SQ_TIMEOUT;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct sq *s = userdata;
	/* Answering open with ENOSYS makes the kernel stop sending open and
	 * release (and cache pages as with keep_cache): two round trips per
	 * file less. Safe because open needs nothing from us: the mount is
	 * read-only, modes are checked by the kernel, only regular files reach
	 * open, and reads validate the inode themselves. */
	s->no_open = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
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
		rc = sq_dir_open(s, pref, &st, NULL);
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
		rc = sq_dir_next(s, &st, &d);
		if (rc < 0) {
			fuse_reply_err(req, -rc);
			return;
		}
		if (rc > 0)
			break;
		if (d.len == nlen && memcmp(d.name, name, nlen) == 0) {
			const sqfs_inode_generic_t *i;
			struct fuse_entry_param ep = { 0 };
			rc = sq_inode(s, d.ref, &i);
			if (rc == 0)
				rc = sq_stat(s, i, &ep.attr);
			/* The entry's type must agree with the inode it names. */
			if (rc == 0 && sq_type_bits(d.type) != (ep.attr.st_mode & S_IFMT))
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
		rc = sq_inode(s, ref, &i);
	if (rc == 0)
		rc = sq_stat(s, i, &st);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, SQ_TIMEOUT);
}

/* The target of a symlink inode: 1..RT_SQFS_MAX_SYMLINK bytes, no NUL. */
static int sq_readlink(const sqfs_inode_generic_t *i, char target[RT_SQFS_MAX_SYMLINK + 1])
{
	if (!sq_is_link(i))
		return -EINVAL;
	size_t n = i->base.type == SQFS_INODE_SLINK ? i->data.slink.target_size : i->data.slink_ext.target_size;
	if (n == 0 || n > RT_SQFS_MAX_SYMLINK || n > i->payload_bytes_used || memchr(i->extra, '\0', n))
		return -EIO;
	memcpy(target, i->extra, n);
	target[n] = '\0';
	return 0;
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct sq *s = sq_of(req);
	uint64_t ref;
	const sqfs_inode_generic_t *i;
	int rc = sq_ref(s, ino, &ref);
	if (rc == 0)
		rc = sq_inode(s, ref, &i);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	char target[RT_SQFS_MAX_SYMLINK + 1];
	rc = sq_readlink(i, target);
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
		rc = sq_dir_open(s, h->ref, &h->st, &h->parent_inum);
	if (rc == 0)
		rc = sq_inode(s, h->ref, &i);
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

static unsigned dtype_of(unsigned sqtype) { return (unsigned)(sq_type_bits(sqtype) >> 12); }

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi, bool plus)
{
	(void)ino;
	struct sq *s = sq_of(req);
	struct dirh *h = (struct dirh *)(uintptr_t)fi->fh;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (size > SQ_MAX_READ)
		size = SQ_MAX_READ;
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
			rc = sq_dir_next(s, &h->st, &d);
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
				rc = sq_inode(s, d.ref, &i);
				if (rc == 0)
					rc = sq_stat(s, i, &ep.attr);
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
	if (s->no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	int rc = sq_ref(s, ino, &ref);
	if (rc == 0)
		rc = sq_inode(s, ref, &i);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (!sq_is_file(i)) {
		fuse_reply_err(req, sq_is_dir(i) ? EISDIR : EIO);
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
		rc = sq_read(s, ref, (uint64_t)off, size, &p, &n);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, (const char *)p, n);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct sq *s = sq_of(req);
	struct statvfs sv = { 0 };
	sv.f_bsize = s->super.block_size;
	sv.f_frsize = s->super.block_size;
	sv.f_blocks = (s->super.bytes_used + s->super.block_size - 1) / s->super.block_size;
	sv.f_files = s->super.inode_count;
	sv.f_namemax = RT_SQFS_MAX_NAME;
	sv.f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
	fuse_reply_statfs(req, &sv);
}

/*
 * The key/value pairs are parsed here rather than by libsquashfs's xattr
 * reader, which allocates whatever 32-bit value size the image claims.
 * squashfs layout: a pair is u16 type (prefix id, 0x100 = value out of
 * line), u16 key size, the key without its prefix, then u32 value size and
 * the value; an out-of-line value is an 8-byte reference (block << 16 |
 * offset from the table start) to a u32 size and the value.
 */
static int xkv_read(struct sq *s, void *p, size_t n) { return sqfs_meta_reader_read(s->xkv, p, n) ? -EIO : 0; }

static int xkv_seek(struct sq *s, uint64_t ref)
{
	uint64_t abs;
	if ((ref & 0xFFFF) >= SQFS_META_BLOCK_SIZE || !ck_add64(s->xattr_start, ref >> 16, &abs) ||
	    abs >= s->super.xattr_id_table_start)
		return -EIO;
	return sqfs_meta_reader_seek(s->xkv, abs, (size_t)(ref & 0xFFFF)) ? -EIO : 0;
}

static int xkv_u32(struct sq *s, uint32_t *v)
{
	uint8_t b[4] = { 0 };
	struct rd r = rd_make(b, sizeof(b));
	return xkv_read(s, b, sizeof(b)) < 0 || rd_u32le(&r, v) < 0 ? -EIO : 0;
}

/* The value of the current pair: appended to @out, or skipped (NULL). */
static int xkv_value(struct sq *s, bool ool, struct buf *out)
{
	uint32_t n;
	if (xkv_u32(s, &n) < 0)
		return -EIO;
	if (ool) {
		uint8_t b[8] = { 0 };
		uint64_t ref;
		struct rd r = rd_make(b, sizeof(b));
		if (n != 8 || xkv_read(s, b, 8) < 0 || rd_u64le(&r, &ref) < 0)
			return -EIO;
		if (!out)
			return 0;
		/* Only the pair wanted is followed, so no way back is needed. */
		if (xkv_seek(s, ref) < 0 || xkv_u32(s, &n) < 0)
			return -EIO;
	}
	if (n > SQ_MAX_XATTR_VALUE)
		return -EIO; /* Linux never stores more (XATTR_SIZE_MAX) */
	if (out) {
		buf_addzero(out, n);
		if (buf_error(out) < 0)
			return -ENOMEM;
		return xkv_read(s, out->p + out->len - n, n);
	}
	uint8_t skip[1024];
	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof(skip) ? n - done : sizeof(skip);
		if (xkv_read(s, skip, k) < 0)
			return -EIO;
		done += k;
	}
	return 0;
}

/*
 * Walks the xattrs of @ino. With @name, finds that one (value into @out);
 * without, appends every "name\0" to @out. -ENODATA when absent.
 */
static int sq_xattrs(struct sq *s, fuse_ino_t ino, const char *name, struct buf *out)
{
	uint64_t ref;
	const sqfs_inode_generic_t *i;
	int rc = sq_ref(s, ino, &ref);
	if (rc == 0)
		rc = sq_inode(s, ref, &i);
	if (rc < 0)
		return rc;
	sqfs_u32 idx = SQ_NO_XATTR;
	if (sqfs_inode_get_xattr_index(i, &idx) || idx == SQ_NO_XATTR || !s->xattr)
		return name ? -ENODATA : 0;
	sqfs_xattr_id_t desc;
	if (sqfs_xattr_reader_get_desc(s->xattr, idx, &desc) || desc.count > SQ_MAX_XATTRS || xkv_seek(s, desc.xattr) < 0)
		return -EIO;
	for (uint32_t k = 0; k < desc.count; k++) {
		uint8_t hb[4] = { 0 };
		uint16_t type, ksize;
		struct rd r = rd_make(hb, sizeof(hb));
		if (xkv_read(s, hb, sizeof(hb)) < 0 || rd_u16le(&r, &type) < 0 || rd_u16le(&r, &ksize) < 0)
			return -EIO;
		const char *prefix = sqfs_get_xattr_prefix((SQFS_XATTR_TYPE)(type & SQFS_XATTR_PREFIX_MASK));
		char key[SQ_MAX_XATTR_NAME + 1];
		size_t plen = prefix ? strlen(prefix) : 0;
		if (!prefix || (type & ~(unsigned)(SQFS_XATTR_PREFIX_MASK | SQFS_XATTR_FLAG_OOL)) || ksize == 0 ||
		    plen + ksize > SQ_MAX_XATTR_NAME)
			return -EIO;
		memcpy(key, prefix, plen);
		if (xkv_read(s, key + plen, ksize) < 0 || memchr(key + plen, '\0', ksize))
			return -EIO;
		size_t klen = plen + ksize;
		key[klen] = '\0';
		bool match = name && strlen(name) == klen && memcmp(name, key, klen) == 0;
		if (!name) {
			buf_add(out, key, klen + 1);
			if (out->len > SQ_MAX_XATTR_LIST)
				return -E2BIG;
		}
		if ((rc = xkv_value(s, type & SQFS_XATTR_FLAG_OOL, match ? out : NULL)) < 0)
			return rc;
		if (match)
			return 0;
	}
	if (name)
		return -ENODATA;
	return buf_error(out);
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

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = sq_xattrs(sq_of(req), ino, name, &b);
	reply_xattr(req, rc, &b, size);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = sq_xattrs(sq_of(req), ino, NULL, &b);
	reply_xattr(req, rc, &b, size);
}

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

/* ------------------------------------------------------------ full walk */

struct walk {
	struct sq *s;
	uint64_t entries, max_entries;
	uint64_t bytes, max_bytes;
	int bad;
};

/* Everything the FUSE operations would do for one entry, errors counted. */
static void walk_entry(struct walk *w, uint64_t ref, unsigned depth);

static void walk_dir(struct walk *w, uint64_t ref, unsigned depth)
{
	sqfs_readdir_state_t st;
	if (depth > SQ_MAX_DEPTH || sq_dir_open(w->s, ref, &st, NULL) < 0) {
		w->bad++;
		return;
	}
	struct rt_sqfs_dent d;
	int rc;
	while (w->entries < w->max_entries && (rc = sq_dir_next(w->s, &st, &d)) == 0) {
		w->entries++;
		/* A directory entry naming an ancestor would loop forever;
		 * the kernel refuses such aliases, the depth bound stops us. */
		walk_entry(w, d.ref, depth + 1);
	}
	if (w->entries < w->max_entries && rc < 0)
		w->bad++;
}

static void walk_entry(struct walk *w, uint64_t ref, unsigned depth)
{
	const sqfs_inode_generic_t *i;
	struct stat st;
	if (sq_inode(w->s, ref, &i) < 0 || sq_stat(w->s, i, &st) < 0) {
		w->bad++;
		return;
	}
	_cleanup_buf_ struct buf x = BUF_INIT;
	if (sq_xattrs(w->s, (fuse_ino_t)sq_nodeid(w->s, ref), NULL, &x) < 0)
		w->bad++;
	if (sq_inode(w->s, ref, &i) < 0) { /* sq_xattrs may have evicted it */
		w->bad++;
		return;
	}
	if (sq_is_link(i)) {
		char target[RT_SQFS_MAX_SYMLINK + 1];
		if (sq_readlink(i, target) < 0)
			w->bad++;
	} else if (sq_is_dir(i)) {
		walk_dir(w, ref, depth);
	} else if (sq_is_file(i)) {
		for (uint64_t off = 0; off < (uint64_t)st.st_size && w->bytes < w->max_bytes;) {
			const uint8_t *p;
			size_t n;
			if (sq_read(w->s, ref, off, 1u << 20, &p, &n) < 0 || n == 0) {
				w->bad++;
				break;
			}
			off += n;
			w->bytes += n;
		}
	}
}

int rt_squashfs_check(struct rt_blocksrc *src, uint64_t max_entries, uint64_t max_bytes, struct arca_err *e)
{
	_cleanup_(sq_freep) struct sq *s = NULL;
	int rc = sq_open(src, &s, e);
	if (rc < 0)
		return rc;
	struct walk w = { .s = s, .max_entries = max_entries, .max_bytes = max_bytes };
	walk_entry(&w, s->root_ref, 0);
	return w.bad;
}

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
	se = fuse_session_new(&args, &sq_ops, sizeof(sq_ops), s);
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
	int rc = sq_open(src, &s, e);
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
