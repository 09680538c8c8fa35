"""Reading input: YAML that is strict and bounded, and no file from outside the project."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sitegen.cli import main
from sitegen.errors import BuildFailed, SiteError
from sitegen.pipeline import build_site
from sitegen.source import MAX_DEPTH, MAX_VALUES, load_yaml, read_file, replace_file

from .conftest import SITES, MakeSite, tree_digest


def yaml_error(text: str, first_line: int = 1) -> str:
    with pytest.raises(SiteError) as info:
        load_yaml(text, "data/bank.yaml", first_line)
    return info.value.problem.format()


# --- duplicate keys ---------------------------------------------------------------------------


def test_a_key_given_twice_is_an_error_naming_both_lines() -> None:
    text = 'account_number: "162-0-09432-0"\nswift: KRTHTHBK\naccount_number: "999-9-99999-9"\n'
    assert yaml_error(text) == (
        "data/bank.yaml:3: error: 'account_number' is given twice, on lines 1 and 3"
        " (keep one of them: the build cannot tell which is right)"
    )


def test_a_key_given_twice_in_front_matter_counts_lines_of_the_page() -> None:
    assert yaml_error("title: A\ndescription: x\ntitle: B\n", first_line=2).startswith(
        "data/bank.yaml:4: error: 'title' is given twice, on lines 2 and 4"
    )


def test_a_nested_key_given_twice_is_an_error() -> None:
    assert yaml_error("bank:\n  th: ก\n  en: A\n  th: ข\n").startswith(
        "data/bank.yaml:4: error: 'th' is given twice, on lines 2 and 4"
    )


def test_the_same_key_in_two_mappings_is_fine() -> None:
    doc = load_yaml("- key: a\n  name: A\n- key: b\n  name: B\n", "data/offices.yaml")
    assert doc.value == [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}]


def test_a_key_quoted_and_unquoted_is_still_the_same_key() -> None:
    assert "'swift' is given twice" in yaml_error('swift: A\n"swift": B\n')


def test_a_merge_may_be_overridden() -> None:
    doc = load_yaml("base: &b {a: 1, c: 2}\nitem:\n  <<: *b\n  a: 3\n", "x.yaml")
    assert doc.value["item"] == {"a": 3, "c": 2}


# --- bounded work -----------------------------------------------------------------------------

BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 8)}]" for i in range(8)]
)


def test_an_alias_bomb_is_refused_at_its_line() -> None:
    assert len(BOMB.split("\n")) == 9
    message = yaml_error(BOMB)
    # 'e' (line 5) expands to 37,449 values, 'f' (line 6) to 299,593: the first over the limit.
    assert message == (
        f"data/bank.yaml:6: error: invalid YAML: the values here repeat others (*name) until they make more than"
        f" {MAX_VALUES:,} values (write the values out, or use fewer * references)"
    )


def test_aliases_that_stay_small_are_fine() -> None:
    doc = load_yaml("a: &a [1, 2]\nb: [*a, *a]\n", "x.yaml")
    assert doc.value == {"a": [1, 2], "b": [[1, 2], [1, 2]]}


@pytest.mark.parametrize("style", ["block", "flow"])
def test_deep_nesting_is_an_error_at_its_line(style: str) -> None:
    depth = MAX_DEPTH + 5
    if style == "block":
        text = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "x\n"
    else:
        text = "a:\n  " + "[" * depth + "]" * depth + "\n"
    message = yaml_error(text)
    assert "is nested more than" in message, message
    assert message.startswith("data/bank.yaml:"), message


def test_nesting_through_aliases_counts_too() -> None:
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, MAX_DEPTH + 5)]
    assert "is nested more than" in yaml_error("\n".join(lines) + "\n")


# --- empty and wrong tags ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wanted"),
    [
        ("!!int", "data/bank.yaml:3: error: invalid YAML: the tag !!int needs a value"),
        ("!!float", "data/bank.yaml:3: error: invalid YAML: the tag !!float needs a value"),
        ("!!bool", "data/bank.yaml:3: error: invalid YAML: the tag !!bool needs a value"),
        ("!!timestamp", "data/bank.yaml:3: error: invalid YAML: the tag !!timestamp needs a value"),
        ("!!int abc", "data/bank.yaml:3: error: invalid YAML: 'abc' is not a whole number"),
        ("!!int 0x", "data/bank.yaml:3: error: invalid YAML: '0x' is not a whole number"),
        ("!!int +", "data/bank.yaml:3: error: invalid YAML: '+' is not a whole number"),
        ("!!float _", "data/bank.yaml:3: error: invalid YAML: '_' is not a number"),
        ("!!bool maybe", "data/bank.yaml:3: error: invalid YAML: 'maybe' is not true or false"),
        ("!!timestamp soon", "data/bank.yaml:3: error: invalid YAML: 'soon' is not a date"),
        ("!!binary abc", "data/bank.yaml:3: error: invalid YAML: failed to decode base64 data: Incorrect padding"),
        ("!!set x", "data/bank.yaml:3: error: invalid YAML: expected a mapping node, but found scalar"),
        ("!foo x", "data/bank.yaml:3: error: invalid YAML: could not determine a constructor for the tag '!foo'"),
    ],
)
def test_a_tag_on_a_wrong_or_empty_value_is_an_error_at_its_line(value: str, wanted: str) -> None:
    message = yaml_error(f"a: 1\nb: 2\ntitle: {value}\n")
    assert message.startswith(wanted + " ("), message


def test_an_integer_too_long_for_python_is_an_error() -> None:
    assert yaml_error("a: 1\nn: " + "9" * 5000 + "\n").startswith(
        "data/bank.yaml:2: error: invalid YAML: '9999999999999999999999999999999999999999…' is not a whole number"
    )


def test_a_date_that_does_not_exist_keeps_its_message() -> None:
    assert yaml_error("a: 1\ndate: 2024-13-45\n") == (
        "data/bank.yaml:2: error: '2024-13-45' is not a valid date: month must be in 1..12"
        " (write dates as YYYY-MM-DD, for example 2024-02-29)"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('title: "a\\udcffb"\n', 1),  # a value
        ('x: 1\n"\\ud800": 1\n', 2),  # a key
        ("list:\n  - [1, {'a': \"\\udfff\"}]\n", 2),  # deep inside
    ],
)
def test_half_a_character_is_an_error_at_its_line(text: str, line: int) -> None:
    """A lone surrogate reached the page and failed its UTF-8 encoding with a traceback."""
    assert yaml_error(text) == (
        f"data/bank.yaml:{line}: error: invalid YAML: a \\u escape here is half of a character, not a"
        " character (write the character itself instead of its \\u code)"
    )


def test_a_whole_character_written_as_an_escape_is_fine() -> None:
    assert load_yaml('title: "\\U0001F600 \\u0e01"\n', "x.yaml").value == {"title": "\U0001f600 \u0e01"}


def test_good_tags_still_work() -> None:
    doc = load_yaml("a: !!int 12\nb: !!str 12\nc: !!float 1.5\nd: !!bool true\n", "x.yaml")
    assert doc.value == {"a": 12, "b": "12", "c": 1.5, "d": True}


# --- nothing from outside the project -----------------------------------------------------------

SECRET = "SECRET-7f3a"  # in every outside file: it must never reach the output
OUTSIDE_PAGE = f"---\ntitle: Outside\n---\n\n{SECRET}\n"
HINT_FILE = "replace the link by a copy of the file inside the project"
HINT_FOLDER = "replace the link by a copy of the folder inside the project"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the project, with files an attacker would like published."""
    folder = tmp_path / "outside"
    (folder / "pages").mkdir(parents=True)
    (folder / "secret.txt").write_text(f"{SECRET}\n", encoding="utf-8")
    (folder / "page.md").write_text(OUTSIDE_PAGE, encoding="utf-8")
    (folder / "pages" / "about.md").write_text(OUTSIDE_PAGE, encoding="utf-8")
    (folder / "pages" / "index.md").write_text(OUTSIDE_PAGE, encoding="utf-8")
    (folder / "bank.yaml").write_text(f"swift: {SECRET}\n", encoding="utf-8")
    (folder / "partial.html").write_text(SECRET, encoding="utf-8")
    (folder / "templates").mkdir()
    (folder / "templates" / "partial.html").write_text(SECRET, encoding="utf-8")
    (folder / "th" / "LC_MESSAGES").mkdir(parents=True)
    po = (SITES / "basic" / "locales/th/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    (folder / "th" / "LC_MESSAGES" / "messages.po").write_text(po + f'\nmsgid "x"\nmsgstr "{SECRET}"\n', "utf-8")
    return folder


def link(root: Path, relative: str, target: Path | str) -> None:
    path = root / relative
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


def failed_build(root: Path, out: Path) -> list[str]:
    """Build, expecting a refusal; the output never holds an outside file's text."""
    with pytest.raises((BuildFailed, SiteError)) as info:
        build_site(root, out, jobs=1)
    exc = info.value
    problems = exc.problems if isinstance(exc, BuildFailed) else (exc.problem,) if isinstance(exc, SiteError) else ()
    if out.exists():
        assert not any(SECRET.encode() in p.read_bytes() for p in out.rglob("*") if p.is_file())
    return [p.format() for p in problems]


def includes(partial: str) -> str:
    """page.html, with the page's text and a partial included after it."""
    head = '{% extends "base.html" %}\n{% block main %}\n{{ page.content }}'
    return head + '{% include "' + partial + '" %}\n{% endblock %}\n'


# (files of the project, links (path → target: "@/x" is outside/x, otherwise a path in the project),
#  the error lines expected, with {out} standing for the outside folder)
LINKS: dict[str, tuple[dict[str, str | bytes | None], dict[str, str], list[str]]] = {
    "a page": (
        {},
        {"content/en/about.md": "@/page.md"},
        [
            f"content/en/about.md: error: 'content/en/about.md' is a link to {{out}}/page.md, outside the project ({HINT_FILE})"
        ],
    ),
    "a language folder": (
        {},
        {"content/en": "@/pages"},
        [f"content/en: error: 'content/en' is a link to {{out}}/pages, outside the project ({HINT_FOLDER})"],
    ),
    "a folder of pages": (
        {},
        {"content/en/news": "@/pages"},
        [f"content/en/news: error: 'content/en/news' is a link to {{out}}/pages, outside the project ({HINT_FOLDER})"],
    ),
    "an asset": (
        {},
        {"assets/passwd.txt": "@/secret.txt"},
        [
            f"assets/passwd.txt: error: 'assets/passwd.txt' is a link to {{out}}/secret.txt, outside the project ({HINT_FILE})"
        ],
    ),
    "/proc/self/environ as an asset": (
        {},
        {"assets/env.txt": "/proc/self/environ"},
        [
            f"assets/env.txt: error: 'assets/env.txt' is a link to {os.path.realpath('/proc/self/environ')}, outside the project ({HINT_FILE})"
        ],
    ),
    "a folder of assets": (
        {},
        {"assets/files": "@"},
        [f"assets/files: error: 'assets/files' is a link to {{out}}, outside the project ({HINT_FOLDER})"],
    ),
    "the assets folder": (
        {},
        {"assets": "@"},
        [f"assets: error: 'assets' is a link to {{out}}, outside the project ({HINT_FOLDER})"],
    ),
    "a template partial": (
        {"templates/page.html": includes("partial.html")},
        {"templates/partial.html": "@/partial.html"},
        [
            f"templates/partial.html: error: 'templates/partial.html' is a link to {{out}}/partial.html, outside the project ({HINT_FILE})"
        ],
    ),
    "a folder of templates": (
        {"templates/page.html": includes("parts/partial.html")},
        {"templates/parts": "@/templates"},
        [
            f"templates/parts: error: 'templates/parts' is a link to {{out}}/templates, outside the project ({HINT_FOLDER})"
        ],
    ),
    "a data file": (
        {},
        {"data/bank.yaml": "@/bank.yaml"},
        [f"data/bank.yaml: error: 'data/bank.yaml' is a link to {{out}}/bank.yaml, outside the project ({HINT_FILE})"],
    ),
    "the data folder": (
        {},
        {"data": "@"},
        [f"data: error: 'data' is a link to {{out}}, outside the project ({HINT_FOLDER})"],
    ),
    "a catalogue": (
        {},
        {"locales/th/LC_MESSAGES/messages.po": "@/th/LC_MESSAGES/messages.po"},
        [
            "locales/th/LC_MESSAGES/messages.po: error: 'locales/th/LC_MESSAGES/messages.po' is a link to"
            f" {{out}}/th/LC_MESSAGES/messages.po, outside the project ({HINT_FILE})"
        ],
    ),
    "a language's catalogue folder": (
        {},
        {"locales/th": "@/th"},
        [f"locales/th: error: 'locales/th' is a link to {{out}}/th, outside the project ({HINT_FOLDER})"],
    ),
    "site.yaml": (
        {},
        {"site.yaml": "@/bank.yaml"},
        [f"site.yaml: error: 'site.yaml' is a link to {{out}}/bank.yaml, outside the project ({HINT_FILE})"],
    ),
    "the content folder, linked to /": (
        {},
        {"content": "/"},
        [
            f"content: error: 'content' is a link to /, outside the project ({HINT_FOLDER})",
            "site.yaml:18: error: menu entry 'about' is not a page (create content/th/about.md or remove it from the list)",
        ],
    ),
    "the assets folder, linked to /": (
        {},
        {"assets": "/"},
        [f"assets: error: 'assets' is a link to /, outside the project ({HINT_FOLDER})"],
    ),
    "a language folder, linked to /": (
        {},
        {"content/th": "/"},
        [f"content/th: error: 'content/th' is a link to /, outside the project ({HINT_FOLDER})"],
    ),
    "a chain of links, the last one leading out": (
        {},
        {"content/en/about.md": "../../.hop/about.md", ".hop": "@/pages"},
        [
            f"content/en/about.md: error: 'content/en/about.md' is a link to {{out}}/pages/about.md, outside the project ({HINT_FILE})"
        ],
    ),
}


@pytest.mark.parametrize("case", list(LINKS))
def test_a_link_out_of_the_project_is_an_error_naming_it(
    make_site: MakeSite, outside: Path, tmp_path: Path, case: str
) -> None:
    files, links, expected = LINKS[case]
    root = make_site({"assets/style.css": "body { color: black; }\n", **files}, base="err-base")
    for relative, target in links.items():
        link(root, relative, str(outside) + target[1:] if target.startswith("@") else target)
    real = os.path.realpath(outside)
    assert failed_build(root, tmp_path / "out") == [line.format(out=real) for line in expected]


def test_links_that_stay_inside_the_project_work(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site(
        {
            "assets/style.css": "body { color: black; }\n",
            "shared/about.md": "---\ntitle: Shared about\n---\n\nShared text.\n",
            "shared/partial.html": "<p>partial inside</p>\n",
            "templates/page.html": includes("partial.html"),
        },
        base="err-base",
    )
    link(root, "content/en/about.md", "../../shared/about.md")  # relative
    link(root, "templates/partial.html", root / "shared/partial.html")  # absolute
    link(root, "assets/copy.css", "style.css")
    out = build_site(root, tmp_path / "out", jobs=1).out
    html = (out / "en/about/index.html").read_text(encoding="utf-8")
    assert "Shared text." in html and "partial inside" in html
    assert len(list((out / "assets").glob("copy.*.css"))) == 1


def test_a_link_into_a_hidden_folder_of_the_project_is_an_error(make_site: MakeSite, tmp_path: Path) -> None:
    """CI checkouts keep a token in .git/config: inside the project, but never part of the site."""
    root = make_site({".git/config": f"[http]\n\textraheader = AUTHORIZATION: basic {SECRET}\n"}, base="err-base")
    link(root, "assets/config.txt", "../.git/config")
    assert failed_build(root, tmp_path / "out") == [
        f"assets/config.txt: error: 'assets/config.txt' is a link to {os.path.realpath(root)}/.git/config,"
        f" a hidden file of the project ({HINT_FILE})"
    ]


def test_a_template_name_with_a_nul_is_refused_at_its_line(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"content/en/about.md": '---\ntitle: About\ntemplate: "page\\0.html"\n---\n'}, base="err-base")
    errors = failed_build(root, tmp_path / "out")
    assert errors == [
        "content/en/about.md:3: error: template 'page\\x00.html' must be an .html file in templates/"
        " (write its name as it is under templates/, such as page.html)"
    ]


def test_a_fifo_is_refused_without_waiting_for_it(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"assets/style.css": "body {}\n"}, base="err-base")
    os.mkfifo(root / "data/extra.yaml")
    assert failed_build(root, tmp_path / "out") == [
        "data/extra.yaml: error: 'data/extra.yaml' is not an ordinary file (replace it by an ordinary file, or remove it)"
    ]


