"""Application Auto Scaling and EventBridge Scheduler schedule expressions and time zones,
checked as AWS checks them.

Application Auto Scaling's cron format has six fields, ``[Minutes] [Hours] [Day_of_Month]
[Month] [Day_of_Week] [Year]``, and time zones are canonical IANA names ("Schedule recurring
scaling actions using Application Auto Scaling", Application Auto Scaling User Guide). Field
ranges and wildcards follow the cron expressions reference it points to (EventBridge "Cron
expressions reference"): minutes 0-59, hours 0-23, day of month 1-31, month 1-12 or JAN-DEC,
day of week 1-7 or SUN-SAT, year 1970-2199; ``, - * ? /`` everywhere, ``L W`` in day of month,
``L #`` in day of week; one of day-of-month and day-of-week must be ``?``. A schedule AWS would
reject fails the synth here instead of the deploy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # JAN..DEC / SUN..SAT, numbered from `low`


_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _DAYS),
    _Field("year", 1970, 2199),
)


def _value(token: str, field: _Field) -> int:
    """One value of a field: a number in range or a name (JAN, MON)."""
    upper = token.upper()
    if upper in field.names:
        return field.low + field.names.index(upper)
    if not token.isdigit():
        raise ValueError(f"{field.name}: {token!r} is not a value")
    number = int(token)
    if not field.low <= number <= field.high:
        raise ValueError(f"{field.name}: {number} is outside {field.low}-{field.high}")
    return number


def _special(item: str, field: _Field) -> bool:
    """Checks the L, W and # forms of the day fields; False when ``item`` is none of them."""
    upper = item.upper()
    if field.name == "day-of-month":
        if upper in ("L", "LW"):
            return True
        if re.fullmatch(r"\d{1,2}W", upper):
            _value(item[:-1], field)
            return True
    elif field.name == "day-of-week":
        if "#" in item:
            day, _, nth = item.partition("#")
            _value(day, field)
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                raise ValueError(f"{field.name}: {item!r}: the week after '#' must be 1-5")
            return True
        if upper == "L" or (len(item) > 1 and upper.endswith("L")):
            if upper != "L":
                _value(item[:-1], field)
            return True
    return False


def _check_item(item: str, field: _Field) -> None:
    """One comma-separated item: *, a value, a range, a step, or the L/W/# forms."""
    if item == "*" or _special(item, field):
        return
    if "/" in item:
        start, _, step = item.partition("/")
        if not step.isdigit() or int(step) == 0:
            raise ValueError(f"{field.name}: {item!r} needs a positive step after '/'")
        if start != "*":
            _check_item(start, field)
        return
    low, _, high = item.partition("-")
    _value(low, field)
    if high:
        _value(high, field)


def cron_problem(expression: str) -> str | None:
    """Why Application Auto Scaling would reject ``cron(...)``, or None when it is valid."""
    match = re.fullmatch(r"cron\((.*)\)", expression.strip())
    if match is None:
        return "expected cron(minutes hours day-of-month month day-of-week year)"
    parts = match.group(1).split()
    if len(parts) != len(_FIELDS):
        return (
            f"{len(parts)} fields; Application Auto Scaling cron has 6: "
            "minutes hours day-of-month month day-of-week year"
        )
    try:
        for part, field in zip(parts, _FIELDS, strict=True):
            if part == "?":
                if field.name not in ("day-of-month", "day-of-week"):
                    raise ValueError(f"{field.name}: '?' is only allowed in the day fields")
                continue
            for item in part.split(","):
                _check_item(item, field)
    except ValueError as exc:
        return str(exc)
    if (parts[2] == "?") == (parts[4] == "?"):
        return (
            "set exactly one of day-of-month and day-of-week to '?' (e.g. cron(0 7 ? * MON-FRI *))"
        )
    return None


@cache
def time_zones() -> frozenset[str]:
    """IANA time zone names (the ``tzdata`` package pins the database version)."""
    return frozenset(available_timezones())


def time_zone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone name, with the closest names as a hint."""
    if name in time_zones():
        return None
    import difflib  # noqa: PLC0415 - only on the error path

    close = difflib.get_close_matches(name, sorted(time_zones()), n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"{name!r} is not an IANA time zone name{hint}"


# EventBridge Scheduler rate expressions: ``rate(value unit)``, unit minute(s), hour(s) or
# day(s), singular for 1 and plural otherwise ("Schedule types on EventBridge Scheduler",
# EventBridge Scheduler User Guide,
# https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html). Cron expressions
# have the same six fields as Application Auto Scaling's (checked by :func:`cron_problem`).
SCHEDULER_RATE = re.compile(r"^rate\((?P<value>[1-9]\d{0,5}) (?P<unit>minutes?|hours?|days?)\)$")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}


def scheduler_expression_problem(expression: str) -> str | None:
    """Why EventBridge Scheduler would reject a recurring ``cron(...)`` or ``rate(...)``
    schedule expression, or None when it is valid."""
    if expression.startswith("rate("):
        match = SCHEDULER_RATE.match(expression)
        if match is None:
            return "expected rate(<value> minute(s)|hour(s)|day(s)), e.g. rate(1 day)"
        if (match["value"] == "1") == match["unit"].endswith("s"):
            return "the unit is singular for 1 and plural otherwise (rate(1 day), rate(2 days))"
        return None
    return cron_problem(expression)


def rate_expression_minutes(expression: str) -> int | None:
    """Minutes between runs of a valid ``rate(...)`` expression; None for anything else."""
    match = SCHEDULER_RATE.match(expression)
    if match is None:
        return None
    return int(match["value"]) * _UNIT_MINUTES[match["unit"].rstrip("s")]
