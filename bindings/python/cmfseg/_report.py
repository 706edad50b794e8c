"""The visual report of a segmented case (cmf_write_report): one self-contained HTML page."""
from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Optional, Sequence

from ._lib import lib, c_status
from .errors import check
from .evaluation import LABELS, PathLike


class _ReportParams(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("labels", ctypes.c_int),
                ("weights", ctypes.POINTER(ctypes.c_char_p)), ("weight_count", ctypes.c_size_t),
                ("threads", ctypes.c_int32), ("reserved", ctypes.c_int64 * 8)]


lib.cmf_report_default_params.restype = _ReportParams
lib.cmf_report_default_params.argtypes = []
lib.cmf_write_report.restype = c_status
lib.cmf_write_report.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                 ctypes.POINTER(_ReportParams)]


def report(case_dir: PathLike, seg: PathLike, ref: Optional[PathLike] = None, *, out: PathLike,
           weights: Optional[Sequence[PathLike]] = None, labels: str = "brats2018",
           threads: int = 0) -> Path:
    """Writes the visual report of a segmented case to `out` (.html) and returns its path.

    case_dir: a case folder with NAME_{t1,t1ce,t2,flair}.nii.gz; seg: the label map reported
    on; ref: reference labels (adds the BraTS scores and draws the reference beside the
    segmentation); weights: the weight files of the model that made the segmentation (its
    provenance goes on the page). The page is self-contained (images inside, nothing
    fetched): slices in three planes through the tumour, scores, volumes in cm³, the model,
    timings. Written atomically; errors raise CmfsegError (e.g. status 4 when the images and
    label maps are not on one grid) and leave no file."""
    if labels not in LABELS:
        raise ValueError("labels must be one of %s" % ", ".join(LABELS))
    params = lib.cmf_report_default_params()
    params.labels = LABELS[labels]
    params.threads = threads
    files = [os.fsencode(str(w)) for w in (weights or [])]
    array = (ctypes.c_char_p * max(1, len(files)))(*files)
    if files:
        params.weights = array
        params.weight_count = len(files)
    check(lib.cmf_write_report(os.fsencode(str(case_dir)), os.fsencode(str(seg)),
                               None if ref is None else os.fsencode(str(ref)),
                               os.fsencode(str(out)), ctypes.byref(params)))
    return Path(out)
