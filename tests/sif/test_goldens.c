/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reference library's goldens (fixtures/sif/pkg/sif/testdata) are whole
 * SIF files produced by a sequence of create/add/delete/set operations. Each
 * case here performs the same operations through lib/sif and requires the
 * resulting file to be identical byte for byte, including the state left
 * behind by an operation that fails.
 */
#include "sif.h"
#include "testlib.h"

#include <fcntl.h>
#include <sys/stat.h>

/* Case tables name only the fields each case sets. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define T2000 946702800 /* time.Unix(946702800, 0) in the reference tests */
#define GOLDEN_ID "de170c43-36ab-44a8-bca9-1ea1a070a274"

static char tmpdir[] = "/tmp/arca-sif-goldens-XXXXXX";
static int case_no;

struct obj {
	int32_t dt;
	const char *data; /* two bytes unless len says otherwise */
	size_t len;
	int32_t fs, part; /* partition metadata when fs != 0 */
	const char *arch;
	int64_t align; /* -1: default; -2 means OptObjectAlignment(0) */
};
#define GENERIC(d) { SIF_DATA_GENERIC, (d), 2, 0, 0, NULL, -1 }
#define PART(d, f, p, a) { SIF_DATA_PARTITION, (d), 2, (f), (p), (a), -1 }

struct create {
	bool det, has_id, has_time, zero_cap;
	int64_t cap;
	const char *launch;
	struct obj objs[3];
	size_t nobjs;
};

static int add_obj(struct sif_writer *w, const struct obj *o, const struct sif_when *when, struct arca_err *e)
{
	struct sif_input in;
	sif_input_init(&in, o->dt);
	in.data = o->data;
	in.size = o->len;
	if (o->align != -1)
		in.alignment = o->align == -2 ? 0 : o->align;
	if (o->fs && sif_input_partition(&in, o->fs, o->part, o->arch) < 0)
		return -EINVAL;
	return sif_add(w, &in, when, NULL, e);
}

/* Creates the image the way CreateContainer(OptCreateWithDescriptors...)
 * does: the descriptors are added at creation time. */
static int create(const char *path, const struct create *c, struct sif_writer **w, struct arca_err *e)
{
	struct sif_create_opts o = { .deterministic = c->det, .launch_script = c->launch };
	if (c->has_id)
		(void)sif_id_parse(GOLDEN_ID, o.id), o.has_id = true;
	if (c->has_time)
		o.has_time = true, o.time = T2000;
	if (c->zero_cap || c->cap)
		o.has_capacity = true, o.descriptor_capacity = c->zero_cap ? 0 : c->cap;
	int rc = sif_create(path, &o, w, e);
	if (rc < 0)
		return rc;
	struct sif_when when = { .deterministic = c->det, .has_time = c->has_time, .time = T2000 };
	for (size_t i = 0; i < c->nobjs; i++)
		if ((rc = add_obj(*w, &c->objs[i], &when, e)) < 0)
			return rc;
	return 0;
}

static bool same_as_golden(const char *path, const char *golden)
{
	char rel[512];
	snprintf(rel, sizeof(rel), "fixtures/sif/pkg/sif/testdata/%s.golden", golden);
	struct buf want = BUF_INIT, got = BUF_INIT;
	struct arca_err e = { 0 };
	bool ok = false;
	if (file_read_all(tl_shared(rel), 1 << 20, &want, &e) < 0) {
		printf("# %s: %s\n", rel, err_msg(&e));
	} else if (file_read_all(path, 1 << 20, &got, &e) < 0) {
		printf("# %s: %s\n", path, err_msg(&e));
	} else if (got.len != want.len || memcmp(got.p, want.p, got.len) != 0) {
		size_t i = 0;
		while (i < got.len && i < want.len && got.p[i] == want.p[i])
			i++;
		printf("# %s: %zu bytes, golden %zu bytes, first difference at %zu\n", golden, got.len, want.len, i);
	} else {
		ok = true;
	}
	buf_release(&want);
	buf_release(&got);
	return ok;
}

static const char *next_path(void)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%d.sif", tmpdir, ++case_no);
	return p;
}

