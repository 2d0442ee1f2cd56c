/// Layout lowerings (see layout_lowerings.h).
#include "shape/layout_lowerings.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::layout {
namespace {

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

Expected<int64_t> Axis(const NodeView& ctx, int64_t dim, int64_t rank) {
  const int64_t a = sdk::NormalizeAxis(dim, std::max<int64_t>(rank, 1));
  if (a < 0) {
    return ctx.Error(OpBaseName(ctx.kind()) + ": dim " + std::to_string(dim) +
                     " is out of range for rank " + std::to_string(rank));
  }
  return a;
}

/// select(mask, x, 0) with a constant 0/1 `keep` table shaped like the trailing dims of `x`.
Expected<Var> KeepWhere(const LowerContext& ctx, Var x, const std::vector<int64_t>& keep,
                        const Shape& shape) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var table, ctx.ConstInts(keep));
  TS2COREML_ASSIGN_OR_RETURN(table, EmitReshape(ctx, table, shape));
  TS2COREML_ASSIGN_OR_RETURN(Var one, ctx.ConstInt(1));
  TS2COREML_ASSIGN_OR_RETURN(
      Var mask, ctx.Emit1("equal", {{"x", table}, {"y", one}}, TensorType(T2C_DTYPE_BOOL, shape)));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ScalarLike(ctx, t.dtype, 0));
  return ctx.Emit1("select", {{"cond", mask}, {"a", x}, {"b", zero}}, t);
}

}  // namespace

// --- t, movedim, unflatten, atleast_nd, view_as/reshape_as, channel_shuffle --------------------

constexpr uint32_t kSelf = sdk::InputIndex(kSelfInputs, "self");

Status InferT(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kSelf));
  if (x.rank() > 2) {
    return ctx.InvalidInputs("t: expects at most 2 dims, got " + FormatInts(x.shape));
  }
  if (x.rank() == 2) std::swap(x.shape[0], x.shape[1]);
  return ctx.SetOutputType(0, x);
}
Status LowerT(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  if (t.rank() < 2) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitTranspose(ctx, x, {1, 0}));
  return ctx.SetOutput(0, y);
}

constexpr uint32_t kMoveSelf = sdk::InputIndex(kMovedimInputs, "self");
constexpr uint32_t kMoveSource = sdk::InputIndex(kMovedimInputs, "source");
constexpr uint32_t kMoveDestination = sdk::InputIndex(kMovedimInputs, "destination");

/// movedim's permutation: sources land at their destinations, the other dims keep their order.
Expected<Shape> MovePerm(const NodeView& ctx, int64_t rank) {
  Shape src, dst;
  if (EndsWith(ctx.kind(), ".int")) {
    TS2COREML_ASSIGN_OR_RETURN(int64_t s, ctx.Int(kMoveSource));
    TS2COREML_ASSIGN_OR_RETURN(int64_t d, ctx.Int(kMoveDestination));
    src = {s};
    dst = {d};
  } else {
    TS2COREML_ASSIGN_OR_RETURN(src, ctx.Ints(kMoveSource));
    TS2COREML_ASSIGN_OR_RETURN(dst, ctx.Ints(kMoveDestination));
  }
  if (src.size() != dst.size()) {
    return ctx.Error("movedim: source " + FormatInts(src) + " and destination " + FormatInts(dst) +
                     " differ in length");
  }
  Shape perm(static_cast<size_t>(rank), -1);
  std::vector<bool> moved(static_cast<size_t>(rank), false);
  for (size_t i = 0; i < src.size(); ++i) {
    TS2COREML_ASSIGN_OR_RETURN(int64_t s, Axis(ctx, src[i], rank));
    TS2COREML_ASSIGN_OR_RETURN(int64_t d, Axis(ctx, dst[i], rank));
    if (moved[s] || perm[d] >= 0) return ctx.Error("movedim: repeated dims");
    perm[d] = s;
    moved[s] = true;
  }
  int64_t next = 0;
  for (int64_t& p : perm) {
    if (p >= 0) continue;
    while (moved[next]) ++next;
    p = next++;
  }
  return perm;
}

Status InferMovedim(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kMoveSelf));
  TS2COREML_ASSIGN_OR_RETURN(Shape perm, MovePerm(ctx, x.rank()));
  TensorType out(x.dtype, {});
  for (int64_t p : perm) out.shape.push_back(x.shape[p]);
  return ctx.SetOutputType(0, out);
}
Status LowerMovedim(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kMoveSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Shape perm, MovePerm(ctx, t.rank()));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitTranspose(ctx, x, perm));
  return BindOutput(ctx, y, x);
}

constexpr uint32_t kUnflattenSelf = sdk::InputIndex(kUnflattenInputs, "self");
constexpr uint32_t kUnflattenDim = sdk::InputIndex(kUnflattenInputs, "dim");
constexpr uint32_t kUnflattenSizes = sdk::InputIndex(kUnflattenInputs, "sizes");

