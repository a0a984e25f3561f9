/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seccomp for the container: arca's default deny-list, and OCI runtime-spec
 * `linux.seccomp` profiles (`--seccomp FILE`), both compiled by arca.
 *
 * The default is a deny-list (everything else allowed) rather than Docker's
 * allow-list: arca runs HPC and desktop workloads whose syscall needs are not
 * known in advance, and everything on the list below is either privileged
 * already (so denying it only removes kernel attack surface reachable
 * through a user namespace or a capability mistake) or a known escape or
 * information channel. Denied calls fail with EPERM rather than killing the
 * process, so programs that probe for a feature degrade instead of dying.
 * The choice of calls follows the reasoning published with Docker's default
 * profile (moby/profiles) and bubblewrap; each entry says why.
 *
 * Architecture: the filter holds the native architecture only. A syscall
 * made through another ABI (i386 `int 0x80` on x86_64, or the x32 ABI,
 * which shares x86_64's audit arch) kills the process: those entry points
 * would otherwise bypass every rule, which match native numbers only. An
 * OCI profile may list other ABIs; their calls are then filtered by its
 * rules as libseccomp compiles them for that ABI (below).
 *
 * Compiling: every profile, arca's own (the default deny-list, the helpers'
 * allow-lists) and OCI ones, is compiled to BPF by arca (seccomp_bpf.c, which
 * says why and what a profile means) once, when the profile is made, and
 * installing is then one seccomp(2) call; libseccomp took ~0.7 ms per
 * launch to build the same filter in the workload (and again in the FUSE
 * server), and it mis-merges some OCI rule sets. libseccomp is left two
 * jobs: the syscall name tables, and the rules for architectures other
 * than the native one that an OCI profile lists (i386 on x86_64 rewrites
 * socketcall and ipc, which arca does not reimplement), as a second filter
 * stacked on arca's. Where arca cannot compile a profile at all (a host
 * architecture other than x86_64 and aarch64, a program past the kernel's
 * size), libseccomp compiles all of it and a debug log says so.
 */
#include <linux/filter.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "harden.h"
#include "internal.h"
#include "seccomp_int.h"

/* Named limits for OCI profiles (untrusted input). */
#define SC_MAX_FILE (1u << 20)
#define SC_MAX_DEPTH 16
#define SC_MAX_RULES 8192    /* (syscall name, action, args) after expanding names */
#define SC_MAX_GROUPS 4096   /* entries of "syscalls" */
#define SC_MAX_ERRNO 4095

void rt_seccomp_free(struct rt_seccomp *p)
{
	if (!p)
		return;
	free(p->rules);
	free(p->bpf);
	free(p);
}

static int sc_compile(struct rt_seccomp *p);
static bool sc_has_foreign(const struct rt_seccomp *p);

static void sc_freep(struct rt_seccomp **p) { rt_seccomp_free(*p); }

static int sc_add(struct rt_seccomp *p, const char *name, uint32_t action, unsigned nargs,
		  const struct scmp_arg_cmp *args)
{
	if (p->nrules >= SC_MAX_RULES)
		return -E2BIG;
	if (strlen(name) > SC_MAX_NAME || nargs > SC_MAX_ARGS)
		return -EBADMSG;
	if (p->nrules == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct sc_rule *r = reallocarray(p->rules, cap, sizeof(*r));
		if (!r)
			return -ENOMEM;
		p->rules = r;
		p->cap = cap;
	}
	struct sc_rule *r = &p->rules[p->nrules++];
	memset(r, 0, sizeof(*r));
	strcpy(r->name, name);
	r->action = action;
	r->nargs = nargs;
	if (nargs)
		memcpy(r->args, args, nargs * sizeof(*args));
	return 0;
}

/* ------------------------------------------------------- default profile */

/*
 * Denied outright, with EPERM. Grouped by reason; calls unknown to this
 * architecture (or to libseccomp) are skipped when the filter is built.
 */
