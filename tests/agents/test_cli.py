"""``flask agents create`` and ``flask agents demo``."""

from __future__ import annotations

from sqlalchemy import select

from agents import cli, passwords, services
from agents.models import Agent
from portal.extensions import db
from tests.agents.conftest import TEST_UNIT
from tests.agents.helpers import sign_in_agent


def test_create_makes_an_agent_and_prints_the_otpauth_uri(small_app):
    runner = small_app.test_cli_runner()
    result = runner.invoke(args=["agents", "create", "Nouvel.Opj@Interieur.gouv.fr", "--unit", TEST_UNIT,
                                 "--role", "officer", "--name", "Nouvel OPJ", "--generate-password"])
    assert result.exit_code == 0, result.output
    assert "otpauth://totp/Portail%20citoyen:nouvel.opj%40interieur.gouv.fr?secret=" in result.output
    assert "issuer=Portail%20citoyen" in result.output
    password = result.output.split("Mot de passe (affiché une seule fois, à transmettre par un canal sûr) : ")[1]
    password = password.split()[0]
    secret = result.output.split("secret=")[1].split("&")[0]
    with small_app.app_context():
        agent = db.session.scalar(select(Agent).where(Agent.email == "nouvel.opj@interieur.gouv.fr"))
        assert agent.roles == ["officer"] and agent.unit_id == TEST_UNIT and agent.display_name == "Nouvel OPJ"
        assert agent.totp_secret == secret and passwords.verify_password(agent.password_hash, password)
    # What was printed signs in.
    sign_in_agent(small_app.test_client(), "nouvel.opj@interieur.gouv.fr", password, secret)


def test_create_asks_for_the_password_when_not_generated(small_app):
    result = small_app.test_cli_runner().invoke(
        args=["agents", "create", "admin@interieur.gouv.fr", "--role", "admin"],
        input="un-mot-de-passe-solide\nun-mot-de-passe-solide\n")
    assert result.exit_code == 0, result.output
    assert "un-mot-de-passe-solide" not in result.output
    with small_app.app_context():
        agent = services.find_agent(db.session, "admin@interieur.gouv.fr")
        assert passwords.verify_password(agent.password_hash, "un-mot-de-passe-solide")


def test_create_refuses_unknown_units_roles_and_short_passwords_in_french(small_app):
    runner = small_app.test_cli_runner()
    unknown_unit = runner.invoke(args=["agents", "create", "a@interieur.gouv.fr", "--unit", "police-00000-99",
                                       "--role", "officer", "--generate-password"])
    assert unknown_unit.exit_code != 0 and "Unité inconnue : police-00000-99" in unknown_unit.output
    unknown_role = runner.invoke(args=["agents", "create", "a@interieur.gouv.fr", "--unit", TEST_UNIT,
                                       "--role", "chef", "--generate-password"])
    assert unknown_role.exit_code != 0 and "Rôle inconnu : chef" in unknown_role.output
    no_unit = runner.invoke(args=["agents", "create", "a@interieur.gouv.fr", "--role", "officer",
                                  "--generate-password"])
    assert no_unit.exit_code != 0 and "rattaché à une unité" in no_unit.output
    short = runner.invoke(args=["agents", "create", "a@interieur.gouv.fr", "--role", "admin"], input="court\ncourt\n")
    assert short.exit_code != 0 and "au moins 12 caractères" in short.output
    with small_app.app_context():
        assert db.session.scalar(select(Agent).where(Agent.email == "a@interieur.gouv.fr")) is None


def test_demo_creates_the_le_mans_officer_idempotently_and_prints_how_to_sign_in(small_app):
    runner = small_app.test_cli_runner()
    first = runner.invoke(args=["agents", "demo"])
    second = runner.invoke(args=["agents", "demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    output = second.output
    assert cli.DEMO_EMAIL in output and cli.DEMO_PASSWORD in output and "otpauth://totp/" in output
    assert "Code valable en ce moment" in output
    with small_app.app_context():
        agents = db.session.scalars(select(Agent).where(Agent.email == cli.DEMO_EMAIL)).all()
        assert len(agents) == 1 and agents[0].unit_id == TEST_UNIT and agents[0].has_role("officer")
    sign_in_agent(small_app.test_client(), cli.DEMO_EMAIL, cli.DEMO_PASSWORD, cli.DEMO_TOTP_SECRET)
    # The demo editor, whose changes the demo officer (an administrator) reviews.
    assert cli.DEMO_EDITOR_EMAIL in output and cli.DEMO_EDITOR_PASSWORD in output
    with small_app.app_context():
        editor = services.find_agent(db.session, cli.DEMO_EDITOR_EMAIL)
        assert editor.roles == ["editor"] and editor.unit_id is None
    client = small_app.test_client()
    sign_in_agent(client, cli.DEMO_EDITOR_EMAIL, cli.DEMO_EDITOR_PASSWORD, cli.DEMO_EDITOR_TOTP_SECRET)
    assert client.get("/agents/contenus").status_code == 200


def test_demo_is_refused_in_production(small_app):
    small_app.config["PORTAL_ENV"] = "production"
    result = small_app.test_cli_runner().invoke(args=["agents", "demo"])
    assert result.exit_code != 0 and "qu'en développement" in result.output
    with small_app.app_context():
        assert services.find_agent(db.session, cli.DEMO_EMAIL) is None