Expected<Shape> UnflattenShape(const NodeView& ctx, const TensorType& x) {
  TS2COREML_ASSIGN_OR_RETURN(int64_t dim, ctx.Int(kUnflattenDim));
  TS2COREML_ASSIGN_OR_RETURN(int64_t a, Axis(ctx, dim, x.rank()));
  TS2COREML_ASSIGN_OR_RETURN(Shape sizes, ctx.Ints(kUnflattenSizes));
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == -1 && infer < 0) {
      infer = static_cast<int64_t>(i);
    } else {
      known *= sizes[i];
    }
  }
  const int64_t n = x.rank() == 0 ? 1 : x.shape[a];
  if (infer >= 0 && known > 0 && n % known == 0) sizes[infer] = n / known;
  int64_t product = 1;
  for (int64_t s : sizes) product *= s;
  if (sizes.empty() || product != n || product == 0) {
    return ctx.InvalidInputs("unflatten: sizes " + FormatInts(sizes) + " do not multiply to " +
                             std::to_string(n));
  }
  Shape out(x.shape.begin(), x.shape.begin() + a);
  out.insert(out.end(), sizes.begin(), sizes.end());
  if (x.rank() > 0) out.insert(out.end(), x.shape.begin() + a + 1, x.shape.end());
  return out;
}

Status InferUnflatten(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kUnflattenSelf));
  TS2COREML_ASSIGN_OR_RETURN(Shape out, UnflattenShape(ctx, x));
  return ctx.SetOutputType(0, TensorType(x.dtype, out));
}
Status LowerUnflatten(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kUnflattenSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Shape out, UnflattenShape(ctx, t));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitReshape(ctx, x, out));
  return BindOutput(ctx, y, x);
}

/// atleast_1d/2d/3d: numpy's promotion of 0-d, 1-d and 2-d inputs.
Shape AtLeastShape(const std::string& base, const Shape& s) {
  const char n = base.back() == 'd' ? base[base.size() - 2] : '1';
  if (n == '1') return s.empty() ? Shape{1} : s;
  if (n == '2') {
    if (s.empty()) return {1, 1};
    return s.size() == 1 ? Shape{1, s[0]} : s;
  }
  if (s.empty()) return {1, 1, 1};
  if (s.size() == 1) return {1, s[0], 1};
  if (s.size() == 2) return {s[0], s[1], 1};
  return s;
}

Status InferAtLeast(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kSelf));
  return ctx.SetOutputType(0, TensorType(x.dtype, AtLeastShape(OpBaseName(ctx.kind()), x.shape)));
}
Status LowerAtLeast(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var y,
                             EmitReshape(ctx, x, AtLeastShape(OpBaseName(ctx.kind()), t.shape)));
  return BindOutput(ctx, y, x);
}

constexpr uint32_t kAtLeastTensors = sdk::InputIndex(kTensorsInputs, "tensors");

/// atleast_nd of a tensor list: each element promoted on its own. The core plans a list's
/// elements as one node's inputs (integers become float beside floats), so a list mixing float
/// and non-float tensors, which PyTorch keeps apart, is refused.
Status InferAtLeastList(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(kAtLeastTensors));
  std::vector<TensorType> types;
  int floats = 0;
  for (uint32_t k = 0; k < n; ++k) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.ListType(kAtLeastTensors, k));
    floats += t.is_float() ? 1 : 0;
    types.emplace_back(t.dtype, AtLeastShape(OpBaseName(ctx.kind()), t.shape));
  }
  if (floats != 0 && floats != static_cast<int>(n)) {
    return ctx.Error(OpBaseName(ctx.kind()) +
                     ": a list mixing float and non-float tensors is not supported; call " +
                     OpBaseName(ctx.kind()) + " on each tensor");
  }
  return ctx.SetOutputListTypes(0, types);
}
Status LowerAtLeastList(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> xs, ctx.InputList(kAtLeastTensors));
  std::vector<Var> outs;
  for (Var x : xs) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
    TS2COREML_ASSIGN_OR_RETURN(Var y,
                               EmitReshape(ctx, x, AtLeastShape(OpBaseName(ctx.kind()), t.shape)));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitIdentityIfInput(ctx, y, x));
    outs.push_back(y);
  }
  return ctx.SetOutputList(0, outs);
}

constexpr uint32_t kAsSelf = sdk::InputIndex(kReshapeAsInputs, "self");
constexpr uint32_t kAsOther = sdk::InputIndex(kReshapeAsInputs, "other");

Status InferReshapeAs(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kAsSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType other, ctx.InputType(kAsOther));
  if (x.numel() != other.numel()) {
    return ctx.InvalidInputs(OpBaseName(ctx.kind()) + ": " + FormatInts(x.shape) +
                             " cannot take the shape " + FormatInts(other.shape));
  }
  return ctx.SetOutputType(0, TensorType(x.dtype, other.shape));
}
Status LowerReshapeAs(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kAsSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitReshape(ctx, x, out.shape));
  return BindOutput(ctx, y, x);
}

