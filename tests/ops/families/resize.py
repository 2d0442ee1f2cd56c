"""Resizing: F.interpolate / nn.Upsample in every mode, with sizes and with scale factors, and
antialiased (bilinear and bicubic, down- and upsampling, both overloads);
F.affine_grid and F.grid_sample (bilinear/nearest/bicubic x zeros/border/reflection x
align_corners; 5-D volumetric)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from op_cases import Case, Fn, Input


def _interp(**kwargs):
    return Fn(lambda a: F.interpolate(a, **kwargs))


def _antialias_cases():
    """F.interpolate(antialias=True): bilinear and bicubic, down and up, align_corners, sizes and
    scale factors (the .vec overload), and the explicit overload with per-axis scales."""
    x = Input("x", (1, 2, 12, 10))
    aten = torch.ops.aten
    out = []
    for mode in ("bilinear", "bicubic"):
        for ac in (False, True):
            tag = f"{mode}_aa_{'ac' if ac else 'hp'}"
            out += [
                Case(f"{tag}_down", _interp(size=(5, 3), mode=mode, align_corners=ac,
                                            antialias=True), [x]),
                Case(f"{tag}_up", _interp(size=(15, 13), mode=mode, align_corners=ac,
                                          antialias=True), [x]),
                Case(f"{tag}_scale", _interp(scale_factor=(0.45, 1.6), mode=mode, align_corners=ac,
                                             antialias=True), [x]),
            ]
    out += [
        Case("bilinear_aa_one_pixel", _interp(size=(1, 1), mode="bilinear", antialias=True), [x]),
        Case("bilinear_aa_recompute", _interp(scale_factor=0.3, mode="bilinear", antialias=True,
                                              recompute_scale_factor=True), [x]),
        Case("bilinear_aa_explicit_scales", Fn(lambda a: aten._upsample_bilinear2d_aa(
            a, [4, 7], False, 0.35, 0.7)), [x]),
        Case("bicubic_aa_explicit", Fn(lambda a: aten._upsample_bicubic2d_aa(
            a, [6, 4], True, None, None)), [x]),
    ]
    return out


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
    ]
    out += _antialias_cases()
    theta = Input("theta", (2, 2, 3), low=-1.2, high=1.2)
    img = Input("img", (2, 3, 5, 6))
    grid = Input("grid", (2, 4, 7, 2), low=-1.3, high=1.3)
    for ac in (False, True):
        tag = "ac" if ac else "hp"
        out.append(Case(f"affine_grid_{tag}",
                        Fn(lambda t, ac=ac: F.affine_grid(t, [2, 3, 4, 5], align_corners=ac)),
                        [theta]))
        for mode in ("bilinear", "nearest", "bicubic"):
            for pad in ("zeros", "border", "reflection"):
                out.append(Case(
                    f"grid_sample_{mode}_{pad}_{tag}",
                    Fn(lambda a, g, m=mode, p=pad, ac=ac: F.grid_sample(
                        a, g, mode=m, padding_mode=p, align_corners=ac)), [img, grid]))
    out += [
        Case("affine_grid_3d", Fn(lambda t: F.affine_grid(t, [1, 2, 2, 3, 4],
                                                          align_corners=False)),
             [Input("theta", (1, 3, 4))]),
        Case("affine_then_sample", Fn(lambda a, t: F.grid_sample(
            a, F.affine_grid(t, [2, 3, 4, 4], align_corners=False), align_corners=False)),
             [img, theta]),
        Case("grid_sample_3d_bilinear_border",
             Fn(lambda a, g: F.grid_sample(a, g, mode="bilinear", padding_mode="border",
                                           align_corners=False)),
             [Input("vol", (1, 2, 3, 4, 5)), Input("grid", (1, 2, 3, 4, 3), low=-1.3, high=1.3)]),
        Case("grid_sample_3d_nearest_reflection",
             Fn(lambda a, g: F.grid_sample(a, g, mode="nearest", padding_mode="reflection",
                                           align_corners=True)),
             [Input("vol", (1, 2, 3, 4, 5)), Input("grid", (1, 2, 3, 4, 3), low=-1.3, high=1.3)]),
    ]
    return out
