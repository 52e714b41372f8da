"""Load communes, postcodes and stations from the open data in ``../shared/data`` (see SOURCES.md).

Idempotent: a file already loaded (same SHA-256) is skipped; stations are
upserted by their DILA identifier with a content hash. The 2020 directory has
no opening hours; the ministry's current formats (the gendarmerie and police
open-data exports, the DILA directory API) bring hours, and a newer address,
phone and position, for the units they describe when such a file is given.
The official samples in ``stations/format_samples_horaires_officiels.json``
are always read.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from maps.hours import parse_dila_opening, parse_gendarmerie_hours
from maps.models import Commune, DatasetVersion, Postcode, Station
from maps.places import normalize
from maps.positions import POSTCODE_REACH_KM, CommunePoints, distance_km

STATIONS_FILE = "stations/stations_police_gendarmerie_dila_2020-11.csv"
COMMUNES_FILE = "communes/communes_cog2026.csv"
POSTCODES_FILE = "communes/codes_postaux_cog2026.csv"
HOURS_SAMPLES_FILE = "stations/format_samples_horaires_officiels.json"
STATIONS_SOURCE = "Service-Public.fr / DILA, Base de données locales, millésime 11/2020, via osm-fr/osmose-backend"
GENDARMERIE_SOURCE = ("Ministère de l'Intérieur, liste des unités de gendarmerie accueillant du public "
                      "(data.gouv.fr)")
POLICE_SOURCE = "Ministère de l'Intérieur, liste des services de police accueillant du public (data.gouv.fr)"
ANNUAIRE_SOURCE = "Service-Public.fr / DILA, API Annuaire de l'administration"
KINDS = {"commissariat_police": "police", "gendarmerie": "gendarmerie"}
CHUNK = 2000


@dataclass
class MapsReport:
    lines: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        out = list(self.lines)
        for reason, count in sorted(self.skipped.items()):
            out.append(f"  {reason} : {count}")
        return "\n".join(out)


def _sha256(*paths: Path, rules: str = "") -> str:
    digest = hashlib.sha256(rules.encode())
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def slug(text: str) -> str:
    """"Auvergne-Rhône-Alpes" -> "auvergne-rhone-alpes", as the official directory's URLs."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def _float(value: str) -> float | None:
    try:
        return float(value) if value.strip() else None
    except ValueError:
        return None


# Changing how town-hall points are judged must reload the communes: bump this.
TOWN_HALL_RULES = "positions-3"
UNIT_POSITION_NOTE = ("Position estimée : celle de l'unité de police ou de gendarmerie de la commune, "
                      "le point de la mairie donné par la source étant erroné.")
POSTCODE_POSITION_NOTE = ("Position estimée : le centre des communes de même code postal, "
                          "le point de la mairie donné par la source étant erroné.")
UNKNOWN_POSITION_NOTE = ("Le point de la mairie donné par la source est erroné, "
                         "et aucune donnée ne permet de l'estimer.")


