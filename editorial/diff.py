"""What changed between two versions, field by field, as chunks the template escapes (never HTML here).

Text is compared word by word, so a corrected typo shows as one word struck
and one inserted; lists (keywords, contacts, links…) item by item, one per
line, as the edit form writes them. Each chunk's text keeps its spaces and
line breaks: the template renders it with ``white-space: pre-line``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from editorial.entities import EntityKind, FieldSpec
from editorial.forms import form_values

WORDS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
LINE_KINDS = ("list", "slugs", "contacts", "links", "sources", "channels")


@dataclass(frozen=True)
class FieldDiff:
    name: str
    label: str
    changed: bool
    chunks: list[tuple[str, str]] = field(default_factory=list)  # (op, text), op in "same" | "add" | "del"


def _display(spec: FieldSpec, value: str) -> str:
    if spec.kind == "bool":
        return "Oui" if value else "Non"
    labels = dict(spec.choices)
    if value in labels:  # "" too: "Aucune"
        return labels[value]
    if labels and value:
        return "\n".join(labels.get(item, item) for item in value.split("\n"))
    return value


def _merge(chunks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for op, text in chunks:
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def _chunks(old: list[str], new: list[str]) -> list[tuple[str, str]]:
    """Equal runs and changes; a lone space between two changes joins them ("au commissariat" → "en ligne",
    not four alternating words)."""
    opcodes = SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes()
    segments: list[tuple[bool, str, str]] = []  # (changed, old text, new text)
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        before, after = "".join(old[i1:i2]), "".join(new[j1:j2])
        between_changes = 0 < index < len(opcodes) - 1 and opcodes[index - 1][0] != "equal" \
            and opcodes[index + 1][0] != "equal"
        changed = op != "equal" or (between_changes and not before.strip())
        if segments and changed and segments[-1][0]:
            _, old_text, new_text = segments.pop()
            before, after = old_text + before, new_text + after
        segments.append((changed, before, after))
    chunks: list[tuple[str, str]] = []
    for changed, before, after in segments:
        if changed:
            chunks += [("del", before), ("add", after)]
        else:
            chunks.append(("same", before))
    return _merge(chunks)


def _tokens(spec: FieldSpec, text: str) -> list[str]:
    if spec.kind in LINE_KINDS:
        return [line + "\n" for line in text.split("\n")] if text else []
    return WORDS.findall(text)


def diff(kind: EntityKind, old: dict | None, new: dict | None) -> list[FieldDiff]:
    """Every field of ``kind`` (retirement fields included), changed or not, old → new."""
    fields = kind.all_fields
    old_values = form_values(EntityKind(kind.name, kind.label, fields), old or {})
    new_values = form_values(EntityKind(kind.name, kind.label, fields), new or {})
    result = []
    for spec in fields:
        before = _display(spec, old_values[spec.name])
        after = _display(spec, new_values[spec.name])
        if before == after:
            result.append(FieldDiff(spec.name, spec.label, False, [("same", after)] if after else []))
            continue
        if spec.kind == "bool" or spec.kind == "choice":
            chunks = _merge([("del", before), ("add", after)])
        else:
            chunks = _chunks(_tokens(spec, before), _tokens(spec, after))
        result.append(FieldDiff(spec.name, spec.label, True, chunks))
    return result
