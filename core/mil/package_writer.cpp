#include "core/mil/package_writer.h"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "core/mil/output_target.h"
#include "core/mil/package_reader.h"
#include "core/mil/proto/mil.pb.h"
#include "core/mil/proto/model.pb.h"
#include "core/mil/weight_blob.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "nlohmann/json.hpp"
// xxHash (Debian libxxhash-dev). XXH3_state_t is used by value, so its layout is needed; on x86-64
// the library's dispatching entry points pick AVX2 or SSE2 at run time (the digest is the same).
#define XXH_STATIC_LINKING_ONLY
#include "xxhash.h"
#if defined(__x86_64__)
#include "xxh_x86dispatch.h"
#endif

namespace ts2coreml::mil {
namespace {

namespace fs = std::filesystem;
namespace spec_pb = CoreML::Specification;
namespace mil_pb = CoreML::Specification::MILSpec;

constexpr char kModelItemPath[] = "com.apple.CoreML/model.mlmodel";
constexpr char kWeightsItemPath[] = "com.apple.CoreML/weights";

/// XXH3-128 (xxHash) over a stream of byte ranges: a stable content hash for identifiers, not
/// security. The digest depends only on the bytes, not on how they were split into Update calls.
/// XXH3 hashes with SIMD: the weights are hundreds of MB (docs/performance.md).
class ContentHash {
 public:
  ContentHash() { XXH3_128bits_reset(&state_); }
  void Update(const void* data, size_t bytes) { XXH3_128bits_update(&state_, data, bytes); }
  void Update(absl::string_view s) { Update(s.data(), s.size()); }
  /// The digest, most significant byte first.
  XXH128_canonical_t Canonical() const {
    XXH128_canonical_t out;
    XXH128_canonicalFromHash(&out, XXH3_128bits_digest(&state_));
    return out;
  }
  std::string HexDigest() const {
    const XXH128_hash_t d = XXH3_128bits_digest(&state_);
    return absl::StrFormat("%016x%016x", d.high64, d.low64);
  }