def load_communes(session: Session, data_dir: Path, report: MapsReport) -> None:
    communes_path, postcodes_path = data_dir / COMMUNES_FILE, data_dir / POSTCODES_FILE
    stations_path = data_dir / STATIONS_FILE  # its units vouch for, or against, a town hall's point
    digest = _sha256(communes_path, postcodes_path, stations_path, rules=TOWN_HALL_RULES)
    version = session.get(DatasetVersion, "communes")
    if version is not None and version.sha256 == digest:
        report.lines.append(f"Communes : déjà à jour ({version.rows} communes)")
        return
    session.execute(delete(Postcode))
    session.execute(delete(Commune))
    with communes_path.open(encoding="utf-8") as handle:
        rows = [{
            "code_insee": r["code_insee"], "name": r["nom"], "search_name": normalize(r["nom"]),
            "kind": r["type"],
            "department_code": r["code_departement"], "department_name": r["nom_departement"],
            "region_name": r["nom_region"], "parent_code": r["commune_parente"] or None,
            "population": int(r["population"] or 0),
            "latitude": _float(r["latitude"]), "longitude": _float(r["longitude"]), "position_note": "",
        } for r in csv.DictReader(handle)]
    known = {r["code_insee"] for r in rows}
    with postcodes_path.open(encoding="utf-8") as handle:
        pairs = sorted({(r["code_postal"], r["code_insee"]) for r in csv.DictReader(handle)
                        if r["code_postal"] and r["code_insee"] in known})
    with stations_path.open(encoding="utf-8") as handle:
        units = [(r["code_insee"], _float(r["latitude"]), _float(r["longitude"]), bool(r["alerte_coordonnees"]))
                 for r in csv.DictReader(handle)]
    corrected = correct_town_hall_points(rows, pairs, units)
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(Commune), rows[i:i + CHUNK])
    postcodes = [{"postcode": p, "code_insee": c} for p, c in pairs]
    for i in range(0, len(postcodes), CHUNK):
        session.execute(insert(Postcode), postcodes[i:i + CHUNK])
    without_point = sum(1 for r in rows if r["latitude"] is None)
    _record(session, "communes", digest, len(rows))
    report.lines.append(f"Communes : {len(rows)} chargées, {len(postcodes)} codes postaux")
    report.skipped["communes sans position (absentes des recherches par nom)"] = without_point
    for reason, count in corrected.items():
        report.skipped[reason] = count


def correct_town_hall_points(rows: list[dict], postcodes: list[tuple[str, str]],
                             units: list[tuple[str, float | None, float | None, bool]]) -> Counter:
    """Replace the town-hall points that lie outside their département (see maps.positions).

    A point is replaced when it is foreign to its département and either far from every
    commune sharing its postcode or contradicted by a unit of the commune that the source
    flagged; also when a flagged unit sits among the département's communes while the town
    hall sits far from all of them. The commune then takes that unit's point, else the
    centre of the communes sharing its postcode, else none; the finder shows why.
    """
    points = CommunePoints([(r["code_insee"], r["department_code"], r["latitude"], r["longitude"])
                            for r in rows if r["latitude"] is not None])
    by_code = {r["code_insee"]: r for r in rows}
    communes_of: dict[str, list[str]] = {}
    for postcode, code in postcodes:
        communes_of.setdefault(postcode, []).append(code)
    mates_of: dict[str, set[str]] = {}
    for postcode, code in postcodes:
        mates_of.setdefault(code, set()).update(c for c in communes_of[postcode] if c != code)
    unit_points: dict[str, list[tuple[float, float, bool]]] = {}
    for code, latitude, longitude, flagged in units:
        if latitude is not None and longitude is not None:
            unit_points.setdefault(code, []).append((latitude, longitude, flagged))

    def placed_mates(row: dict, excluded: dict | set = frozenset()) -> list[dict]:
        return [by_code[m] for m in sorted(mates_of.get(row["code_insee"], ())) if m not in excluded
                and by_code[m]["latitude"] is not None and by_code[m]["department_code"] == row["department_code"]]

    suspects: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        if row["latitude"] is None:
            continue
        here, where = (row["latitude"], row["longitude"]), (row["department_code"], row["code_insee"])
        good_units = [(lat, lon, flagged) for lat, lon, flagged in unit_points.get(row["code_insee"], [])
                      if points.coherent(lat, lon, *where)]
        contradicted = any(flagged for *_, flagged in good_units)
        if points.foreign(*here, *where):
            mates = placed_mates(row)
            reach = (min(distance_km(*here, m["latitude"], m["longitude"]) for m in mates) if mates
                     else points.gap_km(*here, *where))
            misplaced = contradicted or reach > POSTCODE_REACH_KM
        else:
            misplaced = contradicted and points.isolated(*here, *where)
        if misplaced:
            suspects[row["code_insee"]] = [(lat, lon) for lat, lon, _ in good_units]
    counts: Counter = Counter()
    for code, good_units in suspects.items():
        row = by_code[code]
        mates = placed_mates(row, excluded=suspects)
        if good_units:
            (row["latitude"], row["longitude"]), row["position_note"] = good_units[0], UNIT_POSITION_NOTE
            counts["communes replacées à leur unité (point de mairie faux dans la source)"] += 1
        elif mates:
            row["latitude"] = statistics.median(m["latitude"] for m in mates)
            row["longitude"] = statistics.median(m["longitude"] for m in mates)
            row["position_note"] = POSTCODE_POSITION_NOTE
            counts["communes replacées au centre de leur code postal (point de mairie faux dans la source)"] += 1
        else:
            row["latitude"] = row["longitude"] = None
            row["position_note"] = UNKNOWN_POSITION_NOTE
            counts["communes sans position (point de mairie faux dans la source, rien pour l'estimer)"] += 1
    return counts


