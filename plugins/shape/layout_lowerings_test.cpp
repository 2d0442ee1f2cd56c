/// Tests of the layout lowerings: output shapes, the constant indices and permutations emitted,
/// and refusals.
#include "shape/layout_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"
#include "shape/shape_lowerings.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using sdk::TensorType;
using Shape = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(ShapePluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

TEST(LayoutTest, TMovedimUnflattenAtLeast) {
  t::FakeNode tr("aten::t");
  tr.Add(t::Value::Tensor({3, 5}));
  ASSERT_TRUE(tr.Lower(Decl("aten::t"))) << tr.error();
  EXPECT_EQ(tr.planned().shape, (Shape{5, 3}));

  t::FakeNode mv("aten::movedim.intlist");
  mv.Add(t::Value::Tensor({2, 3, 4, 5})).Add(t::Value::Ints({0, -1})).Add(t::Value::Ints({2, 0}));
  ASSERT_TRUE(mv.Lower(Decl("aten::movedim.intlist"))) << mv.error();
  // torch.movedim(x, (0, -1), (2, 0)).shape == (5, 3, 2, 4)
  EXPECT_EQ(mv.planned().shape, (Shape{5, 3, 2, 4}));
  EXPECT_EQ(mv.ArgInts(*mv.OutputOp(), "perm"), (Shape{3, 1, 0, 2}));

  t::FakeNode un("aten::unflatten.int");
  un.Add(t::Value::Tensor({2, 12})).Add(t::Value::Int(-1)).Add(t::Value::Ints({3, -1}));
  ASSERT_TRUE(un.Lower(Decl("aten::unflatten.int"))) << un.error();
  EXPECT_EQ(un.planned().shape, (Shape{2, 3, 4}));

  t::FakeNode a3("aten::atleast_3d");
  a3.Add(t::Value::Tensor({4}));
  ASSERT_TRUE(a3.Lower(Decl("aten::atleast_3d"))) << a3.error();
  EXPECT_EQ(a3.planned().shape, (Shape{1, 4, 1}));
}

TEST(LayoutTest, AtLeastOfATensorList) {
  for (const auto& [op, shapes] : std::vector<std::pair<std::string, std::vector<Shape>>>{
           {"aten::atleast_1d.Sequence", {{1}, {3}, {2, 2}}},
           {"aten::atleast_2d.Sequence", {{1, 1}, {1, 3}, {2, 2}}},
           {"aten::atleast_3d.Sequence", {{1, 1, 1}, {1, 3, 1}, {2, 2, 1}}}}) {
    SCOPED_TRACE(op);
    t::FakeNode n(op);
    n.Add(t::Value::TensorList({sdk::TensorType(T2C_DTYPE_INT32, {}),
                                sdk::TensorType(T2C_DTYPE_BOOL, {3}),
                                sdk::TensorType(T2C_DTYPE_INT32, {2, 2})}));
    ASSERT_TRUE(n.Lower(Decl(op))) << n.error();
    ASSERT_EQ(n.planned_list().size(), 3u);
    for (size_t k = 0; k < 3; ++k) EXPECT_EQ(n.planned_list()[k].shape, shapes[k]);
    EXPECT_EQ(n.planned_list()[1].dtype, T2C_DTYPE_BOOL);
    EXPECT_EQ(n.planned_list()[2].dtype, T2C_DTYPE_INT32);
  }
  t::FakeNode mixed("aten::atleast_2d.Sequence");
  mixed.Add(t::Value::TensorList(
      {sdk::TensorType(T2C_DTYPE_FP32, {3}), sdk::TensorType(T2C_DTYPE_INT32, {2})}));
  EXPECT_FALSE(mixed.Infer(Decl("aten::atleast_2d.Sequence")));
  EXPECT_NE(mixed.error().find("mixing float and non-float"), std::string::npos) << mixed.error();
  // An element already of the rank is still its own op.
  t::FakeNode same("aten::atleast_1d.Sequence");
  same.Add(t::Value::TensorList({sdk::TensorType(T2C_DTYPE_FP32, {3})}));
  ASSERT_TRUE(same.Lower(Decl("aten::atleast_1d.Sequence"))) << same.error();
  EXPECT_EQ(same.op_types(), (std::vector<std::string>{"identity"}));
}

TEST(LayoutTest, TileRot90ChannelShuffle) {
  t::FakeNode tile("aten::tile");
  tile.Add(t::Value::Tensor({2, 3})).Add(t::Value::Ints({2}));
  ASSERT_TRUE(tile.Lower(Decl("aten::tile"))) << tile.error();
  EXPECT_EQ(tile.planned().shape, (Shape{2, 6}));
  t::FakeNode wide("aten::tile");
  wide.Add(t::Value::Tensor({2, 3})).Add(t::Value::Ints({2, 1, 1}));
  ASSERT_TRUE(wide.Lower(Decl("aten::tile"))) << wide.error();
  EXPECT_EQ(wide.planned().shape, (Shape{2, 2, 3}));

  for (int64_t k : {1, 2, 3, -1, 4}) {
    SCOPED_TRACE(k);
    t::FakeNode rot("aten::rot90");
    rot.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::Int(k)).Add(t::Value::Ints({1, 2}));
    ASSERT_TRUE(rot.Lower(Decl("aten::rot90"))) << rot.error();
    const bool odd = ((k % 4) + 4) % 4 % 2 == 1;
    EXPECT_EQ(rot.planned().shape, odd ? (Shape{2, 4, 3}) : (Shape{2, 3, 4}));
    if (k == 1) EXPECT_EQ(rot.ArgInts(*rot.FindOp("reverse", 0), "axes"), (Shape{2}));
    if (k == 4) EXPECT_EQ(rot.op_types(), (Ops{"identity"}));
  }

  t::FakeNode cs("aten::channel_shuffle");
  cs.Add(t::Value::Tensor({1, 6, 2, 2})).Add(t::Value::Int(3));
  ASSERT_TRUE(cs.Lower(Decl("aten::channel_shuffle"))) << cs.error();
  EXPECT_EQ(cs.ArgInts(*cs.FindOp("reshape", 0), "shape"), (Shape{1, 3, 2, 4}));
}

