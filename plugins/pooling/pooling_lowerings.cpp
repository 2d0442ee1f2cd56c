/// Built-in lowerings of pooling. Output sizes follow PyTorch (common/conv_math.h); where MIL's
/// ceil_mode rule would give another size, or the average would divide by another count, the
/// lowering refuses rather than lowering wrongly.
#include "pooling/pooling_lowerings.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/conv_math.h"
#include "common/lowering_table.h"
#include "common/lowering_util.h"
#include "pooling/im2col_lowerings.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

/// The number of spatial dimensions named by the op ("aten::max_pool2d" -> 2).
size_t SpatialDims(const std::string& kind) {
  for (size_t n = 1; n <= 3; ++n) {
    if (kind.find(std::to_string(n) + "d") != std::string::npos) return n;
  }
  return 2;
}

/// Where a pooling schema keeps each argument, by name from its input table (-1: absent).
struct PoolSchema {
  bool is_max;
  uint32_t self;
  uint32_t kernel_size;
  uint32_t stride;
  uint32_t padding;
  int dilation;
  int ceil_mode;
  int count_include_pad;
  int divisor_override;
};

/// The arguments of both pooling schemas, found by name in `inputs`.
template <size_t N>
constexpr PoolSchema CommonPoolSchema(const t2c_input_decl (&inputs)[N], bool is_max) {
  PoolSchema s{};
  s.is_max = is_max;
  s.self = sdk::InputIndex(inputs, "self");
  s.kernel_size = sdk::InputIndex(inputs, "kernel_size");
  s.stride = sdk::InputIndex(inputs, "stride");
  s.padding = sdk::InputIndex(inputs, "padding");
  s.ceil_mode = static_cast<int>(sdk::InputIndex(inputs, "ceil_mode"));
  s.dilation = s.count_include_pad = s.divisor_override = -1;
  return s;
}

constexpr t2c_input_decl kMaxPoolInputs[] = {
    sdk::Tensor("self"),  sdk::Host("kernel_size"), sdk::Host("stride"),
    sdk::Host("padding"), sdk::Host("dilation"),    sdk::Host("ceil_mode"),
};
constexpr PoolSchema MaxPoolSchema() {
  PoolSchema s = CommonPoolSchema(kMaxPoolInputs, /*is_max=*/true);
  s.dilation = static_cast<int>(sdk::InputIndex(kMaxPoolInputs, "dilation"));
  return s;
}
constexpr PoolSchema kMaxPoolSchema = MaxPoolSchema();

// avg_pool1d has no divisor_override; it is declared optional.
constexpr t2c_input_decl kAvgPoolInputs[] = {
    sdk::Tensor("self"),
    sdk::Host("kernel_size"),
    sdk::Host("stride"),
    sdk::Host("padding"),
    sdk::Host("ceil_mode"),
    sdk::Host("count_include_pad"),
    sdk::Host("divisor_override", T2C_INPUT_OPTIONAL),
};
constexpr PoolSchema AvgPoolSchema() {
  PoolSchema s = CommonPoolSchema(kAvgPoolInputs, /*is_max=*/false);
  s.count_include_pad = static_cast<int>(sdk::InputIndex(kAvgPoolInputs, "count_include_pad"));
  s.divisor_override = static_cast<int>(sdk::InputIndex(kAvgPoolInputs, "divisor_override"));
  return s;
}
constexpr PoolSchema kAvgPoolSchema = AvgPoolSchema();

/// One pooling node resolved against its input shape.
struct PoolParams {
  std::string op;
  size_t n = 0;
  bool batched = true;
  std::vector<int64_t> in, kernel, stride, pad, dilation;
  bool ceil_mode = false;
  bool count_include_pad = true;
  std::vector<int64_t> out_shape;            ///< as the node outputs it (possibly unbatched)
  std::vector<int64_t> floor_out, ceil_out;  ///< spatial sizes without / with ceil mode
};

