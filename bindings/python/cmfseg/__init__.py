"""cmfseg: brain-tumour segmentation (CMFT + CMFF) and BraTS evaluation, via ctypes.

A binding over libcmfseg.so and its public header include/cmfseg.h: `evaluate` and
`Model.segment` take paths, nibabel or SimpleITK images, numpy arrays or Volumes;
`cmfseg.cohort` runs many cases, locally or on a Dask cluster; `report` writes a case's
visual report (HTML). The library's notes (what it inferred or fell back to) go to the
`cmfseg` logger.
"""
from ._version import __version__
from ._lib import lib, ABI_VERSION
from . import _log  # noqa: F401  (the library's notes reach the `cmfseg` logger)
from .errors import CmfsegError
from .volume import Volume
from .evaluation import evaluate, evaluate_files, evaluate_arrays
from .segment import Model, CancelFlag, Segmentation
from ._report import report
from . import cohort

if lib.cmf_abi_version() != ABI_VERSION:
    raise ImportError("libcmfseg ABI %d does not match this binding's %d"
                      % (lib.cmf_abi_version(), ABI_VERSION))


def version() -> str:
    """The library's version string, e.g. '0.1.0'."""
    return lib.cmf_version().decode()


__all__ = ["__version__", "version", "CmfsegError", "Volume", "evaluate", "evaluate_files",
           "evaluate_arrays", "Model", "CancelFlag", "Segmentation", "report", "cohort"]
