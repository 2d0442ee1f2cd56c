"""In-context test models: each op family inside the kind of model it is used in, small (few
layers, narrow widths, small inputs) so that the whole list converts and verifies in seconds.

The list is an op-sweep family (tests/ops/op_cases.py: Case, Input): make_op_models.py makes it
(the `make_in_context_models` fixture, OUT/in_context/), op_sweep_test converts every model in
fp32 and fp16 and verifies it against LibTorch with verify's default tolerances, all in one
process (the `models_in_context` test), and scripts/coverage_table.py tabulates it beside the
torchvision models in docs/coverage.md.

Conditioning, as tests/models/make_models.py does for the torchvision models: fixed seeds,
BatchNorm statistics calibrated on random batches, so activations stay of order one and FP16
tests mean something. Integer inputs (token ids) are drawn below the vocabulary size; masks and
timesteps are given as values.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from op_cases import Case, Input

VOCAB = 100
SEQ = 16


def calibrated(model, *shapes, batches=3):
    """`model` with its BatchNorm statistics calibrated on random inputs of `shapes` (batch 4),
    in eval() mode."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    if norms:
        model.train()
        with torch.no_grad():
            for _ in range(batches):
                model(*[torch.randn(4, *s[1:]) for s in shapes])
    return model.eval()


# --- text: BERT, GPT, CLIP ------------------------------------------------------------------------


class BertLayer(nn.Module):
    """Post-norm encoder layer: multi-head attention with an additive mask, GELU FFN."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.scale = 1.0 / math.sqrt(d // heads)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d, eps=1e-12)
        self.ff1 = nn.Linear(d, 4 * d)
        self.ff2 = nn.Linear(4 * d, d)
        self.ln2 = nn.LayerNorm(d, eps=1e-12)

    def forward(self, x, mask):
        b, n, d = x.shape
        h = self.heads
        q, k, v = self.qkv(x).view(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4).unbind(0)
        scores = torch.matmul(q, k.transpose(-1, -2)) * self.scale + mask
        a = torch.matmul(scores.softmax(-1), v).transpose(1, 2).reshape(b, n, d)
        x = self.ln1(x + self.out(a))
        return self.ln2(x + self.ff2(F.gelu(self.ff1(x))))


class Bert(nn.Module):
    """BERT-style encoder fed int64 token ids and an int64 attention mask (1: token, 0: padding):
    word + position + token-type embeddings, LayerNorm, two layers, tanh pooler on [CLS]."""

    def __init__(self, d=32, heads=2, layers=2):
        super().__init__()
        self.word = nn.Embedding(VOCAB, d)
        self.pos = nn.Embedding(SEQ, d)
        self.token_type = nn.Embedding(2, d)
        self.register_buffer("position_ids", torch.arange(SEQ).unsqueeze(0))
        self.ln = nn.LayerNorm(d, eps=1e-12)
        self.layers = nn.ModuleList(BertLayer(d, heads) for _ in range(layers))
        self.pool = nn.Linear(d, d)

    def forward(self, ids, attention_mask):
        n = ids.shape[1]
        x = self.word(ids) + self.pos(self.position_ids[:, :n]) + self.token_type(torch.zeros_like(ids))
        x = self.ln(x)
        mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask)
        return x, torch.tanh(self.pool(x[:, 0]))


class GptBlock(nn.Module):
    """Pre-norm decoder block: causal attention through aten::_scaled_dot_product_attention with
    a bool mask (True: attend), GELU (tanh) MLP."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.fc_out = nn.Linear(4 * d, d)

    def forward(self, x, causal):
        b, n, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (t.view(b, n, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        a = torch.ops.aten._scaled_dot_product_attention(q, k, v, causal, 0.0, False, False)[0]
        x = x + self.proj(a.transpose(1, 2).reshape(b, n, d))
        return x + self.fc_out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Gpt(nn.Module):
    """GPT-style decoder: token + learned position embeddings, a registered tril bool buffer as
    the causal mask, final LayerNorm, lm head tied to the token embedding; returns logits."""

    def __init__(self, d=32, heads=2, layers=2):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, d)
        self.wpe = nn.Embedding(SEQ, d)
        self.register_buffer("causal", torch.tril(torch.ones(SEQ, SEQ, dtype=torch.bool)))
        self.blocks = nn.ModuleList(GptBlock(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, VOCAB, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, ids):
        n = ids.shape[1]
        x = self.wte(ids) + self.wpe(torch.arange(n, device=ids.device))
        causal = self.causal[:n, :n]
        for block in self.blocks:
            x = block(x, causal)
        return self.lm_head(self.ln_f(x))


class ClipLayer(nn.Module):
    """CLIP's residual attention block: pre-norm nn.MultiheadAttention with a float causal mask,
    quick-GELU MLP."""

    def __init__(self, d, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.c_proj = nn.Linear(4 * d, d)

    def forward(self, x, mask):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=mask)[0]
        h = self.c_fc(self.ln_2(x))
        return x + self.c_proj(h * torch.sigmoid(1.702 * h))


class ClipText(nn.Module):
    """CLIP-style text tower: causal mask built as CLIP does (empty, fill_ -inf, triu_(1)),
    final LayerNorm, the end-of-text token (the largest id) pooled with
    x[torch.arange(B), ids.argmax(-1)], projection."""

    def __init__(self, d=32, heads=2, layers=2, embed=16):
        super().__init__()
        self.token_embedding = nn.Embedding(VOCAB, d)
        self.positional_embedding = nn.Parameter(torch.randn(SEQ, d) * 0.01)
        self.layers = nn.ModuleList(ClipLayer(d, heads) for _ in range(layers))
        self.ln_final = nn.LayerNorm(d)
        self.text_projection = nn.Parameter(torch.randn(d, embed) * d ** -0.5)

    def forward(self, ids):
        n = ids.shape[1]
        mask = torch.empty(n, n).fill_(float("-inf")).triu_(1)
        x = self.token_embedding(ids) + self.positional_embedding[:n]
        for layer in self.layers:
            x = layer(x, mask)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), ids.argmax(dim=-1)] @ self.text_projection


