/// Tests of the indexing family: slice/narrow/select bounds, chunk/split/unbind list outputs,
/// expand/repeat tiling, roll and pad in every mode, swept over parameters on small shapes with
/// hand-computed shapes and MIL parameters.
#include "indexing/indexing_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;
constexpr int64_t kMax = 9223372036854775807LL;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(IndexingPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

t::Value OptInt(bool has, int64_t v) { return has ? t::Value::Int(v) : t::Value::None(); }

TEST(IndexingTest, SliceSweepsBoundsAndSteps) {
  struct Case {
    Shape x;
    int64_t dim;
    bool has_start;
    int64_t start;
    bool has_end;
    int64_t end;
    int64_t step;
    int64_t begin_expected, end_expected, size_expected;
  };
  for (const Case& c : std::vector<Case>{
           {{4, 10}, 1, true, 2, true, 7, 1, 2, 7, 5},
           {{4, 10}, 1, true, 1, true, 8, 3, 1, 8, 3},      // 1, 4, 7
           {{4, 10}, -1, true, -3, false, 0, 1, 7, 10, 3},  // negative start wraps
           {{4, 10}, 0, false, 0, true, -1, 1, 0, 3, 3},    // negative end wraps
           {{4, 10}, 1, true, 0, true, kMax, 2, 0, 10, 5},  // INT64_MAX clamps
           {{4, 10}, 1, true, -20, true, 4, 1, 0, 4, 4},    // start clamps to 0
           {{2, 3, 9}, 2, true, 5, true, 100, 4, 5, 9, 1},  // one element
       }) {
    t::FakeNode n("aten::slice.Tensor");
    n.Add(t::Value::Tensor(c.x))
        .Add(t::Value::Int(c.dim))
        .Add(OptInt(c.has_start, c.start))
        .Add(OptInt(c.has_end, c.end))
        .Add(t::Value::Int(c.step));
    n.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl("aten::slice.Tensor"))) << n.error();
    const int64_t d = c.dim < 0 ? c.dim + static_cast<int64_t>(c.x.size()) : c.dim;
    Shape expected = c.x;
    expected[d] = c.size_expected;
    EXPECT_EQ(n.inferred().shape, expected);
    const t::FakeOp* op = n.OutputOp();
    ASSERT_NE(op, nullptr);
    ASSERT_EQ(op->type, "slice_by_index");
    Shape begin(c.x.size(), 0), end = c.x, stride(c.x.size(), 1);
    begin[d] = c.begin_expected;
    end[d] = c.end_expected;
    stride[d] = c.step;
    EXPECT_EQ(n.ArgInts(*op, "begin"), begin);
    EXPECT_EQ(n.ArgInts(*op, "end"), end);
    EXPECT_EQ(n.ArgInts(*op, "stride"), stride);
    EXPECT_EQ(op->output_types[0].dtype, T2C_DTYPE_FP16);
  }
}

TEST(IndexingTest, FullSliceIsIdentityAndBadSlicesAreRefused) {
  t::FakeNode full("aten::slice.Tensor");
  full.Add(t::Value::Tensor({3, 5})).Add(t::Value::Int(0)).Add(t::Value::Int(0));
  full.Add(t::Value::Int(kMax)).Add(t::Value::Int(1));
  ASSERT_TRUE(full.Lower(Decl("aten::slice.Tensor"))) << full.error();
  EXPECT_EQ(full.op_types(), std::vector<std::string>{"identity"});

  t::FakeNode empty("aten::slice.Tensor");
  empty.Add(t::Value::Tensor({3, 5})).Add(t::Value::Int(1)).Add(t::Value::Int(4));
  empty.Add(t::Value::Int(2)).Add(t::Value::Int(1));
  EXPECT_FALSE(empty.Infer(Decl("aten::slice.Tensor")));
  EXPECT_NE(empty.error().find("is empty"), std::string::npos) << empty.error();

  t::FakeNode step0("aten::slice.Tensor");
  step0.Add(t::Value::Tensor({3, 5})).Add(t::Value::Int(1)).Add(t::Value::None());
  step0.Add(t::Value::None()).Add(t::Value::Int(0));
  EXPECT_FALSE(step0.Infer(Decl("aten::slice.Tensor")));
  EXPECT_NE(step0.error().find("step 0 must be positive"), std::string::npos) << step0.error();

  t::FakeNode bad_dim("aten::slice.Tensor");
  bad_dim.Add(t::Value::Tensor({3, 5})).Add(t::Value::Int(2)).Add(t::Value::None());
  bad_dim.Add(t::Value::None()).Add(t::Value::Int(1));
  EXPECT_FALSE(bad_dim.Infer(Decl("aten::slice.Tensor")));
}

