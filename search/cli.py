"""``flask search ...``: build the index, keep it in step, load the initial rules, score the search, measure it."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db
from search import services
from search.evaluation import compare, evaluate, read_queries
from search.judgments import read_judgments, score
from search.tuning import current_tuning, load_initial_rules, pending_rule_changes, tuning_with
from search.worker import DEFAULT_INTERVAL, Worker, WorkerBusy

search_cli = AppGroup("search", help="Index, réglages et qualité de la recherche.")


@search_cli.command("ensure")
def ensure_command() -> None:
    """Build the index if it is missing, stale or of an older format."""
    report = services.ensure_index(db.session, services.engine())
    if report.rebuilt:
        click.echo(f"Index reconstruit : {report.documents} documents en {report.seconds:.1f} s")
    elif report.tuning_updated:
        click.echo(f"Index à jour : {report.documents} documents ; réglages de la recherche réécrits")
    else:
        click.echo(f"Index à jour : {report.documents} documents")


@search_cli.command("rebuild")
def rebuild_command() -> None:
    """Rebuild the index from the database, even if it looks current."""
    report = services.ensure_index(db.session, services.engine(), force=True)
    click.echo(f"Index reconstruit : {report.documents} documents en {report.seconds:.1f} s")


@search_cli.command("load-rules")
def load_rules_command() -> None:
    """Create the rules of synonyms.yaml and best_bets.yaml that the database does not have yet."""
    report = load_initial_rules(db.session)
    db.session.commit()
    click.echo(report.format())


@search_cli.command("worker")
@click.option("--once", is_flag=True, help="Un seul passage (rattrapage), puis s'arrêter.")
@click.option("--interval", type=click.FloatRange(min=0.05), default=DEFAULT_INTERVAL, show_default=True,
              help="Secondes entre deux passages.")
def worker_command(once: bool, interval: float) -> None:
    """Keep this host's index in step with the outbox, and run the periodic tasks (one per host)."""
    worker = Worker(current_app._get_current_object(), interval=interval)
    try:
        with worker.exclusive():
            if once:
                click.echo(worker.run_once().format())
            else:
                worker.run_forever()
    except WorkerBusy as exc:
        raise click.ClickException(
            f"Un indexeur tourne déjà sur cet hôte pour l'index {exc} : un seul à la fois.") from exc


@search_cli.command("eval")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Fichier TSV requête → slugs acceptés (par défaut SEARCH_EVAL_FILE).")
@click.option("--pending", is_flag=True,
              help="Comparer avant et après les règles en attente de publication (à relire, approuvées, programmées).")
@click.option("--judgments", "judgments_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Fichier de jugements gradués (0 à 3) : Top-1, MRR@10, nDCG@5 et @10, part hors sujet, par moitié.")
def eval_command(path: Path | None, pending: bool, judgments_path: Path | None) -> None:
    """Print top-1 hit rate, MRR@10 and the misses on an evaluation file, with the published rules; with
    ``--judgments``, the graded metrics of each half (tuning, held out) of a judgments file instead."""
    if judgments_path is not None:
        judged = read_judgments(judgments_path)
        engine, tuning = services.engine(), current_tuning(db.session)
        rankings = {j.query: tuple(h.slug for h in engine.search(j.query, limit=10, tuning=tuning).hits)
                    for j in judged}
        for half, name in (("reglage", "Moitié de réglage"), ("controle", "Moitié de contrôle (jamais réglée)")):
            click.echo(score([j for j in judged if j.half == half], rankings, name).format())
        return
    path = path or Path(current_app.config["SEARCH_EVAL_FILE"])
    queries = read_queries(path)
    published = current_tuning(db.session)
    if not pending:
        click.echo(evaluate(services.engine(), queries, published).format())
        return
    changes = pending_rule_changes(db.session)
    if not changes:
        click.echo("Aucune règle en attente de publication (à relire, approuvée ou programmée).")
        click.echo(evaluate(services.engine(), queries, published).format())
        return
    click.echo(f"Règles en attente : {len(changes)} ({', '.join(changes)})")
    click.echo(compare(services.engine(), queries, published, tuning_with(db.session, changes)).format())


@search_cli.command("bench")
@click.option("--http/--no-http", default=True, help="Mesurer aussi à travers HTTP.")
def bench_command(http: bool) -> None:
    """Index build time, latency p50/p95 in-process and over HTTP, index size."""
    from search.bench import run_bench

    click.echo(run_bench(current_app._get_current_object(), http=http))
