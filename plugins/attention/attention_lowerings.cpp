/// Built-in lowerings of aten::_native_multi_head_attention and
/// aten::_transformer_encoder_layer_fwd as MIL composites, following ATen's CPU kernels
/// (native/transformers/attention.cpp and transformer.cpp in PyTorch 1.13):
///
///   q, k, v = split(x @ qkv_weight^T + qkv_bias)     (one linear when query, key and value are
///                                                     the same value, else three row slices)
///   q = q * (1 / sqrt(head_dim));  heads: [B, L, E] -> [B, heads, L, head_dim]
///   attn = softmax(q @ k^T, axis=-1);  ctx = attn @ v -> [B, T, E]
///   out = ctx @ proj_weight^T + proj_bias
///   weights (need_weights) = sum(attn, heads) / heads, or attn per head
///
/// The encoder layer is  x = src + mha(n1(src)); x = x + ffn(n2(x))  with norm_first, else
///  x = n1(src + mha(src)); x = n2(x + ffn(x)),  ffn = linear2(act(linear1(x))), act = exact gelu
/// (ATen's CPU `_addmm_activation`) or relu, n = layer_norm over the last dimension.
///
/// FP16 policy: both declare T2C_FP16_NEEDS_FP32_COMPUTE. Each composite holds a softmax (and the
/// encoder layer two layer_norms), which this project computes in FP32 when they stand alone
/// (aten::softmax and aten::layer_norm declare NEEDS_FP32_COMPUTE): the attention logits and the
/// variance of a residual stream overflow or lose their small terms in FP16. A lowering cannot
/// emit casts, so a composite cannot keep only its softmax in FP32; lowering it NATIVE would make
/// the fused trace of a model less accurate than the unfused trace of the same model. The price
/// is that these ops' projections run in FP32 too, which the conversion summary reports with the
/// reason `lowering_needs_fp32`.
///
/// Attention masks of the fused ops are refused by name (a boolean or additive mask changes the
/// softmax; no model of the coverage list uses one under the fused path).
///
/// torch 1.13's aten::_scaled_dot_product_attention is lowered as its math kernel (matmul, scale,
/// float and causal masks, softmax, matmul), under the same FP16 policy.
#include "attention/attention_lowerings.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

/// Checks that tensor input `i` has `shape`.
Status ExpectShape(const NodeView& ctx, uint32_t i, const std::string& name,
                   const std::vector<int64_t>& shape) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.InputType(i));
  if (t.shape != shape) {
    return ctx.Error(ctx.kind() + ": " + name + " is " + FormatInts(t.shape) + ", expected " +
                     FormatInts(shape));
  }
  return Status::Ok();
}

/// Refuses a mask; masks change the softmax and are not lowered.
Status RefuseMask(const NodeView& ctx, uint32_t mask_input) {
  if (ctx.IsNone(mask_input)) return Status::Ok();
  return ctx.Error(
      ctx.kind() +
      ": an attention mask (attn_mask or key_padding_mask) is not supported; only mask=None lowers. Trace without a mask or without torch.no_grad() (the unfused path lowers masks through its own ops)");
}

/// The attention's geometry.
struct Geometry {
  int64_t batch = 0, target = 0, source = 0, embed = 0, heads = 0, head_dim = 0;
};

/// Reads and checks embed_dim and the head count against the query [B, T, E].
Expected<Geometry> ReadGeometry(const NodeView& ctx, uint32_t query, uint32_t key,
                                uint32_t embed_input, uint32_t heads_input) {
  const std::string op = ctx.kind();
  TS2COREML_ASSIGN_OR_RETURN(TensorType q, ctx.InputType(query));
  TS2COREML_ASSIGN_OR_RETURN(TensorType k, ctx.InputType(key));
  Geometry g;
  TS2COREML_ASSIGN_OR_RETURN(g.embed, ctx.Int(embed_input));
  TS2COREML_ASSIGN_OR_RETURN(g.heads, ctx.Int(heads_input));
  if (q.rank() != 3 || k.rank() != 3) {
    return ctx.Error(op + ": expects batched [batch, length, embed_dim] inputs, got " +
                     FormatInts(q.shape) + " and " + FormatInts(k.shape));
  }
  if (g.heads <= 0 || g.embed <= 0 || g.embed % g.heads != 0) {
    return ctx.Error(op + ": embed_dim " + std::to_string(g.embed) + " is not divisible into " +
                     std::to_string(g.heads) + " heads");
  }
  if (q.shape[2] != g.embed || k.shape[2] != g.embed || q.shape[0] != k.shape[0]) {
    return ctx.Error(op + ": inputs " + FormatInts(q.shape) + " and " + FormatInts(k.shape) +
                     " do not match embed_dim " + std::to_string(g.embed));
  }
  g.batch = q.shape[0];
  g.target = q.shape[1];
  g.source = k.shape[1];
  g.head_dim = g.embed / g.heads;
  return g;
}

