"""The finder, a unit's page, a département's page: what a citizen sees, with and without JavaScript."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from maps.models import Station

TILE_ORIGIN = "https://tile.openstreetmap.org"


def _page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response, response.get_data(as_text=True)


def _results(html):
    return re.findall(r'<h3 class="fr-h6 fr-mb-1v"><a href="/commissariats/([^"]+)">', html)


def test_the_finder_works_as_a_plain_form(client):
    response, html = _page(client, "/commissariats")
    form = re.search(r'<form action="/commissariats" method="get"[^>]*>', html)
    assert form
    assert '<label class="fr-label" for="finder-q">Code postal, commune ou position' in html
    # "Autour de moi" needs JavaScript: hidden until it runs, and geolocation allowed only here.
    assert re.search(r'<li data-needs-js><button[^>]*data-locate', html)
    assert "geolocation=(self)" in response.headers["Permissions-Policy"]
    assert 'href="/commissariats/departement/72">Sarthe (72)</a>' in html
    assert "folium-map" not in html and "leaflet" not in html  # no map before a search


def test_results_by_postcode_list_the_nearest_with_everything_needed(client):
    response, html = _page(client, "/commissariats?q=72000")
    assert "<title>Commissariats et brigades près de 72000 Le Mans" in html
    assert "Les 10 unités les plus proches de 72000 Le Mans" in html
    assert _results(html)[0] == "commissariat_police-72181-01"
    first = html[html.index('<li class="portal-station">'):]
    first = first[:first.index("</li>")]
    assert "Commissariat de police du Mans" in first and "à 1,4 km" in first
    assert "19 Boulevard Paixhans<br>72000 Le Mans" in first
    assert '<a href="tel:0255462000">02 55 46 20 00</a>' in first
    assert "Horaires non communiqués" in first and 'href="https://lannuaire.service-public.fr/' in first
    # The map, with the same units, after the list; its tiles are the one other origin allowed.
    assert html.index('class="portal-results"') < html.index('class="folium-map')
    assert "Tout ce que montre la carte est aussi écrit dans la page." in html
    csp = response.headers["Content-Security-Policy"]
    assert f"img-src 'self' data: {TILE_ORIGIN}" in csp
    assert "script-src 'self' 'nonce-" in csp and TILE_ORIGIN not in csp.split("img-src")[0]


def test_only_map_pages_may_load_tiles_and_only_the_finder_locates(client):
    home = client.get("/")
    assert TILE_ORIGIN not in home.headers["Content-Security-Policy"]
    assert "geolocation=()" in home.headers["Permissions-Policy"]
    unit = client.get("/commissariats/commissariat_police-72181-01")
    assert TILE_ORIGIN in unit.headers["Content-Security-Policy"]
    assert "geolocation=()" in unit.headers["Permissions-Policy"]


def test_tiles_come_from_configuration(app, client, monkeypatch):
    ign = ("https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
           "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&FORMAT=image/png"
           "&TILEMATRIXSET=PM&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}")
    monkeypatch.setitem(app.config, "MAP_TILES_URL", ign)
    monkeypatch.setitem(app.config, "MAP_TILES_ATTRIBUTION", "IGN-F / Géoplateforme")
    response, html = _page(client, "/commissariats?q=72000")
    assert "img-src 'self' data: https://data.geopf.fr;" in response.headers["Content-Security-Policy"]
    assert '"https://data.geopf.fr/wmts?SERVICE=WMTS\\u0026REQUEST=GetTile' in html
    assert '"attribution": "IGN-F / G\\u00e9oplateforme"' in html
    assert "openstreetmap" not in html


def test_the_type_and_open_now_filters(client):
    _, html = _page(client, "/commissariats?q=72000&type=gendarmerie")
    assert _results(html) and all(r.startswith("gendarmerie-") for r in _results(html))
    assert 'id="type-gendarmerie" name="type" value="gendarmerie" checked' in html
    _, html = _page(client, "/commissariats?q=72000&ouvert=1")
    assert _results(html) == []  # no official hours near Le Mans: none can be said open
    assert "aucune à moins de 50 km ne peut être dite ouverte maintenant" in html


def test_a_town_with_homonyms_offers_the_others(client):
    _, html = _page(client, "/commissariats?q=Saint-Denis")
    assert "Vous cherchiez peut-être" in html
    assert 'href="/commissariats?q=Saint-Denis+93">Saint-Denis (93)</a>' in html


def test_an_unknown_place_says_so_with_suggestions(client):
    _, html = _page(client, "/commissariats?q=Lemanss", 404)
    assert "Aucune commune ne s&#39;appelle « Lemanss »." in html
    assert 'href="/commissariats?q=Le+Mans+72">Le Mans (72)</a>' in html


def test_a_malformed_query_is_a_400_page_in_french(client):
    _, html = _page(client, "/commissariats?q=95,2", 400)
    assert "Ces coordonnées sont hors des limites" in html
    _, html = _page(client, "/commissariats?q=72000&type=pompiers", 400)
    assert "Le paramètre type doit être" in html


def test_a_department_number_or_name_leads_to_its_page(client):
    response = client.get("/commissariats?q=72")
    assert (response.status_code, response.headers["Location"]) == (302, "/commissariats/departement/72")
    response = client.get("/commissariats?q=Sarthe")
    assert (response.status_code, response.headers["Location"]) == (302, "/commissariats/departement/72")
    # From the search's "gendarmerie sarthe": the département's brigades only.
    response = client.get("/commissariats?q=72&type=gendarmerie")
    assert response.headers["Location"] == "/commissariats/departement/72?type=gendarmerie"
    _, html = _page(client, response.headers["Location"])
    assert _results(html) and all(r.startswith("gendarmerie-") for r in _results(html))
    assert f"{len(_results(html))} brigades de gendarmerie accueillent le public" in html
    assert 'href="/commissariats/departement/72">Voir toutes les unités</a>' in html
    _page(client, "/commissariats/departement/72?type=pompiers", status=400)


def test_a_commune_without_position_lists_its_department(client):
    _, html = _page(client, "/commissariats?q=Pia")
    assert "Unités du département Pyrénées-Orientales (66)" in html
    assert "La position de Pia (66) ne figure pas dans les données des communes" in html
    assert len(_results(html)) == 33


def test_an_estimated_position_is_said_and_a_wrong_one_never_used(client):
    # The source puts the town hall of Jouy-lès-Reims in the Pyrenees: the list is around Reims, and says why.
    _, html = _page(client, "/commissariats?q=Jouy-lès-Reims")
    assert "Position estimée : le centre des communes de même code postal" in html
    assert "Les distances sont approximatives." in html
    assert all(unit.split("-")[-2][:2] == "51" for unit in _results(html)[:3])
    # Morières-lès-Avignon: nothing to estimate from, so its department, without distances.
    _, html = _page(client, "/commissariats?q=Morières-lès-Avignon")
    assert "Le point de la mairie donné par la source est erroné" in html
    assert "Unités du département Vaucluse (84)" in html


def test_a_place_without_any_unit_says_so(client):
    _, html = _page(client, "/commissariats?q=98799")
    assert "Aucune unité de ce département ne figure dans l'annuaire." in html


def test_commune_suggestions_page_and_htmx_fragment(client):
    _, html = _page(client, "/commissariats/communes?q=le+ma")
    assert html.startswith("<!doctype html>")
    assert '<a href="/commissariats?q=Le+Mans+72">Le Mans (72)</a>' in html
    fragment = client.get("/commissariats/communes?q=le+ma", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and '<a href="/commissariats?q=Le+Mans+72">Le Mans (72)</a>' in body
    assert re.search(r'id="commune-status"[^>]*hx-swap-oob="innerHTML">8 communes proposées<', body)
    assert "HX-Request" in fragment.headers["Vary"]


def test_the_box_asks_htmx_for_suggestions_as_you_type(client):
    _, html = _page(client, "/commissariats")
    field = re.search(r'<input class="fr-input" id="finder-q"[^>]*>', html, re.S).group(0)
    assert 'hx-get="/commissariats/communes"' in field and 'hx-target="#commune-suggestions"' in field
    assert 'autocomplete="off"' in field and 'aria-describedby="commune-status"' in field


def test_a_unit_page_with_official_hours(client):
    _, html = _page(client, "/commissariats/gendarmerie-01281-01")
    assert "<h1>Brigade de gendarmerie - Ornex</h1>" in html
    assert '<tr><th scope="row">Dimanche</th><td>9 h – 12 h, 15 h – 18 h</td></tr>' in html
    assert re.search(r"<strong>(Ouvert|Fermé)[^<]*</strong> \(heure locale\)", html)
    assert "Source des horaires : Ministère de l&#39;Intérieur" in html
    assert '<a href="tel:0450405930">04 50 40 59 30</a>' in html
    for slug in ("plainte-en-ligne", "violences-sexuelles", "visio-plainte"):
        assert f'href="/demarches/{slug}"' in html
    assert "Autres unités proches" in html


def test_a_unit_open_on_sunday_says_so_in_the_list(client):
    _, html = _page(client, "/commissariats?q=01210")
    items = {m.group(1): m.group(0) for m in re.finditer(
        r'<a href="/commissariats/([^"]+)">.*?</li>', html, re.S)}
    assert "Ouvert le dimanche" in items["gendarmerie-01281-01"]
    # Units without official hours never claim it.
    assert sum("Ouvert le dimanche" in item for item in items.values()) == 1


def test_a_unit_page_without_hours_links_the_official_directory(client):
    _, html = _page(client, "/commissariats/commissariat_police-72181-01")
    assert "Horaires non communiqués." in html
    assert 'href="https://lannuaire.service-public.fr/pays-de-la-loire/sarthe/commissariat_police-72181-01"' in html


def test_a_misplaced_unit_says_its_position_is_approximate(client):
    _, html = _page(client, "/commissariats/commissariat_police-13117-01")
    assert "Position approximative" in html and "L'adresse ci-dessus fait foi." in html


def test_unknown_unit_and_department_are_404_in_french(client):
    _, html = _page(client, "/commissariats/commissariat_police-00000-01", 404)
    assert 'lang="fr"' in html and "Page introuvable" in html
    _page(client, "/commissariats/departement/ZZ", 404)


def test_a_department_page_lists_all_its_units(client, db_session):
    _, html = _page(client, "/commissariats/departement/72")
    assert "<h1>Commissariats et brigades : Sarthe (72)</h1>" in html
    count = int(re.search(r"<p>(\d+) unités accueillent le public", html).group(1))
    in_data = db_session.scalars(select(Station.id).where(Station.department_code == "72")).all()
    assert count == len(in_data) == 39
    assert sorted(_results(html)) == sorted(in_data)


def test_the_procedure_and_the_search_lead_to_the_finder(client):
    _, html = _page(client, "/demarches/trouver-commissariat")
    assert '<a class="fr-btn fr-btn--lg" href="/commissariats">Trouver l&#39;unité la plus proche</a>' in html
    _, html = _page(client, "/recherche?q=gendarmerie+72000")
    assert 'href="/commissariats?q=72000&amp;type=gendarmerie">Brigades de gendarmerie près de 72000 Le Mans' in html
    _, html = _page(client, "/recherche?q=commissariat+lyon")
    assert 'href="/commissariats?q=lyon&amp;type=police">Commissariats près de Lyon (69)' in html


@pytest.fixture
def hostile_unit(db_session, live_finder):
    unit = db_session.get(Station, "commissariat_police-72181-01")
    unit.name = "</script><script>alert(1)</script>${alert(2)}`);alert(3);//"
    unit.address = '<img src=x onerror="alert(4)">'
    unit.updated_at = datetime.now(UTC) + timedelta(days=1)
    db_session.commit()  # into the test's transaction, rolled back after it
    return unit


def test_hostile_names_are_text_in_every_page(client, hostile_unit):
    for url in ("/commissariats?q=72000", f"/commissariats/{hostile_unit.id}", "/commissariats/departement/72"):
        _, html = _page(client, url)
        assert "<script>alert(1)" not in html and "<img src=x" not in html, url
        assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
        # In the map's data: JSON with < and > escaped, so "</script>" cannot close the script.
        assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in html, url


def test_the_sources_page_cites_the_station_data(client):
    _, html = _page(client, "/sources")
    assert "606 commissariats et 3\u202f074 brigades de gendarmerie" in html
    assert "43 unités ont dans la source des coordonnées douteuses" in html
    assert "Pour 87 communes, ce point est faux dans la source" in html
    assert "1 unité en a aujourd'hui" in html
    assert "35\u202f014 communes" in html
