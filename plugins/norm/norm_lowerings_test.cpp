/// Tests of the norm family: batch_norm's FP32_PARAMS policy and PARAM roles, defaults for missing
/// affine parameters, rank handling and refusals; layer_norm's axes.
#include "norm/norm_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(NormPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

t::FakeNode BatchNorm(Shape x, bool affine, bool stats, bool training) {
  const int64_t c = x[1];
  t::FakeNode n("aten::batch_norm");
  n.Add(t::Value::Tensor(x));
  n.Add(affine ? t::Value::ConstTensor({c}) : t::Value::None());
  n.Add(affine ? t::Value::ConstTensor({c}) : t::Value::None());
  n.Add(stats ? t::Value::ConstTensor({c}) : t::Value::None());
  n.Add(stats ? t::Value::ConstTensor({c}) : t::Value::None());
  n.Add(t::Value::Bool(training)).Add(t::Value::Float(0.1)).Add(t::Value::Float(1e-5));
  n.Add(t::Value::Bool(true));
  return n;
}

TEST(NormTest, BatchNormDeclaration) {
  const t2c_lowering_decl& d = Decl("aten::batch_norm");
  EXPECT_EQ(d.fp16_policy, T2C_FP16_FP32_PARAMS);
  ASSERT_EQ(d.num_inputs, 9u);
  EXPECT_EQ(d.inputs[0].role, T2C_ROLE_TENSOR);
  for (int i : {1, 2, 3, 4, 7}) EXPECT_EQ(d.inputs[i].role, T2C_ROLE_PARAM) << i;
  EXPECT_EQ(d.inputs[5].role, T2C_ROLE_HOST);
  EXPECT_EQ(d.infer_rule, T2C_INFER_SAME_AS_INPUT0);
}

TEST(NormTest, BatchNormFp16WithFp32Params) {
  t::FakeNode n = BatchNorm({1, 8, 4, 4}, true, true, false);
  n.Precision(T2C_DTYPE_FP16, /*fp32_params_allowed=*/true);
  ASSERT_TRUE(n.Lower(Decl("aten::batch_norm"))) << n.error();
  const t::FakeOp* bn = n.OutputOp();
  ASSERT_EQ(bn->type, "batch_norm");
  EXPECT_EQ(bn->ArgNames(),
            (std::vector<std::string>{"x", "mean", "variance", "gamma", "beta", "epsilon"}));
  EXPECT_EQ(n.ArgType(*bn, "x").dtype, T2C_DTYPE_FP16);
  for (const char* p : {"mean", "variance", "gamma", "beta", "epsilon"}) {
    EXPECT_EQ(n.ArgType(*bn, p).dtype, T2C_DTYPE_FP32) << p;
  }
  EXPECT_EQ(n.ArgInputIndex(*bn, "mean"), 3);
  EXPECT_EQ(n.ArgInputIndex(*bn, "variance"), 4);
  EXPECT_EQ(n.ArgInputIndex(*bn, "gamma"), 1);
  EXPECT_EQ(n.ArgInputIndex(*bn, "beta"), 2);
  EXPECT_EQ(n.ArgType(*bn, "epsilon"), sdk::TensorType(T2C_DTYPE_FP32, {}));
  EXPECT_FLOAT_EQ(n.ArgScalar(*bn, "epsilon"), 1e-5);
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP16, {1, 8, 4, 4}));
}

TEST(NormTest, BatchNormWithoutAffineGetsOnesAndZeros) {
  t::FakeNode n = BatchNorm({2, 3, 5}, false, true, false);
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::batch_norm"))) << n.error();
  const t::FakeOp* bn = n.OutputOp();
  EXPECT_EQ(n.ArgValues(*bn, "gamma"), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(n.ArgValues(*bn, "beta"), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(n.ArgType(*bn, "gamma"), sdk::TensorType(T2C_DTYPE_FP16, {3}));
}

TEST(NormTest, BatchNormRank2IsExpanded) {
  t::FakeNode n = BatchNorm({4, 6}, true, true, false);
  ASSERT_TRUE(n.Lower(Decl("aten::batch_norm"))) << n.error();
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"expand_dims", "batch_norm", "squeeze"}));
  EXPECT_EQ(n.FindOp("batch_norm")->output_types[0].shape, (Shape{4, 6, 1}));
}

