"""BraTS evaluation (cmf_evaluate_labels / cmf_evaluate_files) as Python dictionaries.

The result has the CLI's JSON shape: {"WT": {...}, "TC": {...}, "ET": {...}}, each region
with dice, hd95, sensitivity, specificity, hd, assd, volume_ref_mm3, volume_pred_mm3, nsd
and lesion {tp, fp, fn, rq, sq_dsc, sq_hd95, pq}. Definitions: include/cmfseg.h.
"""
import ctypes
import math

from ._lib import lib, c_status
from .errors import check

LABELS = {"brats2018": 0, "brats2023": 1}
_EMPTY = {"diagonal": 0, "inf": 1, "nan": 2}
REGIONS = ("WT", "TC", "ET")


class _Params(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("labels", ctypes.c_int),
                ("nsd_tolerance_mm", ctypes.c_double), ("empty_distance", ctypes.c_int),
                ("empty_distance_value", ctypes.c_double), ("ignore_geometry", ctypes.c_int32),
                ("threads", ctypes.c_int32)]


class _Lesion(ctypes.Structure):
    _fields_ = [("tp", ctypes.c_int64), ("fp", ctypes.c_int64), ("fn", ctypes.c_int64),
                ("rq", ctypes.c_double), ("sq_dsc", ctypes.c_double),
                ("sq_hd95", ctypes.c_double), ("pq", ctypes.c_double)]


_REGION_FIELDS = ("dice", "hd95", "sensitivity", "specificity", "hd", "assd",
                  "volume_ref_mm3", "volume_pred_mm3", "nsd")


class _Region(ctypes.Structure):
    _fields_ = [(name, ctypes.c_double) for name in _REGION_FIELDS] + [("lesion", _Lesion)]


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
        region = {f: getattr(r, f) for f in _REGION_FIELDS}
        region["lesion"] = {f: getattr(r.lesion, f) for f, _ in _Lesion._fields_}
        out[name] = region
    return out


def _new_result():
    result = _Result()
    result.struct_size = ctypes.sizeof(_Result)
    return result


def evaluate_files(ref_path, pred_path, labels="brats2018", nsd_tolerance_mm=None,
                   empty_hd="diagonal", ignore_geometry=False, threads=0):
    """Scores a predicted NIfTI label map against a reference (header spacing in mm)."""
    result = _new_result()
    params = _params(labels, nsd_tolerance_mm, empty_hd, ignore_geometry, threads)
    check(lib.cmf_evaluate_files(str(ref_path).encode(), str(pred_path).encode(),
                                 ctypes.byref(params), ctypes.byref(result)))
    return _as_dict(result)


def evaluate_arrays(ref, pred, spacing=(1.0, 1.0, 1.0), labels="brats2018",
                    nsd_tolerance_mm=None, empty_hd="diagonal", threads=0):
    """Scores two numpy label arrays of shape (nz, ny, nx) (uint8-valued), spacing (x, y, z) mm."""
    import numpy as np
    ref = np.ascontiguousarray(ref, dtype=np.uint8)
    pred = np.ascontiguousarray(pred, dtype=np.uint8)
    if ref.shape != pred.shape or ref.ndim != 3:
        raise ValueError("ref and pred must be 3-D arrays of one shape, got %s and %s"
                         % (ref.shape, pred.shape))
    nz, ny, nx = ref.shape
    result = _new_result()
    params = _params(labels, nsd_tolerance_mm, empty_hd, False, threads)
    check(lib.cmf_evaluate_labels(ref.ctypes.data, pred.ctypes.data, nx, ny, nz,
                                  (ctypes.c_double * 3)(*spacing), ctypes.byref(params),
                                  ctypes.byref(result)))
    return _as_dict(result)


def is_close(a, b, tol):
    """Equality of two metric values allowing NaN == NaN and inf == inf."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol
