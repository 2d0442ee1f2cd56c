"""Convolutions: string padding ('same', including the asymmetric split of even kernels, and
'valid', which trace to aten::_convolution_mode) with dilation and groups in 1d/2d/3d, integer
padding with stride and groups, unbatched inputs, and transposed convolutions with output_padding,
groups and dilation."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from op_cases import Case, Fn, Input


def _w(*shape):
    g = torch.Generator().manual_seed(sum(shape))
    return torch.randn(*shape, generator=g) * 0.3


def _conv(cls, *args, **kwargs):
    torch.manual_seed(7)
    return cls(*args, **kwargs).eval()


def cases():
    x1 = Input("x", (2, 4, 11))
    x2 = Input("x", (1, 4, 9, 10))
    x3 = Input("x", (1, 4, 5, 6, 7))
    i2 = Input("input", (1, 4, 9, 10))
    w1, w2, w3 = _w(6, 4, 4), _w(6, 2, 4, 3), _w(4, 4, 2, 3, 2)
    return [
        # 'same' with even kernels: PyTorch puts the odd padding element after the data.
        Case("same_1d_even", Fn(lambda x: F.conv1d(x, w1, padding="same")), [x1]),
        Case("same_1d_dilated", Fn(lambda x: F.conv1d(x, w1, padding="same", dilation=3)), [x1]),
        Case("same_2d_groups", Fn(lambda x: F.conv2d(x, w2, padding="same", groups=2)), [x2]),
        Case("same_2d_dilated",
             Fn(lambda x: F.conv2d(x, w2, padding="same", dilation=(2, 3), groups=2)), [x2]),
        Case("same_3d", Fn(lambda x: F.conv3d(x, w3, padding="same", dilation=(1, 2, 1))), [x3]),
        Case("same_module_bias", _conv(nn.Conv2d, 4, 8, (4, 2), padding="same"), [i2]),
        Case("same_unbatched", Fn(lambda x: F.conv1d(x, w1, padding="same")),
             [Input("x", (4, 11))]),
        Case("valid_1d", Fn(lambda x: F.conv1d(x, w1, padding="valid", stride=2)), [x1]),
        Case("valid_2d_dilated",
             Fn(lambda x: F.conv2d(x, w2, padding="valid", dilation=2, groups=2)), [x2]),
        Case("valid_3d", _conv(nn.Conv3d, 4, 2, 3, padding="valid", stride=(1, 2, 2)),
             [Input("input", (1, 4, 5, 6, 7))]),
        Case("int_pad_groups_stride",
             _conv(nn.Conv2d, 4, 8, 3, stride=2, padding=(1, 2), groups=4), [i2]),
        Case("depthwise_dilated", _conv(nn.Conv1d, 4, 4, 3, padding=2, dilation=2, groups=4),
             [Input("input", (2, 4, 11))]),
        Case("zeros_padding_mode_3d", _conv(nn.Conv3d, 4, 4, 2, padding=1, groups=2),
             [Input("input", (1, 4, 5, 6, 7))]),
        # Transposed: output_padding below stride (or dilation), groups, dilation.
        Case("transpose_1d_outpad",
             _conv(nn.ConvTranspose1d, 4, 6, 3, stride=2, padding=1, output_padding=1),
             [Input("input", (2, 4, 11))]),
        Case("transpose_2d_groups",
             _conv(nn.ConvTranspose2d, 4, 6, (3, 2), stride=(2, 3), padding=(1, 1),
                   output_padding=(1, 0), groups=2), [i2]),
        Case("transpose_2d_dilation",
             _conv(nn.ConvTranspose2d, 4, 4, 3, stride=2, padding=2, dilation=2,
                   output_padding=1, groups=4, bias=False), [i2]),
        # output_padding beyond padding: rows past the full result hold only the bias.
        Case("transpose_2d_outpad_beyond_pad",
             _conv(nn.ConvTranspose2d, 4, 6, 2, stride=(2, 3), padding=(0, 1),
                   output_padding=(1, 2)), [i2]),
        Case("transpose_1d_outpad_no_bias_groups",
             _conv(nn.ConvTranspose1d, 4, 6, 3, stride=3, output_padding=2, groups=2, bias=False),
             [Input("input", (2, 4, 11))]),
        Case("transpose_3d_outpad_beyond_pad_unbatched",
             _conv(nn.ConvTranspose3d, 4, 2, 2, stride=2, output_padding=1),
             [Input("input", (4, 3, 4, 5))]),
        Case("transpose_3d", _conv(nn.ConvTranspose3d, 4, 2, 2, stride=2, padding=1),
             [Input("input", (1, 4, 5, 6, 7))]),
        Case("transpose_unbatched", _conv(nn.ConvTranspose1d, 4, 2, 3, stride=2, padding=1),
             [Input("input", (4, 11))]),
        Case("int_pad_anisotropic_stride",
             Fn(lambda x: F.conv2d(x, w2, padding=1, stride=(1, 2), groups=2)), [x2]),
    ]
