#include "core/model/pickle_check.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/errors.h"

namespace ts2coreml::core {
namespace {

enum Opcode : uint8_t {
  kMark = '(',
  kStop = '.',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kNone = 'N',
  kBinPersId = 'Q',
  kReduce = 'R',
  kShortBinString = 'U',
  kBinUnicode = 'X',
  kBuild = 'b',
  kGlobal = 'c',
  kDict = 'd',
  kEmptyDict = '}',
  kAppends = 'e',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kList = 'l',
  kEmptyList = ']',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kSetItem = 's',
  kTuple = 't',
  kEmptyTuple = ')',
  kSetItems = 'u',
  kBinFloat = 'G',
  kProto = 0x80,
  kNewObj = 0x81,
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kLong1 = 0x8a,
};

enum class Kind : uint8_t {
  kScalar,
  kInt,
  kString,
  kTuple,
  kList,
  kDict,
  kGlobal,
  kStorage,
  kOther
};

/// What a GLOBAL pushes, as LibTorch's unpickler treats it.
enum class GlobalTag : uint8_t {
  kCallable,       ///< an index into the unpickler's globals: REDUCE and BUILD call it
  kRebuildTensor,  ///< torch._utils._rebuild_tensor_v2 / _rebuild_qtensor (callable)
  kStorageType,    ///< torch.FloatStorage and the like: a dtype, not callable
  kPlainValue,     ///< other `torch.` names (quantization schemes): a value, not callable
};

/// A simulated stack value: no contents beyond what the checks need.
struct Value {
  Kind kind = Kind::kScalar;
  GlobalTag tag = GlobalTag::kCallable;
  uint8_t itemsize = 0;  ///< kGlobal kStorageType and kStorage: bytes per element
  uint32_t depth = 0;    ///< containers nested in this value, itself included
  uint32_t a = 0,
           b = 0;   ///< kString: offset, length; kTuple: children in the arena; kList/kDict: id
  int64_t num = 0;  ///< kInt: the value; kStorage: the element count
};

constexpr uint32_t kOpaque = 0xFFFFFFFF;  ///< a tuple whose children are not kept
constexpr uint32_t kMaxKeptTuple = 64;    ///< tensor sizes and strides fit
/// A tensor may have more elements than its storage (zero strides) only up to this many.
constexpr uint64_t kMaxRepeatedElements = uint64_t{1} << 24;

/// The element size of `torch.<name>`, or 0 for a name that is not a storage type.
int StorageItemSize(absl::string_view name) {
  static const std::pair<absl::string_view, int> kSizes[] = {
      {"DoubleStorage", 8},      {"FloatStorage", 4},        {"HalfStorage", 2},
      {"BFloat16Storage", 2},    {"LongStorage", 8},         {"IntStorage", 4},
      {"ShortStorage", 2},       {"CharStorage", 1},         {"ByteStorage", 1},
      {"BoolStorage", 1},        {"ComplexFloatStorage", 8}, {"ComplexDoubleStorage", 16},
      {"ComplexHalfStorage", 4}, {"QInt8Storage", 1},        {"QUInt8Storage", 1},
      {"QInt32Storage", 4},      {"QUInt4x2Storage", 1},     {"QUInt2x4Storage", 1}};
  for (const auto& [n, size] : kSizes) {
    if (n == name) return size;
  }
  return absl::EndsWith(name, "Storage") ? -1 : 0;
}

class Walker {
 public:
  Walker(absl::string_view pickle, const StorageRecordSize& record_size, const PickleLimits& limits)
      : p_(pickle), record_size_(record_size), limits_(limits) {}

  absl::Status Run();

 private:
  absl::Status Step(uint8_t op);
  absl::Status StepContainer(uint8_t op, bool* handled);
  /// A new, empty list or dict with its own memo slot.
  Value NewContainer(Kind kind);
  absl::Status StepScalar(uint8_t op, bool* handled);
  absl::Status Fail(absl::string_view what) const {
    return Error(ErrorClass::kModel, absl::StrCat("at byte ", op_pos_, ": ", what));
  }
  absl::Status ReadUInt(size_t n, uint64_t* out);
  absl::Status ReadBytes(uint64_t n, Value* str);
  absl::Status ReadLine(absl::string_view* line);
  size_t Live() const { return stack_.size() + memo_.size() + arena_.size(); }
  size_t Available() const { return stack_.size() - (marks_.empty() ? 0 : marks_.back()); }
  absl::Status NeedItems(size_t k, absl::string_view op) const;
  absl::Status Push(Value v);
  absl::Status PopMark(size_t* start);
  absl::Status MakeTuple(size_t start);
  absl::Status AddItems(size_t start, size_t container, bool pairs, absl::string_view op);
  absl::Status Memo(uint64_t id, bool put);
  absl::Status Global();
  absl::Status Reduce(absl::string_view op);
  absl::Status PersistentId();
  absl::Status CheckTensorArgs(const Value& args) const;
  absl::string_view Str(const Value& v) const { return p_.substr(v.a, v.b); }
  const Value* Child(const Value& tuple, uint32_t i) const {
    if (tuple.kind != Kind::kTuple || tuple.b == kOpaque || i >= tuple.b - tuple.a) return nullptr;
    return &arena_[tuple.a + i];
  }

