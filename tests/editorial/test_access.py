"""Every back-office route (every endpoint "editorial.*", new ones included) is closed to anyone but editors.

An anonymous visitor and a citizen (FranceConnect or e-mail session: not an agent) are sent to the agents'
sign-in on a GET and refused a POST (a form cannot be replayed after signing in); for an officer without an
editorial role the back office does not exist (404). Review actions are closed to editors who are not
reviewers ("Accès réservé"), and the author of a version cannot approve it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from tests.complaints.conftest import sign_in_email, sign_in_franceconnect
from tests.editorial.back_office import editor_client, text_of, token_from

# Routes only reviewers and administrators may use (the service refuses authors as well).
REVIEW_ENDPOINTS = {"editorial.revision_approve", "editorial.revision_schedule", "editorial.revision_reject",
                    "editorial.revision_publish", "editorial.revision_unschedule"}


def _value(converter, name: str):
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if name == "segment":
        return "demarches"
    return "plainte-en-ligne" if name in ("key", "slug") else "x"


def back_office_routes(app) -> list[tuple[str, str, str]]:
    """(method, url, endpoint) of every route of the back office, built from the URL map."""
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("editorial."):
            continue
        values = {name: _value(converter, name) for name, converter in rule._converters.items()}
        url = adapter.build(rule.endpoint, values)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            found.append((method, url, rule.endpoint))
    return found


def test_the_back_office_has_its_routes(app):
    routes = back_office_routes(app)
    endpoints = {endpoint for _, _, endpoint in routes}
    assert {"editorial.dashboard", "editorial.content_edit", "editorial.revision", "editorial.revision_preview",
            "editorial.revision_approve", "editorial.fiches", "editorial.rule_list", "editorial.rule_new"} <= endpoints
    assert all(url.startswith("/agents/") for _, url, _ in routes)


def _assert_sent_to_sign_in(client, token: str, routes):
    for method, url, _ in routes:
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 303, (url, response.status_code)
            location = urlsplit(response.headers["Location"])
            assert location.path == "/agents/connexion", url
        else:
            response = client.post(url, data={"csrf_token": token})
            assert response.status_code == 403, (method, url, response.status_code)
            assert "Accès réservé" in text_of(response), url
        assert response.headers["Cache-Control"] == "no-store", url


def test_an_anonymous_visitor_is_sent_to_the_sign_in_everywhere(app, client):
    _assert_sent_to_sign_in(client, token_from(client), back_office_routes(app))


def test_a_citizen_signed_in_with_franceconnect_is_no_agent(app, local_fc, db_session):
    citizen = sign_in_franceconnect(app, local_fc, db_session)
    assert citizen.get("/mon-espace").status_code == 200  # signed in as a citizen…
    _assert_sent_to_sign_in(citizen, token_from(citizen), back_office_routes(app))  # …not as an agent


def test_a_citizen_signed_in_by_email_is_no_agent(app, db_session):
    citizen = sign_in_email(app, db_session, "editorial.citoyen@example.org")
    _assert_sent_to_sign_in(citizen, token_from(citizen), back_office_routes(app))


def test_for_an_officer_the_back_office_does_not_exist(app, db_session):
    officer = editor_client(app, db_session, roles=("officer",))
    token = token_from(officer, "/agents/")
    for method, url, _ in back_office_routes(app):
        response = officer.get(url) if method == "GET" else officer.post(url, data={"csrf_token": token})
        assert response.status_code == 404, (method, url, response.status_code)
        assert "Page introuvable" in text_of(response), url
    home = text_of(officer.get("/agents/"))
    assert "Contenus" not in home and "Règles de recherche" not in home


@pytest.mark.parametrize("roles", [("editor",), ("reviewer",), ("admin",)])
def test_editors_reviewers_and_administrators_open_the_back_office(app, db_session, roles):
    agent = editor_client(app, db_session, roles=roles)
    home = text_of(agent.get("/agents/"))
    assert "/agents/contenus" in home and "/agents/recherche/regles" in home  # the home page's links and the menu
    for url in ("/agents/contenus", "/agents/contenus/demarches", "/agents/contenus/situations",
                "/agents/contenus/fiches", "/agents/recherche/regles", "/agents/contenus/demarches/nouveau",
                "/agents/recherche/regles/nouvelle"):
        response = agent.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response.headers["Cache-Control"] == "no-store"
        assert "noindex" in response.headers["X-Robots-Tag"]


def test_an_editor_who_is_not_a_reviewer_cannot_use_the_review_routes(app, db_session):
    editor = editor_client(app, db_session, roles=("editor",))
    token = token_from(editor, "/agents/")
    review = [(m, u, e) for m, u, e in back_office_routes(app) if e in REVIEW_ENDPOINTS]
    assert {e for _, _, e in review} == REVIEW_ENDPOINTS
    for _, url, _ in review:
        response = editor.post(url, data={"csrf_token": token, "lock_version": "1"})
        assert response.status_code == 403 and "Accès réservé" in text_of(response), url
