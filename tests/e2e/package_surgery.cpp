#include "tests/e2e/package_surgery.h"

#include <cstdint>
#include <fstream>

namespace ts2coreml::testing {

namespace milspec = CoreML::Specification::MILSpec;

/// Overwrites the first 64 elements of const `weight`'s blob data in `pkg`'s weight.bin with 4.0.
::testing::AssertionResult CorruptConst(const mil::Package& pkg, const milspec::Operation& weight) {
  const milspec::Value& val = weight.attributes().at("val");
  if (!val.has_blobfilevalue()) return ::testing::AssertionFailure() << "weight not in weight.bin";
  const bool fp16 = val.type().tensortype().datatype() == milspec::FLOAT16;
  std::fstream f(pkg.weights_path, std::ios::in | std::ios::out | std::ios::binary);
  uint64_t data_offset = 0;
  f.seekg(static_cast<std::streamoff>(val.blobfilevalue().offset() + 16));
  f.read(reinterpret_cast<char*>(&data_offset), 8);
  f.seekp(static_cast<std::streamoff>(data_offset));
  for (int i = 0; i < 64; ++i) {
    if (fp16) {
      const uint16_t four = 0x4400;  // 4.0 in binary16
      f.write(reinterpret_cast<const char*>(&four), 2);
    } else {
      const float four = 4.0f;
      f.write(reinterpret_cast<const char*>(&four), 4);
    }
  }
  if (!f) return ::testing::AssertionFailure() << "cannot rewrite " << pkg.weights_path;
  return ::testing::AssertionSuccess();
}

}  // namespace ts2coreml::testing
