#include "core/model/zip_archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/base/errors.h"

namespace ts2coreml::core {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr size_t kEndSize = 22;
constexpr size_t kCentralSize = 46;
constexpr size_t kLocalSize = 30;
constexpr size_t kZip64EndSize = 56;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kChunk = size_t{1} << 20;

absl::Status Bad(absl::string_view what) { return Error(ErrorClass::kModel, what); }

uint16_t U16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | (static_cast<uint8_t>(p[1]) << 8));
}
uint32_t U32(const char* p) { return U16(p) | (static_cast<uint32_t>(U16(p + 2)) << 16); }
uint64_t U64(const char* p) { return U32(p) | (static_cast<uint64_t>(U32(p + 4)) << 32); }

/// Whether [offset, offset + n) lies inside [0, limit) without overflowing.
bool Inside(uint64_t offset, uint64_t n, uint64_t limit) {
  return offset <= limit && n <= limit - offset;
}

/// Where the archive's central directory is, from the end records.
struct Directory {
  uint64_t entries = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t end = 0;  ///< where the end records start: the directory must end before
};

/// The zip64 end record, when a locator sits just before the classic end record.
absl::Status ReadZip64End(const ByteSource& src, uint64_t eocd, Directory* dir) {
  if (eocd < kZip64LocatorSize) return absl::OkStatus();
  char loc[kZip64LocatorSize];
  absl::Status s = src.ReadAt(eocd - kZip64LocatorSize, sizeof(loc), loc);
  if (!s.ok() || U32(loc) != kZip64LocatorSig) return absl::OkStatus();
  const uint64_t at = U64(loc + 8);
  if (!Inside(at, kZip64EndSize, eocd - kZip64LocatorSize)) {
    return Bad("zip64 end-of-directory record lies outside the file");
  }
  char rec[kZip64EndSize];
  s = src.ReadAt(at, sizeof(rec), rec);
  if (!s.ok()) return s;
  if (U32(rec) != kZip64EndSig) return Bad("zip64 end-of-directory record has a bad signature");
  if (U32(rec + 16) != 0 || U32(rec + 20) != 0)
    return Bad("multi-disk zip archives are not supported");
  dir->entries = U64(rec + 32);
  dir->size = U64(rec + 40);
  dir->offset = U64(rec + 48);
  dir->end = at;
  return absl::OkStatus();
}

/// Finds the end-of-central-directory record (searching back over a comment) and reads it.
absl::StatusOr<Directory> ReadEnd(const ByteSource& src) {
  const uint64_t size = src.size();
  if (size < kEndSize) return Bad("too short for a zip archive (no end-of-directory record)");
  const uint64_t tail = std::min<uint64_t>(size, kEndSize + 0xFFFF);
  std::string buf(tail, '\0');
  absl::Status s = src.ReadAt(size - tail, tail, buf.data());
  if (!s.ok()) return s;
  // LibTorch's reader (miniz) takes the last signature with a record's length after it, whatever
  // its comment length says; a later signature inside the comment would make it read another
  // directory than the one checked here.
  for (uint64_t i = tail - kEndSize + 1; i-- > 0;) {
    const char* p = buf.data() + i;
    if (U32(p) != kEndSig) continue;
    if (i + kEndSize + U16(p + 20) != tail) {
      return Bad(
          "the last end-of-directory signature is not followed by exactly its comment (bytes after the archive, or a second end record inside its comment)");
    }
    if (U16(p + 4) != 0 || U16(p + 6) != 0) return Bad("multi-disk zip archives are not supported");
    Directory dir{U16(p + 10), U32(p + 16), U32(p + 12), size - tail + i};
    s = ReadZip64End(src, dir.end, &dir);
    if (!s.ok()) return s;
    return dir;
  }
  return Bad("no zip end-of-directory record (the file is truncated or not a zip archive)");
}

/// Replaces 0xFFFFFFFF fields of a central header by the values of its zip64 extra field.
absl::Status ApplyZip64Extra(absl::string_view extra, ZipEntry* e, bool need_usize, bool need_csize,
                             bool need_offset) {
  while (extra.size() >= 4) {
    const uint16_t id = U16(extra.data()), len = U16(extra.data() + 2);
    if (len > extra.size() - 4)
      return Bad(absl::StrCat("entry '", e->name, "': extra field runs past its header"));
    absl::string_view body = extra.substr(4, len);
    extra.remove_prefix(4 + len);
    if (id != 1) continue;
    for (auto [need, field] :
         {std::pair{need_usize, &e->uncompressed_size}, std::pair{need_csize, &e->compressed_size},
          std::pair{need_offset, &e->local_offset}}) {
      if (!need) continue;
      if (body.size() < 8)
        return Bad(absl::StrCat("entry '", e->name, "': zip64 extra field is too short"));
      *field = U64(body.data());
      body.remove_prefix(8);
    }
    return absl::OkStatus();
  }
  if (need_usize || need_csize || need_offset) {
    return Bad(absl::StrCat("entry '", e->name, "': zip64 sizes are missing from its extra field"));
  }
  return absl::OkStatus();
}

