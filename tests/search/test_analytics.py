"""Search analytics keep what citizens search for, never who: scrubbed queries, daily keys, k-anonymity."""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text

from portal.extensions import db
from portal.tasks import periodic_tasks
from search import analytics
from search.engine import clean_query
from search.evaluation import read_queries
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
    empty = analytics.Vocabulary({})
    assert analytics.scrub("mon voisin Kowalczyk me menace au 17", empty) == "mon … me … au 17"


# The reviewer's examples, with the real index: service-public.fr fiches name people in their examples
# ("monsieur Dupont et madame Martin", "Jean a 2 enfants : Michel et Sophie", "le nom de sa mère (Leroy)"),
# so every one of these words is in the index; they were stored word for word. Surnames never survive.
# Two first names legitimately do, because they are common words the catalogue uses as such and a scrubber
# cannot tell them apart: "marie" (folded "marié(e)", 125 documents: "si je me marie", "marié 2 fois") and
# "pierre" (stone, "Saint-Pierre-et-Miquelon", 24 documents); "rose" likewise (the old pink licence).
# k-anonymity is the second barrier for those.
@pytest.mark.parametrize(("typed", "stored"), [
    ("plainte contre marie dupont", "plainte contre marie …"),
    ("jean-pierre leroy escroquerie", "…-pierre … escroquerie"),
    ("plainte contre pierre martin", "plainte contre pierre …"),
    ("harcèlement par sophie", "harcèlement par …"),
    ("mon mari michel me frappe", "mon mari … me frappe"),
    ("Plainte contre Marie DUPONT", "plainte contre marie …"),
    ("mon voisin Robert Durand me menace", "mon voisin … me menace"),
])
def test_scrub_removes_the_names_of_the_catalogue_s_examples(known, typed, stored):
    assert analytics.scrub(typed, known) == stored


def test_scrub_keeps_the_words_of_the_public_evaluation_queries(app, known):
    """The catalogue's vocabulary survives: every public evaluation query is stored as typed (numbers apart;
    these have none). Measured before choosing KNOWN_MIN_DOCS: without the search rules' words, 4 of 40
    would lose a word found in only 1 or 2 documents ("preplainte", "leboncoin", "cambriolé", "piratée")."""
    queries = [q.query for q in read_queries(Path(app.config["SEARCH_EVAL_FILE"]))]
    assert len(queries) >= 40
    changed = {q: analytics.scrub(q, known) for q in queries if analytics.scrub(q, known) != clean_query(q).lower()}
    assert changed == {}


def test_a_word_is_kept_only_when_enough_documents_have_it():
    """A name in one or two fiches is not the catalogue's vocabulary: KNOWN_MIN_DOCS documents are."""
    words = {"plainte": 150, "escroquerie": 36, "leroy": 1, "sophie": 2, "frappe": analytics.KNOWN_MIN_DOCS}
    vocabulary = analytics.Vocabulary(words)
    assert analytics.scrub("plainte leroy escroquerie", vocabulary) == "plainte … escroquerie"
    assert analytics.scrub("sophie me frappe", vocabulary) == "… me frappe"
    # The search rules' words count, whatever the documents: editors wrote them, reviewers approved them.
    assert analytics.scrub("arnaque leboncoin", analytics.Vocabulary({"leboncoin": 1}, ["arnaque", "Leboncoin"])) \
        == "arnaque leboncoin"
    # And a word of an attested word's family: "négligences" (1 document) is "négligence" (24).
    assert analytics.scrub("négligences graves", analytics.Vocabulary({"negligence": 24, "negligences": 1})) \
        == "négligences …"


def test_common_first_names_and_surnames_are_never_kept():
    """However many fiches have "Dupont" or "Martin" (7 and 29: examples, "Saint-Martin"), they are names."""
    vocabulary = analytics.Vocabulary({"plainte": 150, "contre": 500, "dupont": 500, "martin": 500,
                                       "michel": 500, "pierre": 500})
    assert {"dupont", "martin", "michel", "sophie", "leroy", "jean"} <= analytics.NAMES
    assert not {"pierre", "rose", "marie", "claire", "petit", "blanc", "paris"} & analytics.NAMES
    assert analytics.scrub("plainte contre Martin Dupont", vocabulary) == "plainte contre …"
    assert analytics.scrub("plainte contre pierre michel", vocabulary) == "plainte contre pierre …"
    # Nor a typo of one towards a word: "dupond" is a name too.
    assert analytics.scrub("dupond plainte", analytics.Vocabulary({"dupont": 9, "plainte": 9})) == "… plainte"


