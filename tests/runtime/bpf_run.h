/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A classic-BPF interpreter for seccomp programs, enough for what arca's
 * compiler and libseccomp emit: 32-bit loads from seccomp_data, AND,
 * jumps, returns. The oracle of tests/runtime/test_seccomp.c and of
 * fuzz/runtime_seccomp.c; a load outside seccomp_data or an instruction
 * it does not know returns a value no filter returns.
 */
#ifndef ARCA_TEST_BPF_RUN_H
#define ARCA_TEST_BPF_RUN_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t bpf_run(const struct sock_filter *f, size_t n, const struct seccomp_data *d)
{
	const uint8_t *mem = (const uint8_t *)d;
	uint32_t a = 0;
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *i = &f[pc];
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k > sizeof(*d) - 4) /* not k + 4: that wraps */
				return 0xDEAD;
			memcpy(&a, mem + i->k, 4);
			break;
		case BPF_ALU | BPF_AND | BPF_K: a &= i->k; break;
		case BPF_JMP | BPF_JA: pc += i->k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += a == i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += a > i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += a >= i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += (a & i->k) ? i->jt : i->jf; break;
		case BPF_RET | BPF_K: return i->k;
		case BPF_RET | BPF_A: return a;
		case BPF_MISC | BPF_TAX: break; /* X is never read by either */
		default: return 0xBAD0000u | i->code;
		}
	}
	return 0xFA11;
}

/* The verdict of two stacked filters, as the kernel takes it: the
 * stricter action (SECCOMP_RET_ACTION_FULL compared as signed). */
static inline uint32_t bpf_stricter(uint32_t a, uint32_t b)
{
	return (int32_t)(b & SECCOMP_RET_ACTION_FULL) < (int32_t)(a & SECCOMP_RET_ACTION_FULL) ? b : a;
}

#endif
