"""The station map: folium builds it, on self-hosted Leaflet, under the page's CSP nonce.

folium's default assets come from five CDNs (Leaflet, jQuery, Bootstrap, Font
Awesome, awesome-markers); here Leaflet and Leaflet.markercluster come from
``static/vendor`` and the rest is not loaded at all. folium renders a whole
HTML document; the page takes only its map ``<div>`` and its script, and
loads the libraries itself, so that every script carries the nonce.

Nothing a data file or a visitor wrote is turned into HTML: marker popups are
built in the browser with ``textContent`` from JSON data, and the one
tooltip folium renders goes through ``template_literal_text`` (folium puts
it in a JavaScript template literal, where ``${…}`` and a backtick would run).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import folium
from folium.plugins import FastMarkerCluster
from markupsafe import Markup, escape

from portal.assets import asset_url

MAP_CSS = ("vendor/leaflet/leaflet.css", "vendor/markercluster/markercluster.css")
MAP_ELEMENT = re.compile(r'<div class="folium-map" id="map_[0-9a-f]+" ></div>')
MAP_JS = ("vendor/leaflet/leaflet.js", "vendor/markercluster/leaflet.markercluster.js")

# Builds each marker and its popup from a data row, with DOM methods only.
MARKER_CALLBACK = """function (row) {
    var marker = L.marker([row[0], row[1]], {title: row[2], alt: row[2], keyboard: true});
    var box = document.createElement("div");
    var title = document.createElement("p");
    var link = document.createElement("a");
    link.href = row[3];
    link.textContent = row[2];
    title.className = "fr-text--bold fr-mb-1v";
    title.appendChild(link);
    box.appendChild(title);
    [row[4], row[5], row[6]].forEach(function (text) {
        if (!text) { return; }
        var line = document.createElement("p");
        line.className = "fr-text--sm fr-mb-1v";
        line.textContent = text;
        box.appendChild(line);
    });
    marker.bindPopup(box);
    return marker;
}"""


@dataclass(frozen=True)
class MapTiles:
    url: str
    attribution: str
    max_zoom: int = 18


@dataclass(frozen=True)
class MapMarker:
    latitude: float
    longitude: float
    title: str
    url: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class RenderedMap:
    html: Markup
    script: Markup
    css: tuple[str, ...]  # asset paths, for asset_url and asset_integrity
    js: tuple[str, ...]


def template_literal_text(text: str) -> str:
    """Text safe inside an HTML string that folium places in a JavaScript template literal.

    HTML-escape first, then turn the three characters a template literal
    interprets (backslash, backtick, dollar) into HTML entities.
    """
    return str(escape(text)).replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def _icon_options() -> str:
    return json.dumps({
        "iconUrl": asset_url("vendor/leaflet/images/marker-icon.png"),
        "iconRetinaUrl": asset_url("vendor/leaflet/images/marker-icon-2x.png"),
        "shadowUrl": asset_url("vendor/leaflet/images/marker-shadow.png"),
        "iconSize": [25, 41], "iconAnchor": [12, 41], "popupAnchor": [1, -34], "shadowSize": [41, 41],
    })


def _self_hosted(element) -> None:
    """No CDN: folium's defaults replaced by the vendored files, the rest dropped."""
    element.default_js = []
    element.default_css = []


def build_map(tiles: MapTiles, markers: list[MapMarker], center: tuple[float, float] | None = None,
              zoom: int = 12, origin: tuple[float, float, str] | None = None) -> folium.Map:
    m = folium.Map(location=center or (46.6, 2.4), zoom_start=zoom, tiles=None, control_scale=True)
    _self_hosted(m)
    folium.TileLayer(tiles=tiles.url, attr=tiles.attribution, max_zoom=tiles.max_zoom,
                     name="Fond de carte").add_to(m)
    data = [[mk.latitude, mk.longitude, mk.title, mk.url, *mk.lines[:3]] for mk in markers]
    cluster = FastMarkerCluster(data, callback=MARKER_CALLBACK, name="Commissariats et brigades")
    _self_hosted(cluster)
    cluster.add_to(m)
    if origin is not None:
        lat, lon, label = origin
        icon = folium.DivIcon(html='<span class="portal-origin-marker"></span>', icon_size=(20, 20),
                              icon_anchor=(10, 10), class_name="portal-origin")
        folium.Marker([lat, lon], icon=icon, tooltip=folium.Tooltip(template_literal_text(label)),
                      keyboard=True, title="Lieu recherché").add_to(m)
    if markers and center is None:
        lats = [mk.latitude for mk in markers]
        lons = [mk.longitude for mk in markers]
        m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(24, 24))
    return m


def render(m: folium.Map, nonce: str) -> RenderedMap:
    """folium's map element and script, the script under the page's nonce."""
    root = m.get_root()
    root.render()
    html = root.html.render().strip()
    # The body must be folium's bare map element: nothing from the data is ever placed there.
    if not MAP_ELEMENT.fullmatch(html):
        raise RuntimeError("folium's map body is not the bare map element")
    script = root.script.render().strip()
    header = root.header.render()
    # Whatever folium still asks to load must be served here.
    for url in re.findall(r'(?:src|href)="([^"]+)"', header):
        if not url.startswith("/assets/"):
            raise RuntimeError(f"folium asked for an external asset: {url}")
    # Leaflet guesses its marker images' folder from its stylesheet, which fails on
    # fingerprinted names: give it the images' own URLs.
    icons = f"L.Icon.Default.imagePath = ''; L.Icon.Default.mergeOptions({_icon_options()});"
    return RenderedMap(
        html=Markup(html),  # checked above: <div class="folium-map" id="map_…"></div>
        # Data reaches the script only as folium's tojson (< > & escaped) and template_literal_text.
        script=Markup(f'<script nonce="{escape(nonce)}">\n{icons}\n{script}\n</script>'),
        css=MAP_CSS,
        js=MAP_JS,
    )