static const char *const deny_list[] = {
	/* Kernel keyring: not namespaced; keys of other containers and of
	 * the host user would be reachable. */
	"add_key", "request_key", "keyctl",
	/* Kernel modules and kexec: replace the kernel itself. */
	"init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms",
	"kexec_load", "kexec_file_load",
	/* eBPF, perf and userfaultfd: large kernel attack surface, a steady
	 * source of privilege-escalation bugs, and side channels (perf);
	 * userfaultfd is the classic tool to widen kernel race windows. */
	"bpf", "perf_event_open", "userfaultfd",
	/* io_uring: a second syscall interface that seccomp cannot see into
	 * and the source of many recent kernel CVEs; programs fall back to
	 * plain syscalls when setup fails. */
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	/* Mounts inside the container: the image root is read-only and the
	 * mount tree is arca's; with --fakeroot the user namespace would
	 * otherwise allow remounting or covering it. */
	"mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
	"fspick", "mount_setattr",
	/* (chroot stays: it needs CAP_SYS_CHROOT, which only --fakeroot
	 * keeps, and there it confines within the container's own mount
	 * namespace; build tools such as debootstrap rely on it.) */
	/* Joining namespaces: setns into another container or the host's
	 * namespaces (through an inherited fd or /proc) is an escape. */
	"setns",
	/* Host-wide state: swap, reboot, accounting, quotas, the clock and
	 * the kernel log are not namespaced. */
	"swapon", "swapoff", "reboot", "acct", "quotactl", "quotactl_fd", "settimeofday", "stime",
	"clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex", "syslog",
	/* Obsolete interfaces nobody needs and few test: */
	"lookup_dcookie", "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl", "vhangup", "vm86", "vm86old",
	/* File handles bypass path-based confinement: open_by_handle_at
	 * opened host files from containers ("shocker"). */
	"open_by_handle_at", "name_to_handle_at",
	/* Raw port I/O. */
	"iopl", "ioperm",
	/* Other processes' memory and descriptors. Seccomp cannot tell "my
	 * child" from "another process of my user" (the FUSE server of this
	 * container runs as the same user), so ptrace is denied entirely:
	 * debuggers and strace do not work inside the container. */
	"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
};

/* Namespace flags: the container is already namespaced; new namespaces
 * inside it (a nested user namespace above all) only add attack surface. */
static const uint64_t ns_flags[] = {
	CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP,
#ifdef CLONE_NEWTIME
	CLONE_NEWTIME,
#endif
};

/* The allowed personas, as Docker's profile allows: Linux, 32-bit Linux,
 * the 2.6 uname emulation, their combination, and the 0xffffffff query.
 * Anything else (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, MMAP_PAGE_ZERO,
 * foreign execution domains) weakens the process's own defences or reaches
 * little-tested code. */
#define PERSONA_OK_BITS ((uint64_t)PER_LINUX32 | UNAME26)

static int add_default(struct rt_seccomp *p)
{
	const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
	int rc;
	for (size_t i = 0; i < ARRAY_SIZE(deny_list); i++)
		if ((rc = sc_add(p, deny_list[i], deny, 0, NULL)) < 0)
			return rc;

	/* clone: the flags are in a register, so namespace flags can be
	 * filtered (argument 1 on s390, where the first two are swapped). */
#if defined(__s390__) || defined(__s390x__)
	const unsigned clone_flags_arg = 1;
#else
	const unsigned clone_flags_arg = 0;
#endif
	for (size_t i = 0; i < ARRAY_SIZE(ns_flags); i++) {
		struct scmp_arg_cmp c = SCMP_CMP(clone_flags_arg, SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
		struct scmp_arg_cmp u = SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
		if ((rc = sc_add(p, "clone", deny, 1, &c)) < 0 || (rc = sc_add(p, "unshare", deny, 1, &u)) < 0)
			return rc;
	}
	/* clone3 passes its flags in memory, which seccomp cannot read.
	 * ENOSYS (not EPERM) makes libc fall back to clone, filtered above. */
	if ((rc = sc_add(p, "clone3", SCMP_ACT_ERRNO(ENOSYS), 0, NULL)) < 0)
		return rc;

	/* personality: the kernel reads a 32-bit value. Denied when any
	 * register bit above 31 is set, when a bit outside the allowed
	 * personas is set, or when bit 31 is set without being the query
	 * 0xffffffff — one masked comparison per rule, as libseccomp allows
	 * a single comparison per argument. */
	struct scmp_arg_cmp hi = SCMP_A0(SCMP_CMP_GT, 0xFFFFFFFFu, 0);
	if ((rc = sc_add(p, "personality", deny, 1, &hi)) < 0)
		return rc;
	for (unsigned b = 0; b < 31; b++) {
		uint64_t bit = 1ull << b;
		struct scmp_arg_cmp top = SCMP_A0(SCMP_CMP_MASKED_EQ, bit | 0x80000000u, 0x80000000u);
		if ((rc = sc_add(p, "personality", deny, 1, &top)) < 0)
			return rc;
		if (bit & PERSONA_OK_BITS)
			continue;
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, bit | 0x80000000u, bit);
		if ((rc = sc_add(p, "personality", deny, 1, &c)) < 0)
			return rc;
	}

	/* Terminal injection: TIOCSTI pushes input into the terminal the
	 * container shares with the user's shell, which then runs it outside
	 * the container (bubblewrap's CVE-2017-5226). TIOCLINUX can do the
	 * same on a virtual console. The request is a 32-bit int. */
	const uint64_t bad_ioctls[] = { TIOCSTI, TIOCLINUX };
	for (size_t i = 0; i < ARRAY_SIZE(bad_ioctls); i++) {
		struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, bad_ioctls[i]);
		if ((rc = sc_add(p, "ioctl", deny, 1, &c)) < 0)
			return rc;
	}
	return 0;
}

