/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca run|exec|shell: a workload from a SIF image in a hardened container.
 *
 * Exit status: the workload's (128+N when it died of signal N; 126/127 when
 * the command could not be executed); 255 when arca refused (signer gate,
 * launch policy) or failed to set the container up, 2 on a usage error.
 *
 * The launch policy (lib/policy, arca.toml) is the runtime's gate: it
 * decides on the image the runtime opened, after the signer gate and
 * before anything is mounted.
 */
#include "cmd.h"
#include "policy.h"
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
	"      --keep-mounted SECONDS (root only) leave the image's squashfs mounted under\n"
	"                             /run/arca/mounts for SECONDS after the last use, so\n"
	"                             that the next launch finds it warm; 0: unmount with\n"
	"                             the container (the default; [images] keep_mounted in\n"
	"                             arca.toml sets another). 'arca mounts' lists them.\n"
	"  -h, --help                 this help\n\n"
	"Launch policy: the policy of /etc/arca/arca.toml (or $ARCA_CONFIG) decides on\n"
	"the opened image after the execution control list and before anything is\n"
	"mounted; 'arca policy launch IMAGE' shows its decision. Without that file there\n"
	"is no launch policy; an empty one means enforcing mode and the embedded default\n"
	"policy. A refusal exits 255 and names the policy's reasons; its warnings, and\n"
	"in permissive mode what it would refuse, go to stderr. In attested mode the\n"
	"host is attested first (a TPM quote checked against [attest] refstate).\n"
	"Each decision is appended to the configured decision log. When that fails,\n"
	"root's launch is refused unless the mode is permissive; a user who may not\n"
	"write the log gets a warning and the launch goes on: an unprivileged launch is\n"
	"advisory, as the user could start the same image with any other tool.\n";

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
	OPT_KEEP_MOUNTED,
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
	{ "keep-mounted", required_argument, NULL, OPT_KEEP_MOUNTED },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int usage_err(const char *verb, const char *msg)
{
	cmd_error("%s: %s", verb, msg);
	fprintf(stderr, "Run 'arca %s --help' for usage.\n", verb);
	return EXIT_USAGE;
}

struct gate {
	const struct policy_config *cfg;
	const char *verb;
	char *const *args;
	struct val *options;
};

/* Builders that note an allocation failure and go on; put() consumes @v. */
static void put(struct val *o, const char *k, struct val *v, bool *oom)
{
	if (!o || !v || val_object_put_cstr(o, k, v) < 0) {
		if (!o)
			val_unref(v);
		*oom = true;
	}
}

/* input.request.options: what the user asked of the container, for
 * policies that restrict it (binds, fakeroot, network...). Only the names
 * of --env variables: their values may be secrets, and every input goes to
 * the decision log. */
static struct val *options_doc(const struct rt_opts *o)
{
	bool oom = false;
	struct val *d = val_object_new(20);
	put(d, "net", val_cstr(o->net == RT_NET_NONE ? "none" : "host"), &oom);
	put(d, "fakeroot", val_bool(o->fakeroot), &oom);
	put(d, "userns", val_bool(o->userns), &oom);
	put(d, "contain", val_bool(o->contain), &oom);
	put(d, "containall", val_bool(o->containall), &oom);
	put(d, "no_home", val_bool(o->no_home), &oom);
	put(d, "cleanenv", val_bool(o->cleanenv), &oom);
	put(d, "writable_tmpfs", val_bool(o->writable_tmpfs), &oom);
	if (o->pwd)
		put(d, "pwd", val_cstr(o->pwd), &oom);
	if (o->hostname)
		put(d, "hostname", val_cstr(o->hostname), &oom);
	if (o->shell)
		put(d, "shell", val_cstr(o->shell), &oom);
	if (o->seccomp_profile)
		put(d, "seccomp", val_cstr(o->seccomp_profile), &oom);
	struct val *binds = val_array_new(o->n_binds);
	for (size_t i = 0; binds && i < o->n_binds; i++) {
		struct val *b = val_object_new(3);
		put(b, "src", val_cstr(o->binds[i].src), &oom);
		put(b, "dst", val_cstr(o->binds[i].dst), &oom);
		put(b, "ro", val_bool(o->binds[i].ro), &oom);
		if (!b || val_array_push(binds, b) < 0)
			oom = true;
	}
	put(d, "binds", binds, &oom);
	struct val *env = val_array_new(o->n_env);
	for (size_t i = 0; env && i < o->n_env; i++) {
		const char *eq = strchr(o->env[i], '=');
		size_t n = eq ? (size_t)(eq - o->env[i]) : strlen(o->env[i]);
		struct val *k = val_string(o->env[i], n);
		if (!k || val_array_push(env, k) < 0)
			oom = true;
	}
	put(d, "env", env, &oom);
	put(d, "memory_bytes", val_int(o->memory_bytes), &oom);
	put(d, "cpus", val_double(o->cpus), &oom);
	put(d, "pids", val_int(o->pids), &oom);
	put(d, "keep_mounted", val_int(o->keep_mounted), &oom);
	if (oom) {
		val_unref(d);
		return NULL;
	}
	return d;
}

/* The policy's reasons for one line: its deny messages, else why it
 * refused (undefined answer, error, unlogged decision); and what the
 * host's attestation found when it did not pass, which the policy's own
 * message rarely says. */
