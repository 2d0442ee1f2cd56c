/// Checks one MIL op against Core ML's opset (ts2coreml/mil_opset.h): the op exists for the
/// target, every required input is given and no unknown one, each input's dtype and rank fit and
/// shared type domains agree, const-only inputs are consts, and the declared output types equal
/// the ones the table infers where it can.
///
/// The one implementation behind the converter's emit-time validation, `ts2coreml inspect
/// --check` and the fake host: each describes an op as an `OpView` and calls `CheckOp`.
///
///   ts2coreml::opset::OpView op{"reduce_mean", {{"x", {x}}, {"axis", {axis}}}, {{kFp32, {1}}}};
///   std::vector<std::string> problems = ts2coreml::opset::CheckOp(op, /*ios=*/16);
///   // "reduce_mean with unknown input 'axis' (inputs: x, axes, keep_dims)"
#ifndef TS2COREML_MIL_VALIDATE_H_
#define TS2COREML_MIL_VALIDATE_H_

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ts2coreml/mil_opset.h"

namespace ts2coreml::opset {

/// A static tensor type; scalars have an empty shape.
struct TypeView {
  int32_t dtype = 0;
  std::vector<int64_t> shape;

  /// "fp16[1,3,224,224]".
  std::string ToString() const {
    std::string r = DtypeToString(dtype) + "[";
    for (size_t i = 0; i < shape.size(); ++i) r += (i ? "," : "") + std::to_string(shape[i]);
    return r + "]";
  }
  friend bool operator==(const TypeView& a, const TypeView& b) {
    return a.dtype == b.dtype && a.shape == b.shape;
  }
};

/// One var bound to an op input.
struct ArgView {
  TypeView type;
  bool is_const = false;  ///< produced by `const` or a `constexpr_*` op
  /// Known values of a small int or bool const (shape arguments, axes, flags), in order.
  std::optional<std::vector<int64_t>> ints;
  std::optional<std::string> str;  ///< the value of a string const
};

/// One named input and the vars bound to it.
struct InputView {
  std::string name;
  std::vector<ArgView> vars;
};

/// One op as emitted or read from a package.
struct OpView {
  std::string type;
  std::vector<InputView> inputs;
  std::vector<TypeView> outputs;
};

namespace internal {

inline const InputView* FindArg(const OpView& op, std::string_view name) {
  for (const InputView& in : op.inputs) {
    if (in.name == name) return &in;
  }
  return nullptr;
}
inline const ArgView* Arg(const OpView& op, std::string_view name) {
  const InputView* in = FindArg(op, name);
  return in == nullptr || in->vars.empty() ? nullptr : &in->vars[0];
}
/// The const int values of input `name`; nullopt when absent or not known.
inline std::optional<std::vector<int64_t>> Ints(const OpView& op, std::string_view name) {
  const ArgView* a = Arg(op, name);
  if (a == nullptr) return std::nullopt;
  return a->ints;
}
/// A scalar const int or bool input, `fallback` when absent; nullopt when given but unknown.
inline std::optional<int64_t> Scalar(const OpView& op, std::string_view name, int64_t fallback) {
  const ArgView* a = Arg(op, name);
  if (a == nullptr) return fallback;
  if (!a->ints || a->ints->size() != 1) return std::nullopt;
  return (*a->ints)[0];
}
inline bool NormAxis(int64_t* axis, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (*axis < 0) *axis += r;
  return *axis >= 0 && *axis < r;
}

/// Numpy broadcasting; nullopt when the shapes do not broadcast.
inline std::optional<std::vector<int64_t>> Broadcast(const std::vector<int64_t>& a,
                                                     const std::vector<int64_t>& b) {
  const size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> r(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (x != y && x != 1 && y != 1) return std::nullopt;
    r[i] = x == 1 ? y : x;
  }
  return r;
}

/// Output spatial sizes of conv/pool. `kernel` holds the effective (dilated) kernel sizes.
inline std::optional<std::vector<int64_t>> Spatial(const OpView& op, const std::vector<int64_t>& in,
                                                   const std::vector<int64_t>& kernel,
                                                   bool ceil_mode) {
  const size_t n = in.size();
  std::vector<int64_t> strides(n, 1), pad(2 * n, 0);
  if (FindArg(op, "strides") != nullptr) {
    auto s = Ints(op, "strides");
    if (!s || s->size() != n) return std::nullopt;
    strides = *s;
  }
  const ArgView* pt = Arg(op, "pad_type");
  const std::string pad_type = pt == nullptr ? "valid" : pt->str.value_or("?");
  if (pad_type == "custom" && FindArg(op, "pad") != nullptr) {
    auto p = Ints(op, "pad");
    if (!p || p->size() != 2 * n) return std::nullopt;
    pad = *p;
  }
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    if (strides[i] <= 0) return std::nullopt;
    if (pad_type == "same" || pad_type == "same_lower") {
      out[i] = (in[i] + strides[i] - 1) / strides[i];
      continue;
    }
    if (pad_type != "valid" && pad_type != "custom") return std::nullopt;
    const int64_t span = in[i] + pad[2 * i] + pad[2 * i + 1] - kernel[i];
    if (span < 0) return std::nullopt;
    out[i] = (ceil_mode ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
  }
  return out;
}

using Shape = std::vector<int64_t>;
using Types = std::optional<std::vector<TypeView>>;

inline Types One(int32_t dtype, Shape shape) {
  return std::vector<TypeView>{TypeView{dtype, std::move(shape)}};
}

/// reduce_* (`axes`, all axes when absent) and reduce_arg* (`axis`, -1 when absent).
inline Types InferReduce(const OpView& op, const ArgView& x, bool arg) {
  Shape in = x.type.shape, out;
  const bool all = !arg && FindArg(op, "axes") == nullptr;
  std::vector<bool> reduced(in.size(), all);
  if (!all) {
    auto axes = arg && FindArg(op, "axis") == nullptr ? std::vector<int64_t>{-1}
                                                      : Ints(op, arg ? "axis" : "axes");
    if (!axes) return std::nullopt;
    for (int64_t a : *axes) {
      if (!NormAxis(&a, in.size())) return std::nullopt;
      reduced[static_cast<size_t>(a)] = true;
    }
  }
  auto keep = Scalar(op, "keep_dims", 0);
  if (!keep) return std::nullopt;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!reduced[i])
      out.push_back(in[i]);
    else if (*keep)
      out.push_back(1);
  }
  int32_t dtype = arg ? kInt32 : x.type.dtype;
  if (const ArgView* od = Arg(op, "output_dtype"); arg && od != nullptr) {
    dtype = DtypeFromString(od->str.value_or(""));
    if (dtype == 0) return std::nullopt;
  }
  return One(dtype, out);
}