def test_a_link_loop_is_an_error(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({}, base="err-base")
    os.symlink("loop.yaml", root / "data/loop.yaml")
    assert failed_build(root, tmp_path / "out") == [
        "data/loop.yaml: error: 'data/loop.yaml' is a link that leads round in a circle (remove the link)"
    ]


@pytest.mark.parametrize(
    ("relative", "target"),
    [("assets/style.css", "secret.txt"), ("data/bank.yaml", "bank.yaml"), ("templates/base.html", "partial.html")],
)
def test_a_file_replaced_by_a_link_is_caught_by_the_next_incremental_build(
    make_site: MakeSite, outside: Path, tmp_path: Path, relative: str, target: str
) -> None:
    """The cache must not vouch for a file whose stat it knows: a link's stat is its target's."""
    root = make_site({"assets/style.css": "body {}\n"}, base="err-base")
    out = tmp_path / "out"
    build_site(root, out, jobs=1)
    before = tree_digest(out)
    link(root, relative, outside / target)
    errors = failed_build(root, out)
    assert [e.split(":")[0] for e in errors] == [relative], errors
    assert tree_digest(out) == before


def test_read_file_refuses_a_path_that_climbs_out(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    with pytest.raises(SiteError) as info:
        read_file(tmp_path / "project", "../secret.txt")
    assert "outside the project" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "true: a\nyes: b\n",
        "1: a\n01: b\n",
        "1: a\n1.0: b\n",
        "null: a\n~: b\n",
        "1: a\n!!int 1: b\n",
        ".nan: a\n.NaN: b\n",
    ],
)
def test_two_keys_the_mapping_cannot_tell_apart_are_one_key_given_twice(text: str) -> None:
    assert "is given twice, on lines 1 and 2" in yaml_error(text)


