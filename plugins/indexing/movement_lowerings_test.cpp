/// Tests of the data-movement and index lowerings (movement_lowerings.cpp): shapes and emitted
/// MIL per parameter (negative dims, each stacking op, 'ij'/'xy', diagonals), and refusals.
#include "indexing/movement_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "indexing/indexing_lowerings.h"
#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using sdk::TensorType;
using Shape = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(IndexingPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

TEST(MovementTest, PluginTableHoldsBothFiles) {
  EXPECT_NE(t::FindDecl(IndexingPluginInfo(), "aten::slice.Tensor"), nullptr);
  EXPECT_NE(t::FindDecl(IndexingPluginInfo(), "aten::flip"), nullptr);
  EXPECT_NE(t::FindDecl(IndexingPluginInfo(), "aten::one_hot"), nullptr);
}

TEST(MovementTest, FlipNormalizesDims) {
  t::FakeNode n("aten::flip");
  n.Add(t::Value::Tensor({2, 1, 4})).Add(t::Value::Ints({-1, 0, 1}));
  ASSERT_TRUE(n.Lower(Decl("aten::flip"))) << n.error();
  EXPECT_EQ(n.op_types(), (Ops{"reverse"}));
  // The unit axis is left out.
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "axes"), (Shape{0, 2}));

  t::FakeNode dup("aten::flip");
  dup.Add(t::Value::Tensor({2, 3})).Add(t::Value::Ints({1, -1}));
  EXPECT_FALSE(dup.Infer(Decl("aten::flip")));
  EXPECT_NE(dup.error().find("duplicate"), std::string::npos) << dup.error();
}