 private:
  XXH3_state_t state_;
};

absl::Status FsError(absl::string_view what, const fs::path& path, const std::error_code& ec) {
  return absl::InternalError(absl::StrCat(what, " '", path.string(), "': ", ec.message()));
}

absl::Status WriteFile(const fs::path& path, absl::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot create '", path.string(), "'"));
  errno = 0;
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    const std::string why = errno != 0 ? std::strerror(errno) : "write failed";
    return absl::InternalError(absl::StrCat("cannot write '", path.string(), "': ", why));
  }
  return absl::OkStatus();
}

struct ManifestItem {
  std::string author, description, name, path;
};

// Manifest.json with sorted keys and 4-space indentation, the way Core ML tools lay it out.
std::string ManifestJson(const std::string& root_id,
                         const std::map<std::string, ManifestItem>& items) {
  nlohmann::json entries = nlohmann::json::object();
  for (const auto& [id, item] : items) {
    entries[id] = {{"author", item.author},
                   {"description", item.description},
                   {"name", item.name},
                   {"path", item.path}};
  }
  const nlohmann::json manifest = {{"fileFormatVersion", "1.0.0"},
                                   {"itemInfoEntries", std::move(entries)},
                                   {"rootModelIdentifier", root_id}};
  return manifest.dump(4, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

mil_pb::DataType ToProto(DType dtype) { return static_cast<mil_pb::DataType>(dtype); }

void SetTensorType(const TensorType& t, mil_pb::ValueType* out) {
  mil_pb::TensorType* tt = out->mutable_tensortype();
  tt->set_datatype(ToProto(t.dtype));
  tt->set_rank(static_cast<int64_t>(t.shape.size()));
  for (int64_t d : t.shape) {
    mil_pb::Dimension* dim = tt->add_dimensions();
    if (d >= 0) {
      dim->mutable_constant()->set_size(static_cast<uint64_t>(d));
    } else {
      dim->mutable_unknown()->set_variadic(false);
    }
  }
}

mil_pb::Value StringValue(absl::string_view s) {
  mil_pb::Value v;
  SetTensorType({DType::kString, {}}, v.mutable_type());
  v.mutable_immediatevalue()->mutable_tensor()->mutable_strings()->add_values(std::string(s));
  return v;
}

void SetNamedValueType(const Var& var, mil_pb::NamedValueType* out) {
  out->set_name(var.name);
  SetTensorType(var.type, out->mutable_type());
}

// Builds the proto program while streaming large constants into the weight file.
class ProgramBuilder {
 public:
  ProgramBuilder(const Function& fn, WeightBlobWriter* weights, WriteStats* stats)
      : fn_(fn), weights_(weights), stats_(stats) {}

  absl::Status Build(mil_pb::Program* program) {
    program->set_version(1);
    mil_pb::Function& f = (*program->mutable_functions())["main"];
    f.set_opset(fn_.opset());
    for (VarId id : fn_.inputs()) SetNamedValueType(fn_.var(id), f.add_inputs());
    mil_pb::Block& block = (*f.mutable_block_specializations())[fn_.opset()];
    if (absl::Status s = AddBlock(fn_.block(0), &block); !s.ok()) return s;
    stats_->num_ops = static_cast<int>(fn_.ops().size());
    return absl::OkStatus();
  }

  const ContentHash& weights_hash() const { return weights_hash_; }

 private:
  /// A block with its ops, their nested blocks included.
  absl::Status AddBlock(const Block& b, mil_pb::Block* out) {
    for (VarId id : b.inputs) SetNamedValueType(fn_.var(id), out->add_inputs());
    for (int index : b.ops) {
      const Operation& op = fn_.ops()[static_cast<size_t>(index)];
      mil_pb::Operation* proto = out->add_operations();
      if (absl::Status s = AddOp(op, proto); !s.ok()) return s;
      for (int nested : op.blocks) {
        if (absl::Status s = AddBlock(fn_.block(nested), proto->add_blocks()); !s.ok()) return s;
      }
    }
    for (VarId id : b.outputs) out->add_outputs(fn_.var(id).name);
    return absl::OkStatus();
  }

  absl::Status AddOp(const Operation& op, mil_pb::Operation* out) {
    out->set_type(op.type);
    (*out->mutable_attributes())["name"] = StringValue(op.name);
    for (const OpInput& in : op.inputs) {
      if (out->inputs().count(in.name) != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("op '", op.name, "' binds input '", in.name, "' twice"));
      }
      mil_pb::Argument& arg = (*out->mutable_inputs())[in.name];
      for (VarId v : in.vars) {
        if (!fn_.IsValid(v)) {
          return absl::InvalidArgumentError(
              absl::StrCat("op '", op.name, "' input '", in.name, "' names undefined var ", v));
        }
        arg.add_arguments()->set_name(fn_.var(v).name);
      }
    }
    for (VarId v : op.outputs) SetNamedValueType(fn_.var(v), out->add_outputs());
    if (op.type != "const") {
      if (op.value.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("op '", op.name, "' of type '", op.type, "' carries a constant value"));
      }
      return absl::OkStatus();
    }
    if (!op.value.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("const op '", op.name, "' has no value"));
    }
    if (op.outputs.size() != 1 || !op.inputs.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("const op '", op.name, "' must have no inputs and exactly one output"));
    }
    const TensorType& declared = fn_.var(op.outputs[0]).type;
    if (declared != op.value->type) {
      return absl::InvalidArgumentError(absl::StrCat("const op '", op.name, "' declares ",
                                                     declared.ToString(), " but its value is ",
                                                     op.value->type.ToString()));
    }
    return SetConstValue(op.name, *op.value, &(*out->mutable_attributes())["val"]);
  }

  /// A const's value into `out`: strings and small or non-float tensors inline (WriteInline),
  /// float tensors of kMinBlobElements or more into the weight file (WriteBlob).
  absl::Status SetConstValue(const std::string& name, const ConstValue& c, mil_pb::Value* out) {
    SetTensorType(c.type, out->mutable_type());
    const int64_t numel = c.type.numel();
    if (numel < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("const '", name, "' has an unknown shape ", c.type.ToString()));
    }
    const size_t n = static_cast<size_t>(numel);
    if (c.type.dtype == DType::kString) return SetStrings(name, c, n, out);
    if (absl::Status s = CheckConstBytes(name, c, n); !s.ok()) return s;
    if (IsFloat(c.type.dtype) && numel >= kMinBlobElements) return WriteBlob(name, c, out);
    return WriteInline(name, c, n, out);
  }

  /// A string tensor's `n` strings, inline.
  absl::Status SetStrings(const std::string& name, const ConstValue& c, size_t n,
                          mil_pb::Value* out) {
    if (c.strings.size() != n) {
      return absl::InvalidArgumentError(absl::StrCat("const '", name, "' of type ",
                                                     c.type.ToString(), " holds ", c.strings.size(),
                                                     " strings"));
    }
    auto* values = out->mutable_immediatevalue()->mutable_tensor()->mutable_strings();
    for (const std::string& s : c.strings) {
      values->add_values(s);
      stats_->immediate_bytes_by_dtype[c.type.dtype] += s.size();
    }
    return absl::OkStatus();
  }

  /// Whether a non-string const's dtype is valid, only a float one is deferred, and it holds the
  /// bytes of its `n` elements.
  absl::Status CheckConstBytes(const std::string& name, const ConstValue& c, size_t n) {
    const DType dtype = c.type.dtype;
    if (DTypeSize(dtype) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("const '", name, "' has invalid dtype"));
    }
    if (c.source.has_value() && !IsFloat(dtype)) {
      return absl::InvalidArgumentError(
          absl::StrCat("const '", name, "' of type ", c.type.ToString(), " cannot be deferred"));
    }
    if (c.byte_size() != n * DTypeSize(dtype)) {
      return absl::InvalidArgumentError(absl::StrCat("const '", name, "' of type ",
                                                     c.type.ToString(), " holds ", c.byte_size(),
                                                     " bytes, expected ", n * DTypeSize(dtype)));
    }
    return absl::OkStatus();
  }

  /// A float const as a blob of the weight file, streamed: a deferred constant is converted piece
  /// by piece straight into the file.
  absl::Status WriteBlob(const std::string& name, const ConstValue& c, mil_pb::Value* out) {
    const DType dtype = c.type.dtype;
    const size_t bytes = c.byte_size();
    absl::StatusOr<uint64_t> offset = weights_->BeginBlob(dtype, bytes);
    absl::Status s = offset.status();
    if (s.ok()) {
      s = c.Stream([this](const void* data, size_t size) {
        weights_hash_.Update(data, size);
        return weights_->WriteBlobData(data, size);
      });
    }
    if (s.ok()) s = weights_->EndBlob();
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat("const '", name, "': ", s.message()));
    mil_pb::Value::BlobFileValue* blob = out->mutable_blobfilevalue();
    blob->set_filename(std::string(kWeightFileName));
    blob->set_offset(*offset);
    stats_->weight_bytes_by_dtype[dtype] += bytes;
    ++stats_->num_blobs;
    return absl::OkStatus();
  }

  /// A small or non-float const's `n` elements inline; a deferred one is converted here (fewer
  /// than kMinBlobElements elements).
  absl::Status WriteInline(const std::string& name, const ConstValue& c, size_t n,
                           mil_pb::Value* out) {
    const DType dtype = c.type.dtype;
    const std::vector<uint8_t> materialized =
        c.source.has_value() ? c.Materialize() : std::vector<uint8_t>();
    const std::vector<uint8_t>& data = c.source.has_value() ? materialized : c.bytes;
    if (data.size() != n * DTypeSize(dtype)) {
      return absl::InvalidArgumentError(
          absl::StrCat("const '", name, "': its deferred elements cannot be converted"));
    }
    mil_pb::TensorValue* tensor = out->mutable_immediatevalue()->mutable_tensor();
    switch (dtype) {
      case DType::kFloat32: {
        auto* values = tensor->mutable_floats()->mutable_values();
        values->Resize(static_cast<int>(n), 0.0f);
        if (n > 0) std::memcpy(values->mutable_data(), data.data(), data.size());
        break;
      }
      case DType::kFloat16:
        tensor->mutable_bytes()->set_values(data.data(), data.size());
        break;
      case DType::kInt32: {
        auto* values = tensor->mutable_ints()->mutable_values();
        values->Resize(static_cast<int>(n), 0);
        if (n > 0) std::memcpy(values->mutable_data(), data.data(), data.size());
        break;
      }
      case DType::kBool: {
        auto* values = tensor->mutable_bools()->mutable_values();
        for (uint8_t b : data) values->Add(b != 0);
        break;
      }
      default:
        return absl::InvalidArgumentError(absl::StrCat("const '", name, "' has unsupported dtype ",
                                                       std::string(DTypeName(dtype))));
    }
    stats_->immediate_bytes_by_dtype[dtype] += data.size();
    return absl::OkStatus();
  }

  const Function& fn_;
  WeightBlobWriter* weights_;
  WriteStats* stats_;
  ContentHash weights_hash_;
};

