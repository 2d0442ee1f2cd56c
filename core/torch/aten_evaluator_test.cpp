/// Host folding with ATen: TorchScript IR (as torch.jit.trace and torch.jit.script write it)
/// imported and analyzed with the built-in plugins and an AtenEvaluator. Input-independent
/// subgraphs become constants with PyTorch's aliasing (in-place writes through views are seen by
/// later readers, not by earlier ones); anything that reads input data is left to lowering or
/// refused. The last test converts a scripted model end to end and runs the package in the
/// reference interpreter against LibTorch.
#include "core/torch/aten_evaluator.h"

#include <torch/script.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/convert/analysis.h"
#include "core/convert/converter.h"
#include "core/convert/test_util.h"
#include "core/interp/interpreter.h"
#include "core/torch/aten_evaluator_steps.h"
#include "core/torch/graph_importer.h"
#include "gtest/gtest.h"
#include "torch/csrc/jit/ir/irparser.h"

namespace ts2coreml::core {
namespace {

using Shape = std::vector<int64_t>;

/// A fresh temporary directory, removed with its contents.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           absl::StrCat("aten_evaluator_test.", ::getpid(), ".", reinterpret_cast<uintptr_t>(this));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// An analyzed graph.
struct Analyzed {
  Graph g;
  Analysis a;
};

/// Imports `ir` (a forward(self, x) graph) with x of `shape` (none: unshaped) and analyzes it
/// with the built-in plugins and an AtenEvaluator.
Analyzed AnalyzeIR(const std::string& ir, const Shape& shape, AtenEvaluator::Options options = {},
                   bool shaped = true) {
  CanonicalModel m;
  m.graph = std::make_shared<torch::jit::Graph>();
  std::unordered_map<std::string, torch::jit::Value*> names;
  torch::jit::parseIR(ir, m.graph.get(), names);
  for (const auto& [name, value] : names) value->setDebugName(name);  // parseIR numbers them
  m.input_names = {"x"};
  std::vector<InputSpec> inputs;
  if (shaped) inputs.push_back({"x", shape});
  absl::StatusOr<Graph> g = ImportGraph(m, inputs, {}, /*allow_unshaped_inputs=*/!shaped);
  EXPECT_TRUE(g.ok()) << g.status();
  Analyzed out{g.ok() ? *std::move(g) : Graph(), {}};
  AtenEvaluator host(options);
  out.a = Analyze(out.g, test::BuiltinRegistry(), &host);
  return out;
}

std::string Problems(const Analysis& a) {
  std::string s;
  for (const Problem& p : a.problems) absl::StrAppend(&s, p.kind, ": ", p.message, "\n");
  return s;
}

/// The node whose first output has TorchScript name `name`.
int NodeNamed(const Graph& g, const std::string& name) {
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const Node& n = g.nodes()[i];
    if (!n.outputs.empty() && g.value(n.outputs[0]).name == name) return static_cast<int>(i);
  }
  ADD_FAILURE() << "no node makes %" << name;
  return 0;
}

NodeDecision DecisionOf(const Analyzed& r, const std::string& name) {
  return r.a.nodes.at(static_cast<size_t>(NodeNamed(r.g, name))).decision;
}

/// The contents of input `i` of the node making `name`, which must be a host constant.
at::Tensor ConstInput(const Analyzed& r, const std::string& name, size_t i) {
  const Node& n = r.g.nodes().at(static_cast<size_t>(NodeNamed(r.g, name)));
  const Value& v = r.g.value(r.g.Resolve(n.inputs.at(i)));
  EXPECT_TRUE(v.is_const && v.tensor)
      << "input " << i << " of %" << name << " ('" << v.name << "') is not a constant tensor";
  if (!v.tensor) return at::Tensor();
  return BorrowTensor(*v.tensor).clone();
}

/// The constants of the graph header below: x's dims, numbers, dtype float32.
constexpr char kHeader[] = R"IR(
graph(%self : Tensor, %x : Tensor):
  %none : NoneType = prim::Constant()
  %false : bool = prim::Constant[value=0]()
  %i0 : int = prim::Constant[value=0]()
  %i1 : int = prim::Constant[value=1]()
  %i2 : int = prim::Constant[value=2]()
  %i3 : int = prim::Constant[value=3]()
  %im1 : int = prim::Constant[value=-1]()
  %two : float = prim::Constant[value=2.]()
  %zero : float = prim::Constant[value=0.]()
  %float32 : int = prim::Constant[value=6]()
  %h : int = aten::size(%x, %i0)
  %w : int = aten::size(%x, %i1)
  %hw : int[] = prim::ListConstruct(%h, %w)
)IR";

