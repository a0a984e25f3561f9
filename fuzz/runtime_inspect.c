/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes what `arca inspect` and the launcher read from an untrusted image
 * without mounting it: the squashfs view (superblock, directories, symlink
 * resolution inside the image, file data) on the metadata paths, and the
 * bind-list parser on the same bytes as text. */
#include "../lib/runtime/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
	"/.singularity.d/labels.json", "/.singularity.d/runscript", "/singularity",
	"/.singularity.d/env/90-environment.sh", "/a/../b/./c", "/etc/passwd",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_sqfs *fs = NULL;
	if (rt_sqfs_open(data, size, &fs, NULL) == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
			struct buf b = BUF_INIT;
			(void)rt_sqfs_read_file(fs, paths[i], 1u << 16, &b, NULL);
			buf_release(&b);
		}
		char **names = NULL;
		size_t n = 0;
		if (rt_sqfs_list_dir(fs, "/.singularity.d/env", &names, &n, NULL) == 0)
			rt_strv_free(names);
		rt_sqfs_close(fs);
	}
	/* the same bytes as a bind list */
	char *spec = strndup((const char *)data, size < 4096 ? size : 4096);
	if (spec) {
		struct rt_bind *binds = NULL;
		size_t nb = 0;
		(void)rt_bind_parse(spec, &binds, &nb, NULL);
		rt_binds_free(binds, nb);
		free(spec);
	}
	return 0;
}