Expected<PoolParams> ReadPool(const NodeView& ctx, const PoolSchema& schema) {
  PoolParams p;
  p.op = ctx.kind();
  p.n = SpatialDims(p.op);
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(schema.self));
  const int64_t rank = x.rank();
  if (rank != static_cast<int64_t>(p.n) + 2 && rank != static_cast<int64_t>(p.n) + 1) {
    return ctx.Error(p.op + ": input rank " + std::to_string(rank) + " is not supported for " +
                     std::to_string(p.n) + " spatial dimension(s)");
  }
  p.batched = rank == static_cast<int64_t>(p.n) + 2;
  p.in.assign(x.shape.end() - p.n, x.shape.end());
  TS2COREML_ASSIGN_OR_RETURN(p.kernel,
                             ReadSpatialInts(ctx, schema.kernel_size, p.n, p.op, "kernel_size"));
  TS2COREML_ASSIGN_OR_RETURN(p.stride,
                             ReadSpatialInts(ctx, schema.stride, p.n, p.op, "stride", &p.kernel));
  TS2COREML_ASSIGN_OR_RETURN(p.pad, ReadSpatialInts(ctx, schema.padding, p.n, p.op, "padding"));
  p.dilation.assign(p.n, 1);
  if (schema.dilation >= 0) {
    TS2COREML_ASSIGN_OR_RETURN(p.dilation,
                               ReadSpatialInts(ctx, schema.dilation, p.n, p.op, "dilation"));
  }
  if (static_cast<int>(ctx.num_inputs()) > schema.ceil_mode) {
    TS2COREML_ASSIGN_OR_RETURN(p.ceil_mode, ctx.Bool(schema.ceil_mode));
  }
  if (schema.count_include_pad >= 0 &&
      static_cast<int>(ctx.num_inputs()) > schema.count_include_pad) {
    TS2COREML_ASSIGN_OR_RETURN(p.count_include_pad, ctx.Bool(schema.count_include_pad));
  }
  for (size_t i = 0; i < p.n; ++i) {
    if (p.kernel[i] < 1 || p.stride[i] < 1 || p.dilation[i] < 1 || p.pad[i] < 0) {
      return ctx.Error(p.op + ": kernel_size " + FormatInts(p.kernel) + ", stride " +
                       FormatInts(p.stride) + ", dilation " + FormatInts(p.dilation) +
                       " must be positive and padding " + FormatInts(p.pad) + " non-negative");
    }
    if (p.pad[i] * 2 > DilatedKernel(p.kernel[i], p.dilation[i])) {
      return ctx.Error(p.op + ": padding " + FormatInts(p.pad) +
                       " must be at most half of the kernel size " + FormatInts(p.kernel));
    }
    p.floor_out.push_back(
        PoolOutputSize(p.in[i], p.kernel[i], p.stride[i], p.pad[i], p.dilation[i], false));
    p.ceil_out.push_back(
        PoolOutputSize(p.in[i], p.kernel[i], p.stride[i], p.pad[i], p.dilation[i], true));
    if (p.floor_out[i] < 1) {
      return ctx.Error(p.op + ": output size along spatial dim " + std::to_string(i) +
                       " is not positive (input " + FormatInts(p.in) + ", kernel " +
                       FormatInts(p.kernel) + ")");
    }
  }
  p.out_shape.assign(x.shape.begin(), x.shape.end() - p.n);
  const auto& spatial = p.ceil_mode ? p.ceil_out : p.floor_out;
  p.out_shape.insert(p.out_shape.end(), spatial.begin(), spatial.end());
  return p;
}

Status InferPool(InferContext& ctx, const PoolSchema& schema) {
  TS2COREML_ASSIGN_OR_RETURN(PoolParams p, ReadPool(ctx, schema));
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, p.out_shape));
}

