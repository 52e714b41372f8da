"""Searches that ask for a unit lead to the station finder, on the place they name."""

from __future__ import annotations

import pytest

from search.shortcuts import place_candidates, station_shortcut, words_of


@pytest.mark.parametrize("query, label, place_query, kind", [
    ("commissariat lyon", "Commissariats près de Lyon (69)", "lyon", "police"),
    ("gendarmerie 72000", "Brigades de gendarmerie près de 72000 Le Mans", "72000", "gendarmerie"),
    ("commissariat paris 11", "Commissariats près de Paris 11e Arrondissement (75)", "paris 11", "police"),
    ("commissariat le plus proche", "Trouver le commissariat ou la brigade de gendarmerie le plus proche",
     None, None),
    ("gendarmerie ouverte dimanche", "Trouver le commissariat ou la brigade de gendarmerie le plus proche",
     None, None),
    # Words inside a town's name stay; an article just before it belongs to it.
    ("brigade gendarmerie bourg en bresse", "Brigades de gendarmerie près de Bourg-en-Bresse (01)",
     "bourg en bresse", "gendarmerie"),
    ("commissariat le mans", "Commissariats près du Mans (72)", "le mans", "police"),
    ("commissariat du mans", "Commissariats près du Mans (72)", "le mans", "police"),
    ("gendarmerie la rochelle", "Brigades de gendarmerie près de La Rochelle (17)", "la rochelle", "gendarmerie"),
    ("où est le commissariat de Lyon ?", "Commissariats près de Lyon (69)", "lyon", "police"),
    ("horaires d'ouverture commissariat lyon", "Commissariats près de Lyon (69)", "lyon", "police"),
    ("gendarmerie ouverte le dimanche à Saint-Malo", "Brigades de gendarmerie près de Saint-Malo (35)",
     "saint malo", "gendarmerie"),
    ("gendarmerie sarthe", "Brigades de gendarmerie : département Sarthe (72)", "72", "gendarmerie"),
    ("commissariat 93", "Commissariats : département Seine-Saint-Denis (93)", "93", "police"),
])
def test_a_search_for_a_unit_leads_to_the_finder(app, db_session, query, label, place_query, kind):
    with app.app_context():
        shortcut = station_shortcut(db_session, query)
    assert (shortcut.label, shortcut.query, shortcut.kind) == (label, place_query, kind)


@pytest.mark.parametrize("query", ["vol de papiers", "police secours", "porter plainte commissariat",
                                   "police municipale"])
def test_other_searches_have_no_shortcut(app, db_session, query):
    with app.app_context():
        assert station_shortcut(db_session, query) is None


def test_the_words_of_a_search():
    assert words_of("Où est l'Hôtel de police de Saint-Étienne ?") == [
        "ou", "est", "l", "hotel", "de", "police", "de", "saint", "etienne"]
    assert words_of("cœur") == ["coeur"]


def test_the_place_is_what_remains_between_the_filler_words():
    assert place_candidates(["horaires", "de", "lyon", "dimanche"]) == ["lyon"]
    assert place_candidates(["bourg", "en", "bresse"]) == ["bourg en bresse"]
    assert place_candidates(["du", "mans"]) == ["le mans", "mans"]
    assert place_candidates(["ouvert", "maintenant"]) == []


def test_the_results_page_shows_the_shortcut(client):
    html = client.get("/recherche", query_string={"q": "commissariat lyon"}).get_data(as_text=True)
    assert 'href="/commissariats?q=lyon&amp;type=police"' in html
    assert "Commissariats près de Lyon (69)" in html
