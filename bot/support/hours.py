"""Opening hours of the support team, from configuration ("mon-fri 08:30-18:00; sat 08:30-13:00")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ITALIAN_DAYS = ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"]


@dataclass(frozen=True)
class OpeningHours:
    periods: dict[int, list[tuple[time, time]]]

    @classmethod
    def parse(cls, spec: str) -> OpeningHours:
        periods: dict[int, list[tuple[time, time]]] = {d: [] for d in range(7)}
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            match = re.fullmatch(r"([a-z]{3})(?:-([a-z]{3}))?\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})", part.lower())
            if not match:
                raise ValueError(f"SUPPORT_HOURS: cannot read {part!r} (e.g. 'mon-fri 08:30-18:00; sat 08:30-13:00')")
            first, last = DAYS.index(match.group(1)), DAYS.index(match.group(2) or match.group(1))
            opens, closes = (time.fromisoformat(v.zfill(5)) for v in match.group(3, 4))
            for day in range(first, last + 1):
                periods[day].append((opens, closes))
        return cls(periods)

    def is_open(self, moment: datetime) -> bool:
        return any(opens <= moment.time() < closes for opens, closes in self.periods[moment.weekday()])

    def next_opening(self, moment: datetime) -> datetime | None:
        for offset in range(0, 8):
            day = (moment + timedelta(days=offset)).date()
            for opens, _ in sorted(self.periods[day.weekday()]):
                start = datetime.combine(day, opens, tzinfo=moment.tzinfo)
                if start > moment:
                    return start
        return None

    def minutes_until_close(self, moment: datetime) -> int:
        for opens, closes in self.periods[moment.weekday()]:
            if opens <= moment.time() < closes:
                end = datetime.combine(moment.date(), closes, tzinfo=moment.tzinfo)
                return int((end - moment).total_seconds() // 60)
        return 0


def italian_moment(moment: datetime, now: datetime) -> str:
    """'oggi alle 14:30', 'domani alle 8:30', 'lunedì alle 8:30'."""
    hour = f"{moment.hour}:{moment.minute:02d}"
    days = (moment.date() - now.date()).days
    if days == 0:
        return f"oggi alle {hour}"
    if days == 1:
        return f"domani alle {hour}"
    return f"{ITALIAN_DAYS[moment.weekday()]} alle {hour}"
