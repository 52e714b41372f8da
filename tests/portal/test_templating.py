"""Numbers as a French reader expects them."""

from __future__ import annotations

import pytest

from portal.templating import de, km, thousands


@pytest.mark.parametrize("distance, text", [
    (0.0, "0 m"), (0.438, "440 m"), (0.996, "1,0 km"), (2.34, "2,3 km"), (9.96, "10 km"), (123.6, "124 km"),
])
def test_distances(distance, text):
    assert km(distance) == text


def test_thousands_use_a_narrow_no_break_space():
    assert thousands(35014) == "35\u202f014"


@pytest.mark.parametrize("place, text", [
    ("Lyon (69)", "de Lyon (69)"), ("Le Mans (72)", "du Mans (72)"), ("Les Abymes (971)", "des Abymes (971)"),
    ("La Rochelle (17)", "de La Rochelle (17)"), ("Amiens (80)", "d'Amiens (80)"), ("Évry (91)", "d'Évry (91)"),
    ("72000 Le Mans", "de 72000 Le Mans"), ("Votre position", "de votre position"),
])
def test_the_preposition_before_a_place(place, text):
    assert de(place) == text
