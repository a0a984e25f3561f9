/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes SIF image validation: whatever sif_open_mem() accepts must be safe
 * to walk with every accessor and to digest for integrity metadata, since
 * `arca verify` and the runtime do exactly that with untrusted images. */
#include "integrity.h"
#include "sif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct sif_image *img)
{
	const struct sif_header *h = sif_get_header(img);
	char id[37];
	sif_id_string(h->id, id);
	(void)sif_arch_name(h->arch);
	(void)sif_is_deterministic(img);

	uint32_t ids[64];
	size_t nids = 0;
	uint32_t group = 0, min_id = 0;
	for (size_t i = 0; i < sif_descr_slots(img); i++) {
		const struct sif_descr *d = sif_descr_slot(img, i);
		if (!d->used)
			continue;
		char name[SIF_NAME_LEN + 1];
		sif_descr_name(d, name);
		(void)sif_datatype_name(d->datatype);
		bool is_group;
		(void)sif_descr_link(d, &is_group);
		(void)sif_relative_id(img, d);
		const uint8_t *p = sif_object_data(img, d);
		volatile uint8_t sink = 0;
		if (p && d->size > 0)
			sink = (uint8_t)(p[0] ^ p[d->size - 1]);
		(void)sink;

		int32_t a, b;
		uint8_t arch[SIF_ARCH_LEN], fp[SIF_FINGERPRINT_LEN];
		char extra[SIF_EXTRA_LEN + 1];
		switch (d->datatype) {
		case SIF_DATA_PARTITION:
			if (sif_descr_partition(d, &a, &b, arch) == 0)
				(void)sif_arch_name(arch);
			break;
		case SIF_DATA_SIGNATURE:
			{
			size_t fplen;
			(void)sif_descr_signature(d, &a, fp, &fplen);
		}
			break;
		case SIF_DATA_CRYPTOMESSAGE:
			(void)sif_descr_cryptmsg(d, &a, &b);
			break;
		case SIF_DATA_SBOM:
			(void)sif_descr_sbom(d, &a);
			break;
		case SIF_DATA_OCI_ROOTINDEX:
		case SIF_DATA_OCI_BLOB:
			(void)sif_descr_oci_digest(d, extra);
			break;
		default:
			break;
		}
		/* Digest the first group's non-signature objects, as sign does. */
		uint32_t g = sif_descr_group(d);
		if (g == 0 || d->datatype == SIF_DATA_SIGNATURE || nids == ARRAY_SIZE(ids))
			continue;
		if (group == 0)
			group = g;
		if (g == group) {
			if (nids == 0 || d->id < min_id)
				min_id = d->id;
			ids[nids++] = d->id;
		}
	}
	const struct sif_descr *prim;
	(void)sif_primary_partition(img, &prim);

	/* A forged image's IDs need not follow slot order; the metadata
	 * routine refuses unsorted IDs, which is a path worth fuzzing too. */
	if (nids > 0) {
		struct integrity_metadata md;
		if (integrity_metadata_compute(img, min_id, ids, nids, INTEGRITY_SHA256, &md, NULL) == 0) {
			struct buf b = BUF_INIT;
			integrity_metadata_json(&md, &b);
			buf_release(&b);
			integrity_metadata_release(&md);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sif_image *img = NULL;
	if (sif_open_mem(data, size, &img, NULL) < 0)
		return 0;
	walk(img);
	sif_close(img);
	return 0;
}
