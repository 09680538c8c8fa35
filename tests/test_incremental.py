"""Incremental builds: a rebuild redoes only what changed, and always equals a clean build byte for byte."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegen import cache, inputs, workers
from sitegen.cache import default_cache_dir
from sitegen.config import load_config
from sitegen.content import page_files
from sitegen.errors import BuildFailed, Collector, Problem
from sitegen.inputs import FileIndex, PageScanner
from sitegen.output import swap_dir
from sitegen.pipeline import Built, build_site

from .conftest import REPO, SITES, tree_digest

PO_HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: th\\n"\n\n'

SITE: dict[str, str] = {
    "site.yaml": (
        "title:\n  th: ไซต์ทดสอบ\n  en: Test site\nbase_url: https://example.org\ndefault_lang: th\n"
        "languages:\n  - code: th\n    name: ไทย\n    locale: th\n    calendar: buddhist\n"
        "  - code: en\n    name: English\n    locale: en\n    missing: fallback\n"
        "menu: [about]\nfooter_menu: [about, contact]\n"
    ),
    "templates/base.html": (
        '<!doctype html>\n<html lang="{{ lang.code }}">\n<head><title>{{ page.title }} · {{ site.title }}</title>\n'
        '<link rel="stylesheet" href="{{ asset(\'style.css\') }}">\n<link rel="canonical" href="{{ canonical }}">\n'
        '{% for alt in alternates %}<link rel="alternate" hreflang="{{ alt.hreflang }}" href="{{ alt.href }}">\n'
        "{% endfor %}</head>\n<body>\n"
        '<nav>{% for item in switcher %}<a href="{{ item.url }}">{{ item.lang.name }}</a>{% endfor %}</nav>\n'
        '<nav>{% for item in menu %}<a href="{{ item.url }}">{{ item.title }}</a>{% endfor %}</nav>\n'
        '{% if page.fallback %}<p>{{ _("Not translated yet.") }}</p>{% endif %}\n'
        "{% block main %}<h1>{{ page.title }}</h1>\n{{ page.content }}{% endblock %}\n"
        '{% include "partials/footer.html" %}\n</body>\n</html>\n'
    ),
    "templates/page.html": '{% extends "base.html" %}\n',
    "templates/other.html": (
        '{% extends "base.html" %}\n{% block main %}<h2>{{ page.title }}</h2>{{ page.content }}\n'
        "{% if url_for('contact') %}<a href=\"{{ url_for('contact') }}\">{{ _('Contact') }}</a>{% endif %}"
        "{% endblock %}\n"
    ),
    "templates/partials/footer.html": (
        '<footer>{{ data.org.name }} {% for item in footer_menu %}<a href="{{ item.url }}">{{ item.title }}</a>'
        '{% endfor %} {{ _("Contact") }}</footer>\n'
    ),
    "templates/chooser.html": (
        '{% for item in languages %}<a href="{{ item.url }}">{{ item.title }}</a> '
        '{{ translate(item.lang.code, "Choose") }}{% if item.help_url %} {{ item.help_url }}{% endif %}\n{% endfor %}'
    ),
    "templates/404.html": '{% for item in languages %}{{ translate(item.lang.code, "Not found") }}\n{% endfor %}',
    "data/org.yaml": "name:\n  th: องค์กร\n  en: Org\n",
    "locales/th/LC_MESSAGES/messages.po": PO_HEADER
    + 'msgid "Contact"\nmsgstr "ติดต่อ"\n\nmsgid "Choose"\nmsgstr "เลือก"\n',
    "assets/style.css": "body { color: #222; }\n",
    "content/th/index.md": "---\ntitle: หน้าแรก\n---\n\nสวัสดี [เกี่ยวกับ](about.md)\n",
    "content/en/index.md": "---\ntitle: Home\n---\n\nHello [about](about.md)\n",
    "content/th/about.md": "---\ntitle: เกี่ยวกับเรา\n---\n\n## ประวัติ\n\nเนื้อหา [ข่าว](news/a.md)\n",
    "content/en/about.md": "---\ntitle: About us\n---\n\n## History\n\nText\n",
    "content/th/contact.md": "---\ntitle: ติดต่อ\ntemplate: other.html\n---\n\nโทร\n",
    "content/th/news/a.md": "---\ntitle: ข่าว ก\n---\n\n[กลับ](../about.md#ประวัติ)\n",
}

KEYS = ("index", "about", "contact", "news/a", "news/b", "help")
BODIES = (
    "สวัสดี",
    "## ประวัติ\n\nข้อความ",
    "## History",
    "[about](about.md)",
    "[news](news/a.md)",
    "[back](../about.md#ประวัติ)",
    "[help](help.md)",
    "[missing](nothing.md)",
    "![](photo.jpg)",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "- one\n- two",
)
TEMPLATE_EDITS = (
    ("templates/page.html", '{% extends "base.html" %}\n'),
    ("templates/page.html", '{% extends "base.html" %}\n{% block main %}<h1>{{ page.title }}</h1>{% endblock %}\n'),
    ("templates/partials/footer.html", "<footer>{{ data.org.name }}</footer>\n"),
    ("templates/partials/footer.html", '<footer>{{ _("Contact") }} {{ url_for("help") }}</footer>\n'),
    ("templates/other.html", '{% extends "base.html" %}\n'),
    ("templates/home.html", '{% extends "base.html" %}\n{% block main %}HOME {{ page.content }}{% endblock %}\n'),
    ("templates/home.html", None),
    ("templates/404.html", '{{ translate("en", "Not found") }}'),
)
OTHER_EDITS = (
    ("data/org.yaml", "name:\n  th: องค์กร\n  en: Org\n"),
    ("data/org.yaml", "name:\n  th: มูลนิธิ\n  en: Foundation\n"),
    ("data/extra.yaml", "note: unused\n"),
    ("locales/th/LC_MESSAGES/messages.po", PO_HEADER + 'msgid "Contact"\nmsgstr "ติดต่อเรา"\n'),
    ("locales/th/LC_MESSAGES/messages.po", PO_HEADER + 'msgid "Choose"\nmsgstr "เลือกภาษา"\n'),
    ("locales/en/LC_MESSAGES/messages.po", PO_HEADER.replace("th", "en") + 'msgid "Choose"\nmsgstr "Pick"\n'),
    ("assets/style.css", "body { color: #000; }\n"),
    ("assets/extra.css", "p { margin: 0; }\n"),
    ("site.yaml", SITE["site.yaml"].replace("menu: [about]", "menu: [about, contact]")),
    ("site.yaml", SITE["site.yaml"]),
)

Edit = tuple[str, str | None]  # a file and its new text; None deletes it


@st.composite
def page_edits(draw: st.DrawFn) -> Edit:
    lang = draw(st.sampled_from(("th", "en")))
    key = draw(st.sampled_from(KEYS))
    path = f"content/{lang}/{key}.md"
    if draw(st.integers(0, 3)) == 0:
        return (path, None)
    title = draw(st.sampled_from(("หน้า", "Page", "About us", "เกี่ยวกับเรา")))
    template = "template: other.html\n" if draw(st.booleans()) else ""
    body = "\n\n".join(draw(st.lists(st.sampled_from(BODIES), max_size=3)))
    return (path, f"---\ntitle: {title}\n{template}---\n\n{body}\n")


EDITS = st.one_of(page_edits(), page_edits(), st.sampled_from(TEMPLATE_EDITS), st.sampled_from(OTHER_EDITS))


class Clock:
    """Gives every write a distinct mtime, so that file stats alone reveal each edit."""

    def __init__(self) -> None:
        self.ns = 1_000_000_000_000_000_000

    def write(self, root: Path, relative: str, text: str | None) -> None:
        path = root / relative
        if text is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.ns += 1_000_000_000
        os.utime(path, ns=(self.ns, self.ns))


def write_site(root: Path, files: dict[str, str], clock: Clock | None = None) -> Path:
    clock = clock or Clock()
    for relative, text in files.items():
        clock.write(root, relative, text)
    return root


def outcome(root: Path, out: Path, **options: object) -> Built | tuple[Problem, ...]:
    """A build's result, or the problems that stopped it."""
    try:
        return build_site(root, out, **options)  # type: ignore[arg-type]
    except BuildFailed as exc:
        return exc.problems


