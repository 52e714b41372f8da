"""The catalogue: procedures, service-public.fr fiches and life events, their pages and API."""

from __future__ import annotations

from flask import Flask

from catalogue.markdown import render as markdown
from catalogue.text import blocks


def init_app(app: Flask) -> None:
    app.jinja_env.filters["blocks"] = blocks
    # The portal's own procedures: editors' restricted Markdown, sanitised (catalogue.markdown).
    app.jinja_env.filters["markdown"] = markdown
