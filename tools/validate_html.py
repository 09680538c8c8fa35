"""Validate the built HTML (and CSS and SVG) with the Nu Html Checker (``vnu-jar`` from npm, run with the machine's Java).

    python -m tools.validate_html [--site DIR]

Without ``--site`` the site is built first into a temporary folder. Prints one
line per error as ``file:line:column: message`` and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.screenshots import REPO_ROOT, build_into, find_pages

VNU_JAR = REPO_ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


class CheckerMissing(RuntimeError):
    """Java or vnu.jar is not installed."""


@dataclass(frozen=True)
class NuMessage:
    """One message of the Nu checker."""

    file: str
    line: int | None
    column: int | None
    message: str
    extract: str

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line, self.column) if x is not None)
        return f"{where}: {self.message}" + (f"\n    {self.extract.strip()}" if self.extract.strip() else "")


def run_vnu(files: list[Path], jar: Path = VNU_JAR) -> list[NuMessage]:
    """Check HTML, CSS and SVG files; returns the errors (warnings are not reported).

    HTML is checked in a run of its own: with ``--also-check-css`` the checker
    reports HTML line numbers one too low.
    """
    java = shutil.which("java")
    if java is None:
        raise CheckerMissing("java not found: install a JRE (apt-get install -y default-jre-headless)")
    if not jar.is_file():
        raise CheckerMissing(f"{jar} not found: run 'npm ci' first")
    html = [f for f in files if f.suffix in (".html", ".htm")]
    other = [f for f in files if f not in html]
    errors = _run(java, jar, [], html) if html else []
    if other:
        errors += _run(java, jar, ["--also-check-css", "--also-check-svg"], other)
    return errors


def _run(java: str, jar: Path, flags: list[str], files: list[Path]) -> list[NuMessage]:
    result = subprocess.run(
        [java, "-Xss16m", "-jar", str(jar), "--errors-only", *flags, "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stderr or result.stdout or '{"messages": []}')
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"vnu printed no JSON (exit {result.returncode}): {result.stderr[:500]}") from exc
    messages = [
        NuMessage(
            file=m.get("url", "").removeprefix("file:"),
            line=m.get("lastLine"),
            column=m.get("firstColumn"),
            message=f"{m.get('type')}: {m.get('message', '')}",
            extract=m.get("extract", ""),
        )
        for m in report.get("messages", [])
        if m.get("type") in ("error", "non-document-error") or m.get("subType") == "fatal"
    ]
    if result.returncode not in (0, 1) or (result.returncode == 1 and not messages):
        raise RuntimeError(f"vnu failed (exit {result.returncode}): {result.stderr[:500]}")
    return messages


def site_files(site: Path) -> list[Path]:
    """The files of a built site the checker reads: every page, stylesheet and SVG."""
    return [p.file for p in find_pages(site)] + sorted(site.rglob("*.css")) + sorted(site.rglob("*.svg"))


def main(argv: list[str] | None = None) -> int:
    """Command line: build (unless --site) and validate every page."""
    parser = argparse.ArgumentParser(prog="python -m tools.validate_html", description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, help="an already built site (default: build one now)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lpn-site-") as tmp:
        site = args.site or build_into(Path(tmp) / "site")
        files = site_files(site)
        errors = run_vnu(files)
    for error in errors:
        print(error)
    print(f"{len(files)} files checked, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
