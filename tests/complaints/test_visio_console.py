"""The unit's agenda in the console, and the "Rejoindre" link on both sides at the hearing's time."""

from __future__ import annotations

import html
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from agents.models import AuditEvent
from complaints import visio
from complaints.cases import new_reference, record_event
from complaints.models import Booking, Case, HearingSlot
from portal.security import limiter
from tests.accounts.conftest import csrf_token
from tests.agents.helpers import make_agent, sign_in_agent
from tests.complaints.conftest import IDENTITY_TEST, LE_MANS_UNIT

_counter = itertools.count(1)


def paris_day(days: int) -> str:
    return (datetime.now(UTC).astimezone(visio.PARIS) + timedelta(days=days)).date().isoformat()


def signed_in_officer(app, db_session, unit_id: str):
    email = f"agenda{next(_counter)}@interieur.gouv.fr"
    agent, secret = make_agent(db_session, email=email, unit_id=unit_id)
    limiter.reset()
    client = app.test_client()
    client.agent_id = agent.id
    sign_in_agent(client, email, totp_secret=secret)
    return client


@pytest.fixture
def officer(app, db_session):
    return signed_in_officer(app, db_session, LE_MANS_UNIT)


def publish(officer, **fields):
    token = csrf_token(officer.get("/agents/agenda").get_data(as_text=True))
    data = {"day": paris_day(3), "start": "09:00", "end": "10:00", "length": "30", "capacity": "1", **fields}
    return officer.post("/agents/agenda", data={"csrf_token": token, **data})


def unit_slots(db_session, unit_id=LE_MANS_UNIT) -> list[tuple[int, datetime]]:
    return [tuple(r) for r in db_session.execute(select(HearingSlot.id, HearingSlot.starts_at)
                                                 .where(HearingSlot.unit_id == unit_id)
                                                 .order_by(HearingSlot.starts_at)).all()]


def test_an_officer_publishes_a_series_and_sees_it(officer, db_session):
    response = publish(officer, start="14:00", end="16:00", length="30", capacity="2")
    assert response.status_code == 303 and response.headers["Location"].endswith("/agents/agenda?fait=publie")
    assert len(unit_slots(db_session)) == 4
    page = officer.get("/agents/agenda")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "14 h 00 – 14 h 30" in text and "15 h 30 – 16 h 00" in text and "0 / 2" in text
    assert db_session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "slot.publish",
                                                                     AuditEvent.agent_id == officer.agent_id)) == 1


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"day": paris_day(-1)}, "day", "passée"),
    ({"start": "10:00", "end": "09:00"}, "end", "après l'heure de début"),
    ({"start": "09:00", "end": "10:00", "length": "45"}, "length", "ne se découpe pas"),
    ({"capacity": "0"}, "capacity", "entre 1 et 10"),
    ({"capacity": "12"}, "capacity", "entre 1 et 10"),
])
def test_publishing_mistakes_are_shown_on_their_fields(officer, db_session, fields, field, words):
    response = publish(officer, **fields)
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "<title>Erreur : " in text and f'href="#slot-{field}"' in text and f'id="slot-{field}-error"' in text
    assert words in text
    assert unit_slots(db_session) == []


def test_a_free_slot_is_removed_a_booked_one_stays_and_another_units_is_not_found(app, officer, db_session):
    publish(officer)
    (free_id, _), (booked_id, _) = unit_slots(db_session)
    with app.app_context():
        reference = visio_case(db_session, slot_id=booked_id).reference
        db_session.commit()
    token = csrf_token(officer.get("/agents/agenda").get_data(as_text=True))
    refused = officer.post(f"/agents/agenda/creneaux/{booked_id}/retrait", data={"csrf_token": token})
    assert refused.status_code == 409 and "réservé" in refused.get_data(as_text=True)
    assert "Réservé" in officer.get("/agents/agenda").get_data(as_text=True)
    removed = officer.post(f"/agents/agenda/creneaux/{free_id}/retrait", data={"csrf_token": token})
    assert removed.status_code == 303
    assert [slot_id for slot_id, _ in unit_slots(db_session)] == [booked_id]
    # An officer of another unit can neither see nor remove them.
    other_unit = db_session.scalar(select(HearingSlot.unit_id).where(HearingSlot.unit_id != LE_MANS_UNIT))
    other_unit = other_unit or "commissariat_police-01053-01"
    stranger = signed_in_officer(app, db_session, other_unit)
    assert "Aucun créneau publié" in stranger.get("/agents/agenda").get_data(as_text=True)
    token = csrf_token(stranger.get("/agents/agenda").get_data(as_text=True))
    assert stranger.post(f"/agents/agenda/creneaux/{booked_id}/retrait",
                         data={"csrf_token": token}).status_code == 404
    assert stranger.get(f"/agents/dossiers/{reference}/pv").status_code == 404
    assert len(unit_slots(db_session)) == 1


