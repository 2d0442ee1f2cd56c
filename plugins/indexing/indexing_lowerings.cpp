/// Built-in lowerings of indexing and data movement. Every index is resolved on the host against
/// the static input shape (negative values wrap, out-of-range slice bounds clamp exactly as ATen
/// does), so the MIL ops get explicit constant begin/end/stride, split sizes, tile reps and pads.
/// Results ATen would give that MIL cannot hold (empty tensors) are refused by name.
#include "indexing/indexing_lowerings.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/lowering_table.h"
#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "indexing/broadcast_tensors_lowering.h"
#include "indexing/embedding_lowering.h"
#include "indexing/index_put_lowering.h"
#include "indexing/index_tensor_lowerings.h"
#include "indexing/movement_lowerings.h"
#include "indexing/scatter_lowerings.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

std::string DimText(int64_t dim) { return "dim " + std::to_string(dim); }

/// A resolved slice along one dim: [start, end) with step, as ATen clamps it.
struct SliceRange {
  int64_t start = 0;
  int64_t end = 0;
  int64_t step = 1;
  int64_t size() const { return end > start ? (end - start + step - 1) / step : 0; }
};

/// ATen's slice bounds: None is 0 / INT64_MAX, negatives wrap once, then clamp to [0, n].
SliceRange ResolveSlice(int64_t n, bool has_start, int64_t start, bool has_end, int64_t end,
                        int64_t step) {
  SliceRange r;
  r.step = step;
  r.start = has_start ? start : 0;
  r.end = has_end ? end : std::numeric_limits<int64_t>::max();
  if (r.start < 0) r.start += n;
  if (r.end < 0) r.end += n;
  r.start = std::clamp<int64_t>(r.start, 0, n);
  r.end = std::clamp<int64_t>(r.end, r.start, n);
  return r;
}

/// Emits slice_by_index of `x` (type `xt`) along `dim`.
Expected<Var> EmitSlice(LowerContext& ctx, Var x, const TensorType& xt, int64_t dim,
                        const SliceRange& r) {
  std::vector<int64_t> begin(xt.rank(), 0), end = xt.shape, stride(xt.rank(), 1);
  begin[dim] = r.start;
  end[dim] = r.end;
  stride[dim] = r.step;
  TensorType out = xt;
  out.shape[dim] = r.size();
  TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.ConstInts(begin));
  TS2COREML_ASSIGN_OR_RETURN(Var e, ctx.ConstInts(end));
  TS2COREML_ASSIGN_OR_RETURN(Var s, ctx.ConstInts(stride));
  return ctx.Emit1("slice_by_index", {{"x", x}, {"begin", b}, {"end", e}, {"stride", s}}, out);
}

/// Emits squeeze of `axis` from `x`.
Expected<Var> EmitSqueeze(LowerContext& ctx, Var x, const TensorType& xt, int64_t axis) {
  TensorType out = xt;
  out.shape.erase(out.shape.begin() + axis);
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({axis}));
  return ctx.Emit1("squeeze", {{"x", x}, {"axes", axes}}, out);
}

/// Emits concat of `parts` along `axis` (identity-free: needs two or more parts).
Expected<Var> EmitConcat(LowerContext& ctx, const std::vector<Var>& parts, int64_t axis,
                         const TensorType& out) {
  TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(axis));
  TS2COREML_ASSIGN_OR_RETURN(Var interleave, ctx.ConstBool(false));
  return ctx.Emit1("concat", {{"values", parts}, {"axis", axis_var}, {"interleave", interleave}},
                   out);
}

// --- slice / narrow / select ----------------------------------------------------------------

/// Reads the range a slice or narrow node takes along `*dim` of `x`.
using RangeReader = Expected<SliceRange> (*)(const NodeView& ctx, const TensorType& x,
                                             int64_t* dim);

/// The input with the range `read_range` gives.
Status InferRange(InferContext& ctx, uint32_t self, RangeReader read_range) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(self));
  int64_t dim = 0;
  TS2COREML_ASSIGN_OR_RETURN(SliceRange r, read_range(ctx, x, &dim));
  x.shape[dim] = r.size();
  return ctx.SetOutputType(0, x);
}

Status LowerRange(LowerContext& ctx, uint32_t self, RangeReader read_range) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(self));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  int64_t dim = 0;
  TS2COREML_ASSIGN_OR_RETURN(SliceRange r, read_range(ctx, xt, &dim));
  if (r.start == 0 && r.end == xt.shape[dim] && r.step == 1) {
    return ctx.EmitOutput("identity", {{"x", x}});
  }
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitSlice(ctx, x, xt, dim, r));
  return ctx.SetOutput(0, y);
}

constexpr t2c_dtype_mask kAny = T2C_MASK_ANY;

