"""Edit forms: every entity's live data survives a trip through the form's strings; odd input is kept."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from catalogue.models import LifeEvent, Procedure
from editorial import entities
from editorial.forms import data_from_form, form_values

PROCEDURE = entities.kind("procedure")


def _form(values: dict[str, str], channels: list[str] | None = None) -> MultiDict:
    """What a browser sends: the channels as one value per ticked box, unticked boxes absent."""
    form = MultiDict({k: v for k, v in values.items() if k != "channels" and not (v == "" and k in {
        "franceconnect", "sensitive"})})
    for channel in channels if channels is not None else values.get("channels", "").split("\n"):
        if channel:
            form.add("channels", channel)
    return form


def test_every_procedure_and_life_event_round_trips_through_the_form(ctx):
    slugs = ctx.scalars(select(Procedure.slug).where(Procedure.kind == "procedure")).all()
    assert len(slugs) >= 20
    for slug in slugs:
        data = entities.live_data(ctx, "procedure", slug)
        back = data_from_form(PROCEDURE, _form(form_values(PROCEDURE, data)))
        assert entities.normalise("procedure", {**data, **back}) == data, slug
    life_event = entities.kind("life_event")
    for slug in ctx.scalars(select(LifeEvent.slug)).all():
        data = entities.live_data(ctx, "life_event", slug)
        back = data_from_form(life_event, form_values(life_event, data))
        assert entities.normalise("life_event", {**data, **back}) == data, slug


def test_the_form_strings():
    values = form_values(PROCEDURE, {
        "title": "Vol", "sensitive": True, "franceconnect": False, "keywords": ["vol", "larcin"],
        "contacts": [{"number": "17", "label": "Police secours", "detail": ""},
                     {"number": "3919", "label": "Violences Femmes Info", "detail": "Gratuit, 24 h/24"}],
        "links": [{"title": "Masecurite", "url": "https://www.masecurite.interieur.gouv.fr"}],
        "sources": [{"fiche": "F1435"}, {"title": "Code pénal", "url": "https://www.legifrance.gouv.fr"}],
    })
    assert values["sensitive"] == "1" and values["franceconnect"] == ""
    assert values["keywords"] == "vol\nlarcin"
    assert values["contacts"] == "17 | Police secours\n3919 | Violences Femmes Info | Gratuit, 24 h/24"
    assert values["links"] == "Masecurite | https://www.masecurite.interieur.gouv.fr"
    assert values["sources"] == "F1435\nCode pénal | https://www.legifrance.gouv.fr"
    assert values["summary"] == "" and values["slug"] == ""


def test_what_editors_type_is_tidied_and_what_does_not_fit_is_kept_for_validation(ctx):
    form = MultiDict({
        "title": "  Vol\r\nde vélo ", "summary": "Résumé", "steps": "1. Un  \r\n2. Deux\r\n\r\n",
        "keywords": "vélo\r\n\r\n  bicyclette \n", "related": "/demarches/cambriolage\nhttps://x.fr/fiches/f1435/\n",
        "contacts": "17\n3919 | Écoute | Gratuit | 24 h/24", "links": "https://sans-titre.fr\nTitre sans adresse",
        "sources": "f1344\nnimporte quoi", "sensitive": "on", "verified_on": "hier",
    })
    form.add("channels", "en_ligne")
    form.add("channels", "pigeon")
    data = data_from_form(PROCEDURE, form)
    assert data["title"] == "Vol de vélo"
    assert data["steps"] == "1. Un\n2. Deux"
    assert data["keywords"] == ["vélo", "bicyclette"]
    assert data["related"] == ["cambriolage", "F1435"]
    assert data["contacts"] == [{"number": "17", "label": "", "detail": ""},
                                {"number": "3919", "label": "Écoute", "detail": "Gratuit | 24 h/24"}]
    assert data["links"] == [{"title": "", "url": "https://sans-titre.fr"}, {"title": "Titre sans adresse", "url": ""}]
    assert data["sources"] == [{"fiche": "F1344"}, {"title": "nimporte quoi", "url": ""}]
    assert data["channels"] == ["en_ligne", "pigeon"]
    assert data["sensitive"] is True and data["franceconnect"] is False
    assert "slug" not in data  # an edit form has no address field: the entity keeps its own

    errors = entities.validate(ctx, "procedure", "cambriolage", entities.normalise("procedure", data))
    assert {"contacts", "links", "sources", "channels", "verified_on"} <= set(errors)


def test_a_life_event_position_that_is_not_a_number_is_named(ctx):
    kind = entities.kind("life_event")
    data = data_from_form(kind, {"title": "Situation", "position": "premier", "procedures": ""})
    assert data["position"] == "premier"
    assert data_from_form(kind, {"title": "Situation", "position": " 3 "})["position"] == 3
    errors = entities.validate(ctx, "life_event", "violences", entities.normalise("life_event", data))
    assert "position" in errors


def test_every_field_has_a_known_kind_and_a_french_label():
    for name in ("procedure", "life_event", "search_rule"):
        kind = entities.kind(name)
        for spec in kind.all_fields:
            assert spec.kind in entities.FIELD_KINDS and spec.label, (name, spec)
        assert sorted(entities.blank_data(name)) == sorted(spec.name for spec in kind.all_fields)
