#include "core/torch/control_flow.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/torch/passes/eliminate_dead_code.h"
#include "core/torch/passes/hoist_raising_branches.h"
#include "core/torch/passes/split_tuple_results.h"
#include "torch/csrc/jit/ir/constants.h"
#include "torch/csrc/jit/passes/constant_propagation.h"
#include "torch/csrc/jit/passes/dead_code_elimination.h"
#include "torch/csrc/jit/passes/remove_mutation.h"
#include "torch/csrc/jit/passes/shape_analysis.h"

namespace ts2coreml::core {
namespace {

/// Upper bound on fold rounds; each round that changes something removes a branch or a loop.
constexpr int kMaxRounds = 64;

const std::unordered_set<std::string>& ScriptedQueryKinds() {
  static const std::unordered_set<std::string> kinds = {
      "prim::dtype",  "prim::device",           "aten::dim",
      "aten::__is__", "aten::__isnot__",        "prim::unchecked_cast",
      "aten::warn",   "aten::format",           "prim::RaiseException",
      "aten::append", "aten::is_floating_point"};
  return kinds;
}

/// "file:line" of a node, or "" when the node has no source.
std::string SourceLine(const torch::jit::Node* n) {
  const torch::jit::SourceRange& range = n->sourceRange();
  std::optional<torch::jit::SourceRange> original;
  if (auto o = range.findSourceRangeThatGenerated()) original = *o;
  auto flc = (original ? *original : range).file_line_col();
  if (!flc) return "";
  return absl::StrCat(std::get<0>(*flc), ":", std::get<1>(*flc));
}

std::string Where(const torch::jit::Node* n) {
  const std::string src = SourceLine(n);
  return src.empty() ? std::string(n->kind().toQualString())
                     : absl::StrCat(n->kind().toQualString(), " at ", src);
}

/// Calls `fn` on every node of `block` and of the blocks nested in it, inner blocks first.
void ForEachNodePostOrder(torch::jit::Block* block,
                          const std::function<void(torch::jit::Node*)>& fn) {
  std::vector<torch::jit::Node*> nodes(block->nodes().begin(), block->nodes().end());
  for (torch::jit::Node* n : nodes) {
    for (torch::jit::Block* b : n->blocks()) ForEachNodePostOrder(b, fn);
    fn(n);
  }
}

void SetInputTypes(torch::jit::Graph& graph,
                   const std::vector<std::optional<StaticInputType>>& inputs) {
  for (size_t i = 0; i < inputs.size() && i + 1 < graph.inputs().size(); ++i) {
    torch::jit::Value* in = graph.inputs()[i + 1];
    if (!inputs[i] || in->type()->kind() != c10::TypeKind::TensorType) continue;
    in->setType(c10::TensorType::createContiguous(inputs[i]->dtype, at::kCPU, inputs[i]->shape));
  }
}

/// Shapes through the graph (LibTorch's shape analysis); best effort: a failure leaves the
/// types it could not refine as they were.
void PropagateShapes(const std::shared_ptr<torch::jit::Graph>& graph) {
  try {
    torch::jit::PropagateInputShapes(graph);
  } catch (const std::exception&) {
  }
}

/// Whether some user of `v` may write into it (a list's append, _set_item, pop...).
bool MayBeWritten(const torch::jit::Value* v) {
  for (const torch::jit::Use& use : v->uses()) {
    const c10::FunctionSchema* schema = use.user->maybeSchema();
    if (schema == nullptr || use.offset >= schema->arguments().size()) return true;
    const c10::AliasInfo* alias = schema->arguments()[use.offset].alias_info();
    if (alias != nullptr && alias->isWrite()) return true;
  }
  return false;
}

/// len(list) and list[i] of a constant list nothing writes into. LibTorch's constant propagation
/// for immutable types leaves them: lists are mutable in TorchScript.
std::optional<c10::IValue> ListAnswer(torch::jit::Node* n, const std::string& kind) {
  if ((kind != "aten::len" && kind != "aten::__getitem__") || n->inputs().empty()) {
    return std::nullopt;
  }
  auto list = torch::jit::toIValue(n->input(0));
  if (!list || !list->isList() || MayBeWritten(n->input(0))) return std::nullopt;
  const c10::List<c10::IValue> elements = list->toList();
  const int64_t size = static_cast<int64_t>(elements.size());
  if (kind == "aten::len") return c10::IValue(size);
  auto index = torch::jit::toIValue(n->input(1));
  if (!index || !index->isInt()) return std::nullopt;
  int64_t i = index->toInt();
  if (i < 0) i += size;
  if (i < 0 || i >= size) return std::nullopt;  // raises at run time; left for the error
  return elements.get(static_cast<size_t>(i));
}

/// The constant a type query `n` has given its inputs' static types, if there is one.
std::optional<c10::IValue> StaticAnswer(torch::jit::Node* n) {
  const std::string kind = n->kind().toQualString();
  if (std::optional<c10::IValue> answer = ListAnswer(n, kind)) return answer;
  if (kind == "aten::__is__" || kind == "aten::__isnot__") {
    const bool none0 = n->input(0)->type()->kind() == c10::TypeKind::NoneType;
    const bool none1 = n->input(1)->type()->kind() == c10::TypeKind::NoneType;
    auto may_be_none = [](torch::jit::Value* v) {
      const c10::TypeKind k = v->type()->kind();
      return k == c10::TypeKind::NoneType || k == c10::TypeKind::OptionalType ||
             k == c10::TypeKind::AnyType;
    };
    std::optional<bool> is;
    if (none0 && none1) is = true;
    if ((none0 && !may_be_none(n->input(1))) || (none1 && !may_be_none(n->input(0)))) is = false;
    if (!is) return std::nullopt;
    return c10::IValue(kind == "aten::__is__" ? *is : !*is);
  }
  auto tensor = n->inputs().empty() ? nullptr : n->input(0)->type()->cast<c10::TensorType>();
  if (!tensor) return std::nullopt;
  if (kind == "prim::dtype" && tensor->scalarType()) {
    return c10::IValue(static_cast<int64_t>(*tensor->scalarType()));
  }
  if (kind == "aten::is_floating_point" && tensor->scalarType()) {
    return c10::IValue(c10::isFloatingType(*tensor->scalarType()));
  }
  if (kind == "prim::device" && tensor->device()) return c10::IValue(*tensor->device());
  if (kind == "aten::dim" && tensor->dim())
    return c10::IValue(static_cast<int64_t>(*tensor->dim()));
  if (kind != "aten::size") return std::nullopt;
  auto sizes = tensor->sizes().concrete_sizes();
  if (!sizes) return std::nullopt;
  if (n->inputs().size() == 1) return c10::IValue(*sizes);
  auto dim = torch::jit::toIValue(n->input(1));
  if (!dim || !dim->isInt()) return std::nullopt;
  int64_t d = dim->toInt();
  const int64_t rank = static_cast<int64_t>(sizes->size());
  if (d < 0) d += rank;
  if (d < 0 || d >= rank) return std::nullopt;
  return c10::IValue((*sizes)[static_cast<size_t>(d)]);
}

/// Folds the type queries static types answer, drops aten::warn and prim::unchecked_cast.
bool FoldQueries(torch::jit::Graph& graph) {
  bool changed = false;
  ForEachNodePostOrder(graph.block(), [&](torch::jit::Node* n) {
    const std::string kind = n->kind().toQualString();
    if (kind == "aten::warn") {
      n->destroy();
      changed = true;
      return;
    }
    if (kind == "prim::unchecked_cast") {
      n->output()->replaceAllUsesWith(n->input());
      n->destroy();
      changed = true;
      return;
    }
    if (n->outputs().size() != 1) return;
    std::optional<c10::IValue> answer = StaticAnswer(n);
    if (!answer) return;
    torch::jit::WithInsertPoint guard(n);
    torch::jit::Value* c = graph.insertConstant(*answer);
    n->output()->replaceAllUsesWith(c);
    n->destroy();
    changed = true;
  });
  return changed;
}

/// The constant trip count of a `for` loop (constant initial and body conditions, both true).
std::optional<int64_t> StaticTripCount(torch::jit::Node* loop) {
  auto trips = torch::jit::toIValue(loop->input(0));
  auto start = torch::jit::toIValue(loop->input(1));
  auto again = torch::jit::toIValue(loop->blocks()[0]->outputs()[0]);
  if (!trips || !trips->isInt() || !start || !start->isBool() || !again || !again->isBool()) {
    return std::nullopt;
  }
  if (!start->toBool()) return 0;
  if (!again->toBool()) return std::min<int64_t>(trips->toInt(), 1);
  return std::max<int64_t>(trips->toInt(), 0);
}

/// Replaces `loop` by `trips` copies of its body, the index a constant in each.
void Unroll(torch::jit::Graph& graph, torch::jit::Node* loop, int64_t trips) {
  torch::jit::Block* body = loop->blocks()[0];
  std::vector<torch::jit::Value*> carried(loop->inputs().begin() + 2, loop->inputs().end());
  torch::jit::WithInsertPoint guard(loop);
  for (int64_t t = 0; t < trips; ++t) {
    std::unordered_map<torch::jit::Value*, torch::jit::Value*> map;
    map[body->inputs()[0]] = graph.insertConstant(t);
    for (size_t k = 0; k < carried.size(); ++k) map[body->inputs()[k + 1]] = carried[k];
    auto lookup = [&](torch::jit::Value* v) {
      auto it = map.find(v);
      return it == map.end() ? v : it->second;
    };
    for (torch::jit::Node* n : body->nodes()) {
      torch::jit::Node* copy = graph.insertNode(graph.createClone(n, lookup));
      for (size_t k = 0; k < n->outputs().size(); ++k) map[n->output(k)] = copy->output(k);
    }
    for (size_t k = 0; k < carried.size(); ++k) carried[k] = lookup(body->outputs()[k + 1]);
  }
  for (size_t k = 0; k < carried.size(); ++k) loop->output(k)->replaceAllUsesWith(carried[k]);
  loop->destroy();
}

/// How many iterations PeelOnce took off a loop.
c10::Symbol PeeledAttr() { return c10::Symbol::attr("t2c_peeled"); }

int64_t Peeled(torch::jit::Node* loop) {
  return loop->hasAttribute(PeeledAttr()) ? loop->i(PeeledAttr()) : 0;
}

/// Whether `loop` starts (its initial condition is constant true) but its exit is decided in the
/// body: a `while` loop, or a `for` loop with a `break`.
bool StartsWithUnknownExit(torch::jit::Node* loop) {
  auto start = torch::jit::toIValue(loop->input(1));
  auto trips = torch::jit::toIValue(loop->input(0));
  return start && start->isBool() && start->toBool() && trips && trips->isInt() &&
         trips->toInt() > 0 && !StaticTripCount(loop);
}

/// Moves the first iteration of `loop` in front of it: the body once with index 0, then the loop
/// from index 1 with one trip fewer, its initial condition and values those of the first trip.
/// When the body's exit condition depends only on values known at conversion time, constant
/// propagation folds the new initial condition and the next round peels again or drops the loop.
void PeelOnce(torch::jit::Graph& graph, torch::jit::Node* loop) {
  torch::jit::Block* body = loop->blocks()[0];
  std::unordered_map<torch::jit::Value*, torch::jit::Value*> map;
  auto lookup = [&](torch::jit::Value* v) {
    auto it = map.find(v);
    return it == map.end() ? v : it->second;
  };
  torch::jit::WithInsertPoint guard(loop);
  map[body->inputs()[0]] = graph.insertConstant(int64_t{0});
  for (size_t k = 2; k < loop->inputs().size(); ++k) map[body->inputs()[k - 1]] = loop->input(k);
  for (torch::jit::Node* n : body->nodes()) {
    torch::jit::Node* copy = graph.insertNode(graph.createClone(n, lookup));
    for (size_t k = 0; k < n->outputs().size(); ++k) map[n->output(k)] = copy->output(k);
  }
  torch::jit::Value* one = graph.insertConstant(int64_t{1});
  loop->replaceInput(0, graph.insert(c10::aten::sub, {loop->input(0), one}));
  for (size_t k = 1; k < loop->inputs().size(); ++k) {
    loop->replaceInput(k, lookup(body->outputs()[k - 1]));
  }
  // The remaining iterations see index + 1.
  torch::jit::Value* index = body->inputs()[0];
  torch::jit::WithInsertPoint in_body(
      body->nodes().begin() == body->nodes().end() ? body->return_node() : body->nodes().front());
  torch::jit::Value* next = graph.insert(c10::aten::add, {index, graph.insertConstant(int64_t{1})});
  index->replaceAllUsesAfterNodeWith(next->node(), next);
  loop->i_(PeeledAttr(), Peeled(loop) + 1);
}

/// A list a loop appends one tensor to per trip, read after the loop only by aten::stack and
/// aten::cat: `outs = []; for t in range(T): outs.append(y)` then `torch.stack(outs)`.
struct AppendedList {
  torch::jit::Node* list = nullptr;  ///< prim::ListConstruct() of no elements
  torch::jit::Node* loop = nullptr;
  torch::jit::Node* append = nullptr;      ///< aten::append, directly in the loop's body
  std::vector<torch::jit::Node*> readers;  ///< aten::stack / aten::cat after the loop
  int64_t trips = 0;
  int64_t rank = -1;  ///< of the appended tensors, -1 when LibTorch's types do not tell
};

/// The list's name in the source of `use` (`outs` of `outs.append(y)`), or "": the graph often
/// loses a list's name.
std::string ListNameInSource(const torch::jit::Node* use) {
  const torch::jit::SourceRange& range = use->sourceRange();
  const auto original = range.findSourceRangeThatGenerated();
  const std::string text((original ? *original : range).text().str());
  const size_t dot = text.rfind(".append");
  if (dot == std::string::npos || dot == 0 || dot + 7 != text.size()) return "";
  for (size_t k = 0; k < dot; ++k) {
    if (!std::isalnum(static_cast<unsigned char>(text[k])) && text[k] != '_' && text[k] != '.') {
      return "";
    }
  }
  return text.substr(0, dot);
}

/// "the list 'outs' appended by aten::append at file:line".
std::string ListText(const AppendedList& a, const torch::jit::Node* use) {
  const torch::jit::Value* v = a.list->output();
  std::string name = v->hasDebugName() ? v->debugName() : ListNameInSource(use);
  return absl::StrCat("the list", name.empty() ? "" : absl::StrCat(" '", name, "'"),
                      " appended by ", Where(use));
}

/// The node of `home` that holds `n` (n itself, or the control flow it is nested in).
torch::jit::Node* AncestorIn(torch::jit::Node* n, const torch::jit::Block* home) {
  while (n != nullptr && n->owningBlock() != home) n = n->owningBlock()->owningNode();
  return n;
}

/// Fills `a` for the empty list `a.list` when a loop appends to it. Returns why the list cannot
/// become a loop-carried tensor ("" when it can, or when no loop appends to it: `a.loop` null).
std::string MatchAppendedList(AppendedList& a) {
  const torch::jit::Block* home = a.list->owningBlock();
  std::vector<torch::jit::Node*> outside;
  torch::jit::Node* other = nullptr;  // a use inside control flow other than the one append
  for (const torch::jit::Use& use : a.list->output()->uses()) {
    torch::jit::Node* u = use.user;
    torch::jit::Node* holder = AncestorIn(u, home);
    if (holder == u) {
      outside.push_back(u);
      continue;
    }
    const bool append = u->kind() == c10::aten::append && holder->kind() == c10::prim::Loop &&
                        u->owningBlock() == holder->blocks()[0] && !u->output()->hasUses();
    if (append && a.append == nullptr) {
      a.loop = holder;
      a.append = u;
    } else if (other == nullptr) {
      other = u;
      if (a.loop == nullptr) a.loop = holder;
    }
  }
  if (other != nullptr) {
    return absl::StrCat(
        ListText(a, a.append != nullptr ? a.append : other), ": ", Where(other),
        " uses it inside a branch or loop; a list converts there only when a for loop with a static range appends to it once per trip, outside any branch (its length is then known)");
  }
  if (a.loop == nullptr) return "";
  const std::optional<int64_t> trips = StaticTripCount(a.loop);
  if (!trips) {
    return absl::StrCat(
        ListText(a, a.append),
        ": its length depends on run-time tensor values (the loop's trip count is not known at conversion time, or it may break early), and Core ML carries only tensors of static shapes through a while_loop; give the loop a static range, or return the tensors without collecting them in a list");
  }
  for (torch::jit::Node* u : outside) {
    const bool reader = (u->kind() == c10::aten::stack || u->kind() == c10::aten::cat) &&
                        u->inputs().size() == 2 && u->input(0) == a.list->output() &&
                        u->isAfter(a.loop) && torch::jit::toIValue(u->input(1));
    if (!reader) {
      return absl::StrCat(
          ListText(a, a.append), ": ", Where(u),
          " reads it; after the loop only torch.stack and torch.cat of the whole list convert");
    }
    a.readers.push_back(u);
  }
  const auto type = a.append->input(1)->type()->cast<c10::TensorType>();
  a.rank = type && type->dim() ? static_cast<int64_t>(*type->dim()) : -1;
  for (torch::jit::Node* r : a.readers) {
    if (a.rank < 0 && torch::jit::toIValue(r->input(1))->toInt() < 0) {
      return absl::StrCat(ListText(a, a.append), ": ", Where(r),
                          " reads it along a negative dimension, and the rank of the appended '",
                          a.append->input(1)->debugName(),
                          "' is not known here; give the dimension counted from the front");
    }
  }
  if (*trips < 1) return absl::StrCat(ListText(a, a.append), ": the loop never runs");
  a.trips = *trips;
  return "";
}

/// Every empty list some loop appends to, each with why it cannot be carried ("" when it can).
std::vector<std::pair<AppendedList, std::string>> AppendedLists(torch::jit::Block* block) {
  std::vector<std::pair<AppendedList, std::string>> found;
  ForEachNodePostOrder(block, [&](torch::jit::Node* n) {
    if (n->kind() != c10::prim::ListConstruct || !n->inputs().empty() ||
        n->output()->type()->cast<c10::ListType>() == nullptr ||
        n->output()->type()->cast<c10::ListType>()->getElementType()->kind() !=
            c10::TypeKind::TensorType) {
      return;
    }
    AppendedList a;
    a.list = n;
    std::string why = MatchAppendedList(a);
    if (a.loop != nullptr || !why.empty()) found.emplace_back(std::move(a), std::move(why));
  });
  return found;
}

/// The list's contents after the loop, `buffer` ([T, *y.shape]), as reader `r` wants them:
/// stack(list, d) moves dimension 0 to d; cat(list, d) then merges d and d + 1.
torch::jit::Value* ReadBuffer(torch::jit::Graph& graph, torch::jit::Node* r,
                              torch::jit::Value* buffer, int64_t rank) {
  const bool stack = r->kind() == c10::aten::stack;
  int64_t d = torch::jit::toIValue(r->input(1))->toInt();
  if (d < 0) d += stack ? rank + 1 : rank;
  torch::jit::WithInsertPoint guard(r);
  torch::jit::Value* moved = buffer;
  if (d != 0) {
    moved = graph.insert(c10::aten::movedim,
                         {buffer, graph.insertConstant(int64_t{0}), graph.insertConstant(d)});
  }
  if (stack) return moved;
  return graph.insert(c10::aten::flatten,
                      {moved, graph.insertConstant(d), graph.insertConstant(d + 1)});
}

/// Carries appended list `a` through its loop as one tensor of [T, *y.shape], the body writing
/// y at the trip index (aten::select_scatter), the readers reading it. The buffer enters the loop
/// as a placeholder (prim::Uninitialized) that FillFirstRow replaces once the first trip is
/// peeled. Returns the index of the loop input that carries it.
size_t CarryAsTensor(torch::jit::Graph& graph, const AppendedList& a) {
  torch::jit::Block* body = a.loop->blocks()[0];
  {
    torch::jit::WithInsertPoint guard(a.loop);
    a.loop->addInput(graph.insertNode(graph.createUninitialized(c10::TensorType::get()))->output());
  }
  torch::jit::Value* carried = body->addInput()->setType(c10::TensorType::get());
  {
    torch::jit::WithInsertPoint guard(a.append);
    body->registerOutput(graph.insert(
        c10::aten::select_scatter,
        {carried, a.append->input(1), graph.insertConstant(int64_t{0}), body->inputs()[0]}));
  }
  torch::jit::Value* out = a.loop->addOutput()->setType(c10::TensorType::get());
  for (torch::jit::Node* r : a.readers) {
    r->output()->replaceAllUsesWith(ReadBuffer(graph, r, out, a.rank));
    r->destroy();
  }
  a.append->destroy();
  a.list->destroy();
  return a.loop->inputs().size() - 1;
}

/// After the first trip of `a.loop` is peeled, its write into the placeholder (loop input `k`)
/// becomes that trip's y repeated T times: trips 1..T-1 overwrite their rows.
void FillFirstRow(torch::jit::Graph& graph, const AppendedList& a, size_t k) {
  torch::jit::Node* first = a.loop->input(k)->node();
  torch::jit::Node* placeholder = first->input(0)->node();
  torch::jit::WithInsertPoint guard(first);
  torch::jit::Value* row =
      graph.insert(c10::aten::unsqueeze, {first->input(1), graph.insertConstant(int64_t{0})});
  first->output()->replaceAllUsesWith(
      graph.insert(c10::aten::repeat_interleave,
                   {row, graph.insertConstant(a.trips), graph.insertConstant(int64_t{0})}));
  first->destroy();
  placeholder->destroy();
}

/// Carries every list a static loop appends to as a tensor (AppendedList), then peels the first
/// trip of each such loop once: the converter knows y's shape only after its own analysis, so
/// the buffer starts from the first trip's y. Leaves the other lists.
bool CarryAppendedLists(torch::jit::Graph& graph) {
  std::vector<torch::jit::Node*> loops;
  std::vector<std::pair<AppendedList, size_t>> carried;
  for (auto& [list, why] : AppendedLists(graph.block())) {
    if (!why.empty()) continue;
    if (std::find(loops.begin(), loops.end(), list.loop) == loops.end()) {
      loops.push_back(list.loop);
    }
    const size_t k = CarryAsTensor(graph, list);
    carried.emplace_back(list, k);
  }
  for (torch::jit::Node* loop : loops) PeelOnce(graph, loop);
  for (const auto& [list, k] : carried) FillFirstRow(graph, list, k);
  return !carried.empty();
}

/// A list of fixed length whose elements a loop reads and replaces by constant indices:
/// `hs = [h0, h1]` then `hs[k] = f(hs[k])` (aten::__getitem__ / aten::_set_item) in the body.
struct IndexedList {
  torch::jit::Node* list = nullptr;  ///< prim::ListConstruct(e0, ..., en-1)
  torch::jit::Node* loop = nullptr;
  std::vector<torch::jit::Node*> uses;  ///< the reads and writes, directly in the loop's body
};

/// Element index `k` of `n` (a __getitem__ / _set_item) as a position in a list of `size`, or
/// nullopt when it is not a constant in range.
std::optional<int64_t> ConstantElement(const torch::jit::Node* n, int64_t size) {
  const auto k = torch::jit::toIValue(n->input(1));
  if (!k || !k->isInt()) return std::nullopt;
  const int64_t i = k->toInt() < 0 ? k->toInt() + size : k->toInt();
  if (i < 0 || i >= size) return std::nullopt;
  return i;
}

/// Fills `l` for list `l.list` when a loop writes into it by index. Returns why it cannot carry
/// its elements ("" when it can, or when no loop writes into it: `l.loop` null).
std::string MatchIndexedList(IndexedList& l) {
  const torch::jit::Block* home = l.list->owningBlock();
  const int64_t size = static_cast<int64_t>(l.list->inputs().size());
  torch::jit::Node* set_item = nullptr;
  for (const torch::jit::Use& use : l.list->output()->uses()) {
    torch::jit::Node* holder = AncestorIn(use.user, home);
    if (holder != use.user && holder->kind() == c10::prim::Loop) {
      if (use.user->kind() == c10::aten::_set_item && set_item == nullptr) set_item = use.user;
    }
  }
  if (set_item == nullptr) return "";
  l.loop = AncestorIn(set_item, home);
  const std::string list = absl::StrCat("the list written by ", Where(set_item));
  for (const torch::jit::Use& use : l.list->output()->uses()) {
    torch::jit::Node* u = use.user;
    const c10::FunctionSchema* schema = u->maybeSchema();
    if (AncestorIn(u, home) == u) {
      if (u->isAfter(l.loop) || (schema != nullptr && !schema->is_mutable())) continue;
      return absl::StrCat(list, ": ", Where(u),
                          " changes it before the loop; build the list with its final elements");
    }
    const bool element = (u->kind() == c10::aten::__getitem__ ||
                          (u->kind() == c10::aten::_set_item && !u->output()->hasUses())) &&
                         use.offset == 0;
    if (AncestorIn(u, home) != l.loop || u->owningBlock() != l.loop->blocks()[0] || !element) {
      return absl::StrCat(
          list, ": ", Where(u),
          " uses it in a loop; a while_loop carries a list only as its elements, read and written by constant indices directly in the loop's body (hs[0] = ...)");
    }
    if (!ConstantElement(u, size)) {
      return absl::StrCat(
          list, ": ", Where(u),
          " indexes it by a value not known at conversion time (a while_loop carries a list only as its elements, each by a constant index); unroll the indexing, or use a tensor and index it");
    }
    l.uses.push_back(u);
  }
  std::sort(l.uses.begin(), l.uses.end(),
            [](torch::jit::Node* a, torch::jit::Node* b) { return a->isBefore(b); });
  return "";
}

/// Every list with elements some loop writes into by index, each with why its elements cannot be
/// carried ("" when they can).
std::vector<std::pair<IndexedList, std::string>> IndexedLists(torch::jit::Block* block) {
  std::vector<std::pair<IndexedList, std::string>> found;
  ForEachNodePostOrder(block, [&](torch::jit::Node* n) {
    const auto type = n->kind() == c10::prim::ListConstruct
                          ? n->output()->type()->cast<c10::ListType>()
                          : nullptr;
    if (type == nullptr || n->inputs().empty() ||
        type->getElementType()->kind() != c10::TypeKind::TensorType) {
      return;
    }
    IndexedList l;
    l.list = n;
    std::string why = MatchIndexedList(l);
    if (l.loop != nullptr) found.emplace_back(std::move(l), std::move(why));
  });
  return found;
}

/// Carries the elements of indexed list `l` through its loop, one loop-carried value each: the
/// body's reads become the element's current value, its writes replace it; after the loop the
/// list is the loop's results.
void CarryElements(torch::jit::Graph& graph, const IndexedList& l) {
  torch::jit::Block* body = l.loop->blocks()[0];
  const int64_t size = static_cast<int64_t>(l.list->inputs().size());
  std::vector<torch::jit::Value*> current;
  for (torch::jit::Value* e : l.list->inputs()) {
    l.loop->addInput(e);
    current.push_back(body->addInput()->setType(e->type()));
  }
  for (torch::jit::Node* u : l.uses) {
    const size_t k = static_cast<size_t>(*ConstantElement(u, size));
    if (u->kind() == c10::aten::_set_item) {
      current[k] = u->input(2);
    } else {
      u->output()->replaceAllUsesWith(current[k]);
    }
    u->destroy();
  }
  std::vector<torch::jit::Value*> after;
  for (torch::jit::Value* v : current) {
    body->registerOutput(v);
    after.push_back(l.loop->addOutput()->setType(v->type()));
  }
  torch::jit::WithInsertPoint guard(l.loop->next());
  torch::jit::Value* list =
      graph.insertNode(graph.createList(c10::TensorType::get(), after))->output();
  l.list->output()->replaceAllUsesAfterNodeWith(list->node(), list);
}

/// Carries the elements of every list a loop writes into by constant indices (IndexedList).
bool CarryIndexedLists(torch::jit::Graph& graph) {
  bool changed = false;
  for (auto& [list, why] : IndexedLists(graph.block())) {
    if (!why.empty()) continue;
    CarryElements(graph, list);
    changed = true;
  }
  return changed;
}

/// The queries whose answer is a tensor's type, not its values (folded once the type is known).
bool IsTypeQuery(const torch::jit::Node* n) {
  const c10::Symbol k = n->kind();
  return k == c10::aten::size || k == c10::aten::dim || k == c10::prim::dtype ||
         k == c10::prim::device || k == c10::aten::is_floating_point;
}

/// Whether the exit condition of `loop` (a loop whose body decides its exit) reads tensor
/// values: through a node that reads a tensor other than for its type, a value from outside the
/// loop not known at conversion time, a carried value that does, or a nested loop. Peeling a trip
/// off such a loop never folds its condition.
bool ExitReadsTensorValues(torch::jit::Node* loop) {
  torch::jit::Block* body = loop->blocks()[0];
  std::vector<torch::jit::Value*> work = {body->outputs()[0]};
  std::unordered_set<torch::jit::Value*> seen;
  while (!work.empty()) {
    torch::jit::Value* v = work.back();
    work.pop_back();
    if (!seen.insert(v).second || torch::jit::toIValue(v)) continue;
    if (v->node()->kind() == c10::prim::Param) {
      if (v->node()->owningBlock() != body) return true;  // an outer block's input
      if (v->offset() == 0) continue;                     // the trip index
      work.push_back(loop->input(v->offset() + 1));
      work.push_back(body->outputs()[v->offset()]);
      continue;
    }
    torch::jit::Node* n = v->node();
    if (IsTypeQuery(n)) continue;
    bool inside = false;
    for (const torch::jit::Block* b = n->owningBlock(); b != nullptr && !inside;
         b = b->owningNode() ? b->owningNode()->owningBlock() : nullptr) {
      inside = b == body;
    }
    if (!inside || n->kind() == c10::prim::Loop) return true;
    for (torch::jit::Value* in : n->inputs()) {
      if (in->type()->kind() == c10::TypeKind::TensorType) return true;
      work.push_back(in);
    }
    if (n->kind() == c10::prim::If) {
      for (torch::jit::Block* b : n->blocks()) work.push_back(b->outputs()[v->offset()]);
    }
  }
  return false;
}

/// Whether `a` and `b` are the same tensor type as far as LibTorch's types tell: dtype and rank
/// known and equal, each size equal or unknown in both.
bool SameKnownTensorType(const c10::TensorTypePtr& a, const c10::TensorTypePtr& b) {
  if (!a || !b || !a->scalarType() || a->scalarType() != b->scalarType()) return false;
  const auto ra = a->sizes().size();
  if (!ra || ra != b->sizes().size()) return false;
  for (size_t d = 0; d < *ra; ++d) {
    if (a->sizes()[d] != b->sizes()[d]) return false;
  }
  return true;
}

/// Whether every value `loop` carries keeps its type through the first trip, as far as the
/// types tell: ints and bools do; a tensor does when its initial value and the body's yield have
/// the same known type.
bool CarriedTypesKept(torch::jit::Node* loop) {
  torch::jit::Block* body = loop->blocks()[0];
  for (size_t k = 2; k < loop->inputs().size(); ++k) {
    const c10::TypePtr& init = loop->input(k)->type();
    const c10::TypeKind kind = init->kind();
    if (kind == c10::TypeKind::IntType || kind == c10::TypeKind::BoolType) continue;
    if (!SameKnownTensorType(init->cast<c10::TensorType>(),
                             body->outputs()[k - 1]->type()->cast<c10::TensorType>())) {
      return false;
    }
  }
  return true;
}

/// Whether a trip should be peeled off `loop`, a loop whose body decides its exit: when its exit
/// may then fold (it does not read tensor values), or when a carried value's type may change on
/// the first trip (the while_loop needs one type; the peeled trip gives it).
bool WorthPeeling(torch::jit::Node* loop) {
  return !ExitReadsTensorValues(loop) || !CarriedTypesKept(loop);
}

/// Unrolls the `for` loops short enough to unroll, inner loops first, and peels an iteration off
/// the loops whose exit the body decides, up to the unroll limit.
bool UnrollShortLoops(torch::jit::Graph& graph) {
  bool changed = false;
  ForEachNodePostOrder(graph.block(), [&](torch::jit::Node* n) {
    if (n->kind() != c10::prim::Loop) return;
    const int64_t body_nodes = static_cast<int64_t>(CountNodes(n->blocks()[0]));
    if (StartsWithUnknownExit(n)) {
      if (!WorthPeeling(n)) return;
      const int64_t peeled = Peeled(n);
      if (peeled >= kMaxUnrolledTrips || (peeled + 1) * body_nodes > kMaxUnrolledNodes) return;
      PeelOnce(graph, n);
      changed = true;
      return;
    }
    std::optional<int64_t> trips = StaticTripCount(n);
    if (!trips || *trips > kMaxUnrolledTrips) return;
    if (*trips * body_nodes > kMaxUnrolledNodes) return;
    Unroll(graph, n, *trips);
    changed = true;
  });
  return changed;
}

/// The prim::RaiseException of a block that raises and has no other effect, nullptr when the
/// block does not raise; `effect_free` is false when the block does anything else that matters
/// (writes, nested blocks, outputs).
const torch::jit::Node* RaiseOf(const torch::jit::Block* block, bool* effect_free) {
  const torch::jit::Node* raise = nullptr;
  *effect_free = block->outputs().empty();
  for (const torch::jit::Node* n : block->nodes()) {
    if (n->kind() == c10::prim::RaiseException) {
      if (raise == nullptr) raise = n;
      continue;
    }
    if (!n->blocks().empty()) *effect_free = false;
    if (n->kind() == c10::aten::warn) continue;
    const c10::FunctionSchema* schema = n->maybeSchema();
    if (schema != nullptr && schema->is_mutable()) *effect_free = false;
  }
  return raise;
}

std::string MessageOf(const torch::jit::Node* raise) {
  if (raise->inputs().empty()) return "";
  const torch::jit::Value* text = raise->input(0);
  if (text->node()->kind() == c10::aten::format && !text->node()->inputs().empty()) {
    text = text->node()->input(0);
  }
  auto iv = torch::jit::toIValue(text);
  return iv && iv->isString() ? iv->toStringRef() : "";
}

/// Whether a value of `type` can be a result of MIL cond or while_loop: a tensor, or a bool or
/// an int (a scalar bool or int32 tensor in MIL).
bool CarriableType(const c10::TypePtr& type) {
  const c10::TypeKind k = type->kind();
  return k == c10::TypeKind::TensorType || k == c10::TypeKind::BoolType ||
         k == c10::TypeKind::IntType;
}

std::string TypeText(const torch::jit::Value* v) {
  return absl::StrCat("'", v->debugName(), "' (", v->type()->repr_str(), ")");
}

/// Why the prim::Loop `n` cannot become a MIL while_loop, or OK.
absl::Status ControlFlowLimits(torch::jit::Node* n) {
  // An if's results are checked by the converter's analysis, which may still fold its condition
  // (`query.dim() == 3` on a tensor whose rank only the converter knows): then a string or list
  // result is a constant like any other.
  if (n->kind() == c10::prim::If) return absl::OkStatus();
  if (n->kind() != c10::prim::Loop) {
    return Error(ErrorClass::kModel,
                 absl::StrCat("control flow (", Where(n), ") is not supported"));
  }
  auto trips = torch::jit::toIValue(n->input(0));
  if (!trips || !trips->isInt()) {
    return Error(ErrorClass::kModel,
                 absl::StrCat("control flow (", Where(n),
                              "): the loop's trip count depends on run-time tensor values; a "
                              "while_loop needs it known at conversion time"));
  }
  for (size_t k = 2; k < n->inputs().size(); ++k) {
    const torch::jit::Value* v = n->input(k);
    if (!CarriableType(v->type())) {
      return Error(
          ErrorClass::kModel,
          absl::StrCat(
              "control flow (", Where(n), "): the loop carries ", TypeText(v),
              ", which is not a tensor, bool or int; a while_loop carries tensors only (the "
              "loop runs more than the unroll limit of ",
              kMaxUnrolledTrips,
              " times, or its exit depends on run-time "
              "tensor values)"));
    }
  }
  return absl::OkStatus();
}

/// The first raise or control flow in `block` (nested blocks included) that cannot be converted.
absl::Status UnsupportedControlFlow(torch::jit::Block* block) {
  for (torch::jit::Node* n : block->nodes()) {
    if (n->kind() == c10::prim::RaiseException) {
      return Error(ErrorClass::kModel,
                   absl::StrCat(Where(n),
                                ": whether it raises depends on run-time tensor values "
                                "(a raise inside a data-dependent branch or loop)"));
    }
    if (n->blocks().empty() || AsGuard(n)) continue;
    if (absl::Status s = ControlFlowLimits(n); !s.ok()) return s;
    for (torch::jit::Block* b : n->blocks()) {
      if (absl::Status s = UnsupportedControlFlow(b); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<Guard> AsGuard(const torch::jit::Node* n) {
  if (n->kind() != c10::prim::If || !n->outputs().empty() || n->blocks().size() != 2) {
    return std::nullopt;
  }
  bool free0 = false;
  bool free1 = false;
  const torch::jit::Node* raise0 = RaiseOf(n->blocks()[0], &free0);
  const torch::jit::Node* raise1 = RaiseOf(n->blocks()[1], &free1);
  if (!free0 || !free1 || (raise0 != nullptr && raise1 != nullptr)) return std::nullopt;
  Guard guard;
  guard.raise = raise0 != nullptr ? raise0 : raise1;
  guard.raises = guard.raise != nullptr;
  guard.raise_when = raise0 != nullptr;
  if (guard.raises) guard.message = MessageOf(guard.raise);
  return guard;
}

bool HasScriptedConstructs(const torch::jit::Graph& graph) {
  for (const torch::jit::Node* n : graph.nodes()) {
    if (!n->blocks().empty() || ScriptedQueryKinds().count(n->kind().toQualString()) != 0) {
      return true;
    }
  }
  return false;
}

void FoldStaticControlFlow(const std::shared_ptr<torch::jit::Graph>& graph,
                           const std::vector<std::optional<StaticInputType>>& inputs) {
  std::shared_ptr<torch::jit::Graph> g = graph;
  SetInputTypes(*g, inputs);
  SplitTupleResults(g);
  HoistRaisingBranches(*g);
  for (int round = 0; round < kMaxRounds; ++round) {
    PropagateShapes(g);
    bool changed = FoldQueries(*g);
    // `features = [x]; features.append(y)` becomes a new list construction, which the core
    // folds like any other.
    changed |= torch::jit::RemoveListMutation(g);
    changed |= torch::jit::ConstantPropagationImmutableTypes(g);
    changed |= UnrollShortLoops(*g);
    if (!changed) break;
  }
  const bool indexed = CarryIndexedLists(*g);
  if (CarryAppendedLists(*g) || indexed) torch::jit::ConstantPropagationImmutableTypes(g);
  torch::jit::EliminateDeadCode(g);
}

absl::Status RemainingControlFlowError(const std::shared_ptr<torch::jit::Graph>& graph) {
  for (torch::jit::Node* n : graph->nodes()) {
    if (n->kind() == c10::prim::RaiseException) {
      auto message = n->inputs().empty() ? c10::nullopt : torch::jit::toIValue(n->input(0));
      const std::string text =
          message && message->isString() ? absl::StrCat(": \"", message->toStringRef(), "\"") : "";
      return Error(ErrorClass::kModel,
                   absl::StrCat("the model raises an exception for the given input shapes (",
                                Where(n), text, ")"));
    }
  }
  for (const auto& [list, why] : AppendedLists(graph->block())) {
    if (why.empty()) continue;
    const torch::jit::Node* at = list.loop != nullptr ? list.loop : list.list;
    return Error(ErrorClass::kModel, absl::StrCat("control flow (", Where(at), "): ", why));
  }
  for (const auto& [list, why] : IndexedLists(graph->block())) {
    if (why.empty()) continue;
    return Error(ErrorClass::kModel, absl::StrCat("control flow (", Where(list.loop), "): ", why));
  }
  return UnsupportedControlFlow(graph->block());
}

}  // namespace ts2coreml::core
