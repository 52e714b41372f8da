"""``flask editorial ...``: the scheduled publications, by hand (the search worker runs them every 20 s)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from editorial.workflow import publish_due
from portal.extensions import db

editorial_cli = AppGroup("editorial", help="Contenus : relecture et publications programmées.")


@editorial_cli.command("publish-due")
def publish_due_command() -> None:
    """Publish the scheduled revisions whose date has come."""
    published = publish_due(db.session)
    click.echo(f"Publication(s) programmée(s) effectuée(s) : {len(published)}")
    for rev in published:
        click.echo(f"  {rev.entity_type} {rev.entity_key} (version {rev.number})")
