// `-o` and `--force` on hostile targets: only an ML package (a folder with Manifest.json) named
// *.mlpackage is ever replaced, never the input model, a folder inside it or one holding it, a
// plain folder, a plain file or a symlink; the replacement is one renameat2(RENAME_EXCHANGE);
// a file-size limit (SIGXFSZ) becomes an error; temporaries of killed runs are cleaned. Every
// case leaves every pre-existing file as it was. The crafted trees are made here, at test time,
// from the corpus model good.pt (make_corpus.py).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/cli_runner.h"
#include "tests/hardening/hostile_cli.h"

namespace ts2coreml::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kUsage = 2, kOutput = 7;

fs::path Corpus(const std::string& name) { return fs::path(TS2COREML_HARDENING_CORPUS) / name; }

using Tree = std::vector<std::pair<std::string, std::string>>;

/// Every file below `root` with its bytes, every folder and every symlink with its target.
Tree Snapshot(const fs::path& root) {
  Tree tree = ReadTree(root);
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(root)) {
    const std::string name = fs::relative(e.path(), root).string();
    if (e.is_symlink()) {
      tree.emplace_back(name, "-> " + fs::read_symlink(e.path()).string());
    } else if (e.is_directory()) {
      tree.emplace_back(name + "/", "");
    }
  }
  std::sort(tree.begin(), tree.end());
  return tree;
}

std::vector<std::string> ConvertArgs(const fs::path& model, const fs::path& out, bool force) {
  std::vector<std::string> args = {"convert",    model.string(), "-o",
                                   out.string(), "--input",      "x:1x3x8x8"};
  if (force) args.push_back("--force");
  return args;
}

/// A folder with the corpus model copied in as m.pt.
struct Workspace {
  TempDir dir;
  fs::path model = dir / "m.pt";
  Workspace() { fs::copy_file(Corpus("good.pt"), model); }
  std::uint64_t model_bytes() const { return fs::file_size(model); }
};

/// Runs a convert that must be refused with `code` naming `must_name`, and checks that the
/// workspace is exactly as before.
void ExpectRefusedUntouched(const Workspace& w, const std::vector<std::string>& args, int code,
                            const std::string& must_name, const std::string& problem) {
  SCOPED_TRACE(absl::StrCat(args[3], args.back() == "--force" ? " --force" : ""));
  const Tree before = Snapshot(w.dir.path());
  HostileResult r = RunCliHostile(args, w.model_bytes());
  ExpectRefusedNaming(r, code, must_name);
  EXPECT_NE(r.output.find(problem), std::string::npos) << r.output;
  EXPECT_EQ(Snapshot(w.dir.path()), before);
}

TEST(OutputHardening, ForceNeverReplacesWhatIsNotAPackage) {
  Workspace w;
  // The input model itself, under its own name and named like a package.
  ExpectRefusedUntouched(w, ConvertArgs(w.model, w.model, true), kUsage, w.model.string(),
                         ".mlpackage");
  const fs::path pkg_named_model = w.dir / "model.mlpackage";
  fs::copy_file(w.model, pkg_named_model);
  ExpectRefusedUntouched(w, ConvertArgs(pkg_named_model, pkg_named_model, true), kOutput,
                         pkg_named_model.string(), "input model itself");
  // An unrelated folder, with or without the extension, and a plain file.
  const fs::path folder = w.dir / "some_dir";
  fs::create_directories(folder / "sub");
  std::ofstream(folder / "sub" / "notes.txt") << "keep me";
  ExpectRefusedUntouched(w, ConvertArgs(w.model, folder, true), kUsage, folder.string(),
                         ".mlpackage");
  const fs::path folder_pkg = w.dir / "photos.mlpackage";
  fs::create_directories(folder_pkg);
  std::ofstream(folder_pkg / "holiday.jpg") << "jpeg";
  ExpectRefusedUntouched(w, ConvertArgs(w.model, folder_pkg, true), kOutput, folder_pkg.string(),
                         "not an ML package");
  const fs::path text = w.dir / "file.txt";
  std::ofstream(text) << "text";
  ExpectRefusedUntouched(w, ConvertArgs(w.model, text, true), kUsage, text.string(), ".mlpackage");
  const fs::path file_pkg = w.dir / "file.mlpackage";
  std::ofstream(file_pkg) << "not a folder";
  ExpectRefusedUntouched(w, ConvertArgs(w.model, file_pkg, true), kOutput, file_pkg.string(),
                         "not an ML package");
  // A symlink to a package: the link is not a package; neither it nor its target is replaced.
  const fs::path real = w.dir / "real.mlpackage";
  fs::create_directories(real);
  std::ofstream(real / "Manifest.json") << "{}";
  const fs::path link = w.dir / "link.mlpackage";
  fs::create_directory_symlink(real, link);
  ExpectRefusedUntouched(w, ConvertArgs(w.model, link, true), kOutput, link.string(),
                         "not an ML package");
}