constexpr uint32_t kShuffleSelf = sdk::InputIndex(kChannelShuffleInputs, "self");
constexpr uint32_t kShuffleGroups = sdk::InputIndex(kChannelShuffleInputs, "groups");

Status InferChannelShuffle(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kShuffleSelf));
  TS2COREML_ASSIGN_OR_RETURN(int64_t g, ctx.Int(kShuffleGroups));
  if (x.rank() < 3 || g <= 0 || x.shape[1] % g != 0) {
    return ctx.InvalidInputs("channel_shuffle: " + std::to_string(g) +
                             " groups do not divide the channels of " + FormatInts(x.shape));
  }
  return ctx.SetOutputType(0, x);
}
/// [N, g, C / g, rest] -> [N, C / g, g, rest].
Status LowerChannelShuffle(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kShuffleSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(int64_t g, ctx.Int(kShuffleGroups));
  int64_t rest = 1;
  for (size_t i = 2; i < t.shape.size(); ++i) rest *= t.shape[i];
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitReshape(ctx, x, {t.shape[0], g, t.shape[1] / g, rest}));
  TS2COREML_ASSIGN_OR_RETURN(y, EmitTranspose(ctx, y, {0, 2, 1, 3}));
  TS2COREML_ASSIGN_OR_RETURN(y, EmitReshape(ctx, y, t.shape));
  return BindOutput(ctx, y, x);
}

// --- tile, rot90 -------------------------------------------------------------------------------

constexpr uint32_t kTileSelf = sdk::InputIndex(kTileInputs, "self");
constexpr uint32_t kTileDims = sdk::InputIndex(kTileInputs, "dims");

/// tile(self, dims): dims shorter than the rank are padded with leading 1s, then repeat's rule.
Expected<Shape> TileReps(const NodeView& ctx, const TensorType& x) {
  TS2COREML_ASSIGN_OR_RETURN(Shape reps, ctx.Ints(kTileDims));
  while (static_cast<int64_t>(reps.size()) < x.rank()) reps.insert(reps.begin(), 1);
  for (int64_t r : reps) {
    if (r <= 0) {
      return ctx.Error("tile: dims " + FormatInts(reps) +
                       " must be positive (MIL cannot hold empty tensors)");
    }
  }
  return reps;
}

Status InferTile(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kTileSelf));
  TS2COREML_ASSIGN_OR_RETURN(Shape reps, TileReps(ctx, x));
  Shape out(reps.size() - x.shape.size(), 1);
  out.insert(out.end(), x.shape.begin(), x.shape.end());
  for (size_t i = 0; i < out.size(); ++i) out[i] *= reps[i];
  return ctx.SetOutputType(0, TensorType(x.dtype, out));
}
Status LowerTile(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kTileSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Shape reps, TileReps(ctx, t));
  Shape lead(reps.size() - t.shape.size(), 1);
  lead.insert(lead.end(), t.shape.begin(), t.shape.end());
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitReshape(ctx, x, lead));
  if (!AllEqual(reps, 1)) {
    for (size_t i = 0; i < lead.size(); ++i) lead[i] *= reps[i];
    TS2COREML_ASSIGN_OR_RETURN(Var reps_var, ctx.ConstInts(reps));
    TS2COREML_ASSIGN_OR_RETURN(
        y, ctx.Emit1("tile", {{"x", y}, {"reps", reps_var}}, TensorType(t.dtype, lead)));
  }
  return BindOutput(ctx, y, x);
}

constexpr uint32_t kRotSelf = sdk::InputIndex(kRot90Inputs, "self");
constexpr uint32_t kRotK = sdk::InputIndex(kRot90Inputs, "k");
constexpr uint32_t kRotDims = sdk::InputIndex(kRot90Inputs, "dims");

/// rot90: k mod 4 and the two plane axes.
struct Rot {
  int64_t k = 0, d0 = 0, d1 = 0;
};

Expected<Rot> ReadRot(const NodeView& ctx, const TensorType& x) {
  TS2COREML_ASSIGN_OR_RETURN(int64_t k, ctx.Int(kRotK));
  TS2COREML_ASSIGN_OR_RETURN(Shape dims, ctx.Ints(kRotDims));
  if (dims.size() != 2 || x.rank() < 2) {
    return ctx.InvalidInputs("rot90: expects 2 dims of a tensor of rank >= 2, got dims " +
                             FormatInts(dims) + " of " + FormatInts(x.shape));
  }
  Rot r;
  TS2COREML_ASSIGN_OR_RETURN(r.d0, Axis(ctx, dims[0], x.rank()));
  TS2COREML_ASSIGN_OR_RETURN(r.d1, Axis(ctx, dims[1], x.rank()));
  if (r.d0 == r.d1) return ctx.InvalidInputs("rot90: the two dims are the same");
  r.k = ((k % 4) + 4) % 4;
  return r;
}

