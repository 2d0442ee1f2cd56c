/// Tests of the matmul family: torch.matmul's rank cases and batch broadcasting, mm/bmm checks,
/// addmm/baddbmm scaling, and einsum plans over a sweep of equations.
#include "matmul/matmul_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(MatmulPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

t::FakeNode Product(const std::string& op, Shape a, Shape b, t2c_dtype dtype = T2C_DTYPE_FP32) {
  t::FakeNode n(op);
  n.Add(t::Value::Tensor(a, dtype)).Add(t::Value::Tensor(b, dtype));
  return n;
}

struct MatmulCase {
  Shape a, b, out;
  std::vector<std::string> ops;
};

TEST(MatmulTest, RankCasesAndBroadcasting) {
  const std::vector<MatmulCase> cases = {
      {{5}, {5}, {}, {"reshape", "reshape", "matmul", "squeeze"}},  // dot
      {{3, 5}, {5}, {3}, {"reshape", "matmul", "reshape"}},         // matrix-vector
      {{5}, {5, 4}, {4}, {"reshape", "matmul", "reshape"}},         // vector-matrix
      {{3, 5}, {5, 4}, {3, 4}, {"matmul"}},
      {{2, 3, 5}, {5, 4}, {2, 3, 4}, {"matmul"}},
      {{5}, {2, 5, 4}, {2, 4}, {"reshape", "matmul", "reshape"}},
      {{2, 3, 5}, {5}, {2, 3}, {"reshape", "matmul", "reshape"}},
      {{2, 1, 3, 5}, {7, 5, 4}, {2, 7, 3, 4}, {"matmul"}},
      {{1, 3, 5}, {6, 5, 4}, {6, 3, 4}, {"matmul"}},
      {{4, 1, 2, 3, 5}, {1, 6, 1, 5, 2}, {4, 6, 2, 3, 2}, {"matmul"}},
  };
  for (const MatmulCase& c : cases) {
    for (t2c_dtype precision : {T2C_DTYPE_FP32, T2C_DTYPE_FP16}) {
      SCOPED_TRACE(t::TypeString(sdk::TensorType(precision, c.a)) + " @ " +
                   t::TypeString(sdk::TensorType(precision, c.b)));
      t::FakeNode n = Product("aten::matmul", c.a, c.b);
      n.Precision(precision);
      ASSERT_TRUE(n.Lower(Decl("aten::matmul"))) << n.error();
      EXPECT_EQ(n.planned(), sdk::TensorType(precision, c.out));
      EXPECT_EQ(n.op_types(), c.ops);
      const t::FakeOp* mm = n.FindOp("matmul");
      ASSERT_NE(mm, nullptr);
      EXPECT_EQ(n.ArgScalar(*mm, "transpose_x"), 0);
      EXPECT_EQ(n.ArgScalar(*mm, "transpose_y"), 0);
    }
  }
}

TEST(MatmulTest, IntOperandsStayInt) {
  t::FakeNode n = Product("aten::matmul", {2, 3}, {3, 4}, T2C_DTYPE_INT32);
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::matmul"))) << n.error();
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_INT32, {2, 4}));
  EXPECT_EQ(n.ArgType(*n.OutputOp(), "x").dtype, T2C_DTYPE_INT32);
}

TEST(MatmulTest, MismatchesAreRefused) {
  const std::vector<std::pair<Shape, Shape>> bad = {
      {{3, 5}, {4, 2}}, {{5}, {4}}, {{2, 3, 5}, {3, 5, 4}}, {{}, {3}}};
  for (const auto& [a, b] : bad) {
    t::FakeNode n = Product("aten::matmul", a, b);
    EXPECT_FALSE(n.Infer(Decl("aten::matmul")));
    EXPECT_NE(n.error().find("aten::matmul"), std::string::npos) << n.error();
  }
  t::FakeNode mixed("aten::matmul");
  mixed.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({3, 2}, T2C_DTYPE_INT32));
  EXPECT_FALSE(mixed.Infer(Decl("aten::matmul")));
  EXPECT_NE(mixed.error().find("different dtypes"), std::string::npos) << mixed.error();
}