constexpr t2c_input_decl kSliceInputs[] = {
    sdk::Tensor("self", kAny), sdk::Host("dim", T2C_INPUT_OPTIONAL),
    sdk::Host("start", T2C_INPUT_OPTIONAL), sdk::Host("end", T2C_INPUT_OPTIONAL),
    sdk::Host("step", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kSliceSelf = sdk::InputIndex(kSliceInputs, "self");
constexpr uint32_t kSliceDim = sdk::InputIndex(kSliceInputs, "dim");
constexpr uint32_t kSliceStart = sdk::InputIndex(kSliceInputs, "start");
constexpr uint32_t kSliceEnd = sdk::InputIndex(kSliceInputs, "end");
constexpr uint32_t kSliceStep = sdk::InputIndex(kSliceInputs, "step");

/// slice.Tensor(self, dim=0, start=None, end=None, step=1), resolved against the input shape.
Expected<SliceRange> ReadSlice(const NodeView& ctx, const TensorType& x, int64_t* dim) {
  const std::string op = ctx.kind();
  if (x.rank() == 0) return ctx.Error(op + ": cannot slice a 0-d tensor");
  *dim = 0;
  if (Given(ctx, kSliceDim)) {
    TS2COREML_ASSIGN_OR_RETURN(*dim, ReadAxis(ctx, kSliceDim, x.rank(), op));
  }
  int64_t start = 0, end = 0, step = 1;
  const bool has_start = Given(ctx, kSliceStart);
  const bool has_end = Given(ctx, kSliceEnd);
  if (has_start) {
    TS2COREML_ASSIGN_OR_RETURN(start, ctx.Int(kSliceStart));
  }
  if (has_end) {
    TS2COREML_ASSIGN_OR_RETURN(end, ctx.Int(kSliceEnd));
  }
  if (Given(ctx, kSliceStep)) {
    TS2COREML_ASSIGN_OR_RETURN(step, ctx.Int(kSliceStep));
  }
  if (step <= 0) {
    return ctx.Error(op + ": step " + std::to_string(step) + " must be positive (as in ATen)");
  }
  SliceRange r = ResolveSlice(x.shape[*dim], has_start, start, has_end, end, step);
  if (r.size() == 0) {
    return ctx.Error(op + ": the slice [" + std::to_string(r.start) + ":" + std::to_string(r.end) +
                     "] of " + DimText(*dim) + " (size " + std::to_string(x.shape[*dim]) +
                     ") is empty; MIL tensors cannot have a zero-size dimension");
  }
  return r;
}

Status InferSlice(InferContext& ctx) { return InferRange(ctx, kSliceSelf, ReadSlice); }
Status LowerSlice(LowerContext& ctx) { return LowerRange(ctx, kSliceSelf, ReadSlice); }

constexpr t2c_input_decl kNarrowInputs[] = {sdk::Tensor("self", kAny), sdk::Host("dim"),
                                            sdk::Host("start"), sdk::Host("length")};
constexpr uint32_t kNarrowSelf = sdk::InputIndex(kNarrowInputs, "self");
constexpr uint32_t kNarrowDim = sdk::InputIndex(kNarrowInputs, "dim");
constexpr uint32_t kNarrowStart = sdk::InputIndex(kNarrowInputs, "start");
constexpr uint32_t kNarrowLength = sdk::InputIndex(kNarrowInputs, "length");

/// narrow(self, dim, start, length): start wraps once; the range must lie inside the dim.
Expected<SliceRange> ReadNarrow(const NodeView& ctx, const TensorType& x, int64_t* dim) {
  if (x.rank() == 0) return ctx.Error("narrow: cannot narrow a 0-d tensor");
  TS2COREML_ASSIGN_OR_RETURN(*dim, ReadAxis(ctx, kNarrowDim, x.rank(), "narrow"));
  TS2COREML_ASSIGN_OR_RETURN(int64_t start, ctx.Int(kNarrowStart));
  TS2COREML_ASSIGN_OR_RETURN(int64_t length, ctx.Int(kNarrowLength));
  const int64_t n = x.shape[*dim];
  if (start < -n || start > n) {
    return ctx.Error("narrow: start " + std::to_string(start) + " is out of range for " +
                     DimText(*dim) + " of size " + std::to_string(n));
  }
  if (start < 0) start += n;
  if (length <= 0 || start + length > n) {
    return ctx.Error("narrow: start " + std::to_string(start) + " + length " +
                     std::to_string(length) + " must lie in (0, " + std::to_string(n) +
                     "] (MIL cannot hold an empty result)");
  }
  SliceRange r;
  r.start = start;
  r.end = start + length;
  return r;
}

// A narrow's range has step 1 and lies inside the dim, so it covers the dim exactly when it
// starts at 0 and ends at its size, as LowerRange checks.
Status InferNarrow(InferContext& ctx) { return InferRange(ctx, kNarrowSelf, ReadNarrow); }
Status LowerNarrow(LowerContext& ctx) { return LowerRange(ctx, kNarrowSelf, ReadNarrow); }

constexpr t2c_input_decl kSelectInputs[] = {sdk::Tensor("self", kAny), sdk::Host("dim"),
                                            sdk::Host("index")};
constexpr uint32_t kSelectSelf = sdk::InputIndex(kSelectInputs, "self");
constexpr uint32_t kSelectDim = sdk::InputIndex(kSelectInputs, "dim");
constexpr uint32_t kSelectIndex = sdk::InputIndex(kSelectInputs, "index");

/// select.int(self, dim, index): index wraps once and must be in range.
Expected<int64_t> ReadSelect(const NodeView& ctx, const TensorType& x, int64_t* dim) {
  if (x.rank() == 0) return ctx.Error("select: cannot select from a 0-d tensor");
  if (x.rank() == 1) {
    return ctx.Error(
        "select: selecting from a 1-d tensor gives a 0-d tensor, which this lowering does not emit; index with a slice of length 1 instead");
  }
  TS2COREML_ASSIGN_OR_RETURN(*dim, ReadAxis(ctx, kSelectDim, x.rank(), "select"));
  TS2COREML_ASSIGN_OR_RETURN(int64_t index, ctx.Int(kSelectIndex));
  const int64_t n = x.shape[*dim];
  if (index < -n || index >= n) {
    return ctx.Error("select: index " + std::to_string(index) + " is out of range for " +
                     DimText(*dim) + " of size " + std::to_string(n));
  }
  return index < 0 ? index + n : index;
}

Status InferSelect(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kSelectSelf));
  int64_t dim = 0;
  TS2COREML_ASSIGN_OR_RETURN(int64_t index, ReadSelect(ctx, x, &dim));
  (void)index;
  x.shape.erase(x.shape.begin() + dim);
  return ctx.SetOutputType(0, x);
}

Status LowerSelect(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kSelectSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  int64_t dim = 0;
  TS2COREML_ASSIGN_OR_RETURN(int64_t index, ReadSelect(ctx, xt, &dim));
  Var y = x;
  TensorType yt = xt;
  if (xt.shape[dim] != 1) {
    SliceRange r;
    r.start = index;
    r.end = index + 1;
    TS2COREML_ASSIGN_OR_RETURN(y, EmitSlice(ctx, x, xt, dim, r));
    yt.shape[dim] = 1;
  }
  TS2COREML_ASSIGN_OR_RETURN(Var z, EmitSqueeze(ctx, y, yt, dim));
  return ctx.SetOutput(0, z);
}

// --- chunk / split / unbind (Tensor[] outputs) ------------------------------------------------

/// The pieces a chunk/split/unbind node cuts along `dim`, and whether each is squeezed (unbind).
struct Pieces {
  int64_t dim = 0;
  std::vector<int64_t> sizes;
  bool squeeze = false;
};

