"""The widgets' plain functions: options, who may frame, what each widget shows (real data where it matters)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from maps.hours import Schedule
from maps.services import Nearby, StationRecord
from portal.extensions import db
from widgets import services
from widgets.registry import Registry
from widgets.services import CommuneInfo, Options, WidgetError

PARIS = ZoneInfo("Europe/Paris")
# A Tuesday, 10:30 in Le Mans.
TUESDAY_MORNING = datetime(2026, 12, 1, 10, 30, tzinfo=PARIS)


@pytest.fixture
def session(app):
    with app.app_context():
        yield db.session
        db.session.rollback()


# -- options ------------------------------------------------------------------------------------------------


def test_options_are_read_with_their_defaults(session):
    options = services.parse_options(session, "urgences", {"commune": "72181"})
    assert options.commune.name == "Le Mans" and options.commune.department == "72"
    assert (options.theme, options.scheme, options.compact) == ("clair", "light", False)
    dark = services.parse_options(session, "unites", {"commune": "72181", "theme": "sombre", "compact": "1",
                                                      "carte": "1"})
    assert (dark.scheme, dark.compact, dark.carte) == ("dark", True, True)


def test_corsica_codes_are_read_in_either_case(session):
    assert services.parse_options(session, "urgences", {"commune": "2a004"}).commune.code_insee == "2A004"


@pytest.mark.parametrize("args, says", [
    ({}, "est obligatoire"),
    ({"commune": "72000"}, "Aucune commune"),
    ({"commune": "7218"}, "code INSEE à cinq caractères"),
    ({"commune": "72181", "theme": "noir"}, "« clair » ou « sombre »"),
    ({"commune": "72181", "compact": "true"}, "compact"),
])
def test_wrong_options_are_refused_in_french(session, args, says):
    with pytest.raises(WidgetError) as error:
        services.parse_options(session, "urgences", args)
    assert says in error.value.message


def test_options_a_widget_does_not_use_are_ignored(session):
    options = services.parse_options(session, "urgences", {"commune": "72181", "carte": "oui", "utm_source": "x"})
    assert options.carte is False


def test_the_search_widget_reads_its_mode_and_query(session):
    options = services.parse_options(session, "recherche", {"commune": "72181", "resultats": "widget",
                                                             "q": "  vol   de  vélo " + "x" * 300})
    assert options.resultats == "widget" and options.q.startswith("vol de vélo ")
    assert len(options.q) == services.MAX_QUERY_CHARS
    assert options.params() == {"commune": "72181", "resultats": "widget"}
    with pytest.raises(WidgetError, match="« widget »"):
        services.parse_options(session, "recherche", {"commune": "72181", "resultats": "cadre"})


def test_procedures_are_one_to_six_published_slugs(session):
    assert services.procedure_slugs(session, "plainte-en-ligne, pharos,plainte-en-ligne") == ("plainte-en-ligne",
                                                                                               "pharos")
    assert services.procedure_slugs(session, "F34123") == ("F34123",)
    for text, says in [("", "obligatoire"), (",".join(["pharos"] * 2 + [f"x{i}" for i in range(6)]), "au plus 6"),
                       ("pharos,n'importe quoi", "mal formé"), ("pharos,absente", "absente")]:
        with pytest.raises(WidgetError, match=says):
            services.procedure_slugs(session, text)
    entries = services.procedures(session, ("pharos", "plainte-en-ligne"))
    assert [e.slug for e in entries] == ["pharos", "plainte-en-ligne"]


def test_the_commune_is_named_as_french_says_it():
    def named(name):
        return CommuneInfo("00000", name, "00", None, None).of_name
    assert [named("Le Mans"), named("Les Sables-d'Olonne"), named("Angers"), named("Laval"),
            named("La Flèche"), named("Évreux")] == ["du Mans", "des Sables-d'Olonne", "d'Angers", "de Laval",
                                                      "de La Flèche", "d'Évreux"]


# -- who may frame a widget ---------------------------------------------------------------------------------


def test_the_origin_of_a_referer_is_what_browsers_send():
    assert services.origin_of("https://WWW.Lemans.fr:443/page?x=1") == "https://www.lemans.fr"
    assert services.origin_of("http://127.0.0.1:8001/hote.html") == "http://127.0.0.1:8001"
    assert services.origin_of("http://[::1]:80/") == "http://[::1]"
    for nothing in (None, "", "null", "file:///tmp/x.html", "about:blank", "https://", "https://x:99999/"):
        assert services.origin_of(nothing) is None


def test_only_a_cross_origin_iframe_request_names_its_embedder():
    own = {"https://portail.example"}
    assert services.embedder("iframe", "https://www.lemans.fr/", own) == "https://www.lemans.fr"
    assert services.embedder("IFRAME", "https://portail.example/mairies", own) is None
    assert services.embedder("document", "https://www.lemans.fr/", own) is None
    assert services.embedder(None, "https://www.lemans.fr/", own) is None
    assert services.embedder("iframe", None, own) is None


def test_refusal_and_frame_ancestors_follow_the_registry():
    reg = Registry({"72181": ("https://www.lemans.fr",), "49007": ("https://www.angers.fr",)},
                   frozenset({"https://www.lemans.fr", "https://www.angers.fr"}))
    assert not services.refused(reg, "72181", "https://www.lemans.fr")
    assert not services.refused(reg, "72181", None)
    assert services.refused(reg, "72181", "https://www.angers.fr")
    assert services.refused(reg, "", "https://www.lemans.fr")
    assert services.refused(reg, "99999", "https://pirate.example")
    assert services.frame_ancestors(reg, "72181") == ("'self'", "https://www.lemans.fr")
    assert services.frame_ancestors(reg, "53130") == ("'self'",)
    assert services.frame_ancestors(reg, None) == ("'self'",)
    assert services.parent_origins(reg, "72181", "https://portail.example") == ("https://portail.example",
                                                                                 "https://www.lemans.fr")


# -- what the widgets show ----------------------------------------------------------------------------------


def _record(schedule: Schedule | None, **changes) -> StationRecord:
    fields = dict(id="commissariat_police-00000-01", kind="police", name="Commissariat d'essai", address="1 rue",
                  postcode="72000", commune="Le Mans", department="72", phone="02 43 00 00 00", latitude=48.0,
                  longitude=0.2, position_note="", schedule=schedule, hours_source="", directory_url="")
    return StationRecord(**{**fields, **changes})


def test_a_unit_shows_todays_hours_and_whether_it_is_open():
    schedule = Schedule()
    for day in range(5):
        schedule.add(day, 8 * 60, 12 * 60)
        schedule.add(day, 14 * 60, 18 * 60 + 30)
    unit = services.unit_of(Nearby(_record(schedule), 1.24), TUESDAY_MORNING, 1)
    assert unit.open_now is True and unit.status == "Ouvert, ferme à 12 h"
    assert unit.today == "8 h – 12 h, 14 h – 18 h 30"
    assert unit.phone_link == "0243000000" and unit.distance_km == 1.24 and unit.number == 1
    sunday = services.unit_of(_record(schedule), datetime(2026, 12, 6, 11, 0, tzinfo=PARIS))
    assert sunday.open_now is False and sunday.today == "Fermé aujourd'hui"
    unknown = services.unit_of(_record(None), TUESDAY_MORNING)
    assert (unknown.open_now, unknown.today, unknown.status) == (None, None, "Horaires non communiqués")


def test_the_units_nearest_le_mans_town_hall(session):
    info = services.commune(session, "72181")
    found = services.nearest_units(session, info, 5, with_plan=True, at=TUESDAY_MORNING)
    assert found.located and len(found.units) == 5
    distances = [u.distance_km for u in found.units]
    assert distances == sorted(distances) and distances[0] < 3
    assert [u.number for u in found.units] == [1, 2, 3, 4, 5]
    plan = found.plan
    assert plan.points[0].number == 0 and "Mairie du Mans" == plan.points[0].label
    assert all(0 <= p.x <= plan.width and 0 <= p.y <= plan.height for p in plan.points)
    assert 0 < plan.scale_px < plan.width and plan.scale_label.endswith("km")
    assert "la mairie du Mans" in plan.description
    assert services.nearest_units(session, info, 3).plan is None


def test_a_commune_the_data_does_not_place_gets_its_departments_units(session):
    from sqlalchemy import select

    from maps.models import Commune

    unplaced = session.scalars(select(Commune.code_insee).where(Commune.latitude.is_(None))).all()
    assert unplaced  # 106 communes of the open data have no town-hall position
    info = next(i for i in (services.commune(session, code) for code in unplaced)
                if services.nearest_units(session, i, 1).units)
    found = services.nearest_units(session, info, 4, with_plan=True)
    assert not found.located and found.plan is None
    assert found.units and all(u.record.department == info.department and u.distance_km is None
                               for u in found.units)


def test_emergency_gives_17_112_114_and_the_nearest_police_and_gendarmerie(session):
    info = services.commune(session, "72181")
    found = services.emergency(session, info, TUESDAY_MORNING)
    assert [n["number"] for n in found.numbers] == ["17", "112", "114"]
    assert "sourdes" in found.numbers[2]["detail"]
    assert found.police.record.kind == "police" and found.gendarmerie.record.kind == "gendarmerie"


def test_the_situations_come_with_their_procedures(session):
    events = services.situations(session)
    assert len(events) >= 5 and all(e.status == "published" for e in events)
    assert any("plainte-en-ligne" in [p.slug for p in e.procedures] for e in events)


def test_a_plan_keeps_its_points_inside_even_for_a_single_unit():
    info = CommuneInfo("72181", "Le Mans", "72", 48.0, 0.2)
    unit = services.unit_of(_record(None, latitude=48.0, longitude=0.2), TUESDAY_MORNING, 1)
    plan = services.build_plan(info, [unit])
    assert all(0 <= p.x <= plan.width and 0 <= p.y <= plan.height for p in plan.points)
    assert services.build_plan(CommuneInfo("1", "X", "72", None, None), [unit]) is None


def test_params_rebuild_the_widget_address_without_defaults():
    info = CommuneInfo("72181", "Le Mans", "72", 48.0, 0.2)
    assert Options("unites", info, "sombre", True, carte=True).params() == {
        "commune": "72181", "theme": "sombre", "compact": "1", "carte": "1"}
    assert Options("demarche", info, demarches=("a", "b")).params() == {"commune": "72181", "demarches": "a,b"}
