/// Names of the ABI enums, for reports and error messages.
#include "registry/lowering.h"

#include <cstdio>

namespace ts2coreml::registry {

std::string_view Fp16PolicyName(t2c_fp16_policy policy) {
  switch (policy) {
    case T2C_FP16_NATIVE:
      return "native";
    case T2C_FP16_NEEDS_FP32_COMPUTE:
      return "needs_fp32_compute";
    case T2C_FP16_FP32_PARAMS:
      return "fp32_params";
  }
  return "unknown";
}

std::string_view Fp16StatisticName(t2c_fp16_statistic statistic) {
  switch (statistic) {
    case T2C_FP16_STAT_MAGNITUDE:
      return "magnitude";
    case T2C_FP16_STAT_CENTERED_SQUARES:
      return "centered_squares";
    case T2C_FP16_STAT_EXP_RANGE:
      return "exp_range";
    case T2C_FP16_STAT_SUM_ABS:
      return "sum_abs";
    case T2C_FP16_STAT_SUM_SQUARES:
      return "sum_squares";
    case T2C_FP16_STAT_PREFIX_SUM_RANGE:
      return "prefix_sum_range";
    case T2C_FP16_STAT_PROD_GROWTH:
      return "prod_growth";
    case T2C_FP16_STAT_PROD_SHRINK:
      return "prod_shrink";
    case T2C_FP16_STAT_POWER_SUM:
      return "power_sum";
    case T2C_FP16_STAT_EXP_SUM:
      return "exp_sum";
  }
  return "unknown";
}

std::string_view InputRoleName(t2c_input_role role) {
  switch (role) {
    case T2C_ROLE_TENSOR:
      return "tensor";
    case T2C_ROLE_PARAM:
      return "param";
    case T2C_ROLE_HOST:
      return "host";
    case T2C_ROLE_TENSOR_LIST:
      return "tensor_list";
    case T2C_ROLE_IGNORED:
      return "ignored";
  }
  return "unknown";
}

std::string_view InferRuleName(t2c_infer_rule rule) {
  switch (rule) {
    case T2C_INFER_CUSTOM:
      return "custom";
    case T2C_INFER_SAME_AS_INPUT0:
      return "same_as_input0";
    case T2C_INFER_BROADCAST:
      return "broadcast";
  }
  return "unknown";
}

std::string_view DtypeName(t2c_dtype dtype) {
  switch (dtype) {
    case T2C_DTYPE_BOOL:
      return "bool";
    case T2C_DTYPE_STRING:
      return "string";
    case T2C_DTYPE_FP16:
      return "fp16";
    case T2C_DTYPE_FP32:
      return "fp32";
    case T2C_DTYPE_INT32:
      return "int32";
    case T2C_DTYPE_INVALID:
      break;
  }
  return "invalid";
}

std::string DtypeMaskToString(t2c_dtype_mask mask) {
  if (mask == 0) return "none";
  constexpr t2c_dtype kOrder[] = {T2C_DTYPE_BOOL, T2C_DTYPE_STRING, T2C_DTYPE_FP16, T2C_DTYPE_FP32,
                                  T2C_DTYPE_INT32};
  std::string out;
  for (t2c_dtype dtype : kOrder) {
    const t2c_dtype_mask bit = T2C_DTYPE_BIT(dtype);
    if ((mask & bit) == 0) continue;
    if (!out.empty()) out += '|';
    out += DtypeName(dtype);
    mask &= ~bit;
  }
  if (mask != 0) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%x", static_cast<unsigned>(mask));
    if (!out.empty()) out += '|';
    out += hex;
  }
  return out;
}

}  // namespace ts2coreml::registry
