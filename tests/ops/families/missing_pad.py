"""reflection_pad1d/2d/3d and replication_pad1d/2d/3d called directly (F.pad traces to aten::pad):
batched and unbatched inputs, asymmetric pads, pads reaching size - 1 (reflect), and the third
padded dim that MIL pad cannot reflect or replicate (composed from slices)."""
import torch

from op_cases import Case, Fn, Input

_nn = torch._C._nn


def cases():
    x1 = Input("x", (2, 3, 6))
    x2 = Input("x", (2, 3, 5, 6))
    x3 = Input("x", (1, 2, 4, 5, 6))
    return [
        Case("reflection_pad1d", Fn(lambda a: _nn.reflection_pad1d(a, (2, 5))), [x1]),
        Case("reflection_pad1d_unbatched", Fn(lambda a: _nn.reflection_pad1d(a, (0, 3))),
             [Input("x", (3, 6))]),
        Case("reflection_pad2d", Fn(lambda a: _nn.reflection_pad2d(a, (1, 5, 4, 0))), [x2]),
        Case("reflection_pad2d_unbatched", Fn(lambda a: _nn.reflection_pad2d(a, (2, 2, 1, 3))),
             [Input("x", (3, 5, 6))]),
        Case("reflection_pad3d", Fn(lambda a: _nn.reflection_pad3d(a, (1, 2, 0, 1, 3, 2))),
             [x3]),
        Case("reflection_pad3d_unbatched", Fn(lambda a: _nn.reflection_pad3d(a, (0, 0, 1, 1, 1, 0))),
             [Input("x", (2, 4, 5, 6))]),
        Case("replication_pad1d", Fn(lambda a: _nn.replication_pad1d(a, (4, 9))), [x1]),
        Case("replication_pad2d", Fn(lambda a: _nn.replication_pad2d(a, (0, 3, 7, 1))), [x2]),
        Case("replication_pad2d_unbatched", Fn(lambda a: _nn.replication_pad2d(a, (1, 1, 2, 2))),
             [Input("x", (3, 5, 6))]),
        Case("replication_pad3d", Fn(lambda a: _nn.replication_pad3d(a, (2, 1, 1, 0, 5, 3))),
             [x3]),
        # aten::pad with the same modes over three dims goes through the same composition.
        Case("pad_reflect_3dims", Fn(lambda a: torch.nn.functional.pad(a, (1, 1, 2, 0, 0, 3),
                                                                       mode="reflect")), [x3]),
        Case("pad_replicate_3dims", Fn(lambda a: torch.nn.functional.pad(a, (0, 1, 0, 0, 2, 2),
                                                                         mode="replicate")),
             [x3]),
    ]
