/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/base: the pieces every other arca subsystem stands on.
 *
 *  - struct arca_err: negative-errno return codes plus a human message
 *  - cleanup attributes and ownership transfer (TAKE_PTR, TAKE_FD)
 *  - overflow-checked size arithmetic
 *  - struct rd: the only way untrusted bytes are decoded
 *  - struct buf: a growable byte buffer with a sticky allocation error
 *  - files: bounded whole-file reads, crash-safe atomic writes
 *  - secrets: wiping and constant-time compares
 *  - struct val: the JSON/Rego value model (null, bool, number, string,
 *    array, object, set) with a bounded JSON parser and serializer
 *
 * Library code never prints above debug level and never exits.
 */
#ifndef ARCA_BASE_H
#define ARCA_BASE_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define ARCA_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- errors */

#define ARCA_ERR_MSG_MAX 1024

/*
 * Error object passed last to fallible functions; may be NULL. Functions
 * return >= 0 on success and a negative errno on failure; when they fail and
 * @e is non-NULL, e->msg says why. Conventional codes: -EBADMSG malformed
 * input, -E2BIG a named limit was hit, -EPERM a verification or policy
 * refusal, -ENOMEM allocation failure.
 */
struct arca_err {
	int code;
	char msg[ARCA_ERR_MSG_MAX];
};

/* Sets the message (printf-style) and returns @code, so callers can write
 * `return err_set(e, -EBADMSG, "...")`. @code must be negative. */
