#include "core/interp/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/mil/fp16.h"

namespace ts2coreml::interp {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

size_t ElementSize(NpyDtype d) {
  return d == NpyDtype::kFloat16 ? 2 : d == NpyDtype::kFloat32 ? 4 : 8;
}

const char* Descr(NpyDtype d) {
  return d == NpyDtype::kFloat16 ? "<f2" : d == NpyDtype::kFloat32 ? "<f4" : "<f8";
}

}  // namespace

absl::StatusOr<NpyArray> ReadNpy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open '", path.string(), "'"));
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", why));
  };
  if (data.size() < 10 || data.compare(0, 6, kMagic, 6) != 0) return bad("not a .npy file");
  const int major = static_cast<unsigned char>(data[6]);
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(data[8]) | (static_cast<unsigned char>(data[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12) return bad("truncated header");
    uint32_t n;
    std::memcpy(&n, data.data() + 8, 4);
    header_len = n;
    header_start = 12;
  } else {
    return bad(absl::StrCat("unsupported .npy version ", major));
  }
  if (data.size() < header_start + header_len) return bad("truncated header");
  const std::string header = data.substr(header_start, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([^']*)'"))) {
    return bad("header has no descr");
  }
  NpyArray a;
  const std::string descr = m[1];
  if (descr == "<f2")
    a.dtype = NpyDtype::kFloat16;
  else if (descr == "<f4")
    a.dtype = NpyDtype::kFloat32;
  else if (descr == "<f8")
    a.dtype = NpyDtype::kFloat64;
  else
    return bad("dtype '" + descr + "' is not supported; use float16, float32 or float64");
  if (!std::regex_search(header, m, std::regex("'fortran_order'\\s*:\\s*(True|False)"))) {
    return bad("header has no fortran_order");
  }
  if (m[1] == "True") return bad("Fortran-order arrays are not supported; save in C order");
  if (!std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)"))) {
    return bad("header has no shape");
  }
  std::stringstream dims(m[1].str());
  std::string dim;
  int64_t numel = 1;
  while (std::getline(dims, dim, ',')) {
    if (dim.find_first_not_of(" \t") == std::string::npos) continue;
    try {
      a.shape.push_back(std::stoll(dim));
    } catch (const std::exception&) {
      return bad("bad shape");
    }
    numel *= a.shape.back();
  }
  const size_t elem = ElementSize(a.dtype);
  const size_t offset = header_start + header_len;
  if (data.size() - offset != static_cast<size_t>(numel) * elem) {
    return absl::DataLossError(absl::StrCat(path.string(), ": holds ", data.size() - offset,
                                            " data bytes, shape needs ", numel * elem));
  }
  a.values.resize(static_cast<size_t>(numel));
  for (size_t i = 0; i < a.values.size(); ++i) {
    const char* p = data.data() + offset + i * elem;
    if (a.dtype == NpyDtype::kFloat16) {
      uint16_t h;
      std::memcpy(&h, p, 2);
      a.values[i] = mil::HalfToFloat(h);
    } else if (a.dtype == NpyDtype::kFloat32) {
      std::memcpy(&a.values[i], p, 4);
    } else {
      double d;
      std::memcpy(&d, p, 8);
      a.values[i] = static_cast<float>(d);
    }
  }
  return a;
}

absl::Status WriteNpy(const std::filesystem::path& path, const NpyArray& array, NpyDtype dtype) {
  int64_t numel = 1;
  for (int64_t d : array.shape) numel *= d;
  if (numel != static_cast<int64_t>(array.values.size())) {
    return absl::InvalidArgumentError("shape and value count disagree");
  }
  std::string shape = absl::StrJoin(array.shape, ", ");
  if (array.shape.size() == 1) shape += ",";
  std::string header = absl::StrCat("{'descr': '", Descr(dtype),
                                    "', 'fortran_order': False, 'shape': (", shape, "), }");
  // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64.
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  for (float v : array.values) {
    if (dtype == NpyDtype::kFloat16) {
      const uint16_t h = mil::FloatToHalf(v);
      out.append(reinterpret_cast<const char*>(&h), 2);
    } else if (dtype == NpyDtype::kFloat32) {
      out.append(reinterpret_cast<const char*>(&v), 4);
    } else {
      const double d = v;
      out.append(reinterpret_cast<const char*>(&d), 8);
    }
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f || !f.write(out.data(), static_cast<std::streamsize>(out.size()))) {
    return absl::PermissionDeniedError(absl::StrCat("cannot write '", path.string(), "'"));
  }
  return absl::OkStatus();
}

}  // namespace ts2coreml::interp
