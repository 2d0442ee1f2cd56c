#include "core/torch/graph_importer.h"

#include <map>
#include <optional>
#include <regex>
#include <set>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/base/errors.h"
#include "core/base/linear_regex.h"
#include "core/torch/control_flow.h"
#include "torch/csrc/jit/ir/constants.h"

namespace ts2coreml::core {
namespace {

/// The user's source line of a node. A traced model records the Python stack as the range's
/// text, one "file(line): function" frame per line, innermost first: the first frame outside
/// torch itself is the user's code (a torchvision model's file, the user's module). Scripted
/// models point into their serialized code; the range that generated it is preferred. Only the
/// ranges' own text is read: SourceRange::str() copies the whole source file on every call, which
/// for a loaded model (one serialized file for every node) is quadratic in the graph's size.
std::string SourceOf(const torch::jit::Node* n) {
  static const std::regex kFrame(R"(^\s*(\S.*)\((\d+)\): \S+\s*$)", kLinearRegex);
  auto from_stack = [](const torch::jit::SourceRange& range) -> std::string {
    std::string fallback;
    if (range.source() == nullptr) return fallback;  // a node made by a pass
    for (absl::string_view line : absl::StrSplit(range.text().str(), '\n')) {
      std::smatch m;
      const std::string l(line);
      if (!std::regex_match(l, m, kFrame)) break;
      const std::string where = absl::StrCat(m[1].str(), ":", m[2].str());
      if (fallback.empty()) fallback = where;
      if (m[1].str().find("/torch/") == std::string::npos) return where;
    }
    return fallback;
  };
  const torch::jit::SourceRange& range = n->sourceRange();
  std::optional<torch::jit::SourceRange> original;
  if (auto o = range.findSourceRangeThatGenerated()) original = *o;
  if (original) {
    if (std::string where = from_stack(*original); !where.empty()) return where;
  }
  if (std::string where = from_stack(range); !where.empty()) return where;
  auto flc = (original ? *original : range).file_line_col();
  if (!flc) return "";
  return absl::StrCat(std::get<0>(*flc), ":", std::get<1>(*flc));
}

/// The alias sets an argument's annotation names (`Tensor(a)`, `Tensor(a -> *)`, `Tensor(a)[]`),
/// the wildcard excluded.
void AliasSets(const c10::AliasInfo* info, std::set<c10::Symbol>& out) {
  if (info == nullptr) return;
  for (const std::unordered_set<c10::Symbol>* sets : {&info->beforeSets(), &info->afterSets()}) {
    for (const c10::Symbol& s : *sets) {
      if (s != c10::AliasInfo::wildcardSet()) out.insert(s);
    }
  }
  for (const c10::AliasInfo& contained : info->containedTypes()) AliasSets(&contained, out);
}

/// Per return of `schema`, the first argument sharing an alias set with it, or -1.
std::vector<int> OutputAliases(const c10::FunctionSchema& schema) {
  std::vector<int> out(schema.returns().size(), -1);
  bool any = false;
  for (size_t k = 0; k < schema.returns().size(); ++k) {
    std::set<c10::Symbol> ret;
    AliasSets(schema.returns()[k].alias_info(), ret);
    for (size_t i = 0; i < schema.arguments().size() && out[k] < 0 && !ret.empty(); ++i) {
      std::set<c10::Symbol> arg;
      AliasSets(schema.arguments()[i].alias_info(), arg);
      for (const c10::Symbol& s : arg) {
        if (ret.count(s) != 0) {
          out[k] = static_cast<int>(i);
          any = true;
          break;
        }
      }
    }
  }
  if (!any) out.clear();
  return out;
}

/// The module path of a node from its inlined call stack ("features.3.block.0").
std::string ScopeOf(const torch::jit::Node* n) {
  auto cs = n->callstack();
  if (!cs) return "";
  std::vector<std::string> parts;
  for (const auto& entry : (*cs)->vec()) {
    const auto& info = std::get<2>(entry);
    if (!info) continue;
    std::string name = info->instance_name();
    if (name.empty() || name == "self" || name == "__module") continue;
    parts.push_back(name);
  }
  return absl::StrJoin(parts, ".");
}

std::string Where(const torch::jit::Node* n) {
  std::string src = SourceOf(n);
  return src.empty() ? std::string(n->kind().toQualString())
                     : absl::StrCat(n->kind().toQualString(), " at ", src);
}

ValueKind KindOfType(const c10::TypePtr& type) {
  using c10::TypeKind;
  switch (type->kind()) {
    case TypeKind::TensorType:
      return ValueKind::kTensor;
    case TypeKind::IntType:
      return ValueKind::kInt;
    case TypeKind::FloatType:
    case TypeKind::NumberType:
      return ValueKind::kFloat;
    case TypeKind::BoolType:
      return ValueKind::kBool;
    case TypeKind::NoneType:
      return ValueKind::kNone;
    case TypeKind::StringType:
      return ValueKind::kString;
    case TypeKind::OptionalType:
      return KindOfType(type->expectRef<c10::OptionalType>().getElementType());
    case TypeKind::ListType: {
      const c10::TypePtr elem = type->expectRef<c10::ListType>().getElementType();
      switch (elem->kind()) {
        case TypeKind::IntType:
          return ValueKind::kIntList;
        case TypeKind::FloatType:
          return ValueKind::kFloatList;
        case TypeKind::BoolType:
          return ValueKind::kBoolList;
        case TypeKind::TensorType:
          return ValueKind::kTensorList;
        case TypeKind::OptionalType:
          // Tensor?[] (aten::index's indices): a tensor list; None elements stay None values.
          return elem->expectRef<c10::OptionalType>().getElementType()->kind() ==
                         TypeKind::TensorType
                     ? ValueKind::kTensorList
                     : ValueKind::kOther;
        default:
          return ValueKind::kOther;
      }
    }
    default:
      return ValueKind::kOther;
  }
}

/// True for a constant list whose elements are all tensors or None.
bool IsTensorOrNoneList(const c10::IValue& iv) {
  if (!iv.isList()) return false;
  for (const c10::IValue& e : iv.toListRef()) {
    if (!e.isTensor() && !e.isNone()) return false;
  }
  return !iv.toListRef().empty();
}

/// The parent of a block's nodes until their control-flow node has its index.
constexpr int32_t kPendingParent = -2;

class Importer {
 public:
  Importer(const CanonicalModel& model, Graph& graph) : model_(model), graph_(graph) {}