/// Parses the central header at `*pos` of `cd`, advancing `*pos`.
absl::StatusOr<ZipEntry> ParseCentral(absl::string_view cd, size_t* pos) {
  if (cd.size() - *pos < kCentralSize || U32(cd.data() + *pos) != kCentralSig) {
    return Bad("central directory entry is truncated or has a bad signature");
  }
  const char* p = cd.data() + *pos;
  const size_t nlen = U16(p + 28), elen = U16(p + 30), clen = U16(p + 32);
  if (cd.size() - *pos - kCentralSize < nlen + elen + clen)
    return Bad("central directory entry runs past the directory");
  ZipEntry e;
  e.name = std::string(p + kCentralSize, nlen);
  const uint16_t flags = U16(p + 8);
  e.method = U16(p + 10);
  e.crc32 = U32(p + 16);
  e.compressed_size = U32(p + 20);
  e.uncompressed_size = U32(p + 24);
  e.local_offset = U32(p + 42);
  *pos += kCentralSize + nlen + elen + clen;
  if (e.name.empty() || e.name.find('\0') != std::string::npos)
    return Bad("an entry has an empty or invalid name");
  if (flags & 1) return Bad(absl::StrCat("entry '", e.name, "' is encrypted"));
  if (e.method != 0 && e.method != 8) {
    return Bad(absl::StrCat("entry '", e.name, "' uses compression method ", e.method,
                            " (only stored and deflate are read)"));
  }
  absl::Status s = ApplyZip64Extra(absl::string_view(p + kCentralSize + nlen, elen), &e,
                                   e.uncompressed_size == 0xFFFFFFFF,
                                   e.compressed_size == 0xFFFFFFFF, e.local_offset == 0xFFFFFFFF);
  if (!s.ok()) return s;
  if (e.method == 0 && e.compressed_size != e.uncompressed_size) {
    return Bad(absl::StrCat("entry '", e.name, "' is stored but states ", e.compressed_size,
                            " compressed and ", e.uncompressed_size, " uncompressed bytes"));
  }
  return e;
}

/// Reads the local header of `e`, checks it against the central one and sets data_offset.
absl::Status ReadLocal(const ByteSource& src, uint64_t data_end, ZipEntry* e) {
  char h[kLocalSize];
  if (!Inside(e->local_offset, kLocalSize, data_end)) {
    return Bad(
        absl::StrCat("entry '", e->name, "': local header lies outside the file's data area"));
  }
  absl::Status s = src.ReadAt(e->local_offset, kLocalSize, h);
  if (!s.ok()) return s;
  if (U32(h) != kLocalSig)
    return Bad(absl::StrCat("entry '", e->name, "': local header has a bad signature"));
  const uint16_t flags = U16(h + 6), nlen = U16(h + 26), elen = U16(h + 28);
  if (U16(h + 8) != e->method)
    return Bad(absl::StrCat("entry '", e->name,
                            "': local and central headers disagree on the compression method"));
  const bool descriptor = flags & 8;
  const uint32_t lcrc = U32(h + 14), lcsize = U32(h + 18), lusize = U32(h + 22);
  const auto agrees = [&](uint32_t local, uint64_t central) {
    return (descriptor && local == 0) || local == 0xFFFFFFFF || local == central;
  };
  if (!agrees(lcrc, e->crc32) || !agrees(lcsize, e->compressed_size) ||
      !agrees(lusize, e->uncompressed_size)) {
    return Bad(absl::StrCat("entry '", e->name,
                            "': local and central headers state different sizes or CRC-32"));
  }
  e->data_offset = e->local_offset + kLocalSize + nlen + elen;
  if (!Inside(e->data_offset, e->compressed_size, data_end)) {
    return Bad(absl::StrCat("entry '", e->name, "': its ", e->compressed_size,
                            " bytes of data run past the file's data area (truncated file?)"));
  }
  std::string local_name(nlen, '\0');
  s = src.ReadAt(e->local_offset + kLocalSize, nlen, local_name.data());
  if (!s.ok()) return s;
  if (local_name != e->name) {
    return Bad(absl::StrCat("entry '", e->name, "': its local header names it '", local_name, "'"));
  }
  return absl::OkStatus();
}

