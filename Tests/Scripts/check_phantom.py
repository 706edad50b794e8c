#!/usr/bin/env python3
"""Cross-checks `cmfseg phantom` output with independent readers (nibabel, numpy, Pillow).

Usage: check_phantom.py OUT_DIR [PREVIEW.png]
For every case folder in OUT_DIR: five files, BraTS grid and affine, float32 images, uint8
labels in {0,1,2,4}, labels only where the images are non-zero, and the contrast
relations the generator promises (measured on the images). Decodes the PNG with Pillow.
Exits non-zero on the first failure. Needs: numpy, nibabel (and Pillow for the PNG).
"""
import os
import sys

import nibabel as nib
import numpy as np


def check_case(folder):
    name = os.path.basename(folder.rstrip("/"))
    img = {}
    for m in ["t1", "t1ce", "t2", "flair", "seg"]:
        im = nib.load(os.path.join(folder, f"{name}_{m}.nii.gz"))
        assert im.shape == (240, 240, 155), (m, im.shape)
        assert np.allclose(im.affine, np.diag([-1.0, -1.0, 1.0, 1.0])), (m, im.affine)
        assert int(im.header["qform_code"]) == 1 and int(im.header["sform_code"]) == 1, m
        assert im.get_data_dtype() == (np.uint8 if m == "seg" else np.float32), (m, im.get_data_dtype())
        img[m] = np.asarray(im.dataobj)
    seg = img.pop("seg")
    assert set(np.unique(seg)) <= {0, 1, 2, 4}, np.unique(seg)
    brain = img["t1"] > 0
    for m, a in img.items():
        assert np.array_equal(a > 0, brain), f"{m}: brain masks differ"
        assert np.isfinite(a).all() and (a >= 0).all(), m
    assert not (seg[~brain] > 0).any(), "labels outside the brain"
    mean = lambda m, sel: float(img[m][sel].mean())
    ed = seg == 2
    # normal tissue sampled away from the tumour: brain voxels far from any label
    far = brain & (seg == 0)
    t1 = img["t1"]
    wm = far & (t1 > np.percentile(t1[far], 80))  # brightest T1 = white matter
    assert ed.any(), "no edema"
    assert mean("flair", ed) > 1.4 * mean("flair", wm), "FLAIR edema not bright"
    assert mean("t2", ed) > mean("t2", wm), "T2 edema not bright"
    if (seg == 4).any():
        et = seg == 4
        assert mean("t1ce", et) / mean("t1ce", wm) > 1.2 * mean("t1", et) / mean("t1", wm), "ET does not enhance"
    counts = {int(v): int((seg == v).sum()) for v in (1, 2, 4)}
    print(f"{name}: ok, brain {int(brain.sum())} voxels, labels {counts}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    cases = sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d)) and not d.startswith("."))
    assert cases, f"no case folders in {out}"
    for c in cases:
        check_case(os.path.join(out, c))
    if len(sys.argv) > 2:
        from PIL import Image
        im = Image.open(sys.argv[2])
        im.load()  # decodes every IDAT byte and checks the CRCs
        print(f"{sys.argv[2]}: {im.size[0]}×{im.size[1]} {im.mode}, decoded by Pillow")


if __name__ == "__main__":
    main()
