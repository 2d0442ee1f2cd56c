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

/// grid_sampler's parameters, checked against the inputs. Spatial sizes are outermost first
/// (H, W or D, H, W); grid coordinate k samples spatial axis dims - 1 - k (x: the last).
struct Sample {
  int64_t mode = 0, padding = 0;
  bool align = false;
  int64_t n = 0, c = 0;
  std::vector<int64_t> in, out;
  int64_t points = 1;
};

enum SampleMode : int64_t { kBilinear = 0, kNearest = 1, kBicubic = 2 };

Expected<Sample> ReadSample(const NodeView& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kInput));
  TS2COREML_ASSIGN_OR_RETURN(TensorType g, ctx.InputType(kGrid));
  Sample s;
  TS2COREML_ASSIGN_OR_RETURN(s.mode, ctx.Int(kMode));
  TS2COREML_ASSIGN_OR_RETURN(s.padding, ctx.Int(kPadding));
  TS2COREML_ASSIGN_OR_RETURN(s.align, ctx.Bool(kSampleAlign));
  if (x.rank() != 4 && x.rank() != 5) {
    return ctx.InvalidInputs("grid_sampler: input " + FormatInts(x.shape) +
                             " must be 4-D [N, C, H, W] or 5-D [N, C, D, H, W]");
  }
  const int64_t dims = x.rank() - 2;
  if (g.rank() != x.rank() || g.shape[0] != x.shape[0] || g.shape.back() != dims) {
    return ctx.InvalidInputs("grid_sampler: grid " + FormatInts(g.shape) + " does not fit input " +
                             FormatInts(x.shape) + " (expected [N, *output sizes, " +
                             std::to_string(dims) + "])");
  }
  if (s.mode < kBilinear || s.mode > kBicubic) {
    return ctx.Error("grid_sampler: interpolation mode " + std::to_string(s.mode) + " is unknown");
  }
  if (s.mode == kBicubic && dims != 2) {
    return ctx.InvalidInputs("grid_sampler: bicubic needs a 4-D input (got " + FormatInts(x.shape) +
                             ")");
  }
  if (s.padding < 0 || s.padding > 2) {
    return ctx.Error("grid_sampler: padding mode " + std::to_string(s.padding) + " is unknown");
  }
  s.n = x.shape[0];
  s.c = x.shape[1];
  s.in.assign(x.shape.begin() + 2, x.shape.end());
  s.out.assign(g.shape.begin() + 1, g.shape.end() - 1);
  int64_t pixels = 1;
  for (int64_t d : s.out) s.points *= d;
  for (int64_t d : s.in) pixels *= d;
  if (s.n * s.points * pixels > kMaxWeights) {
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

/// ATen's grid_sampler_unnormalize: the pixel coordinate of normalized `x` along an axis.
Expected<Var> Unnormalize(const LowerContext& ctx, const Sample& s, Var x, int64_t size) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  const t2c_dtype dt = t.dtype;
  TS2COREML_ASSIGN_OR_RETURN(Var one, Scalar(ctx, dt, 1));
  TS2COREML_ASSIGN_OR_RETURN(Var c, EmitBinary(ctx, "add", x, one));
  if (s.align) {  // (x + 1) / 2 * (size - 1)
    TS2COREML_ASSIGN_OR_RETURN(Var k, Scalar(ctx, dt, (size - 1) / 2.0));
    return EmitBinary(ctx, "mul", c, k);
  }
  // ((x + 1) * size - 1) / 2
  TS2COREML_ASSIGN_OR_RETURN(Var k, Scalar(ctx, dt, static_cast<double>(size)));
  TS2COREML_ASSIGN_OR_RETURN(Var half, Scalar(ctx, dt, 0.5));
  TS2COREML_ASSIGN_OR_RETURN(c, EmitBinary(ctx, "mul", c, k));
  TS2COREML_ASSIGN_OR_RETURN(c, EmitBinary(ctx, "sub", c, one));
  return EmitBinary(ctx, "mul", c, half);
}

