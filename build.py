#!/usr/bin/env python3
"""Build, preview or check the site: ``python build.py --help``."""

from __future__ import annotations

import sys

from sitegen.cli import main

if __name__ == "__main__":
    sys.exit(main())