/// Emits `mil_op` with `args` on x made batched (expand_dims/squeeze around it when unbatched) as
/// output 0, also stored in `*values` when given.
Status EmitBatched(LowerContext& ctx, bool batched, const char* mil_op, Var x,
                   std::vector<sdk::Arg> args, Var* values = nullptr) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  if (batched) {
    args.insert(args.begin(), {"x", x});
    TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Emit1(mil_op, args, out));
    if (values != nullptr) *values = y;
    return ctx.SetOutput(0, y);
  }
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({0}));
  xt.shape.insert(xt.shape.begin(), 1);
  TS2COREML_ASSIGN_OR_RETURN(Var bx, ctx.Emit1("expand_dims", {{"x", x}, {"axes", axes}}, xt));
  args.insert(args.begin(), {"x", bx});
  out.shape.insert(out.shape.begin(), 1);
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Emit1(mil_op, args, out));
  TS2COREML_ASSIGN_OR_RETURN(Var axes2, ctx.ConstInts({0}));
  out.shape.erase(out.shape.begin());
  TS2COREML_ASSIGN_OR_RETURN(Var z, ctx.Emit1("squeeze", {{"x", y}, {"axes", axes2}}, out));
  if (values != nullptr) *values = z;
  return ctx.SetOutput(0, z);
}

/// A slice of `x` per kernel offset along the pooled dims: x[..., o + s*j] for j < out, with
/// offsets `offset` (one per spatial dim, the last n dims of x).
Expected<Var> EmitWindowSlice(const LowerContext& ctx, Var x, const PoolParams& p,
                              const std::vector<int64_t>& offset,
                              const std::vector<int64_t>& out_spatial) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  const size_t lead = t.shape.size() - p.n;
  std::vector<int64_t> begin(t.shape.size(), 0), end = t.shape, stride(t.shape.size(), 1);
  for (size_t i = 0; i < p.n; ++i) {
    begin[lead + i] = offset[i];
    end[lead + i] = offset[i] + (out_spatial[i] - 1) * p.stride[i] + 1;
    stride[lead + i] = p.stride[i];
    t.shape[lead + i] = out_spatial[i];
  }
  TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.ConstInts(begin));
  TS2COREML_ASSIGN_OR_RETURN(Var e, ctx.ConstInts(end));
  TS2COREML_ASSIGN_OR_RETURN(Var st, ctx.ConstInts(stride));
  return ctx.Emit1("slice_by_index", {{"x", x}, {"begin", b}, {"end", e}, {"stride", st}}, t);
}

/// Max pooling MIL max_pool cannot express (dilation; a ceil window in 3-d or sized otherwise by
/// MIL): x padded with -inf (the overhang of a ceil window too), then the elementwise maximum of
/// one strided slice per kernel offset.
Status LowerMaxPoolBySlices(LowerContext& ctx, const PoolSchema& schema, const PoolParams& p,
                            Var* values) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(schema.self));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  const std::vector<int64_t>& out = p.ceil_mode ? p.ceil_out : p.floor_out;
  const size_t lead = t.shape.size() - p.n;
  std::vector<int64_t> pads;
  for (size_t i = 0; i < p.n; ++i) {
    const int64_t span = (out[i] - 1) * p.stride[i] + DilatedKernel(p.kernel[i], p.dilation[i]);
    const int64_t right = std::max<int64_t>(0, span - p.pad[i] - p.in[i]);
    pads.push_back(p.pad[i]);
    pads.push_back(right);
    t.shape[lead + i] += p.pad[i] + right;
  }
  if (std::any_of(pads.begin(), pads.end(), [](int64_t v) { return v != 0; })) {
    TS2COREML_ASSIGN_OR_RETURN(Var pad_var, ctx.ConstInts(pads));
    TS2COREML_ASSIGN_OR_RETURN(Var mode, ctx.ConstString("constant"));
    TS2COREML_ASSIGN_OR_RETURN(Var low, ctx.ConstFloat(t.dtype, -INFINITY));
    TS2COREML_ASSIGN_OR_RETURN(
        x,
        ctx.Emit1("pad", {{"x", x}, {"pad", pad_var}, {"mode", mode}, {"constant_val", low}}, t));
  }
  Var acc;
  std::vector<int64_t> index(p.n, 0);  // kernel position, an odometer over the window
  for (bool more = true; more;) {
    std::vector<int64_t> offset;
    for (size_t i = 0; i < p.n; ++i) offset.push_back(index[i] * p.dilation[i]);
    TS2COREML_ASSIGN_OR_RETURN(Var slice, EmitWindowSlice(ctx, x, p, offset, out));
    if (acc.id == 0) {
      acc = slice;
    } else {
      TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(slice));
      TS2COREML_ASSIGN_OR_RETURN(acc, ctx.Emit1("maximum", {{"x", acc}, {"y", slice}}, st));
    }
    more = false;
    for (size_t i = p.n; i-- > 0 && !more;) {
      more = ++index[i] < p.kernel[i];
      if (!more) index[i] = 0;
    }
  }
  if (values != nullptr) *values = acc;
  return ctx.SetOutput(0, acc);
}

