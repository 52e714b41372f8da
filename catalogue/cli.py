"""``flask catalogue ...``: load the portal's content and the service-public.fr fiches."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from catalogue.loader import ContentError, import_fiches, load_content
from portal.extensions import db

catalogue_cli = AppGroup("catalogue", help="Catalogue des démarches.")


@catalogue_cli.command("load")
def load_command() -> None:
    """Create the institutions, procedures and life events of catalogue/content/ missing from the database.

    The files are the initial content: what the database has (an editor's change) is never overwritten.
    """
    try:
        report = load_content(db.session)
    except ContentError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(report.content_summary())


@catalogue_cli.command("import-fiches")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Dossier des données (par défaut PORTAL_DATA_DIR).")
def import_fiches_command(data_dir: Path | None) -> None:
    """Import the service-public.fr fiches (kind=fiche, slug = fiche id): added, changed, withdrawn."""
    data_dir = data_dir or Path(current_app.config["PORTAL_DATA_DIR"])
    if not (data_dir / "fiches").is_dir():
        raise click.ClickException(f"Dossier des fiches introuvable : {data_dir / 'fiches'}")
    report = import_fiches(db.session, data_dir)
    db.session.commit()
    click.echo(report.fiches_summary())