def _record(session: Session, name: str, digest: str, rows: int) -> None:
    version = session.get(DatasetVersion, name) or DatasetVersion(name=name)
    version.sha256, version.rows, version.loaded_at = digest, rows, datetime.now(UTC)
    session.add(version)


@dataclass(frozen=True)
class OfficialUnit:
    """A unit as one of the ministry's current files describes it: newer than the 2020 directory."""

    source: str
    station_id: str | None = None  # the DILA identifier, when the file gives it
    code_insee: str = ""
    address: str = ""
    postcode: str = ""
    phone: str = ""
    latitude: float | None = None
    longitude: float | None = None
    hours: dict | None = None
    hours_source: str = ""


def _phone(value: str) -> str:
    """"+33 4 50 40 59 30" -> "04 50 40 59 30", as the rest of the directory writes it."""
    digits = "".join(c for c in value if c.isdigit())
    if value.strip().startswith("+33") and len(digits) == 11:
        national = "0" + digits[2:]
        return " ".join(national[i:i + 2] for i in range(0, 10, 2))
    return value.strip()


def _ministry_unit(row: dict, source: str) -> OfficialUnit:
    """A row of the ministry's exports (gendarmerie or police: same columns, only the gendarmerie's have hours)."""
    station_id = (row.get("url") or "").rstrip("/").rsplit("/", 1)[-1] or None
    schedule = parse_gendarmerie_hours(row.get("horaires_accueil"))
    return OfficialUnit(
        source=source, station_id=station_id if station_id and "-" in station_id else None,
        code_insee=(row.get("code_commune_insee") or "").strip(), address=(row.get("voie") or "").strip(),
        postcode=(row.get("code_postal") or "").strip(), phone=_phone(row.get("telephone") or ""),
        latitude=_float(row.get("geocodage_y_GPS") or ""), longitude=_float(row.get("geocodage_x_GPS") or ""),
        hours=schedule.to_json() if schedule else None, hours_source=source if schedule else "",
    )


def _annuaire_unit(record: dict) -> OfficialUnit:
    schedule = parse_dila_opening(record.get("plage_ouverture"))
    address = (record.get("adresse") or [{}])[0]
    phones = record.get("telephone") or [{}]
    return OfficialUnit(
        source=ANNUAIRE_SOURCE, station_id=record.get("ancien_code_pivot") or None,
        code_insee=record.get("code_insee_commune") or "",
        address=" ".join(p for p in (address.get("complement1"), address.get("numero_voie")) if p).strip(),
        postcode=address.get("code_postal") or "", phone=_phone(phones[0].get("valeur") or ""),
        latitude=_float(address.get("latitude") or ""), longitude=_float(address.get("longitude") or ""),
        hours=schedule.to_json() if schedule else None, hours_source=ANNUAIRE_SOURCE if schedule else "",
    )