/// Whether MIL's ceil_mode pooling (1-d and 2-d only) gives PyTorch's ceil output size.
bool MilCeilMatches(const PoolParams& p) {
  if (p.n > 2) return false;
  for (size_t i = 0; i < p.n; ++i) {
    if (MilPoolOutputSize(p.in[i], p.kernel[i], p.stride[i], p.pad[i], true) != p.ceil_out[i]) {
      return false;
    }
  }
  return true;
}

/// avg_pool's divisor_override (0 when not given).
Expected<int64_t> ReadDivisor(const LowerContext& ctx, const PoolSchema& schema,
                              const PoolParams& p) {
  if (schema.divisor_override < 0 ||
      static_cast<int>(ctx.num_inputs()) <= schema.divisor_override ||
      ctx.IsNone(schema.divisor_override)) {
    return int64_t{0};
  }
  TS2COREML_ASSIGN_OR_RETURN(int64_t d, ctx.Int(schema.divisor_override));
  if (d == 0) return ctx.Error(p.op + ": divisor_override must not be zero");
  return d;
}

/// x scaled so that MIL's average over the whole (zero-padded) window, sum / prod(kernel), gives
/// PyTorch's sum / divisor_override.
Expected<Var> ScaleForDivisor(const LowerContext& ctx, const PoolParams& p, int64_t divisor,
                              Var x) {
  int64_t window = 1;
  for (int64_t k : p.kernel) window *= k;
  if (window == divisor) return x;
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(
      Var scale, ctx.ConstFloat(t.dtype, static_cast<float>(static_cast<double>(window) /
                                                            static_cast<double>(divisor))));
  return ctx.Emit1("mul", {{"x", x}, {"y", scale}}, t);
}

/// Refuses a ceil_mode that adds a window where MIL's ceil_mode gives another result than
/// PyTorch's. An average with count_include_pad and no padding divides the overhanging window by
/// its valid elements in PyTorch: `*exclude_padding` is set to do the same in MIL.
Status CheckMilCeilMode(const LowerContext& ctx, const PoolSchema& schema, const PoolParams& p,
                        int64_t divisor, bool* exclude_padding) {
  if (divisor != 0) {
    return ctx.Error(
        p.op +
        ": divisor_override with ceil_mode=True adding a window is not supported (MIL avg_pool sizes the overhanging window itself)");
  }
  if (p.n > 2) {
    return ctx.Error(
        p.op +
        ": ceil_mode=True adds a window here, and MIL supports ceil_mode only for 1D and 2D pooling");
  }
  for (size_t i = 0; i < p.n; ++i) {
    if (MilPoolOutputSize(p.in[i], p.kernel[i], p.stride[i], p.pad[i], true) != p.ceil_out[i]) {
      return ctx.Error(p.op + ": ceil_mode=True with input " + FormatInts(p.in) + ", kernel " +
                       FormatInts(p.kernel) + ", stride " + FormatInts(p.stride) + ", padding " +
                       FormatInts(p.pad) + " gives another output size in MIL than in PyTorch");
    }
  }
  if (schema.is_max || !p.count_include_pad) return Status::Ok();
  if (!AllEqual(p.pad, 0)) {
    return ctx.Error(p.op + ": ceil_mode=True with count_include_pad=True and padding " +
                     FormatInts(p.pad) +
                     " divides the overhanging window differently in MIL; not supported");
  }
  *exclude_padding = true;
  return Status::Ok();
}

