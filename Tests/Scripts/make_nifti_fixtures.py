#!/usr/bin/env python3
"""Writes the NIfTI fixtures of Tests/Fixtures/nifti with nibabel, plus expected.json.

The Swift tests read every file with cmfseg and compare dims, datatype, version, geometry
and voxels with what nibabel says (the oracle). Files are tiny (a few dozen voxels);
the data are deterministic (seeded).

    /work/venv/bin/python Tests/Scripts/make_nifti_fixtures.py            # regenerate
    /work/venv/bin/python Tests/Scripts/make_nifti_fixtures.py --check-written DIR
        # checks files cmfseg wrote (kept by NiftiRoundTripTests when CMFSEG_KEEP_WRITTEN=DIR)
        # against the JSON the test wrote beside them, reading them with nibabel.

Needs numpy and nibabel (pip install numpy nibabel).
"""
import argparse
import json
import math
import os
import sys

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Fixtures", "nifti")
SHAPE = (5, 4, 3)

# A rotated qform (about 20° around x then 35° around z, qfac -1 via a flipped k axis) and a
# different sform, so readers cannot confuse them.
def rotation(ax, deg):
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    if ax == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def rotated_affine(spacing, flip_k=True, offset=(-12.5, 30.25, -7.0)):
    r = rotation("z", 35) @ rotation("x", 20)
    if flip_k:
        r = r @ np.diag([1, 1, -1])
    a = np.eye(4)
    a[:3, :3] = r @ np.diag(spacing)
    a[:3, 3] = offset
    return a


def sample(dtype, rng, labels=False):
    n = int(np.prod(SHAPE))
    if labels:
        return rng.choice([0, 1, 2, 4], size=n).astype(dtype).reshape(SHAPE, order="F")
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        lo, hi = max(info.min, -30000), min(info.max, 60000)
        v = rng.integers(lo, hi, size=n, endpoint=True).astype(dtype)
        v[0], v[1] = info.min if info.bits <= 32 else lo, info.max if info.bits <= 32 else hi
    else:
        v = (rng.standard_normal(n) * 1000).astype(dtype)
        v[0] = -0.0
    return v.reshape(SHAPE, order="F")


def describe(path, img):
    hdr = img.header
    dataobj = img.dataobj
    scaled = np.asarray(img.get_fdata(dtype=np.float64))
    version = 2 if isinstance(hdr, nib.Nifti2Header) else 1
    q, qcode = hdr.get_qform(coded=True)
    s, scode = hdr.get_sform(coded=True)
    e = {
        "file": os.path.basename(path),
        "version": version,
        "shape": [int(x) for x in img.shape],
        "datatype": str(hdr.get_data_dtype().newbyteorder("=").name),
        "datatype_code": int(hdr["datatype"]),
        "big_endian": hdr.endianness == ">",
        "zooms": [float(z) for z in hdr.get_zooms()[:3]],
        "qform_code": int(hdr["qform_code"]),
        "sform_code": int(hdr["sform_code"]),
        "qform": np.asarray(hdr.get_qform()).ravel().tolist(),
        "sform": np.asarray(hdr.get_sform()).ravel().tolist(),
        "affine": np.asarray(img.affine).ravel().tolist(),
        # nibabel moves scl_slope/scl_inter from the header into the data proxy on load.
        "scl_slope": float(dataobj.slope),
        "scl_inter": float(dataobj.inter),
        "descrip": hdr["descrip"].tobytes().split(b"\0")[0].decode(),
        "quatern": [float(hdr["quatern_b"]), float(hdr["quatern_c"]), float(hdr["quatern_d"]),
                    float(hdr["qoffset_x"]), float(hdr["qoffset_y"]), float(hdr["qoffset_z"]),
                    float(hdr["pixdim"][0])],
        "xyzt_units": int(hdr["xyzt_units"]),
        # Voxels after scaling, x fastest (NIfTI order), as float64.
        "values": [float(v) for v in scaled.ravel(order="F")],
    }
    return e