TEST(MatmulTest, MmAndBmmCheckRanks) {
  t::FakeNode mm = Product("aten::mm", {3, 5}, {5, 2});
  ASSERT_TRUE(mm.Lower(Decl("aten::mm"))) << mm.error();
  EXPECT_EQ(mm.inferred().shape, (Shape{3, 2}));
  t::FakeNode mm3 = Product("aten::mm", {1, 3, 5}, {5, 2});
  EXPECT_FALSE(mm3.Infer(Decl("aten::mm")));
  EXPECT_NE(mm3.error().find("rank-2"), std::string::npos) << mm3.error();

  t::FakeNode bmm = Product("aten::bmm", {4, 3, 5}, {4, 5, 2});
  ASSERT_TRUE(bmm.Lower(Decl("aten::bmm"))) << bmm.error();
  EXPECT_EQ(bmm.inferred().shape, (Shape{4, 3, 2}));
  EXPECT_EQ(bmm.op_types(), (std::vector<std::string>{"matmul"}));
  t::FakeNode bcast = Product("aten::bmm", {1, 3, 5}, {4, 5, 2});
  EXPECT_FALSE(bcast.Infer(Decl("aten::bmm")));
  EXPECT_NE(bcast.error().find("does not broadcast"), std::string::npos) << bcast.error();
}

t::FakeNode AddProduct(const std::string& op, Shape self, Shape a, Shape b, double beta,
                       double alpha) {
  t::FakeNode n(op);
  n.Add(t::Value::Tensor(self)).Add(t::Value::Tensor(a)).Add(t::Value::Tensor(b));
  n.Add(t::Value::Float(beta)).Add(t::Value::Float(alpha));
  return n;
}

TEST(MatmulTest, AddmmBetaAlpha) {
  t::FakeNode plain = AddProduct("aten::addmm", {4}, {3, 5}, {5, 4}, 1, 1);
  ASSERT_TRUE(plain.Lower(Decl("aten::addmm"))) << plain.error();
  EXPECT_EQ(plain.op_types(), (std::vector<std::string>{"matmul", "add"}));
  EXPECT_EQ(plain.planned().shape, (Shape{3, 4}));
  EXPECT_EQ(plain.ArgInputIndex(*plain.OutputOp(), "x"), 0);

  t::FakeNode scaled = AddProduct("aten::addmm", {3, 4}, {3, 5}, {5, 4}, 0.5, 2);
  scaled.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(scaled.Lower(Decl("aten::addmm"))) << scaled.error();
  EXPECT_EQ(scaled.op_types(), (std::vector<std::string>{"matmul", "mul", "mul", "add"}));
  EXPECT_EQ(scaled.ArgScalar(*scaled.FindOp("mul", 0), "y"), 2);
  EXPECT_EQ(scaled.ArgScalar(*scaled.FindOp("mul", 1), "y"), 0.5);
  EXPECT_EQ(scaled.ArgType(*scaled.FindOp("mul", 1), "y").dtype, T2C_DTYPE_FP16);

  // beta = 0 ignores self entirely, as PyTorch does.
  t::FakeNode no_self = AddProduct("aten::addmm", {3, 4}, {3, 5}, {5, 4}, 0, 1);
  ASSERT_TRUE(no_self.Lower(Decl("aten::addmm"))) << no_self.error();
  EXPECT_EQ(no_self.op_types(), (std::vector<std::string>{"matmul"}));

  t::FakeNode bad_self = AddProduct("aten::addmm", {2, 4}, {3, 5}, {5, 4}, 1, 1);
  EXPECT_FALSE(bad_self.Infer(Decl("aten::addmm")));
  EXPECT_NE(bad_self.error().find("does not broadcast"), std::string::npos);
}

TEST(MatmulTest, Baddbmm) {
  t::FakeNode n = AddProduct("aten::baddbmm", {1, 3, 4}, {2, 3, 5}, {2, 5, 4}, 1, 0.25);
  ASSERT_TRUE(n.Lower(Decl("aten::baddbmm"))) << n.error();
  EXPECT_EQ(n.planned().shape, (Shape{2, 3, 4}));
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"matmul", "mul", "add"}));
}

struct EinsumCase {
  std::string equation;
  std::vector<Shape> operands;
  Shape out;
  std::vector<std::string> ops;
};

