"""From what a citizen types ("72000", "le mans", "st etienne", "45.76,4.83") to a point on the map."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import islice

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from portal.text import fold

POSTCODE = re.compile(r"^\d{5}$", re.ASCII)
# An INSEE code: five digits, or 2A/2B and three digits for Corsica.
CODE_INSEE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$", re.ASCII)
DEPARTMENT_CODE = re.compile(r"^(?:\d{2}|2[ab]|97\d)$", re.IGNORECASE | re.ASCII)
COORDINATES = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,;]\s*(-?\d{1,3}(?:\.\d+)?)\s*$", re.ASCII)
DEPARTMENT_SUFFIX = re.compile(r"^(.*?)[\s(]+(\d{2,3}|2[ab])\)?$", re.IGNORECASE | re.ASCII)
MAX_QUERY = 100
SUGGESTION_CUTOFF = 60
ARRONDISSEMENT = re.compile(r"^(paris|lyon|marseille) (\d{1,2})(?:e|er|eme|ieme)?(?: arrondissement)?$")


class PlaceError(ValueError):
    """The query was understood but names no place; ``suggestions`` are places it may have meant."""

    def __init__(self, message: str, suggestions: list[Suggestion] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions or []


class DepartmentQuery(PlaceError):
    """The query is a département number ("72", "2A"): the département's list answers it."""

    def __init__(self, code: str, name: str | None = None) -> None:
        what = f"« {name} » est un département" if name else f"« {code} » est un numéro de département"
        super().__init__(f"{what} : indiquez un code postal à cinq chiffres ou une commune, "
                         "ou consultez la liste des unités du département.")
        self.code = code


class MalformedPlace(ValueError):
    """The query cannot be a place at all (empty, coordinates out of range…)."""


@dataclass(frozen=True)
class Place:
    label: str
    # None for the few communes the open data does not place (106 of 35,014).
    latitude: float | None
    longitude: float | None
    code_insee: str | None = None
    department: str | None = None
    # Other communes the query may mean: of the same name ("Saint-Denis" is in 93 and in 974,
    # among others) or, for a typo, of a close one.
    alternatives: tuple[Suggestion, ...] = ()
    # Why the position is an estimate, when the source's town-hall point was wrong.
    position_note: str = ""

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class Suggestion:
    label: str  # "Le Mans (72)"
    query: str  # what to search to get it: "Le Mans 72"


@dataclass(frozen=True)
class CommuneEntry:
    code_insee: str
    name: str
    key: str  # normalize(name)
    kind: str
    department: str
    parent: str | None
    population: int
    latitude: float | None
    longitude: float | None
    position_note: str
    postcodes: tuple[str, ...]

    @property
    def suggestion(self) -> Suggestion:
        return Suggestion(f"{self.name} ({self.department})", f"{self.name} {self.department}")


def normalize(name: str) -> str:
    """Case, accents, hyphens and apostrophes folded; "st"/"ste" read as "saint"/"sainte"."""
    text = fold(name).lower()
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    text = re.sub(r"\bste\b", "sainte", text)
    text = re.sub(r"\bst\b", "saint", text)
    return text


