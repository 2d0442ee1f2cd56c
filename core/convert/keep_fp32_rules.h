/// Keep-FP32 rules: the user's way to hold parts of a model in FP32 under --precision fp16.
///
/// A rule is one of:
///   - an op kind, `aten::layer_norm` (any overload) or `aten::add.Tensor` (one overload),
///     resolved as the registry resolves lowerings: `aten::hardswish` also matches the in-place
///     `aten::hardswish_`;
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
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
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

/// Every rule must match at least one node of `g`: a rule that matches nothing (`aten::conv2d`
/// where tracing recorded `aten::_convolution`, a module path with a typo) is an error of class
/// kUsage naming the rule and the op kinds or module paths of the model nearest to it.
absl::Status CheckRulesMatch(const Graph& g, absl::Span<const KeepFp32Rule> rules);

/// Up to `n` of `candidates` nearest to `query`: most characters shared in one run first, then
/// fewest edits. Exposed for tests.
std::vector<std::string> Nearest(absl::string_view query,
                                 const std::vector<std::string>& candidates, size_t n);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_KEEP_FP32_RULES_H_