std::string IR(const std::string& body) { return absl::StrCat(kHeader, body); }

TEST(AtenEvaluatorTest, UnsupportedOpsAreTypedByTheirMetaKernels) {
  // digamma and histc have no lowering. digamma's output is typed on meta tensors, so the mm
  // behind it is analyzed and its shape error found; histc has no meta kernel, so what follows
  // it stays skipped.
  Analyzed r = AnalyzeIR(IR(R"IR(
  %d : Tensor = aten::digamma(%x)
  %w : Tensor = aten::ones_like(%x, %none, %none, %none, %none, %none)
  %mm : Tensor = aten::mm(%d, %w)
  %nz : Tensor = aten::histc(%x, %i3, %zero, %two)
  %after : Tensor = aten::relu(%nz)
  %out : (Tensor, Tensor) = prim::TupleConstruct(%mm, %after)
  return (%out)
)IR"),
                         {3, 5});
  EXPECT_EQ(DecisionOf(r, "d"), NodeDecision::kUnsupported);
  const Value& d = r.g.value(r.g.nodes()[static_cast<size_t>(NodeNamed(r.g, "d"))].outputs[0]);
  EXPECT_TRUE(d.typed);
  EXPECT_EQ(d.shape, (Shape{3, 5}));
  EXPECT_EQ(d.type_class, TypeClass::kFloat);
  EXPECT_EQ(DecisionOf(r, "mm"), NodeDecision::kError) << Problems(r.a);
  EXPECT_EQ(DecisionOf(r, "nz"), NodeDecision::kUnsupported);
  EXPECT_EQ(DecisionOf(r, "after"), NodeDecision::kSkipped);
}

TEST(AtenEvaluatorTest, InPlaceSliceWriteIsSeenByLaterReadersOnly) {
  // m = x.new_zeros((H, W)); before = x + m; m[0:2, 1:3] = 2; after = x + m; flat = m.view(-1)
  Analyzed r = AnalyzeIR(IR(R"IR(
  %m : Tensor = aten::new_zeros(%x, %hw, %float32, %none, %none, %false)
  %before : Tensor = aten::add(%x, %m, %i1)
  %s0 : Tensor = aten::slice(%m, %i0, %i0, %i2, %i1)
  %s1 : Tensor = aten::slice(%s0, %i1, %i1, %i3, %i1)
  %filled : Tensor = aten::fill_(%s1, %two)
  %after : Tensor = aten::add(%x, %m, %i1)
  %shape : int[] = prim::ListConstruct(%im1)
  %flat : Tensor = aten::view(%m, %shape)
  %xflat : Tensor = aten::view(%x, %shape)
  %later : Tensor = aten::add(%xflat, %flat, %i1)
  %out : (Tensor, Tensor, Tensor) = prim::TupleConstruct(%before, %after, %later)
  return (%out))IR"),
                         {4, 5});
  ASSERT_TRUE(r.a.ok()) << Problems(r.a);
  for (const char* folded : {"m", "s0", "s1", "filled", "flat"}) {
    EXPECT_EQ(DecisionOf(r, folded), NodeDecision::kFolded) << folded;
  }
  for (const char* lowered : {"before", "after", "later"}) {
    EXPECT_EQ(DecisionOf(r, lowered), NodeDecision::kLowered) << lowered;
  }
  at::Tensor written = at::zeros({4, 5});
  written.slice(0, 0, 2).slice(1, 1, 3).fill_(2);
  EXPECT_TRUE(at::equal(ConstInput(r, "before", 1), at::zeros({4, 5})))
      << "a reader before the write sees zeros: " << ConstInput(r, "before", 1);
  EXPECT_TRUE(at::equal(ConstInput(r, "after", 1), written)) << ConstInput(r, "after", 1);
  EXPECT_TRUE(at::equal(ConstInput(r, "later", 1), written.view(-1)));
}

