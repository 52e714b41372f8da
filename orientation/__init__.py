"""Orientation « Je veux porter plainte ou signaler quelque chose »: a few questions, then the right place.

A decision tree as plain data (``tree``), walked one question per page
(``views``); it stores nothing but the visitor's answers, in the server-side
session, and sends to the procedures of ``complaints`` or to other services.
"""

from __future__ import annotations

from flask import Flask

from portal.security import forget_on_quick_exit


def init_app(app: Flask) -> None:
    from orientation.views import ANSWERS_KEY

    # Answers about violence leave with the visitor who leaves quickly.
    forget_on_quick_exit(app, ANSWERS_KEY)