TEST(LayoutTest, UnfoldDiagonalDiag) {
  t::FakeNode u("aten::unfold");
  u.Add(t::Value::Tensor({2, 7, 3})).Add(t::Value::Int(1)).Add(t::Value::Int(3));
  u.Add(t::Value::Int(2));
  ASSERT_TRUE(u.Lower(Decl("aten::unfold"))) << u.error();
  EXPECT_EQ(u.planned().shape, (Shape{2, 3, 3, 3}));
  EXPECT_EQ(u.ArgInts(*u.FindOp("reshape", 0), "x"), (Shape{0, 1, 2, 2, 3, 4, 4, 5, 6}));
  EXPECT_EQ(u.ArgInts(*u.FindOp("transpose", 0), "perm"), (Shape{0, 1, 3, 2}));

  t::FakeNode d("aten::diagonal");
  d.Add(t::Value::Tensor({3, 4, 2})).Add(t::Value::Int(1)).Add(t::Value::Int(0));
  d.Add(t::Value::Int(1));
  ASSERT_TRUE(d.Lower(Decl("aten::diagonal"))) << d.error();
  EXPECT_EQ(d.planned().shape, (Shape{2, 3}));
  // Plane [3, 4] flattened: (0, 1), (1, 2), (2, 3) -> 1, 6, 11.
  EXPECT_EQ(d.ArgInts(*d.FindOp("gather", 0), "indices"), (Shape{1, 6, 11}));

  t::FakeNode v("aten::diag");
  v.Add(t::Value::Tensor({2})).Add(t::Value::Int(-1));
  ASSERT_TRUE(v.Lower(Decl("aten::diag"))) << v.error();
  EXPECT_EQ(v.planned().shape, (Shape{3, 3}));
  EXPECT_EQ(v.ArgInts(*v.FindOp("reshape", 1), "x"), (Shape{0, 0, 0, 1, 0, 0, 0, 1, 0}));

  t::FakeNode e("aten::diag_embed");
  e.Add(t::Value::Tensor({2, 3})).Add(t::Value::Int(0)).Add(t::Value::Int(0));
  e.Add(t::Value::Int(2));
  ASSERT_TRUE(e.Lower(Decl("aten::diag_embed"))) << e.error();
  EXPECT_EQ(e.planned().shape, (Shape{3, 2, 3}));

  t::FakeNode empty("aten::diagonal");
  empty.Add(t::Value::Tensor({3, 4})).Add(t::Value::Int(5)).Add(t::Value::Int(0));
  empty.Add(t::Value::Int(1));
  EXPECT_FALSE(empty.Infer(Decl("aten::diagonal")));
}

