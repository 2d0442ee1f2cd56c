// DecomposeComplex on TorchScript IR: each graph runs in LibTorch before the pass (its complex
// kernels: fft_*, stft, complex arithmetic) and after it (real ops only), on the same inputs,
// and the outputs must agree; then the refusals.
#include "core/torch/passes/decompose_complex.h"

#include <torch/script.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/csrc/jit/ir/irparser.h"

namespace ts2coreml::core {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<torch::jit::Graph> Parse(const std::string& ir) {
  auto g = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(ir, g.get());
  return g;
}

std::vector<at::Tensor> Run(const std::shared_ptr<torch::jit::Graph>& g,
                            const std::vector<at::Tensor>& inputs) {
  torch::jit::GraphFunction fn("f", g->copy(), nullptr);
  std::vector<c10::IValue> args(inputs.begin(), inputs.end());
  const c10::IValue out = fn(args);
  std::vector<at::Tensor> outs;
  if (out.isTuple()) {
    for (const auto& e : out.toTupleRef().elements()) outs.push_back(e.toTensor());
  } else {
    outs.push_back(out.toTensor());
  }
  return outs;
}

/// The kinds of the graph's nodes, nested blocks left out.
std::set<std::string> Kinds(const torch::jit::Graph& g) {
  std::set<std::string> kinds;
  for (const torch::jit::Node* n : g.nodes()) kinds.insert(n->kind().toQualString());
  return kinds;
}

/// Runs `ir` on `inputs` before and after the pass; expects the same outputs within 1e-4
/// (relative to the largest reference magnitude) and no complex op left.
void ExpectSame(const std::string& ir, const std::vector<at::Tensor>& inputs) {
  SCOPED_TRACE(ir);
  std::shared_ptr<torch::jit::Graph> g = Parse(ir);
  const std::vector<at::Tensor> want = Run(g, inputs);
  absl::StatusOr<bool> changed = DecomposeComplex(*g);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  for (const std::string& kind : Kinds(*g)) {
    EXPECT_THAT(kind, ::testing::Not(::testing::AnyOf(
                          HasSubstr("fft"), HasSubstr("stft"), HasSubstr("complex"),
                          HasSubstr("view_as_real"), HasSubstr("aten::real"))))
        << *g;
  }
  const std::vector<at::Tensor> got = Run(g, inputs);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_FALSE(got[i].is_complex()) << "output " << i;
    ASSERT_EQ(got[i].sizes(), want[i].sizes()) << "output " << i << "\n" << *g;
    const double scale = std::max(1.0, want[i].abs().max().item<double>());
    const double err = (got[i] - want[i]).abs().max().item<double>();
    EXPECT_LT(err / scale, 1e-4) << "output " << i << "\n" << *g;
  }
}

absl::Status Refusal(const std::string& ir) {
  std::shared_ptr<torch::jit::Graph> g = Parse(ir);
  absl::StatusOr<bool> changed = DecomposeComplex(*g);
  return changed.ok() ? absl::OkStatus() : changed.status();
}

/// A graph of one real input x of `type` returning view_as_real(op(x, args...)).
std::string RealView(const std::string& type, const std::string& op, const std::string& args) {
  return "graph(%x : " + type + "):\n  %none : NoneType = prim::Constant()\n" + args +
         "  %y : Tensor = " + op + "\n  %r : Tensor = aten::view_as_real(%y)\n  return (%r)\n";
}

void RfftEveryNormAndLength() {
  const at::Tensor x = torch::randn({3, 16});
  for (const std::string norm : {"%none", "%backward", "%forward", "%ortho"}) {
    for (const std::string n : {"%none", "%n10", "%n24"}) {
      ExpectSame(RealView("Float(3, 16)", "aten::fft_rfft(%x, " + n + ", %dim, " + norm + ")",
                          "  %dim : int = prim::Constant[value=-1]()\n"
                          "  %n10 : int = prim::Constant[value=10]()\n"
                          "  %n24 : int = prim::Constant[value=24]()\n"
                          "  %backward : str = prim::Constant[value=\"backward\"]()\n"
                          "  %forward : str = prim::Constant[value=\"forward\"]()\n"
                          "  %ortho : str = prim::Constant[value=\"ortho\"]()\n"),
                 {x});
    }
  }
}

