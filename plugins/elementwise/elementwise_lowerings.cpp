/// Built-in lowerings of elementwise arithmetic. Shapes broadcast like numpy (T2C_INFER_BROADCAST
/// or sdk::BroadcastShapes); the core plans operand dtypes, so a lowering emits in the dtype of its
/// planned output and only checks that the operands agree with it. The family's one-input ops are
/// in unary_lowerings.cpp, its clamping, selection, logic and composed binary math in
/// binary_math_lowerings.cpp; the plugin info below lists all three tables.
#include "elementwise/elementwise_lowerings.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common/lowering_table.h"
#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "elementwise/binary_math_lowerings.h"
#include "elementwise/parity_lowerings.h"
#include "elementwise/unary_lowerings.h"
#include "ts2coreml/broadcast.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

/// Where a binary op keeps its two operands.
struct BinaryInputs {
  uint32_t self, other;
};

/// The operands `self` and `other` (or the name given) of `inputs`.
template <size_t N>
constexpr BinaryInputs BinaryOf(const t2c_input_decl (&inputs)[N], const char* other = "other") {
  return {sdk::InputIndex(inputs, "self"), sdk::InputIndex(inputs, other)};
}

/// Both operands as vars, checked against the planned output dtype.
Status ReadOperands(LowerContext& ctx, const BinaryInputs& in, const std::string& op, Var* x,
                    Var* y, TensorType* out) {
  TS2COREML_ASSIGN_OR_RETURN(*out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(*x, ctx.Input(in.self));
  TS2COREML_ASSIGN_OR_RETURN(*y, ctx.Input(in.other));
  for (Var v : {*x, *y}) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(v));
    if (t.dtype != out->dtype) {
      return ctx.Error(op + ": operand dtype " + std::to_string(t.dtype) +
                       " differs from the planned output dtype " + std::to_string(out->dtype) +
                       " (the core must plan both operands in the output dtype)");
    }
  }
  return Status::Ok();
}

/// The broadcast type of the two operands (numbers are rank 0), float when `force_float`.
Status InferBinary(InferContext& ctx, const BinaryInputs& in, bool force_float) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType a, OperandType(ctx, in.self));
  TS2COREML_ASSIGN_OR_RETURN(TensorType b, OperandType(ctx, in.other));
  std::vector<int64_t> shape;
  if (!sdk::BroadcastShapes(a.shape, b.shape, &shape)) {
    return ctx.InvalidInputs(ctx.kind() + ": shapes " + FormatInts(a.shape) + " and " +
                             FormatInts(b.shape) + " do not broadcast");
  }
  bool is_float = force_float || a.is_float() || b.is_float();
  return ctx.SetOutputType(0, TensorType(is_float ? T2C_DTYPE_FP32 : T2C_DTYPE_INT32, shape));
}

/// Emits the MIL binary op `mil_op` on the two operands as output 0.
Status EmitBinaryOutput(LowerContext& ctx, const BinaryInputs& in, const std::string& op,
                        const char* mil_op) {
  Var x, y;
  TensorType out;
  TS2COREML_RETURN_IF_ERROR(ReadOperands(ctx, in, op, &x, &y, &out));
  return ctx.EmitOutput(mil_op, {{"x", x}, {"y", y}});
}

// add/sub/rsub(self, other, alpha).
constexpr t2c_input_decl kAddSubInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("other", T2C_MASK_FLOAT_INT),
    sdk::Host("alpha", T2C_INPUT_OPTIONAL),
};
constexpr BinaryInputs kAddSub = BinaryOf(kAddSubInputs);
constexpr uint32_t kAddSubAlpha = sdk::InputIndex(kAddSubInputs, "alpha");

