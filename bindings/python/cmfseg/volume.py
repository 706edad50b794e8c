"""Volumes: 3-D images with their NIfTI geometry (cmf_volume)."""
from __future__ import annotations

import ctypes
import os
from typing import TYPE_CHECKING, Any, List, Sequence, Tuple, Union

from ._lib import lib, c_status
from .errors import check
from ._handle import Handle

if TYPE_CHECKING:
    import numpy

_Dims = ctypes.c_int64 * 3
_Spacing = ctypes.c_double * 3
_Affine = ctypes.c_double * 16

lib.cmf_volume_read.restype = c_status
lib.cmf_volume_read.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
lib.cmf_volume_create.restype = c_status
lib.cmf_volume_create.argtypes = [ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                                  ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_float),
                                  ctypes.POINTER(ctypes.c_void_p)]
lib.cmf_volume_free.restype = None
lib.cmf_volume_free.argtypes = [ctypes.c_void_p]
lib.cmf_volume_dims.restype = c_status
lib.cmf_volume_dims.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64)]
lib.cmf_volume_spacing.restype = c_status
lib.cmf_volume_spacing.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double)]
lib.cmf_volume_affine.restype = c_status
lib.cmf_volume_affine.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double)]
lib.cmf_volume_data.restype = ctypes.POINTER(ctypes.c_float)
lib.cmf_volume_data.argtypes = [ctypes.c_void_p]
lib.cmf_volume_write.restype = c_status
lib.cmf_volume_write.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]

UINT8 = 2
FLOAT32 = 16


class Volume(Handle):
    """A float32 image on a voxel grid, x fastest (NIfTI i, j, k order).

    `shape` is (nx, ny, nz); `to_numpy()` returns an array of shape (nz, ny, nx), the
    [D, H, W] order of the network (D = z, H = y, W = x), without changing voxel order.
    """

    _free = staticmethod(lib.cmf_volume_free)

    @classmethod
    def read(cls, path: Union[str, "os.PathLike[str]"]) -> "Volume":
        """Reads a NIfTI-1/2 file (.nii, .nii.gz, .hdr/.img)."""
        out = ctypes.c_void_p()
        check(lib.cmf_volume_read(str(path).encode(), ctypes.byref(out)))
        return cls(out.value)

    @classmethod
    def from_values(cls, shape: Sequence[int], spacing: Sequence[float] = (1.0, 1.0, 1.0),
                    values: Any = None) -> "Volume":
        """A volume of `shape` (nx, ny, nz) with the given spacing (mm).

        `values`: None (zeros), a flat x-fastest sequence of numbers, or a numpy array of
        shape (nz, ny, nx) (as returned by to_numpy); the library copies them.
        """
        nx, ny, nz = (int(v) for v in shape)
        data = None
        keep: Any
        if values is not None:
            if hasattr(values, "__array_interface__"):
                import numpy as np
                keep = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
            else:
                keep = (ctypes.c_float * len(values))(*values)
            if len(keep) != nx * ny * nz:
                raise ValueError("%d values for a %dx%dx%d grid" % (len(keep), nx, ny, nz))
            data = ctypes.cast(keep.ctypes.data if hasattr(keep, "dtype") else keep,
                               ctypes.POINTER(ctypes.c_float))
        out = ctypes.c_void_p()
        check(lib.cmf_volume_create(nx, ny, nz, _Spacing(*spacing), data, ctypes.byref(out)))
        return cls(out.value)

    @property
    def shape(self) -> Tuple[int, int, int]:
        d = _Dims()
        check(lib.cmf_volume_dims(self._handle, d))
        return tuple(d)

    @property
    def spacing(self) -> Tuple[float, float, float]:
        s = _Spacing()
        check(lib.cmf_volume_spacing(self._handle, s))
        return tuple(s)

    @property
    def affine(self) -> List[List[float]]:
        """The 4x4 voxel-to-world affine as a list of 4 rows."""
        a = _Affine()
        check(lib.cmf_volume_affine(self._handle, a))
        return [list(a[r * 4:(r + 1) * 4]) for r in range(4)]

    def values(self) -> List[float]:
        """All voxels as a Python list, x fastest."""
        nx, ny, nz = self.shape
        return lib.cmf_volume_data(self._handle)[:nx * ny * nz]

    def to_numpy(self) -> "numpy.ndarray":
        """A copy of the voxels as a numpy float32 array of shape (nz, ny, nx)."""
        import numpy as np
        nx, ny, nz = self.shape
        view = np.ctypeslib.as_array(lib.cmf_volume_data(self._handle), shape=(nz, ny, nx))
        return view.copy()

    def write(self, path: Union[str, "os.PathLike[str]"], dtype: int = FLOAT32) -> None:
        """Writes atomically; dtype UINT8 for label maps (values must be integers 0...255)."""
        check(lib.cmf_volume_write(self._handle, str(path).encode(), dtype))
