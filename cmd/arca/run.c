/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca run|exec|shell: a workload from a SIF image in a hardened container.
 *
 * Exit status: the workload's (128+N when it died of signal N; 126/127 when
 * the command could not be executed); 255 when arca refused or failed to
 * set the container up, 2 on a usage error.
 */
#include "cmd.h"
#include "runtime.h"

#include <getopt.h>

#define EXIT_LAUNCH 255

static const char run_help[] =
	"Usage:\n"
	"  arca run [options] <image.sif> [args...]\n"
	"  arca exec [options] <image.sif> <command> [args...]\n"
	"  arca shell [options] <image.sif> [args...]\n\n"
	"Runs the image's runscript, a command, or a shell in a container: read-only\n"
	"image root, new mount/pid/ipc/uts namespaces (and a user namespace when not\n"
	"root), no capabilities, no_new_privs, seccomp.\n\n"
	"Options:\n"
	"  -B, --bind src[:dst[:ro]]  bind a host path (comma-separated list; repeatable)\n"
	"      --writable-tmpfs       writable root through a tmpfs overlay (discarded at exit)\n"
	"  -c, --contain              no home/cwd binds (an empty home instead)\n"
	"  -C, --containall           --contain, and a clean environment\n"
	"      --no-home              no home directory in the container\n"
	"  -e, --cleanenv             pass only TERM and proxy variables from the host\n"
	"      --env K=V              set a variable in the container (repeatable)\n"
	"      --pwd DIR              working directory in the container\n"
	"      --net none|host        network namespace: 'none' has only loopback (default host)\n"
	"  -f, --fakeroot             be root inside a user namespace (keeps its capabilities there)\n"
	"  -u, --userns               use a user namespace and the FUSE root even as root\n"
	"      --hostname NAME        hostname in the container\n"
	"      --shell PATH           the shell for 'arca shell'\n"
	"      --seccomp FILE         an OCI seccomp profile instead of arca's default deny-list\n"
	"      --memory SIZE          memory limit (e.g. 512M, 2G)\n"
	"      --cpus N               CPU limit (e.g. 1.5)\n"
	"      --pids-limit N         maximum number of processes\n"
	"      --ecl FILE             (root only) an execution control list instead of\n"
	"                             /etc/arca/ecl.toml, for administrators to try one\n"
	"  -h, --help                 this help\n";

enum {
	OPT_WRITABLE_TMPFS = 256,
	OPT_ENV,
	OPT_PWD,
	OPT_NET,
	OPT_HOSTNAME,
	OPT_SHELL,
	OPT_SECCOMP,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_PIDS,
	OPT_NO_HOME,
	OPT_ECL,
};

