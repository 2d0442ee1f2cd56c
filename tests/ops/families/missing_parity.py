"""Ops coremltools 8.3 registers that had no sweep: _adaptive_avg_pool2d/3d, _reshape_from_tensor,
concat (TorchScript compiles it to cat), native_dropout (eval: the input and an all-true mask;
training with p=0: ones; training with p!=0 refused), new_empty fully written, _weight_norm and
_weight_norm_interface (every dim, -1 the whole tensor), _logcumsumexp (negative dims),
hann_window (periodic and symmetric, folded), item / _local_scalar_dense of constants (folded)
and of run-time values (a rank-0 tensor read by tensor operands: float, int, one element of a
larger rank; refused where a dim or a host-read comparison needs it), sym_size (folded like size; negative dims refused), nonzero
(refused: data-dependent shape), copy_ of run-time values into tensors made at conversion time
(whole tensors; into a slice refused), linalg_inv (torch.inverse compiles to it; batches of well-conditioned
matrices, some needing row swaps; beyond 16x16 refused)."""
import numpy as np
import torch
import torch.nn as nn

from op_cases import Case, Fn, Input

aten = torch.ops.aten


class Concat(nn.Module):
    """torch.concat (scripted: TorchScript records it as aten::cat), negative dim."""

    def forward(self, a, b):
        return torch.concat([a, b], -1) + torch.concat((a, b), dim=2)


class NativeDropout(nn.Module):
    def __init__(self, p, train):
        super().__init__()
        self.p, self.train_ = p, train

    def forward(self, x):
        y, mask = aten.native_dropout(x, self.p, self.train_)
        return y * 2, mask


class Item(nn.Module):
    """Tensor.item() and aten::_local_scalar_dense of constants (float, int, bool), folded."""

    def __init__(self):
        super().__init__()
        self.register_buffer("w", torch.tensor([1.5]))
        self.register_buffer("n", torch.tensor(-3))
        self.register_buffer("b", torch.tensor(True))

    def forward(self, x):
        y = x * self.w.item() + aten._local_scalar_dense(self.n)
        if self.b.item():
            y = y + 1
        return y


class ItemRunTime(nn.Module):
    def forward(self, x):
        return x * x[:1, :1, :1].item()


class ItemRunTimeOperands(nn.Module):
    """Numbers read from run-time tensors by item and _local_scalar_dense, flowing into
    arithmetic and masked_fill; an int one promotes with the float tensor."""

    def forward(self, x, ids):
        s = x.sum().item()
        m = aten._local_scalar_dense(x.mean())
        n = ids.max().item()
        y = (x * s + s - m) / n
        return y.masked_fill(x < 0, s), y - n


class ItemRunTimeCompare(nn.Module):
    """A .Scalar comparison reads its number on the host (to compare ints with floats exactly)."""

    def forward(self, x):
        return x > x.sum().item()


class ItemRunTimeDim(nn.Module):
    def forward(self, x):
        return x.sum(dim=int(x[:1, :1, :1].item()))


class SymSize(nn.Module):
    """Non-negative dims: torch 1.13's sym_size.int reads past the sizes for negative ones."""

    def forward(self, x):
        return x.view(aten.sym_size(x, 0), -1) + aten.sym_size(x, 2)


class SymSizeNegative(nn.Module):
    def forward(self, x):
        return x * aten.sym_size(x, -1)


class CopyInto(nn.Module):
    """copy_ of run-time values into tensors made at conversion time: later readers of y read the
    copy, cast to y's dtype and broadcast to its shape."""

    def forward(self, x):
        y = torch.zeros(2, 3, 4)
        y.copy_(x)
        z = torch.full([3, 3, 4], 2, dtype=torch.int32)
        z.copy_(x[0] * 4)
        return y * 2 + 1, z + 1


class CopyIntoSlice(nn.Module):
    def forward(self, x):
        y = torch.zeros(4, 3, 4)
        y[1:3].copy_(x)
        return y


def _shape_cases(x4):
    return [
        Case("_adaptive_avg_pool2d", Fn(lambda a: aten._adaptive_avg_pool2d(a, [3, 2])), [x4]),
        Case("_adaptive_avg_pool2d_global", Fn(lambda a: aten._adaptive_avg_pool2d(a, [1, 1])),
             [x4]),
        Case("_adaptive_avg_pool3d", Fn(lambda a: aten._adaptive_avg_pool3d(a, [2, 3, 2])),
             [Input("x", (1, 2, 4, 6, 5))]),
        Case("_reshape_from_tensor",
             Fn(lambda a: aten._reshape_from_tensor(a, torch.tensor([5, -1])) * 2), [x4]),
        Case("item_constants", Item(), [Input("x", (2, 3))], script=True),
        Case("item_run_time", ItemRunTime(), [Input("x", (2, 3, 4))], script=True),
        Case("item_run_time_operands", ItemRunTimeOperands(),
             [Input("x", (2, 3, 4)), Input("ids", (5,), "int32", low=1, high=9)], script=True),
        Case("item_run_time_compare", ItemRunTimeCompare(), [Input("x", (2, 3, 4))],
             script=True, refuse="(aten::item of a run-time tensor is a rank-0 tensor, which only"),
        Case("item_run_time_dim", ItemRunTimeDim(), [Input("x", (2, 3, 4))], script=True,
             refuse="is computed at run time; only shapes known at conversion time"),
        Case("sym_size", SymSize(), [Input("x", (2, 3, 4))], script=True),
        Case("sym_size_negative", SymSizeNegative(), [Input("x", (2, 3, 4))], script=True,
             refuse="torch 1.13's sym_size does not wrap it"),
        Case("copy_into_fresh", CopyInto(), [Input("x", (2, 3, 4))], script=True),
        Case("copy_traced", Fn(lambda a: torch.zeros(3, 4).copy_(a) - 1), [Input("x", (4,))]),
        Case("copy_into_slice", CopyIntoSlice(), [Input("x", (2, 3, 4))], script=True,
             refuse="writes in place into"),
        Case("concat_scripted", Concat(), [Input("a", (2, 3, 4)), Input("b", (2, 3, 2))],
             script=True, normalized={"aten::concat": "aten::cat"}),
    ]