inline Types InferConv(const OpView& op, const ArgView& x) {
  const ArgView* w = Arg(op, "weight");
  const size_t n = x.type.shape.size();
  if (w == nullptr || n < 3 || w->type.shape.size() != n) return std::nullopt;
  Shape in(x.type.shape.begin() + 2, x.type.shape.end()), kernel(n - 2);
  Shape dil(n - 2, 1);
  if (FindArg(op, "dilations") != nullptr) {
    auto d = Ints(op, "dilations");
    if (!d || d->size() != n - 2) return std::nullopt;
    dil = *d;
  }
  for (size_t i = 0; i < n - 2; ++i) kernel[i] = dil[i] * (w->type.shape[i + 2] - 1) + 1;
  auto spatial = Spatial(op, in, kernel, false);
  if (!spatial) return std::nullopt;
  Shape out{x.type.shape[0], w->type.shape[0]};
  out.insert(out.end(), spatial->begin(), spatial->end());
  return One(x.type.dtype, out);
}

inline Types InferPool(const OpView& op, const ArgView& x) {
  const size_t n = x.type.shape.size();
  auto k = Ints(op, "kernel_sizes");
  auto ceil_mode = Scalar(op, "ceil_mode", 0);
  // ceil_mode's last-window rule is not inferred: no check rather than a false alarm.
  if (n < 3 || !k || k->size() != n - 2 || !ceil_mode || *ceil_mode != 0) return std::nullopt;
  Shape in(x.type.shape.begin() + 2, x.type.shape.end());
  auto spatial = Spatial(op, in, *k, false);
  if (!spatial) return std::nullopt;
  Shape out{x.type.shape[0], x.type.shape[1]};
  out.insert(out.end(), spatial->begin(), spatial->end());
  return One(x.type.dtype, out);
}

