/// A plugin built the way plugins were built with the first published SDK: against the frozen
/// plugin_abi_v1.h only, in the raw C ABI, with no `ts2coreml_plugin_header`. It lowers
/// `t2ctest::scale_shift(Tensor x, float a, float b) -> Tensor` = x * a + b, like
/// tests/plugins/good/scale_shift_plugin.cpp, so the same model converts with either.
#include "tests/plugins/abi_v1/plugin_abi_v1.h"

namespace {

/// One MIL op with one output of `type`; x and y are its inputs.
t2c_status Emit2(const t2c_host_api* api, t2c_context* ctx, const char* op, t2c_var x, t2c_var y,
                 const t2c_tensor_type* type, t2c_var* out) {
  const t2c_named_arg args[] = {{"x", &x, 1}, {"y", &y, 1}};
  return api->emit(ctx, op, args, 2, type, 1, out);
}

t2c_status LowerScaleShift(const t2c_host_api* api, t2c_context* ctx, void* /*user_data*/) {
  double a = 0;
  double b = 0;
  t2c_var x = 0;
  t2c_tensor_type type;
  if (api->input_float(ctx, 1, &a) != T2C_OK || api->input_float(ctx, 2, &b) != T2C_OK ||
      api->input_var(ctx, 0, &x) != T2C_OK || api->output_type(ctx, 0, &type) != T2C_OK) {
    return T2C_ERROR;  // the host has recorded why
  }
  const float scale_value = static_cast<float>(a);
  const float shift_value = static_cast<float>(b);
  t2c_var scale = 0;
  t2c_var shift = 0;
  t2c_var scaled = 0;
  t2c_var out = 0;
  if (api->const_floats(ctx, type.dtype, &scale_value, 0, nullptr, &scale) != T2C_OK ||
      api->const_floats(ctx, type.dtype, &shift_value, 0, nullptr, &shift) != T2C_OK ||
      Emit2(api, ctx, "mul", x, scale, &type, &scaled) != T2C_OK ||
      Emit2(api, ctx, "add", scaled, shift, &type, &out) != T2C_OK) {
    return T2C_ERROR;
  }
  return api->set_output(ctx, 0, out);
}

const char* const kOps[] = {"t2ctest::scale_shift"};
const char* const kSchemas[] = {"t2ctest::scale_shift(Tensor x, float a, float b) -> Tensor"};
const t2c_input_decl kInputs[] = {{"x", T2C_ROLE_TENSOR, T2C_MASK_FLOAT, 0},
                                  {"a", T2C_ROLE_HOST, 0, 0},
                                  {"b", T2C_ROLE_HOST, 0, 0}};

const t2c_lowering_decl kLowerings[] = {{sizeof(t2c_lowering_decl), "scale_shift_v1", kOps, 1,
                                         /*priority=*/0, T2C_FP16_NATIVE, kInputs, 3,
                                         T2C_INFER_SAME_AS_INPUT0, nullptr, LowerScaleShift,
                                         nullptr, /*flags=*/0, kSchemas, 1}};

const t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "t2ctest.scale_shift_v1", "1.0", kLowerings, 1};

}  // namespace

extern "C" __attribute__((visibility("default"))) const t2c_plugin_info* ts2coreml_plugin_entry(
    void) {
  return &kInfo;
}
