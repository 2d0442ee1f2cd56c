// Tensor manipulation (MIL defs: tensor_operation.py, tensor_transformation.py,
// scatter_gather.py): reshape, transpose, expand_dims, squeeze, concat, split, stack,
// slice_by_index, slice_by_size, gather, gather_along_axis, tile, pad, identity, fill, shape,
// range_1d, cumsum, topk, band_part, flatten2d, reverse, argsort, pixel_shuffle.
#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/interp/op_context.h"
#include "core/interp/op_table.h"

namespace ts2coreml::interp {
namespace {

at::Tensor Index(const std::vector<int64_t>& idx) { return at::tensor(idx, at::kLong); }

void Reshape(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  std::vector<int64_t> shape = c.Ints("shape");
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && static_cast<int64_t>(i) < x.dim())
      shape[i] = x.size(static_cast<int64_t>(i));
  }
  c.SetOutput(0, x.reshape(shape));
}

void Transpose(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  std::vector<int64_t> perm = c.Ints("perm");
  if (static_cast<int64_t>(perm.size()) != x.dim()) c.Fail("perm must have one entry per axis");
  for (int64_t& p : perm) p = NormalizeAxis(p, x.dim());
  c.SetOutput(0, x.permute(perm).contiguous());
}

void ExpandDims(OpContext& c) {
  at::Tensor x = c.Tensor("x");
  std::vector<int64_t> axes = c.Ints("axes");
  const int64_t out_rank = x.dim() + static_cast<int64_t>(axes.size());
  for (int64_t& a : axes) a = NormalizeAxis(a, out_rank);
  std::sort(axes.begin(), axes.end());
  for (int64_t a : axes) x = x.unsqueeze(a);
  c.SetOutput(0, x);
}

void Squeeze(OpContext& c) {
  at::Tensor x = c.Tensor("x");
  std::vector<int64_t> axes = c.Ints("axes", {});
  if (axes.empty()) {
    c.SetOutput(0, x.squeeze());
    return;
  }
  for (int64_t& a : axes) {
    a = NormalizeAxis(a, x.dim());
    if (x.size(a) != 1) c.Fail(absl::StrCat("cannot squeeze axis ", a, " of size ", x.size(a)));
  }
  std::sort(axes.rbegin(), axes.rend());
  for (int64_t a : axes) x = x.squeeze(a);
  c.SetOutput(0, x);
}

std::vector<at::Tensor> TupleTensors(OpContext& c, const char* name) {
  std::vector<at::Tensor> out;
  for (const Value* v : c.Tuple(name)) out.push_back(v->tensor);
  return out;
}

void Concat(OpContext& c) {
  const std::vector<at::Tensor> values = TupleTensors(c, "values");
  const int64_t axis = NormalizeAxis(c.Int("axis"), values[0].dim());
  if (!c.Bool("interleave", false)) {
    c.SetOutput(0, at::cat(values, axis));
    return;
  }
  // Interleave: element i of every input along axis, in input order, then i + 1 ...
  std::vector<int64_t> shape = values[0].sizes().vec();
  shape[static_cast<size_t>(axis)] *= static_cast<int64_t>(values.size());
  c.SetOutput(0, at::stack(values, axis + 1).reshape(shape));
}

void Split(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  const int64_t axis = NormalizeAxis(c.Int("axis"), x.dim());
  std::vector<at::Tensor> parts;
  if (c.Has("split_sizes")) {
    parts = at::split_with_sizes(x, c.Ints("split_sizes"), axis);
  } else {
    const int64_t n = c.Int("num_splits");
    if (n <= 0 || x.size(axis) % n != 0) c.Fail("num_splits must divide the axis");
    parts = at::split(x, x.size(axis) / n, axis);
  }
  if (static_cast<int>(parts.size()) != c.num_outputs()) {
    c.Fail(absl::StrCat("split gives ", parts.size(), " parts but the op declares ",
                        c.num_outputs(), " outputs"));
  }
  for (size_t i = 0; i < parts.size(); ++i) c.SetOutput(static_cast<int>(i), parts[i].contiguous());
}

