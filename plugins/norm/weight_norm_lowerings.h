/// _weight_norm(v, g, dim) and _weight_norm_interface(v, g, dim) -> (w, norm), what
/// nn.utils.weight_norm calls: w = v * (g / ||v||), the 2-norm over every dim of v but `dim`.
/// As ATen: dim 0 and the last dim (the fused kernel) read g as one value per index of that dim
/// and give the norm in g's shape; any other dim is norm_except_dim with ordinary broadcasting,
/// where -1 means the norm of the whole tensor (not the last dim) and other negative dims wrap.
/// _weight_norm_interface exists only for dim 0 and the last dim (PyTorch asserts otherwise).
/// norm_lowerings.cpp appends kLowerings.
///
///   %w = aten::_weight_norm(%v, %g, 0)   // v [4, 3, 5], g [4, 1, 1]
///   -> reduce_l2_norm(v, axes [1, 2], keep_dims) [4, 1, 1]; real_div(g, norm); mul(v, .)
#ifndef TS2COREML_PLUGINS_NORM_WEIGHT_NORM_LOWERINGS_H_
#define TS2COREML_PLUGINS_NORM_WEIGHT_NORM_LOWERINGS_H_

#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::weight_norm {

sdk::Status InferWeightNorm(sdk::InferContext& ctx);
sdk::Status LowerWeightNorm(sdk::LowerContext& ctx);

inline constexpr t2c_input_decl kWeightNormInputs[] = {
    sdk::Tensor("v", T2C_MASK_FLOAT), sdk::Tensor("g", T2C_MASK_FLOAT), sdk::Host("dim")};
inline constexpr const char* kWeightNormOps[] = {"aten::_weight_norm",
                                                 "aten::_weight_norm_interface"};

/// The squares summed can exceed FP16's range: computed in FP32.
inline constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("weight_norm", kWeightNormOps, kWeightNormInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferWeightNorm>, sdk::LowerFn<LowerWeightNorm>),
};

}  // namespace ts2coreml::plugins::weight_norm

#endif  // TS2COREML_PLUGINS_NORM_WEIGHT_NORM_LOWERINGS_H_
