"""Models and segmentation (cmf_model_*, cmf_segment, cmf_segment_files).

Settings are keyword arguments over cmf_segment_default_params() (include/cmfseg.h):
threads, overlap, patch (an int for a cube, or (D, H, W); multiples of 16), tta,
postprocess, min_component_fraction, grouping_dilation, connectivity, min_core_voxels,
min_et_voxels, small_et_to_ncr, nonfinite_to_zero, precision ("f32", the default, or
"bf16": convolutions in bfloat16, fast on CPUs with AVX-512 BF16), windows ("grid", the
default: overlapping windows of the patch size; or "fitted": per axis the fewest windows no
larger than the patch that cover the brain, about 3x faster, each voxel predicted once),
progress and cancel. Unset ones keep the library's defaults.

progress: a callable f(fraction) called on the segmenting thread with 0 at the start, 1 at
the end and increasing values after every network call; returning False aborts the run
(CmfsegError, status 6 "aborted"; None continues). An exception raised inside it also
aborts the run, then propagates from the segment call. cancel: a CancelFlag (the library's
own flag, safe to set from any thread) or any object with is_set(), e.g. threading.Event
(polled after every network call); set, it aborts as progress returning False does.

The info dict: route ("fused", "branch_a", "branch_b", "single"), modalities (the names the
network read, in t1, t1ce, t2, flair order), class_count, summary (one line).
"""
from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ._lib import lib, c_status
from .errors import check
from ._handle import Handle
from .volume import Volume
from . import _images

ROUTES = {0: "fused", 1: "branch_a", 2: "branch_b", 3: "single"}
PRECISIONS = {"f32": 0, "bf16": 1}
WINDOWS = {"grid": 0, "fitted": 1}
MODALITIES = (("t1", 1), ("t1ce", 2), ("t2", 4), ("flair", 8))
ABORTED = 6

_Progress = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_float, ctypes.c_void_p)


class _Params(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("threads", ctypes.c_int32),
                ("overlap", ctypes.c_float), ("patch", ctypes.c_int32 * 3),
                ("tta", ctypes.c_int32), ("postprocess", ctypes.c_int32),
                ("min_component_fraction", ctypes.c_float),
                ("grouping_dilation", ctypes.c_int32), ("connectivity", ctypes.c_int32),
                ("min_core_voxels", ctypes.c_int32), ("min_et_voxels", ctypes.c_int32),
                ("small_et_to_ncr", ctypes.c_int32), ("nonfinite_to_zero", ctypes.c_int32),
                ("progress", _Progress), ("user_data", ctypes.c_void_p),
                ("cancel", ctypes.POINTER(ctypes.c_int32)), ("max_voxels", ctypes.c_int64),
                ("max_bytes", ctypes.c_int64), ("precision", ctypes.c_int32),
                ("windows", ctypes.c_int32), ("reserved", ctypes.c_int64 * 7)]


class _Info(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("route", ctypes.c_int32),
                ("modalities_used", ctypes.c_uint32), ("class_count", ctypes.c_int32),
                ("summary", ctypes.c_char * 80)]


lib.cmf_model_load.restype = c_status
lib.cmf_model_load.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t,
                               ctypes.POINTER(ctypes.c_void_p)]
lib.cmf_model_load_default.restype = c_status
lib.cmf_model_load_default.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
lib.cmf_model_free.restype = None
lib.cmf_model_free.argtypes = [ctypes.c_void_p]
lib.cmf_model_architecture.restype = ctypes.c_char_p
lib.cmf_model_architecture.argtypes = [ctypes.c_void_p]
lib.cmf_model_class_count.restype = ctypes.c_int32
lib.cmf_model_class_count.argtypes = [ctypes.c_void_p]
lib.cmf_model_metadata_count.restype = ctypes.c_size_t
lib.cmf_model_metadata_count.argtypes = [ctypes.c_void_p]
lib.cmf_model_metadata_key.restype = ctypes.c_char_p
lib.cmf_model_metadata_key.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
lib.cmf_model_metadata.restype = ctypes.c_char_p
lib.cmf_model_metadata.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
lib.cmf_model_note_count.restype = ctypes.c_size_t
lib.cmf_model_note_count.argtypes = [ctypes.c_void_p]
lib.cmf_model_note.restype = ctypes.c_char_p
lib.cmf_model_note.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
lib.cmf_segment_default_params.restype = _Params
lib.cmf_segment_default_params.argtypes = []
lib.cmf_segment.restype = c_status
lib.cmf_segment.argtypes = [ctypes.c_void_p] * 5 + [ctypes.POINTER(_Params),
                                                    ctypes.POINTER(ctypes.c_void_p),
                                                    ctypes.POINTER(ctypes.c_void_p),
                                                    ctypes.POINTER(_Info)]