def test_keys_that_only_look_alike_are_two_keys() -> None:
    doc = load_yaml("a: 1\nA: 2\nx1: 5\nx01: 6\n'1': 7\n", "x.yaml")
    assert len(doc.value) == 5


def test_read_file_takes_a_path_that_climbs_but_stays_inside(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "site.yaml").write_text("title: x\n", encoding="utf-8")
    assert read_file(tmp_path, "content/../site.yaml") == b"title: x\n"
    with pytest.raises(FileNotFoundError):
        read_file(tmp_path, "content/missing/deeper.md")


@pytest.mark.parametrize("name", [b"assets/bad\xff.css", b"templates/bad\xff.html", b"data/bad\xff.yaml"])
def test_a_file_name_that_is_not_utf8_is_an_error_naming_it(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: bytes
) -> None:
    """Such a name reached the build cache, whose UTF-8 keys failed with a traceback."""
    root = make_site()
    with open(os.fsencode(root) + b"/" + name, "wb") as stream:
        stream.write(b"x: 1\n")
    assert main(["build", "--root", str(root), "--out", str(tmp_path / "out")]) == 1
    shown = name.decode("ascii", "backslashreplace").replace("\\xff", "\\udcff")  # as Python shows the name
    message = f"{shown}: error: the file's name is not UTF-8 text (rename it: type the name again in your file manager)"
    assert message in capsys.readouterr().err.splitlines()
    assert not (tmp_path / "out").exists()