@contextmanager
def stats_trusted(trusted: bool) -> Iterator[None]:
    """With ``trusted``, no file counts as racy: changes must be seen from stats alone."""
    with mock.patch.object(inputs, "RACY_NS", -(10**30) if trusted else inputs.RACY_NS):
        yield


def check_edits(work: Path, edits: list[Edit]) -> list[int]:
    """Apply each edit, build incrementally and from scratch, and compare the two, byte for byte.

    Returns the steps after which the site did not build (and both builds failed alike)."""
    failed: list[int] = []
    clock = Clock()
    root = write_site(work / "src", SITE, clock)
    out = work / "inc" / "site"
    build_site(root, out, jobs=1)
    for step, (relative, text) in enumerate(edits):
        clock.write(root, relative, text)
        before = tree_digest(out)
        incremental = outcome(root, out, jobs=1)
        clean_out = work / f"clean{step}" / "site"
        clean = outcome(root, clean_out, jobs=1, cache=False)
        if isinstance(clean, tuple):
            assert incremental == clean, f"after {relative}: the incremental build must fail the same way"
            assert tree_digest(out) == before, "a failed build must leave the output as it was"
            failed.append(step)
            continue
        assert isinstance(incremental, Built), f"after {relative}: {incremental}"
        assert incremental.problems == clean.problems
        assert tree_digest(out) == tree_digest(clean_out), f"after editing {relative}"
        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == sorted(
            p.relative_to(clean_out).as_posix() for p in clean_out.rglob("*")
        ), "the same folders too"
    return failed


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(EDITS, min_size=1, max_size=6), trusted=st.booleans())
def test_incremental_build_equals_clean_build(tmp_path: Path, edits: list[Edit], trusted: bool) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp, stats_trusted(trusted):
        check_edits(Path(tmp), edits)


