/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the squashfs side of the FUSE root: the input is a squashfs
 * partition, read through a memory block source and walked the way the
 * server serves it (directories, inodes, symlinks, xattrs, file data).
 * Bounded so a tiny image claiming huge files stays fast. */
#include "../lib/runtime/harden.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int mem_read(void *ctx, uint64_t off, void *p, size_t n)
{
	memcpy(p, (const uint8_t *)ctx + off, n);
	return 0;
}

static const struct rt_blocksrc_ops mem_ops = { .read_at = mem_read };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_blocksrc *src = NULL;
	if (size == 0 || rt_blocksrc_new(&mem_ops, (void *)(uintptr_t)data, size, &src, NULL) < 0)
		return 0;
	(void)rt_squashfs_check(src, 2048, 4u << 20, NULL);
	rt_blocksrc_free(src);
	return 0;
}
