#!/usr/bin/env python3
"""Expected outputs of the network layers, computed with numpy/scipy (independent of cmfseg).

Writes Tests/Fixtures/layers/layers.safetensors (inputs and expected outputs of small layer
cases) and dtypes.safetensors + dtypes_expected.safetensors (F16/BF16 storage and the float
values they decode to). Run with the project venv:  /work/venv/bin/python Tests/Scripts/make_layer_fixtures.py
"""
import json
import os
import struct

import numpy as np
from safetensors.numpy import save_file
from scipy import ndimage

OUT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "layers")
rng = np.random.default_rng(20261126)


def conv3d(x, w, b, stride, pad):
    """PyTorch Conv3d semantics (cross-correlation), x [N,C,D,H,W], w [O,C,kd,kh,kw]."""
    n, c, d, h, wd = x.shape
    o, _, kd, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad), (pad, pad)))
    od, oh, ow = [(s + 2 * pad - k) // stride + 1 for s, k in zip((d, h, wd), (kd, kh, kw))]
    out = np.zeros((n, o, od, oh, ow))
    for a in range(kd):
        for bb in range(kh):
            for e in range(kw):
                patch = xp[:, :, a:a + stride * od:stride, bb:bb + stride * oh:stride, e:e + stride * ow:stride]
                out += np.einsum("ncdhw,oc->nodhw", patch, w[:, :, a, bb, e].astype(np.float64))
    out += b.reshape(1, -1, 1, 1, 1)
    return out.astype(np.float32)


def instnorm_lrelu(x, slope, eps=1e-5):
    x64 = x.astype(np.float64)
    m = x64.mean(axis=(2, 3, 4), keepdims=True)
    v = x64.var(axis=(2, 3, 4), keepdims=True)  # biased, as PyTorch
    y = (x64 - m) / np.sqrt(v + eps)
    return np.where(y >= 0, y, slope * y).astype(np.float32)


def upsample2_align_corners(x):
    n, c, d, h, w = x.shape
    axes = [np.arange(2 * s) * ((s - 1) / (2 * s - 1)) for s in (d, h, w)]
    grid = np.meshgrid(*axes, indexing="ij")
    out = np.empty((n, c, 2 * d, 2 * h, 2 * w), np.float32)
    for i in range(n):
        for k in range(c):
            out[i, k] = ndimage.map_coordinates(x[i, k].astype(np.float64), grid, order=1, mode="nearest")
    return out


def maxpool2(x):
    n, c, d, h, w = x.shape
    t = x[:, :, : d // 2 * 2, : h // 2 * 2, : w // 2 * 2]
    return t.reshape(n, c, d // 2, 2, h // 2, 2, w // 2, 2).max(axis=(3, 5, 7))


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


t = {}
# conv k3 s1 p1, two samples
t["conv3_x"], t["conv3_w"], t["conv3_b"] = f32(2, 3, 5, 6, 7), f32(4, 3, 3, 3, 3, scale=0.3), f32(4)
t["conv3_y"] = conv3d(t["conv3_x"], t["conv3_w"], t["conv3_b"], 1, 1)
# conv k4 s2 p1 (discriminator)
t["conv4_x"], t["conv4_w"], t["conv4_b"] = f32(1, 2, 8, 6, 10), f32(3, 2, 4, 4, 4, scale=0.3), f32(3)
t["conv4_y"] = conv3d(t["conv4_x"], t["conv4_w"], t["conv4_b"], 2, 1)
# conv k1 (heads)
t["conv1_x"], t["conv1_w"], t["conv1_b"] = f32(1, 5, 3, 4, 5), f32(3, 5, 1, 1, 1), f32(3)
t["conv1_y"] = conv3d(t["conv1_x"], t["conv1_w"], t["conv1_b"], 1, 0)
# instance norm + leaky ReLU 0.01 and 0.2, and the norm alone (slope 1); offset mean
t["norm_x"] = f32(2, 3, 4, 5, 6, scale=3.0) + 5.0
t["norm_y_001"] = instnorm_lrelu(t["norm_x"], 0.01)
t["norm_y_02"] = instnorm_lrelu(t["norm_x"], 0.2)
t["norm_y_1"] = instnorm_lrelu(t["norm_x"], 1.0)
# trilinear x2 align_corners=True (scipy map_coordinates, linear)
t["up_x"] = f32(1, 2, 3, 4, 5)
t["up_y"] = upsample2_align_corners(t["up_x"])
# max-pool 2 (odd sizes floor)
t["pool_x"] = f32(1, 2, 5, 6, 7)
t["pool_y"] = maxpool2(t["pool_x"])
# softmax over channels
t["softmax_x"] = f32(2, 4, 3, 4, 5, scale=4.0)
t["softmax_y"] = softmax(t["softmax_x"])
save_file({k: np.ascontiguousarray(v) for k, v in t.items()}, os.path.join(OUT, "layers.safetensors"))

# Dtype conversion: F16 via numpy, BF16 bits by round-to-nearest-even on float32 bits.
vals = np.array([0.0, -0.0, 1.0, -2.5, 3.14159265, 65504.0, 1e-3, 6.1e-5, -1234.5678, 0.1, 1e-8, 3.0e38],
                dtype=np.float32)
f16 = vals.astype(np.float16)
bits = vals.view(np.uint32).astype(np.uint64)
bf16 = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
bf16_as_f32 = (bf16.astype(np.uint32) << 16).view(np.float32)
data = f16.tobytes() + bf16.tobytes()
header = {
    "__metadata__": {"made_by": "make_layer_fixtures.py"},
    "h": {"dtype": "F16", "shape": [3, 4], "data_offsets": [0, 24]},
    "b": {"dtype": "BF16", "shape": [12], "data_offsets": [24, 48]},
}
hb = json.dumps(header).encode()
hb += b" " * (-len(hb) % 8)
with open(os.path.join(OUT, "dtypes.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb + data)
save_file({"h": f16.astype(np.float32).reshape(3, 4), "b": bf16_as_f32, "source": vals},
          os.path.join(OUT, "dtypes_expected.safetensors"))
print("wrote", OUT)
