// The whole pre-check on small TorchScript-shaped archives built in memory: which entries get
// which check, and that each failure names the entry.
#include "core/model/archive_precheck.h"

#include <string>
#include <vector>

#include "core/base/errors.h"
#include "core/model/zip_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using namespace std::string_literals;
using test::MakeZip;
using test::ZipMember;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Le(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}
std::string Str(const std::string& s) { return "X" + Le(s.size(), 4) + s; }

/// data.pkl holding one float tensor of `numel` elements in storage "0", viewed as [numel].
std::string DataPickle(int numel) {
  return std::string("\x80\x02") + "ctorch._utils\n_rebuild_tensor_v2\n(" + "(" + Str("storage") +
         "ctorch\nFloatStorage\n" + Str("0") + Str("cpu") + "K" + Le(numel, 1) + "tQ" + "K\x00"s +
         "K" + Le(numel, 1) + "\x85" + "K\x01\x85" + "\x89" + "ccollections\nOrderedDict\n)R" +
         "tR.";
}

std::vector<ZipMember> Model(int numel, int record_bytes) {
  return {{"m/version", "3\n"},
          {"m/data.pkl", DataPickle(numel)},
          {"m/code/__torch__.py", "def forward(self, x):\n    return torch.add(x, 1)\n"},
          {"m/code/__torch__.py.debug_pkl", "\x80\x02)."},
          {"m/data/0", std::string(record_bytes, '\x3f')},
          {"m/constants.pkl", "\x80\x02)."}};
}

absl::StatusOr<ArchiveSummary> Check(const std::vector<ZipMember>& members) {
  const std::string zip = MakeZip(members);
  return PrecheckTorchScriptArchive(MemorySource(zip));
}

std::string Refusal(const std::vector<ZipMember>& members) {
  absl::StatusOr<ArchiveSummary> s = Check(members);
  EXPECT_FALSE(s.ok()) << "accepted";
  EXPECT_EQ(ClassOf(s.status()), ErrorClass::kModel);
  return std::string(s.status().message());
}

TEST(ArchivePrecheckTest, AcceptsAWellFormedArchiveAndCountsWhatItChecked) {
  absl::StatusOr<ArchiveSummary> s = Check(Model(6, 24));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->entries, 6u);
  EXPECT_EQ(s->pickles, 3u);
  EXPECT_EQ(s->code_files, 1u);
}

TEST(ArchivePrecheckTest, ChecksStorageRecordsOfDataPkl) {
  EXPECT_THAT(Refusal(Model(6, 16)),
              AllOf(HasSubstr("archive entry 'm/data.pkl': at byte 86: "),
                    HasSubstr("storage '0' declares 24 bytes but its record holds 16")));
  std::vector<ZipMember> missing = Model(6, 24);
  missing.pop_back();
  missing.erase(missing.begin() + 4);
  missing.push_back({"m/constants.pkl", "\x80\x02)."});
  EXPECT_THAT(Refusal(missing), HasSubstr("storage '0' has no record"));
}

TEST(ArchivePrecheckTest, ChecksEveryPickleAndCodeFile) {
  std::vector<ZipMember> debug = Model(6, 24);
  debug[3].data = "\x80\x02N\x87.";
  EXPECT_THAT(Refusal(debug),
              HasSubstr("archive entry 'm/code/__torch__.py.debug_pkl': at byte 3: TUPLE3"));
  std::vector<ZipMember> code = Model(6, 24);
  code[2].data = "def f(x):\n  return " + std::string(5000, '(') + "x\n";
  EXPECT_THAT(Refusal(code), HasSubstr("archive entry 'm/code/__torch__.py': line 2: brackets"));
  std::vector<ZipMember> constants = Model(6, 24);
  constants[5].data = "\x80\x02R.";
  EXPECT_THAT(Refusal(constants), HasSubstr("'m/constants.pkl': at byte 2: REDUCE needs 2"));
}

TEST(ArchivePrecheckTest, NamesAreComparedIgnoringCaseAsLibTorchLooksThemUp) {
  // LibTorch reads m/code/__torch__.py, m/data.pkl and m/data/0 from entries named in any case.
  std::vector<ZipMember> code = Model(6, 24);
  code[2] = {"m/CODE/__torch__.PY", "def f(x):\n  return " + std::string(5000, '(') + "x\n"};
  EXPECT_THAT(Refusal(code), HasSubstr("'m/CODE/__torch__.PY': line 2: brackets"));
  std::vector<ZipMember> pickle = Model(6, 24);
  pickle[1] = {"M/Data.PKL", "\x80\x02R."};
  EXPECT_THAT(Refusal(pickle), HasSubstr("'M/Data.PKL': at byte 2: REDUCE needs 2"));
  std::vector<ZipMember> record = Model(6, 16);
  record[4].name = "m/DATA/0";
  EXPECT_THAT(Refusal(record), HasSubstr("storage '0' declares 24 bytes but its record holds 16"));
  record = Model(6, 24);
  record[4].name = "m/DATA/0";
  EXPECT_TRUE(Check(record).ok());
}

TEST(ArchivePrecheckTest, ChecksTheContainerFirst) {
  std::vector<ZipMember> dup = Model(6, 24);
  dup.push_back({"m/data/0", std::string(24, '\0')});
  EXPECT_THAT(Refusal(dup), HasSubstr("entry 'm/data/0' appears twice"));
  const std::string zip = MakeZip(Model(6, 24));
  EXPECT_FALSE(PrecheckTorchScriptArchive(MemorySource(zip.substr(0, zip.size() / 2))).ok());
}

TEST(ArchivePrecheckTest, ACheckpointWithoutCodeOrConstantsIsNamedAsOne) {
  // What torch.save writes: data.pkl and its records, no code/ and no constants.pkl.
  const std::string message = Refusal(
      {{"m/version", "3\n"}, {"m/data.pkl", DataPickle(6)}, {"m/data/0", std::string(24, '\x3f')}});
  EXPECT_THAT(message, AllOf(HasSubstr("is a torch.save checkpoint"),
                             HasSubstr("torch.jit.trace(model.eval(), example).save(")));
}

}  // namespace
}  // namespace ts2coreml::core
