"""The Nu Html Checker reports no error on any built page, stylesheet or SVG."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.screenshots import SitePage
from tools.validate_html import CheckerMissing, run_vnu, site_files


def test_nu_checker_finds_no_errors(site_dir: Path, pages: list[SitePage]) -> None:
    assert pages, "no built pages"
    try:
        errors = run_vnu(site_files(site_dir))
    except CheckerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    report = "\n".join(str(e).replace(str(site_dir) + "/", "") for e in errors)
    assert not errors, f"{len(errors)} Nu Html Checker errors:\n{report}"