/// MIL max_pool / avg_pool in MIL's own layout (EmitBatched), or the slice composition where
/// MIL max_pool cannot give PyTorch's result (dilation, a ceil_mode MIL sizes differently).
Status LowerPool(LowerContext& ctx, const PoolSchema& schema, Var* values = nullptr) {
  TS2COREML_ASSIGN_OR_RETURN(PoolParams p, ReadPool(ctx, schema));
  // Ceil mode matters only where it adds a window; elsewhere emit ceil_mode=false.
  const bool ceil = p.ceil_mode && p.ceil_out != p.floor_out;
  if (schema.is_max && (!AllEqual(p.dilation, 1) || (ceil && !MilCeilMatches(p)))) {
    return LowerMaxPoolBySlices(ctx, schema, p, values);
  }
  TS2COREML_ASSIGN_OR_RETURN(const int64_t divisor, ReadDivisor(ctx, schema, p));
  bool exclude_padding = !p.count_include_pad && divisor == 0;
  if (ceil) {
    TS2COREML_RETURN_IF_ERROR(CheckMilCeilMode(ctx, schema, p, divisor, &exclude_padding));
  }
  std::vector<int64_t> pad;
  for (int64_t v : p.pad) {
    pad.push_back(v);
    pad.push_back(v);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(schema.self));
  if (divisor != 0) {
    TS2COREML_ASSIGN_OR_RETURN(x, ScaleForDivisor(ctx, p, divisor, x));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var kernel_sizes, ctx.ConstInts(p.kernel));
  TS2COREML_ASSIGN_OR_RETURN(Var strides, ctx.ConstInts(p.stride));
  TS2COREML_ASSIGN_OR_RETURN(Var pad_type, ctx.ConstString("custom"));
  TS2COREML_ASSIGN_OR_RETURN(Var pad_var, ctx.ConstInts(pad));
  TS2COREML_ASSIGN_OR_RETURN(Var ceil_mode, ctx.ConstBool(ceil));
  std::vector<sdk::Arg> args = {{"kernel_sizes", kernel_sizes},
                                {"strides", strides},
                                {"pad_type", pad_type},
                                {"pad", pad_var}};
  if (!schema.is_max) {
    TS2COREML_ASSIGN_OR_RETURN(Var exclude, ctx.ConstBool(exclude_padding));
    args.push_back({"exclude_padding_from_average", exclude});
  }
  args.push_back({"ceil_mode", ceil_mode});
  return EmitBatched(ctx, p.batched, schema.is_max ? "max_pool" : "avg_pool", x, args, values);
}

Status InferMaxPool(InferContext& ctx) { return InferPool(ctx, kMaxPoolSchema); }
Status LowerMaxPool(LowerContext& ctx) { return LowerPool(ctx, kMaxPoolSchema); }
Status InferAvgPool(InferContext& ctx) { return InferPool(ctx, kAvgPoolSchema); }

/// max_pool{1,2,3}d_with_indices -> (values, indices): the values; the indices only when nothing
/// reads them (MIL max_pool gives no argmax).
Status InferMaxPoolWithIndices(InferContext& ctx) {
  if (ctx.OutputIsUsed(1)) {
    return ctx.Error(ctx.kind() +
                     ": the indices output is read; MIL max_pool gives only the pooled values");
  }
  TS2COREML_ASSIGN_OR_RETURN(PoolParams p, ReadPool(ctx, kMaxPoolSchema));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, p.out_shape)));
  // Nothing reads output 1: it shares the values' type and var.
  return ctx.SetOutputType(1, TensorType(T2C_DTYPE_FP32, p.out_shape));
}

Status LowerMaxPoolWithIndices(LowerContext& ctx) {
  Var values;
  TS2COREML_RETURN_IF_ERROR(LowerPool(ctx, kMaxPoolSchema, &values));
  return ctx.SetOutput(1, values);
}
Status LowerAvgPool(LowerContext& ctx) { return LowerPool(ctx, kAvgPoolSchema); }

