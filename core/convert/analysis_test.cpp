/// Tests of analysis with the real built-in plugins: dispatch by kind and overload, inferred
/// shapes and classes, folding, and unsupported ops reported all at once with their sources.
#include "core/convert/analysis.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/base/errors.h"
#include "core/convert/analysis_steps.h"
#include "core/convert/test_util.h"

namespace ts2coreml::core {
namespace {

using Shape = std::vector<int64_t>;

std::string Problems(const Analysis& a) {
  std::string s;
  for (const Problem& p : a.problems) s += p.kind + ": " + p.message + "\n";
  return s;
}

void ExpectTensor(const Graph& g, ValueId id, TypeClass c, const Shape& shape) {
  const Value& v = g.value(g.Resolve(id));
  EXPECT_EQ(v.kind, ValueKind::kTensor) << v.name;
  EXPECT_TRUE(v.typed) << v.name;
  EXPECT_EQ(v.type_class, c) << v.name;
  EXPECT_EQ(v.shape, shape) << v.name;
}

TEST(AnalysisTest, ConvReluAddSoftmaxInferShapes) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 3, 8, 8});
  const ValueId conv = test::AddConv(g, x, /*out_channels=*/4);
  const ValueId relu = test::AddRelu(g, conv);
  const ValueId add =
      g.AddNode("aten::add", "Tensor", {relu, conv, g.AddConstInt(1)}, 1).outputs[0];
  const ValueId sm = test::AddSoftmax(g, add, /*dim=*/1);
  g.AddOutput("probs", sm);

  Analysis a = Analyze(g, reg);
  ASSERT_TRUE(a.ok()) << Problems(a);
  EXPECT_TRUE(AnalysisStatus(a).ok());
  ASSERT_EQ(a.nodes.size(), 4u);
  for (const NodeAnalysis& na : a.nodes) {
    EXPECT_EQ(na.decision, NodeDecision::kLowered);
    EXPECT_NE(na.lowering, nullptr);
  }
  EXPECT_EQ(a.nodes[0].matched, "aten::_convolution");
  EXPECT_EQ(a.nodes[0].lowering->name, "_convolution");
  EXPECT_EQ(a.nodes[2].matched, "aten::add.Tensor");
  EXPECT_EQ(a.nodes[2].lowering->name, "add");
  EXPECT_EQ(a.nodes[3].matched, "aten::softmax.int");
  EXPECT_EQ(a.nodes[3].lowering->fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE);
  ExpectTensor(g, conv, TypeClass::kFloat, {1, 4, 8, 8});
  ExpectTensor(g, relu, TypeClass::kFloat, {1, 4, 8, 8});
  ExpectTensor(g, add, TypeClass::kFloat, {1, 4, 8, 8});
  ExpectTensor(g, sm, TypeClass::kFloat, {1, 4, 8, 8});
}

TEST(AnalysisTest, StridedConvWithoutPaddingShrinks) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3, 9, 9});
  const ValueId w = g.AddConstTensor("w", test::Ramp({5, 3, 3, 3}));
  const ValueId y =
      g.AddNode("aten::_convolution", "",
                {x, w, g.AddConstNone(), g.AddConstInts({2, 2}), g.AddConstInts({0, 0}),
                 g.AddConstInts({1, 1}), g.AddConstBool(false), g.AddConstInts({0, 0}),
                 g.AddConstInt(1), g.AddConstBool(false), g.AddConstBool(false),
                 g.AddConstBool(true), g.AddConstBool(true)},
                1)
          .outputs[0];
  g.AddOutput("y", y);
  Analysis a = Analyze(g, reg);
  ASSERT_TRUE(a.ok()) << Problems(a);
  ExpectTensor(g, y, TypeClass::kFloat, {2, 5, 4, 4});  // (9 - 3) / 2 + 1
}

TEST(AnalysisTest, BroadcastAddOfTensorAndScalarConstant) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 1, 5});
  const ValueId y = g.AddInput("y", TypeClass::kFloat, {3, 1});
  const ValueId s = g.AddNode("aten::add", "Tensor", {x, y, g.AddConstInt(1)}, 1).outputs[0];
  const ValueId t =
      g.AddNode("aten::add", "Scalar", {s, g.AddConstFloat(0.5), g.AddConstInt(1)}, 1).outputs[0];
  g.AddOutput("t", t);
  Analysis a = Analyze(g, reg);
  ASSERT_TRUE(a.ok()) << Problems(a);
  ExpectTensor(g, s, TypeClass::kFloat, {2, 3, 5});
  ExpectTensor(g, t, TypeClass::kFloat, {2, 3, 5});
  EXPECT_EQ(a.nodes[1].matched, "aten::add.Scalar");
}

TEST(AnalysisTest, IncompatibleBroadcastIsAnErrorNamingTheNode) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  const ValueId y = g.AddInput("y", TypeClass::kFloat, {4});
  Node& n = g.AddNode("aten::add", "Tensor", {x, y, g.AddConstInt(1)}, 1);
  n.source = "m.py:3";
  g.AddOutput("z", n.outputs[0]);
  Analysis a = Analyze(g, reg);
  ASSERT_EQ(a.problems.size(), 1u) << Problems(a);
  EXPECT_EQ(a.problems[0].decision, NodeDecision::kError);
  EXPECT_EQ(a.nodes[0].decision, NodeDecision::kError);
  EXPECT_NE(a.problems[0].message.find("aten::add.Tensor at m.py:3"), std::string::npos)
      << a.problems[0].message;
  EXPECT_NE(a.problems[0].message.find("broadcast"), std::string::npos) << a.problems[0].message;
  // The untyped output is not reported a second time. Shapes that do not broadcast are the
  // inputs' fault (the model's input shapes), not the plugin's.
  EXPECT_EQ(ClassOf(AnalysisStatus(a)), ErrorClass::kInputSpec);
  EXPECT_NE(a.problems[0].message.find("does not accept the input shapes given (--input x:2x3 "
                                       "--input y:4)"),
            std::string::npos)
      << a.problems[0].message;
}

TEST(AnalysisTest, BatchNormKeepsShape) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 6, 4, 4});
  const ValueId y = test::AddBatchNorm(g, x, 6, 1e-5);
  g.AddOutput("y", y);
  Analysis a = Analyze(g, reg);
  ASSERT_TRUE(a.ok()) << Problems(a);
  EXPECT_EQ(a.nodes[0].decision, NodeDecision::kLowered);
  EXPECT_EQ(a.nodes[0].lowering->fp16_policy, T2C_FP16_FP32_PARAMS);
  ExpectTensor(g, y, TypeClass::kFloat, {1, 6, 4, 4});
}

