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
#include "resize/resize_lowerings.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {

std::vector<double> TorchBilinearGrid(int64_t in, int64_t out, bool align_corners,
                                      std::optional<double> scale) {
  // ATen: area_pixel_compute_scale / area_pixel_compute_source_index in opmath (float).
  float s = 0.0f;
  if (align_corners) {
    s = out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
  } else {
    s = scale.has_value() && *scale > 0 ? static_cast<float>(1.0 / *scale)
                                        : static_cast<float>(in) / static_cast<float>(out);
  }
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
  const float s = scale.has_value() && *scale > 0
                      ? static_cast<float>(1.0 / *scale)
                      : static_cast<float>(in) / static_cast<float>(out);
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

namespace {

/// Modes in the order tried; the one named after the node's align_corners goes first so that
/// degenerate cases (an input size of 1, where every mode samples 0) read naturally.
constexpr const char* kSamplingModes[] = {"STRICT_ALIGN_CORNERS", "UNALIGN_CORNERS",
                                          "ALIGN_CORNERS", "DEFAULT", "OFFSET_CORNERS"};

/// A resize resolved against its input.
struct Resize {
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  bool align_corners = false;
  std::optional<double> scale_h, scale_w;
};

bool IsVec(const NodeView& ctx) {
  const std::string k = ctx.kind();
  return k.size() > 4 && k.compare(k.size() - 4, 4, ".vec") == 0;
}

/// Input layouts: bilinear .vec (input, output_size?, align_corners, scale_factors?), bilinear
/// (self, output_size, align_corners, scales_h?, scales_w?), nearest .vec (input, output_size?,
/// scale_factors?), nearest (self, output_size, scales_h?, scales_w?). One table serves both
/// overloads of an op, naming the position .vec keeps scale_factors at "scale_factors_or_scales_h".
constexpr t2c_input_decl kBilinearInputs[] = {
    sdk::Tensor("input"),
    sdk::Host("output_size", T2C_INPUT_OPTIONAL),
    sdk::Host("align_corners"),
    sdk::Host("scale_factors_or_scales_h", T2C_INPUT_OPTIONAL),
    sdk::Host("scales_w", T2C_INPUT_OPTIONAL),
};
constexpr t2c_input_decl kNearestInputs[] = {
    sdk::Tensor("input"),
    sdk::Host("output_size", T2C_INPUT_OPTIONAL),
    sdk::Host("scale_factors_or_scales_h", T2C_INPUT_OPTIONAL),
    sdk::Host("scales_w", T2C_INPUT_OPTIONAL),
};

/// Where a resize keeps its arguments, by name from its input table.
struct ResizeInputs {
  uint32_t input;
  uint32_t output_size;
  int align_corners;  ///< -1 for nearest
  uint32_t scale_factors_or_scales_h;
  uint32_t scales_w;
};

template <size_t N>
constexpr ResizeInputs ResizeInputsOf(const t2c_input_decl (&inputs)[N], bool bilinear) {
  return {sdk::InputIndex(inputs, "input"), sdk::InputIndex(inputs, "output_size"),
          bilinear ? static_cast<int>(sdk::InputIndex(inputs, "align_corners")) : -1,
          sdk::InputIndex(inputs, "scale_factors_or_scales_h"),
          sdk::InputIndex(inputs, "scales_w")};
}
constexpr ResizeInputs kBilinear = ResizeInputsOf(kBilinearInputs, /*bilinear=*/true);
constexpr ResizeInputs kNearest = ResizeInputsOf(kNearestInputs, /*bilinear=*/false);

/// Reads the node.
Expected<Resize> ReadResize(const NodeView& ctx, const ResizeInputs& in) {
  const std::string op = ctx.kind();
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(in.input));
  if (x.rank() != 4) {
    return ctx.Error(op + ": expects a 4-D [N, C, H, W] input, got " + FormatInts(x.shape));
  }
  Resize r;
  r.in_h = x.shape[2];
  r.in_w = x.shape[3];
  if (in.align_corners >= 0) {
    TS2COREML_ASSIGN_OR_RETURN(r.align_corners, ctx.Bool(in.align_corners));
  }
  if (IsVec(ctx)) {
    if (!ctx.IsNone(in.scale_factors_or_scales_h)) {
      // The host API reads int lists and single numbers, not float lists.
      return ctx.Error(
          op +
          ": scale_factors are not supported (plugins cannot read a float list); call F.interpolate with size=..., or with recompute_scale_factor=True so the traced graph holds the output size");
    }
    if (ctx.IsNone(in.output_size)) {
      return ctx.Error(op + ": neither output_size nor scale_factors is given");
    }
  } else {
    for (uint32_t i : {in.scale_factors_or_scales_h, in.scales_w}) {
      if (ctx.num_inputs() > i && !ctx.IsNone(i)) {
        TS2COREML_ASSIGN_OR_RETURN(double s, ctx.Float(i));
        (i == in.scale_factors_or_scales_h ? r.scale_h : r.scale_w) = s;
      }
    }
  }
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> size, ctx.Ints(in.output_size));
  if (size.size() != 2 || size[0] <= 0 || size[1] <= 0) {
    return ctx.Error(op + ": output_size " + FormatInts(size) + " must be two positive sizes");
  }
  r.out_h = size[0];
  r.out_w = size[1];
  return r;
}

