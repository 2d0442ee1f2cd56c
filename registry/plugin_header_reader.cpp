/// Reading a plugin library's dynamic symbols and header with libelf.
#include "registry/plugin_header_reader.h"

#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ts2coreml::registry {
namespace {

constexpr unsigned char kHostClass = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr unsigned char kHostByteOrder = ELFDATA2LSB;
#else
constexpr unsigned char kHostByteOrder = ELFDATA2MSB;
#endif
#if defined(__x86_64__)
constexpr int kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr int kHostMachine = EM_AARCH64;
#else
constexpr int kHostMachine = -1;  // not checked here: dlopen refuses a foreign library unrun
#endif

struct ElfEnd {
  void operator()(Elf* elf) const { elf_end(elf); }
};
using ElfHandle = std::unique_ptr<Elf, ElfEnd>;

absl::Status NotLoadable(absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat("not a loadable plugin library: ", why));
}

absl::Status NoEntry(absl::string_view how) {
  return absl::FailedPreconditionError(absl::StrCat(
      "does not export ", T2C_ENTRY_SYMBOL, how,
      "; is it a ts2coreml plugin? Plugins define it with TS2COREML_PLUGIN in ts2coreml/sdk.h"));
}

absl::Status BadHeader(absl::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat(T2C_HEADER_SYMBOL, " ", why, "; rebuild the plugin against the ts2coreml SDK"));
}

absl::Status CheckElfHeader(Elf* elf) {
  if (elf == nullptr || elf_kind(elf) != ELF_K_ELF) {
    return NotLoadable("invalid ELF header (not an ELF file)");
  }
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf, &ehdr) == nullptr) {
    return NotLoadable(absl::StrCat("unreadable ELF header (", elf_errmsg(-1), ")"));
  }
  if (ehdr.e_ident[EI_CLASS] != kHostClass || ehdr.e_ident[EI_DATA] != kHostByteOrder ||
      (kHostMachine >= 0 && ehdr.e_machine != kHostMachine)) {
    return NotLoadable(absl::StrCat("built for another architecture (ELF machine ", ehdr.e_machine,
                                    "); rebuild the plugin for this machine"));
  }
  if (ehdr.e_type != ET_DYN) {
    return NotLoadable(absl::StrCat("not a shared library (ELF type ", ehdr.e_type,
                                    "); build the plugin as a MODULE library"));
  }
  return absl::OkStatus();
}

/// The library's exported symbols: the SHT_DYNSYM section, as dlopen sees them.
struct DynamicSymbols {
  Elf* elf = nullptr;
  Elf_Data* data = nullptr;
  size_t count = 0;
  size_t strings = 0;  ///< section index of the names

  /// The first symbol called `name`, preferring a defined one over an undefined reference.
  std::optional<GElf_Sym> Find(std::string_view name) const {
    std::optional<GElf_Sym> found;
    for (size_t i = 1; i < count; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) break;
      const char* text = elf_strptr(elf, strings, sym.st_name);
      if (text == nullptr || name != text) continue;
      if (sym.st_shndx != SHN_UNDEF) return sym;
      if (!found.has_value()) found = sym;
    }
    return found;
  }
};

absl::StatusOr<DynamicSymbols> FindDynamicSymbols(Elf* elf) {
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) {
      return NotLoadable(absl::StrCat("unreadable section header (", elf_errmsg(-1), ")"));
    }
    if (shdr.sh_type != SHT_DYNSYM) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (shdr.sh_entsize == 0 || data == nullptr) {
      return NotLoadable(absl::StrCat("unreadable dynamic symbol table (", elf_errmsg(-1), ")"));
    }
    return DynamicSymbols{elf, data, shdr.sh_size / shdr.sh_entsize, shdr.sh_link};
  }
  return NotLoadable("no dynamic symbol table; build the plugin as a MODULE library");
}

absl::Status CheckEntry(const std::optional<GElf_Sym>& entry) {
  if (!entry.has_value()) return NoEntry("");
  if (entry->st_shndx == SHN_UNDEF) {
    return NoEntry(" (it is declared but not defined, so it would be null)");
  }
  if (GELF_ST_TYPE(entry->st_info) != STT_FUNC || GELF_ST_BIND(entry->st_info) == STB_LOCAL) {
    return NoEntry(
        absl::StrCat(" as a global function (ELF symbol type ", GELF_ST_TYPE(entry->st_info), ")"));
  }
  return absl::OkStatus();
}

