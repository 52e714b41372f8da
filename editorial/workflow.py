"""The revision workflow: draft → submitted → approved → published (or scheduled), with a second pair of eyes.

Every version of a procedure, a life event or a search rule is a ``Revision``
whose ``data`` is the whole content. At most one revision per entity is open
(draft, submitted, rejected, approved, scheduled: ``open_key`` is unique), so
two editors work on the same draft; ``lock_version`` (SQLAlchemy's version
counter) refuses a save made from an outdated page instead of overwriting
the other person's work. Nobody listed in a revision's ``authors`` (whoever
saved or submitted it) may approve, reject or publish it.

Content loaded from the YAML files has no revision: the first time a revision
is opened on it, revision 1 is created from the live row ("Contenu initial",
published), so the history always starts with what citizens saw.

Every function flushes and never commits (the view commits), except
``publish_due``, the periodic task, which commits each publication. Refusals
are ``portal.errors.Refused`` with a French message and an HTTP status.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from agents.audit import record
from agents.models import Agent
from catalogue.models import Procedure
from editorial import entities
from editorial.models import OPEN_STATES, Revision
from portal import outbox
from portal.errors import Refused
from portal.extensions import utc
from portal.text import fold
from search.models import SearchRule

log = logging.getLogger(__name__)

EDIT_ROLES = ("editor", "reviewer", "admin")
REVIEW_ROLES = ("reviewer", "admin")
# States in which a reviewer acts on a revision.
REVIEWABLE = ("submitted", "approved", "scheduled")
BASELINE_NOTE = "Contenu initial"
CONFLICT = ("Une autre personne a modifié ce brouillon pendant que vous le modifiiez : vos modifications n'ont "
            "pas été enregistrées. Ouvrez la dernière version, puis refaites vos changements.")
OWN_WORK = "Vous avez rédigé ou envoyé cette version : une autre personne doit la relire."
REVIEWED_ABANDON = ("Cette version a été approuvée par un relecteur : seuls les relecteurs et les administrateurs "
                    "peuvent l'abandonner.")
SCHEDULE_FAILED = "La publication programmée a échoué : "
# How far ahead a publication may be scheduled.
SCHEDULE_YEARS = 5
# Where a fiche is attached: a procedure's "Voir aussi", a life event's entries.
ATTACH_FIELDS = {"procedure": "related", "life_event": "procedures"}


class InvalidData(Refused):
    """The data does not pass the entity's rules; ``errors`` maps each field to its French message."""

    def __init__(self, errors: dict[str, str],
                 message: str = "Le contenu n'a pas été enregistré : corrigez les champs signalés.") -> None:
        super().__init__(message, field=next(iter(errors), None), status=400)
        self.errors = errors


# --- helpers ------------------------------------------------------------------------------------------------

def _now() -> datetime:
    return datetime.now(UTC)


def _open_key(name: str, key: str) -> str:
    return f"{name}:{key}"


def _has_role(agent: Agent | None, roles: tuple[str, ...]) -> bool:
    return agent is not None and any(agent.has_role(role) for role in roles)


def _require_editor(agent: Agent | None) -> None:
    if not _has_role(agent, EDIT_ROLES):
        raise Refused("Cette action est réservée aux rédacteurs, relecteurs et administrateurs.", status=403)


def _require_reviewer(agent: Agent | None, rev: Revision) -> None:
    if not _has_role(agent, REVIEW_ROLES):
        raise Refused("Cette action est réservée aux relecteurs et aux administrateurs.", status=403)
    if agent.id in (rev.authors or []):
        raise Refused(OWN_WORK, status=403)


def _load(session: Session, revision_id: int, lock_version: int | None) -> Revision:
    """The revision, if the page it was acted on from showed its current version (else 409).

    A save racing another one passes this check and is caught at the flush (``_locked``).
    """
    rev = session.get(Revision, revision_id)
    if rev is None:
        raise Refused("Cette version n'existe pas.", status=404)
    if lock_version is not None and rev.lock_version != lock_version:
        raise Refused(CONFLICT, status=409)
    return rev