/// Where chunk/split (self, chunks|split_size|split_sizes, dim) and unbind (self, dim) keep their
/// arguments, by name from their input tables.
struct PiecesInputs {
  uint32_t self;
  int size;  ///< -1 for unbind
  uint32_t dim;
};

constexpr t2c_input_decl kSplitInputs[] = {sdk::Tensor("self", kAny),
                                           sdk::Host("chunks_or_split_size"),
                                           sdk::Host("dim", T2C_INPUT_OPTIONAL)};
constexpr PiecesInputs kSplit = {
    sdk::InputIndex(kSplitInputs, "self"),
    static_cast<int>(sdk::InputIndex(kSplitInputs, "chunks_or_split_size")),
    sdk::InputIndex(kSplitInputs, "dim")};
constexpr t2c_input_decl kUnbindInputs[] = {sdk::Tensor("self", kAny),
                                            sdk::Host("dim", T2C_INPUT_OPTIONAL)};
constexpr PiecesInputs kUnbind = {sdk::InputIndex(kUnbindInputs, "self"), -1,
                                  sdk::InputIndex(kUnbindInputs, "dim")};

Expected<Pieces> ReadPieces(const NodeView& ctx, const PiecesInputs& in, const TensorType& x) {
  const std::string op = ctx.kind();
  const std::string base = op.substr(0, op.find('.'));
  if (x.rank() == 0) return ctx.Error(op + ": cannot split a 0-d tensor");
  Pieces p;
  if (Given(ctx, in.dim)) {
    TS2COREML_ASSIGN_OR_RETURN(p.dim, ReadAxis(ctx, in.dim, x.rank(), op));
  }
  const int64_t n = x.shape[p.dim];
  if (in.size < 0) {
    p.sizes.assign(n, 1);
    p.squeeze = true;
    return p;
  }
  const bool with_sizes = op == "aten::split.sizes" || base == "aten::split_with_sizes" ||
                          base == "aten::unsafe_split_with_sizes" ||
                          base == "aten::split_with_sizes_copy";
  if (with_sizes) {
    TS2COREML_ASSIGN_OR_RETURN(p.sizes, ctx.Ints(in.size));
    int64_t total = 0;
    for (int64_t s : p.sizes) {
      if (s <= 0) {
        return ctx.Error(op + ": split sizes " + FormatInts(p.sizes) +
                         " must be positive (MIL cannot hold empty pieces)");
      }
      total += s;
    }
    if (total != n) {
      return ctx.Error(op + ": split sizes " + FormatInts(p.sizes) + " sum to " +
                       std::to_string(total) + ", but " + DimText(p.dim) + " has size " +
                       std::to_string(n));
    }
    return p;
  }
  TS2COREML_ASSIGN_OR_RETURN(int64_t k, ctx.Int(in.size));
  int64_t split_size = k;
  if (base == "aten::chunk" || base == "aten::unsafe_chunk") {
    if (k <= 0) return ctx.Error(op + ": chunks " + std::to_string(k) + " must be positive");
    split_size = (n + k - 1) / k;  // ATen: ceil(n / chunks); fewer chunks may result
  } else if (k <= 0) {
    return ctx.Error(op + ": split_size " + std::to_string(k) + " must be positive");
  }
  for (int64_t start = 0; start < n; start += split_size) {
    p.sizes.push_back(std::min(split_size, n - start));
  }
  return p;
}

Status InferPieces(InferContext& ctx, const PiecesInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(in.self));
  TS2COREML_ASSIGN_OR_RETURN(Pieces p, ReadPieces(ctx, in, x));
  std::vector<TensorType> types;
  for (int64_t s : p.sizes) {
    TensorType t = x;
    if (p.squeeze) {
      t.shape.erase(t.shape.begin() + p.dim);
    } else {
      t.shape[p.dim] = s;
    }
    types.push_back(t);
  }
  if (p.squeeze && x.rank() == 1) {
    return ctx.Error(
        ctx.kind() +
        ": unbinding a 1-d tensor gives 0-d tensors, which this lowering does not emit");
  }
  return ctx.SetOutputListTypes(0, types);
}

Status LowerPieces(LowerContext& ctx, const PiecesInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(in.self));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Pieces p, ReadPieces(ctx, in, xt));
  std::vector<Var> parts;
  std::vector<TensorType> part_types;
  for (int64_t s : p.sizes) {
    TensorType t = xt;
    t.shape[p.dim] = s;
    part_types.push_back(t);
  }
  if (p.sizes.size() == 1) {
    if (p.squeeze) {
      parts.push_back(x);
    } else {
      TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Emit1("identity", {{"x", x}}, xt));
      parts.push_back(y);
    }
  } else {
    TS2COREML_ASSIGN_OR_RETURN(Var sizes, ctx.ConstInts(p.sizes));
    TS2COREML_ASSIGN_OR_RETURN(Var axis, ctx.ConstInt(p.dim));
    TS2COREML_ASSIGN_OR_RETURN(
        parts, ctx.Emit("split", {{"x", x}, {"split_sizes", sizes}, {"axis", axis}}, part_types));
  }
  if (p.squeeze) {
    for (size_t k = 0; k < parts.size(); ++k) {
      TS2COREML_ASSIGN_OR_RETURN(parts[k], EmitSqueeze(ctx, parts[k], part_types[k], p.dim));
    }
  }
  return ctx.SetOutputList(0, parts);
}

Status InferSplit(InferContext& ctx) { return InferPieces(ctx, kSplit); }
Status LowerSplit(LowerContext& ctx) { return LowerPieces(ctx, kSplit); }
Status InferUnbind(InferContext& ctx) { return InferPieces(ctx, kUnbind); }
Status LowerUnbind(LowerContext& ctx) { return LowerPieces(ctx, kUnbind); }

// --- expand / expand_as / repeat --------------------------------------------------------------

