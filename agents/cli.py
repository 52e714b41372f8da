"""``flask agents create`` (an agent, their password and TOTP enrolment), ``flask agents purge-sessions``
(every few minutes in production) and ``flask agents demo`` (development)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
import pyotp
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from agents import passwords, services
from agents.models import ROLES, Agent
from maps.models import Station
from portal.dates import INSTANT
from portal.extensions import db

agents_cli = AppGroup("agents", help="Agents de l'espace agents (officiers, administrateurs…).")

# The demo officer `make data` creates in development: fixed credentials, printed, never in production.
DEMO_EMAIL = "officier.demo@portail-citoyen.local"
DEMO_PASSWORD = "demo-officier-le-mans"
DEMO_TOTP_SECRET = "PORTAILCITOYENDEMOLEMANSAGENT234"
DEMO_NAME = "Officier de démonstration (Le Mans)"
# The demo editor: writes content the demo officer (an administrator) reviews, since nobody approves their own.
DEMO_EDITOR_EMAIL = "redactrice.demo@portail-citoyen.local"
DEMO_EDITOR_PASSWORD = "demo-redactrice-contenus"
DEMO_EDITOR_TOTP_SECRET = "PORTAILCITOYENDEMOREDACTRICE2345"
DEMO_EDITOR_NAME = "Rédactrice de démonstration"
LE_MANS_INSEE = "72181"


def sign_in_instructions(email: str, password: str | None, secret: str) -> str:
    lines = ["Connexion : /agents/connexion", f"  Adresse : {email}"]
    if password:
        lines.append(f"  Mot de passe : {password}")
    lines.append(f"  Application d'authentification (TOTP) : {passwords.provisioning_uri(secret, email)}")
    return "\n".join(lines)


@agents_cli.command("create")
@click.argument("email")
@click.option("--unit", "unit_id", default="",
              help="Identifiant de l'unité (table station), ex. commissariat_police-72181-01.")
@click.option("--role", "roles", multiple=True, required=True, type=str,
              help="Rôle : " + ", ".join(ROLES) + " (répétable).")
@click.option("--name", "display_name", default="", help="Nom affiché.")
@click.option("--generate-password", is_flag=True, help="Tirer un mot de passe au hasard (affiché une fois).")
def create(email: str, unit_id: str, roles: tuple[str, ...], display_name: str, generate_password: bool) -> None:
    """Crée un agent : mot de passe (demandé ou tiré au hasard) et secret TOTP."""
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise click.ClickException(f"Rôle inconnu : {', '.join(unknown)}. Rôles possibles : {', '.join(ROLES)}.")
    if unit_id and db.session.get(Station, unit_id) is None:
        raise click.ClickException(f"Unité inconnue : {unit_id}. Chargez les unités (flask maps load) et "
                                   "indiquez l'identifiant d'un commissariat ou d'une brigade.")
    if generate_password:
        password = passwords.generate_password()
    else:
        password = click.prompt("Mot de passe", hide_input=True, confirmation_prompt="Confirmez le mot de passe")
    try:
        agent, secret = services.create_agent(db.session, email, roles=list(roles), unit_id=unit_id or None,
                                              password=password, display_name=display_name)
    except services.AgentError as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from None
    db.session.commit()
    click.echo(f"Agent n° {agent.id} créé : {agent.email} ({', '.join(agent.roles)}).")
    if generate_password:
        click.echo(f"Mot de passe (affiché une seule fois, à transmettre par un canal sûr) : {password}")
    click.echo("Secret TOTP, à enregistrer dans l'application d'authentification de l'agent (QR code) :")
    click.echo(passwords.provisioning_uri(secret, agent.email))


@agents_cli.command("purge-sessions")
@click.option("--now", type=INSTANT, default=None, help="Date de référence ISO 8601 (par défaut : maintenant).")
def purge_sessions_command(now: datetime | None) -> None:
    """Supprime les sessions d'agents expirées (inactivité ou durée maximale) ; à lancer toutes les quelques minutes."""
    count = services.purge_sessions(db.session, now or datetime.now(UTC))
    db.session.commit()
    click.echo(f"Sessions d'agents expirées supprimées : {count}")


def le_mans_unit() -> Station | None:
    query = select(Station).where(Station.code_insee == LE_MANS_INSEE).order_by(Station.id)
    return db.session.scalar(query.where(Station.kind == "police")) or db.session.scalar(query)


def _ensure_demo(email: str, password: str, secret: str, name: str, roles: list[str],
                 unit_id: str | None) -> Agent:
    """One demo agent in its documented state: the credentials printed always work."""
    agent = services.find_agent(db.session, email)
    if agent is None:
        agent, _ = services.create_agent(db.session, email, roles=roles, unit_id=unit_id, password=password,
                                         display_name=name, totp_secret=secret)
        return agent
    agent.roles = roles
    agent.unit_id = unit_id
    agent.display_name = name
    agent.active = True
    agent.failed_attempts = 0
    agent.locked_until = None
    if agent.totp_secret != secret:
        agent.totp_secret = secret
        agent.last_totp_step = 0
    if not passwords.verify_password(agent.password_hash, password):
        agent.password_hash = passwords.hash_password(password)
    return agent


def ensure_demo_agent() -> Agent:
    """The demo officer (and administrator) of a Le Mans unit, and the demo editor; idempotent."""
    unit = le_mans_unit()
    if unit is None:
        raise click.ClickException("Aucune unité du Mans : chargez d'abord les unités (flask maps load).")
    agent = _ensure_demo(DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET, DEMO_NAME, ["officer", "admin"], unit.id)
    _ensure_demo(DEMO_EDITOR_EMAIL, DEMO_EDITOR_PASSWORD, DEMO_EDITOR_TOTP_SECRET, DEMO_EDITOR_NAME, ["editor"], None)
    db.session.commit()
    return agent


@agents_cli.command("demo")
def demo() -> None:
    """Développement : crée (ou remet en état) l'officier de démonstration d'une unité du Mans et la rédactrice."""
    if current_app.config["PORTAL_ENV"] not in ("development", "test"):
        raise click.ClickException("L'agent de démonstration n'existe qu'en développement (PORTAL_ENV=development).")
    agent = ensure_demo_agent()
    click.echo(f"Agent de démonstration : {agent.display_name}, unité {agent.unit_id}.")
    click.echo(sign_in_instructions(DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET))
    click.echo(f"  Code valable en ce moment ({datetime.now(UTC):%H:%M:%S} UTC) : "
               f"{pyotp.TOTP(DEMO_TOTP_SECRET).now()} (un code ne sert qu'une fois ; relancez la commande "
               "pour le suivant)")
    click.echo("Rédactrice de démonstration (contenus ; l'officier, administrateur, relit ses modifications) :")
    click.echo(sign_in_instructions(DEMO_EDITOR_EMAIL, DEMO_EDITOR_PASSWORD, DEMO_EDITOR_TOTP_SECRET))