# --- vision: YOLO neck, super-resolution, UNet block, depth decoder, STN, MobileViT -------------


def conv_bn_silu(cin, cout, k=1, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.SiLU())


class C2f(nn.Module):
    """YOLOv8's C2f: 1x1 conv, chunk in two, a bottleneck chain, cat, 1x1 conv."""

    def __init__(self, cin, cout):
        super().__init__()
        self.c = cout // 2
        self.cv1 = conv_bn_silu(cin, 2 * self.c)
        self.m = nn.Sequential(conv_bn_silu(self.c, self.c, 3), conv_bn_silu(self.c, self.c, 3))
        self.cv2 = conv_bn_silu(3 * self.c, cout)

    def forward(self, x):
        a, b = self.cv1(x).chunk(2, 1)
        return self.cv2(torch.cat([a, b, self.m(b)], 1))


class YoloNeck(nn.Module):
    """A tiny backbone (P3, P4, P5) and a YOLOv8-style PAN neck: nearest upsample by scale
    factor 2, cat, C2f (chunk), strided SiLU convs back down, split of the P5 head."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn_silu(3, 8, 3, 2)
        self.p3 = conv_bn_silu(8, 16, 3, 2)
        self.p4 = conv_bn_silu(16, 16, 3, 2)
        self.p5 = conv_bn_silu(16, 16, 3, 2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.td4 = C2f(32, 16)
        self.td3 = C2f(32, 8)
        self.down3 = conv_bn_silu(8, 8, 3, 2)
        self.bu4 = C2f(24, 16)
        self.down4 = conv_bn_silu(16, 16, 3, 2)
        self.bu5 = C2f(32, 16)
        self.head = nn.Conv2d(16, 12, 1)

    def forward(self, x):
        p3 = self.p3(self.stem(x))
        p4 = self.p4(p3)
        p5 = self.p5(p4)
        t4 = self.td4(torch.cat([self.up(p5), p4], 1))
        n3 = self.td3(torch.cat([self.up(t4), p3], 1))
        n4 = self.bu4(torch.cat([self.down3(n3), t4], 1))
        n5 = self.bu5(torch.cat([self.down4(n4), p5], 1))
        box, cls = self.head(n5).split([4, 8], 1)
        return n3, n4, box, cls.sigmoid()


class SuperResolution(nn.Module):
    """ESPCN-style x2 super-resolution: convs, pixel_shuffle, clamp to [0, 1]."""

    def __init__(self, scale=2):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 5, padding=2)
        self.c2 = nn.Conv2d(16, 8, 3, padding=1)
        self.c3 = nn.Conv2d(8, 3 * scale * scale, 3, padding=1)
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x):
        y = torch.tanh(self.c1(x))
        y = torch.tanh(self.c2(y))
        return torch.clamp(self.shuffle(self.c3(y)) + 0.5, 0.0, 1.0)


def timestep_embedding(t, dim, max_period=10000.0):
    """Sinusoidal embedding of float timesteps t [B] -> [B, dim] (diffusers' get_timestep_embedding
    with flip_sin_to_cos)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class UnetBlock(nn.Module):
    """A diffusion UNet block: resnet block (group_norm, SiLU, conv, timestep embedding added,
    skip) and a self-attention block whose scores come from
    torch.baddbmm(torch.empty(...), q, k, beta=0, alpha=scale) as diffusers computes them,
    softmax, bmm, residual."""

    def __init__(self, c=16, groups=4, tdim=16, heads=2):
        super().__init__()
        self.heads = heads
        self.tdim = tdim
        self.t_mlp = nn.Sequential(nn.Linear(tdim, 32), nn.SiLU(), nn.Linear(32, 32))
        self.conv_in = nn.Conv2d(4, c, 3, padding=1)
        self.norm1 = nn.GroupNorm(groups, c)
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.t_proj = nn.Linear(32, c)
        self.norm2 = nn.GroupNorm(groups, c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.attn_norm = nn.GroupNorm(groups, c, eps=1e-6)
        self.to_q = nn.Linear(c, c)
        self.to_k = nn.Linear(c, c)
        self.to_v = nn.Linear(c, c)
        self.to_out = nn.Linear(c, c)
        self.conv_out = nn.Conv2d(c, 4, 3, padding=1)

    def heads_first(self, x):
        b, n, c = x.shape
        return x.view(b, n, self.heads, c // self.heads).transpose(1, 2).reshape(
            b * self.heads, n, c // self.heads)

    def attention(self, x):
        b, c, h, w = x.shape
        y = self.attn_norm(x).view(b, c, h * w).transpose(1, 2)
        q, k, v = (self.heads_first(f(y)) for f in (self.to_q, self.to_k, self.to_v))
        empty = torch.empty(q.shape[0], q.shape[1], k.shape[1], dtype=q.dtype)
        scale = (c // self.heads) ** -0.5
        scores = torch.baddbmm(empty, q, k.transpose(-1, -2), beta=0, alpha=scale)
        o = torch.bmm(scores.softmax(dim=-1), v)
        o = o.view(b, self.heads, h * w, c // self.heads).transpose(1, 2).reshape(b, h * w, c)
        return x + self.to_out(o).transpose(1, 2).reshape(b, c, h, w)

    def forward(self, x, timestep):
        temb = self.t_mlp(timestep_embedding(timestep, self.tdim))
        x = self.conv_in(x)
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.t_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        x = self.attention(x + h)
        return self.conv_out(F.silu(x))


class DepthDecoder(nn.Module):
    """Monodepth-style: strided conv encoder, decoder upsampling x2 bilinear (align_corners True
    at one stage, False at the others) with skip convs, sigmoid disparity."""

    def __init__(self):
        super().__init__()
        self.e1 = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU())
        self.e2 = nn.Sequential(nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU())
        self.e3 = nn.Sequential(nn.Conv2d(16, 16, 3, 2, 1), nn.ReLU())
        self.d3 = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1), nn.ELU())
        self.s2 = nn.Conv2d(16, 16, 1)
        self.d2 = nn.Sequential(nn.Conv2d(32, 8, 3, 1, 1), nn.ELU())
        self.s1 = nn.Conv2d(8, 8, 1)
        self.d1 = nn.Sequential(nn.Conv2d(16, 8, 3, 1, 1), nn.ELU())
        self.disp = nn.Conv2d(8, 1, 3, 1, 1)

    def forward(self, x):
        f1 = self.e1(x)
        f2 = self.e2(f1)
        f3 = self.e3(f2)
        y = F.interpolate(self.d3(f3), scale_factor=2, mode="bilinear", align_corners=True)
        y = self.d2(torch.cat([y, self.s2(f2)], 1))
        y = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
        y = self.d1(torch.cat([y, self.s1(f1)], 1))
        y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
        return torch.sigmoid(self.disp(y))


class SpatialTransformer(nn.Module):
    """A spatial transformer network: localisation convs -> linear -> affine theta (near the
    identity) -> F.affine_grid + F.grid_sample, then a small classifier."""

    def __init__(self):
        super().__init__()
        self.loc = nn.Sequential(nn.Conv2d(1, 8, 5), nn.MaxPool2d(2), nn.ReLU(),
                                 nn.Conv2d(8, 8, 5), nn.MaxPool2d(2), nn.ReLU())
        self.fc_loc = nn.Sequential(nn.Linear(8 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, 6))
        with torch.no_grad():
            self.fc_loc[2].weight.mul_(0.1)
            self.fc_loc[2].bias.copy_(torch.tensor([1.0, 0.1, 0.05, -0.1, 0.9, 0.0]))
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 14 * 14, 10)

    def forward(self, x):
        theta = self.fc_loc(self.loc(x).flatten(1)).view(-1, 2, 3)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        y = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(y.flatten(1)), theta


