/// MIL emission helpers of the elementwise family's composed ops: each emits one op (or a short
/// exact composition) with its static output type derived from its operands and returns its var.
///
///   TS2COREML_ASSIGN_OR_RETURN(Var big, EmitCompare(ctx, "greater", x, limit));
///   TS2COREML_ASSIGN_OR_RETURN(Var y, EmitSelect(ctx, big, a, b));
#ifndef TS2COREML_PLUGINS_ELEMENTWISE_MATH_EMIT_H_
#define TS2COREML_PLUGINS_ELEMENTWISE_MATH_EMIT_H_

#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/broadcast.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {

/// The one-input MIL op `op` on `x`, typed like `x`.
inline Expected<Var> EmitUnaryOp(const LowerContext& ctx, const char* op, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  return ctx.Emit1(op, {{"x", x}}, t);
}

/// A rank-0 constant of `v` in the dtype of `x` (a float dtype or INT32).
inline Expected<Var> ConstLike(const LowerContext& ctx, Var x, double v) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  return ScalarLike(ctx, t.dtype, v);
}

/// The binary op `op` of `x` and the constant `v` in x's dtype.
inline Expected<Var> EmitWithConst(const LowerContext& ctx, const char* op, Var x, double v) {
  TS2COREML_ASSIGN_OR_RETURN(Var c, ConstLike(ctx, x, v));
  return EmitBinary(ctx, op, x, c);
}

/// The comparison or logical op `op` ("less", "logical_and", ...): a bool of the broadcast shape.
inline Expected<Var> EmitCompare(const LowerContext& ctx, const char* op, Var x, Var y) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType tx, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(TensorType ty, ctx.TypeOf(y));
  TensorType out(T2C_DTYPE_BOOL, {});
  if (!sdk::BroadcastShapes(tx.shape, ty.shape, &out.shape)) {
    return ctx.Error(std::string(op) + " of " + FormatInts(tx.shape) + " and " +
                     FormatInts(ty.shape) + " does not broadcast");
  }
  return ctx.Emit1(op, {{"x", x}, {"y", y}}, out);
}

/// `x op v` for the constant `v` in x's dtype, as a bool.
inline Expected<Var> EmitCompareConst(const LowerContext& ctx, const char* op, Var x, double v) {
  TS2COREML_ASSIGN_OR_RETURN(Var c, ConstLike(ctx, x, v));
  return EmitCompare(ctx, op, x, c);
}

/// select(cond, a, b): a where cond holds, else b; the three broadcast, typed like `a`.
inline Expected<Var> EmitSelect(const LowerContext& ctx, Var cond, Var a, Var b) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType tc, ctx.TypeOf(cond));
  TS2COREML_ASSIGN_OR_RETURN(TensorType ta, ctx.TypeOf(a));
  TS2COREML_ASSIGN_OR_RETURN(TensorType tb, ctx.TypeOf(b));
  TensorType out(ta.dtype, {});
  std::vector<int64_t> ab;
  if (!sdk::BroadcastShapes(ta.shape, tb.shape, &ab) ||
      !sdk::BroadcastShapes(tc.shape, ab, &out.shape)) {
    return ctx.Error("select of " + FormatInts(tc.shape) + ", " + FormatInts(ta.shape) + " and " +
                     FormatInts(tb.shape) + " does not broadcast");
  }
  return ctx.Emit1("select", {{"cond", cond}, {"a", a}, {"b", b}}, out);
}

/// log(x) with no epsilon added (MIL log adds 1e-45 unless told; PyTorch's log(0) is -inf).
inline Expected<Var> EmitLog(const LowerContext& ctx, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var eps, ctx.ConstFloat(t.dtype, 0.0f));
  return ctx.Emit1("log", {{"x", x}, {"epsilon", eps}}, t);
}

/// log(1 + x), accurate near 0 (Goldberg): with u = 1 + x rounded, log(u) * x / (u - 1) cancels
/// the rounding of u; where u == 1 the result is x. Away from 0 (|x| >= 0.5, where 1 + x loses
/// nothing that matters and u - 1 may overflow with x) it is log(u).
inline Expected<Var> EmitLog1p(const LowerContext& ctx, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(Var u, EmitWithConst(ctx, "add", x, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var log_u, EmitLog(ctx, u));
  TS2COREML_ASSIGN_OR_RETURN(Var u_minus_1, EmitWithConst(ctx, "sub", u, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var ratio, EmitBinary(ctx, "real_div", x, u_minus_1));
  TS2COREML_ASSIGN_OR_RETURN(Var corrected, EmitBinary(ctx, "mul", log_u, ratio));
  TS2COREML_ASSIGN_OR_RETURN(Var exact_one, EmitCompareConst(ctx, "equal", u, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var small_part, EmitSelect(ctx, exact_one, x, corrected));
  TS2COREML_ASSIGN_OR_RETURN(Var ax, EmitUnaryOp(ctx, "abs", x));
  TS2COREML_ASSIGN_OR_RETURN(Var small, EmitCompareConst(ctx, "less", ax, 0.5));
  return EmitSelect(ctx, small, small_part, log_u);
}

/// Where `x` is NaN (x != x), as a bool.
inline Expected<Var> EmitIsNan(const LowerContext& ctx, Var x) {
  return EmitCompare(ctx, "not_equal", x, x);
}

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_ELEMENTWISE_MATH_EMIT_H_
