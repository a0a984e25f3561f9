/* SPDX-License-Identifier: Apache-2.0 */
#include "cmd.h"

#include <getopt.h>

bool cmd_quiet;
bool cmd_verbose;

void cmd_error(const char *fmt, ...)
{
	va_list ap;
	fputs("arca: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cmd_warn(const char *fmt, ...)
{
	va_list ap;
	if (cmd_quiet)
		return;
	fputs("arca: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cmd_fail(const struct arca_err *e, int code, const char *what)
{
	if (e && e->code && e->msg[0])
		cmd_error("%s: %s", what, e->msg);
	else
		cmd_error("%s: %s", what, strerror(code < 0 ? -code : code));
	return 1;
}

int cmd_out(const struct buf *b)
{
	if (buf_error(b) < 0) {
		cmd_error("out of memory");
		return 1;
	}
	if (fd_write_full(STDOUT_FILENO, b->p, b->len) < 0) {
		cmd_error("writing output: %s", strerror(errno));
		return 1;
	}
	return 0;
}

int cmd_getopt(int argc, char **argv, const struct cmd_opt *opts, size_t n, const char *usage)
{
	struct option lo[CMD_OPTS_MAX + 2];
	char shorts[2 * CMD_OPTS_MAX + 2] = "h";
	size_t ns = 1;
	BUG_ON(n > CMD_OPTS_MAX);
	/* getopt's val is the table index offset past every short option
	 * character, so one switch-free loop serves all verbs. */
	enum { FIRST = 256, HELP = FIRST + CMD_OPTS_MAX };
	for (size_t i = 0; i < n; i++) {
		BUG_ON(!opts[i].str == !opts[i].flag);
		lo[i] = (struct option){ opts[i].name, opts[i].str ? required_argument : no_argument, NULL,
					 FIRST + (int)i };
		if (opts[i].letter) {
			shorts[ns++] = opts[i].letter;
			if (opts[i].str)
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = '\0';
	lo[n] = (struct option){ "help", no_argument, NULL, HELP };
	lo[n + 1] = (struct option){ 0 };
	int c;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (c == 'h' || c == HELP) {
			fputs(usage, stdout);
			return 0;
		}
		const struct cmd_opt *o = NULL;
		if (c >= FIRST && c < FIRST + (int)n)
			o = &opts[c - FIRST];
		for (size_t i = 0; !o && c > 0 && c < FIRST && i < n; i++)
			if (opts[i].letter == c)
				o = &opts[i];
		if (!o)
			return EXIT_USAGE; /* getopt already said what was wrong */
		if (o->str)
			*o->str = optarg;
		else
			*o->flag = true;
	}
	return -1;
}
