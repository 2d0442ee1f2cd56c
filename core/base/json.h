/// JSON for Core ML manifests, package metadata and the CLI's --json output, on nlohmann-json:
/// a parsed tree that keeps key order (numbers are doubles) and refuses duplicate keys, and a
/// writer whose output is stable for stable input.
///
///   json::Writer w;
///   w.BeginObject().Key("ops").Int(3).EndObject();
///   absl::StatusOr<json::Value> v = json::Parse(w.Finish());
#ifndef TS2COREML_CORE_BASE_JSON_H_
#define TS2COREML_CORE_BASE_JSON_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ts2coreml::json {

/// A parsed JSON value.
struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;

  /// The member `key` of an object, or null.
  const Value* Find(absl::string_view key) const;
};

/// Parses one JSON document in time linear in its size. Errors (DataLoss) give the byte offset;
/// a key given twice in one object and nesting deeper than 64 levels are errors too.
absl::StatusOr<Value> Parse(absl::string_view text);

/// `s` as a quoted JSON string (invalid UTF-8 becomes U+FFFD).
std::string Quote(absl::string_view s);

struct WriterDocument;

/// Writes indented JSON (two spaces) in the order values are given: stable output for stable
/// input. Non-finite doubles are written as null. Misuse (a value without a key inside an
/// object, unbalanced Begin/End) is a programming error.
class Writer {
 public:
  Writer();
  ~Writer();
  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;

  Writer& BeginObject();
  Writer& EndObject();
  Writer& BeginArray();
  Writer& EndArray();
  Writer& Key(absl::string_view key);
  Writer& String(absl::string_view s);
  Writer& Int(int64_t v);
  Writer& Double(double v);
  Writer& Bool(bool v);
  Writer& Null();
  /// The document, with a trailing newline.
  std::string Finish() const;

 private:
  std::unique_ptr<WriterDocument> doc_;
};

}  // namespace ts2coreml::json

#endif  // TS2COREML_CORE_BASE_JSON_H_
