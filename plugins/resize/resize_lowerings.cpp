/// Built-in lowerings of aten::upsample_bilinear2d and aten::upsample_nearest2d.
///
/// Which MIL op reproduces PyTorch is decided by sampling, not by a table: the host computes the
/// source coordinate PyTorch reads for every output row and column (ATen's float arithmetic) and
/// the coordinates of each MIL mode (Apple's definitions in image_resizing.py), and emits the first
/// mode that agrees on both axes. For the usual cases this gives:
///  - align_corners=True, output > 1:  resize_bilinear STRICT_ALIGN_CORNERS, whose grid
///    i * (in - 1) / (out - 1) is ATen's. (ALIGN_CORNERS differs when an output size is 1: it
///    samples (in - 1) / 2, ATen samples 0.)
///  - align_corners=False, output_size given (or a scale equal to out / in): resize_bilinear
///    UNALIGN_CORNERS, whose grid (i + 0.5) * in / out - 0.5 clamped to [0, in - 1] is ATen's
///    (ATen clamps negatives to 0 and reads index in - 1 twice past the end).
///    DEFAULT (TF's legacy i * (in - in/out) / (out - 1)) and OFFSET_CORNERS never match it.
///  - upsample_bilinear is not used: its align_corners=False grid recomputes the scale from the
///    sizes exactly as UNALIGN_CORNERS does, so it adds nothing resize_bilinear cannot express.
///  - nearest with integer ratios: upsample_nearest_neighbor with integer scale factors, whose
///    index floor(i / k) equals ATen's floor(i * float(in / out)) (checked per index).
/// When no mode matches (a user scale that is not out / in, align_corners with an output size of
/// 1, non-integer nearest ratios) the resize is lowered exactly anyway: bilinear as two matmuls
/// with constant interpolation matrices, nearest as gathers of constant source indices.
/// Antialiased resizes (F.interpolate(antialias=True): _upsample_bilinear2d_aa and
/// _upsample_bicubic2d_aa) are always the two matmuls, with ATen's antialias weights.
#include "resize/resize_lowerings.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "common/lowering_table.h"
#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "resize/grid_sample_lowerings.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {

namespace {

/// ATen's area_pixel_compute_scale in float: the source step per output pixel, from the corners
/// with align_corners, else 1 / scale when a positive scale is given, else in / out.
float AtenSourceScale(int64_t in, int64_t out, bool align_corners, std::optional<double> scale) {
  if (align_corners) {
    return out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
  }
  return scale.has_value() && *scale > 0 ? static_cast<float>(1.0 / *scale)
                                         : static_cast<float>(in) / static_cast<float>(out);
}

}  // namespace

std::vector<double> TorchBilinearGrid(int64_t in, int64_t out, bool align_corners,
                                      std::optional<double> scale) {
  // ATen: area_pixel_compute_scale / area_pixel_compute_source_index in opmath (float).
  const float s = AtenSourceScale(in, out, align_corners, scale);
  std::vector<double> grid;
  for (int64_t i = 0; i < out; ++i) {
    float src =
        align_corners ? s * static_cast<float>(i) : s * (static_cast<float>(i) + 0.5f) - 0.5f;
    src = std::max(src, 0.0f);
    grid.push_back(std::min(static_cast<double>(src), static_cast<double>(in - 1)));
  }
  return grid;
}

std::vector<int64_t> TorchNearestIndices(int64_t in, int64_t out, std::optional<double> scale) {
  std::vector<int64_t> idx;
  const float s = AtenSourceScale(in, out, /*align_corners=*/false, scale);
  for (int64_t i = 0; i < out; ++i) {
    // ATen's nearest_idx: shortcuts for equal and doubled sizes, else floor(i * scale) clamped.
    if (out == in) {
      idx.push_back(i);
    } else if (out == 2 * in) {
      idx.push_back(i >> 1);
    } else {
      const int64_t src = static_cast<int64_t>(std::floor(static_cast<float>(i) * s));
      idx.push_back(std::min(src, in - 1));
    }
  }
  return idx;
}

