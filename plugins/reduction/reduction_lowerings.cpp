/// Built-in lowerings of reductions and search ops: aten::mean / mean.dim -> reduce_mean, sum /
/// sum.dim_IntList -> reduce_sum, amax / amin -> reduce_max / reduce_min, max.dim / min.dim (values
/// and indices), var / std / var_mean / std_mean (two-pass, in FP32), argmax / argmin, full and
/// binary max / min, aminmax, nansum / nanmean, prod, logsumexp, all / any / count_nonzero, cumsum,
/// the running reductions cumprod / logcumsumexp / cummax / cummin, topk, sort / argsort, median /
/// kthvalue and the norms (norm, linalg_vector_norm, linalg_norm, linalg_matrix_norm,
/// frobenius_norm).
#include "reduction/reduction_lowerings.h"

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/lowering_table.h"
#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "reduction/parity_lowerings.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

constexpr int64_t kScalarTypeInt = 3;
constexpr int64_t kScalarTypeLong = 4;
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

/// Reads a reduction's dtype argument at `i` (-1: none): None, a float ScalarType (the output is
/// float), or for sum and prod of an int or bool `x` int32/int64 (the output stays int32).
Status ReadDtype(const NodeView& ctx, int i, bool* always_float, const TensorType* x = nullptr) {
  if (i < 0 || ctx.num_inputs() <= static_cast<uint32_t>(i) || ctx.IsNone(i)) return Status::Ok();
  TS2COREML_ASSIGN_OR_RETURN(int64_t dtype, ctx.Int(i));
  if (dtype == kScalarTypeHalf || dtype == kScalarTypeFloat || dtype == kScalarTypeDouble) {
    *always_float = true;
    return Status::Ok();
  }
  const std::string kind = ctx.kind();
  const bool int_reduction = kind.rfind("aten::sum", 0) == 0 || kind.rfind("aten::prod", 0) == 0;
  if (int_reduction && x != nullptr && !x->is_float() &&
      (dtype == kScalarTypeInt || dtype == kScalarTypeLong)) {
    return Status::Ok();
  }
  return ctx.Error(
      kind + ": dtype (ScalarType " + std::to_string(dtype) +
      ") is not supported here; only None, a float type, or int32/int64 on an int input");
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
  TS2COREML_RETURN_IF_ERROR(ReadDtype(ctx, in.dtype, &always_float, &x));
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

// ---------------------------------------------------------------------------------------------
// Index reductions: argmax/argmin, max.dim/min.dim indices, full max/min and their binary form.

/// The int32 type of reduce_argmax/argmin of `x` over `axis`.
TensorType ArgType(const TensorType& x, int64_t axis, bool keep) {
  TensorType out(T2C_DTYPE_INT32, {});
  for (int64_t i = 0; i < x.rank(); ++i) {
    if (i != axis) {
      out.shape.push_back(x.shape[i]);
    } else if (keep) {
      out.shape.push_back(1);
    }
  }
  return out;
}

/// reduce_argmax / reduce_argmin of `x` over `axis` (a rank-0 x is read as [1]).
Expected<Var> EmitArg(LowerContext& ctx, const char* op, Var x, int64_t axis, bool keep) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  if (t.rank() == 0) {
    TS2COREML_ASSIGN_OR_RETURN(x, EmitReshape(ctx, x, {1}));
    t.shape = {1};
    keep = false;
  }
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.ConstInt(axis));
  TS2COREML_ASSIGN_OR_RETURN(Var k, ctx.ConstBool(keep));
  return ctx.Emit1(op, {{"x", x}, {"axis", a}, {"keep_dims", k}}, ArgType(t, axis, keep));
}

constexpr t2c_input_decl kArgInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                         sdk::Host("dim", T2C_INPUT_OPTIONAL),
                                         sdk::Host("keepdim", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kArgSelf = sdk::InputIndex(kArgInputs, "self");
constexpr uint32_t kArgDim = sdk::InputIndex(kArgInputs, "dim");
constexpr uint32_t kArgKeepdim = sdk::InputIndex(kArgInputs, "keepdim");

/// argmax/argmin(self, dim?, keepdim): the axis (-1: dim None, over the flattened input), keepdim
/// and the int32 output type (all ones of the input's rank for dim None with keepdim).
struct ArgSpec {
  int64_t axis = -1;
  bool keepdim = false;
  TensorType out;
};

Expected<ArgSpec> ReadArg(const NodeView& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kArgSelf));
  ArgSpec s;
  if (ctx.num_inputs() > kArgKeepdim && !ctx.IsNone(kArgKeepdim)) {
    TS2COREML_ASSIGN_OR_RETURN(s.keepdim, ctx.Bool(kArgKeepdim));
  }
  if (ctx.num_inputs() <= kArgDim || ctx.IsNone(kArgDim)) {
    s.out = TensorType(T2C_DTYPE_INT32, std::vector<int64_t>(s.keepdim ? x.shape.size() : 0, 1));
    return s;
  }
  TS2COREML_ASSIGN_OR_RETURN(s.axis, ReadAxis(ctx, kArgDim, x.rank(), ctx.kind()));
  s.out = x.rank() == 0 ? TensorType(T2C_DTYPE_INT32, {}) : ArgType(x, s.axis, s.keepdim);
  return s;
}

Status InferArg(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(ArgSpec s, ReadArg(ctx));
  return ctx.SetOutputType(0, s.out);
}

/// argmax/argmin -> reduce_argmax/argmin; dim None reduces the input flattened to 1-D.
Status LowerArg(LowerContext& ctx) {
  const char* op = ctx.kind().rfind("aten::argmax", 0) == 0 ? "reduce_argmax" : "reduce_argmin";
  TS2COREML_ASSIGN_OR_RETURN(ArgSpec s, ReadArg(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kArgSelf));
  if (s.axis >= 0) {
    TS2COREML_ASSIGN_OR_RETURN(Var y, EmitArg(ctx, op, x, s.axis, s.keepdim));
    return ctx.SetOutput(0, y);
  }
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var flat, EmitReshape(ctx, x, {t.numel()}));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitArg(ctx, op, flat, 0, false));
  TS2COREML_ASSIGN_OR_RETURN(y, EmitReshape(ctx, y, s.out.shape));
  return ctx.SetOutput(0, y);
}

constexpr t2c_input_decl kMaxMinInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                            sdk::OptionalTensor("other", T2C_MASK_FLOAT_INT)};
constexpr uint32_t kMaxMinSelf = sdk::InputIndex(kMaxMinInputs, "self");
constexpr uint32_t kMaxMinOther = sdk::InputIndex(kMaxMinInputs, "other");

bool HasOther(const NodeView& ctx) {
  return ctx.num_inputs() > kMaxMinOther && !ctx.IsNone(kMaxMinOther);
}

/// max(self) / min(self): a rank-0 tensor; max.other / min.other: the elementwise extreme.
Status InferMaxMin(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kMaxMinSelf));
  const t2c_dtype dtype = x.is_float() ? T2C_DTYPE_FP32 : x.dtype;
  if (!HasOther(ctx)) return ctx.SetOutputType(0, TensorType(dtype, {}));
  TS2COREML_ASSIGN_OR_RETURN(TensorType y, ctx.InputType(kMaxMinOther));
  if (x.is_float() != y.is_float()) {
    return ctx.Error(ctx.kind() + ": operands of mixed int and float dtypes are not supported");
  }
  TensorType out(dtype, {});
  if (!sdk::BroadcastShapes(x.shape, y.shape, &out.shape)) {
    return ctx.InvalidInputs(ctx.kind() + ": shapes " + FormatInts(x.shape) + " and " +
                             FormatInts(y.shape) + " do not broadcast");
  }
  return ctx.SetOutputType(0, out);
}

Status LowerMaxMin(LowerContext& ctx) {
  const bool is_max = ctx.kind().rfind("aten::max", 0) == 0;
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kMaxMinSelf));
  if (HasOther(ctx)) {
    TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Input(kMaxMinOther));
    return ctx.EmitOutput(is_max ? "maximum" : "minimum", {{"x", x}, {"y", y}});
  }
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  if (t.rank() == 0) return ctx.EmitOutput("identity", {{"x", x}});
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < t.rank(); ++i) axes.push_back(i);
  TS2COREML_ASSIGN_OR_RETURN(Var y,
                             EmitReduce(ctx, is_max ? "reduce_max" : "reduce_min", x, axes, false));
  return ctx.SetOutput(0, y);
}

/// Types the outputs of an op that gives (values, indices): `values`, and int32 indices of the
/// same shape.
Status SetValuesAndIndicesTypes(InferContext& ctx, const TensorType& values) {
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, values));
  return ctx.SetOutputType(1, TensorType(T2C_DTYPE_INT32, values.shape));
}

/// Binds the outputs of an op that gives (values, indices).
Status SetValuesAndIndices(LowerContext& ctx, const std::pair<Var, Var>& values_indices) {
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, values_indices.first));
  return ctx.SetOutput(1, values_indices.second);
}

