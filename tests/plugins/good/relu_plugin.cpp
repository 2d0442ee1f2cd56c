/// A test plugin claiming the built-in op aten::relu. Built twice:
///   RELU_PRIORITY=10: overrides the built-in lowering (priority 0), lowering relu as
///                     threshold(x, 0) so the package shows which lowering ran;
///   RELU_PRIORITY=0:  ties with the built-in lowering, a conflict naming both plugins.
#include "ts2coreml/sdk.h"

namespace sdk = ts2coreml::sdk;

namespace {

sdk::Status LowerReluAsThreshold(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var zero, ctx.ConstFloat(ctx.compute_dtype(), 0.0f));
  return ctx.EmitOutput("threshold", {{"x", x}, {"alpha", zero}});
}

constexpr const char* kOps[] = {"aten::relu"};
constexpr t2c_input_decl kInputs[] = {sdk::Tensor("self")};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("relu_as_threshold", kOps, kInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                  nullptr, sdk::LowerFn<LowerReluAsThreshold>, RELU_PRIORITY),
};

}  // namespace

TS2COREML_PLUGIN(RELU_PLUGIN_NAME, "1.0", kLowerings)
