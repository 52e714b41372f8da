"""The back office's pages: catalogue content under /agents/contenus, search rules under /agents/recherche/regles.

Thin views over ``editorial.workflow`` (every change, its checks and its audit entry),
``editorial.entities`` (what each kind of content holds), ``editorial.forms`` (form strings ↔ data) and
``editorial.queries`` (the lists). Every change is a POST carrying the CSRF token and the revision's
``lock_version``, answered 303; a refusal shows the page again with the French reason and the status the
service chose (400 bad input, 403 not yours to take, 409 a concurrent change or the revision's state).

On SQLite a transaction that read, then writes after another connection wrote, fails at once: the views
let their reads go (``end_reads``) before a change, as the officers' console does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from agents.access import require_role
from agents.services import current_agent
from catalogue import services as catalogue
from editorial import diff as diffs
from editorial import entities, forms, queries, workflow
from editorial.models import ENTITY_TYPES, OPEN_STATES, STATES, Revision
from portal.dates import PARIS
from portal.errors import Refused, error_response
from portal.extensions import db, end_reads
from portal.htmx import render
from portal.params import page_number, small_integer
from portal.security import mark_sensitive, no_store
from search.models import RULE_KINDS

bp = Blueprint("editorial", __name__, url_prefix="/agents")

EDITORS = ("editor", "reviewer", "admin")
REVIEWERS = ("reviewer", "admin")
# The back office does not exist for other agents (officers): its pages answer them 404.
editors_only = require_role(*EDITORS, hidden_unless=EDITORS)
reviewers_only = require_role(*REVIEWERS, hidden_unless=EDITORS)
# The URL segment of each kind of catalogue content (search rules live under /agents/recherche/regles).
SEGMENTS = {"procedure": "demarches", "life_event": "situations"}
TYPES = {segment: name for name, segment in SEGMENTS.items()}
# A plain string, checked by ``_type``: an unknown kind is a 404 (the CSRF test builds every route with "x").
SEGMENT = "<segment>"
REVISION = "/contenus/revisions/<int(max=2147483647):revision_id>"  # bounded: a longer number is a 404
KEY_MAX = 80
CONFLICT = ("Une autre personne a enregistré ce brouillon pendant que vous le modifiiez. Votre texte est "
            "conservé ci-dessous mais n'a pas été enregistré.")
STALE_FORM = "Le formulaire est incomplet ou périmé : rechargez la page et recommencez."
OTHER_ENTITY = ("Ce formulaire ne correspond pas à cette version : elle appartient à un autre contenu. Rien n'a été "
                "enregistré. Rouvrez la page de modification du contenu voulu et recommencez.")
# The service's field names → the revision page's inputs.
FIELD_ALIASES = {"publish_at": "publish_day", "note": "review_note"}
ROLE_REASON = "Seuls les relecteurs et les administrateurs peuvent approuver, renvoyer ou publier une version."

# ?fait=… after a change: which notice the next page shows (codes only in the URL).
NOTICES = {
    "brouillon": "Le brouillon est enregistré.",
    "soumise": "La version est envoyée en relecture. Une autre personne (relecteur ou administrateur) doit "
               "l'approuver avant sa publication.",
    "publiee": "La version est publiée : les citoyens la voient dès maintenant (la recherche la prend en "
               "compte dans quelques secondes).",
    "programmee": "La version est approuvée et sa publication programmée.",
    "approuvee": "La version est approuvée.",
    "renvoyee": "La version est renvoyée à son rédacteur avec votre note.",
    "deprogrammee": "La publication programmée est annulée : la version reste approuvée.",
    "abandonnee": "Le brouillon est abandonné. La version publiée ne change pas.",
    "restauree": "L'ancienne version est reprise dans le brouillon. Relisez-la puis envoyez-la en relecture.",
    "retrait": "Le retrait est préparé comme un brouillon : il prendra effet à sa publication, après relecture.",
    "masquee": "La fiche est masquée : elle n'apparaît plus sur le portail ni dans la recherche.",
    "affichee": "La fiche est de nouveau affichée sur le portail.",
    "rattachee": "La fiche est ajoutée au brouillon ci-dessous. Vérifiez-le, enregistrez-le puis envoyez-le en "
                 "relecture.",
}


# --- Shared helpers -----------------------------------------------------------------------------

def entity_url(name: str, action: str = "show", key: str | None = None, **values) -> str:
    """The back office's URL for ``action`` (list, show, new, edit, compare, restore, retire) on one entity."""
    if name == "search_rule":
        return url_for(f"editorial.rule_{action}", key=key, **values)
    return url_for(f"editorial.content_{action}", segment=SEGMENTS[name], key=key, **values)


