/// aten::im2col (F.unfold) and aten::col2im (F.fold), added to the pooling plugin.
///
/// unfold is a depthwise conv whose constant one-hot kernels each pick one kernel offset:
/// out channel c * kh * kw + i * kw + j reads x[c] at offset (i, j), PyTorch's column order.
/// fold is the conv_transpose with the same kernels, which sums every block back to its place;
/// rows and columns the blocks never reach are zeros.
#ifndef TS2COREML_PLUGINS_POOLING_IM2COL_LOWERINGS_H_
#define TS2COREML_PLUGINS_POOLING_IM2COL_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::im2col {

sdk::Status InferIm2col(sdk::InferContext& ctx);
sdk::Status LowerIm2col(sdk::LowerContext& ctx);
sdk::Status InferCol2im(sdk::InferContext& ctx);
sdk::Status LowerCol2im(sdk::LowerContext& ctx);

/// im2col(self, kernel_size, dilation, padding, stride).
inline constexpr t2c_input_decl kIm2colInputs[] = {sdk::Tensor("self"), sdk::Host("kernel_size"),
                                                   sdk::Host("dilation"), sdk::Host("padding"),
                                                   sdk::Host("stride")};
/// col2im(self, output_size, kernel_size, dilation, padding, stride).
inline constexpr t2c_input_decl kCol2imInputs[] = {
    sdk::Tensor("self"),   sdk::Host("output_size"), sdk::Host("kernel_size"),
    sdk::Host("dilation"), sdk::Host("padding"),     sdk::Host("stride")};

inline constexpr const char* kIm2colOps[] = {"aten::im2col"};
inline constexpr const char* kCol2imOps[] = {"aten::col2im"};

inline constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("im2col", kIm2colOps, kIm2colInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferIm2col>, sdk::LowerFn<LowerIm2col>),
    sdk::Lowering("col2im", kCol2imOps, kCol2imInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferCol2im>, sdk::LowerFn<LowerCol2im>),
};

}  // namespace ts2coreml::plugins::im2col

#endif  // TS2COREML_PLUGINS_POOLING_IM2COL_LOWERINGS_H_
