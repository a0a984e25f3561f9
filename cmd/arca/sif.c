/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca sif header|list|info|dump|new|add|del|setprim: the reference siftool's
 * verbs, flags and output (byte for byte), plus --json for scripts.
 */
#include "cmd.h"
#include "sif.h"

#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <time.h>

#include <openssl/evp.h>

/* As Go's time.Time.String() prints a UTC time. */
static void fmt_time(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, cap, "%" PRId64, t);
		return;
	}
	snprintf(out, cap, "%04d-%02d-%02d %02d:%02d:%02d +0000 UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* siftool's human-readable size: "N B" under 1 KiB, else rounded binary units. */
static void fmt_size(int64_t size, char *out, size_t cap)
{
	if (-1024 < size && size < 1024) {
		snprintf(out, cap, "%" PRId64 " B", size);
		return;
	}
	static const char units[] = "KMGTPE";
	double div = 1024;
	int exp = 0;
	for (int64_t n = size / 1024; n <= -1024 || n >= 1024; n /= 1024) {
		div *= 1024;
		exp++;
	}
	snprintf(out, cap, "%.0f %ciB", round((double)size / div), units[exp]);
}

/* A two-column table aligned as Go's text/tabwriter aligns "key:\tvalue". */
struct table {
	char keys[24][32];
	char vals[24][512];
	size_t n;
};

static void table_add(struct table *t, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void table_add(struct table *t, const char *key, const char *fmt, ...)
{
	if (t->n >= ARRAY_SIZE(t->keys))
		return;
	snprintf(t->keys[t->n], sizeof(t->keys[0]), "%s", key);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->vals[t->n], sizeof(t->vals[0]), fmt, ap);
	va_end(ap);
	t->n++;
}

static void table_print(const struct table *t, struct buf *out, const char *indent, size_t padding)
{
	size_t w = 0;
	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->keys[i]) > w)
			w = strlen(t->keys[i]);
	for (size_t i = 0; i < t->n; i++)
		buf_addf(out, "%s%-*s%s\n", indent, (int)(w + padding), t->keys[i], t->vals[i]);
}

static int parse_id(const char *s, uint32_t *id)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v > UINT32_MAX || s[0] == '-') {
		cmd_error("invalid object ID '%s'", s);
		return -1;
	}
	*id = (uint32_t)v;
	return 0;
}

static int open_image(const char *path, struct sif_image **img)
{
	struct arca_err e = { 0 };
	int rc = sif_open(path, img, &e);
	if (rc < 0) {
		cmd_error("%s", e.msg);
		return -1;
	}
	return 0;
}

static void launch_trimmed(const struct sif_header *h, char out[SIF_LAUNCH_LEN + 1])
{
	size_t n = SIF_LAUNCH_LEN;
	while (n > 0 && h->launch[n - 1] == 0)
		n--;
	memcpy(out, h->launch, n);
	out[n] = '\0';
}

static bool id_is_nil(const uint8_t id[SIF_ID_LEN])
{
	static const uint8_t nil[SIF_ID_LEN];
	return memcmp(id, nil, SIF_ID_LEN) == 0;
}

static void header_text(const struct sif_header *h, struct buf *out)
{
	struct table t = { 0 };
	char s[64], ls[SIF_LAUNCH_LEN + 1];
	launch_trimmed(h, ls);
	if (ls[0]) {
		size_t n = strlen(ls);
		if (ls[n - 1] == '\n')
			ls[n - 1] = '\0';
		table_add(&t, "Launch Script:", "%s", ls);
	}
	char ver[SIF_VERSION_LEN + 1] = { 0 };
	memcpy(ver, h->version, SIF_VERSION_LEN);
	table_add(&t, "Version:", "%s", ver);
	const char *arch = sif_arch_name(h->arch);
	if (strcmp(arch, "unknown"))
		table_add(&t, "Primary Architecture:", "%s", arch);
	if (!id_is_nil(h->id)) {
		char id[37];
		sif_id_string(h->id, id);
		table_add(&t, "ID:", "%s", id);
	}
	if (!sif_time_is_zero(h->created_at)) {
		fmt_time(h->created_at, s, sizeof(s));
		table_add(&t, "Created At:", "%s", s);
	}
	if (!sif_time_is_zero(h->modified_at)) {
		fmt_time(h->modified_at, s, sizeof(s));
		table_add(&t, "Modified At:", "%s", s);
	}
	table_add(&t, "Descriptors Free:", "%" PRId64, h->descriptors_free);
	table_add(&t, "Descriptors Total:", "%" PRId64, h->descriptors_total);
	table_add(&t, "Descriptors Offset:", "%" PRId64, h->descriptors_offset);
	fmt_size(h->descriptors_size, s, sizeof(s));
	table_add(&t, "Descriptors Size:", "%s", s);
	table_add(&t, "Data Offset:", "%" PRId64, h->data_offset);
	fmt_size(h->data_size, s, sizeof(s));
	table_add(&t, "Data Size:", "%s", s);
	table_print(&t, out, "", 1);
}

