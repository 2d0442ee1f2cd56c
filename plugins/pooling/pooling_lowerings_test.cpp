/// Tests of the pooling family: PyTorch output sizes (ceil_mode included), the emitted MIL params,
/// adaptive pooling strategies and refusals.
#include "pooling/pooling_lowerings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(PoolingPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

t::FakeNode MaxPool2d(Shape x, Shape k, Shape s, Shape p, Shape d, bool ceil) {
  t::FakeNode n("aten::max_pool2d");
  n.Add(t::Value::Tensor(x)).Add(t::Value::Ints(k)).Add(t::Value::Ints(s));
  n.Add(t::Value::Ints(p)).Add(t::Value::Ints(d)).Add(t::Value::Bool(ceil));
  return n;
}

struct PoolCase {
  Shape x, k, s, p;
  bool ceil;
  Shape expected;  // hand-computed with ATen's pooling_output_shape
  bool mil_ceil;   // ceil_mode emitted (only where it adds a window)
};

TEST(PoolingTest, MaxPoolShapesFollowPyTorch) {
  const std::vector<PoolCase> cases = {
      {{1, 64, 112, 112}, {3, 3}, {2, 2}, {1, 1}, false, {1, 64, 56, 56}, false},  // ResNet
      {{1, 4, 8, 8}, {2, 2}, {}, {0, 0}, false, {1, 4, 4, 4}, false},  // stride = kernel
      {{1, 4, 7, 7}, {2, 2}, {2, 2}, {0, 0}, false, {1, 4, 3, 3}, false},
      {{1, 4, 7, 7}, {2, 2}, {2, 2}, {0, 0}, true, {1, 4, 4, 4}, true},
      {{1, 4, 6, 6}, {2, 2}, {2, 2}, {0, 0}, true, {1, 4, 3, 3}, false},  // ceil adds nothing
      {{1, 4, 8, 9}, {3, 3}, {2, 2}, {1, 1}, true, {1, 4, 5, 5}, true},
      {{1, 4, 10, 10}, {3}, {2}, {1}, false, {1, 4, 5, 5}, false},  // single values
  };
  for (const PoolCase& c : cases) {
    t::FakeNode n = MaxPool2d(c.x, c.k, c.s, c.p, {1, 1}, c.ceil);
    ASSERT_TRUE(n.Lower(Decl("aten::max_pool2d"))) << n.error();
    EXPECT_EQ(n.inferred().shape, c.expected);
    const t::FakeOp* op = n.OutputOp();
    ASSERT_EQ(op->type, "max_pool");
    EXPECT_EQ(op->ArgNames(), (std::vector<std::string>{"x", "kernel_sizes", "strides", "pad_type",
                                                        "pad", "ceil_mode"}));
    Shape k = c.k.size() == 1 ? Shape{c.k[0], c.k[0]} : c.k;
    Shape s = c.s.empty() ? k : c.s.size() == 1 ? Shape{c.s[0], c.s[0]} : c.s;
    Shape p = c.p.size() == 1 ? Shape{c.p[0], c.p[0]} : c.p;
    EXPECT_EQ(n.ArgInts(*op, "kernel_sizes"), k);
    EXPECT_EQ(n.ArgInts(*op, "strides"), s);
    EXPECT_EQ(n.ArgString(*op, "pad_type"), "custom");
    EXPECT_EQ(n.ArgInts(*op, "pad"), (Shape{p[0], p[0], p[1], p[1]}));
    EXPECT_EQ(n.ArgScalar(*op, "ceil_mode"), c.mil_ceil ? 1 : 0);
  }
}

TEST(PoolingTest, CeilModeWindowDroppedByPyTorchIsNotEmitted) {
  // in 5, k 1, s 3, p 0: the ceil window would start at 6 >= 5, PyTorch drops it while MIL (no
  // padding) would keep it; the size equals floor mode's, so ceil_mode=false is emitted.
  t::FakeNode n = MaxPool2d({1, 1, 5, 5}, {1, 1}, {3, 3}, {0, 0}, {1, 1}, true);
  ASSERT_TRUE(n.Lower(Decl("aten::max_pool2d"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 1, 2, 2}));
  EXPECT_EQ(n.ArgScalar(*n.OutputOp(), "ceil_mode"), 0);
}

