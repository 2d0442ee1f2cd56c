/// Error classes and the process exit codes they map to, shared by every command.
///
/// Errors are absl::Status values; the class travels as a status payload so that the CLI can pick
/// the exit code without parsing messages. docs/cli.md holds the same table.
///
///   return core::Error(core::ErrorClass::kModel, "model.pt: not a TorchScript archive");
#ifndef TS2COREML_CORE_BASE_ERRORS_H_
#define TS2COREML_CORE_BASE_ERRORS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ts2coreml::core {

/// One class per kind of failure; the value is the exit code.
enum class ErrorClass : int {
  kOk = 0,
  kCheckFailed = 1,     ///< a check found the result wanting (verify out of tolerance)
  kUsage = 2,           ///< bad command line
  kUnsupportedOps = 3,  ///< the model needs ops no loaded plugin lowers
  kModel = 4,           ///< the model file cannot be read or is not supported TorchScript
  kInputSpec = 5,       ///< --input/--output specs do not fit the model
  kPlugin = 6,          ///< plugin loading or a plugin's lowering failed
  kOutput = 7,          ///< the output cannot be written
  kPackage = 8,         ///< an .mlpackage given as input is malformed
  kConversion = 9,      ///< the graph cannot be converted as asked (types, precision, target)
  kInternal = 10,       ///< a bug in ts2coreml
};

/// A status of the given class (absl code chosen to match), carrying the class as payload.
absl::Status Error(ErrorClass error_class, absl::string_view message);
/// The class of a status; kInternal for an error without one, kOk for OK.
ErrorClass ClassOf(const absl::Status& status);
/// Re-classes a status, keeping its message (used where a lower layer's error means more).
absl::Status WithClass(const absl::Status& status, ErrorClass error_class);
/// Short name for the table in docs/cli.md ("unsupported_ops").
absl::string_view ErrorClassName(ErrorClass error_class);

/// The first non-blank line of an exception's message, trimmed, without the
/// "[enforce fail at file.cc:123] . " prefix of c10 checks: LibTorch appends C++ stack traces,
/// and some of its messages (schema mismatches, unknown ops) start with a blank line.
/// "unknown error" when there is none.
///
///   FirstLine("\nExpected a value of type 'Tensor'\n  Exception raised from ...")
///     == "Expected a value of type 'Tensor'"
std::string FirstLine(absl::string_view message);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_BASE_ERRORS_H_
