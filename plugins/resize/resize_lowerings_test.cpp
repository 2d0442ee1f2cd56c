/// Tests of the resize family: the host model of ATen's sampling grids against values PyTorch
/// computed, the MIL mode chosen for each case (align_corners x output size x scale), the exact
/// fallbacks when no mode matches, and the refusals.
#include "resize/resize_lowerings.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(ResizePluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

struct BilinearGridCase {
  int64_t in, out;
  bool align_corners;
  std::optional<double> scale;
  std::vector<double> expected;
};

TEST(ResizeTest, BilinearGridMatchesPyTorch) {
  // Generated with /usr/bin/python3: aten::upsample_bilinear2d(arange(in) as [1, 1, 2, in],
  // [2, out], align_corners, None, scale) -- on arange input the output is the sampled coordinate.
  const std::vector<BilinearGridCase> cases = {
      {2, 5, false, std::nullopt, {0, 0.1, 0.5, 0.9, 1}},
      {2, 5, true, std::nullopt, {0, 0.25, 0.5, 0.75, 1}},
      {2, 6, false, std::nullopt, {0, 1.490116e-08, 0.3333334, 0.6666667, 1, 1}},
      {2, 6, true, std::nullopt, {0, 0.2, 0.4, 0.6, 0.8, 1}},
      {4, 7, false, std::nullopt, {0, 0.3571429, 0.9285715, 1.5, 2.071429, 2.642857, 3}},
      {4, 7, true, std::nullopt, {0, 0.5, 1, 1.5, 2, 2.5, 3}},
      {7, 3, false, std::nullopt, {0.6666666, 3, 5.333333}},
      {7, 3, true, std::nullopt, {0, 3, 6}},
      {5, 1, false, std::nullopt, {2}},
      {5, 1, true, std::nullopt, {0}},
      {1, 4, false, std::nullopt, {0, 0, 0, 0}},
      {1, 4, true, std::nullopt, {0, 0, 0, 0}},
      {6, 6, false, std::nullopt, {0, 1, 2, 3, 4, 5}},
      {6, 6, true, std::nullopt, {0, 1, 2, 3, 4, 5}},
      {3,
       9,
       false,
       std::nullopt,
       {0, 1.490116e-08, 0.3333334, 0.6666667, 1, 1.333333, 1.666667, 2, 2}},
      {3, 9, true, std::nullopt, {0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2}},
      {10, 4, false, std::nullopt, {0.75, 3.25, 5.75, 8.25}},
      {10, 4, true, std::nullopt, {0, 3, 6, 9}},
      {5, 7, false, 1.5, {0, 0.5, 1.166667, 1.833333, 2.5, 3.166667, 3.833333}},
      {4, 10, false, 2.5, {0, 0.1, 0.5, 0.9, 1.3, 1.7, 2.1, 2.5, 2.9, 3}},
      {3, 6, false, 2.0, {0, 0.25, 0.75, 1.25, 1.75, 2}},
      {5, 7, true, 1.5, {0, 0.6666667, 1.333333, 2, 2.666667, 3.333333, 4}},
  };
  for (const BilinearGridCase& c : cases) {
    SCOPED_TRACE(std::to_string(c.in) + " -> " + std::to_string(c.out) +
                 (c.align_corners ? " align_corners" : "") +
                 (c.scale ? " scale " + std::to_string(*c.scale) : ""));
    const std::vector<double> grid = TorchBilinearGrid(c.in, c.out, c.align_corners, c.scale);
    ASSERT_EQ(grid.size(), c.expected.size());
    for (size_t i = 0; i < grid.size(); ++i) EXPECT_NEAR(grid[i], c.expected[i], 1e-5) << i;
  }
}

struct NearestCase {
  int64_t in, out;
  std::optional<double> scale;
  std::vector<int64_t> expected;
};

