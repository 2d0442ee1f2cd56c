#!/usr/bin/python3
"""Makes the TorchScript models of the plugin tests: models calling custom ops that only plugins
know about (nothing in the converter core names them).

Python must know an op to script and save a model calling it, so each op is defined here with
torch.library and a CPU kernel; the saved file records only the op's name. LibTorch in the
converter can load it only after a plugin declares the op's full schema.

  mylib::fancy_gelu(Tensor x) -> Tensor                  lowered by examples/fancy_gelu_plugin
  t2ctest::scale_shift(Tensor x, float a, float b) -> Tensor   lowered by a test plugin
  t2ctest::broken(Tensor x) -> Tensor                    lowered (badly) by tests/plugins/broken

Usage: make_custom_op_models.py OUT_DIR
"""
import os
import sys

import torch

MYLIB = torch.library.Library("mylib", "DEF")
MYLIB.define("fancy_gelu(Tensor x) -> Tensor")
MYLIB.impl("fancy_gelu", lambda x: x * torch.sigmoid(1.702 * x), "CPU")

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
        path = os.path.join(out_dir, name + ".pt")
        tmp = path + ".tmp"
        model.save(tmp)
        os.chmod(tmp, 0o644)  # readable by the unprivileged user of the permission tests
        os.replace(tmp, path)
    print("made %d models in %s" % (len(MODELS), out_dir))


if __name__ == "__main__":
    main()
