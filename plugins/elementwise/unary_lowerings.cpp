/// The elementwise family's one-input ops. One lowering per class of op dispatches on the op's
/// name to a recipe: a single MIL op where MIL has one, else a short composition that keeps
/// PyTorch's accuracy (see each recipe).
#include "elementwise/unary_lowerings.h"

#include <cfloat>
#include <cmath>
#include <string>

#include "elementwise/math_emit.h"

namespace ts2coreml::plugins {
namespace {

constexpr uint32_t kFloatUnarySelf = sdk::InputIndex(kFloatUnaryInputs, "self");
constexpr uint32_t kNumericUnarySelf = sdk::InputIndex(kNumericUnaryInputs, "self");
constexpr uint32_t kRoundSelf = sdk::InputIndex(kRoundInputs, "self");
constexpr uint32_t kRoundDecimals = sdk::InputIndex(kRoundInputs, "decimals");
constexpr uint32_t kPredicateSelf = sdk::InputIndex(kPredicateInputs, "self");
constexpr uint32_t kLogicalNotSelf = sdk::InputIndex(kLogicalNotInputs, "self");

constexpr double kLn2 = 0.69314718055994530942;
constexpr double kLn10 = 2.30258509299404568402;

/// The largest finite value of float dtype `dtype`.
double MaxFinite(t2c_dtype dtype) { return dtype == T2C_DTYPE_FP16 ? 65504.0 : FLT_MAX; }

/// trunc(x) of a float: floor where x >= 0, else ceil (NaN stays NaN through ceil).
Expected<Var> EmitTrunc(const LowerContext& ctx, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(Var pos, EmitCompareConst(ctx, "greater_equal", x, 0.0));
  TS2COREML_ASSIGN_OR_RETURN(Var down, EmitUnaryOp(ctx, "floor", x));
  TS2COREML_ASSIGN_OR_RETURN(Var up, EmitUnaryOp(ctx, "ceil", x));
  return EmitSelect(ctx, pos, down, up);
}

/// exp(x) - 1, accurate near 0 (Kahan): with u = exp(x), (u - 1) * x / log(u) cancels the
/// rounding of u, and is x where u == 1. For |x| >= 0.5, u - 1 has no cancellation to fix.
Expected<Var> EmitExpm1(const LowerContext& ctx, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(Var u, EmitUnaryOp(ctx, "exp", x));
  TS2COREML_ASSIGN_OR_RETURN(Var u_minus_1, EmitWithConst(ctx, "sub", u, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var log_u, EmitLog(ctx, u));
  TS2COREML_ASSIGN_OR_RETURN(Var ratio, EmitBinary(ctx, "real_div", x, log_u));
  TS2COREML_ASSIGN_OR_RETURN(Var corrected, EmitBinary(ctx, "mul", u_minus_1, ratio));
  TS2COREML_ASSIGN_OR_RETURN(Var exact_one, EmitCompareConst(ctx, "equal", u, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var small_part, EmitSelect(ctx, exact_one, x, corrected));
  TS2COREML_ASSIGN_OR_RETURN(Var ax, EmitUnaryOp(ctx, "abs", x));
  TS2COREML_ASSIGN_OR_RETURN(Var small, EmitCompareConst(ctx, "less", ax, 0.5));
  return EmitSelect(ctx, small, small_part, u_minus_1);
}

/// Beyond this magnitude asinh and acosh are log(2|x|) to within the dtype's rounding
/// (the neglected term is 1 / (4 x^2)), and below it x^2 stays finite.
double BigArgument(t2c_dtype dtype) { return dtype == T2C_DTYPE_FP16 ? 64.0 : 4096.0; }

/// select(big_cond, log(a) + ln 2, small_part): the large-argument branch of asinh and acosh.
Expected<Var> EmitLogTwiceBeyond(const LowerContext& ctx, Var a, Var small_part) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(a));
  TS2COREML_ASSIGN_OR_RETURN(Var log_a, EmitLog(ctx, a));
  TS2COREML_ASSIGN_OR_RETURN(Var big_part, EmitWithConst(ctx, "add", log_a, kLn2));
  TS2COREML_ASSIGN_OR_RETURN(Var big, EmitCompareConst(ctx, "greater", a, BigArgument(t.dtype)));
  return EmitSelect(ctx, big, big_part, small_part);
}

/// asinh(x) = sign(x) * log1p(a + a^2 / (1 + sqrt(1 + a^2))), a = |x| (exact near 0).
Expected<Var> EmitAsinh(const LowerContext& ctx, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(Var a, EmitUnaryOp(ctx, "abs", x));
  TS2COREML_ASSIGN_OR_RETURN(Var a2, EmitUnaryOp(ctx, "square", a));
  TS2COREML_ASSIGN_OR_RETURN(Var root, EmitWithConst(ctx, "add", a2, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(root, EmitUnaryOp(ctx, "sqrt", root));
  TS2COREML_ASSIGN_OR_RETURN(Var den, EmitWithConst(ctx, "add", root, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var q, EmitBinary(ctx, "real_div", a2, den));
  TS2COREML_ASSIGN_OR_RETURN(Var arg, EmitBinary(ctx, "add", a, q));
  TS2COREML_ASSIGN_OR_RETURN(Var small_part, EmitLog1p(ctx, arg));
  TS2COREML_ASSIGN_OR_RETURN(Var magnitude, EmitLogTwiceBeyond(ctx, a, small_part));
  TS2COREML_ASSIGN_OR_RETURN(Var negated, EmitWithConst(ctx, "mul", magnitude, -1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var neg, EmitCompareConst(ctx, "less", x, 0.0));
  return EmitSelect(ctx, neg, negated, magnitude);
}

/// acosh(x) = log1p(t + sqrt(t * (x + 1))), t = x - 1 (exact near 1; NaN below 1).
Expected<Var> EmitAcosh(const LowerContext& ctx, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(Var t, EmitWithConst(ctx, "sub", x, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var x1, EmitWithConst(ctx, "add", x, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var prod, EmitBinary(ctx, "mul", t, x1));
  TS2COREML_ASSIGN_OR_RETURN(Var root, EmitUnaryOp(ctx, "sqrt", prod));
  TS2COREML_ASSIGN_OR_RETURN(Var arg, EmitBinary(ctx, "add", t, root));
  TS2COREML_ASSIGN_OR_RETURN(Var small_part, EmitLog1p(ctx, arg));
  return EmitLogTwiceBeyond(ctx, x, small_part);
}

/// 1 / v as real_div (MIL inverse would add an epsilon).
Expected<Var> EmitReciprocal(const LowerContext& ctx, Var v) {
  TS2COREML_ASSIGN_OR_RETURN(Var one, ConstLike(ctx, v, 1.0));
  return EmitBinary(ctx, "real_div", one, v);
}

/// The float math op `name` of x; an empty var when `name` is not one.
Expected<Var> EmitFloatMath(const LowerContext& ctx, const std::string& name, Var x) {
  static const char* const kDirect[][2] = {
      {"exp", "exp"},       {"exp2", "exp2"}, {"special_exp2", "exp2"}, {"sqrt", "sqrt"},
      {"sin", "sin"},       {"cos", "cos"},   {"tan", "tan"},           {"asin", "asin"},
      {"arcsin", "asin"},   {"acos", "acos"}, {"arccos", "acos"},       {"atan", "atan"},
      {"arctan", "atan"},   {"sinh", "sinh"}, {"cosh", "cosh"},         {"atanh", "atanh"},
      {"arctanh", "atanh"}, {"erf", "erf"},   {"special_erf", "erf"},
  };
  for (const auto& d : kDirect) {
    if (name == d[0]) return EmitUnaryOp(ctx, d[1], x);
  }
  if (name == "log") return EmitLog(ctx, x);
  if (name == "log2" || name == "log10") {
    TS2COREML_ASSIGN_OR_RETURN(Var ln, EmitLog(ctx, x));
    return EmitWithConst(ctx, "mul", ln, 1.0 / (name == "log2" ? kLn2 : kLn10));
  }
  if (name == "log1p" || name == "special_log1p") return EmitLog1p(ctx, x);
  if (name == "expm1" || name == "special_expm1") return EmitExpm1(ctx, x);
  if (name == "reciprocal") return EmitReciprocal(ctx, x);
  if (name == "rsqrt") {
    TS2COREML_ASSIGN_OR_RETURN(Var root, EmitUnaryOp(ctx, "sqrt", x));
    return EmitReciprocal(ctx, root);
  }
  if (name == "asinh" || name == "arcsinh") return EmitAsinh(ctx, x);
  if (name == "acosh" || name == "arccosh") return EmitAcosh(ctx, x);
  if (name == "erfc" || name == "special_erfc") {
    // 1 - erf(x): the same absolute error as erf; the relative error grows where erfc is tiny.
    TS2COREML_ASSIGN_OR_RETURN(Var e, EmitUnaryOp(ctx, "erf", x));
    TS2COREML_ASSIGN_OR_RETURN(Var one, ConstLike(ctx, x, 1.0));
    return EmitBinary(ctx, "sub", one, e);
  }
  if (name == "deg2rad" || name == "rad2deg") {
    const double pi = 3.14159265358979323846;
    return EmitWithConst(ctx, "mul", x, name == "deg2rad" ? pi / 180.0 : 180.0 / pi);
  }
  if (name == "frac") {
    TS2COREML_ASSIGN_OR_RETURN(Var t, EmitTrunc(ctx, x));
    return EmitBinary(ctx, "sub", x, t);
  }
  return Var{};
}

/// The input's type, refusing bool for ops PyTorch does not define (or defines oddly) on bool.
Expected<TensorType> NonBoolInput(const NodeView& ctx, uint32_t self) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.InputType(self));
  if (t.dtype == T2C_DTYPE_BOOL) {
    return ctx.Error(ctx.kind() +
                     ": bool tensors are not supported; convert to int or float first");
  }
  return t;
}

}  // namespace

std::string UnaryBaseName(const std::string& kind) {
  std::string name = OpBaseName(kind);
  if (name.size() > 1 && name.back() == '_' && name.compare(0, 2, "__") != 0) name.pop_back();
  return name;
}

Status InferFloatUnary(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.InputType(kFloatUnarySelf));
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, t.shape));
}

Status LowerFloatUnary(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kFloatUnarySelf));
  const std::string name = UnaryBaseName(ctx.kind());
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitFloatMath(ctx, name, x));
  if (!y.valid()) return ctx.Error(ctx.kind() + ": not a float math op of this lowering");
  return ctx.SetOutput(0, y);
}

