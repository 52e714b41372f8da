"""Dates and times as people read them in metropolitan France: Paris time, French words.

Times are stored in UTC (SQLite gives them back naive: they are taken as
UTC here); everything a citizen or an officer reads is in Paris time, in one
format: « 14 mars 2026 à 18 h 05 », « jeudi 3 décembre 2026 à 10 h 30 » when
the day of the week helps (an appointment). The Jinja filters of the same
names are registered by ``portal.templating``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import click

PARIS = ZoneInfo("Europe/Paris")

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def date_fr(value: date | datetime | None) -> str:
    """16 octobre 2024; "1er" for the first day, as French typography wants (the value's own day: no conversion)."""
    if value is None:
        return ""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def paris_time(value: datetime | None) -> datetime | None:
    """A stored time in Paris time; a naive value is UTC (what SQLite returns for timezone-aware columns)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(PARIS)


def time_fr(value: datetime | None) -> str:
    """"18 h 05", in Paris time."""
    local = paris_time(value)
    return f"{local.hour} h {local.minute:02d}" if local else ""


def format_datetime(value: datetime | None, weekday: bool = False) -> str:
    """"14 mars 2026 à 18 h 05" in Paris time; with ``weekday``, "samedi 14 mars 2026 à 18 h 05"."""
    local = paris_time(value)
    if local is None:
        return ""
    day = f"{WEEKDAYS[local.weekday()]} " if weekday else ""
    return f"{day}{date_fr(local)} à {time_fr(local)}"


class InstantType(click.ParamType):
    """A command's ``--now``: an ISO 8601 date and time, UTC when no offset is given (tests freeze time with it)."""

    name = "date ISO 8601"

    def convert(self, value, param, ctx) -> datetime:
        if isinstance(value, datetime):
            parsed = value
        else:
            try:
                parsed = datetime.fromisoformat(str(value))
            except ValueError:
                self.fail("date ISO 8601 attendue, par exemple 2026-03-01T00:00:00+00:00", param, ctx)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


INSTANT = InstantType()