TEST(NormTest, BatchNormTrainingUsesBatchStatistics) {
  // With or without running statistics: layer_norm over all axes but the channel axis, moved
  // first, then the affine part as batch_norm(mean 0, variance 1, epsilon 0).
  for (bool stats : {false, true}) {
    t::FakeNode n = BatchNorm({2, 4, 3, 5}, true, stats, true);
    n.Precision(T2C_DTYPE_FP16, /*fp32_params_allowed=*/true);
    ASSERT_TRUE(n.Lower(Decl("aten::batch_norm"))) << n.error();
    EXPECT_EQ(n.op_types(),
              (std::vector<std::string>{"transpose", "layer_norm", "transpose", "batch_norm"}));
    const t::FakeOp* ln = n.FindOp("layer_norm");
    EXPECT_EQ(n.ArgValues(*ln, "axes"), (std::vector<double>{1, 2, 3}));
    EXPECT_EQ(ln->output_types[0], sdk::TensorType(T2C_DTYPE_FP16, {4, 2, 3, 5}));
    EXPECT_FLOAT_EQ(n.ArgScalar(*ln, "epsilon"), 1e-5);
    const t::FakeOp* bn = n.OutputOp();
    ASSERT_EQ(bn->type, "batch_norm");
    EXPECT_EQ(n.ArgValues(*bn, "mean"), (std::vector<double>{0, 0, 0, 0}));
    EXPECT_EQ(n.ArgValues(*bn, "variance"), (std::vector<double>{1, 1, 1, 1}));
    EXPECT_EQ(n.ArgScalar(*bn, "epsilon"), 0);
    EXPECT_EQ(n.ArgInputIndex(*bn, "gamma"), 1);
    EXPECT_EQ(n.ArgInputIndex(*bn, "beta"), 2);
    EXPECT_EQ(n.ArgType(*bn, "gamma").dtype, T2C_DTYPE_FP32);
  }
}

TEST(NormTest, BatchNormTrainingRank2) {
  t::FakeNode n = BatchNorm({6, 3}, false, false, true);
  ASSERT_TRUE(n.Lower(Decl("aten::batch_norm"))) << n.error();
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"transpose", "layer_norm", "transpose",
                                                    "expand_dims", "batch_norm", "squeeze"}));
  EXPECT_EQ(n.ArgValues(*n.FindOp("layer_norm"), "axes"), (std::vector<double>{1}));
  EXPECT_EQ(n.ArgValues(*n.FindOp("batch_norm"), "gamma"), (std::vector<double>{1, 1, 1}));
}

TEST(NormTest, BatchNormEvalWithoutStatsIsRefused) {
  t::FakeNode no_stats = BatchNorm({1, 4, 2, 2}, true, false, false);
  EXPECT_FALSE(no_stats.Lower(Decl("aten::batch_norm")));
  EXPECT_NE(no_stats.error().find("training=False needs running_mean"), std::string::npos)
      << no_stats.error();
}

TEST(NormTest, LayerNormOverTrailingDims) {
  t::FakeNode n("aten::layer_norm");
  n.Add(t::Value::Tensor({2, 5, 8})).Add(t::Value::Ints({5, 8})).Add(t::Value::None());
  n.Add(t::Value::ConstTensor({5, 8})).Add(t::Value::Float(1e-6)).Add(t::Value::Bool(true));
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::layer_norm"))) << n.error();
  EXPECT_EQ(n.compute_dtype(), T2C_DTYPE_FP32);
  const t::FakeOp* ln = n.OutputOp();
  ASSERT_EQ(ln->type, "layer_norm");
  EXPECT_EQ(n.ArgInts(*ln, "axes"), (Shape{1, 2}));
  EXPECT_EQ(n.ArgType(*ln, "gamma"), sdk::TensorType(T2C_DTYPE_FP32, {5, 8}));
  EXPECT_EQ(n.ArgInputIndex(*ln, "beta"), 3);
}

t::FakeNode GroupNorm(Shape x, int64_t groups, bool affine) {
  t::FakeNode n("aten::group_norm");
  n.Add(t::Value::Tensor(x)).Add(t::Value::Int(groups));
  n.Add(affine ? t::Value::ConstTensor({x[1]}) : t::Value::None());
  n.Add(affine ? t::Value::ConstTensor({x[1]}) : t::Value::None());
  n.Add(t::Value::Float(1e-5)).Add(t::Value::Bool(true));
  return n;
}

