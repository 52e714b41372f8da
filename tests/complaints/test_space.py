"""Mon espace: the citizen's cases, drafts and bookings; a case's page and reply; the data export."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from accounts import space as my_data
from accounts import space_sections
from accounts.identity import Identity
from accounts.models import Account
from complaints import space
from complaints.cases import record_event
from complaints.models import Booking, Case, Draft, HearingSlot, Statement
from tests.accounts.conftest import csrf_token

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def test_mon_espace_lists_cases_with_status_and_next_action(app, citizen, db_session, make_case, unit_id):
    with app.app_context():
        asked = make_case(db_session, citizen.account_id, unit_id, status="complement_demande")
        pv = make_case(db_session, citizen.account_id, unit_id, kind="visio_plainte", offence="menaces",
                       status="pv_disponible")
        # "Relire le procès-verbal" only while a version sent waits for the citizen's answer.
        db_session.add(Statement(case=pv, version=1, text="Procès-verbal", sent_at=NOW))
        refs = asked.reference, pv.reference
        db_session.commit()
    response = citizen.get("/mon-espace")
    html = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store" and 'hx-history="false"' in html
    assert refs[0] in html and "Complément demandé" in html and "Répondre à l’unité" in html
    assert refs[1] in html and "PV disponible" in html and "Relire le procès-verbal" in html
    assert "Télécharger mes données" in html


def test_another_citizens_case_answers_404_everywhere(app, citizen, other_citizen, db_session, make_case, unit_id):
    with app.app_context():
        theirs = make_case(db_session, other_citizen.account_id, unit_id, status="complement_demande").reference
        mine = make_case(db_session, citizen.account_id, unit_id).reference
        db_session.commit()
    assert citizen.get(f"/mon-espace/dossiers/{mine}").status_code == 200
    assert citizen.get(f"/mon-espace/dossiers/{theirs}").status_code == 404
    assert citizen.get(f"/mon-espace/dossiers/{theirs}/recepisse.pdf").status_code == 404
    assert citizen.get("/mon-espace/dossiers/PEL-2026-ZZZZZZ").status_code == 404
    token = csrf_token(citizen.get(f"/mon-espace/dossiers/{mine}").get_data(as_text=True))
    reply = citizen.post(f"/mon-espace/dossiers/{theirs}/complement", data={"csrf_token": token, "message": "x"})
    assert reply.status_code == 404
    assert theirs not in citizen.get("/mon-espace").get_data(as_text=True)
    assert other_citizen.get(f"/mon-espace/dossiers/{mine}").status_code == 404


def test_the_citizen_answers_a_request_for_more_information(app, citizen, db_session, make_case, unit_id):
    with app.app_context():
        case = make_case(db_session, citizen.account_id, unit_id, status="en_cours")
        record_event(db_session, case, "agent", "complement_demande", message="Quelle est la couleur du vélo ?")
        case.status = "complement_demande"
        reference = case.reference
        db_session.commit()
    page = citizen.get(f"/mon-espace/dossiers/{reference}")
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and "Quelle est la couleur du vélo ?" in html
    assert 'id="repondre"' in html
    token = csrf_token(html)
    empty = citizen.post(f"/mon-espace/dossiers/{reference}/complement", data={"csrf_token": token, "message": " "})
    assert empty.status_code == 400 and "Erreur : " in empty.get_data(as_text=True)
    sent = citizen.post(f"/mon-espace/dossiers/{reference}/complement",
                        data={"csrf_token": token, "message": "Il est bleu, <b>avec</b> un panier."})
    assert sent.status_code == 303
    after = citizen.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Il est bleu, &lt;b&gt;avec&lt;/b&gt; un panier." in after and 'id="repondre"' not in after
    with app.app_context():
        case = db_session.scalar(select(Case).where(Case.reference == reference))
        assert case.status == "en_cours"
        assert [(e.kind, e.actor) for e in case.events][-1] == ("complement_recu", "citizen")
        assert case.events[-1].message == "Il est bleu, <b>avec</b> un panier."
        db_session.expunge_all()


def test_drafts_can_be_resumed_or_deleted_from_mon_espace(app, citizen, db_session):
    with app.app_context():
        db_session.add(Draft(account_id=citizen.account_id, kind="plainte_en_ligne", data={"offence": "vol_velo"},
                             created_at=datetime.now(UTC), updated_at=datetime.now(UTC)))
        db_session.commit()
    html = citizen.get("/mon-espace").get_data(as_text=True)
    assert "Reprendre ma plainte" in html and "/plainte-en-ligne/reprendre" in html
    gone = citizen.post("/mon-espace/brouillons/plainte_en_ligne/supprimer", data={"csrf_token": csrf_token(html)})
    assert gone.status_code == 303
    assert "Reprendre ma plainte" not in citizen.get("/mon-espace").get_data(as_text=True)


def test_bookings_are_listed_and_join_shows_only_near_the_slot(app, citizen, db_session, make_case, unit_id):
    starts = NOW + timedelta(hours=2)
    with app.app_context():
        case = make_case(db_session, citizen.account_id, unit_id, kind="visio_plainte", offence="menaces")
        slot = HearingSlot(unit_id=unit_id, starts_at=starts, ends_at=starts + timedelta(minutes=45), capacity=1,
                           created_at=NOW)
        db_session.add(slot)
        db_session.flush()
        db_session.add(Booking(slot_id=slot.id, seat=1, case_id=case.id, account_id=citizen.account_id,
                               room="salle-test", created_at=NOW))
        db_session.flush()
        far = space.bookings_of(db_session, citizen.account_id, NOW)
        near = space.bookings_of(db_session, citizen.account_id, starts - timedelta(minutes=10))
        over = space.bookings_of(db_session, citizen.account_id, starts + timedelta(hours=1))
        assert [v.can_join for v in far + near + over] == [False, True, False]
        reference = case.reference
        db_session.commit()
    html = citizen.get("/mon-espace").get_data(as_text=True)
    assert "Mes rendez-vous de visio-plainte" in html and f"/mon-espace/dossiers/{reference}" in html


def test_the_export_holds_everything_with_dates_from_a_frozen_clock(app, citizen, db_session, make_case, unit_id):
    with app.app_context():
        case = make_case(db_session, citizen.account_id, unit_id, now=NOW,
                         details={"narrative": "Vol à l’arraché", "items": []})
        record_event(db_session, case, "agent", "complement_demande", message="Précisez l’heure", now=NOW)
        db_session.add(Draft(account_id=citizen.account_id, kind="visio_plainte", data={"step": 1},
                             created_at=NOW, updated_at=NOW))
        db_session.flush()
        account = db_session.get(Account, citizen.account_id)
        identity = Identity(given_names=("Angela",), family_name="DUBOIS", email="a@example.org", verified=True)
        data = my_data.export(db_session, account, identity, space_sections(app), now=NOW + timedelta(days=1))
        assert data["exported_at"] == "2026-03-11T09:30:00+00:00"
        assert data["account"]["sign_in"] == "franceconnect" and data["identity_in_session"]["family_name"] == "DUBOIS"
        (exported,) = data["cases"]
        assert exported["reference"] == case.reference and exported["created_at"] == "2026-03-10T09:30:00+00:00"
        assert exported["details"]["narrative"] == "Vol à l’arraché" and exported["status_label"] == "Déposée"
        assert [e["kind"] for e in exported["events"]] == ["deposee", "complement_demande"]
        assert exported["events"][1]["message"] == "Précisez l’heure"
        assert exported["events"][1]["at"] == "2026-03-10T09:30:00+00:00"
        assert data["drafts"][0]["kind"] == "visio_plainte" and data["drafts"][0]["data"] == {"step": 1}
        json.dumps(data)
        db_session.commit()

    download = citizen.get("/mon-espace/mes-donnees.json")
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["Content-Disposition"].startswith("attachment")
    body = json.loads(download.get_data(as_text=True))
    assert body["cases"][0]["details"]["narrative"] == "Vol à l’arraché"
    assert body["identity_in_session"]["family_name"] == "DUBOIS"
    page = citizen.get("/mon-espace/mes-donnees")
    assert page.headers["Cache-Control"] == "no-store" and "Vol à l’arraché" in page.get_data(as_text=True)


def test_a_visio_plainte_brings_the_quick_exit_to_mon_espace_and_to_my_data(app, citizen, db_session, make_case,
                                                                             unit_id):
    """A visio-plainte is about violence, threats or harassment: its description must be leavable at once."""
    with app.app_context():
        make_case(db_session, citizen.account_id, unit_id)
        db_session.commit()
    for path in ("/mon-espace", "/mon-espace/mes-donnees"):
        page = citizen.get(path)
        assert page.status_code == 200 and 'id="quick-exit"' not in page.get_data(as_text=True), path
    with app.app_context():
        make_case(db_session, citizen.account_id, unit_id, kind="visio_plainte", offence="violences",
                  details={"narrative": "Il m’a frappée"})
        db_session.commit()
    for path in ("/mon-espace", "/mon-espace/mes-donnees"):
        page = citizen.get(path)
        html = page.get_data(as_text=True)
        assert 'id="quick-exit"' in html and "Quitter rapidement ce site" in html, path
        assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "Il m’a frappée" in citizen.get("/mon-espace/mes-donnees").get_data(as_text=True)


def test_mon_espace_and_the_export_need_a_signed_in_citizen(client):
    for path in ("/mon-espace", "/mon-espace/mes-donnees", "/mon-espace/mes-donnees.json"):
        assert client.get(path).status_code == 302


def test_the_personal_data_page_describes_complaint_data_and_its_retention(app, client):
    html = client.get("/donnees-personnelles").get_data(as_text=True)
    assert "chiffrés dans la base de données" in html and "journal d'audit" in html
    assert f"supprimés {app.config['DRAFT_RETENTION_DAYS']} jours après leur dernière modification" in html
    assert f"supprimés {app.config['CLOSED_CASE_RETENTION_DAYS']} jours après leur clôture" in html
    assert "Télécharger mes données" in html


def test_every_step_a_case_can_take_has_a_label_for_the_citizen_and_for_the_officer():
    """The history never shows a raw code: every kind and actor written by record_event has both wordings."""
    import ast

    from complaints import labels
    from portal.config import ROOT

    written, actors = set(), set()
    for path in (ROOT / "complaints").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node, "func", None) and getattr(node.func, "id", getattr(node.func, "attr", ""))
            if isinstance(node, ast.Call) and name == "record_event":
                kind = node.args[3] if len(node.args) > 3 else next(k.value for k in node.keywords if k.arg == "kind")
                actor = node.args[2] if len(node.args) > 2 else next(k.value for k in node.keywords if k.arg == "actor")
                assert isinstance(kind, ast.Constant), f"{path.name}: record_event with a computed kind"
                assert isinstance(actor, ast.Constant), f"{path.name}: record_event with a computed actor"
                written.add(kind.value)
                actors.add(actor.value)
    assert written and written == set(labels.EVENTS)
    for kind in written:
        wordings = labels.event_label(kind, "citizen"), labels.event_label(kind, "officer")
        assert all(wordings) and "Étape du dossier" not in wordings and kind not in wordings
    assert actors and actors <= set(labels.ACTORS)
    assert all(labels.actor_label(a, "citizen") and labels.actor_label(a, "officer") for a in labels.ACTORS)


def _keys(value) -> set[str]:
    """Every key of a JSON-like value, at any depth."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_the_readable_export_shows_every_key_in_french_and_dates_in_paris_time(app, citizen, db_session, unit_id):
    """A plainte en ligne filed through every step, a visio-plainte booked, a PV answered, drafts of both kinds."""
    import re

    from agents import audit
    from complaints import visio
    from tests.complaints import test_online as online_journey
    from tests.complaints import test_visio as visio_services

    online_journey.fill_all_steps(citizen)
    assert online_journey.submit(citizen).status_code == 303
    online_journey.fill_all_steps(citizen)  # a second complaint, left as a draft with every step answered
    with app.app_context():
        me = Account(id=citizen.account_id)  # what the visio services read of an account: its id
        online_case = db_session.scalar(select(Case).where(Case.account_id == citizen.account_id))
        record_event(db_session, online_case, "agent", "complement_demande", message="Précisez l’heure", now=NOW)
        db_session.add(Statement(case=online_case, version=1, text="Procès-verbal", sent_at=NOW,
                                 response="corrections", response_comment="Il était 18 h 30", responded_at=NOW))
        audit.record(db_session, None, "case.read", "case", online_case.reference, unit_id, now=NOW)
        visio_services.eligible(db_session, me)
        (slot,) = visio_services.publish(db_session, unit=unit_id, start="09:00", end="09:30")
        visio_case = visio_services.book(db_session, me, slot)
        visio_services.eligible(db_session, me)  # answers kept for another booking: a visio-plainte draft
        references = online_case.reference, visio_case.reference
        db_session.commit()

    page = citizen.get("/mon-espace/mes-donnees")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    data = json.loads(citizen.get("/mon-espace/mes-donnees.json").get_data(as_text=True))
    assert {c["reference"] for c in data["cases"]} == set(references)
    assert {d["kind"] for d in data["drafts"]} == {"plainte_en_ligne", "visio_plainte"}
    keys = _keys(data)
    # Everything the forms and the services wrote is there: the answers of every step and of the visio-plainte.
    assert {"start_time", "commune_label", "imei", "card_last4", "narrative", "commune_query", "unit_id", "role",
            "device_confirmed", "hearing", "device", "outcome", "response_comment", "video_room", "action"} <= keys

    labels = {**my_data.LABELS, **space.EXPORT_LABELS}  # the account's and identity's, the complaints' own
    shown = [re.sub(r"<[^>]+>", "", dt) for dt in re.findall(r"<dt>(.*?)</dt>", html)]
    assert shown and set(shown) <= set(labels.values())
    for key in keys:
        assert f"<dt>{key}</dt>" not in html, f"the key {key!r} is shown to the citizen"
    missing = keys - set(labels) - {"kind", "status"}  # codes shown by their label
    assert not missing, f"keys without a French label: {sorted(missing)}"
    # Dates in Paris time (the hearing: 9 h in Paris on 3 December, 8 h UTC), never as ISO 8601 text.
    assert "3 décembre 2026 à 9 h 00 (heure de Paris)" in html
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", html)
    # Codes in words.
    for words in ("Téléphone portable", visio.ROLES["victime"], "Consultation du dossier", "Corrections demandées",
                  "FranceConnect", "Visio-plainte possible", "L’unité", "Violences"):
        assert words in html, words
