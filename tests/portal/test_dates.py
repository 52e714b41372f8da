"""Dates as the portal writes them: Paris time, French words, one format."""

from __future__ import annotations

from datetime import UTC, date, datetime

import click
import pytest

from portal.dates import INSTANT, date_fr, format_datetime, paris_time, time_fr


def test_stored_times_are_shown_in_paris_time_winter_and_summer():
    assert format_datetime(datetime(2026, 3, 14, 17, 5, tzinfo=UTC)) == "14 mars 2026 à 18 h 05"
    assert format_datetime(datetime(2026, 7, 1, 8, 30, tzinfo=UTC)) == "1er juillet 2026 à 10 h 30"
    # SQLite gives naive datetimes back: they are UTC.
    assert format_datetime(datetime(2026, 3, 14, 17, 5)) == "14 mars 2026 à 18 h 05"
    assert format_datetime(datetime(2026, 12, 3, 8, 0, tzinfo=UTC), weekday=True) == "jeudi 3 décembre 2026 à 9 h 00"
    # Just before midnight UTC is already the next day in Paris.
    assert paris_time(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)).date() == date(2026, 3, 2)
    assert time_fr(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)) == "0 h 30"
    assert format_datetime(None) == time_fr(None) == date_fr(None) == ""


def test_the_filters_are_registered(app):
    with app.app_context():
        rendered = app.jinja_env.from_string("{{ t|datetime_fr }} / {{ t|paris_time|date_fr }} / {{ t|time_fr }}")
        assert rendered.render(t=datetime(2026, 3, 14, 17, 5, tzinfo=UTC)) == \
            "14 mars 2026 à 18 h 05 / 14 mars 2026 / 18 h 05"


def test_a_commands_now_is_an_iso_date_utc_unless_told():
    assert INSTANT.convert("2026-06-01T12:00:00+02:00", None, None) == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert INSTANT.convert("2026-06-01T12:00", None, None) == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with pytest.raises(click.BadParameter):
        INSTANT.convert("hier", None, None)
