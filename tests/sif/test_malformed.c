/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Malformed images: each mutation of a valid reference image must be
 * refused by sif_open_mem() with a message, never accepted and never a
 * crash (the sanitizer build runs this too).
 */
#include "sif.h"
#include "testlib.h"

/* Offsets in the on-disk header and in a descriptor. */
enum { H_MAGIC = 32, H_VERSION = 42, H_DFREE = 80, H_DTOTAL = 88, H_DOFF = 96, H_DSIZE = 104, H_DATAOFF = 112,
       H_DATASIZE = 120 };
enum { D_TYPE = 0, D_ID = 5, D_GROUP = 9, D_LINK = 13, D_OFF = 17, D_SIZE = 25, D_SWP = 33 };

static struct buf image;

static void put64(uint8_t *p, int64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)((uint64_t)v >> (8 * i));
}
static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static int64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return (int64_t)v;
}

/* Applies @mutate to a copy of the image and expects a refusal. */
static void refuse(const char *what, void (*mutate)(uint8_t *p, size_t *n))
{
	size_t n = image.len;
	uint8_t *p = malloc(n);
	REQUIRE(p);
	memcpy(p, image.p, n);
	mutate(p, &n);
	struct sif_image *img = NULL;
	struct arca_err e = { 0 };
	int rc = sif_open_mem(p, n, &img, &e);
	if (rc >= 0) {
		printf("# %s: accepted\n", what);
		tl_case_failed = 1;
		sif_close(img);
	} else if (!e.msg[0]) {
		printf("# %s: refused without a message\n", what);
		tl_case_failed = 1;
	} else {
		printf("# %s: %s\n", what, e.msg);
	}
	free(p);
}

static uint8_t *descr(uint8_t *p, size_t i) { return p + get64(p + H_DOFF) + (int64_t)i * SIF_DESCR_SIZE; }

static void m_magic(uint8_t *p, size_t *n) { (void)n, p[H_MAGIC] = 'X'; }
static void m_version(uint8_t *p, size_t *n) { (void)n, p[H_VERSION] = '9'; }
static void m_trunc_header(uint8_t *p, size_t *n) { (void)p, *n = 100; }
static void m_trunc_table(uint8_t *p, size_t *n) { *n = (size_t)get64(p + H_DOFF) + 100; }
static void m_trunc_data(uint8_t *p, size_t *n) { (void)p, *n -= 1000; }
static void m_doff_beyond(uint8_t *p, size_t *n) { put64(p + H_DOFF, (int64_t)*n + 1); }
static void m_doff_negative(uint8_t *p, size_t *n) { (void)n, put64(p + H_DOFF, -4096); }
static void m_doff_overlaps_header(uint8_t *p, size_t *n) { (void)n, put64(p + H_DOFF, 64); }
static void m_dtotal_huge(uint8_t *p, size_t *n) { (void)n, put64(p + H_DTOTAL, INT64_MAX / 2); }
static void m_dtotal_negative(uint8_t *p, size_t *n) { (void)n, put64(p + H_DTOTAL, -1); }
static void m_dfree_more_than_total(uint8_t *p, size_t *n) { (void)n, put64(p + H_DFREE, get64(p + H_DTOTAL) + 1); }
static void m_dsize_mismatch(uint8_t *p, size_t *n) { (void)n, put64(p + H_DSIZE, 7); }
static void m_dataoff_beyond(uint8_t *p, size_t *n) { put64(p + H_DATAOFF, (int64_t)*n + 4096); }
static void m_datasize_huge(uint8_t *p, size_t *n) { (void)n, put64(p + H_DATASIZE, INT64_MAX); }
static void m_obj_beyond(uint8_t *p, size_t *n) { put64(descr(p, 0) + D_OFF, (int64_t)*n - 1); }
static void m_obj_size_huge(uint8_t *p, size_t *n) { (void)n, put64(descr(p, 0) + D_SIZE, INT64_MAX - 10); }
static void m_obj_negative(uint8_t *p, size_t *n) { (void)n, put64(descr(p, 0) + D_SIZE, -5); }
static void m_obj_in_header(uint8_t *p, size_t *n) { (void)n, put64(descr(p, 0) + D_OFF, 0); }
static void m_obj_in_table(uint8_t *p, size_t *n) { (void)n, put64(descr(p, 0) + D_OFF, get64(p + H_DOFF) + 8); }
static void m_obj_overlap(uint8_t *p, size_t *n)
{
	(void)n;
	put64(descr(p, 1) + D_OFF, get64(descr(p, 0) + D_OFF));
}
static void m_dup_id(uint8_t *p, size_t *n)
{
	(void)n;
	memcpy(descr(p, 1) + D_ID, descr(p, 0) + D_ID, 4);
}
static void m_id_zero(uint8_t *p, size_t *n) { (void)n, put32(descr(p, 0) + D_ID, 0); }
static void m_swp_smaller(uint8_t *p, size_t *n) { (void)n, put64(descr(p, 0) + D_SWP, get64(descr(p, 0) + D_SIZE) - 1); }
static void m_free_count_wrong(uint8_t *p, size_t *n) { (void)n, put64(p + H_DFREE, get64(p + H_DTOTAL)); }

