"""Agents: officers, editors, reviewers and administrators, who sign in at /agents apart from citizens."""

from __future__ import annotations

from flask import Flask

from agents import models  # noqa: F401  (the tables, for the metadata and migrations)


def init_app(app: Flask) -> None:
    """Called by the factory: the agents' blueprint, the guard of /agents/, their headers and CLI."""
    from agents import access, cli, proconnect, services, views

    app.register_blueprint(views.bp)
    proconnect.init_app(app)
    app.before_request(access.refuse_non_agents)
    app.after_request(access.agent_page_headers)
    app.add_template_global(services.current_agent, "current_agent")
    app.add_template_global(services.current_unit_name, "current_unit_name")
    app.cli.add_command(cli.agents_cli)
