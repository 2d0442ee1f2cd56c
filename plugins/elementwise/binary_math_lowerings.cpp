/// The elementwise family's several-input math, selection and logic (see the header). Every
/// operand reaches a lowering in the planned output dtype, except where a table says otherwise
/// (a bool condition, bool logical operands, a host number).
#include "elementwise/binary_math_lowerings.h"

#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "elementwise/math_emit.h"
#include "elementwise/unary_lowerings.h"

namespace ts2coreml::plugins {
namespace {

constexpr uint32_t kClampSelf = sdk::InputIndex(kClampInputs, "self");
constexpr uint32_t kClampMin = sdk::InputIndex(kClampInputs, "min");
constexpr uint32_t kClampMax = sdk::InputIndex(kClampInputs, "max");
constexpr uint32_t kClampMinSelf = sdk::InputIndex(kClampMinInputs, "self");
constexpr uint32_t kClampMinMin = sdk::InputIndex(kClampMinInputs, "min");
constexpr uint32_t kClampMaxSelf = sdk::InputIndex(kClampMaxInputs, "self");
constexpr uint32_t kClampMaxMax = sdk::InputIndex(kClampMaxInputs, "max");
constexpr uint32_t kMinMaxSelf = sdk::InputIndex(kMinMaxInputs, "self");
constexpr uint32_t kMinMaxOther = sdk::InputIndex(kMinMaxInputs, "other");
constexpr uint32_t kWhereCondition = sdk::InputIndex(kWhereInputs, "condition");
constexpr uint32_t kWhereSelf = sdk::InputIndex(kWhereInputs, "self");
constexpr uint32_t kWhereOther = sdk::InputIndex(kWhereInputs, "other");
constexpr uint32_t kLogicalSelf = sdk::InputIndex(kLogicalInputs, "self");
constexpr uint32_t kLogicalOther = sdk::InputIndex(kLogicalInputs, "other");
constexpr uint32_t kFloatBinarySelf = sdk::InputIndex(kFloatBinaryInputs, "self");
constexpr uint32_t kFloatBinaryOther = sdk::InputIndex(kFloatBinaryInputs, "other");
constexpr uint32_t kFmodSelf = sdk::InputIndex(kFmodInputs, "self");
constexpr uint32_t kFmodOther = sdk::InputIndex(kFmodInputs, "other");
constexpr uint32_t kFmodScalarSelf = sdk::InputIndex(kFmodScalarInputs, "self");
constexpr uint32_t kFmodScalarOther = sdk::InputIndex(kFmodScalarInputs, "other");
constexpr uint32_t kLerpSelf = sdk::InputIndex(kLerpInputs, "self");
constexpr uint32_t kLerpEnd = sdk::InputIndex(kLerpInputs, "end");
constexpr uint32_t kLerpWeight = sdk::InputIndex(kLerpInputs, "weight");
constexpr uint32_t kAddcSelf = sdk::InputIndex(kAddcmulInputs, "self");
constexpr uint32_t kAddcTensor1 = sdk::InputIndex(kAddcmulInputs, "tensor1");
constexpr uint32_t kAddcTensor2 = sdk::InputIndex(kAddcmulInputs, "tensor2");
constexpr uint32_t kAddcValue = sdk::InputIndex(kAddcmulInputs, "value");
// addcmul and addcdiv share their callbacks: their tables name the same positions.
static_assert(kAddcSelf == sdk::InputIndex(kAddcdivInputs, "self") &&
              kAddcTensor1 == sdk::InputIndex(kAddcdivInputs, "tensor1") &&
              kAddcTensor2 == sdk::InputIndex(kAddcdivInputs, "tensor2") &&
              kAddcValue == sdk::InputIndex(kAddcdivInputs, "value"));

constexpr double kPi = 3.14159265358979323846;

/// PyTorch's promotion of the operands at `inputs` (None skipped): the broadcast shape, FP32
/// when any is a float, else INT32 when any is an integer, else BOOL.
Expected<TensorType> Promote(const NodeView& ctx, std::initializer_list<uint32_t> inputs) {
  TensorType out(T2C_DTYPE_BOOL, {});
  bool any_float = false, any_int = false;
  for (uint32_t i : inputs) {
    if (i >= ctx.num_inputs() || ctx.IsNone(i)) continue;
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, OperandType(ctx, i));
    std::vector<int64_t> shape;
    if (!sdk::BroadcastShapes(out.shape, t.shape, &shape)) {
      return ctx.InvalidInputs(ctx.kind() + ": shapes " + FormatInts(out.shape) + " and " +
                               FormatInts(t.shape) + " do not broadcast");
    }
    out.shape = shape;
    any_float |= t.is_float();
    any_int |= t.dtype == T2C_DTYPE_INT32;
  }
  out.dtype = any_float ? T2C_DTYPE_FP32 : any_int ? T2C_DTYPE_INT32 : T2C_DTYPE_BOOL;
  return out;
}

/// Promote, refusing a bool result (for arithmetic PyTorch does not define on bool).
Expected<TensorType> PromoteNumeric(const NodeView& ctx, std::initializer_list<uint32_t> inputs) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, Promote(ctx, inputs));
  if (t.dtype == T2C_DTYPE_BOOL) {
    return ctx.Error(ctx.kind() + ": bool operands are not supported; convert to int or float");
  }
  return t;
}

