"""Complaints: orientation, plainte en ligne, visio-plainte, the officers' side of each, Mon espace's cases."""

from __future__ import annotations

from flask import Flask

from complaints import models  # noqa: F401  (the tables, for the metadata and migrations)
from portal.security import forget_on_quick_exit


def init_app(app: Flask) -> None:
    from complaints import labels
    from complaints.cli import complaints_cli
    from complaints.views.orientation import ANSWERS_KEY

    app.cli.add_command(complaints_cli)
    # Answers about violence leave with the visitor who leaves quickly.
    forget_on_quick_exit(app, ANSWERS_KEY)
    # A case's history, in the citizen's or the officer's words: {{ event_label(event.kind, "officer") }}.
    app.add_template_global(labels.event_label, "event_label")
    app.add_template_global(labels.actor_label, "actor_label")