class MobileVitBlock(nn.Module):
    """MobileViT block: local 3x3 and 1x1 convs, 2x2 patches unfolded with F.unfold into
    sequences per patch position, a transformer layer, F.fold back, 1x1 conv, cat with the input,
    3x3 fusion conv."""

    def __init__(self, c=8, d=16, patch=2, heads=2):
        super().__init__()
        self.p = patch
        self.local = nn.Sequential(conv_bn_silu(c, c, 3), nn.Conv2d(c, d, 1, bias=False))
        self.transformer = nn.TransformerEncoderLayer(d, heads, 2 * d, dropout=0.0,
                                                      activation="gelu", batch_first=True,
                                                      norm_first=True)
        self.ln = nn.LayerNorm(d)
        self.proj = conv_bn_silu(d, c)
        self.fusion = conv_bn_silu(2 * c, c, 3)

    def forward(self, x):
        b, _, h, w = x.shape
        y = self.local(x)
        d = y.shape[1]
        p = self.p
        # [B, d*p*p, N] -> [B*p*p, N, d]: one sequence of N patches per pixel of the patch.
        cols = F.unfold(y, kernel_size=p, stride=p)
        n = cols.shape[-1]
        seq = cols.reshape(b, d, p * p, n).permute(0, 2, 3, 1).reshape(b * p * p, n, d)
        seq = self.ln(self.transformer(seq))
        cols = seq.reshape(b, p * p, n, d).permute(0, 3, 1, 2).reshape(b, d * p * p, n)
        y = F.fold(cols, output_size=(h, w), kernel_size=p, stride=p)
        return self.fusion(torch.cat([x, self.proj(y)], 1))