/// Sets output 0 to the numeric promotion of `inputs`.
Status InferNumeric(InferContext& ctx, std::initializer_list<uint32_t> inputs) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, PromoteNumeric(ctx, inputs));
  return ctx.SetOutputType(0, t);
}

/// Sets output 0 to the float promotion of `inputs`.
Status InferFloat(InferContext& ctx, std::initializer_list<uint32_t> inputs) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, Promote(ctx, inputs));
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, t.shape));
}

/// maximum(x, lo) and then minimum(., hi), each bound optional (PyTorch's order: a lower bound
/// above the upper one gives the upper one).
Status EmitClamp(LowerContext& ctx, uint32_t self, int64_t min_input, int64_t max_input) {
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Input(self));
  for (int64_t input : {min_input, max_input}) {
    if (input < 0) continue;
    const uint32_t i = static_cast<uint32_t>(input);
    if (i >= ctx.num_inputs() || ctx.IsNone(i)) continue;
    TS2COREML_ASSIGN_OR_RETURN(Var bound, ctx.Input(i));
    TS2COREML_ASSIGN_OR_RETURN(
        y, EmitBinary(ctx, input == min_input ? "maximum" : "minimum", y, bound));
  }
  return ctx.SetOutput(0, y);
}

/// The MIL logical op of a logical or bitwise op's name ("bitwise_or" -> "logical_or").
const char* LogicalOp(const std::string& name) {
  if (name.find("and") != std::string::npos) return "logical_and";
  if (name.find("xor") != std::string::npos) return "logical_xor";
  return "logical_or";
}

/// atan2(y, x): atan(y / x), moved by +-pi into the left half-plane (by y's sign), and y
/// (a signed zero) where both are zero.
Expected<Var> EmitAtan2(const LowerContext& ctx, Var y, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(Var q, EmitBinary(ctx, "real_div", y, x));
  TS2COREML_ASSIGN_OR_RETURN(Var r, EmitUnaryOp(ctx, "atan", q));
  TS2COREML_ASSIGN_OR_RETURN(Var y_neg, EmitCompareConst(ctx, "less", y, 0.0));
  TS2COREML_ASSIGN_OR_RETURN(Var plus_pi, ConstLike(ctx, r, kPi));
  TS2COREML_ASSIGN_OR_RETURN(Var minus_pi, ConstLike(ctx, r, -kPi));
  TS2COREML_ASSIGN_OR_RETURN(Var shift, EmitSelect(ctx, y_neg, minus_pi, plus_pi));
  TS2COREML_ASSIGN_OR_RETURN(Var shifted, EmitBinary(ctx, "add", r, shift));
  TS2COREML_ASSIGN_OR_RETURN(Var x_neg, EmitCompareConst(ctx, "less", x, 0.0));
  TS2COREML_ASSIGN_OR_RETURN(Var angle, EmitSelect(ctx, x_neg, shifted, r));
  TS2COREML_ASSIGN_OR_RETURN(Var x_zero, EmitCompareConst(ctx, "equal", x, 0.0));
  TS2COREML_ASSIGN_OR_RETURN(Var y_zero, EmitCompareConst(ctx, "equal", y, 0.0));
  TS2COREML_ASSIGN_OR_RETURN(Var both_zero, EmitCompare(ctx, "logical_and", x_zero, y_zero));
  return EmitSelect(ctx, both_zero, y, angle);
}

