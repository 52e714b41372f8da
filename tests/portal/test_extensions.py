"""The database helpers every feature writes through."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from accounts.models import OutboxMessage
from portal.extensions import db, end_reads, write_transaction
from tests.conftest import make_app


def _message() -> OutboxMessage:
    return OutboxMessage(recipient="a@example.org", subject="Sujet", body="Corps", created_at=datetime.now(UTC))


def test_a_write_transaction_never_drops_uncommitted_changes(tmp_path):
    application = make_app(tmp_path)
    with application.app_context():
        pending = _message()
        db.session.add(pending)
        with pytest.raises(RuntimeError, match="uncommitted"), write_transaction(db.session):
            pass
        assert pending in db.session.new  # still there, for the caller to commit
        db.session.commit()
        with write_transaction(db.session) as session:
            session.add(_message())
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_the_end_of_a_request_may_abandon_what_was_not_committed(tmp_path):
    application = make_app(tmp_path)
    with application.app_context():
        db.session.add(_message())
        with write_transaction(db.session, abandon_pending=True) as session:
            session.add(_message())
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_end_reads_ends_the_transaction_and_keeps_what_was_loaded(tmp_path):
    application = make_app(tmp_path)
    with application.app_context():
        db.session.add(_message())
        db.session.commit()
        message = db.session.scalars(select(OutboxMessage)).one()
        assert db.session().in_transaction()
        end_reads(db.session)
        assert not db.session().in_transaction()
        assert message.subject == "Sujet"  # still loaded: reading it starts no new transaction
        assert not db.session().in_transaction()
        assert db.session().expire_on_commit  # the session's own setting is back for the next commits