def public_url(name: str, key: str) -> str | None:
    if name == "procedure":
        return url_for("catalogue.procedure", slug=key)
    if name == "life_event":
        return url_for("catalogue.life_event", slug=key)
    return None


@bp.app_context_processor
def _menu():
    """The editors' entries of the agents' menu (templates/agents/_header.html), by role."""

    def editorial_menu(agent) -> list[tuple[str, str, tuple[str, ...]]]:
        """(label, url, the endpoints it covers, for aria-current)."""
        if agent is None or not any(agent.has_role(role) for role in EDITORS):
            return []
        entries = [("Contenus", url_for("editorial.dashboard"),
                    ("editorial.dashboard", "editorial.content_", "editorial.fiche", "editorial.revision")),
                   ("Règles de recherche", url_for("editorial.rule_list"), ("editorial.rule_",)),
                   ("Statistiques de recherche", url_for("editorial.analytics"), ("editorial.analytics",))]
        return entries

    return {"editorial_menu": editorial_menu}


@bp.context_processor
def _helpers():
    return {"entity_url": entity_url, "public_url": public_url, "states": STATES, "rule_kinds": RULE_KINDS,
            "segments": SEGMENTS, "entity_types": ENTITY_TYPES}


def _type(segment: str) -> str:
    """The entity type of a URL segment ("demarches" → "procedure"); 404 for any other."""
    if segment not in TYPES:
        abort(404)
    return TYPES[segment]


def _kind(name: str):
    try:
        return entities.kind(name)
    except KeyError:
        abort(404)


def _key(key: str) -> str:
    if not key or len(key) > KEY_MAX:
        abort(404)
    return key


def _revision(revision_id: int) -> Revision:
    rev = workflow.revision(db.session, revision_id)
    if rev is None:
        abort(404)
    return rev


def _lock_version() -> int | None:
    return small_integer(request.form.get("lock_version", "").strip())


def _page(template: str, status: int = 200, **context):
    return no_store(make_response(render_template(template, **context), status))


def _notice() -> str | None:
    return NOTICES.get(request.args.get("fait", ""))


def _let_reads_go() -> None:
    """Commit the reads (objects stay readable) and forget them: the workflow reads fresh rows."""
    end_reads(db.session)
    db.session.expire_all()


def _write(run):
    """Run one workflow change and commit it: (result, None), or (None, the refusal) after a rollback.

    A stale flush (``StaleDataError``) or two first drafts at once (the open revision's unique key) are the
    same conflict as the lock_version check: a 409, never a 500.
    """
    try:
        result = run()
        db.session.commit()
    except Refused as refused:
        db.session.rollback()
        return None, refused
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        return None, Refused(CONFLICT, status=409)
    return result, None


def _errors_of(refused: Refused, aliases: dict[str, str] | None = None) -> dict[str, str]:
    """Field → French message from a refusal (``InvalidData.errors``, or its one field); {} for a general one.

    ``aliases`` maps the service's field names to the page's inputs (the service's "publish_at" is the
    page's date input).
    """
    errors = getattr(refused, "errors", None) or ({refused.field: refused.message} if refused.field else {})
    return {(aliases or {}).get(field, field): message for field, message in errors.items()}


def _posted_values(kind) -> dict[str, str]:
    """The form's strings for every field of ``kind`` (checkboxes of channels joined one per line)."""
    values = {}
    for field in kind.fields:
        if field.kind == "channels":
            values[field.name] = "\n".join(request.form.getlist(field.name))
        else:
            values[field.name] = request.form.get(field.name, "")
    return values


# --- Dashboard and lists --------------------------------------------------------------------------

@bp.get("/contenus")
@editors_only
def dashboard():
    agent = current_agent()
    opened = queries.open_revisions(db.session)
    groups = queries.by_state(opened)
    titles = {rev.id: entities.title_of(rev.entity_type, rev.entity_key, rev.data) for rev in opened}
    return _page("editorial/dashboard.html", agent=agent, groups=groups, titles=titles,
                 names=queries.agent_names(db.session, queries.revision_people(opened)),
                 reviewer=any(agent.has_role(role) for role in REVIEWERS),
                 analytics_url=url_for("editorial.analytics"))