/// Refuses entries whose local header and data overlap the next entry's.
absl::Status CheckNoOverlap(const std::vector<ZipEntry>& entries) {
  std::vector<const ZipEntry*> order;
  order.reserve(entries.size());
  for (const ZipEntry& e : entries) order.push_back(&e);
  std::sort(order.begin(), order.end(),
            [](const ZipEntry* a, const ZipEntry* b) { return a->local_offset < b->local_offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    const ZipEntry& prev = *order[i - 1];
    if (prev.data_offset + prev.compressed_size > order[i]->local_offset) {
      return Bad(
          absl::StrCat("entries '", prev.name, "' and '", order[i]->name, "' overlap in the file"));
    }
  }
  return absl::OkStatus();
}

/// Reads the central directory bytes the end record points at.
absl::StatusOr<std::string> ReadCentralBytes(const ByteSource& src, const Directory& dir,
                                             const ZipLimits& limits) {
  if (dir.entries > limits.max_entries) {
    return Bad(absl::StrCat("the archive states ", dir.entries, " entries, more than the ",
                            limits.max_entries, " read"));
  }
  if (!Inside(dir.offset, dir.size, dir.end))
    return Bad("the central directory lies outside the file");
  if (dir.size > dir.entries * (kCentralSize + 3 * 0xFFFF))
    return Bad("the central directory is larger than its entries can be");
  std::string cd(dir.size, '\0');
  absl::Status s = src.ReadAt(dir.offset, dir.size, cd.data());
  if (!s.ok()) return s;
  return cd;
}

using Emit = std::function<absl::Status(const char* data, size_t n)>;

/// Passes a stored entry's bytes to `emit` in pieces.
absl::Status StreamStored(const ByteSource& src, const ZipEntry& e, const Emit& emit) {
  std::string in(std::min<uint64_t>(kChunk, e.compressed_size), '\0');
  for (uint64_t done = 0; done < e.compressed_size;) {
    const size_t n = std::min<uint64_t>(in.size(), e.compressed_size - done);
    absl::Status s = src.ReadAt(e.data_offset + done, n, in.data());
    if (s.ok()) s = emit(in.data(), n);
    if (!s.ok()) return s;
    done += n;
  }
  return absl::OkStatus();
}

/// One step of inflating: feeds more input when zlib needs it and emits what it produced.
absl::Status InflateStep(const ByteSource& src, const ZipEntry& e, const Emit& emit, z_stream* z,
                         std::string* in, std::string* out, uint64_t* consumed, int* zr) {
  if (z->avail_in == 0) {
    if (*consumed == e.compressed_size) {
      return Bad(absl::StrCat("entry '", e.name, "': its deflate stream ends early"));
    }
    const size_t n = std::min<uint64_t>(in->size(), e.compressed_size - *consumed);
    absl::Status s = src.ReadAt(e.data_offset + *consumed, n, in->data());
    if (!s.ok()) return s;
    *consumed += n;
    z->next_in = reinterpret_cast<Bytef*>(in->data());
    z->avail_in = static_cast<uInt>(n);
  }
  z->next_out = reinterpret_cast<Bytef*>(out->data());
  z->avail_out = static_cast<uInt>(out->size());
  *zr = inflate(z, Z_NO_FLUSH);
  if (*zr != Z_OK && *zr != Z_STREAM_END) {
    return Bad(absl::StrCat("entry '", e.name, "': its deflate data is corrupt"));
  }
  return emit(out->data(), out->size() - z->avail_out);
}

/// Inflates a deflated entry in pieces, passing the output to `emit`.
absl::Status StreamDeflated(const ByteSource& src, const ZipEntry& e, const Emit& emit) {
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
    return Error(ErrorClass::kInternal, "zlib could not start inflating; out of memory?");
  }
  std::string in(std::min<uint64_t>(kChunk, std::max<uint64_t>(e.compressed_size, 1)), '\0');
  std::string out(kChunk, '\0');
  uint64_t consumed = 0;
  int zr = Z_OK;
  absl::Status s = absl::OkStatus();
  while (s.ok() && zr != Z_STREAM_END) s = InflateStep(src, e, emit, &z, &in, &out, &consumed, &zr);
  inflateEnd(&z);
  return s;
}

