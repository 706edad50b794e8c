"""The kinds of image the Pythonic API accepts — a path, a nibabel image, a SimpleITK image,
a numpy array, a cmfseg.Volume — read into voxels in the library's (z, y, x) order with
their grid, and results made back into the kind of the input.

Each kind has read(value, axes) -> Image and like(source, voxels, axes) -> voxels (z, y, x)
as that kind on the source's grid; VolumeKind has no like: volumes go to the library as
they are. `axes` ("xyz" or "zyx") is the order of arrays, given or returned.

Optional packages are never imported here: a nibabel or SimpleITK image can only exist once
its package is imported, so `sys.modules` tells whether a value can be one.
"""
from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .errors import CmfsegError, SHAPE
from .volume import Volume

AXES = ("xyz", "zyx")
# The library's tolerance for "the same grid" (Geometry.matches): spacing and affine in mm.
GRID_TOLERANCE_MM = 1e-4
# NIfTI affines map to RAS+ world coordinates, ITK's to LPS+.
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


class Image(NamedTuple):
    """Voxels of shape (nz, ny, nx); spacing (x, y, z) in mm and the NIfTI voxel-to-world
    affine (RAS+ mm), each None where the input does not carry it (arrays)."""
    voxels: np.ndarray
    spacing: Optional[Tuple[float, float, float]]
    affine: Optional[np.ndarray]


def _is_instance(value: Any, module: str, *names: str) -> bool:
    """isinstance(value, module.names...) when the module has been imported."""
    found: Any = sys.modules.get(module)
    if found is None:
        return False
    for name in names:
        found = getattr(found, name)
    return isinstance(value, found)


class PathKind:
    """A NIfTI file, read by the library; results come back as arrays in `axes` order."""
    name = "path"

    @staticmethod
    def read(value, axes):
        with Volume.read(value) as v:
            return Image(v.to_numpy(), v.spacing, np.array(v.affine))

    @staticmethod
    def like(source, voxels, axes):
        return ArrayKind.like(source, voxels, axes)


class NibabelKind:
    """A nibabel image; results are images of its class with its affine and header."""
    name = "nibabel image"

    @staticmethod
    def read(value, axes):
        if len(value.shape) != 3:
            raise ValueError("a nibabel image of shape %s is not 3-D" % (value.shape,))
        voxels = np.asanyarray(value.dataobj).transpose(2, 1, 0)
        spacing = tuple(float(z) for z in value.header.get_zooms()[:3])
        return Image(voxels, spacing, np.asarray(value.affine, dtype=float))

    @staticmethod
    def like(source, voxels, axes):
        image = type(source)(voxels.transpose(2, 1, 0), source.affine, source.header)
        image.set_data_dtype(voxels.dtype)
        return image


class SimpleITKKind:
    """A SimpleITK image; results have its origin, spacing and direction."""
    name = "SimpleITK image"

    @staticmethod
    def read(value, axes):
        if value.GetDimension() != 3 or value.GetNumberOfComponentsPerPixel() != 1:
            raise ValueError("a SimpleITK image of size %s with %d components is not a 3-D "
                             "scalar image"
                             % (value.GetSize(), value.GetNumberOfComponentsPerPixel()))
        voxels = sys.modules["SimpleITK"].GetArrayFromImage(value)  # (z, y, x) already
        spacing = tuple(float(s) for s in value.GetSpacing())
        lps = np.eye(4)
        lps[:3, :3] = np.reshape(value.GetDirection(), (3, 3)) * spacing
        lps[:3, 3] = value.GetOrigin()
        return Image(voxels, spacing, _LPS_TO_RAS @ lps)

    @staticmethod
    def like(source, voxels, axes):
        image = sys.modules["SimpleITK"].GetImageFromArray(voxels)
        image.CopyInformation(source)
        return image


