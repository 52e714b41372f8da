"""Administrators register mairies and their sites' origins: the service (widgets.admin) and the console's pages.

Every change is rolled back with the test (``db_session``); the registry's per-process copy is forgotten
before and after each test, so that no registration made here outlives it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from agents import audit
from agents.models import AuditEvent
from tests.agents.helpers import csrf_token
from tests.editorial.back_office import editor_client, form_fields, text_of
from widgets import admin, registry
from widgets.models import Mairie

LE_MANS = "72181"
pytestmark = pytest.mark.usefixtures("fresh_registry")
ORIGINS = "HTTPS://Www.LeMans.fr/\nhttps://www.lemans.fr\n\n  https://lemans.fr:443  \n"


@pytest.fixture
def ctx(app, db_session):
    with app.app_context():
        # The audit log keeps what other tests wrote (the browser tests register Le Mans through the console).
        db_session.info["audit_floor"] = db_session.scalar(select(func.max(AuditEvent.id))) or 0
        yield db_session


def _events(session, action: str, target: str = LE_MANS, after: int | None = None) -> list[AuditEvent]:
    """This test's audit entries for ``action`` on ``target`` (those after ``after``, or the ``ctx`` floor)."""
    floor = session.info["audit_floor"] if after is None else after
    return list(session.scalars(select(AuditEvent).where(AuditEvent.id > floor,
                                                         AuditEvent.action == action,
                                                         AuditEvent.target_id == target)))


def _register(session, origins: str = ORIGINS, code: str = LE_MANS, **changes) -> Mairie:
    values = {"name": "", "contact": "accueil@lemans.fr", "origins_text": origins, "allow_loopback": False}
    values.update(changes)
    return admin.register(session, None, code, **values)


# --- The service -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("commune", "name"), [
    ("Le Mans", "Mairie du Mans"), ("Les Lilas", "Mairie des Lilas"), ("Angers", "Mairie d'Angers"),
    ("Évry-Courcouronnes", "Mairie d'Évry-Courcouronnes"), ("La Rochelle", "Mairie de La Rochelle"),
    ("L'Haÿ-les-Roses", "Mairie de l'Haÿ-les-Roses"), ("Paris", "Mairie de Paris"),
])
def test_the_default_name_follows_french_elision(commune, name):
    assert admin.default_name(commune) == name


def test_registering_le_mans_normalises_its_origins_and_writes_the_audit_log(ctx):
    mairie = _register(ctx)
    assert mairie.name == "Mairie du Mans" and mairie.active
    assert sorted(o.origin for o in mairie.origins) == ["https://lemans.fr", "https://www.lemans.fr"]
    assert len(_events(ctx, "mairie.register")) == 1
    registry.invalidate()
    assert set(registry.current(ctx).origins_for(LE_MANS)) == {"https://lemans.fr", "https://www.lemans.fr"}
    assert registry.current(ctx).allows(LE_MANS, "https://www.lemans.fr")


def test_the_audit_log_names_every_mairie_action_in_french():
    for action in ("mairie.register", "mairie.update", "mairie.activate", "mairie.deactivate", "mairie.remove"):
        assert action in audit.ACTION_LABELS
    assert audit.target_text("mairie", LE_MANS, {}) == "Mairie de la commune 72181"