void FftAndIfftOfComplexAlongDimZero() {
  const std::string ir =
      "graph(%a : Float(6, 4), %b : Float(6, 4)):\n"
      "  %none : NoneType = prim::Constant()\n"
      "  %dim : int = prim::Constant[value=0]()\n"
      "  %n : int = prim::Constant[value=5]()\n"
      "  %ortho : str = prim::Constant[value=\"ortho\"]()\n"
      "  %z : Tensor = aten::complex(%a, %b)\n"
      "  %f : Tensor = aten::fft_fft(%z, %none, %dim, %none)\n"
      "  %i : Tensor = aten::fft_ifft(%f, %n, %dim, %ortho)\n"
      "  %c : Tensor = aten::conj(%i)\n"
      "  %re : Tensor = aten::real(%c)\n"
      "  %im : Tensor = aten::imag(%c)\n"
      "  %abs : Tensor = aten::abs(%f)\n"
      "  %angle : Tensor = aten::angle(%f)\n"
      "  %out : (Tensor, Tensor, Tensor, Tensor) = prim::TupleConstruct(%re, %im, %abs, %angle)\n"
      "  return (%out)\n";
  ExpectSame(ir, {torch::randn({6, 4}), torch::randn({6, 4})});
}

void IrfftRoundTripsEvenAndOddLengths() {
  for (int64_t n : {16, 15, 9, 20}) {
    const std::string ir =
        "graph(%x : Float(2, 16)):\n"
        "  %none : NoneType = prim::Constant()\n"
        "  %dim : int = prim::Constant[value=-1]()\n"
        "  %n : int = prim::Constant[value=" +
        std::to_string(n) +
        "]()\n"
        "  %f : Tensor = aten::fft_rfft(%x, %none, %dim, %none)\n"
        "  %y : Tensor = aten::fft_irfft(%f, %n, %dim, %none)\n"
        "  return (%y)\n";
    ExpectSame(ir, {torch::randn({2, 16})});
  }
}

void NdTransformsWithSizesAndDims() {
  const std::string ir =
      "graph(%x : Float(2, 6, 8)):\n"
      "  %none : NoneType = prim::Constant()\n"
      "  %s : int[] = prim::Constant[value=[4, 10]]()\n"
      "  %dims : int[] = prim::Constant[value=[0, -1]]()\n"
      "  %ortho : str = prim::Constant[value=\"ortho\"]()\n"
      "  %f : Tensor = aten::fft_fftn(%x, %s, %dims, %ortho)\n"
      "  %r : Tensor = aten::fft_rfftn(%x, %none, %none, %none)\n"
      "  %i : Tensor = aten::fft_irfftn(%r, %none, %none, %none)\n"
      "  %i2 : Tensor = aten::fft_ifftn(%f, %none, %none, %none)\n"
      "  %fv : Tensor = aten::view_as_real(%f)\n"
      "  %rv : Tensor = aten::view_as_real(%i2)\n"
      "  %out : (Tensor, Tensor, Tensor) = prim::TupleConstruct(%fv, %i, %rv)\n"
      "  return (%out)\n";
  ExpectSame(ir, {torch::randn({2, 6, 8})});
}

void StftWindowsAndModes() {
  const at::Tensor x = torch::randn({2, 40});
  // n_fft 8, hop 3, win_length 6 with a window, normalized, two-sided, complex then abs.
  ExpectSame(
      "graph(%x : Float(2, 40), %w : Float(6)):\n"
      "  %n_fft : int = prim::Constant[value=8]()\n"
      "  %hop : int = prim::Constant[value=3]()\n"
      "  %win : int = prim::Constant[value=6]()\n"
      "  %t : bool = prim::Constant[value=1]()\n"
      "  %f : bool = prim::Constant[value=0]()\n"
      "  %y : Tensor = aten::stft(%x, %n_fft, %hop, %win, %w, %t, %f, %t)\n"
      "  %m : Tensor = aten::abs(%y)\n"
      "  return (%m)\n",
      {x, torch::rand({6})});
  // Defaults: hop n_fft / 4, no window, the real view (return_complex False).
  ExpectSame(
      "graph(%x : Float(40)):\n"
      "  %none : NoneType = prim::Constant()\n"
      "  %n_fft : int = prim::Constant[value=16]()\n"
      "  %win : int = prim::Constant[value=11]()\n"
      "  %f : bool = prim::Constant[value=0]()\n"
      "  %y : Tensor = aten::stft(%x, %n_fft, %none, %win, %none, %f, %none, %f)\n"
      "  return (%y)\n",
      {torch::randn({40})});
  // The center overload pads by n_fft / 2 with pad_mode.
  ExpectSame(
      "graph(%x : Float(2, 40), %w : Float(8)):\n"
      "  %none : NoneType = prim::Constant()\n"
      "  %n_fft : int = prim::Constant[value=8]()\n"
      "  %hop : int = prim::Constant[value=2]()\n"
      "  %t : bool = prim::Constant[value=1]()\n"
      "  %f : bool = prim::Constant[value=0]()\n"
      "  %mode : str = prim::Constant[value=\"reflect\"]()\n"
      "  %y : Tensor = aten::stft(%x, %n_fft, %hop, %none, %w, %t, %mode, %f, %t, %t)\n"
      "  %r : Tensor = aten::view_as_real(%y)\n"
      "  return (%r)\n",
      {x, torch::hann_window(8)});
}

