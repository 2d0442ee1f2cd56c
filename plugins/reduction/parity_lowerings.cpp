/// Reductions coremltools lowers that the reduction plugin lacked:
/// cosine_similarity, linalg_vecdot, trace, mse_loss, nll_loss and searchsorted. Inputs
/// broadcast like PyTorch's; every dim and reduction mode is resolved on the host.
#include "reduction/parity_lowerings.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/broadcast.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::reduction_parity {

namespace {

/// The broadcast shape of inputs `a` and `b`, or an error naming both.
Expected<Shape> BroadcastOf(const NodeView& ctx, const TensorType& a, const TensorType& b) {
  Shape out;
  if (!sdk::BroadcastShapes(a.shape, b.shape, &out)) {
    return ctx.InvalidInputs(ctx.kind() + ": shapes " + FormatInts(a.shape) + " and " +
                             FormatInts(b.shape) + " do not broadcast");
  }
  return out;
}

/// `shape` without dim `axis`.
Shape Without(Shape shape, int64_t axis) {
  shape.erase(shape.begin() + axis);
  return shape;
}

/// Two inputs broadcast together and reduced over one dim: the broadcast shape and the reduced
/// axis (normalized against it).
Expected<std::pair<Shape, int64_t>> PairReductionPlan(const NodeView& ctx, uint32_t x, uint32_t y,
                                                      uint32_t dim) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType a, ctx.InputType(x));
  TS2COREML_ASSIGN_OR_RETURN(TensorType b, ctx.InputType(y));
  TS2COREML_ASSIGN_OR_RETURN(Shape shape, BroadcastOf(ctx, a, b));
  if (shape.empty()) return ctx.Error(ctx.kind() + ": 0-d inputs have no dim to reduce");
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis,
                             ReadAxis(ctx, dim, static_cast<int64_t>(shape.size()), ctx.kind()));
  return std::make_pair(shape, axis);
}

/// The output of a pair reduction: the broadcast shape without the reduced dim, in x's dtype.
Status InferPairReduction(InferContext& ctx, uint32_t x, uint32_t y, uint32_t dim) {
  TS2COREML_ASSIGN_OR_RETURN(auto plan, PairReductionPlan(ctx, x, y, dim));
  TS2COREML_ASSIGN_OR_RETURN(TensorType a, ctx.InputType(x));
  return ctx.SetOutputType(0, TensorType(a.dtype, Without(plan.first, plan.second)));
}

}  // namespace

// --- cosine_similarity(x1, x2, dim=1, eps=1e-8) ----------------------------------------------

constexpr uint32_t kCosineX1 = sdk::InputIndex(kCosineInputs, "x1");
constexpr uint32_t kCosineX2 = sdk::InputIndex(kCosineInputs, "x2");
constexpr uint32_t kCosineDim = sdk::InputIndex(kCosineInputs, "dim");
constexpr uint32_t kCosineEps = sdk::InputIndex(kCosineInputs, "eps");

Status InferCosine(InferContext& ctx) {
  return InferPairReduction(ctx, kCosineX1, kCosineX2, kCosineDim);
}

/// x / max(||x||_2 over axis, eps), keeping the axis.
Expected<Var> EmitNormalized(LowerContext& ctx, Var x, int64_t axis, Var eps) {
  TS2COREML_ASSIGN_OR_RETURN(Var sq, EmitBinary(ctx, "mul", x, x));
  TS2COREML_ASSIGN_OR_RETURN(Var sum, EmitReduce(ctx, "reduce_sum", sq, {axis}, true));
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(sum));
  TS2COREML_ASSIGN_OR_RETURN(Var norm, ctx.Emit1("sqrt", {{"x", sum}}, st));
  TS2COREML_ASSIGN_OR_RETURN(Var clamped, EmitBinary(ctx, "maximum", norm, eps));
  return EmitBinary(ctx, "real_div", x, clamped);
}

