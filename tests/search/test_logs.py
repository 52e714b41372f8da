"""What a citizen searches for never reaches a log: not the portal's, not the server's."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from urllib.parse import quote, quote_plus, urlencode

from search.privacy import redact
from tests.conftest import LiveServer, make_app

QUERY = "mon mari me frappe zorglub"
REQUESTS = [
    ("/recherche", {"q": QUERY}, {}),
    ("/recherche", {"q": QUERY}, {"HX-Request": "true"}),
    ("/recherche", {"q": QUERY, "apercu": "1"}, {"HX-Request": "true"}),
    ("/recherche", {"q": QUERY, "page": "0"}, {}),                  # 400
    ("/recherche", {"q": QUERY, "page": "101"}, {"HX-Request": "true"}),
    ("/api/v1/search", {"q": QUERY}, {}),
    ("/api/v1/search", {"q": QUERY, "limit": "0"}, {}),             # 400
    ("/api/v1/search", {"q": QUERY, "offset": "-3"}, {}),           # 400
]


def _leaks(records: list[logging.LogRecord]) -> list[str]:
    forms = {"zorglub", quote(QUERY), quote_plus(QUERY)}
    leaks = []
    for record in records:
        text = f"{record.getMessage()} {record.exc_text or ''} {record.stack_info or ''}"
        if any(form in text for form in forms):
            leaks.append(f"{record.name}: {text}")
    return leaks


def _http_get(base: str, path: str, params: dict, headers: dict) -> int:
    request = urllib.request.Request(f"{base}{path}?{urlencode(params)}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_search_never_writes_the_query_into_a_log(app, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)  # every logger, every level: SQL statements included
    client = app.test_client()
    codes = [client.get(path, query_string=params, headers=headers).status_code
             for path, params, headers in REQUESTS]
    assert codes == [200, 200, 200, 400, 400, 200, 400, 400]

    # The index unreadable: 503 for the page and the API.
    broken = make_app(tmp_path, SEARCH_INDEX_DIR=str(tmp_path / "nothing")).test_client()
    assert broken.get("/recherche", query_string={"q": QUERY}).status_code == 503
    assert broken.get("/api/v1/search", query_string={"q": QUERY}).status_code == 503

    # Over real HTTP, through Werkzeug's server and its request log.
    server = LiveServer(app)
    try:
        codes = [_http_get(server.url, path, params, headers) for path, params, headers in REQUESTS[:3]]
    finally:
        server.stop()
    assert codes == [200, 200, 200]

    assert any(r.name == "werkzeug" and "/recherche?" in r.getMessage() for r in caplog.records), \
        "the server's request log was not captured: the test would prove nothing"
    assert any(r.levelno == logging.ERROR for r in caplog.records), "the 503 was not logged at all"
    assert _leaks(caplog.records) == []


def test_only_the_query_of_search_addresses_is_removed():
    line = '127.0.0.1 - - [01/Dec/2026 10:00:00] "GET /recherche?q=viol&page=2 HTTP/1.1" 200 -'
    assert redact(line) == '127.0.0.1 - - [01/Dec/2026 10:00:00] "GET /recherche?[redacted] HTTP/1.1" 200 -'
    assert redact('"GET /api/v1/search?q=viol HTTP/1.1" 400 -') == '"GET /api/v1/search?[redacted] HTTP/1.1" 400 -'
    assert redact('"GET /recherche HTTP/1.1" 200 -') == '"GET /recherche HTTP/1.1" 200 -'
    assert redact('"GET /commissariats?q=72000 HTTP/1.1" 200 -') == '"GET /commissariats?q=72000 HTTP/1.1" 200 -'
