"""The application factory and its configuration paths."""

from __future__ import annotations

import importlib

import pytest
from flask.cli import find_best_app

import app as app_module
from app import create_app
from portal.config import ConfigError, load_settings


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db.example/portal")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(tmp_path)
    assert not (tmp_path / "secret_key").exists()  # no development key left behind on a production host


def test_production_refuses_to_start_without_a_database_url(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings(tmp_path)


def test_unknown_environment_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "staging")
    with pytest.raises(ConfigError, match="PORTAL_ENV"):
        load_settings(tmp_path)


def test_development_defaults_are_embedded_and_local(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "SECRET_KEY", "SEARCH_INDEX_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_ENV", "development")
    settings = load_settings(tmp_path)
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'portal.db'}"
    assert settings["SEARCH_INDEX_DIR"] == str(tmp_path / "search-index")
    assert settings["SESSION_COOKIE_SECURE"] is False
    # The generated key is kept, private, and reused on the next start.
    key_file = tmp_path / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert load_settings(tmp_path)["SECRET_KEY"] == settings["SECRET_KEY"]


PRODUCTION_ENV = {
    "PORTAL_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "DATABASE_URL": "postgresql+psycopg://db.example/portal",
    "PUBLIC_URL": "https://portail.example.gouv.fr",
    "FRANCECONNECT_ISSUER": "https://oidc.franceconnect.gouv.fr/api/v2",
    "FRANCECONNECT_CLIENT_ID": "client-de-production",
    "FRANCECONNECT_CLIENT_SECRET": "secret-de-production",
    "TRUSTED_PROXIES": "1",
    "DATA_ENCRYPTION_KEYS": "Y2xlLWRlLXRlc3QtMzItb2N0ZXRzLXBvdXItdGVzdHM",
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    "MAIL_BACKEND": None,
    "MAIL_USE_TLS": None,
    "MAIL_USE_SSL": None,
    "PUBLISHER_NAME": "Ministère de l'Intérieur", "PUBLISHER_ADDRESS": "Place Beauvau, 75008 Paris",
    "PUBLICATION_DIRECTOR": "Direction de la publication", "HOSTING_PROVIDER": "Hébergeur",
    "HOSTING_ADDRESS": "Adresse, téléphone", "LOG_RETENTION": "6 mois", "PRIVACY_CONTACT": "dpo@example.org",
    "SECURITY_CONTACT": "mailto:securite@example.org",
    "VIDEO_URL_TEMPLATE": "https://visio.example.gouv.fr/{room}",
    "MAIRIES_CONTACT": "widgets@portail.example.gouv.fr",
}


def _production(monkeypatch, **changes):
    for name, value in {**PRODUCTION_ENV, **changes}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def test_production_refuses_to_start_on_the_local_franceconnect(tmp_path, monkeypatch):
    for issuer in ("http://127.0.0.1:5001/api/v2", "https://localhost/api/v2", "http://oidc.example/api/v2"):
        _production(monkeypatch, FRANCECONNECT_ISSUER=issuer)
        with pytest.raises(ConfigError, match="FranceConnect local"):
            load_settings(tmp_path)
    _production(monkeypatch, FRANCECONNECT_CLIENT_SECRET="secret-du-franceconnect-local-ne-pas-utiliser-en-production")
    with pytest.raises(ConfigError, match="FranceConnect local"):
        load_settings(tmp_path)
    _production(monkeypatch, FRANCECONNECT_CLIENT_ID=None)
    with pytest.raises(ConfigError, match="FRANCECONNECT_CLIENT_ID"):
        load_settings(tmp_path)


def test_the_production_settings_of_the_tests_are_accepted(tmp_path, monkeypatch):
    _production(monkeypatch)
    settings = load_settings(tmp_path)
    assert settings["MAIL_BACKEND"] == "smtp" and settings["MAIL_USE_TLS"] is True
    assert settings["TRUSTED_HOSTS"] == ["portail.example.gouv.fr"]