TEST(ResizeTest, NearestIndicesMatchPyTorch) {
  // Generated like the bilinear table with aten::upsample_nearest2d.
  const std::vector<NearestCase> cases = {
      {2, 4, std::nullopt, {0, 0, 1, 1}},
      {3, 9, std::nullopt, {0, 0, 0, 1, 1, 1, 2, 2, 2}},
      {4, 6, std::nullopt, {0, 0, 1, 2, 2, 3}},
      {8, 3, std::nullopt, {0, 2, 5}},
      {5, 5, std::nullopt, {0, 1, 2, 3, 4}},
      {7, 21, std::nullopt, {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6}},
      {5, 7, 1.5, {0, 0, 1, 2, 2, 3, 4}},
      {3, 5, std::nullopt, {0, 0, 1, 1, 2}},
  };
  for (const NearestCase& c : cases) {
    SCOPED_TRACE(std::to_string(c.in) + " -> " + std::to_string(c.out));
    EXPECT_EQ(TorchNearestIndices(c.in, c.out, c.scale), c.expected);
  }
}

TEST(ResizeTest, MilGridsFollowAppleDefinitions) {
  // The examples in Apple's resize_bilinear documentation (Xin = 2).
  auto near = [](const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::abs(a[i] - b[i]) > 0.01) return false;
    }
    return true;
  };
  EXPECT_TRUE(near(MilResizeBilinearGrid("UNALIGN_CORNERS", 2, 5), {0, 0.1, 0.5, 0.9, 1}));
  EXPECT_TRUE(near(MilResizeBilinearGrid("STRICT_ALIGN_CORNERS", 2, 5), {0, 0.25, 0.5, 0.75, 1}));
  EXPECT_TRUE(near(MilResizeBilinearGrid("DEFAULT", 2, 5), {0, 0.4, 0.8, 1, 1}));
  EXPECT_TRUE(near(MilResizeBilinearGrid("OFFSET_CORNERS", 2, 5), {0.1, 0.3, 0.5, 0.7, 0.9}));
  EXPECT_TRUE(near(MilResizeBilinearGrid("UNALIGN_CORNERS", 2, 6), {0, 0, 0.33, 0.67, 1, 1}));
  EXPECT_TRUE(near(MilResizeBilinearGrid("DEFAULT", 2, 6), {0, 0.33, 0.67, 1, 1, 1}));
  EXPECT_TRUE(
      near(MilResizeBilinearGrid("OFFSET_CORNERS", 2, 6), {0.08, 0.25, 0.42, 0.58, 0.75, 0.92}));
  EXPECT_TRUE(MilResizeBilinearGrid("STRICT_ALIGN_CORNERS", 4, 1).empty());
  EXPECT_TRUE(near(MilResizeBilinearGrid("ALIGN_CORNERS", 5, 1), {2}));
}

t::FakeNode BilinearVec(Shape x, Shape size, bool align) {
  t::FakeNode n("aten::upsample_bilinear2d.vec");
  n.Add(t::Value::Tensor(x)).Add(t::Value::Ints(size)).Add(t::Value::Bool(align));
  n.Add(t::Value::None());
  return n;
}

TEST(ResizeTest, BilinearModeSweep) {
  struct Case {
    Shape x, size;
    bool align;
    std::string mode;  // empty: the matmul fallback
  };
  const std::vector<Case> cases = {
      {{1, 21, 32, 32}, {256, 256}, false, "UNALIGN_CORNERS"},  // fcn/deeplab heads
      {{1, 256, 1, 1}, {32, 32}, false, "UNALIGN_CORNERS"},     // ASPP pooling: in = 1
      {{1, 256, 1, 1}, {32, 32}, true, "STRICT_ALIGN_CORNERS"},
      {{1, 8, 5, 7}, {10, 3}, false, "UNALIGN_CORNERS"},
      {{1, 8, 5, 7}, {10, 3}, true, "STRICT_ALIGN_CORNERS"},
      {{2, 3, 4, 4}, {4, 4}, true, "STRICT_ALIGN_CORNERS"},
      {{1, 3, 4, 6}, {1, 1}, false, "UNALIGN_CORNERS"},
      {{1, 3, 4, 6}, {1, 5}, true, ""},  // out = 1: ATen samples 0, no MIL mode does
  };
  for (const Case& c : cases) {
    for (t2c_dtype precision : {T2C_DTYPE_FP32, T2C_DTYPE_FP16}) {
      SCOPED_TRACE(t::TypeString(sdk::TensorType(precision, c.x)) + " -> " +
                   std::to_string(c.size[0]) + "x" + std::to_string(c.size[1]) +
                   (c.align ? " align_corners" : ""));
      t::FakeNode n = BilinearVec(c.x, c.size, c.align);
      n.Precision(precision);
      ASSERT_TRUE(n.Lower(Decl("aten::upsample_bilinear2d.vec"))) << n.error();
      EXPECT_EQ(n.planned(), sdk::TensorType(precision, {c.x[0], c.x[1], c.size[0], c.size[1]}));
      if (!c.mode.empty()) {
        ASSERT_EQ(n.op_types(), (std::vector<std::string>{"resize_bilinear"}));
        const t::FakeOp* op = n.OutputOp();
        // With in = 1 every mode samples 0; the first one tried is reported.
        EXPECT_EQ(n.ArgString(*op, "sampling_mode"), c.mode);
        EXPECT_EQ(n.ArgScalar(*op, "target_size_height"), c.size[0]);
        EXPECT_EQ(n.ArgScalar(*op, "target_size_width"), c.size[1]);
      } else {
        EXPECT_EQ(n.op_types(), (std::vector<std::string>{"matmul", "matmul"}));
      }
    }
  }
}

