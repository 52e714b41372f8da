"""Loading the catalogue: the portal's content files and the service-public.fr fiches."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
import yaml
from sqlalchemy import func, select, update

from catalogue.loader import CONTENT_DIR, ContentError, import_fiches, load_content, read_content
from catalogue.models import LifeEvent, Procedure
from portal import outbox
from tests.conftest import DATA_DIR

REQUIRED_SLUGS = [
    "plainte-en-ligne", "pre-plainte-en-ligne", "visio-plainte", "tchat-police", "thesee",
    "pharos", "17cyber", "trouver-commissariat", "appels-urgence", "vol-papiers-identite",
    "perte-papiers-identite", "cambriolage", "vol-vehicule", "fraude-carte-bancaire",
    "cyberharcelement", "violences-conjugales", "violences-sexuelles", "discrimination",
    "main-courante", "operation-tranquillite-vacances",
]


def _published(session, slug):
    return session.scalars(select(Procedure).where(Procedure.slug == slug)).one()


@pytest.mark.parametrize("slug", REQUIRED_SLUGS)
def test_every_required_procedure_is_published_with_its_sections(db_session, slug):
    entry = _published(db_session, slug)
    assert entry.kind == "procedure"
    assert entry.status == "published"
    assert entry.title and entry.summary
    assert entry.verified_on is not None
    assert entry.sources, "every procedure cites its sources"
    assert entry.for_whom or entry.conditions


def test_procedures_say_what_citizens_must_know(db_session):
    plainte = _published(db_session, "plainte-en-ligne")
    assert "15 octobre 2024" in plainte.full_text()
    assert plainte.requires_franceconnect
    pre = _published(db_session, "pre-plainte-en-ligne")
    assert pre.superseded_by == "plainte-en-ligne"
    visio = _published(db_session, "visio-plainte")
    assert "violences sexuelles" in visio.full_text().lower()
    urgence = _published(db_session, "appels-urgence")
    assert {c["number"] for c in urgence.contacts} >= {"17", "112", "114", "15", "18"}
    perte = _published(db_session, "perte-papiers-identite")
    assert "pas au commissariat" in perte.summary
    assert "3018" in {c["number"] for c in _published(db_session, "cyberharcelement").contacts}
    conjugales = _published(db_session, "violences-conjugales")
    assert conjugales.sensitive and "3919" in {c["number"] for c in conjugales.contacts}
    assert "arretonslesviolences.gouv.fr" in conjugales.external_url
    assert "Perceval" in _published(db_session, "fraude-carte-bancaire").title


def test_life_events_are_ordered_and_point_at_published_procedures(db_session):
    events = db_session.scalars(select(LifeEvent).order_by(LifeEvent.position)).all()
    slugs = [e.slug for e in events]
    assert slugs[:9] == [
        "vol-cambriolage", "papiers-perdus-voles", "arnaque-escroquerie", "violences",
        "harcelement-en-ligne", "contenu-illegal-internet", "depart-vacances", "urgence",
        "trouver-commissariat",
    ]
    violences = events[slugs.index("violences")]
    assert violences.sensitive
    assert [p.slug for p in violences.procedures][:2] == ["appels-urgence", "violences-conjugales"]


def test_loading_twice_changes_nothing(db_session):
    before = {p.slug: p.updated_at for p in db_session.scalars(select(Procedure).where(Procedure.kind == "procedure"))}
    events = outbox.latest_id(db_session)
    report = load_content(db_session)
    assert report.created == [] and report.created_events == [] and report.created_institutions == []
    assert report.existing == len(before)
    after = {p.slug: p.updated_at for p in db_session.scalars(select(Procedure).where(Procedure.kind == "procedure"))}
    assert after == before
    assert outbox.events_after(db_session, events) == []
    assert f"0 créée(s), {len(before)} déjà en base" in report.content_summary()


def _copy_content(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def test_the_files_are_initial_content_and_never_overwrite_the_database(db_session, tmp_path):
    """An editor's change (here made directly) survives a load of files that say otherwise; entries the
    files no longer have stay as they are; only what the database lacks is created, and announced."""
    db_session.execute(update(Procedure).where(Procedure.slug == "main-courante")
                       .values(summary="Résumé modifié par une rédactrice."))
    db_session.execute(update(LifeEvent).where(LifeEvent.slug == "urgence").values(title="Titre des rédacteurs"))
    content = _copy_content(tmp_path)
    path = content / "procedures" / "main-courante.yaml"
    data = yaml.safe_load(path.read_text())
    data["summary"] = "Résumé des fichiers."
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    (content / "procedures" / "17cyber.yaml").unlink()
    for other in (content / "procedures").glob("*.yaml"):
        other.write_text(other.read_text().replace("17cyber, ", "").replace(", 17cyber", ""))
    new = {**yaml.safe_load((content / "procedures" / "pharos.yaml").read_text()),
           "slug": "nouvelle-demarche", "title": "Nouvelle démarche", "related": ["pharos", "thesee"]}
    (content / "procedures" / "nouvelle-demarche.yaml").write_text(yaml.safe_dump(new, allow_unicode=True))
    life_events = content / "life_events.yaml"
    life_events.write_text(life_events.read_text().replace(", 17cyber", "") + (
        "- slug: nouvelle-situation\n  title: Une nouvelle situation\n  summary: Pour le test.\n"
        "  procedures: [nouvelle-demarche, pharos]\n"))
    events = outbox.latest_id(db_session)

    report = load_content(db_session, content)

    assert report.created == ["nouvelle-demarche"] and report.created_events == ["nouvelle-situation"]
    assert _published(db_session, "main-courante").summary == "Résumé modifié par une rédactrice."
    assert _published(db_session, "17cyber").status == "published"
    assert db_session.scalar(select(LifeEvent.title).where(LifeEvent.slug == "urgence")) == "Titre des rédacteurs"
    created = _published(db_session, "nouvelle-demarche")
    assert created.status == "published" and [p.slug for p in created.related] == ["pharos", "thesee"]
    situation = db_session.scalar(select(LifeEvent).where(LifeEvent.slug == "nouvelle-situation"))
    assert [p.slug for p in situation.procedures] == ["nouvelle-demarche", "pharos"]
    assert situation.position == max(db_session.scalars(select(LifeEvent.position)))  # after the others
    assert [(e.topic, e.key) for e in outbox.events_after(db_session, events)] == [
        (outbox.ENTRY, "nouvelle-demarche")]
    assert "Démarches du portail : 1 créée(s)" in report.content_summary()


def test_inconsistent_content_is_refused_with_every_problem_listed(tmp_path):
    content = _copy_content(tmp_path)
    path = content / "procedures" / "pharos.yaml"
    data = yaml.safe_load(path.read_text())
    data["related"] = ["n-existe-pas"]
    data["institution"] = "inconnue"
    data["channels"] = ["pigeon"]
    data["external_url"] = "http://insecure.example"
    data["statut"] = "typo"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(ContentError) as error:
        read_content(content)
    message = str(error.value)
    for expected in ("n-existe-pas", "inconnue", "pigeon", "non https", "statut"):
        assert expected in message


def test_fiches_are_imported_with_their_provenance(db_session):
    count = db_session.scalar(select(func.count()).where(Procedure.kind == "fiche", Procedure.status == "published"))
    assert count == 4873 - 54  # every fiche but the "Recherche guidée" tools
    fiche = _published(db_session, "F1344")
    assert fiche.kind == "fiche"
    assert fiche.title == "Carte d'identité d'un majeur : en cas de perte"
    assert fiche.source_url == "https://www.service-public.fr/particuliers/vosdroits/F1344"
    assert fiche.source_date == date(2020, 8, 26)
    assert "commissariat_police" not in fiche.body
    assert fiche.is_dated(date(2026, 11, 23), 365)
    assert db_session.scalar(select(Procedure).where(Procedure.slug == "F35460")) is None  # Recherche guidée


def test_the_2024_version_of_porter_plainte_replaces_the_2020_one(db_session):
    fiche = _published(db_session, "F1435")
    assert fiche.source_date == date(2024, 10, 16)
    assert "THESEE" in fiche.body


def test_outdated_fiches_are_flagged(db_session):
    replaced = _published(db_session, "R19620")
    assert replaced.superseded_by == "plainte-en-ligne"
    vehicle = _published(db_session, "F21138")  # still tells people to use the pré-plainte
    assert vehicle.notices and vehicle.notices[0]["see"] == "plainte-en-ligne"


def test_importing_fiches_twice_changes_nothing(db_session):
    events = outbox.latest_id(db_session)
    report = import_fiches(db_session, DATA_DIR)
    assert report.created == [] and report.updated == [] and report.unpublished == []
    assert report.unchanged == 4873 - 54
    assert report.skipped["recherche guidée (outil interne, pas un contenu)"] == 54
    assert outbox.events_after(db_session, events) == []


def _newer_feed(tmp_path, changes: dict[str, dict], added: dict, removed: set[str]):
    """A copy of the real feed where some fiches changed, one was added and some are gone."""
    fiches = tmp_path / "feed" / "fiches"
    fiches.mkdir(parents=True)
    for path in (DATA_DIR / "fiches").glob("*.json"):
        shutil.copy(path, fiches / path.name)
    with (DATA_DIR / "fiches" / "vdd_particuliers_2020_all.jsonl").open(encoding="utf-8") as source, \
            (fiches / "vdd_particuliers_2020_all.jsonl").open("w", encoding="utf-8") as target:
        for line in source:
            fiche = json.loads(line)
            if fiche["id"] in removed:
                continue
            target.write(json.dumps({**fiche, **changes.get(fiche["id"], {})}, ensure_ascii=False) + "\n")
        target.write(json.dumps(added, ensure_ascii=False) + "\n")
    return tmp_path / "feed"


def test_a_newer_feed_reports_the_fiches_added_changed_and_withdrawn(db_session, tmp_path):
    # An editor hid F1344; DILA then changed it: its text follows, it stays hidden.
    db_session.execute(update(Procedure).where(Procedure.slug == "F1344").values(status="hidden"))
    added = {"id": "F99999", "audience": "particuliers", "type": "Fiche d'information",
             "url": "https://www.service-public.fr/particuliers/vosdroits/F99999", "title": "Une nouvelle fiche",
             "description": "Ce que dit la nouvelle fiche.", "date_modified": "2026-11-02",
             "breadcrumb": ["Accueil particuliers", "Une nouvelle fiche"], "text": "Le texte de la fiche."}
    feed = _newer_feed(tmp_path, {"F10": {"title": "Médaille d'honneur du travail (2026)",
                                          "date_modified": "2026-10-01"},
                                  "F1344": {"description": "Une description de 2026."}},
                       added, removed={"F100"})
    events = outbox.latest_id(db_session)

    report = import_fiches(db_session, feed)

    assert report.created == ["F99999"]
    assert sorted(report.updated) == ["F10", "F1344"]
    assert report.unpublished == ["F100"]
    assert _published(db_session, "F10").title == "Médaille d'honneur du travail (2026)"
    assert _published(db_session, "F100").status == "draft"
    hidden = _published(db_session, "F1344")
    assert (hidden.status, hidden.summary) == ("hidden", "Une description de 2026.")
    assert _published(db_session, "F99999").status == "published"
    assert sorted(e.key for e in outbox.events_after(db_session, events)) == ["F10", "F100", "F1344", "F99999"]
    summary = report.fiches_summary()
    assert "1 ajoutée(s), 2 modifiée(s), 1 retirée(s) du flux" in summary
    assert "ajoutées : F99999" in summary and "retirées : F100" in summary

    # A withdrawn hidden fiche stays hidden; the feed never shows a fiche editors hid.
    again = import_fiches(db_session, _newer_feed(tmp_path / "again", {}, added, removed={"F100", "F1344"}))
    assert "F1344" not in again.unpublished and _published(db_session, "F1344").status == "hidden"


def test_the_report_lists_twenty_ids_at_most():
    from catalogue.loader import LoadReport

    report = LoadReport(created=[f"F{n}" for n in range(25)])
    line = next(line for line in report.fiches_summary().splitlines() if "ajoutées :" in line)
    assert line.endswith("F19 … et 5 autre(s)")


def test_the_content_files_are_valid_french_procedures():
    institutions, procedures, events = read_content()
    assert len(procedures) >= len(REQUIRED_SLUGS)
    assert {p["slug"] for p in procedures} >= set(REQUIRED_SLUGS)
    for p in procedures:
        assert p["summary"].strip().endswith((".", "?", ")")), p["slug"]
