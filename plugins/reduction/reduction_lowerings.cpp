/// Built-in lowerings of reductions: aten::mean / mean.dim -> reduce_mean, sum / sum.dim_IntList ->
/// reduce_sum, amax / amin -> reduce_max / reduce_min, max.dim / min.dim (values only) and
/// var / std (two-pass, in FP32).
#include "reduction/reduction_lowerings.h"

#include <set>
#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

constexpr int64_t kScalarTypeHalf = 5;
constexpr int64_t kScalarTypeFloat = 6;
constexpr int64_t kScalarTypeDouble = 7;

/// Where a reduction's arguments are, by name from its input table (-1: absent): (self, dim?,
/// keepdim, dtype?) for mean.dim/sum.dim_IntList, (self, dim, keepdim) for amax/amin, (self,
/// dtype?) for the full mean/sum, (self, dim, keepdim) with one int dim for max.dim/min.dim.
struct ReductionInputs {
  uint32_t self;
  int dims;     ///< an optional int list of dimensions
  int one_dim;  ///< a single int dimension
  int keepdim;
  int dtype;
};

/// (self, dim?, keepdim[, dtype?]).
template <size_t N>
constexpr ReductionInputs DimsReduction(const t2c_input_decl (&inputs)[N], bool has_dtype) {
  return {sdk::InputIndex(inputs, "self"), static_cast<int>(sdk::InputIndex(inputs, "dim")), -1,
          static_cast<int>(sdk::InputIndex(inputs, "keepdim")),
          has_dtype ? static_cast<int>(sdk::InputIndex(inputs, "dtype")) : -1};
}

/// (self, dtype?).
template <size_t N>
constexpr ReductionInputs FullReduction(const t2c_input_decl (&inputs)[N]) {
  return {sdk::InputIndex(inputs, "self"), -1, -1, -1,
          static_cast<int>(sdk::InputIndex(inputs, "dtype"))};
}

/// (self, dim, keepdim) with one int dim.
template <size_t N>
constexpr ReductionInputs OneDimReduction(const t2c_input_decl (&inputs)[N]) {
  return {sdk::InputIndex(inputs, "self"), -1, static_cast<int>(sdk::InputIndex(inputs, "dim")),
          static_cast<int>(sdk::InputIndex(inputs, "keepdim")), -1};
}

constexpr t2c_input_decl kMeanInputs[] = {
    sdk::Tensor("self"),
    sdk::Host("dim", T2C_INPUT_OPTIONAL),
    sdk::Host("keepdim"),
    sdk::Host("dtype", T2C_INPUT_OPTIONAL),
};
constexpr ReductionInputs kMean = DimsReduction(kMeanInputs, /*has_dtype=*/true);
constexpr t2c_input_decl kMeanAllInputs[] = {sdk::Tensor("self"),
                                             sdk::Host("dtype", T2C_INPUT_OPTIONAL)};
constexpr ReductionInputs kMeanAll = FullReduction(kMeanAllInputs);
constexpr t2c_input_decl kSumInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Host("dim", T2C_INPUT_OPTIONAL),
    sdk::Host("keepdim"),
    sdk::Host("dtype", T2C_INPUT_OPTIONAL),
};
constexpr ReductionInputs kSum = DimsReduction(kSumInputs, /*has_dtype=*/true);
constexpr t2c_input_decl kSumAllInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                            sdk::Host("dtype", T2C_INPUT_OPTIONAL)};
constexpr ReductionInputs kSumAll = FullReduction(kSumAllInputs);
constexpr t2c_input_decl kAmaxInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Host("dim"),
    sdk::Host("keepdim"),
};
constexpr ReductionInputs kAmax = DimsReduction(kAmaxInputs, /*has_dtype=*/false);
constexpr t2c_input_decl kMaxMinDimInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Host("dim"),
    sdk::Host("keepdim"),
};
constexpr ReductionInputs kMaxMinDim = OneDimReduction(kMaxMinDimInputs);

/// A reduction resolved against its input: normalized sorted axes and the output shape.
struct Reduction {
  std::vector<int64_t> axes;
  bool keepdim = false;
  std::vector<int64_t> out_shape;
  bool float_out = false;
};