/// expand(self, size): -1 keeps a dim; new dims lead; only size-1 dims stretch.
Expected<std::vector<int64_t>> ExpandShape(const NodeView& ctx, const TensorType& x,
                                           std::vector<int64_t> size) {
  const std::string op = ctx.kind();
  if (static_cast<int64_t>(size.size()) < x.rank()) {
    return ctx.Error(op + ": size " + FormatInts(size) + " has fewer dims than the input " +
                     FormatInts(x.shape));
  }
  const int64_t lead = static_cast<int64_t>(size.size()) - x.rank();
  for (int64_t i = 0; i < static_cast<int64_t>(size.size()); ++i) {
    if (i < lead) {
      if (size[i] <= 0) {
        return ctx.Error(op + ": size " + FormatInts(size) +
                         ": a new leading dim must be positive");
      }
      continue;
    }
    const int64_t in = x.shape[i - lead];
    if (size[i] == -1) {
      size[i] = in;
    } else if (size[i] != in && in != 1) {
      return ctx.Error(op + ": cannot expand input " + FormatInts(x.shape) + " to " +
                       FormatInts(size) + " (only size-1 dims stretch)");
    } else if (size[i] <= 0) {
      return ctx.Error(op + ": size " + FormatInts(size) + " must be positive or -1");
    }
  }
  return size;
}

/// Where expand (self, size) and expand_as (self, other) keep their arguments.
struct ExpandInputs {
  uint32_t self;
  int size;   ///< -1 for expand_as
  int other;  ///< -1 for expand
};

constexpr t2c_input_decl kExpandInputs[] = {sdk::Tensor("self", kAny), sdk::Host("size"),
                                            sdk::Ignored("implicit")};
constexpr ExpandInputs kExpand = {sdk::InputIndex(kExpandInputs, "self"),
                                  static_cast<int>(sdk::InputIndex(kExpandInputs, "size")), -1};
constexpr t2c_input_decl kExpandAsInputs[] = {sdk::Tensor("self", kAny),
                                              sdk::Tensor("other", kAny)};
constexpr ExpandInputs kExpandAs = {sdk::InputIndex(kExpandAsInputs, "self"), -1,
                                    static_cast<int>(sdk::InputIndex(kExpandAsInputs, "other"))};

Expected<std::vector<int64_t>> ReadExpand(const NodeView& ctx, const ExpandInputs& in,
                                          const TensorType& x) {
  if (in.other >= 0) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType other, ctx.InputType(in.other));
    return ExpandShape(ctx, x, other.shape);
  }
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> size, ctx.Ints(in.size));
  return ExpandShape(ctx, x, size);
}

Status InferExpandOf(InferContext& ctx, const ExpandInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(in.self));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ReadExpand(ctx, in, x));
  return ctx.SetOutputType(0, TensorType(x.dtype, shape));
}

/// Reshapes x to `rank` dims (leading 1s) then tiles it by `reps` (skipping no-op steps).
Status EmitTiled(LowerContext& ctx, Var x, TensorType xt, int64_t rank,
                 const std::vector<int64_t>& reps) {
  Var cur = x;
  if (xt.rank() < rank) {
    std::vector<int64_t> axes;
    for (int64_t i = 0; i < rank - xt.rank(); ++i) axes.push_back(i);
    xt.shape.insert(xt.shape.begin(), rank - xt.rank(), 1);
    TS2COREML_ASSIGN_OR_RETURN(Var axes_var, ctx.ConstInts(axes));
    TS2COREML_ASSIGN_OR_RETURN(cur, ctx.Emit1("expand_dims", {{"x", cur}, {"axes", axes_var}}, xt));
  }
  if (!AllEqual(reps, 1)) {
    for (size_t i = 0; i < reps.size(); ++i) xt.shape[i] *= reps[i];
    TS2COREML_ASSIGN_OR_RETURN(Var reps_var, ctx.ConstInts(reps));
    TS2COREML_ASSIGN_OR_RETURN(cur, ctx.Emit1("tile", {{"x", cur}, {"reps", reps_var}}, xt));
  }
  return BindOutput(ctx, cur, x);
}

Status LowerExpandOf(LowerContext& ctx, const ExpandInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(in.self));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ReadExpand(ctx, in, xt));
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t lead = rank - xt.rank();
  std::vector<int64_t> reps(rank, 1);
  for (int64_t i = 0; i < rank; ++i) {
    const int64_t in = i < lead ? 1 : xt.shape[i - lead];
    reps[i] = shape[i] / in;
  }
  return EmitTiled(ctx, x, xt, rank, reps);
}

Status InferExpand(InferContext& ctx) { return InferExpandOf(ctx, kExpand); }
Status LowerExpand(LowerContext& ctx) { return LowerExpandOf(ctx, kExpand); }
Status InferExpandAs(InferContext& ctx) { return InferExpandOf(ctx, kExpandAs); }
Status LowerExpandAs(LowerContext& ctx) { return LowerExpandOf(ctx, kExpandAs); }

constexpr t2c_input_decl kRepeatInputs[] = {sdk::Tensor("self", kAny), sdk::Host("repeats")};
constexpr uint32_t kRepeatSelf = sdk::InputIndex(kRepeatInputs, "self");
constexpr uint32_t kRepeatRepeats = sdk::InputIndex(kRepeatInputs, "repeats");

/// repeat(self, repeats): tile after adding leading dims.
Expected<std::vector<int64_t>> ReadRepeats(const NodeView& ctx, const TensorType& x) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> reps, ctx.Ints(kRepeatRepeats));
  if (static_cast<int64_t>(reps.size()) < x.rank()) {
    return ctx.Error("repeat: repeats " + FormatInts(reps) + " has fewer dims than the input " +
                     FormatInts(x.shape));
  }
  for (int64_t r : reps) {
    if (r <= 0) {
      return ctx.Error("repeat: repeats " + FormatInts(reps) +
                       " must be positive (MIL cannot hold empty tensors)");
    }
  }
  return reps;
}

Status InferRepeat(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kRepeatSelf));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> reps, ReadRepeats(ctx, x));
  std::vector<int64_t> shape(reps.size() - x.shape.size(), 1);
  shape.insert(shape.end(), x.shape.begin(), x.shape.end());
  for (size_t i = 0; i < reps.size(); ++i) shape[i] *= reps[i];
  return ctx.SetOutputType(0, TensorType(x.dtype, shape));
}

Status LowerRepeat(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kRepeatSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> reps, ReadRepeats(ctx, xt));
  return EmitTiled(ctx, x, xt, static_cast<int64_t>(reps.size()), reps);
}

