/// Tests of the core's host evaluators: shape arithmetic folds to constants, lists become aliases
/// or constant lists, and runtime values are refused with the node named.
#include "core/convert/constant_evaluator.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/base/errors.h"

namespace ts2coreml::core {
namespace {

using Ints = std::vector<int64_t>;

/// Adds a node with one output of `out_kind` (as the importer types it) and evaluates it.
ValueId Eval(Graph& g, const std::string& kind, const std::string& overload,
             std::vector<ValueId> inputs, ValueKind out_kind, EvalResult expect) {
  Node& n = g.AddNode(kind, overload, std::move(inputs), 1);
  const ValueId out = n.outputs[0];
  g.value(out).kind = out_kind;
  absl::StatusOr<EvalResult> r = EvaluateNode(g, static_cast<int>(g.nodes().size()) - 1);
  EXPECT_TRUE(r.ok()) << kind << ": " << r.status();
  if (r.ok()) {
    EXPECT_EQ(*r, expect) << kind;
  }
  return out;
}

/// Evaluates an int binary op on two int constants and returns the folded int.
int64_t IntOp(const std::string& kind, int64_t a, int64_t b) {
  Graph g;
  const ValueId out = Eval(g, kind, "int", {g.AddConstInt(a), g.AddConstInt(b)}, ValueKind::kInt,
                           EvalResult::kFolded);
  const Value& v = g.value(out);
  EXPECT_TRUE(v.is_const) << kind;
  EXPECT_EQ(v.kind, ValueKind::kInt) << kind;
  return v.i;
}

bool CmpOp(const std::string& kind, int64_t a, int64_t b) {
  Graph g;
  const ValueId out = Eval(g, kind, "int", {g.AddConstInt(a), g.AddConstInt(b)}, ValueKind::kBool,
                           EvalResult::kFolded);
  const Value& v = g.value(out);
  EXPECT_TRUE(v.is_const) << kind;
  EXPECT_EQ(v.kind, ValueKind::kBool) << kind;
  return v.b;
}

TEST(ConstantEvaluatorTest, DtypeIsTheScalarTypeCode) {
  // Scripted models pass a tensor's dtype on (x.new_zeros(..., dtype=x.dtype), aten::tensor).
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  const ValueId w = g.AddConstTensor("w", MakeFloatTensor({2}, {1, 2}));
  EXPECT_EQ(g.value(Eval(g, "prim::dtype", "", {x}, ValueKind::kInt, EvalResult::kFolded)).i, 6)
      << "float32";
  EXPECT_EQ(g.value(Eval(g, "prim::dtype", "", {w}, ValueKind::kInt, EvalResult::kFolded)).i, 6);
  const ValueId n = g.AddInput("n", TypeClass::kInt, {2});
  EXPECT_EQ(g.value(Eval(g, "prim::dtype", "", {n}, ValueKind::kInt, EvalResult::kFolded)).i, 4)
      << "int64";
  const ValueId b = g.AddInput("b", TypeClass::kBool, {2});
  EXPECT_EQ(g.value(Eval(g, "prim::dtype", "", {b}, ValueKind::kInt, EvalResult::kFolded)).i, 11)
      << "bool";
}

TEST(ConstantEvaluatorTest, CoreOpsAreRecognized) {
  Graph g;
  EXPECT_TRUE(IsCoreOp(g.AddNode("prim::ListConstruct", "", {}, 1)));
  EXPECT_TRUE(IsCoreOp(g.AddNode("aten::size", "int", {}, 1)));
  EXPECT_TRUE(IsCoreOp(g.AddNode("prim::NumToTensor", "", {}, 1)));
  EXPECT_FALSE(IsCoreOp(g.AddNode("aten::relu", "", {}, 1)));
  EXPECT_FALSE(IsCoreOp(g.AddNode("aten::add", "int", {}, 1)));
}

TEST(ConstantEvaluatorTest, WholeSizeFoldsToIntList) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3, 5, 7});
  const ValueId s = Eval(g, "aten::size", "", {x}, ValueKind::kIntList, EvalResult::kFolded);
  EXPECT_TRUE(g.value(s).is_const);
  EXPECT_EQ(g.value(s).kind, ValueKind::kIntList);
  EXPECT_EQ(g.value(s).ints, (Ints{2, 3, 5, 7}));
}

