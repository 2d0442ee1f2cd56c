#include "core/torch/aten_evaluator.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/torch/graph_importer.h"
#include "torch/csrc/jit/runtime/operator.h"

namespace ts2coreml::core {
namespace {

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

absl::Status CannotEvaluate(const std::string& why) {
  return absl::UnimplementedError(absl::StrCat("not evaluated on the host: ", why));
}

/// The deterministic aten:: operator with the node's schema name and overload, if any: a
/// dispatcher op (whose tags say whether it is random), or aten::tensor, the TorchScript-only op
/// scripted models make tensor literals with (`mask[0:2] = 1`).
std::shared_ptr<torch::jit::Operator> FindOperator(const Node& n) {
  if (n.kind.rfind("aten::", 0) != 0) return nullptr;
  for (const auto& op : torch::jit::getAllOperatorsFor(c10::Symbol::fromQualString(n.kind))) {
    if (op->schema().overload_name() != n.overload) continue;
    if ((!op->isC10Op() && n.kind != "aten::tensor") || op->schema().is_vararg() ||
        op->schema().returns().empty()) {
      return nullptr;
    }
    for (at::Tag tag : op->getTags()) {
      if (tag == at::Tag::nondeterministic_seeded) return nullptr;
    }
    return op;
  }
  return nullptr;
}

/// Ops whose outputs are memory nobody wrote.
bool AllocatesUninitialized(const Node& n) {
  return n.kind == "aten::empty" || n.kind == "aten::new_empty" || n.kind == "aten::empty_like" ||
         n.kind == "aten::empty_strided" || n.kind == "aten::new_empty_strided";
}

/// Ops that write every element of their target without reading it.
bool OverwritesTarget(const Node& n) {
  return n.kind == "aten::fill_" || n.kind == "aten::zero_" || n.kind == "aten::copy_";
}

const c10::StorageImpl* StorageOf(const at::Tensor& t) {
  return t.storage().unsafeGetStorageImpl();
}

/// Whether `t` covers every byte of its storage exactly once.
bool CoversStorage(const at::Tensor& t) {
  return t.is_non_overlapping_and_dense() &&
         static_cast<size_t>(t.numel()) * t.element_size() == t.storage().nbytes();
}

bool Representable(at::ScalarType t) {
  return t == at::kFloat || t == at::kHalf || t == at::kDouble || t == at::kLong || t == at::kInt ||
         t == at::kBool;
}

TypeClass TypeClassOf(at::ScalarType t) {
  if (t == at::kBool) return TypeClass::kBool;
  return at::isFloatingType(t) ? TypeClass::kFloat : TypeClass::kInt;
}

at::ScalarType NominalType(TypeClass c) {
  return c == TypeClass::kBool ? at::kBool : c == TypeClass::kInt ? at::kLong : at::kFloat;
}

}  // namespace

struct AtenEvaluator::State {
  /// The host tensors by the graph value that names them, views sharing storage.
  std::map<ValueId, at::Tensor> live;
  /// Host tensors under the names they had before an in-place write gave them a new version
  /// (Rename): readers are renamed by analysis, but a list built before the write still names
  /// the old value, and in PyTorch it is the same tensor.
  std::map<ValueId, at::Tensor> renamed;
  /// Storage of model constants, read without a copy: never written.
  std::map<const c10::StorageImpl*, std::string> borrowed;
  /// Storage of aten::empty & co. not fully written yet.
  std::set<const c10::StorageImpl*> uninitialized;
  /// Keeps borrowed constants alive.
  std::vector<std::shared_ptr<const ConstTensor>> keep;

  /// The host tensor of graph value `id`: one this evaluator made, a model constant (borrowed),
  /// or, for a run-time tensor read only for its static type, a stand-in of that shape and dtype.
  absl::StatusOr<at::Tensor> TensorFor(const Graph& g, ValueId id) {
    const ValueId r = g.Resolve(id);
    if (auto it = live.find(r); it != live.end()) return it->second;
    if (auto it = renamed.find(r); it != renamed.end()) return it->second;
    const Value& v = g.value(r);
    if (v.is_const && v.tensor) {
      at::Tensor t = BorrowTensor(*v.tensor);
      keep.push_back(v.tensor);
      borrowed[StorageOf(t)] = v.name;
      live[r] = t;
      return t;
    }
    if (v.is_const || !v.typed) {
      return CannotEvaluate(absl::StrCat("'", v.name, "' has no host tensor"));
    }
    // Read for its shape and dtype only (ShapeOnlyInputs): a broadcast zero, no memory.
    return at::zeros({}, at::TensorOptions().dtype(NominalType(v.type_class))).expand(v.shape);
  }