static void header_json(const struct sif_header *h, struct buf *out)
{
	char ls[SIF_LAUNCH_LEN + 1], id[37], ver[SIF_VERSION_LEN + 1] = { 0 };
	launch_trimmed(h, ls);
	memcpy(ver, h->version, SIF_VERSION_LEN);
	sif_id_string(h->id, id);
	buf_addstr(out, "{\"launch_script\":");
	json_quote(out, ls, strlen(ls), 0);
	buf_addf(out, ",\"version\":\"%s\",\"primary_arch\":\"%s\",\"id\":\"%s\"", ver, sif_arch_name(h->arch), id);
	buf_addf(out, ",\"created_at\":%" PRId64 ",\"modified_at\":%" PRId64, h->created_at, h->modified_at);
	buf_addf(out, ",\"descriptors_free\":%" PRId64 ",\"descriptors_total\":%" PRId64, h->descriptors_free,
		 h->descriptors_total);
	buf_addf(out, ",\"descriptors_offset\":%" PRId64 ",\"descriptors_size\":%" PRId64, h->descriptors_offset,
		 h->descriptors_size);
	buf_addf(out, ",\"data_offset\":%" PRId64 ",\"data_size\":%" PRId64 "}\n", h->data_offset, h->data_size);
}

static void list_text(const struct sif_image *img, struct buf *out)
{
	static const char rule[] = "------------------------------------------------------------------------------\n";
	buf_addstr(out, rule);
	buf_addf(out, "%-4s %-8s %-8s %-26s %s\n", "ID", "|GROUP", "|LINK", "|SIF POSITION (start-end)", "|TYPE");
	buf_addstr(out, rule);
	for (size_t i = 0; i < sif_descr_slots(img); i++) {
		const struct sif_descr *d = sif_descr_slot(img, i);
		if (!d->used)
			continue;
		buf_addf(out, "%-4" PRIu32 " ", d->id);
		if (sif_descr_group(d) == 0)
			buf_addf(out, "|%-7s ", "NONE");
		else
			buf_addf(out, "|%-7" PRIu32 " ", sif_descr_group(d));
		bool isg;
		uint32_t link = sif_descr_link(d, &isg);
		if (link == 0)
			buf_addf(out, "|%-7s ", "NONE");
		else if (isg)
			buf_addf(out, "|%-3" PRIu32 " (G) ", link);
		else
			buf_addf(out, "|%-7" PRIu32 " ", link);
		char pos[64];
		snprintf(pos, sizeof(pos), "|%" PRId64 "-%" PRId64 " ", d->offset, d->offset + d->size);
		buf_addf(out, "%-26s ", pos);
		const char *dt = sif_datatype_name(d->datatype);
		int32_t a, b;
		uint8_t arch[SIF_ARCH_LEN];
		switch (d->datatype) {
		case SIF_DATA_PARTITION:
			sif_descr_partition(d, &a, &b, arch);
			buf_addf(out, "|%s (%s/%s/%s)\n", dt, sif_fstype_name(a), sif_parttype_name(b), sif_arch_name(arch));
			break;
		case SIF_DATA_SIGNATURE:
			sif_descr_signature(d, &a, NULL, NULL);
			/* siftool prints nothing (not even a newline) for an unknown hash */
			if (a >= SIF_HASH_SHA256 && a <= SIF_HASH_BLAKE2B)
				buf_addf(out, "|%s (%s)\n", dt, sif_hashtype_name(a));
			break;
		case SIF_DATA_CRYPTOMESSAGE:
			sif_descr_cryptmsg(d, &a, &b);
			buf_addf(out, "|%s (%s/%s)\n", dt, sif_formattype_name(a), sif_messagetype_name(b));
			break;
		case SIF_DATA_SBOM:
			sif_descr_sbom(d, &a);
			buf_addf(out, "|%s (%s)\n", dt, sif_sbomformat_name(a));
			break;
		default:
			buf_addf(out, "|%s\n", dt);
		}
	}
}