int rt_seccomp_default(struct rt_seccomp **out, struct arca_err *e)
{
	_cleanup_(sc_freep) struct rt_seccomp *p = calloc(1, sizeof(*p));
	if (!p)
		return err_set(e, -ENOMEM, "out of memory");
	p->def_action = SCMP_ACT_ALLOW;
	int rc = add_default(p);
	if (rc < 0)
		return err_set(e, rc, "building the default seccomp profile");
	if (sc_compile(p) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	*out = TAKE_PTR(p);
	return 0;
}

int rt_seccomp_allowlist(const char *const *names, size_t n, int deny_errno, struct rt_seccomp **out,
			 struct arca_err *e)
{
	_cleanup_(sc_freep) struct rt_seccomp *p = calloc(1, sizeof(*p));
	if (!p)
		return err_set(e, -ENOMEM, "out of memory");
	if (deny_errno <= 0 || deny_errno > SC_MAX_ERRNO)
		return err_set(e, -EINVAL, "seccomp: errno %d out of range", deny_errno);
	p->def_action = SCMP_ACT_ERRNO((uint32_t)deny_errno);
	for (size_t i = 0; i < n; i++) {
		int rc = sc_add(p, names[i], SCMP_ACT_ALLOW, 0, NULL);
		if (rc < 0)
			return err_set(e, rc, "seccomp: allow-list entry '%s'", names[i]);
	}
	if (sc_compile(p) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	*out = TAKE_PTR(p);
	return 0;
}

/* ----------------------------------------------------------- OCI profiles */

struct name_val {
	const char *name;
	uint32_t val;
};

static const struct name_val actions[] = {
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL },
	{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS },
	{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP },
	{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0) },
	{ "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0) },
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW },
	{ "SCMP_ACT_LOG", SCMP_ACT_LOG },
};

static const struct name_val ops[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static bool lookup(const struct name_val *t, size_t n, const char *name, uint32_t *out)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0) {
			*out = t[i].val;
			return true;
		}
	return false;
}

/* Only the fields named here are accepted: a field arca does not know
 * (Docker's "includes"/"excludes" conditions, say) would otherwise be
 * silently dropped and change what the profile means. */
static int check_keys(const struct val *o, const char *const *allowed, const char *where, struct arca_err *e)
{
	for (size_t i = 0; i < o->obj.n; i++) {
		const char *k = val_str(o->obj.keys[i]);
		bool ok = false;
		for (size_t j = 0; k && allowed[j]; j++)
			ok |= strcmp(k, allowed[j]) == 0;
		if (!ok)
			return err_set(e, -EBADMSG, "seccomp profile: unknown field '%s' in %s", k ? k : "?", where);
	}
	return 0;
}

static int get_u64(const struct val *v, uint64_t *out)
{
	if (!v || v->kind != VAL_NUMBER)
		return -EBADMSG;
	int64_t i;
	if (val_get_int(v, &i)) {
		if (i < 0)
			return -EBADMSG;
		*out = (uint64_t)i;
		return 0;
	}
	/* Above INT64_MAX (masks such as 0xffffffffffffffff): only the
	 * canonical integer text is accepted, never a fraction or exponent. */
	const char *t = v->num.text;
	if (!t || !*t || strspn(t, "0123456789") != strlen(t) || strlen(t) > 20)
		return -EBADMSG;
	errno = 0;
	unsigned long long u = strtoull(t, NULL, 10);
	if (errno)
		return -EBADMSG;
	*out = u;
	return 0;
}

