"""Nearest units, département lists, open now, and the search's shortcut to the finder."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from maps import services
from maps.hours import PARIS
from maps.models import Station
from maps.places import PlaceError
from maps.services import department_records, nearest_stations, station_shortcut
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


@pytest.mark.parametrize("query, label, place_query, kind", [
    ("commissariat lyon", "Commissariats près de Lyon (69)", "lyon", "police"),
    ("gendarmerie 72000", "Brigades de gendarmerie près de 72000 Le Mans", "72000", "gendarmerie"),
    ("commissariat paris 11", "Commissariats près de Paris 11e Arrondissement (75)", "paris 11", "police"),
    ("commissariat le plus proche", "Trouver le commissariat ou la brigade de gendarmerie le plus proche",
     None, None),
    ("gendarmerie ouverte dimanche", "Trouver le commissariat ou la brigade de gendarmerie le plus proche",
     None, None),
    # Words inside a town's name stay; an article just before it belongs to it.
    ("brigade gendarmerie bourg en bresse", "Brigades de gendarmerie près de Bourg-en-Bresse (01)",
     "bourg en bresse", "gendarmerie"),
    ("commissariat le mans", "Commissariats près du Mans (72)", "le mans", "police"),
    ("commissariat du mans", "Commissariats près du Mans (72)", "le mans", "police"),
    ("gendarmerie la rochelle", "Brigades de gendarmerie près de La Rochelle (17)", "la rochelle", "gendarmerie"),
    ("où est le commissariat de Lyon ?", "Commissariats près de Lyon (69)", "lyon", "police"),
    ("horaires d'ouverture commissariat lyon", "Commissariats près de Lyon (69)", "lyon", "police"),
    ("gendarmerie ouverte le dimanche à Saint-Malo", "Brigades de gendarmerie près de Saint-Malo (35)",
     "saint malo", "gendarmerie"),
    ("gendarmerie sarthe", "Brigades de gendarmerie : département Sarthe (72)", "72", "gendarmerie"),
    ("commissariat 93", "Commissariats : département Seine-Saint-Denis (93)", "93", "police"),
])
def test_a_search_for_a_unit_leads_to_the_finder(app, db_session, query, label, place_query, kind):
    with app.app_context():
        shortcut = station_shortcut(db_session, query)
    assert (shortcut.label, shortcut.query, shortcut.kind) == (label, place_query, kind)


@pytest.mark.parametrize("query", ["vol de papiers", "police secours", "porter plainte commissariat",
                                   "police municipale"])
def test_other_searches_have_no_shortcut(app, db_session, query):
    with app.app_context():
        assert station_shortcut(db_session, query) is None


def test_an_unknown_place_is_an_error_not_a_guess(gazetteer):
    with pytest.raises(PlaceError):
        gazetteer.resolve("Qwertzuiop")
