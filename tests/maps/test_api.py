"""GET /api/v1/stations/nearest: the contract the widgets and outside checks rely on."""

from __future__ import annotations

import pytest


def test_nearest_by_postcode(client):
    response = client.get("/api/v1/stations/nearest?q=72000&limit=3")
    assert response.status_code == 200
    body = response.get_json()
    assert body["origin"] == {"label": "72000 Le Mans", "lat": pytest.approx(48.00738), "lon": pytest.approx(0.196754),
                              "alternatives": []}
    first = body["stations"][0]
    assert set(first) >= {"id", "name", "type", "address", "postcode", "commune", "phone", "lat", "lon",
                          "distance_km", "open_now", "hours"}
    assert (first["id"], first["type"], first["commune"], first["distance_km"]) == (
        "commissariat_police-72181-01", "police", "Le Mans", 1.42)
    assert (first["open_now"], first["hours"]) == (None, None)  # no official hours for it: unknown, not closed
    assert first["url"].endswith("/commissariats/commissariat_police-72181-01")
    distances = [s["distance_km"] for s in body["stations"]]
    assert len(distances) == 3 and distances == sorted(distances)


@pytest.mark.parametrize("q", ["le mans", "Le Mans", "LE-MANS", "48.0074,0.1968", "48.0074, 0.1968"])
def test_nearest_by_town_or_position(client, q):
    body = client.get("/api/v1/stations/nearest", query_string={"q": q}).get_json()
    assert body["stations"][0]["id"] == "commissariat_police-72181-01"
    assert len(body["stations"]) == 10


def test_type_filter(client):
    body = client.get("/api/v1/stations/nearest?q=72000&type=gendarmerie&limit=5").get_json()
    assert [s["type"] for s in body["stations"]] == ["gendarmerie"] * 5


def test_official_hours_are_structured(client):
    body = client.get("/api/v1/stations/nearest?q=01210&limit=1").get_json()
    ornex = body["stations"][0]
    assert ornex["id"] == "gendarmerie-01281-01"
    assert ornex["open_now"] in (True, False)
    assert ornex["hours"]["weekly"][6] == {"day": "Dimanche", "hours": "9 h – 12 h, 15 h – 18 h"}
    assert ornex["hours"]["status"].startswith(("Ouvert", "Fermé"))
    assert ornex["hours"]["open_on_sunday"] is True
    assert "Ministère de l'Intérieur" in ornex["hours"]["source"]


def test_homonyms_are_listed(client):
    body = client.get("/api/v1/stations/nearest?q=Saint-Denis&limit=1").get_json()
    assert {"label": "Saint-Denis (93)", "q": "Saint-Denis 93"} in body["origin"]["alternatives"]


def test_a_commune_without_position_gives_its_department_without_distances(client):
    body = client.get("/api/v1/stations/nearest?q=66380&limit=50").get_json()
    assert (body["origin"]["lat"], body["origin"]["lon"]) == (None, None)
    assert len(body["stations"]) == 33
    assert {s["distance_km"] for s in body["stations"]} == {None}


def test_an_unknown_place_is_a_404_with_suggestions(client):
    response = client.get("/api/v1/stations/nearest?q=Lemanss")
    assert response.status_code == 404
    body = response.get_json()
    assert body["detail"] == "Aucune commune ne s'appelle « Lemanss »."
    assert {"label": "Le Mans (72)", "q": "Le Mans 72"} in body["suggestions"]


@pytest.mark.parametrize("query, message", [
    ("", "Le paramètre q (code postal, commune ou « lat,lon ») ou le paramètre commune (code INSEE) est obligatoire."),
    ("q=72000&limit=0", "Le paramètre limit doit être un nombre entier entre 1 et 50."),
    ("q=72000&limit=51", "Le paramètre limit doit être un nombre entier entre 1 et 50."),
    ("q=72000&limit=abc", "Le paramètre limit doit être un nombre entier entre 1 et 50."),
    ("q=72000&limit=%D9%A3", "Le paramètre limit doit être un nombre entier entre 1 et 50."),
    ("q=72000&type=pompiers", "Le paramètre type doit être « police » ou « gendarmerie »."),
    ("q=95,2", "Ces coordonnées sont hors des limites (latitude, longitude)."),
    ("q=---", "Indiquez un code postal, une commune ou une position."),
])
def test_malformed_requests_are_400_in_french(client, query, message):
    response = client.get(f"/api/v1/stations/nearest?{query}")
    assert response.status_code == 400
    assert response.get_json()["detail"] == message


def test_a_department_number_is_not_a_place(client):
    response = client.get("/api/v1/stations/nearest?q=72")
    assert response.status_code == 400
    assert "numéro de département" in response.get_json()["detail"]


def test_hostile_input_is_never_a_500(client):
    for q in ["%00", "\x00", "' OR 1=1 --", "a" * 5000, "1e308,1e308", "nan,nan", "٧٢٠٠٠", "\u200b"]:
        response = client.get("/api/v1/stations/nearest", query_string={"q": q})
        assert response.status_code in (400, 404), q
        assert response.is_json


def test_invisible_characters_are_ignored(client):
    body = client.get("/api/v1/stations/nearest", query_string={"q": "\u202e72000\u200b"}).get_json()
    assert body["origin"]["label"] == "72000 Le Mans"


def test_the_finder_is_rate_limited_as_one_budget(tmp_path):
    from tests.conftest import make_app

    client = make_app(tmp_path, FINDER_RATE_LIMIT="3 per minute").test_client()
    codes = [client.get(url).status_code for url in
             ("/api/v1/stations/nearest?q=72000", "/commissariats/communes?q=le", "/commissariats")]
    assert 429 not in codes
    blocked = client.get("/api/v1/stations/nearest?q=72000")
    assert blocked.status_code == 429 and "trop de demandes" in blocked.get_json()["detail"]
    assert client.get("/commissariats?q=72000").status_code == 429


def test_paris_16e_finds_paris_not_a_brigade_of_the_dordogne(client):
    # The source placed Thenon's town hall in Paris 16e; its brigade was put there with it.
    data = client.get("/api/v1/stations/nearest?q=75016&limit=10").get_json()
    assert {s["postcode"][:2] for s in data["stations"]} <= {"75", "92"}
    thenon = client.get("/api/v1/stations/nearest?q=Thenon&limit=1").get_json()
    assert thenon["stations"][0]["id"] == "gendarmerie-24550-01"
    assert thenon["origin"]["note"].startswith("Position estimée : celle de l'unité")
