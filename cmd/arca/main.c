/* SPDX-License-Identifier: Apache-2.0 */
#include "cmd.h"

#include <getopt.h>

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct verb verbs[] = {
#ifdef ARCA_HAVE_CMD_BUILD
	{ "build", cmd_build, "build a SIF image from a directory or tar archive" },
#endif
#ifdef ARCA_HAVE_CMD_RUN
	{ "run", cmd_run, "run an image's runscript in a hardened container" },
	{ "exec", cmd_exec, "run a command in a hardened container" },
	{ "shell", cmd_shell, "start a shell in a hardened container" },
#endif
#ifdef ARCA_HAVE_CMD_MOUNTS
	{ "mounts", cmd_mounts, "list and drop the image mounts kept by --keep-mounted" },
#endif
#ifdef ARCA_HAVE_CMD_INSPECT
	{ "inspect", cmd_inspect, "show an image's labels, environment and scripts" },
#endif
#ifdef ARCA_HAVE_CMD_SIGN
	{ "sign", cmd_sign, "sign an image (DSSE or OpenPGP)" },
#endif
#ifdef ARCA_HAVE_CMD_VERIFY
	{ "verify", cmd_verify, "verify an image's signatures" },
#endif
#ifdef ARCA_HAVE_CMD_KEY
	{ "key", cmd_key, "manage signing keys" },
#endif
#ifdef ARCA_HAVE_CMD_POLICY
	{ "policy", cmd_policy, "evaluate, test and check Rego policies" },
#endif
#ifdef ARCA_HAVE_CMD_ATTEST
	{ "attest", cmd_attest, "host integrity: TPM quotes, boot and IMA logs" },
#endif
#ifdef ARCA_HAVE_CMD_SERVE
	{ "serve", cmd_serve, "serve the verifier and OPA-compatible Data API" },
#endif
#ifdef ARCA_HAVE_CMD_SIF
	{ "sif", cmd_sif, "inspect and edit SIF images (siftool-compatible)" },
#endif
};

static void usage(FILE *f)
{
	fprintf(f, "usage: arca [-q|-v] <command> [args]\n\ncommands:\n");
	for (size_t i = 0; i != ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "  %-10s %s\n", "version", "print the version");
	fprintf(f, "\nRun 'arca <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			cmd_quiet = true;
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			cmd_verbose = true;
			log_set_level(LOG_DEBUG);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("arca %s\n", ARCA_VERSION_STRING);
			return 0;
		} else {
			cmd_error("unknown option '%s'", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[i];
	if (!strcmp(name, "version")) {
		printf("arca %s\n", ARCA_VERSION_STRING);
		return 0;
	}
	if (!strcmp(name, "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t v = 0; v != ARRAY_SIZE(verbs); v++) {
		if (!strcmp(verbs[v].name, name)) {
			optind = 0; /* each verb runs its own getopt from a fresh state */
			return verbs[v].fn(argc - i, argv + i);
		}
	}
	cmd_error("unknown command '%s'", name);
	usage(stderr);
	return EXIT_USAGE;
}
