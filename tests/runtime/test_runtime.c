/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the launcher's parsers and of the image reader: bind lists,
 * sizes, the environment (descriptor, host filtering, overrides), shell
 * quoting, and the SquashFS view (files, symlinks inside the image,
 * listing, limits). The image is built with mksquashfs when it exists.
 */
#include "harden.h"
#include "internal.h"
#include "testlib.h"

#include <sys/stat.h>
#include <sys/wait.h>

static void binds(void)
{
	struct rt_bind *b = NULL;
	size_t n = 0;
	struct arca_err e = { 0 };
	CHECK_RC(rt_bind_parse("/a,/b:/c,/d:/e:ro,/f:ro,/g:/h:rw", &b, &n, &e), 0);
	REQUIRE(n == 5);
	CHECK_STR(b[0].src, "/a");
	CHECK_STR(b[0].dst, "/a");
	CHECK(!b[0].ro);
	CHECK_STR(b[1].dst, "/c");
	CHECK(b[2].ro);
	CHECK_STR(b[2].dst, "/e");
	CHECK_STR(b[3].dst, "/f"); /* "src:ro" is src:src:ro */
	CHECK(b[3].ro);
	CHECK(!b[4].ro);
	CHECK_RC(rt_bind_parse("/x:/y:rx", &b, &n, &e), -EINVAL);
	CHECK_RC(rt_bind_parse("/x:relative", &b, &n, &e), -EINVAL);
	CHECK_RC(rt_bind_parse("/x:", &b, &n, &e), -EINVAL);
	CHECK_RC(rt_bind_parse("/x:/a/../etc", &b, &n, &e), -EINVAL);
	CHECK_RC(rt_bind_parse("/x:/a/.", &b, &n, &e), -EINVAL);
	CHECK_RC(rt_bind_parse("/x:/a/..b", &b, &n, &e), 0);
	CHECK_RC(rt_bind_parse("rel", &b, &n, &e), 0);
	CHECK(b[n - 1].src[0] == '/'); /* made absolute against the cwd */
	rt_binds_free(b, n);
}

static void sizes(void)
{
	int64_t v = 0;
	CHECK_RC(rt_parse_size("4096", &v), 0);
	CHECK(v == 4096);
	CHECK_RC(rt_parse_size("512M", &v), 0);
	CHECK(v == 512LL << 20);
	CHECK_RC(rt_parse_size("2g", &v), 0);
	CHECK(v == 2LL << 30);
	CHECK_RC(rt_parse_size("1.5KiB", &v), -EINVAL);
	CHECK_RC(rt_parse_size("1.5kb", &v), 0);
	CHECK(v == 1536);
	CHECK_RC(rt_parse_size("-1", &v), -EINVAL);
	CHECK_RC(rt_parse_size("12x", &v), -EINVAL);
	CHECK_RC(rt_parse_size("", &v), -EINVAL);
	CHECK_RC(rt_parse_size("99999999T", &v), -EINVAL);
}

static void quoting(void)
{
	struct buf b = BUF_INIT;
	rt_shell_quote(&b, "it's $HOME");
	CHECK_STR(b.p, "'it'\\''s $HOME'");
	buf_release(&b);
	CHECK(rt_env_key_ok("A_1", 3));
	CHECK(!rt_env_key_ok("1A", 2));
	CHECK(!rt_env_key_ok("A-B", 3));
	CHECK(!rt_env_key_ok("", 0));
}

/* An in-memory SIF with an environment descriptor and a dummy partition. */
static struct sif_image *env_image(const char *path)
{
	struct arca_err e = { 0 };
	struct sif_writer *w = NULL;
	if (sif_create(path, NULL, &w, &e) < 0)
		return NULL;
	struct sif_input in;
	sif_input_init(&in, SIF_DATA_ENVVAR);
	static const char env[] = "export DESC=one\n  TWO=\"quoted value\"\nbad line\n9X=no\nexport SQ='single'\n";
	in.data = env;
	in.size = sizeof(env) - 1;
	struct sif_when when = { 0 };
	if (sif_add(w, &in, &when, NULL, &e) < 0 || sif_writer_commit(w, &e) < 0) {
		sif_writer_free(w);
		return NULL;
	}
	sif_writer_free(w);
	struct sif_image *img = NULL;
	if (sif_open(path, &img, &e) < 0)
		return NULL;
	return img;
}

