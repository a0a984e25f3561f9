/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading an image without mounting it: the primary partition checks a
 * launch needs, a small read-only SquashFS view (libsquashfs over the mapped
 * partition) and `inspect`.
 */
#include "internal.h"

#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/meta_reader.h>
#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>

void rt_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int rt_image_partition(const struct sif_image *img, const struct sif_descr **out, struct arca_err *e)
{
	const struct sif_descr *d;
	int rc = sif_primary_partition(img, &d);
	if (rc == -ENOENT)
		return err_set(e, -ENOENT, "image has no primary system partition");
	if (rc < 0)
		return err_setsys(e, rc, "finding the primary partition");
	int32_t fs, part;
	uint8_t arch[SIF_ARCH_LEN];
	rc = sif_descr_partition(d, &fs, &part, arch);
	if (rc < 0)
		return err_set(e, -EBADMSG, "primary partition descriptor is malformed");
	if (fs == SIF_FS_ENCRYPTED_SQUASHFS)
		return err_set(e, -ENOTSUP, "encrypted images are not supported yet");
	if (fs != SIF_FS_SQUASH)
		return err_set(e, -ENOTSUP, "primary partition is %s, only squashfs can be run", sif_fstype_name(fs));
	const char *want = sif_arch_name(arch);
	if (strcmp(want, sif_host_arch()) != 0)
		return err_set(e, -ENOEXEC, "image architecture '%s' does not match this host ('%s')", want,
			       sif_host_arch());
	if (d->size <= 0)
		return err_set(e, -EBADMSG, "primary partition is empty");
	*out = d;
	return 0;
}

/* ------------------------------------------------------------ squashfs view */

struct mem_file {
	sqfs_file_t base;
	const uint8_t *data;
	uint64_t size;
};

static void mem_destroy(sqfs_object_t *o) { free(o); }

static int mem_read_at(sqfs_file_t *f, sqfs_u64 off, void *p, size_t n)
{
	struct mem_file *m = (struct mem_file *)f;
	if (!range_ok(off, n, m->size))
		return SQFS_ERROR_OUT_OF_BOUNDS;
	memcpy(p, m->data + off, n);
	return 0;
}

static int mem_write_at(sqfs_file_t *f, sqfs_u64 off, const void *p, size_t n)
{
	(void)f, (void)off, (void)p, (void)n;
	return SQFS_ERROR_IO;
}

static sqfs_u64 mem_get_size(const sqfs_file_t *f) { return ((const struct mem_file *)f)->size; }

static int mem_truncate(sqfs_file_t *f, sqfs_u64 size)
{
	(void)f, (void)size;
	return SQFS_ERROR_IO;
}

struct rt_sqfs {
	struct mem_file *file;
	sqfs_super_t super;
	sqfs_compressor_t *cmp;
	sqfs_meta_reader_t *inodes;
	sqfs_meta_reader_t *dirs;
	sqfs_data_reader_t *data;
};

void rt_sqfs_close(struct rt_sqfs *fs)
{
	if (!fs)
		return;
	sqfs_destroy(fs->data);
	sqfs_destroy(fs->dirs);
	sqfs_destroy(fs->inodes);
	sqfs_destroy(fs->cmp);
	if (fs->file)
		sqfs_destroy(&fs->file->base);
	free(fs);
}