TEST(ResizeTest, BilinearFallbackMatricesInterpolate) {
  // align_corners with an output height of 1: rows sample 0; columns 4 -> 5 are aligned.
  t::FakeNode n = BilinearVec({1, 1, 4, 4}, {1, 5}, true);
  ASSERT_TRUE(n.Lower(Decl("aten::upsample_bilinear2d.vec"))) << n.error();
  const t::FakeOp* cols = n.FindOp("matmul", 0);
  EXPECT_EQ(n.ArgType(*cols, "y").shape, (Shape{4, 5}));
  // Column j of the [in, out] matrix holds the weights of output j: 0, 0.75, 1.5, 2.25, 3.
  const std::vector<double> awt = n.ArgValues(*cols, "y");
  const std::vector<double> expected = {1, 0.25, 0,   0,    0,  //
                                        0, 0.75, 0.5, 0,    0,  //
                                        0, 0,    0.5, 0.75, 0,  //
                                        0, 0,    0,   0.25, 1};
  ASSERT_EQ(awt.size(), expected.size());
  for (size_t i = 0; i < awt.size(); ++i) EXPECT_NEAR(awt[i], expected[i], 1e-6) << i;
  const t::FakeOp* rows = n.FindOp("matmul", 1);
  EXPECT_EQ(n.ArgValues(*rows, "x"), (std::vector<double>{1, 0, 0, 0}));
  EXPECT_EQ(rows->output_types[0].shape, (Shape{1, 1, 1, 5}));
}

TEST(ResizeTest, BilinearExplicitScales) {
  // aten::upsample_bilinear2d(self, output_size, align_corners, scales_h, scales_w): a scale that
  // is out / in keeps the MIL op; 1.5 on 5 -> 7 samples 1/1.5, not 5/7, and falls back.
  for (auto [scale, mil] : std::vector<std::pair<double, bool>>{{2.0, true}, {1.5, false}}) {
    const int64_t out = static_cast<int64_t>(5 * scale);
    t::FakeNode n("aten::upsample_bilinear2d");
    n.Add(t::Value::Tensor({1, 2, 5, 5})).Add(t::Value::Ints({out, out}));
    n.Add(t::Value::Bool(false)).Add(t::Value::Float(scale)).Add(t::Value::Float(scale));
    ASSERT_TRUE(n.Lower(Decl("aten::upsample_bilinear2d"))) << n.error();
    EXPECT_EQ(n.planned().shape, (Shape{1, 2, out, out}));
    const std::vector<std::string> expected = mil ? std::vector<std::string>{"resize_bilinear"}
                                                  : std::vector<std::string>{"matmul", "matmul"};
    EXPECT_EQ(n.op_types(), expected) << scale;
  }
}

t::FakeNode NearestVec(Shape x, Shape size) {
  t::FakeNode n("aten::upsample_nearest2d.vec");
  n.Add(t::Value::Tensor(x)).Add(t::Value::Ints(size)).Add(t::Value::None());
  return n;
}

