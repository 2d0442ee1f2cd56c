// Image resizing (MIL defs: image_resizing.py, iOS15 and iOS16) on the last two dimensions:
// upsample_bilinear (align_corners, half_pixel_centers), resize_bilinear (sampling_mode),
// upsample_nearest_neighbor, resize_nearest_neighbor.
//
// Bilinear resizing is separable: each axis is interpolated linearly at the grid points Apple's
// definition gives (clamped to [0, in - 1]), height first, then width.
#include <algorithm>
#include <cmath>

#include "core/interp/op_context.h"
#include "core/interp/op_table.h"

namespace ts2coreml::interp {
namespace {

/// Linear interpolation of `x` along `axis` at the source coordinates `grid`.
at::Tensor Lerp(const at::Tensor& x, int64_t axis, const std::vector<double>& grid) {
  const int64_t in = x.size(axis);
  std::vector<int64_t> lo, hi;
  std::vector<float> w;
  for (double g : grid) {
    g = std::min<double>(std::max<double>(g, 0.0), static_cast<double>(in - 1));
    const int64_t l = static_cast<int64_t>(std::floor(g));
    lo.push_back(l);
    hi.push_back(std::min(l + 1, in - 1));
    w.push_back(static_cast<float>(g - l));
  }
  std::vector<int64_t> wshape(static_cast<size_t>(x.dim()), 1);
  wshape[static_cast<size_t>(axis)] = static_cast<int64_t>(grid.size());
  const at::Tensor wt = at::tensor(w).reshape(wshape);
  const at::Tensor a = x.index_select(axis, at::tensor(lo, at::kLong));
  const at::Tensor b = x.index_select(axis, at::tensor(hi, at::kLong));
  return a + (b - a) * wt;
}

/// Nearest source index: floor(i * in / out), clamped.
at::Tensor Nearest(const at::Tensor& x, int64_t axis, int64_t out) {
  const int64_t in = x.size(axis);
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < out; ++i) {
    idx.push_back(std::min<int64_t>(
        static_cast<int64_t>(std::floor(static_cast<double>(i) * in / out)), in - 1));
  }
  return x.index_select(axis, at::tensor(idx, at::kLong));
}

enum class Grid { kAlignCorners, kStrictAlignCorners, kHalfPixel, kAsymmetric, kDefault, kOffset };

std::vector<double> GridPoints(Grid mode, int64_t in, int64_t out) {
  std::vector<double> g;
  for (int64_t i = 0; i < out; ++i) {
    const double di = static_cast<double>(i);
    switch (mode) {
      case Grid::kStrictAlignCorners:
      case Grid::kAlignCorners:
        if (out == 1) {
          g.push_back(mode == Grid::kAlignCorners ? (in - 1) / 2.0 : 0.0);
        } else {
          g.push_back(di * (in - 1) / (out - 1));
        }
        break;
      case Grid::kHalfPixel: {
        const double spacing = static_cast<double>(in) / out;
        g.push_back(di * spacing + 0.5 * spacing - 0.5);
        break;
      }
      case Grid::kAsymmetric:
        g.push_back(di * in / out);
        break;
      case Grid::kDefault:
        g.push_back(out == 1 ? 0.0 : di * (in - static_cast<double>(in) / out) / (out - 1));
        break;
      case Grid::kOffset: {
        const double delta = std::max<double>(1.0, in - 1) / out;
        g.push_back(0.5 * delta + di * delta);
        break;
      }
    }
  }
  return g;
}

at::Tensor Bilinear(const at::Tensor& x, int64_t h_out, int64_t w_out, Grid mode) {
  at::Tensor y = Lerp(x, x.dim() - 2, GridPoints(mode, x.size(-2), h_out));
  return Lerp(y, x.dim() - 1, GridPoints(mode, x.size(-1), w_out));
}

void CheckRank(OpContext& c, const at::Tensor& x) {
  if (x.dim() < 3) c.Fail("x must have rank 3 or more");
}

void UpsampleBilinear(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  CheckRank(c, x);
  const double sh = c.Float("scale_factor_height", 1), sw = c.Float("scale_factor_width", 1);
  const bool align = c.Bool("align_corners", true);
  const bool half = c.Bool("half_pixel_centers", !align);
  if (align && half) c.Fail("align_corners and half_pixel_centers cannot both be true");
  const Grid mode = align ? Grid::kStrictAlignCorners : half ? Grid::kHalfPixel : Grid::kAsymmetric;
  c.SetOutput(0, Bilinear(x, static_cast<int64_t>(std::floor(x.size(-2) * sh)),
                          static_cast<int64_t>(std::floor(x.size(-1) * sw)), mode));
}

void ResizeBilinear(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  CheckRank(c, x);
  const std::string m = c.String("sampling_mode", "DEFAULT");
  Grid mode;
  if (m == "STRICT_ALIGN_CORNERS")
    mode = Grid::kStrictAlignCorners;
  else if (m == "ALIGN_CORNERS")
    mode = Grid::kAlignCorners;
  else if (m == "UNALIGN_CORNERS")
    mode = Grid::kHalfPixel;
  else if (m == "DEFAULT")
    mode = Grid::kDefault;
  else if (m == "OFFSET_CORNERS")
    mode = Grid::kOffset;
  else
    c.Fail("unknown sampling_mode '" + m + "'");
  c.SetOutput(0, Bilinear(x, c.Int("target_size_height", 1), c.Int("target_size_width", 1), mode));
}

void UpsampleNearest(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  CheckRank(c, x);
  const double sh = c.Float("scale_factor_height", 1), sw = c.Float("scale_factor_width", 1);
  at::Tensor y = Nearest(x, x.dim() - 2, static_cast<int64_t>(std::floor(x.size(-2) * sh)));
  c.SetOutput(0, Nearest(y, x.dim() - 1, static_cast<int64_t>(std::floor(x.size(-1) * sw))));
}

void ResizeNearest(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  CheckRank(c, x);
  at::Tensor y = Nearest(x, x.dim() - 2, c.Int("target_size_height"));
  c.SetOutput(0, Nearest(y, x.dim() - 1, c.Int("target_size_width")));
}

}  // namespace

void RegisterResizeOps(OpTable& t) {
  t.Add("upsample_bilinear", UpsampleBilinear);
  t.Add("resize_bilinear", ResizeBilinear);
  t.Add("upsample_nearest_neighbor", UpsampleNearest);
  t.Add("resize_nearest_neighbor", ResizeNearest);
}

}  // namespace ts2coreml::interp
