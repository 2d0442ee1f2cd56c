#!/usr/bin/python3
"""How much FP16 accumulation costs the DFT matmuls of decompose-complex (docs/complex.md).

rfft of standard normal signals computed as x @ [C | -S] with x and the matrices in FP16,
against float64 numpy.fft.rfft, for three accumulation models: FP32 accumulation rounded to FP16
once (what the reference interpreter emulates), sequential FP16 accumulation (every partial sum
rounded: the worst a device can do) and FP16 sums of FP32-accumulated blocks of 32 (a tiled
kernel). Prints the cosine and the largest error relative to the output's largest magnitude.

Usage: /usr/bin/python3 scripts/dft_fp16_accumulation.py
"""
import numpy as np
rng = np.random.default_rng(0)
def cos(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)
def seq16(x, m):
    acc = np.zeros((x.shape[0], m.shape[1]), np.float16)
    for j in range(x.shape[1]):
        acc = (acc + (x[:, j:j+1] * m[j:j+1, :]).astype(np.float16)).astype(np.float16)
    return acc
def tiled16(x, m, t=32):
    acc = np.zeros((x.shape[0], m.shape[1]), np.float16)
    for j in range(0, x.shape[1], t):
        part = (x[:, j:j+t].astype(np.float32) @ m[j:j+t].astype(np.float32)).astype(np.float16)
        acc = (acc + part).astype(np.float16)
    return acc
for n in (256, 512, 1024, 2048):
    x = rng.standard_normal((4, n))
    ref = np.fft.rfft(x)
    ref = np.concatenate([ref.real, ref.imag], 1)
    k = np.arange(n // 2 + 1)
    ang = 2 * np.pi * (np.outer(np.arange(n), k) % n) / n
    m = np.concatenate([np.cos(ang), -np.sin(ang)], 1)
    x16, m16 = x.astype(np.float16), m.astype(np.float16)
    a = (x16.astype(np.float32) @ m16.astype(np.float32)).astype(np.float16)
    b = seq16(x16, m16)
    c = tiled16(x16, m16)
    err = lambda y: np.abs(y - ref).max() / np.abs(ref).max()
    print(f"n={n}: fp32-acc cos {cos(a, ref):.7f} maxerr/range {err(a):.2e} | seq-fp16-acc cos {cos(b, ref):.7f} {err(b):.2e} | tiled32-fp16 cos {cos(c, ref):.7f} {err(c):.2e}")