  /// A host constant holding `t`'s current contents (a copy), or none while uninitialized.
  absl::StatusOr<Value> Snapshot(const at::Tensor& t) {
    Value v;
    v.kind = ValueKind::kTensor;
    v.is_const = true;
    v.typed = true;
    v.type_class = TypeClassOf(t.scalar_type());
    v.shape = t.sizes().vec();
    if (uninitialized.count(StorageOf(t)) != 0) return v;
    absl::StatusOr<std::shared_ptr<const ConstTensor>> c =
        ImportTensor(t.clone(at::MemoryFormat::Contiguous), "");
    if (!c.ok()) return c.status();
    v.tensor = *std::move(c);
    return v;
  }
};

AtenEvaluator::AtenEvaluator() : AtenEvaluator(Options{}) {}
AtenEvaluator::AtenEvaluator(Options options)
    : options_(options), state_(std::make_unique<State>()) {}
AtenEvaluator::~AtenEvaluator() = default;

bool AtenEvaluator::CanEvaluate(const Node& node) const { return FindOperator(node) != nullptr; }

void AtenEvaluator::Rename(ValueId value, ValueId version) {
  auto it = state_->live.find(value);
  if (it == state_->live.end()) return;
  at::Tensor t = it->second;
  state_->live.erase(it);
  state_->live[version] = t;
  state_->renamed[value] = t;
}

absl::StatusOr<HostEvaluator::Result> AtenEvaluator::Evaluate(const Graph& g, int index) {
  const Node& n = g.nodes().at(static_cast<size_t>(index));
  std::shared_ptr<torch::jit::Operator> op = FindOperator(n);
  if (!op) return CannotEvaluate("no deterministic ATen kernel");
  const c10::FunctionSchema& schema = op->schema();
  const std::vector<c10::Argument>& args = schema.arguments();
  if (n.inputs.size() != args.size()) {
    return CannotEvaluate(
        absl::StrCat("the node has ", n.inputs.size(), " inputs, its schema ", args.size()));
  }
  State& s = *state_;
  torch::jit::Stack stack;
  std::vector<at::Tensor> targets;  // tensors the op writes in place
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      const Value& v = g.value(g.Resolve(n.inputs[i]));
      c10::TypePtr type = args[i].type();
      if (type->kind() == c10::TypeKind::OptionalType) {
        type = type->expectRef<c10::OptionalType>().getElementType();
      }
      const c10::AliasInfo* alias = args[i].alias_info();
      const bool writes = alias != nullptr && alias->isWrite();
      if (v.kind == ValueKind::kNone) {
        stack.emplace_back();
        continue;
      }
      switch (type->kind()) {
        case c10::TypeKind::TensorType: {
          absl::StatusOr<at::Tensor> t = s.TensorFor(g, n.inputs[i]);
          if (!t.ok()) return t.status();
          // A view's source (`Tensor(a) self`) is aliased, not read.
          const bool viewed = alias != nullptr && !writes;
          if (writes) {
            if (auto b = s.borrowed.find(StorageOf(*t)); b != s.borrowed.end()) {
              return Error(
                  ErrorClass::kConversion,
                  absl::StrCat("writes in place into model constant '", b->second,
                               "' (or a view of it); the model's own constants are not changed "
                               "at conversion time: clone() it before writing"));
            }
            if (!v.is_const && s.live.count(g.Resolve(n.inputs[i])) == 0) {
              return CannotEvaluate(absl::StrCat("writes into run-time tensor '", v.name, "'"));
            }
            targets.push_back(*t);
          } else if (!viewed && s.uninitialized.count(StorageOf(*t)) != 0) {
            return Error(ErrorClass::kConversion,
                         absl::StrCat("reads '", v.name,
                                      "', uninitialized memory (aten::empty, new_empty, "
                                      "empty_like) not fully written "
                                      "before; write all of it first (fill_, zero_, copy_)"));
          }
          stack.emplace_back(*t);
          break;
        }
        case c10::TypeKind::IntType:
        case c10::TypeKind::ScalarTypeType:
        case c10::TypeKind::LayoutType:
        case c10::TypeKind::MemoryFormatType:
          if (v.kind == ValueKind::kInt || v.kind == ValueKind::kBool) {
            stack.emplace_back(v.kind == ValueKind::kInt ? v.i : static_cast<int64_t>(v.b));
            break;
          }
          return CannotEvaluate(absl::StrCat("input ", i, " is not an int"));
        case c10::TypeKind::FloatType:
          if (v.kind == ValueKind::kFloat || v.kind == ValueKind::kInt) {
            stack.emplace_back(v.kind == ValueKind::kFloat ? v.f : static_cast<double>(v.i));
            break;
          }
          return CannotEvaluate(absl::StrCat("input ", i, " is not a float"));
        case c10::TypeKind::BoolType:
          if (v.kind == ValueKind::kBool || v.kind == ValueKind::kInt) {
            stack.emplace_back(v.kind == ValueKind::kBool ? v.b : v.i != 0);
            break;
          }
          return CannotEvaluate(absl::StrCat("input ", i, " is not a bool"));
        case c10::TypeKind::NumberType:
          if (v.kind == ValueKind::kInt) {
            stack.emplace_back(v.i);
          } else if (v.kind == ValueKind::kFloat) {
            stack.emplace_back(v.f);
          } else if (v.kind == ValueKind::kBool) {
            stack.emplace_back(v.b);
          } else {
            return CannotEvaluate(absl::StrCat("input ", i, " is not a number"));
          }
          break;
        case c10::TypeKind::StringType:
          if (v.kind != ValueKind::kString) {
            return CannotEvaluate(absl::StrCat("input ", i, " is not a string"));
          }
          stack.emplace_back(v.s);
          break;
        case c10::TypeKind::DeviceObjType:
          // Host tensors live on the CPU; the model's device placement means nothing here.
          stack.emplace_back(c10::Device(c10::kCPU));
          break;
        case c10::TypeKind::ListType: {
          const c10::TypePtr elem = type->expectRef<c10::ListType>().getElementType();
          const size_t fixed = static_cast<size_t>(args[i].N().value_or(1));
          if (elem->kind() == c10::TypeKind::IntType) {
            if (v.kind == ValueKind::kIntList) {
              stack.emplace_back(v.ints);
            } else if (v.kind == ValueKind::kInt) {  // int[2] given one int
              stack.emplace_back(std::vector<int64_t>(fixed, v.i));
            } else {
              return CannotEvaluate(absl::StrCat("input ", i, " is not an int list"));
            }
          } else if (elem->kind() == c10::TypeKind::FloatType && v.kind == ValueKind::kFloatList) {
            stack.emplace_back(v.floats);
          } else if (elem->kind() == c10::TypeKind::BoolType && v.kind == ValueKind::kBoolList) {
            c10::List<bool> bools;
            for (bool b : v.bools) bools.push_back(b);
            stack.emplace_back(std::move(bools));
          } else if (elem->kind() == c10::TypeKind::TensorType ||
                     (elem->kind() == c10::TypeKind::OptionalType &&
                      elem->expectRef<c10::OptionalType>().getElementType()->kind() ==
                          c10::TypeKind::TensorType)) {
            const bool optional = elem->kind() == c10::TypeKind::OptionalType;
            c10::List<at::Tensor> tensors;
            c10::List<c10::optional<at::Tensor>> maybe;
            for (ValueId e : v.elements) {
              const Value& ev = g.value(g.Resolve(e));
              if (ev.kind == ValueKind::kNone) {
                if (!optional) return CannotEvaluate("a None in a tensor list");
                maybe.push_back(c10::nullopt);
                continue;
              }
              absl::StatusOr<at::Tensor> t = s.TensorFor(g, e);
              if (!t.ok()) return t.status();
              if (s.uninitialized.count(StorageOf(*t)) != 0) {
                return Error(
                    ErrorClass::kConversion,
                    absl::StrCat("reads '", ev.name, "', uninitialized memory not fully written"));
              }
              if (optional) {
                maybe.push_back(*t);
              } else {
                tensors.push_back(*t);
              }
            }
            if (optional) {
              stack.emplace_back(std::move(maybe));
            } else {
              stack.emplace_back(std::move(tensors));
            }
          } else {
            return CannotEvaluate(absl::StrCat("input ", i, " is a list of ", elem->str()));
          }
          break;
        }
        default:
          return CannotEvaluate(absl::StrCat("input ", i, " has type ", type->str()));
      }
    }
  } catch (const std::exception& e) {
    return CannotEvaluate(FirstLine(e.what()));
  }

  try {
    op->getOperation()(stack);
  } catch (const c10::Error& e) {
    const std::string what = FirstLine(e.what_without_backtrace());
    if (targets.empty()) return CannotEvaluate(what);
    return Error(ErrorClass::kConversion, absl::StrCat("failed on the host: ", what));
  } catch (const std::exception& e) {
    if (targets.empty()) return CannotEvaluate(FirstLine(e.what()));
    return Error(ErrorClass::kConversion,
                 absl::StrCat("failed on the host: ", FirstLine(e.what())));
  }
  if (OverwritesTarget(n) && targets.size() == 1 && CoversStorage(targets[0])) {
    s.uninitialized.erase(StorageOf(targets[0]));
  }
  if (stack.size() != n.outputs.size()) {
    return CannotEvaluate(
        absl::StrCat("it returned ", stack.size(), " values for ", n.outputs.size(), " outputs"));
  }

  Result result;
  for (size_t k = 0; k < stack.size(); ++k) {
    const c10::IValue& r = stack[k];
    Value out;
    out.is_const = true;
    if (r.isTensor()) {
      const at::Tensor& t = r.toTensor();
      if (!Representable(t.scalar_type())) {
        return CannotEvaluate(
            absl::StrCat("its result has dtype ", c10::toString(t.scalar_type())));
      }
      if (t.numel() > options_.max_elements) {
        return CannotEvaluate(absl::StrCat("its result has ", t.numel(),
                                           " elements, over the host-evaluation limit of ",
                                           options_.max_elements));
      }
      if (AllocatesUninitialized(n)) s.uninitialized.insert(StorageOf(t));
      absl::StatusOr<Value> snapshot = s.Snapshot(t);
      if (!snapshot.ok()) return CannotEvaluate(std::string(snapshot.status().message()));
      out = *std::move(snapshot);
    } else if (r.isInt()) {
      out.kind = ValueKind::kInt;
      out.i = r.toInt();
    } else if (r.isDouble()) {
      out.kind = ValueKind::kFloat;
      out.f = r.toDouble();
    } else if (r.isBool()) {
      out.kind = ValueKind::kBool;
      out.b = r.toBool();
    } else {
      return CannotEvaluate(absl::StrCat("it returns a ", r.tagKind()));
    }
    result.outputs.push_back(std::move(out));
  }
  for (size_t k = 0; k < stack.size(); ++k) {
    if (stack[k].isTensor()) s.live[n.outputs[k]] = stack[k].toTensor();
  }

  // Every other host tensor on a written storage has new contents.
  std::set<const c10::StorageImpl*> written;
  for (const at::Tensor& t : targets) written.insert(StorageOf(t));
  for (const auto& [id, t] : s.live) {
    if (written.count(StorageOf(t)) == 0 ||
        std::find(n.outputs.begin(), n.outputs.end(), id) != n.outputs.end()) {
      continue;
    }
    absl::StatusOr<Value> snapshot = s.Snapshot(t);
    if (!snapshot.ok()) {
      return Error(ErrorClass::kConversion, std::string(snapshot.status().message()));
    }
    result.written.emplace_back(id, *std::move(snapshot));
  }
  return result;
}

}  // namespace ts2coreml::core