def _list(name: str):
    kind = _kind(name)
    text = request.args.get("q", "").strip()[:100]
    rows = queries.content_rows(db.session, name, text, title_of=entities.title_of)
    wanted = request.args.get("type", "") if name == "search_rule" else ""
    if wanted in RULE_KINDS:
        rows = [row for row in rows if row.rule_kind == wanted]
    else:
        wanted = ""
    response = render("editorial/list.html", "editorial/_list_results.html", name=name, kind=kind, rows=rows,
                      text=text, rule_type=wanted)
    return no_store(response)


@bp.get(f"/contenus/{SEGMENT}")
@editors_only
def content_list(segment: str):
    return _list(_type(segment))


@bp.get("/recherche/regles")
@editors_only
def rule_list():
    return _list("search_rule")


# --- Entity page, history, comparison, restore ---------------------------------------------------

def _readable(kind, data: dict) -> dict[str, str]:
    """The form's strings for ``data``, a choice shown by its French label ("En ligne", not "en_ligne")."""
    values = forms.form_values(entities.EntityKind(kind.name, kind.label, kind.all_fields), data)
    for field in kind.all_fields:
        if field.choices and values.get(field.name):
            labels = dict(field.choices)
            values[field.name] = "\n".join(labels.get(item, item) for item in values[field.name].split("\n"))
    return values


def _show(name: str, key: str):
    kind = _kind(name)
    key = _key(key)
    history = workflow.history(db.session, name, key)
    live = entities.live_data(db.session, name, key)
    if live is None and not history:
        abort(404)
    opened = next((rev for rev in history if rev.state in OPEN_STATES), None)
    published = next((rev for rev in history if rev.state == "published"), None)
    data = live if live is not None else (opened.data if opened else {})
    return _page("editorial/entity.html", name=name, kind=kind, key=key, live=live,
                 values=_readable(kind, live) if live is not None else {},
                 title=entities.title_of(name, key, data),
                 live_status=queries.entity_status(db.session, name, key),
                 history=history, opened=opened, published=published, notice=_notice(),
                 names=queries.agent_names(db.session, queries.revision_people(history)))


@bp.get(f"/contenus/{SEGMENT}/<key>")
@editors_only
def content_show(segment: str, key: str):
    return _show(_type(segment), key)


@bp.get("/recherche/regles/<key>")
@editors_only
def rule_show(key: str):
    return _show("search_rule", key)


def _compare(name: str, key: str):
    kind = _kind(name)
    key = _key(key)
    history = workflow.history(db.session, name, key)
    if not history:
        abort(404)
    by_number = {rev.number: rev for rev in history}
    old_number = small_integer(request.args.get("de", "").strip())
    new_number = small_integer(request.args.get("a", "").strip())
    if old_number is None or new_number is None:
        return error_response(400, "Choisissez deux versions à comparer dans l'historique.",
                              title="Comparaison impossible")
    if old_number not in by_number or new_number not in by_number:
        abort(404)
    if old_number > new_number:  # always older on the left
        old_number, new_number = new_number, old_number
    old, new = by_number[old_number], by_number[new_number]
    changes = diffs.diff(kind, old.data or {}, new.data or {})
    return _page("editorial/compare.html", name=name, kind=kind, key=key, old=old, new=new,
                 changes=[fd for fd in changes if fd.changed], unchanged=sum(1 for fd in changes if not fd.changed),
                 title=entities.title_of(name, key, new.data), history=history,
                 names=queries.agent_names(db.session, queries.revision_people([old, new])))


@bp.get(f"/contenus/{SEGMENT}/<key>/comparer")
@editors_only
def content_compare(segment: str, key: str):
    return _compare(_type(segment), key)


@bp.get("/recherche/regles/<key>/comparer")
@editors_only
def rule_compare(key: str):
    return _compare("search_rule", key)


def _restore(name: str, key: str):
    _kind(name)
    key = _key(key)
    agent = current_agent()
    number = small_integer(request.form.get("numero", "").strip())
    if number is None:
        return error_response(400, "Choisissez la version à restaurer dans l'historique.",
                              title="Restauration impossible")
    _let_reads_go()
    rev, refused = _write(lambda: workflow.restore(db.session, agent, name, key, number))
    if refused is not None:
        return error_response(refused.status, refused.message, title="Restauration impossible")
    return redirect(url_for("editorial.revision", revision_id=rev.id, fait="restauree"), 303)