inline Types InferMatmul(const OpView& op, const ArgView& x, std::string* error) {
  const ArgView* y = Arg(op, "y");
  auto tx = Scalar(op, "transpose_x", 0), ty = Scalar(op, "transpose_y", 0);
  if (y == nullptr || !tx || !ty) return std::nullopt;
  Shape a = x.type.shape, b = y->type.shape;
  if (a.empty() || b.empty()) return std::nullopt;
  const bool a1 = a.size() == 1, b1 = b.size() == 1;
  if (a1) a.insert(a.begin(), 1);
  if (b1) b.push_back(1);
  if (*tx) std::swap(a[a.size() - 1], a[a.size() - 2]);
  if (*ty) std::swap(b[b.size() - 1], b[b.size() - 2]);
  if (a.back() != b[b.size() - 2]) {
    *error = "inner dimensions of x and y differ (" + std::to_string(a.back()) + " and " +
             std::to_string(b[b.size() - 2]) + ")";
    return std::nullopt;
  }
  auto batch = Broadcast(Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2));
  if (!batch) return std::nullopt;
  Shape out = *batch;
  if (!a1) out.push_back(a[a.size() - 2]);
  if (!b1) out.push_back(b.back());
  return One(x.type.dtype, out);
}

inline Types InferReshape(const OpView& op, const ArgView& x) {
  auto shape = Ints(op, "shape");
  if (!shape) return std::nullopt;
  Shape out = *shape;
  int64_t known = 1, total = 1;
  int infer_at = -1;
  for (int64_t d : x.type.shape) total *= d;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0 && i < x.type.shape.size()) out[i] = x.type.shape[i];
    if (out[i] == -1) {
      infer_at = static_cast<int>(i);
      continue;
    }
    known *= out[i];
  }
  if (infer_at >= 0 && known > 0) out[static_cast<size_t>(infer_at)] = total / known;
  return One(x.type.dtype, out);
}

inline Types InferConcat(const OpView& op) {
  const InputView* values = FindArg(op, "values");
  auto axis = Scalar(op, "axis", 0);
  if (values == nullptr || values->vars.empty() || !axis || Arg(op, "interleave") != nullptr) {
    return std::nullopt;
  }
  Shape out = values->vars[0].type.shape;
  int64_t a = *axis;
  if (!NormAxis(&a, out.size())) return std::nullopt;
  for (size_t i = 1; i < values->vars.size(); ++i) {
    if (values->vars[i].type.shape.size() != out.size()) return std::nullopt;
    out[static_cast<size_t>(a)] += values->vars[i].type.shape[static_cast<size_t>(a)];
  }
  return One(values->vars[0].type.dtype, out);
}

/// One dim of slice_by_index; nullopt for a zero stride.
inline std::optional<int64_t> SliceDim(int64_t dim, int64_t begin, int64_t end, int64_t stride,
                                       bool begin_mask, bool end_mask) {
  if (stride == 0) return std::nullopt;
  auto clamp = [&](int64_t v, bool is_end) {
    if (v < 0) v += dim;
    const int64_t lo = stride > 0 ? 0 : -1, hi = stride > 0 ? dim : dim - 1;
    (void)is_end;
    return std::min(std::max(v, lo), hi);
  };
  const int64_t b = begin_mask ? (stride > 0 ? 0 : dim - 1) : clamp(begin, false);
  const int64_t e = end_mask ? (stride > 0 ? dim : -1) : clamp(end, true);
  const int64_t n = stride > 0 ? (e - b + stride - 1) / stride : (b - e - stride - 1) / -stride;
  return std::max<int64_t>(n, 0);
}

inline Types InferSliceByIndex(const OpView& op, const ArgView& x) {
  const size_t r = x.type.shape.size();
  auto begin = Ints(op, "begin"), end = Ints(op, "end");
  if (!begin || !end || begin->size() != r || end->size() != r) return std::nullopt;
  auto list = [&](const char* name, int64_t fallback) -> std::optional<Shape> {
    if (FindArg(op, name) == nullptr) return Shape(r, fallback);
    auto v = Ints(op, name);
    if (!v || v->size() != r) return std::nullopt;
    return v;
  };
  auto stride = list("stride", 1), bm = list("begin_mask", 0), em = list("end_mask", 0);
  auto sq = list("squeeze_mask", 0);
  if (!stride || !bm || !em || !sq) return std::nullopt;
  Shape out;
  for (size_t i = 0; i < r; ++i) {
    if ((*sq)[i]) continue;
    auto n = SliceDim(x.type.shape[i], (*begin)[i], (*end)[i], (*stride)[i], (*bm)[i] != 0,
                      (*em)[i] != 0);
    if (!n) return std::nullopt;
    out.push_back(*n);
  }
  return One(x.type.dtype, out);
}

