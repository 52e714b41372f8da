"""``flask accounts ...``: housekeeping of sessions."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from accounts import codes
from accounts.sessions import purge_expired
from portal.extensions import db

accounts_cli = AppGroup("accounts", help="Comptes et sessions.")


@accounts_cli.command("purge-sessions")
def purge_sessions_command() -> None:
    """Delete sessions past 30 minutes idle or 12 hours in all, and expired sign-in codes (every few minutes)."""
    count = purge_expired(timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
                          timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]))
    click.echo(f"Sessions expirées supprimées : {count}")
    click.echo(f"Codes de connexion expirés supprimés : {codes.purge_expired(db.session)}")
