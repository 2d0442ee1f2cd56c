/// What an op implementation sees: its inputs as ATen tensors, typed parameter accessors, and
/// where to put its outputs. Included only by the interpreter and the ops_*.cpp files.
///
///   void Relu(OpContext& ctx) { ctx.SetOutput(0, at::relu(ctx.Tensor("x"))); }
///
/// Values follow MIL dtypes: fp16 and fp32 values are held as float32 tensors (an fp16 value
/// holds fp16-representable numbers: the interpreter rounds after each op), int32 (and other
/// integer types) as int32 tensors, bools as bool tensors, strings as strings.
#ifndef TS2COREML_CORE_INTERP_OP_CONTEXT_H_
#define TS2COREML_CORE_INTERP_OP_CONTEXT_H_

#include <ATen/ATen.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/mil/package_reader.h"
#include "core/mil/proto/mil.pb.h"

namespace ts2coreml::interp {

namespace milspec = ::CoreML::Specification::MILSpec;

/// One MIL value.
struct Value {
  at::Tensor tensor;
  milspec::DataType dtype = milspec::UNUSED_TYPE;
  /// For STRING values (a scalar string has one element).
  std::vector<std::string> strings;

  bool is_string() const { return dtype == milspec::STRING; }
};

/// Thrown by OpContext::Fail; caught by the interpreter at the op boundary.
class OpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// "fp16", "fp32", "int32", ...
using mil::DataTypeName;
bool IsFloatType(milspec::DataType dtype);
bool IsIntType(milspec::DataType dtype);
/// The storage scalar type of a MIL dtype (kFloat for every float type, kInt for integers).
at::ScalarType StorageType(milspec::DataType dtype);
/// Rounds float values to the nearest fp16 (ties to even; overflow gives infinity).
at::Tensor RoundToFp16(const at::Tensor& t);
/// Normalizes a possibly negative axis for a tensor of `rank`; throws OpError when out of range.
int64_t NormalizeAxis(int64_t axis, int64_t rank);

class OpContext {
 public:
  /// `inputs` maps each input name to its bound values (several for tuple inputs).
  OpContext(const milspec::Operation& op, std::map<std::string, std::vector<const Value*>> inputs);

  const milspec::Operation& op() const { return op_; }
  const std::string& type() const { return op_.type(); }

  /// Fails (OpError) when an input is bound that the op does not have in Core ML's opset of iOS
  /// `ios` (ts2coreml/mil_opset.h): a misspelled parameter would otherwise be ignored and its
  /// default used. Ops the table does not know are left to the op table.
  void RefuseUnknownInputs(int ios) const;

  /// Whether input `name` is bound.
  bool Has(absl::string_view name) const;
  /// The single value bound to `name`; Fail() when missing or a tuple.
  const Value& Input(absl::string_view name) const;
  /// Every value bound to a tuple input (concat's `values`).
  std::vector<const Value*> Tuple(absl::string_view name) const;

  /// The tensor of input `name`.
  at::Tensor Tensor(absl::string_view name) const { return Input(name).tensor; }
  /// The tensor of optional input `name`, or an undefined tensor.
  at::Tensor OptionalTensor(absl::string_view name) const;
  milspec::DataType DType(absl::string_view name) const { return Input(name).dtype; }

  // Parameters (usually consts): scalars or 1-D tensors read on the host.
  int64_t Int(absl::string_view name) const;
  int64_t Int(absl::string_view name, int64_t fallback) const;
  std::vector<int64_t> Ints(absl::string_view name) const;
  std::vector<int64_t> Ints(absl::string_view name, std::vector<int64_t> fallback) const;
  double Float(absl::string_view name) const;
  double Float(absl::string_view name, double fallback) const;
  bool Bool(absl::string_view name) const;
  bool Bool(absl::string_view name, bool fallback) const;
  std::vector<bool> Bools(absl::string_view name, std::vector<bool> fallback) const;
  std::string String(absl::string_view name) const;
  std::string String(absl::string_view name, std::string fallback) const;

  /// Number of outputs the op declares.
  int num_outputs() const { return op_.outputs_size(); }
  /// The dtype the package declares for output `i`.
  milspec::DataType DeclaredDType(int i) const;
  /// The shape the package declares for output `i` (-1 for an unknown dimension).
  std::vector<int64_t> DeclaredShape(int i) const;

  /// Sets output `i`. Its MIL dtype is `dtype` when given, else derived from the tensor: bool,
  /// int32, or for floats the dtype of the op's float inputs (input "x" first, then "values",
  /// then any other in name order; fp32 when there are none).
  void SetOutput(int i, at::Tensor tensor, milspec::DataType dtype = milspec::UNUSED_TYPE);
  /// Sets a string output.
  void SetStringOutput(int i, std::vector<std::string> strings);

  /// Throws OpError with `message`; the interpreter adds the op's name and type.
  [[noreturn]] void Fail(const std::string& message) const;

  /// The outputs set so far (index -> value).
  std::map<int, Value>& outputs() { return outputs_; }

 private:
  milspec::DataType FloatInputType() const;

  const milspec::Operation& op_;
  std::map<std::string, std::vector<const Value*>> inputs_;
  std::map<int, Value> outputs_;
};

}  // namespace ts2coreml::interp

#endif  // TS2COREML_CORE_INTERP_OP_CONTEXT_H_
