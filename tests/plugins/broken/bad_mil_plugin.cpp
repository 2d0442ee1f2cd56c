/// Plugins whose lowering of t2ctest::broken emits MIL that Core ML would refuse, one mistake per
/// build, each as a plugin author could make it:
///   CASE_WRONG_SHAPE     an intermediate op declared with the wrong output shape
///   CASE_MISSPELLED      `axis` for reduce_mean's `axes`
///   CASE_UNKNOWN_OP      an op type that does not exist (`rsqr`)
///   CASE_MIXED_DTYPES    an fp32 constant multiplied with an fp16 tensor
///   CASE_FLOAT_FOR_INT   a float where the op takes an int (split's `num_splits`)
/// The conversion (under fp16) must fail with exit 6 naming the plugin and the input at fault.
/// The same lowerings fail in the fake host: tests/plugins/bad_mil_fake_host_test.cpp.
#include "ts2coreml/sdk.h"

namespace sdk = ts2coreml::sdk;

namespace {

sdk::Status LowerBadMil(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType type, ctx.OutputType(0));
#if defined(CASE_WRONG_SHAPE)
  // relu keeps x's shape; declaring it flattened is wrong even though sigmoid follows it.
  sdk::TensorType flat = type;
  flat.shape = {type.numel()};
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var r, ctx.Emit1("relu", {{"x", x}}, flat));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var y, ctx.Emit1("sigmoid", {{"x", r}}, type));
#elif defined(CASE_MISSPELLED)
  sdk::TensorType reduced = type;
  reduced.shape.back() = 1;
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var axes, ctx.ConstInts({-1}));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var keep, ctx.ConstBool(true));
  TS2COREML_ASSIGN_OR_RETURN(
      sdk::Var m,
      ctx.Emit1("reduce_mean", {{"x", x}, {"axis", axes}, {"keep_dims", keep}}, reduced));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var y, ctx.Emit1("sub", {{"x", x}, {"y", m}}, type));
#elif defined(CASE_UNKNOWN_OP)
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var y, ctx.Emit1("rsqr", {{"x", x}}, type));
#elif defined(CASE_MIXED_DTYPES)
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var two, ctx.ConstFloat(T2C_DTYPE_FP32, 2.0f));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var y, ctx.Emit1("mul", {{"x", x}, {"y", two}}, type));
#elif defined(CASE_FLOAT_FOR_INT)
  sdk::TensorType half = type;
  half.shape.back() /= 2;
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var n, ctx.ConstFloat(T2C_DTYPE_FP32, 2.0f));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var axis, ctx.ConstInt(-1));
  TS2COREML_ASSIGN_OR_RETURN(
      std::vector<sdk::Var> parts,
      ctx.Emit("split", {{"x", x}, {"num_splits", n}, {"axis", axis}}, {half, half}));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var y,
                             ctx.Emit1("concat", {{"values", parts}, {"axis", axis}}, type));
#else
#error "define one CASE_*"
#endif
  return ctx.SetOutput(0, y);
}

constexpr const char* kOps[] = {"t2ctest::broken"};
constexpr const char* kSchemas[] = {"t2ctest::broken(Tensor x) -> Tensor"};
constexpr t2c_input_decl kInputs[] = {sdk::Tensor("x")};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::CustomOpLowering("bad_mil", kOps, kSchemas, kInputs, T2C_FP16_NATIVE,
                          T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerBadMil>),
};

}  // namespace

#if defined(BAD_MIL_NO_ENTRY)
/// The fake-host test includes this file for its declarations only.
inline const t2c_lowering_decl* BadMilLowering() { return &kLowerings[0]; }
#else
TS2COREML_PLUGIN(PLUGIN_NAME, "0.1", kLowerings)
#endif
