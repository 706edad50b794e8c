import re

import cmfseg


def test_version_is_semver():
    assert re.fullmatch(r"\d+\.\d+\.\d+", cmfseg.version())


def test_status_string_from_library_matches_binding_names():
    from cmfseg._lib import lib
    from cmfseg.errors import STATUS_NAMES
    for code, name in STATUS_NAMES.items():
        assert lib.cmf_status_string(code).decode() == name


def test_package_version_is_the_library_version():
    assert cmfseg.__version__ == cmfseg.version()
