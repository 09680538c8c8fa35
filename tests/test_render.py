"""Rendering: the policy in every head, text from catalogues and data kept as text, fallback pages'
canonical URL, what a render records having read, and template mistakes at their line."""

from __future__ import annotations

import gettext
import json
from pathlib import Path

import pytest

from sitegen.errors import BuildFailed, SiteError
from sitegen.output import CONTENT_SECURITY_POLICY, meta_policy
from sitegen.pipeline import build_site, load_site
from sitegen.render import CSP_META, Renderer, _AsText, compile_templates, json_script, template_names, with_policy
from sitegen.workers import with_body

from .conftest import MakeSite, parse


@pytest.mark.parametrize(
    ("page", "wanted"),
    [
        ("<html><head>\n<title>x</title>", f"<html><head>\n{CSP_META}\n<title>x</title>"),
        ("<html><HEAD lang=th><title>x</title>", f"<html><HEAD lang=th>{CSP_META}<title>x</title>"),
        ("<html><header>no head here</header>", "<html><header>no head here</header>"),
    ],
)
def test_the_policy_goes_right_after_the_head_tag(page: str, wanted: str) -> None:
    assert with_policy(page) == wanted
    assert meta_policy(CONTENT_SECURITY_POLICY) in CSP_META


def test_json_in_a_script_cannot_close_it() -> None:
    text = str(json_script({"name": "</script><script>alert(1)</script> & more"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script> & more"}


def test_a_translation_is_text_never_markup() -> None:
    catalogue = _AsText(gettext.NullTranslations())
    assert str(catalogue.gettext('<b onclick="x()">')) == "&lt;b onclick=&#34;x()&#34;&gt;"
    assert str(catalogue.ngettext("<i>", "<i>s", 2)) == "&lt;i&gt;s"


def test_a_fallback_page_points_its_canonical_at_the_original(make_site: MakeSite, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_site(make_site(), out)
    fallback = parse(out / "en/news/report/index.html")
    assert fallback.cssselect('link[rel="canonical"]')[0].get("href") == "https://example.org/th/news/report/"
    assert fallback.cssselect(".notice"), "the reader is told the page is not translated"
    assert fallback.cssselect(".prose")[0].get("lang") == "th"
    assert [m.get("content") for m in fallback.cssselect('meta[property="og:locale:alternate"]')] == ["th_TH"]
    real = parse(out / "en/about/index.html")
    assert real.cssselect('link[rel="canonical"]')[0].get("href") == "https://example.org/en/about/"
    assert [m.get("content") for m in real.cssselect('meta[property="og:locale:alternate"]')] == ["th_TH"]


def test_a_render_records_the_templates_and_urls_it_read(make_site: MakeSite) -> None:
    loaded = load_site(make_site())
    renderer = Renderer(loaded.site, loaded.data, loaded.translations, {a.name: a.url for a in loaded.assets})
    page = loaded.site.get("about", "th")
    assert page is not None
    page = with_body(page, loaded.site.config.root, loaded.bodies)  # the model keeps no bodies
    rendered = renderer.render_page(page)
    assert rendered.output == "th/about/index.html" and rendered.source == "content/th/about.md"
    # page.html extends base.html, which imports the JSON-LD partial
    assert rendered.templates == ("base.html", "page.html", "partials/jsonld.html")
    assert (("news/report", "th"), "/th/news/report/") in rendered.lookups, "the link in the text"
    assert [(link.href, link.target_key) for link in rendered.links] == [("news/report.md", "news/report")]
    assert 'href="/th/news/report/"' in rendered.html
    other = renderer.render_page(loaded.site.get("index", "th") or page)
    assert (("news/report", "th"), "/th/news/report/") not in other.lookups, "each render starts afresh"


def test_a_template_mistake_names_the_template_and_its_line(make_site: MakeSite) -> None:
    root = make_site(
        {"templates/page.html": '{% extends "base.html" %}\n{% block extra %}\n{{ page.titel }}\n{% endblock %}\n'}
    )
    loaded = load_site(root)
    renderer = Renderer(loaded.site, loaded.data, loaded.translations, {a.name: a.url for a in loaded.assets})
    page = loaded.site.get("about", "en")
    assert page is not None
    with pytest.raises(SiteError) as info:
        renderer.render_page(page)
    assert info.value.problem.format() == (
        "templates/page.html:3: error: template error: 'page.titel' is undefined"
        " (check the spelling of the name; while rendering content/en/about.md)"
    )


def test_templates_see_alternates_as_mappings(make_site: MakeSite, tmp_path: Path) -> None:
    page = '{% extends "base.html" %}\n{% block extra %}<p id="alts">{{ alternates | tojson }}</p>{% endblock %}\n'
    out = tmp_path / "out"
    build_site(make_site({"templates/page.html": page}), out)
    shown = json.loads(parse(out / "en/about/index.html").cssselect("#alts")[0].text_content())
    assert shown == [
        {"hreflang": "th", "href": "https://example.org/th/about/"},
        {"hreflang": "en", "href": "https://example.org/en/about/"},
        {"hreflang": "x-default", "href": "https://example.org/th/about/"},
    ]


def test_templates_compiled_ahead_render_as_those_compiled_here(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site()
    compiled = compile_templates(root)
    assert {"page.html", "base.html", "partials/jsonld.html"} <= set(template_names(root))
    assert len(compiled) == len(template_names(root)), "every template compiled"
    loaded = load_site(root)
    assets = {a.name: a.url for a in loaded.assets}
    page = loaded.site.get("about", "en")
    assert page is not None
    page = with_body(page, root, loaded.bodies)
    here = Renderer(loaded.site, loaded.data, loaded.translations, assets).render_page(page)
    ahead = Renderer(loaded.site, loaded.data, loaded.translations, assets, compiled)
    compiled_here: list[str] = []
    monkeypatch.setattr(ahead.bytecode, "dump_bytecode", lambda bucket: compiled_here.append(bucket.key))
    assert ahead.render_page(page) == here
    assert compiled_here == [], "nothing compiled again"


def test_a_template_changed_after_it_was_compiled_ahead_is_compiled_again(make_site: MakeSite) -> None:
    """The compiled code is checked against the source the render reads: an edit in between wins."""
    root = make_site()
    compiled = compile_templates(root)
    base = root / "templates/base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("</body>", "<p>added after</p></body>"), encoding="utf-8")
    loaded = load_site(root)
    renderer = Renderer(loaded.site, loaded.data, loaded.translations, {a.name: a.url for a in loaded.assets}, compiled)
    page = loaded.site.get("about", "en")
    assert page is not None
    assert "<p>added after</p>" in renderer.render_page(with_body(page, root, loaded.bodies)).html


def test_a_template_that_does_not_compile_is_left_for_the_render_to_report(make_site: MakeSite) -> None:
    root = make_site({"templates/broken.html": "{% if %}\n"})
    compiled = compile_templates(root)
    assert compiled and len(compiled) == len(template_names(root)) - 1
    assert compile_templates(make_site({"site.yaml": "title: [\n"}, name="other")) == {}, (
        "a site that does not load: nothing"
    )


DEEP = "{{ " + "(" * 300 + "1" + ")" * 300 + " }}\n"  # Jinja's parser recurses: RecursionError, not a TemplateError


def test_a_template_jinja_cannot_compile_stops_no_build_that_does_not_use_it(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site({"templates/unused.html": DEEP, "templates/digits.html": "{{ " + "9" * 5000 + " }}\n"})
    assert len(compile_templates(root)) == len(template_names(root)) - 2, "all but the two"
    built = build_site(root, tmp_path / "site", jobs=2)
    assert built.outputs


def test_a_template_jinja_cannot_compile_is_one_error_naming_it(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"templates/page.html": DEEP})
    with pytest.raises(BuildFailed) as info:
        build_site(root, tmp_path / "site", jobs=1)
    said = {problem.format() for problem in info.value.problems}
    assert said and all(line.startswith("templates/page.html:") and "\n" not in line for line in said), said