/// max.dim / min.dim: the values and their int32 indices along the dim (reduce_argmax/argmin;
/// MIL does not say which index a tie gives, ATen's kernels give the first).
Status InferMaxMinDim(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadReduction(ctx, false, kMaxMinDim));
  return SetValuesAndIndicesTypes(
      ctx, TensorType(r.float_out ? T2C_DTYPE_FP32 : T2C_DTYPE_INT32, r.out_shape));
}

Status LowerMaxMinDim(LowerContext& ctx) {
  const bool is_max = ctx.kind().rfind("aten::max", 0) == 0;
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadReduction(ctx, false, kMaxMinDim));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kMaxMinDim.self));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  Var y;
  if (r.axes.empty()) {
    TS2COREML_ASSIGN_OR_RETURN(y, ctx.Emit1("identity", {{"x", x}}, out));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(
        y, EmitReduce(ctx, is_max ? "reduce_max" : "reduce_min", x, r.axes, r.keepdim));
  }
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, y));
  const int64_t axis = r.axes.empty() ? 0 : r.axes[0];
  TS2COREML_ASSIGN_OR_RETURN(
      Var i, EmitArg(ctx, is_max ? "reduce_argmax" : "reduce_argmin", x, axis, r.keepdim));
  return ctx.SetOutput(1, i);
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

/// var / std, and var_mean / std_mean whose second output is the mean.
Status InferMoment(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Moment m, ReadMoment(ctx));
  const TensorType out(T2C_DTYPE_FP32, m.r.out_shape);
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, out));
  if (ctx.num_outputs() < 2) return Status::Ok();
  return ctx.SetOutputType(1, out);
}

/// sum((x - mean(x))^2) / (n - correction), then sqrt for std: the two-pass form ATen uses;
/// var_mean / std_mean also give the mean.
Status LowerMoment(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Moment m, ReadMoment(ctx));
  const bool is_std = ctx.kind().rfind("aten::std", 0) == 0;
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kMomentSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  if (m.r.axes.empty()) {
    // A scalar: one element, n - correction = 1, the variance is 0 and the mean is x.
    TS2COREML_ASSIGN_OR_RETURN(Var d, EmitBinary(ctx, "sub", x, x));
    TS2COREML_ASSIGN_OR_RETURN(Var sq, EmitBinary(ctx, "mul", d, d));
    TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, sq));
    if (ctx.num_outputs() < 2) return Status::Ok();
    TS2COREML_ASSIGN_OR_RETURN(Var mean, ctx.Emit1("identity", {{"x", x}}, xt));
    return ctx.SetOutput(1, mean);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var mean, EmitReduce(ctx, "reduce_mean", x, m.r.axes, true));
  TS2COREML_ASSIGN_OR_RETURN(Var d, EmitBinary(ctx, "sub", x, mean));
  TS2COREML_ASSIGN_OR_RETURN(Var sq, EmitBinary(ctx, "mul", d, d));
  TS2COREML_ASSIGN_OR_RETURN(Var sum, EmitReduce(ctx, "reduce_sum", sq, m.r.axes, m.r.keepdim));
  TS2COREML_ASSIGN_OR_RETURN(Var divisor,
                             ctx.ConstFloat(xt.dtype, static_cast<float>(m.count - m.correction)));
  TS2COREML_ASSIGN_OR_RETURN(Var var, EmitBinary(ctx, "real_div", sum, divisor));
  Var y = var;
  if (is_std) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType vt, ctx.TypeOf(var));
    TS2COREML_ASSIGN_OR_RETURN(y, ctx.Emit1("sqrt", {{"x", var}}, vt));
  }
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, y));
  if (ctx.num_outputs() < 2) return Status::Ok();
  TS2COREML_ASSIGN_OR_RETURN(Var mean_out, EmitReshape(ctx, mean, m.r.out_shape));
  return ctx.SetOutput(1, mean_out);
}

// ---------------------------------------------------------------------------------------------
// prod, logsumexp.

constexpr t2c_input_decl kProdAllInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                             sdk::Host("dtype", T2C_INPUT_OPTIONAL)};
constexpr ReductionInputs kProdAll = FullReduction(kProdAllInputs);
constexpr t2c_input_decl kProdDimInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Host("dim"),
    sdk::Host("keepdim"),
    sdk::Host("dtype", T2C_INPUT_OPTIONAL),
};
constexpr ReductionInputs kProdDim = {sdk::InputIndex(kProdDimInputs, "self"), -1,
                                      static_cast<int>(sdk::InputIndex(kProdDimInputs, "dim")),
                                      static_cast<int>(sdk::InputIndex(kProdDimInputs, "keepdim")),
                                      static_cast<int>(sdk::InputIndex(kProdDimInputs, "dtype"))};

Status InferProdAll(InferContext& ctx) { return InferReduction(ctx, false, kProdAll); }
Status LowerProdAll(LowerContext& ctx) {
  return LowerReduction(ctx, false, kProdAll, "reduce_prod");
}
Status InferProdDim(InferContext& ctx) { return InferReduction(ctx, false, kProdDim); }
Status LowerProdDim(LowerContext& ctx) {
  return LowerReduction(ctx, false, kProdDim, "reduce_prod");
}

constexpr t2c_input_decl kLogsumexpInputs[] = {sdk::Tensor("self"), sdk::Host("dim"),
                                               sdk::Host("keepdim")};
constexpr ReductionInputs kLogsumexp = DimsReduction(kLogsumexpInputs, /*has_dtype=*/false);

Status InferLogsumexp(InferContext& ctx) { return InferReduction(ctx, true, kLogsumexp); }
Status LowerLogsumexp(LowerContext& ctx) {
  return LowerReduction(ctx, true, kLogsumexp, "reduce_log_sum_exp");
}

// ---------------------------------------------------------------------------------------------
// all, any, count_nonzero: reductions of the int32 indicator x != 0.

constexpr t2c_input_decl kTruthInputs[] = {sdk::Tensor("self", T2C_MASK_ANY),
                                           sdk::Host("dim", T2C_INPUT_OPTIONAL),
                                           sdk::Host("keepdim", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kTruthSelf = sdk::InputIndex(kTruthInputs, "self");
constexpr uint32_t kTruthDim = sdk::InputIndex(kTruthInputs, "dim");
constexpr uint32_t kTruthKeepdim = sdk::InputIndex(kTruthInputs, "keepdim");

bool IsCountNonzero(const NodeView& ctx) { return ctx.kind().rfind("aten::count_nonzero", 0) == 0; }

/// The dims (one int, a list, or None: every dim) and keepdim of all/any/count_nonzero.
Expected<Reduction> ReadTruth(const NodeView& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kTruthSelf));
  std::vector<int64_t> dims;
  if (ctx.num_inputs() > kTruthDim && ctx.input_kind(kTruthDim) == T2C_KIND_INT) {
    TS2COREML_ASSIGN_OR_RETURN(int64_t dim, ctx.Int(kTruthDim));
    dims = {dim};
  } else if (ctx.num_inputs() > kTruthDim && !ctx.IsNone(kTruthDim)) {
    TS2COREML_ASSIGN_OR_RETURN(dims, ctx.Ints(kTruthDim));
    if (dims.empty() && !IsCountNonzero(ctx)) {
      return ctx.Error(ctx.kind() + ": an empty dim list is not supported");
    }
  }
  bool keepdim = false;
  if (ctx.num_inputs() > kTruthKeepdim && !ctx.IsNone(kTruthKeepdim)) {
    TS2COREML_ASSIGN_OR_RETURN(keepdim, ctx.Bool(kTruthKeepdim));
  }
  return Resolve(ctx, x, dims, keepdim, false);
}

Status InferTruth(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadTruth(ctx));
  const t2c_dtype dtype = IsCountNonzero(ctx) ? T2C_DTYPE_INT32 : T2C_DTYPE_BOOL;
  return ctx.SetOutputType(0, TensorType(dtype, r.out_shape));
}

/// The int32 indicator of x != 0 (1 where x is true or nonzero, NaN included).
Expected<Var> EmitNonzero(LowerContext& ctx, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  Var flag = x;
  if (t.dtype != T2C_DTYPE_BOOL) {
    TS2COREML_ASSIGN_OR_RETURN(Var zero, ScalarLike(ctx, t.dtype, 0));
    TS2COREML_ASSIGN_OR_RETURN(
        flag, ctx.Emit1("not_equal", {{"x", x}, {"y", zero}}, TensorType(T2C_DTYPE_BOOL, t.shape)));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var one, ctx.ConstInt(1));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstInt(0));
  return ctx.Emit1("select", {{"cond", flag}, {"a", one}, {"b", zero}},
                   TensorType(T2C_DTYPE_INT32, t.shape));
}