TEST(ResizeTest, NearestSweep) {
  struct Case {
    Shape x, size;
    std::vector<std::string> ops;
    Shape scales;
  };
  const std::vector<Case> cases = {
      {{1, 4, 8, 8}, {16, 16}, {"upsample_nearest_neighbor"}, {2, 2}},
      {{1, 4, 7, 5}, {21, 10}, {"upsample_nearest_neighbor"}, {3, 2}},
      {{1, 4, 8, 8}, {8, 32}, {"upsample_nearest_neighbor"}, {1, 4}},
      {{1, 4, 8, 8}, {3, 8}, {"gather"}, {}},
      {{1, 4, 4, 3}, {6, 5}, {"gather", "gather"}, {}},
      {{1, 4, 4, 4}, {4, 4}, {"upsample_nearest_neighbor"}, {1, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(t::TypeString(sdk::TensorType(T2C_DTYPE_FP32, c.x)) + " -> " +
                 std::to_string(c.size[0]) + "x" + std::to_string(c.size[1]));
    t::FakeNode n = NearestVec(c.x, c.size);
    n.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl("aten::upsample_nearest2d.vec"))) << n.error();
    EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP16, {c.x[0], c.x[1], c.size[0], c.size[1]}));
    EXPECT_EQ(n.op_types(), c.ops);
    if (!c.scales.empty()) {
      EXPECT_EQ(n.ArgScalar(*n.OutputOp(), "scale_factor_height"), c.scales[0]);
      EXPECT_EQ(n.ArgScalar(*n.OutputOp(), "scale_factor_width"), c.scales[1]);
      EXPECT_EQ(n.ArgType(*n.OutputOp(), "scale_factor_height").dtype, T2C_DTYPE_INT32);
    }
  }
  t::FakeNode g = NearestVec({1, 1, 4, 3}, {6, 5});
  ASSERT_TRUE(g.Lower(Decl("aten::upsample_nearest2d.vec"))) << g.error();
  EXPECT_EQ(g.ArgInts(*g.FindOp("gather", 0), "indices"), (Shape{0, 0, 1, 2, 2, 3}));
  EXPECT_EQ(g.ArgScalar(*g.FindOp("gather", 0), "axis"), 2);
  EXPECT_EQ(g.ArgInts(*g.FindOp("gather", 1), "indices"), (Shape{0, 0, 1, 1, 2}));
}

TEST(ResizeTest, CubicMatrixMatchesPyTorch) {
  // Generated with /usr/bin/python3: F.interpolate(mode="bicubic") (or aten::upsample_bicubic2d
  // with scales) of one-hot rows, read back as the [out, in] weight matrix.
  struct Case {
    int64_t in, out;
    bool align;
    std::optional<double> scale;
    std::vector<float> expected;
  };
  const std::vector<Case> cases = {
      {3,
       5,
       false,
       std::nullopt,
       {1.096, -0.096, 0, 0.612, 0.46, -0.072, 0, 1, 0, -0.072, 0.46, 0.612, 0, -0.096, 1.096}},
      {3,
       5,
       true,
       std::nullopt,
       {1, 0, 0, 0.5, 0.59375, -0.09375, 0, 1, 0, -0.09375, 0.59375, 0.5, 0, 0, 1}},
      {4, 2, false, std::nullopt, {0.5, 0.59375, -0.09375, 0, 0, -0.09375, 0.59375, 0.5}},
      {5, 7, false, 1.5, {1.086806, -0.086806, 0,       0,         0,         0.5,      0.59375,
                          -0.09375, 0,         0,       -0.086805, 0.943287,  0.16088,  -0.017361,
                          0,        -0.017361, 0.16088, 0.943287,  -0.086806, 0,        0,
                          -0.09375, 0.59375,   0.59375, -0.09375,  0,         0,        -0.086805,
                          0.943287, 0.143518,  0,       0,         -0.017361, 0.160879, 0.856482}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.in) + " -> " + std::to_string(c.out));
    const std::vector<float> m = TorchCubicMatrix(c.in, c.out, c.align, c.scale);
    ASSERT_EQ(m.size(), c.expected.size());
    for (size_t i = 0; i < m.size(); ++i) EXPECT_NEAR(m[i], c.expected[i], 1e-5) << i;
  }
}

