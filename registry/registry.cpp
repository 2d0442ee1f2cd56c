/// Plugin loading, validation and op lookup.
#include "registry/registry.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <boost/dll/shared_library_load_mode.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "registry/declaration_reader.h"
#include "registry/op_names.h"
#include "registry/plugin_header_reader.h"
#include "registry/plugin_security.h"

namespace ts2coreml::registry {
namespace {

namespace fs = std::filesystem;

/// Immediate binding, so a plugin with unresolved symbols fails at load rather than mid-conversion;
/// local, so plugins cannot see (or clash with) each other's symbols.
constexpr boost::dll::load_mode::type kLoadMode =
    boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local;

/// The text of the last dlopen/dlsym failure without a leading "<path>: " (our reason has it).
std::string LastDlError(const std::string& path, const std::string& fallback) {
  const char* raw = ::dlerror();
  if (raw == nullptr || *raw == '\0') return fallback;
  std::string text = raw;
  const std::string prefix = path + ": ";
  if (absl::StartsWith(text, prefix)) text.erase(0, prefix.size());
  return text;
}

/// Our API takes std::string_view; this abseil build has its own absl::string_view.
absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

/// "'relu' from plugin 'builtin' (/p/builtin.so)".
std::string Describe(const Lowering& lowering) {
  return absl::StrCat("'", lowering.name, "' from plugin '", lowering.plugin->name, "' (",
                      lowering.plugin->path.string(), ")");
}

}  // namespace

Registry::Registry(LoadOptions options) : options_(options), trusted_uid_(::geteuid()) {}
Registry::~Registry() = default;
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;

Registry Registry::Load(const std::vector<fs::path>& dirs, const LoadOptions& options) {
  Registry registry(options);
  for (const fs::path& dir : dirs) {
    // Problems are recorded in warnings() and refused(); loading goes on.
    registry.LoadDirectory(dir).IgnoreError();
  }
  return registry;
}

absl::Status Registry::LoadDirectory(const fs::path& dir) {
  const auto warn = [this](absl::Status status) {
    warnings_.emplace_back(status.message());
    return status;
  };
  try {
    std::error_code ec;
    const fs::path absolute = fs::absolute(dir, ec);
    if (ec || dir.empty()) {
      return warn(absl::NotFoundError(absl::StrCat("plugin directory '", dir.string(),
                                                   "' cannot be resolved; check the path")));
    }
    const fs::file_status status = fs::status(absolute, ec);
    if (!fs::exists(status)) {
      return warn(absl::NotFoundError(
          absl::StrCat("plugin directory ", absolute.string(), " does not exist; check the path")));
    }
    if (!fs::is_directory(status)) {
      return warn(absl::FailedPreconditionError(absl::StrCat(
          "plugin directory ", absolute.string(), " is not a directory; pass a directory")));
    }
    std::vector<fs::path> files;
    for (fs::directory_iterator it(absolute, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& path = it->path();
      if (!absl::EndsWith(path.filename().string(), ".so")) continue;
      std::error_code type_ec;
      // Symlinks count: a broken one is refused by LoadFile; directories named *.so are skipped.
      if (it->is_directory(type_ec)) continue;
      files.push_back(path);
    }
    if (ec) {
      return warn(absl::FailedPreconditionError(
          absl::StrCat("cannot list plugin directory ", absolute.string(), ": ", ec.message())));
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) LoadFile(file).IgnoreError();  // recorded in refused()
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return warn(absl::InternalError(
        absl::StrCat("cannot list plugin directory ", dir.string(), ": ", e.what())));
  }
}

absl::Status Registry::Refuse(const fs::path& path, absl::StatusCode code,
                              absl::string_view problem) {
  std::string reason = absl::StrCat(path.string(), ": ", problem);
  refused_.push_back({path, reason});
  std::error_code ec;
  fs::path canonical = fs::canonical(path, ec);
  refused_canonical_.push_back(ec ? path : canonical);
  return absl::Status(code, reason);
}

absl::Status Registry::LoadFile(const fs::path& file) {
  fs::path path = file;
  try {
    std::error_code ec;
    path = fs::absolute(file, ec).lexically_normal();
    if (ec) path = file;
    return LoadResolvedFile(path);
  } catch (const boost::system::system_error& e) {
    return Refuse(path, absl::StatusCode::kInternal, absl::StrCat("cannot load: ", e.what()));
  } catch (const std::exception& e) {
    return Refuse(path, absl::StatusCode::kInternal, absl::StrCat("cannot load: ", e.what()));
  } catch (...) {
    return Refuse(path, absl::StatusCode::kInternal, "cannot load: unknown exception");
  }
}

absl::Status Registry::LoadResolvedFile(const fs::path& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Refuse(path, absl::StatusCode::kNotFound,
                  absl::StrCat("cannot read the plugin file: ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return Refuse(path, absl::StatusCode::kInvalidArgument,
                  "not a regular file; pass a plugin library (.so)");
  }
  if (IsLoaded(st)) return absl::OkStatus();
  std::error_code ec;
  const fs::path canonical = fs::canonical(path, ec);
  if (ec) {
    return Refuse(path, absl::StatusCode::kNotFound,
                  absl::StrCat("cannot resolve the plugin path: ", ec.message()));
  }
  for (size_t i = 0; i < refused_.size(); ++i) {
    if (refused_canonical_[i] == canonical) {
      // Found again (directory listed twice, or a symlink): report it once.
      return absl::FailedPreconditionError(refused_[i].reason);
    }
  }
  // From here on only the open descriptor is used: what is checked is what gets loaded.
  absl::StatusOr<PluginFile> file = OpenPluginFile(path, trusted_uid_, !options_.allow_insecure);
  if (!file.ok()) return Refuse(path, file.status().code(), file.status().message());
  if (IsLoaded(file->st)) return absl::OkStatus();
  absl::StatusOr<PluginFileFacts> facts = ReadPluginFileFacts(file->fd.get());
  if (!facts.ok()) return Refuse(path, facts.status().code(), facts.status().message());
  if (facts->header.has_value()) {
    if (absl::Status s = ValidatePluginHeader(*facts->header); !s.ok()) {
      return Refuse(path, s.code(), s.message());
    }
  }
  return LoadAcceptedFile(path, *file, facts->header ? &*facts->header : nullptr);
}

bool Registry::IsLoaded(const struct stat& st) const {
  for (const auto& [dev, ino] : plugin_files_) {
    if (dev == st.st_dev && ino == st.st_ino) return true;
  }
  return false;
}

absl::Status Registry::LoadAcceptedFile(const fs::path& path, const PluginFile& file,
                                        const t2c_plugin_header* header) {
  absl::StatusOr<ScopedFd> load_fd = FreshDescriptor(file.fd.get());
  if (!load_fd.ok()) return Refuse(path, load_fd.status().code(), load_fd.status().message());
  auto library = std::make_shared<boost::dll::shared_library>();
  ::dlerror();  // clear any stale error so that the one we report is ours
  boost::dll::fs::error_code load_ec;
  const std::string proc_path = ProcFdPath(load_fd->get());
  library->load(boost::dll::fs::path(proc_path), load_ec, kLoadMode);
  if (load_ec || !library->is_loaded()) {
    return Refuse(
        path, absl::StatusCode::kFailedPrecondition,
        absl::StrCat("not a loadable plugin library: ", LastDlError(proc_path, load_ec.message())));
  }
  if (!library->has(T2C_ENTRY_SYMBOL)) {
    return Refuse(
        path, absl::StatusCode::kFailedPrecondition,
        absl::StrCat(
            "does not export ", T2C_ENTRY_SYMBOL,
            "; is it a ts2coreml plugin? Plugins define it with TS2COREML_PLUGIN(...) from ts2coreml/sdk.h"));
  }
  const t2c_entry_fn entry = &library->get<const t2c_plugin_info*()>(T2C_ENTRY_SYMBOL);
  const t2c_plugin_info* info = nullptr;
  try {
    info = entry();
  } catch (...) {
    return Refuse(path, absl::StatusCode::kFailedPrecondition,
                  absl::StrCat(T2C_ENTRY_SYMBOL, " threw an exception; plugins must not throw"));
  }
  absl::StatusOr<PluginDeclarations> decls = ReadPluginDeclarations(info, header);
  if (!decls.ok()) return Refuse(path, decls.status().code(), decls.status().message());

  for (const PluginInfo& other : plugins_) {
    if (other.name == decls->name) {
      return Refuse(path, absl::StatusCode::kAlreadyExists,
                    absl::StrCat("plugin name '", decls->name, "' is already taken by ",
                                 other.path.string(), "; remove one of the two files"));
    }
  }

  const size_t plugin_index = plugins_.size();
  plugins_.push_back({decls->name, decls->version, file.canonical, decls->abi_version});
  plugin_files_.emplace_back(file.st.st_dev, file.st.st_ino);
  libraries_.push_back(std::move(library));
  for (Lowering& lowering : decls->lowerings) {
    lowering.plugin_index = plugin_index;
    lowerings_.push_back(std::move(lowering));
  }
  // plugins_ may have reallocated: point every lowering at its plugin again.
  for (Lowering& lowering : lowerings_) lowering.plugin = &plugins_[lowering.plugin_index];
  RebuildIndex();
  return absl::OkStatus();
}

std::string_view CandidateOutcomeName(CandidateOutcome outcome) {
  switch (outcome) {
    case CandidateOutcome::kWinner:
      return "winner";
    case CandidateOutcome::kConflict:
      return "conflict";
    case CandidateOutcome::kLowerPriority:
      return "lower_priority";
    case CandidateOutcome::kLessSpecific:
      return "less_specific";
  }
  return "unknown";
}

namespace {

/// `candidates` by priority first, then specificity, load order among equals (stable sort); a
/// lowering claiming both the overload and the bare name counts once, by its better claim.
std::vector<Candidate> SortedUnique(std::vector<Candidate> candidates) {
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) {
                     if (a.lowering->priority != b.lowering->priority) {
                       return a.lowering->priority > b.lowering->priority;
                     }
                     return a.exact && !b.exact;
                   });
  std::vector<Candidate> unique;
  for (Candidate& c : candidates) {
    const bool seen = std::any_of(unique.begin(), unique.end(),
                                  [&](const Candidate& u) { return u.lowering == c.lowering; });
    if (!seen) unique.push_back(std::move(c));
  }
  return unique;
}

/// Each ranked candidate's outcome and its reason: the first wins unless the next ties with it
/// (same priority and specificity: a conflict among the tied), the rest lose by priority or by
/// claiming the bare name where the winner claims the overload.
void JudgeCandidates(std::vector<Candidate>& ranked) {
  const Candidate& top = ranked[0];
  const auto ties = [&top](const Candidate& c) {
    return c.lowering->priority == top.lowering->priority && c.exact == top.exact;
  };
  const bool conflict = ranked.size() > 1 && ties(ranked[1]);
  const std::string top_text = Describe(*top.lowering);
  for (Candidate& c : ranked) {
    if (ties(c)) {
      if (conflict) {
        c.outcome = CandidateOutcome::kConflict;
        c.reason = absl::StrCat("ties with another lowering at priority ", c.lowering->priority,
                                c.exact ? " (both claim the overload)" : " (both claim the name)");
      } else {
        c.outcome = CandidateOutcome::kWinner;
        c.reason = ranked.size() == 1
                       ? "the only lowering claiming it"
                       : absl::StrCat("highest priority (", c.lowering->priority, ")");
      }
    } else if (c.lowering->priority < top.lowering->priority) {
      c.outcome = CandidateOutcome::kLowerPriority;
      c.reason = absl::StrCat("priority ", c.lowering->priority, " is below priority ",
                              top.lowering->priority, " of ", top_text);
    } else {
      c.outcome = CandidateOutcome::kLessSpecific;
      c.reason =
          absl::StrCat("claims the name ", c.claim, ", and ", top_text, " claims the overload ",
                       top.claim, " at the same priority ", c.lowering->priority);
    }
  }
}

}  // namespace

