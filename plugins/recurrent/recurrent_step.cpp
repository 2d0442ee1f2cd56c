/// One time step of each recurrent cell and the unrolled loop over a sequence of rows. The gate
/// math follows ATen's cells (aten/src/ATen/native/RNN.cpp) term by term.
#include "recurrent/recurrent_step.h"

#include <string>
#include <vector>

#include "common/mil_emit.h"

namespace ts2coreml::plugins::recurrent {
namespace {

/// An elementwise unary op ("sigmoid", "tanh", "relu").
Expected<Var> EmitUnary(const LowerContext& ctx, const char* op, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  return ctx.Emit1(op, {{"x", x}}, t);
}

/// `x` [b, F] split along axis 1 into parts of `sizes` columns.
Expected<std::vector<Var>> EmitSplit(const LowerContext& ctx, Var x,
                                     const std::vector<int64_t>& sizes) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  std::vector<TensorType> parts;
  for (int64_t s : sizes) parts.emplace_back(t.dtype, std::vector<int64_t>{t.shape[0], s});
  TS2COREML_ASSIGN_OR_RETURN(Var sizes_var, ctx.ConstInts(sizes));
  TS2COREML_ASSIGN_OR_RETURN(Var axis, ctx.ConstInt(1));
  return ctx.Emit("split", {{"x", x}, {"split_sizes", sizes_var}, {"axis", axis}}, parts);
}

/// h W_hh^T (+ b_hh when `with_bias`): the hidden contribution to the gates.
Expected<Var> ProjectHidden(const LowerContext& ctx, Var h, const CellWeights& w, bool with_bias) {
  TS2COREML_ASSIGN_OR_RETURN(Var gh, EmitMatmul(ctx, h, w.w_hh, false, true));
  if (!with_bias || !w.b_hh.valid()) return gh;
  return EmitBinary(ctx, "add", gh, w.b_hh);
}

/// LSTM: i, f, g, o = chunks of gi + gh; c' = f c + i g; h' = o tanh(c') (then h' W_hr^T).
Expected<CellState> EmitLstmStep(const LowerContext& ctx, Var gi, const CellState& s,
                                 const CellWeights& w) {
  TS2COREML_ASSIGN_OR_RETURN(Var gh, ProjectHidden(ctx, s.h, w, /*with_bias=*/false));
  TS2COREML_ASSIGN_OR_RETURN(Var gates, EmitBinary(ctx, "add", gi, gh));
  TS2COREML_ASSIGN_OR_RETURN(TensorType ct, ctx.TypeOf(s.c));
  const int64_t hidden = ct.shape[1];
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> g,
                             EmitSplit(ctx, gates, {hidden, hidden, hidden, hidden}));
  TS2COREML_ASSIGN_OR_RETURN(Var in_gate, EmitUnary(ctx, "sigmoid", g[0]));
  TS2COREML_ASSIGN_OR_RETURN(Var forget_gate, EmitUnary(ctx, "sigmoid", g[1]));
  TS2COREML_ASSIGN_OR_RETURN(Var cell_gate, EmitUnary(ctx, "tanh", g[2]));
  TS2COREML_ASSIGN_OR_RETURN(Var out_gate, EmitUnary(ctx, "sigmoid", g[3]));
  TS2COREML_ASSIGN_OR_RETURN(Var kept, EmitBinary(ctx, "mul", forget_gate, s.c));
  TS2COREML_ASSIGN_OR_RETURN(Var added, EmitBinary(ctx, "mul", in_gate, cell_gate));
  CellState next;
  TS2COREML_ASSIGN_OR_RETURN(next.c, EmitBinary(ctx, "add", kept, added));
  TS2COREML_ASSIGN_OR_RETURN(Var c_act, EmitUnary(ctx, "tanh", next.c));
  TS2COREML_ASSIGN_OR_RETURN(next.h, EmitBinary(ctx, "mul", out_gate, c_act));
  if (w.w_hr.valid()) {
    TS2COREML_ASSIGN_OR_RETURN(next.h, EmitMatmul(ctx, next.h, w.w_hr, false, true));
  }
  return next;
}