TEST(ConstantEvaluatorTest, SizeIntWithPositiveAndNegativeDim) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3, 5, 7});
  const ValueId d1 =
      Eval(g, "aten::size", "int", {x, g.AddConstInt(1)}, ValueKind::kInt, EvalResult::kFolded);
  const ValueId dm1 =
      Eval(g, "aten::size", "int", {x, g.AddConstInt(-1)}, ValueKind::kInt, EvalResult::kFolded);
  const ValueId dm4 =
      Eval(g, "aten::size", "int", {x, g.AddConstInt(-4)}, ValueKind::kInt, EvalResult::kFolded);
  EXPECT_TRUE(g.value(d1).is_const);
  EXPECT_EQ(g.value(d1).i, 3);
  EXPECT_EQ(g.value(dm1).i, 7);
  EXPECT_EQ(g.value(dm4).i, 2);
}

TEST(ConstantEvaluatorTest, SizeDimOutOfRangeIsAnErrorNamingTheNode) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  Node& n = g.AddNode("aten::size", "int", {x, g.AddConstInt(-3)}, 1);
  n.source = "model.py:17";
  absl::StatusOr<EvalResult> r = EvaluateNode(g, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ClassOf(r.status()), ErrorClass::kConversion);
  EXPECT_NE(r.status().message().find("aten::size.int at model.py:17"), std::string::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("-3"), std::string::npos) << r.status();
}

TEST(ConstantEvaluatorTest, DimAndNumel) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3, 4});
  const ValueId dim = Eval(g, "aten::dim", "", {x}, ValueKind::kInt, EvalResult::kFolded);
  const ValueId numel = Eval(g, "aten::numel", "", {x}, ValueKind::kInt, EvalResult::kFolded);
  EXPECT_EQ(g.value(dim).i, 3);
  EXPECT_EQ(g.value(numel).i, 24);
}

TEST(ConstantEvaluatorTest, IsFloatingPointAndShapeAsTensor) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3, 4});
  const ValueId n = g.AddInput("n", TypeClass::kInt, {5});
  const ValueId b = g.AddInput("b", TypeClass::kBool, {5});
  const ValueId w = g.AddConstTensor("w", MakeFloatTensor({2}, {1, 2}));
  for (const auto& [v, expected] :
       std::vector<std::pair<ValueId, bool>>{{x, true}, {n, false}, {b, false}, {w, true}}) {
    const ValueId f =
        Eval(g, "aten::is_floating_point", "", {v}, ValueKind::kBool, EvalResult::kFolded);
    EXPECT_EQ(g.value(f).b, expected) << g.value(v).name;
  }
  const ValueId s =
      Eval(g, "aten::_shape_as_tensor", "", {x}, ValueKind::kTensor, EvalResult::kFolded);
  const Value& sv = g.value(s);
  ASSERT_TRUE(sv.is_const && sv.tensor);
  EXPECT_EQ(sv.tensor->storage, ConstTensor::Storage::kInt64);
  EXPECT_EQ(sv.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(sv.tensor->At(0), 2);
  EXPECT_EQ(sv.tensor->At(2), 4);
  EXPECT_TRUE(IsCoreOp(g.nodes().back()));
}

