"""Property: whatever a staff member types into a page, the build either works or reports a ``SiteError``.

Random front matter (valid YAML of every type, broken YAML, missing fences, tabs,
quotes, BOMs, Windows line endings, other encodings) and random Markdown are fed to
the page loader and to the whole build. YAML-ish text (tags, anchors and aliases, keys
given twice, odd Unicode, deep nesting) is fed to the stages that read front matter,
data files and site.yaml, called directly so that thousands of examples stay fast.
Nothing else may ever come out: no
``KeyError``, no ``TypeError``, no traceback for staff to puzzle over.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from sitegen.config import SiteConfig, load_config
from sitegen.content import PageFile, parse_page_text
from sitegen.data import load_data
from sitegen.errors import BuildFailed, Collector, SiteError
from sitegen.pipeline import build_site
from sitegen.workers import parse_page

from .conftest import SITES, copy_site, tree_digest

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
        root = copy_site(Path(folder) / "site", base="err-base")
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

    parsed = parse_page(root, PageFile(PAGE, "en", "about", path.stat()))
    problems, page = Collector(list(parsed.problems)), parsed.source
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


# --- YAML-ish text, for the stages that read YAML ------------------------------------------------

YAML_KEYS = [
    *FIELDS,
    *("account_name", "bank", "branch", "account_number", "account_format", "swift", "th", "en", "my"),
    *("key", "name", "head", "address", "phones", "number", "purpose", "email", "website", "registered"),
    *("base_url", "languages", "code", "locale", "calendar", "missing", "menu", "footer_menu", "phone_region"),
    *("default_lang", "<<", "? [a]", "ชื่อ", "a b", "1", "01", "true", "null", "~", '"title"', "'swift'", ""),
]
YAML_SCALARS = [
    *("x", "About us", "1", "0x1F", "0o17", "1_000", "9" * 5000, "1e400", ".nan", "-.inf", "1:20:30", ""),
    *("2024-02-29", "2024-13-45", "2024-01-01T25:00:00", "2024-1-1 1:00:00 +99:99", "yes", "No", "~", "null"),
    *('"quoted"', "'single'", '"esc \\t"', '"\\u0e01"', "page.html", "nope.htm", "https://example.org"),
    *("034-434726", "034-434-ABC", "๐๓๔-๔๓๔๗๒๖", "１３００", "+66 34 434 726", "1300", '"162-0-09432-0"'),
    *('"๑๖๒-๐-๐๙๔๓๒-๐"', '"162-0-09432-0\\n"', "KRTHTHBK", "krththbk", "javascript:alert(1)", "th", "en"),
    *("ไทย", "မြန်မာ", "buddhist", "fallback", "skip", "TH", "[about, news/report]", "{th: ก, en: A}", "[]", "{}"),
]
YAML_JUNK = [
    *('"unclosed', "'unclosed", '"\\x0"', '"\\uD800"', "|", ">-", "|+", "%TAG", "@x", "`x", "{", "}", "["),
    *("]", "&", "*", "!", "#c", ",", "?", "- x", ": x", "\u200b", "\u202e", "\ufeff", "\x85", "\u2028"),
    *("\t", "\r", "\x00", "\U0001f600", "ﷺ"),
]
YAML_TAGS = [
    *("!!int", "!!float", "!!bool", "!!timestamp", "!!binary", "!!null", "!!str", "!!set", "!!omap"),
    *("!!pairs", "!!seq", "!!map", "!!merge", "!!value", "!!python/object:os.system", "!foo", "!", "!!"),
    "!<tag:yaml.org,2002:int>",
]
ANCHORS = ["a", "b", "c"]
odd_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)


@st.composite
def yaml_value(draw: st.DrawFn, depth: int = 0) -> str:
    """One value: a scalar with perhaps a tag and an anchor, an alias, a flow collection, or deep brackets."""
    kind = draw(st.sampled_from(["scalar"] * 12 + ["alias", "flow", "flow", "deep", "junk", "odd"]))
    if kind == "alias":
        return "*" + draw(st.sampled_from(ANCHORS))
    if kind == "deep":
        depth_ = draw(st.integers(1, 120))
        return draw(st.sampled_from(["[", "{a: "])) * depth_ + "x" + draw(st.sampled_from(["]", "}"])) * depth_
    if kind == "flow" and depth < 3:
        items = draw(st.lists(yaml_value(depth + 1), max_size=4))
        if draw(st.booleans()):
            return "[" + ", ".join(items) + "]"
        return "{" + ", ".join(f"{draw(st.sampled_from(YAML_KEYS))}: {item}" for item in items) + "}"
    pool = YAML_JUNK if kind == "junk" else YAML_SCALARS
    value = draw(odd_text) if kind == "odd" else draw(st.sampled_from(pool))
    if draw(st.integers(0, 5)) == 0:
        value = f"{draw(st.sampled_from(YAML_TAGS))} {value}".rstrip()
    if draw(st.integers(0, 5)) == 0:
        value = f"&{draw(st.sampled_from(ANCHORS))} {value}".rstrip()
    return value


@st.composite
def yaml_block(draw: st.DrawFn, keys: list[str], indent: str = "", depth: int = 0) -> list[str]:
    """A block mapping or list, well indented, whose values may be blocks themselves."""
    lines: list[str] = []
    as_list = depth > 0 and draw(st.integers(0, 3)) == 0
    for _ in range(draw(st.integers(1, 5))):
        lead = f"{indent}- " if as_list else f"{indent}{draw(st.sampled_from(keys))}:"
        if depth < 3 and draw(st.integers(0, 3)) == 0:
            lines.append(lead.rstrip() if as_list else lead)
            lines.extend(draw(yaml_block(keys, indent + "  ", depth + 1)))
        else:
            lines.append(f"{lead} {draw(yaml_value())}".rstrip() if not as_list else lead + draw(yaml_value()))
    return lines


@st.composite
def yaml_text(draw: st.DrawFn, base: str = "", keys: list[str] = YAML_KEYS) -> str:
    """A YAML document, often mixed into ``base`` (a valid file), sometimes with a line broken, a line
    given twice, or an alias bomb."""
    lines = base.rstrip("\n").split("\n") if base else []
    block = draw(yaml_block(keys))
    if lines:  # replace or add top-level keys of the valid file
        for line in block:
            lines.insert(draw(st.integers(0, len(lines))) if not line.startswith(" ") else len(lines), line)
    else:
        lines = block
    if draw(st.integers(0, 3)) == 0:  # a junk line anywhere
        junk = draw(st.sampled_from(["", "  ", "    ", "\t", "- "])) + draw(yaml_value())
        lines.insert(draw(st.integers(0, len(lines))), junk)
    if draw(st.integers(0, 4)) == 0:  # a key given twice
        lines.append(draw(st.sampled_from(lines)))
    if draw(st.integers(0, 20)) == 0:  # an alias bomb
        lines.append("bomb0: &l0 [x, x, x, x, x, x, x, x, x]")
        lines.extend(f"bomb{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9))
    return "\n".join(lines) + "\n"


FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@settings(FUZZ, max_examples=1000)
@given(front=yaml_text(keys=FIELDS * 8 + YAML_KEYS))
@example(front="title: !!int\n")
@example(front="title: About\ndate: !!timestamp\n")
@example(front="title: A\ntitle: B\n")
@example(front="title: &a [*a]\n")
@example(front="title: x\nkey: " + "[" * 200 + "]" * 200 + "\n")
@example(front="a: &a [x, x]\n" + "".join(f"a{i}: &a{i} [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" for i in range(9)))
def test_any_front_matter_is_a_page_or_a_site_error(front: str) -> None:
    problems = Collector()
    try:
        page = parse_page_text(f"---\n{front}---\n\nText.\n", PAGE, "en", "about", problems)
    except Exception as exc:  # any exception at all is the bug this test looks for
        pytest.fail(f"{type(exc).__name__}: {exc}")
    assert (page is None) == bool(problems.errors), [p.format() for p in problems.problems]
    event("page loaded" if page else "refused: " + " ".join(problems.errors[0].message.split()[:4]))
    assert all(p.path == PAGE and p.line >= 1 for p in problems.errors), [p.format() for p in problems.errors]


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the small valid site that the data and site.yaml tests write into; each example writes the files
    it needs, so one copy serves every example."""
    return copy_site(tmp_path_factory.mktemp("fuzz-yaml") / "site")


