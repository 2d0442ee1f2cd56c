#!/usr/bin/python3
"""Makes the small models of the precision and coverage tests (issue: coverage, inspect and
keep-FP32 rules). Fixed seeds, no downloads.

  three_unsupported.pt  calls three ops no built-in plugin lowers (lgamma, erfinv, digamma)
  precision_rules.pt    named submodules for --keep-fp32 rules by kind, module path and regex:
                        stem -> enc.layers.{0,1} (attn: Linear, mlp: Linear, norm: LayerNorm)
                        -> head, with a softmax at the end
  underflow.pt          activations scaled by 1e-9 between two Linears: below fp16's range, so
                        an fp16 package's output is all zeros (verify names the cause)
  tiny_constant.pt      x * w + x * v with constants w of values ~1e-9, which fp16 rounds to zero
                        (warned with the amount), and v of normal values but one (not warned)
  large_activations.pt  calibration (convert --calibrate): a layer_norm whose input is scaled
                        by 1e3 and a softmax on logits of order 1e4, whose ranges cross their
                        lowerings' FP16 limits, beside a layer_norm and a softmax of ordinary
                        range that stay within them
  large_reductions.pt   calibration of the norms' and reductions' limits: group_norm,
                        instance_norm, std, sum, mean, a Frobenius norm, a 3-norm, prod (all and
                        over a dim), cumprod, cumsum and cosine_similarity on an input scaled by
                        1e3 (each crossing its limit), and an inf-norm and logsumexp (within
                        theirs), beside the same ops on the input itself
  cancelling_linear.pt  --precision auto's blame: a last Linear whose weights are 1000 plus
                        small values, on [g, -g], so that the 1000s cancel exactly; FP16 rounds
                        the small parts away in that one op, which localize's rule blames
  mil_intermediates.pt  calibration of the vars only the MIL decomposition holds: a cross
                        product of nearly parallel vectors of magnitude ~300 (its products
                        ~1e5, beyond fp16's 65504, cancel to ~1e4) and a lerp between points
                        ~4e4 apart on either side of zero (its end - start reaches ~8e4): every
                        TorchScript value stays inside fp16's range
  mil_intermediates_unit.pt  the same at magnitude ~1: nothing beyond fp16's range
  half_small.pt         a model made half after tracing (`traced.half()`, as users do): conv,
                        batch norm, a Linear, a layer_norm and a softmax with FP16 weights, which
                        LibTorch cannot run on FP32 inputs (calibration runs its FP32 reference)
  half_mixed.pt         the same model with only its head made half (mixed FP16/FP32 weights)

Usage: make_precision_models.py OUT_DIR [MODEL ...]   (default: every model)
"""
import os
import sys

import torch


class ThreeUnsupported(torch.nn.Module):
    def forward(self, x):
        y = torch.lgamma(x * x + 1.0)
        y = torch.erfinv(torch.tanh(y) * 0.5)
        return torch.digamma(y + 2.0)