TEST(IndexingTest, SelectSlicesThenSqueezes) {
  struct Case {
    Shape x;
    int64_t dim, index;
    int64_t begin;
    Shape out;
  };
  for (const Case& c : std::vector<Case>{{{1, 197, 768}, 1, 0, 0, {1, 768}},
                                         {{3, 2, 4}, 0, -1, 2, {2, 4}},
                                         {{3, 2, 4}, -1, 3, 3, {3, 2}}}) {
    t::FakeNode n("aten::select.int");
    n.Add(t::Value::Tensor(c.x)).Add(t::Value::Int(c.dim)).Add(t::Value::Int(c.index));
    ASSERT_TRUE(n.Lower(Decl("aten::select.int"))) << n.error();
    EXPECT_EQ(n.inferred().shape, c.out);
    ASSERT_EQ(n.op_types(), (std::vector<std::string>{"slice_by_index", "squeeze"}));
    const int64_t d = c.dim < 0 ? c.dim + static_cast<int64_t>(c.x.size()) : c.dim;
    EXPECT_EQ(n.ArgInts(n.ops()[0], "begin")[d], c.begin);
    EXPECT_EQ(n.ArgInts(n.ops()[0], "end")[d], c.begin + 1);
    EXPECT_EQ(n.ArgInts(n.ops()[1], "axes"), Shape{d});
  }
  t::FakeNode out_of_range("aten::select.int");
  out_of_range.Add(t::Value::Tensor({3, 2})).Add(t::Value::Int(0)).Add(t::Value::Int(3));
  EXPECT_FALSE(out_of_range.Infer(Decl("aten::select.int")));
  EXPECT_NE(out_of_range.error().find("index 3 is out of range"), std::string::npos);
}

TEST(IndexingTest, NarrowIsASlice) {
  t::FakeNode n("aten::narrow");
  n.Add(t::Value::Tensor({2, 8})).Add(t::Value::Int(1)).Add(t::Value::Int(-5));
  n.Add(t::Value::Int(3));
  ASSERT_TRUE(n.Lower(Decl("aten::narrow"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{2, 3}));
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "begin"), (Shape{0, 3}));
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "end"), (Shape{2, 6}));
  t::FakeNode bad("aten::narrow");
  bad.Add(t::Value::Tensor({2, 8})).Add(t::Value::Int(1)).Add(t::Value::Int(6));
  bad.Add(t::Value::Int(3));
  EXPECT_FALSE(bad.Infer(Decl("aten::narrow")));
}

TEST(IndexingTest, ChunkAndSplitGiveListOutputs) {
  struct Case {
    std::string op;
    Shape x;
    t::Value arg;
    int64_t dim;
    std::vector<int64_t> sizes;
  };
  for (const Case& c : std::vector<Case>{
           {"aten::chunk", {1, 6, 4}, t::Value::Int(3), 1, {2, 2, 2}},
           {"aten::chunk", {1, 7, 4}, t::Value::Int(3), 1, {3, 3, 1}},
           {"aten::chunk", {5, 2}, t::Value::Int(4), 0, {2, 2, 1}},  // fewer chunks than asked
           {"aten::chunk", {1, 32, 384}, t::Value::Int(3), -1, {128, 128, 128}},
           {"aten::split.Tensor", {10, 3}, t::Value::Int(4), 0, {4, 4, 2}},
           {"aten::split.sizes", {10, 3}, t::Value::Ints({1, 6, 3}), 0, {1, 6, 3}},
           {"aten::split_with_sizes", {2, 9}, t::Value::Ints({4, 5}), -1, {4, 5}},
       }) {
    t::FakeNode n(c.op);
    n.Add(t::Value::Tensor(c.x)).Add(c.arg).Add(t::Value::Int(c.dim));
    n.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl(c.op))) << c.op << ": " << n.error();
    ASSERT_TRUE(n.is_list_output(0));
    const int64_t d = c.dim < 0 ? c.dim + static_cast<int64_t>(c.x.size()) : c.dim;
    std::vector<sdk::TensorType> inferred = n.inferred_list(0);
    ASSERT_EQ(inferred.size(), c.sizes.size()) << c.op;
    for (size_t k = 0; k < c.sizes.size(); ++k) {
      Shape s = c.x;
      s[d] = c.sizes[k];
      EXPECT_EQ(inferred[k].shape, s) << c.op << " piece " << k;
      EXPECT_EQ(inferred[k].dtype, T2C_DTYPE_FP32);
      EXPECT_EQ(n.planned_list(0)[k].dtype, T2C_DTYPE_FP16);
    }
    const t::FakeOp* split = n.FindOp("split");
    ASSERT_NE(split, nullptr);
    EXPECT_EQ(n.ArgInts(*split, "split_sizes"), c.sizes);
    EXPECT_EQ(n.ArgScalar(*split, "axis"), static_cast<double>(d));
    EXPECT_EQ(n.output_list(0), split->outputs);
  }
}

