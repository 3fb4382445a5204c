"""`pushcenter COMMAND` (or `python -m pushcenter COMMAND`): manage.py for an installed Push Center.

The wheel has no manage.py; this is the same entry point, so `pushcenter migrate`,
`pushcenter serve` and `pushcenter demo` work wherever the package is installed.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run a Django management command with Push Center's settings (unless others are named)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pushcenter.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
