/// The commands that read TorchScript (`convert`, `coverage`, `verify`) live in a shared library,
/// `lib/ts2coreml/libts2coreml_torch_commands.so`, which links LibTorch; the `ts2coreml`
/// executable links no LibTorch and loads that library only when one of these commands runs
/// (core/cli/torch_commands_loader.h), so `help`, `version`, `registry` and `inspect` start
/// without mapping LibTorch's ~290 libraries.
///
/// The library exports one C function and nothing else (cmake/torch_commands_exports.map): no C++
/// object and no exception crosses the boundary, only the command line and the exit code. The
/// library carries its own copies of our torch-free code (local to it, so nothing is interposed
/// either way; abseil and Boost are shared libraries both use); the Core ML protobuf messages are
/// built for the lite runtime (core/mil/proto), which keeps no process-wide registry of
/// descriptors that the two copies would both claim.
#ifndef TS2COREML_CORE_CLI_TORCH_COMMANDS_H_
#define TS2COREML_CORE_CLI_TORCH_COMMANDS_H_

#ifdef __cplusplus
extern "C" {
#endif

/// The name of the entry point, for dlsym.
#define TS2COREML_TORCH_COMMANDS_ENTRY "ts2coreml_torch_commands_main"

/// Runs `ts2coreml <argv[0]> <argv[1]> ...` for argv[0] one of "convert", "coverage", "verify";
/// returns the exit code of docs/cli.md (2 for another command). Prints the command's output and
/// errors itself; never throws (an exception is reported as an internal error, exit 10).
int ts2coreml_torch_commands_main(int argc, const char* const* argv);

/// The type of ts2coreml_torch_commands_main.
typedef int (*ts2coreml_torch_commands_main_fn)(int argc, const char* const* argv);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // TS2COREML_CORE_CLI_TORCH_COMMANDS_H_