TEST(AnalysisTest, CatOfListConstruct) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId a = g.AddInput("a", TypeClass::kFloat, {1, 2, 5});
  const ValueId b = g.AddInput("b", TypeClass::kFloat, {1, 3, 5});
  const ValueId ra = test::AddRelu(g, a);
  const ValueId list = g.AddNode("prim::ListConstruct", "", {ra, b}, 1).outputs[0];
  const ValueId cat = g.AddNode("aten::cat", "", {list, g.AddConstInt(1)}, 1).outputs[0];
  g.AddOutput("c", cat);
  Analysis an = Analyze(g, reg);
  ASSERT_TRUE(an.ok()) << Problems(an);
  EXPECT_EQ(an.nodes[1].decision, NodeDecision::kFolded);
  EXPECT_EQ(g.value(list).kind, ValueKind::kTensorList);
  EXPECT_EQ(g.value(list).elements, (std::vector<ValueId>{ra, b}));
  EXPECT_EQ(an.nodes[2].decision, NodeDecision::kLowered);
  ExpectTensor(g, cat, TypeClass::kFloat, {1, 5, 5});
}

TEST(AnalysisTest, ShapeArithmeticIsFoldedBeforeReshape) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3, 4});
  Node& size = g.AddNode("aten::size", "int", {x, g.AddConstInt(0)}, 1);
  const ValueId n0 = size.outputs[0];
  g.value(n0).kind = ValueKind::kInt;
  Node& shape = g.AddNode("prim::ListConstruct", "", {n0, g.AddConstInt(-1)}, 1);
  const ValueId shape_v = shape.outputs[0];
  g.value(shape_v).kind = ValueKind::kIntList;
  const ValueId y = g.AddNode("aten::reshape", "", {x, shape_v}, 1).outputs[0];
  g.AddOutput("y", y);
  Analysis a = Analyze(g, reg);
  ASSERT_TRUE(a.ok()) << Problems(a);
  EXPECT_EQ(a.nodes[0].decision, NodeDecision::kFolded);
  EXPECT_EQ(a.nodes[1].decision, NodeDecision::kFolded);
  EXPECT_EQ(g.value(shape_v).ints, (Shape{2, -1}));
  EXPECT_EQ(a.nodes[2].decision, NodeDecision::kLowered);
  ExpectTensor(g, y, TypeClass::kFloat, {2, 12});
}

TEST(AnalysisTest, InPlaceReluResolvesToRelu) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 7});
  const ValueId y = g.AddNode("aten::relu_", "", {x}, 1).outputs[0];
  g.AddOutput("y", y);
  Analysis a = Analyze(g, reg);
  ASSERT_TRUE(a.ok()) << Problems(a);
  EXPECT_EQ(a.nodes[0].decision, NodeDecision::kLowered);
  ASSERT_NE(a.nodes[0].lowering, nullptr);
  EXPECT_EQ(a.nodes[0].lowering->name, "relu");
  absl::StatusOr<const registry::Lowering*> relu = reg.Find("aten::relu", "");
  ASSERT_TRUE(relu.ok()) << relu.status();
  EXPECT_EQ(a.nodes[0].lowering, *relu);
  ExpectTensor(g, y, TypeClass::kFloat, {1, 7});
}

TEST(AnalysisTest, PassthroughIsFoldedToAnAlias) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {3});
  const ValueId r = test::AddRelu(g, x);
  const ValueId d =
      g.AddNode("aten::dropout", "", {r, g.AddConstFloat(0.5), g.AddConstBool(false)}, 1)
          .outputs[0];
  g.AddOutput("y", d);
  Analysis a = Analyze(g, reg);
  ASSERT_TRUE(a.ok()) << Problems(a);
  EXPECT_EQ(a.nodes[1].decision, NodeDecision::kFolded);
  EXPECT_EQ(g.Resolve(d), r);
}

TEST(AnalysisTest, AllUnsupportedOpsAreReportedWithSources) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 4});
  Node& foo = g.AddNode("mylib::foo", "", {x}, 1);
  foo.source = "model.py:10";
  const ValueId foo_out = foo.outputs[0];
  // Downstream of foo: skipped, not reported.
  const ValueId relu = test::AddRelu(g, foo_out);
  Node& nonexistent = g.AddNode("aten::nonexistent_op", "", {x}, 1);
  nonexistent.source = "model.py:11";
  const ValueId ne_out = nonexistent.outputs[0];
  // Also downstream of an unsupported node, through an independent supported branch.
  const ValueId add = g.AddNode("aten::add", "Tensor", {x, ne_out, g.AddConstInt(1)}, 1).outputs[0];
  Node& bar = g.AddNode("other::bar", "baz", {x}, 1);
  bar.source = "model.py:12";
  const ValueId bar_out = bar.outputs[0];
  // A core op downstream of an unsupported node is skipped too.
  Node& size = g.AddNode("aten::size", "int", {bar_out, g.AddConstInt(0)}, 1);
  g.value(size.outputs[0]).kind = ValueKind::kInt;
  // An unrelated supported node still works.
  const ValueId ok = test::AddRelu(g, x);
  g.AddOutput("a", relu);
  g.AddOutput("b", add);
  g.AddOutput("c", ok);

  Analysis a = Analyze(g, reg);
  ASSERT_EQ(a.nodes.size(), 7u);
  EXPECT_EQ(a.nodes[0].decision, NodeDecision::kUnsupported);
  EXPECT_EQ(a.nodes[1].decision, NodeDecision::kSkipped);
  EXPECT_EQ(a.nodes[2].decision, NodeDecision::kUnsupported);
  EXPECT_EQ(a.nodes[3].decision, NodeDecision::kSkipped);
  EXPECT_EQ(a.nodes[4].decision, NodeDecision::kUnsupported);
  EXPECT_EQ(a.nodes[5].decision, NodeDecision::kSkipped);
  EXPECT_EQ(a.nodes[6].decision, NodeDecision::kLowered);

  ASSERT_EQ(a.problems.size(), 3u) << Problems(a);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"mylib::foo", "model.py:10"},
      {"aten::nonexistent_op", "model.py:11"},
      {"other::bar.baz", "model.py:12"}};
  for (size_t k = 0; k < want.size(); ++k) {
    EXPECT_EQ(a.problems[k].decision, NodeDecision::kUnsupported);
    EXPECT_EQ(a.problems[k].kind, want[k].first);
    EXPECT_EQ(a.problems[k].source, want[k].second);
    EXPECT_EQ(a.problems[k].error_class, ErrorClass::kUnsupportedOps);
  }

  absl::Status st = AnalysisStatus(a);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(ClassOf(st), ErrorClass::kUnsupportedOps);
  const std::string msg(st.message());
  EXPECT_NE(msg.find("3 unsupported ops"), std::string::npos) << msg;
  EXPECT_NE(msg.find("mylib::foo (model.py:10)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("aten::nonexistent_op (model.py:11)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("other::bar.baz (model.py:12)"), std::string::npos) << msg;
}

