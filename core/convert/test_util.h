/// Test helpers for core/convert: the built-in plugins and small hand-built graphs that use
/// TorchScript's own node kinds, overloads and argument lists (LibTorch 1.13).
///
///   const registry::Registry& reg = test::BuiltinRegistry();
///   core::Graph g;
///   ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 3, 8, 8});
///   ValueId y = test::AddConv(g, x, /*out_channels=*/4);
#ifndef TS2COREML_CORE_CONVERT_TEST_UTIL_H_
#define TS2COREML_CORE_CONVERT_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "core/ir/graph.h"
#include "core/mil/program.h"
#include "registry/registry.h"

namespace ts2coreml::core::test {

/// The built-in plugins of this build, loaded once. A test using it fails (never skips) when the
/// plugin directory is missing or any plugin was refused.
inline const registry::Registry& BuiltinRegistry() {
  static const registry::Registry* reg =
      new registry::Registry(registry::Registry::Load({TS2COREML_TEST_PLUGIN_DIR}));
  std::vector<std::string> refused;
  for (const registry::RefusedPlugin& r : reg->refused()) refused.push_back(r.reason);
  EXPECT_TRUE(refused.empty()) << absl::StrJoin(refused, "\n");
  EXPECT_GE(reg->plugins().size(), 5u)
      << "built-in plugins missing from " << TS2COREML_TEST_PLUGIN_DIR
      << "; warnings: " << absl::StrJoin(reg->warnings(), "\n");
  return *reg;
}

/// A float tensor of `shape` whose elements are 0.01, 0.02, ... (all FP16-normal).
inline std::shared_ptr<const ConstTensor> Ramp(std::vector<int64_t> shape, float scale = 0.01f) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> data(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) data[static_cast<size_t>(k)] = scale * static_cast<float>(k + 1);
  return MakeFloatTensor(std::move(shape), std::move(data));
}

/// A float tensor of `shape` filled with `value`.
inline std::shared_ptr<const ConstTensor> Filled(std::vector<int64_t> shape, float value) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return MakeFloatTensor(std::move(shape), std::vector<float>(static_cast<size_t>(n), value));
}

/// aten::_convolution (13 inputs) with a 3x3 kernel, stride 1, padding 1 and a bias.
inline ValueId AddConv(Graph& g, ValueId x, int64_t out_channels, int64_t in_channels = 3,
                       const std::string& weight_name = "conv.weight") {
  const ValueId w = g.AddConstTensor(weight_name, Ramp({out_channels, in_channels, 3, 3}));
  const ValueId b = g.AddConstTensor(weight_name + "_bias", Ramp({out_channels}));
  Node& n = g.AddNode(
      "aten::_convolution", "",
      {x, w, b, g.AddConstInts({1, 1}), g.AddConstInts({1, 1}), g.AddConstInts({1, 1}),
       g.AddConstBool(false), g.AddConstInts({0, 0}), g.AddConstInt(1), g.AddConstBool(false),
       g.AddConstBool(false), g.AddConstBool(true), g.AddConstBool(true)},
      1);
  return n.outputs[0];
}

/// aten::softmax.int(self, dim, dtype=None).
inline ValueId AddSoftmax(Graph& g, ValueId x, int64_t dim = 1) {
  return g.AddNode("aten::softmax", "int", {x, g.AddConstInt(dim), g.AddConstNone()}, 1).outputs[0];
}

/// aten::relu(self).
inline ValueId AddRelu(Graph& g, ValueId x) {
  return g.AddNode("aten::relu", "", {x}, 1).outputs[0];
}

/// aten::batch_norm with all 9 inputs, eval mode.
inline ValueId AddBatchNorm(Graph& g, ValueId x, int64_t channels, double eps) {
  const ValueId w = g.AddConstTensor("bn.weight", Filled({channels}, 1.5f));
  const ValueId b = g.AddConstTensor("bn.bias", Filled({channels}, 0.25f));
  const ValueId mean = g.AddConstTensor("bn.running_mean", Filled({channels}, 0.5f));
  const ValueId var = g.AddConstTensor("bn.running_var", Filled({channels}, 2.0f));
  return g
      .AddNode("aten::batch_norm", "",
               {x, w, b, mean, var, g.AddConstBool(false), g.AddConstFloat(0.1),
                g.AddConstFloat(eps), g.AddConstBool(true)},
               1)
      .outputs[0];
}