HELP = "---\ntitle: ช่วยด้วย\n---\n\nโทร\n"
SCENARIOS: dict[str, list[Edit]] = {
    "link target appears": [
        ("content/th/news/a.md", "---\ntitle: ก\n---\n\n[help](../help.md)\n"),
        ("content/th/help.md", HELP),
    ],
    "link target goes": [
        ("content/th/news/b.md", HELP),
        ("content/th/index.md", "---\ntitle: ก\n---\n\n[b](news/b.md)\n"),
        ("content/th/news/b.md", None),
    ],
    "url_for target appears": [TEMPLATE_EDITS[3], ("content/en/help.md", HELP)],
    "catalogue of another language": [
        ("locales/en/LC_MESSAGES/messages.po", PO_HEADER.replace("th", "en") + 'msgid "Choose"\nmsgstr "Pick"\n')
    ],
    "template appears and goes": [TEMPLATE_EDITS[5], TEMPLATE_EDITS[6]],
    "partial changes": [TEMPLATE_EDITS[2], TEMPLATE_EDITS[3]],
    "translation appears": [("content/en/contact.md", "---\ntitle: Contact\n---\n\nCall\n")],
    "data changes": [OTHER_EDITS[1], OTHER_EDITS[2]],
    "asset changes": [OTHER_EDITS[6], OTHER_EDITS[7]],
    "menu changes": [OTHER_EDITS[8], ("content/th/contact.md", "---\ntitle: ติดต่อเรา\n---\n\nโทร\n")],
    # A mistake, an edit while the site is broken, then the fix: the failing path, on purpose.
    "break, edit, fix": [
        ("templates/other.html", '{% extends "base.html" %}{% block main %}{{ oops.x }}{% endblock %}'),
        ("content/th/about.md", "---\ntitle: ใหม่\n---\n\nใหม่\n"),
        ("templates/other.html", SITE["templates/other.html"]),
    ],
}
FAILING_STEPS = {"break, edit, fix": [0, 1]}


