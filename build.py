#!/usr/bin/env python3
"""Build, preview or check the site: ``python build.py --help``."""

from __future__ import annotations

import os
import sys

from sitegen.cli import main

if __name__ == "__main__":
    code = main()
    # Every file the command makes is written and closed by now. What is left is the interpreter
    # freeing a large heap one object at a time (about 40 ms after a build of 10,000 pages), which
    # the operating system does at once when the process ends; mypy ends the same way.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
