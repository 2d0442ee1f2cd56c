#include "core/report/package_inspection.h"

#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/errors.h"
#include "core/base/json.h"
#include "core/base/metadata_keys.h"
#include "core/mil/package_reader.h"
#include "core/mil/validator.h"

namespace ts2coreml::core {
namespace {

namespace milspec = CoreML::Specification::MILSpec;

/// Xcode-style name of a dtype contributing to the precision label, or "".
std::string LabelName(milspec::DataType d) {
  switch (d) {
    case milspec::FLOAT16:
      return "Float16";
    case milspec::FLOAT32:
      return "Float32";
    case milspec::INT32:
      return "Int32";
    case milspec::INT8:
      return "Int8";
    default:
      return "";
  }
}

std::string FeatureDtypeName(int array_data_type) {
  switch (array_data_type) {
    case 65568:
      return "fp32";
    case 65552:
      return "fp16";
    case 131104:
      return "int32";
    case 65600:
      return "fp64";
    default:
      return "unknown";
  }
}

std::vector<InspectedFeature> Features(
    const google::protobuf::RepeatedPtrField<CoreML::Specification::FeatureDescription>& fs) {
  std::vector<InspectedFeature> out;
  for (const auto& f : fs) {
    InspectedFeature i;
    i.name = f.name();
    i.dtype = FeatureDtypeName(f.type().multiarraytype().datatype());
    for (int64_t d : f.type().multiarraytype().shape()) i.shape.push_back(d);
    out.push_back(std::move(i));
  }
  return out;
}

/// A JSON object from metadata userDefined[key], or null.
std::optional<json::Value> MetadataJson(const mil::Package& pkg, const std::string& key) {
  const auto& ud = pkg.model.description().metadata().userdefined();
  auto it = ud.find(key);
  if (it == ud.end()) return std::nullopt;
  absl::StatusOr<json::Value> v = json::Parse(it->second);
  if (!v.ok() || v->kind != json::Value::Kind::kObject) return std::nullopt;
  return *std::move(v);
}

std::string StringMember(const json::Value& obj, absl::string_view key) {
  const json::Value* v = obj.Find(key);
  return v && v->kind == json::Value::Kind::kString ? v->string : "";
}

}  // namespace

absl::StatusOr<PackageCheck> CheckPackage(const std::filesystem::path& path) {
  absl::StatusOr<mil::Package> pkg = mil::ReadPackage(path);
  if (!pkg.ok()) {
    return Error(ErrorClass::kPackage, absl::StrCat(path.string(), ": ", pkg.status().message()));
  }
  PackageCheck r;
  r.path = path;
  if (absl::Status s = mil::ValidatePackage(*pkg); !s.ok()) {
    r.problems.push_back({"package", "", std::string(s.message())});
  }
  absl::StatusOr<std::vector<mil::OpProblem>> problems = mil::CheckProgram(*pkg);
  if (!problems.ok()) return problems.status();
  r.opset = pkg->model.mlprogram().functions().at("main").opset();
  absl::StatusOr<std::map<std::string, int>> histogram = mil::OpTypeHistogram(*pkg);
  if (histogram.ok()) {
    for (const auto& [type, n] : *histogram) r.num_ops += n;
  }
  r.problems.insert(r.problems.end(), problems->begin(), problems->end());
  return r;
}

std::string FormatCheckText(const PackageCheck& check) {
  std::string out;
  for (const mil::OpProblem& p : check.problems) {
    if (p.type.empty()) {
      absl::StrAppend(&out, check.path.string(), ": ", p.message, "\n");
    } else {
      absl::StrAppend(&out, check.path.string(), ": op '", p.op, "' is ", p.message, "\n");
    }
  }
  if (check.problems.empty()) {
    absl::StrAppend(&out, check.path.string(), ": valid: ", check.num_ops, " ops fit ", check.opset,
                    "\n");
  } else {
    absl::StrAppend(&out, check.path.string(), ": invalid: ", check.problems.size(),
                    " problem(s) in ", check.num_ops, " ops against ", check.opset, "\n");
  }
  return out;
}

std::string FormatCheckJson(const PackageCheck& check) {
  std::string out =
      absl::StrCat("{\"path\": ", json::Quote(check.path.string()),
                   ", \"opset\": ", json::Quote(check.opset), ", \"num_ops\": ", check.num_ops,
                   ", \"valid\": ", check.problems.empty() ? "true" : "false", ", \"problems\": [");
  for (size_t i = 0; i < check.problems.size(); ++i) {
    const mil::OpProblem& p = check.problems[i];
    absl::StrAppend(&out, i ? ", " : "", "{\"op\": ", json::Quote(p.op),
                    ", \"type\": ", json::Quote(p.type), ", \"message\": ", json::Quote(p.message),
                    "}");
  }
  return out + "]}\n";
}

namespace {

/// What InspectPackage carries from op to op of the main block.
struct InspectionWalk {
  PackageInspection* r;
  std::optional<json::Value> fp32_reasons;  ///< kFp32OpsKey metadata, when written by us
  std::optional<json::Value> cast_reasons;  ///< kCastsKey metadata
  std::map<std::string, milspec::DataType> var_dtype;
  std::map<std::string, std::set<std::string>> contributors;  ///< label -> op types
  std::set<std::string> const_vars;
};

/// A const op: counted, and its bytes by dtype (in weight.bin or inline).
void InspectConst(const milspec::Operation& op, InspectionWalk& w) {
  ++w.r->num_consts;
  if (op.outputs_size() > 0) w.const_vars.insert(op.outputs(0).name());
  auto val = op.attributes().find("val");
  if (val == op.attributes().end()) return;
  const auto& t = val->second.type().tensortype();
  int64_t numel = 1;
  for (const auto& d : t.dimensions()) numel *= static_cast<int64_t>(d.constant().size());
  const uint64_t bytes = static_cast<uint64_t>(numel) * mil::ElementSize(t.datatype());
  if (bytes == 0) return;  // strings
  if (val->second.has_blobfilevalue()) {
    w.r->blob_bytes[mil::DataTypeName(t.datatype())] += bytes;
  } else {
    w.r->immediate_bytes[mil::DataTypeName(t.datatype())] += bytes;
  }
}

/// A cast: its dtypes, its recorded reason, and whether it is an fp16/fp32 transition.
void InspectCast(const milspec::Operation& op, milspec::DataType out, InspectionWalk& w) {
  InspectedCast c;
  c.var = op.outputs_size() > 0 ? op.outputs(0).name() : "";
  auto x = op.inputs().find("x");
  const std::string* x_var = x != op.inputs().end() && x->second.arguments_size() == 1
                                 ? &x->second.arguments(0).name()
                                 : nullptr;
  const milspec::DataType from =
      x_var && w.var_dtype.count(*x_var) ? w.var_dtype[*x_var] : milspec::UNUSED_TYPE;
  c.from = mil::DataTypeName(from);
  c.to = mil::DataTypeName(out);
  if (w.cast_reasons) {
    if (const json::Value* why = w.cast_reasons->Find(c.var)) c.reason = why->string;
  }
  c.of_constant = x_var && w.const_vars.count(*x_var) != 0;
  const bool f16_f32 = (from == milspec::FLOAT16 && out == milspec::FLOAT32) ||
                       (from == milspec::FLOAT32 && out == milspec::FLOAT16);
  if (f16_f32 && !c.of_constant) ++w.r->transitions;
  w.r->casts.push_back(std::move(c));
}

/// Any other op: counted by type and dtype; an fp32 one with the reason recorded for it.
void InspectComputeOp(const milspec::Operation& op, milspec::DataType out, InspectionWalk& w) {
  ++w.r->num_ops;
  if (const std::string label = LabelName(out); !label.empty()) {
    w.contributors[label].insert(op.type());
  }
  if (out != milspec::FLOAT32) return;
  InspectedFp32Op f;
  f.var = op.outputs_size() > 0 ? op.outputs(0).name() : "";
  f.type = op.type();
  if (w.fp32_reasons) {
    if (const json::Value* rec = w.fp32_reasons->Find(f.var)) {
      f.reason = StringMember(*rec, "reason");
      f.torch_op = StringMember(*rec, "op");
      f.source = StringMember(*rec, "source");
    }
  }
  w.r->fp32_ops.push_back(std::move(f));
}

/// One op of the main block or of a block nested in it (cond branches, loop bodies).
void InspectOp(const milspec::Operation& op, InspectionWalk& w) {
  for (const milspec::Block& nested : op.blocks()) {
    for (const auto& in : nested.inputs())
      w.var_dtype[in.name()] = in.type().tensortype().datatype();
  }
  const milspec::DataType out =
      op.outputs_size() > 0 ? op.outputs(0).type().tensortype().datatype() : milspec::UNUSED_TYPE;
  for (const auto& o : op.outputs()) w.var_dtype[o.name()] = o.type().tensortype().datatype();
  if (op.type() == "const") return InspectConst(op, w);
  ++w.r->ops[op.type()][mil::DataTypeName(out)];
  if (op.type() == "cast") return InspectCast(op, out, w);
  InspectComputeOp(op, out, w);
}

/// Xcode's precision label ("Float16", "Mixed (Float16, Float32)", ...) from the dtypes ops
/// compute in, and which op types contribute each.
void SetPrecisionLabel(const std::map<std::string, std::set<std::string>>& contributors,
                       PackageInspection* r) {
  std::vector<std::string> labels;
  for (const char* name : {"Float16", "Float32", "Int32", "Int8"}) {
    auto it = contributors.find(name);
    if (it == contributors.end()) continue;
    labels.emplace_back(name);
    r->label_contributors[name] = std::vector<std::string>(it->second.begin(), it->second.end());
  }
  r->precision_label = labels.empty() ? "none"
                       : labels.size() == 1
                           ? labels[0]
                           : absl::StrCat("Mixed (", absl::StrJoin(labels, ", "), ")");
}

}  // namespace

absl::StatusOr<PackageInspection> InspectPackage(const std::filesystem::path& path) {
  absl::StatusOr<mil::Package> pkg = mil::ReadPackage(path);
  if (!pkg.ok()) {
    return Error(ErrorClass::kPackage, absl::StrCat(path.string(), ": ", pkg.status().message()));
  }
  if (absl::Status s = mil::ValidatePackage(*pkg); !s.ok()) {
    return Error(ErrorClass::kPackage, absl::StrCat(path.string(), ": ", s.message()));
  }
  absl::StatusOr<const milspec::Block*> block = mil::MainBlock(*pkg);
  if (!block.ok()) {
    return Error(ErrorClass::kPackage, absl::StrCat(path.string(), ": ", block.status().message()));
  }
  const auto& main = pkg->model.mlprogram().functions().at("main");
  PackageInspection r;
  r.path = path;
  r.specification_version = pkg->model.specificationversion();
  r.opset = main.opset();
  r.inputs = Features(pkg->model.description().input());
  r.outputs = Features(pkg->model.description().output());
  r.written_by_ts2coreml = pkg->model.description().metadata().userdefined().count(kPrecisionKey);
  InspectionWalk w{&r, MetadataJson(*pkg, kFp32OpsKey), MetadataJson(*pkg, kCastsKey), {}, {}, {}};
  for (const auto& in : main.inputs()) w.var_dtype[in.name()] = in.type().tensortype().datatype();
  mil::ForEachOperation(**block, [&w](const milspec::Operation& op) { InspectOp(op, w); });
  r.residency = MeasureResidency(**block, main);
  SetPrecisionLabel(w.contributors, &r);
  return r;
}

std::string FormatInspectionText(const PackageInspection& r) {
  std::string out;
  absl::StrAppendFormat(&out, "ts2coreml inspect: %s\n", r.path.string());
  absl::StrAppendFormat(&out, "  ML Program, specification %d, opset %s%s\n",
                        r.specification_version, r.opset,
                        r.written_by_ts2coreml ? ", written by ts2coreml" : "");
  auto features = [](const std::vector<InspectedFeature>& fs) {
    std::vector<std::string> parts;
    for (const auto& f : fs) {
      parts.push_back(absl::StrCat(f.name, " ", f.dtype, "[", absl::StrJoin(f.shape, ","), "]"));
    }
    return absl::StrJoin(parts, ", ");
  };
  absl::StrAppendFormat(&out, "  inputs:  %s\n  outputs: %s\n", features(r.inputs),
                        features(r.outputs));
  absl::StrAppendFormat(&out, "  precision: %s\n", r.precision_label);
  absl::StrAppend(&out, "  ", FormatResidency(r.residency), "\n");
  for (const auto& [label, types] : r.label_contributors) {
    absl::StrAppendFormat(&out, "    %s from: %s\n", label, absl::StrJoin(types, ", "));
  }
  absl::StrAppendFormat(&out,
                        "  MIL ops (%d, consts and casts not counted; plus %d consts, %d casts):\n",
                        r.num_ops, r.num_consts, r.casts.size());
  for (const auto& [type, dtypes] : r.ops) {
    if (type == "cast") continue;  // listed with the transitions below
    for (const auto& [dtype, count] : dtypes) {
      absl::StrAppendFormat(&out, "    %-22s %-6s %5d\n", type, dtype, count);
    }
  }
  absl::StrAppendFormat(&out, "  fp16/fp32 transitions: %d\n", r.transitions);
  for (const InspectedCast& c : r.casts) {
    absl::StrAppendFormat(&out, "    cast %s%s: %s -> %s%s\n", c.of_constant ? "of weight " : "",
                          c.var, c.from, c.to,
                          c.reason.empty() ? "" : absl::StrCat("  (", c.reason, ")"));
  }
  absl::StrAppendFormat(&out, "  fp32 ops (%d):\n", r.fp32_ops.size());
  for (const InspectedFp32Op& f : r.fp32_ops) {
    std::string why =
        f.reason.empty() ? (r.written_by_ts2coreml ? "" : "(no reason recorded)") : f.reason;
    absl::StrAppendFormat(&out, "    %s %s%s%s: %s\n", f.type, f.var,
                          f.torch_op.empty() ? "" : absl::StrCat(" from ", f.torch_op),
                          f.source.empty() ? "" : absl::StrCat(" at ", f.source), why);
  }
  std::vector<std::string> bytes;
  for (const auto& [dtype, n] : r.blob_bytes) {
    bytes.push_back(absl::StrFormat("%s %d in weight.bin", dtype, n));
  }
  for (const auto& [dtype, n] : r.immediate_bytes) {
    bytes.push_back(absl::StrFormat("%s %d inline", dtype, n));
  }
  absl::StrAppendFormat(&out, "  weight bytes: %s\n",
                        bytes.empty() ? "none" : absl::StrJoin(bytes, ", "));
  return out;
}

namespace {

void WriteFeaturesJson(json::Writer& w, const std::vector<InspectedFeature>& fs) {
  w.BeginArray();
  for (const auto& f : fs) {
    w.BeginObject().Key("name").String(f.name).Key("dtype").String(f.dtype).Key("shape");
    w.BeginArray();
    for (int64_t d : f.shape) w.Int(d);
    w.EndArray().EndObject();
  }
  w.EndArray();
}

void WriteResidencyJson(json::Writer& w, const Residency& res) {
  w.BeginObject();
  w.Key("float_ops").Int(res.float_ops).Key("fp16_ops").Int(res.fp16_ops);
  w.Key("fp16_op_share").Double(res.OpShare() / 100);
  w.Key("flops").Double(res.flops).Key("fp16_flops").Double(res.fp16_flops);
  w.Key("fp16_flop_share").Double(res.FlopShare() / 100);
  w.Key("transitions").Int(res.transitions);
  w.EndObject();
}

/// The op histogram, the casts and the fp32 ops with their reasons.
void WriteOpsJson(json::Writer& w, const PackageInspection& r) {
  w.Key("num_ops").Int(r.num_ops);
  w.Key("num_consts").Int(r.num_consts);
  w.Key("num_casts").Int(static_cast<int64_t>(r.casts.size()));
  w.Key("ops").BeginObject();
  for (const auto& [type, dtypes] : r.ops) {
    w.Key(type).BeginObject();
    for (const auto& [dtype, count] : dtypes) w.Key(dtype).Int(count);
    w.EndObject();
  }
  w.EndObject();
  w.Key("transitions").Int(r.transitions);
  w.Key("casts").BeginArray();
  for (const InspectedCast& c : r.casts) {
    w.BeginObject().Key("var").String(c.var).Key("from").String(c.from).Key("to").String(c.to);
    w.Key("reason").String(c.reason).Key("of_constant").Bool(c.of_constant).EndObject();
  }
  w.EndArray();
  w.Key("fp32_ops").BeginArray();
  for (const InspectedFp32Op& f : r.fp32_ops) {
    w.BeginObject().Key("var").String(f.var).Key("type").String(f.type);
    w.Key("reason").String(f.reason).Key("torch_op").String(f.torch_op);
    w.Key("source").String(f.source).EndObject();
  }
  w.EndArray();
}

void WriteWeightBytesJson(json::Writer& w, const PackageInspection& r) {
  w.BeginObject();
  w.Key("blob").BeginObject();
  for (const auto& [dtype, n] : r.blob_bytes) w.Key(dtype).Int(static_cast<int64_t>(n));
  w.EndObject();
  w.Key("immediate").BeginObject();
  for (const auto& [dtype, n] : r.immediate_bytes) w.Key(dtype).Int(static_cast<int64_t>(n));
  w.EndObject();
  w.EndObject();
}

}  // namespace

std::string FormatInspectionJson(const PackageInspection& r) {
  json::Writer w;
  w.BeginObject();
  w.Key("path").String(r.path.string());
  w.Key("specification_version").Int(r.specification_version);
  w.Key("opset").String(r.opset);
  w.Key("written_by_ts2coreml").Bool(r.written_by_ts2coreml);
  w.Key("inputs");
  WriteFeaturesJson(w, r.inputs);
  w.Key("outputs");
  WriteFeaturesJson(w, r.outputs);
  w.Key("precision_label").String(r.precision_label);
  w.Key("residency");
  WriteResidencyJson(w, r.residency);
  w.Key("label_contributors").BeginObject();
  for (const auto& [label, types] : r.label_contributors) {
    w.Key(label).BeginArray();
    for (const std::string& t : types) w.String(t);
    w.EndArray();
  }
  w.EndObject();
  WriteOpsJson(w, r);
  w.Key("weight_bytes");
  WriteWeightBytesJson(w, r);
  w.EndObject();
  return w.Finish();
}

}  // namespace ts2coreml::core
