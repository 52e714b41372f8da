"""Every request that changes something needs the CSRF token, htmx requests included."""

from __future__ import annotations

import re

from flask import Flask
from flask_wtf.csrf import generate_csrf

from tests.agents.helpers import make_agent, sign_in_agent
from tests.conftest import make_app

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Browsers post CSP reports on their own and cannot send a token.
EXEMPT = {"portal.csp_report"}


def _url_for_rule(rule) -> str:
    # An int converter needs a number to match (a bounded one too: <int(max=…):slot_id>); the rest, any text.
    numbered = re.sub(r"<int(?:\([^)]*\))?:[^>]+>", "1", rule.rule)
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", numbered)


def _unsafe_rules(application: Flask):
    for rule in application.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & UNSAFE):
            yield rule, method


def _agents_only(rule) -> bool:
    return rule.rule.startswith("/agents") and not rule.rule.startswith(("/agents/connexion", "/agents/deconnexion"))


def test_every_unsafe_route_refuses_a_request_without_token(app):
    client = app.test_client()
    exempt_seen = set()
    for rule, method in _unsafe_rules(app):
        if rule.endpoint in EXEMPT:
            exempt_seen.add(rule.endpoint)
            continue
        response = client.open(_url_for_rule(rule), method=method)
        assert response.status_code == 400, f"{method} {rule.rule} accepted a request without CSRF token"
        assert "CSRF" not in response.get_data(as_text=True)  # French page, not Flask-WTF's English
    assert exempt_seen == EXEMPT, "an exemption names a route that no longer exists"


def test_every_agents_route_refuses_an_agent_without_token(app, db_session):
    agent, secret = make_agent(db_session, email="officier.csrf@interieur.gouv.fr", roles=("officer", "admin"))
    client = app.test_client()
    sign_in_agent(client, agent.email, totp_secret=secret)
    checked = 0
    for rule, method in _unsafe_rules(app):
        if _agents_only(rule):
            response = client.open(_url_for_rule(rule), method=method)
            assert response.status_code == 400, f"{method} {rule.rule} accepted an agent's request without token"
            checked += 1
    assert checked >= 5


def test_the_token_is_accepted_in_the_header_htmx_sends(tmp_path):
    application = make_app(tmp_path)

    @application.get("/_form")
    def form():
        return generate_csrf()  # what a page with a form puts in its field or meta tag

    @application.post("/_change")
    def change():
        return "changed"

    client = application.test_client()
    assert client.post("/_change").status_code == 400
    token = client.get("/_form").get_data(as_text=True)
    assert client.post("/_change", headers={"X-CSRFToken": token}).get_data(as_text=True) == "changed"
    assert client.post("/_change", data={"csrf_token": token}).get_data(as_text=True) == "changed"
    assert client.post("/_change", headers={"X-CSRFToken": token[:-2] + "xx"}).status_code == 400
    other = application.test_client()
    assert other.post("/_change", headers={"X-CSRFToken": token}).status_code == 400  # another session
