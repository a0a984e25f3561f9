/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The image side of the FUSE root (squashfuse.c serves it): the SquashFS
 * partition opened through libsquashfs over a block source, with the
 * caches the server reads through (inodes, decompressed blocks), file data,
 * directory listings, symlinks and xattrs, and rt_squashfs_check(), which
 * walks a whole image the way the server would serve it.
 *
 * Corrupt images: libsquashfs checks table bounds and decompression; on top
 * of that every computed offset, count and size here is checked (inodes
 * through rt_sqfs_inode_read(), which bounds them before libsquashfs
 * allocates), and every failure becomes EIO for the one request, never a
 * crash of the server. Nothing here knows about FUSE.
 */
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
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

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
#define SQ_MAX_DEPTH 256            /* directory nesting walked by rt_squashfs_check */
#define SQ_NO_FRAGMENT 0xFFFFFFFFu
#define SQ_NO_XATTR 0xFFFFFFFFu

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
	uint8_t *rbuf; /* reply buffer for read, grown up to RT_SQ_MAX_READ */
	size_t rbuf_cap;
};

void rt_sq_free(struct sq *s)
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

static void sq_freep(struct sq **s) { rt_sq_free(*s); }

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
int rt_sq_open(struct rt_blocksrc *src, struct sq **out, struct arca_err *e)
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
	rc = rt_sq_inode(s, s->root_ref, &root);
	if (rc < 0)
		return err_set(e, -EBADMSG, "squashfs root inode is unreadable");
	if (root->base.type != SQFS_INODE_DIR && root->base.type != SQFS_INODE_EXT_DIR)
		return err_set(e, -EBADMSG, "squashfs root inode is not a directory");
	*out = TAKE_PTR(s);
	return 0;
}

uint64_t rt_sq_root(const struct sq *s) { return s->root_ref; }

void rt_sq_statfs(const struct sq *s, struct statvfs *sv)
{
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = s->super.block_size;
	sv->f_frsize = s->super.block_size;
	sv->f_blocks = (s->super.bytes_used + s->super.block_size - 1) / s->super.block_size;
	sv->f_files = s->super.inode_count;
	sv->f_namemax = RT_SQFS_MAX_NAME;
	sv->f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
}

/*
 * The inode at @ref, borrowed from the cache: valid until the next
 * rt_sq_inode() call. -EIO for anything malformed.
 */
int rt_sq_inode(struct sq *s, uint64_t ref, const sqfs_inode_generic_t **out)
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

bool rt_sq_is_dir(const sqfs_inode_generic_t *i)
{
	return i->base.type == SQFS_INODE_DIR || i->base.type == SQFS_INODE_EXT_DIR;
}
bool rt_sq_is_file(const sqfs_inode_generic_t *i)
{
	return i->base.type == SQFS_INODE_FILE || i->base.type == SQFS_INODE_EXT_FILE;
}
bool rt_sq_is_link(const sqfs_inode_generic_t *i)
{
	return i->base.type == SQFS_INODE_SLINK || i->base.type == SQFS_INODE_EXT_SLINK;
}

mode_t rt_sq_type_bits(unsigned type)
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

int rt_sq_stat(struct sq *s, const sqfs_inode_generic_t *i, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	mode_t type = rt_sq_type_bits(i->base.type);
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

int rt_sq_read(struct sq *s, uint64_t ref, uint64_t off, size_t size, const uint8_t **out, size_t *outlen)
{
	const sqfs_inode_generic_t *i;
	struct flayout l;
	int rc = rt_sq_inode(s, ref, &i);
	if (rc < 0)
		return rc;
	if (!rt_sq_is_file(i))
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
	if (size > RT_SQ_MAX_READ)
		size = RT_SQ_MAX_READ;
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
		 * rt_sq_inode(), which it does not call: @i stays valid. */
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
int rt_sq_dir_next(struct sq *s, sqfs_readdir_state_t *st, struct rt_sqfs_dent *d)
{
	int rc = rt_sqfs_dir_next(s->dirs, st, d);
	return rc < 0 ? -EIO : rc;
}

int rt_sq_dir_open(struct sq *s, uint64_t ref, sqfs_readdir_state_t *st, uint32_t *parent_inum)
{
	const sqfs_inode_generic_t *i;
	int rc = rt_sq_inode(s, ref, &i);
	if (rc < 0)
		return rc;
	if (!rt_sq_is_dir(i))
		return -ENOTDIR;
	if (parent_inum)
		*parent_inum = i->base.type == SQFS_INODE_DIR ? i->data.dir.parent_inode
							      : i->data.dir_ext.parent_inode;
	return sqfs_readdir_state_init(st, &s->super, i) ? -EIO : 0;
}


/* The target of a symlink inode: 1..RT_SQFS_MAX_SYMLINK bytes, no NUL. */
int rt_sq_readlink(const sqfs_inode_generic_t *i, char target[RT_SQFS_MAX_SYMLINK + 1])
{
	if (!rt_sq_is_link(i))
		return -EINVAL;
	size_t n = i->base.type == SQFS_INODE_SLINK ? i->data.slink.target_size : i->data.slink_ext.target_size;
	if (n == 0 || n > RT_SQFS_MAX_SYMLINK || n > i->payload_bytes_used || memchr(i->extra, '\0', n))
		return -EIO;
	memcpy(target, i->extra, n);
	target[n] = '\0';
	return 0;
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
int rt_sq_xattrs(struct sq *s, uint64_t ref, const char *name, struct buf *out)
{
	const sqfs_inode_generic_t *i;
	int rc = rt_sq_inode(s, ref, &i);
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
	if (depth > SQ_MAX_DEPTH || rt_sq_dir_open(w->s, ref, &st, NULL) < 0) {
		w->bad++;
		return;
	}
	struct rt_sqfs_dent d;
	int rc;
	while (w->entries < w->max_entries && (rc = rt_sq_dir_next(w->s, &st, &d)) == 0) {
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
	if (rt_sq_inode(w->s, ref, &i) < 0 || rt_sq_stat(w->s, i, &st) < 0) {
		w->bad++;
		return;
	}
	_cleanup_buf_ struct buf x = BUF_INIT;
	if (rt_sq_xattrs(w->s, ref, NULL, &x) < 0)
		w->bad++;
	if (rt_sq_inode(w->s, ref, &i) < 0) { /* rt_sq_xattrs may have evicted it */
		w->bad++;
		return;
	}
	if (rt_sq_is_link(i)) {
		char target[RT_SQFS_MAX_SYMLINK + 1];
		if (rt_sq_readlink(i, target) < 0)
			w->bad++;
	} else if (rt_sq_is_dir(i)) {
		walk_dir(w, ref, depth);
	} else if (rt_sq_is_file(i)) {
		for (uint64_t off = 0; off < (uint64_t)st.st_size && w->bytes < w->max_bytes;) {
			const uint8_t *p;
			size_t n;
			if (rt_sq_read(w->s, ref, off, 1u << 20, &p, &n) < 0 || n == 0) {
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
	int rc = rt_sq_open(src, &s, e);
	if (rc < 0)
		return rc;
	struct walk w = { .s = s, .max_entries = max_entries, .max_bytes = max_bytes };
	walk_entry(&w, s->root_ref, 0);
	return w.bad;
}
