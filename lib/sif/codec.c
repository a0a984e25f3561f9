/* SPDX-License-Identifier: Apache-2.0 */
/* SIF header/descriptor encoding, typed metadata and names. */
#include "sif.h"

#include <sys/random.h>
#include <sys/utsname.h>

static void put_i64(uint8_t *p, int64_t v) { put_u64le(p, (uint64_t)v); }

void sif_header_encode(const struct sif_header *h, uint8_t out[SIF_HEADER_SIZE])
{
	uint8_t *p = out;
	memcpy(p, h->launch, SIF_LAUNCH_LEN);
	p += SIF_LAUNCH_LEN;
	memcpy(p, h->magic, SIF_MAGIC_LEN);
	p += SIF_MAGIC_LEN;
	memcpy(p, h->version, SIF_VERSION_LEN);
	p += SIF_VERSION_LEN;
	memcpy(p, h->arch, SIF_ARCH_LEN);
	p += SIF_ARCH_LEN;
	memcpy(p, h->id, SIF_ID_LEN);
	p += SIF_ID_LEN;
	const int64_t f[] = { h->created_at,	    h->modified_at,	  h->descriptors_free, h->descriptors_total,
			      h->descriptors_offset, h->descriptors_size, h->data_offset,      h->data_size };
	for (size_t i = 0; i < ARRAY_SIZE(f); i++, p += 8)
		put_i64(p, f[i]);
	BUG_ON(p != out + SIF_HEADER_SIZE);
}

int sif_header_decode(const uint8_t *buf, size_t n, struct sif_header *h)
{
	struct rd r = rd_make(buf, n);
	int rc = 0;
	rc |= rd_copy(&r, h->launch, SIF_LAUNCH_LEN);
	rc |= rd_copy(&r, h->magic, SIF_MAGIC_LEN);
	rc |= rd_copy(&r, h->version, SIF_VERSION_LEN);
	rc |= rd_copy(&r, h->arch, SIF_ARCH_LEN);
	rc |= rd_copy(&r, h->id, SIF_ID_LEN);
	rc |= rd_i64le(&r, &h->created_at);
	rc |= rd_i64le(&r, &h->modified_at);
	rc |= rd_i64le(&r, &h->descriptors_free);
	rc |= rd_i64le(&r, &h->descriptors_total);
	rc |= rd_i64le(&r, &h->descriptors_offset);
	rc |= rd_i64le(&r, &h->descriptors_size);
	rc |= rd_i64le(&r, &h->data_offset);
	rc |= rd_i64le(&r, &h->data_size);
	return rc ? -EBADMSG : 0;
}

void sif_descr_encode(const struct sif_descr *d, uint8_t out[SIF_DESCR_SIZE])
{
	uint8_t *p = out;
	put_u32le(p, (uint32_t)d->datatype);
	p += 4;
	*p++ = d->used ? 1 : 0;
	put_u32le(p, d->id);
	p += 4;
	put_u32le(p, d->group_id);
	p += 4;
	put_u32le(p, d->linked_id);
	p += 4;
	const int64_t f[] = { d->offset, d->size, d->size_with_padding, d->created_at, d->modified_at, d->uid, d->gid };
	for (size_t i = 0; i < ARRAY_SIZE(f); i++, p += 8)
		put_i64(p, f[i]);
	memcpy(p, d->name, SIF_NAME_LEN);
	p += SIF_NAME_LEN;
	memcpy(p, d->extra, SIF_EXTRA_LEN);
	p += SIF_EXTRA_LEN;
	BUG_ON(p != out + SIF_DESCR_SIZE);
}

int sif_descr_decode(const uint8_t *buf, size_t n, struct sif_descr *d)
{
	struct rd r = rd_make(buf, n);
	uint32_t dt = 0;
	uint8_t used = 0;
	int rc = 0;
	rc |= rd_u32le(&r, &dt);
	rc |= rd_u8(&r, &used);
	rc |= rd_u32le(&r, &d->id);
	rc |= rd_u32le(&r, &d->group_id);
	rc |= rd_u32le(&r, &d->linked_id);
	rc |= rd_i64le(&r, &d->offset);
	rc |= rd_i64le(&r, &d->size);
	rc |= rd_i64le(&r, &d->size_with_padding);
	rc |= rd_i64le(&r, &d->created_at);
	rc |= rd_i64le(&r, &d->modified_at);
	rc |= rd_i64le(&r, &d->uid);
	rc |= rd_i64le(&r, &d->gid);
	rc |= rd_copy(&r, d->name, SIF_NAME_LEN);
	rc |= rd_copy(&r, d->extra, SIF_EXTRA_LEN);
	if (rc)
		return -EBADMSG;
	d->datatype = (int32_t)dt;
	/* Go's binary.Read decodes any non-zero byte as true. */
	d->used = used != 0;
	return 0;
}

void sif_descr_name(const struct sif_descr *d, char out[SIF_NAME_LEN + 1])
{
	size_t n = SIF_NAME_LEN;
	while (n > 0 && d->name[n - 1] == 0)
		n--;
	memcpy(out, d->name, n);
	out[n] = '\0';
}

