"""index_put (x[i] = v, x[:, i] = v, x[mask] = c, accumulate True/False, negative indices,
broadcast values, int tensors); several index tensors and mask-count values refused."""
import numpy as np
import torch

from op_cases import Case, Fn, Input


def _put(x, idx, v, accumulate=False):
    return x.clone().index_put_(idx, v, accumulate=accumulate)


def _rows(x, i, v):
    y = x.clone()
    y[i] = v
    return y


def _cols(x, i, v, accumulate=False):
    return torch.ops.aten.index_put(x, [None, i], v, accumulate)


def _mask(x):
    y = x.clone()
    y[y > 0.5] = -1.0
    return y


def _mask_rows(x, m):
    y = x.clone()
    y[m > 0] = 3.0
    return y


def cases():
    x = Input("x", (5, 3))
    i2 = Input("i", (2,), "int64", values=np.array([4, 1]))
    neg = Input("i", (3,), "int64", values=np.array([-1, 0, 2]))
    dup = Input("i", (4,), "int64", values=np.array([1, 3, 1, 1]))
    return [
        Case("rows", Fn(_rows), [x, i2, Input("v", (2, 3))]),
        Case("rows_negative_broadcast", Fn(_rows), [x, neg, Input("v", (3,))]),
        Case("cols", Fn(_cols), [Input("x", (2, 6, 4)), neg, Input("v", (2, 3, 4))]),
        Case("cols_accumulate", Fn(lambda a, i, v: _cols(a, i, v, True)),
             [Input("x", (3, 5)), dup, Input("v", (3, 1))]),
        Case("accumulate_duplicates", Fn(lambda a, i, v: _put(a, (i,), v, True)),
             [x, dup, Input("v", (4, 3))]),
        Case("accumulate_broadcast", Fn(lambda a, i, v: _put(a, (i,), v, True)),
             [Input("x", (5, 2, 3)), neg, Input("v", (1, 3))]),
        Case("rows_int", Fn(_rows), [Input("x", (5, 3), "int32"), i2, Input("v", (2, 3), "int32")]),
        Case("mask_scalar", Fn(_mask), [Input("x", (2, 3, 4))]),
        Case("mask_leading", Fn(_mask_rows), [Input("x", (4, 3)), Input("m", (4,))]),
        Case("mask_accumulate", Fn(lambda a: _put(a, (a > 0,), torch.tensor(2.0), True)),
             [Input("x", (3, 4))]),
        Case("two_indices", Fn(lambda a, i: _put(a, (i, i), torch.tensor(1.0))),
             [Input("x", (5, 5)), i2], refuse="only one (the others None)"),
        Case("mask_values", Fn(lambda a, v: _put(a, (a > -100,), v)),
             [Input("x", (4,)), Input("v", (4,))], refuse="count known only at run time"),
    ]