std::vector<double> MilResizeBilinearGrid(const char* sampling_mode, int64_t in, int64_t out) {
  const std::string mode = sampling_mode;
  const double xin = static_cast<double>(in), xout = static_cast<double>(out);
  std::vector<double> grid;
  auto clamp = [&](double g) { return std::min(xin - 1, std::max(0.0, g)); };
  for (int64_t i = 0; i < out; ++i) {
    const double di = static_cast<double>(i);
    if (mode == "STRICT_ALIGN_CORNERS" || mode == "ALIGN_CORNERS") {
      if (out == 1) {
        if (mode == "STRICT_ALIGN_CORNERS") return {};  // (in - 1) / 0: undefined
        grid.push_back((xin - 1) / 2);
        continue;
      }
      grid.push_back(clamp(di * (xin - 1) / (xout - 1)));
    } else if (mode == "UNALIGN_CORNERS") {
      const double spacing = xin / xout;
      grid.push_back(clamp(di * spacing + 0.5 * spacing - 0.5));
    } else if (mode == "DEFAULT") {
      if (out == 1) return {};
      grid.push_back(clamp(di * (xin - xin / xout) / (xout - 1)));
    } else if (mode == "OFFSET_CORNERS") {
      const double delta = std::max(1.0, xin - 1) / xout;
      grid.push_back(clamp(0.5 * delta + di * delta));
    } else {
      return {};
    }
  }
  return grid;
}

std::vector<int64_t> TorchNearestExactIndices(int64_t in, int64_t out,
                                              std::optional<double> scale) {
  // ATen's nearest_exact_idx: floor((i + 0.5) * scale) clamped, with no shortcut.
  const float s = AtenSourceScale(in, out, /*align_corners=*/false, scale);
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < out; ++i) {
    const float src = std::floor((static_cast<float>(i) + 0.5f) * s);
    idx.push_back(std::min(static_cast<int64_t>(src), in - 1));
  }
  return idx;
}

std::vector<float> TorchCubicMatrix(int64_t in, int64_t out, bool align_corners,
                                    std::optional<double> scale) {
  // ATen: area_pixel_compute_source_index with cubic=true (no clamping), four taps at
  // floor(src) - 1 .. floor(src) + 2 clamped to [0, in - 1], Keys' kernel with A = -0.75.
  const float s = AtenSourceScale(in, out, align_corners, scale);
  constexpr float kA = -0.75f;
  auto near = [](float x) { return ((kA + 2) * x - (kA + 3)) * x * x + 1; };
  auto far = [](float x) { return ((kA * x - 5 * kA) * x + 8 * kA) * x - 4 * kA; };
  std::vector<float> m(static_cast<size_t>(out * in), 0.0f);
  for (int64_t i = 0; i < out; ++i) {
    const float src =
        align_corners ? s * static_cast<float>(i) : s * (static_cast<float>(i) + 0.5f) - 0.5f;
    const float floor_src = std::floor(src);
    const float t = src - floor_src;
    const float coeffs[4] = {far(t + 1), near(t), near(1 - t), far(2 - t)};
    for (int64_t k = 0; k < 4; ++k) {
      const int64_t j = std::clamp(static_cast<int64_t>(floor_src) - 1 + k, int64_t{0}, in - 1);
      m[static_cast<size_t>(i * in + j)] += coeffs[k];
    }
  }
  return m;
}

