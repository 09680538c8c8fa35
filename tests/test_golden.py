"""Golden output: the basic fixture site, built, must equal tests/golden/basic/ byte for byte.

After an intended change to the output, regenerate it and read the diff before committing:
    UPDATE_GOLDEN=1 pytest tests/test_golden.py; git diff tests/golden
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sitegen.pipeline import build_site

from .conftest import SITES

GOLDEN = Path(__file__).resolve().parent / "golden" / "basic"


def test_basic_site_matches_golden_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_site(SITES / "basic", out)
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(out, GOLDEN)
        pytest.fail("golden output rewritten: read git diff tests/golden, then run the tests without UPDATE_GOLDEN")
    built = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    golden = sorted(p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.is_file())
    assert built == golden
    for name in built:
        assert (out / name).read_bytes() == (GOLDEN / name).read_bytes(), (
            f"{name} differs from tests/golden/basic/{name}"
        )