def save(img, name, expect, error=None):
    path = os.path.join(OUT, name)
    nib.save(img, path)
    if error is None:
        expect["good"].append(describe(path, nib.load(path)))
    else:
        expect["bad"].append({"file": name, "error": error})


def make_fixtures():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f != "README.md":
            os.remove(os.path.join(OUT, f))
    rng = np.random.default_rng(20261126)
    expect = {"generator": "Tests/Scripts/make_nifti_fixtures.py", "nibabel": nib.__version__,
              "numpy": np.__version__, "good": [], "bad": []}
    spacing = (0.9, 1.2, 2.5)
    aff = rotated_affine(spacing)
    saff = rotated_affine(spacing, flip_k=False, offset=(90.0, -126.0, -72.0))
    saff[0, 1] += 0.05  # a shear: sform need not be a rotation

    # Every dtype, NIfTI-1 .nii, rotated qform (code 1) and a different sform (code 2).
    for dt in ["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]:
        img = nib.Nifti1Image(sample(np.dtype(dt), rng), None, dtype=dt)
        img.set_qform(aff, code=1)
        img.set_sform(saff, code=2)
        img.header.set_data_dtype(dt)
        img.header["descrip"] = f"dtype {dt}"
        save(img, f"dtype_{dt}.nii", expect)

    # NIfTI-2, single file and compressed, and as a pair.
    for name, dt in [("n2_int16.nii", "int16"), ("n2_float64.nii.gz", "float64"), ("n2_pair_uint8.hdr", "uint8")]:
        img = nib.Nifti2Image(sample(np.dtype(dt), rng), None) if not name.endswith(".hdr") \
            else nib.Nifti2Pair(sample(np.dtype(dt), rng), None)
        img.set_qform(aff, code=3)
        img.set_sform(saff, code=4)
        img.header.set_data_dtype(dt)
        save(img, name, expect)

    # Compression and pairs, NIfTI-1.
    img = nib.Nifti1Image(sample(np.dtype("float32"), rng), aff)
    save(img, "n1_float32.nii.gz", expect)
    img = nib.Nifti1Pair(sample(np.dtype("int16"), rng), aff)
    save(img, "n1_pair_int16.hdr", expect)
    img = nib.Nifti1Pair(sample(np.dtype("uint16"), rng), aff)
    save(img, "n1_pair_gz_uint16.img.gz", expect)

    # Scaling: int16 stored, slope 0.5, intercept -3.
    img = nib.Nifti1Image(sample(np.dtype("int16"), rng), aff)
    img.header.set_data_dtype("int16")
    img.header.set_slope_inter(0.5, -3.0)
    save(img, "scaled_int16.nii", expect)
    img = nib.Nifti2Image(sample(np.dtype("uint8"), rng), aff)
    img.header.set_slope_inter(2.0, 10.0)
    save(img, "n2_scaled_uint8.nii.gz", expect)

    # Big-endian files.
    for dt in ["int16", "float64", "uint32"]:
        hdr = nib.Nifti1Header(endianness=">")
        img = nib.Nifti1Image(sample(np.dtype(dt), rng), aff, header=hdr)
        img.header.set_data_dtype(np.dtype(dt).newbyteorder(">"))
        save(img, f"bigendian_{dt}.nii", expect)

    # qform only (sform code 0), sform only (qform code 0), neither.
    img = nib.Nifti1Image(sample(np.dtype("uint8"), rng), None)
    img.set_qform(aff, code=2)
    img.set_sform(None, code=0)
    save(img, "qform_only.nii", expect)
    img = nib.Nifti1Image(sample(np.dtype("uint8"), rng), None)
    img.set_sform(saff, code=1)
    img.set_qform(None, code=0)
    save(img, "sform_only.nii", expect)
    hdr = nib.Nifti1Header()
    hdr.set_data_dtype("uint8")
    hdr.set_data_shape(SHAPE)
    hdr.set_zooms(spacing)
    img = nib.Nifti1Image(sample(np.dtype("uint8"), rng), None, header=hdr)
    save(img, "no_xform.nii", expect)

    # A header extension: the data start after it (vox_offset > 352).
    img = nib.Nifti1Image(sample(np.dtype("int16"), rng), aff)
    img.header.extensions.append(nib.nifti1.Nifti1Extension("comment", b"cmfseg fixture: data after an extension"))
    save(img, "with_extension.nii.gz", expect)
    expect["good"][-1]["vox_offset"] = int(nib.load(os.path.join(OUT, "with_extension.nii.gz")).dataobj.offset)

    # 4-D with one volume (accepted).
    img = nib.Nifti1Image(sample(np.dtype("float32"), rng).reshape(SHAPE + (1,)), aff)
    save(img, "four_d_nt1.nii.gz", expect)

    # Label maps: uint8, int16 and float32 holding labels.
    for dt in ["uint8", "int16", "float32"]:
        img = nib.Nifti1Image(sample(np.dtype(dt), rng, labels=True), aff)
        img.header.set_data_dtype(dt)
        save(img, f"labels_{dt}.nii.gz", expect)

    # Not label maps (readImage works, readLabels must refuse).
    for name, dt, value in [("notlabels_float_3p5.nii", "float32", 3.5),
                            ("notlabels_int16_300.nii", "int16", 300),
                            ("notlabels_int16_neg.nii", "int16", -1)]:
        d = sample(np.dtype(dt), rng, labels=True)
        d[2, 1, 1] = value
        img = nib.Nifti1Image(d, aff)
        img.header.set_data_dtype(dt)
        expect.setdefault("not_labels", []).append({"file": name, "voxel": [2, 1, 1], "value": value})
        save(img, name, expect)

    # Bad files nibabel can write: unsupported datatypes and 4-D.
    img = nib.Nifti1Image((np.arange(60).reshape(SHAPE) * (1 + 1j)).astype(np.complex64), aff)
    save(img, "bad_complex64.nii", expect, error="format")
    rgb = np.zeros(SHAPE, dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    img = nib.Nifti1Image(rgb, aff)
    save(img, "bad_rgb24.nii", expect, error="format")
    img = nib.Nifti1Image(np.zeros(SHAPE + (2,), dtype=np.float32), aff)
    save(img, "bad_four_d.nii.gz", expect, error="shape")
    img = nib.Nifti1Image(np.zeros(SHAPE[:2], dtype=np.float32), aff)
    save(img, "bad_two_d.nii", expect, error="shape")

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expect, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT) if f != "README.md")
    print(f"wrote {len(os.listdir(OUT)) - 1} files, {total} bytes, to {os.path.normpath(OUT)}")