Status InferRot90(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kRotSelf));
  TS2COREML_ASSIGN_OR_RETURN(Rot r, ReadRot(ctx, x));
  if (r.k % 2 == 1) std::swap(x.shape[r.d0], x.shape[r.d1]);
  return ctx.SetOutputType(0, x);
}
/// k = 1: flip d1 then swap; k = 2: flip both; k = 3: flip d0 then swap (ATen's rot90).
Status LowerRot90(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kRotSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Rot r, ReadRot(ctx, t));
  if (r.k == 0) return ctx.EmitOutput("identity", {{"x", x}});
  Shape axes =
      r.k == 2 ? Shape{std::min(r.d0, r.d1), std::max(r.d0, r.d1)} : Shape{r.k == 1 ? r.d1 : r.d0};
  TS2COREML_ASSIGN_OR_RETURN(Var axes_var, ctx.ConstInts(axes));
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Emit1("reverse", {{"x", x}, {"axes", axes_var}}, t));
  if (r.k != 2) {
    Shape perm;
    for (int64_t i = 0; i < t.rank(); ++i) perm.push_back(i);
    std::swap(perm[r.d0], perm[r.d1]);
    TS2COREML_ASSIGN_OR_RETURN(y, EmitTranspose(ctx, y, perm));
  }
  return ctx.SetOutput(0, y);
}

// --- unfold (sliding windows), diagonal, diag, diag_embed, take ---------------------------------

constexpr uint32_t kUnfoldSelf = sdk::InputIndex(kUnfoldInputs, "self");
constexpr uint32_t kUnfoldDim = sdk::InputIndex(kUnfoldInputs, "dimension");
constexpr uint32_t kUnfoldSize = sdk::InputIndex(kUnfoldInputs, "size");
constexpr uint32_t kUnfoldStep = sdk::InputIndex(kUnfoldInputs, "step");

struct Windows {
  int64_t axis = 0, size = 0, step = 0, count = 0;
};

Expected<Windows> ReadWindows(const NodeView& ctx, const TensorType& x) {
  Windows w;
  TS2COREML_ASSIGN_OR_RETURN(int64_t dim, ctx.Int(kUnfoldDim));
  TS2COREML_ASSIGN_OR_RETURN(w.size, ctx.Int(kUnfoldSize));
  TS2COREML_ASSIGN_OR_RETURN(w.step, ctx.Int(kUnfoldStep));
  if (x.rank() == 0) return ctx.Error("unfold: a 0-d input is not supported");
  TS2COREML_ASSIGN_OR_RETURN(w.axis, Axis(ctx, dim, x.rank()));
  const int64_t n = x.shape[w.axis];
  if (w.step <= 0 || w.size < 0 || w.size > n) {
    return ctx.InvalidInputs("unfold: size " + std::to_string(w.size) + " and step " +
                             std::to_string(w.step) + " do not fit dim size " + std::to_string(n));
  }
  if (w.size == 0) return ctx.Error("unfold: size 0 gives an empty tensor, which MIL cannot hold");
  w.count = (n - w.size) / w.step + 1;
  return w;
}

Status InferUnfold(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kUnfoldSelf));
  TS2COREML_ASSIGN_OR_RETURN(Windows w, ReadWindows(ctx, x));
  x.shape[w.axis] = w.count;
  x.shape.push_back(w.size);
  return ctx.SetOutputType(0, x);
}
/// gather [count, size] window indices along the axis, then move the window axis last.
Status LowerUnfold(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kUnfoldSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Windows w, ReadWindows(ctx, t));
  std::vector<int64_t> idx;
  for (int64_t l = 0; l < w.count; ++l) {
    for (int64_t j = 0; j < w.size; ++j) idx.push_back(l * w.step + j);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitGatherConst(ctx, x, w.axis, idx, {w.count, w.size}));
  Shape perm;
  for (int64_t i = 0; i <= t.rank(); ++i) {
    if (i != w.axis + 1) perm.push_back(i);
  }
  perm.push_back(w.axis + 1);
  TS2COREML_ASSIGN_OR_RETURN(y, EmitTranspose(ctx, y, perm));
  return ctx.SetOutput(0, y);
}

constexpr uint32_t kDiagonalSelf = sdk::InputIndex(kDiagonalInputs, "self");
constexpr uint32_t kDiagonalOffset = sdk::InputIndex(kDiagonalInputs, "offset");
constexpr uint32_t kDiagonalDim1 = sdk::InputIndex(kDiagonalInputs, "dim1");
constexpr uint32_t kDiagonalDim2 = sdk::InputIndex(kDiagonalInputs, "dim2");