@pytest.mark.parametrize("trusted", [False, True], ids=["racy", "trusted-stats"])
@pytest.mark.parametrize("name", SCENARIOS)
def test_each_kind_of_dependency(tmp_path: Path, name: str, trusted: bool) -> None:
    with stats_trusted(trusted):
        assert check_edits(tmp_path, SCENARIOS[name]) == FAILING_STEPS.get(name, [])


def file_identities(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_second_build_without_changes_writes_no_files(tmp_path: Path) -> None:
    root = write_site(tmp_path / "src", SITE)
    out = tmp_path / "site"
    first = build_site(root, out, jobs=1)
    assert first.full and first.rendered == sum(1 for name in first.outputs if name.endswith(".html"))
    before = file_identities(out)
    second = build_site(root, out, jobs=1)
    assert (second.rendered, second.written, second.removed, second.full) == (0, (), (), False)
    assert file_identities(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sitegen-cache", ".sitegen-swap", "site", "src"], (
        "no staging left"
    )


def test_an_edit_rebuilds_the_page_and_its_translation_only(tmp_path: Path) -> None:
    clock = Clock()
    root = write_site(tmp_path / "src", SITE, clock)
    out = tmp_path / "site"
    build_site(root, out, jobs=1)
    clock.write(root, "content/th/news/a.md", "---\ntitle: ข่าว ก\n---\n\nแก้ไขแล้ว\n")
    built = build_site(root, out, jobs=1)
    assert built.rendered == 2, "the page and its English fallback"
    assert built.written == ("en/news/a/index.html", "th/news/a/index.html")
    clock.write(root, "content/en/about.md", "---\ntitle: About\n---\n\nNew title in the menu\n")
    built = build_site(root, out, jobs=1)
    english = [p for p in built.outputs if p.startswith("en/")]
    assert set(built.written) == set(english), "a menu title is on every page of its language"


def test_deleted_page_output_is_removed(tmp_path: Path) -> None:
    clock = Clock()
    root = write_site(tmp_path / "src", SITE, clock)
    out = tmp_path / "site"
    build_site(root, out, jobs=1)
    assert (out / "th/news/a/index.html").is_file()
    clock.write(root, "content/th/news/a.md", None)
    clock.write(root, "content/th/about.md", "---\ntitle: เกี่ยวกับเรา\n---\n\nไม่มีลิงก์\n")
    built = build_site(root, out, jobs=1)
    assert built.removed == ("en/news/a/index.html", "th/news/a/index.html")
    assert not (out / "th/news").exists() and not (out / "en/news").exists(), "empty folders go too"
    clean = build_site(root, tmp_path / "clean", cache=False)
    assert tree_digest(out) == tree_digest(clean.out)


def cache_files(out: Path) -> dict[str, Path]:
    """The cache's head and one shard with something in it."""
    folder = default_cache_dir(out)
    shard = next(p for p in sorted(folder.iterdir()) if p.name.startswith("shard-"))
    return {"head": folder / cache.HEAD, "shard": shard}


def swap_engine(data: bytes) -> bytes:
    magic, engine, rest = data.split(b"\n", 2)
    return b"\n".join([magic, b"0" * len(engine), rest])


@pytest.mark.parametrize("part", ["head", "shard"])
@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:-10] + bytes(10),  # bytes changed
        lambda data: b"not a cache at all",
        lambda data: data.replace(b"sitegen-cache ", b"sitegen-cache 0", 1),  # another format
        swap_engine,  # another version of the engine or of a library
        lambda data: b"",
        None,  # deleted
    ],
    ids=["truncated", "corrupted", "garbage", "old-format", "other-engine", "empty", "deleted"],
)
def test_a_damaged_or_foreign_cache_is_discarded(
    tmp_path: Path, part: str, damage: Callable[[bytes], bytes] | None
) -> None:
    clock = Clock()
    root = write_site(tmp_path / "src", SITE, clock)
    out = tmp_path / "site"
    build_site(root, out, jobs=1)
    path = cache_files(out)[part]
    if damage is None:
        path.unlink()
    else:
        path.write_bytes(damage(path.read_bytes()))
    clock.write(root, "content/en/about.md", "---\ntitle: About\n---\n\nChanged while the cache was broken\n")
    built = build_site(root, out, jobs=1)
    assert built.full, "a cache that cannot be trusted is not used"
    assert tree_digest(out) == tree_digest(build_site(root, tmp_path / "clean", cache=False).out)
    assert not build_site(root, out, jobs=1).full, "and a good one is written in its place"


