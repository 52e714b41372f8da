"""``flask maps load``: communes, postcodes and stations from the open data."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from maps.loader import load_all
from maps.services import cache
from portal.extensions import db

maps_cli = AppGroup("maps", help="Commissariats, brigades et communes.")


@maps_cli.command("load")
@click.option("--gendarmerie-csv", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Export data.gouv.fr des unités de gendarmerie (avec horaires_accueil).")
@click.option("--police-csv", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Export data.gouv.fr des services de police accueillant du public.")
@click.option("--annuaire-json", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Fiches de l'API Annuaire de la DILA (avec plage_ouverture).")
def load_command(gendarmerie_csv: Path | None, police_csv: Path | None, annuaire_json: Path | None) -> None:
    """Load communes, postcodes and stations; merge the ministry's current files when given."""
    data_dir = Path(current_app.config["PORTAL_DATA_DIR"])
    report = load_all(db.session, data_dir, gendarmerie_csv, police_csv, annuaire_json)
    db.session.commit()
    cache().clear()
    click.echo(report.summary())


@maps_cli.command("bench")
@click.option("--http/--no-http", default=True, help="Mesurer aussi l'API à travers gunicorn.")
def bench_command(http: bool) -> None:
    """Latency of the nearest-unit search (``make bench``)."""
    from maps.bench import run_bench

    click.echo(run_bench(http=http))
