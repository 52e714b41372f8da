"""Jinja globals and filters shared by every template."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from portal.security import csp_nonce

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
        thousands=thousands,
        km=km,
        de=de,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
