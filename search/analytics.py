"""Privacy-first search analytics: what citizens search for and whether they find it, never who.

What is kept of one search (``SearchEvent``, for ``ANALYTICS_RETENTION_DAYS`` days): the query
scrubbed by ``scrub`` (numbers, e-mail addresses, links, plates, common first names and surnames, and
words the catalogue does not attest are replaced), the day, the number of results, the best rank
followed, and a visitor key: an HMAC of the client's address and user agent with the day's salt
(``AnalyticsSalt``), deleted once the next day is over too (a grace period for hosts whose clocks
differ). The key counts distinct visitors within a day and links nothing across days; no address,
session, cookie or time finer than the day is stored.

The editors read daily counts (``SearchQueryDay``, rolled up by a periodic task, deleted after
``ANALYTICS_SUMMARY_RETENTION_DAYS``) and a query is shown only when, on at least one day of the
period, ``ANALYTICS_MIN_VISITORS`` distinct visitors typed it (k-anonymity: a query typed by one person,
however many days, is never shown; keys of different days cannot be compared, so a day is the only span
over which visitors can be told apart). Nothing here ever writes a query to a log.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from flask import Flask, current_app, has_app_context
from sqlalchemy import case, delete, distinct, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.dates import PARIS
from portal.text import fold
from search.analysis import index_terms, is_stop, stem_variants
from search.engine import MAX_WORD_CHARS, clean_query
from search.models import AnalyticsSalt, SearchEvent, SearchQueryDay

log = logging.getLogger(__name__)

# What replaces the scrubbed parts of a query.
NUMBER = "[numéro]"
EMAIL = "[courriel]"
LINK = "[lien]"
PLATE = "[immatriculation]"
UNKNOWN = "…"
MARKERS = (NUMBER, EMAIL, LINK, PLATE)
MAX_STORED_CHARS = 100
# Public numbers a citizen in danger types: never anyone's own number, kept as typed.
KEPT_NUMBERS = frozenset({"15", "17", "18", "112", "114", "115", "119", "191", "196", "3018", "3919",
                          "116000", "116006"})
# A word is the catalogue's when at least this many documents of the index have it (document frequency of
# its spelling field). Service-public.fr fiches name people in their examples ("si l'enfant a le nom de sa
# mère (Leroy)", "Jean a 2 enfants : Michel et Sophie"): most such names are in one or two of them. Measured
# on the real catalogue (docs/editorial.md, "Search statistics"): 3 leaves 12,164 of the index's 22,149
# words (and 2,934 more by family), changes none of the 40 public evaluation queries with the search rules'
# words (4 without them: "preplainte", "leboncoin", "cambriolé", "piratée" are in 1 or 2 documents).
KNOWN_MIN_DOCS = 3
# A word of this length or more one edit away from a word of the catalogue (KNOWN_MIN_DOCS documents) is a
# typo of it, kept ("comissariat"); shorter, too many names are one edit away from some word ("marie" and
# "mairie", "leroy" and "leroi").
TYPO_MIN_CHARS = 6
# Common first names and surnames in France (folded), never kept: a fiche's example ("monsieur Dupont et
# madame Martin", 7 and 29 documents) or a place ("Saint-Michel", "Saint-Denis") puts some in enough
# documents to pass KNOWN_MIN_DOCS. Names that are also common French words are not listed, the catalogue
# uses them as such: "pierre" (stone, Saint-Pierre-et-Miquelon), "rose" (the old pink licence), "marie"
# (folded "marié"), "claire", "blanc", "petit", "noël", "paris"... they are kept when the catalogue has them.
NAMES = frozenset("""
    abdel abdelkader adam adrien agnes ahmed aicha alain alba albert alexandre alexia alfred ali alice amandine
    amina aminata amir amrani anais andre anna anne annie anthony antoine arlette arnaud arthur aubert aubin
    aubry audrey aurelie axel ayoub bailly baptiste barbier barthelemy bauer bazin beatrice becker belkacem
    benali benard benjamin benoit bernadette bernard bertin bertrand besson bilal blanchard blanchet blondel
    bodin bonnet bonnin bouaziz boubacar bouchard bouchet boulay bourgeois bousquet bouvet bouvier boyer
    brigitte brunel brunet bruno camara camille camus carlier caroline caron carpentier cartier catherine cecile
    cedric celia celine chantal charles charlotte charrier chauvin chevallier chevrier chloe christian
    christiane christine christophe cisse clara claude claudine clement cohen colas colette collet collin
    cordier corinne costa coulibaly damien daniel danielle david delattre delaunay delmas delorme delphine denis
    denise deschamps devaux diallo didier diop djamel dominique drouet dubois duclos dufour dumas dumont dupond
    dupont dupuis dupuy durand duval dylan elisabeth elise elodie emile emilie emma emmanuel enzo eric ernest
    erwan estelle ethan etienne eva evelyne evrard fabien fabre fabrice fanny farid fatima fatoumata faure
    fernand fernandes fernandez ferrand ferreira fleury florence florian fouad fournier francine franck francois
    francoise frederic gabriel gael gaillard gallet garcia garnier gaston gauthier gautier genevieve georges
    gerard gilbert gilles gillet ginette girard giraud gonzalez gregory grondin guerin guichard guillaume
    guillemin guillon guillot guillou gustave guy guyot gwendoline haddad hakim hamel hamon hamza hardy hebert
    helene henri henry hernandez herve hoarau hoffmann huard hubert huet hugo hugues huguette humbert ibrahim
    idriss ilyes ines isabelle jacob jacqueline jacques jacquet janine jean jeanne jeannine jeremie jeremy
    jerome jessica joel jolly joly jordan josette josiane joubert jourdan jules julie julien juliette justine
    kamel karim karine kevin khadija khelifi killian klein kone kylian lacombe lacoste lacroix laetitia lambert
    lamy langlet langlois laporte laura laurence laurent lea leblanc leblond lebon lebreton lebrun leclerc
    leclercq lecomte leconte ledoux leduc lefebvre lefevre lefort legrand leila lejeune lelievre lemaire
    lemaitre lemoine lemonnier lenny leo leon leroux leroy levasseur levy liliane lina lionel loic lopes lopez
    lou louis louna luc lucas lucette lucie lucien lucienne ludovic lyes maeva magali maillard maillot malik
    mallet mamadou manon mansouri marc marcel marcelle marchal margaux maria mariam marion martin martine
    martinez martins marty masson mathias mathieu mathilde mathis matteo matthieu maury maxime mehdi melanie
    menard mercier meyer meziane michael michaud michel micheline mickael mila millet mireille mohamed mohammed
    monique monnier moreau morel morgane morin morvan mourad moussa muller murielle myriam nabil nadege nadia
    nadine nassim nathalie nathan ndiaye nguyen nicolas nicole nina noah noemie nolan nordine odette odile
    oliveira olivier ollivier omar ophelie oumar pascal pasquier patrice patricia patrick paul paulette pauline
    payet pelletier peltier pereira perez perret perrier perrin perrot pham philippe picard pichon pierrette
    pineau poirier pons poulain poulin prevost prevot pruvost quentin rachid raphael rayan rayane raymond
    raymonde raynaud regis regnier remi remy renaud renault rene renee rey reynaud richard rigaud robert robin
    rodolphe rodrigues rodriguez roger roland rolland romain romane ronan rousseau roussel rousset roy royer
    sabrina sacha saidi salim sami samia samir samuel sanchez sandra sandrine santos sarah sasha schmidt schmitt
    schneider sebastien serge severine silva simon simone sofiane sonia sophie souleymane stephane stephanie
    suzanne sylla sylvain sylviane sylvie tanguy tessier texier theo therese thibault thierry thomas timeo
    timothee tom tran traore tristan valentin valerie vallet vanessa vasseur veronique victor vidal vincent
    virginie wagner walid weber weiss william xavier yacine yanis yann yannick yasmine youssef yves yvette
    yvonne zoe