/* One descriptor as a JSON object (shared by list and info). */
static void descr_json(const struct sif_image *img, const struct sif_descr *d, struct buf *out)
{
	char name[SIF_NAME_LEN + 1];
	sif_descr_name(d, name);
	buf_addf(out, "{\"id\":%" PRIu32 ",\"type\":\"%s\",\"datatype\":%" PRId32, d->id, sif_datatype_name(d->datatype),
		 d->datatype);
	if (sif_descr_group(d))
		buf_addf(out, ",\"group\":%" PRIu32, sif_descr_group(d));
	else
		buf_addstr(out, ",\"group\":null");
	bool isg;
	uint32_t link = sif_descr_link(d, &isg);
	if (link)
		buf_addf(out, ",\"link\":{\"id\":%" PRIu32 ",\"group\":%s}", link, isg ? "true" : "false");
	else
		buf_addstr(out, ",\"link\":null");
	buf_addf(out, ",\"relative_id\":%" PRIu32 ",\"offset\":%" PRId64 ",\"size\":%" PRId64, sif_relative_id(img, d),
		 d->offset, d->size);
	buf_addf(out, ",\"created_at\":%" PRId64 ",\"modified_at\":%" PRId64 ",\"name\":", d->created_at, d->modified_at);
	json_quote(out, name, strlen(name), 0);
	int32_t a, b;
	uint8_t arch[SIF_ARCH_LEN], fp[SIF_FINGERPRINT_LEN];
	size_t fplen;
	char digest[SIF_EXTRA_LEN + 1];
	switch (d->datatype) {
	case SIF_DATA_PARTITION:
		sif_descr_partition(d, &a, &b, arch);
		buf_addf(out, ",\"fstype\":\"%s\",\"parttype\":\"%s\",\"arch\":\"%s\"", sif_fstype_name(a),
			 sif_parttype_name(b), sif_arch_name(arch));
		break;
	case SIF_DATA_SIGNATURE: {
		sif_descr_signature(d, &a, fp, &fplen);
		char hex[2 * SIF_FINGERPRINT_LEN + 1] = "";
		if (fplen)
			hex_encode(fp, fplen, hex);
		buf_addf(out, ",\"hash\":\"%s\",\"entity\":\"%s\"", sif_hashtype_name(a), hex);
		break;
	}
	case SIF_DATA_CRYPTOMESSAGE:
		sif_descr_cryptmsg(d, &a, &b);
		buf_addf(out, ",\"format\":\"%s\",\"message\":\"%s\"", sif_formattype_name(a), sif_messagetype_name(b));
		break;
	case SIF_DATA_SBOM:
		sif_descr_sbom(d, &a);
		buf_addf(out, ",\"sbom_format\":\"%s\"", sif_sbomformat_name(a));
		break;
	case SIF_DATA_OCI_BLOB:
	case SIF_DATA_OCI_ROOTINDEX:
		sif_descr_oci_digest(d, digest);
		buf_addstr(out, ",\"digest\":");
		json_quote(out, digest, strlen(digest), 0);
		break;
	default:
		break;
	}
	buf_addch(out, '}');
}

