/// A test plugin that overrides some of test_good's lowerings with higher priorities.
#include "ts2coreml/sdk.h"

namespace sdk = ts2coreml::sdk;

namespace {

sdk::Status LowerFastRelu(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  return ctx.EmitOutput("fast_relu", {{"x", x}});
}

sdk::Status LowerAdd(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var y, ctx.Input(1));
  return ctx.EmitOutput("add", {{"x", x}, {"y", y}});
}

constexpr const char* kReluOps[] = {"aten::relu"};
constexpr t2c_input_decl kReluInputs[] = {sdk::Tensor("self")};
constexpr const char* kAddOps[] = {"aten::add"};
constexpr t2c_input_decl kAddInputs[] = {sdk::Tensor("self"), sdk::Tensor("other"),
                                         sdk::Host("alpha")};
constexpr const char* kDropoutOps[] = {"aten::dropout"};
constexpr t2c_input_decl kDropoutInputs[] = {sdk::Tensor("input"), sdk::Host("p"),
                                             sdk::Host("train")};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("fast_relu", kReluOps, kReluInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                  nullptr, sdk::LowerFn<LowerFastRelu>, /*priority=*/10),
    // A bare name with a higher priority beats test_good's exact aten::add.Scalar claim.
    sdk::Lowering("add_high", kAddOps, kAddInputs, T2C_FP16_NATIVE, T2C_INFER_BROADCAST, nullptr,
                  sdk::LowerFn<LowerAdd>, /*priority=*/5),
    // A real lowering outranks test_good's passthrough for aten::dropout.
    sdk::Lowering("dropout_real", kDropoutOps, kDropoutInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerFastRelu>,
                  /*priority=*/1),
};

}  // namespace

TS2COREML_PLUGIN("test_override", "0.1", kLowerings)
