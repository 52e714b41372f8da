"""Edit forms: an entity's data as the strings of its inputs, and back.

Every field is a plain input or textarea (checkboxes for booleans and
channels), so the form works without JavaScript and adding a field to an
``EntityKind`` needs no template change. Lists are written one item per line;
contacts as "numéro | libellé | précision", links as "titre | https://…",
sources as "F1435" or "titre | https://…". Parsing never raises: a line that
does not fit is kept as it is, and ``entities.validate`` names the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from editorial.entities import EntityKind, FieldSpec

SEPARATOR = " | "
TRUE = {"1", "on", "true", "oui", "yes"}
FICHE_ID = re.compile(r"^[FNR]\d+$", re.IGNORECASE)


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]


def _cells(line: str, count: int) -> list[str]:
    cells = [cell.strip() for cell in line.split("|", count - 1)]
    return cells + [""] * (count - len(cells))


def _value_to_text(spec: FieldSpec, value) -> str:
    if spec.kind == "bool":
        return "1" if value else ""
    if spec.kind in ("list", "slugs", "channels"):
        return "\n".join(str(item) for item in value or [])
    if spec.kind == "contacts":
        return "\n".join(_contact(c) for c in value or [])
    if spec.kind == "links":
        return "\n".join(f"{link.get('title', '')}{SEPARATOR}{link.get('url', '')}" for link in value or [])
    if spec.kind == "sources":
        return "\n".join(s["fiche"] if s.get("fiche") else f"{s.get('title', '')}{SEPARATOR}{s.get('url', '')}"
                         for s in value or [])
    return "" if value is None else str(value)


def _contact(contact: dict) -> str:
    cells = [contact.get("number", ""), contact.get("label", "")]
    if contact.get("detail"):
        cells.append(contact["detail"])
    return SEPARATOR.join(cells)


def form_values(kind: EntityKind, data: dict) -> dict[str, str]:
    """The inputs' strings for ``data`` (every field of ``kind``, "" where missing)."""
    return {spec.name: _value_to_text(spec, data.get(spec.name)) for spec in kind.fields}


def _slug(line: str) -> str:
    """An address as editors may paste it: "/demarches/cambriolage", "https://…/fiches/F1435" or "f1435"."""
    slug = line.strip().rstrip("/").rsplit("/", 1)[-1]
    return slug.upper() if FICHE_ID.match(slug) else slug


def _parse(spec: FieldSpec, form: Mapping[str, str]):
    if spec.kind == "channels":
        values = form.getlist(spec.name) if hasattr(form, "getlist") else [form.get(spec.name, "")]
        return [item for value in values for item in re.split(r"[\s,]+", value or "") if item]
    raw = form.get(spec.name)
    if spec.kind == "bool":
        return (raw or "").strip().lower() in TRUE
    raw = raw or ""
    if spec.kind == "markdown":
        return "\n".join(line.rstrip() for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")).strip()
    if spec.kind in ("text", "choice"):
        # One line: a pasted line break becomes a space.
        return " ".join(raw.split()) if spec.name != "position" else _position(raw)
    if spec.kind == "list":
        return _lines(raw)
    if spec.kind == "slugs":
        return [_slug(line) for line in _lines(raw)]
    if spec.kind == "contacts":
        contacts = []
        for line in _lines(raw):
            number, label, detail = _cells(line, 3)
            contacts.append({"number": number, "label": label, "detail": detail})
        return contacts
    if spec.kind == "links":
        links = []
        for line in _lines(raw):
            if "|" in line:
                title, url = _cells(line, 2)
            elif line.startswith(("https://", "http://")):
                title, url = "", line
            else:
                title, url = line, ""
            links.append({"title": title, "url": url})
        return links
    if spec.kind == "sources":
        sources = []
        for line in _lines(raw):
            if "|" not in line and FICHE_ID.match(_slug(line)):
                sources.append({"fiche": _slug(line)})
            else:
                title, url = _cells(line, 2)
                sources.append({"title": title, "url": url})
        return sources
    return raw


def _position(raw: str):
    text = raw.strip()
    return int(text) if text.isdigit() else (0 if not text else text)


def data_from_form(kind: EntityKind, form: Mapping[str, str]) -> dict:
    """The data the form holds; fields marked ``new_only`` are read only when present (a creation form)."""
    data = {}
    for spec in kind.fields:
        if spec.new_only and spec.name not in form:
            continue
        data[spec.name] = _parse(spec, form)
    return data