@bp.post(f"/contenus/{SEGMENT}/<key>/restaurer")
@editors_only
def content_restore(segment: str, key: str):
    return _restore(_type(segment), key)


@bp.post("/recherche/regles/<key>/restaurer")
@editors_only
def rule_restore(key: str):
    return _restore("search_rule", key)


# --- New and edit forms ----------------------------------------------------------------------------

def _form_page(name: str, key: str | None, values: dict[str, str], *, revision: Revision | None = None,
               lock_version: int | None = None, change_note: str = "", errors: dict | None = None,
               refusal: str | None = None, conflict: Revision | None = None, notice: str | None = None,
               status: int = 200):
    kind = _kind(name)
    title = entities.title_of(name, key, forms.data_from_form(kind, values)) if key else None
    return _page("editorial/form.html", status=status, name=name, kind=kind, key=key, values=values,
                 revision=revision, lock_version=lock_version, change_note=change_note, errors=errors or {},
                 refusal=refusal, conflict=conflict, notice=notice, title=title,
                 action=entity_url(name, "edit", key) if key else entity_url(name, "new"))


def _new(name: str):
    kind = _kind(name)
    values = forms.form_values(kind, {})
    if name == "search_rule":  # the analytics pages link here with what citizens typed
        wanted = request.args.get("kind", "")
        if wanted in RULE_KINDS:
            values["kind"] = wanted
        terms = [line.strip()[:100] for raw in request.args.getlist("terms") for line in raw.splitlines()]
        values["terms"] = "\n".join(term for term in terms if term)
    return _form_page(name, None, values)


@bp.get(f"/contenus/{SEGMENT}/nouveau")
@editors_only
def content_new(segment: str):
    return _new(_type(segment))


@bp.get("/recherche/regles/nouvelle")
@editors_only
def rule_new():
    return _new("search_rule")


def _edit(name: str, key: str):
    kind = _kind(name)
    key = _key(key)
    opened = workflow.open_revision(db.session, name, key)
    if opened is not None:
        return _form_page(name, key, forms.form_values(kind, opened.data or {}), revision=opened,
                          lock_version=opened.lock_version, notice=_notice())
    live = entities.live_data(db.session, name, key)
    if live is None:
        abort(404)
    return _form_page(name, key, forms.form_values(kind, live))


@bp.get(f"/contenus/{SEGMENT}/<key>/modifier")
@editors_only
def content_edit(segment: str, key: str):
    return _edit(_type(segment), key)


@bp.get("/recherche/regles/<key>/modifier")
@editors_only
def rule_edit(key: str):
    return _edit("search_rule", key)


def _save(name: str, key: str | None):
    """Save the form as the open draft (creating it, or the entity, when there is none yet)."""
    kind = _kind(name)
    key = _key(key) if key is not None else None
    agent = current_agent()
    values = _posted_values(kind)
    for field in kind.fields:
        if field.new_only and key is not None:
            values[field.name] = key  # an existing entity keeps its address
    change_note = request.form.get("change_note", "").strip()[:2000]
    data = forms.data_from_form(kind, values)
    raw_revision = request.form.get("revision", "").strip()
    revision_id = small_integer(raw_revision) if raw_revision else None
    lock_version = _lock_version() if raw_revision else None
    if raw_revision and (revision_id is None or lock_version is None):
        return _form_page(name, key, values, change_note=change_note, refusal=STALE_FORM, status=400)
    if key is not None and revision_id is None and entities.live_data(db.session, name, key) is None:
        abort(404)
    if revision_id is not None:
        target = workflow.revision(db.session, revision_id)
        if target is not None and (target.entity_type, target.entity_key) != (name, key):
            # A form of one entity never writes onto another's revision (a forged or mixed-up form).
            return _form_page(name, key, values, change_note=change_note, refusal=OTHER_ENTITY, status=409)
    _let_reads_go()

    def run() -> Revision:
        if revision_id is not None:
            return workflow.save_draft(db.session, agent, revision_id, lock_version, data, change_note)
        if key is not None and workflow.open_revision(db.session, name, key) is not None:
            # The form started from the published version, and someone opened a draft since.
            raise Refused(CONFLICT, status=409)
        return workflow.start_edit(db.session, agent, name, key, data, change_note=change_note)

    rev, refused = _write(run)
    if refused is None:
        return redirect(url_for("editorial.revision", revision_id=rev.id, fait="brouillon"), 303)
    errors = _errors_of(refused)
    if refused.status == 409 and key is not None:
        latest = workflow.open_revision(db.session, name, key)
        return _form_page(name, key, values, revision=latest, lock_version=latest.lock_version if latest else None,
                          change_note=change_note, conflict=latest, refusal=None if latest else refused.message,
                          status=409)
    current = workflow.revision(db.session, revision_id) if revision_id is not None else None
    return _form_page(name, key, values, revision=current, lock_version=lock_version, change_note=change_note,
                      errors=errors, refusal=None if errors else refused.message, status=refused.status)


