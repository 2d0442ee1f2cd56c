#!/usr/bin/python3
"""Makes the TorchScript test models: torchvision architectures with weights=None and fixed seeds,
conditioned like trained models so FP16 tests mean something.

Conditioning: BatchNorm running statistics are calibrated on a few batches of random inputs
(train mode, momentum=None gives the cumulative average, no grad), zero-initialised linear heads are
re-drawn from N(0, 0.02), then eval(). Raw random-init torchvision models shrink activations to
~1e-9, which FP16 flushes to zero; calibrated ones keep activations of order one.

Each model NAME gives OUT_DIR/NAME.pt and OUT_DIR/NAME.json (facts the tests check: parameters,
input_shape, output_names, group). Models already made by this very script version are kept
(OUT_DIR/.make_models.stamp records the script's hash), so a rerun costs seconds.

Usage:
  make_models.py OUT_DIR [NAME ...] [--jobs N]   make every model (or the named ones)
  make_models.py --list [--group GROUP]          one model per line:
                                                 "NAME SHAPE GROUP OUTPUTS INPUT", e.g.
                                                 "resnet18 1x3x224x224 classifier output_0 x"
                                                 (OUTPUTS comma-separated; GROUP one of
                                                 classifier, segmentation, transformer, test)
"""
import hashlib
import json
import os
import sys

GROUPS = ("classifier", "segmentation", "transformer", "test")


class Spec:
    """One test model: how to build it, its input, its group and how it is traced."""

    def __init__(self, factory, shape, group, outputs=("output_0",), post=None, strict=True,
                 no_grad=False, check_trace=False, input_name="x", cost=1, calib=(4, 4)):
        self.factory = factory
        self.input_name = input_name  # the forward() argument, for --input NAME:SHAPE
        self.shape = shape
        self.group = group
        self.outputs = outputs
        self.post = post          # "half": made half after tracing
        self.strict = strict      # strict=False for dict outputs
        self.no_grad = no_grad    # traced under torch.no_grad() (PyTorch's fused fast paths)
        self.check_trace = check_trace  # off: tests compare with LibTorch (verify) instead
        self.cost = cost  # relative time to make, to start the slow ones first
        self.calib = calib  # BatchNorm calibration: (batches, batch size)


def calibrate(model, shape, batches=4, batch_size=4):
    """Calibrates BatchNorm statistics and re-draws zero linear layers; returns model in eval()."""
    import torch
    torch.manual_seed(0)
    has_bn = False
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            if m.weight.abs().max() == 0:
                torch.nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None and m.bias.abs().max() == 0:
                torch.nn.init.normal_(m.bias, 0.0, 0.02)
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
            has_bn = True
    if has_bn:
        model.train()
        with torch.no_grad():
            for _ in range(batches):
                model(torch.randn(batch_size, *shape[1:]))
    return model.eval()


def bn_after_concat():
    import torch

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

    return BnAfterConcat()


def inplace_residual():
    import torch

    class Block(torch.nn.Module):
        """A resnet basic block: in-place residual add_ and relu_ (their outputs are unnamed)."""

        def __init__(self, c):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn1 = torch.nn.BatchNorm2d(c)
            self.conv2 = torch.nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn2 = torch.nn.BatchNorm2d(c)
            self.relu = torch.nn.ReLU(inplace=True)

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += x
            return self.relu(out)

    class InplaceResidual(torch.nn.Module):
        """Stem, four same-shape in-place residual blocks, 1x1 head: verify --localize must
        compare each TorchScript value with the package's, not with another of the same shape."""

        def __init__(self, c=8):
            super().__init__()
            self.stem = torch.nn.Sequential(torch.nn.Conv2d(3, c, 3, padding=1, bias=False),
                                            torch.nn.BatchNorm2d(c), torch.nn.ReLU(inplace=True))
            self.blocks = torch.nn.Sequential(*[Block(c) for _ in range(4)])
            self.head = torch.nn.Conv2d(c, 4, 1)

        def forward(self, x):
            return self.head(self.blocks(self.stem(x)))

    return InplaceResidual()


def transformer_classifier():
    """nn.TransformerEncoder (d_model 128, 4 heads, 2 layers), mean over tokens, linear head."""
    import torch

    class TransformerClassifier(torch.nn.Module):
        def __init__(self, d_model=128, heads=4, layers=2, classes=10):
            super().__init__()
            layer = torch.nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=4 * d_model,
                                                     batch_first=True)
            self.encoder = torch.nn.TransformerEncoder(layer, layers)
            self.head = torch.nn.Linear(d_model, classes)

        def forward(self, x):
            return self.head(self.encoder(x).mean(dim=1))

    return TransformerClassifier()