static int info_text(const struct sif_descr *d, struct buf *out)
{
	struct table t = { 0 };
	char s[64], name[SIF_NAME_LEN + 1];
	table_add(&t, "Data Type:", "%s", sif_datatype_name(d->datatype));
	table_add(&t, "ID:", "%" PRIu32, d->id);
	if (sif_descr_group(d) == 0)
		table_add(&t, "Group ID:", "NONE");
	else
		table_add(&t, "Group ID:", "%" PRIu32, sif_descr_group(d));
	bool isg;
	uint32_t link = sif_descr_link(d, &isg);
	if (link == 0)
		table_add(&t, "Linked ID:", "NONE");
	else
		table_add(&t, "Linked ID:", isg ? "%" PRIu32 " (G)" : "%" PRIu32, link);
	table_add(&t, "Offset:", "%" PRId64, d->offset);
	table_add(&t, "Size:", "%" PRId64, d->size);
	if (!sif_time_is_zero(d->created_at)) {
		fmt_time(d->created_at, s, sizeof(s));
		table_add(&t, "Created At:", "%s", s);
	}
	if (!sif_time_is_zero(d->modified_at)) {
		fmt_time(d->modified_at, s, sizeof(s));
		table_add(&t, "Modified At:", "%s", s);
	}
	sif_descr_name(d, name);
	if (name[0])
		table_add(&t, "Name:", "%s", name);
	int32_t a, b;
	uint8_t arch[SIF_ARCH_LEN], fp[SIF_FINGERPRINT_LEN];
	size_t fplen;
	char digest[SIF_EXTRA_LEN + 1];
	switch (d->datatype) {
	case SIF_DATA_PARTITION:
		sif_descr_partition(d, &a, &b, arch);
		table_add(&t, "Filesystem Type:", "%s", sif_fstype_name(a));
		table_add(&t, "Partition Type:", "%s", sif_parttype_name(b));
		table_add(&t, "Architecture:", "%s", sif_arch_name(arch));
		break;
	case SIF_DATA_SIGNATURE: {
		sif_descr_signature(d, &a, fp, &fplen);
		if (a < SIF_HASH_SHA256 || a > SIF_HASH_BLAKE2B) {
			cmd_error("hash algorithm unsupported");
			return -1;
		}
		char hex[2 * SIF_FINGERPRINT_LEN + 1] = "";
		if (fplen)
			hex_encode(fp, fplen, hex);
		for (char *c = hex; *c; c++)
			if (*c >= 'a' && *c <= 'f')
				*c = (char)(*c - 'a' + 'A');
		table_add(&t, "Hash Type:", "%s", sif_hashtype_name(a));
		table_add(&t, "Entity:", "%s", hex);
		break;
	}
	case SIF_DATA_CRYPTOMESSAGE:
		sif_descr_cryptmsg(d, &a, &b);
		table_add(&t, "Format Type:", "%s", sif_formattype_name(a));
		table_add(&t, "Message Type:", "%s", sif_messagetype_name(b));
		break;
	case SIF_DATA_SBOM:
		sif_descr_sbom(d, &a);
		table_add(&t, "Format:", "%s", sif_sbomformat_name(a));
		break;
	case SIF_DATA_OCI_BLOB:
	case SIF_DATA_OCI_ROOTINDEX:
		sif_descr_oci_digest(d, digest);
		table_add(&t, "Digest:", "%s", digest);
		break;
	default:
		break;
	}
	table_print(&t, out, "  ", 2);
	return 0;
}

static bool want_json(int *argc, char **argv)
{
	bool json = false;
	int o = 1;
	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			argv[o++] = argv[i];
	}
	*argc = o;
	return json;
}

static int usage_err(const char *usage)
{
	cmd_error("usage: arca sif %s", usage);
	return EXIT_USAGE;
}

static int do_header(int argc, char **argv)
{
	bool json = want_json(&argc, argv);
	if (argc != 2)
		return usage_err("header [--json] <sif_path>");
	_cleanup_sif_ struct sif_image *img = NULL;
	if (open_image(argv[1], &img) < 0)
		return 1;
	_cleanup_buf_ struct buf out = BUF_INIT;
	if (json)
		header_json(sif_get_header(img), &out);
	else
		header_text(sif_get_header(img), &out);
	return cmd_out(&out);
}

