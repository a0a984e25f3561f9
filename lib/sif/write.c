/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Creating and editing SIF images with the reference's placement rules, on
 * a temporary copy that atomically replaces the image on commit.
 */
#include "internal.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

struct sif_writer {
	struct atomic_file af;
	struct sif_header h;
	struct sif_descr *d;
	size_t nd;
};

static const uint8_t sif_magic[SIF_MAGIC_LEN] = { 'S', 'I', 'F', '_', 'M', 'A', 'G', 'I', 'C', 0 };

static int64_t resolve_time(const struct sif_writer *w, const struct sif_when *when)
{
	static const uint8_t nil[SIF_ID_LEN];
	if (when && when->has_time)
		return when->time;
	if (when && when->deterministic)
		return SIF_TIME_ZERO;
	if (memcmp(w->h.id, nil, SIF_ID_LEN) == 0 && sif_time_is_zero(w->h.created_at) &&
	    sif_time_is_zero(w->h.modified_at))
		return SIF_TIME_ZERO;
	return (int64_t)time(NULL);
}

int sif_create(const char *path, const struct sif_create_opts *opts, struct sif_writer **out, struct arca_err *e)
{
	struct sif_create_opts def = { 0 };
	if (!opts)
		opts = &def;
	int64_t cap = opts->descriptor_capacity || opts->has_capacity ? opts->descriptor_capacity : SIF_DEFAULT_CAPACITY;
	if (cap < 0 || cap > SIF_MAX_DESCRIPTORS)
		return err_set(e, -E2BIG, "descriptor capacity %" PRId64 " is outside 0..%d", cap, SIF_MAX_DESCRIPTORS);
	size_t launch_len = opts->launch_script ? strlen(opts->launch_script) : 0;
	if (launch_len >= SIF_LAUNCH_LEN)
		return err_set(e, -EINVAL, "launch script too large (%zu bytes, at most %d)", launch_len,
			       SIF_LAUNCH_LEN - 1);

	struct sif_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return err_set(e, -ENOMEM, "out of memory");
	w->af.fd = -1;
	w->nd = (size_t)cap;
	w->d = calloc(w->nd ? w->nd : 1, sizeof(*w->d));
	if (!w->d) {
		free(w);
		return err_set(e, -ENOMEM, "out of memory");
	}
	struct sif_header *h = &w->h;
	if (launch_len)
		memcpy(h->launch, opts->launch_script, launch_len);
	memcpy(h->magic, sif_magic, SIF_MAGIC_LEN);
	memcpy(h->version, "01", 3);
	memcpy(h->arch, "00", 3);
	int64_t t = (int64_t)time(NULL);
	if (opts->deterministic) {
		t = SIF_TIME_ZERO;
	} else if (opts->has_id) {
		memcpy(h->id, opts->id, SIF_ID_LEN);
	} else {
		if (getrandom(h->id, SIF_ID_LEN, 0) != SIF_ID_LEN) {
			sif_writer_free(w);
			return err_setsys(e, -EIO, "getrandom");
		}
		h->id[6] = (uint8_t)((h->id[6] & 0x0f) | 0x40); /* UUID version 4 */
		h->id[8] = (uint8_t)((h->id[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	}
	if (opts->deterministic && opts->has_id)
		memcpy(h->id, opts->id, SIF_ID_LEN);
	if (opts->has_time)
		t = opts->time;
	h->created_at = h->modified_at = t;
	h->descriptors_free = h->descriptors_total = cap;
	h->descriptors_offset = SIF_DEFAULT_DESCR_OFFSET;
	h->descriptors_size = cap * SIF_DESCR_SIZE;
	h->data_offset = h->descriptors_offset + h->descriptors_size;
	h->data_size = 0;

	int rc = atomic_open(&w->af, path, 0755, e);
	if (rc < 0) {
		free(w->d);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* Copies the original image into the temporary file; copy_file_range lets
 * the kernel (and reflink-capable filesystems) do it without user copies. */
static int clone_into(int src, int dst, uint64_t len)
{
	uint64_t done = 0;
	while (done < len) {
		size_t chunk = (size_t)((len - done) > (1u << 30) ? (1u << 30) : (len - done));
		ssize_t n = copy_file_range(src, NULL, dst, NULL, chunk, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)
				break;
			return -errno;
		}
		if (n == 0)
			return -EBADMSG;
		done += (uint64_t)n;
	}
	if (done == len)
		return 0;
	static uint8_t buf[1 << 16];
	while (done < len) {
		size_t chunk = (size_t)((len - done) > sizeof(buf) ? sizeof(buf) : (len - done));
		int rc = fd_pread_full(src, buf, chunk, done);
		if (rc == 0)
			rc = fd_pwrite_full(dst, buf, chunk, done);
		if (rc < 0)
			return rc;
		done += chunk;
	}
	return 0;
}

int sif_edit(const char *path, struct sif_writer **out, struct arca_err *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_setsys(e, -errno, "cannot open '%s'", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_setsys(e, -errno, "stat '%s'", path);
	if (!S_ISREG(st.st_mode))
		return err_set(e, -EINVAL, "'%s' is not a regular file", path);
	/* The edit replaces the file by rename, which only needs a writable
	 * directory; the reference opens the image for writing, so a file the
	 * caller may not write must be refused here as it would be there. */
	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) < 0)
		return err_setsys(e, -errno, "cannot open '%s' for writing", path);
	uint64_t len = (uint64_t)st.st_size;
	if (len < SIF_HEADER_SIZE)
		return err_set(e, -EBADMSG, "'%s': file of %" PRIu64 " bytes is too small for a SIF header", path, len);
	if (len > SIZE_MAX)
		return err_set(e, -E2BIG, "'%s' is too large to map", path);
	void *m = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return err_setsys(e, -errno, "mmap '%s'", path);

	struct sif_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		munmap(m, (size_t)len);
		return err_set(e, -ENOMEM, "out of memory");
	}
	w->af.fd = -1;
	int rc = sif_parse(m, len, &w->h, &w->d, e);
	munmap(m, (size_t)len);
	if (rc < 0) {
		free(w);
		return err_wrap(e, rc, "'%s'", path);
	}
	w->nd = (size_t)w->h.descriptors_total;
	rc = atomic_open(&w->af, path, st.st_mode & 07777, e);
	if (rc < 0) {
		free(w->d);
		free(w);
		return rc;
	}
	/* Keep the image's owner when an administrator edits a user's image;
	 * an unprivileged caller's temporary file is its own already. */
	if ((st.st_uid != geteuid() || st.st_gid != getegid()) && fchown(w->af.fd, st.st_uid, st.st_gid) < 0 &&
	    errno != EPERM) {
		sif_writer_free(w);
		return err_setsys(e, -errno, "chown temporary copy of '%s'", path);
	}
	rc = clone_into(fd, w->af.fd, len);
	if (rc < 0) {
		sif_writer_free(w);
		return err_setsys(e, rc, "copying '%s'", path);
	}
	*out = w;
	return 0;
}

/* End of the data section as the reference derives it from used objects. */
static int64_t calculated_data_size(const struct sif_writer *w)
{
	int64_t end = w->h.data_offset;
	for (size_t i = 0; i < w->nd; i++) {
		const struct sif_descr *d = &w->d[i];
		if (d->used && d->offset + d->size > end)
			end = d->offset + d->size;
	}
	return end - w->h.data_offset;
}

static bool has_primary(const struct sif_writer *w)
{
	for (size_t i = 0; i < w->nd; i++) {
		int32_t pt;
		if (w->d[i].used && sif_descr_partition(&w->d[i], NULL, &pt, NULL) == 0 && pt == SIF_PART_PRIMSYS)
			return true;
	}
	return false;
}

static int write_object_data(struct sif_writer *w, const struct sif_input *in, uint64_t off, uint64_t *size,
			     struct arca_err *e)
{
	int fd = w->af.fd;
	if (in->fill)
		return in->fill(in->fill_ctx, fd, off, size, e);
	if (in->fd >= 0) {
		uint8_t buf[1 << 16];
		uint64_t n = 0;
		for (;;) {
			ssize_t r = read(in->fd, buf, sizeof(buf));
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return err_setsys(e, -errno, "reading object data");
			}
			if (r == 0)
				break;
			int rc = fd_pwrite_full(fd, buf, (size_t)r, off + n);
			if (rc < 0)
				return err_setsys(e, rc, "writing object data");
			n += (uint64_t)r;
		}
		*size = n;
		return 0;
	}
	if (in->size > SIZE_MAX)
		return err_set(e, -E2BIG, "object too large");
	int rc = fd_pwrite_full(fd, in->data, (size_t)in->size, off);
	if (rc < 0)
		return err_setsys(e, rc, "writing object data");
	*size = in->size;
	return 0;
}

static int oci_digest(int fd, uint64_t off, uint64_t size, uint8_t extra[SIF_EXTRA_LEN], struct arca_err *e)
{
	static const char prefix[] = "sha256:";
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return err_set(e, -ENOMEM, "sha256 unavailable");
	}
	uint8_t chunk[1 << 16];
	int rc = 0;
	while (size && rc == 0) {
		size_t n = size > sizeof(chunk) ? sizeof(chunk) : (size_t)size;
		rc = fd_pread_full(fd, chunk, n, off);
		if (rc < 0)
			rc = err_setsys(e, rc, "reading back OCI blob");
		else if (!EVP_DigestUpdate(ctx, chunk, n))
			rc = err_set(e, -EIO, "sha256 failed");
		off += n;
		size -= n;
	}
	uint8_t md[32];
	if (rc == 0 && !EVP_DigestFinal_ex(ctx, md, NULL))
		rc = err_set(e, -EIO, "sha256 failed");
	EVP_MD_CTX_free(ctx);
	if (rc < 0)
		return rc;
	memcpy(extra, prefix, sizeof(prefix) - 1);
	hex_encode(md, sizeof(md), (char *)extra + sizeof(prefix) - 1);
	return 0;
}

