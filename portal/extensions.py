"""Extension objects, created unbound and attached in ``create_app``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()


def _tune_sqlite(engine: Engine) -> None:
    """Foreign keys on, a busy timeout, and transactions SQLAlchemy controls.

    pysqlite's own transaction handling breaks SAVEPOINT; taking it over is
    the recipe from SQLAlchemy's SQLite dialect documentation.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


def utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime: SQLite returns naive ones for timezone-aware columns."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@contextmanager
def write_transaction(session: Session, abandon_pending: bool = False) -> Iterator[Session]:
    """A short transaction of its own for a write, committed at the end of the block.

    The request's earlier reads are let go first: on SQLite a transaction
    that read before another connection wrote cannot take the write lock and
    fails at once, whereas one whose first statement is a write waits its
    turn (busy timeout). On PostgreSQL it keeps no snapshot or lock open
    while the request goes on. Changes the request has not committed would be
    lost with those reads: that raises, unless the caller says they are to be
    abandoned (the end of a request, where they would be anyway).
    """
    if not abandon_pending and (session.new or session.dirty or session.deleted):
        raise RuntimeError("write_transaction would abandon uncommitted changes: commit them first")
    session.rollback()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def end_reads(session: Session | scoped_session) -> None:
    """Commit the request's reads, keeping the objects they loaded: the next statement opens a new transaction.

    For a view that read (the case, the agent), then writes: on SQLite, a
    transaction that read before another connection wrote cannot take the
    write lock and fails at once ("database is locked"), whereas one whose
    first statement is the write waits its turn (busy timeout). Unlike
    ``write_transaction``, what was loaded stays readable without a new query
    (``expire_on_commit`` is off for this commit), so the view can still show
    it. Changes pending in the session are committed with the reads: call it
    where the request has written nothing yet, or means to keep what it wrote.
    """
    real = session() if isinstance(session, scoped_session) else session
    real.expire_on_commit = False
    try:
        real.commit()
    finally:
        real.expire_on_commit = True


def init_app(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path) + "/migrations", render_as_batch=True)
    csrf.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _tune_sqlite(db.engine)
