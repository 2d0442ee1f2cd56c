/// Built-in lowering of torch 1.13's aten::_scaled_dot_product_attention as its math kernel
/// (matmul, scale, float and causal masks, softmax, matmul).
///
/// FP16 policy: T2C_FP16_NEEDS_FP32_COMPUTE. The composite holds a softmax, which this project
/// computes in FP32 when it stands alone (aten::softmax declares NEEDS_FP32_COMPUTE): attention
/// logits overflow or lose their small terms in FP16. A lowering cannot emit casts, so the
/// composite cannot keep only its softmax in FP32.
///
/// The fused transformer ops (aten::_native_multi_head_attention,
/// aten::_transformer_encoder_layer_fwd) have no lowering: the core decomposes them into the ops
/// of the unfused path before planning (core/torch/passes/decompose_fused.h).
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

/// torch 1.13's private sdpa: (query [..., L, E], key [..., S, E], value [..., S, Ev], attn_mask?,
/// dropout_p, need_attn_weights, is_causal) -> (softmax(q k^T / sqrt(E) + mask) v, the softmax).
/// The batch dimensions broadcast; a float mask is added; is_causal masks position (i, j) when
/// j > i. A bool mask (True: attend) masks the scores where it is False; it keeps its class
/// (T2C_INPUT_KEEPS_CLASS), where type promotion would make it a float to add. ATen's math kernel
/// returns the weights whatever need_attn_weights says, so output 1 is always the softmax.
constexpr t2c_input_decl kSdpaInputs[] = {
    sdk::Tensor("query"),
    sdk::Tensor("key"),
    sdk::Tensor("value"),
    sdk::OptionalTensor("attn_mask", T2C_MASK_FLOAT | T2C_DTYPE_BIT(T2C_DTYPE_BOOL),
                        T2C_INPUT_KEEPS_CLASS),
    sdk::Host("dropout_p"),
    sdk::Ignored("need_attn_weights"),
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
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, s.out)));
  return ctx.SetOutputType(1, TensorType(T2C_DTYPE_FP32, s.weights));
}

/// Applies attn_mask to `scores`: a float mask is added; a bool mask keeps the scores where it
/// is True and puts -inf where it is False (select).
Expected<Var> EmitSdpaAttnMask(LowerContext& ctx, Var scores) {
  TS2COREML_ASSIGN_OR_RETURN(Var mask, ctx.Input(kSdpaMask));
  TS2COREML_ASSIGN_OR_RETURN(TensorType mt, ctx.TypeOf(mask));
  if (mt.dtype != T2C_DTYPE_BOOL) return EmitBinary(ctx, "add", scores, mask);
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(scores));
  TS2COREML_ASSIGN_OR_RETURN(Var neg_inf,
                             ctx.ConstFloat(st.dtype, -std::numeric_limits<float>::infinity()));
  std::vector<int64_t> shape;
  if (!sdk::BroadcastShapes(st.shape, mt.shape, &shape)) {
    return ctx.Error(ctx.kind() + ": attn_mask " + FormatInts(mt.shape) +
                     " does not broadcast to the scores " + FormatInts(st.shape));
  }
  return ctx.Emit1("select", {{"cond", mask}, {"a", scores}, {"b", neg_inf}},
                   TensorType(st.dtype, shape));
}

/// Applies the attn_mask (EmitSdpaAttnMask) and the causal mask (-inf where j > i) to `scores`.
Expected<Var> EmitSdpaMasks(LowerContext& ctx, Var scores) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(scores));
  const float inf = std::numeric_limits<float>::infinity();
  if (!ctx.IsNone(kSdpaMask)) {
    TS2COREML_ASSIGN_OR_RETURN(scores, EmitSdpaAttnMask(ctx, scores));
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

constexpr const char* kSdpaOps[] = {"aten::_scaled_dot_product_attention"};

constexpr t2c_lowering_decl kLowerings[] = {
    // The softmax computes in FP32, as aten::softmax does alone (see the FP16 policy above).
    sdk::Lowering("scaled_dot_product_attention", kSdpaOps, kSdpaInputs,
                  T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_CUSTOM, sdk::InferFn<InferSdpa>,
                  sdk::LowerFn<LowerSdpa>),
};

constexpr t2c_plugin_info kInfo = sdk::PluginInfo("ts2coreml.attention", "0.1.0", kLowerings);

}  // namespace

const t2c_plugin_info* AttentionPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