def test_citizens_never_reach_the_agenda(citizen):
    response = citizen.get("/agents/agenda")
    assert response.status_code in (302, 303) and "/agents/connexion" in response.headers["Location"]


# --- The hearing link ----------------------------------------------------------------------------------------------


def visio_case(db_session, slot_id: int | None = None, starts_in: timedelta | None = None,
               account_id: int | None = None) -> Case:
    """A booked visio-plainte case; a slot is made ``starts_in`` from now when no ``slot_id`` is given."""
    from accounts.models import Account

    now = datetime.now(UTC)
    if account_id is None:
        account = Account(issuer="https://fc.example", subject=f"agenda-{next(_counter)}", identity_verified=True,
                          created_at=now, last_login_at=now)
        db_session.add(account)
        db_session.flush()
        account_id = account.id
    if slot_id is None:
        slot = HearingSlot(unit_id=LE_MANS_UNIT, starts_at=now + starts_in, ends_at=now + starts_in
                           + timedelta(minutes=30), capacity=1, created_at=now)
        db_session.add(slot)
        db_session.flush()
        slot_id = slot.id
    slot = db_session.get(HearingSlot, slot_id)
    case = Case(reference=new_reference("visio_plainte"), kind="visio_plainte", status="deposee", offence="menaces",
                account_id=account_id, unit_id=LE_MANS_UNIT, identity_verified=True, identity=dict(IDENTITY_TEST),
                details={"description": "Test", "hearing": visio.hearing_details(slot, "Commissariat", 0)},
                created_at=now, updated_at=now)
    db_session.add(case)
    db_session.flush()
    record_event(db_session, case, "citizen", "rdv_pris")
    db_session.add(Booking(slot_id=slot_id, seat=1, case_id=case.id, account_id=account_id, room="vp-salle-test",
                           created_at=now))
    db_session.flush()
    return case


@pytest.mark.parametrize(("starts_in", "shown"), [(timedelta(minutes=10), True), (timedelta(hours=2), False),
                                                  (timedelta(minutes=-20), True), (timedelta(minutes=-40), False)])
def test_both_sides_get_the_join_link_from_fifteen_minutes_before_to_the_end(app, officer, citizen, db_session,
                                                                             starts_in, shown):
    with app.app_context():
        reference = visio_case(db_session, starts_in=starts_in, account_id=citizen.account_id).reference
        db_session.commit()
    link = 'href="https://visio.invalid/vp-salle-test"'
    citizen_page = citizen.get(f"/visio-plainte/rendez-vous/{reference}").get_data(as_text=True)
    officer_page = officer.get(f"/agents/dossiers/{reference}/pv").get_data(as_text=True)
    assert (link in citizen_page) is shown
    assert (link in officer_page) is shown
    assert ">Rejoindre</a>" in officer_page if shown else "15 minutes avant" in officer_page


def test_the_booked_slot_shows_in_the_agenda_with_a_link_to_its_case(app, officer, db_session):
    with app.app_context():
        reference = visio_case(db_session, starts_in=timedelta(days=1)).reference
        db_session.commit()
    page = officer.get("/agents/agenda").get_data(as_text=True)
    assert "1 / 1" in page
    assert f'<a href="/agents/dossiers/{reference}">Dossier {reference}</a>' in page
    assert officer.get(f"/agents/dossiers/{reference}").status_code == 200


# --- Closing a visio-plainte: the seat is freed, the hearing cancelled, never joined ---------------------------------


def _closing_setup(db_session, starts_in: timedelta = timedelta(days=2)):
    """(officer, citizen's account, case) with a hearing on a slot of capacity one, the case taken by the officer."""
    from agents.models import Agent
    from complaints import console

    case = visio_case(db_session, starts_in=starts_in)
    officer = Agent(email=f"cloture{next(_counter)}@interieur.gouv.fr", display_name="Lieutenant Martin",
                    roles=["officer"], unit_id=LE_MANS_UNIT, created_at=datetime.now(UTC))
    db_session.add(officer)
    db_session.flush()
    console.take_case(db_session, officer, case)
    return officer, case


