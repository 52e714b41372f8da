"""What a citizen searches for is never written to a log.

The portal itself never logs a query. Werkzeug's own server (``flask run``,
the test suite's live server) logs every request line, query string
included: its lines for the search's addresses keep the path and lose the
query. gunicorn runs without an access log (Makefile, README).
"""

from __future__ import annotations

import logging
import re

SEARCH_PATHS = ("/recherche", "/api/v1/search")
REDACTED = "[redacted]"
# "GET /recherche?q=mon+mari HTTP/1.1": everything from "?" to the protocol.
_PATHS = "|".join(re.escape(p) for p in SEARCH_PATHS)
_REQUEST_LINE = re.compile(rf"(?P<path>{_PATHS})\?[^\"]*?(?=\s+HTTP/|\"|$)")


def redact(message: str) -> str:
    """A log line with the query string of every search address replaced by ``REDACTED``."""
    return _REQUEST_LINE.sub(lambda m: f"{m.group('path')}?{REDACTED}", message)


class SearchQueryFilter(logging.Filter):
    """Removes the query string of search addresses from a logger's records."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is another handler's business
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install_log_filter(logger_name: str = "werkzeug") -> None:
    """Filter the request log of Werkzeug's server (idempotent: one filter per logger)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, SearchQueryFilter) for f in logger.filters):
        logger.addFilter(SearchQueryFilter())
