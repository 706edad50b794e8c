"""Build hooks: a wheel built with CMFSEG_LIBRARY set carries the native library as
cmfseg/lib/libcmfseg.so, the library's data as cmfseg/share/cmfseg/ (where the library looks,
beside itself: <lib>/../share/cmfseg) and, with CMFSEG_CLI set too, the command-line program
as cmfseg/bin/cmfseg (whose data is then at <bin>/../share/cmfseg). The data comes from
CMFSEG_DATA_DIR when set, else from the source tree's Sources/CMFSeg/Resources. Such a wheel
is tagged for this platform; without CMFSEG_LIBRARY the wheel is pure Python and the package
finds the library at run time (cmfseg/_lib.py).
"""
import os
import shutil
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py

SOURCE_DATA = Path(__file__).resolve().parent.parent.parent / "Sources" / "CMFSeg" / "Resources"
NATIVE_FOLDERS = ("lib", "bin", "share")


def native_files():
    """(source, destination inside the package) of everything the environment asks to bundle."""
    library, cli = os.environ.get("CMFSEG_LIBRARY"), os.environ.get("CMFSEG_CLI")
    if not library:
        if cli:
            raise SystemExit("CMFSEG_CLI is bundled together with the library: "
                             "set CMFSEG_LIBRARY too")
        return []
    data = Path(os.environ.get("CMFSEG_DATA_DIR") or SOURCE_DATA)
    files = [(Path(library), "lib/libcmfseg.so"), (data, "share/cmfseg")]
    if cli:
        files.append((Path(cli), "bin/cmfseg"))
    for source, _ in files:
        if not source.exists():
            raise SystemExit("cannot bundle %s: it does not exist" % source)
    return files


class BuildWithNative(build_py):
    def run(self):
        super().run()
        package = Path(self.build_lib) / "cmfseg"
        for folder in NATIVE_FOLDERS:  # nothing left over from an earlier build
            shutil.rmtree(package / folder, ignore_errors=True)
        for source, target in native_files():
            destination = package / target
            destination.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, destination)
            else:
                shutil.copy2(source, destination)  # keeps the program executable


class DistributionWithNative(Distribution):
    """Platform-specific (installed as platlib) when it carries native files."""

    def has_ext_modules(self):
        return bool(native_files())


class WheelForPlatform(bdist_wheel):
    """py3-none-<platform>: the native code is loaded through ctypes, so any Python 3 and
    ABI will do, but only on this platform."""

    def get_tag(self):
        python, abi, platform = super().get_tag()
        return (python, abi, platform) if self.root_is_pure else ("py3", "none", platform)


setup(distclass=DistributionWithNative,
      cmdclass={"build_py": BuildWithNative, "bdist_wheel": WheelForPlatform})
