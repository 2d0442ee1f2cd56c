/// Small MIL emission helpers shared by the lowering families: each emits one op with an explicit
/// static output type and returns its var.
///
///   TS2COREML_ASSIGN_OR_RETURN(sdk::Var t, EmitTranspose(ctx, x, {0, 2, 1, 3}));
///   TS2COREML_ASSIGN_OR_RETURN(sdk::Var y, EmitMatmul(ctx, t, k, /*transpose_x=*/false,
///                                                 /*transpose_y=*/true));
#ifndef TS2COREML_PLUGINS_COMMON_MIL_EMIT_H_
#define TS2COREML_PLUGINS_COMMON_MIL_EMIT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/lowering_util.h"
#include "ts2coreml/broadcast.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {

/// `x` reshaped to `shape` (squeeze to a scalar when `shape` is empty; identity when unchanged).
inline sdk::Expected<sdk::Var> EmitReshape(const sdk::LowerContext& ctx, sdk::Var x,
                                           const std::vector<int64_t>& shape) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType t, ctx.TypeOf(x));
  if (t.shape == shape) return x;
  const sdk::TensorType out(t.dtype, shape);
  if (shape.empty()) {
    // MIL reshape needs a non-empty shape; squeezing every (unit) axis gives the scalar.
    for (int64_t d : t.shape) {
      if (d != 1) return ctx.Error("reshape of " + FormatInts(t.shape) + " to a scalar");
    }
    std::vector<int64_t> axes;
    for (int64_t i = 0; i < t.rank(); ++i) axes.push_back(i);
    TS2COREML_ASSIGN_OR_RETURN(sdk::Var axes_var, ctx.ConstInts(axes));
    return ctx.Emit1("squeeze", {{"x", x}, {"axes", axes_var}}, out);
  }
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var shape_var, ctx.ConstInts(shape));
  return ctx.Emit1("reshape", {{"x", x}, {"shape", shape_var}}, out);
}

/// `x` with its axes permuted (identity when `perm` is).
inline sdk::Expected<sdk::Var> EmitTranspose(const sdk::LowerContext& ctx, sdk::Var x,
                                             const std::vector<int64_t>& perm) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType t, ctx.TypeOf(x));
  bool identity = true;
  sdk::TensorType out(t.dtype, {});
  for (size_t i = 0; i < perm.size(); ++i) {
    identity &= perm[i] == static_cast<int64_t>(i);
    out.shape.push_back(t.shape[static_cast<size_t>(perm[i])]);
  }
  if (identity) return x;
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var perm_var, ctx.ConstInts(perm));
  return ctx.Emit1("transpose", {{"x", x}, {"perm", perm_var}}, out);
}

/// The output shape of MIL matmul on operands of rank >= 2 (batch dimensions broadcast).
inline bool MatmulShape(std::vector<int64_t> x, std::vector<int64_t> y, bool transpose_x,
                        bool transpose_y, std::vector<int64_t>* out) {
  if (x.size() < 2 || y.size() < 2) return false;
  if (transpose_x) std::swap(x[x.size() - 1], x[x.size() - 2]);
  if (transpose_y) std::swap(y[y.size() - 1], y[y.size() - 2]);
  if (x.back() != y[y.size() - 2]) return false;
  std::vector<int64_t> batch;
  if (!sdk::BroadcastShapes(std::vector<int64_t>(x.begin(), x.end() - 2),
                            std::vector<int64_t>(y.begin(), y.end() - 2), &batch)) {
    return false;
  }
  batch.push_back(x[x.size() - 2]);
  batch.push_back(y.back());
  *out = std::move(batch);
  return true;
}

/// MIL matmul of two operands of rank >= 2.
inline sdk::Expected<sdk::Var> EmitMatmul(const sdk::LowerContext& ctx, sdk::Var x, sdk::Var y,
                                          bool transpose_x, bool transpose_y) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType tx, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType ty, ctx.TypeOf(y));
  sdk::TensorType out(tx.dtype, {});
  if (!MatmulShape(tx.shape, ty.shape, transpose_x, transpose_y, &out.shape)) {
    return ctx.Error("matmul of " + FormatInts(tx.shape) + " and " + FormatInts(ty.shape) +
                     " does not match");
  }
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var tx_var, ctx.ConstBool(transpose_x));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var ty_var, ctx.ConstBool(transpose_y));
  return ctx.Emit1("matmul", {{"x", x}, {"y", y}, {"transpose_x", tx_var}, {"transpose_y", ty_var}},
                   out);
}

/// An elementwise binary op ("add", "mul", "real_div", ...) with a broadcast output.
inline sdk::Expected<sdk::Var> EmitBinary(const sdk::LowerContext& ctx, const char* op, sdk::Var x,
                                          sdk::Var y) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType tx, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType ty, ctx.TypeOf(y));
  sdk::TensorType out(tx.dtype, {});
  if (!sdk::BroadcastShapes(tx.shape, ty.shape, &out.shape)) {
    return ctx.Error(std::string(op) + " of " + FormatInts(tx.shape) + " and " +
                     FormatInts(ty.shape) + " does not broadcast");
  }
  return ctx.Emit1(op, {{"x", x}, {"y", y}}, out);
}

/// A reduction ("reduce_sum", "reduce_mean", ...) over sorted non-negative `axes`.
inline sdk::Expected<sdk::Var> EmitReduce(const sdk::LowerContext& ctx, const char* op, sdk::Var x,
                                          const std::vector<int64_t>& axes, bool keep_dims) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType t, ctx.TypeOf(x));
  sdk::TensorType out(t.dtype, {});
  for (int64_t i = 0; i < t.rank(); ++i) {
    bool reduced = false;
    for (int64_t a : axes) reduced |= a == i;
    if (!reduced) {
      out.shape.push_back(t.shape[static_cast<size_t>(i)]);
    } else if (keep_dims) {
      out.shape.push_back(1);
    }
  }
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var axes_var, ctx.ConstInts(axes));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var keep, ctx.ConstBool(keep_dims));
  return ctx.Emit1(op, {{"x", x}, {"axes", axes_var}, {"keep_dims", keep}}, out);
}

/// A scalar constant in the dtype of `like` (a float dtype, or INT32 when `value` is integral).
inline sdk::Expected<sdk::Var> ScalarLike(const sdk::LowerContext& ctx, t2c_dtype like,
                                          double value) {
  if (like == T2C_DTYPE_INT32) return ctx.ConstInt(static_cast<int64_t>(value));
  return ctx.ConstFloat(like, static_cast<float>(value));
}

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_COMMON_MIL_EMIT_H_