TEST(ConstantEvaluatorTest, NumToTensorAndIntRoundTrip) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {4, 9});
  const ValueId s =
      Eval(g, "aten::size", "int", {x, g.AddConstInt(1)}, ValueKind::kInt, EvalResult::kFolded);
  const ValueId t =
      Eval(g, "prim::NumToTensor", "Scalar", {s}, ValueKind::kTensor, EvalResult::kFolded);
  const Value& tv = g.value(t);
  EXPECT_TRUE(tv.is_const);
  EXPECT_EQ(tv.kind, ValueKind::kTensor);
  EXPECT_TRUE(tv.typed);
  EXPECT_EQ(tv.type_class, TypeClass::kInt);
  EXPECT_TRUE(tv.shape.empty());
  ASSERT_NE(tv.tensor, nullptr);
  EXPECT_EQ(tv.tensor->numel(), 1);
  EXPECT_EQ(tv.tensor->At(0), 9.0);

  const ValueId back = Eval(g, "aten::Int", "Tensor", {t}, ValueKind::kInt, EvalResult::kFolded);
  EXPECT_TRUE(g.value(back).is_const);
  EXPECT_EQ(g.value(back).kind, ValueKind::kInt);
  EXPECT_EQ(g.value(back).i, 9);
}

TEST(ConstantEvaluatorTest, SqrtOfAnIntTensorIsAFloatTensor) {
  // torch.sqrt(torch.tensor(x.shape[1])) in a trace: the square root of a 0-d int64 tensor.
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 96});
  const ValueId s =
      Eval(g, "aten::size", "int", {x, g.AddConstInt(1)}, ValueKind::kInt, EvalResult::kFolded);
  const ValueId t =
      Eval(g, "prim::NumToTensor", "Scalar", {s}, ValueKind::kTensor, EvalResult::kFolded);
  const ValueId r = Eval(g, "aten::sqrt", "", {t}, ValueKind::kTensor, EvalResult::kFolded);
  EXPECT_EQ(g.value(r).type_class, TypeClass::kFloat);
  ASSERT_NE(g.value(r).tensor, nullptr);
  EXPECT_DOUBLE_EQ(g.value(r).tensor->At(0), std::sqrt(96.0));
}

TEST(ConstantEvaluatorTest, FloatNumToTensorAndFloatRoundTrip) {
  Graph g;
  const ValueId t = Eval(g, "prim::NumToTensor", "Scalar", {g.AddConstFloat(2.5)},
                         ValueKind::kTensor, EvalResult::kFolded);
  EXPECT_EQ(g.value(t).type_class, TypeClass::kFloat);
  const ValueId f = Eval(g, "aten::Float", "Tensor", {t}, ValueKind::kFloat, EvalResult::kFolded);
  EXPECT_EQ(g.value(f).kind, ValueKind::kFloat);
  EXPECT_DOUBLE_EQ(g.value(f).f, 2.5);
  // aten::Int truncates a float tensor toward zero, as int() does.
  const ValueId i = Eval(g, "aten::Int", "Tensor", {t}, ValueKind::kInt, EvalResult::kFolded);
  EXPECT_EQ(g.value(i).i, 2);
}

TEST(ConstantEvaluatorTest, IntArithmetic) {
  EXPECT_EQ(IntOp("aten::add", 7, 5), 12);
  EXPECT_EQ(IntOp("aten::sub", 7, 12), -5);
  EXPECT_EQ(IntOp("aten::mul", -7, 6), -42);
  EXPECT_EQ(IntOp("aten::floordiv", 7, 2), 3);
  EXPECT_EQ(IntOp("aten::remainder", 7, 3), 1);
}

TEST(ConstantEvaluatorTest, FloordivFollowsPythonForNegatives) {
  // Python: -7 // 2 == -4, 7 // -2 == -4, -7 // -2 == 3, -8 // 2 == -4.
  EXPECT_EQ(IntOp("aten::floordiv", -7, 2), -4);
  EXPECT_EQ(IntOp("aten::floordiv", 7, -2), -4);
  EXPECT_EQ(IntOp("aten::floordiv", -7, -2), 3);
  EXPECT_EQ(IntOp("aten::floordiv", -8, 2), -4);
  EXPECT_EQ(IntOp("aten::floordiv", 0, -3), 0);
}

