"""The stages: ``build``, ``serve`` and ``check`` run the same ones, and report the same problems."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import NoReturn

import pytest

from sitegen import pipeline
from sitegen.checks import check_site
from sitegen.errors import BuildFailed
from sitegen.pipeline import build_site, check_build, load_site, special_pages
from sitegen.workers import SpecialTask

from .conftest import MakeSite, tree_digest

# check-basic has broken links and a missing translation (en: skip) and fallback pages (my);
# these add what only a second look finds: a raw-HTML line, an image without alt text on a
# fallback's original, a kindless warning, and a link to a heading that a cached page must keep.
EXTRA: dict[str, str | bytes | None] = {
    "content/th/partners.md": '---\ntitle: พันธมิตร\n---\n\n![](logo.png)\n\n<b onclick="x()">ตัวหนา</b>\n',
    "content/th/notes.txt": "not a page\n",
    "content/en/news.md": "---\ntitle: News\n---\n\n[gone](gone.md) and [again](gone.md)\n\n[about](about.md#history)\n\n"
    "[d](dup.md) [d](dup.md)\n",  # one warning, twice on one line
    "templates/.DS_Store": b"\x00\x01 left by a file manager",  # hidden: neither reads it
    "templates/.page.html.swp": b"b0VIM 9.0",  # vim's, while the template is open
}


def test_build_and_check_report_the_same_problems(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site(EXTRA, base="check-basic")
    built = build_site(root, tmp_path / "site")
    checked = check_build(root)
    assert checked.problems == built.problems
    kinds = {p.kind for p in built.problems}
    assert {"broken-link", "missing", "no-alt", "raw-html", ""} <= kinds  # the site has each kind of problem
    assert any("/my/" in p.path for p in built.problems)  # and fallback pages
    # A second build, from the cache, reports them again: the planner changes what is rendered, not what is said.
    assert build_site(root, tmp_path / "site").problems == built.problems


def test_the_editors_report_shows_every_problem_the_build_shows(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site(EXTRA, base="check-basic")
    built = build_site(root, tmp_path / "site")
    report = check_site(root)
    shown = collections.Counter((f.path, f.line, f.message) for f in report.findings)
    shown.subtract((p.path, p.line, p.message) for p in built.problems)
    assert [problem for problem, count in shown.items() if count < 0] == [], "each as often as the build says it"


def manifests(folder: Path) -> list[str]:
    """The cache's files under ``folder`` (the lock and the exchange's state are not the cache)."""
    return sorted(p.name for p in folder.rglob("*.msgpack"))


def test_build_without_cache_writes_no_cache_and_the_same_site(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site(base="check-basic")
    cached = build_site(root, tmp_path / "cached" / "site")

    def cache_machinery(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("the plain pipeline runs no planner, recorder or look at the output")

    for name in ("gather_inputs", "plan_renders", "look_at_output", "SiteOutputs", "load_manifest", "save_manifest"):
        monkeypatch.setattr(pipeline, name, cache_machinery)
    plain = build_site(root, tmp_path / "plain" / "site", cache=False)
    monkeypatch.undo()
    # Of the cache's folder, only the output's lock, which a build with the cache takes as well.
    assert [p.name for p in (tmp_path / "plain").rglob("*") if p.is_file() and ".sitegen-cache" in p.parts] == ["lock"]
    assert manifests(tmp_path / "plain") == [] and manifests(tmp_path / "cached") != []
    assert plain.full and plain.rendered == cached.rendered
    assert plain.outputs == cached.outputs and plain.problems == cached.problems
    for name in plain.outputs:
        assert (plain.out / name).read_bytes() == (cached.out / name).read_bytes(), name


def test_a_build_without_cache_leaves_no_cache_that_a_later_build_trusts(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site(base="check-basic")
    out = tmp_path / "site"
    build_site(root, out)
    (root / "content/th/index.md").write_text("---\ntitle: หน้าแรก\n---\n\nใหม่\n", encoding="utf-8")
    (root / "content/en/about.md").unlink()
    build_site(root, out, cache=False)  # the cache now describes an older site
    again = build_site(root, out)
    assert again.full  # the old cache is not used: it describes another output folder
    clean = build_site(root, tmp_path / "clean", cache=False)
    assert {n: (out / n).read_bytes() for n in again.outputs} == {
        n: (clean.out / n).read_bytes() for n in clean.outputs
    }


def test_a_failed_build_without_cache_leaves_the_last_site_as_it_was(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site(base="check-basic")
    out = tmp_path / "site"
    build_site(root, out, cache=False)
    before = tree_digest(out)
    (root / "templates/404.html").write_text("{% if %}\n", encoding="utf-8")  # a template mistake: an error
    with pytest.raises(BuildFailed) as failed:
        build_site(root, out, cache=False)
    assert [p.path for p in failed.value.problems] == ["templates/404.html"]
    assert tree_digest(out) == before
    assert [p.name for p in (tmp_path / ".sitegen-swap" / "site").iterdir()] == ["state.json"]  # no staging left


def test_the_pages_outside_any_language_are_named_tasks(make_site: MakeSite) -> None:
    specials = special_pages(load_site(make_site(base="check-basic")))
    assert all(isinstance(task, SpecialTask) for task in specials)
    assert [(task.template, task.output) for task in specials] == [
        ("chooser.html", "index.html"),
        ("404.html", "404.html"),
    ]
    assert specials[0].context["canonical"].endswith("/")
