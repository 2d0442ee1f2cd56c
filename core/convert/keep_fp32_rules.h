/// Keep-FP32 rules: the user's way to hold parts of a model in FP32 under --precision fp16.
///
/// A rule is one of:
///   - an op kind, `aten::layer_norm` (any overload) or `aten::add.Tensor` (one overload);
///   - a module path as `model.named_modules()` prints it, `enc.layers.0`: the module and
///     everything inside it;
///   - a regex, `re:.*attn.*`, matched in full against a node's module path and against its kind.
///
///   absl::StatusOr<KeepFp32Rule> rule = KeepFp32Rule::Parse("re:.*attn.*");
///   if (rule->Matches(node)) ...
#ifndef TS2COREML_CORE_CONVERT_KEEP_FP32_RULES_H_
#define TS2COREML_CORE_CONVERT_KEEP_FP32_RULES_H_

#include <memory>
#include <regex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/ir/graph.h"

namespace ts2coreml::core {

class KeepFp32Rule {
 public:
  enum class Kind { kOpKind, kModulePath, kRegex };

  /// Parses a --keep-fp32 argument. Errors (class kUsage) for an empty rule or a bad regex.
  static absl::StatusOr<KeepFp32Rule> Parse(absl::string_view text);

  Kind kind() const { return kind_; }
  /// The rule as the user wrote it.
  const std::string& text() const { return text_; }
  bool Matches(const Node& node) const;

 private:
  Kind kind_ = Kind::kOpKind;
  std::string text_;
  std::string pattern_;  ///< op kind or module path
  std::shared_ptr<const std::regex> regex_;
};

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_KEEP_FP32_RULES_H_
