/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca serve: OPA-compatible Data API over local policies.
 *
 *   arca serve -d FILE|DIR [-d ...] [--data data.json] [--addr 127.0.0.1]
 *              [--port 8181] [--v0]
 *
 * Prints "listening on ADDR:PORT" and serves until SIGINT or SIGTERM.
 */
#include <getopt.h>
#include <signal.h>

#include "cmd.h"
#include "rego.h"
#include "server.h"

int cmd_policy_load(char *const *paths, size_t n, const char *data_path, unsigned flags, struct rego **out);

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'D' }, { "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' }, { "v0", no_argument, NULL, '0' },
		{ NULL, 0, NULL, 0 },
	};
	char *paths[64];
	size_t npaths = 0;
	const char *data = NULL, *addr = "127.0.0.1";
	long port = 8181;
	unsigned flags = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (npaths == ARRAY_SIZE(paths)) {
				cmd_error("too many -d paths");
				return EXIT_USAGE;
			}
			paths[npaths++] = optarg;
			break;
		case 'D': data = optarg; break;
		case 'a': addr = optarg; break;
		case 'p': port = strtol(optarg, NULL, 10); break;
		case '0': flags |= REGO_V0; break;
		default: goto usage;
		}
	}
	if (npaths == 0 || optind != argc || port < 0 || port > 65535)
		goto usage;

	struct rego *r = NULL;
	if (cmd_policy_load(paths, npaths, data, flags, &r) < 0)
		return 1;
	/* Block the signals so the server thread never takes them; wait here. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct server_opts so = { .addr = addr, .port = (uint16_t)port, .rego = r };
	struct server *s = NULL;
	struct arca_err e = { 0 };
	int rc = server_start(&so, &s, &e);
	if (rc < 0) {
		rego_free(r);
		return cmd_fail(&e, rc, "serve");
	}
	printf("listening on %s:%u\n", addr, server_port(s));
	fflush(stdout);
	int sig = 0;
	sigwait(&set, &sig);
	server_stop(s);
	rego_free(r);
	return 0;
usage:
	fprintf(stderr, "usage: arca serve -d FILE|DIR [-d ...] [--data data.json] [--addr 127.0.0.1] [--port 8181] [--v0]\n");
	return EXIT_USAGE;
}