int rt_sqfs_open(const uint8_t *data, uint64_t size, struct rt_sqfs **out, struct arca_err *e)
{
	struct rt_sqfs *fs = calloc(1, sizeof(*fs));
	struct mem_file *m = calloc(1, sizeof(*m));
	if (!fs || !m) {
		free(fs);
		free(m);
		return err_set(e, -ENOMEM, "out of memory");
	}
	m->base.base.destroy = mem_destroy;
	m->base.read_at = mem_read_at;
	m->base.write_at = mem_write_at;
	m->base.get_size = mem_get_size;
	m->base.truncate = mem_truncate;
	m->data = data;
	m->size = size;
	fs->file = m;

	int rc = sqfs_super_read(&fs->super, &m->base);
	if (rc) {
		rt_sqfs_close(fs);
		return err_set(e, -EBADMSG, "partition is not a readable squashfs (superblock error %d)", rc);
	}
	/* libsquashfs sizes its tables from these fields: check them against
	 * the partition before it allocates anything from them */
	const sqfs_super_t *sb = &fs->super;
	if (sb->bytes_used > size || sb->inode_table_start >= sb->directory_table_start ||
	    sb->directory_table_start >= sb->bytes_used) {
		rt_sqfs_close(fs);
		return err_set(e, -EBADMSG, "squashfs superblock: tables lie outside the partition");
	}
	if (!(sb->flags & SQFS_FLAG_NO_FRAGMENTS) && sb->fragment_entry_count &&
	    (sb->fragment_entry_count > RT_SQFS_MAX_FRAGMENTS || sb->fragment_entry_count > sb->bytes_used ||
	     sb->fragment_table_start >= sb->bytes_used)) {
		unsigned count = sb->fragment_entry_count; /* sb dies with fs */
		rt_sqfs_close(fs);
		return err_set(e, -EBADMSG, "squashfs superblock: %u fragments do not fit the partition", count);
	}
	sqfs_compressor_config_t cfg;
	rc = sqfs_compressor_config_init(&cfg, (SQFS_COMPRESSOR)fs->super.compression_id, fs->super.block_size,
					 SQFS_COMP_FLAG_UNCOMPRESS);
	if (!rc)
		rc = sqfs_compressor_create(&cfg, &fs->cmp);
	if (rc) {
		unsigned id = fs->super.compression_id; /* fs is freed below */
		rt_sqfs_close(fs);
		return err_set(e, -ENOTSUP, "squashfs compressor %u is not supported", id);
	}
	/* Inodes and directories go through plain metadata readers, not
	 * libsquashfs's directory reader: its path lookup decodes every inode
	 * on the way unchecked, rt_sqfs_inode_read() bounds each first. */
	fs->inodes = sqfs_meta_reader_create(&m->base, fs->cmp, sb->inode_table_start, sb->directory_table_start);
	fs->dirs = sqfs_meta_reader_create(&m->base, fs->cmp, sb->directory_table_start, sb->bytes_used);
	fs->data = sqfs_data_reader_create(&m->base, fs->super.block_size, fs->cmp, 0);
	if (!fs->inodes || !fs->dirs || !fs->data) {
		rt_sqfs_close(fs);
		return err_set(e, -ENOMEM, "out of memory");
	}
	rc = sqfs_data_reader_load_fragment_table(fs->data, &fs->super);
	if (rc) {
		rt_sqfs_close(fs);
		return err_set(e, -EBADMSG, "squashfs fragment table is corrupt");
	}
	*out = fs;
	return 0;
}

static void sqfs_freep(sqfs_inode_generic_t **p) { sqfs_free(*p); }

static bool ino_is_dir(const sqfs_inode_generic_t *i)
{
	return i->base.type == SQFS_INODE_DIR || i->base.type == SQFS_INODE_EXT_DIR;
}

/* An inode through the bounded reader; an impossible file size makes the
 * image corrupt here (the FUSE server refuses only that file). */
static int sqfs_inode(struct rt_sqfs *fs, uint64_t ref, sqfs_inode_generic_t **out, struct arca_err *e)
{
	int rc = rt_sqfs_inode_read(fs->inodes, &fs->super, ref, out, e);
	if (rc != -EFBIG)
		return rc;
	if (e)
		e->code = -EBADMSG; /* the reader's reason stays */
	return -EBADMSG;
}

static int sqfs_root(struct rt_sqfs *fs, sqfs_inode_generic_t **out, struct arca_err *e)
{
	sqfs_inode_generic_t *ino = NULL;
	int rc = sqfs_inode(fs, fs->super.root_inode_ref, &ino, e);
	if (rc < 0)
		return rc;
	if (!ino_is_dir(ino)) {
		sqfs_free(ino);
		return err_set(e, -EBADMSG, "squashfs root inode is not a directory");
	}
	*out = ino;
	return 0;
}

