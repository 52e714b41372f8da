"""Numbers as a French reader expects them."""

from __future__ import annotations

import pytest

from portal.templating import km, thousands


@pytest.mark.parametrize("distance, text", [
    (0.0, "0 m"), (0.438, "440 m"), (0.996, "1,0 km"), (2.34, "2,3 km"), (9.96, "10 km"), (123.6, "124 km"),
])
def test_distances(distance, text):
    assert km(distance) == text


def test_thousands_use_a_narrow_no_break_space():
    assert thousands(35014) == "35\u202f014"
