"""Static files: fingerprinted names, a year of cache, compression; pages compressed unless they hold a secret."""

from __future__ import annotations

import gzip
import re

from flask_wtf.csrf import generate_csrf

from portal.assets import fingerprint
from portal.config import ROOT
from tests.conftest import make_app


def test_pages_link_fingerprinted_assets_with_integrity(client):
    html = client.get("/").get_data(as_text=True)
    css = re.search(
        r'<link rel="stylesheet" href="(/assets/vendor/dsfr/dsfr\.min\.([0-9a-f]{12})\.css)" '
        r'integrity="(sha384-[^"]+)"', html)
    assert css, "the DSFR stylesheet is linked under a fingerprinted name with SRI"
    data = (ROOT / "static" / "vendor" / "dsfr" / "dsfr.min.css").read_bytes()
    assert css.group(2) == fingerprint(data)
    for script in re.findall(r'<script [^>]*src="([^"]+)"', html):
        assert re.search(r"\.[0-9a-f]{12}\.js$", script)


def test_assets_are_cached_for_a_year_and_compressed(client):
    html = client.get("/").get_data(as_text=True)
    url = re.search(r'href="(/assets/vendor/dsfr/dsfr\.min\.[0-9a-f]{12}\.css)"', html).group(1)
    plain = client.get(url)
    assert plain.status_code == 200 and plain.mimetype == "text/css"
    assert "immutable" in plain.headers["Cache-Control"] and "max-age=31536000" in plain.headers["Cache-Control"]
    compressed = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.data) == plain.data
    assert len(compressed.data) < len(plain.data) / 4
    assert "Accept-Encoding" in compressed.headers["Vary"]
    assert client.get(url, headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304


def test_fonts_and_icons_the_stylesheet_uses_are_served(client):
    html = client.get("/").get_data(as_text=True)
    url = re.search(r'href="(/assets/vendor/dsfr/dsfr\.min\.[0-9a-f]{12}\.css)"', html).group(1)
    css = client.get(url).get_data(as_text=True)
    base = url.rsplit("/", 1)[0]
    refs = set(re.findall(r"url\(((?:fonts|icons)/[^)]+)\)", css))
    assert any(r.endswith(".woff2") for r in refs)
    for ref in list(refs)[:40]:
        response = client.get(f"{base}/{ref}")
        assert response.status_code == 200, ref
        assert "immutable" in response.headers["Cache-Control"]


def test_unknown_or_outdated_asset_names_are_404(client):
    assert client.get("/assets/css/portal.000000000000.css").status_code == 404
    assert client.get("/assets/css/portal.css").status_code == 404
    assert client.get("/static/css/portal.css").status_code == 404


def test_pages_and_json_are_compressed(client):
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert "<!doctype html>" in gzip.decompress(page.data).decode()
    api = client.get("/api/v1/search?q=vol", headers={"Accept-Encoding": "gzip"})
    assert api.headers["Content-Encoding"] == "gzip"


def test_a_page_holding_a_csrf_token_is_never_compressed(tmp_path):
    """BREACH: a compressed page that reflects input and holds a secret leaks the secret."""
    application = make_app(tmp_path)

    @application.get("/_form")
    def form():
        return f"<!doctype html><p>{'x' * 2000}</p><input name=csrf_token value={generate_csrf()}>"

    response = application.test_client().get("/_form", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
