"""The officers' console: the unit's queue, a case page, and the actions take / ask for more / close.

Services are tested directly on the real database; the routes through the
test client with an agent signed in through the real form (password + TOTP).
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from accounts.models import Account, OutboxMessage
from agents.models import Agent, AuditEvent
from complaints import console
from complaints.cases import identity_of, new_reference
from complaints.models import Booking, Case, CaseEvent, HearingSlot, Statement
from maps.models import Station
from portal.security import limiter
from tests.agents.helpers import _app_context as app_context
from tests.agents.helpers import csrf_token, make_agent, sign_in_agent

NARRATIVE = "Mon téléphone a été volé dans le tram ligne T1, sentinelle-narratif-8841."
SECRET_REQUEST = "Merci de préciser le numéro IMEI, sentinelle-message-5512."
_counter = itertools.count(1)


# --- Factories ----------------------------------------------------------------------------------------------------


def station_ids(db_session, count: int = 2) -> list[str]:
    """Real unit ids: a Le Mans police station first, then others."""
    le_mans = db_session.scalar(
        select(Station.id).where(Station.code_insee == "72181", Station.kind == "police").order_by(Station.id))
    others = db_session.scalars(select(Station.id).where(Station.id != le_mans).order_by(Station.id)
                                .limit(count - 1)).all()
    return [le_mans, *others]


def make_account(db_session, verified: bool = True) -> Account:
    now = datetime.now(UTC)
    account = Account(issuer="https://fc.example" if verified else "urn:portail-citoyen:email",
                      subject=f"console-test-{next(_counter)}", identity_verified=verified,
                      created_at=now, last_login_at=now)
    db_session.add(account)
    db_session.flush()
    return account


def make_officer(db_session, unit_id: str, roles=("officer",), name: str = "Lieutenant Martin") -> Agent:
    agent = Agent(email=f"officier{next(_counter)}@interieur.gouv.fr", display_name=name, roles=list(roles),
                  unit_id=unit_id, created_at=datetime.now(UTC))
    db_session.add(agent)
    db_session.flush()
    return agent


def console_case(db_session, unit_id: str, account: Account | None = None, kind: str = "plainte_en_ligne",
              status: str = "deposee", offence: str = "vol_telephone", created_at: datetime | None = None,
              verified: bool = True, email: str = "camille.dupont@example.fr") -> Case:
    account = account or make_account(db_session, verified)
    at = created_at or datetime.now(UTC)
    with app_context(db_session):
        return _add_case(db_session, unit_id, account, kind, status, offence, at, verified, email)


def _add_case(db_session, unit_id, account, kind, status, offence, at, verified, email) -> Case:
    case = Case(
        reference=new_reference(kind), kind=kind, status=status, offence=offence, account_id=account.id,
        unit_id=unit_id, identity_verified=verified,
        identity={"given_names": ["Camille", "Marie"], "family_name": "Dupont", "birthdate": "1985-04-12",
                  "gender": "female", "birthplace": "72181", "birthcountry": "99100", "email": email},
        details={"offence": offence, "start_date": "2026-03-01", "start_time": "18:00", "end_date": "2026-03-01",
                 "end_time": "18:30", "commune_label": "Le Mans (72000)", "code_insee": "72181",
                 "department": "72", "address": "Place de la République",
                 "items": [{"type": "telephone", "description": "Téléphone noir", "brand": "Apple iPhone 13",
                            "serial": "F2LXK0QJ0D", "imei": "356938035643809", "card_last4": ""}],
                 "narrative": NARRATIVE},
        created_at=at, updated_at=at,
    )
    db_session.add(case)
    # Committed (a savepoint under ``db_session``): each request ends by closing the session, which
    # would roll back what was only flushed.
    db_session.commit()
    db_session.refresh(case)
    return case


@pytest.fixture
def units(db_session):
    return station_ids(db_session)


@pytest.fixture
def ctx(app):
    """An application context for the tests that call services directly (sealed columns need the key)."""
    with app.app_context():
        yield


# --- Services: the queue ------------------------------------------------------------------------------------------


def test_queue_holds_only_the_units_cases_newest_first(ctx, db_session, units):
    mine, other = units
    old = console_case(db_session, mine, created_at=datetime.now(UTC) - timedelta(days=3))
    new = console_case(db_session, mine)
    foreign = console_case(db_session, other)
    page = console.unit_queue(db_session, mine, console.parse_filters({}))
    references = [row.case.reference for row in page.rows]
    assert references[:2] == [new.reference, old.reference]
    assert foreign.reference not in references
    assert console.unit_queue(db_session, None, console.parse_filters({})).rows == []


def test_queue_filters_by_kind_status_offence_and_dates(ctx, db_session, units):
    mine = units[0]
    now = datetime.now(UTC)
    online = console_case(db_session, mine, created_at=now - timedelta(days=10))
    visio = console_case(db_session, mine, kind="visio_plainte", offence="menaces", status="en_cours",
                      created_at=now - timedelta(days=1))

    def refs(args):
        filters = console.parse_filters(args)
        return {row.case.reference for row in console.unit_queue(db_session, mine, filters).rows}

    by_kind = refs({"type": "visio_plainte"})
    assert visio.reference in by_kind and online.reference not in by_kind
    by_status = refs({"statut": "deposee"})
    assert online.reference in by_status and visio.reference not in by_status
    by_offence = refs({"infraction": "menaces"})
    assert visio.reference in by_offence and online.reference not in by_offence
    recent = refs({"du": (now - timedelta(days=2)).date().isoformat()})
    assert visio.reference in recent and online.reference not in recent
    older = refs({"au": (now - timedelta(days=5)).date().isoformat()})
    assert online.reference in older and visio.reference not in older


def test_bad_filters_are_explained_not_fatal(ctx, db_session):
    filters = console.parse_filters({"type": "x", "statut": "y", "infraction": "z", "du": "hier",
                                     "au": "2026-13-40", "page": "abc"})
    assert set(filters.errors) == {"type", "statut", "infraction", "du", "au"}
    assert not filters.active and filters.page == 1
    swapped = console.parse_filters({"du": "2026-03-10", "au": "2026-03-01"})
    assert "au" in swapped.errors


def test_queue_pages_by_25(ctx, db_session, units):
    mine = units[0]
    base = datetime.now(UTC) - timedelta(days=400)
    for i in range(27):
        console_case(db_session, mine, offence="vol_velo", created_at=base + timedelta(minutes=i))
    filters = console.parse_filters({"infraction": "vol_velo", "au": (base + timedelta(days=1)).date().isoformat()})
    first = console.unit_queue(db_session, mine, filters)
    assert (first.total, first.pages, len(first.rows)) == (27, 2, 25)
    filters.page = 2
    assert len(console.unit_queue(db_session, mine, filters).rows) == 2


# --- Services: actions --------------------------------------------------------------------------------------------


def test_take_request_and_close_move_the_case_on(ctx, db_session, units):
    officer = make_officer(db_session, units[0])
    case = console_case(db_session, units[0])
    console.take_case(db_session, officer, case, seen_status="deposee")
    assert (case.status, case.assigned_agent_id) == ("en_cours", officer.id)
    console.request_information(db_session, officer, case, SECRET_REQUEST, seen_status="en_cours")
    assert case.status == "complement_demande"
    console.close_case(db_session, officer, case, "desistement", "Le plaignant a retiré sa plainte.",
                       seen_status="complement_demande")
    assert case.status == "cloturee" and case.closed_at is not None
    kinds = [e.kind for e in db_session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                                .order_by(CaseEvent.id))]
    assert kinds == ["prise_en_charge", "complement_demande", "cloturee"]
    asked = db_session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                      CaseEvent.kind == "complement_demande"))
    assert asked.message == SECRET_REQUEST and asked.actor == "agent"


def test_actions_are_refused_from_senseless_states(ctx, db_session, units):
    officer = make_officer(db_session, units[0])
    case = console_case(db_session, units[0])
    with pytest.raises(console.ActionRefused, match="Prenez d'abord"):
        console.request_information(db_session, officer, case, "Une question")
    with pytest.raises(console.ActionRefused, match="Prenez d'abord"):
        console.close_case(db_session, officer, case, "doublon")
    console.take_case(db_session, officer, case)
    with pytest.raises(console.ActionRefused, match="déjà pris"):
        console.take_case(db_session, officer, case)
    with pytest.raises(console.ActionRefused) as empty:
        console.request_information(db_session, officer, case, "   ")
    assert empty.value.status == 400 and empty.value.field == "message"
    with pytest.raises(console.ActionRefused, match="2000 caractères"):
        console.request_information(db_session, officer, case, "x" * 2001)
    with pytest.raises(console.ActionRefused, match="motif"):
        console.close_case(db_session, officer, case, "parce-que")
    console.close_case(db_session, officer, case, "doublon")
    with pytest.raises(console.ActionRefused, match="clôturé"):
        console.take_case(db_session, officer, case)
    with pytest.raises(console.ActionRefused):
        console.request_information(db_session, officer, case, "Encore une question")


def test_a_stale_page_is_refused_with_409(ctx, db_session, units):
    first = make_officer(db_session, units[0])
    second = make_officer(db_session, units[0], name="Brigadier Durand")
    case = console_case(db_session, units[0])
    console.take_case(db_session, first, case, seen_status="deposee")
    with pytest.raises(console.StaleCase) as stale:
        console.take_case(db_session, second, case, seen_status="deposee")
    assert stale.value.status == 409
    assert case.assigned_agent_id == first.id


def test_the_conditional_update_loses_a_race_without_overwriting(ctx, db_session, units):
    """Another process changed the status between our read and our write: the UPDATE matches nothing."""
    first = make_officer(db_session, units[0])
    second = make_officer(db_session, units[0], name="Brigadier Durand")
    case = console_case(db_session, units[0])
    db_session.execute(Case.__table__.update().where(Case.__table__.c.id == case.id)
                       .values(status="en_cours", assigned_agent_id=first.id))
    with pytest.raises(console.StaleCase):
        # The page (and the object in memory) still said "deposee".
        console._transition(db_session, case, "deposee", console.TAKE_FROM, datetime.now(UTC), None,
                            status="en_cours", assigned_agent_id=second.id)
    assert case.assigned_agent_id == first.id


def test_another_officer_can_take_over_a_case_in_progress(ctx, db_session, units):
    first = make_officer(db_session, units[0])
    second = make_officer(db_session, units[0], name="Brigadier Durand")
    case = console_case(db_session, units[0])
    console.take_case(db_session, first, case)
    console.request_information(db_session, first, case, "Une question")
    console.take_case(db_session, second, case, seen_status="complement_demande")
    assert (case.assigned_agent_id, case.status) == (second.id, "complement_demande")


def test_case_for_agent_never_crosses_units(ctx, db_session, units):
    mine, other = units
    officer = make_officer(db_session, mine)
    foreign = console_case(db_session, other)
    own = console_case(db_session, mine)
    assert console.case_for_agent(db_session, officer, own.reference) is own
    assert console.case_for_agent(db_session, officer, foreign.reference) is None
    assert console.case_for_agent(db_session, officer, "PEL-2026-XXXXXX") is None
    unitless = make_officer(db_session, None)
    assert console.case_for_agent(db_session, unitless, own.reference) is None


def test_the_notice_to_the_citizen_never_carries_the_message(ctx, db_session, units):
    case = console_case(db_session, units[0])
    subject, body = console.citizen_notice(case.reference, "request_info", "https://portail.example/mon-espace")
    assert case.reference in subject and "Mon espace" in body and "https://portail.example/mon-espace" in body
    assert console.citizen_notice(case.reference, "take", "https://x") is None


def test_identity_of_a_case_reads_the_sealed_identity(ctx, db_session, units):
    case = console_case(db_session, units[0])
    identity = identity_of(case)
    assert identity.full_name == "Camille Marie Dupont" and identity.verified
    assert identity.birthdate_text == "12 avril 1985"


def test_dates_filter_on_paris_days(ctx, db_session, units):
    # 23:30 UTC on 1 March is 00:30 on 2 March in Paris: it belongs to the 2nd.
    mine = units[0]
    case = console_case(db_session, mine, offence="vol_papiers",
                     created_at=datetime(2025, 3, 1, 23, 30, tzinfo=UTC))
    on_second = console.parse_filters({"infraction": "vol_papiers", "du": "2025-03-02", "au": "2025-03-02"})
    on_first = console.parse_filters({"infraction": "vol_papiers", "du": "2025-03-01", "au": "2025-03-01"})
    assert [r.case.reference for r in console.unit_queue(db_session, mine, on_second).rows] == [case.reference]
    assert console.unit_queue(db_session, mine, on_first).rows == []
    assert date(2025, 3, 2) == on_second.submitted_from


# --- Routes -------------------------------------------------------------------------------------------------------
#
# Requests share the test's session and close it at their end: objects loaded before a request are detached
# after it. The tests keep references (strings) and read the database again with ``fetch``.


@pytest.fixture
def officer(app, db_session, units):
    """A test client signed in as an officer of the first unit (password + TOTP, through the real form)."""
    email = f"opj{next(_counter)}@interieur.gouv.fr"
    agent, secret = make_agent(db_session, email=email, unit_id=units[0], display_name="Lieutenant Martin")
    limiter.reset()  # the sign-in form is rate limited per address, and every test signs in
    client = app.test_client()
    client.agent_id = agent.id
    sign_in_agent(client, email, totp_secret=secret)
    return client


def new_reference_in(db_session, unit_id: str, **kwargs) -> str:
    return console_case(db_session, unit_id, **kwargs).reference


def fetch(db_session, reference: str) -> Case:
    """The case as the database now holds it, history loaded (sealed columns need the application's key)."""
    with app_context(db_session):
        case = db_session.scalar(select(Case).where(Case.reference == reference)
                                 .execution_options(populate_existing=True))
        for event in case.events:
            _ = event.message
    return case


def page(client, url: str):
    response = client.get(url)
    return response, response.get_data(as_text=True)


def post_action(client, reference: str, action: str, data: dict | None = None, token: bool = True):
    """Send an action's form as the case page gives it (its CSRF token and the status it shows)."""
    response, html = page(client, f"/agents/dossiers/{reference}")
    form = {}
    shown = re.search(r'name="statut" value="([^"]+)"', html)
    if shown:
        form["statut"] = shown.group(1)
    if token:
        form["csrf_token"] = csrf_token(html)
    form.update(data or {})
    return client.post(f"/agents/dossiers/{reference}/{action}", data=form)


def audit_actions(db_session, reference: str) -> list[str]:
    return list(db_session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == reference)
                                   .order_by(AuditEvent.id)))


