"""BraTS evaluation (cmf_evaluate_labels / cmf_evaluate_files) as Python dictionaries.

The result has the shape of `cmfseg evaluate --json`: {"WT": {...}, "TC": {...}, "ET": {...}},
each region with dice, hd95, sensitivity, specificity, hd, assd, volume_ref_mm3,
volume_pred_mm3, nsd and lesion {tp, fp, fn, rq, sq_dsc, sq_hd95, pq}; where the JSON has null
the dict has the float (nan or inf). Definitions: include/cmfseg.h.

Options (keyword arguments of every function here): labels ("brats2018": 1/2/4, or
"brats2023": 1/2/3), nsd_tolerance_mm (default: the smallest voxel spacing), empty_hd (HD95,
HD, ASSD when exactly one mask is empty: "diagonal", "inf", "nan" or a number of mm), threads
(0: the library's default).
"""
from __future__ import annotations

import ctypes
import os
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np

from ._lib import lib, c_status
from .errors import check
from . import _images

LABELS = {"brats2018": 0, "brats2023": 1}
_EMPTY = {"diagonal": 0, "inf": 1, "nan": 2}
REGIONS = ("WT", "TC", "ET")


class _Params(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("labels", ctypes.c_int),
                ("nsd_tolerance_mm", ctypes.c_double), ("empty_distance", ctypes.c_int),
                ("empty_distance_value", ctypes.c_double), ("ignore_geometry", ctypes.c_int32),
                ("threads", ctypes.c_int32), ("max_voxels", ctypes.c_int64),
                ("max_bytes", ctypes.c_int64), ("reserved", ctypes.c_int64 * 8)]


class _Lesion(ctypes.Structure):
    _fields_ = [("tp", ctypes.c_int64), ("fp", ctypes.c_int64), ("fn", ctypes.c_int64),
                ("rq", ctypes.c_double), ("sq_dsc", ctypes.c_double),
                ("sq_hd95", ctypes.c_double), ("pq", ctypes.c_double)]


REGION_FIELDS = ("dice", "hd95", "sensitivity", "specificity", "hd", "assd",
                  "volume_ref_mm3", "volume_pred_mm3", "nsd")


LESION_FIELDS = tuple(field[0] for field in _Lesion._fields_)


class _Region(ctypes.Structure):
    _fields_ = [(name, ctypes.c_double) for name in REGION_FIELDS] + [("lesion", _Lesion)]


class _Result(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("regions", _Region * 3)]


lib.cmf_eval_default_params.restype = _Params
lib.cmf_eval_default_params.argtypes = []
lib.cmf_evaluate_labels.restype = c_status
lib.cmf_evaluate_labels.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                    ctypes.c_int64, ctypes.c_int64,
                                    ctypes.POINTER(ctypes.c_double), ctypes.POINTER(_Params),
                                    ctypes.POINTER(_Result)]
lib.cmf_evaluate_files.restype = c_status
lib.cmf_evaluate_files.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(_Params),
                                   ctypes.POINTER(_Result)]


def _params(labels, nsd_tolerance_mm, empty_hd, ignore_geometry, threads):
    p = lib.cmf_eval_default_params()
    if labels not in LABELS:
        raise ValueError("labels must be one of %s" % ", ".join(LABELS))
    p.labels = LABELS[labels]
    if nsd_tolerance_mm is not None:
        p.nsd_tolerance_mm = nsd_tolerance_mm
    if isinstance(empty_hd, str):
        if empty_hd not in _EMPTY:
            raise ValueError("empty_hd must be a number or one of %s" % ", ".join(_EMPTY))
        p.empty_distance = _EMPTY[empty_hd]
    else:
        p.empty_distance = 3
        p.empty_distance_value = float(empty_hd)
    p.ignore_geometry = 1 if ignore_geometry else 0
    p.threads = threads
    return p


def _as_dict(result):
    out = {}
    for name, r in zip(REGIONS, result.regions):
        region = {f: getattr(r, f) for f in REGION_FIELDS}
        region["lesion"] = {f: getattr(r.lesion, f) for f in LESION_FIELDS}
        out[name] = region
    return out


def _new_result():
    result = _Result()
    result.struct_size = ctypes.sizeof(_Result)
    return result


Scores = Dict[str, Dict[str, Any]]
PathLike = Union[str, "os.PathLike[str]"]


