/// Lowerings of the elementwise family's several-input math, selection and logic, as declarations
/// the family's plugin info lists (elementwise_lowerings.cpp concatenates kBinaryMathLowerings):
///   clamp/clip (Scalar and Tensor bounds, either None), clamp_min, clamp_max;
///   maximum/minimum, max.other/min.other, fmax/fmin; where (self, ScalarSelf, ScalarOther,
///   Scalar); logical_and/or/xor, bitwise_and/or/xor and __and__/__or__/__xor__ (bool);
///   atan2, hypot, copysign, fmod, lerp, addcmul, addcdiv.
/// Operands promote as PyTorch promotes them (a float anywhere gives a float, else an integer
/// anywhere gives an integer, else bool); the core converts each operand to the planned dtype.
#ifndef TS2COREML_PLUGINS_ELEMENTWISE_BINARY_MATH_LOWERINGS_H_
#define TS2COREML_PLUGINS_ELEMENTWISE_BINARY_MATH_LOWERINGS_H_

#include "common/lowering_util.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {

Status InferClamp(InferContext& ctx);
Status LowerClamp(LowerContext& ctx);
Status InferClampMin(InferContext& ctx);
Status LowerClampMin(LowerContext& ctx);
Status InferClampMax(InferContext& ctx);
Status LowerClampMax(LowerContext& ctx);
Status InferMinMax(InferContext& ctx);
Status LowerMinMax(LowerContext& ctx);
Status InferWhere(InferContext& ctx);
Status LowerWhere(LowerContext& ctx);
Status InferLogical(InferContext& ctx);
Status LowerLogical(LowerContext& ctx);
Status InferFloatBinary(InferContext& ctx);
Status LowerFloatBinary(LowerContext& ctx);
Status InferFmod(InferContext& ctx);
Status LowerFmod(LowerContext& ctx);
Status InferFmodScalar(InferContext& ctx);
Status LowerFmodScalar(LowerContext& ctx);
Status InferLerp(InferContext& ctx);
Status LowerLerp(LowerContext& ctx);
Status InferAddcmul(InferContext& ctx);
Status LowerAddcmul(LowerContext& ctx);

constexpr t2c_dtype_mask kMaskAny = T2C_MASK_ANY;
constexpr t2c_dtype_mask kMaskBool = T2C_DTYPE_BIT(T2C_DTYPE_BOOL);

// clamp(self, min?, max?) and clamp.Tensor: numbers and tensors alike reach the lowering as vars
// in the planned dtype.
inline constexpr t2c_input_decl kClampInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::OptionalTensor("min", T2C_MASK_FLOAT_INT),
    sdk::OptionalTensor("max", T2C_MASK_FLOAT_INT),
};
inline constexpr t2c_input_decl kClampMinInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("min", T2C_MASK_FLOAT_INT),
};
inline constexpr t2c_input_decl kClampMaxInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("max", T2C_MASK_FLOAT_INT),
};
inline constexpr t2c_input_decl kMinMaxInputs[] = {
    sdk::Tensor("self", kMaskAny),
    sdk::Tensor("other", kMaskAny),
};
inline constexpr t2c_input_decl kWhereInputs[] = {
    sdk::Tensor("condition", kMaskBool),
    sdk::Tensor("self", kMaskAny),
    sdk::Tensor("other", kMaskAny),
};
// Logical ops read their operands as bool (the core converts others: non-zero is true).
inline constexpr t2c_input_decl kLogicalInputs[] = {
    sdk::Tensor("self", kMaskBool),
    sdk::Tensor("other", kMaskBool),
};
inline constexpr t2c_input_decl kFloatBinaryInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT),
    sdk::Tensor("other", T2C_MASK_FLOAT),
};
inline constexpr t2c_input_decl kFmodInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("other", T2C_MASK_FLOAT_INT),
};
// fmod.Scalar reads its divisor on the host, to refuse an integer division by zero.
inline constexpr t2c_input_decl kFmodScalarInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Host("other"),
};
inline constexpr t2c_input_decl kLerpInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT),
    sdk::Tensor("end", T2C_MASK_FLOAT),
    sdk::Tensor("weight", T2C_MASK_FLOAT),
};
inline constexpr t2c_input_decl kAddcmulInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("tensor1", T2C_MASK_FLOAT_INT),
    sdk::Tensor("tensor2", T2C_MASK_FLOAT_INT),
    sdk::Host("value", T2C_INPUT_OPTIONAL),
};
// addcdiv divides: PyTorch refuses integer operands, so the core converts them to floats.
inline constexpr t2c_input_decl kAddcdivInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT),
    sdk::Tensor("tensor1", T2C_MASK_FLOAT),
    sdk::Tensor("tensor2", T2C_MASK_FLOAT),
    sdk::Host("value", T2C_INPUT_OPTIONAL),
};

