import math
import os
import sys
from pathlib import Path

import pytest

# Test the source tree's package (not an installed one).
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PACKAGE_ROOT))
SOURCE_TREE = PACKAGE_ROOT.parent.parent
FIXTURES = SOURCE_TREE / "Tests" / "Fixtures"
LABELS = FIXTURES / "brats-labels"


def pytest_configure(config):
    config.addinivalue_line("markers", "wheel: builds and installs a wheel (needs the build "
                                       "package and the command-line program)")


def is_close(a, b, tol):
    """Equality of two metric values allowing NaN == NaN and inf == inf."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol


@pytest.fixture(scope="session")
def cli():
    """The command-line program: $CMFSEG_CLI (must exist when set), else cmfseg-cli beside the
    library the binding loaded (SwiftPM builds both into one folder)."""
    from cmfseg._lib import LIBRARY_PATH
    explicit = os.environ.get("CMFSEG_CLI")
    if explicit:
        assert Path(explicit).is_file(), "CMFSEG_CLI=%s does not exist" % explicit
        return Path(explicit)
    beside = LIBRARY_PATH.parent / "cmfseg-cli"
    if not beside.is_file():
        pytest.skip("no command-line program: set CMFSEG_CLI")
    return beside