/// Where an attention block's four projection tensors are, by name from its input table.
struct ProjectionInputs {
  uint32_t qkv_weight, qkv_bias, proj_weight, proj_bias;
};

template <size_t N>
constexpr ProjectionInputs ProjectionInputsOf(const t2c_input_decl (&inputs)[N]) {
  return {sdk::InputIndex(inputs, "qkv_weight"), sdk::InputIndex(inputs, "qkv_bias"),
          sdk::InputIndex(inputs, "proj_weight"), sdk::InputIndex(inputs, "proj_bias")};
}

/// Checks the projection weights: qkv_weight [3E, E], qkv_bias [3E], proj_weight [E, E],
/// proj_bias [E].
Status CheckProjections(const NodeView& ctx, const Geometry& g, const ProjectionInputs& in) {
  const int64_t e = g.embed;
  TS2COREML_RETURN_IF_ERROR(ExpectShape(ctx, in.qkv_weight, "qkv_weight", {3 * e, e}));
  TS2COREML_RETURN_IF_ERROR(ExpectShape(ctx, in.qkv_bias, "qkv_bias", {3 * e}));
  TS2COREML_RETURN_IF_ERROR(ExpectShape(ctx, in.proj_weight, "proj_weight", {e, e}));
  return ExpectShape(ctx, in.proj_bias, "proj_bias", {e});
}

/// x @ w^T + b: MIL linear when weight and bias are constants (MIL linear requires it), else
/// matmul with transpose_y and add.
Expected<Var> EmitLinear(const LowerContext& ctx, Var x, Var w, Var b, bool constant) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType tx, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(TensorType tw, ctx.TypeOf(w));
  if (constant) {
    TensorType out = tx;
    out.shape.back() = tw.shape[0];
    return ctx.Emit1("linear", {{"x", x}, {"weight", w}, {"bias", b}}, out);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitMatmul(ctx, x, w, false, true));
  return EmitBinary(ctx, "add", y, b);
}

/// Rows [begin, end) of a rank-1 or rank-2 var along axis 0.
Expected<Var> EmitRows(const LowerContext& ctx, Var x, int64_t begin, int64_t end) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  std::vector<int64_t> b(t.shape.size(), 0), e = t.shape;
  b[0] = begin;
  e[0] = end;
  TensorType out = t;
  out.shape[0] = end - begin;
  TS2COREML_ASSIGN_OR_RETURN(Var begin_var, ctx.ConstInts(b));
  TS2COREML_ASSIGN_OR_RETURN(Var end_var, ctx.ConstInts(e));
  return ctx.Emit1("slice_by_index", {{"x", x}, {"begin", begin_var}, {"end", end_var}}, out);
}

/// [B, L, E] -> [B, heads, L, head_dim].
Expected<Var> SplitHeads(const LowerContext& ctx, Var x, const Geometry& g) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var r,
                             EmitReshape(ctx, x, {t.shape[0], t.shape[1], g.heads, g.head_dim}));
  return EmitTranspose(ctx, r, {0, 2, 1, 3});
}

/// The weights and constness of one attention block's four projection tensors.
struct Projections {
  Var qkv_weight, qkv_bias, proj_weight, proj_bias;
  bool qkv_const = false, proj_const = false;
};

Expected<Projections> ReadProjections(const LowerContext& ctx, const ProjectionInputs& in) {
  Projections p;
  TS2COREML_ASSIGN_OR_RETURN(p.qkv_weight, ctx.Input(in.qkv_weight));
  TS2COREML_ASSIGN_OR_RETURN(p.qkv_bias, ctx.Input(in.qkv_bias));
  TS2COREML_ASSIGN_OR_RETURN(p.proj_weight, ctx.Input(in.proj_weight));
  TS2COREML_ASSIGN_OR_RETURN(p.proj_bias, ctx.Input(in.proj_bias));
  p.qkv_const = ctx.IsConst(in.qkv_weight) && ctx.IsConst(in.qkv_bias);
  p.proj_const = ctx.IsConst(in.proj_weight) && ctx.IsConst(in.proj_bias);
  return p;
}

