"""Accounts: FranceConnect sign-in, the e-mail alternative, server-side sessions, "Mon espace"."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_login import LoginManager, current_user
from sqlalchemy.orm import Session

from accounts.franceconnect import FranceConnectClient
from accounts.models import Account
from accounts.sessions import DatabaseSessionInterface
from portal.extensions import db
from portal.security import csp_allow

# Pages with a form that leads to FranceConnect without showing its button: the sign-in's own
# answers. Any page that shows the button allows it while rendering it (templates/components).
FORMS_TO_FRANCECONNECT = {"accounts.email_start", "accounts.email_verify",
                          "accounts.franceconnect_callback", "accounts.franceconnect_start"}

ACCOUNT_ID = re.compile(r"[1-9][0-9]{0,18}")

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
# The sign-in page says why when it gets a "next" address; nothing is flashed.
login_manager.login_message = None
# Sessions get a new identifier at sign-in and end after 30 minutes idle; Flask-Login's
# check of the visitor's address would sign people out each time a phone changes network.
login_manager.session_protection = None


@login_manager.user_loader
def load_account(account_id: str) -> Account | None:
    # Any positive id a database sequence can give (up to 2**63 - 1), in ASCII digits.
    text = str(account_id)
    if not ACCOUNT_ID.fullmatch(text) or int(text) >= 2**63:
        return None
    return db.session.get(Account, int(text))


def _never(db_session: Session, account: Account) -> bool:
    return False


def _as_it_is(key: str, text: str) -> str | None:
    return None


@dataclass(frozen=True)
class SpaceSection:
    """A feature's part of Mon espace and of the citizen's data ("Mes données", its JSON download).

    Accounts sits below the features built on it and imports none of them: a feature that keeps something of
    the citizen's registers a section at start-up (``register_space_section``), and the pages of
    ``accounts.views`` show whatever the sections give, in the order they were registered.

    - ``template``: the feature's partial in Mon espace; it reads what ``context`` returned as ``section_context``.
    - ``context(db_session, account)``: what that partial needs.
    - ``export(db_session, account, now)``: the feature's share of the citizen's data, JSON-ready (dates in
      ISO 8601), merged into the export under its own top-level keys (never ``accounts.space.OWN_KEYS``).
    - ``sensitive(db_session, account)``: whether what the section shows is about violence; Mon espace and
      "Mes données" then carry the quick exit and are kept by no browser (``portal.security.mark_sensitive``).
    - ``labels``: the French label of every key of its share, at any depth, in reading order; the account's
      and an identity's keys are labelled by accounts (``accounts.space.LABELS``).
    - ``words(key, text)``: a value of its own in French (a code, a date: ``accounts.space.paris_time_text``),
      or None to show the text as it is. Empty values, yes/no, lists and nested keys are accounts' concern.
    - ``data_template``: its partial in "Mes données", reading its share as ``section_data`` and showing a part
      with ``show(readable(part, section))`` (``templates/accounts/_fields.html``); without one, the share is
      shown as labelled values.
    """

    template: str
    context: Callable[[Session, Account], dict]
    export: Callable[[Session, Account, datetime], dict]
    sensitive: Callable[[Session, Account], bool] = _never
    labels: Mapping[str, str] = field(default_factory=dict)
    words: Callable[[str, str], str | None] = _as_it_is
    data_template: str | None = None


def register_space_section(app: Flask, section: SpaceSection) -> None:
    """Add a feature's section to Mon espace and to the citizen's data (call it from the feature's ``init_app``)."""
    sections = app.extensions.setdefault("space_sections", [])
    if section not in sections:
        sections.append(section)


def space_sections(app: Flask | None = None) -> tuple[SpaceSection, ...]:
    """The sections registered, in their order (this request's application by default)."""
    return tuple((app or current_app).extensions.get("space_sections", ()))


def init_app(app: Flask) -> None:
    app.session_interface = DatabaseSessionInterface(
        idle=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]),
        absolute=timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"]),
    )
    login_manager.init_app(app)
    if app.config["PORTAL_ENV"] in ("development", "test") and app.config["MAIL_BACKEND"] == "outbox":
        # The local outbox shows login codes to whoever opens it: it exists nowhere else.
        from accounts.views import outbox

        app.add_url_rule("/dev/boite-mail", "accounts.outbox", outbox)
    issuer = urlsplit(app.config["FRANCECONNECT_ISSUER"])
    fc_origin = f"{issuer.scheme}://{issuer.netloc}"

    def allow_form_to_franceconnect() -> str:
        # CSP form-action also governs the redirects that follow a form's submission.
        csp_allow("form-action", fc_origin)
        return ""

    @app.before_request
    def allow_forms_to_franceconnect() -> None:
        if request.endpoint in FORMS_TO_FRANCECONNECT or current_user.is_authenticated:
            allow_form_to_franceconnect()

    # Called by the FranceConnect button's macro: wherever the button is, its form may lead there.
    app.jinja_env.globals["allow_form_to_franceconnect"] = allow_form_to_franceconnect

    public = app.config["PUBLIC_URL"]
    app.extensions["franceconnect"] = FranceConnectClient(
        issuer=app.config["FRANCECONNECT_ISSUER"],
        client_id=app.config["FRANCECONNECT_CLIENT_ID"],
        client_secret=app.config["FRANCECONNECT_CLIENT_SECRET"],
        redirect_uri=f"{public}/connexion/franceconnect/retour",
        post_logout_redirect_uri=f"{public}/deconnexion/retour",
        scopes=app.config["FRANCECONNECT_SCOPES"],
        timeout=app.config["FRANCECONNECT_TIMEOUT"],
    )