@bp.post(f"/contenus/{SEGMENT}/nouveau")
@editors_only
def content_create(segment: str):
    return _save(_type(segment), None)


@bp.post("/recherche/regles/nouvelle")
@editors_only
def rule_create():
    return _save("search_rule", None)


@bp.post(f"/contenus/{SEGMENT}/<key>/modifier")
@editors_only
def content_save(segment: str, key: str):
    return _save(_type(segment), key)


@bp.post("/recherche/regles/<key>/modifier")
@editors_only
def rule_save(key: str):
    return _save("search_rule", key)


# --- Retiring: a procedure (with its replacement), a life event, a search rule ------------------------

def _retire_page(name: str, key: str, values: dict, errors: dict | None = None, refusal: str | None = None,
                 status: int = 200):
    kind = _kind(name)
    title = entities.title_of(name, key, entities.live_data(db.session, name, key) or {})
    choices = [(slug, label) for slug, label in queries.procedure_choices(db.session) if slug != key] \
        if name == "procedure" else []
    return _page("editorial/retire.html", status=status, name=name, kind=kind, key=key, title=title,
                 choices=choices, values=values, errors=errors or {}, refusal=refusal,
                 opened=workflow.open_revision(db.session, name, key))


def _retire_form(name: str, key: str):
    _kind(name)
    key = _key(key)
    live = entities.live_data(db.session, name, key)
    if live is None:
        abort(404)
    return _retire_page(name, key, {})


def _retire(name: str, key: str):
    _kind(name)
    key = _key(key)
    if entities.live_data(db.session, name, key) is None:
        abort(404)
    agent = current_agent()
    values = {"replacement": request.form.get("replacement", "").strip()[:KEY_MAX] if name == "procedure" else "",
              "note": request.form.get("note", "").strip()[:2000]}
    _let_reads_go()
    rev, refused = _write(lambda: workflow.retire(db.session, agent, key, values["replacement"] or None,
                                                  values["note"], name=name))
    if refused is not None:
        errors = _errors_of(refused, {"retired_note": "note"})
        return _retire_page(name, key, values, errors=errors, refusal=None if errors else refused.message,
                            status=refused.status)
    return redirect(url_for("editorial.revision", revision_id=rev.id, fait="retrait"), 303)


@bp.get(f"/contenus/{SEGMENT}/<key>/retirer")
@editors_only
def content_retire(segment: str, key: str):
    return _retire_form(_type(segment), key)


@bp.post(f"/contenus/{SEGMENT}/<key>/retirer")
@editors_only
def content_retire_submit(segment: str, key: str):
    return _retire(_type(segment), key)


@bp.get("/recherche/regles/<key>/retirer")
@editors_only
def rule_retire(key: str):
    return _retire_form("search_rule", key)


@bp.post("/recherche/regles/<key>/retirer")
@editors_only
def rule_retire_submit(key: str):
    return _retire("search_rule", key)


# --- The revision page and its actions -----------------------------------------------------------

def _available(agent, rev: Revision) -> dict[str, str | None]:
    """The actions that make sense in the revision's state → None when the agent may take it, else why not."""
    reviewer = any(agent.has_role(role) for role in REVIEWERS)
    review = workflow.review_refusal(agent, rev)
    actions: dict[str, str | None] = {}
    if rev.state == "draft":
        actions["submit"] = None
    if rev.state == "rejected":
        actions["submit"] = ("Cette version a été renvoyée par le relecteur : modifiez-la, puis renvoyez-la en "
                             "relecture.")
    if rev.state == "submitted":
        actions["approve"] = review
        actions["schedule"] = review
        actions["reject"] = review
    if rev.state == "approved":
        actions["publish"] = review
        actions["schedule"] = review
    if rev.state == "scheduled":
        actions["publish"] = review
        actions["unschedule"] = None if reviewer else ROLE_REASON
    if rev.state in OPEN_STATES:
        actions["abandon"] = workflow.abandon_refusal(agent, rev)
    return actions


