/// Validation and copying of a plugin's declarations.
#include "registry/declaration_reader.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ts2coreml::registry {
namespace {

constexpr size_t kMaxNameLength = 256;
constexpr size_t kMaxSchemaLength = 4096;
constexpr uint32_t kKnownLoweringFlags = T2C_LOWERING_PASSTHROUGH;
constexpr uint32_t kKnownInputFlags = T2C_INPUT_OPTIONAL | T2C_INPUT_KEEPS_CLASS;

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsIdentifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsIdentifierChar);
}

/// Printable ASCII only, so that every message built from it stays on one line.
bool IsPrintable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

/// Reads a C string declared by the plugin: `what` names it in errors. Null is an error unless
/// `allow_null`, in which case it reads as "".
absl::StatusOr<std::string> ReadText(const char* text, absl::string_view what, size_t max_length,
                                     bool allow_null, bool allow_empty) {
  if (text == nullptr) {
    if (allow_null) return std::string();
    return absl::InvalidArgumentError(absl::StrCat(what, " is null"));
  }
  const size_t length = strnlen(text, max_length + 1);
  if (length > max_length) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is longer than ", max_length, " characters"));
  }
  std::string copy(text, length);
  if (copy.empty() && !allow_empty)
    return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (!IsPrintable(copy)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " contains non-printable characters"));
  }
  return copy;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

/// Checks the shape of a full schema, "ns::name[.overload](args) -> returns", and that it names an
/// op the lowering claims (so a typo cannot register an op nobody lowers). Parsing proper is
/// LibTorch's, when the core registers the schema.
absl::Status ValidateSchema(const std::string& schema, const std::vector<std::string>& ops) {
  const auto invalid = [&schema](absl::string_view problem) {
    return absl::InvalidArgumentError(absl::StrCat("schema '", schema, "' ", problem));
  };
  const size_t open = schema.find('(');
  const std::string_view name = open == std::string::npos
                                    ? std::string_view()
                                    : Trim(std::string_view(schema).substr(0, open));
  if (open == std::string::npos || !ValidateOpName(name).ok()) {
    return invalid("is not a full schema like 'ns::name(Tensor x) -> Tensor'");
  }
  int depth = 0;
  size_t close = std::string::npos;
  for (size_t i = open; i < schema.size() && close == std::string::npos; ++i) {
    if (schema[i] == '(') ++depth;
    if (schema[i] == ')' && --depth == 0) close = i;
  }
  if (close == std::string::npos) return invalid("has unbalanced parentheses");
  const std::string_view returns = Trim(std::string_view(schema).substr(close + 1));
  if (returns.substr(0, 2) != "->" || Trim(returns.substr(2)).empty()) {
    return invalid("has no return type; write 'ns::name(Tensor x) -> Tensor'");
  }
  const std::string_view bare = name.substr(0, name.find('.', name.find("::") + 2));
  const bool claimed = std::any_of(ops.begin(), ops.end(),
                                   [&](const std::string& op) { return op == name || op == bare; });
  if (!claimed) {
    std::string claims;
    for (const std::string& op : ops) absl::StrAppend(&claims, claims.empty() ? "" : ", ", op);
    return invalid(absl::StrCat("declares ", absl::string_view(name.data(), name.size()),
                                ", which the lowering does not claim (it claims ", claims,
                                "); fix the schema's name or claim the op"));
  }
  return absl::OkStatus();
}

bool RoleTakesDtypes(t2c_input_role role) {
  return role == T2C_ROLE_TENSOR || role == T2C_ROLE_PARAM || role == T2C_ROLE_TENSOR_LIST;
}

