"""Search rules in the database: initial content from the YAML files, checks, publication, previews, evaluation."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from catalogue.models import Procedure
from editorial.models import Revision
from portal import outbox
from search import services
from search.engine import Document
from search.models import SearchRule
from search.tuning import (
    apply_rule,
    current_tuning,
    initial_rules,
    load_initial_rules,
    pending_rule_changes,
    published_rules,
    validate_rule,
)
from search.vocabulary import BestBets, Synonyms, tuning_from_rules
from search.whoosh_engine import WhooshEngine


def slugs(hits):
    return [h.slug for h in hits]


def rule(session, key) -> SearchRule:
    return session.scalars(select(SearchRule).where(SearchRule.key == key)).one()


def last_event(session) -> outbox.OutboxEvent:
    return session.scalars(select(outbox.OutboxEvent).order_by(outbox.OutboxEvent.id.desc())).first()


# -- initial content --------------------------------------------------------------------


def test_the_yaml_files_give_stable_unique_keys():
    first, again = initial_rules(), initial_rules()
    assert first == again
    keys = [key for key, _ in first]
    assert len(keys) == len(set(keys))
    assert {"synonym-cni", "best-bet-17", "best-bet-ma-securite"} <= set(keys)
    assert all(len(key) <= 80 for key in keys)


def test_rules_come_from_the_yaml_files_only_once_and_never_undo_an_editor(db_session, tmp_path):
    # The session's database was loaded as `make data` does: every rule of the files is there.
    expected = initial_rules()
    assert {r.key for r in published_rules(db_session)} == {key for key, _ in expected}
    again = load_initial_rules(db_session)
    assert again.created == [] and again.existing == len(expected)

    # An editor changes one rule and retires another: a new load touches neither.
    apply_rule(db_session, "synonym-cni", {"kind": "synonym", "terms": ["cni", "carte d'identité"], "note": ""})
    apply_rule(db_session, "best-bet-otv", None)
    # The files gain a group: only that one is created.
    (tmp_path / "synonyms.yaml").write_text(
        "groups:\n  - [cni, carte nationale]\n  - [trottinette, engin de déplacement personnel]\n", encoding="utf-8")
    (tmp_path / "best_bets.yaml").write_text(
        "bets:\n  - queries: [otv]\n    slugs: [operation-tranquillite-vacances]\n"
        "worst_bets:\n  - queries: [vacances]\n    slugs: [F1523]\n", encoding="utf-8")
    before = outbox.latest_id(db_session)
    report = load_initial_rules(db_session, tmp_path / "synonyms.yaml", tmp_path / "best_bets.yaml")
    assert report.created == ["synonym-trottinette", "worst-bet-vacances"] and report.existing == 2
    assert rule(db_session, "synonym-cni").terms == ["cni", "carte d'identité"]
    assert rule(db_session, "best-bet-otv").status == "retired"
    assert rule(db_session, "worst-bet-vacances").slugs == ["F1523"]
    event = last_event(db_session)
    assert event.id > before and event.topic == outbox.TUNING
    assert report.format() == "Règles de recherche : 2 créée(s), 2 déjà en base."


# -- the engine ---------------------------------------------------------------------------

DOCS = [
    Document("cambriolage", "procedure", "Victime d'un cambriolage", "Portez plainte.", boost=4.0),
    Document("F1523", "fiche", "Vol, cambriolage", "Le vol est puni par la loi."),
    Document("vacances", "procedure", "Partir en vacances", "Signalez votre absence : cambriolage évité.", boost=4.0),
]


def test_a_worst_bet_pushes_an_entry_below_every_other_result(tmp_path):
    engine = WhooshEngine(tmp_path / "index", Synonyms(), BestBets())
    engine.rebuild(iter(DOCS), "v1")
    assert slugs(engine.search("cambriolage").hits) == ["cambriolage", "vacances", "F1523"]
    worst = tuning_from_rules([{"kind": "worst_bet", "terms": ["cambriolages"], "slugs": ["cambriolage"]}])
    pushed = engine.search("cambriolage", tuning=worst)
    assert slugs(pushed.hits) == ["vacances", "F1523", "cambriolage"] and pushed.total == 3
    # Only for that query, and an entry the query does not find is not added.
    assert slugs(engine.search("vol", tuning=worst).hits) == ["F1523"]
    assert "cambriolage" not in slugs(engine.search("absence", tuning=worst).hits)
    # A best bet wins over a worst bet on the same entry.
    both = tuning_from_rules([*worst.rules, {"kind": "best_bet", "terms": ["cambriolage"], "slugs": ["cambriolage"]}])
    assert slugs(engine.search("cambriolage", tuning=both).hits)[0] == "cambriolage"


def test_the_tuning_belongs_to_the_index_and_every_reader_follows_it(tmp_path):
    built_in = Synonyms(groups=[["zorglub", "cambriolage"]])
    engine = WhooshEngine(tmp_path / "index", built_in, BestBets())
    engine.rebuild(iter(DOCS), "v1")
    # Given no tuning, a rebuild writes the constructor's into the build.
    assert (engine.root / "current" / "tuning.json").is_file()
    assert slugs(engine.search("zorglub").hits)[:1] == ["cambriolage"]

    other_process = WhooshEngine(tmp_path / "index", Synonyms(), BestBets())
    tuning = tuning_from_rules([{"kind": "synonym", "terms": ["fripouille", "vol"]},
                                {"kind": "worst_bet", "terms": ["cambriolage"], "slugs": ["cambriolage"]}])
    assert engine.apply_changes(build=engine.status().build, tuning=tuning)
    assert engine.status().tuning == tuning.digest
    for reader in (engine, other_process):
        assert slugs(reader.search("zorglub").hits) == []
        assert slugs(reader.search("fripouille").hits) == ["F1523"]
        assert slugs(reader.search("cambriolage").hits)[-1] == "cambriolage"
    # A full rebuild carries its own tuning.
    engine.rebuild(iter(DOCS), "v2", tuning=tuning_from_rules([]))
    assert slugs(other_process.search("fripouille").hits) == []
    assert slugs(other_process.search("cambriolage").hits)[0] == "cambriolage"
    # A change for a build that is no longer current is refused: the caller reads the status again.
    assert not engine.apply_changes(build="a-replaced-build", tuning=tuning)


# -- checks ------------------------------------------------------------------------------


def test_a_rule_is_checked_before_it_is_published(db_session):
    def errors(data, key=None):
        return validate_rule(db_session, {"note": "", **data}, key=key)

    assert errors({"kind": "synonym", "terms": ["trottinette", "EDPM"], "slugs": []}) == {}
    assert errors({"kind": "best_bet", "terms": ["Pharos signalement"], "slugs": ["pharos"]}) == {}
    assert "kind" in errors({"kind": "autre", "terms": ["a", "b"]})
    assert errors({"kind": "synonym", "terms": []})["terms"].startswith("Indiquez au moins deux termes")
    assert "au moins deux termes" in errors({"kind": "synonym", "terms": ["seul"]})["terms"]
    assert "aucun mot cherché" in errors({"kind": "synonym", "terms": ["le", "trottinette"]})["terms"]
    assert "30 termes au plus" in errors({"kind": "synonym", "terms": [f"mot{i}" for i in range(31)]})["terms"]
    assert "laissez ce champ vide" in errors({"kind": "synonym", "terms": ["a1", "b1"], "slugs": ["pharos"]})["slugs"]
    assert "au moins une page" in errors({"kind": "best_bet", "terms": ["trottinette"], "slugs": []})["slugs"]
    assert "aucune démarche ni fiche" in errors(
        {"kind": "worst_bet", "terms": ["trottinette"], "slugs": ["pas-une-page"]})["slugs"]

    hidden = db_session.scalars(select(Procedure).where(Procedure.slug == "F1523")).one()
    hidden.status = "hidden"
    db_session.flush()
    assert "n'est pas publiée" in errors({"kind": "best_bet", "terms": ["trottinette"], "slugs": ["F1523"]})["slugs"]

    # "17" already has its best bet: another rule may not claim it, the rule itself may be edited.
    taken = errors({"kind": "best_bet", "terms": ["17"], "slugs": ["cambriolage"]})
    assert taken["terms"] == ("La requête « 17 » a déjà une meilleure réponse : la règle best-bet-17. "
                              "Modifiez-la plutôt.")
    assert errors({"kind": "best_bet", "terms": ["17", "112"], "slugs": ["cambriolage"]}, key="best-bet-17") == {}
    # An entry is never pinned and pushed down by the same query.
    both = errors({"kind": "worst_bet", "terms": ["pharos"], "slugs": ["pharos"]})
    assert "à la fois en tête et repoussée" in both["slugs"]
    assert errors({"kind": "worst_bet", "terms": ["pharos"], "slugs": ["cambriolage"]}) == {}
    assert "1000 caractères" in errors({"kind": "synonym", "terms": ["a1", "b1"], "note": "x" * 1001})["note"]


def test_publishing_a_rule_writes_it_and_an_outbox_event_in_the_same_transaction(db_session):
    before = current_tuning(db_session)
    apply_rule(db_session, "synonym-trottinette",
               {"kind": "synonym", "terms": [" trottinette ", "EDPM", ""], "slugs": ["ignored"], "note": "Demandé."})
    published = rule(db_session, "synonym-trottinette")
    assert (published.terms, published.slugs, published.status) == (["trottinette", "EDPM"], [], "published")
    event = last_event(db_session)
    assert (event.topic, event.key) == (outbox.TUNING, "synonym-trottinette")
    after = current_tuning(db_session)
    assert after.digest != before.digest
    assert any(e.words == ("edpm",) for e in after.synonyms.expansions(["trottinette"]))

    apply_rule(db_session, "synonym-trottinette", None)
    assert rule(db_session, "synonym-trottinette").status == "retired"
    assert current_tuning(db_session).digest == before.digest
    db_session.rollback()  # nothing of it without the transaction
    assert db_session.scalars(select(SearchRule).where(SearchRule.key == "synonym-trottinette")).first() is None


# -- previews and evaluation -------------------------------------------------------------


def test_a_preview_shows_the_top_10_now_and_with_the_change(app, db_session):
    with app.app_context():
        now, changed = services.preview(db_session, "cambriolage", rules_override={
            "worst-bet-cambriolage": {"kind": "worst_bet", "terms": ["cambriolage"], "slugs": ["cambriolage"]}})
        assert slugs(now)[0] == "cambriolage" and len(now) == 10
        assert "cambriolage" not in slugs(changed) and slugs(changed)[0] == slugs(now)[1]

        now, changed = services.preview(db_session, "17", rules_override={"best-bet-17": None})
        assert now[0].slug == "appels-urgence" and now[0].pinned
        assert not any(h.pinned for h in changed)

        now, changed = services.preview(db_session, "vol de voiture", rules_override={
            "best-bet-voiture": {"kind": "best_bet", "terms": ["vol voiture"], "slugs": ["F2692", "F1523"]}})
        assert slugs(changed)[:2] == ["F2692", "F1523"] and changed[0].pinned
        # Nothing was published: the citizens' search is as it was.
        assert slugs(services.search("vol de voiture").hits) == slugs(now)


def _revision(session, key, state, data, number=1) -> None:
    now = datetime.now(UTC)
    session.add(Revision(entity_type="search_rule", entity_key=key, number=number, state=state,
                         open_key=f"search_rule:{key}" if state != "published" else None, data=data,
                         change_note="", review_note="", authors=[], created_at=now, updated_at=now))


def test_eval_scores_the_pending_rules_before_and_after(app, db_session, tmp_path):
    worst = {"kind": "worst_bet", "terms": ["cambriolage"], "slugs": ["cambriolage"], "note": ""}
    _revision(db_session, "worst-bet-cambriolage", "submitted", worst)
    _revision(db_session, "best-bet-17", "approved", {**worst, "retired": True})
    _revision(db_session, "synonym-brouillon", "draft", {"kind": "synonym", "terms": ["a1", "b1"]})
    db_session.commit()  # the command's application context ends its session (rolled back with the test)
    assert pending_rule_changes(db_session) == {"worst-bet-cambriolage": worst, "best-bet-17": None}

    queries = tmp_path / "queries.tsv"
    queries.write_text("cambriolage\tcambriolage\n17\tappels-urgence\nvol de voiture\tvol-vehicule\n",
                       encoding="utf-8")
    runner = app.test_cli_runner()
    plain = runner.invoke(args=["search", "eval", "--file", str(queries)])
    assert plain.exit_code == 0, plain.output
    assert "Top-1    : 1.000" in plain.output

    pending = runner.invoke(args=["search", "eval", "--pending", "--file", str(queries)])
    assert pending.exit_code == 0, pending.output
    assert "Règles en attente : 2 (worst-bet-cambriolage, best-bet-17)" in pending.output
    assert "Avant (règles publiées)          : Top-1 1.000" in pending.output
    assert "'cambriolage' : 1 → -" in pending.output
    assert "'vol de voiture'" not in pending.output
