"""Visio-plainte services, with an explicit clock: eligibility, agendas, booking, calendar file, reminders, link."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from accounts.identity import Identity
from accounts.models import Account, OutboxMessage
from complaints import visio
from complaints.models import Case, CaseEvent, Draft, HearingSlot
from tests.complaints.conftest import LE_MANS_UNIT

# A Tuesday morning in Paris (UTC+1 in winter).
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ADULT = Identity(given_names=("Angela",), family_name="DUBOIS", birthdate="1962-08-24",
                 email="angela@example.org", verified=True)
GOOD_FORM = {"role": "victime", "offence": "violences", "description": "Mon voisin m'a frappé.",
             "device": "oui", "private_place": "oui"}


@pytest.fixture(autouse=True)
def context(app):
    """Sealed columns need the application's keys: the services run in an application context."""
    with app.app_context():
        yield


def account(db_session, subject: str = "visio-citizen") -> Account:
    acc = Account(issuer="https://fc.example", subject=subject, identity_verified=True, created_at=NOW,
                  last_login_at=NOW)
    db_session.add(acc)
    db_session.flush()
    return acc


def series(day=date(2026, 12, 3), start="09:00", end="10:00", length="30", capacity="1"):
    return {"day": day.isoformat() if isinstance(day, date) else day, "start": start, "end": end,
            "length": length, "capacity": capacity}


def publish(db_session, unit=LE_MANS_UNIT, **kwargs):
    parsed, errors, _ = visio.parse_series(series(**kwargs), NOW)
    assert not errors, errors
    return visio.publish_slots(db_session, unit, None, parsed, NOW)


def eligible(db_session, acc, form=None):
    answer = visio.check_eligibility(form or GOOD_FORM, ADULT, NOW.date())
    assert answer.outcome == visio.OUTCOME_ELIGIBLE, answer.errors
    visio.save_answers(db_session, acc.id, {**answer.answers, "outcome": answer.outcome}, NOW)


def book(db_session, acc, slot, identity=ADULT, now=NOW):
    request = visio.prepare_booking(db_session, acc.id, identity, slot.id, now)
    return visio.book(db_session, request, now)


# --- Eligibility ----------------------------------------------------------------------------------------------------


def test_an_adult_victim_of_violence_with_a_camera_and_a_private_place_is_eligible():
    answer = visio.check_eligibility(GOOD_FORM, ADULT, NOW.date())
    assert answer.outcome == "eligible" and not answer.errors


@pytest.mark.parametrize("role", ["victime", "representant", ""])
def test_sexual_offences_always_lead_to_an_in_person_hearing(role):
    answer = visio.check_eligibility({**GOOD_FORM, "role": role, "offence": "infraction_sexuelle",
                                      "device": "", "private_place": ""}, ADULT, NOW.date())
    assert answer.outcome == "en_personne" and not answer.errors


def test_every_offence_of_the_decree_is_offered_and_sexual_ones_are_not_bookable():
    codes = [code for code, _, _ in visio.offence_choices()]
    for code in ("violences", "menaces", "vol_telephone", "cambriolage", "degradation", "escroquerie",
                 "discrimination", "cyberharcelement", "harcelement"):
        assert code in codes
    assert "infraction_sexuelle" in codes


def test_a_minor_signed_in_is_told_to_go_through_a_legal_representative():
    minor = Identity(birthdate="2010-05-20", verified=True)
    answer = visio.check_eligibility(GOOD_FORM, minor, NOW.date())
    assert answer.outcome == "mineur"


def test_missing_answers_are_errors_on_their_fields():
    answer = visio.check_eligibility({"offence": "menaces"}, ADULT, NOW.date())
    assert answer.outcome is None
    assert set(answer.errors) == {"role", "description", "device", "private_place"}
    assert "caméra" in answer.errors["device"] and "commissariat" in answer.errors["device"]
    too_long = visio.check_eligibility({**GOOD_FORM, "description": "x" * 1001}, ADULT, NOW.date())
    assert "1000 caractères" in too_long.errors["description"]
    assert visio.check_eligibility({}, ADULT, NOW.date()).errors["offence"] == "Indiquez ce qui vous est arrivé."