""".split())
TOKEN = re.compile(r"[0-9a-f]{32}")
# Clicks count for a search of today or yesterday (a page left open overnight); the roll-up
# recomputes one day more than that, so the last click of a day is always rolled up.
CLICK_DAYS = 2
ROLLUP_DAYS = CLICK_DAYS + 1
# A day's salt outlives its day by this many days: hosts' clocks may differ around midnight.
SALT_GRACE_DAYS = 1
# How fresh the editors' counts are (the roll-up's period, run by the search worker).
ROLLUP_EVERY_MINUTES = 15
PERIODS = (7, 30)
REPORT_LIMIT = 200
# A best click further down than this, on average, means the answer is too far.
FAR_RANK = 3

# Scrubbing, on the query as typed (the case of a word's initial tells a name), in this order. Each match
# becomes a private-use character (not a word character, so the vocabulary check skips it), turned into its
# marker at the end.
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.I)
_EMAIL = re.compile(r"\S*@\S*")
_IBAN = re.compile(r"\b[a-z]{2}\d{2}(?:[ -]?[a-z0-9]{4}){2,7}(?:[ -]?[a-z0-9]{1,3})?\b", re.I)
# SIV plates (since 2009): AB-123-CD; the letters I, O and U are never used, 000 neither.
_PLATE = re.compile(r"\b[a-hj-np-tv-z]{2}([- ]?)(\d{3})\1[a-hj-np-tv-z]{2}\b", re.I)
# Phone, card, IMEI, social security and account numbers, dates of birth: 5 digits or more,
# possibly grouped by spaces, dots, dashes or slashes ("06 12 34 56 78", "+33 6…", "12/05/1990").
_DIGITS = re.compile(r"\+?\d(?:[ .\-/]?\d){4,}")
_GROUP_SEPARATORS = re.compile(r"[ .\-/+]+")
_PLACEHOLDERS = {LINK: "\ue000", EMAIL: "\ue001", NUMBER: "\ue002", PLATE: "\ue003", UNKNOWN: "\ue004"}
_MARKER_OF = {v: k for k, v in _PLACEHOLDERS.items()}
_WORD = re.compile(r"[^\W_]+")
_UNKNOWN_RUN = re.compile("\ue004(?:[^\\w\ue000-\ue004]*\ue004)+")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


# -- scrubbing ----------------------------------------------------------------------------------


class Vocabulary:
    """Which words of a query the catalogue attests, so that they may be stored.

    ``frequency``: the index's spelling words (folded, lower-case) and how many documents have each;
    ``curated``: the words of the published search rules (synonyms, best and worst bets), which editors
    wrote and reviewers approved. A word is attested when it is not one of NAMES and at least ``min_docs``
    documents have it, or a rule has it, or an attested word shares its family (stem: "négligences" and
    "négligence"; "visioplainte" and "plainte"). A word is kept when attested, or when it is a typo of a
    word attested as written: TYPO_MIN_CHARS letters or more, one edit away. A word typed with a capital
    initial inside the query (``capitalised``: a name, most of the time) is kept only if attested as written:
    neither its family nor its typos count.
    """

    def __init__(self, frequency: Mapping[str, int], curated: Iterable[str] = (),
                 min_docs: int = KNOWN_MIN_DOCS) -> None:
        self._frequency = frequency
        self.min_docs = max(1, min_docs)
        self._curated = frozenset(fold(w.lower()) for w in curated) - NAMES

    def _as_written(self, folded: str) -> bool:
        if folded in NAMES:
            return False
        return self._frequency.get(folded, 0) >= self.min_docs or folded in self._curated

    def attested(self, folded: str) -> bool:
        """Whether the catalogue attests this folded, lower-case word (or its family), and it is no one's name."""
        if folded in NAMES:
            return False
        if self._as_written(folded):
            return True
        stems = _family_stems(self._frequency, self.min_docs, self._curated)
        return any(term in stems for term in index_terms(folded))

    def __call__(self, word: str, *, capitalised: bool = False) -> bool:
        folded = fold(word.lower())
        if capitalised:
            return self._as_written(folded)
        if self.attested(folded):
            return True
        if folded in NAMES or not TYPO_MIN_CHARS <= len(folded) <= MAX_WORD_CHARS:
            return False
        return any(self._as_written(candidate) for candidate in _one_edit(folded))