/// `v * alpha` in the planned output dtype, or `v` when alpha is absent or 1.
Expected<Var> ScaleByAlpha(LowerContext& ctx, const std::string& op, Var v, const TensorType& out) {
  double alpha = 1.0;
  if (ctx.num_inputs() > kAddSubAlpha && !ctx.IsNone(kAddSubAlpha)) {
    TS2COREML_ASSIGN_OR_RETURN(alpha, ctx.Float(kAddSubAlpha));
  }
  if (alpha == 1.0) return v;
  Var a;
  if (out.is_float()) {
    TS2COREML_ASSIGN_OR_RETURN(a, ctx.ConstFloat(out.dtype, static_cast<float>(alpha)));
  } else {
    if (alpha != std::floor(alpha)) {
      return ctx.Error(op + ": alpha " + FormatNumber(alpha) +
                       " must be integral for integer operands");
    }
    TS2COREML_ASSIGN_OR_RETURN(a, ctx.ConstInt(static_cast<int64_t>(alpha)));
  }
  TS2COREML_ASSIGN_OR_RETURN(TensorType vt, ctx.TypeOf(v));
  return ctx.Emit1("mul", {{"x", v}, {"y", a}}, vt);
}

/// add/sub(self, other, alpha): other * alpha first when alpha != 1.
Status LowerAddSub(LowerContext& ctx, const std::string& op, const char* mil_op) {
  Var x, y;
  TensorType out;
  TS2COREML_RETURN_IF_ERROR(ReadOperands(ctx, kAddSub, op, &x, &y, &out));
  TS2COREML_ASSIGN_OR_RETURN(y, ScaleByAlpha(ctx, op, y, out));
  return ctx.EmitOutput(mil_op, {{"x", x}, {"y", y}});
}

Status LowerAdd(LowerContext& ctx) { return LowerAddSub(ctx, "add", "add"); }
Status LowerSub(LowerContext& ctx) { return LowerAddSub(ctx, "sub", "sub"); }

/// rsub(self, other, alpha) = other - alpha * self.
Status LowerRsub(LowerContext& ctx) {
  Var x, y;
  TensorType out;
  TS2COREML_RETURN_IF_ERROR(ReadOperands(ctx, kAddSub, "rsub", &x, &y, &out));
  TS2COREML_ASSIGN_OR_RETURN(x, ScaleByAlpha(ctx, "rsub", x, out));
  return ctx.EmitOutput("sub", {{"x", y}, {"y", x}});
}

constexpr t2c_input_decl kMulInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("other", T2C_MASK_FLOAT_INT),
};
constexpr BinaryInputs kMul = BinaryOf(kMulInputs);

Status LowerMul(LowerContext& ctx) { return EmitBinaryOutput(ctx, kMul, "mul", "mul"); }

// True division takes float operands only, so the core converts integer operands first.
constexpr t2c_input_decl kDivInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT),
    sdk::Tensor("other", T2C_MASK_FLOAT),
};
constexpr BinaryInputs kDiv = BinaryOf(kDivInputs);
constexpr t2c_input_decl kDivModeInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("other", T2C_MASK_FLOAT_INT),
    sdk::Host("rounding_mode", T2C_INPUT_OPTIONAL),
};
constexpr BinaryInputs kDivMode = BinaryOf(kDivModeInputs);
constexpr uint32_t kDivModeRoundingMode = sdk::InputIndex(kDivModeInputs, "rounding_mode");

/// The rounding mode of div.*_mode: "" for None, "floor" or "trunc".
Expected<std::string> RoundingMode(const sdk::NodeView& ctx) {
  if (ctx.num_inputs() <= kDivModeRoundingMode || ctx.IsNone(kDivModeRoundingMode)) {
    return std::string();
  }
  TS2COREML_ASSIGN_OR_RETURN(std::string mode, ctx.String(kDivModeRoundingMode));
  if (mode != "floor" && mode != "trunc") {
    return ctx.Error("div: rounding_mode='" + mode + "' is not one of None, 'floor', 'trunc'");
  }
  return mode;
}

/// True division always gives a float; rounding division keeps integer operands integer.
Status InferDiv(InferContext& ctx) { return InferBinary(ctx, kDiv, /*force_float=*/true); }
Status InferDivMode(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(std::string mode, RoundingMode(ctx));
  return InferBinary(ctx, kDivMode, /*force_float=*/mode.empty());
}