/// Adds control-flow node `kind` (prim::If, prim::Loop) with `inputs` and `num_outputs`, whose
/// blocks are built by `blocks`: each takes the block's input values (a loop body's: the trip
/// index, then the carried values, typed later by analysis) and adds the block's nodes, returning
/// what the block yields. The nodes come before their owner (core::Block).
inline Node& AddControlFlow(
    Graph& g, const std::string& kind, std::vector<ValueId> inputs, int num_outputs,
    const std::vector<std::function<std::vector<ValueId>(const std::vector<ValueId>&)>>& blocks,
    int num_block_inputs = 0) {
  std::vector<Block> made;
  const int32_t first = static_cast<int32_t>(g.nodes().size());
  for (const auto& build : blocks) {
    Block b;
    for (int k = 0; k < num_block_inputs; ++k) {
      Value v;
      v.name = kind + "_in" + std::to_string(k);
      v.kind = k == 0 && kind == "prim::Loop" ? ValueKind::kInt : ValueKind::kTensor;
      b.inputs.push_back(g.AddValue(std::move(v)));
    }
    b.begin = static_cast<int32_t>(g.nodes().size());
    b.outputs = build(b.inputs);
    b.end = static_cast<int32_t>(g.nodes().size());
    made.push_back(std::move(b));
  }
  const int32_t self = static_cast<int32_t>(g.nodes().size());
  for (int32_t k = first; k < self; ++k) {
    if (g.nodes()[static_cast<size_t>(k)].parent == -1)
      g.nodes()[static_cast<size_t>(k)].parent = self;
  }
  Node& n = g.AddNode(kind, "", std::move(inputs), num_outputs);
  for (const Block& b : made) {
    for (ValueId in : b.inputs) g.value(in).producer = self;
  }
  n.blocks = std::move(made);
  return n;
}

/// bool(sum(x) > 0): the condition of a data-dependent branch (aten::Bool of a bool scalar).
inline ValueId AddSumPositive(Graph& g, ValueId x) {
  const ValueId sum = g.AddNode("aten::sum", "", {x, g.AddConstNone()}, 1).outputs[0];
  const ValueId gt = g.AddNode("aten::gt", "Scalar", {sum, g.AddConstInt(0)}, 1).outputs[0];
  Node& b = g.AddNode("aten::Bool", "Tensor", {gt}, 1);
  g.value(b.outputs[0]).kind = ValueKind::kBool;
  return b.outputs[0];
}

/// A graph with both kinds of control flow, for planning and emission tests:
///   y = if bool(sum(x) > 0): softmax(x) (an FP32-only lowering) else: relu(x)
///   h = x; for 100 trips: h = tanh(h) + y   (x is read inside, y is an outer value)
struct ControlFlowGraph {
  Graph g;
  ValueId x, y, sm, h;
  int if_node = -1, loop_node = -1;
  ControlFlowGraph() {
    x = g.AddInput("x", TypeClass::kFloat, {2, 3});
    const ValueId cond = AddSumPositive(g, x);
    Node& branch = AddControlFlow(
        g, "prim::If", {cond}, 1,
        {[&](const std::vector<ValueId>&) { return std::vector<ValueId>{sm = AddSoftmax(g, x)}; },
         [&](const std::vector<ValueId>&) { return std::vector<ValueId>{AddRelu(g, x)}; }});
    y = branch.outputs[0];
    if_node = static_cast<int>(g.nodes().size()) - 1;
    Node& loop = AddControlFlow(
        g, "prim::Loop", {g.AddConstInt(100), g.AddConstBool(true), x}, 1,
        {[&](const std::vector<ValueId>& in) {
          const ValueId t = g.AddNode("aten::tanh", "", {in[1]}, 1).outputs[0];
          const ValueId sum =
              g.AddNode("aten::add", "Tensor", {t, y, g.AddConstInt(1)}, 1).outputs[0];
          return std::vector<ValueId>{g.AddConstBool(true), sum};
        }},
        /*num_block_inputs=*/2);
    h = loop.outputs[0];
    loop_node = static_cast<int>(g.nodes().size()) - 1;
    g.AddOutput("h", h);
  }
};

}  // namespace ts2coreml::core::test

#endif  // TS2COREML_CORE_CONVERT_TEST_UTIL_H_