class ArrayKind:
    """A numpy array in `axes` order, without geometry; results in the same order."""
    name = "array"

    @staticmethod
    def read(value, axes):
        value = np.asarray(value)
        if value.ndim != 3:
            raise ValueError("an array of shape %s is not 3-D" % (value.shape,))
        return Image(value if axes == "zyx" else value.transpose(2, 1, 0), None, None)

    @staticmethod
    def like(source, voxels, axes):
        return voxels if axes == "zyx" else voxels.transpose(2, 1, 0)


class VolumeKind:
    """A cmfseg.Volume, read for evaluation."""
    name = "cmfseg.Volume"

    @staticmethod
    def read(value, axes):
        return Image(value.to_numpy(), value.spacing, np.array(value.affine))


def kind_of(value: Any, name: str):
    """The kind of an image argument; TypeError for anything else."""
    if isinstance(value, (str, os.PathLike)):
        return PathKind
    if isinstance(value, Volume):
        return VolumeKind
    if isinstance(value, np.ndarray):
        return ArrayKind
    if _is_instance(value, "nibabel", "spatialimages", "SpatialImage"):
        return NibabelKind
    if _is_instance(value, "SimpleITK", "Image"):
        return SimpleITKKind
    raise TypeError("%s must be a path, a nibabel or SimpleITK image, a numpy array or a "
                    "cmfseg.Volume, not %s" % (name, type(value).__name__))


def check_axes(axes: Optional[str], needed: bool, what: str) -> None:
    """axes= is required exactly when an array (or an array result) is involved."""
    if needed and axes not in AXES:
        raise ValueError("%s: give axes=\"xyz\" (nibabel's get_fdata() order) or axes=\"zyx\", "
                         "got %r" % (what, axes))
    if not needed and axes is not None:
        raise ValueError("axes= describes arrays; none is given here")


def as_spacing(spacing: Sequence[float]) -> Tuple[float, float, float]:
    """A voxel size (x, y, z) in mm as three floats; ValueError for anything else."""
    values = tuple(float(s) for s in spacing)
    if len(values) != 3:
        raise ValueError("spacing must be three sizes (x, y, z) in mm, got %r" % (spacing,))
    return values


def require_same_grid(images: dict, ignore_spacing_and_affine: bool = False) -> None:
    """CmfsegError (shape error, as the library's own check) unless the images share dims
    and, where both carry them, spacing and affine to the library's tolerance."""
    (first, a), *others = images.items()
    for name, b in others:
        if a.voxels.shape != b.voxels.shape:
            raise CmfsegError(SHAPE, "%s %s and %s %s (z, y, x) are not on the same grid: dims "
                              "differ" % (first, a.voxels.shape, name, b.voxels.shape))
        if ignore_spacing_and_affine:
            continue
        if a.spacing is not None and b.spacing is not None and \
                not np.allclose(a.spacing, b.spacing, rtol=0, atol=GRID_TOLERANCE_MM):
            raise CmfsegError(SHAPE, "%s and %s are not on the same grid: spacing %s vs %s"
                              % (first, name, a.spacing, b.spacing))
        if a.affine is not None and b.affine is not None and \
                not np.allclose(a.affine, b.affine, rtol=0, atol=GRID_TOLERANCE_MM):
            raise CmfsegError(SHAPE, "%s and %s are not on the same grid: affines differ by up "
                              "to %.6g mm" % (first, name, np.abs(a.affine - b.affine).max()))


def as_labels(voxels: np.ndarray, name: str) -> np.ndarray:
    """Label values as contiguous uint8; ValueError for values that are not integers 0...255
    (a cast would silently wrap or truncate them)."""
    with np.errstate(invalid="ignore"):  # NaN: refused below
        labels = np.ascontiguousarray(voxels, dtype=np.uint8)
    if voxels.dtype != np.uint8 and not np.array_equal(labels, voxels):
        raise ValueError("%s holds values that are not integer labels 0...255" % name)
    return labels
