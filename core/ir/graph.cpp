#include "core/ir/graph.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/mil/fp16.h"

namespace ts2coreml::core {

absl::string_view ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kNone:
      return "None";
    case ValueKind::kTensor:
      return "Tensor";
    case ValueKind::kInt:
      return "int";
    case ValueKind::kFloat:
      return "float";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kIntList:
      return "int[]";
    case ValueKind::kFloatList:
      return "float[]";
    case ValueKind::kBoolList:
      return "bool[]";
    case ValueKind::kString:
      return "str";
    case ValueKind::kTensorList:
      return "Tensor[]";
    case ValueKind::kOther:
      break;
  }
  return "other";
}

absl::string_view TypeClassName(TypeClass c) {
  switch (c) {
    case TypeClass::kFloat:
      return "float";
    case TypeClass::kInt:
      return "int";
    case TypeClass::kBool:
      return "bool";
    case TypeClass::kUnknown:
      break;
  }
  return "unknown";
}

absl::string_view InputDtypeName(InputDtype d) {
  switch (d) {
    case InputDtype::kFp32:
      return "fp32";
    case InputDtype::kFp16:
      return "fp16";
    case InputDtype::kInt32:
      return "int32";
    case InputDtype::kInt64:
      return "int64";
    case InputDtype::kBool:
      return "bool";
    case InputDtype::kUint8:
      return "uint8";
    case InputDtype::kDefault:
      break;
  }
  return "default";
}

TypeClass ClassOfInputDtype(InputDtype d) {
  switch (d) {
    case InputDtype::kInt32:
    case InputDtype::kInt64:
    case InputDtype::kUint8:
      return TypeClass::kInt;
    case InputDtype::kBool:
      return TypeClass::kBool;
    default:
      return TypeClass::kFloat;
  }
}

int64_t ConstTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

TypeClass ConstTensor::type_class() const {
  switch (storage) {
    case Storage::kFloat32:
    case Storage::kFloat16:
    case Storage::kFloat64:
      return TypeClass::kFloat;
    case Storage::kInt64:
    case Storage::kInt32:
      return TypeClass::kInt;
    case Storage::kBool:
      return TypeClass::kBool;
  }
  return TypeClass::kUnknown;
}

double ConstTensor::At(int64_t i) const {
  switch (storage) {
    case Storage::kFloat32:
      return static_cast<const float*>(data)[i];
    case Storage::kFloat16:
      return mil::HalfToFloat(static_cast<const uint16_t*>(data)[i]);
    case Storage::kFloat64:
      return static_cast<const double*>(data)[i];
    case Storage::kInt64:
      return static_cast<double>(static_cast<const int64_t*>(data)[i]);
    case Storage::kInt32:
      return static_cast<const int32_t*>(data)[i];
    case Storage::kBool:
      return static_cast<const bool*>(data)[i] ? 1.0 : 0.0;
  }
  return 0;
}

const mil::Fp16Scan& ConstTensor::Fp16Stats() const {
  if (!fp16_stats_) {
    const int64_t n = numel();
    fp16_stats_ = std::make_shared<const mil::Fp16Scan>(
        storage == Storage::kFloat32 && n > 0
            ? mil::ScanForFp16(static_cast<const float*>(data), static_cast<size_t>(n))
            : mil::Fp16Scan{});
  }
  return *fp16_stats_;
}

double ConstTensor::MaxFiniteAbs() const {
  double m = 0;
  const int64_t n = numel();
  if (storage == Storage::kFloat32) return Fp16Stats().max_abs;
  for (int64_t k = 0; k < n; ++k) {
    const double v = At(k);
    if (std::isfinite(v)) m = std::max(m, std::fabs(v));
  }
  return m;
}

std::vector<float> ConstTensor::ToFloats() const {
  const int64_t n = numel();
  std::vector<float> out(static_cast<size_t>(n));
  if (storage == Storage::kFloat32) {
    const float* p = static_cast<const float*>(data);
    out.assign(p, p + n);
    return out;
  }
  for (int64_t k = 0; k < n; ++k) out[static_cast<size_t>(k)] = static_cast<float>(At(k));
  return out;
}

std::vector<int64_t> ConstTensor::ToInts() const {
  const int64_t n = numel();
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    out[static_cast<size_t>(k)] = storage == Storage::kInt64 ? static_cast<const int64_t*>(data)[k]
                                                             : static_cast<int64_t>(At(k));
  }
  return out;
}

std::string Node::QualifiedKind() const {
  return overload.empty() ? kind : absl::StrCat(kind, ".", overload);
}

std::string Where(const Node& n) {
  return n.source.empty() ? n.QualifiedKind() : absl::StrCat(n.QualifiedKind(), " at ", n.source);
}

ValueId Graph::Resolve(ValueId id) const {
  while (id != kNoValue && values_.at(static_cast<size_t>(id)).alias != kNoValue) {
    id = values_[static_cast<size_t>(id)].alias;
  }
  return id;
}

ValueId Graph::AddValue(Value v) {
  values_.push_back(std::move(v));
  return static_cast<ValueId>(values_.size() - 1);
}

