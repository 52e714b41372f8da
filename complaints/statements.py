"""The procès-verbal (PV): the officer sends versions, the citizen validates one or asks for corrections.

Every version is kept, with when it was sent and how the citizen answered;
the officer can close a case that has a PV only once the latest version is
validated (``can_close``, which the console's close action asks). Plain
functions: they add and flush, the views commit. Nothing of a PV's text
ever goes into an e-mail or a log.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from complaints.cases import Refused, record_event
from complaints.models import STATUSES, Case, Statement

TEXT_MAX_LENGTH = 20000
COMMENT_MAX_LENGTH = 2000
RESPONSES = {"validee": "Validé", "corrections": "Corrections demandées"}


class StatementRefused(Refused):
    """A statement that cannot be sent or answered now."""


def latest(case: Case) -> Statement | None:
    return case.statements[-1] if case.statements else None


def is_validated(case: Case) -> bool:
    last = latest(case)
    return last is not None and last.response == "validee"


def awaiting_citizen(case: Case) -> bool:
    """A version was sent and the citizen has not answered it yet."""
    last = latest(case)
    return last is not None and last.response is None and case.status != "cloturee"


def can_close(case: Case) -> bool:
    """A case with a PV closes only once its latest version is validated; one without a PV is the console's call."""
    if case.status == "cloturee":
        return False
    return not case.statements or is_validated(case)


# A PV is written once the officer has taken the case ("en cours", also after the citizen asked for corrections);
# a version not answered yet ("PV disponible") may be replaced by a newer one.
SEND_FROM = ("en_cours", "pv_disponible")


def send_refusal(case: Case, agent_id: int | None) -> str | None:
    """Why ``agent_id`` cannot send a PV version on ``case`` now (French), or None."""
    if case.status == "cloturee":
        return "Ce dossier est clôturé : aucun procès-verbal ne peut plus être envoyé."
    if is_validated(case):
        return "Le plaignant a déjà validé le procès-verbal : clôturez le dossier."
    if agent_id is None or case.assigned_agent_id != agent_id:
        return "Prenez d'abord le dossier en charge : seul l'enquêteur qui le suit rédige le procès-verbal."
    if case.status == "complement_demande":
        return "Le plaignant doit d'abord répondre à votre demande de complément."
    if case.status not in SEND_FROM:
        return (f"Impossible de rédiger le procès-verbal d'un dossier au statut "
                f"« {STATUSES.get(case.status, case.status)} ».")
    return None


def can_send(case: Case, agent_id: int | None = None) -> bool:
    return send_refusal(case, agent_id) is None


def send_statement(db_session: Session, case: Case, agent_id: int, text: str,
                   now: datetime | None = None) -> Statement:
    """Version n+1 of the PV: status "PV disponible", event "pv_envoye". The view e-mails the citizen.

    Only by the officer the case is assigned to, on a case "en cours" (taken,
    or back from the citizen's corrections) or "PV disponible" (replacing a
    version not answered yet); any other case is a 409 (``send_refusal``).
    """
    now = now or datetime.now(UTC)
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise StatementRefused("Saisissez le texte du procès-verbal.", field="text")
    if len(text) > TEXT_MAX_LENGTH:
        raise StatementRefused(f"Le procès-verbal ne doit pas dépasser {TEXT_MAX_LENGTH} caractères "
                               f"(il en compte {len(text)}).", field="text")
    refusal = send_refusal(case, agent_id)
    if refusal is not None:
        raise StatementRefused(refusal, status=409)
    # The case's status changes first, on the condition the checks above read: if another officer took or closed
    # the case meanwhile, nothing is written.
    moved = db_session.execute(
        update(Case).where(Case.id == case.id, Case.status.in_(SEND_FROM), Case.assigned_agent_id == agent_id)
        .values(status="pv_disponible").execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise StatementRefused("Le dossier vient de changer (clôturé, ou suivi par un autre enquêteur) : rechargez "
                               "la page.", status=409)
    set_committed_value(case, "status", "pv_disponible")
    version = (db_session.scalar(select(func.max(Statement.version)).where(Statement.case_id == case.id)) or 0) + 1
    statement = Statement(case=case, version=version, text=text, agent_id=agent_id, sent_at=now)
    db_session.add(statement)
    try:
        with db_session.begin_nested():
            db_session.flush()
    except IntegrityError as exc:  # UNIQUE(case_id, version): another officer sent a version at the same moment
        raise StatementRefused("Une autre version vient d'être envoyée : rechargez la page.", status=409) from exc
    # A version sent before the citizen answered the previous one replaces it: the old one stays, unanswered.
    record_event(db_session, case, "agent", "pv_envoye", agent_id=agent_id, now=now)
    db_session.flush()
    return statement


def respond(db_session: Session, case: Case, version: int, decision: str, comment: str = "",
            now: datetime | None = None) -> Statement:
    """The citizen validates the latest version, or asks for corrections with a comment (status "en cours")."""
    now = now or datetime.now(UTC)
    comment = (comment or "").replace("\r\n", "\n").strip()
    if decision not in RESPONSES:
        raise StatementRefused("Indiquez si vous validez le procès-verbal ou si vous demandez des corrections.",
                               field="decision")
    if decision == "corrections" and not comment:
        raise StatementRefused("Indiquez les corrections que vous demandez.", field="comment")
    if len(comment) > COMMENT_MAX_LENGTH:
        raise StatementRefused(f"Votre commentaire ne doit pas dépasser {COMMENT_MAX_LENGTH} caractères "
                               f"(il en compte {len(comment)}).", field="comment")
    last = latest(case)
    if last is None or last.version != version or case.status == "cloturee":
        raise StatementRefused("Cette version du procès-verbal n'est plus celle à relire : une version plus "
                               "récente vous a été envoyée, ou le dossier est clôturé.", status=409)
    # Answered once: a second click (or a second tab) finds it answered and changes nothing.
    answered = db_session.execute(
        update(Statement).where(Statement.id == last.id, Statement.response.is_(None))
        .values(response=decision, response_comment=comment or None, responded_at=now)
        .execution_options(synchronize_session=False))
    if answered.rowcount != 1:
        raise StatementRefused("Vous avez déjà répondu à cette version du procès-verbal.", status=409)
    db_session.refresh(last)
    if decision == "validee":
        record_event(db_session, case, "citizen", "pv_valide", now=now)
    else:
        case.status = "en_cours"
        record_event(db_session, case, "citizen", "corrections_demandees", message=comment, now=now)
    db_session.flush()
    return last


def notice_mail(case: Case, page_url: str) -> tuple[str, str]:
    """(subject, body) telling the citizen a PV waits for them: never its text."""
    subject = f"Votre dossier {case.reference} : un procès-verbal est à relire"
    body = ("Bonjour,\n\nL'unité qui a recueilli votre plainte vous a envoyé le procès-verbal (le compte rendu "
            "officiel de votre plainte). Relisez-le dans votre espace, puis validez-le ou demandez des "
            f"corrections :\n{page_url}\n\n"
            "Par sécurité, ce courriel ne reprend pas le contenu du procès-verbal.\n\n"
            "Ceci est un message automatique du Portail citoyen : n'y répondez pas.")
    return subject, body
