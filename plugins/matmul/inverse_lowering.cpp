/// linalg_inv and inverse by unrolled Gauss-Jordan elimination (see inverse_lowering.h).
#include "matmul/inverse_lowering.h"

#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"

namespace ts2coreml::plugins::inverse {
namespace {

using sdk::Expected;
using sdk::LowerContext;
using sdk::NodeView;
using sdk::TensorType;
using sdk::Var;
using Shape = std::vector<int64_t>;

constexpr uint32_t kA = sdk::InputIndex(kInputs, "A");

/// n, checked: A is a batch of square matrices no larger than kMaxInverseSize.
Expected<int64_t> MatrixSize(const NodeView& ctx, const TensorType& a) {
  if (a.rank() < 2 || a.shape[a.shape.size() - 1] != a.shape[a.shape.size() - 2]) {
    return ctx.InvalidInputs(ctx.kind() + ": A must be a batch of square matrices, got " +
                             FormatInts(a.shape));
  }
  const int64_t n = a.shape.back();
  if (n < 1) return ctx.InvalidInputs(ctx.kind() + ": empty matrices " + FormatInts(a.shape));
  if (n > kMaxInverseSize) {
    return ctx.Error(
        ctx.kind() + ": a " + std::to_string(n) + "x" + std::to_string(n) +
        " matrix is not converted: Core ML has no matrix inverse, and the unrolled elimination goes up to " +
        std::to_string(kMaxInverseSize) + "x" + std::to_string(kMaxInverseSize));
  }
  return n;
}

/// The constants one elimination step reads, built once per column k.
struct Constants {
  int64_t n = 0;
  t2c_dtype dtype = T2C_DTYPE_FP32;
  Var eye;   ///< I [n, n]
  Var iota;  ///< 0..n-1 as int32 [n, 1]
  Var one, zero;
};

/// A float constant [rows, cols] whose (i, j) element is f(i, j).
template <typename F>
Expected<Var> Matrix(const LowerContext& ctx, t2c_dtype dtype, int64_t rows, int64_t cols, F f) {
  std::vector<float> data;
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) data.push_back(f(i, j));
  }
  return ctx.ConstFloats(dtype, data, {rows, cols});
}

/// x[..., rows, cols] of the last two dims, as [begin, end) ranges.
Expected<Var> Block(const LowerContext& ctx, Var x, int64_t r0, int64_t r1, int64_t c0,
                    int64_t c1) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  Shape b(t.shape.size(), 0), e = t.shape;
  const size_t r = t.shape.size() - 2, c = t.shape.size() - 1;
  b[r] = r0;
  e[r] = r1;
  b[c] = c0;
  e[c] = c1;
  TensorType out = t;
  out.shape[r] = r1 - r0;
  out.shape[c] = c1 - c0;
  TS2COREML_ASSIGN_OR_RETURN(Var bv, ctx.ConstInts(b));
  TS2COREML_ASSIGN_OR_RETURN(Var ev, ctx.ConstInts(e));
  return ctx.Emit1("slice_by_index", {{"x", x}, {"begin", bv}, {"end", ev}}, out);
}

/// The row swap of step k: I - d d^T with d = e_k - e_p, p the row at or below k whose entry
/// in column k has the largest magnitude (rows above k score -1, below any candidate).
Expected<Var> PivotSwap(const LowerContext& ctx, const Constants& c, Var a, int64_t k) {
  const int64_t n = c.n;
  TS2COREML_ASSIGN_OR_RETURN(Var col, Block(ctx, a, 0, n, k, k + 1));
  TS2COREML_ASSIGN_OR_RETURN(TensorType ct, ctx.TypeOf(col));
  TS2COREML_ASSIGN_OR_RETURN(Var mag, ctx.Emit1("abs", {{"x", col}}, ct));
  TS2COREML_ASSIGN_OR_RETURN(Var keep, Matrix(ctx, c.dtype, n, 1, [&](int64_t i, int64_t) {
                               return i >= k ? 1.0f : 0.0f;
                             }));
  TS2COREML_ASSIGN_OR_RETURN(Var below, Matrix(ctx, c.dtype, n, 1, [&](int64_t i, int64_t) {
                               return i >= k ? 0.0f : -1.0f;
                             }));
  TS2COREML_ASSIGN_OR_RETURN(Var score, EmitBinary(ctx, "mul", mag, keep));
  TS2COREML_ASSIGN_OR_RETURN(score, EmitBinary(ctx, "add", score, below));
  TensorType pt(T2C_DTYPE_INT32, ct.shape);
  pt.shape[pt.shape.size() - 2] = 1;
  TS2COREML_ASSIGN_OR_RETURN(Var axis, ctx.ConstInt(-2));
  TS2COREML_ASSIGN_OR_RETURN(Var keep_dims, ctx.ConstBool(true));
  TS2COREML_ASSIGN_OR_RETURN(
      Var p,
      ctx.Emit1("reduce_argmax", {{"x", score}, {"axis", axis}, {"keep_dims", keep_dims}}, pt));
  TS2COREML_ASSIGN_OR_RETURN(Var is_p, ctx.Emit1("equal", {{"x", c.iota}, {"y", p}},
                                                 TensorType(T2C_DTYPE_BOOL, ct.shape)));
  TS2COREML_ASSIGN_OR_RETURN(Var e_p,
                             ctx.Emit1("select", {{"cond", is_p}, {"a", c.one}, {"b", c.zero}},
                                       TensorType(c.dtype, ct.shape)));
  TS2COREML_ASSIGN_OR_RETURN(Var e_k, Matrix(ctx, c.dtype, n, 1, [&](int64_t i, int64_t) {
                               return i == k ? 1.0f : 0.0f;
                             }));
  TS2COREML_ASSIGN_OR_RETURN(Var d, EmitBinary(ctx, "sub", e_k, e_p));
  TS2COREML_ASSIGN_OR_RETURN(Var ddt, EmitMatmul(ctx, d, d, false, true));
  return EmitBinary(ctx, "sub", c.eye, ddt);
}

