/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded reading of SquashFS inodes and directory entries over
 * libsquashfs's metadata readers, shared by the image view (image.c:
 * inspect and the launcher's metadata files) and the FUSE server.
 *
 * Why: libsquashfs sizes an inode's allocation from fields of the inode
 * itself (4 bytes of block list per block of the claimed file size, the
 * symlink target size, extended directory index names) before anything
 * checks them, so a few forged bytes could ask for gigabytes. Each inode
 * is read raw first and those fields are bounded; only then does
 * libsquashfs decode it.
 */
#include "internal.h"

#include <sqfs/block.h>
#include <sqfs/dir.h>
#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/meta_reader.h>
#include <sqfs/super.h>

/*
 * Checks the raw inode at (@abs, @off) of the inode table. squashfs inode
 * layout: a 16-byte common header (u16 type first), then per type: basic
 * file size at +12 as u32, extended file size at +8 as u64, symlink target
 * size at +4 as u32; an extended directory holds 24 bytes with the index
 * count (u16) at +16, then per index entry u32 index, u32 start, u32 name
 * size - 1 and the name.
 */
static int inode_precheck(sqfs_meta_reader_t *inodes, const sqfs_super_t *sb, uint64_t abs, size_t off,
			  struct arca_err *e)
{
	uint8_t hdr[16] = { 0 }, body[16] = { 0 };
	if (sqfs_meta_reader_seek(inodes, abs, off) || sqfs_meta_reader_read(inodes, hdr, sizeof(hdr)))
		return err_set(e, -EBADMSG, "squashfs inode at %llu+%zu is unreadable", (unsigned long long)abs, off);
	unsigned type = (unsigned)hdr[0] | (unsigned)hdr[1] << 8;
	struct rd r;
	uint64_t size = 0;
	uint32_t u32;
	switch (type) {
	case SQFS_INODE_FILE:
		r = rd_make(body + 12, 4);
		if (sqfs_meta_reader_read(inodes, body, 16) || rd_u32le(&r, &u32) < 0)
			return err_set(e, -EBADMSG, "squashfs file inode is truncated");
		size = u32;
		break;
	case SQFS_INODE_EXT_FILE:
		r = rd_make(body + 8, 8);
		if (sqfs_meta_reader_read(inodes, body, 16) || rd_u64le(&r, &size) < 0)
			return err_set(e, -EBADMSG, "squashfs file inode is truncated");
		break;
	case SQFS_INODE_SLINK:
	case SQFS_INODE_EXT_SLINK:
		r = rd_make(body + 4, 4);
		if (sqfs_meta_reader_read(inodes, body, 8) || rd_u32le(&r, &u32) < 0)
			return err_set(e, -EBADMSG, "squashfs symlink inode is truncated");
		if (u32 > RT_SQFS_MAX_SYMLINK)
			return err_set(e, -EBADMSG, "squashfs symlink inode claims a %u-byte target (at most %u)",
				       (unsigned)u32, RT_SQFS_MAX_SYMLINK);
		return 0;
	case SQFS_INODE_EXT_DIR: {
		uint8_t d[24] = { 0 }, ent[12] = { 0 }, name[RT_SQFS_MAX_NAME];
		uint16_t count;
		r = rd_make(d + 16, 2);
		if (sqfs_meta_reader_read(inodes, d, sizeof(d)) || rd_u16le(&r, &count) < 0)
			return err_set(e, -EBADMSG, "squashfs directory inode is truncated");
		for (unsigned k = 0; k < count; k++) {
			r = rd_make(ent + 8, 4);
			if (sqfs_meta_reader_read(inodes, ent, sizeof(ent)) || rd_u32le(&r, &u32) < 0)
				return err_set(e, -EBADMSG, "squashfs directory index is truncated");
			if (u32 >= RT_SQFS_MAX_NAME)
				return err_set(e, -EBADMSG, "squashfs directory index names %u bytes (at most %u)",
					       (unsigned)u32 + 1, RT_SQFS_MAX_NAME);
			if (sqfs_meta_reader_read(inodes, name, (size_t)u32 + 1))
				return err_set(e, -EBADMSG, "squashfs directory index is truncated");
		}
		return 0;
	}
	default:
		return 0;
	}
	if (size / sb->block_size >= RT_SQFS_MAX_FILE_BLOCKS)
		return err_set(e, -EFBIG, "squashfs file inode claims %llu bytes: more than %u blocks of %u",
			       (unsigned long long)size, RT_SQFS_MAX_FILE_BLOCKS, (unsigned)sb->block_size);
	return 0;
}

int rt_sqfs_inode_read(sqfs_meta_reader_t *inodes, const sqfs_super_t *sb, uint64_t ref, sqfs_inode_generic_t **out,
		       struct arca_err *e)
{
	/* squashfs: an inode reference is the metadata block's offset from
	 * the inode table (48 bits) and a byte offset within the 8 KiB
	 * uncompressed block (16 bits). */
	uint64_t block = ref >> 16, off = ref & 0xFFFF, abs;
	if (off >= SQFS_META_BLOCK_SIZE || !ck_add64(sb->inode_table_start, block, &abs) ||
	    abs >= sb->directory_table_start)
		return err_set(e, -EBADMSG, "squashfs inode reference %#llx lies outside the inode table",
			       (unsigned long long)ref);
	int rc = inode_precheck(inodes, sb, abs, (size_t)off, e);
	if (rc < 0)
		return rc;
	sqfs_inode_generic_t *ino = NULL;
	/* libsquashfs adds the inode table start itself. */
	rc = sqfs_meta_reader_read_inode(inodes, sb, block, (size_t)off, &ino);
	if (rc)
		return err_set(e, rc == SQFS_ERROR_ALLOC ? -ENOMEM : -EBADMSG, "squashfs inode %#llx is corrupt",
			       (unsigned long long)ref);
	*out = ino;
	return 0;
}

int rt_sqfs_dir_next(sqfs_meta_reader_t *dirs, sqfs_readdir_state_t *st, struct rt_sqfs_dent *d)
{
	sqfs_dir_entry_t *ent = NULL;
	sqfs_u32 inum;
	sqfs_u64 iref;
	int rc = sqfs_meta_reader_readdir(dirs, st, &ent, &inum, &iref);
	if (rc > 0)
		return 1;
	if (rc < 0)
		return rc == SQFS_ERROR_ALLOC ? -ENOMEM : -EBADMSG;
	/* Names the VFS cannot represent make the listing corrupt. */
	size_t len = (size_t)ent->size + 1;
	if (len > RT_SQFS_MAX_NAME || memchr(ent->name, '/', len) || memchr(ent->name, '\0', len) ||
	    (len == 1 && ent->name[0] == '.') || (len == 2 && ent->name[0] == '.' && ent->name[1] == '.')) {
		sqfs_free(ent);
		return -EBADMSG;
	}
	memcpy(d->name, ent->name, len);
	d->name[len] = '\0';
	d->len = len;
	d->ref = iref;
	d->inum = inum;
	d->type = ent->type;
	sqfs_free(ent);
	return 0;
}
