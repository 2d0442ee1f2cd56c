"""Layout ops: aten::permute and transpose (negative dims, identity, int inputs), expand (-1, new
leading dims, int and bool), narrow (negative dim and start), repeat (more repeats than dims), roll
(several dims, no dim, negative and oversized shifts), split (even, uneven, negative dim),
split_with_sizes, unbind, constant_pad_nd (negative pads crop, fill values, int and bool), clone,
contiguous and atleast_1d (0-d, n-d) and atleast_nd of tensor lists."""
import torch
import torch.nn.functional as F

from op_cases import Case, Fn, Input


class Atleast1dList(torch.nn.Module):
    """atleast_1d of a tensor list (the aten::atleast_1d.Sequence overload), a 0-d element too."""

    def forward(self, a, b):
        ys = torch.atleast_1d([a, b, a.sum()])
        return ys[0] * 2.0, ys[1] + 1.0, ys[2]


class Atleast3dListInt(torch.nn.Module):
    def forward(self, a, b):
        ys = torch.atleast_3d([a, b])
        return ys[0] + 1, ys[1] * 2


class Atleast2dListMixed(torch.nn.Module):
    def forward(self, a, b):
        ys = torch.atleast_2d([a, b])
        return ys[0], ys[1]


def _permute_cases(x4, i4):
    return [
        Case("permute_full", Fn(lambda x: x.permute(3, 1, 0, 2)), [x4]),
        Case("permute_negative", Fn(lambda x: x.permute(-1, -3, -2, -4)), [x4]),
        Case("permute_identity", Fn(lambda x: x.permute(0, 1, 2, 3) + 1), [x4]),
        Case("permute_int", Fn(lambda x: torch.permute(x, (2, 0, 3, 1))), [i4]),
        Case("permute_2d", Fn(lambda x: x.permute(1, 0)), [Input("x", (3, 7))]),
        Case("transpose_mid", Fn(lambda x: x.transpose(1, 2)), [x4]),
        Case("transpose_negative", Fn(lambda x: torch.transpose(x, -1, -4)), [x4]),
        Case("transpose_same_dim", Fn(lambda x: x.transpose(2, -2) * 3), [x4]),
        Case("transpose_int", Fn(lambda x: x.transpose(0, -1)), [i4]),
        Case("transpose_bool", Fn(lambda m: m.transpose(0, 1).int()), [Input("m", (3, 4), "bool")]),
    ]


def _expand_cases():
    return [
        Case("expand_size1", Fn(lambda x: x.expand(3, 4, 5)), [Input("x", (3, 1, 5))]),
        Case("expand_minus1", Fn(lambda x: x.expand(-1, 6, -1)), [Input("x", (2, 1, 5))]),
        Case("expand_new_dims", Fn(lambda x: x.expand(2, 3, 4, 5)), [Input("x", (4, 1))]),
        Case("expand_new_dims_minus1", Fn(lambda x: x.expand(3, -1, 5)), [Input("x", (4, 1))]),
        Case("expand_int", Fn(lambda x: x.expand(2, 3, 4)), [Input("x", (1, 4), "int32")]),
        Case("expand_bool", Fn(lambda m: m.expand(3, 4).int()), [Input("m", (1, 4), "bool")]),
        Case("expand_0d", Fn(lambda x: x.sum().expand(2, 3)), [Input("x", (4,))]),
    ]


def _narrow_cases(x4):
    return [
        Case("narrow_dim0", Fn(lambda x: x.narrow(0, 1, 1)), [x4]),
        Case("narrow_negative_dim", Fn(lambda x: torch.narrow(x, -1, 2, 3)), [x4]),
        Case("narrow_negative_start", Fn(lambda x: x.narrow(1, -2, 2)), [x4]),
        Case("narrow_full", Fn(lambda x: x.narrow(2, 0, 4) * 2), [x4]),
        Case("narrow_int", Fn(lambda x: x.narrow(-2, 1, 2)), [Input("x", (2, 4, 5), "int32")]),
    ]


def _repeat_roll_cases(x4, i4):
    x3 = Input("x", (2, 3, 4))
    return [
        Case("repeat_same_rank", Fn(lambda x: x.repeat(2, 1, 3)), [x3]),
        Case("repeat_more_dims", Fn(lambda x: x.repeat(2, 1, 2, 1)), [x3]),
        Case("repeat_ones", Fn(lambda x: x.repeat(1, 1, 1) + 1), [x3]),
        Case("repeat_1d", Fn(lambda x: x.repeat(3)), [Input("x", (5,))]),
        Case("repeat_int", Fn(lambda x: x.repeat(1, 2, 2)), [Input("x", (3, 4), "int32")]),
        Case("roll_one_dim", Fn(lambda x: torch.roll(x, 2, 1)), [x4]),
        Case("roll_negative_shift_dim", Fn(lambda x: torch.roll(x, -3, -1)), [x4]),
        Case("roll_several_dims", Fn(lambda x: torch.roll(x, (1, -2, 5), (0, 2, -1))), [x4]),
        Case("roll_flattened", Fn(lambda x: torch.roll(x, 7)), [x4]),
        Case("roll_flattened_negative", Fn(lambda x: torch.roll(x, -40)), [Input("x", (3, 5))]),
        Case("roll_oversized", Fn(lambda x: torch.roll(x, 11, 2)), [x4]),
        Case("roll_zero", Fn(lambda x: torch.roll(x, 0, 0) + 1), [x4]),
        Case("roll_int", Fn(lambda x: torch.roll(x, (1, 1), (1, 3))), [i4]),
    ]


