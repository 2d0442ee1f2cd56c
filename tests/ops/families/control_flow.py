"""Scripted control flow and scripted-model basics (core/torch/control_flow.h).

Branches and loops that the input shapes, dtypes and module attributes decide are folded at
conversion time (a `prim::If` on a static condition is inlined, a `for` loop over a static range
of at most 32 trips is unrolled); the type queries scripted code branches on (prim::dtype,
aten::dim, aten::size, aten::len, aten::__getitem__, aten::__is__ on None, prim::unchecked_cast)
fold, aten::warn and aten::format are dropped, and a prim::RaiseException in a branch that cannot
be taken goes away with it. Branches that depend on run-time tensor values become MIL cond; loops
whose exit depends on tensor values, and static loops longer than the unroll limit, become MIL
while_loop (docs/control-flow.md)."""
import warnings
from typing import List, Optional

import torch
from torch import nn, Tensor

from op_cases import Case, Input


class DataIf(nn.Module):
    def forward(self, x):
        if bool(x.sum() > 0):
            return x * 2.0
        return x - 1.0


class ForStatic(nn.Module):
    """A for loop over a static range whose body branches on the (then constant) index."""

    def forward(self, x):
        for i in range(4):
            if i % 2 == 0:
                x = x * 0.5 + float(i)
            else:
                x = torch.relu(x) - 0.25
        return x


class LoopSize0(nn.Module):
    """Sums x[i] * (i + 1) over the first dimension: x.size(0) trips."""

    def forward(self, x):
        acc = torch.zeros_like(x[0])
        for i in range(x.size(0)):
            acc = acc + x[i] * float(i + 1)
        return acc


class LoopLastDim(nn.Module):
    """A loop over x.shape[-1] carrying two values, its output one of them."""

    def forward(self, x):
        a = x
        b = x * 0.0
        for i in range(x.shape[-1]):
            a, b = b + 1.0, a * 0.5
        return a + b


class BasicBlock(nn.Module):
    """A torchvision-style residual block as scripted files carry it: an input check that
    raises, a dtype warning, an `if self.training` branch and an optional downsample."""

    def __init__(self, downsample: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 8, 3, padding=1, stride=2 if downsample else 1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8 if downsample else 4, 3, padding=1)
        self.drop = nn.Dropout(0.3)
        self.downsample = nn.Conv2d(4, 8, 1, stride=2) if downsample else None

    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        if x.dtype != torch.float32:
            warnings.warn("BasicBlock expects float32 input")
        y = torch.relu(self.bn1(self.conv1(x)))
        if self.training:
            y = self.drop(y)
        y = self.conv2(y)
        identity = x
        if self.downsample is not None:
            identity = self.downsample(x)
        return torch.relu(y + identity)


def _maybe_add(x: Tensor, y: Optional[Tensor]) -> Tensor:
    if y is not None:
        return x + y
    return x


class Basics(nn.Module):
    """Shape, rank and dtype queries, and Optional handling, folded from static types."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, 6))

    def forward(self, x, y):
        s = x.shape
        out = x * float(len(s)) + float(s[-2])
        if x.dim() == 3 and y.size(-1) == s[-1]:
            out = out + y
        else:
            raise RuntimeError("shapes do not match")
        if y.dtype == torch.float32:
            out = out * self.scale
        none: Optional[Tensor] = None
        out = _maybe_add(out, none)
        return _maybe_add(out, y)


class WhileCounter(nn.Module):
    """A while loop on an int counter the input shape bounds: peeled until it exits."""

    def forward(self, x):
        i = 0
        while i < x.size(0):
            x = x * 0.5 + float(i)
            i += 2
        return x


class ForBreak(nn.Module):
    """A for loop left with `break` on a static test of the index."""

    def forward(self, x):
        for i in range(10):
            if i * x.size(1) > 8:
                break
            x = torch.sigmoid(x) * 4.0 - float(i)
        return x


class GuardAfterConv(nn.Module):
    """Guards on an intermediate tensor's shape, folded with the converter's own shapes (as in
    F.adaptive_avg_pool2d and the batch-norm input checks of scripted torchvision models)."""

    def __init__(self, want_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.want_channels = want_channels

    def forward(self, x):
        y = self.conv(x)
        if len(y.shape) < 3:
            raise ValueError(f"expected at least 3 dims, got {len(y.shape)}")
        if y.size(1) != self.want_channels:
            raise ValueError("unexpected channel count")
        return torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1)


class GuardOnValues(nn.Module):
    def forward(self, x):
        if bool(x.min() < -100.0):
            raise ValueError("input out of range")
        return x * 2.0


class ScriptedLstm(nn.Module):
    """nn.LSTM scripted: its forward branches on batch_sizes/hx being None, checks hidden sizes
    (an int-list comparison) and raises on bad ranks; all static here."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(5, 8, num_layers=2, batch_first=True)

    def forward(self, x):
        out, (h, c) = self.rnn(x)
        return out, h, c