Status InferNumericUnary(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, NonBoolInput(ctx, kNumericUnarySelf));
  return ctx.SetOutputType(0, t);
}

/// abs, neg, sign, square keep the dtype; floor, ceil and trunc are identities on integers, and
/// positive on everything.
Status LowerNumericUnary(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kNumericUnarySelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  const std::string name = UnaryBaseName(ctx.kind());
  Var y;
  if (name == "abs" || name == "absolute") {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitUnaryOp(ctx, "abs", x));
  } else if (name == "neg" || name == "negative") {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitWithConst(ctx, "mul", x, -1.0));
  } else if (name == "sign" || name == "sgn" || name == "square") {
    // sgn is sign for real tensors (complex ones cannot reach a lowering).
    TS2COREML_ASSIGN_OR_RETURN(y, EmitUnaryOp(ctx, name == "square" ? "square" : "sign", x));
  } else if (!t.is_float() || name == "positive") {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitUnaryOp(ctx, "identity", x));
  } else if (name == "floor" || name == "ceil") {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitUnaryOp(ctx, name.c_str(), x));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitTrunc(ctx, x));
  }
  return ctx.SetOutput(0, y);
}

/// The decimals of round.decimals (0 for plain round).
Expected<int64_t> RoundDecimals(const NodeView& ctx) {
  if (ctx.num_inputs() <= kRoundDecimals || ctx.IsNone(kRoundDecimals)) return int64_t{0};
  return ctx.Int(kRoundDecimals);
}

