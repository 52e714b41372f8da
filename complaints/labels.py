"""A case's history in words: each step and who took it, as the citizen reads it and as the officer reads it.

One table for both audiences, so that a new kind of step gets its two
wordings together (``tests/complaints/test_space.py`` checks that every kind
``record_event`` writes has both). The templates call ``event_label`` and
``actor_label`` (Jinja globals registered by ``complaints.init_app``).
"""

from __future__ import annotations

CITIZEN = "citizen"
OFFICER = "officer"
AUDIENCES = (CITIZEN, OFFICER)

# kind -> (the citizen's wording, the officer's wording)
EVENTS: dict[str, tuple[str, str]] = {
    "deposee": ("Plainte déposée", "Plainte déposée"),
    "prise_en_charge": ("Dossier pris en charge par un enquêteur", "Dossier pris en charge"),
    "complement_demande": ("L’unité vous demande un complément d’information", "Complément demandé au plaignant"),
    "complement_recu": ("Vous avez répondu à l’unité", "Réponse du plaignant"),
    "rdv_pris": ("Rendez-vous de visio-plainte réservé", "Rendez-vous de visio-plainte réservé"),
    "rdv_annule": ("Rendez-vous de visio-plainte annulé", "Rendez-vous annulé par le plaignant"),
    "rdv_deplace": ("Rendez-vous de visio-plainte déplacé", "Rendez-vous déplacé par le plaignant"),
    "pv_envoye": ("Procès-verbal envoyé pour relecture", "Procès-verbal envoyé"),
    "pv_valide": ("Vous avez validé le procès-verbal", "Procès-verbal validé par le plaignant"),
    "corrections_demandees": ("Vous avez demandé des corrections au procès-verbal",
                              "Corrections demandées sur le procès-verbal"),
    "cloturee": ("Dossier clôturé", "Dossier clôturé"),
}

# CaseEvent.actor -> (the citizen's wording, the officer's wording)
ACTORS: dict[str, tuple[str, str]] = {
    "citizen": ("Vous", "Plaignant"),
    "agent": ("L’unité", "Unité"),
    "system": ("Le portail", "Portail"),
}


def _wording(pair: tuple[str, str], audience: str) -> str:
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience: {audience}")
    return pair[AUDIENCES.index(audience)]


def event_label(kind: str, audience: str = CITIZEN) -> str:
    """What the step ``kind`` is called for ``audience``; an unknown kind is never shown as its code."""
    return _wording(EVENTS.get(kind, ("Étape du dossier", "Étape du dossier")), audience)


def actor_label(actor: str, audience: str = CITIZEN) -> str:
    return _wording(ACTORS.get(actor, ("", "")), audience)