# The stems of the last vocabulary's attested words: computed once per state of the index, by the first search
# that needs them (half a second in a new process on the full catalogue, a hundredth after: stems are cached);
# the mapping they were computed from is kept with them, compared by identity (each state of the index has its
# own).
_stems_cache: list[tuple[Mapping[str, int], int, frozenset[str], frozenset[str]]] = []


def _family_stems(frequency: Mapping[str, int], min_docs: int, curated: frozenset[str]) -> frozenset[str]:
    for cached_frequency, cached_min, cached_curated, stems in _stems_cache:
        if cached_frequency is frequency and cached_min == min_docs and cached_curated == curated:
            return stems
    words = {w for w, n in frequency.items() if n >= min_docs} | curated
    stems = frozenset(term for w in words - NAMES for term in stem_variants(w))
    _stems_cache[:] = [(frequency, min_docs, curated, stems)]
    return stems


def _one_edit(word: str) -> Iterable[str]:
    """Every string one deletion, transposition, substitution or insertion away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    for left, right in splits:
        if right:
            yield left + right[1:]
            if len(right) > 1:
                yield left + right[1] + right[0] + right[2:]
            for letter in _ALPHABET:
                if letter != right[0]:
                    yield left + letter + right[1:]
        for letter in _ALPHABET:
            yield left + letter + right


def _numbers(match: re.Match) -> str:
    digits = match.group(0)
    groups = [g for g in _GROUP_SEPARATORS.split(digits) if g]
    if digits.lstrip("+").replace(" ", "") in KEPT_NUMBERS or all(g in KEPT_NUMBERS for g in groups):
        return digits
    return f" {_PLACEHOLDERS[NUMBER]} "


def _iban(match: re.Match) -> str:
    # A real IBAN is mostly digits: "ab12 vols pour" is not one.
    if sum(c.isdigit() for c in match.group(0)) < 10:
        return match.group(0)
    return f" {_PLACEHOLDERS[NUMBER]} "


def _plate(match: re.Match) -> str:
    if match.group(2) == "000" or match.group(2) in KEPT_NUMBERS:  # "appeler le 115 la nuit"
        return match.group(0)
    return f" {_PLACEHOLDERS[PLATE]} "


def scrub(query: str, known: Vocabulary) -> str:
    """The query as it may be stored: lower-case, at most 100 characters, with every number of 5 digits
    or more, e-mail address, link, licence plate and IBAN replaced by a marker ("[numéro]"…), and every
    word ``known`` does not attest (a proper name, most of the time) replaced by "…".

    ``known`` is usually ``engine_vocabulary()`` (see Vocabulary: the words of at least KNOWN_MIN_DOCS
    documents of the index or of the search rules, their families and typos, never NAMES). A word typed with
    a capital initial, other than the query's first word, must be attested as typed: no family, no typo
    (unless the whole query is in capitals: then the case tells nothing). Stop words and numbers of up to 4
    digits (17, 112, 3919) are kept; accents are kept.
    """
    text = clean_query(query)
    cased = text != text.upper()  # "PLAINTE CONTRE X": no initial stands out
    text = _LINK.sub(f" {_PLACEHOLDERS[LINK]} ", text)
    text = _EMAIL.sub(f" {_PLACEHOLDERS[EMAIL]} ", text)
    text = _IBAN.sub(_iban, text)
    text = _PLATE.sub(_plate, text)
    text = _DIGITS.sub(_numbers, text)

    first = True

    def word(match: re.Match) -> str:
        nonlocal first
        token, lowered = match.group(0), match.group(0).lower()
        capitalised = cased and not first and token[0].isupper()
        first = False
        if lowered.isdigit() or is_stop(lowered) or (
                len(lowered) <= MAX_WORD_CHARS and known(lowered, capitalised=capitalised)):
            return lowered
        return _PLACEHOLDERS[UNKNOWN]

    text = _WORD.sub(word, text).lower()
    text = _UNKNOWN_RUN.sub(_PLACEHOLDERS[UNKNOWN], text)
    for placeholder, marker in _MARKER_OF.items():
        text = text.replace(placeholder, marker)
    text = " ".join(text.split())
    if len(text) > MAX_STORED_CHARS:
        cut = text[:MAX_STORED_CHARS]
        # Not half a word or half a marker.
        text = cut if text[MAX_STORED_CHARS] == " " or " " not in cut else cut.rsplit(" ", 1)[0]
    return text.strip()


def rule_words(engine) -> frozenset[str]:
    """The words of the search rules the index serves (synonyms, best and worst bets), folded."""
    return frozenset(fold(word) for rule in engine.tuning().rules for term in rule.get("terms", ())
                     for word in _WORD.findall(str(term).lower()))


def engine_vocabulary() -> Vocabulary:
    """The current index's attested words (with their typos); an empty vocabulary if the index cannot be
    read, which scrubs every word: when in doubt, nothing is kept."""
    from search import services  # search.services imports this module

    try:
        engine = services.engine()
        return Vocabulary(engine.vocabulary_frequencies(), rule_words(engine))
    except Exception as exc:  # the index missing, unreadable, or another engine
        log.warning("search analytics: index vocabulary unavailable (%s)", type(exc).__name__)
    return Vocabulary({})


# -- recording ----------------------------------------------------------------------------------


class Client(NamedTuple):
    """What the visitor key is made from; neither is stored."""

    address: str
    user_agent: str


def today() -> date:
    """The day in Paris: searches are counted by the day citizens live in."""
    return datetime.now(PARIS).date()


# Today's salt once this process has seen it committed, by database: one insert attempt per process a day.
_salts: dict[tuple[str, date], str] = {}


def day_salt(session: Session, day: date) -> str:
    """The day's secret, created by the first search of the day, on several processes at once too.

    Insert first, then read: one insert wins (primary key), the others get an IntegrityError and read
    the winner's. Not read first: on SQLite a transaction that read cannot write once another has
    (it fails instead of waiting), so call this before anything else in the transaction.
    """
    bind = session.get_bind()
    key = (str(getattr(bind, "engine", bind).url), day)
    cached = _salts.get(key)
    if cached is not None:
        return cached
    try:
        with session.begin_nested():
            session.add(AnalyticsSalt(day=day, salt=secrets.token_hex(32)))
        ours = True
    except IntegrityError:  # it exists: created by another search, and committed
        ours = False
    salt = session.scalar(select(AnalyticsSalt.salt).where(AnalyticsSalt.day == day))
    if not ours and day == today():
        # Committed by someone, so every process has this one; ours might still be rolled back.
        _salts.clear()
        _salts[key] = salt
    return salt


def visitor_key(session: Session, day: date, client_address: str, user_agent: str) -> str:
    """HMAC-SHA256 of the client with the day's salt, truncated: the same visitor gives the same key
    all day; once the salt is deleted, no one can tell whose it was."""
    salt = day_salt(session, day)
    message = f"{client_address}\n{user_agent}".encode("utf-8", "replace")
    return hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()[:32]


def new_token() -> str:
    return secrets.token_hex(16)


def record_search(session: Session, query: str, results: int, client: Client, *,
                  known: Vocabulary | None = None, day: date | None = None) -> str:
    """Store one search (flushed, not committed); returns its token, which the result links carry so
    that a click is counted (``record_click``)."""
    day = day or today()
    token = new_token()
    session.add(SearchEvent(
        token=token, day=day, query=scrub(query, known or engine_vocabulary()),
        visitor=visitor_key(session, day, client.address, client.user_agent),
        results=max(0, int(results)), clicked_rank=None,
    ))
    session.flush()
    return token


def record_click(session: Session, token: str, rank: int, *, day: date | None = None) -> None:
    """Count the result at ``rank`` (1-based) as followed from the search ``token``, keeping the best
    (smallest) rank. One conditional UPDATE: two clicks at once keep the better one. An unknown token, a
    rank beyond the search's results or a search older than yesterday changes nothing."""
    if not TOKEN.fullmatch(token or "") or not 1 <= rank <= 10_000:
        return
    day = day or today()
    session.execute(
        update(SearchEvent)
        .where(SearchEvent.token == token, SearchEvent.day > day - timedelta(days=CLICK_DAYS),
               SearchEvent.results >= rank,
               or_(SearchEvent.clicked_rank.is_(None), SearchEvent.clicked_rank > rank))
        .values(clicked_rank=rank)
    )