std::vector<float> TorchAntialiasMatrix(int64_t in, int64_t out, bool align_corners,
                                        std::optional<double> scale, bool cubic) {
  // ATen's _compute_indices_weights_aa in float: the filter (triangle, or Keys' cubic with
  // A = -0.5) is stretched by the scale when downsampling, centred on scale * (i + 0.5), cut to
  // the taps inside [0, in) and normalised to sum 1.
  const float s = AtenSourceScale(in, out, align_corners, scale);
  const float half_taps = cubic ? 2.0f : 1.0f;
  const float support = s >= 1.0f ? half_taps * s : half_taps;
  const float invscale = s >= 1.0f ? 1.0f / s : 1.0f;
  auto filter = [cubic](float x) -> float {
    constexpr float kA = -0.5f;
    x = std::abs(x);
    if (!cubic) return x < 1.0f ? 1.0f - x : 0.0f;
    if (x < 1.0f) return ((kA + 2) * x - (kA + 3)) * x * x + 1;
    if (x < 2.0f) return ((kA * x - 5 * kA) * x + 8 * kA) * x - 4 * kA;
    return 0.0f;
  };
  std::vector<float> m(static_cast<size_t>(out * in), 0.0f);
  for (int64_t i = 0; i < out; ++i) {
    const float center = s * (static_cast<float>(i) + 0.5f);
    const int64_t lo = std::max(static_cast<int64_t>(center - support + 0.5f), int64_t{0});
    const int64_t hi = std::min(static_cast<int64_t>(center + support + 0.5f), in);
    float total = 0.0f;
    for (int64_t j = lo; j < hi; ++j) {
      const float w = filter((static_cast<float>(j) - center + 0.5f) * invscale);
      m[static_cast<size_t>(i * in + j)] = w;
      total += w;
    }
    if (total == 0.0f) continue;
    for (int64_t j = lo; j < hi; ++j) m[static_cast<size_t>(i * in + j)] /= total;
  }
  return m;
}