TEST(AtenEvaluatorTest, WritesThroughEveryAliasReachEveryView) {
  // A view taken before a write through another view sees it (one storage), as in PyTorch.
  Analyzed r = AnalyzeIR(IR(R"IR(
  %m : Tensor = aten::new_zeros(%x, %hw, %float32, %none, %none, %false)
  %row : Tensor = aten::select(%m, %i0, %i1)
  %col : Tensor = aten::select(%m, %i1, %i2)
  %f1 : Tensor = aten::fill_(%col, %two)
  %y : Tensor = aten::add(%x, %row, %i1)
  return (%y))IR"),
                         {4, 5});
  ASSERT_TRUE(r.a.ok()) << Problems(r.a);
  at::Tensor expected = at::zeros({5});
  expected[2] = 2;
  EXPECT_TRUE(at::equal(ConstInput(r, "y", 1), expected)) << ConstInput(r, "y", 1);
}

TEST(AtenEvaluatorTest, ShapeOnlyInputsNeedNoData) {
  Analyzed r = AnalyzeIR(IR(R"IR(
  %z : Tensor = aten::zeros_like(%x, %none, %none, %none, %none, %none)
  %o : Tensor = aten::ones_like(%x, %none, %none, %none, %none, %none)
  %s : Tensor = aten::sub(%o, %z, %i1)
  %y : Tensor = aten::mul(%x, %s)
  return (%y))IR"),
                         {3, 2});
  ASSERT_TRUE(r.a.ok()) << Problems(r.a);
  EXPECT_EQ(DecisionOf(r, "z"), NodeDecision::kFolded);
  EXPECT_EQ(DecisionOf(r, "s"), NodeDecision::kFolded);
  EXPECT_EQ(DecisionOf(r, "y"), NodeDecision::kLowered);
  EXPECT_TRUE(at::equal(ConstInput(r, "y", 1), at::ones({3, 2})));
}

TEST(AtenEvaluatorTest, WhatReadsInputDataIsNotFolded) {
  // A mask computed from x's values is lowered, not folded.
  Analyzed r = AnalyzeIR(IR(R"IR(
  %mask : Tensor = aten::gt(%x, %zero)
  %y : Tensor = aten::masked_fill(%x, %mask, %two)
  return (%y))IR"),
                         {4, 5});
  ASSERT_TRUE(r.a.ok()) << Problems(r.a);
  EXPECT_EQ(DecisionOf(r, "mask"), NodeDecision::kLowered);
  EXPECT_EQ(DecisionOf(r, "y"), NodeDecision::kLowered);
}

TEST(AtenEvaluatorTest, InPlaceWriteIntoRunTimeTensorIsNotFolded) {
  // m = x * 0 depends on x (by data flow, whatever its values): its slice and the write into it
  // are run-time ops, and fill_ has no lowering.
  Analyzed r = AnalyzeIR(IR(R"IR(
  %m : Tensor = aten::mul(%x, %zero)
  %s0 : Tensor = aten::slice(%m, %i0, %i0, %i2, %i1)
  %filled : Tensor = aten::fill_(%s0, %two)
  %y : Tensor = aten::add(%x, %m, %i1)
  return (%y))IR"),
                         {4, 5});
  EXPECT_EQ(DecisionOf(r, "m"), NodeDecision::kLowered);
  EXPECT_EQ(DecisionOf(r, "s0"), NodeDecision::kLowered);
  EXPECT_EQ(DecisionOf(r, "filled"), NodeDecision::kUnsupported);
  absl::Status s = AnalysisStatus(r.a);
  EXPECT_EQ(ClassOf(s), ErrorClass::kUnsupportedOps) << s;
  EXPECT_NE(s.message().find("aten::fill_"), std::string::npos) << s;
}

