#include "core/interp/npy.h"

#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "core/base/safe_file.h"
#include "core/mil/fp16.h"

namespace ts2coreml::interp {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

size_t ElementSize(NpyDtype d) {
  switch (d) {
    case NpyDtype::kFloat16:
      return 2;
    case NpyDtype::kFloat32:
    case NpyDtype::kInt32:
      return 4;
    case NpyDtype::kBool:
      return 1;
    default:
      return 8;
  }
}

const char* Descr(NpyDtype d) {
  switch (d) {
    case NpyDtype::kFloat16:
      return "<f2";
    case NpyDtype::kFloat32:
      return "<f4";
    case NpyDtype::kInt32:
      return "<i4";
    case NpyDtype::kInt64:
      return "<i8";
    case NpyDtype::kBool:
      return "|b1";
    default:
      return "<f8";
  }
}

struct NpyHeader {
  std::optional<std::string> descr;
  std::optional<bool> fortran_order;
  std::optional<std::vector<int64_t>> shape;
};

/// Parses the header NumPy writes: a Python dict literal with the keys 'descr' (a string),
/// 'fortran_order' (True or False) and 'shape' (a tuple of non-negative ints), optionally
/// followed by whitespace. Anything else is an error naming what was found.
class HeaderParser {
 public:
  explicit HeaderParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<NpyHeader> Parse() {
    NpyHeader h;
    if (!Consume('{')) return Bad("the header is not a dict literal");
    while (!Consume('}')) {
      absl::StatusOr<std::string> key = String();
      if (!key.ok()) return key.status();
      if (!Consume(':')) return Bad(absl::StrCat("no ':' after key '", *key, "'"));
      absl::Status s = Value(*key, &h);
      if (!s.ok()) return s;
      if (!Consume(',') && !Peek('}')) return Bad(absl::StrCat("no ',' after '", *key, "'"));
    }
    SkipSpace();
    if (pos_ != text_.size()) return Bad("the header has text after its dict");
    if (!h.descr || !h.fortran_order || !h.shape) {
      return Bad("the header lacks 'descr', 'fortran_order' or 'shape'");
    }
    return h;
  }