TEST(AnalysisTest, RepeatedUnsupportedOpIsListedOnceInTheStatus) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1});
  g.AddNode("mylib::foo", "", {x}, 1);
  g.AddNode("mylib::foo", "", {x}, 1);
  Analysis a = Analyze(g, reg);
  EXPECT_EQ(a.problems.size(), 2u);
  absl::Status st = AnalysisStatus(a);
  EXPECT_EQ(ClassOf(st), ErrorClass::kUnsupportedOps);
  EXPECT_NE(st.message().find("1 unsupported op:"), std::string::npos) << st;
}

TEST(AnalysisTest, RuntimeValueForHostInputIsAClearError) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  const ValueId dim = g.AddInput("dim", TypeClass::kInt, {});  // a runtime tensor
  Node& sm = g.AddNode("aten::softmax", "int", {x, dim, g.AddConstNone()}, 1);
  sm.source = "m.py:5";
  const ValueId y = sm.outputs[0];
  const ValueId r = test::AddRelu(g, y);
  g.AddOutput("y", r);
  Analysis a = Analyze(g, reg);
  ASSERT_EQ(a.problems.size(), 1u) << Problems(a);
  EXPECT_EQ(a.nodes[0].decision, NodeDecision::kError);
  EXPECT_EQ(a.nodes[1].decision, NodeDecision::kSkipped);
  const std::string& msg = a.problems[0].message;
  EXPECT_NE(msg.find("aten::softmax.int at m.py:5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'dim'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("known at conversion time"), std::string::npos) << msg;
  EXPECT_NE(msg.find("run time"), std::string::npos) << msg;
  absl::Status st = AnalysisStatus(a);
  EXPECT_EQ(ClassOf(st), ErrorClass::kConversion);
}

TEST(AnalysisTest, ErrorAndUnsupportedTogetherReportTheErrorAndListTheOps) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  const ValueId dim = g.AddInput("dim", TypeClass::kInt, {});
  g.AddNode("aten::softmax", "int", {x, dim, g.AddConstNone()}, 1);
  g.AddNode("mylib::foo", "", {x}, 1).source = "m.py:9";
  Analysis a = Analyze(g, reg);
  ASSERT_EQ(a.problems.size(), 2u) << Problems(a);
  absl::Status st = AnalysisStatus(a);
  EXPECT_EQ(ClassOf(st), ErrorClass::kConversion);
  EXPECT_NE(st.message().find("also unsupported: mylib::foo (m.py:9)"), std::string::npos) << st;
}

TEST(AnalysisTest, MissingRequiredInputIsReported) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  g.AddNode("aten::softmax", "int", {x}, 1);  // dim missing
  Analysis a = Analyze(g, reg);
  ASSERT_EQ(a.problems.size(), 1u) << Problems(a);
  EXPECT_NE(a.problems[0].message.find("'dim'"), std::string::npos) << a.problems[0].message;
}

TEST(AnalysisTest, UntypedModelOutputIsReported) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  Value v;
  v.name = "loose";
  v.kind = ValueKind::kTensor;
  const ValueId loose = g.AddValue(v);
  g.AddOutput("out", loose);
  Analysis a = Analyze(g, reg);
  ASSERT_EQ(a.problems.size(), 1u);
  EXPECT_NE(a.problems[0].message.find("'out'"), std::string::npos) << a.problems[0].message;
}

/// A constant float tensor value as a host evaluator returns it.
Value HostTensor(std::shared_ptr<const ConstTensor> t) {
  Value v;
  v.kind = ValueKind::kTensor;
  v.is_const = true;
  v.typed = true;
  v.type_class = TypeClass::kFloat;
  v.shape = t->shape;
  v.tensor = std::move(t);
  return v;
}

/// A host evaluator for two test ops: test::make() gives [1, 1]; test::write_(t) writes [5, 5]
/// into t in place (Result::written) and returns it.
class FakeHost : public HostEvaluator {
 public:
  bool CanEvaluate(const Node& n) const override {
    return n.kind == "test::make" || n.kind == "test::write_";
  }
  absl::StatusOr<Result> Evaluate(const Graph& g, int index) override {
    const Node& n = g.nodes().at(static_cast<size_t>(index));
    evaluated.push_back(n.kind);
    Result r;
    if (n.kind == "test::make") {
      r.outputs.push_back(HostTensor(test::Filled({2}, 1)));
    } else {
      r.outputs.push_back(HostTensor(test::Filled({2}, 5)));
      r.written.emplace_back(g.Resolve(n.inputs.at(0)), HostTensor(test::Filled({2}, 5)));
    }
    return r;
  }
  void Rename(ValueId value, ValueId version) override { renames.emplace_back(value, version); }

  std::vector<std::string> evaluated;
  std::vector<std::pair<ValueId, ValueId>> renames;
};

float FirstElement(const Graph& g, ValueId id) {
  const Value& v = g.value(g.Resolve(id));
  EXPECT_TRUE(v.is_const && v.tensor) << v.name;
  return v.tensor ? static_cast<float>(v.tensor->At(0)) : -1;
}