void ArithmeticAndShapeOpsPerPart() {
  const std::string ir =
      "graph(%x : Float(4, 8), %s : Float(4, 5)):\n"
      "  %none : NoneType = prim::Constant()\n"
      "  %dim : int = prim::Constant[value=-1]()\n"
      "  %zero : int = prim::Constant[value=0]()\n"
      "  %one : int = prim::Constant[value=1]()\n"
      "  %two : int = prim::Constant[value=2]()\n"
      "  %alpha : float = prim::Constant[value=0.5]()\n"
      "  %f : Tensor = aten::fft_rfft(%x, %none, %dim, %none)\n"
      "  %g : Tensor = aten::fft_fft(%s, %none, %dim, %none)\n"
      "  %p : Tensor = aten::mul(%f, %g)\n"
      "  %q : Tensor = aten::div(%p, %g)\n"
      "  %d : Tensor = aten::div(%q, %s)\n"
      "  %a : Tensor = aten::add(%d, %s, %alpha)\n"
      "  %b : Tensor = aten::sub(%a, %f, %two)\n"
      "  %n : Tensor = aten::neg(%b)\n"
      "  %t : Tensor = aten::transpose(%n, %zero, %one)\n"
      "  %sz : int = aten::size(%t, %zero)\n"
      "  %sl : Tensor = aten::slice(%t, %zero, %one, %sz, %one)\n"
      "  %r : Tensor = aten::view_as_real(%sl)\n"
      "  return (%r)\n";
  ExpectSame(ir, {torch::randn({4, 8}), torch::randn({4, 5}) + 3});
}

void RefusesComplexModelOutput() {
  absl::Status s = Refusal(
      "graph(%x : Float(2, 8)):\n"
      "  %none : NoneType = prim::Constant()\n"
      "  %dim : int = prim::Constant[value=-1]()\n"
      "  %y : Tensor = aten::fft_rfft(%x, %none, %dim, %none)\n"
      "  return (%y)\n");
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("the model returns a complex tensor (made by aten::fft_rfft)"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("torch.view_as_real(x)"));
}

void RefusesComplexIntoUnknownOp() {
  absl::Status s = Refusal(
      "graph(%x : Float(2, 8)):\n"
      "  %none : NoneType = prim::Constant()\n"
      "  %dim : int = prim::Constant[value=-1]()\n"
      "  %y : Tensor = aten::fft_rfft(%x, %none, %dim, %none)\n"
      "  %z : Tensor = aten::sigmoid(%y)\n"
      "  %r : Tensor = aten::view_as_real(%z)\n"
      "  return (%r)\n");
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("aten::sigmoid: its input is a complex tensor (made by aten::fft_rfft)"));
}

void RefusesLengthsBeyondTheBoundAndUnknownSizes() {
  absl::Status s = Refusal(RealView("Float(2, 8)", "aten::fft_fft(%x, %n, %dim, %none)",
                                    "  %dim : int = prim::Constant[value=-1]()\n"
                                    "  %n : int = prim::Constant[value=4096]()\n"));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("aten::fft_fft: a transform of length 4096 is not supported"));
  s = Refusal(RealView("Tensor", "aten::fft_fft(%x, %none, %dim, %none)",
                       "  %dim : int = prim::Constant[value=-1]()\n"));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("aten::fft_fft: the sizes of input 'self' are not known"));
  s = Refusal(
      "graph(%x : Float(2, 8), %n : int):\n"
      "  %none : NoneType = prim::Constant()\n"
      "  %dim : int = prim::Constant[value=-1]()\n"
      "  %y : Tensor = aten::fft_fft(%x, %n, %dim, %none)\n"
      "  %r : Tensor = aten::view_as_real(%y)\n"
      "  return (%r)\n");
  EXPECT_THAT(std::string(s.message()), HasSubstr("aten::fft_fft: n must be a constant int"));
}

