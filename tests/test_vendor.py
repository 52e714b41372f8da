"""Front-end assets: vendored from the npm registry, pinned, licensed, nothing from elsewhere."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from portal.config import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import vendor_assets  # noqa: E402

VENDOR = ROOT / "static" / "vendor"


def test_vendored_assets_match_the_pins():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "vendor_assets.py"), "--check"])
    assert result.returncode == 0, "static/vendor is missing or stale: run scripts/vendor_assets.py"
    manifest = json.loads((VENDOR / "manifest.json").read_text())
    assert manifest["packages"]["htmx.org"]["version"].startswith("2.0.")
    assert "@gouvfr/dsfr" in manifest["packages"]


def test_every_vendored_package_keeps_its_licence():
    assert (VENDOR / "dsfr" / "LICENSE.md").read_text().strip()
    assert "BSD" in (VENDOR / "htmx" / "LICENSE").read_text()


def test_every_icon_the_portal_uses_is_vendored():
    vendored = {name for names in vendor_assets.DSFR_ICONS.values() for name in names}
    css = (VENDOR / "dsfr" / "dsfr.min.css").read_text()
    used = set()
    for path in list((ROOT / "templates").rglob("*.html")) + list((ROOT / "catalogue" / "content").rglob("*.yaml")):
        used |= set(re.findall(r"fr-icon-([a-z0-9][a-z0-9-]*?)(?:\"|'|\s|$)", path.read_text()))
    missing = {i for i in used if i not in vendored}
    assert not missing, f"icons used but not vendored: {sorted(missing)}"
    for name in used:
        assert f".fr-icon-{name}:before" in css


def test_every_file_the_stylesheet_references_is_vendored():
    css = (VENDOR / "dsfr" / "dsfr.min.css").read_text()
    for ref in set(re.findall(r"url\(([^)]+)\)", css)):
        ref = ref.strip("'\"")
        if ref.startswith("data:"):
            continue
        assert not ref.startswith(("http:", "https:", "//")), ref
        assert (VENDOR / "dsfr" / ref.split("?")[0].split("#")[0]).is_file(), ref


def test_no_template_loads_a_script_or_stylesheet_from_another_origin():
    for path in (ROOT / "templates").rglob("*.html"):
        html = path.read_text()
        for tag in re.findall(r"<(?:script|link)\b[^>]*>", html):
            assert not re.search(r"(?:src|href)=\"(?:https?:)?//", tag), f"{path.name}: {tag}"


# DSFR components whose look lives in their own stylesheet (dist/component/<name>/), by the class that
# names them in a template.
COMPONENT_OF_CLASS = {
    "fr-select": "select", "fr-table": "table", "fr-stepper": "stepper", "fr-accordion": "accordion",
    "fr-notice": "notice", "fr-tabs": "tabs", "fr-summary": "summary", "fr-toggle": "toggle",
    "fr-highlight": "highlight", "fr-quote": "quote", "fr-sidemenu": "sidemenu", "fr-download": "download",
    "fr-upload": "upload", "fr-password": "password", "fr-segmented": "segmented", "fr-range": "range",
    "fr-follow": "follow", "fr-share": "share", "fr-tooltip": "tooltip", "fr-transcript": "transcript",
    "fr-consent": "consent", "fr-translate": "translate", "fr-radio": "radio", "fr-checkbox": "checkbox",
    "fr-callout": "callout", "fr-alert": "alert", "fr-card": "card", "fr-tile": "tile", "fr-badge": "badge",
    "fr-tag": "tag", "fr-pagination": "pagination", "fr-modal": "modal", "fr-connect": "connect",
}


def test_every_dsfr_component_the_templates_use_is_vendored():
    """A component whose stylesheet is missing renders as bare HTML (a select without its box)."""
    used = set()
    for path in (ROOT / "templates").rglob("*.html"):
        for classes in re.findall(r'class="([^"]*)"', path.read_text(encoding="utf-8")):
            used |= {re.split(r"__|--", c)[0] for c in classes.split()}
    missing = {COMPONENT_OF_CLASS[c] for c in used & set(COMPONENT_OF_CLASS)} - set(vendor_assets.DSFR_COMPONENTS)
    assert not missing, f"DSFR components used but not vendored: {sorted(missing)}"
