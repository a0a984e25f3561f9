/* SPDX-License-Identifier: Apache-2.0 */
/* arca verify: check an image's signatures. */
#include "cmd.h"
#include "integrity.h"

#include <getopt.h>
#include <inttypes.h>

#define VERIFY_MAX_IDS 256
#define VERIFY_MAX_KEYS 16

static void usage(FILE *f)
{
	fprintf(f, "usage: arca verify [options] IMAGE\n\n"
		   "Verifies the signatures of every object group of IMAGE.\n\n"
		   "  --key PEM                      trust this PEM public key (DSSE); may be repeated\n"
		   "  --certificate PEM              trust this X.509 certificate's key (code signing)\n"
		   "  --certificate-intermediates F  intermediate certificates (PEM bundle)\n"
		   "  --certificate-roots F          root certificates (PEM bundle; default: system)\n"
		   "  -g, --group-id N               verify group N (may be repeated)\n"
		   "  -i, --sif-id N                 verify object N (may be repeated)\n"
		   "  -a, --all                      with --legacy-insecure: every grouped object\n"
		   "      --legacy-insecure          check legacy SIFHASH signatures (no header and\n"
		   "                                 descriptor protection)\n"
		   "      --global                   use the administrators' OpenPGP keyring\n"
		   "      --json                     print the result as JSON\n"
		   "      --ecl FILE                 also apply the execution control list FILE\n"
		   "                                 (the reference's ecl.toml) as a launch would\n\n"
		   "OpenPGP signatures are checked against the keyring in $ARCA_KEYDIR/gnupg\n"
		   "(default ~/.config/arca/keys/gnupg).\n");
}

static void json_ids(struct buf *b, const uint32_t *ids, size_t n)
{
	buf_addch(b, '[');
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%" PRIu32, i ? "," : "", ids[i]);
	buf_addch(b, ']');
}

static void json_str(struct buf *b, const char *s) { json_quote(b, s, strlen(s), 0); }

static void print_json(const char *image, const struct sif_image *img, const struct integrity_report *r, int rc,
		       const struct arca_err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	buf_addstr(&b, "{\"image\":");
	json_str(&b, image);
	buf_addf(&b, ",\"verified\":%s,\"error\":", rc == 0 ? "true" : "false");
	if (rc == 0)
		buf_addstr(&b, "null");
	else
		json_str(&b, err_msg(e));
	/* Signers of passing signatures: OpenPGP fingerprints, DSSE key IDs. */
	buf_addstr(&b, ",\"signers\":[");
	size_t ns = 0;
	for (size_t i = 0; r && i < r->n; i++) {
		const struct integrity_sig_result *s = &r->sigs[i];
		const char *ids[5];
		size_t nid = 0;
		if (!s->ok)
			continue;
		if (s->fingerprint[0])
			ids[nid++] = s->fingerprint;
		for (size_t k = 0; k < s->nkeyids && nid < ARRAY_SIZE(ids); k++)
			ids[nid++] = s->keyids[k];
		for (size_t k = 0; k < nid; k++) {
			bool dup = false;
			for (size_t j = 0; j < i && !dup; j++) {
				const struct integrity_sig_result *p = &r->sigs[j];
				dup = p->ok && !strcmp(p->fingerprint, ids[k]);
				for (size_t m = 0; m < p->nkeyids && !dup; m++)
					dup = p->ok && !strcmp(p->keyids[m], ids[k]);
			}
			if (dup)
				continue;
			if (ns++)
				buf_addch(&b, ',');
			json_str(&b, ids[k]);
		}
	}
	buf_addstr(&b, "],\"signatures\":[");
	for (size_t i = 0; r && i < r->n; i++) {
		const struct integrity_sig_result *s = &r->sigs[i];
		buf_addf(&b, "%s{\"id\":%" PRIu32 ",\"type\":", i ? "," : "", s->sig_id);
		json_str(&b, integrity_sig_kind_name(s->kind));
		buf_addstr(&b, ",\"hash\":");
		json_str(&b, sif_hashtype_name(s->hashtype));
		buf_addf(&b, ",\"ok\":%s,\"reason\":", s->ok ? "true" : "false");
		if (s->ok)
			buf_addstr(&b, "null");
		else
			json_str(&b, s->reason);
		buf_addstr(&b, ",\"fingerprint\":");
		if (s->fingerprint[0])
			json_str(&b, s->fingerprint);
		else
			buf_addstr(&b, "null");
		buf_addstr(&b, ",\"keyids\":[");
		for (size_t k = 0; k < s->nkeyids; k++) {
			if (k)
				buf_addch(&b, ',');
			json_str(&b, s->keyids[k]);
		}
		buf_addstr(&b, "],\"signed\":");
		json_ids(&b, s->signed_ids, s->nsigned);
		buf_addstr(&b, ",\"verified\":");
		json_ids(&b, s->verified_ids, s->nverified);
		buf_addch(&b, '}');
	}
	buf_addstr(&b, "],\"objects\":[");
	bool first = true;
	for (size_t i = 0; img && i < sif_descr_slots(img); i++) {
		const struct sif_descr *d = sif_descr_slot(img, i);
		if (!d->used || d->datatype == SIF_DATA_SIGNATURE)
			continue;
		buf_addf(&b, "%s{\"id\":%" PRIu32 ",\"group\":%" PRIu32 ",\"type\":", first ? "" : ",", d->id,
			 sif_descr_group(d));
		json_str(&b, sif_datatype_name(d->datatype));
		buf_addf(&b, ",\"verified\":%s}", r && rc == 0 && integrity_report_object_ok(r, d->id) ? "true" : "false");
		first = false;
	}
	buf_addstr(&b, "]}\n");
	cmd_out(&b);
}

