// The package reader on broken packages: every corruption of package_corruptions.h is reported
// as an error status containing the expected fragment, never a crash; the fuzzer framing round
// trips so that its seeds are the packages tested here.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "core/mil/package_reader.h"
#include "fuzz/package_framing.h"
#include "gtest/gtest.h"
#include "tests/hardening/package_corruptions.h"

namespace ts2coreml::testing {
namespace {

namespace fs = std::filesystem;

fs::path FreshDir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() /
                 ("ts2coreml-hardening-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

absl::Status ReadAndValidate(const fs::path& pkg) {
  absl::StatusOr<mil::Package> p = mil::ReadPackage(pkg);
  if (!p.ok()) return p.status();
  if (absl::Status s = mil::ValidatePackage(*p); !s.ok()) return s;
  // What tools do after validation: every const's elements can be read.
  absl::StatusOr<const CoreML::Specification::MILSpec::Block*> block = mil::MainBlock(*p);
  if (!block.ok()) return block.status();
  for (const auto& op : (*block)->operations()) {
    if (op.type() != "const") continue;
    absl::StatusOr<std::vector<float>> v = mil::ReadConstFloats(*p, op.attributes().at("val"));
    if (!v.ok() && op.attributes().at("val").type().tensortype().datatype() !=
                       CoreML::Specification::MILSpec::STRING) {
      return v.status();
    }
  }
  return absl::OkStatus();
}

TEST(PackageHardening, ValidPackageReadsBack) {
  const fs::path dir = FreshDir("valid");
  ASSERT_TRUE(WriteValidPackage(dir / "ok.mlpackage").ok());
  EXPECT_TRUE(ReadAndValidate(dir / "ok.mlpackage").ok());
  fs::remove_all(dir);
}

TEST(PackageHardening, EveryCorruptionIsAnErrorNamingTheProblem) {
  const fs::path dir = FreshDir("corrupt");
  ASSERT_GE(PackageCorruptions().size(), 25u);
  for (const PackageCorruption& c : PackageCorruptions()) {
    SCOPED_TRACE(c.name);
    const fs::path pkg = dir / (c.name + ".mlpackage");
    ASSERT_TRUE(WriteValidPackage(pkg).ok());
    const absl::Status applied = c.apply(pkg);
    ASSERT_TRUE(applied.ok()) << applied.message();
    const absl::Status s = ReadAndValidate(pkg);
    ASSERT_FALSE(s.ok()) << "the corrupted package was accepted";
    EXPECT_NE(std::string(s.message()).find(c.expected_error), std::string::npos)
        << "error: " << s.message() << "\nexpected to contain: " << c.expected_error;
    EXPECT_EQ(std::string(s.message()).find('\n'), std::string::npos) << s.message();
  }
  fs::remove_all(dir);
}

TEST(PackageHardening, FuzzFramingRoundTrips) {
  fuzz::PackageFiles f;
  f.flags = fuzz::kNoWeights;
  f.manifest = "{}";
  f.model = std::string("\0\1\2", 3);
  f.weights = "tail";
  const std::string framed = fuzz::Frame(f);
  const fuzz::PackageFiles g =
      fuzz::Unframe(reinterpret_cast<const uint8_t*>(framed.data()), framed.size());
  EXPECT_EQ(g.flags, f.flags);
  EXPECT_EQ(g.manifest, f.manifest);
  EXPECT_EQ(g.model, f.model);
  EXPECT_EQ(g.weights, f.weights);
  // Lengths past the end are clamped, never read beyond the input.
  const uint8_t short_input[] = {0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 'x'};
  const fuzz::PackageFiles h = fuzz::Unframe(short_input, sizeof short_input);
  EXPECT_EQ(h.manifest, "x");
  EXPECT_EQ(h.model, "");
}

}  // namespace
}  // namespace ts2coreml::testing
