"""Data movement and index ops: flip, stacking, pixel (un)shuffle, index_select, gather,
take_along_dim, repeat_interleave, meshgrid, tril/triu, one_hot. Index tensors are made inside the
graph (constant buffers); cases needing int model inputs, or argmax/argsort (lowered on other
branches), are in indexing_int.py.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from op_cases import Case, Fn, Input


class _ConstIndex(nn.Module):
    """fn(x, idx) with a constant int64 index tensor held by the module."""

    def __init__(self, fn, index):
        super().__init__()
        self.fn = fn
        self.register_buffer("idx", torch.tensor(index, dtype=torch.int64))

    def forward(self, x):
        return self.fn(x, self.idx)


def cases():
    x = Input("x", (2, 3, 4))
    out = [
        Case("flip_neg", Fn(lambda a: torch.flip(a, [-1, 0])), [x]),
        Case("flip_all", Fn(lambda a: a.flip(0, 1, 2)), [x]),
        Case("fliplr", Fn(lambda a: torch.fliplr(a)), [x]),
        Case("flipud", Fn(lambda a: torch.flipud(a)), [x]),
        Case("stack_0", Fn(lambda a, b: torch.stack([a, b])), [x, Input("y", (2, 3, 4))]),
        Case("stack_neg", Fn(lambda a, b: torch.stack([a, b, a], dim=-1)),
             [x, Input("y", (2, 3, 4))]),
        Case("stack_one", Fn(lambda a: torch.stack([a], dim=1)), [x]),
        Case("hstack_1d", Fn(lambda a, b: torch.hstack([a, b])), [Input("a", (3,)),
                                                                   Input("b", (5,))]),
        Case("hstack_2d", Fn(lambda a, b: torch.hstack([a, b])), [Input("a", (3, 2)),
                                                                   Input("b", (3, 4))]),
        Case("vstack", Fn(lambda a, b: torch.vstack([a, b])), [Input("a", (4,)),
                                                                Input("b", (2, 4))]),
        Case("dstack", Fn(lambda a, b: torch.dstack([a, b])), [Input("a", (2, 3)),
                                                                Input("b", (2, 3, 2))]),
        Case("column_stack", Fn(lambda a, b: torch.column_stack([a, b])),
             [Input("a", (3,)), Input("b", (3, 2))]),
        Case("pixel_shuffle", nn.PixelShuffle(2), [Input("x", (1, 8, 3, 4))]),
        Case("pixel_shuffle_5d", nn.PixelShuffle(3), [Input("x", (2, 2, 9, 2, 3))]),
        Case("pixel_unshuffle", nn.PixelUnshuffle(2), [Input("x", (2, 3, 4, 6))]),
        Case("index_select_const", _ConstIndex(lambda a, i: a.index_select(-1, i), [3, 0, 0, 2]),
             [x]),
        Case("gather_smaller", _ConstIndex(lambda a, i: torch.gather(a, 2, i),
                                           [[[0, 3], [1, 1]], [[2, 2], [3, 0]]]), [x]),
        Case("one_hot_const", _ConstIndex(lambda a, i: a * F.one_hot(i, 5), [[0, 4], [2, 2]]),
             [Input("x", (2, 2, 5))]),
        Case("take_along_dim_bcast", _ConstIndex(lambda a, i: torch.take_along_dim(a, i, 1),
                                                 [[[0], [2]]]), [x]),
        Case("take_along_dim_flat", _ConstIndex(lambda a, i: torch.take_along_dim(a, i),
                                                [5, 0, 23]), [x]),
        Case("repeat_interleave_dim", Fn(lambda a: a.repeat_interleave(3, dim=-2)), [x]),
        Case("repeat_interleave_flat", Fn(lambda a: torch.repeat_interleave(a, 2)), [x]),
        Case("meshgrid_ij", Fn(lambda a, b: torch.meshgrid(a, b, indexing="ij")),
             [Input("a", (3,)), Input("b", (4,))]),
        Case("meshgrid_xy", Fn(lambda a, b, c: torch.meshgrid(a, b, c, indexing="xy")),
             [Input("a", (3,)), Input("b", (4,)), Input("c", (2,))]),
        Case("tril", Fn(lambda a: torch.tril(a)), [x]),
        Case("tril_neg", Fn(lambda a: torch.tril(a, -1)), [x]),
        Case("triu_pos", Fn(lambda a: torch.triu(a, 2)), [Input("x", (4, 6))]),
        Case("triu_neg_batched", Fn(lambda a: torch.triu(a, -1)), [Input("x", (2, 5, 3))]),
    ]
    y = Input("y", (2, 4))
    si = [[0, 2, 2, 1], [1, 1, 0, 0]]  # duplicates: the last write wins, sums add up
    out += [
        Case("scatter_src", _ConstIndex(lambda a, i: torch.zeros(3, 4).scatter(0, i, a), si), [y]),
        Case("scatter_value", _ConstIndex(lambda a, i: a.scatter(1, i[:, :2], -2.0), si),
             [Input("x", (2, 5))]),
        Case("scatter_add", _ConstIndex(lambda a, i: torch.ones(3, 4).scatter_add(-2, i, a), si),
             [y]),
        Case("scatter_multiply", _ConstIndex(
            lambda a, i: torch.full((3, 4), 2.0).scatter(0, i, a, reduce="multiply"), si), [y]),
        Case("scatter_reduce_amax", _ConstIndex(
            lambda a, i: torch.zeros(3, 4).scatter_reduce(0, i, a, "amax"), si), [y]),
        Case("scatter_reduce_amin_excl", _ConstIndex(
            lambda a, i: torch.zeros(3, 4).scatter_reduce(0, i, a, "amin", include_self=False),
            si), [y]),
        Case("scatter_reduce_mean", _ConstIndex(
            lambda a, i: torch.ones(3, 4).scatter_reduce(0, i, a, "mean"), si), [y]),
        Case("scatter_reduce_mean_excl", _ConstIndex(
            lambda a, i: torch.ones(3, 4).scatter_reduce(0, i, a, "mean", include_self=False),
            si), [y]),
        Case("scatter_reduce_prod", _ConstIndex(
            lambda a, i: torch.ones(3, 4).scatter_reduce(0, i, a, "prod"), si), [y]),
        Case("index_add", _ConstIndex(lambda a, i: torch.ones(5, 3).index_add(0, i, a, alpha=2),
                                      [4, 0, 4]), [Input("y", (3, 3))]),
        Case("index_copy", _ConstIndex(lambda a, i: torch.zeros(3, 5).index_copy(1, i, a),
                                       [3, 0]), [Input("y", (3, 2))]),
        Case("index_fill", _ConstIndex(lambda a, i: a.index_fill(-1, i, 7.0), [1, 3]),
             [Input("x", (2, 5))]),
    ]
    # Advanced indexing: index tensors, None entries (x[:, idx]), adjacent or apart.
    out += [
        Case("index_tensor_none_first", _ConstIndex(lambda a, i: a[:, i], [[2, 0], [1, -1]]),
             [x]),
        Case("index_tensor_ellipsis", _ConstIndex(lambda a, i: a[..., i], [3, 0, 3]), [x]),
        Case("index_tensor_apart", _ConstIndex(lambda a, i: a[i[:2] % 2, :, i[1:]], [1, 0, 3]),
             [x]),
        Case("index_tensor_middle_pair", _ConstIndex(lambda a, i: a[:, i[:2], i[1:]], [1, 2, 3]),
             [Input("x", (2, 3, 4, 5))]),
        Case("index_tensor_one", _ConstIndex(lambda a, i: a[i], [[1, -1], [0, 1]]), [x]),
        Case("index_tensor_two", _ConstIndex(lambda a, i: a[i, i.flip(0)], [1, 0, 1]), [x]),
        Case("index_tensor_bias_table", _ConstIndex(lambda a, i: a[i.view(-1)].view(3, 3, -1),
                                                    [[0, 1, 2], [3, 4, 0], [1, 1, 2]]),
             [Input("x", (5, 2))]),
        Case("index_tensor_mask", Fn(lambda a: a[a > 0]), [x],
             refuse="boolean mask"),
    ]
    # The matmul plugin's vector products and add* variants (no family file of their own).
    m, v, w = Input("m", (3, 4)), Input("v", (4,)), Input("w", (3,))
    out += [
        Case("mv", Fn(lambda a, b: torch.mv(a, b)), [m, v]),
        Case("dot", Fn(lambda a, b: torch.dot(a, b)), [v, Input("u", (4,))]),
        Case("outer", Fn(lambda a, b: torch.outer(a, b)), [w, v]),
        Case("addmv", Fn(lambda s, a, b: torch.addmv(s, a, b, beta=0.5, alpha=2)), [w, m, v]),
        Case("addr", Fn(lambda s, a, b: torch.addr(s, a, b, alpha=-1)),
             [Input("s", (1, 4)), w, v]),
        Case("addbmm", Fn(lambda s, a, b: torch.addbmm(s, a, b, beta=2)),
             [Input("s", (3, 2)), Input("a", (5, 3, 4)), Input("b", (5, 4, 2))]),
        Case("addbmm_beta0", Fn(lambda s, a, b: torch.addbmm(s / 0.0, a, b, beta=0)),
             [Input("s", (3, 2)), Input("a", (5, 3, 4)), Input("b", (5, 4, 2))]),
    ]
    return out
