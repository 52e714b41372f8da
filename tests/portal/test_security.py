"""Headers every response carries, and what a page may load."""

from __future__ import annotations

import re

from tests.conftest import make_app


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


def test_forwarded_headers_count_only_behind_a_trusted_proxy(client, tmp_path):
    spoofed = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in spoofed.headers
    behind_proxy = make_app(tmp_path, TRUSTED_PROXIES=1).test_client()
    forwarded = behind_proxy.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in forwarded.headers


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


def test_csp_reports_are_logged_without_personal_data(client, caplog):
    report = {"csp-report": {
        "document-uri": "http://localhost/recherche?q=mon+mari+me+bat",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "blocked-uri": "https://evil.example/x.js?token=secret",
    }}
    with caplog.at_level("WARNING", logger="portal.views"):
        response = client.post("/csp-report", json=report, headers={"Content-Type": "application/csp-report"})
    assert response.status_code == 204
    (record,) = [r for r in caplog.records if "csp violation" in r.getMessage()]
    message = record.getMessage()
    assert "page=/recherche" in message and "script-src-elem" in message
    assert "blocked=https://evil.example" in message
    assert "mari" not in message and "secret" not in message and "x.js" not in message


def test_csp_reports_in_the_reporting_api_format(client, caplog):
    reports = [{"type": "csp-violation", "url": "http://localhost/", "body": {
        "documentURL": "http://localhost/", "effectiveDirective": "style-src-attr", "blockedURL": "inline"}}]
    with caplog.at_level("WARNING", logger="portal.views"):
        assert client.post("/csp-report", json=reports).status_code == 204
    assert any("style-src-attr" in r.getMessage() for r in caplog.records)


def test_csp_report_endpoint_refuses_oversized_bodies_and_ignores_junk(client):
    assert client.post("/csp-report", data="x" * 20_000).status_code == 413
    assert client.post("/csp-report", data="not json").status_code == 204
    assert client.get("/csp-report").status_code == 405


def test_the_policy_names_its_report_endpoint(client):
    headers = client.get("/").headers
    assert "report-uri /csp-report" in headers["Content-Security-Policy"]
    assert headers["Reporting-Endpoints"] == 'csp="/csp-report"'


def test_only_pages_with_a_form_to_franceconnect_may_submit_there(app, client):
    from urllib.parse import urlsplit

    issuer = urlsplit(app.config["FRANCECONNECT_ISSUER"])
    origin = f"{issuer.scheme}://{issuer.netloc}"
    assert f"form-action 'self' {origin}" in client.get("/connexion").headers["Content-Security-Policy"]
    assert origin not in client.get("/").headers["Content-Security-Policy"]


def test_a_nul_character_anywhere_is_a_clear_400(client):
    for url in ("/commissariats?q=72%0000", "/recherche?q=vol%00", "/api/v1/search?q=%00", "/demarches/a%00b",
                "/api/v1/stations/nearest?q=lyon&type=%00"):
        response = client.get(url)
        assert response.status_code == 400, url
    page = client.get("/connexion")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    refused = client.post("/connexion/email", data={"csrf_token": token, "email": "a\x00b@example.fr"})
    assert refused.status_code == 400 and "caractère nul" in refused.get_data(as_text=True)
