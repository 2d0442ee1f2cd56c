"""native_layer_norm called directly: all three outputs (values, mean, rstd), one or several
normalized dims, with and without weight and bias; native_group_norm likewise (one or several
groups, 3-d to 5-d inputs); native_batch_norm_backward (scripted: the tracer cannot record its
bool[] output_mask) in eval and train mode, with outputs masked off."""
import torch

from op_cases import Case, Fn, Input


class Affine(torch.nn.Module):
    def __init__(self, shape):
        super().__init__()
        g = torch.Generator().manual_seed(5)
        self.w = torch.nn.Parameter(torch.randn(shape, generator=g))
        self.b = torch.nn.Parameter(torch.randn(shape, generator=g))
        self.shape = list(shape)

    def forward(self, x):
        y, mean, rstd = torch.native_layer_norm(x, self.shape, self.w, self.b, 1e-5)
        return y, mean, rstd


class Group(torch.nn.Module):
    def __init__(self, c, groups, affine):
        super().__init__()
        g = torch.Generator().manual_seed(7)
        self.w = torch.nn.Parameter(torch.randn(c, generator=g)) if affine else None
        self.b = torch.nn.Parameter(torch.randn(c, generator=g)) if affine else None
        self.groups = groups

    def forward(self, x):
        n, c = x.shape[0], x.shape[1]
        hxw = x[0, 0].numel()
        return torch.native_group_norm(x, self.w, self.b, n, c, hxw, self.groups, 1e-5)


class BatchNormBackward(torch.nn.Module):
    """native_batch_norm_backward with running (train=False) or saved (train=True) statistics,
    returning every output."""

    def __init__(self, c, train, mask, affine=True):
        super().__init__()
        g = torch.Generator().manual_seed(11)
        self.w = torch.nn.Parameter(torch.randn(c, generator=g)) if affine else None
        self.register_buffer("mean", torch.randn(c, generator=g))
        self.register_buffer("spread", torch.rand(c, generator=g) + 0.5)
        self.train_mode = train
        self.mask = mask

    def grads(self, grad, x):
        if self.train_mode:
            return torch.ops.aten.native_batch_norm_backward(
                grad, x, self.w, None, None, self.mean, self.spread, True, 1e-5, self.mask)
        return torch.ops.aten.native_batch_norm_backward(
            grad, x, self.w, self.mean, self.spread, None, None, False, 1e-5, self.mask)

    def forward(self, grad, x):
        return self.grads(grad, x)


class BatchNormBackwardNoWeightGrad(BatchNormBackward):
    """output_mask [True, False, True]: grad_weight is undefined, so it is not returned."""

    def forward(self, grad, x):
        grad_input, _, grad_bias = self.grads(grad, x)
        return grad_input, grad_bias


class BatchNormBackwardInputGrad(BatchNormBackward):
    """output_mask [True, False, False]: only grad_input is defined."""

    def forward(self, grad, x):
        return self.grads(grad, x)[0]


def cases():
    x = Input("x", (2, 5, 8))
    return [
        Case("native_layer_norm_affine", Affine((8,)), [x]),
        Case("native_layer_norm_two_dims", Affine((5, 8)), [x]),
        Case("native_layer_norm_plain",
             Fn(lambda a: torch.native_layer_norm(a, [8], None, None, 1e-3)[0]), [x]),
        Case("native_layer_norm_stats",
             Fn(lambda a: torch.native_layer_norm(a, [6], None, None, 1e-5)[2] * 0.1),
             [Input("x", (3, 6))]),
        Case("native_group_norm_affine", Group(6, 3, True), [Input("x", (2, 6, 4, 5))]),
        Case("native_group_norm_plain_1d", Group(4, 2, False), [Input("x", (3, 4, 7))]),
        Case("native_group_norm_one_group", Group(6, 1, True), [Input("x", (1, 6, 3, 2, 2))]),
        Case("native_batch_norm_backward_eval", BatchNormBackward(4, False, [True, True, True]),
             [Input("grad", (2, 4, 3)), Input("x", (2, 4, 3))], script=True),
        Case("native_batch_norm_backward_eval_masked",
             BatchNormBackwardNoWeightGrad(3, False, [True, False, True], affine=False),
             [Input("grad", (2, 3, 4, 5)), Input("x", (2, 3, 4, 5))], script=True),
        Case("native_batch_norm_backward_train", BatchNormBackward(4, True, [True, True, True]),
             [Input("grad", (3, 4, 5)), Input("x", (3, 4, 5))], script=True),
        Case("native_batch_norm_backward_train_input_only",
             BatchNormBackwardInputGrad(4, True, [True, False, False]),
             [Input("grad", (2, 4)), Input("x", (2, 4))], script=True),
    ]