/// PyTorch's formula: sum((x1 / max(|x1|, eps)) * (x2 / max(|x2|, eps)), dim), each norm taken
/// over the broadcast inputs.
Status LowerCosine(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(auto plan, PairReductionPlan(ctx, kCosineX1, kCosineX2, kCosineDim));
  TS2COREML_ASSIGN_OR_RETURN(double eps, ctx.Float(kCosineEps));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var eps_var, ctx.ConstFloat(out.dtype, static_cast<float>(eps)));
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.Input(kCosineX1));
  TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.Input(kCosineX2));
  TS2COREML_ASSIGN_OR_RETURN(a, EmitBroadcastTo(ctx, a, plan.first));
  TS2COREML_ASSIGN_OR_RETURN(b, EmitBroadcastTo(ctx, b, plan.first));
  TS2COREML_ASSIGN_OR_RETURN(Var na, EmitNormalized(ctx, a, plan.second, eps_var));
  TS2COREML_ASSIGN_OR_RETURN(Var nb, EmitNormalized(ctx, b, plan.second, eps_var));
  TS2COREML_ASSIGN_OR_RETURN(Var prod, EmitBinary(ctx, "mul", na, nb));
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({plan.second}));
  TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.ConstBool(false));
  return ctx.EmitOutput("reduce_sum", {{"x", prod}, {"axes", axes}, {"keep_dims", keep}});
}

// --- linalg_vecdot(x, y, *, dim=-1) ----------------------------------------------------------

constexpr uint32_t kVecdotX = sdk::InputIndex(kVecdotInputs, "x");
constexpr uint32_t kVecdotY = sdk::InputIndex(kVecdotInputs, "y");
constexpr uint32_t kVecdotDim = sdk::InputIndex(kVecdotInputs, "dim");

Status InferVecdot(InferContext& ctx) {
  return InferPairReduction(ctx, kVecdotX, kVecdotY, kVecdotDim);
}

/// sum(x * y, dim) over the broadcast inputs (real tensors: conj is the identity).
Status LowerVecdot(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(auto plan, PairReductionPlan(ctx, kVecdotX, kVecdotY, kVecdotDim));
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.Input(kVecdotX));
  TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.Input(kVecdotY));
  TS2COREML_ASSIGN_OR_RETURN(Var prod, EmitBinary(ctx, "mul", a, b));  // the broadcast shape
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({plan.second}));
  TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.ConstBool(false));
  return ctx.EmitOutput("reduce_sum", {{"x", prod}, {"axes", axes}, {"keep_dims", keep}});
}

// --- trace(self) -----------------------------------------------------------------------------

constexpr uint32_t kTraceSelf = sdk::InputIndex(kTraceInputs, "self");

Status InferTrace(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kTraceSelf));
  if (x.rank() != 2) {
    return ctx.InvalidInputs("aten::trace: expects a 2-d matrix, got " + FormatInts(x.shape));
  }
  return ctx.SetOutputType(0, TensorType(x.dtype, {}));
}

/// The diagonal of an n x m matrix is every (m + 1)-th entry of its flattening, from 0.
Status LowerTrace(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kTraceSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  const int64_t n = t.shape[0], m = t.shape[1], k = std::min(n, m);
  TS2COREML_ASSIGN_OR_RETURN(Var flat, EmitReshape(ctx, x, {n * m}));
  TS2COREML_ASSIGN_OR_RETURN(Var begin, ctx.ConstInts({0}));
  TS2COREML_ASSIGN_OR_RETURN(Var end, ctx.ConstInts({(k - 1) * (m + 1) + 1}));
  TS2COREML_ASSIGN_OR_RETURN(Var stride, ctx.ConstInts({m + 1}));
  TS2COREML_ASSIGN_OR_RETURN(
      Var diag,
      ctx.Emit1("slice_by_index", {{"x", flat}, {"begin", begin}, {"end", end}, {"stride", stride}},
                TensorType(t.dtype, {k})));
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({0}));
  TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.ConstBool(false));
  return ctx.EmitOutput("reduce_sum", {{"x", diag}, {"axes", axes}, {"keep_dims", keep}});
}

// --- mse_loss(self, target, reduction=mean) --------------------------------------------------

constexpr uint32_t kMseSelf = sdk::InputIndex(kMseInputs, "self");
constexpr uint32_t kMseTarget = sdk::InputIndex(kMseInputs, "target");
constexpr uint32_t kMseReduction = sdk::InputIndex(kMseInputs, "reduction");

/// at::Reduction: 0 none, 1 mean (the default), 2 sum.
Expected<int64_t> ReadReduction(const NodeView& ctx, uint32_t i) {
  if (ctx.num_inputs() <= i || ctx.IsNone(i)) return int64_t{1};
  TS2COREML_ASSIGN_OR_RETURN(int64_t r, ctx.Int(i));
  if (r < 0 || r > 2) {
    return ctx.Error(ctx.kind() + ": reduction " + std::to_string(r) +
                     " is not one of 0 (none), 1 (mean), 2 (sum)");
  }
  return r;
}

