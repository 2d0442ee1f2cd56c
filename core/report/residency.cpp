#include "core/report/residency.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"

namespace ts2coreml::core {
namespace {

namespace milspec = CoreML::Specification::MILSpec;

/// A var's static shape, or nullopt when a dimension is not a constant.
using Shape = std::optional<std::vector<int64_t>>;

Shape ShapeOf(const milspec::ValueType& type) {
  if (!type.has_tensortype()) return std::nullopt;
  std::vector<int64_t> dims;
  for (const auto& d : type.tensortype().dimensions()) {
    if (!d.has_constant()) return std::nullopt;
    dims.push_back(static_cast<int64_t>(d.constant().size()));
  }
  return dims;
}

double Elements(const std::vector<int64_t>& shape) {
  double n = 1;
  for (int64_t d : shape) n *= static_cast<double>(d);
  return n;
}

/// The shape of the op's input `name` (its single argument), from `shapes`.
Shape InputShape(const milspec::Operation& op, const std::string& name,
                 const std::map<std::string, Shape>& shapes) {
  auto it = op.inputs().find(name);
  if (it == op.inputs().end() || it->second.arguments_size() != 1) return std::nullopt;
  auto s = shapes.find(it->second.arguments(0).name());
  return s == shapes.end() ? std::nullopt : s->second;
}

bool MovesDataOnly(const std::string& type) {
  static const std::set<std::string> kMoves = {"reshape",
                                               "transpose",
                                               "squeeze",
                                               "expand_dims",
                                               "slice_by_index",
                                               "slice_by_size",
                                               "concat",
                                               "split",
                                               "stack",
                                               "gather",
                                               "gather_nd",
                                               "gather_along_axis",
                                               "tile",
                                               "pad",
                                               "identity",
                                               "shape",
                                               "reverse",
                                               "reverse_sequence",
                                               "depth_to_space",
                                               "space_to_depth",
                                               "pixel_shuffle",
                                               "pixel_unshuffle",
                                               "sliding_windows",
                                               "flatten2d",
                                               "band_part",
                                               "fill",
                                               "range_1d"};
  return kMoves.count(type) != 0;
}

/// The op's FLOPs (residency.h), 0 when its shapes are not static.
double OpFlops(const milspec::Operation& op, const std::map<std::string, Shape>& shapes) {
  if (op.outputs_size() == 0 || MovesDataOnly(op.type())) return 0;
  const Shape out = ShapeOf(op.outputs(0).type());
  if (!out) return 0;
  const double out_n = Elements(*out);
  const std::string& type = op.type();
  if (type == "conv" || type == "conv_transpose" || type == "linear") {
    const Shape w = InputShape(op, "weight", shapes);
    if (!w || w->size() < 2 || (*w)[0] == 0) return 0;
    if (type == "linear") return 2 * out_n * static_cast<double>((*w)[1]);
    const double per_channel = Elements(*w) / static_cast<double>((*w)[0]);
    if (type == "conv") return 2 * out_n * per_channel;
    const Shape x = InputShape(op, "x", shapes);
    return x ? 2 * Elements(*x) * per_channel : 0;
  }
  if (type == "matmul") {
    const Shape x = InputShape(op, "x", shapes);
    if (!x || x->empty()) return 0;
    int64_t k = x->back();
    if (x->size() >= 2 && out->size() >= 2) {
      const int64_t a = (*x)[x->size() - 2], b = x->back(), m = (*out)[out->size() - 2];
      k = a == m ? b : a;  // [M, K], or [K, M] with transpose_x
    }
    return 2 * out_n * static_cast<double>(k);
  }
  if (type.rfind("reduce_", 0) == 0) {
    const Shape x = InputShape(op, "x", shapes);
    return x ? Elements(*x) : out_n;
  }
  return out_n;
}

/// Whether `op` casts between fp16 and fp32 a value computed inside the program (residency.h).
bool IsTransition(const milspec::Operation& op,
                  const std::map<std::string, milspec::DataType>& dtype,
                  const std::set<std::string>& boundary) {
  if (op.type() != "cast" || op.outputs_size() != 1) return false;
  auto x = op.inputs().find("x");
  if (x == op.inputs().end() || x->second.arguments_size() != 1) return false;
  const std::string& in = x->second.arguments(0).name();
  auto from = dtype.find(in);  // consts and function inputs are not in `dtype`
  if (from == dtype.end() || boundary.count(in) || boundary.count(op.outputs(0).name())) {
    return false;
  }
  const milspec::DataType to = op.outputs(0).type().tensortype().datatype();
  return (from->second == milspec::FLOAT16 && to == milspec::FLOAT32) ||
         (from->second == milspec::FLOAT32 && to == milspec::FLOAT16);
}

}  // namespace

Residency MeasureResidency(const milspec::Block& block, const milspec::Function& function) {
  std::map<std::string, Shape> shapes;
  std::set<std::string> boundary(block.outputs().begin(), block.outputs().end());
  for (const auto& in : function.inputs()) {
    shapes[in.name()] = ShapeOf(in.type());
    boundary.insert(in.name());
  }
  // Dtypes of values computed by non-const ops.
  std::map<std::string, milspec::DataType> computed;
  Residency r;
  mil::ForEachOperation(block, [&](const milspec::Operation& op) {
    for (const milspec::Block& nested : op.blocks()) {
      for (const auto& in : nested.inputs()) shapes[in.name()] = ShapeOf(in.type());
    }
    for (const auto& o : op.outputs()) shapes[o.name()] = ShapeOf(o.type());
    if (op.type() == "const" || op.outputs_size() == 0) return;
    if (IsTransition(op, computed, boundary)) ++r.transitions;
    for (const auto& o : op.outputs()) {
      if (o.type().has_tensortype()) computed[o.name()] = o.type().tensortype().datatype();
    }
    if (op.type() == "cast") return;
    const auto& t = op.outputs(0).type();
    if (!t.has_tensortype()) return;
    const milspec::DataType d = t.tensortype().datatype();
    if (d != milspec::FLOAT16 && d != milspec::FLOAT32) return;
    const double flops = OpFlops(op, shapes);
    ++r.float_ops;
    r.flops += flops;
    if (d == milspec::FLOAT16) {
      ++r.fp16_ops;
      r.fp16_flops += flops;
    }
  });
  return r;
}

std::string FormatResidency(const Residency& r) {
  return absl::StrFormat(
      "fp16 residency: %d of %d float ops (%.1f%%), %.3g of %.3g FLOPs (%.1f%%), %d fp16/fp32 transitions",
      r.fp16_ops, r.float_ops, r.OpShare(), r.fp16_flops, r.flops, r.FlopShare(), r.transitions);
}

}  // namespace ts2coreml::core
