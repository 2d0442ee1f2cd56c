/// Tests of the recurrent family: declarations, the unrolled MIL each layer and cell emits (gate
/// order, bias placement, packed steps), output shapes and refusals.
#include "recurrent/recurrent_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;
using sdk::TensorType;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(RecurrentPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

TensorType F32(Shape s) { return TensorType(T2C_DTYPE_FP32, std::move(s)); }

/// What a layer node is made of.
struct LayerSpec {
  int64_t gates = 4, input = 3, hidden = 5, proj = 0, layers = 1, dirs = 1;
  bool biases = true;
};

/// The params list of a layer in PyTorch's order: per layer and direction w_ih, w_hh, [b_ih,
/// b_hh], [w_hr].
t::Value Params(const LayerSpec& s) {
  std::vector<TensorType> types;
  const int64_t out = s.proj > 0 ? s.proj : s.hidden;
  for (int64_t l = 0; l < s.layers; ++l) {
    for (int64_t d = 0; d < s.dirs; ++d) {
      const int64_t in = l == 0 ? s.input : s.dirs * out;
      types.push_back(F32({s.gates * s.hidden, in}));
      types.push_back(F32({s.gates * s.hidden, out}));
      if (s.biases) {
        types.push_back(F32({s.gates * s.hidden}));
        types.push_back(F32({s.gates * s.hidden}));
      }
      if (s.proj > 0) types.push_back(F32({out, s.hidden}));
    }
  }
  return t::Value::TensorList(types);
}

/// aten::lstm.input (gates 4) or aten::gru.input / rnn_*.input on [T, B, I] (or [B, T, I]).
t::FakeNode Layer(const std::string& kind, const LayerSpec& s, Shape x, bool batch_first = false) {
  const int64_t batch = batch_first ? x[0] : x[1];
  const int64_t out = s.proj > 0 ? s.proj : s.hidden;
  t::FakeNode n(kind, kind == "aten::lstm" ? 3 : 2);
  n.Add(t::Value::Tensor(x));
  if (kind == "aten::lstm") {
    n.Add(t::Value::TensorList(
        {F32({s.layers * s.dirs, batch, out}), F32({s.layers * s.dirs, batch, s.hidden})}));
  } else {
    n.Add(t::Value::Tensor({s.layers * s.dirs, batch, out}));
  }
  n.Add(Params(s)).Add(t::Value::Bool(s.biases)).Add(t::Value::Int(s.layers));
  n.Add(t::Value::Float(0.0)).Add(t::Value::Bool(false)).Add(t::Value::Bool(s.dirs == 2));
  n.Add(t::Value::Bool(batch_first));
  return n;
}

int Count(const t::FakeNode& n, const std::string& type) {
  int c = 0;
  for (const std::string& op : n.op_types()) c += op == type;
  return c;
}

/// Whether `v` is element `k` of the params list (input 2 of a .input layer node).
bool IsParam(const t::FakeNode& n, t2c_var v, int input, int k) {
  return n.HasVar(v) && n.var(v).origin == t::VarOrigin::kInput && n.var(v).input_index == input &&
         n.var(v).list_index == k;
}

TEST(RecurrentTest, DeclaresEveryOp) {
  for (const char* op :
       {"aten::lstm.input", "aten::lstm.data", "aten::gru.input", "aten::gru.data",
        "aten::rnn_tanh.input", "aten::rnn_tanh.data", "aten::rnn_relu.input",
        "aten::rnn_relu.data", "aten::lstm_cell", "aten::gru_cell", "aten::rnn_tanh_cell",
        "aten::rnn_relu_cell", "ts2coreml::lstm_padded", "ts2coreml::gru_padded",
        "ts2coreml::rnn_tanh_padded", "ts2coreml::rnn_relu_padded"}) {
    const t2c_lowering_decl& d = Decl(op);
    EXPECT_EQ(d.infer_rule, T2C_INFER_CUSTOM) << op;
    // Measured: fp16 state drifts past the fp16 tolerance over 256 steps (docs/recurrent.md).
    EXPECT_EQ(d.fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE) << op;
  }
  EXPECT_EQ(Decl("aten::lstm.input").inputs[2].role, T2C_ROLE_TENSOR_LIST);
  EXPECT_EQ(Decl("aten::lstm.data").inputs[1].role, T2C_ROLE_HOST);
}

TEST(RecurrentTest, LstmUnrollsEveryStepInGateOrder) {
  t::FakeNode n = Layer("aten::lstm", LayerSpec{}, {3, 2, 3});
  ASSERT_TRUE(n.Lower(Decl("aten::lstm.input"))) << n.error();
  EXPECT_EQ(n.planned(0), F32({3, 2, 5}));
  EXPECT_EQ(n.planned(1), F32({1, 2, 5}));
  EXPECT_EQ(n.planned(2), F32({1, 2, 5}));
  // One input projection for all steps, then per step: h W_hh^T, 3 sigmoids (i, f, o) and the
  // tanh of g and of c'.
  EXPECT_EQ(Count(n, "matmul"), 1 + 3);
  EXPECT_EQ(Count(n, "sigmoid"), 3 * 3);
  EXPECT_EQ(Count(n, "tanh"), 3 * 2);
  const t::FakeOp* split = n.FindOp("split");
  ASSERT_NE(split, nullptr);
  EXPECT_EQ(split->output_types, (std::vector<TensorType>(4, F32({2, 5}))));
  // Gate order i, f, g, o: the third chunk goes through tanh, the others through sigmoid.
  for (int k = 0; k < 4; ++k) {
    const t::FakeOp* act = nullptr;
    for (const t::FakeOp& op : n.ops()) {
      if (n.ArgVar(op, "x") == split->outputs[static_cast<size_t>(k)]) act = &op;
    }
    ASSERT_NE(act, nullptr) << k;
    EXPECT_EQ(act->type, k == 2 ? "tanh" : "sigmoid") << k;
  }
  // Both biases are added once to the projected input (b_ih, then b_hh), never per step.
  const t::FakeOp* first_add = n.FindOp("add", 0);
  const t::FakeOp* second_add = n.FindOp("add", 1);
  EXPECT_TRUE(IsParam(n, n.ArgVar(*first_add, "y"), 2, 2));
  EXPECT_TRUE(IsParam(n, n.ArgVar(*second_add, "y"), 2, 3));
  EXPECT_EQ(Count(n, "add"), 2 + 3 * 2);
}

TEST(RecurrentTest, GruAppliesResetToHiddenTermWithItsBias) {
  t::FakeNode n = Layer("aten::gru", LayerSpec{3, 3, 4}, {2, 1, 3});
  ASSERT_TRUE(n.Lower(Decl("aten::gru.input"))) << n.error();
  EXPECT_EQ(n.planned(0), F32({2, 1, 4}));
  EXPECT_EQ(n.planned(1), F32({1, 1, 4}));
  // The input projection gets b_ih only; b_hh is added to h W_hh^T inside every step.
  const t::FakeOp* first_add = n.FindOp("add", 0);
  EXPECT_TRUE(IsParam(n, n.ArgVar(*first_add, "y"), 2, 2));
  int hidden_bias_adds = 0;
  for (const t::FakeOp& op : n.ops()) {
    if (op.type == "add" && IsParam(n, n.ArgVar(op, "y"), 2, 3)) {
      ++hidden_bias_adds;
      const t::FakeOp* lhs = n.Producer(n.ArgVar(op, "x"));
      ASSERT_NE(lhs, nullptr);
      EXPECT_EQ(lhs->type, "matmul");
    }
  }
  EXPECT_EQ(hidden_bias_adds, 2);
  // r multiplies the n chunk of (h W_hh^T + b_hh), not the sum with the input's.
  const t::FakeOp* reset_mul = n.FindOp("mul", 0);
  const t::FakeOp* hidden_split = n.Producer(n.ArgVar(*reset_mul, "y"));
  ASSERT_NE(hidden_split, nullptr);
  EXPECT_EQ(hidden_split->type, "split");
  const t::FakeOp* hidden_sum = n.Producer(n.ArgVar(*hidden_split, "x"));
  EXPECT_TRUE(IsParam(n, n.ArgVar(*hidden_sum, "y"), 2, 3));
  EXPECT_EQ(Count(n, "sigmoid"), 2);
  EXPECT_EQ(Count(n, "tanh"), 2);
  EXPECT_EQ(Count(n, "sub"), 2);
}

TEST(RecurrentTest, RnnReluWithoutBiasesEmitsNoAdds) {
  LayerSpec s{1, 3, 4};
  s.biases = false;
  t::FakeNode n = Layer("aten::rnn_relu", s, {4, 2, 3});
  ASSERT_TRUE(n.Lower(Decl("aten::rnn_relu.input"))) << n.error();
  EXPECT_EQ(Count(n, "relu"), 4);
  EXPECT_EQ(Count(n, "tanh"), 0);
  EXPECT_EQ(Count(n, "add"), 4);  // gi + h W^T per step, no bias
  EXPECT_EQ(Count(n, "matmul"), 1 + 4);
}

TEST(RecurrentTest, BidirectionalTwoLayersWithProjection) {
  LayerSpec s{4, 3, 6, /*proj=*/2, /*layers=*/2, /*dirs=*/2};
  t::FakeNode n = Layer("aten::lstm", s, {5, 2, 3});
  ASSERT_TRUE(n.Lower(Decl("aten::lstm.input"))) << n.error();
  EXPECT_EQ(n.planned(0), F32({5, 2, 4}));
  EXPECT_EQ(n.planned(1), F32({4, 2, 2}));
  EXPECT_EQ(n.planned(2), F32({4, 2, 6}));
  // Per cell: input projection, then h W_hh^T and h' W_hr^T per step.
  EXPECT_EQ(Count(n, "matmul"), 4 * (1 + 2 * 5));
  // Layer 1 reads both directions of layer 0: [T * B, 2 * P] times w_ih [4H, 2P].
  const t::FakeOp* layer1 = n.FindOp("matmul", 2 * (1 + 2 * 5));
  ASSERT_NE(layer1, nullptr);
  EXPECT_EQ(n.ArgType(*layer1, "x"), F32({10, 4}));
  EXPECT_TRUE(IsParam(n, n.ArgVar(*layer1, "y"), 2, 10));
}

TEST(RecurrentTest, Fp16PrecisionComputesInFp32) {
  t::FakeNode n = Layer("aten::gru", LayerSpec{3, 3, 4}, {3, 2, 3});
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::gru.input"))) << n.error();
  EXPECT_EQ(n.compute_dtype(), T2C_DTYPE_FP32);
  for (const t::FakeOp& op : n.ops()) {
    for (const TensorType& t : op.output_types) {
      if (t.dtype != T2C_DTYPE_INT32) {
        EXPECT_EQ(t.dtype, T2C_DTYPE_FP32) << op.type;
      }
    }
  }
}

TEST(RecurrentTest, BatchFirstTransposesInAndOut) {
  t::FakeNode n = Layer("aten::rnn_tanh", LayerSpec{1, 3, 4}, {2, 6, 3}, /*batch_first=*/true);
  ASSERT_TRUE(n.Lower(Decl("aten::rnn_tanh.input"))) << n.error();
  EXPECT_EQ(n.planned(0), F32({2, 6, 4}));
  EXPECT_EQ(n.planned(1), F32({1, 2, 4}));
  EXPECT_EQ(n.ops().front().type, "transpose");
  EXPECT_EQ(n.OutputOp(0)->type, "transpose");
  EXPECT_EQ(Count(n, "tanh"), 6);
}

TEST(RecurrentTest, UnbatchedInputKeepsStateRank) {
  t::FakeNode n("aten::gru", 2);
  LayerSpec s{3, 3, 4};
  n.Add(t::Value::Tensor({7, 3})).Add(t::Value::Tensor({1, 4})).Add(Params(s));
  n.Add(t::Value::Bool(true)).Add(t::Value::Int(1)).Add(t::Value::Float(0));
  n.Add(t::Value::Bool(false)).Add(t::Value::Bool(false)).Add(t::Value::Bool(false));
  ASSERT_TRUE(n.Lower(Decl("aten::gru.input"))) << n.error();
  EXPECT_EQ(n.planned(0), F32({7, 4}));
  EXPECT_EQ(n.planned(1), F32({1, 4}));
}

t::FakeNode PackedGru(std::vector<int64_t> batch_sizes, int64_t rows, bool bidirectional) {
  LayerSpec s{3, 3, 4};
  s.dirs = bidirectional ? 2 : 1;
  t::FakeNode n("aten::gru", 2);
  n.Add(t::Value::Tensor({rows, 3})).Add(t::Value::Ints(batch_sizes));
  n.Add(t::Value::Tensor({s.dirs, batch_sizes.empty() ? 1 : batch_sizes[0], 4})).Add(Params(s));
  n.Add(t::Value::Bool(true)).Add(t::Value::Int(1)).Add(t::Value::Float(0));
  n.Add(t::Value::Bool(false)).Add(t::Value::Bool(bidirectional));
  return n;
}

TEST(RecurrentTest, PackedSequencesKeepFinishedRows) {
  t::FakeNode n = PackedGru({3, 2, 2, 1}, 8, /*bidirectional=*/true);
  ASSERT_TRUE(n.Lower(Decl("aten::gru.data"))) << n.error();
  EXPECT_EQ(n.planned(0), F32({8, 8}));
  EXPECT_EQ(n.planned(1), F32({2, 3, 4}));
  // Steps of fewer rows than the batch read the first rows of the state and write them back
  // beside the untouched rest: 2 merges per direction (3 -> 2 and 2 -> 1; forward) and 2 in
  // reverse (1 -> 2, 2 -> 3), each a concat of [b, 4] and [B - b, 4].
  int merges = 0;
  for (const t::FakeOp& op : n.ops()) {
    if (op.type == "concat" && op.output_types[0] == F32({3, 4})) ++merges;
  }
  EXPECT_EQ(merges, 6);
  EXPECT_EQ(Count(n, "tanh"), 2 * 4);
}

/// ts2coreml::gru_padded over a padded [B, T, 3] batch (batch_first) with lengths [B].
t::FakeNode MaskedGru(Shape x, Shape lengths, int64_t total_length, bool output_batch_first) {
  LayerSpec s;
  s.gates = 3;
  s.hidden = 4;
  s.dirs = 2;
  t::FakeNode n("ts2coreml::gru_padded", 2);
  n.Add(t::Value::Tensor(x)).Add(t::Value::Tensor(lengths, T2C_DTYPE_INT32));
  n.Add(t::Value::Tensor({2, x[0], 4})).Add(Params(s)).Add(t::Value::Bool(true));
  n.Add(t::Value::Int(1)).Add(t::Value::Float(0.0)).Add(t::Value::Bool(false));
  n.Add(t::Value::Bool(true)).Add(t::Value::Bool(true)).Add(t::Value::Float(-1.0));
  n.Add(t::Value::Int(total_length)).Add(t::Value::Bool(output_batch_first));
  return n;
}

TEST(RecurrentTest, MaskedLayerSelectsEachRowsStateByItsLength) {
  t::FakeNode n = MaskedGru({3, 5, 3}, {3}, /*total_length=*/7, /*output_batch_first=*/false);
  ASSERT_TRUE(n.Lower(Decl("ts2coreml::gru_padded"))) << n.error();
  EXPECT_EQ(n.planned(0), F32({7, 3, 8}));  // time-major, padded to total_length
  EXPECT_EQ(n.planned(1), F32({2, 3, 4}));
  // One `t < lengths` mask per step, shared by both directions; one state select per step and
  // direction, and one select padding the output.
  EXPECT_EQ(Count(n, "greater"), 5);
  EXPECT_EQ(Count(n, "select"), 2 * 5 + 1);
  EXPECT_EQ(Count(n, "tanh"), 2 * 5);
}

TEST(RecurrentTest, MaskedLayerRefusesLengthsOfAnotherBatch) {
  t::FakeNode n = MaskedGru({3, 5, 3}, {2}, -1, true);
  EXPECT_FALSE(n.Lower(Decl("ts2coreml::gru_padded")));
  EXPECT_EQ(n.last_status(), T2C_ERROR_INVALID_INPUTS);
  EXPECT_NE(n.error().find("lengths of shape [2] for a batch of 3"), std::string::npos)
      << n.error();
}

TEST(RecurrentTest, PackedRefusesBadBatchSizes) {
  t::FakeNode n = PackedGru({1, 2}, 3, false);
  EXPECT_FALSE(n.Lower(Decl("aten::gru.data")));
  EXPECT_EQ(n.last_status(), T2C_ERROR_INVALID_INPUTS);
  EXPECT_NE(n.error().find("non-increasing"), std::string::npos) << n.error();
  t::FakeNode m = PackedGru({2, 2}, 5, false);
  EXPECT_FALSE(m.Lower(Decl("aten::gru.data")));
  EXPECT_NE(m.error().find("do not add up"), std::string::npos) << m.error();
}

TEST(RecurrentTest, RefusesTrainingDropout) {
  LayerSpec s{4, 3, 5, 0, /*layers=*/2};
  t::FakeNode n("aten::lstm", 3);
  n.Add(t::Value::Tensor({2, 1, 3}));
  n.Add(t::Value::TensorList({F32({2, 1, 5}), F32({2, 1, 5})}));
  n.Add(Params(s)).Add(t::Value::Bool(true)).Add(t::Value::Int(2));
  n.Add(t::Value::Float(0.5)).Add(t::Value::Bool(true)).Add(t::Value::Bool(false));
  n.Add(t::Value::Bool(false));
  EXPECT_FALSE(n.Lower(Decl("aten::lstm.input")));
  EXPECT_NE(n.error().find("aten::lstm.input: train=True with dropout 0.5"), std::string::npos)
      << n.error();
}

TEST(RecurrentTest, RefusesMismatchedWeights) {
  t::FakeNode n = Layer("aten::lstm", LayerSpec{}, {3, 2, 7});  // weights expect 3 features
  EXPECT_FALSE(n.Lower(Decl("aten::lstm.input")));
  EXPECT_EQ(n.last_status(), T2C_ERROR_INVALID_INPUTS);
  EXPECT_NE(n.error().find("expected [20, 7]"), std::string::npos) << n.error();
}

t::FakeNode Cell(const std::string& kind, int64_t gates, Shape x, int64_t hidden, bool biases) {
  Shape state = x;
  state.back() = hidden;
  t::FakeNode n(kind, kind == "aten::lstm_cell" ? 2 : 1);
  n.Add(t::Value::Tensor(x));
  if (kind == "aten::lstm_cell") {
    n.Add(t::Value::TensorList({F32(state), F32(state)}));
  } else {
    n.Add(t::Value::Tensor(state));
  }
  n.Add(t::Value::ConstTensor({gates * hidden, x.back()}));
  n.Add(t::Value::ConstTensor({gates * hidden, hidden}));
  n.Add(biases ? t::Value::ConstTensor({gates * hidden}) : t::Value::None());
  n.Add(biases ? t::Value::ConstTensor({gates * hidden}) : t::Value::None());
  return n;
}

TEST(RecurrentTest, LstmCellReturnsHAndC) {
  t::FakeNode n = Cell("aten::lstm_cell", 4, {2, 3}, 5, true);
  ASSERT_TRUE(n.Lower(Decl("aten::lstm_cell"))) << n.error();
  EXPECT_EQ(n.planned(0), F32({2, 5}));
  EXPECT_EQ(n.planned(1), F32({2, 5}));
  EXPECT_EQ(n.OutputOp(0)->type, "mul");  // o * tanh(c')
  EXPECT_EQ(n.OutputOp(1)->type, "add");  // f c + i g
  EXPECT_EQ(Count(n, "matmul"), 2);
}

TEST(RecurrentTest, GruCellWithoutBiases) {
  t::FakeNode n = Cell("aten::gru_cell", 3, {2, 3}, 4, false);
  ASSERT_TRUE(n.Lower(Decl("aten::gru_cell"))) << n.error();
  EXPECT_EQ(n.planned(0), F32({2, 4}));
  EXPECT_EQ(n.OutputOp(0)->type, "add");  // n + z (h - n)
  EXPECT_EQ(Count(n, "add"), 3);          // r/z sum, n sum, final update: no bias adds
}

TEST(RecurrentTest, CellRefusesUnbatchedInputAsATenDoes) {
  t::FakeNode n = Cell("aten::gru_cell", 3, {3}, 4, true);
  EXPECT_FALSE(n.Lower(Decl("aten::gru_cell")));
  EXPECT_EQ(n.last_status(), T2C_ERROR_INVALID_INPUTS);
}

TEST(RecurrentTest, RnnCellsPickTheirActivation) {
  t::FakeNode relu = Cell("aten::rnn_relu_cell", 1, {2, 3}, 4, true);
  ASSERT_TRUE(relu.Lower(Decl("aten::rnn_relu_cell"))) << relu.error();
  EXPECT_EQ(relu.OutputOp(0)->type, "relu");
  t::FakeNode tanh = Cell("aten::rnn_tanh_cell", 1, {2, 3}, 4, true);
  ASSERT_TRUE(tanh.Lower(Decl("aten::rnn_tanh_cell"))) << tanh.error();
  EXPECT_EQ(tanh.OutputOp(0)->type, "tanh");
}

TEST(RecurrentTest, CellRefusesMismatchedState) {
  t::FakeNode bad("aten::rnn_tanh_cell");
  bad.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({3, 4}));
  bad.Add(t::Value::ConstTensor({4, 3})).Add(t::Value::ConstTensor({4, 4}));
  bad.Add(t::Value::None()).Add(t::Value::None());
  EXPECT_FALSE(bad.Lower(Decl("aten::rnn_tanh_cell")));
  EXPECT_EQ(bad.last_status(), T2C_ERROR_INVALID_INPUTS);
  EXPECT_NE(bad.error().find("aten::rnn_tanh_cell"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
