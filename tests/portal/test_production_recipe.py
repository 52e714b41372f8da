"""The README's production recipe, followed as written, behind a TLS proxy played by the test.

The environment and the gunicorn command are read from the README itself, so
that the recipe cannot drift from what is tested. Only what cannot be the
same on this machine changes: the secrets the README leaves as "…", and the
database and index, which are the test session's (already migrated and
loaded, as the recipe's flask commands do), and the port of the Redis the
recipe names: a Redis server of the test's own, so that the counters start
empty and nothing else on the machine shares them.
"""

from __future__ import annotations

import json
import random
import secrets
import shlex
import urllib.error
import urllib.request

import pytest

from portal.benchserver import running_portal
from portal.config import ROOT
from portal.crypto import new_key
from tests.conftest import POSTGRES_SCHEMA, RedisServer

GUNICORN = ["gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"]


def recipe() -> tuple[dict[str, str], list[str]]:
    """The exported variables and the gunicorn command of the README's production block."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("En production, le portail refuse", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    env: dict[str, str] = {}
    command: list[str] = []
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            env.update(word.split("=", 1) for word in words[1:])
        elif words[:1] == ["gunicorn"]:
            command = words
    return env, command


def _filled(env: dict[str, str]) -> dict[str, str]:
    """The README's "…" placeholders, given test values."""
    filled = {}
    for name, value in env.items():
        if value == "...":
            value = {"SECRET_KEY": secrets.token_urlsafe(40),
                     "DATA_ENCRYPTION_KEYS": new_key()}.get(name, f"Valeur de test ({name})")
        filled[name] = value.replace("...", "example.gouv.fr")
    return filled


@pytest.fixture(scope="module")
def production(app):
    env, command = recipe()
    assert command == GUNICORN  # what running_portal starts
    env = _filled(env)
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    if database.startswith("postgresql"):
        database += f"?options=-csearch_path%3D{POSTGRES_SCHEMA}"
    env.update(DATABASE_URL=database, SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"])
    assert env["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    redis_server = RedisServer()
    env["RATELIMIT_STORAGE_URI"] = redis_server.url
    host = env["PUBLIC_URL"].removeprefix("https://")
    try:
        with running_portal(probe_host=host, **env) as base:
            yield base, host
    finally:
        redis_server.stop()


def _get(url: str, headers: dict[str, str]):
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30)
    except urllib.error.HTTPError as answer:
        return answer


def _through_proxy(host: str, citizen: str, forwarded_for: str | None = None) -> dict[str, str]:
    """What the TLS proxy sends on: the citizen's address appended, the scheme it was reached by."""
    return {"Host": host, "X-Forwarded-For": forwarded_for or citizen, "X-Forwarded-Proto": "https"}


def _address() -> str:
    return ".".join(["10", *(str(random.randrange(1, 255)) for _ in range(3))])


def test_the_recipe_starts_and_serves_over_https(production):
    base, host = production
    response = _get(f"{base}/api/v1/search?q=vol+de+papiers", _through_proxy(host, _address()))
    assert response.status == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    results = json.loads(response.read())["results"]
    assert results and all(r["url"].startswith(f"https://{host}/") for r in results)


def test_other_host_names_are_refused(production):
    base, host = production
    citizen = _address()
    assert _get(f"{base}/api/v1/search?q=vol", {**_through_proxy(host, citizen), "Host": "evil.example"}).status == 400
    # X-Forwarded-Host, which a proxy may pass through from the visitor, is not believed at all.
    forged = _get(f"{base}/api/v1/search?q=vol", {**_through_proxy(host, citizen), "X-Forwarded-Host": "evil.example"})
    assert forged.status == 200
    assert all(r["url"].startswith(f"https://{host}/") for r in json.loads(forged.read())["results"])


def test_each_citizen_has_a_budget_of_their_own_across_workers(production):
    """120 searches a minute each (SEARCH_RATE_LIMIT's default), counted in Redis for every worker."""
    base, host = production
    first, second = _address(), _address()
    statuses = [_get(f"{base}/api/v1/search?q=vol", _through_proxy(host, first)).status for _ in range(121)]
    assert statuses[:120] == [200] * 120 and statuses[120] == 429
    # What the citizen puts in X-Forwarded-For is not believed: the proxy's own addition is.
    spoofed = _through_proxy(host, first, forwarded_for=f"{second}, {first}")
    assert _get(f"{base}/api/v1/search?q=vol", spoofed).status == 429
    assert _get(f"{base}/api/v1/search?q=vol", _through_proxy(host, second)).status == 200