Status InferMse(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType a, ctx.InputType(kMseSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType b, ctx.InputType(kMseTarget));
  TS2COREML_ASSIGN_OR_RETURN(Shape shape, BroadcastOf(ctx, a, b));
  TS2COREML_ASSIGN_OR_RETURN(int64_t r, ReadReduction(ctx, kMseReduction));
  return ctx.SetOutputType(0, TensorType(a.dtype, r == 0 ? shape : Shape{}));
}

/// (self - target)^2, then the mean or sum of every entry of the broadcast result.
Status LowerMse(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(int64_t r, ReadReduction(ctx, kMseReduction));
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.Input(kMseSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.Input(kMseTarget));
  TS2COREML_ASSIGN_OR_RETURN(Var diff, EmitBinary(ctx, "sub", a, b));
  if (r == 0) return ctx.EmitOutput("mul", {{"x", diff}, {"y", diff}});
  TS2COREML_ASSIGN_OR_RETURN(Var sq, EmitBinary(ctx, "mul", diff, diff));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(sq));
  if (t.rank() == 0) return ctx.EmitOutput("identity", {{"x", sq}});
  Shape axes;
  for (int64_t d = 0; d < t.rank(); ++d) axes.push_back(d);
  TS2COREML_ASSIGN_OR_RETURN(Var axes_var, ctx.ConstInts(axes));
  TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.ConstBool(false));
  return ctx.EmitOutput(r == 1 ? "reduce_mean" : "reduce_sum",
                        {{"x", sq}, {"axes", axes_var}, {"keep_dims", keep}});
}

// --- nll_loss(self, target, weight?, reduction, ignore_index) --------------------------------

constexpr uint32_t kNllSelf = sdk::InputIndex(kNllInputs, "self");
constexpr uint32_t kNllTarget = sdk::InputIndex(kNllInputs, "target");
constexpr uint32_t kNllWeight = sdk::InputIndex(kNllInputs, "weight");
constexpr uint32_t kNllReduction = sdk::InputIndex(kNllInputs, "reduction");
constexpr uint32_t kNllIgnore = sdk::InputIndex(kNllInputs, "ignore_index");

/// The class count and the per-sample shape: self (C) with target (), or (N, C, d...) with
/// target (N, d...).
Expected<std::pair<int64_t, Shape>> NllPlan(const NodeView& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kNllSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.InputType(kNllTarget));
  if (x.rank() == 0) return ctx.InvalidInputs(ctx.kind() + ": self must have a class dim");
  const int64_t c = x.shape[x.rank() == 1 ? 0 : 1];
  Shape lead;
  if (x.rank() > 1) {
    lead = {x.shape[0]};
    lead.insert(lead.end(), x.shape.begin() + 2, x.shape.end());
  }
  if (t.shape != lead) {
    return ctx.InvalidInputs(ctx.kind() + ": target " + FormatInts(t.shape) +
                             " must have the shape of self " + FormatInts(x.shape) +
                             " without its class dim");
  }
  if (ctx.num_inputs() > kNllWeight && !ctx.IsNone(kNllWeight)) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType w, ctx.InputType(kNllWeight));
    if (w.shape != Shape{c}) {
      return ctx.InvalidInputs(ctx.kind() + ": weight " + FormatInts(w.shape) + " must have " +
                               std::to_string(c) + " entries, one per class");
    }
  }
  return std::make_pair(c, lead);
}

Status InferNll(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(auto plan, NllPlan(ctx));
  TS2COREML_ASSIGN_OR_RETURN(int64_t r, ReadReduction(ctx, kNllReduction));
  TS2COREML_RETURN_IF_ERROR(ctx.Int(kNllIgnore).status());
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kNllSelf));
  return ctx.SetOutputType(0, TensorType(x.dtype, r == 0 ? plan.second : Shape{}));
}

/// Sums `x` over all its axes (rank 0 passes through).
Expected<Var> SumAll(LowerContext& ctx, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  Shape axes;
  for (int64_t d = 0; d < t.rank(); ++d) axes.push_back(d);
  if (axes.empty()) return x;
  return EmitReduce(ctx, "reduce_sum", x, axes, false);
}