  absl::string_view p_;
  const StorageRecordSize& record_size_;
  const PickleLimits& limits_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  bool stopped_ = false;
  std::vector<Value> stack_, memo_, arena_;
  std::vector<size_t> marks_;
  std::vector<bool> memoized_;  ///< per list/dict id: filled in after being memoized is refused
};

absl::Status Walker::ReadUInt(size_t n, uint64_t* out) {
  if (p_.size() - pos_ < n) return Fail("the pickle ends inside an opcode's argument");
  *out = 0;
  for (size_t i = 0; i < n; ++i) *out |= uint64_t{static_cast<uint8_t>(p_[pos_ + i])} << (8 * i);
  pos_ += n;
  return absl::OkStatus();
}

absl::Status Walker::ReadBytes(uint64_t n, Value* str) {
  if (p_.size() - pos_ < n) {
    return Fail(absl::StrCat("a string of ", n, " bytes runs past the end of the pickle"));
  }
  str->kind = Kind::kString;
  str->a = static_cast<uint32_t>(pos_);
  str->b = static_cast<uint32_t>(n);
  pos_ += n;
  return absl::OkStatus();
}

absl::Status Walker::ReadLine(absl::string_view* line) {
  const size_t end = p_.find('\n', pos_);
  if (end == absl::string_view::npos || end - pos_ > limits_.max_global_name) {
    return Fail("GLOBAL's name is not a newline-terminated line of at most 1024 bytes");
  }
  *line = p_.substr(pos_, end - pos_);
  pos_ = end + 1;
  return absl::OkStatus();
}

absl::Status Walker::NeedItems(size_t k, absl::string_view op) const {
  if (Available() >= k) return absl::OkStatus();
  return Fail(
      absl::StrCat(op, " needs ", k, " values above the last mark; there are ", Available()));
}

absl::Status Walker::Push(Value v) {
  if (Live() >= limits_.max_values) {
    return Fail(absl::StrCat("more than ", limits_.max_values, " values held at once"));
  }
  if (v.depth > limits_.max_nesting) {
    return Fail(absl::StrCat("containers nest more than ", limits_.max_nesting, " deep"));
  }
  stack_.push_back(v);
  return absl::OkStatus();
}

absl::Status Walker::PopMark(size_t* start) {
  if (marks_.empty()) return Fail("an opcode that closes a MARK, with no MARK open");
  *start = marks_.back();
  marks_.pop_back();
  return absl::OkStatus();
}

absl::Status Walker::MakeTuple(size_t start) {
  Value t;
  t.kind = Kind::kTuple;
  const size_t n = stack_.size() - start;
  for (size_t i = start; i < stack_.size(); ++i) t.depth = std::max(t.depth, stack_[i].depth);
  t.depth += 1;
  if (n <= kMaxKeptTuple) {
    t.a = static_cast<uint32_t>(arena_.size());
    arena_.insert(arena_.end(), stack_.begin() + start, stack_.end());
    t.b = static_cast<uint32_t>(arena_.size());
  } else {
    t.b = kOpaque;
  }
  stack_.resize(start);
  return Push(t);
}

/// APPENDS, SETITEMS, SETITEM: moves the items above `start` into the container below them.
absl::Status Walker::AddItems(size_t start, size_t container, bool pairs, absl::string_view op) {
  Value& c = stack_[container];
  if (c.kind != (pairs ? Kind::kDict : Kind::kList)) {
    return Fail(absl::StrCat(op, " applies to a value that is not a ", pairs ? "dict" : "list"));
  }
  if (pairs && (stack_.size() - start) % 2 != 0) {
    return Fail(absl::StrCat(op, " has a key without a value"));
  }
  if (memoized_[c.a]) {
    return Fail(absl::StrCat(
        op, " fills a container after it was memoized (torch never does; it could make a cycle)"));
  }
  for (size_t i = start; i < stack_.size(); ++i) c.depth = std::max(c.depth, stack_[i].depth + 1);
  if (c.depth > limits_.max_nesting) {
    return Fail(absl::StrCat("containers nest more than ", limits_.max_nesting, " deep"));
  }
  stack_.resize(start);
  return absl::OkStatus();
}

absl::Status Walker::Memo(uint64_t id, bool put) {
  if (!put) {
    if (id >= memo_.size()) {
      return Fail(absl::StrCat("memo index ", id, " was never stored (", memo_.size(), " are)"));
    }
    return Push(memo_[id]);
  }
  if (stack_.empty()) return Fail("BINPUT with an empty stack");
  if (id > memo_.size()) {
    return Fail(absl::StrCat("memo index ", id, " skips ahead of the ", memo_.size(), " stored"));
  }
  const Value& top = stack_.back();
  if (top.kind == Kind::kList || top.kind == Kind::kDict) memoized_[top.a] = true;
  if (id == memo_.size()) {
    if (Live() >= limits_.max_values) {
      return Fail(absl::StrCat("more than ", limits_.max_values, " values held at once"));
    }
    memo_.push_back(top);
  } else {
    memo_[id] = top;
  }
  return absl::OkStatus();
}

absl::Status Walker::Global() {
  absl::string_view module, name;
  absl::Status s = ReadLine(&module);
  if (s.ok()) s = ReadLine(&name);
  if (!s.ok()) return s;
  Value g;
  g.kind = Kind::kGlobal;
  if (module == "torch") {
    const int size = StorageItemSize(name);
    if (size < 0) return Fail(absl::StrCat("unknown storage type torch.", name));
    g.tag = size > 0           ? GlobalTag::kStorageType
            : name == "device" ? GlobalTag::kCallable
                               : GlobalTag::kPlainValue;
    g.itemsize = static_cast<uint8_t>(std::max(size, 0));
  } else if (module == "torch._utils" &&
             (name == "_rebuild_tensor_v2" || name == "_rebuild_qtensor")) {
    g.tag = GlobalTag::kRebuildTensor;
  }
  return Push(g);
}

/// REDUCE and BUILD: LibTorch calls the global below the argument, which must be callable.
absl::Status Walker::Reduce(absl::string_view op) {
  absl::Status s = NeedItems(2, op);
  if (!s.ok()) return s;
  const Value fn = stack_[stack_.size() - 2];
  const Value arg = stack_.back();
  if (fn.kind != Kind::kGlobal || fn.tag == GlobalTag::kStorageType ||
      fn.tag == GlobalTag::kPlainValue) {
    return Fail(absl::StrCat(op, " calls a value that is not a callable GLOBAL"));
  }
  if (fn.tag == GlobalTag::kRebuildTensor) {
    s = CheckTensorArgs(arg);
    if (!s.ok()) return s;
  }
  stack_.resize(stack_.size() - 2);
  Value result;
  result.kind = Kind::kOther;
  result.depth = std::max(fn.depth, arg.depth) + 1;
  return Push(result);
}

/// BINPERSID ('storage', torch.<T>Storage, key, location, numel): the record must hold exactly
/// numel elements.
absl::Status Walker::PersistentId() {
  absl::Status s = NeedItems(1, "BINPERSID");
  if (!s.ok()) return s;
  const Value id = stack_.back();
  const Value* f[5];
  for (uint32_t i = 0; i < 5; ++i) f[i] = Child(id, i);
  if (id.kind != Kind::kTuple || Child(id, 5) != nullptr || f[4] == nullptr ||
      f[0]->kind != Kind::kString || Str(*f[0]) != "storage" || f[1]->kind != Kind::kGlobal ||
      f[1]->tag != GlobalTag::kStorageType || f[2]->kind != Kind::kString ||
      f[3]->kind != Kind::kString || f[4]->kind != Kind::kInt) {
    return Fail("BINPERSID's argument is not ('storage', torch.<T>Storage, key, location, numel)");
  }
  const std::string key(Str(*f[2]));
  const int64_t numel = f[4]->num;
  uint64_t nbytes = 0;
  if (numel < 0 || __builtin_mul_overflow(static_cast<uint64_t>(numel), f[1]->itemsize, &nbytes)) {
    return Fail(absl::StrCat("storage '", key, "' declares ", numel, " elements"));
  }
  const std::optional<uint64_t> have = record_size_ ? record_size_(key) : std::nullopt;
  if (numel > 0 && !have)
    return Fail(absl::StrCat("storage '", key, "' has no record in the archive"));
  if (numel > 0 && *have != nbytes) {
    return Fail(absl::StrCat("storage '", key, "' declares ", nbytes,
                             " bytes but its record holds ", *have));
  }
  Value storage;
  storage.kind = Kind::kStorage;
  storage.itemsize = f[1]->itemsize;
  storage.num = numel;
  stack_.back() = storage;
  return absl::OkStatus();
}

/// _rebuild_tensor_v2(storage, offset, sizes, strides, ...): every element inside the storage.
absl::Status Walker::CheckTensorArgs(const Value& args) const {
  const Value* storage = Child(args, 0);
  const Value* offset = Child(args, 1);
  const Value* sizes = Child(args, 2);
  const Value* strides = Child(args, 3);
  if (strides == nullptr || storage->kind != Kind::kStorage || offset->kind != Kind::kInt ||
      sizes->kind != Kind::kTuple || strides->kind != Kind::kTuple || sizes->b == kOpaque ||
      strides->b == kOpaque || sizes->b - sizes->a != strides->b - strides->a) {
    return Fail("a tensor's arguments are not (storage, offset, sizes, strides, ...) of one rank");
  }
  if (offset->num < 0)
    return Fail(absl::StrCat("a tensor has the negative storage offset ", offset->num));
  uint64_t last = static_cast<uint64_t>(offset->num);
  uint64_t numel = 1;
  bool empty = false;
  for (uint32_t i = 0; i < sizes->b - sizes->a; ++i) {
    const Value& size = arena_[sizes->a + i];
    const Value& stride = arena_[strides->a + i];
    if (size.kind != Kind::kInt || stride.kind != Kind::kInt || size.num < 0 || stride.num < 0) {
      return Fail("a tensor's sizes and strides must be non-negative integers");
    }
    uint64_t reach = 0;
    if (size.num == 0) empty = true;
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(size.num), &numel))
      numel = ~uint64_t{0};
    if (size.num > 0 && (__builtin_mul_overflow(static_cast<uint64_t>(size.num - 1),
                                                static_cast<uint64_t>(stride.num), &reach) ||
                         __builtin_add_overflow(last, reach, &last))) {
      return Fail("a tensor's sizes and strides overflow 64 bits");
    }
  }
  if (empty) return absl::OkStatus();
  if (last >= static_cast<uint64_t>(storage->num)) {
    return Fail(absl::StrCat("a tensor reaches element ", last, " of a storage of ", storage->num,
                             " elements"));
  }
  if (numel > static_cast<uint64_t>(storage->num) && numel > kMaxRepeatedElements) {
    return Fail(absl::StrCat("a tensor of ", numel, " elements repeats the ", storage->num,
                             " elements of its storage (zero strides) beyond 2^24 elements"));
  }
  return absl::OkStatus();
}

