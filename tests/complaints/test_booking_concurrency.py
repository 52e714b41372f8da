"""50 citizens press « réserver » on the same last seat at once, on a portal served by several gunicorn processes.

Each citizen signs in for real through the local FranceConnect (50 test
identities added to it for the test), answers the eligibility questions, then
all 50 send their booking together over HTTP. The database's UNIQUE(slot_id,
seat) decides: exactly one booking, one case; the 49 others are told
« Ce créneau vient d'être réservé » (409), none gets a 500. The portal runs on
the test session's database: SQLite, or PostgreSQL when TEST_DATABASE_URL is
set. What the test commits is deleted at its end.
"""

from __future__ import annotations

import html
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import delete, func, select

from accounts.models import Account, OutboxMessage, WebSession
from complaints import visio
from complaints.models import Booking, Case, CaseEvent, Draft, HearingSlot
from local_franceconnect import IDENTITIES, pairwise_sub
from portal.benchserver import running_portal
from portal.extensions import db
from tests.complaints.conftest import LE_MANS_UNIT
from tests.conftest import POSTGRES_SCHEMA

CITIZENS = 50
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ANSWERS = {"role": "victime", "offence": "violences", "description": "Coups reçus devant chez moi.",
           "device": "oui", "private_place": "oui"}


def login(n: int) -> str:
    return f"visio-concurrence-{n:02d}"


@pytest.fixture
def identities(monkeypatch):
    """Fifty more test identities in the local FranceConnect: fifty distinct adults."""
    for n in range(CITIZENS):
        monkeypatch.setitem(IDENTITIES, login(n), {
            "label": f"Citoyen de test {n}", "given_name": "Camille", "family_name": f"CONCURRENCE{n:02d}",
            "birthdate": "1984-03-09", "gender": "female", "birthplace": "72181", "birthcountry": "99100",
            "email": f"visio-concurrence-{n:02d}@example.org", "preferred_username": ""})


def _published_slots(app, end: str, days: int = 6) -> tuple[list[int], set]:
    """Slots of 30 minutes from 07:00 to ``end``, capacity 1, committed; and the web sessions there were before."""
    now = datetime.now(UTC)
    day = (now.astimezone(visio.PARIS) + timedelta(days=days)).date()
    with app.app_context():
        sessions_before = set(db.session.scalars(select(WebSession.id_hash)))
        series, errors, _ = visio.parse_series({"day": day.isoformat(), "start": "07:00", "end": end,
                                                "length": "30", "capacity": "1"}, now)
        assert not errors, errors
        slot_ids = [slot.id for slot in visio.publish_slots(db.session, LE_MANS_UNIT, None, series, now)]
        db.session.commit()
        db.session.remove()
    return slot_ids, sessions_before


def _clean_up(app, slot_ids: list[int], sessions_before: set) -> None:
    """Remove what the test made: the test citizens' cases, answers, accounts and sessions, the slots, the mail."""
    subjects = [pairwise_sub(app.config["FRANCECONNECT_CLIENT_ID"], login(n)) for n in range(CITIZENS)]
    with app.app_context():
        session = db.session
        accounts = select(Account.id).where(Account.subject.in_(subjects)).scalar_subquery()
        cases = select(Case.id).where(Case.account_id.in_(accounts)).scalar_subquery()
        session.execute(delete(Booking).where(Booking.slot_id.in_(slot_ids)))
        session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(cases)))
        session.execute(delete(Case).where(Case.account_id.in_(accounts)))
        session.execute(delete(Draft).where(Draft.account_id.in_(accounts)))
        session.execute(delete(HearingSlot).where(HearingSlot.id.in_(slot_ids)))
        session.execute(delete(OutboxMessage).where(OutboxMessage.recipient.like("visio-concurrence-%")))
        created = set(session.scalars(select(WebSession.id_hash))) - sessions_before
        session.execute(delete(WebSession).where(WebSession.id_hash.in_(created)))  # the 50 citizens' sessions
        session.execute(delete(Account).where(Account.subject.in_(subjects)))
        session.commit()
        session.remove()