/// The elimination of step k on pivoted `a`: I - ((a_k - e_k) / a_kk) e_k^T.
Expected<Var> Eliminator(const LowerContext& ctx, const Constants& c, Var a, int64_t k) {
  const int64_t n = c.n;
  TS2COREML_ASSIGN_OR_RETURN(Var col, Block(ctx, a, 0, n, k, k + 1));
  TS2COREML_ASSIGN_OR_RETURN(Var pivot, Block(ctx, a, k, k + 1, k, k + 1));
  TS2COREML_ASSIGN_OR_RETURN(Var e_k, Matrix(ctx, c.dtype, n, 1, [&](int64_t i, int64_t) {
                               return i == k ? 1.0f : 0.0f;
                             }));
  TS2COREML_ASSIGN_OR_RETURN(Var u, EmitBinary(ctx, "sub", col, e_k));
  TS2COREML_ASSIGN_OR_RETURN(u, EmitBinary(ctx, "real_div", u, pivot));
  TS2COREML_ASSIGN_OR_RETURN(Var e_k_row, Matrix(ctx, c.dtype, 1, n, [&](int64_t, int64_t j) {
                               return j == k ? 1.0f : 0.0f;
                             }));
  TS2COREML_ASSIGN_OR_RETURN(Var outer, EmitMatmul(ctx, u, e_k_row, false, false));
  return EmitBinary(ctx, "sub", c.eye, outer);
}

}  // namespace

sdk::Status InferInverse(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType a, ctx.InputType(kA));
  TS2COREML_RETURN_IF_ERROR(MatrixSize(ctx, a).status());
  return ctx.SetOutputType(0, a);
}

/// Applies each step's row operations to A and to their running product (the inverse at the
/// end); the last column needs no pivot search, and A no update after it.
sdk::Status LowerInverse(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.Input(kA));
  TS2COREML_ASSIGN_OR_RETURN(TensorType at, ctx.TypeOf(a));
  Constants c;
  TS2COREML_ASSIGN_OR_RETURN(c.n, MatrixSize(ctx, at));
  c.dtype = at.dtype;
  TS2COREML_ASSIGN_OR_RETURN(c.eye, Matrix(ctx, c.dtype, c.n, c.n, [](int64_t i, int64_t j) {
                               return i == j ? 1.f : 0.f;
                             }));
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < c.n; ++i) rows.push_back(i);
  TS2COREML_ASSIGN_OR_RETURN(c.iota, ctx.ConstInts(rows));
  TS2COREML_ASSIGN_OR_RETURN(c.iota, EmitReshape(ctx, c.iota, {c.n, 1}));
  TS2COREML_ASSIGN_OR_RETURN(c.one, ctx.ConstFloat(c.dtype, 1.0f));
  TS2COREML_ASSIGN_OR_RETURN(c.zero, ctx.ConstFloat(c.dtype, 0.0f));
  Var inv;  // the product of the row operations so far (none yet: I)
  const auto apply = [&](Var op, bool update_a) -> sdk::Status {
    if (update_a) {
      TS2COREML_ASSIGN_OR_RETURN(a, EmitMatmul(ctx, op, a, false, false));
    }
    if (!inv.valid()) {
      inv = op;
      return sdk::Status::Ok();
    }
    TS2COREML_ASSIGN_OR_RETURN(inv, EmitMatmul(ctx, op, inv, false, false));
    return sdk::Status::Ok();
  };
  for (int64_t k = 0; k < c.n; ++k) {
    if (k + 1 < c.n) {
      TS2COREML_ASSIGN_OR_RETURN(Var swap, PivotSwap(ctx, c, a, k));
      TS2COREML_RETURN_IF_ERROR(apply(swap, true));
    }
    TS2COREML_ASSIGN_OR_RETURN(Var eliminate, Eliminator(ctx, c, a, k));
    TS2COREML_RETURN_IF_ERROR(apply(eliminate, k + 1 < c.n));
  }
  return ctx.SetOutput(0, inv);
}

}  // namespace ts2coreml::plugins::inverse