/// A diagonal of the (d1, d2) plane at `offset`: its length and each entry's (row, col).
struct Diagonal {
  int64_t d1 = 0, d2 = 0, offset = 0, length = 0;
  int64_t row(int64_t i) const { return i + std::max<int64_t>(-offset, 0); }
  int64_t col(int64_t i) const { return i + std::max<int64_t>(offset, 0); }
};

Expected<Diagonal> PlanDiagonal(const NodeView& ctx, const TensorType& x, int64_t offset,
                                int64_t dim1, int64_t dim2) {
  Diagonal d;
  d.offset = offset;
  TS2COREML_ASSIGN_OR_RETURN(d.d1, Axis(ctx, dim1, x.rank()));
  TS2COREML_ASSIGN_OR_RETURN(d.d2, Axis(ctx, dim2, x.rank()));
  if (x.rank() < 2 || d.d1 == d.d2) {
    return ctx.InvalidInputs(OpBaseName(ctx.kind()) + ": needs two distinct dims of " +
                             FormatInts(x.shape));
  }
  const int64_t rows = x.shape[d.d1] - std::max<int64_t>(-offset, 0);
  const int64_t cols = x.shape[d.d2] - std::max<int64_t>(offset, 0);
  d.length = std::min(rows, cols);
  if (d.length <= 0) {
    return ctx.Error(OpBaseName(ctx.kind()) + ": offset " + std::to_string(offset) +
                     " gives an empty diagonal, which MIL cannot hold");
  }
  return d;
}

/// [others..., length]: the plane moved last, flattened, and gathered at row * cols + col.
Expected<Var> EmitDiagonal(const LowerContext& ctx, Var x, const Diagonal& d) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  Shape perm, flat;
  for (int64_t i = 0; i < t.rank(); ++i) {
    if (i != d.d1 && i != d.d2) {
      perm.push_back(i);
      flat.push_back(t.shape[i]);
    }
  }
  perm.push_back(d.d1);
  perm.push_back(d.d2);
  const int64_t cols = t.shape[d.d2];
  flat.push_back(t.shape[d.d1] * cols);
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitTranspose(ctx, x, perm));
  TS2COREML_ASSIGN_OR_RETURN(y, EmitReshape(ctx, y, flat));
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < d.length; ++i) idx.push_back(d.row(i) * cols + d.col(i));
  return EmitGatherConst(ctx, y, static_cast<int64_t>(flat.size()) - 1, idx, {d.length});
}

Expected<Diagonal> ReadDiagonal(const NodeView& ctx, const TensorType& x) {
  TS2COREML_ASSIGN_OR_RETURN(int64_t offset, ctx.Int(kDiagonalOffset));
  TS2COREML_ASSIGN_OR_RETURN(int64_t dim1, ctx.Int(kDiagonalDim1));
  TS2COREML_ASSIGN_OR_RETURN(int64_t dim2, ctx.Int(kDiagonalDim2));
  return PlanDiagonal(ctx, x, offset, dim1, dim2);
}

Status InferDiagonal(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kDiagonalSelf));
  TS2COREML_ASSIGN_OR_RETURN(Diagonal d, ReadDiagonal(ctx, x));
  Shape out;
  for (int64_t i = 0; i < x.rank(); ++i) {
    if (i != d.d1 && i != d.d2) out.push_back(x.shape[i]);
  }
  out.push_back(d.length);
  return ctx.SetOutputType(0, TensorType(x.dtype, out));
}
Status LowerDiagonal(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kDiagonalSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Diagonal d, ReadDiagonal(ctx, t));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitDiagonal(ctx, x, d));
  return ctx.SetOutput(0, y);
}

/// The trailing [m, m] matrix holding a length-n vector on diagonal `offset` (m = n + |offset|):
/// gather indices (0 off the diagonal) and the 0/1 keep table.
void EmbedTables(int64_t n, int64_t offset, std::vector<int64_t>* idx, std::vector<int64_t>* keep) {
  const int64_t m = n + (offset < 0 ? -offset : offset);
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t c = 0; c < m; ++c) {
      const bool on = c - r == offset;
      idx->push_back(on ? (offset >= 0 ? r : c) : 0);
      keep->push_back(on ? 1 : 0);
    }
  }
}

/// `x` [..., n] -> [..., m, m] with x on diagonal `offset` and zeros elsewhere.
Expected<Var> EmitEmbed(const LowerContext& ctx, Var x, int64_t offset) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  const int64_t n = t.shape.back();
  const int64_t m = n + (offset < 0 ? -offset : offset);
  std::vector<int64_t> idx, keep;
  EmbedTables(n, offset, &idx, &keep);
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitGatherConst(ctx, x, t.rank() - 1, idx, {m, m}));
  return KeepWhere(ctx, y, keep, {m, m});
}

constexpr uint32_t kDiagSelf = sdk::InputIndex(kDiagInputs, "self");
constexpr uint32_t kDiagDiagonal = sdk::InputIndex(kDiagInputs, "diagonal");

