/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/build unit tests: option parsing, the tar reader's refusals on
 * hostile archives (built here byte by byte), and whole builds checked
 * through lib/sif: objects, metadata, determinism.
 */
#include "build.h"
#include "sif.h"
#include "testlib.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

/* ------------------------------------------------------------ tar maker */

struct tarb {
	struct buf b;
};

/* n-1 zero-padded octal digits and a NUL, as ustar numeric fields are. */
static void oct(char *dst, size_t n, uint64_t v)
{
	for (size_t i = n - 1; i-- > 0; v >>= 3)
		dst[i] = (char)('0' + (v & 7));
	dst[n - 1] = '\0';
}

/* One ustar header (+ data). type: '0' file, '1' hard link, '2' symlink,
 * '5' directory, '3' char device. The name goes in the 100-byte field or,
 * when longer, a GNU 'L' long-name record first. */
static void tar_add(struct tarb *t, const char *name, char type, const char *link, const void *data, size_t len)
{
	if (strlen(name) >= 100) {
		char h[512] = { 0 };
		memcpy(h, "././@LongLink", 13);
		oct(h + 100, 8, 0644);
		oct(h + 108, 8, 0);
		oct(h + 116, 8, 0);
		oct(h + 124, 12, strlen(name) + 1);
		oct(h + 136, 12, 0);
		h[156] = 'L';
		memcpy(h + 257, "ustar  ", 8);
		memset(h + 148, ' ', 8);
		unsigned sum = 0;
		for (int i = 0; i < 512; i++)
			sum += (uint8_t)h[i];
		snprintf(h + 148, 8, "%06o", sum);
		buf_add(&t->b, h, 512);
		size_t nl = strlen(name) + 1;
		buf_add(&t->b, name, nl);
		buf_addzero(&t->b, (512 - nl % 512) % 512);
	}
	char h[512] = { 0 };
	memcpy(h, name, strlen(name) < 100 ? strlen(name) : 99);
	oct(h + 100, 8, type == '5' ? 0755 : 0644);
	oct(h + 108, 8, 1000);
	oct(h + 116, 8, 1000);
	oct(h + 124, 12, type == '0' ? len : 0);
	oct(h + 136, 12, 1700000000);
	h[156] = type;
	if (link)
		memcpy(h + 157, link, strlen(link) < 100 ? strlen(link) : 99);
	memcpy(h + 257, "ustar  ", 8);
	if (type == '3') {
		oct(h + 329, 8, 1);
		oct(h + 337, 8, 3);
	}
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += (uint8_t)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	buf_add(&t->b, h, 512);
	if (type == '0' && len) {
		buf_add(&t->b, data, len);
		buf_addzero(&t->b, (512 - len % 512) % 512);
	}
}

static void tar_end(struct tarb *t) { buf_addzero(&t->b, 1024); }

static int check(struct tarb *t, uint64_t *n, struct arca_err *e)
{
	tar_end(t);
	int rc = build_tar_check(t->b.p, t->b.len, n, e);
	buf_release(&t->b);
	return rc;
}

/* ------------------------------------------------------------ cases */

static void test_compress_names(void)
{
	static const char *const names[] = { "lz4", "zstd", "gzip", "xz", "none" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		enum build_compress c;
		CHECK_RC(build_compress_parse(names[i], &c), 0);
		CHECK_STR(build_compress_name(c), names[i]);
	}
	enum build_compress c;
	CHECK_RC(build_compress_parse("lzo", &c), -EINVAL);
	CHECK_RC(build_compress_parse(NULL, &c), -EINVAL);
	struct build_opts o;
	build_opts_init(&o);
	CHECK(o.compress == BUILD_COMP_LZ4);
	CHECK(o.block_size == 131072);
}

static void test_label_date(void)
{
	char s[96];
	build_label_date(1729479530, s, sizeof(s)); /* 2024-10-21 02:58:50 UTC, a Monday */
	CHECK_STR(s, "Monday_21_October_2024_2:58:50_UTC");
	build_label_date(0, s, sizeof(s));
	CHECK_STR(s, "Thursday_1_January_1970_0:0:0_UTC");
}

