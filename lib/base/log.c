/* SPDX-License-Identifier: Apache-2.0 */
#include "base.h"

/* Set only by the program (cmd/), never from the environment, so privileged
 * code paths cannot be made chatty by an unprivileged caller. */
static enum log_level current = LOG_WARN;

void log_set_level(enum log_level l) { current = l; }
enum log_level log_get_level(void) { return current; }

void log_msg(enum log_level l, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	if (l > current)
		return;
	va_list ap;
	fprintf(stderr, "arca: %s: ", names[l]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