static const struct option run_opts[] = {
	{ "bind", required_argument, NULL, 'B' },
	{ "writable-tmpfs", no_argument, NULL, OPT_WRITABLE_TMPFS },
	{ "contain", no_argument, NULL, 'c' },
	{ "containall", no_argument, NULL, 'C' },
	{ "no-home", no_argument, NULL, OPT_NO_HOME },
	{ "cleanenv", no_argument, NULL, 'e' },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "pwd", required_argument, NULL, OPT_PWD },
	{ "net", required_argument, NULL, OPT_NET },
	{ "fakeroot", no_argument, NULL, 'f' },
	{ "userns", no_argument, NULL, 'u' },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "shell", required_argument, NULL, OPT_SHELL },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "pids-limit", required_argument, NULL, OPT_PIDS },
	{ "ecl", required_argument, NULL, OPT_ECL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int usage_err(const char *verb, const char *msg)
{
	cmd_error("%s: %s", verb, msg);
	fprintf(stderr, "Run 'arca %s --help' for usage.\n", verb);
	return EXIT_USAGE;
}

static int run_verb(enum rt_action action, int argc, char **argv)
{
	const char *verb = argv[0];
	struct rt_opts o = { .action = action, .net = RT_NET_HOST };
	struct rt_bind *binds = NULL;
	size_t n_binds = 0;
	const char **env = NULL;
	size_t n_env = 0;
	int ret = EXIT_USAGE;
	struct arca_err e = { 0 };

	int c;
	/* '+': options end at the image, the rest belongs to the workload */
	while ((c = getopt_long(argc, argv, "+B:cCefuh", run_opts, NULL)) != -1) {
		switch (c) {
		case 'B':
			if (rt_bind_parse(optarg, &binds, &n_binds, &e) < 0) {
				ret = usage_err(verb, err_msg(&e));
				goto out;
			}
			break;
		case OPT_WRITABLE_TMPFS:
			o.writable_tmpfs = true;
			break;
		case 'c':
			o.contain = true;
			break;
		case 'C':
			o.containall = true;
			break;
		case OPT_NO_HOME:
			o.no_home = true;
			break;
		case 'e':
			o.cleanenv = true;
			break;
		case OPT_ENV: {
			if (n_env >= RT_MAX_ENV) {
				ret = usage_err(verb, "too many --env values");
				goto out;
			}
			const char **ne = realloc(env, (n_env + 1) * sizeof(*env));
			if (!ne) {
				cmd_error("out of memory");
				ret = EXIT_LAUNCH;
				goto out;
			}
			env = ne;
			env[n_env++] = optarg;
			break;
		}
		case OPT_PWD:
			o.pwd = optarg;
			break;
		case OPT_NET:
			if (!strcmp(optarg, "none"))
				o.net = RT_NET_NONE;
			else if (!strcmp(optarg, "host"))
				o.net = RT_NET_HOST;
			else {
				ret = usage_err(verb, "--net takes 'none' or 'host'");
				goto out;
			}
			break;
		case 'f':
			o.fakeroot = true;
			break;
		case 'u':
			o.userns = true;
			break;
		case OPT_HOSTNAME:
			o.hostname = optarg;
			break;
		case OPT_SHELL:
			o.shell = optarg;
			break;
		case OPT_SECCOMP:
			o.seccomp_profile = optarg;
			break;
		case OPT_MEMORY:
			if (rt_parse_size(optarg, &o.memory_bytes) < 0 || o.memory_bytes <= 0) {
				ret = usage_err(verb, "--memory takes a size such as 512M or 2G");
				goto out;
			}
			break;
		case OPT_CPUS: {
			char *end;
			errno = 0;
			o.cpus = strtod(optarg, &end);
			if (errno || *end || !(o.cpus > 0) || o.cpus > 65536) {
				ret = usage_err(verb, "--cpus takes a positive number");
				goto out;
			}
			break;
		}
		case OPT_PIDS: {
			char *end;
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			if (errno || *end || v <= 0) {
				ret = usage_err(verb, "--pids-limit takes a positive integer");
				goto out;
			}
			o.pids = v;
			break;
		}
		case OPT_ECL:
			/* the list is the administrators' gate: whoever could name
			 * another file could open it */
			if (geteuid() != 0) {
				ret = usage_err(verb, "--ecl is for administrators (root)");
				goto out;
			}
			o.ecl_config = optarg;
			break;
		case 'h':
			fputs(run_help, stdout);
			ret = 0;
			goto out;
		default:
			ret = usage_err(verb, "unknown option");
			goto out;
		}
	}
	if (optind >= argc) {
		ret = usage_err(verb, "missing image");
		goto out;
	}
	o.image = argv[optind++];
	if (action == RT_ACTION_EXEC && optind >= argc) {
		ret = usage_err(verb, "missing command");
		goto out;
	}
	o.argv = argv + optind;
	o.argc = (size_t)(argc - optind);
	o.binds = binds;
	o.n_binds = n_binds;
	o.env = env;
	o.n_env = n_env;

	/* the container writes to the same terminal: nothing of ours pending */
	fflush(stdout);
	fflush(stderr);
	struct rt_result res = { 0 };
	int rc = rt_launch(&o, &res, &e);
	if (rc < 0) {
		cmd_fail(&e, rc, verb);
		ret = EXIT_LAUNCH;
	} else {
		if (res.exec_failed)
			cmd_error("%s", err_msg(&e));
		ret = res.status;
	}
out:
	rt_binds_free(binds, n_binds);
	free(env);
	return ret;
}

int cmd_run(int argc, char **argv) { return run_verb(RT_ACTION_RUN, argc, argv); }
int cmd_exec(int argc, char **argv) { return run_verb(RT_ACTION_EXEC, argc, argv); }
int cmd_shell(int argc, char **argv) { return run_verb(RT_ACTION_SHELL, argc, argv); }
