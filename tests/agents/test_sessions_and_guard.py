"""The agents' session stands apart from citizens'; every /agents/ URL is refused to anyone else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from agents import services
from agents.access import require_role
from agents.models import AgentSession
from tests.agents.helpers import DEFAULT_PASSWORD, csrf_token, make_agent, sign_in_agent

T0 = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)


def test_a_citizen_signed_in_with_franceconnect_is_no_agent(browser, db_session):
    browser.sign_in()
    assert browser.portal.get("/mon-espace").status_code == 200  # the citizen is signed in…
    response = browser.portal.get("/agents/")
    assert response.status_code == 303  # …but is sent to the agents' sign-in
    assert response.headers["Location"] == "/agents/connexion?next=%2Fagents%2F"
    page = browser.portal.get(response.headers["Location"])
    assert "Connexion à l'espace agents" in unescape(page.get_data(as_text=True))
    assert browser.portal.get("/agents/journal").status_code == 303


@pytest.mark.parametrize("path", ["/agents/", "/agents/journal", "/agents/dossiers/PL-0000", "/agents/x"])
def test_anonymous_posts_under_agents_are_refused(client, path):
    token = csrf_token(client.get("/agents/connexion").get_data(as_text=True))
    response = client.post(path, data={"csrf_token": token})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 403
    assert "Accès réservé" in html and "réservée aux agents" in html
    assert response.headers["Cache-Control"] == "no-store"


def test_anonymous_pages_lead_to_the_sign_in_with_the_way_back(client):
    response = client.get("/agents/journal?action=login.ok")
    assert response.status_code == 303
    assert response.headers["Location"] == "/agents/connexion?next=%2Fagents%2Fjournal%3Faction%3Dlogin.ok"
    assert client.get("/agents").status_code == 303
    page = client.get("/agents/connexion?next=/agents/journal")
    assert page.status_code == 200
    assert 'name="next" value="/agents/journal"' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and "noindex" in page.headers["X-Robots-Tag"]


def test_sign_out_ends_the_session_for_good(client, db_session):
    agent, secret = make_agent(db_session, email="sortie@interieur.gouv.fr")
    agent_id = agent.id
    response = sign_in_agent(client, "sortie@interieur.gouv.fr", DEFAULT_PASSWORD, secret)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("portail_agent="))
    token = cookie.split(";")[0].split("=", 1)[1]
    home = client.get("/agents/").get_data(as_text=True)
    out = client.post("/agents/deconnexion", data={"csrf_token": csrf_token(home)})
    assert out.status_code == 303 and out.headers["Location"] == "/agents/connexion?deconnecte=1"
    assert "portail_agent=;" in " ".join(out.headers.getlist("Set-Cookie"))
    assert db_session.scalar(select(func.count()).select_from(AgentSession)
                             .where(AgentSession.agent_id == agent_id)) == 0
    # The old token, replayed by hand, opens nothing.
    client.set_cookie("portail_agent", token, path="/agents")
    assert client.get("/agents/").status_code == 303
    assert "Vous êtes déconnecté" in client.get("/agents/connexion?deconnecte=1").get_data(as_text=True)


def test_the_session_ends_after_the_idle_time(app, ctx):
    agent, _ = make_agent(ctx, email="inactif@interieur.gouv.fr")
    idle = app.config["AGENT_SESSION_IDLE_MINUTES"]
    token = services.open_session(ctx, agent, now=T0)
    assert services.resume_session(ctx, token, now=T0 + timedelta(minutes=idle - 1)) is not None
    # Activity moved the deadline: idle minutes after that last request, still open.
    assert services.resume_session(ctx, token, now=T0 + timedelta(minutes=2 * idle - 2)) is not None
    assert services.resume_session(ctx, token, now=T0 + timedelta(minutes=3 * idle)) is None
    assert ctx.get(AgentSession, services.token_hash(token)) is None  # deleted, not just refused


def test_the_session_ends_after_the_absolute_time_even_when_active(app, ctx):
    agent, _ = make_agent(ctx, email="longue@interieur.gouv.fr")
    hours = app.config["AGENT_SESSION_ABSOLUTE_HOURS"]
    token = services.open_session(ctx, agent, now=T0)
    now = T0
    while now < T0 + timedelta(hours=hours) - timedelta(minutes=5):
        now += timedelta(minutes=5)
        assert services.resume_session(ctx, token, now=now) is not None
    assert services.resume_session(ctx, token, now=T0 + timedelta(hours=hours, minutes=1)) is None


def test_purge_removes_the_sessions_that_ran_out_and_only_those(app, ctx):
    """Sessions whose cookie never comes back (a closed browser) are deleted by ``flask agents purge-sessions``."""
    agent, _ = make_agent(ctx, email="purge@interieur.gouv.fr")
    idle = timedelta(minutes=app.config["AGENT_SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=app.config["AGENT_SESSION_ABSOLUTE_HOURS"])
    now = T0 + timedelta(days=1)
    # (Opened in time order: opening a session removes the agent's idle ones at that time.)
    too_old = services.open_session(ctx, agent, now=now - absolute - timedelta(minutes=1))
    ctx.execute(AgentSession.__table__.update().where(AgentSession.id_hash == services.token_hash(too_old))
                .values(last_seen_at=now - timedelta(minutes=1)))  # active a minute ago, but opened too long ago
    idle_out = services.open_session(ctx, agent, now=now - idle - timedelta(minutes=1))
    still_idle_in = services.open_session(ctx, agent, now=now - idle + timedelta(minutes=1))
    fresh = services.open_session(ctx, agent, now=now - timedelta(minutes=2))

    assert services.purge_sessions(ctx, now) == 2

    left = set(ctx.scalars(select(AgentSession.id_hash).where(AgentSession.agent_id == agent.id)))
    assert left == {services.token_hash(still_idle_in), services.token_hash(fresh)}
    assert services.token_hash(idle_out) not in left
    assert services.purge_sessions(ctx, now) == 0


def test_the_purge_sessions_command_takes_a_frozen_now(small_app):
    from portal.extensions import db

    with small_app.app_context():
        agent, _ = make_agent(db.session, email="commande@interieur.gouv.fr", unit_id=None, roles=("admin",))
        services.open_session(db.session, agent, now=T0)
        db.session.commit()
    runner = small_app.test_cli_runner()
    before = runner.invoke(args=["agents", "purge-sessions", "--now", (T0 + timedelta(minutes=5)).isoformat()])
    assert before.exit_code == 0 and "supprimées : 0" in before.output
    after = runner.invoke(args=["agents", "purge-sessions", "--now", (T0 + timedelta(days=1)).isoformat()])
    assert after.exit_code == 0 and "supprimées : 1" in after.output
    assert runner.invoke(args=["agents", "purge-sessions", "--now", "hier"]).exit_code != 0
    with small_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AgentSession)) == 0


def test_a_deactivated_agent_loses_their_session(ctx):
    agent, _ = make_agent(ctx, email="desactive@interieur.gouv.fr")
    token = services.open_session(ctx, agent, now=T0)
    agent.active = False
    ctx.flush()
    assert services.resume_session(ctx, token, now=T0 + timedelta(minutes=1)) is None


def test_an_expired_session_sends_back_to_the_sign_in(client, db_session, app):
    _, secret = make_agent(db_session, email="expire@interieur.gouv.fr")
    sign_in_agent(client, "expire@interieur.gouv.fr", DEFAULT_PASSWORD, secret)
    db_session.execute(AgentSession.__table__.update().values(
        last_seen_at=datetime.now(UTC) - timedelta(minutes=app.config["AGENT_SESSION_IDLE_MINUTES"] + 1)))
    db_session.commit()
    response = client.get("/agents/")
    assert response.status_code == 303 and response.headers["Location"].startswith("/agents/connexion")
    assert "portail_agent=;" in " ".join(response.headers.getlist("Set-Cookie"))  # the stale cookie goes


def test_require_role_refuses_an_agent_without_the_role(small_app):
    from portal.extensions import db

    @require_role("editor")
    def editors_only():
        return "ok"

    small_app.add_url_rule("/agents/redaction-test", "agents_test_editors", editors_only)
    with small_app.app_context():
        _, secret = make_agent(db.session, email="officier@interieur.gouv.fr", unit_id="police-72181-test")
        _, editor_secret = make_agent(db.session, email="redac@interieur.gouv.fr", roles=("editor",), unit_id=None)
    officer = small_app.test_client()
    sign_in_agent(officer, "officier@interieur.gouv.fr", DEFAULT_PASSWORD, secret)
    refused = officer.get("/agents/redaction-test")
    assert refused.status_code == 403 and "Accès réservé" in refused.get_data(as_text=True)
    editor = small_app.test_client()
    sign_in_agent(editor, "redac@interieur.gouv.fr", DEFAULT_PASSWORD, editor_secret)
    assert editor.get("/agents/redaction-test").get_data(as_text=True) == "ok"


def test_the_home_page_links_to_the_console_when_it_exists(client, db_session, app):
    _, secret = make_agent(db_session, email="liens@interieur.gouv.fr", roles=("officer", "admin"))
    sign_in_agent(client, "liens@interieur.gouv.fr", DEFAULT_PASSWORD, secret)
    html = unescape(client.get("/agents/").get_data(as_text=True))
    assert "Journal d'audit" in html and 'href="/agents/journal"' in html
    for endpoint, label in (("console.list_cases", "Dossiers de l'unité"), ("console.agenda", "Agenda")):
        assert (label in html) == (endpoint in app.view_functions)
