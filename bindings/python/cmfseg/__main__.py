"""`python -m cmfseg ARGS...` runs the cmfseg command-line program with ARGS.

The program is the first of: $CMFSEG_CLI (set, it is the only place tried), the one bundled
in this package's `bin/` (wheels built with it, see setup.py), `cmfseg` on PATH.
"""
import os
import shutil
import sys
from pathlib import Path
from typing import List, NoReturn


def find_cli() -> str:
    """The program's path; FileNotFoundError listing the places tried when there is none."""
    explicit = os.environ.get("CMFSEG_CLI")
    bundled = str(Path(__file__).resolve().parent / "bin" / "cmfseg")
    if explicit:
        places, candidates = [explicit], [explicit]
    else:
        on_path = shutil.which("cmfseg")
        places, candidates = [bundled, "cmfseg on PATH"], [bundled] + ([on_path] if on_path else [])
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError("the cmfseg command-line program was not found (searched: %s); "
                            "set CMFSEG_CLI to its path" % ", ".join(places))


def main(args: List[str]) -> NoReturn:
    try:
        cli = find_cli()
    except FileNotFoundError as e:
        sys.exit("cmfseg: error: %s" % e)
    os.execv(cli, [cli] + args)


if __name__ == "__main__":
    main(sys.argv[1:])