/// The result of one attention block: the projected output [B, T, E] and the softmax
/// probabilities [B, heads, T, S].
struct AttentionResult {
  Var out, attn;
};

Expected<AttentionResult> EmitAttention(const LowerContext& ctx, Var query, Var key, Var value,
                                        const Geometry& g, const Projections& p) {
  const int64_t e = g.embed;
  Var q, k, v;
  if (query.id == key.id && key.id == value.id && p.qkv_const) {
    // Self-attention (the same value three times): one linear, split in three.
    TS2COREML_ASSIGN_OR_RETURN(Var qkv, EmitLinear(ctx, query, p.qkv_weight, p.qkv_bias, true));
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(qkv));
    TensorType part = t;
    part.shape.back() = e;
    TS2COREML_ASSIGN_OR_RETURN(Var splits, ctx.ConstInt(3));
    TS2COREML_ASSIGN_OR_RETURN(Var axis, ctx.ConstInt(2));
    TS2COREML_ASSIGN_OR_RETURN(
        std::vector<Var> parts,
        ctx.Emit("split", {{"x", qkv}, {"num_splits", splits}, {"axis", axis}},
                 {part, part, part}));
    q = parts[0];
    k = parts[1];
    v = parts[2];
  } else {
    // ATen's qkv_projection slices the packed weight per input.
    const Var inputs[3] = {query, key, value};
    Var* outputs[3] = {&q, &k, &v};
    for (int i = 0; i < 3; ++i) {
      TS2COREML_ASSIGN_OR_RETURN(Var w, EmitRows(ctx, p.qkv_weight, i * e, (i + 1) * e));
      TS2COREML_ASSIGN_OR_RETURN(Var b, EmitRows(ctx, p.qkv_bias, i * e, (i + 1) * e));
      TS2COREML_ASSIGN_OR_RETURN(*outputs[i], EmitLinear(ctx, inputs[i], w, b, false));
    }
  }
  TS2COREML_ASSIGN_OR_RETURN(TensorType qt, ctx.TypeOf(q));
  // ATen scales q by 1 / sqrt(head_dim) computed in the tensor's own float type.
  const float scale = 1.0f / std::sqrt(static_cast<float>(g.head_dim));
  TS2COREML_ASSIGN_OR_RETURN(Var scale_var, ctx.ConstFloat(qt.dtype, scale));
  TS2COREML_ASSIGN_OR_RETURN(q, EmitBinary(ctx, "mul", q, scale_var));
  TS2COREML_ASSIGN_OR_RETURN(q, SplitHeads(ctx, q, g));
  TS2COREML_ASSIGN_OR_RETURN(k, SplitHeads(ctx, k, g));
  TS2COREML_ASSIGN_OR_RETURN(v, SplitHeads(ctx, v, g));
  TS2COREML_ASSIGN_OR_RETURN(Var scores, EmitMatmul(ctx, q, k, false, true));
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(scores));
  TS2COREML_ASSIGN_OR_RETURN(Var last, ctx.ConstInt(-1));
  AttentionResult r;
  TS2COREML_ASSIGN_OR_RETURN(r.attn, ctx.Emit1("softmax", {{"x", scores}, {"axis", last}}, st));
  TS2COREML_ASSIGN_OR_RETURN(Var heads_out, EmitMatmul(ctx, r.attn, v, false, false));
  TS2COREML_ASSIGN_OR_RETURN(Var merged, EmitTranspose(ctx, heads_out, {0, 2, 1, 3}));
  TS2COREML_ASSIGN_OR_RETURN(merged, EmitReshape(ctx, merged, {g.batch, g.target, e}));
  TS2COREML_ASSIGN_OR_RETURN(r.out,
                             EmitLinear(ctx, merged, p.proj_weight, p.proj_bias, p.proj_const));
  return r;
}

// --- aten::_native_multi_head_attention ---------------------------------------------------------

