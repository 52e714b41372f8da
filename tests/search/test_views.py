"""The search page (page or htmx fragment) and the search API."""

from __future__ import annotations

import re

import pytest

from tests.conftest import make_app


def test_results_page_works_without_javascript(client):
    page = client.get("/recherche?q=vol+de+papiers")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.startswith("<!doctype html>")
    assert 'value="vol de papiers"' in html
    first = re.search(r'<ol class="portal-results".*?<a href="([^"]+)"', html, re.S).group(1)
    # The link counts the click for the search statistics (search.analytics), then leads to the page.
    assert re.fullmatch(r"/recherche/resultat/[0-9a-f]{32}/1\?vers=vol-papiers-identite", first)
    followed = client.get(first)
    assert followed.status_code == 303 and followed.headers["Location"] == "/demarches/vol-papiers-identite"
    assert re.search(r'id="search-status"[^>]*>\s*[\d\u202f]+ résultats pour « vol de papiers »', html)


def test_htmx_gets_the_fragment_of_the_same_url(client):
    page = client.get("/recherche?q=arnaque+leboncoin")
    fragment = client.get("/recherche?q=arnaque+leboncoin", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "<header" not in html
    assert 'href="/demarches/thesee"' in html
    # The live region keeps its place in the page; the fragment only refills it.
    assert 'id="search-status"' in html and 'hx-swap-oob="innerHTML"' in html
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]


def test_boosted_and_history_requests_get_the_full_page(client):
    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        html = client.get("/recherche?q=vol", headers={"HX-Request": "true", header: "true"}).get_data(as_text=True)
        assert html.startswith("<!doctype html>")


def test_the_search_box_enhances_a_real_form(client):
    html = client.get("/recherche").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="search-form"[^>]*>', html).group(0)
    assert 'action="/recherche"' in form and 'method="get"' in form
    field = re.search(r'<input[^>]*id="search-input"[^>]*>', html, re.S).group(0)
    assert 'hx-get="/recherche"' in field and 'hx-replace-url="true"' in field
    assert 'delay:300ms' in field and 'name="q"' in field
    assert '<label class="fr-label" for="search-input">' in html