def torchvision_model(name, **kwargs):
    def make():
        import torchvision
        return getattr(torchvision.models, name)(weights=None, **kwargs)
    return make


def segmentation_model(name):
    def make():
        import torchvision
        return getattr(torchvision.models.segmentation, name)(weights=None,
                                                              weights_backbone=None)
    return make


_224 = (1, 3, 224, 224)
_SEG = (1, 3, 256, 256)
_NO_AUX = {"aux_logits": False, "init_weights": False}

# name -> Spec. Names are stable: other tests use them.
MODELS = {
    "mobilenet_v3_large": Spec(torchvision_model("mobilenet_v3_large"), _224, "classifier"),
    "mobilenet_v3_small": Spec(torchvision_model("mobilenet_v3_small"), _224, "classifier"),
    "mobilenet_v2": Spec(torchvision_model("mobilenet_v2"), _224, "classifier"),
    "resnet18": Spec(torchvision_model("resnet18"), _224, "classifier"),
    "resnet50": Spec(torchvision_model("resnet50"), _224, "classifier"),
    "efficientnet_b0": Spec(torchvision_model("efficientnet_b0"), _224, "classifier"),
    "efficientnet_v2_s": Spec(torchvision_model("efficientnet_v2_s"), _224, "classifier"),
    "squeezenet1_1": Spec(torchvision_model("squeezenet1_1"), _224, "classifier"),
    "shufflenet_v2_x1_0": Spec(torchvision_model("shufflenet_v2_x1_0"), _224, "classifier"),
    "regnet_y_400mf": Spec(torchvision_model("regnet_y_400mf"), _224, "classifier"),
    "convnext_tiny": Spec(torchvision_model("convnext_tiny"), _224, "classifier"),
    "vit_b_16": Spec(torchvision_model("vit_b_16"), _224, "classifier", cost=4),
    "swin_t": Spec(torchvision_model("swin_t"), _224, "classifier", cost=3),
    "maxvit_t": Spec(torchvision_model("maxvit_t"), _224, "classifier", cost=4),
    "densenet121": Spec(torchvision_model("densenet121"), _224, "classifier"),
    "googlenet": Spec(torchvision_model("googlenet", **_NO_AUX), _224, "classifier"),
    "inception_v3": Spec(torchvision_model("inception_v3", **_NO_AUX), (1, 3, 299, 299),
                         "classifier"),
    "mnasnet1_0": Spec(torchvision_model("mnasnet1_0"), _224, "classifier"),
    "alexnet": Spec(torchvision_model("alexnet"), _224, "classifier"),
    "vgg11": Spec(torchvision_model("vgg11"), _224, "classifier"),
    # Dict outputs: the package's outputs take the dict's keys as names.
    "fcn_resnet50": Spec(segmentation_model("fcn_resnet50"), _SEG, "segmentation",
                         outputs=("out",), strict=False, cost=10,
                         calib=(2, 2)),
    "deeplabv3_mobilenet_v3_large": Spec(segmentation_model("deeplabv3_mobilenet_v3_large"), _SEG,
                                         "segmentation", outputs=("out",), strict=False,
                                         cost=3, calib=(2, 2)),
    "lraspp_mobilenet_v3_large": Spec(segmentation_model("lraspp_mobilenet_v3_large"), _SEG,
                                      "segmentation", outputs=("out",), strict=False,
                                      input_name="input", calib=(2, 2)),
    "transformer_encoder": Spec(transformer_classifier, (1, 32, 128), "transformer"),
    # Under no_grad PyTorch takes its fused paths: aten::_transformer_encoder_layer_fwd and
    # aten::_native_multi_head_attention appear in the traced graphs.
    "transformer_encoder_fused": Spec(transformer_classifier, (1, 32, 128), "transformer",
                                      no_grad=True),
    "vit_b_16_fused": Spec(torchvision_model("vit_b_16"), _224, "transformer", no_grad=True,
                           cost=4),
    # Made half after tracing: FP16 weights, Python-float epsilon (fails in coremltools).
    "mobilenet_v3_large_half": Spec(torchvision_model("mobilenet_v3_large"), _224, "test",
                                    post="half"),
    "bn_after_concat": Spec(bn_after_concat, (1, 3, 32, 32), "test"),
    "inplace_residual": Spec(inplace_residual, (1, 3, 32, 32), "test"),
}


def shape_text(shape):
    return "x".join(str(d) for d in shape)