def test_a_rebuild_rewrites_only_the_cache_files_that_changed(tmp_path: Path) -> None:
    clock = Clock()
    root = write_site(tmp_path / "src", SITE, clock)
    out = tmp_path / "site"
    build_site(root, out, jobs=1)
    before = {p.name for p in default_cache_dir(out).iterdir()}
    clock.write(root, "content/th/news/a.md", "---\ntitle: ข่าว ก\n---\n\nแก้ไขแล้ว\n")
    build_site(root, out, jobs=1)
    after = {p.name for p in default_cache_dir(out).iterdir()}
    assert 0 < len(after - before) < len(before) - 1, "some shards are new, the others are kept"
    assert not any(p.name.startswith(".") for p in default_cache_dir(out).iterdir()), "no temporary files"


def test_a_cache_for_another_output_folder_is_not_used(tmp_path: Path) -> None:
    root = write_site(tmp_path / "src", SITE)
    out = tmp_path / "site"
    build_site(root, out, jobs=1)
    (out / "th/index.html").unlink()
    (out / "en/index.html").write_text("edited by hand")
    built = build_site(root, out, jobs=1)
    assert built.written == ("en/index.html", "th/index.html"), "outputs changed by hand are made again"
    os.rename(out, tmp_path / "moved")
    out.mkdir()
    assert build_site(root, out, jobs=1).full, "a new output folder gets a full build"
    assert tree_digest(out) == tree_digest(tmp_path / "moved")


def test_a_failed_incremental_build_changes_nothing(tmp_path: Path) -> None:
    clock = Clock()
    root = write_site(tmp_path / "src", SITE, clock)
    out = tmp_path / "site"
    build_site(root, out, jobs=1)
    before = tree_digest(out)
    cached = {p.name: p.read_bytes() for p in default_cache_dir(out).glob("*.msgpack")}
    clock.write(root, "content/th/about.md", "---\ntitle: ใหม่\n---\n\nใหม่\n")
    clock.write(root, "templates/other.html", '{% extends "base.html" %}{% block main %}{{ oops.x }}{% endblock %}')
    with pytest.raises(BuildFailed):
        build_site(root, out, jobs=1)
    assert tree_digest(out) == before
    assert {p.name: p.read_bytes() for p in default_cache_dir(out).glob("*.msgpack")} == cached
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sitegen-cache", ".sitegen-swap", "site", "src"]
    clock.write(root, "templates/other.html", SITE["templates/other.html"])
    build_site(root, out, jobs=1)
    assert tree_digest(out) == tree_digest(build_site(root, tmp_path / "clean", cache=False).out)


def interrupted_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: int
) -> tuple[Path, Path, list[str], dict[str, str]]:
    """A site built twice (so it has a back tree), edited, then rebuilt on a disk that fills up after ``cut`` moves."""
    clock = Clock()
    root = write_site(tmp_path / "src", SITE, clock)
    out = tmp_path / "site"
    build_site(root, out, jobs=1)
    clock.write(root, "content/th/about.md", "---\ntitle: เกี่ยวกับเรา\n---\n\n## ประวัติ\n\nแก้ [ข่าว](news/a.md)\n")
    build_site(root, out, jobs=1)
    clock.write(root, "assets/style.css", "body { color: #000; }\n")  # a new asset name on every page
    clock.write(root, "content/th/news/a.md", None)
    clock.write(root, "content/th/about.md", SITE["content/th/about.md"].replace("[ข่าว](news/a.md)", ""))
    before = tree_digest(out)
    moved: list[str] = []
    real_replace = os.replace
    swap = swap_dir(out)

    def replace(source: str | Path, target: str | Path) -> None:
        if not Path(target).is_relative_to(swap) or Path(target).name == "state.json":
            return real_replace(source, target)
        if len(moved) == cut:
            raise OSError(28, "No space left on device", str(target))
        real_replace(source, target)
        moved.append(str(target))

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="No space left"):
        build_site(root, out, jobs=1)
    monkeypatch.setattr(os, "replace", real_replace)
    return root, out, moved, before


