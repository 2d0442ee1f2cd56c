/// `ts2coreml verify MODEL.pt PKG.mlpackage`: runs the TorchScript model in LibTorch (FP32) and
/// the package in the reference interpreter (core/interp) on the same inputs, and compares every
/// output (max abs error, max error relative to the output's range, cosine similarity, top-1
/// agreement for 2-D outputs). Exit 0 within tolerance, 1 when not.
///
/// `--localize` compares the intermediate values the package's source map ties to TorchScript
/// values and names the first op whose error jumps (docs/verify.md gives the rule).
#ifndef TS2COREML_CORE_CLI_VERIFY_COMMAND_H_
#define TS2COREML_CORE_CLI_VERIFY_COMMAND_H_

#include <string>
#include <vector>

namespace ts2coreml::core {

/// Runs `ts2coreml verify ...` (args after "verify"); returns the exit code of docs/cli.md:
/// 0 within tolerance, 1 out of tolerance (or a declared type the package's ops do not produce),
/// 2 usage, 4 model, 5 inputs, 8 package.
int RunVerify(const std::vector<std::string>& args);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CLI_VERIFY_COMMAND_H_
