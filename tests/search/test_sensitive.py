"""A search that leads to a page about violence gets that page's protection.

Quick exit, no referrer, nothing kept by the browser, a title without the
query, and no address with the query written into the history by htmx.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from catalogue import services as catalogue
from catalogue.models import Procedure
from search import services
from search.evaluation import read_queries
from tests.conftest import make_app

DEV_QUERIES = Path(__file__).parent / "queries-dev.tsv"
SENSITIVE = [
    "mon mari me frappe", "viol", "agression sexuelle", "harcèlement", "3919", "femme battue",
    # Phrasings of our own, not in the labelled files.
    "mon conjoint me frappe devant les enfants", "ma femme me frappe", "il m'a frappée", "mon patron me harcèle",
    "j'ai été violée", "main courante viol", "photos intimes diffusées", "revenge porn", "3018",
    # Half-typed: a fiche on another subject may come first, the page on violence right after.
    "mon mari me fr", "mon mari me frap", "plainte pour vio",
]
ORDINARY = [
    "vol de papiers", "porter plainte", "arnaque leboncoin", "commissariat lyon", "xqzwkj",
    # A page about violence ranks second, far behind the answer.
    "mail gendarmerie amende", "numéro d'urgence", "112", "pharos", "site pedophile",
    # Phrasings of our own.
    "faux sms police", "plainte en ligne", "mon mari a perdu son passeport", "payer une amende", "bruit voisin",
    "piratage compte facebook",
]


def title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def search_input(html: str) -> str:
    return re.search(r'<input[^>]*id="search-input"[^>]*>', html, re.S).group(0)


@pytest.mark.parametrize("query", SENSITIVE)
def test_a_query_leading_to_a_violence_page_is_sensitive(app, db_session, query):
    with app.app_context():
        page = services.results_page(db_session, query, limit=10)
    assert page.sensitive


@pytest.mark.parametrize("query", ORDINARY)
def test_other_queries_are_not(app, db_session, query):
    with app.app_context():
        assert not services.results_page(db_session, query, limit=10).sensitive


@pytest.mark.parametrize("name", ["public", "dev"])
def test_the_labelled_queries_are_sensitive_exactly_when_their_answer_is(app, db_session, name):
    """A query whose right answers are all pages about violence is sensitive; one whose right
    answers are none is not (where both are right, either is)."""
    path = Path(app.config["SEARCH_EVAL_FILE"]) if name == "public" else DEV_QUERIES
    wrong = []
    with app.app_context():
        for labelled in read_queries(path):
            marked = catalogue.sensitive_slugs(db_session, labelled.acceptable)
            if marked and marked != labelled.acceptable:
                continue
            if services.results_page(db_session, labelled.query, limit=10).sensitive != bool(marked):
                wrong.append((labelled.query, "should be sensitive" if marked else "should not be"))
    assert wrong == []


def test_a_close_second_is_sensitive_a_distant_one_is_not(app, db_session):
    """The runner-up counts when it scores at least SENSITIVE_SCORE_RATIO of the first result."""
    with app.app_context():
        for query in ("mail gendarmerie amende", "main courante viol"):
            hits = services.search(query, limit=2).hits
            assert not catalogue.sensitive_slugs(db_session, [hits[0].slug])
            assert catalogue.sensitive_slugs(db_session, [hits[1].slug])
        distant = services.search("mail gendarmerie amende", limit=2).hits
        close = services.search("main courante viol", limit=2).hits
    assert distant[1].score < services.SENSITIVE_SCORE_RATIO * distant[0].score
    assert close[1].score >= services.SENSITIVE_SCORE_RATIO * close[0].score


def test_sensitivity_comes_from_the_results_not_the_words(app, db_session):
    """The same words are sensitive or not according to what the catalogue marks."""
    with app.app_context():
        assert services.results_page(db_session, "mon mari me frappe", limit=10).sensitive
        for entry in db_session.scalars(select(Procedure).where(Procedure.sensitive.is_(True))):
            entry.sensitive = False
        db_session.flush()
        assert not services.results_page(db_session, "mon mari me frappe", limit=10).sensitive


def test_every_page_of_a_sensitive_query_is(app, db_session):
    with app.app_context():
        assert services.results_page(db_session, "viol", limit=10, offset=10).sensitive
        assert services.results_page(db_session, "viol", limit=5, offset=0).sensitive


def test_the_results_page_of_a_sensitive_query_is_protected(client):
    response = client.get("/recherche", query_string={"q": "mon mari me frappe"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="quick-exit"' in html and "Quitter rapidement ce site" in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert title(html) == "Résultats de recherche — Portail citoyen"
    assert "frappe" not in title(html)
    # Typing on from here does not write addresses into the history either.
    assert "hx-replace-url" not in search_input(html)
    # Opened by Enter or a link, the query is in the address: portal.js replaces it with this one.
    assert 'data-neutral-address="/recherche"' in html
    # The results are there, of course (their links count the click, then lead to the page).
    assert re.search(r'href="/recherche/resultat/[0-9a-f]{32}/\d+\?vers=violences-conjugales"', html)


def test_page_two_of_a_sensitive_query_is_protected_too(client):
    response = client.get("/recherche", query_string={"q": "viol", "page": 2})
    html = response.get_data(as_text=True)
    assert 'id="quick-exit"' in html and response.headers["Cache-Control"] == "no-store"
    assert title(html) == "Résultats de recherche (page 2) — Portail citoyen"


@pytest.mark.parametrize("preview", [False, True])
def test_the_live_fragment_of_a_sensitive_query_brings_the_quick_exit_and_keeps_the_address(client, preview):
    params = {"q": "mon mari me frappe"} | ({"apercu": "1"} if preview else {})
    response = client.get("/recherche", query_string=params, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html
    # htmx must not replace the address with this query (hx-replace-url on the search box), and on the
    # results page must replace what an earlier, ordinary fragment wrote ("mon") with the neutral address.
    # The home page's preview writes no address: it must not get one.
    assert response.headers["HX-Replace-Url"] == ("false" if preview else "/recherche")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    # The quick exit, swapped out of band into the page's empty slot.
    exit_button = re.search(r'<div[^>]*id="quick-exit-slot"[^>]*>', html).group(0)
    assert 'hx-swap-oob="outerHTML"' in exit_button
    assert 'data-quick-exit' in html and "Quitter rapidement ce site" in html


def test_ordinary_searches_keep_their_title_and_shareable_address(client):
    page = client.get("/recherche", query_string={"q": "vol de papiers"})
    html = page.get_data(as_text=True)
    assert title(html) == "Recherche : vol de papiers — Portail citoyen"
    assert 'hx-replace-url="true"' in search_input(html)
    assert "data-neutral-address" not in html
    assert 'id="quick-exit"' not in html and '<div id="quick-exit-slot" hidden></div>' in html
    assert page.headers.get("Cache-Control") != "no-store"
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    fragment = client.get("/recherche", query_string={"q": "vol de papiers"}, headers={"HX-Request": "true"})
    assert "HX-Replace-Url" not in fragment.headers
    assert "quick-exit" not in fragment.get_data(as_text=True)


def test_every_page_has_the_empty_quick_exit_slot_the_fragment_fills(client):
    for url in ("/", "/recherche"):
        assert '<div id="quick-exit-slot" hidden></div>' in client.get(url).get_data(as_text=True)


def test_an_unavailable_search_does_not_put_the_query_in_the_title(tmp_path):
    broken = make_app(tmp_path, SEARCH_INDEX_DIR=str(tmp_path / "nothing")).test_client()
    html = broken.get("/recherche", query_string={"q": "mon mari me frappe"}).get_data(as_text=True)
    assert "frappe" not in title(html)
