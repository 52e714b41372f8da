"""Plainte en ligne through the test client, without JavaScript: every step, the summary, the submission."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from accounts.models import OutboxMessage
from complaints import online
from complaints.models import Case, CaseEvent, Draft
from tests.accounts.conftest import csrf_token
from tests.complaints.conftest import LE_MANS_UNIT, sign_in_franceconnect

REFERENCE = re.compile(r"^PEL-\d{4}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6}$")
NARRATIVE = "Mon téléphone a disparu de ma poche dans le tram ligne T1, vers la station République."
VALID_IMEI = "490154203237518"  # Luhn-valid


def post_step(client, step: str, data: dict, follow: bool = False):
    page = client.get(f"/plainte-en-ligne/{step}")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    return client.post(f"/plainte-en-ligne/{step}", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                          **data}, follow_redirects=follow)


def yesterday() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).date().isoformat()


def fill_all_steps(client) -> None:
    assert post_step(client, "faits", {"offence": "vol_telephone"}).headers["Location"].endswith("/date")
    assert post_step(client, "date", {"start_date": yesterday(), "start_time": "18:00", "end_date": yesterday(),
                                      "end_time": "18:45"}).headers["Location"].endswith("/lieu")
    assert post_step(client, "lieu", {"commune": "Le Mans", "address": "Place de la République"}
                     ).headers["Location"].endswith("/objets")
    assert post_step(client, "objets", {"item-1-type": "telephone", "item-1-description": "Noir, coque rouge",
                                        "item-1-brand": "Fairphone 5", "item-1-imei": VALID_IMEI}
                     ).headers["Location"].endswith("/recit")
    assert post_step(client, "recit", {"narrative": NARRATIVE}).headers["Location"].endswith("/unite")
    unit_page = client.get("/plainte-en-ligne/unite").get_data(as_text=True)
    checked = re.search(r'name="unit_id" value="([^"]+)" checked', unit_page).group(1)
    assert checked == LE_MANS_UNIT  # the nearest unit is preselected
    done = client.post("/plainte-en-ligne/unite", data={"csrf_token": csrf_token(unit_page), "unit_id": checked})
    assert done.status_code == 303 and done.headers["Location"].endswith("/plainte-en-ligne/recapitulatif")


def submit(client, certify: bool = True):
    page = client.get("/plainte-en-ligne/recapitulatif")
    data = {"csrf_token": csrf_token(page.get_data(as_text=True))}
    if certify:
        data["certify"] = "oui"
    return client.post("/plainte-en-ligne/envoyer", data=data)


def test_the_start_page_explains_and_asks_anonymous_visitors_to_sign_in(client):
    page = client.get("/plainte-en-ligne")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "20 minutes" in html and "FranceConnect" in html
    assert 'name="next" value="/plainte-en-ligne"' in html
    step = client.get("/plainte-en-ligne/faits")
    assert step.status_code == 302 and "/connexion?next=" in step.headers["Location"]


def test_the_procedure_page_opens_the_journey_in_the_portal(client):
    html = client.get("/demarches/plainte-en-ligne").get_data(as_text=True)
    assert 'href="/plainte-en-ligne"' in html


def test_a_franceconnect_citizen_files_a_complaint_end_to_end(citizen, db_session, app):
    start = citizen.get("/plainte-en-ligne").get_data(as_text=True)
    assert "DUBOIS" in start and "Commencer ma plainte" in start and "identity-warning" not in start
    fill_all_steps(citizen)
    summary = citizen.get("/plainte-en-ligne/recapitulatif")
    html = summary.get_data(as_text=True)
    assert summary.headers["Cache-Control"] == "no-store" and 'hx-history="false"' in html
    assert "Vol de téléphone portable" in html and "Le Mans (72)" in html and VALID_IMEI in html
    assert "DUBOIS" in html and "Modifier" in html  # identity read-only, and each section editable

    refused = submit(citizen, certify=False)
    assert refused.status_code == 400 and "Erreur : " in refused.get_data(as_text=True)

    response = submit(citizen)
    assert response.status_code == 303
    reference = response.headers["Location"].split("/deposee/")[1].split("?")[0]
    assert REFERENCE.match(reference)
    with app.app_context():  # the sealed columns open with the application's keys
        case = db_session.scalar(select(Case).where(Case.reference == reference))
        assert case.account_id == citizen.account_id and case.status == "deposee"
        assert case.kind == "plainte_en_ligne" and case.offence == "vol_telephone"
        assert case.unit_id == LE_MANS_UNIT and case.identity_verified
        assert case.identity["family_name"] == "DUBOIS" and case.details["narrative"] == NARRATIVE
        assert [e.kind for e in case.events] == ["deposee"]
        db_session.expunge_all()
    assert db_session.scalar(select(func.count()).select_from(Draft)
                             .where(Draft.account_id == citizen.account_id)) == 0

    done = citizen.get(response.headers["Location"])
    page = done.get_data(as_text=True)
    assert reference in page and "recepisse.pdf" in page and done.headers["Cache-Control"] == "no-store"

    message = db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert message.recipient == "wossewodda-3728@yopmail.com" and reference in message.body
    assert "tram" not in message.body and VALID_IMEI not in message.body and "Fairphone" not in message.body

    space = citizen.get("/mon-espace").get_data(as_text=True)
    assert reference in space and "Déposée" in space


def test_a_double_submit_creates_one_case(citizen, db_session):
    fill_all_steps(citizen)
    page = citizen.get("/plainte-en-ligne/recapitulatif").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "certify": "oui"}
    first = citizen.post("/plainte-en-ligne/envoyer", data=data)
    second = citizen.post("/plainte-en-ligne/envoyer", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"].split("?")[0] == second.headers["Location"].split("?")[0]
    count = db_session.scalar(select(func.count()).select_from(Case).where(Case.account_id == citizen.account_id))
    assert count == 1


def test_submit_refuses_a_second_case_from_the_same_draft_at_the_service_level(citizen, db_session, app):
    fill_all_steps(citizen)
    with app.app_context():
        online.submit(db_session, citizen.account_id, None)
        with pytest.raises(online.NothingToSubmit):
            online.submit(db_session, citizen.account_id, None)
        db_session.expunge_all()


def test_an_email_citizen_is_warned_before_starting_and_the_case_is_unverified(email_citizen, db_session, app):
    html = email_citizen.get("/plainte-en-ligne").get_data(as_text=True)
    warning = html.index("Votre identité devra être confirmée à l’unité")
    assert warning < html.index("Commencer ma plainte")
    fill_all_steps(email_citizen)
    response = submit(email_citizen)
    reference = response.headers["Location"].split("/deposee/")[1].split("?")[0]
    with app.app_context():
        case = db_session.scalar(select(Case).where(Case.reference == reference))
        assert not case.identity_verified and case.identity["email"] == "camille@example.org"
        db_session.expunge_all()
    message = db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert message.recipient == "camille@example.org" and "confirmer à l’unité" in message.body


def test_date_errors_are_tied_to_their_fields(citizen):
    post_step(citizen, "faits", {"offence": "vol_velo"})
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    response = post_step(citizen, "date", {"start_date": future, "start_time": "10:00", "end_date": "",
                                           "end_time": "25:99"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "<title>Erreur : " in html
    assert 'href="#start_date"' in html and "ne peut pas être dans le futur" in html
    assert 'id="end_date-error"' in html and 'aria-describedby="end_date-hint end_date-error"' in html
    assert "fr-input-group--error" in html and "heures:minutes" in html
    backwards = post_step(citizen, "date", {"start_date": yesterday(), "start_time": "18:00",
                                            "end_date": yesterday(), "end_time": "17:00"})
    assert "La fin des faits doit être après leur début." in backwards.get_data(as_text=True)


def test_an_unknown_offence_or_commune_is_refused(citizen):
    refused = post_step(citizen, "faits", {"offence": "violences"})  # visio-plainte only
    assert refused.status_code == 400 and "Choisissez ce qui vous est arrivé." in refused.get_data(as_text=True)
    post_step(citizen, "faits", {"offence": "cambriolage"})
    unknown = post_step(citizen, "lieu", {"commune": "Xyzzyville"})
    assert unknown.status_code == 400 and "Aucune commune" in unknown.get_data(as_text=True)


def test_imei_and_card_numbers_are_checked_and_a_full_card_number_refused(citizen):
    post_step(citizen, "faits", {"offence": "vol_portefeuille_sac"})
    bad_imei = post_step(citizen, "objets", {"item-1-type": "telephone", "item-1-imei": "490154203237519"})
    assert bad_imei.status_code == 400 and "IMEI n’est pas valide" in bad_imei.get_data(as_text=True)
    short = post_step(citizen, "objets", {"item-1-type": "telephone", "item-1-imei": "12345"})
    assert "15 chiffres" in short.get_data(as_text=True)
    pan = post_step(citizen, "objets", {"item-1-type": "carte", "item-1-card_last4": "4111 1111 1111 1111"})
    html = pan.get_data(as_text=True)
    assert pan.status_code == 400 and "jamais le numéro complet" in html and "4111 1111 1111 1111" not in html
    hidden = post_step(citizen, "objets", {"item-1-type": "carte", "item-1-description": "carte 4111111111111111"})
    assert hidden.status_code == 400
    narrative = post_step(citizen, "recit", {"narrative": "Ma carte 4111-1111-1111-1111 a servi"})
    assert narrative.status_code == 400
    ok = post_step(citizen, "objets", {"item-1-type": "carte", "item-1-card_last4": "1111",
                                       "item-2-type": "telephone", "item-2-imei": "49 015420 323751 8"})
    assert ok.status_code == 303


def test_the_items_page_gives_the_blocking_numbers_from_service_public(citizen):
    post_step(citizen, "faits", {"offence": "vol_portefeuille_sac"})
    html = citizen.get("/plainte-en-ligne/objets").get_data(as_text=True)
    assert "0 892 705 705" in html and "/fiches/F2428" in html and "/fiches/F1523" in html


def test_a_service_public_fiche_gives_the_card_blocking_number_shown():
    from pathlib import Path

    fiche = Path(__file__).resolve().parents[3] / "shared" / "data" / "fiches" / "xml_2020" / "F2428.xml"
    assert online.CARD_BLOCKING["phone"] in fiche.read_text(encoding="utf-8")


def test_the_draft_is_kept_on_the_server_and_resumed_after_a_new_sign_in(citizen, app, local_fc, db_session):
    post_step(citizen, "faits", {"offence": "vol_velo"})
    post_step(citizen, "date", {"start_date": yesterday(), "start_time": "08:00", "end_date": yesterday(),
                                "end_time": "12:00"})
    page = citizen.get("/plainte-en-ligne/date")
    assert page.headers["Cache-Control"] == "no-store" and 'hx-history="false"' in page.get_data(as_text=True)
    again = sign_in_franceconnect(app, local_fc, db_session, "test")  # another browser, a new session
    space = again.get("/mon-espace").get_data(as_text=True)
    assert "Reprendre ma plainte" in space
    resumed = again.get("/plainte-en-ligne/reprendre")
    assert resumed.headers["Location"].endswith("/plainte-en-ligne/lieu")
    assert 'value="vol_velo" checked' in again.get("/plainte-en-ligne/faits").get_data(as_text=True)


def test_changing_an_answer_from_the_summary_returns_to_it(citizen):
    fill_all_steps(citizen)
    page = citizen.get("/plainte-en-ligne/recit?retour=recapitulatif").get_data(as_text=True)
    assert 'name="retour" value="recapitulatif"' in page
    back = citizen.post("/plainte-en-ligne/recit", data={"csrf_token": csrf_token(page), "retour": "recapitulatif",
                                                         "narrative": "Autre récit"})
    assert back.headers["Location"].endswith("/plainte-en-ligne/recapitulatif")
    assert "Autre récit" in citizen.get("/plainte-en-ligne/recapitulatif").get_data(as_text=True)


def test_commune_suggestions_fill_the_place_step(citizen):
    fragment = citizen.get("/plainte-en-ligne/communes?commune=le man", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "Le Mans (72)" in html and "/plainte-en-ligne/lieu?commune=Le+Mans+72" in html
    assert "<html" not in html


def test_sealed_columns_hold_no_plaintext(citizen, db_session, app):
    fill_all_steps(citizen)
    draft_raw = db_session.execute(text("SELECT data FROM case_draft WHERE account_id = :a"),
                                   {"a": citizen.account_id}).scalar_one()
    assert "tram" not in draft_raw and VALID_IMEI not in draft_raw
    reference = submit(citizen).headers["Location"].split("/deposee/")[1].split("?")[0]
    identity_raw, details_raw = db_session.execute(
        text("SELECT identity, details FROM complaint_case WHERE reference = :r"), {"r": reference}).one()
    assert "DUBOIS" not in identity_raw and "tram" not in details_raw and VALID_IMEI not in details_raw
    assert identity_raw.startswith("g1:") and details_raw.startswith("g1:")
    with app.app_context():
        case_id = db_session.scalar(select(Case.id).where(Case.reference == reference))
        db_session.add(CaseEvent(case_id=case_id, at=datetime.now(UTC), actor="citizen", kind="complement_recu",
                                 message="Message secret du citoyen"))
        db_session.flush()
        db_session.expunge_all()
    raw_messages = db_session.execute(text("SELECT message FROM case_event WHERE message IS NOT NULL")).scalars()
    assert all("secret" not in m for m in raw_messages)


def test_the_citizen_may_send_the_complaint_to_another_unit_than_the_nearest(citizen, db_session, app):
    fill_all_steps(citizen)
    unit_page = citizen.get("/plainte-en-ligne/unite").get_data(as_text=True)
    offered = re.findall(r'name="unit_id" value="([^"]+)"', unit_page)
    assert len(offered) > 1 and offered[0] == LE_MANS_UNIT
    chosen = offered[1]
    assert post_step(citizen, "unite", {"unit_id": chosen}).status_code == 303
    reference = submit(citizen).headers["Location"].split("/deposee/")[1].split("?")[0]
    assert db_session.scalar(select(Case.unit_id).where(Case.reference == reference)) == chosen
    # A unit that was not offered is refused, not silently replaced.
    fill_all_steps(citizen)
    assert post_step(citizen, "unite", {"unit_id": "gendarmerie-inconnue"}).status_code == 400


def test_nothing_the_citizen_wrote_nor_their_identity_reaches_the_logs(citizen, caplog):
    caplog.set_level("DEBUG")
    fill_all_steps(citizen)
    response = submit(citizen)
    assert response.status_code == 303
    logged = caplog.text
    assert "PEL-" in logged  # the reference is what the logs name
    for secret in (NARRATIVE[:30], "tram", VALID_IMEI, "Fairphone", "coque rouge", "République", "DUBOIS",
                   "Angela", "wossewodda", "1962-08-24"):
        assert secret not in logged, secret
