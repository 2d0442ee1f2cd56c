/// Tests of the attention family over a sweep of batch sizes, lengths, embedding sizes and head
/// counts: the composite's op sequence, head split shapes, 1/sqrt(head_dim) scaling, softmax axis,
/// attention weights (averaged or per head, or not computed when unused), the encoder layer's
/// norm_first/activation variants, the FP32 compute policy and the refusals.
#include "attention/attention_lowerings.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(AttentionPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

struct MhaParams {
  int64_t batch, target, source, embed, heads;
  bool need_weights = false, average = true;
};

t::FakeNode Mha(const MhaParams& p, t::Value mask = t::Value::None()) {
  const int64_t e = p.embed;
  t::FakeNode n("aten::_native_multi_head_attention", 2);
  n.Add(t::Value::Tensor({p.batch, p.target, e}));
  n.Add(t::Value::Tensor({p.batch, p.source, e}));
  n.Add(t::Value::Tensor({p.batch, p.source, e}));
  n.Add(t::Value::Int(e)).Add(t::Value::Int(p.heads));
  n.Add(t::Value::ConstTensor({3 * e, e})).Add(t::Value::ConstTensor({3 * e}));
  n.Add(t::Value::ConstTensor({e, e})).Add(t::Value::ConstTensor({e}));
  n.Add(mask).Add(t::Value::Bool(p.need_weights)).Add(t::Value::Bool(p.average));
  n.Add(t::Value::None());
  return n;
}

const Ops kProjections = {"slice_by_index", "slice_by_index", "matmul", "add",
                          "slice_by_index", "slice_by_index", "matmul", "add",
                          "slice_by_index", "slice_by_index", "matmul", "add"};
const Ops kCore = {"mul",       "reshape",   "transpose", "reshape", "transpose",
                   "reshape",   "transpose", "matmul",    "softmax", "matmul",
                   "transpose", "reshape",   "linear"};

Ops Join(std::initializer_list<Ops> parts) {
  Ops r;
  for (const Ops& p : parts) r.insert(r.end(), p.begin(), p.end());
  return r;
}

TEST(AttentionTest, Declarations) {
  for (const char* op :
       {"aten::_native_multi_head_attention", "aten::_transformer_encoder_layer_fwd"}) {
    const t2c_lowering_decl& d = Decl(op);
    EXPECT_EQ(d.fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE) << op;
    EXPECT_EQ(d.infer_rule, T2C_INFER_CUSTOM);
  }
  EXPECT_EQ(Decl("aten::_native_multi_head_attention").num_inputs, 13u);
  EXPECT_EQ(Decl("aten::_transformer_encoder_layer_fwd").num_inputs, 20u);
}

TEST(AttentionTest, MhaSweep) {
  for (int64_t batch : {1, 2}) {
    for (auto [target, source] : std::vector<std::pair<int64_t, int64_t>>{{5, 5}, {1, 1}, {9, 9}}) {
      for (int64_t embed : {8, 24, 64}) {
        for (int64_t heads : {1, 2, 4, 8}) {
          if (embed % heads != 0) continue;
          for (int weights = 0; weights < 3; ++weights) {
            MhaParams p{batch, target, source, embed, heads, weights > 0, weights == 1};
            SCOPED_TRACE("B=" + std::to_string(batch) + " T=" + std::to_string(target) +
                         " S=" + std::to_string(source) + " E=" + std::to_string(embed) +
                         " heads=" + std::to_string(heads) + " weights=" + std::to_string(weights));
            t::FakeNode n = Mha(p);
            if (weights == 0) n.UnusedOutput(1);
            n.Precision(T2C_DTYPE_FP16);
            ASSERT_TRUE(n.Lower(Decl("aten::_native_multi_head_attention"))) << n.error();
            EXPECT_EQ(n.compute_dtype(), T2C_DTYPE_FP32);
            EXPECT_EQ(n.planned(0), sdk::TensorType(T2C_DTYPE_FP32, {batch, target, embed}));
            const int64_t dh = embed / heads;
            Ops expected = Join({kProjections, kCore});
            if (weights == 1) expected.insert(expected.end(), {"reduce_sum", "real_div"});
            EXPECT_EQ(n.op_types(), expected);
            // Scaling by 1/sqrt(head_dim) on q, heads split as [B, heads, L, head_dim].
            const t::FakeOp* mul = n.FindOp("mul");
            EXPECT_FLOAT_EQ(n.ArgScalar(*mul, "y"), 1.0f / std::sqrt(static_cast<float>(dh)));
            EXPECT_EQ(n.ArgInts(*n.FindOp("reshape", 1), "shape"),
                      (Shape{batch, source, heads, dh}));
            EXPECT_EQ(n.ArgInts(*n.FindOp("transpose"), "perm"), (Shape{0, 2, 1, 3}));
            const t::FakeOp* scores = n.FindOp("matmul", 3);
            EXPECT_EQ(n.ArgScalar(*scores, "transpose_y"), 1);
            EXPECT_EQ(scores->output_types[0].shape, (Shape{batch, heads, target, source}));
            EXPECT_EQ(n.ArgScalar(*n.FindOp("softmax"), "axis"), -1);
            // Projection slices: rows [i*E, (i+1)*E) of the packed weight.
            EXPECT_EQ(n.ArgInts(*n.FindOp("slice_by_index", 2), "begin"), (Shape{embed, 0}));
            EXPECT_EQ(n.ArgInts(*n.FindOp("slice_by_index", 2), "end"), (Shape{2 * embed, embed}));
            EXPECT_EQ(n.ArgInputIndex(*n.FindOp("matmul", 2), "x"), 2);
            if (weights == 0) {
              EXPECT_EQ(n.output(1), n.output(0));
            } else if (weights == 1) {
              EXPECT_EQ(n.planned(1).shape, (Shape{batch, target, source}));
              EXPECT_EQ(n.ArgInts(*n.FindOp("reduce_sum"), "axes"), (Shape{1}));
              EXPECT_EQ(n.ArgScalar(*n.FindOp("real_div"), "y"), heads);
            } else {
              EXPECT_EQ(n.planned(1).shape, (Shape{batch, heads, target, source}));
              EXPECT_EQ(n.OutputOp(1)->type, "softmax");
            }
          }
        }
      }
    }
  }
}

