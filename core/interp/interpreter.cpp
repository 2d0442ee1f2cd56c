#include "core/interp/interpreter.h"

#include <c10/util/Exception.h>

#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/errors.h"
#include "core/interp/op_table.h"
#include "core/mil/fp16.h"
#include "ts2coreml/mil_opset.h"

namespace ts2coreml::interp {
namespace {

using core::Error;
using core::ErrorClass;

std::vector<int64_t> ShapeOf(const milspec::TensorType& t) {
  std::vector<int64_t> shape;
  for (const milspec::Dimension& d : t.dimensions()) {
    shape.push_back(d.has_constant() ? static_cast<int64_t>(d.constant().size()) : -1);
  }
  return shape;
}

std::string TypeString(milspec::DataType dtype, at::IntArrayRef shape) {
  return absl::StrCat(DataTypeName(dtype), "[", absl::StrJoin(shape, ","), "]");
}

std::string DeclaredString(const milspec::TensorType& t) {
  std::vector<std::string> dims;
  for (int64_t d : ShapeOf(t)) dims.push_back(d < 0 ? "?" : absl::StrCat(d));
  return absl::StrCat(DataTypeName(t.datatype()), "[", absl::StrJoin(dims, ","), "]");
}

std::string OpName(const milspec::Operation& op) {
  auto it = op.attributes().find("name");
  if (it != op.attributes().end() && it->second.has_immediatevalue() &&
      it->second.immediatevalue().tensor().has_strings() &&
      it->second.immediatevalue().tensor().strings().values_size() == 1) {
    return it->second.immediatevalue().tensor().strings().values(0);
  }
  return op.outputs_size() > 0 ? op.outputs(0).name() : std::string("?");
}

bool IsControlFlowOp(const std::string& type) { return type == "cond" || type == "while_loop"; }

at::Tensor FromFloats(const std::vector<float>& values, const std::vector<int64_t>& shape) {
  return at::from_blob(const_cast<float*>(values.data()), shape, at::kFloat).clone();
}

}  // namespace

namespace {

/// The numbers of an immediate constant: floats, or integers (ints, bools, int8/uint8 bytes).
struct ImmediateNumbers {
  std::vector<float> floats;
  std::vector<int64_t> ints;
  bool is_int = false;