TEST(AtenEvaluatorTest, WritingRunTimeDataIntoAFoldedTensorIsRefused) {
  // m[0:2] = x[0:2] would make m depend on x after readers took it for a constant.
  Analyzed r = AnalyzeIR(IR(R"IR(
  %m : Tensor = aten::new_zeros(%x, %hw, %float32, %none, %none, %false)
  %s0 : Tensor = aten::slice(%m, %i0, %i0, %i2, %i1)
  %xs : Tensor = aten::slice(%x, %i0, %i0, %i2, %i1)
  %copied : Tensor = aten::copy_(%s0, %xs, %false)
  %y : Tensor = aten::add(%x, %m, %i1)
  return (%y))IR"),
                         {4, 5});
  EXPECT_EQ(DecisionOf(r, "s0"), NodeDecision::kFolded);
  EXPECT_EQ(DecisionOf(r, "xs"), NodeDecision::kLowered);
  EXPECT_EQ(DecisionOf(r, "copied"), NodeDecision::kError);
  absl::Status s = AnalysisStatus(r.a);
  EXPECT_EQ(ClassOf(s), ErrorClass::kConversion) << s;
  EXPECT_NE(s.message().find("aten::copy_"), std::string::npos) << s;
  EXPECT_NE(s.message().find("writes in place into 's0'"), std::string::npos) << s;
  EXPECT_NE(s.message().find("'xs') is computed at run time"), std::string::npos) << s;
}

TEST(AtenEvaluatorTest, EmptyFullyWrittenFolds) {
  Analyzed r = AnalyzeIR(IR(R"IR(
  %m : Tensor = aten::new_empty(%x, %hw, %float32, %none, %none, %false)
  %filled : Tensor = aten::fill_(%m, %two)
  %y : Tensor = aten::add(%x, %m, %i1)
  return (%y))IR"),
                         {4, 5});
  ASSERT_TRUE(r.a.ok()) << Problems(r.a);
  EXPECT_TRUE(at::equal(ConstInput(r, "y", 1), at::full({4, 5}, 2.0)));
}

TEST(AtenEvaluatorTest, EmptyPartlyWrittenIsRefused) {
  // Lowered reader.
  Analyzed lowered = AnalyzeIR(IR(R"IR(
  %m : Tensor = aten::new_empty(%x, %hw, %float32, %none, %none, %false)
  %s0 : Tensor = aten::slice(%m, %i0, %i0, %i2, %i1)
  %filled : Tensor = aten::fill_(%s0, %two)
  %y : Tensor = aten::add(%x, %m, %i1)
  return (%y))IR"),
                               {4, 5});
  EXPECT_EQ(DecisionOf(lowered, "filled"), NodeDecision::kFolded);
  EXPECT_EQ(DecisionOf(lowered, "y"), NodeDecision::kError);
  absl::Status s = AnalysisStatus(lowered.a);
  EXPECT_NE(s.message().find("uninitialized memory"), std::string::npos) << s;
  // Folded reader.
  Analyzed folded = AnalyzeIR(IR(R"IR(
  %m : Tensor = aten::new_empty(%x, %hw, %float32, %none, %none, %false)
  %s0 : Tensor = aten::slice(%m, %i0, %i0, %i2, %i1)
  %filled : Tensor = aten::fill_(%s0, %two)
  %n : Tensor = aten::neg(%m)
  %y : Tensor = aten::add(%x, %n, %i1)
  return (%y))IR"),
                              {4, 5});
  EXPECT_EQ(DecisionOf(folded, "n"), NodeDecision::kError);
  s = AnalysisStatus(folded.a);
  EXPECT_NE(s.message().find("uninitialized memory"), std::string::npos) << s;
}

