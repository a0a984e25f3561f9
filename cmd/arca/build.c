/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca build IMAGE.sif SOURCE: a SIF image from a directory or a tar
 * archive (plain, gzip, zstd), with a SquashFS root made in-process.
 */
#include "build.h"
#include "cmd.h"

#include <getopt.h>
#include <inttypes.h>
#include <sys/stat.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: arca build [options] IMAGE.sif SOURCE\n\n"
		   "SOURCE is a directory or a tar archive (plain, gzip or zstd).\n\n"
		   "options:\n"
		   "  -c, --compress ALG     lz4 (default), zstd, gzip, xz or none\n"
		   "  -b, --block-size N     SquashFS block size, a power of two from 4096 to 1048576\n"
		   "                         (default 131072)\n"
		   "  -j, --threads N        compression threads (default: online CPUs)\n"
		   "      --arch ARCH        architecture recorded in the image (Go name; default: host)\n"
		   "  -l, --label KEY=VALUE  add a label (repeatable)\n"
		   "  -e, --env KEY=VALUE    set an environment variable in the image (repeatable)\n"
		   "      --deffile FILE     store FILE as the image's definition file\n"
		   "      --runscript FILE   use FILE as /.singularity.d/runscript\n"
		   "      --deterministic    nil image ID and zero SIF times (see SOURCE_DATE_EPOCH)\n"
		   "  -F, --force            overwrite an existing IMAGE\n"
		   "\n"
		   "As root, owners, modes and device nodes are kept as found. Otherwise every\n"
		   "entry is owned by root (0:0) and device nodes are skipped with a warning.\n"
		   "SOURCE_DATE_EPOCH, when set, becomes every SquashFS time stamp.\n");
}

struct kv_list {
	struct build_kv *v;
	size_t n, cap;
};

static int kv_push(struct kv_list *l, char *arg, const char *what)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg) {
		cmd_error("%s '%s' is not KEY=VALUE", what, arg);
		return -1;
	}
	if (l->n >= BUILD_MAX_KV) {
		cmd_error("more than %u %ss", BUILD_MAX_KV, what);
		return -1;
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 8;
		struct build_kv *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv) {
			cmd_error("out of memory");
			return -1;
		}
		l->v = nv;
		l->cap = nc;
	}
	*eq = '\0';
	l->v[l->n++] = (struct build_kv){ arg, eq + 1 };
	return 0;
}

static int parse_u32(const char *s, uint32_t *out, const char *what)
{
	if (cmd_parse_u32(s, out) < 0) {
		cmd_error("invalid %s '%s'", what, s);
		return -1;
	}
	return 0;
}

static void human(uint64_t n, char *out, size_t cap)
{
	if (n < 1024 * 1024)
		snprintf(out, cap, "%.1f KiB", (double)n / 1024.0);
	else if (n < 1024ull * 1024 * 1024)
		snprintf(out, cap, "%.1f MiB", (double)n / (1024.0 * 1024.0));
	else
		snprintf(out, cap, "%.2f GiB", (double)n / (1024.0 * 1024.0 * 1024.0));
}

static void on_progress(void *ctx, const struct build_progress *p)
{
	(void)ctx;
	char in[32], out[32];
	human(p->bytes_in, in, sizeof(in));
	human(p->bytes_out, out, sizeof(out));
	/* \r plus clear-to-end-of-line rewrites one status line in place. */
	fprintf(stderr, "\r\033[K%" PRIu64 " entries, %" PRIu64 " files, %s read, %s written%s", p->entries, p->files,
		in, out, p->done ? "\n" : "");
	fflush(stderr);
}

static void on_warn(void *ctx, const char *msg)
{
	bool *progress = ctx;
	if (*progress)
		fputs("\r\033[K", stderr);
	cmd_warn("%s", msg);
}

static int read_text(const char *path, struct buf *b, const char *what)
{
	struct arca_err e = { 0 };
	int rc = file_read_all(path, BUILD_MAX_META_FILE, b, &e);
	if (rc < 0) {
		cmd_fail(&e, rc, what);
		return -1;
	}
	return 0;
}