inline Types InferSliceBySize(const OpView& op, const ArgView& x) {
  auto begin = Ints(op, "begin"), size = Ints(op, "size");
  const size_t r = x.type.shape.size();
  if (!begin || !size || begin->size() != r || size->size() != r) return std::nullopt;
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t b = (*begin)[i] < 0 ? (*begin)[i] + x.type.shape[i] : (*begin)[i];
    out[i] = (*size)[i] == -1 ? x.type.shape[i] - b : (*size)[i];
  }
  return One(x.type.dtype, out);
}

inline Types InferTranspose(const OpView& op, const ArgView& x) {
  auto perm = Ints(op, "perm");
  if (!perm || perm->size() != x.type.shape.size()) return std::nullopt;
  Shape out;
  for (int64_t p : *perm) {
    if (!NormAxis(&p, x.type.shape.size())) return std::nullopt;
    out.push_back(x.type.shape[static_cast<size_t>(p)]);
  }
  return One(x.type.dtype, out);
}

inline Types InferExpandDims(const OpView& op, const ArgView& x) {
  auto axes = Ints(op, "axes");
  if (!axes) return std::nullopt;
  const size_t r = x.type.shape.size() + axes->size();
  std::vector<bool> inserted(r, false);
  for (int64_t a : *axes) {
    if (!NormAxis(&a, r)) return std::nullopt;
    inserted[static_cast<size_t>(a)] = true;
  }
  Shape out;
  size_t k = 0;
  for (size_t i = 0; i < r; ++i) {
    if (inserted[i])
      out.push_back(1);
    else if (k < x.type.shape.size())
      out.push_back(x.type.shape[k++]);
  }
  return One(x.type.dtype, out);
}

inline Types InferSqueeze(const OpView& op, const ArgView& x) {
  const Shape& in = x.type.shape;
  std::vector<bool> drop(in.size(), false);
  if (FindArg(op, "axes") == nullptr) {
    for (size_t i = 0; i < in.size(); ++i) drop[i] = in[i] == 1;
  } else {
    auto axes = Ints(op, "axes");
    if (!axes) return std::nullopt;
    for (int64_t a : *axes) {
      if (!NormAxis(&a, in.size())) return std::nullopt;
      drop[static_cast<size_t>(a)] = true;
    }
  }
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!drop[i]) out.push_back(in[i]);
  }
  return One(x.type.dtype, out);
}

inline Types InferSplit(const OpView& op, const ArgView& x) {
  auto axis = Scalar(op, "axis", 0);
  int64_t a = axis.value_or(0);
  if (!axis || !NormAxis(&a, x.type.shape.size())) return std::nullopt;
  const int64_t dim = x.type.shape[static_cast<size_t>(a)];
  Shape sizes;
  if (auto s = Ints(op, "split_sizes"); s) {
    sizes = *s;
  } else if (auto n = Ints(op, "num_splits"); n && n->size() == 1 && (*n)[0] > 0) {
    const int64_t each = (dim + (*n)[0] - 1) / (*n)[0];
    for (int64_t left = dim; left > 0; left -= each) sizes.push_back(std::min(each, left));
  } else {
    return std::nullopt;
  }
  std::vector<TypeView> outs;
  for (int64_t s : sizes) {
    Shape shape = x.type.shape;
    shape[static_cast<size_t>(a)] = s;
    outs.push_back({x.type.dtype, shape});
  }
  return outs;
}

inline Types InferGather(const OpView& op, const ArgView& x) {
  const ArgView* idx = Arg(op, "indices");
  auto axis = Scalar(op, "axis", 0);
  auto batch = Scalar(op, "batch_dims", 0);
  int64_t a = axis.value_or(0);
  if (idx == nullptr || !axis || !batch || *batch != 0 || !NormAxis(&a, x.type.shape.size())) {
    return std::nullopt;
  }
  Shape out(x.type.shape.begin(), x.type.shape.begin() + a);
  out.insert(out.end(), idx->type.shape.begin(), idx->type.shape.end());
  out.insert(out.end(), x.type.shape.begin() + a + 1, x.type.shape.end());
  return One(x.type.dtype, out);
}

inline Types InferBroadcastOf(const OpView& op, std::initializer_list<const char*> names,
                              int32_t dtype, std::string* error) {
  Shape out;
  for (const char* n : names) {
    const ArgView* a = Arg(op, n);
    if (a == nullptr) return std::nullopt;
    auto b = Broadcast(out, a->type.shape);
    if (!b) {
      *error = std::string("shapes do not broadcast at input '") + n + "'";
      return std::nullopt;
    }
    out = *b;
  }
  return One(dtype, out);
}

