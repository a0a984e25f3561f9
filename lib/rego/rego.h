/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/rego: an embedded evaluator for OPA's policy language, Rego.
 *
 * Usage: rego_new(); rego_add_module() for each policy file; optionally
 * rego_set_data(); rego_compile(); then rego_prepare() a query once and
 * rego_query_eval() it as often as needed with different inputs. A compiled
 * struct rego is read-only during evaluation; one struct rego_query may be
 * evaluated by one thread at a time (it keeps its evaluation scratch, such
 * as the per-rule memo table, between evaluations).
 *
 * Errors: -EBADMSG parse/compile errors, -EINVAL evaluation errors (type,
 * builtin, conflict), -E2BIG a limit (step budget, depth), -ETIME the
 * deadline. The arca_err message starts with OPA's error code, e.g.
 * "eval_conflict_error: complete rules must not produce multiple outputs".
 */
#ifndef ARCA_REGO_H
#define ARCA_REGO_H

#include "base.h"

struct rego;
struct rego_query;

/* Named limits that keep a hostile policy or input from hanging a launch. */
#define REGO_DEFAULT_MAX_STEPS 10000000ULL   /* evaluation steps per query */
#define REGO_DEFAULT_TIMEOUT_MS 2000u        /* wall-clock deadline per query */

struct rego_limits {
	uint64_t max_steps;  /* 0: unlimited */
	unsigned timeout_ms; /* 0: no deadline */
};

enum {
	REGO_V0 = 1u << 0,          /* parse modules/queries with v0 syntax */
	REGO_STRICT_BUILTINS = 1u << 1, /* builtin errors abort evaluation */
};

/* A new, empty engine. NULL on allocation failure. */
struct rego *rego_new(void);
void rego_free(struct rego *r);

/* Parses @src (a module named @name for messages) and adds it. @flags:
 * REGO_V0. Must be called before rego_compile(). */
int rego_add_module(struct rego *r, const char *name, const char *src, size_t len, unsigned flags,
		    struct arca_err *e);
/* Sets the base document (data). Takes a reference; must be an object. */
int rego_set_data(struct rego *r, struct val *data, struct arca_err *e);
void rego_set_limits(struct rego *r, const struct rego_limits *lim);
/* Builds the rule tree and runs compile-time checks. */
int rego_compile(struct rego *r, struct arca_err *e);

/* Parses @query (a Rego body such as "data.arca.allow" or "x := data.p[_]"). */
int rego_prepare(struct rego *r, const char *query, size_t len, unsigned flags, struct rego_query **out,
		 struct arca_err *e);
void rego_query_free(struct rego_query *q);

/*
 * Evaluates a prepared query with @input (borrowed; NULL = undefined input).
 * On success *out receives an array (owned by the caller) with one object
 * per solution mapping each named query variable to its value; when the
 * query names no variables, each solution is an empty object. An empty
 * array means undefined. As in OPA, a query of one expression that is a
 * term or a call (data.p.allow, 1 > 2) and does not iterate has a solution
 * when its value is false; rego_query_value() returns that value.
 * @flags: REGO_STRICT_BUILTINS.
 */
int rego_query_eval(struct rego_query *q, struct val *input, unsigned flags, struct val **out,
		    struct arca_err *e);

/*
 * Convenience for a decision: evaluates the single reference @query and
 * returns its value in *out (NULL when undefined).
 */
int rego_query_value(struct rego_query *q, struct val *input, struct val **out, struct arca_err *e);

/* After rego_compile(): the full names ("data.pkg.test_x") of all rules
 * whose name starts with @prefix, sorted, as a new array of strings. */
int rego_rule_names(struct rego *r, const char *prefix, struct val **out);

/* Parses a ground Rego term such as {1, "a"} or set() into a value. */
int rego_parse_term(const char *src, size_t len, struct val **out, struct arca_err *e);

/* Appends the Rego text form of @v (sets as {...}, set() when empty). */
void rego_val_text(const struct val *v, struct buf *out);

#endif
