/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A parsed seccomp profile, shared by the profile code (seccomp.c) and
 * arca's BPF compiler (seccomp_bpf.c). Never installed.
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

struct sc_rule {
	char name[SC_MAX_NAME + 1];
	uint32_t action;
	unsigned nargs;
	struct scmp_arg_cmp args[SC_MAX_ARGS];
};

struct rt_seccomp {
	uint32_t def_action;
	uint32_t arches[SC_MAX_ARCHES];
	size_t narches;
	bool tsync, log, spec_allow;
	struct sc_rule *rules;
	size_t nrules, cap;
	struct sock_filter *bpf; /* compiled by sc_compile_prog, or NULL: libseccomp */
	size_t nbpf;
};

/*
 * Compiles @p to BPF; *out is the caller's to free. -ENOMEM; -ENOTSUP when
 * it holds what only libseccomp handles (other architectures, filter flags,
 * a syscall with rules of different actions, multiplexed socketcall ABIs,
 * more than the jumps or program size allow).
 */
int sc_compile_prog(const struct rt_seccomp *p, struct sock_filter **out, size_t *nout);

#endif