/// Division rounded toward zero. Floats: q = x / y, then floor(q) where q >= 0 and ceil(q)
/// elsewhere. Integers: the floor quotient, plus one where the remainder is non-zero and the
/// operands' signs differ (floor and truncation differ exactly there).
Status LowerTruncDiv(LowerContext& ctx, Var x, Var y, const TensorType& out) {
  const TensorType cond(T2C_DTYPE_BOOL, out.shape);
  if (out.is_float()) {
    TS2COREML_ASSIGN_OR_RETURN(Var q, ctx.Emit1("real_div", {{"x", x}, {"y", y}}, out));
    TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstFloat(out.dtype, 0.0f));
    TS2COREML_ASSIGN_OR_RETURN(Var pos, ctx.Emit1("greater_equal", {{"x", q}, {"y", zero}}, cond));
    TS2COREML_ASSIGN_OR_RETURN(Var down, ctx.Emit1("floor", {{"x", q}}, out));
    TS2COREML_ASSIGN_OR_RETURN(Var up, ctx.Emit1("ceil", {{"x", q}}, out));
    return ctx.EmitOutput("select", {{"cond", pos}, {"a", down}, {"b", up}});
  }
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(TensorType yt, ctx.TypeOf(y));
  TS2COREML_ASSIGN_OR_RETURN(Var q, ctx.Emit1("floor_div", {{"x", x}, {"y", y}}, out));
  TS2COREML_ASSIGN_OR_RETURN(Var r, ctx.Emit1("mod", {{"x", x}, {"y", y}}, out));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstInt(0));
  TS2COREML_ASSIGN_OR_RETURN(Var inexact, ctx.Emit1("not_equal", {{"x", r}, {"y", zero}}, cond));
  TS2COREML_ASSIGN_OR_RETURN(
      Var xneg, ctx.Emit1("less", {{"x", x}, {"y", zero}}, TensorType(T2C_DTYPE_BOOL, xt.shape)));
  TS2COREML_ASSIGN_OR_RETURN(
      Var yneg, ctx.Emit1("less", {{"x", y}, {"y", zero}}, TensorType(T2C_DTYPE_BOOL, yt.shape)));
  // Bools differ: logical_xor (Core ML's not_equal takes no bools).
  TS2COREML_ASSIGN_OR_RETURN(Var differ,
                             ctx.Emit1("logical_xor", {{"x", xneg}, {"y", yneg}}, cond));
  TS2COREML_ASSIGN_OR_RETURN(Var fix,
                             ctx.Emit1("logical_and", {{"x", inexact}, {"y", differ}}, cond));
  TS2COREML_ASSIGN_OR_RETURN(Var one, ctx.ConstInt(1));
  TS2COREML_ASSIGN_OR_RETURN(Var q1, ctx.Emit1("add", {{"x", q}, {"y", one}}, out));
  return ctx.EmitOutput("select", {{"cond", fix}, {"a", q1}, {"b", q}});
}

/// Division with rounding `mode` ("", "floor" or "trunc").
Status EmitDiv(LowerContext& ctx, const BinaryInputs& in, const std::string& mode) {
  Var x, y;
  TensorType out;
  TS2COREML_RETURN_IF_ERROR(ReadOperands(ctx, in, "div", &x, &y, &out));
  if (mode == "trunc") return LowerTruncDiv(ctx, x, y, out);
  return ctx.EmitOutput(mode.empty() ? "real_div" : "floor_div", {{"x", x}, {"y", y}});
}

Status LowerDiv(LowerContext& ctx) { return EmitDiv(ctx, kDiv, ""); }
Status LowerDivMode(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(std::string mode, RoundingMode(ctx));
  return EmitDiv(ctx, kDivMode, mode);
}

constexpr t2c_input_decl kIntFloatBinaryInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("other", T2C_MASK_FLOAT_INT),
};
constexpr BinaryInputs kIntFloatBinary = BinaryOf(kIntFloatBinaryInputs);

/// floor_divide(self, other): floor rounding (ATen 1.13+); integer operands stay integer.
Status InferFloorDivide(InferContext& ctx) {
  return InferBinary(ctx, kIntFloatBinary, /*force_float=*/false);
}
Status LowerFloorDivide(LowerContext& ctx) {
  return EmitBinaryOutput(ctx, kIntFloatBinary, "floor_divide", "floor_div");
}

