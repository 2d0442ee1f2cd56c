/// aten::index.Tensor with integer index tensors (see index_tensor_lowerings.h).
#include "indexing/index_tensor_lowerings.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/broadcast.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::index_tensor {
namespace {

constexpr uint32_t kSelf = sdk::InputIndex(kIndexInputs, "self");
constexpr uint32_t kIndices = sdk::InputIndex(kIndexInputs, "indices");

/// The indexed dims (the list's non-None entries) and the shape the indices broadcast to.
struct Plan {
  std::vector<int64_t> positions;
  std::vector<int64_t> shape;
  /// The input's dims reordered: indexed dims first, the others after in order.
  std::vector<int64_t> perm;
  /// Where the broadcast dims go in the output: before the other dims (0), or in place of the
  /// indexed dims when those are adjacent (PyTorch's rule).
  int64_t insert_at = 0;
};

Expected<Plan> ReadPlan(const NodeView& ctx, const TensorType& x) {
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(kIndices));
  Plan p;
  if (static_cast<int64_t>(n) > x.rank()) {
    return ctx.InvalidInputs("index: " + std::to_string(n) + " indices for a tensor of shape " +
                             FormatInts(x.shape));
  }
  for (uint32_t k = 0; k < n; ++k) {
    if (ctx.ListElementIsNone(kIndices, k)) continue;
    p.positions.push_back(k);
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.ListType(kIndices, k));
    if (t.dtype == T2C_DTYPE_BOOL) {
      return ctx.Error(
          "index: a boolean mask index gives a shape that depends on the mask's values, which Core ML cannot express; use torch.where or masked_fill");
    }
    std::vector<int64_t> b;
    if (!sdk::BroadcastShapes(p.shape, t.shape, &b)) {
      return ctx.InvalidInputs("index: index shapes " + FormatInts(p.shape) + " and " +
                               FormatInts(t.shape) + " do not broadcast");
    }
    p.shape = b;
  }
  int64_t numel = 1;
  for (int64_t d : p.shape) numel *= d;
  if (numel == 0) return ctx.Error("index: an empty index is not supported");
  p.perm = p.positions;
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (std::find(p.positions.begin(), p.positions.end(), d) == p.positions.end()) {
      p.perm.push_back(d);
    }
  }
  const bool adjacent = !p.positions.empty() && p.positions.back() - p.positions.front() + 1 ==
                                                    static_cast<int64_t>(p.positions.size());
  p.insert_at = adjacent ? p.positions.front() : 0;
  return p;
}

/// `idx` with negative entries counted from the end of a dim of size `n`.
Expected<Var> Wrap(const LowerContext& ctx, Var idx, int64_t n) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(idx));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstInt(0));
  TS2COREML_ASSIGN_OR_RETURN(Var size, ctx.ConstInt(n));
  TS2COREML_ASSIGN_OR_RETURN(Var negative, ctx.Emit1("less", {{"x", idx}, {"y", zero}},
                                                     TensorType(T2C_DTYPE_BOOL, t.shape)));
  TS2COREML_ASSIGN_OR_RETURN(Var wrapped, EmitBinary(ctx, "add", idx, size));
  return ctx.Emit1("select", {{"cond", negative}, {"a", wrapped}, {"b", idx}}, t);
}

/// The other dims in order, with the broadcast index dims inserted at insert_at.
std::vector<int64_t> OutputShape(const Plan& p, const std::vector<int64_t>& x) {
  std::vector<int64_t> out;
  for (size_t j = p.positions.size(); j < p.perm.size(); ++j) out.push_back(x[p.perm[j]]);
  out.insert(out.begin() + p.insert_at, p.shape.begin(), p.shape.end());
  return out;
}