TEST(IndexingTest, SplitRefusesBadSizes) {
  t::FakeNode sum("aten::split.sizes");
  sum.Add(t::Value::Tensor({10, 3})).Add(t::Value::Ints({4, 4})).Add(t::Value::Int(0));
  EXPECT_FALSE(sum.Infer(Decl("aten::split.sizes")));
  EXPECT_NE(sum.error().find("sum to 8"), std::string::npos) << sum.error();
  t::FakeNode zero("aten::split.Tensor");
  zero.Add(t::Value::Tensor({10, 3})).Add(t::Value::Int(0)).Add(t::Value::Int(0));
  EXPECT_FALSE(zero.Infer(Decl("aten::split.Tensor")));
  t::FakeNode chunks("aten::chunk");
  chunks.Add(t::Value::Tensor({10, 3})).Add(t::Value::Int(0)).Add(t::Value::Int(0));
  EXPECT_FALSE(chunks.Infer(Decl("aten::chunk")));
}

TEST(IndexingTest, OnePieceIsAnIdentityList) {
  t::FakeNode n("aten::chunk");
  n.Add(t::Value::Tensor({1, 6})).Add(t::Value::Int(1)).Add(t::Value::Int(1));
  ASSERT_TRUE(n.Lower(Decl("aten::chunk"))) << n.error();
  EXPECT_EQ(n.op_types(), std::vector<std::string>{"identity"});
  EXPECT_EQ(n.output_list(0).size(), 1u);
}

TEST(IndexingTest, UnbindSplitsAndSqueezes) {
  t::FakeNode n("aten::unbind.int", 1);
  n.Add(t::Value::Tensor({3, 2, 5})).Add(t::Value::Int(0));
  ASSERT_TRUE(n.Lower(Decl("aten::unbind.int"))) << n.error();
  ASSERT_EQ(n.inferred_list(0).size(), 3u);
  for (const auto& ty : n.inferred_list(0)) EXPECT_EQ(ty.shape, (Shape{2, 5}));
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"split", "squeeze", "squeeze", "squeeze"}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("split"), "split_sizes"), (Shape{1, 1, 1}));
  t::FakeNode one("aten::unbind.int", 1);
  one.Add(t::Value::Tensor({1, 4, 2})).Add(t::Value::Int(-3));
  ASSERT_TRUE(one.Lower(Decl("aten::unbind.int"))) << one.error();
  EXPECT_EQ(one.op_types(), std::vector<std::string>{"squeeze"});
}

TEST(IndexingTest, ListOutputContractIsEnforcedByTheFakeHost) {
  // Binding a list output with a wrong number of vars is a contract violation the fake catches;
  // a correct lowering binds exactly the planned pieces (checked above). Here: the infer reports
  // FP32 element types even when the input is FP16.
  t::FakeNode n("aten::chunk");
  n.Add(t::Value::Tensor({4, 2}, T2C_DTYPE_FP16)).Add(t::Value::Int(2)).Add(t::Value::Int(0));
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::chunk"))) << n.error();
  for (const auto& ty : n.inferred_list(0)) EXPECT_EQ(ty.dtype, T2C_DTYPE_FP32);
  for (const auto& ty : n.planned_list(0)) EXPECT_EQ(ty.dtype, T2C_DTYPE_FP16);
}