TEST(ResizeTest, NearestExactIndicesMatchPyTorch) {
  // Generated with aten::_upsample_nearest_exact1d of arange(in).
  EXPECT_EQ(TorchNearestExactIndices(4, 6, std::nullopt), (Shape{0, 1, 1, 2, 3, 3}));
  EXPECT_EQ(TorchNearestExactIndices(3, 9, std::nullopt), (Shape{0, 0, 0, 1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(TorchNearestExactIndices(8, 3, std::nullopt), (Shape{1, 4, 6}));
  EXPECT_EQ(TorchNearestExactIndices(5, 7, 1.5), (Shape{0, 1, 1, 2, 3, 3, 4}));
  EXPECT_EQ(TorchNearestExactIndices(4, 8, std::nullopt), (Shape{0, 0, 1, 1, 2, 2, 3, 3}));
}

TEST(ResizeTest, ScaleFactorsGiveTheOutputSize) {
  // .vec with output_size None: out = floor(in * scale), and the scale sets the sampled points.
  t::FakeNode n("aten::upsample_bilinear2d.vec");
  n.Add(t::Value::Tensor({1, 2, 5, 4})).Add(t::Value::None()).Add(t::Value::Bool(false));
  n.Add(t::Value::Floats({1.5, 2.0}));
  ASSERT_TRUE(n.Lower(Decl("aten::upsample_bilinear2d.vec"))) << n.error();
  EXPECT_EQ(n.planned().shape, (Shape{1, 2, 7, 8}));
  // Width 4 -> 8 at scale 2 is UNALIGN_CORNERS; height 5 -> 7 at 1/1.5 is no MIL mode.
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"matmul", "matmul"}));

  t::FakeNode near("aten::upsample_nearest2d.vec");
  near.Add(t::Value::Tensor({1, 3, 4, 5})).Add(t::Value::None()).Add(t::Value::Floats({2, 3}));
  ASSERT_TRUE(near.Lower(Decl("aten::upsample_nearest2d.vec"))) << near.error();
  EXPECT_EQ(near.planned().shape, (Shape{1, 3, 8, 15}));
  EXPECT_EQ(near.op_types(), (std::vector<std::string>{"upsample_nearest_neighbor"}));
}

TEST(ResizeTest, OneAndThreeSpatialDimensions) {
  // linear1d: one [in, out] matrix on the last axis.
  t::FakeNode lin("aten::upsample_linear1d.vec");
  lin.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::Ints({7})).Add(t::Value::Bool(true));
  lin.Add(t::Value::None());
  ASSERT_TRUE(lin.Lower(Decl("aten::upsample_linear1d.vec"))) << lin.error();
  EXPECT_EQ(lin.planned().shape, (Shape{2, 3, 7}));
  EXPECT_EQ(lin.op_types(), (std::vector<std::string>{"matmul"}));

  // trilinear3d: depth through [outer, in, inner] reshapes, then height and width.
  t::FakeNode tri("aten::upsample_trilinear3d");
  tri.Add(t::Value::Tensor({1, 2, 3, 4, 5})).Add(t::Value::Ints({6, 8, 10}));
  tri.Add(t::Value::Bool(false)).Add(t::Value::None()).Add(t::Value::None());
  tri.Add(t::Value::None());
  tri.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(tri.Lower(Decl("aten::upsample_trilinear3d"))) << tri.error();
  EXPECT_EQ(tri.planned(), sdk::TensorType(T2C_DTYPE_FP16, {1, 2, 6, 8, 10}));
  EXPECT_EQ(tri.op_types(),
            (std::vector<std::string>{"matmul", "matmul", "reshape", "matmul", "reshape"}));
  EXPECT_EQ(tri.FindOp("matmul", 2)->output_types[0].shape, (Shape{2, 6, 80}));

  // nearest3d: one gather per resized axis; nearest1d with an equal size is an identity.
  t::FakeNode n3("aten::upsample_nearest3d.vec");
  n3.Add(t::Value::Tensor({1, 2, 3, 4, 5})).Add(t::Value::None());
  n3.Add(t::Value::Floats({2, 1, 1.5}));
  ASSERT_TRUE(n3.Lower(Decl("aten::upsample_nearest3d.vec"))) << n3.error();
  EXPECT_EQ(n3.planned().shape, (Shape{1, 2, 6, 4, 7}));
  EXPECT_EQ(n3.op_types(), (std::vector<std::string>{"gather", "gather"}));
  EXPECT_EQ(n3.ArgInts(*n3.FindOp("gather", 1), "indices"), (Shape{0, 0, 1, 2, 2, 3, 4}));

  t::FakeNode n1("aten::upsample_nearest1d");
  n1.Add(t::Value::Tensor({1, 2, 5})).Add(t::Value::Ints({5})).Add(t::Value::None());
  ASSERT_TRUE(n1.Lower(Decl("aten::upsample_nearest1d"))) << n1.error();
  EXPECT_EQ(n1.op_types(), (std::vector<std::string>{"identity"}));
}

