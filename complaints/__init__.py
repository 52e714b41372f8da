"""Complaints: plainte en ligne, visio-plainte, the officers' side of each, Mon espace's cases."""

from __future__ import annotations

from flask import Flask

from accounts import register_space_section
from complaints import models  # noqa: F401  (the tables, for the metadata and migrations)


def init_app(app: Flask) -> None:
    from complaints import labels, space
    from complaints.cli import complaints_cli

    app.cli.add_command(complaints_cli)
    # Mon espace (a page of accounts) shows the citizen's cases, drafts and bookings, and exports them.
    register_space_section(app, space.SECTION)
    # A case's history, in the citizen's or the officer's words: {{ event_label(event.kind, "officer") }}.
    app.add_template_global(labels.event_label, "event_label")
    app.add_template_global(labels.actor_label, "actor_label")
