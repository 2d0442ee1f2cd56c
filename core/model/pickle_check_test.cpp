// The bounded pickle walk on hand-written protocol-2 pickles: the shapes torch writes pass, the
// shapes that crash LibTorch 1.13's unpickler are refused with the byte offset and the reason.
#include "core/model/pickle_check.h"

#include <string>

#include "core/base/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using namespace std::string_literals;
using ::testing::HasSubstr;

const std::string kHead = "\x80\x02";

std::string Le(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}
std::string Str(const std::string& s) { return "X" + Le(s.size(), 4) + s; }
std::string Int(int64_t v) { return "\x8a\x08" + Le(static_cast<uint64_t>(v), 8); }
std::string Global(const std::string& module, const std::string& name) {
  return "c" + module + "\n" + name + "\n";
}

/// A pickled tensor as torch writes it: _rebuild_tensor_v2 of a FloatStorage of `numel`.
std::string Tensor(int64_t numel, int64_t offset, std::pair<int64_t, int64_t> size,
                   std::pair<int64_t, int64_t> stride) {
  const std::string storage = "(" + Str("storage") + Global("torch", "FloatStorage") + Str("0") +
                              Str("cpu") + Int(numel) + "tQ";
  return Global("torch._utils", "_rebuild_tensor_v2") + "(" + storage + Int(offset) +
         Int(size.first) + Int(size.second) + "\x86" + Int(stride.first) + Int(stride.second) +
         "\x86" + "\x89" + Global("collections", "OrderedDict") + ")R" + "tR";
}

std::optional<uint64_t> Record24(absl::string_view key) {
  if (key == "0") return 24;
  return std::nullopt;
}

std::string Refusal(const std::string& pickle, const StorageRecordSize& records = Record24,
                    const PickleLimits& limits = {}) {
  absl::Status s = CheckPickle(pickle, records, limits);
  EXPECT_FALSE(s.ok()) << "accepted";
  EXPECT_EQ(ClassOf(s), ErrorClass::kModel);
  return std::string(s.message());
}

TEST(PickleCheckTest, AcceptsWhatTorchWrites) {
  EXPECT_TRUE(CheckPickle(kHead + "N.", nullptr).ok());
  // A dict of a list and a tensor, with memoized strings and globals reused.
  const std::string p = kHead + "}(" + Str("a") +
                        "q\x00](K\x01K\x02"
                        "eq\x01"s +
                        Str("w") + Tensor(6, 0, {2, 3}, {3, 1}) + "q\x02" + "uq\x03" + "h\x00"s +
                        "\x85" + "\x86" + ".";
  EXPECT_TRUE(CheckPickle(p, Record24).ok()) << CheckPickle(p, Record24);
  // An object: GLOBAL, EMPTY_TUPLE, NEWOBJ, state, BUILD.
  const std::string obj = kHead + Global("__torch__", "M") + ")\x81}(" + Str("t") + "\x88ub.";
  EXPECT_TRUE(CheckPickle(obj, nullptr).ok()) << CheckPickle(obj, nullptr);
}

TEST(PickleCheckTest, RefusesStackUnderflow) {
  EXPECT_THAT(Refusal(kHead + "N\x87."),
              HasSubstr("at byte 3: TUPLE3 needs 3 values above the last mark; there are 1"));
  EXPECT_THAT(Refusal(kHead + "R."), HasSubstr("REDUCE needs 2 values"));
  EXPECT_THAT(Refusal(kHead + "b."), HasSubstr("BUILD needs 2 values"));
  EXPECT_THAT(Refusal(kHead + "N(N\x86."), HasSubstr("TUPLE2 needs 2 values above the last mark"));
  EXPECT_THAT(Refusal(kHead + "Nt."), HasSubstr("no MARK open"));
  EXPECT_THAT(Refusal(kHead + "(Ne."), HasSubstr("no container below its MARK"));
  EXPECT_THAT(Refusal(kHead + "."), HasSubstr("STOP with 0 values"));
}

TEST(PickleCheckTest, RefusesCallsOfWhatIsNotACallableGlobal) {
  EXPECT_THAT(Refusal(kHead + "K\x05NR."),
              HasSubstr("REDUCE calls a value that is not a callable GLOBAL"));
  EXPECT_THAT(Refusal(kHead + Global("torch", "FloatStorage") + "Nb."),
              HasSubstr("not a callable GLOBAL"));
  EXPECT_THAT(Refusal(kHead + Global("torch", "EvilStorage") + "."),
              HasSubstr("unknown storage type torch.EvilStorage"));
}

TEST(PickleCheckTest, RefusesDeepNestingAndTooManyValues) {
  EXPECT_THAT(Refusal(kHead + "N" + std::string(1000000, '\x85') + "."),
              HasSubstr("nest more than 1000 deep"));
  EXPECT_THAT(Refusal(kHead + std::string(5000, '(') + "."),
              HasSubstr("more than 1000 MARKs open"));
  PickleLimits small;
  small.max_values = 10;
  EXPECT_THAT(Refusal(kHead + std::string(20, 'N') + ".", Record24, small),
              HasSubstr("more than 10 values"));
}

