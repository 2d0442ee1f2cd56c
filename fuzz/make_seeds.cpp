// Writes the package fuzzer's seed corpus: the valid test package and every corruption of
// tests/hardening/package_corruptions.h, each framed as fuzz/package_framing.h describes.
//
//   make_package_fuzz_seeds OUT_DIR
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "fuzz/package_framing.h"
#include "tests/hardening/package_corruptions.h"

namespace {

namespace fs = std::filesystem;

bool ReadIfThere(const fs::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  *out = std::string(std::istreambuf_iterator<char>(in), {});
  return true;
}

int WriteSeed(const fs::path& package, const fs::path& out) {
  ts2coreml::fuzz::PackageFiles f;
  const fs::path data = package / "Data" / "com.apple.CoreML";
  if (!ReadIfThere(package / "Manifest.json", &f.manifest)) f.flags |= ts2coreml::fuzz::kNoManifest;
  if (!ReadIfThere(data / "model.mlmodel", &f.model)) f.flags |= ts2coreml::fuzz::kNoModel;
  if (!ReadIfThere(data / "weights" / "weight.bin", &f.weights)) {
    f.flags |= ts2coreml::fuzz::kNoWeights;
  }
  std::ofstream o(out, std::ios::binary | std::ios::trunc);
  const std::string framed = ts2coreml::fuzz::Frame(f);
  o.write(framed.data(), static_cast<std::streamsize>(framed.size()));
  return o ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_package_fuzz_seeds OUT_DIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  const fs::path scratch = out / ".scratch";
  std::error_code ec;
  fs::remove_all(scratch, ec);
  fs::create_directories(scratch);
  int status = 0;
  auto make = [&](const std::string& name, const ts2coreml::testing::PackageCorruption* c) {
    const fs::path pkg = scratch / (name + ".mlpackage");
    absl::Status s = ts2coreml::testing::WriteValidPackage(pkg);
    if (s.ok() && c != nullptr) s = c->apply(pkg);
    if (!s.ok()) {
      std::cerr << "make_package_fuzz_seeds: " << name << ": " << s.message() << "\n";
      status = 1;
      return;
    }
    status |= WriteSeed(pkg, out / name);
  };
  make("valid", nullptr);
  for (const auto& c : ts2coreml::testing::PackageCorruptions()) make(c.name, &c);
  fs::remove_all(scratch, ec);
  return status;
}