/// x[target] and weight[target] as one-hot selects over classes moved last; an ignored or out
/// of range target picks 0. loss = -x[target] * w, summed, or divided by the sum of w (mean).
Status LowerNll(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(auto plan, NllPlan(ctx));
  const int64_t c = plan.first;
  const Shape& lead = plan.second;
  TS2COREML_ASSIGN_OR_RETURN(int64_t r, ReadReduction(ctx, kNllReduction));
  TS2COREML_ASSIGN_OR_RETURN(int64_t ignore, ctx.Int(kNllIgnore));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kNllSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  if (xt.rank() > 2) {
    Shape perm = {0};
    for (int64_t d = 2; d < xt.rank(); ++d) perm.push_back(d);
    perm.push_back(1);
    TS2COREML_ASSIGN_OR_RETURN(x, EmitTranspose(ctx, x, perm));
  }
  Shape with_c = lead, with_1 = lead;
  with_c.push_back(c);
  with_1.push_back(1);
  TS2COREML_ASSIGN_OR_RETURN(Var target, ctx.Input(kNllTarget));
  TS2COREML_ASSIGN_OR_RETURN(Var t1, EmitReshape(ctx, target, with_1));
  Shape classes;
  for (int64_t k = 0; k < c; ++k) classes.push_back(k);
  TS2COREML_ASSIGN_OR_RETURN(Var classes_var, ctx.ConstInts(classes));
  TS2COREML_ASSIGN_OR_RETURN(Var hot, ctx.Emit1("equal", {{"x", t1}, {"y", classes_var}},
                                                TensorType(T2C_DTYPE_BOOL, with_c)));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstFloat(out.dtype, 0.0f));
  const int64_t axis = static_cast<int64_t>(lead.size());
  TS2COREML_ASSIGN_OR_RETURN(Var xs, ctx.Emit1("select", {{"cond", hot}, {"a", x}, {"b", zero}},
                                               TensorType(out.dtype, with_c)));
  TS2COREML_ASSIGN_OR_RETURN(Var picked, EmitReduce(ctx, "reduce_sum", xs, {axis}, false));
  TS2COREML_ASSIGN_OR_RETURN(Var ignore_var, ctx.ConstInt(ignore));
  TS2COREML_ASSIGN_OR_RETURN(Var valid, ctx.Emit1("not_equal", {{"x", target}, {"y", ignore_var}},
                                                  TensorType(T2C_DTYPE_BOOL, lead)));
  Var w;
  if (ctx.num_inputs() > kNllWeight && !ctx.IsNone(kNllWeight)) {
    TS2COREML_ASSIGN_OR_RETURN(Var weight, ctx.Input(kNllWeight));
    TS2COREML_ASSIGN_OR_RETURN(Var ws,
                               ctx.Emit1("select", {{"cond", hot}, {"a", weight}, {"b", zero}},
                                         TensorType(out.dtype, with_c)));
    TS2COREML_ASSIGN_OR_RETURN(w, EmitReduce(ctx, "reduce_sum", ws, {axis}, false));
    TS2COREML_ASSIGN_OR_RETURN(w, ctx.Emit1("select", {{"cond", valid}, {"a", w}, {"b", zero}},
                                            TensorType(out.dtype, lead)));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(Var one, ctx.ConstFloat(out.dtype, 1.0f));
    TS2COREML_ASSIGN_OR_RETURN(w, ctx.Emit1("select", {{"cond", valid}, {"a", one}, {"b", zero}},
                                            TensorType(out.dtype, lead)));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var minus, ctx.ConstFloat(out.dtype, -1.0f));
  TS2COREML_ASSIGN_OR_RETURN(Var neg, EmitBinary(ctx, "mul", picked, minus));
  if (r == 0) return ctx.EmitOutput("mul", {{"x", neg}, {"y", w}});
  TS2COREML_ASSIGN_OR_RETURN(Var loss, EmitBinary(ctx, "mul", neg, w));
  TS2COREML_ASSIGN_OR_RETURN(Var total, SumAll(ctx, loss));
  if (r == 2) return ctx.EmitOutput("identity", {{"x", total}});
  TS2COREML_ASSIGN_OR_RETURN(Var norm, SumAll(ctx, w));
  return ctx.EmitOutput("real_div", {{"x", total}, {"y", norm}});
}

// --- searchsorted(sorted_sequence, self, out_int32, right, side, sorter) ---------------------