def assign(db_session, reference: str, agent_id: int, status: str = "en_cours") -> None:
    db_session.execute(update(Case).where(Case.reference == reference)
                       .values(assigned_agent_id=agent_id, status=status))
    db_session.commit()


def test_the_queue_lists_the_units_cases_only_without_their_text(officer, db_session, units):
    own = new_reference_in(db_session, units[0])
    unverified = new_reference_in(db_session, units[0], verified=False, offence="vol_velo")
    foreign = new_reference_in(db_session, units[1])
    response, html = page(officer, "/agents/dossiers")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert own in html and unverified in html and foreign not in html
    assert "Identité vérifiée (FranceConnect)" in html and "à confirmer" in html
    assert "Vol de téléphone portable" in html and "Non attribué" in html
    assert "sentinelle-narratif" not in html and "Dupont" not in html
    assert 'hx-history="false"' in html


def test_queue_filters_work_without_javascript_and_with_htmx(officer, db_session, units):
    online = new_reference_in(db_session, units[0])
    visio = new_reference_in(db_session, units[0], kind="visio_plainte", offence="menaces")
    response, html = page(officer, "/agents/dossiers?type=visio_plainte")
    assert response.status_code == 200 and "<html" in html
    assert visio in html and online not in html
    assert 'hx-get="/agents/dossiers"' in html and 'action="/agents/dossiers"' in html
    fragment = officer.get("/agents/dossiers?infraction=menaces", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and "<form" not in body
    assert visio in body and online not in body and 'id="cases-count"' in body
    assert "HX-Request" in fragment.headers["Vary"] and fragment.headers["Cache-Control"] == "no-store"
    wrong, html = page(officer, "/agents/dossiers?du=hier")
    assert wrong.status_code == 200 and "<title>Erreur : " in html and "Saisissez une date valide" in html


def test_the_case_page_shows_the_case_and_is_audited(officer, db_session, units):
    reference = new_reference_in(db_session, units[0])
    response, html = page(officer, f"/agents/dossiers/{reference}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    for shown in ("Dupont", "Camille Marie", "12 avril 1985", "camille.dupont@example.fr", "sentinelle-narratif-8841",
                  "356938035643809", "F2LXK0QJ0D", "Le Mans (72000)", "Vol de téléphone portable",
                  "Identité vérifiée (FranceConnect)", "Prendre en charge"):
        assert shown in html, shown
    assert 'hx-history="false"' in html
    entry = db_session.scalar(select(AuditEvent).where(AuditEvent.target_id == reference))
    assert (entry.action, entry.agent_id, entry.target_type, entry.unit_id) == (
        "case.read", officer.agent_id, "case", units[0])


def test_when_the_mail_server_is_down_the_request_is_kept_and_the_officer_told(officer, app, db_session, units,
                                                                              monkeypatch):
    from portal.benchserver import free_port

    reference = new_reference_in(db_session, units[0])
    assert post_action(officer, reference, "prendre").status_code == 303
    # A relay that does not answer: nothing listens on this port.
    for name, value in {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port(),
                        "MAIL_USE_TLS": False, "MAIL_USE_SSL": False}.items():
        monkeypatch.setitem(app.config, name, value)
    asked = post_action(officer, reference, "complement", {"message": SECRET_REQUEST})
    assert asked.status_code == 303 and "fait=complement-sans-courriel" in asked.headers["Location"]
    assert fetch(db_session, reference).status == "complement_demande"
    _, html = page(officer, asked.headers["Location"])
    assert "le courriel qui l&#39;en prévient n&#39;a pas pu partir" in html


def test_take_then_ask_for_more_then_close(officer, db_session, units):
    reference = new_reference_in(db_session, units[0])
    taken = post_action(officer, reference, "prendre")
    assert taken.status_code == 303
    assert urlsplit(taken.headers["Location"]).path == f"/agents/dossiers/{reference}"
    assert "fait=prise" in taken.headers["Location"]
    _, html = page(officer, taken.headers["Location"])
    assert "Vous avez pris ce dossier en charge." in html and "Lieutenant Martin" in html
    case = fetch(db_session, reference)
    assert (case.status, case.assigned_agent_id) == ("en_cours", officer.agent_id)

    asked = post_action(officer, reference, "complement", {"message": SECRET_REQUEST})
    assert asked.status_code == 303 and "fait=complement" in asked.headers["Location"]
    assert fetch(db_session, reference).status == "complement_demande"
    mail = db_session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "camille.dupont@example.fr")
                              .order_by(OutboxMessage.id.desc())).first()
    assert mail is not None and reference in mail.subject and "Mon espace" in mail.body
    assert "sentinelle-message" not in mail.body and "sentinelle-message" not in mail.subject
    _, html = page(officer, asked.headers["Location"])
    assert SECRET_REQUEST in html and "Complément demandé au plaignant" in html

    closed = post_action(officer, reference, "cloturer", {"reason": "desistement", "note": "Merci."})
    assert closed.status_code == 303 and "fait=cloture" in closed.headers["Location"]
    case = fetch(db_session, reference)
    assert case.status == "cloturee" and case.closed_at is not None
    assert [e.kind for e in case.events] == ["prise_en_charge", "complement_demande", "cloturee"]
    assert audit_actions(db_session, reference) == [
        "case.read", "case.take", "case.read", "case.read", "case.request_info", "case.read", "case.read",
        "case.close"]
    _, html = page(officer, closed.headers["Location"])
    assert "Ce dossier est clôturé" in html and "Désistement du plaignant" in html
    notices = db_session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "camille.dupont@example.fr")
                                 .order_by(OutboxMessage.id)).all()
    assert [m.subject for m in notices][-1] == f"Votre dossier {reference} a été clôturé"
    assert "Merci." not in notices[-1].body