/// ATen's compute_coordinates: pixel coordinate `c` moved inside [0, size - 1] by the padding
/// mode (border clips, reflection reflects then clips, zeros leaves it).
Expected<Var> PadCoordinate(const LowerContext& ctx, const Sample& s, Var c, int64_t size) {
  if (s.padding == 0) return c;
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(c));
  const t2c_dtype dt = t.dtype;
  if (s.padding == 2) {
    TS2COREML_ASSIGN_OR_RETURN(c, s.align ? Reflect(ctx, c, dt, 0, 2 * (size - 1))
                                          : Reflect(ctx, c, dt, -1, 2 * size - 1));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var lo, Scalar(ctx, dt, 0));
  TS2COREML_ASSIGN_OR_RETURN(Var hi, Scalar(ctx, dt, static_cast<double>(size - 1)));
  return ctx.Emit1("clip", {{"x", c}, {"alpha", lo}, {"beta", hi}}, t);
}

/// a3 x^3 + a2 x^2 + a1 x + a0, by Horner's rule.
Expected<Var> Cubic(const LowerContext& ctx, Var x, double a3, double a2, double a1, double a0) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var y, Scalar(ctx, t.dtype, a3));
  for (double a : {a2, a1, a0}) {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitBinary(ctx, "mul", y, x));
    TS2COREML_ASSIGN_OR_RETURN(Var k, Scalar(ctx, t.dtype, a));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitBinary(ctx, "add", y, k));
  }
  return y;
}

/// [N, P, size] weights of the four bicubic taps floor(c) - 1 .. floor(c) + 2 (ATen's
/// get_cubic_upsample_coefficients, A = -0.75), each tap moved by the padding mode and added
/// to the pixel it lands on; a tap outside the image under zeros padding lands on none.
Expected<Var> BicubicWeights(const LowerContext& ctx, const Sample& s, Var c, Var pixels,
                             int64_t size) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(c));
  const t2c_dtype dt = t.dtype;
  constexpr double kA = -0.75;
  TS2COREML_ASSIGN_OR_RETURN(Var base, Unary(ctx, "floor", c));
  TS2COREML_ASSIGN_OR_RETURN(Var frac, EmitBinary(ctx, "sub", c, base));
  const TensorType wide(dt, {s.n, s.points, size});
  TS2COREML_ASSIGN_OR_RETURN(Var zero, Scalar(ctx, dt, 0));
  Var sum = zero;
  for (int k = 0; k < 4; ++k) {
    // Distance from the tap: 1 + frac, frac, 1 - frac, 2 - frac.
    TS2COREML_ASSIGN_OR_RETURN(Var shift, Scalar(ctx, dt, static_cast<double>(k - 1)));
    TS2COREML_ASSIGN_OR_RETURN(Var dist, EmitBinary(ctx, "sub", frac, shift));
    TS2COREML_ASSIGN_OR_RETURN(dist, Unary(ctx, "abs", dist));
    TS2COREML_ASSIGN_OR_RETURN(Var coef, (k == 1 || k == 2)
                                             ? Cubic(ctx, dist, kA + 2, -(kA + 3), 0, 1)
                                             : Cubic(ctx, dist, kA, -5 * kA, 8 * kA, -4 * kA));
    TS2COREML_ASSIGN_OR_RETURN(Var tap, EmitBinary(ctx, "add", base, shift));
    TS2COREML_ASSIGN_OR_RETURN(tap, PadCoordinate(ctx, s, tap, size));
    TS2COREML_ASSIGN_OR_RETURN(Var hit, ctx.Emit1("equal", {{"x", tap}, {"y", pixels}},
                                                  TensorType(T2C_DTYPE_BOOL, wide.shape)));
    TS2COREML_ASSIGN_OR_RETURN(
        Var w, ctx.Emit1("select", {{"cond", hit}, {"a", coef}, {"b", zero}}, wide));
    if (k == 0) {
      sum = w;
    } else {
      TS2COREML_ASSIGN_OR_RETURN(sum, EmitBinary(ctx, "add", sum, w));
    }
  }
  return sum;
}

