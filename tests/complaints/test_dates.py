"""Dates typed far outside any sane range (year 1 or 9999) are French errors wherever they are typed, never a 500."""

from __future__ import annotations

import html
from datetime import date

import pytest

from complaints.forms import parse_date
from tests.accounts.conftest import csrf_token
from tests.complaints.conftest import LE_MANS_UNIT
from tests.complaints.test_visio_console import signed_in_officer

ABSURD = ["9999-12-31", "0001-01-01", "31/12/9999", "01/01/0001", "1899-12-31", "2101-01-01"]


def test_parse_date_refuses_years_outside_1900_to_2100():
    for value in ABSURD:
        assert parse_date(value) is None, value
    assert parse_date("1900-01-01") == date(1900, 1, 1)
    assert parse_date("31/12/2100") == date(2100, 12, 31)
    assert parse_date("2026-03-14") == date(2026, 3, 14)


@pytest.mark.parametrize("query", ["au=9999-12-31", "du=0001-01-01", "du=31/12/9999", "au=01/01/0001",
                                   "du=0001-01-01&au=9999-12-31"])
def test_the_queues_date_filter_explains_an_absurd_year(app, db_session, query):
    officer = signed_in_officer(app, db_session, LE_MANS_UNIT)
    response = officer.get(f"/agents/dossiers?{query}")
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "<title>Erreur : " in text and "Saisissez une date valide, entre 1900 et 2100" in text


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_publishing_slots_in_year_9999_or_1_is_a_french_error(app, db_session, day):
    officer = signed_in_officer(app, db_session, LE_MANS_UNIT)
    token = csrf_token(officer.get("/agents/agenda").get_data(as_text=True))
    response = officer.post("/agents/agenda", data={"csrf_token": token, "day": day, "start": "09:00",
                                                    "end": "10:00", "length": "30", "capacity": "1"})
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert 'id="slot-day-error"' in text and ("à l'avance" in text or "passée" in text)


@pytest.mark.parametrize("start_date", ["9999-12-31", "0001-01-01", "31/12/9999"])
def test_the_complaints_date_step_explains_an_absurd_year(citizen, start_date):
    def post(step, data):
        page = citizen.get(f"/plainte-en-ligne/{step}").get_data(as_text=True)
        return citizen.post(f"/plainte-en-ligne/{step}", data={"csrf_token": csrf_token(page), **data})

    assert post("faits", {"offence": "vol_telephone"}).status_code == 303
    response = post("date", {"start_date": start_date, "start_time": "18:00", "end_date": start_date,
                             "end_time": "18:45"})
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "<title>Erreur : " in text and "La date de début doit être une vraie date" in text
