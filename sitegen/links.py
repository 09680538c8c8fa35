"""Link problems of a page: links to pages that do not exist, #anchors that no heading has, images without alt text."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from .cache import FoundLink
from .content import PageSource
from .errors import Problem
from .model import Page, Site

if TYPE_CHECKING:  # render imports Jinja and Markdown, which a build with nothing to render never needs
    from .render import Rendered


def found_links(source: PageSource, rendered: Rendered) -> tuple[tuple[FoundLink, ...], tuple[tuple[str, int], ...]]:
    """A page's internal links and its images without alt text, each with its line in the page file."""
    first = source.body_line
    links = tuple(FoundLink(link.href, link.target_key, link.fragment, first + link.line) for link in rendered.links)
    images = tuple((image.src, first + image.line) for image in rendered.images)
    return links, images


def page_link_problems(
    page: Page,
    links: Sequence[FoundLink],
    images: Sequence[tuple[str, int]],
    site: Site,
    ids: Callable[[str], Collection[str]],
) -> list[Problem]:
    """Links to pages that do not exist, #anchors that no heading has, and images without alt text."""
    problems: list[Problem] = []
    for href, target_key, fragment, line in links:
        target = site.get(target_key, page.lang)
        if target is None:
            problems.append(
                Problem(
                    page.source.path,
                    line,
                    f"link to a page that does not exist: '{href}'",
                    "check the file name; links point to .md files in the same language folder",
                    "warning",
                    "broken-link",
                    page.lang,
                )
            )
        elif fragment and fragment not in ids(target.output):
            problems.append(
                Problem(
                    page.source.path,
                    line,
                    f"link to a missing heading: '{href}'",
                    f"no heading in {target.source.path} has the id '{fragment}'",
                    "warning",
                    "broken-link",
                    page.lang,
                )
            )
    for src, line in images:
        problems.append(
            Problem(
                page.source.path,
                line,
                f"image '{src}' has no alt text",
                "describe the image inside the brackets: ![what it shows](file.jpg)",
                "warning",
                "no-alt",
                page.lang,
            )
        )
    return problems
