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

}  // namespace ts2coreml::core::test

#endif  // TS2COREML_CORE_CONVERT_TEST_UTIL_H_