/* errnoRet: absent means EPERM, as runc does. */
static int get_errno(const struct val *o, const char *key, uint32_t *out, bool *given, struct arca_err *e)
{
	const struct val *v = val_object_get_cstr(o, key);
	uint64_t x = EPERM;
	*given = v != NULL;
	if (v && (get_u64(v, &x) < 0 || x > SC_MAX_ERRNO))
		return err_set(e, -EBADMSG, "seccomp profile: '%s' must be an errno number up to %d", key, SC_MAX_ERRNO);
	*out = (uint32_t)x;
	return 0;
}

static int parse_action(const struct val *v, uint32_t ret, bool ret_given, const char *where, uint32_t *out,
			struct arca_err *e)
{
	const char *s = val_str(v);
	if (!s)
		return err_set(e, -EBADMSG, "seccomp profile: %s must be a string", where);
	if (strcmp(s, "SCMP_ACT_NOTIFY") == 0)
		return err_set(e, -ENOTSUP, "seccomp profile: SCMP_ACT_NOTIFY needs a seccomp agent, which arca does not run");
	uint32_t a;
	if (!lookup(actions, ARRAY_SIZE(actions), s, &a))
		return err_set(e, -EBADMSG, "seccomp profile: unknown action '%s' in %s", s, where);
	if (a == SCMP_ACT_ERRNO(0))
		a = SCMP_ACT_ERRNO(ret);
	else if (a == SCMP_ACT_TRACE(0))
		a = SCMP_ACT_TRACE(ret);
	else if (ret_given)
		/* the runtime spec: an errno for an action that returns none is an
		 * error, not something to ignore */
		return err_set(e, -EBADMSG, "seccomp profile: %s is %s, which takes no errno", where, s);
	*out = a;
	return 0;
}

