// The copy_ rewrite: scripted modules writing run-time values into tensors they make, run before
// and after canonicalization on the same inputs, and the copies left alone.
#include "core/torch/passes/rewrite_copy.h"

#include <torch/script.h>

#include <string>
#include <vector>

#include "core/torch/canonicalize.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

torch::jit::Module Module(const std::string& body) {
  torch::jit::Module m("M");
  m.define(body);
  m.eval();
  return m;
}

int CountKind(const torch::jit::Graph& g, const std::string& kind) {
  int count = 0;
  for (const torch::jit::Node* n : g.nodes()) count += n->kind().toQualString() == kind;
  return count;
}

/// Canonicalizes `m`; expects `copies` copy_ nodes left and the same output as `m` on `inputs`.
void ExpectRewritten(torch::jit::Module m, std::vector<c10::IValue> inputs, int copies) {
  torch::NoGradGuard no_grad;
  const at::Tensor expected = m.forward(inputs).toTensor();
  absl::StatusOr<CanonicalModel> c = Canonicalize(m.clone(), {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(CountKind(*c->graph, "aten::copy_"), copies) << *c->graph;
  torch::jit::GraphFunction fn("canonical", c->graph->copy(), nullptr);
  inputs.insert(inputs.begin(), c->frozen._ivalue());
  const at::Tensor got = fn(inputs).toTensor();
  ASSERT_EQ(got.sizes(), expected.sizes()) << *c->graph;
  EXPECT_EQ(got.scalar_type(), expected.scalar_type()) << *c->graph;
  EXPECT_TRUE(torch::equal(got, expected)) << *c->graph;
}

TEST(RewriteCopyTest, CopyIntoZerosReadsTheSourceAfterwards) {
  // Later readers of y (not of copy_'s result) read the copy; a float source into an int tensor
  // is cast as copy_ casts (toward zero), a [3] source broadcast to [2, 3].
  ExpectRewritten(Module("def forward(self, x):\n"
                         "    y = torch.zeros(2, 3)\n"
                         "    y.copy_(x)\n"
                         "    return y * 2 + 1\n"),
                  {torch::randn({2, 3})}, 0);
  ExpectRewritten(Module("def forward(self, x):\n"
                         "    y = torch.full([2, 3], 7, dtype=3)\n"  // int32
                         "    return y.copy_(x * 4) + 1\n"),
                  {torch::randn({3})}, 0);
  ExpectRewritten(Module("def forward(self, x):\n"
                         "    y = x.new_empty([4, 3])\n"
                         "    y.copy_(x)\n"
                         "    y.add_(1)\n"
                         "    return y\n"),
                  {torch::randn({1, 3})}, 0);
}

TEST(RewriteCopyTest, OtherCopiesAreLeftAlone) {
  // Into a view (a slice of y), into a tensor read before the copy, and from a number.
  ExpectRewritten(Module("def forward(self, x):\n"
                         "    y = torch.zeros(4, 3)\n"
                         "    y[1:3].copy_(x)\n"
                         "    return y\n"),
                  {torch::randn({2, 3})}, 1);
  ExpectRewritten(Module("def forward(self, x):\n"
                         "    y = torch.ones(2, 3)\n"
                         "    z = y + 1\n"
                         "    y.copy_(x)\n"
                         "    return y + z\n"),
                  {torch::randn({2, 3})}, 1);
  ExpectRewritten(Module("def forward(self, x):\n"
                         "    y = torch.zeros(2, 3)\n"
                         "    y.copy_(5)\n"
                         "    return y + x\n"),
                  {torch::randn({2, 3})}, 1);
}

}  // namespace
}  // namespace ts2coreml::core