t::FakeNode Einsum(const std::string& eq, const std::vector<Shape>& shapes) {
  std::vector<sdk::TensorType> types;
  for (const Shape& s : shapes) types.emplace_back(T2C_DTYPE_FP32, s);
  t::FakeNode n("aten::einsum");
  n.Add(t::Value::String(eq)).Add(t::Value::TensorList(types)).Add(t::Value::None());
  return n;
}

TEST(MatmulTest, EinsumEquations) {
  const std::vector<EinsumCase> cases = {
      // maxvit's attention: batch dims flattened, k contracted through transpose_y.
      {"B G P H I D, B G P H J D -> B G P H I J",
       {{1, 2, 3, 4, 5, 8}, {1, 2, 3, 4, 6, 8}},
       {1, 2, 3, 4, 5, 6},
       {"reshape", "reshape", "matmul", "reshape"}},
      {"B G P H I J, B G P H J D -> B G P H I D",
       {{1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 6, 8}},
       {1, 2, 3, 4, 5, 8},
       {"reshape", "reshape", "matmul", "reshape"}},
      {"ij,jk->ik", {{3, 5}, {5, 4}}, {3, 4}, {"matmul"}},
      {"ij,kj->ik", {{3, 5}, {4, 5}}, {3, 4}, {"matmul"}},
      {"ji,jk->ik", {{5, 3}, {5, 4}}, {3, 4}, {"matmul"}},
      {"ij,jk", {{3, 5}, {5, 4}}, {3, 4}, {"matmul"}},  // implicit output
      {"ij,jk->ki", {{3, 5}, {5, 4}}, {4, 3}, {"matmul", "transpose"}},
      {"bij,bjk->bik", {{2, 3, 5}, {2, 5, 4}}, {2, 3, 4}, {"matmul"}},
      {"bhid,bhjd->bhij",
       {{2, 4, 7, 8}, {2, 4, 9, 8}},
       {2, 4, 7, 9},
       {"reshape", "reshape", "matmul", "reshape"}},
      {"...ij,...jk->...ik",
       {{2, 3, 3, 5}, {2, 3, 5, 4}},
       {2, 3, 3, 4},
       {"reshape", "reshape", "matmul", "reshape"}},
      {"i,i->", {{5}, {5}}, {}, {"reshape", "reshape", "matmul", "squeeze"}},
      {"i,j->ij", {{3}, {4}}, {3, 4}, {"reshape", "reshape", "matmul"}},
      {"ij->ji", {{3, 4}}, {4, 3}, {"transpose"}},
      {"ij->j", {{3, 4}}, {4}, {"reduce_sum"}},
      {"ij->", {{3, 4}}, {}, {"reduce_sum"}},
      {"ij->ij", {{3, 4}}, {3, 4}, {"identity"}},
      {"bn,anm,bm->ba",
       {{2, 3}, {5, 3, 4}, {2, 4}},
       {2, 5},
       {"transpose", "reshape", "matmul", "reshape", "reshape", "matmul", "reshape"}},
      {"nchw,oc->nohw",
       {{1, 3, 4, 5}, {6, 3}},
       {1, 6, 4, 5},
       {"transpose", "reshape", "matmul", "reshape", "transpose"}},
  };
  for (const EinsumCase& c : cases) {
    SCOPED_TRACE(c.equation);
    t::FakeNode n = Einsum(c.equation, c.operands);
    n.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl("aten::einsum"))) << n.error();
    EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP16, c.out));
    EXPECT_EQ(n.op_types(), c.ops);
  }
}

