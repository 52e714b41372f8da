"""widgets.registry: what an origin is, and the registry kept per process (30 s, forgotten on change)."""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests.widgets.mairies import COMMUNE, ORIGIN, OTHER_COMMUNE, OTHER_ORIGIN, registered
from widgets import registry
from widgets.registry import OriginError, RegistryCache, normalize_origin


@pytest.mark.parametrize("text, origin", [
    ("https://www.mairie-exemple.fr", "https://www.mairie-exemple.fr"),
    ("  HTTPS://Www.Mairie-Exemple.FR/ ", "https://www.mairie-exemple.fr"),
    ("https://www.mairie-exemple.fr:443", "https://www.mairie-exemple.fr"),
    ("https://www.mairie-exemple.fr:8443", "https://www.mairie-exemple.fr:8443"),
    # As browsers write the Origin header (UTS #46, not IDNA 2003's ß → ss: strasse.fr is someone else's).
    ("https://Mairie-Évry.fr", "https://xn--mairie-vry-h7a.fr"),
    ("https://straße.fr", "https://xn--strae-oqa.fr"),
    ("https://xn--strae-oqa.fr", "https://xn--strae-oqa.fr"),
])
def test_an_origin_is_normalized(text, origin):
    assert normalize_origin(text) == origin


@pytest.mark.parametrize("text, says", [
    ("", "Indiquez l'origine"),
    ("http://www.mairie-exemple.fr", "https"),
    ("https://*.mairie-exemple.fr", "jokers"),
    ("https://www.mairie-exemple.fr/widgets", "sans chemin"),
    ("https://www.mairie-exemple.fr/?x=1", "sans chemin"),
    ("https://user:pass@www.mairie-exemple.fr", "identifiant"),
    ("https://192.0.2.1", "adresse IP"),
    ("https://-bad-.fr", "pas valide"),
    ("https://" + "a" * 200 + ".fr", "au plus"),
    ("https://www.mairie-exemple.fr:99999", "valide"),
    ("https://www.mairie-exemple.fr:0", "port 0"),
    # Host names a browser reads as IP addresses.
    ("https://127.1", "adresse IP"),
    ("https://0x7f.0.0.1", "adresse IP"),
    ("https://mairie.fr.", "pas valide"),
    ("https://localhost", "cet ordinateur"),
    ("null", "sans chemin"),
])
def test_what_is_not_an_origin_is_refused_in_french(text, says):
    with pytest.raises(OriginError, match=says):
        normalize_origin(text)


def test_loopback_over_http_only_when_allowed():
    assert normalize_origin("http://127.0.0.1:8001", allow_loopback=True) == "http://127.0.0.1:8001"
    assert normalize_origin("http://localhost:5000/", allow_loopback=True) == "http://localhost:5000"
    with pytest.raises(OriginError):
        normalize_origin("http://127.0.0.1:8001")
    with pytest.raises(OriginError):
        normalize_origin("http://www.mairie-exemple.fr", allow_loopback=True)


def test_the_registry_lists_active_mairies_only(app):
    with registered(app, (COMMUNE, (ORIGIN,), True), (OTHER_COMMUNE, (OTHER_ORIGIN,), False)):
        with app.app_context():
            current = registry.current(db.session)
            assert current.origins_for(COMMUNE) == (ORIGIN,)
            assert current.allows(COMMUNE, ORIGIN) and not current.allows(OTHER_COMMUNE, OTHER_ORIGIN)
            assert ORIGIN in current.origins and OTHER_ORIGIN not in current.origins
    with app.app_context():
        assert registry.current(db.session).origins_for(COMMUNE) == ()


def test_the_registry_is_kept_until_its_delay_or_invalidate(app):
    cache = RegistryCache()

    def get(ttl):
        with app.app_context():
            found = cache.get(db.session, ttl)
            db.session.rollback()
            return found

    before = get(30)
    with registered(app, (COMMUNE, (ORIGIN,), True)):
        assert get(30) is before  # kept: another process's change is seen later
        assert get(0).origins_for(COMMUNE) == (ORIGIN,)  # the delay is over
    assert get(30).origins_for(COMMUNE) == (ORIGIN,)
    cache.invalidate()  # this process made the change: forgotten at once
    assert get(30).origins_for(COMMUNE) == ()


def test_loopback_origins_follow_the_setting(app):
    with app.app_context():
        assert registry.loopback_allowed() is bool(app.config["WIDGET_ALLOW_LOOPBACK_ORIGINS"])