/// remainder(self, other): Python modulo, the sign of the divisor, as MIL mod (numpy mod).
Status LowerRemainder(LowerContext& ctx) {
  return EmitBinaryOutput(ctx, kIntFloatBinary, "remainder", "mod");
}

constexpr t2c_input_decl kPowInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("exponent", T2C_MASK_FLOAT_INT),
};
constexpr BinaryInputs kPow = BinaryOf(kPowInputs, "exponent");

/// pow(self, exponent): an integer base and exponent give an integer (MIL pow takes int32 too),
/// a float anywhere gives a float.
Status InferPow(InferContext& ctx) { return InferBinary(ctx, kPow, /*force_float=*/false); }
Status LowerPow(LowerContext& ctx) { return EmitBinaryOutput(ctx, kPow, "pow", "pow"); }

constexpr t2c_input_decl kPowScalarInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Host("exponent"),
};
constexpr uint32_t kPowScalarSelf = sdk::InputIndex(kPowScalarInputs, "self");
constexpr uint32_t kPowScalarExponent = sdk::InputIndex(kPowScalarInputs, "exponent");

/// pow.Tensor_Scalar(self, exponent): as pow, with the number read on the host, so that an
/// integer tensor to a negative integer power, which PyTorch raises for, is refused.
Status InferPowScalar(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kPowScalarSelf));
  const bool float_exponent = ctx.input_kind(kPowScalarExponent) == T2C_KIND_FLOAT;
  TS2COREML_ASSIGN_OR_RETURN(double exponent, ctx.Float(kPowScalarExponent));
  if (x.dtype == T2C_DTYPE_BOOL) {
    return ctx.Error(ctx.kind() + ": a bool base is not supported; convert it to int or float");
  }
  if (!x.is_float() && !float_exponent && exponent < 0) {
    return ctx.Error(
        ctx.kind() + ": an integer tensor to the negative integer power " + FormatNumber(exponent) +
        " raises in PyTorch (\"Integers to negative integer powers are not allowed\"); use a float base or exponent");
  }
  const bool is_float = x.is_float() || float_exponent;
  return ctx.SetOutputType(0, TensorType(is_float ? T2C_DTYPE_FP32 : T2C_DTYPE_INT32, x.shape));
}

Status LowerPowScalar(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kPowScalarSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(double exponent, ctx.Float(kPowScalarExponent));
  TS2COREML_ASSIGN_OR_RETURN(Var y, ScalarLike(ctx, xt.dtype, exponent));
  return ctx.EmitOutput("pow", {{"x", x}, {"y", y}});
}

/// The MIL op of a comparison node ("aten::eq.Scalar" -> "equal").
const char* ComparisonOp(const std::string& kind) {
  const std::string base = UnaryBaseName(kind);
  if (base == "eq") return "equal";
  if (base == "ne" || base == "not_equal") return "not_equal";
  if (base == "lt" || base == "less") return "less";
  if (base == "le" || base == "less_equal") return "less_equal";
  if (base == "gt" || base == "greater") return "greater";
  return "greater_equal";
}

/// Whether a comparison's `other` is a host number (the .Scalar overloads).
bool IsScalarComparison(const sdk::NodeView& ctx) {
  const std::string k = ctx.kind();
  return k.size() > 7 && k.compare(k.size() - 7, 7, ".Scalar") == 0;
}

constexpr t2c_input_decl kComparisonInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("other", T2C_MASK_FLOAT_INT),
};
constexpr BinaryInputs kComparison = BinaryOf(kComparisonInputs);
constexpr t2c_input_decl kComparisonScalarInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Host("other"),
};
constexpr BinaryInputs kComparisonScalar = BinaryOf(kComparisonScalarInputs);

