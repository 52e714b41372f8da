"""The citizen's side (``bp``) and the officers' side under /agents/ (``console``), one module per journey.

The helpers the journeys share are defined here, above the import of the
journeys' modules at the bottom (which import them from this package).
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template
from flask_limiter.util import get_remote_address
from flask_login import current_user

from complaints.cases import citizen_case
from complaints.models import Case
from portal.extensions import db
from portal.security import mark_sensitive, no_store

bp = Blueprint("complaints", __name__)
console = Blueprint("console", __name__, url_prefix="/agents")


def account_key() -> str:
    """Rate-limit key of a signed-in citizen (their account, whatever address they come from); else the address."""
    return f"account:{current_user.get_id() or get_remote_address()}"


def own_case(reference: str) -> Case:
    """The signed-in citizen's case; 404 for another citizen's reference, exactly like an unknown one.

    Every page of a visio-plainte (violence, threats, harassment) gets the quick exit and is kept nowhere.
    """
    case = citizen_case(db.session, current_user.id, reference[:20])
    if case is None:
        abort(404)
    if case.kind == "visio_plainte":
        mark_sensitive()
    return case


def private_page(template: str, status: int = 200, **context):
    """A page with case data: rendered, and never kept by the browser (``Cache-Control: no-store``)."""
    return no_store(make_response(render_template(template, **context), status))


# Each module adds its routes to the blueprints above.
from complaints.views import (  # noqa: E402, F401
    cases,
    console_agenda,
    console_cases,
    online,
    visio,
)
