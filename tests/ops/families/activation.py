"""Activations: every parameter of the elu family, softplus's beta and threshold, prelu's weight
layouts, rrelu in eval mode, glu's dim, the shrinks, threshold on float and int, logit with and
without eps, and the softmax family's dim and dtype arguments."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from op_cases import Case, Fn, Input


def _prelu(num_parameters):
    m = nn.PReLU(num_parameters)
    with torch.no_grad():
        m.weight.copy_(torch.linspace(-0.5, 0.75, num_parameters))
    return m


def cases():
    x = Input("x", (2, 3, 8))
    x4 = Input("x", (2, 3, 4, 5))
    # Modules trace with their forward()'s argument name.
    xi = Input("input", (2, 3, 8))
    i4 = Input("input", (2, 3, 4, 5))
    return [
        Case("elu", Fn(lambda x: F.elu(x)), [x]),
        Case("elu_alpha", nn.ELU(0.4), [i4]),
        # alpha, scale and input_scale of ATen's elu (selu and celu are elus with set values).
        Case("elu_scales", Fn(lambda x: torch.ops.aten.elu(x, 0.7, 2.0, 0.5)), [x]),
        Case("elu_scale_only", Fn(lambda x: torch.ops.aten.elu(x, 1.5, 0.5, 1.0)), [x]),
        Case("selu", nn.SELU(), [i4]),
        Case("celu", Fn(lambda x: F.celu(x, 0.6)), [x]),
        Case("celu_default", nn.CELU(), [xi]),
        Case("softplus", nn.Softplus(), [Input("input", (2, 3, 8), low=-30, high=30)]),
        # beta * x above threshold is the identity.
        Case("softplus_beta_threshold", Fn(lambda x: F.softplus(x, 2.0, 1.0)), [x4]),
        Case("softplus_small_beta", Fn(lambda x: F.softplus(x, 0.5, 3.0)),
             [Input("x", (4, 16), low=-12, high=12)]),
        Case("mish", nn.Mish(), [i4]),
        Case("log_sigmoid", nn.LogSigmoid(), [Input("input", (2, 3, 8), low=-20, high=20)]),
        Case("prelu_channels_4d", _prelu(3), [i4]),
        Case("prelu_channels_3d", _prelu(3), [xi]),
        Case("prelu_channels_2d", _prelu(5), [Input("input", (4, 5))]),
        Case("prelu_single_1d", _prelu(1), [Input("input", (7,))]),
        Case("prelu_single_4d", _prelu(1), [i4]),
        Case("rrelu_eval", Fn(lambda x: F.rrelu(x, 0.1, 0.3, training=False)), [x]),
        Case("rrelu_default", nn.RReLU().eval(), [i4]),
        Case("rrelu_training", Fn(lambda x: F.rrelu(x, 0.1, 0.3, training=True)), [x],
             refuse="training=True"),
        Case("glu_last", nn.GLU(), [xi]),
        Case("glu_dim1", Fn(lambda x: F.glu(x, 1)), [Input("x", (2, 6, 5))]),
        Case("glu_neg_dim", Fn(lambda x: F.glu(x, -2)), [x4]),
        Case("glu_1d", Fn(lambda x: F.glu(x, 0)), [Input("x", (10,))]),
        Case("hardshrink", nn.Hardshrink(), [xi]),
        Case("hardshrink_lambd", Fn(lambda x: F.hardshrink(x, 1.25)), [x4]),
        Case("softshrink", nn.Softshrink(), [xi]),
        Case("softshrink_lambd", Fn(lambda x: F.softshrink(x, 1.25)), [x4]),
        Case("softshrink_zero", Fn(lambda x: F.softshrink(x, 0.0)), [x]),
        Case("threshold", nn.Threshold(0.1, 20.0), [xi]),
        Case("threshold_negative", Fn(lambda x: F.threshold(x, -0.5, -3.0)), [x4]),
        # An int tensor from argsort (the CLI takes float inputs): 0..7 in each row.
        Case("threshold_int", Fn(lambda x: F.threshold(torch.argsort(x, 1), 2.5, 9.9)),
             [Input("x", (3, 8), distinct=True)]),
        Case("logit", Fn(lambda x: torch.logit(x)), [Input("x", (2, 3, 8), low=0.02, high=0.98)]),
        Case("logit_eps", Fn(lambda x: torch.logit(x, 0.1)),
             [Input("x", (2, 3, 8), low=-0.5, high=1.5)]),
        Case("tanhshrink", nn.Tanhshrink(), [xi]),
        Case("silu", nn.SiLU(), [xi]),
        Case("hardsigmoid", nn.Hardsigmoid(), [Input("input", (2, 3, 8), low=-5, high=5)]),
        Case("hardswish", nn.Hardswish(), [Input("input", (2, 3, 8), low=-5, high=5)]),
        Case("gelu_exact", nn.GELU(), [xi]),
        Case("sigmoid", nn.Sigmoid(), [xi]),
        Case("softmax_dim0", Fn(lambda x: torch.softmax(x, 0)), [x]),
        Case("softmax_neg_dim_dtype", Fn(lambda x: torch.softmax(x, -2, dtype=torch.float32)),
             [x4]),
        Case("softmax_int_dtype", Fn(lambda x: torch.softmax(torch.argsort(x, 1), 1,
                                                            dtype=torch.float32)),
             [Input("x", (3, 8), distinct=True)]),
        Case("log_softmax_dim1", Fn(lambda x: F.log_softmax(x, 1)), [x4]),
        Case("log_softmax_dtype", Fn(lambda x: torch.log_softmax(x, -1, dtype=torch.float32)),
             [x]),
    ]
