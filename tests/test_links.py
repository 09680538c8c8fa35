"""Link checks: dead links, missing #anchors and images without alt text, each at the line it is written on."""

from __future__ import annotations

from pathlib import Path

from sitegen.errors import Problem
from sitegen.pipeline import build_site, check_build

from .conftest import MakeSite

# Line 1 is the front matter's first line; the body starts on line 4.
TWICE = """---
title: About us
---
Intro with a [first link](gone.md) to a page that does not exist.

```
A [code sample](gone.md) is shown, not linked: ![](shown.png)
```

Text in between.

- a list item with the [same dead link](gone.md) again
- and an ![](photo.png) without alt text, then ![](photo.png) once more

A [heading link](about.md#nowhere) and, below it,

> a quote with [the same](about.md#nowhere) link.
"""

WANTED = [
    ("broken-link", 4, "link to a page that does not exist: 'gone.md'"),
    ("broken-link", 12, "link to a page that does not exist: 'gone.md'"),
    ("no-alt", 13, "image 'photo.png' has no alt text"),
    ("no-alt", 13, "image 'photo.png' has no alt text"),
    ("broken-link", 15, "link to a missing heading: 'about.md#nowhere'"),
    ("broken-link", 17, "link to a missing heading: 'about.md#nowhere'"),
]


def en_about(problems: list[Problem] | tuple[Problem, ...]) -> list[tuple[str, int, str]]:
    return sorted((p.kind, p.line, p.message) for p in problems if p.path == "content/en/about.md")


def test_each_link_is_reported_at_its_own_line(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"content/en/about.md": TWICE})
    built = build_site(root, tmp_path / "out")
    assert en_about(built.problems) == sorted(WANTED)
    assert en_about(check_build(root).problems) == sorted(WANTED)


def test_a_page_of_one_dead_link_repeated_reports_every_line(make_site: MakeSite) -> None:
    count = 3000  # a hostile page: each link is placed after the previous one, not searched from the top
    body = "".join(f"[dead {n}](gone.md)\n\n" for n in range(count))
    root = make_site(
        {"content/en/about.md": f"---\ntitle: About\n---\n{body}[ref][r] and [ref][r]\n\n[r]: gone-too.md\n"}
    )
    lines = [line for kind, line, _ in en_about(check_build(root).problems) if kind == "broken-link"]
    used = 4 + 2 * count
    assert lines == [4 + 2 * n for n in range(count)] + [used, used], "reference links: where they are used"


# The body starts on line 6; what is written before the links must not move them.
DECOYS = """---
title: About us
description: Who we are
---

<!-- Moved: [old](gone.md), [older](gone.md), ![](photo.png) -->
The old address was (gone.md), and the [home page](index.md) is (gone.md) too.

    [an example](gone.md) in code

Read [this][r] and [that](gone.md).

[r]: gone.md
"""


def test_a_link_is_at_its_line_whatever_is_written_before_it(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"content/en/about.md": DECOYS})
    wanted = [("broken-link", 11, "link to a page that does not exist: 'gone.md'")] * 2
    assert en_about(build_site(root, tmp_path / "out").problems) == wanted
    assert en_about(check_build(root).problems) == wanted
