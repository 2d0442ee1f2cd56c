"""Convolution and pooling parameter sweeps that script or trace to the aten ops conv.py and
pooling.py do not reach: scripted aten::conv1d/conv3d (int and string padding),
aten::conv_transpose1d/2d/3d, aten::convolution (plain and transposed), and avg/max pooling in
1/2/3-d with kernel, stride, padding, ceil_mode, count_include_pad, divisor_override and dilation
(dilated max pooling and ceil windows MIL max_pool cannot size are sliced per kernel offset; what
MIL cannot express is refused: 3-d avg ceil windows, divisor_override on an overhanging window),
plus adaptive_avg_pool1d."""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F

from op_cases import Case, Fn, Input


def _w(*shape):
    g = torch.Generator().manual_seed(sum(shape) * 7 + len(shape))
    return torch.randn(*shape, generator=g) * 0.3


class _Weighted(nn.Module):
    """Holds a weight and an optional bias as buffers (scripted forwards read them)."""

    def __init__(self, w, out_channels, bias):
        super().__init__()
        self.register_buffer("w", w)
        self.b = _w(out_channels) if bias else None


class Conv1dS(_Weighted):
    __constants__ = ["stride", "padding", "dilation", "groups"]

    def __init__(self, w, bias=True, stride=1, padding=0, dilation=1, groups=1):
        super().__init__(w, w.shape[0], bias)
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x):
        return F.conv1d(x, self.w, self.b, self.stride, self.padding, self.dilation, self.groups)


class Conv3dS(Conv1dS):
    def forward(self, x):
        return F.conv3d(x, self.w, self.b, self.stride, self.padding, self.dilation, self.groups)


