"""Retention: drafts after DRAFT_RETENTION_DAYS, closed cases after CLOSED_CASE_RETENTION_DAYS; key rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from complaints import cli, purge
from complaints.models import Booking, Case, CaseEvent, Draft, HearingSlot, Statement
from portal import crypto

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _count(db_session, model, *where) -> int:
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_purge_deletes_old_drafts_and_long_closed_cases_with_everything_attached(app, db_session, citizen,
                                                                                 make_case, unit_id):
    account = citizen.account_id
    with app.app_context():
        db_session.add_all([
            Draft(account_id=account, kind="plainte_en_ligne", data={"offence": "vol_velo"},
                  created_at=NOW - timedelta(days=40), updated_at=NOW - timedelta(days=31)),
            Draft(account_id=account, kind="visio_plainte", data={"x": 1},
                  created_at=NOW - timedelta(days=40), updated_at=NOW - timedelta(days=29)),
        ])
        old = make_case(db_session, account, unit_id, status="cloturee", now=NOW - timedelta(days=400),
                        closed_at=NOW - timedelta(days=181))
        recent = make_case(db_session, account, unit_id, status="cloturee", now=NOW - timedelta(days=200),
                           closed_at=NOW - timedelta(days=179))
        open_case = make_case(db_session, account, unit_id, status="en_cours", now=NOW - timedelta(days=900))
        visio = make_case(db_session, account, unit_id, kind="visio_plainte", offence="menaces", status="cloturee",
                          now=NOW - timedelta(days=400), closed_at=NOW - timedelta(days=200))
        db_session.add(Statement(case=old, version=1, text="PV", sent_at=NOW - timedelta(days=190)))
        slot = HearingSlot(unit_id=unit_id, starts_at=NOW - timedelta(days=390), ends_at=NOW - timedelta(days=390)
                           + timedelta(minutes=45), capacity=1, created_at=NOW - timedelta(days=395))
        db_session.add(slot)
        db_session.flush()
        db_session.add(Booking(slot_id=slot.id, seat=1, case_id=visio.id, account_id=account, room="r",
                               created_at=NOW - timedelta(days=395)))
        db_session.flush()
        ids = [old.id, visio.id]

        result = purge.purge(db_session, NOW, draft_days=30, closed_case_days=180)

        # The visio case's slot, past and now without its booking, goes too.
        assert result.as_dict() == {"drafts": 1, "cases": 2, "events": 2, "statements": 1, "bookings": 1,
                                    "slots": 1}
        remaining = set(db_session.scalars(select(Case.reference).where(Case.account_id == account)))
        assert remaining == {recent.reference, open_case.reference}
        assert _count(db_session, CaseEvent, CaseEvent.case_id.in_(ids)) == 0
        assert _count(db_session, Draft, Draft.account_id == account) == 1
        db_session.expunge_all()


def test_purge_deletes_past_slots_nobody_booked_and_keeps_booked_or_coming_ones(app, db_session, citizen,
                                                                                  make_case, unit_id):
    def slot(ends_ago: timedelta) -> HearingSlot:
        ends = NOW - ends_ago
        made = HearingSlot(unit_id=unit_id, starts_at=ends - timedelta(minutes=30), ends_at=ends, capacity=1,
                           created_at=NOW - timedelta(days=30))
        db_session.add(made)
        db_session.flush()
        return made

    with app.app_context():
        old_empty = slot(timedelta(days=1, minutes=1))
        yesterday_empty = slot(timedelta(hours=23))  # ended less than a day ago: the agenda still shows it
        coming = slot(-timedelta(days=2))
        old_booked = slot(timedelta(days=10))
        case = make_case(db_session, citizen.account_id, unit_id, kind="visio_plainte", offence="menaces",
                         status="en_cours", now=NOW - timedelta(days=20))
        db_session.add(Booking(slot_id=old_booked.id, seat=1, case_id=case.id, account_id=citizen.account_id,
                               room="r", created_at=NOW - timedelta(days=20)))
        db_session.flush()
        ids = {old_empty.id, yesterday_empty.id, coming.id, old_booked.id}

        result = purge.purge(db_session, NOW)

        assert result.slots == 1
        kept = set(db_session.scalars(select(HearingSlot.id).where(HearingSlot.id.in_(ids))))
        assert kept == {yesterday_empty.id, coming.id, old_booked.id}
        assert purge.purge(db_session, NOW + timedelta(hours=2)).slots == 1  # yesterday's, now a day old
        db_session.expunge_all()


def test_the_purge_command_takes_a_frozen_now_and_the_configured_periods(app, db_session, citizen, make_case,
                                                                          unit_id):
    with app.app_context():
        make_case(db_session, citizen.account_id, unit_id, status="cloturee", now=NOW - timedelta(days=300),
                  closed_at=NOW - timedelta(days=181))
        db_session.commit()  # as a request would: the command's session ends with its app context
    runner = app.test_cli_runner()
    before = runner.invoke(cli.complaints_cli, ["purge", "--now", (NOW - timedelta(days=2)).isoformat()])
    assert before.exit_code == 0 and "0 dossier(s)" in before.output
    after = runner.invoke(cli.complaints_cli, ["purge", "--now", NOW.isoformat()])
    assert after.exit_code == 0 and "1 dossier(s) clos" in after.output and "2026-06-01" in after.output
    assert "créneau(x) passé(s) jamais réservé(s)" in after.output
    bad = runner.invoke(cli.complaints_cli, ["purge", "--now", "hier"])
    assert bad.exit_code != 0


def test_new_key_prints_a_key_the_keyring_accepts(app):
    result = app.test_cli_runner().invoke(cli.complaints_cli, ["new-key"])
    assert result.exit_code == 0 and len(crypto.parse_keys(result.output.strip())) == 1


def test_rotate_keys_reseals_every_sealed_value_under_the_newest_key(app, db_session, citizen, make_case, unit_id):
    old_keyring = app.extensions["keyring"]
    new_key = crypto.parse_keys(crypto.new_key())[0]
    try:
        with app.app_context():
            case = make_case(db_session, citizen.account_id, unit_id, details={"narrative": "Texte à protéger"})
            reference = case.reference
            db_session.expunge_all()
            before = db_session.execute(text("SELECT details FROM complaint_case WHERE reference = :r"),
                                        {"r": reference}).scalar_one()
            app.extensions["keyring"] = crypto.Keyring((new_key, *old_keyring.keys))
            counts = cli.rotate_keys(db_session)
            assert counts["complaint_case.details"] >= 1 and counts["complaint_case.identity"] >= 1
            after = db_session.execute(text("SELECT details FROM complaint_case WHERE reference = :r"),
                                       {"r": reference}).scalar_one()
            assert after != before and "protéger" not in after
            for table, _, column in cli.sealed_columns():
                tokens = db_session.execute(text(f"SELECT {column.name} FROM {table.name} "
                                                 f"WHERE {column.name} IS NOT NULL")).scalars()
                assert all(app.extensions["keyring"].is_current(t) for t in tokens), f"{table.name}.{column.name}"
            # The old key can go: everything opens with the new one alone.
            app.extensions["keyring"] = crypto.Keyring((new_key,))
            case = db_session.scalar(select(Case).where(Case.reference == reference))
            assert case.details == {"narrative": "Texte à protéger"}
            assert cli.rotate_keys(db_session)["complaint_case.details"] == 0
            db_session.expunge_all()
    finally:
        app.extensions["keyring"] = old_keyring