def test_closing_a_case_before_its_hearing_frees_the_seat_and_cancels_the_hearing(app, db_session):
    from icalendar import Calendar

    from accounts.identity import Identity
    from complaints import console

    with app.app_context():
        officer, case = _closing_setup(db_session)
        booking = visio.booking_for_case(db_session, case)
        slot_id, account_id, now = booking.slot_id, case.account_id, datetime.now(UTC)
        assert slot_id not in [s.id for s in visio.free_slots(db_session, LE_MANS_UNIT, now)[0]]  # the seat is taken

        console.close_case(db_session, officer, case, "doublon", now=now)

        assert case.status == "cloturee" and visio.booking_for_case(db_session, case) is None
        assert slot_id in [s.id for s in visio.free_slots(db_session, LE_MANS_UNIT, now)[0]]  # free again
        hearing = case.details["hearing"]
        assert hearing["cancelled"] is True and hearing["sequence"] == 1
        shown = visio.hearing_view(case, None, now)
        assert shown.cancelled and not shown.booked and shown.join_url is None
        ics = Calendar.from_ical(visio.calendar(case.reference, hearing, "a@example.org", "A", "portail@example.org",
                                                "https://portail.example/rdv", now))
        assert ics["method"] == "CANCEL"
        # The citizen's e-mail says the appointment is cancelled, and when it was.
        cancelled = console.cancelled_hearing(case)
        _, body = console.citizen_notice(case.reference, "close", "https://portail.example/mon-espace", cancelled)
        when = visio.format_datetime(datetime.fromisoformat(hearing["starts_at"]), weekday=True)
        assert f"Votre rendez-vous de visio-plainte du {when} (heure de Paris)" in body and "annulé" in body
        # Nothing holds the citizen back from booking again (the same slot, even).
        visio.save_answers(db_session, account_id, {"role": "victime", "offence": "menaces", "description": "Test",
                                                    "outcome": visio.OUTCOME_ELIGIBLE}, now)
        adult = Identity(given_names=("Angela",), family_name="DUBOIS", birthdate="1962-08-24",
                         email="angela@example.org", verified=True)
        again = visio.book(db_session, visio.prepare_booking(db_session, account_id, adult, slot_id, now), now)
        assert visio.booking_for_case(db_session, again).slot_id == slot_id


def test_closing_a_case_whose_hearing_started_keeps_the_booking_but_never_offers_to_join(app, db_session):
    from accounts.identity import Identity
    from complaints import console

    with app.app_context():
        officer, case = _closing_setup(db_session, starts_in=timedelta(minutes=-5))
        now = datetime.now(UTC)
        assert visio.hearing_view(case, visio.booking_for_case(db_session, case), now).join_url  # under way
        console.close_case(db_session, officer, case, "plainte_enregistree", now=now)
        booking = visio.booking_for_case(db_session, case)
        assert booking is not None and not case.details["hearing"]["cancelled"]  # the hearing is history
        assert console.cancelled_hearing(case) is None
        assert visio.hearing_view(case, booking, now).join_url is None
        assert console.join_link(case, booking, now) is None
        # The closed case's hearing no longer counts as "already booked".
        assert visio.upcoming_booking(db_session, case.account_id, now) is None
        later = HearingSlot(unit_id=LE_MANS_UNIT, starts_at=now + timedelta(days=3),
                            ends_at=now + timedelta(days=3, minutes=30), capacity=1, created_at=now)
        db_session.add(later)
        db_session.flush()
        visio.save_answers(db_session, case.account_id, {"role": "victime", "offence": "menaces",
                                                         "description": "Test", "outcome": visio.OUTCOME_ELIGIBLE},
                           now)
        adult = Identity(given_names=("Angela",), family_name="DUBOIS", birthdate="1962-08-24",
                         email="angela@example.org", verified=True)
        assert visio.prepare_booking(db_session, case.account_id, adult, later.id, now).slot_id == later.id


def _take_and_close(officer, reference: str, reason: str = "doublon"):
    page = officer.get(f"/agents/dossiers/{reference}").get_data(as_text=True)
    taken = officer.post(f"/agents/dossiers/{reference}/prendre", data={"csrf_token": csrf_token(page),
                                                                         "statut": "deposee"})
    assert taken.status_code == 303
    page = officer.get(f"/agents/dossiers/{reference}").get_data(as_text=True)
    return officer.post(f"/agents/dossiers/{reference}/cloturer",
                        data={"csrf_token": csrf_token(page), "statut": "en_cours", "reason": reason})