static void test_tar_good(void)
{
	struct tarb t = { BUF_INIT };
	struct arca_err e = { 0 };
	uint64_t n = 0;
	tar_add(&t, "./", '5', NULL, NULL, 0);
	tar_add(&t, "./etc/", '5', NULL, NULL, 0);
	tar_add(&t, "./etc/passwd", '0', NULL, "root:x:0:0::/root:/bin/sh\n", 26);
	tar_add(&t, "./etc/hard", '1', "./etc/passwd", NULL, 0);
	tar_add(&t, "./bin/sh", '2', "/bin/busybox", NULL, 0); /* parent created implicitly */
	tar_add(&t, "./dev/null", '3', NULL, NULL, 0);
	tar_add(&t, "./etc/passwd", '0', NULL, "x\n", 2); /* a later entry replaces... */
	int rc = check(&t, &n, &e);
	/* ...except a hard-linked one, which extraction could not reproduce. */
	CHECK_RC(rc, -EBADMSG);
	CHECK(strstr(e.msg, "hard-linked") != NULL);

	struct tarb u = { BUF_INIT };
	tar_add(&u, "a/b/c/file", '0', NULL, "data", 4);
	tar_add(&u, "a/b/c/file", '0', NULL, "new data", 8);
	tar_add(&u, "a/link", '2', "../../../../etc/shadow", NULL, 0); /* a target is only data */
	tar_add(&u, "a/b", '5', NULL, NULL, 0);
	CHECK_RC(check(&u, &n, &e), 0);
	CHECK(n == 6); /* root, a, a/b, a/b/c, file, link */
}

static void expect_refused(struct tarb *t, int code, const char *what)
{
	struct arca_err e = { 0 };
	int rc = check(t, NULL, &e);
	CHECK_RC(rc, code);
	if (!strstr(e.msg, what))
		printf("# message '%s' lacks '%s'\n", e.msg, what);
	CHECK(strstr(e.msg, what) != NULL);
}

static void test_tar_hostile(void)
{
	struct tarb t = { BUF_INIT };
	tar_add(&t, "../evil", '0', NULL, "x", 1);
	expect_refused(&t, -EPERM, "'..'");

	tar_add(&t, "ok/../../evil", '0', NULL, "x", 1);
	expect_refused(&t, -EPERM, "'..'");

	tar_add(&t, "/etc/passwd", '0', NULL, "x", 1);
	expect_refused(&t, -EPERM, "absolute path");

	/* A symlink, then an entry through it: extraction would write outside. */
	tar_add(&t, "escape", '2', "/etc", NULL, 0);
	tar_add(&t, "escape/passwd", '0', NULL, "x", 1);
	expect_refused(&t, -EPERM, "non-directory");

	/* Hard links only to earlier entries, never to directories. */
	tar_add(&t, "early", '1', "later", NULL, 0);
	tar_add(&t, "later", '0', NULL, "x", 1);
	expect_refused(&t, -EBADMSG, "earlier entry");
	tar_add(&t, "d/", '5', NULL, NULL, 0);
	tar_add(&t, "dl", '1', "d", NULL, 0);
	expect_refused(&t, -EBADMSG, "refused");
	tar_add(&t, "x", '1', "../../etc/shadow", NULL, 0);
	expect_refused(&t, -EBADMSG, "earlier entry");

	/* A component over the SquashFS name limit. */
	char longname[400];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	tar_add(&t, longname, '0', NULL, "x", 1);
	expect_refused(&t, -E2BIG, "longer than 255");

	/* A file replacing a directory. */
	tar_add(&t, "dir/", '5', NULL, NULL, 0);
	tar_add(&t, "dir/f", '0', NULL, "x", 1);
	tar_add(&t, "dir", '0', NULL, "x", 1);
	expect_refused(&t, -EBADMSG, "replaces a directory");

	/* Not a tar at all, and a truncated one. */
	struct arca_err e = { 0 };
	CHECK_RC(build_tar_check("this is not a tar archive at all, not even close..........", 56, NULL, &e), -EBADMSG);
	struct tarb u = { BUF_INIT };
	tar_add(&u, "big", '0', NULL, longname, 300);
	CHECK_RC(build_tar_check(u.b.p, 700, NULL, &e), -EBADMSG);
	buf_release(&u.b);
}

