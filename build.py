#!/usr/bin/env python3
"""Build, preview or check the site: ``python build.py --help``."""

from __future__ import annotations

import contextlib
import os
import sys

from sitegen.cli import main

if __name__ == "__main__":
    code = main()
    # Every file the command makes is written and closed by now. What is left is the interpreter
    # freeing a large heap one object at a time (about 40 ms after a build of 10,000 pages), which
    # the operating system does at once when the process ends; mypy ends the same way.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError as exc:  # a reader that went away (`| head`), a full disk: not all was said
        code = code or 1
        with contextlib.suppress(OSError):
            os.write(2, f"error: the output could not be written: {exc.strerror}\n".encode())
    os._exit(code)