Status InferRound(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, NonBoolInput(ctx, kRoundSelf));
  TS2COREML_ASSIGN_OR_RETURN(int64_t decimals, RoundDecimals(ctx));
  if (!t.is_float() && decimals != 0) {
    return ctx.Error(ctx.kind() + ": decimals=" + std::to_string(decimals) +
                     " on an integer tensor is not supported (PyTorch refuses it too)");
  }
  if (decimals < -38 || decimals > 38) {
    return ctx.Error(ctx.kind() + ": decimals=" + std::to_string(decimals) +
                     " is outside [-38, 38], where 10^decimals is not a finite float");
  }
  return ctx.SetOutputType(0, t);
}

/// round(x) rounds half to even (MIL round and PyTorch alike); with decimals d as PyTorch does:
/// round(x * 10^d) / 10^d for d > 0, round(x / 10^-d) * 10^-d for d < 0.
Status LowerRound(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kRoundSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(int64_t decimals, RoundDecimals(ctx));
  if (!t.is_float()) return ctx.EmitOutput("identity", {{"x", x}});
  if (decimals == 0) return ctx.EmitOutput("round", {{"x", x}});
  const float ten_pow = std::pow(10.0f, static_cast<float>(decimals > 0 ? decimals : -decimals));
  if (t.dtype == T2C_DTYPE_FP16 && ten_pow > 65504.0f) {
    return ctx.Error(ctx.kind() + ": decimals=" + std::to_string(decimals) + " needs 10^" +
                     std::to_string(decimals > 0 ? decimals : -decimals) +
                     ", beyond FP16's range; convert with --keep-fp32 for this op");
  }
  TS2COREML_ASSIGN_OR_RETURN(Var scaled,
                             EmitWithConst(ctx, decimals > 0 ? "mul" : "real_div", x, ten_pow));
  TS2COREML_ASSIGN_OR_RETURN(Var rounded, EmitUnaryOp(ctx, "round", scaled));
  TS2COREML_ASSIGN_OR_RETURN(Var c, ConstLike(ctx, x, ten_pow));
  return ctx.EmitOutput(decimals > 0 ? "real_div" : "mul", {{"x", rounded}, {"y", c}});
}

