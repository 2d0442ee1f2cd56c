/// The FP32 reference of a model: what `verify` compares a package with and what `--calibrate`
/// and `--precision auto` measure. A model whose floating parameters or buffers are half or
/// bfloat16 (`model.half()`, or only some submodules made half) is referenced by a clone of it
/// with those tensors cast to float32, run on float32 inputs; the model itself is not changed.
///
///   Fp32Reference ref = MakeFp32Reference(module);  // ref.module runs on float32 inputs
#ifndef TS2COREML_CORE_TORCH_FP32_REFERENCE_H_
#define TS2COREML_CORE_TORCH_FP32_REFERENCE_H_

#include <string>

#include "torch/csrc/jit/api/module.h"

namespace ts2coreml::core {

/// A model's FP32 reference.
struct Fp32Reference {
  /// The model itself when it is FP32 already (the same handle), else the upcast clone, in eval
  /// mode.
  torch::jit::Module module;
  /// The reduced-precision dtypes the clone was cast from ("half", "half and bfloat16"); empty
  /// when the model is referenced as it is.
  std::string upcast_from;

  bool upcast() const { return !upcast_from.empty(); }
  /// One phrase for summaries: "the model" or "the model with its half parameters and buffers
  /// cast to float32".
  std::string Describe() const;
};

/// The reduced-precision float dtypes (half, bfloat16) among `m`'s parameters and buffers, its
/// submodules' included, named and joined with "and"; empty when there are none.
std::string ReducedPrecisionWeights(const torch::jit::Module& m);

/// The FP32 reference of `model`: `model` itself when every floating parameter and buffer is
/// float32 or float64, else a deep clone with its half and bfloat16 tensors cast to float32.
Fp32Reference MakeFp32Reference(const torch::jit::Module& model);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_FP32_REFERENCE_H_
