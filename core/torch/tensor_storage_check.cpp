#include "core/torch/tensor_storage_check.h"

#include <algorithm>
#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/errors.h"
#include "torch/csrc/jit/api/function_impl.h"
#include "torch/csrc/jit/ir/constants.h"
#include "torch/csrc/jit/ir/ir.h"

namespace ts2coreml::core {
namespace {

/// A tensor may have more elements than its storage (zero strides) only up to this many.
constexpr uint64_t kMaxRepeatedElements = uint64_t{1} << 24;

/// "Float [4, 3, 3, 3], offset 0, strides [27, 9, 3, 1]".
std::string Geometry(const at::Tensor& t) {
  return absl::StrCat(c10::toString(t.scalar_type()), " [", absl::StrJoin(t.sizes(), ", "),
                      "], offset ", t.storage_offset(), ", strides [",
                      absl::StrJoin(t.strides(), ", "), "]");
}

absl::Status Refuse(const std::string& name, const at::Tensor& t, absl::string_view what) {
  return Error(ErrorClass::kModel, absl::StrCat("tensor '", name, "' (", Geometry(t), ") ", what));
}

/// A value to visit and the name it is reached by.
struct Item {
  c10::IValue value;
  std::string name;
};

/// Visits `root` and everything inside it once, checking every tensor.
class TensorWalk {
 public:
  absl::Status Visit(const c10::IValue& root, const std::string& name);
  /// The compilation units of the objects visited (their methods' graphs hold constants).
  const std::vector<std::shared_ptr<torch::jit::CompilationUnit>>& units() const { return units_; }

 private:
  absl::Status Expand(const Item& item);
  std::vector<Item> work_;
  std::unordered_set<const void*> seen_;
  std::vector<std::shared_ptr<torch::jit::CompilationUnit>> units_;
};

absl::Status TensorWalk::Expand(const Item& item) {
  const c10::IValue& v = item.value;
  if (v.isTensor()) return CheckTensorInStorage(v.toTensor(), item.name);
  if (v.isObject()) {
    const auto obj = v.toObject();
    const c10::ClassTypePtr type = obj->type();
    std::shared_ptr<torch::jit::CompilationUnit> unit = obj->compilation_unit();
    if (unit && std::find(units_.begin(), units_.end(), unit) == units_.end())
      units_.push_back(unit);
    for (size_t i = 0; i < type->numAttributes() && i < obj->slots().size(); ++i) {
      const std::string& attr = type->getAttributeName(i);
      work_.push_back(
          {obj->getSlot(i), item.name.empty() ? attr : absl::StrCat(item.name, ".", attr)});
    }
  } else if (v.isTuple()) {
    const auto& elements = v.toTupleRef().elements();
    for (size_t i = 0; i < elements.size(); ++i)
      work_.push_back({elements[i], absl::StrCat(item.name, "[", i, "]")});
  } else if (v.isList()) {
    const c10::List<c10::IValue> list = v.toList();
    for (size_t i = 0; i < list.size(); ++i)
      work_.push_back({list.get(i), absl::StrCat(item.name, "[", i, "]")});
  } else if (v.isGenericDict()) {
    size_t i = 0;
    for (const auto& entry : v.toGenericDict()) {
      work_.push_back({entry.key(), absl::StrCat(item.name, "{key ", i, "}")});
      work_.push_back({entry.value(), absl::StrCat(item.name, "{", i++, "}")});
    }
  }
  return absl::OkStatus();
}

absl::Status TensorWalk::Visit(const c10::IValue& root, const std::string& name) {
  work_.push_back({root, name});
  while (!work_.empty()) {
    Item item = std::move(work_.back());
    work_.pop_back();
    if (item.value.isPtrType() && !item.value.isTensor() &&
        !seen_.insert(item.value.internalToPointer()).second) {
      continue;
    }
    absl::Status s = Expand(item);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

/// The tensor constants of every graph in `unit`.
absl::Status CheckGraphConstants(torch::jit::CompilationUnit& unit, TensorWalk* walk) {
  for (torch::jit::Function* fn : unit.get_functions()) {
    torch::jit::GraphFunction* graph_fn = torch::jit::tryToGraphFunction(*fn);
    if (graph_fn == nullptr) continue;
    std::vector<torch::jit::Block*> blocks = {graph_fn->graph()->block()};
    while (!blocks.empty()) {
      torch::jit::Block* block = blocks.back();
      blocks.pop_back();
      for (torch::jit::Node* node : block->nodes()) {
        for (torch::jit::Block* sub : node->blocks()) blocks.push_back(sub);
        if (node->kind() != c10::prim::Constant || node->outputs().size() != 1) continue;
        const c10::optional<c10::IValue> value = torch::jit::toIValue(node->output());
        if (!value) continue;
        absl::Status s =
            walk->Visit(*value, absl::StrCat(fn->qualname().qualifiedName(), " constant %",
                                             node->output()->debugName()));
        if (!s.ok()) return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckTensorInStorage(const at::Tensor& t, const std::string& name) {
  if (!t.defined()) return absl::OkStatus();
  if (t.is_sparse()) {
    absl::Status s = CheckTensorInStorage(t._indices(), name + " (indices)");
    return s.ok() ? CheckTensorInStorage(t._values(), name + " (values)") : s;
  }
  if (!t.has_storage())
    return Refuse(name, t, "has no storage (only dense and sparse tensors are read)");
  const int64_t offset = t.storage_offset();
  if (offset < 0) return Refuse(name, t, "starts before its storage");
  uint64_t last = static_cast<uint64_t>(offset);
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t size = t.size(d), stride = t.stride(d);
    if (size < 0 || stride < 0) return Refuse(name, t, "has a negative size or stride");
    if (size == 0) return absl::OkStatus();  // no elements: nothing is read
    uint64_t reach = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(size - 1), static_cast<uint64_t>(stride),
                               &reach) ||
        __builtin_add_overflow(last, reach, &last)) {
      return Refuse(name, t, "reaches beyond 2^64 elements");
    }
  }
  uint64_t need = 0;
  if (__builtin_add_overflow(last, 1, &need) ||
      __builtin_mul_overflow(need, static_cast<uint64_t>(t.element_size()), &need)) {
    return Refuse(name, t, "reaches beyond 2^64 bytes");
  }
  const c10::Storage& storage = t.storage();
  const uint64_t numel = static_cast<uint64_t>(t.numel());
  if (numel > storage.nbytes() / static_cast<uint64_t>(t.element_size()) &&
      numel > kMaxRepeatedElements) {
    return Refuse(name, t, "repeats its storage's elements (zero strides) beyond 2^24 elements");
  }
  if (need > storage.nbytes()) {
    return Refuse(
        name, t,
        absl::StrCat("needs ", need, " bytes of its storage, which holds ", storage.nbytes()));
  }
  if (storage.data() == nullptr) return Refuse(name, t, "has a storage without data");
  return absl::OkStatus();
}

absl::Status CheckModuleTensors(const torch::jit::Module& module) {
  TensorWalk walk;
  absl::Status s = walk.Visit(module._ivalue(), "");
  // A copy: visiting constants can add units (objects held as constants).
  const std::vector<std::shared_ptr<torch::jit::CompilationUnit>> units = walk.units();
  for (size_t i = 0; s.ok() && i < units.size(); ++i) s = CheckGraphConstants(*units[i], &walk);
  return s;
}

}  // namespace ts2coreml::core
