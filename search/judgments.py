"""Graded relevance judgments and the metrics computed from them (GOV.UK's method: grades 0 to 3, nDCG@5).

A judgment says how well one entry answers one query: 3 it is the answer, 2 it
helps, 1 it is related, 0 it is off-topic. Judgments are pooled (every entry
the portal or a baseline ranked high is graded), so an entry no one graded is
reported as unjudged, never silently counted as relevant or off-topic.

The file is ``half<TAB>query<TAB>slug=grade,slug=grade``; ``half`` is
``reglage`` (queries the tuning may look at) or ``controle`` (held out: only
reported). '#' starts a comment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

GRADES = range(4)
HALVES = ("reglage", "controle")
# A result is "the answer" (top-1, MRR) from this grade up.
ANSWER_GRADE = 2


class JudgmentsError(ValueError):
    """A line of a judgments file that cannot be read, with its number."""


@dataclass(frozen=True)
class JudgedQuery:
    query: str
    grades: dict[str, int]
    half: str

    @property
    def best(self) -> int:
        return max(self.grades.values(), default=0)


def read_judgments(path: Path) -> list[JudgedQuery]:
    """Read a judgments file; raises ``JudgmentsError`` on a malformed line (never skips it silently)."""
    found: list[JudgedQuery] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[0] not in HALVES or not parts[1].strip():
            raise JudgmentsError(f"line {number}: expected half<TAB>query<TAB>slug=grade,…")
        grades: dict[str, int] = {}
        for item in filter(None, (p.strip() for p in parts[2].split(","))):
            slug, _, grade = item.partition("=")
            if not slug or not grade.isdigit() or int(grade) not in GRADES or slug in grades:
                raise JudgmentsError(f"line {number}: {item!r} is not slug=0..3 (once per slug)")
            grades[slug] = int(grade)
        if not any(g >= ANSWER_GRADE for g in grades.values()):
            raise JudgmentsError(f"line {number}: no entry graded {ANSWER_GRADE} or more")
        found.append(JudgedQuery(parts[1].strip(), grades, parts[0]))
    return found


def dcg(grades: list[int]) -> float:
    return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(grades))


@dataclass(frozen=True)
class Scored:
    """One query's ranking, read against its judgments."""

    judged: JudgedQuery
    ranked: tuple[str, ...]

    def grade(self, slug: str) -> int | None:
        return self.judged.grades.get(slug)

    def ndcg(self, k: int) -> float:
        ideal = dcg(sorted(self.judged.grades.values(), reverse=True)[:k])
        return dcg([self.grade(s) or 0 for s in self.ranked[:k]]) / ideal if ideal else 0.0

    @property
    def top1(self) -> bool:
        """The first result has the best grade any entry has for this query."""
        return bool(self.ranked) and self.grade(self.ranked[0]) == self.judged.best

    @property
    def reciprocal_rank(self) -> float:
        for i, slug in enumerate(self.ranked[:10], start=1):
            if (self.grade(slug) or 0) >= ANSWER_GRADE:
                return 1 / i
        return 0.0

    def off_topic(self, k: int = 5) -> list[str]:
        return [s for s in self.ranked[:k] if self.grade(s) == 0]

    def unjudged(self, k: int = 10) -> list[str]:
        return [s for s in self.ranked[:k] if self.grade(s) is None]


@dataclass
class GradedReport:
    """The metrics of one set of queries (a half, or a named set)."""

    name: str
    scored: list[Scored] = field(default_factory=list)

    def _mean(self, values) -> float:
        values = list(values)
        return sum(values) / len(values) if values else 0.0

    @property
    def top1(self) -> float:
        return self._mean(s.top1 for s in self.scored)

    @property
    def mrr(self) -> float:
        return self._mean(s.reciprocal_rank for s in self.scored)

    def ndcg(self, k: int) -> float:
        return self._mean(s.ndcg(k) for s in self.scored)

    @property
    def off_topic_share(self) -> float:
        """Off-topic results among all the top-5 results shown (a query with 3 results counts 3)."""
        shown = sum(min(len(s.ranked), 5) for s in self.scored)
        return sum(len(s.off_topic()) for s in self.scored) / shown if shown else 0.0

    def worst(self, count: int = 10) -> list[Scored]:
        return sorted(self.scored, key=lambda s: (s.ndcg(5), s.judged.query))[:count]

    def format(self) -> str:
        lines = [
            f"{self.name} : {len(self.scored)} requête{'s' if len(self.scored) > 1 else ''}",
            f"  Top-1 {self.top1:.3f} ; MRR@10 {self.mrr:.3f} ; nDCG@5 {self.ndcg(5):.3f} ; "
            f"nDCG@10 {self.ndcg(10):.3f} ; hors sujet dans le top 5 {self.off_topic_share:.1%}",
        ]
        unjudged = sorted({slug for s in self.scored for slug in s.unjudged()})
        if unjudged:
            lines.append(f"  Résultats non jugés dans le top 10 : {len(unjudged)} (à juger)")
        lines.append("  Pires requêtes (nDCG@5 ; hors sujet dans le top 5) :")
        for s in self.worst():
            off = ", ".join(s.off_topic()) or "aucun"
            lines.append(f"    {s.ndcg(5):.2f} {s.judged.query!r} ; hors sujet : {off}")
        return "\n".join(lines)


def score(judged: list[JudgedQuery], rankings: dict[str, tuple[str, ...]], name: str) -> GradedReport:
    """``rankings``: each query's ranked slugs (what the engine returned)."""
    return GradedReport(name, [Scored(j, rankings.get(j.query, ())) for j in judged])