void Stack(OpContext& c) {
  const std::vector<at::Tensor> values = TupleTensors(c, "values");
  c.SetOutput(0, at::stack(values, NormalizeAxis(c.Int("axis"), values[0].dim() + 1)));
}

/// numpy's slice index list for begin/end/stride along a dimension of `dim`.
std::vector<int64_t> SliceIndices(int64_t dim, int64_t b, int64_t e, int64_t s, bool bmask,
                                  bool emask) {
  if (s > 0) {
    b = bmask ? 0 : (b < 0 ? b + dim : b);
    e = emask ? dim : (e < 0 ? e + dim : e);
    b = std::clamp<int64_t>(b, 0, dim);
    e = std::clamp<int64_t>(e, 0, dim);
  } else {
    b = bmask ? dim - 1 : (b < 0 ? b + dim : b);
    e = emask ? -1 : (e < 0 ? e + dim : e);
    b = std::clamp<int64_t>(b, -1, dim - 1);
    e = std::clamp<int64_t>(e, -1, dim - 1);
  }
  std::vector<int64_t> idx;
  for (int64_t i = b; s > 0 ? i < e : i > e; i += s) idx.push_back(i);
  return idx;
}

void SliceByIndex(OpContext& c) {
  at::Tensor x = c.Tensor("x");
  const int64_t r = x.dim();
  const std::vector<int64_t> begin = c.Ints("begin"), end = c.Ints("end");
  const std::vector<int64_t> stride = c.Ints("stride", std::vector<int64_t>(begin.size(), 1));
  const std::vector<bool> none(begin.size(), false);
  const std::vector<bool> bmask = c.Bools("begin_mask", none), emask = c.Bools("end_mask", none);
  const std::vector<bool> smask = c.Bools("squeeze_mask", none);
  if (static_cast<int64_t>(begin.size()) != r || end.size() != begin.size() ||
      stride.size() != begin.size() || bmask.size() != begin.size() ||
      emask.size() != begin.size() || smask.size() != begin.size()) {
    c.Fail("begin, end, stride and masks need one entry per axis of x");
  }
  for (int64_t i = 0; i < r; ++i) {
    const size_t u = static_cast<size_t>(i);
    if (stride[u] == 0) c.Fail("stride 0");
    if (smask[u]) {  // squeeze_mask: take element begin[i] only
      int64_t b = begin[u] < 0 ? begin[u] + x.size(i) : begin[u];
      if (b < 0 || b >= x.size(i)) c.Fail("squeezed index out of range");
      x = x.narrow(i, b, 1);
      continue;
    }
    x = x.index_select(
        i, Index(SliceIndices(x.size(i), begin[u], end[u], stride[u], bmask[u], emask[u])));
  }
  for (int64_t i = r - 1; i >= 0; --i) {
    if (smask[static_cast<size_t>(i)]) x = x.squeeze(i);
  }
  c.SetOutput(0, x.contiguous());
}

void SliceBySize(OpContext& c) {
  at::Tensor x = c.Tensor("x");
  const std::vector<int64_t> begin = c.Ints("begin"), size = c.Ints("size");
  if (static_cast<int64_t>(begin.size()) != x.dim() || size.size() != begin.size()) {
    c.Fail("begin and size need one entry per axis of x");
  }
  for (int64_t i = 0; i < x.dim(); ++i) {
    const size_t u = static_cast<size_t>(i);
    const int64_t b = begin[u] < 0 ? begin[u] + x.size(i) : begin[u];
    const int64_t n = size[u] == -1 ? x.size(i) - b : size[u];
    if (b < 0 || n < 0 || b + n > x.size(i)) c.Fail("slice out of range");
    x = x.narrow(i, b, n);
  }
  c.SetOutput(0, x.contiguous());
}

at::Tensor WrapIndices(const at::Tensor& idx, int64_t dim) {
  at::Tensor i = idx.to(at::kLong);
  return at::where(i < 0, i + dim, i);
}