TEST(ConstantEvaluatorTest, RemainderFollowsPythonForNegatives) {
  // Python: -7 % 3 == 2, 7 % -3 == -2, -7 % -3 == -1, -6 % 3 == 0.
  EXPECT_EQ(IntOp("aten::remainder", -7, 3), 2);
  EXPECT_EQ(IntOp("aten::remainder", 7, -3), -2);
  EXPECT_EQ(IntOp("aten::remainder", -7, -3), -1);
  EXPECT_EQ(IntOp("aten::remainder", -6, 3), 0);
  EXPECT_EQ(IntOp("aten::__mod__", -7, 3), 2);
}

TEST(ConstantEvaluatorTest, IntegerDivisionByZeroIsAnError) {
  Graph g;
  Node& n = g.AddNode("aten::floordiv", "int", {g.AddConstInt(4), g.AddConstInt(0)}, 1);
  g.value(n.outputs[0]).kind = ValueKind::kInt;
  absl::StatusOr<EvalResult> r = EvaluateNode(g, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("aten::floordiv.int"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("division by zero"), std::string::npos) << r.status();
}

TEST(ConstantEvaluatorTest, Comparisons) {
  EXPECT_TRUE(CmpOp("aten::eq", 3, 3));
  EXPECT_FALSE(CmpOp("aten::eq", 3, 4));
  EXPECT_TRUE(CmpOp("aten::ne", 3, 4));
  EXPECT_TRUE(CmpOp("aten::lt", -1, 0));
  EXPECT_FALSE(CmpOp("aten::lt", 0, 0));
  EXPECT_TRUE(CmpOp("aten::le", 0, 0));
  EXPECT_TRUE(CmpOp("aten::gt", 5, 2));
  EXPECT_FALSE(CmpOp("aten::gt", 2, 5));
  EXPECT_TRUE(CmpOp("aten::ge", 2, 2));
  EXPECT_FALSE(CmpOp("aten::ge", 1, 2));
}

TEST(ConstantEvaluatorTest, ArithmeticOnRuntimeTensorIsNotHandled) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2});
  Node& n = g.AddNode("aten::add", "Tensor", {x, x, g.AddConstInt(1)}, 1);
  (void)n;
  absl::StatusOr<EvalResult> r = EvaluateNode(g, 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, EvalResult::kNotHandled);
  EXPECT_FALSE(g.value(g.nodes()[0].outputs[0]).is_const);
}

TEST(ConstantEvaluatorTest, ListConstructOfConstIntsIsAnIntList) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3, 5});
  const ValueId d0 =
      Eval(g, "aten::size", "int", {x, g.AddConstInt(0)}, ValueKind::kInt, EvalResult::kFolded);
  const ValueId l = Eval(g, "prim::ListConstruct", "", {d0, g.AddConstInt(-1)}, ValueKind::kIntList,
                         EvalResult::kFolded);
  EXPECT_TRUE(g.value(l).is_const);
  EXPECT_EQ(g.value(l).kind, ValueKind::kIntList);
  EXPECT_EQ(g.value(l).ints, (Ints{2, -1}));
  EXPECT_TRUE(g.value(l).elements.empty());
}

TEST(ConstantEvaluatorTest, ListConstructOfTensorsIsATensorListWithElements) {
  Graph g;
  const ValueId a = g.AddInput("a", TypeClass::kFloat, {1, 2});
  const ValueId b = g.AddInput("b", TypeClass::kFloat, {1, 3});
  // The importer leaves a Tensor[] output untyped (kOther) or marks it kTensorList.
  const ValueId l1 =
      Eval(g, "prim::ListConstruct", "", {a, b}, ValueKind::kOther, EvalResult::kFolded);
  const ValueId l2 =
      Eval(g, "prim::ListConstruct", "", {b, a}, ValueKind::kTensorList, EvalResult::kFolded);
  EXPECT_EQ(g.value(l1).kind, ValueKind::kTensorList);
  EXPECT_EQ(g.value(l1).elements, (std::vector<ValueId>{a, b}));
  EXPECT_FALSE(g.value(l1).is_const);
  EXPECT_EQ(g.value(l2).kind, ValueKind::kTensorList);
  EXPECT_EQ(g.value(l2).elements, (std::vector<ValueId>{b, a}));
}