/* The inode of entry @name in directory @dir: -ENOENT absent, -ENOTDIR
 * when @dir is not a directory. */
static int sqfs_lookup(struct rt_sqfs *fs, const sqfs_inode_generic_t *dir, const char *name,
		       sqfs_inode_generic_t **out, struct arca_err *e)
{
	if (!ino_is_dir(dir))
		return -ENOTDIR;
	size_t nlen = strlen(name);
	if (nlen == 0 || nlen > RT_SQFS_MAX_NAME)
		return -ENOENT;
	sqfs_readdir_state_t st;
	if (sqfs_readdir_state_init(&st, &fs->super, dir))
		return err_set(e, -EBADMSG, "squashfs directory inode is corrupt");
	for (uint32_t n = 0; n < RT_SQFS_MAX_DIR_ENTRIES; n++) {
		struct rt_sqfs_dent d;
		int rc = rt_sqfs_dir_next(fs->dirs, &st, &d);
		if (rc > 0)
			return -ENOENT;
		if (rc < 0)
			return err_set(e, rc, "squashfs directory listing is corrupt");
		if (d.len == nlen && memcmp(d.name, name, nlen) == 0)
			return sqfs_inode(fs, d.ref, out, e);
	}
	return err_set(e, -EBADMSG, "squashfs directory has more than %u entries", RT_SQFS_MAX_DIR_ENTRIES);
}

/* The inode at canonical @path (no symlinks, "." or ".." in it; "" is the
 * root), one component at a time from the root. */
static int sqfs_walk(struct rt_sqfs *fs, const char *path, sqfs_inode_generic_t **out, struct arca_err *e)
{
	sqfs_inode_generic_t *ino = NULL;
	int rc = sqfs_root(fs, &ino, e);
	if (rc < 0)
		return rc;
	char comp[RT_SQFS_MAX_NAME + 1];
	for (const char *p = path;;) {
		while (*p == '/')
			p++;
		size_t clen = strcspn(p, "/");
		if (clen == 0)
			break;
		if (clen >= sizeof(comp)) {
			sqfs_free(ino);
			return -ENOENT;
		}
		memcpy(comp, p, clen);
		comp[clen] = '\0';
		p += clen;
		sqfs_inode_generic_t *next = NULL;
		rc = sqfs_lookup(fs, ino, comp, &next, e);
		sqfs_free(ino);
		if (rc < 0)
			return rc;
		ino = next;
	}
	*out = ino;
	return 0;
}

/*
 * Resolves @path to an inode, following symlinks as the kernel would with
 * the image as root: ".." never climbs above "/", absolute targets restart
 * at the image's root. Keeps a canonical prefix (no symlinks in it) and
 * looks up one component at a time; going back ("..", a symlink) walks the
 * prefix again from the root. -EBADMSG, with the reason in @e, for a
 * corrupt or forged image.
 */
