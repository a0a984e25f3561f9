/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca's seccomp compiler: a parsed profile (seccomp_int.h) to classic BPF,
 * for arca's own profiles and for OCI profiles alike.
 *
 * Why not libseccomp: libseccomp 2.5 merges all rules of a syscall into one
 * decision tree and gets some merges wrong. With dup given {arg0 == 0} and
 * {arg0 != 4, arg2 < 0}, both SCMP_ACT_ERRNO, its program allows dup(0, 0, 4)
 * although the first rule denies it (fuzz/corpus/runtime_seccomp/
 * libseccomp-merge-dup). Here every rule is emitted as written, in order, so
 * what the program decides can be read off the profile; the tests and the
 * fuzzer check it against a plain evaluator of the same rules
 * (tests/runtime/seccomp_oracle.h).
 *
 * Precedence: the first rule of a syscall, in profile order, whose
 * comparisons all hold decides. That is the order the OCI runtime-spec's
 * proposed wording gives ("when the syscall matches multiple entries, only
 * the first entry is effective", opencontainers/runtime-spec#1159, written
 * to match runc and crun); the published config-linux.md leaves it open and
 * libseccomp documents only the union of same-action rules
 * (seccomp_rule_add(3)), which first-match agrees with. A rule repeating
 * the default action decides like any other; runc drops such rules
 * (libseccomp refuses them), so a profile relying on a later rule to
 * overrule one of them differs there, and gets the earlier rule's verdict.
 *
 * Shape of the program: the architecture check (listed foreign
 * architectures are allowed here, for the stacked libseccomp filter to
 * decide; others kill), the x32 range on x86_64, a binary search over
 * syscall numbers, then each syscall's rules in order. Arguments are
 * compared as the kernel passes them, 64 bits, high word then low word, as
 * libseccomp does on 64-bit architectures.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "seccomp_int.h"

/* A program under construction. Conditional jumps are short and local (a
 * rule's tests jump to the rule's end); far jumps are BPF_JA to labels,
 * resolved at the end. */
struct bpf_out {
	struct sock_filter ins[SC_MAX_BPF];
	size_t n;
	size_t label[SC_MAX_BPF]; /* label id -> instruction index */
	size_t nlabel;
	size_t fix_at[SC_MAX_BPF], fix_label[SC_MAX_BPF]; /* BPF_JA at -> label */
	size_t nfix;
	int err;
};

static size_t bpf_emit(struct bpf_out *o, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (o->n >= SC_MAX_BPF) {
		o->err = -E2BIG;
		return 0;
	}
	o->ins[o->n] = (struct sock_filter){ .code = code, .jt = jt, .jf = jf, .k = k };
	return o->n++;
}

static size_t bpf_label_new(struct bpf_out *o)
{
	if (o->nlabel >= SC_MAX_BPF) {
		o->err = -E2BIG;
		return 0;
	}
	o->label[o->nlabel] = SIZE_MAX;
	return o->nlabel++;
}

static void bpf_label_here(struct bpf_out *o, size_t l) { o->label[l] = o->n; }

static void bpf_ja(struct bpf_out *o, size_t l)
{
	if (o->nfix >= SC_MAX_BPF) {
		o->err = -E2BIG;
		return;
	}
	o->fix_at[o->nfix] = bpf_emit(o, BPF_JMP | BPF_JA, 0, 0, 0);
	o->fix_label[o->nfix++] = l;
}

static void bpf_ret(struct bpf_out *o, uint32_t action) { bpf_emit(o, BPF_RET | BPF_K, action, 0, 0); }

static void bpf_ld(struct bpf_out *o, uint32_t off) { bpf_emit(o, BPF_LD | BPF_W | BPF_ABS, off, 0, 0); }

/* Instructions whose jt (bit 0 set) or jf must reach the end of the rule. */
struct fails {
	size_t at[4 * SC_MAX_ARGS];
	size_t n;
};

static void fail_jt(struct fails *f, size_t at) { f->at[f->n++] = at << 1 | 1; }
static void fail_jf(struct fails *f, size_t at) { f->at[f->n++] = at << 1; }

/* One 64-bit comparison of a syscall argument, as libseccomp compares
 * them: the high words decide unless equal. Falls through when it holds. */
