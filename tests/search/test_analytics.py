"""Search analytics keep what citizens search for, never who: scrubbed queries, daily keys, k-anonymity."""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.tasks import periodic_tasks
from search import analytics
from search.models import AnalyticsSalt, SearchEvent, SearchQueryDay
from tests.conftest import make_app

TODAY = analytics.today()


@pytest.fixture
def known(app):
    """The real index's vocabulary, as the search page scrubs with it."""
    with app.app_context():
        yield analytics.engine_vocabulary()


@pytest.mark.parametrize(("typed", "stored"), [
    ("Vol carte bancaire 4970 1012 3456 7890", "vol carte bancaire [numéro]"),
    ("on m'appelle du 06 12 34 56 78", "on m'appelle du [numéro]"),
    ("+33 6 12 34 56 78 arnaque", "[numéro] arnaque"),
    ("IMEI 356938035643809 téléphone volé", "imei [numéro] téléphone volé"),
    ("vol imei 35-209900-176148-1", "vol imei [numéro]"),
    ("Jean.Dupont@gmail.com arnaque", "[courriel] arnaque"),
    ("plaque AB-123-CD volée", "plaque [immatriculation] volée"),
    ("FR76 3000 6000 0112 3456 7890 189 arnaque", "[numéro] arnaque"),
    ("né le 12/05/1990", "né le [numéro]"),
    ("arnaque https://faux-site.example/compte?id=42", "arnaque [lien]"),
    # A surname the catalogue does not know; a name of several words is one "…".
    ("porter plainte contre Kowalczyk", "porter plainte contre …"),
    ("plainte contre Jan-Wojciech Kowalczyk", "plainte contre …"),
    # A typo of a catalogue word is what citizens type: kept, accents and all.
    ("comissariat", "comissariat"),
    ("Usurpation d'Identité", "usurpation d'identité"),
    # Emergency numbers are nobody's.
    ("17", "17"),
    ("3919", "3919"),
    ("appeler le 17 ou le 112", "appeler le 17 ou le 112"),
])
def test_scrub_keeps_the_words_of_the_catalogue_and_nothing_personal(known, typed, stored):
    assert analytics.scrub(typed, known) == stored


def test_scrub_is_lower_case_and_at_most_100_characters(known):
    long = "Démarche plainte " * 20
    stored = analytics.scrub(long, known)
    assert len(stored) <= analytics.MAX_STORED_CHARS and stored == stored.lower()
    assert stored.startswith("démarche plainte démarche") and not stored.endswith(" ")
    assert analytics.scrub("vol " * 24 + "4970 1012 3456 7890", known).endswith("vol")  # no half marker


def test_scrub_without_a_vocabulary_keeps_no_word():
    """The index unreadable: every word is scrubbed, only stop words and short numbers remain."""
    empty = analytics.Vocabulary(frozenset())
    assert analytics.scrub("mon voisin Kowalczyk me menace au 17", empty) == "mon … me … au 17"


def test_visitor_key_is_the_same_all_day_and_unlinkable_across_days(app, db_session):
    with app.app_context():
        first = analytics.visitor_key(db_session, TODAY, "203.0.113.7", "Firefox")
        assert analytics.visitor_key(db_session, TODAY, "203.0.113.7", "Firefox") == first
        assert analytics.visitor_key(db_session, TODAY, "203.0.113.8", "Firefox") != first
        assert analytics.visitor_key(db_session, TODAY, "203.0.113.7", "Chromium") != first
        yesterday = analytics.visitor_key(db_session, TODAY - timedelta(days=1), "203.0.113.7", "Firefox")
        assert yesterday != first
        assert re.fullmatch(r"[0-9a-f]{32}", first) and "203.0.113.7" not in first