@pytest.mark.parametrize(("code", "origins", "field", "words"), [
    ("99999", "https://www.lemans.fr", "code_insee", "Aucune commune n'a ce code INSEE"),
    ("72000", "https://www.lemans.fr", "code_insee", "ce n'est pas le code postal"),
    (LE_MANS, "https://www.lemans.fr\nftp://www.lemans.fr", "origins",
     "Ligne 2 : « ftp://www.lemans.fr » : seuls les sites en https"),
    (LE_MANS, "http://www.lemans.fr", "origins", "seuls les sites en https"),
    (LE_MANS, "https://*.lemans.fr", "origins", "jokers"),
    (LE_MANS, "https://www.lemans.fr/widgets", "origins", "sans chemin"),
    (LE_MANS, "http://127.0.0.1:8000", "origins", "Ligne 1 : « http://127.0.0.1:8000 »"),  # loopback refused here
    (LE_MANS, "\n \n", "origins", "au moins une origine"),
    (LE_MANS, "\n".join(f"https://site{i}.lemans.fr" for i in range(11)), "origins", "au plus 10"),
])
def test_refusals_name_the_field_in_french(ctx, code, origins, field, words):
    with pytest.raises(admin.InvalidMairie) as refused:
        _register(ctx, origins, code)
    assert words in refused.value.errors[field]
    assert ctx.scalar(select(Mairie).where(Mairie.code_insee == LE_MANS)) is None


def test_a_commune_is_registered_once_and_a_contact_is_needed(ctx):
    _register(ctx)
    with pytest.raises(admin.InvalidMairie) as refused:
        _register(ctx, contact="")
    assert "déjà une inscription" in refused.value.errors["code_insee"]
    assert "adresse électronique" in refused.value.errors["contact"]


def test_loopback_origins_only_where_allowed(ctx):
    mairie = _register(ctx, "http://127.0.0.1:8000\nhttp://localhost:8001", allow_loopback=True)
    assert sorted(o.origin for o in mairie.origins) == ["http://127.0.0.1:8000", "http://localhost:8001"]


def test_changes_deactivation_and_removal_reach_the_registry_after_invalidate(ctx):
    mairie = _register(ctx)
    assert admin.update(ctx, None, mairie, "Ville du Mans", "web@lemans.fr",
                        "https://www.lemans.fr\nhttps://demarches.lemans.fr", allow_loopback=False)
    assert not admin.update(ctx, None, mairie, "Ville du Mans", "web@lemans.fr",
                            "https://demarches.lemans.fr\nhttps://www.lemans.fr/", allow_loopback=False)
    assert len(_events(ctx, "mairie.update")) == 1
    registry.invalidate()
    assert set(registry.current(ctx).origins_for(LE_MANS)) == {"https://www.lemans.fr", "https://demarches.lemans.fr"}

    assert admin.set_active(ctx, None, mairie, False)
    assert not admin.set_active(ctx, None, mairie, False)
    registry.invalidate()
    assert registry.current(ctx).origins_for(LE_MANS) == ()
    assert "https://www.lemans.fr" not in registry.current(ctx).origins
    assert admin.set_active(ctx, None, mairie, True)
    registry.invalidate()
    assert registry.current(ctx).allows(LE_MANS, "https://www.lemans.fr")

    admin.remove(ctx, None, mairie)
    registry.invalidate()
    assert registry.current(ctx).origins_for(LE_MANS) == ()
    assert [len(_events(ctx, a)) for a in ("mairie.deactivate", "mairie.activate", "mairie.remove")] == [1, 1, 1]


# --- The console's pages -----------------------------------------------------------------------------------

def _admin(app, db_session, roles=("admin",)):
    return editor_client(app, db_session, roles, name="Alix Administratrice")


def _post(client, url: str, data: dict, page: str):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_an_administrator_registers_le_mans_through_the_form(app, db_session):
    floor = db_session.scalar(select(func.max(AuditEvent.id))) or 0
    client = _admin(app, db_session)
    home = text_of(client.get("/agents/"))
    assert "Mairies et widgets" in home
    page = client.get("/agents/mairies/nouvelle")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    fields = form_fields(page.get_data(as_text=True), "/agents/mairies/nouvelle")
    fields.update(code_insee=[LE_MANS], contact=["accueil@lemans.fr"], origins=[ORIGINS])
    response = client.post("/agents/mairies/nouvelle", data=fields)
    assert response.status_code == 303
    mairie = db_session.scalar(select(Mairie).where(Mairie.code_insee == LE_MANS))
    assert response.headers["Location"] == f"/agents/mairies/{mairie.id}?fait=inscrite"
    shown = text_of(client.get(response.headers["Location"]))
    assert "La mairie est inscrite" in shown and "Le Mans" in shown
    listing = text_of(client.get("/agents/mairies"))
    assert "Le Mans (72181)" in listing and "https://www.lemans.fr" in listing and "Mairie du Mans" in listing
    assert len(_events(db_session, "mairie.register", after=floor)) == 1
    with app.app_context():  # the view forgot this process's copy
        assert registry.current(db_session).allows(LE_MANS, "https://lemans.fr")


