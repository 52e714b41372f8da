"""Loading the stations and communes open data (../shared/data, see SOURCES.md)."""

from __future__ import annotations

import csv
import json
import shutil

from sqlalchemy import func, select

from maps.loader import HOURS_SAMPLES_FILE, STATIONS_FILE, load_all
from maps.models import Commune, Postcode, Station
from maps.services import record_of
from tests.conftest import DATA_DIR

SAMPLES = json.loads((DATA_DIR / HOURS_SAMPLES_FILE).read_text(encoding="utf-8"))
# The police export's columns, as the ministry publishes them on data.gouv.fr (a real 2018 row).
POLICE_ROW = {
    "service": "Commissariat de police de Bourg en Bresse", "adresse_geographique":
    "4 Rue des Remparts 01000 BOURG EN BRESSE", "telephone": "+33 4 74 47 20 20", "departement": "01",
    "code_commune_insee": "01053", "voie": "4 Rue des Remparts", "code_postal": "01000",
    "commune": "BOURG EN BRESSE", "geocodage_epsg": "2154", "geocodage_x": "871543.203",
    "geocodage_y": "6569852.464", "geocodage_x_GPS": "5.22517643", "geocodage_y_GPS": "46.20676468",
}


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_every_unit_and_commune_is_loaded(db_session):
    assert _count(db_session, Station, Station.kind == "police") == 606
    assert _count(db_session, Station, Station.kind == "gendarmerie") == 3074
    assert _count(db_session, Commune) == 35014
    assert db_session.scalar(select(func.count(func.distinct(Postcode.postcode)))) == 6310


def test_units_with_doubtful_coordinates_stand_at_their_town_hall_with_a_warning(db_session):
    # The source puts the Vitrolles commissariat in the centre of Marseille (SOURCES.md).
    vitrolles = db_session.get(Station, "commissariat_police-13117-01")
    town_hall = db_session.get(Commune, "13117")
    assert (vitrolles.latitude, vitrolles.longitude) == (town_hall.latitude, town_hall.longitude)
    assert vitrolles.position_note.startswith("Position approximative")
    # latitude == longitude: an error of the source, never shown as such.
    saint_max = db_session.get(Station, "commissariat_police-54482-01")
    assert saint_max.latitude != saint_max.longitude
    assert saint_max.position_note
    # 51 flagged by the source; for 8 of them it was the town hall's point that was wrong (test_positions).
    assert _count(db_session, Station, Station.position_note != "") == 43
    trusted = db_session.get(Station, "gendarmerie-01004-01")
    assert (trusted.latitude, trusted.longitude, trusted.position_note) == (45.95978676, 5.33856784, "")


def test_hours_and_newer_details_come_from_the_official_samples(db_session):
    ornex = db_session.get(Station, "gendarmerie-01281-01")
    sample = SAMPLES["datagouv_gendarmerie_csv_rows"][0]
    assert ornex.directory_url == sample["url"]
    assert ornex.address == "124 Rue de Béjoud"  # 2020: "100 Rue de la Gendarmerie"
    assert ornex.phone == "04 50 40 59 30"
    assert (ornex.latitude, ornex.longitude) == (46.27591, 6.09523)
    record = record_of(ornex)
    assert record.schedule.lines()[6] == ("Dimanche", "9 h – 12 h, 15 h – 18 h")
    assert "gendarmerie" in record.hours_source
    assert "mise à jour : Ministère de l'Intérieur" in ornex.source


def test_a_unit_without_hours_in_the_sources_has_none(db_session):
    # Oyonnax is in the samples with an empty horaires_accueil; Le Mans is in no current file.
    for station_id in ("gendarmerie-01283-01", "commissariat_police-72181-01"):
        unit = db_session.get(Station, station_id)
        assert unit.hours is None
        assert record_of(unit).status() == "Horaires non communiqués"
    assert _count(db_session, Station, Station.hours.is_not(None)) == 1


def test_loading_again_changes_nothing(db_session):
    before = db_session.scalar(select(func.max(Station.updated_at)))
    report = load_all(db_session, DATA_DIR)
    assert "Communes : déjà à jour (35014 communes)" in report.lines
    assert "Unités : 3680 (0 créées, 0 mises à jour, 0 retirées)" in report.summary()
    assert db_session.scalar(select(func.max(Station.updated_at))) == before


def test_the_ministry_exports_update_the_units_they_describe(db_session, tmp_path):
    gendarmerie = tmp_path / "gendarmerie.csv"
    rows = [dict(r) for r in SAMPLES["datagouv_gendarmerie_csv_rows"]]
    rows[1]["horaires_accueil"] = "Lundi : 8h00-12h00 Samedi au Dimanche : 9h00-12h00"
    rows.append({**rows[2], "url": "https://lannuaire.service-public.fr/x/y/gendarmerie-99999-01"})
    _write(gendarmerie, rows)
    police = tmp_path / "police.csv"
    _write(police, [POLICE_ROW])
    report = load_all(db_session, DATA_DIR, gendarmerie_csv=gendarmerie, police_csv=police)
    oyonnax = record_of(db_session.get(Station, "gendarmerie-01283-01"))
    assert oyonnax.schedule.lines()[5:] == [("Samedi", "9 h – 12 h"), ("Dimanche", "9 h – 12 h")]
    bourg = db_session.get(Station, "commissariat_police-01053-01")
    assert (bourg.address, bourg.phone) == ("4 Rue des Remparts", "04 74 47 20 20")
    assert "services de police" in bourg.source
    assert bourg.commune == "Bourg-en-Bresse"  # not the export's capitals
    assert "fiches officielles récentes sans unité correspondante (non importées) : 1" in report.summary()


def _write(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)


def test_a_unit_that_leaves_the_data_is_kept_for_the_cases_that_refer_to_it(app, db_session, tmp_path):
    """A unit still named by a case, an agent or an agenda is withdrawn, not deleted; the others go."""
    from agents.services import create_agent
    from maps.services import build_index

    with app.app_context():  # the agent's second factor is sealed with the application's key
        referenced, unreferenced = "commissariat_police-72181-01", "commissariat_police-13117-01"
        create_agent(db_session, "officier.retrait@interieur.gouv.fr", ["officer"], unit_id=referenced,
                     password="un-mot-de-passe-solide")
        db_session.flush()
        data = tmp_path / "data"
        shutil.copytree(DATA_DIR / "stations", data / "stations")
        (data / "communes").symlink_to(DATA_DIR / "communes")
        stations = data / STATIONS_FILE
        with stations.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        with stations.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(r for r in rows if r["id"] not in (referenced, unreferenced))

        load_all(db_session, data)

        assert db_session.get(Station, unreferenced) is None
        kept = db_session.get(Station, referenced)
        assert kept is not None and kept.withdrawn_at is not None
        assert referenced not in build_index(db_session).by_id
        # Back in the data: shown again.
        load_all(db_session, DATA_DIR)
        assert db_session.get(Station, referenced).withdrawn_at is None
        assert referenced in build_index(db_session).by_id
