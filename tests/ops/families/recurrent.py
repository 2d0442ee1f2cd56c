"""Recurrent layers and cells (plugins/recurrent): aten::lstm, gru, rnn_tanh, rnn_relu (.input,
and .data through a PackedSequence with constant batch sizes) and the four cells. Every module
returns its outputs flat (output, h_n[, c_n]) so each is verified. Sizes stay small (input 5,
hidden 8) to keep the unrolled programs quick to convert and verify."""
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from op_cases import Case, Input

FEATURES = 5
HIDDEN = 8


def _flat(out, h):
    return (out,) + (tuple(h) if isinstance(h, tuple) else (h,))


class Layer(nn.Module):
    """An nn.LSTM/GRU/RNN from zero initial states, returning (output, h_n[, c_n])."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return _flat(*self.rnn(x))


class LayerH(Layer):
    """A GRU/RNN from a given h_0."""

    def forward(self, x, h0):
        return _flat(*self.rnn(x, h0))


class LayerHC(Layer):
    """An LSTM from given (h_0, c_0)."""

    def forward(self, x, h0, c0):
        return _flat(*self.rnn(x, (h0, c0)))


class Packed(nn.Module):
    """The layer over a packed batch (aten::*.data) whose batch sizes are traced constants."""

    def __init__(self, rnn, batch_sizes):
        super().__init__()
        self.rnn = rnn
        self.batch_sizes = batch_sizes

    def forward(self, data):
        out, h = self.rnn(PackedSequence(data, torch.tensor(self.batch_sizes)))
        return _flat(out.data, h)


class PackPad(nn.Module):
    """The everyday padded-batch layer: pack_padded_sequence by lengths (a model input, or the
    constant `lengths` list), the layer, pad_packed_sequence; returns (output, h_n[, c_n])."""

    def __init__(self, rnn, lengths=None, enforce_sorted=False, total_length=None):
        super().__init__()
        self.rnn = rnn
        self.const_lengths = lengths
        self.enforce_sorted = enforce_sorted
        self.total_length = total_length

    def run(self, x, lengths):
        first = self.rnn.batch_first
        packed = pack_padded_sequence(x, lengths, batch_first=first,
                                      enforce_sorted=self.enforce_sorted)
        out, h = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=first, padding_value=-1.0,
                                     total_length=self.total_length)
        return _flat(out, h)

    def forward(self, x, lengths):
        return self.run(x, lengths)


class PackPadConst(PackPad):
    def forward(self, x):
        return self.run(x, torch.tensor(self.const_lengths))


class ScriptedPackPadLstm(nn.Module):
    """PackPad for an LSTM, written to be scripted (the states unpacked by name)."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(FEATURES, HIDDEN, batch_first=True)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, (h, c) = self.rnn(packed)
        padded, _ = pad_packed_sequence(out, batch_first=True, padding_value=-1.0)
        return padded, h, c


class PackedFinalState(nn.Module):
    """A classifier reading only the final state of a packed layer (no pad_packed_sequence)."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn
        self.fc = nn.Linear(HIDDEN, 2)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.rnn(packed)
        return self.fc(h[-1])


class PackedStack(nn.Module):
    """Two LSTMs, the second fed the first's PackedSequence: refused (the packed batch has
    sum(lengths) rows, known only at run time)."""

    def __init__(self):
        super().__init__()
        self.first = nn.LSTM(FEATURES, HIDDEN, batch_first=True)
        self.second = nn.LSTM(HIDDEN, HIDDEN, batch_first=True)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.second(self.first(packed)[0])
        return pad_packed_sequence(out, batch_first=True)[0]


def _packed_cases():
    """Packed batches from lengths: lengths [4, 6, 2] over 6 steps (unsorted, so the layer runs
    on rows sorted by length and the results are permuted back), as an int64 input or a traced
    constant."""
    lengths = Input("lengths", (3,), "int64", values=[4, 6, 2])
    x_bf, x_tf = Input("x", (3, 6, FEATURES)), Input("x", (6, 3, FEATURES))
    return [
        Case("lstm_packpad_lengths_input", PackPad(nn.LSTM(FEATURES, HIDDEN, batch_first=True)),
             [x_bf, lengths]),
        Case("lstm_packpad_const_bidir_2layer_total8",
             PackPadConst(nn.LSTM(FEATURES, HIDDEN, num_layers=2, bidirectional=True),
                          lengths=[4, 6, 2], total_length=8), [x_tf]),
        Case("gru_packpad_lengths_input_bidir_batch_first",
             PackPad(nn.GRU(FEATURES, HIDDEN, bidirectional=True, batch_first=True)),
             [x_bf, lengths]),
        Case("gru_packpad_sorted_2layer",
             PackPad(nn.GRU(FEATURES, HIDDEN, num_layers=2), enforce_sorted=True),
             [x_tf, Input("lengths", (3,), "int64", values=[6, 4, 1])]),
        Case("rnn_tanh_packpad_const_bidir_batch_first",
             PackPadConst(nn.RNN(FEATURES, HIDDEN, bidirectional=True, batch_first=True),
                          lengths=[2, 6, 5]), [x_bf]),
        Case("lstm_packed_final_state_bidir",
             PackedFinalState(nn.LSTM(FEATURES, HIDDEN, batch_first=True, bidirectional=True)),
             [x_bf, Input("lengths", (3,), "int64", values=[3, 1, 6])]),
        Case("lstm_packpad_lengths_input_scripted", ScriptedPackPadLstm(), [x_bf, lengths],
             script=True),
        Case("lstm_packed_stack_refused", PackedStack(), [x_bf, lengths],
             refuse="unpack it with pad_packed_sequence after each layer"),
    ]


class CellLoop(nn.Module):
    """A GRUCell/RNNCell stepped over the first axis of x, as models drive cells by hand."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, x, h):
        outs = []
        for t in range(x.shape[0]):
            h = self.cell(x[t], h)
            outs.append(h)
        return torch.cat(outs), h


