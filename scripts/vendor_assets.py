#!/usr/bin/env python3
"""Vendor the front-end assets from the npm registry into static/vendor/.

Reproducible: every package is pinned to a version and to the integrity hash
the registry publishes for its tarball; a tarball that does not match is
refused. Only the parts the portal uses are kept (DSFR core, the components
its templates use, the icons they show), and every licence file is copied.

Usage: python scripts/vendor_assets.py [--check]
  --check  exit 1 if static/vendor/ is missing or was made from other pins.
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from portal.assets import fingerprinted_name  # noqa: E402

VENDOR = ROOT / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"

PACKAGES = {
    "@gouvfr/dsfr": {
        "version": "1.15.3",
        "integrity": "sha512-R9AALZc1LfZjtytWZMOaUIOHWTkllBZ/sZlsL8TpKZVgF3qUKXt/uNYh+L1D1Fh4p92ZqWxbtNcebsigBZe5pQ==",
    },
    "htmx.org": {
        "version": "2.0.11",
        "integrity": "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
    },
    # The station map (folium renders Leaflet; folium's CDN defaults are replaced).
    "leaflet": {
        "version": "1.9.4",
        "integrity": "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
    },
    "leaflet.markercluster": {
        "version": "1.5.3",
        "integrity": "sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA==",
    },
}

# DSFR parts bundled into one stylesheet, in cascade order (core first).
DSFR_COMPONENTS = [
    "link", "button", "badge", "tag", "breadcrumb", "callout", "alert", "card", "tile",
    "form", "input", "search", "logo", "skiplink", "navigation", "modal", "header",
    "footer", "pagination", "connect", "radio", "checkbox", "select", "table", "stepper",
]

# The icons the templates and the catalogue use; tests/test_vendor.py checks the list.
DSFR_ICONS = {
    "arrows": ["arrow-right-line", "arrow-left-line", "arrow-right-s-line"],
    "buildings": ["home-4-line", "government-line"],
    "business": ["mail-line", "calendar-line"],
    "design": ["edit-line"],
    "communication": ["chat-3-line", "video-chat-line"],
    "device": ["phone-line", "computer-line"],
    "document": ["article-line", "file-text-line", "clipboard-line"],
    "finance": ["bank-card-line"],
    "map": ["map-pin-2-line", "passport-line"],
    "others": ["scales-3-line"],
    "system": [
        "alert-line", "shield-line", "search-line", "information-line", "warning-line",
        "close-line", "check-line", "time-line", "logout-box-r-line", "question-line",
        "external-link-line", "add-line", "download-line", "delete-bin-line",
    ],
    "user": ["user-line", "account-circle-line"],
    "weather": ["sun-line"],
}

URL_RE = re.compile(r"url\(([^)]+)\)")

# The characters French text needs: Basic Latin, Latin-1, œ/Œ/Ÿ, typographic
# apostrophe, quotes and dashes, ellipsis, (narrow) no-break spaces, euro sign,
# arrows. Marianne ships 598 glyphs and many optional features; keeping these
# characters and the default features cuts each font from 58 to 22 KB.
# Anything else a visitor types falls back to the next font of DSFR's stack.
FONT_UNICODES = (
    "U+0020-007E,U+00A0-00FF,U+0152-0153,U+0178,U+02BC,U+02C6,U+02DA,U+02DC,U+2009,U+200B,"
    "U+2010-2014,U+2018-201A,U+201C-201E,U+2022,U+2026,U+202F,U+2039-203A,U+20AC,U+2122,"
    "U+2192,U+2212"
)


def subset_font(data: bytes) -> bytes:
    """Keep the glyphs French text needs (fontTools, version pinned in pyproject.toml)."""
    import io
    import logging

    from fontTools import subset

    logging.getLogger("fontTools").setLevel(logging.ERROR)

    options = subset.Options()
    options.flavor = "woff2"
    # The OpenType features browsers apply by default; DSFR's CSS asks for no other.
    options.layout_features = ["kern", "liga", "clig", "calt", "ccmp", "locl", "mark", "mkmk", "rlig"]
    font = subset.load_font(io.BytesIO(data), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=subset.parse_unicodes(FONT_UNICODES))
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return out.getvalue()


def sri(data: bytes, algo: str = "sha384") -> str:
    return f"{algo}-" + base64.b64encode(hashlib.new(algo, data).digest()).decode()


def fetch(name: str, pin: dict, workdir: Path) -> Path:
    """Download the pinned tarball with npm and check it against the pinned integrity."""
    out = subprocess.run(
        ["npm", "pack", f"{name}@{pin['version']}", "--json", "--pack-destination", str(workdir)],
        check=True, capture_output=True, text=True, cwd=workdir,
    )
    info = json.loads(out.stdout)[0]
    tarball = workdir / info["filename"]
    algo = pin["integrity"].split("-", 1)[0]
    actual = sri(tarball.read_bytes(), algo)
    if actual != pin["integrity"]:
        raise SystemExit(f"{name}@{pin['version']}: integrity {actual} != pinned {pin['integrity']}")
    dest = workdir / name.replace("/", "__")
    with tarfile.open(tarball) as tar:
        tar.extractall(dest, filter="data")
    return dest / "package"


def bundle_css(dist: Path, parts: list[str], out_dir: Path) -> str:
    """Concatenate CSS parts, copy every file they reference, rewrite their url()s.

    Referenced files (fonts, icons) are copied under fingerprinted names, so
    that the portal can serve them with a one-year cache (portal/assets.py).
    """
    chunks = []
    for part in parts:
        source = dist / part
        css = source.read_text(encoding="utf-8")
        base = posixpath.dirname(part)

        def rewrite(match: re.Match, base: str = base) -> str:
            ref = match.group(1).strip("'\"")
            if ref.startswith(("data:", "#", "http:", "https:")):
                return match.group(0)
            rel = posixpath.normpath(posixpath.join(base, ref.split("?")[0].split("#")[0]))
            data = (dist / rel).read_bytes()
            if rel.endswith(".woff2"):
                data = subset_font(data)
            public = fingerprinted_name(rel, data)
            target = out_dir / public
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            return f"url({public})"

        chunks.append(URL_RE.sub(rewrite, css))
    return "\n".join(chunks)


def icon_rules(dist: Path) -> list[str]:
    """The rules of the listed icons, extracted from DSFR's per-category stylesheets."""
    parts = []
    for category, names in DSFR_ICONS.items():
        css = (dist / f"utility/icons/icons-{category}/icons-{category}.main.min.css").read_text()
        for name in names:
            rule = re.search(
                r"\.fr-icon-" + re.escape(name) + r":after,\.fr-icon-" + re.escape(name)
                + r":before\{[^}]*\}",
                css,
            )
            if not rule:
                raise SystemExit(f"DSFR has no icon fr-icon-{name} in category {category}")
            parts.append(rule.group(0))
    return parts


