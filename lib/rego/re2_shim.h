/* SPDX-License-Identifier: Apache-2.0 */
/* C interface to the RE2 shim (re2_shim.cc). */
#ifndef ARCA_REGO_RE2_SHIM_H
#define ARCA_REGO_RE2_SHIM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rego_re;

/* Compiles an RE2 (Go regexp) pattern. -EBADMSG with @err filled on bad
 * syntax, -ENOMEM. */
int rego_re_compile(const char *pat, size_t len, struct rego_re **out, char *err, size_t errlen);
void rego_re_free(struct rego_re *r);
int rego_re_groups(const struct rego_re *r);
/* 1 when the pattern matches anywhere in s[0..n). */
int rego_re_match(const struct rego_re *r, const char *s, size_t n);
/* Leftmost match at or after @start; offs receives noffs/2 (start, end)
 * pairs (group 0 first), -1 for groups that did not participate. */
int rego_re_find(const struct rego_re *r, const char *s, size_t n, size_t start, bool anchor_start, long *offs,
		 int noffs);

#ifdef __cplusplus
}
#endif

#endif