int sif_add(struct sif_writer *w, const struct sif_input *in, const struct sif_when *when, uint32_t *id_out,
	    struct arca_err *e)
{
	size_t i = 0;
	while (i < w->nd && w->d[i].used)
		i++;
	if (i >= w->nd)
		return err_set(e, -ENOSPC, "insufficient descriptor capacity to add data object(s) to image");
	if (i >= UINT32_MAX)
		return err_set(e, -E2BIG, "object ID would overflow");
	if (in->name && strlen(in->name) > SIF_NAME_LEN)
		return err_set(e, -EINVAL, "name value too large");
	int32_t pt;
	struct sif_descr probe = { .datatype = in->datatype };
	memcpy(probe.extra, in->extra, SIF_EXTRA_LEN);
	bool primary = sif_descr_partition(&probe, NULL, &pt, NULL) == 0 && pt == SIF_PART_PRIMSYS;
	if (primary && has_primary(w))
		return err_set(e, -EEXIST, "image already contains a primary partition");
	int64_t align = in->alignment;
	if (align < 0)
		align = in->datatype == SIF_DATA_PARTITION ? SIF_PARTITION_ALIGN : 0;
	if (align > (int64_t)SIF_MAX_ALIGNMENT)
		return err_set(e, -EINVAL, "alignment %" PRId64 " exceeds %u", align, SIF_MAX_ALIGNMENT);

