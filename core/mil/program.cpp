#include "core/mil/program.h"

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/mil/fp16.h"

namespace ts2coreml::mil {

std::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kBool:
      return "bool";
    case DType::kString:
      return "string";
    case DType::kFloat16:
      return "fp16";
    case DType::kFloat32:
      return "fp32";
    case DType::kInt32:
      return "int32";
    case DType::kInvalid:
      break;
  }
  return "invalid";
}

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kBool:
      return 1;
    case DType::kFloat16:
      return 2;
    case DType::kFloat32:
    case DType::kInt32:
      return 4;
    case DType::kString:
    case DType::kInvalid:
      break;
  }
  return 0;
}

bool IsFloat(DType dtype) { return dtype == DType::kFloat16 || dtype == DType::kFloat32; }

int64_t TensorType::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorType::ToString() const {
  return absl::StrCat(std::string(DTypeName(dtype)), "[", absl::StrJoin(shape, ","), "]");
}

namespace {
int64_t Numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

template <typename T>
ConstValue RawConst(DType dtype, std::vector<int64_t> shape, const T* data) {
  ConstValue v;
  const size_t n = static_cast<size_t>(Numel(shape));
  v.type = {dtype, std::move(shape)};
  v.bytes.resize(n * sizeof(T));
  if (n > 0) std::memcpy(v.bytes.data(), data, n * sizeof(T));
  return v;
}
}  // namespace

ConstValue ConstValue::Float32(std::vector<int64_t> shape, const float* data) {
  return RawConst(DType::kFloat32, std::move(shape), data);
}

ConstValue ConstValue::Float16(std::vector<int64_t> shape, const float* data) {
  const size_t n = static_cast<size_t>(Numel(shape));
  std::vector<uint16_t> halves(n);
  FloatsToHalves(data, halves.data(), n);
  return RawConst(DType::kFloat16, std::move(shape), halves.data());
}

ConstValue ConstValue::Int32(std::vector<int64_t> shape, const int32_t* data) {
  return RawConst(DType::kInt32, std::move(shape), data);
}

ConstValue ConstValue::Bool(std::vector<int64_t> shape, const bool* data) {
  const size_t n = static_cast<size_t>(Numel(shape));
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) bytes[i] = data[i] ? 1 : 0;
  return RawConst(DType::kBool, std::move(shape), bytes.data());
}

ConstValue ConstValue::Deferred(DType dtype, std::vector<int64_t> shape, ConstSource source) {
  ConstValue v;
  v.type = {dtype, std::move(shape)};
  v.source = std::move(source);
  return v;
}

size_t ConstValue::byte_size() const {
  if (!source) return bytes.size();
  const int64_t n = type.numel();
  return n > 0 ? static_cast<size_t>(n) * DTypeSize(type.dtype) : 0;
}

