/// The lowering registry: loads plugin libraries, validates what they declare, and answers "which
/// lowering handles this TorchScript op".
///
/// Loading never aborts on a bad plugin: each one that cannot be used is recorded in `refused()`
/// with a one-line reason naming the file, and every other plugin keeps working. Lookups are hash
/// lookups in an index built at load time.
///
///   LoadOptions options;
///   options.allow_insecure = flags.allow_insecure_plugins;
///   Registry registry = Registry::Load(
///       DefaultPluginDirs(exe, flags.plugin_dirs, std::getenv(kPluginPathEnvVar)), options);
///   for (const RefusedPlugin& r : registry.refused()) std::cerr << "warning: " << r.reason <<
///   "\n"; absl::StatusOr<const Lowering*> lowering = registry.Find("aten::add", "Tensor");
///
/// Which claim wins: the highest priority; on equal priority an exact claim ("aten::add.Tensor")
/// beats a bare-name claim ("aten::add", meaning every overload); two claims equal in both are a
/// conflict that `Find` reports instead of picking one. In-place variants ("aten::relu_") fall back
/// to the functional op ("aten::relu") when nothing claims them.
#ifndef TS2COREML_REGISTRY_REGISTRY_H_
#define TS2COREML_REGISTRY_REGISTRY_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "registry/lowering.h"
#include "registry/plugin_security.h"
#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::registry {

/// How plugins are loaded.
struct LoadOptions {
  /// Load plugins that fail CheckPluginPermissions (the CLI's --allow-insecure-plugins).
  bool allow_insecure = false;
};

/// A plugin library that was not loaded.
struct RefusedPlugin {
  std::filesystem::path path;  ///< absolute path of the file as it was found
  /// One line that starts with the path and says what is wrong and what to do, e.g.
  /// "/p/x.so: plugin ABI 7 is newer than this ts2coreml (ABI 1); rebuild the plugin ...".
  std::string reason;
};

/// Two lowerings claiming an op with equal priority and equal specificity.
struct Conflict {
  std::string op;                    ///< the claimed op ("aten::add" or "aten::add.Tensor")
  const Lowering* first = nullptr;   ///< the one loaded first
  const Lowering* second = nullptr;  ///< the one loaded later
  /// One line naming both lowerings, their plugins and files, and the fix.
  std::string message;
};

/// How one candidate lowering for an op fared in Find's choice.
enum class CandidateOutcome {
  kWinner,         ///< the lowering Find returns
  kConflict,       ///< ties with another candidate in priority and specificity: none wins
  kLowerPriority,  ///< a candidate with a higher priority wins
  kLessSpecific,   ///< equal priority, but the winner claims the exact overload, this one the name
};

/// "winner", "conflict", "lower_priority", "less_specific" (stable: used in --json output).
std::string_view CandidateOutcomeName(CandidateOutcome outcome);

/// One lowering that claims an op, and why it did or did not win.
struct Candidate {
  const Lowering* lowering = nullptr;
  /// How it claims the op: the exact overload ("aten::add.Tensor") or the bare name ("aten::add").
  std::string claim;
  bool exact = false;  ///< `claim` names the overload
  CandidateOutcome outcome = CandidateOutcome::kWinner;
  /// One line: "priority 0 is below priority 10 of 'fast_relu' from plugin 'x'".
  std::string reason;
};

/// Everything Find decides for one op, for reports (`ts2coreml registry show OP`).
struct OpResolution {
  std::string query;       ///< the op asked about ("aten::relu_.out" or "aten::add")
  std::string claimed_op;  ///< the claimed op that answered (after overload and in-place fallback)
  /// The query is an in-place variant ("aten::relu_") that nothing claims, so the functional op
  /// ("aten::relu") answers.
  bool in_place_fallback = false;
  const Lowering* winner = nullptr;   ///< null when the best candidates conflict
  std::string conflict;               ///< the conflict message; empty when there is a winner
  std::vector<Candidate> candidates;  ///< every lowering claiming it, once each, best first
};

/// Loaded plugins and their lowerings. Movable, not copyable. Owns the loaded libraries: every
/// `Lowering*`, callback and `user_data` it hands out stays valid until the Registry is destroyed
/// (also across moves and later LoadFile/LoadDirectory calls, which keep `Lowering::plugin`
/// current; references into `plugins()` itself may move when a later call adds a plugin).
/// Const methods may be called from several threads at once; loading is not thread-safe.
class Registry {
 public:
  /// An empty registry; add plugins with LoadDirectory and LoadFile.
  explicit Registry(LoadOptions options = {});
  ~Registry();
  Registry(Registry&&) noexcept;
  Registry& operator=(Registry&&) noexcept;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Loads every plugin of `dirs` in order (see LoadDirectory). Never fails: unusable plugins are
  /// in `refused()`, unusable directories in `warnings()`.
  static Registry Load(const std::vector<std::filesystem::path>& dirs,
                       const LoadOptions& options = {});

  /// Loads every entry of `dir` whose name ends in ".so" and that is a regular file (or a symlink
  /// to one), sorted by name; subdirectories are not searched. A missing or unreadable directory is
  /// recorded in `warnings()` and returned as NotFound / FailedPrecondition; refused files are not
  /// an error of the directory (see `refused()`).
  absl::Status LoadDirectory(const std::filesystem::path& dir);