constexpr t2c_input_decl kMhaInputs[] = {
    sdk::Tensor("query"),
    sdk::Tensor("key"),
    sdk::Tensor("value"),
    sdk::Host("embed_dim"),
    sdk::Host("num_head"),
    sdk::Tensor("qkv_weight"),
    sdk::Tensor("qkv_bias"),
    sdk::Tensor("proj_weight"),
    sdk::Tensor("proj_bias"),
    sdk::Tensor("mask", T2C_MASK_ANY, T2C_INPUT_OPTIONAL),
    sdk::Host("need_weights"),
    sdk::Host("average_attn_weights"),
    sdk::Host("mask_type", T2C_INPUT_OPTIONAL),
};
constexpr uint32_t kQuery = sdk::InputIndex(kMhaInputs, "query");
constexpr uint32_t kKey = sdk::InputIndex(kMhaInputs, "key");
constexpr uint32_t kValue = sdk::InputIndex(kMhaInputs, "value");
constexpr uint32_t kEmbedDim = sdk::InputIndex(kMhaInputs, "embed_dim");
constexpr uint32_t kNumHead = sdk::InputIndex(kMhaInputs, "num_head");
constexpr ProjectionInputs kMhaProjections = ProjectionInputsOf(kMhaInputs);
constexpr uint32_t kMask = sdk::InputIndex(kMhaInputs, "mask");
constexpr uint32_t kNeedWeights = sdk::InputIndex(kMhaInputs, "need_weights");
constexpr uint32_t kAverageWeights = sdk::InputIndex(kMhaInputs, "average_attn_weights");

Status InferMha(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Geometry g, ReadGeometry(ctx, kQuery, kKey, kEmbedDim, kNumHead));
  // ATen requires query, key and value of one shape ("expected `query`/`key`/`value` shapes to
  // match").
  TS2COREML_RETURN_IF_ERROR(ExpectShape(ctx, kKey, "key", {g.batch, g.target, g.embed}));
  TS2COREML_RETURN_IF_ERROR(ExpectShape(ctx, kValue, "value", {g.batch, g.target, g.embed}));
  TS2COREML_RETURN_IF_ERROR(CheckProjections(ctx, g, kMhaProjections));
  TS2COREML_RETURN_IF_ERROR(RefuseMask(ctx, kMask));
  TS2COREML_ASSIGN_OR_RETURN(bool need_weights, ctx.Bool(kNeedWeights));
  TS2COREML_ASSIGN_OR_RETURN(bool average, ctx.Bool(kAverageWeights));
  const TensorType out(T2C_DTYPE_FP32, {g.batch, g.target, g.embed});
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, out));
  if (!ctx.OutputIsUsed(1)) {
    // Nothing reads the weights: the output gets output 0's type and var (see LowerMha).
    return ctx.SetOutputType(1, out);
  }
  if (!need_weights) {
    return ctx.Error(
        ctx.kind() +
        ": output 1 (attention weights) is read, but need_weights=False makes it an empty tensor, which Core ML cannot represent");
  }
  if (average) {
    return ctx.SetOutputType(1, TensorType(T2C_DTYPE_FP32, {g.batch, g.target, g.source}));
  }
  return ctx.SetOutputType(1, TensorType(T2C_DTYPE_FP32, {g.batch, g.heads, g.target, g.source}));
}

Status LowerMha(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Geometry g, ReadGeometry(ctx, kQuery, kKey, kEmbedDim, kNumHead));
  TS2COREML_ASSIGN_OR_RETURN(bool average, ctx.Bool(kAverageWeights));
  TS2COREML_ASSIGN_OR_RETURN(Var query, ctx.Input(kQuery));
  TS2COREML_ASSIGN_OR_RETURN(Var key, ctx.Input(kKey));
  TS2COREML_ASSIGN_OR_RETURN(Var value, ctx.Input(kValue));
  TS2COREML_ASSIGN_OR_RETURN(Projections p, ReadProjections(ctx, kMhaProjections));
  TS2COREML_ASSIGN_OR_RETURN(AttentionResult r, EmitAttention(ctx, query, key, value, g, p));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, r.out));
  if (!ctx.OutputIsUsed(1)) return ctx.SetOutput(1, r.out);
  if (!average) return ctx.SetOutput(1, r.attn);
  // ATen: qkt.sum(dim=1) / num_head.
  TS2COREML_ASSIGN_OR_RETURN(Var sum, EmitReduce(ctx, "reduce_sum", r.attn, {1}, false));
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(sum));
  TS2COREML_ASSIGN_OR_RETURN(Var heads, ctx.ConstFloat(st.dtype, static_cast<float>(g.heads)));
  TS2COREML_ASSIGN_OR_RETURN(Var mean, EmitBinary(ctx, "real_div", sum, heads));
  return ctx.SetOutput(1, mean);
}

// --- aten::_transformer_encoder_layer_fwd --------------------------------------------------------

