/* SPDX-License-Identifier: Apache-2.0 */
/* arca key: manage signing keys (OpenPGP keyring and PEM key pairs). */
#include "cmd.h"
#include "integrity.h"

#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>


static void usage(FILE *f)
{
	fprintf(f, "usage: arca key [--global] <command> [options]\n\n"
		   "  newpair [--name N --email E] [--algo ed25519|rsa4096]   new OpenPGP signing key\n"
		   "  newpair --pem PREFIX [--type ed25519|ecdsa|rsa]         new PEM pair PREFIX.key/.pub\n"
		   "  list [--secret]                                         keys in the keyring and PEM keys\n"
		   "  import FILE                                             OpenPGP keys, or a PEM key\n"
		   "  export [--secret] FINGERPRINT                           armoured key to stdout\n"
		   "  remove FINGERPRINT                                      delete from the keyring\n\n"
		   "Keys live in $ARCA_KEYDIR (default ~/.config/arca/keys; --global: /etc/arca/keys):\n"
		   "the OpenPGP keyring in gnupg/, PEM keys in pem/. Passphrases come from\n"
		   "ARCA_SIGN_PASSPHRASE or a prompt.\n");
}

/* The passphrase for a new or exported key: environment, else a prompt
 * when there is a terminal, else none. */
static char *get_pass(bool confirm)
{
	const char *env = getenv("ARCA_SIGN_PASSPHRASE");
	if (env)
		return strdup(env);
	char *a = cmd_prompt_passphrase("Enter a passphrase (empty for none): ");
	if (!a || !confirm || !*a)
		return a;
	char *b = cmd_prompt_passphrase("Repeat the passphrase: ");
	bool same = b && !strcmp(a, b);
	if (b) {
		secure_wipe(b, strlen(b));
		free(b);
	}
	if (!same) {
		secure_wipe(a, strlen(a));
		free(a);
		cmd_error("key: passphrases differ");
		return NULL;
	}
	return a;
}

static void free_pass(char *p)
{
	if (p) {
		secure_wipe(p, strlen(p));
		free(p);
	}
}

static int gnupg_home(bool global, bool create, struct buf *home)
{
	struct arca_err e = { 0 };
	if (integrity_keydir_gnupg(global, create, home, &e) < 0)
		return cmd_fail(&e, e.code, "key");
	return 0;
}

