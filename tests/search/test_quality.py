"""Search quality, measured on labelled citizen queries with the live search."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import services
from search.evaluation import evaluate, read_queries

HERE = Path(__file__).parent
TOP1_BAR = 0.90


@pytest.mark.parametrize("name", ["public", "dev"])
def test_the_right_procedure_comes_first(app, name):
    path = Path(app.config["SEARCH_EVAL_FILE"]) if name == "public" else HERE / "queries-dev.tsv"
    queries = read_queries(path)
    assert len(queries) >= 40
    with app.app_context():
        report = evaluate(services.engine(), queries)
    print(f"\n{name}: {report.format()}")
    assert report.top1 >= TOP1_BAR, report.format()
    assert report.mrr >= report.top1


def test_the_evaluation_counts_ranks_honestly(tmp_path, app):
    path = tmp_path / "q.tsv"
    path.write_text("# comment\nvol de papiers\tvol-papiers-identite\nxqzwkj\tcambriolage\n\nsans slug\t\n")
    queries = read_queries(path)
    assert [q.query for q in queries] == ["vol de papiers", "xqzwkj"]
    with app.app_context():
        report = evaluate(services.engine(), queries)
    assert report.top1 == 0.5 and report.mrr == 0.5
    assert "xqzwkj" in report.format() and "obtenu rien" in report.format()
