#include "registry/op_names.h"

namespace ts2coreml::registry {

std::pair<std::string_view, std::string_view> SplitOp(std::string_view op) {
  const size_t sep = op.find("::");
  const size_t dot = op.find('.', sep == std::string_view::npos ? 0 : sep + 2);
  if (dot == std::string_view::npos) return {op, std::string_view()};
  return {op.substr(0, dot), op.substr(dot + 1)};
}

std::string_view FunctionalName(std::string_view name) {
  const bool in_place = name.size() >= 1 && name.back() == '_' &&
                        !(name.size() >= 2 && name.substr(name.size() - 2) == "__");
  if (!in_place) return {};
  const size_t sep = name.find("::");
  const std::string_view functional = name.substr(0, name.size() - 1);
  if (sep == std::string_view::npos || functional.size() <= sep + 2) return {};
  return functional;
}

std::string_view ResolvedName(std::string_view name) {
  const std::string_view functional = FunctionalName(name);
  return functional.empty() ? name : functional;
}

}  // namespace ts2coreml::registry