# --- Publishing slots -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("form", "field", "words"), [
    (series(day=date(2026, 11, 30)), "day", "passée"),
    (series(day="demain"), "day", "date valide"),
    (series(day=date(2027, 12, 1)), "day", "120 jours"),
    (series(start="10:00", end="09:00"), "end", "après l'heure de début"),
    (series(start="10:00", end="10:00"), "end", "après l'heure de début"),
    (series(start="09:00", end="10:00", length="45"), "length", "ne se découpe pas"),
    (series(length="7"), "length", "dans la liste"),
    (series(capacity="0"), "capacity", "entre 1 et 10"),
    (series(capacity="11"), "capacity", "entre 1 et 10"),
    (series(capacity="deux"), "capacity", "entre 1 et 10"),
    (series(start="9h75"), "start", "heure de début valide"),
    (series(day=date(2026, 12, 1), start="08:00", end="09:00"), "start", "passée"),  # 8:00 Paris < 9:00 Paris now
])
def test_a_series_of_slots_is_checked_before_anything_is_published(form, field, words):
    parsed, errors, values = visio.parse_series(form, NOW)
    assert parsed is None
    assert words in errors[field], errors
    assert values["day"] == form["day"]  # shown again as typed


def test_an_officer_may_type_the_hours_the_french_way():
    parsed, errors, _ = visio.parse_series(series(start="9h", end="10 h 30"), NOW)
    assert errors == {}
    assert (parsed.start, parsed.end) == (time(9, 0), time(10, 30))


def test_a_series_is_cut_into_slots_on_the_paris_clock(db_session):
    slots = publish(db_session, start="09:00", end="11:00", length="30", capacity="2")
    assert [(s.starts_at.hour, s.starts_at.minute) for s in slots] == [(8, 0), (8, 30), (9, 0), (9, 30)]  # UTC
    assert all(s.capacity == 2 and s.unit_id == LE_MANS_UNIT for s in slots)


def test_overlapping_series_are_refused(db_session):
    publish(db_session, start="09:00", end="10:00")
    with pytest.raises(visio.VisioError, match="chevauchent"):
        publish(db_session, start="09:30", end="10:30")
    publish(db_session, start="10:00", end="11:00")  # right after: fine


def test_a_free_slot_can_be_removed_but_not_a_booked_one(db_session):
    free, booked = publish(db_session, start="09:00", end="10:00")
    acc = account(db_session)
    eligible(db_session, acc)
    book(db_session, acc, booked)
    visio.remove_slot(db_session, LE_MANS_UNIT, free.id)
    assert db_session.get(HearingSlot, free.id) is None
    with pytest.raises(visio.VisioError, match="réservé") as refused:
        visio.remove_slot(db_session, LE_MANS_UNIT, booked.id)
    assert refused.value.status == 409
    with pytest.raises(visio.VisioError) as other_unit:
        visio.remove_slot(db_session, "gendarmerie-01053-01", booked.id)
    assert other_unit.value.status == 404


# --- Free slots and booking -----------------------------------------------------------------------------------------


def test_next_free_slots_come_first_grouped_by_day_and_paged(db_session):
    publish(db_session, day=date(2026, 12, 4), start="09:00", end="12:00")  # 6 slots
    publish(db_session, day=date(2026, 12, 3), start="14:00", end="17:00")  # 6 slots
    page1, more = visio.free_slots(db_session, LE_MANS_UNIT, NOW, page=1, per_page=8)
    assert more and len(page1) == 8
    assert page1[0].local_start == datetime(2026, 12, 3, 14, 0, tzinfo=visio.PARIS)
    days = visio.by_day(page1)
    assert [d for d, _ in days] == [date(2026, 12, 3), date(2026, 12, 4)]
    page2, more = visio.free_slots(db_session, LE_MANS_UNIT, NOW, page=2, per_page=8)
    assert len(page2) == 4 and not more
    assert LE_MANS_UNIT in visio.units_with_free_slots(db_session, NOW)


