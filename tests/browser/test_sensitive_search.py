"""A live search that leads to the violence pages leaves no trace in the history: Chromium, for real."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, run_axe, watched_context

QUERY = "mon mari me frappe"
FIRST_RESULT = "#search-results ol.portal-results > li h2 a"


def _type_a_sensitive_search(page: Page, watch, app) -> str:
    neutral = app.config["QUICK_EXIT_URL"]
    watch.allow(f"{urlsplit(neutral).scheme}://{urlsplit(neutral).netloc}")
    page.goto("/")
    page.goto("/recherche")
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Rechercher une démarche").press_sequentially(QUERY, delay=40)
    expect(page.locator(FIRST_RESULT).first).to_have_text(re.compile("violences conjugales", re.I))
    # The quick exit came with the results, without loading a page...
    expect(page.get_by_role("link", name="Quitter rapidement ce site")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    # ...and the address did not take the query.
    assert urlsplit(page.url).path == "/recherche" and not urlsplit(page.url).query
    assert run_axe(page) == []
    return neutral


def _assert_no_trace(page: Page) -> None:
    title = page.title()
    for word in ("mari", "frappe"):
        assert word not in title.lower() and word not in page.url
    # Nor in the page itself, should the browser restore it from its back-forward cache.
    if page.locator("#search-input").count():
        assert page.locator("#search-input").input_value() == ""
    assert page.locator("#search-results ol.portal-results").count() == 0


def test_quick_exit_from_live_results_then_back_shows_no_query(page, watch, app):
    neutral = _type_a_sensitive_search(page, watch, app)
    page.get_by_role("link", name="Quitter rapidement ce site").click()
    expect(page).to_have_url(neutral)
    page.go_back()
    # The results page was replaced in the history: Back returns to the page before it.
    expect(page).to_have_url(re.compile(r"/$"))
    _assert_no_trace(page)


def test_result_then_quick_exit_then_back_shows_no_query(page, watch, app):
    """The reported journey: live search, open the result, quick exit, Back."""
    neutral = _type_a_sensitive_search(page, watch, app)
    page.locator(FIRST_RESULT).first.click()
    expect(page).to_have_url(re.compile(r"/demarches/violences-conjugales$"))
    page.get_by_role("link", name="Quitter rapidement ce site").click()
    expect(page).to_have_url(neutral)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/recherche$"))
    expect(page).to_have_title("Rechercher une démarche — Portail citoyen")
    _assert_no_trace(page)


@pytest.fixture(scope="module")
def browser_with_back_forward_cache(playwright):
    """Chromium as people run it: Playwright turns the back-forward cache off, this one keeps it."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         ignore_default_args=["--disable-back-forward-cache"])
    yield browser
    browser.close()


def test_back_forward_cache_brings_back_no_query(browser_with_back_forward_cache, live_server, csp_report_log,
                                                 app):
    with watched_context(browser_with_back_forward_cache, live_server.url, csp_report_log) as (ctx, watch):
        page = ctx.new_page()
        page.add_init_script("addEventListener('pageshow', e => { window.__restored = e.persisted; });")
        _type_a_sensitive_search(page, watch, app)
        page.locator(FIRST_RESULT).first.click()
        expect(page).to_have_url(re.compile(r"/demarches/violences-conjugales$"))
        page.go_back(wait_until="commit")  # a page restored from the cache fires no "load"
        expect(page).to_have_url(re.compile(r"/recherche$"))
        page.wait_for_function("window.__restored !== undefined")
        assert page.evaluate("window.__restored") is True  # the page came back whole, from the cache
        _assert_no_trace(page)