/// Reads a reduction's dtype argument (None or a float ScalarType) at `i` (-1: none).
Status ReadDtype(const NodeView& ctx, int i, bool* always_float) {
  if (i < 0 || ctx.num_inputs() <= static_cast<uint32_t>(i) || ctx.IsNone(i)) return Status::Ok();
  TS2COREML_ASSIGN_OR_RETURN(int64_t dtype, ctx.Int(i));
  if (dtype != kScalarTypeHalf && dtype != kScalarTypeFloat && dtype != kScalarTypeDouble) {
    return ctx.Error(ctx.kind() + ": dtype (ScalarType " + std::to_string(dtype) +
                     ") is not supported; only None or a float type");
  }
  *always_float = true;
  return Status::Ok();
}

/// Resolves `dims` (empty: every dimension) against `x`; a repeated dimension is an error.
Expected<Reduction> Resolve(const NodeView& ctx, const TensorType& x,
                            const std::vector<int64_t>& dims, bool keepdim, bool float_out) {
  const std::string op = ctx.kind();
  Reduction r;
  r.keepdim = keepdim;
  std::set<int64_t> axes;
  if (dims.empty()) {
    for (int64_t i = 0; i < x.rank(); ++i) axes.insert(i);
  }
  for (int64_t d : dims) {
    int64_t a = sdk::NormalizeAxis(d, x.rank() == 0 ? 1 : x.rank());
    if (a < 0) {
      return ctx.Error(op + ": dim " + std::to_string(d) + " is out of range for rank " +
                       std::to_string(x.rank()));
    }
    if (!axes.insert(a).second) {
      return ctx.Error(op + ": dim " + FormatInts(dims) + " repeats a dimension");
    }
  }
  if (x.rank() == 0) axes.clear();
  r.axes.assign(axes.begin(), axes.end());
  for (int64_t i = 0; i < x.rank(); ++i) {
    if (axes.count(i) != 0) {
      if (r.keepdim) r.out_shape.push_back(1);
    } else {
      r.out_shape.push_back(x.shape[i]);
    }
  }
  r.float_out = float_out || x.is_float();
  return r;
}

Expected<Reduction> ReadReduction(const NodeView& ctx, bool always_float,
                                  const ReductionInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(in.self));
  std::vector<int64_t> dims;
  bool keepdim = false;
  if (in.dims >= 0 && !ctx.IsNone(in.dims)) {
    TS2COREML_ASSIGN_OR_RETURN(dims, ctx.Ints(in.dims));
  }
  if (in.one_dim >= 0) {
    TS2COREML_ASSIGN_OR_RETURN(int64_t dim, ctx.Int(in.one_dim));
    dims = {dim};
  }
  if (in.keepdim >= 0) {
    TS2COREML_ASSIGN_OR_RETURN(keepdim, ctx.Bool(in.keepdim));
  }
  TS2COREML_RETURN_IF_ERROR(ReadDtype(ctx, in.dtype, &always_float));
  return Resolve(ctx, x, dims, keepdim, always_float);
}

Status InferReduction(InferContext& ctx, bool always_float, const ReductionInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadReduction(ctx, always_float, in));
  return ctx.SetOutputType(0,
                           TensorType(r.float_out ? T2C_DTYPE_FP32 : T2C_DTYPE_INT32, r.out_shape));
}

Status LowerReduction(LowerContext& ctx, bool always_float, const ReductionInputs& in,
                      const char* mil_op) {
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadReduction(ctx, always_float, in));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(in.self));
  if (r.axes.empty()) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts(r.axes));
  TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.ConstBool(r.keepdim));
  return ctx.EmitOutput(mil_op, {{"x", x}, {"axes", axes}, {"keep_dims", keep}});
}

Status InferMean(InferContext& ctx) { return InferReduction(ctx, true, kMean); }
Status LowerMean(LowerContext& ctx) { return LowerReduction(ctx, true, kMean, "reduce_mean"); }
Status InferMeanAll(InferContext& ctx) { return InferReduction(ctx, true, kMeanAll); }
Status LowerMeanAll(LowerContext& ctx) {
  return LowerReduction(ctx, true, kMeanAll, "reduce_mean");
}
Status InferSum(InferContext& ctx) { return InferReduction(ctx, false, kSum); }
Status LowerSum(LowerContext& ctx) { return LowerReduction(ctx, false, kSum, "reduce_sum"); }
Status InferSumAll(InferContext& ctx) { return InferReduction(ctx, false, kSumAll); }
Status LowerSumAll(LowerContext& ctx) { return LowerReduction(ctx, false, kSumAll, "reduce_sum"); }
Status InferAmax(InferContext& ctx) { return InferReduction(ctx, false, kAmax); }
Status LowerAmax(LowerContext& ctx) { return LowerReduction(ctx, false, kAmax, "reduce_max"); }
Status LowerAmin(LowerContext& ctx) { return LowerReduction(ctx, false, kAmax, "reduce_min"); }