TEST(MovementTest, StackingOps) {
  struct Case {
    std::string op;
    std::vector<Shape> inputs;
    int64_t dim;  // stack only
    Shape out;
  };
  const std::vector<Case> cases = {
      {"aten::stack", {{2, 3}, {2, 3}}, 0, {2, 2, 3}},
      {"aten::stack", {{2, 3}, {2, 3}, {2, 3}}, -1, {2, 3, 3}},
      {"aten::stack", {{2, 3}, {2, 3}}, 1, {2, 2, 3}},
      {"aten::hstack", {{3}, {4}}, 0, {7}},
      {"aten::hstack", {{2, 3}, {2, 1}}, 0, {2, 4}},
      {"aten::vstack", {{3}, {3}}, 0, {2, 3}},
      {"aten::row_stack", {{2, 3}, {1, 3}}, 0, {3, 3}},
      {"aten::dstack", {{3}, {3}}, 0, {1, 3, 2}},
      {"aten::dstack", {{2, 3}, {2, 3, 2}}, 0, {2, 3, 3}},
      {"aten::column_stack", {{3}, {3, 2}}, 0, {3, 3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op + " -> " + t::TypeString(TensorType(T2C_DTYPE_FP32, c.out)));
    t::FakeNode n(c.op);
    std::vector<TensorType> types;
    for (const Shape& s : c.inputs) types.emplace_back(T2C_DTYPE_FP32, s);
    n.Add(t::Value::TensorList(types));
    if (c.op == "aten::stack") n.Add(t::Value::Int(c.dim));
    ASSERT_TRUE(n.Lower(Decl(c.op))) << n.error();
    EXPECT_EQ(n.planned().shape, c.out);
    EXPECT_EQ(n.op_types().back(), "concat");
  }
  t::FakeNode bad("aten::stack");
  bad.Add(t::Value::TensorList(
      {TensorType(T2C_DTYPE_FP32, {2, 3}), TensorType(T2C_DTYPE_FP32, {3, 2})}));
  bad.Add(t::Value::Int(0));
  EXPECT_FALSE(bad.Infer(Decl("aten::stack")));
  EXPECT_NE(bad.error().find("does not match"), std::string::npos) << bad.error();
}

TEST(MovementTest, PixelShuffleAndUnshuffle) {
  t::FakeNode up("aten::pixel_shuffle");
  up.Add(t::Value::Tensor({2, 3, 8, 4, 5})).Add(t::Value::Int(2));
  ASSERT_TRUE(up.Lower(Decl("aten::pixel_shuffle"))) << up.error();
  EXPECT_EQ(up.planned().shape, (Shape{2, 3, 2, 8, 10}));
  EXPECT_EQ(up.op_types(), (Ops{"reshape", "transpose", "reshape"}));
  EXPECT_EQ(up.ArgInts(*up.FindOp("reshape", 0), "shape"), (Shape{12, 2, 2, 4, 5}));
  EXPECT_EQ(up.ArgInts(*up.FindOp("transpose", 0), "perm"), (Shape{0, 3, 1, 4, 2}));

  t::FakeNode down("aten::pixel_unshuffle");
  down.Add(t::Value::Tensor({1, 3, 6, 9})).Add(t::Value::Int(3));
  ASSERT_TRUE(down.Lower(Decl("aten::pixel_unshuffle"))) << down.error();
  EXPECT_EQ(down.planned().shape, (Shape{1, 27, 2, 3}));
  EXPECT_EQ(down.ArgInts(*down.FindOp("reshape", 0), "shape"), (Shape{3, 2, 3, 3, 3}));
  EXPECT_EQ(down.ArgInts(*down.FindOp("transpose", 0), "perm"), (Shape{0, 2, 4, 1, 3}));

  t::FakeNode odd("aten::pixel_shuffle");
  odd.Add(t::Value::Tensor({1, 6, 4, 4})).Add(t::Value::Int(2));
  EXPECT_FALSE(odd.Infer(Decl("aten::pixel_shuffle")));
  EXPECT_NE(odd.error().find("not divisible by 4"), std::string::npos) << odd.error();
}

TEST(MovementTest, IndexSelectGatherTakeAlongDim) {
  t::FakeNode sel("aten::index_select");
  sel.Add(t::Value::Tensor({3, 5, 2})).Add(t::Value::Int(-2));
  sel.Add(t::Value::Tensor({}, T2C_DTYPE_INT32));
  ASSERT_TRUE(sel.Lower(Decl("aten::index_select"))) << sel.error();
  // A 0-d index keeps the dim with size 1.
  EXPECT_EQ(sel.planned().shape, (Shape{3, 1, 2}));
  EXPECT_EQ(sel.op_types(), (Ops{"reshape", "gather"}));
  EXPECT_EQ(sel.ArgScalar(*sel.OutputOp(), "axis"), 1);

  t::FakeNode g("aten::gather");
  g.Add(t::Value::Tensor({4, 5})).Add(t::Value::Int(1));
  g.Add(t::Value::Tensor({2, 7}, T2C_DTYPE_INT32)).Add(t::Value::Bool(false));
  ASSERT_TRUE(g.Lower(Decl("aten::gather"))) << g.error();
  EXPECT_EQ(g.planned().shape, (Shape{2, 7}));
  // Rows beyond the index's are cut first: MIL wants equal extents outside the axis.
  EXPECT_EQ(g.op_types(), (Ops{"slice_by_size", "gather_along_axis"}));
  EXPECT_EQ(g.ArgInts(*g.FindOp("slice_by_size", 0), "size"), (Shape{2, 5}));

  t::FakeNode big("aten::gather");
  big.Add(t::Value::Tensor({4, 5})).Add(t::Value::Int(0));
  big.Add(t::Value::Tensor({2, 6}, T2C_DTYPE_INT32)).Add(t::Value::Bool(false));
  EXPECT_FALSE(big.Infer(Decl("aten::gather")));

  t::FakeNode take("aten::take_along_dim");
  take.Add(t::Value::Tensor({4, 1, 5})).Add(t::Value::Tensor({1, 3, 2}, T2C_DTYPE_INT32));
  take.Add(t::Value::Int(-1));
  ASSERT_TRUE(take.Lower(Decl("aten::take_along_dim"))) << take.error();
  EXPECT_EQ(take.planned().shape, (Shape{4, 3, 2}));
  EXPECT_EQ(take.op_types(), (Ops{"tile", "tile", "gather_along_axis"}));

  t::FakeNode flat("aten::take_along_dim");
  flat.Add(t::Value::Tensor({4, 5})).Add(t::Value::Tensor({3}, T2C_DTYPE_INT32));
  flat.Add(t::Value::None());
  ASSERT_TRUE(flat.Lower(Decl("aten::take_along_dim"))) << flat.error();
  EXPECT_EQ(flat.planned().shape, (Shape{3}));
  EXPECT_EQ(flat.op_types(), (Ops{"reshape", "gather_along_axis"}));
}

TEST(MovementTest, RepeatInterleave) {
  t::FakeNode n("aten::repeat_interleave.self_int");
  n.Add(t::Value::Tensor({2, 3})).Add(t::Value::Int(3)).Add(t::Value::Int(-2));
  n.Add(t::Value::None());
  ASSERT_TRUE(n.Lower(Decl("aten::repeat_interleave.self_int"))) << n.error();
  EXPECT_EQ(n.planned().shape, (Shape{6, 3}));
  EXPECT_EQ(n.op_types(), (Ops{"reshape", "tile", "reshape"}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("tile", 0), "reps"), (Shape{1, 3, 1}));

  t::FakeNode flat("aten::repeat_interleave.self_int");
  flat.Add(t::Value::Tensor({2, 3})).Add(t::Value::Int(2)).Add(t::Value::None());
  flat.Add(t::Value::None());
  ASSERT_TRUE(flat.Lower(Decl("aten::repeat_interleave.self_int"))) << flat.error();
  EXPECT_EQ(flat.planned().shape, (Shape{12}));

  t::FakeNode zero("aten::repeat_interleave.self_int");
  zero.Add(t::Value::Tensor({2, 3})).Add(t::Value::Int(0)).Add(t::Value::Int(0));
  zero.Add(t::Value::None());
  EXPECT_FALSE(zero.Infer(Decl("aten::repeat_interleave.self_int")));
  EXPECT_NE(zero.error().find("must be positive"), std::string::npos) << zero.error();
}

TEST(MovementTest, MeshgridIndexing) {
  for (const std::string indexing : {"ij", "xy"}) {
    SCOPED_TRACE(indexing);
    t::FakeNode n("aten::meshgrid.indexing");
    n.Add(t::Value::TensorList({TensorType(T2C_DTYPE_FP32, {3}), TensorType(T2C_DTYPE_FP32, {4}),
                                TensorType(T2C_DTYPE_FP32, {})}));
    n.Add(t::Value::String(indexing));
    ASSERT_TRUE(n.Lower(Decl("aten::meshgrid.indexing"))) << n.error();
    const Shape out = indexing == "ij" ? Shape{3, 4, 1} : Shape{4, 3, 1};
    ASSERT_EQ(n.planned_list().size(), 3u);
    for (const TensorType& t : n.planned_list()) EXPECT_EQ(t.shape, out);
    // The first input spans axis 0 ('ij') or 1 ('xy').
    EXPECT_EQ(n.ArgInts(*n.FindOp("reshape", 0), "shape"),
              indexing == "ij" ? (Shape{3, 1, 1}) : (Shape{1, 3, 1}));
  }
  t::FakeNode bad("aten::meshgrid.indexing");
  bad.Add(t::Value::TensorList({TensorType(T2C_DTYPE_FP32, {3})})).Add(t::Value::String("ab"));
  EXPECT_FALSE(bad.Infer(Decl("aten::meshgrid.indexing")));
}

TEST(MovementTest, TrilTriuMasks) {
  t::FakeNode n("aten::tril");
  n.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::Int(-1));
  ASSERT_TRUE(n.Lower(Decl("aten::tril"))) << n.error();
  EXPECT_EQ(n.op_types(), (Ops{"reshape", "equal", "select"}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("reshape", 0), "x"), (Shape{0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0}));

  t::FakeNode u("aten::triu");
  u.Add(t::Value::Tensor({3, 3}, T2C_DTYPE_INT32)).Add(t::Value::Int(1));
  ASSERT_TRUE(u.Lower(Decl("aten::triu"))) << u.error();
  EXPECT_EQ(u.ArgInts(*u.FindOp("reshape", 0), "x"), (Shape{0, 1, 1, 0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(u.ArgType(*u.OutputOp(), "b").dtype, T2C_DTYPE_INT32);

  t::FakeNode all("aten::triu");
  all.Add(t::Value::Tensor({3, 3})).Add(t::Value::Int(-5));
  ASSERT_TRUE(all.Lower(Decl("aten::triu"))) << all.error();
  EXPECT_EQ(all.op_types(), (Ops{"identity"}));
}

TEST(MovementTest, OneHot) {
  t::FakeNode n("aten::one_hot");
  n.Add(t::Value::Tensor({2, 3}, T2C_DTYPE_INT32)).Add(t::Value::Int(5));
  ASSERT_TRUE(n.Lower(Decl("aten::one_hot"))) << n.error();
  EXPECT_EQ(n.planned(), TensorType(T2C_DTYPE_INT32, {2, 3, 5}));
  EXPECT_EQ(n.op_types(), (Ops{"reshape", "equal", "select"}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("equal", 0), "y"), (Shape{0, 1, 2, 3, 4}));

  t::FakeNode dynamic("aten::one_hot");
  dynamic.Add(t::Value::Tensor({4}, T2C_DTYPE_INT32)).Add(t::Value::Int(-1));
  EXPECT_FALSE(dynamic.Infer(Decl("aten::one_hot")));
  EXPECT_NE(dynamic.error().find("num_classes=-1"), std::string::npos) << dynamic.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