def _require_state(rev: Revision, states: tuple[str, ...], message: str) -> None:
    if rev.state not in states:
        raise Refused(message, status=409)


@contextmanager
def _locked(session: Session) -> Iterator[None]:
    """The changes of the block, flushed in a savepoint: a concurrent change to the same revision (the
    version counter moved) or a second open revision (``open_key``) undoes the block only, and is refused."""
    try:
        with session.begin_nested():
            yield
    except StaleDataError as exc:
        raise Refused(CONFLICT, status=409) from exc


def _next_number(session: Session, name: str, key: str) -> int:
    current = session.scalar(select(func.max(Revision.number))
                             .where(Revision.entity_type == name, Revision.entity_key == key))
    return (current or 0) + 1


def _add_author(rev: Revision, agent: Agent) -> None:
    if agent.id not in (rev.authors or []):
        rev.authors = [*(rev.authors or []), agent.id]


def _touch(rev: Revision, agent: Agent | None, now: datetime) -> None:
    rev.updated_by_id = agent.id if agent is not None else rev.updated_by_id
    rev.updated_at = now


def _audit(session: Session, agent: Agent | None, action: str, rev: Revision) -> None:
    record(session, agent, action, rev.entity_type, rev.entity_key)


def _with_key(name: str, key: str, data: dict) -> dict:
    data = entities.normalise(name, data)
    if "slug" in data:
        data["slug"] = key
    return data


def _published_revision(session: Session, name: str, key: str) -> Revision | None:
    return session.scalars(select(Revision).where(
        Revision.entity_type == name, Revision.entity_key == key, Revision.state == "published",
    ).order_by(Revision.number.desc())).first()


def _ensure_baseline(session: Session, name: str, key: str, live: dict, now: datetime) -> Revision | None:
    """Revision 1, "Contenu initial", from the live row, when the entity has never had a published revision."""
    published = session.scalar(select(func.max(Revision.number)).where(
        Revision.entity_type == name, Revision.entity_key == key, Revision.state.in_(("published", "superseded"))))
    if published is not None:
        return _catch_up(session, name, key, _published_revision(session, name, key), live, now)
    baseline = Revision(
        entity_type=name, entity_key=key, number=_next_number(session, name, key), state="published",
        open_key=None, data=live, base_number=None, change_note=BASELINE_NOTE, authors=[],
        created_at=now, updated_at=now, published_at=now,
    )
    try:
        with session.begin_nested():
            session.add(baseline)
    except IntegrityError as exc:  # the same number, taken by someone opening the same entity at this moment
        raise Refused("Une autre personne vient d'ouvrir une version de ce contenu : rechargez la page.",
                      status=409) from exc
    return baseline


def _catch_up(session: Session, name: str, key: str, published: Revision | None, live: dict,
              now: datetime) -> Revision | None:
    """The published revision, brought up to date with the links the other side changed since.

    A procedure's publication adds it to (or removes it from) life events' lists, and a life event's
    publication changes which procedures list it: the other entity's last revision no longer says what
    citizens see. Before a revision is opened on it, a published revision (no author) records the live
    list, so the new one starts from what citizens saw and publishing it applies only its own changes.
    """
    field = entities.LINK_FIELDS.get(name)
    if published is None or field is None or entities.link_change(name, published.data, live) is None:
        return published
    label = entities.kind(name).field(field).label
    caught_up = Revision(
        entity_type=name, entity_key=key, number=_next_number(session, name, key), state="published",
        open_key=None, data={**entities.normalise(name, published.data), field: list(live.get(field) or [])},
        base_number=published.number, change_note=f"{label} : mis à jour depuis une autre page", authors=[],
        created_at=now, updated_at=now, published_at=now,
    )
    try:
        with session.begin_nested():
            published.state = "superseded"
            session.add(caught_up)
    except IntegrityError as exc:
        raise Refused("Une autre personne vient d'ouvrir une version de ce contenu : rechargez la page.",
                      status=409) from exc
    return caught_up