/// any = max(x != 0) > 0, all = min(x != 0) > 0, count_nonzero = sum(x != 0).
Status LowerTruth(LowerContext& ctx) {
  const std::string kind = ctx.kind();
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadTruth(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kTruthSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var ind, EmitNonzero(ctx, x));
  const char* op = IsCountNonzero(ctx)               ? "reduce_sum"
                   : kind.rfind("aten::any", 0) == 0 ? "reduce_max"
                                                     : "reduce_min";
  Var reduced = ind;
  if (!r.axes.empty()) {
    TS2COREML_ASSIGN_OR_RETURN(reduced, EmitReduce(ctx, op, ind, r.axes, r.keepdim));
  }
  if (IsCountNonzero(ctx)) {
    if (r.axes.empty()) return ctx.EmitOutput("identity", {{"x", reduced}});
    return ctx.SetOutput(0, reduced);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstInt(0));
  return ctx.EmitOutput("greater", {{"x", reduced}, {"y", zero}});
}

/// aminmax(self, *, dim?, keepdim): (min, max), over every dim when dim is None.
constexpr t2c_input_decl kAminmaxInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                             sdk::Host("dim", T2C_INPUT_OPTIONAL),
                                             sdk::Host("keepdim", T2C_INPUT_OPTIONAL)};
static_assert(sdk::InputIndex(kAminmaxInputs, "self") == kTruthSelf, "read as all/any's");
static_assert(sdk::InputIndex(kAminmaxInputs, "dim") == kTruthDim, "read as all/any's");
static_assert(sdk::InputIndex(kAminmaxInputs, "keepdim") == kTruthKeepdim, "read as all/any's");

Status InferAminmax(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadTruth(ctx));
  const TensorType out(r.float_out ? T2C_DTYPE_FP32 : T2C_DTYPE_INT32, r.out_shape);
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, out));
  return ctx.SetOutputType(1, out);
}

Status LowerAminmax(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadTruth(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kTruthSelf));
  Var lo = x, hi = x;
  if (!r.axes.empty()) {
    TS2COREML_ASSIGN_OR_RETURN(lo, EmitReduce(ctx, "reduce_min", x, r.axes, r.keepdim));
    TS2COREML_ASSIGN_OR_RETURN(hi, EmitReduce(ctx, "reduce_max", x, r.axes, r.keepdim));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
    TS2COREML_ASSIGN_OR_RETURN(lo, ctx.Emit1("identity", {{"x", x}}, t));
    TS2COREML_ASSIGN_OR_RETURN(hi, ctx.Emit1("identity", {{"x", x}}, t));
  }
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, lo));
  return ctx.SetOutput(1, hi);
}

// ---------------------------------------------------------------------------------------------
// nansum, nanmean: NaN read as 0 (and, for the mean, not counted).

constexpr t2c_input_decl kNanSumInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Host("dim", T2C_INPUT_OPTIONAL),
    sdk::Host("keepdim"),
    sdk::Host("dtype", T2C_INPUT_OPTIONAL),
};
constexpr ReductionInputs kNanSum = DimsReduction(kNanSumInputs, /*has_dtype=*/true);
constexpr t2c_input_decl kNanMeanInputs[] = {
    sdk::Tensor("self"),
    sdk::Host("dim", T2C_INPUT_OPTIONAL),
    sdk::Host("keepdim"),
    sdk::Host("dtype", T2C_INPUT_OPTIONAL),
};
constexpr ReductionInputs kNanMean = DimsReduction(kNanMeanInputs, /*has_dtype=*/true);

Status InferNanSum(InferContext& ctx) { return InferReduction(ctx, false, kNanSum); }
Status InferNanMean(InferContext& ctx) { return InferReduction(ctx, true, kNanMean); }

/// nansum = sum(x == x ? x : 0); nanmean divides it by the count of non-NaN elements.
Status LowerNanReduction(LowerContext& ctx) {
  const bool mean = ctx.kind().rfind("aten::nanmean", 0) == 0;
  const ReductionInputs& in = mean ? kNanMean : kNanSum;
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadReduction(ctx, mean, in));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(in.self));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  if (!t.is_float()) return LowerReduction(ctx, false, in, "reduce_sum");  // ints hold no NaN
  if (t.rank() == 0) {
    TS2COREML_ASSIGN_OR_RETURN(Var flat, EmitReshape(ctx, x, {1}));
    x = flat;
    t.shape = {1};
    r.axes = {0};
    r.keepdim = false;
  }
  TS2COREML_ASSIGN_OR_RETURN(
      Var is_number, ctx.Emit1("equal", {{"x", x}, {"y", x}}, TensorType(T2C_DTYPE_BOOL, t.shape)));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstFloat(t.dtype, 0.0f));
  TS2COREML_ASSIGN_OR_RETURN(Var clean,
                             ctx.Emit1("select", {{"cond", is_number}, {"a", x}, {"b", zero}}, t));
  TS2COREML_ASSIGN_OR_RETURN(Var sum, EmitReduce(ctx, "reduce_sum", clean, r.axes, r.keepdim));
  if (!mean) return ctx.SetOutput(0, sum);
  TS2COREML_ASSIGN_OR_RETURN(Var one, ctx.ConstFloat(t.dtype, 1.0f));
  TS2COREML_ASSIGN_OR_RETURN(
      Var counted, ctx.Emit1("select", {{"cond", is_number}, {"a", one}, {"b", zero}}, t));
  TS2COREML_ASSIGN_OR_RETURN(Var count, EmitReduce(ctx, "reduce_sum", counted, r.axes, r.keepdim));
  return ctx.EmitOutput("real_div", {{"x", sum}, {"y", count}});
}

// ---------------------------------------------------------------------------------------------
// cumsum.

constexpr t2c_input_decl kCumsumInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                            sdk::Host("dim"),
                                            sdk::Host("dtype", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kCumsumSelf = sdk::InputIndex(kCumsumInputs, "self");
constexpr uint32_t kCumsumDim = sdk::InputIndex(kCumsumInputs, "dim");
constexpr uint32_t kCumsumDtype = sdk::InputIndex(kCumsumInputs, "dtype");

/// cumsum's output type: the input's, FP32 for a float dtype argument; an int dtype argument on
/// a float input would truncate and is refused.
Expected<TensorType> CumsumType(const NodeView& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kCumsumSelf));
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, kCumsumDim, x.rank(), ctx.kind()));
  (void)axis;
  if (x.is_float()) x.dtype = T2C_DTYPE_FP32;
  if (ctx.num_inputs() <= kCumsumDtype || ctx.IsNone(kCumsumDtype)) return x;
  TS2COREML_ASSIGN_OR_RETURN(int64_t dtype, ctx.Int(kCumsumDtype));
  if (dtype == kScalarTypeHalf || dtype == kScalarTypeFloat || dtype == kScalarTypeDouble) {
    x.dtype = T2C_DTYPE_FP32;
  } else if ((dtype != kScalarTypeInt && dtype != kScalarTypeLong) || x.is_float()) {
    return ctx.Error(
        ctx.kind() + ": dtype (ScalarType " + std::to_string(dtype) +
        ") is not supported here; only None, a float type, or int32/int64 on an int input");
  }
  return x;
}

Status InferCumsum(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, CumsumType(ctx));
  return ctx.SetOutputType(0, out);
}

/// cumsum(self, dim, dtype) -> MIL cumsum (inclusive, forward).
Status LowerCumsum(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType checked, CumsumType(ctx));
  (void)checked;
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kCumsumSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  if (t.rank() == 0) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, kCumsumDim, t.rank(), ctx.kind()));
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.ConstInt(axis));
  TS2COREML_ASSIGN_OR_RETURN(Var exclusive, ctx.ConstBool(false));
  TS2COREML_ASSIGN_OR_RETURN(Var reverse, ctx.ConstBool(false));
  return ctx.EmitOutput("cumsum",
                        {{"x", x}, {"axis", a}, {"exclusive", exclusive}, {"reverse", reverse}});
}

/// The largest [.., n, n, ..] table a running reduction (cumprod, logcumsumexp) builds (elements).
constexpr int64_t kMaxCumprodTable = int64_t{1} << 24;

/// `0, 1, ..., n-1` as an int32 tensor of `shape` (n elements).
Expected<Var> EmitIota(LowerContext& ctx, int64_t n, const std::vector<int64_t>& shape) {
  std::vector<int64_t> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = i;
  TS2COREML_ASSIGN_OR_RETURN(Var v, ctx.ConstInts(values));
  return EmitReshape(ctx, v, shape);
}