/// Feeds the entry's uncompressed bytes, in pieces, to `sink`; checks the size and CRC-32.
absl::Status StreamEntry(const ByteSource& src, const ZipEntry& e, const Emit& sink) {
  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t produced = 0;
  const Emit checked = [&](const char* data, size_t n) -> absl::Status {
    if (n > e.uncompressed_size - produced) {
      return Bad(absl::StrCat("entry '", e.name, "' inflates to more than the ",
                              e.uncompressed_size, " bytes it states"));
    }
    produced += n;
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(n));
    return sink(data, n);
  };
  absl::Status s = e.method == 0 ? StreamStored(src, e, checked) : StreamDeflated(src, e, checked);
  if (!s.ok()) return s;
  if (produced != e.uncompressed_size) {
    return Bad(absl::StrCat("entry '", e.name, "' holds ", produced, " bytes, not the ",
                            e.uncompressed_size, " it states"));
  }
  if (crc != e.crc32) {
    return Bad(absl::StrCat("entry '", e.name, "' fails its CRC-32 check (the file is corrupt)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MemorySource::ReadAt(uint64_t offset, size_t n, char* out) const {
  if (!Inside(offset, n, bytes_.size())) return Bad("read past the end of the file");
  if (n > 0) std::memcpy(out, bytes_.data() + offset, n);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Bad(absl::StrCat("cannot be opened for reading: ", std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Bad("is not a regular file");
  }
  return std::unique_ptr<FileSource>(new FileSource(fd, static_cast<uint64_t>(st.st_size)));
}

FileSource::~FileSource() { ::close(fd_); }

absl::Status FileSource::ReadAt(uint64_t offset, size_t n, char* out) const {
  if (!Inside(offset, n, size_)) return Bad("read past the end of the file");
  while (n > 0) {
    const ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      return Bad(absl::StrCat("read error: ",
                              got < 0 ? std::strerror(errno) : "the file shrank while being read"));
    out += got;
    offset += static_cast<uint64_t>(got);
    n -= static_cast<size_t>(got);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ZipEntry>> ReadZipDirectory(const ByteSource& source,
                                                       const ZipLimits& limits) {
  absl::StatusOr<Directory> dir = ReadEnd(source);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<std::string> cd = ReadCentralBytes(source, *dir, limits);
  if (!cd.ok()) return cd.status();
  std::vector<ZipEntry> entries;
  // LibTorch's reader looks names up ignoring ASCII case: names must differ in more than case.
  std::unordered_map<std::string, size_t> names;
  uint64_t inflation = 0;
  size_t pos = 0;
  for (uint64_t i = 0; i < dir->entries; ++i) {
    absl::StatusOr<ZipEntry> e = ParseCentral(*cd, &pos);
    if (!e.ok()) return e.status();
    const auto [seen, added] = names.emplace(absl::AsciiStrToLower(e->name), entries.size());
    if (!added && entries[seen->second].name == e->name) {
      return Bad(absl::StrCat("entry '", e->name, "' appears twice in the archive"));
    }
    if (!added) {
      return Bad(
          absl::StrCat("entries '", entries[seen->second].name, "' and '", e->name,
                       "' differ only in letter case (LibTorch looks entries up ignoring case)"));
    }
    absl::Status s = ReadLocal(source, dir->offset, &*e);
    if (!s.ok()) return s;
    if (e->uncompressed_size > e->compressed_size) {
      inflation += e->uncompressed_size - e->compressed_size;
      if (inflation > limits.max_inflation) {
        return Bad(absl::StrCat("entry '", e->name, "' inflates to ", e->uncompressed_size,
                                " bytes from ", e->compressed_size,
                                ": the archive would expand by more than ",
                                limits.max_inflation >> 20, " MiB (a zip bomb?)"));
      }
    }
    entries.push_back(std::move(*e));
  }
  if (pos != cd->size()) return Bad("the central directory holds more bytes than its entries");
  absl::Status s = CheckNoOverlap(entries);
  if (!s.ok()) return s;
  return entries;
}

absl::Status VerifyZipEntry(const ByteSource& source, const ZipEntry& entry) {
  return StreamEntry(source, entry, [](const char*, size_t) { return absl::OkStatus(); });
}

absl::StatusOr<std::string> ReadZipEntry(const ByteSource& source, const ZipEntry& entry,
                                         uint64_t max_bytes) {
  if (entry.uncompressed_size > max_bytes) {
    return Bad(absl::StrCat("entry '", entry.name, "' is ", entry.uncompressed_size,
                            " bytes, more than the ", max_bytes, " read"));
  }
  std::string out;
  out.reserve(entry.uncompressed_size);
  absl::Status s = StreamEntry(source, entry, [&out](const char* data, size_t n) {
    out.append(data, n);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace ts2coreml::core