inline constexpr const char* kClampOps[] = {"aten::clamp", "aten::clip"};
inline constexpr const char* kClampMinOps[] = {"aten::clamp_min"};
inline constexpr const char* kClampMaxOps[] = {"aten::clamp_max"};
inline constexpr const char* kMinMaxOps[] = {"aten::maximum",   "aten::minimum", "aten::max.other",
                                             "aten::min.other", "aten::fmax",    "aten::fmin"};
inline constexpr const char* kWhereOps[] = {"aten::where.self", "aten::where.ScalarSelf",
                                            "aten::where.ScalarOther", "aten::where.Scalar"};
inline constexpr const char* kLogicalOps[] = {
    "aten::logical_and", "aten::logical_or", "aten::logical_xor",
    "aten::bitwise_and", "aten::bitwise_or", "aten::bitwise_xor",
    "aten::__and__",     "aten::__or__",     "aten::__xor__"};
inline constexpr const char* kFloatBinaryOps[] = {"aten::atan2", "aten::arctan2", "aten::hypot",
                                                  "aten::copysign"};
inline constexpr const char* kFmodOps[] = {"aten::fmod.Tensor"};
inline constexpr const char* kFmodScalarOps[] = {"aten::fmod.Scalar"};
inline constexpr const char* kLerpOps[] = {"aten::lerp"};
inline constexpr const char* kAddcmulOps[] = {"aten::addcmul"};
inline constexpr const char* kAddcdivOps[] = {"aten::addcdiv"};

// FP16: all native. The compositions (atan2's quadrant selects, hypot scaled by the larger
// magnitude so its square cannot overflow, lerp's two-sided form) keep FP16's accuracy.
inline constexpr t2c_lowering_decl kBinaryMathLowerings[] = {
    sdk::Lowering("clamp", kClampOps, kClampInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferClamp>, sdk::LowerFn<LowerClamp>),
    sdk::Lowering("clamp_min", kClampMinOps, kClampMinInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferClampMin>, sdk::LowerFn<LowerClampMin>),
    sdk::Lowering("clamp_max", kClampMaxOps, kClampMaxInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferClampMax>, sdk::LowerFn<LowerClampMax>),
    sdk::Lowering("min_max", kMinMaxOps, kMinMaxInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferMinMax>, sdk::LowerFn<LowerMinMax>),
    sdk::Lowering("where", kWhereOps, kWhereInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferWhere>, sdk::LowerFn<LowerWhere>),
    sdk::Lowering("logical", kLogicalOps, kLogicalInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferLogical>, sdk::LowerFn<LowerLogical>),
    sdk::Lowering("float_binary", kFloatBinaryOps, kFloatBinaryInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferFloatBinary>, sdk::LowerFn<LowerFloatBinary>),
    sdk::Lowering("fmod", kFmodOps, kFmodInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferFmod>, sdk::LowerFn<LowerFmod>),
    sdk::Lowering("fmod_scalar", kFmodScalarOps, kFmodScalarInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferFmodScalar>, sdk::LowerFn<LowerFmodScalar>),
    sdk::Lowering("lerp", kLerpOps, kLerpInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferLerp>, sdk::LowerFn<LowerLerp>),
    sdk::Lowering("addcmul", kAddcmulOps, kAddcmulInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAddcmul>, sdk::LowerFn<LowerAddcmul>),
    sdk::Lowering("addcdiv", kAddcdivOps, kAddcdivInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAddcmul>, sdk::LowerFn<LowerAddcmul>),
};

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_ELEMENTWISE_BINARY_MATH_LOWERINGS_H_
