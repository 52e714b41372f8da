"""Nearest units, département lists, open now, and places named in a search."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from maps import services
from maps.models import Station
from maps.places import PlaceError
from maps.services import department_records, nearest_stations
from portal.dates import PARIS
from portal.extensions import db

SUNDAY = datetime(2026, 11, 22, tzinfo=PARIS)  # a Sunday


def test_nearest_units_come_nearest_first(gazetteer, index):
    place = gazetteer.resolve("72000")
    found = index.nearest(place.latitude, place.longitude, 10)
    assert [n.station.id for n in found][:1] == ["commissariat_police-72181-01"]
    distances = [n.distance_km for n in found]
    assert len(found) == 10 and distances == sorted(distances)
    assert 1.3 < distances[0] < 1.5


def test_distances_are_great_circle_kilometres(index):
    lyon = index.by_id["commissariat_police-69381-01"]
    found = index.nearest(lyon.latitude, lyon.longitude, 1)
    assert (found[0].station.id, found[0].distance_km) == (lyon.id, 0.0)
    # One degree of latitude is 111.2 km on the mean Earth.
    north = index.nearest(lyon.latitude - 1, lyon.longitude, 400)
    assert next(n.distance_km for n in north if n.station.id == lyon.id) == pytest.approx(111.19, abs=0.01)


def test_a_misplaced_unit_is_not_the_nearest_for_marseille(gazetteer, index):
    # The source places the Vitrolles commissariat in central Marseille (SOURCES.md).
    place = gazetteer.resolve("13003")
    found = index.nearest(place.latitude, place.longitude, 10)
    assert "commissariat_police-13117-01" not in [n.station.id for n in found]
    assert found[0].station.commune.startswith("Marseille")


def test_the_type_filter(gazetteer, index):
    place = gazetteer.resolve("Le Mans")
    assert {n.station.kind for n in index.nearest(place.latitude, place.longitude, 20, kind="gendarmerie")} \
        == {"gendarmerie"}
    assert {n.station.kind for n in index.nearest(place.latitude, place.longitude, 20, kind="police")} == {"police"}


@pytest.mark.parametrize("hour, expected", [(10, True), (13, False), (16, True), (19, False)])
def test_open_now_on_a_sunday_with_a_frozen_clock(app, gazetteer, hour, expected):
    # Ornex: the only unit with official hours in the samples; Sunday 9-12 and 15-18.
    with app.app_context():
        found = nearest_stations(db.session, gazetteer.resolve("01210"), 5, open_now=True,
                                 at=SUNDAY.replace(hour=hour))
    assert [n.station.id for n in found] == (["gendarmerie-01281-01"] if expected else [])


def test_open_now_only_offers_units_within_reach(app, gazetteer):
    # Ornex is open on Sunday at 10, but 500 km from Le Mans: no use to someone there.
    with app.app_context():
        near = nearest_stations(db.session, gazetteer.resolve("01630"), 5, open_now=True, at=SUNDAY.replace(hour=10))
        far = nearest_stations(db.session, gazetteer.resolve("72000"), 5, open_now=True, at=SUNDAY.replace(hour=10))
    assert [n.station.id for n in near] == ["gendarmerie-01281-01"]
    assert far == []


def test_open_now_follows_the_week(index):
    ornex = index.by_id["gendarmerie-01281-01"]
    monday = SUNDAY + timedelta(days=1)
    assert ornex.open_now(monday.replace(hour=8)) is True
    assert ornex.open_now(monday.replace(hour=12)) is False
    assert ornex.open_now((monday + timedelta(days=2)).replace(hour=10)) is False  # Wednesday: afternoon only
    assert ornex.status(SUNDAY.replace(hour=18, minute=30)) == "Fermé, ouvre demain à 8 h"
    assert ornex.open_on_sunday() is True
    assert index.by_id["gendarmerie-01283-01"].open_now(SUNDAY) is None


def test_every_postcode_and_town_gets_an_answer(gazetteer, index):
    """Each of the 6,310 postcodes and every commune name leads to units, nearest first or by département."""
    departments_with_units = {s.department for s in index.by_id.values()}
    unanswered = []
    for postcode in gazetteer.postcodes:
        place = gazetteer.resolve(postcode)
        if place.located:
            found = index.nearest(place.latitude, place.longitude, 3)
            if len(found) != 3 or found[0].distance_km > 100:
                unanswered.append(postcode)
        elif place.department not in departments_with_units:
            unanswered.append(postcode)
    assert len(gazetteer.postcodes) == 6310
    assert unanswered == ["98799"]  # Clipperton, uninhabited: no unit (the page says so)
    for name, communes in gazetteer.by_name.items():
        assert gazetteer.resolve(communes[0].name).code_insee == communes[0].code_insee, name


def test_a_commune_without_a_position_lists_its_department(app, gazetteer):
    with app.app_context():
        place = gazetteer.resolve("Pia")
        assert nearest_stations(db.session, place) == []
        units = department_records(db.session, "66")
    assert len(units) == 33 and {u.department for u in units} == {"66"}
    assert [u.commune for u in units] == sorted(u.commune for u in units)


def test_the_index_follows_the_data(app, db_session, live_finder):
    unit = db_session.get(Station, "commissariat_police-72181-01")
    unit.name = "Hôtel de police du Mans"
    unit.updated_at = datetime.now(PARIS) + timedelta(days=1)
    db_session.flush()
    with app.app_context():
        _, index = services.finder(db_session)
    assert index.by_id[unit.id].name == "Hôtel de police du Mans"
    db_session.rollback()
    with app.app_context():
        _, index = services.finder(db_session)
    assert index.by_id[unit.id].name == "Commissariat de police du Mans"


@pytest.mark.parametrize("text, query, label, department", [
    ("lyon", "lyon", "Lyon (69)", False),
    ("le mans", "le mans", "Le Mans (72)", False),
    ("72000", "72000", "72000 Le Mans", False),
    ("sarthe", "72", "Sarthe (72)", True),
    ("93", "93", "Seine-Saint-Denis (93)", True),
])
def test_a_place_named_in_free_text(app, db_session, text, query, label, department):
    with app.app_context():
        place = services.place_named(db_session, text)
    assert (place.query, place.label, place.department) == (query, label, department)


@pytest.mark.parametrize("text", ["secours", "municipale", "lyonn", "porter plainte", ""])
def test_no_place_is_guessed_in_free_text(app, db_session, text):
    with app.app_context():
        assert services.place_named(db_session, text) is None


def test_an_unknown_place_is_an_error_not_a_guess(gazetteer):
    with pytest.raises(PlaceError):
        gazetteer.resolve("Qwertzuiop")