def test_home_search_previews_without_changing_the_address(client):
    html = client.get("/").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="search-input"[^>]*>', html, re.S).group(0)
    assert 'hx-get="/recherche?apercu=1"' in field and "hx-replace-url" not in field
    preview = client.get("/recherche?apercu=1&q=vol", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert preview.count("<li>") == 5
    assert "Voir les" in preview and 'href="/recherche?q=vol"' in preview


def test_no_result_offers_a_correction_life_events_and_help(client):
    html = client.get("/recherche?q=usurpassion+xqzwkj").get_data(as_text=True)
    assert "Vouliez-vous dire" in html
    html = client.get("/recherche?q=xqzwkj").get_data(as_text=True)
    assert "Aucun résultat pour « xqzwkj »" in html
    assert 'href="/situations/vol-cambriolage"' in html
    assert 'href="tel:17"' in html and 'href="sms:114"' in html and 'href="/demarches/tchat-police"' in html


def test_spelling_mistakes_are_corrected(client):
    body = client.get("/api/v1/search?q=comissariat+le+plus+proche").get_json()
    assert body["results"][0]["slug"] == "trouver-commissariat"
    body = client.get("/api/v1/search?q=usurpassion+d+identite").get_json()
    assert body["suggestion"] == "usurpation identite"


def test_pagination(client):
    first = client.get("/recherche?q=carte").get_data(as_text=True)
    second = client.get("/recherche?q=carte&page=2").get_data(as_text=True)
    assert 'aria-current="page" title="Page 1"' in first
    # The next pages carry the search's token: their clicks count for it, and no new search is counted.
    assert re.search(r'href="/recherche\?q=carte&amp;page=2&amp;recherche=[0-9a-f]{32}"', first)
    assert '<ol class="portal-results" start="11">' in second
    assert "(page 2)" in second
    assert client.get("/recherche?q=carte&page=0").status_code == 400
    assert client.get("/recherche?q=carte&page=101").status_code == 400
    assert client.get("/recherche?q=carte&page=²").status_code == 400


def test_api_contract(client):
    body = client.get("/api/v1/search?q=arnaque+leboncoin&limit=3").get_json()
    assert set(body) == {"query", "total", "offset", "limit", "results", "suggestion", "next"}
    assert body["query"] == "arnaque leboncoin" and body["total"] > 3 and len(body["results"]) == 3
    assert (body["offset"], body["limit"]) == (0, 3)
    assert body["next"] == "/api/v1/search?q=arnaque+leboncoin&limit=3&offset=3"
    first = body["results"][0]
    assert set(first) == {"slug", "title", "summary", "url", "kind"}
    assert first["slug"] == "thesee" and first["kind"] == "procedure"
    assert first["url"] == "http://localhost/demarches/thesee"
    assert body["suggestion"] is None


def test_api_errors_are_french_json(client):
    for url in ("/api/v1/search", "/api/v1/search?q=", "/api/v1/search?q=vol&limit=0",
                "/api/v1/search?q=vol&limit=51", "/api/v1/search?q=vol&limit=dix",
                "/api/v1/search?q=vol&limit=³"):
        response = client.get(url)
        assert response.status_code == 400
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["detail"].startswith("Le paramètre")


@pytest.mark.parametrize("offset", ["-1", "trois", "³", "1.5", "1001", "99999999", " 3"])
def test_api_offset_must_be_a_bounded_integer(client, offset):
    response = client.get("/api/v1/search", query_string={"q": "vol", "offset": offset})
    assert response.status_code == 400
    assert response.get_json()["detail"] == "Le paramètre offset doit être un nombre entier entre 0 et 1000."


def test_api_pages_through_every_result_exactly_once(client):
    query, limit = "plainte", 20
    whole = client.get("/api/v1/search", query_string={"q": query, "limit": 50}).get_json()
    assert 2 * limit < whole["total"] <= 1000  # several pages, all reachable
    seen, totals, url, pages = [], set(), f"/api/v1/search?q={query}&limit={limit}", 0
    while url:
        body = client.get(url).get_json()
        assert body["offset"] == pages * limit and body["limit"] == limit
        assert len(body["results"]) == min(limit, body["total"] - body["offset"])
        seen += [r["slug"] for r in body["results"]]
        totals.add(body["total"])
        url, pages = body["next"], pages + 1
    assert totals == {whole["total"]}
    assert len(seen) == len(set(seen)) == whole["total"], "a result was repeated or missed"
    assert seen[:50] == [r["slug"] for r in whole["results"]]
    assert pages == -(-whole["total"] // limit)


def test_api_offset_past_the_end_is_an_empty_page(client):
    total = client.get("/api/v1/search?q=plainte").get_json()["total"]
    body = client.get("/api/v1/search", query_string={"q": "plainte", "offset": total}).get_json()
    assert body["results"] == [] and body["total"] == total and body["next"] is None


def test_search_is_rate_limited(tmp_path):
    limited = make_app(tmp_path, SEARCH_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    codes = [client.get("/api/v1/search?q=vol").status_code for _ in range(3)]
    blocked = client.get("/api/v1/search?q=vol")
    assert blocked.status_code == 429
    assert "trop de demandes" in blocked.get_json()["detail"]
    assert "Retry-After" in blocked.headers
    page = client.get("/recherche?q=vol")
    assert page.status_code == 429 and "Patientez une minute" in page.get_data(as_text=True)
    assert all(code != 429 for code in codes)


def test_a_missing_index_gives_a_french_503_and_the_rest_of_the_portal_works(tmp_path):
    broken = make_app(tmp_path, SEARCH_INDEX_DIR=str(tmp_path / "nothing"))
    client = broken.test_client()
    page = client.get("/recherche?q=vol")
    assert page.status_code == 503
    assert "La recherche est momentanément indisponible" in page.get_data(as_text=True)
    assert client.get("/api/v1/search?q=vol").status_code == 503
