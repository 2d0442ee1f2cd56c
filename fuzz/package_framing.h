/// How the package fuzzer turns one byte string into an .mlpackage tree, and back (for seeds).
///
/// Layout: byte 0 = flags (bit 0: no Manifest.json, bit 1: no model.mlmodel, bit 2: no
/// weight.bin), bytes 1..4 = manifest length M, bytes 5..8 = model length N (little-endian
/// uint32, clamped to what is there), then M bytes of Manifest.json, N bytes of model.mlmodel, and
/// the rest is weight.bin.
#ifndef TS2COREML_FUZZ_PACKAGE_FRAMING_H_
#define TS2COREML_FUZZ_PACKAGE_FRAMING_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace ts2coreml::fuzz {

enum : uint8_t { kNoManifest = 1, kNoModel = 2, kNoWeights = 4 };

struct PackageFiles {
  uint8_t flags = 0;
  std::string manifest;
  std::string model;
  std::string weights;
};

inline PackageFiles Unframe(const uint8_t* data, size_t size) {
  PackageFiles f;
  if (size == 0) return f;
  f.flags = data[0];
  size_t pos = 1;
  auto u32 = [&]() -> size_t {
    uint32_t v = 0;
    for (int i = 0; i < 4 && pos < size; ++i, ++pos)
      v |= static_cast<uint32_t>(data[pos]) << (8 * i);
    return v;
  };
  const size_t m = u32();
  const size_t n = u32();
  auto take = [&](size_t len) {
    len = len < size - pos ? len : size - pos;
    std::string s(reinterpret_cast<const char*>(data) + pos, len);
    pos += len;
    return s;
  };
  f.manifest = take(m);
  f.model = take(n);
  f.weights = take(size - pos);
  return f;
}

inline std::string Frame(const PackageFiles& f) {
  std::string out(1, static_cast<char>(f.flags));
  for (size_t len : {f.manifest.size(), f.model.size()}) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  }
  return out + f.manifest + f.model + f.weights;
}

}  // namespace ts2coreml::fuzz

#endif  // TS2COREML_FUZZ_PACKAGE_FRAMING_H_