def _base_of(rev: Revision, history: list[Revision]) -> Revision | None:
    """What the revision changes: the version it started from (an open one without a base: the published one)."""
    if rev.state in OPEN_STATES and not rev.base_number:
        return next((r for r in history if r.state == "published" and r.id != rev.id), None)
    if rev.base_number:
        return next((r for r in history if r.number == rev.base_number), None)
    return next((r for r in history if r.number < rev.number and r.state in ("published", "superseded")), None)


def _rule_preview(rev: Revision, query: str):
    """(query, today's top 10, with this revision's top 10, or a French message) for a search rule."""
    from search import services as search_services
    from search.engine import SearchUnavailable

    terms = (rev.data or {}).get("terms") or []
    query = (query or (terms[0] if terms else "")).strip()[:100]
    if not query:
        return query, None, None, None
    try:
        before, after = search_services.preview(db.session, query, rules_override={rev.entity_key: rev.data})
    except SearchUnavailable:
        return query, None, None, "La recherche est momentanément indisponible : l'aperçu ne peut pas être calculé."
    return query, before, after, None


def _revision_page(rev_id: int, status: int = 200, errors: dict | None = None, values: dict | None = None,
                   refusal: str | None = None, notice: str | None = None):
    agent = current_agent()
    rev = _revision(rev_id)
    kind = _kind(rev.entity_type)
    history = workflow.history(db.session, rev.entity_type, rev.entity_key)
    base = _base_of(rev, history)
    changes = diffs.diff(kind, (base.data if base else None) or {}, rev.data or {})
    context = {}
    today = datetime.now(PARIS).date()
    if rev.entity_type == "search_rule" and rev.state in OPEN_STATES:
        query, before, after, problem = _rule_preview(rev, request.args.get("requete", ""))
        context = {"preview_query": query, "before": before, "after": after, "preview_problem": problem}
    return _page("editorial/revision.html", status=status, agent=agent, rev=rev, kind=kind, base=base,
                 name=rev.entity_type, key=rev.entity_key, title=entities.title_of(rev.entity_type, rev.entity_key,
                                                                                   rev.data or {}),
                 changes=[fd for fd in changes if fd.changed], unchanged=sum(1 for fd in changes if not fd.changed),
                 available=_available(agent, rev), errors=errors or {}, values=values or {}, refusal=refusal,
                 notice=notice, names=queries.agent_names(db.session, queries.revision_people([rev])),
                 is_open=rev.state in OPEN_STATES, today=today,
                 last_day=workflow.years_later(today, workflow.SCHEDULE_YEARS),
                 drift=workflow.link_drift(db.session, rev), **context)


@bp.get(REVISION)
@editors_only
def revision(revision_id: int):
    return _revision_page(revision_id, notice=_notice())


def _act(revision_id: int, run, done: str, fields: tuple[str, ...] = ()):
    """One action on a revision: 303 to its page with ``done``'s notice, or the page again with why not."""
    agent = current_agent()
    rev = _revision(revision_id)
    name, key = rev.entity_type, rev.entity_key
    values = {field: request.form.get(field, "").strip()[:2000] for field in fields}
    lock_version = _lock_version()
    if lock_version is None:
        return _revision_page(revision_id, status=400, values=values, refusal=STALE_FORM)
    _let_reads_go()
    _, refused = _write(lambda: run(agent, lock_version, values))
    if refused is not None:
        errors = _errors_of(refused, FIELD_ALIASES)
        message = refused.message
        if refused.status == 409 and not errors:
            message = ("Cette version a changé depuis que vous avez ouvert la page (une autre personne l'a "
                       "modifiée ou relue). Voici son état actuel : vérifiez-le avant de recommencer.")
        return _revision_page(revision_id, status=refused.status, errors=errors, values=values,
                              refusal=None if errors else message)
    if done == "abandonnee":
        return redirect(entity_url(name, "show", key, fait=done), 303)
    return redirect(url_for("editorial.revision", revision_id=revision_id, fait=done), 303)


@bp.post(REVISION + "/soumettre")
@editors_only
def revision_submit(revision_id: int):
    return _act(revision_id, lambda agent, lock, _: workflow.submit(db.session, agent, revision_id, lock), "soumise")