@pytest.fixture(scope="module")
def fuzz_config(fuzz_root: Path) -> SiteConfig:
    """The valid site's configuration, read once: the data test does not change site.yaml."""
    return load_config(fuzz_root)


DATA_NAMES = ["bank", "offices", "organisation", "hotlines", "extra"]
GOOD_DATA = {name: (SITES / "basic" / "data" / f"{name}.yaml") for name in DATA_NAMES}


@settings(FUZZ, max_examples=1000)
@given(name=st.sampled_from(DATA_NAMES), data=st.data())
@example(name="bank", data=None)
def test_any_data_file_loads_or_gives_a_site_error(
    fuzz_root: Path, fuzz_config: SiteConfig, name: str, data: st.DataObject | None
) -> None:
    good = GOOD_DATA[name].read_text(encoding="utf-8") if GOOD_DATA[name].is_file() else ""
    if data is None:  # the example: an account number given twice
        text = good + 'account_number: "999-9-99999-9"\n'
    else:
        text = data.draw(yaml_text(base=good if data.draw(st.booleans()) else ""))
    path = fuzz_root / "data" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")  # only this file differs from the valid site
    problems = Collector()
    try:
        loaded = load_data(fuzz_config, problems)
        for code in fuzz_config.codes:  # what templates are given: a bomb here would hang the build
            loaded.for_lang(code, fuzz_config)
    except Exception as exc:  # any exception at all is the bug this test looks for
        pytest.fail(f"{type(exc).__name__}: {exc}")
    finally:
        if good:
            path.write_text(good, encoding="utf-8")
        else:
            path.unlink()
    event("loaded" if not problems.errors else "refused: " + " ".join(problems.errors[0].message.split()[:4]))
    assert all(p.path == f"data/{name}.yaml" and p.line >= 1 for p in problems.errors), [
        p.format() for p in problems.errors
    ]
    if data is None:
        assert [p.line for p in problems.errors] == [len(good.split("\n"))]