TEST(ConstantEvaluatorTest, ListUnpackAliasesTheElements) {
  Graph g;
  const ValueId a = g.AddInput("a", TypeClass::kFloat, {1, 2});
  const ValueId b = g.AddInput("b", TypeClass::kFloat, {1, 3});
  const ValueId l =
      Eval(g, "prim::ListConstruct", "", {a, b}, ValueKind::kTensorList, EvalResult::kFolded);
  Node& unpack = g.AddNode("prim::ListUnpack", "", {l}, 2);
  const ValueId u0 = unpack.outputs[0];
  const ValueId u1 = unpack.outputs[1];
  absl::StatusOr<EvalResult> r = EvaluateNode(g, 1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, EvalResult::kFolded);
  EXPECT_EQ(g.Resolve(u0), a);
  EXPECT_EQ(g.Resolve(u1), b);
  EXPECT_EQ(g.Resolve(a), a);

  // An alias of an alias resolves all the way (a second pack/unpack round).
  const ValueId l2 =
      Eval(g, "prim::ListConstruct", "", {u1, u0}, ValueKind::kTensorList, EvalResult::kFolded);
  EXPECT_EQ(g.value(l2).elements, (std::vector<ValueId>{b, a}));
  Node& unpack2 = g.AddNode("prim::ListUnpack", "", {l2}, 2);
  const ValueId w0 = unpack2.outputs[0];
  ASSERT_TRUE(EvaluateNode(g, 3).ok());
  EXPECT_EQ(g.Resolve(w0), b);
}

TEST(ConstantEvaluatorTest, ListUnpackOfIntListFoldsInts) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {6, 8});
  const ValueId s = Eval(g, "aten::size", "", {x}, ValueKind::kIntList, EvalResult::kFolded);
  Node& unpack = g.AddNode("prim::ListUnpack", "", {s}, 2);
  const ValueId h = unpack.outputs[0];
  const ValueId w = unpack.outputs[1];
  ASSERT_TRUE(EvaluateNode(g, 1).ok());
  EXPECT_EQ(g.value(h).i, 6);
  EXPECT_EQ(g.value(w).i, 8);
  EXPECT_TRUE(g.value(w).is_const);
}

TEST(ConstantEvaluatorTest, ListUnpackCountMismatchIsAnError) {
  Graph g;
  const ValueId a = g.AddInput("a", TypeClass::kFloat, {1});
  Eval(g, "prim::ListConstruct", "", {a}, ValueKind::kTensorList, EvalResult::kFolded);
  g.AddNode("prim::ListUnpack", "", {g.nodes()[0].outputs[0]}, 2);
  absl::StatusOr<EvalResult> r = EvaluateNode(g, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("prim::ListUnpack"), std::string::npos) << r.status();
}

TEST(ConstantEvaluatorTest, IntOfRuntimeTensorNamesTheNodeAndValue) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {});
  Node& n = g.AddNode("aten::Int", "Tensor", {x}, 1);
  n.source = "net.py:42";
  g.value(n.outputs[0]).kind = ValueKind::kInt;
  absl::StatusOr<EvalResult> r = EvaluateNode(g, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ClassOf(r.status()), ErrorClass::kConversion);
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find("aten::Int.Tensor at net.py:42"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("run time"), std::string::npos) << msg;
}

/// A one-element int64 tensor constant.
std::shared_ptr<const ConstTensor> MakeInt64Scalar(int64_t v) {
  auto storage = std::make_shared<int64_t>(v);
  auto t = std::make_shared<ConstTensor>();
  t->storage = ConstTensor::Storage::kInt64;
  t->data = storage.get();
  t->owner = storage;
  return t;
}