def test_booking_creates_the_case_its_event_and_the_booking_together(db_session):
    (slot,) = publish(db_session, start="09:00", end="09:30")
    acc = account(db_session)
    eligible(db_session, acc)
    case = book(db_session, acc, slot)
    assert case.reference.startswith("VIS-2026-") and case.kind == "visio_plainte" and case.status == "deposee"
    assert case.offence == "violences" and case.unit_id == LE_MANS_UNIT and case.identity_verified
    assert case.details["description"] == "Mon voisin m'a frappé."
    assert case.identity["family_name"] == "DUBOIS"
    assert [e.kind for e in db_session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))] == ["rdv_pris"]
    booking = visio.booking_for_case(db_session, case)
    assert booking.slot_id == slot.id and booking.seat == 1 and booking.room.startswith("vp-")
    assert db_session.scalar(select(func.count(Draft.id)).where(Draft.account_id == acc.id)) == 0
    # Full now: no longer offered, and a second citizen is told it was just taken.
    assert visio.free_slots(db_session, LE_MANS_UNIT, NOW)[0] == []
    other = account(db_session, "other")
    eligible(db_session, other)
    request = visio.prepare_booking(db_session, other.id, ADULT, slot.id, NOW)  # read before the race is lost
    with pytest.raises(visio.SlotTaken, match="vient d'être réservé"):
        with db_session.begin_nested():
            visio.book(db_session, request, NOW)
    assert db_session.scalar(select(func.count(Case.id)).where(Case.account_id == other.id)) == 0


def test_a_slot_of_capacity_two_takes_two_seats(db_session):
    (slot,) = publish(db_session, start="09:00", end="09:30", capacity="2")
    seats = []
    for n in range(2):
        acc = account(db_session, f"seat-{n}")
        eligible(db_session, acc)
        seats.append(visio.booking_for_case(db_session, book(db_session, acc, slot)).seat)
    assert sorted(seats) == [1, 2]


def test_booking_needs_the_answers_a_future_slot_and_no_other_upcoming_hearing(db_session):
    first, second = publish(db_session, start="09:00", end="10:00")
    acc = account(db_session)
    with pytest.raises(visio.VisioError, match="Répondez d'abord"):
        visio.prepare_booking(db_session, acc.id, ADULT, first.id, NOW)
    eligible(db_session, acc)
    with pytest.raises(visio.VisioError, match="plus proposé"):
        visio.prepare_booking(db_session, acc.id, ADULT, first.id, datetime(2026, 12, 3, 7, 30, tzinfo=UTC))
    book(db_session, acc, first)
    eligible(db_session, acc)
    with pytest.raises(visio.VisioError, match="déjà un rendez-vous"):
        visio.prepare_booking(db_session, acc.id, ADULT, second.id, NOW)


def test_reschedule_moves_the_seat_at_once_and_keeps_the_old_one_if_the_new_is_full(db_session):
    first, second, third = publish(db_session, start="09:00", end="10:30")
    acc, rival = account(db_session), account(db_session, "rival")
    eligible(db_session, acc)
    case = book(db_session, acc, first)
    booking = visio.booking_for_case(db_session, case)
    eligible(db_session, rival)
    book(db_session, rival, third)
    with pytest.raises(visio.SlotTaken):
        visio.reschedule(db_session, case.id, booking.id, third.id, third.capacity,
                         visio.hearing_details(third, "Unité", 1), NOW)
    db_session.refresh(booking)
    assert booking.slot_id == first.id and booking.sequence == 0
    booking.reminder_sent_at = NOW
    db_session.flush()
    visio.reschedule(db_session, case.id, booking.id, second.id, second.capacity,
                     visio.hearing_details(second, "Unité", 1), NOW)
    db_session.refresh(booking)
    db_session.refresh(case)
    assert booking.slot_id == second.id and booking.sequence == 1 and booking.reminder_sent_at is None
    assert case.details["hearing"]["starts_at"].startswith("2026-12-03T08:30")
    assert case.events[-1].kind == "rdv_deplace"
    assert [s.id for s in visio.free_slots(db_session, LE_MANS_UNIT, NOW)[0]] == [first.id]  # old seat freed


def test_cancel_frees_the_seat_and_closes_the_case(db_session):
    (slot,) = publish(db_session, start="09:00", end="09:30")
    acc = account(db_session)
    eligible(db_session, acc)
    case = book(db_session, acc, slot)
    booking = visio.booking_for_case(db_session, case)
    visio.cancel(db_session, case.id, booking.id, NOW)
    db_session.refresh(case)
    assert case.status == "cloturee" and case.closed_at is not None
    assert case.details["hearing"]["cancelled"] is True and case.details["hearing"]["sequence"] == 1
    assert case.events[-1].kind == "rdv_annule"
    assert [s.id for s in visio.free_slots(db_session, LE_MANS_UNIT, NOW)[0]] == [slot.id]
    with pytest.raises(visio.VisioError, match="déjà annulé"):
        visio.cancel(db_session, case.id, booking.id, NOW)