absl::StatusOr<InputDecl> ReadInput(const t2c_input_decl& decl, uint32_t index) {
  InputDecl input;
  absl::StatusOr<std::string> name =
      ReadText(decl.name, absl::StrCat("the name of input #", index), kMaxNameLength,
               /*allow_null=*/true, /*allow_empty=*/true);
  if (!name.ok()) return name.status();
  input.name = *std::move(name);
  const std::string label = input.name.empty() ? absl::StrCat("input #", index)
                                               : absl::StrCat("input '", input.name, "'");

  if (decl.role < T2C_ROLE_TENSOR || decl.role > T2C_ROLE_IGNORED) {
    return absl::InvalidArgumentError(absl::StrCat(label, " has unknown role ", decl.role,
                                                   " (known: 0..", T2C_ROLE_IGNORED, ")"));
  }
  input.role = static_cast<t2c_input_role>(decl.role);
  if ((decl.dtypes & ~kKnownDtypeBits) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, " has dtype bits outside ", DtypeMaskToString(kKnownDtypeBits), ": ",
                     DtypeMaskToString(decl.dtypes & ~kKnownDtypeBits)));
  }
  if (RoleTakesDtypes(input.role) && decl.dtypes == 0) {
    return absl::InvalidArgumentError(absl::StrCat(label, " has role ",
                                                   std::string(InputRoleName(input.role)),
                                                   " but accepts no dtype (mask 0)"));
  }
  input.dtypes = decl.dtypes;
  if ((decl.flags & ~kKnownInputFlags) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(label, " has unknown flag bits 0x",
                                                   absl::Hex(decl.flags & ~kKnownInputFlags)));
  }
  if ((decl.flags & T2C_INPUT_KEEPS_CLASS) != 0 && input.role != T2C_ROLE_TENSOR) {
    return absl::InvalidArgumentError(absl::StrCat(label, " has T2C_INPUT_KEEPS_CLASS but role ",
                                                   std::string(InputRoleName(input.role)),
                                                   " (only tensor inputs keep a class)"));
  }
  input.flags = decl.flags;
  return input;
}

std::string RebuildHint() { return "rebuild the plugin against the ts2coreml SDK"; }

/// `sizeof(T)` bytes of `data`, of which the plugin wrote `size`: min(size, sizeof(T)) are copied
/// and the rest are zero, so a field appended after the plugin's layout reads as zero and a field
/// appended after this core's layout is ignored.
template <typename T>
T CopyPrefix(const void* data, uint32_t size) {
  T out;
  std::memset(&out, 0, sizeof(out));
  std::memcpy(&out, data, std::min<size_t>(size, sizeof(out)));
  return out;
}

/// Validates FP16 limit #`index` against the lowering's inputs `inputs`.
absl::StatusOr<Fp16Limit> ReadFp16Limit(const t2c_fp16_limit& decl, uint32_t index,
                                        const std::vector<InputDecl>& inputs) {
  const std::string label = absl::StrCat("fp16 limit #", index);
  if (decl.statistic < T2C_FP16_STAT_MAGNITUDE || decl.statistic > T2C_FP16_STAT_EXP_SUM) {
    return absl::InvalidArgumentError(absl::StrCat(label, " has unknown statistic ", decl.statistic,
                                                   " (known: 1..", T2C_FP16_STAT_EXP_SUM, ")"));
  }
  if (decl.statistic == T2C_FP16_STAT_POWER_SUM &&
      (decl.param_input >= inputs.size() || inputs[decl.param_input].role != T2C_ROLE_HOST)) {
    return absl::InvalidArgumentError(absl::StrCat(
        label, " reads its order p from input #", decl.param_input, ", which is not a host input"));
  }
  if (decl.input >= inputs.size() || inputs[decl.input].role != T2C_ROLE_TENSOR) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, " measures input #", decl.input, ", which is not a tensor input"));
  }
  if (decl.axes < T2C_FP16_AXES_ALL || decl.axes > T2C_FP16_AXES_SPATIAL) {
    return absl::InvalidArgumentError(absl::StrCat(label, " has unknown axes ", decl.axes,
                                                   " (known: 0..", T2C_FP16_AXES_SPATIAL, ")"));
  }
  if (decl.axes != T2C_FP16_AXES_ALL && decl.axes != T2C_FP16_AXES_SPATIAL &&
      (decl.axes_input >= inputs.size() || inputs[decl.axes_input].role != T2C_ROLE_HOST)) {
    return absl::InvalidArgumentError(absl::StrCat(label, " reads its axes from input #",
                                                   decl.axes_input, ", which is not a host input"));
  }
  if (!(decl.bound > 0) || decl.bound > 1e300) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, " has bound ", decl.bound, "; it must be a positive finite number"));
  }
  absl::StatusOr<std::string> what =
      ReadText(decl.what, absl::StrCat(label, "'s what"), kMaxNameLength, /*allow_null=*/false,
               /*allow_empty=*/false);
  if (!what.ok()) return what.status();
  return Fp16Limit{static_cast<t2c_fp16_statistic>(decl.statistic),
                   decl.input,
                   static_cast<t2c_fp16_axes>(decl.axes),
                   decl.axes_input,
                   decl.bound,
                   *std::move(what),
                   decl.param_input};
}