enum op { OP_NONE, OP_ADD, OP_DELETE, OP_SETPRIM, OP_SETMETA, OP_DELETE_ADD };

struct gcase {
	const char *golden;
	struct create c;
	enum op op;
	struct obj add;               /* OP_ADD */
	uint32_t ids[2];              /* OP_DELETE, OP_SETPRIM, OP_SETMETA */
	unsigned flags;               /* delete flags */
	struct sif_when when;         /* the operation's options */
	int want_rc;                  /* expected result of the operation */
};

static const char FACE[] = "\xfa\xce", FEED[] = "\xfe\xed";

static const struct gcase cases[] = {
	/* TestCreateContainer */
	{ "TestCreateContainer/Empty", { .det = true } },
	{ "TestCreateContainer/EmptyLaunchScript", { .det = true, .launch = "#!/usr/bin/env launch-script\n" } },
	{ "TestCreateContainer/EmptyWithID", { .det = true, .has_id = true } },
	{ "TestCreateContainer/EmptyWithTime", { .det = true, .has_time = true } },
	{ "TestCreateContainer/EmptyCloseOnUnload", { .det = true } },
	{ "TestCreateContainer/EmptyDescriptorLimitedCapacity", { .det = true, .cap = 1 } },
	{ "TestCreateContainer/OneDescriptor", { .det = true, .objs = { GENERIC(FACE) }, .nobjs = 1 } },
	{ "TestCreateContainer/TwoDescriptors",
	  { .det = true, .objs = { GENERIC(FACE), PART(FEED, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "386") }, .nobjs = 2 } },
	{ "TestCreateContainer/TwoDescriptorsNotAligned",
	  { .det = true,
	    .objs = { { SIF_DATA_GENERIC, FACE, 2, 0, 0, NULL, -2 },
		      { SIF_DATA_PARTITION, FEED, 2, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "386", -2 } },
	    .nobjs = 2 } },
	{ "TestCreateContainer/TwoDescriptorsAligned",
	  { .det = true,
	    .objs = { { SIF_DATA_GENERIC, FACE, 2, 0, 0, NULL, 4 },
		      { SIF_DATA_PARTITION, FEED, 2, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "386", 4 } },
	    .nobjs = 2 } },
	/* TestCreateContainerAtPath writes the same bytes to a path */
	{ "TestCreateContainerAtPath/Empty", { .det = true } },
	{ "TestCreateContainerAtPath/EmptyDescriptorLimitedCapacity", { .det = true, .cap = 1 } },
	{ "TestCreateContainerAtPath/OneDescriptor", { .det = true, .objs = { GENERIC(FACE) }, .nobjs = 1 } },
	{ "TestCreateContainerAtPath/TwoDescriptors",
	  { .det = true, .objs = { GENERIC(FACE), PART(FEED, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "386") }, .nobjs = 2 } },
	{ "TestCreateContainerAtPath/TwoDescriptorsNotAligned",
	  { .det = true,
	    .objs = { { SIF_DATA_GENERIC, FACE, 2, 0, 0, NULL, -2 },
		      { SIF_DATA_PARTITION, FEED, 2, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "386", -2 } },
	    .nobjs = 2 } },
	{ "TestCreateContainerAtPath/TwoDescriptorsAligned",
	  { .det = true,
	    .objs = { { SIF_DATA_GENERIC, FACE, 2, 0, 0, NULL, 4 },
		      { SIF_DATA_PARTITION, FEED, 2, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "386", 4 } },
	    .nobjs = 2 } },
	/* TestAddObject */
	{ "TestAddObject/ErrInsufficientCapacity", { .det = true, .zero_cap = true }, OP_ADD, GENERIC(FEED),
	  .want_rc = -ENOSPC },
	{ "TestAddObject/ErrPrimaryPartition",
	  { .det = true, .objs = { PART(FACE, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "386") }, .nobjs = 1 }, OP_ADD,
	  PART(FEED, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "amd64"), .want_rc = -EEXIST },
	{ "TestAddObject/Deterministic", { .has_id = true, .has_time = true }, OP_ADD, GENERIC(FACE),
	  .when = { .deterministic = true } },
	{ "TestAddObject/WithTime", { .det = true }, OP_ADD, GENERIC(FACE), .when = { .has_time = true, .time = T2000 } },
	{ "TestAddObject/Empty", { .det = true }, OP_ADD, GENERIC(FACE) },
	{ "TestAddObject/EmptyNotAligned", { .det = true }, OP_ADD, { SIF_DATA_GENERIC, FACE, 2, 0, 0, NULL, -2 } },
	{ "TestAddObject/EmptyAligned", { .det = true }, OP_ADD, { SIF_DATA_GENERIC, FACE, 2, 0, 0, NULL, 128 } },
	{ "TestAddObject/NotEmpty", { .det = true, .objs = { GENERIC(FACE) }, .nobjs = 1 }, OP_ADD,
	  PART(FEED, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "386") },
	{ "TestAddObject/NotEmptyNotAligned", { .det = true, .objs = { GENERIC(FACE) }, .nobjs = 1 }, OP_ADD,
	  { SIF_DATA_PARTITION, FEED, 2, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "386", -2 } },
	{ "TestAddObject/NotEmptyAligned", { .det = true, .objs = { GENERIC(FACE) }, .nobjs = 1 }, OP_ADD,
	  { SIF_DATA_PARTITION, FEED, 2, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "386", 128 } },
	/* TestDeleteObject */
	{ "TestDeleteObject/ErrObjectNotFound", { .det = true }, OP_DELETE, .ids = { 1 }, .want_rc = -ENOENT },
	{ "TestDeleteObject/Compact", { .det = true, .objs = { GENERIC(FACE), GENERIC(FEED) }, .nobjs = 2 }, OP_DELETE,
	  .ids = { 1, 2 }, .flags = SIF_DEL_COMPACT },
	{ "TestDeleteObject/OneZero", { .det = true, .objs = { GENERIC(FACE), GENERIC(FEED) }, .nobjs = 2 }, OP_DELETE,
	  .ids = { 1 }, .flags = SIF_DEL_ZERO },
	{ "TestDeleteObject/OneCompact", { .det = true, .objs = { GENERIC(FACE), GENERIC(FEED) }, .nobjs = 2 },
	  OP_DELETE, .ids = { 1 }, .flags = SIF_DEL_COMPACT },
	{ "TestDeleteObject/OneZeroCompact", { .det = true, .objs = { GENERIC(FACE), GENERIC(FEED) }, .nobjs = 2 },
	  OP_DELETE, .ids = { 1 }, .flags = SIF_DEL_ZERO | SIF_DEL_COMPACT },
	{ "TestDeleteObject/TwoZero", { .det = true, .objs = { GENERIC(FACE), GENERIC(FEED) }, .nobjs = 2 }, OP_DELETE,
	  .ids = { 2 }, .flags = SIF_DEL_ZERO },
	{ "TestDeleteObject/TwoCompact", { .det = true, .objs = { GENERIC(FACE), GENERIC(FEED) }, .nobjs = 2 },
	  OP_DELETE, .ids = { 2 }, .flags = SIF_DEL_COMPACT },
	{ "TestDeleteObject/TwoZeroCompact", { .det = true, .objs = { GENERIC(FACE), GENERIC(FEED) }, .nobjs = 2 },
	  OP_DELETE, .ids = { 2 }, .flags = SIF_DEL_ZERO | SIF_DEL_COMPACT },
	{ "TestDeleteObject/Deterministic", { .has_id = true, .has_time = true, .objs = { GENERIC(FACE) }, .nobjs = 1 },
	  OP_DELETE, .ids = { 1 }, .when = { .deterministic = true } },
	{ "TestDeleteObject/WithTime", { .det = true, .objs = { GENERIC(FACE) }, .nobjs = 1 }, OP_DELETE, .ids = { 1 },
	  .when = { .has_time = true, .time = T2000 } },
	{ "TestDeleteObject/PrimaryPartition",
	  { .det = true, .objs = { PART(FACE, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "386") }, .nobjs = 1 }, OP_DELETE,
	  .ids = { 1 } },
	/* TestDeleteObjectAndAddObject: delete 2 of "abc","def", then add "ghi" */
	{ "TestDeleteObjectAndAddObject/Compact", { .det = true }, OP_DELETE_ADD, .flags = SIF_DEL_COMPACT },
	{ "TestDeleteObjectAndAddObject/NoCompact", { .det = true }, OP_DELETE_ADD },
	{ "TestDeleteObjectAndAddObject/Zero", { .det = true }, OP_DELETE_ADD, .flags = SIF_DEL_ZERO },
	{ "TestDeleteObjectAndAddObject/ZeroCompact", { .det = true }, OP_DELETE_ADD,
	  .flags = SIF_DEL_ZERO | SIF_DEL_COMPACT },
	/* TestSetPrimPart */
	{ "TestSetPrimPart/ErrObjectNotFound", { .det = true }, OP_SETPRIM, .ids = { 1 }, .want_rc = -ENOENT },
	{ "TestSetPrimPart/Deterministic",
	  { .has_id = true, .has_time = true, .objs = { PART(FACE, SIF_FS_RAW, SIF_PART_SYSTEM, "386") }, .nobjs = 1 },
	  OP_SETPRIM, .ids = { 1 }, .when = { .deterministic = true } },
	{ "TestSetPrimPart/WithTime",
	  { .det = true,
	    .objs = { PART(FACE, SIF_FS_RAW, SIF_PART_PRIMSYS, "386"), PART(FEED, SIF_FS_RAW, SIF_PART_SYSTEM, "amd64") },
	    .nobjs = 2 },
	  OP_SETPRIM, .ids = { 2 }, .when = { .has_time = true, .time = T2000 } },
	{ "TestSetPrimPart/One", { .det = true, .objs = { PART(FACE, SIF_FS_RAW, SIF_PART_SYSTEM, "386") }, .nobjs = 1 },
	  OP_SETPRIM, .ids = { 1 } },
	{ "TestSetPrimPart/Two",
	  { .det = true,
	    .objs = { PART(FACE, SIF_FS_RAW, SIF_PART_PRIMSYS, "386"), PART(FEED, SIF_FS_RAW, SIF_PART_SYSTEM, "amd64") },
	    .nobjs = 2 },
	  OP_SETPRIM, .ids = { 2 } },
	/* TestSetMetadata: the digest of nothing, as newOCIBlobDigest() gives */
	{ "TestSetMetadata/Deterministic",
	  { .has_id = true, .has_time = true, .objs = { { SIF_DATA_OCI_BLOB, FACE, 2, 0, 0, NULL, -1 } }, .nobjs = 1 },
	  OP_SETMETA, .ids = { 1 }, .when = { .deterministic = true } },
	{ "TestSetMetadata/WithTime", { .det = true, .objs = { { SIF_DATA_OCI_BLOB, FACE, 2, 0, 0, NULL, -1 } }, .nobjs = 1 },
	  OP_SETMETA, .ids = { 1 }, .when = { .has_time = true, .time = T2000 } },
	{ "TestSetMetadata/One", { .det = true, .objs = { { SIF_DATA_OCI_BLOB, FACE, 2, 0, 0, NULL, -1 } }, .nobjs = 1 },
	  OP_SETMETA, .ids = { 1 } },
	{ "TestSetMetadata/Two",
	  { .det = true,
	    .objs = { { SIF_DATA_OCI_BLOB, FACE, 2, 0, 0, NULL, -1 }, { SIF_DATA_OCI_BLOB, FEED, 2, 0, 0, NULL, -1 } },
	    .nobjs = 2 },
	  OP_SETMETA, .ids = { 2 } },
};