class Block(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.attn = torch.nn.Linear(d, d)
        self.mlp = torch.nn.Linear(d, d)
        self.norm = torch.nn.LayerNorm(d)

    def forward(self, x):
        x = x + torch.relu(self.attn(x))
        return self.norm(x + self.mlp(x))


class Encoder(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.layers = torch.nn.Sequential(Block(d), Block(d))

    def forward(self, x):
        return self.layers(x)


class PrecisionRules(torch.nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.stem = torch.nn.Linear(d, d)
        self.enc = Encoder(d)
        self.head = torch.nn.Linear(d, 4)

    def forward(self, x):
        return torch.softmax(self.head(self.enc(self.stem(x))), dim=-1)


class Underflow(torch.nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.a = torch.nn.Linear(d, d)
        self.b = torch.nn.Linear(d, d, bias=False)

    def forward(self, x):
        return self.b(torch.relu(self.a(x) * 1e-9))


class TinyConstant(torch.nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.register_buffer("w", torch.rand(d) * 1e-9)
        v = torch.rand(d) + 0.5
        v[0] = 1e-9
        self.register_buffer("v", v)

    def forward(self, x):
        return x * self.w + x * self.v


class LargeActivations(torch.nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.fc = torch.nn.Linear(d, d)
        self.big_norm = torch.nn.LayerNorm(d)
        self.norm = torch.nn.LayerNorm(d)
        self.head = torch.nn.Linear(d, d)

    def forward(self, x):
        h = self.fc(x)
        # Sum of squares over the 16 normalized values ~1e6, beyond FP16's 65504.
        a = self.big_norm(h * 1000.0)
        b = self.norm(h)
        logits = self.head(a + b)
        # Logits of order 1e4: exp(x - max) spans far more than FP16's 24 ln 2.
        return torch.softmax(logits * 3.0e3, dim=-1), torch.softmax(logits, dim=-1)


class LargeReductions(torch.nn.Module):
    def forward(self, x):
        outs = []
        for scale in (1000.0, 1.0):
            # At 1e3: sums of squares over 64 (group) and 16 (spatial) values ~1e7, |x| summed
            # over 128 values ~1e5, all beyond 65504; at 1: within it.
            h = x * scale
            flat = h.flatten(1)
            outs += [torch.nn.functional.group_norm(h, 2),
                     torch.nn.functional.instance_norm(h),
                     h.std(dim=(2, 3)),
                     flat.sum(dim=1),
                     flat.mean(dim=1),
                     torch.norm(h, dim=(2, 3))]
            # Accumulations whose outputs look fine while what they accumulate does not, at 1e3:
            # |x|^3 summed over 16 values ~1e10 under a 3-norm of ~3e3 (its inf-norm, ~3e3,
            # accumulates nothing); products of a and 1 / a, ~1, whose partial products reach
            # ~1e11; running sums of -b, b, b (b: 64 values of |x|), ~5e4 at most, whose runs
            # (b, b) sum to ~1e5; cosine similarities, at most 1, of rows whose squares sum to ~1e7.
            # (Two samples: the sums and products over dims vary, so verify's error relative to
            # each output's range is meaningful.)
            a = h.abs() + 1.0
            pairs = torch.cat([a, 1.0 / a], dim=-1)
            b = flat[:, :64].abs()
            outs += [torch.norm(h, p=3, dim=(2, 3)),
                     torch.linalg.vector_norm(h, ord=float("inf"), dim=(2, 3)),
                     torch.prod(torch.cat([a, 1.0 / a.flip(1)], dim=-1), dim=-1),
                     torch.prod(pairs[:, 0, 0]),
                     torch.cumprod(pairs, dim=-1),
                     torch.cumsum(torch.cat([-b, b, b], dim=1), dim=1),
                     torch.logsumexp(h, dim=-1),
                     torch.cosine_similarity(h, h.flip(1), dim=1)]
        return tuple(outs)


class CancellingLinear(torch.nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.a = torch.nn.Linear(d, d)
        self.b = torch.nn.Linear(d, d)
        self.c = torch.nn.Linear(2 * d, d)
        with torch.no_grad():
            self.c.weight.add_(1000.0)

    def forward(self, x):
        g = torch.relu(self.b(torch.relu(self.a(x))))
        return self.c(torch.cat([g, -g], dim=1))


class MilIntermediates(torch.nn.Module):
    def __init__(self, cross_scale=300.0, lerp_scale=4.0e4):
        super().__init__()
        self.cross_scale = cross_scale
        self.lerp_scale = lerp_scale

    def forward(self, x):
        u, v = x[..., :3], x[..., 3:]
        a = u * self.cross_scale
        b = (u + 0.05 * v) * self.cross_scale
        # cross(a, b) = 0.05 * scale^2 * cross(u, v): its terms a_i * b_j ~ 9e4 * u_i * u_j.
        c = torch.cross(a, b, dim=-1)
        start = torch.tanh(x) * self.lerp_scale
        end = -torch.tanh(x.flip(-1)) * self.lerp_scale
        return c, torch.lerp(start, end, 0.25)


class HalfSmall(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.head = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.LayerNorm(16))

    def forward(self, x):
        h = torch.relu(self.bn(self.conv(x))).mean(dim=(2, 3))
        return torch.softmax(self.head(h), dim=-1)


def make_half(traced):
    return traced.half()


def make_head_half(traced):
    traced.head.half()
    return traced


MODELS = {
    "three_unsupported": (ThreeUnsupported, (1, 8)),
    "precision_rules": (PrecisionRules, (1, 6, 16)),
    "underflow": (Underflow, (1, 16)),
    "tiny_constant": (TinyConstant, (1, 16)),
    "large_activations": (LargeActivations, (1, 6, 16)),
    "large_reductions": (LargeReductions, (2, 8, 4, 4)),
    "cancelling_linear": (CancellingLinear, (1, 16)),
    "mil_intermediates": (MilIntermediates, (1, 32, 6)),
    "mil_intermediates_unit": (lambda: MilIntermediates(1.0, 1.0), (1, 32, 6)),
    "half_small": (HalfSmall, (1, 3, 8, 8)),
    "half_mixed": (HalfSmall, (1, 3, 8, 8)),
}

# Applied after tracing (the tracer runs on the CPU, where LibTorch has no FP16 matmul).
POST = {"half_small": make_half, "half_mixed": make_head_half}


def main(argv):
    if len(argv) < 2 or any(name not in MODELS for name in argv[2:]):
        print(__doc__, file=sys.stderr)
        return 2
    os.makedirs(argv[1], exist_ok=True)
    for name, (factory, shape) in MODELS.items():
        if len(argv) > 2 and name not in argv[2:]:
            continue
        torch.manual_seed(0)
        model = factory().eval()
        with torch.no_grad():
            traced = torch.jit.trace(model, torch.randn(*shape))
        traced = POST.get(name, lambda t: t)(traced)
        path = os.path.join(argv[1], name + ".pt")
        traced.save(path + ".tmp")
        os.replace(path + ".tmp", path)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