TEST(ConstantEvaluatorTest, ItemOfAConstantIsItsNumber) {
  Graph g;
  const ValueId f = g.AddConstTensor("f", MakeFloatTensor({1, 1}, {2.5f}));
  const ValueId i = g.AddConstTensor("i", MakeInt64Scalar(-7));
  for (const char* kind : {"aten::item", "aten::_local_scalar_dense"}) {
    const ValueId fv = Eval(g, kind, "", {f}, ValueKind::kFloat, EvalResult::kFolded);
    EXPECT_EQ(g.value(fv).kind, ValueKind::kFloat) << kind;
    EXPECT_EQ(g.value(fv).f, 2.5) << kind;
    const ValueId iv = Eval(g, kind, "", {i}, ValueKind::kInt, EvalResult::kFolded);
    EXPECT_EQ(g.value(iv).kind, ValueKind::kInt) << kind;
    EXPECT_EQ(g.value(iv).i, -7) << kind;
  }
}

TEST(ConstantEvaluatorTest, ItemOfARuntimeTensorGoesToItsLoweringAndOfALongOneIsRefused) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {});
  g.AddNode("aten::item", "", {x}, 1);
  absl::StatusOr<EvalResult> r = EvaluateNode(g, 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, EvalResult::kNotHandled);
  EXPECT_FALSE(IsCoreOp(g.nodes().back()));
  const ValueId w = g.AddConstTensor("w", MakeFloatTensor({2}, {1, 2}));
  g.AddNode("aten::_local_scalar_dense", "", {w}, 1);
  r = EvaluateNode(g, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("a tensor with 2 elements cannot be converted to a number"),
            std::string::npos)
      << r.status();
}

TEST(ConstantEvaluatorTest, SymSizeFoldsLikeSize) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3, 5});
  const ValueId all = Eval(g, "aten::sym_size", "", {x}, ValueKind::kIntList, EvalResult::kFolded);
  EXPECT_EQ(g.value(all).ints, (Ints{2, 3, 5}));
  const ValueId d =
      Eval(g, "aten::sym_size", "int", {x, g.AddConstInt(2)}, ValueKind::kInt, EvalResult::kFolded);
  EXPECT_EQ(g.value(d).i, 5);
  // torch 1.13's sym_size.int does not wrap negative dims (it reads past the sizes): refused.
  g.AddNode("aten::sym_size", "int", {x, g.AddConstInt(-1)}, 1);
  absl::StatusOr<EvalResult> r = EvaluateNode(g, static_cast<int>(g.nodes().size()) - 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("aten::sym_size.int: negative dimension -1"),
            std::string::npos)
      << r.status();
}

TEST(ConstantEvaluatorTest, AssertAsyncFoldsWhenStaticAndTrue) {
  Graph g;
  g.AddNode("aten::_assert_async", "", {g.AddConstTensor("c", MakeInt64Scalar(1))}, 0);
  absl::StatusOr<EvalResult> r = EvaluateNode(g, 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, EvalResult::kFolded);

  g.AddNode("aten::_assert_async", "", {g.AddConstTensor("z", MakeFloatTensor({}, {0.0f}))}, 0);
  r = EvaluateNode(g, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("the model fails its assertion"), std::string::npos)
      << r.status();

  const ValueId x = g.AddInput("x", TypeClass::kBool, {});
  g.AddNode("aten::_assert_async", "", {x}, 0);
  r = EvaluateNode(g, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("aten::_assert_async: the asserted condition 'x' depends "
                                      "on run-time tensor values"),
            std::string::npos)
      << r.status();
}

TEST(ConstantEvaluatorTest, IntListWithRuntimeElementNamesTheNode) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {});
  g.value(x).kind = ValueKind::kInt;  // a runtime int (e.g. a forward() argument)
  Node& n = g.AddNode("prim::ListConstruct", "", {g.AddConstInt(1), x}, 1);
  n.source = "net.py:7";
  g.value(n.outputs[0]).kind = ValueKind::kIntList;
  absl::StatusOr<EvalResult> r = EvaluateNode(g, 0);
  ASSERT_FALSE(r.ok());
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find("prim::ListConstruct at net.py:7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;
}

