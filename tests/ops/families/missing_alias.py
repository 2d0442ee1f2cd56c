"""The functionalization *_copy aliases and other spellings of lowered ops: view_copy,
_unsafe_view, permute_copy, select_copy, slice_copy, squeeze_copy, unsqueeze_copy, expand_copy,
diagonal_copy, alias(_copy), lift_fresh(_copy), split_with_sizes_copy, _softmax, _log_softmax (negative dims included)."""
import torch

from op_cases import Case, Fn, Input

aten = torch.ops.aten


def cases():
    x = Input("x", (2, 3, 4))
    s = Input("x", (2, 1, 4, 1))
    return [
        Case("view_copy", Fn(lambda a: aten.view_copy(a, [4, -1]) * 2), [x]),
        Case("unsafe_view", Fn(lambda a: aten._unsafe_view(a, [6, 4]) + 1), [x]),
        Case("permute_copy", Fn(lambda a: aten.permute_copy(a, [2, 0, 1])), [x]),
        Case("permute_copy_neg", Fn(lambda a: aten.permute_copy(a, [-1, -3, -2])), [x]),
        Case("select_copy", Fn(lambda a: aten.select_copy(a, -2, 1)), [x]),
        Case("select_copy_neg_index", Fn(lambda a: aten.select_copy(a, 0, -1)), [x]),
        Case("slice_copy", Fn(lambda a: aten.slice_copy(a, -1, 1, 4, 2)), [x]),
        Case("slice_copy_default", Fn(lambda a: aten.slice_copy(a) * 3), [x]),
        Case("squeeze_copy", Fn(lambda a: aten.squeeze_copy(a)), [s]),
        Case("squeeze_copy_dim", Fn(lambda a: aten.squeeze_copy(a, -1)), [s]),
        Case("unsqueeze_copy", Fn(lambda a: aten.unsqueeze_copy(a, -1)), [x]),
        Case("expand_copy", Fn(lambda a: aten.expand_copy(a, [5, -1, -1, 4])),
             [Input("x", (2, 1, 4))]),
        Case("diagonal_copy", Fn(lambda a: aten.diagonal_copy(a, 1, -1, 0)),
             [Input("x", (4, 3, 5))]),
        Case("alias", Fn(lambda a: aten.alias(a) + a), [x]),
        Case("alias_copy", Fn(lambda a: aten.alias_copy(a) * a), [x]),
        Case("lift_fresh", Fn(lambda a: aten.lift_fresh(a) - 1), [x]),
        Case("lift_fresh_copy", Fn(lambda a: aten.lift_fresh_copy(a) - 1), [x]),
        Case("split_with_sizes_copy",
             Fn(lambda a: aten.split_with_sizes_copy(a, [1, 3], -1)[1] * 2), [x]),
        Case("_softmax", Fn(lambda a: torch._softmax(a, -1, False)), [x]),
        Case("_log_softmax", Fn(lambda a: torch._log_softmax(a, 1, False)), [x]),
        Case("view_copy_int", Fn(lambda a: aten.view_copy(a, [-1])), [Input("x", (2, 3), "int32")]),
    ]
