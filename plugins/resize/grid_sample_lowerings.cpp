/// affine_grid and grid_sample (see grid_sample_lowerings.h).
#include "resize/grid_sample_lowerings.h"

#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::grid_sample {
namespace {

constexpr uint32_t kTheta = sdk::InputIndex(kAffineGridInputs, "theta");
constexpr uint32_t kSize = sdk::InputIndex(kAffineGridInputs, "size");
constexpr uint32_t kGridAlign = sdk::InputIndex(kAffineGridInputs, "align_corners");

constexpr uint32_t kInput = sdk::InputIndex(kGridSamplerInputs, "input");
constexpr uint32_t kGrid = sdk::InputIndex(kGridSamplerInputs, "grid");
constexpr uint32_t kMode = sdk::InputIndex(kGridSamplerInputs, "interpolation_mode");
constexpr uint32_t kPadding = sdk::InputIndex(kGridSamplerInputs, "padding_mode");
constexpr uint32_t kSampleAlign = sdk::InputIndex(kGridSamplerInputs, "align_corners");

/// The largest dense weight tensor (N * output points * input pixels) grid_sample emits.
constexpr int64_t kMaxWeights = int64_t{1} << 24;

/// affine_grid: the spatial sizes (H, W or D, H, W) and the theta shape they need.
Expected<std::vector<int64_t>> ReadAffine(const NodeView& ctx, const TensorType& theta) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> size, ctx.Ints(kSize));
  if (size.size() != 4 && size.size() != 5) {
    return ctx.Error("affine_grid: size " + FormatInts(size) + " must have 4 or 5 entries");
  }
  const int64_t dims = static_cast<int64_t>(size.size()) - 2;
  if (theta.rank() != 3 || theta.shape[0] != size[0] || theta.shape[1] != dims ||
      theta.shape[2] != dims + 1) {
    return ctx.InvalidInputs("affine_grid: theta " + FormatInts(theta.shape) +
                             " does not fit size " + FormatInts(size));
  }
  return std::vector<int64_t>(size.begin() + 2, size.end());
}

}  // namespace

std::vector<float> NormalizedPixels(int64_t n, bool align_corners) {
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i) {
    if (n <= 1) {
      v.push_back(0.0f);
      continue;
    }
    // linspace(-1, 1, n), scaled by (n - 1) / n without align_corners.
    float x = -1.0f + 2.0f * static_cast<float>(i) / static_cast<float>(n - 1);
    if (!align_corners) x = x * static_cast<float>(n - 1) / static_cast<float>(n);
    v.push_back(x);
  }
  return v;
}

Status InferAffineGrid(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType theta, ctx.InputType(kTheta));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> spatial, ReadAffine(ctx, theta));
  std::vector<int64_t> shape = {theta.shape[0]};
  shape.insert(shape.end(), spatial.begin(), spatial.end());
  shape.push_back(static_cast<int64_t>(spatial.size()));
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, shape));
}

/// base [points, dims + 1] (x, y[, z], 1 per point, x fastest) @ theta^T.
Status LowerAffineGrid(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var theta, ctx.Input(kTheta));
  TS2COREML_ASSIGN_OR_RETURN(TensorType tt, ctx.TypeOf(theta));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> spatial, ReadAffine(ctx, tt));
  TS2COREML_ASSIGN_OR_RETURN(bool align, ctx.Bool(kGridAlign));
  const size_t dims = spatial.size();
  std::vector<std::vector<float>> axes;  // per output coordinate: x (last axis) first
  for (size_t k = 0; k < dims; ++k) axes.push_back(NormalizedPixels(spatial[dims - 1 - k], align));
  int64_t points = 1;
  for (int64_t s : spatial) points *= s;
  std::vector<float> base;
  for (int64_t p = 0; p < points; ++p) {
    int64_t rest = p;
    std::vector<float> row(dims + 1, 1.0f);
    for (size_t k = 0; k < dims; ++k) {
      const int64_t n = spatial[dims - 1 - k];
      row[k] = axes[k][static_cast<size_t>(rest % n)];
      rest /= n;
    }
    base.insert(base.end(), row.begin(), row.end());
  }
  TS2COREML_ASSIGN_OR_RETURN(
      Var base_var, ctx.ConstFloats(tt.dtype, base, {points, static_cast<int64_t>(dims + 1)}));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitMatmul(ctx, base_var, theta, false, true));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(y, EmitReshape(ctx, y, out.shape));
  return ctx.SetOutput(0, y);
}

