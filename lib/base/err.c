/* SPDX-License-Identifier: Apache-2.0 */
#include "base.h"

static void err_vset(struct arca_err *e, int code, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
static void err_vset(struct arca_err *e, int code, const char *fmt, va_list ap)
{
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

/* dst = a ": " b, truncated to the message size (truncation is acceptable
 * for a human-readable message). */
static void msg_join(char *dst, const char *a, const char *b)
{
	size_t cap = ARCA_ERR_MSG_MAX - 1, o = 0;
	const char *parts[3] = { a, ": ", b };
	for (int i = 0; i < 3; i++)
		for (const char *c = parts[i]; *c && o < cap; c++)
			dst[o++] = *c;
	dst[o] = '\0';
}

int err_set(struct arca_err *e, int code, const char *fmt, ...)
{
	BUG_ON(code >= 0);
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		err_vset(e, code, fmt, ap);
		va_end(ap);
	}
	return code;
}

int err_setsys(struct arca_err *e, int code, const char *fmt, ...)
{
	BUG_ON(code >= 0);
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		err_vset(e, code, fmt, ap);
		va_end(ap);
		char head[ARCA_ERR_MSG_MAX];
		memcpy(head, e->msg, sizeof(head));
		msg_join(e->msg, head, strerror(-code));
	}
	return code;
}

int err_wrap(struct arca_err *e, int code, const char *fmt, ...)
{
	if (!e)
		return code;
	char prefix[ARCA_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (!e->code || !e->msg[0]) {
		e->code = code;
		msg_join(e->msg, prefix, strerror(code < 0 ? -code : code));
		return code;
	}
	char old[ARCA_ERR_MSG_MAX];
	memcpy(old, e->msg, sizeof(old));
	msg_join(e->msg, prefix, old);
	return e->code;
}

const char *err_msg(const struct arca_err *e)
{
	if (!e)
		return "unknown error";
	if (e->msg[0])
		return e->msg;
	return strerror(e->code < 0 ? -e->code : e->code);
}

void err_clear(struct arca_err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

_Noreturn void arca_bug(const char *file, int line, const char *what)
{
	fprintf(stderr, "arca: BUG at %s:%d: %s\n", file, line, what);
	abort();
}

void secure_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

bool ct_memeq(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return d == 0;
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap, size_t *outlen)
{
	if (inlen % 2)
		return -EBADMSG;
	if (inlen / 2 > outcap)
		return -E2BIG;
	for (size_t i = 0; i < inlen / 2; i++) {
		int hi = hex_digit(in[2 * i]), lo = hex_digit(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EBADMSG;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (outlen)
		*outlen = inlen / 2;
	return 0;
}
