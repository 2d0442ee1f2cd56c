#include "core/convert/keep_fp32_rules.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/errors.h"

namespace ts2coreml::core {

absl::StatusOr<KeepFp32Rule> KeepFp32Rule::Parse(absl::string_view text) {
  KeepFp32Rule rule;
  rule.text_ = std::string(text);
  if (text.empty()) return Error(ErrorClass::kUsage, "--keep-fp32 needs a rule");
  if (absl::StartsWith(text, "re:")) {
    rule.kind_ = Kind::kRegex;
    rule.pattern_ = std::string(text.substr(3));
    try {
      rule.regex_ = std::make_shared<const std::regex>(rule.pattern_, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Error(ErrorClass::kUsage,
                   absl::StrCat("--keep-fp32 ", text, ": bad regex (", e.what(), ")"));
    }
    return rule;
  }
  rule.pattern_ = std::string(text);
  rule.kind_ = absl::StrContains(text, "::") ? Kind::kOpKind : Kind::kModulePath;
  return rule;
}

bool KeepFp32Rule::Matches(const Node& node) const {
  switch (kind_) {
    case Kind::kOpKind:
      return node.kind == pattern_ || node.QualifiedKind() == pattern_;
    case Kind::kModulePath:
      return node.scope == pattern_ || absl::StartsWith(node.scope, pattern_ + ".");
    case Kind::kRegex:
      return std::regex_match(node.scope, *regex_) || std::regex_match(node.kind, *regex_) ||
             std::regex_match(node.QualifiedKind(), *regex_);
  }
  return false;
}

}  // namespace ts2coreml::core