TEST(IndexingTest, ExpandTilesSizeOneDims) {
  struct Case {
    Shape x;
    Shape size;
    Shape out;
    std::vector<std::string> ops;
    Shape reps;
  };
  for (const Case& c : std::vector<Case>{
           {{1, 1, 768}, {1, -1, -1}, {1, 1, 768}, {"identity"}, {}},
           {{1, 1, 768}, {4, -1, -1}, {4, 1, 768}, {"tile"}, {4, 1, 1}},
           {{3, 1}, {2, 3, 5}, {2, 3, 5}, {"expand_dims", "tile"}, {2, 1, 5}},
           {{3}, {2, 3}, {2, 3}, {"expand_dims", "tile"}, {2, 1}},
           {{3}, {1, 3}, {1, 3}, {"expand_dims"}, {}},
       }) {
    t::FakeNode n("aten::expand");
    n.Add(t::Value::Tensor(c.x)).Add(t::Value::Ints(c.size)).Add(t::Value::Bool(false));
    ASSERT_TRUE(n.Lower(Decl("aten::expand"))) << n.error();
    EXPECT_EQ(n.inferred().shape, c.out);
    EXPECT_EQ(n.op_types(), c.ops);
    if (!c.reps.empty()) {
      EXPECT_EQ(n.ArgInts(*n.FindOp("tile"), "reps"), c.reps);
    }
  }
  t::FakeNode bad("aten::expand");
  bad.Add(t::Value::Tensor({3, 2})).Add(t::Value::Ints({3, 4})).Add(t::Value::Bool(false));
  EXPECT_FALSE(bad.Infer(Decl("aten::expand")));
  EXPECT_NE(bad.error().find("only size-1 dims stretch"), std::string::npos);
}

TEST(IndexingTest, ExpandAsAndRepeat) {
  t::FakeNode as("aten::expand_as");
  as.Add(t::Value::Tensor({1, 4})).Add(t::Value::Tensor({3, 4}));
  ASSERT_TRUE(as.Lower(Decl("aten::expand_as"))) << as.error();
  EXPECT_EQ(as.inferred().shape, (Shape{3, 4}));
  EXPECT_EQ(as.ArgInts(*as.OutputOp(), "reps"), (Shape{3, 1}));

  t::FakeNode rep("aten::repeat");
  rep.Add(t::Value::Tensor({2, 3})).Add(t::Value::Ints({2, 1, 2}));
  ASSERT_TRUE(rep.Lower(Decl("aten::repeat"))) << rep.error();
  EXPECT_EQ(rep.inferred().shape, (Shape{2, 2, 6}));
  EXPECT_EQ(rep.op_types(), (std::vector<std::string>{"expand_dims", "tile"}));
  EXPECT_EQ(rep.ArgInts(*rep.OutputOp(), "reps"), (Shape{2, 1, 2}));
}

TEST(IndexingTest, RollIsSlicesAndConcatPerDim) {
  // swin: roll(x, shifts=(-3, -3), dims=(1, 2)) on [1, 56, 56, 96].
  t::FakeNode n("aten::roll");
  n.Add(t::Value::Tensor({1, 56, 56, 96})).Add(t::Value::Ints({-3, -3}));
  n.Add(t::Value::Ints({1, 2}));
  ASSERT_TRUE(n.Lower(Decl("aten::roll"))) << n.error();
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"slice_by_index", "slice_by_index", "concat",
                                                    "slice_by_index", "slice_by_index", "concat"}));
  // shift -3 mod 56 = 53: cat(x[3:], x[:3]).
  EXPECT_EQ(n.ArgInts(n.ops()[0], "begin"), (Shape{0, 3, 0, 0}));
  EXPECT_EQ(n.ArgInts(n.ops()[1], "end"), (Shape{1, 3, 56, 96}));
  EXPECT_EQ(n.ArgScalar(n.ops()[2], "axis"), 1.0);
  EXPECT_EQ(n.ArgInts(n.ops()[3], "begin"), (Shape{0, 0, 3, 0}));
  EXPECT_EQ(n.ArgScalar(n.ops()[5], "axis"), 2.0);
  EXPECT_EQ(n.OutputOp()->output_types[0].shape, (Shape{1, 56, 56, 96}));

  t::FakeNode flat("aten::roll");
  flat.Add(t::Value::Tensor({2, 3})).Add(t::Value::Ints({2})).Add(t::Value::Ints({}));
  ASSERT_TRUE(flat.Lower(Decl("aten::roll"))) << flat.error();
  EXPECT_EQ(flat.op_types(), (std::vector<std::string>{"reshape", "slice_by_index",
                                                       "slice_by_index", "concat", "reshape"}));
  EXPECT_EQ(flat.ArgInts(flat.ops()[1], "begin"), (Shape{4}));

  t::FakeNode full_turn("aten::roll");
  full_turn.Add(t::Value::Tensor({2, 3})).Add(t::Value::Ints({6})).Add(t::Value::Ints({1}));
  ASSERT_TRUE(full_turn.Lower(Decl("aten::roll"))) << full_turn.error();
  EXPECT_EQ(full_turn.op_types(), std::vector<std::string>{"identity"});

  t::FakeNode mismatch("aten::roll");
  mismatch.Add(t::Value::Tensor({2, 3})).Add(t::Value::Ints({1, 2})).Add(t::Value::Ints({1}));
  EXPECT_FALSE(mismatch.Infer(Decl("aten::roll")));
}

