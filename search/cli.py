"""``flask search ...``: build the index, score the search, measure it."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db
from search import services
from search.evaluation import evaluate, read_queries

search_cli = AppGroup("search", help="Index et qualité de la recherche.")


@search_cli.command("ensure")
def ensure_command() -> None:
    """Build the index if it is missing, stale or of an older format."""
    report = services.ensure_index(db.session, services.engine())
    if report.rebuilt:
        click.echo(f"Index reconstruit : {report.documents} documents en {report.seconds:.1f} s")
    else:
        click.echo(f"Index à jour : {report.documents} documents")


@search_cli.command("rebuild")
def rebuild_command() -> None:
    """Rebuild the index from the database, even if it looks current."""
    report = services.ensure_index(db.session, services.engine(), force=True)
    click.echo(f"Index reconstruit : {report.documents} documents en {report.seconds:.1f} s")


@search_cli.command("eval")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Fichier TSV requête → slugs acceptés (par défaut SEARCH_EVAL_FILE).")
def eval_command(path: Path | None) -> None:
    """Print top-1 hit rate, MRR@10 and the misses on an evaluation file."""
    path = path or Path(current_app.config["SEARCH_EVAL_FILE"])
    report = evaluate(services.engine(), read_queries(path))
    click.echo(report.format())


@search_cli.command("bench")
@click.option("--http/--no-http", default=True, help="Mesurer aussi à travers HTTP.")
def bench_command(http: bool) -> None:
    """Index build time, latency p50/p95 in-process and over HTTP, index size."""
    from search.bench import run_bench

    click.echo(run_bench(current_app._get_current_object(), http=http))