TEST(AtenEvaluatorTest, RandomOpsAreNotFolded) {
  Analyzed r = AnalyzeIR(IR(R"IR(
  %noise : Tensor = aten::rand_like(%x, %none, %none, %none, %none, %none)
  %y : Tensor = aten::add(%x, %noise, %i1)
  return (%y))IR"),
                         {4, 5});
  EXPECT_EQ(DecisionOf(r, "noise"), NodeDecision::kUnsupported) << Problems(r.a);
}

TEST(AtenEvaluatorTest, ResultsOverTheLimitAreLoweredOrReported) {
  AtenEvaluator::Options small;
  small.max_elements = 10;
  Analyzed r = AnalyzeIR(IR(R"IR(
  %m : Tensor = aten::new_zeros(%x, %hw, %float32, %none, %none, %false)
  %y : Tensor = aten::add(%x, %m, %i1)
  return (%y))IR"),
                         {4, 5}, small);
  EXPECT_EQ(DecisionOf(r, "m"), NodeDecision::kUnsupported);
  absl::Status s = AnalysisStatus(r.a);
  EXPECT_NE(s.message().find("aten::new_zeros"), std::string::npos) << s;
  const std::string& reason = r.a.nodes.at(static_cast<size_t>(NodeNamed(r.g, "m"))).reason;
  EXPECT_NE(reason.find("20 elements, over the host-evaluation limit of 10"), std::string::npos)
      << reason;
}

// A result over the limit is refused from its meta shape, before it is allocated: 2^40 zeros
// (4 TB) would otherwise fail the allocation or exhaust memory first.
TEST(AtenEvaluatorTest, ResultsOverTheLimitAreRefusedBeforeAllocation) {
  Analyzed r = AnalyzeIR(IR(R"IR(
  %m : Tensor = aten::zeros_like(%x, %none, %none, %none, %none, %none)
  %y : Tensor = aten::add(%x, %m, %i1)
  return (%y))IR"),
                         {int64_t{1} << 20, int64_t{1} << 20});
  const std::string& reason = r.a.nodes.at(static_cast<size_t>(NodeNamed(r.g, "m"))).reason;
  EXPECT_NE(reason.find("1099511627776 elements, over the host-evaluation limit"),
            std::string::npos)
      << reason;
}

TEST(AtenEvaluatorTest, WithoutShapesInputIndependentOpsAreNotReportedUnsupported) {
  // coverage without --input: new_zeros and fill_ fold once shapes are known; rand_like never.
  Analyzed r = AnalyzeIR(IR(R"IR(
  %m : Tensor = aten::new_zeros(%x, %hw, %float32, %none, %none, %false)
  %s0 : Tensor = aten::slice(%m, %i0, %i0, %i2, %i1)
  %filled : Tensor = aten::fill_(%s0, %two)
  %noise : Tensor = aten::rand_like(%x, %none, %none, %none, %none, %none)
  %xs : Tensor = aten::slice(%x, %i0, %i0, %i2, %i1)
  %copied : Tensor = aten::copy_(%xs, %s0, %false)
  %y : Tensor = aten::add(%noise, %m, %i1)
  return (%y))IR"),
                         {}, {}, /*shaped=*/false);
  EXPECT_EQ(DecisionOf(r, "m"), NodeDecision::kSkipped);
  EXPECT_EQ(DecisionOf(r, "filled"), NodeDecision::kSkipped);
  EXPECT_EQ(DecisionOf(r, "noise"), NodeDecision::kUnsupported);
  EXPECT_EQ(DecisionOf(r, "copied"), NodeDecision::kUnsupported) << "reads x's data";
}