/// max.dim / min.dim: the values; the indices only when nothing reads them (MIL reduce_argmax
/// does not document which index a tie gives, ATen's kernels return the first).
Status InferMaxMinDim(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadReduction(ctx, false, kMaxMinDim));
  if (ctx.OutputIsUsed(1)) {
    return ctx.Error(
        ctx.kind() +
        ": the indices output is read; only the values of max/min over a dim are supported (use amax/amin, or argmax separately)");
  }
  const TensorType values(r.float_out ? T2C_DTYPE_FP32 : T2C_DTYPE_INT32, r.out_shape);
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, values));
  // Nothing reads output 1: it shares the values' type and var.
  return ctx.SetOutputType(1, values);
}

Status LowerMaxMinDim(LowerContext& ctx) {
  const std::string kind = ctx.kind();
  const char* op = kind.rfind("aten::max", 0) == 0 ? "reduce_max" : "reduce_min";
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadReduction(ctx, false, kMaxMinDim));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kMaxMinDim.self));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  Var y;
  if (r.axes.empty()) {
    TS2COREML_ASSIGN_OR_RETURN(y, ctx.Emit1("identity", {{"x", x}}, out));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts(r.axes));
    TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.ConstBool(r.keepdim));
    TS2COREML_ASSIGN_OR_RETURN(y,
                               ctx.Emit1(op, {{"x", x}, {"axes", axes}, {"keep_dims", keep}}, out));
  }
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, y));
  return ctx.SetOutput(1, y);
}

/// var / std: var(self, unbiased), var.dim(self, dim?, unbiased, keepdim),
/// var.correction(self, dim?, *, correction?, keepdim); likewise std. One table serves the three
/// layouts, its names saying what each position holds in which overload.
constexpr t2c_input_decl kMomentInputs[] = {
    sdk::Tensor("self"),
    sdk::Host("dim_or_unbiased", T2C_INPUT_OPTIONAL),
    sdk::Host("unbiased_or_correction", T2C_INPUT_OPTIONAL),
    sdk::Host("keepdim", T2C_INPUT_OPTIONAL),
};
constexpr uint32_t kMomentSelf = sdk::InputIndex(kMomentInputs, "self");
constexpr uint32_t kMomentDimOrUnbiased = sdk::InputIndex(kMomentInputs, "dim_or_unbiased");
constexpr uint32_t kMomentUnbiasedOrCorrection =
    sdk::InputIndex(kMomentInputs, "unbiased_or_correction");
constexpr uint32_t kMomentKeepdim = sdk::InputIndex(kMomentInputs, "keepdim");

struct Moment {
  Reduction r;
  int64_t correction = 1;
  int64_t count = 1;  ///< elements per reduced slice
};

Expected<Moment> ReadMoment(const NodeView& ctx) {
  const std::string kind = ctx.kind();
  const bool is_dim = kind.size() > 4 && kind.compare(kind.size() - 4, 4, ".dim") == 0;
  const bool is_correction = kind.find(".correction") != std::string::npos;
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kMomentSelf));
  Moment m;
  std::vector<int64_t> dims;
  bool keepdim = false;
  if (is_dim || is_correction) {
    if (!ctx.IsNone(kMomentDimOrUnbiased)) {
      TS2COREML_ASSIGN_OR_RETURN(dims, ctx.Ints(kMomentDimOrUnbiased));
    }
    if (is_dim) {
      TS2COREML_ASSIGN_OR_RETURN(bool unbiased, ctx.Bool(kMomentUnbiasedOrCorrection));
      m.correction = unbiased ? 1 : 0;
    } else if (!ctx.IsNone(kMomentUnbiasedOrCorrection)) {
      TS2COREML_ASSIGN_OR_RETURN(m.correction, ctx.Int(kMomentUnbiasedOrCorrection));
    }
    TS2COREML_ASSIGN_OR_RETURN(keepdim, ctx.Bool(kMomentKeepdim));
  } else if (ctx.num_inputs() > kMomentDimOrUnbiased && !ctx.IsNone(kMomentDimOrUnbiased)) {
    TS2COREML_ASSIGN_OR_RETURN(bool unbiased, ctx.Bool(kMomentDimOrUnbiased));
    m.correction = unbiased ? 1 : 0;
  }
  if (!x.is_float()) return ctx.Error(kind + ": needs a floating-point input");
  TS2COREML_ASSIGN_OR_RETURN(m.r, Resolve(ctx, x, dims, keepdim, true));
  for (int64_t a : m.r.axes) m.count *= x.shape[a];
  if (m.count - m.correction <= 0) {
    return ctx.Error(kind + ": " + std::to_string(m.count) +
                     " element(s) per slice with correction " + std::to_string(m.correction) +
                     " divide by zero or less (PyTorch returns inf/nan); refused");
  }
  return m;
}

