#include "registry/lowering.h"

#include "gtest/gtest.h"

namespace ts2coreml::registry {
namespace {

TEST(LoweringNamesTest, Fp16Policies) {
  EXPECT_EQ(Fp16PolicyName(T2C_FP16_NATIVE), "native");
  EXPECT_EQ(Fp16PolicyName(T2C_FP16_NEEDS_FP32_COMPUTE), "needs_fp32_compute");
  EXPECT_EQ(Fp16PolicyName(T2C_FP16_FP32_PARAMS), "fp32_params");
  EXPECT_EQ(Fp16PolicyName(static_cast<t2c_fp16_policy>(9)), "unknown");
}

TEST(LoweringNamesTest, InputRoles) {
  EXPECT_EQ(InputRoleName(T2C_ROLE_TENSOR), "tensor");
  EXPECT_EQ(InputRoleName(T2C_ROLE_PARAM), "param");
  EXPECT_EQ(InputRoleName(T2C_ROLE_HOST), "host");
  EXPECT_EQ(InputRoleName(T2C_ROLE_TENSOR_LIST), "tensor_list");
  EXPECT_EQ(InputRoleName(T2C_ROLE_IGNORED), "ignored");
  EXPECT_EQ(InputRoleName(static_cast<t2c_input_role>(-1)), "unknown");
}

TEST(LoweringNamesTest, InferRules) {
  EXPECT_EQ(InferRuleName(T2C_INFER_CUSTOM), "custom");
  EXPECT_EQ(InferRuleName(T2C_INFER_SAME_AS_INPUT0), "same_as_input0");
  EXPECT_EQ(InferRuleName(T2C_INFER_BROADCAST), "broadcast");
  EXPECT_EQ(InferRuleName(static_cast<t2c_infer_rule>(3)), "unknown");
}

TEST(LoweringNamesTest, Dtypes) {
  EXPECT_EQ(DtypeName(T2C_DTYPE_BOOL), "bool");
  EXPECT_EQ(DtypeName(T2C_DTYPE_STRING), "string");
  EXPECT_EQ(DtypeName(T2C_DTYPE_FP16), "fp16");
  EXPECT_EQ(DtypeName(T2C_DTYPE_FP32), "fp32");
  EXPECT_EQ(DtypeName(T2C_DTYPE_INT32), "int32");
  EXPECT_EQ(DtypeName(T2C_DTYPE_INVALID), "invalid");
}

TEST(LoweringNamesTest, DtypeMasks) {
  EXPECT_EQ(DtypeMaskToString(0), "none");
  EXPECT_EQ(DtypeMaskToString(T2C_MASK_FLOAT_INT), "fp16|fp32|int32");
  EXPECT_EQ(DtypeMaskToString(T2C_MASK_ANY), "bool|fp16|fp32|int32");
  EXPECT_EQ(DtypeMaskToString(T2C_DTYPE_BIT(T2C_DTYPE_FP32)), "fp32");
  EXPECT_EQ(DtypeMaskToString(T2C_DTYPE_BIT(T2C_DTYPE_STRING)), "string");
  EXPECT_EQ(DtypeMaskToString(T2C_DTYPE_BIT(T2C_DTYPE_FP32) | 0x80u | 0x1000u), "fp32|0x1080");
  EXPECT_EQ(DtypeMaskToString(0x80u), "0x80");
  EXPECT_EQ(kKnownDtypeBits, T2C_MASK_ANY);
}

TEST(LoweringNamesTest, FlagAccessors) {
  Lowering lowering;
  EXPECT_FALSE(lowering.passthrough());
  lowering.flags = T2C_LOWERING_PASSTHROUGH;
  EXPECT_TRUE(lowering.passthrough());
  InputDecl input;
  EXPECT_FALSE(input.optional());
  input.flags = T2C_INPUT_OPTIONAL;
  EXPECT_TRUE(input.optional());
}

}  // namespace
}  // namespace ts2coreml::registry