# -- roll-up and purge (periodic tasks) ---------------------------------------------------------


def rollup(session: Session, day: date) -> int:
    """Recompute ``day``'s counts per query from its raw events (idempotent; flushed, not committed).

    A day whose raw events were purged keeps its counts. Returns the number of queries."""
    has_events = session.scalar(select(SearchEvent.id).where(SearchEvent.day == day).limit(1))
    if has_events is None:
        return 0
    rows = session.execute(
        select(
            SearchEvent.query,
            func.count().label("searches"),
            func.count(distinct(SearchEvent.visitor)).label("visitors"),
            func.sum(case((SearchEvent.results == 0, 1), else_=0)).label("zero_results"),
            func.count(SearchEvent.clicked_rank).label("clicked"),
            func.coalesce(func.sum(SearchEvent.clicked_rank), 0).label("best_rank_total"),
        ).where(SearchEvent.day == day).group_by(SearchEvent.query)
    ).all()
    session.execute(delete(SearchQueryDay).where(SearchQueryDay.day == day))
    session.execute(insert(SearchQueryDay), [{"day": day, **row._asdict()} for row in rows])
    session.flush()
    return len(rows)


def rollup_recent(session: Session, now: date | None = None) -> list[date]:
    """Periodic task: roll up the last days (clicks may still come for them) and any older day with
    raw events but no counts yet (the worker was stopped); commits each day."""
    now = now or today()
    days = {now - timedelta(days=n) for n in range(ROLLUP_DAYS)}
    rolled = select(SearchQueryDay.day).distinct()
    days |= set(session.scalars(select(SearchEvent.day).distinct().where(SearchEvent.day.not_in(rolled))))
    done = []
    for day in sorted(days):
        try:
            if rollup(session, day):
                done.append(day)
            session.commit()
        except IntegrityError:  # another host rolled the same day up at the same moment: theirs stands
            session.rollback()
    return done


