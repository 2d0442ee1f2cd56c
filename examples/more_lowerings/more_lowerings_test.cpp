/// Unit test of the lowerings of more_lowerings.cpp with the SDK's fake host: two outputs, a
/// Tensor[] with a float list, and a needs_fp32_compute op with a weight, each run as the
/// converter would run it and checked against Core ML's opset.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ts2coreml/testing/fake_host.h"

const t2c_plugin_info* MoreLoweringsPluginInfo();

namespace t = ts2coreml::sdk::testing;
using ts2coreml::sdk::TensorType;

namespace {

int failures = 0;

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    ++failures;
  }
}

const t2c_lowering_decl& Decl(const char* op) {
  const t2c_lowering_decl* decl = t::FindDecl(MoreLoweringsPluginInfo(), op);
  if (decl == nullptr) {
    std::fprintf(stderr, "FAILED: the plugin declares %s\n", op);
    std::exit(1);
  }
  return *decl;
}

void MinMax() {
  t::FakeNode node("mylib::min_max", /*num_outputs=*/2);
  node.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::Ints({-1, 1})).Precision(T2C_DTYPE_FP16);
  Check(node.Lower(Decl("mylib::min_max")), "min_max lowers: " + node.error());
  Check(node.op_types() == std::vector<std::string>{"reduce_min", "reduce_max"},
        "min_max emits reduce_min, reduce_max");
  for (uint32_t i = 0; i < 2; ++i) {
    Check(node.planned(i) == TensorType(T2C_DTYPE_FP16, {2}), "min_max output is fp16[2]");
  }
  const t::FakeOp* min = node.FindOp("reduce_min");
  Check(min != nullptr && node.ArgInts(*min, "axes") == std::vector<int64_t>{2, 1},
        "min_max reduces over the dims given, counted from the front");
  t::FakeNode bad("mylib::min_max", 2);
  bad.Add(t::Value::Tensor({2, 3})).Add(t::Value::Ints({2}));
  Check(!bad.Infer(Decl("mylib::min_max")) && bad.last_status() == T2C_ERROR_INVALID_INPUTS,
        "a dim beyond the rank blames the inputs");
}

void WeightedSum() {
  t::FakeNode node("mylib::weighted_sum");
  node.Add(t::Value::TensorList(
               {TensorType(T2C_DTYPE_FP32, {1, 8}), TensorType(T2C_DTYPE_FP32, {1, 8})}))
      .Add(t::Value::Floats({0.25, 0.75}))
      .Precision(T2C_DTYPE_FP16);
  Check(node.Lower(Decl("mylib::weighted_sum")), "weighted_sum lowers: " + node.error());
  Check(node.op_types() == std::vector<std::string>{"mul", "mul", "add"},
        "weighted_sum emits mul, mul, add");
  const t::FakeOp* second = node.FindOp("mul", 1);
  Check(second != nullptr && node.ArgScalar(*second, "y") == 0.75 &&
            node.ArgType(*second, "y").dtype == T2C_DTYPE_FP16,
        "each weight is a constant in the compute dtype");
  t::FakeNode bad("mylib::weighted_sum");
  bad.Add(t::Value::TensorList({TensorType(T2C_DTYPE_FP32, {1, 8})}))
      .Add(t::Value::Floats({0.5, 0.5}));
  Check(!bad.Infer(Decl("mylib::weighted_sum")) && bad.last_status() == T2C_ERROR_INVALID_INPUTS,
        "a weight count other than the tensors' blames the inputs");
}

void RmsNorm() {
  t::FakeNode node("mylib::rms_norm");
  node.Add(t::Value::Tensor({1, 4, 8}))
      .Add(t::Value::ConstTensor({8}))
      .Add(t::Value::Float(1e-6))
      .Precision(T2C_DTYPE_FP16);
  Check(node.Lower(Decl("mylib::rms_norm")), "rms_norm lowers: " + node.error());
  Check(node.compute_dtype() == T2C_DTYPE_FP32 && node.param_dtype() == T2C_DTYPE_FP32,
        "needs_fp32_compute: the node computes, and reads its weight, in fp32 under fp16");
  Check(node.planned(0) == TensorType(T2C_DTYPE_FP32, {1, 4, 8}), "the output is planned fp32");
  const t::FakeOp* scale = node.OutputOp();
  Check(scale != nullptr && node.ArgType(*scale, "y") == TensorType(T2C_DTYPE_FP32, {8}),
        "the weight arrives fp32");
  Check(node.op_types() ==
            std::vector<std::string>{"mul", "reduce_mean", "add", "rsqrt", "mul", "mul"},
        "rms_norm emits mul, reduce_mean, add, rsqrt, mul, mul");
}

}  // namespace

int main() {
  MinMax();
  WeightedSum();
  RmsNorm();
  if (failures == 0) std::printf("more_lowerings_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