def base_data(session: Session, rev: Revision) -> dict:
    """The data the revision started from: the published revision it was opened on, {} for a new entity."""
    if rev.base_number is None:
        return {}
    base = session.scalars(select(Revision).where(
        Revision.entity_type == rev.entity_type, Revision.entity_key == rev.entity_key,
        Revision.number == rev.base_number)).first()
    return dict(base.data or {}) if base is not None else {}


def link_drift(session: Session, rev: Revision) -> entities.LinkChange | None:
    """For an open revision, how the live list of procedure ↔ life event links moved since it was opened
    (another entity's publication): the reviewer is told, publishing keeps those changes."""
    if rev.state not in OPEN_STATES or rev.base_number is None:
        return None
    live = entities.live_data(session, rev.entity_type, rev.entity_key)
    return entities.link_change(rev.entity_type, base_data(session, rev), live)


def _new_rule_key(session: Session, data: dict) -> str:
    """A readable, unique key for a new rule, as the initial rules' (``search.tuning.initial_rules``):
    "synonym-vol-de-velo", "best-bet-pharos-2"."""
    terms = [str(t) for t in data.get("terms") or [] if str(t).strip()]
    kind = str(data.get("kind") or "regle").replace("_", "-")
    base = re.sub(r"[^a-z0-9]+", "-", fold(f"{kind}-{terms[0] if terms else 'regle'}").lower()).strip("-")[:60]
    key, suffix = base, 1
    while session.scalar(select(SearchRule.id).where(SearchRule.key == key)) or session.scalar(
            select(Revision.id).where(Revision.entity_type == "search_rule", Revision.entity_key == key).limit(1)):
        suffix += 1
        key = f"{base}-{suffix}"
    return key