Status InferResize(InferContext& ctx, const ResizeInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(Resize r, ReadResize(ctx, in));
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(in.input));
  return ctx.SetOutputType(0,
                           TensorType(T2C_DTYPE_FP32, {x.shape[0], x.shape[1], r.out_h, r.out_w}));
}
Status InferBilinear(InferContext& ctx) { return InferResize(ctx, kBilinear); }
Status InferNearest(InferContext& ctx) { return InferResize(ctx, kNearest); }

bool SameGrid(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    // Float-rounding differences only; distinct modes differ by fractions of a pixel.
    if (std::abs(a[i] - b[i]) > 1e-4) return false;
  }
  return true;
}

bool IsIdentity(const std::vector<double>& grid, int64_t in) {
  if (static_cast<int64_t>(grid.size()) != in) return false;
  for (size_t i = 0; i < grid.size(); ++i) {
    if (grid[i] != static_cast<double>(i)) return false;
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

std::vector<float> Transposed(const std::vector<float>& m, int64_t rows, int64_t cols) {
  std::vector<float> t(m.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) t[c * rows + r] = m[r * cols + c];
  }
  return t;
}

Status LowerBilinear(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Resize r, ReadResize(ctx, kBilinear));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kBilinear.input));
  const std::vector<double> gh = TorchBilinearGrid(r.in_h, r.out_h, r.align_corners, r.scale_h);
  const std::vector<double> gw = TorchBilinearGrid(r.in_w, r.out_w, r.align_corners, r.scale_w);
  std::vector<const char*> modes(std::begin(kSamplingModes), std::end(kSamplingModes));
  if (!r.align_corners) std::swap(modes[0], modes[1]);
  for (const char* mode : modes) {
    if (!SameGrid(gh, MilResizeBilinearGrid(mode, r.in_h, r.out_h)) ||
        !SameGrid(gw, MilResizeBilinearGrid(mode, r.in_w, r.out_w))) {
      continue;
    }
    TS2COREML_ASSIGN_OR_RETURN(Var h, ctx.ConstInt(r.out_h));
    TS2COREML_ASSIGN_OR_RETURN(Var w, ctx.ConstInt(r.out_w));
    TS2COREML_ASSIGN_OR_RETURN(Var m, ctx.ConstString(mode));
    return ctx.EmitOutput(
        "resize_bilinear",
        {{"x", x}, {"target_size_height", h}, {"target_size_width", w}, {"sampling_mode", m}});
  }
  // No MIL mode samples ATen's points: interpolate with constant matrices, width then height.
  Var y = x;
  if (!IsIdentity(gw, r.in_w)) {
    const std::vector<float> aw = InterpolationMatrix(gw, r.in_w);
    TS2COREML_ASSIGN_OR_RETURN(
        Var awt, ctx.ConstFloats(out.dtype, Transposed(aw, r.out_w, r.in_w), {r.in_w, r.out_w}));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitMatmul(ctx, y, awt, false, false));
  }
  if (!IsIdentity(gh, r.in_h)) {
    TS2COREML_ASSIGN_OR_RETURN(
        Var ah, ctx.ConstFloats(out.dtype, InterpolationMatrix(gh, r.in_h), {r.out_h, r.in_h}));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitMatmul(ctx, ah, y, false, false));
  }
  if (y.id == x.id) return ctx.EmitOutput("identity", {{"x", x}});
  return ctx.SetOutput(0, y);
}

