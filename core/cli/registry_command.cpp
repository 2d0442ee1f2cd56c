#include "core/cli/registry_command.h"

#include <cstdlib>
#include <iostream>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/base/errors.h"
#include "core/base/json.h"
#include "core/cli/cli_common.h"
#include "registry/declaration_reader.h"
#include "registry/plugin_dirs.h"

namespace ts2coreml::core {
namespace {

namespace fs = std::filesystem;
using registry::Candidate;
using registry::InputDecl;
using registry::Lowering;
using registry::OpResolution;
using registry::PluginInfo;

/// Debian's abseil has its own string_view.
absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

/// The dtypes of a mask as names ("fp16", "fp32"); unknown bits as one hex entry.
std::vector<std::string> DtypeList(t2c_dtype_mask mask) {
  if (mask == 0) return {};
  return absl::StrSplit(registry::DtypeMaskToString(mask), '|');
}

std::vector<std::string> FlagList(const Lowering& l) {
  std::vector<std::string> flags;
  if (l.passthrough()) flags.push_back("passthrough");
  return flags;
}

void WriteStrings(json::Writer& w, const std::vector<std::string>& items) {
  w.BeginArray();
  for (const std::string& s : items) w.String(s);
  w.EndArray();
}

void WriteLowering(json::Writer& w, const Lowering& l) {
  w.BeginObject();
  w.Key("name").String(l.name);
  w.Key("plugin").String(l.plugin->name);
  w.Key("ops");
  WriteStrings(w, l.ops);
  w.Key("schemas");
  WriteStrings(w, l.schemas);
  w.Key("priority").Int(l.priority);
  w.Key("fp16_policy").String(A(registry::Fp16PolicyName(l.fp16_policy)));
  w.Key("infer_rule").String(A(registry::InferRuleName(l.infer_rule)));
  w.Key("flags");
  WriteStrings(w, FlagList(l));
  w.Key("inputs").BeginArray();
  for (const InputDecl& in : l.inputs) {
    w.BeginObject();
    w.Key("name").String(in.name);
    w.Key("role").String(A(registry::InputRoleName(in.role)));
    w.Key("dtypes");
    WriteStrings(w, DtypeList(in.dtypes));
    w.Key("optional").Bool(in.optional());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

/// "self: tensor fp16|fp32", "approximate: host, optional".
std::string InputText(const InputDecl& in, size_t index) {
  std::string s = absl::StrCat(in.name.empty() ? absl::StrCat("#", index) : in.name, ": ",
                               A(registry::InputRoleName(in.role)));
  if (in.dtypes != 0) absl::StrAppend(&s, " ", registry::DtypeMaskToString(in.dtypes));
  if (in.optional()) absl::StrAppend(&s, ", optional");
  return s;
}

/// The detail lines of one lowering, each starting with `indent`.
std::string LoweringText(const Lowering& l, const std::string& indent) {
  std::string out;
  absl::StrAppend(&out, indent, "ops: ", absl::StrJoin(l.ops, ", "), "\n");
  for (const std::string& schema : l.schemas)
    absl::StrAppend(&out, indent, "schema: ", schema, "\n");
  const std::vector<std::string> flags = FlagList(l);
  absl::StrAppend(&out, indent, "priority ", l.priority, ", fp16 ",
                  A(registry::Fp16PolicyName(l.fp16_policy)), ", infer ",
                  A(registry::InferRuleName(l.infer_rule)),
                  flags.empty() ? "" : absl::StrCat(", flags ", absl::StrJoin(flags, ",")), "\n");
  if (l.inputs.empty()) {
    absl::StrAppend(&out, indent, "inputs: none declared\n");
  } else {
    std::vector<std::string> inputs;
    for (size_t i = 0; i < l.inputs.size(); ++i) inputs.push_back(InputText(l.inputs[i], i));
    absl::StrAppend(&out, indent, "inputs: ", absl::StrJoin(inputs, "; "), "\n");
  }
  return out;
}

/// "relu (plugin ts2coreml.activation)".
std::string Named(const Lowering& l) {
  return absl::StrCat(l.name, " (plugin ", l.plugin->name, ")");
}

struct ParsedArgs {
  bool json = false;
  bool show = false;
  std::string op;
  CommonFlags common;
};

absl::StatusOr<ParsedArgs> Parse(const std::vector<std::string>& args) {
  ParsedArgs p;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::Status error;
    if (ParseCommonFlag(args, &i, &p.common, &error)) {
      if (!error.ok()) return error;
      continue;
    }
    const std::string& a = args[i];
    if (a == "--json") {
      p.json = true;
    } else if (absl::StartsWith(a, "-")) {
      return Error(ErrorClass::kUsage,
                   absl::StrCat("registry: unknown option '", a, "'; see 'ts2coreml help'"));
    } else {
      positional.push_back(a);
    }
  }
  if (positional.empty()) return p;
  if (positional[0] != "show") {
    return Error(ErrorClass::kUsage,
                 absl::StrCat("registry: unknown subcommand '", positional[0],
                              "'; use 'ts2coreml registry' or 'ts2coreml registry show OP'"));
  }
  if (positional.size() != 2) {
    return Error(ErrorClass::kUsage,
                 "registry show: give exactly one op, e.g. 'ts2coreml registry show aten::relu'");
  }
  p.show = true;
  p.op = positional[1];
  if (absl::Status valid = registry::ValidateOpName(p.op); !valid.ok()) {
    return Error(ErrorClass::kUsage, absl::StrCat("registry show: ", valid.message()));
  }
  return p;
}

}  // namespace

std::string RegistryUsage() {
  return R"(  registry [--json]
      Lists the plugins (name, version, path, ABI), refused plugins and why, conflicts, and every
      lowering (ops, schemas, plugin, priority, FP16 policy, infer rule, inputs and their dtypes).
  registry show OP [--json]
      One op (aten::add, aten::add.Tensor, mylib::fancy_gelu): the lowering that wins, every
      candidate and why it lost, in-place fallback. Exit 3 if no plugin lowers OP, 6 on a conflict.
)";
}

namespace {

/// "plugins": name, version, path, ABI and number of lowerings (`counts`) of each.
void WritePluginsJson(const registry::Registry& reg, const std::vector<size_t>& counts,
                      json::Writer& w) {
  w.Key("plugins").BeginArray();
  for (size_t i = 0; i < reg.plugins().size(); ++i) {
    const PluginInfo& p = reg.plugins()[i];
    w.BeginObject();
    w.Key("name").String(p.name);
    w.Key("version").String(p.version);
    w.Key("path").String(p.path.string());
    w.Key("abi_version").Int(p.abi_version);
    w.Key("lowerings").Int(static_cast<int64_t>(counts[i]));
    w.EndObject();
  }
  w.EndArray();
}

/// "conflicts": the op, both lowerings and the message of each.
void WriteConflictsJson(const registry::Registry& reg, json::Writer& w) {
  w.Key("conflicts").BeginArray();
  for (const registry::Conflict& c : reg.conflicts()) {
    w.BeginObject();
    w.Key("op").String(c.op);
    w.Key("lowerings").BeginArray();
    for (const Lowering* l : {c.first, c.second}) {
      w.BeginObject().Key("name").String(l->name).Key("plugin").String(l->plugin->name);
      w.EndObject();
    }
    w.EndArray();
    w.Key("message").String(c.message);
    w.EndObject();
  }
  w.EndArray();
}

/// `registry --json`.
std::string RegistryJson(const registry::Registry& reg, const std::vector<fs::path>& dirs,
                         const std::vector<size_t>& counts) {
  json::Writer w;
  w.BeginObject();
  w.Key("abi_version").Int(T2C_ABI_VERSION);
  w.Key("plugin_dirs").BeginArray();
  for (const fs::path& d : dirs) w.String(d.string());
  w.EndArray();
  WritePluginsJson(reg, counts, w);
  w.Key("refused").BeginArray();
  for (const registry::RefusedPlugin& r : reg.refused()) {
    w.BeginObject().Key("path").String(r.path.string()).Key("reason").String(r.reason);
    w.EndObject();
  }
  w.EndArray();
  w.Key("warnings");
  WriteStrings(w, reg.warnings());
  WriteConflictsJson(reg, w);
  w.Key("lowerings").BeginArray();
  for (const Lowering* l : reg.lowerings()) WriteLowering(w, *l);
  w.EndArray();
  w.EndObject();
  return w.Finish();
}

/// `registry` as text.
std::string RegistryText(const registry::Registry& reg, const std::vector<fs::path>& dirs,
                         const std::vector<size_t>& counts) {
  std::string out = absl::StrCat("plugin ABI ", T2C_ABI_VERSION, "\n");
  absl::StrAppend(&out, "plugin folders (", dirs.size(), "):\n");
  for (const fs::path& d : dirs) absl::StrAppend(&out, "  ", d.string(), "\n");
  absl::StrAppend(&out, "plugins (", reg.plugins().size(), "):\n");
  for (size_t i = 0; i < reg.plugins().size(); ++i) {
    const PluginInfo& p = reg.plugins()[i];
    absl::StrAppend(&out, "  ", p.name, " ", p.version.empty() ? "(no version)" : p.version,
                    "  ABI ", p.abi_version, "  ", counts[i], " lowerings  ", p.path.string(),
                    "\n");
  }
  if (!reg.refused().empty()) {
    absl::StrAppend(&out, "refused plugins (", reg.refused().size(), "):\n");
    for (const registry::RefusedPlugin& r : reg.refused()) {
      absl::StrAppend(&out, "  ", r.reason, "\n");
    }
  }
  for (const std::string& w : reg.warnings()) absl::StrAppend(&out, "warning: ", w, "\n");
  if (!reg.conflicts().empty()) {
    absl::StrAppend(&out, "conflicts (", reg.conflicts().size(), "):\n");
    for (const registry::Conflict& c : reg.conflicts()) {
      absl::StrAppend(&out, "  ", c.message, "\n");
    }
  }
  const std::vector<const Lowering*> lowerings = reg.lowerings();
  absl::StrAppend(&out, "lowerings (", lowerings.size(), "):\n");
  for (const Lowering* l : lowerings) {
    absl::StrAppend(&out, "  ", Named(*l), "\n", LoweringText(*l, "      "));
  }
  return out;
}

}  // namespace

std::string FormatRegistry(const registry::Registry& reg, const std::vector<fs::path>& dirs,
                           bool json) {
  std::vector<size_t> counts(reg.plugins().size(), 0);
  for (const Lowering* l : reg.lowerings()) ++counts[l->plugin_index];
  return json ? RegistryJson(reg, dirs, counts) : RegistryText(reg, dirs, counts);
}

std::vector<OpResolution> ResolutionsFor(const registry::Registry& reg, const std::string& op) {
  std::vector<OpResolution> out;
  absl::StatusOr<OpResolution> direct = reg.Explain(op);
  if (direct.ok()) out.push_back(*std::move(direct));
  if (op.find('.') == std::string::npos) {
    // A bare name: every overload claimed on its own is part of the answer.
    const std::string prefix = op + ".";
    for (const std::string& claimed : reg.ClaimedOps()) {
      if (!absl::StartsWith(claimed, prefix)) continue;
      absl::StatusOr<OpResolution> overload = reg.Explain(claimed);
      if (overload.ok()) out.push_back(*std::move(overload));
    }
  }
  return out;
}

void WriteCandidateJson(json::Writer& w, const Candidate& c) {
  w.BeginObject();
  w.Key("lowering").String(c.lowering->name);
  w.Key("plugin").String(c.lowering->plugin->name);
  w.Key("plugin_path").String(c.lowering->plugin->path.string());
  w.Key("claim").String(c.claim);
  w.Key("exact").Bool(c.exact);
  w.Key("priority").Int(c.lowering->priority);
  w.Key("outcome").String(A(registry::CandidateOutcomeName(c.outcome)));
  w.Key("reason").String(c.reason);
  w.EndObject();
}

void WriteResolutionJson(json::Writer& w, const OpResolution& r) {
  w.BeginObject();
  w.Key("op").String(r.claimed_op);
  w.Key("in_place_fallback").Bool(r.in_place_fallback);
  w.Key("status").String(r.winner != nullptr ? "ok" : "conflict");
  w.Key("winner");
  if (r.winner != nullptr) {
    WriteLowering(w, *r.winner);
  } else {
    w.Null();
  }
  w.Key("conflict");
  if (r.conflict.empty()) {
    w.Null();
  } else {
    w.String(r.conflict);
  }
  w.Key("candidates").BeginArray();
  for (const Candidate& c : r.candidates) WriteCandidateJson(w, c);
  w.EndArray();
  w.EndObject();
}

std::string FormatShowText(const std::vector<OpResolution>& found) {
  std::string out;
  for (const OpResolution& r : found) {
    absl::StrAppend(&out, r.claimed_op);
    if (r.in_place_fallback) {
      absl::StrAppend(
          &out, "  (for ", r.query,
          ": nothing claims the in-place variant, so the functional op's lowering is used)");
    }
    absl::StrAppend(&out, "\n");
    if (r.winner != nullptr) {
      const PluginInfo& p = *r.winner->plugin;
      absl::StrAppend(&out, "  lowered by ", r.winner->name, " from plugin ", p.name, " ",
                      p.version, " (", p.path.string(), ")\n", LoweringText(*r.winner, "    "));
    } else {
      absl::StrAppend(&out, "  CONFLICT: ", r.conflict, "\n");
    }
    absl::StrAppend(&out, "  candidates (", r.candidates.size(), "):\n");
    for (const Candidate& c : r.candidates) {
      absl::StrAppend(&out, "    ", A(registry::CandidateOutcomeName(c.outcome)), ": ",
                      Named(*c.lowering), ", claims ", c.claim, ", priority ", c.lowering->priority,
                      ": ", c.reason, "\n");
    }
  }
  return out;
}

std::string FormatShow(const std::string& op, const std::vector<OpResolution>& found, bool json) {
  if (!json) return FormatShowText(found);
  json::Writer w;
  w.BeginObject();
  w.Key("query").String(op);
  w.Key("resolutions").BeginArray();
  for (const OpResolution& r : found) WriteResolutionJson(w, r);
  w.EndArray();
  w.EndObject();
  return w.Finish();
}

int RunRegistry(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    std::cout << "usage: ts2coreml\n" << RegistryUsage();
    return 0;
  }
  absl::StatusOr<ParsedArgs> parsed = Parse(args);
  if (!parsed.ok()) return ReportError(parsed.status());
  // Refused plugins and folder warnings are part of the report: do not repeat them on stderr.
  CommonFlags quiet = parsed->common;
  quiet.quiet = true;
  registry::Registry reg = LoadPlugins(quiet);
  if (!parsed->show) {
    absl::StatusOr<fs::path> exe = registry::ExecutablePath();
    const std::vector<fs::path> dirs =
        registry::DefaultPluginDirs(exe.ok() ? *exe : fs::path(), parsed->common.plugin_dirs,
                                    std::getenv(registry::kPluginPathEnvVar));
    std::cout << FormatRegistry(reg, dirs, parsed->json);
    return 0;
  }
  const std::vector<OpResolution> found = ResolutionsFor(reg, parsed->op);
  if (found.empty()) {
    return ReportError(Error(
        ErrorClass::kUnsupportedOps,
        absl::StrCat(
            parsed->op,
            ": no lowering for it in the loaded plugins; 'ts2coreml registry' lists what they lower, --plugin-dir adds plugins")));
  }
  std::cout << FormatShow(parsed->op, found, parsed->json);
  for (const OpResolution& r : found) {
    if (r.winner == nullptr) {
      return ReportError(Error(ErrorClass::kPlugin, r.conflict));
    }
  }
  return 0;
}

}  // namespace ts2coreml::core
