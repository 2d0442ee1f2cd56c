/// Tests of the shape family: flatten/reshape/view shapes, permute/transpose perms, unsqueeze,
/// squeeze, cat, item of a run-time tensor, and the passthrough declaration of identity ops.
#include "shape/shape_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(ShapePluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

TEST(ShapeTest, FlattenIsReshape) {
  struct Case {
    Shape x;
    int64_t start, end;
    Shape expected;
  };
  for (const Case& c : std::vector<Case>{{{1, 960, 1, 1}, 1, -1, {1, 960}},
                                         {{2, 3, 4, 5}, 0, -1, {120}},
                                         {{2, 3, 4, 5}, 1, 2, {2, 12, 5}},
                                         {{2, 3}, -1, -1, {2, 3}}}) {
    t::FakeNode n("aten::flatten.using_ints");
    n.Add(t::Value::Tensor(c.x)).Add(t::Value::Int(c.start)).Add(t::Value::Int(c.end));
    n.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl("aten::flatten.using_ints"))) << n.error();
    EXPECT_EQ(n.inferred().shape, c.expected);
    const t::FakeOp* op = n.OutputOp();
    ASSERT_EQ(op->type, "reshape");
    EXPECT_EQ(n.ArgInts(*op, "shape"), c.expected);
  }
}

TEST(ShapeTest, ReshapeResolvesMinusOne) {
  t::FakeNode n("aten::view");
  n.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::Ints({-1, 4}));
  ASSERT_TRUE(n.Lower(Decl("aten::view"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{6, 4}));
  t::FakeNode bad("aten::reshape");
  bad.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::Ints({5, -1}));
  EXPECT_FALSE(bad.Infer(Decl("aten::reshape")));
  EXPECT_NE(bad.error().find("shape [5, -1] is invalid for input [2, 3, 4]"), std::string::npos)
      << bad.error();
}

TEST(ShapeTest, ReshapeKeepsIntDtype) {
  t::FakeNode n("aten::reshape");
  n.Add(t::Value::Tensor({6}, T2C_DTYPE_INT32)).Add(t::Value::Ints({2, 3}));
  ASSERT_TRUE(n.Lower(Decl("aten::reshape"))) << n.error();
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_INT32, {2, 3}));
}

TEST(ShapeTest, ReshapeFromTensorReadsTheShapeConstant) {
  // aten::_reshape_from_tensor(self, shape): the shape is a constant 1-D tensor, read as ints.
  t::FakeNode n("aten::_reshape_from_tensor");
  n.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::Ints({4, -1}));
  ASSERT_TRUE(n.Lower(Decl("aten::_reshape_from_tensor"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{4, 6}));
  EXPECT_EQ(n.OutputOp()->type, "reshape");
}