constexpr t2c_input_decl kAdaptiveAvgPoolInputs[] = {sdk::Tensor("self"), sdk::Host("output_size")};
constexpr uint32_t kAdaptiveAvgPoolSelf = sdk::InputIndex(kAdaptiveAvgPoolInputs, "self");
constexpr uint32_t kAdaptiveAvgPoolOutputSize =
    sdk::InputIndex(kAdaptiveAvgPoolInputs, "output_size");

/// adaptive_{avg,max}_pool{1,2,3}d(self, output_size): the input with its spatial dims replaced.
Expected<std::vector<int64_t>> AdaptiveOutputSize(const NodeView& ctx, TensorType* x) {
  const std::string op = ctx.kind();
  const size_t n = SpatialDims(op);
  TS2COREML_ASSIGN_OR_RETURN(*x, ctx.InputType(kAdaptiveAvgPoolSelf));
  if (x->rank() != static_cast<int64_t>(n) + 1 && x->rank() != static_cast<int64_t>(n) + 2) {
    return ctx.Error(op + ": input rank " + std::to_string(x->rank()) + " is not supported");
  }
  TS2COREML_ASSIGN_OR_RETURN(
      std::vector<int64_t> size,
      ReadSpatialInts(ctx, kAdaptiveAvgPoolOutputSize, n, op, "output_size"));
  for (int64_t s : size) {
    if (s < 1) return ctx.Error(op + ": output_size " + FormatInts(size) + " must be positive");
  }
  return size;
}

Status InferAdaptiveAvgPool(InferContext& ctx) {
  TensorType x;
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> size, AdaptiveOutputSize(ctx, &x));
  std::vector<int64_t> shape(x.shape.begin(), x.shape.end() - size.size());
  shape.insert(shape.end(), size.begin(), size.end());
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, shape));
}

/// ATen's adaptive pooling bin i of `out` over `in`: [floor(i * in / out), ceil((i + 1) * in /
/// out)).
std::pair<int64_t, int64_t> AdaptiveBin(int64_t i, int64_t in, int64_t out) {
  return {(i * in) / out, ((i + 1) * in + out - 1) / out};
}

/// Uneven adaptive pooling along one spatial axis, exactly as ATen bins it: per output bin,
/// slice_by_index + `reduce` ("reduce_mean", "reduce_max"; keep_dims), then one concat. A
/// rectangle's average (maximum) is the average (maximum) over rows of the row results, so the
/// axes are pooled one after the other.
Expected<Var> AdaptiveAxis(LowerContext& ctx, Var x, TensorType xt, int64_t axis, int64_t out,
                           const char* reduce = "reduce_mean") {
  const int64_t in = xt.shape[axis];
  std::vector<Var> bins;
  TensorType bin_type = xt;
  bin_type.shape[axis] = 1;
  for (int64_t i = 0; i < out; ++i) {
    auto [start, end] = AdaptiveBin(i, in, out);
    std::vector<int64_t> begin(xt.rank(), 0), stop = xt.shape;
    begin[axis] = start;
    stop[axis] = end;
    TensorType slice_type = xt;
    slice_type.shape[axis] = end - start;
    TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.ConstInts(begin));
    TS2COREML_ASSIGN_OR_RETURN(Var e, ctx.ConstInts(stop));
    TS2COREML_ASSIGN_OR_RETURN(
        Var s, ctx.Emit1("slice_by_index", {{"x", x}, {"begin", b}, {"end", e}}, slice_type));
    TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({axis}));
    TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.ConstBool(true));
    TS2COREML_ASSIGN_OR_RETURN(
        Var m, ctx.Emit1(reduce, {{"x", s}, {"axes", axes}, {"keep_dims", keep}}, bin_type));
    bins.push_back(m);
  }
  xt.shape[axis] = out;
  TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(axis));
  TS2COREML_ASSIGN_OR_RETURN(Var interleave, ctx.ConstBool(false));
  return ctx.Emit1("concat", {{"values", bins}, {"axis", axis_var}, {"interleave", interleave}},
                   xt);
}

