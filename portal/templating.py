"""Jinja globals and filters shared by every template."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, url_for

from catalogue.text import blocks
from portal.security import csp_nonce
from search.highlight import highlight_words

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)


def date_fr(value: date | datetime | None) -> str:
    """16 octobre 2024; "1er" for the first day, as French typography wants."""
    if value is None:
        return ""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def thousands(value: int) -> str:
    """4 873 with a narrow no-break space, the French thousands separator."""
    return f"{value:,}".replace(",", "\u202f")


@lru_cache(maxsize=8)
def _vendor_manifest(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        return {}


def vendor_asset(path: str) -> str:
    """URL of a vendored file, versioned by its hash so it can be cached for long."""
    manifest = _vendor_manifest(str(Path(current_app.static_folder) / "vendor" / "manifest.json"))
    digest = manifest.get(path, "")
    url = url_for("static", filename=f"vendor/{path}")
    return f"{url}?v={digest[7:19]}" if digest else url


def vendor_integrity(path: str) -> str:
    manifest = _vendor_manifest(str(Path(current_app.static_folder) / "vendor" / "manifest.json"))
    return manifest.get(path, "")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        csp_nonce=csp_nonce,
        vendor_asset=vendor_asset,
        vendor_integrity=vendor_integrity,
    )
    app.jinja_env.filters.update(
        date_fr=date_fr,
        thousands=thousands,
        blocks=blocks,
        highlight=highlight_words,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