/* ------------------------------------------------------------ images */

static char tmpdir[] = "/tmp/arca-test-build.XXXXXX";

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		CHECK_RC(fd_write_full(fd, text, strlen(text)), 0);
		close(fd);
	}
}

static const struct sif_descr *find_type(const struct sif_image *img, int32_t type)
{
	for (size_t i = 0; i < sif_descr_slots(img); i++) {
		const struct sif_descr *d = sif_descr_slot(img, i);
		if (d->used && d->datatype == type)
			return d;
	}
	return NULL;
}

static int build_into(const char *out, bool deterministic, struct arca_err *e)
{
	char src[512];
	snprintf(src, sizeof(src), "%s/root", tmpdir);
	struct build_kv labels[] = { { "org.example.role", "worker" }, { "quote", "<a & b>" } };
	struct build_kv env[] = { { "GREETING", "it's fine" } };
	struct build_opts o;
	build_opts_init(&o);
	o.source = src;
	o.output = out;
	o.compress = BUILD_COMP_ZSTD;
	o.arch = "arm64";
	o.labels = labels;
	o.n_labels = 2;
	o.env = env;
	o.n_env = 1;
	o.deffile = "bootstrap: scratch\n";
	o.deffile_len = strlen(o.deffile);
	o.runscript = "#!/bin/sh\necho hi\n";
	o.runscript_len = strlen(o.runscript);
	o.deterministic = deterministic;
	o.has_epoch = deterministic;
	o.epoch = 1700000000;
	o.privileged = geteuid() == 0;
	return build_image(&o, NULL, e);
}

static void test_image(void)
{
	char src[512], out[512];
	snprintf(src, sizeof(src), "%s/root", tmpdir);
	REQUIRE(mkdir(src, 0755) == 0);
	put("root/hello.txt", "hello\n");
	snprintf(out, sizeof(out), "%s/one.sif", tmpdir);
	struct arca_err e = { 0 };
	int rc = build_into(out, false, &e);
	if (rc < 0)
		printf("# %s\n", e.msg);
	REQUIRE(rc == 0);

	_cleanup_sif_ struct sif_image *img = NULL;
	REQUIRE(sif_open(out, &img, &e) == 0);
	const struct sif_header *h = sif_get_header(img);
	CHECK(memcmp(h->launch, "#!/usr/bin/env run-singularity\n", 31) == 0);
	CHECK_STR(sif_arch_name(h->arch), "arm64");
	const struct sif_descr *d;
	REQUIRE(sif_primary_partition(img, &d) == 0);
	int32_t fs, pt;
	uint8_t arch[SIF_ARCH_LEN];
	CHECK_RC(sif_descr_partition(d, &fs, &pt, arch), 0);
	CHECK(fs == SIF_FS_SQUASH && pt == SIF_PART_PRIMSYS);
	CHECK(d->offset % 4096 == 0 && d->size % 4096 == 0);
	CHECK(memcmp(sif_object_data(img, d), "hsqs", 4) == 0);

	d = find_type(img, SIF_DATA_DEFFILE);
	REQUIRE(d != NULL);
	CHECK(d->size == 19 && memcmp(sif_object_data(img, d), "bootstrap: scratch\n", 19) == 0);

	d = find_type(img, SIF_DATA_GENERICJSON);
	REQUIRE(d != NULL);
	char name[SIF_NAME_LEN + 1];
	sif_descr_name(d, name);
	CHECK_STR(name, "inspect-metadata.json");
	_cleanup_val_ struct val *meta = NULL;
	REQUIRE(val_from_json((const char *)sif_object_data(img, d), (size_t)d->size, NULL, &meta, &e) == 0);
	struct val *attrs = val_object_get_cstr(val_object_get_cstr(meta, "data"), "attributes");
	CHECK_STR(val_str(val_object_get_cstr(meta, "type")), "container");
	CHECK_STR(val_str(val_object_get_cstr(val_object_get_cstr(attrs, "labels"), "org.example.role")), "worker");
	CHECK_STR(val_str(val_object_get_cstr(val_object_get_cstr(attrs, "labels"), "quote")), "<a & b>");
	CHECK_STR(val_str(val_object_get_cstr(attrs, "runscript")), "#!/bin/sh\necho hi\n");
	const char *envsh = val_str(
		val_object_get_cstr(val_object_get_cstr(attrs, "environment"), "/.singularity.d/env/90-environment.sh"));
	REQUIRE(envsh != NULL);
	CHECK(strstr(envsh, "export GREETING='it'\\''s fine'\n") != NULL);

	d = find_type(img, SIF_DATA_LABELS);
	REQUIRE(d != NULL);
	_cleanup_val_ struct val *labels = NULL;
	REQUIRE(val_from_json((const char *)sif_object_data(img, d), (size_t)d->size, NULL, &labels, &e) == 0);
	CHECK_STR(val_str(val_object_get_cstr(labels, "org.label-schema.build-arch")), "arm64");
	CHECK_STR(val_str(val_object_get_cstr(labels, "org.label-schema.schema-version")), "1.0");
	CHECK(find_type(img, SIF_DATA_ENVVAR) != NULL);
}

