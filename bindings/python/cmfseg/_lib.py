"""Loads libcmfseg.so and declares the C functions of include/cmfseg.h for ctypes.

Search order: $CMFSEG_LIBRARY (a file path; set, it is the only place tried); the package's
own `lib/` folder (wheels built with the library, see setup.py); the SwiftPM build folders
of the source tree (release first) when the package sits in one. A library that cannot be
found is an ImportError that lists the places searched.
"""
import ctypes
import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE_DIR.parent.parent.parent


def _candidates():
    explicit = os.environ.get("CMFSEG_LIBRARY")
    if explicit:
        return [Path(explicit)]
    places = [_PACKAGE_DIR / "lib" / "libcmfseg.so"]
    if (_SOURCE_ROOT / "Package.swift").is_file():
        places += [_SOURCE_ROOT / ".build" / build / "libcmfseg.so"
                   for build in ("release", "debug")]
    return places


def _load():
    tried = []
    for path in _candidates():
        if path.is_file():
            return ctypes.CDLL(str(path)), path
        tried.append(str(path))
    raise ImportError("libcmfseg.so not found (searched: %s); build it with `swift build` "
                      "or set CMFSEG_LIBRARY" % ", ".join(tried))


lib, LIBRARY_PATH = _load()

c_status = ctypes.c_int

lib.cmf_version.restype = ctypes.c_char_p
lib.cmf_version.argtypes = []
lib.cmf_abi_version.restype = ctypes.c_uint32
lib.cmf_abi_version.argtypes = []
lib.cmf_status_string.restype = ctypes.c_char_p
lib.cmf_status_string.argtypes = [c_status]
lib.cmf_last_error_message.restype = ctypes.c_char_p
lib.cmf_last_error_message.argtypes = []

# The header's CMF_ABI_VERSION this binding was written for.
ABI_VERSION = 1