/// The FP16 limits array, stepped through with the plugin's own t2c_fp16_limit size (the
/// first element's; every element must share it).
absl::Status ReadFp16Limits(const t2c_lowering_decl& decl, Lowering& out) {
  if (decl.num_fp16_limits == 0) return absl::OkStatus();
  if (decl.fp16_limits == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("declares ", decl.num_fp16_limits, " fp16 limits but fp16_limits is null"));
  }
  const auto* base = reinterpret_cast<const unsigned char*>(decl.fp16_limits);
  uint32_t stride = 0;
  std::memcpy(&stride, base, sizeof(stride));
  if (stride < T2C_FP16_LIMIT_MIN_SIZE || stride > kMaxPluginStructSize ||
      stride % alignof(t2c_fp16_limit) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "t2c_fp16_limit.struct_size is ", stride, ", expected a multiple of ",
        alignof(t2c_fp16_limit), " from ", T2C_FP16_LIMIT_MIN_SIZE, "; ", RebuildHint()));
  }
  for (uint32_t k = 0; k < decl.num_fp16_limits; ++k) {
    const unsigned char* element = base + static_cast<size_t>(k) * stride;
    uint32_t size = 0;
    std::memcpy(&size, element, sizeof(size));
    if (size != stride) {
      return absl::InvalidArgumentError(absl::StrCat("fp16 limit #", k, " has struct_size ", size,
                                                     " but fp16 limit #0 has ", stride));
    }
    absl::StatusOr<Fp16Limit> limit =
        ReadFp16Limit(CopyPrefix<t2c_fp16_limit>(element, stride), k, out.inputs);
    if (!limit.ok()) return limit.status();
    out.fp16_limits.push_back(*std::move(limit));
  }
  return absl::OkStatus();
}

/// The op names, each valid, duplicates dropped.
absl::Status ReadOps(const t2c_lowering_decl& decl, Lowering& out) {
  if (decl.num_ops == 0) return absl::InvalidArgumentError("declares no ops");
  if (decl.ops == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("declares ", decl.num_ops, " ops but ops is null"));
  }
  for (uint32_t k = 0; k < decl.num_ops; ++k) {
    absl::StatusOr<std::string> op = ReadText(decl.ops[k], absl::StrCat("op #", k), kMaxNameLength,
                                              /*allow_null=*/false, /*allow_empty=*/false);
    if (!op.ok()) return op.status();
    if (absl::Status valid = ValidateOpName(*op); !valid.ok()) return valid;
    if (std::find(out.ops.begin(), out.ops.end(), *op) == out.ops.end()) {
      out.ops.push_back(*std::move(op));
    }
  }
  return absl::OkStatus();
}

/// The input declarations (ReadInput each).
absl::Status ReadInputs(const t2c_lowering_decl& decl, Lowering& out) {
  if (decl.num_inputs > 0 && decl.inputs == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("declares ", decl.num_inputs, " inputs but inputs is null"));
  }
  out.inputs.reserve(decl.num_inputs);
  for (uint32_t i = 0; i < decl.num_inputs; ++i) {
    absl::StatusOr<InputDecl> input = ReadInput(decl.inputs[i], i);
    if (!input.ok()) return input.status();
    out.inputs.push_back(*std::move(input));
  }
  return absl::OkStatus();
}

