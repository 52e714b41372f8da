"""The editors' search statistics, /agents/recherche/statistiques: what citizens search for and do not find.

Routes on the back office's blueprint (editorial.views.bp, prefix /agents); the counts and their
privacy rules are search.analytics'. Each row links to the new-rule form, prefilled with the query.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, make_response, render_template, request, url_for

from agents import audit
from agents.services import current_agent
from editorial.views import bp, editors_only
from portal.errors import UserError
from portal.extensions import db, end_reads
from search import analytics

DEFAULT_REPORT = "frequentes"
PERIOD_CHOICES = {str(days): days for days in analytics.PERIODS}
NEW_RULE_PATH = "/agents/recherche/regles/nouvelle"
RULE_LINKS = (("synonym", "Ajouter un synonyme"), ("best_bet", "Ajouter une meilleure réponse"))


def _choices() -> tuple[str, int]:
    """``rapport`` and ``periode`` from the query string; a French 400 for anything else."""
    report = request.args.get("rapport", DEFAULT_REPORT)
    if report not in analytics.REPORTS:
        raise UserError(400, "Le paramètre rapport doit valoir " + ", ".join(analytics.REPORTS) + ".")
    period = request.args.get("periode", str(analytics.PERIODS[0]))
    if period not in PERIOD_CHOICES:
        raise UserError(400, "Le paramètre periode doit valoir " + " ou ".join(PERIOD_CHOICES) + " (jours).")
    return report, PERIOD_CHOICES[period]


def new_rule_url(kind: str, query: str) -> str:
    """The new-rule form prefilled with what citizens typed (its literal path until the form exists)."""
    if "editorial.rule_new" in current_app.view_functions:
        return url_for("editorial.rule_new", kind=kind, terms=query)
    return f"{NEW_RULE_PATH}?{urlencode({'kind': kind, 'terms': query})}"


def _rows(report: str, period: int) -> list[analytics.Row]:
    return analytics.REPORTS[report][1](db.session, period)


@bp.get("/recherche/statistiques", endpoint="analytics")
@editors_only
def statistics():
    report, period = _choices()
    return render_template(
        "editorial/analytics/statistics.html",
        report=report, report_title=analytics.REPORTS[report][0], period=period, rows=_rows(report, period),
        reports=analytics.REPORTS, periods=analytics.PERIODS, summary=analytics.period_summary(db.session, period),
        min_visitors=current_app.config["ANALYTICS_MIN_VISITORS"],
        retention_days=current_app.config["ANALYTICS_RETENTION_DAYS"],
        summary_retention_days=current_app.config["ANALYTICS_SUMMARY_RETENTION_DAYS"],
        known_min_docs=analytics.KNOWN_MIN_DOCS,
        far_rank=analytics.FAR_RANK, rule_links=RULE_LINKS, new_rule_url=new_rule_url,
        refreshed_every=analytics.ROLLUP_EVERY_MINUTES, limit=analytics.REPORT_LIMIT,
    )


@bp.get("/recherche/statistiques.csv", endpoint="analytics_csv")
@editors_only
def statistics_csv():
    """The report as a CSV file (a French spreadsheet opens it as is); each export is audited."""
    report, period = _choices()
    body = analytics.csv_export(_rows(report, period))
    agent = current_agent()
    _ = (agent.id, agent.email, agent.unit_id)  # loaded before the reads are let go
    end_reads(db.session)  # the audit entry is the next transaction's first statement
    audit.record(db.session, agent, "analytics.export", "analytics", f"{report} ({period} jours)")
    db.session.commit()
    response = make_response("\ufeff" + body)  # the BOM tells spreadsheets it is UTF-8
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    filename = f"statistiques-recherche-{report}-{period}-jours.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