TEST(AnalysisTest, HostWritesGiveLaterReadersANewVersion) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2});
  const ValueId m = g.AddNode("test::make", "", {}, 1).outputs[0];
  const ValueId one = g.AddConstInt(1);
  const ValueId y0 = g.AddNode("aten::add", "Tensor", {x, m, one}, 1).outputs[0];
  const int before_index = static_cast<int>(g.nodes().size()) - 1;
  g.AddNode("test::write_", "", {m}, 1).mutated_inputs = {0};
  const ValueId y1 = g.AddNode("aten::add", "Tensor", {x, m, one}, 1).outputs[0];
  const int after_index = static_cast<int>(g.nodes().size()) - 1;
  g.AddOutput("y0", y0);
  g.AddOutput("y1", y1);
  g.AddOutput("m", m);

  FakeHost host;
  Analysis a = Analyze(g, reg, &host);
  ASSERT_TRUE(a.ok()) << Problems(a);
  EXPECT_EQ(host.evaluated, (std::vector<std::string>{"test::make", "test::write_"}));
  EXPECT_EQ(a.nodes[0].decision, NodeDecision::kFolded);
  EXPECT_EQ(a.nodes[2].decision, NodeDecision::kFolded);
  const ValueId read_before = g.nodes()[static_cast<size_t>(before_index)].inputs[1];
  const ValueId read_after = g.nodes()[static_cast<size_t>(after_index)].inputs[1];
  EXPECT_EQ(read_before, m);
  EXPECT_EQ(FirstElement(g, read_before), 1) << "the reader before the write keeps the old value";
  ASSERT_NE(read_after, m);
  EXPECT_EQ(FirstElement(g, read_after), 5) << "the reader after the write sees the new value";
  EXPECT_EQ(g.value(read_after).producer, 2) << "the version comes from the writing node";
  EXPECT_EQ(host.renames, (std::vector<std::pair<ValueId, ValueId>>{{m, read_after}}));
  EXPECT_EQ(g.outputs()[2].value, read_after) << "a model output reads the newest version";
}

/// Types test::typed's outputs as its kernel would on meta tensors ([4, 2] int); nothing else.
class TypingHost : public FakeHost {
 public:
  absl::StatusOr<std::vector<Value>> InferOutputTypes(const Graph& g, int index) override {
    if (g.nodes().at(static_cast<size_t>(index)).kind != "test::typed") {
      return absl::UnimplementedError("no kernel");
    }
    Value v;
    v.kind = ValueKind::kTensor;
    v.typed = true;
    v.type_class = TypeClass::kInt;
    v.shape = {4, 2};
    return std::vector<Value>{v};
  }
};

TEST(AnalysisTest, WhatFollowsAnUnsupportedOpWithKnownTypesIsAnalyzed) {
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {3, 5});
  Node& typed = g.AddNode("test::typed", "", {x}, 1);
  typed.source = "model.py:1";
  const ValueId t = typed.outputs[0];
  // Behind it: a second unsupported op and a shape error are found in the same run; an op after
  // an unsupported op whose types are unknown is still skipped.
  Node& other = g.AddNode("test::untyped", "", {t}, 1);
  other.source = "model.py:2";
  const ValueId after_untyped = test::AddRelu(g, other.outputs[0]);
  const ValueId mm =
      g.AddNode("aten::mm", "", {t, g.AddConstTensor("w", test::Filled({3, 2}, 1))}, 1).outputs[0];
  g.AddOutput("a", after_untyped);
  g.AddOutput("b", mm);

  TypingHost host;
  Analysis a = Analyze(g, reg, &host);
  ASSERT_EQ(a.nodes.size(), 4u);
  EXPECT_EQ(a.nodes[0].decision, NodeDecision::kUnsupported);
  EXPECT_EQ(g.value(t).shape, (std::vector<int64_t>{4, 2})) << "typed by the host's kernel";
  EXPECT_EQ(a.nodes[1].decision, NodeDecision::kUnsupported) << "found behind the first";
  EXPECT_EQ(a.nodes[2].decision, NodeDecision::kSkipped);
  EXPECT_EQ(a.nodes[3].decision, NodeDecision::kError) << "[4, 2] x [3, 2] is found";

  absl::Status st = AnalysisStatus(a);
  EXPECT_EQ(ClassOf(st), ErrorClass::kUnsupportedOps) << "the first problem decides the class";
  const std::string msg(st.message());
  EXPECT_NE(msg.find("2 unsupported ops: test::typed (model.py:1), test::untyped (model.py:2)"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("; also, after them: aten::mm"), std::string::npos) << msg;
}

TEST(AnalysisTest, RunTimeWriteIntoHostConstantIsRefused) {
  // No host evaluator takes the write: a lowered write would leave readers of the constant
  // with stale contents, so analysis refuses it.
  const registry::Registry& reg = test::BuiltinRegistry();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2});
  const ValueId m = g.AddConstTensor("m", test::Filled({2}, 1));
  Node& relu = g.AddNode("aten::relu_", "", {m}, 1);
  relu.mutated_inputs = {0};
  const ValueId y = g.AddNode("aten::add", "Tensor", {x, m, g.AddConstInt(1)}, 1).outputs[0];
  g.AddOutput("y", y);
  Analysis a = Analyze(g, reg);
  ASSERT_EQ(a.nodes[0].decision, NodeDecision::kError) << Problems(a);
  EXPECT_NE(a.nodes[0].reason.find("writes in place into 'm'"), std::string::npos)
      << a.nodes[0].reason;
}

/// x (run-time) -> relu_(x) as the importer marks it: writes input 0, its result aliases it.
ValueId AddReluInPlace(Graph& g, ValueId x) {
  Node& relu = g.AddNode("aten::relu_", "", {x}, 1);
  relu.mutated_inputs = {0};
  relu.output_aliases = {0};
  relu.source = "model.py:7";
  return relu.outputs[0];
}

// What tracing records: later readers read the in-place op's result. Lowered functionally, that
// is exact.
TEST(AnalysisTest, RunTimeWriteReadThroughItsResultIsLowered) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  const ValueId r = AddReluInPlace(g, x);
  g.AddOutput("y", g.AddNode("aten::add", "Tensor", {r, r, g.AddConstInt(1)}, 1).outputs[0]);
  Analysis a = Analyze(g, test::BuiltinRegistry());
  EXPECT_TRUE(a.ok()) << Problems(a);
  EXPECT_EQ(a.nodes[0].decision, NodeDecision::kLowered);
}

// What scripting records: `x.relu_(); return x + 1` reads x itself afterwards. Lowered
// functionally the add would see x before the relu: refused, naming the writer and the reader.
TEST(AnalysisTest, RunTimeWriteReadThroughTheOldValueIsRefused) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  AddReluInPlace(g, x);
  Node& add = g.AddNode("aten::add", "Tensor", {x, g.AddConstInt(1), g.AddConstInt(1)}, 1);
  add.source = "model.py:8";
  g.AddOutput("y", add.outputs[0]);
  Analysis a = Analyze(g, test::BuiltinRegistry());
  ASSERT_EQ(a.nodes[0].decision, NodeDecision::kError) << Problems(a);
  const std::string& why = a.nodes[0].reason;
  EXPECT_NE(why.find("aten::relu_ at model.py:7: writes in place into 'x'"), std::string::npos)
      << why;
  EXPECT_NE(why.find("aten::add.Tensor at model.py:8 then reads 'x'"), std::string::npos) << why;
  ASSERT_EQ(a.problems.size(), 1u) << Problems(a);
  EXPECT_EQ(a.problems[0].error_class, ErrorClass::kConversion);
}