TEST(ConstantEvaluatorTest, SizeOfUntypedValueIsAnError) {
  Graph g;
  Value v;
  v.name = "mystery";
  v.kind = ValueKind::kTensor;
  const ValueId m = g.AddValue(v);
  g.AddNode("aten::size", "", {m}, 1);
  absl::StatusOr<EvalResult> r = EvaluateNode(g, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("aten::size"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("'mystery'"), std::string::npos) << r.status();
}

TEST(ConstantEvaluatorTest, GetItemOfIntListAndTensorList) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3, 4});
  const ValueId s = Eval(g, "aten::size", "", {x}, ValueKind::kIntList, EvalResult::kFolded);
  const ValueId last = Eval(g, "aten::__getitem__", "t", {s, g.AddConstInt(-1)}, ValueKind::kInt,
                            EvalResult::kFolded);
  EXPECT_EQ(g.value(last).i, 4);
  const ValueId len = Eval(g, "aten::len", "t", {s}, ValueKind::kInt, EvalResult::kFolded);
  EXPECT_EQ(g.value(len).i, 3);
  const ValueId l =
      Eval(g, "prim::ListConstruct", "", {x, x}, ValueKind::kTensorList, EvalResult::kFolded);
  const ValueId e = Eval(g, "aten::__getitem__", "t", {l, g.AddConstInt(1)}, ValueKind::kTensor,
                         EvalResult::kFolded);
  EXPECT_EQ(g.Resolve(e), x);
}

}  // namespace
}  // namespace ts2coreml::core

namespace ts2coreml::core {
namespace {

/// ts2coreml::raise_if(cond, raise_when, message), as the importer makes a guard prim::If.
absl::StatusOr<EvalResult> RaiseIf(Graph& g, ValueId cond, bool raise_when) {
  Value message;
  message.kind = ValueKind::kString;
  message.is_const = true;
  message.s = "expected 4D input";
  const ValueId text = g.AddValue(std::move(message));
  Node& n = g.AddNode("ts2coreml::raise_if", "", {cond, g.AddConstBool(raise_when), text}, 0);
  n.source = "model.py:7";
  return EvaluateNode(g, static_cast<int>(g.nodes().size()) - 1);
}

TEST(ConstantEvaluatorTest, IntListEquality) {
  for (const bool eq : {true, false}) {
    Graph g;
    const ValueId a = g.AddConstInts({2, 1, 8});
    const ValueId same = g.AddConstInts({2, 1, 8});
    const ValueId other = g.AddConstInts({2, 8});
    const char* kind = eq ? "aten::eq" : "aten::ne";
    for (const auto& [rhs, equal] : {std::pair{same, true}, std::pair{other, false}}) {
      Node& n = g.AddNode(kind, "int_list", {a, rhs}, 1);
      g.value(n.outputs[0]).kind = ValueKind::kBool;
      const ValueId out = n.outputs[0];
      absl::StatusOr<EvalResult> r = EvaluateNode(g, static_cast<int>(g.nodes().size()) - 1);
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(*r, EvalResult::kFolded);
      EXPECT_TRUE(g.value(out).is_const);
      EXPECT_EQ(g.value(out).b, equal == eq) << kind;
    }
  }
}

TEST(ConstantEvaluatorTest, GuardNotTakenIsFolded) {
  Graph g;
  ASSERT_TRUE(IsCoreOp(g.AddNode("ts2coreml::raise_if", "", {}, 0)));
  absl::StatusOr<EvalResult> r = RaiseIf(g, g.AddConstBool(false), true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, EvalResult::kFolded);
  r = RaiseIf(g, g.AddConstBool(true), false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, EvalResult::kFolded);
}

TEST(ConstantEvaluatorTest, GuardTakenNamesTheException) {
  Graph g;
  absl::StatusOr<EvalResult> r = RaiseIf(g, g.AddConstBool(false), false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(std::string(r.status().message()),
            "the model raises an exception for the given input shapes (prim::RaiseException at "
            "model.py:7: \"expected 4D input\")");
}

TEST(ConstantEvaluatorTest, GuardOnRunTimeValueIsRefused) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kBool, {});
  absl::StatusOr<EvalResult> r = RaiseIf(g, x, true);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("depends on run-time tensor values"),
            std::string::npos);
}

}  // namespace
}  // namespace ts2coreml::core