def test_the_hearing_shows_with_its_join_link_at_its_time(officer, db_session, units):
    case = console_case(db_session, units[0], kind="visio_plainte", offence="menaces")
    reference, now = case.reference, datetime.now(UTC)
    with app_context(db_session):
        slot = HearingSlot(unit_id=units[0], starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(minutes=25),
                           capacity=1, created_at=now)
        db_session.add(slot)
        db_session.flush()
        db_session.add(Booking(slot_id=slot.id, seat=1, case_id=case.id, account_id=case.account_id,
                               room="salle-console-test", created_at=now))
        db_session.commit()
    _, html = page(officer, f"/agents/dossiers/{reference}")
    assert "Rendez-vous de visio-plainte" in html
    assert 'href="https://visio.invalid/salle-console-test"' in html and "Rejoindre" in html


def test_bad_input_is_explained_on_the_case_page(officer, db_session, units):
    reference = new_reference_in(db_session, units[0])
    assign(db_session, reference, officer.agent_id)
    empty = post_action(officer, reference, "complement", {"message": "  "})
    html = empty.get_data(as_text=True)
    assert empty.status_code == 400 and "<title>Erreur : " in html
    assert 'href="#message"' in html and 'aria-describedby="message-error"' in html
    assert 'id="message-error"' in html and "fr-input-group--error" in html
    no_reason = post_action(officer, reference, "cloturer", {"reason": ""})
    assert no_reason.status_code == 400 and "Choisissez le motif de clôture." in no_reason.get_data(as_text=True)
    assert fetch(db_session, reference).status == "en_cours"