class LstmCellLoop(CellLoop):
    """An LSTMCell stepped over the first axis of x."""

    def forward(self, x, h, c):
        outs = []
        for t in range(x.shape[0]):
            h, c = self.cell(x[t], (h, c))
            outs.append(h)
        return torch.cat(outs), h, c


class _CellWeights(nn.Module):
    """The weights of one cell with `gates` gates (biases None without bias)."""

    def __init__(self, gates, bias):
        super().__init__()
        self.w_ih = nn.Parameter(torch.randn(gates * HIDDEN, FEATURES) * 0.3)
        self.w_hh = nn.Parameter(torch.randn(gates * HIDDEN, HIDDEN) * 0.3)
        self.b_ih = nn.Parameter(torch.randn(gates * HIDDEN) * 0.3) if bias else None
        self.b_hh = nn.Parameter(torch.randn(gates * HIDDEN) * 0.3) if bias else None


# Tracing records a cell as its decomposition (linear, chunk, sigmoid_...): these call the aten
# cells from scripted code (no control flow), two steps chained, so aten::*_cell is lowered.
class ScriptedLstmCell(_CellWeights):
    def __init__(self, bias):
        super().__init__(4, bias)

    def forward(self, x, h, c):
        h1, c1 = torch.lstm_cell(x[0], [h, c], self.w_ih, self.w_hh, self.b_ih, self.b_hh)
        return torch.lstm_cell(x[1], [h1, c1], self.w_ih, self.w_hh, self.b_ih, self.b_hh)


class ScriptedGruCell(_CellWeights):
    def __init__(self, bias):
        super().__init__(3, bias)

    def forward(self, x, h):
        h1 = torch.gru_cell(x[0], h, self.w_ih, self.w_hh, self.b_ih, self.b_hh)
        return torch.gru_cell(x[1], h1, self.w_ih, self.w_hh, self.b_ih, self.b_hh)


class ScriptedRnnTanhCell(_CellWeights):
    def __init__(self, bias):
        super().__init__(1, bias)

    def forward(self, x, h):
        h1 = torch.rnn_tanh_cell(x[0], h, self.w_ih, self.w_hh, self.b_ih, self.b_hh)
        return torch.rnn_tanh_cell(x[1], h1, self.w_ih, self.w_hh, self.b_ih, self.b_hh)


class ScriptedRnnReluCell(_CellWeights):
    def __init__(self, bias):
        super().__init__(1, bias)

    def forward(self, x, h):
        h1 = torch.rnn_relu_cell(x[0], h, self.w_ih, self.w_hh, self.b_ih, self.b_hh)
        return torch.rnn_relu_cell(x[1], h1, self.w_ih, self.w_hh, self.b_ih, self.b_hh)


class TextClassifier(nn.Module):
    """A bidirectional batch-first LSTM over (already embedded) tokens and a linear head on both
    final states (the CLI takes no integer model inputs yet, so the embedding stays outside)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, HIDDEN, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * HIDDEN, 3)

    def forward(self, tokens):
        _, (h, _) = self.lstm(tokens)
        return self.fc(torch.cat([h[-2], h[-1]], 1))


class SensorGru(nn.Module):
    """A 2-layer batch-first GRU read at its last step by a linear head."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(FEATURES, HIDDEN, num_layers=2, batch_first=True)
        self.fc = nn.Linear(HIDDEN, 2)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc(out[:, -1])


def _with_states(kind, rnn):
    return (LayerHC if kind is nn.LSTM else LayerH)(rnn)


