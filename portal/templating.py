"""Jinja globals and filters shared by every template."""

from __future__ import annotations

from flask import Flask

from portal.dates import MONTHS, date_fr, format_datetime, paris_time, time_fr
from portal.security import csp_nonce

__all__ = ["MONTHS", "date_fr", "de", "init_app", "km", "thousands"]


def km(value: float) -> str:
    """"850 m", "2,3 km", "18 km": French decimal comma, a precision a walker can use."""
    if round(value, 2) < 1:
        return f"{round(value * 1000, -1):.0f} m"
    if round(value, 1) < 10:
        return f"{value:.1f} km".replace(".", ",")
    return f"{value:.0f} km"


ELIDING = tuple("AEIOUYÂÉÈÊÎÏÔÛ")


def de(name: str) -> str:
    """"de Lyon", "du Mans", "des Abymes", "d'Amiens": the preposition French writes before a place."""
    if name.startswith("Le "):
        return f"du {name[3:]}"
    if name.startswith("Les "):
        return f"des {name[4:]}"
    if name.startswith("Votre "):
        return f"de {name[0].lower()}{name[1:]}"
    if name.upper().startswith(ELIDING):
        return f"d'{name}"
    return f"de {name}"


def thousands(value: int) -> str:
    """4 873 with a narrow no-break space, the French thousands separator."""
    return f"{value:,}".replace(",", "\u202f")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        csp_nonce=csp_nonce,
    )
    app.jinja_env.filters.update(
        date_fr=date_fr,
        # Stored times (UTC) as read in Paris: {{ case.created_at|datetime_fr }} → 14 mars 2026 à 18 h 05.
        paris_time=paris_time,
        datetime_fr=format_datetime,
        time_fr=time_fr,
        thousands=thousands,
        km=km,
        de=de,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
