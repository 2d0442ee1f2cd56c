// libFuzzer target for the package reader: every input becomes a whole .mlpackage tree
// (fuzz/package_framing.h) that goes through what `inspect` and `verify` do with a package:
// ReadPackage (manifest JSON, paths, protobuf parse), ValidatePackage (program structure, SSA,
// const values, blob records in weight.bin), OpTypeHistogram and ReadConstFloats on every const.
// Any error status is fine; a crash, sanitizer report, leak or uncaught exception is a bug.
//
//   package_fuzzer -max_total_time=60 CORPUS_DIR SEED_DIR
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "core/mil/package_reader.h"
#include "fuzz/package_framing.h"

namespace {

namespace fs = std::filesystem;

const fs::path& Root() {
  static const fs::path* root = [] {
    const char* tmp = std::getenv("TMPDIR");
    auto* p =
        new fs::path(fs::path(tmp ? tmp : "/tmp") /
                     ("ts2coreml-package-fuzz-" + std::to_string(::getpid())) / "Fuzz.mlpackage");
    return p;
  }();
  return *root;
}

void Put(const fs::path& path, const std::string& bytes, bool present) {
  std::error_code ec;
  fs::remove(path, ec);
  if (!present) return;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();  // the fuzzer's own scratch folder must be writable
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
  std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ts2coreml::fuzz::PackageFiles;
  const PackageFiles files = ts2coreml::fuzz::Unframe(data, size);
  const fs::path& root = Root();
  const fs::path data_dir = root / "Data" / "com.apple.CoreML";
  std::error_code ec;
  fs::create_directories(data_dir / "weights", ec);
  Put(root / "Manifest.json", files.manifest, !(files.flags & ts2coreml::fuzz::kNoManifest));
  Put(data_dir / "model.mlmodel", files.model, !(files.flags & ts2coreml::fuzz::kNoModel));
  Put(data_dir / "weights" / "weight.bin", files.weights,
      !(files.flags & ts2coreml::fuzz::kNoWeights));

  absl::StatusOr<ts2coreml::mil::Package> package = ts2coreml::mil::ReadPackage(root);
  if (!package.ok()) return 0;
  const absl::Status valid = ts2coreml::mil::ValidatePackage(*package);
  (void)ts2coreml::mil::OpTypeHistogram(*package);
  if (!valid.ok()) return 0;
  absl::StatusOr<const CoreML::Specification::MILSpec::Block*> block =
      ts2coreml::mil::MainBlock(*package);
  if (!block.ok()) std::abort();  // a valid package has a main block
  for (const auto& op : (*block)->operations()) {
    if (op.type() != "const") continue;
    (void)ts2coreml::mil::ReadConstFloats(*package, op.attributes().at("val"));
    if (!op.outputs().empty()) (void)ts2coreml::mil::FindProducer(*package, op.outputs(0).name());
  }
  return 0;
}