/// Comparisons give a bool tensor of the broadcast shape. A number operand is read on the host
/// and stored in the dtype of the tensor it is compared with, as ATen promotes it. The core plans
/// mixed operands alike: an integer beside a float becomes a float, bools become numbers.
Status InferComparisonOf(InferContext& ctx, const BinaryInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType a, OperandType(ctx, in.self));
  TensorType b(a.dtype, {});
  if (!IsScalarComparison(ctx)) {
    TS2COREML_ASSIGN_OR_RETURN(b, OperandType(ctx, in.other));
  }
  std::vector<int64_t> shape;
  if (!sdk::BroadcastShapes(a.shape, b.shape, &shape)) {
    return ctx.InvalidInputs(ctx.kind() + ": shapes " + FormatInts(a.shape) + " and " +
                             FormatInts(b.shape) + " do not broadcast");
  }
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_BOOL, shape));
}

/// `x op v` for an integer tensor x and the number v, exactly: a non-integral v moves to the
/// integer on the side that keeps the answer (x < 2.5 is x < 3, x <= 2.5 is x <= 2), and
/// equality with it is never true; v beyond int32 is clamped, which keeps every answer.
Status LowerIntScalarComparison(LowerContext& ctx, Var x, double v) {
  const std::string op = ComparisonOp(ctx.kind());
  if (v != std::floor(v) && (op == "equal" || op == "not_equal")) {
    // x == x holds for every integer: equal gives all true, not_equal all false.
    return ctx.EmitOutput(op == "equal" ? "not_equal" : "equal", {{"x", x}, {"y", x}});
  }
  const bool round_up = op == "less" || op == "greater_equal";
  const double bound = std::fmin(std::fmax(round_up ? std::ceil(v) : std::floor(v), INT32_MIN),
                                 static_cast<double>(INT32_MAX));
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.ConstInt(static_cast<int64_t>(bound)));
  return ctx.EmitOutput(op.c_str(), {{"x", x}, {"y", y}});
}

/// A bool compared with an integer tensor. The core plans a bool-output node's bool operand as a
/// float (0 or 1) and keeps the integer one (a float compared with an integer makes both floats,
/// so this is the only way the dtypes differ): select(b != 0, 1 op i, 0 op i), with the integer
/// operand compared against integer constants only.
Status LowerBoolIntComparison(LowerContext& ctx, Var x, Var y) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(TensorType yt, ctx.TypeOf(y));
  const bool x_is_bool = xt.is_float();
  if (x_is_bool == yt.is_float() || (x_is_bool ? yt : xt).dtype != T2C_DTYPE_INT32) {
    return ctx.Error(ctx.kind() + ": operand dtypes " + std::to_string(xt.dtype) + " and " +
                     std::to_string(yt.dtype) + " differ (the core must plan them alike)");
  }
  const Var b = x_is_bool ? x : y, i = x_is_bool ? y : x;
  TS2COREML_ASSIGN_OR_RETURN(TensorType bt, ctx.TypeOf(b));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstFloat(bt.dtype, 0.0f));
  TS2COREML_ASSIGN_OR_RETURN(TensorType it, ctx.TypeOf(i));
  TS2COREML_ASSIGN_OR_RETURN(Var truth, ctx.Emit1("not_equal", {{"x", b}, {"y", zero}},
                                                  TensorType(T2C_DTYPE_BOOL, bt.shape)));
  const char* op = ComparisonOp(ctx.kind());
  const TensorType cmp(T2C_DTYPE_BOOL, it.shape);
  Var when[2];
  for (int v : {0, 1}) {
    TS2COREML_ASSIGN_OR_RETURN(Var c, ctx.ConstInt(v));
    TS2COREML_ASSIGN_OR_RETURN(when[v],
                               ctx.Emit1(op,
                                         x_is_bool ? std::vector<sdk::Arg>{{"x", c}, {"y", i}}
                                                   : std::vector<sdk::Arg>{{"x", i}, {"y", c}},
                                         cmp));
  }
  return ctx.EmitOutput("select", {{"cond", truth}, {"a", when[1]}, {"b", when[0]}});
}

Status LowerComparisonOf(LowerContext& ctx, const BinaryInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(in.self));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  Var y;
  if (IsScalarComparison(ctx)) {
    TS2COREML_ASSIGN_OR_RETURN(double v, ctx.Float(in.other));
    if (!xt.is_float()) return LowerIntScalarComparison(ctx, x, v);
    TS2COREML_ASSIGN_OR_RETURN(y, ctx.ConstFloat(xt.dtype, static_cast<float>(v)));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(y, ctx.Input(in.other));
    TS2COREML_ASSIGN_OR_RETURN(TensorType yt, ctx.TypeOf(y));
    if (xt.dtype != yt.dtype) return LowerBoolIntComparison(ctx, x, y);
  }
  return ctx.EmitOutput(ComparisonOp(ctx.kind()), {{"x", x}, {"y", y}});
}

