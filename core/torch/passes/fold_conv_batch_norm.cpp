#include "core/torch/passes/fold_conv_batch_norm.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "torch/csrc/jit/ir/constants.h"

namespace ts2coreml::core {
namespace {

/// A conv -> batch_norm pair whose parameters are all constants.
struct ConvBatchNorm {
  torch::jit::Node* conv = nullptr;
  torch::jit::Node* bn = nullptr;
  at::Tensor weight;
  at::Tensor mean;
  at::Tensor var;
  c10::optional<at::Tensor> bias;   ///< the conv's; none when it has none
  c10::optional<at::Tensor> gamma;  ///< none when batch_norm has no weight
  c10::optional<at::Tensor> beta;   ///< none when batch_norm has no bias
  float eps = 0;
};

/// The per-output-channel result of folding: the factor each weight channel is scaled by and
/// the new conv bias.
struct FoldedChannels {
  std::vector<float> scale;
  at::Tensor bias;
};

/// Constant input i of a node as a tensor, if it is one.
c10::optional<at::Tensor> ConstTensorInput(torch::jit::Node* node, size_t i) {
  auto iv = torch::jit::toIValue(node->input(i));
  if (!iv || !iv->isTensor()) return c10::nullopt;
  return iv->toTensor();
}

/// An optional tensor input that is None (`*out` stays empty) or a constant tensor; false when it
/// is neither.
bool OptionalConstTensorInput(torch::jit::Node* node, size_t i, c10::optional<at::Tensor>* out) {
  if (node->input(i)->type()->cast<c10::NoneType>()) return true;
  *out = ConstTensorInput(node, i);
  return out->has_value();
}

/// Whether `n` is a convolution that is not transposed.
bool IsConvolution(torch::jit::Node* n) {
  const std::string kind = n->kind().toQualString();
  if (kind == "aten::_convolution" || kind == "aten::convolution") {
    auto transposed = torch::jit::toIValue(n->input(6));
    return transposed && transposed->isBool() && !transposed->toBool();
  }
  return kind == "aten::conv1d" || kind == "aten::conv2d" || kind == "aten::conv3d";
}

/// Step 1: the pair ending at `bn` when it can be folded: an inference-mode aten::batch_norm
/// reading a convolution nothing else reads, every parameter a constant.
c10::optional<ConvBatchNorm> MatchConvBatchNorm(torch::jit::Node* bn) {
  if (std::string(bn->kind().toQualString()) != "aten::batch_norm") return c10::nullopt;
  ConvBatchNorm pair;
  pair.bn = bn;
  pair.conv = bn->input(0)->node();
  if (!IsConvolution(pair.conv) || pair.conv->output()->uses().size() != 1) return c10::nullopt;
  auto training = torch::jit::toIValue(bn->input(5));
  auto eps = torch::jit::toIValue(bn->input(7));
  auto mean = ConstTensorInput(bn, 3);
  auto var = ConstTensorInput(bn, 4);
  auto weight = ConstTensorInput(pair.conv, 1);
  if (!training || !training->isBool() || training->toBool() || !eps || !eps->isDouble() || !mean ||
      !var || !weight) {
    return c10::nullopt;
  }
  if (!OptionalConstTensorInput(bn, 1, &pair.gamma) ||
      !OptionalConstTensorInput(bn, 2, &pair.beta) ||
      !OptionalConstTensorInput(pair.conv, 2, &pair.bias)) {
    return c10::nullopt;
  }
  pair.weight = *std::move(weight);
  pair.mean = *std::move(mean);
  pair.var = *std::move(var);
  pair.eps = static_cast<float>(eps->toDouble());
  return pair;
}

/// Writes a tensor's elements as FP32, in row-major order, into `out` (numel floats), converted
/// without ATen kernels for the floating dtypes a model stores.
void CopyAsFloats(const at::Tensor& tensor, float* out) {
  const at::Tensor t = tensor.is_contiguous() ? tensor : tensor.contiguous();
  const int64_t n = t.numel();
  switch (t.scalar_type()) {
    case at::kFloat:
      std::copy_n(t.data_ptr<float>(), n, out);
      return;
    case at::kHalf:
      std::copy_n(t.data_ptr<c10::Half>(), n, out);
      return;
    case at::kBFloat16:
      std::copy_n(t.data_ptr<c10::BFloat16>(), n, out);
      return;
    case at::kDouble:
      std::copy_n(t.data_ptr<double>(), n, out);
      return;
    default: {
      const at::Tensor f = t.to(at::kFloat).contiguous();
      std::copy_n(f.data_ptr<float>(), n, out);
    }
  }
}

/// A tensor's elements as FP32 (CopyAsFloats); `n` copies of `fill` when there is no tensor.
std::vector<float> Floats(const c10::optional<at::Tensor>& tensor, size_t n, float fill) {
  if (!tensor) return std::vector<float>(n, fill);
  std::vector<float> out(static_cast<size_t>(tensor->numel()));
  CopyAsFloats(*tensor, out.data());
  return out;
}

/// Step 2: the per-channel scale and the folded bias, computed in plain FP32 loops (whatever the
/// model's dtype, half models included) rather than ATen ops: scaling a few vectors must not
/// fault in LibTorch's kernel code (mul, div, sqrt, copy: about 4 MB of resident pages, more
/// than a small model's FP16 weights). None when the statistics are not per output channel.
c10::optional<FoldedChannels> FoldChannels(const ConvBatchNorm& pair) {
  const int64_t out_channels = pair.weight.dim() > 0 ? pair.weight.size(0) : 0;
  const size_t n = static_cast<size_t>(out_channels);
  const std::vector<float> g = Floats(pair.gamma, n, 1.0f);
  const std::vector<float> b = Floats(pair.beta, n, 0.0f);
  const std::vector<float> cb = Floats(pair.bias, n, 0.0f);
  const std::vector<float> m = Floats(pair.mean, n, 0.0f);
  const std::vector<float> v = Floats(pair.var, n, 0.0f);
  if (n == 0 || g.size() != n || b.size() != n || cb.size() != n || m.size() != n ||
      v.size() != n) {
    return c10::nullopt;
  }
  FoldedChannels folded;
  folded.scale.resize(n);
  folded.bias = at::empty({out_channels}, at::kFloat);
  float* bp = folded.bias.data_ptr<float>();
  for (size_t c = 0; c < n; ++c) {
    folded.scale[c] = g[c] / std::sqrt(v[c] + pair.eps);
    bp[c] = (cb[c] - m[c]) * folded.scale[c] + b[c];
  }
  return folded;
}

/// Step 3: the conv weight scaled per output channel, in FP32. Scaled in place when nothing else
/// can see it (an FP32 constant used by this conv alone, its storage not shared), so no second
/// copy of the layer's weights is allocated; else a new tensor.
at::Tensor ScaledWeight(const ConvBatchNorm& pair, const std::vector<float>& scale) {
  const at::Tensor& weight = pair.weight;
  const bool sole_owner = weight.scalar_type() == at::kFloat && weight.is_contiguous() &&
                          pair.conv->input(1)->uses().size() == 1 &&
                          weight.use_count() <= 2 /* the node's and the pair's */ &&
                          weight.storage().use_count() == 1;
  at::Tensor scaled = weight;
  if (!sole_owner) {
    scaled = at::empty(weight.sizes(), at::kFloat);
    CopyAsFloats(weight, scaled.data_ptr<float>());
  }
  float* wp = scaled.data_ptr<float>();
  const size_t per_channel = static_cast<size_t>(scaled.numel()) / scale.size();
  for (size_t c = 0; c < scale.size(); ++c) {
    for (size_t i = 0; i < per_channel; ++i) wp[c * per_channel + i] *= scale[c];
  }
  return scaled;
}

/// Destroys each node of `nodes` that is an unused prim::Constant (duplicates allowed).
void DestroyUnusedConstants(const std::vector<torch::jit::Node*>& nodes) {
  std::set<torch::jit::Node*> seen;
  for (torch::jit::Node* n : nodes) {
    if (!seen.insert(n).second) continue;
    if (n->kind() == c10::prim::Constant && n->outputs().size() == 1 && !n->output()->hasUses()) {
      n->destroy();
    }
  }
}

/// Step 4: the conv reads the folded constants, batch_norm's users read the conv, batch_norm
/// goes. The constants this layer no longer needs are freed now, not at dead-code elimination:
/// the peak then holds one layer's old and new weights at a time, not the whole model's.
void Rewire(torch::jit::Graph& graph, const ConvBatchNorm& pair, const at::Tensor& weight,
            const at::Tensor& bias) {
  torch::jit::Node* conv = pair.conv;
  torch::jit::WithInsertPoint guard(conv);
  torch::jit::Value* wv = graph.insertConstant(weight);
  torch::jit::Value* bv = graph.insertConstant(bias);
  wv->setDebugName(conv->input(1)->debugName() + ".folded");
  bv->setDebugName(conv->input(1)->debugName() + ".folded_bias");
  std::vector<torch::jit::Node*> replaced = {conv->input(1)->node(), conv->input(2)->node()};
  for (size_t i = 1; i < pair.bn->inputs().size(); ++i)
    replaced.push_back(pair.bn->input(i)->node());
  conv->replaceInput(1, wv);
  conv->replaceInput(2, bv);
  pair.bn->output()->replaceAllUsesWith(conv->output());
  pair.bn->destroy();
  DestroyUnusedConstants(replaced);
}

}  // namespace

absl::StatusOr<bool> FoldConvBatchNorm(torch::jit::Graph& graph) {
  bool changed = false;
  for (auto it = graph.nodes().begin(); it != graph.nodes().end();) {
    torch::jit::Node* bn = *it;
    ++it;
    c10::optional<ConvBatchNorm> pair = MatchConvBatchNorm(bn);
    if (!pair) continue;
    try {
      c10::optional<FoldedChannels> folded = FoldChannels(*pair);
      if (!folded) continue;  // Not per-output-channel statistics: leave the batch_norm alone.
      const at::Tensor weight = ScaledWeight(*pair, folded->scale);
      Rewire(graph, *pair, weight, folded->bias);
      changed = true;
    } catch (const std::exception& e) {
      return Error(ErrorClass::kModel, absl::StrCat("folding batch_norm into convolution failed: ",
                                                    FirstLine(e.what())));
    }
  }
  return changed;
}

}  // namespace ts2coreml::core