# --- Calendar, link, reminders ---------------------------------------------------------------------------------------


def test_the_calendar_file_is_an_invitation_with_a_short_paris_timezone_then_its_cancellation():
    hearing = {"starts_at": "2026-12-03T08:00:00+00:00", "ends_at": "2026-12-03T08:30:00+00:00",
               "unit_name": "Commissariat de police du Mans", "sequence": 0, "cancelled": False}
    raw = visio.calendar("VIS-2026-ABCDEF", hearing, "angela@example.org", "Angela DUBOIS",
                         "ne-pas-repondre@portail-citoyen.local", "https://portail.example/x", NOW)
    cal = Calendar.from_ical(raw)
    assert cal["method"] == "REQUEST"
    (event,) = cal.walk("VEVENT")
    assert str(event["uid"]) == "vis-2026-abcdef@visio-plainte.portail-citoyen"
    assert event["sequence"] == 0 and event["dtstamp"].dt == NOW
    assert event.decoded("dtstart") == datetime(2026, 12, 3, 9, 0, tzinfo=visio.PARIS)
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert str(event["organizer"]) == "mailto:ne-pas-repondre@portail-citoyen.local"
    assert str(event["attendee"]) == "mailto:angela@example.org"
    (tz,) = cal.walk("VTIMEZONE")
    assert len(raw) < 2500 and len(tz.subcomponents) <= 3  # not every change since 1970
    cancelled = Calendar.from_ical(visio.calendar("VIS-2026-ABCDEF", {**hearing, "cancelled": True, "sequence": 2},
                                                  "", "", "x@example.org", "https://portail.example/x", NOW))
    (event,) = cancelled.walk("VEVENT")
    assert cancelled["method"] == "CANCEL" and event["status"] == "CANCELLED" and event["sequence"] == 2
    assert str(event["uid"]) == "vis-2026-abcdef@visio-plainte.portail-citoyen"


def test_the_join_link_shows_from_fifteen_minutes_before_to_the_end(app):
    slot = HearingSlot(starts_at=datetime(2026, 12, 3, 8, 0, tzinfo=UTC), ends_at=datetime(2026, 12, 3, 8, 30,
                                                                                             tzinfo=UTC))
    start = slot.starts_at
    assert not visio.can_join(slot, start - timedelta(minutes=16))
    assert visio.can_join(slot, start - timedelta(minutes=15))
    assert visio.can_join(slot, start + timedelta(minutes=30))
    assert not visio.can_join(slot, start + timedelta(minutes=31))
    with app.app_context():  # noqa: SIM117
        assert visio.join_url("vp-abc/../x") == "https://visio.invalid/vp-abc%2F..%2Fx"
    assert visio.join_url("vp-1", "https://visio.example/r/{room}?lang=fr") == "https://visio.example/r/vp-1?lang=fr"


def test_reminders_leave_once_the_day_before_and_never_twice(app, db_session):
    (soon,) = publish(db_session, start="09:00", end="09:30")  # 3 Dec, 8:00 UTC
    (later,) = publish(db_session, day=date(2026, 12, 10), start="09:00", end="09:30")
    acc, other = account(db_session), account(db_session, "later")
    for who, slot in ((acc, soon), (other, later)):
        eligible(db_session, who)
        book(db_session, who, slot)
    outbox = select(func.count(OutboxMessage.id)).where(OutboxMessage.subject.like("Rappel%"))
    with app.test_request_context():
        assert visio.send_due_reminders(db_session, NOW) == (0, 0)  # 48 hours ahead: not yet
        day_before = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
        assert visio.send_due_reminders(db_session, day_before) == (1, 0)
        assert visio.send_due_reminders(db_session, day_before + timedelta(hours=3)) == (0, 0)
    assert db_session.scalar(outbox) == 1
    message = db_session.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("Rappel%"))).one()
    assert message.recipient == "angela@example.org"
    assert "jeudi 3 décembre 2026 à 9 h 00" in message.body
    assert "frappé" not in message.body and "violences" not in message.body.lower()