Status InferComparison(InferContext& ctx) { return InferComparisonOf(ctx, kComparison); }
Status LowerComparison(LowerContext& ctx) { return LowerComparisonOf(ctx, kComparison); }
Status InferComparisonScalar(InferContext& ctx) {
  return InferComparisonOf(ctx, kComparisonScalar);
}
Status LowerComparisonScalar(LowerContext& ctx) {
  return LowerComparisonOf(ctx, kComparisonScalar);
}

constexpr t2c_input_decl kMaskedFillInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("mask", T2C_DTYPE_BIT(T2C_DTYPE_BOOL)),
    sdk::Tensor("value", T2C_MASK_FLOAT_INT),
};
constexpr uint32_t kMaskedFillSelf = sdk::InputIndex(kMaskedFillInputs, "self");
constexpr uint32_t kMaskedFillMask = sdk::InputIndex(kMaskedFillInputs, "mask");
constexpr uint32_t kMaskedFillValue = sdk::InputIndex(kMaskedFillInputs, "value");

/// masked_fill(self, mask, value): self's shape (mask broadcasts to it).
Status InferMaskedFill(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kMaskedFillSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType mask, ctx.InputType(kMaskedFillMask));
  std::vector<int64_t> shape;
  if (!sdk::BroadcastShapes(x.shape, mask.shape, &shape) || shape != x.shape) {
    return ctx.InvalidInputs("masked_fill: mask " + FormatInts(mask.shape) +
                             " does not broadcast to the input " + FormatInts(x.shape));
  }
  if (mask.dtype != T2C_DTYPE_BOOL) {
    return ctx.Error("masked_fill: the mask must be a bool tensor");
  }
  if (ctx.kind() == "aten::masked_fill.Tensor") {
    TS2COREML_ASSIGN_OR_RETURN(TensorType v, OperandType(ctx, kMaskedFillValue));
    if (v.rank() != 0) {
      return ctx.Error("masked_fill: value must be a 0-d tensor, got " + FormatInts(v.shape));
    }
  }
  return ctx.SetOutputType(0, x);
}

/// select(cond=mask, a=value, b=self); the value is planned in self's dtype.
Status LowerMaskedFill(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kMaskedFillSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var mask, ctx.Input(kMaskedFillMask));
  TS2COREML_ASSIGN_OR_RETURN(Var value, ctx.Input(kMaskedFillValue));
  TS2COREML_ASSIGN_OR_RETURN(TensorType vt, ctx.TypeOf(value));
  if (vt.dtype != out.dtype) {
    return ctx.Error("masked_fill: value dtype " + std::to_string(vt.dtype) +
                     " differs from the input dtype " + std::to_string(out.dtype));
  }
  return ctx.EmitOutput("select", {{"cond", mask}, {"a", value}, {"b", x}});
}

constexpr const char* kAddOps[] = {"aten::add.Tensor", "aten::add.Scalar"};
constexpr const char* kSubOps[] = {"aten::sub.Tensor", "aten::sub.Scalar"};
constexpr const char* kMulOps[] = {"aten::mul.Tensor", "aten::mul.Scalar"};
constexpr const char* kDivOps[] = {"aten::div.Tensor", "aten::div.Scalar",
                                   "aten::true_divide.Tensor", "aten::true_divide.Scalar"};
constexpr const char* kDivModeOps[] = {"aten::div.Tensor_mode", "aten::div.Scalar_mode"};
constexpr const char* kFloorDivideOps[] = {"aten::floor_divide", "aten::floor_divide.Scalar"};
constexpr const char* kRemainderOps[] = {"aten::remainder.Tensor", "aten::remainder.Scalar",
                                         "aten::remainder.Scalar_Tensor"};
