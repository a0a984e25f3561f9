/* SPDX-License-Identifier: Apache-2.0 */
/* arca sign: add DSSE or OpenPGP signatures to an image. */
#include "cmd.h"
#include "integrity.h"

#include <getopt.h>

/* Named limits of the command line. */
#define SIGN_MAX_IDS 256
#define SIGN_MAX_KEYS 16

static void usage(FILE *f)
{
	fprintf(f, "usage: arca sign [options] IMAGE\n\n"
		   "Signs each object group of IMAGE (DSSE with PEM keys, else OpenPGP from the keyring).\n\n"
		   "  --key PEM            sign with a PEM private key (DSSE); may be repeated\n"
		   "  -k, --keyidx N       OpenPGP secret key at index N of the keyring (default 0)\n"
		   "  --fingerprint FPR    OpenPGP secret key with this fingerprint\n"
		   "  -g, --group-id N     sign group N (may be repeated)\n"
		   "  -i, --sif-id N       sign object N (may be repeated)\n"
		   "      --hash ALG       sha256 (default), sha384 or sha512 (DSSE)\n"
		   "      --rsa-pss        sign with RSA-PSS instead of PKCS#1 v1.5\n"
		   "      --global         use the administrators' keyring (/etc/arca/keys)\n\n"
		   "The passphrase of an encrypted key comes from ARCA_SIGN_PASSPHRASE or a prompt.\n");
}

static char *ask_passphrase(void *ctx, const char *what)
{
	(void)ctx;
	char prompt[256];
	snprintf(prompt, sizeof(prompt), "Enter the passphrase of %s: ", what);
	return cmd_prompt_passphrase(prompt);
}

static void free_pass(char *p)
{
	if (p) {
		secure_wipe(p, strlen(p));
		free(p);
	}
}

int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'K' },      { "keyidx", required_argument, NULL, 'k' },
		{ "fingerprint", required_argument, NULL, 'F' }, { "group-id", required_argument, NULL, 'g' },
		{ "sif-id", required_argument, NULL, 'i' },   { "hash", required_argument, NULL, 'H' },
		{ "rsa-pss", no_argument, NULL, 'P' },        { "global", no_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
	};
	const char *keys[SIGN_MAX_KEYS];
	size_t nkeys = 0;
	uint32_t groups[SIGN_MAX_IDS], objects[SIGN_MAX_IDS];
	size_t ngroups = 0, nobjects = 0;
	uint32_t keyidx = 0;
	const char *fpr = NULL, *hash = NULL;
	bool pss = false, global = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hk:g:i:", opts, NULL)) != -1) {
		switch (c) {
		case 'K':
			if (nkeys >= SIGN_MAX_KEYS) {
				cmd_error("sign: at most %d keys", SIGN_MAX_KEYS);
				return EXIT_USAGE;
			}
			keys[nkeys++] = optarg;
			break;
		case 'k':
			if (cmd_parse_u32(optarg, &keyidx) < 0) {
				cmd_error("sign: bad key index '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'F': fpr = optarg; break;
		case 'g':
		case 'i':
			if (c == 'g' ? cmd_add_id("sign", optarg, groups, &ngroups, SIGN_MAX_IDS) < 0
				     : cmd_add_id("sign", optarg, objects, &nobjects, SIGN_MAX_IDS) < 0)
				return EXIT_USAGE;
			break;
		case 'H': hash = optarg; break;
		case 'P': pss = true; break;
		case 'G': global = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *image = argv[optind];
	struct arca_err e = { 0 };
	_cleanup_integrity_signer_ struct integrity_signer *s = NULL;
	if (integrity_signer_new(&s) < 0)
		return cmd_fail(NULL, -ENOMEM, "sign");
	if (hash) {
		enum integrity_hash h = integrity_hash_parse(hash);
		if (integrity_signer_set_hash(s, h, &e) < 0)
			return cmd_fail(&e, e.code, "sign");
	}
	integrity_signer_set_rsa_pss(s, pss);

	const char *env_pass = getenv("ARCA_SIGN_PASSPHRASE");
	if (nkeys) {
		if (fpr) {
			cmd_error("sign: --key and --fingerprint exclude each other");
			return EXIT_USAGE;
		}
		for (size_t i = 0; i < nkeys; i++) {
			if (integrity_signer_add_pem(s, keys[i], env_pass, &e) == 0)
				continue;
			/* Perhaps encrypted: ask once on the terminal. */
			char *p = env_pass ? NULL : cmd_prompt_passphrase("Enter the key's passphrase: ");
			int rc = p ? integrity_signer_add_pem(s, keys[i], p, &e) : -1;
			free_pass(p);
			if (rc < 0)
				return cmd_fail(&e, e.code, "sign");
		}
	} else {
		_cleanup_buf_ struct buf home = BUF_INIT;
		if (integrity_keydir_gnupg(global, false, &home, &e) < 0)
			return cmd_fail(&e, e.code, "sign");
		if (access(home.p, F_OK) < 0) {
			cmd_error("sign: no OpenPGP keyring at '%s' (use --key PEM, or 'arca key newpair')", home.p);
			return 1;
		}
		if (integrity_signer_set_pgp(s, home.p, fpr, keyidx, env_pass, &e) < 0)
			return cmd_fail(&e, e.code, "sign");
		integrity_signer_set_prompt(s, ask_passphrase, NULL);
	}
	struct integrity_sign_opts o = { .groups = groups, .ngroups = ngroups, .objects = objects, .nobjects = nobjects };
	if (integrity_sign(image, s, &o, &e) < 0)
		return cmd_fail(&e, e.code, "sign");
	if (!cmd_quiet)
		fprintf(stderr, "arca: signature created and applied to '%s'\n", image);
	return 0;
}
