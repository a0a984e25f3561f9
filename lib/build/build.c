/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build_image(): metadata objects first, then the SquashFS partition
 * streamed into the image at its final offset, then one atomic rename.
 * The object order (deffile, JSON objects, partition) is the reference's.
 */
#include "internal.h"
#include "sif.h"

#include <fcntl.h>
#include <time.h>

static const char *const comp_names[] = {
	[BUILD_COMP_LZ4] = "lz4",   [BUILD_COMP_ZSTD] = "zstd", [BUILD_COMP_GZIP] = "gzip",
	[BUILD_COMP_XZ] = "xz",     [BUILD_COMP_NONE] = "none",
};

int build_compress_parse(const char *name, enum build_compress *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(comp_names); i++) {
		if (name && !strcmp(name, comp_names[i])) {
			*out = (enum build_compress)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *build_compress_name(enum build_compress c)
{
	return (size_t)c < ARRAY_SIZE(comp_names) ? comp_names[c] : "unknown";
}

void build_opts_init(struct build_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->compress = BUILD_DEFAULT_COMPRESS;
	o->block_size = BUILD_DEFAULT_BLOCK_SIZE;
}

static uint32_t clamp_u32(int64_t t)
{
	return t < 0 ? 0 : t > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

struct fill_ctx {
	const struct build_opts *o;
	const struct meta *m;
	int tar_fd; /* -1: the source is a directory */
	int64_t now;
	struct build_result res;
};

static void tree_setup(struct btree *t, const struct build_opts *o, int64_t now)
{
	t->privileged = o->privileged;
	t->has_epoch = o->has_epoch;
	t->epoch = clamp_u32(o->epoch);
	t->gen_time = o->has_epoch ? t->epoch : o->deterministic ? 0 : clamp_u32(now);
	t->warn = o->warn;
	t->warn_ctx = o->warn_ctx;
}

static int fill_partition(void *ctx, int fd, uint64_t off, uint64_t *size, struct arca_err *e)
{
	struct fill_ctx *c = ctx;
	const struct build_opts *o = c->o;
	struct btree t;
	tree_init(&t);
	tree_setup(&t, o, c->now);
	struct sqw *w = NULL;
	struct sqw_opts so = {
		.fd = fd,
		.base = off,
		.compress = o->compress,
		.block_size = o->block_size ? o->block_size : BUILD_DEFAULT_BLOCK_SIZE,
		.threads = o->threads,
		.mtime = t.gen_time,
		.progress = o->progress,
		.progress_ctx = o->progress_ctx,
		.tree = &t,
	};
	struct stat st;
	if (fstat(fd, &st) == 0) {
		t.has_skip = true;
		t.skip_dev = st.st_dev;
		t.skip_ino = st.st_ino;
	}
	int rc = tree_make_root(&t, e);
	if (rc >= 0)
		rc = sqw_open(&so, &w, e);
	/* Generated entries go first so that the source's copies of forced
	 * files are skipped instead of written and thrown away. */
	if (rc >= 0)
		rc = meta_add_tree(&t, sqw_sink(w), c->m, e);
	if (rc >= 0)
		rc = c->tar_fd >= 0 ? source_tar_read_fd(&t, sqw_sink(w), c->tar_fd, e)
				    : source_dir_read(&t, sqw_sink(w), o->source, e);
	if (rc >= 0)
		rc = sqw_finish(w, size, e);
	if (rc >= 0) {
		c->res = t.res;
		c->res.entries = t.count;
		c->res.sqfs_size = *size;
		c->res.sqfs_offset = off;
	}
	/* The block processor goes before the tree: its workers may still
	 * hold pointers into the nodes after a failure. */
	sqw_free(w);
	tree_release(&t);
	return rc;
}

static int add_object(struct sif_writer *sw, int32_t type, const char *name, const struct buf *b,
		      const struct sif_when *when, struct arca_err *e)
{
	struct sif_input in;
	sif_input_init(&in, type);
	in.data = b->p;
	in.size = b->len;
	in.name = name;
	return sif_add(sw, &in, when, NULL, e);
}

int build_image(const struct build_opts *o, struct build_result *res, struct arca_err *e)
{
	if (!o->source || !o->output)
		return err_set(e, -EINVAL, "a source and an output are required");
	if ((size_t)o->compress >= ARRAY_SIZE(comp_names))
		return err_set(e, -EINVAL, "unknown compressor %d", (int)o->compress);
	uint32_t bs = o->block_size ? o->block_size : BUILD_DEFAULT_BLOCK_SIZE;
	if (bs < 4096 || bs > (1u << 20) || (bs & (bs - 1)))
		return err_set(e, -EINVAL, "block size %" PRIu32 " is not a power of two from 4096 to 1048576", bs);
	const char *arch = o->arch ? o->arch : sif_host_arch();
	uint8_t code[SIF_ARCH_LEN];
	if (sif_arch_code(arch, code) < 0)
		return err_set(e, -EINVAL, "unknown architecture '%s'", arch);

	struct stat st;
	if (stat(o->source, &st) < 0)
		return err_setsys(e, -errno, "'%s'", o->source);
	_cleanup_close_ int tar_fd = -1;
	if (S_ISREG(st.st_mode)) {
		tar_fd = open(o->source, O_RDONLY | O_CLOEXEC);
		if (tar_fd < 0)
			return err_setsys(e, -errno, "opening '%s'", o->source);
	} else if (!S_ISDIR(st.st_mode)) {
		return err_set(e, -EINVAL, "'%s' is neither a directory nor a tar archive", o->source);
	}

	int64_t now = (int64_t)time(NULL);
	struct meta m;
	int rc = meta_prepare(o, arch, now, &m, e);
	if (rc < 0) {
		meta_release(&m);
		return rc;
	}

	struct sif_create_opts co = {
		.launch_script = "#!/usr/bin/env run-singularity\n",
		.deterministic = o->deterministic,
	};
	struct sif_when when = { .deterministic = o->deterministic };
	_cleanup_sif_writer_ struct sif_writer *sw = NULL;
	rc = sif_create(o->output, &co, &sw, e);
	if (rc >= 0 && m.has_deffile)
		rc = add_object(sw, SIF_DATA_DEFFILE, NULL, &m.deffile, &when, e);
	if (rc >= 0)
		rc = add_object(sw, SIF_DATA_GENERICJSON, "inspect-metadata.json", &m.inspect_json, &when, e);
	if (rc >= 0)
		rc = add_object(sw, SIF_DATA_LABELS, NULL, &m.labels_json, &when, e);
	if (rc >= 0 && m.has_env)
		rc = add_object(sw, SIF_DATA_ENVVAR, NULL, &m.env_sh, &when, e);

	struct fill_ctx fc = { .o = o, .m = &m, .tar_fd = tar_fd, .now = now };
	if (rc >= 0) {
		struct sif_input in;
		sif_input_init(&in, SIF_DATA_PARTITION);
		if (sif_input_partition(&in, SIF_FS_SQUASH, SIF_PART_PRIMSYS, arch) < 0)
			rc = err_set(e, -EINVAL, "unknown architecture '%s'", arch);
		in.fill = fill_partition;
		in.fill_ctx = &fc;
		if (rc >= 0)
			rc = sif_add(sw, &in, &when, NULL, e);
	}
	if (rc >= 0)
		rc = sif_writer_commit(sw, e);
	meta_release(&m);
	if (rc < 0)
		return rc;
	if (res)
		*res = fc.res;
	return 0;
}

/* ------------------------------------------------------------ checks */

static int null_begin(struct bsink *s, struct bnode *n, struct arca_err *e)
{
	(void)s;
	(void)n;
	(void)e;
	return 0;
}
static int null_append(struct bsink *s, const void *p, size_t len, struct arca_err *e)
{
	(void)s;
	(void)p;
	(void)len;
	(void)e;
	return 0;
}
static int null_end(struct bsink *s, struct arca_err *e)
{
	(void)s;
	(void)e;
	return 0;
}

int build_tar_check(const void *data, size_t len, uint64_t *entries, struct arca_err *e)
{
	struct bsink sink = { null_begin, null_append, null_end };
	struct btree t;
	tree_init(&t);
	t.privileged = true; /* parse device entries too */
	int rc = tree_make_root(&t, e);
	if (rc >= 0)
		rc = source_tar_read_mem(&t, &sink, data, len, e);
	if (rc >= 0 && entries)
		*entries = t.count;
	tree_release(&t);
	return rc;
}
