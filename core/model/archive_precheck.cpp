#include "core/model/archive_precheck.h"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/errors.h"

namespace ts2coreml::core {
namespace {

/// The status with "archive entry '<name>': " in front of its message.
absl::Status InEntry(const ZipEntry& e, const absl::Status& s) {
  return Error(ErrorClass::kModel, absl::StrCat("archive entry '", e.name, "': ", s.message()));
}

/// How the archive's entries are checked, by name.
class Prechecker {
 public:
  Prechecker(const ByteSource& source, const std::vector<ZipEntry>& entries,
             const ArchiveLimits& limits)
      : source_(source), entries_(entries), limits_(limits) {
    // LibTorch looks names up ignoring ASCII case (the zip reader refused names differing only
    // in case), so every name here is compared in lower case.
    for (const ZipEntry& e : entries_) by_name_.emplace(absl::AsciiStrToLower(e.name), &e);
    // LibTorch names the archive after the folder of its first entry and reads records under it.
    const size_t slash = entries_.empty() ? std::string::npos : entries_[0].name.find('/');
    if (slash != std::string::npos)
      prefix_ = absl::AsciiStrToLower(entries_[0].name.substr(0, slash + 1));
  }

  absl::StatusOr<ArchiveSummary> Run();

 private:
  /// A torch.save checkpoint (data.pkl without constants.pkl or code/) is not TorchScript.
  absl::Status CheckIsTorchScript() const;
  absl::Status CheckEntry(const ZipEntry& e);
  absl::Status CheckPickleEntry(const ZipEntry& e, const std::string& text);
  std::optional<uint64_t> RecordSize(const std::string& name) const {
    auto it = by_name_.find(absl::AsciiStrToLower(name));
    if (it == by_name_.end()) return std::nullopt;
    return it->second->uncompressed_size;
  }

  const ByteSource& source_;
  const std::vector<ZipEntry>& entries_;
  const ArchiveLimits& limits_;
  std::unordered_map<std::string, const ZipEntry*> by_name_;
  std::string prefix_;
  ArchiveSummary summary_;
};

absl::Status Prechecker::CheckPickleEntry(const ZipEntry& e, const std::string& text) {
  ++summary_.pickles;
  // `<archive>/X.pkl` keeps its tensors in `<archive>/X/<key>`, as LibTorch reads them; source
  // maps (.debug_pkl) and pickles elsewhere hold no tensors.
  StorageRecordSize record_size;
  const absl::string_view name = e.name;
  if (!prefix_.empty() && absl::StartsWithIgnoreCase(name, prefix_) &&
      absl::EndsWithIgnoreCase(name, ".pkl") &&
      name.substr(prefix_.size()).find('/') == absl::string_view::npos) {
    // "archive/data.pkl" -> "archive/data/"
    const std::string dir = absl::StrCat(name.substr(0, name.size() - 4), "/");
    record_size = [this, dir](absl::string_view key) { return RecordSize(absl::StrCat(dir, key)); };
  }
  absl::Status s = CheckPickle(text, record_size, limits_.pickle);
  return s.ok() ? s : InEntry(e, s);
}

absl::Status Prechecker::CheckEntry(const ZipEntry& e) {
  const bool pickle =
      absl::EndsWithIgnoreCase(e.name, ".pkl") || absl::EndsWithIgnoreCase(e.name, ".debug_pkl");
  const bool code = !prefix_.empty() &&
                    absl::StartsWithIgnoreCase(e.name, absl::StrCat(prefix_, "code/")) &&
                    absl::EndsWithIgnoreCase(e.name, ".py");
  summary_.bytes_verified += e.uncompressed_size;
  // The zip reader's messages name the entry already.
  if (!pickle && !code) return VerifyZipEntry(source_, e);
  absl::StatusOr<std::string> text = ReadZipEntry(source_, e, limits_.max_text_bytes);
  if (!text.ok()) return text.status();
  if (pickle) return CheckPickleEntry(e, *text);
  ++summary_.code_files;
  absl::Status s = CheckTorchScriptCode(*text, limits_.code);
  return s.ok() ? s : InEntry(e, s);
}

absl::Status Prechecker::CheckIsTorchScript() const {
  const bool has_data = by_name_.count(absl::StrCat(prefix_, "data.pkl")) > 0;
  const bool has_constants = by_name_.count(absl::StrCat(prefix_, "constants.pkl")) > 0;
  const std::string code = absl::StrCat(prefix_, "code/");
  const bool has_code = std::any_of(entries_.begin(), entries_.end(), [&code](const ZipEntry& e) {
    return absl::StartsWithIgnoreCase(e.name, code);
  });
  if (!has_data || has_constants || has_code) return absl::OkStatus();
  return Error(
      ErrorClass::kModel,
      absl::StrCat(
          kCheckpointRefusal,
          " (a state_dict or a pickled nn.Module), not TorchScript; load it in Python and save TorchScript with torch.jit.trace(model.eval(), example).save(\"model.pt\")"));
}

absl::StatusOr<ArchiveSummary> Prechecker::Run() {
  if (absl::Status s = CheckIsTorchScript(); !s.ok()) return s;
  summary_.entries = entries_.size();
  for (const ZipEntry& e : entries_) {
    absl::Status s = CheckEntry(e);
    if (!s.ok()) return s;
  }
  return summary_;
}

}  // namespace

absl::StatusOr<ArchiveSummary> PrecheckTorchScriptArchive(const ByteSource& source,
                                                          const ArchiveLimits& limits) {
  absl::StatusOr<std::vector<ZipEntry>> entries = ReadZipDirectory(source, limits.zip);
  if (!entries.ok()) return entries.status();
  return Prechecker(source, *entries, limits).Run();
}

}  // namespace ts2coreml::core