/// The table of a running reduction of `x` along `axis` (MIL has none but cumsum): x gains an axis
/// i before `axis` (which becomes j, at axis + 1), and x[j] is replaced by `fill` (the reduction's
/// identity) where j > i, so that reducing over j gives y[i] = reduce(x[0..i]). n * numel
/// elements, refused past kMaxCumprodTable.
Expected<Var> EmitRunningTable(LowerContext& ctx, Var x, int64_t axis, Var fill) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  const int64_t n = t.shape[axis];
  if (n * t.numel() > kMaxCumprodTable) {
    return ctx.Error(ctx.kind() + ": dim " + std::to_string(axis) + " of " + FormatInts(t.shape) +
                     " needs a table of " + std::to_string(n * t.numel()) + " elements (limit " +
                     std::to_string(kMaxCumprodTable) + ")");
  }
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({axis}));
  TensorType expanded = t;
  expanded.shape.insert(expanded.shape.begin() + axis, 1);
  TS2COREML_ASSIGN_OR_RETURN(Var xe,
                             ctx.Emit1("expand_dims", {{"x", x}, {"axes", axes}}, expanded));
  const size_t trailing = static_cast<size_t>(t.rank() - axis - 1);
  std::vector<int64_t> i_shape = {n, 1}, j_shape = {n};
  i_shape.insert(i_shape.end(), trailing, 1);
  j_shape.insert(j_shape.end(), trailing, 1);
  TS2COREML_ASSIGN_OR_RETURN(Var i, EmitIota(ctx, n, i_shape));
  TS2COREML_ASSIGN_OR_RETURN(Var j, EmitIota(ctx, n, j_shape));
  std::vector<int64_t> mask_shape = i_shape;
  mask_shape[1] = n;
  TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.Emit1("greater_equal", {{"x", i}, {"y", j}},
                                                 TensorType(T2C_DTYPE_BOOL, mask_shape)));
  TensorType table = t;
  table.shape.insert(table.shape.begin() + axis, n);
  return ctx.Emit1("select", {{"cond", keep}, {"a", xe}, {"b", fill}}, table);
}

/// `reduce_op` over the running table of `x` along `axis`: y[i] = reduce(x[0..i]).
Expected<Var> EmitRunningReduce(LowerContext& ctx, Var x, int64_t axis, const char* reduce_op,
                                Var fill) {
  TS2COREML_ASSIGN_OR_RETURN(Var table, EmitRunningTable(ctx, x, axis, fill));
  return EmitReduce(ctx, reduce_op, table, {axis + 1}, false);
}

/// cumprod(self, dim, dtype): a running reduce_prod, filling with 1.
Status LowerCumprod(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType checked, CumsumType(ctx));
  (void)checked;
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kCumsumSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  if (t.rank() == 0) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, kCumsumDim, t.rank(), ctx.kind()));
  TS2COREML_ASSIGN_OR_RETURN(Var one, ScalarLike(ctx, t.dtype, 1));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitRunningReduce(ctx, x, axis, "reduce_prod", one));
  return ctx.SetOutput(0, y);
}

constexpr t2c_input_decl kLogcumsumexpInputs[] = {sdk::Tensor("self"), sdk::Host("dim")};
static_assert(sdk::InputIndex(kLogcumsumexpInputs, "self") == kCumsumSelf, "self comes first");
static_assert(sdk::InputIndex(kLogcumsumexpInputs, "dim") == kCumsumDim, "dim comes second");

Status InferLogcumsumexp(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kCumsumSelf));
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, kCumsumDim, x.rank(), ctx.kind()));
  (void)axis;
  x.dtype = T2C_DTYPE_FP32;
  return ctx.SetOutputType(0, x);
}

/// logcumsumexp(self, dim): a running reduce_log_sum_exp, filling with the lowest float (whose
/// exp is 0).
Status LowerLogcumsumexp(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kCumsumSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  if (t.rank() == 0) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, kCumsumDim, t.rank(), ctx.kind()));
  TS2COREML_ASSIGN_OR_RETURN(Var lowest,
                             ctx.ConstFloat(t.dtype, std::numeric_limits<float>::lowest()));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitRunningReduce(ctx, x, axis, "reduce_log_sum_exp", lowest));
  return ctx.SetOutput(0, y);
}

constexpr t2c_input_decl kCumExtremeInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                                sdk::Host("dim")};
static_assert(sdk::InputIndex(kCumExtremeInputs, "self") == kCumsumSelf, "self comes first");
static_assert(sdk::InputIndex(kCumExtremeInputs, "dim") == kCumsumDim, "dim comes second");

Status InferCumExtreme(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kCumsumSelf));
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, kCumsumDim, x.rank(), ctx.kind()));
  (void)axis;
  if (x.is_float()) x.dtype = T2C_DTYPE_FP32;
  return SetValuesAndIndicesTypes(ctx, x);
}

/// cummax / cummin(self, dim): the running extreme over the running table (filled with the
/// dtype's lowest / highest value), and its index: of equal extremes the last, as ATen, found as
/// the first of the table reversed along j.
Status LowerCumExtreme(LowerContext& ctx) {
  const bool is_max = ctx.kind().rfind("aten::cummax", 0) == 0;
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kCumsumSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  if (t.rank() == 0) {
    TS2COREML_ASSIGN_OR_RETURN(x, EmitReshape(ctx, x, {1}));
    t.shape = {1};
  }
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, kCumsumDim, t.rank(), ctx.kind()));
  double fill_value =
      is_max ? std::numeric_limits<float>::lowest() : std::numeric_limits<float>::max();
  if (t.dtype == T2C_DTYPE_INT32) {
    fill_value = is_max ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int32_t>::max();
  }
  TS2COREML_ASSIGN_OR_RETURN(Var fill, ScalarLike(ctx, t.dtype, fill_value));
  TS2COREML_ASSIGN_OR_RETURN(Var table, EmitRunningTable(ctx, x, axis, fill));
  TS2COREML_ASSIGN_OR_RETURN(
      Var values, EmitReduce(ctx, is_max ? "reduce_max" : "reduce_min", table, {axis + 1}, false));
  TS2COREML_ASSIGN_OR_RETURN(TensorType table_type, ctx.TypeOf(table));
  TS2COREML_ASSIGN_OR_RETURN(Var j_axis, ctx.ConstInts({axis + 1}));
  TS2COREML_ASSIGN_OR_RETURN(Var reversed,
                             ctx.Emit1("reverse", {{"x", table}, {"axes", j_axis}}, table_type));
  TS2COREML_ASSIGN_OR_RETURN(Var from_end, EmitArg(ctx, is_max ? "reduce_argmax" : "reduce_argmin",
                                                   reversed, axis + 1, false));
  TS2COREML_ASSIGN_OR_RETURN(Var last, ctx.ConstInt(t.shape[axis] - 1));
  TS2COREML_ASSIGN_OR_RETURN(Var indices, EmitBinary(ctx, "sub", last, from_end));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(values, EmitReshape(ctx, values, out.shape));
  TS2COREML_ASSIGN_OR_RETURN(indices, EmitReshape(ctx, indices, out.shape));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, values));
  return ctx.SetOutput(1, indices);
}

// ---------------------------------------------------------------------------------------------
// topk, sort, argsort.

/// MIL topk of `x` (a rank-0 x is read as [1]): the values and the int32 indices of the `k`
/// largest (smallest when `ascending`) along `axis`, sorted.
Expected<std::pair<Var, Var>> EmitTopk(LowerContext& ctx, Var x, int64_t k, int64_t axis,
                                       bool ascending) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  const bool scalar = t.rank() == 0;
  if (scalar) {
    TS2COREML_ASSIGN_OR_RETURN(x, EmitReshape(ctx, x, {1}));
    t.shape = {1};
  }
  TensorType values = t;
  values.shape[axis] = k;
  const TensorType indices(T2C_DTYPE_INT32, values.shape);
  TS2COREML_ASSIGN_OR_RETURN(Var kv, ctx.ConstInt(k));
  TS2COREML_ASSIGN_OR_RETURN(Var av, ctx.ConstInt(axis));
  TS2COREML_ASSIGN_OR_RETURN(Var asc, ctx.ConstBool(ascending));
  TS2COREML_ASSIGN_OR_RETURN(
      std::vector<Var> outs,
      ctx.Emit("topk", {{"x", x}, {"k", kv}, {"axis", av}, {"ascending", asc}}, {values, indices}));
  if (!scalar) return std::make_pair(outs[0], outs[1]);
  TS2COREML_ASSIGN_OR_RETURN(Var v, EmitReshape(ctx, outs[0], {}));
  TS2COREML_ASSIGN_OR_RETURN(Var i, EmitReshape(ctx, outs[1], {}));
  return std::make_pair(v, i);
}

constexpr t2c_input_decl kTopkInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT), sdk::Host("k"),
                                          sdk::Host("dim"), sdk::Host("largest"),
                                          sdk::Host("sorted")};
constexpr uint32_t kTopkSelf = sdk::InputIndex(kTopkInputs, "self");
constexpr uint32_t kTopkK = sdk::InputIndex(kTopkInputs, "k");
constexpr uint32_t kTopkDim = sdk::InputIndex(kTopkInputs, "dim");
constexpr uint32_t kTopkLargest = sdk::InputIndex(kTopkInputs, "largest");
constexpr uint32_t kTopkSorted = sdk::InputIndex(kTopkInputs, "sorted");

struct TopkSpec {
  int64_t k = 0;
  int64_t axis = 0;
  bool largest = true;
  TensorType values;  ///< FP32 for float inputs (infer's view)
};

