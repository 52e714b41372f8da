"""Headers every response carries, and what a page may load."""

from __future__ import annotations

import re


def test_every_response_carries_a_strict_policy_with_a_fresh_nonce(client):
    first = client.get("/")
    second = client.get("/")
    csp = first.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert nonce != re.search(r"'nonce-([^']+)'", second.headers["Content-Security-Policy"]).group(1)
    for directive in ("default-src 'self'", f"script-src 'self' 'nonce-{nonce}'",
                      f"style-src 'self' 'nonce-{nonce}'", "img-src 'self' data:",
                      "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
                      "form-action 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    html = first.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)


def test_security_headers(client):
    for url in ("/", "/api/v1/search?q=vol", "/healthz", "/n-existe-pas"):
        headers = client.get(url).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")
        assert "camera=()" in headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in headers  # plain HTTP in tests


def test_hsts_over_https(client):
    headers = client.get("/", base_url="https://localhost").headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_htmx_is_configured_without_eval_script_tags_or_inline_styles(client):
    html = client.get("/").get_data(as_text=True)
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', html).group(1)
    for setting in ('"allowEval":false', '"allowScriptTags":false', '"includeIndicatorStyles":false',
                    '"selfRequestsOnly":true', '"historyCacheSize":0'):
        assert setting in config


def test_pages_load_nothing_from_another_origin(client):
    for url in ("/", "/demarches/thesee", "/recherche?q=vol", "/fiches/F1344"):
        html = client.get(url).get_data(as_text=True)
        for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", html):
            assert not re.search(r"(?:src|href)=\"(?:https?:)?//", tag), tag
