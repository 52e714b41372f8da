"""The API's OpenAPI 3.1 document, built in Python (no YAML file to package), and the readable page's content.

``document`` is what /api/v1/openapi.json serves and what tests/api/test_schema.py checks every answer
against (schemathesis); ``reference`` is the same description arranged for /developpeurs/api, so the
page cannot say something the document does not.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from api import services

VERSION = "1.0.0"
SLUG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$"
CODE_INSEE_PATTERN = r"^(?:[0-9]{5}|2[AB][0-9]{3})$"
# A text with at least one character that is not an ASCII space (the API strips those and refuses what is
# left empty), and no NUL character (refused everywhere on the portal: portal.security.refuse_nul_characters).
# Spelled out rather than \s, whose meaning differs between regular expression engines (\x1c, \ufeff).
TEXT_PATTERN = r"^[^\u0000]*[^\u0000\t\n\u000b\f\r ][^\u0000]*$"

VERSIONING = (
    ("Ce qui peut changer dans la v1",
     "Uniquement des ajouts : nouveaux champs dans les réponses, nouvelles adresses, nouveaux paramètres "
     "facultatifs, nouvelles valeurs de « suggestions » ou de texte. Un client doit ignorer les champs qu'il ne "
     "connaît pas et ne pas dépendre de l'ordre des champs."),
    ("Ce qui est un changement incompatible",
     "Retirer ou renommer un champ, une adresse ou un paramètre, changer le type ou le sens d'un champ, rendre "
     "obligatoire un paramètre facultatif, resserrer une borne. Un tel changement ne se fait jamais dans la v1 : "
     "il donne une v2, publiée à côté de la v1 (/api/v2/), qui continue de répondre."),
    ("Comment une fin de service est annoncée",
     "Une adresse ou une version appelée à disparaître répond avec les en-têtes Deprecation (RFC 9745) et "
     "Sunset (RFC 8594, la date de fin), et cette page l'indique avec la date et la marche à suivre. La v1 et "
     "la version qui la remplace coexistent au moins six mois."),
)


def _integer(minimum: int, maximum: int, default: int | None = None) -> dict:
    schema: dict[str, Any] = {"type": "integer", "minimum": minimum, "maximum": maximum}
    if default is not None:
        schema["default"] = default
    return schema


def _nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


def _object(properties: dict, optional: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": [name for name in properties if name not in optional]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


URL = {"type": "string", "format": "uri"}
TEXT = {"type": "string"}
KIND = {"type": "string", "enum": ["procedure", "fiche"],
        "description": "« procedure » : une démarche du portail ; « fiche » : une fiche Service-Public.fr."}

SCHEMAS: dict[str, dict] = {
    "Problem": {
        "type": "object",
        "description": "Une erreur (RFC 9457), en français. D'autres membres peuvent s'ajouter selon le type.",
        "additionalProperties": True,
        "required": ["type", "title", "status", "detail", "instance"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference",
                     "description": "« about:blank » ou l'adresse de l'explication sur la page de documentation."},
            "title": TEXT, "status": _integer(400, 599), "detail": TEXT,
            "instance": {"type": "string", "description": "Le chemin demandé, sans les paramètres."},
        },
    },
    "PlaceProblem": {
        "description": "Lieu introuvable : les lieux que la demande désignait peut-être.",
        "allOf": [_ref("Problem"), {"type": "object", "required": ["suggestions"],
                                    "properties": {"suggestions": _array(_ref("PlaceSuggestion"))}}],
    },
    "PlaceSuggestion": _object({"label": TEXT, "q": {"type": "string",
                                                     "description": "La valeur de q qui désigne ce lieu."}}),
    "SearchHit": _object({"slug": TEXT, "title": TEXT, "summary": TEXT, "url": URL, "kind": KIND}),
    "SearchResults": _object({
        "query": {"type": "string", "description": "La recherche telle qu'elle a été comprise."},
        "total": {"type": "integer", "minimum": 0},
        "offset": _integer(0, services.SEARCH_MAX_OFFSET),
        "limit": _integer(1, services.SEARCH_MAX_LIMIT),
        "results": _array(_ref("SearchHit")),
        "suggestion": _nullable("string", description="Une orthographe proposée, ou null."),
        "next": _nullable("string", description="L'adresse des résultats suivants, null après les derniers."),
    }),
    "ProcedureItem": _object({"slug": TEXT, "title": TEXT, "summary": TEXT,
                              "text": {"type": "string", "description": "Le texte complet, sans mise en forme."},
                              "keywords": _array(TEXT), "kind": KIND, "url": URL}),
    "ProcedurePage": _object({"items": _array(_ref("ProcedureItem")),
                              "next": _nullable("string", description="La page suivante, null à la dernière.")}),
    "EntryRef": _object({"slug": TEXT, "title": TEXT, "kind": KIND, "url": URL, "api_url": URL}),
    "LifeEventRef": _object({"slug": TEXT, "title": TEXT, "url": URL, "api_url": URL}),
    "Procedure": _object({"slug": TEXT, "title": TEXT, "summary": TEXT, "text": TEXT, "keywords": _array(TEXT),
                          "kind": KIND, "url": URL,
                          "sensitive": {"type": "boolean",
                                        "description": "Violences : afficher aussi les numéros d'urgence."},
                          "life_events": _array(_ref("LifeEventRef")), "related": _array(_ref("EntryRef"))}),
    "LifeEvent": _object({"slug": TEXT, "title": TEXT, "url": URL, "api_url": URL, "summary": TEXT,
                          "sensitive": {"type": "boolean"}, "procedures": _array(_ref("EntryRef"))}),
    "LifeEventList": _object({"items": _array(_ref("LifeEvent"))}),
    "Commune": _object({
        "code_insee": {"type": "string", "pattern": CODE_INSEE_PATTERN},
        "name": TEXT, "department": {"type": "string", "description": "Code du département (72, 2A, 974…)."},
        "department_name": _nullable("string"),
        "postcodes": _array({"type": "string", "pattern": r"^[0-9]{5}$"}),
        "lat": _nullable("number", description="Position de la mairie ; null si les données n'en ont pas."),
        "lon": _nullable("number"), "api_url": URL,
    }),
    "CommuneList": _object({"items": _array(_ref("Commune"))}),
    "Hours": _object({
        "weekly": _array(_object({"day": TEXT, "hours": TEXT})),
        "status": {"type": "string", "description": "« Ouvert… » ou « Fermé… », à l'heure de la demande."},
        "open_on_sunday": _nullable("boolean"), "notes": _array(TEXT),
        "source": {"type": "string", "description": "D'où viennent ces horaires."},
    }),
    "Station": _object({
        "id": TEXT, "name": TEXT, "type": {"type": "string", "enum": ["police", "gendarmerie"]},
        "address": TEXT, "postcode": TEXT, "commune": TEXT, "phone": _nullable("string"),
        "lat": _nullable("number"), "lon": _nullable("number"),
        "distance_km": _nullable("number", minimum=0, description="À vol d'oiseau ; null sans position."),
        "open_now": _nullable("boolean", description="null quand les horaires ne sont pas connus."),
        "hours": {"oneOf": [_ref("Hours"), {"type": "null"}]},
        "approximate_position": {"type": "boolean"}, "url": URL,
    }),
    "Origin": _object({"label": TEXT, "lat": _nullable("number"), "lon": _nullable("number"),
                       "alternatives": _array(_ref("PlaceSuggestion")),
                       "note": {"type": "string", "description": "Pourquoi la position est estimée ou absente."}},
                      optional=("note",)),
    "Nearest": _object({"origin": _ref("Origin"), "stations": _array(_ref("Station"))}),
}


# What each member means, wherever it appears (a schema's own description comes first).
FIELDS = {
    "slug": "Identifiant stable, dans l'adresse de la page.",
    "title": "Titre.",
    "summary": "Résumé en une ou deux phrases.",
    "url": "Adresse de la page sur le portail.",
    "api_url": "Adresse de la ressource dans l'API.",
    "keywords": "Mots-clés des éditeurs.",
    "total": "Nombre total de résultats.",
    "offset": "Rang du premier résultat de cette page.",
    "limit": "Nombre de résultats demandés.",
    "results": "Les résultats, les plus pertinents d'abord.",
    "items": "Les éléments, dans l'ordre du portail.",
    "life_events": "Les situations de vie où figure cette démarche.",
    "related": "Les démarches et fiches liées.",
    "procedures": "Les démarches et fiches de cette situation, dans l'ordre du portail.",
    "name": "Nom.",
    "department_name": "Nom du département.",
    "postcodes": "Codes postaux de la commune.",
    "code_insee": "Code officiel géographique de l'INSEE.",
    "id": "Identifiant de l'unité.",
    "address": "Adresse postale (rue).",
    "postcode": "Code postal.",
    "commune": "Commune de l'unité.",
    "phone": "Téléphone de l'accueil, ou null.",
    "lat": "Latitude (WGS 84), ou null.",
    "lon": "Longitude (WGS 84), ou null.",
    "hours": "Horaires d'accueil, ou null s'ils ne sont pas connus.",
    "approximate_position": "Vrai quand la position de la source était fausse et a été estimée.",
    "weekly": "Horaires de chaque jour.",
    "day": "Jour de la semaine.",
    "open_on_sunday": "Ouvert le dimanche, ou null si inconnu.",
    "notes": "Précisions sur les horaires (jours fériés, rendez-vous…).",
    "origin": "Le lieu compris.",
    "label": "Nom du lieu tel qu'affiché.",
    "alternatives": "D'autres lieux que la demande peut désigner (homonymes).",
    "stations": "Les unités, les plus proches d'abord.",
    "type": "Commissariat (police) ou brigade (gendarmerie).",
    "sensitive": "Violences : afficher aussi les numéros d'urgence (17, 112, SMS 114).",
}


def _describe(schemas: dict[str, dict]) -> None:
    """Give each member without a description its usual one (a copy: TEXT and URL are shared)."""
    for schema in schemas.values():
        properties = schema.get("properties", {})
        for field, definition in properties.items():
            if "description" not in definition and field in FIELDS and "$ref" not in definition:
                properties[field] = {**definition, "description": FIELDS[field]}


_describe(SCHEMAS)


def _parameter(name: str, where: str, schema: dict, description: str, required: bool = False,
               example: Any = None) -> dict:
    parameter = {"name": name, "in": where, "required": required or where == "path", "schema": schema,
                 "description": description}
    if example is not None:
        parameter["example"] = example
    return parameter


HEADERS = {
    "ETag": {"description": "Empreinte forte du contenu, à renvoyer dans If-None-Match.",
             "schema": {"type": "string"}},
    "Cache-Control": {"description": "Durée de conservation autorisée.", "schema": {"type": "string"}},
    "Retry-After": {"description": "Secondes à attendre avant de réessayer.", "schema": {"type": "integer"}},
}
IF_NONE_MATCH = _parameter("If-None-Match", "header", {"type": "string"},
                           "L'ETag d'une réponse déjà reçue : 304 sans contenu si rien n'a changé.")
PROBLEM = {"application/problem+json": {"schema": _ref("Problem")}}


def _problem(description: str, headers: dict | None = None) -> dict:
    response: dict[str, Any] = {"description": description, "content": PROBLEM}
    if headers:
        response["headers"] = headers
    return response


def _operation(operation_id: str, summary: str, description: str, schema: str, parameters: list[dict],
               cache: str, errors: dict[str, dict], example: str) -> dict:
    return {"get": {
        "operationId": operation_id, "summary": summary, "description": description,
        "parameters": [*parameters, IF_NONE_MATCH],
        "x-exemple": example, "x-cache": cache,
        "responses": {
            "200": {"description": f"Réponse ({schema}).", "headers": {"ETag": HEADERS["ETag"],
                                                            "Cache-Control": HEADERS["Cache-Control"]},
                    "content": {"application/json": {"schema": _ref(schema)}}},
            "304": {"description": "Inchangé depuis l'ETag envoyé dans If-None-Match.",
                    "headers": {"ETag": HEADERS["ETag"]}},
            **errors,
            "429": _problem("Trop de demandes depuis cette adresse.", {"Retry-After": HEADERS["Retry-After"]}),
        },
    }}


BAD_REQUEST = {"400": _problem("Paramètre manquant ou hors des bornes (le détail dit lequel).")}
NOT_FOUND = {"404": _problem("Rien ne correspond à cet identifiant.")}
GONE = {"410": _problem("Retiré du portail.")}
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, max-age=60"


def _paths() -> dict:
    limit = services.NEAREST_MAX_LIMIT
    return {
        "/api/v1/search": _operation(
            "search", "Rechercher une démarche ou une fiche",
            "Les résultats de la recherche du portail, les plus pertinents d'abord. Jamais enregistrée dans les "
            "statistiques du portail. Réponse privée (la recherche peut dire quelque chose de la personne).",
            "SearchResults",
            [_parameter("q", "query", {"type": "string", "pattern": TEXT_PATTERN},
                        "Le texte recherché (les 400 premiers caractères comptent).", True, "vol de papiers"),
             _parameter("limit", "query", _integer(1, services.SEARCH_MAX_LIMIT, 10), "Nombre de résultats."),
             _parameter("offset", "query", _integer(0, services.SEARCH_MAX_OFFSET, 0),
                        "Rang du premier résultat (0 pour le premier).")],
            f"{PRIVATE_CACHE} ; no-store quand la recherche mène à une page sur les violences",
            {**BAD_REQUEST, "503": _problem("La recherche est momentanément indisponible.")},
            "/api/v1/search?q=vol+de+papiers&limit=5"),
        "/api/v1/procedures": _operation(
            "procedures", "Toutes les démarches et fiches publiées",
            f"Par pages de {services.PROCEDURES_PAGE_SIZE} : les démarches du portail, puis les fiches "
            "Service-Public.fr ; « next » donne la page suivante.",
            "ProcedurePage",
            [_parameter("page", "query", _integer(1, services.MAX_PAGE, 1), "Numéro de page.")],
            PUBLIC_CACHE, BAD_REQUEST, "/api/v1/procedures?page=1"),
        "/api/v1/procedures/{slug}": _operation(
            "procedure", "Une démarche ou une fiche",
            "Une démarche ou fiche publiée, avec ses situations et les démarches liées. Une démarche retirée "
            "redirige (301) vers celle qui la remplace, sinon répond 410.",
            "Procedure",
            [_parameter("slug", "path", {"type": "string", "pattern": SLUG_PATTERN},
                        "Identifiant de la démarche (« plainte-en-ligne ») ou de la fiche (« F1435 »).",
                        example="plainte-en-ligne")],
            PUBLIC_CACHE,
            {"301": {"description": "Retirée, remplacée : l'adresse de la remplaçante.",
                     "headers": {"Location": {"schema": {"type": "string"}}}},
             **NOT_FOUND, **GONE},
            "/api/v1/procedures/plainte-en-ligne"),
        "/api/v1/life-events": _operation(
            "life_events", "Les situations de vie",
            "Les situations proposées aux citoyens (« J'ai été victime d'un vol »…), dans l'ordre du portail, "
            "chacune avec ses démarches.",
            "LifeEventList", [], PUBLIC_CACHE, {}, "/api/v1/life-events"),
        "/api/v1/life-events/{slug}": _operation(
            "life_event", "Une situation de vie", "Une situation et ses démarches.", "LifeEvent",
            [_parameter("slug", "path", {"type": "string", "pattern": SLUG_PATTERN}, "Identifiant de la situation.",
                        example="vol-cambriolage")],
            PUBLIC_CACHE, {**NOT_FOUND, **GONE}, "/api/v1/life-events/vol-cambriolage"),
        "/api/v1/communes": _operation(
            "communes", "Chercher une commune",
            "Les communes dont le nom (accents, majuscules et « st » indifférents) ou le code postal commence par "
            "q : les noms exacts d'abord, puis les plus peuplées. Pour obtenir le code INSEE d'une commune.",
            "CommuneList",
            [_parameter("q", "query", {"type": "string", "pattern": TEXT_PATTERN},
                        "Début du nom ou du code postal (les 100 premiers caractères comptent).", True, "le mans"),
             _parameter("limit", "query", _integer(1, services.COMMUNES_MAX_LIMIT, services.COMMUNES_DEFAULT_LIMIT),
                        "Nombre de communes au plus.")],
            PUBLIC_CACHE, BAD_REQUEST, "/api/v1/communes?q=le+mans"),
        "/api/v1/communes/{code_insee}": _operation(
            "commune", "Une commune", "Une commune par son code INSEE.", "Commune",
            [_parameter("code_insee", "path", {"type": "string", "pattern": CODE_INSEE_PATTERN},
                        "Code INSEE (cinq caractères ; 2A ou 2B en Corse).", example="72181")],
            PUBLIC_CACHE, NOT_FOUND, "/api/v1/communes/72181"),
        "/api/v1/stations/nearest": _operation(
            "nearest", "Les commissariats et brigades les plus proches",
            "Les unités les plus proches d'un lieu, à vol d'oiseau, avec leurs horaires quand ils sont connus. "
            "Indiquez exactement l'un de q et commune (un q de cinq chiffres est un code postal ; commune est un "
            "code INSEE). Pour une commune sans position connue, les unités de son département, sans distance. "
            "Ce ne sont pas forcément les unités compétentes pour la commune ; en urgence, le 17 ou le 112. "
            "Réponse privée (le lieu peut dire quelque chose de la personne).",
            "Nearest",
            [_parameter("q", "query", {"type": "string", "pattern": TEXT_PATTERN},
                        "Code postal, commune (« Le Mans », « Saint-Denis 974 ») ou « latitude,longitude ».",
                        example="72000"),
             _parameter("commune", "query", {"type": "string", "pattern": CODE_INSEE_PATTERN},
                        "Code INSEE de la commune (à la place de q).", example="72181"),
             _parameter("limit", "query", _integer(1, limit, 10), "Nombre d'unités."),
             _parameter("type", "query", {"type": "string", "enum": ["police", "gendarmerie"]},
                        "Seulement les commissariats (police) ou les brigades (gendarmerie)."),
             _parameter("ouvert", "query", {"type": "string", "enum": ["0", "1"]},
                        "1 : seulement les unités ouvertes en ce moment.")],
            PRIVATE_CACHE,
            {**BAD_REQUEST,
             "404": {"description": "Lieu introuvable, avec des suggestions ; ou code INSEE inconnu.",
                     "content": {"application/problem+json": {"schema": {
                         "anyOf": [_ref("PlaceProblem"), _ref("Problem")]}}}}},
            "/api/v1/stations/nearest?commune=72181&limit=3"),
        "/api/v1/openapi.json": {"get": {
            "operationId": "openapi", "summary": "Ce document (OpenAPI 3.1)",
            "description": "La description de l'API, au format OpenAPI 3.1.",
            "x-exemple": "/api/v1/openapi.json", "x-cache": PUBLIC_CACHE,
            "parameters": [IF_NONE_MATCH],
            "responses": {
                "200": {"description": "Le document.", "headers": {"ETag": HEADERS["ETag"]},
                        "content": {"application/json": {"schema": {"type": "object"}}}},
                "304": {"description": "Inchangé."},
                "429": _problem("Trop de demandes depuis cette adresse.", {"Retry-After": HEADERS["Retry-After"]}),
            },
        }},
    }


UNITS = {"second": ("seconde", "secondes"), "minute": ("minute", "minutes"), "hour": ("heure", "heures"),
         "day": ("jour", "jours")}
LIMIT = re.compile(r"^\s*(\d+)\s*(?:per|/)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)


def in_words(limit: str) -> str:
    """A Flask-Limiter limit in French: "300 per minute" → "300 requêtes par minute"."""
    found = LIMIT.match(limit)
    if not found:
        return limit
    count, every, unit = found.groups()
    singular, plural = UNITS[unit.lower()]
    period = f"{every} {plural}" if every and every != "1" else singular
    return f"{count} requêtes par {period}"


def _description() -> str:
    config = current_app.config
    policy = " ".join(f"{title} : {text}" for title, text in VERSIONING)
    return (
        "API publique du portail citoyen : recherche, démarches, situations de vie, communes et unités de "
        "police et de gendarmerie les plus proches. Lecture seule (GET), sans compte ni clé, en JSON. "
        f"Limite : {in_words(config['API_RATE_LIMIT'])} par adresse pour l'ensemble de l'API, et en plus "
        f"{in_words(config['SEARCH_RATE_LIMIT'])} pour la recherche, {in_words(config['FINDER_RATE_LIMIT'])} pour "
        "les communes et les "
        "unités ; au-delà, 429 avec Retry-After. Erreurs : application/problem+json (RFC 9457), en français. "
        f"CORS : seulement pour les sites des mairies inscrites. Versions : {policy}"
    )


def document(server: str) -> dict:
    """The OpenAPI 3.1 document; ``server`` is the portal's root address as the client reached it."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "API du portail citoyen",
            "version": VERSION,
            "summary": "Démarches, recherche, communes et unités de police et de gendarmerie.",
            "description": _description(),
            "license": {"name": "Licence Ouverte 2.0 (etalab-2.0)",
                        "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"},
        },
        "servers": [{"url": server, "description": "Ce portail"}],
        "paths": _paths(),
        "components": {"schemas": SCHEMAS, "securitySchemes": {}},
        "security": [],
    }


