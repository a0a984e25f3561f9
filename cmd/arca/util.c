/* SPDX-License-Identifier: Apache-2.0 */
#include "cmd.h"

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