	int64_t t = resolve_time(w, when);
	int64_t data_size = calculated_data_size(w);
	int64_t unaligned = w->h.data_offset + data_size;
	uint64_t off;
	if (!ck_align64((uint64_t)unaligned, (uint64_t)(align > 0 ? align : 1), &off) || off > INT64_MAX)
		return err_set(e, -EOVERFLOW, "integer overflow when calculating alignment");
	uint64_t size = 0;
	int rc = write_object_data(w, in, off, &size, e);
	if (rc < 0)
		return rc;
	if (size > (uint64_t)INT64_MAX - off)
		return err_set(e, -EOVERFLOW, "object too large");

	struct sif_descr *d = &w->d[i];
	memset(d, 0, sizeof(*d));
	d->datatype = in->datatype;
	d->used = true;
	d->id = (uint32_t)i + 1;
	d->group_id = in->group_id | SIF_GROUP_MASK;
	d->linked_id = in->linked_id;
	d->offset = (int64_t)off;
	d->size = (int64_t)size;
	d->size_with_padding = (int64_t)off - unaligned + (int64_t)size;
	d->created_at = d->modified_at = in->has_time ? in->time : t;
	if (in->name)
		memcpy(d->name, in->name, strlen(in->name));
	memcpy(d->extra, in->extra, SIF_EXTRA_LEN);
	/* The reference digests OCI blobs while writing them unless a digest
	 * was given; images are expected to carry it. */
	if ((d->datatype == SIF_DATA_OCI_BLOB || d->datatype == SIF_DATA_OCI_ROOTINDEX) && d->extra[0] == 0) {
		rc = oci_digest(w->af.fd, off, size, d->extra, e);
		if (rc < 0) {
			memset(d, 0, sizeof(*d));
			return rc;
		}
	}
	if (primary)
		memcpy(w->h.arch, d->extra + 8, SIF_ARCH_LEN);
	w->h.descriptors_free--;
	w->h.data_size = data_size + d->size_with_padding;
	w->h.modified_at = t;
	if (id_out)
		*id_out = d->id;
	return 0;
}