def test_typos_are_kept_only_for_long_words_towards_attested_words():
    vocabulary = analytics.Vocabulary({"mairie": 316, "commissariat": 135, "plainte": 150, "avocat": 2})
    # "marie" is one letter from "mairie": 5 letters, too short to be taken for a typo.
    assert analytics.scrub("plainte marie", vocabulary) == "plainte …"
    assert analytics.scrub("plainte mairei", vocabulary) == "plainte mairei"  # 6 letters: a typo
    assert analytics.scrub("comissariat", vocabulary) == "comissariat"
    # Towards a word in too few documents, no: "avocat" is in 2.
    assert analytics.scrub("plainte avocta", vocabulary) == "plainte …"


def test_a_capitalised_word_inside_the_query_is_kept_only_if_attested_as_typed(known):
    """A capital initial inside the query is a name most of the time: no typo tolerance, no family."""
    assert analytics.scrub("aller au comissariat", known) == "aller au comissariat"
    assert analytics.scrub("aller au Comissariat", known) == "aller au …"
    assert analytics.scrub("aller au Commissariat", known) == "aller au commissariat"
    # The first word's capital is the keyboard's; a query all in capitals tells nothing either.
    assert analytics.scrub("Comissariat de police", known) == "comissariat de police"
    assert analytics.scrub("ALLER AU COMISSARIAT", known) == "aller au comissariat"
    words = {"negligence": 24, "negligences": 1, "plainte": 150}
    assert analytics.scrub("plainte Négligences", analytics.Vocabulary(words)) == "plainte …"


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


def _typed(db_session, query: str, visitors: int, day: date, known) -> None:
    """``visitors`` distinct visitors search ``query`` on ``day``; the day is rolled up."""
    for i in range(visitors):
        analytics.record_search(db_session, query, 0, analytics.Client(f"198.51.100.{i + 1}", "Firefox"),
                                known=known, day=day)
    analytics.rollup(db_session, day)


def _shown(db_session, period: int) -> set[str]:
    return {row.query for row in analytics.top_queries(db_session, period, now=TODAY)}


def test_k_anonymity_counts_distinct_visitors_within_one_day_never_summed_over_days(db_session, app, known):
    """Each day's salt makes the same person a new key: one visitor typing a query on 5 days is 5 "daily
    visitors", never 5 people. A query is shown once 5 distinct visitors typed it on one same day."""
    with app.app_context():
        for age in range(5):  # the same visitor, the same query, 5 days running
            _typed(db_session, "plainte harcèlement bureau", 1, TODAY - timedelta(days=age), known)
        for age in range(3):  # 4 visitors on each of 3 days: 12 "daily visitors", never 5 on one day
            _typed(db_session, "plainte harcèlement école", 4, TODAY - timedelta(days=age), known)
        _typed(db_session, "plainte harcèlement voisin", 5, TODAY - timedelta(days=3), known)
        _typed(db_session, "plainte harcèlement voisin", 1, TODAY, known)
        _typed(db_session, "plainte harcèlement travail", 4, TODAY, known)

        for period in analytics.PERIODS:
            shown = _shown(db_session, period)
            assert "plainte harcèlement bureau" not in shown and "plainte harcèlement école" not in shown
            assert "plainte harcèlement travail" not in shown and "plainte harcèlement voisin" in shown
        rows = {r.query: r for r in analytics.top_queries(db_session, 7, now=TODAY)}
        row = rows["plainte harcèlement voisin"]
        assert (row.searches, row.visitors) == (6, 5)  # the busiest day's visitors, the period's searches
        # The period is what counts: the busy day 3 days ago is not in a period that ended 4 days ago.
        assert "plainte harcèlement voisin" not in {
            r.query for r in analytics.top_queries(db_session, 7, now=TODAY - timedelta(days=4))}
        for report in (analytics.zero_result_queries, analytics.no_click_queries, analytics.far_click_queries):
            assert "plainte harcèlement école" not in {r.query for r in report(db_session, 30, now=TODAY)}
        assert "plainte harcèlement école" in {
            r.query for r in analytics.zero_result_queries(db_session, 30, now=TODAY, min_visitors=4)}


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
        purged = analytics.purge(db_session, TODAY)
        assert purged.events >= 1 and purged.salts >= 2
        assert sorted((TODAY - e.day).days for e in _events(db_session, query)) == [0, 30]
        # The day purged was rolled up first: its count stays, without the raw search.
        assert db_session.get(SearchQueryDay, (TODAY - timedelta(days=31), query)).searches == 1
        # Salts older than yesterday are gone: their visitor keys can no longer be recomputed by anyone.
        assert all(salt.day >= TODAY - timedelta(days=1) for salt in db_session.scalars(select(AnalyticsSalt)))


