"""The search's tables: tuning rules editors publish, and privacy-first analytics of what citizens search."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db

RULE_KINDS = {
    "synonym": "Synonymes",
    "best_bet": "Meilleure réponse",
    "worst_bet": "Résultat à repousser",
}
RULE_STATUSES = ("published", "retired")


class SearchRule(db.Model):
    """One tuning rule, as published (its drafts and versions are editorial revisions).

    - synonym: ``terms`` is a group of words or phrases that mean the same thing to citizens;
    - best_bet: a query in ``terms`` shows the entries ``slugs`` first, in that order;
    - worst_bet: a query in ``terms`` shows the entries ``slugs`` after every other result.
    """

    __tablename__ = "search_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    slugs: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="published", index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SearchEvent(db.Model):
    """One search, kept 30 days: no identity, no session, no address, no time finer than the day.

    ``query`` is scrubbed before it is stored (search.analytics.scrub); ``visitor``
    is a keyed hash of the client with the day's salt, which is destroyed once
    the day is over: it counts distinct visitors within a day and links nothing after.
    """

    __tablename__ = "search_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Random: identifies the search for the clicks on its results.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    query: Mapped[str] = mapped_column(String(100))
    visitor: Mapped[str] = mapped_column(String(32))
    results: Mapped[int] = mapped_column(Integer, default=0)
    # 1-based rank of the best (highest) result followed, if any.
    clicked_rank: Mapped[int | None] = mapped_column(Integer)


class SearchQueryDay(db.Model):
    """Daily counts per scrubbed query: what the editors' pages read (k-anonymity applied when shown)."""

    __tablename__ = "search_query_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    query: Mapped[str] = mapped_column(String(100), primary_key=True)
    searches: Mapped[int] = mapped_column(Integer, default=0)
    visitors: Mapped[int] = mapped_column(Integer, default=0)
    zero_results: Mapped[int] = mapped_column(Integer, default=0)
    clicked: Mapped[int] = mapped_column(Integer, default=0)
    # Sum of the best clicked rank over the searches with a click: / clicked = mean best rank.
    best_rank_total: Mapped[int] = mapped_column(Integer, default=0)


class AnalyticsSalt(db.Model):
    """The day's secret for hashing visitors; deleted once the day is over."""

    __tablename__ = "analytics_salt"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))