GOOD_SITE = (SITES / "basic" / "site.yaml").read_text(encoding="utf-8")


@settings(FUZZ, max_examples=600)
@given(text=st.one_of(yaml_text(base=GOOD_SITE), yaml_text()))
@example(text=GOOD_SITE + "phone_region: !!bool\n")
@example(text=GOOD_SITE.replace("base_url: https://example.org", "base_url: javascript:alert(1)"))
@example(text=GOOD_SITE + "base_url: https://example.com\n")
def test_any_site_yaml_loads_or_gives_a_site_error(fuzz_root: Path, text: str) -> None:
    (fuzz_root / "site.yaml").write_text(text, encoding="utf-8")
    try:
        config = load_config(fuzz_root)
    except (SiteError, BuildFailed) as exc:
        problems = exc.problems if isinstance(exc, BuildFailed) else (exc.problem,)
        event("refused: " + " ".join(problems[0].message.split()[:4]) if problems else "refused")
        assert problems and all(p.path == "site.yaml" for p in problems), [p.format() for p in problems]
        return
    except Exception as exc:
        pytest.fail(f"{type(exc).__name__}: {exc}")
    finally:
        (fuzz_root / "site.yaml").write_text(GOOD_SITE, encoding="utf-8")
    event("loaded")
    assert config.codes and config.base_url.startswith(("https://", "http://"))
