"""The application factory: ``flask --app app`` and ``gunicorn app:app`` find it here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

import accounts
import accounts.cli
import accounts.views
import catalogue.cli
import catalogue.views
import portal.views
import search.cli
import search.services
import search.views
from portal import assets, compression, errors, extensions, security, templating
from portal.config import load_settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    # No plain /static route: every file is served fingerprinted by portal.assets.
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.config.from_mapping(load_settings(app.instance_path, config))

    extensions.init_app(app)
    accounts.init_app(app)
    search.services.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    compression.init_app(app)
    templating.init_app(app)

    app.register_blueprint(portal.views.bp)
    app.register_blueprint(catalogue.views.bp)
    app.register_blueprint(search.views.bp)
    app.register_blueprint(accounts.views.bp)

    errors.init_app(app)
    app.cli.add_command(catalogue.cli.catalogue_cli)
    app.cli.add_command(search.cli.search_cli)
    app.cli.add_command(accounts.cli.accounts_cli)
    return app


def __getattr__(name: str) -> Flask:
    """Build the module-level ``app`` on first use, so importing the factory configures nothing."""
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
