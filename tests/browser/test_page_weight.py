"""The page-weight budget of issue 4, on the built site (sizes are deterministic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.page_weight import (
    BLOCKING_BUDGET,
    CRITICAL_BUDGET,
    JS_BUDGET,
    PageWeight,
    format_table,
    measure_page,
    measure_site,
)
from tools.screenshots import REPO_ROOT, SitePage


@pytest.fixture(scope="module")
def weights(site_dir: Path) -> dict[str, PageWeight]:
    return {w.page: w for w in measure_site(site_dir)}


def test_every_page_is_weighed(weights: dict[str, PageWeight]) -> None:
    # Counted from the sources, not from the page list the bench itself walks: every page of
    # content/th and content/en, the language chooser and the 404 page.
    sources = [p for lang in ("th", "en") for p in (REPO_ROOT / "content" / lang).rglob("*.md")]
    assert len(weights) == len(sources) + 2
    assert {"/", "/404.html", "/th/", "/en/", "/th/donate/", "/en/donate/", "/th/help/"} <= set(weights)
    print("\n" + format_table(list(weights.values())))


def test_page_is_within_budget(weights: dict[str, PageWeight], site_page: SitePage) -> None:
    weight = weights[site_page.url_path]
    assert weight.critical_gz <= CRITICAL_BUDGET, f"critical path {weight.critical_gz} B gzipped"
    assert len(weight.blocking) <= BLOCKING_BUDGET, f"render-blocking: {weight.blocking}"
    assert weight.js_gz <= JS_BUDGET, f"JavaScript {weight.js_gz} B gzipped"
    assert not weight.missing, f"subresources without a file: {weight.missing}"
    assert not weight.external, f"subresources on other origins: {weight.external}"


def test_measure_counts_blocking_and_deferred_resources(tmp_path: Path) -> None:
    (tmp_path / "a.css").write_text("@import 'b.css'; body{background:url(bg.png)}", "utf-8")
    (tmp_path / "b.css").write_text("p{color:red}", "utf-8")
    (tmp_path / "print.css").write_text("nav{display:none}", "utf-8")
    (tmp_path / "bg.png").write_bytes(b"\x89PNG" + bytes(100))
    (tmp_path / "s.js").write_text("console.log(1)", "utf-8")
    (tmp_path / "index.html").write_text(
        '<!doctype html><html><head><link rel="stylesheet" href="/a.css">'
        '<link rel="stylesheet" href="/print.css" media="print"><script src="/s.js" defer></script>'
        '<link rel="icon" href="/missing.svg"></head><body><img src="https://cdn.example/x.png" alt=""></body></html>',
        "utf-8",
    )
    weight = measure_page(tmp_path, "/")
    assert weight.blocking == ("/a.css", "/b.css")
    assert weight.requests == 1 + 6  # a.css, print.css, s.js, missing.svg, b.css, bg.png
    assert weight.missing == ("/missing.svg",)
    assert weight.external == ("https://cdn.example/x.png",)
    assert weight.js_gz > 0
    assert weight.critical_gz > weight.html_gz
    assert len(weight.problems()) == 3  # two blocking requests, a missing file, an external one
