"""native_layer_norm called directly: all three outputs (values, mean, rstd), one or several
normalized dims, with and without weight and bias."""
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
    ]
