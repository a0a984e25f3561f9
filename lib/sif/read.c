/* SPDX-License-Identifier: Apache-2.0 */
/* Opening and validating SIF images. */
#include "internal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

struct sif_image {
	int fd;
	const uint8_t *map;
	uint64_t len;
	bool mapped;
	struct sif_header h;
	struct sif_descr *d;
	size_t nd;
};

static const uint8_t sif_magic[SIF_MAGIC_LEN] = { 'S', 'I', 'F', '_', 'M', 'A', 'G', 'I', 'C', 0 };
static const uint8_t sif_version[SIF_VERSION_LEN] = { '0', '1', 0 };

struct span {
	uint64_t start, end;
	uint32_t id;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : (x->end > y->end);
}

int sif_validate(const struct sif_header *h, const struct sif_descr *descr, uint64_t file_len, struct arca_err *e)
{
	/* SIF: the descriptor table lies after the header and within the file. */
	uint64_t table = (uint64_t)h->descriptors_total * SIF_DESCR_SIZE;
	if (h->descriptors_offset < SIF_HEADER_SIZE)
		return err_set(e, -EBADMSG, "descriptor table offset %" PRId64 " overlaps the header",
			       h->descriptors_offset);
	if ((uint64_t)h->descriptors_size < table)
		return err_set(e, -EBADMSG, "descriptor table size %" PRId64 " is smaller than %" PRId64 " descriptors",
			       h->descriptors_size, h->descriptors_total);
	if (!range_ok((uint64_t)h->descriptors_offset, table, file_len))
		return err_set(e, -EBADMSG, "descriptor table (offset %" PRId64 ", %" PRIu64 " bytes) extends past the end of the file",
			       h->descriptors_offset, table);
	uint64_t meta_end = (uint64_t)h->descriptors_offset + table;
	if (h->data_offset < 0 || (uint64_t)h->data_offset > file_len)
		return err_set(e, -EBADMSG, "data offset %" PRId64 " lies outside the file", h->data_offset);
	if (h->data_size < 0 || !range_ok((uint64_t)h->data_offset, (uint64_t)h->data_size, file_len))
		return err_set(e, -EBADMSG, "data region (offset %" PRId64 ", size %" PRId64 ") extends past the end of the file",
			       h->data_offset, h->data_size);

	size_t used = 0;
	struct span *spans = calloc((size_t)h->descriptors_total + 1, sizeof(*spans));
	if (!spans)
		return err_set(e, -ENOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < (size_t)h->descriptors_total; i++) {
		const struct sif_descr *d = &descr[i];
		if (!d->used)
			continue;
		if (d->id == 0) {
			rc = err_set(e, -EBADMSG, "descriptor %zu is in use but has object ID 0", i);
			goto out;
		}
		if ((d->group_id & SIF_GROUP_MASK) != SIF_GROUP_MASK) {
			rc = err_set(e, -EBADMSG, "object %" PRIu32 " has malformed group ID 0x%08" PRIx32, d->id,
				     d->group_id);
			goto out;
		}
		if (d->offset < 0 || d->size < 0 || !range_ok((uint64_t)d->offset, (uint64_t)d->size, file_len)) {
			rc = err_set(e, -EBADMSG,
				     "object %" PRIu32 " (offset %" PRId64 ", size %" PRId64 ") extends past the end of the file (%" PRIu64 " bytes)",
				     d->id, d->offset, d->size, file_len);
			goto out;
		}
		/* Padding comes before the data: the padded size is never smaller. */
		if (d->size_with_padding < d->size) {
			rc = err_set(e, -EBADMSG, "object %" PRIu32 " has padded size %" PRId64 " below its size %" PRId64,
				     d->id, d->size_with_padding, d->size);
			goto out;
		}
		if (d->size > 0 && (uint64_t)d->offset < meta_end) {
			rc = err_set(e, -EBADMSG, "object %" PRIu32 " at offset %" PRId64 " overlaps the header or descriptor table",
				     d->id, d->offset);
			goto out;
		}
		spans[used++] = (struct span){ (uint64_t)d->offset, (uint64_t)d->offset + (uint64_t)d->size, d->id };
	}
	if (h->descriptors_free < 0 || (uint64_t)h->descriptors_free != (uint64_t)h->descriptors_total - used) {
		rc = err_set(e, -EBADMSG, "header says %" PRId64 " free descriptors but %zu of %" PRId64 " are in use",
			     h->descriptors_free, used, h->descriptors_total);
		goto out;
	}
	qsort(spans, used, sizeof(*spans), span_cmp);
	uint64_t end = 0;
	uint32_t end_id = 0;
	for (size_t i = 0; i < used; i++) {
		if (spans[i].end > spans[i].start && spans[i].start < end) {
			rc = err_set(e, -EBADMSG, "objects %" PRIu32 " and %" PRIu32 " overlap", end_id, spans[i].id);
			goto out;
		}
		if (spans[i].end > end) {
			end = spans[i].end;
			end_id = spans[i].id;
		}
	}
	/* IDs must be unique so that links and signatures name one object. */
	for (size_t i = 0; i < used; i++)
		spans[i].start = spans[i].id;
	qsort(spans, used, sizeof(*spans), span_cmp);
	for (size_t i = 1; i < used; i++)
		if (spans[i].start == spans[i - 1].start) {
			rc = err_set(e, -EBADMSG, "object ID %" PRIu32 " is used twice", spans[i].id);
			goto out;
		}
out:
	free(spans);
	return rc;
}