// --- roll -----------------------------------------------------------------------------------

/// roll(self, shifts, dims): (dim, shift mod size) pairs; no dims rolls the flattened tensor.
struct RollPlan {
  bool flatten = false;
  std::vector<std::pair<int64_t, int64_t>> steps;  ///< (dim, shift in [1, size))
};

constexpr t2c_input_decl kRollInputs[] = {sdk::Tensor("self", kAny), sdk::Host("shifts"),
                                          sdk::Host("dims", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kRollSelf = sdk::InputIndex(kRollInputs, "self");
constexpr uint32_t kRollShifts = sdk::InputIndex(kRollInputs, "shifts");
constexpr uint32_t kRollDims = sdk::InputIndex(kRollInputs, "dims");

Expected<RollPlan> ReadRoll(const NodeView& ctx, const TensorType& x) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> shifts, ctx.Ints(kRollShifts));
  std::vector<int64_t> dims;
  if (Given(ctx, kRollDims)) {
    TS2COREML_ASSIGN_OR_RETURN(dims, ctx.Ints(kRollDims));
  }
  RollPlan plan;
  std::vector<int64_t> sizes = x.shape;
  if (dims.empty()) {
    if (shifts.size() != 1) {
      return ctx.Error("roll: shifts " + FormatInts(shifts) +
                       " must have one entry when dims is empty");
    }
    plan.flatten = true;
    sizes = {x.numel()};
    dims = {0};
  } else if (shifts.size() != dims.size()) {
    return ctx.Error("roll: shifts " + FormatInts(shifts) + " and dims " + FormatInts(dims) +
                     " must have the same length");
  }
  const int64_t rank = static_cast<int64_t>(sizes.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = sdk::NormalizeAxis(dims[i], rank);
    if (d < 0) {
      return ctx.Error("roll: dim " + std::to_string(dims[i]) + " is out of range for rank " +
                       std::to_string(x.rank()));
    }
    const int64_t n = sizes[d];
    const int64_t s = ((shifts[i] % n) + n) % n;
    if (s != 0) plan.steps.emplace_back(d, s);
  }
  return plan;
}

Status InferRoll(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kRollSelf));
  if (x.rank() > 0) {
    TS2COREML_RETURN_IF_ERROR(ReadRoll(ctx, x).status());
  }
  return ctx.SetOutputType(0, x);
}

Status LowerRoll(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kRollSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  if (xt.rank() == 0) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(RollPlan plan, ReadRoll(ctx, xt));
  Var cur = x;
  TensorType ct = xt;
  if (plan.flatten && !plan.steps.empty()) {
    ct.shape = {xt.numel()};
    TS2COREML_ASSIGN_OR_RETURN(Var shape, ctx.ConstInts(ct.shape));
    TS2COREML_ASSIGN_OR_RETURN(cur, ctx.Emit1("reshape", {{"x", cur}, {"shape", shape}}, ct));
  }
  for (const auto& [dim, shift] : plan.steps) {
    // out = cat(x[n - s:], x[:n - s]) along dim.
    const int64_t n = ct.shape[dim];
    SliceRange tail{n - shift, n, 1}, head{0, n - shift, 1};
    TS2COREML_ASSIGN_OR_RETURN(Var a, EmitSlice(ctx, cur, ct, dim, tail));
    TS2COREML_ASSIGN_OR_RETURN(Var b, EmitSlice(ctx, cur, ct, dim, head));
    TS2COREML_ASSIGN_OR_RETURN(cur, EmitConcat(ctx, {a, b}, dim, ct));
  }
  if (plan.flatten && !plan.steps.empty()) {
    TS2COREML_ASSIGN_OR_RETURN(Var shape, ctx.ConstInts(xt.shape));
    TS2COREML_ASSIGN_OR_RETURN(cur, ctx.Emit1("reshape", {{"x", cur}, {"shape", shape}}, xt));
  }
  return BindOutput(ctx, cur, x);
}

// --- pad / constant_pad_nd ------------------------------------------------------------------

enum class PadMode { kConstant, kReflect, kReplicate, kCircular };

/// A resolved pad: per input dim (before, after), in dim order; the mode and constant value.
struct PadPlan {
  PadMode mode = PadMode::kConstant;
  std::string mode_name = "constant";
  double value = 0;
  std::vector<int64_t> before, after;  ///< one per input dim
  std::vector<int64_t> out_shape;
  int64_t first_padded = 0;  ///< the first dim with a pad entry
};

/// Where pad (self, pad, mode?, value?) and constant_pad_nd (self, pad, value?) keep their
/// arguments.
struct PadInputs {
  uint32_t self;
  uint32_t pad;
  int mode;  ///< -1 for constant_pad_nd and the *_padNd ops
  uint32_t value;
  int64_t fixed_dims = 0;  ///< N for reflection_padNd / replication_padNd (mode from the name)
};

constexpr t2c_input_decl kPadInputs[] = {sdk::Tensor("self", kAny), sdk::Host("pad"),
                                         sdk::Host("mode", T2C_INPUT_OPTIONAL),
                                         sdk::Host("value", T2C_INPUT_OPTIONAL)};
constexpr PadInputs kPad = {sdk::InputIndex(kPadInputs, "self"), sdk::InputIndex(kPadInputs, "pad"),
                            static_cast<int>(sdk::InputIndex(kPadInputs, "mode")),
                            sdk::InputIndex(kPadInputs, "value")};
constexpr t2c_input_decl kConstantPadInputs[] = {sdk::Tensor("self", kAny), sdk::Host("pad"),
                                                 sdk::Host("value", T2C_INPUT_OPTIONAL)};
constexpr PadInputs kConstantPad = {sdk::InputIndex(kConstantPadInputs, "self"),
                                    sdk::InputIndex(kConstantPadInputs, "pad"), -1,
                                    sdk::InputIndex(kConstantPadInputs, "value")};
/// reflection_padNd / replication_padNd (self, padding): no value input (index past the end).
constexpr t2c_input_decl kModePadInputs[] = {sdk::Tensor("self", kAny), sdk::Host("padding")};
constexpr uint32_t kNoInput = 1u << 20;
constexpr PadInputs ModePad(int64_t n) {
  return {sdk::InputIndex(kModePadInputs, "self"), sdk::InputIndex(kModePadInputs, "padding"), -1,
          kNoInput, n};
}

