"""Town halls and units the 2020 directory placed on a namesake far away are not used as placed."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import select

from maps.loader import COMMUNES_FILE, POSTCODE_POSITION_NOTE, UNIT_POSITION_NOTE, UNKNOWN_POSITION_NOTE
from maps.models import Commune, Station
from maps.positions import CommunePoints, distance_km
from tests.conftest import DATA_DIR

with (DATA_DIR / COMMUNES_FILE).open(encoding="utf-8") as _handle:
    SOURCE = {r["code_insee"]: r for r in csv.DictReader(_handle)}


@pytest.fixture(scope="module")
def source_points():
    """The communes' points exactly as the source gives them."""
    return CommunePoints([(code, r["code_departement"], float(r["latitude"]), float(r["longitude"]))
                          for code, r in SOURCE.items() if r["latitude"]])


def _source_point(code):
    return float(SOURCE[code]["latitude"]), float(SOURCE[code]["longitude"])


def test_a_point_on_a_namesake_elsewhere_is_foreign_to_its_department(source_points):
    # The source puts Thenon's town hall (Dordogne) in Paris 16e.
    assert source_points.foreign(*_source_point("24550"), "24", "24550")
    assert not source_points.foreign(*_source_point("75116"), "75", "75116")


@pytest.mark.parametrize("code", [
    "12052",  # Capdenac-Gare, on the Lot border
    "29155",  # Ouessant, an island
    "85113",  # L'Île-d'Yeu
    "13096",  # Saintes-Maries-de-la-Mer, in the Camargue
    "97356",  # Camopi, in the Guianese forest
])
def test_border_island_and_remote_communes_are_not_foreign(source_points, code):
    assert not source_points.foreign(*_source_point(code), SOURCE[code]["code_departement"], code)


@pytest.mark.parametrize("code", [
    "49126",  # Orée d'Anjou and Carbay: large merged communes on a border, foreign by distance alone
    "49056",
    "40169",  # Maillas
    "12052", "29155", "85113", "97356",
])
def test_right_points_are_kept_as_the_source_gives_them(db_session, code):
    commune = db_session.get(Commune, code)
    assert (commune.latitude, commune.longitude, commune.position_note) == (*_source_point(code), "")


def test_a_town_hall_on_a_namesake_takes_its_units_point_and_the_unit_keeps_its_own(db_session):
    thenon = db_session.get(Commune, "24550")
    brigade = db_session.get(Station, "gendarmerie-24550-01")
    assert (brigade.latitude, brigade.longitude, brigade.position_note) == (45.14092427, 1.06879228, "")
    assert (thenon.latitude, thenon.longitude, thenon.position_note) == (
        brigade.latitude, brigade.longitude, UNIT_POSITION_NOTE)
    # Chelles (Seine-et-Marne): its town hall was put in the Eure, its two units are right.
    chelles = db_session.get(Commune, "77108")
    assert distance_km(chelles.latitude, chelles.longitude, 48.8797, 2.5980) < 1


def test_a_town_hall_in_the_sea_is_replaced_by_the_unit_the_source_flagged(db_session):
    # Rivière-Salée (Martinique): the source's town hall point is 35 km out at sea.
    commune = db_session.get(Commune, "97221")
    assert commune.position_note == UNIT_POSITION_NOTE
    assert distance_km(commune.latitude, commune.longitude, 14.5275, -60.9806) < 0.1


def test_without_a_unit_the_postcode_centre_stands_in(db_session):
    # Jouy-lès-Reims (Marne) is placed by the source in the Pyrenees.
    jouy = db_session.get(Commune, "51310")
    assert jouy.position_note == POSTCODE_POSITION_NOTE
    reims = db_session.get(Commune, "51454")
    assert distance_km(jouy.latitude, jouy.longitude, reims.latitude, reims.longitude) < 20


def test_with_nothing_to_estimate_from_the_commune_has_no_position(db_session):
    # Morières-lès-Avignon: alone in its postcode, no unit; the source puts it in the Aube.
    commune = db_session.get(Commune, "84081")
    assert (commune.latitude, commune.longitude, commune.position_note) == (None, None, UNKNOWN_POSITION_NOTE)


def test_every_replaced_point_lies_in_its_department(db_session):
    communes = db_session.scalars(select(Commune).where(Commune.latitude.is_not(None))).all()
    points = CommunePoints([(c.code_insee, c.department_code, c.latitude, c.longitude) for c in communes])
    replaced = [c for c in communes if c.position_note]
    assert len(replaced) > 80
    for commune in replaced:
        assert points.coherent(commune.latitude, commune.longitude, commune.department_code, commune.code_insee), \
            commune.name