constexpr t2c_input_decl kEncoderInputs[] = {
    sdk::Tensor("src"),
    sdk::Host("embed_dim"),
    sdk::Host("num_heads"),
    sdk::Tensor("qkv_weight"),
    sdk::Tensor("qkv_bias"),
    sdk::Tensor("proj_weight"),
    sdk::Tensor("proj_bias"),
    sdk::Host("use_gelu"),
    sdk::Host("norm_first"),
    sdk::Host("eps"),
    sdk::Tensor("norm_weight_1"),
    sdk::Tensor("norm_bias_1"),
    sdk::Tensor("norm_weight_2"),
    sdk::Tensor("norm_bias_2"),
    sdk::Tensor("ffn_weight_1"),
    sdk::Tensor("ffn_bias_1"),
    sdk::Tensor("ffn_weight_2"),
    sdk::Tensor("ffn_bias_2"),
    sdk::Tensor("mask", T2C_MASK_ANY, T2C_INPUT_OPTIONAL),
    sdk::Host("mask_type", T2C_INPUT_OPTIONAL),
};
constexpr uint32_t kSrc = sdk::InputIndex(kEncoderInputs, "src");
constexpr uint32_t kEncEmbedDim = sdk::InputIndex(kEncoderInputs, "embed_dim");
constexpr uint32_t kEncNumHeads = sdk::InputIndex(kEncoderInputs, "num_heads");
constexpr ProjectionInputs kEncProjections = ProjectionInputsOf(kEncoderInputs);
constexpr uint32_t kUseGelu = sdk::InputIndex(kEncoderInputs, "use_gelu");
constexpr uint32_t kNormFirst = sdk::InputIndex(kEncoderInputs, "norm_first");
constexpr uint32_t kEps = sdk::InputIndex(kEncoderInputs, "eps");
constexpr uint32_t kNormWeight1 = sdk::InputIndex(kEncoderInputs, "norm_weight_1");
constexpr uint32_t kNormBias1 = sdk::InputIndex(kEncoderInputs, "norm_bias_1");
constexpr uint32_t kNormWeight2 = sdk::InputIndex(kEncoderInputs, "norm_weight_2");
constexpr uint32_t kNormBias2 = sdk::InputIndex(kEncoderInputs, "norm_bias_2");
constexpr uint32_t kFfnWeight1 = sdk::InputIndex(kEncoderInputs, "ffn_weight_1");
constexpr uint32_t kFfnBias1 = sdk::InputIndex(kEncoderInputs, "ffn_bias_1");
constexpr uint32_t kFfnWeight2 = sdk::InputIndex(kEncoderInputs, "ffn_weight_2");
constexpr uint32_t kFfnBias2 = sdk::InputIndex(kEncoderInputs, "ffn_bias_2");
constexpr uint32_t kEncMask = sdk::InputIndex(kEncoderInputs, "mask");

Status InferEncoderLayer(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Geometry g, ReadGeometry(ctx, kSrc, kSrc, kEncEmbedDim, kEncNumHeads));
  TS2COREML_RETURN_IF_ERROR(CheckProjections(ctx, g, kEncProjections));
  for (uint32_t i : {kNormWeight1, kNormBias1, kNormWeight2, kNormBias2}) {
    const bool weight = i == kNormWeight1 || i == kNormWeight2;
    TS2COREML_RETURN_IF_ERROR(ExpectShape(ctx, i, weight ? "norm weight" : "norm bias", {g.embed}));
    if (!ctx.IsConst(i)) {
      return ctx.Error(ctx.kind() + ": layer norm parameter (input " + std::to_string(i) +
                       ") is a runtime value; MIL layer_norm needs constants");
    }
  }
  TS2COREML_ASSIGN_OR_RETURN(TensorType w1, ctx.InputType(kFfnWeight1));
  if (w1.rank() != 2 || w1.shape[1] != g.embed) {
    return ctx.Error(ctx.kind() + ": ffn_weight_1 " + FormatInts(w1.shape) +
                     " is not [dim_feedforward, " + std::to_string(g.embed) + "]");
  }
  TS2COREML_RETURN_IF_ERROR(ExpectShape(ctx, kFfnBias1, "ffn_bias_1", {w1.shape[0]}));
  TS2COREML_RETURN_IF_ERROR(ExpectShape(ctx, kFfnWeight2, "ffn_weight_2", {g.embed, w1.shape[0]}));
  TS2COREML_RETURN_IF_ERROR(ExpectShape(ctx, kFfnBias2, "ffn_bias_2", {g.embed}));
  TS2COREML_RETURN_IF_ERROR(RefuseMask(ctx, kEncMask));
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, {g.batch, g.target, g.embed}));
}