Status InferDiag(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kDiagSelf));
  TS2COREML_ASSIGN_OR_RETURN(int64_t k, ctx.Int(kDiagDiagonal));
  if (x.rank() == 1) {
    const int64_t m = x.shape[0] + (k < 0 ? -k : k);
    return ctx.SetOutputType(0, TensorType(x.dtype, {m, m}));
  }
  if (x.rank() != 2) {
    return ctx.InvalidInputs("diag: expects a 1-d or 2-d input, got " + FormatInts(x.shape));
  }
  TS2COREML_ASSIGN_OR_RETURN(Diagonal d, PlanDiagonal(ctx, x, k, 0, 1));
  return ctx.SetOutputType(0, TensorType(x.dtype, {d.length}));
}
Status LowerDiag(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kDiagSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(int64_t k, ctx.Int(kDiagDiagonal));
  Var y;
  if (t.rank() == 1) {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitEmbed(ctx, x, k));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(Diagonal d, PlanDiagonal(ctx, t, k, 0, 1));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitDiagonal(ctx, x, d));
  }
  return ctx.SetOutput(0, y);
}

/// diag_embed: the output rank and where the matrix's rows and columns go.
struct Embed {
  int64_t offset = 0, d1 = 0, d2 = 0, m = 0;
};

Expected<Embed> ReadEmbed(const NodeView& ctx, const TensorType& x) {
  Embed e;
  TS2COREML_ASSIGN_OR_RETURN(e.offset, ctx.Int(kDiagonalOffset));
  TS2COREML_ASSIGN_OR_RETURN(int64_t dim1, ctx.Int(kDiagonalDim1));
  TS2COREML_ASSIGN_OR_RETURN(int64_t dim2, ctx.Int(kDiagonalDim2));
  if (x.rank() == 0) return ctx.InvalidInputs("diag_embed: expects at least 1 dim");
  TS2COREML_ASSIGN_OR_RETURN(e.d1, Axis(ctx, dim1, x.rank() + 1));
  TS2COREML_ASSIGN_OR_RETURN(e.d2, Axis(ctx, dim2, x.rank() + 1));
  if (e.d1 == e.d2) return ctx.InvalidInputs("diag_embed: dim1 and dim2 are the same");
  e.m = x.shape.back() + (e.offset < 0 ? -e.offset : e.offset);
  return e;
}

/// The permutation from [batch..., rows, cols] to rows at d1, cols at d2.
Shape EmbedPerm(const Embed& e, int64_t rank) {
  Shape perm(static_cast<size_t>(rank), -1);
  perm[e.d1] = rank - 2;
  perm[e.d2] = rank - 1;
  int64_t next = 0;
  for (int64_t& p : perm) {
    if (p < 0) p = next++;
  }
  return perm;
}

Status InferDiagEmbed(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kDiagonalSelf));
  TS2COREML_ASSIGN_OR_RETURN(Embed e, ReadEmbed(ctx, x));
  Shape inner(x.shape.begin(), x.shape.end() - 1);
  inner.push_back(e.m);
  inner.push_back(e.m);
  Shape out;
  for (int64_t p : EmbedPerm(e, x.rank() + 1)) out.push_back(inner[p]);
  return ctx.SetOutputType(0, TensorType(x.dtype, out));
}
Status LowerDiagEmbed(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kDiagonalSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Embed e, ReadEmbed(ctx, t));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitEmbed(ctx, x, e.offset));
  TS2COREML_ASSIGN_OR_RETURN(y, EmitTranspose(ctx, y, EmbedPerm(e, t.rank() + 1)));
  return ctx.SetOutput(0, y);
}

constexpr uint32_t kTakeSelf = sdk::InputIndex(kTakeInputs, "self");
constexpr uint32_t kTakeIndex = sdk::InputIndex(kTakeInputs, "index");

Status InferTake(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kTakeSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType index, ctx.InputType(kTakeIndex));
  if (index.numel() == 0) return ctx.Error("take: an empty index is not supported");
  return ctx.SetOutputType(0, TensorType(x.dtype, index.shape));
}
/// The flattened input gathered at the index, negative entries counted from the end.
Status LowerTake(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kTakeSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var index, ctx.Input(kTakeIndex));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(TensorType it, ctx.TypeOf(index));
  TS2COREML_ASSIGN_OR_RETURN(Var flat, EmitReshape(ctx, x, {t.numel()}));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstInt(0));
  TS2COREML_ASSIGN_OR_RETURN(Var n, ctx.ConstInt(t.numel()));
  TS2COREML_ASSIGN_OR_RETURN(Var negative, ctx.Emit1("less", {{"x", index}, {"y", zero}},
                                                     TensorType(T2C_DTYPE_BOOL, it.shape)));
  TS2COREML_ASSIGN_OR_RETURN(Var wrapped, EmitBinary(ctx, "add", index, n));
  TS2COREML_ASSIGN_OR_RETURN(
      Var idx, ctx.Emit1("select", {{"cond", negative}, {"a", wrapped}, {"b", index}}, it));
  TS2COREML_ASSIGN_OR_RETURN(Var axis, ctx.ConstInt(0));
  return ctx.EmitOutput("gather", {{"x", flat}, {"indices", idx}, {"axis", axis}});
}