namespace {

/// grid_sampler's parameters, checked against the inputs.
struct Sample {
  int64_t mode = 0, padding = 0;
  bool align = false;
  int64_t n = 0, c = 0, h = 0, w = 0, ho = 0, wo = 0;
};

Expected<Sample> ReadSample(const NodeView& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kInput));
  TS2COREML_ASSIGN_OR_RETURN(TensorType g, ctx.InputType(kGrid));
  Sample s;
  TS2COREML_ASSIGN_OR_RETURN(s.mode, ctx.Int(kMode));
  TS2COREML_ASSIGN_OR_RETURN(s.padding, ctx.Int(kPadding));
  TS2COREML_ASSIGN_OR_RETURN(s.align, ctx.Bool(kSampleAlign));
  if (x.rank() != 4) {
    return ctx.Error("grid_sampler: only 4-D inputs are supported (got " + FormatInts(x.shape) +
                     "); 5-D volumetric sampling is not");
  }
  if (g.rank() != 4 || g.shape[0] != x.shape[0] || g.shape[3] != 2) {
    return ctx.InvalidInputs("grid_sampler: grid " + FormatInts(g.shape) + " does not fit input " +
                             FormatInts(x.shape) + " (expected [N, H_out, W_out, 2])");
  }
  if (s.mode != 0 && s.mode != 1) {
    return ctx.Error(std::string("grid_sampler: mode '") + (s.mode == 2 ? "bicubic" : "unknown") +
                     "' is not supported (bilinear and nearest are)");
  }
  if (s.padding < 0 || s.padding > 2) {
    return ctx.Error("grid_sampler: padding mode " + std::to_string(s.padding) + " is unknown");
  }
  s.n = x.shape[0];
  s.c = x.shape[1];
  s.h = x.shape[2];
  s.w = x.shape[3];
  s.ho = g.shape[1];
  s.wo = g.shape[2];
  if (s.n * s.ho * s.wo * s.h * s.w > kMaxWeights) {
    return ctx.Error("grid_sampler: " + FormatInts(x.shape) + " sampled at " + FormatInts(g.shape) +
                     " needs a dense weight tensor above 16M entries; sample smaller images");
  }
  return s;
}

Expected<Var> Scalar(const LowerContext& ctx, t2c_dtype dt, double v) {
  return ScalarLike(ctx, dt, v);
}

Expected<Var> Unary(const LowerContext& ctx, const char* op, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  return ctx.Emit1(op, {{"x", x}}, t);
}