static int sqfs_resolve(struct rt_sqfs *fs, const char *path, sqfs_inode_generic_t **out, struct arca_err *e)
{
	_cleanup_buf_ struct buf cur = BUF_INIT;  /* canonical prefix, "" = root */
	_cleanup_buf_ struct buf rest = BUF_INIT; /* what is left to walk */
	buf_addstr(&rest, path);
	unsigned links = 0;
	sqfs_inode_generic_t *ino = NULL;
	int rc = sqfs_root(fs, &ino, e);
	if (rc < 0)
		return rc;

	for (;;) {
		if (buf_error(&cur) || buf_error(&rest)) {
			sqfs_free(ino);
			return -ENOMEM;
		}
		char *p = rest.p;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *slash = strchr(p, '/');
		size_t clen = slash ? (size_t)(slash - p) : strlen(p);
		_cleanup_free_ char *comp = strndup(p, clen);
		if (!comp) {
			sqfs_free(ino);
			return -ENOMEM;
		}
		/* drop the component from rest */
		size_t consumed = (size_t)(p - rest.p) + clen;
		memmove(rest.p, rest.p + consumed, rest.len - consumed + 1);
		buf_setlen(&rest, rest.len - consumed);

		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *last = strrchr(cur.p, '/');
			buf_setlen(&cur, last ? (size_t)(last - cur.p) : 0);
			sqfs_free(ino);
			ino = NULL;
			if ((rc = sqfs_walk(fs, cur.p, &ino, e)) < 0)
				return rc;
			continue;
		}
		size_t keep = cur.len;
		buf_addch(&cur, '/');
		buf_addstr(&cur, comp);
		sqfs_inode_generic_t *next = NULL;
		rc = sqfs_lookup(fs, ino, comp, &next, e);
		sqfs_free(ino);
		if (rc < 0)
			return rc;
		ino = next;
		if (ino->base.type != SQFS_INODE_SLINK && ino->base.type != SQFS_INODE_EXT_SLINK)
			continue;
		if (++links > RT_SQFS_MAX_SYMLINKS) {
			sqfs_free(ino);
			return -ELOOP;
		}
		uint32_t tlen = ino->base.type == SQFS_INODE_SLINK ? ino->data.slink.target_size
								   : ino->data.slink_ext.target_size;
		if (tlen > ino->payload_bytes_used && ino->payload_bytes_used != 0) {
			sqfs_free(ino);
			return err_set(e, -EBADMSG, "squashfs symlink inode is corrupt");
		}
		_cleanup_free_ char *target = strndup((const char *)ino->extra, tlen);
		sqfs_free(ino);
		ino = NULL;
		if (!target)
			return -ENOMEM;
		/* rest = target + "/" + rest */
		_cleanup_buf_ struct buf nr = BUF_INIT;
		buf_addstr(&nr, target);
		buf_addch(&nr, '/');
		buf_add(&nr, rest.p, rest.len);
		if (buf_error(&nr))
			return -ENOMEM;
		buf_reset(&rest);
		buf_add(&rest, nr.p, nr.len);
		buf_setlen(&cur, target[0] == '/' ? 0 : keep);
		if ((rc = sqfs_walk(fs, cur.p, &ino, e)) < 0)
			return rc;
	}
	*out = ino;
	return 0;
}

/* A failed resolve of @path: a corrupt image keeps the reader's reason,
 * the rest is told by errno. */
static int resolve_err(struct arca_err *e, int rc, const char *verb, const char *path)
{
	if (rc == -EBADMSG)
		return err_wrap(e, rc, "%s '%s' in the image: corrupt or forged image", verb, path);
	return err_setsys(e, rc, "%s '%s' in the image", verb, path);
}