// A view taken before the write shares the written memory: reading it afterwards is refused
// too, and so is returning the written tensor itself.
TEST(AnalysisTest, ViewTakenBeforeARunTimeWriteIsStale) {
  {
    Graph g;
    const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
    Node& view = g.AddNode("aten::view", "", {x, g.AddConstInts({6})}, 1);
    view.output_aliases = {0};
    const ValueId v = view.outputs[0];
    const ValueId r = AddReluInPlace(g, x);
    g.AddOutput("r", r);
    g.AddOutput("v", g.AddNode("aten::sigmoid", "", {v}, 1).outputs[0]);
    Analysis a = Analyze(g, test::BuiltinRegistry());
    ASSERT_EQ(a.nodes[1].decision, NodeDecision::kError) << Problems(a);
    EXPECT_NE(a.nodes[1].reason.find("aten::sigmoid then reads"), std::string::npos)
        << a.nodes[1].reason;
  }
  {
    Graph g;
    const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
    AddReluInPlace(g, x);
    g.AddOutput("y", x);
    Analysis a = Analyze(g, test::BuiltinRegistry());
    ASSERT_EQ(a.nodes[0].decision, NodeDecision::kError) << Problems(a);
    EXPECT_NE(a.nodes[0].reason.find("model output 'y' then reads 'x'"), std::string::npos)
        << a.nodes[0].reason;
  }
  {  // A view of the result, taken after the write, is the new value: fine.
    Graph g;
    const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
    const ValueId r = AddReluInPlace(g, x);
    Node& view = g.AddNode("aten::view", "", {r, g.AddConstInts({6})}, 1);
    view.output_aliases = {0};
    g.AddOutput("v", view.outputs[0]);
    Analysis a = Analyze(g, test::BuiltinRegistry());
    EXPECT_TRUE(a.ok()) << Problems(a);
  }
}

TEST(AnalysisTest, ReadsOnlyConstantsLooksPastShapeOnlyInputs) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  const ValueId size = g.AddConstInts({4});
  const ValueId none = g.AddConstNone();
  const Node zeros = g.AddNode("aten::new_zeros", "", {x, size, none, none, none, none}, 1);
  EXPECT_EQ(ShapeOnlyInputs(zeros), std::vector<int>{0});
  EXPECT_TRUE(ReadsOnlyConstants(g, zeros)) << "new_zeros reads x's dtype only";
  const ValueId one = g.AddConstInt(1);
  const Node add = g.AddNode("aten::add", "Tensor", {x, one, one}, 1);
  EXPECT_TRUE(ShapeOnlyInputs(add).empty());
  EXPECT_FALSE(ReadsOnlyConstants(g, add)) << "add reads x's data";
  const ValueId w = g.AddConstTensor("w", test::Filled({2}, 1));
  EXPECT_TRUE(ReadsOnlyConstants(g, g.AddNode("aten::neg", "", {w}, 1)));
  Value list;
  list.kind = ValueKind::kTensorList;
  list.elements = {w, x};
  const ValueId l = g.AddValue(list);
  EXPECT_FALSE(ReadsOnlyConstants(g, g.AddNode("aten::cat", "", {l}, 1)))
      << "a list holding a run-time tensor";
}

// The steps of analysis one by one (analysis_steps.h).

TEST(AnalysisStepsTest, RunTimeValuesLookPastShapeOnlyInputs) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  const ValueId none = g.AddConstNone();
  const Node zeros =
      g.AddNode("aten::new_zeros", "", {x, g.AddConstInts({4}), none, none, none, none}, 1);
  const Node relu_x = g.AddNode("aten::relu", "", {x}, 1);
  const Node relu_zeros = g.AddNode("aten::relu", "", {zeros.outputs[0]}, 1);
  RunTimeValues run_time(g);
  EXPECT_TRUE(run_time.Contains(g, x));
  EXPECT_FALSE(run_time.Contains(g, none));
  EXPECT_FALSE(run_time.MarkNode(g, zeros)) << "new_zeros reads x's dtype only";
  EXPECT_FALSE(run_time.Contains(g, zeros.outputs[0]));
  EXPECT_TRUE(run_time.MarkNode(g, relu_x));
  EXPECT_TRUE(run_time.Contains(g, relu_x.outputs[0]));
  EXPECT_FALSE(run_time.MarkNode(g, relu_zeros));
  Value made;  // made during analysis: an inferred list's element
  made.kind = ValueKind::kTensor;
  EXPECT_TRUE(run_time.Contains(g, g.AddValue(made)));
}

TEST(AnalysisStepsTest, ValueVersionsAreNamedAfterTheFirstAndReadByLaterReaders) {
  Graph g;
  const ValueId mask = g.AddConstTensor("mask", test::Filled({2}, 0));
  ValueVersions versions;
  EXPECT_EQ(versions.Newest(g, mask), mask);
  const ValueId v1 = versions.Add(g, mask, HostTensor(test::Filled({2}, 1)), 3);
  EXPECT_EQ(g.value(v1).name, "mask.v1");
  EXPECT_EQ(g.value(v1).producer, 3);
  EXPECT_TRUE(g.value(v1).is_const);
  EXPECT_FLOAT_EQ(FirstElement(g, v1), 1);
  EXPECT_FLOAT_EQ(FirstElement(g, mask), 0) << "the first version keeps its contents";
  EXPECT_EQ(versions.Newest(g, mask), v1);
  const ValueId v2 = versions.Add(g, v1, HostTensor(test::Filled({2}, 2)), 4);
  EXPECT_EQ(g.value(v2).name, "mask.v2");
  EXPECT_EQ(versions.Newest(g, mask), v2);
  EXPECT_EQ(versions.Newest(g, v1), v2);
}