/// The bytes of `sym` in the file: bounds-checked against its section, which must hold file data.
absl::StatusOr<const unsigned char*> SymbolBytes(Elf* elf, const GElf_Sym& sym) {
  if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE) {
    return BadHeader("is not defined in a section of the library");
  }
  Elf_Scn* scn = elf_getscn(elf, sym.st_shndx);
  GElf_Shdr shdr;
  if (scn == nullptr || gelf_getshdr(scn, &shdr) == nullptr) {
    return BadHeader("points to a section the library does not have");
  }
  if (shdr.sh_type != SHT_PROGBITS) return BadHeader("is not initialized data in the file");
  Elf_Data* data = elf_rawdata(scn, nullptr);
  const uint64_t offset = sym.st_value - shdr.sh_addr;
  if (data == nullptr || data->d_buf == nullptr || sym.st_value < shdr.sh_addr ||
      offset > data->d_size || sym.st_size > data->d_size - offset) {
    return BadHeader("lies outside the section that holds it");
  }
  return static_cast<const unsigned char*>(data->d_buf) + offset;
}

absl::StatusOr<t2c_plugin_header> ReadHeader(Elf* elf, const GElf_Sym& sym) {
  if (GELF_ST_TYPE(sym.st_info) != STT_OBJECT) {
    return BadHeader(
        absl::StrCat("is not a data object (ELF symbol type ", GELF_ST_TYPE(sym.st_info), ")"));
  }
  if (sym.st_size < T2C_PLUGIN_HEADER_MIN_SIZE) {
    return BadHeader(absl::StrCat("is ", sym.st_size, " bytes, below the first published layout's ",
                                  T2C_PLUGIN_HEADER_MIN_SIZE));
  }
  absl::StatusOr<const unsigned char*> bytes = SymbolBytes(elf, sym);
  if (!bytes.ok()) return bytes.status();
  uint32_t magic_and_size[2];
  std::memcpy(magic_and_size, *bytes, sizeof(magic_and_size));
  if (magic_and_size[0] != T2C_HEADER_MAGIC) {
    return BadHeader(absl::StrCat("has magic 0x", absl::Hex(magic_and_size[0]), ", expected 0x",
                                  absl::Hex(T2C_HEADER_MAGIC)));
  }
  const uint32_t size = magic_and_size[1];
  if (size < T2C_PLUGIN_HEADER_MIN_SIZE || size > sym.st_size) {
    return BadHeader(absl::StrCat("declares header_size ", size, " but holds ", sym.st_size,
                                  " bytes (the first published layout has ",
                                  T2C_PLUGIN_HEADER_MIN_SIZE, ")"));
  }
  t2c_plugin_header header{};
  std::memcpy(&header, *bytes, std::min<size_t>(size, sizeof(header)));
  return header;
}

}  // namespace

absl::StatusOr<PluginFileFacts> ReadPluginFileFacts(int fd) {
  static const bool kLibelfReady = elf_version(EV_CURRENT) != EV_NONE;
  if (!kLibelfReady) {
    return absl::InternalError(absl::StrCat("libelf cannot be initialized: ", elf_errmsg(-1)));
  }
  ElfHandle elf(elf_begin(fd, ELF_C_READ, nullptr));
  if (absl::Status s = CheckElfHeader(elf.get()); !s.ok()) return s;
  absl::StatusOr<DynamicSymbols> symbols = FindDynamicSymbols(elf.get());
  if (!symbols.ok()) return symbols.status();
  if (absl::Status s = CheckEntry(symbols->Find(T2C_ENTRY_SYMBOL)); !s.ok()) return s;
  PluginFileFacts facts;
  if (std::optional<GElf_Sym> header = symbols->Find(T2C_HEADER_SYMBOL); header.has_value()) {
    absl::StatusOr<t2c_plugin_header> read = ReadHeader(elf.get(), *header);
    if (!read.ok()) return read.status();
    facts.header = *read;
  }
  return facts;
}

}  // namespace ts2coreml::registry