int sif_parse(const uint8_t *data, uint64_t len, struct sif_header *h, struct sif_descr **descr_out,
	      struct arca_err *e)
{
	if (len < SIF_HEADER_SIZE)
		return err_set(e, -EBADMSG, "file of %" PRIu64 " bytes is too small for a SIF header", len);
	if (sif_header_decode(data, SIF_HEADER_SIZE, h) < 0)
		return err_set(e, -EBADMSG, "truncated SIF header");
	if (memcmp(h->magic, sif_magic, SIF_MAGIC_LEN) != 0)
		return err_set(e, -EBADMSG, "invalid SIF magic");
	if (memcmp(h->version, sif_version, SIF_VERSION_LEN) != 0)
		return err_set(e, -EBADMSG, "incompatible SIF version");
	if (h->descriptors_total < 0 || h->descriptors_total > SIF_MAX_DESCRIPTORS)
		return err_set(e, -E2BIG, "descriptor count %" PRId64 " is outside 0..%d", h->descriptors_total,
			       SIF_MAX_DESCRIPTORS);
	size_t n = (size_t)h->descriptors_total;
	uint64_t table = (uint64_t)n * SIF_DESCR_SIZE;
	if (h->descriptors_offset < 0 || !range_ok((uint64_t)h->descriptors_offset, table, len))
		return err_set(e, -EBADMSG, "descriptor table (offset %" PRId64 ", %" PRId64 " entries) extends past the end of the file",
			       h->descriptors_offset, h->descriptors_total);
	struct sif_descr *d = calloc(n ? n : 1, sizeof(*d));
	if (!d)
		return err_set(e, -ENOMEM, "out of memory");
	const uint8_t *p = data + h->descriptors_offset;
	for (size_t i = 0; i < n; i++)
		if (sif_descr_decode(p + i * SIF_DESCR_SIZE, SIF_DESCR_SIZE, &d[i]) < 0) {
			free(d);
			return err_set(e, -EBADMSG, "truncated descriptor %zu", i);
		}
	int rc = sif_validate(h, d, len, e);
	if (rc < 0) {
		free(d);
		return rc;
	}
	*descr_out = d;
	return 0;
}

static int image_load(struct sif_image *img, struct arca_err *e)
{
	int rc = sif_parse(img->map, img->len, &img->h, &img->d, e);
	if (rc < 0)
		return rc;
	img->nd = (size_t)img->h.descriptors_total;
	return 0;
}