def _dropout_cases(x):
    return [
        Case("native_dropout_eval", NativeDropout(0.4, False), [x]),
        Case("native_dropout_train_p0", NativeDropout(0.0, True), [x]),
        Case("native_dropout_train", NativeDropout(0.4, True), [x], refuse="random mask"),
    ]


def _weight_norm_cases():
    v = Input("v", (4, 3, 5))
    return [
        Case("_weight_norm_dim0", Fn(lambda a, g: aten._weight_norm(a, g, 0)),
             [v, Input("g", (4, 1, 1))]),
        Case("_weight_norm_dim1", Fn(lambda a, g: aten._weight_norm(a, g, 1)),
             [v, Input("g", (1, 3, 1))]),
        Case("_weight_norm_last_flat_g", Fn(lambda a, g: aten._weight_norm(a, g, 2)),
             [v, Input("g", (5,))]),
        Case("_weight_norm_whole", Fn(lambda a, g: aten._weight_norm(a, g, -1)),
             [v, Input("g", (1, 1, 1))]),
        Case("_weight_norm_neg2", Fn(lambda a, g: aten._weight_norm(a, g, -2)),
             [v, Input("g", (1, 3, 1))]),
        Case("_weight_norm_interface", Fn(lambda a, g: aten._weight_norm_interface(a, g, 0)),
             [v, Input("g", (4,))]),
        Case("_weight_norm_interface_last",
             Fn(lambda a, g: aten._weight_norm_interface(a, g, 2)), [v, Input("g", (1, 1, 5))]),
        Case("weight_norm_module", nn.utils.weight_norm(nn.Linear(5, 3)), [Input("x", (2, 5))]),
    ]


def _invertible(shape, seed, swap_rows=False):
    """Well-conditioned matrices: a diagonal of n plus uniform noise in [-1, 1) (condition number
    near 1). With swap_rows, each matrix's rows are cyclically shifted, so that its diagonal holds
    small entries and the elimination must pivot."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    a = rng.uniform(-1, 1, shape) + n * np.eye(n)
    if swap_rows:
        a = np.roll(a, 1, axis=-2)
    return a.astype(np.float32)


def _inverse_cases():
    return [
        Case("linalg_inv_batch", Fn(lambda a: torch.linalg.inv(a)),
             [Input("a", (2, 3, 3), values=_invertible((2, 3, 3), 1))]),
        Case("linalg_inv_pivoting", Fn(lambda a: torch.linalg.inv(a) * 2),
             [Input("a", (5, 5), values=_invertible((5, 5), 2, swap_rows=True))]),
        Case("linalg_inv_two_batch_dims", Fn(lambda a: torch.linalg.inv(a)),
             [Input("a", (2, 3, 4, 4), values=_invertible((2, 3, 4, 4), 3, swap_rows=True))]),
        Case("linalg_inv_one", Fn(lambda a: torch.linalg.inv(a)),
             [Input("a", (3, 1, 1), values=_invertible((3, 1, 1), 4))]),
        Case("inverse", Fn(lambda a: torch.inverse(a) + a),
             [Input("a", (2, 2), values=_invertible((2, 2), 5, swap_rows=True))]),
        Case("linalg_inv_too_large", Fn(lambda a: torch.linalg.inv(a)),
             [Input("a", (17, 17), values=_invertible((17, 17), 6))],
             refuse="a 17x17 matrix is not converted: Core ML has no matrix inverse"),
    ]


def cases():
    x = Input("x", (2, 3, 4))
    x4 = Input("x", (1, 2, 6, 5))
    return _shape_cases(x4) + _dropout_cases(x) + _weight_norm_cases() + _inverse_cases() + [
        Case("_logcumsumexp", Fn(lambda a: aten._logcumsumexp(a, -1)), [x]),
        Case("_logcumsumexp_dim0", Fn(lambda a: aten._logcumsumexp(a, 0)), [x]),
        Case("hann_window_periodic", Fn(lambda a: a * torch.hann_window(4)), [x]),
        Case("hann_window_symmetric",
             Fn(lambda a: a * torch.hann_window(4, periodic=False)), [x]),
        Case("hann_window_one", Fn(lambda a: a + torch.hann_window(1)), [x]),
        Case("nonzero", Fn(lambda a: torch.nonzero(a > 0).float()), [x],
             refuse="its output shape depends on the input values"),
        Case("new_empty_filled",
             Fn(lambda a: a.new_empty((3, 4)).fill_(0.5) * a.sum(0)), [x]),
    ]
