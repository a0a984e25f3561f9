/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/policy: the launch decision point.
 *
 * Before a workload runs, the caller gathers what is known about it into
 * one input document and asks the site's Rego policy whether it may run:
 *
 *   input = {
 *     "mode":       "permissive" | "enforcing" | "attested",
 *     "image":      { "path" (as given), "realpath" (of the file open, not
 *                     of the path again), "id", "arch", "size", "primary": {...},
 *                     "signed", "verified", "reason"?, "signers": [fingerprints and key IDs] },
 *     "signatures": [ { "id", "kind", "hash", "ok", "reason"?, "fingerprint"?,
 *                       "keyids"?, "objects": [ids] } ],
 *     "host":       whatever the caller measured (arca attest status/check),
 *     "user":       { "uid", "gid", "name", "groups": [gids] },
 *     "request":    { "command", "args": [...], "options": {...}, "time_ns" }
 *   }
 *
 * The policy's answer is the value of the configured query (default
 * data.arca.launch): an object with "allow" (boolean) and optionally
 * "deny" and "warn" (sets or arrays of strings), or a bare boolean. A
 * launch is allowed when allow is true and deny is empty. What the mode
 * adds:
 *   permissive  every decision is made and logged, nothing is refused
 *   enforcing   a deny, an undefined answer or any error refuses (fail closed)
 *   attested    enforcing, and input.host.attestation.status must be "passed"
 *
 * Every decision may be appended to a hash-chained decision log: each line
 * is {"hash":"<sha256 of entry>","entry":{..., "prev": "<hash of the line
 * before>"}}, so a removed, reordered or edited line is detected by
 * policy_log_verify().
 */
#ifndef ARCA_POLICY_H
#define ARCA_POLICY_H

#include "base.h"
#include "integrity.h"
#include "sif.h"

/* ----------------------------------------------------------- configuration */

#define POLICY_CONFIG_PATH "/etc/arca/arca.toml"
#define POLICY_DEFAULT_DIR "/etc/arca/policy"
#define POLICY_DEFAULT_QUERY "data.arca.launch"
#define POLICY_DEFAULT_LOG "/var/log/arca/decisions.log"
/* Named limits for the configuration and the policy directory. */
#define POLICY_CONFIG_MAX_BYTES (1u << 20)
#define POLICY_MAX_MODULES 256
#define POLICY_MAX_MODULE_BYTES (4u << 20)
#define POLICY_MAX_DATA_BYTES (64u << 20)
#define POLICY_MAX_KEEP_MOUNTED (7u * 24 * 3600) /* [images] keep_mounted: a week, as the runtime allows */

enum policy_mode { POLICY_PERMISSIVE = 0, POLICY_ENFORCING, POLICY_ATTESTED };
const char *policy_mode_name(enum policy_mode m);

struct policy_config {
	enum policy_mode mode;
	char *dir;          /* Rego modules (*.rego) and data.json; default policy when it holds none */
	char *query;
	char *decision_log; /* "" : no log */
	uint64_t max_steps;
	unsigned timeout_ms;
	char *ecl;          /* signer gate (integrity_ecl_gate) */
	unsigned keep_mounted; /* seconds root launches keep the image mounted (0: none) */
	char *tcti;         /* TPM access for arca attest; NULL: its own default */
	char *refstate;     /* reference state for arca attest check; NULL: none */
	bool unconfigured;  /* no configuration file existed: these are the defaults */
};

/*
 * Loads @path (NULL: $ARCA_CONFIG, else POLICY_CONFIG_PATH). A missing file
 * (only when @path and $ARCA_CONFIG are both unset) gives the defaults: mode
 * enforcing, the paths above, but no decision log, so that a host nobody
 * configured has nothing written under /var/log behind its back; and
 * c->unconfigured, by which arca run knows no launch policy is set up. A present
 * file logs to POLICY_DEFAULT_LOG unless it names another decision_log
 * ("" : none), and must be valid TOML with known keys only:
 *
 *   mode = "enforcing"
 *   [policy]  dir, query, decision_log, max_steps, timeout_ms
 *   [images]  ecl, keep_mounted
 *   [attest]  tcti, refstate
 */
int policy_config_load(const char *path, struct policy_config **out, struct arca_err *e) _wur_;
/* The same from text already read. */
int policy_config_parse(const char *text, size_t len, struct policy_config **out, struct arca_err *e) _wur_;
void policy_config_free(struct policy_config *c);
static inline void policy_config_freep(struct policy_config **c) { policy_config_free(*c); }
#define _cleanup_policy_config_ _cleanup_(policy_config_freep)

/* ----------------------------------------------------------- input */

struct policy_request {
	const char *command;      /* "run", "exec", "shell", ... */
	char *const *args;        /* NULL-terminated, may be NULL */
	struct val *options;      /* borrowed object, may be NULL */
	struct val *host;         /* borrowed, may be NULL ("unavailable") */
};

/* Builds the input document for @img at @image_path, verified with @v
 * (NULL: the administrators' keys). Signature failures are facts for the
 * policy, not errors; only allocation and I/O failures return < 0. */
int policy_input(const struct policy_config *c, const char *image_path, const struct sif_image *img,
		 const struct integrity_verifier *v, const struct policy_request *req, struct val **out,
		 struct arca_err *e) _wur_;

/* ----------------------------------------------------------- decision */

struct policy_decision {
	bool allowed;      /* what the caller must do (always true in permissive mode) */
	bool policy_allow; /* what the policy said, before the mode was applied */
	struct val *result; /* the query's value (NULL: undefined or error) */
	struct val *deny;   /* array of strings, never NULL after policy_decide */
	struct val *warn;   /* array of strings, never NULL after policy_decide */
	char reason[512];   /* why not allowed, or the error that was overridden */
	bool builtin_policy; /* the embedded default policy decided */
};
void policy_decision_release(struct policy_decision *d);

/*
 * Evaluates the configured policy on @input. Returns 0 with *d filled
 * whenever a decision was reached, including a refusal (d->allowed false)
 * and an evaluation error (which refuses unless permissive). < 0 only when
 * nothing could be decided at all (allocation failure).
 */
int policy_decide(const struct policy_config *c, struct val *input, struct policy_decision *d,
		  struct arca_err *e) _wur_;

/* The policy used when the configured directory holds no module. */
extern const char policy_default_rego[];

/* ----------------------------------------------------------- one launch */

/*
 * A launch's whole decision: its input document, the decision, and whether
 * it was logged.
 */
struct policy_launch {
	struct val *input;
	struct policy_decision d;
	bool logged;              /* an entry was appended to c->decision_log */
	int log_rc;               /* < 0: the entry could not be written ... */
	char log_error[ARCA_ERR_MSG_MAX]; /* ... and why */
	bool log_refused;         /* the launch is refused because of it */
};
void policy_launch_release(struct policy_launch *l);

/*
 * The decision point of arca run|exec|shell, for the image @img already
 * open at @image_path: policy_input(), policy_decide(), then one entry in
 * c->decision_log when it names one ("" : no log).
 *
 * The log is part of the decision. When its entry cannot be written the
 * launch is refused (l->log_refused, l->d.allowed false, the reason in
 * l->d.reason) unless the mode is permissive, or the caller is @advisory
 * and the log is simply not writable for it (EACCES, EPERM, EROFS): arca
 * passes advisory for unprivileged users, whose launch the policy cannot
 * really stop (they could start the same image with any other tool) and
 * who are not expected to be able to write the site's log. Either way
 * l->log_rc and l->log_error say what failed.
 *
 * Returns 0 whenever a decision was reached (allowed or not); < 0 only when
 * none could be (allocation failure, unreadable image): callers refuse.
 */
int policy_launch(const struct policy_config *c, const char *image_path, const struct sif_image *img,
		  const struct policy_request *req, bool advisory, struct policy_launch *l,
		  struct arca_err *e) _wur_;

/* ----------------------------------------------------------- decision log */

/* Appends one entry (input, result, allowed, mode, time) under an
 * exclusive lock, chained to the last line; creates the file 0600 and its
 * directory. */
int policy_log_append(const char *path, const struct policy_config *c, const struct val *input,
		      const struct policy_decision *d, struct arca_err *e) _wur_;
/* Checks every line's hash and chain; *n receives the number of entries.
 * -EBADMSG names the first line that does not check. */
int policy_log_verify(const char *path, size_t *n, struct arca_err *e) _wur_;

#endif
