"""Visio-plainte as the citizen goes through it: eligibility, unit, slot, booking, calendar, cancel, reschedule."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from accounts.models import OutboxMessage
from complaints import visio
from complaints.models import Booking, Case
from tests.accounts.conftest import csrf_token
from tests.complaints.conftest import LE_MANS_UNIT

GOOD = {"role": "victime", "offence": "menaces", "description": "Mon ancien associé me menace au téléphone.",
        "device": "oui", "private_place": "oui"}


def future_series(db_session, days: int = 2, start: str = "09:00", end: str = "10:00", capacity: str = "1",
                  unit: str = LE_MANS_UNIT):
    now = datetime.now(UTC)
    day = (now.astimezone(visio.PARIS) + timedelta(days=days)).date()
    parsed, errors, _ = visio.parse_series({"day": day.isoformat(), "start": start, "end": end, "length": "30",
                                            "capacity": capacity}, now)
    assert not errors, errors
    slots = [SimpleNamespace(id=s.id, starts_at=s.starts_at) for s in visio.publish_slots(db_session, unit, None,
                                                                                            parsed, now)]
    db_session.commit()  # the views' short write transactions start by letting go of what is not committed
    return slots


def post(client, path: str, data: dict, page: str | None = None):
    token = csrf_token(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def answer(client, data=None):
    return post(client, "/visio-plainte/eligibilite", data or GOOD)


def book(client, slot_id: int):
    return post(client, "/visio-plainte/reservation", {"slot": str(slot_id)},
                page=f"/visio-plainte/creneaux?unite={LE_MANS_UNIT}")


def test_the_start_page_says_it_is_optional_and_what_is_needed(client):
    page = client.get("/visio-plainte").get_data(as_text=True)
    assert "toujours facultative" in page and "caméra" in page and "FranceConnect" in page
    assert "/visio-plainte/eligibilite" in page


def test_the_catalogue_procedure_leads_to_the_service(client):
    page = client.get("/demarches/visio-plainte").get_data(as_text=True)
    assert 'href="/visio-plainte"' in page


def test_an_anonymous_visitor_is_asked_to_sign_in(client):
    response = client.get("/visio-plainte/eligibilite")
    assert response.status_code == 302 and "/connexion?next=/visio-plainte/eligibilite" in response.headers["Location"]


def test_an_email_citizen_is_asked_to_confirm_their_identity_with_franceconnect(email_citizen):
    response = email_citizen.get("/visio-plainte/eligibilite")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Confirmez votre identité avec FranceConnect" in page and "fr-connect" in page
    assert 'name="next" value="/visio-plainte/eligibilite"' in page
    assert "Quitter rapidement ce site" in page


def test_the_questions_carry_the_quick_exit_and_are_never_cached(citizen):
    response = citizen.get("/visio-plainte/eligibilite")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Quitter rapidement ce site" in page and response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert 'hx-history="false"' in page


def test_missing_answers_are_shown_on_their_fields(citizen):
    response = answer(citizen, {"offence": "menaces"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<title>Erreur : " in page and 'href="#role"' in page and 'id="device-error"' in page
    assert 'aria-describedby="description-hint description-error"' in page


def test_a_sexual_offence_leads_to_an_in_person_hearing_never_a_booking(citizen, db_session):
    future_series(db_session)
    response = answer(citizen, {"offence": "infraction_sexuelle"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/visio-plainte/en-personne")
    page = citizen.get("/visio-plainte/en-personne?commune=Le Mans").get_data(as_text=True)
    assert "recueillie en personne" in page and 'href="tel:17"' in page and "Quitter rapidement" in page
    assert "Commissariat" in page and "/commissariats" in page
    assert "/visio-plainte/reservation" not in page
    # Nothing kept that would allow a booking.
    assert citizen.get(f"/visio-plainte/creneaux?unite={LE_MANS_UNIT}").status_code == 302


def test_a_minor_is_sent_to_a_legal_representative(app, local_fc, db_session):
    from tests.complaints.conftest import sign_in_franceconnect

    minor = sign_in_franceconnect(app, local_fc, db_session, "mineur")
    page = answer(minor).get_data(as_text=True)
    assert "représentant légal" in page and "/visio-plainte/reservation" not in page


def test_the_whole_booking(app, citizen, db_session):
    first, second = future_series(db_session)
    assert answer(citizen).headers["Location"].endswith("/visio-plainte/unite")
    units = citizen.get("/visio-plainte/unite?commune=Le Mans").get_data(as_text=True)
    assert "Commissariat de police du Mans" in units.split("Voir les créneaux")[0]  # units with slots first
    slots = citizen.get(f"/visio-plainte/creneaux?unite={LE_MANS_UNIT}")
    assert slots.status_code == 200 and slots.headers["Cache-Control"] == "no-store"
    assert f'name="slot" value="{first.id}"' in slots.get_data(as_text=True)
    booked = book(citizen, first.id)
    assert booked.status_code == 303
    reference = booked.headers["Location"].split("/rendez-vous/")[1].split("?")[0]
    with app.app_context():  # the sealed columns open with the application's keys
        case = db_session.scalar(select(Case).where(Case.reference == reference))
        assert case.account_id == citizen.account_id and case.offence == "menaces" and case.status == "deposee"
        assert case.details["description"] == GOOD["description"]
    case_id = case.id
    page = citizen.get(booked.headers["Location"]).get_data(as_text=True)
    local = first.starts_at.astimezone(visio.PARIS)
    assert "Votre rendez-vous de visio-plainte est confirmé" in page
    assert f"{local.hour} h {local.minute:02d}" in page and "Commissariat de police du Mans" in page
    assert "Ajouter à mon agenda" in page and "Rejoindre" not in page.split("Le bouton")[0]
    mail = db_session.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("%visio-plainte est confirmé"))
                              .order_by(OutboxMessage.id.desc())).first()
    assert mail.recipient == "wossewodda-3728@yopmail.com" and reference in mail.body
    assert "associé" not in mail.body and "menace" not in mail.body.lower()
    # The calendar file.
    ics = citizen.get(f"/visio-plainte/rendez-vous/{reference}/agenda.ics")
    assert ics.headers["Content-Type"].startswith("text/calendar") and "attachment" in ics.headers[
        "Content-Disposition"]
    event = Calendar.from_ical(ics.data).walk("VEVENT")[0]
    uid = str(event["uid"])
    assert event["sequence"] == 0
    # Reschedule: the new seat, the same UID, SEQUENCE bumped.
    moved = post(citizen, f"/visio-plainte/rendez-vous/{reference}/deplacement", {"slot": str(second.id)})
    assert moved.status_code == 303
    assert db_session.scalar(select(Booking.slot_id).where(Booking.case_id == case_id)) == second.id
    event = Calendar.from_ical(citizen.get(f"/visio-plainte/rendez-vous/{reference}/agenda.ics").data
                               ).walk("VEVENT")[0]
    assert str(event["uid"]) == uid and event["sequence"] == 1
    # Cancel: the seat freed, the case closed, the calendar file now a cancellation.
    cancelled = post(citizen, f"/visio-plainte/rendez-vous/{reference}/annulation", {})
    assert cancelled.status_code == 303
    assert db_session.scalar(select(func.count(Booking.id)).where(Booking.case_id == case_id)) == 0
    assert db_session.scalar(select(Case.status).where(Case.id == case_id)) == "cloturee"
    calendar = Calendar.from_ical(citizen.get(f"/visio-plainte/rendez-vous/{reference}/agenda.ics").data)
    assert calendar["method"] == "CANCEL" and str(calendar.walk("VEVENT")[0]["uid"]) == uid
    assert "Rendez-vous annulé" in citizen.get(f"/visio-plainte/rendez-vous/{reference}").get_data(as_text=True)


def test_a_slot_taken_meanwhile_is_answered_clearly(citizen, other_citizen, db_session):
    (slot,) = future_series(db_session, end="09:30")
    answer(other_citizen)
    assert book(other_citizen, slot.id).status_code == 303
    answer(citizen)
    response = book(citizen, slot.id)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "Ce créneau vient d'être réservé par une autre personne" in page and "<title>Erreur : " in page
    assert db_session.scalar(select(func.count(Case.id)).where(Case.account_id == citizen.account_id)) == 0


def test_booking_without_answers_goes_back_to_the_questions(citizen, db_session):
    (slot,) = future_series(db_session, end="09:30")
    token = csrf_token(citizen.get("/visio-plainte/eligibilite").get_data(as_text=True))
    response = citizen.post("/visio-plainte/reservation", data={"csrf_token": token, "slot": str(slot.id)})
    assert response.status_code == 303 and response.headers["Location"].endswith("/visio-plainte/eligibilite")


@pytest.mark.parametrize("suffix", ["", "/agenda.ics", "/annulation", "/deplacement"])
def test_another_citizens_booking_is_not_found(citizen, other_citizen, db_session, suffix):
    (slot,) = future_series(db_session, end="09:30")
    answer(other_citizen)
    reference = book(other_citizen, slot.id).headers["Location"].split("/rendez-vous/")[1].split("?")[0]
    assert citizen.get(f"/visio-plainte/rendez-vous/{reference}{suffix}").status_code == 404
    assert other_citizen.get(f"/visio-plainte/rendez-vous/{reference}{suffix}").status_code == 200


# --- Review fixes ---------------------------------------------------------------------------------------------------


def booked_reference(citizen, db_session, **series) -> tuple[str, list]:
    slots = future_series(db_session, **series)
    answer(citizen)
    booked = book(citizen, slots[0].id)
    assert booked.status_code == 303
    return booked.headers["Location"].split("/rendez-vous/")[1].split("?")[0], slots


def add_statement(app, db_session, reference: str) -> None:
    from complaints.models import Statement

    with app.app_context():
        case = db_session.scalar(select(Case).where(Case.reference == reference))
        db_session.add(Statement(case=case, version=1, text="PV de test", sent_at=datetime.now(UTC)))
        db_session.commit()


def test_once_a_pv_exists_the_hearing_is_neither_cancelled_nor_moved(app, citizen, db_session):
    reference, (first, second) = booked_reference(citizen, db_session)
    add_statement(app, db_session, reference)
    page = citizen.get(f"/visio-plainte/rendez-vous/{reference}").get_data(as_text=True)
    assert "Annuler le rendez-vous" not in page and "Déplacer le rendez-vous" not in page
    for suffix, verb in (("annulation", "annulé"), ("deplacement", "déplacé")):
        shown = citizen.get(f"/visio-plainte/rendez-vous/{reference}/{suffix}")
        assert shown.status_code == 409
        refused = post(citizen, f"/visio-plainte/rendez-vous/{reference}/{suffix}", {"slot": str(second.id)},
                       page=f"/visio-plainte/rendez-vous/{reference}")
        text = html.unescape(refused.get_data(as_text=True))
        assert refused.status_code == 409 and "<title>Erreur : " in text
        assert f"Un procès-verbal a déjà été rédigé pour ce dossier : le rendez-vous ne peut plus être {verb}" in text
        assert f'href="/visio-plainte/rendez-vous/{reference}"' in text
    assert db_session.scalar(select(Booking.slot_id).join(Case).where(Case.reference == reference)) == first.id
    assert db_session.scalar(select(Case.status).where(Case.reference == reference)) == "deposee"


def test_a_hearing_less_than_an_hour_away_cannot_be_cancelled(app, citizen, db_session):
    from complaints.models import HearingSlot

    reference, _ = booked_reference(citizen, db_session)
    with app.app_context():  # the hearing now starts in 30 minutes
        slot_id = db_session.scalar(select(Booking.slot_id).join(Case).where(Case.reference == reference))
        slot = db_session.get(HearingSlot, slot_id)
        slot.starts_at = datetime.now(UTC) + timedelta(minutes=30)
        slot.ends_at = slot.starts_at + timedelta(minutes=30)
        db_session.commit()
    refused = post(citizen, f"/visio-plainte/rendez-vous/{reference}/annulation", {},
                   page=f"/visio-plainte/rendez-vous/{reference}")
    assert refused.status_code == 409 and "moins d&#39;une heure" in refused.get_data(as_text=True)
    assert db_session.scalar(select(func.count(Booking.id)).join(Case).where(Case.reference == reference)) == 1


def test_the_join_link_on_mon_espace_and_the_case_page_is_the_quoted_room(app, citizen, db_session):
    from complaints.models import HearingSlot

    now = datetime.now(UTC)
    with app.app_context():
        slot = HearingSlot(unit_id=LE_MANS_UNIT, starts_at=now + timedelta(minutes=5),
                           ends_at=now + timedelta(minutes=35), capacity=1, created_at=now)
        db_session.add(slot)
        db_session.flush()
        case = Case(reference=visio.new_reference("visio_plainte", now), kind="visio_plainte", status="deposee",
                    offence="menaces", account_id=citizen.account_id, unit_id=LE_MANS_UNIT, identity_verified=True,
                    identity={}, details={"hearing": visio.hearing_details(slot, "Commissariat", 0)},
                    created_at=now, updated_at=now)
        db_session.add(case)
        db_session.flush()
        db_session.add(Booking(slot_id=slot.id, seat=1, case_id=case.id, account_id=citizen.account_id,
                               room="vp-a/b c{x}", created_at=now))
        reference = case.reference
        db_session.commit()
    link = 'href="https://visio.invalid/vp-a%2Fb%20c%7Bx%7D"'
    assert link in citizen.get("/mon-espace").get_data(as_text=True)
    assert link in citizen.get(f"/mon-espace/dossiers/{reference}").get_data(as_text=True)
    assert link in citizen.get(f"/visio-plainte/rendez-vous/{reference}").get_data(as_text=True)


def test_a_refused_booking_whose_unit_is_gone_says_why_instead_of_failing(app, db_session):
    from complaints.views import visio as visio_views

    with app.test_request_context("/visio-plainte/reservation", method="POST"):
        response = visio_views._refused_booking("unite-disparue", datetime.now(UTC),
                                                visio.VisioError("Ce créneau n'est plus proposé.", status=409))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 409 and "Ce créneau n'est plus proposé." in page and "<title>Erreur : " in page


@pytest.mark.parametrize(("path", "limit"), [("/visio-plainte/eligibilite", 30),
                                             ("/visio-plainte/rendez-vous/{reference}/annulation", 10),
                                             ("/visio-plainte/rendez-vous/{reference}/deplacement", 20)])
def test_answering_cancelling_and_moving_are_rate_limited_per_account(app, citizen, db_session, path, limit):
    reference = ""
    if "{reference}" in path:
        reference, _ = booked_reference(citizen, db_session)
        add_statement(app, db_session, reference)  # every attempt is refused (409): nothing changes meanwhile
    path = path.format(reference=reference)
    token = csrf_token(citizen.get("/visio-plainte").get_data(as_text=True))
    statuses = [citizen.post(path, data={"csrf_token": token, "offence": "menaces"}).status_code
                for _ in range(limit + 1)]
    assert 429 not in statuses[:limit] and statuses[-1] == 429
    assert "Trop de demandes" in citizen.post(path, data={"csrf_token": token}).get_data(as_text=True)


def test_the_minor_page_quotes_the_119_as_its_source_does(app, local_fc, db_session):
    from tests.complaints.conftest import sign_in_franceconnect

    minor = sign_in_franceconnect(app, local_fc, db_session, "mineur")
    page = html.unescape(answer(minor).get_data(as_text=True))
    assert "gratuit et confidentiel, 24h/24 et 7 jours/7" in page and "anonymement" not in page


def test_the_eligibility_question_does_not_say_the_author_is_unknown(citizen):
    page = html.unescape(citizen.get("/visio-plainte/eligibilite").get_data(as_text=True))
    assert "Vol de téléphone portable" in page and "que vous ne connaissez pas" not in page