static void test_deterministic(void)
{
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/det-a.sif", tmpdir);
	snprintf(b, sizeof(b), "%s/det-b.sif", tmpdir);
	struct arca_err e = { 0 };
	REQUIRE(build_into(a, true, &e) == 0);
	REQUIRE(build_into(b, true, &e) == 0);
	struct buf x = BUF_INIT, y = BUF_INIT;
	REQUIRE(file_read_all(a, 1 << 26, &x, &e) == 0);
	REQUIRE(file_read_all(b, 1 << 26, &y, &e) == 0);
	CHECK(x.len == y.len && memcmp(x.p, y.p, x.len) == 0);
	_cleanup_sif_ struct sif_image *img = NULL;
	REQUIRE(sif_open(a, &img, &e) == 0);
	CHECK(sif_is_deterministic(img));
	/* every SquashFS time is SOURCE_DATE_EPOCH: the super block's at +8 */
	const struct sif_descr *d;
	REQUIRE(sif_primary_partition(img, &d) == 0);
	struct rd r = rd_make(sif_object_data(img, d) + 8, 4);
	uint32_t mtime = 0;
	CHECK_RC(rd_u32le(&r, &mtime), 0);
	CHECK(mtime == 1700000000);
	buf_release(&x);
	buf_release(&y);
}

static void test_bad_options(void)
{
	struct build_opts o;
	build_opts_init(&o);
	struct arca_err e = { 0 };
	char out[512];
	snprintf(out, sizeof(out), "%s/bad.sif", tmpdir);
	o.source = tmpdir;
	o.output = out;
	o.block_size = 3000;
	CHECK_RC(build_image(&o, NULL, &e), -EINVAL);
	o.block_size = 0;
	o.arch = "vax";
	CHECK_RC(build_image(&o, NULL, &e), -EINVAL);
	o.arch = NULL;
	struct build_kv env[] = { { "1BAD", "x" } };
	o.env = env;
	o.n_env = 1;
	CHECK_RC(build_image(&o, NULL, &e), -EINVAL);
	CHECK(strstr(e.msg, "1BAD") != NULL);
	o.n_env = 0;
	o.source = "/nonexistent/source";
	CHECK_RC(build_image(&o, NULL, &e), -ENOENT);
	CHECK(access(out, F_OK) != 0); /* nothing left behind */
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_compress_names);
	RUN(test_label_date);
	RUN(test_tar_good);
	RUN(test_tar_hostile);
	RUN(test_image);
	RUN(test_deterministic);
	RUN(test_bad_options);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	TL_DONE();
}
