"""max_pool1d/2d/3d_with_indices (return_indices=True): the values with every parameter (stride,
padding, ceil_mode, unbatched); reading the indices is refused by name."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from op_cases import Case, Fn, Input


def cases():
    x1 = Input("x", (2, 3, 9))
    x2 = Input("x", (1, 3, 9, 8))
    x3 = Input("x", (1, 2, 5, 6, 7))
    return [
        Case("with_indices_1d", Fn(lambda a: F.max_pool1d(a, 3, 2, 1, return_indices=True)[0]),
             [x1]),
        Case("with_indices_2d", Fn(lambda a: F.max_pool2d(a, (3, 2), (2, 1), (1, 0),
                                                          return_indices=True)[0]), [x2]),
        Case("with_indices_2d_ceil", Fn(lambda a: F.max_pool2d(a, 2, ceil_mode=True,
                                                               return_indices=True)[0]), [x2]),
        Case("with_indices_2d_unbatched", Fn(lambda a: F.max_pool2d(a, 2,
                                                                    return_indices=True)[0]),
             [Input("x", (3, 6, 8))]),
        Case("with_indices_3d", Fn(lambda a: F.max_pool3d(a, 2, 1, 1,
                                                          return_indices=True)[0]), [x3]),
        Case("with_indices_module", nn.Sequential(nn.MaxPool2d(2, return_indices=True)), [x2],
             refuse="the indices output is read"),
        Case("with_indices_read", Fn(lambda a: F.max_pool1d(a, 3, return_indices=True)[1]),
             [x1], refuse="the indices output is read"),
    ]
