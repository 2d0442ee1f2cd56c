/// Validation of MIL against Core ML's opset (ts2coreml/mil_opset.h): for an op about to be added
/// to a `Function` (emit time) and for every op of a package read from disk (`inspect --check`).
///
/// Both describe each op as an `opset::OpView` and call the SDK's `opset::CheckOp`, the one
/// implementation the fake host uses too.
///
///   std::vector<std::string> problems = CheckNewOp(f, "reduce_mean", inputs, outputs);
///   // {"reduce_mean with unknown input 'axis' (inputs: x, axes, keep_dims)"}
///   absl::StatusOr<std::vector<OpProblem>> all = CheckProgram(package);
#ifndef TS2COREML_CORE_MIL_VALIDATOR_H_
#define TS2COREML_CORE_MIL_VALIDATOR_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/mil/package_reader.h"
#include "core/mil/program.h"
#include "ts2coreml/mil_validate.h"

namespace ts2coreml::mil {

/// The iOS version (15..18) of a function's opset; 0 for an opset the table does not know.
int IosOf(const Function& f);

/// The op `type` with these inputs and declared outputs, as `opset::CheckOp` reads it. Vars that
/// do not exist in `f` are left out (Function::AddOp refuses them).
opset::OpView ViewOfNewOp(const Function& f, std::string_view type,
                          const std::vector<OpInput>& inputs,
                          const std::vector<TensorType>& outputs);

/// Every problem of the op against `f`'s opset; empty when valid.
std::vector<std::string> CheckNewOp(const Function& f, std::string_view type,
                                    const std::vector<OpInput>& inputs,
                                    const std::vector<TensorType>& outputs);

/// A problem of one op of a package.
struct OpProblem {
  std::string op;       ///< the op's name, or its first output's when unnamed
  std::string type;     ///< the MIL op type
  std::string message;  ///< follows "<op> is ", e.g. "reduce_mean with unknown input 'axis' ..."
};

/// Every problem of every op of the package's main function (nested blocks included) against the
/// opset the function names. Fails (class kPackage) when the program cannot be read: no main
/// function, an opset outside CoreML5..CoreML8.
absl::StatusOr<std::vector<OpProblem>> CheckProgram(const Package& package);

}  // namespace ts2coreml::mil

#endif  // TS2COREML_CORE_MIL_VALIDATOR_H_