def _create(session: Session, agent: Agent | None, name: str, key: str, data: dict, *, base: Revision | None,
            note: str, authors: list[int], now: datetime) -> Revision:
    rev = Revision(
        entity_type=name, entity_key=key, number=_next_number(session, name, key), state="draft",
        open_key=_open_key(name, key), data=data, base_number=base.number if base else None,
        change_note=note, review_note="", authors=authors,
        created_by_id=agent.id if agent else None, created_at=now,
        updated_by_id=agent.id if agent else None, updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(rev)
    except IntegrityError as exc:  # open_key: someone opened a revision of the same entity at the same moment
        raise Refused("Une autre personne vient d'ouvrir une version de ce contenu : rechargez la page.",
                      status=409) from exc
    return rev


# --- reading ----------------------------------------------------------------------------------------------

def open_revision(session: Session, name: str, key: str) -> Revision | None:
    """The entity's revision in progress (draft to scheduled), if any."""
    return session.scalars(select(Revision).where(Revision.open_key == _open_key(name, key))).first()


def revision(session: Session, revision_id: int) -> Revision | None:
    return session.get(Revision, revision_id)


def history(session: Session, name: str, key: str) -> list[Revision]:
    """Every revision of the entity, newest first.

    An entity that never had one (loaded from the YAML files) shows its live content as revision 1,
    "Contenu initial": a transient object (``id`` None), created in the database the first time a
    revision is opened on the entity.
    """
    revisions = list(session.scalars(select(Revision).where(
        Revision.entity_type == name, Revision.entity_key == key).order_by(Revision.number.desc())))
    if revisions:
        return revisions
    live = entities.live_data(session, name, key)
    if live is None:
        return []
    return [Revision(entity_type=name, entity_key=key, number=1, state="published", data=live,
                     change_note=BASELINE_NOTE, authors=[], lock_version=1)]


def can_edit(agent: Agent | None, rev: Revision) -> bool:
    return _has_role(agent, EDIT_ROLES) and rev.state in OPEN_STATES


def can_review(agent: Agent | None, rev: Revision) -> bool:
    """Whether the agent may approve, reject, publish or schedule this revision now."""
    return review_refusal(agent, rev) is None


def review_refusal(agent: Agent | None, rev: Revision) -> str | None:
    """Why the agent may not review this revision (French, for the page), or None when they may."""
    if not _has_role(agent, REVIEW_ROLES):
        return "La relecture est réservée aux relecteurs et aux administrateurs."
    if agent.id in (rev.authors or []):
        return OWN_WORK
    if rev.state not in REVIEWABLE:
        return "Cette version n'attend pas de relecture."
    return None


def abandon_refusal(agent: Agent | None, rev: Revision) -> str | None:
    """Why the agent may not abandon this revision (French), or None: an approved or scheduled one carries a
    reviewer's decision, which only a reviewer or an administrator may throw away."""
    if not _has_role(agent, EDIT_ROLES):
        return "Cette action est réservée aux rédacteurs, relecteurs et administrateurs."
    if rev.state in ("approved", "scheduled") and not _has_role(agent, REVIEW_ROLES):
        return REVIEWED_ABANDON
    return None


# --- editing ----------------------------------------------------------------------------------------------

def start_edit(session: Session, agent: Agent, name: str, key: str | None, data: dict | None = None,
               change_note: str | None = None) -> Revision:
    """The entity's open revision, created when there is none.

    ``key`` None: a new entity, ``data`` required (a procedure's or life event's ``slug`` is its key, a rule's
    key is generated). An existing entity without an open revision gets a draft of its live content (the
    baseline revision 1 created first if needed); with ``data``, the draft holds that data instead
    (validated: ``InvalidData``). With an open revision and ``data``, the data is saved onto it.
    ``change_note`` (None: keep the open revision's) is saved with the data: one save, one audit entry.
    """
    _require_editor(agent)
    entities.kind(name)
    now = _now()
    note = (change_note or "").strip()[:2000]
    if key is None:
        data = entities.normalise(name, data)
        if errors := entities.validate(session, name, None, data):
            raise InvalidData(errors)
        key = data["slug"] if name != "search_rule" else _new_rule_key(session, data)
        rev = _create(session, agent, name, key, _with_key(name, key, data), base=None, note=note or "Création",
                      authors=[agent.id], now=now)
        _audit(session, agent, "content.draft", rev)
        return rev
    current = open_revision(session, name, key)
    if current is not None:
        if data is None:
            return current
        return save_draft(session, agent, current.id, current.lock_version, data,
                          current.change_note if change_note is None else change_note)
    live = entities.live_data(session, name, key)
    if live is None:
        raise Refused("Ce contenu n'existe pas.", status=404)
    draft = live if data is None else _with_key(name, key, {**live, **data})
    if data is not None and (errors := entities.validate(session, name, key, draft)):
        raise InvalidData(errors)
    base = _ensure_baseline(session, name, key, live, now)
    rev = _create(session, agent, name, key, draft, base=base, note=note,
                  authors=[agent.id] if data is not None else [], now=now)
    _audit(session, agent, "content.draft", rev)
    return rev


def save_draft(session: Session, agent: Agent, revision_id: int, lock_version: int, data: dict,
               change_note: str) -> Revision:
    """Save the form onto the open revision; a submitted, approved or scheduled one goes back to draft.

    Keys missing from ``data`` keep the revision's value (a retirement survives an edit of the text).
    Refused with 409 when ``lock_version`` is not the revision's (someone saved in between).
    """
    _require_editor(agent)
    rev = _load(session, revision_id, lock_version)
    _require_state(rev, OPEN_STATES, "Cette version n'est plus modifiable : elle a été publiée ou abandonnée.")
    merged = _with_key(rev.entity_type, rev.entity_key, {**rev.data, **data})
    if errors := entities.validate(session, rev.entity_type, rev.entity_key, merged):
        raise InvalidData(errors)
    now = _now()
    with _locked(session):
        rev.data = merged
        rev.change_note = (change_note or "").strip()[:2000]
        if rev.state != "draft":
            # The content changed: an approval or a schedule no longer holds.
            rev.state = "draft"
            rev.reviewed_by_id = rev.reviewed_at = rev.publish_at = None
            rev.submitted_by_id = rev.submitted_at = None
        _add_author(rev, agent)
        _touch(rev, agent, now)
    _audit(session, agent, "content.draft", rev)
    return rev


def submit(session: Session, agent: Agent, revision_id: int, lock_version: int) -> Revision:
    """Send a draft for review; the submitter becomes one of its authors (they cannot approve it)."""
    _require_editor(agent)
    rev = _load(session, revision_id, lock_version)
    if rev.state == "rejected":
        raise Refused("Cette version a été renvoyée : modifiez-la avant de la renvoyer en relecture.", status=409)
    _require_state(rev, ("draft",), "Seul un brouillon peut être envoyé en relecture.")
    if errors := entities.validate(session, rev.entity_type, rev.entity_key, rev.data):
        raise InvalidData(errors, "Corrigez les champs signalés avant d'envoyer en relecture.")
    live = entities.live_data(session, rev.entity_type, rev.entity_key)
    if live is not None and entities.normalise(rev.entity_type, rev.data) == live:
        raise Refused("Cette version ne change rien au contenu publié.", status=409)
    now = _now()
    with _locked(session):
        rev.state = "submitted"
        rev.submitted_by_id = agent.id
        rev.submitted_at = now
        _add_author(rev, agent)
        _touch(rev, agent, now)
    _audit(session, agent, "content.submit", rev)
    return rev


def abandon(session: Session, agent: Agent, revision_id: int, lock_version: int) -> None:
    """Close an open revision without publishing it (it stays in the history).

    An approved or scheduled one only by a reviewer or an administrator: it carries a reviewer's decision.
    """
    _require_editor(agent)
    rev = _load(session, revision_id, lock_version)
    _require_state(rev, OPEN_STATES, "Cette version n'est plus en cours.")
    if refusal := abandon_refusal(agent, rev):
        raise Refused(refusal, status=403)
    with _locked(session):
        rev.state = "abandoned"
        rev.open_key = None
        _touch(rev, agent, _now())
    _audit(session, agent, "content.abandon", rev)


# --- review -------------------------------------------------------------------------------------------------

def years_later(day: date, years: int) -> date:
    """The same day ``years`` later (29 February: the 28th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _future(publish_at: datetime, now: datetime) -> datetime:
    """A schedule's time, in UTC: in the future, and within ``SCHEDULE_YEARS`` years (Paris days: a day's slack)."""
    latest = datetime.combine(years_later(now.date(), SCHEDULE_YEARS) + timedelta(days=2), time.min, UTC)
    try:
        when = utc(publish_at).astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise Refused("Cette date de publication n'est pas valable.", field="publish_at") from exc
    if when <= now:
        raise Refused("La date de publication doit être dans le futur.", field="publish_at")
    if when >= latest:
        raise Refused(f"La date de publication doit être dans les {SCHEDULE_YEARS} ans à venir.",
                      field="publish_at")
    return when


def _publish(session: Session, agent: Agent | None, rev: Revision, now: datetime) -> None:
    """Write the content to the live row(s), in the caller's savepoint; the previous version is superseded."""
    entities.apply(session, rev.entity_type, rev.entity_key, rev.data, base=base_data(session, rev))
    for previous in session.scalars(select(Revision).where(
            Revision.entity_type == rev.entity_type, Revision.entity_key == rev.entity_key,
            Revision.state == "published", Revision.id != rev.id)):
        previous.state = "superseded"
    rev.state = "published"
    rev.open_key = None
    rev.published_by_id = agent.id if agent is not None else rev.reviewed_by_id
    rev.published_at = now
    _touch(rev, agent, now)