/// hypot(x, y) = m * sqrt(1 + (n / m)^2) with m, n the larger and smaller magnitude, so that no
/// square overflows; 0 where m is 0.
Expected<Var> EmitHypot(const LowerContext& ctx, Var x, Var y) {
  TS2COREML_ASSIGN_OR_RETURN(Var ax, EmitUnaryOp(ctx, "abs", x));
  TS2COREML_ASSIGN_OR_RETURN(Var ay, EmitUnaryOp(ctx, "abs", y));
  TS2COREML_ASSIGN_OR_RETURN(Var m, EmitBinary(ctx, "maximum", ax, ay));
  TS2COREML_ASSIGN_OR_RETURN(Var n, EmitBinary(ctx, "minimum", ax, ay));
  TS2COREML_ASSIGN_OR_RETURN(Var r, EmitBinary(ctx, "real_div", n, m));
  TS2COREML_ASSIGN_OR_RETURN(Var r2, EmitUnaryOp(ctx, "square", r));
  TS2COREML_ASSIGN_OR_RETURN(Var s, EmitWithConst(ctx, "add", r2, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(s, EmitUnaryOp(ctx, "sqrt", s));
  TS2COREML_ASSIGN_OR_RETURN(Var h, EmitBinary(ctx, "mul", m, s));
  TS2COREML_ASSIGN_OR_RETURN(Var m_zero, EmitCompareConst(ctx, "equal", m, 0.0));
  return EmitSelect(ctx, m_zero, m, h);
}

/// copysign(x, y) = -|x| where y is negative (including -0 and -inf: 1 / y < 0), else |x|.
Expected<Var> EmitCopysign(const LowerContext& ctx, Var x, Var y) {
  TS2COREML_ASSIGN_OR_RETURN(Var ax, EmitUnaryOp(ctx, "abs", x));
  TS2COREML_ASSIGN_OR_RETURN(Var neg_ax, EmitWithConst(ctx, "mul", ax, -1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var y_neg, EmitCompareConst(ctx, "less", y, 0.0));
  TS2COREML_ASSIGN_OR_RETURN(Var one, ConstLike(ctx, y, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var inv, EmitBinary(ctx, "real_div", one, y));
  TS2COREML_ASSIGN_OR_RETURN(Var inv_neg, EmitCompareConst(ctx, "less", inv, 0.0));
  TS2COREML_ASSIGN_OR_RETURN(Var neg, EmitCompare(ctx, "logical_or", y_neg, inv_neg));
  return EmitSelect(ctx, neg, neg_ax, ax);
}

/// fmod(x, y), the remainder with the dividend's sign: MIL mod (the divisor's sign), minus y
/// where that remainder is non-zero and its sign differs from x's.
Status EmitFmod(LowerContext& ctx, Var x, Var y) {
  TS2COREML_ASSIGN_OR_RETURN(Var r, EmitBinary(ctx, "mod", x, y));
  TS2COREML_ASSIGN_OR_RETURN(Var r_nonzero, EmitCompareConst(ctx, "not_equal", r, 0.0));
  TS2COREML_ASSIGN_OR_RETURN(Var r_neg, EmitCompareConst(ctx, "less", r, 0.0));
  TS2COREML_ASSIGN_OR_RETURN(Var x_neg, EmitCompareConst(ctx, "less", x, 0.0));
  TS2COREML_ASSIGN_OR_RETURN(Var differ, EmitCompare(ctx, "logical_xor", r_neg, x_neg));
  TS2COREML_ASSIGN_OR_RETURN(Var fix, EmitCompare(ctx, "logical_and", r_nonzero, differ));
  TS2COREML_ASSIGN_OR_RETURN(Var fixed, EmitBinary(ctx, "sub", r, y));
  TS2COREML_ASSIGN_OR_RETURN(Var out, EmitSelect(ctx, fix, fixed, r));
  return ctx.SetOutput(0, out);
}

}  // namespace

Status InferClamp(InferContext& ctx) {
  if ((kClampMin >= ctx.num_inputs() || ctx.IsNone(kClampMin)) &&
      (kClampMax >= ctx.num_inputs() || ctx.IsNone(kClampMax))) {
    return ctx.InvalidInputs(ctx.kind() + ": at least one of min and max must not be None");
  }
  return InferNumeric(ctx, {kClampSelf, kClampMin, kClampMax});
}
Status LowerClamp(LowerContext& ctx) { return EmitClamp(ctx, kClampSelf, kClampMin, kClampMax); }
Status InferClampMin(InferContext& ctx) { return InferNumeric(ctx, {kClampMinSelf, kClampMinMin}); }
Status LowerClampMin(LowerContext& ctx) { return EmitClamp(ctx, kClampMinSelf, kClampMinMin, -1); }
Status InferClampMax(InferContext& ctx) { return InferNumeric(ctx, {kClampMaxSelf, kClampMaxMax}); }
Status LowerClampMax(LowerContext& ctx) { return EmitClamp(ctx, kClampMaxSelf, -1, kClampMaxMax); }

Status InferMinMax(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, Promote(ctx, {kMinMaxSelf, kMinMaxOther}));
  return ctx.SetOutputType(0, t);
}

/// maximum/minimum; on bools logical_or/logical_and. fmax/fmin ignore a NaN operand (the other
/// one is the result), where maximum/minimum propagate it.
Status LowerMinMax(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kMinMaxSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Input(kMinMaxOther));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  const std::string name = UnaryBaseName(ctx.kind());
  const bool is_max = name == "maximum" || name == "max" || name == "fmax";
  if (out.dtype == T2C_DTYPE_BOOL) {
    return ctx.EmitOutput(is_max ? "logical_or" : "logical_and", {{"x", x}, {"y", y}});
  }
  TS2COREML_ASSIGN_OR_RETURN(Var m, EmitBinary(ctx, is_max ? "maximum" : "minimum", x, y));
  if ((name == "fmax" || name == "fmin") && out.is_float()) {
    TS2COREML_ASSIGN_OR_RETURN(Var y_nan, EmitIsNan(ctx, y));
    TS2COREML_ASSIGN_OR_RETURN(m, EmitSelect(ctx, y_nan, x, m));
    TS2COREML_ASSIGN_OR_RETURN(Var x_nan, EmitIsNan(ctx, x));
    TS2COREML_ASSIGN_OR_RETURN(m, EmitSelect(ctx, x_nan, y, m));
  }
  return ctx.SetOutput(0, m);
}

Status InferWhere(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType values, Promote(ctx, {kWhereSelf, kWhereOther}));
  TS2COREML_ASSIGN_OR_RETURN(TensorType cond, OperandType(ctx, kWhereCondition));
  TensorType out(values.dtype, {});
  if (!sdk::BroadcastShapes(cond.shape, values.shape, &out.shape)) {
    return ctx.InvalidInputs(ctx.kind() + ": condition " + FormatInts(cond.shape) +
                             " does not broadcast with " + FormatInts(values.shape));
  }
  return ctx.SetOutputType(0, out);
}

