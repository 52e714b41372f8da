"""Test identities of the local FranceConnect.

The first is the official FranceConnect sandbox identity ("test" in
france-connect/sources, docker/volumes/fcp-low/mocks/idp/databases/citizen/base.csv).
The others are fictional people built for the edge cases FranceConnect
documents: compound names, several given names, no e-mail, born abroad
(empty birthplace), a presumed birth date, a minor.
"""

from __future__ import annotations

IDENTITIES: dict[str, dict] = {
    "test": {
        "label": "Angela Claire Louise DUBOIS — identité officielle du bac à sable",
        "given_name": "Angela Claire Louise",
        "family_name": "DUBOIS",
        "birthdate": "1962-08-24",
        "gender": "female",
        "birthplace": "75107",
        "birthcountry": "99100",
        "email": "wossewodda-3728@yopmail.com",
        "preferred_username": "",
    },
    "nom_compose": {
        "label": "Nom de famille composé",
        "given_name": "Paul",
        "family_name": "DE LA FONTAINE-MARTIN",
        "birthdate": "1980-03-14",
        "gender": "male",
        "birthplace": "69123",
        "birthcountry": "99100",
        "email": "paul.delafontaine@example.org",
        "preferred_username": "",
    },
    "prenom_compose": {
        "label": "Prénom composé et plusieurs prénoms",
        "given_name": "Marie-Christine Élodie",
        "family_name": "LEROY",
        "birthdate": "1975-11-02",
        "gender": "female",
        "birthplace": "13055",
        "birthcountry": "99100",
        "email": "mc.leroy@example.org",
        "preferred_username": "",
    },
    "sans_mail": {
        "label": "Sans adresse électronique",
        "given_name": "Jacques",
        "family_name": "BERNARD",
        "birthdate": "1958-06-30",
        "gender": "male",
        "birthplace": "59350",
        "birthcountry": "99100",
        "preferred_username": "",
    },
    "naissance_etranger": {
        "label": "Né à l'étranger (lieu de naissance vide)",
        "given_name": "Karim",
        "family_name": "BENALI",
        "birthdate": "1988-07-09",
        "gender": "male",
        "birthplace": "",
        "birthcountry": "99352",
        "email": "k.benali@example.org",
        "preferred_username": "",
    },
    "date_presumee": {
        "label": "Date de naissance présumée (1er janvier)",
        "given_name": "Fatou",
        "family_name": "DIALLO",
        "birthdate": "1992-01-01",
        "gender": "female",
        "birthplace": "33063",
        "birthcountry": "99100",
        "email": "f.diallo@example.org",
        "preferred_username": "",
    },
    "mineur": {
        "label": "Mineur",
        "given_name": "Lucas",
        "family_name": "PETIT",
        "birthdate": "2010-05-20",
        "gender": "male",
        "birthplace": "59350",
        "birthcountry": "99100",
        "email": "lucas.petit@example.org",
        "preferred_username": "",
    },
}

# What each FranceConnect v2 scope releases (france-connect/sources, fcp-low.scopes.ts).
# ``phone`` and ``address`` are still in that file but were removed from FranceConnect v2
# (partner documentation, migration page): they are not offered here.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "given_name": ("given_name", "given_name_array"),
    "family_name": ("family_name",),
    "birthdate": ("birthdate",),
    "gender": ("gender",),
    "birthplace": ("birthplace",),
    "birthcountry": ("birthcountry",),
    "email": ("email",),
    "preferred_username": ("preferred_username",),
    "profile": ("given_name", "given_name_array", "family_name", "birthdate", "gender", "preferred_username"),
    "birth": ("birthplace", "birthcountry"),
    "identite_pivot": ("given_name", "given_name_array", "family_name", "birthdate", "gender",
                       "birthplace", "birthcountry"),
    "idp_birthdate": ("idp_birthdate",),
    "amr": ("amr",),
    "idp_id": ("idp_id",),
}

# ProConnect's own scope (the agents' provider, on FranceConnect's software): the usual family name.
# Granted only to a client registered with it (local_franceconnect's EXTRA_CLIENTS), never to the portal's.
PROCONNECT_SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {"usual_name": ("usual_name",)}

# The one identity provider of the local FranceConnect (``idp_id`` claim).
LOCAL_IDP_ID = "fi-local-franceconnect"
# How the test identities authenticate at that provider (``amr`` claim).
LOCAL_IDP_AMR = ["pwd"]


def claims_for(login: str, scopes: list[str]) -> dict:
    """The claims of an identity that the granted scopes release."""
    person = IDENTITIES[login]
    wanted = {claim for scope in scopes
              for claim in SCOPE_CLAIMS.get(scope, PROCONNECT_SCOPE_CLAIMS.get(scope, ()))}
    released: dict = {}
    for claim in sorted(wanted - {"sub"}):
        if claim == "given_name_array":
            released[claim] = person["given_name"].split()
        elif claim == "idp_birthdate":
            # The birth date as the identity provider sent it, before FranceConnect checks it.
            released[claim] = person.get("idp_birthdate", person["birthdate"])
        elif claim == "amr":
            released[claim] = list(LOCAL_IDP_AMR)
        elif claim == "idp_id":
            released[claim] = LOCAL_IDP_ID
        elif claim == "usual_name":
            released[claim] = person["family_name"]
        elif claim in person:
            released[claim] = person[claim]
    return released
