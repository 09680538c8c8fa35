"""site.yaml: languages come from config, and every unknown key is named."""

from __future__ import annotations

import pytest

from sitegen.config import check_base_url, load_config
from sitegen.errors import BuildFailed, SiteError

from .conftest import SITES, MakeSite


def test_languages_come_from_site_yaml(make_site: MakeSite) -> None:
    config = load_config(make_site())
    assert config.codes == ("th", "en", "my")
    assert config.default_lang == "th"
    assert config.language("th").calendar == "buddhist"
    assert config.language("en").missing == "fallback"
    assert config.language("my").missing == "skip"
    assert config.absolute("/th/") == "https://example.org/th/"


def config_errors(make_site: MakeSite, text: str) -> list[str]:
    root = make_site({"site.yaml": text})
    with pytest.raises(BuildFailed) as info:
        load_config(root)
    return [p.format() for p in info.value.problems]


def test_unknown_key_suggests_the_right_one(make_site: MakeSite) -> None:
    text = (SITES / "basic" / "site.yaml").read_text(encoding="utf-8").replace("menu:", "menus:")
    assert config_errors(make_site, text) == [
        "site.yaml:23: error: unknown key 'menus' in site.yaml (did you mean 'menu'?)"
    ]


def test_default_language_must_be_declared(make_site: MakeSite) -> None:
    text = (SITES / "basic" / "site.yaml").read_text(encoding="utf-8").replace("default_lang: th", "default_lang: fr")
    assert config_errors(make_site, text) == [
        "site.yaml:6: error: default_lang 'fr' is not one of the languages (allowed: 'en', 'my', 'th')"
    ]


def test_bad_language_entry_is_reported_with_its_line(make_site: MakeSite) -> None:
    text = (
        "title: X\nbase_url: https://example.org\nlanguages:\n"
        "  - code: th\n    name: ไทย\n    calender: buddhist\n"
        "  - code: en\n    name: English\n    missing: fallbak\n"
    )
    assert config_errors(make_site, text) == [
        "site.yaml:6: error: unknown key 'calender' in site.yaml (did you mean 'calendar'?)",
        "site.yaml:9: error: unknown policy 'fallbak' for missing translations (did you mean 'fallback'?)",
    ]


def test_base_url_must_be_absolute(make_site: MakeSite) -> None:
    text = "title: X\nbase_url: www.example.org\nlanguages:\n  - code: en\n    name: English\n"
    assert config_errors(make_site, text) == [
        "site.yaml:2: error: 'www.example.org' is not an absolute URL (write it like https://www.example.org)"
    ]


def site_with_base_url(value: str) -> str:
    return f"title: X\nlanguages:\n  - code: en\n    name: English\nbase_url: {value}\n"


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        '"javascript://example.org/%0aalert(1)"',
        "ftp://example.org",
        "//example.org",
        "https://",
        "https:///path",
        "https://exa mple.org",
        "https://example.org?page=1",
        "https://example.org/#top",
        "https://user:secret@example.org",
        "https://example.org:99999",
        "https://example.org:port",
        "'https://example.org/\"><script>alert(1)</script>'",
        "https://ตัวอย่าง.ไทย",
        "HTTPS//example.org",
        "https://lpnfoundation",  # a name with no dot: only localhost is a host on its own
    ],
)
def test_base_url_must_be_http_or_https_with_a_host(make_site: MakeSite, value: str) -> None:
    errors = config_errors(make_site, site_with_base_url(value))
    assert len(errors) == 1 and errors[0].startswith("site.yaml:5: error: '"), errors
    assert errors[0].endswith("' is not an absolute URL (write it like https://www.example.org)"), errors


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("https://example.org/", "https://example.org"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("https://www.example.org/lpn/", "https://www.example.org/lpn"),
        ("https://xn--72c9ah5dd7a.xn--o3cw4h", "https://xn--72c9ah5dd7a.xn--o3cw4h"),
    ],
)
def test_good_base_urls_pass(make_site: MakeSite, value: str, kept: str) -> None:
    assert load_config(make_site({"site.yaml": site_with_base_url(value)})).base_url == kept


def test_the_base_url_check_is_there_for_the_command_line() -> None:
    assert check_base_url("https://example.org/", "--base-url", 0) == "https://example.org"
    with pytest.raises(SiteError):
        check_base_url("https://example.org\n", "--base-url", 0)
    with pytest.raises(SiteError) as info:
        check_base_url("javascript:alert(1)", "--base-url", 0)
    assert info.value.problem.format() == (
        "--base-url: error: 'javascript:alert(1)' is not an absolute URL (write it like https://www.example.org)"
    )


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("https://lpnfoundation.org", True),
        ("http://localhost:8000", True),  # a build to look at on this computer
        ("http://127.0.0.1:8000", True),
        ("http://192.168.1.20:8000/", True),  # a build to look at on a phone on the same network
        ("http://[::1]:8000", True),
        ("http://999.1.1.1", False),
        ("http://intranet", False),  # a name only this network knows: no search engine or reader can open it
        ("https://-.-", False),
    ],
)
def test_base_url_is_an_address_of_the_web_or_this_computer(value: str, kept: bool) -> None:
    if kept:
        assert check_base_url(value, "site.yaml", 3)
    else:
        with pytest.raises(SiteError):
            check_base_url(value, "site.yaml", 3)