class MobileVit(nn.Module):
    """Stem conv, a MobileViT block, pooled linear head."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn_silu(3, 8, 3, 2)
        self.block = MobileVitBlock()
        self.head = nn.Linear(8, 10)

    def forward(self, x):
        y = self.block(self.stem(x))
        return self.head(F.adaptive_avg_pool2d(y, 1).flatten(1))


# --- vision, user style: YOLOv5 head, UNet, StyleGAN modulated conv, PointNet, GNN, flow warp ---


class YoloV5Detect(nn.Module):
    """YOLOv5's Detect head on two levels: 1x1 convs, view/permute, sigmoid, split, a grid from
    meshgrid(arange) minus 0.5, (2 * wh) ** 2 times the anchor grid, stride multiply, cat."""

    def __init__(self, nc=4, ch=(8, 16), strides=(8.0, 16.0)):
        super().__init__()
        self.no, self.na = nc + 5, 3
        anchors = torch.tensor([[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119]]).float()
        self.register_buffer("anchors", anchors.view(len(ch), self.na, 2))
        self.stride = strides
        self.m = nn.ModuleList(nn.Conv2d(c, self.no * self.na, 1) for c in ch)

    def grids(self, nx, ny, i):
        shape = 1, self.na, ny, nx, 2
        yv, xv = torch.meshgrid(torch.arange(ny).float(), torch.arange(nx).float(), indexing="ij")
        grid = torch.stack((xv, yv), 2).expand(shape) - 0.5
        anchor_grid = (self.anchors[i] * self.stride[i]).view(1, self.na, 1, 1, 2).expand(shape)
        return grid, anchor_grid

    def forward(self, p3, p4):
        z = []
        for i, x in enumerate((p3, p4)):
            x = self.m[i](x)
            bs, _, ny, nx = x.shape
            x = x.view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            grid, anchor_grid = self.grids(nx, ny, i)
            xy, wh, conf = x.sigmoid().split((2, 2, self.no - 4), 4)
            xy = (xy * 2 + grid) * self.stride[i]
            wh = (wh * 2) ** 2 * anchor_grid
            z.append(torch.cat((xy, wh, conf), 4).view(bs, self.na * nx * ny, self.no))
        return torch.cat(z, 1)


class UNetOddSizes(nn.Module):
    """A UNet on an odd-sized image: ConvTranspose2d up, F.pad to the skip's size (sizes read with
    size()), F.interpolate to another tensor's size (bilinear, align_corners True and False,
    nearest-exact, bicubic) and by scale factor (0.5, 1.5 nearest)."""

    def __init__(self):
        super().__init__()
        self.e1 = nn.Conv2d(3, 8, 3, padding=1)
        self.e2 = nn.Conv2d(8, 16, 3, 2, 1)
        self.e3 = nn.Conv2d(16, 16, 3, 2, 1)
        self.up = nn.ConvTranspose2d(16, 16, 2, 2)
        self.d1 = nn.Conv2d(32, 8, 3, padding=1)
        self.d2 = nn.Conv2d(16, 8, 3, padding=1)
        self.out = nn.Conv2d(32, 2, 1)

    def forward(self, x):
        f1 = F.relu(self.e1(x))
        f2 = F.relu(self.e2(f1))
        f3 = F.relu(self.e3(f2))
        u = self.up(f3)
        dy, dx = f2.size(2) - u.size(2), f2.size(3) - u.size(3)
        u = F.pad(u, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        y = F.relu(self.d1(torch.cat([u, f2], 1)))
        y = F.interpolate(y, size=f1.shape[2:], mode="bilinear", align_corners=True)
        y = F.relu(self.d2(torch.cat([y, f1], 1)))
        a = F.interpolate(y, scale_factor=0.5, mode="bilinear", align_corners=False)
        a = F.interpolate(a, size=(y.size(2), y.size(3)), mode="nearest-exact")
        b = F.interpolate(F.interpolate(y, scale_factor=1.5, mode="nearest"), size=y.shape[-2:],
                          mode="bilinear", align_corners=False)
        c = F.interpolate(f3, size=y.shape[-2:], mode="bicubic", align_corners=False)[:, :8]
        return self.out(torch.cat([y, a, b, c], 1))


class ModulatedConv(nn.Module):
    """StyleGAN2's modulated conv: per-sample weights from a style vector at run time,
    demodulated, applied as one grouped conv2d (groups = batch) with the run-time weight."""

    def __init__(self, cin=8, cout=8, k=3, sdim=16):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k) / math.sqrt(cin * k * k))
        self.affine = nn.Linear(sdim, cin)
        self.cout, self.k = cout, k

    def forward(self, x, style):
        b, c, h, w = x.shape
        weight = self.weight[None] * (self.affine(style) + 1.0)[:, None, :, None, None]
        weight = weight * torch.rsqrt((weight ** 2).sum([2, 3, 4]) + 1e-8)[:, :, None, None, None]
        y = F.conv2d(x.reshape(1, b * c, h, w),
                     weight.reshape(b * self.cout, c, self.k, self.k), padding=1, groups=b)
        return F.leaky_relu(y.reshape(b, self.cout, h, w), 0.2)


class PointNet(nn.Module):
    """PointNet: a learned 3x3 input transform (max over points, linear, plus torch.eye), bmm,
    shared 1x1 conv1d MLP with BatchNorm1d, global max over points, log_softmax."""

    def __init__(self, classes=10):
        super().__init__()
        self.t1 = nn.Conv1d(3, 16, 1)
        self.t2 = nn.Conv1d(16, 32, 1)
        self.tf = nn.Linear(32, 9)
        self.c1 = nn.Conv1d(3, 16, 1)
        self.bn1 = nn.BatchNorm1d(16)
        self.c2 = nn.Conv1d(16, 32, 1)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        b = x.size(0)
        t = torch.max(F.relu(self.t2(F.relu(self.t1(x)))), 2, keepdim=True)[0].view(-1, 32)
        t = self.tf(t).view(-1, 3, 3) + torch.eye(3).view(1, 9).repeat(b, 1).view(-1, 3, 3)
        x = torch.bmm(x.transpose(2, 1), t).transpose(2, 1)
        x = self.c2(F.relu(self.bn1(self.c1(x))))
        return F.log_softmax(self.fc(torch.max(x, 2)[0]), dim=1), t


class GraphConv(nn.Module):
    """A message-passing layer over a constant edge index: gather source features, index_add and
    scatter_add into destinations, mean by in-degree (scatter_add of ones), residual."""

    def __init__(self, nodes=6, d=8):
        super().__init__()
        self.register_buffer("edge", torch.tensor([[0, 1, 2, 3, 4, 5, 0, 2],
                                                   [1, 2, 3, 4, 5, 0, 3, 5]]))
        self.lin = nn.Linear(d, d)
        self.nodes = nodes

    def forward(self, x):
        src, dst = self.edge[0], self.edge[1]
        msg = self.lin(x)[src]
        summed = torch.zeros_like(x).index_add(0, dst, msg)
        deg = torch.zeros(self.nodes).scatter_add(0, dst, torch.ones(dst.shape[0]))
        scattered = torch.zeros_like(x).scatter_add(0, dst[:, None].expand(-1, x.size(1)), msg)
        return summed / deg.clamp(min=1)[:, None] + scattered + x


class FlowWarp(nn.Module):
    """Optical-flow style warp: a flow predicted by a conv is added to a base grid built from
    meshgrid(arange), normalized to [-1, 1], and the image is resampled with F.grid_sample
    bicubic (border padding, align_corners True) and bilinear (reflection)."""

    def __init__(self):
        super().__init__()
        self.flow = nn.Conv2d(6, 2, 3, padding=1)

    def forward(self, a, b):
        n, _, h, w = a.shape
        flow = self.flow(torch.cat([a, b], 1))
        ys, xs = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
        x = (xs[None] + flow[:, 0]) * (2.0 / (w - 1)) - 1.0
        y = (ys[None] + flow[:, 1]) * (2.0 / (h - 1)) - 1.0
        grid = torch.stack([x, y], -1)
        cubic = F.grid_sample(b, grid, mode="bicubic", padding_mode="border", align_corners=True)
        linear = F.grid_sample(b, grid, mode="bilinear", padding_mode="reflection",
                               align_corners=True)
        return cubic, linear


def r3d_18():
    import torchvision
    return torchvision.models.video.r3d_18(weights=None)


def _mask_values():
    m = torch.ones(1, SEQ, dtype=torch.int64)
    m[0, 12:] = 0  # the last four tokens are padding
    return m.numpy()


def _clip_ids():
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(1, VOCAB - 1, (1, SEQ), generator=g)
    ids[0, 11] = VOCAB - 1  # the end-of-text token: the largest id, once
    return ids.numpy()


# --- sequence models: taggers, seq2seq, HF-style transformers, audio, TCN ----------------------


class LstmTagger(nn.Module):
    """A token tagger: embedding, dropout, bidirectional LSTM over the padded batch packed by
    its lengths, dropout, a linear tag head on every step."""

    def __init__(self, d=16, hidden=16, tags=5):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, d, padding_idx=0)
        self.drop = nn.Dropout(0.3)
        self.lstm = nn.LSTM(d, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, tags)

    def forward(self, ids, lengths):
        x = self.drop(self.emb(ids))
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                   enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                  total_length=ids.shape[1])
        return self.head(self.drop(out)).log_softmax(-1)


class HfBertEmbeddings(nn.Module):
    """HuggingFace BertEmbeddings: position_ids from a registered arange buffer, token_type_ids
    given, LayerNorm and dropout."""

    def __init__(self, d):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, d)
        self.position_embeddings = nn.Embedding(64, d)
        self.token_type_embeddings = nn.Embedding(2, d)
        self.LayerNorm = nn.LayerNorm(d, eps=1e-12)
        self.dropout = nn.Dropout(0.1)
        self.register_buffer("position_ids", torch.arange(64).expand((1, -1)))

    def forward(self, input_ids, token_type_ids):
        seq_length = input_ids.size(1)
        position_ids = self.position_ids[:, 0:seq_length]
        x = (self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids) +
             self.position_embeddings(position_ids))
        return self.dropout(self.LayerNorm(x))


class HfBert(nn.Module):
    """A HuggingFace-style BERT: the extended attention mask (1 - mask[:, None, None, :]) *
    finfo(dtype).min, nn.TransformerEncoderLayer-free self-attention written out, pooler."""

    def __init__(self, d=32, heads=4, layers=2):
        super().__init__()
        self.embeddings = HfBertEmbeddings(d)
        self.layers = nn.ModuleList(BertLayer(d, heads) for _ in range(layers))
        self.pooler = nn.Linear(d, d)

    def forward(self, input_ids, token_type_ids, attention_mask):
        x = self.embeddings(input_ids, token_type_ids)
        extended = attention_mask[:, None, None, :].to(dtype=x.dtype)
        extended = (1.0 - extended) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, extended)
        return x, torch.tanh(self.pooler(x[:, 0]))


class T5Attention(nn.Module):
    """T5 self-attention with the relative position bias: log-spaced buckets (torch.where, min,
    full_like), a bias embedding per head, no scaling; T5's RMS LayerNorm before it."""

    def __init__(self, d=32, heads=4, buckets=8, max_distance=16):
        super().__init__()
        self.heads, self.buckets, self.max_distance = heads, buckets, max_distance
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.bias = nn.Embedding(buckets, heads)
        self.norm_weight = nn.Parameter(torch.ones(d) + 0.1 * torch.randn(d))

    def bucket(self, relative_position):
        n = self.buckets // 2
        ret = (relative_position > 0).to(torch.long) * n
        relative_position = torch.abs(relative_position)
        max_exact = n // 2
        is_small = relative_position < max_exact
        large = max_exact + (torch.log(relative_position.float() / max_exact) /
                             math.log(self.max_distance / max_exact) *
                             (n - max_exact)).to(torch.long)
        large = torch.min(large, torch.full_like(large, n - 1))
        return ret + torch.where(is_small, relative_position, large)

    def forward(self, x):
        b, n, d = x.shape
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.norm_weight
        ctx = torch.arange(n, dtype=torch.long)[:, None]
        mem = torch.arange(n, dtype=torch.long)[None, :]
        bias = self.bias(self.bucket(mem - ctx)).permute(2, 0, 1).unsqueeze(0)
        q, k, v = (f(x).view(b, n, self.heads, -1).transpose(1, 2)
                   for f in (self.q, self.k, self.v))
        scores = torch.matmul(q, k.transpose(3, 2)) + bias
        a = torch.matmul(scores.float().softmax(-1).type_as(scores), v)
        return self.o(a.transpose(1, 2).reshape(b, n, d))


