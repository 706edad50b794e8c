#!/usr/bin/env python3
"""Expected values for the pre-processing and post-processing tests, computed with numpy and
scipy following the authors' code (lixiaopang221/2m_re1: utils/dataset.py `run`/`normalize`,
seg_post.py `post`/`clean_contour`), re-written here from their description.

Run: /work/venv/bin/python Tests/Scripts/make_preprocess_fixtures.py
Writes Tests/Fixtures/preprocess/* and Tests/Fixtures/postprocess/* (raw little-endian
arrays, x fastest, with a JSON description). numpy arrays are indexed [z, y, x] here, so a
C-order flatten is the library's x-fastest layout.
"""
import json
import os

import numpy as np
from scipy import ndimage

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures")


def authors_normalize(x, std_over="crop"):
    """z-score over x != 0 with the mean/std of a 2-98 percentile-clipped copy."""
    x = x.astype(np.float64)
    mask = x != 0
    lo = np.percentile(x[mask], 2.0)   # numpy default: linear interpolation
    hi = np.percentile(x[mask], 98.0)
    t = x.copy()
    t[(t < lo) & mask] = lo
    t[(t > hi) & mask] = hi
    mean = t[mask].mean()
    std = t.std() if std_over == "crop" else t[mask].std()
    out = np.zeros_like(x)
    out[mask] = (x[mask] - mean) / std
    return out


