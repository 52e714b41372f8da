"""Finding communes by the beginning of a name or a postcode, bounded (the API's /communes)."""

from __future__ import annotations

from maps.places import CommuneEntry, Gazetteer


def _commune(code: str, name: str, population: int, *postcodes: str) -> CommuneEntry:
    from maps.places import normalize

    return CommuneEntry(code, name, normalize(name), "commune-actuelle", code[:2], None, population, 1.0, 2.0, "",
                        tuple(postcodes))


GAZETTEER = Gazetteer([
    _commune("72181", "Le Mans", 145000, "72000", "72100"),
    _commune("72999", "Le Mans-Sur-Test", 10, "72999"),
    _commune("51999", "Le Mansois", 500, "51000"),
    _commune("42218", "Saint-Étienne", 170000, "42000", "42100"),
    _commune("42999", "Saint-Étienne-le-Molard", 900, "42130"),
])


def codes(text: str, limit: int = 10) -> list[str]:
    return [c.code_insee for c in GAZETTEER.starting_with(text, limit)]


def test_an_exact_name_comes_first_then_the_most_populous():
    assert codes("le mans") == ["72181", "51999", "72999"]
    assert codes("LE-MANS") == codes("le mans")
    assert codes("st etienne") == ["42218", "42999"]


def test_postcodes_by_their_beginning_each_commune_once():
    assert codes("72") == ["72181", "72999"]
    assert codes("72000") == ["72181"]
    assert codes("99") == []


def test_the_list_is_bounded():
    assert len(codes("l", limit=2)) == 2
    assert codes("   ") == [] and codes("") == []