int cmd_build(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "compress", required_argument, NULL, 'c' }, { "block-size", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 'j' },  { "arch", required_argument, NULL, 'A' },
		{ "label", required_argument, NULL, 'l' },    { "env", required_argument, NULL, 'e' },
		{ "deffile", required_argument, NULL, 'D' },  { "runscript", required_argument, NULL, 'R' },
		{ "deterministic", no_argument, NULL, 'Z' },  { "force", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },           { 0 },
	};
	struct build_opts o;
	build_opts_init(&o);
	struct kv_list labels = { 0 }, env = { 0 };
	struct buf deffile = BUF_INIT, runscript = BUF_INIT;
	const char *deffile_path = NULL, *runscript_path = NULL;
	bool force = false;
	int ret = EXIT_USAGE, c;
	while ((c = getopt_long(argc, argv, "hc:b:j:l:e:F", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (build_compress_parse(optarg, &o.compress) < 0) {
				cmd_error("unknown compressor '%s' (lz4, zstd, gzip, xz or none)", optarg);
				goto out;
			}
			break;
		case 'b':
			if (parse_u32(optarg, &o.block_size, "block size") < 0)
				goto out;
			break;
		case 'j': {
			uint32_t n;
			if (parse_u32(optarg, &n, "thread count") < 0 || n == 0 || n > 64) {
				cmd_error("thread count must be 1..64");
				goto out;
			}
			o.threads = n;
			break;
		}
		case 'A':
			o.arch = optarg;
			break;
		case 'l':
			if (kv_push(&labels, optarg, "label") < 0)
				goto out;
			break;
		case 'e':
			if (kv_push(&env, optarg, "environment variable") < 0)
				goto out;
			break;
		case 'D':
			deffile_path = optarg;
			break;
		case 'R':
			runscript_path = optarg;
			break;
		case 'Z':
			o.deterministic = true;
			break;
		case 'F':
			force = true;
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		goto out;
	}
	o.output = argv[optind];
	o.source = argv[optind + 1];
	ret = 1;
	struct stat st;
	if (!force && lstat(o.output, &st) == 0) {
		cmd_error("'%s' exists (use --force to overwrite it)", o.output);
		goto out;
	}
	if (deffile_path) {
		if (read_text(deffile_path, &deffile, "reading the definition file") < 0)
			goto out;
		o.deffile = deffile.p;
		o.deffile_len = deffile.len;
	}
	if (runscript_path) {
		if (read_text(runscript_path, &runscript, "reading the runscript") < 0)
			goto out;
		o.runscript = runscript.p;
		o.runscript_len = runscript.len;
	}
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		errno = 0;
		long long v = strtoll(sde, &end, 10);
		if (errno || *end || v < 0) {
			cmd_error("invalid SOURCE_DATE_EPOCH '%s'", sde);
			goto out;
		}
		o.has_epoch = true;
		o.epoch = v;
	}
	o.labels = labels.v;
	o.n_labels = labels.n;
	o.env = env.v;
	o.n_env = env.n;
	o.privileged = geteuid() == 0;
	bool progress = !cmd_quiet && isatty(STDERR_FILENO);
	if (progress)
		o.progress = on_progress;
	o.warn = on_warn;
	o.warn_ctx = &progress;

	struct arca_err e = { 0 };
	struct build_result res;
	int rc = build_image(&o, &res, &e);
	if (rc < 0) {
		if (progress)
			fputs("\r\033[K", stderr);
		cmd_fail(&e, rc, "build");
		goto out;
	}
	if (!cmd_quiet) {
		char sz[32];
		human(res.sqfs_size, sz, sizeof(sz));
		fprintf(stderr,
			"built '%s': %" PRIu64 " entries (%" PRIu64 " files, %" PRIu64 " directories, %" PRIu64
			" symlinks, %" PRIu64 " hard links), squashfs %s (%s)\n",
			o.output, res.entries, res.files, res.dirs, res.symlinks, res.hardlinks, sz,
			build_compress_name(o.compress));
		if (res.skipped)
			fprintf(stderr, "skipped %" PRIu64 " device nodes (unprivileged build)\n", res.skipped);
	}
	ret = 0;
out:
	free(labels.v);
	free(env.v);
	buf_release(&deffile);
	buf_release(&runscript);
	return ret;
}