def read_official_units(gendarmerie_csv: Path | None = None, police_csv: Path | None = None,
                        annuaire_json: Path | None = None, samples: Path | None = None) -> list[OfficialUnit]:
    """Units from the ministry's current exports and the DILA directory API, whichever are given.

    The exports are ``;``-separated CSV (data.gouv.fr); the gendarmerie's carries
    ``horaires_accueil``, the police's has the same columns without hours.
    """
    units: list[OfficialUnit] = []
    if samples and samples.exists():
        data = json.loads(samples.read_text(encoding="utf-8"))
        units += [_ministry_unit(row, GENDARMERIE_SOURCE) for row in data.get("datagouv_gendarmerie_csv_rows", [])]
        if data.get("dila_api_annuaire_record"):
            units.append(_annuaire_unit(data["dila_api_annuaire_record"]))
    for path, source in ((gendarmerie_csv, GENDARMERIE_SOURCE), (police_csv, POLICE_SOURCE)):
        if path:
            with path.open(encoding="utf-8-sig") as handle:
                units += [_ministry_unit(row, source) for row in csv.DictReader(handle, delimiter=";")]
    if annuaire_json:
        data = json.loads(annuaire_json.read_text(encoding="utf-8"))
        units += [_annuaire_unit(r) for r in (data if isinstance(data, list) else data.get("service", []))]
    return units


def match_official_units(units: list[OfficialUnit], stations: dict[str, dict],
                         report: MapsReport) -> dict[str, OfficialUnit]:
    """Each official record on the 2020 unit it describes: by identifier, or the commune's only commissariat."""
    police_by_commune: dict[str, list[str]] = {}
    for station_id, values in stations.items():
        if values["kind"] == "police":
            police_by_commune.setdefault(values["code_insee"], []).append(station_id)
    matched: dict[str, OfficialUnit] = {}
    for unit in units:
        station_id = unit.station_id
        if station_id is None and unit.source == POLICE_SOURCE:
            candidates = police_by_commune.get(unit.code_insee, [])
            station_id = candidates[0] if len(candidates) == 1 else None
        if station_id in stations:
            matched[station_id] = unit
        elif station_id and not station_id.startswith(("gendarmerie", "commissariat")):
            continue  # the directory API also lists town halls and other services
        else:
            report.skipped["fiches officielles récentes sans unité correspondante (non importées)"] += 1
    return matched


def _apply_official(values: dict, unit: OfficialUnit, commune: Commune | None) -> None:
    """The current file's address, phone, position and hours replace the 2020 ones it gives."""
    if unit.address:
        values["address"] = unit.address
        values["postcode"] = unit.postcode or values["postcode"]
    if unit.phone:
        values["phone"] = unit.phone
    if unit.latitude is not None and unit.longitude is not None and _near(unit, commune):
        values["latitude"], values["longitude"], values["position_note"] = unit.latitude, unit.longitude, ""
    if unit.hours:
        values["hours"], values["hours_source"] = unit.hours, unit.hours_source
    values["source"] = f"{STATIONS_SOURCE} ; mise à jour : {unit.source}"


def _near(unit: OfficialUnit, commune: Commune | None, limit_km: float = 50.0) -> bool:
    """A position within reach of the unit's commune: the files' gross errors are hundreds of km off."""
    if commune is None or commune.latitude is None:
        return True
    lat1, lon1, lat2, lon2 = map(math.radians, (unit.latitude, unit.longitude, commune.latitude, commune.longitude))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a)) <= limit_km


def referenced_stations(session: Session, station_ids: list[str]) -> set[str]:
    """The stations other tables still point at (cases, agents, agendas), found from the schema itself."""
    found: set[str] = set()
    if not station_ids:
        return found
    for table in Station.metadata.tables.values():
        for key in table.foreign_keys:
            if key.column.table.name == Station.__tablename__ and table.name != Station.__tablename__:
                found.update(session.scalars(select(key.parent).where(key.parent.in_(station_ids)).distinct()))
    return found