TEST(IndexingTest, PadModesAndOrder) {
  struct Case {
    std::string mode;
    Shape x;
    Shape pad;
    double value;
    Shape out;
    Shape mil_pad;
  };
  for (const Case& c : std::vector<Case>{
           // swin: F.pad(x, (0, 0, 0, 1, 0, 1)) on [1, 7, 7, 768]: the last dim first.
           {"constant", {1, 7, 7, 768}, {0, 0, 0, 1, 0, 1}, 0, {1, 8, 8, 768}, {0, 1, 0, 1, 0, 0}},
           {"constant", {1, 2, 5, 5}, {1, 2}, -1.5, {1, 2, 5, 8}, {1, 2}},
           {"reflect", {1, 2, 5, 5}, {1, 2, 3, 4}, 0, {1, 2, 12, 8}, {3, 4, 1, 2}},
           {"replicate", {1, 2, 5, 5}, {2, 2}, 0, {1, 2, 5, 9}, {2, 2}},
       }) {
    t::FakeNode n("aten::pad");
    n.Add(t::Value::Tensor(c.x)).Add(t::Value::Ints(c.pad)).Add(t::Value::String(c.mode));
    n.Add(c.mode == "constant" ? t::Value::Float(c.value) : t::Value::None());
    n.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl("aten::pad"))) << n.error();
    EXPECT_EQ(n.inferred().shape, c.out);
    const t::FakeOp* op = n.OutputOp();
    ASSERT_EQ(op->type, "pad");
    EXPECT_EQ(n.ArgInts(*op, "pad"), c.mil_pad);
    EXPECT_EQ(n.ArgString(*op, "mode"), c.mode);
    if (c.mode == "constant") {
      EXPECT_EQ(n.ArgScalar(*op, "constant_val"), c.value);
      EXPECT_EQ(n.ArgType(*op, "constant_val").dtype, T2C_DTYPE_FP16);
    } else {
      EXPECT_FALSE(op->Has("constant_val"));
    }
  }
}

TEST(IndexingTest, NegativeConstantPadCropsAndCircularConcats) {
  t::FakeNode crop("aten::constant_pad_nd");
  crop.Add(t::Value::Tensor({1, 4, 6})).Add(t::Value::Ints({-1, 2})).Add(t::Value::Float(0));
  ASSERT_TRUE(crop.Lower(Decl("aten::constant_pad_nd"))) << crop.error();
  EXPECT_EQ(crop.inferred().shape, (Shape{1, 4, 7}));
  EXPECT_EQ(crop.op_types(), (std::vector<std::string>{"slice_by_index", "pad"}));
  EXPECT_EQ(crop.ArgInts(crop.ops()[0], "begin"), (Shape{0, 0, 1}));
  EXPECT_EQ(crop.ArgInts(crop.ops()[1], "pad"), (Shape{0, 2}));

  t::FakeNode circ("aten::pad");
  circ.Add(t::Value::Tensor({1, 2, 5})).Add(t::Value::Ints({2, 1}));
  circ.Add(t::Value::String("circular")).Add(t::Value::None());
  ASSERT_TRUE(circ.Lower(Decl("aten::pad"))) << circ.error();
  EXPECT_EQ(circ.inferred().shape, (Shape{1, 2, 8}));
  EXPECT_EQ(circ.op_types(),
            (std::vector<std::string>{"slice_by_index", "slice_by_index", "concat"}));
  EXPECT_EQ(circ.ArgInts(circ.ops()[0], "begin"), (Shape{0, 0, 3}));  // x[..., 3:5]
  EXPECT_EQ(circ.ArgInts(circ.ops()[1], "end"), (Shape{1, 2, 1}));    // x[..., 0:1]
}