static void reasons(const struct policy_decision *d, const struct val *host, struct buf *b)
{
	for (size_t i = 0; i < d->deny->arr.n; i++)
		buf_addf(b, "%s%s", i ? "; " : "", val_str(d->deny->arr.items[i]));
	if (!d->deny->arr.n)
		buf_addstr(b, d->reason);
	const struct val *at = host ? val_object_get_cstr(host, "attestation") : NULL;
	const char *st = at ? val_str(val_object_get_cstr(at, "status")) : NULL;
	const char *why = at ? val_str(val_object_get_cstr(at, "reason")) : NULL;
	if (st && strcmp(st, "passed") != 0)
		buf_addf(b, " (host attestation %s: %s)", st, why ? why : "no reason given");
}

/* rt_opts.gate: the launch policy on the image the runtime opened. */
static int policy_gate(void *ctx, const char *image, const struct sif_image *img, struct arca_err *e)
{
	const struct gate *g = ctx;
	_cleanup_val_ struct val *host = NULL;
	if (cmd_policy_host(g->cfg, &host) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	struct policy_request req = { .command = g->verb, .args = g->args, .options = g->options, .host = host };
	/* an unprivileged user's launch is advisory: the policy cannot stop
	 * them from starting the image with any other tool, so a decision log
	 * they may not write is no reason to refuse (see policy_launch) */
	bool advisory = geteuid() != 0;
	struct policy_launch l;
	int rc = policy_launch(g->cfg, image, img, &req, advisory, &l, e);
	if (rc < 0)
		return err_wrap(e, rc, "launch policy");
	for (size_t i = 0; i < l.d.warn->arr.n; i++)
		cmd_warn("launch policy: %s", val_str(l.d.warn->arr.items[i]));
	if (l.log_rc < 0 && !l.log_refused)
		cmd_warn("launch policy: the decision was not logged: %s", l.log_error);
	_cleanup_buf_ struct buf why = BUF_INIT;
	reasons(&l.d, host, &why);
	if (buf_error(&why) < 0)
		rc = err_set(e, -ENOMEM, "out of memory");
	else if (!l.d.allowed)
		rc = err_set(e, -EPERM, "refused by the launch policy (%s mode): %s", policy_mode_name(g->cfg->mode),
			     why.p);
	else if (!l.d.policy_allow)
		cmd_warn("launch policy (permissive mode) would refuse this launch: %s", why.p);
	policy_launch_release(&l);
	return rc;
}

_Static_assert(POLICY_MAX_KEEP_MOUNTED == RT_KEEP_MAX_SECONDS, "arca.toml's keep_mounted and the runtime agree");

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
	struct policy_config *cfg = NULL;
	bool keep_set = false;

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
		case OPT_KEEP_MOUNTED: {
			uint32_t v;
			/* the mount it keeps is the kernel's, in the host's namespace */
			if (geteuid() != 0) {
				ret = usage_err(verb, "--keep-mounted is for root");
				goto out;
			}
			if (cmd_parse_u32(optarg, &v) < 0 || v > RT_KEEP_MAX_SECONDS) {
				ret = usage_err(verb, "--keep-mounted takes seconds, at most a week");
				goto out;
			}
			o.keep_mounted = v;
			keep_set = true;
			break;
		}
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

	/* a configuration that cannot be read refuses the launch: it may be
	 * the one that would have refused it */
	int rc = policy_config_load(NULL, &cfg, &e);
	if (rc < 0) {
		cmd_fail(&e, rc, verb);
		ret = EXIT_LAUNCH;
		goto out;
	}
	/* [images] ecl names the signer gate's list unless root chose one
	 * with --ecl. A user who points $ARCA_CONFIG at a file of their own
	 * can name another list, as they can choose permissive mode: an
	 * unprivileged launch is advisory either way (secure_getenv keeps a
	 * privileged arca from taking the caller's file). */
	if (!o.ecl_config)
		o.ecl_config = cfg->ecl;
	if (!keep_set && geteuid() == 0)
		o.keep_mounted = cfg->keep_mounted;
	/* No arca.toml at all means no launch policy was set up: like a
	 * missing ecl.toml, no gate (and nothing logged). An empty file turns
	 * on enforcing mode with the embedded default policy. */
	struct gate g = { .cfg = cfg, .verb = verb, .args = o.argv };
	if (!cfg->unconfigured) {
		if (!(g.options = options_doc(&o))) {
			cmd_error("out of memory");
			ret = EXIT_LAUNCH;
			goto out;
		}
		o.gate = policy_gate;
		o.gate_ctx = &g;
	} else {
		log_debug("run: no %s and no $ARCA_CONFIG: no launch policy", POLICY_CONFIG_PATH);
	}

	/* the container writes to the same terminal: nothing of ours pending */
	fflush(stdout);
	fflush(stderr);
	struct rt_result res = { 0 };
	rc = rt_launch(&o, &res, &e);
	val_unref(g.options);
	if (rc < 0) {
		cmd_fail(&e, rc, verb);
		ret = EXIT_LAUNCH;
	} else {
		if (res.exec_failed)
			cmd_error("%s", err_msg(&e));
		ret = res.status;
	}
out:
	policy_config_free(cfg);
	rt_binds_free(binds, n_binds);
	free(env);
	return ret;
}

int cmd_run(int argc, char **argv) { return run_verb(RT_ACTION_RUN, argc, argv); }
int cmd_exec(int argc, char **argv) { return run_verb(RT_ACTION_EXEC, argc, argv); }
int cmd_shell(int argc, char **argv) { return run_verb(RT_ACTION_SHELL, argc, argv); }