TEST(AttentionTest, MhaRefusals) {
  MhaParams p{1, 4, 4, 16, 4};
  t::FakeNode mask = Mha(p, t::Value::Tensor({4, 4}, T2C_DTYPE_BOOL));
  EXPECT_FALSE(mask.Infer(Decl("aten::_native_multi_head_attention")));
  EXPECT_NE(mask.error().find("attention mask"), std::string::npos) << mask.error();

  // need_weights=False yields an empty tensor; reading it cannot be lowered.
  t::FakeNode empty = Mha(p);
  EXPECT_FALSE(empty.Infer(Decl("aten::_native_multi_head_attention")));
  EXPECT_NE(empty.error().find("need_weights=False"), std::string::npos) << empty.error();

  t::FakeNode heads = Mha(MhaParams{1, 4, 4, 16, 3});
  heads.UnusedOutput(1);
  EXPECT_FALSE(heads.Infer(Decl("aten::_native_multi_head_attention")));
  EXPECT_NE(heads.error().find("not divisible into 3 heads"), std::string::npos);

  t::FakeNode cross = Mha(MhaParams{1, 4, 6, 16, 4});
  cross.UnusedOutput(1);
  EXPECT_FALSE(cross.Infer(Decl("aten::_native_multi_head_attention")));
  EXPECT_NE(cross.error().find("key is [1, 6, 16], expected [1, 4, 16]"), std::string::npos)
      << cross.error();

  t::FakeNode unbatched("aten::_native_multi_head_attention", 2);
  for (int i = 0; i < 3; ++i) unbatched.Add(t::Value::Tensor({4, 16}));
  unbatched.Add(t::Value::Int(16)).Add(t::Value::Int(4));
  unbatched.UnusedOutput(1);
  EXPECT_FALSE(unbatched.Infer(Decl("aten::_native_multi_head_attention")));
  EXPECT_NE(unbatched.error().find("batched"), std::string::npos) << unbatched.error();
}

t::FakeNode Encoder(Shape src, int64_t heads, int64_t ffn, bool gelu, bool norm_first,
                    t::Value mask = t::Value::None()) {
  const int64_t e = src.back();
  t::FakeNode n("aten::_transformer_encoder_layer_fwd");
  n.Add(t::Value::Tensor(src)).Add(t::Value::Int(e)).Add(t::Value::Int(heads));
  n.Add(t::Value::ConstTensor({3 * e, e})).Add(t::Value::ConstTensor({3 * e}));
  n.Add(t::Value::ConstTensor({e, e})).Add(t::Value::ConstTensor({e}));
  n.Add(t::Value::Bool(gelu)).Add(t::Value::Bool(norm_first)).Add(t::Value::Float(1e-5));
  for (int i = 0; i < 4; ++i) n.Add(t::Value::ConstTensor({e}));
  n.Add(t::Value::ConstTensor({ffn, e})).Add(t::Value::ConstTensor({ffn}));
  n.Add(t::Value::ConstTensor({e, ffn})).Add(t::Value::ConstTensor({e}));
  n.Add(mask).Add(t::Value::None());
  return n;
}

