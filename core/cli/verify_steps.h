/// The steps of `ts2coreml verify` (verify_command.h), one function each. Internal to core/cli:
/// exposed for verify_command_test.cpp.
///
/// RunVerify runs, in order:
///   1. ParseVerifyArgs                    the command line
///   2. LoadSubjects                       the package, the plugins and the model (FP32)
///   3. PackageIsFp16, ToleranceFor        the package's precision and the tolerance
///   4. ForwardArgNames, ReadInputFiles    forward()'s arguments and the --input files
///   5. CompareRuns                        per run: RandomInputs, TorchInputs, LibTorch and the
///                                         interpreter, Compare, Worst
///   6. Verdict                            why each output is out of tolerance
///   7. Localize (--localize, out of tolerance only): ReadSourceMap, MapSourceValues,
///      RunInstrumented (LibTorch's values), CompareIntermediates
///   8. WriteJsonReport or PrintTextReport, then ReportFirstFailure
///
///   absl::StatusOr<VerifyArgs> a = ParseVerifyArgs({"m.pt", "m.mlpackage", "--runs", "3"});
#ifndef TS2COREML_CORE_CLI_VERIFY_STEPS_H_
#define TS2COREML_CORE_CLI_VERIFY_STEPS_H_

#include <torch/script.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cli/cli_common.h"
#include "core/convert/error_growth.h"
#include "core/interp/interpreter.h"

