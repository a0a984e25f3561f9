/* SPDX-License-Identifier: Apache-2.0 */
/* Hash algorithms, PCR banks and selections, check lists. */
#include "internal.h"

#include <openssl/evp.h>

static const struct {
	uint16_t alg;
	const char *name;
	size_t size;
} algs[] = {
	{ ATTEST_ALG_SHA1, "sha1", 20 },
	{ ATTEST_ALG_SHA256, "sha256", 32 },
	{ ATTEST_ALG_SHA384, "sha384", 48 },
	{ ATTEST_ALG_SHA512, "sha512", 64 },
};

const char *attest_alg_name(uint16_t alg)
{
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++)
		if (algs[i].alg == alg)
			return algs[i].name;
	return NULL;
}

uint16_t attest_alg_from_name(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++)
		if (strlen(algs[i].name) == len && !strncasecmp(algs[i].name, name, len))
			return algs[i].alg;
	return 0;
}

size_t attest_alg_size(uint16_t alg)
{
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++)
		if (algs[i].alg == alg)
			return algs[i].size;
	return 0;
}

/* Fetched once: implicit fetching on every EVP_Digest call costs more than
 * hashing an IMA entry does. */
const EVP_MD *attest_md(uint16_t alg)
{
	static const EVP_MD *cache[ARRAY_SIZE(algs)];
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		if (algs[i].alg != alg)
			continue;
		const EVP_MD *md = __atomic_load_n(&cache[i], __ATOMIC_ACQUIRE);
		if (!md) {
			EVP_MD *f = EVP_MD_fetch(NULL, algs[i].name, NULL);
			if (!f)
				return NULL;
			const EVP_MD *expected = NULL;
			if (!__atomic_compare_exchange_n(&cache[i], &expected, f, false, __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE)) {
				EVP_MD_free(f);
				return expected;
			}
			md = f;
		}
		return md;
	}
	return NULL;
}

int attest_hash(uint16_t alg, const void *p, size_t n, uint8_t *out)
{
	const EVP_MD *md = attest_md(alg);
	if (!md)
		return -ENOTSUP;
	unsigned len = 0;
	if (EVP_Digest(p, n, out, &len, md, NULL) != 1)
		return -EIO;
	return 0;
}

int attest_hash2(uint16_t alg, const void *a, size_t an, const void *b, size_t bn, uint8_t *out)
{
	const EVP_MD *md = attest_md(alg);
	if (!md)
		return -ENOTSUP;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	unsigned len = 0;
	int ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, a, an) == 1 &&
		 EVP_DigestUpdate(ctx, b, bn) == 1 && EVP_DigestFinal_ex(ctx, out, &len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

struct attest_bank *attest_pcrs_bank(struct attest_pcrs *p, uint16_t alg, bool create)
{
	for (size_t i = 0; i < p->nbanks; i++)
		if (p->bank[i].alg == alg)
			return &p->bank[i];
	if (!create || p->nbanks >= ATTEST_BANK_MAX || !attest_alg_size(alg))
		return NULL;
	struct attest_bank *b = &p->bank[p->nbanks++];
	memset(b, 0, sizeof(*b));
	b->alg = alg;
	return b;
}

const struct attest_bank *attest_pcrs_find(const struct attest_pcrs *p, uint16_t alg)
{
	for (size_t i = 0; i < p->nbanks; i++)
		if (p->bank[i].alg == alg)
			return &p->bank[i];
	return NULL;
}

static int parse_index(const char *s, size_t n, unsigned *out)
{
	if (n == 0 || n > 2)
		return -EBADMSG;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EBADMSG;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v >= ATTEST_PCR_COUNT)
		return -ERANGE;
	*out = v;
	return 0;
}