void Gather(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  const at::Tensor indices = c.Tensor("indices");
  const int64_t axis = NormalizeAxis(c.Int("axis", 0), x.dim());
  if (c.Int("batch_dims", 0) != 0) c.Fail("batch_dims other than 0 is not implemented");
  const at::Tensor flat = WrapIndices(indices, x.size(axis)).flatten();
  at::Tensor y = x.index_select(axis, flat);
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
  for (int64_t d : indices.sizes()) shape.push_back(d);
  for (int64_t i = axis + 1; i < x.dim(); ++i) shape.push_back(x.size(i));
  c.SetOutput(0, y.reshape(shape));
}

void GatherAlongAxis(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  const int64_t axis = NormalizeAxis(c.Int("axis", 0), x.dim());
  c.SetOutput(0, at::gather(x, axis, WrapIndices(c.Tensor("indices"), x.size(axis))));
}

/// Source index of padded position j in a dimension of n (reflect: mirror without repeating the
/// edge; replicate: clamp).
int64_t PadSource(int64_t j, int64_t n, bool reflect) {
  if (!reflect) return std::clamp<int64_t>(j, 0, n - 1);
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  int64_t m = ((j % period) + period) % period;
  return m < n ? m : period - m;
}

void Pad(OpContext& c) {
  at::Tensor x = c.Tensor("x");
  const std::vector<int64_t> pad = c.Ints("pad");
  const std::string mode = c.String("mode", "constant");
  if (pad.size() % 2 != 0 || static_cast<int64_t>(pad.size()) > 2 * x.dim()) {
    c.Fail("pad must hold begin/end pairs for at most every axis");
  }
  const int64_t first = x.dim() - static_cast<int64_t>(pad.size() / 2);
  if (mode == "constant") {
    std::vector<int64_t> aten;  // last dimension first
    for (size_t i = pad.size() / 2; i-- > 0;) {
      aten.push_back(pad[2 * i]);
      aten.push_back(pad[2 * i + 1]);
    }
    c.SetOutput(0, at::constant_pad_nd(x, aten, c.Float("constant_val", 0.0)));
    return;
  }
  if (mode != "reflect" && mode != "replicate") c.Fail("unknown pad mode '" + mode + "'");
  for (size_t i = 0; i < pad.size() / 2; ++i) {
    const int64_t axis = first + static_cast<int64_t>(i);
    const int64_t n = x.size(axis);
    if (mode == "reflect" && (pad[2 * i] >= n || pad[2 * i + 1] >= n)) {
      c.Fail("reflect padding must be smaller than the dimension");
    }
    std::vector<int64_t> idx;
    for (int64_t j = -pad[2 * i]; j < n + pad[2 * i + 1]; ++j) {
      idx.push_back(PadSource(j, n, mode == "reflect"));
    }
    x = x.index_select(axis, Index(idx));
  }
  c.SetOutput(0, x);
}

void Fill(OpContext& c) {
  const at::Tensor value = c.Has("value") ? c.Tensor("value") : at::zeros({}, at::kFloat);
  const milspec::DataType dt = c.Has("value") ? c.DType("value") : milspec::FLOAT32;
  c.SetOutput(0, at::full(c.Ints("shape"), value.item(), value.options()), dt);
}

void Range1d(OpContext& c) {
  const bool ints =
      IsIntType(c.DType("start")) && IsIntType(c.DType("end")) && IsIntType(c.DType("step"));
  if (ints) {
    c.SetOutput(0, at::arange(c.Int("start"), c.Int("end"), c.Int("step"), at::kLong));
  } else {
    c.SetOutput(
        0,
        at::arange(c.Float("start"), c.Float("end"), c.Float("step"), at::kDouble).to(at::kFloat),
        c.DType("start"));
  }
}

void Cumsum(OpContext& c) {
  at::Tensor x = c.Tensor("x");
  const int64_t axis = NormalizeAxis(c.Int("axis", 0), x.dim());
  const bool reverse = c.Bool("reverse", false);
  if (reverse) x = x.flip(axis);
  at::Tensor y = at::cumsum(x, axis, x.scalar_type());
  if (c.Bool("exclusive", false)) {  // shift by one: 0, x0, x0 + x1, ...
    std::vector<int64_t> pad(static_cast<size_t>(2 * (x.dim() - axis)), 0);
    pad[pad.size() - 2] = 1;
    y = at::constant_pad_nd(y, pad, 0).narrow(axis, 0, x.size(axis));
  }
  if (reverse) y = y.flip(axis);
  c.SetOutput(0, y);
}

