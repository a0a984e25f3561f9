/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IMA measurement list. Binary form (security/integrity/ima/ima_fs.c):
 * u32 PCR, 20-byte SHA-1 template digest, u32 name length, template name,
 * then — except for the legacy "ima" template — u32 data length and the
 * template data, itself a sequence of (u32 length, bytes) fields. The
 * template hash extended into the PCR is the hash of exactly those data
 * bytes; for "ima" it is H(file digest || name padded to 256 bytes).
 */
#include "internal.h"

#include <ctype.h>
#include <pthread.h>
#include <sched.h>

struct attest_ima {
	struct buf bytes; /* binary: the input; ASCII: synthesized template data */
	struct attest_ima_entry *ent;
	size_t n, cap;
};

#define IMA_LEGACY_NAME_MAX 255u /* IMA_EVENT_NAME_LEN_MAX */

void attest_ima_free(struct attest_ima *l)
{
	if (!l)
		return;
	buf_release(&l->bytes);
	free(l->ent);
	free(l);
}

size_t attest_ima_count(const struct attest_ima *l) { return l->n; }
const struct attest_ima_entry *attest_ima_entry(const struct attest_ima *l, size_t i)
{
	return i < l->n ? &l->ent[i] : NULL;
}
const uint8_t *attest_ima_bytes(const struct attest_ima *l) { return (const uint8_t *)l->bytes.p; }

static struct attest_ima_entry *new_entry(struct attest_ima *l, struct arca_err *e)
{
	if (l->n >= ATTEST_IMA_MAX_ENTRIES) {
		err_set(e, -E2BIG, "ima: more than %u entries", ATTEST_IMA_MAX_ENTRIES);
		return NULL;
	}
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		struct attest_ima_entry *nv = reallocarray(l->ent, ncap, sizeof(*nv));
		if (!nv) {
			err_set(e, -ENOMEM, "ima: out of memory");
			return NULL;
		}
		l->ent = nv;
		l->cap = ncap;
	}
	struct attest_ima_entry *en = &l->ent[l->n];
	memset(en, 0, sizeof(*en));
	return en;
}

/* The field list of a template: its descriptor for the built-in names, or
 * the name itself when the kernel used a custom "d-ng|n-ng|..." format. */
