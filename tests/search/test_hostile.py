"""Hostile input: no query syntax, never an exception, never an error page, HTML-safe output.

What a hostile query must give is known exactly: the results of its words
alone, as the analysis reads them, with every other character dropped (no
syntax is ever interpreted). How long it takes is measured by ``make bench``
(search.bench), not asserted here: a timed test fails on a busy machine, not
on slow code.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogue.models import Procedure
from search import services
from search.analysis import WORD_PATTERN
from search.bench import HOSTILE_QUERIES
from search.engine import MAX_QUERY_CHARS, MAX_QUERY_WORDS, Document, clean_query
from search.highlight import highlight_words
from search.planner import plan
from search.vocabulary import BestBets, Synonyms
from search.whoosh_engine import WhooshEngine

NASTY = HOSTILE_QUERIES


def words_only(text: str) -> str:
    """The query with everything but its words removed: what the engine must search for."""
    return " ".join(re.findall(WORD_PATTERN, clean_query(text)))


def outcome(results) -> tuple:
    return results.total, [(h.slug, h.pinned) for h in results.hits], results.suggestion, results.terms


@pytest.mark.parametrize("query", NASTY)
def test_query_syntax_is_never_interpreted(app, query):
    with app.app_context():
        results = services.search(query)
        plain = services.search(words_only(query))
    assert outcome(results) == outcome(plain)
    assert results.query == clean_query(query) and len(results.query) <= MAX_QUERY_CHARS


@pytest.mark.parametrize("query, words", [
    ("title:vol", "title vol"), ("vol~3", "vol 3"), ("(((vol", "vol"), ('"vol de', "vol de"),
    ("slug:*", "slug"), ("\x00vol\x00", "vol"), ("🚨🚓 vol de 📱", "vol de"),
])
def test_hostile_queries_search_their_words(query, words):
    assert words_only(query) == words


def test_field_and_wildcard_syntax_match_nothing_special(app):
    with app.app_context():
        assert services.search("*").total == 0
        # "title:vol" is the two words "title" and "vol", not a field restriction.
        assert services.search("title:vol").total == services.search("title vol").total


def test_cost_is_bounded_by_construction():
    long_query = " ".join(f"mot{i}" for i in range(1000))
    assert MAX_QUERY_CHARS - 1 <= len(clean_query(long_query)) <= MAX_QUERY_CHARS  # no trailing space
    assert len(clean_query("x" * 100_000)) == MAX_QUERY_CHARS
    assert "\x00" not in clean_query("a\x00b")
    assert clean_query(clean_query("a " * 5000)) == clean_query("a " * 5000)


def test_a_query_never_expands_beyond_its_word_cap(app):
    with app.app_context():
        engine = services.engine()
        reader = engine._reader()
        from search.whoosh_engine import _ThreadLexicon

        words = [f"mot{i}" for i in range(50)]
        query_plan = plan(words[:MAX_QUERY_WORDS], _ThreadLexicon(reader.generation, reader.searcher.reader()),
                          engine.synonyms)
        assert max(p for c in query_plan.clauses for p in c.positions) < MAX_QUERY_WORDS


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_any_text_searches_its_words_and_never_raises(app, text):
    with app.app_context():
        results = services.search(text, limit=5)
        plain = services.search(words_only(text), limit=5)
    assert outcome(results) == outcome(plain)
    assert len(results.hits) == min(5, results.total)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.sampled_from(["/recherche", "/api/v1/search"]),
       st.booleans(), st.one_of(st.none(), st.text(max_size=8)))
def test_any_input_through_http_answers_below_500(app, text, path, htmx, page):
    client = app.test_client()
    params = {"q": text}
    if page is not None:
        params["page"] = page
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(path, query_string=params, headers=headers)
    assert response.status_code < 500
    if response.status_code == 400:  # a bad page number, or no words for the API: said in French
        message = response.get_json()["detail"] if response.is_json else unescape(response.get_data(as_text=True))
        assert "Le paramètre" in message or "Les résultats s'arrêtent" in message or "caractère nul" in message
    else:
        assert response.status_code == 200


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.frozensets(st.text(min_size=1, max_size=10), max_size=5))
def test_highlighted_text_never_contains_markup_of_its_own(text, terms):
    html = str(highlight_words(text, terms))
    stripped = html.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped and ">" not in stripped


def test_hostile_titles_are_escaped_in_results(tmp_path):
    payload = '<script>alert("x")</script> vol'
    eng = WhooshEngine(tmp_path / "i", Synonyms(), BestBets())
    eng.rebuild(iter([Document("piege", "fiche", payload, payload)]), "f")
    results = eng.search("vol")
    html = str(highlight_words(results.hits[0].title, results.terms))
    assert "<script>" not in html
    assert html.startswith("&lt;script&gt;") and "<mark>vol</mark>" in html


def test_hostile_stored_content_is_escaped_in_the_results_page(app, client, db_session, tmp_path):
    payload = "<img src=x onerror=alert(1)> cambriolage piégé"
    entry = Procedure(slug="piege", kind="procedure", status="published", title=payload,
                      summary=payload, updated_at=datetime.now(UTC))
    db_session.add(entry)
    db_session.commit()
    engine = WhooshEngine(tmp_path / "index", Synonyms(), BestBets())
    engine.rebuild(iter([services.document_for(entry)]), "x")
    shared = app.extensions["search"]
    app.extensions["search"] = engine
    try:
        html = client.get("/recherche", query_string={"q": "cambriolage piégé"}).get_data(as_text=True)
    finally:
        app.extensions["search"] = shared
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html