/// The infer rule, the flags and the callbacks they require: infer for a custom rule and lower,
/// unless the lowering is a passthrough.
absl::Status ReadCallbacks(const t2c_lowering_decl& decl, Lowering& out) {
  if (decl.infer_rule < T2C_INFER_CUSTOM || decl.infer_rule > T2C_INFER_BROADCAST) {
    return absl::InvalidArgumentError(absl::StrCat("unknown infer_rule ", decl.infer_rule,
                                                   " (known: 0..", T2C_INFER_BROADCAST, ")"));
  }
  out.infer_rule = static_cast<t2c_infer_rule>(decl.infer_rule);
  if ((decl.flags & ~kKnownLoweringFlags) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown flag bits 0x", absl::Hex(decl.flags & ~kKnownLoweringFlags)));
  }
  out.flags = decl.flags;
  const bool passthrough = (decl.flags & T2C_LOWERING_PASSTHROUGH) != 0;
  if (out.infer_rule == T2C_INFER_CUSTOM && decl.infer == nullptr && !passthrough) {
    return absl::InvalidArgumentError(
        "infer_rule is custom but the infer callback is null; set infer or use a standard rule");
  }
  if (decl.lower == nullptr && !passthrough) {
    return absl::InvalidArgumentError(
        "the lower callback is null; set lower or flag the lowering T2C_LOWERING_PASSTHROUGH");
  }
  out.infer = decl.infer;
  out.lower = decl.lower;
  out.user_data = decl.user_data;
  return absl::OkStatus();
}

/// The full schemas of ops outside aten::, each naming one of the lowering's ops.
absl::Status ReadSchemas(const t2c_lowering_decl& decl, Lowering& out) {
  if (decl.num_schemas > 0 && decl.schemas == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("declares ", decl.num_schemas, " schemas but schemas is null"));
  }
  for (uint32_t k = 0; k < decl.num_schemas; ++k) {
    absl::StatusOr<std::string> schema =
        ReadText(decl.schemas[k], absl::StrCat("schema #", k), kMaxSchemaLength,
                 /*allow_null=*/false, /*allow_empty=*/false);
    if (!schema.ok()) return schema.status();
    if (absl::Status valid = ValidateSchema(*schema, out.ops); !valid.ok()) return valid;
    out.schemas.push_back(*std::move(schema));
  }
  return absl::OkStatus();
}

/// Validates one lowering, field by field in declaration order; errors name the field but not
/// the lowering (the caller adds it).
absl::Status ReadLoweringBody(const t2c_lowering_decl& decl, Lowering& out) {
  if (absl::Status s = ReadOps(decl, out); !s.ok()) return s;
  out.priority = decl.priority;
  if (decl.fp16_policy < T2C_FP16_NATIVE || decl.fp16_policy > T2C_FP16_FP32_PARAMS) {
    return absl::InvalidArgumentError(absl::StrCat("unknown fp16_policy ", decl.fp16_policy,
                                                   " (known: 0..", T2C_FP16_FP32_PARAMS, ")"));
  }
  out.fp16_policy = static_cast<t2c_fp16_policy>(decl.fp16_policy);
  if (absl::Status s = ReadInputs(decl, out); !s.ok()) return s;
  if (absl::Status s = ReadCallbacks(decl, out); !s.ok()) return s;
  if (absl::Status s = ReadSchemas(decl, out); !s.ok()) return s;
  return ReadFp16Limits(decl, out);
}

