"""Reading the dates and times typed into the complaints' forms (citizens' and officers'): None when unreadable.

The callers turn None into their own French message, tied to the field.
"""

from __future__ import annotations

from datetime import date, datetime, time

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")  # what a date input sends, and what a person types without one
TIME_FORMATS = ("%H:%M", "%H:%M:%S")
# Years a complaint's or an officer's date may fall in: outside, it is a typing mistake (and 0001 or 9999 would
# overflow the conversions to and from Paris time).
MIN_YEAR, MAX_YEAR = 1900, 2100


def parse_date(value: str | None) -> date | None:
    """"2026-03-14" (a date input) or "14/03/2026"; None too for a year outside MIN_YEAR–MAX_YEAR."""
    value = (value or "").strip()
    if len(value) > 10:
        return None
    for pattern in DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, pattern).date()
        except ValueError:
            continue
        return parsed if MIN_YEAR <= parsed.year <= MAX_YEAR else None
    return None


def parse_time(value: str | None) -> time | None:
    """"18:30" (a time input, possibly with seconds), "18h30", "18 h 30" or "18h"."""
    value = "".join((value or "").split()).lower().replace("h", ":")
    if value.endswith(":"):
        value += "00"
    if len(value) > 8:
        return None
    for pattern in TIME_FORMATS:
        try:
            return datetime.strptime(value, pattern).time()
        except ValueError:
            continue
    return None
