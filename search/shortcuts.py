"""Understanding a search that asks for a unit: "commissariat lyon" leads to the station finder.

The words of the phrase are read here; which place they name is the
finder's business (``maps.services.place_named``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from maps.places import normalize
from maps.services import place_named
from portal.templating import de

# Words that say "a unit": a search for them with a place leads to the finder.
UNIT_WORDS = {"commissariat", "commissariats", "gendarmerie", "gendarmeries", "brigade", "brigades",
              "police", "poste"}
# Words around the place in such a search. They are only trimmed from its ends, so that
# "Bourg-en-Bresse" keeps its "en", and an article just before the place is tried first
# ("commissariat le mans" is Le Mans; "du mans" and "au mans" are too).
FILLER_WORDS = {"de", "du", "des", "la", "le", "les", "l", "d", "a", "au", "aux", "en", "dans", "pres",
                "proche", "proches", "plus", "trouver", "adresse", "horaires", "horaire", "heures", "heure",
                "ouverture", "ouvert", "ouverte", "ouverts", "ouvertes", "accueil", "contact", "coordonnees",
                "telephone", "numero", "ou", "est", "se", "situe", "ma", "mon", "moi", "chez", "ville",
                "hotel", "aujourd", "hui", "maintenant", "nuit", "soir", "dimanche", "samedi", "week", "end",
                "weekend", "ferie"}
ARTICLES = {"le": "le", "la": "la", "les": "les", "l": "l", "du": "le", "au": "le", "des": "les", "aux": "les"}
NEAREST_LABEL = "Trouver le commissariat ou la brigade de gendarmerie le plus proche"


@dataclass(frozen=True)
class Shortcut:
    """A link to the finder: ``query`` is its ``q`` (None: the finder's own page), ``kind`` its type."""

    label: str
    query: str | None
    kind: str | None


def words_of(text: str) -> list[str]:
    """Lowercase words without accents, as the finder reads place names (apostrophes and hyphens split)."""
    return normalize(text).split()


def place_candidates(words: list[str]) -> list[str]:
    """The place in a unit search, longest reading first."""
    start, end = 0, len(words)
    while end > start and words[end - 1] in FILLER_WORDS:
        end -= 1
    while start < end and words[start] in FILLER_WORDS:
        start += 1
    if start == end:
        return []
    place = words[start:end]
    candidates = [" ".join(place)]
    if start and words[start - 1] in ARTICLES:
        candidates.insert(0, " ".join([ARTICLES[words[start - 1]], *place]))
    return candidates


def unit_kind(words: list[str]) -> str | None:
    if any(w.startswith(("gendarmerie", "brigade")) for w in words):
        return "gendarmerie"
    if any(w.startswith(("commissariat", "police")) for w in words):
        return "police"
    return None


def station_shortcut(session: Session, text: str) -> Shortcut | None:
    """For a search like "commissariat lyon" or "gendarmerie 72000": the finder, on that place.

    None when the search names no unit, or names one with something that is
    not a place ("porter plainte commissariat", "police municipale").
    """
    words = words_of(text)
    if not any(w in UNIT_WORDS for w in words):
        return None
    kind = unit_kind(words)
    candidates = place_candidates([w for w in words if w not in UNIT_WORDS])
    if not candidates:
        return Shortcut(NEAREST_LABEL, None, None)
    what = {"police": "Commissariats", "gendarmerie": "Brigades de gendarmerie"}.get(
        kind, "Commissariats et brigades")
    for candidate in candidates:
        place = place_named(session, candidate)
        if place is None:
            continue
        if place.department:  # "gendarmerie sarthe", "commissariat 93"
            return Shortcut(f"{what} : département {place.label}", place.query, kind)
        return Shortcut(f"{what} près {de(place.label)}", place.query, kind)
    return None