absl::StatusOr<Lowering> ReadLowering(const t2c_lowering_decl& decl, uint32_t index) {
  Lowering lowering;
  absl::StatusOr<std::string> name = ReadText(decl.name, "name", kMaxNameLength,
                                              /*allow_null=*/false, /*allow_empty=*/false);
  if (!name.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("lowering #", index, ": ", name.status().message()));
  }
  lowering.name = *std::move(name);
  if (absl::Status body = ReadLoweringBody(decl, lowering); !body.ok()) {
    return absl::Status(body.code(), absl::StrCat("lowering '", lowering.name, "' (#", index,
                                                  "): ", body.message()));
  }
  return lowering;
}

absl::Status CheckAbiVersion(uint32_t abi_version) {
  if (abi_version == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("plugin declares ABI version 0, which is invalid; ", RebuildHint()));
  }
  if (abi_version > T2C_ABI_VERSION) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plugin ABI ", abi_version, " is newer than this ts2coreml (ABI ", T2C_ABI_VERSION,
        "); rebuild the plugin against this ts2coreml's SDK or upgrade ts2coreml"));
  }
  return absl::OkStatus();
}

/// `<what>.struct_size` between the first published layout's `min_size` and kMaxPluginStructSize.
absl::Status CheckStructSize(absl::string_view what, uint32_t size, uint32_t min_size) {
  if (size < min_size || size > kMaxPluginStructSize) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ".struct_size is ", size, " bytes, expected at least ", min_size,
        " (the first published layout) and at most ", kMaxPluginStructSize, "; ", RebuildHint()));
  }
  return absl::OkStatus();
}

absl::Status CheckInfoSize(uint32_t size) {
  return CheckStructSize("t2c_plugin_info", size, T2C_PLUGIN_INFO_MIN_SIZE);
}

/// A lowering declaration size: also an array stride, so a multiple of the struct's alignment.
absl::Status CheckDeclSize(uint32_t size) {
  if (absl::Status s = CheckStructSize("t2c_lowering_decl", size, T2C_LOWERING_DECL_MIN_SIZE);
      !s.ok()) {
    return s;
  }
  if (size % alignof(t2c_lowering_decl) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "t2c_lowering_decl.struct_size ", size, " is not a multiple of ",
        alignof(t2c_lowering_decl), " and cannot be an array stride; ", RebuildHint()));
  }
  return absl::OkStatus();
}

/// The entry's data says `entry` where the file's header said `header`.
absl::Status Disagreement(absl::string_view entry, absl::string_view header) {
  return absl::FailedPreconditionError(absl::StrCat(
      T2C_ENTRY_SYMBOL, " returned ", entry, " but ", T2C_HEADER_SYMBOL, " declares ", header,
      "; the header and the entry must come from one SDK build, ", RebuildHint()));
}

/// The lowering array, stepped through with the plugin's own t2c_lowering_decl size (read from
/// the first element; with a header, it must be the header's).
absl::StatusOr<std::vector<Lowering>> ReadLowerings(const t2c_lowering_decl* lowerings,
                                                    uint32_t count,
                                                    const t2c_plugin_header* header) {
  const auto* base = reinterpret_cast<const unsigned char*>(lowerings);
  uint32_t stride = 0;
  std::memcpy(&stride, base, sizeof(stride));
  if (header != nullptr && stride != header->lowering_decl_size) {
    return Disagreement(absl::StrCat("t2c_lowering_decl.struct_size ", stride),
                        absl::StrCat("lowering_decl_size ", header->lowering_decl_size));
  }
  if (absl::Status s = CheckDeclSize(stride); !s.ok()) return s;
  std::vector<Lowering> out;
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const unsigned char* element = base + static_cast<size_t>(i) * stride;
    uint32_t size = 0;
    std::memcpy(&size, element, sizeof(size));
    if (size != stride) {
      return absl::FailedPreconditionError(
          absl::StrCat("lowering #", i, " has struct_size ", size, " but lowering #0 has ", stride,
                       "; every entry of the array must share one layout"));
    }
    absl::StatusOr<Lowering> lowering =
        ReadLowering(CopyPrefix<t2c_lowering_decl>(element, stride), i);
    if (!lowering.ok()) return lowering.status();
    out.push_back(*std::move(lowering));
  }
  return out;
}

}  // namespace