TEST(PoolingTest, CeilMode3dAvgIsRefusedWhereItAddsAWindow) {
  t::FakeNode n("aten::avg_pool3d");
  n.Add(t::Value::Tensor({1, 2, 5, 5, 5})).Add(t::Value::Ints({2})).Add(t::Value::Ints({2}));
  n.Add(t::Value::Ints({0})).Add(t::Value::Bool(true)).Add(t::Value::Bool(true));
  n.Add(t::Value::None());
  ASSERT_TRUE(n.Infer(Decl("aten::avg_pool3d"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 2, 3, 3, 3}));
  EXPECT_FALSE(n.Lower(Decl("aten::avg_pool3d")));
  EXPECT_NE(n.error().find("ceil_mode only for 1D and 2D"), std::string::npos) << n.error();
}

TEST(PoolingTest, CeilMode3dMaxIsSliced) {
  // 5 wide, kernel 2, stride 2, ceil: windows at 0, 2, 4; the last overhangs by one (-inf pad).
  t::FakeNode n("aten::max_pool3d");
  n.Add(t::Value::Tensor({1, 2, 5, 5, 5})).Add(t::Value::Ints({2})).Add(t::Value::Ints({2}));
  n.Add(t::Value::Ints({0})).Add(t::Value::Ints({1})).Add(t::Value::Bool(true));
  ASSERT_TRUE(n.Lower(Decl("aten::max_pool3d"))) << n.error();
  EXPECT_EQ(n.planned().shape, (Shape{1, 2, 3, 3, 3}));
  const std::vector<std::string> ops = n.op_types();
  EXPECT_EQ(ops.front(), "pad");
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "slice_by_index"), 8);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "maximum"), 7);
  EXPECT_EQ(n.ArgInts(*n.FindOp("pad"), "pad"), (Shape{0, 1, 0, 1, 0, 1}));
  EXPECT_TRUE(std::isinf(n.ArgScalar(*n.FindOp("pad"), "constant_val")));
}

TEST(PoolingTest, DilationIsSlicedPerKernelOffset) {
  // 9 wide, kernel 3, dilation 2, padding 1, stride 2: 4 outputs; offsets 0, 2, 4 of the padded x.
  t::FakeNode n = MaxPool2d({1, 4, 9, 9}, {3, 3}, {2, 2}, {1, 1}, {2, 2}, false);
  ASSERT_TRUE(n.Lower(Decl("aten::max_pool2d"))) << n.error();
  EXPECT_EQ(n.planned().shape, (Shape{1, 4, 4, 4}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("pad"), "pad"), (Shape{1, 1, 1, 1}));
  const t::FakeOp* last = n.FindOp("slice_by_index", 8);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(n.ArgInts(*last, "begin"), (Shape{0, 0, 4, 4}));
  EXPECT_EQ(n.ArgInts(*last, "end"), (Shape{1, 4, 11, 11}));
  EXPECT_EQ(n.ArgInts(*last, "stride"), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(n.OutputOp()->type, "maximum");
  // Unbatched: the pooled dims are the last ones.
  t::FakeNode u("aten::max_pool1d");
  u.Add(t::Value::Tensor({3, 10})).Add(t::Value::Ints({2})).Add(t::Value::Ints({1}));
  u.Add(t::Value::Ints({0})).Add(t::Value::Ints({3})).Add(t::Value::Bool(false));
  ASSERT_TRUE(u.Lower(Decl("aten::max_pool1d"))) << u.error();
  EXPECT_EQ(u.planned().shape, (Shape{3, 7}));
  EXPECT_EQ(u.op_types(),
            (std::vector<std::string>{"slice_by_index", "slice_by_index", "maximum"}));
}

TEST(PoolingTest, MaxPool1d) {
  t::FakeNode n("aten::max_pool1d");
  n.Add(t::Value::Tensor({2, 3, 11})).Add(t::Value::Ints({3})).Add(t::Value::Ints({2}));
  n.Add(t::Value::Ints({1})).Add(t::Value::Ints({1})).Add(t::Value::Bool(false));
  ASSERT_TRUE(n.Lower(Decl("aten::max_pool1d"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{2, 3, 6}));
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "pad"), (Shape{1, 1}));
}