int err_set(struct arca_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like err_set() but appends ": strerror(-code)". */
int err_setsys(struct arca_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes context to an existing message ("ctx: old"); returns e->code, or
 * @code when @e is NULL or holds no message. */
int err_wrap(struct arca_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The message, or strerror(-code) when none was set. Never NULL. */
const char *err_msg(const struct arca_err *e);
void err_clear(struct arca_err *e);

/* Broken invariant: a bug in arca, not bad input. Aborts. */
#define BUG_ON(cond)                                                          \
	do {                                                                      \
		if (__builtin_expect(!!(cond), 0))                                    \
			arca_bug(__FILE__, __LINE__, #cond);                              \
	} while (0)
_Noreturn void arca_bug(const char *file, int line, const char *what);

/* ---------------------------------------------------------------- cleanup */

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _wur_ __attribute__((warn_unused_result))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define TAKE_PTR(p)                                                           \
	({                                                                        \
		__typeof__(p) _take_tmp = (p);                                        \
		(p) = NULL;                                                           \
		_take_tmp;                                                            \
	})
#define TAKE_FD(fd)                                                           \
	({                                                                        \
		int _take_fd = (fd);                                                  \
		(fd) = -1;                                                            \
		_take_fd;                                                             \
	})

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* ------------------------------------------------------ checked arithmetic */

/* Each returns false (and leaves *r unspecified) when the result overflows. */
static inline _wur_ bool ck_add(size_t a, size_t b, size_t *r) { return !__builtin_add_overflow(a, b, r); }
static inline _wur_ bool ck_mul(size_t a, size_t b, size_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline _wur_ bool ck_add64(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_add_overflow(a, b, r); }
static inline _wur_ bool ck_mul64(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline _wur_ bool ck_addi64(int64_t a, int64_t b, int64_t *r) { return !__builtin_add_overflow(a, b, r); }

/* True when [off, off+n) lies within [0, len). Written so it cannot overflow. */
static inline bool range_ok(uint64_t off, uint64_t n, uint64_t len) { return off <= len && n <= len - off; }

/* Round @v up to a multiple of @align (a power of two or any non-zero value);
 * false on overflow. */
static inline _wur_ bool ck_align64(uint64_t v, uint64_t align, uint64_t *r)
{
	if (align <= 1) {
		*r = v;
		return true;
	}
	uint64_t rem = v % align;
	if (rem == 0) {
		*r = v;
		return true;
	}
	return ck_add64(v, align - rem, r);
}

/* ---------------------------------------------------------- bounded reader */

/*
 * The only way arca decodes untrusted bytes. Every read either succeeds
 * fully or fails with -EBADMSG and consumes nothing.
 */
struct rd {
	const uint8_t *p;
	size_t left;
};

static inline struct rd rd_make(const void *p, size_t n) { return (struct rd){ (const uint8_t *)p, n }; }

static inline _wur_ int rd_bytes(struct rd *r, size_t n, const uint8_t **out)
{
	if (n > r->left)
		return -EBADMSG;
	if (out)
		*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}
static inline _wur_ int rd_skip(struct rd *r, size_t n) { return rd_bytes(r, n, NULL); }
static inline _wur_ int rd_copy(struct rd *r, void *dst, size_t n)
{
	const uint8_t *p;
	int rc = rd_bytes(r, n, &p);
	if (rc < 0)
		return rc;
	memcpy(dst, p, n);
	return 0;
}
/* A sub-reader over the next @n bytes, which are consumed from @r. */
static inline _wur_ int rd_sub(struct rd *r, size_t n, struct rd *sub)
{
	const uint8_t *p;
	int rc = rd_bytes(r, n, &p);
	if (rc < 0)
		return rc;
	*sub = rd_make(p, n);
	return 0;
}
static inline _wur_ int rd_u8(struct rd *r, uint8_t *v)
{
	if (r->left < 1)
		return -EBADMSG;
	*v = r->p[0];
	r->p++;
	r->left--;
	return 0;
}

#define RD_INT(name, type, n, expr)                                           \
	static inline _wur_ int name(struct rd *r, type *v)                       \
	{                                                                         \
		if (r->left < (n))                                                    \
			return -EBADMSG;                                                  \
		const uint8_t *b = r->p;                                              \
		*v = (type)(expr);                                                    \
		r->p += (n);                                                          \
		r->left -= (n);                                                       \
		return 0;                                                             \
	}
RD_INT(rd_u16le, uint16_t, 2, (uint16_t)b[0] | (uint16_t)b[1] << 8)
RD_INT(rd_u16be, uint16_t, 2, (uint16_t)b[1] | (uint16_t)b[0] << 8)
RD_INT(rd_u32le, uint32_t, 4, (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24)
RD_INT(rd_u32be, uint32_t, 4, (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24)
RD_INT(rd_u64le, uint64_t, 8,
       (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24 | (uint64_t)b[4] << 32 |
	       (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56)
RD_INT(rd_u64be, uint64_t, 8,
       (uint64_t)b[7] | (uint64_t)b[6] << 8 | (uint64_t)b[5] << 16 | (uint64_t)b[4] << 24 | (uint64_t)b[3] << 32 |
	       (uint64_t)b[2] << 40 | (uint64_t)b[1] << 48 | (uint64_t)b[0] << 56)
#undef RD_INT

static inline _wur_ int rd_i32le(struct rd *r, int32_t *v)
{
	uint32_t u;
	int rc = rd_u32le(r, &u);
	if (rc == 0)
		*v = (int32_t)u;
	return rc;
}
static inline _wur_ int rd_i64le(struct rd *r, int64_t *v)
{
	uint64_t u;
	int rc = rd_u64le(r, &u);
	if (rc == 0)
		*v = (int64_t)u;
	return rc;
}

/* Little-endian stores into a caller-checked buffer. */
static inline void put_u16le(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put_u32le(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void put_u64le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void put_u32be(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * (3 - i)));
}

/* ------------------------------------------------------------------ buffer */

/*
 * Growable byte buffer. Invariants: p is never NULL (an empty buffer points
 * at a shared "" slot), p[len] == '\0' always, so text can be used as a C
 * string. Appends never fail visibly: an allocation failure sets a sticky
 * flag, further appends are ignored, and buf_error() returns -ENOMEM — check
 * it once after building. buf_detach() transfers ownership of the bytes.
 */
struct buf {
	char *p;
	size_t len;
	size_t cap; /* 0 while p is the shared empty slot */
	bool oom;
};
extern char buf_empty_slot[1];
#define BUF_INIT { .p = buf_empty_slot, .len = 0, .cap = 0, .oom = false }

void buf_init(struct buf *b);
void buf_release(struct buf *b); /* frees and re-initialises */
void buf_reset(struct buf *b);   /* len = 0, keeps capacity, clears oom */
bool buf_grow(struct buf *b, size_t extra); /* false (and oom set) on failure */
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addstr(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_addzero(struct buf *b, size_t n);
/* The UTF-8 encoding of code point @cp (the caller checked it is one). */
void buf_add_utf8(struct buf *b, uint32_t cp);
/* Length (1..4) of the valid UTF-8 sequence at @s (@left >= 1 bytes), its
 * code point in *cp_out; 0 when invalid: cut short, overlong, a surrogate,
 * past U+10FFFF. */
size_t utf8_seq(const unsigned char *s, size_t left, uint32_t *cp_out);
void buf_setlen(struct buf *b, size_t len); /* len <= current len */
/* Returns the bytes (malloc'd, NUL-terminated, never NULL unless oom) and
 * re-initialises @b; *len_out (may be NULL) receives the length. */
char *buf_detach(struct buf *b, size_t *len_out);
static inline int buf_error(const struct buf *b) { return b->oom ? -ENOMEM : 0; }
static inline void buf_releasep(struct buf *b) { buf_release(b); }
#define _cleanup_buf_ _cleanup_(buf_releasep)

/* -------------------------------------------------------------------- hex */

void hex_encode(const uint8_t *in, size_t n, char *out); /* out: 2n+1 bytes */
/* The value of one hex digit (either case), -1 when @c is none. */
int hex_digit(char c);
/* Decodes exactly @n hex digits pairs into @out; -EBADMSG on bad digit/odd length. */
int hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap, size_t *outlen);

/* -------------------------------------------------------------------- files */

/* Reads a whole file (path or fd), refusing more than @max bytes (-E2BIG). */
int file_read_all(const char *path, size_t max, struct buf *out, struct arca_err *e);
int fd_read_all(int fd, size_t max, struct buf *out, struct arca_err *e);
/* Loops over short reads/writes and EINTR. pread_full fails with -EBADMSG on EOF. */
int fd_write_full(int fd, const void *p, size_t n);
int fd_pread_full(int fd, void *p, size_t n, uint64_t off);
int fd_pwrite_full(int fd, const void *p, size_t n, uint64_t off);

/*
 * Crash-safe replacement of @path: writes a temporary file in the same
 * directory, fsyncs it, renames it over @path and fsyncs the directory. On
 * any failure the original file is untouched and the temporary removed.
 */
int file_write_atomic(const char *path, const void *p, size_t n, mode_t mode, struct arca_err *e);

/* A temporary file beside @path for the same pattern done incrementally:
 * atomic_open() returns an fd to write; atomic_commit() fsyncs and renames;
 * atomic_abort() unlinks. */
struct atomic_file {
	int fd;
	char *tmp_path;
	char *path;
};
int atomic_open(struct atomic_file *af, const char *path, mode_t mode, struct arca_err *e);
int atomic_commit(struct atomic_file *af, struct arca_err *e);
void atomic_abort(struct atomic_file *af);

/* ------------------------------------------------------- optional libraries */

/*
 * Libraries only some verbs need (libarchive for `arca build` from a tar,
 * libmicrohttpd for `arca serve`, tss2 for the TPM) are opened on first use
 * instead of being linked: linking them cost every `arca exec` and `arca
 * policy eval` about 5 ms of loader work before main().
 *
 * A user declares one table per library and calls dl_load() before the
 * first call through it; the function pointers are typed with typeof() of
 * the library's own prototypes, so a mismatch is a compile error:
 *
 *   static typeof(archive_read_new) *sym_archive_read_new;
 *   static const struct dl_sym archive_syms[] = { DL_SYM(archive_read_new), ... };
 *   static struct dl_lib archive_lib = DL_LIB("libarchive.so.13", archive_syms);
 *   if ((r = dl_load(&archive_lib, e)) < 0) return r;
 *
 * Loading is thread-safe and happens once; a failure returns -ENOPKG
 * naming the library and what dlopen said, and leaves every pointer NULL.
 */
struct dl_sym {
	const char *name;
	void **fn;
};
#define DL_SYM(f) { #f, (void **)&sym_##f }
struct dl_lib {
	const char *soname;
	const struct dl_sym *syms;
	size_t n;
	void *handle; /* set once every symbol resolved */
};
#define DL_LIB(so, table) { (so), (table), sizeof(table) / sizeof((table)[0]), NULL }
int dl_load(struct dl_lib *lib, struct arca_err *e) _wur_;

/* ------------------------------------------------------------------ secrets */

void secure_wipe(void *p, size_t n);
/* Constant-time equality of two equal-length byte strings. */
bool ct_memeq(const void *a, const void *b, size_t n);

/* ------------------------------------------------------------------ logging */

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
void log_set_level(enum log_level l);
enum log_level log_get_level(void);
void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...)                                                        \
	do {                                                                      \
		if (log_get_level() >= LOG_DEBUG)                                     \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                  \
	} while (0)

/* ------------------------------------------------------------- value model */

/*
 * struct val: the JSON/Rego value. Kinds are declared in OPA's total order
 * (null < boolean < number < string < array < object < set). Values are
 * refcounted; once a value is shared (refs > 1) or inserted into another
 * value it must not be mutated. null/true/false are immortal singletons.
 *
 * Numbers: integers that fit int64 are held exactly in `i` (is_int); any
 * other number keeps its canonical JSON text in `num.text` plus a double
 * approximation. Arbitrary-precision arithmetic is the Rego engine's job.
 *
 * Objects keep their keys sorted by val_compare (OPA semantics; JSON output
 * therefore has sorted keys). Sets are sorted and duplicate-free arrays.
 * Object keys may be any value (Rego); JSON text only produces strings.
 */
enum val_kind {
	VAL_NULL = 0,
	VAL_BOOL,
	VAL_NUMBER,
	VAL_STRING,
	VAL_ARRAY,
	VAL_OBJECT,
	VAL_SET,
};

struct val {
	uint32_t refs; /* 0: immortal */
	uint8_t kind;
	bool b;      /* VAL_BOOL */
	bool is_int; /* VAL_NUMBER: i is exact */
	union {
		int64_t i;
		struct {
			char *text;
			double d;
		} num;
		struct {
			char *s; /* NUL-terminated, may contain NULs within len */
			size_t len;
		} str;
		struct {
			struct val **items;
			size_t n, cap;
		} arr; /* VAL_ARRAY and VAL_SET */
		struct {
			struct val **keys;
			struct val **vals;
			size_t n, cap;
		} obj;
	};
};

/* Named limits for untrusted JSON text. */
#define JSON_MAX_DEPTH_DEFAULT 512
struct json_limits {
	unsigned max_depth;   /* nesting of arrays/objects */
	size_t max_bytes;     /* input size */
	size_t max_items;     /* total values produced */
};
extern const struct json_limits json_limits_default;

struct val *val_ref(struct val *v);
void val_unref(struct val *v);
static inline void val_unrefp(struct val **v) { val_unref(*v); }
#define _cleanup_val_ _cleanup_(val_unrefp)

/* Constructors return NULL only on allocation failure. */
struct val *val_null(void);
struct val *val_bool(bool b);
struct val *val_int(int64_t i);
/* @text must be a valid JSON number; it is normalised to int64 when exact. */
struct val *val_number_text(const char *text, size_t len);
struct val *val_double(double d);
struct val *val_string(const char *s, size_t len);
struct val *val_cstr(const char *s);
struct val *val_array_new(size_t cap);
struct val *val_set_new(size_t cap);
struct val *val_object_new(size_t cap);

/* Mutators for values not yet shared. They take ownership of the passed
 * values even on failure. */
int val_array_push(struct val *a, struct val *item);
int val_set_add(struct val *s, struct val *item); /* ignores duplicates */
int val_object_put(struct val *o, struct val *key, struct val *v); /* replaces */
int val_object_put_cstr(struct val *o, const char *key, struct val *v);

/* Lookups borrow; they return NULL when absent or when @o is not an object. */
struct val *val_object_get(const struct val *o, const struct val *key);
struct val *val_object_get_cstr(const struct val *o, const char *key);
bool val_set_contains(const struct val *s, const struct val *item);

/* OPA's total order: <0, 0, >0. */
int val_compare(const struct val *a, const struct val *b);
static inline bool val_equal(const struct val *a, const struct val *b)
{
	/* equality needs no order: different kinds or string lengths differ */
	if (a == b)
		return true;
	if (a->kind != b->kind)
		return false;
	if (a->kind == VAL_STRING) {
		size_t n = a->str.len;
		/* the last byte first: digests and paths share long prefixes */
		return n == b->str.len && (n == 0 || (a->str.s[n - 1] == b->str.s[n - 1] &&
						      memcmp(a->str.s, b->str.s, n - 1) == 0));
	}
	return val_compare(a, b) == 0;
}
int val_number_compare(const struct val *a, const struct val *b);

/* Helpers for reading typed fields from a parsed document. */
const char *val_str(const struct val *v); /* NULL unless VAL_STRING */
/* A configuration string as a C string: a malloc'd copy of @v, which must be
 * a string of at most @max bytes with no NUL inside (a NUL would cut the copy
 * short: "/srv/a\u0000b" must not become "/srv/a"). -EBADMSG when it is not
 * such a string, -E2BIG when longer; the caller words the message. */
int val_dup_cstr(const struct val *v, size_t max, char **out) _wur_;
bool val_get_int(const struct val *v, int64_t *out); /* exact integers only */

/* JSON text -> value. Rejects trailing garbage, invalid UTF-8 escapes,
 * depth/size over @lim (NULL = defaults; -E2BIG) with the byte offset. */
int val_from_json(const char *text, size_t len, const struct json_limits *lim, struct val **out,
		  struct arca_err *e);

/* TOML 1.0 text -> value, with arca's own parser (toml.c): tables become
 * objects, dates and times their RFC 3339 text; inf and nan are refused.
 * The text must be UTF-8 (validated; non-ASCII allowed in strings, quoted
 * keys and comments). Nesting deeper than 128 and text over 4 MiB fail
 * with -E2BIG, malformed text with -EBADMSG; errors name the line and
 * column. *out is NULL on failure. */
int val_from_toml(const char *text, size_t len, struct val **out, struct arca_err *e);

enum {
	JSON_PRETTY = 1u << 0,    /* two-space indent, as `opa eval` prints */
	JSON_ESCAPE_HTML = 1u << 1, /* escape < > & as Go's encoding/json does */
};
/* Appends the JSON text of @v (sets become arrays). */
void val_to_json(const struct val *v, struct buf *out, unsigned flags);
/* Appends a JSON string literal for raw bytes (escaping as Go does). */
void json_quote(struct buf *out, const char *s, size_t len, unsigned flags);

#endif
