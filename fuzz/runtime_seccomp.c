/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the OCI seccomp profile parser and arca's BPF compiler. Every
 * refusal must say why. Every accepted profile's program, run through
 * tests/runtime/bpf_run.h, must return what the profile means
 * (tests/runtime/seccomp_oracle.h, a plain evaluator of the parsed rules)
 * for the syscalls the profile names, their neighbours and other ABIs,
 * with arguments at the profile's own values, their neighbours and random
 * 64-bit words. The oracle is the authority; libseccomp is consulted too,
 * but only on profiles with at most one rule per syscall, where its rule
 * merging cannot go wrong (fuzz/corpus/runtime_seccomp/libseccomp-merge-dup
 * is a profile where it does), and for the other ABIs a profile lists,
 * whose stacked libseccomp filter must leave native calls to arca's.
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "../lib/runtime/harden.h"
#include "../lib/runtime/internal.h"
#include "../tests/runtime/bpf_run.h"
#include "../tests/runtime/seccomp_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VALUES 64   /* distinct argument values taken from the profile */
#define MAX_NRS 64      /* syscall numbers tried, besides the fixed ones */
#define ARG_SETS 24     /* argument vectors per syscall number */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

struct inputs {
	uint64_t v[MAX_VALUES];
	size_t nv;
	int nr[MAX_NRS];
	size_t nnr;
};

static void add_value(struct inputs *in, uint64_t x)
{
	if (in->nv < MAX_VALUES)
		in->v[in->nv++] = x;
}

static void add_nr(struct inputs *in, int nr)
{
	if (in->nnr < MAX_NRS)
		in->nr[in->nnr++] = nr;
}

/* The profile's own numbers: each comparison's operands, their neighbours
 * and their low word under another high word, where the verdicts change;
 * each rule's syscall and the next. */
static void collect(const struct sc_oracle *o, struct inputs *in)
{
	static const uint64_t fixed[] = { 0, 1, 0xFFFFFFFFu, 0x100000000ull, 0x80000000u, UINT64_MAX };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		add_value(in, fixed[i]);
	for (size_t i = 0; i < o->p->nrules; i++) {
		const struct sc_rule *r = &o->p->rules[i];
		for (unsigned k = 0; k < r->nargs; k++) {
			uint64_t a = r->args[k].datum_a, b = r->args[k].datum_b;
			add_value(in, a);
			add_value(in, a - 1);
			add_value(in, a + 1);
			add_value(in, a ^ 0xFFFFFFFF00000000ull); /* same low word */
			if (r->args[k].op == SCMP_CMP_MASKED_EQ)
				add_value(in, b & a);
		}
		if (o->nr[i] >= 0) {
			add_nr(in, o->nr[i]);
			add_nr(in, o->nr[i] + 1);
		}
	}
}

static uint64_t pick(struct rng *r, const struct inputs *in)
{
	uint64_t x = rng_next(r);
	switch (x % 4) {
	case 0: return rng_next(r);
	case 1: return (x >> 8) & 0xFFFFFFFFu; /* high word zero */
	default: return in->v[(x >> 8) % in->nv];
	}
}

/* Whether libseccomp is trusted on @o's profile: no syscall has two rules. */
static bool libseccomp_trusted(const struct sc_oracle *o)
{
	if (o->p->narches)
		return false;
	for (size_t i = 0; i < o->p->nrules; i++)
		for (size_t j = 0; j < i; j++)
			if (o->nr[i] >= 0 && o->nr[i] == o->nr[j])
				return false;
	return true;
}

static void check(const struct rt_seccomp *p, const uint8_t *data, size_t size)
{
	struct sock_filter *prog = NULL, *ref = NULL, *others = NULL;
	size_t n = 0, nref = 0, nothers = 0;
	/* only a program past the kernel's limits is not compiled */
	if (rt_seccomp_bpf(p, RT_SECCOMP_ARCA, &prog, &n, NULL) < 0)
		return;
	struct sc_oracle o;
	if (sc_oracle_init(&o, p) < 0) {
		free(prog);
		return;
	}
	if (libseccomp_trusted(&o) && rt_seccomp_bpf(p, RT_SECCOMP_LIBSECCOMP, &ref, &nref, NULL) < 0)
		ref = NULL;
	/* listed other ABIs: libseccomp's filter for them is stacked on
	 * arca's, and must leave every native call to arca's program */
	if (p->narches && rt_seccomp_bpf(p, RT_SECCOMP_LIBSECCOMP_OTHERS, &others, &nothers, NULL) < 0)
		others = NULL;
	struct inputs in = { .nv = 0 };
	collect(&o, &in);
	static const int fixed_nrs[] = { -1, 0, 0x40000000, 0x40000000 | 32, 1000 };
	for (size_t i = 0; i < sizeof(fixed_nrs) / sizeof(fixed_nrs[0]); i++)
		add_nr(&in, fixed_nrs[i]);
	/* deterministic per input, so a finding reproduces */
	struct rng r = { .s = 0x9E3779B97F4A7C15ull ^ size };
	for (size_t i = 0; i < size; i++)
		r.s = (r.s ^ data[i]) * 0x100000001B3ull;
	r.s |= 1;
	const uint32_t native = seccomp_arch_native();
	for (size_t i = 0; i < in.nnr; i++) {
		for (int k = 0; k < ARG_SETS; k++) {
			struct seccomp_data d = { .nr = in.nr[i], .arch = native };
			if (k == 0)
				d.arch = AUDIT_ARCH_I386;
			else if (k == 1)
				d.arch = AUDIT_ARCH_AARCH64 ^ AUDIT_ARCH_X86_64 ^ native; /* the other 64-bit one */
			for (int a = 0; a < 6; a++)
				d.args[a] = pick(&r, &in);
			uint32_t got = bpf_run(prog, n, &d);
			if (got != sc_oracle_decide(&o, &d))
				__builtin_trap(); /* arca's program does not do what the profile says */
			if (ref && d.arch == native && got != bpf_run(ref, nref, &d))
				__builtin_trap(); /* arca and libseccomp disagree where libseccomp is right */
			if (others && d.arch == native && (uint32_t)d.nr < 0x40000000u &&
			    bpf_stricter(got, bpf_run(others, nothers, &d)) != got)
				__builtin_trap(); /* the stacked filter overrules arca's on a native call */
		}
	}
	sc_oracle_release(&o);
	free(prog);
	free(ref);
	free(others);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_seccomp *p = NULL;
	struct arca_err e = { 0 };
	if (rt_seccomp_parse_oci((const char *)data, size, &p, &e) < 0) {
		if (e.msg[0] == '\0')
			__builtin_trap(); /* every refusal says why */
		return 0;
	}
	/* what still goes through libseccomp must build or fail cleanly */
	if (rt_seccomp_check(p, &e) < 0 && e.msg[0] == '\0')
		__builtin_trap();
	check(p, data, size);
	rt_seccomp_free(p);
	return 0;
}
