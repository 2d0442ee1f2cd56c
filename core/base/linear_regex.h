/// Regular expressions matched in time linear in the subject, never by deep recursion.
///
/// libstdc++'s default matcher backtracks: a user's `--keep-fp32 're:(.*.*)*x'` runs for hours,
/// and a 100,000-character subject overflows the stack (one recursion per character). Its
/// breadth-first matcher (the `__polynomial` flag) does neither; back-references, which it cannot
/// match, are refused when the pattern is compiled (std::regex_error).
///
///   static const std::regex kFrame(R"(^(\S.*)\((\d+)\)$)", kLinearRegex);
#ifndef TS2COREML_CORE_BASE_LINEAR_REGEX_H_
#define TS2COREML_CORE_BASE_LINEAR_REGEX_H_

#include <regex>

namespace ts2coreml::core {

/// ECMAScript syntax, matched breadth-first.
inline constexpr std::regex::flag_type kLinearRegex =
    std::regex::ECMAScript | std::regex_constants::__polynomial;

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_BASE_LINEAR_REGEX_H_