static void print_text(const struct sif_image *img, const struct integrity_report *r)
{
	for (size_t i = 0; r && i < r->n; i++) {
		const struct integrity_sig_result *s = &r->sigs[i];
		fprintf(stderr, "signature %" PRIu32 " (%s, %s): %s", s->sig_id, integrity_sig_kind_name(s->kind),
			sif_hashtype_name(s->hashtype), s->ok ? "ok" : "FAILED");
		if (s->fingerprint[0])
			fprintf(stderr, ", signer %s", s->fingerprint);
		for (size_t k = 0; k < s->nkeyids; k++)
			fprintf(stderr, ", key %s", s->keyids[k]);
		if (!s->ok)
			fprintf(stderr, ": %s", s->reason);
		fputc('\n', stderr);
	}
	if (!r || r->code != 0)
		return;
	printf("Objects verified:\n%-4s|%-8s|%-8s|%s\n", "ID", "GROUP", "LINK", "TYPE");
	printf("------------------------------------------------\n");
	for (size_t i = 0; i < sif_descr_slots(img); i++) {
		const struct sif_descr *d = sif_descr_slot(img, i);
		if (!d->used || !integrity_report_object_ok(r, d->id))
			continue;
		char group[16] = "NONE", link[16] = "NONE";
		bool lg;
		uint32_t l = sif_descr_link(d, &lg);
		if (sif_descr_group(d))
			snprintf(group, sizeof(group), "%" PRIu32, sif_descr_group(d));
		if (l)
			snprintf(link, sizeof(link), "%" PRIu32 "%s", l, lg ? " (G)" : "");
		printf("%-4" PRIu32 "|%-8s|%-8s|%s\n", d->id, group, link, sif_datatype_name(d->datatype));
	}
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'K' },
		{ "certificate", required_argument, NULL, 'C' },
		{ "certificate-intermediates", required_argument, NULL, 'I' },
		{ "certificate-roots", required_argument, NULL, 'R' },
		{ "group-id", required_argument, NULL, 'g' },
		{ "sif-id", required_argument, NULL, 'i' },
		{ "all", no_argument, NULL, 'a' },
		{ "legacy-insecure", no_argument, NULL, 'L' },
		{ "global", no_argument, NULL, 'G' },
		{ "json", no_argument, NULL, 'j' },
		{ "ecl", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keys[VERIFY_MAX_KEYS];
	size_t nkeys = 0;
	const char *cert = NULL, *inter = NULL, *roots = NULL, *ecl_path = NULL;
	uint32_t groups[VERIFY_MAX_IDS], objects[VERIFY_MAX_IDS];
	size_t ngroups = 0, nobjects = 0;
	bool all = false, legacy = false, global = false, json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hg:i:a", opts, NULL)) != -1) {
		switch (c) {
		case 'K':
			if (nkeys >= VERIFY_MAX_KEYS) {
				cmd_error("verify: at most %d keys", VERIFY_MAX_KEYS);
				return EXIT_USAGE;
			}
			keys[nkeys++] = optarg;
			break;
		case 'C': cert = optarg; break;
		case 'I': inter = optarg; break;
		case 'R': roots = optarg; break;
		case 'g':
		case 'i':
			if (c == 'g' ? cmd_add_id("verify", optarg, groups, &ngroups, VERIFY_MAX_IDS) < 0
				     : cmd_add_id("verify", optarg, objects, &nobjects, VERIFY_MAX_IDS) < 0)
				return EXIT_USAGE;
			break;
		case 'a': all = true; break;
		case 'L': legacy = true; break;
		case 'G': global = true; break;
		case 'j': json = true; break;
		case 'E': ecl_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((inter || roots) && !cert) {
		cmd_error("verify: --certificate-intermediates/--certificate-roots need --certificate");
		return EXIT_USAGE;
	}
	const char *image = argv[optind];
	struct arca_err e = { 0 };
	_cleanup_integrity_verifier_ struct integrity_verifier *v = NULL;
	_cleanup_sif_ struct sif_image *img = NULL;
	_cleanup_integrity_report_ struct integrity_report *r = NULL;
	_cleanup_buf_ struct buf home = BUF_INIT;

	if (integrity_verifier_new(&v) < 0)
		return cmd_fail(NULL, -ENOMEM, "verify");
	for (size_t i = 0; i < nkeys; i++)
		if (integrity_verifier_add_pem(v, keys[i], &e) < 0)
			return cmd_fail(&e, e.code, "verify");
	if (cert && integrity_verifier_add_certificate(v, cert, inter, roots, &e) < 0)
		return cmd_fail(&e, e.code, "verify");
	if (integrity_keydir_gnupg(global, false, &home, &e) == 0 && access(home.p, F_OK) == 0 &&
	    integrity_verifier_set_gnupghome(v, home.p, &e) < 0)
		return cmd_fail(&e, e.code, "verify");
	if (sif_open(image, &img, &e) < 0)
		return cmd_fail(&e, e.code, "verify");

	struct integrity_verify_opts o = {
		.groups = groups, .ngroups = ngroups, .objects = objects, .nobjects = nobjects,
		.legacy = legacy, .legacy_all = legacy && all,
	};
	/* Legacy signatures were made over the primary partition by default. */
	if (legacy && !all && ngroups == 0 && nobjects == 0) {
		const struct sif_descr *prim;
		if (sif_primary_partition(img, &prim) < 0) {
			cmd_error("verify: the image has no primary partition; select objects with -g or -i");
			return 1;
		}
		objects[nobjects++] = prim->id;
		o.nobjects = nobjects;
	}
	if (!json && !cmd_quiet)
		fprintf(stderr, "arca: verifying image '%s'\n", image);
	int rc = integrity_verify(img, v, &o, &r, &e);
	if (json)
		print_json(image, img, r, rc, &e);
	else if (!cmd_quiet)
		print_text(img, r);
	if (rc < 0)
		return cmd_fail(&e, rc, "verify");
	if (ecl_path) {
		struct integrity_ecl *ecl = NULL;
		if (integrity_ecl_load(ecl_path, &ecl, &e) < 0)
			return cmd_fail(&e, e.code, "verify");
		rc = integrity_ecl_check(ecl, image, img, v, &e);
		integrity_ecl_free(ecl);
		if (rc < 0)
			return cmd_fail(&e, rc, "verify");
		if (!json && !cmd_quiet)
			fprintf(stderr, "arca: execution control list '%s' allows '%s'\n", ecl_path, image);
	}
	if (!json && !cmd_quiet)
		fprintf(stderr, "arca: verified signature(s) from image '%s'\n", image);
	return 0;
}
