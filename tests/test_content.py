"""Page files: their keys, front matter and body lines, and which files of content/ are pages."""

from __future__ import annotations

import pytest

from sitegen.config import load_config
from sitegen.content import file_digest, page_files, page_key, parse_page_text
from sitegen.errors import Collector
from sitegen.inputs import FileIndex, PageScanner

from .conftest import MakeSite


@pytest.mark.parametrize(
    ("relative", "key"),
    [
        ("about.md", "about"),
        ("index.md", "index"),
        ("news/index.md", "news"),
        ("news/report.md", "news/report"),
        ("/news/report.md/", "news/report"),
    ],
)
def test_a_page_key_is_its_path_without_md_and_index(relative: str, key: str) -> None:
    assert page_key(relative) == key


def test_the_body_starts_after_the_closing_fence_and_keys_keep_their_lines() -> None:
    text = "---\ntitle: About\n\ndescription: Who we are\n---\nFirst line of the body.\n"
    problems = Collector()
    page = parse_page_text(text, "content/en/about.md", "en", "about", problems)
    assert problems.problems == [] and page is not None
    assert page.body_line == 6, "line 6 of the file is the body's first line"
    assert text.split("\n")[page.body_line - 1] == "First line of the body."
    assert page.meta_lines == {"title": 2, "description": 4}
    assert (page.meta.title, page.meta.description) == ("About", "Who we are")


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("title: About\n", "content/en/about.md:1: error: the page has no front matter"),
        ("---\ntitle: About\n", "content/en/about.md:1: error: the front matter is not closed"),
        ("---\ntitel: About\n---\n", "content/en/about.md:2: error: unknown front-matter key 'titel'"),
        ("---\ntitle: About\ndate: 2024-02-30\n---\n", "content/en/about.md:3: error:"),
        ("---\ntitle: About\ndraft: yes please\n---\n", "content/en/about.md:3: error: 'draft' must be true or false"),
        (  # a draft too: the cache keeps its front matter, and would have refused this name each time
            "---\ntitle: About\ndraft: true\ntemplate: ../page.html\n---\n",
            "content/en/about.md:4: error: template '../page.html' must be an .html file in templates/",
        ),
    ],
)
def test_a_bad_page_is_a_problem_at_its_line(text: str, wanted: str) -> None:
    problems = Collector()
    assert parse_page_text(text, "content/en/about.md", "en", "about", problems) is None
    assert problems.problems and problems.problems[0].format().startswith(wanted), problems.problems


def test_the_digest_ignores_only_the_source_hash_line() -> None:
    page = "---\ntitle: About\n---\nText.\n"
    marked = "---\ntitle: About\nsource_hash: 0123456789ab\n---\nText.\n"
    assert file_digest(page) == file_digest(marked)
    assert file_digest(page) != file_digest(page.replace("Text.", "Text!"))


def test_pages_are_found_in_every_language_and_drafts_left_out(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/en/draft.md": "---\ntitle: Not yet\ndraft: true\n---\n",
            "content/en/notes.txt": "not a page",
        }
    )
    problems = Collector()
    pages = PageScanner(FileIndex(root, None), None, 1).find(load_config(root), problems)
    found = sorted((page.lang, page.key, page.path) for page in pages)
    assert found == [
        ("en", "about", "content/en/about.md"),
        ("en", "index", "content/en/index.md"),
        ("my", "index", "content/my/index.md"),
        ("th", "about", "content/th/about.md"),
        ("th", "index", "content/th/index.md"),
        ("th", "news/report", "content/th/news/report.md"),
    ]
    assert [(p.path, p.level) for p in problems.problems] == [("content/en/notes.txt", "warning")]


def test_pages_are_listed_as_their_paths_sort_part_by_part(make_site: MakeSite) -> None:
    """ "a/b" before "a-b": folder by folder, as a person reading the tree expects (and as before)."""
    names = ["a-b.md", "a.md", "a/c/d.md", "a/b.md", "a0.md", "b.md"]
    root = make_site({f"content/en/{name}": f"---\ntitle: {name}\n---\n" for name in names})
    listed = [f.path.removeprefix("content/en/") for f in page_files(load_config(root), Collector())]
    ours = [name for name in listed if name in names]
    assert ours == sorted(names, key=lambda name: name.split("/"))
    # by hand: "a" < "a-b.md" < "a.md" ("-" is before "."), so the folder a/ comes first
    assert ours == ["a/b.md", "a/c/d.md", "a-b.md", "a.md", "a0.md", "b.md"]
