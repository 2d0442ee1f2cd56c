/// Scatter through one-hot comparisons (see scatter_lowerings.h).
#include "indexing/scatter_lowerings.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::scatter {
namespace {

constexpr uint32_t kSelf = sdk::InputIndex(kScatterInputs, "self");
constexpr uint32_t kDim = sdk::InputIndex(kScatterInputs, "dim");
constexpr uint32_t kIndex = sdk::InputIndex(kScatterInputs, "index");
constexpr uint32_t kSrc = sdk::InputIndex(kScatterInputs, "src_or_value");
constexpr uint32_t kReduceOrAlpha = sdk::InputIndex(kScatterInputs, "reduce_or_alpha");
constexpr uint32_t kIncludeSelf = sdk::InputIndex(kScatterInputs, "include_self");

enum class Mode { kWrite, kSum, kProd, kMean, kMax, kMin };

/// A scatter resolved against its inputs.
struct Plan {
  std::string op;
  int64_t axis = 0;
  Mode mode = Mode::kWrite;
  bool include_self = true;
  double alpha = 1;
  bool index_op = false;             ///< index_add/copy/fill: a 1-d index along dim
  std::vector<int64_t> index_shape;  ///< the (expanded) index's shape
};

Expected<Mode> ReadMode(const NodeView& ctx, const std::string& op, Plan* p) {
  if (op == "scatter_add" || op == "index_add") return Mode::kSum;
  if (!Given(ctx, kReduceOrAlpha)) return Mode::kWrite;
  TS2COREML_ASSIGN_OR_RETURN(std::string r, ctx.String(kReduceOrAlpha));
  if (op == "scatter_reduce") {
    if (Given(ctx, kIncludeSelf)) {
      TS2COREML_ASSIGN_OR_RETURN(p->include_self, ctx.Bool(kIncludeSelf));
    }
    if (r == "sum") return Mode::kSum;
    if (r == "prod") return Mode::kProd;
    if (r == "mean") return Mode::kMean;
    if (r == "amax") return Mode::kMax;
    if (r == "amin") return Mode::kMin;
  } else {
    if (r == "add") return Mode::kSum;
    if (r == "multiply") return Mode::kProd;
  }
  return ctx.Error(op + ": reduce '" + r + "' is not one PyTorch defines for it");
}

/// The shape the index covers: an index op's 0-d or 1-d index laid along dim, else the index's
/// own shape, which may differ from the input's only along dim.
Status ReadIndexShape(const NodeView& ctx, const TensorType& x, const TensorType& index, Plan* p) {
  if (p->index_op) {
    if (index.rank() > 1) {
      return ctx.InvalidInputs(p->op + ": index must be 0-d or 1-d, got " +
                               FormatInts(index.shape));
    }
    p->index_shape = x.shape;
    p->index_shape[static_cast<size_t>(p->axis)] = index.numel();
    return Status::Ok();
  }
  p->index_shape = index.shape;
  if (index.rank() != x.rank()) {
    return ctx.InvalidInputs(p->op + ": index " + FormatInts(index.shape) + " and input " +
                             FormatInts(x.shape) + " differ in rank");
  }
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (d != p->axis && index.shape[d] != x.shape[d]) {
      return ctx.Error(p->op + ": an index " + FormatInts(index.shape) +
                       " that differs from the input " + FormatInts(x.shape) + " outside dim " +
                       std::to_string(p->axis) + " is not supported");
    }
  }
  return Status::Ok();
}