def test_the_day_salt_is_created_once_by_concurrent_searches(tmp_path):
    """Eight processes' first search of the day at the same moment: one salt, one key for the visitor."""
    small = make_app(tmp_path)
    day = date(2026, 3, 14)
    keys, errors = [], []
    barrier = threading.Barrier(8)

    def first_search():
        try:
            with small.app_context():
                barrier.wait()
                keys.append(analytics.visitor_key(db.session, day, "198.51.100.4", "Firefox"))
                db.session.commit()
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=first_search) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and len(keys) == 8 and len(set(keys)) == 1
    with small.app_context():
        assert db.session.scalar(select(func.count()).select_from(AnalyticsSalt)) == 1
        db.engine.dispose()


def _events(db_session, query: str) -> list[SearchEvent]:
    return list(db_session.scalars(select(SearchEvent).where(SearchEvent.query == query).order_by(SearchEvent.id)))


def _search(client, query: str, address: str, **kwargs):
    return client.get("/recherche", query_string={"q": query, **kwargs.pop("params", {})},
                      environ_base={"REMOTE_ADDR": address}, **kwargs)


def test_only_searches_the_citizen_sent_are_recorded(client, db_session):
    query = "voiture volée parking"

    def recorded() -> int:
        return len(_events(db_session, query))

    assert _search(client, query, "203.0.113.20").status_code == 200
    assert recorded() == 1
    # The live results of typing, the home page's preview, a history restore, the API: never.
    _search(client, query, "203.0.113.20", headers={"HX-Request": "true", "HX-Trigger": "search-input"})
    _search(client, query, "203.0.113.20", params={"apercu": "1"}, headers={"HX-Request": "true"})
    _search(client, query, "203.0.113.20", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    client.get("/api/v1/search", query_string={"q": query}, environ_base={"REMOTE_ADDR": "203.0.113.20"})
    assert recorded() == 1
    # The next page of a search is not another search.
    _search(client, query, "203.0.113.20", params={"page": "2"})
    assert recorded() == 1
    # htmx sending the search form is a search sent.
    _search(client, query, "203.0.113.20", headers={"HX-Request": "true", "HX-Trigger": "search-form"})
    assert recorded() == 2

    event = _events(db_session, query)[0]
    assert event.day == TODAY and event.results > 0 and event.clicked_rank is None
    assert re.fullmatch(r"[0-9a-f]{32}", event.visitor) and re.fullmatch(r"[0-9a-f]{32}", event.token)
    # Nothing of the visitor but the day's key: no address, no user agent, no time of day.
    row = db_session.execute(text("SELECT * FROM search_event WHERE id = :id"), {"id": event.id}).one()
    assert not any("203.0.113" in str(value) or "werkzeug" in str(value).lower() for value in row)


def _result_links(html: str) -> list[str]:
    block = re.search(r'<ol class="portal-results".*?</ol>', html, re.S).group(0)
    return [unescape(href) for href in re.findall(r'<h2[^>]*><a href="([^"]+)"', block)]


def test_a_click_is_counted_through_the_redirect_keeping_the_best_rank(client, db_session):
    query = "perte carte identité mairie"
    links = _result_links(_search(client, query, "203.0.113.30").get_data(as_text=True))
    assert all(re.fullmatch(r"/recherche/resultat/[0-9a-f]{32}/\d+\?vers=[\w-]+", link) for link in links)
    third = client.get(links[2])
    assert third.status_code == 303 and third.headers["Location"].startswith(("/demarches/", "/fiches/"))
    assert third.headers["Cache-Control"] == "no-store"
    assert _events(db_session, query)[0].clicked_rank == 3
    client.get(links[0])
    client.get(links[1])
    assert _events(db_session, query)[0].clicked_rank == 1

    # The second page carries the search's token: its results are ranks 11 and on, counted for it.
    page_two = [a for a in re.findall(r'href="([^"]+)"', _search(client, query, "203.0.113.31").get_data(as_text=True))
                if "page=2" in a][0]
    second_search = _events(db_session, query)[1]
    assert f"recherche={second_search.token}" in unescape(page_two)
    links = _result_links(client.get(unescape(page_two), environ_base={"REMOTE_ADDR": "203.0.113.31"})
                          .get_data(as_text=True))
    assert links[0].startswith(f"/recherche/resultat/{second_search.token}/11?")
    client.get(links[0])
    assert len(_events(db_session, query)) == 2 and _events(db_session, query)[1].clicked_rank == 11


def test_a_bad_link_still_leads_to_the_page_and_never_elsewhere(client, db_session):
    for path in ("/recherche/resultat/pas-un-jeton/1", "/recherche/resultat/" + "0" * 32 + "/deux",
                 "/recherche/resultat/" + "0" * 32 + "/99999"):
        response = client.get(path, query_string={"vers": "vol-papiers-identite"})
        assert response.status_code == 303 and response.headers["Location"] == "/demarches/vol-papiers-identite"
    fiche = db_session.scalar(text("SELECT slug FROM procedure WHERE kind = 'fiche' AND status = 'published' LIMIT 1"))
    assert client.get("/recherche/resultat/x/1", query_string={"vers": fiche}).headers["Location"] == f"/fiches/{fiche}"
    for target in ("", "https://evil.example", "//evil.example", "/\\evil.example", "n-existe-pas"):
        assert client.get("/recherche/resultat/x/1", query_string={"vers": target}).status_code == 404


def test_reports_apply_k_anonymity_and_count_outcomes(client, db_session):
    """5 distinct visitors show a query; 4, however many times they search, do not."""
    for i in range(5):
        _search(client, "bonjour svp", f"203.0.113.{40 + i}")
    for i in range(4):
        for _ in range(2):
            _search(client, "merci bonjour", f"203.0.113.{50 + i}")
    for i in range(5):  # found something, nothing followed
        _search(client, "voiture volée fourrière", f"203.0.113.{60 + i}")
    for i in range(5):  # the fifth result each time: too far down
        html = _search(client, "vol de vélo signalement", f"203.0.113.{70 + i}").get_data(as_text=True)
        client.get(_result_links(html)[4])
    analytics.rollup(db_session, TODAY)

    zero = {row.query: row for row in analytics.zero_result_queries(db_session, 7)}
    assert "bonjour svp" in zero and "merci bonjour" not in zero
    assert (zero["bonjour svp"].searches, zero["bonjour svp"].visitors, zero["bonjour svp"].zero_results) == (5, 5, 5)
    assert "merci bonjour" not in {row.query for row in analytics.top_queries(db_session, 30)}
    # The daily counts hold it, kept from view by k.
    day = db_session.get(SearchQueryDay, (TODAY, "merci bonjour"))
    assert (day.searches, day.visitors) == (8, 4)

    no_click = {row.query: row for row in analytics.no_click_queries(db_session, 7)}
    assert no_click["voiture volée fourrière"].no_click == 5 and "bonjour svp" not in no_click
    far = {row.query: row for row in analytics.far_click_queries(db_session, 7)}
    assert far["vol de vélo signalement"].mean_rank == 5.0 and far["vol de vélo signalement"].clicked == 5
    assert "voiture volée fourrière" not in far
    # A period is the last 7 (or 30) days: these are not yesterday's.
    assert "bonjour svp" not in {r.query for r in analytics.top_queries(db_session, 7, now=TODAY - timedelta(days=7))}
    with pytest.raises(ValueError):
        analytics.top_queries(db_session, 12)


def test_rollup_is_idempotent(db_session, app, known):
    with app.app_context():
        for i in range(3):
            analytics.record_search(db_session, "plainte harcèlement voisin", 12,
                                    analytics.Client(f"198.51.100.{i}", "Firefox"), known=known)
        analytics.rollup(db_session, TODAY)
        first = db_session.get(SearchQueryDay, (TODAY, "plainte harcèlement voisin"))
        counts = (first.searches, first.visitors, first.zero_results, first.clicked)
        analytics.rollup(db_session, TODAY)
        again = db_session.get(SearchQueryDay, (TODAY, "plainte harcèlement voisin"))
        assert (again.searches, again.visitors, again.zero_results, again.clicked) == counts == (3, 3, 0, 0)


def test_purge_after_30_days_keeps_the_daily_counts(db_session, app, known):
    query = "plainte escroquerie en ligne"
    assert analytics.scrub(query, known) == query
    with app.app_context():
        for age in (31, 30, 0):
            analytics.record_search(db_session, query, 3, analytics.Client("198.51.100.9", "Firefox"),
                                    known=known, day=TODAY - timedelta(days=age))
        events, salts = analytics.purge(db_session, TODAY)
        assert events >= 1 and salts >= 2
        assert sorted((TODAY - e.day).days for e in _events(db_session, query)) == [0, 30]
        # The day purged was rolled up first: its count stays, without the raw search.
        assert db_session.get(SearchQueryDay, (TODAY - timedelta(days=31), query)).searches == 1
        # Past days' salts are gone: their visitor keys can no longer be recomputed by anyone.
        assert all(salt.day >= TODAY for salt in db_session.scalars(select(AnalyticsSalt)))


def test_the_roll_up_and_the_purge_are_periodic_tasks(app):
    names = {task.name for task in periodic_tasks(app)}
    assert {"search.analytics.rollup", "search.analytics.purge"} <= names


def test_nothing_of_the_query_is_logged_when_recording_nor_when_recording_fails(client, db_session, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, SQL statements included
    query = "arnaque kowalczyk 0612345678"
    assert _search(client, query, "203.0.113.90").status_code == 200
    assert len(_events(db_session, "arnaque … [numéro]")) == 1
    # The table gone (rolled back at the end of the test): the search still answers, with its results.
    db_session.execute(text("ALTER TABLE search_event RENAME TO search_event_away"))
    failed = _search(client, query, "203.0.113.90")
    assert failed.status_code == 200 and "résultats pour" in failed.get_data(as_text=True)
    assert any("search not recorded" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        message = f"{record.getMessage()} {record.exc_text or ''}"
        assert "kowalczyk" not in message.lower() and "0612345678" not in message and "arnaque" not in message


def test_csv_export_neutralises_formulas():
    rows = [analytics.Row(query, 9, 6, 1, 4, 14) for query in
            ("=1+2", "+33 [numéro]", "-bonjour", "@somme(a1)", "\tplainte", "\rvol", "plainte; \"vol\"")]
    parsed = list(csv.reader(io.StringIO(analytics.csv_export(rows)), delimiter=";"))
    assert parsed[0][0] == "Recherche"
    assert [line[0] for line in parsed[1:]] == ["'=1+2", "'+33 [numéro]", "'-bonjour", "'@somme(a1)", "'\tplainte",
                                                "'\rvol", "plainte; \"vol\""]
    assert parsed[1][1:] == ["9", "6", "1", "4", "4", "3,5"]


def test_the_periodic_roll_up_catches_up_on_days_the_worker_missed(db_session, app, known):
    query = "plainte cambriolage maison"
    assert analytics.scrub(query, known) == query
    with app.app_context():
        missed = TODAY - timedelta(days=6)
        analytics.record_search(db_session, query, 40, analytics.Client("198.51.100.5", "Firefox"),
                                known=known, day=missed)
        analytics.record_search(db_session, query, 40, analytics.Client("198.51.100.5", "Firefox"), known=known)
        rolled = analytics.rollup_recent(db_session, TODAY)
        assert missed in rolled and TODAY in rolled
        assert db_session.get(SearchQueryDay, (missed, query)).searches == 1
        assert db_session.get(SearchQueryDay, (TODAY, query)).searches == 1


def test_the_personal_data_page_tells_citizens_what_the_statistics_keep(tmp_path):
    portal = make_app(tmp_path, ANALYTICS_RETENTION_DAYS=20, ANALYTICS_MIN_VISITORS=8)
    html = unescape(portal.test_client().get("/donnees-personnelles").get_data(as_text=True))
    assert "effacé après 20 jours" in html and "tapée par 8 visiteurs différents au moins" in html
    assert "clé secrète du jour, détruite le lendemain" in html
    assert "pas les résultats affichés pendant la frappe" in html


def test_k_below_2_is_refused_by_the_configuration(tmp_path):
    from portal.config import ConfigError

    with pytest.raises(ConfigError, match="ANALYTICS_MIN_VISITORS"):
        make_app(tmp_path, ANALYTICS_MIN_VISITORS=1)
