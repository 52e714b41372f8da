"""Search quality on labelled citizen queries: top-1 hit rate and MRR@10, and what pending rules would change."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from search.engine import SearchEngine
from search.vocabulary import Tuning


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    acceptable: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    query: LabelledQuery
    ranked: tuple[str, ...]

    @property
    def rank(self) -> int | None:
        """1-based rank of the first acceptable answer in the top 10, or None."""
        for i, slug in enumerate(self.ranked[:10], start=1):
            if slug in self.query.acceptable:
                return i
        return None


@dataclass
class EvalReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def top1(self) -> float:
        return sum(o.rank == 1 for o in self.outcomes) / max(len(self.outcomes), 1)

    @property
    def mrr(self) -> float:
        return sum(1 / o.rank for o in self.outcomes if o.rank) / max(len(self.outcomes), 1)

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.rank != 1]

    def format(self) -> str:
        lines = [
            f"Requêtes : {len(self.outcomes)}",
            f"Top-1    : {self.top1:.3f}",
            f"MRR@10   : {self.mrr:.3f}",
        ]
        if self.misses:
            lines.append("Échecs (rang de la bonne réponse ; 3 premiers résultats) :")
            for o in self.misses:
                rank = o.rank if o.rank else "-"
                lines.append(
                    f"  [{rank}] {o.query.query!r} → attendu {', '.join(sorted(o.query.acceptable))} ;"
                    f" obtenu {', '.join(o.ranked[:3]) or 'rien'}"
                )
        return "\n".join(lines)


def read_queries(path: Path) -> list[LabelledQuery]:
    """Read ``query<TAB>slug,slug`` lines; '#' starts a comment."""
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, _, slugs = line.partition("\t")
        acceptable = frozenset(s.strip() for s in slugs.split(",") if s.strip())
        if query.strip() and acceptable:
            queries.append(LabelledQuery(query.strip(), acceptable))
    return queries


def evaluate(engine: SearchEngine, queries: list[LabelledQuery], tuning: Tuning | None = None) -> EvalReport:
    """Score ``queries``; with ``tuning``, as these rules would rank them (else the index's own tuning)."""
    report = EvalReport()
    for labelled in queries:
        results = engine.search(labelled.query, limit=10, tuning=tuning)
        report.outcomes.append(Outcome(labelled, tuple(h.slug for h in results.hits)))
    return report


@dataclass
class Comparison:
    """The same queries scored with the published rules and with the pending changes."""

    before: EvalReport
    after: EvalReport

    @property
    def changed(self) -> list[tuple[Outcome, Outcome]]:
        return [(b, a) for b, a in zip(self.before.outcomes, self.after.outcomes, strict=True)
                if b.rank != a.rank]

    def format(self) -> str:
        lines = [
            f"Requêtes : {len(self.before.outcomes)}",
            f"Avant (règles publiées)          : Top-1 {self.before.top1:.3f} ; MRR@10 {self.before.mrr:.3f}",
            f"Après (avec les règles en attente) : Top-1 {self.after.top1:.3f} ; MRR@10 {self.after.mrr:.3f}",
        ]
        if self.changed:
            lines.append("Requêtes dont le rang de la bonne réponse change (avant → après) :")
            for b, a in self.changed:
                lines.append(f"  {b.query.query!r} : {b.rank or '-'} → {a.rank or '-'}"
                             f" ; obtenu {', '.join(a.ranked[:3]) or 'rien'}")
        else:
            lines.append("Aucune requête ne change de rang.")
        return "\n".join(lines)


def compare(engine: SearchEngine, queries: list[LabelledQuery], before: Tuning, after: Tuning) -> Comparison:
    return Comparison(evaluate(engine, queries, before), evaluate(engine, queries, after))
