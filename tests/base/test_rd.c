/* SPDX-License-Identifier: Apache-2.0 */
#include "base.h"
#include "testlib.h"

static void reads_little_and_big_endian(void)
{
	const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct rd r = rd_make(b, sizeof(b));
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;
	CHECK_RC(rd_u32le(&r, &u32), 0);
	CHECK(u32 == 0x04030201);
	CHECK_RC(rd_u16be(&r, &u16), 0);
	CHECK(u16 == 0x0506);
	CHECK_RC(rd_u8(&r, &u8), 0);
	CHECK(u8 == 7);
	CHECK(r.left == 2);
}

static void short_read_consumes_nothing(void)
{
	const uint8_t b[] = { 1, 2, 3 };
	struct rd r = rd_make(b, sizeof(b));
	uint32_t u32;
	uint64_t u64;
	CHECK_RC(rd_u32le(&r, &u32), -EBADMSG);
	CHECK_RC(rd_u64be(&r, &u64), -EBADMSG);
	CHECK(r.left == 3);
	const uint8_t *p;
	CHECK_RC(rd_bytes(&r, 4, &p), -EBADMSG);
	CHECK_RC(rd_bytes(&r, SIZE_MAX, &p), -EBADMSG);
	CHECK_RC(rd_bytes(&r, 3, &p), 0);
	CHECK(r.left == 0 && p == b);
}

static void sub_reader_is_bounded(void)
{
	const uint8_t b[] = { 1, 2, 3, 4, 5, 6 };
	struct rd r = rd_make(b, sizeof(b)), s;
	uint32_t u32;
	CHECK_RC(rd_sub(&r, 2, &s), 0);
	CHECK(r.left == 4);
	CHECK_RC(rd_u32le(&s, &u32), -EBADMSG);
	CHECK_RC(rd_sub(&r, 5, &s), -EBADMSG);
}

static void range_and_overflow(void)
{
	CHECK(range_ok(0, 10, 10));
	CHECK(!range_ok(1, 10, 10));
	CHECK(!range_ok(UINT64_MAX, 2, 10));
	CHECK(!range_ok(5, UINT64_MAX, 10));
	size_t r;
	CHECK(!ck_add(SIZE_MAX, 1, &r));
	CHECK(!ck_mul(SIZE_MAX / 2 + 1, 2, &r));
	uint64_t a;
	CHECK(ck_align64(13, 8, &a) && a == 16);
	CHECK(ck_align64(16, 8, &a) && a == 16);
	CHECK(!ck_align64(UINT64_MAX, 4096, &a));
}

int main(void)
{
	RUN(reads_little_and_big_endian);
	RUN(short_read_consumes_nothing);
	RUN(sub_reader_is_bounded);
	RUN(range_and_overflow);
	TL_DONE();
}
