/// The unrolled recurrence shared by the recurrent layers and cells: one time step of an LSTM,
/// GRU or Elman RNN cell in PyTorch's exact gate order and bias placement, and one direction of
/// one layer run over a (possibly packed) sequence stored as rows.
///
/// A sequence is kept as rows [N, F]: step t owns rows [offset_t, offset_t + batch_t). A padded
/// sequence [T, B, F] is the rows [T * B, F] with every batch_t = B; a packed one (aten::lstm.data)
/// has non-increasing batch_t, and the state rows past batch_t keep their value (a finished
/// sequence keeps its last state, a reversed one not yet started keeps its initial state).
#ifndef TS2COREML_PLUGINS_RECURRENT_RECURRENT_STEP_H_
#define TS2COREML_PLUGINS_RECURRENT_RECURRENT_STEP_H_

#include <cstdint>
#include <vector>

#include "common/lowering_util.h"

namespace ts2coreml::plugins::recurrent {

/// The cell a layer is made of.
enum class CellKind { kLstm, kGru, kRnnTanh, kRnnRelu };

/// Gates per cell: LSTM 4 (i, f, g, o), GRU 3 (r, z, n), RNN 1.
int64_t GateCount(CellKind kind);

/// The weights of one cell (one direction of one layer), as vars in the compute dtype.
struct CellWeights {
  Var w_ih;  ///< [G * H, I]
  Var w_hh;  ///< [G * H, P]
  Var b_ih;  ///< [G * H], or invalid without biases
  Var b_hh;  ///< [G * H], or invalid without biases
  Var w_hr;  ///< [P, H] (LSTM with proj_size), or invalid
};

/// The recurrent state: h [b, P] and, for LSTM, c [b, H].
struct CellState {
  Var h;
  Var c;
};

/// The input contribution to the gates of every row: x W_ih^T + b_ih, plus b_hh for the cells
/// whose hidden bias is a plain sum (LSTM and RNN; GRU's b_hn sits inside the reset product).
Expected<Var> ProjectInput(const LowerContext& ctx, CellKind kind, Var rows, const CellWeights& w);

/// One time step from the projected input rows `gi` [b, G * H] and the state `s` of b rows.
Expected<CellState> EmitStep(const LowerContext& ctx, CellKind kind, Var gi, const CellState& s,
                             const CellWeights& w);

/// One direction of one layer over a sequence of rows.
struct DirectionResult {
  Var rows;         ///< the per-step outputs h_t as rows [N, P], in time order
  CellState final;  ///< the state after the last step processed
};

/// Runs the recurrence over the projected rows `gi` [N, G * H] (steps of `batch_sizes` rows),
/// forward or from the last step back, from `init` (rows [batch_sizes[0], ...]). With `masks`
/// (one bool [b, 1] per step), a row's state takes step t's result only where masks[t] is true
/// and keeps its value elsewhere: a row of length L runs steps 0..L-1 forward, or from L-1 back
/// to 0 starting from its initial state in reverse.
Expected<DirectionResult> RunDirection(const LowerContext& ctx, CellKind kind, Var gi,
                                       const std::vector<int64_t>& batch_sizes,
                                       const std::vector<Var>& masks, bool reverse,
                                       const CellState& init, const CellWeights& w);

/// Rows [begin, end) of `x` along axis 0.
Expected<Var> EmitRows(const LowerContext& ctx, Var x, int64_t begin, int64_t end);

/// Concatenation along `axis` (the var itself when there is one).
Expected<Var> EmitConcat(const LowerContext& ctx, const std::vector<Var>& parts, int64_t axis);

}  // namespace ts2coreml::plugins::recurrent

#endif  // TS2COREML_PLUGINS_RECURRENT_RECURRENT_STEP_H_