/// The pad mode named `name`.
Expected<PadMode> ParsePadMode(const NodeView& ctx, const std::string& name) {
  if (name == "constant") return PadMode::kConstant;
  if (name == "reflect") return PadMode::kReflect;
  if (name == "replicate") return PadMode::kReplicate;
  if (name == "circular") return PadMode::kCircular;
  return ctx.Error(ctx.kind() + ": mode '" + name +
                   "' is not one of constant, reflect, replicate, circular");
}

/// Reads the mode and the fill value into `p` and checks `pad` against them: the *_padNd ops take
/// their mode from the name and a fixed number of padded dims.
Status ReadPadMode(const NodeView& ctx, const PadInputs& in, const TensorType& x,
                   const std::vector<int64_t>& pad, PadPlan* p) {
  const std::string op = ctx.kind();
  if (in.mode >= 0 && Given(ctx, in.mode)) {
    TS2COREML_ASSIGN_OR_RETURN(p->mode_name, ctx.String(in.mode));
  }
  if (Given(ctx, in.value)) {
    TS2COREML_ASSIGN_OR_RETURN(p->value, ctx.Float(in.value));
  }
  if (in.fixed_dims > 0) {
    p->mode_name = op.find("reflection") != std::string::npos ? "reflect" : "replicate";
    if (static_cast<int64_t>(pad.size()) != 2 * in.fixed_dims ||
        (x.rank() != in.fixed_dims + 1 && x.rank() != in.fixed_dims + 2)) {
      return ctx.InvalidInputs(op + ": needs " + std::to_string(2 * in.fixed_dims) +
                               " paddings and a " + std::to_string(in.fixed_dims + 1) + "-d or " +
                               std::to_string(in.fixed_dims + 2) + "-d input, got " +
                               FormatInts(pad) + " for " + FormatInts(x.shape));
    }
  }
  TS2COREML_ASSIGN_OR_RETURN(p->mode, ParsePadMode(ctx, p->mode_name));
  if (pad.size() % 2 != 0 || static_cast<int64_t>(pad.size()) > 2 * x.rank()) {
    return ctx.Error(op + ": pad " + FormatInts(pad) +
                     " must have an even length of at most twice the input rank " +
                     std::to_string(x.rank()));
  }
  if (p->mode != PadMode::kConstant && p->value != 0) {
    return ctx.Error(op + ": a padding value is only allowed in constant mode");
  }
  return Status::Ok();
}

/// Spreads `pad` ([last_before, last_after, second_last_before, ...]) over the input's dims and
/// gives the output shape, checking each dim's padding against the mode.
Status ResolvePadShape(const NodeView& ctx, const TensorType& x, const std::vector<int64_t>& pad,
                       PadPlan* p) {
  const std::string op = ctx.kind();
  const int64_t pairs = static_cast<int64_t>(pad.size()) / 2;
  p->before.assign(x.rank(), 0);
  p->after.assign(x.rank(), 0);
  p->first_padded = x.rank() - pairs;
  for (int64_t j = 0; j < pairs; ++j) {
    const int64_t d = x.rank() - 1 - j;
    p->before[d] = pad[2 * j];
    p->after[d] = pad[2 * j + 1];
  }
  p->out_shape = x.shape;
  for (int64_t d = 0; d < x.rank(); ++d) {
    const int64_t n = x.shape[d];
    const int64_t l = p->before[d], r = p->after[d];
    if (p->mode != PadMode::kConstant && (l < 0 || r < 0)) {
      return ctx.Error(op + ": negative padding " + FormatInts(pad) +
                       " is only supported in constant mode");
    }
    if (p->mode == PadMode::kReflect && (l >= n || r >= n)) {
      return ctx.Error(op + ": reflect padding " + FormatInts(pad) +
                       " must be smaller than the padded dim (size " + std::to_string(n) + ")");
    }
    if (p->mode == PadMode::kCircular && (l > n || r > n)) {
      return ctx.Error(op + ": circular padding " + FormatInts(pad) +
                       " must be at most the padded dim (size " + std::to_string(n) + ")");
    }
    p->out_shape[d] = n + l + r;
    if (p->out_shape[d] <= 0) {
      return ctx.Error(op + ": pad " + FormatInts(pad) + " leaves " + DimText(d) +
                       " empty; MIL cannot hold an empty tensor");
    }
  }
  return Status::Ok();
}

/// Resolves a pad against the input `x`.
Expected<PadPlan> ReadPad(const NodeView& ctx, const PadInputs& in, const TensorType& x) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> pad, ctx.Ints(in.pad));
  PadPlan p;
  TS2COREML_RETURN_IF_ERROR(ReadPadMode(ctx, in, x, pad, &p));
  TS2COREML_RETURN_IF_ERROR(ResolvePadShape(ctx, x, pad, &p));
  return p;
}

Status InferPadOf(InferContext& ctx, const PadInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(in.self));
  TS2COREML_ASSIGN_OR_RETURN(PadPlan p, ReadPad(ctx, in, x));
  if (!x.is_float() && p.mode != PadMode::kCircular && p.mode != PadMode::kConstant) {
    return ctx.Error(ctx.kind() + ": " + p.mode_name +
                     " padding of non-float tensors is not supported by MIL pad");
  }
  return ctx.SetOutputType(0, TensorType(x.dtype, p.out_shape));
}

