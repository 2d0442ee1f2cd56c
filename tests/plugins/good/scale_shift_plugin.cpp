/// A test plugin for a namespace nothing else knows: `t2ctest::scale_shift(Tensor x, float a,
/// float b) -> Tensor` = x * a + b. The core learns the op only from this declaration. Its
/// constructor marker shows the marker tests that loading a good plugin is seen.
#include "tests/plugins/constructor_marker.h"
#include "ts2coreml/sdk.h"

namespace sdk = ts2coreml::sdk;

namespace {

sdk::Status LowerScaleShift(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(double a, ctx.Float(1));
  TS2COREML_ASSIGN_OR_RETURN(double b, ctx.Float(2));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType type, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var scale, ctx.ConstFloat(type.dtype, static_cast<float>(a)));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var shift, ctx.ConstFloat(type.dtype, static_cast<float>(b)));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var scaled, ctx.Emit1("mul", {{"x", x}, {"y", scale}}, type));
  return ctx.EmitOutput("add", {{"x", scaled}, {"y", shift}});
}

constexpr const char* kOps[] = {"t2ctest::scale_shift"};
constexpr const char* kSchemas[] = {"t2ctest::scale_shift(Tensor x, float a, float b) -> Tensor"};
constexpr t2c_input_decl kInputs[] = {sdk::Tensor("x"), sdk::Host("a"), sdk::Host("b")};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::CustomOpLowering("scale_shift", kOps, kSchemas, kInputs, T2C_FP16_NATIVE,
                          T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerScaleShift>),
};

}  // namespace

TS2COREML_PLUGIN("t2ctest.scale_shift", "0.3.1", kLowerings)