Status LowerNearest(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Resize r, ReadResize(ctx, kNearest));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kNearest.input));
  const std::vector<int64_t> ih = TorchNearestIndices(r.in_h, r.out_h, r.scale_h);
  const std::vector<int64_t> iw = TorchNearestIndices(r.in_w, r.out_w, r.scale_w);
  auto integer_upsample = [](const std::vector<int64_t>& idx, int64_t in, int64_t out) {
    if (out % in != 0) return false;
    const int64_t k = out / in;
    for (size_t i = 0; i < idx.size(); ++i) {
      if (idx[i] != static_cast<int64_t>(i) / k) return false;
    }
    return true;
  };
  if (integer_upsample(ih, r.in_h, r.out_h) && integer_upsample(iw, r.in_w, r.out_w)) {
    TS2COREML_ASSIGN_OR_RETURN(Var sh, ctx.ConstInt(r.out_h / r.in_h));
    TS2COREML_ASSIGN_OR_RETURN(Var sw, ctx.ConstInt(r.out_w / r.in_w));
    return ctx.EmitOutput("upsample_nearest_neighbor",
                          {{"x", x}, {"scale_factor_height", sh}, {"scale_factor_width", sw}});
  }
  // Gather the source rows and columns ATen reads.
  Var y = x;
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  for (int axis : {2, 3}) {
    const std::vector<int64_t>& idx = axis == 2 ? ih : iw;
    const int64_t in = axis == 2 ? r.in_h : r.in_w;
    bool identity = static_cast<int64_t>(idx.size()) == in;
    for (size_t i = 0; identity && i < idx.size(); ++i) identity = idx[i] == int64_t(i);
    if (identity) continue;
    t.shape[axis] = static_cast<int64_t>(idx.size());
    TS2COREML_ASSIGN_OR_RETURN(Var indices, ctx.ConstInts(idx));
    TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(axis));
    TS2COREML_ASSIGN_OR_RETURN(
        y, ctx.Emit1("gather", {{"x", y}, {"indices", indices}, {"axis", axis_var}}, t));
  }
  if (y.id == x.id) return ctx.EmitOutput("identity", {{"x", x}});
  return ctx.SetOutput(0, y);
}

constexpr const char* kBilinearOps[] = {"aten::upsample_bilinear2d.vec",
                                        "aten::upsample_bilinear2d"};
constexpr const char* kNearestOps[] = {"aten::upsample_nearest2d.vec", "aten::upsample_nearest2d"};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("upsample_bilinear2d", kBilinearOps, kBilinearInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferBilinear>, sdk::LowerFn<LowerBilinear>),
    sdk::Lowering("upsample_nearest2d", kNearestOps, kNearestInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferNearest>, sdk::LowerFn<LowerNearest>),
};

constexpr t2c_plugin_info kInfo = sdk::PluginInfo("ts2coreml.resize", "0.1.0", kLowerings);

}  // namespace

const t2c_plugin_info* ResizePluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
