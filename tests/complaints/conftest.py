"""Shared fixtures of the complaints tests: signed-in citizens and cases made directly in the database.

- ``citizen``: a test client signed in with the local FranceConnect (identity "test",
  Angela DUBOIS); ``citizen.account_id`` is its account's id.
- ``other_citizen``: another FranceConnect citizen (identity "nom_compose").
- ``email_citizen``: a test client signed in with the e-mail alternative
  (camille@example.org, identity not verified); ``email_citizen.account_id``.
- ``make_case(db_session, account_id, unit_id, kind=..., status=..., offence=...)``: a case with a
  "deposee" event, flushed.
- ``unit_id``: a real unit of the station data (Le Mans police station); ``other_unit_id``.

Every fixture here uses ``db_session``: what a test writes, including through
requests, is rolled back at its end.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from accounts.models import EMAIL_ISSUER, Account, OutboxMessage
from complaints.cases import new_reference, record_event
from complaints.models import Case
from local_franceconnect import pairwise_sub
from portal.security import limiter
from tests.accounts.conftest import Browser, csrf_token

LE_MANS_UNIT = "commissariat_police-72181-01"
OTHER_UNIT = "commissariat_police-69383-01"  # replaced below by any other unit if absent
IDENTITY_TEST = {"given_names": ["Angela", "Claire", "Louise"], "family_name": "DUBOIS", "birthdate": "1962-08-24",
                 "gender": "female", "birthplace": "75107", "birthcountry": "99100",
                 "email": "wossewodda-3728@yopmail.com", "verified": True}


def _browser(app, local_fc) -> Browser:
    parts = urlsplit(local_fc.issuer)
    return Browser(app.test_client(), requests.Session(), f"{parts.scheme}://{parts.netloc}")


def sign_in_franceconnect(app, local_fc, db_session, login: str = "test"):
    """A fresh test client signed in as the local FranceConnect identity ``login``."""
    browser = _browser(app, local_fc)
    response = browser.sign_in(login)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    subject = pairwise_sub(app.config["FRANCECONNECT_CLIENT_ID"], login)
    account = db_session.scalar(select(Account).where(Account.subject == subject, Account.issuer != EMAIL_ISSUER))
    client = browser.portal
    client.account_id = account.id
    client.browser = browser
    return client


def sign_in_email(app, db_session, email: str = "camille@example.org"):
    """A fresh test client signed in with a code sent to ``email``."""
    client = app.test_client()
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    asked = client.post("/connexion/email", data={"csrf_token": token, "email": email})
    assert asked.status_code == 303, asked.get_data(as_text=True)[:300]
    message = db_session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)
                                 .order_by(OutboxMessage.id.desc())).first()
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    token = csrf_token(client.get("/connexion/email/code").get_data(as_text=True))
    done = client.post("/connexion/email/code", data={"csrf_token": token, "code": code})
    assert done.status_code == 302, done.get_data(as_text=True)[:300]
    account = db_session.scalars(select(Account).where(Account.issuer == EMAIL_ISSUER)
                                 .order_by(Account.last_login_at.desc())).first()
    client.account_id = account.id
    return client


@pytest.fixture
def citizen(app, local_fc, db_session):
    local_fc.provider.faults.clear()
    limiter.reset()
    return sign_in_franceconnect(app, local_fc, db_session, "test")


@pytest.fixture
def other_citizen(app, local_fc, db_session):
    return sign_in_franceconnect(app, local_fc, db_session, "nom_compose")


@pytest.fixture
def email_citizen(app, db_session):
    limiter.reset()
    return sign_in_email(app, db_session)


@pytest.fixture
def unit_id(db_session) -> str:
    return LE_MANS_UNIT


@pytest.fixture
def other_unit_id(db_session) -> str:
    from maps.models import Station

    return db_session.scalar(select(Station.id).where(Station.id != LE_MANS_UNIT, Station.kind == "police")
                             .order_by(Station.id).limit(1))


def new_case(db_session, account_id: int, unit_id: str = LE_MANS_UNIT, kind: str = "plainte_en_ligne",
             status: str = "deposee", offence: str = "vol_telephone", details: dict | None = None,
             identity: dict | None = None, now: datetime | None = None, closed_at: datetime | None = None) -> Case:
    """A case as a submission leaves it (then ``status`` set as asked), flushed."""
    now = now or datetime.now(UTC)
    case = Case(reference=new_reference(kind, now), kind=kind, status=status, offence=offence,
                account_id=account_id, unit_id=unit_id, identity_verified=True,
                identity=identity if identity is not None else dict(IDENTITY_TEST),
                details=details if details is not None else {"narrative": "Récit de test"},
                created_at=now, updated_at=now,
                closed_at=closed_at if closed_at is not None else (now if status == "cloturee" else None))
    db_session.add(case)
    record_event(db_session, case, "citizen", "deposee", now=now)
    db_session.flush()
    return case


@pytest.fixture
def make_case():
    return new_case
