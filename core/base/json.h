/// A small JSON reader and writer, enough for Core ML manifests, package metadata and the CLI's
/// --json output (objects keep their key order; numbers are doubles).
///
///   json::Writer w;
///   w.BeginObject().Key("ops").Int(3).EndObject();
///   absl::StatusOr<json::Value> v = json::Parse(w.Finish());
#ifndef TS2COREML_CORE_BASE_JSON_H_
#define TS2COREML_CORE_BASE_JSON_H_

#include <cstdint>
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

/// Parses one JSON document. Errors (DataLoss) give the byte offset.
absl::StatusOr<Value> Parse(absl::string_view text);

/// `s` as a quoted JSON string.
std::string Quote(absl::string_view s);

/// Writes indented JSON (two spaces) in the order values are given: stable output for stable
/// input. Misuse (a value without a key inside an object) is a programming error.
class Writer {
 public:
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
  std::string Finish() const { return out_ + "\n"; }

 private:
  void BeforeValue();
  void Close(char bracket);

  std::string out_;
  /// One entry per open container: whether it has members yet.
  std::vector<bool> has_members_;
  bool after_key_ = false;
};

}  // namespace ts2coreml::json

#endif  // TS2COREML_CORE_BASE_JSON_H_