static int do_list(int argc, char **argv)
{
	bool json = want_json(&argc, argv);
	if (argc != 2)
		return usage_err("list [--json] <sif_path>");
	_cleanup_sif_ struct sif_image *img = NULL;
	if (open_image(argv[1], &img) < 0)
		return 1;
	_cleanup_buf_ struct buf out = BUF_INIT;
	if (json) {
		buf_addch(&out, '[');
		bool first = true;
		for (size_t i = 0; i < sif_descr_slots(img); i++) {
			const struct sif_descr *d = sif_descr_slot(img, i);
			if (!d->used)
				continue;
			if (!first)
				buf_addch(&out, ',');
			first = false;
			descr_json(img, d, &out);
		}
		buf_addstr(&out, "]\n");
	} else
		list_text(img, &out);
	return cmd_out(&out);
}

static int find_object(const struct sif_image *img, const char *idstr, const struct sif_descr **d)
{
	uint32_t id;
	if (parse_id(idstr, &id) < 0)
		return -1;
	if (sif_find_id(img, id, d) < 0) {
		cmd_error("object not found");
		return -1;
	}
	return 0;
}

static int do_info(int argc, char **argv)
{
	bool json = want_json(&argc, argv);
	if (argc != 3)
		return usage_err("info [--json] <id> <sif_path>");
	_cleanup_sif_ struct sif_image *img = NULL;
	const struct sif_descr *d;
	if (open_image(argv[2], &img) < 0 || find_object(img, argv[1], &d) < 0)
		return 1;
	_cleanup_buf_ struct buf out = BUF_INIT;
	if (json) {
		descr_json(img, d, &out);
		buf_addch(&out, '\n');
	} else if (info_text(d, &out) < 0)
		return 1;
	return cmd_out(&out);
}

static int do_dump(int argc, char **argv)
{
	if (argc != 3)
		return usage_err("dump <id> <sif_path>");
	_cleanup_sif_ struct sif_image *img = NULL;
	const struct sif_descr *d;
	if (open_image(argv[2], &img) < 0 || find_object(img, argv[1], &d) < 0)
		return 1;
	if (fd_write_full(STDOUT_FILENO, sif_object_data(img, d), (size_t)d->size) < 0) {
		cmd_error("writing output: %s", strerror(errno));
		return 1;
	}
	return 0;
}

static int do_new(int argc, char **argv)
{
	if (argc != 2)
		return usage_err("new <sif_path>");
	struct arca_err e = { 0 };
	_cleanup_sif_writer_ struct sif_writer *w = NULL;
	if (sif_create(argv[1], NULL, &w, &e) < 0 || sif_writer_commit(w, &e) < 0)
		return cmd_fail(&e, e.code, "new");
	return 0;
}

static int edit_commit(struct sif_writer *w, struct arca_err *e, const char *what)
{
	if (sif_writer_commit(w, e) < 0)
		return cmd_fail(e, e->code, what);
	return 0;
}

