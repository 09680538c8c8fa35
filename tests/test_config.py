"""site.yaml: languages come from config, and every unknown key is named."""

from __future__ import annotations

import pytest

from sitegen.config import load_config
from sitegen.errors import BuildFailed

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
