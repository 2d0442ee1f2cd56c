#!/usr/bin/python3
"""Makes the TorchScript models of the plugin tests: models calling custom ops that only plugins
know about (nothing in the converter core names them).

Python must know an op to script and save a model calling it, so each op is defined here with
torch.library and a CPU kernel; the saved file records only the op's name. LibTorch in the
converter can load it only after a plugin declares the op's full schema.

  mylib::fancy_gelu(Tensor x) -> Tensor                  lowered by examples/fancy_gelu_plugin
  t2ctest::scale_shift(Tensor x, float a, float b) -> Tensor   lowered by a test plugin
  t2ctest::broken(Tensor x) -> Tensor                    lowered (badly) by tests/plugins/broken
  mylib::min_max, mylib::weighted_sum, mylib::rms_norm   lowered by examples/more_lowerings

For `verify --reference` it also saves an input of fancy_gelu and the model's outputs for it,
computed here by the Python kernel: fancy_gelu_x.npy, fancy_gelu_y.npy, and fancy_gelu_y_wrong.npy
(the outputs plus 0.5, which verify must reject); and for more_lowerings.pt (input 1x4x16),
more_lowerings_x.npy and more_lowerings_y{0,1,2}.npy.

Usage: make_custom_op_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import torch

MYLIB = torch.library.Library("mylib", "DEF")
MYLIB.define("fancy_gelu(Tensor x) -> Tensor")
MYLIB.impl("fancy_gelu", lambda x: x * torch.sigmoid(1.702 * x), "CPU")

MYLIB.define("min_max(Tensor x, int[] dims) -> (Tensor, Tensor)")
MYLIB.impl("min_max", lambda x, dims: (torch.amin(x, dims), torch.amax(x, dims)), "CPU")
MYLIB.define("weighted_sum(Tensor[] xs, float[] weights) -> Tensor")
MYLIB.impl("weighted_sum", lambda xs, ws: sum(x * w for x, w in zip(xs, ws)), "CPU")
MYLIB.define("rms_norm(Tensor x, Tensor weight, float eps) -> Tensor")
MYLIB.impl("rms_norm",
           lambda x, w, eps: x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w, "CPU")

T2CTEST = torch.library.Library("t2ctest", "DEF")
T2CTEST.define("scale_shift(Tensor x, float a, float b) -> Tensor")
T2CTEST.impl("scale_shift", lambda x, a, b: x * a + b, "CPU")
T2CTEST.define("broken(Tensor x) -> Tensor")
T2CTEST.impl("broken", lambda x: x.clone(), "CPU")


class FancyGelu(torch.nn.Module):
    def forward(self, x):
        y = torch.ops.mylib.fancy_gelu(x)
        return y + 1.0


class ScaleShift(torch.nn.Module):
    def forward(self, x):
        y = torch.ops.t2ctest.scale_shift(x, 2.0, 0.5)
        return y * x


class Broken(torch.nn.Module):
    def forward(self, x):
        y = torch.ops.t2ctest.broken(x)
        return y + x


class MoreLowerings(torch.nn.Module):
    """Two outputs and an int list, a Tensor[] and a float list, a weight of an fp32 op."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.rand(16) + 0.5)

    def forward(self, x):
        low, high = torch.ops.mylib.min_max(x, [-1])
        mixed = torch.ops.mylib.weighted_sum([x, torch.relu(x)], [0.25, 0.75])
        return torch.ops.mylib.rms_norm(mixed, self.weight, 1e-6), low, high


class Plain(torch.nn.Module):
    """Built-in ops only: converts whatever broken plugins sit beside the good ones."""

    def forward(self, x):
        return torch.relu(x) + torch.sigmoid(x)


MODELS = {
    "fancy_gelu": FancyGelu,
    "scale_shift": ScaleShift,
    "broken_op": Broken,
    "plain": Plain,
}


def save(model, path):
    tmp = path + ".tmp"
    model.save(tmp)
    os.chmod(tmp, 0o644)  # readable by the unprivileged user of the permission tests
    os.replace(tmp, path)


def save_npy(path, tensor):
    np.save(path, tensor.detach().numpy())
    os.chmod(path, 0o644)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    os.chmod(out_dir, 0o755)
    x = torch.randn(1, 8)
    for name, cls in MODELS.items():
        model = torch.jit.script(cls().eval())
        model(x)  # the custom kernels run: the model is valid TorchScript
        save(model, os.path.join(out_dir, name + ".pt"))
    x = torch.randn(1, 8, generator=torch.Generator().manual_seed(0))
    y = FancyGelu()(x)
    for name, array in (("x", x), ("y", y), ("y_wrong", y + 0.5)):
        save_npy(os.path.join(out_dir, "fancy_gelu_%s.npy" % name), array)
    torch.manual_seed(0)
    more = MoreLowerings().eval()
    x = torch.randn(1, 4, 16)
    with torch.no_grad():
        save(torch.jit.trace(more, x), os.path.join(out_dir, "more_lowerings.pt"))
        ys = more(x)
    save_npy(os.path.join(out_dir, "more_lowerings_x.npy"), x)
    for k, y in enumerate(ys):
        save_npy(os.path.join(out_dir, "more_lowerings_y%d.npy" % k), y)
    print("made %d models in %s" % (len(MODELS) + 1, out_dir))


if __name__ == "__main__":
    main()
