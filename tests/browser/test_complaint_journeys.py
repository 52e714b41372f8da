"""Whole complaint journeys in Chromium: a citizen (local FranceConnect) and an officer (password + TOTP),
each in a browser context of their own, on the portal served over HTTP.

Journey 1, plainte en ligne: sign in → orientation from the home page → plainte en ligne, every step →
acknowledgement → Mon espace; the officer of the unit takes the case, asks for more information, the citizen
answers in Mon espace, the officer closes it. The same steps work without JavaScript.

Journey 2, visio-plainte: the officer publishes slots in the unit's agenda → a citizen answers the questions,
picks the unit and a slot → the officer takes the case and sends the PV → the citizen validates it in Mon
espace → the officer sees it validated and closes the case.

These tests commit to the session-wide database (the portal runs in another thread): they only add their
own cases and agents (unique e-mails), and delete nothing.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy import text as sql

from agents.services import create_agent
from complaints.models import Case
from portal.extensions import db
from portal.security import limiter
from portal.templating import date_fr
from tests.agents.helpers import DEFAULT_PASSWORD
from tests.browser.conftest import run_axe, sign_in_agent, watched_context
from tests.complaints.conftest import LE_MANS_UNIT

# What the journeys create over real HTTP is committed for real: removed after each test, newest first,
# so that the tests of tests/complaints (run later on the same database) start from the real data alone.
CREATED_BY_JOURNEYS = ("hearing_booking", "statement", "case_event", "complaint_case", "hearing_slot", "case_draft")


@pytest.fixture(autouse=True)
def remove_what_the_journey_created(app):
    with app.app_context():
        before = {table: db.session.execute(sql(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()
                  for table in CREATED_BY_JOURNEYS}
        db.session.remove()
    yield
    with app.app_context():
        for table in CREATED_BY_JOURNEYS:
            db.session.execute(sql(f"DELETE FROM {table} WHERE id > :before"), {"before": before[table]})
        db.session.commit()
        db.session.remove()

REFERENCE = re.compile(r"PEL-\d{4}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6}")
VALID_IMEI = "490154203237518"  # passes the Luhn check
NARRATIVE = "Mon téléphone a disparu de ma poche dans le tramway, vers la place de la République."
REQUEST = "Pouvez-vous préciser la couleur de la coque et l'heure exacte de votre descente du tramway ?"
STATEMENT = ("Le plaignant déclare avoir reçu des menaces de mort par message, le 2 du mois, de la part "
             "d'un ancien voisin.")
WEEKDAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
ANSWER = "La coque est rouge ; je suis descendue à la station République vers 18 h 40."


def _yesterday() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).date().isoformat()


def _fc_origin(local_fc) -> str:
    return "{0.scheme}://{0.netloc}".format(urlsplit(local_fc.issuer))


def _sign_in_with_franceconnect(page: Page, who: str) -> None:
    """The portal's sign-in page → the local FranceConnect → the identity ``who`` (its button's text)."""
    page.goto("/connexion")
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    expect(page).to_have_url(re.compile(r"/api/v2/interaction/"))
    page.get_by_role("button", name=re.compile(who)).click()
    expect(page.get_by_role("button", name="Se déconnecter").first).to_be_attached()


def _console_menu(page: Page, name: str):
    """A link of the agents' header menu (the console's pages link to the same places)."""
    return page.get_by_role("navigation", name="Menu de l'espace agents").get_by_role("link", name=name)


def _choose(page: Page, label: str) -> None:
    # DSFR draws its own radio: what the citizen clicks is the label.
    page.locator("label.fr-label", has_text=label).click()


def _orientation_to_online(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Je veux porter plainte ou signaler quelque chose").first.click()
    expect(page).to_have_url(re.compile(r"/porter-plainte$"))
    page.get_by_role("link", name="Commencer").click()
    for answer in ("Non, personne n'est en danger immédiat", "Un vol, un cambriolage ou une dégradation",
                   "Non, je ne sais pas qui c'est"):
        _choose(page, answer)
        page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_url(re.compile(r"/porter-plainte/recapitulatif$"))
    page.get_by_role("link", name="Voir où m'adresser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Déposez plainte en ligne")
    page.get_by_role("link", name="Déposer plainte en ligne").click()
    expect(page).to_have_url(re.compile(r"/plainte-en-ligne$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Porter plainte en ligne")


def _fill_steps(page: Page, javascript: bool) -> None:
    """From the start page of plainte en ligne to its summary, through every step."""
    page.get_by_role("link", name="Commencer ma plainte").click()
    expect(page).to_have_url(re.compile(r"/plainte-en-ligne/faits$"))

    # Nothing chosen: the error, tied to the field, and the page title says so.
    page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_title(re.compile(r"^Erreur : Les faits"))
    expect(page.locator("#offence-error")).to_have_text("Choisissez ce qui vous est arrivé.")
    expect(page.locator("#error-summary").get_by_role("link", name="Choisissez ce qui vous est arrivé."))\
        .to_have_attribute("href", "#offence")
    if javascript:
        assert run_axe(page) == []
    _choose(page, "Vol de téléphone portable")
    page.get_by_role("button", name="Continuer").click()

    expect(page).to_have_url(re.compile(r"/plainte-en-ligne/date$"))
    page.locator("#start_date").fill(_yesterday())
    page.locator("#start_time").fill("18:00")
    page.locator("#end_date").fill(_yesterday())
    page.locator("#end_time").fill("18:45")
    page.get_by_role("button", name="Continuer").click()

    expect(page).to_have_url(re.compile(r"/plainte-en-ligne/lieu$"))
    commune = page.get_by_label("Commune où les faits ont eu lieu")
    if javascript:
        # The autocomplete: type, then pick the suggestion.
        commune.press_sequentially("Le Ma", delay=60)
        suggestion = page.locator("#commune-suggestions").get_by_role("link", name="Le Mans (72)")
        expect(suggestion).to_be_visible()
        expect(page.locator("#commune-status")).to_have_text(re.compile(r"\d+ communes? proposées?"))
        suggestion.click()
        expect(commune).to_have_value("Le Mans 72")
    else:
        commune.fill("Le Mans")
        # No suggestion comes without JavaScript: the commune typed is simply sent with the form.
        expect(page.locator("#commune-suggestions li")).to_have_count(0)
    page.get_by_label("Précisions sur le lieu (facultatif)").fill("Tramway T1, station République")
    page.get_by_role("button", name="Continuer").click()

    expect(page).to_have_url(re.compile(r"/plainte-en-ligne/objets$"))
    page.get_by_label("Type d’objet").select_option("telephone")
    page.get_by_label("Description").fill("Noir, coque rouge")
    page.get_by_label("Marque et modèle (facultatif)").fill("Fairphone 5")
    page.get_by_label("Numéro IMEI, pour un téléphone (facultatif)").fill(VALID_IMEI)
    page.get_by_role("button", name="Continuer").click()

    expect(page).to_have_url(re.compile(r"/plainte-en-ligne/recit$"))
    page.get_by_label("Racontez brièvement ce qui s’est passé (facultatif)").fill(NARRATIVE)
    page.get_by_role("button", name="Continuer").click()

    expect(page).to_have_url(re.compile(r"/plainte-en-ligne/unite$"))
    # The nearest unit is preselected: the citizen keeps it.
    expect(page.locator(f"input[name=unit_id][value='{LE_MANS_UNIT}']")).to_be_checked()
    page.get_by_role("button", name="Continuer").click()

    expect(page).to_have_url(re.compile(r"/plainte-en-ligne/recapitulatif$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre plainte avant de l’envoyer")
    for text in ("Vol de téléphone portable", "Le Mans (72)", VALID_IMEI, "Fairphone 5", NARRATIVE):
        expect(page.get_by_text(text, exact=False).first).to_be_visible()


def _submit(page: Page) -> str:
    """Certify and send from the summary; returns the reference the acknowledgement shows."""
    page.locator("label[for=certify]").click()
    page.get_by_role("button", name="Envoyer ma plainte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre plainte a été déposée")
    reference = page.locator("#case-reference").inner_text()
    assert REFERENCE.fullmatch(reference), reference
    expect(page).to_have_title(f"Plainte déposée : {reference} — Portail citoyen")
    return reference


def _space_row(page: Page, reference: str):
    page.goto("/mon-espace")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon espace")
    return page.locator("tr", has=page.get_by_role("link", name=reference, exact=True))


def _officer_of(app, reference: str | None = None, unit_id: str = LE_MANS_UNIT) -> tuple[str, str, str]:
    """An officer of the unit the case ``reference`` was sent to (or of ``unit_id``), made like the CLI makes
    one; returns (email, password, TOTP secret)."""
    email = f"officier-{secrets.token_hex(4)}@interieur.gouv.fr"
    with app.app_context():
        if reference is not None:
            unit_id = db.session.scalar(select(Case.unit_id).where(Case.reference == reference))
            assert unit_id == LE_MANS_UNIT
        _, secret = create_agent(db.session, email, roles=["officer"], unit_id=unit_id, password=DEFAULT_PASSWORD,
                                 display_name="Lieutenant Mercier")
        db.session.commit()
    return email, DEFAULT_PASSWORD, secret


def test_plainte_en_ligne_from_orientation_to_closing(browser, live_server, csp_report_log, local_fc, app):
    local_fc.provider.faults.clear()
    limiter.reset()
    with watched_context(browser, live_server.url, csp_report_log) as (citizen_context, watch):
        watch.allow(_fc_origin(local_fc), "pass")
        citizen = citizen_context.new_page()
        _sign_in_with_franceconnect(citizen, "Angela Claire Louise DUBOIS")
        _orientation_to_online(citizen)
        expect(citizen.get_by_text("DUBOIS").first).to_be_visible()
        _fill_steps(citizen, javascript=True)
        assert run_axe(citizen) == []
        reference = _submit(citizen)
        expect(citizen.get_by_text("Commissariat").first).to_be_visible()
        assert run_axe(citizen) == []

        row = _space_row(citizen, reference)
        expect(row).to_contain_text("Déposée")
        expect(row).to_contain_text("Plainte en ligne")
        assert run_axe(citizen) == []

        # The officer of that unit, in a browser of their own.
        email, password, secret = _officer_of(app, reference)
        with watched_context(browser, live_server.url, csp_report_log) as (officer_context, _):
            officer = sign_in_agent(officer_context, email, password, secret)
            _console_menu(officer, "Dossiers de l'unité").click()
            expect(officer.get_by_role("heading", level=1)).to_have_text("Dossiers de l'unité")
            officer.get_by_role("link", name=reference, exact=True).click()
            expect(officer.get_by_role("heading", level=1)).to_have_text(f"Dossier {reference}")
            expect(officer.get_by_text(NARRATIVE)).to_be_visible()
            expect(officer.get_by_text("Personne ne l'a encore pris en charge.")).to_be_visible()

            officer.get_by_role("button", name="Prendre en charge").click()
            expect(officer.locator("#notice")).to_contain_text("Vous avez pris ce dossier en charge.")
            expect(officer.get_by_text("Pris en charge par vous.")).to_be_visible()
            officer.get_by_label("Message au plaignant").fill(REQUEST)
            officer.get_by_role("button", name="Envoyer la demande").click()
            expect(officer.locator("#notice")).to_contain_text("Votre demande de complément a été envoyée")
            expect(officer.locator("#history-title + ol")).to_contain_text(REQUEST)
            assert run_axe(officer) == []

            # The citizen reads the request in Mon espace and answers it.
            row = _space_row(citizen, reference)
            expect(row).to_contain_text("Complément demandé")
            row.get_by_role("link", name="Répondre à l’unité").click()
            expect(citizen.get_by_role("heading", level=1)).to_contain_text(reference)
            expect(citizen.locator("#historique + ol")).to_contain_text(REQUEST)
            # Nothing written: the error, on the page and in its title.
            citizen.get_by_role("button", name="Envoyer ma réponse").click()
            expect(citizen).to_have_title(re.compile(r"^Erreur : "))
            expect(citizen.locator("#message-error")).to_have_text("Écrivez votre réponse à l’unité.")
            assert run_axe(citizen) == []
            citizen.get_by_label("Votre réponse").fill(ANSWER)
            citizen.get_by_role("button", name="Envoyer ma réponse").click()
            expect(citizen.get_by_text("Votre réponse a été transmise à l’unité.")).to_be_visible()
            expect(citizen.locator("#historique + ol")).to_contain_text(ANSWER)
            expect(citizen.get_by_role("button", name="Envoyer ma réponse")).to_have_count(0)

            # The officer sees the answer in the history, and closes the case.
            officer.reload()
            expect(officer.locator("#history-title + ol")).to_contain_text(ANSWER)
            officer.get_by_label("Motif de clôture").select_option("plainte_enregistree")
            officer.get_by_label("Note au plaignant (facultatif)").fill("Votre plainte a été transmise au parquet.")
            officer.get_by_role("button", name="Clôturer").click()
            expect(officer.locator("#notice")).to_contain_text("Le dossier est clôturé.")
            expect(officer.get_by_text("Ce dossier est clôturé : aucune action n'est plus possible.")).to_be_visible()
            assert run_axe(officer) == []

        row = _space_row(citizen, reference)
        expect(row).to_contain_text("Clôturée")
        row.get_by_role("link", name=reference, exact=True).click()
        expect(citizen.get_by_text("Votre plainte a été transmise au parquet.")).to_be_visible()


def test_plainte_en_ligne_steps_without_javascript(browser, live_server, csp_report_log, local_fc):
    local_fc.provider.faults.clear()
    limiter.reset()
    with watched_context(browser, live_server.url, csp_report_log, java_script_enabled=False) as (context, watch):
        watch.allow(_fc_origin(local_fc), "pass")
        page = context.new_page()
        _sign_in_with_franceconnect(page, "Marie-Christine Élodie LEROY")
        page.goto("/plainte-en-ligne")
        _fill_steps(page, javascript=False)
        reference = _submit(page)
        expect(_space_row(page, reference)).to_contain_text("Déposée")


def test_visio_plainte_from_agenda_to_validated_statement(browser, live_server, csp_report_log, local_fc, app):
    local_fc.provider.faults.clear()
    limiter.reset()
    email, password, secret = _officer_of(app)
    day = (datetime.now(UTC) + timedelta(days=9)).date()
    with (watched_context(browser, live_server.url, csp_report_log) as (officer_context, _),
          watched_context(browser, live_server.url, csp_report_log) as (citizen_context, citizen_watch)):
        # The officer publishes the unit's slots for a morning.
        officer = sign_in_agent(officer_context, email, password, secret)
        _console_menu(officer, "Agenda des visio-plaintes").click()
        expect(officer.get_by_role("heading", level=1)).to_have_text("Agenda de visio-plainte")
        officer.get_by_label("Date").fill(day.isoformat())
        officer.get_by_label("Heure de début").fill("09:00")
        officer.get_by_label("Heure de fin").fill("10:00")
        officer.get_by_label("Durée d'un créneau").select_option("30")
        officer.get_by_label("Entretiens simultanés").fill("1")
        officer.get_by_role("button", name="Publier les créneaux").click()
        expect(officer.locator("#notice")).to_have_text(
            "Les créneaux sont publiés : les plaignants peuvent les réserver.")
        published = officer.get_by_role("table", name=f"Créneaux du {date_fr(day)}")
        expect(published).to_contain_text("9 h 00 – 9 h 30")
        expect(published).to_contain_text("9 h 30 – 10 h 00")
        assert run_axe(officer) == []

        # A citizen (FranceConnect) answers the questions, picks the unit and the slot.
        citizen_watch.allow(_fc_origin(local_fc), "pass")
        citizen = citizen_context.new_page()
        _sign_in_with_franceconnect(citizen, "Paul DE LA FONTAINE-MARTIN")
        citizen.goto("/visio-plainte")
        citizen.get_by_role("link", name="Commencer").click()
        expect(citizen.get_by_role("heading", level=1)).to_have_text("Votre situation")
        citizen.locator("label[for=offence-menaces]").click()
        citizen.locator("label[for=role-victime]").click()
        citizen.get_by_label("En quelques mots, que s'est-il passé ?").fill("Des menaces de mort par SMS.")
        citizen.locator("label[for=device]").click()
        citizen.locator("label[for=private_place]").click()
        citizen.get_by_role("button", name="Continuer").click()
        expect(citizen.get_by_role("heading", level=1)).to_have_text("Choisir l'unité qui vous recevra")
        citizen.get_by_label("Votre commune ou code postal").fill("Le Mans")
        citizen.get_by_role("button", name="Chercher les unités proches").click()
        citizen.locator(f"a[href*='unite={LE_MANS_UNIT}']").click()
        expect(citizen.get_by_role("heading", level=1)).to_have_text("Choisir un créneau")
        citizen.get_by_role("button", name=re.compile(
            rf"^9 h 00\s*, {WEEKDAYS[day.weekday()]} {date_fr(day)}, réserver$")).click()
        expect(citizen.get_by_role("heading", level=1)).to_have_text(
            "Votre rendez-vous de visio-plainte est confirmé")
        expect(citizen.get_by_text(f"{WEEKDAYS[day.weekday()].lower()} {date_fr(day)} à 9 h 00")).to_be_visible()
        reference = re.search(r"/rendez-vous/(VIS-\d{4}-[0-9A-Z]{6})", citizen.url)
        assert reference, citizen.url
        reference = reference.group(1)
        assert run_axe(citizen) == []

        # The officer sees the booking, takes the case and writes the PV.
        officer.reload()
        expect(officer.get_by_role("table", name=f"Créneaux du {date_fr(day)}")).to_contain_text("1 / 1")
        officer.goto("/agents/")
        _console_menu(officer, "Dossiers de l'unité").click()
        officer.get_by_role("link", name=reference, exact=True).click()
        expect(officer.get_by_role("heading", level=1)).to_have_text(f"Dossier {reference}")
        officer.get_by_role("button", name="Prendre en charge").click()
        expect(officer.locator("#notice")).to_contain_text("Vous avez pris ce dossier en charge.")
        officer.get_by_role("link", name="Rédiger le procès-verbal").click()
        expect(officer.get_by_role("heading", level=1)).to_have_text(f"Procès-verbal du dossier {reference}")
        officer.get_by_label("Texte du procès-verbal").fill(STATEMENT)
        officer.get_by_role("button", name="Envoyer au plaignant").click()
        expect(officer.locator("#notice")).to_contain_text("Le procès-verbal est envoyé.")
        expect(officer.get_by_text("en attente de la réponse du plaignant")).to_be_visible()
        assert run_axe(officer) == []

        # The citizen reads it in Mon espace and validates it.
        row = _space_row(citizen, reference)
        expect(row).to_contain_text("PV disponible")
        row.get_by_role("link", name="Relire le procès-verbal").click()
        expect(citizen.locator("#pv")).to_contain_text(STATEMENT)
        assert run_axe(citizen) == []
        citizen.locator("label[for=decision-validee]").click()
        citizen.locator("#pv").get_by_role("button", name="Envoyer ma réponse").click()
        expect(citizen.get_by_text("Vous avez validé le procès-verbal. L'unité va clôturer votre dossier.")) \
            .to_be_visible()
        expect(citizen.locator("#pv")).to_contain_text("Vous avez validé la version 1")

        # The officer sees the validation, and closes the case.
        officer.reload()
        expect(officer.locator("#statement summary")).to_have_text(
            re.compile(r"^Version 1, envoyée le .+ —\s+Validé le .+$"))
        officer.get_by_role("link", name="la page du dossier").click()
        officer.get_by_label("Motif de clôture").select_option("plainte_enregistree")
        officer.get_by_role("button", name="Clôturer").click()
        # The hearing booked nine days ahead has not taken place in this test: closing also frees its seat.
        expect(officer.locator("#notice")).to_contain_text("Le dossier est clôturé et son rendez-vous de "
                                                          "visio-plainte annulé")

        expect(_space_row(citizen, reference)).to_contain_text("Clôturée")