def test_the_remind_command_runs(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["complaints", "remind"])
    assert result.exit_code == 0, result.output
    assert "rappel(s) de visio-plainte envoyé(s)" in result.output


def test_clock_change_day_slots_keep_their_wall_clock_time():
    parsed, errors, _ = visio.parse_series(series(day=date(2027, 3, 28), start="01:00", end="04:00", length="60"),
                                           NOW)
    assert not errors
    starts = [s.astimezone(visio.PARIS).time() for s, _ in visio.series_times(parsed)]
    assert starts[0] == time(1, 0) and starts[-1] == time(3, 0)


# --- Review fixes: one case per set of answers, moving and cancelling rules, the page's hearing, failed reminders --


def test_the_same_answers_never_make_two_cases_even_for_two_different_slots(db_session):
    first, second = publish(db_session, start="09:00", end="10:00")
    acc = account(db_session)
    eligible(db_session, acc)
    # Two requests read the answers before either writes (two tabs, a double click on two slots).
    one = visio.prepare_booking(db_session, acc.id, ADULT, first.id, NOW)
    two = visio.prepare_booking(db_session, acc.id, ADULT, second.id, NOW)
    visio.book(db_session, one, NOW)
    with pytest.raises(visio.AlreadyBooked, match="déjà d'être enregistrée") as refused:
        with db_session.begin_nested():
            visio.book(db_session, two, NOW)
    assert refused.value.status == 409
    assert db_session.scalar(select(func.count(Case.id)).where(Case.account_id == acc.id)) == 1
    assert [s.id for s in visio.free_slots(db_session, LE_MANS_UNIT, NOW)[0]] == [second.id]


def booked_case(db_session, start="09:00", end="10:00", subject="visio-citizen"):
    slots = publish(db_session, start=start, end=end)
    acc = account(db_session, subject)
    eligible(db_session, acc)
    case = book(db_session, acc, slots[0])
    return case, visio.booking_for_case(db_session, case), slots


def send_pv(db_session, case):
    from complaints.models import Statement

    db_session.add(Statement(case=case, version=1, text="PV", agent_id=None, sent_at=NOW))
    db_session.flush()


@pytest.mark.parametrize(("change", "words"), [
    (lambda s, case: None, "moins d'une heure"),  # at the hearing's time (see ``late`` below)
    (lambda s, case: send_pv(s, case), "procès-verbal"),
    (lambda s, case: setattr(case, "status", "cloturee"), "clôturé"),
    (lambda s, case: setattr(case, "status", "complement_demande"), "traite déjà"),
    (lambda s, case: setattr(case, "status", "pv_disponible"), "traite déjà"),
])
def test_a_hearing_can_no_longer_be_cancelled_or_moved_once_it_is_near_has_a_pv_or_the_case_moved_on(
        db_session, change, words):
    case, booking, (slot, other) = booked_case(db_session)
    change(db_session, case)
    db_session.flush()
    late = words == "moins d'une heure"
    when = datetime(2026, 12, 3, 7, 30, tzinfo=UTC) if late else NOW  # the slot starts at 8:00 UTC
    with pytest.raises(visio.VisioError, match=words) as cancel:
        visio.cancel(db_session, case.id, booking.id, when)
    with pytest.raises(visio.VisioError, match=words) as move:
        visio.reschedule(db_session, case.id, booking.id, other.id, other.capacity,
                         visio.hearing_details(other, "Unité", 1), when)
    assert cancel.value.status == move.value.status == 409
    db_session.expire_all()
    kept = visio.booking_for_case(db_session, case)
    assert kept is not None and kept.slot_id == slot.id  # nothing freed, nothing moved
    assert case.closed_at is None and [e.kind for e in case.events][-1] == "rdv_pris"
    view = visio.hearing_view(case, kept, when)
    assert view.booked and not view.changeable


def test_a_new_or_taken_case_can_still_be_moved_then_cancelled_before_the_notice(db_session):
    case, booking, (_, other) = booked_case(db_session)
    case.status = "en_cours"
    db_session.flush()
    assert visio.hearing_view(case, booking, NOW).changeable
    visio.reschedule(db_session, case.id, booking.id, other.id, other.capacity,
                     visio.hearing_details(other, "Unité", 1), NOW)
    visio.cancel(db_session, case.id, booking.id, NOW)
    db_session.refresh(case)
    assert case.status == "cloturee"