TEST(NormTest, GroupNormSweep) {
  for (Shape x : {Shape{2, 8, 4, 4}, Shape{1, 6, 5}, Shape{3, 12}, Shape{1, 4, 2, 3, 2}}) {
    for (int64_t groups : {1, 2, 4}) {
      if (x[1] % groups != 0) continue;
      for (bool affine : {false, true}) {
        SCOPED_TRACE(t::TypeString(sdk::TensorType(T2C_DTYPE_FP32, x)) + " groups " +
                     std::to_string(groups) + (affine ? " affine" : ""));
        t::FakeNode n = GroupNorm(x, groups, affine);
        n.Precision(T2C_DTYPE_FP16);
        ASSERT_TRUE(n.Lower(Decl("aten::group_norm"))) << n.error();
        EXPECT_EQ(n.compute_dtype(), T2C_DTYPE_FP32);
        EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP32, x));
        int64_t numel = 1;
        for (int64_t d : x) numel *= d;
        const t::FakeOp* ln = n.FindOp("layer_norm");
        ASSERT_NE(ln, nullptr);
        EXPECT_EQ(n.ArgType(*ln, "x").shape, (Shape{x[0], groups, numel / (x[0] * groups)}));
        EXPECT_EQ(n.ArgInts(*ln, "axes"), (Shape{2}));
        EXPECT_FALSE(ln->Has("gamma"));
        EXPECT_FLOAT_EQ(n.ArgScalar(*ln, "epsilon"), 1e-5f);
        std::vector<std::string> ops = {"reshape", "layer_norm", "reshape"};
        // The [C] parameters are reshaped to [C, 1, ...] unless the input is [N, C].
        if (affine && x.size() > 2) ops.insert(ops.end(), {"reshape", "mul", "reshape", "add"});
        if (affine && x.size() == 2) ops.insert(ops.end(), {"mul", "add"});
        EXPECT_EQ(n.op_types(), ops);
        if (affine) {
          Shape per_channel(x.size() - 1, 1);
          per_channel[0] = x[1];
          EXPECT_EQ(n.FindOp("mul")->output_types[0].shape, x);
          if (x.size() > 2) EXPECT_EQ(n.ArgInts(*n.FindOp("reshape", 2), "shape"), per_channel);
        }
      }
    }
  }
  t::FakeNode bad = GroupNorm({1, 6, 4, 4}, 4, false);
  EXPECT_FALSE(bad.Infer(Decl("aten::group_norm")));
  EXPECT_NE(bad.error().find("not divisible into 4 groups"), std::string::npos) << bad.error();
}

t::FakeNode InstanceNorm(Shape x, bool affine, bool stats, bool use_input_stats) {
  t::FakeNode n("aten::instance_norm");
  n.Add(t::Value::Tensor(x));
  for (bool present : {affine, affine, stats, stats}) {
    n.Add(present ? t::Value::ConstTensor({x[1]}) : t::Value::None());
  }
  n.Add(t::Value::Bool(use_input_stats)).Add(t::Value::Float(0.1)).Add(t::Value::Float(1e-5));
  n.Add(t::Value::Bool(false));
  return n;
}

TEST(NormTest, InstanceNormSweep) {
  for (Shape x : {Shape{2, 3, 7}, Shape{1, 4, 5, 5}, Shape{1, 2, 3, 4, 5}}) {
    for (bool affine : {false, true}) {
      SCOPED_TRACE(t::TypeString(sdk::TensorType(T2C_DTYPE_FP32, x)) + (affine ? " affine" : ""));
      t::FakeNode n = InstanceNorm(x, affine, false, true);
      n.Precision(T2C_DTYPE_FP16);
      ASSERT_TRUE(n.Lower(Decl("aten::instance_norm"))) << n.error();
      EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP32, x));
      Shape axes;
      for (size_t i = 2; i < x.size(); ++i) axes.push_back(static_cast<int64_t>(i));
      EXPECT_EQ(n.ArgInts(*n.FindOp("layer_norm"), "axes"), axes);
      EXPECT_EQ(n.ArgInputIndex(*n.FindOp("layer_norm"), "x"), 0);
      EXPECT_EQ(n.op_types().size(), affine ? 5u : 1u);
    }
  }
  // Running statistics: batch_norm in inference.
  t::FakeNode running = InstanceNorm({1, 4, 5, 5}, true, true, false);
  ASSERT_TRUE(running.Lower(Decl("aten::instance_norm"))) << running.error();
  const t::FakeOp* bn = running.OutputOp();
  ASSERT_EQ(bn->type, "batch_norm");
  EXPECT_EQ(running.ArgInputIndex(*bn, "mean"), 3);
  EXPECT_EQ(running.ArgInputIndex(*bn, "variance"), 4);
  t::FakeNode missing = InstanceNorm({1, 4, 5, 5}, true, false, false);
  EXPECT_FALSE(missing.Lower(Decl("aten::instance_norm")));
  EXPECT_NE(missing.error().find("running_mean"), std::string::npos) << missing.error();
  t::FakeNode rank2 = InstanceNorm({4, 5}, false, false, true);
  EXPECT_FALSE(rank2.Lower(Decl("aten::instance_norm")));
  EXPECT_NE(rank2.error().find("rank 3 or more"), std::string::npos) << rank2.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