Status LowerWhere(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var cond, ctx.Input(kWhereCondition));
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.Input(kWhereSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.Input(kWhereOther));
  return ctx.EmitOutput("select", {{"cond", cond}, {"a", a}, {"b", b}});
}

Status InferLogical(InferContext& ctx) {
  const std::string name = UnaryBaseName(ctx.kind());
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, Promote(ctx, {kLogicalSelf, kLogicalOther}));
  if (name.compare(0, 7, "logical") != 0 && t.dtype != T2C_DTYPE_BOOL) {
    return ctx.Error(ctx.kind() +
                     ": integer operands are not supported (MIL has no bitwise ops); bool only");
  }
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_BOOL, t.shape));
}

Status LowerLogical(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kLogicalSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Input(kLogicalOther));
  return ctx.EmitOutput(LogicalOp(UnaryBaseName(ctx.kind())), {{"x", x}, {"y", y}});
}

Status InferFloatBinary(InferContext& ctx) {
  return InferFloat(ctx, {kFloatBinarySelf, kFloatBinaryOther});
}

Status LowerFloatBinary(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kFloatBinarySelf));
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Input(kFloatBinaryOther));
  const std::string name = UnaryBaseName(ctx.kind());
  Var out;
  if (name == "hypot") {
    TS2COREML_ASSIGN_OR_RETURN(out, EmitHypot(ctx, x, y));
  } else if (name == "copysign") {
    TS2COREML_ASSIGN_OR_RETURN(out, EmitCopysign(ctx, x, y));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(out, EmitAtan2(ctx, x, y));
  }
  return ctx.SetOutput(0, out);
}

Status InferFmod(InferContext& ctx) { return InferNumeric(ctx, {kFmodSelf, kFmodOther}); }

Status LowerFmod(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kFmodSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Input(kFmodOther));
  return EmitFmod(ctx, x, y);
}

Status InferFmodScalar(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kFmodScalarSelf));
  const bool float_divisor = ctx.input_kind(kFmodScalarOther) == T2C_KIND_FLOAT;
  TS2COREML_ASSIGN_OR_RETURN(double divisor, ctx.Float(kFmodScalarOther));
  if (x.dtype == T2C_DTYPE_BOOL) {
    return ctx.Error(ctx.kind() + ": bool operands are not supported; convert to int or float");
  }
  if (!x.is_float() && !float_divisor && divisor == 0) {
    return ctx.Error(ctx.kind() + ": integer fmod by zero (PyTorch raises ZeroDivisionError)");
  }
  const bool is_float = x.is_float() || float_divisor;
  return ctx.SetOutputType(0, TensorType(is_float ? T2C_DTYPE_FP32 : T2C_DTYPE_INT32, x.shape));
}