def _split_cases(x4):
    def both(parts):
        return parts[0].sum(-1, keepdim=True) + parts[-1].mean(-1, keepdim=True)
    return [
        Case("split_even", Fn(lambda x: torch.split(x, 2, 1)), [x4]),
        Case("split_uneven_last", Fn(lambda x: x.split(2, -1)), [x4]),
        Case("split_bigger_than_dim", Fn(lambda x: x.split(9, 2)[0] * 2), [x4]),
        Case("split_combined", Fn(lambda x: both(x.split(2, -1))), [x4]),
        Case("split_with_sizes", Fn(lambda x: x.split([1, 3, 1], -1)), [x4]),
        Case("split_with_sizes_dim0", Fn(lambda x: torch.split(x, [1, 1], 0)), [x4]),
        Case("split_with_sizes_zero", Fn(lambda x: x.split([0, 4, 1], 3)[1]), [x4],
             refuse="split sizes [0, 4, 1] must be positive"),
        Case("split_int", Fn(lambda x: x.split([2, 1], 1)), [Input("x", (2, 3, 4), "int32")]),
        Case("unbind_dim0", Fn(lambda x: x.unbind(0)), [x4]),
        Case("unbind_negative", Fn(lambda x: torch.unbind(x, -1)), [Input("x", (2, 3, 3))]),
        Case("unbind_one_used", Fn(lambda x: x.unbind(1)[2] + 1), [x4]),
        Case("unbind_int", Fn(lambda x: x.unbind(1)), [Input("x", (2, 3), "int32")]),
    ]


def _pad_cases(x4):
    cpn = torch.constant_pad_nd
    return [
        Case("pad_last", Fn(lambda x: cpn(x, [1, 2])), [x4]),
        Case("pad_value", Fn(lambda x: cpn(x, [2, 0, 1, 3], -1.5)), [x4]),
        Case("pad_all_dims", Fn(lambda x: cpn(x, [1, 1, 0, 2, 1, 0, 2, 1], 0.25)), [x4]),
        Case("pad_negative_crop", Fn(lambda x: cpn(x, [-1, 2, 1, -2])), [x4]),
        Case("pad_only_crop", Fn(lambda x: cpn(x, [-1, -1, -2, 0])), [x4]),
        Case("pad_int", Fn(lambda x: cpn(x, [1, 1, 2, 0], 7)), [Input("x", (2, 3, 4), "int32")]),
        Case("pad_int64_crop_all_dims", Fn(lambda x: cpn(x, [-1, 2, 0, 1, 1, 0], -3)),
             [Input("x", (2, 3, 4), "int64")]),
        Case("pad_bool", Fn(lambda m: cpn(m, [2, 1], 1).int()), [Input("m", (3, 4), "bool")]),
        Case("pad_1d", Fn(lambda x: cpn(x, [3, 1], 2.0)), [Input("x", (5,))]),
        Case("pad_functional", Fn(lambda x: F.pad(x, (1, 1, 1, 1), value=3.0)), [x4]),
    ]


def _copy_cases(x4):
    return [
        Case("clone", Fn(lambda x: x.clone() * 2), [x4]),
        Case("clone_memory_format",
             Fn(lambda x: x.clone(memory_format=torch.channels_last) + 1), [x4]),
        Case("clone_int", Fn(lambda x: torch.clone(x) + 1), [Input("x", (2, 3), "int32")]),
        Case("contiguous_after_transpose", Fn(lambda x: x.transpose(1, 3).contiguous()), [x4]),
        Case("contiguous_channels_last",
             Fn(lambda x: x.contiguous(memory_format=torch.channels_last) * 2), [x4]),
        Case("atleast_1d_0d", Fn(lambda x: torch.atleast_1d(x.sum()) * 2), [x4]),
        Case("atleast_1d_nd", Fn(lambda x: torch.atleast_1d(x) + 1), [x4]),
        Case("atleast_1d_list", Atleast1dList(), [Input("a", (3,)), Input("b", (2, 2))],
             script=True),
        Case("atleast_3d_list_int", Atleast3dListInt(),
             [Input("a", (3,), "int32"), Input("b", (2, 2), "int32")], script=True),
        Case("atleast_2d_list_mixed", Atleast2dListMixed(),
             [Input("a", (3,)), Input("b", (2,), "int32")], script=True,
             refuse="a list mixing float and non-float tensors is not supported"),
    ]


def cases():
    x4 = Input("x", (2, 3, 4, 5))
    i4 = Input("x", (2, 3, 4, 5), "int32")
    return (_permute_cases(x4, i4) + _expand_cases() + _narrow_cases(x4) +
            _repeat_roll_cases(x4, i4) + _split_cases(x4) + _pad_cases(x4) + _copy_cases(x4))