class Conv1D(nn.Module):
    """GPT-2's Conv1D: a linear layer with the weight transposed, as addmm."""

    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.02)
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.weight.size(-1),)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class Gpt2Block(nn.Module):
    """GPT-2 block: Conv1D projections, a registered causal `bias` buffer sliced by the sequence
    length, scores by torch.baddbmm, masked with torch.where and finfo.min, gelu_new MLP."""

    def __init__(self, d=32, heads=4, max_positions=32):
        super().__init__()
        self.heads = heads
        self.register_buffer("bias", torch.tril(torch.ones(max_positions, max_positions,
                                                           dtype=torch.bool)).view(
                                                               1, 1, max_positions, max_positions))
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = Conv1D(3 * d, d)
        self.c_proj = Conv1D(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = Conv1D(4 * d, d)
        self.mlp_proj = Conv1D(d, 4 * d)

    def attn(self, x):
        b, n, d = x.shape
        hd = d // self.heads
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (t.view(b, n, self.heads, hd).transpose(1, 2).reshape(b * self.heads, n, hd)
                   for t in (q, k, v))
        scores = torch.empty(b * self.heads, n, n, dtype=q.dtype)
        scores = torch.baddbmm(scores, q, k.transpose(-1, -2), beta=0, alpha=1.0 / math.sqrt(hd))
        scores = scores.view(b, self.heads, n, n)
        causal = self.bias[:, :, n - n:n, :n]
        scores = torch.where(causal, scores, torch.tensor(torch.finfo(scores.dtype).min))
        a = torch.matmul(scores.softmax(-1), v.view(b, self.heads, n, hd))
        return self.c_proj(a.transpose(1, 2).reshape(b, n, d))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        h = self.c_fc(self.ln_2(x))
        h = 0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) *
                                        (h + 0.044715 * torch.pow(h, 3.0))))
        return x + self.mlp_proj(h)