t::FakeNode AvgPool2d(Shape x, Shape k, Shape s, Shape p, bool ceil, bool count_include_pad,
                      t::Value divisor = t::Value::None()) {
  t::FakeNode n("aten::avg_pool2d");
  n.Add(t::Value::Tensor(x)).Add(t::Value::Ints(k)).Add(t::Value::Ints(s));
  n.Add(t::Value::Ints(p)).Add(t::Value::Bool(ceil)).Add(t::Value::Bool(count_include_pad));
  n.Add(divisor);
  return n;
}

TEST(PoolingTest, AvgPoolExcludePadding) {
  for (bool include : {true, false}) {
    t::FakeNode n = AvgPool2d({1, 2, 8, 8}, {3, 3}, {2, 2}, {1, 1}, false, include);
    ASSERT_TRUE(n.Lower(Decl("aten::avg_pool2d"))) << n.error();
    EXPECT_EQ(n.inferred().shape, (Shape{1, 2, 4, 4}));
    const t::FakeOp* op = n.OutputOp();
    ASSERT_EQ(op->type, "avg_pool");
    EXPECT_EQ(n.ArgScalar(*op, "exclude_padding_from_average"), include ? 0 : 1);
  }
}

TEST(PoolingTest, AvgPoolDivisorOverride) {
  // sum / 3 == avg_pool(x * 4 / 3) over the whole zero-padded window, whatever count_include_pad.
  for (bool include : {true, false}) {
    t::FakeNode n =
        AvgPool2d({1, 2, 8, 8}, {2, 2}, {2, 2}, {1, 1}, false, include, t::Value::Int(3));
    ASSERT_TRUE(n.Lower(Decl("aten::avg_pool2d"))) << n.error();
    EXPECT_EQ(n.op_types(), (std::vector<std::string>{"mul", "avg_pool"}));
    EXPECT_FLOAT_EQ(n.ArgScalar(*n.FindOp("mul"), "y"), 4.0f / 3.0f);
    EXPECT_EQ(n.ArgScalar(*n.OutputOp(), "exclude_padding_from_average"), 0);
  }
  // A divisor equal to the window is a plain average.
  t::FakeNode same =
      AvgPool2d({1, 2, 8, 8}, {2, 3}, {2, 2}, {0, 0}, false, false, t::Value::Int(6));
  ASSERT_TRUE(same.Lower(Decl("aten::avg_pool2d"))) << same.error();
  EXPECT_EQ(same.op_types(), (std::vector<std::string>{"avg_pool"}));
  EXPECT_EQ(same.ArgScalar(*same.OutputOp(), "exclude_padding_from_average"), 0);
}

TEST(PoolingTest, AvgPoolRefusals) {
  t::FakeNode zero = AvgPool2d({1, 2, 8, 8}, {2, 2}, {2, 2}, {0, 0}, false, true, t::Value::Int(0));
  EXPECT_FALSE(zero.Lower(Decl("aten::avg_pool2d")));
  EXPECT_NE(zero.error().find("divisor_override must not be zero"), std::string::npos);
  t::FakeNode ceil_divisor =
      AvgPool2d({1, 2, 9, 9}, {2, 2}, {2, 2}, {0, 0}, true, true, t::Value::Int(3));
  EXPECT_FALSE(ceil_divisor.Lower(Decl("aten::avg_pool2d")));
  EXPECT_NE(ceil_divisor.error().find("divisor_override with ceil_mode=True"), std::string::npos)
      << ceil_divisor.error();
  // Overhanging ceil window with count_include_pad and padding: PyTorch's divisor differs.
  t::FakeNode ceil = AvgPool2d({1, 2, 8, 8}, {3, 3}, {2, 2}, {1, 1}, true, true);
  ASSERT_TRUE(ceil.Infer(Decl("aten::avg_pool2d")));
  EXPECT_EQ(ceil.inferred().shape, (Shape{1, 2, 5, 5}));
  EXPECT_FALSE(ceil.Lower(Decl("aten::avg_pool2d")));
  EXPECT_NE(ceil.error().find("count_include_pad=True"), std::string::npos) << ceil.error();
}