Status InferPredicate(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.InputType(kPredicateSelf));
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_BOOL, t.shape));
}

/// isnan: x != x. isinf, isposinf, isneginf, isfinite: |x| (or x) against the dtype's largest
/// finite value, so no infinite constant is needed. Integers are never NaN nor infinite.
Status LowerPredicate(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kPredicateSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  const std::string name = UnaryBaseName(ctx.kind());
  Var y;
  if (!t.is_float()) {
    TS2COREML_ASSIGN_OR_RETURN(y,
                               EmitCompare(ctx, name == "isfinite" ? "equal" : "not_equal", x, x));
  } else if (name == "isnan") {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitIsNan(ctx, x));
  } else if (name == "isposinf") {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitCompareConst(ctx, "greater", x, MaxFinite(t.dtype)));
  } else if (name == "isneginf") {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitCompareConst(ctx, "less", x, -MaxFinite(t.dtype)));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(Var a, EmitUnaryOp(ctx, "abs", x));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitCompareConst(ctx, name == "isinf" ? "greater" : "less_equal",
                                                   a, MaxFinite(t.dtype)));
  }
  return ctx.SetOutput(0, y);
}

Status InferLogicalNot(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.InputType(kLogicalNotSelf));
  if (UnaryBaseName(ctx.kind()) == "bitwise_not" && t.dtype != T2C_DTYPE_BOOL) {
    return ctx.Error(ctx.kind() +
                     ": integer tensors are not supported (MIL has no bitwise ops); bool only");
  }
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_BOOL, t.shape));
}

Status LowerLogicalNot(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kLogicalNotSelf));
  return ctx.EmitOutput("logical_not", {{"x", x}});
}

}  // namespace ts2coreml::plugins