def check_written(directory):
    """Reads files cmfseg wrote with nibabel and compares with the JSON written beside them."""
    with open(os.path.join(directory, "written.json")) as f:
        written = json.load(f)
    failures = 0
    for w in written:
        img = nib.load(os.path.join(directory, w["file"]))
        hdr = img.header
        got = np.asarray(img.get_fdata(dtype=np.float64)).ravel(order="F")
        checks = {
            "shape": list(img.shape) == w["shape"],
            "dtype": hdr.get_data_dtype().name == w["datatype"],
            "values": np.array_equal(got, np.asarray(w["values"], dtype=np.float64)),
            "qform_code": int(hdr["qform_code"]) == w["qform_code"],
            "sform_code": int(hdr["sform_code"]) == w["sform_code"],
            "qform": np.allclose(np.asarray(hdr.get_qform()).ravel(), w["qform"], atol=1e-5),
            "sform": np.allclose(np.asarray(hdr.get_sform()).ravel(), w["sform"], atol=1e-5),
            "zooms": np.allclose(hdr.get_zooms()[:3], w["spacing"], atol=1e-6),
        }
        bad = [k for k, ok in checks.items() if not ok]
        print(f"{w['file']}: {'ok' if not bad else 'MISMATCH ' + ', '.join(bad)}")
        failures += bool(bad)
    return failures


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check-written", metavar="DIR")
    args = ap.parse_args()
    if args.check_written:
        sys.exit(1 if check_written(args.check_written) else 0)
    make_fixtures()