TEST(IndexingTest, ConstantPadOfIntegersConcatsFilledBlocks) {
  // [2, 3] int32 padded by (1, 2) on the last dim and (0, 1) on the first, after a crop.
  t::FakeNode n("aten::constant_pad_nd");
  n.Add(t::Value::Tensor({2, 3}, T2C_DTYPE_INT32)).Add(t::Value::Ints({-1, 2, 0, 1}));
  n.Add(t::Value::Int(7));
  ASSERT_TRUE(n.Lower(Decl("aten::constant_pad_nd"))) << n.error();
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_INT32, {3, 4}));
  EXPECT_EQ(n.op_types(),
            (std::vector<std::string>{"slice_by_index", "fill", "concat", "fill", "concat"}));
  const t::FakeOp& rows = n.ops()[1];
  EXPECT_EQ(n.ArgInts(rows, "shape"), (Shape{1, 2}));
  EXPECT_EQ(n.ArgScalar(rows, "value"), 7);
  EXPECT_EQ(n.ArgType(rows, "value").dtype, T2C_DTYPE_INT32);
  EXPECT_EQ(n.ArgInts(n.ops()[3], "shape"), (Shape{3, 2}));
  EXPECT_EQ(n.ArgScalar(n.ops()[4], "axis"), 1);

  t::FakeNode b("aten::constant_pad_nd");
  b.Add(t::Value::Tensor({3}, T2C_DTYPE_BOOL)).Add(t::Value::Ints({2, 0})).Add(t::Value::Int(1));
  ASSERT_TRUE(b.Lower(Decl("aten::constant_pad_nd"))) << b.error();
  EXPECT_EQ(b.planned(), sdk::TensorType(T2C_DTYPE_BOOL, {5}));
  EXPECT_EQ(b.ArgType(b.ops()[0], "value").dtype, T2C_DTYPE_BOOL);
  EXPECT_EQ(b.ArgScalar(b.ops()[0], "value"), 1);

  t::FakeNode reflect("aten::pad");
  reflect.Add(t::Value::Tensor({1, 2, 5}, T2C_DTYPE_INT32)).Add(t::Value::Ints({1, 1}));
  reflect.Add(t::Value::String("reflect")).Add(t::Value::None());
  EXPECT_FALSE(reflect.Infer(Decl("aten::pad")));
  EXPECT_NE(reflect.error().find("reflect padding of non-float tensors"), std::string::npos)
      << reflect.error();
}

TEST(IndexingTest, PadRefusesWhatMilCannotExpress) {
  struct Case {
    std::string mode;
    Shape x, pad;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"reflect", {1, 2, 5}, {5, 0}, "must be smaller than the padded dim"},
           {"replicate", {1, 2, 5, 5, 5}, {1, -1, 1, 1, 1, 1}, "negative padding"},
           {"reflect", {1, 2, 5}, {-1, 0}, "negative padding"},
           {"wrap", {1, 2, 5}, {1, 1}, "is not one of"},
           {"constant", {1, 2, 5}, {1, 1, 1}, "even length"},
           {"constant", {1, 2, 5}, {-3, -2}, "empty"},
       }) {
    t::FakeNode n("aten::pad");
    n.Add(t::Value::Tensor(c.x)).Add(t::Value::Ints(c.pad)).Add(t::Value::String(c.mode));
    n.Add(t::Value::None());
    EXPECT_FALSE(n.Infer(Decl("aten::pad"))) << c.mode;
    EXPECT_NE(n.error().find(c.message), std::string::npos) << n.error();
  }
}