constexpr const char* kPowOps[] = {"aten::pow.Tensor_Tensor", "aten::pow.Scalar"};
constexpr const char* kPowScalarOps[] = {"aten::pow.Tensor_Scalar"};
constexpr const char* kRsubOps[] = {"aten::rsub.Tensor", "aten::rsub.Scalar"};
constexpr const char* kComparisonOps[] = {
    "aten::eq.Tensor",        "aten::ne.Tensor",           "aten::lt.Tensor",
    "aten::le.Tensor",        "aten::gt.Tensor",           "aten::ge.Tensor",
    "aten::not_equal.Tensor", "aten::less.Tensor",         "aten::less_equal.Tensor",
    "aten::greater.Tensor",   "aten::greater_equal.Tensor"};
constexpr const char* kComparisonScalarOps[] = {
    "aten::eq.Scalar",        "aten::ne.Scalar",           "aten::lt.Scalar",
    "aten::le.Scalar",        "aten::gt.Scalar",           "aten::ge.Scalar",
    "aten::not_equal.Scalar", "aten::less.Scalar",         "aten::less_equal.Scalar",
    "aten::greater.Scalar",   "aten::greater_equal.Scalar"};
constexpr const char* kMaskedFillOps[] = {"aten::masked_fill.Scalar", "aten::masked_fill.Tensor"};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("add", kAddOps, kAddSubInputs, T2C_FP16_NATIVE, T2C_INFER_BROADCAST, nullptr,
                  sdk::LowerFn<LowerAdd>),
    sdk::Lowering("sub", kSubOps, kAddSubInputs, T2C_FP16_NATIVE, T2C_INFER_BROADCAST, nullptr,
                  sdk::LowerFn<LowerSub>),
    sdk::Lowering("mul", kMulOps, kMulInputs, T2C_FP16_NATIVE, T2C_INFER_BROADCAST, nullptr,
                  sdk::LowerFn<LowerMul>),
    sdk::Lowering("div", kDivOps, kDivInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferDiv>, sdk::LowerFn<LowerDiv>),
    sdk::Lowering("floor_divide", kFloorDivideOps, kIntFloatBinaryInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferFloorDivide>, sdk::LowerFn<LowerFloorDivide>),
    sdk::Lowering("remainder", kRemainderOps, kIntFloatBinaryInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferFloorDivide>, sdk::LowerFn<LowerRemainder>),
    sdk::Lowering("pow", kPowOps, kPowInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferPow>, sdk::LowerFn<LowerPow>),
    sdk::Lowering("pow_scalar", kPowScalarOps, kPowScalarInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferPowScalar>, sdk::LowerFn<LowerPowScalar>),
    sdk::Lowering("rsub", kRsubOps, kAddSubInputs, T2C_FP16_NATIVE, T2C_INFER_BROADCAST, nullptr,
                  sdk::LowerFn<LowerRsub>),
    sdk::Lowering("comparison", kComparisonOps, kComparisonInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferComparison>, sdk::LowerFn<LowerComparison>),
    sdk::Lowering("comparison_scalar", kComparisonScalarOps, kComparisonScalarInputs,
                  T2C_FP16_NATIVE, T2C_INFER_CUSTOM, sdk::InferFn<InferComparisonScalar>,
                  sdk::LowerFn<LowerComparisonScalar>),
    sdk::Lowering("masked_fill", kMaskedFillOps, kMaskedFillInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferMaskedFill>, sdk::LowerFn<LowerMaskedFill>),
    sdk::Lowering("div_rounding", kDivModeOps, kDivModeInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferDivMode>, sdk::LowerFn<LowerDivMode>),
};

/// The four tables of the family as one array (constant data, like each table).
constexpr auto kAllLowerings = ConcatLowerings(
    ConcatLowerings(ConcatLowerings(kLowerings, kUnaryLowerings), kBinaryMathLowerings),
    elementwise_parity::kParityLowerings);

constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "ts2coreml.elementwise",
    "0.1.0",         kAllLowerings.data(),    static_cast<uint32_t>(kAllLowerings.size())};

}  // namespace

const t2c_plugin_info* ElementwisePluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