/// ATen's reflect_coordinates over [twice_low / 2, twice_high / 2] (bounds doubled).
Expected<Var> Reflect(const LowerContext& ctx, Var x, t2c_dtype dt, int64_t twice_low,
                      int64_t twice_high) {
  if (twice_low == twice_high) {
    TS2COREML_ASSIGN_OR_RETURN(Var zero, Scalar(ctx, dt, 0));
    return EmitBinary(ctx, "mul", x, zero);
  }
  const double lo = twice_low / 2.0, span = (twice_high - twice_low) / 2.0;
  TS2COREML_ASSIGN_OR_RETURN(Var lo_v, Scalar(ctx, dt, lo));
  TS2COREML_ASSIGN_OR_RETURN(Var span_v, Scalar(ctx, dt, span));
  TS2COREML_ASSIGN_OR_RETURN(Var d, EmitBinary(ctx, "sub", x, lo_v));
  TS2COREML_ASSIGN_OR_RETURN(d, Unary(ctx, "abs", d));
  TS2COREML_ASSIGN_OR_RETURN(Var extra, EmitBinary(ctx, "mod", d, span_v));
  TS2COREML_ASSIGN_OR_RETURN(Var flips, EmitBinary(ctx, "real_div", d, span_v));
  TS2COREML_ASSIGN_OR_RETURN(flips, Unary(ctx, "floor", flips));
  TS2COREML_ASSIGN_OR_RETURN(Var two, Scalar(ctx, dt, 2));
  TS2COREML_ASSIGN_OR_RETURN(Var parity, EmitBinary(ctx, "mod", flips, two));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, Scalar(ctx, dt, 0));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var even, ctx.Emit1("equal", {{"x", parity}, {"y", zero}},
                                                 TensorType(T2C_DTYPE_BOOL, t.shape)));
  TS2COREML_ASSIGN_OR_RETURN(Var up, EmitBinary(ctx, "add", extra, lo_v));
  TS2COREML_ASSIGN_OR_RETURN(Var down, EmitBinary(ctx, "sub", span_v, extra));
  TS2COREML_ASSIGN_OR_RETURN(down, EmitBinary(ctx, "add", down, lo_v));
  return ctx.Emit1("select", {{"cond", even}, {"a", up}, {"b", down}}, t);
}

/// The pixel coordinate ATen samples along an axis of `size` for normalized `x` ([N, P, 1]).
Expected<Var> PixelCoordinate(const LowerContext& ctx, const Sample& s, Var x, int64_t size) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  const t2c_dtype dt = t.dtype;
  TS2COREML_ASSIGN_OR_RETURN(Var one, Scalar(ctx, dt, 1));
  TS2COREML_ASSIGN_OR_RETURN(Var c, EmitBinary(ctx, "add", x, one));
  if (s.align) {  // (x + 1) / 2 * (size - 1)
    TS2COREML_ASSIGN_OR_RETURN(Var k, Scalar(ctx, dt, (size - 1) / 2.0));
    TS2COREML_ASSIGN_OR_RETURN(c, EmitBinary(ctx, "mul", c, k));
  } else {  // ((x + 1) * size - 1) / 2
    TS2COREML_ASSIGN_OR_RETURN(Var k, Scalar(ctx, dt, static_cast<double>(size)));
    TS2COREML_ASSIGN_OR_RETURN(Var half, Scalar(ctx, dt, 0.5));
    TS2COREML_ASSIGN_OR_RETURN(c, EmitBinary(ctx, "mul", c, k));
    TS2COREML_ASSIGN_OR_RETURN(c, EmitBinary(ctx, "sub", c, one));
    TS2COREML_ASSIGN_OR_RETURN(c, EmitBinary(ctx, "mul", c, half));
  }
  if (s.padding == 0) return c;
  if (s.padding == 2) {
    TS2COREML_ASSIGN_OR_RETURN(c, s.align ? Reflect(ctx, c, dt, 0, 2 * (size - 1))
                                          : Reflect(ctx, c, dt, -1, 2 * size - 1));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var lo, Scalar(ctx, dt, 0));
  TS2COREML_ASSIGN_OR_RETURN(Var hi, Scalar(ctx, dt, static_cast<double>(size - 1)));
  return ctx.Emit1("clip", {{"x", c}, {"alpha", lo}, {"beta", hi}}, t);
}