TEST(AnalysisStepsTest, HostTensorMisuseNamesTheTensorAndWhy) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2});
  const ValueId mask = g.AddConstTensor("mask", test::Filled({2}, 0));
  Node& add = g.AddNode("aten::add_", "Tensor", {mask, x, g.AddConstInt(1)}, 1);
  add.mutated_inputs = {0};
  EXPECT_EQ(HostTensorMisuse(g, add, ""),
            "writes in place into 'mask', a tensor known at conversion time, but could not be "
            "evaluated at conversion time (input 1 ('x') is computed at run time); ts2coreml "
            "converts in-place writes into such tensors only when what they write is known at "
            "conversion time too");
  EXPECT_NE(HostTensorMisuse(g, add, "its result is too big").find("(its result is too big)"),
            std::string::npos);
  Value buf = HostTensor(test::Filled({2}, 0));
  buf.name = "buf";
  buf.tensor = nullptr;  // never fully written
  const Node relu = g.AddNode("aten::relu", "", {g.AddValue(buf)}, 1);
  EXPECT_EQ(HostTensorMisuse(g, relu, ""),
            "reads 'buf', uninitialized memory (aten::empty, new_empty, empty_like) not fully "
            "written before; write all of it first (fill_, zero_, copy_)");
  EXPECT_EQ(HostTensorMisuse(g, g.AddNode("aten::relu", "", {x}, 1), ""), "");
}

/// addmm-like ops with a constant beta of 0 never read self, so torch.empty may go there; any
/// other beta, a run-time beta, or another input stays refused.
TEST(AnalysisStepsTest, BetaZeroIgnoresUninitializedSelf) {
  Graph g;
  const ValueId q = g.AddInput("q", TypeClass::kFloat, {2, 3, 4});
  const ValueId k = g.AddInput("k", TypeClass::kFloat, {2, 4, 5});
  Value buf = HostTensor(test::Filled({2, 3, 5}, 0));
  buf.name = "buf";
  buf.tensor = nullptr;
  const ValueId e = g.AddValue(buf);
  const ValueId one = g.AddConstInt(1);
  for (const char* op :
       {"aten::baddbmm", "aten::addmm", "aten::addbmm", "aten::addmv", "aten::addr"}) {
    EXPECT_EQ(HostTensorMisuse(g, g.AddNode(op, "", {e, q, k, g.AddConstInt(0), one}, 1), ""), "")
        << op;
    EXPECT_EQ(HostTensorMisuse(g, g.AddNode(op, "", {e, q, k, g.AddConstFloat(0.0), one}, 1), ""),
              "")
        << op;
    EXPECT_NE(HostTensorMisuse(g, g.AddNode(op, "", {e, q, k, one, one}, 1), "")
                  .find("uninitialized memory"),
              std::string::npos)
        << op;
  }
  EXPECT_NE(HostTensorMisuse(
                g, g.AddNode("aten::baddbmm", "", {e, q, k, g.AddConstFloat(0.5), one}, 1), "")
                .find("reads 'buf'"),
            std::string::npos);
  EXPECT_NE(
      HostTensorMisuse(g, g.AddNode("aten::baddbmm", "", {q, e, k, g.AddConstInt(0), one}, 1), "")
          .find("reads 'buf'"),
      std::string::npos);
  EXPECT_NE(HostTensorMisuse(g, g.AddNode("aten::sub", "Tensor", {e, q, g.AddConstInt(0)}, 1), "")
                .find("reads 'buf'"),
            std::string::npos);
}

TEST(AnalysisStepsTest, CheckInputsComparesWithTheDeclaration) {
  const registry::Registry& reg = test::BuiltinRegistry();
  absl::StatusOr<const registry::Lowering*> relu = reg.Find("aten::relu", "");
  ASSERT_TRUE(relu.ok()) << relu.status();
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2});
  EXPECT_EQ(CheckInputs(g, g.AddNode("aten::relu", "", {x}, 1), **relu), "");
  const std::string extra = CheckInputs(g, g.AddNode("aten::relu", "", {x, x}, 1), **relu);
  EXPECT_NE(extra.find("the node has 2 inputs but lowering"), std::string::npos) << extra;
  const std::string none =
      CheckInputs(g, g.AddNode("aten::relu", "", {g.AddConstNone()}, 1), **relu);
  EXPECT_NE(none.find("is None"), std::string::npos) << none;
}

TEST(AnalysisStepsTest, StoreInferredTypesGivesListElementsFreshValues) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 6});
  const Node& split = g.AddNode("aten::split", "Tensor", {x}, 1);
  const ValueId out = split.outputs[0];
  std::vector<std::optional<mil::TensorType>> inferred(1);
  std::vector<std::optional<std::vector<mil::TensorType>>> lists(1);
  lists[0] =
      std::vector<mil::TensorType>{{mil::DType::kFloat32, {2, 3}}, {mil::DType::kInt32, {2, 3}}};
  StoreInferredTypes(g, 0, inferred, lists);
  const Value& list = g.value(out);
  EXPECT_EQ(list.kind, ValueKind::kTensorList);
  ASSERT_EQ(list.elements.size(), 2u);
  EXPECT_EQ(g.value(list.elements[0]).name, list.name + "_0");
  ExpectTensor(g, list.elements[0], TypeClass::kFloat, {2, 3});
  ExpectTensor(g, list.elements[1], TypeClass::kInt, {2, 3});
  EXPECT_EQ(g.value(list.elements[1]).producer, 0);

  const ValueId y = g.AddNode("aten::relu", "", {x}, 1).outputs[0];
  inferred[0] = mil::TensorType{mil::DType::kFloat32, {2, 6}};
  StoreInferredTypes(g, 1, inferred, {std::nullopt});
  ExpectTensor(g, y, TypeClass::kFloat, {2, 6});
}

TEST(AnalysisStepsTest, StorageRootsFollowOutputAliases) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  Node& view = g.AddNode("aten::view", "", {x, g.AddConstInts({6})}, 1);
  view.output_aliases = {0};
  const ValueId v = view.outputs[0];
  Node& relu = g.AddNode("aten::relu_", "", {v}, 1);
  relu.output_aliases = {0};
  const ValueId r = relu.outputs[0];
  const ValueId fresh = g.AddNode("aten::relu", "", {x}, 1).outputs[0];
  const std::vector<ValueId> root = StorageRoots(g);
  EXPECT_EQ(root[static_cast<size_t>(v)], x);
  EXPECT_EQ(root[static_cast<size_t>(r)], x);
  EXPECT_EQ(root[static_cast<size_t>(fresh)], fresh);
}