/// [N, P, size] weights of each output point over the pixels of one axis, for the normalized
/// coordinates `x` ([N, P, 1]).
Expected<Var> AxisWeights(const LowerContext& ctx, const Sample& s, Var x, int64_t size) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  const t2c_dtype dt = t.dtype;
  std::vector<float> idx;
  for (int64_t i = 0; i < size; ++i) idx.push_back(static_cast<float>(i));
  TS2COREML_ASSIGN_OR_RETURN(Var pixels, ctx.ConstFloats(dt, idx, {size}));
  TS2COREML_ASSIGN_OR_RETURN(Var coord, Unnormalize(ctx, s, x, size));
  if (s.mode == kBicubic) return BicubicWeights(ctx, s, coord, pixels, size);
  TS2COREML_ASSIGN_OR_RETURN(coord, PadCoordinate(ctx, s, coord, size));
  if (s.mode == kNearest) {
    TS2COREML_ASSIGN_OR_RETURN(Var r, Unary(ctx, "round", coord));
    const TensorType wide(dt, {s.n, s.points, size});
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

/// [N, P, prod(in)]: the outer product over the spatial axes of each output point's weights.
Expected<Var> PointWeights(const LowerContext& ctx, const Sample& s, Var grid) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType gt, ctx.TypeOf(grid));
  const int64_t dims = static_cast<int64_t>(s.in.size());
  TS2COREML_ASSIGN_OR_RETURN(Var gp, EmitReshape(ctx, grid, {s.n, s.points, dims}));
  Var m = gp;
  int64_t pixels = 1;
  for (int64_t k = 0; k < dims; ++k) {  // x, y[, z]: axes from the last
    const int64_t axis = dims - 1 - k;
    TS2COREML_ASSIGN_OR_RETURN(Var begin, ctx.ConstInts({0, 0, k}));
    TS2COREML_ASSIGN_OR_RETURN(Var size, ctx.ConstInts({s.n, s.points, 1}));
    TS2COREML_ASSIGN_OR_RETURN(
        Var c, ctx.Emit1("slice_by_size", {{"x", gp}, {"begin", begin}, {"size", size}},
                         TensorType(gt.dtype, {s.n, s.points, 1})));
    TS2COREML_ASSIGN_OR_RETURN(Var w, AxisWeights(ctx, s, c, s.in[axis]));
    std::vector<int64_t> shape(static_cast<size_t>(dims + 2), 1);
    shape[0] = s.n;
    shape[1] = s.points;
    shape[static_cast<size_t>(axis + 2)] = s.in[axis];
    TS2COREML_ASSIGN_OR_RETURN(w, EmitReshape(ctx, w, shape));
    if (k == 0) {
      m = w;
    } else {
      TS2COREML_ASSIGN_OR_RETURN(m, EmitBinary(ctx, "mul", w, m));
    }
    pixels *= s.in[axis];
  }
  return EmitReshape(ctx, m, {s.n, s.points, pixels});
}

std::vector<int64_t> SampledShape(const Sample& s) {
  std::vector<int64_t> shape = {s.n, s.c};
  shape.insert(shape.end(), s.out.begin(), s.out.end());
  return shape;
}

}  // namespace

Status InferGridSampler(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Sample s, ReadSample(ctx));
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, SampledShape(s)));
}

Status LowerGridSampler(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Sample s, ReadSample(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kInput));
  TS2COREML_ASSIGN_OR_RETURN(Var g, ctx.Input(kGrid));
  TS2COREML_ASSIGN_OR_RETURN(Var m, PointWeights(ctx, s, g));
  int64_t pixels = 1;
  for (int64_t d : s.in) pixels *= d;
  TS2COREML_ASSIGN_OR_RETURN(Var xf, EmitReshape(ctx, x, {s.n, s.c, pixels}));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitMatmul(ctx, xf, m, false, true));
  TS2COREML_ASSIGN_OR_RETURN(y, EmitReshape(ctx, y, SampledShape(s)));
  return ctx.SetOutput(0, y);
}

}  // namespace ts2coreml::plugins::grid_sample