/// [N, P, size] weights of each output point over the pixels of one axis.
Expected<Var> AxisWeights(const LowerContext& ctx, const Sample& s, Var coord, int64_t size) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(coord));
  const t2c_dtype dt = t.dtype;
  std::vector<float> idx;
  for (int64_t i = 0; i < size; ++i) idx.push_back(static_cast<float>(i));
  TS2COREML_ASSIGN_OR_RETURN(Var pixels, ctx.ConstFloats(dt, idx, {size}));
  if (s.mode == 1) {
    TS2COREML_ASSIGN_OR_RETURN(Var r, Unary(ctx, "round", coord));
    const TensorType wide(dt, {s.n, s.ho * s.wo, size});
    TS2COREML_ASSIGN_OR_RETURN(Var hit, ctx.Emit1("equal", {{"x", r}, {"y", pixels}},
                                                  TensorType(T2C_DTYPE_BOOL, wide.shape)));
    TS2COREML_ASSIGN_OR_RETURN(Var one, Scalar(ctx, dt, 1));
    TS2COREML_ASSIGN_OR_RETURN(Var zero, Scalar(ctx, dt, 0));
    return ctx.Emit1("select", {{"cond", hit}, {"a", one}, {"b", zero}}, wide);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var d, EmitBinary(ctx, "sub", coord, pixels));
  TS2COREML_ASSIGN_OR_RETURN(d, Unary(ctx, "abs", d));
  TS2COREML_ASSIGN_OR_RETURN(Var one, Scalar(ctx, dt, 1));
  TS2COREML_ASSIGN_OR_RETURN(Var tent, EmitBinary(ctx, "sub", one, d));
  return Unary(ctx, "relu", tent);
}

}  // namespace

Status InferGridSampler(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Sample s, ReadSample(ctx));
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, {s.n, s.c, s.ho, s.wo}));
}

Status LowerGridSampler(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Sample s, ReadSample(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kInput));
  TS2COREML_ASSIGN_OR_RETURN(Var g, ctx.Input(kGrid));
  TS2COREML_ASSIGN_OR_RETURN(TensorType gt, ctx.TypeOf(g));
  const t2c_dtype dt = gt.dtype;
  const int64_t p = s.ho * s.wo;
  TS2COREML_ASSIGN_OR_RETURN(Var gp, EmitReshape(ctx, g, {s.n, p, 2}));
  std::vector<Var> coords;
  for (int64_t k = 0; k < 2; ++k) {  // x then y
    TS2COREML_ASSIGN_OR_RETURN(Var begin, ctx.ConstInts({0, 0, k}));
    TS2COREML_ASSIGN_OR_RETURN(Var size, ctx.ConstInts({s.n, p, 1}));
    TS2COREML_ASSIGN_OR_RETURN(
        Var c, ctx.Emit1("slice_by_size", {{"x", gp}, {"begin", begin}, {"size", size}},
                         TensorType(dt, {s.n, p, 1})));
    TS2COREML_ASSIGN_OR_RETURN(c, PixelCoordinate(ctx, s, c, k == 0 ? s.w : s.h));
    coords.push_back(c);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var wx, AxisWeights(ctx, s, coords[0], s.w));
  TS2COREML_ASSIGN_OR_RETURN(Var wy, AxisWeights(ctx, s, coords[1], s.h));
  TS2COREML_ASSIGN_OR_RETURN(wx, EmitReshape(ctx, wx, {s.n, p, 1, s.w}));
  TS2COREML_ASSIGN_OR_RETURN(wy, EmitReshape(ctx, wy, {s.n, p, s.h, 1}));
  TS2COREML_ASSIGN_OR_RETURN(Var m, EmitBinary(ctx, "mul", wy, wx));
  TS2COREML_ASSIGN_OR_RETURN(m, EmitReshape(ctx, m, {s.n, p, s.h * s.w}));
  TS2COREML_ASSIGN_OR_RETURN(Var xf, EmitReshape(ctx, x, {s.n, s.c, s.h * s.w}));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitMatmul(ctx, xf, m, false, true));
  TS2COREML_ASSIGN_OR_RETURN(y, EmitReshape(ctx, y, {s.n, s.c, s.ho, s.wo}));
  return ctx.SetOutput(0, y);
}

}  // namespace ts2coreml::plugins::grid_sample
