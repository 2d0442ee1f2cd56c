"""Creation ops whose sizes come from run-time tensors' shapes (the core folds them to constants)
and whose fill values may come from data: zeros/ones/full/empty(_like), new_*, arange from a
size, linspace. A fill value read from a tensor (aten::ScalarImplicit of a run-time value) is
refused by the core, and random creation by name."""
import torch
import torch.nn.functional as F

from op_cases import Case, Fn, Input


def cases():
    x = Input("x", (2, 3, 5))
    x4 = Input("x", (1, 3, 4, 6))
    return [
        Case("zeros_ones_like", Fn(lambda x: torch.zeros_like(x) + torch.ones_like(x) * x), [x]),
        Case("full_like", Fn(lambda x: torch.full_like(x, 2.5) - x), [x4]),
        Case("empty_like_fill", Fn(lambda x: torch.empty_like(x).fill_(-1.5) * x), [x]),
        Case("new_zeros_ones_full",
             Fn(lambda x: x.new_zeros(x.shape) + x.new_ones((x.size(-1),)) +
                x.new_full((x.size(1), 1), 0.5) + x), [x]),
        Case("full_from_shape", Fn(lambda x: torch.full(x.shape, 2.0) + x), [x4]),
        Case("zeros_ones_from_size",
             Fn(lambda x: torch.zeros(x.size(0), x.size(2)).unsqueeze(1) + torch.ones(x.size(2)) +
                x), [x]),
        Case("arange_from_size", Fn(lambda x: torch.arange(x.size(2)).float() + x), [x]),
        Case("arange_start_step",
             Fn(lambda x: torch.arange(1, x.size(-1) * 2, 2, dtype=torch.float32) * x), [x4]),
        Case("arange_float_step", Fn(lambda x: torch.arange(0.5, x.size(2) / 2.0, 0.25)[:5] + x),
             [x]),
        Case("linspace_from_size", Fn(lambda x: torch.linspace(-1, 1, x.size(-1)) * x), [x4]),
        # A fill value read from a tensor reaches the creation op as aten::ScalarImplicit of a
        # run-time value, which the core's constant evaluator refuses (scalars are host values).
        Case("full_like_data_fill", Fn(lambda x, v: torch.full_like(x, v.sum()) * x),
             [x, Input("v", (4,))], refuse="computed at run time"),
        Case("new_full_data_fill",
             Fn(lambda x, v: x.new_full((x.size(0), 1, x.size(2)), v.max()) + x),
             [x, Input("v", (4,))], refuse="computed at run time"),
        Case("full_data_fill", Fn(lambda x, v: torch.full((4, 1), v.mean()) - v),
             [x, Input("v", (1, 3))], refuse="computed at run time"),
        Case("fill_inplace_from_tensor", Fn(lambda x, v: torch.zeros_like(x).fill_(v.sum())),
             [x, Input("v", (3,))], refuse="computed at run time"),
        Case("rand_like", Fn(lambda x: torch.rand_like(x) + x), [x], refuse="rand_like"),
        Case("randn_like", Fn(lambda x: torch.randn_like(x) + x), [x], refuse="randn_like"),
    ]
