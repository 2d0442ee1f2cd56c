/// aten::affine_grid_generator (F.affine_grid, 2-D and 3-D) and aten::grid_sampler (F.grid_sample
/// on 4-D inputs: bilinear, nearest and bicubic; on 5-D inputs: bilinear (trilinear) and nearest;
/// padding zeros / border / reflection, align_corners), added to the resize plugin.
///
/// affine_grid is the constant base grid times theta^T (one matmul). grid_sample needs no MIL
/// resample (which the reference interpreter lacks): the sample coordinates are unnormalized and
/// padded as ATen does, then each output point's weights over the input rows and columns are
/// computed densely (bilinear: the tent max(0, 1 - |coordinate - index|), which is ATen's corner
/// weights and gives zero outside the image; nearest: round(coordinate) == index; bicubic: ATen's
/// four cubic coefficients, each added at the pixel its tap lands on after padding), and the output
/// is one batched matmul of the flattened input with their outer product over the spatial axes.
#ifndef TS2COREML_PLUGINS_RESIZE_GRID_SAMPLE_LOWERINGS_H_
#define TS2COREML_PLUGINS_RESIZE_GRID_SAMPLE_LOWERINGS_H_

#include <cstdint>
#include <vector>

#include "ts2coreml/plugin_abi.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::grid_sample {

/// ATen's linspace_from_neg_one: the normalized coordinate of each of `n` pixels.
std::vector<float> NormalizedPixels(int64_t n, bool align_corners);

sdk::Status InferAffineGrid(sdk::InferContext& ctx);
sdk::Status LowerAffineGrid(sdk::LowerContext& ctx);
sdk::Status InferGridSampler(sdk::InferContext& ctx);
sdk::Status LowerGridSampler(sdk::LowerContext& ctx);

inline constexpr t2c_input_decl kAffineGridInputs[] = {sdk::Tensor("theta"), sdk::Host("size"),
                                                       sdk::Host("align_corners")};
inline constexpr t2c_input_decl kGridSamplerInputs[] = {
    sdk::Tensor("input"), sdk::Tensor("grid"), sdk::Host("interpolation_mode"),
    sdk::Host("padding_mode"), sdk::Host("align_corners")};

inline constexpr const char* kAffineGridOps[] = {"aten::affine_grid_generator"};
inline constexpr const char* kGridSamplerOps[] = {"aten::grid_sampler", "aten::grid_sampler_2d",
                                                  "aten::grid_sampler_3d"};

inline constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("affine_grid", kAffineGridOps, kAffineGridInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferAffineGrid>, sdk::LowerFn<LowerAffineGrid>),
    // Pixel coordinates up to the image size need more than fp16's 11 bits.
    sdk::Lowering("grid_sampler", kGridSamplerOps, kGridSamplerInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferGridSampler>, sdk::LowerFn<LowerGridSampler>),
};

}  // namespace ts2coreml::plugins::grid_sample

#endif  // TS2COREML_PLUGINS_RESIZE_GRID_SAMPLE_LOWERINGS_H_