TEST(AtenEvaluatorTest, ModelConstantsAreNeverWritten) {
  const std::vector<float> data = {1, 2, 3, 4};
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {4});
  const ValueId w = g.AddConstTensor("w", MakeFloatTensor({4}, data));
  Node& fill = g.AddNode("aten::fill_", "Scalar", {w, g.AddConstFloat(7)}, 1);
  fill.mutated_inputs = {0};
  g.value(fill.outputs[0]).kind = ValueKind::kTensor;
  const ValueId y = g.AddNode("aten::add", "Tensor", {x, w, g.AddConstInt(1)}, 1).outputs[0];
  g.AddOutput("y", y);
  AtenEvaluator host;
  Analysis a = Analyze(g, test::BuiltinRegistry(), &host);
  ASSERT_EQ(a.nodes.at(0).decision, NodeDecision::kError) << Problems(a);
  EXPECT_NE(a.nodes[0].reason.find("writes in place into model constant 'w'"), std::string::npos)
      << a.nodes[0].reason;
  const float* now = static_cast<const float*>(g.value(w).tensor->data);
  EXPECT_EQ(std::vector<float>(now, now + 4), data) << "the model's constant was written";
}

TEST(AtenEvaluatorTest, CanEvaluateOnlyDeterministicAtenOps) {
  Graph g;
  AtenEvaluator host;
  EXPECT_TRUE(host.CanEvaluate(g.AddNode("aten::new_zeros", "", {}, 1)));
  EXPECT_TRUE(host.CanEvaluate(g.AddNode("aten::fill_", "Tensor", {}, 1)));
  EXPECT_FALSE(host.CanEvaluate(g.AddNode("aten::fill_", "NoSuchOverload", {}, 1)));
  EXPECT_FALSE(host.CanEvaluate(g.AddNode("aten::rand_like", "", {}, 1)));
  EXPECT_FALSE(host.CanEvaluate(g.AddNode("aten::bernoulli", "", {}, 1)));
  EXPECT_FALSE(host.CanEvaluate(g.AddNode("myops::scale", "", {}, 1)));
}

/// forward(x) of a scripted model: a mask built in place from shapes only (as swin_t does,
/// unrolled: the importer takes no loops), read by one op before the writes and by others after.
torch::jit::Module ShiftedMaskModule() {
  torch::jit::Module m("ShiftedMask");
  m.define(R"(
def forward(self, x):
    h = x.size(2)
    w = x.size(3)
    mask = x.new_zeros([h, w])
    early = x + mask
    mask[0:-2, 0:-3] = 0
    mask[0:-2, -3:-1] = 1
    mask[0:-2, -1:] = 2
    mask[-2:-1, 0:-3] = 3
    mask[-2:-1, -3:-1] = 4
    mask[-2:-1, -1:] = 5
    mask[-1:, 0:-3] = 6
    mask[-1:, -3:-1] = 7
    mask[-1:, -1:] = 8
    d = mask.view(h * w).unsqueeze(1) - mask.view(h * w).unsqueeze(0)
    d = d.masked_fill(d != 0, -100.0).masked_fill(d == 0, 0.0)
    return early, x * mask, x.view(h * w).unsqueeze(0) + d
)");
  m.eval();
  return m;
}

/// forward(x) writing into a clone of a parameter (as swin_v2 does with its qkv bias).
torch::jit::Module ClonedBiasModule() {
  torch::jit::Module m("ClonedBias");
  m.register_parameter("bias", torch::arange(1, 7, at::kFloat), false);
  m.define(R"(
def forward(self, x):
    b = self.bias.clone()
    b[2:4] = 0.0
    return x + b, x * self.bias
)");
  m.eval();
  return m;
}