std::vector<Candidate> Registry::RankCandidates(const std::string& op) const {
  const auto [name, overload] = SplitOp(op);
  const bool exact = !overload.empty();
  std::vector<Candidate> candidates;
  if (auto it = claims_.find(op); it != claims_.end()) {
    for (const Lowering* l : it->second) candidates.push_back({l, op, exact});
  }
  if (exact) {
    // An exact op is also claimed by every lowering of the bare name.
    if (auto it = claims_.find(std::string(name)); it != claims_.end()) {
      for (const Lowering* l : it->second) candidates.push_back({l, std::string(name), false});
    }
  }
  std::vector<Candidate> ranked = SortedUnique(std::move(candidates));
  if (!ranked.empty()) JudgeCandidates(ranked);
  return ranked;
}

void Registry::RebuildIndex() {
  // Claims per op, each lowering once, in load order.
  claims_.clear();
  for (const Lowering& lowering : lowerings_) {
    for (const std::string& op : lowering.ops) {
      std::vector<const Lowering*>& list = claims_[op];
      if (list.empty() || list.back() != &lowering) list.push_back(&lowering);
    }
  }
  index_.clear();
  conflicts_.clear();
  for (const auto& [op, direct] : claims_) {
    const std::vector<Candidate> candidates = RankCandidates(op);
    Resolution resolution;
    resolution.winner = candidates[0].lowering;
    if (candidates[0].outcome == CandidateOutcome::kConflict) {
      const Lowering* a = candidates[0].lowering;
      const Lowering* b = candidates[1].lowering;
      resolution.winner = nullptr;
      resolution.conflict = conflicts_.size();
      conflicts_.push_back(
          {op, a, b,
           absl::StrCat("conflicting lowerings for ", op, ": ", Describe(*a), " and ", Describe(*b),
                        " both claim it with priority ", a->priority,
                        "; change the priority of one of them (or remove a plugin)")});
    }
    index_.emplace(op, resolution);
  }
}

