"""CORS for registered mairies only, ETag and 304, Cache-Control: what a client and its browser see."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete

from portal.extensions import db
from widgets import registry
from widgets.models import Mairie, MairieOrigin

COMMUNE = "44109"  # Nantes
ORIGIN = "https://www.nantes-api-test.fr"
INACTIVE_COMMUNE = "35238"  # Rennes
INACTIVE_ORIGIN = "https://www.rennes-api-test.fr"
CATALOGUE = ("/api/v1/procedures", "/api/v1/procedures/plainte-en-ligne", "/api/v1/life-events",
             "/api/v1/life-events/vol-cambriolage", "/api/v1/communes?q=nantes", "/api/v1/communes/44109",
             "/api/v1/openapi.json")
PERSONAL = ("/api/v1/search?q=vol", "/api/v1/stations/nearest?q=72000", "/api/v1/stations/nearest?commune=72181")


@contextmanager
def registered(app, code: str, origin: str, active: bool = True):
    """A mairie and its origin, committed for the block, deleted after it (the registry forgets both)."""
    with app.app_context():
        now = datetime.now(UTC)
        mairie = Mairie(code_insee=code, name=f"Mairie {code}", contact="", active=active, created_at=now,
                        updated_at=now, origins=[MairieOrigin(origin=origin)])
        db.session.add(mairie)
        db.session.commit()
        mairie_id = mairie.id
        registry.invalidate()
    try:
        yield
    finally:
        with app.app_context():
            db.session.execute(delete(MairieOrigin).where(MairieOrigin.mairie_id == mairie_id))
            db.session.execute(delete(Mairie).where(Mairie.id == mairie_id))
            db.session.commit()
            registry.invalidate()


@pytest.fixture
def mairies(app):
    with registered(app, COMMUNE, ORIGIN), registered(app, INACTIVE_COMMUNE, INACTIVE_ORIGIN, active=False):
        yield


@pytest.mark.parametrize("url", [*CATALOGUE, *PERSONAL, "/api/v1/procedures/n-existe-pas", "/api/v1/inconnu"])
def test_a_registered_origin_is_echoed_without_credentials(client, mairies, url):
    response = client.get(url, headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response.vary
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("origin", [None, "null", "https://evil.example", INACTIVE_ORIGIN, ORIGIN + ":8443",
                                    ORIGIN.replace("https", "http"), ORIGIN + "/", ORIGIN.upper(), "*"])
def test_no_other_origin_is_ever_allowed(client, mairies, origin):
    headers = {"Origin": origin} if origin else {}
    for url in ("/api/v1/search?q=vol", "/api/v1/procedures", "/api/v1/inconnu"):
        response = client.get(url, headers=headers)
        assert "Access-Control-Allow-Origin" not in response.headers, (url, origin)
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert "Origin" in response.vary


def test_a_withdrawn_registration_stops_cors_at_once_in_this_process(app, client):
    with registered(app, COMMUNE, ORIGIN):
        assert client.get("/api/v1/life-events", headers={"Origin": ORIGIN}).headers.get(
            "Access-Control-Allow-Origin") == ORIGIN
    assert "Access-Control-Allow-Origin" not in client.get("/api/v1/life-events", headers={"Origin": ORIGIN}).headers


def test_preflight_allows_get_only_to_a_registered_origin(client, mairies):
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "if-none-match"}
    response = client.options("/api/v1/search", headers=preflight)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Methods"] == "GET"
    assert response.headers["Access-Control-Allow-Headers"] == "If-None-Match"
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response.headers
    refused = client.options("/api/v1/search", headers={**preflight, "Origin": "https://evil.example"})
    assert not any(h.startswith("Access-Control-") for h in refused.headers.keys())


def test_the_portal_pages_never_answer_cors(client, mairies):
    for url in ("/", "/developpeurs/api", "/recherche?q=vol"):
        assert "Access-Control-Allow-Origin" not in client.get(url, headers={"Origin": ORIGIN}).headers


@pytest.mark.parametrize("url", CATALOGUE)
def test_public_data_is_cached_by_anyone_five_minutes_and_revalidated(client, url):
    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=300"
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"autre"'}).status_code == 200


@pytest.mark.parametrize("url", PERSONAL)
def test_what_says_something_about_a_person_is_kept_by_their_browser_only(client, url):
    first = client.get(url)
    assert first.headers["Cache-Control"] == "private, max-age=60"
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_the_etag_is_the_content_and_a_gzip_answer_has_its_own(client):
    plain = client.get("/api/v1/procedures")
    gzipped = client.get("/api/v1/procedures", headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert plain.headers["ETag"] != gzipped.headers["ETag"]
    assert client.get("/api/v1/procedures").headers["ETag"] == plain.headers["ETag"]
    assert client.get("/api/v1/procedures?page=2").headers["ETag"] != plain.headers["ETag"]
    again = client.get("/api/v1/procedures",
                       headers={"Accept-Encoding": "gzip", "If-None-Match": gzipped.headers["ETag"]})
    assert again.status_code == 304


def test_errors_are_never_kept(client):
    for url in ("/api/v1/search", "/api/v1/procedures/n-existe-pas", "/api/v1/inconnu"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