  int64_t count() const {
    return is_int ? static_cast<int64_t>(ints.size()) : static_cast<int64_t>(floats.size());
  }
};

/// Raw little-endian bytes of dtype `dtype` (fp16, int8, uint8, bool) into `out`.
absl::Status ReadRawBytes(const std::string& b, milspec::DataType dtype, ImmediateNumbers* out) {
  if (dtype == milspec::FLOAT16) {
    for (size_t i = 0; i + 1 < b.size(); i += 2) {
      uint16_t h;
      std::memcpy(&h, b.data() + i, 2);
      out->floats.push_back(mil::HalfToFloat(h));
    }
  } else if (dtype == milspec::INT8) {
    for (char c : b) out->ints.push_back(static_cast<int8_t>(c));
    out->is_int = true;
  } else if (dtype == milspec::UINT8 || dtype == milspec::BOOL) {
    for (char c : b) out->ints.push_back(static_cast<uint8_t>(c));
    out->is_int = true;
  } else {
    return absl::UnimplementedError(
        absl::StrCat("raw bytes of dtype ", DataTypeName(dtype), " are not supported"));
  }
  return absl::OkStatus();
}

/// The numbers of immediate tensor `tv` (not strings) of dtype `dtype`.
absl::StatusOr<ImmediateNumbers> ReadImmediateNumbers(const milspec::TensorValue& tv,
                                                      milspec::DataType dtype) {
  ImmediateNumbers out;
  if (tv.has_floats()) {
    out.floats.assign(tv.floats().values().begin(), tv.floats().values().end());
  } else if (tv.has_doubles()) {
    out.floats.assign(tv.doubles().values().begin(), tv.doubles().values().end());
  } else if (tv.has_ints()) {
    out.ints.assign(tv.ints().values().begin(), tv.ints().values().end());
    out.is_int = true;
  } else if (tv.has_longints()) {
    out.ints.assign(tv.longints().values().begin(), tv.longints().values().end());
    out.is_int = true;
  } else if (tv.has_bools()) {
    for (bool b : tv.bools().values()) out.ints.push_back(b ? 1 : 0);
    out.is_int = true;
  } else if (tv.has_bytes()) {
    if (absl::Status s = ReadRawBytes(tv.bytes().values(), dtype, &out); !s.ok()) return s;
  }
  return out;
}

}  // namespace

absl::StatusOr<Value> ValueFromProto(const mil::Package& package, const milspec::Value& value) {
  if (!value.has_type() || !value.type().has_tensortype()) {
    return absl::InvalidArgumentError("a value that is not a tensor");
  }
  const milspec::TensorType& type = value.type().tensortype();
  Value v;
  v.dtype = type.datatype();
  std::vector<int64_t> shape = ShapeOf(type);
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0) return absl::InvalidArgumentError("a constant with an unknown dimension");
    numel *= d;
  }
  if (value.has_blobfilevalue()) {
    absl::StatusOr<std::vector<float>> floats = mil::ReadConstFloats(package, value);
    if (!floats.ok()) return floats.status();
    v.tensor = FromFloats(*floats, shape).to(StorageType(v.dtype));
    return v;
  }
  if (!value.has_immediatevalue() || !value.immediatevalue().has_tensor()) {
    return absl::InvalidArgumentError("a value that is neither immediate nor in a blob file");
  }
  const milspec::TensorValue& tv = value.immediatevalue().tensor();
  if (tv.has_strings()) {
    v.strings.assign(tv.strings().values().begin(), tv.strings().values().end());
    if (static_cast<int64_t>(v.strings.size()) != numel) {
      return absl::InvalidArgumentError(
          absl::StrCat("a string constant of ", numel, " elements holds ", v.strings.size()));
    }
    return v;
  }
  absl::StatusOr<ImmediateNumbers> numbers = ReadImmediateNumbers(tv, v.dtype);
  if (!numbers.ok()) return numbers.status();
  if (numbers->count() != numel) {
    return absl::InvalidArgumentError(absl::StrCat("a constant of type ", DeclaredString(type),
                                                   " holds ", numbers->count(), " elements"));
  }
  at::Tensor t = numbers->is_int ? at::tensor(numbers->ints, at::kLong).reshape(shape)
                                 : FromFloats(numbers->floats, shape);
  v.tensor = t.to(StorageType(v.dtype));
  if (v.dtype == milspec::FLOAT16) v.tensor = RoundToFp16(v.tensor);
  return v;
}

