"""Fail unless the wheel holds every Django app and every file of the folders it packages.

Run from the checkout: `python .ci/wheel_contents.py dist/pushcenter-….whl`. The files are
those git tracks or would track (templates, static files, migrations, anything the code opens),
so a data file left out of pyproject.toml's package-data fails here, not on a server.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path


def source_files() -> list[str]:
    git = shutil.which("git") or "git"
    listing = subprocess.run(
        [git, "ls-files", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
        text=True,
    )
    return [name for name in listing.stdout.splitlines() if Path(name).exists()]


def missing(wheel: Path, files: list[str]) -> list[str]:
    """Name what the wheel lacks: apps (folders with an apps.py) and files of packaged folders."""
    held = set(zipfile.ZipFile(wheel).namelist())
    packaged = {name.split("/")[0] for name in held if "/" in name}
    apps = {
        name.split("/")[0] for name in files if name.count("/") == 1 and name.endswith("/apps.py")
    }
    lacking = [
        f"the app {app}/ (add it to [tool.setuptools.packages.find])"
        for app in sorted(apps - packaged)
    ]
    lacking += [name for name in files if name.split("/")[0] in packaged and name not in held]
    return lacking


def main(wheel: Path) -> int:
    lacking = missing(wheel, source_files())
    for name in lacking:
        print(f"not in {wheel.name}: {name}")
    return 1 if lacking else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
