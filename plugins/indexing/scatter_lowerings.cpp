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

using sdk::Expected;
using sdk::LowerContext;
using sdk::NodeView;
using sdk::Status;
using sdk::TensorType;
using sdk::Var;

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

bool Given(const NodeView& ctx, uint32_t i) { return ctx.num_inputs() > i && !ctx.IsNone(i); }

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

Expected<Plan> ReadPlan(const NodeView& ctx) {
  Plan p;
  const std::string kind = ctx.kind();
  p.op =
      kind.substr(6, kind.find('.') == std::string::npos ? std::string::npos : kind.find('.') - 6);
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
  if (p.index_op) {
    if (index.rank() > 1) {
      return ctx.InvalidInputs(p.op + ": index must be 0-d or 1-d, got " + FormatInts(index.shape));
    }
    p.index_shape = x.shape;
    p.index_shape[static_cast<size_t>(p.axis)] = index.numel();
  } else {
    p.index_shape = index.shape;
    if (index.rank() != x.rank()) {
      return ctx.InvalidInputs(p.op + ": index " + FormatInts(index.shape) + " and input " +
                               FormatInts(x.shape) + " differ in rank");
    }
    for (int64_t d = 0; d < x.rank(); ++d) {
      if (d != p.axis && index.shape[d] != x.shape[d]) {
        return ctx.Error(p.op + ": an index " + FormatInts(index.shape) +
                         " that differs from the input " + FormatInts(x.shape) + " outside dim " +
                         std::to_string(p.axis) + " is not supported");
      }
    }
  }
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
  const t2c_dtype dt = xt.dtype;
  const int64_t a = p.axis, rank = xt.rank(), d = xt.shape[static_cast<size_t>(a)];
  TS2COREML_ASSIGN_OR_RETURN(index, FullIndex(ctx, p, index));
  const bool scalar = st.rank() == 0;
  if (!scalar && st.shape != p.index_shape) {
    TS2COREML_ASSIGN_OR_RETURN(Var begin, ctx.ConstInts(std::vector<int64_t>(rank, 0)));
    TS2COREML_ASSIGN_OR_RETURN(Var size, ctx.ConstInts(p.index_shape));
    TS2COREML_ASSIGN_OR_RETURN(
        src, Op(ctx, "slice_by_size", {{"x", src}, {"begin", begin}, {"size", size}}, dt,
                p.index_shape));
  }
  // hit[.., k, d, ..]: index entry k writes position d.
  std::vector<int64_t> wide = p.index_shape;
  wide.insert(wide.begin() + a + 1, d);
  TS2COREML_ASSIGN_OR_RETURN(Var axes1, ctx.ConstInts({a + 1}));
  std::vector<int64_t> idx_col = p.index_shape;
  idx_col.insert(idx_col.begin() + a + 1, 1);
  TS2COREML_ASSIGN_OR_RETURN(
      Var idx_e, Op(ctx, "expand_dims", {{"x", index}, {"axes", axes1}}, T2C_DTYPE_INT32, idx_col));
  TS2COREML_ASSIGN_OR_RETURN(Var positions, RangeAlong(ctx, d, a + 1, rank + 1));
  TS2COREML_ASSIGN_OR_RETURN(
      Var hit, Op(ctx, "equal", {{"x", idx_e}, {"y", positions}}, T2C_DTYPE_BOOL, wide));
  // written[..d..]: some entry hits the position.
  TS2COREML_ASSIGN_OR_RETURN(Var one_i, ctx.ConstInt(1));
  TS2COREML_ASSIGN_OR_RETURN(Var zero_i, ctx.ConstInt(0));
  TS2COREML_ASSIGN_OR_RETURN(
      Var hits,
      Op(ctx, "select", {{"cond", hit}, {"a", one_i}, {"b", zero_i}}, T2C_DTYPE_INT32, wide));
  TS2COREML_ASSIGN_OR_RETURN(Var count, Reduce(ctx, "reduce_sum", hits, a));
  TS2COREML_ASSIGN_OR_RETURN(
      Var written, Op(ctx, "greater", {{"x", count}, {"y", zero_i}}, T2C_DTYPE_BOOL, xt.shape));
  auto finish = [&](Var value) -> Status {
    return ctx.EmitOutput("select", {{"cond", written}, {"a", value}, {"b", self}});
  };
  if (p.mode == Mode::kWrite) {
    if (scalar) return finish(src);
    // The last entry k hitting each position, gathered from the source.
    TS2COREML_ASSIGN_OR_RETURN(Var ks, RangeAlong(ctx, p.index_shape[a], a, rank + 1));
    TS2COREML_ASSIGN_OR_RETURN(Var none, ctx.ConstInt(-1));
    TS2COREML_ASSIGN_OR_RETURN(Var which, Op(ctx, "select", {{"cond", hit}, {"a", ks}, {"b", none}},
                                             T2C_DTYPE_INT32, wide));
    TS2COREML_ASSIGN_OR_RETURN(Var last, Reduce(ctx, "reduce_max", which, a));
    TS2COREML_ASSIGN_OR_RETURN(
        Var safe, Op(ctx, "maximum", {{"x", last}, {"y", zero_i}}, T2C_DTYPE_INT32, xt.shape));
    TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(a));
    TS2COREML_ASSIGN_OR_RETURN(
        Var value, Op(ctx, "gather_along_axis", {{"x", src}, {"indices", safe}, {"axis", axis_var}},
                      dt, xt.shape));
    return finish(value);
  }
  // Reductions: the source spread over [.., K, D, ..], neutral where nothing hits.
  Var src_e = src;
  if (!scalar) {
    TS2COREML_ASSIGN_OR_RETURN(src_e,
                               Op(ctx, "expand_dims", {{"x", src}, {"axes", axes1}}, dt, idx_col));
  }
  Var neutral;
  const char* reduce = "reduce_sum";
  const char* combine = "add";
  if (p.mode == Mode::kProd) {
    TS2COREML_ASSIGN_OR_RETURN(neutral, ScalarLike(ctx, dt, 1));
    reduce = "reduce_prod";
    combine = "mul";
  } else if (p.mode == Mode::kMax || p.mode == Mode::kMin) {
    TS2COREML_ASSIGN_OR_RETURN(neutral, Extreme(ctx, dt, p.mode == Mode::kMax));
    reduce = p.mode == Mode::kMax ? "reduce_max" : "reduce_min";
    combine = p.mode == Mode::kMax ? "maximum" : "minimum";
  } else {
    TS2COREML_ASSIGN_OR_RETURN(neutral, ScalarLike(ctx, dt, 0));
  }
  TS2COREML_ASSIGN_OR_RETURN(
      Var spread, Op(ctx, "select", {{"cond", hit}, {"a", src_e}, {"b", neutral}}, dt, wide));
  TS2COREML_ASSIGN_OR_RETURN(Var r, Reduce(ctx, reduce, spread, a));
  if (p.alpha != 1) {
    TS2COREML_ASSIGN_OR_RETURN(Var alpha, ScalarLike(ctx, dt, p.alpha));
    TS2COREML_ASSIGN_OR_RETURN(r, EmitBinary(ctx, "mul", r, alpha));
  }
  if (p.mode == Mode::kMean) {
    // (self + sum) / (count + 1) with self, sum / count without; count from float ones.
    TS2COREML_ASSIGN_OR_RETURN(Var one_f, ScalarLike(ctx, dt, 1));
    TS2COREML_ASSIGN_OR_RETURN(Var zero_f, ScalarLike(ctx, dt, 0));
    TS2COREML_ASSIGN_OR_RETURN(
        Var ones, Op(ctx, "select", {{"cond", hit}, {"a", one_f}, {"b", zero_f}}, dt, wide));
    TS2COREML_ASSIGN_OR_RETURN(Var n, Reduce(ctx, "reduce_sum", ones, a));
    if (p.include_self) {
      TS2COREML_ASSIGN_OR_RETURN(r, EmitBinary(ctx, "add", r, self));
      TS2COREML_ASSIGN_OR_RETURN(n, EmitBinary(ctx, "add", n, one_f));
    } else {
      TS2COREML_ASSIGN_OR_RETURN(n, EmitBinary(ctx, "maximum", n, one_f));
    }
    TS2COREML_ASSIGN_OR_RETURN(r, EmitBinary(ctx, "real_div", r, n));
    return finish(r);
  }
  if (p.include_self) {
    TS2COREML_ASSIGN_OR_RETURN(r, EmitBinary(ctx, combine, self, r));
  }
  return finish(r);
}

}  // namespace ts2coreml::plugins::scatter