TEST(OutputHardening, WrongExtensionIsAUsageErrorAndWritesNothing) {
  Workspace w;
  for (const char* name : {"x.mlmodel", "x.mlpackage.tmp", "x", ".mlpackage"}) {
    ExpectRefusedUntouched(w, ConvertArgs(w.model, w.dir / name, false), kUsage,
                           (w.dir / name).string(), ".mlpackage");
  }
}

TEST(OutputHardening, OutputInsideTheInputOrHoldingItIsRefused) {
  Workspace w;
  // A folder given as the model (LibTorch would refuse it; the output is refused first).
  const fs::path model_dir = w.dir / "model_dir.pt";
  fs::create_directories(model_dir);
  std::ofstream(model_dir / "data.pkl") << "pickle";
  ExpectRefusedUntouched(w, ConvertArgs(model_dir, model_dir / "out.mlpackage", false), kOutput,
                         (model_dir / "out.mlpackage").string(), "inside the input");
  // The model lives inside the package --force would replace.
  const fs::path pkg = w.dir / "old.mlpackage";
  fs::create_directories(pkg);
  std::ofstream(pkg / "Manifest.json") << "{}";
  fs::copy_file(w.model, pkg / "m.pt");
  ExpectRefusedUntouched(w, ConvertArgs(pkg / "m.pt", pkg, true), kOutput, pkg.string(),
                         "contains the input model");
  ExpectRefusedUntouched(w, ConvertArgs(pkg / "m.pt", w.dir / "." / "old.mlpackage", true), kOutput,
                         "old.mlpackage", "contains the input model");
}

/// The PID of a process that has exited and been reaped.
pid_t DeadPid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

TEST(OutputHardening, ForceReplacesAPackageAndCleansOnlyStaleTemporaries) {
  Workspace w;
  const fs::path out = w.dir / "out.mlpackage";
  ASSERT_EQ(RunCliHostile(ConvertArgs(w.model, out, false), w.model_bytes()).exit_code, 0);
  std::ofstream(out / "marker") << "old";
  const pid_t dead = DeadPid();
  const fs::path stale = w.dir / absl::StrCat(".out.mlpackage.tmp-", dead);
  const fs::path live = w.dir / absl::StrCat(".out.mlpackage.tmp-", ::getpid());
  const fs::path other = w.dir / absl::StrCat(".other.mlpackage.tmp-", dead);
  const fs::path aside = w.dir / absl::StrCat(".out.mlpackage.old-", dead);
  for (const fs::path& p : {stale, live, other, aside}) {
    fs::create_directories(p);
    std::ofstream(p / "Manifest.json") << "{}";
  }
  HostileResult r = RunCliHostile(ConvertArgs(w.model, out, true), w.model_bytes());
  ExpectSucceeded(r);
  EXPECT_FALSE(fs::exists(out / "marker"));
  EXPECT_TRUE(fs::exists(out / "Manifest.json"));
  EXPECT_FALSE(fs::exists(stale));
  for (const fs::path& p : {live, other, aside}) EXPECT_TRUE(fs::exists(p / "Manifest.json")) << p;
  std::vector<std::string> expected = {live.filename().string(), aside.filename().string(),
                                       other.filename().string(), "m.pt", "out.mlpackage"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Entries(w.dir.path()), expected);
}

TEST(OutputHardening, FileSizeLimitIsAnErrorNotASignal) {
  Workspace w;
  const fs::path out = w.dir / "out.mlpackage";
  ASSERT_EQ(RunCliHostile(ConvertArgs(w.model, out, false), w.model_bytes()).exit_code, 0);
  std::ofstream(out / "marker") << "old";
  for (bool force : {false, true}) {
    const fs::path target = force ? out : w.dir / "fresh.mlpackage";
    SCOPED_TRACE(target.string());
    const Tree before = Snapshot(w.dir.path());
    // RLIMIT_FSIZE of 1 KiB: the first larger write gets SIGXFSZ (EFBIG once ignored).
    HostileResult r =
        RunCliHostile(ConvertArgs(w.model, target, force), w.model_bytes(), /*fsize_blocks=*/2);
    ExpectRefusedNaming(r, kOutput, target.filename().string());
    EXPECT_EQ(Snapshot(w.dir.path()), before);
  }
}

}  // namespace
}  // namespace ts2coreml::testing
