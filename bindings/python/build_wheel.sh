#!/usr/bin/env bash
# Builds a wheel of the Python package that carries the native library, the command-line
# program and the library's data (setup.py), into OUT_DIR (default: bindings/python/dist).
#
#   bindings/python/build_wheel.sh LIBCMFSEG_SO CMFSEG_CLI [OUT_DIR]
#
# e.g. .build/release/libcmfseg.so .build/release/cmfseg-cli of `swift build -c release
# -Xswiftc -static-stdlib` (binaries that need a Swift toolchain are refused). Environment:
# PYTHON (default python3), which needs the `build` and `setuptools` packages (the build
# runs without an isolated environment, so offline); CMFSEG_DATA_DIR, the data folder to
# bundle (default: the source tree's Sources/CMFSeg/Resources).
set -euo pipefail
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: $0 LIBCMFSEG_SO CMFSEG_CLI [OUT_DIR]" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
absolute() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
library="$(absolute "$1")"; cli="$(absolute "$2")"; out="${3:-$here/dist}"
for f in "$library" "$cli"; do [ -f "$f" ] || { echo "$0: $f does not exist" >&2; exit 1; }; done
# The wheel must work where no Swift toolchain is installed: refuse binaries that load the
# Swift runtime as shared libraries instead of carrying it.
for f in "$library" "$cli"; do
    if readelf -d "$f" | grep -Eq '\(NEEDED\).*\[lib(swiftCore|Foundation[A-Za-z]*|dispatch)\.so\]'; then
        echo "$0: $f loads the Swift runtime from the toolchain; build it with the runtime linked in:" \
             "swift build -c release -Xswiftc -static-stdlib (the CMake build does)" >&2
        exit 1
    fi
done
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
# A copy of the package, so that no build folders are left in the source tree; the data
# folder is named explicitly because the copy is outside it.
cp -r "$here/cmfseg" "$here/pyproject.toml" "$here/setup.py" "$here/README.md" "$build/"
CMFSEG_LIBRARY="$library" CMFSEG_CLI="$cli" \
CMFSEG_DATA_DIR="${CMFSEG_DATA_DIR:-$here/../../Sources/CMFSeg/Resources}" \
    "${PYTHON:-python3}" -m build --wheel --no-isolation --outdir "$build/dist" "$build" >&2
mkdir -p "$out"
wheel="$(basename "$build"/dist/*.whl)"
mv "$build/dist/$wheel" "$out/"
echo "$out/$wheel"