// --- tensor_split, hsplit, vsplit, dsplit -----------------------------------------------------

constexpr uint32_t kSplitSelf = sdk::InputIndex(kTensorSplitInputs, "self");
constexpr uint32_t kSplitHow = sdk::InputIndex(kTensorSplitInputs, "sections_or_indices");
constexpr uint32_t kSplitDim = sdk::InputIndex(kTensorSplitInputs, "dim");

/// The pieces along `axis` as [start, end) ranges.
struct Pieces {
  int64_t axis = 0;
  std::vector<std::pair<int64_t, int64_t>> ranges;
};

Expected<Pieces> ReadPieces(const NodeView& ctx, const TensorType& x) {
  const std::string base = OpBaseName(ctx.kind());
  const bool sections = EndsWith(ctx.kind(), ".sections") || EndsWith(ctx.kind(), ".int");
  Pieces p;
  if (base == "tensor_split") {
    int64_t dim = 0;
    if (Given(ctx, kSplitDim)) {
      TS2COREML_ASSIGN_OR_RETURN(dim, ctx.Int(kSplitDim));
    }
    TS2COREML_ASSIGN_OR_RETURN(p.axis, Axis(ctx, dim, x.rank()));
  } else {
    const int64_t need = base == "dsplit" ? 3 : base == "vsplit" ? 2 : 1;
    if (x.rank() < need) {
      return ctx.InvalidInputs(base + ": expects at least " + std::to_string(need) + " dims, got " +
                               FormatInts(x.shape));
    }
    p.axis = base == "dsplit" ? 2 : base == "vsplit" ? 0 : (x.rank() == 1 ? 0 : 1);
  }
  if (x.rank() == 0) return ctx.Error(base + ": a 0-d input cannot be split");
  const int64_t n = x.shape[p.axis];
  if (sections) {
    TS2COREML_ASSIGN_OR_RETURN(int64_t k, ctx.Int(kSplitHow));
    if (k <= 0) return ctx.InvalidInputs(base + ": sections " + std::to_string(k) + " < 1");
    if (base != "tensor_split" && n % k != 0) {
      return ctx.InvalidInputs(base + ": " + std::to_string(k) + " sections do not divide " +
                               std::to_string(n));
    }
    int64_t start = 0;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t size = n / k + (i < n % k ? 1 : 0);
      p.ranges.push_back({start, start + size});
      start += size;
    }
  } else {
    TS2COREML_ASSIGN_OR_RETURN(Shape cuts, ctx.Ints(kSplitHow));
    int64_t start = 0;
    cuts.push_back(n);
    for (int64_t c : cuts) {
      if (c < 0) c += n;
      const int64_t end = std::clamp<int64_t>(c, start, n);
      p.ranges.push_back({start, end});
      start = end;
    }
  }
  for (const auto& r : p.ranges) {
    if (r.second <= r.first) {
      return ctx.Error(base + ": a piece along dim " + std::to_string(p.axis) +
                       " is empty, which MIL cannot hold");
    }
  }
  return p;
}

Status InferTensorSplit(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kSplitSelf));
  TS2COREML_ASSIGN_OR_RETURN(Pieces p, ReadPieces(ctx, x));
  std::vector<TensorType> types;
  for (const auto& r : p.ranges) {
    TensorType t = x;
    t.shape[p.axis] = r.second - r.first;
    types.push_back(t);
  }
  return ctx.SetOutputListTypes(0, types);
}
Status LowerTensorSplit(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kSplitSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Pieces p, ReadPieces(ctx, t));
  std::vector<Var> outs;
  for (const auto& r : p.ranges) {
    Shape begin(t.shape.size(), 0), end = t.shape;
    begin[p.axis] = r.first;
    end[p.axis] = r.second;
    TensorType piece = t;
    piece.shape[p.axis] = r.second - r.first;
    TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.ConstInts(begin));
    TS2COREML_ASSIGN_OR_RETURN(Var e, ctx.ConstInts(end));
    TS2COREML_ASSIGN_OR_RETURN(
        Var v, ctx.Emit1("slice_by_index", {{"x", x}, {"begin", b}, {"end", e}}, piece));
    outs.push_back(v);
  }
  return ctx.SetOutputList(0, outs);
}

// --- slice_scatter, select_scatter -------------------------------------------------------------

