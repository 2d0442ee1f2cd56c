/// Test-only helpers for the registry tests: private temporary directories and plugin copies.
///
///   TempDir dir;
///   std::filesystem::path good = dir.CopyIn(TEST_PLUGIN_GOOD);
#ifndef TS2COREML_REGISTRY_TEST_SUPPORT_H_
#define TS2COREML_REGISTRY_TEST_SUPPORT_H_

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace ts2coreml::registry {

/// A fresh directory under the system temp dir, mode 0755 and owned by the current user, removed
/// with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "t2c_registry_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
    std::filesystem::permissions(path_, std::filesystem::perms(0755));
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  /// A subdirectory (mode 0755), created if missing.
  std::filesystem::path Subdir(const std::string& name) const {
    std::filesystem::path dir = path_ / name;
    std::filesystem::create_directories(dir);
    std::filesystem::permissions(dir, std::filesystem::perms(0755));
    return dir;
  }

  /// Copies `file` into `dir` (default: this directory) as `name` (default: its file name), mode
  /// 0755, and returns the copy's path.
  std::filesystem::path CopyIn(const std::filesystem::path& file, const std::string& name = "",
                               const std::filesystem::path& dir = {}) const {
    std::filesystem::path target =
        (dir.empty() ? path_ : dir) / (name.empty() ? file.filename().string() : name);
    std::filesystem::copy_file(file, target, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(target, std::filesystem::perms(0755));
    return target;
  }

  /// Writes a text file with mode 0755 and returns its path.
  std::filesystem::path WriteFile(const std::string& name, const std::string& text) const {
    std::filesystem::path target = path_ / name;
    std::ofstream(target) << text;
    std::filesystem::permissions(target, std::filesystem::perms(0755));
    return target;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace ts2coreml::registry

#endif  // TS2COREML_REGISTRY_TEST_SUPPORT_H_
