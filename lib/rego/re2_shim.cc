// SPDX-License-Identifier: Apache-2.0
//
// A C ABI over RE2 for Rego's regex and glob builtins. RE2 is used because
// OPA's regex builtins follow Go's regexp package, which has RE2 syntax and
// guarantees linear-time matching: a hostile pattern or input cannot make a
// launch decision take exponential time (no backtracking engine here). The
// shim never throws: RE2 reports errors through ok()/error(), and allocation
// failures abort as they would in C++ anyway.
#include <re2/re2.h>

#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "re2_shim.h"

extern "C" {

int rego_re_compile(const char *pat, size_t len, struct rego_re **out, char *err, size_t errlen)
{
	RE2::Options opt;
	opt.set_log_errors(false);
	opt.set_max_mem(8 << 20); // named limit: program memory per pattern
	RE2 *re = new (std::nothrow) RE2(re2::StringPiece(pat, len), opt);
	if (!re)
		return -ENOMEM;
	if (!re->ok()) {
		if (err && errlen) {
			// Go's regexp/syntax wording ("missing closing ]: `[`"),
			// which OPA's errors carry, for the codes the two share
			const char *code = nullptr;
			switch (re->error_code()) {
			case RE2::ErrorMissingBracket: code = "missing closing ]"; break;
			case RE2::ErrorMissingParen: code = "missing closing )"; break;
			case RE2::ErrorUnexpectedParen: code = "unexpected )"; break;
			case RE2::ErrorRepeatArgument: code = "missing argument to repetition operator"; break;
			case RE2::ErrorBadEscape: code = "invalid escape sequence"; break;
			case RE2::ErrorBadCharRange: code = "invalid character class range"; break;
			case RE2::ErrorBadCharClass: code = "invalid character class"; break;
			case RE2::ErrorRepeatSize: code = "invalid repeat count"; break;
			case RE2::ErrorRepeatOp: code = "invalid nested repetition operator"; break;
			case RE2::ErrorBadPerlOp: code = "invalid or unsupported Perl syntax"; break;
			case RE2::ErrorBadUTF8: code = "invalid UTF-8"; break;
			case RE2::ErrorBadNamedCapture: code = "invalid named capture"; break;
			default: break;
			}
			if (code) {
				std::string arg = re->error_arg();
				snprintf(err, errlen, "%s: `%s`", code, arg.c_str());
			} else {
				std::string e = re->error();
				snprintf(err, errlen, "%s", e.c_str());
			}
		}
		delete re;
		return -EBADMSG;
	}
	*out = reinterpret_cast<struct rego_re *>(re);
	return 0;
}

void rego_re_free(struct rego_re *r)
{
	delete reinterpret_cast<RE2 *>(r);
}

int rego_re_groups(const struct rego_re *r)
{
	return reinterpret_cast<const RE2 *>(r)->NumberOfCapturingGroups();
}

int rego_re_match(const struct rego_re *r, const char *s, size_t n)
{
	return RE2::PartialMatch(re2::StringPiece(s, n), *reinterpret_cast<const RE2 *>(r)) ? 1 : 0;
}

int rego_re_find(const struct rego_re *r, const char *s, size_t n, size_t start, bool anchor_start, long *offs,
		 int noffs)
{
	const RE2 *re = reinterpret_cast<const RE2 *>(r);
	int ng = noffs / 2;
	std::vector<re2::StringPiece> sub(static_cast<size_t>(ng));
	if (!re->Match(re2::StringPiece(s, n), start, n, anchor_start ? RE2::ANCHOR_START : RE2::UNANCHORED, sub.data(),
		       ng))
		return 0;
	for (int i = 0; i < ng; i++) {
		if (sub[static_cast<size_t>(i)].data() == nullptr) {
			offs[2 * i] = offs[2 * i + 1] = -1;
		} else {
			offs[2 * i] = static_cast<long>(sub[static_cast<size_t>(i)].data() - s);
			offs[2 * i + 1] = offs[2 * i] + static_cast<long>(sub[static_cast<size_t>(i)].size());
		}
	}
	return 1;
}

} // extern "C"