TEST(PoolingTest, AvgPoolCeilWithoutPaddingExcludesOverhang) {
  t::FakeNode n = AvgPool2d({1, 2, 7, 7}, {2, 2}, {2, 2}, {0, 0}, true, true);
  ASSERT_TRUE(n.Lower(Decl("aten::avg_pool2d"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 2, 4, 4}));
  EXPECT_EQ(n.ArgScalar(*n.OutputOp(), "exclude_padding_from_average"), 1);
  EXPECT_EQ(n.ArgScalar(*n.OutputOp(), "ceil_mode"), 1);
}

t::FakeNode Adaptive(Shape x, Shape size) {
  t::FakeNode n("aten::adaptive_avg_pool2d");
  n.Add(t::Value::Tensor(x)).Add(t::Value::Ints(size));
  return n;
}

TEST(PoolingTest, UnderscoreAdaptiveAvgPoolIsTheSameOp) {
  // aten::_adaptive_avg_pool2d/3d: the kernels adaptive_avg_pool calls, same arguments.
  t::FakeNode n("aten::_adaptive_avg_pool2d");
  n.Add(t::Value::Tensor({2, 3, 8, 8})).Add(t::Value::Ints({4, 2}));
  ASSERT_TRUE(n.Lower(Decl("aten::_adaptive_avg_pool2d"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{2, 3, 4, 2}));
  EXPECT_EQ(n.OutputOp()->type, "avg_pool");
  t::FakeNode d3("aten::_adaptive_avg_pool3d");
  d3.Add(t::Value::Tensor({1, 2, 4, 6, 6})).Add(t::Value::Ints({1, 1, 1}));
  ASSERT_TRUE(d3.Lower(Decl("aten::_adaptive_avg_pool3d"))) << d3.error();
  EXPECT_EQ(d3.inferred().shape, (Shape{1, 2, 1, 1, 1}));
  EXPECT_EQ(d3.OutputOp()->type, "reduce_mean");
}

TEST(PoolingTest, AdaptiveGlobalIsReduceMean) {
  t::FakeNode n = Adaptive({1, 960, 7, 7}, {1, 1});
  ASSERT_TRUE(n.Lower(Decl("aten::adaptive_avg_pool2d"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 960, 1, 1}));
  const t::FakeOp* op = n.OutputOp();
  ASSERT_EQ(op->type, "reduce_mean");
  EXPECT_EQ(n.ArgInts(*op, "axes"), (Shape{-2, -1}));
  EXPECT_EQ(n.ArgScalar(*op, "keep_dims"), 1);
}

TEST(PoolingTest, AdaptiveDivisibleIsAvgPool) {
  t::FakeNode n = Adaptive({1, 8, 12, 8}, {3, 2});
  ASSERT_TRUE(n.Lower(Decl("aten::adaptive_avg_pool2d"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 8, 3, 2}));
  const t::FakeOp* op = n.OutputOp();
  ASSERT_EQ(op->type, "avg_pool");
  EXPECT_EQ(n.ArgInts(*op, "kernel_sizes"), (Shape{4, 4}));
  EXPECT_EQ(n.ArgInts(*op, "strides"), (Shape{4, 4}));
  EXPECT_EQ(n.ArgString(*op, "pad_type"), "valid");
  EXPECT_EQ(n.ArgScalar(*op, "exclude_padding_from_average"), 1);
}

TEST(PoolingTest, AdaptiveUnevenUsesAtenBins) {
  // 7 -> 3: ATen's bins are [0, 3), [2, 5), [4, 7) (floor(i*7/3), ceil((i+1)*7/3)).
  t::FakeNode n = Adaptive({1, 8, 7, 7}, {3, 3});
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::adaptive_avg_pool2d"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 8, 3, 3}));
  ASSERT_EQ(n.ops().size(), 14u);  // per axis: 3 x (slice_by_index, reduce_mean) + concat
  const std::vector<std::pair<int64_t, int64_t>> bins = {{0, 3}, {2, 5}, {4, 7}};
  for (int axis = 0; axis < 2; ++axis) {
    for (int i = 0; i < 3; ++i) {
      const t::FakeOp* slice = n.FindOp("slice_by_index", axis * 3 + i);
      ASSERT_NE(slice, nullptr);
      EXPECT_EQ(n.ArgInts(*slice, "begin")[2 + axis], bins[i].first);
      EXPECT_EQ(n.ArgInts(*slice, "end")[2 + axis], bins[i].second);
      const t::FakeOp* mean = n.FindOp("reduce_mean", axis * 3 + i);
      EXPECT_EQ(n.ArgInts(*mean, "axes"), Shape{2 + axis});
      EXPECT_EQ(n.ArgScalar(*mean, "keep_dims"), 1);
    }
    EXPECT_EQ(n.ArgScalar(*n.FindOp("concat", axis), "axis"), 2 + axis);
  }
  EXPECT_EQ(n.OutputOp()->type, "concat");
  EXPECT_EQ(n.OutputOp()->output_types[0], sdk::TensorType(T2C_DTYPE_FP16, {1, 8, 3, 3}));
}

TEST(PoolingTest, AdaptiveUnevenOnOneAxisOnly) {
  // 13 x 6 -> 6 x 6: only the first axis has uneven bins; the second is left as it is.
  t::FakeNode n = Adaptive({1, 4, 13, 6}, {6, 6});
  ASSERT_TRUE(n.Lower(Decl("aten::adaptive_avg_pool2d"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 4, 6, 6}));
  EXPECT_EQ(n.ops().size(), 13u);
  // Bin 5 of 13 -> 6: [floor(65/6), ceil(78/6)) = [10, 13).
  const t::FakeOp* last = n.FindOp("slice_by_index", 5);
  EXPECT_EQ(n.ArgInts(*last, "begin")[2], 10);
  EXPECT_EQ(n.ArgInts(*last, "end")[2], 13);
}

TEST(PoolingTest, AdaptiveSameSizeIsIdentity) {
  t::FakeNode n = Adaptive({1, 256, 6, 6}, {6, 6});
  ASSERT_TRUE(n.Lower(Decl("aten::adaptive_avg_pool2d"))) << n.error();
  EXPECT_EQ(n.op_types(), std::vector<std::string>{"identity"});
}

TEST(PoolingTest, AdaptiveUnbatched) {
  t::FakeNode n = Adaptive({8, 4, 4}, {2, 2});
  ASSERT_TRUE(n.Lower(Decl("aten::adaptive_avg_pool2d"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{8, 2, 2}));
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"expand_dims", "avg_pool", "squeeze"}));
}

