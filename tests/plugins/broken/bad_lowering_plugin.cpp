/// Plugins that load fine but whose lowering of t2ctest::broken misbehaves, one case per build:
///   CASE_REPORTS_ERROR   returns an error through the SDK
///   CASE_THROWS          a raw C ABI callback that lets a C++ exception escape into the core
///   CASE_WRONG_DTYPE     binds an output whose dtype is not the planned one
///   CASE_WRONG_RANK      binds an output whose rank is not the inferred one
///   CASE_UNDEFINED_VAR   emits an op reading a var that does not exist
/// The conversion must fail naming the plugin, the op and the TorchScript source line.
#include <stdexcept>

#include "ts2coreml/sdk.h"

namespace sdk = ts2coreml::sdk;

namespace {

#if defined(CASE_THROWS)
// Deliberately not the SDK's LowerFn thunk (which would catch): the exception crosses the ABI.
t2c_status LowerRaw(const t2c_host_api* /*api*/, t2c_context* /*ctx*/, void* /*user_data*/) {
  throw std::runtime_error("t2ctest: thrown across the plugin ABI");
}
constexpr t2c_lower_fn kLower = LowerRaw;
#else
sdk::Status LowerBroken(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType type, ctx.OutputType(0));
#if defined(CASE_REPORTS_ERROR)
  (void)x;
  return ctx.Error("t2ctest: this lowering always reports an error");
#elif defined(CASE_WRONG_DTYPE)
  type.dtype = type.dtype == T2C_DTYPE_FP16 ? T2C_DTYPE_FP32 : T2C_DTYPE_FP16;
#elif defined(CASE_WRONG_RANK)
  type.shape = {type.numel()};
#elif defined(CASE_UNDEFINED_VAR)
  x.id = 424242;
#else
#error "define one CASE_*"
#endif
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var y, ctx.Emit1("sigmoid", {{"x", x}}, type));
  return ctx.SetOutput(0, y);
}
constexpr t2c_lower_fn kLower = sdk::LowerFn<LowerBroken>;
#endif

constexpr const char* kOps[] = {"t2ctest::broken"};
constexpr const char* kSchemas[] = {"t2ctest::broken(Tensor x) -> Tensor"};
constexpr t2c_input_decl kInputs[] = {sdk::Tensor("x")};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::CustomOpLowering("broken", kOps, kSchemas, kInputs, T2C_FP16_NATIVE,
                          T2C_INFER_SAME_AS_INPUT0, nullptr, kLower),
};

}  // namespace

TS2COREML_PLUGIN(PLUGIN_NAME, "0.1", kLowerings)