static int digest_file(int fd, char out[80])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t buf[1 << 16], md[32];
	unsigned mdlen = 0;
	int rc = -1;
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || lseek(fd, 0, SEEK_SET) < 0)
		goto out;
	memcpy(out, "sha256:", 7);
	hex_encode(md, 32, out + 7);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static const char add_help[] =
	"Add a data object to a SIF image.\n\n"
	"Usage:\n  arca sif add <sif_path> <object_path> [flags]\n\n"
	"Examples:\n"
	"arca sif add image.sif recipe.def --datatype 1\n"
	"arca sif add image.sif rootfs.squashfs --datatype 4 --parttype 1 --partfs 1 --partarch 2\n"
	"arca sif add image.sif signature.bin --datatype 5 --signentity 433FE984155206BD962725E20E8713472A879943 --signhash 1\n\n"
	"Flags:\n"
	"      --alignment int       set alignment [default: 4096 with --datatype 4-Partition, 0 otherwise]\n"
	"      --datatype int        the type of data to add\n"
	"                            [NEEDED, no default]:\n"
	"                              1-Deffile,        2-EnvVar,        3-Labels,\n"
	"                              4-Partition,      5-Signature,     6-GenericJSON,\n"
	"                              7-Generic,        8-CryptoMessage, 9-SBOM,\n"
	"                              10-OCI.RootIndex, 11-OCI.Blob\n"
	"      --filename string     set logical filename/handle [default: input filename]\n"
	"      --groupid uint32      set groupid [default: 0]\n"
	"  -h, --help                help for add\n"
	"      --link uint32         set link pointer [default: 0]\n"
	"      --partarch int32      the main architecture used (with --datatype 4-Partition)\n"
	"                            [NEEDED, no default]:\n"
	"                              1-386,       2-amd64,     3-arm,\n"
	"                              4-arm64,     5-ppc64,     6-ppc64le,\n"
	"                              7-mips,      8-mipsle,    9-mips64,\n"
	"                              10-mips64le, 11-s390x,    12-riscv64,\n"
	"                              13-loong64\n"
	"      --partfs int32        the filesystem used (with --datatype 4-Partition)\n"
	"                            [NEEDED, no default]:\n"
	"                              1-Squash,    2-Ext3,      3-ImmuObj,\n"
	"                              4-Raw\n"
	"      --parttype int32      the type of partition (with --datatype 4-Partition)\n"
	"                            [NEEDED, no default]:\n"
	"                              1-System,    2-PrimSys,   3-Data,\n"
	"                              4-Overlay\n"
	"      --sbomformat string   the SBOM format (with --datatype 9-sbom):\n"
	"                              cyclonedx-json, cyclonedx-xml,  github-json,\n"
	"                              spdx-json,      spdx-rdf,       spdx-tag-value,\n"
	"                              spdx-yaml,      syft-json\n"
	"      --signentity string   the entity that signs (with --datatype 5-Signature)\n"
	"                            [NEEDED, no default]:\n"
	"                              example: 433FE984155206BD962725E20E8713472A879943\n"
	"      --signhash int32      the signature hash used (with --datatype 5-Signature)\n"
	"                            [NEEDED, no default]:\n"
	"                              1-SHA256,      2-SHA384,      3-SHA512,\n"
	"                              4-BLAKE2s_256, 5-BLAKE2b_256\n";

static int parse_long(const char *flag, const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 0);
	if (errno || *end || !*s || v < min || v > max) {
		cmd_error("invalid argument \"%s\" for \"--%s\" flag", s, flag);
		return -1;
	}
	*out = v;
	return 0;
}