namespace {

/// Records the types of `block`'s vars, loads its consts and collects the op types the
/// interpreter does not implement, nested blocks included.
absl::Status ScanBlock(const mil::Package& pkg, const milspec::Block& block,
                       const std::string& where,
                       std::map<std::string, const milspec::TensorType*>* types,
                       std::map<std::string, Value>* consts, std::set<std::string>* unknown) {
  const OpTable& table = BuiltinOps();
  for (const milspec::NamedValueType& in : block.inputs()) {
    (*types)[in.name()] = &in.type().tensortype();
  }
  for (const milspec::Operation& op : block.operations()) {
    for (const milspec::NamedValueType& out : op.outputs()) {
      (*types)[out.name()] = &out.type().tensortype();
    }
    for (const milspec::Block& nested : op.blocks()) {
      if (absl::Status s = ScanBlock(pkg, nested, where, types, consts, unknown); !s.ok()) {
        return s;
      }
    }
    if (op.type() == "const") {
      auto val = op.attributes().find("val");
      if (val == op.attributes().end() || op.outputs_size() != 1) {
        return Error(ErrorClass::kPackage, absl::StrCat(where, ": const '", OpName(op),
                                                        "' has no 'val' or not one output"));
      }
      absl::StatusOr<Value> v = ValueFromProto(pkg, val->second);
      if (!v.ok()) {
        return Error(ErrorClass::kPackage,
                     absl::StrCat(where, ": const '", OpName(op), "': ", v.status().message()));
      }
      (*consts)[op.outputs(0).name()] = *std::move(v);
      continue;
    }
    if (IsControlFlowOp(op.type())) {
      const int want = 2;
      if (op.blocks_size() != want) {
        return Error(ErrorClass::kPackage,
                     absl::StrCat(where, ": op '", OpName(op), "' (", op.type(), ") has ",
                                  op.blocks_size(), " blocks, not ", want));
      }
      continue;
    }
    if (op.blocks_size() > 0) {
      return Error(ErrorClass::kPackage, absl::StrCat(where, ": op '", OpName(op), "' (", op.type(),
                                                      ") has nested blocks"));
    }
    if (table.Find(op.type()) == nullptr) unknown->insert(op.type());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Interpreter> Interpreter::Load(const std::filesystem::path& package_dir) {
  absl::StatusOr<mil::Package> package = mil::ReadPackage(package_dir);
  if (!package.ok()) {
    return Error(ErrorClass::kPackage,
                 absl::StrCat(package_dir.string(), ": ", package.status().message()));
  }
  return FromPackage(*std::move(package));
}

absl::StatusOr<Interpreter> Interpreter::FromPackage(mil::Package package) {
  const std::string where = package.root.string();
  if (absl::Status s = mil::ValidatePackage(package); !s.ok()) {
    return Error(ErrorClass::kPackage, absl::StrCat(where, ": ", s.message()));
  }
  Interpreter interp;
  interp.package_ = std::make_shared<const mil::Package>(std::move(package));
  const mil::Package& pkg = *interp.package_;
  absl::StatusOr<const milspec::Block*> block = mil::MainBlock(pkg);
  if (!block.ok())
    return Error(ErrorClass::kPackage, absl::StrCat(where, ": ", block.status().message()));
  interp.block_ = *block;
  // An opset the table does not know is checked against the newest one.
  const int ios = opset::IosForOpset(pkg.model.mlprogram().functions().at("main").opset());
  interp.ios_ = ios != 0 ? ios : 18;
  for (const auto& [k, v] : pkg.model.description().metadata().userdefined()) {
    interp.metadata_[k] = v;
  }
  const milspec::Function& main = pkg.model.mlprogram().functions().at("main");
  std::map<std::string, const milspec::TensorType*> types;
  for (const milspec::NamedValueType& in : main.inputs()) {
    const milspec::TensorType& t = in.type().tensortype();
    interp.inputs_.push_back({in.name(), t.datatype(), ShapeOf(t)});
    types[in.name()] = &t;
  }
  // Every op type must be known before anything runs: report all unknown ones at once.
  std::set<std::string> unknown;
  auto consts = std::make_shared<std::map<std::string, Value>>();
  if (absl::Status s = ScanBlock(pkg, *interp.block_, where, &types, consts.get(), &unknown);
      !s.ok()) {
    return s;
  }
  if (!unknown.empty()) {
    return Error(ErrorClass::kPackage,
                 absl::StrCat(where, ": the interpreter does not implement MIL op",
                              unknown.size() > 1 ? "s " : " ", absl::StrJoin(unknown, ", "),
                              "; add it to core/interp (see docs/verify.md)"));
  }
  for (const std::string& name : interp.block_->outputs()) {
    auto it = types.find(name);
    if (it == types.end()) {
      return Error(ErrorClass::kPackage,
                   absl::StrCat(where, ": block output '", name, "' is undefined"));
    }
    interp.outputs_.push_back({name, it->second->datatype(), ShapeOf(*it->second)});
  }
  interp.consts_ = std::move(consts);
  return interp;
}

namespace {

/// Whether a produced value matches its declared type (integer types narrower than int32 are
/// held as int32 and accepted as declared).
bool Matches(const Value& v, const milspec::TensorType& want) {
  const bool dtype_ok =
      v.dtype == want.datatype() || (IsIntType(v.dtype) && IsIntType(want.datatype()));
  if (!dtype_ok) return false;
  if (v.is_string()) return true;
  const std::vector<int64_t> shape = ShapeOf(want);
  if (static_cast<int64_t>(shape.size()) != v.tensor.dim()) return false;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] >= 0 && shape[d] != v.tensor.size(static_cast<int64_t>(d))) return false;
  }
  return true;
}

std::string ValueTypeString(const Value& v) {
  return v.is_string() ? DataTypeName(v.dtype) : TypeString(v.dtype, v.tensor.sizes());
}

/// A while_loop runs at most this many iterations in the interpreter.
constexpr int64_t kMaxIterations = int64_t{1} << 24;

}  // namespace

