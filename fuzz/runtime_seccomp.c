/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the OCI seccomp profile parser, and compiles every accepted
 * profile with libseccomp (in memory, never loaded), so whatever the parser
 * lets through must also be a filter libseccomp can build or refuse
 * cleanly. Where arca's own compiler (used for its built-in profiles) takes
 * the profile too, both programs must decide alike on every syscall with
 * argument values taken from the profile's numbers (and their neighbours). */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "../lib/runtime/harden.h"
#include "../lib/runtime/internal.h"
#include "../tests/runtime/bpf_run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VALUES 8


/* The decimal numbers in the profile text: the values its rules compare. */
static size_t numbers(const uint8_t *data, size_t size, uint64_t *v)
{
	size_t n = 0;
	for (size_t i = 0; i < size && n < MAX_VALUES;) {
		if (data[i] < '0' || data[i] > '9') {
			i++;
			continue;
		}
		uint64_t x = 0;
		for (; i < size && data[i] >= '0' && data[i] <= '9'; i++)
			x = x * 10 + (uint64_t)(data[i] - '0');
		v[n++] = x;
	}
	return n;
}

static void differential(const struct rt_seccomp *p, const uint8_t *data, size_t size)
{
	struct sock_filter *ours = NULL, *ref = NULL;
	size_t nours = 0, nref = 0;
	if (rt_seccomp_bpf(p, RT_SECCOMP_ARCA, &ours, &nours, NULL) < 0 || rt_seccomp_bpf(p, RT_SECCOMP_LIBSECCOMP, &ref, &nref, NULL) < 0) {
		free(ours);
		free(ref);
		return;
	}
	uint64_t v[3 * MAX_VALUES + 2];
	size_t nv = numbers(data, size, v);
	for (size_t i = 0, k = nv; i < k; i++) {
		v[nv++] = v[i] - 1;
		v[nv++] = v[i] + 1;
	}
	v[nv++] = 0;
	v[nv++] = UINT64_MAX;
	const uint32_t native = seccomp_arch_native();
	for (int nr = 0; nr < 460; nr++) {
		for (size_t i = 0; i < nv; i++) {
			struct seccomp_data d = { .nr = nr, .arch = native };
			for (int a = 0; a < 6; a++)
				d.args[a] = v[(i + (size_t)a) % nv];
			if (bpf_run(ours, nours, &d) != bpf_run(ref, nref, &d))
				__builtin_trap(); /* arca's compiler disagrees with libseccomp */
		}
	}
	free(ours);
	free(ref);
}

/*
 * Whether a syscall has two or more rules with argument comparisons.
 * libseccomp 2.5 merges such rules into one decision tree and can get it
 * wrong: for dup with {arg0 == 0} and {arg0 != 4, arg2 < 0}, both ERRNO, its
 * program allows dup(0, 0, 4) and refuses dup(1, 3, 0), where arca's
 * compiler (and the rules) say the opposite. libseccomp is no oracle there,
 * so the differential skips these profiles; arca's built-in profiles, which
 * arca compiles itself, were checked against libseccomp where it is right.
 */
static bool merged_arg_rules(const uint8_t *data, size_t size)
{
	_cleanup_val_ struct val *doc = NULL;
	if (val_from_json((const char *)data, size, NULL, &doc, NULL) < 0)
		return true;
	const struct val *rules = val_object_get_cstr(doc, "syscalls");
	_cleanup_val_ struct val *seen = val_object_new(8);
	if (!seen)
		return true;
	for (size_t i = 0; rules && rules->kind == VAL_ARRAY && i < rules->arr.n; i++) {
		const struct val *args = val_object_get_cstr(rules->arr.items[i], "args");
		const struct val *names = val_object_get_cstr(rules->arr.items[i], "names");
		if (!args || args->kind != VAL_ARRAY || args->arr.n == 0 || !names || names->kind != VAL_ARRAY)
			continue;
		for (size_t j = 0; j < names->arr.n; j++) {
			const char *n = val_str(names->arr.items[j]);
			if (!n)
				continue;
			if (val_object_get_cstr(seen, n))
				return true;
			if (val_object_put_cstr(seen, n, val_bool(true)) < 0)
				return true;
		}
	}
	return false;
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
	if (rt_seccomp_check(p, &e) == 0 && !merged_arg_rules(data, size))
		differential(p, data, size);
	rt_seccomp_free(p);
	return 0;
}