/// Resolves a scatter against its inputs, refusing what MIL cannot reproduce.
Expected<Plan> ReadPlan(const NodeView& ctx) {
  Plan p;
  p.op = OpBaseName(ctx.kind());
  p.index_op = p.op.rfind("index_", 0) == 0;
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType index, ctx.InputType(kIndex));
  if (x.rank() == 0) return ctx.Error(p.op + ": a 0-d input is not supported");
  TS2COREML_ASSIGN_OR_RETURN(p.axis, ReadAxis(ctx, kDim, x.rank(), p.op));
  if (p.op == "index_add") {
    if (Given(ctx, kReduceOrAlpha)) {
      TS2COREML_ASSIGN_OR_RETURN(p.alpha, ctx.Float(kReduceOrAlpha));
    }
    p.mode = Mode::kSum;
  } else if (!p.index_op) {
    TS2COREML_ASSIGN_OR_RETURN(p.mode, ReadMode(ctx, p.op, &p));
  }
  TS2COREML_RETURN_IF_ERROR(ReadIndexShape(ctx, x, index, &p));
  if (p.index_shape[static_cast<size_t>(p.axis)] == 0) {
    return ctx.Error(p.op + ": an empty index is not supported");
  }
  if (p.mode == Mode::kMean && !x.is_float()) {
    return ctx.Error(p.op + ": reduce 'mean' on an integer tensor is not supported");
  }
  TS2COREML_ASSIGN_OR_RETURN(TensorType src, OperandType(ctx, kSrc));
  if (!x.is_float() && src.is_float()) {
    return ctx.Error(p.op + ": scattering float values into an integer tensor is not supported");
  }
  if (src.rank() != 0 && src.rank() != x.rank()) {
    return ctx.InvalidInputs(p.op + ": source " + FormatInts(src.shape) + " and input " +
                             FormatInts(x.shape) + " differ in rank");
  }
  for (int64_t d = 0; src.rank() != 0 && d < src.rank(); ++d) {
    if (src.shape[d] < p.index_shape[d]) {
      return ctx.InvalidInputs(p.op + ": source " + FormatInts(src.shape) +
                               " is smaller than the index " + FormatInts(p.index_shape));
    }
  }
  return p;
}

/// Emits `op` with an explicit output type (shape and dtype).
Expected<Var> Op(const LowerContext& ctx, const char* op, const std::vector<sdk::Arg>& args,
                 t2c_dtype dtype, const std::vector<int64_t>& shape) {
  return ctx.Emit1(op, args, TensorType(dtype, shape));
}

Expected<Var> Reduce(const LowerContext& ctx, const char* op, Var x, int64_t axis) {
  return EmitReduce(ctx, op, x, {axis}, /*keep_dims=*/false);
}

/// A constant [0, n) laid along `axis` of a rank-`rank` tensor of ones.
Expected<Var> RangeAlong(const LowerContext& ctx, int64_t n, int64_t axis, int64_t rank) {
  std::vector<int64_t> values;
  for (int64_t i = 0; i < n; ++i) values.push_back(i);
  TS2COREML_ASSIGN_OR_RETURN(Var v, ctx.ConstInts(values));
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[static_cast<size_t>(axis)] = n;
  return EmitReshape(ctx, v, shape);
}

/// The index as [.., K, ..] of the plan's shape (index ops: the 1-d index laid along dim).
Expected<Var> FullIndex(const LowerContext& ctx, const Plan& p, Var index) {
  if (!p.index_op) return index;
  const int64_t k = p.index_shape[static_cast<size_t>(p.axis)];
  std::vector<int64_t> line(p.index_shape.size(), 1), reps = p.index_shape;
  line[static_cast<size_t>(p.axis)] = k;
  reps[static_cast<size_t>(p.axis)] = 1;
  TS2COREML_ASSIGN_OR_RETURN(Var v, EmitReshape(ctx, index, line));
  if (AllEqual(reps, 1)) return v;
  TS2COREML_ASSIGN_OR_RETURN(Var reps_var, ctx.ConstInts(reps));
  return Op(ctx, "tile", {{"x", v}, {"reps", reps_var}}, T2C_DTYPE_INT32, p.index_shape);
}

/// The extreme value a max (min) starts from in `dtype`.
Expected<Var> Extreme(const LowerContext& ctx, t2c_dtype dtype, bool lowest) {
  if (dtype == T2C_DTYPE_INT32) {
    return ctx.ConstInt(lowest ? std::numeric_limits<int32_t>::min()
                               : std::numeric_limits<int32_t>::max());
  }
  const float inf = std::numeric_limits<float>::infinity();
  return ctx.ConstFloat(dtype, lowest ? -inf : inf);
}

/// Where the index entries write: hit[.., k, d, ..] says entry k writes position d along the
/// axis, written[..d..] that some entry writes it.
struct Hits {
  Var hit;
  Var written;
  Var zero;                     ///< int32 0
  Var axes;                     ///< {axis + 1}: where [.., K, ..] widens to [.., K, 1, ..]
  std::vector<int64_t> wide;    ///< [.., K, D, ..]
  std::vector<int64_t> column;  ///< [.., K, 1, ..]
};