const Value* Interpreter::Lookup(const Env& env, const std::string& name) const {
  if (auto it = env.find(name); it != env.end()) return &it->second;
  if (auto it = consts_->find(name); it != consts_->end()) return &it->second;
  return nullptr;
}

absl::Status Interpreter::Store(const milspec::Operation& op, int i, Value v, Env& env) const {
  const milspec::NamedValueType& decl = op.outputs(i);
  const milspec::TensorType& want = decl.type().tensortype();
  if (!Matches(v, want)) {
    return Error(
        ErrorClass::kCheckFailed,
        absl::StrCat("op '", OpName(op), "' (", op.type(), "): output '", decl.name(), "' is ",
                     ValueTypeString(v), " but the package declares ", DeclaredString(want)));
  }
  v.dtype = want.datatype();
  if (v.dtype == milspec::FLOAT16) v.tensor = RoundToFp16(v.tensor);
  env[decl.name()] = std::move(v);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Value>> Interpreter::RunNested(const milspec::Block& block,
                                                          const std::vector<Value>& inputs,
                                                          Env& env) const {
  if (block.inputs_size() != static_cast<int>(inputs.size())) {
    return Error(ErrorClass::kPackage, absl::StrCat("a block with ", block.inputs_size(),
                                                    " inputs receives ", inputs.size()));
  }
  for (int k = 0; k < block.inputs_size(); ++k) {
    const milspec::TensorType& want = block.inputs(k).type().tensortype();
    if (!Matches(inputs[static_cast<size_t>(k)], want)) {
      return Error(ErrorClass::kCheckFailed,
                   absl::StrCat("block input '", block.inputs(k).name(), "' receives ",
                                ValueTypeString(inputs[static_cast<size_t>(k)]),
                                " but the package declares ", DeclaredString(want)));
    }
    env[block.inputs(k).name()] = inputs[static_cast<size_t>(k)];
  }
  if (absl::Status s = RunBlock(block, env); !s.ok()) return s;
  std::vector<Value> outputs;
  for (const std::string& name : block.outputs()) {
    const Value* v = Lookup(env, name);
    if (v == nullptr) {
      return Error(ErrorClass::kPackage, absl::StrCat("block output '", name, "' is undefined"));
    }
    outputs.push_back(*v);
  }
  return outputs;
}

namespace {

/// The single bool a condition holds.
absl::StatusOr<bool> Truth(const Value& v, const std::string& what) {
  if (v.is_string() || v.dtype != milspec::BOOL || v.tensor.numel() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not one bool"));
  }
  return v.tensor.item<bool>();
}

}  // namespace

namespace {

/// The vars `block` defines (its inputs, its ops' outputs), nested blocks included.
void CollectBlockVars(const milspec::Block& block, std::vector<std::string>* names) {
  for (const milspec::NamedValueType& in : block.inputs()) names->push_back(in.name());
  for (const milspec::Operation& op : block.operations()) {
    for (const milspec::Block& b : op.blocks()) CollectBlockVars(b, names);
    for (const milspec::NamedValueType& out : op.outputs()) names->push_back(out.name());
  }
}

}  // namespace

absl::StatusOr<std::vector<Value>> Interpreter::RunWhileLoop(const milspec::Operation& op,
                                                             std::vector<Value> vars,
                                                             Env& env) const {
  auto fail = [&](absl::string_view message) {
    return Error(ErrorClass::kPackage,
                 absl::StrCat("op '", OpName(op), "' (", op.type(), "): ", message));
  };
  // After the loop, the body's vars hold their first trip's values (no reader outside the body
  // sees them; verify --localize compares the first trip, whose inputs it knows).
  std::vector<std::string> body_vars;
  CollectBlockVars(op.blocks(1), &body_vars);
  Env first_trip;
  for (int64_t trip = 0;; ++trip) {
    if (trip >= kMaxIterations) {
      return fail(absl::StrCat("ran more than ", kMaxIterations, " iterations"));
    }
    absl::StatusOr<std::vector<Value>> go = RunNested(op.blocks(0), vars, env);
    if (!go.ok()) return go.status();
    if (go->size() != 1) return fail("the condition block yields not one value");
    absl::StatusOr<bool> again = Truth((*go)[0], "the condition");
    if (!again.ok()) return fail(again.status().message());
    if (!*again) break;
    absl::StatusOr<std::vector<Value>> next = RunNested(op.blocks(1), vars, env);
    if (!next.ok()) return next.status();
    vars = *std::move(next);
    if (trip > 0) continue;
    for (const std::string& name : body_vars) {
      if (auto it = env.find(name); it != env.end()) first_trip[name] = it->second;
    }
  }
  for (auto& [name, value] : first_trip) env[name] = std::move(value);
  return vars;
}

absl::Status Interpreter::RunControlFlow(const milspec::Operation& op,
                                         const std::map<std::string, std::vector<const Value*>>& in,
                                         Env& env) const {
  auto fail = [&](ErrorClass c, absl::string_view message) {
    return Error(c, absl::StrCat("op '", OpName(op), "' (", op.type(), "): ", message));
  };
  absl::StatusOr<std::vector<Value>> results;
  if (op.type() == "cond") {
    auto pred = in.find("pred");
    if (pred == in.end() || pred->second.size() != 1) return fail(ErrorClass::kPackage, "no pred");
    absl::StatusOr<bool> taken = Truth(*pred->second[0], "pred");
    if (!taken.ok()) return fail(ErrorClass::kPackage, taken.status().message());
    results = RunNested(op.blocks(*taken ? 0 : 1), {}, env);
  } else {
    auto vars = in.find("loop_vars");
    if (vars == in.end()) return fail(ErrorClass::kPackage, "no loop_vars");
    std::vector<Value> init;
    for (const Value* v : vars->second) init.push_back(*v);
    results = RunWhileLoop(op, std::move(init), env);
  }
  if (!results.ok()) return results.status();
  if (static_cast<int>(results->size()) != op.outputs_size()) {
    return fail(ErrorClass::kPackage, absl::StrCat("yields ", results->size(), " values for ",
                                                   op.outputs_size(), " outputs"));
  }
  for (int i = 0; i < op.outputs_size(); ++i) {
    if (absl::Status s = Store(op, i, std::move((*results)[static_cast<size_t>(i)]), env);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Interpreter::RunBlock(const milspec::Block& block, Env& env) const {
  std::vector<Value> inline_values;  // keeps inline arguments alive during one op
  const OpTable& table = BuiltinOps();
  for (const milspec::Operation& op : block.operations()) {
    if (op.type() == "const") continue;
    const std::string name = OpName(op);
    auto fail = [&](ErrorClass c, absl::string_view message) {
      return Error(c, absl::StrCat("op '", name, "' (", op.type(), "): ", std::string(message)));
    };
    std::map<std::string, std::vector<const Value*>> bound;
    inline_values.clear();
    inline_values.reserve(64);
    for (const auto& [arg_name, arg] : op.inputs()) {
      std::vector<const Value*>& slot = bound[arg_name];
      for (const milspec::Argument::Binding& b : arg.arguments()) {
        if (b.has_value()) {
          absl::StatusOr<Value> v = ValueFromProto(*package_, b.value());
          if (!v.ok()) return fail(ErrorClass::kPackage, v.status().message());
          if (inline_values.size() == inline_values.capacity()) {
            return fail(ErrorClass::kPackage, "too many inline arguments");
          }
          inline_values.push_back(*std::move(v));
          slot.push_back(&inline_values.back());
        } else {
          const Value* v = Lookup(env, b.name());
          if (v == nullptr) {
            return fail(
                ErrorClass::kPackage,
                absl::StrCat("input '", arg_name, "' names undefined var '", b.name(), "'"));
          }
          slot.push_back(v);
        }
      }
    }
    if (IsControlFlowOp(op.type())) {
      if (absl::Status s = RunControlFlow(op, bound, env); !s.ok()) return s;
      continue;
    }
    OpContext ctx(op, std::move(bound));
    try {
      ctx.RefuseUnknownInputs(ios_);
      table.Find(op.type())(ctx);
    } catch (const OpError& e) {
      return fail(ErrorClass::kPackage, e.what());
    } catch (const c10::Error& e) {
      return fail(ErrorClass::kPackage, e.what_without_backtrace());
    } catch (const std::exception& e) {
      return fail(ErrorClass::kPackage, e.what());
    }
    for (int i = 0; i < op.outputs_size(); ++i) {
      auto it = ctx.outputs().find(i);
      if (it == ctx.outputs().end()) {
        return fail(ErrorClass::kPackage,
                    absl::StrCat("output ", i, " ('", op.outputs(i).name(), "') was not produced"));
      }
      if (absl::Status s = Store(op, i, std::move(it->second), env); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RunResult> Interpreter::Run(const std::map<std::string, at::Tensor>& inputs,
                                           const RunOptions& options) const {
  at::NoGradGuard no_grad;
  std::map<std::string, Value> env;
  for (const Feature& in : inputs_) {
    auto it = inputs.find(in.name);
    if (it == inputs.end()) {
      return Error(ErrorClass::kInputSpec,
                   absl::StrCat("no value given for input '", in.name, "'"));
    }
    const at::Tensor& t = it->second;
    bool shape_ok = static_cast<int64_t>(in.shape.size()) == t.dim();
    for (size_t d = 0; shape_ok && d < in.shape.size(); ++d) {
      shape_ok = in.shape[d] < 0 || in.shape[d] == t.size(static_cast<int64_t>(d));
    }
    if (!shape_ok) {
      return Error(ErrorClass::kInputSpec,
                   absl::StrCat("input '", in.name, "' has shape [", absl::StrJoin(t.sizes(), ","),
                                "], the package expects ", TypeString(in.dtype, in.shape)));
    }
    Value v;
    v.dtype = in.dtype;
    v.tensor = t.to(StorageType(in.dtype)).contiguous();
    if (in.dtype == milspec::FLOAT16) v.tensor = RoundToFp16(v.tensor);
    env[in.name] = std::move(v);
  }
  if (absl::Status st = RunBlock(*block_, env); !st.ok()) return st;
  auto lookup = [&](const std::string& name) -> const Value* {
    if (auto it = env.find(name); it != env.end()) return &it->second;
    if (auto it = consts_->find(name); it != consts_->end()) return &it->second;
    return nullptr;
  };
  RunResult result;
  for (const Feature& out : outputs_) {
    const Value* v = lookup(out.name);
    if (v == nullptr || v->is_string()) {
      return Error(ErrorClass::kPackage,
                   absl::StrCat("block output '", out.name, "' has no tensor value"));
    }
    result.outputs[out.name] = v->tensor;
  }
  if (options.keep_intermediates) {
    result.values = std::move(env);
    for (const auto& [k, v] : *consts_) result.values.emplace(k, v);
  }
  return result;
}

}  // namespace ts2coreml::interp