TEST(ShapeTest, NativeDropoutInEvalIsTheInputAndATrueMask) {
  // train=False: (input, ones_like(input, bool)); the mask is a fill of true.
  t::FakeNode n("aten::native_dropout", 2);
  n.Add(t::Value::Tensor({2, 5})).Add(t::Value::Float(0.3)).Add(t::Value::Bool(false));
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::native_dropout"))) << n.error();
  EXPECT_EQ(n.planned(0), sdk::TensorType(T2C_DTYPE_FP16, {2, 5}));
  EXPECT_EQ(n.OutputOp(0)->type, "identity");
  EXPECT_EQ(n.planned(1), sdk::TensorType(T2C_DTYPE_BOOL, {2, 5}));
  ASSERT_EQ(n.OutputOp(1)->type, "fill");
  EXPECT_EQ(n.ArgScalar(*n.OutputOp(1), "value"), 1);
  EXPECT_EQ(n.ArgInts(*n.OutputOp(1), "shape"), (Shape{2, 5}));

  // train=None (training) with p = 0 keeps everything; its mask is ones in the input's dtype.
  t::FakeNode p0("aten::native_dropout", 2);
  p0.Add(t::Value::Tensor({3})).Add(t::Value::Float(0)).Add(t::Value::None());
  ASSERT_TRUE(p0.Lower(Decl("aten::native_dropout"))) << p0.error();
  EXPECT_EQ(p0.planned(1), sdk::TensorType(T2C_DTYPE_FP32, {3}));
  EXPECT_EQ(p0.ArgScalar(*p0.OutputOp(1), "value"), 1);

  // An unread mask emits nothing more than the identity.
  t::FakeNode unused("aten::native_dropout", 2);
  unused.Add(t::Value::Tensor({4, 4})).Add(t::Value::Float(0.5)).Add(t::Value::Bool(false));
  unused.UnusedOutput(1);
  ASSERT_TRUE(unused.Lower(Decl("aten::native_dropout"))) << unused.error();
  EXPECT_EQ(unused.op_types(), (std::vector<std::string>{"identity"}));

  // Training (train True, or None) with p != 0 draws a random mask: refused.
  for (const t::Value& mode : {t::Value::Bool(true), t::Value::None()}) {
    t::FakeNode train("aten::native_dropout", 2);
    train.Add(t::Value::Tensor({4})).Add(t::Value::Float(0.5)).Add(mode);
    EXPECT_FALSE(train.Infer(Decl("aten::native_dropout")));
    EXPECT_NE(train.error().find("aten::native_dropout: train=True with p=0.5 draws a random mask"),
              std::string::npos)
        << train.error();
  }
}

TEST(ShapeTest, PermuteAndTranspose) {
  t::FakeNode p("aten::permute");
  p.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::Ints({2, 0, -2}));
  ASSERT_TRUE(p.Lower(Decl("aten::permute"))) << p.error();
  EXPECT_EQ(p.inferred().shape, (Shape{4, 2, 3}));
  EXPECT_EQ(p.ArgInts(*p.OutputOp(), "perm"), (Shape{2, 0, 1}));
  t::FakeNode tr("aten::transpose.int");
  tr.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::Int(-1)).Add(t::Value::Int(0));
  ASSERT_TRUE(tr.Lower(Decl("aten::transpose.int"))) << tr.error();
  EXPECT_EQ(tr.inferred().shape, (Shape{4, 3, 2}));
  EXPECT_EQ(tr.OutputOp()->type, "transpose");
  EXPECT_EQ(tr.ArgInts(*tr.OutputOp(), "perm"), (Shape{2, 1, 0}));
}

TEST(ShapeTest, UnsqueezeAndSqueeze) {
  t::FakeNode u("aten::unsqueeze");
  u.Add(t::Value::Tensor({2, 3})).Add(t::Value::Int(-1));
  ASSERT_TRUE(u.Lower(Decl("aten::unsqueeze"))) << u.error();
  EXPECT_EQ(u.inferred().shape, (Shape{2, 3, 1}));
  EXPECT_EQ(u.OutputOp()->type, "expand_dims");
  EXPECT_EQ(u.ArgInts(*u.OutputOp(), "axes"), (Shape{2}));

  t::FakeNode s("aten::squeeze");
  s.Add(t::Value::Tensor({1, 3, 1, 2}));
  ASSERT_TRUE(s.Lower(Decl("aten::squeeze"))) << s.error();
  EXPECT_EQ(s.inferred().shape, (Shape{3, 2}));
  EXPECT_EQ(s.ArgInts(*s.OutputOp(), "axes"), (Shape{0, 2}));

  t::FakeNode sd("aten::squeeze.dim");
  sd.Add(t::Value::Tensor({1, 3, 1})).Add(t::Value::Int(1));  // size 3: no-op
  ASSERT_TRUE(sd.Lower(Decl("aten::squeeze.dim"))) << sd.error();
  EXPECT_EQ(sd.inferred().shape, (Shape{1, 3, 1}));
  EXPECT_EQ(sd.OutputOp()->type, "identity");
}

