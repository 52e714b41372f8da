"""The French analysis chain, the same at index and query time."""

from __future__ import annotations

from search.analysis import french_analyzer, index_terms, query_words, spelling_analyzer


def indexed(text: str) -> set[str]:
    return {t.text for t in french_analyzer()(text)}


def searched(text: str) -> set[str]:
    return {term for word in query_words(text) for term in index_terms(word)}


def test_case_and_accents_do_not_matter():
    assert searched("SECURITE") & indexed("sécurité")
    assert searched("apres") & indexed("après")
    assert searched("deplacer") & indexed("déplacer")
    assert searched("oeuvre") & indexed("œuvre")


def test_elisions_are_removed():
    assert indexed("l'arnaque") == indexed("arnaque")
    assert indexed("d’identité") == indexed("identité")  # typographic apostrophe
    assert query_words("qu'il jusqu'au j'ai") == []


def test_stop_words_are_dropped_accented_or_not():
    assert query_words("Où est le commissariat le plus proche ?") == ["commissariat", "plus", "proche"]
    assert query_words("jai ete vole") == ["vole"]
    assert query_words("j'ai été volé") == ["volé"]


def test_inflections_meet():
    assert indexed("arnaques") == indexed("arnaque")
    assert searched("volée") & indexed("vol")
    assert searched("plaintes") & indexed("plainte")


def test_hyphens_split_words_and_prefixed_compounds_are_found_by_their_root():
    assert indexed("pré-plainte") == indexed("pré plainte")
    assert searched("harcèlement") & indexed("cyberharcèlement")
    assert searched("visioconférence") & indexed("visioconférence")


def test_spelling_field_keeps_whole_words_without_accents():
    assert [t.text for t in spelling_analyzer()("L'Escroquerie d'été")] == ["escroquerie"]
