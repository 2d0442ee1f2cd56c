#include "core/base/json.h"

#include <cmath>
#include <string>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace ts2coreml::json {
namespace {

using Nlohmann = nlohmann::json;
using OrderedNlohmann = nlohmann::ordered_json;

/// Builds a Value tree from nlohmann's SAX events. Keys are checked against a hash set per open
/// object, so duplicate detection costs linear time in the document.
class ValueBuilder : public nlohmann::json_sax<Nlohmann> {
 public:
  static constexpr size_t kMaxDepth = 64;

  Value& root() { return root_; }
  const std::string& error() const { return error_; }

  bool null() override { return Put(Value{}); }
  bool boolean(bool v) override {
    Value value;
    value.kind = Value::Kind::kBool;
    value.boolean = v;
    return Put(std::move(value));
  }
  bool number_integer(number_integer_t v) override { return Number(static_cast<double>(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Number(static_cast<double>(v)); }
  bool number_float(number_float_t v, const string_t&) override { return Number(v); }
  bool string(string_t& v) override {
    Value value;
    value.kind = Value::Kind::kString;
    value.string = std::move(v);
    return Put(std::move(value));
  }
  bool binary(binary_t&) override { return Fail("binary values are not JSON"); }
  bool start_object(std::size_t) override { return Open(Value::Kind::kObject); }
  bool key(string_t& k) override {
    if (!open_.back().keys.insert(k).second) {
      return Fail(absl::StrCat("duplicate key \"", k, "\""));
    }
    pending_key_ = std::move(k);
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(Value::Kind::kArray); }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    std::string what = ex.what();
    // nlohmann's text: "[json.exception.parse_error.101] parse error at line 1, column 4: ...".
    const size_t colon = what.find(": ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    error_ = absl::StrCat("invalid JSON at byte ", position, ": ", what);
    return false;
  }

 private:
  struct OpenContainer {
    Value* value;
    std::unordered_set<std::string> keys;
  };

  bool Fail(absl::string_view what) {
    error_ = absl::StrCat("invalid JSON: ", what);
    return false;
  }
  bool Number(double v) {
    Value value;
    value.kind = Value::Kind::kNumber;
    value.number = v;
    return Put(std::move(value));
  }
  /// Stores `v` where the next value goes; returns it.
  Value* Place(Value v) {
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Value* parent = open_.back().value;
    if (parent->kind == Value::Kind::kArray) {
      parent->array.push_back(std::move(v));
      return &parent->array.back();
    }
    parent->object.emplace_back(std::move(pending_key_), std::move(v));
    return &parent->object.back().second;
  }
  bool Put(Value v) {
    Place(std::move(v));
    return true;
  }
  bool Open(Value::Kind kind) {
    if (open_.size() >= kMaxDepth) return Fail("nested too deeply");
    Value v;
    v.kind = kind;
    open_.push_back({Place(std::move(v)), {}});
    return true;
  }
  bool Close() {
    open_.pop_back();
    return true;
  }

  Value root_;
  /// The containers being filled, innermost last. A container only grows while it is innermost,
  /// so the pointers stay valid.
  std::vector<OpenContainer> open_;
  std::string pending_key_;
  std::string error_;
};

/// `v` as nlohmann dumps it: invalid UTF-8 becomes U+FFFD instead of throwing.
template <typename J>
std::string Dump(const J& v, int indent) {
  return v.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::detail::error_handler_t::replace);
}

}  // namespace

const Value* Value::Find(absl::string_view key) const {
  for (const auto& [k, v] : object) {
    if (k == key) return &v;
  }
  return nullptr;
}

absl::StatusOr<Value> Parse(absl::string_view text) {
  ValueBuilder builder;
  bool ok = false;
  try {
    ok = Nlohmann::sax_parse(text.begin(), text.end(), &builder);
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("invalid JSON: ", e.what()));
  }
  if (!ok) return absl::DataLossError(builder.error());
  return std::move(builder.root());
}

std::string Quote(absl::string_view s) { return Dump(Nlohmann(std::string(s)), -1); }

/// The document a Writer builds, and the containers still open in it (innermost last).
struct WriterDocument {
  OrderedNlohmann root;
  std::vector<OrderedNlohmann*> open;
  std::string key;

  /// Adds `value` as the next array element or as the member named by the last Key().
  void Put(OrderedNlohmann value) {
    OrderedNlohmann* placed = nullptr;
    if (open.empty()) {
      root = std::move(value);
      placed = &root;
    } else if (open.back()->is_array()) {
      open.back()->push_back(std::move(value));
      placed = &open.back()->back();
    } else {
      // Appended without ordered_map's per-key search, which would make wide objects quadratic.
      auto& members = open.back()->get_ref<OrderedNlohmann::object_t&>();
      static_cast<OrderedNlohmann::object_t::Container&>(members).emplace_back(std::move(key),
                                                                               std::move(value));
      placed = &members.back().second;
    }
    if (placed->is_structured()) open.push_back(placed);
  }
};

Writer::Writer() : doc_(std::make_unique<WriterDocument>()) {}
Writer::~Writer() = default;
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;

Writer& Writer::BeginObject() {
  doc_->Put(OrderedNlohmann::object());
  return *this;
}
Writer& Writer::EndObject() {
  doc_->open.pop_back();
  return *this;
}
Writer& Writer::BeginArray() {
  doc_->Put(OrderedNlohmann::array());
  return *this;
}
Writer& Writer::EndArray() {
  doc_->open.pop_back();
  return *this;
}
Writer& Writer::Key(absl::string_view key) {
  doc_->key = std::string(key);
  return *this;
}
Writer& Writer::String(absl::string_view s) {
  doc_->Put(std::string(s));
  return *this;
}
Writer& Writer::Int(int64_t v) {
  doc_->Put(v);
  return *this;
}
Writer& Writer::Double(double v) {
  doc_->Put(std::isfinite(v) ? OrderedNlohmann(v) : OrderedNlohmann());
  return *this;
}
Writer& Writer::Bool(bool v) {
  doc_->Put(v);
  return *this;
}
Writer& Writer::Null() {
  doc_->Put(nullptr);
  return *this;
}

std::string Writer::Finish() const { return Dump(doc_->root, 2) + "\n"; }

}  // namespace ts2coreml::json