namespace {

/// Modes in the order tried; the one named after the node's align_corners goes first so that
/// degenerate cases (an input size of 1, where every mode samples 0) read naturally.
constexpr const char* kSamplingModes[] = {"STRICT_ALIGN_CORNERS", "UNALIGN_CORNERS",
                                          "ALIGN_CORNERS", "DEFAULT", "OFFSET_CORNERS"};

enum class Interp { kNearest, kNearestExact, kLinear, kCubic };

/// A resize resolved against its input: per spatial axis, the input and output sizes and the
/// user's scale when one was given (it changes the sampled coordinates).
struct Resize {
  Interp interp = Interp::kNearest;
  int64_t spatial = 0;  ///< 1, 2 or 3 trailing axes
  std::vector<int64_t> in, out;
  std::vector<std::optional<double>> scales;
  bool align_corners = false;
  bool antialias = false;  ///< _upsample_*_aa: a filter stretched over every source pixel
};

bool IsVec(const NodeView& ctx) {
  const std::string k = ctx.kind();
  return k.size() > 4 && k.compare(k.size() - 4, 4, ".vec") == 0;
}

/// Input layouts. Interpolating ops: .vec (input, output_size?, align_corners, scale_factors?);
/// explicit (self, output_size, align_corners, scales_d?/h?/w?...). Nearest ops have no
/// align_corners. One table serves every overload and dimensionality of an op, naming the
/// positions after their widest use ("scale_0" is .vec's scale_factors).
constexpr t2c_input_decl kInterpInputs[] = {
    sdk::Tensor("input"),
    sdk::Host("output_size", T2C_INPUT_OPTIONAL),
    sdk::Host("align_corners"),
    sdk::Host("scale_0", T2C_INPUT_OPTIONAL),
    sdk::Host("scale_1", T2C_INPUT_OPTIONAL),
    sdk::Host("scale_2", T2C_INPUT_OPTIONAL),
};
constexpr t2c_input_decl kNearestInputs[] = {
    sdk::Tensor("input"),
    sdk::Host("output_size", T2C_INPUT_OPTIONAL),
    sdk::Host("scale_0", T2C_INPUT_OPTIONAL),
    sdk::Host("scale_1", T2C_INPUT_OPTIONAL),
    sdk::Host("scale_2", T2C_INPUT_OPTIONAL),
};

/// Where a resize keeps its arguments, by name from its input table.
struct ResizeInputs {
  uint32_t input;
  uint32_t output_size;
  int align_corners;  ///< -1 for nearest
  uint32_t scales[3];
};

template <size_t N>
constexpr ResizeInputs ResizeInputsOf(const t2c_input_decl (&inputs)[N], bool interp) {
  return {sdk::InputIndex(inputs, "input"),
          sdk::InputIndex(inputs, "output_size"),
          interp ? static_cast<int>(sdk::InputIndex(inputs, "align_corners")) : -1,
          {sdk::InputIndex(inputs, "scale_0"), sdk::InputIndex(inputs, "scale_1"),
           sdk::InputIndex(inputs, "scale_2")}};
}
constexpr ResizeInputs kInterp = ResizeInputsOf(kInterpInputs, /*interp=*/true);
constexpr ResizeInputs kNearest = ResizeInputsOf(kNearestInputs, /*interp=*/false);

/// The interpolation and spatial rank named by the op.
Expected<Resize> ResizeKind(const NodeView& ctx) {
  const std::string base = OpBaseName(ctx.kind());
  Resize r;
  // "..._2d" or "..._2d_aa": the digit before the last 'd'.
  const size_t d = base.rfind('d');
  r.spatial = d != std::string::npos && d > 0 ? base[d - 1] - '0' : 0;
  if (base.find("nearest_exact") != std::string::npos) {
    r.interp = Interp::kNearestExact;
  } else if (base.find("nearest") != std::string::npos) {
    r.interp = Interp::kNearest;
  } else if (base.find("bicubic") != std::string::npos) {
    r.interp = Interp::kCubic;
  } else {
    r.interp = Interp::kLinear;
  }
  r.antialias = base.size() > 3 && base.compare(base.size() - 3, 3, "_aa") == 0;
  if (r.spatial < 1 || r.spatial > 3) return ctx.Error(ctx.kind() + ": unknown resize");
  return r;
}

/// Reads the scales: .vec's scale_factors list (also giving the output size when output_size is
/// None, as ATen's compute_output_size does), or the explicit per-axis scales.
Status ReadScales(const NodeView& ctx, const ResizeInputs& in, Resize* r) {
  const std::string op = ctx.kind();
  const size_t n = static_cast<size_t>(r->spatial);
  r->scales.assign(n, std::nullopt);
  if (IsVec(ctx)) {
    if (ctx.num_inputs() <= in.scales[0] || ctx.IsNone(in.scales[0])) return Status::Ok();
    TS2COREML_ASSIGN_OR_RETURN(std::vector<double> s, ctx.Floats(in.scales[0]));
    if (s.size() != n) {
      return ctx.Error(op + ": scale_factors has " + std::to_string(s.size()) +
                       " entries, expected " + std::to_string(n));
    }
    for (size_t i = 0; i < n; ++i) {
      if (!(s[i] > 0)) {
        return ctx.Error(op + ": scale factor " + FormatNumber(s[i]) + " must be positive");
      }
      r->scales[i] = s[i];
    }
    return Status::Ok();
  }
  for (size_t i = 0; i < n; ++i) {
    const uint32_t k = in.scales[i];
    if (ctx.num_inputs() > k && !ctx.IsNone(k)) {
      TS2COREML_ASSIGN_OR_RETURN(r->scales[i], ctx.Float(k));
    }
  }
  return Status::Ok();
}

/// Reads the node.
Expected<Resize> ReadResize(const NodeView& ctx, const ResizeInputs& in) {
  const std::string op = ctx.kind();
  TS2COREML_ASSIGN_OR_RETURN(Resize r, ResizeKind(ctx));
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(in.input));
  if (x.rank() != r.spatial + 2) {
    return ctx.Error(op + ": expects a " + std::to_string(r.spatial + 2) +
                     "-D [N, C, spatial...] input, got " + FormatInts(x.shape));
  }
  r.in.assign(x.shape.end() - r.spatial, x.shape.end());
  if (in.align_corners >= 0) {
    TS2COREML_ASSIGN_OR_RETURN(r.align_corners, ctx.Bool(static_cast<uint32_t>(in.align_corners)));
  }
  TS2COREML_RETURN_IF_ERROR(ReadScales(ctx, in, &r));
  if (!ctx.IsNone(in.output_size)) {
    TS2COREML_ASSIGN_OR_RETURN(r.out, ctx.Ints(in.output_size));
  } else if (IsVec(ctx) && r.scales[0].has_value()) {
    for (int64_t i = 0; i < r.spatial; ++i) {
      r.out.push_back(static_cast<int64_t>(static_cast<double>(r.in[i]) * *r.scales[i]));
    }
  } else {
    return ctx.Error(op + ": neither output_size nor scale_factors is given");
  }
  if (static_cast<int64_t>(r.out.size()) != r.spatial ||
      !std::all_of(r.out.begin(), r.out.end(), [](int64_t v) { return v > 0; })) {
    return ctx.Error(op + ": output size " + FormatInts(r.out) + " must be " +
                     std::to_string(r.spatial) + " positive size(s)");
  }
  return r;
}

