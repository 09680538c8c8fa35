"""The LPN catalogues: every interface string in the templates is translated into Thai."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from .conftest import REPO


def extract(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    # The same command the README gives staff, so a mistake in it fails here first.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "pyproject.toml",
            "-k",
            "translate:2",
            "--no-location",
            "--sort-output",
            "-o",
            str(pot),
            ".",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        return {m.id for m in read_po(f) if m.id and isinstance(m.id, str)}


def test_committed_template_is_up_to_date(tmp_path: Path) -> None:
    with (REPO / "locales" / "messages.pot").open("rb") as f:
        committed = {m.id for m in read_po(f) if m.id and isinstance(m.id, str)}
    assert extract(tmp_path) == committed, "run the pybabel extract command from the README"


def test_thai_catalogue_translates_every_string(tmp_path: Path) -> None:
    with (REPO / "locales" / "th" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="th")
    messages = [m for m in catalog if m.id]
    assert {m.id for m in messages} == extract(tmp_path)
    assert [m.id for m in messages if not m.string or m.fuzzy] == []
    assert catalog.plural_forms == "nplurals=1; plural=0;"
    for message in messages:
        assert isinstance(message.string, str)
        assert ("%(" in message.id) == ("%(" in message.string), message.id
