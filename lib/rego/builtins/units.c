/* SPDX-License-Identifier: Apache-2.0 */
/* units.parse and units.parse_bytes: decimal amounts with SI or binary
 * suffixes, computed exactly from the decimal digits where possible. */
#include "../internal.h"

#include <ctype.h>
#include <math.h>
#include <strings.h>

#define UNITS_MAX_EXP 400 /* larger exponents cannot be represented */

struct amount {
	char digits[64]; /* mantissa digits without the dot, leading zeros kept */
	int scale;       /* value = (-)digits * 10^scale */
	bool neg;
};

/* Splits "1.5e3Ki" into amount and suffix. Returns 0, -ENOENT (no number),
 * -EBADMSG (unparsable number) or -E2BIG (exponent). */
static int split_amount(const char *s, size_t n, struct amount *a, const char **suffix)
{
	size_t i = 0, nd = 0;
	bool dot = false, any = false;
	a->scale = 0;
	a->neg = false;
	if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		a->neg = s[0] == '-';
		i++;
	}
	while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.')) {
		if (s[i] == '.') {
			if (dot)
				return -EBADMSG;
			dot = true;
		} else {
			any = true;
			if (nd + 1 < sizeof(a->digits))
				a->digits[nd++] = s[i];
			else if (!dot)
				a->scale++;
			if (dot && nd + 1 <= sizeof(a->digits) - 1)
				a->scale--;
		}
		i++;
	}
	/* scale counted per fractional digit stored */
	a->digits[nd] = 0;
	if (i < n && s[i] == '.')
		return -EBADMSG;
	if (!any)
		return (i > (size_t)(s[0] == '-' || s[0] == '+')) ? -EBADMSG : -ENOENT;
	if (i < n && (s[i] == 'e' || s[i] == 'E') && i + 1 < n &&
	    (isdigit((unsigned char)s[i + 1]) || ((s[i + 1] == '-' || s[i + 1] == '+') && i + 2 < n && isdigit((unsigned char)s[i + 2])))) {
		i++;
		int sign = 1;
		if (s[i] == '-' || s[i] == '+') {
			sign = s[i] == '-' ? -1 : 1;
			i++;
		}
		long e = 0;
		while (i < n && isdigit((unsigned char)s[i])) {
			e = e * 10 + (s[i] - '0');
			if (e > 100000)
				e = 100000;
			i++;
		}
		if (e > UNITS_MAX_EXP)
			return -E2BIG;
		a->scale += (int)(sign * e);
	}
	*suffix = s + i;
	return 0;
}

/* digits * 10^p10 * 2^p2 as a number value; exact for integers in int64. */
static struct val *amount_value(const struct amount *a, int p10, int p2, bool integer)
{
	int e = a->scale + p10;
	/* try exact integer */
	__int128 v = 0;
	bool exact = true;
	for (const char *d = a->digits; *d && exact; d++) {
		v = v * 10 + (*d - '0');
		if (v > ((__int128)1 << 100))
			exact = false;
	}
	int e2 = e;
	while (exact && e2 > 0) {
		v *= 10;
		e2--;
		if (v > ((__int128)1 << 100))
			exact = false;
	}
	/* v <= 2^100 here: one shift when the result stays within 2^110 */
	if (exact && p2 > 0 && p2 <= 110 && v <= ((__int128)1 << (110 - p2)))
		v <<= p2;
	else if (exact && p2 > 0)
		exact = false;
	if (exact && e2 < 0) {
		__int128 div = 1;
		for (int i = 0; i < -e2 && div < ((__int128)1 << 100); i++)
			div *= 10;
		if (v % div == 0)
			v /= div;
		else if (integer)
			v /= div;
		else
			exact = false;
	}
	if (exact && v <= INT64_MAX)
		return val_int(a->neg ? -(int64_t)v : (int64_t)v);
	if (exact) {
		/* beyond int64: exact decimal text */
		char t[64], *p = t + sizeof(t) - 1;
		*p = 0;
		do {
			*--p = (char)('0' + (int)(v % 10));
			v /= 10;
		} while (v);
		if (a->neg)
			*--p = '-';
		return val_number_text(p, strlen(p));
	}
	char text[160];
	snprintf(text, sizeof(text), "%s%se%d", a->neg ? "-" : "", a->digits, e);
	double d = strtod(text, NULL) * ldexp(1.0, p2);
	if (integer)
		d = floor(d);
	return num_from_double(d);
}