  /// Loads one plugin library (any file name). A relative path is taken against the current
  /// directory. On failure the file is also recorded in `refused()` (once) and the status message
  /// is the refusal reason. Loading a file that is already loaded (same inode, e.g. through a
  /// symlink or a directory listed twice) is OK and does nothing. The file is opened once and
  /// checked (OpenPluginFile), its entry and header are read from the file (ReadPluginFileFacts,
  /// ValidatePluginHeader), and only a file that passes is loaded, through its descriptor, and its
  /// entry called.
  absl::Status LoadFile(const std::filesystem::path& path);

  /// The lowering for a node whose schema is `qualified_name` ("aten::add") with `overload`
  /// ("Tensor", may be empty). NotFound "no lowering for aten::add.Tensor" when nothing claims it;
  /// FailedPrecondition naming both plugins when the best claims conflict.
  absl::StatusOr<const Lowering*> Find(std::string_view qualified_name,
                                       std::string_view overload) const;
  /// Like Find(name, overload) for a full op name "ns::name" or "ns::name.overload".
  absl::StatusOr<const Lowering*> Find(std::string_view op) const;

  /// What Find(op) decides and why: every candidate with its outcome. NotFound like Find when
  /// nothing claims the op; a conflict is not an error here (see `OpResolution::conflict`).
  absl::StatusOr<OpResolution> Explain(std::string_view op) const;

  /// Every lowering, in load order (directories in order, files by name, declarations in order).
  std::vector<const Lowering*> lowerings() const;
  /// Loaded plugins, in load order; `Lowering::plugin_index` indexes this.
  const std::vector<PluginInfo>& plugins() const { return plugins_; }
  /// Plugin files that were not loaded, in the order they were found.
  const std::vector<RefusedPlugin>& refused() const { return refused_; }
  /// Directory-level problems (a plugin directory that does not exist), one line each.
  const std::vector<std::string>& warnings() const { return warnings_; }
  /// Adds a search-path problem found before loading (a skipped TS2COREML_PLUGIN_PATH entry).
  void AddWarning(std::string warning) { warnings_.push_back(std::move(warning)); }
  /// Claims that tie, sorted by op; Find fails for these ops. For reports and `plugins --check`.
  const std::vector<Conflict>& conflicts() const { return conflicts_; }

  /// Every claimed op ("aten::add", "aten::add.Scalar"), sorted.
  std::vector<std::string> ClaimedOps() const;
  /// Claimed ops whose winning lowering is a passthrough (after priorities; conflicted ops are
  /// left out), sorted. The core may instead test `Find(...)->passthrough()` per node.
  std::vector<std::string> PassthroughOps() const;
  /// Every declared full schema, in load order, without duplicates.
  std::vector<std::string> CustomSchemas() const;

 private:
  /// The winner of one claimed op, or the conflict that prevents one.
  struct Resolution {
    const Lowering* winner = nullptr;
    std::optional<size_t> conflict;  ///< index into conflicts_
  };

  absl::Status Refuse(const std::filesystem::path& path, absl::StatusCode code,
                      absl::string_view problem);
  absl::Status LoadResolvedFile(const std::filesystem::path& path);
  /// Whether the file with this stat is a loaded plugin already.
  bool IsLoaded(const struct stat& st) const;
  /// Loads `file`, whose path, permissions and header (null: it has none) were accepted, through
  /// its descriptor; then reads and validates the entry's declarations.
  absl::Status LoadAcceptedFile(const std::filesystem::path& path, const PluginFile& file,
                                const t2c_plugin_header* header);
  void RebuildIndex();
  /// The key of index_ that answers (name, overload), or null; in-place fallback not included.
  const std::string* LookupKey(std::string_view name, std::string_view overload) const;
  const Resolution* Lookup(std::string_view name, std::string_view overload) const;
  /// The candidates for claimed op `op`, ranked and each given its outcome (see Explain).
  std::vector<Candidate> RankCandidates(const std::string& op) const;

  LoadOptions options_;
  uid_t trusted_uid_;
  /// Declared first so it is destroyed last: type-erased boost::dll::shared_library objects.
  std::vector<std::shared_ptr<void>> libraries_;
  std::vector<PluginInfo> plugins_;
  std::vector<std::pair<dev_t, ino_t>> plugin_files_;  ///< parallel to plugins_
  std::deque<Lowering> lowerings_;                     ///< deque: stable addresses
  std::vector<RefusedPlugin> refused_;
  std::vector<std::filesystem::path> refused_canonical_;  ///< parallel to refused_
  std::vector<std::string> warnings_;
  std::vector<Conflict> conflicts_;
  absl::flat_hash_map<std::string, Resolution> index_;
  /// Lowerings claiming each op, each lowering once, in load order (pointers into lowerings_).
  std::map<std::string, std::vector<const Lowering*>> claims_;
};

}  // namespace ts2coreml::registry

#endif  // TS2COREML_REGISTRY_REGISTRY_H_