/// The source cut to the index's shape where it is larger (a scalar source is kept).
Expected<Var> ClipSource(const LowerContext& ctx, const Plan& p, Var src, t2c_dtype dtype) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(src));
  if (st.rank() == 0 || st.shape == p.index_shape) return src;
  const int64_t rank = static_cast<int64_t>(p.index_shape.size());
  TS2COREML_ASSIGN_OR_RETURN(Var begin, ctx.ConstInts(std::vector<int64_t>(rank, 0)));
  TS2COREML_ASSIGN_OR_RETURN(Var size, ctx.ConstInts(p.index_shape));
  return Op(ctx, "slice_by_size", {{"x", src}, {"begin", begin}, {"size", size}}, dtype,
            p.index_shape);
}

/// Compares each index entry with every position along the axis (`index` as FullIndex gives it).
Expected<Hits> EmitHits(const LowerContext& ctx, const Plan& p, Var index, const TensorType& xt) {
  const int64_t a = p.axis, rank = xt.rank(), d = xt.shape[static_cast<size_t>(a)];
  Hits h;
  h.wide = p.index_shape;
  h.wide.insert(h.wide.begin() + a + 1, d);
  TS2COREML_ASSIGN_OR_RETURN(h.axes, ctx.ConstInts({a + 1}));
  h.column = p.index_shape;
  h.column.insert(h.column.begin() + a + 1, 1);
  TS2COREML_ASSIGN_OR_RETURN(Var idx_e, Op(ctx, "expand_dims", {{"x", index}, {"axes", h.axes}},
                                           T2C_DTYPE_INT32, h.column));
  TS2COREML_ASSIGN_OR_RETURN(Var positions, RangeAlong(ctx, d, a + 1, rank + 1));
  TS2COREML_ASSIGN_OR_RETURN(
      h.hit, Op(ctx, "equal", {{"x", idx_e}, {"y", positions}}, T2C_DTYPE_BOOL, h.wide));
  TS2COREML_ASSIGN_OR_RETURN(Var one, ctx.ConstInt(1));
  TS2COREML_ASSIGN_OR_RETURN(h.zero, ctx.ConstInt(0));
  TS2COREML_ASSIGN_OR_RETURN(
      Var hits,
      Op(ctx, "select", {{"cond", h.hit}, {"a", one}, {"b", h.zero}}, T2C_DTYPE_INT32, h.wide));
  TS2COREML_ASSIGN_OR_RETURN(Var count, Reduce(ctx, "reduce_sum", hits, a));
  TS2COREML_ASSIGN_OR_RETURN(
      h.written, Op(ctx, "greater", {{"x", count}, {"y", h.zero}}, T2C_DTYPE_BOOL, xt.shape));
  return h;
}

/// A plain scatter of a tensor source: the value of the last entry that hits each position,
/// gathered from the source (what PyTorch's kernel leaves on CPU).
Expected<Var> EmitLastWrite(const LowerContext& ctx, const Plan& p, const Hits& h, Var src,
                            const TensorType& xt) {
  const int64_t a = p.axis, rank = xt.rank();
  TS2COREML_ASSIGN_OR_RETURN(Var ks, RangeAlong(ctx, p.index_shape[a], a, rank + 1));
  TS2COREML_ASSIGN_OR_RETURN(Var none, ctx.ConstInt(-1));
  TS2COREML_ASSIGN_OR_RETURN(Var which, Op(ctx, "select", {{"cond", h.hit}, {"a", ks}, {"b", none}},
                                           T2C_DTYPE_INT32, h.wide));
  TS2COREML_ASSIGN_OR_RETURN(Var last, Reduce(ctx, "reduce_max", which, a));
  TS2COREML_ASSIGN_OR_RETURN(
      Var safe, Op(ctx, "maximum", {{"x", last}, {"y", h.zero}}, T2C_DTYPE_INT32, xt.shape));
  TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(a));
  return Op(ctx, "gather_along_axis", {{"x", src}, {"indices", safe}, {"axis", axis_var}}, xt.dtype,
            xt.shape);
}

/// How a reduction mode folds the hits of one position: its neutral value, the MIL reduction
/// over the entries and the binary op that folds in self.
struct Fold {
  Var neutral;
  const char* reduce = "reduce_sum";
  const char* combine = "add";
};

Expected<Fold> FoldOf(const LowerContext& ctx, Mode mode, t2c_dtype dtype) {
  Fold f;
  if (mode == Mode::kProd) {
    TS2COREML_ASSIGN_OR_RETURN(f.neutral, ScalarLike(ctx, dtype, 1));
    f.reduce = "reduce_prod";
    f.combine = "mul";
  } else if (mode == Mode::kMax || mode == Mode::kMin) {
    TS2COREML_ASSIGN_OR_RETURN(f.neutral, Extreme(ctx, dtype, mode == Mode::kMax));
    f.reduce = mode == Mode::kMax ? "reduce_max" : "reduce_min";
    f.combine = mode == Mode::kMax ? "maximum" : "minimum";
  } else {
    TS2COREML_ASSIGN_OR_RETURN(f.neutral, ScalarLike(ctx, dtype, 0));
  }
  return f;
}

