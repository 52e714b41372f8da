"""``flask complaints purge``, ``flask complaints new-key``, ``flask complaints rotate-keys``.

Registered by ``complaints.init_app`` (``app.cli.add_command(complaints_cli)``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import text
from sqlalchemy.orm import Session

from complaints import purge as purging
from complaints.visio import remind_command
from portal import crypto
from portal.dates import INSTANT
from portal.extensions import db

complaints_cli = AppGroup("complaints", help="Plaintes : purge des données, clés de chiffrement.")


@complaints_cli.command("purge")
@click.option("--now", type=INSTANT, default=None, help="Date de référence ISO 8601 (par défaut : maintenant).")
def purge_command(now: datetime | None) -> None:
    """Supprime les brouillons, les dossiers clos et les créneaux passés jamais réservés, une fois leur durée de
    conservation dépassée."""
    now = now or datetime.now(UTC)
    config = current_app.config
    result = purging.purge(db.session, now, config["DRAFT_RETENTION_DAYS"], config["CLOSED_CASE_RETENTION_DAYS"])
    db.session.commit()
    click.echo(f"Purge au {now.isoformat()} : {result.drafts} brouillon(s), {result.cases} dossier(s) clos "
               f"({result.events} événement(s), {result.statements} procès-verbal(aux), "
               f"{result.bookings} rendez-vous), {result.slots} créneau(x) passé(s) jamais réservé(s) supprimés.")


@complaints_cli.command("new-key")
def new_key_command() -> None:
    """Affiche une nouvelle clé, à placer en tête de DATA_ENCRYPTION_KEYS."""
    click.echo(crypto.new_key())


def sealed_columns() -> list[tuple]:
    """(table, primary key column, sealed column) for every sealed column of the schema."""
    found = []
    for table in db.metadata.sorted_tables:
        primary = list(table.primary_key.columns)
        for column in table.columns:
            if isinstance(column.type, crypto.EncryptedText) and len(primary) == 1:
                found.append((table, primary[0], column))
    return found


def rotate_keys(session: Session) -> dict[str, int]:
    """Re-seal, under the newest key, every sealed value that another key sealed; flushed, not committed.

    Each value is read raw (the sealed text), opened and sealed again in
    memory, and written raw: no plaintext reaches the database or the logs.
    Returns the number of values re-sealed per ``table.column``.
    """
    keyring = crypto.keyring()
    quote = session.get_bind().dialect.identifier_preparer.quote
    counts: dict[str, int] = {}
    for table, primary, column in sealed_columns():
        purpose = column.type.purpose
        # Plain SQL on the raw text: the column's type would open the values (and seal them again on write).
        name, key_name, column_name = quote(table.name), quote(primary.name), quote(column.name)
        rows = session.execute(text(f"SELECT {key_name}, {column_name} FROM {name} "  # noqa: S608 (schema names)
                                    f"WHERE {column_name} IS NOT NULL")).all()
        done = 0
        for key, token in rows:
            if keyring.is_current(token):
                continue
            resealed = keyring.seal(keyring.open(token, purpose), purpose)
            session.execute(text(f"UPDATE {name} SET {column_name} = :value WHERE {key_name} = :key"),  # noqa: S608
                            {"value": resealed, "key": key})
            done += 1
        counts[f"{table.name}.{column.name}"] = done
    return counts


@complaints_cli.command("rotate-keys")
def rotate_keys_command() -> None:
    """Rechiffre toutes les colonnes chiffrées avec la clé la plus récente (la première de DATA_ENCRYPTION_KEYS)."""
    counts = rotate_keys(db.session)
    db.session.commit()
    for name, count in counts.items():
        click.echo(f"{name} : {count} valeur(s) rechiffrée(s)")
    click.echo("Terminé : les anciennes clés peuvent être retirées de DATA_ENCRYPTION_KEYS.")
complaints_cli.add_command(remind_command)
