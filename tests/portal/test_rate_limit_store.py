"""Rate limits shared through a real Redis, and what happens when it stops.

A Redis server of the test's own is started on a free port (Debian's
redis-server, as on the production hosts, installed by the Makefile), so that
stopping it disturbs nothing else on the machine.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from app import create_app
from portal.extensions import db
from portal.security import limiter
from tests.accounts.conftest import csrf_token
from tests.conftest import RedisServer, free_port, make_config

PUBLIC_PAGES = ("/", "/recherche?q=vol+de+papiers", "/commissariats?q=72000", "/api/v1/search?q=vol",
                "/demarches/thesee", "/connexion")


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def portal_on(app, tmp_path):
    """Another worker of the test portal (same database and index), on the rate-limit store given."""

    built = []

    def build(storage: str, prefix: str | None = None):
        options = {k: v for k, v in app.config["SQLALCHEMY_ENGINE_OPTIONS"].items() if k != "hide_parameters"}
        built.append(create_app(make_config(
            tmp_path, database=(app.config["SQLALCHEMY_DATABASE_URI"], options),
            SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"], RATELIMIT_STORAGE_URI=storage,
            RATELIMIT_KEY_PREFIX=prefix or f"test-{secrets.token_hex(4)}", LOGIN_CODE_RATE_LIMIT="2 per 10 minutes",
        )))
        return built[-1]

    yield build
    for other in built:
        with other.app_context():
            db.engine.dispose()
    # The limiter is one object for the process: give it back the test session's store, alive.
    limiter.init_app(app)
    limiter._storage_dead = False  # Flask-Limiter keeps its fallback flag across init_app
    limiter.reset()


def _ask_code(client, email: str):
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    return client.post("/connexion/email", data={"csrf_token": token, "email": email})


def test_two_workers_share_one_budget_through_redis(portal_on, redis_server):
    """Two workers' applications on one Redis: the third code of the address is refused."""
    prefix = f"test-{secrets.token_hex(4)}"
    first, second = portal_on(redis_server.url, prefix), portal_on(redis_server.url, prefix)
    assert _ask_code(first.test_client(), "partage@example.org").status_code == 303
    assert _ask_code(second.test_client(), "partage@example.org").status_code == 303
    assert _ask_code(first.test_client(), "partage@example.org").status_code == 429


def test_a_stopped_redis_keeps_pages_up_and_closes_login_codes(portal_on, redis_server):
    application = portal_on(redis_server.url)
    client = application.test_client()
    assert _ask_code(client, "avant@example.org").status_code == 303
    redis_server.stop()
    for page in PUBLIC_PAGES:
        assert client.get(page).status_code == 200, page
    refused = _ask_code(client, "pendant@example.org")
    assert refused.status_code == 503
    html = refused.get_data(as_text=True)
    assert "Connexion par courriel momentanément indisponible" in html and "FranceConnect" in html


def test_an_unreachable_redis_from_the_start_changes_nothing_for_public_pages(portal_on):
    application = portal_on(f"redis://127.0.0.1:{free_port()}/0")
    client = application.test_client()
    for page in PUBLIC_PAGES * 2:
        assert client.get(page).status_code == 200, page
    assert _ask_code(client, "camille@example.org").status_code == 503