inline Types InferShapes(const OpSpec& spec, const OpView& op, const ArgView& x,
                         std::string* error) {
  switch (spec.infer) {
    case Infer::kSameAsX:
      return One(x.type.dtype, x.type.shape);
    case Infer::kBroadcast:
      return InferBroadcastOf(op, {"x", "y"}, x.type.dtype, error);
    case Infer::kCompare:
      return InferBroadcastOf(op, {"x", "y"}, kBool, error);
    case Infer::kReduce:
    case Infer::kArgReduce:
      return InferReduce(op, x, spec.infer == Infer::kArgReduce);
    case Infer::kConv:
      return InferConv(op, x);
    case Infer::kPool:
      return InferPool(op, x);
    case Infer::kMatmul:
      return InferMatmul(op, x, error);
    case Infer::kReshape:
      return InferReshape(op, x);
    case Infer::kSliceByIndex:
      return InferSliceByIndex(op, x);
    case Infer::kSliceBySize:
      return InferSliceBySize(op, x);
    case Infer::kTranspose:
      return InferTranspose(op, x);
    case Infer::kExpandDims:
      return InferExpandDims(op, x);
    case Infer::kSqueeze:
      return InferSqueeze(op, x);
    case Infer::kSplit:
      return InferSplit(op, x);
    case Infer::kGather:
      return InferGather(op, x);
    default:
      return std::nullopt;
  }
}

inline Types InferLinear(const OpView& op, const ArgView& x) {
  const ArgView* w = Arg(op, "weight");
  if (w == nullptr || w->type.shape.size() != 2 || x.type.shape.empty()) return std::nullopt;
  Shape out = x.type.shape;
  out.back() = w->type.shape[0];
  return One(x.type.dtype, out);
}

inline Types InferTile(const OpView& op, const ArgView& x) {
  auto reps = Ints(op, "reps");
  if (!reps || reps->size() != x.type.shape.size()) return std::nullopt;
  Shape out = x.type.shape;
  for (size_t i = 0; i < out.size(); ++i) out[i] *= (*reps)[i];
  return One(x.type.dtype, out);
}

inline Types InferCast(const OpView& op, const ArgView& x) {
  const ArgView* d = Arg(op, "dtype");
  const int32_t dtype = d == nullptr ? 0 : DtypeFromString(d->str.value_or(""));
  if (dtype == 0) return std::nullopt;
  return One(dtype, x.type.shape);
}

/// The inferred output types, or nullopt when the table cannot infer them for these inputs.
/// Sets `*error` when the inputs cannot fit the op at all (shapes that do not broadcast).
inline Types InferOutputs(const OpSpec& spec, const OpView& op, std::string* error) {
  if (spec.infer == Infer::kConcat) return InferConcat(op);
  const ArgView* x = Arg(op, "x");
  if (spec.infer == Infer::kSelect) {
    const ArgView* a = Arg(op, "a");
    if (a == nullptr) return std::nullopt;
    return InferBroadcastOf(op, {"cond", "a", "b"}, a->type.dtype, error);
  }
  if (x == nullptr) return std::nullopt;
  if (spec.infer == Infer::kLinear) return InferLinear(op, *x);
  if (spec.infer == Infer::kTile) return InferTile(op, *x);
  if (spec.infer == Infer::kCast) return InferCast(op, *x);
  return InferShapes(spec, op, *x, error);
}