TEST(PoolingTest, AdaptiveMaxPoolEvenAndUneven) {
  // 2d: height 8 -> 4 (even: [outer, out, k, inner] reduce_max), width 7 -> 3 (ATen's bins).
  t::FakeNode n("aten::adaptive_max_pool2d", 2);
  n.Add(t::Value::Tensor({2, 3, 8, 7})).Add(t::Value::Ints({4, 3}));
  n.UnusedOutput(1);
  ASSERT_TRUE(n.Lower(Decl("aten::adaptive_max_pool2d"))) << n.error();
  EXPECT_EQ(n.planned().shape, (Shape{2, 3, 4, 3}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("reshape", 0), "shape"), (Shape{6, 4, 2, 7}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("reduce_max", 0), "axes"), (Shape{2}));
  const t::FakeOp* bin = n.FindOp("slice_by_index", 1);
  ASSERT_NE(bin, nullptr);
  EXPECT_EQ(n.ArgInts(*bin, "begin"), (Shape{0, 0, 0, 2}));
  EXPECT_EQ(n.ArgInts(*bin, "end"), (Shape{2, 3, 4, 5}));
  EXPECT_EQ(n.OutputOp()->type, "concat");

  // 1d and 3d, unbatched 3d; an unchanged size is an identity.
  t::FakeNode one("aten::adaptive_max_pool1d", 2);
  one.Add(t::Value::Tensor({2, 3, 5})).Add(t::Value::Ints({5}));
  one.UnusedOutput(1);
  ASSERT_TRUE(one.Lower(Decl("aten::adaptive_max_pool1d"))) << one.error();
  EXPECT_EQ(one.op_types(), (std::vector<std::string>{"identity"}));
  t::FakeNode three("aten::adaptive_max_pool3d", 2);
  three.Add(t::Value::Tensor({3, 4, 6, 6})).Add(t::Value::Ints({2, 3, 1}));
  three.UnusedOutput(1);
  ASSERT_TRUE(three.Lower(Decl("aten::adaptive_max_pool3d"))) << three.error();
  EXPECT_EQ(three.planned().shape, (Shape{3, 2, 3, 1}));
}