int sif_open(const char *path, struct sif_image **out, struct arca_err *e)
{
	struct sif_image *img = calloc(1, sizeof(*img));
	if (!img)
		return err_set(e, -ENOMEM, "out of memory");
	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0) {
		int rc = err_setsys(e, -errno, "cannot open '%s'", path);
		free(img);
		return rc;
	}
	struct stat st;
	int rc;
	if (fstat(img->fd, &st) < 0) {
		rc = err_setsys(e, -errno, "stat '%s'", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		rc = err_set(e, -EINVAL, "'%s' is not a regular file", path);
		goto fail;
	}
	img->len = (uint64_t)st.st_size;
	if (img->len < SIF_HEADER_SIZE) {
		rc = err_set(e, -EBADMSG, "'%s': file of %" PRIu64 " bytes is too small for a SIF header", path,
			     img->len);
		goto fail;
	}
	if (img->len > SIZE_MAX) {
		rc = err_set(e, -E2BIG, "'%s' is too large to map", path);
		goto fail;
	}
	void *m = mmap(NULL, (size_t)img->len, PROT_READ, MAP_SHARED, img->fd, 0);
	if (m == MAP_FAILED) {
		rc = err_setsys(e, -errno, "mmap '%s'", path);
		goto fail;
	}
	img->map = m;
	img->mapped = true;
	rc = image_load(img, e);
	if (rc < 0) {
		err_wrap(e, rc, "'%s'", path);
		goto fail;
	}
	*out = img;
	return 0;
fail:
	sif_close(img);
	return rc;
}

int sif_open_mem(const void *data, size_t len, struct sif_image **out, struct arca_err *e)
{
	struct sif_image *img = calloc(1, sizeof(*img));
	if (!img)
		return err_set(e, -ENOMEM, "out of memory");
	img->fd = -1;
	img->map = data;
	img->len = len;
	int rc = image_load(img, e);
	if (rc < 0) {
		sif_close(img);
		return rc;
	}
	*out = img;
	return 0;
}

void sif_close(struct sif_image *img)
{
	if (!img)
		return;
	if (img->mapped)
		munmap((void *)img->map, (size_t)img->len);
	if (img->fd >= 0)
		close(img->fd);
	free(img->d);
	free(img);
}

const struct sif_header *sif_get_header(const struct sif_image *img) { return &img->h; }
size_t sif_descr_slots(const struct sif_image *img) { return img->nd; }
const struct sif_descr *sif_descr_slot(const struct sif_image *img, size_t i) { return i < img->nd ? &img->d[i] : NULL; }

int sif_find_id(const struct sif_image *img, uint32_t id, const struct sif_descr **out)
{
	for (size_t i = 0; i < img->nd; i++)
		if (img->d[i].used && img->d[i].id == id) {
			*out = &img->d[i];
			return 0;
		}
	return -ENOENT;
}

int sif_primary_partition(const struct sif_image *img, const struct sif_descr **out)
{
	for (size_t i = 0; i < img->nd; i++) {
		int32_t pt;
		if (img->d[i].used && sif_descr_partition(&img->d[i], NULL, &pt, NULL) == 0 && pt == SIF_PART_PRIMSYS) {
			*out = &img->d[i];
			return 0;
		}
	}
	return -ENOENT;
}

const uint8_t *sif_object_data(const struct sif_image *img, const struct sif_descr *d)
{
	/* validated at open: offset+size lies within the mapping */
	return img->map + d->offset;
}

const uint8_t *sif_file_data(const struct sif_image *img, uint64_t *len)
{
	*len = img->len;
	return img->map;
}

int sif_fd(const struct sif_image *img) { return img->fd; }

uint32_t sif_relative_id(const struct sif_image *img, const struct sif_descr *d)
{
	uint32_t min = d->id;
	for (size_t i = 0; i < img->nd; i++)
		if (img->d[i].used && img->d[i].group_id == d->group_id && img->d[i].id < min)
			min = img->d[i].id;
	return d->id - min;
}

bool sif_is_deterministic(const struct sif_image *img)
{
	static const uint8_t nil[SIF_ID_LEN];
	return memcmp(img->h.id, nil, SIF_ID_LEN) == 0 && sif_time_is_zero(img->h.created_at) &&
	       sif_time_is_zero(img->h.modified_at);
}
