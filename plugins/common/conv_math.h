/// Output-size arithmetic of convolution and pooling, PyTorch's and MIL's, shared by the `infer`
/// and `lower` callbacks so both agree by construction.
#ifndef TS2COREML_PLUGINS_COMMON_CONV_MATH_H_
#define TS2COREML_PLUGINS_COMMON_CONV_MATH_H_

#include <cstdint>

namespace ts2coreml::plugins {

/// Floor division that rounds toward negative infinity (C++ rounds toward zero).
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

/// The extent of a dilated kernel: (k - 1) * d + 1.
inline int64_t DilatedKernel(int64_t kernel, int64_t dilation) {
  return (kernel - 1) * dilation + 1;
}

/// PyTorch's (and MIL conv's) convolution output size with explicit before/after padding:
/// floor((in + before + after - dilated_kernel) / stride) + 1.
inline int64_t ConvOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad_before,
                              int64_t pad_after, int64_t dilation) {
  return FloorDiv(in + pad_before + pad_after - DilatedKernel(kernel, dilation), stride) + 1;
}

/// PyTorch's transposed convolution output size:
/// (in - 1) * stride - 2 * pad + dilated_kernel + output_padding.
inline int64_t ConvTransposeOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                                       int64_t dilation, int64_t output_padding) {
  return (in - 1) * stride - 2 * pad + DilatedKernel(kernel, dilation) + output_padding;
}

/// MIL conv_transpose's output size with pad_type "custom":
/// (in - 1) * stride + dilated_kernel - pad_before - pad_after.
inline int64_t MilConvTransposeOutputSize(int64_t in, int64_t kernel, int64_t stride,
                                          int64_t pad_before, int64_t pad_after, int64_t dilation) {
  return (in - 1) * stride + DilatedKernel(kernel, dilation) - pad_before - pad_after;
}

/// PyTorch's pooling output size (ATen pooling_output_shape) with symmetric padding `pad`.
/// In ceil mode the last window must start inside the input or its left padding.
inline int64_t PoolOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                              int64_t dilation, bool ceil_mode) {
  int64_t numerator = in + 2 * pad - DilatedKernel(kernel, dilation) + (ceil_mode ? stride - 1 : 0);
  int64_t out = FloorDiv(numerator, stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

/// MIL max_pool/avg_pool output size with pad_type "custom" and symmetric padding `pad`, per the
/// op definition: in ceil mode the last window is dropped only when it starts in the right
/// padding and the padding is non-zero.
inline int64_t MilPoolOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                                 bool ceil_mode) {
  if (!ceil_mode) return FloorDiv(in + 2 * pad - kernel, stride) + 1;
  int64_t out = FloorDiv(in + 2 * pad - kernel + stride - 1, stride) + 1;
  if ((out - 1) * stride >= in + pad && pad > 0) --out;
  return out;
}

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_COMMON_CONV_MATH_H_