def evaluate_files(ref_path: PathLike, pred_path: PathLike, labels: str = "brats2018",
                   nsd_tolerance_mm: Optional[float] = None,
                   empty_hd: Union[str, float] = "diagonal", ignore_geometry: bool = False,
                   threads: int = 0) -> Scores:
    """Scores a predicted NIfTI label map against a reference (header spacing in mm).
    ignore_geometry compares maps whose spacing or affine differ (the reference's spacing
    is used; dims must agree)."""
    result = _new_result()
    params = _params(labels, nsd_tolerance_mm, empty_hd, ignore_geometry, threads)
    check(lib.cmf_evaluate_files(str(ref_path).encode(), str(pred_path).encode(),
                                 ctypes.byref(params), ctypes.byref(result)))
    return _as_dict(result)


def evaluate_arrays(ref: np.ndarray, pred: np.ndarray,
                    spacing: Sequence[float] = (1.0, 1.0, 1.0), labels: str = "brats2018",
                    nsd_tolerance_mm: Optional[float] = None,
                    empty_hd: Union[str, float] = "diagonal", threads: int = 0) -> Scores:
    """Scores two numpy label arrays of shape (nz, ny, nx) (integer labels 0...255), spacing
    (x, y, z) mm."""
    ref = _images.as_labels(np.asarray(ref), "ref")
    pred = _images.as_labels(np.asarray(pred), "pred")
    if ref.shape != pred.shape or ref.ndim != 3:
        raise ValueError("ref and pred must be 3-D arrays of one shape, got %s and %s"
                         % (ref.shape, pred.shape))
    nz, ny, nx = ref.shape
    result = _new_result()
    params = _params(labels, nsd_tolerance_mm, empty_hd, False, threads)
    voxel_size = (ctypes.c_double * 3)(*_images.as_spacing(spacing))
    check(lib.cmf_evaluate_labels(ref.ctypes.data, pred.ctypes.data, nx, ny, nz, voxel_size,
                                  ctypes.byref(params), ctypes.byref(result)))
    return _as_dict(result)


def evaluate(ref: Any, pred: Any, spacing: Optional[Sequence[float]] = None,
             labels: str = "brats2018", axes: Optional[str] = None, *,
             nsd_tolerance_mm: Optional[float] = None, empty_hd: Union[str, float] = "diagonal",
             ignore_geometry: bool = False, threads: int = 0) -> Scores:
    """Scores a predicted label map against a reference, each given as a path (NIfTI), a
    nibabel image, a SimpleITK image, a numpy array or a cmfseg.Volume.

    Arrays need `axes`: "xyz" for nibabel's order (`img.get_fdata()`, shape (nx, ny, nz)) or
    "zyx" (shape (nz, ny, nx), as Volume.to_numpy() and SimpleITK's GetArrayFromImage give);
    their voxel size comes from the other input when that is an image, else from `spacing`
    (x, y, z) in mm. Images bring their own spacing and affine; as for files, ref and pred
    must be on one grid (CmfsegError, status 4) unless ignore_geometry, which keeps only
    the dims check and scores with the reference's spacing. Returns the module's dict.
    """
    options: Dict[str, Any] = dict(labels=labels, nsd_tolerance_mm=nsd_tolerance_mm,
                                   empty_hd=empty_hd, threads=threads)
    kinds = [_images.kind_of(ref, "ref"), _images.kind_of(pred, "pred")]
    arrays = _images.ArrayKind in kinds
    _images.check_axes(axes, arrays, "numpy label arrays")
    if spacing is not None and not arrays:
        raise ValueError("spacing= is the voxel size of arrays; images carry their own")
    if kinds == [_images.PathKind, _images.PathKind]:
        return evaluate_files(ref, pred, ignore_geometry=ignore_geometry, **options)
    images = {name: kind.read(value, axes)
              for name, kind, value in zip(("ref", "pred"), kinds, (ref, pred))}
    if spacing is not None:
        images = {name: image._replace(spacing=image.spacing or _images.as_spacing(spacing))
                  for name, image in images.items()}
    _images.require_same_grid(images, ignore_spacing_and_affine=ignore_geometry)
    grid_spacing = images["ref"].spacing or images["pred"].spacing
    if grid_spacing is None:
        raise ValueError("arrays carry no voxel size: give spacing=(x, y, z) in mm")
    return evaluate_arrays(images["ref"].voxels, images["pred"].voxels, grid_spacing, **options)
