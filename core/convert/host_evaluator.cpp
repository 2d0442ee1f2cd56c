#include "core/convert/host_evaluator.h"

#include <algorithm>
#include <set>
#include <string>

namespace ts2coreml::core {

std::vector<int> ShapeOnlyInputs(const Node& node) {
  static const auto* kinds = new std::set<std::string>{
      "aten::new_zeros",
      "aten::new_ones",
      "aten::new_full",
      "aten::new_empty",
      "aten::zeros_like",
      "aten::ones_like",
      "aten::full_like",
      "aten::empty_like",
      "aten::size",
      "aten::dim",
      "aten::numel",
      "aten::is_floating_point",
      "aten::_shape_as_tensor",
  };
  if (kinds->count(node.kind) != 0 && !node.inputs.empty()) return {0};
  return {};
}

bool ReadsOnlyConstants(const Graph& g, const Node& n) {
  const std::vector<int> shape_only = ShapeOnlyInputs(n);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Value& v = g.value(g.Resolve(n.inputs[i]));
    const bool only_type =
        std::find(shape_only.begin(), shape_only.end(), static_cast<int>(i)) != shape_only.end();
    switch (v.kind) {
      case ValueKind::kNone:
        break;
      case ValueKind::kTensor:
        if (!(v.is_const || (only_type && v.typed))) return false;
        break;
      case ValueKind::kTensorList:
        for (ValueId e : v.elements) {
          const Value& ev = g.value(g.Resolve(e));
          if (ev.kind != ValueKind::kNone && !(ev.kind == ValueKind::kTensor && ev.is_const)) {
            return false;
          }
        }
        break;
      default:
        if (!v.is_const) return false;
        break;
    }
  }
  return true;
}

}  // namespace ts2coreml::core