def _bounds(schema: dict) -> str:
    """What a parameter accepts, in French words, for the readable page."""
    if "enum" in schema:
        return " ou ".join(f"« {v} »" for v in schema["enum"])
    if schema.get("type") == "integer":
        text = f"entier de {schema['minimum']} à {schema['maximum']}"
        return text + (f", {schema['default']} par défaut" if "default" in schema else "")
    if "pattern" in schema and schema["pattern"] != TEXT_PATTERN:
        return f"texte ({schema['pattern']})"
    return "texte non vide" if schema.get("pattern") == TEXT_PATTERN else "texte"


def _type_text(schema: dict) -> str:
    """A schema's type in French words: « texte ou null », « liste de Station »…"""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "anyOf" in schema or "oneOf" in schema:
        return " ou ".join(_type_text(s) for s in schema.get("anyOf") or schema["oneOf"])
    if schema.get("type") == "array":
        items = schema["items"]
        if "properties" in items:
            return f"liste d'objets ({', '.join(items['properties'])})"
        return f"liste de {_type_text(items)}"
    words = {"string": "texte", "integer": "entier", "number": "nombre", "boolean": "booléen", "null": "null",
             "object": "objet"}
    kinds = schema.get("type", "object")
    text = " ou ".join(words[k] for k in (kinds if isinstance(kinds, list) else [kinds]))
    if "enum" in schema:
        text += " (" + ", ".join(f"« {v} »" for v in schema["enum"]) + ")"
    return text


