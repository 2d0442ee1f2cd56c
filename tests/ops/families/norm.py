"""Normalizations: layer_norm over 1 to 3 trailing dims with and without weight and bias,
group_norm over ranks 2 to 5 affine or not, instance_norm 1d/2d/3d with input statistics or
running statistics, affine or not, and batch_norm in eval (ranks 2 to 5) and with training=True
(batch statistics, with and without running statistics), plus F.normalize's p, dim and eps."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from op_cases import Case, Fn, Input


def _randomize(m, seed):
    """Non-trivial affine parameters and running statistics (the defaults are ones and zeros)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(m.named_parameters()) + list(m.named_buffers()):
            if t.dtype != torch.float32:
                continue
            if "var" in name:
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            else:
                t.copy_(torch.randn(t.shape, generator=g) * 0.5 + (1.0 if "weight" in name else 0))
    return m


def _train(m, seed):
    """A module left in train mode: PyTorch normalizes with the batch statistics."""
    return _randomize(m, seed).train()


def cases():
    i2 = Input("input", (6, 5))
    i3 = Input("input", (2, 4, 7))
    i4 = Input("input", (2, 4, 5, 6))
    i5 = Input("input", (2, 4, 3, 4, 5))
    x4 = Input("x", (2, 4, 5, 6))
    rows = torch.randn(4, 8)
    rows[1] = 0.0
    zero_rows = Input("x", (4, 8), values=rows.numpy())
    return [
        # Epsilons below fp16's smallest subnormal guard rows of zeros (swin_v2's F.normalize,
        # an RMSNorm): in fp16 they are stored as 2^-24, not 0, so 0 / eps stays 0, not NaN.
        Case("normalize_zero_rows_eps_1e_12", Fn(lambda x: F.normalize(x, dim=-1)), [zero_rows]),
        Case("rms_norm_zero_rows_eps_1e_12",
             Fn(lambda x: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-12)), [zero_rows]),
        Case("layer_norm_last", _randomize(nn.LayerNorm(7), 1), [i3]),
        Case("layer_norm_two_dims", _randomize(nn.LayerNorm((5, 6)), 2), [i4]),
        Case("layer_norm_three_dims_no_affine",
             nn.LayerNorm((4, 5, 6), elementwise_affine=False, eps=1e-3), [i4]),
        Case("layer_norm_fn_weight_only",
             Fn(lambda x: F.layer_norm(x, (6,), torch.linspace(0.5, 2, 6), None, 1e-6)), [x4]),
        Case("layer_norm_fn_bias_only",
             Fn(lambda x: F.layer_norm(x, (5, 6), None, torch.linspace(-1, 1, 30).view(5, 6))),
             [x4]),
        Case("group_norm_2d", _randomize(nn.GroupNorm(2, 4), 3), [i4]),
        Case("group_norm_rank2", _randomize(nn.GroupNorm(1, 5), 4), [i2]),
        Case("group_norm_rank3_per_channel", nn.GroupNorm(4, 4, affine=False), [i3]),
        Case("group_norm_rank5", _randomize(nn.GroupNorm(2, 4, eps=1e-3), 5), [i5]),
        Case("instance_norm_1d", nn.InstanceNorm1d(4), [i3]),
        Case("instance_norm_1d_unbatched", _randomize(nn.InstanceNorm1d(4, affine=True), 20),
             [Input("input", (4, 7))]),
        Case("instance_norm_2d_affine", _randomize(nn.InstanceNorm2d(4, affine=True), 6), [i4]),
        Case("instance_norm_3d_affine", _randomize(nn.InstanceNorm3d(4, affine=True), 7), [i5]),
        # track_running_stats in eval: the running statistics, as batch_norm.
        Case("instance_norm_2d_running",
             _randomize(nn.InstanceNorm2d(4, affine=True, track_running_stats=True), 8).eval(),
             [i4]),
        Case("instance_norm_1d_running_no_affine",
             _randomize(nn.InstanceNorm1d(4, track_running_stats=True), 9).eval(), [i3]),
        Case("instance_norm_3d_running",
             _randomize(nn.InstanceNorm3d(4, track_running_stats=True), 10).eval(), [i5]),
        # Train mode with running statistics: use_input_stats=True.
        Case("instance_norm_2d_train_with_running",
             _train(nn.InstanceNorm2d(4, affine=True, track_running_stats=True), 19), [i4]),
        Case("instance_norm_fn_running",
             Fn(lambda x: F.instance_norm(x, torch.linspace(-1, 1, 4), torch.linspace(0.5, 2, 4),
                                          use_input_stats=False, eps=1e-3)), [x4]),
        Case("batch_norm_fn_training_with_stats",
             Fn(lambda x: F.batch_norm(x, torch.zeros(4), torch.ones(4),
                                       torch.linspace(0.5, 1.5, 4), torch.linspace(-1, 1, 4),
                                       training=True, eps=1e-2)), [x4]),
        Case("local_response_norm", Fn(lambda x: F.local_response_norm(x, 3, 1e-3, 0.75, 2.0)),
             [x4]),
        Case("batch_norm_eval_1d_rank2", _randomize(nn.BatchNorm1d(5), 11).eval(), [i2]),
        Case("batch_norm_eval_1d_rank3", _randomize(nn.BatchNorm1d(4), 12).eval(), [i3]),
        Case("batch_norm_eval_3d", _randomize(nn.BatchNorm3d(4), 13).eval(), [i5]),
        Case("batch_norm_train_2d", _train(nn.BatchNorm2d(4), 14), [i4]),
        Case("batch_norm_train_rank2", _train(nn.BatchNorm1d(5, eps=1e-3), 15), [i2]),
        Case("batch_norm_train_rank3_no_affine", _train(nn.BatchNorm1d(4, affine=False), 16),
             [i3]),
        Case("batch_norm_train_3d", _train(nn.BatchNorm3d(4), 17), [i5]),
        Case("batch_norm_no_running_stats",
             _randomize(nn.BatchNorm2d(4, track_running_stats=False), 18).eval(), [i4]),
        Case("normalize_default", Fn(lambda x: F.normalize(x)), [x4]),
        Case("normalize_p1_last", Fn(lambda x: F.normalize(x, p=1.0, dim=-1)), [x4]),
        Case("normalize_p3_eps",
             Fn(lambda x: F.normalize(x, p=3.0, dim=2, eps=0.5)), [Input("x", (2, 3, 4))]),
    ]
