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