class Gpt2(nn.Module):
    def __init__(self, d=32):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, d)
        self.wpe = nn.Embedding(32, d)
        self.h = nn.ModuleList(Gpt2Block(d) for _ in range(2))
        self.ln_f = nn.LayerNorm(d)

    def forward(self, input_ids):
        position_ids = torch.arange(0, input_ids.size(-1), dtype=torch.long).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(position_ids)
        for block in self.h:
            x = block(x)
        return torch.matmul(self.ln_f(x), self.wte.weight.t())


def sinusoids(length, channels, max_timescale=10000):
    """Whisper's sinusoidal position table."""
    log_timescale_increment = math.log(max_timescale) / (channels // 2 - 1)
    inv_timescales = torch.exp(-log_timescale_increment * torch.arange(channels // 2))
    scaled_time = torch.arange(length)[:, None] * inv_timescales[None, :]
    return torch.cat([torch.sin(scaled_time), torch.cos(scaled_time)], dim=1)


class WhisperEncoder(nn.Module):
    """Whisper-like audio encoder: log-mel [B, mels, T] -> conv1d, GELU, conv1d stride 2, GELU,
    sinusoidal positions (a buffer), one pre-norm nn.TransformerEncoderLayer (GELU), LayerNorm."""

    def __init__(self, mels=8, d=32, frames=32):
        super().__init__()
        self.conv1 = nn.Conv1d(mels, d, 3, padding=1)
        self.conv2 = nn.Conv1d(d, d, 3, stride=2, padding=1)
        self.register_buffer("positional_embedding", sinusoids(frames // 2, d))
        self.layer = nn.TransformerEncoderLayer(d, 4, 2 * d, dropout=0.0, activation="gelu",
                                                batch_first=True, norm_first=True)
        self.ln_post = nn.LayerNorm(d)

    def forward(self, mel):
        x = F.gelu(self.conv1(mel))
        x = F.gelu(self.conv2(x)).permute(0, 2, 1)
        x = x + self.positional_embedding
        return self.ln_post(self.layer(x))


class Wav2Vec2Ctc(nn.Module):
    """wav2vec2-like feature encoder on raw audio: conv1d stack (the first with group_norm over
    every channel), GELU, feature projection, a CTC head with log_softmax."""

    def __init__(self, d=16, vocab=12):
        super().__init__()
        self.conv0 = nn.Conv1d(1, d, 10, stride=5, bias=False)
        self.norm0 = nn.GroupNorm(d, d)
        self.convs = nn.ModuleList(nn.Conv1d(d, d, 3, stride=2, bias=False) for _ in range(3))
        self.ln = nn.LayerNorm(d)
        self.proj = nn.Linear(d, 2 * d)
        self.head = nn.Linear(2 * d, vocab)

    def forward(self, audio):
        x = F.gelu(self.norm0(self.conv0(audio[:, None])))
        for conv in self.convs:
            x = F.gelu(conv(x))
        x = self.proj(self.ln(x.transpose(1, 2)))
        return F.log_softmax(self.head(x), dim=-1)


class Tcn(nn.Module):
    """Temporal convolutional network: residual blocks of dilated causal conv1d (left padding by
    F.pad), ReLU, dropout; a linear head on the last step."""

    def __init__(self, cin=4, c=16, levels=3, k=3):
        super().__init__()
        self.k = k
        self.convs1 = nn.ModuleList()
        self.convs2 = nn.ModuleList()
        self.downs = nn.ModuleList()
        for i in range(levels):
            ci = cin if i == 0 else c
            self.convs1.append(nn.Conv1d(ci, c, k, dilation=2 ** i))
            self.convs2.append(nn.Conv1d(c, c, k, dilation=2 ** i))
            self.downs.append(nn.Conv1d(ci, c, 1) if ci != c else nn.Identity())
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(c, 3)

    def forward(self, x):
        for i, (c1, c2, down) in enumerate(zip(self.convs1, self.convs2, self.downs)):
            pad = (self.k - 1) * 2 ** i
            y = self.drop(F.relu(c1(F.pad(x, (pad, 0)))))
            y = self.drop(F.relu(c2(F.pad(y, (pad, 0)))))
            x = F.relu(y + down(x))
        return self.head(x[:, :, -1])


class TextCnn(nn.Module):
    """Kim's text CNN: embedding, conv1d of widths 2, 3 and 4, ReLU, max over time, concat,
    dropout, linear."""

    def __init__(self, d=16, c=8, classes=4):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, d)
        self.convs = nn.ModuleList(nn.Conv1d(d, c, k) for k in (2, 3, 4))
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(3 * c, classes)

    def forward(self, ids):
        x = self.emb(ids).transpose(1, 2)
        pooled = [F.relu(conv(x)).max(dim=2)[0] for conv in self.convs]
        return self.fc(self.drop(torch.cat(pooled, 1)))


class TransformerDecoderLm(nn.Module):
    """nn.TransformerDecoder over target embeddings and an encoder memory, tgt_mask from
    nn.Transformer.generate_square_subsequent_mask."""

    def __init__(self, d=32):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, d)
        layer = nn.TransformerDecoderLayer(d, 4, 2 * d, dropout=0.1, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, 2)
        self.out = nn.Linear(d, VOCAB)

    def forward(self, tgt, memory):
        mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
        return self.out(self.decoder(self.emb(tgt), memory, tgt_mask=mask))


class Int32BoolInputs(nn.Module):
    """Token ids as int32 and a bool padding mask (True: padding): masked mean pooling of the
    embeddings, then a classifier."""

    def __init__(self, d=16):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, d)
        self.fc = nn.Linear(d, 3)

    def forward(self, ids, pad_mask):
        x = self.emb(ids.long()).masked_fill(pad_mask[..., None], 0.0)
        count = (~pad_mask).sum(1, keepdim=True).clamp(min=1)
        return self.fc(x.sum(1) / count)


class DictOutputs(nn.Module):
    """A two-head model whose forward builds a dict and returns its values as a tuple (the
    README's advice), plus a nested tuple."""

    def __init__(self, d=16):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, d)
        self.gru = nn.GRU(d, d, batch_first=True)
        self.start = nn.Linear(d, 1)
        self.end = nn.Linear(d, 1)

    def forward(self, ids):
        out, h = self.gru(self.emb(ids))
        result = {"start_logits": self.start(out).squeeze(-1),
                  "end_logits": self.end(out).squeeze(-1), "hidden": h[0]}
        return tuple(result.values())


def _lengths_values():
    return [SEQ, 9, 12]


def _token_types():
    t = torch.zeros(1, SEQ, dtype=torch.int64)
    t[0, 9:] = 1
    return t.numpy()


def sequence_cases():
    """The sequence-model cases (appended to cases())."""
    ids3 = Input("ids", (3, SEQ), "int64", low=1, high=VOCAB)
    ids = Input("input_ids", (1, SEQ), "int64", low=0, high=VOCAB)
    pad = torch.zeros(2, SEQ, dtype=torch.bool)
    pad[1, 10:] = True
    return [
        Case("lstm_tagger_packed", LstmTagger().eval(),
             [ids3, Input("lengths", (3,), "int64", values=_lengths_values())]),
        Case("hf_bert", HfBert().eval(),
             [ids, Input("token_type_ids", (1, SEQ), "int64", values=_token_types()),
              Input("attention_mask", (1, SEQ), "int64", values=_mask_values())]),
        Case("t5_relative_attention", T5Attention().eval(), [Input("x", (1, SEQ, 32))]),
        Case("gpt2_conv1d", Gpt2().eval(), [ids]),
        Case("whisper_encoder", WhisperEncoder().eval(), [Input("mel", (1, 8, 32))]),
        Case("wav2vec2_ctc", Wav2Vec2Ctc().eval(), [Input("audio", (1, 400))]),
        Case("tcn", Tcn().eval(), [Input("x", (2, 4, 24))]),
        Case("text_cnn", TextCnn().eval(), [ids3]),
        Case("transformer_decoder", TransformerDecoderLm().eval(),
             [Input("tgt", (1, 8), "int64", low=0, high=VOCAB), Input("memory", (1, 6, 32))]),
        Case("int32_bool_inputs", Int32BoolInputs().eval(),
             [Input("ids", (2, SEQ), "int32", low=0, high=VOCAB),
              Input("pad_mask", (2, SEQ), "bool", values=pad.numpy())]),
        Case("dict_outputs", DictOutputs().eval(),
             [Input("ids", (2, 8), "int64", low=0, high=VOCAB)]),
    ]


def cases():
    torch.manual_seed(0)
    ids = Input("ids", (1, SEQ), "int64", low=0, high=VOCAB)
    image = (1, 3, 32, 32)
    clip = (1, 3, 4, 32, 32)
    return [
        Case("bert_encoder", Bert().eval(),
             [ids, Input("attention_mask", (1, SEQ), "int64", values=_mask_values())]),
        Case("gpt_decoder", Gpt().eval(), [ids]),
        Case("clip_text", ClipText().eval(), [Input("ids", (1, SEQ), "int64",
                                                    values=_clip_ids())]),
        Case("yolo_neck", calibrated(YoloNeck(), image), [Input("x", image)]),
        Case("super_resolution", SuperResolution().eval(),
             [Input("x", (1, 3, 16, 16), low=0.0, high=1.0)]),
        Case("unet_block", UnetBlock().eval(),
             [Input("x", (1, 4, 8, 8)), Input("timestep", (1,), values=[[417.0]][0])]),
        Case("depth_decoder", DepthDecoder().eval(), [Input("x", image)]),
        Case("r3d_18_small", calibrated(r3d_18(), clip), [Input("x", clip)]),
        Case("spatial_transformer", SpatialTransformer().eval(), [Input("x", (1, 1, 28, 28))]),
        Case("mobilevit_block", calibrated(MobileVit(), image), [Input("x", image)]),
        Case("yolov5_detect", YoloV5Detect().eval(),
             [Input("p3", (1, 8, 8, 8)), Input("p4", (1, 16, 4, 4))]),
        Case("unet_odd_sizes", UNetOddSizes().eval(), [Input("x", (1, 3, 17, 23))]),
        Case("stylegan_modulated_conv", ModulatedConv().eval(),
             [Input("x", (2, 8, 8, 8)), Input("style", (2, 16))]),
        Case("pointnet", calibrated(PointNet(), (1, 3, 64)), [Input("x", (2, 3, 64))]),
        Case("graph_conv", GraphConv().eval(), [Input("x", (6, 8))]),
        Case("flow_warp", FlowWarp().eval(), [Input("a", (1, 3, 8, 10)), Input("b", (1, 3, 8, 10))]),
    ] + sequence_cases()