def _fields(name: str) -> list[dict]:
    """The members of a response schema and of the schemas it names, for the readable page."""
    seen, pending, out = set(), [name], []
    while pending:
        current = pending.pop(0)
        schema = SCHEMAS.get(current, {})
        if current in seen or "properties" not in schema:
            continue
        seen.add(current)
        fields = []
        for field, definition in schema["properties"].items():
            fields.append({"name": field, "type": _type_text(definition),
                           "description": definition.get("description", ""),
                           "optional": field not in schema.get("required", [])})
            pending += [ref.rsplit("/", 1)[1] for ref in _refs(definition)]
        out.append({"name": current, "fields": fields})
    return out


def _refs(schema: dict) -> list[str]:
    """The schemas a schema names, directly or through a list or an alternative."""
    if "$ref" in schema:
        return [schema["$ref"]]
    nested = [*([schema["items"]] if "items" in schema else []), *schema.get("anyOf", []), *schema.get("oneOf", [])]
    return [ref for item in nested for ref in _refs(item)]


def reference(server: str) -> dict:
    """The document arranged for the readable page: endpoints with parameters, examples and answers."""
    spec = document(server)
    endpoints = []
    for path, item in spec["paths"].items():
        operation = item["get"]
        endpoints.append({
            "id": "api-" + operation["operationId"].replace("_", "-"),
            "path": path, "summary": operation["summary"], "description": operation["description"],
            "example": server + operation["x-exemple"], "cache": operation["x-cache"],
            "parameters": [{"name": p["name"], "where": {"query": "paramètre", "path": "chemin",
                                                          "header": "en-tête"}[p["in"]],
                            "required": p["required"], "bounds": _bounds(p["schema"]),
                            "description": p["description"]}
                           for p in operation["parameters"] if p["in"] != "header"],
            "responses": [(status, response["description"]) for status, response in operation["responses"].items()],
            "schemas": [schema for ref in _refs(operation["responses"]["200"]["content"]["application/json"]["schema"])
                        for schema in _fields(ref.rsplit("/", 1)[1])],
        })
    config = current_app.config
    return {"server": server, "version": VERSION, "endpoints": endpoints, "versioning": VERSIONING,
            "limits": {"api": in_words(config["API_RATE_LIMIT"]), "search": in_words(config["SEARCH_RATE_LIMIT"]),
                       "finder": in_words(config["FINDER_RATE_LIMIT"])},
            "openapi_url": server + "/api/v1/openapi.json"}