  absl::Status ImportInputs(const std::vector<InputSpec>& specs, bool allow_unshaped) {
    std::map<std::string, const InputSpec*> by_name;
    for (const InputSpec& s : specs) {
      if (!by_name.emplace(s.name, &s).second) {
        return Error(ErrorClass::kInputSpec, absl::StrCat("--input ", s.name, " given twice"));
      }
    }
    const auto& ts_inputs = model_.graph->inputs();
    std::vector<std::string> missing;
    for (size_t i = 1; i < ts_inputs.size(); ++i) {
      const std::string& name = model_.input_names.at(i - 1);
      torch::jit::Value* v = ts_inputs[i];
      if (v->type()->kind() != c10::TypeKind::TensorType) {
        return Error(
            ErrorClass::kInputSpec,
            absl::StrCat("forward() argument '", name, "' has type ", v->type()->repr_str(),
                         "; only tensor inputs can become Core ML inputs"));
      }
      auto it = by_name.find(name);
      if (it == by_name.end()) {
        if (allow_unshaped) {
          const ValueId id = graph_.AddInput(name, TypeClass::kFloat, {});
          graph_.value(id).typed = false;
          values_[v] = id;
        } else {
          missing.push_back(name);
        }
        continue;
      }
      const ValueId id =
          graph_.AddInput(name, ClassOfInputDtype(it->second->dtype), it->second->shape);
      graph_.value(id).input_dtype = it->second->dtype;
      values_[v] = id;
      by_name.erase(it);
    }
    if (!by_name.empty()) {
      return Error(ErrorClass::kInputSpec,
                   absl::StrCat("--input ", by_name.begin()->first,
                                " names no forward() argument; the model's inputs are: ",
                                absl::StrJoin(model_.input_names, ", ")));
    }
    if (!missing.empty()) {
      return Error(ErrorClass::kInputSpec,
                   absl::StrCat("missing --input for ", absl::StrJoin(missing, ", "),
                                " (TorchScript files carry no shapes; give e.g. --input ",
                                missing[0], ":1x3x224x224)"));
    }
    return absl::OkStatus();
  }

  absl::Status ImportNodes() { return ImportBlockNodes(model_.graph->block(), -1); }