static int parse_arches(struct rt_seccomp *p, const struct val *v, struct arca_err *e)
{
	if (v->kind != VAL_ARRAY)
		return err_set(e, -EBADMSG, "seccomp profile: 'architectures' must be an array");
	if (v->arr.n > SC_MAX_ARCHES)
		return err_set(e, -E2BIG, "seccomp profile: more than %d architectures", SC_MAX_ARCHES);
	for (size_t i = 0; i < v->arr.n; i++) {
		const char *s = val_str(v->arr.items[i]);
		if (!s || strncmp(s, "SCMP_ARCH_", 10) != 0 || strlen(s) > 32)
			return err_set(e, -EBADMSG, "seccomp profile: architecture %zu is not an SCMP_ARCH_ name", i);
		char low[33];
		size_t k = 0;
		for (const char *c = s + 10; *c; c++)
			low[k++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		low[k] = '\0';
		uint32_t arch = seccomp_arch_resolve_name(low);
		if (arch == 0)
			return err_set(e, -EBADMSG, "seccomp profile: unknown architecture '%s'", s);
		p->arches[p->narches++] = arch;
	}
	return 0;
}

static int parse_flags(struct rt_seccomp *p, const struct val *v, struct arca_err *e)
{
	if (v->kind != VAL_ARRAY)
		return err_set(e, -EBADMSG, "seccomp profile: 'flags' must be an array");
	for (size_t i = 0; i < v->arr.n; i++) {
		const char *s = val_str(v->arr.items[i]);
		if (!s)
			return err_set(e, -EBADMSG, "seccomp profile: flag %zu is not a string", i);
		if (strcmp(s, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			p->tsync = true;
		else if (strcmp(s, "SECCOMP_FILTER_FLAG_LOG") == 0)
			p->log = true;
		else if (strcmp(s, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			p->spec_allow = true;
		else if (strcmp(s, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
			; /* only affects SCMP_ACT_NOTIFY, which is refused */
		else
			return err_set(e, -EBADMSG, "seccomp profile: unknown flag '%s'", s);
	}
	return 0;
}

static int parse_args(const struct val *v, size_t g, struct scmp_arg_cmp *args, unsigned *nargs, struct arca_err *e)
{
	static const char *const arg_keys[] = { "index", "value", "valueTwo", "op", NULL };
	if (v->kind != VAL_ARRAY)
		return err_set(e, -EBADMSG, "seccomp profile: syscalls[%zu].args must be an array", g);
	if (v->arr.n > SC_MAX_ARGS)
		return err_set(e, -E2BIG, "seccomp profile: syscalls[%zu] has more than %d args", g, SC_MAX_ARGS);
	bool seen[SC_MAX_ARGS] = { false };
	for (size_t i = 0; i < v->arr.n; i++) {
		const struct val *a = v->arr.items[i];
		if (a->kind != VAL_OBJECT)
			return err_set(e, -EBADMSG, "seccomp profile: syscalls[%zu].args[%zu] must be an object", g, i);
		int rc = check_keys(a, arg_keys, "args", e);
		if (rc < 0)
			return rc;
		uint64_t index, value = 0, two = 0;
		uint32_t op;
		const struct val *vv = val_object_get_cstr(a, "value"), *v2 = val_object_get_cstr(a, "valueTwo");
		if (get_u64(val_object_get_cstr(a, "index"), &index) < 0 || index >= SC_MAX_ARGS)
			return err_set(e, -EBADMSG, "seccomp profile: syscalls[%zu].args[%zu].index must be 0..5", g, i);
		if ((vv && get_u64(vv, &value) < 0) || (v2 && get_u64(v2, &two) < 0))
			return err_set(e, -EBADMSG,
				       "seccomp profile: syscalls[%zu].args[%zu] values must be unsigned 64-bit integers", g, i);
		const char *ops_name = val_str(val_object_get_cstr(a, "op"));
		if (!ops_name || !lookup(ops, ARRAY_SIZE(ops), ops_name, &op))
			return err_set(e, -EBADMSG, "seccomp profile: syscalls[%zu].args[%zu]: unknown op '%s'", g, i,
				       ops_name ? ops_name : "(missing)");
		/* Runtimes disagree on what this means: runc splits such a
		 * rule into one rule per comparison (OR), the literal reading
		 * is AND, and libseccomp refuses it. Refused, not guessed. */
		if (seen[index])
			return err_set(e, -ENOTSUP, "seccomp profile: syscalls[%zu] compares argument %u twice", g,
				       (unsigned)index);
		seen[index] = true;
		/* For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the
		 * expected result, as in libseccomp's SCMP_CMP(). */
		args[i] = (struct scmp_arg_cmp){ .arg = (unsigned)index, .op = (enum scmp_compare)op,
						 .datum_a = value, .datum_b = two };
	}
	*nargs = (unsigned)v->arr.n;
	return 0;
}

static int parse_group(struct rt_seccomp *p, const struct val *g, size_t gi, struct arca_err *e)
{
	static const char *const keys[] = { "names", "action", "errnoRet", "args", "comment", NULL };
	if (g->kind != VAL_OBJECT)
		return err_set(e, -EBADMSG, "seccomp profile: syscalls[%zu] must be an object", gi);
	int rc = check_keys(g, keys, "syscalls[]", e);
	if (rc < 0)
		return rc;
	uint32_t ret, action;
	bool ret_given;
	if ((rc = get_errno(g, "errnoRet", &ret, &ret_given, e)) < 0)
		return rc;
	const struct val *av = val_object_get_cstr(g, "action");
	if (!av)
		return err_set(e, -EBADMSG, "seccomp profile: syscalls[%zu] has no action", gi);
	char where[48];
	snprintf(where, sizeof(where), "syscalls[%zu].action", gi);
	if ((rc = parse_action(av, ret, ret_given, where, &action, e)) < 0)
		return rc;
	struct scmp_arg_cmp args[SC_MAX_ARGS];
	unsigned nargs = 0;
	const struct val *argv = val_object_get_cstr(g, "args");
	if (argv && argv->kind != VAL_NULL && (rc = parse_args(argv, gi, args, &nargs, e)) < 0)
		return rc;
	const struct val *names = val_object_get_cstr(g, "names");
	if (!names || names->kind != VAL_ARRAY || names->arr.n == 0)
		return err_set(e, -EBADMSG, "seccomp profile: syscalls[%zu].names must be a non-empty array", gi);
	for (size_t i = 0; i < names->arr.n; i++) {
		const struct val *nv = names->arr.items[i];
		const char *n = val_str(nv);
		if (!n || nv->str.len == 0 || nv->str.len > SC_MAX_NAME || strlen(n) != nv->str.len ||
		    strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_") != nv->str.len)
			return err_set(e, -EBADMSG, "seccomp profile: syscalls[%zu].names[%zu] is not a syscall name", gi, i);
		rc = sc_add(p, n, action, nargs, args);
		if (rc == -E2BIG)
			return err_set(e, rc, "seccomp profile: more than %d rules", SC_MAX_RULES);
		if (rc < 0)
			return err_set(e, rc, "seccomp profile: out of memory");
	}
	return 0;
}

int rt_seccomp_parse_oci(const char *json, size_t len, struct rt_seccomp **out, struct arca_err *e)
{
	static const char *const keys[] = { "defaultAction", "defaultErrnoRet", "architectures", "flags",
					    "listenerPath", "listenerMetadata", "syscalls", NULL };
	struct json_limits lim = json_limits_default;
	lim.max_depth = SC_MAX_DEPTH;
	lim.max_bytes = SC_MAX_FILE;
	lim.max_items = 4 * SC_MAX_RULES + 4096;
	_cleanup_val_ struct val *doc = NULL;
	int rc = val_from_json(json, len, &lim, &doc, e);
	if (rc < 0)
		return err_wrap(e, rc, "seccomp profile");
	if (doc->kind != VAL_OBJECT)
		return err_set(e, -EBADMSG, "seccomp profile: not a JSON object");
	/* A whole OCI config.json is accepted too: its .linux.seccomp. */
	const struct val *root = doc;
	const struct val *linux_ = val_object_get_cstr(doc, "linux");
	if (linux_ && !val_object_get_cstr(doc, "defaultAction")) {
		root = val_object_get_cstr(linux_, "seccomp");
		if (!root || root->kind != VAL_OBJECT)
			return err_set(e, -EBADMSG, "seccomp profile: config has no linux.seccomp object");
	}
	if ((rc = check_keys(root, keys, "the profile", e)) < 0)
		return rc;
	const char *lp = val_str(val_object_get_cstr(root, "listenerPath"));
	if (lp && *lp)
		return err_set(e, -ENOTSUP, "seccomp profile: listenerPath needs a seccomp agent, which arca does not run");

	_cleanup_(sc_freep) struct rt_seccomp *p = calloc(1, sizeof(*p));
	if (!p)
		return err_set(e, -ENOMEM, "out of memory");
	uint32_t ret;
	bool ret_given;
	if ((rc = get_errno(root, "defaultErrnoRet", &ret, &ret_given, e)) < 0)
		return rc;
	const struct val *da = val_object_get_cstr(root, "defaultAction");
	if (!da)
		return err_set(e, -EBADMSG, "seccomp profile: no defaultAction");
	if ((rc = parse_action(da, ret, ret_given, "defaultAction", &p->def_action, e)) < 0)
		return rc;
	const struct val *v;
	if ((v = val_object_get_cstr(root, "architectures")) && v->kind != VAL_NULL &&
	    (rc = parse_arches(p, v, e)) < 0)
		return rc;
	if ((v = val_object_get_cstr(root, "flags")) && v->kind != VAL_NULL && (rc = parse_flags(p, v, e)) < 0)
		return rc;
	if ((v = val_object_get_cstr(root, "syscalls")) && v->kind != VAL_NULL) {
		if (v->kind != VAL_ARRAY)
			return err_set(e, -EBADMSG, "seccomp profile: 'syscalls' must be an array");
		if (v->arr.n > SC_MAX_GROUPS)
			return err_set(e, -E2BIG, "seccomp profile: more than %d syscalls entries", SC_MAX_GROUPS);
		for (size_t i = 0; i < v->arr.n; i++)
			if ((rc = parse_group(p, v->arr.items[i], i, e)) < 0)
				return rc;
	}
	if (sc_compile(p) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	if (p->bpf && sc_has_foreign(p))
		log_debug("seccomp: the profile's other architectures are filtered by libseccomp, stacked on arca's filter");
	*out = TAKE_PTR(p);
	return 0;
}

int rt_seccomp_load_file(const char *path, struct rt_seccomp **out, struct arca_err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = file_read_all(path, SC_MAX_FILE, &b, e);
	if (rc < 0)
		return err_wrap(e, rc, "seccomp profile '%s'", path);
	rc = rt_seccomp_parse_oci(b.p, b.len, out, e);
	if (rc < 0)
		return err_wrap(e, rc, "'%s'", path);
	return 0;
}

/* Compiles @p when it is made, into p->bpf. -ENOMEM; any other failure
 * leaves p->bpf NULL, and libseccomp compiles the whole profile when it is
 * checked or installed. */
static int sc_compile(struct rt_seccomp *p)
{
	struct sock_filter *prog = NULL;
	size_t n = 0;
	int rc = sc_compile_prog(p, &prog, &n);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		log_debug("seccomp: arca cannot compile this profile (%s), libseccomp compiles all of it", strerror(-rc));
		return 0;
	}
	free(p->bpf);
	p->bpf = prog;
	p->nbpf = n;
	return 0;
}

/* Whether the profile lists an architecture arca's program leaves to a
 * stacked libseccomp filter. */
static bool sc_has_foreign(const struct rt_seccomp *p)
{
	for (size_t i = 0; i < p->narches; i++)
		if (!sc_arch_native(p->arches[i]))
			return true;
	return false;
}

static void ctx_releasep(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}

/*
 * The libseccomp filter of @p: the whole profile, or with @foreign_only the
 * rules for the listed architectures other than the native one, to be
 * stacked on arca's program. That filter allows what arrives through the
 * native architecture (arca's program decides it) and has no
 * bad-architecture verdict of its own: arca's program kills unlisted ABIs.
 */
static int build(const struct rt_seccomp *p, bool foreign_only, scmp_filter_ctx *out, struct arca_err *e)
{
	_cleanup_(ctx_releasep) scmp_filter_ctx ctx = seccomp_init(p->def_action);
	if (!ctx)
		return err_set(e, -ENOMEM, "seccomp: cannot create a filter");
	/* Another ABI's syscall numbers would bypass every rule. */
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, foreign_only ? SCMP_ACT_ALLOW : SCMP_ACT_KILL_PROCESS);
	if (rc < 0)
		return err_setsys(e, rc, "seccomp: bad-architecture action");
	for (size_t i = 0; i < p->narches; i++) {
		if (foreign_only && sc_arch_native(p->arches[i]))
			continue;
		rc = seccomp_arch_add(ctx, p->arches[i]);
		if (rc < 0 && rc != -EEXIST)
			return err_setsys(e, rc, "seccomp: architecture %#x", p->arches[i]);
	}
	if (foreign_only && (rc = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE)) < 0)
		return err_setsys(e, rc, "seccomp: removing the native architecture");
	if (p->tsync && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		return err_setsys(e, rc, "seccomp: SECCOMP_FILTER_FLAG_TSYNC");
	if (p->log && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1)) < 0)
		return err_setsys(e, rc, "seccomp: SECCOMP_FILTER_FLAG_LOG");
	if (p->spec_allow && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1)) < 0)
		return err_setsys(e, rc, "seccomp: SECCOMP_FILTER_FLAG_SPEC_ALLOW");
	/* Long allow-lists: a binary search tree instead of a linear chain
	 * keeps every syscall's filter cost logarithmic. */
	if (p->nrules > 32)
		(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

	for (size_t i = 0; i < p->nrules; i++) {
		const struct sc_rule *r = &p->rules[i];
		int nr = seccomp_syscall_resolve_name(r->name);
		/* Unknown here (another architecture's, or newer than
		 * libseccomp): nothing to filter, as runc does. */
		if (nr == __NR_SCMP_ERROR)
			continue;
		/* libseccomp refuses rules that repeat the default action. */
		if (r->action == p->def_action)
			continue;
		rc = seccomp_rule_add_array(ctx, r->action, nr, r->nargs, r->nargs ? r->args : NULL);
		/* -EEXIST: an earlier rule has the same conditions for this
		 * ABI (i386 multiplexes connect, socket, ... into socketcall,
		 * whose arguments libseccomp cannot compare): the earlier
		 * one stays, as first-match has it. Only for the other ABIs;
		 * the whole profile fails instead, as it always did. */
		if (rc == -EEXIST && foreign_only) {
			log_debug("seccomp: rule for '%s' on the other architectures overlaps an earlier one, which stays", r->name);
			continue;
		}
		if (rc < 0)
			return err_setsys(e, rc, "seccomp: rule for '%s'", r->name);
	}
	*out = TAKE_PTR(ctx);
	return 0;
}

int rt_seccomp_bpf(const struct rt_seccomp *p, enum rt_seccomp_compiler by, struct sock_filter **out, size_t *n,
		   struct arca_err *e)
{
	if (by == RT_SECCOMP_ARCA) {
		int rc = sc_compile_prog(p, out, n);
		return rc < 0 ? err_set(e, rc, "seccomp: arca cannot compile this profile") : 0;
	}
	_cleanup_(ctx_releasep) scmp_filter_ctx ctx = NULL;
	int rc = build(p, by == RT_SECCOMP_LIBSECCOMP_OTHERS, &ctx, e);
	if (rc < 0)
		return rc;
	_cleanup_close_ int fd = memfd_create("arca-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return err_setsys(e, -errno, "memfd");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return err_setsys(e, rc, "seccomp: exporting the filter");
	off_t len = lseek(fd, 0, SEEK_END);
	if (len <= 0 || len % (off_t)sizeof(struct sock_filter) || len > (off_t)(SC_MAX_BPF * sizeof(struct sock_filter)))
		return err_set(e, -EIO, "seccomp: exported filter has %lld bytes", (long long)len);
	struct sock_filter *c = malloc((size_t)len);
	if (!c)
		return err_set(e, -ENOMEM, "out of memory");
	if (pread(fd, c, (size_t)len, 0) != len) {
		free(c);
		return err_set(e, -EIO, "seccomp: reading the exported filter");
	}
	*out = c;
	*n = (size_t)len / sizeof(*c);
	return 0;
}

int rt_seccomp_check(const struct rt_seccomp *p, struct arca_err *e)
{
	_cleanup_(ctx_releasep) scmp_filter_ctx ctx = NULL;
	if (!p->bpf)
		return build(p, false, &ctx, e);
	return sc_has_foreign(p) ? build(p, true, &ctx, e) : 0;
}

int rt_seccomp_install(const struct rt_seccomp *p, struct arca_err *e)
{
	_cleanup_(ctx_releasep) scmp_filter_ctx ctx = NULL;
	int rc;
	if (!p->bpf) {
		if ((rc = build(p, false, &ctx, e)) < 0)
			return rc;
		if ((rc = seccomp_load(ctx)) < 0)
			return err_setsys(e, rc, "seccomp: loading the filter");
		return 0;
	}
	/* Both filters are built before either is loaded, and the
	 * libseccomp one (which allows every native call) goes first, so
	 * arca's cannot deny what loading the second needs. If arca's then
	 * fails, native calls are unfiltered: the caller must not go on to
	 * run anything (see the contract in harden.h). */
	bool foreign = sc_has_foreign(p);
	if (foreign && (rc = build(p, true, &ctx, e)) < 0)
		return rc;
	/* as libseccomp's seccomp_load(): no_new_privs first, so the filter
	 * needs no CAP_SYS_ADMIN */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_setsys(e, -errno, "seccomp: no_new_privs");
	if (foreign && (rc = seccomp_load(ctx)) < 0)
		return err_setsys(e, rc, "seccomp: loading the filter for the other architectures");
	unsigned flags = (p->tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0) | (p->log ? SECCOMP_FILTER_FLAG_LOG : 0) |
			 (p->spec_allow ? SECCOMP_FILTER_FLAG_SPEC_ALLOW : 0);
	struct sock_fprog prog = { .len = (unsigned short)p->nbpf, .filter = p->bpf };
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0)
		return err_setsys(e, -errno, "seccomp: loading the filter");
	if (r > 0) /* TSYNC: the id of a thread that could not be synchronised */
		return err_set(e, -EBUSY, "seccomp: thread %ld cannot take the filter", r);
	return 0;
}

int rt_seccomp_apply(const char *oci_json_path, struct arca_err *e)
{
	_cleanup_(sc_freep) struct rt_seccomp *p = NULL;
	int rc = oci_json_path ? rt_seccomp_load_file(oci_json_path, &p, e) : rt_seccomp_default(&p, e);
	if (rc < 0)
		return rc;
	return rt_seccomp_install(p, e);
}
