"""What a citizen types in the finder's box, read as a place, on the real communes (COG 2026)."""

from __future__ import annotations

import pytest

from maps.places import DepartmentQuery, MalformedPlace, PlaceError, normalize


@pytest.mark.parametrize("typed, expected", [
    ("Saint-Étienne", "saint etienne"),
    ("st etienne", "saint etienne"),
    ("ST-ÉTIENNE", "saint etienne"),
    ("Ste-Maxime", "sainte maxime"),
    ("L'Haÿ-les-Roses", "l hay les roses"),
    ("Œuilly", "oeuilly"),
])
def test_case_accents_hyphens_and_saint_are_folded(typed, expected):
    assert normalize(typed) == expected


@pytest.mark.parametrize("typed", ["Le Mans", "le mans", "LE MANS", "le-mans", "  Le Mans  ", "le mans 72",
                                   "Le Mans (72)", "lemans", "Le Mens"])
def test_a_town_is_found_however_it_is_typed(gazetteer, typed):
    place = gazetteer.resolve(typed)
    assert (place.label, place.code_insee) == ("Le Mans (72)", "72181")


@pytest.mark.parametrize("typed, label", [
    ("st etienne", "Saint-Étienne (42)"),
    ("saint etienne", "Saint-Étienne (42)"),
    ("Marseile", "Marseille (13)"),
    ("lyonn", "Lyon (69)"),
    ("besancon", "Besançon (25)"),
])
def test_saint_accents_and_typos(gazetteer, typed, label):
    assert gazetteer.resolve(typed).label == label


def test_a_postcode_gives_its_commune(gazetteer):
    place = gazetteer.resolve("72000")
    assert place.label == "72000 Le Mans"
    assert place.department == "72"


def test_a_postcode_of_paris_lyon_marseille_gives_its_arrondissement(gazetteer):
    assert gazetteer.resolve("75011").label == "75011 Paris 11e Arrondissement"
    assert gazetteer.resolve("13003").label == "13003 Marseille 3e Arrondissement"
    assert gazetteer.resolve("69003").code_insee == "69383"


def test_a_postcode_without_its_leading_zero(gazetteer):
    assert gazetteer.resolve("1000").label == gazetteer.resolve("01000").label


def test_a_postcode_shared_by_communes_can_be_narrowed_by_name(gazetteer):
    shared = gazetteer.by_postcode["01210"]
    assert len(shared) > 1
    other = min(shared, key=lambda c: c.population)
    assert gazetteer.resolve(f"01210 {other.name}").code_insee == other.code_insee


def test_homonyms_are_offered_and_the_department_chooses(gazetteer):
    place = gazetteer.resolve("Saint-Denis")
    assert place.department == "974"  # the most populous of them
    assert "Saint-Denis (93)" in [a.label for a in place.alternatives]
    chosen = gazetteer.resolve("Saint-Denis 93")
    assert (chosen.code_insee, chosen.alternatives) == ("93066", ())


def test_coordinates_are_a_position(gazetteer):
    place = gazetteer.resolve("45.7640, 4.8357")
    assert (place.label, place.latitude, place.longitude) == ("Votre position", 45.764, 4.8357)


@pytest.mark.parametrize("typed", ["", "   ", "91,2", "45,200", "---", "'", "٧٢٠٠٠"])
def test_what_cannot_be_a_place_is_malformed(gazetteer, typed):
    with pytest.raises(MalformedPlace):
        gazetteer.resolve(typed)


def test_a_department_number_is_recognised(gazetteer):
    with pytest.raises(DepartmentQuery) as raised:
        gazetteer.resolve("2a")
    assert raised.value.code == "2A"


def test_an_unknown_postcode_suggests_close_ones(gazetteer):
    with pytest.raises(PlaceError) as raised:
        gazetteer.resolve("72999")
    assert "72999" in raised.value.message
    assert raised.value.suggestions
    assert all(s.query.startswith("72") for s in raised.value.suggestions)