/// The flat row of the indexed dims (the first `indices.size()` dims of `t`):
/// sum_j wrap(i_j) * stride_j.
Expected<Var> EmitFlatIndex(const LowerContext& ctx, const std::vector<Var>& indices,
                            const TensorType& t) {
  Var flat;
  int64_t stride = 1;
  for (int64_t j = static_cast<int64_t>(indices.size()) - 1; j >= 0; --j) {
    TS2COREML_ASSIGN_OR_RETURN(Var idx, Wrap(ctx, indices[j], t.shape[j]));
    if (stride != 1) {
      TS2COREML_ASSIGN_OR_RETURN(Var s, ctx.ConstInt(stride));
      TS2COREML_ASSIGN_OR_RETURN(idx, EmitBinary(ctx, "mul", idx, s));
    }
    if (flat.valid()) {
      TS2COREML_ASSIGN_OR_RETURN(flat, EmitBinary(ctx, "add", flat, idx));
    } else {
      flat = idx;
    }
    stride *= t.shape[j];
  }
  return flat;
}

/// Moves the broadcast index dims of the gathered `y` ([B..., others...], rank `rank`) to
/// insert_at: [others before, B..., others after].
Expected<Var> MoveIndexDims(const LowerContext& ctx, Var y, const Plan& p, int64_t rank) {
  if (p.insert_at == 0) return y;
  const int64_t b = static_cast<int64_t>(p.shape.size());
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < p.insert_at; ++d) perm.push_back(b + d);
  for (int64_t d = 0; d < b; ++d) perm.push_back(d);
  for (int64_t d = b + p.insert_at; d < rank; ++d) perm.push_back(d);
  return EmitTranspose(ctx, y, perm);
}

}  // namespace

Status InferIndex(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kSelf));
  TS2COREML_ASSIGN_OR_RETURN(Plan p, ReadPlan(ctx, x));
  return ctx.SetOutputType(0, TensorType(x.dtype, OutputShape(p, x.shape)));
}

/// Gathers rows of x with its indexed dims moved first and flattened into one, by the flat
/// index of the broadcast indices, then puts the broadcast dims where PyTorch puts them.
Status LowerIndex(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Plan p, ReadPlan(ctx, t));
  if (p.positions.empty()) return ctx.EmitOutput("identity", {{"x", x}});
  std::vector<Var> indices;
  for (int64_t k : p.positions) {
    TS2COREML_ASSIGN_OR_RETURN(Var v, ctx.ListVar(kIndices, static_cast<uint32_t>(k)));
    indices.push_back(v);
  }
  TS2COREML_ASSIGN_OR_RETURN(x, EmitTranspose(ctx, x, p.perm));
  TS2COREML_ASSIGN_OR_RETURN(t, ctx.TypeOf(x));
  const int64_t count = static_cast<int64_t>(p.positions.size());
  TS2COREML_ASSIGN_OR_RETURN(Var flat, EmitFlatIndex(ctx, indices, t));
  TS2COREML_ASSIGN_OR_RETURN(flat, EmitBroadcastTo(ctx, flat, p.shape));
  int64_t stride = 1;
  for (int64_t j = 0; j < count; ++j) stride *= t.shape[j];
  std::vector<int64_t> rows = {stride};
  rows.insert(rows.end(), t.shape.begin() + count, t.shape.end());
  TS2COREML_ASSIGN_OR_RETURN(Var xr, EmitReshape(ctx, x, rows));
  TS2COREML_ASSIGN_OR_RETURN(Var axis, ctx.ConstInt(0));
  std::vector<int64_t> gathered = p.shape;
  gathered.insert(gathered.end(), t.shape.begin() + count, t.shape.end());
  TS2COREML_ASSIGN_OR_RETURN(Var y,
                             ctx.Emit1("gather", {{"x", xr}, {"indices", flat}, {"axis", axis}},
                                       TensorType(t.dtype, gathered)));
  TS2COREML_ASSIGN_OR_RETURN(y, MoveIndexDims(ctx, y, p, static_cast<int64_t>(gathered.size())));
  return ctx.SetOutput(0, y);
}

}  // namespace ts2coreml::plugins::index_tensor
