"""Editorial: the back office where editors write and reviewers approve the catalogue and the search tuning."""

from __future__ import annotations

from flask import Flask

from editorial import models  # noqa: F401  (the tables, for the metadata and migrations)


def init_app(app: Flask) -> None:
    """Called by the factory: the back office's blueprint, its CLI and its periodic task (scheduled publications)."""
    from editorial import analytics_views, cli, views, workflow  # noqa: F401  (analytics_views: routes on views.bp)
    from portal.tasks import register_periodic

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.editorial_cli)
    register_periodic(app, "editorial.publish_due", workflow.publish_due, every_seconds=20)
