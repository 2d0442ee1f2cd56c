/// Built-in lowerings of resizing: aten::upsample_{nearest,linear,bilinear,bicubic,trilinear}
/// and _upsample_nearest_exact in 1, 2 and 3 spatial dimensions, and the antialiased
/// _upsample_{bilinear,bicubic}2d_aa (both overloads: `.vec` from F.interpolate, with
/// output_size or scale_factors, and the explicit output_size/scales form).
/// The source coordinates PyTorch samples are computed on the host. 2-D bilinear is compared with
/// each MIL resize_bilinear mode and the first mode that samples the same points is emitted;
/// otherwise the resize is an exact product with constant [out, in] matrices per axis (linear,
/// cubic) or a gather of constant source indices per axis (nearest). Antialiased bilinear and
/// bicubic (_upsample_*2d_aa) are always the constant-matrix product.
#ifndef TS2COREML_PLUGINS_RESIZE_RESIZE_LOWERINGS_H_
#define TS2COREML_PLUGINS_RESIZE_RESIZE_LOWERINGS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The resize family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* ResizePluginInfo();

/// PyTorch's bilinear source coordinate of each output index along one axis (ATen's
/// area_pixel_compute_source_index in float, clamped to [0, in - 1] as its kernels do).
/// `scale` is the user's scale factor for that axis when one was given.
std::vector<double> TorchBilinearGrid(int64_t in, int64_t out, bool align_corners,
                                      std::optional<double> scale);

/// PyTorch's nearest source index of each output index along one axis (ATen's nearest_idx).
std::vector<int64_t> TorchNearestIndices(int64_t in, int64_t out, std::optional<double> scale);

/// PyTorch's nearest-exact source index of each output index (ATen's nearest_exact_idx).
std::vector<int64_t> TorchNearestExactIndices(int64_t in, int64_t out, std::optional<double> scale);

/// PyTorch's bicubic weights along one axis as a row-major [out, in] matrix (Keys' kernel with
/// A = -0.75 on four taps clamped to the border, as ATen's upsample_bicubic2d).
std::vector<float> TorchCubicMatrix(int64_t in, int64_t out, bool align_corners,
                                    std::optional<double> scale);

/// PyTorch's antialiased resize weights along one axis as a row-major [out, in] matrix (ATen's
/// _compute_indices_weights_aa: a triangle filter, or Keys' cubic with A = -0.5 when `cubic`,
/// widened by the downsampling scale and normalised over the taps inside the input).
std::vector<float> TorchAntialiasMatrix(int64_t in, int64_t out, bool align_corners,
                                        std::optional<double> scale, bool cubic);

/// The source coordinates MIL resize_bilinear samples with `sampling_mode`, per Apple's op
/// definition; empty when the mode is undefined for these sizes.
std::vector<double> MilResizeBilinearGrid(const char* sampling_mode, int64_t in, int64_t out);

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_RESIZE_RESIZE_LOWERINGS_H_