TEST(ResizeTest, BicubicAndNearestExact) {
  t::FakeNode cubic("aten::upsample_bicubic2d.vec");
  cubic.Add(t::Value::Tensor({1, 2, 4, 5})).Add(t::Value::None()).Add(t::Value::Bool(true));
  cubic.Add(t::Value::Floats({2, 2}));
  ASSERT_TRUE(cubic.Lower(Decl("aten::upsample_bicubic2d.vec"))) << cubic.error();
  EXPECT_EQ(cubic.planned().shape, (Shape{1, 2, 8, 10}));
  EXPECT_EQ(cubic.op_types(), (std::vector<std::string>{"matmul", "matmul"}));

  t::FakeNode exact("aten::_upsample_nearest_exact2d.vec");
  exact.Add(t::Value::Tensor({1, 2, 4, 4})).Add(t::Value::Ints({6, 8})).Add(t::Value::None());
  ASSERT_TRUE(exact.Lower(Decl("aten::_upsample_nearest_exact2d.vec"))) << exact.error();
  // 4 -> 8 is floor(i / 2): the integer MIL upsample; 4 -> 6 is not.
  EXPECT_EQ(exact.op_types(), (std::vector<std::string>{"gather", "gather"}));
  EXPECT_EQ(exact.ArgInts(*exact.FindOp("gather", 0), "indices"), (Shape{0, 1, 1, 2, 3, 3}));
}

TEST(ResizeTest, AntialiasMatrixMatchesPyTorch) {
  // Generated with /usr/bin/python3: F.interpolate(eye(in) as [1, 1, in, in], size=(in, out),
  // antialias=True) (or aten::_upsample_*2d_aa with scales_w), read back as [out, in].
  struct Case {
    int64_t in, out;
    bool align, cubic;
    std::optional<double> scale;
    std::vector<float> expected;
  };
  const std::vector<Case> cases = {
      {8, 3, false, false, std::nullopt, {0.289474,  0.394737,  0.236842,  0.0789474,
                                          0,         0,         0,         0,  //
                                          0,         0.0238095, 0.166667,  0.309524,
                                          0.309524,  0.166667,  0.0238095, 0,  //
                                          0,         0,         0,         0,
                                          0.0789473, 0.236842,  0.394737,  0.289474}},
      {7, 3, true, false, std::nullopt, {0.25,     0.375,    0.25,     0.125,    0,
                                         0,        0,  //
                                         0,        0,        0.111111, 0.222222, 0.333333,
                                         0.222222, 0.111111, 0,        0,        0,
                                         0,        0,        0.333333, 0.666667}},
      {6, 4, false, true, std::nullopt, {0.65534,    0.393204, -0.0404531,  -0.00809078,
                                         0,          0,  //
                                         -0.0382849, 0.372129, 0.620214,    0.0872894,
                                         -0.0413476, 0,        0,           -0.0413476,
                                         0.0872894,  0.620214, 0.372129,    -0.0382849,
                                         0,          0,        -0.00809078, -0.0404531,
                                         0.393204,   0.65534}},
      {9, 4, false, false, 0.45, {0.376623, 0.428571,  0.194805, 0,        0,         0,
                                  0,        0,         0,  //
                                  0,        0.0786517, 0.280899, 0.41573,  0.213483,  0.011236,
                                  0,        0,         0,        0,        0,         0,
                                  0.032967, 0.230769,  0.428571, 0.252747, 0.0549451, 0,
                                  0,        0,         0,        0,        0,         0,
                                  0.21519,  0.443038,  0.341772}},
      {3,
       5,
       false,
       true,
       std::nullopt,
       {1.07547, -0.0754717, 0, 0.649254, 0.395522, -0.0447761, 0, 1, 0, -0.0447761, 0.395522,
        0.649254, 0, -0.0754717, 1.07547}},
      {5, 1, true, false, std::nullopt, {1, 0, 0, 0, 0}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.in) + " -> " + std::to_string(c.out) +
                 (c.align ? " align_corners" : "") + (c.cubic ? " cubic" : ""));
    const std::vector<float> m = TorchAntialiasMatrix(c.in, c.out, c.align, c.scale, c.cubic);
    ASSERT_EQ(m.size(), c.expected.size());
    for (size_t i = 0; i < m.size(); ++i) EXPECT_NEAR(m[i], c.expected[i], 1e-5) << i;
  }
}

