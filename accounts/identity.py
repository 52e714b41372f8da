"""A citizen's identity as FranceConnect gives it, with its quirks, ready to show and pre-fill.

FranceConnect sends several given names in one string, an empty birthplace
for people born abroad, presumed dates (the 1st of January or of the month
when the civil register does not know the day, "00" in some records) and no
preferred_username unless asked: none of that is an error, and a presumed
date is shown as given, since a real 1st of January looks the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.templating import date_fr

COUNTRY_FRANCE = "99100"
GENDERS = {"female": "Femme", "male": "Homme"}


@dataclass(frozen=True)
class Identity:
    given_names: tuple[str, ...] = ()
    family_name: str = ""
    birthdate: str = ""
    gender: str = ""
    birthplace: str = ""
    birthcountry: str = ""
    email: str = ""
    verified: bool = False

    @classmethod
    def from_claims(cls, claims: dict, verified: bool) -> Identity:
        given = claims.get("given_name_array") or str(claims.get("given_name") or "").split()
        return cls(
            given_names=tuple(str(g) for g in given if str(g).strip()),
            family_name=str(claims.get("family_name") or ""),
            birthdate=str(claims.get("birthdate") or ""),
            gender=str(claims.get("gender") or ""),
            birthplace=str(claims.get("birthplace") or ""),
            birthcountry=str(claims.get("birthcountry") or ""),
            email=str(claims.get("email") or ""),
            verified=verified,
        )

    @classmethod
    def from_session(cls, data: dict | None) -> Identity | None:
        """Back from ``to_session``; tolerant of a stored snapshot an older version wrote (unknown keys
        are dropped, missing ones empty), so a case's identity always opens."""
        if not data:
            return None
        text = {name: str(data.get(name) or "") for name in
                ("family_name", "birthdate", "gender", "birthplace", "birthcountry", "email")}
        return cls(given_names=tuple(str(g) for g in data.get("given_names") or ()),
                   verified=bool(data.get("verified")), **text)

    def to_session(self) -> dict:
        return {**self.__dict__, "given_names": list(self.given_names)}

    @property
    def full_name(self) -> str:
        return " ".join([*self.given_names, self.family_name]).strip()

    @property
    def birthdate_text(self) -> str:
        """"24 août 1962"; with "00" for an unknown month or day, only what is known ("1992")."""
        try:
            year, month, day = (int(p) for p in self.birthdate.split("-"))
            if month == 0:
                return str(year)
            if day == 0:
                return date_fr(date(year, month, 1)).split(" ", 1)[1]
            return date_fr(date(year, month, day))
        except ValueError:
            return self.birthdate

    @property
    def born_abroad(self) -> bool:
        return bool(self.birthcountry) and self.birthcountry != COUNTRY_FRANCE

    @property
    def birthplace_text(self) -> str:
        if self.born_abroad:
            return f"À l'étranger (pays de code INSEE {self.birthcountry})"
        if self.birthplace:
            return f"Commune de code INSEE {self.birthplace}"
        return ""

    @property
    def gender_text(self) -> str:
        return GENDERS.get(self.gender, "")
