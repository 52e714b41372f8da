"""The folium map: self-hosted, under the page's nonce, and inert whatever a station is called."""

from __future__ import annotations

import re

import pytest

from maps.mapping import MapMarker, MapTiles, build_map, render, template_literal_text

TILES = MapTiles("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap", 19)
HOSTILE = ["${alert(1)}", "`);alert(1);//", "</script><script>alert(1)</script>", "\\`${document.cookie}"]


@pytest.fixture
def rendered(app):
    with app.test_request_context():
        markers = [MapMarker(45.0 + i / 100, 4.8, name, f"/commissariats/x-{i}", (name, "69000 Lyon", "04"))
                   for i, name in enumerate(HOSTILE)]
        return render(build_map(TILES, markers, origin=(45.0, 4.8, HOSTILE[1])), "n0nce")


def test_the_map_script_runs_under_the_nonce_and_closes_only_once(rendered):
    script = str(rendered.script)
    assert script.startswith('<script nonce="n0nce">')
    assert script.count("</script") == 1 and script.endswith("</script>")
    assert "<script" not in script[len('<script nonce="n0nce">'):]


def test_station_names_reach_the_script_as_json_data_only(rendered):
    script = str(rendered.script)
    # Data rows: JSON with <, > and ' escaped, never spliced into HTML or a template literal.
    assert '"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"' in script
    assert '"${alert(1)}"' in script
    # The only template literal is folium's tooltip, and it holds no live ${ or backtick.
    code = re.sub(r"var data = \[.*?\];\n", "", script, flags=re.S)
    assert "alert" not in code.replace("&#96;);alert(1);//", "")
    # Popups are built with textContent, not innerHTML.
    assert "textContent" in script and "innerHTML" not in script and ".html(" not in script


def test_the_origin_tooltip_is_escaped_for_its_template_literal(rendered):
    tooltip = re.search(r"bindTooltip\(\s*`(.*?)`", str(rendered.script), re.S).group(1)
    assert "&#96;);alert(1);//" in tooltip


@pytest.mark.parametrize("text, expected", [
    ("${alert(1)}", "&#36;{alert(1)}"),
    ("`);alert(1);//", "&#96;);alert(1);//"),
    ("</script>", "&lt;/script&gt;"),
    ("a\\`b", "a&#92;&#96;b"),
    ("Saint-Étienne (42)", "Saint-Étienne (42)"),
])
def test_template_literal_text(text, expected):
    assert template_literal_text(text) == expected


def test_no_asset_comes_from_a_cdn(rendered):
    assert all(path.startswith("vendor/") for path in rendered.css + rendered.js)
    everything = str(rendered.html) + str(rendered.script)
    for cdn in ("cdn.jsdelivr", "cdnjs", "unpkg", "bootstrap", "font-awesome", "jquery", "code.jquery"):
        assert cdn not in everything.lower()
    # The only other origin named is the configured tile server.
    hosts = set(re.findall(r"https?://([^/\"'\s{]+)", everything))
    assert hosts == {"tile.openstreetmap.org"}


def test_marker_images_are_self_hosted(rendered):
    images = re.findall(r'"(?:iconUrl|iconRetinaUrl|shadowUrl)": "([^"]+)"', str(rendered.script))
    assert len(images) == 3 and all(url.startswith("/assets/vendor/leaflet/images/") for url in images)


def test_an_external_asset_is_refused(app):
    from folium.plugins import Fullscreen

    with app.test_request_context():
        m = build_map(TILES, [])
        Fullscreen().add_to(m)  # its script comes from a CDN
        with pytest.raises(RuntimeError, match="external asset"):
            render(m, "n0nce")
