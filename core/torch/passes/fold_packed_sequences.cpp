#include "core/torch/passes/fold_packed_sequences.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/torch/torchscript_loader.h"
#include "torch/csrc/jit/ir/constants.h"

namespace ts2coreml::core {
namespace {

/// The schemas of the padded layers, registered without kernels (conversion only).
const std::vector<std::string>& PaddedLayerSchemas() {
  static const std::vector<std::string> schemas = [] {
    const std::string flags =
        "Tensor[] params, bool has_biases, int num_layers, float dropout, bool train, bool "
        "bidirectional, bool batch_first, float padding_value, int total_length, bool "
        "output_batch_first)";
    std::vector<std::string> s = {
        "ts2coreml::lstm_padded(Tensor input, Tensor lengths, Tensor[] "
        "hx, " +
        flags + " -> (Tensor, Tensor, Tensor)"};
    for (const char* op : {"gru", "rnn_tanh", "rnn_relu"}) {
      s.push_back(absl::StrCat("ts2coreml::", op,
                               "_padded(Tensor input, Tensor lengths, Tensor hx, ", flags,
                               " -> (Tensor, Tensor)"));
    }
    return s;
  }();
  return schemas;
}

/// One pack -> layer -> pad chain.
struct PackedChain {
  torch::jit::Node* pack = nullptr;
  torch::jit::Node* layer = nullptr;
  std::vector<torch::jit::Node*> pads;  ///< every reader of the layer's packed output
  bool batch_first = false;             ///< the packed input's layout
  bool output_batch_first = false;
  double padding_value = 0;
  int64_t total_length = -1;
  torch::jit::Value* total_value = nullptr;  ///< a total_length computed from shapes, if any
};

/// The padded op replacing a packed layer of kind `kind` ("aten::lstm"), or empty.
std::string PaddedKind(const std::string& kind) {
  for (const char* op : {"lstm", "gru", "rnn_tanh", "rnn_relu"}) {
    if (kind == absl::StrCat("aten::", op)) return absl::StrCat("ts2coreml::", op, "_padded");
  }
  return "";
}

/// Whether `v` is defined before `point` or can be by moving the shape arithmetic that computes
/// it (`x.shape[1]`: aten::size, aten::Int, ...) there; moves it when `move`.
bool HoistBefore(torch::jit::Value* v, torch::jit::Node* point, bool move) {
  torch::jit::Node* n = v->node();
  if (n->kind() == c10::prim::Param && n->owningGraph()->block() == n->owningBlock()) return true;
  if (n->owningBlock() != point->owningBlock()) return false;
  if (n->isBefore(point)) return true;
  static const std::set<std::string> kShapeOps = {
      "aten::size",        "aten::dim",      "aten::numel",
      "aten::Int",         "aten::len",      "aten::ScalarImplicit",
      "prim::NumToTensor", "prim::Constant", "aten::__getitem__"};
  if (kShapeOps.count(n->kind().toQualString()) == 0) return false;
  for (torch::jit::Value* in : n->inputs()) {
    if (!HoistBefore(in, point, move)) return false;
  }
  if (move) n->moveBefore(point);
  return true;
}

/// The total_length a pad node asks for: its constant, -1 for `aten::size(batch_sizes, 0)` (the
/// longest sequence), -2 for another int value (`*computed`, the shape arithmetic of
/// `total_length=x.shape[1]`), or nullopt when it is none of these.
c10::optional<int64_t> TotalLength(torch::jit::Node* pad, torch::jit::Value* batch_sizes,
                                   torch::jit::Value** computed) {
  torch::jit::Value* total = pad->input(4);
  if (auto iv = torch::jit::toIValue(total); iv && iv->isInt()) return iv->toInt();
  torch::jit::Node* size = total->node();
  if (std::string(size->kind().toQualString()) == "aten::size" && size->inputs().size() == 2 &&
      size->input(0) == batch_sizes) {
    auto dim = torch::jit::toIValue(size->input(1));
    if (!dim || !dim->isInt() || dim->toInt() != 0) return c10::nullopt;
    return -1;
  }
  if (!total->type()->isSubtypeOf(*c10::IntType::get())) return c10::nullopt;
  *computed = total;
  return -2;
}

/// Reads one pad node's constant arguments into `chain`; false when one is not constant or
/// differs from an earlier pad of the same output.
bool ReadPad(torch::jit::Node* pad, PackedChain* chain) {
  auto batch_first = torch::jit::toIValue(pad->input(2));
  auto value = torch::jit::toIValue(pad->input(3));
  torch::jit::Value* computed = nullptr;
  c10::optional<int64_t> total = TotalLength(pad, chain->layer->input(1), &computed);
  if (computed != nullptr && !HoistBefore(computed, chain->layer, /*move=*/false)) return false;
  if (!batch_first || !batch_first->isBool() || !value || !value->isDouble() || !total) {
    return false;
  }
  if (!chain->pads.empty() && (batch_first->toBool() != chain->output_batch_first ||
                               value->toDouble() != chain->padding_value ||
                               *total != chain->total_length || computed != chain->total_value)) {
    return false;
  }
  chain->output_batch_first = batch_first->toBool();
  chain->padding_value = value->toDouble();
  chain->total_length = *total;
  chain->total_value = computed;
  chain->pads.push_back(pad);
  return true;
}

/// The chain ending at the packed layer `layer`, when its data and batch sizes come from one
/// `_pack_padded_sequence` and only `_pad_packed_sequence` reads its packed output.
c10::optional<PackedChain> MatchChain(torch::jit::Node* layer) {
  const c10::FunctionSchema* schema = layer->maybeSchema();
  if (schema == nullptr || schema->overload_name() != "data" ||
      PaddedKind(layer->kind().toQualString()).empty()) {
    return c10::nullopt;
  }
  PackedChain chain;
  chain.layer = layer;
  chain.pack = layer->input(0)->node();
  if (std::string(chain.pack->kind().toQualString()) != "aten::_pack_padded_sequence" ||
      layer->input(0) != chain.pack->output(0) || layer->input(1) != chain.pack->output(1)) {
    return c10::nullopt;
  }
  auto batch_first = torch::jit::toIValue(chain.pack->input(2));
  if (!batch_first || !batch_first->isBool()) return c10::nullopt;
  chain.batch_first = chain.output_batch_first = batch_first->toBool();
  for (const torch::jit::Use& use : layer->output(0)->uses()) {
    if (std::string(use.user->kind().toQualString()) != "aten::_pad_packed_sequence" ||
        use.offset != 0 || use.user->input(1) != layer->input(1) || !ReadPad(use.user, &chain)) {
      return c10::nullopt;
    }
  }
  return chain;
}

/// Replaces the chain's layer and pads by one padded layer inserted before the layer.
void Rewrite(torch::jit::Graph& graph, const PackedChain& chain) {
  torch::jit::Node* layer = chain.layer;
  torch::jit::WithInsertPoint guard(layer);
  std::vector<torch::jit::Value*> inputs = {chain.pack->input(0), chain.pack->input(1)};
  for (size_t i = 2; i < layer->inputs().size(); ++i) inputs.push_back(layer->input(i));
  inputs.push_back(chain.pack->input(2));
  inputs.push_back(graph.insertConstant(chain.padding_value));
  if (chain.total_value != nullptr) {
    HoistBefore(chain.total_value, layer, /*move=*/true);
    inputs.push_back(chain.total_value);
  } else {
    inputs.push_back(graph.insertConstant(chain.total_length));
  }
  inputs.push_back(graph.insertConstant(chain.output_batch_first));
  torch::jit::Node* padded =
      graph.create(c10::Symbol::fromQualString(PaddedKind(layer->kind().toQualString())), inputs,
                   layer->outputs().size());
  graph.insertNode(padded);
  padded->copyMetadata(layer);
  for (size_t k = 0; k < layer->outputs().size(); ++k) {
    padded->output(k)->setType(c10::TensorType::get());
    if (k > 0) layer->output(k)->replaceAllUsesWith(padded->output(k));
  }
  for (torch::jit::Node* pad : chain.pads) {
    pad->output(0)->replaceAllUsesWith(padded->output(0));
    pad->output(1)->replaceAllUsesWith(chain.pack->input(1));
    pad->destroy();
  }
  layer->destroy();
}

/// The value `v` is an alias of through `aten::to` (a dtype or device change keeps the values)
/// and `prim::unchecked_cast` (scripted code's refinement of an Optional).
torch::jit::Value* ThroughTo(torch::jit::Value* v) {
  for (;;) {
    const std::string kind = v->node()->kind().toQualString();
    if (kind != "aten::to" && kind != "prim::unchecked_cast") return v;
    v = v->node()->input(0);
  }
}

/// Whether `v` is a constant int equal to `want`.
bool IsInt(torch::jit::Value* v, int64_t want) {
  auto iv = torch::jit::toIValue(v);
  return iv && iv->isInt() && iv->toInt() == want;
}

/// A constant 1-D integer tensor's values, if `v` is one.
c10::optional<std::vector<int64_t>> ConstIndices(torch::jit::Value* v) {
  auto iv = torch::jit::toIValue(v);
  if (!iv || !iv->isTensor()) return c10::nullopt;
  const at::Tensor t = iv->toTensor();
  if (t.dim() != 1 || !at::isIntegralType(t.scalar_type(), /*includeBool=*/false)) {
    return c10::nullopt;
  }
  const at::Tensor wide = t.to(at::kLong).contiguous();
  return std::vector<int64_t>(wide.data_ptr<int64_t>(), wide.data_ptr<int64_t>() + wide.numel());
}

/// Whether `src` is 0, 1, ..., numel(idx) - 1: `arange(0, numel(idx))`, `arange(0, size(idx,
/// 0))`, or a constant of those values when idx is a constant.
bool IsIndexRange(torch::jit::Value* src, torch::jit::Value* idx) {
  if (auto values = ConstIndices(src)) {
    auto indices = ConstIndices(idx);
    if (!indices || indices->size() != values->size()) return false;
    for (size_t i = 0; i < values->size(); ++i) {
      if ((*values)[i] != static_cast<int64_t>(i)) return false;
    }
    return true;
  }
  torch::jit::Node* range = src->node();
  const c10::FunctionSchema* schema = range->maybeSchema();
  if (schema == nullptr || std::string(range->kind().toQualString()) != "aten::arange") {
    return false;
  }
  // arange(end, ...) or arange.start(0, end, ...).
  const bool from_zero = schema->overload_name().empty();
  if (!from_zero && (schema->overload_name() != "start" || !IsInt(range->input(0), 0))) {
    return false;
  }
  torch::jit::Node* end = range->input(from_zero ? 0 : 1)->node();
  const std::string kind = end->kind().toQualString();
  if (end->inputs().empty() || end->input(0) != idx) return false;
  return kind == "aten::numel" ||
         (kind == "aten::size" && end->inputs().size() == 2 && IsInt(end->input(1), 0));
}

/// Whether `idx` is a permutation of 0..n-1: the indices of an aten::sort (scatter makes them
/// 1-D), or a constant holding each of 0..n-1 once.
bool IsPermutation(torch::jit::Value* idx) {
  if (auto values = ConstIndices(idx)) {
    std::vector<bool> seen(values->size(), false);
    for (int64_t v : *values) {
      if (v < 0 || v >= static_cast<int64_t>(seen.size()) || seen[static_cast<size_t>(v)]) {
        return false;
      }
      seen[static_cast<size_t>(v)] = true;
    }
    return true;
  }
  torch::jit::Value* sorted = ThroughTo(idx);
  return std::string(sorted->node()->kind().toQualString()) == "aten::sort" &&
         sorted->offset() == 1;
}

/// Whether `n` is `pack_padded_sequence`'s inverse permutation of its sort indices,
/// `fresh.scatter_(0, idx, arange(numel(idx)))` with `fresh` a tensor made like idx and written
/// first here, and idx a permutation.
bool IsInversePermutation(torch::jit::Node* n) {
  const c10::FunctionSchema* schema = n->maybeSchema();
  if (schema == nullptr || std::string(n->kind().toQualString()) != "aten::scatter_" ||
      schema->overload_name() != "src" || !IsInt(n->input(1), 0)) {
    return false;
  }
  torch::jit::Value* target = n->input(0);
  torch::jit::Value* idx = n->input(2);
  const std::string made_by = target->node()->kind().toQualString();
  if ((made_by != "aten::empty_like" && made_by != "aten::zeros_like") ||
      target->node()->input(0) != idx || !IsIndexRange(n->input(3), idx) || !IsPermutation(idx)) {
    return false;
  }
  for (const torch::jit::Use& use : target->uses()) {
    if (use.user != n && !use.user->isAfter(n)) return false;
  }
  return true;
}

/// Replaces an inverse permutation by `aten::argsort(idx, 0, False)`.
void RewriteInversePermutation(torch::jit::Graph& graph, torch::jit::Node* n) {
  torch::jit::WithInsertPoint guard(n);
  torch::jit::Value* inverse =
      graph.insert(c10::Symbol::fromQualString("aten::argsort"), {n->input(2), int64_t{0}, false});
  inverse->node()->setSourceRange(n->sourceRange());
  n->output()->replaceAllUsesWith(inverse);
  n->input(0)->replaceAllUsesAfterNodeWith(inverse->node(), inverse);
  n->destroy();
}

/// Redirects what scripted code reads of the packed data besides the layer (its rank, feature
/// size, dtype and device: those of the padded input) and of the batch sizes (their device: the
/// CPU, where ATen makes them; `int(batch_sizes[0])`: the batch size, every length being >= 1).
void RedirectPackReaders(torch::jit::Graph& graph, const PackedChain& chain) {
  torch::jit::Value* x = chain.pack->input(0);
  const std::vector<torch::jit::Use> data_uses = chain.pack->output(0)->uses();
  for (const torch::jit::Use& use : data_uses) {
    torch::jit::Node* user = use.user;
    const std::string kind = user->kind().toQualString();
    torch::jit::WithInsertPoint guard(user);
    if (kind == "prim::dtype" || kind == "prim::device") {
      user->replaceInput(use.offset, x);
    } else if (kind == "aten::dim" && user->inputs().size() == 1) {
      user->output()->replaceAllUsesWith(graph.insertConstant(int64_t{2}));
    } else if (kind == "aten::size" && user->inputs().size() == 2 &&
               (IsInt(user->input(1), -1) || IsInt(user->input(1), 1))) {
      user->replaceInput(0, x);
      user->replaceInput(1, graph.insertConstant(int64_t{-1}));
    }
  }
  const std::vector<torch::jit::Use> size_uses = chain.pack->output(1)->uses();
  for (const torch::jit::Use& use : size_uses) {
    torch::jit::Node* user = use.user;
    const std::string kind = user->kind().toQualString();
    if (kind == "prim::device") {
      torch::jit::WithInsertPoint guard(user);
      user->output()->replaceAllUsesWith(graph.insertConstant(c10::Device(c10::kCPU)));
      continue;
    }
    if (kind != "aten::select" || !IsInt(user->input(1), 0) || !IsInt(user->input(2), 0)) continue;
    for (const torch::jit::Use& read : user->output()->uses()) {
      if (std::string(read.user->kind().toQualString()) != "aten::Int") continue;
      torch::jit::WithInsertPoint guard(read.user);
      torch::jit::Value* batch =
          graph.insert(c10::aten::size, {x, int64_t{chain.batch_first ? 0 : 1}});
      read.user->output()->replaceAllUsesWith(batch);
    }
  }
}

/// Rewrites the chains of `block` and its nested blocks; returns how many.
int RewriteBlock(torch::jit::Graph& graph, torch::jit::Block* block) {
  int rewritten = 0;
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    torch::jit::Node* n = *it++;
    for (torch::jit::Block* b : n->blocks()) rewritten += RewriteBlock(graph, b);
    if (IsInversePermutation(n)) {
      RewriteInversePermutation(graph, n);
      ++rewritten;
      continue;
    }
    c10::optional<PackedChain> chain = MatchChain(n);
    if (!chain) continue;
    // The pads follow the layer: step past them before they are destroyed.
    while (it != block->nodes().end() &&
           std::find(chain->pads.begin(), chain->pads.end(), *it) != chain->pads.end()) {
      ++it;
    }
    Rewrite(graph, *chain);
    RedirectPackReaders(graph, *chain);
    ++rewritten;
  }
  return rewritten;
}

/// Whether `block` or a block nested in it packs a sequence.
bool HasPack(torch::jit::Block* block) {
  for (torch::jit::Node* n : block->nodes()) {
    if (std::string(n->kind().toQualString()) == "aten::_pack_padded_sequence") return true;
    for (torch::jit::Block* b : n->blocks()) {
      if (HasPack(b)) return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<bool> FoldPackedSequences(torch::jit::Graph& graph) {
  if (HasPack(graph.block())) {
    if (absl::Status s = RegisterCustomSchemas(PaddedLayerSchemas()); !s.ok()) {
      return Error(ErrorClass::kInternal,
                   absl::StrCat("registering the padded recurrent layers: ", s.message()));
    }
  }
  return RewriteBlock(graph, graph.block()) > 0;
}

}  // namespace ts2coreml::core