constexpr uint32_t kSsSeq = sdk::InputIndex(kSearchsortedInputs, "sorted_sequence");
constexpr uint32_t kSsSelf = sdk::InputIndex(kSearchsortedInputs, "self");
constexpr uint32_t kSsRight = sdk::InputIndex(kSearchsortedInputs, "right");
constexpr uint32_t kSsSide = sdk::InputIndex(kSearchsortedInputs, "side");
constexpr uint32_t kSsSorter = sdk::InputIndex(kSearchsortedInputs, "sorter");

/// Whether the search is right-sided (side wins over right); refuses a sorter.
Expected<bool> ReadSide(const NodeView& ctx) {
  const std::string op = ctx.kind();
  if (ctx.num_inputs() > kSsSorter && !ctx.IsNone(kSsSorter)) {
    return ctx.Error(op + ": sorter is not supported; sort the sequence first");
  }
  bool right = false;
  if (ctx.num_inputs() > kSsRight && !ctx.IsNone(kSsRight)) {
    TS2COREML_ASSIGN_OR_RETURN(right, ctx.Bool(kSsRight));
  }
  if (ctx.num_inputs() > kSsSide && !ctx.IsNone(kSsSide)) {
    TS2COREML_ASSIGN_OR_RETURN(std::string side, ctx.String(kSsSide));
    if (side != "left" && side != "right") {
      return ctx.InvalidInputs(op + ": side '" + side + "' is not 'left' or 'right'");
    }
    right = side == "right";
  }
  return right;
}

/// A 1-d sequence serves any values; an n-d one needs values with its leading dims.
Status CheckSearchShapes(const NodeView& ctx, const TensorType& seq, const TensorType& v) {
  if (seq.rank() == 0) return ctx.InvalidInputs(ctx.kind() + ": the sequence must be 1-d or more");
  if (seq.rank() == 1) return Status::Ok();
  if (v.rank() != seq.rank() ||
      !std::equal(seq.shape.begin(), seq.shape.end() - 1, v.shape.begin())) {
    return ctx.InvalidInputs(ctx.kind() + ": sequence " + FormatInts(seq.shape) + " and values " +
                             FormatInts(v.shape) + " must share all but the last dim");
  }
  return Status::Ok();
}

Status InferSearchsorted(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType seq, ctx.InputType(kSsSeq));
  TS2COREML_ASSIGN_OR_RETURN(TensorType v, ctx.InputType(kSsSelf));
  TS2COREML_RETURN_IF_ERROR(CheckSearchShapes(ctx, seq, v));
  TS2COREML_RETURN_IF_ERROR(ReadSide(ctx).status());
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_INT32, v.shape));
}

/// The insertion index counts the sequence entries below each value (left: seq < v; right:
/// seq <= v), comparing v[..., K, 1] with seq[..., 1, M] and summing over M.
Status LowerSearchsorted(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(bool right, ReadSide(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var seq, ctx.Input(kSsSeq));
  TS2COREML_ASSIGN_OR_RETURN(Var v, ctx.Input(kSsSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(seq));
  TS2COREML_ASSIGN_OR_RETURN(TensorType vt, ctx.TypeOf(v));
  Shape vcol = vt.shape;
  vcol.push_back(1);
  TS2COREML_ASSIGN_OR_RETURN(Var vc, EmitReshape(ctx, v, vcol));
  Shape srow = st.shape;
  srow.insert(srow.end() - 1, 1);
  TS2COREML_ASSIGN_OR_RETURN(Var sr, EmitReshape(ctx, seq, srow));
  Shape cmp_shape;
  if (!sdk::BroadcastShapes(vcol, srow, &cmp_shape)) {
    return ctx.Error(ctx.kind() + ": sequence and values do not broadcast");
  }
  TS2COREML_ASSIGN_OR_RETURN(Var below,
                             ctx.Emit1(right ? "less_equal" : "less", {{"x", sr}, {"y", vc}},
                                       TensorType(T2C_DTYPE_BOOL, cmp_shape)));
  TS2COREML_ASSIGN_OR_RETURN(Var one, ctx.ConstInt(1));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstInt(0));
  TS2COREML_ASSIGN_OR_RETURN(Var counts,
                             ctx.Emit1("select", {{"cond", below}, {"a", one}, {"b", zero}},
                                       TensorType(T2C_DTYPE_INT32, cmp_shape)));
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({static_cast<int64_t>(cmp_shape.size()) - 1}));
  TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.ConstBool(false));
  return ctx.EmitOutput("reduce_sum", {{"x", counts}, {"axes", axes}, {"keep_dims", keep}});
}

}  // namespace ts2coreml::plugins::reduction_parity
