/* SPDX-License-Identifier: Apache-2.0 */
#include "cmd.h"

#include <fcntl.h>
#include <getopt.h>
#include <termios.h>

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

int cmd_parse_u32(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-')
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int cmd_add_id(const char *verb, const char *arg, uint32_t *ids, size_t *n, size_t max)
{
	uint32_t v;
	if (cmd_parse_u32(arg, &v) < 0 || v == 0) {
		cmd_error("%s: bad ID '%s'", verb, arg);
		return -1;
	}
	if (*n >= max) {
		cmd_error("%s: too many IDs", verb);
		return -1;
	}
	ids[(*n)++] = v;
	return 0;
}

char *cmd_prompt_passphrase(const char *prompt)
{
	_cleanup_close_ int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	struct termios old, quiet;
	bool have_term = tcgetattr(fd, &old) == 0;
	if (have_term) {
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	(void)!write(fd, prompt, strlen(prompt));
	char *p = calloc(1, CMD_PASSPHRASE_MAX);
	size_t n = 0;
	while (p && n + 1 < CMD_PASSPHRASE_MAX) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r <= 0 || c == '\n')
			break;
		p[n++] = c;
	}
	if (have_term)
		tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	return p;
}