/// Global pooling -> reduce_mean; evenly dividing sizes -> avg_pool; otherwise ATen's uneven
/// bins, one axis at a time (AdaptiveAxis).
Status LowerAdaptiveAvgPool(LowerContext& ctx) {
  const std::string op = ctx.kind();
  TensorType xt;
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> size, AdaptiveOutputSize(ctx, &xt));
  const size_t n = size.size();
  std::vector<int64_t> in(xt.shape.end() - n, xt.shape.end());
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kAdaptiveAvgPoolSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType planned_x, ctx.TypeOf(x));
  if (AllEqual(size, 1)) {
    std::vector<int64_t> axes;
    for (size_t i = 0; i < n; ++i) axes.push_back(-static_cast<int64_t>(n - i));
    TS2COREML_ASSIGN_OR_RETURN(Var axes_var, ctx.ConstInts(axes));
    TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.ConstBool(true));
    return ctx.EmitOutput("reduce_mean", {{"x", x}, {"axes", axes_var}, {"keep_dims", keep}});
  }
  bool even = true;
  for (size_t i = 0; i < n; ++i) even &= in[i] % size[i] == 0;
  if (!even) {
    Var cur = x;
    TensorType ct = planned_x;
    for (size_t i = 0; i < n; ++i) {
      const int64_t axis = ct.rank() - static_cast<int64_t>(n) + static_cast<int64_t>(i);
      if (ct.shape[axis] == size[i]) continue;
      TS2COREML_ASSIGN_OR_RETURN(cur, AdaptiveAxis(ctx, cur, ct, axis, size[i]));
      ct.shape[axis] = size[i];
    }
    return ctx.SetOutput(0, cur);
  }
  std::vector<int64_t> kernel;
  for (size_t i = 0; i < n; ++i) kernel.push_back(in[i] / size[i]);
  if (AllEqual(kernel, 1)) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(Var kernel_sizes, ctx.ConstInts(kernel));
  TS2COREML_ASSIGN_OR_RETURN(Var strides, ctx.ConstInts(kernel));
  TS2COREML_ASSIGN_OR_RETURN(Var pad_type, ctx.ConstString("valid"));
  TS2COREML_ASSIGN_OR_RETURN(Var exclude, ctx.ConstBool(true));
  TS2COREML_ASSIGN_OR_RETURN(Var ceil_mode, ctx.ConstBool(false));
  return EmitBatched(ctx, xt.rank() == static_cast<int64_t>(n) + 2, "avg_pool", x,
                     {{"kernel_sizes", kernel_sizes},
                      {"strides", strides},
                      {"pad_type", pad_type},
                      {"exclude_padding_from_average", exclude},
                      {"ceil_mode", ceil_mode}});
}

/// adaptive_max_pool{1,2,3}d(self, output_size) -> (values, indices): the values; the indices
/// only when nothing reads them.
Status InferAdaptiveMaxPool(InferContext& ctx) {
  if (ctx.OutputIsUsed(1)) {
    return ctx.Error(ctx.kind() +
                     ": the indices output is read; only the pooled values are supported");
  }
  TS2COREML_RETURN_IF_ERROR(InferAdaptiveAvgPool(ctx));
  TensorType values;
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> size, AdaptiveOutputSize(ctx, &values));
  values.shape.resize(values.shape.size() - size.size());
  values.shape.insert(values.shape.end(), size.begin(), size.end());
  // Nothing reads output 1: it shares the values' type and var.
  return ctx.SetOutputType(1, TensorType(T2C_DTYPE_FP32, values.shape));
}