int rt_sqfs_read_file(struct rt_sqfs *fs, const char *path, size_t max, struct buf *out, struct arca_err *e)
{
	_cleanup_(sqfs_freep) sqfs_inode_generic_t *ino = NULL;
	int rc = sqfs_resolve(fs, path, &ino, e);
	if (rc < 0)
		return resolve_err(e, rc, "reading", path);
	if (ino->base.type != SQFS_INODE_FILE && ino->base.type != SQFS_INODE_EXT_FILE)
		return err_set(e, -EISDIR, "'%s' in the image is not a regular file", path);
	sqfs_u64 size = 0;
	if (sqfs_inode_get_file_size(ino, &size))
		return err_set(e, -EBADMSG, "'%s' in the image: bad inode", path);
	if (size > max)
		return err_set(e, -E2BIG, "'%s' in the image is larger than %zu bytes", path, max);
	size_t base = out->len;
	if (!buf_grow(out, (size_t)size))
		return err_set(e, -ENOMEM, "out of memory");
	sqfs_s32 got = sqfs_data_reader_read(fs->data, ino, 0, out->p + base, (sqfs_u32)size);
	if (got < 0 || (sqfs_u64)got != size) {
		buf_setlen(out, base);
		return err_set(e, -EBADMSG, "'%s' in the image: data blocks are corrupt", path);
	}
	out->len = base + (size_t)size;
	out->p[out->len] = '\0';
	return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int rt_sqfs_list_dir(struct rt_sqfs *fs, const char *path, char ***names, size_t *n, struct arca_err *e)
{
	_cleanup_(sqfs_freep) sqfs_inode_generic_t *ino = NULL;
	int rc = sqfs_resolve(fs, path, &ino, e);
	if (rc < 0)
		return resolve_err(e, rc, "listing", path);
	if (!ino_is_dir(ino))
		return err_set(e, -ENOTDIR, "'%s' in the image is not a directory", path);
	sqfs_readdir_state_t st;
	if (sqfs_readdir_state_init(&st, &fs->super, ino))
		return err_set(e, -EBADMSG, "listing '%s' in the image: corrupt directory", path);
	char **v = calloc(1, sizeof(char *));
	size_t cnt = 0;
	if (!v)
		return err_set(e, -ENOMEM, "out of memory");
	for (;;) {
		struct rt_sqfs_dent d;
		rc = rt_sqfs_dir_next(fs->dirs, &st, &d);
		if (rc > 0)
			break;
		if (rc < 0) {
			rt_strv_free(v);
			return err_set(e, rc, "listing '%s' in the image: corrupt directory", path);
		}
		if (cnt >= RT_SQFS_MAX_DIRENTS) {
			rt_strv_free(v);
			return err_set(e, -E2BIG, "'%s' in the image has more than %u entries", path,
				       RT_SQFS_MAX_DIRENTS);
		}
		char *name = strndup(d.name, d.len);
		char **nv = name ? realloc(v, (cnt + 2) * sizeof(char *)) : NULL;
		if (!nv) {
			free(name);
			rt_strv_free(v);
			return err_set(e, -ENOMEM, "out of memory");
		}
		v = nv;
		v[cnt++] = name;
		v[cnt] = NULL;
	}
	qsort(v, cnt, sizeof(char *), cmp_str);
	*names = v;
	*n = cnt;
	return 0;
}

/* --------------------------------------------------------------- inspect */

static int descr_text(const struct sif_image *img, int32_t type, struct buf *out)
{
	for (size_t i = 0; i < sif_descr_slots(img); i++) {
		const struct sif_descr *d = sif_descr_slot(img, i);
		if (!d->used || d->datatype != type)
			continue;
		buf_add(out, sif_object_data(img, d), (size_t)d->size);
		return 1;
	}
	return 0;
}

/* Puts every member of JSON object text @text into @labels (later wins). */
static int merge_labels(struct val *labels, const char *text, size_t len, const char *what, struct arca_err *e)
{
	_cleanup_val_ struct val *v = NULL;
	int rc = val_from_json(text, len, NULL, &v, e);
	if (rc < 0)
		return err_wrap(e, rc, "%s", what);
	if (v->kind != VAL_OBJECT)
		return err_set(e, -EBADMSG, "%s is not a JSON object", what);
	for (size_t i = 0; i < v->obj.n; i++) {
		rc = val_object_put(labels, val_ref(v->obj.keys[i]), val_ref(v->obj.vals[i]));
		if (rc < 0)
			return err_set(e, rc, "out of memory");
	}
	return 0;
}

static int put_text(struct val *o, const char *key, const struct buf *b, struct arca_err *e)
{
	if (val_object_put_cstr(o, key, val_string(b->p, b->len)) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	return 0;
}

/* Reads @path into @b when present; a missing file is not an error. */
static int read_opt(struct rt_sqfs *fs, const char *path, struct buf *b, struct arca_err *e)
{
	struct arca_err tmp = { 0 };
	int rc = rt_sqfs_read_file(fs, path, RT_SQFS_MAX_FILE, b, &tmp);
	if (rc == -ENOENT || rc == -ENOTDIR)
		return 0;
	if (rc < 0) {
		if (e)
			*e = tmp;
		return rc;
	}
	return 1;
}

int rt_inspect(const char *image, unsigned what, struct val **out, struct arca_err *e)
{
	_cleanup_sif_ struct sif_image *img = NULL;
	int rc = sif_open(image, &img, e);
	if (rc < 0)
		return rc;
	const struct sif_descr *d = NULL;
	struct rt_sqfs *fs = NULL;
	rc = sif_primary_partition(img, &d);
	if (rc == 0) {
		int32_t fstype = 0, part;
		uint8_t arch[SIF_ARCH_LEN];
		if (sif_descr_partition(d, &fstype, &part, arch) == 0 && fstype == SIF_FS_SQUASH) {
			rc = rt_sqfs_open(sif_object_data(img, d), (uint64_t)d->size, &fs, e);
			if (rc < 0)
				return rc;
		}
	}

	_cleanup_val_ struct val *o = val_object_new(4);
	if (!o) {
		rt_sqfs_close(fs);
		return err_set(e, -ENOMEM, "out of memory");
	}
	rc = 0;
	if (what & RT_INSPECT_LABELS) {
		struct val *labels = val_object_new(8);
		if (!labels || val_object_put_cstr(o, "labels", labels) < 0) {
			rc = err_set(e, -ENOMEM, "out of memory");
			goto out;
		}
		_cleanup_buf_ struct buf b = BUF_INIT;
		if (fs && (rc = read_opt(fs, "/.singularity.d/labels.json", &b, e)) > 0)
			rc = merge_labels(labels, b.p, b.len, "/.singularity.d/labels.json", e);
		if (rc < 0)
			goto out;
		buf_reset(&b);
		if (descr_text(img, SIF_DATA_LABELS, &b) > 0 &&
		    (rc = merge_labels(labels, b.p, b.len, "labels descriptor", e)) < 0)
			goto out;
	}
	if (what & RT_INSPECT_DEFFILE) {
		_cleanup_buf_ struct buf b = BUF_INIT;
		if (!descr_text(img, SIF_DATA_DEFFILE, &b) && fs &&
		    (rc = read_opt(fs, "/.singularity.d/Singularity", &b, e)) < 0)
			goto out;
		if ((rc = put_text(o, "deffile", &b, e)) < 0)
			goto out;
	}
	if (what & RT_INSPECT_RUNSCRIPT) {
		_cleanup_buf_ struct buf b = BUF_INIT;
		if (fs && (rc = read_opt(fs, "/.singularity.d/runscript", &b, e)) == 0)
			rc = read_opt(fs, "/singularity", &b, e);
		if (rc < 0 || (rc = put_text(o, "runscript", &b, e)) < 0)
			goto out;
	}
	if (what & RT_INSPECT_TEST) {
		_cleanup_buf_ struct buf b = BUF_INIT;
		if ((fs && (rc = read_opt(fs, "/.singularity.d/test", &b, e)) < 0) ||
		    (rc = put_text(o, "test", &b, e)) < 0)
			goto out;
	}
	if (what & RT_INSPECT_ENVIRONMENT) {
		_cleanup_buf_ struct buf b = BUF_INIT;
		if (!descr_text(img, SIF_DATA_ENVVAR, &b) && fs) {
			char **names = NULL;
			size_t n = 0;
			struct arca_err tmp = { 0 };
			if (rt_sqfs_list_dir(fs, "/.singularity.d/env", &names, &n, &tmp) == 0) {
				/* The reference shows the definition's %environment
				 * (90-) and the image's own (91-, from OCI configs). */
				for (size_t i = 0; i < n && rc >= 0; i++) {
					if (strncmp(names[i], "9", 1) || !strstr(names[i], "-environment.sh"))
						continue;
					_cleanup_free_ char *p = NULL;
					if (asprintf(&p, "/.singularity.d/env/%s", names[i]) < 0) {
						rc = err_set(e, -ENOMEM, "out of memory");
						break;
					}
					rc = read_opt(fs, p, &b, e);
				}
				rt_strv_free(names);
				if (rc < 0)
					goto out;
			}
		}
		if ((rc = put_text(o, "environment", &b, e)) < 0)
			goto out;
	}
	*out = TAKE_PTR(o);
	rc = 0;
out:
	rt_sqfs_close(fs);
	return rc;
}