def preprocess(volumes, minimum, multiple, std_over):
    mask = np.ones(volumes[0].shape, bool)
    for v in volumes:
        mask &= v != 0
    zz, yy, xx = np.where(mask)
    box = [[int(xx.min()), int(xx.max()) + 1], [int(yy.min()), int(yy.max()) + 1], [int(zz.min()), int(zz.max()) + 1]]
    sl = (slice(*box[2]), slice(*box[1]), slice(*box[0]))
    crop_shape = volumes[0][sl].shape  # z, y, x
    mins = [minimum[2], minimum[1], minimum[0]]
    pad = [int(-(-max(n, m) // multiple) * multiple) for n, m in zip(crop_shape, mins)]
    out = np.zeros([len(volumes)] + pad, np.float64)
    for c, v in enumerate(volumes):
        n = authors_normalize(v[sl], std_over)
        out[c, :n.shape[0], :n.shape[1], :n.shape[2]] = n  # zero-pad at the upper end
    return box, pad, out


def make_preprocess():
    rng = np.random.default_rng(20261126)
    nz, ny, nx = 14, 18, 21
    zz, yy, xx = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    base = ((xx - 10) / 7.0) ** 2 + ((yy - 9) / 6.0) ** 2 + ((zz - 6) / 5.0) ** 2 <= 1.0
    vols = []
    for m in range(4):
        v = rng.gamma(2.0 + m, 50.0, size=(nz, ny, nx)).astype(np.float32)
        v[rng.random((nz, ny, nx)) < 0.01] *= 20  # outliers the clipping must tame
        brain = base.copy()
        if m == 1:
            brain[:, :, 14:] = False          # a smaller mask in t1ce moves the box
        if m == 3:
            brain |= (xx == 1) & (yy == 2)    # flair has extra voxels outside the others
        v[~brain] = 0
        v[brain & (rng.random((nz, ny, nx)) < 0.03)] = 0  # holes inside the brain stay 0
        if m == 2:
            v[brain & (rng.random((nz, ny, nx)) < 0.05)] *= -1  # negative values are non-zero
        vols.append(v)
    d = os.path.join(ROOT, "preprocess")
    os.makedirs(d, exist_ok=True)
    np.concatenate([v.ravel() for v in vols]).astype("<f4").tofile(os.path.join(d, "case_inputs.f32"))
    meta = {"shape_xyz": [nx, ny, nz], "modalities": ["t1", "t1ce", "t2", "flair"], "cases": []}
    for name, minimum, multiple, std_over in [("authors_min16_mult1", [16, 16, 16], 1, "crop"),
                                              ("authors_min8_mult4", [8, 8, 8], 4, "crop"),
                                              ("nzstd_min16_mult1", [16, 16, 16], 1, "nonzero")]:
        box, pad, out = preprocess(vols, minimum, multiple, std_over)
        out.astype("<f4").ravel().tofile(os.path.join(d, f"{name}.f32"))
        meta["cases"].append({"name": name, "minimum_xyz": minimum, "multiple": multiple,
                              "normalization": std_over, "box_xyz": box,
                              "padded_xyz": [pad[2], pad[1], pad[0]]})
    # Percentiles of a few arrays, numpy linear.
    pcts = []
    for n in [1, 2, 3, 7, 50, 1001]:
        a = np.sort(rng.normal(size=n).astype(np.float32))
        pcts.append({"values": [float(x) for x in a],
                     "q": [0, 2, 25, 50, 98, 100],
                     "expected": [float(np.percentile(a.astype(np.float64), q)) for q in [0, 2, 25, 50, 98, 100]]})
    meta["percentiles"] = pcts
    with open(os.path.join(d, "cases.json"), "w") as f:
        json.dump(meta, f, indent=1)


def clean_contour(img):
    s = (img > 0).astype(np.int8)
    grown = ndimage.binary_dilation(s, iterations=2)
    labels, n = ndimage.label(grown)
    areas = [int(np.sum(s[labels == i])) for i in range(1, n + 1)]
    if len(areas) > 1:
        biggest = max(areas)
        for i, a in enumerate(areas):
            if a < biggest / 3.0:
                img[labels == i + 1] = 0
    return img


def post(img, brain, t_et, et_to):
    img = img * brain
    img = clean_contour(img)
    if np.sum(img == 1) + np.sum(img == 4) < 10:
        img[img == 2] = 1
    if np.sum(img == 4) < t_et:
        img[img == 4] = et_to
    return img


def blob(shape, center, radii):
    zz, yy, xx = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    return ((zz - center[0]) / radii[0]) ** 2 + ((yy - center[1]) / radii[1]) ** 2 + ((xx - center[2]) / radii[2]) ** 2 <= 1


def make_postprocess():
    rng = np.random.default_rng(7)
    shape = (30, 34, 40)  # z, y, x
    d = os.path.join(ROOT, "postprocess")
    os.makedirs(d, exist_ok=True)
    cases = []
    brain = blob(shape, (15, 17, 20), (14, 16, 19)).astype(np.uint8)
    # 1: big tumour (ED shell, NCR, ET > 500), a mid satellite, tiny specks, noise outside the brain.
    a = np.zeros(shape, np.uint8)
    a[blob(shape, (15, 17, 16), (9, 10, 10))] = 2
    a[blob(shape, (15, 17, 16), (7, 8, 8))] = 4
    a[blob(shape, (15, 17, 16), (3, 4, 4))] = 1
    a[blob(shape, (6, 8, 30), (3, 3, 3))] = 2          # satellite, < 1/3 of the main mass
    a[blob(shape, (24, 26, 31), (2, 2, 2))] = 1
    a[rng.random(shape) < 0.002] = 4                    # specks, many merge after dilation
    a[0, 0, 0] = 2                                      # outside the brain mask
    cases.append(("main_small_satellites", a, 500, 2))
    # 2: small ET (< 500) relabelled: authors -> ED, nnU-Net -> NCR; two comparable blobs kept.
    b = np.zeros(shape, np.uint8)
    b[blob(shape, (10, 17, 12), (4, 5, 5))] = 2
    b[blob(shape, (10, 17, 12), (2, 2, 2))] = 4
    b[blob(shape, (20, 17, 28), (4, 5, 4))] = 2
    b[blob(shape, (20, 17, 28), (2, 3, 2))] = 1
    cases.append(("small_et_to_ed", b.copy(), 500, 2))
    cases.append(("small_et_to_ncr", b.copy(), 500, 1))
    # 3: only edema with a tiny core (< 10 NCR+ET voxels) -> ED becomes NCR.
    c = np.zeros(shape, np.uint8)
    c[blob(shape, (15, 17, 20), (5, 6, 6))] = 2
    c[15, 17, 20] = 4
    c[15, 17, 21] = 1
    cases.append(("tiny_core", c, 500, 2))
    meta = {"shape_xyz": [shape[2], shape[1], shape[0]], "cases": []}
    brain.ravel().tofile(os.path.join(d, "brain.u8"))
    for name, img, t_et, et_to in cases:
        img.astype(np.uint8).ravel().tofile(os.path.join(d, f"{name}_in.u8"))
        out = post(img.copy(), brain, t_et, et_to).astype(np.uint8)
        out.ravel().tofile(os.path.join(d, f"{name}_out.u8"))
        meta["cases"].append({"name": name, "min_et_voxels": t_et, "et_becomes": et_to,
                              "in_counts": {str(v): int(np.sum(img == v)) for v in (1, 2, 4)},
                              "out_counts": {str(v): int(np.sum(out == v)) for v in (1, 2, 4)}})
    with open(os.path.join(d, "cases.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    make_preprocess()
    make_postprocess()