/// layer_norm over the last axis with constant gamma (input `weight`) and beta (input `bias`).
Expected<Var> EmitNorm(const LowerContext& ctx, Var x, uint32_t weight, uint32_t bias, Var eps) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var gamma, ctx.Input(weight));
  TS2COREML_ASSIGN_OR_RETURN(Var beta, ctx.Input(bias));
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({t.rank() - 1}));
  return ctx.Emit1("layer_norm",
                   {{"x", x}, {"axes", axes}, {"gamma", gamma}, {"beta", beta}, {"epsilon", eps}},
                   t);
}

Status LowerEncoderLayer(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Geometry g, ReadGeometry(ctx, kSrc, kSrc, kEncEmbedDim, kEncNumHeads));
  TS2COREML_ASSIGN_OR_RETURN(bool use_gelu, ctx.Bool(kUseGelu));
  TS2COREML_ASSIGN_OR_RETURN(bool norm_first, ctx.Bool(kNormFirst));
  TS2COREML_ASSIGN_OR_RETURN(double eps_value, ctx.Float(kEps));
  TS2COREML_ASSIGN_OR_RETURN(Var src, ctx.Input(kSrc));
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(src));
  TS2COREML_ASSIGN_OR_RETURN(Var eps, ctx.ConstFloat(st.dtype, static_cast<float>(eps_value)));
  TS2COREML_ASSIGN_OR_RETURN(Projections p, ReadProjections(ctx, kEncProjections));

  Var x = src;
  if (norm_first) {
    TS2COREML_ASSIGN_OR_RETURN(x, EmitNorm(ctx, x, kNormWeight1, kNormBias1, eps));
  }
  TS2COREML_ASSIGN_OR_RETURN(AttentionResult r, EmitAttention(ctx, x, x, x, g, p));
  TS2COREML_ASSIGN_OR_RETURN(x, EmitBinary(ctx, "add", r.out, src));
  if (!norm_first) {
    TS2COREML_ASSIGN_OR_RETURN(x, EmitNorm(ctx, x, kNormWeight1, kNormBias1, eps));
  }
  const Var residual = x;
  if (norm_first) {
    TS2COREML_ASSIGN_OR_RETURN(x, EmitNorm(ctx, x, kNormWeight2, kNormBias2, eps));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var w1, ctx.Input(kFfnWeight1));
  TS2COREML_ASSIGN_OR_RETURN(Var b1, ctx.Input(kFfnBias1));
  TS2COREML_ASSIGN_OR_RETURN(Var w2, ctx.Input(kFfnWeight2));
  TS2COREML_ASSIGN_OR_RETURN(Var b2, ctx.Input(kFfnBias2));
  const bool ffn1_const = ctx.IsConst(kFfnWeight1) && ctx.IsConst(kFfnBias1);
  const bool ffn2_const = ctx.IsConst(kFfnWeight2) && ctx.IsConst(kFfnBias2);
  TS2COREML_ASSIGN_OR_RETURN(Var h, EmitLinear(ctx, x, w1, b1, ffn1_const));
  TS2COREML_ASSIGN_OR_RETURN(TensorType ht, ctx.TypeOf(h));
  if (use_gelu) {
    TS2COREML_ASSIGN_OR_RETURN(Var mode, ctx.ConstString("EXACT"));
    TS2COREML_ASSIGN_OR_RETURN(h, ctx.Emit1("gelu", {{"x", h}, {"mode", mode}}, ht));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(h, ctx.Emit1("relu", {{"x", h}}, ht));
  }
  TS2COREML_ASSIGN_OR_RETURN(h, EmitLinear(ctx, h, w2, b2, ffn2_const));
  TS2COREML_ASSIGN_OR_RETURN(x, EmitBinary(ctx, "add", h, residual));
  if (!norm_first) {
    TS2COREML_ASSIGN_OR_RETURN(x, EmitNorm(ctx, x, kNormWeight2, kNormBias2, eps));
  }
  return ctx.SetOutput(0, x);
}

// --- aten::_scaled_dot_product_attention ---------------------------------------------------------

