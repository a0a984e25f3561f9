/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/sif: the Singularity Image Format v1, byte-compatible with the
 * reference implementation (SingularityCE/Apptainer's sylabs/sif).
 *
 * Layout: a 128-byte global header, a table of fixed-size (585-byte)
 * descriptors at descriptors_offset (4096 by default, 48 slots), then the
 * data objects. All integers are little-endian. Times are Unix seconds; the
 * reference's "zero time" (Go's time.Time{}) is SIF_TIME_ZERO.
 *
 * Reading: sif_open() maps the file read-only and validates every field that
 * is later trusted (magic, version, descriptor table bounds, every used
 * object's range within the file, no overlap between objects or with the
 * header/descriptor area, unique IDs, named limits) before returning it.
 *
 * Writing: every change is made on a temporary copy beside the image which
 * replaces it atomically on sif_writer_commit(); an interrupted or failed
 * edit leaves the original untouched.
 */
#ifndef ARCA_SIF_H
#define ARCA_SIF_H

#include "base.h"

#include <inttypes.h>

#define SIF_HEADER_SIZE 128
#define SIF_DESCR_SIZE 585
#define SIF_LAUNCH_LEN 32
#define SIF_MAGIC_LEN 10
#define SIF_VERSION_LEN 3
#define SIF_ARCH_LEN 3
#define SIF_ID_LEN 16
#define SIF_NAME_LEN 128
#define SIF_EXTRA_LEN 384
#define SIF_ENTITY_LEN 256
#define SIF_FINGERPRINT_LEN 20

#define SIF_GROUP_MASK 0xf0000000u
#define SIF_UNUSED_GROUP SIF_GROUP_MASK
#define SIF_DEFAULT_GROUP 1u
#define SIF_DEFAULT_CAPACITY 48
#define SIF_DEFAULT_DESCR_OFFSET 4096
#define SIF_PARTITION_ALIGN 4096
/* Go's zero time.Time expressed in Unix seconds (0001-01-01T00:00:00Z). */
#define SIF_TIME_ZERO (-62135596800LL)

/* Named limits applied to untrusted images. */
#define SIF_MAX_DESCRIPTORS 65536
#define SIF_MAX_ALIGNMENT (1u << 30)

enum sif_datatype {
	SIF_DATA_DEFFILE = 0x4001,
	SIF_DATA_ENVVAR,
	SIF_DATA_LABELS,
	SIF_DATA_PARTITION,
	SIF_DATA_SIGNATURE,
	SIF_DATA_GENERICJSON,
	SIF_DATA_GENERIC,
	SIF_DATA_CRYPTOMESSAGE,
	SIF_DATA_SBOM,
	SIF_DATA_OCI_ROOTINDEX,
	SIF_DATA_OCI_BLOB,
};

enum sif_fstype { SIF_FS_SQUASH = 1, SIF_FS_EXT3, SIF_FS_IMMUOBJ, SIF_FS_RAW, SIF_FS_ENCRYPTED_SQUASHFS };
enum sif_parttype { SIF_PART_SYSTEM = 1, SIF_PART_PRIMSYS, SIF_PART_DATA, SIF_PART_OVERLAY };
enum sif_hashtype { SIF_HASH_SHA256 = 1, SIF_HASH_SHA384, SIF_HASH_SHA512, SIF_HASH_BLAKE2S, SIF_HASH_BLAKE2B };
enum sif_formattype { SIF_FORMAT_OPENPGP = 1, SIF_FORMAT_PEM };
enum sif_messagetype { SIF_MESSAGE_CLEAR_SIGNATURE = 0x100, SIF_MESSAGE_RSA_OAEP = 0x200 };
enum sif_sbomformat {
	SIF_SBOM_CYCLONEDX_JSON = 1,
	SIF_SBOM_CYCLONEDX_XML,
	SIF_SBOM_GITHUB_JSON,
	SIF_SBOM_SPDX_JSON,
	SIF_SBOM_SPDX_RDF,
	SIF_SBOM_SPDX_TAG_VALUE,
	SIF_SBOM_SPDX_YAML,
	SIF_SBOM_SYFT_JSON,
};

/* The global header, decoded (never an overlay on file bytes). */
struct sif_header {
	uint8_t launch[SIF_LAUNCH_LEN];
	uint8_t magic[SIF_MAGIC_LEN];
	uint8_t version[SIF_VERSION_LEN];
	uint8_t arch[SIF_ARCH_LEN];
	uint8_t id[SIF_ID_LEN];
	int64_t created_at;
	int64_t modified_at;
	int64_t descriptors_free;
	int64_t descriptors_total;
	int64_t descriptors_offset;
	int64_t descriptors_size;
	int64_t data_offset;
	int64_t data_size;
};

/* One descriptor, decoded. group_id and linked_id hold the raw on-disk
 * values (group IDs carry SIF_GROUP_MASK); use the accessors below. */