static void bpf_cmp(struct bpf_out *o, const struct scmp_arg_cmp *c, struct fails *f)
{
	uint32_t off = (uint32_t)offsetof(struct seccomp_data, args[c->arg]);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t lo = off, hi = off + 4;
#else
	uint32_t lo = off + 4, hi = off;
#endif
	uint32_t ahi = (uint32_t)(c->datum_a >> 32), alo = (uint32_t)c->datum_a;
	const uint16_t jeq = BPF_JMP | BPF_JEQ | BPF_K, jgt = BPF_JMP | BPF_JGT | BPF_K,
		       jge = BPF_JMP | BPF_JGE | BPF_K;
	switch (c->op) {
	case SCMP_CMP_EQ:
		bpf_ld(o, hi);
		fail_jf(f, bpf_emit(o, jeq, ahi, 0, 0));
		bpf_ld(o, lo);
		fail_jf(f, bpf_emit(o, jeq, alo, 0, 0));
		break;
	case SCMP_CMP_NE: /* holds when either word differs */
		bpf_ld(o, hi);
		bpf_emit(o, jeq, ahi, 0, 2);
		bpf_ld(o, lo);
		fail_jt(f, bpf_emit(o, jeq, alo, 0, 0));
		break;
	case SCMP_CMP_MASKED_EQ: {
		/* libseccomp compares (arg & mask) with (value & mask) */
		uint32_t mhi = ahi, mlo = alo;
		uint32_t vhi = (uint32_t)(c->datum_b >> 32) & mhi, vlo = (uint32_t)c->datum_b & mlo;
		/* 32-bit masks (ioctl requests, personality bits) leave the
		 * high word nothing to compare: 0 == 0 */
		if (mhi != 0) {
			bpf_ld(o, hi);
			bpf_emit(o, BPF_ALU | BPF_AND | BPF_K, mhi, 0, 0);
			fail_jf(f, bpf_emit(o, jeq, vhi, 0, 0));
		}
		bpf_ld(o, lo);
		if (mlo != 0xFFFFFFFFu)
			bpf_emit(o, BPF_ALU | BPF_AND | BPF_K, mlo, 0, 0);
		fail_jf(f, bpf_emit(o, jeq, vlo, 0, 0));
		break;
	}
	case SCMP_CMP_GT:
	case SCMP_CMP_GE:
		/* hi > a.hi holds; hi < a.hi fails; equal: the low words decide */
		bpf_ld(o, hi);
		bpf_emit(o, jgt, ahi, 3, 0);
		fail_jf(f, bpf_emit(o, jeq, ahi, 0, 0));
		bpf_ld(o, lo);
		fail_jf(f, bpf_emit(o, c->op == SCMP_CMP_GT ? jgt : jge, alo, 0, 0));
		break;
	case SCMP_CMP_LT:
	case SCMP_CMP_LE:
		/* hi < a.hi holds; hi > a.hi fails; equal: the low words decide */
		bpf_ld(o, hi);
		bpf_emit(o, jge, ahi, 0, 3);
		fail_jf(f, bpf_emit(o, jeq, ahi, 0, 0));
		bpf_ld(o, lo);
		fail_jt(f, bpf_emit(o, c->op == SCMP_CMP_LT ? jge : jgt, alo, 0, 0));
		break;
	default:
		o->err = -ENOTSUP;
	}
}

struct sc_group {
	uint32_t nr;
	size_t first, count; /* rules of this syscall, in the sorted index */
	size_t label;
};

/* A syscall's rules in order, each a conjunction of comparisons; the first
 * that holds decides, none: the default action. */
static void bpf_group(struct bpf_out *o, const struct rt_seccomp *p, const size_t *idx, const struct sc_group *g)
{
	bpf_label_here(o, g->label);
	for (size_t k = 0; k < g->count; k++) {
		const struct sc_rule *r = &p->rules[idx[g->first + k]];
		struct fails f = { .n = 0 };
		for (unsigned a = 0; a < r->nargs; a++)
			bpf_cmp(o, &r->args[a], &f);
		bpf_ret(o, r->action);
		if (o->err)
			return;
		for (size_t j = 0; j < f.n; j++) {
			size_t at = f.at[j] >> 1, dist = o->n - (at + 1);
			if (dist > 255) {
				o->err = -E2BIG;
				return;
			}
			if (f.at[j] & 1)
				o->ins[at].jt = (uint8_t)dist;
			else
				o->ins[at].jf = (uint8_t)dist;
		}
		if (r->nargs == 0)
			return; /* unconditional: later rules never decide */
	}
	bpf_ret(o, p->def_action);
}

/* Binary search over the sorted syscall numbers of groups [lo, hi). */
static void bpf_tree(struct bpf_out *o, const struct rt_seccomp *p, const struct sc_group *g, size_t lo, size_t hi)
{
	if (hi - lo <= 4) {
		for (size_t i = lo; i < hi; i++) {
			bpf_emit(o, BPF_JMP | BPF_JEQ | BPF_K, g[i].nr, 0, 1);
			bpf_ja(o, g[i].label);
		}
		bpf_ret(o, p->def_action);
		return;
	}
	size_t mid = lo + (hi - lo) / 2, right = bpf_label_new(o);
	bpf_emit(o, BPF_JMP | BPF_JGE | BPF_K, g[mid].nr, 0, 1);
	bpf_ja(o, right);
	bpf_tree(o, p, g, lo, mid);
	bpf_label_here(o, right);
	bpf_tree(o, p, g, mid, hi);
}