absl::StatusOr<spec_pb::ArrayFeatureType::ArrayDataType> ToArrayDataType(const FeatureSpec& f,
                                                                         int32_t spec_version) {
  switch (f.dtype) {
    case DType::kFloat32:
      return spec_pb::ArrayFeatureType::FLOAT32;
    case DType::kFloat16:
      if (spec_version < 7) {
        return absl::InvalidArgumentError(absl::StrCat(
            "feature '", f.name,
            "' is fp16, which needs specification version >= 7 (iOS16); this model has ",
            spec_version));
      }
      return spec_pb::ArrayFeatureType::FLOAT16;
    case DType::kInt32:
      return spec_pb::ArrayFeatureType::INT32;
    default:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("feature '", f.name, "' has dtype ", std::string(DTypeName(f.dtype)),
                   "; model inputs/outputs must be fp32, fp16 or int32"));
}

absl::Status AddFeatures(const std::vector<FeatureSpec>& features, int32_t spec_version,
                         google::protobuf::RepeatedPtrField<spec_pb::FeatureDescription>* out) {
  for (const FeatureSpec& f : features) {
    absl::StatusOr<spec_pb::ArrayFeatureType::ArrayDataType> dtype =
        ToArrayDataType(f, spec_version);
    if (!dtype.ok()) return dtype.status();
    spec_pb::FeatureDescription* d = out->Add();
    d->set_name(f.name);
    spec_pb::ArrayFeatureType* array = d->mutable_type()->mutable_multiarraytype();
    for (int64_t dim : f.shape) {
      if (dim < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "feature '", f.name, "' has a dynamic dimension; flexible shapes are not supported"));
      }
      array->add_shape(dim);
    }
    array->set_datatype(*dtype);
  }
  return absl::OkStatus();
}

