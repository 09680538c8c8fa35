"""Fault injection: a build killed at any instant leaves the old site or the new one, whole.

Builds run as ``python build.py`` subprocesses and are SIGKILLed, either by themselves at their
Nth step of writing (``SITEGEN_TEST_KILL_AT``, see ``sitegen.output``) or by this test after a
random delay. After each kill, the output must equal a clean build of the old sources or of the
new ones: the same files and folders, byte for byte. The sources then switch to the other
version, so the next build starts from whatever the killed one left: a back tree half brought up
to date, a staging folder, an old site set aside, a cache or state that no longer fits.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sitegen import output
from sitegen.errors import BuildFailed
from sitegen.output import swap_dir
from sitegen.pipeline import build_site

from .conftest import REPO, SITES, copy_site, write_files

PAGES = 80  # Thai pages, each with an English fallback: some 170 files to move in
KILLS = 50  # per scenario; two scenarios run side by side


def page(number: int, text: str) -> str:
    return f"---\ntitle: หน้า {number}\n---\n\n{text} {number}\n\n[หน้าแรก](../index.md)\n"


def versions(scenario: str) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """The sources of the old and the new site, as changes to ``tests/sites/basic``."""
    old: dict[str, str | None] = {f"content/th/gen/p{n:03d}.md": page(n, "ข้อความ") for n in range(PAGES)}
    new = dict(old)
    if scenario == "every page":  # a new stylesheet name on every page, pages gone and new
        new["assets/style.css"] = (SITES / "basic/assets/style.css").read_text(encoding="utf-8") + "p{margin:0}\n"
        for n in range(0, PAGES, 10):
            new[f"content/th/gen/p{n:03d}.md"] = None
        new.update({f"content/th/more/q{n:03d}.md": page(n, "ใหม่") for n in range(20)})
    else:  # a few pages: one edited, one gone (with its folder), one new in a new folder
        new["content/th/gen/p007.md"] = page(7, "แก้ไข")
        new["content/th/gen/p008.md"] = None
        new["content/th/extra/x.md"] = page(1, "ใหม่")
    for files in (old, new):
        files.setdefault("assets/style.css", (SITES / "basic/assets/style.css").read_text(encoding="utf-8"))
    for relative in new.keys() - old.keys():
        old[relative] = None
    return old, new


def listing(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder``, with the hash of each file's bytes."""
    found: dict[str, str] = {}
    for current, folders, files in os.walk(folder):
        top = Path(current)
        for name in folders:
            found[(top / name).relative_to(folder).as_posix()] = "folder"
        for name in files:
            path = top / name
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def build_command(root: Path, out: Path) -> list[str]:
    return [sys.executable, str(REPO / "build.py"), "build", "--root", str(root), "--out", str(out), "--jobs", "1"]


def run_scenario(work: Path, scenario: str, seed: int, report: dict[str, object]) -> None:
    rng = random.Random(seed)
    old, new = versions(scenario)
    root = copy_site(work / "src")
    expected = []
    for name, files in (("old", old), ("new", new)):
        write_files(root, files, missing_ok=True)
        expected.append(listing(build_site(root, work / f"clean-{name}" / "site", jobs=1, cache=False).out))
    assert expected[0] != expected[1]

    out = work / "build" / "site"
    write_files(root, old, missing_ok=True)
    subprocess.run(build_command(root, out), check=True, capture_output=True)
    assert listing(out) == expected[0]
    current = 0
    write_files(root, new, missing_ok=True)
    started = time.monotonic()
    subprocess.run(build_command(root, out), check=True, capture_output=True)  # the slow path: no back tree yet
    duration = time.monotonic() - started
    assert listing(out) == expected[1]
    current = 1

    outcomes = {"old": 0, "new": 0}
    for kill in range(KILLS):
        target = 1 - current
        write_files(root, new if target else old, missing_ok=True)
        if kill % 15 == 7:  # now and then a full build: a lost cache, an output that is still there
            shutil.rmtree(out.parent / ".sitegen-cache")
        env = dict(os.environ)
        by_hook = kill % 2 == 0
        if by_hook:
            env["SITEGEN_TEST_KILL_AT"] = str(rng.randint(1, 40 if scenario == "a few pages" else 450))
        process = subprocess.Popen(build_command(root, out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not by_hook:
            time.sleep(rng.uniform(0.3, duration * 1.05))  # the interpreter starts in about 0.4 s
            process.send_signal(signal.SIGKILL)
        _, errors = process.communicate(timeout=120)
        assert process.returncode in (0, -signal.SIGKILL), errors.decode()
        found = listing(out)
        assert found in expected, f"kill {kill} ({'hook' if by_hook else 'timer'}): the site is neither old nor new"
        current = expected.index(found)
        outcomes[("old", "new")[current]] += 1

    write_files(root, new, missing_ok=True)
    subprocess.run(build_command(root, out), check=True, capture_output=True)
    assert listing(out) == expected[1]
    subprocess.run(build_command(root, out), check=True, capture_output=True)
    assert listing(out) == expected[1]
    swap = swap_dir(out)
    assert {p.name for p in swap.iterdir()} <= {"back", "state.json"}, "no leftovers"
    report[scenario] = outcomes


def test_a_killed_build_leaves_the_old_site_or_the_new_one(tmp_path: Path) -> None:
    report: dict[str, object] = {}
    failures: list[BaseException] = []

    def run(scenario: str, seed: int) -> None:
        try:
            run_scenario(tmp_path / str(seed), scenario, seed, report)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=args) for args in (("every page", 1), ("a few pages", 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    assert set(report) == {"every page", "a few pages"}
    for outcomes in report.values():
        assert isinstance(outcomes, dict)
        assert outcomes["old"] > 0 and outcomes["new"] > 0, f"kills landed before and after the exchange: {report}"


class Killed(BaseException):
    """Stands for a SIGKILL in a test that runs the build in its own process."""


def test_a_swap_cut_between_its_two_renames_is_undone_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the system cannot exchange two names, a kill between the renames leaves no site: for an instant."""
    root = copy_site(tmp_path / "src")
    out = tmp_path / "site"
    monkeypatch.setattr(output, "_exchange_names", lambda a, b: False)
    build_site(root, out)
    old = listing(out)
    about = root / "content/th/about.md"
    about.write_text(about.read_text(encoding="utf-8") + "\nแก้ไข\n", encoding="utf-8")
    real_rename = os.rename

    def rename(source: str | Path, target: str | Path) -> None:
        real_rename(source, target)
        if Path(target).name == output.ASIDE:
            raise Killed

    for attempt in range(2):  # the slow path first, then the back tree's
        monkeypatch.setattr(os, "rename", rename)
        with pytest.raises(Killed):
            build_site(root, out)
        monkeypatch.setattr(os, "rename", real_rename)
        assert not out.exists(), "cut between the renames"
        broken = root / "templates/page.html"
        good = broken.read_text(encoding="utf-8")
        broken.write_text("{% if %}", encoding="utf-8")
        with pytest.raises(BuildFailed):
            build_site(root, out)
        assert listing(out) == old, "a failing build first puts the old site back, and keeps it"
        broken.write_text(good, encoding="utf-8")
        build_site(root, out)
        new = listing(out)
        assert new != old and listing(build_site(root, tmp_path / f"clean{attempt}", cache=False).out) == new
        about.write_text(about.read_text(encoding="utf-8") + "\nอีกครั้ง\n", encoding="utf-8")
        old = new
