/// A reference interpreter for Core ML ML Programs, on the CPU with ATen kernels.
///
/// Reads any ML Program package (ours or another tool's), evaluates the main block op by op
/// (nested blocks of cond and while_loop included) with MIL semantics (Apple's op definitions), and
/// checks each op's result against the type the package declares. FP16 is emulated: every value
/// whose declared dtype is fp16 is rounded to fp16 after its op, which computes in fp32. That
/// approximates, and does not reproduce, a device's numerics (devices may accumulate in fp16, fuse
/// ops, or use other algorithms).
///
///   absl::StatusOr<Interpreter> interp = Interpreter::Load("Net.mlpackage");
///   absl::StatusOr<RunResult> r = interp->Run({{"x", at::randn({1, 3, 224, 224})}});
///   at::Tensor y = r->outputs.at("output_0");
///
/// Errors: a package that cannot be read, or holds an op this interpreter does not implement, is
/// ErrorClass::kPackage (exit code 8; the message names the op type and the op). An op whose
/// result differs from its declared dtype or shape is ErrorClass::kCheckFailed (exit code 1): the
/// package is wrong, which is what `verify` is for.
#ifndef TS2COREML_CORE_INTERP_INTERPRETER_H_
#define TS2COREML_CORE_INTERP_INTERPRETER_H_

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/interp/op_context.h"
#include "core/mil/package_reader.h"

namespace ts2coreml::interp {

/// A model input or output as the package describes it.
struct Feature {
  std::string name;
  milspec::DataType dtype = milspec::FLOAT32;
  std::vector<int64_t> shape;
};

struct RunOptions {
  /// Keep every intermediate value in RunResult::values (for localization).
  bool keep_intermediates = false;
};

struct RunResult {
  /// Block outputs by name, as float32 (fp16 outputs hold fp16-representable values), int32 or
  /// bool tensors.
  std::map<std::string, at::Tensor> outputs;
  /// Every var's value by name, when RunOptions::keep_intermediates (the vars of a cond's branch
  /// not taken have none; a while_loop body's hold their first trip's values).
  std::map<std::string, Value> values;
};

class Interpreter {
 public:
  /// Reads and validates `package_dir` and loads every constant.
  static absl::StatusOr<Interpreter> Load(const std::filesystem::path& package_dir);
  /// Same for a package already read.
  static absl::StatusOr<Interpreter> FromPackage(mil::Package package);

  const std::vector<Feature>& inputs() const { return inputs_; }
  const std::vector<Feature>& outputs() const { return outputs_; }
  /// Metadata.userDefined.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  /// The main block's ops (consts included), in order.
  const milspec::Block& block() const { return *block_; }

  /// Runs the main block. `inputs` maps every function input name to a tensor of its shape
  /// (converted to the input's dtype; fp16 inputs are rounded).
  absl::StatusOr<RunResult> Run(const std::map<std::string, at::Tensor>& inputs,
                                const RunOptions& options = {}) const;

 private:
  Interpreter() = default;
  /// Values by var name. Names are unique in a function, so nested blocks share one map.
  using Env = std::map<std::string, Value>;

  const Value* Lookup(const Env& env, const std::string& name) const;
  /// Runs the ops of `block` (cond and while_loop included) in `env`.
  absl::Status RunBlock(const milspec::Block& block, Env& env) const;
  /// Runs nested `block` with its inputs bound to `inputs`; returns what it yields.
  absl::StatusOr<std::vector<Value>> RunNested(const milspec::Block& block,
                                               const std::vector<Value>& inputs, Env& env) const;
  /// cond (the branch `pred` picks) and while_loop (the body while the condition block yields
  /// true), with MIL's semantics (coremltools' control_flow.py).
  absl::Status RunControlFlow(const milspec::Operation& op,
                              const std::map<std::string, std::vector<const Value*>>& in,
                              Env& env) const;
  /// A while_loop from loop vars `vars`: returns its results. Afterwards the body's vars hold
  /// their values of the first trip (for localization).
  absl::StatusOr<std::vector<Value>> RunWhileLoop(const milspec::Operation& op,
                                                  std::vector<Value> vars, Env& env) const;
  /// Checks output `i` of `op` against its declared type and stores it.
  absl::Status Store(const milspec::Operation& op, int i, Value v, Env& env) const;

  std::shared_ptr<const mil::Package> package_;
  const milspec::Block* block_ = nullptr;
  int ios_ = 18;  ///< the iOS version of the program's opset, for RefuseUnknownInputs
  std::vector<Feature> inputs_;
  std::vector<Feature> outputs_;
  std::map<std::string, std::string> metadata_;
  /// Values of const ops, by var name.
  std::shared_ptr<std::map<std::string, Value>> consts_;
};

/// Converts a MIL tensor value (a const's `val` or an inline argument) to a Value.
absl::StatusOr<Value> ValueFromProto(const mil::Package& package, const milspec::Value& value);

}  // namespace ts2coreml::interp

#endif  // TS2COREML_CORE_INTERP_INTERPRETER_H_
