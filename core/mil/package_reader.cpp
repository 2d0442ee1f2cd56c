#include "core/mil/package_reader.h"

#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/base/safe_file.h"
#include "core/mil/fp16.h"
#include "core/mil/package_writer.h"
#include "core/mil/weight_blob.h"
#include "google/protobuf/stubs/logging.h"
#include "nlohmann/json.hpp"

namespace ts2coreml::mil {
namespace {

namespace fs = std::filesystem;
namespace spec_pb = CoreML::Specification;
namespace mil_pb = CoreML::Specification::MILSpec;

// Caps on what the reader loads into memory: a manifest lists a few items (the cap leaves room
// for hundreds of thousands, which the streaming reader takes in linear time); protobuf cannot
// parse a message of 2 GiB or more.
constexpr uint64_t kMaxManifestBytes = uint64_t{64} << 20;
constexpr uint64_t kMaxModelBytes = (uint64_t{1} << 31) - 1;

// `path` (inside the package `root`) as its path relative to root, or an error when it is not
// inside.
absl::StatusOr<fs::path> InPackage(const fs::path& root, const fs::path& path) {
  const fs::path relative = path.lexically_relative(root);
  if (relative.empty() || *relative.begin() == "..") {
    return absl::FailedPreconditionError(
        absl::StrCat("'", path.string(), "' is not inside the package"));
  }
  return relative;
}

// Reads a regular file inside the package without following links, up to `max_bytes`.
absl::StatusOr<std::string> ReadWholeFile(const fs::path& root, const fs::path& path,
                                          uint64_t max_bytes) {
  absl::StatusOr<fs::path> relative = InPackage(root, path);
  if (!relative.ok()) return relative.status();
  return core::ReadRegularFileBeneath(root, *relative, max_bytes);
}

// The package's weight file, opened inside the package without following links.
absl::StatusOr<WeightBlobReader> OpenWeights(const Package& package) {
  absl::StatusOr<fs::path> relative = InPackage(package.root, package.weights_path);
  absl::StatusOr<core::RegularFile> file =
      relative.ok() ? core::RegularFile::OpenBeneath(package.root, *relative) : relative.status();
  if (!file.ok()) {
    return absl::Status(file.status().code(),
                        absl::StrCat("cannot open weight file: ", file.status().message()));
  }
  return WeightBlobReader::FromFile(*std::move(file));
}

// Protobuf tells why a parse failed (a string field that is not UTF-8, say) only through its log
// handler, which prints to stderr. ParseModel captures the first message for its one-line error.
std::mutex parse_log_mutex;
std::string* parse_log = nullptr;  // guarded by parse_log_mutex

void CaptureParseLog(google::protobuf::LogLevel, const char*, int, const std::string& message) {
  if (parse_log != nullptr && parse_log->empty()) parse_log->assign(message);
}

absl::Status ParseModel(const std::string& bytes, const fs::path& path, spec_pb::Model* model) {
  std::string log;
  bool parsed = false;
  {
    std::lock_guard<std::mutex> lock(parse_log_mutex);
    parse_log = &log;
    google::protobuf::LogHandler* previous = google::protobuf::SetLogHandler(&CaptureParseLog);
    parsed = model->ParseFromString(bytes);
    google::protobuf::SetLogHandler(previous);
    parse_log = nullptr;
  }
  if (parsed) return absl::OkStatus();
  // "String field 'X' contains invalid UTF-8 data when parsing a protocol buffer. Use ..."
  const size_t cut = log.find(" when parsing");
  const std::string why = log.substr(0, cut == std::string::npos ? log.find('.') : cut);
  return absl::DataLossError(absl::StrCat("'", path.string(),
                                          "' is not a valid Core ML model protobuf",
                                          why.empty() ? "" : absl::StrCat(" (", why, ")")));
}

// A manifest path must stay inside Data/: relative, without "..".
bool IsSafeRelativePath(const std::string& p) {
  const fs::path path(p);
  if (p.empty() || path.is_absolute()) return false;
  for (const fs::path& part : path) {
    if (part == "..") return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Type helpers.

std::string ProtoTypeName(int t) {
  const std::string& name = mil_pb::DataType_Name(static_cast<mil_pb::DataType>(t));
  return name.empty() ? absl::StrCat("DataType(", t, ")") : name;
}

// The blob-record code a const of this MIL type must carry.
std::optional<uint32_t> BlobCodeFor(mil_pb::DataType t) {
  switch (t) {
    case mil_pb::FLOAT16:
      return static_cast<uint32_t>(BlobDataType::kFloat16);
    case mil_pb::FLOAT32:
      return static_cast<uint32_t>(BlobDataType::kFloat32);
    case mil_pb::UINT8:
      return static_cast<uint32_t>(BlobDataType::kUInt8);
    case mil_pb::INT8:
      return static_cast<uint32_t>(BlobDataType::kInt8);
    case mil_pb::INT32:
      return static_cast<uint32_t>(BlobDataType::kInt32);
    default:
      return std::nullopt;
  }
}

// More elements than any tensor can hold: byte counts of larger ones overflow 64 bits, so the
// reader refuses them instead of comparing wrapped sizes (found by fuzz/package_fuzzer.cpp).
constexpr uint64_t kMaxElements = uint64_t{1} << 48;

// Element count of a tensor type; nullopt when a dimension is unknown. Saturates at
// kMaxElements + 1 on overflow.
std::optional<uint64_t> StaticNumel(const mil_pb::TensorType& t) {
  uint64_t n = 1;
  for (const mil_pb::Dimension& d : t.dimensions()) {
    if (!d.has_constant()) return std::nullopt;
    if (__builtin_mul_overflow(n, d.constant().size(), &n) || n > kMaxElements) {
      n = kMaxElements + 1;
    }
  }
  return n;
}

std::string TypeString(const mil_pb::TensorType& t) {
  std::string s = absl::StrCat(ProtoTypeName(t.datatype()), "[");
  for (int i = 0; i < t.dimensions_size(); ++i) {
    if (i > 0) s += ",";
    const mil_pb::Dimension& d = t.dimensions(i);
    absl::StrAppend(&s, d.has_constant() ? absl::StrCat(d.constant().size()) : std::string("?"));
  }
  return s + "]";
}

bool SameTensorType(const mil_pb::TensorType& a, const mil_pb::TensorType& b) {
  if (a.datatype() != b.datatype() || a.rank() != b.rank() ||
      a.dimensions_size() != b.dimensions_size()) {
    return false;
  }
  for (int i = 0; i < a.dimensions_size(); ++i) {
    const mil_pb::Dimension& da = a.dimensions(i);
    const mil_pb::Dimension& db = b.dimensions(i);
    if (da.has_constant() != db.has_constant()) return false;
    if (da.has_constant() && da.constant().size() != db.constant().size()) return false;
  }
  return true;
}

std::optional<mil_pb::DataType> MilTypeForArray(int array_dtype) {
  switch (array_dtype) {
    case spec_pb::ArrayFeatureType::FLOAT16:
      return mil_pb::FLOAT16;
    case spec_pb::ArrayFeatureType::FLOAT32:
      return mil_pb::FLOAT32;
    case spec_pb::ArrayFeatureType::DOUBLE:
      return mil_pb::FLOAT64;
    case spec_pb::ArrayFeatureType::INT32:
      return mil_pb::INT32;
    default:
      return std::nullopt;
  }
}

absl::Status Invalid(std::string message) {
  return absl::FailedPreconditionError(std::move(message));
}

// ---------------------------------------------------------------------------------------------
// Validation.

class Validator {
 public:
  explicit Validator(const Package& package) : package_(package) {}

  absl::Status Run() {
    const spec_pb::Model& model = package_.model;
    if (model.specificationversion() < 6) {
      return Invalid(absl::StrCat("specification version ", model.specificationversion(),
                                  " is below 6, the first with ML Programs"));
    }
    if (!model.has_mlprogram()) return Invalid("the model has no mlProgram (field 502)");
    const mil_pb::Program& program = model.mlprogram();
    if (program.version() != 1) {
      return Invalid(absl::StrCat("program version is ", program.version(), ", expected 1"));
    }
    auto fn_it = program.functions().find("main");
    if (fn_it == program.functions().end()) return Invalid("the program has no function 'main'");
    const mil_pb::Function& fn = fn_it->second;
    if (fn.opset().empty()) return Invalid("function 'main' has no opset");
    auto block_it = fn.block_specializations().find(fn.opset());
    if (block_it == fn.block_specializations().end()) {
      return Invalid(absl::StrCat("function 'main' has no block for its opset '", fn.opset(), "'"));
    }
    Scope scope;
    for (const mil_pb::NamedValueType& in : fn.inputs()) {
      if (absl::Status s = DefineVar(in, "function input", &scope); !s.ok()) return s;
    }
    if (absl::Status s = ValidateBlock(block_it->second, &scope, "main"); !s.ok()) return s;
    return ValidateDescription(fn, block_it->second);
  }

 private:
  using Scope = std::map<std::string, const mil_pb::ValueType*>;

  absl::Status DefineVar(const mil_pb::NamedValueType& v, absl::string_view what, Scope* scope) {
    if (!IsValidMilIdentifier(v.name())) {
      return Invalid(absl::StrCat(what, " var '", v.name(), "' is not a valid MIL identifier"));
    }
    if (!all_vars_.insert(v.name()).second) {
      return Invalid(absl::StrCat(what, " var '", v.name(), "' is defined more than once"));
    }
    if (!v.has_type() || !v.type().has_tensortype()) {
      return Invalid(absl::StrCat(what, " var '", v.name(), "' has no tensor type"));
    }
    (*scope)[v.name()] = &v.type();
    defined_.push_back(v.name());
    return absl::OkStatus();
  }

  /// Validates `block` with the vars of its enclosing blocks in `scope`; what the block defines
  /// is in scope for its own ops and removed again on return (var names are unique program-wide,
  /// so nothing is shadowed), which keeps nested blocks linear instead of copying the scope.
  absl::Status ValidateBlock(const mil_pb::Block& block, Scope* scope, absl::string_view where) {
    const size_t mark = defined_.size();
    absl::Status status = ValidateBlockBody(block, scope, where);
    for (size_t i = mark; i < defined_.size(); ++i) scope->erase(defined_[i]);
    defined_.resize(mark);
    return status;
  }

  absl::Status ValidateBlockBody(const mil_pb::Block& block, Scope* scope,
                                 absl::string_view where) {
    for (const mil_pb::NamedValueType& in : block.inputs()) {
      if (absl::Status s = DefineVar(in, "block input", scope); !s.ok()) return s;
    }
    // Who defines what in this block, to tell "used before its definition" from "undefined".
    std::map<std::string, int> defined_at;
    for (int i = 0; i < block.operations_size(); ++i) {
      for (const mil_pb::NamedValueType& out : block.operations(i).outputs()) {
        defined_at.emplace(out.name(), i);
      }
    }
    for (int i = 0; i < block.operations_size(); ++i) {
      if (absl::Status s = ValidateOp(block.operations(i), i, defined_at, scope); !s.ok()) {
        return s;
      }
    }
    for (const std::string& out : block.outputs()) {
      if (scope->count(out) == 0) {
        return Invalid(absl::StrCat("block '", where, "' output '", out, "' is not defined"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status ValidateOp(const mil_pb::Operation& op, int index,
                          const std::map<std::string, int>& defined_at, Scope* scope) {
    std::string label = absl::StrCat("op #", index, " (", op.type(), ")");
    if (op.type().empty()) return Invalid(absl::StrCat(label, " has no type"));
    auto name_it = op.attributes().find("name");
    if (name_it == op.attributes().end() || !name_it->second.has_immediatevalue() ||
        !name_it->second.immediatevalue().tensor().has_strings() ||
        name_it->second.immediatevalue().tensor().strings().values_size() != 1) {
      return Invalid(absl::StrCat(label, " has no string attribute 'name'"));
    }
    const std::string& name = name_it->second.immediatevalue().tensor().strings().values(0);
    label = absl::StrCat("op '", name, "' (", op.type(), ")");
    if (!IsValidMilIdentifier(name)) {
      return Invalid(absl::StrCat(label, ": the name is not a valid MIL identifier"));
    }
    if (!all_ops_.insert(name).second) {
      return Invalid(absl::StrCat(label, ": another op has the same name"));
    }
    for (const auto& [param, arg] : op.inputs()) {
      if (arg.arguments_size() == 0) {
        return Invalid(absl::StrCat(label, " input '", param, "' has no bindings"));
      }
      for (const mil_pb::Argument::Binding& b : arg.arguments()) {
        if (b.has_value()) continue;
        if (b.name().empty()) {
          return Invalid(absl::StrCat(label, " input '", param, "' has an empty binding"));
        }
        if (scope->count(b.name()) != 0) continue;
        auto later = defined_at.find(b.name());
        if (later != defined_at.end() && later->second >= index) {
          return Invalid(absl::StrCat(label, " input '", param, "' uses var '", b.name(),
                                      "' before op #", later->second,
                                      " defines it: operations are not in SSA order"));
        }
        return Invalid(absl::StrCat(label, " input '", param, "' names var '", b.name(),
                                    "', which is not defined"));
      }
    }
    for (int i = 0; i < op.blocks_size(); ++i) {
      if (absl::Status s = ValidateBlock(op.blocks(i), scope, absl::StrCat(name, ".", i));
          !s.ok()) {
        return s;
      }
    }
    for (const mil_pb::NamedValueType& out : op.outputs()) {
      if (absl::Status s = DefineVar(out, absl::StrCat(label, " output"), scope); !s.ok()) {
        return s;
      }
    }
    if (op.type() == "const") return ValidateConst(op, label);
    return absl::OkStatus();
  }

  absl::Status ValidateConst(const mil_pb::Operation& op, const std::string& label) {
    if (!op.inputs().empty()) return Invalid(absl::StrCat(label, " is a const with inputs"));
    if (op.outputs_size() != 1) {
      return Invalid(absl::StrCat(label, " is a const with ", op.outputs_size(), " outputs"));
    }
    auto val_it = op.attributes().find("val");
    if (val_it == op.attributes().end()) {
      return Invalid(absl::StrCat(label, " has no attribute 'val'"));
    }
    const mil_pb::Value& val = val_it->second;
    if (!val.has_type() || !val.type().has_tensortype()) {
      return Invalid(absl::StrCat(label, " 'val' has no tensor type"));
    }
    const mil_pb::TensorType& vt = val.type().tensortype();
    const mil_pb::TensorType& ot = op.outputs(0).type().tensortype();
    if (!SameTensorType(vt, ot)) {
      return Invalid(
          absl::StrCat(label, " 'val' is ", TypeString(vt), " but its output is ", TypeString(ot)));
    }
    if (vt.rank() != vt.dimensions_size()) {
      return Invalid(absl::StrCat(label, " 'val' has rank ", vt.rank(), " but ",
                                  vt.dimensions_size(), " dimensions"));
    }
    const std::optional<uint64_t> numel = StaticNumel(vt);
    if (!numel) return Invalid(absl::StrCat(label, " 'val' has an unknown dimension"));
    if (*numel > kMaxElements) {
      return Invalid(
          absl::StrCat(label, " 'val' of type ", TypeString(vt), " has more than 2^48 elements"));
    }
    const mil_pb::DataType dtype = vt.datatype();
    if (val.has_immediatevalue()) return ValidateImmediate(val, dtype, *numel, label);
    if (val.has_blobfilevalue()) return ValidateBlob(val.blobfilevalue(), dtype, *numel, label);
    return Invalid(absl::StrCat(label, " 'val' holds neither an immediate nor a blob value"));
  }

  absl::Status ValidateImmediate(const mil_pb::Value& val, mil_pb::DataType dtype, uint64_t numel,
                                 const std::string& label) {
    if (!val.immediatevalue().has_tensor()) {
      return Invalid(absl::StrCat(label, " 'val' is not an immediate tensor"));
    }
    const mil_pb::TensorValue& t = val.immediatevalue().tensor();
    uint64_t count = 0;
    bool type_ok = false;
    switch (t.value_case()) {
      case mil_pb::TensorValue::kFloats:
        count = static_cast<uint64_t>(t.floats().values_size());
        type_ok = dtype == mil_pb::FLOAT32;
        break;
      case mil_pb::TensorValue::kInts:
        count = static_cast<uint64_t>(t.ints().values_size());
        type_ok = dtype == mil_pb::INT32 || dtype == mil_pb::INT16 || dtype == mil_pb::UINT16 ||
                  dtype == mil_pb::INT8 || dtype == mil_pb::UINT8;
        break;
      case mil_pb::TensorValue::kBools:
        count = static_cast<uint64_t>(t.bools().values_size());
        type_ok = dtype == mil_pb::BOOL;
        break;
      case mil_pb::TensorValue::kStrings:
        count = static_cast<uint64_t>(t.strings().values_size());
        type_ok = dtype == mil_pb::STRING;
        break;
      case mil_pb::TensorValue::kLongInts:
        count = static_cast<uint64_t>(t.longints().values_size());
        type_ok = dtype == mil_pb::INT64;
        break;
      case mil_pb::TensorValue::kDoubles:
        count = static_cast<uint64_t>(t.doubles().values_size());
        type_ok = dtype == mil_pb::FLOAT64;
        break;
      case mil_pb::TensorValue::kBytes: {
        const size_t elem = ElementSize(dtype);
        type_ok = elem > 0 && t.bytes().values().size() % elem == 0;
        count = elem > 0 ? t.bytes().values().size() / elem : 0;
        break;
      }
      case mil_pb::TensorValue::VALUE_NOT_SET:
        return Invalid(absl::StrCat(label, " 'val' holds no elements"));
    }
    if (!type_ok) {
      return Invalid(absl::StrCat(label, " 'val' of type ", ProtoTypeName(dtype),
                                  " stores its elements in the wrong field"));
    }
    if (count != numel) {
      return Invalid(
          absl::StrCat(label, " 'val' holds ", count, " elements, its type needs ", numel));
    }
    return absl::OkStatus();
  }

  absl::Status ValidateBlob(const mil_pb::Value::BlobFileValue& blob, mil_pb::DataType dtype,
                            uint64_t numel, const std::string& label) {
    if (blob.filename() != kWeightFileName) {
      return Invalid(absl::StrCat(label, " refers to blob file '", blob.filename(), "', expected '",
                                  kWeightFileName, "'"));
    }
    if (!weights_) {
      absl::StatusOr<WeightBlobReader> r = OpenWeights(package_);
      if (!r.ok()) return Invalid(absl::StrCat(label, ": ", r.status().message()));
      weights_ = std::make_unique<WeightBlobReader>(std::move(*r));
    }
    absl::StatusOr<BlobRef> ref = weights_->Read(blob.offset());
    if (!ref.ok()) return Invalid(absl::StrCat(label, ": ", ref.status().message()));
    const std::optional<uint32_t> code = BlobCodeFor(dtype);
    if (!code) {
      return Invalid(absl::StrCat(label, " has type ", ProtoTypeName(dtype),
                                  ", which cannot be stored in a blob file"));
    }
    if (ref->dtype_code != *code) {
      return Invalid(absl::StrCat(label, " is ", ProtoTypeName(dtype), " but its blob at offset ",
                                  blob.offset(), " holds ", BlobDataTypeName(ref->dtype_code)));
    }
    const uint64_t expected = numel * ElementSize(dtype);
    if (ref->size != expected) {
      return Invalid(absl::StrCat(label, " needs ", expected, " bytes but its blob at offset ",
                                  blob.offset(), " holds ", ref->size));
    }
    return absl::OkStatus();
  }

  absl::Status CheckFeatureType(const spec_pb::FeatureDescription& f,
                                const mil_pb::ValueType& var_type, absl::string_view kind) {
    if (!f.type().has_multiarraytype()) {
      return Invalid(absl::StrCat("model ", kind, " '", f.name(), "' is not a multi-array"));
    }
    const spec_pb::ArrayFeatureType& array = f.type().multiarraytype();
    const mil_pb::TensorType& t = var_type.tensortype();
    const std::optional<mil_pb::DataType> dtype = MilTypeForArray(array.datatype());
    if (!dtype || *dtype != t.datatype()) {
      return Invalid(absl::StrCat("model ", kind, " '", f.name(), "' has array type ",
                                  array.datatype(), " but the program's var is ", TypeString(t)));
    }
    if (array.shape_size() > 0) {
      bool same = array.shape_size() == t.dimensions_size();
      for (int i = 0; same && i < array.shape_size(); ++i) {
        const mil_pb::Dimension& d = t.dimensions(i);
        same = !d.has_constant() || static_cast<int64_t>(d.constant().size()) == array.shape(i);
      }
      if (!same) {
        return Invalid(absl::StrCat("model ", kind, " '", f.name(),
                                    "' has a shape that differs from the program's var ",
                                    TypeString(t)));
      }
    }
    return absl::OkStatus();
  }

  absl::Status ValidateDescription(const mil_pb::Function& fn, const mil_pb::Block& block) {
    const spec_pb::ModelDescription& desc = package_.model.description();
    std::map<std::string, const mil_pb::ValueType*> inputs;
    for (const mil_pb::NamedValueType& in : fn.inputs()) inputs[in.name()] = &in.type();
    if (desc.input_size() != fn.inputs_size()) {
      return Invalid(absl::StrCat("the description has ", desc.input_size(),
                                  " inputs but function 'main' has ", fn.inputs_size()));
    }
    std::set<std::string> seen;
    for (const spec_pb::FeatureDescription& f : desc.input()) {
      auto it = inputs.find(f.name());
      if (it == inputs.end()) {
        return Invalid(absl::StrCat("model input '", f.name(), "' is not an input of 'main'"));
      }
      if (!seen.insert(f.name()).second) {
        return Invalid(absl::StrCat("model input '", f.name(), "' is listed twice"));
      }
      if (absl::Status s = CheckFeatureType(f, *it->second, "input"); !s.ok()) return s;
    }
    // Output types come from the ops producing the block outputs.
    std::map<std::string, const mil_pb::ValueType*> produced;
    for (const auto& [name, type] : inputs) produced[name] = type;
    for (const mil_pb::Operation& op : block.operations()) {
      for (const mil_pb::NamedValueType& out : op.outputs()) produced[out.name()] = &out.type();
    }
    if (desc.output_size() != block.outputs_size()) {
      return Invalid(absl::StrCat("the description has ", desc.output_size(),
                                  " outputs but the main block has ", block.outputs_size()));
    }
    std::set<std::string> block_outputs(block.outputs().begin(), block.outputs().end());
    if (block_outputs.size() != static_cast<size_t>(block.outputs_size())) {
      return Invalid("the main block lists an output twice");
    }
    seen.clear();
    for (const spec_pb::FeatureDescription& f : desc.output()) {
      if (block_outputs.count(f.name()) == 0) {
        return Invalid(absl::StrCat("model output '", f.name(), "' is not an output of 'main'"));
      }
      if (!seen.insert(f.name()).second) {
        return Invalid(absl::StrCat("model output '", f.name(), "' is listed twice"));
      }
      if (absl::Status s = CheckFeatureType(f, *produced.at(f.name()), "output"); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  const Package& package_;
  std::set<std::string> all_vars_;
  std::set<std::string> all_ops_;
  /// Vars defined so far by the blocks being validated, innermost block last.
  std::vector<std::string> defined_;
  std::unique_ptr<WeightBlobReader> weights_;
};

void CountOps(const mil_pb::Block& block, std::map<std::string, int>* histogram) {
  for (const mil_pb::Operation& op : block.operations()) {
    ++(*histogram)[op.type()];
    for (const mil_pb::Block& nested : op.blocks()) CountOps(nested, histogram);
  }
}

}  // namespace

size_t ElementSize(mil_pb::DataType t) {
  switch (t) {
    case mil_pb::BOOL:
    case mil_pb::INT8:
    case mil_pb::UINT8:
      return 1;
    case mil_pb::FLOAT16:
    case mil_pb::BFLOAT16:
    case mil_pb::INT16:
    case mil_pb::UINT16:
      return 2;
    case mil_pb::FLOAT32:
    case mil_pb::INT32:
      return 4;
    case mil_pb::FLOAT64:
    case mil_pb::INT64:
      return 8;
    default:
      return 0;
  }
}

std::string DataTypeName(CoreML::Specification::MILSpec::DataType dtype) {
  switch (dtype) {
    case CoreML::Specification::MILSpec::BOOL:
      return "bool";
    case CoreML::Specification::MILSpec::STRING:
      return "string";
    case CoreML::Specification::MILSpec::FLOAT16:
      return "fp16";
    case CoreML::Specification::MILSpec::FLOAT32:
      return "fp32";
    case CoreML::Specification::MILSpec::FLOAT64:
      return "fp64";
    case CoreML::Specification::MILSpec::BFLOAT16:
      return "bf16";
    case CoreML::Specification::MILSpec::INT8:
      return "int8";
    case CoreML::Specification::MILSpec::INT16:
      return "int16";
    case CoreML::Specification::MILSpec::INT32:
      return "int32";
    case CoreML::Specification::MILSpec::INT64:
      return "int64";
    case CoreML::Specification::MILSpec::UINT8:
      return "uint8";
    case CoreML::Specification::MILSpec::UINT16:
      return "uint16";
    default:
      return absl::StrCat("dtype(", static_cast<int>(dtype), ")");
  }
}

bool IsValidMilIdentifier(std::string_view name) {
  if (name.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0])) return false;
  for (char c : name.substr(1)) {
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '@') return false;
  }
  return true;
}

namespace {

/// Reads Manifest.json with nlohmann-json's SAX parser, without building a tree: items are
/// checked as they end and only each item's path is kept (a manifest of many items costs little
/// more memory than its text). Duplicate keys are refused with one hash set per open object.
class ManifestReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  /// The root item's path; the first problem otherwise (item problems after top-level ones).
  absl::StatusOr<std::string> Finish(std::string* root_id) {
    if (!error_.empty()) return absl::DataLossError(error_);
    if (!has_version_) return absl::DataLossError("missing string \"fileFormatVersion\"");
    if (!has_entries_) return absl::DataLossError("missing object \"itemInfoEntries\"");
    if (!has_root_) return absl::DataLossError("missing string \"rootModelIdentifier\"");
    if (!item_error_.empty()) return absl::DataLossError(item_error_);
    auto it = paths_.find(root_id_);
    if (it == paths_.end()) {
      return absl::DataLossError(
          absl::StrCat("rootModelIdentifier '", root_id_, "' has no entry in itemInfoEntries"));
    }
    *root_id = root_id_;
    return it->second;
  }

  bool null() override { return Scalar(nullptr); }
  bool boolean(bool) override { return Scalar(nullptr); }
  bool number_integer(number_integer_t) override { return Scalar(nullptr); }
  bool number_unsigned(number_unsigned_t) override { return Scalar(nullptr); }
  bool number_float(number_float_t, const string_t&) override { return Scalar(nullptr); }
  bool string(string_t& v) override { return Scalar(&v); }
  bool binary(binary_t&) override { return Scalar(nullptr); }
  bool start_object(std::size_t) override {
    if (keys_.empty()) {
      keys_.emplace_back();
      return true;
    }
    if (keys_.size() == 1 && key_ == "itemInfoEntries") has_entries_ = true;
    if (keys_.size() == 2 && in_entries_) StartItem();
    if (keys_.size() == 1) in_entries_ = key_ == "itemInfoEntries";
    return Open();
  }
  bool end_object() override {
    if (keys_.size() == 3 && in_entries_) EndItem();
    if (keys_.size() == 2) in_entries_ = false;
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    if (keys_.empty()) return Fail("the top level is not an object");
    NotAString();
    return Open();
  }
  bool end_array() override {
    keys_.pop_back();
    return true;
  }
  bool key(string_t& k) override {
    if (!keys_.back().insert(k).second)
      return Fail(absl::StrCat("invalid JSON: duplicate key \"", k, "\""));
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    std::string what = ex.what();
    const size_t colon = what.find(": ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    return Fail(absl::StrCat("invalid JSON at byte ", position, ": ", what));
  }

 private:
  static constexpr size_t kMaxDepth = 64;
  static constexpr const char* kFields[4] = {"author", "description", "name", "path"};

  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  bool Open() {
    if (keys_.size() >= kMaxDepth) return Fail("invalid JSON: nested too deeply");
    keys_.emplace_back();
    return true;
  }
  void StartItem() {
    item_id_ = key_;
    item_fields_ = 0;
    item_path_.clear();
  }
  void EndItem() {
    for (int i = 0; i < 4; ++i) {
      if ((item_fields_ & (1 << i)) == 0) {
        return ItemError(absl::StrCat("item '", item_id_, "' lacks string \"", kFields[i], "\""));
      }
    }
    if (!IsSafeRelativePath(item_path_)) {
      return ItemError(absl::StrCat("item '", item_id_, "' has path '", item_path_,
                                    "', which leaves the package"));
    }
    paths_[item_id_] = std::move(item_path_);
  }
  void ItemError(std::string message) {
    if (item_error_.empty()) item_error_ = std::move(message);
  }
  /// A value that is not a string where one may be expected.
  void NotAString() {
    if (keys_.size() == 2 && in_entries_) {
      ItemError(absl::StrCat("item '", key_, "' is not an object"));
    }
  }
  bool Scalar(string_t* s) {
    if (keys_.empty()) return Fail("the top level is not an object");
    if (keys_.size() == 1) {
      if (key_ == "fileFormatVersion") has_version_ = s != nullptr;
      if (key_ == "rootModelIdentifier" && s != nullptr) {
        has_root_ = true;
        root_id_ = *s;
      }
      if (key_ == "itemInfoEntries") has_entries_ = false;
    }
    if (s == nullptr) NotAString();
    if (keys_.size() == 3 && in_entries_ && s != nullptr) {
      for (int i = 0; i < 4; ++i) {
        if (key_ != kFields[i]) continue;
        item_fields_ |= 1 << i;
        if (i == 3) item_path_ = *s;
      }
    }
    return true;
  }

  /// The keys seen in each open container (empty sets for arrays), outermost first.
  std::vector<std::unordered_set<std::string>> keys_;
  std::string key_;
  bool in_entries_ = false;
  bool has_version_ = false, has_entries_ = false, has_root_ = false;
  std::string root_id_;
  std::string item_id_, item_path_;
  int item_fields_ = 0;
  std::unordered_map<std::string, std::string> paths_;
  std::string error_, item_error_;
};

/// The root item's path in a Manifest.json, its identifier in `root_id`.
absl::StatusOr<std::string> ReadManifest(absl::string_view text, std::string* root_id) {
  ManifestReader reader;
  try {
    nlohmann::json::sax_parse(text.begin(), text.end(), &reader);
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("invalid JSON: ", e.what()));
  }
  return reader.Finish(root_id);
}

}  // namespace

absl::StatusOr<Package> ReadPackage(const fs::path& dir) {
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {  // a link loop, a folder not searchable
    return absl::NotFoundError(
        absl::StrCat("package '", dir.string(), "' cannot be read: ", ec.message()));
  }
  if (!fs::exists(status)) {
    return absl::NotFoundError(absl::StrCat("package '", dir.string(), "' does not exist"));
  }
  if (!fs::is_directory(status)) {
    return absl::NotFoundError(
        absl::StrCat("package '", dir.string(), "' is not a folder (an .mlpackage is a folder)"));
  }
  Package p;
  p.root = dir;
  const fs::path manifest_path = dir / "Manifest.json";
  absl::StatusOr<std::string> manifest = ReadWholeFile(dir, manifest_path, kMaxManifestBytes);
  if (!manifest.ok()) return manifest.status();
  p.manifest_json = std::move(*manifest);
  auto bad = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("'", manifest_path.string(), "': ", what));
  };
  absl::StatusOr<std::string> root_path = ReadManifest(p.manifest_json, &p.root_model_identifier);
  if (!root_path.ok()) return bad(root_path.status().message());
  p.model_path = dir / "Data" / *root_path;
  p.weights_path = p.model_path.parent_path() / "weights" / "weight.bin";
  absl::StatusOr<std::string> model_bytes = ReadWholeFile(dir, p.model_path, kMaxModelBytes);
  if (!model_bytes.ok()) return model_bytes.status();
  if (absl::Status s = ParseModel(*model_bytes, p.model_path, &p.model); !s.ok()) return s;
  return p;
}

absl::Status ValidatePackage(const Package& package) { return Validator(package).Run(); }

void ForEachOperation(const mil_pb::Block& block,
                      const std::function<void(const mil_pb::Operation&)>& fn) {
  for (const mil_pb::Operation& op : block.operations()) {
    fn(op);
    for (const mil_pb::Block& nested : op.blocks()) ForEachOperation(nested, fn);
  }
}

absl::StatusOr<const mil_pb::Block*> MainBlock(const Package& package) {
  if (!package.model.has_mlprogram()) return Invalid("the model has no mlProgram");
  const auto& functions = package.model.mlprogram().functions();
  auto fn = functions.find("main");
  if (fn == functions.end()) return Invalid("the program has no function 'main'");
  auto block = fn->second.block_specializations().find(fn->second.opset());
  if (block == fn->second.block_specializations().end()) {
    return Invalid(
        absl::StrCat("function 'main' has no block for opset '", fn->second.opset(), "'"));
  }
  return &block->second;
}

absl::StatusOr<std::map<std::string, int>> OpTypeHistogram(const Package& package) {
  absl::StatusOr<const mil_pb::Block*> block = MainBlock(package);
  if (!block.ok()) return block.status();
  std::map<std::string, int> histogram;
  CountOps(**block, &histogram);
  return histogram;
}

absl::StatusOr<const mil_pb::Operation*> FindProducer(const Package& package,
                                                      std::string_view var_name) {
  absl::StatusOr<const mil_pb::Block*> block = MainBlock(package);
  if (!block.ok()) return block.status();
  for (const mil_pb::Operation& op : (*block)->operations()) {
    for (const mil_pb::NamedValueType& out : op.outputs()) {
      if (out.name() == var_name) return &op;
    }
  }
  return absl::NotFoundError(
      absl::StrCat("no op of the main block produces '", std::string(var_name), "'"));
}

namespace {

/// One element of dtype `dtype` at `p` as a float; false for a dtype that is not read as floats.
bool ElementAsFloat(mil_pb::DataType dtype, const char* p, float* out) {
  switch (dtype) {
    case mil_pb::FLOAT16: {
      uint16_t h;
      std::memcpy(&h, p, sizeof h);
      *out = HalfToFloat(h);
      return true;
    }
    case mil_pb::FLOAT32:
      std::memcpy(out, p, sizeof(float));
      return true;
    case mil_pb::INT32: {
      int32_t v;
      std::memcpy(&v, p, sizeof v);
      *out = static_cast<float>(v);
      return true;
    }
    case mil_pb::BOOL:
      *out = *p != 0 ? 1.0f : 0.0f;
      return true;
    default:
      return false;
  }
}

/// The `numel` elements of `type` stored as raw little-endian `bytes`, as floats.
absl::StatusOr<std::vector<float>> FloatsFromBytes(const mil_pb::TensorType& type, uint64_t numel,
                                                   absl::string_view bytes) {
  const mil_pb::DataType dtype = type.datatype();
  const size_t elem = ElementSize(dtype);
  if (elem == 0 || bytes.size() != numel * elem) {
    return absl::InvalidArgumentError(
        absl::StrCat("value of type ", TypeString(type), " has ", bytes.size(), " data bytes"));
  }
  std::vector<float> out(static_cast<size_t>(numel));
  for (size_t i = 0; i < out.size(); ++i) {
    if (!ElementAsFloat(dtype, bytes.data() + i * elem, &out[i])) {
      return absl::UnimplementedError(
          absl::StrCat("cannot read ", ProtoTypeName(dtype), " values as floats"));
    }
  }
  return out;
}

/// The floats of a value stored in the package's weight file (`blob`), of type `type`.
absl::StatusOr<std::vector<float>> BlobFloats(const Package& package,
                                              const mil_pb::Value::BlobFileValue& blob,
                                              const mil_pb::TensorType& type, uint64_t numel) {
  if (blob.filename() != kWeightFileName) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported blob file '", blob.filename(), "'"));
  }
  absl::StatusOr<WeightBlobReader> reader = OpenWeights(package);
  if (!reader.ok()) return reader.status();
  absl::StatusOr<BlobRef> ref = reader->Read(blob.offset());
  if (!ref.ok()) return ref.status();
  if (BlobCodeFor(type.datatype()) != ref->dtype_code) {
    return absl::DataLossError(absl::StrCat("blob at offset ", ref->record_offset, " holds ",
                                            BlobDataTypeName(ref->dtype_code), ", expected ",
                                            ProtoTypeName(type.datatype())));
  }
  absl::StatusOr<std::vector<uint8_t>> data = reader->ReadData(*ref);
  if (!data.ok()) return data.status();
  return FloatsFromBytes(
      type, numel, absl::string_view(reinterpret_cast<const char*>(data->data()), data->size()));
}

/// The floats of an immediate tensor value `t` of type `type`.
absl::StatusOr<std::vector<float>> ImmediateFloats(const mil_pb::TensorValue& t,
                                                   const mil_pb::TensorType& type, uint64_t numel) {
  std::vector<float> out;
  switch (t.value_case()) {
    case mil_pb::TensorValue::kFloats:
      out.assign(t.floats().values().begin(), t.floats().values().end());
      break;
    case mil_pb::TensorValue::kInts:
      for (int32_t v : t.ints().values()) out.push_back(static_cast<float>(v));
      break;
    case mil_pb::TensorValue::kBools:
      for (bool v : t.bools().values()) out.push_back(v ? 1.0f : 0.0f);
      break;
    case mil_pb::TensorValue::kLongInts:
      for (int64_t v : t.longints().values()) out.push_back(static_cast<float>(v));
      break;
    case mil_pb::TensorValue::kDoubles:
      for (double v : t.doubles().values()) out.push_back(static_cast<float>(v));
      break;
    case mil_pb::TensorValue::kBytes: {
      absl::StatusOr<std::vector<float>> decoded = FloatsFromBytes(type, numel, t.bytes().values());
      if (!decoded.ok()) return decoded.status();
      out = *std::move(decoded);
      break;
    }
    default:
      return absl::UnimplementedError("cannot read this immediate value as floats");
  }
  if (out.size() != numel) {
    return absl::InvalidArgumentError(
        absl::StrCat("value of type ", TypeString(type), " holds ", out.size(), " elements"));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<float>> ReadConstFloats(const Package& package,
                                                   const mil_pb::Value& value) {
  if (!value.has_type() || !value.type().has_tensortype()) {
    return absl::InvalidArgumentError("the value has no tensor type");
  }
  const mil_pb::TensorType& type = value.type().tensortype();
  const std::optional<uint64_t> numel = StaticNumel(type);
  if (!numel) return absl::InvalidArgumentError("the value has an unknown dimension");
  if (*numel > kMaxElements) {
    return absl::InvalidArgumentError(
        absl::StrCat("the value of type ", TypeString(type), " has more than 2^48 elements"));
  }
  if (value.has_blobfilevalue()) return BlobFloats(package, value.blobfilevalue(), type, *numel);
  if (!value.has_immediatevalue() || !value.immediatevalue().has_tensor()) {
    return absl::InvalidArgumentError("the value is neither an immediate tensor nor a blob");
  }
  return ImmediateFloats(value.immediatevalue().tensor(), type, *numel);
}

}  // namespace ts2coreml::mil
