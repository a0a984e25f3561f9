/* SPDX-License-Identifier: Apache-2.0 */
#include "base.h"
#include "testlib.h"

static void empty_is_terminated(void)
{
	struct buf b = BUF_INIT;
	CHECK(b.p != NULL);
	CHECK(b.p[0] == '\0');
	CHECK(b.len == 0);
	buf_release(&b);
	CHECK(b.p == buf_empty_slot);
}

static void appends_and_detaches(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	buf_addstr(&b, "abc");
	buf_addch(&b, '-');
	buf_addf(&b, "%d/%s", 42, "x");
	for (int i = 0; i < 1000; i++)
		buf_addch(&b, 'z');
	CHECK(buf_error(&b) == 0);
	CHECK(b.len == 3 + 1 + 4 + 1000);
	CHECK(memcmp(b.p, "abc-42/x", 8) == 0);
	CHECK(b.p[b.len] == '\0');
	size_t n;
	char *p = buf_detach(&b, &n);
	CHECK(n == 1008);
	CHECK(b.len == 0 && b.p == buf_empty_slot);
	free(p);
	p = buf_detach(&b, &n);
	CHECK(p && p[0] == '\0' && n == 0);
	free(p);
}

static void long_format(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	char big[1000];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_addf(&b, "<%s>", big);
	CHECK(b.len == 1001);
	CHECK(b.p[0] == '<' && b.p[1000] == '>');
}

static void overflowing_grow_sets_oom(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	buf_addstr(&b, "x");
	CHECK(!buf_grow(&b, SIZE_MAX));
	CHECK(buf_error(&b) == -ENOMEM);
	buf_addstr(&b, "ignored");
	CHECK(b.len == 1);
}

static void hex_roundtrip(void)
{
	uint8_t in[] = { 0, 1, 0xab, 0xff }, out[4];
	char h[9];
	size_t n;
	hex_encode(in, 4, h);
	CHECK_STR(h, "0001abff");
	CHECK_RC(hex_decode("0001ABff", 8, out, sizeof(out), &n), 0);
	CHECK(n == 4 && memcmp(in, out, 4) == 0);
	CHECK_RC(hex_decode("0g", 2, out, sizeof(out), &n), -EBADMSG);
	CHECK_RC(hex_decode("000", 3, out, sizeof(out), &n), -EBADMSG);
	CHECK_RC(hex_decode("0000000000", 10, out, sizeof(out), &n), -E2BIG);
}

static void errors_wrap(void)
{
	struct arca_err e = { 0 };
	CHECK_RC(err_set(&e, -EBADMSG, "bad field '%s'", "x"), -EBADMSG);
	CHECK_RC(err_wrap(&e, -EIO, "image '%s'", "a.sif"), -EBADMSG);
	CHECK_STR(e.msg, "image 'a.sif': bad field 'x'");
	err_clear(&e);
	CHECK_RC(err_wrap(&e, -ENOENT, "open"), -ENOENT);
	CHECK(strstr(e.msg, "open: ") == e.msg);
	CHECK(ct_memeq("abc", "abc", 3));
	CHECK(!ct_memeq("abc", "abd", 3));
}

int main(void)
{
	RUN(empty_is_terminated);
	RUN(appends_and_detaches);
	RUN(long_format);
	RUN(overflowing_grow_sets_oom);
	RUN(hex_roundtrip);
	RUN(errors_wrap);
	TL_DONE();
}