TEST(AnalysisStepsTest, FindLoweringReportsUnsupportedAndSkipsBlockedNodes) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2});
  const ValueId y = g.AddNode("test::frobnicate", "", {x}, 1).outputs[0];
  g.AddNode("aten::relu", "", {y}, 1);
  AnalysisWalk w(g, test::BuiltinRegistry(), nullptr);
  NodeStep s;
  s.idx = 0;
  EXPECT_EQ(FindLowering(w, s), nullptr);
  EXPECT_EQ(w.a.nodes[0].decision, NodeDecision::kUnsupported);
  ASSERT_EQ(w.a.problems.size(), 1u);
  EXPECT_EQ(w.a.problems[0].message, "no lowering for test::frobnicate in the loaded plugins");
  EXPECT_EQ(w.a.problems[0].error_class, ErrorClass::kUnsupportedOps);

  // nonzero and the like: the output shape is data-dependent, said so.
  Graph nz;
  const ValueId xs = nz.AddInput("x", TypeClass::kFloat, {4});
  nz.AddNode("aten::nonzero", "", {xs}, 1);
  AnalysisWalk wn(nz, test::BuiltinRegistry(), nullptr);
  NodeStep ns;
  ns.idx = 0;
  EXPECT_EQ(FindLowering(wn, ns), nullptr);
  ASSERT_EQ(wn.a.problems.size(), 1u);
  EXPECT_EQ(wn.a.nodes[0].decision, NodeDecision::kError);
  EXPECT_EQ(wn.a.problems[0].error_class, ErrorClass::kConversion);
  EXPECT_EQ(wn.a.problems[0].message,
            "aten::nonzero: its output shape depends on the input values (a run-time count), and "
            "Core ML programs converted by ts2coreml have static shapes");

  NodeStep relu;
  relu.idx = 1;
  relu.blocked = w.Blocked(g.nodes()[1]);
  EXPECT_TRUE(relu.blocked);
  EXPECT_EQ(FindLowering(w, relu), nullptr);
  EXPECT_EQ(w.a.nodes[1].decision, NodeDecision::kSkipped);
  EXPECT_NE(w.a.nodes[1].lowering, nullptr) << "the lowering is found even when skipped";
  EXPECT_EQ(w.a.problems.size(), 1u) << "a skipped node is not a problem of its own";
}

TEST(AnalysisStepsTest, InferOutputTypesLowersOrBlamesTheInputShapes) {
  Graph g;
  const ValueId a = g.AddInput("a", TypeClass::kFloat, {2, 3});
  const ValueId b = g.AddInput("b", TypeClass::kFloat, {4});
  const ValueId sum = g.AddNode("aten::add", "Tensor", {a, a, g.AddConstInt(1)}, 1).outputs[0];
  g.AddNode("aten::add", "Tensor", {a, b, g.AddConstInt(1)}, 1);
  AnalysisWalk w(g, test::BuiltinRegistry(), nullptr);
  for (int idx : {0, 1}) {
    NodeStep s;
    s.idx = idx;
    const registry::Lowering* l = FindLowering(w, s);
    ASSERT_NE(l, nullptr);
    InferOutputTypes(w, s, *l);
  }
  EXPECT_EQ(w.a.nodes[0].decision, NodeDecision::kLowered);
  EXPECT_EQ(w.a.nodes[0].matched, "aten::add.Tensor");
  ExpectTensor(g, sum, TypeClass::kFloat, {2, 3});
  EXPECT_EQ(w.a.nodes[1].decision, NodeDecision::kError);
  ASSERT_EQ(w.a.problems.size(), 1u);
  EXPECT_EQ(w.a.problems[0].error_class, ErrorClass::kInputSpec);
  EXPECT_NE(w.a.problems[0].message.find("(--input a:2x3 --input b:4)"), std::string::npos)
      << w.a.problems[0].message;
}

TEST(AnalysisStepsTest, OutputChecksNameTheOutput) {
  Graph g;
  Value loose;
  loose.name = "loose";
  loose.kind = ValueKind::kTensor;
  g.AddOutput("out", g.AddValue(loose));
  Value buf = HostTensor(test::Filled({2}, 0));
  buf.name = "buf";
  buf.tensor = nullptr;
  g.AddOutput("empty", g.AddValue(buf));
  AnalysisWalk w(g, test::BuiltinRegistry(), nullptr);
  CheckUninitializedOutputs(w);
  ASSERT_EQ(w.a.problems.size(), 1u);
  EXPECT_EQ(w.a.problems[0].message,
            "model output 'empty' is 'buf', uninitialized memory (aten::empty, new_empty, "
            "empty_like) not fully written");
  CheckOutputsTyped(w);
  ASSERT_EQ(w.a.problems.size(), 2u);
  EXPECT_EQ(w.a.problems[1].message, "model output 'out' has no known type");
}

TEST(AnalysisControlFlowTest, IfTakesItsBranchesTypeAndTheConditionIsAnAlias) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  const ValueId cond = test::AddSumPositive(g, x);
  Node& n = test::AddControlFlow(
      g, "prim::If", {cond}, 1,
      {[&](const std::vector<ValueId>&) { return std::vector<ValueId>{test::AddRelu(g, x)}; },
       [&](const std::vector<ValueId>&) {
         return std::vector<ValueId>{g.AddNode("aten::sigmoid", "", {x}, 1).outputs[0]};
       }});
  const ValueId y = n.outputs[0];
  const int idx = static_cast<int>(g.nodes().size()) - 1;
  g.AddOutput("y", y);
  Analysis a = Analyze(g, test::BuiltinRegistry());
  ASSERT_TRUE(a.ok()) << Problems(a);
  ExpectTensor(g, y, TypeClass::kFloat, {2, 3});
  ExpectTensor(g, cond, TypeClass::kBool, {});  // bool(...) is its bool scalar
  EXPECT_EQ(a.nodes[static_cast<size_t>(idx)].decision, NodeDecision::kLowered);
  EXPECT_EQ(a.nodes[static_cast<size_t>(idx)].matched, "prim::If");
  EXPECT_EQ(a.nodes[static_cast<size_t>(idx - 1)].matched, "aten::sigmoid");  // in a block
}

TEST(AnalysisControlFlowTest, BranchesOfDifferentTypesAreRefused) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  const ValueId cond = test::AddSumPositive(g, x);
  Node& n = test::AddControlFlow(
      g, "prim::If", {cond}, 1,
      {[&](const std::vector<ValueId>&) { return std::vector<ValueId>{test::AddRelu(g, x)}; },
       [&](const std::vector<ValueId>&) {
         return std::vector<ValueId>{
             g.AddNode("aten::sum", "", {x, g.AddConstNone()}, 1).outputs[0]};
       }});
  g.AddOutput("y", n.outputs[0]);
  Analysis a = Analyze(g, test::BuiltinRegistry());
  ASSERT_FALSE(a.ok());
  EXPECT_NE(Problems(a).find("result 0 is float[2,3] in the then branch and float[] in the "
                             "else branch; MIL cond needs one type from both branches"),
            std::string::npos)
      << Problems(a);
}

