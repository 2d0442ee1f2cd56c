// The zip directory walk and entry verification on archives built in memory.
#include "core/model/zip_archive.h"

#include <string>
#include <vector>

#include "core/base/errors.h"
#include "core/model/zip_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using test::MakeZip;
using test::ZipMember;
using ::testing::HasSubstr;

std::string Error(const absl::Status& s) {
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(ClassOf(s), ErrorClass::kModel) << s;
  EXPECT_EQ(std::string(s.message()).find('\n'), std::string::npos) << s;
  return std::string(s.message());
}

/// Reads the directory and verifies every entry, as the pre-check does.
absl::Status ReadAll(const std::string& zip, const ZipLimits& limits = {}) {
  MemorySource source(zip);
  absl::StatusOr<std::vector<ZipEntry>> entries = ReadZipDirectory(source, limits);
  if (!entries.ok()) return entries.status();
  for (const ZipEntry& e : *entries) {
    absl::Status s = VerifyZipEntry(source, e);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

TEST(ZipArchiveTest, ReadsStoredAndDeflatedEntries) {
  const std::string text(5000, 'x');
  const std::string zip = MakeZip({{"m/a.txt", "hello"}, {"m/b.txt", text, /*deflate=*/true}});
  MemorySource source(zip);
  absl::StatusOr<std::vector<ZipEntry>> entries = ReadZipDirectory(source);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "m/a.txt");
  EXPECT_EQ((*entries)[1].method, 8);
  absl::StatusOr<std::string> b = ReadZipEntry(source, (*entries)[1], 1 << 20);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*b, text);
  EXPECT_THAT(Error(ReadZipEntry(source, (*entries)[1], 100).status()),
              HasSubstr("more than the 100"));
}

TEST(ZipArchiveTest, RefusesDuplicateNames) {
  EXPECT_THAT(Error(ReadAll(MakeZip({{"m/a", "1"}, {"m/a", "2"}}))),
              HasSubstr("entry 'm/a' appears twice"));
}

TEST(ZipArchiveTest, RefusesNamesThatDifferOnlyInCase) {
  // LibTorch's reader finds "m/code/a.py" under "m/CODE/a.py": both would be one name to it.
  EXPECT_THAT(Error(ReadAll(MakeZip({{"m/code/a.py", "1"}, {"m/CODE/a.py", "2"}}))),
              HasSubstr("entries 'm/code/a.py' and 'm/CODE/a.py' differ only in letter case"));
}

TEST(ZipArchiveTest, RefusesASecondEndRecordInTheComment) {
  // A fake end record in the comment of the real one: LibTorch's reader takes the last signature
  // and would read whatever directory the fake one points at.
  std::string fake = MakeZip({{"m/b", "other"}});
  fake = fake.substr(fake.size() - 22);
  std::string zip = MakeZip({{"m/a", "abc"}});
  zip[zip.size() - 2] = static_cast<char>(fake.size() + 5);  // the real record's comment length
  zip += fake + "12345";
  EXPECT_THAT(Error(ReadAll(zip)),
              HasSubstr("the last end-of-directory signature is not followed"));
  // Bytes after the archive are refused too; a comment that holds no signature is read.
  EXPECT_THAT(Error(ReadAll(MakeZip({{"m/a", "abc"}}) + "trailing bytes after the zip")),
              HasSubstr("bytes after the archive"));
  std::string commented = MakeZip({{"m/a", "abc"}});
  commented[commented.size() - 2] = 7;
  EXPECT_TRUE(ReadAll(commented + "comment").ok());
}

TEST(ZipArchiveTest, RefusesACorruptRecordByItsCrc) {
  std::string zip = MakeZip({{"m/data/0", std::string(64, '\x01')}});
  zip[30 + 8 + 10] ^= 0x40;  // a byte of the data, after the 30-byte header and the name
  EXPECT_THAT(Error(ReadAll(zip)), HasSubstr("'m/data/0' fails its CRC-32 check"));
}

TEST(ZipArchiveTest, RefusesAZipBomb) {
  // 64 MiB of zeros deflate to about 64 KiB; the cap here is 1 MiB of inflation.
  const std::string zip = MakeZip({{"m/data/0", std::string(64 << 20, '\0'), true}});
  ZipLimits limits;
  limits.max_inflation = 1 << 20;
  EXPECT_THAT(Error(ReadAll(zip, limits)), HasSubstr("zip bomb"));
}

TEST(ZipArchiveTest, RefusesTruncatedAndEmptyFiles) {
  const std::string zip = MakeZip({{"m/a", std::string(100, 'a')}});
  EXPECT_THAT(Error(ReadAll("")), HasSubstr("too short"));
  EXPECT_THAT(Error(ReadAll(zip.substr(0, zip.size() - 22))), HasSubstr("no zip end-of-directory"));
  for (size_t cut : {size_t{10}, size_t{60}, zip.size() - 30}) {
    SCOPED_TRACE(cut);
    EXPECT_FALSE(ReadAll(zip.substr(0, cut)).ok());
  }
}

TEST(ZipArchiveTest, RefusesDisagreeingHeaders) {
  std::string zip = MakeZip({{"m/a", "abcdef"}});
  std::string renamed = zip;
  renamed[30 + 2] = 'X';  // the local header's copy of the name
  EXPECT_THAT(Error(ReadAll(renamed)), HasSubstr("its local header names it 'm/X'"));
  std::string sized = zip;
  sized[22] = 5;  // the local uncompressed size
  EXPECT_THAT(Error(ReadAll(sized)), HasSubstr("local and central headers state different"));
}

TEST(ZipArchiveTest, RefusesAStatedSizeTheDataDoesNotHave) {
  // A deflated entry whose stream inflates to less than the directory states.
  std::string zip = MakeZip({{"m/a", std::string(1000, 'q'), true}});
  const size_t central = zip.find(std::string("PK\x01\x02", 4));
  const size_t local_usize = 22, central_usize = central + 24;
  zip[local_usize] = zip[central_usize] = static_cast<char>(0xE9);  // 1000 -> 1001
  EXPECT_THAT(Error(ReadAll(zip)), HasSubstr("holds 1000 bytes, not the 1001 it states"));
}

TEST(ZipArchiveTest, RefusesOverlappingEntries) {
  std::string zip = MakeZip({{"m/a", "aaaa"}, {"m/b", "bbbb"}});
  const size_t second_central = zip.rfind(std::string("PK\x01\x02", 4));
  // The second entry's local offset points into the first entry's data.
  zip[second_central + 42] = 10;
  EXPECT_FALSE(ReadAll(zip).ok());
}

TEST(ZipArchiveTest, FileSourceReadsInPiecesAndRefusesMissingFiles) {
  absl::StatusOr<std::unique_ptr<FileSource>> missing = FileSource::Open("/nonexistent/x.pt");
  EXPECT_THAT(Error(missing.status()), HasSubstr("cannot be opened"));
  absl::StatusOr<std::unique_ptr<FileSource>> dir = FileSource::Open("/");
  EXPECT_THAT(Error(dir.status()), HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace ts2coreml::core
