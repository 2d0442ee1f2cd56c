"""FFTs, STFT and complex arithmetic, rewritten into real ops by the decompose-complex pass
(core/torch/passes/decompose_complex.cpp): fft/ifft/rfft/irfft in every norm, n shorter and
longer than the input, positive and negative dims; rfft/irfft round trips of even and odd
lengths; the n-D and 2-D forms with s and dim; complex, polar, view_as_complex, real, imag,
view_as_real, abs, angle, conj and complex add/sub/mul/div; stft with and without a window,
win_length below n_fft, hop lengths, center (reflect and constant padding), onesided, normalized,
return_complex True (then abs, real, view_as_real) and False; rfft of 256, 512 and 1024 points
(the FP16 accumulation check). A complex model output, a complex value fed to an op without a
complex rewrite, and a transform longer than the bound are refused."""
import torch
import torch.fft as fft

from op_cases import Case, Fn, Input


def _real(fn):
    """fn's complex result as its real view [..., 2] (Core ML has no complex outputs); ifft of a
    real input is a lazily conjugated view, which view_as_real needs resolved."""
    return Fn(lambda *a: torch.view_as_real(fn(*a).resolve_conj()))


def _fft_cases():
    x = Input("x", (3, 16))
    cases = []
    for norm in ("backward", "forward", "ortho"):
        cases += [
            Case("rfft_" + norm, _real(lambda a, m=norm: fft.rfft(a, norm=m)), [x]),
            Case("fft_" + norm, _real(lambda a, m=norm: fft.fft(a, norm=m)), [x]),
            Case("ifft_" + norm, _real(lambda a, m=norm: fft.ifft(a, norm=m)), [x]),
            Case("irfft_" + norm,
                 Fn(lambda a, m=norm: fft.irfft(fft.rfft(a, norm=m) * 2, norm=m)), [x]),
        ]
    x3 = Input("x", (2, 6, 8))
    cases += [
        Case("rfft_n_short", _real(lambda a: fft.rfft(a, n=11)), [x]),
        Case("rfft_n_long", _real(lambda a: fft.rfft(a, n=25)), [x]),
        Case("fft_dim0", _real(lambda a: fft.fft(a, dim=0)), [x3]),
        Case("fft_dim_neg2_n", _real(lambda a: fft.fft(a, n=4, dim=-2)), [x3]),
        Case("ifft_complex_input", _real(lambda a, b: fft.ifft(torch.complex(a, b), n=20)),
             [x, Input("y", (3, 16))]),
        Case("irfft_roundtrip_even", Fn(lambda a: fft.irfft(fft.rfft(a), n=16)), [x]),
        Case("irfft_roundtrip_odd", Fn(lambda a: fft.irfft(fft.rfft(a, n=15), n=15)), [x]),
        Case("irfft_n_long", Fn(lambda a: fft.irfft(fft.rfft(a), n=40, dim=1)), [x]),
        Case("irfft_default_n", Fn(lambda a: fft.irfft(fft.rfft(a, dim=1), dim=1)), [x3]),
        Case("fftn_s_dim", _real(lambda a: fft.fftn(a, s=(4, 10), dim=(0, -1), norm="ortho")),
             [x3]),
        Case("fftn_all", _real(lambda a: fft.fftn(a)), [x3]),
        Case("ifftn_s", _real(lambda a: fft.ifftn(fft.fftn(a), s=(5, 8))), [x3]),
        Case("rfftn_roundtrip", Fn(lambda a: fft.irfftn(fft.rfftn(a, dim=(1, 2)), s=(6, 8),
                                                        dim=(1, 2))), [x3]),
        Case("rfftn_forward", _real(lambda a: fft.rfftn(a, norm="forward")), [x3]),
        Case("fft2_rfft2", Fn(lambda a: torch.view_as_real(fft.fft2(a)).sum(-1) +
                              fft.irfft2(fft.rfft2(a), s=(6, 8))), [x3]),
        Case("ifft2", _real(lambda a: fft.ifft2(a, s=(3, 7))), [x3]),
    ]
    return cases


