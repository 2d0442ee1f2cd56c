/// The in-memory MIL program the converter builds before serializing it.
///
/// A `Function` owns vars and operations in the order they were added, which is a valid SSA
/// (topological) order by construction: an op can only name vars that already exist. Constants are
/// `const` ops whose value is stored in its final dtype (an FP16 weight is held as FP16 bytes).
///
///   mil::Function f("CoreML6");
///   mil::VarId x = f.AddInput("x", {mil::DType::kFloat32, {1, 3}});
///   auto y = f.AddOp("relu", "y", {{"x", {x}}}, {{mil::DType::kFloat32, {1, 3}}});
///   f.AddOutput((*y)[0]);
#ifndef TS2COREML_CORE_MIL_PROGRAM_H_
#define TS2COREML_CORE_MIL_PROGRAM_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ts2coreml::mil {

/// MIL data types; the values equal MILSpec.DataType (and t2c_dtype).
enum class DType : int32_t {
  kInvalid = 0,
  kBool = 1,
  kString = 2,
  kFloat16 = 10,
  kFloat32 = 11,
  kInt32 = 23,
};

/// "fp16", "fp32", "int32", "bool", "string" (the names MIL's cast op uses).
std::string_view DTypeName(DType dtype);
/// Bytes per element; 0 for strings.
size_t DTypeSize(DType dtype);
bool IsFloat(DType dtype);

/// A static tensor type; scalars have an empty shape.
struct TensorType {
  DType dtype = DType::kInvalid;
  std::vector<int64_t> shape;

  int64_t numel() const;
  /// "fp16[1,3,224,224]".
  std::string ToString() const;
  friend bool operator==(const TensorType& a, const TensorType& b) {
    return a.dtype == b.dtype && a.shape == b.shape;
  }
  friend bool operator!=(const TensorType& a, const TensorType& b) { return !(a == b); }
};

/// Float elements that a deferred constant is converted from when it is written.
struct ConstSource {
  DType dtype = DType::kFloat32;      ///< kFloat32 or kFloat16 elements at `data`
  const void* data = nullptr;         ///< type.numel() contiguous elements
  std::shared_ptr<const void> owner;  ///< keeps `data` alive (e.g. LibTorch's tensor)
};

/// A constant's value, stored in its own dtype as raw little-endian bytes (or strings), or
/// deferred: a float constant whose elements stay in their source (the model's weights) and are
/// converted piece by piece while the package is written, so that the converter never holds a
/// second copy of the weights (docs/performance.md).
struct ConstValue {
  TensorType type;
  std::vector<uint8_t> bytes;         ///< numel * DTypeSize(dtype) bytes, for non-string dtypes
  std::vector<std::string> strings;   ///< for DType::kString
  std::optional<ConstSource> source;  ///< set (and `bytes` empty) for deferred constants

  static ConstValue Float32(std::vector<int64_t> shape, const float* data);
  /// Rounds each value to the nearest FP16 (round-to-nearest-even).
  static ConstValue Float16(std::vector<int64_t> shape, const float* data);
  static ConstValue Int32(std::vector<int64_t> shape, const int32_t* data);
  static ConstValue Bool(std::vector<int64_t> shape, const bool* data);
  static ConstValue String(std::string value);
  /// A deferred fp16 or fp32 constant of `shape` converted from `source` (fp32 or fp16) when
  /// written; FP16 rounding as in Float16().
  static ConstValue Deferred(DType dtype, std::vector<int64_t> shape, ConstSource source);

  /// Bytes of the elements in `type.dtype` (0 for strings), deferred or not.
  size_t byte_size() const;
  /// Passes the elements, in `type.dtype`, to `sink` in order, in pieces of at most
  /// `max_elements` elements; stops at the first error `sink` returns.
  absl::Status Stream(const std::function<absl::Status(const void* data, size_t bytes)>& sink,
                      size_t max_elements = size_t{1} << 16) const;
  /// All elements in `type.dtype` (a copy; converts a deferred constant).
  std::vector<uint8_t> Materialize() const;
};

/// 1-based index of a var in its function; 0 means none.
using VarId = int32_t;

struct Var {
  std::string name;
  TensorType type;
  /// Index of the producing op in `Function::ops()`, or -1 for a function or block input.
  int producer = -1;
  /// The block the var is defined in (0: the function's main block).
  int block = 0;
};

/// A block of a function: the main block (0), or a nested block of a `cond` or `while_loop`.
/// It sees the vars of the blocks around it; the vars it defines stay inside.
struct Block {
  int parent = -1;             ///< the enclosing block, -1 for the main block
  std::vector<VarId> inputs;   ///< block inputs (a while_loop's loop vars)
  std::vector<int> ops;        ///< indices into Function::ops(), in order
  std::vector<VarId> outputs;  ///< what the block yields
};

