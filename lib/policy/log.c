/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hash-chained decision log. One line per decision:
 *
 *   {"hash":"<64 hex>","entry":<entry JSON>}
 *
 * where hash = SHA-256 of the entry's exact bytes and the entry holds
 * "prev", the hash of the line before (64 zeros for the first) and "seq".
 * Hashing the bytes as written, rather than a re-serialisation, keeps the
 * check independent of any JSON canonicalisation.
 */
#include "policy.h"

#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define HASH_HEX 64
#define LINE_PREFIX "{\"hash\":\""
#define LINE_MIDDLE "\",\"entry\":"
/* Named limit: one log line (the input document dominates). */
#define POLICY_LOG_MAX_LINE (16u << 20)
/* Named limit: a whole log read back for verification. */
#define POLICY_LOG_MAX_BYTES (1ull << 32)

static int sha256_hex(const char *p, size_t n, char out[HASH_HEX + 1])
{
	uint8_t md[32];
	unsigned len = 0;
	if (!EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) || len != sizeof(md))
		return -EIO;
	hex_encode(md, sizeof(md), out);
	return 0;
}

/* Splits one line into its hash and entry; -EBADMSG when it is not a log
 * line. */
static int split_line(const char *line, size_t n, const char **hash, const char **entry, size_t *entry_len)
{
	size_t pre = strlen(LINE_PREFIX), mid = strlen(LINE_MIDDLE);
	if (n < pre + HASH_HEX + mid + 3 || memcmp(line, LINE_PREFIX, pre) != 0 ||
	    memcmp(line + pre + HASH_HEX, LINE_MIDDLE, mid) != 0 || line[n - 1] != '}')
		return -EBADMSG;
	*hash = line + pre;
	*entry = line + pre + HASH_HEX + mid;
	*entry_len = n - 1 - (pre + HASH_HEX + mid);
	return 0;
}

/* Reads the last line of @fd (without its newline) into @out. */
static int last_line(int fd, struct buf *out, struct arca_err *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_setsys(e, -errno, "stat decision log");
	uint64_t end = (uint64_t)st.st_size;
	if (end == 0)
		return 0;
	char c;
	if (fd_pread_full(fd, &c, 1, end - 1) < 0 || c != '\n')
		return err_set(e, -EBADMSG, "decision log does not end with a complete line");
	end--;
	uint64_t start = end;
	char chunk[4096];
	while (start > 0) {
		size_t n = start > sizeof(chunk) ? sizeof(chunk) : (size_t)start;
		if (fd_pread_full(fd, chunk, n, start - n) < 0)
			return err_setsys(e, -EIO, "reading decision log");
		const char *nl = memrchr(chunk, '\n', n);
		if (nl) {
			start = start - n + (uint64_t)(nl - chunk) + 1;
			break;
		}
		start -= n;
		if (end - start > POLICY_LOG_MAX_LINE)
			return err_set(e, -E2BIG, "decision log line longer than %u bytes", POLICY_LOG_MAX_LINE);
	}
	if (end - start > POLICY_LOG_MAX_LINE)
		return err_set(e, -E2BIG, "decision log line longer than %u bytes", POLICY_LOG_MAX_LINE);
	if (!buf_grow(out, (size_t)(end - start) + 1))
		return err_set(e, -ENOMEM, "out of memory");
	if (fd_pread_full(fd, out->p, (size_t)(end - start), start) < 0)
		return err_setsys(e, -EIO, "reading decision log");
	out->len = (size_t)(end - start);
	out->p[out->len] = '\0';
	return 0;
}

static int mkdir_parent(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	char *dir = dirname(copy);
	int rc = 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		rc = -errno;
	free(copy);
	return rc;
}

