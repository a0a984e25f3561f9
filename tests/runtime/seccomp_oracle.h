/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a parsed seccomp profile means, computed the plain way: the rules of
 * the call's syscall in profile order, the first whose comparisons all hold
 * on the 64-bit arguments decides, else the default action (the contract in
 * lib/runtime/seccomp_int.h). No BPF, no words, no trees: the reference that
 * arca's compiled program must agree with, in tests/runtime/test_seccomp.c
 * and fuzz/runtime_seccomp.c (run through bpf_run.h).
 */
#ifndef ARCA_TEST_SECCOMP_ORACLE_H
#define ARCA_TEST_SECCOMP_ORACLE_H

#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "seccomp_int.h"

struct sc_oracle {
	const struct rt_seccomp *p;
	int *nr; /* each rule's syscall number, resolved once */
};

/* -ENOMEM, else 0; @p must outlive @o. */
static inline int sc_oracle_init(struct sc_oracle *o, const struct rt_seccomp *p)
{
	o->p = p;
	o->nr = calloc(p->nrules + 1, sizeof(int));
	if (!o->nr)
		return -ENOMEM;
	for (size_t i = 0; i < p->nrules; i++)
		o->nr[i] = seccomp_syscall_resolve_name(p->rules[i].name);
	return 0;
}

static inline void sc_oracle_release(struct sc_oracle *o)
{
	free(o->nr);
	o->nr = NULL;
}

/* One comparison, as seccomp_rule_add(3) defines it (MASKED_EQ: the masked
 * argument equals the masked datum). */
static inline bool sc_oracle_holds(const struct scmp_arg_cmp *c, const struct seccomp_data *d)
{
	uint64_t x = d->args[c->arg], a = c->datum_a, b = c->datum_b;
	switch (c->op) {
	case SCMP_CMP_NE: return x != a;
	case SCMP_CMP_LT: return x < a;
	case SCMP_CMP_LE: return x <= a;
	case SCMP_CMP_EQ: return x == a;
	case SCMP_CMP_GE: return x >= a;
	case SCMP_CMP_GT: return x > a;
	case SCMP_CMP_MASKED_EQ: return (x & a) == (b & a);
	default: return false;
	}
}

static inline bool sc_oracle_listed(const struct rt_seccomp *p, uint32_t arch)
{
	for (size_t i = 0; i < p->narches; i++)
		if (p->arches[i] == arch)
			return true;
	return false;
}

/* The verdict arca's program must return for @d. */
static inline uint32_t sc_oracle_decide(const struct sc_oracle *o, const struct seccomp_data *d)
{
	const struct rt_seccomp *p = o->p;
	/* other ABIs: the stacked libseccomp filter's when listed, else kill */
	if (d->arch != seccomp_arch_native())
		return sc_oracle_listed(p, d->arch) ? SCMP_ACT_ALLOW : SCMP_ACT_KILL_PROCESS;
#ifdef __x86_64__
	if ((uint32_t)d->nr >= 0x40000000u && (uint32_t)d->nr != UINT32_MAX)
		return sc_oracle_listed(p, SCMP_ARCH_X32) ? SCMP_ACT_ALLOW : SCMP_ACT_KILL_PROCESS;
#endif
	for (size_t i = 0; i < p->nrules; i++) {
		if (o->nr[i] < 0 || o->nr[i] != d->nr)
			continue;
		bool all = true;
		for (unsigned k = 0; k < p->rules[i].nargs && all; k++)
			all = sc_oracle_holds(&p->rules[i].args[k], d);
		if (all)
			return p->rules[i].action;
	}
	return p->def_action;
}

#endif
