/// aten::index.Tensor with integer index tensors (see index_tensor_lowerings.h).
#include "indexing/index_tensor_lowerings.h"

#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/broadcast.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::index_tensor {
namespace {

using sdk::Expected;
using sdk::LowerContext;
using sdk::NodeView;
using sdk::Status;
using sdk::TensorType;
using sdk::Var;

constexpr uint32_t kSelf = sdk::InputIndex(kIndexInputs, "self");
constexpr uint32_t kIndices = sdk::InputIndex(kIndexInputs, "indices");

/// The index count and the shape the indices broadcast to.
struct Plan {
  int64_t count = 0;
  std::vector<int64_t> shape;
};

Expected<Plan> ReadPlan(const NodeView& ctx, const TensorType& x) {
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(kIndices));
  Plan p;
  p.count = n;
  if (n == 0 || p.count > x.rank()) {
    return ctx.InvalidInputs("index: " + std::to_string(n) + " indices for a tensor of shape " +
                             FormatInts(x.shape));
  }
  for (uint32_t k = 0; k < n; ++k) {
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

}  // namespace

Status InferIndex(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kSelf));
  TS2COREML_ASSIGN_OR_RETURN(Plan p, ReadPlan(ctx, x));
  std::vector<int64_t> out = p.shape;
  out.insert(out.end(), x.shape.begin() + p.count, x.shape.end());
  return ctx.SetOutputType(0, TensorType(x.dtype, out));
}

Status LowerIndex(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Plan p, ReadPlan(ctx, t));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> indices, ctx.InputList(kIndices));
  // flat = sum_j wrap(i_j) * stride_j over the indexed leading dims.
  Var flat;
  int64_t stride = 1;
  for (int64_t j = p.count - 1; j >= 0; --j) {
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
  TS2COREML_ASSIGN_OR_RETURN(TensorType ft, ctx.TypeOf(flat));
  if (ft.shape != p.shape) {
    // One index smaller than the broadcast shape: tile it up.
    std::vector<int64_t> padded(p.shape.size() - ft.shape.size(), 1);
    padded.insert(padded.end(), ft.shape.begin(), ft.shape.end());
    TS2COREML_ASSIGN_OR_RETURN(flat, EmitReshape(ctx, flat, padded));
    std::vector<int64_t> reps;
    for (size_t d = 0; d < p.shape.size(); ++d) reps.push_back(p.shape[d] / padded[d]);
    TS2COREML_ASSIGN_OR_RETURN(Var reps_var, ctx.ConstInts(reps));
    TS2COREML_ASSIGN_OR_RETURN(flat, ctx.Emit1("tile", {{"x", flat}, {"reps", reps_var}},
                                               TensorType(T2C_DTYPE_INT32, p.shape)));
  }
  std::vector<int64_t> rows = {stride};
  rows.insert(rows.end(), t.shape.begin() + p.count, t.shape.end());
  TS2COREML_ASSIGN_OR_RETURN(Var xr, EmitReshape(ctx, x, rows));
  TS2COREML_ASSIGN_OR_RETURN(Var axis, ctx.ConstInt(0));
  return ctx.EmitOutput("gather", {{"x", xr}, {"indices", flat}, {"axis", axis}});
}

}  // namespace ts2coreml::plugins::index_tensor