Status InferResize(InferContext& ctx, const ResizeInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(Resize r, ReadResize(ctx, in));
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(in.input));
  std::vector<int64_t> shape = {x.shape[0], x.shape[1]};
  shape.insert(shape.end(), r.out.begin(), r.out.end());
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, shape));
}
Status InferInterp(InferContext& ctx) { return InferResize(ctx, kInterp); }
Status InferNearest(InferContext& ctx) { return InferResize(ctx, kNearest); }

bool SameGrid(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    // Float-rounding differences only; distinct modes differ by fractions of a pixel.
    if (std::abs(a[i] - b[i]) > 1e-4) return false;
  }
  return true;
}

/// The [out, in] matrix of linear interpolation weights at `grid` (ATen's lambda pairs).
std::vector<float> InterpolationMatrix(const std::vector<double>& grid, int64_t in) {
  const int64_t out = static_cast<int64_t>(grid.size());
  std::vector<float> m(static_cast<size_t>(out * in), 0.0f);
  for (int64_t i = 0; i < out; ++i) {
    const int64_t lo = std::min(static_cast<int64_t>(grid[i]), in - 1);
    const int64_t hi = lo < in - 1 ? lo + 1 : lo;
    const float lambda =
        std::min(std::max(static_cast<float>(grid[i] - static_cast<double>(lo)), 0.0f), 1.0f);
    m[i * in + lo] += 1.0f - lambda;
    m[i * in + hi] += lambda;
  }
  return m;
}

bool IsIdentityMatrix(const std::vector<float>& m, int64_t out, int64_t in) {
  if (out != in) return false;
  for (int64_t i = 0; i < out; ++i) {
    for (int64_t j = 0; j < in; ++j) {
      if (m[static_cast<size_t>(i * in + j)] != (i == j ? 1.0f : 0.0f)) return false;
    }
  }
  return true;
}

std::vector<float> Transposed(const std::vector<float>& m, int64_t rows, int64_t cols) {
  std::vector<float> t(m.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) t[c * rows + r] = m[r * cols + c];
  }
  return t;
}

/// `x` with axis `axis` replaced by `m` ([out, in], row i the weights of output i) times it.
Expected<Var> ApplyAlongAxis(const LowerContext& ctx, Var x, int64_t axis,
                             const std::vector<float>& m, int64_t out, int64_t in) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  if (axis == t.rank() - 1) {
    TS2COREML_ASSIGN_OR_RETURN(Var mt, ctx.ConstFloats(t.dtype, Transposed(m, out, in), {in, out}));
    return EmitMatmul(ctx, x, mt, false, false);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var mv, ctx.ConstFloats(t.dtype, m, {out, in}));
  if (axis == t.rank() - 2) return EmitMatmul(ctx, mv, x, false, false);
  // [outer, in, inner]: matmul broadcasts the matrix over the outer axis.
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= t.shape[i];
  for (int64_t i = axis + 1; i < t.rank(); ++i) inner *= t.shape[i];
  TS2COREML_ASSIGN_OR_RETURN(Var x3, EmitReshape(ctx, x, {outer, in, inner}));
  TS2COREML_ASSIGN_OR_RETURN(Var y3, EmitMatmul(ctx, mv, x3, false, false));
  std::vector<int64_t> shape = t.shape;
  shape[static_cast<size_t>(axis)] = out;
  return EmitReshape(ctx, y3, shape);
}

