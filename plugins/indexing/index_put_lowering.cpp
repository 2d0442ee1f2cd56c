/// index_put through a bool-mask select or a one-hot sum (see index_put_lowering.h).
#include "indexing/index_put_lowering.h"

#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/broadcast.h"

namespace ts2coreml::plugins {
namespace {

constexpr uint32_t kSelf = sdk::InputIndex(kIndexPutInputs, "self");
constexpr uint32_t kIndices = sdk::InputIndex(kIndexPutInputs, "indices");
constexpr uint32_t kValues = sdk::InputIndex(kIndexPutInputs, "values");
constexpr uint32_t kAccumulate = sdk::InputIndex(kIndexPutInputs, "accumulate");

/// The one index used: its position in the list and its type.
struct PutPlan {
  int64_t pos = 0;
  TensorType index;
  bool accumulate = false;
};

int64_t Numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Expected<PutPlan> ReadPut(const NodeView& ctx, const TensorType& x, const TensorType& v) {
  const std::string op = ctx.kind();
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(kIndices));
  PutPlan p;
  int found = 0;
  for (uint32_t k = 0; k < n; ++k) {
    if (ctx.ListElementIsNone(kIndices, k)) continue;
    ++found;
    p.pos = k;
    TS2COREML_ASSIGN_OR_RETURN(p.index, ctx.ListType(kIndices, k));
  }
  if (found != 1) {
    return ctx.Error(op + ": " + std::to_string(found) +
                     " index tensors; only one (the others None) is supported");
  }
  if (ctx.num_inputs() > kAccumulate && !ctx.IsNone(kAccumulate)) {
    TS2COREML_ASSIGN_OR_RETURN(p.accumulate, ctx.Bool(kAccumulate));
  }
  if (p.index.dtype == T2C_DTYPE_BOOL) {
    const Shape lead(x.shape.begin(), x.shape.begin() + std::min(x.rank(), p.index.rank()));
    if (p.pos != 0 || p.index.shape != lead) {
      return ctx.InvalidInputs(op + ": mask " + FormatInts(p.index.shape) +
                               " must cover the leading dims of " + FormatInts(x.shape));
    }
    if (Numel(v.shape) != 1) {
      return ctx.Error(
          op + ": values " + FormatInts(v.shape) +
          " through a bool mask need a count known only at run time; use one value or torch.where");
    }
    return p;
  }
  if (p.index.rank() != 1 || p.pos >= x.rank()) {
    return ctx.Error(op + ": index " + FormatInts(p.index.shape) + " at dim " +
                     std::to_string(p.pos) + " of " + FormatInts(x.shape) +
                     " is not supported; only a 1-d index");
  }
  Shape target = x.shape;
  target[p.pos] = p.index.shape[0];
  Shape b;
  if (!sdk::BroadcastShapes(target, v.shape, &b) || b != target) {
    return ctx.InvalidInputs(op + ": values " + FormatInts(v.shape) + " do not broadcast to " +
                             FormatInts(target));
  }
  return p;
}

/// Bool mask over the leading dims: select(mask, value, self), or self + select(mask, value, 0).
Status LowerMaskPut(LowerContext& ctx, const PutPlan& p, Var x, const TensorType& out) {
  TS2COREML_ASSIGN_OR_RETURN(Var mask, ctx.ListVar(kIndices, 0));
  Shape m = p.index.shape;
  m.resize(out.shape.size(), 1);
  TS2COREML_ASSIGN_OR_RETURN(mask, EmitReshape(ctx, mask, m));
  TS2COREML_ASSIGN_OR_RETURN(Var v, ctx.Input(kValues));
  TS2COREML_ASSIGN_OR_RETURN(v, EmitReshape(ctx, v, {1}));
  if (!p.accumulate) {
    return ctx.EmitOutput("select", {{"cond", mask}, {"a", v}, {"b", x}});
  }
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ScalarLike(ctx, out.dtype, 0));
  TS2COREML_ASSIGN_OR_RETURN(Var add,
                             ctx.Emit1("select", {{"cond", mask}, {"a", v}, {"b", zero}}, out));
  return ctx.EmitOutput("add", {{"x", x}, {"y", add}});
}