def test_a_templates_folder_linked_out_is_refused_without_walking_it(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """templates → / walked the whole disk before the link was refused."""
    root = make_site()
    outside = tmp_path / "outside"
    shutil.copytree(root / "templates", outside)
    (outside / "deep" / "er").mkdir(parents=True)
    shutil.rmtree(root / "templates")
    (root / "templates").symlink_to(outside)
    scanned: list[str] = []
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        scanned.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert main(["build", "--root", str(root), "--out", str(tmp_path / "out")]) == 1
    assert "outside the project" in capsys.readouterr().err
    assert not [path for path in scanned if path.startswith(str(outside))]


# --- the one atomic write ---------------------------------------------------------------------


def test_replace_file_replaces_a_link_and_never_writes_through_it(tmp_path: Path) -> None:
    # The cache and the back tree's state are written with it: a link planted where one goes must not
    # send the bytes to the file it names (a caller that means that file passes its real path).
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "state.json"
    link.symlink_to(victim)
    replace_file(link, b"new")
    assert victim.read_text() == "keep me"
    assert not link.is_symlink() and link.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "victim.txt"], "no temporary file left"


def test_replace_file_keeps_the_mode_of_a_file_and_makes_a_new_one_private(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    kept.write_bytes(b"old")
    kept.chmod(0o640)
    replace_file(kept, b"new")
    replace_file(tmp_path / "new", b"new")
    assert (kept.read_bytes(), kept.stat().st_mode & 0o777) == (b"new", 0o640)
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o600, "as the cache's and the state's files were made"


def test_only_a_staff_members_file_waits_for_the_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page ``translated`` marks is flushed to the disk before it takes the old one's place; the
    build's own records (cache, swap state) are not: one cut short by a power cut is a clean build,
    and a fsync for each of a cold build's 65 cache files can add up to a second on a laptop's disk."""
    synced: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    replace_file(tmp_path / "page.md", b"text")
    assert len(synced) == 1
    replace_file(tmp_path / "shard", b"record", durable=False)
    assert len(synced) == 1
    assert (tmp_path / "page.md").read_bytes() == b"text" and (tmp_path / "shard").read_bytes() == b"record"


def test_a_folder_written_to_while_it_is_removed_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A leftover of a killed build that something still writes into: rmtree fails with "Directory not
    empty", naming only the innermost folder, and the build showed a traceback."""
    import errno

    from sitegen.errors import file_system_problem
    from sitegen.source import remove_path

    leftover = tmp_path / ".site.staging-x"
    (leftover / "en").mkdir(parents=True)

    def busy(path: object) -> None:
        raise OSError(errno.ENOTEMPTY, "Directory not empty", "en")

    monkeypatch.setattr(shutil, "rmtree", busy)
    with pytest.raises(OSError) as info:
        remove_path(leftover)
    problem = file_system_problem(info.value)
    assert problem is not None
    assert problem.path == str(leftover)
    assert "still being written" in problem.message