TEST(LayoutTest, TakeTensorSplitScatters) {
  t::FakeNode take("aten::take");
  take.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({2, 2}, T2C_DTYPE_INT32));
  ASSERT_TRUE(take.Lower(Decl("aten::take"))) << take.error();
  EXPECT_EQ(take.planned().shape, (Shape{2, 2}));
  EXPECT_EQ(take.OutputOp()->type, "gather");

  t::FakeNode ts("aten::tensor_split.sections");
  ts.Add(t::Value::Tensor({2, 7})).Add(t::Value::Int(3)).Add(t::Value::Int(-1));
  ASSERT_TRUE(ts.Lower(Decl("aten::tensor_split.sections"))) << ts.error();
  ASSERT_EQ(ts.planned_list().size(), 3u);
  EXPECT_EQ(ts.planned_list()[0].shape, (Shape{2, 3}));
  EXPECT_EQ(ts.planned_list()[2].shape, (Shape{2, 2}));

  t::FakeNode hs("aten::hsplit.array");
  hs.Add(t::Value::Tensor({2, 6})).Add(t::Value::Ints({1, -2}));
  ASSERT_TRUE(hs.Lower(Decl("aten::hsplit.array"))) << hs.error();
  ASSERT_EQ(hs.planned_list().size(), 3u);
  EXPECT_EQ(hs.planned_list()[1].shape, (Shape{2, 3}));

  t::FakeNode ss("aten::slice_scatter");
  ss.Add(t::Value::Tensor({2, 6})).Add(t::Value::Tensor({2, 2})).Add(t::Value::Int(1));
  ss.Add(t::Value::Int(1)).Add(t::Value::None()).Add(t::Value::Int(3));
  ASSERT_TRUE(ss.Lower(Decl("aten::slice_scatter"))) << ss.error();
  EXPECT_EQ(ss.ArgInts(*ss.FindOp("gather", 0), "indices"), (Shape{0, 6, 2, 3, 7, 5}));

  t::FakeNode sel("aten::select_scatter");
  sel.Add(t::Value::Tensor({3, 4})).Add(t::Value::Tensor({4})).Add(t::Value::Int(0));
  sel.Add(t::Value::Int(-1));
  ASSERT_TRUE(sel.Lower(Decl("aten::select_scatter"))) << sel.error();
  EXPECT_EQ(sel.ArgInts(*sel.FindOp("gather", 0), "indices"), (Shape{0, 1, 3}));

  t::FakeNode bad("aten::slice_scatter");
  bad.Add(t::Value::Tensor({2, 6})).Add(t::Value::Tensor({2, 3})).Add(t::Value::Int(1));
  bad.Add(t::Value::Int(1)).Add(t::Value::None()).Add(t::Value::Int(3));
  EXPECT_FALSE(bad.Infer(Decl("aten::slice_scatter")));
}

}  // namespace
}  // namespace ts2coreml::plugins