static int do_add(int argc, char **argv)
{
	enum { O_DATATYPE = 256, O_PARTTYPE, O_PARTFS, O_PARTARCH, O_SIGNHASH, O_SIGNENTITY, O_GROUPID, O_LINK,
	       O_ALIGN, O_FILENAME, O_SBOM };
	static const struct option opts[] = {
		{ "datatype", required_argument, NULL, O_DATATYPE }, { "parttype", required_argument, NULL, O_PARTTYPE },
		{ "partfs", required_argument, NULL, O_PARTFS },     { "partarch", required_argument, NULL, O_PARTARCH },
		{ "signhash", required_argument, NULL, O_SIGNHASH }, { "signentity", required_argument, NULL, O_SIGNENTITY },
		{ "groupid", required_argument, NULL, O_GROUPID },   { "link", required_argument, NULL, O_LINK },
		{ "alignment", required_argument, NULL, O_ALIGN },   { "filename", required_argument, NULL, O_FILENAME },
		{ "sbomformat", required_argument, NULL, O_SBOM },   { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	long datatype = 0, parttype = 0, partfs = 0, partarch = 0, signhash = 0, groupid = 0, link = 0, align = -1;
	bool have_link = false;
	const char *signentity = NULL, *filename = NULL, *sbom = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		long *target = NULL, min = 0, max = INT32_MAX;
		switch (c) {
		case 'h':
			fputs(add_help, stdout);
			return 0;
		case O_DATATYPE: target = &datatype; break;
		case O_PARTTYPE: target = &parttype; break;
		case O_PARTFS: target = &partfs; break;
		case O_PARTARCH: target = &partarch; break;
		case O_SIGNHASH: target = &signhash; break;
		case O_GROUPID: target = &groupid; max = (long)UINT32_MAX; break;
		case O_LINK: target = &link; max = (long)UINT32_MAX; have_link = true; break;
		case O_ALIGN: target = &align; max = (long)SIF_MAX_ALIGNMENT; break;
		case O_SIGNENTITY: signentity = optarg; break;
		case O_FILENAME: filename = optarg; break;
		case O_SBOM: sbom = optarg; break;
		default: return EXIT_USAGE;
		}
		if (target && parse_long(opts[c - O_DATATYPE].name, optarg, min, max, target) < 0)
			return EXIT_USAGE;
	}
	if (argc - optind != 2)
		return usage_err("add <sif_path> <object_path> [flags]");
	const char *image = argv[optind], *object = argv[optind + 1];
	if (datatype < 1 || datatype > 11) {
		cmd_error("--datatype flag is required with a valid range");
		return EXIT_USAGE;
	}
	struct sif_input in;
	sif_input_init(&in, (int32_t)(0x4000 + datatype));
	in.group_id = (uint32_t)groupid;
	if (have_link) {
		if (link == 0) {
			cmd_error("invalid object ID");
			return EXIT_USAGE;
		}
		in.linked_id = (uint32_t)link;
	}
	in.alignment = align;
	in.name = filename;
	if (in.datatype == SIF_DATA_PARTITION) {
		static const char *const archs[] = { "386",    "amd64",  "arm",	     "arm64", "ppc64",	 "ppc64le", "mips",
						     "mipsle", "mips64", "mips64le", "s390x", "riscv64", "loong64" };
		if (!parttype || !partfs || !partarch) {
			cmd_error("with partition datatype, --partfs, --parttype and --partarch must be passed");
			return EXIT_USAGE;
		}
		if (partarch < 1 || partarch > (long)ARRAY_SIZE(archs) ||
		    sif_input_partition(&in, (int32_t)partfs, (int32_t)parttype, archs[partarch - 1]) < 0) {
			cmd_error("unknown architecture: %ld", partarch);
			return EXIT_USAGE;
		}
	} else if (in.datatype == SIF_DATA_SIGNATURE) {
		uint8_t fp[SIF_FINGERPRINT_LEN];
		size_t n = 0;
		const char *hex = signentity ? signentity : "";
		if (hex_decode(hex, strlen(hex), fp, sizeof(fp), &n) < 0 || n != SIF_FINGERPRINT_LEN) {
			cmd_error("invalid signing entity fingerprint '%s' (want 40 hex digits)", hex);
			return EXIT_USAGE;
		}
		if (signhash < 1 || signhash > 5) {
			cmd_error("invalid hash type: %ld", signhash);
			return EXIT_USAGE;
		}
		sif_input_signature(&in, (int32_t)signhash, fp, n);
	} else if (in.datatype == SIF_DATA_SBOM) {
		int32_t f = 0;
		if (!sbom || sif_sbomformat_parse(sbom, &f) < 0) {
			cmd_error("invalid or missing --sbomformat '%s'", sbom ? sbom : "");
			return EXIT_USAGE;
		}
		sif_input_sbom(&in, f);
	}
	_cleanup_close_ int fd = open(object, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cmd_error("cannot open '%s': %s", object, strerror(errno));
		return 1;
	}
	if (in.datatype == SIF_DATA_OCI_BLOB || in.datatype == SIF_DATA_OCI_ROOTINDEX) {
		char digest[80];
		if (digest_file(fd, digest) < 0 || sif_input_oci_digest(&in, digest) < 0) {
			cmd_error("cannot digest '%s'", object);
			return 1;
		}
	}
	in.fd = fd;
	struct arca_err e = { 0 };
	_cleanup_sif_writer_ struct sif_writer *w = NULL;
	if (sif_edit(image, &w, &e) < 0 || sif_add(w, &in, NULL, NULL, &e) < 0)
		return cmd_fail(&e, e.code, "add");
	return edit_commit(w, &e, "add");
}

static int do_del(int argc, char **argv)
{
	unsigned flags = 0;
	int o = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--zero"))
			flags |= SIF_DEL_ZERO;
		else if (!strcmp(argv[i], "--compact"))
			flags |= SIF_DEL_COMPACT;
		else
			argv[o++] = argv[i];
	}
	argc = o;
	if (argc != 3)
		return usage_err("del [--zero] [--compact] <id> <sif_path>");
	uint32_t id;
	if (parse_id(argv[1], &id) < 0)
		return EXIT_USAGE;
	struct arca_err e = { 0 };
	_cleanup_sif_writer_ struct sif_writer *w = NULL;
	if (sif_edit(argv[2], &w, &e) < 0 || sif_delete(w, id, flags, NULL, &e) < 0)
		return cmd_fail(&e, e.code, "del");
	return edit_commit(w, &e, "del");
}