TEST(PoolingTest, AdaptiveMaxPoolIndicesRefused) {
  t::FakeNode n("aten::adaptive_max_pool2d", 2);
  n.Add(t::Value::Tensor({1, 3, 8, 8})).Add(t::Value::Ints({2, 2}));
  EXPECT_FALSE(n.Infer(Decl("aten::adaptive_max_pool2d")));
  EXPECT_NE(n.error().find("indices output is read"), std::string::npos) << n.error();
}

/// max_pool*_with_indices: the max_pool values as both outputs when the indices go unread.
TEST(PoolingTest, MaxPoolWithIndicesGivesValues) {
  t::FakeNode n("aten::max_pool2d_with_indices", 2);
  n.Add(t::Value::Tensor({3, 9, 8})).Add(t::Value::Ints({2})).Add(t::Value::Ints({}));
  n.Add(t::Value::Ints({1})).Add(t::Value::Ints({1})).Add(t::Value::Bool(false));
  n.UnusedOutput(1);
  ASSERT_TRUE(n.Lower(Decl("aten::max_pool2d_with_indices"))) << n.error();
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"expand_dims", "max_pool", "squeeze"}));
  EXPECT_EQ(n.planned().shape, (Shape{3, 5, 5}));
  EXPECT_EQ(n.ArgInts(n.ops()[1], "pad"), (Shape{1, 1, 1, 1}));
  EXPECT_EQ(n.OutputOp(1), n.OutputOp(0));

  t::FakeNode read("aten::max_pool1d_with_indices", 2);
  read.Add(t::Value::Tensor({1, 3, 9})).Add(t::Value::Ints({3})).Add(t::Value::Ints({}));
  read.Add(t::Value::Ints({0})).Add(t::Value::Ints({1})).Add(t::Value::Bool(false));
  EXPECT_FALSE(read.Infer(Decl("aten::max_pool1d_with_indices")));
  EXPECT_NE(read.error().find("the indices output is read"), std::string::npos) << read.error();
}

TEST(PoolingTest, AdaptiveAvgPool3d) {
  t::FakeNode n("aten::adaptive_avg_pool3d");
  n.Add(t::Value::Tensor({1, 2, 4, 6, 8})).Add(t::Value::Ints({2, 3, 4}));
  ASSERT_TRUE(n.Lower(Decl("aten::adaptive_avg_pool3d"))) << n.error();
  EXPECT_EQ(n.planned().shape, (Shape{1, 2, 2, 3, 4}));
  EXPECT_EQ(n.OutputOp()->type, "avg_pool");
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "kernel_sizes"), (Shape{2, 2, 2}));
}

