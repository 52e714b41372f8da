"""The editors' search statistics: only queries enough visitors typed, each a way to a new rule; CSV audited."""

from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from agents.models import AuditEvent
from portal.security import limiter
from search import analytics
from search.models import SearchQueryDay
from tests.agents.helpers import make_agent, sign_in_agent
from tests.complaints.conftest import sign_in_franceconnect

PAGE = "/agents/recherche/statistiques"
CSV = "/agents/recherche/statistiques.csv"
ROUTES = (PAGE, f"{PAGE}?rapport=sans-resultat&periode=30", f"{CSV}?rapport=sans-resultat")
TODAY = analytics.today()
_emails = itertools.count(1)


def _agent(app, db_session, roles):
    """A test client signed in through the real form as a new agent with ``roles``; ``client.agent_id``."""
    email = f"statistiques{next(_emails)}@interieur.gouv.fr"
    agent, secret = make_agent(db_session, email=email, roles=roles, unit_id="" if "officer" in roles else None)
    limiter.reset()  # the sign-in form is rate limited per address
    client = app.test_client()
    sign_in_agent(client, email, totp_secret=secret)
    client.agent_id = agent.id
    return client


def _search(client, query: str, address: str):
    response = client.get("/recherche", query_string={"q": query}, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200
    return response


def _cells(html: str) -> list[str]:
    return [unescape(cell).strip() for cell in re.findall(r"<td>(.*?)</td>", html, re.S)]


def test_anonymous_visitors_and_citizens_are_sent_to_the_agents_sign_in(app, client, local_fc, db_session):
    citizen = sign_in_franceconnect(app, local_fc, db_session)
    assert citizen.get("/mon-espace").status_code == 200  # a citizen, signed in, but no agent
    for visitor in (client, citizen):
        for url in ROUTES:
            response = visitor.get(url)
            assert response.status_code == 303, url
            assert urlsplit(response.headers["Location"]).path == "/agents/connexion"


def test_for_an_officer_the_statistics_do_not_exist(app, db_session):
    officer = _agent(app, db_session, ("officer",))
    for url in ROUTES:
        response = officer.get(url)
        assert response.status_code == 404 and "Page introuvable" in response.get_data(as_text=True), url


@pytest.mark.parametrize("role", ["editor", "reviewer", "admin"])
def test_editors_reviewers_and_administrators_read_the_statistics_and_how_privacy_is_kept(app, db_session, role):
    response = _agent(app, db_session, (role,)).get(PAGE)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "<h1>Statistiques de recherche</h1>" in html
    for tab in ("Recherches fréquentes", "Sans résultat", "Sans clic", "Clic lointain"):
        assert tab in html
    assert "Aucune donnée personnelle" in html and "adresse IP" in html
    assert "tapée par 5 visiteurs distincts au moins <strong>le même jour</strong>" in html
    assert "effacé après 30 jours" in html and "les totaux par jour, après 90 jours" in html
    assert "ne reconnaît pas tous les noms" in html and "détruite le surlendemain" in html


def test_a_zero_result_query_typed_by_5_visitors_is_shown_one_typed_by_4_is_hidden(app, client, db_session):
    for i in range(5):
        _search(client, "bonjour svp stp", f"192.0.2.{10 + i}")
    for i in range(4):
        _search(client, "merci svp", f"192.0.2.{20 + i}")
    analytics.rollup(db_session, TODAY)

    editor = _agent(app, db_session, ("editor",))
    html = editor.get(PAGE, query_string={"rapport": "sans-resultat", "periode": "7"}).get_data(as_text=True)
    cells = _cells(html)
    assert "bonjour svp stp" in cells and "merci svp" not in unescape(html)
    row = cells[cells.index("bonjour svp stp"):][:7]
    assert row[1:4] == ["5", "5", "5"]  # searches, visitors, without results
    # Each query leads to the new-rule form, prefilled with it.
    links = [unescape(href) for href in re.findall(r'href="(/agents/recherche/regles/nouvelle\?[^"]+)"', html)]
    wanted = [parse_qs(urlsplit(link).query) for link in links]
    assert {"kind": ["synonym"], "terms": ["bonjour svp stp"]} in wanted
    assert {"kind": ["best_bet"], "terms": ["bonjour svp stp"]} in wanted

    exported = editor.get(CSV, query_string={"rapport": "sans-resultat", "periode": "7"}).get_data(as_text=True)
    assert "bonjour svp stp" in exported and "merci svp" not in exported


def test_a_query_one_visitor_typed_every_day_is_hidden_5_visitors_of_one_day_show_it(app, db_session):
    """k-anonymity is per day: daily visitors are never added up (the same person is a new key each day)."""
    def day_counts(query: str, age: int, visitors: int) -> SearchQueryDay:
        return SearchQueryDay(day=TODAY - timedelta(days=age), query=query, searches=visitors, visitors=visitors,
                              zero_results=visitors, clicked=0, best_rank_total=0)

    db_session.add_all([day_counts("plainte contre …", age, 1) for age in range(7)])
    db_session.add_all([day_counts("plainte voisin …", age, 4) for age in range(3)])
    db_session.add_all([day_counts("vol vélo électrique", 2, 5), day_counts("vol vélo électrique", 0, 2)])
    db_session.commit()
    editor = _agent(app, db_session, ("editor",))
    for period in ("7", "30"):
        html = editor.get(PAGE, query_string={"rapport": "sans-resultat", "periode": period}).get_data(as_text=True)
        cells = _cells(html)
        assert "plainte contre …" not in cells and "plainte voisin …" not in cells
        row = cells[cells.index("vol vélo électrique"):][:4]
        assert row[1:4] == ["7", "5", "7"]  # searches of the period, visitors of the busiest day, without results
        exported = editor.get(CSV, query_string={"rapport": "sans-resultat", "periode": period}).get_data(as_text=True)
        assert "plainte contre" not in exported and "plainte voisin" not in exported
        assert "Visiteurs distincts (meilleur jour)" in exported


def test_the_period_filter(app, db_session):
    ten_days_ago = TODAY - timedelta(days=10)
    db_session.add(SearchQueryDay(day=ten_days_ago, query="plainte voisin bruit", searches=9, visitors=6,
                                  zero_results=0, clicked=2, best_rank_total=2))
    db_session.commit()
    editor = _agent(app, db_session, ("editor",))
    month = _cells(editor.get(PAGE, query_string={"periode": "30"}).get_data(as_text=True))
    week = _cells(editor.get(PAGE, query_string={"periode": "7"}).get_data(as_text=True))
    assert "plainte voisin bruit" in month and "plainte voisin bruit" not in week


def test_the_csv_export_is_audited_and_runs_no_formula(app, client, db_session):
    for i in range(5):
        _search(client, "=bonjour svp", f"192.0.2.{30 + i}")
    analytics.rollup(db_session, TODAY)
    editor = _agent(app, db_session, ("reviewer",))
    response = editor.get(CSV, query_string={"rapport": "sans-resultat", "periode": "30"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="statistiques-recherche-sans-resultat-30-jours.csv"'
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffRecherche;")
    lines = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert ["'=bonjour svp", "5", "5", "5", "0", "0", ""] in lines
    entry = db_session.scalars(select(AuditEvent).where(AuditEvent.agent_id == editor.agent_id,
                                                        AuditEvent.action == "analytics.export")).one()
    assert (entry.target_type, entry.target_id) == ("analytics", "sans-resultat (30 jours)")


@pytest.mark.parametrize("query", ["rapport=tout", "periode=365", "periode=sept"])
def test_bad_parameters_get_a_french_400(app, db_session, query):
    editor = _agent(app, db_session, ("editor",))
    for path in (PAGE, CSV):
        response = editor.get(f"{path}?{query}")
        assert response.status_code == 400 and "Le paramètre" in unescape(response.get_data(as_text=True))