TEST(ResizeTest, AntialiasIsTwoMatmuls) {
  // 8 -> 4 without align_corners is resize_bilinear UNALIGN_CORNERS when not antialiased; the
  // antialiased resize averages over two pixels per side and is always the matrix product.
  t::FakeNode aa("aten::_upsample_bilinear2d_aa");
  aa.Add(t::Value::Tensor({1, 3, 8, 8})).Add(t::Value::Ints({4, 4})).Add(t::Value::Bool(false));
  aa.Add(t::Value::None()).Add(t::Value::None());
  ASSERT_TRUE(aa.Lower(Decl("aten::_upsample_bilinear2d_aa"))) << aa.error();
  EXPECT_EQ(aa.planned().shape, (Shape{1, 3, 4, 4}));
  EXPECT_EQ(aa.op_types(), (std::vector<std::string>{"matmul", "matmul"}));
  const std::vector<double> cols = aa.ArgValues(*aa.FindOp("matmul", 0), "y");
  const std::vector<float> m = TorchAntialiasMatrix(8, 4, false, std::nullopt, false);
  ASSERT_EQ(cols.size(), m.size());
  for (int64_t j = 0; j < 8; ++j) {
    for (int64_t i = 0; i < 4; ++i) EXPECT_NEAR(cols[j * 4 + i], m[i * 8 + j], 1e-7);
  }

  // .vec with scale factors: 6 x 10 at (0.5, 2) gives 3 x 20; the cubic filter in fp16.
  t::FakeNode vec("aten::_upsample_bicubic2d_aa.vec");
  vec.Add(t::Value::Tensor({2, 1, 6, 10})).Add(t::Value::None()).Add(t::Value::Bool(true));
  vec.Add(t::Value::Floats({0.5, 2}));
  vec.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(vec.Lower(Decl("aten::_upsample_bicubic2d_aa.vec"))) << vec.error();
  EXPECT_EQ(vec.planned(), sdk::TensorType(T2C_DTYPE_FP16, {2, 1, 3, 20}));
  EXPECT_EQ(vec.op_types(), (std::vector<std::string>{"matmul", "matmul"}));
}

TEST(ResizeTest, Refusals) {
  t::FakeNode rank3("aten::upsample_bilinear2d.vec");
  rank3.Add(t::Value::Tensor({3, 8, 8})).Add(t::Value::Ints({16, 16})).Add(t::Value::Bool(false));
  rank3.Add(t::Value::None());
  EXPECT_FALSE(rank3.Infer(Decl("aten::upsample_bilinear2d.vec")));
  EXPECT_NE(rank3.error().find("4-D"), std::string::npos) << rank3.error();

  t::FakeNode scales("aten::upsample_nearest2d.vec");
  scales.Add(t::Value::Tensor({1, 3, 8, 8})).Add(t::Value::None()).Add(t::Value::Floats({2}));
  EXPECT_FALSE(scales.Infer(Decl("aten::upsample_nearest2d.vec")));
  EXPECT_NE(scales.error().find("scale_factors has 1 entries, expected 2"), std::string::npos)
      << scales.error();

  t::FakeNode size = NearestVec({1, 3, 8, 8}, {16});
  EXPECT_FALSE(size.Infer(Decl("aten::upsample_nearest2d.vec")));
  EXPECT_NE(size.error().find("2 positive size(s)"), std::string::npos) << size.error();

  t::FakeNode neither("aten::upsample_nearest2d.vec");
  neither.Add(t::Value::Tensor({1, 3, 8, 8})).Add(t::Value::None()).Add(t::Value::None());
  EXPECT_FALSE(neither.Infer(Decl("aten::upsample_nearest2d.vec")));
  EXPECT_NE(neither.error().find("neither output_size nor scale_factors"), std::string::npos);
}

}  // namespace
}  // namespace ts2coreml::plugins