/// Reflect/replicate beyond the last two dims: the deep dim is composed from size-1 slices and a
/// concat, the last two go to MIL pad.
TEST(IndexingTest, ModePadOpsComposeDeepDims) {
  t::FakeNode refl("aten::reflection_pad3d");
  refl.Add(t::Value::Tensor({1, 2, 4, 5, 6})).Add(t::Value::Ints({1, 2, 0, 1, 2, 1}));
  ASSERT_TRUE(refl.Lower(Decl("aten::reflection_pad3d"))) << refl.error();
  EXPECT_EQ(refl.inferred().shape, (Shape{1, 2, 7, 6, 9}));
  EXPECT_EQ(refl.op_types(), (std::vector<std::string>{"slice_by_index", "slice_by_index",
                                                       "slice_by_index", "concat", "pad"}));
  // Before: x[2], x[1]; after: x[n - 2] = x[2].
  EXPECT_EQ(refl.ArgInts(refl.ops()[0], "begin"), (Shape{0, 0, 2, 0, 0}));
  EXPECT_EQ(refl.ArgInts(refl.ops()[1], "begin"), (Shape{0, 0, 1, 0, 0}));
  EXPECT_EQ(refl.ArgInts(refl.ops()[2], "begin"), (Shape{0, 0, 2, 0, 0}));
  EXPECT_EQ(refl.ArgInts(refl.ops()[4], "pad"), (Shape{0, 1, 1, 2}));

  t::FakeNode rep("aten::replication_pad1d");
  rep.Add(t::Value::Tensor({3, 5})).Add(t::Value::Ints({2, 0}));
  ASSERT_TRUE(rep.Lower(Decl("aten::replication_pad1d"))) << rep.error();
  EXPECT_EQ(rep.inferred().shape, (Shape{3, 7}));
  EXPECT_EQ(rep.op_types(), (std::vector<std::string>{"pad"}));

  t::FakeNode rep3("aten::replication_pad3d");
  rep3.Add(t::Value::Tensor({2, 3, 4, 5})).Add(t::Value::Ints({0, 0, 0, 0, 0, 2}));
  ASSERT_TRUE(rep3.Lower(Decl("aten::replication_pad3d"))) << rep3.error();
  EXPECT_EQ(rep3.inferred().shape, (Shape{2, 5, 4, 5}));
  EXPECT_EQ(rep3.op_types(),
            (std::vector<std::string>{"slice_by_index", "slice_by_index", "concat"}));
  EXPECT_EQ(rep3.ArgInts(rep3.ops()[1], "begin"), (Shape{0, 2, 0, 0}));  // x[n - 1]
}

TEST(IndexingTest, BroadcastTensorsTilesOnlyWhatDiffers) {
  t::FakeNode n("aten::broadcast_tensors");
  n.Add(t::Value::TensorList(
      {sdk::TensorType(T2C_DTYPE_FP32, {3, 1}), sdk::TensorType(T2C_DTYPE_FP32, {2, 3, 4})}));
  ASSERT_TRUE(n.Lower(Decl("aten::broadcast_tensors"))) << n.error();
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"reshape", "tile"}));
  EXPECT_EQ(n.ArgInts(n.ops()[1], "reps"), (Shape{2, 1, 4}));
  t::FakeNode bad("aten::broadcast_tensors");
  bad.Add(t::Value::TensorList(
      {sdk::TensorType(T2C_DTYPE_FP32, {3}), sdk::TensorType(T2C_DTYPE_FP32, {4})}));
  EXPECT_FALSE(bad.Infer(Decl("aten::broadcast_tensors")));
  EXPECT_NE(bad.error().find("shape [4] does not broadcast with [3]"), std::string::npos)
      << bad.error();
  t::FakeNode mixed("aten::broadcast_tensors");
  mixed.Add(t::Value::TensorList(
      {sdk::TensorType(T2C_DTYPE_FP32, {3}), sdk::TensorType(T2C_DTYPE_INT32, {3})}));
  EXPECT_FALSE(mixed.Infer(Decl("aten::broadcast_tensors")));
  EXPECT_NE(mixed.error().find("different dtypes"), std::string::npos) << mixed.error();
}