/// An aten::_scaled_dot_product_attention node.
t::FakeNode Sdpa(Shape q, Shape k, Shape v, t::Value mask, double dropout, bool causal) {
  t::FakeNode n("aten::_scaled_dot_product_attention", 2);
  n.Add(t::Value::Tensor(q)).Add(t::Value::Tensor(k)).Add(t::Value::Tensor(v)).Add(mask);
  n.Add(t::Value::Float(dropout)).Add(t::Value::Bool(false)).Add(t::Value::Bool(causal));
  return n;
}

TEST(AttentionTest, SdpaShapesScaleAndOutputs) {
  struct Case {
    Shape q, k, v, weights, out;
  };
  for (const Case& c : std::vector<Case>{
           {{4, 8}, {6, 8}, {6, 3}, {4, 6}, {4, 3}},
           {{2, 4, 8}, {1, 5, 8}, {1, 5, 2}, {2, 4, 5}, {2, 4, 2}},
           {{2, 3, 4, 16}, {2, 3, 5, 16}, {2, 3, 5, 6}, {2, 3, 4, 5}, {2, 3, 4, 6}}}) {
    t::FakeNode n = Sdpa(c.q, c.k, c.v, t::Value::None(), 0.0, false);
    n.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl("aten::_scaled_dot_product_attention"))) << n.error();
    EXPECT_EQ(n.compute_dtype(), T2C_DTYPE_FP32);
    EXPECT_EQ(n.op_types(), (Ops{"matmul", "mul", "softmax", "matmul"}));
    EXPECT_EQ(n.ArgScalar(*n.FindOp("matmul"), "transpose_y"), 1);
    EXPECT_FLOAT_EQ(n.ArgScalar(*n.FindOp("mul"), "y"),
                    1.0f / std::sqrt(static_cast<float>(c.q.back())));
    EXPECT_EQ(n.ArgScalar(*n.FindOp("softmax"), "axis"), -1);
    EXPECT_EQ(n.inferred(0).shape, c.out);
    EXPECT_EQ(n.inferred(1).shape, c.weights);
    EXPECT_EQ(n.OutputOp(1)->type, "softmax");
    EXPECT_EQ(n.OutputOp(0)->type, "matmul");
  }
}

TEST(AttentionTest, SdpaFloatMaskAndCausal) {
  t::FakeNode masked = Sdpa({2, 3, 4}, {2, 3, 4}, {2, 3, 4}, t::Value::Tensor({3, 3}), 0.0, false);
  ASSERT_TRUE(masked.Lower(Decl("aten::_scaled_dot_product_attention"))) << masked.error();
  EXPECT_EQ(masked.op_types(), (Ops{"matmul", "mul", "add", "softmax", "matmul"}));
  EXPECT_EQ(masked.ArgInputIndex(*masked.FindOp("add"), "y"), 3);
  t::FakeNode n = Sdpa({2, 3, 4}, {2, 3, 4}, {2, 3, 4}, t::Value::None(), 0.0, true);
  ASSERT_TRUE(n.Lower(Decl("aten::_scaled_dot_product_attention"))) << n.error();
  EXPECT_EQ(n.op_types(), (Ops{"matmul", "mul", "add", "softmax", "matmul"}));
  const std::vector<double> causal = n.ArgValues(*n.FindOp("add"), "y");
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(causal, (std::vector<double>{0, -inf, -inf, 0, 0, -inf, 0, 0, 0}));
  // Non-square: row i keeps columns 0..i.
  t::FakeNode wide = Sdpa({2, 4}, {3, 4}, {3, 4}, t::Value::None(), 0.0, true);
  ASSERT_TRUE(wide.Lower(Decl("aten::_scaled_dot_product_attention"))) << wide.error();
  EXPECT_EQ(wide.ArgValues(*wide.FindOp("add"), "y"),
            (std::vector<double>{0, -inf, -inf, 0, 0, -inf}));
}

TEST(AttentionTest, SdpaRefusals) {
  t::FakeNode dropout = Sdpa({2, 4}, {3, 4}, {3, 4}, t::Value::None(), 0.1, false);
  EXPECT_FALSE(dropout.Lower(Decl("aten::_scaled_dot_product_attention")));
  EXPECT_NE(dropout.error().find("dropout_p=0.1"), std::string::npos) << dropout.error();
  t::FakeNode bool_mask =
      Sdpa({2, 4}, {3, 4}, {3, 4}, t::Value::Tensor({2, 3}, T2C_DTYPE_BOOL), 0.0, false);
  EXPECT_FALSE(bool_mask.Lower(Decl("aten::_scaled_dot_product_attention")));
  EXPECT_NE(bool_mask.error().find("bool attn_mask"), std::string::npos) << bool_mask.error();
  t::FakeNode bad_mask = Sdpa({2, 4}, {3, 4}, {3, 4}, t::Value::Tensor({2, 2}), 0.0, false);
  EXPECT_FALSE(bad_mask.Lower(Decl("aten::_scaled_dot_product_attention")));
  EXPECT_NE(bad_mask.error().find("does not broadcast"), std::string::npos) << bad_mask.error();
  t::FakeNode both = Sdpa({2, 4}, {3, 4}, {3, 4}, t::Value::Tensor({2, 3}), 0.0, true);
  EXPECT_FALSE(both.Lower(Decl("aten::_scaled_dot_product_attention")));
  EXPECT_NE(both.error().find("attn_mask and is_causal=True"), std::string::npos) << both.error();
  t::FakeNode mismatch = Sdpa({2, 4}, {3, 5}, {3, 4}, t::Value::None(), 0.0, false);
  EXPECT_FALSE(mismatch.Lower(Decl("aten::_scaled_dot_product_attention")));
  EXPECT_NE(mismatch.error().find("do not match"), std::string::npos) << mismatch.error();
}