static const char EMPTY_DIGEST[] = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static int run_op(struct sif_writer *w, const struct gcase *g, struct arca_err *e)
{
	int rc = 0;
	switch (g->op) {
	case OP_NONE:
		return 0;
	case OP_ADD:
		return add_obj(w, &g->add, &g->when, e);
	case OP_DELETE:
		for (size_t i = 0; i < ARRAY_SIZE(g->ids) && g->ids[i]; i++)
			if ((rc = sif_delete(w, g->ids[i], g->flags, &g->when, e)) < 0)
				return rc;
		return 0;
	case OP_SETPRIM:
		return sif_set_primary(w, g->ids[0], &g->when, e);
	case OP_SETMETA: {
		uint8_t extra[SIF_EXTRA_LEN] = { 0 };
		memcpy(extra, EMPTY_DIGEST, sizeof(EMPTY_DIGEST) - 1);
		return sif_set_extra(w, g->ids[0], extra, &g->when, e);
	}
	case OP_DELETE_ADD: {
		static const struct obj abc = { SIF_DATA_GENERIC, "abc", 3, 0, 0, NULL, -1 };
		static const struct obj def = { SIF_DATA_GENERIC, "def", 3, 0, 0, NULL, -1 };
		static const struct obj ghi = { SIF_DATA_GENERIC, "ghi", 3, 0, 0, NULL, -1 };
		struct sif_when det = { .deterministic = true };
		if ((rc = add_obj(w, &abc, &det, e)) < 0 || (rc = add_obj(w, &def, &det, e)) < 0 ||
		    (rc = sif_delete(w, 2, g->flags, NULL, e)) < 0)
			return rc;
		return add_obj(w, &ghi, NULL, e);
	}
	}
	return -EINVAL;
}