TEST(MatmulTest, EinsumPlansUseTransposeFlags) {
  t::FakeNode n = Einsum("bhid,bhjd->bhij", {{2, 4, 7, 8}, {2, 4, 9, 8}});
  ASSERT_TRUE(n.Lower(Decl("aten::einsum"))) << n.error();
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"reshape", "reshape", "matmul", "reshape"}));
  const t::FakeOp* mm = n.FindOp("matmul");
  EXPECT_EQ(n.ArgScalar(*mm, "transpose_x"), 0);
  EXPECT_EQ(n.ArgScalar(*mm, "transpose_y"), 1);
  EXPECT_EQ(n.ArgType(*mm, "x").shape, (Shape{8, 7, 8}));
  EXPECT_EQ(n.ArgType(*mm, "y").shape, (Shape{8, 9, 8}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("reshape", 2), "shape"), (Shape{2, 4, 7, 9}));

  t::FakeNode tx = Einsum("ji,jk->ik", {{5, 3}, {5, 4}});
  ASSERT_TRUE(tx.Lower(Decl("aten::einsum"))) << tx.error();
  EXPECT_EQ(tx.ArgScalar(*tx.FindOp("matmul"), "transpose_x"), 1);

  // A subscript only one operand has, and not in the output, is summed first.
  t::FakeNode summed = Einsum("ijx,jk->ik", {{3, 5, 2}, {5, 4}});
  ASSERT_TRUE(summed.Lower(Decl("aten::einsum"))) << summed.error();
  EXPECT_EQ(summed.op_types()[0], "reduce_sum");
  EXPECT_EQ(summed.ArgInts(*summed.FindOp("reduce_sum"), "axes"), (Shape{2}));
}

TEST(MatmulTest, EinsumDiagonals) {
  const std::vector<EinsumCase> cases = {
      {"ii->i", {{3, 3}}, {3}, {"reshape", "slice_by_index"}},
      {"ii", {{3, 3}}, {}, {"reshape", "slice_by_index", "reduce_sum"}},  // implicit: trace
      {"bii->bi", {{2, 3, 3}}, {2, 3}, {"reshape", "slice_by_index"}},
      {"iji->ji", {{3, 2, 3}}, {2, 3}, {"transpose", "reshape", "slice_by_index", "transpose"}},
      {"iiii->i",
       {{2, 2, 2, 2}},
       {2},
       {"reshape", "slice_by_index", "reshape", "slice_by_index", "reshape", "slice_by_index"}},
      {"ii,i->i",
       {{4, 4}, {4}},
       {4},
       {"reshape", "slice_by_index", "reshape", "reshape", "matmul", "reshape"}},
  };
  for (const EinsumCase& c : cases) {
    SCOPED_TRACE(c.equation);
    t::FakeNode n = Einsum(c.equation, c.operands);
    ASSERT_TRUE(n.Lower(Decl("aten::einsum"))) << n.error();
    EXPECT_EQ(n.planned().shape, c.out);
    EXPECT_EQ(n.op_types(), c.ops);
  }
  // The repeat's axis is moved next to the first, merged with it, and every (n+1)-th kept.
  t::FakeNode n = Einsum("iji->ji", {{3, 2, 3}});
  ASSERT_TRUE(n.Lower(Decl("aten::einsum"))) << n.error();
  EXPECT_EQ(n.ArgInts(*n.FindOp("transpose"), "perm"), (Shape{0, 2, 1}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("reshape"), "shape"), (Shape{9, 2}));
  const t::FakeOp* slice = n.FindOp("slice_by_index");
  EXPECT_EQ(n.ArgInts(*slice, "begin"), (Shape{0, 0}));
  EXPECT_EQ(n.ArgInts(*slice, "end"), (Shape{9, 2}));
  EXPECT_EQ(n.ArgInts(*slice, "stride"), (Shape{4, 1}));
  EXPECT_EQ(n.ArgType(*slice, "x").shape, (Shape{9, 2}));
}

TEST(MatmulTest, EinsumBroadcastsSizeOneSubscripts) {
  // j is 1 in the first operand and 4 in the second: the first is tiled, then multiplied.
  t::FakeNode n = Einsum("ij,ij->i", {{3, 1}, {3, 4}});
  ASSERT_TRUE(n.Lower(Decl("aten::einsum"))) << n.error();
  EXPECT_EQ(n.planned().shape, (Shape{3}));
  EXPECT_EQ(n.op_types().front(), "tile");
  EXPECT_EQ(n.ArgInts(*n.FindOp("tile"), "reps"), (Shape{1, 4}));
  // The contracted subscript k is 1 in the second operand.
  t::FakeNode c = Einsum("bik,bkj->bij", {{2, 3, 5}, {1, 1, 4}});
  ASSERT_TRUE(c.Lower(Decl("aten::einsum"))) << c.error();
  EXPECT_EQ(c.planned().shape, (Shape{2, 3, 4}));
  EXPECT_EQ(c.ArgInts(*c.FindOp("tile"), "reps"), (Shape{2, 5, 1}));
}

