"""The donate page: bank details as plain text, an optional copy button, print.

The expected values come from ``data/bank.yaml``, the single source of the facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.browser_audit import BrowserAudit
from tools.screenshots import SitePage

SELECT_TEXT_JS = """(selector) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const range = document.createRange();
  range.selectNodeContents(el);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return {text: selection.toString(), userSelect: getComputedStyle(el).userSelect};
}"""

# The copy control: a button inside the bank details, one that names its value or
# target (data-copy-value, data-copy-target), or one beside an element with data-copy.
FIND_COPY_BUTTON_JS = """() => {
  const buttons = [...new Set([
    ...document.querySelectorAll('.bank button, button.copy, button[data-copy-value], button[data-copy-target]'),
    ...Array.from(document.querySelectorAll('[data-copy]')).flatMap((el) =>
        el.matches('button') ? [el] : Array.from(el.parentElement.querySelectorAll(':scope > button'))),
  ])];
  const visible = buttons.filter((b) => b.getClientRects().length > 0 && getComputedStyle(b).visibility !== 'hidden');
  visible.forEach((b, i) => { b.dataset.testCopy = String(i); });
  return visible.length;
}"""

LIVE_TEXT_JS = """() => Array.from(document.querySelectorAll('[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"]'))
  .map((el) => el.textContent.trim()).filter(Boolean).join(' | ')"""


@pytest.fixture(scope="module")
def clipboard_context(audit: BrowserAudit, origin: str) -> Iterator[BrowserContext]:
    context = audit.new_context("phone")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    yield context


@pytest.fixture
def tab(audit: BrowserAudit) -> Iterator[Page]:
    page = audit.new_context("phone").new_page()
    yield page
    page.context.close()


def _open(page: Page, origin: str, donate_page: SitePage) -> None:
    response = page.goto(origin + donate_page.url_path, wait_until="load")
    assert response is not None and response.status == 200


@pytest.mark.parametrize(("selector", "key"), [(".account-number", "account_number"), (".swift", "swift")])
def test_bank_detail_selects_as_plain_text(
    tab: Page, origin: str, donate_page: SitePage, bank: dict[str, Any], selector: str, key: str
) -> None:
    _open(tab, origin, donate_page)
    assert tab.locator(f".bank {selector}").count() >= 1, f"{donate_page.url_path}: no {selector} inside .bank"
    result = tab.evaluate(SELECT_TEXT_JS, f".bank {selector}")
    assert result["userSelect"] != "none", f"{selector} has user-select: none"
    assert result["text"] == str(bank[key]), (
        f"selecting {selector} gives {result['text']!r}, data/bank.yaml has {bank[key]!r}"
    )


def test_copy_values_match_bank_yaml(tab: Page, origin: str, donate_page: SitePage, bank: dict[str, Any]) -> None:
    _open(tab, origin, donate_page)
    values = tab.eval_on_selector_all(
        "[data-copy], [data-copy-value]", "els => els.map(e => e.dataset.copyValue ?? e.dataset.copy)"
    )
    assert values, "the donate page has no copy control (templates/partials/bank.html renders two)"
    number, swift = str(bank["account_number"]), str(bank["swift"])
    assert any(v in (number, _digits(number)) for v in values), f"copy values {values} lack {number!r}"
    wrong = [v for v in values if v not in (number, _digits(number), swift)]
    assert not wrong, f"copy values {wrong} are neither the account number nor the SWIFT code in data/bank.yaml"


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def test_copy_button_copies_and_announces(
    clipboard_context: BrowserContext, origin: str, donate_page: SitePage, bank: dict[str, Any]
) -> None:
    page = clipboard_context.new_page()
    try:
        _open(page, origin, donate_page)
        count = page.evaluate(FIND_COPY_BUTTON_JS)
        assert count > 0, "no visible copy button: copy.js did not run or did not show the buttons"
        page.evaluate("navigator.clipboard.writeText('')")
        assert page.evaluate(LIVE_TEXT_JS) == "", "a live region already has text before the click"
        page.locator('[data-test-copy="0"]').click()
        page.wait_for_function(f"({LIVE_TEXT_JS})() !== ''", timeout=3000)
        copied = page.evaluate("navigator.clipboard.readText()")
        number = str(bank["account_number"])
        assert copied in (number, _digits(number)), f"clipboard holds {copied!r}, expected {number!r}"
        announced = page.evaluate(LIVE_TEXT_JS)
        assert announced, "nothing announced in an aria-live region after copying"
    finally:
        page.close()


def test_print_shows_bank_details_and_hides_navigation(tab: Page, origin: str, donate_page: SitePage) -> None:
    _open(tab, origin, donate_page)
    tab.emulate_media(media="print")
    for selector in (".bank", ".bank .account-number", ".bank .swift"):
        assert tab.locator(selector).first.is_visible(), f"{selector} is hidden in print"
    shown_navs = tab.evaluate(
        "() => Array.from(document.querySelectorAll('nav')).filter((n) => n.getClientRects().length > 0"
        " && getComputedStyle(n).visibility !== 'hidden').map((n) => n.outerHTML.slice(0, 80))"
    )
    assert not shown_navs, "navigation still shows in print:\n  " + "\n  ".join(shown_navs)


def test_without_javascript_details_show_and_no_dead_copy_button(
    audit: BrowserAudit, origin: str, donate_page: SitePage, bank: dict[str, Any]
) -> None:
    page = audit.new_context("phone", java_script_enabled=False).new_page()
    try:
        _open(page, origin, donate_page)
        text = page.locator(".bank .account-number").first.inner_text()
        assert text.strip() == str(bank["account_number"])
        assert page.locator(".bank .swift").first.inner_text().strip() == str(bank["swift"])
        # The copy button is progressive enhancement: without a script it must not be there to tap.
        dead = page.evaluate(FIND_COPY_BUTTON_JS)
        assert dead == 0, f"{dead} copy button(s) shown that cannot work without JavaScript"
    finally:
        page.context.close()