static void test_library_goldens(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct gcase *g = &cases[i];
		const char *path = next_path();
		struct arca_err e = { 0 };
		_cleanup_sif_writer_ struct sif_writer *w = NULL;
		if (create(path, &g->c, &w, &e) < 0) {
			printf("# %s: create: %s\n", g->golden, err_msg(&e));
			CHECK(0);
			continue;
		}
		int rc = run_op(w, g, &e);
		if (rc != g->want_rc) {
			printf("# %s: operation returned %d (%s), want %d\n", g->golden, rc, err_msg(&e), g->want_rc);
			CHECK(0);
			continue;
		}
		err_clear(&e);
		if (sif_writer_commit(w, &e) < 0) {
			printf("# %s: commit: %s\n", g->golden, err_msg(&e));
			CHECK(0);
			continue;
		}
		if (!same_as_golden(path, g->golden))
			CHECK(0);
		unlink(path);
	}
}

/* Creating with an initial object where there is no room fails and leaves
 * no file behind (the reference returns errInsufficientCapacity). */
static void test_create_insufficient_capacity(void)
{
	const struct create c = { .det = true, .zero_cap = true, .objs = { GENERIC(FACE) }, .nobjs = 1 };
	const char *path = next_path();
	struct arca_err e = { 0 };
	struct sif_writer *w = NULL;
	CHECK_RC(create(path, &c, &w, &e), -ENOSPC);
	sif_writer_free(w);
	CHECK(access(path, F_OK) < 0);
}