/// Converts `module` (one input x of `shape`) in fp32 and fp16 and compares the interpreted
/// package with LibTorch.
void ExpectConvertsLikeLibTorch(torch::jit::Module module, const Shape& shape) {
  const TempDir dir;
  const std::filesystem::path model = dir.path / "mask.pt";
  module.save(model.string());
  at::Tensor x = torch::randn(shape);
  auto expected = module.forward({x}).toTuple()->elements();
  for (Precision precision : {Precision::kFp32, Precision::kFp16}) {
    ConvertOptions options;
    options.model = model;
    options.output =
        dir.path / (precision == Precision::kFp32 ? "fp32.mlpackage" : "fp16.mlpackage");
    options.inputs = {{"x", shape}};
    options.precision.precision = precision;
    absl::StatusOr<ConversionReport> report = Convert(options, test::BuiltinRegistry());
    ASSERT_TRUE(report.ok()) << report.status();
    absl::StatusOr<interp::Interpreter> interp = interp::Interpreter::Load(options.output);
    ASSERT_TRUE(interp.ok()) << interp.status();
    absl::StatusOr<interp::RunResult> run = interp->Run({{"x", x}});
    ASSERT_TRUE(run.ok()) << run.status();
    // fp16 rounds x and each result to 11 bits (relative 2^-11); the mask values are exact.
    const double tol = precision == Precision::kFp32 ? 1e-6 : 2e-3;
    for (size_t k = 0; k < expected.size(); ++k) {
      const at::Tensor want = expected[k].toTensor();
      const at::Tensor got = run->outputs.at(absl::StrCat("output_", k));
      ASSERT_EQ(got.sizes(), want.sizes()) << "output_" << k;
      EXPECT_TRUE(at::allclose(got, want, /*rtol=*/tol, /*atol=*/tol))
          << "output_" << k << " differs: max error " << (got - want).abs().max().item<double>();
    }
  }
}

TEST(AtenEvaluatorTest, ScriptedMaskConvertsAndMatchesLibTorch) {
  ExpectConvertsLikeLibTorch(ShiftedMaskModule(), {1, 1, 4, 5});
}

TEST(AtenEvaluatorTest, WriteIntoClonedParameterConvertsAndLeavesTheParameter) {
  ExpectConvertsLikeLibTorch(ClonedBiasModule(), {2, 6});
}

// The state-free steps of Evaluate (aten_evaluator_steps.h).

Value Number(ValueKind kind, int64_t i, double f = 0, bool b = false) {
  Value v;
  v.kind = kind;
  v.is_const = true;
  v.i = i;
  v.f = f;
  v.b = b;
  return v;
}

TEST(AtenEvaluatorStepsTest, ScalarArgumentsConvertOrAreNotEvaluated) {
  const Value three = Number(ValueKind::kInt, 3);
  absl::StatusOr<c10::IValue> a = ScalarArgument(*c10::IntType::get(), three, 1);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->toInt(), 3);
  a = ScalarArgument(*c10::FloatType::get(), three, 1);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->toDouble(), 3.0);
  a = ScalarArgument(*c10::BoolType::get(), three, 1);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->toBool());
  a = ScalarArgument(*c10::IntType::get(), Number(ValueKind::kBool, 0, 0, true), 1);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->toInt(), 1);

  const Value half = Number(ValueKind::kFloat, 0, 2.5);
  a = ScalarArgument(*c10::NumberType::get(), half, 2);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->toDouble(), 2.5);
  a = ScalarArgument(*c10::IntType::get(), half, 2);
  EXPECT_TRUE(absl::IsUnimplemented(a.status())) << a.status();
  EXPECT_EQ(a.status().message(), "not evaluated on the host: input 2 is not an int");

  Value mode;
  mode.kind = ValueKind::kString;
  mode.s = "trunc";
  a = ScalarArgument(*c10::StringType::get(), mode, 0);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->toStringRef(), "trunc");
  a = ScalarArgument(*c10::DeviceObjType::get(), mode, 0);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->toDevice(), c10::Device(c10::kCPU));
  a = ScalarArgument(*c10::TensorType::get(), three, 4);
  EXPECT_TRUE(absl::IsUnimplemented(a.status())) << a.status();
  EXPECT_EQ(a.status().message(), "not evaluated on the host: input 4 has type Tensor");
}