/// Evenly dividing axes: [outer, out, k, inner] reduced over k; others: ATen's bins.
Status LowerAdaptiveMaxPool(LowerContext& ctx) {
  TensorType xt;
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> size, AdaptiveOutputSize(ctx, &xt));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kAdaptiveAvgPoolSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType ct, ctx.TypeOf(x));
  Var cur = x;
  for (size_t i = 0; i < size.size(); ++i) {
    const int64_t axis = ct.rank() - static_cast<int64_t>(size.size()) + static_cast<int64_t>(i);
    const int64_t in = ct.shape[axis];
    if (in == size[i]) continue;
    if (in % size[i] != 0) {
      TS2COREML_ASSIGN_OR_RETURN(cur, AdaptiveAxis(ctx, cur, ct, axis, size[i], "reduce_max"));
    } else {
      int64_t outer = 1, inner = 1;
      for (int64_t d = 0; d < axis; ++d) outer *= ct.shape[d];
      for (int64_t d = axis + 1; d < ct.rank(); ++d) inner *= ct.shape[d];
      const std::vector<int64_t> split = {outer, size[i], in / size[i], inner};
      TS2COREML_ASSIGN_OR_RETURN(Var shape, ctx.ConstInts(split));
      TS2COREML_ASSIGN_OR_RETURN(
          Var r, ctx.Emit1("reshape", {{"x", cur}, {"shape", shape}}, TensorType(ct.dtype, split)));
      TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({2}));
      TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.ConstBool(false));
      TS2COREML_ASSIGN_OR_RETURN(
          Var m, ctx.Emit1("reduce_max", {{"x", r}, {"axes", axes}, {"keep_dims", keep}},
                           TensorType(ct.dtype, {outer, size[i], inner})));
      std::vector<int64_t> back = ct.shape;
      back[axis] = size[i];
      TS2COREML_ASSIGN_OR_RETURN(Var back_shape, ctx.ConstInts(back));
      TS2COREML_ASSIGN_OR_RETURN(
          cur, ctx.Emit1("reshape", {{"x", m}, {"shape", back_shape}}, TensorType(ct.dtype, back)));
    }
    ct.shape[axis] = size[i];
  }
  if (cur.id == x.id) {
    TS2COREML_ASSIGN_OR_RETURN(cur, ctx.Emit1("identity", {{"x", x}}, ct));
  }
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, cur));
  return ctx.SetOutput(1, cur);
}

constexpr const char* kMaxPoolOps[] = {"aten::max_pool1d", "aten::max_pool2d", "aten::max_pool3d"};
constexpr const char* kMaxPoolWithIndicesOps[] = {"aten::max_pool1d_with_indices",
                                                  "aten::max_pool2d_with_indices",
                                                  "aten::max_pool3d_with_indices"};
constexpr const char* kAvgPoolOps[] = {"aten::avg_pool1d", "aten::avg_pool2d", "aten::avg_pool3d"};
constexpr const char* kAdaptiveAvgPoolOps[] = {
    "aten::adaptive_avg_pool1d", "aten::adaptive_avg_pool2d", "aten::adaptive_avg_pool3d",
    "aten::_adaptive_avg_pool2d", "aten::_adaptive_avg_pool3d"};
constexpr const char* kAdaptiveMaxPoolOps[] = {
    "aten::adaptive_max_pool1d", "aten::adaptive_max_pool2d", "aten::adaptive_max_pool3d"};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("max_pool_with_indices", kMaxPoolWithIndicesOps, kMaxPoolInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferMaxPoolWithIndices>,
                  sdk::LowerFn<LowerMaxPoolWithIndices>),
    sdk::Lowering("max_pool", kMaxPoolOps, kMaxPoolInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferMaxPool>, sdk::LowerFn<LowerMaxPool>),
    sdk::Lowering("avg_pool", kAvgPoolOps, kAvgPoolInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAvgPool>, sdk::LowerFn<LowerAvgPool>),
    sdk::Lowering("adaptive_avg_pool", kAdaptiveAvgPoolOps, kAdaptiveAvgPoolInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferAdaptiveAvgPool>,
                  sdk::LowerFn<LowerAdaptiveAvgPool>),
    sdk::Lowering("adaptive_max_pool", kAdaptiveMaxPoolOps, kAdaptiveAvgPoolInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferAdaptiveMaxPool>,
                  sdk::LowerFn<LowerAdaptiveMaxPool>),
};

/// This file's lowerings, then im2col_lowerings.cpp's.
constexpr auto kAllLowerings = ConcatLowerings(kLowerings, im2col::kLowerings);

constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "ts2coreml.pooling",
    "0.2.0",         kAllLowerings.data(),    static_cast<uint32_t>(kAllLowerings.size())};

}  // namespace

const t2c_plugin_info* PoolingPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