int attest_pcrsel_parse(const char *s, struct attest_pcrs *sel, struct arca_err *e)
{
	memset(sel, 0, sizeof(*sel));
	const char *p = s;
	for (;;) {
		const char *end = strchr(p, '+');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		if (!colon)
			return err_set(e, -EINVAL, "PCR selection '%s': expected <bank>:<pcrs>", s);
		uint16_t alg = attest_alg_from_name(p, (size_t)(colon - p));
		if (!alg)
			return err_set(e, -EINVAL, "PCR selection '%s': unknown bank '%.*s'", s, (int)(colon - p), p);
		if (attest_pcrs_find(sel, alg))
			return err_set(e, -EINVAL, "PCR selection '%s': bank '%s' given twice", s, attest_alg_name(alg));
		struct attest_bank *b = attest_pcrs_bank(sel, alg, true);
		if (!b)
			return err_set(e, -E2BIG, "PCR selection '%s': more than %d banks", s, ATTEST_BANK_MAX);
		const char *q = colon + 1, *qend = p + len;
		if ((size_t)(qend - q) == 3 && !strncmp(q, "all", 3)) {
			b->mask = (1u << ATTEST_PCR_COUNT) - 1;
		} else {
			while (q < qend) {
				const char *comma = memchr(q, ',', (size_t)(qend - q));
				const char *iend = comma ? comma : qend;
				const char *dash = memchr(q, '-', (size_t)(iend - q));
				unsigned lo, hi;
				if (parse_index(q, (size_t)((dash ? dash : iend) - q), &lo) < 0 ||
				    (dash && parse_index(dash + 1, (size_t)(iend - dash - 1), &hi) < 0))
					return err_set(e, -EINVAL, "PCR selection '%s': bad PCR index '%.*s' (0..%d)", s,
						       (int)(iend - q), q, ATTEST_PCR_COUNT - 1);
				if (!dash)
					hi = lo;
				if (hi < lo)
					return err_set(e, -EINVAL, "PCR selection '%s': empty range '%.*s'", s,
						       (int)(iend - q), q);
				for (unsigned i = lo; i <= hi; i++)
					b->mask |= 1u << i;
				q = comma ? comma + 1 : qend;
			}
		}
		if (!b->mask)
			return err_set(e, -EINVAL, "PCR selection '%s': no PCRs for bank '%s'", s, attest_alg_name(alg));
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

void attest_pcrsel_format(const struct attest_pcrs *sel, struct buf *out)
{
	for (size_t i = 0; i < sel->nbanks; i++) {
		const struct attest_bank *b = &sel->bank[i];
		buf_addf(out, "%s%s:", i ? "+" : "", attest_alg_name(b->alg));
		bool first = true;
		for (unsigned j = 0; j < ATTEST_PCR_COUNT; j++) {
			if (!(b->mask & (1u << j)))
				continue;
			unsigned k = j;
			while (k + 1 < ATTEST_PCR_COUNT && (b->mask & (1u << (k + 1))))
				k++;
			buf_addf(out, first ? "%u" : ",%u", j);
			if (k > j)
				buf_addf(out, "-%u", k);
			first = false;
			j = k;
		}
	}
}

void attest_pcr_initial(uint16_t alg, unsigned index, uint8_t *out)
{
	size_t n = attest_alg_size(alg);
	memset(out, index >= 17 && index <= 22 ? 0xff : 0, n);
}

int attest_pcr_extend(uint16_t alg, uint8_t *pcr, const uint8_t *digest)
{
	size_t n = attest_alg_size(alg);
	if (!n)
		return -ENOTSUP;
	uint8_t tmp[2 * ATTEST_DIGEST_MAX];
	memcpy(tmp, pcr, n);
	memcpy(tmp + n, digest, n);
	return attest_hash(alg, tmp, 2 * n, pcr);
}

struct val *attest_pcrs_to_val(const struct attest_pcrs *p)
{
	struct val *o = val_object_new(p->nbanks);
	if (!o)
		return NULL;
	for (size_t i = 0; i < p->nbanks; i++) {
		const struct attest_bank *b = &p->bank[i];
		struct val *bo = val_object_new(ATTEST_PCR_COUNT);
		if (!bo || val_object_put_cstr(o, attest_alg_name(b->alg), bo) < 0) {
			val_unref(o);
			return NULL;
		}
		for (unsigned j = 0; j < ATTEST_PCR_COUNT; j++) {
			if (!(b->mask & (1u << j)))
				continue;
			char key[4], hex[2 * ATTEST_DIGEST_MAX + 1];
			snprintf(key, sizeof(key), "%u", j);
			hex_encode(b->pcr[j], attest_alg_size(b->alg), hex);
			if (val_object_put_cstr(bo, key, val_cstr(hex)) < 0) {
				val_unref(o);
				return NULL;
			}
		}
	}
	return o;
}

int attest_pcrs_from_val(const struct val *v, struct attest_pcrs *out, struct arca_err *e)
{
	memset(out, 0, sizeof(*out));
	if (!v || v->kind != VAL_OBJECT)
		return err_set(e, -EBADMSG, "pcrs: expected an object of banks");
	for (size_t i = 0; i < v->obj.n; i++) {
		const char *name = val_str(v->obj.keys[i]);
		uint16_t alg = name ? attest_alg_from_name(name, strlen(name)) : 0;
		if (!alg)
			return err_set(e, -EBADMSG, "pcrs: unknown bank '%s'", name ? name : "?");
		struct attest_bank *b = attest_pcrs_bank(out, alg, true);
		if (!b)
			return err_set(e, -E2BIG, "pcrs: more than %d banks", ATTEST_BANK_MAX);
		const struct val *bo = v->obj.vals[i];
		if (bo->kind != VAL_OBJECT)
			return err_set(e, -EBADMSG, "pcrs.%s: expected an object", name);
		for (size_t j = 0; j < bo->obj.n; j++) {
			const char *k = val_str(bo->obj.keys[j]), *hex = val_str(bo->obj.vals[j]);
			unsigned idx;
			if (!k || parse_index(k, strlen(k), &idx) < 0)
				return err_set(e, -EBADMSG, "pcrs.%s: bad PCR index '%s'", name, k ? k : "?");
			size_t got = 0, want = attest_alg_size(alg);
			if (!hex || strlen(hex) != 2 * want ||
			    hex_decode(hex, strlen(hex), b->pcr[idx], sizeof(b->pcr[idx]), &got) < 0 || got != want)
				return err_set(e, -EBADMSG, "pcrs.%s.%u: expected %zu hex bytes", name, idx, want);
			b->mask |= 1u << idx;
		}
	}
	return 0;
}

int attest_pcrs_compare(const struct attest_pcrs *got, const struct attest_pcrs *want, uint32_t mask,
			const char *what, struct arca_err *e)
{
	for (size_t i = 0; i < want->nbanks; i++) {
		const struct attest_bank *w = &want->bank[i];
		const struct attest_bank *g = attest_pcrs_find(got, w->alg);
		size_t n = attest_alg_size(w->alg);
		for (unsigned j = 0; j < ATTEST_PCR_COUNT; j++) {
			if (!(w->mask & mask & (1u << j)))
				continue;
			if (!g || !(g->mask & (1u << j)))
				return err_set(e, -EPERM, "%s: %s PCR %u not available", what, attest_alg_name(w->alg), j);
			if (memcmp(g->pcr[j], w->pcr[j], n) != 0) {
				char hg[2 * ATTEST_DIGEST_MAX + 1], hw[2 * ATTEST_DIGEST_MAX + 1];
				hex_encode(g->pcr[j], n, hg);
				hex_encode(w->pcr[j], n, hw);
				return err_set(e, -EPERM, "%s: %s PCR %u is %s, expected %s", what,
					       attest_alg_name(w->alg), j, hg, hw);
			}
		}
	}
	return 0;
}

/* ----------------------------------------------------------- check lists */

const char *attest_status_name(enum attest_status s)
{
	switch (s) {
	case ATTEST_PASSED:
		return "passed";
	case ATTEST_FAILED:
		return "failed";
	case ATTEST_UNAVAILABLE:
		return "unavailable";
	}
	return "unavailable";
}

int attest_checks_init(struct attest_checks *c)
{
	memset(c, 0, sizeof(*c));
	c->list = val_array_new(8);
	return c->list ? 0 : -ENOMEM;
}

void attest_checks_release(struct attest_checks *c)
{
	val_unref(c->list);
	c->list = NULL;
}

int attest_checks_add(struct attest_checks *c, const char *name, enum attest_status s, const char *reason)
{
	struct val *o = val_object_new(3);
	if (!o)
		return -ENOMEM;
	if (val_object_put_cstr(o, "name", val_cstr(name)) < 0 ||
	    val_object_put_cstr(o, "status", val_cstr(attest_status_name(s))) < 0 ||
	    (reason && reason[0] && val_object_put_cstr(o, "reason", val_cstr(reason)) < 0)) {
		val_unref(o);
		return -ENOMEM;
	}
	if (s == ATTEST_FAILED && !c->failed)
		snprintf(c->first_reason, sizeof(c->first_reason), "%s: %s", name, reason ? reason : "failed");
	if (s == ATTEST_UNAVAILABLE && !c->failed && !c->unavailable && !c->first_reason[0])
		snprintf(c->first_reason, sizeof(c->first_reason), "%s: unavailable%s%s", name,
			 reason && reason[0] ? ": " : "", reason ? reason : "");
	if (s == ATTEST_FAILED)
		c->failed = true;
	if (s == ATTEST_UNAVAILABLE)
		c->unavailable = true;
	return val_array_push(c->list, o);
}