static int do_setprim(int argc, char **argv)
{
	if (argc != 3)
		return usage_err("setprim <id> <sif_path>");
	uint32_t id;
	if (parse_id(argv[1], &id) < 0)
		return EXIT_USAGE;
	struct arca_err e = { 0 };
	_cleanup_sif_writer_ struct sif_writer *w = NULL;
	if (sif_edit(argv[2], &w, &e) < 0 || sif_set_primary(w, id, NULL, &e) < 0)
		return cmd_fail(&e, e.code, "setprim");
	return edit_commit(w, &e, "setprim");
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
	const char *usage;
	const char *const flags[3]; /* accepted flags; add parses its own */
} sif_verbs[] = {
	{ "add", do_add, "Add data object", NULL, { NULL } },
	{ "del", do_del, "Delete data object", "del [--zero] [--compact] <id> <sif_path>", { "--zero", "--compact" } },
	{ "dump", do_dump, "Dump data object", "dump <id> <sif_path>", { NULL } },
	{ "header", do_header, "Display global header", "header [--json] <sif_path>", { "--json" } },
	{ "info", do_info, "Display data object info", "info [--json] <id> <sif_path>", { "--json" } },
	{ "list", do_list, "List data objects", "list [--json] <sif_path>", { "--json" } },
	{ "new", do_new, "Create SIF image", "new <sif_path>", { NULL } },
	{ "setprim", do_setprim, "Set primary system partition", "setprim <id> <sif_path>", { NULL } },
};

/*
 * Flags are checked before a verb runs: a mistyped flag or --help must never
 * be taken for a path (`arca sif new --help` would otherwise create a file
 * named "--help"). "--" ends flags so that such paths stay reachable.
 */
static int check_flags(size_t v, int *argc, char **argv)
{
	int o = 1;
	bool flags_done = false;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		if (!flags_done && !strcmp(a, "--")) {
			flags_done = true;
			continue;
		}
		if (flags_done || a[0] != '-' || a[1] == '\0') {
			argv[o++] = argv[i];
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("Usage:\n  arca sif %s\n", sif_verbs[v].usage);
			return 0;
		}
		bool known = false;
		for (size_t f = 0; f < ARRAY_SIZE(sif_verbs[v].flags) && sif_verbs[v].flags[f]; f++)
			known |= !strcmp(a, sif_verbs[v].flags[f]);
		if (!known) {
			cmd_error("unknown flag %s for 'sif %s'", a, sif_verbs[v].name);
			return usage_err(sif_verbs[v].usage);
		}
		argv[o++] = argv[i];
	}
	*argc = o;
	return -1;
}

static void sif_usage(FILE *f)
{
	fprintf(f, "Usage:\n  arca sif [command]\n\nAvailable Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(sif_verbs); i++)
		fprintf(f, "  %-11s %s\n", sif_verbs[i].name, sif_verbs[i].help);
	fprintf(f, "\nheader, list and info accept --json; del accepts --zero and --compact.\n");
}

int cmd_sif(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		sif_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sif_verbs); i++)
		if (!strcmp(argv[1], sif_verbs[i].name)) {
			optind = 1;
			int n = argc - 1;
			if (sif_verbs[i].usage) {
				int r = check_flags(i, &n, argv + 1);
				if (r >= 0)
					return r;
			}
			return sif_verbs[i].fn(n, argv + 1);
		}
	cmd_error("unknown sif command '%s'", argv[1]);
	sif_usage(stderr);
	return EXIT_USAGE;
}