def make(name, out_dir):
    """Makes NAME.pt and NAME.json in out_dir; returns the .pt path."""
    import contextlib

    import torch
    torch.set_num_threads(1)
    spec = MODELS[name]
    torch.manual_seed(0)
    model = calibrate(spec.factory(), spec.shape, *spec.calib)
    example = torch.randn(*spec.shape)
    grad = torch.no_grad() if spec.no_grad else contextlib.nullcontext()
    with grad:
        traced = torch.jit.trace(model, example, strict=spec.strict,
                                 check_trace=spec.check_trace)
    with torch.no_grad():
        result = traced(example)
    if spec.post == "half":
        traced = traced.half()
    if isinstance(result, dict):
        outputs = list(result.keys())
    elif isinstance(result, (tuple, list)):
        outputs = [f"output_{i}" for i in range(len(result))]
    else:
        outputs = ["output_0"]
    if list(outputs) != list(spec.outputs):
        raise RuntimeError(f"{name}: outputs {outputs}, the model list says {list(spec.outputs)}")
    arg = traced.forward.schema.arguments[1].name
    if arg != spec.input_name:
        raise RuntimeError(f"{name}: forward() takes '{arg}', the model list says "
                           f"'{spec.input_name}'")
    path = os.path.join(out_dir, name + ".pt")
    tmp = path + ".tmp"
    traced.save(tmp)
    os.replace(tmp, path)
    # Facts the tests check the package against, measured on the eager model.
    facts = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "input_shape": list(spec.shape),
        "output_names": outputs,
        "input_name": spec.input_name,
        "group": spec.group,
    }
    tmp = os.path.join(out_dir, name + ".json.tmp")
    with open(tmp, "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
    os.replace(tmp, os.path.join(out_dir, name + ".json"))
    return path


def _make_one(args):
    name, out_dir = args
    return make(name, out_dir)


def script_hash():
    with open(os.path.abspath(__file__), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def is_current(name, out_dir, stamp):
    return (stamp == script_hash() and os.path.exists(os.path.join(out_dir, name + ".pt")) and
            os.path.exists(os.path.join(out_dir, name + ".json")))


def print_list(group):
    for name, spec in MODELS.items():
        if group and spec.group != group:
            continue
        print(name, shape_text(spec.shape), spec.group, ",".join(spec.outputs), spec.input_name)


def main(argv):
    args = argv[1:]
    if "--list" in args:
        group = None
        if "--group" in args:
            i = args.index("--group")
            if i + 1 >= len(args) or args[i + 1] not in GROUPS:
                print(f"make_models.py: --group needs one of {', '.join(GROUPS)}", file=sys.stderr)
                return 2
            group = args[i + 1]
        print_list(group)
        return 0
    jobs = 2
    if "--jobs" in args:
        i = args.index("--jobs")
        if i + 1 >= len(args) or not args[i + 1].isdigit() or int(args[i + 1]) < 1:
            print("make_models.py: --jobs needs a positive number", file=sys.stderr)
            return 2
        jobs = int(args[i + 1])
        del args[i:i + 2]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = args[0]
    os.makedirs(out_dir, exist_ok=True)
    names = args[1:] or list(MODELS)
    for name in names:
        if name not in MODELS:
            print(f"make_models.py: unknown model '{name}'; known: {', '.join(MODELS)}",
                  file=sys.stderr)
            return 2
    stamp_path = os.path.join(out_dir, ".make_models.stamp")
    stamp = open(stamp_path).read().strip() if os.path.exists(stamp_path) else ""
    todo = [n for n in names if not is_current(n, out_dir, stamp)]
    todo.sort(key=lambda n: -MODELS[n].cost)
    for n in names:
        if n not in todo:
            print(os.path.join(out_dir, n + ".pt"), "(current)")
    if stamp != script_hash():
        # Models made by another version of this script are stale: remake every one asked for,
        # and only then record this version (a failure leaves no stamp).
        if os.path.exists(stamp_path):
            os.remove(stamp_path)
    if todo:
        # Slowest first so the pool stays busy; a fresh process per model keeps memory bounded.
        import multiprocessing
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(min(jobs, len(todo)), maxtasksperchild=1) as pool:
            for path in pool.imap_unordered(_make_one, [(n, out_dir) for n in todo]):
                print(path, flush=True)
    if set(names) == set(MODELS) or stamp == script_hash():
        with open(stamp_path + ".tmp", "w") as f:
            f.write(script_hash() + "\n")
        os.replace(stamp_path + ".tmp", stamp_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
