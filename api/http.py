"""What every answer of the API carries: CORS for registered mairies only, validators and caching.

Hand-written, a few lines: CORS is not access control here (the API is public and needs no credential),
it only lets a registered mairie's own pages read the answers from their JavaScript. No other site's
origin, nor ``null`` (sandboxed frames, local files), is ever echoed.
"""

from __future__ import annotations

import hashlib
import logging

from flask import Response, g, request
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from widgets import registry

PREFIX = "/api/"
# Public data, the same for everyone: shared caches may keep it five minutes.
PUBLIC = "public, max-age=300"
# A search or a place can say something about the person who typed it: their own browser only.
PRIVATE = "private, max-age=60"
PREFLIGHT_MAX_AGE = "600"
# What a mairie's script may read besides the CORS-safelisted headers.
EXPOSED = "ETag, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Deprecation, Sunset"
log = logging.getLogger(__name__)


def cache_for(policy: str) -> None:
    """This request's successful answer may be cached with ``policy`` (PUBLIC or PRIVATE) and revalidated."""
    g.api_cache = policy


def allowed_origin() -> str | None:
    """The request's ``Origin`` when it is an active registered mairie origin, else None (never ``null``)."""
    origin = request.headers.get("Origin", "")
    if not origin or origin == "null":
        return None
    try:
        origins = registry.current(db.session).origins
    except SQLAlchemyError:  # the database is down: no CORS rather than no answer
        log.warning("api: mairie origins unavailable, no CORS on this answer")
        return None
    return origin if origin in origins else None


def add_cors(response: Response) -> Response:
    response.vary.add("Origin")
    origin = allowed_origin()
    if origin is None:
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        # A preflight: GET is all the API answers; If-None-Match lets a script revalidate what it kept.
        response.headers["Access-Control-Allow-Methods"] = "GET"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def add_validators(response: Response) -> Response:
    """A strong ETag (hash of the bytes sent, so a gzip answer has its own) and 304 on If-None-Match.

    Runs after ``portal.compression`` (registered before it: Flask runs after-request hooks in reverse).
    """
    policy = g.get("api_cache")
    if policy is None or response.status_code != 200 or request.method not in ("GET", "HEAD"):
        return response
    response.headers["Cache-Control"] = policy
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    return response.make_conditional(request)


def finish(response: Response) -> Response:
    """Every answer under /api/ (errors and unknown paths included): CORS, then caching."""
    if not request.path.startswith(PREFIX):
        return response
    add_cors(response)
    if response.status_code >= 400:
        response.headers["Cache-Control"] = "no-store"  # an error is no answer to keep
        return response
    return add_validators(response)
