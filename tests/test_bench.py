"""``make bench`` runs for real, on small inputs, so that its harness cannot rot unnoticed.

Each bench starts the portal under gunicorn (portal.benchserver) and must
report its rows. A harness that launches an application gunicorn cannot load
(``app:app`` once), or that no longer reaches the portal, fails here.
"""

from __future__ import annotations

import re

import pytest

from app import create_app
from maps import bench as maps_bench
from portal import benchserver
from scripts import bench_workers
from search import bench as search_bench
from tests import small_portal

NUMBER = r"[\d  ]+(?:,\d+)?"


@pytest.fixture(scope="module")
def portal_env(tmp_path_factory):
    return small_portal.build(tmp_path_factory.mktemp("bench"))


@pytest.fixture
def bench_app(portal_env, monkeypatch):
    """What `flask search bench` runs in: the environment the gunicorn processes inherit."""
    for name, value in portal_env.items():
        monkeypatch.setenv(name, value)
    return create_app()


def _row(report: str, label: str) -> list[str]:
    """The cells of the table row that starts with ``label``."""
    for line in report.splitlines():
        if line.startswith(f"| {label}"):
            return [cell.strip() for cell in line.strip("|").split("|")]
    raise AssertionError(f"no row {label!r} in:\n{report}")


def test_the_harness_says_why_the_portal_did_not_start(portal_env, monkeypatch):
    """The target `make bench` once launched, after the module stopped building an app at import."""
    monkeypatch.setattr(benchserver, "APP", "app:app")
    with pytest.raises(RuntimeError, match="Failed to find attribute 'app' in 'app'"):
        with benchserver.running_portal("--workers", "1", **portal_env):
            pass


def test_search_bench_reports_in_process_and_http_latencies(bench_app):
    with bench_app.app_context():
        report = search_bench.run_bench(bench_app, generated=10)
    for label in ("construction complète de l'index", "latence en processus, p95", "requêtes hostiles"):
        assert re.fullmatch(rf"{NUMBER} (s|ms)", _row(report, label)[1])
    http = _row(report, "latence HTTP (`/api/v1/search`, gunicorn gthread, 2 processus × 8 threads")
    assert re.fullmatch(rf"{NUMBER} ms", http[1])
    page = _row(report, "page de résultats (`/recherche`, recherche enregistrée pour les statistiques), p50")
    assert re.fullmatch(rf"{NUMBER} ms", page[1])


def test_maps_bench_reports_nearest_units_and_the_api(bench_app):
    with bench_app.app_context():
        report = maps_bench.run_bench(typed=4, http_points=10, open_now_points=10)
    assert _row(report, "unités les plus proches (10), toutes")[4] == "≤ 5 ms"
    http = _row(report, "HTTP `/api/v1/stations/nearest` (gunicorn gthread")
    assert all(re.fullmatch(rf"{NUMBER} ms", cell) for cell in http[1:4])


def test_sign_in_bench_measures_search_with_and_without_sign_ins_on_both_models(portal_env, monkeypatch):
    for name, value in portal_env.items():
        monkeypatch.setenv(name, value)
    report, _ = bench_workers.run_bench(["plainte", "vol de papiers", "commissariat"], hanging=3,
                                        seconds=0.3, fc_timeout=0.5)
    rows = [line for line in report.splitlines() if line.startswith("| gthread") or line.startswith("| sync")]
    assert [row.split("|")[1:3] for row in rows] == [
        [" gthread, 2 processus × 8 threads ", " 0 "], [" gthread, 2 processus × 8 threads ", " 3 "],
        [" sync, 2 processus ", " 0 "], [" sync, 2 processus ", " 3 "],
    ]
    for row in rows[1], rows[3]:
        # The sign-ins really waited on the slow FranceConnect: "Connexion indisponible" (503).
        assert re.search(r"\d+ × 503, " + NUMBER + " s", row), row
    assert "Cible" in report