/* TestNewDescriptorInput's goldens are single descriptors as filled from
 * the input (ID, offset and sizes unset, not yet marked used). */
struct dcase {
	const char *golden;
	int32_t dt;
	void (*setup)(struct sif_input *in);
};
static void s_none(struct sif_input *in) { (void)in; }
static void s_nogroup(struct sif_input *in) { in->group_id = 0; }
static void s_group2(struct sif_input *in) { in->group_id = 2; }
static void s_link(struct sif_input *in) { in->linked_id = 1; }
static void s_linkgroup(struct sif_input *in) { in->linked_id = sif_link_group(1); }
static void s_align(struct sif_input *in) { in->alignment = 8; }
static void s_name(struct sif_input *in) { in->name = "name"; }
static void s_time(struct sif_input *in) { in->has_time = true, in->time = T2000; }
static void s_meta(struct sif_input *in) { memcpy(in->extra, "{\"Value\":100}", 13); }
static void s_crypt(struct sif_input *in) { (void)sif_input_cryptmsg(in, SIF_FORMAT_OPENPGP, SIF_MESSAGE_CLEAR_SIGNATURE); }
static void s_part(struct sif_input *in) { (void)sif_input_partition(in, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "386"); }
static void s_sig(struct sif_input *in)
{
	static const uint8_t fp[] = { 0x12, 0x04, 0x5c, 0x8c, 0x0b, 0x10, 0x04, 0xd0, 0x58, 0xde,
				      0x4b, 0xed, 0xa2, 0x0c, 0x27, 0xee, 0x7f, 0xf7, 0xba, 0x84 };
	(void)sif_input_signature(in, SIF_HASH_SHA256, fp, sizeof(fp));
}
static void s_sbom(struct sif_input *in) { (void)sif_input_sbom(in, SIF_SBOM_CYCLONEDX_JSON); }