@pytest.fixture
def last_seat(app):
    """A slot of capacity 1, committed for the portal's processes to see; everything the test made removed after."""
    (slot_id,), sessions_before = _published_slots(app, "07:30")
    yield slot_id
    _clean_up(app, [slot_id], sessions_before)


@pytest.fixture
def free_slots(app):
    """Six free slots of one unit, committed; everything the test made removed after."""
    slot_ids, sessions_before = _published_slots(app, "10:00", days=7)
    yield slot_ids
    _clean_up(app, slot_ids, sessions_before)


@pytest.fixture
def portal(app, local_fc):
    """The portal under gunicorn, 3 processes, on the test session's database and local FranceConnect."""
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    if database.startswith("postgresql"):
        database += f"?options=-csearch_path%3D{POSTGRES_SCHEMA}"
    env = {"PORTAL_ENV": "test", "SECRET_KEY": app.config["SECRET_KEY"], "DATABASE_URL": database,
           "SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"], "FRANCECONNECT_ISSUER": local_fc.issuer,
           "PUBLIC_URL": local_fc.portal_url, "TRUSTED_PROXIES": "1", "WEB_CONCURRENCY": "3",
           "GUNICORN_THREADS": "8"}
    with running_portal(**env) as base:
        yield base


class Citizen:
    """One browser: a requests session, its own address (X-Forwarded-For, behind the trusted proxy)."""

    def __init__(self, base: str, portal_url: str, n: int) -> None:
        self.base, self.portal_url, self.n = base, portal_url, n
        self.http = requests.Session()
        self.http.headers["X-Forwarded-For"] = f"10.77.{n // 250}.{n % 250 + 1}"
        self.token = ""

    def _token(self, path: str) -> str:
        page = self.http.get(self.base + path, timeout=30)
        assert page.status_code == 200, (path, page.status_code)
        return CSRF.search(page.text).group(1)

    def sign_in(self) -> None:
        started = self.http.post(self.base + "/connexion/franceconnect", data={"csrf_token": self._token("/connexion")},
                                 allow_redirects=False, timeout=30)
        assert started.status_code == 303, started.status_code
        authorize = self.http.get(started.headers["Location"], allow_redirects=False, timeout=30)
        interaction = authorize.headers["Location"]
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(started.headers["Location"]))
        chosen = self.http.post(origin + interaction + "/login", data={"login": login(self.n)},
                                allow_redirects=False, timeout=30)
        callback = urlsplit(chosen.headers["Location"])
        assert callback.geturl().startswith(self.portal_url)
        back = self.http.get(f"{self.base}{callback.path}?{callback.query}", allow_redirects=False, timeout=60)
        assert back.status_code == 302 and back.headers["Location"].endswith("/mon-espace"), back.status_code

    def answer(self) -> None:
        self.token = self._token("/visio-plainte/eligibilite")
        answered = self.http.post(self.base + "/visio-plainte/eligibilite", data={"csrf_token": self.token, **ANSWERS},
                                  allow_redirects=False, timeout=30)
        assert answered.status_code == 303 and answered.headers["Location"].endswith("/visio-plainte/unite")

    def book(self, slot_id: int) -> requests.Response:
        return self.http.post(self.base + "/visio-plainte/reservation",
                              data={"csrf_token": self.token, "slot": str(slot_id)}, allow_redirects=False,
                              timeout=60)


def _main_text(page: str) -> str:
    """What the page says, for a failure's message."""
    main = re.search(r"<main.*?</main>", page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(main.group(0) if main else page)))[:600]


