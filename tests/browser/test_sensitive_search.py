"""A live search that leads to the violence pages leaves no trace in the history: Chromium, for real."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, run_axe, watched_context

QUERY = "mon mari me frappe"
FIRST_RESULT = "#search-results ol.portal-results > li h2 a"


def _open_the_search_page(page: Page, watch, app) -> str:
    """The home page, then the search page; returns the neutral site the quick exit leads to."""
    neutral = app.config["QUICK_EXIT_URL"]
    watch.allow(f"{urlsplit(neutral).scheme}://{urlsplit(neutral).netloc}")
    page.goto("/")
    page.goto("/recherche")
    return neutral


def _result_then_quick_exit_then_back(page: Page, neutral: str) -> None:
    """Open the first result (the page on domestic violence), leave by the quick exit, come Back."""
    page.locator(FIRST_RESULT).first.click()
    expect(page).to_have_url(re.compile(r"/demarches/violences-conjugales$"))
    page.wait_for_load_state()  # before its script runs, the exit is a plain link, kept in the history
    page.get_by_role("link", name="Quitter rapidement ce site").click()
    expect(page).to_have_url(neutral)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/recherche$"))
    expect(page).to_have_title("Rechercher une démarche — Portail citoyen")
    _assert_no_trace(page)


def _type_a_sensitive_search(page: Page, watch, app) -> str:
    neutral = _open_the_search_page(page, watch, app)
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
    _result_then_quick_exit_then_back(page, _type_a_sensitive_search(page, watch, app))


def _address(page: Page) -> str:
    """The address the page's history entry has now (pushState and replaceState included)."""
    return page.evaluate("location.pathname + location.search")


def _type_word_by_word(page: Page, text: str) -> list[tuple[str, str, bool]]:
    """Type ``text`` into the search box as people do, pausing after each word longer than htmx's
    300 ms delay: each word's results are fetched and shown before the next word is typed.

    Returns, for each word, the query sent, the address once its results were shown, and whether the
    quick exit was on the page then.
    """
    box = page.locator("#search-input")
    typed = box.input_value()
    seen = []
    for word in text.split():
        chunk = f" {word}" if typed else word
        typed += chunk

        def is_this_query(response, query=typed):
            parts = urlsplit(response.url)
            return parts.path == "/recherche" and parse_qs(parts.query).get("q") == [query]

        with page.expect_response(is_this_query):
            box.press_sequentially(chunk, delay=40)
        expect(page.locator("#search-status")).to_contain_text(f"« {typed} »")
        seen.append((typed, _address(page), page.locator("[data-quick-exit]").count() > 0))
    return seen


def test_typing_word_by_word_leaves_no_query_in_the_address(page, watch, app):
    """Each word's results are fetched: an ordinary beginning ("mon") writes its address, and the
    first sensitive answer must replace it, not leave it for Back to bring back."""
    neutral = _open_the_search_page(page, watch, app)
    seen = _type_word_by_word(page, QUERY)
    assert [query for query, _, _ in seen] == ["mon", "mon mari", "mon mari me", "mon mari me frappe"]
    # The case under test: an ordinary beginning wrote its own address before the first sensitive answer.
    assert seen[0] == ("mon", "/recherche?q=mon", False), "pick another ordinary first word"
    assert seen[-1][2], "the quick exit came with the results"
    for query, address, quick_exit in seen:
        if quick_exit:
            assert address == "/recherche", (query, address)
    expect(page.locator(FIRST_RESULT).first).to_have_text(re.compile("violences conjugales", re.I))
    _result_then_quick_exit_then_back(page, neutral)


def test_once_the_quick_exit_is_shown_no_later_search_writes_its_address(page, watch, app):
    """After a sensitive answer, the next may be ordinary ("porter plainte"): the page, which showed
    the quick exit, writes no address with a query for the rest of its life."""
    neutral = _open_the_search_page(page, watch, app)
    _type_word_by_word(page, QUERY)
    expect(page.get_by_role("link", name="Quitter rapidement ce site")).to_be_visible()
    page.locator("#search-input").fill("")
    seen = _type_word_by_word(page, "porter plainte")
    expect(page.locator(FIRST_RESULT).first).to_have_text(re.compile("plainte", re.I))
    assert [(query, address) for query, address, _ in seen] == [("porter", "/recherche"),
                                                                 ("porter plainte", "/recherche")]
    page.get_by_role("link", name="Quitter rapidement ce site").click()
    expect(page).to_have_url(neutral)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/$"))
    _assert_no_trace(page)
    assert "plainte" not in urlsplit(page.url).query


def test_enter_then_result_then_quick_exit_then_back_shows_no_query(page, watch, app):
    """Enter submits the form: a full results page, with the query in its address, that Back would
    fetch again (no-store). portal.js gives that history entry the neutral address at once."""
    neutral = _open_the_search_page(page, watch, app)
    page.locator("#search-input").press_sequentially(QUERY, delay=40)
    # The results page loaded, its deferred scripts run (not a live fragment's replaceState).
    with page.expect_navigation(url=re.compile(r"/recherche\?q=mon\+mari"), wait_until="load"):
        page.locator("#search-input").press("Enter")
    expect(page).to_have_title("Résultats de recherche — Portail citoyen")
    expect(page.locator(FIRST_RESULT).first).to_have_text(re.compile("violences conjugales", re.I))
    assert _address(page) == "/recherche"
    _result_then_quick_exit_then_back(page, neutral)
    assert "frappe" not in page.locator("body").inner_text()


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