/// Constant padding of a non-float tensor (MIL pad takes floats only): per padded dim, x between
/// two fill()ed blocks. The value converts as PyTorch's fill of an integer tensor does.
Expected<Var> EmitFillPad(LowerContext& ctx, Var cur, TensorType ct, const PadPlan& p) {
  for (int64_t d = 0; d < ct.rank(); ++d) {
    const int64_t l = std::max<int64_t>(0, p.before[d]), r = std::max<int64_t>(0, p.after[d]);
    if (l == 0 && r == 0) continue;
    auto block = [&](int64_t size) -> Expected<Var> {
      TensorType bt = ct;
      bt.shape[d] = size;
      TS2COREML_ASSIGN_OR_RETURN(Var shape, ctx.ConstInts(bt.shape));
      TS2COREML_ASSIGN_OR_RETURN(Var value, ct.dtype == T2C_DTYPE_BOOL
                                                ? ctx.ConstBool(p.value != 0)
                                                : ctx.ConstInt(static_cast<int64_t>(p.value)));
      return ctx.Emit1("fill", {{"shape", shape}, {"value", value}}, bt);
    };
    std::vector<Var> parts;
    if (l > 0) {
      TS2COREML_ASSIGN_OR_RETURN(Var a, block(l));
      parts.push_back(a);
    }
    parts.push_back(cur);
    if (r > 0) {
      TS2COREML_ASSIGN_OR_RETURN(Var b, block(r));
      parts.push_back(b);
    }
    TensorType nt = ct;
    nt.shape[d] += l + r;
    TS2COREML_ASSIGN_OR_RETURN(cur, EmitConcat(ctx, parts, d, nt));
    ct = nt;
  }
  return cur;
}

/// Reflect or replicate padding of dim `d` by (l, r), composed from size-1 slices and a concat
/// (MIL pad reflects and replicates only the last two dims): reflect takes x[l], ..., x[1] before
/// and x[n-2], ..., x[n-1-r] after; replicate repeats x[0] and x[n-1].
Expected<Var> EmitEdgePad(LowerContext& ctx, Var x, TensorType* xt, int64_t d, int64_t l, int64_t r,
                          bool reflect) {
  const int64_t n = xt->shape[d];
  std::vector<Var> parts;
  auto piece = [&](int64_t i) -> Status {
    TS2COREML_ASSIGN_OR_RETURN(Var s, EmitSlice(ctx, x, *xt, d, SliceRange{i, i + 1, 1}));
    parts.push_back(s);
    return Status::Ok();
  };
  for (int64_t k = l; k >= 1; --k) TS2COREML_RETURN_IF_ERROR(piece(reflect ? k : 0));
  parts.push_back(x);
  for (int64_t k = 1; k <= r; ++k) TS2COREML_RETURN_IF_ERROR(piece(reflect ? n - 1 - k : n - 1));
  TensorType nt = *xt;
  nt.shape[d] = n + l + r;
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitConcat(ctx, parts, d, nt));
  *xt = nt;
  return y;
}

/// Circular padding: per padded dim, cat(x[n - l:], x, x[:r]).
Expected<Var> EmitCircularPad(LowerContext& ctx, Var cur, TensorType ct, const PadPlan& p) {
  for (int64_t d = 0; d < ct.rank(); ++d) {
    const int64_t n = ct.shape[d], l = p.before[d], r = p.after[d];
    if (l == 0 && r == 0) continue;
    std::vector<Var> parts;
    if (l > 0) {
      TS2COREML_ASSIGN_OR_RETURN(Var a, EmitSlice(ctx, cur, ct, d, SliceRange{n - l, n, 1}));
      parts.push_back(a);
    }
    parts.push_back(cur);
    if (r > 0) {
      TS2COREML_ASSIGN_OR_RETURN(Var b, EmitSlice(ctx, cur, ct, d, SliceRange{0, r, 1}));
      parts.push_back(b);
    }
    TensorType nt = ct;
    nt.shape[d] = n + l + r;
    TS2COREML_ASSIGN_OR_RETURN(cur, EmitConcat(ctx, parts, d, nt));
    ct = nt;
  }
  return cur;
}

/// Reflect or replicate padding of the dims before the last two (which MIL pad does itself):
/// pads them with EmitEdgePad and clears them from `p`.
Expected<Var> EmitLeadingEdgePads(LowerContext& ctx, Var cur, TensorType* ct, PadPlan* p) {
  const int64_t rank = ct->rank();
  for (int64_t d = 0; d + 2 < rank; ++d) {
    if (p->before[d] == 0 && p->after[d] == 0) continue;
    TS2COREML_ASSIGN_OR_RETURN(
        cur, EmitEdgePad(ctx, cur, ct, d, p->before[d], p->after[d], p->mode == PadMode::kReflect));
    p->before[d] = p->after[d] = 0;
  }
  p->first_padded = std::max<int64_t>(p->first_padded, rank - 2);
  return cur;
}

/// Crops the dims with negative (constant) padding.
Expected<Var> EmitPadCrop(LowerContext& ctx, Var cur, TensorType* ct, const PadPlan& p) {
  for (int64_t d = 0; d < ct->rank(); ++d) {
    const int64_t n = ct->shape[d];
    const int64_t cut_l = std::max<int64_t>(0, -p.before[d]);
    const int64_t cut_r = std::max<int64_t>(0, -p.after[d]);
    if (cut_l == 0 && cut_r == 0) continue;
    TS2COREML_ASSIGN_OR_RETURN(cur, EmitSlice(ctx, cur, *ct, d, SliceRange{cut_l, n - cut_r, 1}));
    ct->shape[d] = n - cut_l - cut_r;
  }
  return cur;
}

/// The remaining non-negative padding from the first padded dim on: MIL pad for floats,
/// EmitFillPad for other dtypes; `cur` unchanged when nothing is left to pad.
Expected<Var> EmitRemainingPad(LowerContext& ctx, Var cur, const TensorType& ct, const PadPlan& p) {
  std::vector<int64_t> pads;
  bool any = false;
  for (int64_t d = std::min(p.first_padded, ct.rank()); d < ct.rank(); ++d) {
    const int64_t l = std::max<int64_t>(0, p.before[d]), r = std::max<int64_t>(0, p.after[d]);
    pads.push_back(l);
    pads.push_back(r);
    any |= l != 0 || r != 0;
  }
  if (!any) return cur;
  if (!ct.is_float()) return EmitFillPad(ctx, cur, ct, p);
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var pad_var, ctx.ConstInts(pads));
  TS2COREML_ASSIGN_OR_RETURN(Var mode, ctx.ConstString(p.mode_name));
  std::vector<sdk::Arg> args = {{"x", cur}, {"pad", pad_var}, {"mode", mode}};
  if (p.mode == PadMode::kConstant) {
    TS2COREML_ASSIGN_OR_RETURN(Var value, ctx.ConstFloat(out.dtype, static_cast<float>(p.value)));
    args.push_back({"constant_val", value});
  }
  return ctx.Emit1("pad", args, out);
}