Status LowerFmodScalar(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kFmodScalarSelf));
  TS2COREML_ASSIGN_OR_RETURN(double divisor, ctx.Float(kFmodScalarOther));
  TS2COREML_ASSIGN_OR_RETURN(Var y, ConstLike(ctx, x, divisor));
  return EmitFmod(ctx, x, y);
}

Status InferLerp(InferContext& ctx) { return InferFloat(ctx, {kLerpSelf, kLerpEnd, kLerpWeight}); }

/// lerp as PyTorch computes it: self + w * (end - self) where |w| < 0.5, else
/// end - (end - self) * (1 - w), so that w = 1 gives end exactly.
Status LowerLerp(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var start, ctx.Input(kLerpSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var end, ctx.Input(kLerpEnd));
  TS2COREML_ASSIGN_OR_RETURN(Var w, ctx.Input(kLerpWeight));
  TS2COREML_ASSIGN_OR_RETURN(Var diff, EmitBinary(ctx, "sub", end, start));
  TS2COREML_ASSIGN_OR_RETURN(Var step, EmitBinary(ctx, "mul", w, diff));
  TS2COREML_ASSIGN_OR_RETURN(Var from_start, EmitBinary(ctx, "add", start, step));
  TS2COREML_ASSIGN_OR_RETURN(Var one, ConstLike(ctx, w, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var rest, EmitBinary(ctx, "sub", one, w));
  TS2COREML_ASSIGN_OR_RETURN(Var back, EmitBinary(ctx, "mul", diff, rest));
  TS2COREML_ASSIGN_OR_RETURN(Var from_end, EmitBinary(ctx, "sub", end, back));
  TS2COREML_ASSIGN_OR_RETURN(Var aw, EmitUnaryOp(ctx, "abs", w));
  TS2COREML_ASSIGN_OR_RETURN(Var near_start, EmitCompareConst(ctx, "less", aw, 0.5));
  TS2COREML_ASSIGN_OR_RETURN(Var out, EmitSelect(ctx, near_start, from_start, from_end));
  return ctx.SetOutput(0, out);
}

/// The `value` of addcmul/addcdiv (1 when absent).
Expected<double> AddcValue(const NodeView& ctx) {
  if (kAddcValue >= ctx.num_inputs() || ctx.IsNone(kAddcValue)) return 1.0;
  return ctx.Float(kAddcValue);
}

Status InferAddcmul(InferContext& ctx) {
  const bool div = UnaryBaseName(ctx.kind()) == "addcdiv";
  TS2COREML_ASSIGN_OR_RETURN(TensorType t,
                             PromoteNumeric(ctx, {kAddcSelf, kAddcTensor1, kAddcTensor2}));
  TS2COREML_ASSIGN_OR_RETURN(double value, AddcValue(ctx));
  if (div) t.dtype = T2C_DTYPE_FP32;
  if (!t.is_float() && value != std::floor(value)) {
    return ctx.Error(ctx.kind() + ": value " + FormatNumber(value) +
                     " must be integral for integer operands (PyTorch refuses it too)");
  }
  return ctx.SetOutputType(0, t);
}

/// addcmul: self + value * tensor1 * tensor2; addcdiv: self + value * tensor1 / tensor2 (in
/// PyTorch's order of operations).
Status LowerAddcmul(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var self, ctx.Input(kAddcSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var t1, ctx.Input(kAddcTensor1));
  TS2COREML_ASSIGN_OR_RETURN(Var t2, ctx.Input(kAddcTensor2));
  TS2COREML_ASSIGN_OR_RETURN(double value, AddcValue(ctx));
  if (value != 1.0) {
    TS2COREML_ASSIGN_OR_RETURN(t1, EmitWithConst(ctx, "mul", t1, value));
  }
  const bool div = UnaryBaseName(ctx.kind()) == "addcdiv";
  TS2COREML_ASSIGN_OR_RETURN(Var term, EmitBinary(ctx, div ? "real_div" : "mul", t1, t2));
  TS2COREML_ASSIGN_OR_RETURN(Var out, EmitBinary(ctx, "add", self, term));
  return ctx.SetOutput(0, out);
}

}  // namespace ts2coreml::plugins