def test_the_daily_counts_are_deleted_after_their_retention_every_query_shown_or_not(db_session, app):
    """Not kept for ever: ANALYTICS_SUMMARY_RETENTION_DAYS (90), longer than the longest report (30 days)."""
    with app.app_context():
        keep = app.config["ANALYTICS_SUMMARY_RETENTION_DAYS"]
        assert keep == 90 and keep >= max(analytics.PERIODS)
        db_session.execute(delete(SearchQueryDay))
        for age, visitors in ((keep + 1, 9), (keep + 1, 1), (keep + 40, 2), (keep, 9), (31, 1), (0, 5)):
            db_session.add(SearchQueryDay(day=TODAY - timedelta(days=age), query=f"vol vélo {age} {visitors}",
                                          searches=visitors, visitors=visitors, zero_results=0, clicked=0,
                                          best_rank_total=0))
        db_session.flush()
        assert analytics.purge(db_session, TODAY).daily_counts == 3
        left = sorted((TODAY - d.day).days for d in db_session.scalars(select(SearchQueryDay)))
        assert left == [0, 31, keep]
        assert analytics.purge(db_session, TODAY).daily_counts == 0  # idempotent


def test_yesterday_s_salt_outlives_midnight_so_a_late_clock_does_not_count_a_visitor_twice(db_session, app):
    """A host whose clock is still on yesterday, after another host's purge passed midnight, must count with
    yesterday's salt, not create a second one (which would make each of its visitors a second visitor)."""
    with app.app_context():
        yesterday, before = TODAY - timedelta(days=1), TODAY - timedelta(days=2)
        key = analytics.visitor_key(db_session, yesterday, "203.0.113.5", "Firefox")
        old = analytics.visitor_key(db_session, before, "203.0.113.5", "Firefox")
        analytics.purge(db_session, TODAY)
        days = set(db_session.scalars(select(AnalyticsSalt.day)))
        assert yesterday in days and before not in days
        assert analytics.visitor_key(db_session, yesterday, "203.0.113.5", "Firefox") == key
        assert db_session.scalar(select(func.count()).where(AnalyticsSalt.day == yesterday)) == 1
        # The day before yesterday's salt is gone: the same visitor that day is a new, unrelated key.
        assert analytics.visitor_key(db_session, before, "203.0.113.5", "Firefox") != old


def test_the_daily_counts_retention_cannot_be_shorter_than_the_reports_or_the_raw_searches(tmp_path):
    from portal.config import ConfigError

    with pytest.raises(ConfigError, match="ANALYTICS_SUMMARY_RETENTION_DAYS"):
        make_app(tmp_path, ANALYTICS_SUMMARY_RETENTION_DAYS=29)
    with pytest.raises(ConfigError, match="ANALYTICS_SUMMARY_RETENTION_DAYS"):
        make_app(tmp_path, ANALYTICS_RETENTION_DAYS=60, ANALYTICS_SUMMARY_RETENTION_DAYS=45)


def test_the_roll_up_and_the_purge_are_periodic_tasks(app):
    names = {task.name for task in periodic_tasks(app)}
    assert {"search.analytics.rollup", "search.analytics.purge"} <= names


class _Records(logging.Handler):
    """Every record of every logger, formatted (exceptions included): pytest's caplog, without its plugin."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.format(record)  # fills exc_text
        self.records.append(record)


@pytest.fixture
def log_records():
    root, handler = logging.getLogger(), _Records()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # every logger, SQL statements included
    yield handler.records
    root.removeHandler(handler)
    root.setLevel(level)


def test_nothing_of_the_query_is_logged_when_recording_nor_when_recording_fails(client, db_session, log_records):
    query = "arnaque kowalczyk 0612345678"
    assert _search(client, query, "203.0.113.90").status_code == 200
    assert len(_events(db_session, "arnaque … [numéro]")) == 1
    # The table gone (rolled back at the end of the test): the search still answers, with its results.
    db_session.execute(text("ALTER TABLE search_event RENAME TO search_event_away"))
    failed = _search(client, query, "203.0.113.90")
    assert failed.status_code == 200 and "résultats pour" in failed.get_data(as_text=True)
    assert any("search not recorded" in r.getMessage() for r in log_records)
    for record in log_records:
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
    assert "effacé après 20 jours" in html and "tapée le même jour par 8 visiteurs différents au moins" in html
    assert "clé secrète du jour, détruite le surlendemain" in html and "effacés après 90 jours" in html
    assert "pas les résultats affichés pendant la frappe" in html
    # What the scrubbing does, no more: it does not claim to remove every name.
    assert f"moins de {analytics.KNOWN_MIN_DOCS} pages du portail" in html and "nombres de 5 chiffres ou plus" in html
    assert "Il ne reconnaît pas tous les noms" in html and "comme les noms propres" not in html


def test_k_below_2_is_refused_by_the_configuration(tmp_path):
    from portal.config import ConfigError

    with pytest.raises(ConfigError, match="ANALYTICS_MIN_VISITORS"):
        make_app(tmp_path, ANALYTICS_MIN_VISITORS=1)