@bp.post(REVISION + "/approuver")
@reviewers_only
def revision_approve(revision_id: int):
    return _act(revision_id, lambda agent, lock, _: workflow.approve(db.session, agent, revision_id, lock),
                "publiee")


def parse_paris_time(day: str, hour: str, today: date | None = None) -> tuple[datetime | None, dict[str, str]]:
    """A date (AAAA-MM-JJ) and a time (HH:MM) typed in Paris time → an aware UTC datetime, or French errors.

    The day must be between today and ``workflow.SCHEDULE_YEARS`` years ahead (Paris): a date far away
    (0001-01-01, 9999-12-31) is an error on the field, never an overflow.
    """
    errors = {}
    today = today or datetime.now(PARIS).date()
    last = workflow.years_later(today, workflow.SCHEDULE_YEARS)
    try:
        parsed_day = date.fromisoformat(day)
    except ValueError:
        parsed_day = None
        errors["publish_day"] = "Saisissez la date de publication, par exemple 2027-01-15."
    if parsed_day is not None and not today <= parsed_day <= last:
        errors["publish_day"] = (
            f"La date de publication doit être dans le futur : entre aujourd'hui et le {last.day:02d}/"
            f"{last.month:02d}/{last.year} ({workflow.SCHEDULE_YEARS} ans au plus).")
    try:
        parsed_time = time.fromisoformat(hour) if hour else None
    except ValueError:
        parsed_time = None
    if parsed_time is None:
        errors["publish_time"] = "Saisissez l'heure de publication, par exemple 08:30."
    if errors:
        return None, errors
    try:
        when = datetime.combine(parsed_day, parsed_time.replace(second=0, microsecond=0, tzinfo=None), PARIS)
        return when.astimezone(UTC), {}
    except (OverflowError, ValueError):
        return None, {"publish_day": "Saisissez la date de publication, par exemple 2027-01-15."}


@bp.post(REVISION + "/programmer")
@reviewers_only
def revision_schedule(revision_id: int):
    def run(agent, lock, values):
        publish_at, errors = parse_paris_time(values["publish_day"], values["publish_time"])
        if errors:
            raise workflow.InvalidData(errors, "Indiquez la date et l'heure de publication.")
        rev = workflow.revision(db.session, revision_id)
        if rev is not None and rev.state == "approved":  # approved earlier, or unscheduled: only the date is set
            return workflow.schedule(db.session, agent, revision_id, lock, publish_at)
        return workflow.approve(db.session, agent, revision_id, lock, publish_at=publish_at)

    return _act(revision_id, run, "programmee", ("publish_day", "publish_time"))


@bp.post(REVISION + "/renvoyer")
@reviewers_only
def revision_reject(revision_id: int):
    return _act(revision_id, lambda agent, lock, values: workflow.reject(db.session, agent, revision_id, lock,
                                                                         values["review_note"]),
                "renvoyee", ("review_note",))


@bp.post(REVISION + "/publier")
@reviewers_only
def revision_publish(revision_id: int):
    return _act(revision_id, lambda agent, lock, _: workflow.publish(db.session, agent, revision_id, lock), "publiee")


@bp.post(REVISION + "/deprogrammer")
@reviewers_only
def revision_unschedule(revision_id: int):
    return _act(revision_id, lambda agent, lock, _: workflow.unschedule(db.session, agent, revision_id, lock),
                "deprogrammee")


@bp.post(REVISION + "/abandonner")
@editors_only
def revision_abandon(revision_id: int):
    return _act(revision_id, lambda agent, lock, _: workflow.abandon(db.session, agent, revision_id, lock),
                "abandonnee")


# --- Preview: the public page as citizens will see it -----------------------------------------