/// One int index at dim `pos`: hot[k, n] = (index[k] mod N == n); rows[n, r] = sum_k hot * v.
Status LowerIntPut(LowerContext& ctx, const PutPlan& p, Var x, const TensorType& out) {
  const int64_t rank = out.rank(), pos = p.pos, big_n = out.shape[pos];
  const int64_t k = p.index.shape[0];
  Shape perm = {pos};  // the indexed dim first
  for (int64_t d = 0; d < rank; ++d) {
    if (d != pos) perm.push_back(d);
  }
  Shape inverse(rank);
  for (int64_t d = 0; d < rank; ++d) inverse[perm[d]] = d;
  const int64_t rest = Numel(out.shape) / big_n;
  TS2COREML_ASSIGN_OR_RETURN(Var index, ctx.ListVar(kIndices, static_cast<uint32_t>(pos)));
  TS2COREML_ASSIGN_OR_RETURN(Var n_var, ctx.ConstInt(big_n));
  TS2COREML_ASSIGN_OR_RETURN(Var wrapped, ctx.Emit1("add", {{"x", index}, {"y", n_var}}, p.index));
  TS2COREML_ASSIGN_OR_RETURN(Var modded, ctx.Emit1("mod", {{"x", wrapped}, {"y", n_var}}, p.index));
  TS2COREML_ASSIGN_OR_RETURN(Var col, EmitReshape(ctx, modded, {k, 1, 1}));
  Shape range;
  for (int64_t i = 0; i < big_n; ++i) range.push_back(i);
  TS2COREML_ASSIGN_OR_RETURN(Var range_var, ctx.ConstInts(range));
  TS2COREML_ASSIGN_OR_RETURN(Var row, EmitReshape(ctx, range_var, {1, big_n, 1}));
  TS2COREML_ASSIGN_OR_RETURN(Var hot, ctx.Emit1("equal", {{"x", col}, {"y", row}},
                                                TensorType(T2C_DTYPE_BOOL, {k, big_n, 1})));
  Shape target = out.shape;
  target[pos] = k;
  TS2COREML_ASSIGN_OR_RETURN(Var v, ctx.Input(kValues));
  TS2COREML_ASSIGN_OR_RETURN(v, EmitBroadcastTo(ctx, v, target));
  if (pos != 0) {
    TS2COREML_ASSIGN_OR_RETURN(v, EmitTranspose(ctx, v, perm));
  }
  TS2COREML_ASSIGN_OR_RETURN(v, EmitReshape(ctx, v, {k, 1, rest}));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ScalarLike(ctx, out.dtype, 0));
  TS2COREML_ASSIGN_OR_RETURN(Var picked, ctx.Emit1("select", {{"cond", hot}, {"a", v}, {"b", zero}},
                                                   TensorType(out.dtype, {k, big_n, rest})));
  TS2COREML_ASSIGN_OR_RETURN(Var rows, EmitReduce(ctx, "reduce_sum", picked, {0}, false));
  Shape moved;
  for (int64_t d : perm) moved.push_back(out.shape[d]);
  TS2COREML_ASSIGN_OR_RETURN(rows, EmitReshape(ctx, rows, moved));
  if (pos != 0) {
    TS2COREML_ASSIGN_OR_RETURN(rows, EmitTranspose(ctx, rows, inverse));
  }
  if (p.accumulate) return ctx.EmitOutput("add", {{"x", x}, {"y", rows}});
  // Rows some index entry hits take the written values (duplicates: PyTorch leaves undefined
  // which one wins; here their sum).
  TS2COREML_ASSIGN_OR_RETURN(Var one, ScalarLike(ctx, out.dtype, 1));
  TS2COREML_ASSIGN_OR_RETURN(Var ones, ctx.Emit1("select", {{"cond", hot}, {"a", one}, {"b", zero}},
                                                 TensorType(out.dtype, {k, big_n, 1})));
  TS2COREML_ASSIGN_OR_RETURN(Var count, EmitReduce(ctx, "reduce_sum", ones, {0}, false));
  TS2COREML_ASSIGN_OR_RETURN(Var hit, ctx.Emit1("greater", {{"x", count}, {"y", zero}},
                                                TensorType(T2C_DTYPE_BOOL, {big_n, 1})));
  Shape along(rank, 1);
  along[pos] = big_n;
  TS2COREML_ASSIGN_OR_RETURN(hit, EmitReshape(ctx, hit, along));
  return ctx.EmitOutput("select", {{"cond", hit}, {"a", rows}, {"b", x}});
}

}  // namespace

Status InferIndexPut(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType v, ctx.InputType(kValues));
  TS2COREML_RETURN_IF_ERROR(ReadPut(ctx, x, v).status());
  return ctx.SetOutputType(0, x);
}

Status LowerIndexPut(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(TensorType v, ctx.InputType(kValues));
  TS2COREML_ASSIGN_OR_RETURN(PutPlan p, ReadPut(ctx, out, v));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kSelf));
  if (p.index.dtype == T2C_DTYPE_BOOL) return LowerMaskPut(ctx, p, x, out);
  return LowerIntPut(ctx, p, x, out);
}

}  // namespace ts2coreml::plugins
