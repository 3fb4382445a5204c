#!/usr/bin/env python
"""Run Push Center's administrative commands (the same as the installed `pushcenter` command)."""

from pushcenter.__main__ import main

if __name__ == "__main__":
    main()