void Topk(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  const int64_t axis = NormalizeAxis(c.Int("axis", -1), x.dim());
  const int64_t k = c.Int("k", 1);
  auto [values, indices] = at::topk(x, k, axis, /*largest=*/!c.Bool("ascending", false),
                                    /*sorted=*/true);
  c.SetOutput(0, values);
  if (c.num_outputs() > 1) c.SetOutput(1, indices.to(at::kInt), milspec::INT32);
}

void BandPart(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  if (x.dim() < 2) c.Fail("x must have rank 2 or more");
  const int64_t lower = c.Int("lower", -1), upper = c.Int("upper", -1);
  const at::Tensor i = at::arange(x.size(-2), at::kLong).unsqueeze(1);
  const at::Tensor j = at::arange(x.size(-1), at::kLong).unsqueeze(0);
  at::Tensor keep = at::ones({x.size(-2), x.size(-1)}, at::kBool);
  if (lower >= 0) keep = keep & (i - j <= lower);
  if (upper >= 0) keep = keep & (j - i <= upper);
  c.SetOutput(0, at::where(keep, x, at::zeros_like(x)));
}

void Flatten2d(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  int64_t axis = c.Int("axis", 1);
  if (axis < 0) axis += x.dim();
  if (axis < 0 || axis > x.dim()) c.Fail("axis out of range");
  int64_t a = 1;
  for (int64_t i = 0; i < axis; ++i) a *= x.size(i);
  c.SetOutput(0, x.reshape({a, a == 0 ? 0 : x.numel() / a}));
}

}  // namespace

void RegisterTensorOps(OpTable& t) {
  t.Add("reshape", Reshape);
  t.Add("transpose", Transpose);
  t.Add("expand_dims", ExpandDims);
  t.Add("squeeze", Squeeze);
  t.Add("concat", Concat);
  t.Add("split", Split);
  t.Add("stack", Stack);
  t.Add("slice_by_index", SliceByIndex);
  t.Add("slice_by_size", SliceBySize);
  t.Add("gather", Gather);
  t.Add("gather_along_axis", GatherAlongAxis);
  t.Add("tile", [](OpContext& c) { c.SetOutput(0, c.Tensor("x").repeat(c.Ints("reps"))); });
  t.Add("pad", Pad);
  t.Add("identity", [](OpContext& c) { c.SetOutput(0, c.Tensor("x")); });
  t.Add("fill", Fill);
  t.Add("shape", [](OpContext& c) {
    c.SetOutput(0, at::tensor(c.Tensor("x").sizes().vec(), at::kLong), milspec::INT32);
  });
  t.Add("range_1d", Range1d);
  t.Add("cumsum", Cumsum);
  t.Add("topk", Topk);
  t.Add("band_part", BandPart);
  t.Add("flatten2d", Flatten2d);
  t.Add("reverse", [](OpContext& c) {
    const at::Tensor x = c.Tensor("x");
    std::vector<int64_t> axes = c.Ints("axes", {});
    if (axes.empty()) {
      for (int64_t i = 0; i < x.dim(); ++i) axes.push_back(i);
    }
    c.SetOutput(0, x.flip(axes));
  });
  t.Add("argsort", [](OpContext& c) {
    const at::Tensor x = c.Tensor("x");
    const int64_t axis = NormalizeAxis(c.Int("axis", -1), x.dim());
    c.SetOutput(0, at::argsort(x, axis, /*descending=*/!c.Bool("ascending", false)).to(at::kInt));
  });
  t.Add("pixel_shuffle", [](OpContext& c) {
    c.SetOutput(0, at::pixel_shuffle(c.Tensor("x"), c.Int("upscale_factor")));
  });
}

}  // namespace ts2coreml::interp
