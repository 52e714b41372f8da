"""One URL, a full page or the fragment it contains, decided in one place."""

from __future__ import annotations

from flask import make_response, render_template, request
from flask.typing import ResponseReturnValue


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page.

    Boosted requests and history restores want the whole page: a URL pushed
    into the history must always give a full page.
    """
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(page: str, fragment: str, /, status: int = 200, **context) -> ResponseReturnValue:
    """Render ``page``, or only ``fragment`` for htmx, from the same context."""
    template = fragment if wants_fragment() else page
    response = make_response(render_template(template, fragment=wants_fragment(), **context), status)
    response.vary.add("HX-Request")
    return response