static int zero_object(struct sif_writer *w, const struct sif_descr *d, struct arca_err *e)
{
	static const uint8_t zero[1 << 16];
	uint64_t left = (uint64_t)d->size, off = (uint64_t)d->offset;
	while (left) {
		size_t n = left > sizeof(zero) ? sizeof(zero) : (size_t)left;
		int rc = fd_pwrite_full(w->af.fd, zero, n, off);
		if (rc < 0)
			return err_setsys(e, rc, "zeroing object %" PRIu32, d->id);
		off += n;
		left -= n;
	}
	return 0;
}

static int delete_where(struct sif_writer *w, bool by_id, uint32_t id, int32_t datatype, unsigned flags,
			const struct sif_when *when, struct arca_err *e)
{
	int64_t t = resolve_time(w, when);
	bool selected = false;
	for (size_t i = 0; i < w->nd; i++) {
		struct sif_descr *d = &w->d[i];
		if (!d->used || (by_id ? d->id != id : d->datatype != datatype))
			continue;
		selected = true;
		if (flags & SIF_DEL_ZERO) {
			int rc = zero_object(w, d, e);
			if (rc < 0)
				return rc;
		}
		w->h.descriptors_free++;
		int32_t pt;
		if (sif_descr_partition(d, NULL, &pt, NULL) == 0 && pt == SIF_PART_PRIMSYS)
			memcpy(w->h.arch, "00", 3);
		memset(d, 0, sizeof(*d));
	}
	if (!selected)
		return by_id ? err_set(e, -ENOENT, "object %" PRIu32 " not found", id)
			     : err_set(e, -ENOENT, "no object of type %s", sif_datatype_name(datatype));
	w->h.modified_at = t;
	if (flags & SIF_DEL_COMPACT) {
		w->h.data_size = calculated_data_size(w);
		if (ftruncate(w->af.fd, (off_t)(w->h.data_offset + w->h.data_size)) < 0)
			return err_setsys(e, -errno, "truncating image");
	}
	return 0;
}

int sif_delete(struct sif_writer *w, uint32_t id, unsigned flags, const struct sif_when *when, struct arca_err *e)
{
	return delete_where(w, true, id, 0, flags, when, e);
}

int sif_delete_type(struct sif_writer *w, int32_t datatype, unsigned flags, const struct sif_when *when,
		    struct arca_err *e)
{
	return delete_where(w, false, 0, datatype, flags, when, e);
}