/// Pads in steps: circular padding by slices and concats; otherwise the leading dims' reflect or
/// replicate padding, then the crop of negative padding, then MIL pad (or fills) for the rest.
Status LowerPadOf(LowerContext& ctx, const PadInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(in.self));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(PadPlan p, ReadPad(ctx, in, xt));
  Var cur = x;
  TensorType ct = xt;
  if (p.mode == PadMode::kCircular) {
    TS2COREML_ASSIGN_OR_RETURN(cur, EmitCircularPad(ctx, cur, ct, p));
    return BindOutput(ctx, cur, x);
  }
  if (p.mode == PadMode::kReflect || p.mode == PadMode::kReplicate) {
    TS2COREML_ASSIGN_OR_RETURN(cur, EmitLeadingEdgePads(ctx, cur, &ct, &p));
  }
  TS2COREML_ASSIGN_OR_RETURN(cur, EmitPadCrop(ctx, cur, &ct, p));
  TS2COREML_ASSIGN_OR_RETURN(cur, EmitRemainingPad(ctx, cur, ct, p));
  return BindOutput(ctx, cur, x);
}

Status InferPad(InferContext& ctx) { return InferPadOf(ctx, kPad); }
Status LowerPad(LowerContext& ctx) { return LowerPadOf(ctx, kPad); }
Status InferConstantPad(InferContext& ctx) { return InferPadOf(ctx, kConstantPad); }
Status LowerConstantPad(LowerContext& ctx) { return LowerPadOf(ctx, kConstantPad); }
template <int64_t N>
Status InferModePad(InferContext& ctx) {
  return InferPadOf(ctx, ModePad(N));
}
template <int64_t N>
Status LowerModePad(LowerContext& ctx) {
  return LowerPadOf(ctx, ModePad(N));
}

constexpr const char* kSliceOps[] = {"aten::slice.Tensor", "aten::slice_copy.Tensor"};
constexpr const char* kNarrowOps[] = {"aten::narrow", "aten::narrow_copy"};
constexpr const char* kSelectOps[] = {"aten::select.int", "aten::select_copy.int"};
constexpr const char* kSplitOps[] = {"aten::chunk",
                                     "aten::unsafe_chunk",
                                     "aten::split.Tensor",
                                     "aten::split.sizes",
                                     "aten::split_with_sizes",
                                     "aten::unsafe_split.Tensor",
                                     "aten::unsafe_split_with_sizes",
                                     "aten::split_with_sizes_copy"};
constexpr const char* kUnbindOps[] = {"aten::unbind.int"};
constexpr const char* kExpandOps[] = {"aten::expand", "aten::expand_copy", "aten::broadcast_to"};
constexpr const char* kExpandAsOps[] = {"aten::expand_as"};
constexpr const char* kRepeatOps[] = {"aten::repeat"};
constexpr const char* kRollOps[] = {"aten::roll"};
constexpr const char* kPadOps[] = {"aten::pad"};
constexpr const char* kConstantPadOps[] = {"aten::constant_pad_nd"};
constexpr const char* kPad1dOps[] = {"aten::reflection_pad1d", "aten::replication_pad1d"};
constexpr const char* kPad2dOps[] = {"aten::reflection_pad2d", "aten::replication_pad2d"};
constexpr const char* kPad3dOps[] = {"aten::reflection_pad3d", "aten::replication_pad3d"};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("slice", kSliceOps, kSliceInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferSlice>, sdk::LowerFn<LowerSlice>),
    sdk::Lowering("narrow", kNarrowOps, kNarrowInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferNarrow>, sdk::LowerFn<LowerNarrow>),
    sdk::Lowering("select", kSelectOps, kSelectInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferSelect>, sdk::LowerFn<LowerSelect>),
    sdk::Lowering("split", kSplitOps, kSplitInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferSplit>, sdk::LowerFn<LowerSplit>),
    sdk::Lowering("unbind", kUnbindOps, kUnbindInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferUnbind>, sdk::LowerFn<LowerUnbind>),
    sdk::Lowering("expand", kExpandOps, kExpandInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferExpand>, sdk::LowerFn<LowerExpand>),
    sdk::Lowering("expand_as", kExpandAsOps, kExpandAsInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferExpandAs>, sdk::LowerFn<LowerExpandAs>),
    sdk::Lowering("repeat", kRepeatOps, kRepeatInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferRepeat>, sdk::LowerFn<LowerRepeat>),
    sdk::Lowering("roll", kRollOps, kRollInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferRoll>, sdk::LowerFn<LowerRoll>),
    sdk::Lowering("pad", kPadOps, kPadInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferPad>, sdk::LowerFn<LowerPad>),
    sdk::Lowering("constant_pad_nd", kConstantPadOps, kConstantPadInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferConstantPad>, sdk::LowerFn<LowerConstantPad>),
    sdk::Lowering("mode_pad1d", kPad1dOps, kModePadInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferModePad<1>>, sdk::LowerFn<LowerModePad<1>>),
    sdk::Lowering("mode_pad2d", kPad2dOps, kModePadInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferModePad<2>>, sdk::LowerFn<LowerModePad<2>>),
    sdk::Lowering("mode_pad3d", kPad3dOps, kModePadInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferModePad<3>>, sdk::LowerFn<LowerModePad<3>>),
    kEmbeddingLowering,         // embedding_lowering.cpp
    kBroadcastTensorsLowering,  // broadcast_tensors_lowering.cpp
    kIndexPutLowering,          // index_put_lowering.cpp
};

/// This file's lowerings, then movement_lowerings.cpp's, scatter_lowerings.cpp's and
/// index_tensor_lowerings.cpp's.
constexpr auto kAllLowerings = ConcatLowerings(
    ConcatLowerings(ConcatLowerings(kLowerings, movement::kLowerings), scatter::kLowerings),
    index_tensor::kLowerings);

constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "ts2coreml.indexing",
    "0.2.0",         kAllLowerings.data(),    static_cast<uint32_t>(kAllLowerings.size())};

}  // namespace

const t2c_plugin_info* IndexingPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