/// One named op input: a single var, or several for tuple parameters (concat's `values`).
struct OpInput {
  std::string name;
  std::vector<VarId> vars;
};

struct Operation {
  std::string type;
  std::string name;
  std::vector<OpInput> inputs;
  std::vector<VarId> outputs;
  /// Set for `const` ops only: the `val` attribute.
  std::optional<ConstValue> value;
  /// Nested blocks (indices into Function::blocks()): cond's two branches, while_loop's
  /// condition and body.
  std::vector<int> blocks;
};

/// Makes `name` a valid MIL identifier (`[A-Za-z_][A-Za-z0-9_]*`), the same way every time.
std::string SanitizeName(std::string_view name);

/// One MIL function: a main block, and the nested blocks of its control-flow ops. Ops are added to
/// the current block (the main block unless a nested one was begun); `ops()` holds every op of
/// every block in the order they were added, each block lists its own (`blocks()`).
class Function {
 public:
  explicit Function(std::string opset) : opset_(std::move(opset)) {}

  const std::string& opset() const { return opset_; }

  /// Adds a function input. Its name is sanitized and made unique.
  VarId AddInput(std::string_view name, TensorType type);
  /// Adds a `const` op producing one var named after `name_hint`. Constants always go to the
  /// main block (they read nothing, so every block sees them).
  VarId AddConst(std::string_view name_hint, ConstValue value);
  /// Adds an op to the current block. Every input var must exist and be visible there (defined
  /// in the current block or one around it); names are made unique. `blocks` are the op's nested
  /// blocks, begun and ended in the current block. Returns the output vars.
  absl::StatusOr<std::vector<VarId>> AddOp(std::string_view type, std::string_view name_hint,
                                           std::vector<OpInput> inputs,
                                           std::vector<TensorType> output_types,
                                           std::vector<int> blocks = {});
  /// Appends a main-block output. Fails for an unknown var.
  absl::Status AddOutput(VarId var);

  /// Begins a nested block inside the current one and makes it current; returns its index.
  int BeginBlock();
  /// Adds an input to the current (nested) block.
  VarId AddBlockInput(std::string_view name, TensorType type);
  /// Ends the current nested block with these outputs (visible in it) and returns to its parent.
  absl::Status EndBlock(std::vector<VarId> outputs);
  /// The block ops are added to now.
  int current_block() const { return current_; }
  /// Whether var `id` can be read in block `block`.
  bool Visible(VarId id, int block) const;
  /// Reserves a name so that no var created later takes it; RenameVar may then claim it.
  void ReserveName(std::string_view name);
  /// Renames a var (used to give model outputs their names); fails when the name is taken.
  absl::Status RenameVar(VarId var, std::string_view name);

  bool IsValid(VarId id) const { return id >= 1 && id <= static_cast<VarId>(vars_.size()); }
  const Var& var(VarId id) const { return vars_.at(static_cast<size_t>(id - 1)); }
  const std::vector<Var>& vars() const { return vars_; }
  const std::vector<VarId>& inputs() const { return inputs_; }
  const std::vector<Operation>& ops() const { return ops_; }
  const std::vector<VarId>& outputs() const { return blocks_[0].outputs; }
  const std::vector<Block>& blocks() const { return blocks_; }
  const Block& block(int index) const { return blocks_.at(static_cast<size_t>(index)); }

 private:
  std::string UniqueName(std::string_view hint);
  VarId NewVar(std::string_view hint, TensorType type, int producer);

  std::string opset_;
  std::vector<Var> vars_;
  std::vector<VarId> inputs_;
  std::vector<Operation> ops_;
  std::vector<Block> blocks_ = std::vector<Block>(1);
  int current_ = 0;
  std::map<std::string, int, std::less<>> used_names_;
  std::set<std::string, std::less<>> reserved_;
  std::map<std::string, int, std::less<>> suffix_counters_;
};

/// A model input or output as ModelDescription states it.
struct FeatureSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
};

/// Everything written into an .mlpackage.
struct ModelSpec {
  int32_t specification_version = 7;
  std::vector<FeatureSpec> inputs;
  std::vector<FeatureSpec> outputs;
  std::string short_description;
  std::string version_string;
  std::string author;
  /// Stored in Metadata.userDefined.
  std::map<std::string, std::string> user_defined;
};

}  // namespace ts2coreml::mil

#endif  // TS2COREML_CORE_MIL_PROGRAM_H_
