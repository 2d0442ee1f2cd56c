#include "core/torch/fp32_reference.h"

#include <torch/script.h>

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ts2coreml::core {
namespace {

bool IsReduced(at::ScalarType t) { return t == at::kHalf || t == at::kBFloat16; }

}  // namespace

std::string Fp32Reference::Describe() const {
  if (!upcast()) return "the model";
  return absl::StrCat("the model with its ", upcast_from,
                      " parameters and buffers cast to float32");
}

std::string ReducedPrecisionWeights(const torch::jit::Module& m) {
  std::set<at::ScalarType> found;
  for (const at::Tensor& p : m.parameters()) {
    if (IsReduced(p.scalar_type())) found.insert(p.scalar_type());
  }
  for (const at::Tensor& b : m.buffers()) {
    if (IsReduced(b.scalar_type())) found.insert(b.scalar_type());
  }
  std::vector<std::string> names;
  if (found.count(at::kHalf)) names.push_back("half");
  if (found.count(at::kBFloat16)) names.push_back("bfloat16");
  return absl::StrJoin(names, " and ");
}

Fp32Reference MakeFp32Reference(const torch::jit::Module& model) {
  Fp32Reference r{model, ReducedPrecisionWeights(model)};
  if (r.upcast()) {
    r.module = model.clone();  // deep: the clone's tensors are its own
    for (const torch::jit::Module& m : r.module.modules()) {
      for (const auto& [name, t] : m.named_parameters(/*recurse=*/false)) {
        if (IsReduced(t.scalar_type())) t.set_data(t.to(at::kFloat));
      }
      for (const auto& [name, t] : m.named_buffers(/*recurse=*/false)) {
        if (IsReduced(t.scalar_type())) t.set_data(t.to(at::kFloat));
      }
    }
    r.module.eval();
  }
  return r;
}

}  // namespace ts2coreml::core