// The description's features must name exactly the function's inputs (or outputs), same dtypes.
absl::Status CheckFeatures(absl::string_view kind, const std::vector<FeatureSpec>& features,
                           const Function& fn, const std::vector<VarId>& vars) {
  std::map<std::string, const Var*> by_name;
  for (VarId id : vars) by_name[fn.var(id).name] = &fn.var(id);
  std::vector<std::string> names;
  for (const auto& entry : by_name) names.push_back(entry.first);
  if (features.size() != vars.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the model description has ", features.size(), " ", kind, "s but the function has ",
        vars.size(), " (", absl::StrJoin(names, ", "), ")"));
  }
  std::set<std::string> seen;
  for (const FeatureSpec& f : features) {
    auto it = by_name.find(f.name);
    if (it == by_name.end()) {
      return absl::InvalidArgumentError(absl::StrCat("model ", kind, " '", f.name,
                                                     "' is not a function ", kind, " (",
                                                     absl::StrJoin(names, ", "), ")"));
    }
    if (!seen.insert(f.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("model ", kind, " '", f.name, "' is listed twice"));
    }
    if (it->second->type.dtype != f.dtype) {
      return absl::InvalidArgumentError(
          absl::StrCat("model ", kind, " '", f.name, "' is ", std::string(DTypeName(f.dtype)),
                       " but the function's var is ", it->second->type.ToString()));
    }
    if (!f.shape.empty() && f.shape != it->second->type.shape) {
      return absl::InvalidArgumentError(
          absl::StrCat("model ", kind, " '", f.name, "' has shape [", absl::StrJoin(f.shape, ","),
                       "] but the function's var is ", it->second->type.ToString()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SerializeDeterministic(const spec_pb::Model& model) {
  const size_t size = model.ByteSizeLong();
  if (size > static_cast<size_t>(INT32_MAX)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("model.mlmodel would be ", size, " bytes, over protobuf's 2 GiB limit"));
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!model.SerializeToCodedStream(&coded) || coded.HadError()) {
      return absl::InternalError("cannot serialize the model protobuf");
    }
  }
  return bytes;
}

/// Whether `spec` can describe `main`: an ML Program specification version, outputs, and
/// features naming exactly the function's inputs and outputs.
absl::Status CheckSpec(const ModelSpec& spec, const Function& main) {
  if (spec.specification_version < 6) {
    return absl::InvalidArgumentError(absl::StrCat("specification version ",
                                                   spec.specification_version,
                                                   " is too old: ML Programs need >= 6"));
  }
  if (main.outputs().empty()) return absl::InvalidArgumentError("the function has no outputs");
  if (absl::Status s = CheckFeatures("input", spec.inputs, main, main.inputs()); !s.ok()) return s;
  return CheckFeatures("output", spec.outputs, main, main.outputs());
}

/// The model's description: its features and metadata.
absl::Status Describe(const ModelSpec& spec, spec_pb::ModelDescription* desc) {
  if (absl::Status s = AddFeatures(spec.inputs, spec.specification_version, desc->mutable_input());
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          AddFeatures(spec.outputs, spec.specification_version, desc->mutable_output());
      !s.ok()) {
    return s;
  }
  spec_pb::Metadata* meta = desc->mutable_metadata();
  meta->set_shortdescription(spec.short_description);
  meta->set_versionstring(spec.version_string);
  meta->set_author(spec.author);
  for (const auto& [key, value] : spec.user_defined) (*meta->mutable_userdefined())[key] = value;
  return absl::OkStatus();
}

/// Manifest.json in `dir`, its identifiers derived from everything written (the model's bytes
/// and the weights' digest), so equal content gives equal manifests.
absl::Status WriteManifest(const fs::path& dir, const std::string& model_bytes,
                           const ContentHash& weights_hash) {
  ContentHash content;
  content.Update(model_bytes);
  content.Update(weights_hash.HexDigest());
  const std::string digest = content.HexDigest();
  const std::string model_id = ContentUuid(absl::StrCat(kModelItemPath, "\n", digest));
  const std::string weights_id = ContentUuid(absl::StrCat(kWeightsItemPath, "\n", digest));
  std::map<std::string, ManifestItem> items;
  items[model_id] = {"com.apple.CoreML", "CoreML Model Specification", "model.mlmodel",
                     std::string(kModelItemPath)};
  items[weights_id] = {"com.apple.CoreML", "CoreML Model Weights", "weights",
                       std::string(kWeightsItemPath)};
  return WriteFile(dir / "Manifest.json", ManifestJson(model_id, items));
}

absl::StatusOr<WriteStats> WriteInto(const ModelSpec& spec, const Function& main,
                                     const fs::path& dir) {
  if (absl::Status s = CheckSpec(spec, main); !s.ok()) return s;
  const fs::path data_dir = dir / "Data" / "com.apple.CoreML";
  const fs::path weights_dir = data_dir / "weights";
  std::error_code ec;
  fs::create_directories(weights_dir, ec);
  if (ec) return FsError("cannot create", weights_dir, ec);

  WriteStats stats;
  spec_pb::Model model;
  model.set_specificationversion(spec.specification_version);
  if (absl::Status s = Describe(spec, model.mutable_description()); !s.ok()) return s;
  WeightBlobWriter weights;
  if (absl::Status s = weights.Open(weights_dir / "weight.bin"); !s.ok()) return s;
  ProgramBuilder builder(main, &weights, &stats);
  if (absl::Status s = builder.Build(model.mutable_mlprogram()); !s.ok()) return s;
  if (absl::Status s = weights.Finish(); !s.ok()) return s;
  stats.weight_file_bytes = weights.size();

  absl::StatusOr<std::string> bytes = SerializeDeterministic(model);
  if (!bytes.ok()) return bytes.status();
  if (absl::Status s = WriteFile(data_dir / "model.mlmodel", *bytes); !s.ok()) return s;
  if (absl::Status s = WriteManifest(dir, *bytes, builder.weights_hash()); !s.ok()) return s;
  return stats;
}

void RemoveQuietly(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

/// Ignores SIGXFSZ while alive (restoring the previous disposition), so that exceeding
/// RLIMIT_FSIZE fails the write with EFBIG instead of killing the process.
class ScopedIgnoreSigxfsz {
 public:
  ScopedIgnoreSigxfsz() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    saved_ = ::sigaction(SIGXFSZ, &ignore, &previous_) == 0;
  }
  ~ScopedIgnoreSigxfsz() {
    if (saved_) ::sigaction(SIGXFSZ, &previous_, nullptr);
  }
  ScopedIgnoreSigxfsz(const ScopedIgnoreSigxfsz&) = delete;
  ScopedIgnoreSigxfsz& operator=(const ScopedIgnoreSigxfsz&) = delete;

 private:
  struct sigaction previous_ {};
  bool saved_ = false;
};

/// The signal a ScopedHoldInterrupts handler caught, 0 when none.
volatile sig_atomic_t g_held_signal = 0;

extern "C" void HoldInterrupt(int signal_number) { g_held_signal = signal_number; }

/// While alive, SIGINT, SIGTERM and SIGHUP (where their action is the default one) only record
/// that they came, so that the writer removes its temporary folder before the process ends; the
/// destructor restores the actions and raises a recorded signal again. A second signal acts at
/// once (SA_RESETHAND); interrupted system calls restart (SA_RESTART).
class ScopedHoldInterrupts {
 public:
  ScopedHoldInterrupts() {
    g_held_signal = 0;
    struct sigaction hold {};
    hold.sa_handler = HoldInterrupt;
    sigemptyset(&hold.sa_mask);
    hold.sa_flags = SA_RESETHAND | SA_RESTART;
    for (size_t k = 0; k < kSignals.size(); ++k) {
      held_[k] = ::sigaction(kSignals[k], nullptr, &previous_[k]) == 0 &&
                 (previous_[k].sa_flags & SA_SIGINFO) == 0 && previous_[k].sa_handler == SIG_DFL &&
                 ::sigaction(kSignals[k], &hold, nullptr) == 0;
    }
  }
  ~ScopedHoldInterrupts() {
    for (size_t k = 0; k < kSignals.size(); ++k) {
      if (held_[k]) ::sigaction(kSignals[k], &previous_[k], nullptr);
    }
    if (g_held_signal != 0) ::raise(g_held_signal);
  }
  ScopedHoldInterrupts(const ScopedHoldInterrupts&) = delete;
  ScopedHoldInterrupts& operator=(const ScopedHoldInterrupts&) = delete;

  /// Whether a held signal came; the caller then removes what it wrote.
  bool interrupted() const { return g_held_signal != 0; }

 private:
  static constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
  std::array<struct sigaction, 3> previous_{};
  std::array<bool, 3> held_{};
};

absl::Status Interrupted() {
  return absl::CancelledError(
      absl::StrCat("interrupted by signal ", g_held_signal, "; the temporary package was removed"));
}

}  // namespace

std::string ContentUuid(std::string_view content) {
  ContentHash h;
  h.Update(content.data(), content.size());
  uint8_t b[16];
  const XXH128_canonical_t digest = h.Canonical();
  std::memcpy(b, digest.digest, sizeof b);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x80);  // version 8: custom (RFC 9562)
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return absl::StrFormat("%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
                         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                         b[12], b[13], b[14], b[15]);
}