const std::string* Registry::LookupKey(std::string_view name, std::string_view overload) const {
  if (!overload.empty()) {
    if (auto it = index_.find(absl::StrCat(AsAbsl(name), ".", AsAbsl(overload)));
        it != index_.end()) {
      return &it->first;
    }
  }
  if (auto it = index_.find(AsAbsl(name)); it != index_.end()) return &it->first;
  return nullptr;
}

const Registry::Resolution* Registry::Lookup(std::string_view name,
                                             std::string_view overload) const {
  const std::string* key = LookupKey(name, overload);
  return key == nullptr ? nullptr : &index_.find(*key)->second;
}

absl::StatusOr<OpResolution> Registry::Explain(std::string_view op) const {
  const auto [name, overload] = SplitOp(op);
  OpResolution out;
  out.query = std::string(op);
  const std::string* key = LookupKey(name, overload);
  if (key == nullptr) {
    if (std::string_view functional = FunctionalName(name); !functional.empty()) {
      key = LookupKey(functional, overload);
      out.in_place_fallback = key != nullptr;
    }
  }
  if (key == nullptr) {
    // The same message as Find.
    absl::StatusOr<const Lowering*> found = Find(name, overload);
    return found.ok() ? absl::InternalError("Explain and Find disagree") : found.status();
  }
  out.claimed_op = *key;
  const Resolution& resolution = index_.find(*key)->second;
  out.winner = resolution.winner;
  if (resolution.conflict.has_value()) out.conflict = conflicts_[*resolution.conflict].message;
  out.candidates = RankCandidates(*key);
  return out;
}

