/// Test helpers shared by the canonicalization tests (canonicalize_test.cpp and the passes' own
/// tests beside them): a conv -> batch_norm -> dropout -> relu module, the op kinds of a graph and
/// running a canonical graph.
#ifndef TS2COREML_CORE_TORCH_PASSES_PASS_TESTING_H_
#define TS2COREML_CORE_TORCH_PASSES_PASS_TESTING_H_

#include <torch/script.h>

#include <string>
#include <vector>

#include "core/torch/canonicalize.h"

namespace ts2coreml::core::pass_testing {

/// conv(3->4, 3x3, bias) -> batch_norm(eps) -> dropout -> relu, with calibrated-looking stats.
inline torch::jit::Module ConvBnModule(at::ScalarType dtype, bool conv_bias) {
  torch::manual_seed(0);
  torch::jit::Module m("M");
  m.register_parameter("w", torch::randn({4, 3, 3, 3}).to(dtype), false);
  if (conv_bias) m.register_parameter("b", torch::randn({4}).to(dtype), false);
  m.register_parameter("gamma", (torch::rand({4}) + 0.5).to(dtype), false);
  m.register_parameter("beta", torch::randn({4}).to(dtype), false);
  m.register_buffer("mean", torch::randn({4}).to(dtype));
  m.register_buffer("var", (torch::rand({4}) + 0.1).to(dtype));
  m.define(std::string(R"(
def forward(self, x):
    y = torch._convolution(x, self.w, )") +
           (conv_bias ? "self.b" : "None") + R"(, [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                           False, False, True, True)
    y = torch.batch_norm(y, self.gamma, self.beta, self.mean, self.var, False, 0.1, 1e-3, True)
    y = torch.dropout(y, 0.2, False)
    return torch.relu(y)
)");
  m.eval();
  return m;
}

/// The kinds of the graph's top-level nodes, constants left out.
inline std::vector<std::string> Kinds(const torch::jit::Graph& g) {
  std::vector<std::string> kinds;
  for (const torch::jit::Node* n : g.nodes()) {
    if (n->kind() != c10::prim::Constant) kinds.emplace_back(n->kind().toQualString());
  }
  return kinds;
}

/// Runs a canonical graph on `x`.
inline at::Tensor RunGraph(const CanonicalModel& c, const at::Tensor& x) {
  torch::jit::GraphFunction fn("canonical", c.graph->copy(), nullptr);
  // The frozen graph keeps its (unused) self input.
  return fn({c.frozen._ivalue(), x}).toTensor();
}

/// Options declaring aten::dropout a passthrough op.
inline CanonicalizeOptions DropoutIsPassthrough() {
  CanonicalizeOptions o;
  o.passthrough_ops = {"aten::dropout"};
  return o;
}

}  // namespace ts2coreml::core::pass_testing

#endif  // TS2COREML_CORE_TORCH_PASSES_PASS_TESTING_H_