absl::StatusOr<WriteStats> WritePackageDir(const ModelSpec& spec, const Function& main,
                                           const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dir, ec))) {
    return absl::AlreadyExistsError(absl::StrCat("'", dir.string(), "' already exists"));
  }
  if (!fs::create_directory(dir, ec) || ec) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create '", dir.string(), "': ", ec ? ec.message() : "it appeared concurrently"));
  }
  absl::StatusOr<WriteStats> stats = WriteInto(spec, main, dir);
  if (!stats.ok()) RemoveQuietly(dir);
  return stats;
}

absl::StatusOr<WriteStats> WritePackageAtomically(const ModelSpec& spec, const Function& main,
                                                  const fs::path& out, bool force) {
  std::error_code ec;
  fs::path target = out;
  if (!target.has_filename()) target = target.parent_path();  // "Net.mlpackage/"
  if (target.empty() || target.filename() == "." || target.filename() == "..") {
    return absl::InvalidArgumentError(absl::StrCat("'", out.string(), "' is not a package path"));
  }
  fs::path parent = target.parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::is_directory(parent, ec)) {
    return absl::NotFoundError(absl::StrCat("the output folder '", parent.string(),
                                            "' (parent of '", target.string(),
                                            "') does not exist or is not a folder"));
  }
  if (::access(parent.c_str(), W_OK | X_OK) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("the output folder '", parent.string(), "' is not writable"));
  }
  if (absl::Status s = CheckOutputTarget(target, force, {}); !s.ok()) return s;

  RemoveStaleTemporaries(parent / target.filename());
  const fs::path temp = TemporarySibling(parent / target.filename(), ::getpid());
  RemoveQuietly(temp);  // a leftover of an earlier crashed run with the same pid
  // Over a file-size limit, writes fail with EFBIG (reported, temp removed) instead of the
  // process being killed with the temporary folder left behind.
  ScopedIgnoreSigxfsz ignore_sigxfsz;
  // An interrupt while the temporary folder exists removes it before the process ends.
  ScopedHoldInterrupts hold_interrupts;
  absl::StatusOr<WriteStats> stats = WritePackageDir(spec, main, temp);
  if (!stats.ok()) return stats;  // WritePackageDir removed `temp`

  // Read the result back and check it before it replaces anything.
  absl::StatusOr<Package> package = ReadPackage(temp);
  absl::Status valid = package.ok() ? ValidatePackage(*package) : package.status();
  if (hold_interrupts.interrupted()) {
    RemoveQuietly(temp);
    return Interrupted();
  }
  if (!valid.ok()) {
    RemoveQuietly(temp);
    return absl::InternalError(
        absl::StrCat("the written package failed validation: ", valid.message()));
  }
  if (absl::Status s = MoveIntoPlace(temp, parent / target.filename(), SwapMethod::kExchange);
      !s.ok()) {
    RemoveQuietly(temp);
    return s;
  }
  return stats;
}

}  // namespace ts2coreml::mil