static int bi_units_parse(struct ev *ev, struct val **args, struct val **out)
{
	struct val *x = args[0];
	if (x->kind != VAL_STRING)
		return bi_type_err(ev, "units.parse", 1, "string", x);
	const char *s = x->str.s;
	size_t n = x->str.len;
	/* OPA strips surrounding quotes */
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (memchr(s, ' ', n))
		return ev_error(ev, -EINVAL, EC_BUILTIN, "units.parse: spaces not allowed in resource strings");
	struct amount a;
	const char *suf;
	int rc = split_amount(s, n, &a, &suf);
	if (rc == -ENOENT)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "units.parse: no amount provided");
	if (rc == -E2BIG)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "units.parse: exponent too large");
	if (rc < 0)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "units.parse: could not parse amount to a number");
	size_t sl = n - (size_t)(suf - s);
	static const struct {
		const char *s;
		int p10, p2;
	} tab[] = {
		{ "", 0, 0 },     { "m", -3, 0 },   { "k", 3, 0 },    { "K", 3, 0 },   { "M", 6, 0 },
		{ "G", 9, 0 },    { "T", 12, 0 },   { "P", 15, 0 },   { "E", 18, 0 },  { "ki", 0, 10 },
		{ "Ki", 0, 10 },  { "Mi", 0, 20 },  { "Gi", 0, 30 },  { "Ti", 0, 40 }, { "Pi", 0, 50 },
		{ "Ei", 0, 60 },  { "g", 9, 0 },    { "t", 12, 0 },   { "p", 15, 0 },  { "e", 18, 0 },
		{ "mi", 0, 20 },  { "gi", 0, 30 },  { "ti", 0, 40 },  { "pi", 0, 50 }, { "ei", 0, 60 },
	};
	/* OPA lower-cases the unit, except that a lone "m" is milli and a
	 * lone "M" mega */
	for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
		if (strlen(tab[i].s) == sl && (sl == 1 ? memcmp(tab[i].s, suf, sl) == 0 : strncasecmp(tab[i].s, suf, sl) == 0)) {
			*out = amount_value(&a, tab[i].p10, tab[i].p2, false);
			return *out ? 0 : -ENOMEM;
		}
	return ev_error(ev, -EINVAL, EC_BUILTIN, "units.parse: unknown unit: %.*s", (int)sl, suf);
}

static int bi_units_parse_bytes(struct ev *ev, struct val **args, struct val **out)
{
	struct val *x = args[0];
	if (x->kind != VAL_STRING)
		return bi_type_err(ev, "units.parse_bytes", 1, "string", x);
	const char *s = x->str.s;
	size_t n = x->str.len;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (memchr(s, ' ', n))
		return ev_error(ev, -EINVAL, EC_BUILTIN, "units.parse_bytes: spaces not allowed in resource strings");
	struct amount a;
	const char *suf;
	int rc = split_amount(s, n, &a, &suf);
	if (rc == -ENOENT)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "units.parse_bytes: no byte amount provided");
	if (rc == -E2BIG)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "units.parse_bytes: exponent too large");
	if (rc < 0)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "units.parse_bytes: could not parse byte amount to a number");
	size_t sl = n - (size_t)(suf - s);
	static const struct {
		const char *s;
		int p10, p2;
	} tab[] = {
		{ "", 0, 0 },      { "b", 0, 0 },     { "k", 3, 0 },     { "kb", 3, 0 },   { "ki", 0, 10 },
		{ "kib", 0, 10 },  { "m", 6, 0 },     { "mb", 6, 0 },    { "mi", 0, 20 },  { "mib", 0, 20 },
		{ "g", 9, 0 },     { "gb", 9, 0 },    { "gi", 0, 30 },   { "gib", 0, 30 }, { "t", 12, 0 },
		{ "tb", 12, 0 },   { "ti", 0, 40 },   { "tib", 0, 40 },  { "p", 15, 0 },   { "pb", 15, 0 },
		{ "pi", 0, 50 },   { "pib", 0, 50 },  { "e", 18, 0 },    { "eb", 18, 0 },  { "ei", 0, 60 },
		{ "eib", 0, 60 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
		if (strlen(tab[i].s) == sl && strncasecmp(tab[i].s, suf, sl) == 0) {
			*out = amount_value(&a, tab[i].p10, tab[i].p2, true);
			return *out ? 0 : -ENOMEM;
		}
	return ev_error(ev, -EINVAL, EC_BUILTIN, "units.parse_bytes: byte unit %.*s not recognized", (int)sl, suf);
}

const struct builtin_decl rego_builtins_units[] = {
	{ "units.parse", 1, bi_units_parse, "amount with SI/binary suffix" },
	{ "units.parse_bytes", 1, bi_units_parse_bytes, "byte amount with unit" },
	{ NULL, 0, NULL, NULL },
};
