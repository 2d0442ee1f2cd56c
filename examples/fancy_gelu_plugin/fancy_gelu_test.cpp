/// Unit test of the fancy_gelu lowering with the SDK's fake host (ts2coreml/testing/fake_host.h):
/// the lowering runs as in the converter, without the converter.
#include <cstdio>
#include <string>
#include <vector>

#include "ts2coreml/testing/fake_host.h"

// Defined by TS2COREML_PLUGIN in fancy_gelu_plugin.cpp, which this test links directly.
extern "C" const t2c_plugin_info* ts2coreml_plugin_entry(void);

namespace t = ts2coreml::sdk::testing;

namespace {

int failures = 0;

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    ++failures;
  }
}

}  // namespace

int main() {
  const t2c_lowering_decl* decl = t::FindDecl(ts2coreml_plugin_entry(), "mylib::fancy_gelu");
  Check(decl != nullptr, "the plugin declares mylib::fancy_gelu");
  if (decl == nullptr) return 1;

  for (t2c_dtype precision : {T2C_DTYPE_FP16, T2C_DTYPE_FP32}) {
    const std::string label = "precision " + t::DtypeName(precision) + ": ";
    t::FakeNode node("mylib::fancy_gelu");
    node.Add(t::Value::Tensor({1, 8})).Precision(precision);
    const bool lowered = node.Lower(*decl);
    Check(lowered, label + "lowers: " + node.error());
    if (!lowered) continue;
    Check(node.op_types() == std::vector<std::string>{"mul", "sigmoid", "mul"},
          label + "emits mul, sigmoid, mul");
    const t::FakeOp* scale = node.FindOp("mul", 0);
    Check(scale != nullptr && node.ArgScalar(*scale, "y") > 1.70 &&
              node.ArgScalar(*scale, "y") < 1.71,
          label + "scales by 1.702");
    Check(scale != nullptr && node.ArgType(*scale, "y").dtype == precision,
          label + "the constant is in the compute dtype");
    Check(node.planned(0) == ts2coreml::sdk::TensorType(precision, {1, 8}),
          label + "the output has the planned type");
  }
  if (failures == 0) std::printf("fancy_gelu_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