/// torch 1.13's private sdpa: (query [..., L, E], key [..., S, E], value [..., S, Ev], attn_mask?,
/// dropout_p, need_attn_weights, is_causal) -> (softmax(q k^T / sqrt(E) + mask) v, the softmax).
/// The batch dimensions broadcast; a float mask is added; is_causal masks position (i, j) when
/// j > i. A bool mask (True: attend) is refused at infer, see InferSdpa. ATen's math kernel returns
/// the weights whatever need_attn_weights says, so output 1 is always the softmax.
constexpr t2c_input_decl kSdpaInputs[] = {
    sdk::Tensor("query"),   sdk::Tensor("key"),
    sdk::Tensor("value"),   sdk::OptionalTensor("attn_mask"),
    sdk::Host("dropout_p"), sdk::Ignored("need_attn_weights"),
    sdk::Host("is_causal"),
};
constexpr uint32_t kSdpaQuery = sdk::InputIndex(kSdpaInputs, "query");
constexpr uint32_t kSdpaKey = sdk::InputIndex(kSdpaInputs, "key");
constexpr uint32_t kSdpaValue = sdk::InputIndex(kSdpaInputs, "value");
constexpr uint32_t kSdpaMask = sdk::InputIndex(kSdpaInputs, "attn_mask");
constexpr uint32_t kSdpaDropout = sdk::InputIndex(kSdpaInputs, "dropout_p");
constexpr uint32_t kSdpaCausal = sdk::InputIndex(kSdpaInputs, "is_causal");

/// The shapes of the attention weights [..., L, S] and of the output [..., L, Ev].
struct SdpaShapes {
  std::vector<int64_t> weights, out;
};

/// Checks the operands, dropout_p and the mask; gives the broadcast shapes.
Expected<SdpaShapes> ReadSdpaShapes(const NodeView& ctx) {
  const std::string op = ctx.kind();
  TS2COREML_ASSIGN_OR_RETURN(TensorType q, ctx.InputType(kSdpaQuery));
  TS2COREML_ASSIGN_OR_RETURN(TensorType k, ctx.InputType(kSdpaKey));
  TS2COREML_ASSIGN_OR_RETURN(TensorType v, ctx.InputType(kSdpaValue));
  TS2COREML_ASSIGN_OR_RETURN(double dropout, ctx.Float(kSdpaDropout));
  if (dropout != 0.0) {
    return ctx.Error(op + ": dropout_p=" + std::to_string(dropout) +
                     " drops random weights; export with dropout_p=0 (the model in eval mode)");
  }
  if (q.rank() < 2 || k.rank() < 2 || v.rank() < 2) {
    return ctx.Error(op + ": query, key and value need rank 2 or more, got " + FormatInts(q.shape) +
                     ", " + FormatInts(k.shape) + ", " + FormatInts(v.shape));
  }
  std::vector<int64_t> weights;
  if (!MatmulShape(q.shape, k.shape, false, true, &weights) ||
      k.shape[k.shape.size() - 2] != v.shape[v.shape.size() - 2]) {
    return ctx.Error(op + ": query " + FormatInts(q.shape) + ", key " + FormatInts(k.shape) +
                     " and value " + FormatInts(v.shape) + " do not match");
  }
  if (!ctx.IsNone(kSdpaMask)) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType m, ctx.InputType(kSdpaMask));
    std::vector<int64_t> masked;
    if (!sdk::BroadcastShapes(weights, m.shape, &masked) || masked.size() != weights.size() ||
        !std::equal(masked.end() - 2, masked.end(), weights.end() - 2)) {
      return ctx.Error(op + ": attn_mask " + FormatInts(m.shape) +
                       " does not broadcast to the attention weights " + FormatInts(weights));
    }
    weights = masked;
  }
  SdpaShapes s{weights, {}};
  if (!MatmulShape(weights, v.shape, false, false, &s.out)) {
    return ctx.Error(op + ": value " + FormatInts(v.shape) + " does not match the weights " +
                     FormatInts(weights));
  }
  return s;
}

Status InferSdpa(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(SdpaShapes s, ReadSdpaShapes(ctx));
  TS2COREML_ASSIGN_OR_RETURN(bool causal, ctx.Bool(kSdpaCausal));
  if (causal && !ctx.IsNone(kSdpaMask)) {
    // As ATen: "Explicit attn_mask should not be set when is_causal=True".
    return ctx.Error(ctx.kind() + ": attn_mask and is_causal=True together are not valid");
  }
  if (!ctx.IsNone(kSdpaMask)) {
    // Infer sees the mask's own dtype; lower sees the planned one, which is the float compute
    // dtype for a bool mask too, so a bool mask cannot be told from a float one there.
    TS2COREML_ASSIGN_OR_RETURN(TensorType m, ctx.InputType(kSdpaMask));
    if (m.dtype == T2C_DTYPE_BOOL) {
      return ctx.Error(
          ctx.kind() +
          ": a bool attn_mask is not supported yet (the core plans it as a float tensor); pass an additive float mask instead (0 where attending, -inf elsewhere)");
    }
  }
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, s.out)));
  return ctx.SetOutputType(1, TensorType(T2C_DTYPE_FP32, s.weights));
}