 private:
  absl::Status Value(const std::string& key, NpyHeader* h) {
    if (key == "descr" && !h->descr) {
      if (Peek('[')) return Bad("structured dtypes are not supported; save a plain float array");
      absl::StatusOr<std::string> d = String();
      if (!d.ok()) return d.status();
      h->descr = *std::move(d);
    } else if (key == "fortran_order" && !h->fortran_order) {
      if (Word("True")) {
        h->fortran_order = true;
      } else if (Word("False")) {
        h->fortran_order = false;
      } else {
        return Bad("'fortran_order' is not True or False");
      }
    } else if (key == "shape" && !h->shape) {
      absl::StatusOr<std::vector<int64_t>> shape = Shape();
      if (!shape.ok()) return shape.status();
      h->shape = *std::move(shape);
    } else {
      return Bad(absl::StrCat("unexpected or repeated key '", key.substr(0, 40), "'"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<int64_t>> Shape() {
    if (!Consume('(')) return Bad("'shape' is not a tuple");
    std::vector<int64_t> dims;
    while (!Consume(')')) {
      if (dims.size() == kMaxNpyRank) {
        return Bad(absl::StrCat("'shape' has more than ", kMaxNpyRank, " dimensions"));
      }
      absl::StatusOr<int64_t> d = Dim();
      if (!d.ok()) return d.status();
      dims.push_back(*d);
      if (!Consume(',') && !Peek(')')) return Bad("'shape' is not a tuple of integers");
    }
    return dims;
  }

  absl::StatusOr<int64_t> Dim() {
    SkipSpace();
    int64_t v = 0;
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, text_[pos_] - '0', &v)) {
        return Bad("a dimension of 'shape' does not fit in 64 bits");
      }
      ++pos_;
    }
    if (pos_ == start) return Bad("'shape' is not a tuple of non-negative integers");
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 longs
    return v;
  }

  absl::StatusOr<std::string> String() {
    SkipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return Bad("expected a quoted string");
    }
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == absl::string_view::npos) return Bad("a string is not closed");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  bool Word(absl::string_view w) {
    SkipSpace();
    if (text_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  bool Consume(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  bool Peek(char c) {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  absl::Status Bad(absl::string_view why) const {
    return absl::InvalidArgumentError(absl::StrCat(why, " (at byte ", pos_, " of the header)"));
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

/// The header's offset and length after magic and version; checks the header cap.
absl::StatusOr<std::pair<size_t, size_t>> HeaderRange(const core::RegularFile& file) {
  unsigned char prefix[12] = {};
  if (file.size() < 10) return absl::InvalidArgumentError("not a .npy file (too short)");
  if (absl::Status s = file.ReadAt(0, prefix, 10); !s.ok()) return s;
  if (std::memcmp(prefix, kMagic, 6) != 0) {
    return absl::InvalidArgumentError("not a .npy file (no \\x93NUMPY magic)");
  }
  const int major = prefix[6];
  const int minor = prefix[7];
  if (major < 1 || major > 3 || minor != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported .npy version ", major, ".", minor, "; 1.0 to 3.0 are read"));
  }
  size_t length = prefix[8] | (size_t{prefix[9]} << 8);
  size_t start = 10;
  if (major >= 2) {
    if (file.size() < 12) return absl::InvalidArgumentError("truncated header");
    if (absl::Status s = file.ReadAt(10, prefix + 10, 2); !s.ok()) return s;
    length = prefix[8] | (size_t{prefix[9]} << 8) | (size_t{prefix[10]} << 16) |
             (size_t{prefix[11]} << 24);
    start = 12;
  }
  if (length > kMaxNpyHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the header is ", length,
                                                   " bytes, more than the ", kMaxNpyHeaderBytes,
                                                   " NumPy reads by default"));
  }
  if (file.size() - start < length) return absl::InvalidArgumentError("truncated header");
  return std::make_pair(start, length);
}

absl::StatusOr<NpyDtype> DtypeOf(const std::string& descr) {
  if (descr == "<f2") return NpyDtype::kFloat16;
  if (descr == "<f4") return NpyDtype::kFloat32;
  if (descr == "<f8") return NpyDtype::kFloat64;
  if (descr == "<i4") return NpyDtype::kInt32;
  if (descr == "<i8") return NpyDtype::kInt64;
  if (descr == "|b1") return NpyDtype::kBool;
  return absl::InvalidArgumentError(
      absl::StrCat("dtype '", descr.substr(0, 40),
                   "' is not supported; use float16, float32, float64, int32, int64 or bool"));
}

/// The element count of `shape`, refused past `max_elements` (so never overflowing).
absl::StatusOr<uint64_t> CheckedNumel(const std::vector<int64_t>& shape, uint64_t max_elements) {
  uint64_t numel = 1;
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel) || numel > max_elements) {
      return absl::ResourceExhaustedError(absl::StrCat("shape ", NpyShapeString(shape),
                                                       " has more than the ", max_elements,
                                                       " elements allowed here"));
    }
  }
  return numel;
}

/// Integer and bool elements into `ints` (exact) and `values`.
void DecodeIntegers(const std::string& bytes, NpyDtype dtype, std::vector<float>* values,
                    std::vector<int64_t>* ints) {
  const size_t elem = ElementSize(dtype);
  ints->resize(values->size());
  for (size_t i = 0; i < values->size(); ++i) {
    const char* p = bytes.data() + i * elem;
    int64_t x = 0;
    if (dtype == NpyDtype::kInt32) {
      int32_t v;
      std::memcpy(&v, p, 4);
      x = v;
    } else if (dtype == NpyDtype::kInt64) {
      std::memcpy(&x, p, 8);
    } else {
      x = *p != 0 ? 1 : 0;
    }
    (*ints)[i] = x;
    (*values)[i] = static_cast<float>(x);
  }
}

void Decode(const std::string& bytes, NpyDtype dtype, std::vector<float>* values) {
  const size_t elem = ElementSize(dtype);
  for (size_t i = 0; i < values->size(); ++i) {
    const char* p = bytes.data() + i * elem;
    if (dtype == NpyDtype::kFloat16) {
      uint16_t h;
      std::memcpy(&h, p, 2);
      (*values)[i] = mil::HalfToFloat(h);
    } else if (dtype == NpyDtype::kFloat32) {
      std::memcpy(&(*values)[i], p, 4);
    } else {
      double d;
      std::memcpy(&d, p, 8);
      (*values)[i] = static_cast<float>(d);
    }
  }
}

absl::StatusOr<NpyArray> ReadOpened(const core::RegularFile& file, const NpyReadLimits& limits) {
  absl::StatusOr<std::pair<size_t, size_t>> range = HeaderRange(file);
  if (!range.ok()) return range.status();
  std::string text(range->second, '\0');
  if (absl::Status s = file.ReadAt(range->first, text.data(), text.size()); !s.ok()) return s;
  absl::StatusOr<NpyHeader> header = HeaderParser(text).Parse();
  if (!header.ok()) return header.status();
  NpyArray a;
  absl::StatusOr<NpyDtype> dtype = DtypeOf(*header->descr);
  if (!dtype.ok()) return dtype.status();
  a.dtype = *dtype;
  if (*header->fortran_order) {
    return absl::InvalidArgumentError("Fortran-order arrays are not supported; save in C order");
  }
  a.shape = *std::move(header->shape);
  absl::StatusOr<uint64_t> numel = CheckedNumel(a.shape, limits.max_elements);
  if (!numel.ok()) return numel.status();
  const uint64_t offset = range->first + range->second;
  const uint64_t have = file.size() - offset;
  uint64_t need = 0;
  if (__builtin_mul_overflow(*numel, ElementSize(a.dtype), &need) || have != need) {
    return absl::DataLossError(absl::StrCat("holds ", have, " data bytes, shape ",
                                            NpyShapeString(a.shape), " needs ", need));
  }
  std::string bytes(static_cast<size_t>(need), '\0');
  if (absl::Status s = file.ReadAt(offset, bytes.data(), bytes.size()); !s.ok()) return s;
  a.values.resize(static_cast<size_t>(*numel));
  if (IsIntegerNpy(a.dtype)) {
    DecodeIntegers(bytes, a.dtype, &a.values, &a.ints);
  } else {
    Decode(bytes, a.dtype, &a.values);
  }
  return a;
}

}  // namespace

bool IsIntegerNpy(NpyDtype d) {
  return d == NpyDtype::kInt32 || d == NpyDtype::kInt64 || d == NpyDtype::kBool;
}

std::string NpyShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("(", absl::StrJoin(shape, ", "), shape.size() == 1 ? ",)" : ")");
}

absl::StatusOr<NpyArray> ReadNpy(const std::filesystem::path& path, const NpyReadLimits& limits) {
  absl::StatusOr<core::RegularFile> file = core::RegularFile::Open(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<NpyArray> array = ReadOpened(*file, limits);
  if (!array.ok()) {
    return absl::Status(array.status().code(),
                        absl::StrCat(path.string(), ": ", array.status().message()));
  }
  return array;
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
  const bool from_ints = IsIntegerNpy(dtype) && array.ints.size() == array.values.size();
  for (size_t i = 0; i < array.values.size(); ++i) {
    const float v = array.values[i];
    if (IsIntegerNpy(dtype)) {
      const int64_t x = from_ints ? array.ints[i] : static_cast<int64_t>(v);
      if (dtype == NpyDtype::kInt64) {
        out.append(reinterpret_cast<const char*>(&x), 8);
      } else if (dtype == NpyDtype::kInt32) {
        const int32_t x32 = static_cast<int32_t>(x);
        out.append(reinterpret_cast<const char*>(&x32), 4);
      } else {
        out += static_cast<char>(x != 0 ? 1 : 0);
      }
    } else if (dtype == NpyDtype::kFloat16) {
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
