/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The arca command line. Each verb lives in its own file and exports
 * `int cmd_<verb>(int argc, char **argv)` returning the process exit status
 * (argv[0] is the verb itself). Only cmd/ prints and exits.
 *
 * Exit codes: 0 success, 1 failure (verification refused, check failed,
 * error), 2 usage error.
 */
#ifndef ARCA_CMD_H
#define ARCA_CMD_H

#include "base.h"

#define EXIT_USAGE 2

int cmd_sif(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_mounts(int argc, char **argv);
int cmd_shell(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_attest(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Prints "arca: <msg>" to stderr (the single place errors are reported). */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cmd_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports @e (or the code's strerror) with a prefix and returns 1. */
int cmd_fail(const struct arca_err *e, int code, const char *what);
/* Writes the whole buffer to stdout; returns 0 or 1 on a write error. */
int cmd_out(const struct buf *b);

/*
 * A verb's long options as a table: a string option stores its argument in
 * *str (the last one given wins), a flag sets *flag; @letter, when not 0,
 * is its short form. cmd_getopt() parses argv with them plus --help/-h,
 * which prints @usage to stdout.
 */
struct cmd_opt {
	const char *name;
	const char **str;
	bool *flag;
	char letter;
};
#define CMD_OPT_STR(n, p) { (n), (p), NULL, 0 }
#define CMD_OPT_STRC(n, c, p) { (n), (p), NULL, (c) }
#define CMD_OPT_FLAG(n, p) { (n), NULL, (p), 0 }
#define CMD_OPTS_MAX 32
/* Returns -1 when the verb goes on (operands start at optind), else the
 * exit status to return at once: 0 after --help, EXIT_USAGE on a bad option. */
int cmd_getopt(int argc, char **argv, const struct cmd_opt *opts, size_t n, const char *usage);

/* A decimal uint32_t operand: digits only, no sign, no overflow (-EINVAL). */
int cmd_parse_u32(const char *s, uint32_t *out);
/* --group-id/--sif-id style options: appends the non-zero ID in @arg to
 * @ids (at most @max); prints why and returns -1 otherwise. */
int cmd_add_id(const char *verb, const char *arg, uint32_t *ids, size_t *n, size_t max);
/* Reads a passphrase from the terminal without echo (at most
 * CMD_PASSPHRASE_MAX - 1 bytes); NULL when there is no terminal. The
 * caller wipes and frees it. */
#define CMD_PASSPHRASE_MAX 1024
char *cmd_prompt_passphrase(const char *prompt);

/* policy.c, for run.c too: input.host for the configured mode (NULL but in
 * attested mode, which quotes the TPM); -ENOMEM only. */
struct policy_config;
int cmd_policy_host(const struct policy_config *c, struct val **out);

/* Global flags parsed by main before the verb. */
extern bool cmd_quiet;
extern bool cmd_verbose;

#endif
