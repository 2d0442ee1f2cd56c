"""Makes the models behind the recurrent FP16 decision (docs/recurrent.md, "FP16"): 256-step
LSTM, GRU and RNN layers whose state persists (orthogonal recurrent weights per gate; LSTM
forget-gate and GRU update-gate biases drawn from +1..+3), so that rounding error accumulates
over the sequence instead of being forgotten, plus one input array per model.

    /usr/bin/python3 scripts/recurrent_fp16_drift.py OUT_DIR
    for m in OUT_DIR/*.pt; do for p in fp32 fp16; do
      build/ts2coreml convert $m -o ${m%.pt}.$p.mlpackage --precision $p --input x=${m%.pt}.x.npy
      build/ts2coreml verify $m ${m%.pt}.$p.mlpackage --input x=${m%.pt}.x.npy
    done; done
"""
import os
import sys

import numpy as np
import torch
from torch import nn

STEPS, BATCH, FEATURES, HIDDEN = 256, 2, 16, 32


def keep_state(rnn, gates, keep_gate):
    """Orthogonal W_hh per gate block and a +1..+3 bias on `keep_gate` (None: no such gate)."""
    with torch.no_grad():
        for name, p in rnn.named_parameters():
            if name.startswith("weight_hh"):
                for g in range(gates):
                    nn.init.orthogonal_(p[g * HIDDEN:(g + 1) * HIDDEN])
            if name.startswith("bias_ih") and keep_gate is not None:
                p[keep_gate * HIDDEN:(keep_gate + 1) * HIDDEN].uniform_(1.0, 3.0)
    return rnn


class Last(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        out, h = self.rnn(x)
        return (out,) + (tuple(h) if isinstance(h, tuple) else (h,))


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    models = {
        "lstm256": keep_state(nn.LSTM(FEATURES, HIDDEN), 4, 1),
        "gru256": keep_state(nn.GRU(FEATURES, HIDDEN), 3, 1),
        "rnn_tanh256": keep_state(nn.RNN(FEATURES, HIDDEN), 1, None),
        "lstm256_2layer_bidir": keep_state(nn.LSTM(FEATURES, HIDDEN, 2, bidirectional=True), 4, 1),
    }
    x = np.random.default_rng(0).standard_normal((STEPS, BATCH, FEATURES)).astype(np.float32)
    for name, rnn in models.items():
        np.save(os.path.join(out_dir, name + ".x.npy"), x)
        traced = torch.jit.trace(Last(rnn.eval()), (torch.from_numpy(x),), check_trace=False)
        traced.save(os.path.join(out_dir, name + ".pt"))


if __name__ == "__main__":
    main(sys.argv[1])