absl::StatusOr<const Lowering*> Registry::Find(std::string_view qualified_name,
                                               std::string_view overload) const {
  const Resolution* resolution = Lookup(qualified_name, overload);
  if (resolution == nullptr) {
    if (std::string_view functional = FunctionalName(qualified_name); !functional.empty()) {
      resolution = Lookup(functional, overload);
    }
  }
  if (resolution == nullptr) {
    return absl::NotFoundError(
        overload.empty()
            ? absl::StrCat("no lowering for ", AsAbsl(qualified_name))
            : absl::StrCat("no lowering for ", AsAbsl(qualified_name), ".", AsAbsl(overload)));
  }
  if (resolution->conflict.has_value()) {
    return absl::FailedPreconditionError(conflicts_[*resolution->conflict].message);
  }
  return resolution->winner;
}

absl::StatusOr<const Lowering*> Registry::Find(std::string_view op) const {
  const auto [name, overload] = SplitOp(op);
  return Find(name, overload);
}

std::vector<const Lowering*> Registry::lowerings() const {
  std::vector<const Lowering*> out;
  out.reserve(lowerings_.size());
  for (const Lowering& lowering : lowerings_) out.push_back(&lowering);
  return out;
}

std::vector<std::string> Registry::ClaimedOps() const {
  std::vector<std::string> ops;
  ops.reserve(index_.size());
  for (const auto& [op, resolution] : index_) ops.push_back(op);
  std::sort(ops.begin(), ops.end());
  return ops;
}

std::vector<std::string> Registry::PassthroughOps() const {
  std::vector<std::string> ops;
  for (const auto& [op, resolution] : index_) {
    if (resolution.winner != nullptr && resolution.winner->passthrough()) ops.push_back(op);
  }
  std::sort(ops.begin(), ops.end());
  return ops;
}

std::vector<std::string> Registry::CustomSchemas() const {
  std::vector<std::string> schemas;
  for (const Lowering& lowering : lowerings_) {
    for (const std::string& schema : lowering.schemas) {
      if (std::find(schemas.begin(), schemas.end(), schema) == schemas.end()) {
        schemas.push_back(schema);
      }
    }
  }
  return schemas;
}

}  // namespace ts2coreml::registry
