"""The model: translations linked by path, fallbacks, switchers and duplicate URLs."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from sitegen.errors import BuildFailed
from sitegen.pipeline import build_site, load_site

from .conftest import SITES, MakeSite, parse


def test_pages_are_linked_by_relative_path(make_site: MakeSite) -> None:
    site = load_site(make_site()).site
    about = site.get("about", "th")
    assert about is not None
    assert site.versions(about.key).langs == ("th", "en")
    assert about.url == "/th/about/" and about.output == "th/about/index.html"
    report = site.get("news/report", "th")
    assert report is not None and report.url == "/th/news/report/"


def test_fallback_copies_are_never_alternates(make_site: MakeSite) -> None:
    site = load_site(make_site()).site
    fallback = site.get("news/report", "en")
    assert fallback is not None and fallback.fallback and fallback.text_lang == "th"
    versions = site.versions(fallback.key)
    assert versions.langs == ("th",)
    assert [tuple(alt) for alt in versions.alternates] == [
        ("th", "https://example.org/th/news/report/"),
        ("x-default", "https://example.org/th/news/report/"),
    ]
    assert [(lang.code, url) for lang, url in versions.switcher] == [
        ("th", "/th/news/report/"),
        ("en", "/en/news/report/"),
        ("my", "/my/"),
    ]
    assert site.get("news/report", "my") is None, "'my' is set to skip missing pages"


def test_menus_follow_site_yaml_in_each_language(make_site: MakeSite) -> None:
    site = load_site(make_site()).site
    assert [(m.title, m.url, m.text_lang) for m in site.menus["en"]] == [
        ("About us", "/en/about/", "en"),
        ("รายงาน", "/en/news/report/", "th"),
    ]
    assert site.menus["my"] == ()


def test_two_pages_with_one_url_are_refused(make_site: MakeSite) -> None:
    root = make_site({"content/th/about/index.md": "---\ntitle: ซ้ำ\n---\n"})
    with pytest.raises(BuildFailed) as info:
        load_site(root)
    assert [p.format() for p in info.value.problems] == [
        "content/th/about.md:1: error: this page and content/th/about/index.md both produce the URL /th/about/ (rename or remove one of them)"
    ]


def test_menu_entry_must_be_a_page(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/th/about.md": None,
            "content/en/about.md": None,
            "content/th/index.md": "---\ntitle: x\n---\n",
            "content/en/index.md": "---\ntitle: x\n---\n",
        }
    )
    with pytest.raises(BuildFailed) as info:
        load_site(root)
    assert [p.format() for p in info.value.problems] == [
        "site.yaml:23: error: menu entry 'about' is not a page (create content/th/about.md or remove it from the list)"
    ]


# --- alternates: one rule, read by the head, the switcher, the sitemap and the chooser ------------------

ONE_LANGUAGE_SITE = {
    "content/en/only-en.md": "---\ntitle: Only in English\n---\n\nText.\n",  # no Thai page
    "content/my/only-my.md": "---\ntitle: မြန်မာသာ\n---\n\nText.\n",  # only in the last language
    "content/en/index.md": None,  # the English home page is a fallback: the chooser must not list it
    "content/en/en-my.md": "---\ntitle: English and Burmese\n---\n",  # not in the default language
    "content/my/en-my.md": "---\ntitle: အင်္ဂလိပ်နှင့်မြန်မာ\n---\n",
}


def expected_versions(root: Path) -> tuple[list[str], dict[str, str], dict[str, set[str]]]:
    """From the files alone: the languages in order, each one's missing-page policy, and each key's real languages."""
    config = yaml.safe_load((root / "site.yaml").read_text(encoding="utf-8"))
    codes = [lang["code"] for lang in config["languages"]]
    missing = {lang["code"]: lang.get("missing", "skip") for lang in config["languages"]}
    real: dict[str, set[str]] = {}
    for code in codes:
        folder = root / "content" / code
        for file in folder.rglob("*.md"):
            relative = file.relative_to(folder).with_suffix("").as_posix()
            key = relative.removesuffix("/index") if relative != "index" else "index"
            real.setdefault(key, set()).add(code)
    return codes, missing, real


@pytest.mark.parametrize("default_missing", ["fallback", "skip"])
def test_head_switcher_sitemap_and_chooser_agree_on_alternates(
    make_site: MakeSite, tmp_path: Path, default_missing: str
) -> None:
    """Real translations only, never fallbacks; x-default is the chooser for the home page, else the
    default language's real page, else the first real translation in the site's language order."""
    site_yaml = (SITES / "basic" / "site.yaml").read_text(encoding="utf-8")
    site_yaml = site_yaml.replace(
        "    calendar: buddhist\n", f"    calendar: buddhist\n    missing: {default_missing}\n"
    )
    root = make_site({**ONE_LANGUAGE_SITE, "site.yaml": site_yaml})
    out = tmp_path / "out"
    build_site(root, out)
    codes, missing, real = expected_versions(root)
    default = codes[0]
    assert yaml.safe_load((root / "site.yaml").read_text(encoding="utf-8"))["default_lang"] == default
    base = "https://example.org"

    def url(lang: str, key: str) -> str:
        return f"/{lang}/" if key == "index" else f"/{lang}/{key}/"

    def wanted(key: str) -> dict[str, str]:
        langs = [code for code in codes if code in real[key]]
        x_default = "/" if key == "index" else url(default if default in langs else langs[0], key)
        return {lang: base + url(lang, key) for lang in langs} | {"x-default": base + x_default}

    # Every page the site has: the real ones, and a fallback wherever a language falls back.
    pages = {
        (lang, key) for key, langs in real.items() for lang in codes if lang in langs or missing[lang] == "fallback"
    }
    assert (("th", "only-en") in pages) == (default_missing == "fallback")
    assert ("en", "only-my") in pages and ("en", "news/report") in pages and ("my", "news/report") not in pages
    written = {p.parent.relative_to(out).as_posix() for p in out.glob("*/**/index.html")}
    assert written == {url(lang, key).strip("/") for lang, key in pages}

    for lang, key in sorted(pages):
        html = parse(out / url(lang, key).strip("/") / "index.html")
        head = {link.get("hreflang"): link.get("href") for link in html.cssselect('link[rel="alternate"]')}
        assert len(html.cssselect('link[rel="alternate"]')) == len(head), f"{lang}/{key}: an alternate twice"
        assert head == wanted(key), f"head of {lang}/{key}"
        switcher = {a.get("hreflang"): a.get("href") for a in html.cssselect("nav.lang a")}
        assert switcher == {
            code: url(code, key) if code in real[key] or missing[code] == "fallback" else url(code, "index")
            for code in codes
        }, f"switcher of {lang}/{key}"
        for code, href in head.items():  # where the head names a version, the switcher leads to it
            if code != "x-default":
                assert base + switcher[code] == href

    namespaces = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    sitemap = ElementTree.parse(out / "sitemap.xml").getroot()
    entries = sitemap.findall("s:url", namespaces)
    listed = [entry.findtext("s:loc", "", namespaces) for entry in entries]
    assert sorted(listed) == sorted(base + url(lang, key) for key, langs in real.items() for lang in langs)
    for entry in entries:
        loc = entry.findtext("s:loc", namespaces=namespaces) or ""
        links = entry.findall("x:link", namespaces)
        alternates = {link.get("hreflang"): link.get("href") for link in links}
        assert len(links) == len(alternates)
        key = next(k for k, langs in real.items() for lang in langs if base + url(lang, k) == loc)
        assert alternates == wanted(key), f"sitemap entry of {loc}"

    chooser = parse(out / "index.html")
    assert {link.get("hreflang"): link.get("href") for link in chooser.cssselect('link[rel="alternate"]')} == wanted(
        "index"
    )
