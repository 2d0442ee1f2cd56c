#include "core/interp/op_context.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ts2coreml/mil_opset.h"

namespace ts2coreml::interp {

bool IsFloatType(milspec::DataType d) {
  return d == milspec::FLOAT16 || d == milspec::FLOAT32 || d == milspec::FLOAT64 ||
         d == milspec::BFLOAT16;
}

bool IsIntType(milspec::DataType d) {
  return d == milspec::INT8 || d == milspec::INT16 || d == milspec::INT32 || d == milspec::INT64 ||
         d == milspec::UINT8 || d == milspec::UINT16;
}

at::ScalarType StorageType(milspec::DataType d) {
  if (d == milspec::BOOL) return at::kBool;
  if (IsIntType(d)) return at::kInt;
  return at::kFloat;
}

at::Tensor RoundToFp16(const at::Tensor& t) { return t.to(at::kHalf).to(at::kFloat); }

int64_t NormalizeAxis(int64_t axis, int64_t rank) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    throw OpError(absl::StrCat("axis ", axis, " is out of range for rank ", rank));
  }
  return a;
}

OpContext::OpContext(const milspec::Operation& op,
                     std::map<std::string, std::vector<const Value*>> inputs)
    : op_(op), inputs_(std::move(inputs)) {}

void OpContext::RefuseUnknownInputs(int ios) const {
  const opset::OpSpec* spec = opset::Opset::Get().Find(type(), ios);
  if (spec == nullptr) return;
  for (const auto& [name, values] : inputs_) {
    if (spec->FindInput(name) == nullptr) {
      Fail(absl::StrCat("unknown input '", name, "' (inputs: ", spec->InputNames(), ")"));
    }
  }
}

bool OpContext::Has(absl::string_view name) const {
  auto it = inputs_.find(std::string(name));
  return it != inputs_.end() && !it->second.empty();
}

const Value& OpContext::Input(absl::string_view name) const {
  auto it = inputs_.find(std::string(name));
  if (it == inputs_.end() || it->second.empty()) {
    Fail(absl::StrCat("required input '", std::string(name), "' is not bound"));
  }
  if (it->second.size() != 1) {
    Fail(absl::StrCat("input '", std::string(name), "' has ", it->second.size(),
                      " bindings, expected one"));
  }
  return *it->second[0];
}

std::vector<const Value*> OpContext::Tuple(absl::string_view name) const {
  auto it = inputs_.find(std::string(name));
  if (it == inputs_.end() || it->second.empty()) {
    Fail(absl::StrCat("required input '", std::string(name), "' is not bound"));
  }
  return it->second;
}

at::Tensor OpContext::OptionalTensor(absl::string_view name) const {
  return Has(name) ? Tensor(name) : at::Tensor();
}

namespace {

at::Tensor HostTensor(const OpContext& ctx, absl::string_view name) {
  const Value& v = ctx.Input(name);
  if (v.is_string()) ctx.Fail(absl::StrCat("input '", std::string(name), "' is a string"));
  return v.tensor.contiguous();
}

}  // namespace

int64_t OpContext::Int(absl::string_view name) const {
  at::Tensor t = HostTensor(*this, name);
  if (t.numel() != 1) Fail(absl::StrCat("input '", std::string(name), "' must be a scalar"));
  return t.to(at::kDouble).item<double>();
}

int64_t OpContext::Int(absl::string_view name, int64_t fallback) const {
  return Has(name) ? Int(name) : fallback;
}

std::vector<int64_t> OpContext::Ints(absl::string_view name) const {
  at::Tensor t = HostTensor(*this, name).to(at::kLong).flatten();
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

std::vector<int64_t> OpContext::Ints(absl::string_view name, std::vector<int64_t> fallback) const {
  return Has(name) ? Ints(name) : fallback;
}

double OpContext::Float(absl::string_view name) const {
  at::Tensor t = HostTensor(*this, name);
  if (t.numel() != 1) Fail(absl::StrCat("input '", std::string(name), "' must be a scalar"));
  return t.to(at::kDouble).item<double>();
}

double OpContext::Float(absl::string_view name, double fallback) const {
  return Has(name) ? Float(name) : fallback;
}

bool OpContext::Bool(absl::string_view name) const {
  at::Tensor t = HostTensor(*this, name);
  if (t.numel() != 1) Fail(absl::StrCat("input '", std::string(name), "' must be a scalar"));
  return t.to(at::kDouble).item<double>() != 0;
}

bool OpContext::Bool(absl::string_view name, bool fallback) const {
  return Has(name) ? Bool(name) : fallback;
}

std::vector<bool> OpContext::Bools(absl::string_view name, std::vector<bool> fallback) const {
  if (!Has(name)) return fallback;
  at::Tensor t = HostTensor(*this, name).to(at::kDouble).flatten();
  std::vector<bool> out;
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t[i].item<double>() != 0);
  return out;
}

std::string OpContext::String(absl::string_view name) const {
  const Value& v = Input(name);
  if (!v.is_string() || v.strings.size() != 1) {
    Fail(absl::StrCat("input '", std::string(name), "' must be a scalar string"));
  }
  return v.strings[0];
}

std::string OpContext::String(absl::string_view name, std::string fallback) const {
  return Has(name) ? String(name) : fallback;
}

milspec::DataType OpContext::DeclaredDType(int i) const {
  if (i < 0 || i >= op_.outputs_size()) Fail(absl::StrCat("the op declares no output ", i));
  return op_.outputs(i).type().tensortype().datatype();
}

std::vector<int64_t> OpContext::DeclaredShape(int i) const {
  if (i < 0 || i >= op_.outputs_size()) Fail(absl::StrCat("the op declares no output ", i));
  std::vector<int64_t> shape;
  for (const milspec::Dimension& d : op_.outputs(i).type().tensortype().dimensions()) {
    shape.push_back(d.has_constant() ? static_cast<int64_t>(d.constant().size()) : -1);
  }
  return shape;
}

milspec::DataType OpContext::FloatInputType() const {
  auto float_of = [&](const std::string& name) -> milspec::DataType {
    auto it = inputs_.find(name);
    if (it == inputs_.end()) return milspec::UNUSED_TYPE;
    for (const Value* v : it->second) {
      if (IsFloatType(v->dtype)) return v->dtype;
    }
    return milspec::UNUSED_TYPE;
  };
  for (const char* first : {"x", "values"}) {
    if (milspec::DataType d = float_of(first); d != milspec::UNUSED_TYPE) return d;
  }
  for (const auto& [name, values] : inputs_) {
    if (milspec::DataType d = float_of(name); d != milspec::UNUSED_TYPE) return d;
  }
  return milspec::FLOAT32;
}

void OpContext::SetOutput(int i, at::Tensor tensor, milspec::DataType dtype) {
  if (dtype == milspec::UNUSED_TYPE) {
    if (tensor.scalar_type() == at::kBool) {
      dtype = milspec::BOOL;
    } else if (at::isIntegralType(tensor.scalar_type(), /*includeBool=*/false)) {
      dtype = milspec::INT32;
    } else {
      dtype = FloatInputType();
    }
  }
  Value v;
  v.tensor = tensor.to(StorageType(dtype));
  v.dtype = dtype;
  outputs_[i] = std::move(v);
}

void OpContext::SetStringOutput(int i, std::vector<std::string> strings) {
  Value v;
  v.dtype = milspec::STRING;
  v.strings = std::move(strings);
  outputs_[i] = std::move(v);
}

void OpContext::Fail(const std::string& message) const { throw OpError(message); }

}  // namespace ts2coreml::interp