/// GRU: r, z = sigmoid(gi_rz + gh_rz); n = tanh(gi_n + r (W_hn h + b_hn)); h' = n + z (h - n).
Expected<CellState> EmitGruStep(const LowerContext& ctx, Var gi, const CellState& s,
                                const CellWeights& w) {
  TS2COREML_ASSIGN_OR_RETURN(Var gh, ProjectHidden(ctx, s.h, w, /*with_bias=*/true));
  TS2COREML_ASSIGN_OR_RETURN(TensorType ht, ctx.TypeOf(s.h));
  const int64_t hidden = ht.shape[1];
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> gi_parts, EmitSplit(ctx, gi, {2 * hidden, hidden}));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> gh_parts, EmitSplit(ctx, gh, {2 * hidden, hidden}));
  TS2COREML_ASSIGN_OR_RETURN(Var rz_sum, EmitBinary(ctx, "add", gh_parts[0], gi_parts[0]));
  TS2COREML_ASSIGN_OR_RETURN(Var rz, EmitUnary(ctx, "sigmoid", rz_sum));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> r_z, EmitSplit(ctx, rz, {hidden, hidden}));
  TS2COREML_ASSIGN_OR_RETURN(Var reset_hn, EmitBinary(ctx, "mul", r_z[0], gh_parts[1]));
  TS2COREML_ASSIGN_OR_RETURN(Var n_sum, EmitBinary(ctx, "add", gi_parts[1], reset_hn));
  TS2COREML_ASSIGN_OR_RETURN(Var n, EmitUnary(ctx, "tanh", n_sum));
  TS2COREML_ASSIGN_OR_RETURN(Var diff, EmitBinary(ctx, "sub", s.h, n));
  TS2COREML_ASSIGN_OR_RETURN(Var update, EmitBinary(ctx, "mul", diff, r_z[1]));
  CellState next;
  TS2COREML_ASSIGN_OR_RETURN(next.h, EmitBinary(ctx, "add", update, n));
  return next;
}

/// Elman RNN: h' = act(gi + h W_hh^T) (both biases are in gi).
Expected<CellState> EmitRnnStep(const LowerContext& ctx, const char* activation, Var gi,
                                const CellState& s, const CellWeights& w) {
  TS2COREML_ASSIGN_OR_RETURN(Var gh, ProjectHidden(ctx, s.h, w, /*with_bias=*/false));
  TS2COREML_ASSIGN_OR_RETURN(Var sum, EmitBinary(ctx, "add", gi, gh));
  CellState next;
  TS2COREML_ASSIGN_OR_RETURN(next.h, EmitUnary(ctx, activation, sum));
  return next;
}

/// `next` where `mask` [b, 1] is true, `state` elsewhere (h, and c when present).
Expected<CellState> KeepWhereMasked(const LowerContext& ctx, Var mask, const CellState& next,
                                    const CellState& state) {
  CellState out;
  TS2COREML_ASSIGN_OR_RETURN(TensorType ht, ctx.TypeOf(next.h));
  TS2COREML_ASSIGN_OR_RETURN(
      out.h, ctx.Emit1("select", {{"cond", mask}, {"a", next.h}, {"b", state.h}}, ht));
  if (!next.c.valid()) return out;
  TS2COREML_ASSIGN_OR_RETURN(TensorType ct, ctx.TypeOf(next.c));
  TS2COREML_ASSIGN_OR_RETURN(
      out.c, ctx.Emit1("select", {{"cond", mask}, {"a", next.c}, {"b", state.c}}, ct));
  return out;
}

/// `state` with its rows [0, b) replaced by `active` (rows [b, B) keep their value).
Expected<Var> MergeRows(const LowerContext& ctx, Var active, Var state, int64_t b) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(state));
  if (b == t.shape[0]) return active;
  TS2COREML_ASSIGN_OR_RETURN(Var rest, EmitRows(ctx, state, b, t.shape[0]));
  return EmitConcat(ctx, {active, rest}, 0);
}

/// The first b rows of `state` (the var itself when it has b rows; invalid stays invalid).
Expected<Var> ActiveRows(const LowerContext& ctx, Var state, int64_t b) {
  if (!state.valid()) return state;
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(state));
  if (b == t.shape[0]) return state;
  return EmitRows(ctx, state, 0, b);
}

}  // namespace

int64_t GateCount(CellKind kind) {
  switch (kind) {
    case CellKind::kLstm:
      return 4;
    case CellKind::kGru:
      return 3;
    default:
      return 1;
  }
}

