"""Property: whatever a staff member types into a page, the build either works or reports a ``SiteError``.

Random front matter (valid YAML of every type, broken YAML, missing fences, tabs,
quotes, BOMs, Windows line endings, other encodings) and random Markdown are fed to
the page loader and to the whole build. Nothing else may ever come out: no
``KeyError``, no ``TypeError``, no traceback for staff to puzzle over.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from sitegen.content import read_page
from sitegen.errors import BuildFailed, Collector, SiteError
from sitegen.pipeline import build_site

from .conftest import SITES, tree_digest

PAGE = "content/en/about.md"
FIELDS = ["title", "description", "template", "date", "updated", "source_hash", "draft"]

# Text that staff type, with the characters YAML and Markdown give meaning to.
SPECIAL = ":-#\"'\t[]{}&*!|>%@`,?\\<>()_=~+.^$/ \n"
THAI = "กขคงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮะัาำิีึืุูเแโใไ่้๊๋็์ๆ"
text = st.text(alphabet=st.sampled_from(list(SPECIAL + THAI) + list("aZ09é€\u200b\u2060\ufeff\r\x00")), max_size=40)
line = st.text(alphabet=st.sampled_from(list(SPECIAL.replace("\n", "") + THAI + "titledraftemplate")), max_size=30)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True),
    text,
    st.dates(min_value=datetime.date(1, 1, 1)),
    st.datetimes(),
    st.sampled_from(["page.html", "nope.html", "x.htm", "2024-13-45", "yesterday", "24/12/2551", "yes", "~"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
keys = st.one_of(st.sampled_from(FIELDS), st.sampled_from(["titel", "Title", "tags", "date "]), text)


# Front matter as staff mostly write it: the right keys with values of the right type.
plausible = st.fixed_dictionaries(
    {"title": text.filter(str.strip)},
    optional={
        "description": text,
        "date": st.dates(min_value=datetime.date(1, 1, 1)),
        "updated": st.dates(min_value=datetime.date(1, 1, 1)),
        "draft": st.just(False),
        "template": st.sampled_from(["page.html", "nope.html"]),
        "source_hash": st.text("0123456789abcdef", min_size=12, max_size=12),
    },
)


@st.composite
def front_matter(draw: st.DrawFn) -> str:
    """Front matter text: plausible or random YAML of every type, or YAML broken in random ways."""
    kind = draw(st.sampled_from(["plausible"] * 4 + ["random", "random", "lines", "mixed"]))
    if kind == "lines":
        return "".join(f"{item}\n" for item in draw(st.lists(line, max_size=5)))
    mapping: dict[Any, Any] = draw(plausible if kind == "plausible" else st.dictionaries(keys, values, max_size=5))
    if kind != "plausible" and draw(st.integers(0, 3)):
        mapping.setdefault("title", draw(text))
    dumped: str = yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False) if mapping else ""
    if kind == "mixed":
        lines = dumped.split("\n")
        lines.insert(draw(st.integers(0, len(lines))), draw(line))
        dumped = "\n".join(lines)
    return dumped


@st.composite
def page_file(draw: st.DrawFn) -> bytes:
    front = draw(front_matter())
    body = draw(
        st.lists(
            st.one_of(
                text,
                st.sampled_from(
                    [
                        "## ประวัติ",
                        "[link](index.md)",
                        "[link](about.md#history)",
                        "[broken](nowhere.md)",
                        "[odd](../../../x.md)",
                        "[odd](%zz.md)",
                        "![](a.png)",
                        "![alt](a.png)",
                        "<div>html</div>",
                        "{{ page.title }}",
                        "{% if %}",
                        "---",
                        "    code",
                        "[^1]\n\n[^1]: note",
                        "*[HTML]: abbr",
                        "| a | b |\n|---|---|\n| 1 | 2 |",
                    ]
                ),
            ),
            max_size=6,
        )
    )
    fence = draw(st.sampled_from(["both"] * 8 + ["no-open", "no-close", "none", "spaces"]))
    if fence == "both":
        text_ = f"---\n{front}---\n"
    elif fence == "no-open":
        text_ = f"{front}---\n"
    elif fence == "no-close":
        text_ = f"---\n{front}"
    elif fence == "spaces":
        text_ = f"--- \n{front} ---\n"
    else:
        text_ = front
    text_ += "\n".join(body) + "\n"
    if draw(st.booleans()):
        text_ = text_.replace("\n", "\r\n")
    if draw(st.integers(0, 9)) == 0:
        text_ = "\ufeff" + text_
    encoding = draw(st.sampled_from(["utf-8"] * 15 + ["latin-1", "cp874"]))
    return text_.encode(encoding, errors="replace")


@pytest.fixture
def site() -> Iterator[tuple[Path, Path]]:
    """A fresh copy of the small valid site for each test, shared by that test's examples.

    Per test, not per module: the bank test leaves a random data/bank.yaml behind, and the page
    test must not run against it (every build would then fail on the bank file, proving nothing).
    """
    with tempfile.TemporaryDirectory(prefix="sitegen-fuzz-") as folder:
        root = Path(folder) / "site"
        shutil.copytree(SITES / "err-base", root)
        out = Path(folder) / "out"
        build_site(root, out)
        yield root, out


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=page_file())
@example(data=b'---\ntitle: "About\n---\n')
@example(data=b"---\ntitle: About\ndate: 2024-13-45\n---\n")
@example(data=b"---\n- a\n- b\n---\n")
@example(data=b"---\ntitle: [1, 2]\n---\n")
@example(data=b"---\n? [a, b]\n: c\ntitle: x\n---\n")
@example(data=b"---\ntitle: x\n!!python/object:os.system {}: 1\n---\n")
@example(data=b"---\ntitle: &a [*a]\n---\n")
@example(data=b"---\ntitle: x\ndate: 2024-02-29T25:00:00\n---\n")
@example(data=b"---\n---\n")
@example(data=b"---\ntitle: " + b"[" * 3000 + b"x" + b"]" * 3000 + b"\n---\n")
@example(data=b"")
def test_any_page_loads_or_gives_a_site_error(site: tuple[Path, Path], data: bytes) -> None:
    root, out = site
    path = root / PAGE
    path.write_bytes(data)

    problems = Collector()
    page = read_page(path, root, "en", "about", problems)
    event("page refused" if page is None else "page loaded")
    if page is None:
        assert problems.errors, "a page that did not load must say why"
        event("first error: " + " ".join(problems.errors[0].message.split()[:3]))
    else:
        assert not problems.errors
        assert page.path == PAGE and page.meta.title

    before = tree_digest(out)
    try:
        build_site(root, out)
    except BuildFailed as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.message
            if problem.level == "error" and problem.path:
                assert (root / problem.path).exists(), problem.format()
        assert tree_digest(out) == before  # a failed build never touches the previous output
    except SiteError as exc:
        assert exc.problem.message
        assert tree_digest(out) == before


# A bank file as staff would write it, with the slips that matter: a digit missing or extra, a
# format that does not fit, a SWIFT code of the wrong length or country. Random values alone
# almost never get past the type checks to these.
both = st.fixed_dictionaries({"th": text.filter(str.strip), "en": text.filter(str.strip)})
plausible_bank = st.fixed_dictionaries(
    {
        "account_name": text.filter(str.strip),
        "bank": both,
        "branch": both,
        "account_number": st.one_of(
            st.sampled_from(["162-0-09432-0", "1620094320", "162-0-0943-0", "162-0-094320-0", "162-0-09432-O"]),
            st.text("0123456789-", min_size=8, max_size=14),
        ),
        "swift": st.one_of(
            st.sampled_from(["KRTHTHBK", "KRTHTHBKXXX", "KRTHUS33", "KRTHTHB", "krththbk"]),
            st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=6, max_size=12),
        ),
    },
    optional={"account_format": st.one_of(st.just("###-#-#####-#"), st.text("#-", min_size=8, max_size=14))},
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mapping=st.one_of(
        plausible_bank,
        plausible_bank,
        st.dictionaries(
            st.sampled_from(["account_name", "bank", "branch", "account_number", "account_format", "swift", "x"]),
            values,
            max_size=7,
        ),
    ),
    raw=st.one_of(st.none(), st.none(), st.lists(line, max_size=4)),
)
@example(mapping={}, raw=["swift: &a [*a, 2024-13-45]"])
@example(mapping={}, raw=["account_number: &a {x: *a}"])
def test_any_bank_file_loads_or_gives_a_site_error(
    site: tuple[Path, Path], mapping: dict[str, Any], raw: list[str] | None
) -> None:
    """The file whose mistakes cost donations: random values and broken YAML are reported, never crash."""
    root, _ = site
    text_ = "".join(f"{item}\n" for item in raw) if raw is not None else yaml.safe_dump(mapping, allow_unicode=True)
    (root / "data" / "bank.yaml").write_text(text_, encoding="utf-8")
    (root / PAGE).write_text("---\ntitle: About us\n---\n", encoding="utf-8")
    try:
        build_site(root, root.parent / "bank-out")
        event("built")  # how far the examples reach: pytest --hypothesis-show-statistics
    except BuildFailed as exc:
        # The page is valid, so every error is in the bank file, at a line of it.
        errors = [p for p in exc.problems if p.level == "error"]
        event(f"error: {errors[0].message[:30] if errors else ''}")
        assert errors
        assert {p.path for p in errors} == {"data/bank.yaml"}, [p.format() for p in errors]
        assert all(p.line >= 1 for p in errors), [p.format() for p in errors]
