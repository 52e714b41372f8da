"""The diff between two versions: word by word for text, item by item for lists, plain strings only."""

from __future__ import annotations

from markupsafe import Markup

from editorial.diff import diff
from editorial.entities import blank_data, kind

PROCEDURE = kind("procedure")


def _data(**changes) -> dict:
    return {**blank_data("procedure"), "title": "Vol de vélo", "summary": "Portez plainte.", **changes}


def _field(diffs, name):
    return next(d for d in diffs if d.name == name)


def test_unchanged_fields_are_listed_as_such():
    old = _data(keywords=["vélo"])
    diffs = diff(PROCEDURE, old, dict(old))
    assert [d.name for d in diffs] == [spec.name for spec in PROCEDURE.all_fields]
    assert not any(d.changed for d in diffs)
    assert _field(diffs, "title").chunks == [("same", "Vol de vélo")]
    assert _field(diffs, "alert").chunks == []


def test_text_is_compared_word_by_word():
    old = _data(steps="1. Portez plainte au commissariat.\n2. Prévenez l'assureur.")
    new = _data(steps="1. Portez plainte en ligne.\n2. Prévenez l'assureur.")
    steps = _field(diff(PROCEDURE, old, new), "steps")
    assert steps.changed and steps.label == "Comment faire ?"
    assert ("del", "au commissariat") in steps.chunks and ("add", "en ligne") in steps.chunks
    assert steps.chunks[0] == ("same", "1. Portez plainte ")
    assert steps.chunks[-1] == ("same", ".\n2. Prévenez l'assureur.")


def test_lists_are_compared_item_by_item_as_the_form_writes_them():
    old = _data(contacts=[{"number": "17", "label": "Police secours", "detail": ""}], related=["a", "b"])
    new = _data(contacts=[{"number": "17", "label": "Police secours", "detail": ""},
                          {"number": "3919", "label": "Violences Femmes Info", "detail": "Gratuit"}],
                related=["b", "c"])
    diffs = diff(PROCEDURE, old, new)
    assert _field(diffs, "contacts").chunks == [("same", "17 | Police secours\n"),
                                                ("add", "3919 | Violences Femmes Info | Gratuit\n")]
    assert _field(diffs, "related").chunks == [("del", "a\n"), ("same", "b\n"), ("add", "c\n")]


def test_booleans_and_choices_are_shown_in_words():
    diffs = diff(PROCEDURE, _data(sensitive=False, channels=["en_ligne"], institution=""),
                 _data(sensitive=True, channels=["en_ligne", "sur_place"], institution="police-gendarmerie"))
    assert _field(diffs, "sensitive").chunks == [("del", "Non"), ("add", "Oui")]
    assert _field(diffs, "channels").chunks == [("same", "En ligne\n"), ("add", "Sur place\n")]
    assert _field(diffs, "institution").chunks == [("del", "Aucune"),
                                                   ("add", "Police nationale et Gendarmerie nationale")]


def test_a_retirement_shows_in_the_diff():
    diffs = diff(PROCEDURE, _data(), _data(retired=True, replacement="plainte-en-ligne", retired_note="Remplacée."))
    assert _field(diffs, "retired").chunks == [("del", "Non"), ("add", "Oui")]
    assert _field(diffs, "replacement").chunks == [("add", "plainte-en-ligne")]


def test_a_new_entity_is_all_additions():
    diffs = diff(kind("life_event"), None, {**blank_data("life_event"), "title": "Je suis victime"})
    assert _field(diffs, "title").chunks == [("add", "Je suis victime")]


def test_chunks_are_plain_strings_the_template_escapes():
    payload = "<script>alert(1)</script>"
    diffs = diff(PROCEDURE, _data(), _data(summary=f"Portez plainte. {payload}"))
    for _, text in _field(diffs, "summary").chunks:
        assert type(text) is str and not isinstance(text, Markup)
    assert ("add", f" {payload}") in _field(diffs, "summary").chunks