Expected<TopkSpec> ReadTopk(const NodeView& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kTopkSelf));
  TopkSpec s;
  TS2COREML_ASSIGN_OR_RETURN(s.k, ctx.Int(kTopkK));
  TS2COREML_ASSIGN_OR_RETURN(s.axis, ReadAxis(ctx, kTopkDim, x.rank(), "topk"));
  TS2COREML_ASSIGN_OR_RETURN(s.largest, ctx.Bool(kTopkLargest));
  const int64_t size = x.rank() == 0 ? 1 : x.shape[s.axis];
  if (s.k < 0 || s.k > size) {
    return ctx.InvalidInputs("topk: k " + std::to_string(s.k) + " is out of range for dim " +
                             std::to_string(s.axis) + " of size " + std::to_string(size));
  }
  if (s.k == 0) return ctx.Error("topk: k 0 gives an empty tensor, which Core ML cannot hold");
  TS2COREML_ASSIGN_OR_RETURN(bool sorted, ctx.Bool(kTopkSorted));
  // ATen's CPU kernel partially sorts (sorted order) when k * 64 <= size; otherwise sorted=False
  // leaves the order std::nth_element gives, which MIL topk does not reproduce.
  if (!sorted && s.k > 1 && s.k * 64 > size) {
    return ctx.Error(
        "topk: sorted=False with k " + std::to_string(s.k) + " of " + std::to_string(size) +
        " returns PyTorch's unsorted order (std::nth_element's), which MIL topk cannot reproduce; pass sorted=True");
  }
  s.values = x;
  if (x.is_float()) s.values.dtype = T2C_DTYPE_FP32;
  if (x.rank() > 0) s.values.shape[s.axis] = s.k;
  return s;
}

Status InferTopk(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TopkSpec s, ReadTopk(ctx));
  return SetValuesAndIndicesTypes(ctx, s.values);
}

/// topk(self, k, dim, largest, sorted) -> MIL topk, values and indices, sorted. sorted=False is
/// the same order in PyTorch when k is 1 or k * 64 <= size (its kernel partially sorts), and is
/// refused otherwise (ReadTopk).
Status LowerTopk(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TopkSpec s, ReadTopk(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kTopkSelf));
  TS2COREML_ASSIGN_OR_RETURN(auto vi, EmitTopk(ctx, x, s.k, s.axis, !s.largest));
  return SetValuesAndIndices(ctx, vi);
}

/// sort(self, dim, descending) and sort.stable(self, *, stable, dim, descending).
constexpr t2c_input_decl kSortInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT), sdk::Host("dim"),
                                          sdk::Host("descending")};
constexpr uint32_t kSortSelf = sdk::InputIndex(kSortInputs, "self");
constexpr uint32_t kSortDim = sdk::InputIndex(kSortInputs, "dim");
constexpr uint32_t kSortDescending = sdk::InputIndex(kSortInputs, "descending");
constexpr t2c_input_decl kSortStableInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                                sdk::Host("stable", T2C_INPUT_OPTIONAL),
                                                sdk::Host("dim"), sdk::Host("descending")};
constexpr uint32_t kSortStableDim = sdk::InputIndex(kSortStableInputs, "dim");
constexpr uint32_t kSortStableDescending = sdk::InputIndex(kSortStableInputs, "descending");
static_assert(sdk::InputIndex(kSortStableInputs, "self") == kSortSelf, "self comes first");

struct SortSpec {
  int64_t axis = 0;
  bool descending = false;
  TensorType out;  ///< the input's type, FP32 for floats
};

Expected<SortSpec> ReadSort(const NodeView& ctx) {
  const std::string kind = ctx.kind();
  const bool stable = kind.size() > 7 && kind.compare(kind.size() - 7, 7, ".stable") == 0;
  const uint32_t dim = stable ? kSortStableDim : kSortDim;
  const uint32_t descending = stable ? kSortStableDescending : kSortDescending;
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kSortSelf));
  SortSpec s;
  TS2COREML_ASSIGN_OR_RETURN(s.axis, ReadAxis(ctx, dim, x.rank(), ctx.kind()));
  TS2COREML_ASSIGN_OR_RETURN(s.descending, ctx.Bool(descending));
  s.out = x;
  if (x.is_float()) s.out.dtype = T2C_DTYPE_FP32;
  return s;
}

Status InferSort(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(SortSpec s, ReadSort(ctx));
  return SetValuesAndIndicesTypes(ctx, s.out);
}

/// sort -> MIL topk with k the whole dim: values and indices in one op. MIL does not say which of
/// tied values comes first; equal values give equal sorted values either way.
Status LowerSort(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(SortSpec s, ReadSort(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kSortSelf));
  const int64_t size = s.out.rank() == 0 ? 1 : s.out.shape[s.axis];
  TS2COREML_ASSIGN_OR_RETURN(auto vi, EmitTopk(ctx, x, size, s.axis, !s.descending));
  return SetValuesAndIndices(ctx, vi);
}

Status InferArgsort(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(SortSpec s, ReadSort(ctx));
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_INT32, s.out.shape));
}

/// argsort(self, dim, descending) -> MIL argsort (ties in an order MIL does not specify).
Status LowerArgsort(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(SortSpec s, ReadSort(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kSortSelf));
  if (s.out.rank() == 0) {
    TS2COREML_ASSIGN_OR_RETURN(auto vi, EmitTopk(ctx, x, 1, 0, true));
    return ctx.SetOutput(0, vi.second);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var axis, ctx.ConstInt(s.axis));
  TS2COREML_ASSIGN_OR_RETURN(Var asc, ctx.ConstBool(!s.descending));
  return ctx.EmitOutput("argsort", {{"x", x}, {"axis", axis}, {"ascending", asc}});
}

/// The `rank`-th smallest (from 0) value of `x` along `axis` and its int32 index: topk ascending
/// with k = rank + 1, then its last slot (a unit dim when `keep`, else squeezed).
Expected<std::pair<Var, Var>> EmitOrderStatistic(LowerContext& ctx, Var x, int64_t axis,
                                                 int64_t rank, bool keep) {
  TS2COREML_ASSIGN_OR_RETURN(auto vi, EmitTopk(ctx, x, rank + 1, axis, true));
  TS2COREML_ASSIGN_OR_RETURN(TensorType vt, ctx.TypeOf(vi.first));
  vt.shape[axis] = 1;
  const TensorType it(T2C_DTYPE_INT32, vt.shape);
  TS2COREML_ASSIGN_OR_RETURN(Var slot, ctx.ConstInts({rank}));
  TS2COREML_ASSIGN_OR_RETURN(Var av, ctx.ConstInt(axis));
  TS2COREML_ASSIGN_OR_RETURN(
      Var v, ctx.Emit1("gather", {{"x", vi.first}, {"indices", slot}, {"axis", av}}, vt));
  TS2COREML_ASSIGN_OR_RETURN(
      Var i, ctx.Emit1("gather", {{"x", vi.second}, {"indices", slot}, {"axis", av}}, it));
  if (keep) return std::make_pair(v, i);
  std::vector<int64_t> squeezed = vt.shape;
  squeezed.erase(squeezed.begin() + axis);
  TS2COREML_ASSIGN_OR_RETURN(v, EmitReshape(ctx, v, squeezed));
  TS2COREML_ASSIGN_OR_RETURN(i, EmitReshape(ctx, i, squeezed));
  return std::make_pair(v, i);
}

/// median(self) and median.dim(self, dim, keepdim); kthvalue(self, k, dim, keepdim).
constexpr t2c_input_decl kMedianInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                            sdk::Host("dim", T2C_INPUT_OPTIONAL),
                                            sdk::Host("keepdim", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kMedianSelf = sdk::InputIndex(kMedianInputs, "self");
constexpr uint32_t kMedianDim = sdk::InputIndex(kMedianInputs, "dim");
constexpr uint32_t kMedianKeepdim = sdk::InputIndex(kMedianInputs, "keepdim");
constexpr t2c_input_decl kKthInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT), sdk::Host("k"),
                                         sdk::Host("dim"), sdk::Host("keepdim")};
constexpr uint32_t kKthK = sdk::InputIndex(kKthInputs, "k");
constexpr uint32_t kKthDim = sdk::InputIndex(kKthInputs, "dim");
constexpr uint32_t kKthKeepdim = sdk::InputIndex(kKthInputs, "keepdim");
static_assert(sdk::InputIndex(kKthInputs, "self") == kMedianSelf, "self comes first");

/// An order statistic resolved: over `axis` (-1: the flattened input), which one (from 0), and
/// the values' type (FP32 for floats).
struct OrderSpec {
  int64_t axis = -1;
  int64_t rank = 0;
  bool keepdim = false;
  TensorType values;
};