static int32_t extra_i32(const struct sif_descr *d, size_t off)
{
	struct rd r = rd_make(d->extra + off, SIF_EXTRA_LEN - off);
	int32_t v = 0;
	if (rd_i32le(&r, &v) < 0)
		return 0;
	return v;
}

int sif_descr_partition(const struct sif_descr *d, int32_t *fstype, int32_t *parttype, uint8_t arch[SIF_ARCH_LEN])
{
	if (d->datatype != SIF_DATA_PARTITION)
		return -EINVAL;
	if (fstype)
		*fstype = extra_i32(d, 0);
	if (parttype)
		*parttype = extra_i32(d, 4);
	if (arch)
		memcpy(arch, d->extra + 8, SIF_ARCH_LEN);
	return 0;
}

int sif_descr_signature(const struct sif_descr *d, int32_t *hashtype, uint8_t fp[SIF_FINGERPRINT_LEN], size_t *fp_len)
{
	static const uint8_t zero[SIF_FINGERPRINT_LEN];
	if (d->datatype != SIF_DATA_SIGNATURE)
		return -EINVAL;
	if (hashtype)
		*hashtype = extra_i32(d, 0);
	bool present = memcmp(d->extra + 4, zero, SIF_FINGERPRINT_LEN) != 0;
	if (fp)
		memcpy(fp, d->extra + 4, SIF_FINGERPRINT_LEN);
	if (fp_len)
		*fp_len = present ? SIF_FINGERPRINT_LEN : 0;
	return 0;
}

int sif_descr_cryptmsg(const struct sif_descr *d, int32_t *format, int32_t *message)
{
	if (d->datatype != SIF_DATA_CRYPTOMESSAGE)
		return -EINVAL;
	if (format)
		*format = extra_i32(d, 0);
	if (message)
		*message = extra_i32(d, 4);
	return 0;
}

int sif_descr_sbom(const struct sif_descr *d, int32_t *format)
{
	if (d->datatype != SIF_DATA_SBOM)
		return -EINVAL;
	*format = extra_i32(d, 0);
	return 0;
}

int sif_descr_oci_digest(const struct sif_descr *d, char out[SIF_EXTRA_LEN + 1])
{
	if (d->datatype != SIF_DATA_OCI_BLOB && d->datatype != SIF_DATA_OCI_ROOTINDEX)
		return -EINVAL;
	size_t n = SIF_EXTRA_LEN;
	while (n > 0 && d->extra[n - 1] == 0)
		n--;
	memcpy(out, d->extra, n);
	out[n] = '\0';
	return 0;
}

const char *sif_datatype_name(int32_t t)
{
	static const char *const names[] = { "Def.FILE",	      "Env.Vars",  "JSON.Labels",  "FS",
					     "Signature",	      "JSON.Generic", "Generic/Raw", "Cryptographic Message",
					     "SBOM",		      "OCI.RootIndex", "OCI.Blob" };
	if (t >= SIF_DATA_DEFFILE && t <= SIF_DATA_OCI_BLOB)
		return names[t - SIF_DATA_DEFFILE];
	return "Unknown";
}

const char *sif_fstype_name(int32_t t)
{
	static const char *const names[] = { "Squashfs", "Ext3", "Archive", "Raw", "Encrypted squashfs" };
	if (t >= 1 && t <= 5)
		return names[t - 1];
	return "Unknown";
}

const char *sif_parttype_name(int32_t t)
{
	static const char *const names[] = { "System", "*System", "Data", "Overlay" };
	if (t >= 1 && t <= 4)
		return names[t - 1];
	return "Unknown";
}

/* As Go's crypto.Hash prints itself; unknown values print "unknown hash
 * value N" there, which callers format themselves. */
const char *sif_hashtype_name(int32_t t)
{
	static const char *const names[] = { "SHA-256", "SHA-384", "SHA-512", "BLAKE2s-256", "BLAKE2b-256" };
	if (t >= 1 && t <= 5)
		return names[t - 1];
	return "Unknown";
}

const char *sif_formattype_name(int32_t t)
{
	if (t == SIF_FORMAT_OPENPGP)
		return "OpenPGP";
	if (t == SIF_FORMAT_PEM)
		return "PEM";
	return "Unknown";
}

const char *sif_messagetype_name(int32_t t)
{
	if (t == SIF_MESSAGE_CLEAR_SIGNATURE)
		return "Clear Signature";
	if (t == SIF_MESSAGE_RSA_OAEP)
		return "RSA-OAEP";
	return "Unknown";
}

static const char *const sbom_names[] = { "cyclonedx-json", "cyclonedx-xml", "github-json", "spdx-json",
					  "spdx-rdf",	    "spdx-tag-value", "spdx-yaml",  "syft-json" };

const char *sif_sbomformat_name(int32_t t)
{
	if (t >= 1 && t <= (int32_t)ARRAY_SIZE(sbom_names))
		return sbom_names[t - 1];
	return "unknown";
}