static struct sif_descr *writer_find(struct sif_writer *w, uint32_t id)
{
	for (size_t i = 0; i < w->nd; i++)
		if (w->d[i].used && w->d[i].id == id)
			return &w->d[i];
	return NULL;
}

int sif_set_primary(struct sif_writer *w, uint32_t id, const struct sif_when *when, struct arca_err *e)
{
	int64_t t = resolve_time(w, when);
	struct sif_descr *d = writer_find(w, id);
	if (!d)
		return err_set(e, -ENOENT, "object %" PRIu32 " not found", id);
	int32_t pt;
	if (sif_descr_partition(d, NULL, &pt, NULL) < 0)
		return err_set(e, -EINVAL, "data object not a partition");
	if (pt == SIF_PART_PRIMSYS)
		return 0;
	if (pt != SIF_PART_SYSTEM)
		return err_set(e, -EINVAL, "data object not a system partition");
	for (size_t i = 0; i < w->nd; i++) {
		struct sif_descr *o = &w->d[i];
		int32_t opt;
		if (o->used && sif_descr_partition(o, NULL, &opt, NULL) == 0 && opt == SIF_PART_PRIMSYS) {
			put_u32le(o->extra + 4, SIF_PART_SYSTEM);
			o->modified_at = t;
			break;
		}
	}
	put_u32le(d->extra + 4, SIF_PART_PRIMSYS);
	d->modified_at = t;
	memcpy(w->h.arch, d->extra + 8, SIF_ARCH_LEN);
	w->h.modified_at = t;
	return 0;
}

int sif_set_extra(struct sif_writer *w, uint32_t id, const uint8_t extra[SIF_EXTRA_LEN], const struct sif_when *when,
		  struct arca_err *e)
{
	int64_t t = resolve_time(w, when);
	struct sif_descr *d = writer_find(w, id);
	if (!d)
		return err_set(e, -ENOENT, "object %" PRIu32 " not found", id);
	memcpy(d->extra, extra, SIF_EXTRA_LEN);
	d->modified_at = t;
	w->h.modified_at = t;
	return 0;
}

int sif_writer_commit(struct sif_writer *w, struct arca_err *e)
{
	size_t table = w->nd * SIF_DESCR_SIZE;
	uint8_t *buf = calloc(1, table ? table : 1);
	if (!buf)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < w->nd; i++)
		sif_descr_encode(&w->d[i], buf + i * SIF_DESCR_SIZE);
	int rc = fd_pwrite_full(w->af.fd, buf, table, (uint64_t)w->h.descriptors_offset);
	free(buf);
	if (rc < 0)
		return err_setsys(e, rc, "writing descriptors");
	uint8_t hdr[SIF_HEADER_SIZE];
	sif_header_encode(&w->h, hdr);
	rc = fd_pwrite_full(w->af.fd, hdr, sizeof(hdr), 0);
	if (rc < 0)
		return err_setsys(e, rc, "writing header");
	/* The data region starts at data_offset even when the descriptor table
	 * is empty; the reference's images always reach it. */
	struct stat st;
	if (fstat(w->af.fd, &st) < 0)
		return err_setsys(e, -errno, "stat");
	if (st.st_size < w->h.data_offset && ftruncate(w->af.fd, w->h.data_offset) < 0)
		return err_setsys(e, -errno, "extending image");
	return atomic_commit(&w->af, e);
}

void sif_writer_free(struct sif_writer *w)
{
	if (!w)
		return;
	if (w->af.fd >= 0 || w->af.tmp_path)
		atomic_abort(&w->af);
	free(w->d);
	free(w);
}

const struct sif_header *sif_writer_header(const struct sif_writer *w) { return &w->h; }
const struct sif_descr *sif_writer_slot(const struct sif_writer *w, size_t i) { return i < w->nd ? &w->d[i] : NULL; }
int sif_writer_fd(const struct sif_writer *w) { return w->af.fd; }
