/// Lowerings of the elementwise family's one-input ops, as declarations the family's plugin info
/// lists (elementwise_lowerings.cpp concatenates kUnaryLowerings into its table):
///   float math (a float result; integer and bool inputs are converted by the core):
///     exp, exp2, expm1, log, log2, log10, log1p, sqrt, rsqrt, reciprocal, sin, cos, tan, asin,
///     acos, atan, sinh, cosh, asinh, acosh, atanh, erf, erfc, frac, deg2rad, rad2deg (and
///     their aliases);
///   numeric ops that keep integers integer: abs, neg, sign/sgn, positive, square, floor, ceil,
///     trunc/fix, round (decimals too);
///   predicates giving bool: isnan, isinf, isposinf, isneginf, isfinite;
///   logical_not and bitwise_not (bool only).
#ifndef TS2COREML_PLUGINS_ELEMENTWISE_UNARY_LOWERINGS_H_
#define TS2COREML_PLUGINS_ELEMENTWISE_UNARY_LOWERINGS_H_

#include "common/lowering_util.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {

/// The op's name without namespace, overload and in-place underscore ("aten::abs_.x" -> "abs").
std::string UnaryBaseName(const std::string& kind);

Status InferFloatUnary(InferContext& ctx);
Status LowerFloatUnary(LowerContext& ctx);
Status InferNumericUnary(InferContext& ctx);
Status LowerNumericUnary(LowerContext& ctx);
Status InferRound(InferContext& ctx);
Status LowerRound(LowerContext& ctx);
Status InferPredicate(InferContext& ctx);
Status LowerPredicate(LowerContext& ctx);
Status InferLogicalNot(InferContext& ctx);
Status LowerLogicalNot(LowerContext& ctx);

// Float math: integer and bool inputs reach the lowering converted to the compute float.
inline constexpr t2c_input_decl kFloatUnaryInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT)};
// Numeric ops: integers stay integer.
inline constexpr t2c_input_decl kNumericUnaryInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT)};
inline constexpr t2c_input_decl kRoundInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Host("decimals", T2C_INPUT_OPTIONAL),
};
// Predicates read numbers (bool inputs reach them as floats, never NaN nor infinite).
inline constexpr t2c_input_decl kPredicateInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT)};
// logical_not reads its input as bool (the core converts others: non-zero is true).
inline constexpr t2c_input_decl kLogicalNotInputs[] = {
    sdk::Tensor("self", T2C_DTYPE_BIT(T2C_DTYPE_BOOL))};

inline constexpr const char* kFloatUnaryOps[] = {
    "aten::exp",           "aten::exp2",          "aten::special_exp2", "aten::expm1",
    "aten::special_expm1", "aten::log",           "aten::log2",         "aten::log10",
    "aten::log1p",         "aten::special_log1p", "aten::sqrt",         "aten::rsqrt",
    "aten::reciprocal",    "aten::sin",           "aten::cos",          "aten::tan",
    "aten::asin",          "aten::arcsin",        "aten::acos",         "aten::arccos",
    "aten::atan",          "aten::arctan",        "aten::sinh",         "aten::cosh",
    "aten::asinh",         "aten::arcsinh",       "aten::acosh",        "aten::arccosh",
    "aten::atanh",         "aten::arctanh",       "aten::erf",          "aten::special_erf",
    "aten::erfc",          "aten::special_erfc",  "aten::frac",         "aten::deg2rad",
    "aten::rad2deg",
};
inline constexpr const char* kNumericUnaryOps[] = {
    "aten::abs",   "aten::absolute", "aten::neg",   "aten::negative",
    "aten::sign",  "aten::square",   "aten::floor", "aten::ceil",
    "aten::trunc", "aten::fix",      "aten::sgn",   "aten::positive",
};
inline constexpr const char* kRoundOps[] = {"aten::round"};
inline constexpr const char* kPredicateOps[] = {"aten::isnan", "aten::isinf", "aten::isposinf",
                                                "aten::isneginf", "aten::isfinite"};
inline constexpr const char* kLogicalNotOps[] = {"aten::logical_not", "aten::bitwise_not"};

// FP16: every op here computes natively. Where a plain formula would lose accuracy (expm1 and
// log1p near 0, asinh and acosh at both ends) the composition avoids it in either float type;
// overflow of exp-like results beyond 65504 is a value-range question the precision planner owns.
inline constexpr t2c_lowering_decl kUnaryLowerings[] = {
    sdk::Lowering("float_unary", kFloatUnaryOps, kFloatUnaryInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferFloatUnary>, sdk::LowerFn<LowerFloatUnary>),
    sdk::Lowering("numeric_unary", kNumericUnaryOps, kNumericUnaryInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferNumericUnary>,
                  sdk::LowerFn<LowerNumericUnary>),
    sdk::Lowering("round", kRoundOps, kRoundInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferRound>, sdk::LowerFn<LowerRound>),
    sdk::Lowering("predicate", kPredicateOps, kPredicateInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferPredicate>, sdk::LowerFn<LowerPredicate>),
    sdk::Lowering("logical_not", kLogicalNotOps, kLogicalNotInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferLogicalNot>, sdk::LowerFn<LowerLogicalNot>),
};

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_ELEMENTWISE_UNARY_LOWERINGS_H_