@bp.get(REVISION + "/apercu")
@editors_only
def revision_preview(revision_id: int):
    """The public template on the revision's data. Nothing persists: the transient objects
    ``preview_object`` builds (and anything they pulled into the session) are rolled back after rendering."""
    rev = _revision(revision_id)
    if rev.entity_type not in SEGMENTS:
        abort(404)
    banner = {"number": rev.number, "state": STATES.get(rev.state, rev.state),
              "url": url_for("editorial.revision", revision_id=rev.id)}
    name, key, data = rev.entity_type, rev.entity_key, dict(rev.data or {})
    if data.get("retired"):
        return _retirement_preview(name, data, banner)
    try:
        with db.session.no_autoflush:
            # An open revision as publishing it would leave the page (links the other side changed kept).
            base = workflow.base_data(db.session, rev) if rev.state in OPEN_STATES else None
            obj = entities.preview_object(db.session, name, key, data, base=base)
            if obj.sensitive:
                mark_sensitive()
            if name == "procedure":
                html = render_template(
                    "catalogue/procedure.html", entry=obj, editorial_preview=banner,
                    sections=catalogue.sections(obj),
                    sources=catalogue.resolve_sources(db.session, obj.sources or []))
            else:
                html = render_template("catalogue/life_event.html", event=obj, editorial_preview=banner)
    finally:
        db.session.rollback()
    response = make_response(html)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return no_store(response)


def _retirement_preview(name: str, data: dict, banner: dict):
    """What the retired address will answer (catalogue.views): a 301 to the replacement while it is published,
    which cannot be shown, so a page naming it; else the 410 page with the note."""
    replacement = (data.get("replacement") or "") if name == "procedure" else ""
    target = catalogue.published(db.session, replacement) if replacement else None
    if target is not None:
        html = render_template("editorial/preview_moved.html", editorial_preview=banner, target=target,
                               target_url=catalogue.entry_url(target))
    else:
        html = render_template("catalogue/gone.html", editorial_preview=banner, kind=name,
                               note=data.get("retired_note") or None, replaced=bool(replacement))
    response = make_response(html)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return no_store(response)


# --- Fiches from service-public.fr ---------------------------------------------------------------

@bp.get("/contenus/fiches")
@editors_only
def fiches():
    text = request.args.get("q", "").strip()[:100]
    page = queries.fiches(db.session, text, page_number(request.args.get("page")))
    return no_store(render("editorial/fiches.html", "editorial/_fiches_results.html", page=page, text=text))


def _fiche_page(slug: str, status: int = 200, refusal: str | None = None, notice: str | None = None):
    row = queries.fiche(db.session, _key(slug))
    if row is None:
        abort(404)
    procedures, events = queries.fiche_attachments(db.session, row)
    targets = queries.attach_targets(db.session)
    return _page("editorial/fiche.html", status=status, entry=row, procedures=procedures, events=events,
                 targets=targets, refusal=refusal, notice=notice,
                 public=url_for("catalogue.fiche", slug=row.slug) if row.status == "published" else None)


@bp.get("/contenus/fiches/<slug>")
@editors_only
def fiche(slug: str):
    return _fiche_page(slug, notice=_notice())


def _set_hidden(slug: str, hidden: bool):
    agent = current_agent()
    if queries.fiche(db.session, _key(slug)) is None:
        abort(404)
    _let_reads_go()
    _, refused = _write(lambda: workflow.set_fiche_hidden(db.session, agent, slug, hidden))
    if refused is not None:
        return _fiche_page(slug, status=refused.status, refusal=refused.message)
    return redirect(url_for("editorial.fiche", slug=slug, fait="masquee" if hidden else "affichee"), 303)


@bp.post("/contenus/fiches/<slug>/masquer")
@editors_only
def fiche_hide(slug: str):
    return _set_hidden(slug, True)


@bp.post("/contenus/fiches/<slug>/afficher")
@editors_only
def fiche_show(slug: str):
    return _set_hidden(slug, False)


@bp.post("/contenus/fiches/<slug>/rattacher")
@editors_only
def fiche_attach(slug: str):
    """Open (or take up) the draft of a procedure or a life event with the fiche added, then edit it."""
    agent = current_agent()
    row = queries.fiche(db.session, _key(slug))
    if row is None:
        abort(404)
    target = request.form.get("cible", "")
    name, _, key = target.partition(":")
    procedures, events = queries.attach_targets(db.session)
    allowed = {("procedure", s) for s, _ in procedures} | {("life_event", s) for s, _ in events}
    if (name, key) not in allowed:
        return _fiche_page(slug, status=400, refusal="Choisissez la démarche ou la situation à laquelle "
                                                      "rattacher cette fiche.")
    _let_reads_go()
    _, refused = _write(lambda: workflow.attach_fiche(db.session, agent, name, key, slug))
    if refused is not None:
        return _fiche_page(slug, status=refused.status, refusal=refused.message)
    return redirect(entity_url(name, "edit", key, fait="rattachee"), 303)