def load_stations(session: Session, data_dir: Path, report: MapsReport, official: list[OfficialUnit]) -> None:
    communes = {c.code_insee: c for c in session.scalars(select(Commune))}
    points = CommunePoints([(c.code_insee, c.department_code, c.latitude, c.longitude)
                            for c in communes.values() if c.latitude is not None])
    existing = {s.id: s for s in session.scalars(select(Station))}
    rows: dict[str, dict] = {}
    with (data_dir / STATIONS_FILE).open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            kind = KINDS.get(row["type"])
            if kind is None:
                report.skipped[f"type inconnu ({row['type']})"] += 1
                continue
            rows[row["id"]] = _station_values(row, kind, communes.get(row["code_insee"]), points, report)
    updates = match_official_units(official, rows, report)
    now = datetime.now(UTC)
    created = updated = 0
    for station_id, values in rows.items():
        if station_id in updates:
            _apply_official(values, updates[station_id], communes.get(values["code_insee"]))
        digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()
        station = existing.get(station_id)
        if station is not None and station.content_hash == digest and station.withdrawn_at is None:
            continue
        if station is None:
            station = Station(id=station_id)
            session.add(station)
            created += 1
        else:
            updated += 1
        for key, value in values.items():
            setattr(station, key, value)
        station.content_hash = digest
        station.updated_at = now
        station.withdrawn_at = None
    gone = [s for sid, s in existing.items() if sid not in rows]
    kept = referenced_stations(session, [s.id for s in gone])
    for station in gone:
        if station.id not in kept:
            session.delete(station)
        elif station.withdrawn_at is None:
            station.withdrawn_at = station.updated_at = now
    if kept:
        report.lines.append(f"Unités retirées des données mais gardées pour les dossiers qui y renvoient : {len(kept)}")
    with_hours = sum(1 for values in rows.values() if values["hours"])
    report.lines.append(f"Unités : {len(rows)} ({created} créées, {updated} mises à jour, {len(gone)} retirées), "
                        f"dont {len(updates)} complétées par un fichier officiel récent et "
                        f"{with_hours} avec des horaires officiels")


def _station_values(row: dict, kind: str, commune: Commune | None, points: CommunePoints,
                    report: MapsReport) -> dict:
    latitude, longitude = _float(row["latitude"]), _float(row["longitude"])
    where = (row["departement"], row["code_insee"])
    note = ""
    dubious = latitude is None or bool(row["alerte_coordonnees"]) or points.foreign(latitude, longitude, *where)
    if (dubious and latitude is not None and commune is not None and commune.position_note
            and points.coherent(latitude, longitude, *where)):
        # The source measured it against its town hall's point, which was the wrong one.
        dubious = False
        report.skipped["unités gardées à leur position (c'est le point de la mairie qui était faux)"] += 1
    if dubious:
        # The source places this unit far from its commune (or nowhere): the commune's
        # town hall stands in, and the pages say the position is approximate.
        if commune is not None and commune.latitude is not None:
            latitude, longitude = commune.latitude, commune.longitude
            note = ("Position approximative : celle estimée pour sa commune, la source étant incertaine."
                    if commune.position_note else
                    "Position approximative : celle de la mairie de la commune, la source étant incertaine.")
            report.skipped["unités placées à la mairie de leur commune (position source douteuse)"] += 1
        else:
            latitude = longitude = None
            note = "Position inconnue."
            report.skipped["unités sans position (absentes des recherches de proximité)"] += 1
    directory = ""
    if commune is not None:
        directory = (f"https://lannuaire.service-public.fr/{slug(commune.region_name)}/"
                     f"{slug(commune.department_name)}/{row['id']}")
    return {
        "kind": kind, "name": row["nom"].strip(), "address": row["adresse"].strip(),
        "postcode": row["code_postal"], "commune": row["commune"], "code_insee": row["code_insee"],
        "department_code": row["departement"], "phone": row["telephone"].strip(),
        "email": row["email"].strip(), "website": row["url"].strip(), "accessibility": row["accessibilite"],
        "latitude": latitude, "longitude": longitude, "position_note": note, "hours": None,
        "hours_source": "", "directory_url": directory, "source": STATIONS_SOURCE,
    }


def load_all(session: Session, data_dir: Path, gendarmerie_csv: Path | None = None,
             police_csv: Path | None = None, annuaire_json: Path | None = None) -> MapsReport:
    report = MapsReport()
    load_communes(session, data_dir, report)
    session.flush()
    official = read_official_units(gendarmerie_csv, police_csv, annuaire_json, data_dir / HOURS_SAMPLES_FILE)
    load_stations(session, data_dir, report, official)
    session.flush()
    return report
