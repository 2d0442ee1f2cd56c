/// Tests of native_batch_norm_backward: output_mask (a bool list) decides what is computed, an
/// undefined output that is read is refused, and the statistics each mode reads.
#include "norm/batch_norm_backward_lowering.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "norm/norm_lowerings.h"
#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl() {
  const t2c_lowering_decl* d = t::FindDecl(NormPluginInfo(), "aten::native_batch_norm_backward");
  EXPECT_NE(d, nullptr);
  return *d;
}

/// grad_out and input [2, 4, 3], weight [4]; running statistics (eval) or saved ones (train).
t::FakeNode Node(bool train, const std::vector<bool>& mask) {
  t::FakeNode n("aten::native_batch_norm_backward", 3);
  n.Add(t::Value::Tensor({2, 4, 3})).Add(t::Value::Tensor({2, 4, 3}));
  n.Add(t::Value::ConstTensor({4}));
  for (int k = 0; k < 2; ++k) n.Add(train ? t::Value::None() : t::Value::ConstTensor({4}));
  for (int k = 0; k < 2; ++k) n.Add(train ? t::Value::Tensor({4}) : t::Value::None());
  n.Add(t::Value::Bool(train)).Add(t::Value::Float(1e-5)).Add(t::Value::Bools(mask));
  return n;
}

size_t Count(const Ops& ops, const std::string& op) {
  return static_cast<size_t>(std::count(ops.begin(), ops.end(), op));
}

TEST(BatchNormBackwardTest, OutputMaskSelectsWhatIsComputed) {
  t::FakeNode all = Node(false, {true, true, true});
  ASSERT_TRUE(all.Lower(Decl())) << all.error();
  EXPECT_EQ(Count(all.op_types(), "reduce_sum"), 2u);
  EXPECT_EQ(all.OutputOp(0)->type, "mul");
  // grad_weight masked off and unread: the dot product is never computed; zeros stand in.
  t::FakeNode two = Node(false, {true, false, true});
  two.UnusedOutput(1);
  ASSERT_TRUE(two.Lower(Decl())) << two.error();
  EXPECT_EQ(Count(two.op_types(), "reduce_sum"), 1u);
  EXPECT_EQ(Count(two.op_types(), "sub"), 0u);
  EXPECT_EQ(two.OutputOp(1), nullptr);
  EXPECT_EQ(Decl().fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE);
}

TEST(BatchNormBackwardTest, TrainModeReadsTheSavedStatistics) {
  t::FakeNode n = Node(true, {true, false, false});
  n.UnusedOutput(1).UnusedOutput(2);
  ASSERT_TRUE(n.Lower(Decl())) << n.error();
  // The batch mean and variance terms need both sums even when only grad_input is asked for.
  EXPECT_EQ(Count(n.op_types(), "reduce_sum"), 2u);
  EXPECT_EQ(Count(n.op_types(), "rsqrt"), 0u);
}

TEST(BatchNormBackwardTest, RefusesReadingAnUndefinedOutput) {
  t::FakeNode n = Node(false, {true, false, true});
  EXPECT_FALSE(n.Infer(Decl()));
  EXPECT_NE(n.error().find("output 1 is read, but output_mask[1] is False"), std::string::npos)
      << n.error();
}

TEST(BatchNormBackwardTest, RefusesAMaskOfTheWrongLengthAndMissingStatistics) {
  t::FakeNode n = Node(false, {true, true});
  EXPECT_FALSE(n.Infer(Decl()));
  EXPECT_NE(n.error().find("output_mask has 2 values, expected 3"), std::string::npos) << n.error();
  t::FakeNode m("aten::native_batch_norm_backward", 3);
  m.Add(t::Value::Tensor({2, 4})).Add(t::Value::Tensor({2, 4}));
  for (int k = 0; k < 5; ++k) m.Add(t::Value::None());
  m.Add(t::Value::Bool(false)).Add(t::Value::Float(1e-5)).Add(t::Value::Bools({true, true, true}));
  EXPECT_FALSE(m.Infer(Decl()));
  EXPECT_NE(m.error().find("reads running_mean and running_var, which are None"), std::string::npos)
      << m.error();
}

/// Reads input 1 as a bool list, then as an int list (which fails for bools, as in the core).
constexpr t2c_input_decl kProbeInputs[] = {sdk::Tensor("x"), sdk::Host("flags")};
sdk::Status InferProbe(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<bool> flags, ctx.Bools(1));
  if (flags != std::vector<bool>{true, false, true} && flags != std::vector<bool>{true}) {
    return ctx.Error("unexpected bools");
  }
  return ctx.Ints(1).status();
}
constexpr const char* kProbeOps[] = {"test::probe"};
constexpr t2c_lowering_decl kProbe =
    sdk::Lowering("probe", kProbeOps, kProbeInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferProbe>, nullptr);

TEST(BatchNormBackwardTest, BoolListsReadAsBoolsNotAsInts) {
  // A bool list, and a single bool as a list of one; neither reads as ints.
  for (const t::Value& flags : {t::Value::Bools({true, false, true}), t::Value::Bool(true)}) {
    t::FakeNode n("test::probe");
    n.Add(t::Value::Tensor({2})).Add(flags);
    EXPECT_FALSE(n.Infer(kProbe));
    EXPECT_NE(n.error().find("input_ints: input 1 is not an int list"), std::string::npos)
        << n.error();
    EXPECT_EQ(n.error().find("input_bools"), std::string::npos) << n.error();
  }
  t::FakeNode ints("test::probe");
  ints.Add(t::Value::Tensor({2})).Add(t::Value::Ints({1, 0, 1}));
  EXPECT_FALSE(ints.Infer(kProbe));
  EXPECT_NE(ints.error().find("input_bools: input 1 is not a bool list"), std::string::npos)
      << ints.error();
}

std::string* g_failure = nullptr;

TEST(BatchNormBackwardTest, BoolsUnderACoreThatPredatesInputBools) {
  // A converter whose host table ends before input_bools: the SDK reports it, never calls it.
  std::string failure;
  g_failure = &failure;
  t2c_host_api old{};
  old.struct_size = static_cast<uint32_t>(offsetof(t2c_host_api, input_bools));
  old.abi_version = T2C_ABI_VERSION;
  old.fail = [](t2c_context*, const char* message) { *g_failure = message; };
  const sdk::NodeView view(&old, nullptr);
  const sdk::Expected<std::vector<bool>> bools = view.Bools(0);
  EXPECT_FALSE(bools.ok());
  EXPECT_EQ(failure, "this ts2coreml cannot read bool lists");
  g_failure = nullptr;
}

}  // namespace
}  // namespace ts2coreml::plugins
