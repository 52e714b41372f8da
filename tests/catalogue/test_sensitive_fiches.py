"""Service-public.fr fiches on violence done to a person are marked sensitive, like the portal's own pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from catalogue.loader import _read_fiches, fiche_is_sensitive
from catalogue.models import Procedure
from tests.conftest import DATA_DIR

# Real fiches of ../shared/data/fiches, both ways.
SENSITIVE_FICHES = {
    "F12544": "Violence conjugale",
    "R50511": "Téléservice : Signaler des violences conjugales",
    "F1526": "Viol commis sur une personne majeure",
    "F33891": "Agression sexuelle sur une personne majeure",
    "F2274": "Infraction sexuelle sur mineur : corruption, agression, atteinte sexuelle, viol",
    "F1043": "Harcèlement sexuel",
    "F2354": "Harcèlement moral au travail",
    "F32239": "Cyber-harcèlement (harcèlement sur internet)",
    "F31985": "Harcèlement scolaire - Violences scolaires - Provocation au suicide",
    "F952": "Enfant battu, maltraité ou privé de soin",
    "F861": "Maltraitance d'une personne âgée : que faire ?",
    "F2532": "Prostitution, proxénétisme, tourisme sexuel",
    "F1524": "Coups et blessures",
    "N19681": "Violence - Atteinte à l'intégrité",
}
ORDINARY_FICHES = {
    "F31859": "Comment signaler une maltraitance animale et quelles sont les sanctions ?",
    "F32575": "Incitation à la haine, à la violence ou à la discrimination raciale",
    "F34836": "Fichier des auteurs d'infractions sexuelles ou violentes (Fijais)",
    "F21613": "Peut-on cacher son visage dans un lieu public ?",  # in the "Violence" folder all the same
    "F2630": "Accident sous l'emprise d'alcool ou de drogue : quels effets sur l'assurance ?",
    "F10568": "Divorce pour altération définitive du lien conjugal",
    "F20283": "Mineur victime de vol ou de racket",
    "F32346": "Comment sont classés les programmes violents ou choquants à la télévision ?",
    "R50242": "Téléservice : Signaler une discrimination sexuelle ou sexiste",
    "F1435": "Porter plainte",
}


@pytest.fixture(scope="module")
def fiches():
    return _read_fiches(DATA_DIR)


@pytest.mark.parametrize("fiche_id", SENSITIVE_FICHES)
def test_fiches_on_violence_are_sensitive(fiches, fiche_id):
    assert " ".join(fiches[fiche_id]["title"].split()) == SENSITIVE_FICHES[fiche_id]
    assert fiche_is_sensitive(fiches[fiche_id])


@pytest.mark.parametrize("fiche_id", ORDINARY_FICHES)
def test_fiches_that_only_share_a_word_are_not(fiches, fiche_id):
    assert " ".join(fiches[fiche_id]["title"].split()) == ORDINARY_FICHES[fiche_id]
    assert not fiche_is_sensitive(fiches[fiche_id])


@pytest.mark.parametrize("title, sensitive", [
    ("Victime de violences conjugales : que faire ?", True),
    ("Violences sexuelles et sexistes", True),
    ("Violences intrafamiliales", True),
    ("Inceste : porter plainte", True),
    ("Mutilations sexuelles féminines (excision)", True),
    ("Mariage forcé : comment être protégé ?", True),
    ("Traite des êtres humains", True),
    ("Féminicide", True),
    ("Outrage sexiste", True),
    ("VIOL", True),
    ("Vol avec violence : porter plainte", False),   # a robbery: property, not the person
    ("Violation de domicile", False),
    ("Violon : assurer un instrument", False),
    ("Retraite des fonctionnaires", False),          # not "traite"
    ("Force majeure", False),
])
def test_the_vocabulary(title, sensitive):
    assert fiche_is_sensitive({"title": title}) is sensitive


def test_the_vocabulary_on_every_real_fiche(fiches):
    """The list of sensitive fiches is the one reviewed by hand, nothing more."""
    found = {fiche_id for fiche_id, fiche in fiches.items() if fiche_is_sensitive(fiche)}
    assert found == set(SENSITIVE_FICHES) | {
        "F32235",  # Harcèlement téléphonique
        "F32247",  # Que faire en cas de harcèlement ?
        "F32257",  # Un étranger victime d'esclavagisme ou de proxénétisme peut-il être régularisé ?
        "F34550",  # Outrage sexiste ou sexuel
        "N31146",  # Harcèlement (dossier)
        "R48395",  # Téléservice : Signaler un viol ou une agression sexuelle
        "R50241",  # Téléservice : Signaler un harcèlement sexuel ou sexiste
        "R50509",  # Téléservice : Signalement de violence sexuelle ou sexiste
        "R50520",  # Téléservice : Signaler des injures ou un outrage sexuel ou sexiste
    }


def test_imported_fiches_carry_the_mark(db_session):
    marked = dict(db_session.execute(
        select(Procedure.slug, Procedure.sensitive).where(Procedure.slug.in_([*SENSITIVE_FICHES, *ORDINARY_FICHES]))
    ).all())
    assert {slug for slug, sensitive in marked.items() if sensitive} == set(SENSITIVE_FICHES)


def test_a_sensitive_fiche_page_is_protected(client):
    page = client.get("/fiches/F12544")
    html = page.get_data(as_text=True)
    assert 'id="quick-exit"' in html and "Quitter rapidement ce site" in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    ordinary = client.get("/fiches/F1435")
    assert 'id="quick-exit"' not in ordinary.get_data(as_text=True)
    assert ordinary.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