lib.cmf_segment_files.restype = c_status
lib.cmf_segment_files.argtypes = [ctypes.c_void_p] + [ctypes.c_char_p] * 6 + [
    ctypes.POINTER(_Params), ctypes.POINTER(_Info)]


PathLike = Union[str, "os.PathLike[str]"]


class Segmentation(NamedTuple):
    """What Model.segment returns. labels: the label map (0, 1 NCR, 2 ED, 4 ET) in the kind
    of the input; probabilities: None, or class_count maps of that kind (background, edema,
    NCR/NET, ET; before post-processing) — or the path of their 4-D file when written there;
    info: the dict of the module doc."""
    labels: Any
    probabilities: Union[List[Any], Path, None]
    info: Dict[str, Any]


class CancelFlag:
    """The library's cancel flag (cmf_segment_params.cancel): set() from any thread stops a
    run between network calls."""

    def __init__(self) -> None:
        self._flag = ctypes.c_int32(0)

    def set(self) -> None:
        self._flag.value = 1

    def clear(self) -> None:
        self._flag.value = 0

    def is_set(self) -> bool:
        return self._flag.value != 0


class _Call:
    """One call's params struct, with the ctypes callback kept alive and the exception (if
    any) raised inside the Python progress function."""

    def __init__(self, threads=0, overlap=None, patch=None, tta=False, postprocess=True,
                 min_component_fraction=None, grouping_dilation=None, connectivity=None,
                 min_core_voxels=None, min_et_voxels=None, small_et_to_ncr=None,
                 nonfinite_to_zero=False, precision="f32", windows="grid", progress=None, cancel=None):
        p = lib.cmf_segment_default_params()
        if precision not in PRECISIONS:
            raise ValueError("precision must be one of %s, got %r" % (", ".join(PRECISIONS), precision))
        p.precision = PRECISIONS[precision]
        if windows not in WINDOWS:
            raise ValueError("windows must be one of %s, got %r" % (", ".join(WINDOWS), windows))
        p.windows = WINDOWS[windows]
        p.threads = threads
        if overlap is not None:
            p.overlap = overlap
        if patch is not None:
            sizes = (patch,) * 3 if isinstance(patch, int) else tuple(patch)
            if len(sizes) != 3:
                raise ValueError("patch must be an int or three sizes (D, H, W), got %r" % (patch,))
            p.patch[:] = [int(s) for s in sizes]
        p.tta = 1 if tta else 0
        p.postprocess = 1 if postprocess else 0
        for name, value in (("min_component_fraction", min_component_fraction),
                            ("grouping_dilation", grouping_dilation),
                            ("connectivity", connectivity), ("min_core_voxels", min_core_voxels),
                            ("min_et_voxels", min_et_voxels)):
            if value is not None:
                setattr(p, name, value)
        if small_et_to_ncr is not None:
            p.small_et_to_ncr = 1 if small_et_to_ncr else 0
        p.nonfinite_to_zero = 1 if nonfinite_to_zero else 0
        self.error = None
        self._progress = progress
        self._poll = None
        if isinstance(cancel, CancelFlag):
            self._cancel = cancel  # keeps the flag alive during the call
            p.cancel = ctypes.pointer(cancel._flag)
        elif cancel is not None:
            if not callable(getattr(cancel, "is_set", None)):
                raise TypeError("cancel must be a CancelFlag or have is_set(), e.g. threading.Event")
            self._poll = cancel
        if progress is not None and not callable(progress):
            raise TypeError("progress must be callable, got %r" % (progress,))
        self._callback = None
        if progress is not None or self._poll is not None:
            self._callback = _Progress(self._on_progress)
            p.progress = self._callback
        self.params = p

    def _on_progress(self, fraction, _user_data):
        try:
            if self._poll is not None and self._poll.is_set():
                return 0
            if self._progress is not None and self._progress(fraction) is False:
                return 0
            return 1
        except BaseException as e:  # aborts the run; re-raised after it returns
            self.error = e
            return 0

    def check(self, status):
        """Raises the progress function's exception if it stopped the run, else as check()."""
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        check(status)