def test_a_refused_form_comes_back_with_the_field_errors_in_french(app, db_session):
    client = _admin(app, db_session)
    response = _post(client, "/agents/mairies/nouvelle",
                     {"code_insee": LE_MANS, "contact": "accueil@lemans.fr", "name": "<b>Mairie</b>",
                      "origins": "https://www.lemans.fr\nhttps://www.lemans.fr/page"}, "/agents/mairies/nouvelle")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<title>Erreur : Inscrire une mairie" in html
    assert "Ligne 2 : « https://www.lemans.fr/page »" in text_of(response)
    assert 'id="field-origins-error"' in html and "&lt;b&gt;Mairie&lt;/b&gt;" in html  # typed text stays text
    assert db_session.scalar(select(Mairie).where(Mairie.code_insee == LE_MANS)) is None


def test_deactivation_and_removal_through_the_pages(app, db_session):
    client = _admin(app, db_session)
    with app.app_context():
        mairie_id = _register(db_session).id
        db_session.commit()
    page = f"/agents/mairies/{mairie_id}"
    response = _post(client, f"{page}/desactiver", {}, page)
    assert response.status_code == 303 and response.headers["Location"] == f"{page}?fait=desactivee"
    with app.app_context():
        assert registry.current(db_session).origins_for(LE_MANS) == ()
    assert "Désactivée" in text_of(client.get("/agents/mairies"))
    refused = _post(client, f"{page}/supprimer", {}, page)
    assert refused.status_code == 400 and "Cochez la case" in text_of(refused)
    response = _post(client, f"{page}/supprimer", {"confirmer": "1"}, page)
    assert response.status_code == 303 and response.headers["Location"] == "/agents/mairies?fait=supprimee"
    assert db_session.scalar(select(Mairie).where(Mairie.code_insee == LE_MANS)) is None
    assert client.get(page).status_code == 404


def test_a_post_without_the_csrf_token_is_refused(app, db_session):
    client = _admin(app, db_session)
    response = client.post("/agents/mairies/nouvelle",
                           data={"code_insee": LE_MANS, "contact": "a@lemans.fr", "origins": "https://www.lemans.fr"})
    assert response.status_code == 400
    assert db_session.scalar(select(Mairie).where(Mairie.code_insee == LE_MANS)) is None


CONSOLE_GETS = ("/agents/mairies", "/agents/mairies/nouvelle", "/agents/mairies/1")
CONSOLE_POSTS = ("/agents/mairies/nouvelle", "/agents/mairies/1", "/agents/mairies/1/activer",
                 "/agents/mairies/1/desactiver", "/agents/mairies/1/supprimer")


@pytest.mark.parametrize("roles", [("officer",), ("editor",), ("editor", "reviewer")])
def test_other_agents_find_no_such_pages(app, db_session, roles):
    client = _admin(app, db_session, roles)
    assert "Mairies et widgets" not in text_of(client.get("/agents/"))
    token = csrf_token(client.get("/agents/").get_data(as_text=True))
    for url in CONSOLE_GETS:
        assert client.get(url).status_code == 404, url
    for url in CONSOLE_POSTS:
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in CONSOLE_GETS:
        response = client.get(url)
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/agents/connexion?next=%2Fagents%2Fmairies")
    for url in CONSOLE_POSTS:
        assert client.post(url).status_code in (400, 403)  # no session: the CSRF check or the guard refuses