TEST(ShapeTest, CatIsConcat) {
  t::FakeNode n("aten::cat");
  n.Add(t::Value::TensorList({sdk::TensorType(T2C_DTYPE_FP32, {1, 2, 4}),
                              sdk::TensorType(T2C_DTYPE_FP32, {1, 3, 4}),
                              sdk::TensorType(T2C_DTYPE_FP32, {1, 1, 4})}));
  n.Add(t::Value::Int(-2)).Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::cat"))) << n.error();
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP16, {1, 6, 4}));
  const t::FakeOp* op = n.OutputOp();
  ASSERT_EQ(op->type, "concat");
  EXPECT_EQ(op->Arg("values")->size(), 3u);
  EXPECT_EQ(n.ArgScalar(*op, "axis"), 1);
  EXPECT_EQ(n.ArgScalar(*op, "interleave"), 0);
  t::FakeNode bad("aten::cat");
  bad.Add(t::Value::TensorList(
      {sdk::TensorType(T2C_DTYPE_FP32, {1, 2}), sdk::TensorType(T2C_DTYPE_FP32, {2, 2})}));
  bad.Add(t::Value::Int(1));
  EXPECT_FALSE(bad.Infer(Decl("aten::cat")));
}

TEST(ShapeTest, IdentityOpsArePassthrough) {
  for (const char* op : {"aten::dropout", "aten::feature_dropout", "aten::alpha_dropout",
                         "aten::contiguous", "aten::detach", "aten::clone"}) {
    const t2c_lowering_decl& d = Decl(op);
    EXPECT_EQ(d.flags & T2C_LOWERING_PASSTHROUGH, T2C_LOWERING_PASSTHROUGH) << op;
    EXPECT_EQ(d.infer_rule, T2C_INFER_SAME_AS_INPUT0) << op;
    EXPECT_EQ(d.lower, nullptr) << op;
    EXPECT_STREQ(d.name, "identity");
  }
  t::FakeNode n("aten::dropout");
  n.Add(t::Value::Tensor({1, 1280})).Add(t::Value::Float(0.2)).Add(t::Value::Bool(false));
  ASSERT_TRUE(n.Infer(Decl("aten::dropout"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 1280}));
}

TEST(ShapeTest, ItemOfARunTimeTensorIsARankZeroTensorOfItsClass) {
  // One element of any rank is squeezed to rank 0; a rank-0 input passes through an identity.
  for (const char* op : {"aten::item", "aten::_local_scalar_dense"}) {
    t::FakeNode n(op);
    n.Add(t::Value::Tensor({1, 1, 1}, T2C_DTYPE_INT32));
    ASSERT_TRUE(n.Lower(Decl(op))) << n.error();
    EXPECT_EQ(n.inferred().dtype, T2C_DTYPE_INT32) << op;
    EXPECT_EQ(n.inferred().shape, Shape{}) << op;
    EXPECT_EQ(n.OutputOp(0)->type, "squeeze") << op;
    EXPECT_EQ(n.ArgInts(*n.OutputOp(0), "axes"), (Shape{0, 1, 2})) << op;
  }
  t::FakeNode scalar("aten::item");
  scalar.Add(t::Value::Tensor({}, T2C_DTYPE_BOOL));
  ASSERT_TRUE(scalar.Lower(Decl("aten::item"))) << scalar.error();
  EXPECT_EQ(scalar.OutputOp(0)->type, "identity");
  EXPECT_EQ(scalar.inferred().dtype, T2C_DTYPE_BOOL);
}

TEST(ShapeTest, ItemRefusesMoreThanOneElement) {
  t::FakeNode n("aten::item");
  n.Add(t::Value::Tensor({2}));
  EXPECT_FALSE(n.Infer(Decl("aten::item")));
  EXPECT_NE(n.error().find("aten::item: a tensor of shape [2] cannot be converted to a number"),
            std::string::npos)
      << n.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
