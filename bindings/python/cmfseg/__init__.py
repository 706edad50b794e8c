"""cmfseg: brain-tumour segmentation (CMFT + CMFF) and BraTS evaluation, via ctypes.

A thin binding over libcmfseg.so and its public header include/cmfseg.h.
"""
from ._lib import lib, ABI_VERSION
from .errors import CmfsegError
from .volume import Volume
from .evaluate import evaluate_files, evaluate_arrays
from .segment import Model, CancelFlag

if lib.cmf_abi_version() != ABI_VERSION:
    raise ImportError("libcmfseg ABI %d does not match this binding's %d"
                      % (lib.cmf_abi_version(), ABI_VERSION))


def version():
    """The library's version string, e.g. '0.1.0'."""
    return lib.cmf_version().decode()


__all__ = ["version", "CmfsegError", "Volume", "evaluate_files", "evaluate_arrays",
           "Model", "CancelFlag"]
