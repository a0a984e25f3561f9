/* SPDX-License-Identifier: Apache-2.0 */
#include "base.h"

char buf_empty_slot[1];

void buf_init(struct buf *b) { *b = (struct buf)BUF_INIT; }

void buf_release(struct buf *b)
{
	if (b->cap)
		free(b->p);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->oom = false;
	b->p[0] = '\0';
}

bool buf_grow(struct buf *b, size_t extra)
{
	size_t need;
	if (b->oom)
		return false;
	if (!ck_add(b->len, extra, &need) || !ck_add(need, 1, &need))
		goto fail;
	if (need <= b->cap)
		return true;
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < need) {
		if (!ck_mul(ncap, 2, &ncap))
			goto fail;
	}
	char *np = realloc(b->cap ? b->p : NULL, ncap);
	if (!np)
		goto fail;
	if (!b->cap)
		np[0] = '\0';
	b->p = np;
	b->cap = ncap;
	return true;
fail:
	b->oom = true;
	return false;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0 || !buf_grow(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void buf_addstr(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

void buf_addch(struct buf *b, char c) { buf_add(b, &c, 1); }

void buf_addzero(struct buf *b, size_t n)
{
	if (n == 0 || !buf_grow(b, n))
		return;
	memset(b->p + b->len, 0, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void buf_add_utf8(struct buf *b, uint32_t cp)
{
	char o[4];
	size_t n;
	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		o[0] = (char)(0xF0 | cp >> 18);
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_add(b, o, n);
}

size_t utf8_seq(const unsigned char *s, size_t left, uint32_t *cp_out)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp, min;
	if (c < 0x80) {
		*cp_out = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		n = 2;
		cp = c & 0x1F;
		min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3;
		cp = c & 0x0F;
		min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	*cp_out = cp;
	return n;
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	char small[256];
	va_copy(cp, ap);
	int n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		buf_add(b, small, (size_t)n);
		return;
	}
	if (!buf_grow(b, (size_t)n))
		return;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void buf_setlen(struct buf *b, size_t len)
{
	BUG_ON(len > b->len);
	b->len = len;
	b->p[len] = '\0';
}

char *buf_detach(struct buf *b, size_t *len_out)
{
	char *p;
	if (b->oom) {
		buf_release(b);
		return NULL;
	}
	if (!b->cap) {
		p = calloc(1, 1);
	} else {
		p = b->p;
	}
	if (len_out)
		*len_out = b->len;
	buf_init(b);
	return p;
}
