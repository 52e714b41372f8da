"""The API's endpoints on the real catalogue, its problem details and its rate limits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from catalogue.models import LifeEvent, Procedure
from tests.conftest import make_app

PROBLEM = {"type", "title", "status", "detail", "instance"}


def _problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) >= PROBLEM and body["status"] == status
    assert "?" not in body["instance"]  # the query string can say something about a person
    return body


# --- the endpoints ------------------------------------------------------------------------------------------

def test_one_procedure_with_its_life_events_and_related_entries(client):
    body = client.get("/api/v1/procedures/plainte-en-ligne").get_json()
    assert body["slug"] == "plainte-en-ligne" and body["kind"] == "procedure"
    assert body["url"] == "http://localhost/demarches/plainte-en-ligne"
    assert body["text"] and isinstance(body["keywords"], list) and isinstance(body["sensitive"], bool)
    for event in body["life_events"]:
        assert set(event) == {"slug", "title", "url", "api_url"}
        assert event["api_url"] == f"http://localhost/api/v1/life-events/{event['slug']}"
    assert body["life_events"] and all(set(r) == {"slug", "title", "kind", "url", "api_url"} for r in body["related"])


def test_a_fiche_is_an_entry_too(client):
    body = client.get("/api/v1/procedures/F1344").get_json()
    assert body["kind"] == "fiche" and body["url"] == "http://localhost/fiches/F1344"


def test_an_unknown_entry_is_a_404_problem(client):
    body = _problem(client.get("/api/v1/procedures/n-existe-pas?x=1"), 404)
    assert body == {"type": "about:blank", "title": "Ressource introuvable", "status": 404,
                    "detail": "Aucune démarche ni fiche publiée n'a l'identifiant « n-existe-pas ».",
                    "instance": "/api/v1/procedures/n-existe-pas"}


def test_a_retired_procedure_leads_to_its_replacement_or_is_gone(client, db_session):
    def retire(**changes):  # committed in the test's own transaction, rolled back after it
        entry = db_session.scalar(select(Procedure).where(Procedure.slug == "main-courante"))
        for name, value in {"status": "retired", **changes}.items():
            setattr(entry, name, value)
        db_session.commit()

    retire(superseded_by="plainte-en-ligne")
    moved = client.get("/api/v1/procedures/main-courante")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/api/v1/procedures/plainte-en-ligne")
    retire(superseded_by=None, retired_note="La main courante n'existe plus en ligne.")
    body = _problem(client.get("/api/v1/procedures/main-courante"), 410)
    assert body["detail"] == "La main courante n'existe plus en ligne." and body["title"] == "Contenu retiré"


def test_life_events_in_the_portal_order_with_their_procedures(client, db_session):
    body = client.get("/api/v1/life-events").get_json()
    published = db_session.scalars(select(LifeEvent.slug).where(LifeEvent.status == "published")
                                   .order_by(LifeEvent.position)).all()
    assert [e["slug"] for e in body["items"]] == published
    first = body["items"][0]
    assert first["url"] == f"http://localhost/situations/{first['slug']}"
    assert first["procedures"] and all(p["url"].startswith("http://localhost/") for p in first["procedures"])
    one = client.get(f"/api/v1/life-events/{first['slug']}").get_json()
    assert one == first


def test_a_retired_life_event_is_gone_and_an_unknown_one_not_found(client, db_session):
    event = db_session.scalar(select(LifeEvent).where(LifeEvent.slug == "vol-cambriolage"))
    event.status = "retired"
    db_session.commit()
    _problem(client.get("/api/v1/life-events/vol-cambriolage"), 410)
    assert "vol-cambriolage" not in {e["slug"] for e in client.get("/api/v1/life-events").get_json()["items"]}
    _problem(client.get("/api/v1/life-events/n-existe-pas"), 404)


@pytest.mark.parametrize("q, first", [("le mans", "72181"), ("Le-Mans", "72181"), ("72000", "72181"),
                                      ("st etienne", "42218"), ("nantes", "44109")])
def test_communes_by_name_or_postcode(client, q, first):
    body = client.get("/api/v1/communes", query_string={"q": q}).get_json()
    assert body["items"][0]["code_insee"] == first
    assert len(body["items"]) <= 10


def test_a_commune_by_its_insee_code(client):
    body = client.get("/api/v1/communes/72181").get_json()
    assert body["name"] == "Le Mans" and body["department"] == "72" and body["department_name"] == "Sarthe"
    assert "72000" in body["postcodes"] and body["lat"] and body["lon"]
    assert body["api_url"] == "http://localhost/api/v1/communes/72181"
    assert client.get("/api/v1/communes/2A004").get_json()["name"] == "Ajaccio"
    for unknown in ("99999", "7218", "abcde", "72181x"):
        _problem(client.get(f"/api/v1/communes/{unknown}"), 404)


def test_communes_are_a_short_bounded_list(client):
    assert len(client.get("/api/v1/communes?q=saint&limit=20").get_json()["items"]) == 20
    for bad in ("0", "21", "dix"):
        assert "limit" in _problem(client.get(f"/api/v1/communes?q=saint&limit={bad}"), 400)["detail"]
    assert "q" in _problem(client.get("/api/v1/communes?q=+"), 400)["detail"]


def test_nearest_by_insee_code_where_a_postcode_would_be_ambiguous(client):
    by_code = client.get("/api/v1/stations/nearest?commune=72181&limit=3").get_json()
    assert by_code["origin"]["label"] == "Le Mans (72)"
    assert by_code["stations"][0]["id"] == "commissariat_police-72181-01"
    # "72181" as q is a postcode (none such): the commune parameter is what names a commune by its code.
    assert client.get("/api/v1/stations/nearest?q=72181").status_code == 404


@pytest.mark.parametrize("query, status, words", [
    ("q=72000&commune=72181", 400, "pas les deux"),
    ("limit=3", 400, "obligatoire"),
    ("commune=7218", 400, "code INSEE"),
    ("commune=+72181", 400, "code INSEE"),
    ("commune=99999", 404, "99999"),
    ("commune=72181&type=pompiers", 400, "type"),
    ("commune=72181&ouvert=oui", 400, "ouvert"),
])
def test_nearest_takes_exactly_one_place(client, query, status, words):
    assert words in _problem(client.get(f"/api/v1/stations/nearest?{query}"), status)["detail"]


def test_no_such_place_is_a_problem_with_suggestions(client):
    body = _problem(client.get("/api/v1/stations/nearest?q=Lemanss"), 404)
    assert body["type"] == "http://localhost/developpeurs/api#lieu-introuvable"
    assert body["title"] == "Lieu introuvable" and body["instance"] == "/api/v1/stations/nearest"
    assert {"label": "Le Mans (72)", "q": "Le Mans 72"} in body["suggestions"]


def test_the_search_api_records_nothing_for_the_statistics(client, db_session):
    from search.models import SearchEvent

    before = db_session.scalar(select(SearchEvent.id).order_by(SearchEvent.id.desc()).limit(1))
    assert client.get("/api/v1/search?q=vol+de+voiture").status_code == 200
    assert db_session.scalar(select(SearchEvent.id).order_by(SearchEvent.id.desc()).limit(1)) == before


def test_a_search_about_violence_is_kept_by_no_browser_and_tells_no_site_where_it_came_from(client):
    """A mairie's own search box built on the API protects the victim as the portal's results page does."""
    response = client.get("/api/v1/search?q=mon+mari+me+frappe")
    assert response.status_code == 200 and response.get_json()["results"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "ETag" not in response.headers
    neutral = client.get("/api/v1/search?q=objet+trouv%C3%A9")
    assert neutral.headers["Cache-Control"] == "private, max-age=60" and neutral.headers["ETag"]


def test_a_parameter_is_given_once_and_an_empty_number_is_no_number(client):
    for url in ("/api/v1/search?q=vol&q=viol", "/api/v1/procedures?page=1&page=2",
                "/api/v1/stations/nearest?commune=72181&limit=1&limit=2"):
        assert "plusieurs fois" in _problem(client.get(url), 400)["detail"]
    for url in ("/api/v1/procedures?page=", "/api/v1/search?q=vol&limit=", "/api/v1/communes?q=le&limit="):
        assert "nombre entier" in _problem(client.get(url), 400)["detail"]


# --- problem details ----------------------------------------------------------------------------------------

def test_unknown_addresses_and_methods_under_api_are_problems(client):
    assert _problem(client.get("/api/v2/search"), 404)["instance"] == "/api/v2/search"
    _problem(client.get("/api/v1/"), 404)
    body = _problem(client.post("/api/v1/search?q=vol"), 405)
    assert client.delete("/api/v1/procedures").headers["Allow"] == "GET, HEAD, OPTIONS"
    assert "GET" in body["detail"]


def test_pages_keep_their_html_errors_and_healthz_its_json(client):
    page = client.get("/n-existe-pas")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert client.get("/developpeurs/n-existe-pas").mimetype == "text/html"
    assert client.get("/healthz").mimetype == "application/json"


def test_an_unexpected_error_is_a_french_500_problem(client, monkeypatch):
    from api import services

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "life_events", broken)
    body = _problem(client.get("/api/v1/life-events"), 500)
    assert body["title"] == "Erreur du service" and "boom" not in body["detail"]


def test_an_unreadable_index_is_a_503_problem(tmp_path):
    client = make_app(tmp_path, SEARCH_INDEX_DIR=str(tmp_path / "nothing")).test_client()
    body = _problem(client.get("/api/v1/search?q=vol"), 503)
    assert "recherche est momentanément indisponible" in body["detail"]


# --- rate limits --------------------------------------------------------------------------------------------

def test_one_budget_for_the_whole_api_then_429_with_retry_after(tmp_path):
    client = make_app(tmp_path, API_RATE_LIMIT="3 per minute").test_client()
    for url in ("/api/v1/procedures", "/api/v1/life-events", "/api/v1/search?q=vol"):
        assert client.get(url).status_code != 429
    blocked = client.get("/api/v1/communes?q=le")
    body = _problem(blocked, 429)
    assert int(blocked.headers["Retry-After"]) > 0
    assert "trop de demandes" in body["detail"] and "Retry-After" in body["detail"]
    assert client.get("/api/v1/openapi.json").status_code == 429
    assert client.get("/developpeurs/api").status_code == 200  # the portal's pages are not the API's budget
    other = client.get("/api/v1/procedures", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other.status_code == 200  # per client address


def test_the_search_budget_still_counts_inside_the_api(tmp_path):
    client = make_app(tmp_path, SEARCH_RATE_LIMIT="2 per minute").test_client()
    # No index in this empty portal: 503s, which count as the citizens' searches do.
    assert 429 not in [client.get("/api/v1/search?q=vol").status_code for _ in range(2)]
    _problem(client.get("/api/v1/search?q=vol"), 429)
    assert client.get("/api/v1/procedures").status_code == 200
    assert client.get("/recherche?q=vol").status_code == 429  # the same budget as the page
