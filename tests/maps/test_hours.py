"""Opening hours from the official formats, evaluated across a week with a frozen clock."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from maps.hours import Schedule, parse_dila_opening, parse_gendarmerie_hours, timezone_for
from portal.dates import PARIS
from tests.conftest import DATA_DIR

SAMPLES = json.loads((DATA_DIR / "stations" / "format_samples_horaires_officiels.json").read_text())
ORNEX = SAMPLES["datagouv_gendarmerie_csv_rows"][0]["horaires_accueil"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.fixture
def ornex() -> Schedule:
    return parse_gendarmerie_hours(ORNEX)


def test_the_gendarmerie_export_is_parsed_day_by_day(ornex):
    assert ornex.lines() == [
        ("Lundi", "8 h – 12 h, 14 h – 18 h"), ("Mardi", "8 h – 12 h, 14 h – 18 h"),
        ("Mercredi", "14 h – 18 h"), ("Jeudi", "8 h – 12 h, 14 h – 18 h"),
        ("Vendredi", "8 h – 12 h, 14 h – 18 h"), ("Samedi", "14 h – 18 h"),
        ("Dimanche", "9 h – 12 h, 15 h – 18 h"),
    ]


def test_empty_hours_are_no_hours_not_closed():
    assert parse_gendarmerie_hours(SAMPLES["datagouv_gendarmerie_csv_rows"][1]["horaires_accueil"]) is None
    assert parse_dila_opening([]) is None


def test_the_directory_api_format_with_two_ranges_and_a_comment():
    schedule = parse_dila_opening(SAMPLES["dila_api_annuaire_record"]["plage_ouverture"])
    assert schedule.week[1] == [(9 * 60, 12 * 60), (18 * 60, 19 * 60)]  # Tuesday
    assert schedule.week[0] == [] and schedule.week[3] == []
    assert schedule.notes == ["Accueil ouvert uniquement hors vacances scolaires l'après-midi."]


def test_day_ranges_in_the_directory_format():
    schedule = parse_dila_opening([{"nom_jour_debut": "Lundi", "nom_jour_fin": "Vendredi",
                                    "valeur_heure_debut_1": "08:30:00", "valeur_heure_fin_1": "17:00:00"}])
    assert [bool(schedule.week[d]) for d in range(7)] == [True] * 5 + [False] * 2


@pytest.mark.parametrize(("moment", "is_open", "status"), [
    ("2026-11-23 07:59", False, "Fermé, ouvre à 8 h"),           # Monday
    ("2026-11-23 08:00", True, "Ouvert, ferme à 12 h"),
    ("2026-11-23 11:59", True, "Ouvert, ferme à 12 h"),
    ("2026-11-23 12:00", False, "Fermé, ouvre à 14 h"),
    ("2026-11-25 10:00", False, "Fermé, ouvre à 14 h"),          # Wednesday: afternoon only
    ("2026-11-28 19:00", False, "Fermé, ouvre demain à 9 h"),    # Saturday evening
    ("2026-11-29 10:00", True, "Ouvert, ferme à 12 h"),          # Sunday morning
    ("2026-11-29 13:00", False, "Fermé, ouvre à 15 h"),
    ("2026-11-29 23:59", False, "Fermé, ouvre demain à 8 h"),    # Sunday night
    ("2026-11-30 00:00", False, "Fermé, ouvre à 8 h"),           # midnight
])
def test_open_now_across_the_week(ornex, moment, is_open, status):
    assert ornex.is_open(at(moment)) is is_open
    assert ornex.status(at(moment)) == status


def test_open_on_sunday(ornex):
    assert ornex.open_on_weekday(6)
    assert not parse_dila_opening(SAMPLES["dila_api_annuaire_record"]["plage_ouverture"]).open_on_weekday(6)


def test_hours_past_midnight_continue_the_next_day():
    schedule = parse_gendarmerie_hours("Vendredi : 20h00-02h00")
    assert schedule.is_open(at("2026-11-27 23:30"))          # Friday
    assert schedule.is_open(at("2026-11-28 00:00"))          # Saturday, midnight
    assert schedule.is_open(at("2026-11-28 01:59"))
    assert not schedule.is_open(at("2026-11-28 02:00"))
    assert schedule.status(at("2026-11-27 23:30")) == "Ouvert, ferme demain à 2 h"
    assert schedule.status(at("2026-11-28 03:00")) == "Fermé, ouvre vendredi à 20 h"


def test_round_the_clock():
    schedule = parse_gendarmerie_hours("Accueil 24h/24")
    assert schedule.always_open and schedule.is_open(at("2026-11-29 03:00"))
    assert schedule.status(at("2026-11-29 03:00")) == "Ouvert 24 h/24, 7 j/7"


def test_exceptions_override_the_week(ornex):
    ornex.exceptions[date(2026, 12, 25)] = []
    assert not ornex.is_open(at("2026-12-25 09:00"))  # a Friday, normally open
    assert ornex.is_open(at("2026-12-24 09:00"))
    again = Schedule.from_json(json.loads(json.dumps(ornex.to_json())))
    assert again.exceptions == {date(2026, 12, 25): []} and again.week == ornex.week


def test_overseas_units_keep_their_local_time():
    assert timezone_for("971").key == "America/Guadeloupe"
    assert timezone_for("72").key == "Europe/Paris"