class Purged(NamedTuple):
    """What one purge deleted."""

    events: int
    salts: int
    daily_counts: int


def purge(session: Session, now: date | None = None) -> Purged:
    """Delete raw events older than ``ANALYTICS_RETENTION_DAYS`` (rolled up first, so their counts stay),
    daily counts older than ``ANALYTICS_SUMMARY_RETENTION_DAYS`` (every query, shown or not), and the
    salts of the days before yesterday. Flushed, not committed.

    Yesterday's salt is kept through today (SALT_GRACE_DAYS): a host whose clock is a little behind still
    counts yesterday's searches with it, instead of creating a second salt for that day, which would count
    each of its visitors twice."""
    now = now or today()
    cutoff = now - timedelta(days=_setting("ANALYTICS_RETENTION_DAYS", 30))
    for day in session.scalars(select(SearchEvent.day).distinct().where(SearchEvent.day < cutoff)).all():
        rollup(session, day)
    events = session.execute(delete(SearchEvent).where(SearchEvent.day < cutoff)).rowcount
    summary_cutoff = now - timedelta(days=_setting("ANALYTICS_SUMMARY_RETENTION_DAYS", 90))
    daily = session.execute(delete(SearchQueryDay).where(SearchQueryDay.day < summary_cutoff)).rowcount
    salts = session.execute(
        delete(AnalyticsSalt).where(AnalyticsSalt.day < now - timedelta(days=SALT_GRACE_DAYS))).rowcount
    session.flush()
    return Purged(events, salts, daily)