class ConvT(_Weighted):
    __constants__ = ["stride", "padding", "output_padding", "groups", "dilation"]

    def __init__(self, w, bias=True, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        super().__init__(w, w.shape[1] * groups, bias)
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        self.groups, self.dilation = groups, dilation


class ConvT1dS(ConvT):
    def forward(self, x):
        return F.conv_transpose1d(x, self.w, self.b, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)


class ConvT2dS(ConvT):
    def forward(self, x):
        return F.conv_transpose2d(x, self.w, self.b, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)


class ConvT3dS(ConvT):
    def forward(self, x):
        return F.conv_transpose3d(x, self.w, self.b, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)


class ConvolutionS(nn.Module):
    """aten::convolution with every argument given (scripted, so it stays that op)."""
    __constants__ = ["stride", "padding", "dilation", "transposed", "output_padding", "groups"]

    def __init__(self, w, stride: List[int], padding: List[int], dilation: List[int],
                 transposed: bool, output_padding: List[int], groups: int):
        super().__init__()
        self.register_buffer("w", w)
        self.register_buffer("b", _w(w.shape[1] * groups if transposed else w.shape[0]))
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.transposed, self.output_padding, self.groups = transposed, output_padding, groups

    def forward(self, x):
        return torch.convolution(x, self.w, self.b, self.stride, self.padding, self.dilation,
                                 self.transposed, self.output_padding, self.groups)


def _conv_cases():
    x1, x3 = Input("x", (2, 4, 13)), Input("x", (1, 4, 5, 6, 7))
    x2 = Input("x", (1, 4, 9, 10))
    s = dict(script=True)
    return [
        Case("conv1d_plain", Conv1dS(_w(6, 4, 3)), [x1], **s),
        Case("conv1d_stride_pad_dil_groups",
             Conv1dS(_w(6, 2, 3), stride=2, padding=3, dilation=2, groups=2), [x1], **s),
        Case("conv1d_depthwise_nobias", Conv1dS(_w(4, 1, 5), False, padding=2, groups=4), [x1],
             **s),
        Case("conv1d_same_even", Conv1dS(_w(6, 4, 4), padding="same", dilation=2), [x1], **s),
        Case("conv1d_valid_stride", Conv1dS(_w(6, 4, 3), padding="valid", stride=3), [x1], **s),
        Case("conv1d_unbatched", Conv1dS(_w(6, 4, 3), padding=1), [Input("x", (4, 13))], **s),
        Case("conv3d_plain", Conv3dS(_w(3, 4, 2, 3, 2)), [x3], **s),
        Case("conv3d_stride_pad_dil_groups",
             Conv3dS(_w(4, 2, 3, 2, 3), stride=(1, 2, 2), padding=(1, 0, 2), dilation=(2, 1, 1),
                     groups=2), [x3], **s),
        Case("conv3d_same_groups", Conv3dS(_w(4, 1, 3, 2, 3), False, padding="same", groups=4),
             [x3], **s),
        Case("conv3d_valid", Conv3dS(_w(2, 4, 3, 3, 3), padding="valid", dilation=(1, 1, 2)),
             [x3], **s),
        Case("conv3d_unbatched", Conv3dS(_w(2, 4, 2, 2, 2), stride=2), [Input("x", (4, 5, 6, 7))],
             **s),
        Case("convt1d_plain", ConvT1dS(_w(4, 3, 3)), [x1], **s),
        Case("convt1d_stride_pad_outpad_groups_dil",
             ConvT1dS(_w(4, 3, 3), stride=3, padding=2, output_padding=1, groups=2, dilation=2),
             [x1], **s),
        Case("convt1d_unbatched_nobias", ConvT1dS(_w(4, 2, 4), False, stride=2, padding=1),
             [Input("x", (4, 13))], **s),
        Case("convt2d_plain", ConvT2dS(_w(4, 5, 2, 3)), [x2], **s),
        Case("convt2d_all", ConvT2dS(_w(4, 2, 3, 3), stride=(2, 3), padding=(1, 2),
                                     output_padding=(1, 2), groups=2, dilation=(1, 2)), [x2], **s),
        Case("convt2d_depthwise", ConvT2dS(_w(4, 1, 3, 3), False, stride=2, groups=4), [x2], **s),
        Case("convt3d_plain", ConvT3dS(_w(4, 2, 2, 2, 2), stride=2), [x3], **s),
        Case("convt3d_all", ConvT3dS(_w(4, 1, 3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1),
                                     output_padding=(1, 0, 0), groups=2, dilation=(1, 2, 1)),
             [x3], **s),
        Case("convolution_2d", ConvolutionS(_w(6, 2, 3, 3), [2, 1], [1, 2], [1, 2], False, [0, 0],
                                            2), [x2], **s),
        Case("convolution_1d", ConvolutionS(_w(6, 4, 3), [1], [1], [1], False, [0], 1), [x1],
             **s),
        Case("convolution_3d", ConvolutionS(_w(2, 4, 2, 2, 2), [1, 1, 2], [0, 1, 0], [1, 1, 1],
                                            False, [0, 0, 0], 1), [x3], **s),
        Case("convolution_transposed_2d",
             ConvolutionS(_w(4, 3, 3, 2), [2, 2], [1, 0], [1, 1], True, [1, 1], 2), [x2], **s),
        Case("convolution_transposed_1d",
             ConvolutionS(_w(4, 2, 3), [2], [1], [2], True, [1], 1), [x1], **s),
    ]


def _pool(fn):
    return Fn(fn)


def _pool_cases():
    a1, a2 = Input("x", (2, 3, 13)), Input("x", (2, 3, 11, 12))
    a3 = Input("x", (1, 2, 7, 8, 9))
    return [
        # max pooling
        Case("max1d_kernel", _pool(lambda x: F.max_pool1d(x, 3)), [a1]),
        Case("max1d_stride_pad", _pool(lambda x: F.max_pool1d(x, 4, 3, 2)), [a1]),
        Case("max1d_ceil", _pool(lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True)),
             [Input("x", (2, 3, 12))]),
        Case("max1d_unbatched", _pool(lambda x: F.max_pool1d(x, 2)), [Input("x", (3, 13))]),
        Case("max2d_kernel", nn.MaxPool2d(2), [a2]),
        Case("max2d_rect_stride_pad", nn.MaxPool2d((3, 2), (2, 1), (1, 1)), [a2]),
        Case("max2d_ceil", nn.MaxPool2d(3, 2, ceil_mode=True), [Input("x", (1, 3, 10, 12))]),
        Case("max2d_ceil_pad", nn.MaxPool2d((2, 3), (2, 2), (1, 1), ceil_mode=True), [a2]),
        Case("max2d_ceil_noop", nn.MaxPool2d(3, 2, ceil_mode=True), [a2]),
        Case("max2d_unbatched", nn.MaxPool2d(3, 1, 1), [Input("x", (3, 11, 12))]),
        Case("max2d_neg_inputs", nn.MaxPool2d(2, 2, 1), [Input("x", (1, 2, 5, 5), low=-3,
                                                               high=-1)]),
        Case("max3d_kernel", nn.MaxPool3d(2), [a3]),
        Case("max3d_stride_pad", nn.MaxPool3d((3, 2, 3), (2, 2, 1), (1, 0, 1)), [a3]),
        Case("max3d_unbatched", nn.MaxPool3d(2, 1), [Input("x", (2, 7, 8, 9))]),
        Case("max3d_ceil_noop", nn.MaxPool3d(3, 2, ceil_mode=True), [Input("x", (1, 2, 7, 9, 5))]),
        Case("max2d_dilation", nn.MaxPool2d(3, 1, dilation=2), [a2]),
        Case("max2d_dilation_all", nn.MaxPool2d((3, 2), (2, 3), (1, 1), dilation=(2, 3),
                                                ceil_mode=True), [a2]),
        Case("max1d_dilation_unbatched", _pool(lambda x: F.max_pool1d(x, 3, 2, 1, 3)),
             [Input("x", (3, 13))]),
        Case("max3d_dilation", nn.MaxPool3d(2, (1, 2, 1), (1, 0, 1), dilation=(2, 1, 3)), [a3]),
        Case("max3d_ceil_window", nn.MaxPool3d(2, ceil_mode=True), [a3]),
        Case("max3d_ceil_pad_stride", nn.MaxPool3d(3, (2, 3, 2), 1, ceil_mode=True),
             [Input("x", (2, 2, 6, 8, 7))]),
        Case("max2d_ceil_stride_gt_kernel", nn.MaxPool2d(2, 3, ceil_mode=True), [a2]),
        Case("max2d_neg_inputs_dilated", nn.MaxPool2d(2, 1, 1, dilation=2),
             [Input("x", (1, 2, 6, 6), low=-3, high=-1)]),
        # avg pooling
        Case("avg1d_kernel", _pool(lambda x: F.avg_pool1d(x, 3)), [a1]),
        Case("avg1d_pad_include", _pool(lambda x: F.avg_pool1d(x, 3, 2, 1)), [a1]),
        Case("avg1d_pad_exclude",
             _pool(lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False)), [a1]),
        Case("avg1d_ceil", _pool(lambda x: F.avg_pool1d(x, 2, 2, ceil_mode=True)), [a1]),
        Case("avg1d_unbatched", _pool(lambda x: F.avg_pool1d(x, 4, 3)), [Input("x", (3, 13))]),
        Case("avg2d_kernel", nn.AvgPool2d(2), [a2]),
        Case("avg2d_rect_include", nn.AvgPool2d((3, 2), (2, 1), (1, 1)), [a2]),
        Case("avg2d_rect_exclude", nn.AvgPool2d((3, 4), (1, 2), (1, 2), count_include_pad=False),
             [a2]),
        Case("avg2d_ceil_exclude", nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
             [Input("x", (1, 3, 10, 12))]),
        Case("avg2d_ceil_nopad", nn.AvgPool2d(2, ceil_mode=True), [a2]),
        Case("avg2d_unbatched", nn.AvgPool2d(3, 2, 1), [Input("x", (3, 11, 12))]),
        Case("avg3d_kernel", nn.AvgPool3d(2), [a3]),
        Case("avg3d_stride_pad_exclude",
             nn.AvgPool3d((3, 2, 3), (2, 2, 1), (1, 1, 0), count_include_pad=False), [a3]),
        Case("avg3d_pad_include", nn.AvgPool3d(3, 2, 1), [a3]),
        Case("avg3d_unbatched", nn.AvgPool3d((2, 3, 2)), [Input("x", (2, 7, 8, 9))]),
        Case("avg2d_divisor", nn.AvgPool2d(2, divisor_override=3), [a2]),
        Case("avg2d_divisor_pad_exclude",
             nn.AvgPool2d((3, 2), (2, 1), (1, 1), count_include_pad=False, divisor_override=5),
             [a2]),
        Case("avg2d_divisor_unbatched", nn.AvgPool2d(3, 2, 1, divisor_override=9),
             [Input("x", (3, 11, 12))]),
        Case("avg2d_divisor_ceil_floor_same", nn.AvgPool2d(3, 2, ceil_mode=True,
                                                           divisor_override=2),
             [Input("x", (1, 3, 11, 9))]),
        Case("avg3d_divisor", nn.AvgPool3d((2, 3, 2), (1, 2, 2), (1, 1, 0), divisor_override=7),
             [a3]),
        Case("avg2d_divisor_ceil_window", nn.AvgPool2d(2, ceil_mode=True, divisor_override=3),
             [a2], refuse="divisor_override with ceil_mode=True adding a window"),
        Case("avg3d_ceil_window", nn.AvgPool3d(2, ceil_mode=True), [a3],
             refuse="ceil_mode=True adds a window"),
        # adaptive avg 1d
        Case("adaptive_avg1d_even", nn.AdaptiveAvgPool1d(4), [Input("x", (2, 3, 12))]),
        Case("adaptive_avg1d_uneven", nn.AdaptiveAvgPool1d(5), [Input("x", (2, 3, 13))]),
        Case("adaptive_avg1d_global_unbatched", nn.AdaptiveAvgPool1d(1), [Input("x", (3, 13))]),
    ]


def cases():
    return _conv_cases() + _pool_cases()