def test_an_officer_closing_a_visio_plainte_before_the_hearing_cancels_it_for_the_citizen(app, officer, citizen,
                                                                                        db_session):
    from accounts.models import OutboxMessage

    with app.app_context():
        case = visio_case(db_session, starts_in=timedelta(days=2), account_id=citizen.account_id)
        reference = case.reference
        db_session.commit()
    assert "1 / 1" in officer.get("/agents/agenda").get_data(as_text=True)
    closed = _take_and_close(officer, reference)
    assert closed.status_code == 303 and "fait=cloture-rdv" in closed.headers["Location"]
    page = html.unescape(officer.get(closed.headers["Location"]).get_data(as_text=True))
    assert "le créneau est de nouveau libre" in page and "Rendez-vous de visio-plainte annulé" in page
    assert "0 / 1" in officer.get("/agents/agenda").get_data(as_text=True)  # the seat is free again
    assert db_session.scalar(select(func.count(Booking.id)).join(Case, Case.id == Booking.case_id)
                             .where(Case.reference == reference)) == 0
    mail = db_session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == IDENTITY_TEST["email"])
                              .order_by(OutboxMessage.id.desc())).first()
    assert mail.subject == f"Votre dossier {reference} a été clôturé"
    assert "rendez-vous de visio-plainte du" in mail.body and "est donc annulé" in mail.body
    booking_page = html.unescape(citizen.get(f"/visio-plainte/rendez-vous/{reference}").get_data(as_text=True))
    assert "Rendez-vous annulé" in booking_page and "Rejoindre</a>" not in booking_page
    ics = citizen.get(f"/visio-plainte/rendez-vous/{reference}/agenda.ics")
    assert "METHOD:CANCEL" in ics.get_data(as_text=True)


def test_a_closed_case_is_never_joined_at_its_hearings_time(app, officer, citizen, db_session):
    with app.app_context():
        case = visio_case(db_session, starts_in=timedelta(minutes=5), account_id=citizen.account_id)
        reference = case.reference
        case.status, case.closed_at = "cloturee", datetime.now(UTC)
        db_session.commit()
    link = "https://visio.invalid/vp-salle-test"
    assert link not in citizen.get(f"/visio-plainte/rendez-vous/{reference}").get_data(as_text=True)
    assert link not in officer.get(f"/agents/dossiers/{reference}").get_data(as_text=True)
    assert link not in officer.get(f"/agents/dossiers/{reference}/pv").get_data(as_text=True)


@pytest.mark.parametrize("slot_id", ["2147483648", "99999999999999999999", "123456789012345678901234567890"])
def test_removing_a_slot_with_an_absurd_number_is_not_found(officer, slot_id):
    token = csrf_token(officer.get("/agents/agenda").get_data(as_text=True))
    assert officer.post(f"/agents/agenda/creneaux/{slot_id}/retrait", data={"csrf_token": token}).status_code == 404


def test_every_integer_in_a_route_is_bounded(app):
    """A number longer than the database's integers must be a 404, not an overflow (500): every <int:…> has a max."""
    from werkzeug.routing import IntegerConverter

    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                assert converter.max is not None and converter.max <= 2**31 - 1, f"{rule.rule}: {name} unbounded"


def test_an_editor_without_the_officer_role_is_refused_the_agenda_and_the_pv(app, db_session):
    with app.app_context():
        reference = visio_case(db_session, starts_in=timedelta(days=1)).reference
        db_session.commit()
    email = f"redaction{next(_counter)}@interieur.gouv.fr"
    _, secret = make_agent(db_session, email=email, roles=("editor",), unit_id=LE_MANS_UNIT)
    limiter.reset()
    editor = app.test_client()
    sign_in_agent(editor, email, totp_secret=secret)
    token = csrf_token(editor.get("/agents/").get_data(as_text=True))  # its sign-out form
    assert editor.get("/agents/agenda").status_code == 403
    refused = editor.post("/agents/agenda", data={"csrf_token": token, "day": paris_day(3), "start": "09:00",
                                                  "end": "10:00", "length": "30", "capacity": "1"})
    assert refused.status_code == 403 and "Accès réservé" in html.unescape(refused.get_data(as_text=True))
    slot_id = db_session.scalar(select(Booking.slot_id).join(Case, Case.id == Booking.case_id)
                                .where(Case.reference == reference))
    assert editor.post(f"/agents/agenda/creneaux/{slot_id}/retrait", data={"csrf_token": token}).status_code == 403
    assert editor.get(f"/agents/dossiers/{reference}/pv").status_code == 403
    assert editor.post(f"/agents/dossiers/{reference}/pv", data={"csrf_token": token, "text": "PV"}).status_code == 403
    assert unit_slots(db_session) == [(slot_id, db_session.get(HearingSlot, slot_id).starts_at)]
    assert db_session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.target_id == reference)) == 0