constexpr uint32_t kScatterSelf = sdk::InputIndex(kSliceScatterInputs, "self");
constexpr uint32_t kScatterSrc = sdk::InputIndex(kSliceScatterInputs, "src");
constexpr uint32_t kScatterDim = sdk::InputIndex(kSliceScatterInputs, "dim");
constexpr uint32_t kScatterStart = sdk::InputIndex(kSliceScatterInputs, "start_or_index");
constexpr uint32_t kScatterEnd = sdk::InputIndex(kSliceScatterInputs, "end");
constexpr uint32_t kScatterStep = sdk::InputIndex(kSliceScatterInputs, "step");

/// The positions along `axis` that src overwrites (ATen's slice bounds, or the selected index).
struct Placement {
  int64_t axis = 0;
  bool select = false;
  std::vector<int64_t> positions;
};

Expected<Placement> ReadPlacement(const NodeView& ctx, const TensorType& x, const TensorType& src) {
  Placement p;
  p.select = OpBaseName(ctx.kind()) == "select_scatter";
  int64_t dim = 0;
  if (Given(ctx, kScatterDim)) {
    TS2COREML_ASSIGN_OR_RETURN(dim, ctx.Int(kScatterDim));
  }
  if (x.rank() == 0) return ctx.Error(OpBaseName(ctx.kind()) + ": a 0-d input is not supported");
  TS2COREML_ASSIGN_OR_RETURN(p.axis, Axis(ctx, dim, x.rank()));
  const int64_t n = x.shape[p.axis];
  if (p.select) {
    TS2COREML_ASSIGN_OR_RETURN(int64_t index, ctx.Int(kScatterStart));
    if (index < -n || index >= n) {
      return ctx.InvalidInputs("select_scatter: index " + std::to_string(index) +
                               " is out of range for size " + std::to_string(n));
    }
    p.positions = {index < 0 ? index + n : index};
  } else {
    int64_t start = 0, end = std::numeric_limits<int64_t>::max(), step = 1;
    if (Given(ctx, kScatterStart)) {
      TS2COREML_ASSIGN_OR_RETURN(start, ctx.Int(kScatterStart));
    }
    if (Given(ctx, kScatterEnd)) {
      TS2COREML_ASSIGN_OR_RETURN(end, ctx.Int(kScatterEnd));
    }
    if (Given(ctx, kScatterStep)) {
      TS2COREML_ASSIGN_OR_RETURN(step, ctx.Int(kScatterStep));
    }
    if (step <= 0) return ctx.InvalidInputs("slice_scatter: step must be positive");
    if (start < 0) start += n;
    if (end < 0) end += n;
    start = std::clamp<int64_t>(start, 0, n);
    end = std::clamp<int64_t>(end, start, n);
    for (int64_t i = start; i < end; i += step) p.positions.push_back(i);
  }
  Shape expected = x.shape;
  if (p.select) {
    expected.erase(expected.begin() + p.axis);
  } else {
    expected[p.axis] = static_cast<int64_t>(p.positions.size());
  }
  if (src.shape != expected) {
    return ctx.InvalidInputs(OpBaseName(ctx.kind()) + ": src " + FormatInts(src.shape) +
                             " must have shape " + FormatInts(expected));
  }
  return p;
}

Status InferSliceScatter(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kScatterSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType src, ctx.InputType(kScatterSrc));
  TS2COREML_RETURN_IF_ERROR(ReadPlacement(ctx, x, src).status());
  if (src.is_float()) x.dtype = T2C_DTYPE_FP32;
  return ctx.SetOutputType(0, x);
}
/// concat(self, src) along the axis, gathered at j (kept) or n + k (the k-th written position).
Status LowerSliceScatter(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kScatterSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var src, ctx.Input(kScatterSrc));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(src));
  TS2COREML_ASSIGN_OR_RETURN(Placement p, ReadPlacement(ctx, t, st));
  if (p.positions.empty()) return ctx.EmitOutput("identity", {{"x", x}});
  if (p.select) {
    Shape s = t.shape;
    s[p.axis] = 1;
    TS2COREML_ASSIGN_OR_RETURN(src, EmitReshape(ctx, src, s));
  }
  const int64_t n = t.shape[p.axis];
  TensorType both = t;
  both.shape[p.axis] += static_cast<int64_t>(p.positions.size());
  TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(p.axis));
  TS2COREML_ASSIGN_OR_RETURN(Var interleave, ctx.ConstBool(false));
  TS2COREML_ASSIGN_OR_RETURN(Var joined, ctx.Emit1("concat",
                                                   {{"values", std::vector<Var>{x, src}},
                                                    {"axis", axis_var},
                                                    {"interleave", interleave}},
                                                   both));
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) idx[j] = j;
  for (size_t k = 0; k < p.positions.size(); ++k) {
    idx[p.positions[k]] = n + static_cast<int64_t>(k);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitGatherConst(ctx, joined, p.axis, idx, {n}));
  return ctx.SetOutput(0, y);
}

}  // namespace ts2coreml::plugins::layout
