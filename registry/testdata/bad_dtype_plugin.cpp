/// An SDK-built test plugin whose second lowering accepts MIL strings as a tensor dtype: invalid.
#include "ts2coreml/sdk.h"

namespace sdk = ts2coreml::sdk;

namespace {

sdk::Status LowerCopy(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  return ctx.EmitOutput("identity", {{"x", x}});
}

constexpr const char* kReluOps[] = {"aten::relu"};
constexpr t2c_input_decl kReluInputs[] = {sdk::Tensor("self")};
constexpr const char* kCopyOps[] = {"aten::clone"};
constexpr t2c_input_decl kCopyInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT | T2C_DTYPE_BIT(T2C_DTYPE_STRING))};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("relu", kReluOps, kReluInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0, nullptr,
                  sdk::LowerFn<LowerCopy>),
    sdk::Lowering("copy", kCopyOps, kCopyInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0, nullptr,
                  sdk::LowerFn<LowerCopy>),
};

}  // namespace

TS2COREML_PLUGIN("test_bad_dtype", "1.0", kLowerings)
