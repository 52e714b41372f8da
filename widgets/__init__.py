"""Widgets: what mairies embed in their own sites (five widgets, the loader, the builder page), and who may."""

from __future__ import annotations

from flask import Flask

from widgets import models  # noqa: F401  (the tables, for the metadata and migrations)


def init_app(app: Flask) -> None:
    """Called by the factory: the widgets and their loader, the builder page /mairies, the console's mairies."""
    from widgets import admin_views, builder, views

    app.register_blueprint(views.bp)
    app.register_blueprint(builder.bp)
    app.register_blueprint(admin_views.bp)