TEST(AttentionTest, EncoderLayerSweep) {
  const Ops self_attention = {"linear",  "split",     "mul",       "reshape",   "transpose",
                              "reshape", "transpose", "reshape",   "transpose", "matmul",
                              "softmax", "matmul",    "transpose", "reshape",   "linear"};
  for (Shape src : {Shape{1, 32, 128}, Shape{2, 7, 16}}) {
    for (int64_t heads : {1, 4, 8}) {
      for (bool gelu : {false, true}) {
        for (bool norm_first : {false, true}) {
          SCOPED_TRACE(t::TypeString(sdk::TensorType(T2C_DTYPE_FP32, src)) +
                       " heads=" + std::to_string(heads) + " gelu=" + std::to_string(gelu) +
                       " norm_first=" + std::to_string(norm_first));
          t::FakeNode n = Encoder(src, heads, 3 * src.back(), gelu, norm_first);
          n.Precision(T2C_DTYPE_FP16);
          ASSERT_TRUE(n.Lower(Decl("aten::_transformer_encoder_layer_fwd"))) << n.error();
          EXPECT_EQ(n.compute_dtype(), T2C_DTYPE_FP32);
          EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP32, src));
          const std::string act = gelu ? "gelu" : "relu";
          const Ops expected =
              norm_first
                  ? Join({{"layer_norm"},
                          self_attention,
                          {"add", "layer_norm", "linear", act, "linear", "add"}})
                  : Join({self_attention,
                          {"add", "layer_norm", "linear", act, "linear", "add", "layer_norm"}});
          EXPECT_EQ(n.op_types(), expected);
          if (gelu) EXPECT_EQ(n.ArgString(*n.FindOp("gelu"), "mode"), "EXACT");
          const t::FakeOp* qkv = n.FindOp("linear");
          EXPECT_EQ(qkv->output_types[0].shape, (Shape{src[0], src[1], 3 * src.back()}));
          const t::FakeOp* split = n.FindOp("split");
          EXPECT_EQ(split->output_types.size(), 3u);
          EXPECT_EQ(n.ArgScalar(*split, "axis"), 2);
          // The first norm reads norm_weight_1/norm_bias_1, the second the *_2 pair.
          const t::FakeOp* n1 = n.FindOp("layer_norm", 0);
          const t::FakeOp* n2 = n.FindOp("layer_norm", 1);
          EXPECT_EQ(n.ArgInputIndex(*n1, "gamma"), 10);
          EXPECT_EQ(n.ArgInputIndex(*n1, "beta"), 11);
          EXPECT_EQ(n.ArgInputIndex(*n2, "gamma"), 12);
          EXPECT_EQ(n.ArgInputIndex(*n2, "beta"), 13);
          EXPECT_EQ(n.ArgInts(*n1, "axes"), (Shape{2}));
          EXPECT_FLOAT_EQ(n.ArgScalar(*n1, "epsilon"), 1e-5f);
          // Residuals: the attention output plus src, the ffn output plus its input.
          const t::FakeOp* add1 = n.FindOp("add", 0);
          EXPECT_EQ(n.ArgInputIndex(*add1, "y"), 0);
          const t::FakeOp* ffn1 = n.FindOp("linear", 2);
          EXPECT_EQ(n.ArgInputIndex(*ffn1, "weight"), 14);
          EXPECT_EQ(ffn1->output_types[0].shape, (Shape{src[0], src[1], 3 * src.back()}));
        }
      }
    }
  }
}

TEST(AttentionTest, EncoderLayerRefusesMask) {
  t::FakeNode n = Encoder({1, 4, 16}, 4, 32, false, false, t::Value::Tensor({1, 4}));
  EXPECT_FALSE(n.Infer(Decl("aten::_transformer_encoder_layer_fwd")));
  EXPECT_NE(n.error().find("attention mask"), std::string::npos) << n.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