def _info(info):
    return {"route": ROUTES.get(info.route, "route %d" % info.route),
            "modalities": tuple(n for n, bit in MODALITIES if info.modalities_used & bit),
            "class_count": info.class_count,
            "summary": info.summary.decode("utf-8", "replace")}


def _new_info():
    info = _Info()
    info.struct_size = ctypes.sizeof(_Info)
    return info


def _handle(volume, name):
    if volume is None:
        return None
    if not volume.handle:
        raise ValueError("%s is a closed Volume" % name)
    return volume.handle


def _path(value):
    return None if value is None else os.fsencode(value)


class Model(Handle):
    """A segmentation network loaded from safetensors weights; reusable for any number of
    cases and shareable by threads (segment calls release the GIL)."""

    _free = staticmethod(lib.cmf_model_free)

    @classmethod
    def load(cls, paths: Union[PathLike, Sequence[PathLike]]) -> "Model":
        """Loads weights from one path or a list of paths read together as one set of tensors
        (e.g. the three m2g_*.safetensors parts)."""
        if isinstance(paths, (str, bytes, os.PathLike)):
            paths = [paths]
        encoded = [os.fsencode(p) for p in paths]
        array = (ctypes.c_char_p * len(encoded))(*encoded)
        out = ctypes.c_void_p()
        check(lib.cmf_model_load(array, len(encoded), ctypes.byref(out)))
        return cls(out.value)

    @classmethod
    def load_default(cls) -> "Model":
        """The model bundled with the library; CmfsegError (status 2, IO) when the
        installation lacks it."""
        out = ctypes.c_void_p()
        check(lib.cmf_model_load_default(ctypes.byref(out)))
        return cls(out.value)

    @property
    def architecture(self) -> Optional[str]:
        """e.g. "cmff-m2g"; None once closed."""
        name = lib.cmf_model_architecture(self._handle)
        return None if name is None else name.decode()

    @property
    def metadata(self) -> Dict[str, str]:
        """The weight files' metadata plus what the loader derived: architecture, classes,
        pairs, normalisation, patch and, for models made by `cmfseg train` (the default
        model among them), their provenance (training_command, training_steps, ...)."""
        h = self._handle
        keys = [lib.cmf_model_metadata_key(h, i) for i in range(lib.cmf_model_metadata_count(h))]
        return {k.decode(): lib.cmf_model_metadata(h, k).decode() for k in keys}

    @property
    def notes(self) -> List[str]:
        """What the loader inferred or assumed (e.g. the architecture of a raw export)."""
        h = self._handle
        return [lib.cmf_model_note(h, i).decode() for i in range(lib.cmf_model_note_count(h))]

    @property
    def class_count(self) -> int:
        """Output classes (4 for BraTS models); 0 once closed."""
        return lib.cmf_model_class_count(self._handle)

    def segment(self, t1: Any = None, t1ce: Any = None, t2: Any = None, flair: Any = None, *,
                axes: Optional[str] = None, out: Optional[PathLike] = None,
                probabilities: Union[bool, PathLike, None] = False,
                **params: Any) -> Segmentation:
        """Segments one case: images of one kind on one grid, None for both images of a
        missing pair. The result (a Segmentation: labels, probabilities, info) comes back in
        the kind of the input:

        - cmfseg.Volume: Volumes with the input's geometry;
        - nibabel image: images of its class with its affine and header (labels uint8,
          probabilities float32);
        - SimpleITK image: images with its origin, spacing and direction;
        - numpy array: arrays in the input's axis order, stated by `axes`: "xyz" (nibabel's
          get_fdata() order) or "zyx" (the network's D, H, W). Arrays carry no geometry,
          which segmentation does not need;
        - path (NIfTI): with `out`, the label map is written there as segment_files does
          (`probabilities` then names the 4-D probabilities file, or is None) and labels is
          Path(out); without, arrays in `axes` order.

        probabilities: true for the probability maps; params: the settings of the module doc.
        """
        inputs = {name: value for (name, _), value in zip(MODALITIES, (t1, t1ce, t2, flair))
                  if value is not None}
        kinds = {_images.kind_of(value, name) for name, value in inputs.items()}
        if len(kinds) > 1:
            raise TypeError("t1, t1ce, t2 and flair must be of one kind, got %s"
                            % ", ".join(sorted(k.name for k in kinds)))
        kind: Any = kinds.pop() if kinds else _images.VolumeKind
        if out is not None:
            if kind is not _images.PathKind:
                raise TypeError("out= is where a case given as paths is written; this case is "
                                "%ss" % kind.name)
            if probabilities is True:
                raise TypeError("with out=, probabilities= is the path of their file")
            written = None if isinstance(probabilities, bool) else probabilities
            info = self.segment_files(**inputs, out=out, probabilities=written, **params)
            return Segmentation(Path(out), None if written is None else Path(written), info)
        if not isinstance(probabilities, bool):
            raise TypeError("probabilities= names a file only with out=; else it is true or false")
        if kind is _images.VolumeKind:
            return Segmentation(*self._segment_volumes(inputs, probabilities, params))
        _images.check_axes(axes, kind in (_images.ArrayKind, _images.PathKind),
                           "arrays, and paths without out=")
        images = {name: kind.read(value, axes) for name, value in inputs.items()}
        _images.require_same_grid(images)
        volumes = {name: Volume.from_values(image.voxels.shape[::-1],
                                            image.spacing or (1.0, 1.0, 1.0), image.voxels)
                   for name, image in images.items()}
        try:
            labels, probs, info = self._segment_volumes(volumes, probabilities, params)
        finally:
            for volume in volumes.values():
                volume.close()
        source = next(iter(inputs.values()))
        with labels:
            out_labels = kind.like(source, labels.to_numpy().astype(np.uint8), axes)
        out_probs = None
        if probs is not None:
            out_probs = []
            for p in probs:
                with p:
                    out_probs.append(kind.like(source, p.to_numpy(), axes))
        return Segmentation(out_labels, out_probs, info)

    def _segment_volumes(self, volumes: Dict[str, Volume], probabilities: bool,
                         params: Dict[str, Any]
                         ) -> Tuple[Volume, Optional[List[Volume]], Dict[str, Any]]:
        handles = [_handle(volumes.get(name), name) for name, _ in MODALITIES]
        call = _Call(**params)
        labels = ctypes.c_void_p()
        probs = None
        if probabilities:
            probs = (ctypes.c_void_p * max(self.class_count, 1))()
        info = _new_info()
        status = lib.cmf_segment(self._handle, *handles, ctypes.byref(call.params),
                                 ctypes.byref(labels), probs, ctypes.byref(info))
        # Owned first (NULL on failure), so that nothing leaks whatever check() raises.
        out_labels = Volume(labels.value)
        out_probs = None if probs is None else [Volume(h) for h in probs[:info.class_count]]
        call.check(status)
        return out_labels, out_probs, _info(info)

    def segment_files(self, t1: Optional[PathLike] = None, t1ce: Optional[PathLike] = None,
                      t2: Optional[PathLike] = None, flair: Optional[PathLike] = None,
                      out: Optional[PathLike] = None, probabilities: Optional[PathLike] = None,
                      **params: Any) -> Dict[str, Any]:
        """Reads NIfTI images (None for both of a missing pair), writes the uint8 label map to
        `out` with the input's geometry (and a 4-D float32 probabilities file when given),
        atomically: on failure no output file exists. Returns the info dict."""
        if out is None:
            raise TypeError("segment_files needs out, the label map's path")
        call = _Call(**params)
        info = _new_info()
        call.check(lib.cmf_segment_files(self._handle, _path(t1), _path(t1ce), _path(t2),
                                         _path(flair), _path(out), _path(probabilities),
                                         ctypes.byref(call.params), ctypes.byref(info)))
        return _info(info)