static void test_refusals(void)
{
	static const struct {
		const char *what;
		void (*fn)(uint8_t *, size_t *);
	} m[] = {
		{ "bad magic", m_magic },
		{ "unknown version", m_version },
		{ "truncated header", m_trunc_header },
		{ "truncated descriptor table", m_trunc_table },
		{ "truncated data", m_trunc_data },
		{ "descriptor table beyond the file", m_doff_beyond },
		{ "negative descriptor offset", m_doff_negative },
		{ "descriptor table inside the header", m_doff_overlaps_header },
		{ "absurd descriptor count", m_dtotal_huge },
		{ "negative descriptor count", m_dtotal_negative },
		{ "more free descriptors than descriptors", m_dfree_more_than_total },
		{ "descriptor size disagrees with count", m_dsize_mismatch },
		{ "data offset beyond the file", m_dataoff_beyond },
		{ "absurd data size", m_datasize_huge },
		{ "object beyond the file", m_obj_beyond },
		{ "object size overflows", m_obj_size_huge },
		{ "negative object size", m_obj_negative },
		{ "object inside the header", m_obj_in_header },
		{ "object inside the descriptor table", m_obj_in_table },
		{ "overlapping objects", m_obj_overlap },
		{ "duplicate object IDs", m_dup_id },
		{ "object ID zero", m_id_zero },
		{ "padded size smaller than size", m_swp_smaller },
		{ "free descriptor count wrong", m_free_count_wrong },
	};
	for (size_t i = 0; i < ARRAY_SIZE(m); i++)
		refuse(m[i].what, m[i].fn);
}

/* Every single-byte truncation point and every flipped bit of the header
 * and first descriptor: refused or accepted, but never a crash. */
static void test_no_crash(void)
{
	uint8_t *p = malloc(image.len);
	REQUIRE(p);
	for (size_t cut = 0; cut < image.len; cut += 97) {
		struct sif_image *img = NULL;
		if (sif_open_mem(image.p, cut, &img, NULL) == 0)
			sif_close(img);
	}
	size_t span = (size_t)get64((const uint8_t *)image.p + H_DOFF) + 2 * SIF_DESCR_SIZE;
	for (size_t bit = 0; bit < span * 8; bit++) {
		if (bit / 8 >= SIF_HEADER_SIZE && bit / 8 < (size_t)get64((const uint8_t *)image.p + H_DOFF))
			continue; /* padding between header and table */
		memcpy(p, image.p, image.len);
		p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		struct sif_image *img = NULL;
		if (sif_open_mem(p, image.len, &img, NULL) == 0) {
			const struct sif_descr *d;
			if (sif_primary_partition(img, &d) == 0)
				CHECK(sif_object_data(img, d) != NULL);
			sif_close(img);
		}
	}
	free(p);
}

int main(void)
{
	struct arca_err e = { 0 };
	if (file_read_all(tl_shared("fixtures/sif/test/images/two-groups.sif"), 1 << 24, &image, &e) < 0) {
		printf("Bail out! %s\n", err_msg(&e));
		return 1;
	}
	struct sif_image *img = NULL;
	if (sif_open_mem(image.p, image.len, &img, &e) < 0) {
		printf("Bail out! the unmodified image is refused: %s\n", err_msg(&e));
		return 1;
	}
	sif_close(img);
	RUN(test_refusals);
	RUN(test_no_crash);
	buf_release(&image);
	TL_DONE();
}