static int key_newpair(bool global, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' }, { "email", required_argument, NULL, 'm' },
		{ "algo", required_argument, NULL, 'a' }, { "pem", required_argument, NULL, 'p' },
		{ "type", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *email = NULL, *algo = NULL, *pem = NULL, *type = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'm': email = optarg; break;
		case 'a': algo = optarg; break;
		case 'p': pem = optarg; break;
		case 't': type = optarg; break;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct arca_err e = { 0 };
	char *pass = get_pass(true);
	int rc;
	if (pem) {
		_cleanup_buf_ struct buf priv = BUF_INIT, pub = BUF_INIT;
		buf_addf(&priv, "%s.key", pem);
		buf_addf(&pub, "%s.pub", pem);
		rc = integrity_pem_generate(type, priv.p, pub.p, pass, &e);
		free_pass(pass);
		if (rc < 0)
			return cmd_fail(&e, rc, "key newpair");
		printf("private key: %s\npublic key:  %s\n", priv.p, pub.p);
		return 0;
	}
	if (!name) {
		cmd_error("key newpair: --name is required for an OpenPGP key (or use --pem)");
		free_pass(pass);
		return EXIT_USAGE;
	}
	_cleanup_buf_ struct buf home = BUF_INIT, uid = BUF_INIT;
	if (gnupg_home(global, true, &home)) {
		free_pass(pass);
		return 1;
	}
	buf_addstr(&uid, name);
	if (email)
		buf_addf(&uid, " <%s>", email);
	char fpr[INTEGRITY_FPR_HEX];
	rc = integrity_pgp_generate(home.p, uid.p, algo, pass, fpr, &e);
	free_pass(pass);
	if (rc < 0)
		return cmd_fail(&e, rc, "key newpair");
	printf("%s\n", fpr);
	return 0;
}

static void print_time(int64_t t)
{
	char s[32] = "never";
	if (t > 0) {
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		strftime(s, sizeof(s), "%Y-%m-%d", &tm);
	}
	printf("%s", s);
}

static int key_list(bool global, int argc, char **argv)
{
	bool secret = argc > 1 && !strcmp(argv[1], "--secret");
	if (argc > (secret ? 2 : 1)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	_cleanup_buf_ struct buf home = BUF_INIT;
	if (gnupg_home(global, false, &home))
		return 1;
	struct integrity_pgp_key *keys = NULL;
	size_t n = 0;
	struct arca_err e = { 0 };
	if (access(home.p, F_OK) == 0 && integrity_pgp_list(home.p, secret, &keys, &n, &e) < 0)
		return cmd_fail(&e, e.code, "key list");
	printf("%zu OpenPGP %s key(s) in %s\n", n, secret ? "secret" : "public", home.p);
	for (size_t i = 0; i < n; i++) {
		printf("%zu) %s\n   U: %s\n   A: %s%s%s\n   C: ", i, keys[i].fpr, keys[i].uid, keys[i].algo,
		       keys[i].revoked ? " [revoked]" : "", keys[i].expired ? " [expired]" : "");
		print_time(keys[i].created);
		printf("\n   E: ");
		print_time(keys[i].expires);
		printf("\n");
	}
	free(keys);
	/* PEM keys stored with `arca key import`. */
	_cleanup_buf_ struct buf dir = BUF_INIT;
	if (integrity_keydir(global, &dir, &e) == 0) {
		buf_addstr(&dir, "/pem");
		DIR *d = opendir(dir.p);
		if (d) {
			printf("PEM keys in %s:\n", dir.p);
			struct dirent *de;
			while ((de = readdir(d)) != NULL)
				if (de->d_name[0] != '.')
					printf("   %s\n", de->d_name);
			closedir(d);
		}
	}
	return 0;
}

static int key_import(bool global, int argc, char **argv)
{
	if (argc != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct arca_err e = { 0 };
	_cleanup_buf_ struct buf data = BUF_INIT;
	if (file_read_all(argv[1], 16u << 20, &data, &e) < 0)
		return cmd_fail(&e, e.code, "key import");
	if (strstr(data.p, "-----BEGIN PUBLIC KEY-----") || strstr(data.p, "-----BEGIN RSA PUBLIC KEY-----") ||
	    strstr(data.p, "PRIVATE KEY-----")) {
		/* A PEM key: kept under pem/ with its file name. */
		_cleanup_buf_ struct buf dir = BUF_INIT;
		if (integrity_keydir(global, &dir, &e) < 0)
			return cmd_fail(&e, e.code, "key import");
		buf_addstr(&dir, "/pem");
		_cleanup_buf_ struct buf tmp = BUF_INIT;
		buf_addstr(&tmp, dir.p);
		for (char *p = tmp.p + 1; *p; p++)
			if (*p == '/') {
				*p = '\0';
				mkdir(tmp.p, 0755);
				*p = '/';
			}
		mkdir(tmp.p, 0700);
		const char *base = strrchr(argv[1], '/');
		base = base ? base + 1 : argv[1];
		buf_addf(&dir, "/%s", base);
		bool priv = strstr(data.p, "PRIVATE KEY-----") != NULL;
		int rc = file_write_atomic(dir.p, data.p, data.len, priv ? 0600 : 0644, &e);
		secure_wipe(data.p, data.len);
		if (rc < 0)
			return cmd_fail(&e, rc, "key import");
		printf("imported PEM key as %s\n", dir.p);
		return 0;
	}
	_cleanup_buf_ struct buf home = BUF_INIT;
	if (gnupg_home(global, true, &home))
		return 1;
	size_t n = 0;
	int rc = integrity_pgp_import(home.p, data.p, data.len, &n, &e);
	secure_wipe(data.p, data.len);
	if (rc < 0)
		return cmd_fail(&e, rc, "key import");
	printf("imported %zu OpenPGP key(s) into %s\n", n, home.p);
	return 0;
}

static int key_export(bool global, int argc, char **argv)
{
	bool secret = false;
	int i = 1;
	if (i < argc && !strcmp(argv[i], "--secret")) {
		secret = true;
		i++;
	}
	if (i + 1 != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	_cleanup_buf_ struct buf home = BUF_INIT, out = BUF_INIT;
	if (gnupg_home(global, false, &home))
		return 1;
	struct arca_err e = { 0 };
	char *pass = secret ? get_pass(false) : NULL;
	int rc = integrity_pgp_export(home.p, argv[i], secret, pass, &out, &e);
	free_pass(pass);
	if (rc < 0)
		return cmd_fail(&e, rc, "key export");
	rc = cmd_out(&out);
	secure_wipe(out.p, out.len);
	return rc;
}

static int key_remove(bool global, int argc, char **argv)
{
	if (argc != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	_cleanup_buf_ struct buf home = BUF_INIT;
	if (gnupg_home(global, false, &home))
		return 1;
	struct arca_err e = { 0 };
	if (integrity_pgp_remove(home.p, argv[1], &e) < 0)
		return cmd_fail(&e, e.code, "key remove");
	printf("removed %s\n", argv[1]);
	return 0;
}

int cmd_key(int argc, char **argv)
{
	int i = 1;
	bool global = false;
	if (i < argc && !strcmp(argv[i], "--global")) {
		global = true;
		i++;
	}
	if (i >= argc || !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? EXIT_USAGE : 0;
	}
	const char *verb = argv[i];
	argc -= i;
	argv += i;
	if (!strcmp(verb, "newpair"))
		return key_newpair(global, argc, argv);
	if (!strcmp(verb, "list"))
		return key_list(global, argc, argv);
	if (!strcmp(verb, "import"))
		return key_import(global, argc, argv);
	if (!strcmp(verb, "export"))
		return key_export(global, argc, argv);
	if (!strcmp(verb, "remove"))
		return key_remove(global, argc, argv);
	cmd_error("key: unknown command '%s'", verb);
	usage(stderr);
	return EXIT_USAGE;
}
