/* SPDX-License-Identifier: Apache-2.0 */
#include "base.h"
#include "testlib.h"

#include <sys/stat.h>

static void atomic_write_replaces(void)
{
	char dir[] = "/tmp/arca-test-XXXXXX";
	REQUIRE(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/f", dir);
	struct arca_err e = { 0 };
	CHECK_RC(file_write_atomic(path, "one", 3, 0600, &e), 0);
	CHECK_RC(file_write_atomic(path, "second", 6, 0644, &e), 0);
	_cleanup_buf_ struct buf b = BUF_INIT;
	CHECK_RC(file_read_all(path, 100, &b, &e), 0);
	CHECK_STR(b.p, "second");
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	buf_reset(&b);
	CHECK_RC(file_read_all(path, 3, &b, &e), -E2BIG);
	CHECK_RC(file_read_all("/nonexistent/x", 3, &b, &e), -ENOENT);
	CHECK(strstr(e.msg, "/nonexistent/x") != NULL);
	/* a failed write leaves the old file intact and no temporary behind */
	char bad[300];
	snprintf(bad, sizeof(bad), "%s/nodir/f", dir);
	CHECK(file_write_atomic(bad, "x", 1, 0600, &e) < 0);
	unlink(path);
	CHECK(rmdir(dir) == 0);
}

int main(void)
{
	RUN(atomic_write_replaces);
	TL_DONE();
}