Expected<Var> EmitRows(const LowerContext& ctx, Var x, int64_t begin, int64_t end) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  std::vector<int64_t> b(t.shape.size(), 0), e = t.shape;
  b[0] = begin;
  e[0] = end;
  TensorType out = t;
  out.shape[0] = end - begin;
  TS2COREML_ASSIGN_OR_RETURN(Var begin_var, ctx.ConstInts(b));
  TS2COREML_ASSIGN_OR_RETURN(Var end_var, ctx.ConstInts(e));
  return ctx.Emit1("slice_by_index", {{"x", x}, {"begin", begin_var}, {"end", end_var}}, out);
}

Expected<Var> EmitConcat(const LowerContext& ctx, const std::vector<Var>& parts, int64_t axis) {
  if (parts.size() == 1) return parts[0];
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.TypeOf(parts[0]));
  for (size_t i = 1; i < parts.size(); ++i) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(parts[i]));
    out.shape[static_cast<size_t>(axis)] += t.shape[static_cast<size_t>(axis)];
  }
  TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(axis));
  TS2COREML_ASSIGN_OR_RETURN(Var interleave, ctx.ConstBool(false));
  return ctx.Emit1("concat", {{"values", parts}, {"axis", axis_var}, {"interleave", interleave}},
                   out);
}

Expected<Var> ProjectInput(const LowerContext& ctx, CellKind kind, Var rows, const CellWeights& w) {
  TS2COREML_ASSIGN_OR_RETURN(Var gi, EmitMatmul(ctx, rows, w.w_ih, false, true));
  if (w.b_ih.valid()) {
    TS2COREML_ASSIGN_OR_RETURN(gi, EmitBinary(ctx, "add", gi, w.b_ih));
  }
  if (kind == CellKind::kGru || !w.b_hh.valid()) return gi;
  return EmitBinary(ctx, "add", gi, w.b_hh);
}

Expected<CellState> EmitStep(const LowerContext& ctx, CellKind kind, Var gi, const CellState& s,
                             const CellWeights& w) {
  switch (kind) {
    case CellKind::kLstm:
      return EmitLstmStep(ctx, gi, s, w);
    case CellKind::kGru:
      return EmitGruStep(ctx, gi, s, w);
    case CellKind::kRnnTanh:
      return EmitRnnStep(ctx, "tanh", gi, s, w);
    case CellKind::kRnnRelu:
      return EmitRnnStep(ctx, "relu", gi, s, w);
  }
  return ctx.Error("unknown recurrent cell");
}

Expected<DirectionResult> RunDirection(const LowerContext& ctx, CellKind kind, Var gi,
                                       const std::vector<int64_t>& batch_sizes,
                                       const std::vector<Var>& masks, bool reverse,
                                       const CellState& init, const CellWeights& w) {
  const int64_t steps = static_cast<int64_t>(batch_sizes.size());
  std::vector<int64_t> offsets(batch_sizes.size(), 0);
  for (int64_t t = 1; t < steps; ++t) offsets[t] = offsets[t - 1] + batch_sizes[t - 1];
  CellState state = init;
  std::vector<Var> outputs(batch_sizes.size());
  for (int64_t k = 0; k < steps; ++k) {
    const int64_t t = reverse ? steps - 1 - k : k;
    const int64_t b = batch_sizes[t];
    TS2COREML_ASSIGN_OR_RETURN(Var gi_t, EmitRows(ctx, gi, offsets[t], offsets[t] + b));
    CellState active;
    TS2COREML_ASSIGN_OR_RETURN(active.h, ActiveRows(ctx, state.h, b));
    TS2COREML_ASSIGN_OR_RETURN(active.c, ActiveRows(ctx, state.c, b));
    TS2COREML_ASSIGN_OR_RETURN(CellState next, EmitStep(ctx, kind, gi_t, active, w));
    outputs[t] = next.h;
    if (!masks.empty()) {
      TS2COREML_ASSIGN_OR_RETURN(next, KeepWhereMasked(ctx, masks[t], next, active));
    }
    TS2COREML_ASSIGN_OR_RETURN(state.h, MergeRows(ctx, next.h, state.h, b));
    if (state.c.valid()) {
      TS2COREML_ASSIGN_OR_RETURN(state.c, MergeRows(ctx, next.c, state.c, b));
    }
  }
  DirectionResult r;
  TS2COREML_ASSIGN_OR_RETURN(r.rows, EmitConcat(ctx, outputs, 0));
  r.final = state;
  return r;
}

}  // namespace ts2coreml::plugins::recurrent