namespace ts2coreml::core {

/// What an output must reach to be within tolerance.
struct Tolerance {
  double min_cosine = 0;
  double max_rel_error = 0;
  double max_abs_error = std::numeric_limits<double>::infinity();
  double min_top1 = 0;
};

/// Where a reference's nonzero magnitudes lie against FP16's range: the shares (0..1) of its
/// nonzero elements below the smallest normal (2^-14) and below the smallest subnormal (2^-24).
struct Fp16Underflow {
  double below_normal = 0;
  double below_subnormal = 0;
  /// Most nonzero values lie below the normal range: FP16 cannot carry this value.
  bool Falls() const { return below_normal > 0.5; }
};

/// Fp16Underflow of `ref` (all zero for a tensor without nonzero elements).
Fp16Underflow MeasureFp16Underflow(const at::Tensor& ref);

/// The command line of verify.
struct VerifyArgs {
  std::filesystem::path model;
  std::filesystem::path package;
  int runs = 1;
  uint64_t seed = 0;
  std::map<std::string, std::filesystem::path> input_files;
  /// --torch-library: libraries of op kernels (TORCH_LIBRARY) loaded before the model.
  std::vector<std::filesystem::path> torch_libraries;
  /// --reference NAME=FILE.npy: each output's reference values, compared instead of running
  /// LibTorch (every input then comes from --input).
  std::map<std::string, std::filesystem::path> reference_files;
  bool json = false;
  bool localize = false;
  bool time = false;
  std::optional<double> min_cosine, max_rel_error, max_abs_error, min_top1;
  CommonFlags common;
};

/// How one output compares, worst over the runs.
struct Metrics {
  double max_abs = 0;
  double max_rel = 0;  ///< max abs error / (max - min of the reference)
  double cosine = 1;
  double top1 = -1;  ///< fraction of rows whose argmax agrees; -1 when not 2-D
  /// Integer and bool outputs are compared exactly: the elements that differ (the most of any
  /// run), of `elements`. -1 for float outputs.
  int64_t mismatches = -1;
  int64_t elements = 0;
  Fp16Underflow underflow;  ///< of the reference, the worst run's
};

/// What the converter recorded of a model input (kInputsKey): the dtype of its forward()
/// argument, and for embedding ids the bound random ids stay below.
struct InputInfo {
  std::string dtype;  ///< "fp32", "fp16", "int32", "int64", "bool", "uint8"
  int64_t high = 0;   ///< random integers are drawn in [0, high); 0: the default range
};

/// The outputs of every run compared.
struct Comparison {
  int runs = 1;                                    ///< 1 when every input is given
  std::vector<Metrics> worst;                      ///< per package output
  std::map<std::string, at::Tensor> first_inputs;  ///< the first run's, by package input name
  double torch_seconds = 0;                        ///< summed over the timed runs
  double interp_seconds = 0;
};

/// One value compared during localization.
struct LocalValue {
  std::string var;
  std::string op_type;
  std::string ts_value, ts_op, source;
  double error = 0;         ///< max abs error / peak |reference|
  double input_error = 0;   ///< largest error among the compared values it is computed from
  Fp16Underflow underflow;  ///< of the reference values
};

/// What localization found.
struct Localization {
  bool available = false;
  bool fp16 = false;  ///< the package computes in FP16
  std::string note;   ///< why it is unavailable, or what was found
  int compared = 0;
  std::optional<LocalValue> first_jump;
  /// fp16 packages: the first value whose reference falls below FP16's range.
  std::optional<LocalValue> first_underflow;
  std::vector<LocalValue> values;  ///< program order
  double floor = 0;
};

/// Step 1: parses the arguments after "verify" (class kUsage errors).
absl::StatusOr<VerifyArgs> ParseVerifyArgs(const std::vector<std::string>& args);

/// Step 2: refuses (kInputSpec, naming `package`) a package whose inputs and outputs alone, as
/// fp32 tensors in LibTorch and in the interpreter, need more than `available_bytes`: verify would
/// otherwise be killed for memory (a crafted package declaring a 2^33-element input).
absl::Status CheckMemoryFits(const std::string& package, const std::vector<interp::Feature>& inputs,
                             const std::vector<interp::Feature>& outputs, double available_bytes);

/// The memory this process may still use: the smaller of the system's available memory
/// (MemAvailable) and the address-space limit (`ulimit -v`), in bytes.
double AvailableMemoryBytes();

/// Step 3: whether the package computes in FP16: the converter's precision metadata, else any
/// non-const op producing an fp16 value.
bool PackageIsFp16(const interp::Interpreter& interp);

/// Step 3: the default tolerance of the precision, with the --min-cosine, --max-rel-error,
/// --max-abs-error and --min-top1 given in `a`.
Tolerance ToleranceFor(const VerifyArgs& a, bool fp16);

/// Step 4: the names of forward()'s arguments (self excluded), to pass inputs by name.
std::vector<std::string> ForwardArgNames(const torch::jit::Module& module);

/// Step 4: the --input files by package input name, integer and bool arrays exactly; class
/// kInputSpec for a name the package does not have, a file that cannot be read, a float array for
/// an integer or bool input, or integers beyond int32 (the package's input dtype).
absl::StatusOr<std::map<std::string, at::Tensor>> ReadInputFiles(
    const VerifyArgs& a, const std::vector<interp::Feature>& features,
    const std::map<std::string, InputInfo>& info = {});

/// Step 4: each input's InputInfo from the package metadata (kInputsKey); inputs it does not
/// name get their feature's dtype (packages converted before it existed).
std::map<std::string, InputInfo> ReadInputInfo(const interp::Interpreter& interp);

/// Step 4 (--reference): the reference of every package output, in output order; class
/// kInputSpec for an output without one, a name the package does not have, an input not given
/// with --input, or a file that cannot be read or has another shape than its output.
absl::StatusOr<std::vector<at::Tensor>> ReadReferenceFiles(
    const VerifyArgs& a, const std::vector<interp::Feature>& inputs,
    const std::vector<interp::Feature>& outputs);

/// Step 5: one run's inputs by package input name, in the dtype of their forward() argument
/// (int64, int32, bool or float): the given ones, else random from `gen` (ints in [0, high) when
/// the converter recorded a bound such as an embedding's size, else [0, 10); fair bools; normal
/// floats); inputs of fp16 features are rounded to fp16.
std::map<std::string, at::Tensor> RandomInputs(const std::vector<interp::Feature>& features,
                                               const std::map<std::string, InputInfo>& info,
                                               const std::map<std::string, at::Tensor>& fixed,
                                               at::Generator& gen);

/// Step 5: forward()'s arguments from `inputs`: by (sanitized) argument name when every name is
/// a package input, else by position.
std::vector<c10::IValue> TorchInputs(const std::vector<std::string>& arg_names,
                                     const std::vector<interp::Feature>& features,
                                     const std::map<std::string, at::Tensor>& inputs);

/// Step 5: how `got` compares with the reference `ref`; exactly (Metrics::mismatches) when `ref`
/// holds integers or bools.
Metrics Compare(const at::Tensor& ref, const at::Tensor& got);

/// Step 5: folds `m` into `acc`, keeping the worst of each metric (NaN is the worst); the first
/// run's metrics replace `acc`.
void Worst(Metrics* acc, const Metrics& m, bool first);

/// Step 6: why an output is out of tolerance, or "" when it is within.
std::string Verdict(const Metrics& m, const Tolerance& t);

/// Step 7: the inputs of the first run keyed both by package input name and by forward()
/// argument name, as Localize needs them.
std::map<std::string, at::Tensor> LocalizeInputs(const std::vector<std::string>& arg_names,
                                                 const std::vector<interp::Feature>& features,
                                                 const std::map<std::string, at::Tensor>& first);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CLI_VERIFY_STEPS_H_