absl::Status ValidateOpName(std::string_view op) {
  const size_t sep = op.find("::");
  const auto invalid = [op]() {
    return absl::InvalidArgumentError(
        absl::StrCat("op '", absl::string_view(op.data(), op.size()),
                     "' is not a qualified op name; write 'ns::name' or 'ns::name.overload'"));
  };
  if (sep == std::string_view::npos) return invalid();
  const std::string_view ns = op.substr(0, sep);
  std::string_view rest = op.substr(sep + 2);
  std::string_view overload;
  if (const size_t dot = rest.find('.'); dot != std::string_view::npos) {
    overload = rest.substr(dot + 1);
    rest = rest.substr(0, dot);
    if (!IsIdentifier(overload)) return invalid();
  }
  if (!IsIdentifier(ns) || !IsIdentifier(rest)) return invalid();
  return absl::OkStatus();
}

absl::Status ValidatePluginHeader(const t2c_plugin_header& header) {
  if (header.header_size < T2C_PLUGIN_HEADER_MIN_SIZE) {
    return absl::FailedPreconditionError(absl::StrCat(
        T2C_HEADER_SYMBOL, " declares header_size ", header.header_size,
        ", below the first published layout (", T2C_PLUGIN_HEADER_MIN_SIZE, "); ", RebuildHint()));
  }
  if (absl::Status s = CheckAbiVersion(header.abi_version); !s.ok()) return s;
  if (absl::Status s = CheckInfoSize(header.plugin_info_size); !s.ok()) return s;
  if (absl::Status s = CheckDeclSize(header.lowering_decl_size); !s.ok()) return s;
  return CheckStructSize("t2c_host_api", header.host_api_size, T2C_HOST_API_MIN_SIZE);
}

absl::StatusOr<PluginDeclarations> ReadPluginDeclarations(const t2c_plugin_info* info,
                                                          const t2c_plugin_header* header) {
  if (info == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(T2C_ENTRY_SYMBOL, " returned null"));
  }
  // abi_version and struct_size sit at offsets 0 and 4 in every layout: read them first, alone.
  uint32_t abi_and_size[2];
  std::memcpy(abi_and_size, info, sizeof(abi_and_size));
  const uint32_t abi_version = abi_and_size[0];
  const uint32_t info_size = abi_and_size[1];
  if (header != nullptr &&
      (abi_version != header->abi_version || info_size != header->plugin_info_size)) {
    return Disagreement(
        absl::StrCat("t2c_plugin_info has ABI ", abi_version, " and struct_size ", info_size),
        absl::StrCat("ABI ", header->abi_version, " and plugin_info_size ",
                     header->plugin_info_size));
  }
  if (absl::Status s = CheckAbiVersion(abi_version); !s.ok()) return s;
  if (absl::Status s = CheckInfoSize(info_size); !s.ok()) return s;
  const t2c_plugin_info plugin = CopyPrefix<t2c_plugin_info>(info, info_size);

  PluginDeclarations out;
  out.abi_version = abi_version;
  absl::StatusOr<std::string> name = ReadText(plugin.name, "plugin name", kMaxNameLength,
                                              /*allow_null=*/false, /*allow_empty=*/false);
  if (!name.ok()) return name.status();
  out.name = *std::move(name);
  absl::StatusOr<std::string> version = ReadText(plugin.version, "plugin version", kMaxNameLength,
                                                 /*allow_null=*/true, /*allow_empty=*/true);
  if (!version.ok()) return version.status();
  out.version = *std::move(version);

  if (plugin.num_lowerings == 0) return out;
  if (plugin.lowerings == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("plugin declares ", plugin.num_lowerings, " lowerings but lowerings is null"));
  }
  absl::StatusOr<std::vector<Lowering>> lowerings =
      ReadLowerings(plugin.lowerings, plugin.num_lowerings, header);
  if (!lowerings.ok()) return lowerings.status();
  out.lowerings = *std::move(lowerings);
  return out;
}

}  // namespace ts2coreml::registry