def _states(kind, layers_dirs, batch, hidden=HIDDEN, proj=0):
    """Initial-state inputs of a layer ([L * D, B, P], and c_0 [L * D, B, H] for LSTM)."""
    shape = (layers_dirs, batch) if batch else (layers_dirs,)
    h = Input("h0", shape + (proj or hidden,))
    return [h, Input("c0", shape + (hidden,))] if kind is nn.LSTM else [h]


def _layer_cases(kind, name, **kw):
    """One family of layer cases for an nn.LSTM/GRU/RNN class (RNN takes nonlinearity in kw)."""
    return [
        Case(f"{name}_1layer_t7", Layer(kind(FEATURES, HIDDEN, **kw)),
             [Input("x", (7, 2, FEATURES))]),
        Case(f"{name}_2layer_bidir_states_t7",
             _with_states(kind, kind(FEATURES, HIDDEN, num_layers=2, bidirectional=True, **kw)),
             [Input("x", (7, 3, FEATURES))] + _states(kind, 4, 3)),
        Case(f"{name}_batch_first_t64", Layer(kind(FEATURES, HIDDEN, batch_first=True, **kw)),
             [Input("x", (2, 64, FEATURES))]),
        Case(f"{name}_nobias_states_t1",
             _with_states(kind, kind(FEATURES, HIDDEN, bias=False, **kw)),
             [Input("x", (1, 2, FEATURES))] + _states(kind, 1, 2)),
        Case(f"{name}_bidir_batch_first_2layer_t7",
             Layer(kind(FEATURES, HIDDEN, num_layers=2, bidirectional=True, batch_first=True,
                        **kw)),
             [Input("x", (2, 7, FEATURES))]),
        Case(f"{name}_unbatched_t7", Layer(kind(FEATURES, HIDDEN, **kw)),
             [Input("x", (7, FEATURES))]),
        Case(f"{name}_packed_bidir", Packed(kind(FEATURES, HIDDEN, bidirectional=True, **kw),
                                            [3, 3, 2, 1]),
             [Input("data", (9, FEATURES))]),
    ]


def _cell_cases():
    cases = []
    for name, cell, kw in [("lstm_cell", nn.LSTMCell, {}), ("gru_cell", nn.GRUCell, {}),
                           ("rnn_tanh_cell", nn.RNNCell, {}),
                           ("rnn_relu_cell", nn.RNNCell, {"nonlinearity": "relu"})]:
        states = [Input("h", (2, HIDDEN))]
        if cell is nn.LSTMCell:
            states.append(Input("c", (2, HIDDEN)))
        loop = LstmCellLoop if cell is nn.LSTMCell else CellLoop
        cases.append(Case(f"{name}_loop_t5", loop(cell(FEATURES, HIDDEN, **kw)),
                          [Input("x", (5, 2, FEATURES))] + states))
        cases.append(Case(f"{name}_nobias_t1", loop(cell(FEATURES, HIDDEN, bias=False, **kw)),
                          [Input("x", (1, 2, FEATURES))] + states))
    for name, cls in [("lstm_cell", ScriptedLstmCell), ("gru_cell", ScriptedGruCell),
                      ("rnn_tanh_cell", ScriptedRnnTanhCell),
                      ("rnn_relu_cell", ScriptedRnnReluCell)]:
        states = [Input("h", (3, HIDDEN))]
        if cls is ScriptedLstmCell:
            states.append(Input("c", (3, HIDDEN)))
        for bias in (True, False):
            cases.append(Case(f"{name}_scripted{'' if bias else '_nobias'}", cls(bias),
                              [Input("x", (2, 3, FEATURES))] + states, script=True))
    return cases


def cases():
    return (_layer_cases(nn.LSTM, "lstm") + _layer_cases(nn.GRU, "gru") +
            _layer_cases(nn.RNN, "rnn_tanh") +
            _layer_cases(nn.RNN, "rnn_relu", nonlinearity="relu") + [
                Case("lstm_proj_2layer_bidir_states_t7",
                     LayerHC(nn.LSTM(FEATURES, HIDDEN, num_layers=2, bidirectional=True,
                                     proj_size=3)),
                     [Input("x", (7, 2, FEATURES))] + _states(nn.LSTM, 4, 2, proj=3)),
                Case("lstm_proj_batch_first_t64",
                     Layer(nn.LSTM(FEATURES, HIDDEN, batch_first=True, proj_size=4)),
                     [Input("x", (2, 64, FEATURES))]),
                Case("lstm_proj_packed", Packed(nn.LSTM(FEATURES, HIDDEN, proj_size=3),
                                                [2, 2, 1]),
                     [Input("data", (5, FEATURES))]),
                Case("text_classifier_lstm", TextClassifier(),
                     [Input("tokens", (2, 12, FEATURES))]),
                Case("sensor_gru", SensorGru(), [Input("x", (3, 20, FEATURES))]),
            ] + _cell_cases() + _packed_cases())
