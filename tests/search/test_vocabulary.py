"""Synonyms and best bets, from their editable data files."""

from search.vocabulary import BestBets, Synonyms, load_best_bets, load_synonyms


def test_synonyms_replace_the_typed_words_by_their_equivalents():
    synonyms = Synonyms(groups=[["cni", "carte nationale d'identité", "carte d'identité"]])
    found = {(e.start, e.end, e.words) for e in synonyms.expansions(["cni", "perdue"])}
    assert (0, 1, ("carte", "nationale", "identité")) in found
    assert (0, 1, ("carte", "identité")) in found
    found = {(e.start, e.end, e.words) for e in synonyms.expansions(["perdu", "carte", "identités"])}
    assert (1, 3, ("cni",)) in found


def test_a_synonym_never_adds_words_nobody_typed():
    synonyms = Synonyms(groups=[["harcèlement", "harcèlement en ligne", "cyberharcèlement"]])
    expanded = [e.words for e in synonyms.expansions(["harcèlement"])]
    assert ("cyberharcèlement",) in expanded
    assert ("harcèlement", "ligne") not in expanded


def test_best_bets_match_the_exact_words_in_any_order_or_form():
    bets = BestBets(bets=[{"queries": ["arrêtons les violences"], "slugs": ["violences-conjugales"]}])
    assert bets.pinned("Arretons violences") == ["violences-conjugales"]
    assert bets.pinned("violences arrêtons") == ["violences-conjugales"]
    assert bets.pinned("violences") == []


def test_shipped_files_load_and_pin_only_existing_procedures():
    from catalogue.loader import read_content

    slugs = {p["slug"] for p in read_content()[1]}
    assert load_best_bets().slugs() <= slugs
    synonyms = load_synonyms()
    assert any(e.words == ("carte", "bancaire") for e in synonyms.expansions(["cb"]))
