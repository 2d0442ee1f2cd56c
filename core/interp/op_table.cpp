#include "core/interp/op_table.h"

namespace ts2coreml::interp {

void OpTable::Add(absl::string_view type, OpImpl impl) { impls_[std::string(type)] = impl; }

OpImpl OpTable::Find(absl::string_view type) const {
  auto it = impls_.find(type);
  return it == impls_.end() ? nullptr : it->second;
}

std::vector<std::string> OpTable::Types() const {
  std::vector<std::string> types;
  for (const auto& [type, impl] : impls_) types.push_back(type);
  return types;
}

const OpTable& BuiltinOps() {
  static const OpTable* table = [] {
    auto* t = new OpTable;
    RegisterActivationOps(*t);
    RegisterConvOps(*t);
    RegisterElementwiseOps(*t);
    RegisterLinalgOps(*t);
    RegisterNormOps(*t);
    RegisterPoolOps(*t);
    RegisterReduceOps(*t);
    RegisterResizeOps(*t);
    RegisterTensorOps(*t);
    return t;
  }();
  return *table;
}

}  // namespace ts2coreml::interp