TEST(MatmulTest, EinsumRefusals) {
  const std::vector<std::pair<EinsumCase, std::string>> bad = {
      {{"ii->i", {{3, 4}}, {}, {}}, "has sizes 3 and 4"},
      {{"ij,jk->ik", {{3, 5}, {2, 4}}, {}, {}}, "has sizes 5 and 2"},
      {{"ij,jk->ik", {{3, 5}}, {}, {}}, "1 tensors"},
      {{"ij->ik", {{3, 5}}, {}, {}}, "appears in no operand"},
      {{"ijk->ik", {{3, 5}}, {}, {}}, "rank 2"},
      {{"i1->i", {{3, 5}}, {}, {}}, "invalid subscript"},
  };
  for (const auto& [c, message] : bad) {
    SCOPED_TRACE(c.equation);
    t::FakeNode n = Einsum(c.equation, c.operands);
    EXPECT_FALSE(n.Infer(Decl("aten::einsum")));
    EXPECT_NE(n.error().find(message), std::string::npos) << n.error();
  }
}

TEST(MatmulTest, VectorProducts) {
  struct Case {
    std::string op;
    Shape a, b, out;
    std::vector<std::string> ops;
  };
  const std::vector<Case> cases = {
      {"aten::mv", {3, 4}, {4}, {3}, {"reshape", "matmul", "reshape"}},
      {"aten::outer", {3}, {5}, {3, 5}, {"reshape", "reshape", "matmul"}},
      {"aten::ger", {2}, {2}, {2, 2}, {"reshape", "reshape", "matmul"}},
      {"aten::dot", {6}, {6}, {}, {"reshape", "reshape", "matmul", "squeeze"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    t::FakeNode n(c.op);
    n.Add(t::Value::Tensor(c.a)).Add(t::Value::Tensor(c.b));
    ASSERT_TRUE(n.Lower(Decl(c.op))) << n.error();
    EXPECT_EQ(n.planned().shape, c.out);
    EXPECT_EQ(n.op_types(), c.ops);
  }
  t::FakeNode bad("aten::dot");
  bad.Add(t::Value::Tensor({3})).Add(t::Value::Tensor({4}));
  EXPECT_FALSE(bad.Infer(Decl("aten::dot")));
}

TEST(MatmulTest, AddmvAddrAddbmm) {
  struct Case {
    std::string op;
    Shape self, a, b, out;
    std::string last;
  };
  const std::vector<Case> cases = {
      {"aten::addmv", {3}, {3, 4}, {4}, {3}, "add"},
      {"aten::addr", {1, 5}, {3}, {5}, {3, 5}, "add"},
      {"aten::addbmm", {4, 2}, {6, 4, 3}, {6, 3, 2}, {4, 2}, "add"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    t::FakeNode n(c.op);
    n.Add(t::Value::Tensor(c.self)).Add(t::Value::Tensor(c.a)).Add(t::Value::Tensor(c.b));
    n.Add(t::Value::Float(0.5)).Add(t::Value::Float(2));
    ASSERT_TRUE(n.Lower(Decl(c.op))) << n.error();
    EXPECT_EQ(n.planned().shape, c.out);
    EXPECT_EQ(n.OutputOp()->type, c.last);
    EXPECT_EQ(n.FindOp("mul", 1) != nullptr, true);  // alpha and beta
  }
  // beta = 0: self is not read (ATen ignores it, NaN included).
  t::FakeNode zero("aten::addbmm");
  zero.Add(t::Value::Tensor({4, 2})).Add(t::Value::Tensor({6, 4, 3}));
  zero.Add(t::Value::Tensor({6, 3, 2})).Add(t::Value::Float(0)).Add(t::Value::Float(1));
  ASSERT_TRUE(zero.Lower(Decl("aten::addbmm"))) << zero.error();
  EXPECT_EQ(zero.op_types(), (std::vector<std::string>{"matmul", "reduce_sum"}));
}

}  // namespace
}  // namespace ts2coreml::plugins
