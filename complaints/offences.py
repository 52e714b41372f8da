"""Offence categories: the codes stored on ``Case.offence`` and what the citizen reads.

A case carries a code, never free text, so officers can filter on it. Each
code says which journeys accept it: plainte en ligne takes property offences
with an unknown author; visio-plainte takes the offences the decree of
23 February 2024 allows (violence and threats, thefts, fraud, damage,
discrimination, cyber-harassment). Sexual offences are in neither list: they
call for an in-person hearing.
"""

from __future__ import annotations

from dataclasses import dataclass

ONLINE = "plainte_en_ligne"
VISIO = "visio_plainte"


@dataclass(frozen=True)
class Offence:
    code: str
    label: str  # what the citizen and the officer read, in French
    hint: str  # a short explanation under the radio button
    kinds: frozenset[str]  # the journeys (Case.kind) that accept it
    # What the "what was taken" step asks for: "phone", "card", "papers", "vehicle", "bicycle", or "" (nothing).
    items: tuple[str, ...] = ()
    # What visio-plainte shows instead of ``hint`` when they differ (there, the author is often known).
    visio_hint: str = ""


_BOTH = frozenset({ONLINE, VISIO})

OFFENCES: dict[str, Offence] = {
    offence.code: offence
    for offence in (
        Offence("vol_telephone", "Vol de téléphone portable",
                "Votre téléphone a été volé, sans violence, par une personne que vous ne connaissez pas.",
                _BOTH, ("phone", "other"),
                visio_hint="Votre téléphone a été volé, avec ou sans violence, que vous connaissiez l’auteur ou non."),
        Offence("vol_portefeuille_sac", "Vol de portefeuille ou de sac",
                "Portefeuille, sac à main, sac à dos, avec ou sans cartes et papiers.",
                _BOTH, ("card", "papers", "phone", "other")),
        Offence("vol_papiers", "Vol de papiers d’identité",
                "Carte d’identité, passeport, permis de conduire, titre de séjour volés (pas perdus).",
                _BOTH, ("papers",)),
        Offence("vol_velo", "Vol de vélo",
                "Vélo, vélo à assistance électrique, trottinette.", _BOTH, ("bicycle",)),
        Offence("vol_vehicule", "Vol de véhicule ou dans un véhicule",
                "Voiture, deux-roues motorisé, ou objets volés à l’intérieur.", _BOTH, ("vehicle", "other")),
        Offence("cambriolage", "Cambriolage",
                "Vol dans votre logement, votre cave, votre garage ou votre local professionnel.",
                _BOTH, ("other", "card", "papers", "phone")),
        Offence("degradation", "Dégradation ou destruction",
                "Un bien vous appartenant a été abîmé ou détruit (tag, vitre brisée, véhicule rayé…).",
                _BOTH, ("other",)),
        Offence("fraude_carte_apres_vol", "Utilisation frauduleuse de votre carte bancaire après son vol",
                "Des paiements ou retraits ont été faits avec votre carte volée.", _BOTH, ("card",)),
        # Visio-plainte only.
        Offence("vol", "Vol (autre)", "Un autre vol, y compris avec violence ou par une personne connue.",
                frozenset({VISIO})),
        Offence("violences", "Violences", "Coups, blessures, violences physiques ou psychologiques.",
                frozenset({VISIO})),
        Offence("menaces", "Menaces", "Menaces de mort, de violences ou de dégradations.", frozenset({VISIO})),
        Offence("harcelement", "Harcèlement", "Propos ou comportements répétés qui dégradent vos conditions de vie.",
                frozenset({VISIO})),
        Offence("discrimination", "Discrimination",
                "Traitement défavorable en raison de l’origine, du sexe, du handicap, de la religion…",
                frozenset({VISIO})),
        Offence("cyberharcelement", "Cyberharcèlement",
                "Harcèlement par messages, réseaux sociaux, courriels.", frozenset({VISIO})),
        Offence("escroquerie", "Escroquerie ou abus de confiance",
                "On vous a trompé pour obtenir de l’argent ou un bien (hors arnaque sur internet : THESEE).",
                frozenset({VISIO})),
    )
}


def offences_for(kind: str) -> list[Offence]:
    """The categories a journey offers, in display order."""
    return [offence for offence in OFFENCES.values() if kind in offence.kinds]


def allowed(kind: str, code: str | None) -> bool:
    offence = OFFENCES.get(code or "")
    return offence is not None and kind in offence.kinds


def label(code: str | None) -> str:
    """The French label of a code; an unknown code is shown as such rather than failing a page."""
    offence = OFFENCES.get(code or "")
    return offence.label if offence else "Autre infraction"
