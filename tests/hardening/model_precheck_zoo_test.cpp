// Every model of the test zoo (torchvision models saved by torch.jit.save) passes the archive,
// pickle and code pre-checks, the largest and deepest included. Prints what each check read and
// how long it took (the cost docs/cli.md quotes).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/model/archive_precheck.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

namespace fs = std::filesystem;

TEST(ModelPrecheckZoo, EveryTestModelPasses) {
  std::vector<fs::path> models;
  for (const fs::directory_entry& e : fs::directory_iterator(TS2COREML_TEST_MODELS_DIR)) {
    if (e.path().extension() == ".pt") models.push_back(e.path());
  }
  ASSERT_GE(models.size(), 10u) << "test models missing from " << TS2COREML_TEST_MODELS_DIR;
  uint64_t total_bytes = 0;
  double total_seconds = 0;
  for (const fs::path& model : models) {
    SCOPED_TRACE(model.string());
    absl::StatusOr<std::unique_ptr<FileSource>> source = FileSource::Open(model);
    ASSERT_TRUE(source.ok()) << source.status();
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<ArchiveSummary> summary = PrecheckTorchScriptArchive(**source);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(summary.ok()) << summary.status();
    EXPECT_GT(summary->pickles, 0u);
    EXPECT_GT(summary->code_files, 0u);
    total_bytes += (*source)->size();
    total_seconds += seconds;
    std::printf("%-36s %8.1f MB  %5zu entries %4zu pickles %4zu code files  %.3f s\n",
                model.filename().c_str(), (*source)->size() / 1e6, summary->entries,
                summary->pickles, summary->code_files, seconds);
  }
  std::printf("all %zu models: %.1f MB in %.3f s (%.0f MB/s)\n", models.size(), total_bytes / 1e6,
              total_seconds, total_bytes / 1e6 / total_seconds);
}

}  // namespace
}  // namespace ts2coreml::core