struct sif_descr {
	int32_t datatype;
	bool used;
	uint32_t id;
	uint32_t group_id;
	uint32_t linked_id;
	int64_t offset;
	int64_t size;
	int64_t size_with_padding;
	int64_t created_at;
	int64_t modified_at;
	int64_t uid; /* deprecated, kept for the integrity digest */
	int64_t gid;
	uint8_t name[SIF_NAME_LEN];
	uint8_t extra[SIF_EXTRA_LEN];
};

/* ------------------------------------------------------------- codec */

void sif_header_encode(const struct sif_header *h, uint8_t out[SIF_HEADER_SIZE]);
int sif_header_decode(const uint8_t *p, size_t n, struct sif_header *h);
void sif_descr_encode(const struct sif_descr *d, uint8_t out[SIF_DESCR_SIZE]);
int sif_descr_decode(const uint8_t *p, size_t n, struct sif_descr *d);

static inline uint32_t sif_descr_group(const struct sif_descr *d) { return d->group_id & ~SIF_GROUP_MASK; }
static inline uint32_t sif_descr_link(const struct sif_descr *d, bool *is_group)
{
	if (is_group)
		*is_group = (d->linked_id & SIF_GROUP_MASK) == SIF_GROUP_MASK;
	return d->linked_id & ~SIF_GROUP_MASK;
}
/* The name with trailing NULs removed, into @out (SIF_NAME_LEN+1 bytes). */
void sif_descr_name(const struct sif_descr *d, char out[SIF_NAME_LEN + 1]);

/* Typed views of the descriptor's "extra" field. Each returns -EINVAL when
 * @d is not of the matching data type. */
int sif_descr_partition(const struct sif_descr *d, int32_t *fstype, int32_t *parttype, uint8_t arch[SIF_ARCH_LEN]);
/* *fp_len is 0 when no fingerprint is stored (first 20 bytes all zero). */
int sif_descr_signature(const struct sif_descr *d, int32_t *hashtype, uint8_t fp[SIF_FINGERPRINT_LEN],
			size_t *fp_len);
int sif_descr_cryptmsg(const struct sif_descr *d, int32_t *format, int32_t *message);
int sif_descr_sbom(const struct sif_descr *d, int32_t *format);
/* The OCI blob/root-index digest, NUL-trimmed, into out (SIF_EXTRA_LEN+1). */
int sif_descr_oci_digest(const struct sif_descr *d, char out[SIF_EXTRA_LEN + 1]);

/* Names as the reference tools print them ("FS", "Squashfs", "*System",
 * "SHA-256", "cyclonedx-json", ...); "Unknown"/"unknown" otherwise. */
const char *sif_datatype_name(int32_t t);
const char *sif_fstype_name(int32_t t);
const char *sif_parttype_name(int32_t t);
const char *sif_hashtype_name(int32_t t);
const char *sif_formattype_name(int32_t t);
const char *sif_messagetype_name(int32_t t);
const char *sif_sbomformat_name(int32_t t);
int sif_sbomformat_parse(const char *name, int32_t *out);
/* Go architecture names <-> SIF's two-digit codes ("amd64" <-> "02").
 * sif_arch_name returns "unknown" for unknown codes. */
const char *sif_arch_name(const uint8_t code[SIF_ARCH_LEN]);
int sif_arch_code(const char *goarch, uint8_t code[SIF_ARCH_LEN]);
/* The host's architecture as a Go name ("amd64", "arm64", ...). */
const char *sif_host_arch(void);
/* Formats an image ID as a UUID string (37 bytes with NUL). */
void sif_id_string(const uint8_t id[SIF_ID_LEN], char out[37]);
int sif_id_parse(const char *s, uint8_t id[SIF_ID_LEN]);
bool sif_time_is_zero(int64_t t);

/* ------------------------------------------------------------- reading */

struct sif_image;

/* Opens and validates @path read-only (mmap). */
int sif_open(const char *path, struct sif_image **out, struct arca_err *e);
/* Validates an image held in memory (borrowed; must outlive the image). */
int sif_open_mem(const void *data, size_t len, struct sif_image **out, struct arca_err *e);
void sif_close(struct sif_image *img);
static inline void sif_closep(struct sif_image **img) { sif_close(*img); }
#define _cleanup_sif_ _cleanup_(sif_closep)

const struct sif_header *sif_get_header(const struct sif_image *img);
/* Every descriptor slot, used or not (descriptors_total of them). */
size_t sif_descr_slots(const struct sif_image *img);
const struct sif_descr *sif_descr_slot(const struct sif_image *img, size_t i);
/* -ENOENT when no used descriptor has @id. */
int sif_find_id(const struct sif_image *img, uint32_t id, const struct sif_descr **out);
/* The primary system partition; -ENOENT when there is none. */
int sif_primary_partition(const struct sif_image *img, const struct sif_descr **out);
/* The object's bytes (validated to lie within the file), size d->size. */
const uint8_t *sif_object_data(const struct sif_image *img, const struct sif_descr *d);
/* The whole file as mapped, for digests over raw regions. */
const uint8_t *sif_file_data(const struct sif_image *img, uint64_t *len);
/* The file descriptor (O_RDONLY, or -1 for in-memory images). */
int sif_fd(const struct sif_image *img);
/* ID of @d relative to the lowest ID in its group (the reference's
 * integrity digests use it). */