/// `x` gathered at `idx` along `axis` (unchanged when `idx` is the identity).
Expected<Var> GatherAlongAxis(const LowerContext& ctx, Var x, int64_t axis,
                              const std::vector<int64_t>& idx, int64_t in) {
  bool identity = static_cast<int64_t>(idx.size()) == in;
  for (size_t i = 0; identity && i < idx.size(); ++i) identity = idx[i] == static_cast<int64_t>(i);
  if (identity) return x;
  return EmitGatherConst(ctx, x, axis, idx, {static_cast<int64_t>(idx.size())});
}

/// 2-D bilinear through resize_bilinear when one of its modes samples ATen's points.
Expected<bool> TryResizeBilinear(LowerContext& ctx, const Resize& r, Var x) {
  if (r.spatial != 2 || r.interp != Interp::kLinear) return false;
  const std::vector<double> gh = TorchBilinearGrid(r.in[0], r.out[0], r.align_corners, r.scales[0]);
  const std::vector<double> gw = TorchBilinearGrid(r.in[1], r.out[1], r.align_corners, r.scales[1]);
  std::vector<const char*> modes(std::begin(kSamplingModes), std::end(kSamplingModes));
  if (!r.align_corners) std::swap(modes[0], modes[1]);
  for (const char* mode : modes) {
    if (!SameGrid(gh, MilResizeBilinearGrid(mode, r.in[0], r.out[0])) ||
        !SameGrid(gw, MilResizeBilinearGrid(mode, r.in[1], r.out[1]))) {
      continue;
    }
    TS2COREML_ASSIGN_OR_RETURN(Var h, ctx.ConstInt(r.out[0]));
    TS2COREML_ASSIGN_OR_RETURN(Var w, ctx.ConstInt(r.out[1]));
    TS2COREML_ASSIGN_OR_RETURN(Var m, ctx.ConstString(mode));
    TS2COREML_RETURN_IF_ERROR(ctx.EmitOutput(
        "resize_bilinear",
        {{"x", x}, {"target_size_height", h}, {"target_size_width", w}, {"sampling_mode", m}}));
    return true;
  }
  return false;
}

/// The [out, in] weights of spatial axis `s`.
std::vector<float> AxisMatrix(const Resize& r, int64_t s) {
  const int64_t in = r.in[s], out = r.out[s];
  if (r.antialias) {
    return TorchAntialiasMatrix(in, out, r.align_corners, r.scales[s], r.interp == Interp::kCubic);
  }
  if (r.interp == Interp::kCubic) return TorchCubicMatrix(in, out, r.align_corners, r.scales[s]);
  return InterpolationMatrix(TorchBilinearGrid(in, out, r.align_corners, r.scales[s]), in);
}

/// Interpolation by constant [out, in] matrices, one axis at a time (every mode is separable).
Status LowerInterp(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Resize r, ReadResize(ctx, kInterp));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kInterp.input));
  if (!r.antialias) {
    TS2COREML_ASSIGN_OR_RETURN(bool done, TryResizeBilinear(ctx, r, x));
    if (done) return Status::Ok();
  }
  Var y = x;
  for (int64_t s = r.spatial - 1; s >= 0; --s) {
    const int64_t in = r.in[s], out = r.out[s];
    const std::vector<float> m = AxisMatrix(r, s);
    if (IsIdentityMatrix(m, out, in)) continue;
    TS2COREML_ASSIGN_OR_RETURN(y, ApplyAlongAxis(ctx, y, 2 + s, m, out, in));
  }
  return BindOutput(ctx, y, x);
}