class Gazetteer:
    """Every commune, by name and by postcode."""

    def __init__(self, communes: list[CommuneEntry], departments: dict[str, str] | None = None) -> None:
        """``departments``: code -> name, so that "Sarthe" is the département, not Barthe by a typo."""
        self.communes = communes
        self.departments: dict[str, str] = {}
        self.department_names = dict(departments or {})
        for code, name in self.department_names.items():
            key = normalize(name)
            self.departments[key] = code
            self.departments[re.sub(r"^(la|le|les|l) ", "", key)] = code
        self.by_name: dict[str, list[CommuneEntry]] = {}
        self.by_postcode: dict[str, list[CommuneEntry]] = {}
        for commune in self.communes:
            self.by_name.setdefault(commune.key, []).append(commune)
            for postcode in commune.postcodes:
                self.by_postcode.setdefault(postcode, []).append(commune)
        # The most populous first, and a commune the data places before one it does not.
        for entries in (*self.by_name.values(), *self.by_postcode.values()):
            entries.sort(key=lambda c: (c.latitude is None, -c.population))
        self.names = sorted(self.by_name)
        # "Paris 11", "paris 11e", "Lyon 3eme": the arrondissements as people write them.
        self.arrondissements: dict[tuple[str, int], CommuneEntry] = {}
        for commune in communes:
            written = ARRONDISSEMENT.match(commune.key) if commune.kind == "arrondissement-municipal" else None
            if written:
                self.arrondissements[(written.group(1), int(written.group(2)))] = commune
        self.postcodes = sorted(self.by_postcode)
        self.by_code = {c.code_insee: c for c in communes}

    @staticmethod
    def _place(commune: CommuneEntry, postcode: str | None = None,
               homonyms: list[CommuneEntry] | None = None) -> Place:
        label = f"{postcode} {commune.name}" if postcode else f"{commune.name} ({commune.department})"
        alternatives = tuple(c.suggestion for c in homonyms or () if c is not commune)[:8]
        return Place(label, commune.latitude, commune.longitude, commune.code_insee, commune.department,
                     alternatives, commune.position_note)

    def _for_postcode(self, postcode: str, name: str | None = None) -> Place:
        communes = self.by_postcode.get(postcode, [])
        if not communes:
            nearby = sorted({p for p in self.by_postcode if p[:2] == postcode[:2]},
                            key=lambda p: abs(int(p) - int(postcode)))[:5]
            raise PlaceError(f"Le code postal {postcode} ne correspond à aucune commune.",
                             [Suggestion(f"{p} {self.by_postcode[p][0].name}", p) for p in nearby])
        # Paris, Lyon, Marseille: the arrondissement of the postcode, not the whole city.
        arrondissements = [c for c in communes if c.kind == "arrondissement-municipal"]
        if name and not arrondissements:
            communes = [c for c in communes if c.key == name] or communes
        return self._place((arrondissements or communes)[0], postcode)

    def resolve(self, query: str, fuzzy: bool = True) -> Place:
        """The place a query names; raises MalformedPlace or PlaceError (with suggestions).

        ``fuzzy=False`` takes names only as written (accents, case and "st" aside):
        for guessing a place inside a free-text search, where a typo is more likely
        another word ("police secours" is not Secourt).
        """
        # Invisible format characters (bidi overrides, zero-width spaces) are noise, never meaning.
        query = "".join(c for c in (query or "") if unicodedata.category(c) != "Cf").strip()[:MAX_QUERY]
        if not query:
            raise MalformedPlace("Indiquez un code postal, une commune ou une position.")
        coordinates = COORDINATES.match(query)
        if coordinates:
            lat, lon = float(coordinates.group(1)), float(coordinates.group(2))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise MalformedPlace("Ces coordonnées sont hors des limites (latitude, longitude).")
            return Place("Votre position", lat, lon)
        if query.isascii() and query.isdigit() and len(query) == 4:
            query = "0" + query  # "1000" for 01000: the leading zero is often left out
        if POSTCODE.match(query):
            return self._for_postcode(query)
        if DEPARTMENT_CODE.match(query):
            raise DepartmentQuery(query.upper())
        leading = re.match(r"^(\d{5})\s+(.+)$", query, re.ASCII)
        if leading:
            return self._for_postcode(leading.group(1), normalize(leading.group(2)))
        trailing = re.match(r"^(.+?)\s+(\d{5})$", query, re.ASCII)
        if trailing:
            return self._for_postcode(trailing.group(2), normalize(trailing.group(1)))
        arrondissement = ARRONDISSEMENT.match(normalize(query))
        if arrondissement:
            entry = self.arrondissements.get((arrondissement.group(1), int(arrondissement.group(2))))
            if entry:
                return self._place(entry)
        name, department = query, None
        suffix = DEPARTMENT_SUFFIX.match(query)
        if suffix and not POSTCODE.match(suffix.group(2)):
            name, department = suffix.group(1), suffix.group(2).upper()
        key = normalize(name)
        if not key:
            raise MalformedPlace("Indiquez un code postal, une commune ou une position.")
        candidates = [c for c in self.by_name.get(key, []) if not department or c.department == department]
        named = None if department else self._department_named(key)
        if candidates:
            place = self._place(candidates[0], homonyms=None if department else candidates)
            if named:  # "La Réunion" is a village of Lot-et-Garonne, and the département
                place = replace(place, alternatives=(
                    Suggestion(f"le département {self.department_label(named)}", named), *place.alternatives))
            return place
        if named:
            raise DepartmentQuery(named, query)
        typos = self._typo_of(key, department) if fuzzy else []
        if typos:
            return self._place(typos[0], homonyms=typos)
        found = process.extract(key, self.names, scorer=fuzz.WRatio, limit=8, score_cutoff=SUGGESTION_CUTOFF)
        suggestions = [c.suggestion for n, _, _ in found for c in self.by_name[n][:1]][:5]
        raise PlaceError(f"Aucune commune ne s'appelle « {query} ».", suggestions)

    def _department_named(self, key: str) -> str | None:
        key = re.sub(r"^departement (de |du |des |d )?", "", key)
        return self.departments.get(key) or self.departments.get(re.sub(r"^(la|le|les|l) ", "", key))

    def department_label(self, code: str) -> str:
        return f"{self.department_names.get(code, code)} ({code})"

    def _typo_of(self, key: str, department: str | None) -> list[CommuneEntry]:
        """The communes a mistyped name may mean: one or two edits away, the closest then the most populous first.

        Plain edit distance, not a partial match: "le mens" is Le Mans, "lyonn" is
        Lyon, but "xyzville" is not Villé.
        """
        if len(key) < 4:
            return []
        allowed = 1 if len(key) <= 8 else 2
        found = process.extract(key, self.names, scorer=Levenshtein.distance, score_cutoff=allowed, limit=None)
        ranked = sorted((distance, -c.population, c.code_insee, c) for name, distance, _ in found
                        for c in self.by_name[name] if not department or c.department == department)
        return [c for *_, c in ranked]

    def _postcodes_from(self, digits: str) -> Iterator[str]:
        """The postcodes that begin with ``digits``, in order (a bisection: no scan of every postcode)."""
        for postcode in self.postcodes[bisect.bisect_left(self.postcodes, digits):]:
            if not postcode.startswith(digits):
                return
            yield postcode

    def _named_from(self, key: str) -> list[CommuneEntry]:
        """The communes whose searched name begins with ``key``."""
        matches: list[CommuneEntry] = []
        for name in self.names[bisect.bisect_left(self.names, key):]:
            if not name.startswith(key):
                break
            matches.extend(self.by_name[name])
        return matches

    def complete(self, text: str, limit: int = 8) -> list[Suggestion]:
        """Communes whose name (or postcode) begins with ``text``, the most populous first."""
        text = (text or "").strip()[:MAX_QUERY]
        if text.isascii() and text.isdigit() and len(text) >= 2:
            return [Suggestion(f"{postcode} {self.by_postcode[postcode][0].name}", postcode)
                    for postcode in islice(self._postcodes_from(text), limit)]
        key = normalize(text)
        if len(key) < 2:
            return []
        matches = self._named_from(key)
        matches.sort(key=lambda c: -c.population)
        return [c.suggestion for c in matches[:limit]]

    def starting_with(self, text: str, limit: int) -> list[CommuneEntry]:
        """Communes whose postcode (digits) or name begins with ``text``: exact names first, then the most
        populous; the cost grows with the matches, not with the 35,000 communes."""
        if text.isascii() and text.isdigit():
            found: dict[str, CommuneEntry] = {}
            for postcode in self._postcodes_from(text):
                if len(found) >= limit:
                    break
                for commune in self.by_postcode[postcode]:
                    found.setdefault(commune.code_insee, commune)
            return list(found.values())[:limit]
        key = normalize(text)
        if not key:
            return []
        matches = self._named_from(key)
        matches.sort(key=lambda c: (c.key != key, -c.population, c.code_insee))
        return matches[:limit]

    def place_of(self, code_insee: str) -> Place | None:
        """The place of a commune named by its INSEE code (its town hall), or None for an unknown code."""
        commune = self.by_code.get(code_insee)
        return None if commune is None else self._place(commune)