int sif_sbomformat_parse(const char *name, int32_t *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(sbom_names); i++)
		if (!strcmp(name, sbom_names[i])) {
			*out = (int32_t)i + 1;
			return 0;
		}
	return -EINVAL;
}

static const char *const arch_names[] = { "386",    "amd64",  "arm",      "arm64", "ppc64",   "ppc64le", "mips",
					  "mipsle", "mips64", "mips64le", "s390x", "riscv64", "loong64" };

const char *sif_arch_name(const uint8_t code[SIF_ARCH_LEN])
{
	if (code[2] != 0 || code[0] < '0' || code[0] > '9' || code[1] < '0' || code[1] > '9')
		return "unknown";
	int n = (code[0] - '0') * 10 + (code[1] - '0');
	if (n >= 1 && n <= (int)ARRAY_SIZE(arch_names))
		return arch_names[n - 1];
	return "unknown";
}

int sif_arch_code(const char *goarch, uint8_t code[SIF_ARCH_LEN])
{
	for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++)
		if (!strcmp(goarch, arch_names[i])) {
			code[0] = (uint8_t)('0' + (i + 1) / 10);
			code[1] = (uint8_t)('0' + (i + 1) % 10);
			code[2] = 0;
			return 0;
		}
	return -EINVAL;
}

const char *sif_host_arch(void)
{
	static const struct {
		const char *uname, *go;
	} map[] = { { "x86_64", "amd64" },   { "i686", "386" },	    { "i386", "386" },	   { "aarch64", "arm64" },
		    { "armv7l", "arm" },     { "ppc64le", "ppc64le" }, { "ppc64", "ppc64" }, { "s390x", "s390x" },
		    { "riscv64", "riscv64" }, { "loongarch64", "loong64" }, { "mips64", "mips64" } };
	struct utsname u;
	if (uname(&u) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (!strcmp(u.machine, map[i].uname))
				return map[i].go;
	return "amd64";
}

void sif_id_string(const uint8_t id[SIF_ID_LEN], char out[37])
{
	static const char hexd[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < SIF_ID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hexd[id[i] >> 4];
		out[o++] = hexd[id[i] & 15];
	}
	out[o] = '\0';
}

int sif_id_parse(const char *s, uint8_t id[SIF_ID_LEN])
{
	char hex[33];
	size_t n = 0;
	if (strlen(s) != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		hex[n++] = s[i];
	}
	size_t got;
	if (hex_decode(hex, 32, id, SIF_ID_LEN, &got) < 0)
		return -EINVAL;
	return 0;
}

bool sif_time_is_zero(int64_t t) { return t == SIF_TIME_ZERO; }

void sif_input_init(struct sif_input *in, int32_t datatype)
{
	memset(in, 0, sizeof(*in));
	in->datatype = datatype;
	in->fd = -1;
	in->group_id = SIF_DEFAULT_GROUP;
	in->alignment = -1;
}

int sif_input_partition(struct sif_input *in, int32_t fstype, int32_t parttype, const char *goarch)
{
	uint8_t code[SIF_ARCH_LEN];
	if (in->datatype != SIF_DATA_PARTITION || sif_arch_code(goarch, code) < 0)
		return -EINVAL;
	memset(in->extra, 0, sizeof(in->extra));
	put_u32le(in->extra, (uint32_t)fstype);
	put_u32le(in->extra + 4, (uint32_t)parttype);
	memcpy(in->extra + 8, code, SIF_ARCH_LEN);
	return 0;
}

int sif_input_signature(struct sif_input *in, int32_t hashtype, const uint8_t *fp, size_t fp_len)
{
	if (in->datatype != SIF_DATA_SIGNATURE || fp_len > SIF_ENTITY_LEN)
		return -EINVAL;
	memset(in->extra, 0, sizeof(in->extra));
	put_u32le(in->extra, (uint32_t)hashtype);
	if (fp_len)
		memcpy(in->extra + 4, fp, fp_len);
	return 0;
}

int sif_input_cryptmsg(struct sif_input *in, int32_t format, int32_t message)
{
	if (in->datatype != SIF_DATA_CRYPTOMESSAGE)
		return -EINVAL;
	memset(in->extra, 0, sizeof(in->extra));
	put_u32le(in->extra, (uint32_t)format);
	put_u32le(in->extra + 4, (uint32_t)message);
	return 0;
}

int sif_input_sbom(struct sif_input *in, int32_t format)
{
	if (in->datatype != SIF_DATA_SBOM)
		return -EINVAL;
	memset(in->extra, 0, sizeof(in->extra));
	put_u32le(in->extra, (uint32_t)format);
	return 0;
}

int sif_input_oci_digest(struct sif_input *in, const char *digest)
{
	size_t n = strlen(digest);
	if ((in->datatype != SIF_DATA_OCI_BLOB && in->datatype != SIF_DATA_OCI_ROOTINDEX) || n > SIF_EXTRA_LEN)
		return -EINVAL;
	memset(in->extra, 0, sizeof(in->extra));
	memcpy(in->extra, digest, n);
	return 0;
}