@pytest.mark.parametrize("cut", [0, 1, 5])
def test_an_update_cut_short_leaves_the_old_site_and_the_next_build_finishes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: int
) -> None:
    root, out, moved, before = interrupted_update(tmp_path, monkeypatch, cut)
    assert len(moved) == cut
    assert tree_digest(out) == before and (out / "th/news/a/index.html").is_file(), "the old site, whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sitegen-cache", ".sitegen-swap", "site", "src"]
    assert sorted(p.name for p in (swap_dir(out)).iterdir()) == ["back"], "no staging; state gone"
    build_site(root, out, jobs=1)
    assert tree_digest(out) == tree_digest(build_site(root, tmp_path / "clean", cache=False).out)


def test_folders_left_by_a_killed_build_are_removed(tmp_path: Path) -> None:
    root = write_site(tmp_path / "src", SITE)
    out = tmp_path / "site"
    others = [".other.new-x1y2z3w4", ".site.new-x1y2z3w4", ".site.new-notmine"]  # beside the output: never touched
    for name in others:
        (tmp_path / name).mkdir()
    build_site(root, out, jobs=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*others, ".sitegen-cache", ".sitegen-swap", "site", "src"]
    )
    swap = swap_dir(out)
    for name in ("new-x1y2z3w4", "aside"):  # a staging folder; an old site set aside, with the site in place
        (swap / name / "th").mkdir(parents=True)
    (swap / ".state.json.ab_1cd2e.tmp").write_text("{")  # a state cut short while replace_file wrote it
    build_site(root, out, jobs=1)
    assert sorted(p.name for p in swap.iterdir()) == ["state.json"]


@pytest.mark.parametrize(
    "damage",
    ["swap-is-a-file", "state-is-a-folder", "back-is-a-file", "aside-is-a-file", "back-is-a-link"],
)
def test_a_swap_folder_of_the_wrong_shape_means_a_slower_build_not_an_error(tmp_path: Path, damage: str) -> None:
    clock = Clock()
    root = write_site(tmp_path / "src", SITE, clock)
    out = tmp_path / "site"
    build_site(root, out, jobs=1)
    clock.write(root, "content/th/about.md", "---\ntitle: ใหม่\n---\n\nใหม่\n")
    build_site(root, out, jobs=1)  # now there is a back tree
    swap = swap_dir(out)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    what, _, shape = damage.partition("-is-a-")
    path = swap if what == "swap" else swap / ("state.json" if what == "state" else what)
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    if shape == "file":
        path.write_text("{}")
    elif shape == "folder":
        (path / "x").mkdir(parents=True)
    else:
        path.symlink_to(elsewhere)
    clock.write(root, "content/th/about.md", "---\ntitle: ใหม่อีก\n---\n\nใหม่อีก\n")
    for _ in range(2):
        build_site(root, out, jobs=1)
        assert tree_digest(out) == tree_digest(build_site(root, tmp_path / "clean", cache=False).out)
    assert (elsewhere / "keep.txt").read_text() == "keep"


@pytest.mark.parametrize("cache_dir", [None, "elsewhere"])
def test_a_second_build_into_the_same_output_waits_for_the_first(tmp_path: Path, cache_dir: str | None) -> None:
    root = write_site(tmp_path / "src", SITE)
    out = tmp_path / "site"
    waited = threading.Event()
    results: list[Built] = []

    def second_build() -> None:
        cache = tmp_path / cache_dir if cache_dir else None  # a cache of its own: the same output, the same lock
        results.append(build_site(root, out, jobs=1, cache_dir=cache, waiting=waited.set))

    with cache.build_lock(default_cache_dir(out.resolve())):  # a first build, holding the output
        second = threading.Thread(target=second_build)
        second.start()
        assert waited.wait(timeout=30), "the second build said it was waiting"
        assert second.is_alive() and not out.exists(), "and it writes nothing while it waits"
    second.join(timeout=60)
    assert len(results) == 1 and results[0].full and (out / "th/index.html").is_file()


