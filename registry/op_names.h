/// How op names are written and resolved: "ns::name.overload", and the in-place variant
/// "ns::name_" that falls back to the functional op. The registry's lookups and the core's
/// --keep-fp32 op-kind rules both resolve names through these.
///
///   auto [name, overload] = SplitOp("aten::add_.Tensor");    // "aten::add_", "Tensor"
///   FunctionalName("aten::add_");                             // "aten::add"
///   FunctionalName("aten::__and__");                          // "" (a dunder, not in place)
#ifndef TS2COREML_REGISTRY_OP_NAMES_H_
#define TS2COREML_REGISTRY_OP_NAMES_H_

#include <string_view>
#include <utility>

namespace ts2coreml::registry {

/// Splits "ns::name.overload" into name and overload (overload empty for "ns::name").
std::pair<std::string_view, std::string_view> SplitOp(std::string_view op);

/// "aten::relu_" -> "aten::relu". Empty when `name` is not an in-place variant ("aten::__and__"
/// is not: dunder names end in "__").
std::string_view FunctionalName(std::string_view name);

/// The name a lowering is looked up by: the functional name of an in-place variant, else `name`.
std::string_view ResolvedName(std::string_view name);

}  // namespace ts2coreml::registry

#endif  // TS2COREML_REGISTRY_OP_NAMES_H_