def _complex_cases():
    a, b = Input("a", (4, 8)), Input("b", (4, 8))
    pos = Input("b", (4, 8), low=0.5, high=2.0)
    return [
        Case("complex_real_imag",
             Fn(lambda x, y: torch.complex(x, y).real * 2 + torch.complex(x, y).imag), [a, b]),
        Case("fft_real_imag", Fn(lambda x: fft.fft(x).real - fft.fft(x).imag), [a]),
        Case("abs_spectrum", Fn(lambda x: fft.rfft(x).abs()), [a]),
        Case("abs_large", Fn(lambda x: fft.fft(x * 300).abs()), [Input("x", (2, 64))]),
        Case("angle_fft", Fn(lambda x: fft.fft(x).angle()), [a], precisions=("fp32",)),
        Case("angle_polar", Fn(lambda r, t: torch.polar(r, t).angle() + torch.polar(r, t).abs()),
             [pos, Input("t", (4, 8), low=-1.5, high=1.5)]),
        Case("conj", _real(lambda x: fft.fft(x).conj().resolve_conj() * 2), [a]),
        Case("view_as_complex", _real(lambda x: torch.view_as_complex(x) * torch.view_as_complex(x)),
             [Input("x", (3, 5, 2))]),
        Case("complex_arith",
             _real(lambda x, y: (fft.rfft(x) * fft.rfft(y) + fft.rfft(x)) / fft.rfft(y + 3) -
                   fft.rfft(x) * 0.5),
             [a, b]),
        Case("complex_scalar_mul", _real(lambda x: fft.fft(x) * 1j + x), [a]),
        Case("complex_div_real", _real(lambda x, y: -fft.fft(x) / y), [a, pos]),
        Case("complex_shape_ops",
             _real(lambda x: fft.fft(x).transpose(0, 1).reshape(2, 16)[:, 3:9].sum(0)), [a]),
    ]


def _stft(x, **kw):
    return torch.stft(x, **kw)


def _stft_cases():
    sig = Input("x", (2, 200))
    one = Input("x", (200,))
    hann = torch.hann_window(64)
    return [
        Case("stft_spectrogram",
             Fn(lambda x: _stft(x, n_fft=64, hop_length=16, window=torch.hann_window(64),
                                return_complex=True).abs()), [sig]),
        Case("stft_real_view",
             Fn(lambda x: _stft(x, n_fft=32, return_complex=False)), [sig]),
        Case("stft_unbatched_no_center",
             _real(lambda x: _stft(x, n_fft=64, hop_length=10, center=False,
                                   return_complex=True)), [one]),
        Case("stft_win_length",
             _real(lambda x: _stft(x, n_fft=64, hop_length=8, win_length=40,
                                   window=torch.hamming_window(40), return_complex=True)), [sig]),
        Case("stft_win_length_no_window",
             Fn(lambda x: _stft(x, n_fft=48, win_length=30, return_complex=True).real), [sig]),
        Case("stft_two_sided_normalized",
             _real(lambda x: _stft(x, n_fft=32, hop_length=12, window=torch.hann_window(32),
                                   onesided=False, normalized=True, return_complex=True)), [sig]),
        Case("stft_constant_pad",
             _real(lambda x: _stft(x, n_fft=64, hop_length=20, window=hann, pad_mode="constant",
                                   return_complex=True)), [sig]),
        Case("stft_power",
             Fn(lambda x: _stft(x, n_fft=128, hop_length=32, window=torch.hann_window(128),
                                return_complex=True).abs().pow(2)), [Input("x", (1, 1024))]),
    ]


def _precision_cases():
    """rfft of long signals: the DFT matmul accumulates n products (docs/precision.md)."""
    return [Case("rfft_n%d" % n, _real(lambda a: fft.rfft(a)), [Input("x", (4, n))])
            for n in (256, 512, 1024)]


def _refusals():
    a = Input("x", (2, 8))
    return [
        Case("refuse_complex_output", Fn(lambda x: fft.fft(x)), [a],
             refuse="the model returns a complex tensor (made by aten::fft_fft)"),
        Case("refuse_complex_into_exp", Fn(lambda x: torch.view_as_real(fft.fft(x).exp())), [a],
             refuse="aten::exp: its input is a complex tensor (made by aten::fft_fft)"),
        Case("refuse_long_transform", _real(lambda x: fft.rfft(x, n=4096)), [a],
             refuse="aten::fft_rfft: a transform of length 4096 is not supported"),
    ]


def cases():
    return _fft_cases() + _complex_cases() + _stft_cases() + _precision_cases() + _refusals()
