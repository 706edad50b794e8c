"""The package around the binding: `python -m cmfseg`, the library's lookup, and a
wheel that carries the library, the program and the data, installed into a fresh venv and
used there with the Swift toolchain hidden."""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy
import pytest

import cmfseg
from cmfseg._lib import LIBRARY_PATH
from conftest import PACKAGE_ROOT, SOURCE_TREE


def _python(*args, env=None, cwd=None, python=sys.executable, prefix=()):
    return subprocess.run([*prefix, str(python), *args], capture_output=True, text=True, env=env,
                          cwd=cwd)


def _toolchain_hidden(empty):
    """A command prefix that runs a program with the Swift toolchain's folder (<root> of the
    `swift` on PATH, <root>/usr/bin/swift) replaced by the empty folder `empty`, in a mount
    namespace; no prefix on a host without a toolchain. Fails when the namespace cannot be
    made (unshare needs root, or unprivileged user namespaces)."""
    swift = shutil.which("swift")
    if swift is None:
        return ()
    root = Path(swift).resolve().parents[2]
    assert root not in (Path("/"), Path("/usr")), "the toolchain in %s cannot be hidden" % root
    empty.mkdir()
    prefix = ("unshare", "--mount", "--map-root-user", "sh", "-c",
              'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh", str(empty), str(root))
    probe = subprocess.run([*prefix, "ls", "-A", str(root)], capture_output=True, text=True)
    assert probe.returncode == 0, "cannot hide %s in a mount namespace: %s" % (root, probe.stderr)
    assert probe.stdout == "", "%s is still visible: %s" % (root, probe.stdout)
    return prefix


def _env(**changes):
    """This process's environment, with the source package importable, and changes (None
    removes a variable)."""
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def test_python_m_cmfseg_runs_the_program(cli):
    run = _python("-m", "cmfseg", "--version", env=_env(CMFSEG_CLI=cli))
    assert run.returncode == 0 and run.stdout.strip() == cmfseg.version()
    run = _python("-m", "cmfseg", "evaluate", "--help", env=_env(CMFSEG_CLI=cli))
    assert run.returncode == 0 and "--ref-dir" in run.stdout


def test_python_m_cmfseg_without_a_program_names_the_places(tmp_path):
    run = _python("-m", "cmfseg", "--version", env=_env(CMFSEG_CLI=tmp_path / "none"))
    assert run.returncode == 1
    assert "command-line program was not found" in run.stderr
    assert str(tmp_path / "none") in run.stderr
    run = _python("-m", "cmfseg", "--version", env=_env(CMFSEG_CLI=None, PATH=tmp_path))
    assert run.returncode == 1
    assert str(PACKAGE_ROOT / "cmfseg" / "bin" / "cmfseg") in run.stderr
    assert "cmfseg on PATH" in run.stderr


def test_a_missing_library_names_the_places(tmp_path):
    run = _python("-c", "import cmfseg", env=_env(CMFSEG_LIBRARY=tmp_path / "libcmfseg.so"))
    assert run.returncode == 1
    assert "ImportError" in run.stderr and str(tmp_path / "libcmfseg.so") in run.stderr


def _data_of(library):
    """The data folder that belongs to the library: $CMFSEG_DATA_DIR, else that of the source
    tree it was built in (its build folders sit inside), else this source tree's."""
    if os.environ.get("CMFSEG_DATA_DIR"):
        return Path(os.environ["CMFSEG_DATA_DIR"])
    tree = next((p for p in Path(library).resolve().parents if (p / "Package.swift").is_file()),
                SOURCE_TREE)
    return tree / "Sources" / "CMFSeg" / "Resources"


@pytest.mark.wheel
def test_installed_wheel_carries_library_program_and_data(cli, tmp_path):
    pytest.importorskip("build", reason="python -m build is not installed")
    data = _data_of(LIBRARY_PATH)
    model = Path("models") / "cmfseg-default.safetensors"
    assert (data / model).is_file(), "%s has no default model to bundle" % data
    built = subprocess.run([str(PACKAGE_ROOT / "build_wheel.sh"), str(LIBRARY_PATH), str(cli),
                            str(tmp_path / "dist")], capture_output=True, text=True,
                           env=dict(os.environ, PYTHON=sys.executable, CMFSEG_DATA_DIR=str(data)))
    assert built.returncode == 0, built.stderr
    wheel = Path(built.stdout.strip())
    assert wheel.name == "cmfseg-%s-py3-none-%s.whl" % (
        cmfseg.__version__, sysconfig.get_platform().replace("-", "_").replace(".", "_"))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True)
    site = Path(_python("-c", "import sysconfig; print(sysconfig.get_paths()['platlib'])",
                        python=python).stdout.strip())
    # numpy from this environment (the test stays offline); nothing of the source tree.
    (site / "numpy_for_test.pth").write_text(str(Path(numpy.__file__).parent.parent) + "\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    hidden = _toolchain_hidden(tmp_path / "empty")
    check = _python("-c", "\n".join([
        "import cmfseg, cmfseg._lib",
        "print(cmfseg.__version__)",
        "print(cmfseg.__file__)",
        "print(cmfseg._lib.LIBRARY_PATH)",
        "print(cmfseg.Model.load_default().architecture)"]), env=env, cwd=tmp_path, python=python,
        prefix=hidden)
    assert check.returncode == 0, check.stderr
    version, package, library, architecture = check.stdout.split()
    assert version == cmfseg.__version__ and architecture == "cmff-m2g"
    installed = site / "cmfseg"
    assert Path(package) == installed / "__init__.py"
    assert Path(library) == installed / "lib" / "libcmfseg.so"
    # Where the library looks for its data: <dir of libcmfseg.so>/../share/cmfseg.
    assert (installed / "share" / "cmfseg" / model).read_bytes() == (data / model).read_bytes()
    program = _python("-m", "cmfseg", "--version", env=env, cwd=tmp_path, python=python,
                      prefix=hidden)
    assert program.returncode == 0, program.stderr
    assert program.stdout.strip() == cmfseg.version()