int policy_log_append(const char *path, const struct policy_config *c, const struct val *input,
		      const struct policy_decision *d, struct arca_err *e)
{
	int rc = mkdir_parent(path);
	if (rc < 0)
		return err_setsys(e, rc, "creating the directory of '%s'", path);
	_cleanup_close_ int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_setsys(e, -errno, "opening decision log '%s'", path);
	/* One writer at a time, or two launches would chain to the same line. */
	if (flock(fd, LOCK_EX) < 0)
		return err_setsys(e, -errno, "locking decision log '%s'", path);

	_cleanup_buf_ struct buf last = BUF_INIT;
	char prev[HASH_HEX + 1];
	memset(prev, '0', HASH_HEX);
	prev[HASH_HEX] = '\0';
	int64_t seq = 1;
	if ((rc = last_line(fd, &last, e)) < 0)
		return err_wrap(e, rc, "'%s'", path);
	if (last.len) {
		const char *h, *ent;
		size_t elen;
		_cleanup_val_ struct val *pe = NULL;
		int64_t pseq;
		if (split_line(last.p, last.len, &h, &ent, &elen) < 0 ||
		    val_from_json(ent, elen, NULL, &pe, NULL) < 0 ||
		    !val_get_int(val_object_get_cstr(pe, "seq"), &pseq))
			return err_set(e, -EBADMSG, "'%s': the last line is not a decision log entry", path);
		memcpy(prev, h, HASH_HEX);
		seq = pseq + 1;
	}

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[64];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);

	_cleanup_buf_ struct buf entry = BUF_INIT;
	buf_addf(&entry, "{\"allowed\":%s,\"builtin_policy\":%s,\"deny\":", d->allowed ? "true" : "false",
		 d->builtin_policy ? "true" : "false");
	val_to_json(d->deny, &entry, 0);
	buf_addstr(&entry, ",\"input\":");
	val_to_json(input, &entry, 0);
	buf_addf(&entry, ",\"mode\":\"%s\",\"policy_allow\":%s,\"prev\":\"%s\",\"query\":", policy_mode_name(c->mode),
		 d->policy_allow ? "true" : "false", prev);
	json_quote(&entry, c->query, strlen(c->query), 0);
	buf_addstr(&entry, ",\"reason\":");
	json_quote(&entry, d->reason, strlen(d->reason), 0);
	buf_addstr(&entry, ",\"result\":");
	if (d->result)
		val_to_json(d->result, &entry, 0);
	else
		buf_addstr(&entry, "null");
	buf_addf(&entry, ",\"seq\":%" PRId64 ",\"time\":\"%s\",\"warn\":", seq, when);
	val_to_json(d->warn, &entry, 0);
	buf_addch(&entry, '}');
	if (buf_error(&entry) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	if (entry.len > POLICY_LOG_MAX_LINE)
		return err_set(e, -E2BIG, "decision log entry longer than %u bytes", POLICY_LOG_MAX_LINE);

	char hash[HASH_HEX + 1];
	if (sha256_hex(entry.p, entry.len, hash) < 0)
		return err_set(e, -EIO, "sha256 failed");
	_cleanup_buf_ struct buf line = BUF_INIT;
	buf_addf(&line, LINE_PREFIX "%s" LINE_MIDDLE, hash);
	buf_add(&line, entry.p, entry.len);
	buf_addstr(&line, "}\n");
	if (buf_error(&line) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	/* A single append of the whole line, then fsync: a crash leaves at most
	 * a torn last line, which the next append and verify report. */
	if ((rc = fd_write_full(fd, line.p, line.len)) < 0)
		return err_setsys(e, rc, "writing decision log '%s'", path);
	if (fsync(fd) < 0)
		return err_setsys(e, -errno, "fsync decision log '%s'", path);
	return 0;
}

int policy_log_verify(const char *path, size_t *n, struct arca_err *e)
{
	_cleanup_buf_ struct buf all = BUF_INIT;
	int rc = file_read_all(path, (size_t)POLICY_LOG_MAX_BYTES, &all, e);
	if (rc < 0)
		return rc;
	char prev[HASH_HEX + 1];
	memset(prev, '0', HASH_HEX);
	prev[HASH_HEX] = '\0';
	size_t count = 0, off = 0;
	while (off < all.len) {
		const char *line = all.p + off;
		const char *nl = memchr(line, '\n', all.len - off);
		size_t lineno = count + 1;
		if (!nl)
			return err_set(e, -EBADMSG, "%s: line %zu is incomplete", path, lineno);
		size_t len = (size_t)(nl - line);
		off += len + 1;
		const char *h, *ent;
		size_t elen;
		if (split_line(line, len, &h, &ent, &elen) < 0)
			return err_set(e, -EBADMSG, "%s: line %zu is not a decision log entry", path, lineno);
		char got[HASH_HEX + 1];
		if (sha256_hex(ent, elen, got) < 0)
			return err_set(e, -EIO, "sha256 failed");
		if (memcmp(got, h, HASH_HEX) != 0)
			return err_set(e, -EBADMSG, "%s: line %zu was modified (hash mismatch)", path, lineno);
		_cleanup_val_ struct val *v = NULL;
		int64_t seq;
		const char *p;
		if (val_from_json(ent, elen, NULL, &v, NULL) < 0 || !val_get_int(val_object_get_cstr(v, "seq"), &seq) ||
		    !(p = val_str(val_object_get_cstr(v, "prev"))))
			return err_set(e, -EBADMSG, "%s: line %zu is not a decision log entry", path, lineno);
		if (strcmp(p, prev) != 0)
			return err_set(e, -EBADMSG, "%s: line %zu does not follow line %zu (a line was removed or reordered)",
				       path, lineno, lineno - 1);
		if (seq != (int64_t)lineno)
			return err_set(e, -EBADMSG, "%s: line %zu has sequence number %" PRId64, path, lineno, seq);
		memcpy(prev, h, HASH_HEX);
		count++;
	}
	*n = count;
	return 0;
}