def test_a_stale_page_gets_409_and_changes_nothing(officer, db_session, units):
    reference = new_reference_in(db_session, units[0])
    other, _ = make_agent(db_session, email=f"autre{next(_counter)}@interieur.gouv.fr", unit_id=units[0])
    other_id = other.id
    html = officer.get(f"/agents/dossiers/{reference}").get_data(as_text=True)
    assign(db_session, reference, other_id)  # another officer took it meanwhile
    response = officer.post(f"/agents/dossiers/{reference}/prendre",
                            data={"csrf_token": csrf_token(html), "statut": "deposee"})
    assert response.status_code == 409
    assert "a été modifié depuis" in response.get_data(as_text=True)
    assert fetch(db_session, reference).assigned_agent_id == other_id


def test_a_case_whose_pv_awaits_the_citizen_cannot_be_closed(officer, db_session, units):
    reference = new_reference_in(db_session, units[0], kind="visio_plainte", offence="menaces")
    assign(db_session, reference, officer.agent_id, status="pv_disponible")
    with app_context(db_session):
        case = db_session.scalar(select(Case).where(Case.reference == reference))
        db_session.add(Statement(case=case, version=1, text="PV", agent_id=officer.agent_id,
                                 sent_at=datetime.now(UTC)))
        db_session.commit()
    refused = post_action(officer, reference, "cloturer", {"reason": "plainte_enregistree"})
    assert refused.status_code == 409
    assert "attend la validation du plaignant" in refused.get_data(as_text=True)
    assert fetch(db_session, reference).status == "pv_disponible"


