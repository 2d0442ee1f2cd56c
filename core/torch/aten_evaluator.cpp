#include "core/torch/aten_evaluator.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/torch/aten_evaluator_steps.h"
#include "core/torch/graph_importer.h"
#include "torch/csrc/jit/runtime/operator.h"

namespace ts2coreml::core {
namespace {

/// The deterministic aten:: operator with the node's schema name and overload, if any: a
/// dispatcher op (whose tags say whether it is random), or aten::tensor, the TorchScript-only op
/// scripted models make tensor literals with (`mask[0:2] = 1`).
/// With `any_kernel`, a random op's too (typing needs no determinism).
std::shared_ptr<torch::jit::Operator> FindOperator(const Node& n, bool any_kernel = false) {
  if (n.kind.rfind("aten::", 0) != 0) return nullptr;
  for (const auto& op : torch::jit::getAllOperatorsFor(c10::Symbol::fromQualString(n.kind))) {
    if (op->schema().overload_name() != n.overload) continue;
    if ((!op->isC10Op() && n.kind != "aten::tensor") || op->schema().is_vararg() ||
        op->schema().returns().empty()) {
      return nullptr;
    }
    for (at::Tag tag : op->getTags()) {
      if (tag == at::Tag::nondeterministic_seeded && !any_kernel) return nullptr;
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

/// Step 2: runs `op`'s kernel on `stack`. A failure is the node's error (kConversion) when it
/// writes in place, since nothing else can do that write; else kUnimplemented.
absl::Status RunKernel(torch::jit::Operator& op, bool writes, torch::jit::Stack* stack) {
  std::string what;
  try {
    op.getOperation()(*stack);
    return absl::OkStatus();
  } catch (const c10::Error& e) {
    what = FirstLine(e.what_without_backtrace());
  } catch (const std::exception& e) {
    what = FirstLine(e.what());
  }
  if (!writes) return CannotEvaluate(what);
  return Error(ErrorClass::kConversion, absl::StrCat("failed on the host: ", what));
}

/// OK when a result of `numel` elements is within the host-evaluation limit, else why not.
absl::Status WithinLimit(int64_t numel, int64_t max_elements) {
  if (numel <= max_elements) return absl::OkStatus();
  return CannotEvaluate(absl::StrCat(
      "its result has ", numel, " elements, over the host-evaluation limit of ", max_elements));
}

/// A shape-only (meta) tensor of value `v`'s type: a constant's dtype, else its class's nominal
/// dtype.
absl::StatusOr<at::Tensor> MetaTensor(const Value& v) {
  if (v.is_const && v.tensor) {
    const at::Tensor t = BorrowTensor(*v.tensor);
    return at::empty(t.sizes(), t.options().device(at::kMeta));
  }
  if (!v.typed || v.kind != ValueKind::kTensor) {
    return CannotEvaluate(absl::StrCat("'", v.name, "' has no known type"));
  }
  return at::empty(v.shape, at::TensorOptions().dtype(NominalType(v.type_class)).device(at::kMeta));
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

  /// The tensor for graph value `id` (`v`) passed as schema argument `arg`, or as an element
  /// of a Tensor[] argument when `in_list`. One the op writes into (`Tensor(a!)`) is added to
  /// `targets`: never a model constant, nor a run-time tensor; one it reads must have been fully
  /// written; a view's source (`Tensor(a)`) is aliased, not read.
  absl::StatusOr<at::Tensor> TensorArgument(const Graph& g, ValueId id, const Value& v,
                                            const c10::Argument& arg, bool in_list,
                                            std::vector<at::Tensor>* targets) {
    absl::StatusOr<at::Tensor> t = TensorFor(g, id);
    if (!t.ok()) return t.status();
    if (in_list) {
      if (uninitialized.count(StorageOf(*t)) != 0) {
        return Error(ErrorClass::kConversion,
                     absl::StrCat("reads '", v.name, "', uninitialized memory not fully written"));
      }
      return t;
    }
    const c10::AliasInfo* alias = arg.alias_info();
    const bool writes = alias != nullptr && alias->isWrite();
    const bool viewed = alias != nullptr && !writes;
    if (writes) {
      if (auto b = borrowed.find(StorageOf(*t)); b != borrowed.end()) {
        return Error(
            ErrorClass::kConversion,
            absl::StrCat(
                "writes in place into model constant '", b->second,
                "' (or a view of it); the model's own constants are not changed at conversion time: clone() it before writing"));
      }
      if (!v.is_const && live.count(g.Resolve(id)) == 0) {
        return CannotEvaluate(absl::StrCat("writes into run-time tensor '", v.name, "'"));
      }
      targets->push_back(*t);
    } else if (!viewed && uninitialized.count(StorageOf(*t)) != 0) {
      return Error(
          ErrorClass::kConversion,
          absl::StrCat(
              "reads '", v.name,
              "', uninitialized memory (aten::empty, new_empty, empty_like) not fully written before; write all of it first (fill_, zero_, copy_)"));
    }
    return t;
  }

  /// Step 1: every input of `n` onto `stack` as its schema argument; the tensors the op writes
  /// in place go to `targets`.
  absl::Status PushArguments(const Graph& g, const Node& n, const std::vector<c10::Argument>& args,
                             torch::jit::Stack* stack, std::vector<at::Tensor>* targets) {
    auto tensor = [&](ValueId id, const Value& v, const c10::Argument& arg, bool in_list) {
      return TensorArgument(g, id, v, arg, in_list, targets);
    };
    try {
      for (size_t i = 0; i < args.size(); ++i) {
        absl::StatusOr<c10::IValue> a = SchemaArgument(g, n, i, args[i], tensor);
        if (!a.ok()) return a.status();
        stack->push_back(*std::move(a));
      }
    } catch (const std::exception& e) {
      return CannotEvaluate(FirstLine(e.what()));
    }
    return absl::OkStatus();
  }

  /// A tensor result of `n` as a host constant; kUnimplemented for a dtype a ConstTensor cannot
  /// hold or more than `max_elements` elements.
  absl::StatusOr<Value> TensorResult(const Node& n, const at::Tensor& t, int64_t max_elements) {
    if (!Representable(t.scalar_type())) {
      return CannotEvaluate(absl::StrCat("its result has dtype ", c10::toString(t.scalar_type())));
    }
    if (absl::Status s = WithinLimit(t.numel(), max_elements); !s.ok()) return s;
    if (AllocatesUninitialized(n)) uninitialized.insert(StorageOf(t));
    absl::StatusOr<Value> snapshot = Snapshot(t);
    if (!snapshot.ok()) return CannotEvaluate(std::string(snapshot.status().message()));
    return snapshot;
  }

  /// Step 3: every result on `stack` as a host constant.
  absl::StatusOr<HostEvaluator::Result> CollectResults(const Node& n,
                                                       const torch::jit::Stack& stack,
                                                       int64_t max_elements) {
    HostEvaluator::Result result;
    for (const c10::IValue& r : stack) {
      absl::StatusOr<Value> out =
          r.isTensor() ? TensorResult(n, r.toTensor(), max_elements) : ScalarResult(r);
      if (!out.ok()) return out.status();
      result.outputs.push_back(*std::move(out));
    }
    return result;
  }

  /// Step 4: the new contents of every host tensor (other than `n`'s outputs) on a storage one of
  /// `targets` shares, into `result->written`.
  absl::Status SnapshotWritten(const Node& n, const std::vector<at::Tensor>& targets,
                               HostEvaluator::Result* result) {
    std::set<const c10::StorageImpl*> written;
    for (const at::Tensor& t : targets) written.insert(StorageOf(t));
    for (const auto& [id, t] : live) {
      if (written.count(StorageOf(t)) == 0 ||
          std::find(n.outputs.begin(), n.outputs.end(), id) != n.outputs.end()) {
        continue;
      }
      absl::StatusOr<Value> snapshot = Snapshot(t);
      if (!snapshot.ok()) {
        return Error(ErrorClass::kConversion, std::string(snapshot.status().message()));
      }
      result->written.emplace_back(id, *std::move(snapshot));
    }
    return absl::OkStatus();
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

absl::Status AtenEvaluator::RefuseResultsOverLimit(const Graph& g, int index) {
  absl::StatusOr<std::vector<Value>> types = InferOutputTypes(g, index);
  if (!types.ok()) return absl::OkStatus();  // no meta kernel: the result's size is checked after
  for (const Value& v : *types) {
    int64_t numel = 1;
    for (int64_t d : v.shape) {
      if (__builtin_mul_overflow(numel, d, &numel)) numel = std::numeric_limits<int64_t>::max();
    }
    if (absl::Status s = WithinLimit(numel, options_.max_elements); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<HostEvaluator::Result> AtenEvaluator::Evaluate(const Graph& g, int index) {
  const Node& n = g.nodes().at(static_cast<size_t>(index));
  std::shared_ptr<torch::jit::Operator> op = FindOperator(n);
  if (!op) return CannotEvaluate("no deterministic ATen kernel");
  const std::vector<c10::Argument>& args = op->schema().arguments();
  if (n.inputs.size() != args.size()) {
    return CannotEvaluate(
        absl::StrCat("the node has ", n.inputs.size(), " inputs, its schema ", args.size()));
  }
  if (absl::Status st = RefuseResultsOverLimit(g, index); !st.ok()) return st;
  State& s = *state_;
  torch::jit::Stack stack;
  std::vector<at::Tensor> targets;  // tensors the op writes in place
  if (absl::Status st = s.PushArguments(g, n, args, &stack, &targets); !st.ok()) return st;
  if (absl::Status st = RunKernel(*op, !targets.empty(), &stack); !st.ok()) return st;
  if (OverwritesTarget(n) && targets.size() == 1 && CoversStorage(targets[0])) {
    s.uninitialized.erase(StorageOf(targets[0]));
  }
  if (stack.size() != n.outputs.size()) {
    return CannotEvaluate(
        absl::StrCat("it returned ", stack.size(), " values for ", n.outputs.size(), " outputs"));
  }
  absl::StatusOr<Result> result = s.CollectResults(n, stack, options_.max_elements);
  if (!result.ok()) return result;
  for (size_t k = 0; k < stack.size(); ++k) {
    if (stack[k].isTensor()) s.live[n.outputs[k]] = stack[k].toTensor();
  }
  if (absl::Status st = s.SnapshotWritten(n, targets, &*result); !st.ok()) return st;
  return result;
}

absl::Status CannotEvaluate(const std::string& why) {
  return absl::UnimplementedError(absl::StrCat("not evaluated on the host: ", why));
}

absl::StatusOr<c10::IValue> ScalarArgument(const c10::Type& type, const Value& v, size_t i) {
  switch (type.kind()) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::ScalarTypeType:
    case c10::TypeKind::LayoutType:
    case c10::TypeKind::MemoryFormatType:
      if (v.kind == ValueKind::kInt) return c10::IValue(v.i);
      if (v.kind == ValueKind::kBool) return c10::IValue(static_cast<int64_t>(v.b));
      return CannotEvaluate(absl::StrCat("input ", i, " is not an int"));
    case c10::TypeKind::FloatType:
      if (v.kind == ValueKind::kFloat) return c10::IValue(v.f);
      if (v.kind == ValueKind::kInt) return c10::IValue(static_cast<double>(v.i));
      return CannotEvaluate(absl::StrCat("input ", i, " is not a float"));
    case c10::TypeKind::BoolType:
      if (v.kind == ValueKind::kBool) return c10::IValue(v.b);
      if (v.kind == ValueKind::kInt) return c10::IValue(v.i != 0);
      return CannotEvaluate(absl::StrCat("input ", i, " is not a bool"));
    case c10::TypeKind::NumberType:
      if (v.kind == ValueKind::kInt) return c10::IValue(v.i);
      if (v.kind == ValueKind::kFloat) return c10::IValue(v.f);
      if (v.kind == ValueKind::kBool) return c10::IValue(v.b);
      return CannotEvaluate(absl::StrCat("input ", i, " is not a number"));
    case c10::TypeKind::StringType:
      if (v.kind == ValueKind::kString) return c10::IValue(v.s);
      return CannotEvaluate(absl::StrCat("input ", i, " is not a string"));
    case c10::TypeKind::DeviceObjType:
      // Host tensors live on the CPU; the model's device placement means nothing here.
      return c10::IValue(c10::Device(c10::kCPU));
    default:
      return CannotEvaluate(absl::StrCat("input ", i, " has type ", type.str()));
  }
}

absl::StatusOr<c10::IValue> NumberListArgument(const c10::Type& element, const Value& v, size_t i,
                                               size_t fixed) {
  if (element.kind() == c10::TypeKind::IntType) {
    if (v.kind == ValueKind::kIntList) return c10::IValue(v.ints);
    if (v.kind == ValueKind::kInt) return c10::IValue(std::vector<int64_t>(fixed, v.i));
    return CannotEvaluate(absl::StrCat("input ", i, " is not an int list"));
  }
  if (element.kind() == c10::TypeKind::FloatType && v.kind == ValueKind::kFloatList) {
    return c10::IValue(v.floats);
  }
  if (element.kind() == c10::TypeKind::BoolType && v.kind == ValueKind::kBoolList) {
    c10::List<bool> bools;
    for (bool b : v.bools) bools.push_back(b);
    return c10::IValue(std::move(bools));
  }
  return CannotEvaluate(absl::StrCat("input ", i, " is a list of ", element.str()));
}

namespace {

/// Whether list element type `elem` is Tensor (false) or Tensor? (true); none for other lists.
c10::optional<bool> TensorListOptional(const c10::Type& elem) {
  if (elem.kind() == c10::TypeKind::TensorType) return false;
  if (elem.kind() == c10::TypeKind::OptionalType &&
      elem.expectRef<c10::OptionalType>().getElementType()->kind() == c10::TypeKind::TensorType) {
    return true;
  }
  return c10::nullopt;
}

/// A Tensor[] argument (Tensor?[] when `optional`) from tensor list `list`, each element's
/// tensor from `tensor`.
absl::StatusOr<c10::IValue> TensorListArgument(const Graph& g, const Value& list,
                                               const c10::Argument& arg, bool optional,
                                               TensorSource tensor) {
  c10::List<at::Tensor> tensors;
  c10::List<c10::optional<at::Tensor>> maybe;
  for (ValueId e : list.elements) {
    const Value& ev = g.value(g.Resolve(e));
    if (ev.kind == ValueKind::kNone) {
      if (!optional) return CannotEvaluate("a None in a tensor list");
      maybe.push_back(c10::nullopt);
      continue;
    }
    absl::StatusOr<at::Tensor> t = tensor(e, ev, arg, /*in_list=*/true);
    if (!t.ok()) return t.status();
    if (optional) {
      maybe.push_back(*t);
    } else {
      tensors.push_back(*t);
    }
  }
  if (optional) return c10::IValue(std::move(maybe));
  return c10::IValue(std::move(tensors));
}

}  // namespace

absl::StatusOr<c10::IValue> SchemaArgument(const Graph& g, const Node& n, size_t i,
                                           const c10::Argument& arg, TensorSource tensor) {
  const Value& v = g.value(g.Resolve(n.inputs[i]));
  c10::TypePtr type = arg.type();
  if (type->kind() == c10::TypeKind::OptionalType) {
    type = type->expectRef<c10::OptionalType>().getElementType();
  }
  if (v.kind == ValueKind::kNone) return c10::IValue();
  if (type->kind() == c10::TypeKind::TensorType) {
    absl::StatusOr<at::Tensor> t = tensor(n.inputs[i], v, arg, /*in_list=*/false);
    if (!t.ok()) return t.status();
    return c10::IValue(*std::move(t));
  }
  if (type->kind() != c10::TypeKind::ListType) return ScalarArgument(*type, v, i);
  const c10::TypePtr elem = type->expectRef<c10::ListType>().getElementType();
  if (c10::optional<bool> optional = TensorListOptional(*elem)) {
    return TensorListArgument(g, v, arg, *optional, tensor);
  }
  return NumberListArgument(*elem, v, i, static_cast<size_t>(arg.N().value_or(1)));
}

absl::StatusOr<Value> ScalarResult(const c10::IValue& r) {
  Value out;
  out.is_const = true;
  if (r.isInt()) {
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
  return out;
}

absl::StatusOr<std::vector<Value>> AtenEvaluator::InferOutputTypes(const Graph& g, int index) {
  const Node& n = g.nodes().at(static_cast<size_t>(index));
  std::shared_ptr<torch::jit::Operator> op = FindOperator(n, /*any_kernel=*/true);
  if (!op) return CannotEvaluate("no ATen kernel");
  const std::vector<c10::Argument>& args = op->schema().arguments();
  if (n.inputs.size() != args.size()) return CannotEvaluate("the node does not match its schema");
  auto meta_tensor = [](ValueId, const Value& v, const c10::Argument&, bool) {
    return MetaTensor(v);
  };
  torch::jit::Stack stack;
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      absl::StatusOr<c10::IValue> a = SchemaArgument(g, n, i, args[i], meta_tensor);
      if (!a.ok()) return a.status();
      stack.push_back(*std::move(a));
    }
    op->getOperation()(stack);
  } catch (const c10::Error& e) {
    return CannotEvaluate(FirstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return CannotEvaluate(FirstLine(e.what()));
  }
  if (stack.size() != n.outputs.size()) return CannotEvaluate("it returned another arity");
  std::vector<Value> out;
  for (const c10::IValue& r : stack) {
    if (!r.isTensor() || !Representable(r.toTensor().scalar_type())) {
      return CannotEvaluate("a result is not a tensor Core ML can hold");
    }
    Value v;
    v.kind = ValueKind::kTensor;
    v.typed = true;
    v.type_class = TypeClassOf(r.toTensor().scalar_type());
    v.shape = r.toTensor().sizes().vec();
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace ts2coreml::core
