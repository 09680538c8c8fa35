"""Measurements of built pages in Chromium, taken once per page and viewport.

Each test asserts one property, but loading a page is the slow part, so a page
is visited once per viewport and everything the tests need is recorded then:
requests, console output, horizontal overflow, typography, target sizes and a
keyboard walk. axe-core runs in a second context that bypasses the site's CSP
(an injected script would otherwise be blocked); everything else runs with the
CSP from ``_headers`` enforced, so a CSP violation shows up as a console error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Route, ViewportSize

from tools import screenshots

VIEWPORTS: dict[str, ViewportSize] = {name: {"width": w, "height": h} for name, w, h, _ in screenshots.VIEWPORTS}
NARROWEST = 320  # WCAG 1.4.10 reflow width
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Shared JavaScript: a short, readable description of an element for messages.
_DESCRIBE = """
const describe = (el) => {
  if (!el || el === document) return 'document';
  let s = el.tagName.toLowerCase();
  if (el.id) s += '#' + el.id;
  if (el.classList.length) s += '.' + Array.from(el.classList).join('.');
  for (const a of ['href', 'hreflang', 'lang', 'data-copy']) {
    if (el.hasAttribute(a)) s += `[${a}="${el.getAttribute(a)}"]`;
  }
  const text = (el.textContent || '').trim().replace(/\\s+/g, ' ');
  if (text && el.children.length < 3) s += ` "${text.slice(0, 40)}"`;
  return s;
};
"""

# Typography (WCAG-adjacent rules from REFERENCE.md) and overflow.
_MEASURE_JS = (
    "() => {"
    + _DESCRIBE
    + r"""
  const THAI = /[\u0E00-\u0E7F]/;
  // Running text must have room for Thai marks above and below; a one-line label
  // (a badge, a brand name) is only held to that when it wraps onto more lines.
  const BODY_TEXT = new Set(['BODY', 'P', 'LI', 'DD', 'DT', 'TD', 'TH', 'BLOCKQUOTE', 'FIGCAPTION', 'ADDRESS']);
  const HEADINGS = new Set(['H1', 'H2', 'H3', 'H4', 'H5', 'H6']);
  const ownText = (el) => Array.from(el.childNodes).filter((n) => n.nodeType === 3).map((n) => n.data).join('');
  const res = {justify: [], letterSpacing: [], breakAll: [], thaiLineHeight: []};
  for (const el of [document.body, ...document.body.querySelectorAll('*')]) {
    const cs = getComputedStyle(el);
    if (cs.display === 'none') continue;
    if (cs.textAlign.startsWith('justify')) res.justify.push(describe(el));
    if (cs.wordBreak === 'break-all') res.breakAll.push(describe(el));
    const text = ownText(el);
    if (!THAI.test(text)) continue;
    if (cs.letterSpacing !== 'normal' && parseFloat(cs.letterSpacing) !== 0) {
      res.letterSpacing.push(`${describe(el)}: letter-spacing ${cs.letterSpacing}`);
    }
    const ratio = cs.lineHeight === 'normal' ? NaN : parseFloat(cs.lineHeight) / parseFloat(cs.fontSize);
    const wraps = el.getBoundingClientRect().height > 1.5 * (parseFloat(cs.lineHeight) || 1.2 * parseFloat(cs.fontSize));
    const min = HEADINGS.has(el.tagName) ? 1.4 : (BODY_TEXT.has(el.tagName) || wraps ? 1.6 : 0);
    if (!min) continue;
    if (!(ratio >= min - 0.005)) {
      res.thaiLineHeight.push(`${describe(el)}: line-height ${cs.lineHeight} at font-size ${cs.fontSize} (${ratio.toFixed(2)} < ${min})`);
    }
  }
  const de = document.documentElement;
  res.htmlLang = de.getAttribute('lang');
  res.scroll = [de.scrollWidth, de.clientWidth];
  return res;
}"""
)

_TARGETS_JS = (
    "() => {"
    + _DESCRIBE
    + """
  const sel = 'nav a[href], nav button, nav summary, a[hreflang], .help-cta, .bank a[href], .bank button, '
    + '[data-copy] ~ button, button.copy, button[data-copy-value]';
  const out = [];
  for (const el of new Set(document.querySelectorAll(sel))) {
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (cs.visibility === 'hidden' || r.width === 0 || r.height === 0) continue;
    out.push({desc: describe(el), width: r.width, height: r.height});
  }
  return out;
}"""
)

# Marks the elements the keyboard walk must reach, in the roles the tests name.
_MARK_KEYBOARD_TARGETS_JS = """() => {
  const focusable = 'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  const roles = [];
  const mark = (el, role) => {
    if (!el || el.dataset.kbRole) return;
    el.dataset.kbRole = role;
    el.dataset.kbId = String(roles.length);
    roles.push(role);
  };
  mark(document.querySelector('a.skip-link'), 'skip link');
  const nav = document.querySelector('header nav:not(:has(a[hreflang]))')
    || Array.from(document.querySelectorAll('nav')).find((n) => !n.querySelector('a[hreflang]'));
  if (nav) {
    for (const a of nav.querySelectorAll('a[href]')) {
      if (!a.matches('.help-cta, .skip-link, [hreflang]')) mark(a, 'menu');
    }
  }
  for (const a of document.querySelectorAll('a.help-cta')) mark(a, 'help link');
  for (const a of document.querySelectorAll('a[hreflang]')) mark(a, 'language switcher');
  for (const b of document.querySelectorAll('button.copy, button[data-copy-value], button[data-copy-target]')) mark(b, 'donate details');
  const bank = Array.from(document.querySelectorAll('.bank, [data-copy]'));
  for (const box of bank) {
    if (box.matches(focusable)) mark(box, 'donate details');
    for (const el of box.querySelectorAll(focusable)) mark(el, 'donate details');
    for (const el of (box.parentElement ? box.parentElement.querySelectorAll(':scope > button') : [])) mark(el, 'donate details');
  }
  document.querySelectorAll('[data-kb-id]').forEach((el, i) => { el.dataset.kbOrder = String(i); });
  return roles;
}"""

_FOCUS_STYLE = """
const focusStyle = (el) => {
  const cs = getComputedStyle(el);
  return {outlineStyle: cs.outlineStyle, outlineWidth: cs.outlineWidth, outlineColor: cs.outlineColor,
          boxShadow: cs.boxShadow, backgroundColor: cs.backgroundColor, color: cs.color,
          borderColor: cs.borderColor, borderWidth: cs.borderWidth, textDecorationLine: cs.textDecorationLine,
          textDecorationThickness: cs.textDecorationThickness};
};
"""

_BASELINE_JS = (
    "() => {"
    + _FOCUS_STYLE
    + """
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  const out = {};
  for (const el of document.querySelectorAll('[data-kb-id]')) out[el.dataset.kbId] = focusStyle(el);
  return out;
}"""
)

_ACTIVE_JS = (
    "() => {"
    + _DESCRIBE
    + _FOCUS_STYLE
    + """
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const r = el.getBoundingClientRect();
  const nav = el.closest('nav');
  return {
    id: el.dataset.kbId ?? null, role: el.dataset.kbRole ?? null, desc: describe(el),
    order: el.dataset.kbOrder === undefined ? null : Number(el.dataset.kbOrder),
    tag: el.tagName.toLowerCase(), type: el.getAttribute('type'),
    inNav: !!nav, open: el.tagName === 'SUMMARY' ? el.parentElement.open : null,
    checked: el.tagName === 'INPUT' ? el.checked : null,
    style: focusStyle(el), focusVisible: el.matches(':focus-visible'),
    inViewport: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0
                && r.left < innerWidth && r.top < innerHeight,
  };
}"""
)


@dataclass(frozen=True)
class FocusStop:
    """One element that received keyboard focus."""

    target_id: str | None
    role: str | None
    dom_order: int | None
    desc: str
    visible_indicator: bool
    in_viewport: bool


@dataclass
class KeyboardWalk:
    """What pressing Tab from the top of the page reached."""

    roles: list[str]
    stops: list[FocusStop]

    def reached(self, role: str) -> set[str]:
        """Ids of the targets of that role that received focus."""
        return {s.target_id for s in self.stops if s.role == role and s.target_id is not None}

    def expected(self, role: str) -> set[str]:
        """Ids of all targets of that role on the page."""
        return {str(i) for i, r in enumerate(self.roles) if r == role}


@dataclass
class Visit:
    """Everything recorded while one page was loaded at one viewport."""

    url: str
    status: int | None
    requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    measure: dict[str, Any] = field(default_factory=dict)
    scroll_at_320: tuple[int, int] | None = None
    targets: list[dict[str, Any]] = field(default_factory=list)
    keyboard: KeyboardWalk | None = None


def has_visible_indicator(base: dict[str, str], focused: dict[str, str]) -> bool:
    """True when the focused style differs visibly from the unfocused one."""
    outline = (
        focused["outlineStyle"] != "none"
        and _px(focused["outlineWidth"]) >= 1
        and "rgba(0, 0, 0, 0)" not in focused["outlineColor"]
    )
    shadow = focused["boxShadow"] not in ("none", base["boxShadow"])
    other = any(
        focused[k] != base[k]
        for k in (
            "backgroundColor",
            "color",
            "borderColor",
            "borderWidth",
            "textDecorationLine",
            "textDecorationThickness",
        )
    )
    return outline or shadow or other


def _px(value: str) -> float:
    try:
        return float(value.removesuffix("px"))
    except ValueError:
        return 0.0


class BrowserAudit:
    """Visits pages and caches the measurements; one strict and one axe context per viewport."""

    def __init__(self, browser: Browser, origin: str, axe_js: Path) -> None:
        self.browser = browser
        self.origin = origin
        self.axe_js = axe_js
        self._visits: dict[tuple[str, str], Visit] = {}
        self._axe: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._pages: dict[str, Page] = {}
        self._axe_pages: dict[str, Page] = {}
        self._contexts: list[BrowserContext] = []
        self._current: Visit | None = None

    def __enter__(self) -> BrowserAudit:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for context in self._contexts:
            context.close()

    def new_context(self, viewport: str, **options: Any) -> BrowserContext:
        """A context at a named viewport that aborts (and records) requests to other origins."""
        context = self.browser.new_context(viewport=VIEWPORTS[viewport], service_workers="block", **options)
        context.set_default_timeout(10_000)
        self._contexts.append(context)
        context.route("**/*", self._route)
        return context

    def _route(self, route: Route) -> None:
        if self.is_local(route.request.url):
            route.continue_()
        else:
            if self._current is not None:
                self._current.foreign_requests.append(route.request.url)
            route.abort("blockedbyclient")

    def is_local(self, url: str) -> bool:
        """True for URLs on the test server's origin (and non-network data:/blob: URLs)."""
        return url == self.origin or url.startswith(self.origin + "/") or url.startswith(("data:", "blob:"))

    def _page(self, viewport: str) -> Page:
        if viewport not in self._pages:
            page = self.new_context(viewport).new_page()
            page.on("request", self._on_request)
            page.on("requestfailed", self._on_request_failed)
            page.on("response", self._on_response)
            page.on("console", self._on_console)
            page.on("pageerror", lambda exc: self._record("page_errors", str(exc)))
            self._pages[viewport] = page
        return self._pages[viewport]

    def _record(self, name: str, value: str) -> None:
        if self._current is not None:
            getattr(self._current, name).append(value)

    def _on_request(self, request: Request) -> None:
        self._record("requests", request.url)
        visit = self._current
        if visit is not None and not self.is_local(request.url) and request.url not in visit.foreign_requests:
            visit.foreign_requests.append(request.url)

    def _on_request_failed(self, request: Request) -> None:
        if self.is_local(request.url):
            self._record("failed_requests", f"{request.url}: {request.failure}")

    def _on_response(self, response: Any) -> None:
        if response.status >= 400 and response.url != (self._current.url if self._current else None):
            self._record("bad_responses", f"{response.status} {response.url}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            loc = message.location
            where = f" ({loc.get('url')}:{loc.get('lineNumber')})" if loc and loc.get("url") else ""
            self._record("console_errors", message.text + where)

    def visit(self, url_path: str, viewport: str) -> Visit:
        """Load a page once at a viewport (cached) and record everything about it."""
        key = (url_path, viewport)
        if key in self._visits:
            return self._visits[key]
        page = self._page(viewport)
        url = self.origin + url_path
        visit = Visit(url=url, status=None)
        self._current = visit
        try:
            response = page.goto(url, wait_until="load")
            visit.status = response.status if response else None
            page.evaluate("document.fonts.ready.then(() => true)")
            visit.measure = page.evaluate(_MEASURE_JS)
            visit.targets = page.evaluate(_TARGETS_JS)
            visit.keyboard = self.keyboard_walk(page)
            if viewport == "phone":
                page.set_viewport_size({"width": NARROWEST, "height": VIEWPORTS[viewport]["height"]})
                try:
                    width, client = page.evaluate(
                        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
                    )
                    visit.scroll_at_320 = (width, client)
                finally:
                    page.set_viewport_size(VIEWPORTS[viewport])
        finally:
            self._current = None
        self._visits[key] = visit
        return visit

    @staticmethod
    def keyboard_walk(page: Page, max_extra_steps: int = 40) -> KeyboardWalk:
        """Press Tab from the top of a freshly loaded page until every marked target was reached.

        A closed disclosure in the navigation (``<details>`` or a checkbox toggle,
        the ways a menu opens without JavaScript) is opened with the keyboard.
        """
        roles: list[str] = page.evaluate(_MARK_KEYBOARD_TARGETS_JS)
        baseline: dict[str, dict[str, str]] = page.evaluate(_BASELINE_JS)
        walk = KeyboardWalk(roles=roles, stops=[])
        wanted = set(map(str, range(len(roles))))
        for _ in range(len(roles) + max_extra_steps):
            page.keyboard.press("Tab")
            info = page.evaluate(_ACTIVE_JS)
            if info is None:
                if walk.stops:
                    break  # wrapped around to the browser UI
                continue
            target_id = info["id"]
            # Elements that are not targets have no baseline: only an outline or shadow counts.
            base = baseline.get(target_id or "") or {**info["style"], "outlineStyle": "none", "boxShadow": "none"}
            visible = has_visible_indicator(base, info["style"])
            walk.stops.append(
                FocusStop(target_id, info["role"], info["order"], info["desc"], visible, info["inViewport"])
            )
            if info["inNav"] and info["open"] is False:
                page.keyboard.press("Enter")
            elif info["inNav"] and info["checked"] is False and info["type"] == "checkbox":
                page.keyboard.press("Space")
            if wanted <= {s.target_id for s in walk.stops}:
                break
        return walk

    def axe(self, url_path: str, viewport: str) -> list[dict[str, Any]]:
        """axe-core violations for the WCAG A/AA tags (cached)."""
        key = (url_path, viewport)
        if key not in self._axe:
            if viewport not in self._axe_pages:
                self._axe_pages[viewport] = self.new_context(viewport, bypass_csp=True).new_page()
            page = self._axe_pages[viewport]
            page.goto(self.origin + url_path, wait_until="load")
            page.add_script_tag(path=str(self.axe_js))
            self._axe[key] = page.evaluate(
                """async (tags) => {
                  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
                  return result.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map((n) => ({target: n.target.join(' '), html: n.html.slice(0, 160),
                                                 summary: n.failureSummary}))}));
                }""",
                AXE_TAGS,
            )
        return self._axe[key]