static void environment(void)
{
	char tmpl[] = "/tmp/arca-rt-unit.XXXXXX";
	REQUIRE(mkdtemp(tmpl));
	char path[64];
	snprintf(path, sizeof(path), "%s/env.sif", tmpl);
	struct sif_image *img = env_image(path);
	REQUIRE(img);

	setenv("ARCA_TEST_HOSTVAR", "host", 1);
	setenv("APPTAINERENV_VIA_PREFIX", "pref", 1);
	setenv("LD_LIBRARY_PATH", "/host/lib", 1);
	setenv("TERM", "xterm-test", 1);
	setenv("UNIT_PLAIN", "plain", 1);
	const char *over[] = { "DESC=overridden" };
	struct rt_opts o = { .image = path, .action = RT_ACTION_EXEC, .env = over, .n_env = 1 };
	struct rt_env env = { 0 }, ovr = { 0 };
	struct arca_err e = { 0 };
	CHECK_RC(rt_env_build(&o, img, "/home/u", &env, &ovr, &e), 0);
	CHECK_STR(rt_env_get(&env, "DESC"), "one");
	CHECK_STR(rt_env_get(&env, "TWO"), "quoted value");
	CHECK_STR(rt_env_get(&env, "SQ"), "single");
	CHECK(!rt_env_get(&env, "9X"));
	CHECK_STR(rt_env_get(&env, "HOME"), "/home/u");
	CHECK(!rt_env_get(&env, "LD_LIBRARY_PATH")); /* the image's 99-base.sh sets it */
	CHECK_STR(rt_env_get(&env, "UNIT_PLAIN"), "plain");
	CHECK(!rt_env_get(&env, "ARCA_TEST_HOSTVAR")); /* arca's own controls stay out */
	CHECK(!rt_env_get(&env, "APPTAINERENV_VIA_PREFIX"));
	CHECK_STR(rt_env_get(&env, "APPTAINER_NAME"), "env.sif");
	CHECK_STR(rt_env_get(&ovr, "VIA_PREFIX"), "pref");
	CHECK_STR(rt_env_get(&ovr, "DESC"), "overridden");
	rt_env_release(&env);
	rt_env_release(&ovr);

	o.cleanenv = true;
	CHECK_RC(rt_env_build(&o, img, "/home/u", &env, &ovr, &e), 0);
	CHECK(!rt_env_get(&env, "UNIT_PLAIN"));
	CHECK_STR(rt_env_get(&env, "TERM"), "xterm-test");
	CHECK_STR(rt_env_get(&env, "LANG"), "C");
	rt_env_release(&env);
	rt_env_release(&ovr);

	const char *bad[] = { "NOEQUALS" };
	o.env = bad;
	CHECK_RC(rt_env_build(&o, img, "/home/u", &env, &ovr, &e), -EINVAL);
	rt_env_release(&env);
	rt_env_release(&ovr);

	sif_close(img);
	unlink(path);
	rmdir(tmpl);
}