def test_a_file_system_without_locks_still_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    def no_locks(handle: object, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    built = build_site(write_site(tmp_path / "src", SITE), tmp_path / "site", jobs=1)
    assert built.full and (tmp_path / "site/th/index.html").is_file()


def test_pools_give_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "PARALLEL_PARSE_MIN", 1)
    monkeypatch.setattr(workers, "PARALLEL_RENDER_MIN", 1)
    files = dict(SITE)
    for number in range(30):
        files[f"content/th/news/n{number}.md"] = f"---\ntitle: ข่าว {number}\n---\n\n[ต่อไป](n{number + 1}.md)\n"
    root = write_site(tmp_path / "src", files)
    parallel = outcome(root, tmp_path / "two", jobs=2)
    serial = outcome(root, tmp_path / "one", jobs=1)
    assert isinstance(parallel, Built) and isinstance(serial, Built)
    assert parallel.problems == serial.problems and parallel.problems, "the broken link to n30 is reported"
    assert tree_digest(tmp_path / "two") == tree_digest(tmp_path / "one")
    (root / "content/th/news/n3.md").write_text("---\ntitle: แก้\n---\n\nแก้\n", encoding="utf-8")
    again = build_site(root, tmp_path / "two", jobs=2)
    assert again.written == ("en/news/n3/index.html", "th/news/n3/index.html")


@pytest.mark.parametrize("root", [SITES / "basic", REPO], ids=["basic", "lpn"])
def test_page_scanner_finds_each_page_file_as_read_alone(root: Path, tmp_path: Path) -> None:
    config = load_config(root)
    read = [workers.parse_page(root, f) for f in page_files(config, Collector())]
    expected = [p.source for p in read if p.source and not p.source.meta.draft]
    scanner = PageScanner(FileIndex(root, None), None, jobs=1)
    assert scanner.find(config, Collector()) == expected
    assert scanner.bodies is not None
    assert {path: scanner.bodies.get(path) for path in scanner.bodies.found} == {
        p.path: p.body.decode() for p in read if p.source and isinstance(p.body, bytes)
    }
    assert len(expected) >= 5


def test_a_folder_named_like_a_page_is_walked_into_not_read(tmp_path: Path) -> None:
    # The plain scan used to glob "*.md", folders included, and crash reading one.
    root = write_site(tmp_path / "src", {**SITE, "content/th/odd.md/inner.md": "---\ntitle: ใน\n---\n\nข้อความ\n"})
    # A folder name with a dot breaks the page-name rule: it is reported, and the folder is not read as a page.
    found = Collector()
    keys = [p.key for p in PageScanner(FileIndex(root, None), None, jobs=1).find(load_config(root), found)]
    assert "odd" not in keys and "odd.md/inner" not in keys and "index" in keys
    assert [(p.path, p.hint) for p in found.errors] == [
        ("content/th/odd.md/inner.md", "rename it to content/th/odd-md/inner.md")
    ]


def test_a_file_changed_just_before_the_last_scan_is_read_again(tmp_path: Path) -> None:
    """File times are coarse: an edit in the same tick as a scan can leave the stat as it was."""
    path = tmp_path / "page.md"
    path.write_text("one", encoding="utf-8")
    stat = cache.file_stat(path.stat())
    changed_at = max(stat[1], stat[2])
    previous = cache.Manifest("engine", str(tmp_path), inputs={"page.md": cache.InputFile(stat, "old digest")})
    previous.scanned_ns = changed_at + inputs.RACY_NS // 2  # scanned soon after the change: racy
    assert FileIndex(tmp_path, previous).digest("page.md") == cache.digest_bytes(b"one")
    previous.scanned_ns = changed_at + inputs.RACY_NS * 2  # scanned long after: the stat is trusted
    assert FileIndex(tmp_path, previous).digest("page.md") == "old digest"