void SizesFromTheInputTypesWhenTheGraphHasNone() {
  // A loaded model's graph carries no sizes: they come from running the producers on zeros.
  const std::string ir =
      "graph(%self : Tensor, %x : Tensor):\n"
      "  %none : NoneType = prim::Constant()\n"
      "  %dim : int = prim::Constant[value=-1]()\n"
      "  %two : int = prim::Constant[value=2]()\n"
      "  %y : Tensor = aten::mul(%x, %two)\n"
      "  %f : Tensor = aten::fft_rfft(%y, %none, %dim, %none)\n"
      "  %i : Tensor = aten::fft_irfft(%f, %none, %dim, %none)\n"
      "  return (%i)\n";
  std::shared_ptr<torch::jit::Graph> g = Parse(ir);
  EXPECT_THAT(std::string(DecomposeComplex(*g).status().message()),
              HasSubstr("give every forward() argument's shape with --input NAME:SHAPE"));
  g = Parse(ir);
  absl::StatusOr<bool> changed = DecomposeComplex(*g, {StaticInputType{{3, 10}, at::kFloat}});
  ASSERT_TRUE(changed.ok()) << changed.status();
  const at::Tensor x = torch::randn({3, 10});
  torch::jit::GraphFunction fn("f", g, nullptr);
  const at::Tensor got = fn({x, x}).toTensor();
  EXPECT_TRUE(torch::allclose(got, x * 2, 1e-4, 1e-5)) << *g;
}

void LeavesRealGraphsAlone() {
  std::shared_ptr<torch::jit::Graph> g = Parse(
      "graph(%x : Float(2, 8)):\n"
      "  %y : Tensor = aten::abs(%x)\n"
      "  return (%y)\n");
  absl::StatusOr<bool> changed = DecomposeComplex(*g);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_FALSE(*changed);
}

// One test per group: each test is its own process under ctest, and loading LibTorch dominates.
TEST(DecomposeComplexTest, TransformsMatchLibTorch) {
  {
    SCOPED_TRACE("RfftEveryNormAndLength");
    RfftEveryNormAndLength();
  }
  {
    SCOPED_TRACE("FftAndIfftOfComplexAlongDimZero");
    FftAndIfftOfComplexAlongDimZero();
  }
  {
    SCOPED_TRACE("IrfftRoundTripsEvenAndOddLengths");
    IrfftRoundTripsEvenAndOddLengths();
  }
  {
    SCOPED_TRACE("NdTransformsWithSizesAndDims");
    NdTransformsWithSizesAndDims();
  }
  {
    SCOPED_TRACE("SizesFromTheInputTypesWhenTheGraphHasNone");
    SizesFromTheInputTypesWhenTheGraphHasNone();
  }
}

TEST(DecomposeComplexTest, StftAndComplexArithmeticMatchLibTorch) {
  {
    SCOPED_TRACE("StftWindowsAndModes");
    StftWindowsAndModes();
  }
  {
    SCOPED_TRACE("ArithmeticAndShapeOpsPerPart");
    ArithmeticAndShapeOpsPerPart();
  }
  {
    SCOPED_TRACE("LeavesRealGraphsAlone");
    LeavesRealGraphsAlone();
  }
}

TEST(DecomposeComplexTest, RefusalsNameTheOpAndWhatToDo) {
  {
    SCOPED_TRACE("RefusesComplexModelOutput");
    RefusesComplexModelOutput();
  }
  {
    SCOPED_TRACE("RefusesComplexIntoUnknownOp");
    RefusesComplexIntoUnknownOp();
  }
  {
    SCOPED_TRACE("RefusesLengthsBeyondTheBoundAndUnknownSizes");
    RefusesLengthsBeyondTheBoundAndUnknownSizes();
  }
}

}  // namespace
}  // namespace ts2coreml::core