static int sh(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void squashfs_view(void)
{
	if (sh("command -v mksquashfs >/dev/null") != 0) {
		printf("# mksquashfs missing, skipped\n");
		return;
	}
	char tmpl[] = "/tmp/arca-rt-sqfs.XXXXXX";
	REQUIRE(mkdtemp(tmpl));
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p r/a/b r/etc && echo hello > r/a/b/file && ln -s b r/a/lnk && "
		 "ln -s /a/b/file r/etc/abs && ln -s ../../../../a/b/file r/etc/up && ln -s loop1 r/loop2 && "
		 "ln -s loop2 r/loop1 && printf 'x%%.0s' $(seq 100) > r/big && "
		 "mksquashfs r img -noappend -quiet -no-progress -all-root >/dev/null",
		 tmpl);
	REQUIRE(sh(cmd) == 0);
	snprintf(cmd, sizeof(cmd), "%s/img", tmpl);
	struct buf data = BUF_INIT;
	struct arca_err e = { 0 };
	REQUIRE(file_read_all(cmd, 1 << 24, &data, &e) == 0);
	struct rt_sqfs *fs = NULL;
	CHECK_RC(rt_sqfs_open((const uint8_t *)data.p, 100, &fs, &e), -EBADMSG);
	REQUIRE(rt_sqfs_open((const uint8_t *)data.p, data.len, &fs, &e) == 0);

	struct buf b = BUF_INIT;
	CHECK_RC(rt_sqfs_read_file(fs, "/a/b/file", 1024, &b, &e), 0);
	CHECK_STR(b.p, "hello\n");
	buf_reset(&b);
	CHECK_RC(rt_sqfs_read_file(fs, "/a/lnk/file", 1024, &b, &e), 0); /* relative link */
	CHECK_STR(b.p, "hello\n");
	buf_reset(&b);
	CHECK_RC(rt_sqfs_read_file(fs, "/etc/abs", 1024, &b, &e), 0); /* absolute: the image's root */
	CHECK_STR(b.p, "hello\n");
	buf_reset(&b);
	CHECK_RC(rt_sqfs_read_file(fs, "/etc/up", 1024, &b, &e), 0); /* ".." stops at the root */
	CHECK_STR(b.p, "hello\n");
	buf_reset(&b);
	CHECK_RC(rt_sqfs_read_file(fs, "/loop1", 1024, &b, &e), -ELOOP);
	CHECK_RC(rt_sqfs_read_file(fs, "/nope", 1024, &b, &e), -ENOENT);
	CHECK_RC(rt_sqfs_read_file(fs, "/a/b", 1024, &b, &e), -EISDIR);
	CHECK_RC(rt_sqfs_read_file(fs, "/a/b/file/x", 1024, &b, &e), -ENOTDIR);
	CHECK_RC(rt_sqfs_read_file(fs, "/big", 10, &b, &e), -E2BIG);
	buf_release(&b);

	char **names = NULL;
	size_t n = 0;
	CHECK_RC(rt_sqfs_list_dir(fs, "/a", &names, &n, &e), 0);
	CHECK(n == 2);
	if (n == 2) {
		CHECK_STR(names[0], "b");
		CHECK_STR(names[1], "lnk");
	}
	rt_strv_free(names);
	CHECK_RC(rt_sqfs_list_dir(fs, "/a/b/file", &names, &n, &e), -ENOTDIR);
	rt_sqfs_close(fs);
	buf_release(&data);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
	sh(cmd);
}

/*
 * A forged image: the extended file inode of /.singularity.d/runscript
 * (a hard link, so mksquashfs writes the extended form) claims 64 TiB.
 * libsquashfs would size the inode's block list from that claim (16 GiB at
 * 4 KiB blocks) before anything read it; the image view refuses the inode
 * first, so inspect and the launcher's metadata reads fail cleanly with
 * -EBADMSG. The inode table is left uncompressed (-noI) to be patched.
 */
#define FORGED_MTIME 0x5A5A5A5Au

static int forge_runscript(const char *dir, struct buf *img)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p f/.singularity.d && printf '#!/bin/sh\\necho hi\\n' > f/.singularity.d/runscript && "
		 "ln f/.singularity.d/runscript f/.singularity.d/hardlink && touch -d @%u f/.singularity.d/runscript && "
		 "mksquashfs f forged.sqfs -noappend -quiet -no-progress -all-root -noI -b 4096 >/dev/null",
		 dir, FORGED_MTIME);
	if (sh(cmd) != 0)
		return -EIO;
	snprintf(cmd, sizeof(cmd), "%s/forged.sqfs", dir);
	struct arca_err e = { 0 };
	if (file_read_all(cmd, 1 << 24, img, &e) < 0 || img->len < 96)
		return -EIO;
	/* squashfs superblock: inode table start at 64, directory table at
	 * 72; inode: u16 type (9: extended file), ..., u32 mtime at +8,
	 * u64 file size at +24 */
	uint8_t *p = (uint8_t *)img->p;
	uint64_t it = 0, dt = 0;
	for (int i = 7; i >= 0; i--) {
		it = it << 8 | p[64 + i];
		dt = dt << 8 | p[72 + i];
	}
	int found = 0;
	for (uint64_t at = it + 2; at + 32 <= dt && dt <= img->len; at++) {
		uint32_t mt = (uint32_t)p[at + 8] | (uint32_t)p[at + 9] << 8 | (uint32_t)p[at + 10] << 16 |
			      (uint32_t)p[at + 11] << 24;
		if (mt != FORGED_MTIME || p[at] != 9 || p[at + 1] != 0)
			continue;
		uint64_t huge = 1ull << 46;
		for (int i = 0; i < 8; i++)
			p[at + 24 + (uint64_t)i] = (uint8_t)(huge >> (8 * i));
		found++;
	}
	return found == 1 ? 0 : -ENOENT;
}

