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
    return [
        Case("elu", Fn(lambda a: F.elu(a)), [x]),
        Case("elu_alpha", nn.ELU(0.4), [x4]),
        # alpha, scale and input_scale of ATen's elu (selu and celu are elus with set values).
        Case("elu_scales", Fn(lambda a: torch.ops.aten.elu(a, 0.7, 2.0, 0.5)), [x]),
        Case("elu_scale_only", Fn(lambda a: torch.ops.aten.elu(a, 1.5, 0.5, 1.0)), [x]),
        Case("selu", nn.SELU(), [x4]),
        Case("celu", Fn(lambda a: F.celu(a, 0.6)), [x]),
        Case("celu_default", nn.CELU(), [x]),
        Case("softplus", nn.Softplus(), [Input("x", (2, 3, 8), low=-30, high=30)]),
        # beta * x above threshold is the identity.
        Case("softplus_beta_threshold", Fn(lambda a: F.softplus(a, 2.0, 1.0)), [x4]),
        Case("softplus_small_beta", Fn(lambda a: F.softplus(a, 0.5, 3.0)),
             [Input("x", (4, 16), low=-12, high=12)]),
        Case("mish", nn.Mish(), [x4]),
        Case("log_sigmoid", nn.LogSigmoid(), [Input("x", (2, 3, 8), low=-20, high=20)]),
        Case("prelu_channels_4d", _prelu(3), [x4]),
        Case("prelu_channels_3d", _prelu(3), [x]),
        Case("prelu_channels_2d", _prelu(5), [Input("x", (4, 5))]),
        Case("prelu_single_1d", _prelu(1), [Input("x", (7,))]),
        Case("prelu_single_4d", _prelu(1), [x4]),
        Case("rrelu_eval", Fn(lambda a: F.rrelu(a, 0.1, 0.3, training=False)), [x]),
        Case("rrelu_default", nn.RReLU().eval(), [x4]),
        Case("rrelu_training", Fn(lambda a: F.rrelu(a, 0.1, 0.3, training=True)), [x],
             refuse="training=True"),
        Case("glu_last", nn.GLU(), [x]),
        Case("glu_dim1", Fn(lambda a: F.glu(a, 1)), [Input("x", (2, 6, 5))]),
        Case("glu_neg_dim", Fn(lambda a: F.glu(a, -2)), [x4]),
        Case("hardshrink", nn.Hardshrink(), [x]),
        Case("hardshrink_lambd", Fn(lambda a: F.hardshrink(a, 1.25)), [x4]),
        Case("softshrink", nn.Softshrink(), [x]),
        Case("softshrink_lambd", Fn(lambda a: F.softshrink(a, 1.25)), [x4]),
        Case("softshrink_zero", Fn(lambda a: F.softshrink(a, 0.0)), [x]),
        Case("threshold", nn.Threshold(0.1, 20.0), [x]),
        Case("threshold_negative", Fn(lambda a: F.threshold(a, -0.5, -3.0)), [x4]),
        Case("threshold_int", Fn(lambda a: F.threshold(a, -1.5, 7.9)),
             [Input("x", (3, 8), "int32")], precisions=("fp32",)),
        Case("logit", Fn(lambda a: torch.logit(a)), [Input("x", (2, 3, 8), low=0.02, high=0.98)]),
        Case("logit_eps", Fn(lambda a: torch.logit(a, 0.1)),
             [Input("x", (2, 3, 8), low=-0.5, high=1.5)]),
        Case("tanhshrink", nn.Tanhshrink(), [x]),
        Case("silu", nn.SiLU(), [x]),
        Case("hardsigmoid", nn.Hardsigmoid(), [Input("x", (2, 3, 8), low=-5, high=5)]),
        Case("hardswish", nn.Hardswish(), [Input("x", (2, 3, 8), low=-5, high=5)]),
        Case("gelu_exact", nn.GELU(), [x]),
        Case("sigmoid", nn.Sigmoid(), [x]),
        Case("softmax_dim0", Fn(lambda a: torch.softmax(a, 0)), [x]),
        Case("softmax_neg_dim_dtype", Fn(lambda a: torch.softmax(a, -2, dtype=torch.float32)),
             [x4]),
        Case("log_softmax_dim1", Fn(lambda a: F.log_softmax(a, 1)), [x4]),
        Case("log_softmax_dtype", Fn(lambda a: torch.log_softmax(a, -1, dtype=torch.float32)),
             [x]),
    ]
