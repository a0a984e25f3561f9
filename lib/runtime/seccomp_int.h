/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A parsed seccomp profile, shared by the profile code (seccomp.c), arca's
 * BPF compiler (seccomp_bpf.c) and the tests' reference evaluator
 * (tests/runtime/seccomp_oracle.h). Never installed.
 *
 * Meaning of a profile (the contract the compiler and the oracle share):
 *  - a call made through the native architecture is decided by the rules of
 *    its syscall number in profile order: the first rule whose comparisons
 *    all hold (none: always) gives the action; no rule holds: def_action;
 *  - a call through another architecture listed in arches is left to a
 *    second filter that libseccomp compiles (see rt_seccomp_install); any
 *    other architecture, and the x32 ABI on x86_64 unless listed, kills the
 *    process.
 */
#ifndef ARCA_RUNTIME_SECCOMP_INT_H
#define ARCA_RUNTIME_SECCOMP_INT_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SC_MAX_ARCHES 16
#define SC_MAX_NAME 64
#define SC_MAX_ARGS 6     /* a syscall has six argument registers */
#define SC_MAX_BPF 4096   /* instructions (the kernel's BPF_MAXINSNS) */

/* One rule: @name's calls whose @nargs comparisons all hold get @action. */
struct sc_rule {
	char name[SC_MAX_NAME + 1];
	uint32_t action;
	unsigned nargs;
	struct scmp_arg_cmp args[SC_MAX_ARGS];
};

struct rt_seccomp {
	uint32_t def_action;
	uint32_t arches[SC_MAX_ARCHES]; /* libseccomp tokens; the native one is always filtered */
	size_t narches;
	bool tsync, log, spec_allow;
	struct sc_rule *rules; /* in profile order */
	size_t nrules, cap;
	/* compiled by arca (sc_compile_prog), or NULL: libseccomp compiles
	 * the whole profile when it is installed */
	struct sock_filter *bpf;
	size_t nbpf;
};

/* Whether @arch (a libseccomp token from a profile) is filtered by arca's
 * program itself rather than by the stacked libseccomp filter. */
bool sc_arch_native(uint32_t arch);

/*
 * Compiles @p to classic BPF. *out is the caller's to free. -ENOMEM;
 * -ENOTSUP when the host architecture is not one this compiler knows
 * (x86_64, aarch64) or the program would pass SC_MAX_BPF instructions or a
 * conditional jump's 255-instruction reach. Never fails on what a profile
 * says: every action, comparison and rule order is expressible.
 */
int sc_compile_prog(const struct rt_seccomp *p, struct sock_filter **out, size_t *nout);

#endif
