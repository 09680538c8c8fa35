"""Writing: content-hashed assets, one writer per path, and a swap that never leaves half a site."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from sitegen.cache import Output, default_cache_dir, engine_fingerprint, load_manifest, save_manifest
from sitegen.cli import main
from sitegen.errors import BuildFailed, SiteError
from sitegen.output import (
    MARKER,
    find_assets,
    find_strays,
    hashed_name,
    look_at_folders,
    look_at_output,
    make_staging,
    output_folders,
    publish_changes,
    publish_full,
    read_state,
    swap_dir,
    write_file,
)
from sitegen.pipeline import build_site

from .conftest import SITES, MakeSite, tree_digest


def test_hashed_name_changes_with_the_bytes() -> None:
    digest = hashlib.sha256(b"body{}").hexdigest()[:10]
    assert hashed_name("css/style.css", b"body{}") == f"css/style.{digest}.css"
    assert hashed_name("style.css", b"body{ }") != hashed_name("style.css", b"body{}")


def test_assets_are_found_sorted_with_hashed_outputs(tmp_path: Path) -> None:
    (tmp_path / "assets" / "img").mkdir(parents=True)
    (tmp_path / "assets" / "style.css").write_text("a{}")
    (tmp_path / "assets" / "img" / "logo.svg").write_text("<svg/>")
    (tmp_path / "assets" / ".DS_Store").write_text("x")
    assets = find_assets(tmp_path)
    assert [a.name for a in assets] == ["img/logo.svg", "style.css"]
    assert assets[1].url == f"/assets/style.{hashlib.sha256(b'a{}').hexdigest()[:10]}.css"


def staged(out: Path, files: dict[str, bytes]) -> Path:
    staging = make_staging(out)
    for relative, content in files.items():
        write_file(staging, relative, content)
    return staging


def stat_of(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def test_a_full_publish_replaces_the_whole_output(tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish_full(staged(out, {"a.html": b"one", "old.html": b"old"}), out)
    publish_full(staged(out, {"a.html": b"two"}), out)
    assert tree_digest(out) == {"a.html": hashlib.sha256(b"two").hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sitegen-swap", "site"]
    assert sorted(p.name for p in swap_dir(out).iterdir()) == ["state.json"], "no staging, old folder or back tree left"


def test_changes_go_in_with_one_exchange_and_removals_prune_empty_folders(tmp_path: Path) -> None:
    out = tmp_path / "site"
    files = {"a.html": b"one", "news/x/index.html": b"x", "keep.html": b"k"}
    publish_full(staged(out, files), out)
    (swap_dir(out) / "state.json").unlink()
    for _ in range(3):  # the slow path (no state), then the back tree's
        kept = {"keep.html": stat_of(out / "keep.html")}
        publish_changes(
            out, staged(out, {"a.html": b"two"}), read_state(out), kept, ["a.html"], ["news/x/index.html"], [], 0
        )
        assert tree_digest(out) == {
            "a.html": hashlib.sha256(b"two").hexdigest(),
            "keep.html": hashlib.sha256(b"k").hexdigest(),
        }
        assert not (out / "news").exists(), "folders emptied by a removal go too"
        assert sorted(p.name for p in tmp_path.iterdir()) == [".sitegen-swap", "site"]
        assert (out / "keep.html").stat().st_nlink == 2, "shared with the back tree"


@pytest.mark.parametrize(
    "state", ["missing", "garbage", "not-json", "wrong-site", "outside", "dotdot", "absolute", "deep", "half-char"]
)
def test_a_state_that_cannot_be_trusted_is_not_used(tmp_path: Path, state: str) -> None:
    out = tmp_path / "site"
    publish_full(staged(out, {"a.html": b"one", "b.html": b"b"}), out)
    publish_changes(
        out,
        staged(out, {"a.html": b"two"}),
        read_state(out),
        {"b.html": stat_of(out / "b.html")},
        ["a.html"],
        [],
        [],
        0,
    )
    good = read_state(out)
    assert good is not None and good.back is not None and good.lag == ("a.html",)
    raw = json.loads((swap_dir(out) / "state.json").read_text())
    path = swap_dir(out) / "state.json"
    changed = {
        "missing": None,
        "garbage": b"\x00\xff" * 10,
        "not-json": b"[1, 2",
        "wrong-site": json.dumps({**raw, "site": [1, 2]}).encode(),
        "outside": json.dumps({**raw, "lag": ["../../etc/passwd"]}).encode(),
        "dotdot": json.dumps({**raw, "lag": ["a/../../x"]}).encode(),
        "absolute": json.dumps({**raw, "lag": ["/etc/passwd"]}).encode(),
        "deep": b"[" * 100000 + b"]" * 100000,
        "half-char": json.dumps({**raw, "lag": ["\ud800"]}).encode(),  # JSON can say it; no file's name can
    }[state]
    if changed is None:
        path.unlink()
    else:
        path.write_bytes(changed)
    found = read_state(out)
    assert found is None or found.back is None


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` (the hash of each file): for 'nothing touched' checks."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize(
    ("out", "what"),
    [
        (".", "is the site's own folder"),
        ("..", "contains the site's folder"),
        ("content", "is inside the site's sources (content/)"),
        ("content/th", "is inside the site's sources (content/)"),
        ("templates", "is inside the site's sources (templates/)"),
        ("data/out", "is inside the site's sources (data/)"),
        ("assets", "is inside the site's sources (assets/)"),
        ("locales", "is inside the site's sources (locales/)"),
        (".git", "is inside the site's sources (.git/)"),
        (".git/objects/site", "is inside the site's sources (.git/)"),
        (".sitegen-cache/site", "is inside a build cache (.sitegen-cache/ or .sitegen-swap/)"),
        ("../.sitegen-cache", "is inside a build cache (.sitegen-cache/ or .sitegen-swap/)"),
        (".sitegen-swap/site", "is inside a build cache (.sitegen-cache/ or .sitegen-swap/)"),
        ("site.yaml", "is a file, not a folder"),
        ("notes", "holds files that no build wrote (it has no .sitegen-output file)"),
    ],
)
def test_an_output_that_would_replace_sources_is_refused(
    make_site: MakeSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    out: str,
    what: str,
) -> None:
    root = make_site({".git/HEAD": "ref: refs/heads/main\n", "notes/todo.txt": "call the donor\n"})
    monkeypatch.chdir(root)
    before = snapshot(tmp_path)
    assert main(["build", "--out", out]) == 1
    lines = capsys.readouterr().err.splitlines()
    shown = Path(out).resolve()
    assert lines[0].startswith(f"error: the output folder {shown} {what} (")
    assert lines[0].endswith(")") and len(lines) == 2
    assert snapshot(tmp_path) == before, "nothing touched, not even a cache folder"


def test_an_output_that_holds_a_linked_source_folder_is_refused(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site()
    shutil.move(root / "content", tmp_path / "shared" / "content")
    (root / "content").symlink_to(tmp_path / "shared" / "content")
    before = snapshot(tmp_path / "shared")
    with pytest.raises(SiteError, match="holds files that no build wrote"):
        build_site(root, tmp_path / "shared")
    assert snapshot(tmp_path / "shared") == before
    (tmp_path / "shared" / MARKER).touch()  # forged: the link out of the project still stops the build first
    before = snapshot(tmp_path / "shared")
    with pytest.raises(BuildFailed) as info:
        build_site(root, tmp_path / "shared")
    assert (
        info.value.problems[0].message
        == f"'content' is a link to {tmp_path / 'shared' / 'content'}, outside the project"
    )
    assert snapshot(tmp_path / "shared") == before


def test_an_output_through_a_link_to_the_sources_is_refused(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site()
    (tmp_path / "link").symlink_to(root / "content")
    before = snapshot(root)
    with pytest.raises(SiteError, match="is inside the site's sources"):
        build_site(root, tmp_path / "link")
    assert snapshot(root) == before


@pytest.mark.parametrize("state", ["missing", "empty", "built"])
def test_a_new_an_empty_or_a_built_folder_is_accepted(make_site: MakeSite, tmp_path: Path, state: str) -> None:
    root = make_site()
    out = tmp_path / "out"
    if state == "empty":
        out.mkdir()
    elif state == "built":
        build_site(root, out)
        (out / "th" / "index.html").write_text("changed by hand")
        shutil.rmtree(default_cache_dir(out))  # so that the next build is a full one
    built = build_site(root, out)
    assert (out / MARKER).is_file() and (out / MARKER).read_bytes() == b""
    assert MARKER in built.outputs
    assert tree_digest(out) == tree_digest(build_site(root, tmp_path / "clean").out)


def test_a_cache_folder_beside_an_unmarked_folder_does_not_make_it_an_output(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """A lock file in .sitegen-cache/docs/ let a build replace docs/ (found by the writes attacker):
    the cache is untrusted, so only the mark inside the folder counts."""
    root = make_site()
    out = root / "docs"
    out.mkdir()
    (out / "guide.md").write_text("the staff guide")
    (root / ".sitegen-cache" / "docs").mkdir(parents=True)
    (root / ".sitegen-cache" / "docs" / "lock").touch()
    before = snapshot(out)
    with pytest.raises(SiteError, match="holds files that no build wrote"):
        build_site(root, out)
    assert snapshot(out) == before


@pytest.mark.parametrize("what", ["file", "folder", "link-out", "page", "file-dated-back", "state-from-the-future"])
def test_nothing_put_into_the_back_tree_is_published(make_site: MakeSite, tmp_path: Path, what: str) -> None:
    """The back tree is exchanged with the output: what is added to it (by hand, or a stray that
    landed in the output while a build was swapping it out) was published, for good."""
    root = make_site()
    out = tmp_path / "site"
    page = root / "content/en/about.md"
    build_site(root, out)
    page.write_text(page.read_text(encoding="utf-8") + "\nOne.\n", encoding="utf-8")
    build_site(root, out)
    back = swap_dir(out) / "back"
    assert read_state(out) is not None and (back / "en").is_dir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "key").write_text("SECRET")
    if what in ("file", "file-dated-back", "state-from-the-future"):
        (back / "en" / "injected.html").write_text("<h1>INJECTED</h1>")
    elif what == "folder":
        (back / "en" / "injected").mkdir()
        (back / "en" / "injected" / "index.html").write_text("<h1>INJECTED</h1>")
    elif what == "link-out":
        (back / "en" / "leak").symlink_to(outside)
    else:  # a page of the site, replaced
        os.replace(back / "en" / "index.html", tmp_path / "old-index.html")
        (back / "en" / "index.html").write_text("<h1>INJECTED</h1>")
    # As if it had happened just after the exchange, a while before the next build: a look at the
    # output by then would skip the folder as unchanged since the last build.
    swapped = read_state(out)
    assert swapped is not None
    os.utime(back / "en", ns=(swapped.checked_ns, swapped.checked_ns))
    if what == "file-dated-back":  # the folder's mtime set to long before any look
        os.utime(back / "en", ns=(10**9, 10**9))
    elif what == "state-from-the-future":  # a state claiming a look after the stray went in
        raw = json.loads((swap_dir(out) / "state.json").read_text())
        raw["back_checked_ns"] = raw["checked_ns"] = time.time_ns() + 10**15
        (swap_dir(out) / "state.json").write_text(json.dumps(raw))
    time.sleep(0.2)
    page.write_text(page.read_text(encoding="utf-8") + "\nTwo.\n", encoding="utf-8")
    build_site(root, out)
    build_site(root, out)
    clean = tmp_path / "clean"
    build_site(root, clean, cache_dir=tmp_path / "clean-cache")
    assert tree_digest(out) == tree_digest(clean)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == sorted(
        p.relative_to(clean).as_posix() for p in clean.rglob("*")
    )


def test_a_back_tree_brought_in_with_the_cache_is_never_published(make_site: MakeSite, tmp_path: Path) -> None:
    """The cache is restored from elsewhere by CI systems: the back tree is kept apart from it, and what an
    earlier version kept in the cache's folder (or an attacker put there as one) is deleted, not used."""
    root = make_site()
    out = tmp_path / "site"
    build_site(root, out)
    planted = default_cache_dir(out) / "swap"
    shutil.copytree(out, planted / "back")
    (planted / "back" / "en" / "index.html").write_text("<h1>DEFACED by the cache</h1>")
    state = read_state(out)
    assert state is not None
    (planted / "state.json").write_text(json.dumps({"version": 1, "site": list(state.site), "lag": []}))
    page = root / "content/en/about.md"
    for line in ("One.", "Two."):
        page.write_text(page.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
        build_site(root, out)
    assert "DEFACED" not in (out / "en" / "index.html").read_text()
    assert not planted.exists()


@pytest.mark.parametrize(
    "stray",
    ["stray.html", "th/stray.html", "th/about/notes.txt", "extra/deep/file.txt", "th/empty-folder/"],
)
def test_files_added_by_hand_are_gone_after_a_rebuild(make_site: MakeSite, tmp_path: Path, stray: str) -> None:
    root = make_site()
    out = tmp_path / "site"
    build_site(root, out)
    clean = tree_digest(out)
    folders = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    path = out / stray
    if stray.endswith("/"):
        path.mkdir(parents=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("added by hand")
    built = build_site(root, out)
    assert not built.full
    assert tree_digest(out) == clean
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == folders, "stray folders go too"
    assert build_site(root, out).written == ()
    assert tree_digest(out) == clean


@pytest.mark.parametrize("how", ["file-link", "folder-link", "stray-link", "file-to-folder"])
def test_links_put_into_the_output_are_never_followed_out_of_it(make_site: MakeSite, tmp_path: Path, how: str) -> None:
    root = make_site()
    out = tmp_path / "site"
    build_site(root, out)
    build_site(root, out)
    clean = tree_digest(out)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "index.html").write_text("secret")
    (outside / "passwd").write_text("root:x:0:0")
    kept = snapshot(outside)
    if how == "file-link":
        (out / "th/index.html").unlink()
        (out / "th/index.html").symlink_to(outside / "passwd")
    elif how == "folder-link":
        shutil.rmtree(out / "th/about")
        (out / "th/about").symlink_to(outside)
    elif how == "stray-link":
        (out / "th/etc").symlink_to(outside)
    else:
        (out / "th/index.html").unlink()
        (out / "th/index.html").mkdir()
        (out / "th/index.html/x").write_text("x")
    for _ in range(3):  # the build that sees it, and the two that bring the back tree up to date
        build_site(root, out)
        assert tree_digest(out) == clean
        assert not any(p.is_symlink() for p in out.rglob("*"))
        assert snapshot(outside) == kept, "nothing outside read into the site, changed or deleted"


def test_an_output_that_is_a_link_to_nothing_is_refused(make_site: MakeSite, tmp_path: Path) -> None:
    """site -> /nonexistent/x made the build create /nonexistent and write the site there."""
    root = make_site()
    out = tmp_path / "site"
    out.symlink_to(tmp_path / "nowhere" / "x")
    with pytest.raises(SiteError, match="which does not exist"):
        build_site(root, out)
    assert not (tmp_path / "nowhere").exists()


def test_a_folder_set_aside_is_put_back_only_if_it_is_a_site(make_site: MakeSite, tmp_path: Path) -> None:
    """A cache restored with junk in swap/aside made that junk site/ (found by the writes attacker)."""
    root = make_site()
    out = tmp_path / "site"
    aside = swap_dir(out) / "aside"
    aside.mkdir(parents=True)
    (aside / "index.html").write_text("junk from a cache")
    with pytest.raises(BuildFailed):
        build_site(root, out, base_url="https://example.org", strict=True)  # basic has warnings: strict fails
    assert not out.exists(), "the junk was not made the site"


def test_the_look_before_rendering_finds_every_output_not_as_recorded(tmp_path: Path) -> None:
    out = tmp_path / "site"
    files = {"a/index.html": b"a", "b/index.html": b"b", "c/index.html": b"c", "d/index.html": b"d", "e.xml": b"e"}
    publish_full(staged(out, files), out)
    recorded = {name: stat_of(out / name) for name in files}
    (out / "a" / "index.html").write_bytes(b"edited by hand")  # same inode, new size and mtime
    (out / "b" / "index.html").unlink()
    (out / "c" / "index.html").unlink()
    (out / "c" / "index.html").write_bytes(b"c")  # the same bytes, another file
    os.rename(out / "d" / "index.html", out / "d" / "real.html")
    (out / "d" / "index.html").symlink_to("real.html")  # a link to the very file recorded: not the file itself
    state = read_state(out)
    look = look_at_output(out, recorded, state, output_folders(recorded, state))
    assert look.moved == {"a/index.html", "b/index.html", "c/index.html", "d/index.html"}


def test_strays_sought_with_an_earlier_look_are_found_now_or_by_the_next_build(tmp_path: Path) -> None:
    """The look taken before rendering covers the recorded outputs' folders; a folder it did not
    cover (a new page's) is looked at when the strays are sought."""
    out = tmp_path / "site"
    files = {"a/index.html": b"a", "b/index.html": b"b", "index.html": b"i"}
    publish_full(staged(out, files), out)
    time.sleep(0.1)  # b/ is older than the racy margin before the look
    state = read_state(out)
    assert state is not None
    recorded = {name: stat_of(out / name) for name in files}
    folders = output_folders(recorded, state)
    look = look_at_output(out, recorded, state, folders)
    (out / "a" / "stray.html").write_bytes(b"put here by hand")
    (out / "new").mkdir()
    (out / "new" / "index.html").write_bytes(b"new page")
    (out / "new" / "stray.js").write_bytes(b"alert(1)")
    outputs = [*files, "new/index.html"]
    early = find_strays(out, outputs, state.checked_ns, looked=(look.site, folders))
    assert "new/stray.js" in early.paths, "a folder the look did not cover is looked at now"
    # What went into a covered folder after the look is for the next build: the time recorded as
    # the look's is when it began, so that build lists a/ as changed since.
    assert early.started_ns == look.site.started_ns
    assert look_at_folders(out, ["a", "b"], early.started_ns).changed == ["a"]


def test_a_recorded_output_named_after_a_folder_removes_no_folder(make_site: MakeSite, tmp_path: Path) -> None:
    """A crafted cache records an output named like a folder of the site ("en"): the build removes the
    outputs it no longer makes, and would have removed that whole folder from the back tree it publishes."""
    root = make_site()
    out = tmp_path / "site"
    page = root / "content/en/about.md"
    build_site(root, out)
    page.write_text(page.read_text(encoding="utf-8") + "\nOne.\n", encoding="utf-8")
    build_site(root, out)  # now there is a back tree
    folder = default_cache_dir(out)
    manifest = load_manifest(folder, engine_fingerprint(), root, out.resolve())
    assert manifest is not None
    forged = {**manifest.outputs, "en": Output("0" * 32, (0, 0, 0))}
    save_manifest(folder, dataclasses.replace(manifest, outputs=forged, shards=[]), None)
    clean = tmp_path / "clean"
    for line in ("Two.", "Three.", "Four."):  # and the builds after it, which bring the back tree up to date
        page.write_text(page.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
        build_site(root, out)
        build_site(root, clean, cache_dir=tmp_path / "clean-cache", cache=False)
        assert tree_digest(out) == tree_digest(clean)


def test_built_outputs_are_the_files_of_the_output(tmp_path: Path) -> None:
    built = build_site(SITES / "basic", tmp_path / "out", jobs=1)
    assert list(built.outputs) == sorted(tree_digest(tmp_path / "out"))
    assert {"index.html", "404.html", "robots.txt", "sitemap.xml", "th/index.html"} <= set(built.outputs)


def test_a_swap_folder_planted_as_a_link_is_never_written_through(make_site: MakeSite, tmp_path: Path) -> None:
    """A repository may hold `.sitegen-swap` as a link to anywhere: staging folders, the back tree and
    the site set aside went through it, outside the project (and a planted `aside` could be published)."""
    root = make_site()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / ".sitegen-swap").symlink_to(outside, target_is_directory=True)
    out = root / "site"
    build_site(root, out, jobs=1)
    (root / "content/en/about.md").write_text("---\ntitle: About\n---\nChanged.\n", encoding="utf-8")
    build_site(root, out, jobs=1)
    assert list(outside.iterdir()) == [], "nothing written through the link"
    assert (root / ".sitegen-swap").is_dir() and not (root / ".sitegen-swap").is_symlink()
    assert "Changed." in (out / "en/about/index.html").read_text(encoding="utf-8")