@pytest.mark.parametrize(("changes", "named"), [
    ({"TRUSTED_PROXIES": None}, "TRUSTED_PROXIES"),
    ({"RATELIMIT_STORAGE_URI": None}, "RATELIMIT_STORAGE_URI"),
    ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI"),
    ({"MAIL_BACKEND": "outbox"}, "MAIL_BACKEND"),
    ({"MAIL_USE_TLS": "false"}, "MAIL_USE_TLS"),
    ({"PUBLIC_URL": "http://portail.example.gouv.fr"}, "PUBLIC_URL"),
    ({"SECRET_KEY": "trop-courte"}, "SECRET_KEY"),
    ({"SESSION_COOKIE_SECURE": "0"}, "SESSION_COOKIE_SECURE"),
    ({"TRUSTED_PROXIES": "un"}, "TRUSTED_PROXIES"),
    ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES"),
    ({"MAIL_CA_FILE": "/n-existe/pas.pem"}, "MAIL_CA_FILE"),
    ({"DATA_ENCRYPTION_KEYS": None}, "DATA_ENCRYPTION_KEYS"),
    ({"DATA_ENCRYPTION_KEYS": "trop-courte"}, "DATA_ENCRYPTION_KEYS"),
    ({"VIDEO_URL_TEMPLATE": None}, "VIDEO_URL_TEMPLATE"),  # the development value, https://visio.invalid/{room}
    ({"VIDEO_URL_TEMPLATE": "https://visio.invalid/{room}"}, "VIDEO_URL_TEMPLATE"),
    ({"VIDEO_URL_TEMPLATE": "http://visio.example.gouv.fr/{room}"}, "VIDEO_URL_TEMPLATE"),
    ({"MAIRIES_CONTACT": None}, "MAIRIES_CONTACT"),
    ({"MAIRIES_CONTACT": "  "}, "MAIRIES_CONTACT"),
])
def test_production_refuses_what_is_unsafe_there(tmp_path, monkeypatch, changes, named):
    _production(monkeypatch, **changes)
    with pytest.raises(ConfigError, match=named):
        load_settings(tmp_path)


PROCONNECT = {"AGENTS_OIDC_ISSUER": "https://proconnect.gouv.fr/api/v2", "AGENTS_OIDC_CLIENT_ID": "espace-agents",
              "AGENTS_OIDC_CLIENT_SECRET": "secret-proconnect-de-production"}


def test_production_accepts_proconnect_for_the_agents(tmp_path, monkeypatch):
    _production(monkeypatch, **PROCONNECT)
    assert load_settings(tmp_path)["AGENTS_OIDC_ISSUER"] == "https://proconnect.gouv.fr/api/v2"
    _production(monkeypatch, AGENTS_OIDC_ISSUER=None, AGENTS_OIDC_CLIENT_ID=None, AGENTS_OIDC_CLIENT_SECRET=None)
    assert load_settings(tmp_path)["AGENTS_OIDC_ISSUER"] == ""  # optional: the password + TOTP sign-in then


@pytest.mark.parametrize(("changes", "named"), [
    ({"AGENTS_OIDC_ISSUER": "http://proconnect.gouv.fr/api/v2"}, "AGENTS_OIDC_ISSUER"),
    ({"AGENTS_OIDC_ISSUER": "http://127.0.0.1:5001/api/v2"}, "AGENTS_OIDC_ISSUER"),
    ({"AGENTS_OIDC_ISSUER": "https://localhost/api/v2"}, "AGENTS_OIDC_ISSUER"),
    ({"AGENTS_OIDC_CLIENT_ID": None}, "AGENTS_OIDC_CLIENT_ID"),
    ({"AGENTS_OIDC_CLIENT_SECRET": None}, "AGENTS_OIDC_CLIENT_SECRET"),
    ({"AGENTS_OIDC_CLIENT_SECRET": "secret-du-franceconnect-local-ne-pas-utiliser-en-production"},
     "AGENTS_OIDC_CLIENT_SECRET"),
])
def test_production_refuses_an_unsafe_proconnect(tmp_path, monkeypatch, changes, named):
    _production(monkeypatch, **{**PROCONNECT, **changes})
    with pytest.raises(ConfigError, match=f"- {named}"):
        load_settings(tmp_path)