Value Walker::NewContainer(Kind kind) {
  Value c{kind, GlobalTag::kCallable, 0, 1, static_cast<uint32_t>(memoized_.size()), 0, 0};
  memoized_.push_back(false);
  return c;
}

absl::Status Walker::StepContainer(uint8_t op, bool* handled) {
  *handled = true;
  size_t start = 0;
  absl::Status s;
  switch (op) {
    case kMark:
      if (marks_.size() >= limits_.max_nesting)
        return Fail(absl::StrCat("more than ", limits_.max_nesting, " MARKs open"));
      marks_.push_back(stack_.size());
      return absl::OkStatus();
    case kTuple:
      s = PopMark(&start);
      return s.ok() ? MakeTuple(start) : s;
    case kTuple1:
    case kTuple2:
    case kTuple3: {
      const size_t k = op - kTuple1 + 1;
      s = NeedItems(k, absl::StrCat("TUPLE", k));
      return s.ok() ? MakeTuple(stack_.size() - k) : s;
    }
    case kEmptyTuple:
      return Push(Value{Kind::kTuple, GlobalTag::kCallable, 0, 1, 0, 0, 0});
    case kEmptyList:
    case kEmptyDict:
      return Push(NewContainer(op == kEmptyList ? Kind::kList : Kind::kDict));
    case kList:
    case kDict: {
      s = PopMark(&start);
      if (!s.ok()) return s;
      if (op == kDict && (stack_.size() - start) % 2 != 0)
        return Fail("DICT has a key without a value");
      Value c = NewContainer(op == kList ? Kind::kList : Kind::kDict);
      for (size_t i = start; i < stack_.size(); ++i)
        c.depth = std::max(c.depth, stack_[i].depth + 1);
      stack_.resize(start);
      return Push(c);
    }
    case kAppends:
    case kSetItems:
      s = PopMark(&start);
      if (!s.ok()) return s;
      if (start == 0) return Fail("APPENDS or SETITEMS with no container below its MARK");
      return AddItems(start, start - 1, op == kSetItems, op == kAppends ? "APPENDS" : "SETITEMS");
    case kSetItem:
      s = NeedItems(3, "SETITEM");
      return s.ok() ? AddItems(stack_.size() - 2, stack_.size() - 3, true, "SETITEM") : s;
  }
  *handled = false;
  return absl::OkStatus();
}