def purge_task(session: Session) -> Purged:
    """Periodic task: ``purge`` and commit (idempotent: several hosts may run it)."""
    try:
        deleted = purge(session)
        session.commit()
    except IntegrityError:  # a concurrent roll-up of the same day: the next run finishes the purge
        session.rollback()
        return Purged(0, 0, 0)
    return deleted


def init_app(app: Flask) -> None:
    """Register the analytics' periodic tasks (roll-up, purge)."""
    from portal.tasks import register_periodic

    register_periodic(app, "search.analytics.rollup", rollup_recent, every_seconds=ROLLUP_EVERY_MINUTES * 60)
    register_periodic(app, "search.analytics.purge", purge_task, every_seconds=60 * 60)


# -- the editors' reports -----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One query over a period: its searches, its distinct visitors on its busiest day, and outcomes.

    ``visitors`` is the largest number of distinct visitors of one day: the day's salt makes the same
    person a different key each day, so a sum would count one person typing it on 5 days as 5."""

    query: str
    searches: int
    visitors: int
    zero_results: int
    clicked: int
    best_rank_total: int

    @property
    def no_click(self) -> int:
        """Searches that found something and where nothing was followed."""
        return max(0, self.searches - self.zero_results - self.clicked)

    @property
    def mean_rank(self) -> float | None:
        return self.best_rank_total / self.clicked if self.clicked else None

    @property
    def has_words(self) -> bool:
        """Whether there is something left to make a rule of (not only markers and "…")."""
        text = self.query
        for marker in (*MARKERS, UNKNOWN):
            text = text.replace(marker, " ")
        return bool(_WORD.search(text))


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default)) if has_app_context() else default


def _period_totals(period: int, now: date | None, min_visitors: int | None):
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    now = now or today()
    k = min_visitors if min_visitors is not None else _setting("ANALYTICS_MIN_VISITORS", 5)
    q = SearchQueryDay
    totals = {
        "searches": func.sum(q.searches),
        # k-anonymity holds within one day only (see Row): the busiest day's distinct visitors.
        "visitors": func.max(q.visitors),
        "zero_results": func.sum(q.zero_results),
        "clicked": func.sum(q.clicked),
        "best_rank_total": func.sum(q.best_rank_total),
    }
    statement = (
        select(q.query, *(value.label(name) for name, value in totals.items()))
        .where(q.day > now - timedelta(days=period), q.day <= now)
        .group_by(q.query)
        .having(totals["visitors"] >= max(k, 1))
    )
    return statement, totals


def _rows(session: Session, statement) -> list[Row]:
    return [Row(query=r.query, searches=int(r.searches), visitors=int(r.visitors),
                zero_results=int(r.zero_results), clicked=int(r.clicked), best_rank_total=int(r.best_rank_total))
            for r in session.execute(statement.limit(REPORT_LIMIT))]


def top_queries(session: Session, period: int = 7, *, now: date | None = None,
                min_visitors: int | None = None) -> list[Row]:
    """The most searched queries of the last ``period`` days (today included), k-anonymity applied."""
    statement, t = _period_totals(period, now, min_visitors)
    return _rows(session, statement.order_by(t["searches"].desc(), SearchQueryDay.query))


def zero_result_queries(session: Session, period: int = 7, *, now: date | None = None,
                        min_visitors: int | None = None) -> list[Row]:
    """Queries that found nothing, most frequent first."""
    statement, t = _period_totals(period, now, min_visitors)
    statement = statement.having(t["zero_results"] > 0)
    return _rows(session, statement.order_by(t["zero_results"].desc(), SearchQueryDay.query))


def no_click_queries(session: Session, period: int = 7, *, now: date | None = None,
                     min_visitors: int | None = None) -> list[Row]:
    """Queries that found something where no result was followed, most such searches first."""
    statement, t = _period_totals(period, now, min_visitors)
    unclicked = t["searches"] - t["zero_results"] - t["clicked"]
    statement = statement.having(unclicked > 0)
    return _rows(session, statement.order_by(unclicked.desc(), SearchQueryDay.query))


def far_click_queries(session: Session, period: int = 7, *, now: date | None = None,
                      min_visitors: int | None = None) -> list[Row]:
    """Queries whose best followed result is, on average, below rank ``FAR_RANK``: the answer is too far."""
    statement, t = _period_totals(period, now, min_visitors)
    statement = statement.having(t["clicked"] > 0, t["best_rank_total"] > FAR_RANK * t["clicked"])
    return _rows(session, statement.order_by(t["clicked"].desc(), SearchQueryDay.query))


@dataclass(frozen=True)
class Summary:
    """Totals of a period over every query, shown or not: they name none."""

    searches: int
    zero_results: int
    clicked: int


def period_summary(session: Session, period: int = 7, *, now: date | None = None) -> Summary:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    now = now or today()
    q = SearchQueryDay
    row = session.execute(
        select(func.coalesce(func.sum(q.searches), 0), func.coalesce(func.sum(q.zero_results), 0),
               func.coalesce(func.sum(q.clicked), 0))
        .where(q.day > now - timedelta(days=period), q.day <= now)
    ).one()
    return Summary(int(row[0]), int(row[1]), int(row[2]))


REPORTS: dict[str, tuple[str, Callable[..., list[Row]]]] = {
    "frequentes": ("Recherches fréquentes", top_queries),
    "sans-resultat": ("Sans résultat", zero_result_queries),
    "sans-clic": ("Sans clic", no_click_queries),
    "clic-lointain": ("Clic lointain", far_click_queries),
}

CSV_HEADER = ("Recherche", "Recherches", "Visiteurs distincts (meilleur jour)", "Sans résultat",
              "Avec clic", "Sans clic", "Rang moyen du meilleur clic")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_export(rows: Iterable[Row]) -> str:
    """The rows as CSV for a French spreadsheet (";" between cells, decimal comma), no cell a formula."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(CSV_HEADER)
    for row in rows:
        mean = "" if row.mean_rank is None else f"{row.mean_rank:.1f}".replace(".", ",")
        writer.writerow([csv_cell(v) for v in (row.query, row.searches, row.visitors, row.zero_results,
                                              row.clicked, row.no_click, mean)])
    return out.getvalue()