@pytest.mark.parametrize("method, action", [("GET", ""), ("POST", "/prendre"), ("POST", "/complement"),
                                            ("POST", "/cloturer")])
def test_another_units_case_is_not_found(officer, db_session, units, method, action):
    foreign = new_reference_in(db_session, units[1])
    assign(db_session, foreign, officer.agent_id)  # even assigned to them by mistake, the unit decides
    token = csrf_token(officer.get("/agents/dossiers").get_data(as_text=True))
    data = {"csrf_token": token, "statut": "en_cours", "message": "Bonjour", "reason": "doublon"}
    for reference in (foreign, "PEL-2026-ZZZZZZ"):
        url = f"/agents/dossiers/{reference}{action}"
        response = officer.get(url) if method == "GET" else officer.post(url, data=data)
        assert response.status_code == 404, reference
        assert foreign not in response.get_data(as_text=True)
    case = fetch(db_session, foreign)
    assert case.status == "en_cours" and case.events == []
    assert audit_actions(db_session, foreign) == []


def test_citizens_and_visitors_never_reach_the_console(app, citizen, db_session, units):
    reference = new_reference_in(db_session, units[0])
    for client, form_page in ((citizen, "/mon-espace"), (app.test_client(), "/connexion")):
        for url in ("/agents/dossiers", f"/agents/dossiers/{reference}"):
            response = client.get(url)
            assert response.status_code in (302, 303)
            assert urlsplit(response.headers["Location"]).path == "/agents/connexion"
        token = csrf_token(client.get(form_page).get_data(as_text=True))
        refused = client.post(f"/agents/dossiers/{reference}/prendre", data={"csrf_token": token})
        assert refused.status_code == 403
    assert fetch(db_session, reference).status == "deposee"
    assert audit_actions(db_session, reference) == []


def test_an_editor_is_refused(app, db_session, units):
    reference = new_reference_in(db_session, units[0])
    email = f"redacteur{next(_counter)}@interieur.gouv.fr"
    _, secret = make_agent(db_session, email=email, roles=("editor",), unit_id=units[0])
    limiter.reset()
    client = app.test_client()
    sign_in_agent(client, email, totp_secret=secret)
    assert client.get("/agents/dossiers").status_code == 403
    assert client.get(f"/agents/dossiers/{reference}").status_code == 403
    token = csrf_token(client.get("/agents/").get_data(as_text=True))  # its sign-out form
    assert client.post(f"/agents/dossiers/{reference}/prendre", data={"csrf_token": token}).status_code == 403
    assert audit_actions(db_session, reference) == []


def test_an_action_without_its_csrf_token_is_refused(officer, db_session, units):
    reference = new_reference_in(db_session, units[0])
    response = post_action(officer, reference, "prendre", token=False)
    assert response.status_code == 400
    case = fetch(db_session, reference)
    assert case.status == "deposee" and case.assigned_agent_id is None