absl::Status Walker::StepScalar(uint8_t op, bool* handled) {
  *handled = true;
  uint64_t n = 0;
  Value v;
  absl::Status s;
  switch (op) {
    case kNone:
    case kNewTrue:
    case kNewFalse:
      return Push(v);
    case kBinInt1:
    case kBinInt2:
    case kBinInt:
      s = ReadUInt(op == kBinInt1 ? 1 : op == kBinInt2 ? 2 : 4, &n);
      v.kind = Kind::kInt;
      v.num = op == kBinInt ? static_cast<int32_t>(n) : static_cast<int64_t>(n);
      return s.ok() ? Push(v) : s;
    case kLong1: {
      s = ReadUInt(1, &n);
      if (!s.ok()) return s;
      if (n > 8) return Fail(absl::StrCat("LONG1 of ", n, " bytes (at most 8 are read)"));
      const size_t len = n;
      s = ReadUInt(len, &n);
      if (len > 0 && len < 8 && (n >> (8 * len - 1)) & 1) n |= ~uint64_t{0} << (8 * len);
      v.kind = Kind::kInt;
      v.num = static_cast<int64_t>(n);
      return s.ok() ? Push(v) : s;
    }
    case kBinFloat:
      s = ReadUInt(8, &n);
      return s.ok() ? Push(v) : s;
    case kBinUnicode:
    case kShortBinString:
      s = ReadUInt(op == kBinUnicode ? 4 : 1, &n);
      if (s.ok()) s = ReadBytes(n, &v);
      return s.ok() ? Push(v) : s;
  }
  *handled = false;
  return absl::OkStatus();
}