/// Problems of one bound input against its spec; `domains` collects the first dtype of each
/// shared domain (and the input that fixed it).
inline void CheckInput(
    const OpSpec& spec, const InputSpec& in, const InputView& arg,
    std::vector<std::pair<std::string, std::pair<int32_t, std::string>>>* domains,
    std::vector<std::string>* problems) {
  const std::string at = spec.name + " with input '" + in.name + "'";
  if (!in.variadic && arg.vars.size() != 1) {
    problems->push_back(at + " bound to " + std::to_string(arg.vars.size()) +
                        " vars (it takes one)");
    return;
  }
  for (const ArgView& v : arg.vars) {
    if (in.must_be_const && !v.is_const) {
      problems->push_back(at + " not a constant (it must be a const)");
    }
    if (in.dtypes != 0 && (in.dtypes & DtypeBit(v.type.dtype)) == 0) {
      problems->push_back(at + " of dtype " + DtypeToString(v.type.dtype) + " (accepts " +
                          DtypeSetToString(in.dtypes) + ")");
      continue;
    }
    const int rank = static_cast<int>(v.type.shape.size());
    if (in.min_rank >= 0 && (rank < in.min_rank || rank > in.max_rank)) {
      const std::string want = in.min_rank == in.max_rank ? std::to_string(in.min_rank)
                                                          : std::to_string(in.min_rank) + " to " +
                                                                std::to_string(in.max_rank);
      problems->push_back(at + " of rank " + std::to_string(rank) + " (accepts rank " + want + ")");
    }
    if (in.domain.empty() || in.dtypes == 0) continue;
    auto it = std::find_if(domains->begin(), domains->end(),
                           [&](const auto& d) { return d.first == in.domain; });
    if (it == domains->end()) {
      domains->push_back({in.domain, {v.type.dtype, in.name}});
    } else if (it->second.first != v.type.dtype) {
      std::string sharing;
      for (const InputSpec& other : spec.inputs) {
        if (other.domain == in.domain) sharing += (sharing.empty() ? "" : " and ") + other.name;
      }
      problems->push_back(at + " of dtype " + DtypeToString(v.type.dtype) + " where '" +
                          it->second.second + "' is " + DtypeToString(it->second.first) + " (" +
                          sharing + " share " + in.domain + " in {" + DtypeSetToString(in.dtypes) +
                          "})");
    }
  }
}

/// Compares the declared outputs with the inferred ones.
inline void CheckOutputs(const OpSpec& spec, const OpView& op, std::vector<std::string>* problems) {
  // Unknown (flexible) dims: nothing to compare.
  auto unknown = [](const TypeView& t) {
    return std::any_of(t.shape.begin(), t.shape.end(), [](int64_t d) { return d < 0; });
  };
  for (const InputView& in : op.inputs) {
    for (const ArgView& v : in.vars) {
      if (unknown(v.type)) return;
    }
  }
  for (const TypeView& t : op.outputs) {
    if (unknown(t)) return;
  }
  std::string error;
  Types want = InferOutputs(spec, op, &error);
  if (!error.empty()) problems->push_back(spec.name + " whose " + error);
  if (!want) return;
  if (want->size() != op.outputs.size()) {
    problems->push_back(spec.name + " declaring " + std::to_string(op.outputs.size()) +
                        " outputs where the table infers " + std::to_string(want->size()));
    return;
  }
  for (size_t i = 0; i < want->size(); ++i) {
    if (op.outputs[i] == (*want)[i]) continue;
    problems->push_back(spec.name + " declaring output " + std::to_string(i) + " as " +
                        op.outputs[i].ToString() + " where the table infers " +
                        (*want)[i].ToString());
  }
}

}  // namespace internal

/// Every problem of `op` against the opset of iOS `ios` (15..18), one message each, written to
/// follow "<who> emitted ": "reduce_mean with unknown input 'axis' (inputs: x, axes, keep_dims)".
/// Empty when the op is valid.
inline std::vector<std::string> CheckOp(const OpView& op, int ios) {
  std::vector<std::string> problems;
  const Opset& table = Opset::Get();
  const OpSpec* spec = table.Find(op.type, ios);
  if (spec == nullptr) {
    const int first = table.FirstVersion(op.type);
    problems.push_back(first == 0 ? op.type + ", which is not an op of Core ML's opset"
                                  : op.type + ", which needs target ios" + std::to_string(first) +
                                        " or later (the target is ios" + std::to_string(ios) + ")");
    return problems;
  }
  std::vector<std::pair<std::string, std::pair<int32_t, std::string>>> domains;
  for (const InputView& arg : op.inputs) {
    const InputSpec* in = spec->FindInput(arg.name);
    if (in == nullptr) {
      problems.push_back(spec->name + " with unknown input '" + arg.name +
                         "' (inputs: " + spec->InputNames() + ")");
      continue;
    }
    internal::CheckInput(*spec, *in, arg, &domains, &problems);
  }
  for (const InputSpec& in : spec->inputs) {
    if (!in.optional && internal::FindArg(op, in.name) == nullptr) {
      problems.push_back(spec->name + " without its required input '" + in.name + "'");
    }
  }
  if (problems.empty()) internal::CheckOutputs(*spec, op, &problems);
  return problems;
}

}  // namespace ts2coreml::opset

#endif  // TS2COREML_MIL_VALIDATE_H_
