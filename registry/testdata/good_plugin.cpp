/// A well-formed test plugin built with the SDK, covering every policy, rule and flag.
#include "ts2coreml/sdk.h"

namespace sdk = ts2coreml::sdk;

namespace {

sdk::Status LowerRelu(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  return ctx.EmitOutput("relu", {{"x", x}});
}

sdk::Status LowerAdd(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var y, ctx.Input(1));
  return ctx.EmitOutput("add", {{"x", x}, {"y", y}});
}

sdk::Status InferSoftmax(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType type, ctx.InputType(0));
  return ctx.SetOutputType(0, type);
}

sdk::Status LowerSoftmax(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  return ctx.EmitOutput("softmax", {{"x", x}});
}

sdk::Status LowerBatchNorm(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  return ctx.EmitOutput("batch_norm", {{"x", x}});
}

sdk::Status LowerFancyGelu(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  return ctx.EmitOutput("gelu", {{"x", x}});
}

constexpr const char* kReluOps[] = {"aten::relu"};
constexpr t2c_input_decl kReluInputs[] = {sdk::Tensor("self")};

constexpr const char* kAddOps[] = {"aten::add", "aten::sub"};
constexpr const char* kAddScalarOps[] = {"aten::add.Scalar"};
constexpr t2c_input_decl kAddInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                         sdk::Tensor("other", T2C_MASK_FLOAT_INT),
                                         sdk::Host("alpha")};

constexpr const char* kSoftmaxOps[] = {"aten::softmax.int"};
constexpr t2c_input_decl kSoftmaxInputs[] = {sdk::Tensor("self"), sdk::Host("dim"),
                                             sdk::Ignored("dtype")};

constexpr const char* kBatchNormOps[] = {"aten::batch_norm"};
constexpr t2c_input_decl kBatchNormInputs[] = {sdk::Tensor("input"),
                                               sdk::Param("weight", T2C_INPUT_OPTIONAL),
                                               sdk::Param("bias", T2C_INPUT_OPTIONAL),
                                               sdk::Param("running_mean"),
                                               sdk::Param("running_var"),
                                               sdk::Host("training"),
                                               sdk::Host("momentum"),
                                               sdk::Host("eps"),
                                               sdk::Ignored("cudnn_enabled")};

constexpr const char* kIdentityOps[] = {"aten::dropout", "aten::contiguous"};
constexpr t2c_input_decl kIdentityInputs[] = {sdk::Tensor("self", T2C_MASK_ANY)};

constexpr const char* kCatOps[] = {"aten::cat"};
constexpr t2c_input_decl kCatInputs[] = {sdk::TensorList("tensors"), sdk::Host("dim")};

constexpr const char* kFancyGeluOps[] = {"testns::fancy_gelu"};
constexpr const char* kFancyGeluSchemas[] = {"testns::fancy_gelu(Tensor x) -> Tensor"};
constexpr t2c_input_decl kFancyGeluInputs[] = {sdk::Tensor("x")};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("relu", kReluOps, kReluInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0, nullptr,
                  sdk::LowerFn<LowerRelu>),
    sdk::Lowering("add", kAddOps, kAddInputs, T2C_FP16_NATIVE, T2C_INFER_BROADCAST, nullptr,
                  sdk::LowerFn<LowerAdd>),
    sdk::Lowering("add_scalar", kAddScalarOps, kAddInputs, T2C_FP16_NATIVE, T2C_INFER_BROADCAST,
                  nullptr, sdk::LowerFn<LowerAdd>),
    sdk::Lowering("softmax", kSoftmaxOps, kSoftmaxInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferSoftmax>, sdk::LowerFn<LowerSoftmax>),
    sdk::Lowering("batch_norm", kBatchNormOps, kBatchNormInputs, T2C_FP16_FP32_PARAMS,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerBatchNorm>),
    sdk::Lowering("identity", kIdentityOps, kIdentityInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, nullptr, /*priority=*/0,
                  T2C_LOWERING_PASSTHROUGH),
    sdk::Lowering("cat", kCatOps, kCatInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferSoftmax>, sdk::LowerFn<LowerSoftmax>),
    sdk::CustomOpLowering("fancy_gelu", kFancyGeluOps, kFancyGeluSchemas, kFancyGeluInputs,
                          T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0, nullptr,
                          sdk::LowerFn<LowerFancyGelu>),
};

}  // namespace

TS2COREML_PLUGIN("test_good", "1.2.3", kLowerings)
