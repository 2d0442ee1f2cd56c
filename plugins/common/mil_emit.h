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

/// `x` tiled by `reps` (unchanged when every rep is 1).
inline sdk::Expected<sdk::Var> EmitTile(const sdk::LowerContext& ctx, sdk::Var x,
                                        const std::vector<int64_t>& reps) {
  if (AllEqual(reps, 1)) return x;
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType t, ctx.TypeOf(x));
  for (size_t i = 0; i < reps.size(); ++i) t.shape[i] *= reps[i];
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var reps_var, ctx.ConstInts(reps));
  return ctx.Emit1("tile", {{"x", x}, {"reps", reps_var}}, t);
}

/// `x` broadcast to `shape` by NumPy's rule as a real tensor: reshaped to its rank (unit dims in
/// front), then tiled (unchanged when it already has `shape`). Reductions over the result count
/// repeated entries.
inline sdk::Expected<sdk::Var> EmitBroadcastTo(const sdk::LowerContext& ctx, sdk::Var x,
                                               const std::vector<int64_t>& shape) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType t, ctx.TypeOf(x));
  if (t.shape == shape) return x;
  std::vector<int64_t> aligned(shape.size() - t.shape.size(), 1);
  aligned.insert(aligned.end(), t.shape.begin(), t.shape.end());
  TS2COREML_ASSIGN_OR_RETURN(x, EmitReshape(ctx, x, aligned));
  std::vector<int64_t> reps;
  for (size_t d = 0; d < shape.size(); ++d) reps.push_back(shape[d] / aligned[d]);
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var reps_var, ctx.ConstInts(reps));
  return ctx.Emit1("tile", {{"x", x}, {"reps", reps_var}}, sdk::TensorType(t.dtype, shape));
}

/// `x` gathered along `axis` at constant `indices`, laid out as `index_shape` (its dims take the
/// place of `axis` in the output).
inline sdk::Expected<sdk::Var> EmitGatherConst(const sdk::LowerContext& ctx, sdk::Var x,
                                               int64_t axis, const std::vector<int64_t>& indices,
                                               const std::vector<int64_t>& index_shape) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var idx, ctx.ConstInts(indices));
  TS2COREML_ASSIGN_OR_RETURN(idx, EmitReshape(ctx, idx, index_shape));
  std::vector<int64_t> out(t.shape.begin(), t.shape.begin() + axis);
  out.insert(out.end(), index_shape.begin(), index_shape.end());
  out.insert(out.end(), t.shape.begin() + axis + 1, t.shape.end());
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var axis_var, ctx.ConstInt(axis));
  return ctx.Emit1("gather", {{"x", x}, {"indices", idx}, {"axis", axis_var}},
                   sdk::TensorType(t.dtype, out));
}

/// `v`, or an identity of it when `v` is the node's own input `input` (nothing was emitted): for
/// the elements of a list output, which like any output are produced by an op of their node.
inline sdk::Expected<sdk::Var> EmitIdentityIfInput(const sdk::LowerContext& ctx, sdk::Var v,
                                                   sdk::Var input) {
  if (v.id != input.id) return v;
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType t, ctx.TypeOf(v));
  return ctx.Emit1("identity", {{"x", v}}, t);
}

/// Binds output 0 to `v`, or to an identity of it when `v` is the node's own input `input`
/// (nothing was emitted): an output is always produced by an op of its node.
inline sdk::Status BindOutput(sdk::LowerContext& ctx, sdk::Var v, sdk::Var input) {
  if (v.id == input.id) return ctx.EmitOutput("identity", {{"x", v}});
  return ctx.SetOutput(0, v);
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