TEST(AtenEvaluatorStepsTest, NumberListArgumentsTakeOneIntForAFixedSize) {
  Value ints;
  ints.kind = ValueKind::kIntList;
  ints.ints = {1, 2};
  absl::StatusOr<c10::IValue> a = NumberListArgument(*c10::IntType::get(), ints, 0, 1);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->toIntVector(), (std::vector<int64_t>{1, 2}));
  a = NumberListArgument(*c10::IntType::get(), Number(ValueKind::kInt, 4), 0, 2);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->toIntVector(), (std::vector<int64_t>{4, 4}));

  Value floats;
  floats.kind = ValueKind::kFloatList;
  floats.floats = {0.5, 1.5};
  a = NumberListArgument(*c10::FloatType::get(), floats, 1, 1);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->toDoubleVector(), (std::vector<double>{0.5, 1.5}));
  Value bools;
  bools.kind = ValueKind::kBoolList;
  bools.bools = {true, false};
  a = NumberListArgument(*c10::BoolType::get(), bools, 1, 1);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->toBoolList().vec(), (std::vector<bool>{true, false}));

  a = NumberListArgument(*c10::FloatType::get(), ints, 3, 1);
  EXPECT_EQ(a.status().message(), "not evaluated on the host: input 3 is a list of float");
  a = NumberListArgument(*c10::IntType::get(), floats, 3, 1);
  EXPECT_EQ(a.status().message(), "not evaluated on the host: input 3 is not an int list");
}

// One walker serves evaluation and typing: tensors and tensor-list elements come from the
// caller's source (told whether the value is a list element), None and numbers do not.
TEST(AtenEvaluatorStepsTest, SchemaArgumentsTakeTensorsFromTheGivenSource) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  const ValueId none = g.AddConstNone();
  Value list;
  list.kind = ValueKind::kTensorList;
  list.elements = {x, none};
  const ValueId xs = g.AddValue(list);
  const ValueId dims = g.AddConstInts({0, 1});
  const Node& n = g.AddNode("aten::example", "", {x, xs, xs, dims, none}, 1);
  std::vector<std::pair<ValueId, bool>> asked;
  auto source = [&](ValueId id, const Value&, const c10::Argument&, bool in_list) {
    asked.emplace_back(id, in_list);
    return absl::StatusOr<at::Tensor>(at::zeros({2, 3}));
  };
  const c10::TypePtr tensor = c10::TensorType::get();
  absl::StatusOr<c10::IValue> a = SchemaArgument(g, n, 0, c10::Argument("self", tensor), source);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->isTensor());
  const c10::TypePtr optional_list = c10::ListType::create(c10::OptionalType::create(tensor));
  a = SchemaArgument(g, n, 1, c10::Argument("indices", optional_list), source);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->toOptionalTensorList().size(), 2u);
  EXPECT_FALSE(a->toOptionalTensorList().get(1).has_value());
  EXPECT_EQ(asked, (std::vector<std::pair<ValueId, bool>>{{x, false}, {x, true}}));
  a = SchemaArgument(g, n, 2, c10::Argument("tensors", c10::ListType::ofTensors()), source);
  EXPECT_EQ(a.status().message(), "not evaluated on the host: a None in a tensor list");
  a = SchemaArgument(g, n, 3, c10::Argument("dims", c10::ListType::ofInts()), source);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->toIntVector(), (std::vector<int64_t>{0, 1}));
  a = SchemaArgument(g, n, 4, c10::Argument("out", c10::OptionalType::create(tensor)), source);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->isNone());
  EXPECT_EQ(asked.size(), 3u) << "numbers and None are not asked for";
}

TEST(AtenEvaluatorStepsTest, ScalarResultsBecomeHostConstants) {
  absl::StatusOr<Value> v = ScalarResult(c10::IValue(int64_t{7}));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->is_const);
  EXPECT_EQ(v->kind, ValueKind::kInt);
  EXPECT_EQ(v->i, 7);
  v = ScalarResult(c10::IValue(1.5));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->kind, ValueKind::kFloat);
  EXPECT_EQ(v->f, 1.5);
  v = ScalarResult(c10::IValue(true));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->kind, ValueKind::kBool);
  EXPECT_TRUE(v->b);
  v = ScalarResult(c10::IValue(std::string("s")));
  EXPECT_TRUE(absl::IsUnimplemented(v.status())) << v.status();
  EXPECT_EQ(v.status().message(), "not evaluated on the host: it returns a String");
}

}  // namespace
}  // namespace ts2coreml::core