Status InferMoment(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Moment m, ReadMoment(ctx));
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, m.r.out_shape));
}

/// sum((x - mean(x))^2) / (n - correction), then sqrt for std: the two-pass form ATen uses.
Status LowerMoment(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Moment m, ReadMoment(ctx));
  const bool is_std = ctx.kind().rfind("aten::std", 0) == 0;
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kMomentSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  if (m.r.axes.empty()) {
    // A scalar: one element, n - correction = 1, the variance is 0.
    TS2COREML_ASSIGN_OR_RETURN(Var d, EmitBinary(ctx, "sub", x, x));
    TS2COREML_ASSIGN_OR_RETURN(Var sq, EmitBinary(ctx, "mul", d, d));
    return ctx.SetOutput(0, sq);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var mean, EmitReduce(ctx, "reduce_mean", x, m.r.axes, true));
  TS2COREML_ASSIGN_OR_RETURN(Var d, EmitBinary(ctx, "sub", x, mean));
  TS2COREML_ASSIGN_OR_RETURN(Var sq, EmitBinary(ctx, "mul", d, d));
  TS2COREML_ASSIGN_OR_RETURN(Var sum, EmitReduce(ctx, "reduce_sum", sq, m.r.axes, m.r.keepdim));
  TS2COREML_ASSIGN_OR_RETURN(Var divisor,
                             ctx.ConstFloat(xt.dtype, static_cast<float>(m.count - m.correction)));
  if (!is_std) return ctx.EmitOutput("real_div", {{"x", sum}, {"y", divisor}});
  TS2COREML_ASSIGN_OR_RETURN(Var var, EmitBinary(ctx, "real_div", sum, divisor));
  return ctx.EmitOutput("sqrt", {{"x", var}});
}

constexpr const char* kMeanOps[] = {"aten::mean.dim"};
/// The bare names cover the full reductions mean(self, *, dtype) and sum(self, *, dtype); the
/// .dim overloads above are claimed exactly and win.
constexpr const char* kMeanAllOps[] = {"aten::mean"};
constexpr const char* kSumOps[] = {"aten::sum.dim_IntList"};
constexpr const char* kSumAllOps[] = {"aten::sum"};
constexpr const char* kAmaxOps[] = {"aten::amax"};
constexpr const char* kAminOps[] = {"aten::amin"};
constexpr const char* kMaxMinDimOps[] = {"aten::max.dim", "aten::min.dim"};
constexpr const char* kMomentOps[] = {"aten::var", "aten::std"};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("mean", kMeanOps, kMeanInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferMean>, sdk::LowerFn<LowerMean>),
    sdk::Lowering("mean_all", kMeanAllOps, kMeanAllInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferMeanAll>, sdk::LowerFn<LowerMeanAll>),
    sdk::Lowering("sum", kSumOps, kSumInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferSum>, sdk::LowerFn<LowerSum>),
    sdk::Lowering("sum_all", kSumAllOps, kSumAllInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferSumAll>, sdk::LowerFn<LowerSumAll>),
    sdk::Lowering("amax", kAmaxOps, kAmaxInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAmax>, sdk::LowerFn<LowerAmax>),
    sdk::Lowering("amin", kAminOps, kAmaxInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAmax>, sdk::LowerFn<LowerAmin>),
    sdk::Lowering("max_min_dim", kMaxMinDimOps, kMaxMinDimInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferMaxMinDim>, sdk::LowerFn<LowerMaxMinDim>),
    // Squares of deviations overflow FP16 (|x - mean| > 256) and lose small variances.
    sdk::Lowering("var_std", kMomentOps, kMomentInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferMoment>, sdk::LowerFn<LowerMoment>),
};

constexpr t2c_plugin_info kInfo = sdk::PluginInfo("ts2coreml.reduction", "0.1.0", kLowerings);

}  // namespace

const t2c_plugin_info* ReductionPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