/// Whether nearest indices are floor(i / k) for an integer k = out / in.
bool IntegerUpsample(const std::vector<int64_t>& idx, int64_t in, int64_t out) {
  if (out % in != 0) return false;
  const int64_t k = out / in;
  for (size_t i = 0; i < idx.size(); ++i) {
    if (idx[i] != static_cast<int64_t>(i) / k) return false;
  }
  return true;
}

Status LowerNearest(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Resize r, ReadResize(ctx, kNearest));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kNearest.input));
  std::vector<std::vector<int64_t>> idx;
  bool integer = true;
  for (int64_t s = 0; s < r.spatial; ++s) {
    idx.push_back(r.interp == Interp::kNearestExact
                      ? TorchNearestExactIndices(r.in[s], r.out[s], r.scales[s])
                      : TorchNearestIndices(r.in[s], r.out[s], r.scales[s]));
    integer &= IntegerUpsample(idx.back(), r.in[s], r.out[s]);
  }
  if (r.spatial == 2 && integer) {
    TS2COREML_ASSIGN_OR_RETURN(Var sh, ctx.ConstInt(r.out[0] / r.in[0]));
    TS2COREML_ASSIGN_OR_RETURN(Var sw, ctx.ConstInt(r.out[1] / r.in[1]));
    return ctx.EmitOutput("upsample_nearest_neighbor",
                          {{"x", x}, {"scale_factor_height", sh}, {"scale_factor_width", sw}});
  }
  // Gather the source indices ATen reads, axis by axis.
  Var y = x;
  for (int64_t s = 0; s < r.spatial; ++s) {
    TS2COREML_ASSIGN_OR_RETURN(y, GatherAlongAxis(ctx, y, 2 + s, idx[s], r.in[s]));
  }
  return BindOutput(ctx, y, x);
}

constexpr const char* kInterpOps[] = {
    "aten::upsample_linear1d.vec",       "aten::upsample_linear1d",
    "aten::upsample_bilinear2d.vec",     "aten::upsample_bilinear2d",
    "aten::upsample_trilinear3d.vec",    "aten::upsample_trilinear3d",
    "aten::upsample_bicubic2d.vec",      "aten::upsample_bicubic2d",
    "aten::_upsample_bilinear2d_aa.vec", "aten::_upsample_bilinear2d_aa",
    "aten::_upsample_bicubic2d_aa.vec",  "aten::_upsample_bicubic2d_aa"};
constexpr const char* kNearestOps[] = {
    "aten::upsample_nearest1d.vec",        "aten::upsample_nearest1d",
    "aten::upsample_nearest2d.vec",        "aten::upsample_nearest2d",
    "aten::upsample_nearest3d.vec",        "aten::upsample_nearest3d",
    "aten::_upsample_nearest_exact1d.vec", "aten::_upsample_nearest_exact1d",
    "aten::_upsample_nearest_exact2d.vec", "aten::_upsample_nearest_exact2d",
    "aten::_upsample_nearest_exact3d.vec", "aten::_upsample_nearest_exact3d"};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("upsample_interpolate", kInterpOps, kInterpInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferInterp>, sdk::LowerFn<LowerInterp>),
    sdk::Lowering("upsample_nearest", kNearestOps, kNearestInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferNearest>, sdk::LowerFn<LowerNearest>),
};

/// This file's lowerings, then grid_sample_lowerings.cpp's.
constexpr auto kAllLowerings = ConcatLowerings(kLowerings, grid_sample::kLowerings);

constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "ts2coreml.resize",
    "0.2.0",         kAllLowerings.data(),    static_cast<uint32_t>(kAllLowerings.size())};

}  // namespace

const t2c_plugin_info* ResizePluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