// A condition analysis folds (a scripted `input.dim() == 2` once the rank is known) takes one
// branch: its nodes are the enclosing block's, the other's are not converted, and the two may
// yield different types.
TEST(AnalysisControlFlowTest, IfOnAConstantConditionTakesOneBranch) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  const ValueId cond =
      g.AddNode("aten::eq", "int", {g.AddConstInt(2), g.AddConstInt(3)}, 1).outputs[0];
  g.value(cond).kind = ValueKind::kBool;  // as the importer types a TorchScript bool
  Node& n = test::AddControlFlow(
      g, "prim::If", {cond}, 1,
      {[&](const std::vector<ValueId>&) { return std::vector<ValueId>{test::AddRelu(g, x)}; },
       [&](const std::vector<ValueId>&) {
         return std::vector<ValueId>{
             g.AddNode("aten::sum", "", {x, g.AddConstNone()}, 1).outputs[0]};
       }});
  const ValueId y = n.outputs[0];
  const int idx = static_cast<int>(g.nodes().size()) - 1;
  g.AddOutput("y", y);
  Analysis a = Analyze(g, test::BuiltinRegistry());
  ASSERT_TRUE(a.ok()) << Problems(a);
  ExpectTensor(g, g.Resolve(y), TypeClass::kFloat, {});
  EXPECT_EQ(a.nodes[static_cast<size_t>(idx)].decision, NodeDecision::kFolded);
  EXPECT_EQ(a.nodes[static_cast<size_t>(idx - 1)].decision, NodeDecision::kLowered);  // sum
  EXPECT_EQ(a.nodes[static_cast<size_t>(idx - 2)].decision, NodeDecision::kFolded);   // relu
}

// What a branch yields as a result nothing reads is not read (an early `return out, weights`
// whose caller drops the weights): lowerings that skip unread outputs skip it.
TEST(AnalysisControlFlowTest, ABranchResultNobodyReadsIsNotARead) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  const ValueId cond = test::AddSumPositive(g, x);
  std::vector<ValueId> yielded;
  auto branch = [&](const std::vector<ValueId>&) {
    const ValueId kept = test::AddRelu(g, x);
    const ValueId dropped = g.AddNode("aten::sigmoid", "", {x}, 1).outputs[0];
    yielded.push_back(dropped);
    return std::vector<ValueId>{kept, dropped};
  };
  Node& n = test::AddControlFlow(g, "prim::If", {cond}, 2, {branch, branch});
  g.AddOutput("y", n.outputs[0]);
  Analysis a = Analyze(g, test::BuiltinRegistry());
  ASSERT_TRUE(a.ok()) << Problems(a);
  ASSERT_EQ(yielded.size(), 2u);
  for (ValueId v : yielded) EXPECT_EQ(a.uses[static_cast<size_t>(v)], 0);
  EXPECT_EQ(a.uses[static_cast<size_t>(n.blocks[0].outputs[0])], 1);
}

/// h = x; for 100 trips: h = body(h): the loop node.
Node& AddLoop(Graph& g, ValueId x, const std::function<ValueId(Graph&, ValueId)>& body) {
  return test::AddControlFlow(g, "prim::Loop", {g.AddConstInt(100), g.AddConstBool(true), x}, 1,
                              {[&](const std::vector<ValueId>& in) {
                                return std::vector<ValueId>{g.AddConstBool(true), body(g, in[1])};
                              }},
                              /*num_block_inputs=*/2);
}

TEST(AnalysisControlFlowTest, LoopCarriesItsInitialType) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 8});
  Node& loop = AddLoop(
      g, x, [](Graph& gr, ValueId h) { return gr.AddNode("aten::tanh", "", {h}, 1).outputs[0]; });
  const ValueId h = loop.outputs[0];
  const ValueId index = loop.blocks[0].inputs[0];
  const ValueId carried = loop.blocks[0].inputs[1];
  g.AddOutput("h", h);
  Analysis a = Analyze(g, test::BuiltinRegistry());
  ASSERT_TRUE(a.ok()) << Problems(a);
  ExpectTensor(g, carried, TypeClass::kFloat, {1, 8});
  ExpectTensor(g, index, TypeClass::kInt, {});
  ExpectTensor(g, h, TypeClass::kFloat, {1, 8});
  EXPECT_FALSE(g.value(carried).is_const);
}

TEST(AnalysisControlFlowTest, LoopWhoseBodyChangesTheTypeIsRefused) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 8});
  Node& loop = AddLoop(g, x, [](Graph& gr, ValueId h) {
    return gr.AddNode("aten::sum", "", {h, gr.AddConstNone()}, 1).outputs[0];
  });
  g.AddOutput("h", loop.outputs[0]);
  Analysis a = Analyze(g, test::BuiltinRegistry());
  ASSERT_FALSE(a.ok());
  EXPECT_NE(Problems(a).find("enters the loop as float[1,8] but the body yields float[]"),
            std::string::npos)
      << Problems(a);
}

TEST(AnalysisControlFlowTest, ScalarArithmeticOnALoopCounterIsTheCores) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2});
  ValueId next = kNoValue;
  Node& loop = test::AddControlFlow(
      g, "prim::Loop", {g.AddConstInt(int64_t{1} << 62), g.AddConstBool(true), g.AddConstInt(0)}, 1,
      {[&](const std::vector<ValueId>& in) {
        next = g.AddNode("aten::add", "int", {in[1], g.AddConstInt(1)}, 1).outputs[0];
        const ValueId more = g.AddNode("aten::lt", "int", {next, g.AddConstInt(5)}, 1).outputs[0];
        return std::vector<ValueId>{more, next};
      }},
      2);
  const ValueId count = loop.outputs[0];
  const ValueId y = g.AddNode("aten::relu", "", {x}, 1).outputs[0];
  g.AddOutput("y", y);
  Analysis a = Analyze(g, test::BuiltinRegistry());
  ASSERT_TRUE(a.ok()) << Problems(a);
  ExpectTensor(g, next, TypeClass::kInt, {});
  ExpectTensor(g, count, TypeClass::kInt, {});
}

}  // namespace
}  // namespace ts2coreml::core