def test_fifty_parallel_bookings_of_the_last_seat_give_exactly_one(app, local_fc, identities, last_seat, portal):
    citizens = [Citizen(portal, local_fc.portal_url, n) for n in range(CITIZENS)]

    def prepare(citizen: Citizen) -> None:
        citizen.sign_in()
        citizen.answer()

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(prepare, citizens))

    start = threading.Barrier(CITIZENS)

    def book(citizen: Citizen) -> requests.Response:
        # A fresh connection each: one kept alive since the answers may be closed by the server (keep-alive
        # timeout) just as the booking is sent on it, and requests does not resend a POST.
        citizen.http.close()
        start.wait(timeout=30)
        return citizen.book(last_seat)

    with ThreadPoolExecutor(max_workers=CITIZENS) as pool:
        answers = list(pool.map(book, citizens))

    statuses = sorted(answer.status_code for answer in answers)
    others = [(a.status_code, _main_text(a.text)) for a in answers if a.status_code not in (303, 409)]
    assert statuses == [303] + [409] * (CITIZENS - 1), (sorted(set(statuses)), others[:3])
    (winner,) = [answer for answer in answers if answer.status_code == 303]
    assert "/visio-plainte/rendez-vous/VIS-" in winner.headers["Location"]
    for answer in answers:
        if answer.status_code == 409:
            assert "Ce créneau vient d'être réservé" in html.unescape(answer.text)
    with app.app_context():
        assert db.session.scalar(select(func.count(Booking.id)).where(Booking.slot_id == last_seat)) == 1
        subjects = [pairwise_sub(app.config["FRANCECONNECT_CLIENT_ID"], login(n)) for n in range(CITIZENS)]
        accounts = select(Account.id).where(Account.subject.in_(subjects)).scalar_subquery()
        # No case left behind by a lost race: the case and its seat are one transaction.
        assert db.session.scalar(select(func.count(Case.id)).where(Case.account_id.in_(accounts))) == 1
        db.session.remove()


def test_one_citizen_clicking_six_slots_at_once_gets_one_hearing(app, local_fc, identities, free_slots, portal):
    """The same answers, six bookings sent together for six different free slots: one case, one booking."""
    citizen = Citizen(portal, local_fc.portal_url, 0)
    citizen.sign_in()
    citizen.answer()
    start = threading.Barrier(len(free_slots))

    def book(slot_id: int) -> requests.Response:
        tab = requests.Session()  # one tab each, the same signed-in citizen
        tab.headers.update(citizen.http.headers)
        tab.cookies.update(citizen.http.cookies)
        start.wait(timeout=30)
        return tab.post(citizen.base + "/visio-plainte/reservation",
                        data={"csrf_token": citizen.token, "slot": str(slot_id)}, allow_redirects=False, timeout=60)

    with ThreadPoolExecutor(max_workers=len(free_slots)) as pool:
        answers = list(pool.map(book, free_slots))

    booked = [a for a in answers if a.status_code == 303 and "/visio-plainte/rendez-vous/VIS-" in a.headers["Location"]]
    # The others: refused (409), or, when their request came after the booking was committed, sent back to the
    # questions (303) because the answers are gone with it. Never a second booking, never a 500.
    others = [(a.status_code, a.headers.get("Location", ""), _main_text(a.text)) for a in answers
              if a not in booked and a.status_code != 409
              and not (a.status_code == 303 and a.headers["Location"].endswith("/visio-plainte/eligibilite"))]
    assert len(booked) == 1 and not others, ([a.status_code for a in answers], others[:3])
    for answer in answers:
        if answer.status_code == 409:
            assert "déjà" in html.unescape(answer.text)
    with app.app_context():
        account = select(Account.id).where(
            Account.subject == pairwise_sub(app.config["FRANCECONNECT_CLIENT_ID"], login(0))).scalar_subquery()
        assert db.session.scalar(select(func.count(Case.id)).where(Case.account_id == account)) == 1
        assert db.session.scalar(select(func.count(Booking.id)).where(Booking.slot_id.in_(free_slots))) == 1
        db.session.remove()