/// Adds the float attn_mask and the causal mask (-inf where j > i) to `scores`.
Expected<Var> EmitSdpaMasks(LowerContext& ctx, Var scores) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(scores));
  const float inf = std::numeric_limits<float>::infinity();
  if (!ctx.IsNone(kSdpaMask)) {
    TS2COREML_ASSIGN_OR_RETURN(Var mask, ctx.Input(kSdpaMask));
    TS2COREML_ASSIGN_OR_RETURN(scores, EmitBinary(ctx, "add", scores, mask));
  }
  TS2COREML_ASSIGN_OR_RETURN(bool causal, ctx.Bool(kSdpaCausal));
  if (!causal) return scores;
  const int64_t l = st.shape[st.shape.size() - 2], s = st.shape.back();
  std::vector<float> tril(static_cast<size_t>(l * s), 0.0f);
  for (int64_t i = 0; i < l; ++i) {
    for (int64_t j = i + 1; j < s; ++j) tril[static_cast<size_t>(i * s + j)] = -inf;
  }
  TS2COREML_ASSIGN_OR_RETURN(Var causal_mask, ctx.ConstFloats(st.dtype, tril, {l, s}));
  return EmitBinary(ctx, "add", scores, causal_mask);
}

Status LowerSdpa(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType qt, ctx.InputType(kSdpaQuery));
  TS2COREML_ASSIGN_OR_RETURN(Var q, ctx.Input(kSdpaQuery));
  TS2COREML_ASSIGN_OR_RETURN(Var k, ctx.Input(kSdpaKey));
  TS2COREML_ASSIGN_OR_RETURN(Var v, ctx.Input(kSdpaValue));
  TS2COREML_ASSIGN_OR_RETURN(Var scores, EmitMatmul(ctx, q, k, false, true));
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(scores));
  const float scale = 1.0f / std::sqrt(static_cast<float>(qt.shape.back()));
  TS2COREML_ASSIGN_OR_RETURN(Var scale_var, ctx.ConstFloat(st.dtype, scale));
  TS2COREML_ASSIGN_OR_RETURN(scores, EmitBinary(ctx, "mul", scores, scale_var));
  TS2COREML_ASSIGN_OR_RETURN(scores, EmitSdpaMasks(ctx, scores));
  TS2COREML_ASSIGN_OR_RETURN(st, ctx.TypeOf(scores));
  TS2COREML_ASSIGN_OR_RETURN(Var last, ctx.ConstInt(-1));
  TS2COREML_ASSIGN_OR_RETURN(Var attn, ctx.Emit1("softmax", {{"x", scores}, {"axis", last}}, st));
  TS2COREML_ASSIGN_OR_RETURN(Var out, EmitMatmul(ctx, attn, v, false, false));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, out));
  return ctx.SetOutput(1, attn);
}

// --- declarations --------------------------------------------------------------------------------

constexpr const char* kMhaOps[] = {"aten::_native_multi_head_attention"};
constexpr const char* kEncoderOps[] = {"aten::_transformer_encoder_layer_fwd"};
constexpr const char* kSdpaOps[] = {"aten::_scaled_dot_product_attention"};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("native_multi_head_attention", kMhaOps, kMhaInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferMha>, sdk::LowerFn<LowerMha>),
    sdk::Lowering("transformer_encoder_layer", kEncoderOps, kEncoderInputs,
                  T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_CUSTOM, sdk::InferFn<InferEncoderLayer>,
                  sdk::LowerFn<LowerEncoderLayer>),
    // The softmax computes in FP32, as aten::softmax does alone (see the FP16 policy above).
    sdk::Lowering("scaled_dot_product_attention", kSdpaOps, kSdpaInputs,
                  T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_CUSTOM, sdk::InferFn<InferSdpa>,
                  sdk::LowerFn<LowerSdpa>),
};

constexpr t2c_plugin_info kInfo = sdk::PluginInfo("ts2coreml.attention", "0.1.0", kLowerings);

}  // namespace

const t2c_plugin_info* AttentionPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
