#include "core/torch/passes/decompose_fused.h"

#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/torch/passes/insert_op.h"
#include "torch/csrc/jit/ir/constants.h"

// Early returns on absl statuses (the core has no shared macro; local to this file).
#define T2C_CONCAT_INNER(a, b) a##b
#define T2C_CONCAT(a, b) T2C_CONCAT_INNER(a, b)
#define T2C_ASSIGN_OR_RETURN(lhs, expr)               \
  auto T2C_CONCAT(status_or_, __LINE__) = (expr);     \
  if (!T2C_CONCAT(status_or_, __LINE__).ok()) {       \
    return T2C_CONCAT(status_or_, __LINE__).status(); \
  }                                                   \
  lhs = *T2C_CONCAT(status_or_, __LINE__)
#define T2C_RETURN_IF_ERROR(expr) \
  if (absl::Status s_ = (expr); !s_.ok()) return s_

namespace ts2coreml::core {
namespace {

using torch::jit::Graph;
using torch::jit::NamedValue;
using torch::jit::Node;
using torch::jit::Value;

namespace aten = c10::aten;

/// An inserted aten op's single output (InsertOp).
Value* Op(Graph& g, c10::Symbol kind, std::vector<NamedValue> args) {
  return InsertOp(g, kind, std::move(args));
}

/// An int[] built from int values (constants or runtime sizes).
Value* IntList(Graph& g, const std::vector<Value*>& items) {
  return g.insertNode(g.createList(c10::IntType::get(), items))->output();
}

Value* Int(Graph& g, int64_t v) { return g.insertConstant(v); }

/// Reads the constant input `i` of `node` as a T (`type`: "int", "bool"); an error names the op
/// and the argument.
template <typename T>
absl::StatusOr<T> ConstArg(Node* node, size_t i, const char* name, const char* type) {
  auto v = torch::jit::constant_as<T>(node->input(i));
  if (!v) {
    return Error(ErrorClass::kModel, absl::StrCat(node->kind().toQualString(), ": ", name,
                                                  " must be a constant ", type));
  }
  return *v;
}

absl::StatusOr<int64_t> ConstInt(Node* node, size_t i, const char* name) {
  return ConstArg<int64_t>(node, i, name, "int");
}

absl::StatusOr<bool> ConstBool(Node* node, size_t i, const char* name) {
  return ConstArg<bool>(node, i, name, "bool");
}

bool IsNone(Value* v) { return v->type()->kind() == c10::TypeKind::NoneType; }

/// One attention call's arguments, as graph values and constants.
struct Attention {
  Value *query, *key, *value;
  int64_t embed = 0, heads = 0;
  Value *qkv_weight, *qkv_bias, *proj_weight, *proj_bias;
  Value* mask = nullptr;  ///< nullptr when None
  c10::optional<int64_t> mask_type;
  bool need_weights = false, average_weights = true;
};

/// [L, N, E] -> [N * heads, L, head_dim], as F.multi_head_attention_forward does it (N * heads
/// as -1: the converter folds sizes, not int arithmetic on them).
Value* SplitHeads(Graph& g, Value* x, int64_t head_dim) {
  Value* len = Op(g, aten::size, {x, int64_t{0}});
  Value* shaped = Op(g, aten::reshape, {x, IntList(g, {len, Int(g, -1), Int(g, head_dim)})});
  return Op(g, aten::transpose, {shaped, int64_t{0}, int64_t{1}});
}

/// The in-projection of [L, N, E] sequence-first inputs: one linear and a chunk for
/// self-attention, else the packed weight split in three.
std::vector<Value*> InProjection(Graph& g, const Attention& a, Value* q, Value* k, Value* v) {
  if (a.query == a.key && a.key == a.value) {
    Value* proj = Op(g, aten::linear, {q, a.qkv_weight, a.qkv_bias});
    Value* parts = Op(g, aten::chunk, {proj, int64_t{3}, int64_t{-1}});
    Node* unpack = g.insertNode(g.createListUnpack(parts, 3));
    return {unpack->output(0), unpack->output(1), unpack->output(2)};
  }
  Node* w = g.insertNode(g.createListUnpack(Op(g, aten::chunk, {a.qkv_weight, int64_t{3}}), 3));
  Node* b = g.insertNode(g.createListUnpack(Op(g, aten::chunk, {a.qkv_bias, int64_t{3}}), 3));
  Value* const in[3] = {q, k, v};
  std::vector<Value*> out;
  for (size_t i = 0; i < 3; ++i) {
    out.push_back(Op(g, aten::linear, {in[i], w->output(i), b->output(i)}));
  }
  return out;
}

/// softmax over the last axis of scores [N * heads, T, S]; with a key padding mask [N, S],
/// ATen's masked softmax: masked positions get probability 0 (a row with every position masked
/// is NaN, as in ATen).
Value* Softmax(Graph& g, const Attention& a, Value* scores, Value* batch, Value* target,
               Value* source) {
  if (a.mask == nullptr) return Op(g, aten::softmax, {scores, int64_t{-1}, c10::IValue()});
  // Key padding [N, S] -> [N, 1, 1, S].
  Value* mask = Op(g, aten::reshape, {a.mask, IntList(g, {batch, Int(g, 1), Int(g, 1), source})});
  Value* shape4 = IntList(g, {batch, Int(g, a.heads), target, source});
  Value* s4 = Op(g, aten::reshape, {scores, shape4});
  s4 = Op(g, aten::masked_fill, {s4, mask, -std::numeric_limits<double>::infinity()});
  Value* p4 = Op(g, aten::softmax, {s4, int64_t{-1}, c10::IValue()});
  return Op(g, aten::reshape, {p4, IntList(g, {Int(g, -1), target, source})});
}

/// Emits the attention on batch-first [N, T, E] inputs; returns the output [N, T, E] and the
/// probabilities [N * heads, T, S] (with the sizes needed to view them per head).
struct AttentionValues {
  Value *out, *probs, *batch, *target, *source;
};

AttentionValues EmitAttention(Graph& g, const Attention& a) {
  const int64_t head_dim = a.embed / a.heads;
  Value* q = Op(g, aten::transpose, {a.query, int64_t{1}, int64_t{0}});
  Value* k = a.key == a.query ? q : Op(g, aten::transpose, {a.key, int64_t{1}, int64_t{0}});
  Value* v = a.value == a.key ? k : Op(g, aten::transpose, {a.value, int64_t{1}, int64_t{0}});
  AttentionValues r;
  r.target = Op(g, aten::size, {q, int64_t{0}});
  r.batch = Op(g, aten::size, {q, int64_t{1}});
  r.source = Op(g, aten::size, {k, int64_t{0}});
  std::vector<Value*> qkv = InProjection(g, a, q, k, v);
  q = SplitHeads(g, qkv[0], head_dim);
  k = SplitHeads(g, qkv[1], head_dim);
  v = SplitHeads(g, qkv[2], head_dim);
  q = Op(g, aten::div, {q, std::sqrt(static_cast<double>(head_dim))});
  Value* kt = Op(g, aten::transpose, {k, int64_t{-2}, int64_t{-1}});
  Value* scores = Op(g, aten::bmm, {q, kt});
  r.probs = Softmax(g, a, scores, r.batch, r.target, r.source);
  Value* o = Op(g, aten::bmm, {r.probs, v});
  o = Op(g, aten::transpose, {o, int64_t{0}, int64_t{1}});
  o = Op(g, aten::reshape, {o, IntList(g, {Int(g, -1), Int(g, a.embed)})});
  o = Op(g, aten::linear, {o, a.proj_weight, a.proj_bias});
  o = Op(g, aten::reshape, {o, IntList(g, {r.target, r.batch, Int(g, a.embed)})});
  r.out = Op(g, aten::transpose, {o, int64_t{1}, int64_t{0}});
  return r;
}

/// Reads the mask and mask_type arguments (inputs `mask` and `mask_type` of `node`). ATen's CPU
/// kernels take a mask only as a key padding mask (mask_type 1); mask_type 0 (src_mask) fails
/// there ("src_mask not currently supported on CPU"), so no CPU trace holds one.
absl::Status ReadMask(Node* node, size_t mask, size_t mask_type, Attention& a) {
  if (IsNone(node->input(mask))) return absl::OkStatus();
  a.mask = node->input(mask);
  const std::string op = node->kind().toQualString();
  if (mask_type >= node->inputs().size() || IsNone(node->input(mask_type))) {
    return Error(
        ErrorClass::kModel,
        op +
            ": a mask without mask_type is not supported; pass mask_type=1 (a key padding mask [batch, source])");
  }
  absl::StatusOr<int64_t> t = ConstInt(node, mask_type, "mask_type");
  if (!t.ok()) return t.status();
  if (*t != 1) {
    return Error(
        ErrorClass::kModel,
        absl::StrCat(
            op, ": mask_type ", *t,
            " is not supported (PyTorch's CPU kernel takes none); only 1, a key padding mask [batch, source], is"));
  }
  a.mask_type = *t;
  return absl::OkStatus();
}

absl::Status CheckHeads(Node* node, const Attention& a) {
  if (a.heads > 0 && a.embed > 0 && a.embed % a.heads == 0) return absl::OkStatus();
  return Error(ErrorClass::kModel,
               absl::StrCat(node->kind().toQualString(), ": embed_dim ", a.embed,
                            " is not divisible into ", a.heads, " heads"));
}

/// The arguments both fused ops lay out alike from input `first` on: embed_dim, the number of
/// heads (named `heads_name` in the op's schema), qkv_weight, qkv_bias, proj_weight, proj_bias.
absl::Status ReadProjections(Node* node, size_t first, const char* heads_name, Attention& a) {
  T2C_ASSIGN_OR_RETURN(a.embed, ConstInt(node, first, "embed_dim"));
  T2C_ASSIGN_OR_RETURN(a.heads, ConstInt(node, first + 1, heads_name));
  T2C_RETURN_IF_ERROR(CheckHeads(node, a));
  a.qkv_weight = node->input(first + 2);
  a.qkv_bias = node->input(first + 3);
  a.proj_weight = node->input(first + 4);
  a.proj_bias = node->input(first + 5);
  return absl::OkStatus();
}

/// aten::_native_multi_head_attention(query, key, value, embed_dim, num_head, qkv_weight,
/// qkv_bias, proj_weight, proj_bias, mask, need_weights, average_attn_weights, mask_type).
absl::Status DecomposeMha(Graph& g, Node* node) {
  Attention a{node->input(0), node->input(1), node->input(2)};
  T2C_RETURN_IF_ERROR(ReadProjections(node, 3, "num_head", a));
  T2C_RETURN_IF_ERROR(ReadMask(node, 9, 12, a));
  T2C_ASSIGN_OR_RETURN(a.need_weights, ConstBool(node, 10, "need_weights"));
  T2C_ASSIGN_OR_RETURN(a.average_weights, ConstBool(node, 11, "average_attn_weights"));
  torch::jit::WithInsertPoint guard(node);
  if (!a.need_weights && node->output(1)->hasUses()) {
    // What ATen returns then: an empty tensor. A scripted module's early `return out, weights`
    // passes it on to callers that drop it (`x, _ = self.attn(...)`); one that reads it reads a
    // tensor without elements, which the converter refuses by name.
    node->output(1)->replaceAllUsesWith(g.insertConstant(at::empty({0})));
  }
  AttentionValues r = EmitAttention(g, a);
  node->output(0)->replaceAllUsesWith(r.out);
  if (node->output(1)->hasUses()) {
    Value* shape4 = IntList(g, {r.batch, Int(g, a.heads), r.target, r.source});
    Value* w = Op(g, aten::reshape, {r.probs, shape4});
    if (a.average_weights) {
      w = Op(g, aten::sum, {w, std::vector<int64_t>{1}, false});
      w = Op(g, aten::div, {w, a.heads});
    }
    node->output(1)->replaceAllUsesWith(w);
  }
  node->destroy();
  return absl::OkStatus();
}

/// layer_norm over the last dimension (embed) with the given weight and bias.
Value* Norm(Graph& g, Value* x, int64_t embed, Value* weight, Value* bias, double eps) {
  return Op(g, aten::layer_norm,
            {x, std::vector<int64_t>{embed}, weight, bias, eps, /*cudnn_enable=*/true});
}

/// aten::_transformer_encoder_layer_fwd(src, embed_dim, num_heads, qkv_weight, qkv_bias,
/// proj_weight, proj_bias, use_gelu, norm_first, eps, norm_weight_1, norm_bias_1,
/// norm_weight_2, norm_bias_2, ffn_weight_1, ffn_bias_1, ffn_weight_2, ffn_bias_2, mask,
/// mask_type), as TransformerEncoderLayer.forward's unfused branch.
absl::Status DecomposeEncoderLayer(Graph& g, Node* node) {
  Value* src = node->input(0);
  Attention a{src, src, src};
  T2C_RETURN_IF_ERROR(ReadProjections(node, 1, "num_heads", a));
  T2C_ASSIGN_OR_RETURN(bool use_gelu, ConstBool(node, 7, "use_gelu"));
  T2C_ASSIGN_OR_RETURN(bool norm_first, ConstBool(node, 8, "norm_first"));
  auto eps = torch::jit::constant_as<double>(node->input(9));
  if (!eps) {
    return Error(ErrorClass::kModel,
                 "aten::_transformer_encoder_layer_fwd: eps must be a constant float");
  }
  T2C_RETURN_IF_ERROR(ReadMask(node, 18, 19, a));
  torch::jit::WithInsertPoint guard(node);
  auto norm1 = [&](Value* x) {
    return Norm(g, x, a.embed, node->input(10), node->input(11), *eps);
  };
  auto norm2 = [&](Value* x) {
    return Norm(g, x, a.embed, node->input(12), node->input(13), *eps);
  };
  auto self_attention = [&](Value* x) {
    Attention sa = a;
    sa.query = sa.key = sa.value = x;
    return EmitAttention(g, sa).out;
  };
  auto feed_forward = [&](Value* x) {
    Value* h = Op(g, aten::linear, {x, node->input(14), node->input(15)});
    h = use_gelu ? Op(g, aten::gelu, {h}) : Op(g, aten::relu, {h});
    return Op(g, aten::linear, {h, node->input(16), node->input(17)});
  };
  Value* x = src;
  if (norm_first) {
    x = Op(g, aten::add, {x, self_attention(norm1(x))});
    x = Op(g, aten::add, {x, feed_forward(norm2(x))});
  } else {
    x = norm1(Op(g, aten::add, {x, self_attention(x)}));
    x = norm2(Op(g, aten::add, {x, feed_forward(x)}));
  }
  node->output()->replaceAllUsesWith(x);
  node->destroy();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<bool> DecomposeFusedTransformerOps(Graph& graph) {
  static const c10::Symbol kMha = c10::Symbol::fromQualString("aten::_native_multi_head_attention");
  static const c10::Symbol kEncoder =
      c10::Symbol::fromQualString("aten::_transformer_encoder_layer_fwd");
  std::vector<Node*> fused;
  std::function<void(torch::jit::Block*)> collect = [&](torch::jit::Block* block) {
    for (Node* n : block->nodes()) {
      if (n->kind() == kMha || n->kind() == kEncoder) fused.push_back(n);
      for (torch::jit::Block* b : n->blocks()) collect(b);
    }
  };
  collect(graph.block());
  for (Node* n : fused) {
    // The new nodes take the fused node's scope and source location (for reports and localize).
    Node* before = n->prev();
    const torch::jit::ScopePtr scope = n->scope();
    const torch::jit::SourceRange range = n->sourceRange();
    Node* after = n->next();
    absl::Status s = n->kind() == kMha ? DecomposeMha(graph, n) : DecomposeEncoderLayer(graph, n);
    if (!s.ok()) return s;
    for (Node* m = before->next(); m != after; m = m->next()) {
      m->setScope(scope);
      m->setSourceRange(range);
    }
  }
  return !fused.empty();
}

}  // namespace ts2coreml::core