absl::Status Walker::Step(uint8_t op) {
  bool handled = false;
  absl::Status s = StepContainer(op, &handled);
  if (handled) return s;
  s = StepScalar(op, &handled);
  if (handled) return s;
  uint64_t id = 0;
  switch (op) {
    case kBinPut:
    case kLongBinPut:
    case kBinGet:
    case kLongBinGet:
      s = ReadUInt(op == kBinPut || op == kBinGet ? 1 : 4, &id);
      return s.ok() ? Memo(id, op == kBinPut || op == kLongBinPut) : s;
    case kGlobal:
      return Global();
    case kNewObj:
      s = NeedItems(1, "NEWOBJ");
      if (s.ok()) stack_.pop_back();
      return s;
    case kReduce:
      return Reduce("REDUCE");
    case kBuild:
      return Reduce("BUILD");
    case kBinPersId:
      return PersistentId();
    case kStop:
      if (stack_.size() != 1 || !marks_.empty()) {
        return Fail(absl::StrCat("STOP with ", stack_.size(), " values and ", marks_.size(),
                                 " MARKs open (one value and no MARK expected)"));
      }
      stopped_ = true;
      return absl::OkStatus();
  }
  return Fail(absl::StrCat("unknown or unsupported opcode 0x", absl::Hex(op, absl::kZeroPad2)));
}

absl::Status Walker::Run() {
  if (p_.size() > 0xFFFFFFF0u) return Fail("the pickle is larger than 4 GiB");
  if (p_.size() < 2 || static_cast<uint8_t>(p_[0]) != kProto || p_[1] != 2) {
    return Fail("not a protocol-2 pickle (it must start with PROTO 2)");
  }
  pos_ = 2;
  while (!stopped_) {
    op_pos_ = pos_;
    if (pos_ >= p_.size()) return Fail("the pickle ends without STOP");
    absl::Status s = Step(static_cast<uint8_t>(p_[pos_++]));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckPickle(absl::string_view pickle, const StorageRecordSize& record_size,
                         const PickleLimits& limits) {
  return Walker(pickle, record_size, limits).Run();
}

}  // namespace ts2coreml::core
