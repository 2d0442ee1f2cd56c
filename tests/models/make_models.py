#!/usr/bin/python3
"""Makes the TorchScript test models: torchvision architectures with weights=None and fixed seeds,
conditioned like trained models so FP16 tests mean something.

Conditioning: BatchNorm running statistics are calibrated on a few batches of random inputs
(train mode, momentum=None gives the cumulative average, no grad), zero-initialised linear heads are
re-drawn from N(0, 0.02), then eval(). Raw random-init torchvision models shrink activations to
~1e-9, which FP16 flushes to zero; calibrated ones keep activations of order one.

Usage: make_models.py OUT_DIR [NAME ...]   (no names: every model)
"""
import json
import os
import sys

import torch
import torchvision


def calibrate(model, shape, batches=4, batch_size=4):
    """Calibrates BatchNorm statistics and re-draws zero linear layers; returns model in eval()."""
    torch.manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            if m.weight.abs().max() == 0:
                torch.nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None and m.bias.abs().max() == 0:
                torch.nn.init.normal_(m.bias, 0.0, 0.02)
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(batch_size, *shape[1:]))
    return model.eval()


class BnAfterConcat(torch.nn.Module):
    """A densenet-like block: batch_norm after a concat cannot be folded into a conv."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.b = torch.nn.Conv2d(3, 8, 1)
        self.bn = torch.nn.BatchNorm2d(16, eps=1e-5)
        self.head = torch.nn.Linear(16, 10)

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x)], 1)
        y = torch.relu(self.bn(y))
        y = torch.nn.functional.adaptive_avg_pool2d(y, (1, 1))
        return torch.softmax(self.head(torch.flatten(y, 1)), dim=1)


def torchvision_model(name):
    def make():
        return getattr(torchvision.models, name)(weights=None)
    return make


# name -> (factory, input shape, post-processing of the traced module)
MODELS = {
    "mobilenet_v3_large": (torchvision_model("mobilenet_v3_large"), (1, 3, 224, 224), None),
    "mobilenet_v2": (torchvision_model("mobilenet_v2"), (1, 3, 224, 224), None),
    "resnet18": (torchvision_model("resnet18"), (1, 3, 224, 224), None),
    # Made half after tracing: FP16 weights, Python-float epsilon (fails in coremltools).
    "mobilenet_v3_large_half": (torchvision_model("mobilenet_v3_large"), (1, 3, 224, 224), "half"),
    "bn_after_concat": (BnAfterConcat, (1, 3, 32, 32), None),
}


def make(name, out_dir):
    factory, shape, post = MODELS[name]
    torch.manual_seed(0)
    model = calibrate(factory(), shape)
    example = torch.randn(*shape)
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
    if post == "half":
        traced = traced.half()
    path = os.path.join(out_dir, name + ".pt")
    tmp = path + ".tmp"
    traced.save(tmp)
    os.replace(tmp, path)
    # Facts the tests check the package against, measured on the eager model.
    facts = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "input_shape": list(shape),
    }
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
    return path


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    names = argv[2:] or list(MODELS)
    for name in names:
        if name not in MODELS:
            print(f"make_models.py: unknown model '{name}'; known: {', '.join(MODELS)}",
                  file=sys.stderr)
            return 2
        print(make(name, out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
