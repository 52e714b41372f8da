"""Opening hours of a police station or brigade: parsed from the official formats, evaluated in local time.

Two official formats are read: the gendarmerie's open-data export
(``horaires_accueil``: " Lundi : 8h00-12h00 14h00-18h00 Mardi : …") and the
DILA directory API (``plage_ouverture``: day ranges with up to two time
ranges and a comment). Both become one weekly schedule with exceptions
(specific dates with other hours, or closed). Nothing is ever guessed: a
station without data has no schedule, and the pages say "horaires non
communiqués".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
DAY_LABELS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
MINUTES_PER_DAY = 24 * 60
# Overseas departments and collectivities keep their own clocks.
TIMEZONES = {
    "971": "America/Guadeloupe", "972": "America/Martinique", "973": "America/Cayenne",
    "974": "Indian/Reunion", "975": "America/Miquelon", "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy", "978": "America/Marigot", "986": "Pacific/Wallis",
    "987": "Pacific/Tahiti", "988": "Pacific/Noumea",
}

Interval = tuple[int, int]  # minutes since midnight, end excluded, end <= 1440

_RANGE = re.compile(r"(\d{1,2})\s*[h:]\s*(\d{2})?(?::\d{2})?\s*(?:-|–|à)\s*(\d{1,2})\s*[h:]\s*(\d{2})?")
_DAY = re.compile(r"\b(" + "|".join(DAYS) + r")\b(?:\s*(?:au|à|-|–)\s*(" + "|".join(DAYS) + r"))?\s*:?",
                  re.IGNORECASE)


def timezone_for(department: str | None) -> ZoneInfo:
    return ZoneInfo(TIMEZONES.get(department or "", "Europe/Paris"))


def _minutes(hours: str, minutes: str | None) -> int:
    return int(hours) * 60 + int(minutes or 0)


def _day_span(first: str, last: str | None) -> list[int]:
    start = DAYS.index(first.lower())
    end = DAYS.index(last.lower()) if last else start
    return [(start + i) % 7 for i in range((end - start) % 7 + 1)]


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass
class Schedule:
    """A week of opening hours, with dated exceptions; empty days are closed days."""

    week: dict[int, list[Interval]] = field(default_factory=lambda: {d: [] for d in range(7)})
    exceptions: dict[date, list[Interval]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, weekday: int, start: int, end: int) -> None:
        """Add opening hours; a range past midnight ("20h-2h") continues on the next day."""
        if start == end:
            return
        if end < start:
            self.week[weekday].append((start, MINUTES_PER_DAY))
            if end:
                self.week[(weekday + 1) % 7].append((0, end))
        else:
            self.week[weekday].append((start, min(end, MINUTES_PER_DAY)))
        self.week = {d: _merge(v) for d, v in self.week.items()}

    @property
    def is_empty(self) -> bool:
        return not any(self.week.values()) and not any(self.exceptions.values())

    # -- evaluation --------------------------------------------------------

    def intervals_on(self, day: date) -> list[Interval]:
        if day in self.exceptions:
            return self.exceptions[day]
        return self.week[day.weekday()]

    def is_open(self, at: datetime) -> bool:
        minute = at.hour * 60 + at.minute
        return any(start <= minute < end for start, end in self.intervals_on(at.date()))

    def next_change(self, at: datetime) -> datetime | None:
        """When this schedule next opens or closes after ``at`` (same time zone), within 8 days."""
        was_open = self.is_open(at)
        midnight = datetime.combine(at.date(), time(0), tzinfo=at.tzinfo)
        for offset in range(9):
            day = at.date() + timedelta(days=offset)
            for boundary in sorted({b for interval in self.intervals_on(day) for b in interval}):
                moment = midnight + timedelta(days=offset, minutes=boundary)
                if moment > at and self.is_open(moment) != was_open:
                    return moment
        return None

    def open_on_weekday(self, weekday: int) -> bool:
        return bool(self.week[weekday])

    @property
    def always_open(self) -> bool:
        return all(v == [(0, MINUTES_PER_DAY)] for v in self.week.values()) and not self.exceptions

    def status(self, at: datetime) -> str:
        """"Ouvert, ferme à 18 h" / "Fermé, ouvre lundi à 8 h" / "Ouvert 24 h/24"."""
        if self.always_open:
            return "Ouvert 24 h/24, 7 j/7"
        is_open = self.is_open(at)
        change = self.next_change(at)
        if change is None:
            return "Ouvert" if is_open else "Fermé"
        when = _moment_text(at, change)
        return f"Ouvert, ferme {when}" if is_open else f"Fermé, ouvre {when}"

    def hours_on(self, day: date) -> str:
        """"8 h – 12 h, 14 h – 18 h" on that day, its exceptions included; "" when closed."""
        return ", ".join(f"{_clock(s)} – {_clock(e)}" for s, e in self.intervals_on(day))

    def lines(self) -> list[tuple[str, str]]:
        return [(DAY_LABELS[d], ", ".join(f"{_clock(s)} – {_clock(e)}" for s, e in self.week[d]) or "Fermé")
                for d in range(7)]

    # -- storage -------------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "week": {str(d): [list(i) for i in v] for d, v in self.week.items()},
            "exceptions": {d.isoformat(): [list(i) for i in v] for d, v in self.exceptions.items()},
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict | None) -> Schedule | None:
        if not data:
            return None
        return cls(
            week={int(d): [tuple(i) for i in v] for d, v in data.get("week", {}).items()},
            exceptions={date.fromisoformat(d): [tuple(i) for i in v]
                        for d, v in data.get("exceptions", {}).items()},
            notes=list(data.get("notes", [])),
        )


def _clock(minutes: int) -> str:
    """"8 h", "8 h 30", "24 h"."""
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if not rest else f"{hours} h {rest:02d}"


def _moment_text(now: datetime, moment: datetime) -> str:
    clock = _clock(moment.hour * 60 + moment.minute) if (moment.hour or moment.minute) else "minuit"
    if moment.date() == now.date():
        return f"à {clock}" if clock != "minuit" else "à minuit"
    if moment.date() == now.date() + timedelta(days=1):
        return f"demain à {clock}" if clock != "minuit" else "à minuit"
    return f"{DAY_LABELS[moment.weekday()].lower()} à {clock}"


def parse_gendarmerie_hours(text: str | None) -> Schedule | None:
    """The ``horaires_accueil`` field of the gendarmerie open-data export, or None if empty."""
    if not text or not text.strip():
        return None
    schedule = Schedule()
    if re.search(r"24\s*h\s*/\s*24", text, re.IGNORECASE):
        for d in range(7):
            schedule.add(d, 0, MINUTES_PER_DAY)
        return schedule
    matches = list(_DAY.finditer(text))
    for i, match in enumerate(matches):
        segment = text[match.end(): matches[i + 1].start() if i + 1 < len(matches) else len(text)]
        for weekday in _day_span(match.group(1), match.group(2)):
            for h1, m1, h2, m2 in _RANGE.findall(segment):
                schedule.add(weekday, _minutes(h1, m1), _minutes(h2, m2))
    return None if schedule.is_empty else schedule


def parse_dila_opening(ranges: list[dict] | None) -> Schedule | None:
    """The ``plage_ouverture`` list of the DILA directory API, or None if empty."""
    if not ranges:
        return None
    schedule = Schedule()
    for entry in ranges:
        first, last = entry.get("nom_jour_debut", ""), entry.get("nom_jour_fin", "")
        if first.lower() not in DAYS:
            continue
        for n in (1, 2, 3):
            start, end = entry.get(f"valeur_heure_debut_{n}"), entry.get(f"valeur_heure_fin_{n}")
            if not start or not end:
                continue
            h1, m1 = start.split(":")[:2]
            h2, m2 = end.split(":")[:2]
            end_minutes = _minutes(h2, m2)
            for weekday in _day_span(first, last if last.lower() in DAYS else None):
                schedule.add(weekday, _minutes(h1, m1), end_minutes or MINUTES_PER_DAY)
        comment = (entry.get("commentaire") or "").strip()
        if comment:
            schedule.notes.append(comment)
    return None if schedule.is_empty else schedule
