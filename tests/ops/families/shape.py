"""Layout ops: t, movedim, unflatten, atleast_nd, view_as/reshape_as, channel_shuffle, tile,
broadcast_to, narrow_copy, rot90, Tensor.unfold, diagonal, diag, diag_embed, take,
tensor_split/hsplit/vsplit/dsplit, slice_scatter, select_scatter."""
import torch
import torch.nn as nn

from op_cases import Case, Fn, Input


class _Const(nn.Module):
    """fn(x, c) with a constant tensor `c` held by the module."""

    def __init__(self, fn, value, dtype=torch.int64):
        super().__init__()
        self.fn = fn
        self.register_buffer("c", torch.tensor(value, dtype=dtype))

    def forward(self, x):
        return self.fn(x, self.c)


def cases():
    x = Input("x", (2, 3, 4))
    m = Input("m", (4, 5))
    return [
        Case("t", Fn(lambda a: a.t()), [m]),
        Case("t_1d", Fn(lambda a: a.t() * 2), [Input("v", (5,))]),
        Case("movedim", Fn(lambda a: torch.movedim(a, 0, -1)), [x]),
        Case("movedim_list", Fn(lambda a: torch.movedim(a, (0, -1), (2, 0))), [x]),
        Case("moveaxis", Fn(lambda a: torch.moveaxis(a, 1, 0)), [x]),
        Case("unflatten", Fn(lambda a: a.unflatten(-1, (2, -1))), [x]),
        Case("atleast_2d", Fn(lambda a: torch.atleast_2d(a)), [Input("v", (5,))]),
        Case("atleast_3d", Fn(lambda a: torch.atleast_3d(a)), [m]),
        Case("view_as", Fn(lambda a, b: a.view_as(b) + b), [x, Input("y", (6, 4))]),
        Case("reshape_as", Fn(lambda a, b: a.reshape_as(b) * b), [x, Input("y", (4, 6))]),
        Case("channel_shuffle", nn.ChannelShuffle(3), [Input("x", (2, 6, 3, 2))]),
        Case("tile_short", Fn(lambda a: torch.tile(a, (2, 1))), [x]),
        Case("tile_long", Fn(lambda a: torch.tile(a, (2, 1, 1, 3))), [x]),
        Case("broadcast_to", Fn(lambda a: torch.broadcast_to(a, (3, 2, 3, 4))), [x]),
        Case("narrow_copy", Fn(lambda a: a.narrow_copy(-1, 1, 2)), [x]),
        Case("rot90_1", Fn(lambda a: torch.rot90(a, 1, (1, 2))), [x]),
        Case("rot90_2", Fn(lambda a: torch.rot90(a, 2, (0, -1))), [x]),
        Case("rot90_neg", Fn(lambda a: torch.rot90(a, -1, (2, 0))), [x]),
        Case("unfold_windows", Fn(lambda a: a.unfold(1, 3, 2)), [Input("x", (2, 8, 3))]),
        Case("unfold_last", Fn(lambda a: a.unfold(-1, 2, 1)), [x]),
        Case("diagonal", Fn(lambda a: torch.diagonal(a, 1, 0, 2)), [x]),
        Case("diagonal_neg", Fn(lambda a: a.diagonal(-1)), [m]),
        Case("diag_vec", Fn(lambda a: torch.diag(a, -2)), [Input("v", (3,))]),
        Case("diag_mat", Fn(lambda a: torch.diag(a, 1)), [m]),
        Case("diag_embed", Fn(lambda a: torch.diag_embed(a, 1)), [x]),
        Case("diag_embed_dims", Fn(lambda a: torch.diag_embed(a, 0, 0, 2)), [x]),
        Case("take", _Const(lambda a, i: torch.take(a, i), [[0, -1], [23, 5]]), [x]),
        Case("tensor_split", Fn(lambda a: torch.tensor_split(a, 3, dim=-1)[2] * 2), [x]),
        Case("tensor_split_all", Fn(lambda a: torch.cat(torch.tensor_split(a, [1, 3], 2), 2)),
             [x]),
        Case("hsplit", Fn(lambda a: torch.hsplit(a, [1])[1]), [x]),
        Case("vsplit", Fn(lambda a: torch.vsplit(a, 2)[1]), [m]),
        Case("dsplit", Fn(lambda a: torch.dsplit(a, 2)[0]), [x]),
        Case("slice_scatter", Fn(lambda a, b: torch.slice_scatter(a, b, 2, 1, None, 2)),
             [x, Input("y", (2, 3, 2))]),
        Case("slice_scatter_dim0", Fn(lambda a, b: torch.slice_scatter(a, b, 0, 0, 1, 1)),
             [x, Input("y", (1, 3, 4))]),
        Case("select_scatter", Fn(lambda a, b: torch.select_scatter(a, b, 1, -1)),
             [x, Input("y", (2, 4))]),
        # RAFT's correlation scale: the square root of a size, a 0-d int64 tensor, is a float.
        Case("div_by_sqrt_of_size", Fn(lambda a: a / torch.sqrt(torch.tensor(a.shape[1]))), [x]),
    ]