Expected<OrderSpec> ReadOrder(const NodeView& ctx) {
  const bool kth = ctx.kind().rfind("aten::kthvalue", 0) == 0;
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kMedianSelf));
  OrderSpec s;
  s.values = TensorType(x.is_float() ? T2C_DTYPE_FP32 : x.dtype, {});
  const uint32_t dim = kth ? kKthDim : kMedianDim;
  if (!kth && (ctx.num_inputs() <= kMedianDim || ctx.IsNone(kMedianDim))) {
    s.rank = (x.numel() - 1) / 2;  // the lower median, as ATen
    return s;
  }
  TS2COREML_ASSIGN_OR_RETURN(s.axis, ReadAxis(ctx, dim, x.rank(), ctx.kind()));
  TS2COREML_ASSIGN_OR_RETURN(s.keepdim, ctx.Bool(kth ? kKthKeepdim : kMedianKeepdim));
  const int64_t n = x.rank() == 0 ? 1 : x.shape[s.axis];
  s.rank = (n - 1) / 2;
  if (kth) {
    TS2COREML_ASSIGN_OR_RETURN(int64_t k, ctx.Int(kKthK));
    if (k < 1 || k > n) {
      return ctx.InvalidInputs("kthvalue: k " + std::to_string(k) + " is out of range for " +
                               std::to_string(n) + " elements");
    }
    s.rank = k - 1;
  }
  for (int64_t i = 0; i < x.rank(); ++i) {
    if (i != s.axis) s.values.shape.push_back(x.shape[i]);
    if (i == s.axis && s.keepdim) s.values.shape.push_back(1);
  }
  return s;
}

Status InferOrder(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(OrderSpec s, ReadOrder(ctx));
  if (s.axis < 0) return ctx.SetOutputType(0, s.values);
  return SetValuesAndIndicesTypes(ctx, s.values);
}

/// median / kthvalue: the order statistic through topk; the full median of the flattened input
/// has no indices. Of tied values MIL does not say which index comes first.
Status LowerOrder(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(OrderSpec s, ReadOrder(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kMedianSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  const bool flat = s.axis < 0 || t.rank() == 0;
  if (flat) {
    TS2COREML_ASSIGN_OR_RETURN(x, EmitReshape(ctx, x, {t.numel()}));
  }
  TS2COREML_ASSIGN_OR_RETURN(
      auto vi, EmitOrderStatistic(ctx, x, flat ? 0 : s.axis, s.rank, !flat && s.keepdim));
  if (s.axis < 0) return ctx.SetOutput(0, vi.first);
  return SetValuesAndIndices(ctx, vi);
}

// ---------------------------------------------------------------------------------------------
// Norms: norm, linalg_vector_norm, linalg_norm, frobenius_norm.

/// norm.Scalar(self, p), norm.ScalarOpt_dim[_dtype](self, p?, dim, keepdim[, dtype]),
/// linalg_vector_norm(self, ord, dim?, keepdim, dtype?), linalg_norm[.ord_str](self, ord?, dim?,
/// keepdim, dtype?), linalg_matrix_norm[.str_ord](self, ord, dim, keepdim, dtype?).
constexpr t2c_input_decl kNormInputs[] = {
    sdk::Tensor("self"), sdk::Host("ord", T2C_INPUT_OPTIONAL), sdk::Host("dim", T2C_INPUT_OPTIONAL),
    sdk::Host("keepdim", T2C_INPUT_OPTIONAL), sdk::Host("dtype", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kNormSelf = sdk::InputIndex(kNormInputs, "self");
constexpr uint32_t kNormOrd = sdk::InputIndex(kNormInputs, "ord");
constexpr uint32_t kNormDim = sdk::InputIndex(kNormInputs, "dim");
constexpr uint32_t kNormKeepdim = sdk::InputIndex(kNormInputs, "keepdim");
constexpr uint32_t kNormDtype = sdk::InputIndex(kNormInputs, "dtype");
/// norm.ScalarOpt_dtype(self, p?, *, dtype).
constexpr t2c_input_decl kNormDtypeInputs[] = {
    sdk::Tensor("self"), sdk::Host("ord", T2C_INPUT_OPTIONAL), sdk::Host("dtype")};
constexpr uint32_t kNormDtypeDtype = sdk::InputIndex(kNormDtypeInputs, "dtype");
static_assert(sdk::InputIndex(kNormDtypeInputs, "self") == kNormSelf, "self comes first");
static_assert(sdk::InputIndex(kNormDtypeInputs, "ord") == kNormOrd, "ord comes second");
/// frobenius_norm(self) and frobenius_norm.dim(self, dim, keepdim).
constexpr t2c_input_decl kFrobeniusInputs[] = {sdk::Tensor("self"),
                                               sdk::Host("dim", T2C_INPUT_OPTIONAL),
                                               sdk::Host("keepdim", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kFrobeniusDim = sdk::InputIndex(kFrobeniusInputs, "dim");
constexpr uint32_t kFrobeniusKeepdim = sdk::InputIndex(kFrobeniusInputs, "keepdim");
static_assert(sdk::InputIndex(kFrobeniusInputs, "self") == kNormSelf, "self comes first");

/// A norm resolved: its order over the axes (`matrix`: the induced matrix norm over the two axes
/// in `matrix_axes` order, rows then columns), and the output shape.
struct NormSpec {
  double p = 2;
  bool matrix = false;
  int64_t rows_axis = 0, cols_axis = 0;
  Reduction r;
};

bool Present(const NodeView& ctx, uint32_t i) { return ctx.num_inputs() > i && !ctx.IsNone(i); }

/// The order argument: a number (None: 2), or linalg_norm's string ('fro': 2; 'nuc' refused).
Expected<double> ReadOrd(const NodeView& ctx, bool* is_default) {
  *is_default = !Present(ctx, kNormOrd);
  if (*is_default) return 2.0;
  if (ctx.input_kind(kNormOrd) == T2C_KIND_STRING) {
    TS2COREML_ASSIGN_OR_RETURN(std::string ord, ctx.String(kNormOrd));
    if (ord == "fro") {
      *is_default = true;
      return 2.0;
    }
    return ctx.Error(ctx.kind() + ": ord '" + ord +
                     "' (a singular-value norm) is not supported; only 'fro' and numbers");
  }
  return ctx.Float(kNormOrd);
}

/// linalg_norm's matrix norms over two axes: ord +-1 (column sums), +-inf (row sums).
Status ResolveMatrixNorm(const NodeView& ctx, NormSpec* n) {
  if (std::fabs(n->p) != 1.0 && !std::isinf(n->p)) {
    return ctx.Error(ctx.kind() + ": matrix norm ord " + FormatNumber(n->p) +
                     " (singular values) is not supported; only 1, -1, inf, -inf and 'fro'");
  }
  n->matrix = true;
  return Status::Ok();
}

Expected<NormSpec> ReadNorm(const NodeView& ctx) {
  const std::string kind = ctx.kind();
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kNormSelf));
  if (!x.is_float()) return ctx.Error(kind + ": needs a floating-point input");
  NormSpec n;
  std::vector<int64_t> dims;
  bool keepdim = false, always_float = true, default_ord = true;
  const bool frobenius = kind.rfind("aten::frobenius_norm", 0) == 0;
  const uint32_t dim_input = frobenius ? kFrobeniusDim : kNormDim;
  const uint32_t keep_input = frobenius ? kFrobeniusKeepdim : kNormKeepdim;
  if (!frobenius) {
    TS2COREML_ASSIGN_OR_RETURN(n.p, ReadOrd(ctx, &default_ord));
  }
  if (kind == "aten::norm.ScalarOpt_dtype") {
    TS2COREML_RETURN_IF_ERROR(ReadDtype(ctx, kNormDtypeDtype, &always_float));
  } else {
    if (Present(ctx, dim_input)) {
      TS2COREML_ASSIGN_OR_RETURN(dims, ctx.Ints(dim_input));
    }
    if (Present(ctx, keep_input)) {
      TS2COREML_ASSIGN_OR_RETURN(keepdim, ctx.Bool(keep_input));
    }
    if (!frobenius) TS2COREML_RETURN_IF_ERROR(ReadDtype(ctx, kNormDtype, &always_float));
  }
  TS2COREML_ASSIGN_OR_RETURN(n.r, Resolve(ctx, x, dims, keepdim, true));
  const bool matrix_norm = kind.rfind("aten::linalg_matrix_norm", 0) == 0;
  if (matrix_norm && dims.size() != 2) {
    return ctx.InvalidInputs(kind + ": dim " + FormatInts(dims) + " must name two dimensions");
  }
  if ((matrix_norm || kind.rfind("aten::linalg_norm", 0) == 0) && !default_ord) {
    const bool two_dims = dims.size() == 2 || (dims.empty() && x.rank() == 2);
    if (dims.empty() && x.rank() > 2) {
      return ctx.Error(kind + ": ord " + FormatNumber(n.p) +
                       " without dim needs a 1-D or 2-D input");
    }
    if (two_dims) {
      TS2COREML_RETURN_IF_ERROR(ResolveMatrixNorm(ctx, &n));
      const int64_t rank = x.rank();
      n.rows_axis = dims.empty() ? 0 : sdk::NormalizeAxis(dims[0], rank);
      n.cols_axis = dims.empty() ? 1 : sdk::NormalizeAxis(dims[1], rank);
    }
  }
  return n;
}

Status InferNorm(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(NormSpec n, ReadNorm(ctx));
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, n.r.out_shape));
}

/// sum over `axes` of |x|^p, then ^(1/p): the vector p-norm, with MIL's own ops for p = 1, 2,
/// +-inf, and the count of nonzeros for p = 0.
Expected<Var> EmitVectorNorm(LowerContext& ctx, Var x, double p, const std::vector<int64_t>& axes,
                             bool keep) {
  if (p == 2.0) return EmitReduce(ctx, "reduce_l2_norm", x, axes, keep);
  if (p == 1.0) return EmitReduce(ctx, "reduce_l1_norm", x, axes, keep);
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  if (p == 0.0) {
    TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstFloat(t.dtype, 0.0f));
    TS2COREML_ASSIGN_OR_RETURN(Var one, ctx.ConstFloat(t.dtype, 1.0f));
    TS2COREML_ASSIGN_OR_RETURN(Var nz, ctx.Emit1("not_equal", {{"x", x}, {"y", zero}},
                                                 TensorType(T2C_DTYPE_BOOL, t.shape)));
    TS2COREML_ASSIGN_OR_RETURN(Var ind,
                               ctx.Emit1("select", {{"cond", nz}, {"a", one}, {"b", zero}}, t));
    return EmitReduce(ctx, "reduce_sum", ind, axes, keep);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.Emit1("abs", {{"x", x}}, t));
  if (std::isinf(p)) return EmitReduce(ctx, p > 0 ? "reduce_max" : "reduce_min", a, axes, keep);
  TS2COREML_ASSIGN_OR_RETURN(Var pv, ctx.ConstFloat(t.dtype, static_cast<float>(p)));
  TS2COREML_ASSIGN_OR_RETURN(Var powered, ctx.Emit1("pow", {{"x", a}, {"y", pv}}, t));
  TS2COREML_ASSIGN_OR_RETURN(Var sum, EmitReduce(ctx, "reduce_sum", powered, axes, keep));
  TS2COREML_ASSIGN_OR_RETURN(Var inv, ctx.ConstFloat(t.dtype, static_cast<float>(1.0 / p)));
  return EmitBinary(ctx, "pow", sum, inv);
}

/// The induced matrix norm: ord 1 = max over columns of the column sums of |x|, inf = max over
/// rows of the row sums (-1, -inf: the min).
Expected<Var> EmitMatrixNorm(LowerContext& ctx, Var x, const NormSpec& n) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.Emit1("abs", {{"x", x}}, t));
  const bool by_columns = std::fabs(n.p) == 1.0;
  const int64_t summed = by_columns ? n.rows_axis : n.cols_axis;
  const int64_t extreme = by_columns ? n.cols_axis : n.rows_axis;
  TS2COREML_ASSIGN_OR_RETURN(Var sums, EmitReduce(ctx, "reduce_sum", a, {summed}, true));
  TS2COREML_ASSIGN_OR_RETURN(
      Var y, EmitReduce(ctx, n.p > 0 ? "reduce_max" : "reduce_min", sums, {extreme}, true));
  return EmitReshape(ctx, y, n.r.out_shape);
}