static const char *template_fields(const char *name)
{
	static const struct {
		const char *name, *fmt;
	} known[] = {
		{ "ima-ng", "d-ng|n-ng" },
		{ "ima-sig", "d-ng|n-ng|sig" },
		{ "ima-buf", "d-ng|n-ng|buf" },
		{ "ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig" },
		{ "ima-ngv2", "d-ngv2|n-ng" },
		{ "ima-sigv2", "d-ngv2|n-ng|sig" },
		{ "evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(known[i].name, name))
			return known[i].fmt;
	return strchr(name, '|') ? name : NULL;
}

static bool field_is(const char *fmt, size_t len, const char *id) { return strlen(id) == len && !memcmp(fmt, id, len); }

/* Splits template data into its fields and records d-ng / n-ng / sig. */
static int parse_fields(struct attest_ima *l, struct attest_ima_entry *en, size_t idx, struct arca_err *e)
{
	const char *fmt = template_fields(en->template_name);
	if (!fmt)
		return 0; /* unknown template: replayed, not interpreted */
	const uint8_t *base = (const uint8_t *)l->bytes.p;
	struct rd r = rd_make(base + en->data_off, en->data_len);
	unsigned nfields = 0;
	for (const char *f = fmt; *f;) {
		const char *bar = strchr(f, '|');
		size_t flen = bar ? (size_t)(bar - f) : strlen(f);
		uint32_t len;
		const uint8_t *d;
		if (++nfields > ATTEST_IMA_MAX_FIELDS)
			return err_set(e, -E2BIG, "ima: entry %zu: more than %u template fields", idx, ATTEST_IMA_MAX_FIELDS);
		if (rd_u32le(&r, &len) < 0 || rd_bytes(&r, len, &d) < 0)
			return err_set(e, -EBADMSG, "ima: entry %zu: template data too short for field '%.*s'", idx,
				       (int)flen, f);
		size_t off = (size_t)(d - base);
		if (field_is(f, flen, "d-ng") || field_is(f, flen, "d-ngv2")) {
			/* "[type:]alg:" NUL digest */
			const uint8_t *nul = memchr(d, 0, len);
			if (!nul || nul == d || nul[-1] != ':')
				return err_set(e, -EBADMSG, "ima: entry %zu: malformed d-ng field", idx);
			const uint8_t *alg = d;
			size_t alen = (size_t)(nul - d) - 1;
			const uint8_t *colon = memchr(alg, ':', alen);
			if (colon && field_is(f, flen, "d-ngv2")) {
				alen -= (size_t)(colon + 1 - alg);
				alg = colon + 1;
			}
			if (alen == 0 || alen >= sizeof(en->hash_alg) || memchr(alg, ':', alen))
				return err_set(e, -EBADMSG, "ima: entry %zu: malformed d-ng algorithm", idx);
			memcpy(en->hash_alg, alg, alen);
			en->hash_alg[alen] = '\0';
			en->digest_off = (size_t)(nul + 1 - base);
			en->digest_len = len - (size_t)(nul + 1 - d);
		} else if (field_is(f, flen, "n-ng")) {
			/* NUL-terminated path; an empty field is allowed */
			size_t n = len;
			if (n > 0 && d[n - 1] == 0)
				n--;
			if (memchr(d, 0, n))
				return err_set(e, -EBADMSG, "ima: entry %zu: NUL inside the file name", idx);
			en->path_off = off;
			en->path_len = n;
		} else if (field_is(f, flen, "sig")) {
			en->sig_off = off;
			en->sig_len = len;
		}
		f = bar ? bar + 1 : f + flen;
	}
	if (r.left != 0)
		return err_set(e, -EBADMSG, "ima: entry %zu: %zu bytes after the last template field", idx, r.left);
	return 0;
}

/* The bytes whose hash is the template hash, through @h. */
static int template_hash(const struct attest_ima *l, const struct attest_ima_entry *en, EVP_MD_CTX *ctx,
			 const EVP_MD *md, uint8_t *out)
{
	const uint8_t *base = (const uint8_t *)l->bytes.p;
	unsigned len;
	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1)
		return -EIO;
	if (!strcmp(en->template_name, "ima")) {
		/* ima_calc_field_array_hash: no length prefixes; the name
		 * field is hashed as a zero-padded 256-byte buffer. */
		uint8_t name[IMA_LEGACY_NAME_MAX + 1] = { 0 };
		memcpy(name, base + en->path_off, en->path_len);
		if (EVP_DigestUpdate(ctx, base + en->digest_off, 20) != 1 ||
		    EVP_DigestUpdate(ctx, name, sizeof(name)) != 1)
			return -EIO;
	} else if (EVP_DigestUpdate(ctx, base + en->data_off, en->data_len) != 1) {
		return -EIO;
	}
	return EVP_DigestFinal_ex(ctx, out, &len) == 1 ? 0 : -EIO;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* Lists longer than this are hashed on two threads: the template hashes
 * are independent of each other, only the PCR chain is sequential. */
#define IMA_PARALLEL_MIN 512u

/* Checks entries [lo, hi); *bad receives the first failing index. */
struct check_job {
	const struct attest_ima *l;
	size_t lo, hi, bad;
	int rc;
};

static void *check_range(void *arg)
{
	struct check_job *j = arg;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md = attest_md(ATTEST_ALG_SHA1);
	j->bad = SIZE_MAX;
	j->rc = ctx && md ? 0 : -ENOMEM;
	for (size_t i = j->lo; i < j->hi && j->rc == 0; i++) {
		const struct attest_ima_entry *en = &j->l->ent[i];
		uint8_t h[20];
		if (en->violation)
			continue;
		j->rc = template_hash(j->l, en, ctx, md, h);
		if (j->rc == 0 && memcmp(h, en->template_digest, 20) != 0) {
			j->bad = i;
			break;
		}
	}
	EVP_MD_CTX_free(ctx);
	return NULL;
}

/* Every non-violation entry's listed SHA-1 must be the hash of its data:
 * otherwise a changed entry could hide behind an unchanged digest. */
static int check_digests(struct attest_ima *l, struct arca_err *e)
{
	struct check_job j[2] = { { l, 0, l->n, SIZE_MAX, 0 }, { l, l->n, l->n, SIZE_MAX, 0 } };
	pthread_t th;
	bool threaded = false;
	if (l->n >= IMA_PARALLEL_MIN) {
		j[0].hi = j[1].lo = l->n / 2;
		threaded = pthread_create(&th, NULL, check_range, &j[1]) == 0;
		if (!threaded)
			j[0].hi = l->n;
	}
	check_range(&j[0]);
	if (threaded)
		pthread_join(th, NULL);
	for (int k = 0; k < 2; k++) {
		if (j[k].rc < 0)
			return j[k].rc;
		if (j[k].bad != SIZE_MAX) {
			const struct attest_ima_entry *en = &l->ent[j[k].bad];
			return err_set(e, -EBADMSG, "ima: entry %zu ('%.*s'): template digest does not match its data",
				       j[k].bad, (int)(en->path_len > 200 ? 200 : en->path_len),
				       (const char *)l->bytes.p + en->path_off);
		}
	}
	return 0;
}

static int parse_binary(struct attest_ima *l, struct arca_err *e)
{
	const uint8_t *base = (const uint8_t *)l->bytes.p;
	struct rd r = rd_make(base, l->bytes.len);
	while (r.left > 0) {
		size_t idx = l->n, off = l->bytes.len - r.left;
		struct attest_ima_entry *en = new_entry(l, e);
		if (!en)
			return e && e->code ? e->code : -E2BIG;
		uint32_t nlen, dlen;
		const uint8_t *name;
		if (rd_u32le(&r, &en->pcr) < 0 || rd_copy(&r, en->template_digest, 20) < 0 || rd_u32le(&r, &nlen) < 0)
			return err_set(e, -EBADMSG, "ima: entry %zu at offset %zu: truncated header", idx, off);
		if (en->pcr >= ATTEST_PCR_COUNT)
			return err_set(e, -EBADMSG, "ima: entry %zu at offset %zu: PCR %u", idx, off, en->pcr);
		if (nlen == 0 || nlen > ATTEST_IMA_MAX_NAME)
			return err_set(e, -EBADMSG, "ima: entry %zu at offset %zu: template name length %u (1..%u)", idx,
				       off, nlen, ATTEST_IMA_MAX_NAME);
		if (rd_bytes(&r, nlen, &name) < 0)
			return err_set(e, -EBADMSG, "ima: entry %zu at offset %zu: truncated template name", idx, off);
		if (memchr(name, 0, nlen))
			return err_set(e, -EBADMSG, "ima: entry %zu at offset %zu: NUL in the template name", idx, off);
		memcpy(en->template_name, name, nlen);
		en->template_name[nlen] = '\0';
		en->violation = all_zero(en->template_digest, 20);
		en->data_off = l->bytes.len - r.left;
		if (!strcmp(en->template_name, "ima")) {
			/* legacy: 20-byte digest, then the name with a length */
			const uint8_t *p;
			if (rd_skip(&r, 20) < 0 || rd_u32le(&r, &dlen) < 0 || dlen > IMA_LEGACY_NAME_MAX ||
			    rd_bytes(&r, dlen, &p) < 0)
				return err_set(e, -EBADMSG, "ima: entry %zu at offset %zu: malformed ima template data", idx,
					       off);
			if (memchr(p, 0, dlen))
				return err_set(e, -EBADMSG, "ima: entry %zu at offset %zu: NUL inside the file name", idx, off);
			memcpy(en->hash_alg, "sha1", 5);
			en->digest_off = en->data_off;
			en->digest_len = 20;
			en->path_off = (size_t)(p - base);
			en->path_len = dlen;
			en->data_len = 24 + dlen;
		} else {
			if (rd_u32le(&r, &dlen) < 0)
				return err_set(e, -EBADMSG, "ima: entry %zu at offset %zu: truncated data length", idx, off);
			if (dlen > ATTEST_IMA_MAX_DATA)
				return err_set(e, -E2BIG, "ima: entry %zu at offset %zu: %u bytes of template data (limit %u)",
					       idx, off, dlen, ATTEST_IMA_MAX_DATA);
			en->data_off = l->bytes.len - r.left;
			if (rd_skip(&r, dlen) < 0)
				return err_set(e, -EBADMSG, "ima: entry %zu at offset %zu: template data runs past the end",
					       idx, off);
			en->data_len = dlen;
			l->n++; /* parse_fields reports with the entry in place */
			int rc = parse_fields(l, en, idx, e);
			if (rc < 0)
				return rc;
			continue;
		}
		l->n++;
	}
	return check_digests(l, e);
}

int attest_ima_parse(const uint8_t *p, size_t n, struct attest_ima **out, struct arca_err *e)
{
	if (n > ATTEST_IMA_MAX_BYTES)
		return err_set(e, -E2BIG, "ima: %zu bytes (limit %u)", n, ATTEST_IMA_MAX_BYTES);
	struct attest_ima *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	buf_init(&l->bytes);
	buf_add(&l->bytes, p, n);
	int rc = buf_error(&l->bytes);
	if (rc == 0)
		rc = parse_binary(l, e);
	if (rc < 0) {
		attest_ima_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* ------------------------------------------------------------------ ASCII */

static int hex_field(const char *s, size_t n, struct buf *b)
{
	if (n % 2)
		return -EBADMSG;
	uint8_t tmp[256];
	for (size_t i = 0; i < n; i += 2 * sizeof(tmp)) {
		size_t c = n - i < 2 * sizeof(tmp) ? n - i : 2 * sizeof(tmp), got;
		if (hex_decode(s + i, c, tmp, sizeof(tmp), &got) < 0 || got != c / 2)
			return -EBADMSG;
		buf_add(b, tmp, got);
	}
	return buf_error(b);
}

static bool is_hex(const char *s, size_t n)
{
	if (n == 0 || n % 2)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* One line: "pcr template-hash template-name fields...". Rebuilds the
 * binary template data so the same hashing and replay apply. */
static int parse_ascii_line(struct attest_ima *l, const char *s, size_t n, size_t lineno, struct arca_err *e)
{
	const char *tok[8];
	size_t tlen[8], nt = 0;
	for (size_t i = 0; i < n && nt < ARRAY_SIZE(tok);) {
		while (i < n && s[i] == ' ')
			i++;
		if (i >= n)
			break;
		tok[nt] = s + i;
		while (i < n && s[i] != ' ')
			i++;
		tlen[nt] = (size_t)(s + i - tok[nt]);
		nt++;
	}
	if (nt < 5)
		return err_set(e, -EBADMSG, "ima: line %zu: expected 'pcr hash template digest path'", lineno);
	struct attest_ima_entry *en = new_entry(l, e);
	if (!en)
		return e && e->code ? e->code : -E2BIG;
	unsigned long pcr = 0;
	for (size_t i = 0; i < tlen[0]; i++) {
		if (!isdigit((unsigned char)tok[0][i]) || pcr > ATTEST_PCR_COUNT)
			return err_set(e, -EBADMSG, "ima: line %zu: bad PCR '%.*s'", lineno, (int)tlen[0], tok[0]);
		pcr = pcr * 10 + (unsigned long)(tok[0][i] - '0');
	}
	size_t got;
	if (pcr >= ATTEST_PCR_COUNT)
		return err_set(e, -EBADMSG, "ima: line %zu: PCR %lu", lineno, pcr);
	en->pcr = (uint32_t)pcr;
	if (tlen[1] != 40 || hex_decode(tok[1], 40, en->template_digest, 20, &got) < 0)
		return err_set(e, -EBADMSG, "ima: line %zu: template hash is not 40 hex digits", lineno);
	if (tlen[2] == 0 || tlen[2] > ATTEST_IMA_MAX_NAME)
		return err_set(e, -EBADMSG, "ima: line %zu: bad template name", lineno);
	memcpy(en->template_name, tok[2], tlen[2]);
	en->template_name[tlen[2]] = '\0';
	en->violation = all_zero(en->template_digest, 20);
	/* The path is everything between the digest and an optional trailing
	 * hex field (sig / buf), so paths with spaces survive. */
	const char *path = tok[4];
	const char *line_end = s + n;
	while (line_end > path && (line_end[-1] == ' ' || line_end[-1] == '\r'))
		line_end--;
	const char *extra = NULL;
	size_t extra_len = 0;
	bool has_extra = !strcmp(en->template_name, "ima-sig") || !strcmp(en->template_name, "ima-buf");
	if (has_extra && nt >= 6) {
		const char *sp = line_end;
		while (sp > path && sp[-1] != ' ')
			sp--;
		if (sp > path && is_hex(sp, (size_t)(line_end - sp))) {
			extra = sp;
			extra_len = (size_t)(line_end - sp);
			line_end = sp - 1;
		}
	}
	size_t plen = (size_t)(line_end - path);
	struct buf *b = &l->bytes;
	size_t start = b->len;
	en->data_off = start;
	if (!strcmp(en->template_name, "ima")) {
		if (tlen[3] != 40 || plen > IMA_LEGACY_NAME_MAX || hex_field(tok[3], 40, b) < 0)
			return err_set(e, -EBADMSG, "ima: line %zu: malformed ima entry", lineno);
		uint8_t le[4];
		put_u32le(le, (uint32_t)plen);
		buf_add(b, le, 4);
		buf_add(b, path, plen);
		memcpy(en->hash_alg, "sha1", 5);
		en->digest_off = start;
		en->digest_len = 20;
		en->path_off = start + 24;
		en->path_len = plen;
	} else {
		const char *colon = memchr(tok[3], ':', tlen[3]);
		if (!template_fields(en->template_name) || !colon || colon == tok[3])
			return err_set(e, -EBADMSG, "ima: line %zu: unsupported template '%s'", lineno, en->template_name);
		size_t alen = (size_t)(colon - tok[3]) + 1, dhex = tlen[3] - alen;
		uint8_t le[4];
		put_u32le(le, (uint32_t)(alen + 1 + dhex / 2));
		buf_add(b, le, 4);
		buf_add(b, tok[3], alen);
		buf_addch(b, '\0');
		if (hex_field(colon + 1, dhex, b) < 0)
			return err_set(e, -EBADMSG, "ima: line %zu: file digest is not hex", lineno);
		put_u32le(le, (uint32_t)(plen + 1));
		buf_add(b, le, 4);
		buf_add(b, path, plen);
		buf_addch(b, '\0');
		if (has_extra) {
			put_u32le(le, (uint32_t)(extra_len / 2));
			buf_add(b, le, 4);
			if (extra && hex_field(extra, extra_len, b) < 0)
				return err_set(e, -EBADMSG, "ima: line %zu: signature is not hex", lineno);
		}
	}
	if (buf_error(b) < 0)
		return -ENOMEM;
	en->data_len = b->len - start;
	l->n++;
	if (strcmp(en->template_name, "ima") != 0)
		return parse_fields(l, en, lineno, e);
	return 0;
}

int attest_ima_parse_ascii(const char *p, size_t n, struct attest_ima **out, struct arca_err *e)
{
	if (n > ATTEST_IMA_MAX_BYTES)
		return err_set(e, -E2BIG, "ima: %zu bytes (limit %u)", n, ATTEST_IMA_MAX_BYTES);
	struct attest_ima *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	buf_init(&l->bytes);
	int rc = 0;
	size_t lineno = 0;
	for (size_t i = 0; i < n && rc == 0;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (p + i)) : n - i;
		lineno++;
		if (len > 0 && memchr(p + i, 0, len))
			rc = err_set(e, -EBADMSG, "ima: line %zu: NUL byte", lineno);
		else if (len > 0)
			rc = parse_ascii_line(l, p + i, len, lineno, e);
		i += len + 1;
	}
	if (rc == 0)
		rc = check_digests(l, e);
	if (rc < 0) {
		attest_ima_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* ----------------------------------------------------------------- replay */

/* A worker computing one bank's template hashes ahead of the replay. */
struct prehash {
	const struct attest_ima *l;
	const EVP_MD *md;
	size_t from, to, sz;
	uint8_t *out;
	size_t done; /* entries published (atomic) */
	int stop;    /* atomic: the replay gave up */
	int rc;
};

static void *prehash_run(void *arg)
{
	struct prehash *ph = arg;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ph->rc = ctx ? 0 : -ENOMEM;
	for (size_t i = ph->from; i < ph->to && ph->rc == 0 && !__atomic_load_n(&ph->stop, __ATOMIC_RELAXED); i++) {
		const struct attest_ima_entry *en = &ph->l->ent[i];
		if (!en->violation)
			ph->rc = template_hash(ph->l, en, ctx, ph->md, ph->out + (i - ph->from) * ph->sz);
		if (ph->rc == 0)
			__atomic_store_n(&ph->done, i + 1 - ph->from, __ATOMIC_RELEASE);
	}
	EVP_MD_CTX_free(ctx);
	/* wake the waiter even on failure */
	__atomic_store_n(&ph->done, SIZE_MAX, __ATOMIC_RELEASE);
	return NULL;
}

int attest_ima_replay(const struct attest_ima *l, size_t from, struct attest_pcrs *state, struct arca_err *e)
{
	if (from > l->n)
		return err_set(e, -EINVAL, "ima: replay from entry %zu of %zu", from, l->n);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	const EVP_MD *md[ATTEST_BANK_MAX];
	for (size_t k = 0; k < state->nbanks; k++)
		md[k] = attest_md(state->bank[k].alg);
	int rc = 0;
	uint8_t ff[ATTEST_DIGEST_MAX];
	memset(ff, 0xff, sizeof(ff));

	/* Long lists: one non-SHA-1 bank's template hashes come from a worker
	 * thread while this one runs the sequential extend chain. */
	struct prehash ph = { .l = l, .from = from, .to = l->n };
	size_t pk = SIZE_MAX;
	pthread_t th;
	bool threaded = false;
	for (size_t k = 0; k < state->nbanks && pk == SIZE_MAX; k++)
		if (state->bank[k].alg != ATTEST_ALG_SHA1 && state->bank[k].mask && md[k])
			pk = k;
	if (pk != SIZE_MAX && l->n - from >= IMA_PARALLEL_MIN) {
		ph.md = md[pk];
		ph.sz = attest_alg_size(state->bank[pk].alg);
		ph.out = malloc((l->n - from) * ph.sz);
		threaded = ph.out && pthread_create(&th, NULL, prehash_run, &ph) == 0;
	}
	for (size_t i = from; i < l->n && rc == 0; i++) {
		const struct attest_ima_entry *en = &l->ent[i];
		for (size_t k = 0; k < state->nbanks && rc == 0; k++) {
			struct attest_bank *b = &state->bank[k];
			if (!(b->mask & (1u << en->pcr)))
				continue;
			size_t sz = attest_alg_size(b->alg);
			uint8_t h[2 * ATTEST_DIGEST_MAX];
			unsigned len;
			memcpy(h, b->pcr[en->pcr], sz);
			if (en->violation) {
				memcpy(h + sz, ff, sz); /* ima_add_violation: the PCR gets all ones */
			} else if (b->alg == ATTEST_ALG_SHA1) {
				memcpy(h + sz, en->template_digest, 20);
			} else if (threaded && k == pk) {
				size_t d;
				while ((d = __atomic_load_n(&ph.done, __ATOMIC_ACQUIRE)) <= i - from)
					sched_yield();
				if (d == SIZE_MAX && ph.rc < 0) {
					rc = ph.rc;
					break;
				}
				memcpy(h + sz, ph.out + (i - from) * sz, sz);
			} else if ((rc = template_hash(l, en, ctx, md[k], h + sz)) < 0) {
				break;
			}
			if (EVP_DigestInit_ex2(ctx, md[k], NULL) != 1 || EVP_DigestUpdate(ctx, h, 2 * sz) != 1 ||
			    EVP_DigestFinal_ex(ctx, b->pcr[en->pcr], &len) != 1)
				rc = -EIO;
		}
	}
	if (threaded) {
		__atomic_store_n(&ph.stop, 1, __ATOMIC_RELAXED);
		pthread_join(th, NULL);
	}
	free(ph.out);
	EVP_MD_CTX_free(ctx);
	if (rc < 0)
		return err_setsys(e, rc, "ima: replay");
	return 0;
}

/* The PCRs the list uses, intersected with what @quoted offers. */
static uint32_t used_pcrs(const struct attest_ima *l)
{
	uint32_t m = 0;
	for (size_t i = 0; i < l->n; i++)
		m |= 1u << l->ent[i].pcr;
	return m;
}

static void init_state(const struct attest_pcrs *quoted, uint32_t mask, struct attest_pcrs *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t k = 0; k < quoted->nbanks; k++) {
		struct attest_bank *b = attest_pcrs_bank(st, quoted->bank[k].alg, true);
		if (!b)
			continue;
		b->mask = quoted->bank[k].mask & mask;
		for (unsigned i = 0; i < ATTEST_PCR_COUNT; i++)
			attest_pcr_initial(b->alg, i, b->pcr[i]);
	}
}

static bool state_equal(const struct attest_pcrs *st, const struct attest_pcrs *q)
{
	for (size_t k = 0; k < st->nbanks; k++) {
		const struct attest_bank *b = &st->bank[k];
		const struct attest_bank *qb = attest_pcrs_find(q, b->alg);
		for (unsigned i = 0; i < ATTEST_PCR_COUNT; i++)
			if ((b->mask & (1u << i)) && memcmp(b->pcr[i], qb->pcr[i], attest_alg_size(b->alg)) != 0)
				return false;
	}
	return true;
}

int attest_ima_verify(const struct attest_ima *l, const struct attest_pcrs *quoted, struct arca_err *e)
{
	uint32_t used = l->n ? used_pcrs(l) : 1u << 10;
	uint32_t have = 0;
	for (size_t k = 0; k < quoted->nbanks; k++)
		have |= quoted->bank[k].mask;
	if ((used & have) != used) {
		unsigned missing = (unsigned)__builtin_ctz(used & ~have);
		return err_set(e, -EPERM, "ima: PCR %u is not in the quote", missing);
	}
	struct attest_pcrs st;
	init_state(quoted, used, &st);
	int rc = attest_ima_replay(l, 0, &st, e);
	if (rc < 0)
		return rc;
	struct arca_err why = { 0 };
	if (attest_pcrs_compare(&st, quoted, used, "ima", &why) == 0)
		return 0;
	/* Find where the list stops matching: a matching prefix means the log
	 * holds entries the quote does not cover. */
	init_state(quoted, used, &st);
	if (state_equal(&st, quoted))
		return err_set(e, -EPERM, "ima: log is longer than the quoted PCR: none of its %zu entries are in it",
			       l->n);
	init_state(quoted, used, &st);
	struct attest_ima one = *l;
	for (size_t i = 0; i < l->n; i++) {
		one.n = i + 1;
		if ((rc = attest_ima_replay(&one, i, &st, e)) < 0)
			return rc;
		if (state_equal(&st, quoted)) {
			const struct attest_ima_entry *en = &l->ent[i + 1 < l->n ? i + 1 : i];
			return err_set(e, -EPERM,
				       "ima: log is longer than the quoted PCR: entries %zu..%zu (first '%.*s') are not in it",
				       i + 2, l->n, (int)(en->path_len > 200 ? 200 : en->path_len),
				       (const char *)l->bytes.p + en->path_off);
		}
	}
	return err_set(e, -EPERM, "ima: replay of %zu entries does not match the quote (log shorter than the PCR or an "
				  "entry changed): %s", l->n, why.msg);
}
