"""Resizing: F.interpolate / nn.Upsample in every mode, with sizes and with scale factors."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from op_cases import Case, Fn, Input


def _interp(**kwargs):
    return Fn(lambda a: F.interpolate(a, **kwargs))


def cases():
    x1 = Input("x", (2, 3, 5))
    x2 = Input("x", (1, 3, 5, 6))
    x3 = Input("x", (1, 2, 3, 4, 5))
    out = []
    for ac in (False, True):
        tag = "ac" if ac else "hp"
        out += [
            Case(f"bilinear_scale2_{tag}", _interp(scale_factor=2, mode="bilinear",
                                                   align_corners=ac), [x2]),
            Case(f"bilinear_scale_frac_{tag}", _interp(scale_factor=(1.5, 0.7), mode="bilinear",
                                                       align_corners=ac), [x2]),
            Case(f"bilinear_size_{tag}", _interp(size=(9, 4), mode="bilinear", align_corners=ac),
                 [x2]),
            Case(f"bicubic_scale_{tag}", _interp(scale_factor=1.7, mode="bicubic",
                                                 align_corners=ac), [x2]),
            Case(f"linear_scale_{tag}", _interp(scale_factor=2.5, mode="linear",
                                                align_corners=ac), [x1]),
            Case(f"trilinear_size_{tag}", _interp(size=(5, 3, 8), mode="trilinear",
                                                  align_corners=ac), [x3]),
        ]
    out += [
        Case("bilinear_recompute", _interp(scale_factor=1.5, mode="bilinear",
                                           recompute_scale_factor=True), [x2]),
        Case("nearest_scale2", _interp(scale_factor=2, mode="nearest"), [x2]),
        Case("nearest_scale_frac", _interp(scale_factor=(1.5, 2.5), mode="nearest"), [x2]),
        Case("nearest_down", _interp(size=(3, 4), mode="nearest"), [x2]),
        Case("nearest1d_scale", _interp(scale_factor=1.5, mode="nearest"), [x1]),
        Case("nearest3d_scale", _interp(scale_factor=(2, 1, 1.5), mode="nearest"), [x3]),
        Case("nearest_exact2d", _interp(size=(7, 9), mode="nearest-exact"), [x2]),
        Case("nearest_exact1d_scale", _interp(scale_factor=1.5, mode="nearest-exact"), [x1]),
        Case("upsample_module", nn.Upsample(scale_factor=3, mode="bilinear"), [x2]),
        Case("upsample_module_nearest", nn.Upsample(size=(10, 12)), [x2]),
        Case("bilinear_antialias", _interp(scale_factor=0.5, mode="bilinear", antialias=True),
             [x2], refuse="antialias=True is not supported"),
    ]
    return out