class ScriptedGru(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(5, 8, bidirectional=True)

    def forward(self, x, h0):
        out, h = self.rnn(x, h0)
        return out, h


class RaiseTaken(nn.Module):
    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        return x + 1.0


class WhileTensor(nn.Module):
    def forward(self, x):
        while bool(x.abs().max() > 1.0):
            x = x * 0.5
        return x


class WhileNorm(nn.Module):
    """A while loop whose exit depends on a tensor value, with a max count."""

    def forward(self, x):
        n = 0
        while bool(x.norm() < 10.0):
            x = x * 1.5
            n += 1
            if n >= 50:
                break
        return x


class ForDataBreak(nn.Module):
    """A for loop with a data-dependent break, two carried tensors and a nested if."""

    def forward(self, x):
        acc = torch.zeros_like(x)
        for i in range(20):
            if bool(acc.sum() > 6.0):
                break
            if bool(x.mean() > 0.0):
                acc = acc + torch.relu(x)
            else:
                acc = acc + torch.sigmoid(x)
        return acc, x * 2.0


class RnnLong(nn.Module):
    """x.size(0) = 100 trips of h = tanh(h @ W + u): static, past the unroll limit. (A literal
    range(100) would be unrolled 8-fold by LibTorch's freezing, leaving 12 trips.)"""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(3)
        self.w = nn.Parameter(torch.randn(8, 8, generator=g) * 0.3)

    def forward(self, x):
        u = x.mean(0)
        h = torch.zeros_like(u)
        for _ in range(x.size(0)):
            h = torch.tanh(h @ self.w + u)
        return h


class IfInLoopInIf(nn.Module):
    """A loop inside a branch, a branch inside the loop, outer values read inside."""

    def forward(self, x, y):
        out = y
        if bool(x.sum() > 0.0):
            for i in range(40):
                if bool(out.max() > 3.0):
                    out = out - x
                else:
                    out = out + torch.abs(x) * 0.25
        else:
            out = y * -1.0
        return out


class LongLoop(nn.Module):
    """x.size(0) = 40 trips: static once shapes are known, but past the unroll limit, so a
    while_loop; its body reads x[i] with the run-time trip index (MIL gather)."""

    def forward(self, x):
        y = x[0]
        for i in range(x.size(0)):
            y = y * 0.9 + x[i]
        return y


class RnnIndexedInput(nn.Module):
    """x.size(0) = 40 trips of h = tanh(h @ W + x[i]): a while_loop reading its input row by
    the trip index (tests/e2e/verify_e2e_test.cpp localizes inside its body)."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(5)
        self.w = nn.Parameter(torch.randn(8, 8, generator=g) * 0.3)

    def forward(self, x):
        h = torch.tanh(x[0])
        for i in range(x.size(0)):
            h = torch.tanh(h @ self.w + x[i])
        return h


class LoopIndexUses(nn.Module):
    """A while_loop body indexing with the trip index and arithmetic on it: x[n - 1 - i],
    x.select(0, i), x[i:i + 2] (slice_by_size from a run-time begin) and x.narrow(1, j, 3)."""

    def forward(self, x):
        n = x.size(0)
        acc = torch.zeros_like(x[0])
        win = torch.zeros_like(x[0:2])
        for i in range(n - 1):
            acc = acc + x[n - 1 - i] * 0.5 + x.select(0, i)
            win = win * 0.5 + x[i:i + 2]
        cols = torch.zeros_like(x[:, 0:3])
        for j in range(x.size(1) - 2):
            cols = torch.tanh(cols + x.narrow(1, j, 3))
        return acc, win, cols


class SliceToRunTimeEnd(nn.Module):
    """x[i:] from a run-time index: its length changes every trip (refused by name)."""

    def forward(self, x):
        acc = torch.zeros_like(x)
        for i in range(x.size(0)):
            acc = acc + x[i:].sum(0)
        return acc


class DataBreakBroadcastInit(nn.Module):
    """A data-dependent break whose carried tensor changes shape on the first trip ([1] to
    [2, 3]): the one trip peeled off gives the while_loop its type."""

    def forward(self, x):
        acc = torch.zeros(1)
        for i in range(20):
            acc = acc + torch.relu(x)
            if bool(acc.sum() > 6.0):
                break
        return acc


class RnnStackSteps(nn.Module):
    """x.size(0) = 64 trips of an RNN step, each hidden state appended, then torch.stack: the
    list is carried through the while_loop as one [64, 8] tensor written at the trip index."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(7)
        self.w = nn.Parameter(torch.randn(8, 8, generator=g) * 0.3)

    def forward(self, x):
        h = torch.zeros_like(x[0])
        outs = []
        for i in range(x.size(0)):
            h = torch.tanh(h @ self.w + x[i])
            outs.append(h)
        return torch.stack(outs)


class CatAppendedChunks(nn.Module):
    """39 appended [2, 6] chunks, read by torch.cat along dimension 1 and torch.stack along the
    last dimension."""

    def forward(self, x):
        outs = []
        for i in range(x.size(0) - 1):
            outs.append(torch.relu(x[i:i + 2] - x[i + 1].mean()))
        return torch.cat(outs, 1), torch.stack(outs, -1)


class TwoListsOneLoop(nn.Module):
    """Two lists appended by one loop (its first trip is peeled once for both), one of rank-1
    [1] chunks read by torch.cat."""

    def forward(self, x):
        a = []
        b = []
        h = x[0]
        for i in range(x.size(0)):
            h = torch.sigmoid(h + x[i])
            a.append(h)
            b.append(h.sum(0, keepdim=True) * 2.0)
        return torch.stack(a), torch.cat(b)


class TwoLayerStates(nn.Module):
    """A two-layer recurrence keeping its states in a fixed-length list `hs`, updated by index
    (hs[l] = ..., the inner range(2) unrolled) in a 40-trip while_loop: each element becomes its
    own loop-carried value."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(11)
        self.w = nn.Parameter(torch.randn(2, 6, 6, generator=g) * 0.4)

    def forward(self, x):
        hs = [torch.zeros_like(x[0]), torch.zeros_like(x[0])]
        for t in range(x.size(0)):
            inp = x[t]
            for l in range(2):
                hs[l] = torch.tanh(inp @ self.w[l] + hs[l] * 0.5)
                inp = hs[l]
        return torch.stack(hs), hs[1] * 2.0


class ListRunTimeIndex(nn.Module):
    """hs[t % 2] = ... in a while_loop: the element written is not known at conversion time."""

    def forward(self, x):
        hs = [x[0], x[1]]
        for t in range(x.size(0)):
            hs[t % 2] = hs[t % 2] * 0.5 + x[t]
        return torch.stack(hs)


class AppendWhileTensor(nn.Module):
    """A list appended in a loop whose exit depends on a tensor value: its length is not known
    at conversion time (refused naming the list)."""

    def forward(self, x):
        outs = []
        while bool(x.abs().max() > 1.0):
            x = x * 0.5
            outs.append(x)
        return torch.stack(outs)



class CellChain(nn.Module):
    """A scripted nn.GRUCell fed its own output: LibTorch's shape analysis does not know the
    cell's result rank, so the cell's `input.dim() in (1, 2)` checks and `if not is_batched`
    branches fold only once the converter types the result (then the branch is inlined, not a
    MIL cond of two types)."""

    def __init__(self):
        super().__init__()
        self.cell = nn.GRUCell(8, 8)

    def forward(self, x):
        h = self.cell(x, x)
        return self.cell(h, h)


class LstmCellDecoder(nn.Module):
    """A scripted nn.LSTMCell stepped 100 times (a while_loop) carrying its (h, c) tuple, the
    cell's own `if` yielding a tuple: both split into their tensors."""

    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(16, 16)

    def forward(self, h0, c0):
        state = (h0, c0)
        outs: List[Tensor] = []
        for _ in range(100):
            state = self.cell(state[0], state)
            outs.append(state[0])
        return torch.stack(outs, 1)

def cases():
    return [
        Case("for_static_range", ForStatic(), [Input("x", (2, 3, 5))], script=True),
        Case("loop_size0", LoopSize0(), [Input("x", (5, 3, 4))], script=True),
        Case("loop_last_dim", LoopLastDim(), [Input("x", (2, 3))], script=True),
        Case("training_block_downsample", BasicBlock(True).eval(), [Input("x", (1, 4, 8, 8))],
             script=True),
        Case("training_block_identity", BasicBlock(False).eval(), [Input("x", (1, 4, 6, 6))],
             script=True),
        Case("scripted_basics", Basics(), [Input("x", (2, 5, 6)), Input("y", (5, 6))],
             script=True),
        Case("while_int_counter", WhileCounter(), [Input("x", (5, 3))], script=True),
        Case("for_break", ForBreak(), [Input("x", (2, 3))], script=True),
        Case("guard_after_conv", GuardAfterConv(4), [Input("x", (1, 3, 7, 7))], script=True),
        Case("guard_after_conv_taken", GuardAfterConv(5), [Input("x", (1, 3, 7, 7))],
             script=True, refuse="raises an exception for the given input shapes"),
        Case("guard_on_values", GuardOnValues(), [Input("x", (2, 3))], script=True,
             refuse="whether it raises depends on run-time tensor values"),
        Case("scripted_lstm", ScriptedLstm().eval(), [Input("x", (2, 7, 5))], script=True),
        Case("gru_cell_chain", CellChain().eval(), [Input("x", (2, 8))], script=True),
        Case("lstm_cell_decoder_tuple_state", LstmCellDecoder().eval(),
             [Input("h0", (2, 16), low=-0.5, high=0.5), Input("c0", (2, 16), low=-0.5, high=0.5)],
             script=True),
        Case("scripted_gru_h0", ScriptedGru().eval(), [Input("x", (7, 2, 5)), Input("h0", (2, 2, 8))],
             script=True),
        Case("raise_taken", RaiseTaken(), [Input("x", (2, 3))], script=True,
             refuse="raises an exception for the given input shapes"),
        Case("if_data_dependent_pos", DataIf(), [Input("x", (2, 3), low=0.1, high=1.0)],
             script=True),
        Case("if_data_dependent_neg", DataIf(), [Input("x", (2, 3), low=-1.0, high=-0.1)],
             script=True),
        Case("while_tensor_exit", WhileTensor(), [Input("x", (2, 3), low=-8.0, high=8.0)],
             script=True),
        Case("while_norm_max_count", WhileNorm(), [Input("x", (2, 3))], script=True),
        Case("for_data_break", ForDataBreak(), [Input("x", (2, 3))], script=True),
        Case("static_loop_long", LongLoop(), [Input("x", (40, 3))], script=True),
        Case("rnn_indexed_input", RnnIndexedInput(), [Input("x", (40, 8))], script=True),
        Case("loop_index_uses", LoopIndexUses(), [Input("x", (40, 36))], script=True),
        Case("slice_to_run_time_end", SliceToRunTimeEnd(), [Input("x", (40, 3))], script=True,
             refuse="must have a length known at conversion time"),
        Case("data_break_broadcast_init", DataBreakBroadcastInit(), [Input("x", (2, 3))],
             script=True),
        Case("rnn_100_trips", RnnLong(), [Input("x", (100, 8), low=-0.5, high=0.5)],
             script=True),
        Case("rnn_stack_64_steps", RnnStackSteps(), [Input("x", (64, 8))], script=True),
        Case("cat_appended_chunks", CatAppendedChunks(), [Input("x", (40, 6))], script=True),
        Case("two_lists_one_loop", TwoListsOneLoop(), [Input("x", (50, 4))], script=True),
        Case("list_states_by_index", TwoLayerStates(), [Input("x", (40, 6))], script=True),
        Case("list_run_time_index", ListRunTimeIndex(), [Input("x", (40, 6))], script=True,
             refuse="indexes it by a value not known at conversion time"),
        Case("append_data_dependent_length", AppendWhileTensor(),
             [Input("x", (2, 3), low=-8.0, high=8.0)], script=True,
             refuse="its length depends on run-time tensor values"),
        Case("if_loop_if", IfInLoopInIf(), [Input("x", (2, 3), low=0.0, high=1.0),
                                           Input("y", (2, 3))], script=True),
    ]