TEST(PickleCheckTest, RefusesBadMemoUse) {
  EXPECT_THAT(Refusal(kHead + "Nr\xff\xff\xff\x7f."),
              HasSubstr("memo index 2147483647 skips ahead of the 0 stored"));
  EXPECT_THAT(Refusal(kHead + "h\x05."), HasSubstr("memo index 5 was never stored"));
  // Filling a list after memoizing it is how a pickle makes a list that contains itself.
  EXPECT_THAT(Refusal(kHead + "]q\x00(h\x00"s
                              "e."),
              HasSubstr("fills a container after it was memoized"));
}

TEST(PickleCheckTest, RefusesMalformedBytes) {
  EXPECT_THAT(Refusal("N."), HasSubstr("not a protocol-2 pickle"));
  EXPECT_THAT(Refusal(kHead + "N"), HasSubstr("ends without STOP"));
  EXPECT_THAT(Refusal(kHead + "Z."), HasSubstr("unknown or unsupported opcode 0x5a"));
  EXPECT_THAT(Refusal(kHead + "X\xff\xff\x00\x00"s
                              "abc."),
              HasSubstr("a string of 65535 bytes runs past"));
  EXPECT_THAT(Refusal(kHead + "cnoline"), HasSubstr("newline-terminated"));
  EXPECT_THAT(Refusal(kHead + "(NNNd."), HasSubstr("DICT has a key without a value"));
  EXPECT_THAT(Refusal(kHead + "\x8a\x09" + std::string(9, '\0') + "."),
              HasSubstr("LONG1 of 9 bytes"));
}

TEST(PickleCheckTest, ChecksStoragesAgainstTheirRecords) {
  EXPECT_TRUE(CheckPickle(kHead + Tensor(6, 0, {2, 3}, {3, 1}) + ".", Record24).ok());
  const auto short_record = [](absl::string_view) -> std::optional<uint64_t> { return 20; };
  EXPECT_THAT(Refusal(kHead + Tensor(6, 0, {2, 3}, {3, 1}) + ".", short_record),
              HasSubstr("storage '0' declares 24 bytes but its record holds 20"));
  const auto none = [](absl::string_view) -> std::optional<uint64_t> { return std::nullopt; };
  EXPECT_THAT(Refusal(kHead + Tensor(6, 0, {2, 3}, {3, 1}) + ".", none),
              HasSubstr("storage '0' has no record"));
  EXPECT_THAT(Refusal(kHead + Tensor(6, 0, {2, 3}, {3, 1}) + ".", nullptr),
              HasSubstr("has no record"));
  EXPECT_THAT(Refusal(kHead + Tensor(-1, 0, {2, 3}, {3, 1}) + "."),
              HasSubstr("declares -1 elements"));
  EXPECT_THAT(Refusal(kHead + Tensor(int64_t{1} << 62, 0, {2, 3}, {3, 1}) + "."),
              HasSubstr("declares 4611686018427387904 elements"));
}

TEST(PickleCheckTest, ChecksEveryTensorAgainstItsStorage) {
  EXPECT_THAT(Refusal(kHead + Tensor(6, 0, {2, 4}, {4, 1}) + "."),
              HasSubstr("a tensor reaches element 7 of a storage of 6 elements"));
  EXPECT_THAT(Refusal(kHead + Tensor(6, 1, {2, 3}, {3, 1}) + "."), HasSubstr("reaches element 6"));
  EXPECT_THAT(Refusal(kHead + Tensor(6, int64_t{1} << 40, {2, 3}, {3, 1}) + "."),
              HasSubstr("reaches element 1099511627781"));
  EXPECT_THAT(Refusal(kHead + Tensor(6, 0, {2, 3}, {-3, 1}) + "."), HasSubstr("non-negative"));
  EXPECT_THAT(Refusal(kHead + Tensor(6, -1, {2, 3}, {3, 1}) + "."),
              HasSubstr("negative storage offset -1"));
  EXPECT_THAT(Refusal(kHead + Tensor(6, 0, {1 << 30, 1 << 30}, {int64_t{1} << 40, 1}) + "."),
              HasSubstr("overflow"));
  // A zero stride over a big size reaches only element 0; an empty tensor reaches nothing.
  EXPECT_TRUE(CheckPickle(kHead + Tensor(6, 0, {1000000, 6}, {0, 1}) + ".", Record24).ok());
  EXPECT_THAT(Refusal(kHead + Tensor(6, 0, {int64_t{1} << 31, 6}, {0, 1}) + "."),
              HasSubstr("a tensor of 12884901888 elements repeats the 6 elements"));
  EXPECT_TRUE(CheckPickle(kHead + Tensor(6, 100, {0, 3}, {3, 1}) + ".", Record24).ok());
}

}  // namespace
}  // namespace ts2coreml::core
