"""The share of a week an autoscaled variant spends at each minimum and maximum capacity.

Application Auto Scaling runs a scheduled action at each time its ``cron(...)`` expression
matches and sets the target's ``MinCapacity`` and/or ``MaxCapacity`` until the next action
changes them ("Scheduled scaling for Application Auto Scaling", Application Auto Scaling User
Guide). Over a week, each interval between two firings therefore has the capacity bounds the
earlier action left.

Simplifications (stated in docs/cost.md):

- Only weekly-periodic schedules are expanded: day-of-month ``*``/``?``, month ``*``, year
  ``*``, and minute, hour and day-of-week as values, ranges, lists and steps. Anything else
  (``L``, ``W``, ``#``, a specific day of the month or month, ``at(...)``, ``rate(...)``) is
  reported and left out: the target's own bounds then apply.
- The steady state is used: the bounds in force at the start of the week are those the week's
  last firing leaves. The template's ``MinCapacity``/``MaxCapacity`` apply only to fields no
  action sets (CloudFormation sets them on each deploy until the next action fires).
- Time zones are resolved in a reference week in January (standard time); daylight saving
  moves windows by an hour without changing their share when all actions use one zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEK_MINUTES = 7 * 24 * 60
# Monday 2024-01-01 00:00 UTC: the reference week (winter time in the northern hemisphere).
REFERENCE_MONDAY = datetime(2024, 1, 1, tzinfo=UTC)
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # cron day-of-week 1-7
_CRON = re.compile(r"^cron\((.*)\)$")


class UnsupportedSchedule(ValueError):  # noqa: N818 - read as "the schedule is unsupported"
    """A schedule that is not weekly-periodic (or not parseable): left out with a note."""


@dataclass(frozen=True)
class ScheduledCapacity:
    """One scheduled action: the bounds it sets (None: left as they are)."""

    name: str
    schedule: str
    time_zone: str | None = None
    min_capacity: int | None = None
    max_capacity: int | None = None


@dataclass(frozen=True)
class Window:
    """A share of the week (0-1] spent with these bounds."""

    share: float
    min_capacity: int
    max_capacity: int


@dataclass(frozen=True)
class Windows:
    windows: tuple[Window, ...]
    notes: tuple[str, ...] = ()

    def weighted(self, count: float | None = None) -> tuple[float, float, float]:
        """Average (minimum, ``count`` clamped to the bounds, maximum) over the week."""
        low = sum(w.share * w.min_capacity for w in self.windows)
        high = sum(w.share * w.max_capacity for w in self.windows)
        if count is None:
            return low, low, high
        middle = sum(
            w.share * min(max(count, w.min_capacity), w.max_capacity) for w in self.windows
        )
        return low, middle, high


def capacity_windows(
    min_capacity: int, max_capacity: int, actions: Sequence[ScheduledCapacity]
) -> Windows:
    """The week's capacity windows of a scalable target with ``actions``."""
    notes: list[str] = []
    events: list[tuple[int, int, ScheduledCapacity]] = []
    for order, action in enumerate(actions):
        try:
            minutes = weekly_firings(action.schedule, action.time_zone)
        except UnsupportedSchedule as exc:
            notes.append(f"scheduled action {action.name!r} left out: {exc}")
            continue
        events.extend((minute, order, action) for minute in minutes)
    if not events:
        return Windows((Window(1.0, min_capacity, max_capacity),), tuple(notes))
    events.sort(key=lambda event: (event[0], event[1]))
    bounds = (min_capacity, max_capacity)
    for _, _, action in events:  # one pass: the bounds the week's last firings leave
        bounds = _apply(bounds, action)
    shares: dict[tuple[int, int], int] = {}
    start = 0
    for minute, _, action in events:
        shares[bounds] = shares.get(bounds, 0) + (minute - start)
        bounds, start = _apply(bounds, action), minute
    shares[bounds] = shares.get(bounds, 0) + (WEEK_MINUTES - start)
    windows = tuple(
        Window(minutes / WEEK_MINUTES, low, high)
        for (low, high), minutes in sorted(shares.items())
        if minutes > 0
    )
    return Windows(windows, tuple(notes))


def _apply(bounds: tuple[int, int], action: ScheduledCapacity) -> tuple[int, int]:
    low = bounds[0] if action.min_capacity is None else action.min_capacity
    high = bounds[1] if action.max_capacity is None else action.max_capacity
    return low, high


def weekly_firings(schedule: str, time_zone: str | None = None) -> list[int]:
    """Minutes after Monday 00:00 UTC of the reference week at which ``schedule`` fires."""
    match = _CRON.match(schedule.strip())
    if match is None:
        raise UnsupportedSchedule(f"{schedule!r} is not a cron(...) expression")
    fields = match.group(1).split()
    if len(fields) != 6:
        raise UnsupportedSchedule(f"{schedule!r} does not have 6 fields")
    minutes_f, hours_f, day_of_month, month, day_of_week, year = fields
    if month != "*" or year != "*" or day_of_month not in ("*", "?"):
        raise UnsupportedSchedule(
            f"{schedule!r} is not weekly (day of month, month and year must be * or ?)"
        )
    minutes = _expand(minutes_f, 0, 59)
    hours = _expand(hours_f, 0, 23)
    days = range(1, 8) if day_of_week in ("*", "?") else _expand(day_of_week, 1, 7, _DAYS)
    try:
        zone = ZoneInfo(time_zone) if time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnsupportedSchedule(f"unknown time zone {time_zone!r}") from exc
    firings = []
    for day in days:
        # cron 1 = SUN ... 7 = SAT; the reference week starts on a Monday.
        offset = (day - 2) % 7
        local_day = (REFERENCE_MONDAY + timedelta(days=offset)).date()
        for hour in hours:
            for minute in minutes:
                local = datetime(
                    local_day.year, local_day.month, local_day.day, hour, minute, tzinfo=zone
                )
                elapsed = local.astimezone(UTC) - REFERENCE_MONDAY
                firings.append(int(elapsed.total_seconds() // 60) % WEEK_MINUTES)
    return sorted(set(firings))


def _expand(field: str, low: int, high: int, names: Iterable[str] = ()) -> list[int]:
    names = tuple(names)
    values: set[int] = set()
    for item in field.split(","):
        base, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise UnsupportedSchedule(f"{item!r}: the step must be a positive number")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        else:
            first_text, _, last_text = base.partition("-")
            first = _value(first_text, low, high, names)
            last = (
                _value(last_text, low, high, names) if last_text else (high if step_text else first)
            )
        if last < first:
            raise UnsupportedSchedule(f"{item!r}: the range runs backwards")
        values.update(range(first, last + 1, step))
    return sorted(values)


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> int:
    upper = text.upper()
    if upper in names:
        return low + names.index(upper)
    if not text.isdigit() or not low <= int(text) <= high:
        raise UnsupportedSchedule(f"{text!r} is not a value from {low} to {high}")
    return int(text)
