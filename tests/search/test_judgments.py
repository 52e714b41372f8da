"""Graded judgments: reading the file and the metrics, on rankings whose values are worked out by hand."""

from __future__ import annotations

import math

import pytest

from search.judgments import JudgedQuery, JudgmentsError, read_judgments, score

VIOLENCE = JudgedQuery("mon mari me frappe", {"violences-conjugales": 3, "appels-urgence": 2, "F35417": 0}, "controle")


def test_the_ideal_order_scores_one_and_finds_the_answer_first():
    (scored,) = score([VIOLENCE], {VIOLENCE.query: ("violences-conjugales", "appels-urgence", "F35417")}, "x").scored
    assert scored.ndcg(5) == pytest.approx(1.0)
    assert scored.top1 and scored.reciprocal_rank == 1.0
    assert scored.off_topic() == ["F35417"]


def test_an_off_topic_result_first_costs_what_the_formula_says():
    (scored,) = score([VIOLENCE], {VIOLENCE.query: ("F35417", "appels-urgence", "violences-conjugales")}, "x").scored
    # DCG = 0 + (2²-1)/log2(3) + (2³-1)/log2(4); ideal = 7/log2(2) + 3/log2(3).
    expected = (3 / math.log2(3) + 7 / 2) / (7 + 3 / math.log2(3))
    assert scored.ndcg(5) == pytest.approx(expected) and scored.ndcg(5) == pytest.approx(0.6064, abs=1e-4)
    assert not scored.top1 and scored.reciprocal_rank == 0.5


def test_an_unjudged_result_is_reported_and_earns_nothing():
    (scored,) = score([VIOLENCE], {VIOLENCE.query: ("prime-coup-de-pouce", "violences-conjugales")}, "x").scored
    assert scored.unjudged() == ["prime-coup-de-pouce"] and scored.off_topic() == []
    assert scored.ndcg(1) == 0.0 and scored.reciprocal_rank == 0.5


def test_the_off_topic_share_counts_the_results_shown_not_the_queries():
    other = JudgedQuery("carte grise perdue", {"F1707": 3, "vol-vehicule": 0}, "reglage")
    report = score([VIOLENCE, other], {VIOLENCE.query: ("violences-conjugales", "appels-urgence", "F35417"),
                                       other.query: ("vol-vehicule",)}, "x")
    assert report.off_topic_share == pytest.approx(2 / 4)
    assert report.top1 == 0.5 and report.worst(1)[0].judged is other
    assert "hors sujet dans le top 5 50.0%" in report.format()


def test_a_query_the_engine_answered_nothing_scores_zero():
    report = score([VIOLENCE], {}, "x")
    assert report.ndcg(5) == 0.0 and report.mrr == 0.0 and report.off_topic_share == 0.0


def test_the_file_is_read_with_its_halves_and_comments(tmp_path):
    path = tmp_path / "judgments.tsv"
    path.write_text("# half\tquery\tjudgments\n\nreglage\tvol de papiers\tvol-papiers-identite=3,plainte-en-ligne=1\n"
                    "controle\tpasseport perdu\tperte-papiers-identite=3\n", encoding="utf-8")
    first, second = read_judgments(path)
    assert (first.half, first.query, first.grades) == ("reglage", "vol de papiers",
                                                        {"vol-papiers-identite": 3, "plainte-en-ligne": 1})
    assert second.half == "controle" and second.best == 3


@pytest.mark.parametrize("line, says", [
    ("tout\tvol\tplainte-en-ligne=3", "line 1"),
    ("reglage\tvol", "line 1"),
    ("reglage\tvol\tplainte-en-ligne=4", "not slug=0..3"),
    ("reglage\tvol\tplainte-en-ligne", "not slug=0..3"),
    ("reglage\tvol\tplainte-en-ligne=3,plainte-en-ligne=1", "once per slug"),
    ("reglage\tvol\tplainte-en-ligne=1", "no entry graded 2"),
])
def test_a_malformed_line_is_refused_with_its_number(tmp_path, line, says):
    path = tmp_path / "judgments.tsv"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(JudgmentsError, match=says):
        read_judgments(path)


def test_make_eval_reports_each_half_of_a_judgments_file(app, tmp_path):
    path = tmp_path / "judgments.tsv"
    path.write_text("reglage\tvol de voiture\tvol-vehicule=3\n"
                    "controle\tcambriolage\tcambriolage=3\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["search", "eval", "--judgments", str(path)])
    assert result.exit_code == 0, result.output
    tuning, held_out = result.output.split("Moitié de contrôle")
    assert "Moitié de réglage : 1 requête\n" in tuning and "Top-1 1.000" in tuning
    assert "(jamais réglée) : 1 requête\n" in held_out and "Top-1 1.000" in held_out
    assert "nDCG@5" in held_out and "hors sujet dans le top 5" in held_out
