#include "core/torch/canonicalize.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/torch/decompose_fused.h"
#include "core/torch/graph_importer.h"
#include "core/torch/passes/decompose_complex.h"
#include "core/torch/rewrite_copy.h"
#include "torch/csrc/jit/ir/alias_analysis.h"
#include "torch/csrc/jit/ir/constants.h"
#include "torch/csrc/jit/passes/constant_propagation.h"
#include "torch/csrc/jit/passes/dead_code_elimination.h"
#include "torch/csrc/jit/passes/freeze_module.h"
#include "torch/csrc/jit/passes/inliner.h"

namespace ts2coreml::core {
namespace {

/// The first non-empty line of `text` (LibTorch's schema errors start with a newline).
std::string FirstLine(const std::string& text) {
  const size_t begin = std::min(text.size(), text.find_first_not_of(" \n"));
  return text.substr(begin, text.find('\n', begin) - begin);
}

/// Constant input i of a node as a tensor, if it is one.
c10::optional<at::Tensor> ConstTensorInput(torch::jit::Node* node, size_t i) {
  auto iv = torch::jit::toIValue(node->input(i));
  if (!iv || !iv->isTensor()) return c10::nullopt;
  return iv->toTensor();
}

c10::optional<c10::IValue> ConstInput(torch::jit::Node* node, size_t i) {
  return torch::jit::toIValue(node->input(i));
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

/// A tensor's elements as FP32 (CopyAsFloats).
std::vector<float> Floats(const at::Tensor& tensor) {
  std::vector<float> out(static_cast<size_t>(tensor.numel()));
  CopyAsFloats(tensor, out.data());
  return out;
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

/// Whether a block (or a block nested in it) calls a method or function.
bool HasCalls(torch::jit::Block* block) {
  for (torch::jit::Node* n : block->nodes()) {
    if (n->kind() == c10::prim::CallMethod || n->kind() == c10::prim::CallFunction) return true;
    for (torch::jit::Block* b : n->blocks()) {
      if (HasCalls(b)) return true;
    }
  }
  return false;
}

/// Nodes in a block and the blocks nested in it.
size_t CountNodes(torch::jit::Block* block) {
  size_t count = 0;
  for (torch::jit::Node* n : block->nodes()) {
    ++count;
    for (torch::jit::Block* b : n->blocks()) count += CountNodes(b);
  }
  return count;
}

bool IsConvolution(torch::jit::Node* n) {
  const std::string kind = n->kind().toQualString();
  if (kind == "aten::_convolution" || kind == "aten::convolution") {
    auto transposed = ConstInput(n, 6);
    return transposed && transposed->isBool() && !transposed->toBool();
  }
  return kind == "aten::conv1d" || kind == "aten::conv2d" || kind == "aten::conv3d";
}

/// A dropout among the passthrough ops whose `train` argument is a constant true (a model traced
/// or scripted in training mode) and whose probability is not a constant 0: it draws a random
/// mask, so removing it would change the result. With p = 0 it is the identity in either mode
/// (torchvision's swin_t calls F.dropout(attn, p=0.0) with the default training=True).
absl::Status RefuseTrainingDropouts(torch::jit::Graph& graph, const std::set<std::string>& ops) {
  for (torch::jit::Node* n : graph.nodes()) {
    const std::string kind = n->kind().toQualString();
    const std::string base = kind.back() == '_' ? kind.substr(0, kind.size() - 1) : kind;
    if (ops.count(base) == 0 || base.find("dropout") == std::string::npos) continue;
    if (n->inputs().size() < 3) continue;
    auto train = ConstInput(n, 2);
    if (!train || !train->isBool() || !train->toBool()) continue;
    auto p = ConstInput(n, 1);
    if (p && (p->isDouble() || p->isInt()) && p->toScalar().toDouble() == 0.0) continue;
    return Error(ErrorClass::kModel,
                 absl::StrCat(kind,
                              ": train=True draws a random mask, which is not converted; "
                              "call model.eval() (or pass training=False) before tracing"));
  }
  return absl::OkStatus();
}

}  // namespace

bool RemovePassthroughOps(const std::shared_ptr<torch::jit::Graph>& graph,
                          const std::set<std::string>& ops) {
  std::vector<torch::jit::Node*> removable;
  std::unique_ptr<torch::jit::AliasDb> aliases;  // built on the first candidate
  // The nodes that may write to memory (in-place ops, nodes with blocks), in graph order, and
  // how many of them are not after the node being looked at: a candidate is checked against the
  // later writers only, not every later node, so a long graph without in-place ops costs linear
  // time.
  std::vector<torch::jit::Node*> writers;
  size_t writers_passed = 0;
  auto pass_writers_up_to = [&](torch::jit::Node* n) {
    while (writers_passed < writers.size() && !n->isBefore(writers[writers_passed])) {
      ++writers_passed;
    }
  };
  for (torch::jit::Node* n : graph->nodes()) {
    pass_writers_up_to(n);
    std::string kind = n->kind().toQualString();
    bool match = ops.count(kind) != 0;
    const bool dunder = kind.size() > 2 && kind.compare(kind.size() - 2, 2, "__") == 0;
    const bool in_place = !match && !dunder && !kind.empty() && kind.back() == '_';
    if (in_place) match = ops.count(kind.substr(0, kind.size() - 1)) != 0;
    if (!match || n->outputs().size() != 1 || n->inputs().empty()) continue;
    if (!n->input(0)->type()->isSubtypeOf(*c10::TensorType::get()) ||
        !n->output()->type()->isSubtypeOf(*c10::TensorType::get())) {
      continue;
    }
    // Removing y = x.clone() (or contiguous, detach) makes y an alias of x, which is wrong once
    // either is written in place after it (y[0] = 0 must leave x alone): such nodes stay.
    if (!in_place) {
      if (!aliases) {
        aliases = std::make_unique<torch::jit::AliasDb>(graph);
        for (torch::jit::Node* w : graph->nodes()) {
          if (!w->blocks().empty() || aliases->isMutable(w)) writers.push_back(w);
        }
        pass_writers_up_to(n);
      }
      const torch::jit::ValueSet both = {n->input(0), n->output()};
      bool written = false;
      for (size_t w = writers_passed; w < writers.size() && !written; ++w) {
        written = aliases->writesToAlias(writers[w], both);
      }
      if (written) continue;
    }
    removable.push_back(n);
  }
  for (torch::jit::Node* n : removable) {
    n->output()->replaceAllUsesWith(n->input(0));
    n->destroy();
  }
  return !removable.empty();
}

absl::StatusOr<bool> FoldConvBatchNorm(torch::jit::Graph& graph) {
  bool changed = false;
  for (auto it = graph.nodes().begin(); it != graph.nodes().end();) {
    torch::jit::Node* bn = *it;
    ++it;
    if (std::string(bn->kind().toQualString()) != "aten::batch_norm") continue;
    torch::jit::Node* conv = bn->input(0)->node();
    if (!IsConvolution(conv) || conv->output()->uses().size() != 1) continue;
    auto training = ConstInput(bn, 5);
    auto eps_iv = ConstInput(bn, 7);
    auto mean = ConstTensorInput(bn, 3);
    auto var = ConstTensorInput(bn, 4);
    auto weight = ConstTensorInput(conv, 1);
    if (!training || !training->isBool() || training->toBool() || !eps_iv || !eps_iv->isDouble() ||
        !mean || !var || !weight) {
      continue;
    }
    const bool has_gamma = !bn->input(1)->type()->cast<c10::NoneType>();
    const bool has_beta = !bn->input(2)->type()->cast<c10::NoneType>();
    const bool has_bias = !conv->input(2)->type()->cast<c10::NoneType>();
    auto gamma = has_gamma ? ConstTensorInput(bn, 1) : c10::nullopt;
    auto beta = has_beta ? ConstTensorInput(bn, 2) : c10::nullopt;
    auto bias = has_bias ? ConstTensorInput(conv, 2) : c10::nullopt;
    if ((has_gamma && !gamma) || (has_beta && !beta) || (has_bias && !bias)) continue;

    try {
      // Plain loops in FP32 (whatever the model's dtype, half models included) rather than ATen
      // ops: scaling a few vectors must not fault in LibTorch's kernel code (mul, div, sqrt,
      // copy: about 4 MB of resident pages, more than a small model's FP16 weights).
      const int64_t out_channels = weight->dim() > 0 ? weight->size(0) : 0;
      std::vector<float> g = gamma ? Floats(*gamma) : std::vector<float>(out_channels, 1.0f);
      std::vector<float> b = beta ? Floats(*beta) : std::vector<float>(out_channels, 0.0f);
      std::vector<float> cb = bias ? Floats(*bias) : std::vector<float>(out_channels, 0.0f);
      std::vector<float> m = Floats(*mean);
      std::vector<float> v = Floats(*var);
      const size_t n = static_cast<size_t>(out_channels);
      if (n == 0 || g.size() != n || b.size() != n || cb.size() != n || m.size() != n ||
          v.size() != n) {
        continue;  // Not per-output-channel statistics: leave the batch_norm alone.
      }
      const float eps = static_cast<float>(eps_iv->toDouble());
      std::vector<float> scale(n);
      at::Tensor new_b = at::empty({out_channels}, at::kFloat);
      float* bp = new_b.data_ptr<float>();
      for (size_t c = 0; c < n; ++c) {
        scale[c] = g[c] / std::sqrt(v[c] + eps);
        bp[c] = (cb[c] - m[c]) * scale[c] + b[c];
      }
      // Scale the weights in place when nothing else can see them (an FP32 constant used by this
      // conv alone, its storage not shared): no second copy of the layer's weights is allocated.
      const bool sole_owner = weight->scalar_type() == at::kFloat && weight->is_contiguous() &&
                              conv->input(1)->uses().size() == 1 &&
                              weight->use_count() <= 2 /* the node's and ours */ &&
                              weight->storage().use_count() == 1;
      at::Tensor new_w = *weight;
      if (!sole_owner) {
        new_w = at::empty(weight->sizes(), at::kFloat);
        CopyAsFloats(*weight, new_w.data_ptr<float>());
      }
      float* wp = new_w.data_ptr<float>();
      const size_t per_channel = static_cast<size_t>(new_w.numel()) / n;
      for (size_t c = 0; c < n; ++c) {
        for (size_t i = 0; i < per_channel; ++i) wp[c * per_channel + i] *= scale[c];
      }

      torch::jit::WithInsertPoint guard(conv);
      torch::jit::Value* wv = graph.insertConstant(new_w);
      torch::jit::Value* bv = graph.insertConstant(new_b);
      wv->setDebugName(conv->input(1)->debugName() + ".folded");
      bv->setDebugName(conv->input(1)->debugName() + ".folded_bias");
      std::vector<torch::jit::Node*> replaced = {conv->input(1)->node(), conv->input(2)->node()};
      for (size_t i = 1; i < bn->inputs().size(); ++i) replaced.push_back(bn->input(i)->node());
      conv->replaceInput(1, wv);
      conv->replaceInput(2, bv);
      bn->output()->replaceAllUsesWith(conv->output());
      bn->destroy();
      // Free the FP32 tensors this layer no longer needs now, not at dead-code elimination: the
      // peak then holds one layer's old and new weights at a time, not the whole model's.
      DestroyUnusedConstants(replaced);
      changed = true;
    } catch (const std::exception& e) {
      return Error(ErrorClass::kModel, absl::StrCat("folding batch_norm into convolution failed: ",
                                                    FirstLine(e.what())));
    }
  }
  return changed;
}

std::vector<TorchPass> CanonicalizationPipeline(
    const CanonicalizeOptions& options, std::vector<std::optional<StaticInputType>> input_types) {
  std::set<std::string> passthrough = options.passthrough_ops;
  return {
      {"inline",
       [](std::shared_ptr<torch::jit::Graph>& g) -> absl::StatusOr<bool> {
         if (!HasCalls(g->block())) return false;
         torch::jit::Inline(*g);
         return true;
       }},
      {"decompose-fused-transformer-ops",
       [](std::shared_ptr<torch::jit::Graph>& g) { return DecomposeFusedTransformerOps(*g); }},
      // Before passthrough removal: a contiguous or clone of a complex value applies per part.
      {"decompose-complex",
       [input_types](std::shared_ptr<torch::jit::Graph>& g) {
         return DecomposeComplex(*g, input_types);
       }},
      // Before passthrough removal: the clone it leaves is removed unless written after.
      {"rewrite-copy-into-fresh-tensors",
       [](std::shared_ptr<torch::jit::Graph>& g) -> absl::StatusOr<bool> {
         return RewriteCopyIntoFreshTensors(*g);
       }},
      {"remove-passthrough-ops",
       [passthrough](std::shared_ptr<torch::jit::Graph>& g) -> absl::StatusOr<bool> {
         if (absl::Status s = RefuseTrainingDropouts(*g, passthrough); !s.ok()) return s;
         return RemovePassthroughOps(g, passthrough);
       }},
      {"fold-constant-scalars",
       [](std::shared_ptr<torch::jit::Graph>& g) -> absl::StatusOr<bool> {
         // Only ops producing immutable values (ints, floats, lists of them): never tensors, so
         // no weights are recomputed by LibTorch in the model's dtype.
         return torch::jit::ConstantPropagationImmutableTypes(g);
       }},
      {"fold-conv-batch-norm",
       [](std::shared_ptr<torch::jit::Graph>& g) { return FoldConvBatchNorm(*g); }},
      {"eliminate-dead-code",
       [](std::shared_ptr<torch::jit::Graph>& g) -> absl::StatusOr<bool> {
         const size_t before = CountNodes(g->block());
         torch::jit::EliminateDeadCode(g);
         return CountNodes(g->block()) != before;
       },
       /*cleanup=*/true},
  };
}

absl::StatusOr<CanonicalModel> Canonicalize(torch::jit::Module module,
                                            const CanonicalizeOptions& options) {
  CanonicalModel out;
  try {
    module.eval();
    // Shares the module's tensors (no copy); no numeric optimizations.
    out.frozen = torch::jit::freeze_module(module);
    // Drop this handle: when the caller moved its module in, the frozen graph's constants are now
    // the only owners of the weights, so a constant replaced by a pass is freed with its node.
    module = torch::jit::Module();
    torch::jit::Method forward = out.frozen.get_method("forward");
    // The passes run on the frozen method's own graph, not a copy that would keep every replaced
    // constant alive until the end (docs/performance.md, "Where memory goes").
    out.graph = forward.graph();
    const c10::FunctionSchema& schema = forward.function().getSchema();
    for (size_t i = 1; i < schema.arguments().size(); ++i) {
      out.input_names.push_back(schema.arguments()[i].name());
    }
  } catch (const std::exception& e) {
    return Error(ErrorClass::kModel,
                 absl::StrCat("cannot freeze the model: ", FirstLine(e.what())));
  }
  for (const torch::jit::Node* n : out.graph->nodes()) {
    if (n->kind() != c10::prim::Constant && n->kind() != c10::prim::GetAttr) {
      ++out.kinds_before[n->kind().toQualString()];
    }
  }
  for (const TorchPass& pass :
       CanonicalizationPipeline(options, StaticInputTypes(out.input_names, options.inputs))) {
    if (pass.cleanup && out.changed_by.empty()) continue;
    try {
      absl::StatusOr<bool> changed = pass.run(out.graph);
      if (!changed.ok()) return changed.status();
      if (*changed) out.changed_by.emplace_back(pass.name);
    } catch (const std::exception& e) {
      return Error(ErrorClass::kModel, absl::StrCat("canonicalization pass ", pass.name,
                                                    " failed: ", FirstLine(e.what())));
    }
  }
  return out;
}

}  // namespace ts2coreml::core