def approve(session: Session, agent: Agent, revision_id: int, lock_version: int,
            publish_at: datetime | None = None) -> Revision:
    """Approve a submitted revision: published now, or scheduled for ``publish_at`` (in the future)."""
    rev = _load(session, revision_id, lock_version)
    _require_reviewer(agent, rev)
    _require_state(rev, ("submitted",), "Seule une version envoyée en relecture peut être approuvée.")
    now = _now()
    when = _future(publish_at, now) if publish_at is not None else None
    if errors := entities.validate(session, rev.entity_type, rev.entity_key, rev.data):
        raise InvalidData(errors, "Cette version ne peut plus être publiée telle quelle : renvoyez-la au rédacteur.")
    with _locked(session):
        rev.reviewed_by_id = agent.id
        rev.reviewed_at = now
        if when is None:
            _publish(session, agent, rev, now)
        else:
            rev.state = "scheduled"
            rev.publish_at = when
            _touch(rev, agent, now)
    _audit(session, agent, "content.approve", rev)
    _audit(session, agent, "content.publish" if when is None else "content.schedule", rev)
    return rev


def schedule(session: Session, agent: Agent, revision_id: int, lock_version: int, publish_at: datetime) -> Revision:
    """Schedule an approved revision (after ``unschedule``, or to choose another date)."""
    rev = _load(session, revision_id, lock_version)
    _require_reviewer(agent, rev)
    _require_state(rev, ("approved",), "Seule une version approuvée peut être programmée.")
    now = _now()
    when = _future(publish_at, now)
    with _locked(session):
        rev.state = "scheduled"
        rev.publish_at = when
        _touch(rev, agent, now)
    _audit(session, agent, "content.schedule", rev)
    return rev


