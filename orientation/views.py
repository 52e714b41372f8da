"""The orientation journey at /porter-plainte: one question per page, a summary, an outcome.

Answers live in the server-side session under ``ANSWERS_KEY`` only: no URL, query string or pushed
history entry ever carries them (the summary and the outcome have fixed addresses). Without JavaScript
every answer is POST → 303 → GET; with htmx the same form swaps ``#orientation`` and pushes the address
the redirect ended on, which is a question, the summary or the outcome, never an answer.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from orientation import tree
from portal.htmx import render, wants_fragment
from portal.security import limiter, mark_sensitive

bp = Blueprint("orientation", __name__)

ANSWERS_KEY = "orientation"
ERROR_MESSAGE = "Sélectionnez une réponse"


def _answers() -> dict[str, str]:
    return tree.clean(session.get(ANSWERS_KEY))


def _store(answers: dict[str, str]) -> None:
    # A new dict each time: the server-side session notices assignments, not changes inside a value.
    if answers:
        session[ANSWERS_KEY] = dict(answers)
    else:
        session.pop(ANSWERS_KEY, None)


def _next_url(answers: dict[str, str]) -> str:
    """Where the citizen goes with these answers: the next question, the summary or (emergency) the outcome."""
    slug = tree.next_question(answers)
    if slug is not None:
        return url_for("orientation.show_orientation_question", slug=slug)
    found = tree.outcome(answers)
    if found is not None and found.immediate:
        return url_for("orientation.show_orientation_outcome")
    return url_for("orientation.show_orientation_answers")


def _serves(path: str) -> bool:
    """Whether a GET of ``path`` reaches a route of this portal (not only a redirect to one)."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return True


def resolve(action: tree.Action) -> str:
    """The address to link ``action`` to: its own, or its fallback when the portal does not serve it."""
    if action.fallback and action.href.startswith("/") and not _serves(action.href):
        return action.fallback
    return action.href


def _protect(answers: dict[str, str], always: bool = False) -> None:
    if always or tree.sensitive(answers):
        mark_sensitive()


@bp.app_template_global()
def complaint_orientation_offered(slug: str, kind: str = "procedure") -> bool:
    """Whether a catalogue page (a procedure, or a life event with ``kind="life_event"``) links here."""
    entries = tree.ENTRY_LIFE_EVENTS if kind == "life_event" else tree.ENTRY_PROCEDURES
    return slug in entries


@bp.get("/porter-plainte")
def show_orientation():
    # A victim of violence may start here: the quick exit is there from the first page.
    mark_sensitive()
    answers = _answers()
    return render("orientation/start.html", "orientation/_start.html",
                  first_url=url_for("orientation.show_orientation_question", slug=tree.START),
                  has_answers=bool(answers))


def _question_page(slug: str, answers: dict[str, str], error: str | None = None, status: int = 200,
                   selected: str | None = None):
    question = tree.QUESTIONS[slug]
    _protect(answers, always=question.sensitive)
    before = tree.previous(answers, slug)
    back_url = (url_for("orientation.show_orientation_question", slug=before) if before
                else url_for("orientation.show_orientation"))
    return render("orientation/question.html", "orientation/_question.html",
                  status=status, question=question, selected=selected if error is None else None,
                  error=error, back_url=back_url)


@bp.get("/porter-plainte/<slug>")
def show_orientation_question(slug: str):
    """One question, the previous answer checked. A question not (yet) on the path sends to the next one."""
    if slug not in tree.QUESTIONS:
        abort(404)
    answers = _answers()
    if slug not in tree.trail(answers):
        return redirect(_next_url(answers), 303)
    return _question_page(slug, answers, selected=answers.get(slug))


@bp.post("/porter-plainte/<slug>")
@limiter.limit("60 per minute")
def answer_orientation_question(slug: str):
    if slug not in tree.QUESTIONS:
        abort(404)
    answers = _answers()
    if slug not in tree.trail(answers):
        return redirect(_next_url(answers), 303)
    value = request.form.get("reponse", "")
    if tree.QUESTIONS[slug].choice(value) is None:
        if wants_fragment():
            # htmx swaps no 4xx answer (its default responseHandling): the error fragment comes as 200,
            # and the address bar stays on this question.
            response = _question_page(slug, answers, error=ERROR_MESSAGE)
            response.headers["HX-Push-Url"] = "false"
            return response
        return _question_page(slug, answers, error=ERROR_MESSAGE, status=400)
    answers = tree.answer(answers, slug, value)
    _store(answers)
    return redirect(_next_url(answers), 303)


@bp.get("/porter-plainte/recapitulatif")
def show_orientation_answers():
    answers = _answers()
    if tree.outcome_id(answers) is None:
        return redirect(_next_url(answers), 303)
    _protect(answers)
    last = list(answers)[-1]
    return render("orientation/answers.html", "orientation/_answers.html",
                  rows=tree.summary(answers),
                  back_url=url_for("orientation.show_orientation_question", slug=last))


@bp.get("/porter-plainte/resultat")
def show_orientation_outcome():
    answers = _answers()
    found = tree.outcome(answers)
    if found is None:
        return redirect(_next_url(answers), 303)
    _protect(answers, always=found.sensitive)
    back_url = (url_for("orientation.show_orientation_question", slug=list(answers)[-1]) if found.immediate
                else url_for("orientation.show_orientation_answers"))
    return render("orientation/outcome.html", "orientation/_outcome.html",
                  outcome=found, primary_href=resolve(found.primary),
                  secondary=[(action, resolve(action)) for action in found.secondary],
                  back_url=back_url)


@bp.post("/porter-plainte/recommencer")
@limiter.limit("60 per minute")
def restart_orientation():
    """Forget every answer and start again from the first question."""
    _store({})
    return redirect(url_for("orientation.show_orientation_question", slug=tree.START), 303)