TEST(PoolingTest, Im2colIsDepthwiseOneHotConv) {
  t::FakeNode n("aten::im2col");
  n.Add(t::Value::Tensor({2, 3, 5, 6})).Add(t::Value::Ints({2, 3})).Add(t::Value::Ints({1, 1}));
  n.Add(t::Value::Ints({1, 0})).Add(t::Value::Ints({2, 1}));
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::im2col"))) << n.error();
  // Blocks: (5 + 2 - 2) / 2 + 1 = 3 rows, (6 - 3) / 1 + 1 = 4 columns.
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP16, {2, 18, 12}));
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"conv", "reshape"}));
  const t::FakeOp* conv = n.FindOp("conv", 0);
  EXPECT_EQ(n.ArgScalar(*conv, "groups"), 3);
  EXPECT_EQ(n.ArgInts(*conv, "pad"), (Shape{1, 1, 0, 0}));
  EXPECT_EQ(n.ArgType(*conv, "weight"), sdk::TensorType(T2C_DTYPE_FP16, {18, 1, 2, 3}));
  const std::vector<double> w = n.ArgValues(*conv, "weight");
  // Out channel 7 = channel 1, offset 1 = (0, 1).
  for (int64_t k = 0; k < 6; ++k) EXPECT_EQ(w[7 * 6 + k], k == 1 ? 1.0 : 0.0) << k;
}

TEST(PoolingTest, Col2imIsOneHotConvTranspose) {
  // 9 blocks of 2x3 over a 5x6 image, padding 1, stride 2: the full result is 6x7; cropping
  // padding 1 before leaves 5x6 after cropping 0 rows and 0 columns after.
  t::FakeNode n("aten::col2im");
  n.Add(t::Value::Tensor({1, 12, 9})).Add(t::Value::Ints({5, 6})).Add(t::Value::Ints({2, 3}));
  n.Add(t::Value::Ints({1, 1})).Add(t::Value::Ints({1, 1})).Add(t::Value::Ints({2, 2}));
  ASSERT_TRUE(n.Lower(Decl("aten::col2im"))) << n.error();
  EXPECT_EQ(n.planned().shape, (Shape{1, 2, 5, 6}));
  const t::FakeOp* conv = n.FindOp("conv_transpose", 0);
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(n.ArgInts(*conv, "pad"), (Shape{1, 0, 1, 0}));
  EXPECT_EQ(n.ArgScalar(*conv, "groups"), 2);

  // A 7x7 image holding 2x2 blocks of 3x3 at stride 3: rows 6 is never reached: zero padding.
  t::FakeNode gap("aten::col2im");
  gap.Add(t::Value::Tensor({9, 4})).Add(t::Value::Ints({7, 7})).Add(t::Value::Ints({3, 3}));
  gap.Add(t::Value::Ints({1, 1})).Add(t::Value::Ints({0, 0})).Add(t::Value::Ints({3, 3}));
  ASSERT_TRUE(gap.Lower(Decl("aten::col2im"))) << gap.error();
  EXPECT_EQ(gap.planned().shape, (Shape{1, 7, 7}));
  EXPECT_EQ(gap.op_types(),
            (std::vector<std::string>{"reshape", "conv_transpose", "pad", "reshape"}));
  EXPECT_EQ(gap.ArgInts(*gap.FindOp("pad", 0), "pad"), (Shape{0, 0, 0, 0, 0, 1, 0, 1}));

  t::FakeNode bad("aten::col2im");
  bad.Add(t::Value::Tensor({1, 12, 8})).Add(t::Value::Ints({5, 6})).Add(t::Value::Ints({2, 3}));
  bad.Add(t::Value::Ints({1, 1})).Add(t::Value::Ints({1, 1})).Add(t::Value::Ints({2, 2}));
  EXPECT_FALSE(bad.Infer(Decl("aten::col2im")));
  EXPECT_NE(bad.error().find("does not hold"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