def reject(session: Session, agent: Agent, revision_id: int, lock_version: int, note: str) -> Revision:
    """Send the revision back to its authors with a note saying what to change."""
    rev = _load(session, revision_id, lock_version)
    _require_reviewer(agent, rev)
    _require_state(rev, REVIEWABLE, "Cette version n'attend pas de relecture.")
    note = (note or "").strip()
    if not note:
        raise Refused("Dites au rédacteur ce qu'il faut changer.", field="note")
    now = _now()
    with _locked(session):
        rev.state = "rejected"
        rev.review_note = note[:4000]
        rev.reviewed_by_id = agent.id
        rev.reviewed_at = now
        rev.publish_at = None
        _touch(rev, agent, now)
    _audit(session, agent, "content.reject", rev)
    return rev


def publish(session: Session, agent: Agent, revision_id: int, lock_version: int) -> Revision:
    """Publish an approved (or scheduled) revision now."""
    rev = _load(session, revision_id, lock_version)
    _require_reviewer(agent, rev)
    _require_state(rev, ("approved", "scheduled"), "Seule une version approuvée peut être publiée.")
    if errors := entities.validate(session, rev.entity_type, rev.entity_key, rev.data):
        raise InvalidData(errors, "Cette version ne peut plus être publiée telle quelle : renvoyez-la au rédacteur.")
    now = _now()
    with _locked(session):
        _publish(session, agent, rev, now)
    _audit(session, agent, "content.publish", rev)
    return rev


def unschedule(session: Session, agent: Agent, revision_id: int, lock_version: int) -> Revision:
    """Cancel a scheduled publication: the revision stays approved."""
    if not _has_role(agent, REVIEW_ROLES):
        raise Refused("Cette action est réservée aux relecteurs et aux administrateurs.", status=403)
    rev = _load(session, revision_id, lock_version)
    _require_state(rev, ("scheduled",), "Cette version n'est pas programmée.")
    with _locked(session):
        rev.state = "approved"
        rev.publish_at = None
        _touch(rev, agent, _now())
    _audit(session, agent, "content.unschedule", rev)
    return rev


