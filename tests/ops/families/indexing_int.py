"""Index ops fed by int model inputs (typed --input NAME:SHAPE:DTYPE): these pass once typed model
inputs are merged, and index tensors made by argmax/argsort (lowered on other branches)."""
import torch
import torch.nn.functional as F

from op_cases import Case, Fn, Input


def cases():
    x = Input("x", (3, 5, 4))
    d = Input("x", (3, 5, 4), distinct=True)
    return [
        Case("index_select_argmax",
             Fn(lambda a: a.index_select(1, a[0, :, 0].argmax().reshape(1))), [d]),
        Case("gather_argmax", Fn(lambda a: a.gather(1, a.argmax(1, keepdim=True))), [d]),
        Case("take_along_dim_argsort", Fn(lambda a: torch.take_along_dim(a, a.argsort(-1), -1)),
             [d]),
        Case("one_hot_argmax", Fn(lambda a: F.one_hot(a.argmax(-1), 6)), [d]),
        Case("one_hot_dynamic", Fn(lambda a: F.one_hot(a.argmax(-1))), [d],
             refuse="num_classes=-1"),
        Case("index_select_int", Fn(lambda a, i: a.index_select(1, i)),
             [x, Input("i", (6,), "int64", low=0, high=5)]),
        Case("gather_int", Fn(lambda a, i: a.gather(2, i)),
             [x, Input("i", (3, 5, 7), "int64", low=0, high=4)]),
        Case("take_along_dim_int", Fn(lambda a, i: torch.take_along_dim(a, i, 0)),
             [x, Input("i", (2, 5, 4), "int64", low=0, high=3)]),
        Case("one_hot_int", Fn(lambda i: F.one_hot(i, 7)),
             [Input("i", (2, 5), "int64", low=0, high=7)]),
        Case("flip_int", Fn(lambda i: i.flip(-1)), [Input("i", (2, 5), "int32")]),
        Case("tril_int", Fn(lambda i: i.tril()), [Input("i", (4, 5), "int32")]),
    ]