TEST(IndexingTest, IndexPutOneHotAndMask) {
  t::FakeNode rows("aten::index_put");
  rows.Add(t::Value::Tensor({5, 3}));
  rows.Add(t::Value::OptionalTensorList({std::nullopt, sdk::TensorType(T2C_DTYPE_INT32, {2})}));
  rows.Add(t::Value::Tensor({5, 1})).Add(t::Value::Bool(false));
  ASSERT_TRUE(rows.Lower(Decl("aten::index_put"))) << rows.error();
  EXPECT_EQ(rows.inferred().shape, (Shape{5, 3}));
  const t::FakeOp* hot = rows.FindOp("equal", 0);
  ASSERT_NE(hot, nullptr);
  EXPECT_EQ(rows.ArgInts(*rows.FindOp("transpose", 0), "perm"), (Shape{1, 0}));  // dim 1 first
  EXPECT_EQ(rows.OutputOp()->type, "select");
  t::FakeNode acc("aten::index_put");
  acc.Add(t::Value::Tensor({5, 3}));
  acc.Add(t::Value::OptionalTensorList({sdk::TensorType(T2C_DTYPE_INT32, {4})}));
  acc.Add(t::Value::Tensor({3})).Add(t::Value::Bool(true));
  ASSERT_TRUE(acc.Lower(Decl("aten::index_put"))) << acc.error();
  EXPECT_EQ(acc.OutputOp()->type, "add");
  t::FakeNode mask("aten::index_put");
  mask.Add(t::Value::Tensor({4, 3}));
  mask.Add(t::Value::OptionalTensorList({sdk::TensorType(T2C_DTYPE_BOOL, {4})}));
  mask.Add(t::Value::Tensor({})).Add(t::Value::Bool(false));
  ASSERT_TRUE(mask.Lower(Decl("aten::index_put"))) << mask.error();
  EXPECT_EQ(mask.op_types(), (std::vector<std::string>{"reshape", "reshape", "select"}));
  EXPECT_EQ(mask.ArgInts(mask.ops()[0], "shape"), (Shape{4, 1}));
}

TEST(IndexingTest, IndexPutRefusals) {
  t::FakeNode two("aten::index_put");
  two.Add(t::Value::Tensor({5, 5}));
  two.Add(t::Value::OptionalTensorList(
      {sdk::TensorType(T2C_DTYPE_INT32, {2}), sdk::TensorType(T2C_DTYPE_INT32, {2})}));
  two.Add(t::Value::Tensor({2})).Add(t::Value::Bool(false));
  EXPECT_FALSE(two.Infer(Decl("aten::index_put")));
  EXPECT_NE(two.error().find("2 index tensors; only one"), std::string::npos) << two.error();
  t::FakeNode vals("aten::index_put");
  vals.Add(t::Value::Tensor({4}));
  vals.Add(t::Value::OptionalTensorList({sdk::TensorType(T2C_DTYPE_BOOL, {4})}));
  vals.Add(t::Value::Tensor({3})).Add(t::Value::Bool(false));
  EXPECT_FALSE(vals.Infer(Decl("aten::index_put")));
  EXPECT_NE(vals.error().find("count known only at run time"), std::string::npos);
  t::FakeNode shape("aten::index_put");
  shape.Add(t::Value::Tensor({5, 3}));
  shape.Add(t::Value::OptionalTensorList({sdk::TensorType(T2C_DTYPE_INT32, {2})}));
  shape.Add(t::Value::Tensor({2, 4})).Add(t::Value::Bool(false));
  EXPECT_FALSE(shape.Infer(Decl("aten::index_put")));
  EXPECT_NE(shape.error().find("do not broadcast to [2, 3]"), std::string::npos) << shape.error();
}

TEST(IndexingTest, ModePadOpsRefuseWrongRanks) {
  t::FakeNode n("aten::reflection_pad2d");
  n.Add(t::Value::Tensor({5, 5})).Add(t::Value::Ints({1, 1, 1, 1}));
  EXPECT_FALSE(n.Infer(Decl("aten::reflection_pad2d")));
  EXPECT_NE(n.error().find("needs 4 paddings and a 3-d or 4-d input"), std::string::npos)
      << n.error();
  t::FakeNode m("aten::replication_pad1d");
  m.Add(t::Value::Tensor({2, 5})).Add(t::Value::Ints({1, 1, 1, 1}));
  EXPECT_FALSE(m.Infer(Decl("aten::replication_pad1d")));
  EXPECT_NE(m.error().find("needs 2 paddings"), std::string::npos) << m.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
