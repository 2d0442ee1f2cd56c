#include "core/base/errors.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ts2coreml::core {
namespace {
constexpr absl::string_view kPayloadUrl = "ts2coreml/error_class";

absl::StatusCode CodeFor(ErrorClass c) {
  switch (c) {
    case ErrorClass::kOk:
      return absl::StatusCode::kOk;
    case ErrorClass::kUsage:
    case ErrorClass::kInputSpec:
      return absl::StatusCode::kInvalidArgument;
    case ErrorClass::kUnsupportedOps:
      return absl::StatusCode::kUnimplemented;
    case ErrorClass::kModel:
    case ErrorClass::kPackage:
      return absl::StatusCode::kDataLoss;
    case ErrorClass::kOutput:
      return absl::StatusCode::kFailedPrecondition;
    case ErrorClass::kCheckFailed:
    case ErrorClass::kPlugin:
    case ErrorClass::kConversion:
      return absl::StatusCode::kAborted;
    case ErrorClass::kInternal:
      break;
  }
  return absl::StatusCode::kInternal;
}
}  // namespace

absl::Status Error(ErrorClass error_class, absl::string_view message) {
  absl::Status s(CodeFor(error_class), message);
  if (!s.ok()) s.SetPayload(kPayloadUrl, absl::Cord(absl::StrCat(static_cast<int>(error_class))));
  return s;
}

ErrorClass ClassOf(const absl::Status& status) {
  if (status.ok()) return ErrorClass::kOk;
  auto payload = status.GetPayload(kPayloadUrl);
  int value = 0;
  if (payload && absl::SimpleAtoi(std::string(*payload), &value) && value > 0 &&
      value <= static_cast<int>(ErrorClass::kInternal)) {
    return static_cast<ErrorClass>(value);
  }
  return ErrorClass::kInternal;
}

absl::Status WithClass(const absl::Status& status, ErrorClass error_class) {
  if (status.ok()) return status;
  return Error(error_class, status.message());
}

absl::string_view ErrorClassName(ErrorClass error_class) {
  switch (error_class) {
    case ErrorClass::kOk:
      return "ok";
    case ErrorClass::kCheckFailed:
      return "check_failed";
    case ErrorClass::kUsage:
      return "usage";
    case ErrorClass::kUnsupportedOps:
      return "unsupported_ops";
    case ErrorClass::kModel:
      return "model";
    case ErrorClass::kInputSpec:
      return "input_spec";
    case ErrorClass::kPlugin:
      return "plugin";
    case ErrorClass::kOutput:
      return "output";
    case ErrorClass::kPackage:
      return "package";
    case ErrorClass::kConversion:
      return "conversion";
    case ErrorClass::kInternal:
      break;
  }
  return "internal";
}

std::string FirstLine(absl::string_view message) {
  absl::string_view line;
  for (absl::string_view candidate : absl::StrSplit(message, '\n')) {
    line = absl::StripAsciiWhitespace(candidate);
    if (!line.empty()) break;
  }
  if (absl::ConsumePrefix(&line, "[enforce fail at ")) {
    const size_t close = line.find("] ");
    if (close != absl::string_view::npos) {
      line.remove_prefix(close + 2);
      absl::ConsumePrefix(&line, ". ");
    }
  }
  line = absl::StripLeadingAsciiWhitespace(line);
  return line.empty() ? "unknown error" : std::string(line);
}

}  // namespace ts2coreml::core
