"""One trusted address: security.txt, robots.txt, the legal pages and the page on fake messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests

import accounts.codes
from catalogue.loader import read_content
from portal import views
from portal.config import LEGAL_SETTINGS, ConfigError, load_settings
from portal.security import limiter
from search import services as search
from tests.accounts.conftest import Browser
from tests.conftest import make_app

SCAM_PAGE = "/demarches/reconnaitre-message-officiel"
FOOTER_LINKS = ("/mentions-legales", "/donnees-personnelles", "/gestion-des-cookies", SCAM_PAGE)
# Values a route's converters get when the tests walk the URL map.
SAMPLE_ARGS = {"slug": "plainte-en-ligne", "station_id": "gendarmerie-01281-01", "code": "72",
               "public": "css/portal.css"}


def _text(html: str) -> str:
    """The main content as text, entities decoded, spaces collapsed."""
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    text = re.sub(r"<[^>]+>", " ", main).replace("&#39;", "'").replace("&amp;", "&")
    return re.sub(r"\s+", " ", text)


# -- security.txt (RFC 9116) ---------------------------------------------------------------


def _fields(body: str) -> list[tuple[str, str]]:
    fields = []
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition(": ")
        assert re.fullmatch(r"[A-Za-z-]+", name) and value, f"not a field line: {line!r}"
        fields.append((name, value))
    return fields


def test_security_txt_follows_rfc_9116(client, app):
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Set-Cookie" not in response.headers
    fields = _fields(response.get_data(as_text=True))
    names = [n for n, _ in fields]
    assert names.count("Expires") == 1 and names.count("Preferred-Languages") == 1
    values = dict(fields)
    assert [v for n, v in fields if n == "Contact"] == ["mailto:securite@portail-citoyen.local"]
    expires = datetime.fromisoformat(values["Expires"])
    assert values["Expires"].endswith("Z") and expires.tzinfo is not None
    now = datetime.now(UTC)
    assert now < expires <= now + timedelta(days=365)
    assert values["Canonical"] == app.config["PUBLIC_URL"] + "/.well-known/security.txt"
    assert values["Preferred-Languages"] == "fr"


def test_security_txt_takes_its_fields_from_the_configuration(tmp_path):
    expires = (datetime.now(UTC) + timedelta(days=90)).replace(microsecond=0)
    portal = make_app(tmp_path, SECURITY_CONTACT="securite@example.org, https://example.org/faille",
                      SECURITY_TXT_EXPIRES=expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      SECURITY_TXT_LANGUAGES="fr,en", PUBLIC_URL="https://portail.example.org")
    fields = _fields(portal.test_client().get("/.well-known/security.txt").get_data(as_text=True))
    assert [v for n, v in fields if n == "Contact"] == ["mailto:securite@example.org",
                                                        "https://example.org/faille"]
    values = dict(fields)
    assert datetime.fromisoformat(values["Expires"]) == expires
    assert values["Preferred-Languages"] == "fr, en"
    assert values["Canonical"] == "https://portail.example.org/.well-known/security.txt"


@pytest.mark.parametrize("setting, value", [
    ("SECURITY_CONTACT", "javascript:alert(1)"),
    ("SECURITY_CONTACT", "http://example.org/faille"),
    ("SECURITY_TXT_EXPIRES", "pas une date"),
    ("SECURITY_TXT_EXPIRES", "2020-01-01"),
    ("SECURITY_TXT_EXPIRES", (datetime.now(UTC) + timedelta(days=400)).date().isoformat()),
    ("SECURITY_TXT_LANGUAGES", "fr; en"),
    ("PRIVACY_CONTACT", "le délégué"),
])
def test_unusable_trust_settings_refuse_to_start(tmp_path, setting, value):
    with pytest.raises(ConfigError, match=setting):
        load_settings(tmp_path, {"PORTAL_ENV": "test", "SECRET_KEY": "k" * 40, setting: value})


def test_production_requires_every_legal_identity(tmp_path, monkeypatch):
    for name in LEGAL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_ENV", "production")
    with pytest.raises(ConfigError) as refused:
        load_settings(tmp_path)
    for name in LEGAL_SETTINGS:
        assert name in str(refused.value)
    for name in LEGAL_SETTINGS:
        monkeypatch.setenv(name, "dpo@example.org" if name.endswith("CONTACT") else "Valeur réelle")
    try:
        load_settings(tmp_path)
    except ConfigError as other:  # what other settings production needs is not this test's business
        assert not any(name in str(other) for name in LEGAL_SETTINGS), str(other)


# -- robots.txt ---------------------------------------------------------------------------


def _robots_rules(body: str) -> list[tuple[bool, str]]:
    """The (allow?, pattern) rules of the group for every crawler."""
    rules, applies = [], False
    for line in body.splitlines():
        name, _, value = (part.strip() for part in line.partition(":"))
        if name.lower() == "user-agent":
            applies = value == "*"
        elif applies and name.lower() in ("allow", "disallow") and value:
            rules.append((name.lower() == "allow", value))
    return rules


def _matches(pattern: str, path: str) -> bool:
    """RFC 9309 matching: a prefix, with * for any characters and a final $ for the end."""
    anchored = pattern.endswith("$")
    regex = "".join(".*" if c == "*" else re.escape(c) for c in pattern.rstrip("$"))
    return re.match(regex + ("$" if anchored else ""), path) is not None


def _disallowed(rules: list[tuple[bool, str]], path: str) -> bool:
    """The longest matching rule decides; on a tie, Allow wins (RFC 9309, 2.2.2)."""
    found = [(len(p), allow) for allow, p in rules if _matches(p, path)]
    if not found:
        return False
    longest = max(length for length, _ in found)
    return not any(allow for length, allow in found if length == longest)


def _sample_path(rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: SAMPLE_ARGS.get(m.group(1), "x"), rule.rule)


@pytest.fixture
def robots(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    return _robots_rules(response.get_data(as_text=True))


def test_robots_txt_hides_every_sign_in_and_personal_route(app, robots):
    account_routes = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("accounts.")]
    assert len(account_routes) >= 10
    for rule in account_routes:
        assert _disallowed(robots, _sample_path(rule)), rule.rule


def test_robots_txt_hides_every_page_that_asks_to_sign_in(app, client, robots):
    """Walk the URL map: any page that sends an anonymous visitor to sign in is not crawled."""
    asking = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        limiter.reset()
        path = _sample_path(rule)
        response = client.get(path)
        location = urlsplit(response.headers.get("Location", "")).path
        if response.status_code in (301, 302, 303, 307) and location.startswith("/connexion"):
            asking.append(path)
            assert _disallowed(robots, path), path
    assert "/demarches/plainte-en-ligne/commencer" in asking


@pytest.mark.parametrize("path", ["/", "/demarches/", "/demarches/thesee", SCAM_PAGE, "/fiches/F1344",
                                  "/situations/violences", "/commissariats", "/commissariats/departement/72",
                                  "/sources", "/accessibilite", *FOOTER_LINKS[:3],
                                  "/.well-known/security.txt"])
def test_robots_txt_lets_public_pages_be_indexed(robots, path):
    assert not _disallowed(robots, path)


def test_the_robots_matcher_follows_rfc_9309():
    rules = [(False, "/demarches/*/commencer"), (False, "/connexion"), (True, "/connexion/aide$")]
    assert _disallowed(rules, "/demarches/thesee/commencer")
    assert not _disallowed(rules, "/demarches/thesee")
    assert _disallowed(rules, "/connexion/email/code")
    assert not _disallowed(rules, "/connexion/aide")
    assert _disallowed(rules, "/connexion/aide/plus")


# -- The legal pages ------------------------------------------------------------------------


@pytest.mark.parametrize("path, title", [
    ("/mentions-legales", "Mentions légales"),
    ("/donnees-personnelles", "Données personnelles"),
    ("/gestion-des-cookies", "Gestion des cookies"),
    (SCAM_PAGE, "Reconnaître un message officiel et signaler une arnaque"),
])
def test_each_page_renders_with_its_title_and_the_footer_links(client, path, title):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"<title>{title} — Portail citoyen</title>" in html
    assert f"<h1>{title}</h1>" in html
    footer = html.split('<footer class="fr-footer"', 1)[1]
    for link in FOOTER_LINKS:
        assert f'class="fr-footer__bottom-link" href="{link}"' in footer


def test_every_page_links_the_trust_pages_from_its_footer(client):
    for path in ("/", "/recherche?q=vol", "/demarches/thesee", "/n-existe-pas"):
        html = client.get(path).get_data(as_text=True)
        for link in FOOTER_LINKS:
            assert f'href="{link}"' in html.split('<footer class="fr-footer"', 1)[1], (path, link)


def test_the_legal_notice_names_who_publishes_and_hosts_from_the_configuration(tmp_path):
    portal = make_app(tmp_path, PUBLISHER_NAME="Ministère de l'Exemple", PUBLISHER_ADDRESS="1 place de l'Exemple",
                      PUBLICATION_DIRECTOR="La directrice de l'Exemple", HOSTING_PROVIDER="Hébergeur Exemple",
                      HOSTING_ADDRESS="2 rue de l'Hôte, 01 23 45 67 89", SECURITY_CONTACT="securite@example.org",
                      PUBLIC_URL="https://portail.example.org")
    text = _text(portal.test_client().get("/mentions-legales").get_data(as_text=True))
    for value in ("Ministère de l'Exemple", "1 place de l'Exemple", "La directrice de l'Exemple",
                  "Hébergeur Exemple", "2 rue de l'Hôte, 01 23 45 67 89", "https://portail.example.org",
                  "securite@example.org"):
        assert value in text
    assert "valeurs locales" in text  # not production: the page says so


def test_outside_production_the_legal_values_are_labelled_local(client):
    text = _text(client.get("/mentions-legales").get_data(as_text=True))
    assert "Instance de développement" in text
    assert text.count("(instance de développement locale)") >= 3
    html = client.get("/mentions-legales").get_data(as_text=True)
    assert 'href="mailto:securite@portail-citoyen.local"' in html
    assert 'href="/.well-known/security.txt"' in html and f'href="{SCAM_PAGE}"' in html


def test_the_personal_data_page_says_what_the_code_does(client, app):
    html = client.get("/donnees-personnelles").get_data(as_text=True)
    text = _text(html)
    # FranceConnect: every scope asked for is named, and where the identity lives.
    for scope in app.config["FRANCECONNECT_SCOPES"].split():
        assert views.SCOPE_LABELS[scope] in text, scope
    assert "30 minutes sans activité" in text and "12 heures au plus" in text
    assert "Votre identité n'est inscrite ni dans votre compte ni dans un cookie" in text
    # E-mail codes: the numbers are accounts.codes' own.
    minutes = int(accounts.codes.CODE_LIFETIME.total_seconds() // 60)
    assert f"valable {minutes} minutes et pour {accounts.codes.MAX_ATTEMPTS} essais" in text
    assert "empreinte" in text and "6 chiffres" in text
    # Rate limits, logs, rights, contact.
    assert "10 minutes au plus" in text and "sur 10 minutes" in text
    assert "ni vos recherches" in text
    assert "tile.openstreetmap.org" in text
    assert 'href="mailto:donnees-personnelles@portail-citoyen.local"' in html
    assert 'href="https://www.cnil.fr/fr/plaintes"' in html
    assert "(RGPD)" in text


def test_the_personal_data_page_follows_the_configuration(tmp_path):
    portal = make_app(tmp_path, SESSION_IDLE_MINUTES=20, SESSION_ABSOLUTE_HOURS=8,
                      LOGIN_CODE_RATE_LIMIT="3 per 15 minutes", FRANCECONNECT_SCOPES="openid given_name family_name",
                      PRIVACY_CONTACT="https://example.org/donnees", LOG_RETENTION="6 mois")
    html = portal.test_client().get("/donnees-personnelles").get_data(as_text=True)
    text = _text(html)
    assert "20 minutes sans activité" in text and "8 heures au plus" in text
    assert "sur 15 minutes" in text and "15 minutes au plus" in text
    assert "vos prénoms" in text and "votre date de naissance" not in text
    assert 'href="https://example.org/donnees"' in html
    assert "Combien de temps : 6 mois." in text


def _cookie_names(response) -> set[str]:
    return {header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie")}


def test_every_cookie_a_sign_in_sets_is_on_the_cookies_page(app, local_fc, db_session):
    """Sign in with FranceConnect as a citizen does, and collect every cookie the portal sets on the way.

    FranceConnect's own cookies belong to its site (in development, the local FranceConnect's to
    127.0.0.1:5001): the portal's page lists the portal's."""
    limiter.reset()
    parts = urlsplit(local_fc.issuer)
    browser = Browser(app.test_client(), requests.Session(), f"{parts.scheme}://{parts.netloc}")
    portal = browser.portal
    seen = _cookie_names(portal.get("/connexion"))
    original_get = portal.get

    def recording_get(*args, **kwargs):
        response = original_get(*args, **kwargs)
        seen.update(_cookie_names(response))
        return response

    portal.get = recording_get
    callback = browser.pick_identity(browser.start_franceconnect())
    assert browser.come_back(callback).status_code in (302, 303)
    assert portal.get("/mon-espace").status_code == 200
    assert seen, "a sign-in sets at least the session cookie"
    text = _text(app.test_client().get("/gestion-des-cookies").get_data(as_text=True))
    for name in seen:
        assert name in text, name


def test_the_cookies_page_lists_only_strictly_necessary_cookies(client, app):
    text = _text(client.get("/gestion-des-cookies").get_data(as_text=True))
    assert "strictement nécessaires" in text and "aucun bandeau" in text
    assert app.session_interface.get_cookie_name(app) in text
    assert "30 minutes sans activité" in text and "12 heures" in text
    assert "scheme" in text  # what the design system keeps in local storage


def test_the_scam_page_cites_its_official_sources(client):
    html = client.get(SCAM_PAGE).get_data(as_text=True)
    text = _text(html)
    for fiche in ("F34800", "F34276", "F33267", "F31979", "F1435", "F32803"):
        assert f'href="https://www.service-public.fr/particuliers/vosdroits/{fiche}"' in html, fiche
    for fact in ("Aucune administration ne vous demande vos données bancaires ou votre mot de passe",
                 "33 700", "Pharos", "THESEE", "Signal Spam", "Porter plainte est gratuit", "amendes.gouv.fr",
                 "en tapant son adresse vous-même", "elle doit commencer par https://"):
        assert fact in text, fact
    assert 'href="https://www.internet-signalement.gouv.fr"' in html
    assert 'href="tel:0805805817"' in html


def test_the_online_scam_situation_offers_the_scam_page(client):
    html = client.get("/situations/arnaque-escroquerie").get_data(as_text=True)
    assert f'href="{SCAM_PAGE}"' in html


@pytest.mark.parametrize("query", [
    "j'ai reçu un sms de la police qui me demande de payer une amende",
    "courriel de la gendarmerie pour une amende",
    "message suspect de la gendarmerie",
    "sms frauduleux amende",
    "est-ce un vrai message de la police",
    "spam vocal",
    # The issue's own examples.
    "faux sms police",
    "mail gendarmerie amende",
])
def test_the_search_finds_the_scam_page_first(app, query):
    with app.app_context():
        hits = search.search(query, limit=3).hits
    assert hits and hits[0].slug == "reconnaitre-message-officiel", [h.slug for h in hits]


def test_the_scam_page_takes_no_other_procedure_s_own_words(app):
    """Each procedure's title and keywords still find that procedure, never the scam page, first."""
    _, procedures, _ = read_content()
    taken = []
    with app.app_context():
        for entry in procedures:
            if entry["slug"] == "reconnaitre-message-officiel":
                continue
            for query in [entry["title"], *map(str, entry.get("keywords", []))]:
                hits = search.search(query, limit=1).hits
                if hits and hits[0].slug == "reconnaitre-message-officiel":
                    taken.append((entry["slug"], query))
    assert taken == []
