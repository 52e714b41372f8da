"""The indexer applies the outbox to an index: entries, tuning, full rebuilds; and the worker's periodic tasks."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from whoosh import index as whoosh_index

from catalogue.models import Procedure
from portal import outbox
from search import services
from search.engine import INDEX_VERSION, IndexStatus
from search.indexer import Indexer, Stopped, purge_outbox, rebuild_reason
from search.tuning import apply_rule
from search.vocabulary import BestBets, Synonyms, load_best_bets, load_synonyms, load_worst_bets
from search.whoosh_engine import WhooshEngine
from search.worker import Worker, WorkerBusy


def slugs(results):
    return [h.slug for h in results.hits]


@pytest.fixture
def engine(db_session, tmp_path):
    """An index of the portal's own procedures (the fiches are drafts in this test's transaction)."""
    db_session.execute(update(Procedure).where(Procedure.kind == "fiche").values(status="draft"))
    db_session.commit()
    built = WhooshEngine(tmp_path / "index", Synonyms(), BestBets())
    services.ensure_index(db_session, built)
    # Events of the last moments (the session's own loading) are applied once, as a new worker would.
    Indexer(built).catch_up(db_session)
    return built


def entry(session, slug) -> Procedure:
    return session.scalars(select(Procedure).where(Procedure.slug == slug)).one()


def generation(engine) -> int:
    ix = whoosh_index.open_dir(engine.root / "current")
    try:
        return ix.latest_generation()
    finally:
        ix.close()


def test_a_published_synonym_reaches_the_search_through_the_outbox(db_session, engine):
    indexer = Indexer(engine)
    apply_rule(db_session, "synonym-zorglub", {"kind": "synonym", "terms": ["zorglub", "cambriolage"], "note": ""})
    db_session.commit()
    assert engine.search("zorglub").total == 0, "published, not yet applied"

    report = indexer.catch_up(db_session)
    assert report.tuning and not report.rebuilt and report.watermark == outbox.latest_id(db_session)
    assert slugs(engine.search("zorglub"))[0] == "cambriolage"
    # The index now records the database's state: `flask search ensure` has nothing to do.
    ensured = services.ensure_index(db_session, engine)
    assert not ensured.rebuilt and not ensured.tuning_updated


def test_entries_are_updated_added_and_removed_one_by_one(db_session, engine):
    indexer = Indexer(engine)
    built = engine.status().build
    edited = entry(db_session, "main-courante")
    edited.title = "Déposer une main courante zorglubienne"
    edited.content_hash = "edited"
    retired = entry(db_session, "cambriolage")
    retired.status = "retired"
    added = entry(db_session, "F1523")
    added.status = "published"
    for slug in ("main-courante", "cambriolage", "F1523"):
        outbox.emit(db_session, outbox.ENTRY, slug)
    db_session.commit()

    report = indexer.catch_up(db_session)
    assert (report.updated, report.removed, report.rebuilt) == (2, 1, None)
    assert engine.status().build == built, "incremental: the same build"
    assert slugs(engine.search("zorglubienne")) == ["main-courante"]
    assert "cambriolage" not in slugs(engine.search("cambriolage"))
    assert "F1523" in slugs(engine.search("cambriolage"))
    assert engine.status().fingerprint == services.index_fingerprint(db_session)

    # Applied once: the next pass reads the same recent events again and leaves the index alone.
    before = generation(engine)
    again = indexer.catch_up(db_session)
    assert again.events == 0 and not again.changed and generation(engine) == before


def test_an_event_committed_late_below_the_watermark_is_still_applied(db_session, engine):
    db_session.execute(delete(outbox.OutboxEvent))  # only this test's events in the re-read window
    edited = entry(db_session, "main-courante")
    edited.title = "Main courante tardive"
    outbox.emit(db_session, outbox.ENTRY, "main-courante")
    # An older one, out of the re-read window: already applied long ago.
    stale = entry(db_session, "cambriolage")
    stale.title = "Cambriolage oublié"
    db_session.add(outbox.OutboxEvent(topic=outbox.ENTRY, key="cambriolage",
                                      created_at=datetime.now(UTC) - timedelta(minutes=5)))
    db_session.commit()
    # As if the indexer had already read a later id when this transaction committed.
    latest = outbox.latest_id(db_session)
    assert engine.apply_changes(build=engine.status().build, meta={"watermark": latest})

    report = Indexer(engine).catch_up(db_session)
    assert report.updated == 1 and report.watermark == latest
    assert slugs(engine.search("tardive")) == ["main-courante"]
    assert slugs(engine.search("oublié")) == []


def test_a_retired_rule_stays_retired_when_the_tuning_file_is_lost(db_session, engine):
    """A build's tuning.json deleted or unreadable: the last rules read from that build, else none; never
    the YAML files' (the constructor's), which would bring back a rule an editor retired."""
    def pinned(reader, query) -> list[str]:
        return [h.slug for h in reader.search(query).hits if h.pinned]

    # A web process started as the portal used to start one: the YAML files' rules in its constructor.
    web = WhooshEngine(engine.root, load_synonyms(), load_best_bets(), worst_bets=load_worst_bets())
    assert pinned(web, "17") == ["appels-urgence"] and pinned(web, "pharos") == ["pharos"]
    indexer = Indexer(engine)
    apply_rule(db_session, "best-bet-17", None)  # retired by an editor
    db_session.commit()
    assert indexer.catch_up(db_session).tuning
    assert pinned(web, "17") == []

    tuning_file = engine.root / "current" / "tuning.json"
    tuning_file.unlink()
    restarted = WhooshEngine(engine.root, load_synonyms(), load_best_bets(), worst_bets=load_worst_bets())
    # The process that read the file keeps its rules; one that never did runs with none.
    assert pinned(web, "17") == [] and pinned(web, "pharos") == ["pharos"]
    assert pinned(restarted, "17") == [] and pinned(restarted, "pharos") == []
    tuning_file.write_text('{"rules": [{"kind": "best_bet", "terms": ["17"]', encoding="utf-8")
    another = WhooshEngine(engine.root, load_synonyms(), load_best_bets(), worst_bets=load_worst_bets())
    for reader in (web, restarted, another):
        assert pinned(reader, "17") == []
    assert engine.status().tuning is None, "a lost tuning is reported, to be written again"

    # The indexer's next pass writes the database's rules again, without any event to apply.
    report = indexer.catch_up(db_session)
    assert report.tuning and report.events == 0 and not report.rebuilt
    for reader in (web, restarted, another):
        assert pinned(reader, "17") == [] and pinned(reader, "pharos") == ["pharos"]
    # So does `flask search ensure`, without a rebuild.
    tuning_file.unlink()
    ensured = services.ensure_index(db_session, engine)
    assert ensured.tuning_updated and not ensured.rebuilt
    assert pinned(restarted, "17") == [] and pinned(restarted, "pharos") == ["pharos"]


def test_why_an_index_is_rebuilt_in_full():
    current = IndexStatus(available=True, version=INDEX_VERSION, watermark=10)
    assert rebuild_reason(current, oldest=5, latest=12) is None
    assert rebuild_reason(current, oldest=11, latest=12) is None
    never = IndexStatus(available=True, version=INDEX_VERSION, watermark=0)
    assert rebuild_reason(never, oldest=0, latest=0) is None  # nothing ever happened
    assert rebuild_reason(IndexStatus(available=False), 5, 12) == "missing"
    assert rebuild_reason(IndexStatus(available=True, version="older", watermark=10), 5, 12) == "format"
    assert rebuild_reason(IndexStatus(available=True, version=INDEX_VERSION), 5, 12) == "no-watermark"
    assert rebuild_reason(current, oldest=12, latest=14) == "purged"
    assert rebuild_reason(current, oldest=1, latest=3) == "log-reset"  # another database
    assert rebuild_reason(current, oldest=0, latest=0) == "log-reset"  # emptied: what it held is unknown


def test_a_rebuild_event_rebuilds_beside_and_swaps(db_session, engine):
    old = engine.status().build
    outbox.emit(db_session, outbox.REBUILD)
    db_session.commit()
    indexer = Indexer(engine)
    report = indexer.catch_up(db_session)
    status = engine.status()
    assert report.rebuilt == "requested" and status.build != old
    assert status.watermark == outbox.latest_id(db_session)
    assert status.fingerprint == services.index_fingerprint(db_session)
    assert old in os.listdir(engine.root / "builds"), "kept for the readers still on it"
    assert not indexer.catch_up(db_session).rebuilt, "once"


def test_an_index_missing_or_of_an_older_format_is_rebuilt(db_session, tmp_path):
    db_session.execute(update(Procedure).where(Procedure.kind == "fiche").values(status="draft"))
    db_session.commit()
    fresh = WhooshEngine(tmp_path / "new", Synonyms(), BestBets())
    assert Indexer(fresh).catch_up(db_session).rebuilt == "missing"
    assert slugs(fresh.search("cambriolage"))[0] == "cambriolage"
    meta = fresh.root / "current" / "meta.json"
    meta.write_text(meta.read_text().replace(INDEX_VERSION, "older"))
    assert Indexer(fresh).catch_up(db_session).rebuilt == "format"


def test_a_stopped_rebuild_leaves_the_live_index_serving(db_session, engine):
    old = engine.status()
    outbox.emit(db_session, outbox.REBUILD)
    db_session.commit()
    seen = []

    def stop_after_a_few() -> bool:
        seen.append(1)
        return len(seen) > 5

    with pytest.raises(Stopped):
        Indexer(engine).catch_up(db_session, stop_after_a_few)
    assert engine.status() == old
    assert os.listdir(engine.root / "builds") == [old.build], "the half-built directory is gone"
    assert slugs(engine.search("cambriolage"))[0] == "cambriolage"


def test_the_outbox_purge_keeps_the_newest_event(db_session):
    long_ago = datetime.now(UTC) - timedelta(days=8)
    db_session.execute(delete(outbox.OutboxEvent))
    for slug in ("a", "b", "c"):
        db_session.add(outbox.OutboxEvent(topic=outbox.ENTRY, key=slug, created_at=long_ago))
    outbox.emit(db_session, outbox.ENTRY, "recent")
    db_session.commit()
    assert purge_outbox(db_session) == 3
    assert [e.key for e in outbox.events_after(db_session, 0)] == ["recent"]
    db_session.execute(delete(outbox.OutboxEvent).where(outbox.OutboxEvent.key == "recent"))
    db_session.add(outbox.OutboxEvent(topic=outbox.ENTRY, key="old", created_at=long_ago))
    db_session.commit()
    assert purge_outbox(db_session) == 0, "the newest stays, however old: ids must keep growing"


def test_the_worker_runs_the_periodic_tasks_when_due_and_survives_a_failing_one(app, monkeypatch, caplog):
    from portal.tasks import PeriodicTask

    ran = []

    def broken(session):
        raise RuntimeError("secret personal detail")

    monkeypatch.setitem(app.extensions, "periodic_tasks", {
        "broken": PeriodicTask("broken", broken, 3600),
        "hourly": PeriodicTask("hourly", lambda session: ran.append("hourly"), 3600),
        "always": PeriodicTask("always", lambda session: ran.append("always"), 0),
    })
    worker = Worker(app)
    with caplog.at_level(logging.ERROR, logger="search.worker"):
        assert worker.run_due_tasks() == ["hourly", "always"]
    assert worker.run_due_tasks() == ["always"]
    assert ran == ["hourly", "always", "always"]
    assert "periodic task broken failed: RuntimeError" in caplog.text
    assert "secret" not in caplog.text


def test_one_worker_per_index(app):
    with Worker(app).exclusive():
        with pytest.raises(WorkerBusy):
            with Worker(app).exclusive():
                pass
    with Worker(app).exclusive():
        pass