/// reduce 'mean' from the sum `sum` of the hits: (self + sum) / (count + 1) with self,
/// sum / max(count, 1) without; the count from float ones.
Expected<Var> EmitMean(const LowerContext& ctx, const Plan& p, const Hits& h, Var sum, Var self,
                       t2c_dtype dtype) {
  TS2COREML_ASSIGN_OR_RETURN(Var one_f, ScalarLike(ctx, dtype, 1));
  TS2COREML_ASSIGN_OR_RETURN(Var zero_f, ScalarLike(ctx, dtype, 0));
  TS2COREML_ASSIGN_OR_RETURN(
      Var ones, Op(ctx, "select", {{"cond", h.hit}, {"a", one_f}, {"b", zero_f}}, dtype, h.wide));
  TS2COREML_ASSIGN_OR_RETURN(Var n, Reduce(ctx, "reduce_sum", ones, p.axis));
  if (p.include_self) {
    TS2COREML_ASSIGN_OR_RETURN(sum, EmitBinary(ctx, "add", sum, self));
    TS2COREML_ASSIGN_OR_RETURN(n, EmitBinary(ctx, "add", n, one_f));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(n, EmitBinary(ctx, "maximum", n, one_f));
  }
  return EmitBinary(ctx, "real_div", sum, n);
}

/// A reducing scatter: the source spread over [.., K, D, ..] (neutral where nothing hits),
/// reduced over K, scaled by alpha, and folded with self.
Expected<Var> EmitReduced(const LowerContext& ctx, const Plan& p, const Hits& h, Var src,
                          Var self) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(self));
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(src));
  const t2c_dtype dt = xt.dtype;
  Var src_e = src;
  if (st.rank() != 0) {
    TS2COREML_ASSIGN_OR_RETURN(
        src_e, Op(ctx, "expand_dims", {{"x", src}, {"axes", h.axes}}, dt, h.column));
  }
  TS2COREML_ASSIGN_OR_RETURN(Fold f, FoldOf(ctx, p.mode, dt));
  TS2COREML_ASSIGN_OR_RETURN(
      Var spread, Op(ctx, "select", {{"cond", h.hit}, {"a", src_e}, {"b", f.neutral}}, dt, h.wide));
  TS2COREML_ASSIGN_OR_RETURN(Var r, Reduce(ctx, f.reduce, spread, p.axis));
  if (p.alpha != 1) {
    TS2COREML_ASSIGN_OR_RETURN(Var alpha, ScalarLike(ctx, dt, p.alpha));
    TS2COREML_ASSIGN_OR_RETURN(r, EmitBinary(ctx, "mul", r, alpha));
  }
  if (p.mode == Mode::kMean) return EmitMean(ctx, p, h, r, self, dt);
  if (!p.include_self) return r;
  return EmitBinary(ctx, f.combine, self, r);
}

}  // namespace

Status InferScatter(sdk::InferContext& ctx) {
  TS2COREML_RETURN_IF_ERROR(ReadPlan(ctx).status());
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kSelf));
  return ctx.SetOutputType(0, x);
}

Status LowerScatter(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Plan p, ReadPlan(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var self, ctx.Input(kSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var index, ctx.Input(kIndex));
  TS2COREML_ASSIGN_OR_RETURN(Var src, ctx.Input(kSrc));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(self));
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(src));
  TS2COREML_ASSIGN_OR_RETURN(index, FullIndex(ctx, p, index));
  TS2COREML_ASSIGN_OR_RETURN(src, ClipSource(ctx, p, src, xt.dtype));
  TS2COREML_ASSIGN_OR_RETURN(Hits h, EmitHits(ctx, p, index, xt));
  Var value = src;
  if (p.mode != Mode::kWrite) {
    TS2COREML_ASSIGN_OR_RETURN(value, EmitReduced(ctx, p, h, src, self));
  } else if (st.rank() != 0) {
    TS2COREML_ASSIGN_OR_RETURN(value, EmitLastWrite(ctx, p, h, src, xt));
  }
  return ctx.EmitOutput("select", {{"cond", h.written}, {"a", value}, {"b", self}});
}

}  // namespace ts2coreml::plugins::scatter
