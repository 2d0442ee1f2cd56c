/// Test helper for the core/model tests: writes small zip archives in memory (stored or deflated
/// entries, classic headers), so each test can build exactly the archive it needs.
#ifndef TS2COREML_CORE_MODEL_ZIP_TEST_UTIL_H_
#define TS2COREML_CORE_MODEL_ZIP_TEST_UTIL_H_

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ts2coreml::core::test {

/// One entry to write; `deflate` compresses it (raw deflate, method 8).
struct ZipMember {
  std::string name;
  std::string data;
  bool deflate = false;
};

inline void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

inline std::string RawDeflate(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline uint32_t Crc32(const std::string& data) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

/// A zip archive holding `members` in order.
inline std::string MakeZip(const std::vector<ZipMember>& members) {
  std::string out, central;
  for (const ZipMember& m : members) {
    const std::string body = m.deflate ? RawDeflate(m.data) : m.data;
    const uint64_t local = out.size();
    const auto header = [&](std::string* h, bool is_central) {
      PutLe(h, is_central ? 0x02014b50 : 0x04034b50, 4);
      if (is_central) PutLe(h, 20, 2);
      PutLe(h, 20, 2);                 // version needed
      PutLe(h, 0, 2);                  // flags
      PutLe(h, m.deflate ? 8 : 0, 2);  // method
      PutLe(h, 0, 4);                  // time, date
      PutLe(h, Crc32(m.data), 4);
      PutLe(h, body.size(), 4);
      PutLe(h, m.data.size(), 4);
      PutLe(h, m.name.size(), 2);
      PutLe(h, 0, 2);  // extra
      if (is_central) {
        PutLe(h, 0, 2);  // comment
        PutLe(h, 0, 2);  // disk
        PutLe(h, 0, 2);  // internal attributes
        PutLe(h, 0, 4);  // external attributes
        PutLe(h, local, 4);
      }
      h->append(m.name);
    };
    header(&out, false);
    out.append(body);
    header(&central, true);
  }
  const uint64_t cd_offset = out.size();
  out.append(central);
  PutLe(&out, 0x06054b50, 4);
  PutLe(&out, 0, 4);
  PutLe(&out, members.size(), 2);
  PutLe(&out, members.size(), 2);
  PutLe(&out, central.size(), 4);
  PutLe(&out, cd_offset, 4);
  PutLe(&out, 0, 2);
  return out;
}

}  // namespace ts2coreml::core::test

#endif  // TS2COREML_CORE_MODEL_ZIP_TEST_UTIL_H_