ValueId Graph::AddInput(std::string name, TypeClass type_class, std::vector<int64_t> shape) {
  Value v;
  v.name = std::move(name);
  v.kind = ValueKind::kTensor;
  v.typed = true;
  v.type_class = type_class;
  v.shape = std::move(shape);
  ValueId id = AddValue(std::move(v));
  inputs_.push_back(id);
  return id;
}

Node& Graph::AddNode(std::string kind, std::string overload, std::vector<ValueId> inputs,
                     int num_outputs) {
  Node n;
  n.kind = std::move(kind);
  n.overload = std::move(overload);
  n.inputs = std::move(inputs);
  const int32_t index = static_cast<int32_t>(nodes_.size());
  for (int k = 0; k < num_outputs; ++k) {
    Value v;
    v.name = absl::StrCat("v", values_.size());
    v.producer = index;
    n.outputs.push_back(AddValue(std::move(v)));
  }
  nodes_.push_back(std::move(n));
  return nodes_.back();
}

void Graph::AddOutput(std::string name, ValueId value) {
  outputs_.push_back({std::move(name), value});
}

ValueId Graph::AddConstInt(int64_t i) {
  Value v;
  v.name = absl::StrCat("c", values_.size());
  v.kind = ValueKind::kInt;
  v.is_const = true;
  v.i = i;
  return AddValue(std::move(v));
}

ValueId Graph::AddConstFloat(double f) {
  Value v;
  v.name = absl::StrCat("c", values_.size());
  v.kind = ValueKind::kFloat;
  v.is_const = true;
  v.f = f;
  return AddValue(std::move(v));
}

ValueId Graph::AddConstBool(bool b) {
  Value v;
  v.name = absl::StrCat("c", values_.size());
  v.kind = ValueKind::kBool;
  v.is_const = true;
  v.b = b;
  return AddValue(std::move(v));
}

ValueId Graph::AddConstInts(std::vector<int64_t> ints) {
  Value v;
  v.name = absl::StrCat("c", values_.size());
  v.kind = ValueKind::kIntList;
  v.is_const = true;
  v.ints = std::move(ints);
  return AddValue(std::move(v));
}

ValueId Graph::AddConstNone() {
  Value v;
  v.name = absl::StrCat("c", values_.size());
  v.kind = ValueKind::kNone;
  v.is_const = true;
  return AddValue(std::move(v));
}

ValueId Graph::AddConstTensor(std::string name, std::shared_ptr<const ConstTensor> t) {
  Value v;
  v.name = std::move(name);
  v.kind = ValueKind::kTensor;
  v.is_const = true;
  v.typed = true;
  v.type_class = t->type_class();
  v.shape = t->shape;
  v.tensor = std::move(t);
  return AddValue(std::move(v));
}

bool IsFloatScalarConstant(const Value& v) {
  if (!v.is_const) return false;
  if (v.kind == ValueKind::kFloat) return true;
  return v.kind == ValueKind::kTensor && v.tensor && v.tensor->numel() == 1 &&
         v.tensor->type_class() == TypeClass::kFloat;
}

bool HasBlocks(const Graph& graph) {
  for (const Node& n : graph.nodes()) {
    if (!n.blocks.empty()) return true;
  }
  return false;
}

namespace {

/// Visits the nodes of [begin, end) whose direct owner is `owner`, each control-flow node's
/// blocks before the node itself.
absl::Status WalkRange(const Graph& g, int32_t begin, int32_t end, int32_t owner,
                       BlockVisitor& visitor) {
  for (int32_t i = begin; i < end; ++i) {
    const Node& n = g.nodes()[static_cast<size_t>(i)];
    if (n.parent != owner) continue;  // inside a nested block: visited by its owner
    for (size_t b = 0; b < n.blocks.size(); ++b) {
      const int block = static_cast<int>(b);
      if (absl::Status s = visitor.EnterBlock(i, block); !s.ok()) return s;
      if (absl::Status s = WalkRange(g, n.blocks[b].begin, n.blocks[b].end, i, visitor); !s.ok()) {
        return s;
      }
      if (absl::Status s = visitor.ExitBlock(i, block); !s.ok()) return s;
    }
    if (absl::Status s = visitor.VisitNode(i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WalkGraph(const Graph& graph, BlockVisitor& visitor) {
  const int32_t n = static_cast<int32_t>(graph.nodes().size());
  if (!HasBlocks(graph)) {
    for (int32_t i = 0; i < n; ++i) {
      if (absl::Status s = visitor.VisitNode(i); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  return WalkRange(graph, 0, n, -1, visitor);
}

std::shared_ptr<const ConstTensor> MakeFloatTensor(std::vector<int64_t> shape,
                                                   std::vector<float> data) {
  auto storage = std::make_shared<std::vector<float>>(std::move(data));
  auto t = std::make_shared<ConstTensor>();
  t->storage = ConstTensor::Storage::kFloat32;
  t->shape = std::move(shape);
  t->data = storage->data();
  t->owner = storage;
  return t;
}

}  // namespace ts2coreml::core
