"""The public API /api/v1/: documented (OpenAPI 3.1), cached, rate-limited, CORS for registered mairies only."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Registers the API and its documentation page, and what every answer under /api/ carries.

    Called by the factory before ``portal.compression``: Flask runs after-request hooks in reverse
    order, so ``api.http.finish`` sees the bytes actually sent (its ETag differs for a gzip answer).
    """
    from api import http, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.docs)
    app.after_request(http.finish)
