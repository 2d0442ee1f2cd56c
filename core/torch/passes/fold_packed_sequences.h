/// A recurrent layer run over a packed batch of padded sequences, rewritten as one layer over the
/// padded tensor that masks each row's state by its length.
///
/// `pack_padded_sequence(x, lengths)` packs the rows of a padded batch into a tensor whose size is
/// the sum of the lengths, a number known only at run time when `lengths` is a model input. The
/// chain
///
///   %data, %bs = aten::_pack_padded_sequence(%x, %lengths, %batch_first)
///   %out, %h, %c = aten::lstm.data(%data, %bs, %hx, %params, ...)
///   %padded, %lens = aten::_pad_packed_sequence(%out, %bs, %out_batch_first, %pad, %total)
///
/// computes the same numbers as
///
///   %padded, %h, %c = ts2coreml::lstm_padded(%x, %lengths, %hx, %params, ..., %batch_first,
///                                            %pad, %total, %out_batch_first)
///
/// (and %lens is %lengths), where every step runs for the whole batch and a row's state is
/// updated only while the step is below its length: a forward pass ends at each row's last valid
/// step, a reverse pass starts at it (docs/recurrent.md, "Packed sequences"). The same holds for
/// gru, rnn_tanh and rnn_relu (`ts2coreml::gru_padded`, ...; h only). `%total` is -1 when the
/// model pads to the longest sequence (`aten::size(%bs, 0)`): the padded input's length then,
/// which is the longest sequence whenever one sequence fills the input. A layer whose packed
/// output is read by anything but `_pad_packed_sequence` is left alone.
///
/// With `enforce_sorted=False`, pack_padded_sequence sorts the lengths and later permutes the
/// results back by the inverse of the sort indices, made by scattering `arange` into a fresh
/// tensor (`empty_like(idx).scatter_(0, idx, arange(idx.numel()))`), an in-place write of run-time
/// data into a tensor known at conversion time. The inverse of a permutation is its argsort: that
/// scatter_ becomes `aten::argsort(idx, 0, False)` when idx is the indices of an `aten::sort`.
#ifndef TS2COREML_CORE_TORCH_PASSES_FOLD_PACKED_SEQUENCES_H_
#define TS2COREML_CORE_TORCH_PASSES_FOLD_PACKED_SEQUENCES_H_

#include "absl/status/statusor.h"
#include "torch/csrc/jit/ir/ir.h"

namespace ts2coreml::core {

/// Rewrites every pack -> recurrent layer -> pad chain of `graph` (nested blocks included) into
/// a `ts2coreml::*_padded` layer (registering those ops' schemas with LibTorch on first use) and
/// each inverse permutation of sort indices into an argsort; returns whether any was rewritten.
absl::StatusOr<bool> FoldPackedSequences(torch::jit::Graph& graph);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_PASSES_FOLD_PACKED_SEQUENCES_H_
