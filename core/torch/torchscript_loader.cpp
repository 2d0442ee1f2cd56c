#include "core/torch/torchscript_loader.h"

#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/base/errors.h"
#include "core/base/safe_file.h"
#include "core/model/archive_precheck.h"
#include "core/torch/tensor_storage_check.h"
#include "torch/csrc/jit/runtime/custom_operator.h"
#include "torch/csrc/jit/runtime/operator.h"
#include "torch/csrc/jit/serialization/import.h"

namespace ts2coreml::core {
namespace {

constexpr absl::string_view kDamagedHint =
    "; the file is damaged or was not written by torch.jit.save: save the model again";

/// A multi-line LibTorch message (parse errors add the source and a caret) on one line, without
/// the C++ backtrace.
std::string OneLine(const std::string& text) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "Exception raised from")) break;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line == "~" || line.find_first_not_of("~^ ") == absl::string_view::npos) {
      continue;
    }
    if (!out.empty()) out += " ";
    absl::StrAppend(&out, line);
  }
  return out.size() > 400 ? out.substr(0, 400) + "..." : out;
}

/// Explains a failure of torch::jit::load; unknown ops and newer file formats get a hint.
absl::Status LoadError(const std::string& path, const std::string& message) {
  if (message.find("nknown builtin op: torchvision::") != std::string::npos) {
    return Error(
        ErrorClass::kModel,
        absl::StrCat(
            path, ": ", message,
            " (a torchvision op, which ts2coreml does not lower: detection post-processing (nms, roi_align of the boxes it keeps) has data-dependent sizes a Core ML program cannot hold, so trace the backbone and heads without it, e.g. return model.head(list(model.backbone(x).values())), and run it in the app; another op can be declared in a plugin)"));
  }
  if (message.find("nknown builtin op") != std::string::npos) {
    return Error(
        ErrorClass::kModel,
        absl::StrCat(
            path, ": ", message,
            " (saved by a newer PyTorch than LibTorch 1.13 knows, or a custom op: a plugin can declare the op's schema)"));
  }
  if (message.find("maximum supported version") != std::string::npos) {
    // LibTorch goes on to suggest upgrading PyTorch, which is not what a converter user can do.
    const std::string what = message.substr(0, message.find(" The version of your PyTorch"));
    return Error(
        ErrorClass::kModel,
        absl::StrCat(
            path, ": ", what,
            " (saved by a newer PyTorch than LibTorch 1.13 reads; save the model again with PyTorch 1.13)"));
  }
  return Error(ErrorClass::kModel, absl::StrCat(path, ": cannot load TorchScript: ", message));
}

/// A pre-check's problem as the one-line model error: the file, the problem, what to do (a
/// checkpoint's refusal says it itself).
absl::Status InModel(const std::string& path, const absl::Status& problem) {
  const bool checkpoint = absl::StartsWith(problem.message(), kCheckpointRefusal);
  return Error(ErrorClass::kModel,
               absl::StrCat(path, ": ", problem.message(), checkpoint ? "" : kDamagedHint));
}

/// The archive, pickle and code checks (core/model/archive_precheck.h) on the file.
absl::Status PrecheckArchive(const std::filesystem::path& path) {
  absl::StatusOr<std::unique_ptr<FileSource>> source = FileSource::Open(path);
  if (!source.ok()) {
    return Error(ErrorClass::kModel, absl::StrCat(path.string(), ": ", source.status().message()));
  }
  absl::StatusOr<ArchiveSummary> summary = PrecheckTorchScriptArchive(**source);
  return summary.ok() ? absl::OkStatus() : InModel(path.string(), summary.status());
}

}  // namespace

namespace {

std::mutex& RegistrationMutex() {
  static std::mutex mu;
  return mu;
}

/// The ops RegisterCustomSchemas registered without a kernel, by qualified name.
std::set<std::string>& KernellessOps() {
  static std::set<std::string> ops;
  return ops;
}

}  // namespace