  /// Imports the nodes of `block`, owned by graph node `parent` (-1: the graph's own block).
  absl::Status ImportBlockNodes(torch::jit::Block* block, int32_t parent) {
    for (torch::jit::Node* n : block->nodes()) {
      if (absl::Status s = ImportNode(n, parent); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status ImportNode(torch::jit::Node* n, int32_t parent) {
    const std::string kind = n->kind().toQualString();
    if (std::optional<Guard> guard = AsGuard(n)) return ImportGuard(n, *guard, parent);
    if (!n->blocks().empty()) return ImportControlFlow(n, parent);
    if (kind == "prim::GetAttr" || kind == "prim::CallMethod" || kind == "prim::CallFunction") {
      return Error(
          ErrorClass::kModel,
          absl::StrCat(
              Where(n),
              " remained after freezing; the module could not be fully frozen (mutable attributes or interfaces?)"));
    }
    if (kind == "prim::Constant") {
      return ImportConstant(n);
    }
    std::vector<ValueId> inputs;
    for (torch::jit::Value* in : n->inputs()) {
      auto it = values_.find(in);
      if (it == values_.end()) {
        return Error(ErrorClass::kInternal,
                     absl::StrCat(Where(n), ": input %", in->debugName(), " was not imported"));
      }
      inputs.push_back(it->second);
    }
    std::string overload;
    std::vector<int> mutated;
    std::vector<int> output_aliases;
    if (const c10::FunctionSchema* schema = n->maybeSchema()) {
      overload = schema->overload_name();
      for (size_t i = 0; i < schema->arguments().size(); ++i) {
        const c10::AliasInfo* alias = schema->arguments()[i].alias_info();
        if (alias != nullptr && alias->isWrite()) mutated.push_back(static_cast<int>(i));
      }
      output_aliases = OutputAliases(*schema);
    }
    Node& node =
        graph_.AddNode(kind, overload, std::move(inputs), static_cast<int>(n->outputs().size()));
    node.parent = parent;
    node.mutated_inputs = std::move(mutated);
    node.output_aliases = std::move(output_aliases);
    node.source = SourceOf(n);
    node.scope = ScopeOf(n);
    for (size_t k = 0; k < n->outputs().size(); ++k) {
      torch::jit::Value* out = n->output(k);
      Value& v = graph_.value(node.outputs[k]);
      v.name = out->debugName();
      v.kind = KindOfType(out->type());
      values_[out] = node.outputs[k];
    }
    return absl::OkStatus();
  }

  /// A value made for a block input or a node output: named, its kind from its TorchScript type.
  ValueId ImportValue(torch::jit::Value* v, int32_t producer) {
    Value value;
    value.name = v->debugName();
    value.kind = KindOfType(v->type());
    value.producer = producer;
    const ValueId id = graph_.AddValue(std::move(value));
    values_[v] = id;
    return id;
  }

  /// A prim::If or prim::Loop: its blocks' nodes first, each block's inputs and outputs recorded,
  /// then the node itself (core::Block: post-order).
  absl::Status ImportControlFlow(torch::jit::Node* n, int32_t parent) {
    const std::string kind = n->kind().toQualString();
    if (kind != "prim::If" && kind != "prim::Loop") {
      return Error(ErrorClass::kModel,
                   absl::StrCat("control flow (", Where(n), ") is not supported"));
    }
    // The node's own index is known only once its blocks' nodes are in: its direct children
    // are imported with the parent kPendingParent and patched below (nested control flow has
    // patched its own by then).
    std::vector<Block> blocks;
    std::vector<ValueId> block_inputs;
    for (torch::jit::Block* b : n->blocks()) {
      Block block;
      for (torch::jit::Value* in : b->inputs()) {
        block.inputs.push_back(ImportValue(in, -1));
        block_inputs.push_back(block.inputs.back());
      }
      block.begin = static_cast<int32_t>(graph_.nodes().size());
      if (absl::Status s = ImportBlockNodes(b, kPendingParent); !s.ok()) return s;
      block.end = static_cast<int32_t>(graph_.nodes().size());
      for (torch::jit::Value* out : b->outputs()) {
        auto it = values_.find(out);
        if (it == values_.end()) {
          return Error(ErrorClass::kInternal, absl::StrCat(Where(n), ": block output %",
                                                           out->debugName(), " was not imported"));
        }
        block.outputs.push_back(it->second);
      }
      blocks.push_back(std::move(block));
    }
    std::vector<ValueId> inputs;
    for (torch::jit::Value* in : n->inputs()) {
      auto it = values_.find(in);
      if (it == values_.end()) {
        return Error(ErrorClass::kInternal,
                     absl::StrCat(Where(n), ": input %", in->debugName(), " was not imported"));
      }
      inputs.push_back(it->second);
    }
    Node& node = graph_.AddNode(kind, "", std::move(inputs), 0);
    const int32_t index = static_cast<int32_t>(graph_.nodes().size() - 1);
    node.parent = parent;
    node.source = SourceOf(n);
    node.scope = ScopeOf(n);
    node.blocks = std::move(blocks);
    for (ValueId in : block_inputs) graph_.value(in).producer = index;
    const int32_t first = graph_.nodes()[static_cast<size_t>(index)].blocks.empty()
                              ? index
                              : graph_.nodes()[static_cast<size_t>(index)].blocks[0].begin;
    for (int32_t k = first; k < index; ++k) {
      Node& child = graph_.nodes()[static_cast<size_t>(k)];
      if (child.parent == kPendingParent) child.parent = index;
    }
    for (torch::jit::Value* out : n->outputs()) {
      graph_.nodes()[static_cast<size_t>(index)].outputs.push_back(ImportValue(out, index));
    }
    return absl::OkStatus();
  }

  absl::Status ImportOutputs(const std::vector<std::string>& names) {
    std::vector<GraphOutput> outs;
    absl::Status s = Flatten(model_.graph->outputs().at(0), "", outs);
    if (!s.ok()) return s;
    if (!names.empty()) {
      if (names.size() != outs.size()) {
        return Error(ErrorClass::kInputSpec,
                     absl::StrCat(names.size(), " --output names given, but the model returns ",
                                  outs.size(), " tensors"));
      }
      for (size_t i = 0; i < outs.size(); ++i) outs[i].name = names[i];
    }
    for (size_t i = 0; i < outs.size(); ++i) {
      if (outs[i].name.empty()) outs[i].name = absl::StrCat("output_", i);
      graph_.AddOutput(outs[i].name, outs[i].value);
    }
    return absl::OkStatus();
  }

 private:
  /// A guard prim::If (control_flow.h) as ts2coreml::raise_if(cond, raise_when, message), which
  /// analysis folds; one that only warns is dropped.
  absl::Status ImportGuard(const torch::jit::Node* n, const Guard& guard, int32_t parent) {
    if (!guard.raises) return absl::OkStatus();
    auto cond = values_.find(n->input(0));
    if (cond == values_.end()) {
      return Error(ErrorClass::kInternal, absl::StrCat(Where(n), ": condition was not imported"));
    }
    Value message;
    message.name = absl::StrCat(cond->first->debugName(), ".message");
    message.kind = ValueKind::kString;
    message.is_const = true;
    message.s = guard.message;
    const ValueId when = graph_.AddConstBool(guard.raise_when);
    const ValueId text = graph_.AddValue(std::move(message));
    Node& node = graph_.AddNode("ts2coreml::raise_if", "", {cond->second, when, text}, 0);
    node.parent = parent;
    node.source = SourceOf(guard.raise);
    node.scope = ScopeOf(n);
    return absl::OkStatus();
  }

  absl::Status Flatten(torch::jit::Value* v, const std::string& name,
                       std::vector<GraphOutput>& outs) {
    torch::jit::Node* n = v->node();
    const std::string kind = n->kind().toQualString();
    if (kind == "prim::TupleConstruct" || kind == "prim::ListConstruct") {
      for (torch::jit::Value* in : n->inputs()) {
        absl::Status s = Flatten(in, "", outs);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    if (kind == "prim::DictConstruct") {
      for (size_t i = 0; i + 1 < n->inputs().size(); i += 2) {
        auto key = torch::jit::toIValue(n->input(i));
        if (!key || !key->isString()) {
          return Error(ErrorClass::kModel, "the model returns a dict whose keys are not strings");
        }
        absl::Status s = Flatten(n->input(i + 1), key->toStringRef(), outs);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    if (v->type()->kind() != c10::TypeKind::TensorType) {
      return Error(ErrorClass::kModel,
                   absl::StrCat("the model returns a value of type ", v->type()->repr_str(),
                                "; only tensors can be Core ML outputs"));
    }
    auto it = values_.find(v);
    if (it == values_.end()) {
      return Error(ErrorClass::kInternal, absl::StrCat("output %", v->debugName(), " unknown"));
    }
    outs.push_back({name, it->second});
    return absl::OkStatus();
  }

  /// A prim::Constant as a host value: None, a tensor (kept pointing at LibTorch's storage), a
  /// number, string or list of them, a Tensor[] / Tensor?[]; anything else (devices...) opaque.
  absl::Status ImportConstant(torch::jit::Node* n) {
    torch::jit::Value* out = n->output();
    auto iv = torch::jit::toIValue(out);
    Value v;
    v.name = out->debugName();
    v.is_const = true;
    if (!iv || iv->isNone()) {
      v.kind = ValueKind::kNone;
    } else if (iv->isTensor()) {
      auto t = ImportTensor(iv->toTensor(), v.name);
      if (!t.ok()) return t.status();
      values_[out] = graph_.AddConstTensor(v.name, *std::move(t));
      return absl::OkStatus();
    } else if (absl::Status s = SetOtherConstant(*iv, &v); !s.ok()) {
      return s;
    }
    values_[out] = graph_.AddValue(std::move(v));
    return absl::OkStatus();
  }

  /// A constant neither None nor a tensor into `v`: numbers and strings (SetNumbers), tensor
  /// lists (AddTensorListElements); devices and the like are opaque but constant (dtypes as ints
  /// are ints already).
  absl::Status SetOtherConstant(const c10::IValue& iv, Value* v) {
    if (SetNumbers(iv, v)) return absl::OkStatus();
    if (IsTensorOrNoneList(iv)) return AddTensorListElements(iv, v);
    v->kind = ValueKind::kOther;
    v->s = iv.tagKind();
    return absl::OkStatus();
  }

  /// An int, float, bool, string or list of ints, floats or bools into `v`; false for any other
  /// constant.
  static bool SetNumbers(const c10::IValue& iv, Value* v) {
    if (iv.isInt()) {
      v->kind = ValueKind::kInt;
      v->i = iv.toInt();
    } else if (iv.isDouble()) {
      v->kind = ValueKind::kFloat;
      v->f = iv.toDouble();
    } else if (iv.isBool()) {
      v->kind = ValueKind::kBool;
      v->b = iv.toBool();
    } else if (iv.isString()) {
      v->kind = ValueKind::kString;
      v->s = iv.toStringRef();
    } else if (iv.isIntList()) {
      v->kind = ValueKind::kIntList;
      v->ints = iv.toIntVector();
    } else if (iv.isDoubleList()) {
      v->kind = ValueKind::kFloatList;
      v->floats = iv.toDoubleVector();
    } else if (iv.isBoolList()) {
      v->kind = ValueKind::kBoolList;
      for (bool b : iv.toBoolList()) v->bools.push_back(b);
    } else {
      return false;
    }
    return true;
  }

  /// A folded Tensor[] / Tensor?[] (aten::index's constant indices) into `v`: one graph value
  /// per element, named `<v>_<k>`.
  absl::Status AddTensorListElements(const c10::IValue& iv, Value* v) {
    v->kind = ValueKind::kTensorList;
    const c10::List<c10::IValue> list = iv.toList();
    for (size_t k = 0; k < list.size(); ++k) {
      const c10::IValue e = list.get(k);
      const std::string name = absl::StrCat(v->name, "_", k);
      if (e.isNone()) {
        Value none;
        none.name = name;
        none.kind = ValueKind::kNone;
        none.is_const = true;
        v->elements.push_back(graph_.AddValue(std::move(none)));
        continue;
      }
      auto t = ImportTensor(e.toTensor(), name);
      if (!t.ok()) return t.status();
      v->elements.push_back(graph_.AddConstTensor(name, *std::move(t)));
    }
    return absl::OkStatus();
  }

  const CanonicalModel& model_;
  Graph& graph_;
  std::map<const torch::jit::Value*, ValueId> values_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const ConstTensor>> ImportTensor(const at::Tensor& tensor,
                                                                const std::string& name) {
  auto t = std::make_shared<ConstTensor>();
  switch (tensor.scalar_type()) {
    case at::kFloat:
      t->storage = ConstTensor::Storage::kFloat32;
      break;
    case at::kHalf:
      t->storage = ConstTensor::Storage::kFloat16;
      break;
    case at::kDouble:
      t->storage = ConstTensor::Storage::kFloat64;
      break;
    case at::kLong:
      t->storage = ConstTensor::Storage::kInt64;
      break;
    case at::kInt:
      t->storage = ConstTensor::Storage::kInt32;
      break;
    case at::kBool:
      t->storage = ConstTensor::Storage::kBool;
      break;
    default:
      return Error(ErrorClass::kModel, absl::StrCat("constant '", name, "' has dtype ",
                                                    c10::toString(tensor.scalar_type()),
                                                    ", which ts2coreml does not convert"));
  }
  // Keep LibTorch's storage alive and point at it; contiguous() copies only when needed.
  auto owned = std::make_shared<at::Tensor>(tensor.contiguous());
  t->shape = owned->sizes().vec();
  t->data = owned->data_ptr();
  t->owner = owned;
  return std::shared_ptr<const ConstTensor>(std::move(t));
}

at::Tensor BorrowTensor(const ConstTensor& t) {
  at::ScalarType type = at::kFloat;
  switch (t.storage) {
    case ConstTensor::Storage::kFloat32:
      type = at::kFloat;
      break;
    case ConstTensor::Storage::kFloat16:
      type = at::kHalf;
      break;
    case ConstTensor::Storage::kFloat64:
      type = at::kDouble;
      break;
    case ConstTensor::Storage::kInt64:
      type = at::kLong;
      break;
    case ConstTensor::Storage::kInt32:
      type = at::kInt;
      break;
    case ConstTensor::Storage::kBool:
      type = at::kBool;
      break;
  }
  return at::from_blob(const_cast<void*>(t.data), t.shape, at::TensorOptions().dtype(type));
}

namespace {

/// The dtype the model's argument has when --input declares `d`: an fp16 feature still feeds a
/// float argument (the boundary cast is the converter's), int32/int64/bool are the argument's own.
at::ScalarType TorchDtypeOf(InputDtype d) {
  switch (d) {
    case InputDtype::kInt32:
      return at::kInt;
    case InputDtype::kInt64:
      return at::kLong;
    case InputDtype::kBool:
      return at::kBool;
    case InputDtype::kUint8:
      return at::kByte;
    case InputDtype::kDefault:
    case InputDtype::kFp32:
    case InputDtype::kFp16:
      break;
  }
  return at::kFloat;
}

}  // namespace

std::vector<std::optional<StaticInputType>> StaticInputTypes(const std::vector<std::string>& names,
                                                             const std::vector<InputSpec>& inputs) {
  // Each input has the dtype its --input declares (float when none: the traced model's own).
  std::vector<std::optional<StaticInputType>> types(names.size());
  for (size_t i = 0; i < types.size(); ++i) {
    for (const InputSpec& spec : inputs) {
      if (spec.name == names[i]) types[i] = StaticInputType{spec.shape, TorchDtypeOf(spec.dtype)};
    }
  }
  return types;
}

namespace {

/// Folds what the input shapes decide in a scripted model's graph (control_flow.h), and
/// refuses the control flow that remains.
absl::Status FoldScriptedControlFlow(const CanonicalModel& model,
                                     const std::vector<InputSpec>& inputs) {
  if (!HasScriptedConstructs(*model.graph)) return absl::OkStatus();
  FoldStaticControlFlow(model.graph, StaticInputTypes(model.input_names, inputs));
  return RemainingControlFlowError(model.graph);
}

}  // namespace

absl::StatusOr<Graph> ImportGraph(const CanonicalModel& model, const std::vector<InputSpec>& inputs,
                                  const std::vector<std::string>& output_names,
                                  bool allow_unshaped_inputs) {
  Graph graph;
  Importer importer(model, graph);
  try {
    absl::Status s = FoldScriptedControlFlow(model, inputs);
    if (s.ok()) s = importer.ImportInputs(inputs, allow_unshaped_inputs);
    if (s.ok()) s = importer.ImportNodes();
    if (s.ok()) s = importer.ImportOutputs(output_names);
    if (!s.ok()) return s;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    return Error(ErrorClass::kModel,
                 absl::StrCat("cannot import the graph: ", msg.substr(0, msg.find('\n'))));
  }
  return graph;
}

}  // namespace ts2coreml::core