static int mem_read(void *ctx, uint64_t off, void *p, size_t n)
{
	memcpy(p, (const uint8_t *)ctx + off, n);
	return 0;
}

static void forged_inode(void)
{
	if (sh("command -v mksquashfs >/dev/null") != 0) {
		printf("# mksquashfs missing, skipped\n");
		return;
	}
	char tmpl[] = "/tmp/arca-rt-forged.XXXXXX";
	REQUIRE(mkdtemp(tmpl));
	struct buf img = BUF_INIT;
	REQUIRE(forge_runscript(tmpl, &img) == 0);

	struct rt_sqfs *fs = NULL;
	struct arca_err e = { 0 };
	REQUIRE(rt_sqfs_open((const uint8_t *)img.p, img.len, &fs, &e) == 0);
	struct buf b = BUF_INIT;
	CHECK_RC(rt_sqfs_read_file(fs, "/.singularity.d/runscript", RT_SQFS_MAX_FILE, &b, &e), -EBADMSG);
	CHECK(strstr(err_msg(&e), "forged") != NULL);
	CHECK(strstr(err_msg(&e), "blocks") != NULL);
	printf("# %s\n", err_msg(&e));
	CHECK_RC(rt_sqfs_read_file(fs, "/.singularity.d/hardlink", RT_SQFS_MAX_FILE, &b, &e), -EBADMSG);
	/* listing reads no inode of the entries: still fine */
	char **names = NULL;
	size_t n = 0;
	CHECK_RC(rt_sqfs_list_dir(fs, "/.singularity.d", &names, &n, &e), 0);
	CHECK(n == 2);
	rt_strv_free(names);
	buf_release(&b);
	rt_sqfs_close(fs);

	/* inspect, through a SIF holding the forged partition */
	char path[64];
	snprintf(path, sizeof(path), "%s/forged.sif", tmpl);
	struct sif_writer *w = NULL;
	REQUIRE(sif_create(path, NULL, &w, &e) == 0);
	struct sif_input in;
	sif_input_init(&in, SIF_DATA_PARTITION);
	REQUIRE(sif_input_partition(&in, SIF_FS_SQUASH, SIF_PART_PRIMSYS, sif_host_arch()) == 0);
	in.data = img.p;
	in.size = img.len;
	struct sif_when when = { 0 };
	REQUIRE(sif_add(w, &in, &when, NULL, &e) == 0 && sif_writer_commit(w, &e) == 0);
	sif_writer_free(w);
	struct val *v = NULL;
	CHECK_RC(rt_inspect(path, RT_INSPECT_RUNSCRIPT, &v, &e), -EBADMSG);
	CHECK(strstr(err_msg(&e), "/.singularity.d/runscript") != NULL);
	val_unref(v);
	CHECK_RC(rt_inspect(path, RT_INSPECT_LABELS, &v, &e), 0); /* no labels file: nothing forged read */
	val_unref(v);

	/* the FUSE server's walk refuses the one file and serves the rest */
	struct rt_blocksrc *src = NULL;
	static const struct rt_blocksrc_ops ops = { .read_at = mem_read };
	REQUIRE(rt_blocksrc_new(&ops, img.p, img.len, &src, &e) == 0);
	CHECK(rt_squashfs_check(src, 100, 1u << 20, &e) == 2);
	rt_blocksrc_free(src);

	buf_release(&img);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
	sh(cmd);
}

int main(void)
{
	RUN(binds);
	RUN(sizes);
	RUN(quoting);
	RUN(environment);
	RUN(squashfs_view);
	RUN(forged_inode);
	TL_DONE();
}