uint32_t sif_relative_id(const struct sif_image *img, const struct sif_descr *d);
bool sif_is_deterministic(const struct sif_image *img);

/* ------------------------------------------------------------- writing */

struct sif_create_opts {
	const char *launch_script; /* NULL: none; must be < 32 bytes */
	bool deterministic;        /* nil ID, zero times */
	bool has_id;
	uint8_t id[SIF_ID_LEN];
	bool has_time;
	int64_t time;
	int64_t descriptor_capacity; /* 0: 48, unless has_capacity */
	bool has_capacity;           /* descriptor_capacity is exact, even 0 */
};

/* Fills the data region of a new object directly in the image file: writes
 * at @offset of @fd and reports the byte count. Lets large objects (a root
 * filesystem) stream into the image without a second copy. */
typedef int (*sif_fill_fn)(void *ctx, int fd, uint64_t offset, uint64_t *size_out, struct arca_err *e);

struct sif_input {
	int32_t datatype;
	/* The object's bytes come from exactly one of: */
	const void *data; /* in memory, size bytes */
	uint64_t size;
	int fd;           /* >= 0: read until EOF */
	sif_fill_fn fill; /* written in place */
	void *fill_ctx;

	uint32_t group_id;  /* 0: no group (default: SIF_DEFAULT_GROUP) */
	uint32_t linked_id; /* raw; see sif_link_group() */
	int64_t alignment;  /* -1: default (4096 for partitions, else 1) */
	const char *name;   /* NULL or < 128 bytes */
	uint8_t extra[SIF_EXTRA_LEN];
	bool has_time;
	int64_t time;
};
static inline uint32_t sif_link_group(uint32_t group) { return group | SIF_GROUP_MASK; }

void sif_input_init(struct sif_input *in, int32_t datatype);
int sif_input_partition(struct sif_input *in, int32_t fstype, int32_t parttype, const char *goarch);
int sif_input_signature(struct sif_input *in, int32_t hashtype, const uint8_t *fp, size_t fp_len);
int sif_input_cryptmsg(struct sif_input *in, int32_t format, int32_t message);
int sif_input_sbom(struct sif_input *in, int32_t format);
int sif_input_oci_digest(struct sif_input *in, const char *digest);

/* When a modification happens: the reference's rules are "now" for
 * ordinary images and the zero time for deterministic ones, unless a time
 * is given. */
struct sif_when {
	bool deterministic;
	bool has_time;
	int64_t time;
};

struct sif_writer;

/* Starts a new image at @path (replaced atomically on commit). */
int sif_create(const char *path, const struct sif_create_opts *opts, struct sif_writer **out, struct arca_err *e);
/* Starts an edit of the existing image at @path (validated first). */
int sif_edit(const char *path, struct sif_writer **out, struct arca_err *e);
/* Adds an object in the first free slot; its ID is slot+1 as in the
 * reference. Errors: -ENOSPC no free descriptor, -EEXIST a second primary
 * partition, -EINVAL bad input. */
int sif_add(struct sif_writer *w, const struct sif_input *in, const struct sif_when *when, uint32_t *id_out,
	    struct arca_err *e);
enum { SIF_DEL_ZERO = 1u << 0, SIF_DEL_COMPACT = 1u << 1 };
int sif_delete(struct sif_writer *w, uint32_t id, unsigned flags, const struct sif_when *when, struct arca_err *e);
/* Deletes every used object of @datatype (-ENOENT when none). */
int sif_delete_type(struct sif_writer *w, int32_t datatype, unsigned flags, const struct sif_when *when,
		    struct arca_err *e);
int sif_set_primary(struct sif_writer *w, uint32_t id, const struct sif_when *when, struct arca_err *e);
int sif_set_extra(struct sif_writer *w, uint32_t id, const uint8_t extra[SIF_EXTRA_LEN], const struct sif_when *when,
		  struct arca_err *e);
/* Writes descriptors and header, fsyncs, renames over the target. */
int sif_writer_commit(struct sif_writer *w, struct arca_err *e);
/* Discards uncommitted changes (the temporary file) and frees. */
void sif_writer_free(struct sif_writer *w);
static inline void sif_writer_freep(struct sif_writer **w) { sif_writer_free(*w); }
#define _cleanup_sif_writer_ _cleanup_(sif_writer_freep)
const struct sif_header *sif_writer_header(const struct sif_writer *w);
const struct sif_descr *sif_writer_slot(const struct sif_writer *w, size_t i);
/* The fd of the file being written (for callers that need to read back). */
int sif_writer_fd(const struct sif_writer *w);

#endif
