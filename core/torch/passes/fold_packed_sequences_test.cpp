// FoldPackedSequences through Canonicalize on scripted modules calling the packing ops directly:
// the pack -> layer -> pad chain becomes one padded layer, a chain whose packed output is read
// otherwise is left alone.
#include "core/torch/passes/fold_packed_sequences.h"

#include <torch/script.h>

#include <string>

#include "core/torch/canonicalize.h"
#include "core/torch/passes/pass_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using pass_testing::Kinds;
using ::testing::Contains;
using ::testing::Not;

/// An LSTM (input 3, hidden 4) over `x` packed by `lengths`, then `tail` (which reads out, bs, h).
torch::jit::Module PackedLstm(const std::string& tail) {
  torch::jit::Module m("M");
  m.register_parameter("w_ih", torch::randn({16, 3}), false);
  m.register_parameter("w_hh", torch::randn({16, 4}), false);
  m.register_buffer("h0", torch::zeros({1, 2, 4}));
  m.define(R"(
def forward(self, x, lengths):
    data, bs = torch._pack_padded_sequence(x, lengths, True)
    out, h, c = torch.lstm(data, bs, [self.h0, self.h0], [self.w_ih, self.w_hh], False, 1, 0.0,
                           False, False)
)" + tail);
  m.eval();
  return m;
}

TEST(FoldPackedSequencesTest, PackLayerPadBecomesOnePaddedLayer) {
  for (const char* total : {"bs.size(0)", "7", "x.size(0)"}) {
    torch::jit::Module m = PackedLstm(std::string("    padded, lens = torch._pad_packed_sequence("
                                                  "out, bs, False, -1.0, ") +
                                      total + ")\n    return padded, h, c, lens\n");
    absl::StatusOr<CanonicalModel> c = Canonicalize(m, {});
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_THAT(Kinds(*c->graph), Contains("ts2coreml::lstm_padded")) << *c->graph;
    EXPECT_THAT(Kinds(*c->graph), Not(Contains("aten::lstm"))) << *c->graph;
    EXPECT_THAT(Kinds(*c->graph), Not(Contains("aten::_pack_padded_sequence"))) << *c->graph;
    EXPECT_THAT(Kinds(*c->graph), Not(Contains("aten::_pad_packed_sequence"))) << *c->graph;
  }
}

TEST(FoldPackedSequencesTest, OnlyTheFinalStatesRead) {
  absl::StatusOr<CanonicalModel> c = Canonicalize(PackedLstm("    return h\n"), {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Kinds(*c->graph), Contains("ts2coreml::lstm_padded")) << *c->graph;
  EXPECT_THAT(Kinds(*c->graph), Not(Contains("aten::_pack_padded_sequence"))) << *c->graph;
}

TEST(FoldPackedSequencesTest, PackedOutputReadOtherwiseIsLeftAlone) {
  absl::StatusOr<CanonicalModel> c =
      Canonicalize(PackedLstm("    return torch.relu(out), h\n"), {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Kinds(*c->graph), Contains("aten::lstm")) << *c->graph;
  EXPECT_THAT(Kinds(*c->graph), Not(Contains("ts2coreml::lstm_padded"))) << *c->graph;
}

TEST(FoldPackedSequencesTest, InversePermutationOfSortIndicesBecomesArgsort) {
  torch::jit::Module m("M");
  m.define(R"(
def forward(self, x):
    values, idx = torch.sort(x)
    inverse = torch.empty_like(idx)
    inverse.scatter_(0, idx, torch.arange(idx.numel()))
    return inverse
)");
  m.eval();
  const at::Tensor x = torch::randn({6});
  const at::Tensor want = m.forward({x}).toTensor();
  absl::StatusOr<CanonicalModel> c = Canonicalize(m, {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Kinds(*c->graph), Contains("aten::argsort")) << *c->graph;
  EXPECT_THAT(Kinds(*c->graph), Not(Contains("aten::scatter_"))) << *c->graph;
  EXPECT_TRUE(torch::equal(pass_testing::RunGraph(*c, x), want));
}

TEST(FoldPackedSequencesTest, ScatterOfIndicesThatNeedNotBeAPermutationIsLeftAlone) {
  torch::jit::Module m("M");
  m.define(R"(
def forward(self, idx):
    out = torch.zeros_like(idx)
    out.scatter_(0, idx, torch.arange(idx.numel()))
    return out
)");
  m.eval();
  absl::StatusOr<CanonicalModel> c = Canonicalize(m, {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Kinds(*c->graph), Contains("aten::scatter_")) << *c->graph;
}

}  // namespace
}  // namespace ts2coreml::core