absl::Status RegisterCustomSchemas(const std::vector<std::string>& schemas) {
  std::mutex& mu = RegistrationMutex();
  static std::set<std::string> registered;
  // Registrations live for the process, like the plugins that declared them.
  static std::vector<std::unique_ptr<torch::jit::RegisterOperators>> keep_alive;
  std::lock_guard<std::mutex> lock(mu);
  std::vector<std::string> failures;
  for (const std::string& schema_text : schemas) {
    if (registered.count(schema_text) != 0) continue;
    try {
      c10::FunctionSchema schema = torch::jit::parseSchema(schema_text);
      const std::string name = schema.name();
      bool known = false;
      for (const auto& op : torch::jit::getAllOperatorsFor(c10::Symbol::fromQualString(name))) {
        if (op->schema().overload_name() == schema.overload_name()) known = true;
      }
      if (!known) {
        std::vector<c10::optional<torch::jit::Operator>> ops;
        ops.emplace_back(torch::jit::Operator(
            schema_text, torch::jit::Operation([name](torch::jit::Stack&) {
              throw std::runtime_error(name + " has no kernel in ts2coreml (conversion only)");
            }),
            c10::AliasAnalysisKind::FROM_SCHEMA));
        keep_alive.push_back(std::make_unique<torch::jit::RegisterOperators>(std::move(ops)));
        KernellessOps().insert(name);
      }
      registered.insert(schema_text);
    } catch (const std::exception& e) {
      failures.push_back(absl::StrCat("'", schema_text, "': ", OneLine(e.what())));
    }
  }
  if (failures.empty()) return absl::OkStatus();
  return Error(ErrorClass::kPlugin,
               absl::StrCat("LibTorch rejected schema ", absl::StrJoin(failures, "; ")));
}

std::set<std::string> OpsWithoutKernel(const std::set<std::string>& kinds) {
  std::lock_guard<std::mutex> lock(RegistrationMutex());
  std::set<std::string> found;
  for (const std::string& k : kinds) {
    if (KernellessOps().count(k) != 0) found.insert(k);
  }
  return found;
}

absl::StatusOr<torch::jit::Module> LoadTorchScript(const std::filesystem::path& path) {
  const std::string p = path.string();
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {  // a link loop, a folder not searchable
    return Error(ErrorClass::kModel, absl::StrCat(p, ": cannot be read: ", ec.message()));
  }
  if (ec || !std::filesystem::exists(status)) {
    return Error(ErrorClass::kModel, absl::StrCat(p, ": no such file"));
  }
  if (std::filesystem::is_directory(status)) {
    return Error(ErrorClass::kModel,
                 absl::StrCat(p, ": is a directory; give the .pt file saved by torch.jit.save"));
  }
  if (absl::StatusOr<RegularFile> file = RegularFile::Open(path); !file.ok()) {
    return Error(ErrorClass::kModel, absl::StrCat(file.status().message(),
                                                  "; give the .pt file saved by torch.jit.save"));
  }
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) return Error(ErrorClass::kModel, absl::StrCat(p, ": cannot be opened for reading"));
    char magic[4] = {0, 0, 0, 0};
    probe.read(magic, 4);
    if (probe.gcount() == 0) return Error(ErrorClass::kModel, absl::StrCat(p, ": file is empty"));
    // torch.save before PyTorch 1.6 (or with _use_new_zipfile_serialization=False) writes a
    // plain pickle stream: protocol 2 starts with PROTO 0x80, 0x02.
    if (probe.gcount() >= 2 && magic[0] == '\x80' && magic[1] == '\x02') {
      return Error(
          ErrorClass::kModel,
          absl::StrCat(
              p,
              ": is a torch.save checkpoint in the legacy pickle format (a state_dict or a pickled nn.Module), not TorchScript; load it in Python and save TorchScript with torch.jit.trace(model.eval(), example).save(\"model.pt\")"));
    }
    if (probe.gcount() < 4 || magic[0] != 'P' || magic[1] != 'K') {
      return Error(
          ErrorClass::kModel,
          absl::StrCat(
              p, ": not a TorchScript archive (expected a zip file written by torch.jit.save)"));
    }
  }
  absl::Status checked = PrecheckArchive(path);
  if (!checked.ok()) return checked;
  try {
    torch::jit::Module module = torch::jit::load(p, c10::Device(c10::kCPU));
    checked = CheckModuleTensors(module);
    if (!checked.ok()) return InModel(p, checked);
    if (!module.find_method("forward")) {
      return Error(ErrorClass::kModel, absl::StrCat(p, ": the module has no forward() method"));
    }
    return module;
  } catch (const c10::Error& e) {
    return LoadError(p, FirstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return LoadError(p, FirstLine(e.what()));
  } catch (...) {
    return Error(ErrorClass::kModel, absl::StrCat(p, ": cannot load TorchScript: unknown error"));
  }
}

}  // namespace ts2coreml::core
