"""The OpenAPI 3.1 document (/api/v1/openapi.json) and the readable page built from it (/developpeurs/api)."""

from __future__ import annotations

from html import unescape

from flask import url_for

from api import openapi


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_document_is_openapi_3_1_served_for_the_address_the_client_used(client):
    response = client.get("/api/v1/openapi.json", base_url="https://portail.example")
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "https://portail.example", "description": "Ce portail"}]
    assert document["info"]["title"] == "API du portail citoyen" and "Versions" in document["info"]["description"]
    assert document["components"]["securitySchemes"] == {}  # not null: validators refuse null


def test_every_route_of_the_api_is_documented_and_nothing_else(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    routes = {rule.rule.replace("<", "{").replace(">", "}") for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.")}
    assert set(document["paths"]) == routes
    assert {m for _, m, _ in _operations(document)} == {"get"}


def test_every_parameter_is_bounded_and_every_answer_described(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, _, operation in _operations(document):
        for parameter in operation["parameters"]:
            schema = parameter["schema"]
            if schema.get("type") == "integer":
                assert {"minimum", "maximum"} <= set(schema), (path, parameter["name"])
            assert parameter["description"]
        responses = operation["responses"]
        assert {"200", "304", "429"} <= set(responses), path
        assert "Retry-After" in responses["429"]["headers"] and "ETag" in responses["200"]["headers"]
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert "application/problem+json" in response["content"], (path, status)
        if path != "/api/v1/openapi.json":
            assert {"400", "404"} & set(responses) or path == "/api/v1/life-events", path


def test_the_schemas_admit_no_unknown_field_except_in_problems(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert schemas["Problem"]["additionalProperties"] is True  # RFC 9457 extension members
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail", "instance"}
    for name, schema in schemas.items():
        if schema.get("type") == "object" and name != "Problem":
            assert schema["additionalProperties"] is False, name


def test_the_document_is_built_in_python_and_cached_like_public_data(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.headers["Cache-Control"] == "public, max-age=300" and response.headers["ETag"]
    with app.test_request_context():
        assert openapi.document("http://x")["paths"] == openapi.document("http://y")["paths"]


def test_the_readable_page_says_what_the_document_says(app, client):
    response = client.get("/developpeurs/api")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = unescape(response.get_data(as_text=True))
    assert '<html lang="fr"' in html and "API publique du portail citoyen" in html
    document = client.get("/api/v1/openapi.json").get_json()
    for path, _, operation in _operations(document):
        assert f"GET {path}" in html and operation["summary"] in html
        for parameter in operation["parameters"]:
            if parameter["in"] != "header":
                assert parameter["description"] in html
    for words in ("application/problem+json", "Retry-After", "Access-Control-Allow-Origin", "If-None-Match",
                  "private, max-age=60", "public, max-age=300", "Deprecation", "Sunset", "six mois",
                  "id=\"lieu-introuvable\"", openapi.in_words(app.config["API_RATE_LIMIT"])):
        assert words in html, words
    for title, text in openapi.VERSIONING:
        assert title in html and text in html


def test_the_footer_links_to_the_page(app, client):
    with app.test_request_context():
        href = url_for("api_docs.reference")
    assert f'href="{href}"' in client.get("/").get_data(as_text=True)


def test_rate_limits_are_said_in_french():
    assert openapi.in_words("300 per minute") == "300 requêtes par minute"
    assert openapi.in_words("10 per 5 minutes") == "10 requêtes par 5 minutes"
    assert openapi.in_words("1000/hour") == "1000 requêtes par heure"
    assert openapi.in_words("3 per minute;100 per day") == "3 per minute;100 per day"  # as configured
