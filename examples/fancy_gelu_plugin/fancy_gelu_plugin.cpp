/// A ts2coreml plugin for one custom op, `mylib::fancy_gelu(Tensor x) -> Tensor`, computing
/// x * sigmoid(1.702 * x) (the sigmoid approximation of GELU). Its kernel is defined elsewhere: in
/// C++ with TORCH_LIBRARY (examples/fancy_gelu_op) or in Python with torch.library.
///
/// Everything the converter needs is declared as constant data: the op and its full schema (the
/// core registers it with LibTorch, which cannot load a model calling an unknown op), the input
/// (a tensor, fp16 or fp32), the FP16 policy and how the output type follows from the input. The
/// lowering itself only emits MIL.
#include "ts2coreml/sdk.h"

namespace sdk = ts2coreml::sdk;

namespace {

constexpr float kSigmoidScale = 1.702f;

constexpr const char* kOps[] = {"mylib::fancy_gelu"};
constexpr const char* kSchemas[] = {"mylib::fancy_gelu(Tensor x) -> Tensor"};
constexpr t2c_input_decl kInputs[] = {sdk::Tensor("x", T2C_MASK_FLOAT)};
constexpr uint32_t kX = sdk::InputIndex(kInputs, "x");

/// fancy_gelu(x) = x * sigmoid(1.702 * x), in the dtype the core planned for this node.
sdk::Status LowerFancyGelu(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(kX));
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType type, ctx.OutputType(0));
  // Constants are created in the compute dtype: fp16 under --precision fp16, else fp32.
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var scale, ctx.ConstFloat(ctx.compute_dtype(), kSigmoidScale));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var scaled, ctx.Emit1("mul", {{"x", x}, {"y", scale}}, type));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var gate, ctx.Emit1("sigmoid", {{"x", scaled}}, type));
  return ctx.EmitOutput("mul", {{"x", x}, {"y", gate}});
}

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::CustomOpLowering("fancy_gelu", kOps, kSchemas, kInputs, T2C_FP16_NATIVE,
                          T2C_INFER_SAME_AS_INPUT0, /*infer=*/nullptr,
                          sdk::LowerFn<LowerFancyGelu>),
};

}  // namespace

TS2COREML_PLUGIN("mylib.fancy_gelu", "1.0.0", kLowerings)
