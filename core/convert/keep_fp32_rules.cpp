#include "core/convert/keep_fp32_rules.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/errors.h"
#include "core/base/linear_regex.h"
#include "registry/op_names.h"

namespace ts2coreml::core {
namespace {

/// This abseil build has its own absl::string_view.
absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

/// Levenshtein distance.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

/// Length of the longest run of characters `a` and `b` share.
size_t LongestCommonRun(absl::string_view a, absl::string_view b) {
  size_t best = 0;
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : 0;
      best = std::max(best, cur[j]);
    }
    std::swap(prev, cur);
  }
  return best;
}

/// The name after "ns::", where similarity is judged for op kinds.
absl::string_view BaseName(absl::string_view kind) {
  const size_t sep = kind.find("::");
  return sep == absl::string_view::npos ? kind : kind.substr(sep + 2);
}

/// Every op kind of `g` as the registry resolves it, and every module path with its prefixes.
std::pair<std::vector<std::string>, std::vector<std::string>> KindsAndPaths(const Graph& g) {
  std::set<std::string> kinds, paths;
  for (const Node& n : g.nodes()) {
    kinds.insert(std::string(registry::ResolvedName(n.kind)));
    for (size_t dot = 0; !n.scope.empty(); dot = n.scope.find('.', dot + 1)) {
      paths.insert(n.scope.substr(0, dot == std::string::npos ? n.scope.size() : dot));
      if (dot == std::string::npos) break;
    }
  }
  return {{kinds.begin(), kinds.end()}, {paths.begin(), paths.end()}};
}

/// "; op kinds near it: a, b" or "" when there are none.
std::string NearList(absl::string_view what, absl::string_view query,
                     const std::vector<std::string>& candidates) {
  const std::vector<std::string> near = Nearest(query, candidates, 3);
  if (near.empty()) return "";
  return absl::StrCat("; ", what, " near it: ", absl::StrJoin(near, ", "));
}

}  // namespace

absl::StatusOr<KeepFp32Rule> KeepFp32Rule::Parse(absl::string_view text) {
  KeepFp32Rule rule;
  rule.text_ = std::string(text);
  if (text.empty()) return Error(ErrorClass::kUsage, "--keep-fp32 needs a rule");
  if (absl::StartsWith(text, "re:")) {
    rule.kind_ = Kind::kRegex;
    rule.pattern_ = std::string(text.substr(3));
    try {
      rule.regex_ = std::make_shared<const std::regex>(rule.pattern_, kLinearRegex);
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
    case Kind::kOpKind: {
      const auto [name, overload] = registry::SplitOp(pattern_);
      if (registry::ResolvedName(node.kind) != registry::ResolvedName(name)) return false;
      return overload.empty() || overload == node.overload;
    }
    case Kind::kModulePath:
      return node.scope == pattern_ || absl::StartsWith(node.scope, pattern_ + ".");
    case Kind::kRegex:
      return std::regex_match(node.scope, *regex_) || std::regex_match(node.kind, *regex_) ||
             std::regex_match(node.QualifiedKind(), *regex_);
  }
  return false;
}

std::vector<std::string> Nearest(absl::string_view query,
                                 const std::vector<std::string>& candidates, size_t n) {
  std::vector<std::tuple<size_t, size_t, std::string>> ranked;
  for (const std::string& c : candidates) {
    const size_t run = LongestCommonRun(BaseName(query), BaseName(c));
    const size_t edits = EditDistance(query, c);
    // Nothing in common beyond two characters and mostly different: not worth suggesting.
    if (run < 3 && edits > std::max<size_t>(2, query.size() / 3)) continue;
    ranked.emplace_back(-run, edits, c);
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < ranked.size() && i < n; ++i) out.push_back(std::get<2>(ranked[i]));
  return out;
}

absl::Status CheckRulesMatch(const Graph& g, absl::Span<const KeepFp32Rule> rules) {
  for (const KeepFp32Rule& rule : rules) {
    const bool matched = std::any_of(g.nodes().begin(), g.nodes().end(),
                                     [&rule](const Node& n) { return rule.Matches(n); });
    if (matched) continue;
    const auto [kinds, paths] = KindsAndPaths(g);
    std::string near;
    switch (rule.kind()) {
      case KeepFp32Rule::Kind::kOpKind:
        near = NearList("op kinds", AsAbsl(registry::SplitOp(rule.text()).first), kinds);
        break;
      case KeepFp32Rule::Kind::kModulePath:
        near = NearList("module paths", rule.text(), paths);
        break;
      case KeepFp32Rule::Kind::kRegex:
        break;
    }
    return Error(
        ErrorClass::kUsage,
        absl::StrCat(
            "--keep-fp32 ", rule.text(), " matches no node of the model", near,
            "; a rule is an op kind (ns::name[.overload]), a module path as named_modules() prints it, or re:REGEX"));
  }
  return absl::OkStatus();
}

}  // namespace ts2coreml::core
