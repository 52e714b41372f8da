"""The search engine on a small index built from hand-made documents."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
from whoosh import index as whoosh_index

from search.engine import Document, SearchUnavailable
from search.vocabulary import BestBets, Synonyms, load_best_bets, load_synonyms
from search.whoosh_engine import WhooshEngine

DOCS = [
    Document("cambriolage", "procedure", "Victime d'un cambriolage", "Appelez le 17 et portez plainte.",
             body="Ne touchez à rien avant l'arrivée de la police.", keywords=("effraction",), boost=4.0),
    Document("F1523", "fiche", "Vol, cambriolage", "Le vol est puni par la loi.",
             body="Un cambriolage est un vol avec effraction. Portez plainte au commissariat."),
    Document("passeport", "fiche", "Passeport perdu", "Refaire un passeport après une perte.",
             body="La déclaration de perte se fait en mairie."),
    Document("commissariat", "procedure", "Trouver un commissariat", "Adresse et horaires.",
             body="Commissariat de police ou brigade de gendarmerie.", boost=4.0),
    Document("escroquerie", "fiche", "Escroquerie", "Obtenir de l'argent par tromperie.",
             body="Une escroquerie sur internet peut être signalée."),
    Document("titre", "fiche", "Signalement", "Résumé sans rapport.", body="Texte neutre."),
    Document("alias", "fiche", "Autre page", "Résumé sans rapport.", keywords=("signalement",)),
    Document("resume", "fiche", "Encore une page", "Un signalement dans le résumé.", body="Rien."),
    Document("corps", "fiche", "Dernière page", "Résumé sans rapport.", body="Un signalement dans le corps."),
]


@pytest.fixture
def engine(tmp_path):
    eng = WhooshEngine(tmp_path / "index", Synonyms(groups=[["arnaque", "escroquerie"]]),
                       BestBets(bets=[{"queries": ["17"], "slugs": ["cambriolage"]}]))
    eng.rebuild(iter(DOCS), "v1")
    return eng


def slugs(results):
    return [h.slug for h in results.hits]


def test_the_portals_procedure_outranks_a_fiche_on_the_same_need(engine):
    assert slugs(engine.search("cambriolage"))[:2] == ["cambriolage", "F1523"]


def test_title_then_aliases_then_summary_then_body(engine):
    assert slugs(engine.search("signalement"))[:4] == ["titre", "alias", "resume", "corps"]


def test_one_typo_is_forgiven_from_five_letters_two_from_eight(engine):
    assert slugs(engine.search("pasport perte"))[0] == "passeport"   # via "perte"; "pasport" is 2 edits away
    assert slugs(engine.search("escroqerie"))[0] == "escroquerie"    # 10 letters, 1 edit
    assert slugs(engine.search("comissaria"))[0] == "commissariat"   # 10 letters, 2 edits
    assert slugs(engine.search("pasport")) == []                     # 7 letters, 2 edits: too far
    assert slugs(engine.search("volx")) == []                        # under 5 letters: never guessed
    assert slugs(engine.search("peerte"))[0] == "passeport"          # 6 letters, 1 edit


def test_a_word_the_index_knows_is_never_corrected(tmp_path):
    eng = WhooshEngine(tmp_path / "i", Synonyms(), BestBets())
    eng.rebuild(iter([Document("plainte", "fiche", "Plainte", "x"),
                      Document("plainte-2", "fiche", "Plainte en ligne", "x"),
                      Document("plaine", "fiche", "Plaine", "x")]), "f")
    assert slugs(eng.search("plaine")) == ["plaine"]
    corrected = eng.search("plaintz")
    assert corrected.suggestion == "plainte"  # the more frequent of two words 1 edit away
    assert set(slugs(corrected)) == {"plainte", "plainte-2"}


def test_the_last_word_is_completed_as_you_type(engine):
    assert slugs(engine.search("commiss"))[0] == "commissariat"
    assert slugs(engine.search("passep"))[0] == "passeport"


def test_synonyms_find_the_other_words(engine):
    assert slugs(engine.search("arnaque"))[0] == "escroquerie"


def test_best_bets_are_pinned_first(engine):
    results = engine.search("17")
    assert results.hits[0].slug == "cambriolage" and results.hits[0].pinned


def test_a_spelling_suggestion_comes_from_the_index(engine):
    assert engine.suggest("cambriolaeg") == "cambriolage"
    assert engine.suggest("cambriolage") is None
    assert engine.search("xqzwvk").total == 0


def test_pagination_is_consistent(engine):
    full = slugs(engine.search("signalement", limit=10))
    assert slugs(engine.search("signalement", limit=2, offset=2)) == full[2:4]
    assert engine.search("signalement", limit=2).total == len(full)


def test_index_and_remove_update_the_live_index(engine):
    engine.index([Document("nouveau", "fiche", "Vélo électrique", "Un vélo.")])
    assert slugs(engine.search("vélo")) == ["nouveau"]
    engine.index([Document("nouveau", "fiche", "Trottinette", "Une trottinette.")])
    assert slugs(engine.search("vélo")) == []
    engine.remove(["nouveau"])
    assert slugs(engine.search("trottinette")) == []


def test_status_records_the_fingerprint_and_format(engine):
    status = engine.status()
    assert status.available and status.fingerprint == "v1" and status.documents == len(DOCS)
    assert status.is_current("v1") and not status.is_current("v2")
    engine.index([Document("x", "fiche", "X", "x")])
    assert not engine.status().is_current("v1")
    engine.record_fingerprint("v2")
    assert engine.status().is_current("v2")


def test_a_rebuild_is_swapped_in_without_disturbing_readers(engine, tmp_path):
    assert slugs(engine.search("passeport")) == ["passeport"]
    old_target = os.readlink(engine.root / "current")
    engine.rebuild(iter([Document("seul", "fiche", "Passeport", "x")]), "v2")
    assert os.readlink(engine.root / "current") != old_target
    assert slugs(engine.search("passeport")) == ["seul"]


def test_readers_never_see_an_empty_index_during_rebuilds(engine):
    errors, empties = [], []

    def read():
        for _ in range(60):
            try:
                if engine.search("cambriolage").total == 0:
                    empties.append(1)
            except Exception as exc:  # noqa: BLE001 - any failure is what we look for
                errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    for i in range(3):
        engine.rebuild(iter(DOCS), f"v{i + 2}")
    for t in readers:
        t.join()
    assert errors == [] and empties == []


def test_a_missing_index_is_reported_not_crashed(tmp_path):
    eng = WhooshEngine(tmp_path / "empty", load_synonyms(), load_best_bets())
    assert not eng.status().available
    with pytest.raises(SearchUnavailable):
        eng.search("plainte")


def test_a_half_deleted_index_is_reported_not_crashed(engine):
    target = engine.root / os.readlink(engine.root / "current")
    for f in target.iterdir():
        if f.name != "meta.json":
            f.unlink()
    fresh = WhooshEngine(engine.root, Synonyms(), BestBets())
    with pytest.raises(SearchUnavailable):
        fresh.search("plainte")


def test_a_failed_rebuild_leaves_the_live_index_alone(engine):
    def broken():
        yield DOCS[0]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        engine.rebuild(broken(), "v9")
    assert engine.status().fingerprint == "v1"
    assert len(list((engine.root / "builds").iterdir())) == 1


def _build_dirs(engine) -> set[str]:
    return {p.name for p in (engine.root / "builds").iterdir()}


def test_a_replaced_build_outlives_the_swap_for_its_grace_period(engine):
    """The grace period runs from the swap, not from the build's creation."""
    old = engine.root / os.readlink(engine.root / "current")
    # The build has been the live index for an hour: old by its creation time.
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    # Another worker is answering a search: its reader is open on the old build.
    worker = WhooshEngine(engine.root, Synonyms(), BestBets())
    held = worker._reader()
    assert held.target == str(old.resolve())

    engine.rebuild(iter([Document("seul", "fiche", "Passeport", "x")]), "v2")  # swap, then prune

    assert old.name in _build_dirs(engine), "the outgoing build was deleted at the moment of the swap"
    # The open reader still reads, and a search that read `current` just before the swap can still open it.
    assert held.searcher.stored_fields(held.searcher.document_number(slug="passeport"))["title"] == "Passeport perdu"
    late = whoosh_index.open_dir(old)
    assert late.doc_count() == len(DOCS)
    late.close()
    assert slugs(engine.search("passeport")) == ["seul"]