static void test_descriptor_input_goldens(void)
{
	static const struct dcase dc[] = {
		{ "Empty", SIF_DATA_GENERIC, s_none },
		{ "OptNoGroup", SIF_DATA_GENERIC, s_nogroup },
		{ "OptGroupID", SIF_DATA_GENERIC, s_group2 },
		{ "OptLinkedID", SIF_DATA_GENERIC, s_link },
		{ "OptLinkedGroupID", SIF_DATA_GENERIC, s_linkgroup },
		{ "OptObjectAlignment", SIF_DATA_GENERIC, s_align },
		{ "OptObjectName", SIF_DATA_GENERIC, s_name },
		{ "OptObjectTime", SIF_DATA_GENERIC, s_time },
		{ "OptMetadata", SIF_DATA_GENERIC, s_meta },
		{ "OptCryptoMessageMetadata", SIF_DATA_CRYPTOMESSAGE, s_crypt },
		{ "OptPartitionMetadata", SIF_DATA_PARTITION, s_part },
		{ "OptSignatureMetadata", SIF_DATA_SIGNATURE, s_sig },
		{ "OptSBOMMetadata", SIF_DATA_SBOM, s_sbom },
		{ "DataOCIBlob", SIF_DATA_OCI_BLOB, s_none },
		{ "DataOCIRootIndex", SIF_DATA_OCI_ROOTINDEX, s_none },
	};
	for (size_t i = 0; i < ARRAY_SIZE(dc); i++) {
		const char *path = next_path();
		struct arca_err e = { 0 };
		struct sif_create_opts o = { .deterministic = true };
		_cleanup_sif_writer_ struct sif_writer *w = NULL;
		REQUIRE(sif_create(path, &o, &w, &e) == 0);
		struct sif_input in;
		sif_input_init(&in, dc[i].dt);
		in.data = "x";
		in.size = 1;
		dc[i].setup(&in);
		/* OCI objects carry the digest of their data (here: none). */
		if (dc[i].dt == SIF_DATA_OCI_BLOB || dc[i].dt == SIF_DATA_OCI_ROOTINDEX)
			in.size = 0;
		if (sif_add(w, &in, NULL, NULL, &e) < 0) {
			printf("# %s: %s\n", dc[i].golden, err_msg(&e));
			CHECK(0);
			continue;
		}
		struct sif_descr d = *sif_writer_slot(w, 0);
		d.used = false;
		d.id = 0;
		d.offset = d.size = d.size_with_padding = 0;
		uint8_t got[SIF_DESCR_SIZE];
		sif_descr_encode(&d, got);
		char rel[256];
		snprintf(rel, sizeof(rel), "fixtures/sif/pkg/sif/testdata/TestNewDescriptorInput/%s.golden", dc[i].golden);
		struct buf want = BUF_INIT;
		REQUIRE(file_read_all(tl_shared(rel), 4096, &want, &e) == 0);
		if (want.len != SIF_DESCR_SIZE || memcmp(want.p, got, SIF_DESCR_SIZE) != 0) {
			size_t k = 0;
			while (k < want.len && k < SIF_DESCR_SIZE && (uint8_t)want.p[k] == got[k])
				k++;
			printf("# %s: first difference at byte %zu\n", dc[i].golden, k);
			CHECK(0);
		}
		buf_release(&want);
		unlink(path);
	}
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_library_goldens);
	RUN(test_create_insufficient_capacity);
	RUN(test_descriptor_input_goldens);
	rmdir(tmpdir);
	TL_DONE();
}