def publish_due(session: Session, now: datetime | None = None) -> list[Revision]:
    """Publish the scheduled revisions whose time has come; commits each one (the periodic task).

    Safe on several hosts at once: each revision is claimed by a conditional UPDATE (state still
    "scheduled"); a host whose UPDATE changes no row leaves it to the one that claimed it. A revision that
    no longer passes the checks of a publication (its replacement retired meanwhile…) or fails to be
    written is sent back to its authors ("rejected", with the reason), never tried again and again.
    """
    now = utc(now).astimezone(UTC) if now else _now()
    due = list(session.scalars(select(Revision.id).where(
        Revision.state == "scheduled", Revision.publish_at <= now).order_by(Revision.publish_at, Revision.id)))
    session.commit()  # end the read: on SQLite a transaction that read cannot take the write lock later
    published = []
    for revision_id in due:
        try:
            claimed = session.execute(
                update(Revision)
                .where(Revision.id == revision_id, Revision.state == "scheduled", Revision.publish_at <= now)
                .values(state="approved", lock_version=Revision.lock_version + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                session.rollback()
                continue
            rev = session.get(Revision, revision_id, populate_existing=True)
            if errors := entities.validate(session, rev.entity_type, rev.entity_key, rev.data):
                # What the reviewer approved can no longer be published as it is.
                _send_back(session, rev, _reasons(rev.entity_type, errors), now)
                session.commit()
                log.warning("scheduled publication of revision %s refused: InvalidData", revision_id)
                continue
            with _locked(session):
                _publish(session, None, rev, now)
            _audit(session, None, "content.publish", rev)
            session.commit()
            published.append(rev)
        except Exception as exc:  # one revision's failure must not stop the others
            session.rollback()
            # The type only: a database error's text quotes the content it was writing.
            log.error("scheduled publication of revision %s failed: %s", revision_id, type(exc).__name__)
            _give_up(session, revision_id, now)
    return published


def _reasons(name: str, errors: dict[str, str]) -> str:
    spec = entities.kind(name)
    labels = {field.name: field.label for field in spec.all_fields}
    return " ; ".join(f"{labels.get(field, field)} : {message}" for field, message in errors.items())


def _send_back(session: Session, rev: Revision, reason: str, now: datetime) -> None:
    """A scheduled revision that could not be published goes back to its authors, with why; audited."""
    with _locked(session):
        rev.state = "rejected"
        rev.publish_at = None
        rev.review_note = (SCHEDULE_FAILED + reason)[:4000]
        _touch(rev, None, now)
    _audit(session, None, "content.reject", rev)


def _give_up(session: Session, revision_id: int, now: datetime) -> None:
    """After an unexpected failure (rolled back): the revision sent back, so the task does not retry forever."""
    try:
        rev = session.get(Revision, revision_id, populate_existing=True)
        if rev is None or rev.state != "scheduled":
            session.rollback()
            return
        _send_back(session, rev, "une erreur technique a empêché d'écrire le contenu. Vérifiez cette version, "
                                 "puis renvoyez-la en relecture.", now)
        session.commit()
    except Exception as exc:  # logged; the next run tries again
        session.rollback()
        log.error("could not send back revision %s: %s", revision_id, type(exc).__name__)


# --- history, retirement, fiches -------------------------------------------------------------------------

def restore(session: Session, agent: Agent, name: str, key: str, number: int) -> Revision:
    """That version's content as the entity's new draft (to review and publish like any other)."""
    _require_editor(agent)
    if open_revision(session, name, key) is not None:
        raise Refused("Une version de ce contenu est déjà en cours : publiez-la ou abandonnez-la avant d'en "
                      "restaurer une autre.", status=409)
    now = _now()
    live = entities.live_data(session, name, key)
    base = _ensure_baseline(session, name, key, live, now) if live is not None else None
    old = session.scalars(select(Revision).where(
        Revision.entity_type == name, Revision.entity_key == key, Revision.number == number)).first()
    if old is None:
        raise Refused("Cette version n'existe pas.", status=404)
    rev = _create(session, agent, name, key, _with_key(name, key, old.data), base=base,
                  note=f"Version {number} restaurée", authors=[agent.id], now=now)
    _audit(session, agent, "content.restore", rev)
    return rev


def retire(session: Session, agent: Agent, key: str, replacement: str | None, note: str,
           name: str = "procedure") -> Revision:
    """A draft that retires the entity when published.

    A procedure: its address then answers 301 to ``replacement``, or a 410 page with ``note``. A life event
    (``name="life_event"``, no replacement): a 410 page. A search rule: it stops applying.
    """
    _require_editor(agent)
    entities.kind(name)
    if replacement and name != "procedure":
        raise Refused("Seule une démarche peut avoir un remplaçant.", field="replacement")
    live = entities.live_data(session, name, key)
    if live is None:
        raise Refused("Ce contenu n'existe pas.", status=404)
    if live.get("retired"):
        raise Refused("Ce contenu est déjà retiré.", status=409)
    if open_revision(session, name, key) is not None:
        raise Refused("Une version de ce contenu est déjà en cours : publiez-la ou abandonnez-la avant de le "
                      "retirer.", status=409)
    data = {**live, "retired": True}
    if name == "procedure":
        replacement = (replacement or "").strip()
        # Kept with a replacement too: if that one goes in turn, the old address says where things stood.
        retired_note = (note or "").strip() or _replaced_note(session, replacement)
        data.update(replacement=replacement, retired_note=retired_note)
    if errors := entities.validate(session, name, key, data):
        raise InvalidData(errors)
    now = _now()
    base = _ensure_baseline(session, name, key, live, now)
    rev = _create(session, agent, name, key, _with_key(name, key, data), base=base,
                  note=(note or "").strip()[:2000] or "Retrait", authors=[agent.id], now=now)
    _audit(session, agent, "content.retire", rev)
    return rev


def _replaced_note(session: Session, replacement: str) -> str:
    """The citizens' note of a retirement without one: the replacement, named."""
    if not replacement:
        return ""
    title = session.scalar(select(Procedure.title).where(Procedure.slug == replacement)) or replacement
    return f"Cette démarche a été remplacée par « {title} »."


def attach_fiche(session: Session, agent: Agent, name: str, key: str, slug: str) -> Revision:
    """The entity's draft (opened if needed) with the fiche added to its "Voir aussi" or its entries.

    Only onto a draft or a revision sent back: saving onto one in review, approved or scheduled would send
    it back to draft and throw the review away without the reviewer knowing (409, the page says why).
    """
    _require_editor(agent)
    field = ATTACH_FIELDS.get(name)
    if field is None:
        raise Refused("Une fiche se rattache à une démarche ou à une situation.", status=400)
    current = open_revision(session, name, key)
    if current is not None and current.state not in ("draft", "rejected"):
        where = {"submitted": "est en relecture", "approved": "est approuvée",
                 "scheduled": "est programmée"}.get(current.state, "est en cours")
        raise Refused(f"La version en cours de ce contenu (n° {current.number}) {where} : y rattacher la fiche la "
                      "renverrait en brouillon et sa relecture serait perdue. Attendez sa publication, ou qu'elle "
                      "soit renvoyée au rédacteur, puis rattachez la fiche.", status=409)
    data = current.data if current is not None else entities.live_data(session, name, key)
    if data is None:
        raise Refused("Ce contenu n'existe pas.", status=404)
    items = list(data.get(field) or [])
    if slug not in items:
        items.append(slug)
    note = (current.change_note if current is not None else "") or f"Fiche {slug} rattachée."
    return start_edit(session, agent, name, key, {field: items}, change_note=note)


def set_fiche_hidden(session: Session, agent: Agent, slug: str, hidden: bool) -> None:
    """Hide a service-public.fr fiche from citizens (404, out of the search), or show it again; audited."""
    _require_editor(agent)
    fiche = session.scalars(select(Procedure).where(Procedure.slug == slug, Procedure.kind == "fiche")).first()
    if fiche is None:
        raise Refused("Fiche introuvable.", status=404)
    if hidden and fiche.status == "hidden" or not hidden and fiche.status == "published":
        return
    if fiche.status not in ("published", "hidden"):
        raise Refused("Cette fiche n'est plus dans le flux de Service-Public.fr : elle n'est déjà plus affichée.",
                      status=409)
    fiche.status = "hidden" if hidden else "published"
    outbox.emit(session, outbox.ENTRY, slug)
    session.flush()
    record(session, agent, "fiche.hide" if hidden else "fiche.show", "fiche", slug)