Status LowerNorm(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(NormSpec n, ReadNorm(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kNormSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  Var y;
  if (n.matrix) {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitMatrixNorm(ctx, x, n));
  } else if (t.rank() == 0) {
    TS2COREML_ASSIGN_OR_RETURN(Var flat, EmitReshape(ctx, x, {1}));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitVectorNorm(ctx, flat, n.p, {0}, false));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitVectorNorm(ctx, x, n.p, n.r.axes, n.r.keepdim));
  }
  return ctx.SetOutput(0, y);
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
constexpr const char* kMomentOps[] = {"aten::var", "aten::std", "aten::var_mean", "aten::std_mean"};

constexpr const char* kArgOps[] = {"aten::argmax", "aten::argmin"};
/// Bare names: max(self) / min(self) (full) and max.other / min.other (binary); the .dim
/// overloads are claimed exactly above.
constexpr const char* kMaxMinOps[] = {"aten::max", "aten::min"};
constexpr const char* kProdAllOps[] = {"aten::prod"};
constexpr const char* kProdDimOps[] = {"aten::prod.dim_int"};
constexpr const char* kLogsumexpOps[] = {"aten::logsumexp"};
constexpr const char* kTruthOps[] = {"aten::all", "aten::any", "aten::count_nonzero"};
constexpr const char* kAminmaxOps[] = {"aten::aminmax"};
constexpr const char* kNanSumOps[] = {"aten::nansum"};
constexpr const char* kNanMeanOps[] = {"aten::nanmean"};
constexpr const char* kCumsumOps[] = {"aten::cumsum"};
constexpr const char* kCumprodOps[] = {"aten::cumprod"};
constexpr const char* kLogcumsumexpOps[] = {"aten::logcumsumexp", "aten::_logcumsumexp"};
constexpr const char* kCumExtremeOps[] = {"aten::cummax", "aten::cummin"};
constexpr const char* kTopkOps[] = {"aten::topk"};
constexpr const char* kSortOps[] = {"aten::sort"};
constexpr const char* kSortStableOps[] = {"aten::sort.stable"};
constexpr const char* kArgsortOps[] = {"aten::argsort"};
constexpr const char* kArgsortStableOps[] = {"aten::argsort.stable"};
constexpr const char* kMedianOps[] = {"aten::median"};
constexpr const char* kKthvalueOps[] = {"aten::kthvalue"};
constexpr const char* kNormOps[] = {"aten::norm", "aten::linalg_vector_norm"};
constexpr const char* kLinalgNormOps[] = {"aten::linalg_norm", "aten::linalg_matrix_norm"};
constexpr const char* kNormDtypeOps[] = {"aten::norm.ScalarOpt_dtype"};
constexpr const char* kFrobeniusOps[] = {"aten::frobenius_norm"};

// FP16 limits (docs/precision.md): a sum or mean accumulates at most the sum of |x| over the
// reduced axes, var/std the sum of squared deviations, a Frobenius norm the sum of squares; each
// must stay within FP16's range (65504).
constexpr t2c_fp16_limit kMeanLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_SUM_ABS, kMean.self, 65504.0,
                   "the sum of |input| over dim, which the mean accumulates", T2C_FP16_AXES_DIMS,
                   static_cast<uint32_t>(kMean.dims))};
constexpr t2c_fp16_limit kMeanAllLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_SUM_ABS, kMeanAll.self, 65504.0,
                   "the sum of |input|, which the mean accumulates")};
constexpr t2c_fp16_limit kSumLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_SUM_ABS, kSum.self, 65504.0,
                   "the sum of |input| over dim, which the sum accumulates", T2C_FP16_AXES_DIMS,
                   static_cast<uint32_t>(kSum.dims))};
constexpr t2c_fp16_limit kSumAllLimits[] = {sdk::Fp16Limit(
    T2C_FP16_STAT_SUM_ABS, kSumAll.self, 65504.0, "the sum of |input|, which the sum accumulates")};
constexpr t2c_fp16_limit kMomentLimits[] = {sdk::Fp16Limit(
    T2C_FP16_STAT_CENTERED_SQUARES, kMomentSelf, 65504.0,
    "the sum of squares of (input - mean) over dim", T2C_FP16_AXES_DIMS, kMomentDimOrUnbiased)};
constexpr t2c_fp16_limit kFrobeniusLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_SUM_SQUARES, kNormSelf, 65504.0,
                   "the sum of squares of input over dim", T2C_FP16_AXES_DIMS, kFrobeniusDim)};

// prod, cumprod: in whatever order a product reduction multiplies, every partial product lies
// between 1 / (the product of max(1, 1/|x|)) and the product of max(1, |x|) over the elements
// multiplied; the second must stay within FP16's range, the first at or below 2^24 (past it a
// partial product flushes to zero).
constexpr t2c_fp16_limit kProdAllLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_PROD_GROWTH, kProdAll.self, 65504.0,
                   "the product of max(1, |input|), the largest partial product"),
    sdk::Fp16Limit(T2C_FP16_STAT_PROD_SHRINK, kProdAll.self, 16777216.0,
                   "the product of max(1, 1/|input|), 1 / the smallest partial product")};
constexpr t2c_fp16_limit kProdDimLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_PROD_GROWTH, kProdDim.self, 65504.0,
                   "the product over dim of max(1, |input|), the largest partial product",
                   T2C_FP16_AXES_DIMS, static_cast<uint32_t>(kProdDim.one_dim)),
    sdk::Fp16Limit(T2C_FP16_STAT_PROD_SHRINK, kProdDim.self, 16777216.0,
                   "the product over dim of max(1, 1/|input|), 1 / the smallest partial product",
                   T2C_FP16_AXES_DIMS, static_cast<uint32_t>(kProdDim.one_dim))};
constexpr t2c_fp16_limit kCumprodLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_PROD_GROWTH, kCumsumSelf, 65504.0,
                   "the product over dim of max(1, |input|), the largest partial product",
                   T2C_FP16_AXES_DIMS, kCumsumDim),
    sdk::Fp16Limit(T2C_FP16_STAT_PROD_SHRINK, kCumsumSelf, 16777216.0,
                   "the product over dim of max(1, 1/|input|), 1 / the smallest partial product",
                   T2C_FP16_AXES_DIMS, kCumsumDim)};