absl::Status ConstValue::Stream(
    const std::function<absl::Status(const void* data, size_t bytes)>& sink,
    size_t max_elements) const {
  if (!source) {
    return bytes.empty() ? absl::OkStatus() : sink(bytes.data(), bytes.size());
  }
  const bool fp16_in = source->dtype == DType::kFloat16;
  const bool fp16_out = type.dtype == DType::kFloat16;
  if ((!fp16_in && source->dtype != DType::kFloat32) ||
      (!fp16_out && type.dtype != DType::kFloat32)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a deferred constant converts between fp16 and fp32 only, not ",
                     std::string(DTypeName(source->dtype)), " to ", type.ToString()));
  }
  const int64_t numel = type.numel();
  if (numel < 0) return absl::InvalidArgumentError("deferred constant of unknown shape");
  const size_t n = static_cast<size_t>(numel);
  if (n > 0 && source->data == nullptr) return absl::InvalidArgumentError("deferred data is null");
  if (fp16_in == fp16_out) {  // same dtype: the source bytes as they are
    return n == 0 ? absl::OkStatus() : sink(source->data, n * DTypeSize(type.dtype));
  }
  max_elements = std::max<size_t>(max_elements, 1);
  std::vector<uint8_t> piece(std::min(n, max_elements) * DTypeSize(type.dtype));
  for (size_t begin = 0; begin < n; begin += max_elements) {
    const size_t count = std::min(max_elements, n - begin);
    if (fp16_out) {
      FloatsToHalves(static_cast<const float*>(source->data) + begin,
                     reinterpret_cast<uint16_t*>(piece.data()), count);
    } else {
      const uint16_t* in = static_cast<const uint16_t*>(source->data) + begin;
      for (size_t i = 0; i < count; ++i) {
        const float f = HalfToFloat(in[i]);
        std::memcpy(piece.data() + 4 * i, &f, 4);
      }
    }
    if (absl::Status s = sink(piece.data(), count * DTypeSize(type.dtype)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::vector<uint8_t> ConstValue::Materialize() const {
  if (!source) return bytes;
  std::vector<uint8_t> out;
  out.reserve(byte_size());
  absl::Status s = Stream([&out](const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    out.insert(out.end(), p, p + n);
    return absl::OkStatus();
  });
  if (!s.ok()) out.clear();
  return out;
}

ConstValue ConstValue::String(std::string value) {
  ConstValue v;
  v.type = {DType::kString, {}};
  v.strings.push_back(std::move(value));
  return v;
}

std::string SanitizeName(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(out.begin(), '_');
  return out;
}

std::string Function::UniqueName(std::string_view hint) {
  const std::string base = SanitizeName(hint);
  auto free = [&](const std::string& name) {
    return reserved_.count(name) == 0 && used_names_.count(name) == 0;
  };
  if (free(base)) {
    used_names_.emplace(base, 0);
    return base;
  }
  // Append the smallest free numeric suffix; deterministic for a given sequence of requests.
  int& counter = suffix_counters_[base];
  while (true) {
    std::string candidate = absl::StrCat(base, "_", ++counter);
    if (free(candidate)) {
      used_names_.emplace(candidate, 0);
      return candidate;
    }
  }
}

VarId Function::NewVar(std::string_view hint, TensorType type, int producer) {
  vars_.push_back({UniqueName(hint), std::move(type), producer, current_});
  return static_cast<VarId>(vars_.size());
}

bool Function::Visible(VarId id, int block) const {
  if (!IsValid(id)) return false;
  const int defined = vars_[static_cast<size_t>(id - 1)].block;
  for (int b = block; b >= 0; b = blocks_[static_cast<size_t>(b)].parent) {
    if (b == defined) return true;
  }
  return false;
}

int Function::BeginBlock() {
  Block b;
  b.parent = current_;
  blocks_.push_back(std::move(b));
  current_ = static_cast<int>(blocks_.size() - 1);
  return current_;
}

VarId Function::AddBlockInput(std::string_view name, TensorType type) {
  VarId id = NewVar(name, std::move(type), -1);
  blocks_[static_cast<size_t>(current_)].inputs.push_back(id);
  return id;
}

absl::Status Function::EndBlock(std::vector<VarId> outputs) {
  if (current_ == 0) return absl::FailedPreconditionError("EndBlock without a nested block");
  for (VarId v : outputs) {
    if (!Visible(v, current_)) {
      return absl::InvalidArgumentError(
          absl::StrCat("block output var ", v, " is not visible in the block"));
    }
  }
  Block& b = blocks_[static_cast<size_t>(current_)];
  b.outputs = std::move(outputs);
  current_ = b.parent;
  return absl::OkStatus();
}

VarId Function::AddInput(std::string_view name, TensorType type) {
  VarId id = NewVar(name, std::move(type), -1);
  inputs_.push_back(id);
  return id;
}

VarId Function::AddConst(std::string_view name_hint, ConstValue value) {
  Operation op;
  op.type = "const";
  const int index = static_cast<int>(ops_.size());
  const int block = current_;
  current_ = 0;
  VarId out = NewVar(name_hint, value.type, index);
  current_ = block;
  blocks_[0].ops.push_back(index);
  op.name = vars_[static_cast<size_t>(out - 1)].name;
  op.outputs.push_back(out);
  op.value = std::move(value);
  ops_.push_back(std::move(op));
  return out;
}

absl::StatusOr<std::vector<VarId>> Function::AddOp(std::string_view type,
                                                   std::string_view name_hint,
                                                   std::vector<OpInput> inputs,
                                                   std::vector<TensorType> output_types,
                                                   std::vector<int> blocks) {
  if (type.empty()) return absl::InvalidArgumentError("MIL op with an empty type");
  for (int b : blocks) {
    if (b <= 0 || b >= static_cast<int>(blocks_.size()) ||
        blocks_[static_cast<size_t>(b)].parent != current_ || b == current_) {
      return absl::InvalidArgumentError(absl::StrCat("MIL op '", std::string(type), "': block ", b,
                                                     " is not a closed block of this one"));
    }
  }
  for (const OpInput& in : inputs) {
    if (in.vars.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("MIL op '", std::string(type), "': input '", in.name, "' binds no var"));
    }
    for (VarId v : in.vars) {
      if (!IsValid(v)) {
        return absl::InvalidArgumentError(absl::StrCat("MIL op '", std::string(type), "': input '",
                                                       in.name, "' names undefined var ", v));
      }
      if (!Visible(v, current_)) {
        return absl::InvalidArgumentError(
            absl::StrCat("MIL op '", std::string(type), "': input '", in.name, "' reads var '",
                         var(v).name, "', defined in a block this one does not see"));
      }
    }
  }
  Operation op;
  op.type = std::string(type);
  op.name = UniqueName(absl::StrCat(std::string(name_hint), "_op"));
  const int index = static_cast<int>(ops_.size());
  for (size_t i = 0; i < output_types.size(); ++i) {
    std::string hint = output_types.size() == 1 ? std::string(name_hint)
                                                : absl::StrCat(std::string(name_hint), "_", i);
    op.outputs.push_back(NewVar(hint, std::move(output_types[i]), index));
  }
  op.inputs = std::move(inputs);
  op.blocks = std::move(blocks);
  std::vector<VarId> outs = op.outputs;
  ops_.push_back(std::move(op));
  blocks_[static_cast<size_t>(current_)].ops.push_back(index);
  return outs;
}

absl::Status Function::AddOutput(VarId var) {
  if (!IsValid(var)) return absl::InvalidArgumentError(absl::StrCat("undefined output var ", var));
  blocks_[0].outputs.push_back(var);
  return absl::OkStatus();
}

void Function::ReserveName(std::string_view name) { reserved_.insert(SanitizeName(name)); }

absl::Status Function::RenameVar(VarId var, std::string_view name) {
  if (!IsValid(var)) return absl::InvalidArgumentError(absl::StrCat("undefined var ", var));
  Var& v = vars_[static_cast<size_t>(var - 1)];
  const std::string wanted = SanitizeName(name);
  if (v.name == wanted) return absl::OkStatus();
  if (used_names_.count(wanted) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("name '", wanted, "' is already used"));
  }
  used_names_.emplace(wanted, 0);
  reserved_.erase(wanted);
  v.name = wanted;
  if (v.producer >= 0 && ops_[static_cast<size_t>(v.producer)].type == "const") {
    ops_[static_cast<size_t>(v.producer)].name = wanted;
  }
  return absl::OkStatus();
}

}  // namespace ts2coreml::mil
