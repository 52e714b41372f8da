"""Helpers of the back office's page tests: agents signed in by role, forms read and sent like a browser does.

    from tests.editorial.back_office import editor_client, form_fields, post_form

``editor_client(app, db_session, roles)`` signs a fresh agent in through the real form (password + TOTP)
and returns the test client; ``client.agent_id`` is their id. Every agent gets a new e-mail address and a
new TOTP secret, so several can sign in within the same 30 seconds.
"""

from __future__ import annotations

import itertools
import re
from html import unescape
from html.parser import HTMLParser

from sqlalchemy import select

from catalogue.models import Procedure
from portal.security import limiter
from tests.agents.helpers import csrf_token, make_agent, sign_in_agent

_counter = itertools.count(1)


def editor_client(app, db_session, roles=("editor",), name: str = "Camille Rédactrice"):
    email = f"redaction.vues{next(_counter)}@interieur.gouv.fr"
    # An officer works in a unit (a Le Mans one: make_agent's default); editors need none.
    unit = "" if "officer" in roles else None
    agent, secret = make_agent(db_session, email=email, roles=roles, unit_id=unit, display_name=name)
    limiter.reset()  # the sign-in form is rate limited per address, and tests sign several agents in
    client = app.test_client()
    sign_in_agent(client, email, totp_secret=secret)
    client.agent_id = agent.id
    return client


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


class _FormReader(HTMLParser):
    """The named fields of one form (the first whose action ends with ``action``), as a browser would send them."""

    def __init__(self, action: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.done = False
        self.fields: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._selected: bool = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.done and not self.inside:
            if self.action is None or (attrs.get("action") or "").split("#")[0].endswith(self.action):
                self.inside = True
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.setdefault(name, []).append(attrs.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.setdefault(name, []).append("")
        elif tag == "select" and name:
            self._select = name
            self._selected = False
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.setdefault(self._select, []).append(attrs.get("value", ""))
            self._selected = True

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            if self._textarea:
                value = self.fields[self._textarea][-1]
                # A browser drops the newline that follows <textarea>.
                self.fields[self._textarea][-1] = value[1:] if value.startswith("\n") else value
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self.inside:
            self.inside = False
            self.done = True


def form_fields(html: str, action: str | None = None) -> dict[str, list[str]]:
    reader = _FormReader(action)
    reader.feed(html)
    return reader.fields


def post_form(client, page_url: str, action: str, changes: dict | None = None, follow: bool = False):
    """GET the page, fill the form whose action ends with ``action`` with ``changes``, POST it."""
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code)
    fields = form_fields(page.get_data(as_text=True), action)
    assert fields, f"no form with action …{action} on {page_url}"
    for name, value in (changes or {}).items():
        fields[name] = value if isinstance(value, list) else [value]
    return client.post(action if action.startswith("/") else page_url, data=fields, follow_redirects=follow)


def token_from(client, url: str = "/agents/connexion") -> str:
    return csrf_token(client.get(url).get_data(as_text=True))


def own_procedure(db_session, slug: str = "plainte-en-ligne") -> Procedure:
    return db_session.scalar(select(Procedure).where(Procedure.slug == slug))


# --- "Never active markup": what an editor typed must stay text everywhere ------------------------------------

JAVASCRIPT_URL = re.compile(r"^\s*(javascript|vbscript|data):", re.IGNORECASE)
CSP_NONCE = re.compile(r"script-src[^;]*'nonce-([^']+)'")


def page_nonce(response) -> str | None:
    """The nonce the page's Content-Security-Policy lets scripts run with (None: no script may run)."""
    match = CSP_NONCE.search(response.headers.get("Content-Security-Policy", ""))
    return match.group(1) if match else None


class _ActiveMarkup(HTMLParser):
    """Collects what would run in a browser: a script without the page's own nonce (one typed with a made-up
    nonce does not run, but it must not be there either), an on* attribute, a javascript: address, an
    <iframe>/<object>/<embed>, an inline <svg>."""

    def __init__(self, nonce: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction", "xlink:href") and value and JAVASCRIPT_URL.match(value):
                self.found.append(f"<{tag} {name}={value[:30]}>")
        if tag == "script" and (self.nonce is None or dict(attrs).get("nonce") != self.nonce):
            self.found.append(f"<script nonce={dict(attrs).get('nonce')!r}> without the page's nonce")
        if tag in ("iframe", "object", "embed", "svg"):
            self.found.append(f"<{tag}>")

    handle_startendtag = handle_starttag


def active_markup(response) -> list[str]:
    """What would run in the response's page, judged against the nonce of its own CSP header."""
    parser = _ActiveMarkup(page_nonce(response))
    parser.feed(response.get_data(as_text=True))
    return parser.found