// cumsum: every scan, sequential or parallel, accumulates sums of contiguous runs along dim, the
// largest of which is max - min of the running sums.
constexpr t2c_fp16_limit kCumsumLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_PREFIX_SUM_RANGE, kCumsumSelf, 65504.0,
                   "the largest |sum of a run of input| along dim, which the cumsum accumulates",
                   T2C_FP16_AXES_DIMS, kCumsumDim)};
// logsumexp (MIL reduce_log_sum_exp, which subtracts the max): the sum of exp(x - max) it
// accumulates must stay within FP16's range; terms that underflow weigh under 2^-24 each.
constexpr t2c_fp16_limit kLogsumexpLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_EXP_SUM, kLogsumexp.self, 65504.0,
                   "the sum of exp(input - max) over dim, which the logsumexp accumulates",
                   T2C_FP16_AXES_DIMS, static_cast<uint32_t>(kLogsumexp.dims))};
// Vector p-norms accumulate the sum of |x|^p before the 1/p root (p = +-inf: the largest |x|).
// linalg_norm and linalg_matrix_norm may also be induced matrix norms (ord +-1, +-inf), which
// accumulate sums of |x| along one of the two dims: at most the sum of |x| over both.
constexpr t2c_fp16_limit kNormLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_POWER_SUM, kNormSelf, 65504.0,
                   "the sum of |input|^p over dim, which the p-norm accumulates",
                   T2C_FP16_AXES_DIMS, kNormDim, kNormOrd)};
constexpr t2c_fp16_limit kNormDtypeLimits[] = {sdk::Fp16Limit(
    T2C_FP16_STAT_POWER_SUM, kNormSelf, 65504.0,
    "the sum of |input|^p, which the p-norm accumulates", T2C_FP16_AXES_ALL, 0, kNormOrd)};
constexpr t2c_fp16_limit kLinalgNormLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_POWER_SUM, kNormSelf, 65504.0,
                   "the sum of |input|^p over dim, which the p-norm accumulates",
                   T2C_FP16_AXES_DIMS, kNormDim, kNormOrd),
    sdk::Fp16Limit(T2C_FP16_STAT_SUM_ABS, kNormSelf, 65504.0,
                   "the sum of |input| over dim, which a matrix norm's row or column sums reach",
                   T2C_FP16_AXES_DIMS, kNormDim)};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::WithFp16Limits(
        sdk::Lowering("mean", kMeanOps, kMeanInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                      sdk::InferFn<InferMean>, sdk::LowerFn<LowerMean>),
        kMeanLimits),
    sdk::WithFp16Limits(
        sdk::Lowering("mean_all", kMeanAllOps, kMeanAllInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                      sdk::InferFn<InferMeanAll>, sdk::LowerFn<LowerMeanAll>),
        kMeanAllLimits),
    sdk::WithFp16Limits(sdk::Lowering("sum", kSumOps, kSumInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                                      sdk::InferFn<InferSum>, sdk::LowerFn<LowerSum>),
                        kSumLimits),
    sdk::WithFp16Limits(
        sdk::Lowering("sum_all", kSumAllOps, kSumAllInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                      sdk::InferFn<InferSumAll>, sdk::LowerFn<LowerSumAll>),
        kSumAllLimits),
    sdk::Lowering("amax", kAmaxOps, kAmaxInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAmax>, sdk::LowerFn<LowerAmax>),
    sdk::Lowering("amin", kAminOps, kAmaxInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAmax>, sdk::LowerFn<LowerAmin>),
    sdk::Lowering("max_min_dim", kMaxMinDimOps, kMaxMinDimInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferMaxMinDim>, sdk::LowerFn<LowerMaxMinDim>),
    // Squares of deviations overflow FP16 (|x - mean| > 256) and lose small variances.
    sdk::WithFp16Limits(
        sdk::Lowering("var_std", kMomentOps, kMomentInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_CUSTOM, sdk::InferFn<InferMoment>, sdk::LowerFn<LowerMoment>),
        kMomentLimits),
    sdk::Lowering("argmax_argmin", kArgOps, kArgInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferArg>, sdk::LowerFn<LowerArg>),
    sdk::Lowering("max_min", kMaxMinOps, kMaxMinInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferMaxMin>, sdk::LowerFn<LowerMaxMin>),
    // Products overflow FP16 quickly.
    sdk::WithFp16Limits(
        sdk::Lowering("prod", kProdAllOps, kProdAllInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_CUSTOM, sdk::InferFn<InferProdAll>, sdk::LowerFn<LowerProdAll>),
        kProdAllLimits),
    sdk::WithFp16Limits(
        sdk::Lowering("prod_dim", kProdDimOps, kProdDimInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_CUSTOM, sdk::InferFn<InferProdDim>, sdk::LowerFn<LowerProdDim>),
        kProdDimLimits),
    sdk::WithFp16Limits(
        sdk::Lowering("logsumexp", kLogsumexpOps, kLogsumexpInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_CUSTOM, sdk::InferFn<InferLogsumexp>, sdk::LowerFn<LowerLogsumexp>),
        kLogsumexpLimits),
    sdk::Lowering("all_any_count_nonzero", kTruthOps, kTruthInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferTruth>, sdk::LowerFn<LowerTruth>),
    sdk::Lowering("aminmax", kAminmaxOps, kAminmaxInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAminmax>, sdk::LowerFn<LowerAminmax>),
    sdk::Lowering("nansum", kNanSumOps, kNanSumInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferNanSum>, sdk::LowerFn<LowerNanReduction>),
    sdk::Lowering("nanmean", kNanMeanOps, kNanMeanInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferNanMean>, sdk::LowerFn<LowerNanReduction>),
    // Running sums lose low bits in FP16.
    sdk::WithFp16Limits(
        sdk::Lowering("cumsum", kCumsumOps, kCumsumInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_CUSTOM, sdk::InferFn<InferCumsum>, sdk::LowerFn<LowerCumsum>),
        kCumsumLimits),
    sdk::WithFp16Limits(
        sdk::Lowering("cumprod", kCumprodOps, kCumsumInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_CUSTOM, sdk::InferFn<InferCumsum>, sdk::LowerFn<LowerCumprod>),
        kCumprodLimits),
    sdk::Lowering("logcumsumexp", kLogcumsumexpOps, kLogcumsumexpInputs,
                  T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_CUSTOM, sdk::InferFn<InferLogcumsumexp>,
                  sdk::LowerFn<LowerLogcumsumexp>),
    sdk::Lowering("cummax_cummin", kCumExtremeOps, kCumExtremeInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferCumExtreme>, sdk::LowerFn<LowerCumExtreme>),
    sdk::Lowering("topk", kTopkOps, kTopkInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferTopk>, sdk::LowerFn<LowerTopk>),
    sdk::Lowering("sort", kSortOps, kSortInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferSort>, sdk::LowerFn<LowerSort>),
    sdk::Lowering("sort_stable", kSortStableOps, kSortStableInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferSort>, sdk::LowerFn<LowerSort>),
    sdk::Lowering("argsort", kArgsortOps, kSortInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferArgsort>, sdk::LowerFn<LowerArgsort>),
    sdk::Lowering("argsort_stable", kArgsortStableOps, kSortStableInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferArgsort>, sdk::LowerFn<LowerArgsort>),
    sdk::Lowering("median", kMedianOps, kMedianInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferOrder>, sdk::LowerFn<LowerOrder>),
    sdk::Lowering("kthvalue", kKthvalueOps, kKthInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferOrder>, sdk::LowerFn<LowerOrder>),
    // Powers of |x| overflow FP16.
    sdk::WithFp16Limits(
        sdk::Lowering("norm", kNormOps, kNormInputs, T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_CUSTOM,
                      sdk::InferFn<InferNorm>, sdk::LowerFn<LowerNorm>),
        kNormLimits),
    sdk::WithFp16Limits(
        sdk::Lowering("linalg_norm", kLinalgNormOps, kNormInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_CUSTOM, sdk::InferFn<InferNorm>, sdk::LowerFn<LowerNorm>),
        kLinalgNormLimits),
    sdk::WithFp16Limits(
        sdk::Lowering("norm_dtype", kNormDtypeOps, kNormDtypeInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_CUSTOM, sdk::InferFn<InferNorm>, sdk::LowerFn<LowerNorm>),
        kNormDtypeLimits),
    sdk::WithFp16Limits(sdk::Lowering("frobenius_norm", kFrobeniusOps, kFrobeniusInputs,
                                      T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_CUSTOM,
                                      sdk::InferFn<InferNorm>, sdk::LowerFn<LowerNorm>),
                        kFrobeniusLimits),
};

/// This file's lowerings, then parity_lowerings.cpp's.
constexpr auto kAllLowerings = ConcatLowerings(kLowerings, reduction_parity::kLowerings);

constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "ts2coreml.reduction",
    "0.1.0",         kAllLowerings.data(),    static_cast<uint32_t>(kAllLowerings.size())};

}  // namespace

const t2c_plugin_info* ReductionPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