/* By syscall number (@ctx: the numbers), then by position in the profile,
 * so each syscall's rules keep their order. */
static int cmp_rule(const void *a, const void *b, void *ctx)
{
	const int *nr = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	if (nr[x] != nr[y])
		return nr[x] < nr[y] ? -1 : 1;
	return (x > y) - (x < y);
}

bool sc_arch_native(uint32_t arch)
{
	return arch == seccomp_arch_native();
}

int sc_compile_prog(const struct rt_seccomp *p, struct sock_filter **out, size_t *nout)
{
#if !defined(__x86_64__) && !defined(__aarch64__)
	(void)p, (void)out, (void)nout;
	return -ENOTSUP; /* i386, s390, ppc: libseccomp rewrites socketcall and ipc */
#else
	_cleanup_free_ int *nr = calloc(p->nrules + 1, sizeof(int));
	_cleanup_free_ size_t *idx = calloc(p->nrules + 1, sizeof(size_t));
	_cleanup_free_ struct sc_group *g = calloc(p->nrules + 1, sizeof(*g));
	_cleanup_free_ struct bpf_out *o = calloc(1, sizeof(*o));
	if (!nr || !idx || !g || !o)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < p->nrules; i++) {
		nr[i] = seccomp_syscall_resolve_name(p->rules[i].name);
		/* Unknown here, or a pseudo-syscall of another architecture
		 * (negative): no call has that number, as runc skips them. */
		if (nr[i] < 0)
			continue;
		idx[n++] = i;
	}
	qsort_r(idx, n, sizeof(*idx), cmp_rule, nr);
	size_t ng = 0;
	for (size_t k = 0; k < n; k++) {
		if (ng && g[ng - 1].nr == (uint32_t)nr[idx[k]]) {
			g[ng - 1].count++;
			continue;
		}
		g[ng++] = (struct sc_group){ .nr = (uint32_t)nr[idx[k]], .first = k, .count = 1 };
	}
	for (size_t i = 0; i < ng; i++)
		g[i].label = bpf_label_new(o);

	const uint16_t jeq = BPF_JMP | BPF_JEQ | BPF_K;
	bool x32 = false;
	bpf_ld(o, (uint32_t)offsetof(struct seccomp_data, arch));
	for (size_t i = 0; i < p->narches; i++) {
		if (sc_arch_native(p->arches[i]))
			continue;
#ifdef __x86_64__
		if (p->arches[i] == SCMP_ARCH_X32) { /* not an audit arch: see below */
			x32 = true;
			continue;
		}
#endif
		/* another ABI the profile lists: the stacked libseccomp
		 * filter decides, and the kernel takes the stricter verdict */
		bpf_emit(o, jeq, p->arches[i], 0, 1);
		bpf_ret(o, SCMP_ACT_ALLOW);
	}
	bpf_emit(o, jeq, seccomp_arch_native(), 1, 0);
	bpf_ret(o, SCMP_ACT_KILL_PROCESS);
	bpf_ld(o, (uint32_t)offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	/* x32 shares x86_64's audit arch: its numbers (bit 30 set) are another
	 * ABI, left to the libseccomp filter when listed; -1 (a tracer's
	 * skipped call) is not */
	bpf_emit(o, BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 2);
	bpf_emit(o, jeq, 0xFFFFFFFFu, 1, 0);
	bpf_ret(o, x32 ? SCMP_ACT_ALLOW : SCMP_ACT_KILL_PROCESS);
#else
	(void)x32;
#endif
	bpf_tree(o, p, g, 0, ng);
	for (size_t i = 0; i < ng; i++)
		bpf_group(o, p, idx, &g[i]);
	if (o->err)
		return o->err == -ENOMEM ? -ENOMEM : -ENOTSUP;
	for (size_t f = 0; f < o->nfix; f++) {
		size_t at = o->fix_at[f], to = o->label[o->fix_label[f]];
		BUG_ON(to == SIZE_MAX || to <= at); /* every label is placed after its jumps */
		o->ins[at].k = (uint32_t)(to - at - 1);
	}
	struct sock_filter *prog = malloc(o->n * sizeof(*prog));
	if (!prog)
		return -ENOMEM;
	memcpy(prog, o->ins, o->n * sizeof(*prog));
	*out = prog;
	*nout = o->n;
	return 0;
#endif
}
