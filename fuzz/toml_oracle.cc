// SPDX-License-Identifier: Apache-2.0
//
// The oracle of fuzz/base_toml.c: TOML text -> arca value through toml++
// 3.3 (Debian's libtomlplusplus-dev, a complete TOML 1.0 parser that passes
// the toml-test suite). It was arca's TOML reader until lib/base/toml.c;
// the fuzzer now runs both on the same text and compares. Only the fuzz
// tree builds it: the arca binary carries no toml++.
//
// base.h is C11 (_Noreturn, implicit conversions in inline helpers) and is
// not included here; the few functions used are declared below with the
// same signatures.

// toml++ checks its own invariants with assert() and, when NDEBUG is set,
// turns them into compiler assumptions. One of them does not hold for
// hostile input (parse_key on a table header that starts with a character no
// key may start with, "[[+x]]") although the code right after it reports
// the error properly: an abort or an assumption the optimiser may act on is
// not acceptable in a parser of untrusted text, so its checks are compiled
// out and its error paths do the work.
#pragma push_macro("NDEBUG")
#undef NDEBUG
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>
#pragma pop_macro("NDEBUG")

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <sstream>
#include <string>

extern "C" {
struct val;
struct arca_err;
struct val *val_bool(bool b);
struct val *val_int(int64_t i);
struct val *val_double(double d);
struct val *val_string(const char *s, size_t len);
struct val *val_array_new(size_t cap);
struct val *val_object_new(size_t cap);
int val_array_push(struct val *a, struct val *item);
int val_object_put(struct val *o, struct val *key, struct val *v);
void val_unref(struct val *v);
int err_set(struct arca_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int toml_oracle_parse(const char *text, size_t len, struct val **out, struct arca_err *e);
}

namespace {

// Conversion errors that are not allocation failures: TOML values JSON
// cannot hold.
struct conv {
	struct arca_err *e;
	int rc = 0;

	int fail(int code, const char *what, const toml::source_region &where)
	{
		if (rc == 0)
			rc = err_set(e, code, "line %u, column %u: %s", (unsigned)where.begin.line,
				     (unsigned)where.begin.column, what);
		return rc;
	}

	struct val *node(const toml::node &n)
	{
		switch (n.type()) {
		case toml::node_type::table: {
			const toml::table &t = *n.as_table();
			struct val *o = val_object_new(t.size());
			if (!o)
				return nullptr;
			for (auto &&[k, v] : t) {
				struct val *key = val_string(k.str().data(), k.str().size());
				struct val *item = key ? node(v) : nullptr;
				if (!item || val_object_put(o, key, item) < 0) {
					if (!item)
						val_unref(key);
					val_unref(o);
					return nullptr;
				}
			}
			return o;
		}
		case toml::node_type::array: {
			const toml::array &a = *n.as_array();
			struct val *arr = val_array_new(a.size());
			if (!arr)
				return nullptr;
			for (auto &&v : a) {
				struct val *item = node(v);
				if (!item || val_array_push(arr, item) < 0) {
					val_unref(arr);
					return nullptr;
				}
			}
			return arr;
		}
		case toml::node_type::string: {
			const std::string &s = n.as_string()->get();
			return val_string(s.data(), s.size());
		}
		case toml::node_type::integer:
			return val_int(n.as_integer()->get());
		case toml::node_type::floating_point: {
			double d = n.as_floating_point()->get();
			if (!std::isfinite(d)) {
				fail(-EBADMSG, "inf and nan have no JSON value", n.source());
				return nullptr;
			}
			return val_double(d);
		}
		case toml::node_type::boolean:
			return val_bool(n.as_boolean()->get());
		case toml::node_type::date:
		case toml::node_type::time:
		case toml::node_type::date_time: {
			// Dates become their RFC 3339 text, as JSON has no date type.
			std::ostringstream os;
			if (n.is_date())
				os << *n.as_date();
			else if (n.is_time())
				os << *n.as_time();
			else
				os << *n.as_date_time();
			std::string s = os.str();
			return val_string(s.data(), s.size());
		}
		default:
			fail(-EBADMSG, "unsupported TOML value", n.source());
			return nullptr;
		}
	}
};

} // namespace

int toml_oracle_parse(const char *text, size_t len, struct val **out, struct arca_err *e)
{
	*out = nullptr;
	try {
		if (std::memchr(text, '\0', len))
			return err_set(e, -EBADMSG, "NUL byte in TOML text");
		// toml++ 3.3's Unicode tables fall into __builtin_unreachable()
		// for most non-ASCII code points (U+00A1..U+0499 among them) where
		// it looks for whitespace or key characters: undefined behaviour.
		// The fuzzer passes ASCII only; this fence stays in case not.
		size_t line = 1;
		for (size_t i = 0; i < len; i++) {
			if (text[i] == '\n')
				line++;
			if (static_cast<unsigned char>(text[i]) >= 0x80)
				return err_set(e, -EBADMSG,
					       "line %zu: non-ASCII byte in TOML text (write other characters as "
					       "\\uXXXX escapes in strings)",
					       line);
		}
		toml::table t = toml::parse(std::string_view(text, len));
		conv c{ e };
		struct val *v = c.node(t);
		if (!v)
			return c.rc ? c.rc : err_set(e, -ENOMEM, "out of memory");
		*out = v;
		return 0;
	} catch (const toml::parse_error &pe) {
		std::string d(pe.description());
		return err_set(e, -EBADMSG, "line %u, column %u: %s", (unsigned)pe.source().begin.line,
			       (unsigned)pe.source().begin.column, d.c_str());
	} catch (const std::bad_alloc &) {
		return err_set(e, -ENOMEM, "out of memory");
	} catch (...) {
		return err_set(e, -EBADMSG, "malformed TOML");
	}
}
