/// Built twice (CONFLICT_SIDE "a" and "b"): two plugins claiming aten::sigmoid with equal priority.
#include "ts2coreml/sdk.h"

namespace sdk = ts2coreml::sdk;

namespace {

sdk::Status LowerSigmoid(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  return ctx.EmitOutput("sigmoid", {{"x", x}});
}

constexpr const char* kSigmoidOps[] = {"aten::sigmoid"};
constexpr t2c_input_decl kSigmoidInputs[] = {sdk::Tensor("self")};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("sigmoid_" CONFLICT_SIDE, kSigmoidOps, kSigmoidInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerSigmoid>),
};

}  // namespace

TS2COREML_PLUGIN("test_conflict_" CONFLICT_SIDE, "1.0", kLowerings)