def vendor_dsfr(package: Path, out: Path) -> None:
    dist = package / "dist"
    parts = ["core/core.main.min.css"] + [
        f"component/{c}/{c}.main.min.css" for c in DSFR_COMPONENTS
    ]
    # Placed beside DSFR's own icon stylesheets so their relative url()s still resolve.
    icons_part = "utility/icons/icons-portal/icons-portal.main.min.css"
    (dist / icons_part).parent.mkdir(parents=True, exist_ok=True)
    (dist / icons_part).write_text("".join(icon_rules(dist)), encoding="utf-8")
    css = bundle_css(dist, parts + [icons_part], out)
    (out / "dsfr.min.css").write_text(css, encoding="utf-8")
    # The dark colours, apart: only the widgets a mairie asks dark load them (theme=sombre).
    (out / "dsfr-dark.min.css").write_text(bundle_css(dist, ["scheme/scheme.min.css"], out), encoding="utf-8")
    shutil.copyfile(dist / "dsfr.module.min.js", out / "dsfr.module.min.js")
    shutil.copytree(dist / "favicon", out / "favicon")
    shutil.copyfile(package / "LICENSE.md", out / "LICENSE.md")


def vendor_htmx(package: Path, out: Path) -> None:
    shutil.copyfile(package / "dist" / "htmx.min.js", out / "htmx.min.js")
    shutil.copyfile(package / "LICENSE", out / "LICENSE")


def vendor_leaflet(package: Path, out: Path) -> None:
    dist = package / "dist"
    (out / "leaflet.css").write_text(bundle_css(dist, ["leaflet.css"], out), encoding="utf-8")
    shutil.copyfile(dist / "leaflet.js", out / "leaflet.js")
    # The marker images the portal's own icons use (the stylesheet references only some).
    for name in ("marker-icon.png", "marker-icon-2x.png", "marker-shadow.png"):
        data = (dist / "images" / name).read_bytes()
        target = out / fingerprinted_name(f"images/{name}", data)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    shutil.copyfile(package / "LICENSE", out / "LICENSE")


def vendor_markercluster(package: Path, out: Path) -> None:
    dist = package / "dist"
    css = bundle_css(dist, ["MarkerCluster.css", "MarkerCluster.Default.css"], out)
    (out / "markercluster.css").write_text(css, encoding="utf-8")
    shutil.copyfile(dist / "leaflet.markercluster.js", out / "leaflet.markercluster.js")
    shutil.copyfile(package / "MIT-LICENCE.txt", out / "MIT-LICENCE.txt")


def pins_digest() -> str:
    spec = {"packages": PACKAGES, "components": DSFR_COMPONENTS, "icons": DSFR_ICONS,
            "script": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def is_current() -> bool:
    try:
        return json.loads(MANIFEST.read_text())["pins"] == pins_digest()
    except (OSError, ValueError, KeyError):
        return False


def main(argv: list[str]) -> int:
    if "--check" in argv:
        return 0 if is_current() else 1
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        staging = work / "vendor"
        steps = {"dsfr": ("@gouvfr/dsfr", vendor_dsfr), "htmx": ("htmx.org", vendor_htmx),
                 "leaflet": ("leaflet", vendor_leaflet),
                 "markercluster": ("leaflet.markercluster", vendor_markercluster)}
        for folder, (name, vendor) in steps.items():
            (staging / folder).mkdir(parents=True)
            vendor(fetch(name, PACKAGES[name], work), staging / folder)
        files = {
            str(p.relative_to(staging)): sri(p.read_bytes())
            for p in sorted(staging.rglob("*")) if p.is_file()
        }
        manifest = {"pins": pins_digest(), "packages": PACKAGES, "files": files}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if VENDOR.exists():
            shutil.rmtree(VENDOR)
        shutil.copytree(staging, VENDOR)
    print(f"static/vendor: {len(files)} files from " + ", ".join(
        f"{n}@{p['version']}" for n, p in PACKAGES.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
