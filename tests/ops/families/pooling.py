"""Adaptive pooling: max in 1/2/3-d (even and uneven bins, unbatched), avg in 3-d, indices refused;
F.unfold / F.fold (im2col / col2im) with every geometry parameter."""
import torch.nn as nn
import torch.nn.functional as F

from op_cases import Case, Fn, Input


def cases():
    x2 = Input("x", (2, 3, 8, 7))
    return [
        Case("unfold_basic", nn.Unfold(3), [Input("x", (2, 3, 5, 6))]),
        Case("unfold_params", nn.Unfold((2, 3), dilation=(2, 1), padding=(1, 2), stride=(2, 3)),
             [Input("x", (1, 2, 7, 8))]),
        Case("fold_basic", nn.Fold((5, 6), 2), [Input("x", (2, 12, 20))]),
        Case("fold_params", nn.Fold((7, 8), (2, 3), dilation=(2, 1), padding=(1, 2),
                                    stride=(2, 3)), [Input("x", (1, 12, 16))]),
        Case("fold_gap", nn.Fold((7, 7), 3, stride=3), [Input("x", (2, 9, 4))]),
        Case("fold_unfold_roundtrip", Fn(lambda a: F.fold(F.unfold(a, 3, padding=1), (6, 5), 3,
                                                          padding=1)), [Input("x", (1, 2, 6, 5))]),
        Case("adaptive_max2d_mixed", nn.AdaptiveMaxPool2d((4, 3)), [x2]),
        Case("adaptive_max2d_global", nn.AdaptiveMaxPool2d(1), [x2]),
        Case("adaptive_max2d_none", nn.AdaptiveMaxPool2d((None, 2)), [x2]),
        Case("adaptive_max1d", nn.AdaptiveMaxPool1d(3), [Input("x", (2, 4, 10))]),
        Case("adaptive_max3d", nn.AdaptiveMaxPool3d((2, 3, 2)), [Input("x", (1, 2, 4, 5, 6))]),
        Case("adaptive_max2d_unbatched", nn.AdaptiveMaxPool2d((3, 5)), [Input("x", (3, 9, 10))]),
        Case("adaptive_avg3d", nn.AdaptiveAvgPool3d((2, 3, 4)), [Input("x", (1, 2, 4, 6, 8))]),
        Case("adaptive_avg3d_uneven", nn.AdaptiveAvgPool3d((3, 2, 5)),
             [Input("x", (2, 5, 4, 7))]),
        Case("adaptive_max_indices",
             Fn(lambda a: F.adaptive_max_pool2d(a, 2, return_indices=True)[1]), [x2],
             refuse="indices output is read"),
    ]