def test_a_build_retired_longer_than_the_grace_period_is_deleted_by_any_process(engine):
    old = (engine.root / os.readlink(engine.root / "current")).name
    engine.rebuild(iter([Document("seul", "fiche", "Passeport", "x")]), "v2")
    current = (engine.root / os.readlink(engine.root / "current")).name
    retired_at = json.loads((engine.root / "retired.json").read_text())[old]

    # Another process, with nothing in memory, prunes: the record is on disk, beside the builds.
    other = WhooshEngine(engine.root, Synonyms(), BestBets())
    assert other.prune(now=retired_at + other.grace_seconds - 1) == []
    assert _build_dirs(engine) == {old, current}
    assert other.prune(now=retired_at + other.grace_seconds + 1) == [old]
    assert _build_dirs(engine) == {current}
    assert json.loads((engine.root / "retired.json").read_text()) == {}
    assert slugs(other.search("passeport")) == ["seul"]


def test_a_stray_build_gets_a_full_grace_period_and_the_current_one_is_never_pruned(engine):
    current = (engine.root / os.readlink(engine.root / "current")).name
    stray = engine.root / "builds" / "left-by-an-older-version"
    stray.mkdir()
    a_day_ago = time.time() - 86_400
    os.utime(stray, (a_day_ago, a_day_ago))
    now = time.time()
    assert engine.prune(now=now) == []
    assert engine.prune(now=now + 10 * engine.grace_seconds) == [stray.name]
    assert _build_dirs(engine) == {current}