def test_an_unknown_name_is_not_forced_onto_a_commune(gazetteer):
    with pytest.raises(PlaceError) as raised:
        gazetteer.resolve("Xyzzyville")
    assert raised.value.message == "Aucune commune ne s'appelle « Xyzzyville »."


def test_completion_by_name_puts_the_most_populous_first(gazetteer):
    labels = [s.label for s in gazetteer.complete("le ma")]
    assert labels[0] == "Le Mans (72)"
    assert len(labels) == 8
    assert all(label.lower().startswith("le ma") for label in labels)


def test_completion_by_postcode(gazetteer):
    suggestions = gazetteer.complete("7200")
    assert [(s.label, s.query) for s in suggestions][:1] == [("72000 Le Mans", "72000")]
    assert all(s.query.startswith("7200") for s in suggestions)


def test_completion_folds_saint_and_accents(gazetteer):
    assert gazetteer.complete("st eti")[0].label == "Saint-Étienne (42)"
    assert gazetteer.complete("e") == []


def test_two_typos_are_forgiven_only_in_a_long_name(gazetteer):
    assert gazetteer.resolve("strazbourgg").label == "Strasbourg (67)"
    assert gazetteer.resolve("montpeliiar").label == "Montpellier (34)"
    with pytest.raises(PlaceError):
        gazetteer.resolve("xyzville")


def test_a_typo_close_to_several_names_offers_the_others(gazetteer):
    place = gazetteer.resolve("monpelier")
    assert place.label == "Montélier (26)"  # one edit away; Montpellier is two
    assert "Montpellier (34)" in [a.label for a in place.alternatives]


@pytest.mark.parametrize("typed", ["Paris 11", "paris 11e", "PARIS 11ème", "Paris 11e arrondissement", "75011"])
def test_arrondissements_as_people_write_them(gazetteer, typed):
    assert gazetteer.resolve(typed).code_insee == "75111"


def test_a_postcode_after_the_name(gazetteer):
    assert gazetteer.resolve("Le Mans 72000").label == "72000 Le Mans"
    assert gazetteer.resolve("marseille 13003").code_insee == "13203"


def test_without_fuzziness_only_names_as_written_are_places(gazetteer):
    assert gazetteer.resolve("st etienne", fuzzy=False).code_insee == "42218"
    with pytest.raises(PlaceError):
        gazetteer.resolve("secours", fuzzy=False)  # not Secourt


def test_a_commune_the_data_does_not_place_is_still_found(gazetteer):
    # Pia (66) has no point in the communes file: known, in its department, without a position.
    place = gazetteer.resolve("66380")
    assert (place.label, place.department, place.located) == ("66380 Pia", "66", False)
    assert gazetteer.resolve("Pia").code_insee == place.code_insee


@pytest.mark.parametrize("query, code", [
    ("Sarthe", "72"), ("la sarthe", "72"), ("département de la Sarthe", "72"), ("Bas-Rhin", "67"),
    ("Nouvelle-Calédonie", "988"), ("Saint-Pierre-et-Miquelon", "975"),
])
def test_a_department_name_is_the_department_not_a_commune_one_typo_away(gazetteer, query, code):
    # "Sarthe" is one letter from Barthe (Hautes-Pyrénées): the citizen means the département.
    with pytest.raises(DepartmentQuery) as raised:
        gazetteer.resolve(query)
    assert raised.value.code == code
    assert f"« {query} » est un département" in raised.value.message


def test_a_commune_named_like_a_department_also_offers_the_department(gazetteer):
    assert gazetteer.resolve("Barthe").label == "Barthe (65)"
    place = gazetteer.resolve("La Réunion")
    assert place.label == "La Réunion (47)"
    assert (place.alternatives[0].label, place.alternatives[0].query) == ("le département La Réunion (974)", "974")