def test_smtp_over_implicit_tls_is_accepted_in_production(tmp_path, monkeypatch):
    _production(monkeypatch, MAIL_USE_TLS="false", MAIL_USE_SSL="true")
    assert load_settings(tmp_path)["MAIL_USE_SSL"] is True


def test_one_error_lists_every_problem(tmp_path, monkeypatch):
    _production(monkeypatch, SECRET_KEY=None, DATABASE_URL=None, TRUSTED_PROXIES=None, RATELIMIT_STORAGE_URI=None,
                MAIL_BACKEND="outbox", FRANCECONNECT_ISSUER="http://127.0.0.1:5001/api/v2")
    with pytest.raises(ConfigError) as refused:
        load_settings(tmp_path)
    message = str(refused.value)
    for name in ("SECRET_KEY", "DATABASE_URL", "TRUSTED_PROXIES", "RATELIMIT_STORAGE_URI", "MAIL_BACKEND",
                 "FRANCECONNECT_ISSUER"):
        assert f"- {name}" in message


def test_the_local_franceconnect_refuses_to_start_in_production(monkeypatch):
    import local_franceconnect

    monkeypatch.setenv("PORTAL_ENV", "production")
    with pytest.raises(RuntimeError, match="production"):
        local_franceconnect.create_app()


def test_environment_variables_override_defaults(tmp_path, monkeypatch):
    _production(monkeypatch, SEARCH_INDEX_DIR="/srv/index")
    settings = load_settings(tmp_path)
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db.example/portal"
    assert settings["SEARCH_INDEX_DIR"] == "/srv/index"
    assert settings["SESSION_COOKIE_SECURE"] is True
    options = settings["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"]["connect_timeout"] == 3
    assert "statement_timeout" in options["connect_args"]["options"]


def test_factory_builds_an_app_with_every_blueprint(tmp_path):
    application = create_app({"PORTAL_ENV": "test", "SECRET_KEY": "k" * 32,
                              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                              "SEARCH_INDEX_DIR": str(tmp_path / "index")})
    assert {"portal", "catalogue", "search"} <= set(application.blueprints)
    assert not application.debug


def test_importing_the_module_configures_nothing_until_app_is_used(monkeypatch, tmp_path):
    """`flask --app app` and gunicorn ('app:create_app()') call the factory; importing it alone builds nothing."""
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'lazy.db'}")
    module = importlib.reload(app_module)
    assert "app" not in vars(module)
    assert find_best_app(module).name == "app"


@pytest.mark.parametrize("template", ["https://visio.example.gouv.fr/salle", "https://visio.example.gouv.fr/{salle}",
                                      "https://visio.example.gouv.fr/{room}?id={0}", "https://visio.example/{room}}",
                                      "https://visio.example/{room}/{", "javascript:alert(1)//{room}", "/{room}"])
def test_the_video_link_template_holds_the_room_and_nothing_else(tmp_path, monkeypatch, template):
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setenv("VIDEO_URL_TEMPLATE", template)
    with pytest.raises(ConfigError, match="VIDEO_URL_TEMPLATE"):
        load_settings(tmp_path)


def test_the_development_video_link_template_is_accepted_outside_production(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.delenv("VIDEO_URL_TEMPLATE", raising=False)
    assert load_settings(tmp_path)["VIDEO_URL_TEMPLATE"] == "https://visio.invalid/{room}"


@pytest.mark.parametrize("url", ["http://tile.example/{z}/{x}/{y}.png", "https://tile.example/tiles.png",
                                 "javascript:alert(1)//{z}{x}{y}", "//tile.example/{z}/{x}/{y}.png"])
def test_the_tile_server_must_be_https_with_coordinates(tmp_path, monkeypatch, url):
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setenv("MAP_TILES_URL", url)
    with pytest.raises(ConfigError, match="MAP_TILES_URL"):
        load_settings(tmp_path)
