"""Keeping the index in step with the database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from catalogue import services as catalogue
from catalogue.models import Procedure
from search import services
from search.vocabulary import BestBets, Synonyms
from search.whoosh_engine import WhooshEngine


def test_the_index_is_rebuilt_only_when_missing_or_stale(app, db_session, tmp_path, monkeypatch):
    # A small catalogue: only the portal's own procedures are published in this transaction.
    for fiche in db_session.scalars(select(Procedure).where(Procedure.kind == "fiche")):
        fiche.status = "draft"
    db_session.flush()
    engine = WhooshEngine(tmp_path / "index", Synonyms(), BestBets())

    first = services.ensure_index(db_session, engine)
    assert first.rebuilt and first.documents == len(catalogue.own_procedures(db_session))
    assert not services.ensure_index(db_session, engine).rebuilt

    entry = db_session.scalars(select(Procedure).where(Procedure.slug == "main-courante")).one()
    entry.title = "Déposer une main courante au commissariat"
    entry.content_hash = "edited"
    entry.updated_at = datetime.now(UTC)
    db_session.flush()
    assert services.ensure_index(db_session, engine).rebuilt

    monkeypatch.setitem(services.KIND_BOOSTS, "procedure", 9.0)
    assert services.ensure_index(db_session, engine).rebuilt, "a boost change makes the index stale"
    assert services.ensure_index(db_session, engine, force=True).rebuilt


def test_documents_carry_what_ranking_needs(db_session):
    procedure = db_session.scalars(select(Procedure).where(Procedure.slug == "thesee")).one()
    fiche = db_session.scalars(select(Procedure).where(Procedure.slug == "R19620")).one()
    form = db_session.scalars(select(Procedure).where(Procedure.slug == "R41033")).one()
    doc = services.document_for(procedure)
    assert "escroquerie sur internet" in doc.keywords
    assert "six types d'arnaques" in doc.body
    assert services.document_boost(procedure) > services.document_boost(form) > services.document_boost(fiche)
    assert services.document_for(fiche).context  # breadcrumb themes