def test_the_hearing_view_builds_the_quoted_join_link_only_at_the_hearings_time(app, db_session):
    case, booking, (slot, _) = booked_case(db_session)
    booking.room = "vp-a/b c?d"
    db_session.flush()
    starts = slot.starts_at if slot.starts_at.tzinfo else slot.starts_at.replace(tzinfo=UTC)
    early = visio.hearing_view(case, booking, starts - timedelta(minutes=16))
    assert early.join_url is None and not early.can_join
    assert early.starts_at == datetime(2026, 12, 3, 9, 0, tzinfo=visio.PARIS)
    assert early.unit_name == case.details["hearing"]["unit_name"]
    now = visio.hearing_view(case, booking, starts - timedelta(minutes=5))
    assert now.join_url == "https://visio.invalid/vp-a%2Fb%20c%3Fd"
    visio.cancel(db_session, case.id, booking.id, NOW)
    db_session.refresh(case)
    gone = visio.hearing_view(case, None, starts)
    assert gone.cancelled and not gone.booked and gone.join_url is None


def test_the_visio_questions_have_their_own_hints_where_the_author_is_often_known():
    from complaints import offences

    hints = {code: hint for code, _, hint in visio.offence_choices()}
    assert "ne connaissez pas" not in hints["vol_telephone"] and "connaissiez" in hints["vol_telephone"]
    assert "ne connaissez pas" in offences.OFFENCES["vol_telephone"].hint  # plainte en ligne keeps its own


def test_a_reminder_the_mail_server_refuses_is_given_back_and_the_others_still_tried(app, db_session, monkeypatch):
    from accounts.models import OutboxMessage as Outbox
    from complaints.models import Booking
    from portal.benchserver import free_port

    (soon,) = publish(db_session, start="09:00", end="09:30")
    (later,) = publish(db_session, start="10:00", end="10:30")
    accounts = [account(db_session, "remind-1"), account(db_session, "remind-2")]
    for who, slot in zip(accounts, (soon, later), strict=True):
        eligible(db_session, who)
        book(db_session, who, slot)
    day_before = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    # A relay that does not answer: nothing listens on this port.
    for name, value in {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port(),
                        "MAIL_USE_TLS": False, "MAIL_USE_SSL": False}.items():
        monkeypatch.setitem(app.config, name, value)
    with app.test_request_context():
        assert visio.send_due_reminders(db_session, day_before) == (0, 2)
    pending = select(func.count(Booking.id)).where(Booking.reminder_sent_at.is_(None),
                                                   Booking.account_id.in_([a.id for a in accounts]))
    assert db_session.scalar(pending) == 2  # both due again
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "outbox")
    with app.test_request_context():
        assert visio.send_due_reminders(db_session, day_before + timedelta(minutes=15)) == (2, 0)
    assert db_session.scalar(pending) == 0
    assert db_session.scalar(select(func.count(Outbox.id)).where(Outbox.subject.like("Rappel%"))) == 2


def test_the_remind_command_links_to_the_booking_page_outside_any_request(app, db_session):
    from accounts.models import OutboxMessage as Outbox

    now = datetime.now(UTC)
    day = now.astimezone(visio.PARIS) + timedelta(hours=3)
    slot = HearingSlot(unit_id=LE_MANS_UNIT, starts_at=day, ends_at=day + timedelta(minutes=30), capacity=1,
                       created_at=now)
    db_session.add(slot)
    db_session.flush()
    acc = account(db_session, "remind-cli")
    eligible(db_session, acc)
    reference = visio.book(db_session, visio.prepare_booking(db_session, acc.id, ADULT, slot.id, now), now).reference
    result = app.test_cli_runner().invoke(args=["complaints", "remind"])
    assert result.exit_code == 0, result.output
    message = db_session.scalars(select(Outbox).where(Outbox.body.contains(reference))).one()
    expected = f"{app.config['PUBLIC_URL']}/visio-plainte/rendez-vous/{reference}"
    assert expected in message.body
    with app.app_context():  # as the command runs: no request, SERVER_NAME unset
        assert visio.booking_page_url(reference) == expected
