"""Scheduled scaling actions as shares of the week."""

from __future__ import annotations

import pytest

from mlops_tools.cost.schedule import (
    WEEK_MINUTES,
    ScheduledCapacity,
    UnsupportedSchedule,
    capacity_windows,
    weekly_firings,
)

DAY = 24 * 60


def test_weekday_cron_fires_monday_to_friday_in_utc() -> None:
    # cron day-of-week: 1 = SUN ... 7 = SAT; the reference week starts on Monday 00:00 UTC.
    assert weekly_firings("cron(0 19 ? * MON-FRI *)") == [d * DAY + 19 * 60 for d in range(5)]
    assert weekly_firings("cron(30 6 ? * 1 *)") == [6 * DAY + 6 * 60 + 30]  # Sunday


def test_every_day_steps_and_lists() -> None:
    assert weekly_firings("cron(0 0 * * ? *)") == [d * DAY for d in range(7)]
    assert weekly_firings("cron(0/30 8,20 ? * MON *)") == [480, 510, 1200, 1230]


def test_time_zone_is_applied_in_the_reference_week() -> None:
    # 07:00 in New York in January (UTC-5) is 12:00 UTC.
    assert weekly_firings("cron(0 7 ? * MON *)", "America/New_York") == [12 * 60]
    # Sunday 22:00 in Tokyo (UTC+9) is Sunday 13:00 UTC.
    assert weekly_firings("cron(0 22 ? * SUN *)", "Asia/Tokyo") == [6 * DAY + 13 * 60]


@pytest.mark.parametrize(
    "schedule",
    [
        "cron(0 7 1 * ? *)",  # a day of the month
        "cron(0 7 ? 1 MON *)",  # a month
        "cron(0 7 ? * MON 2027)",  # a year
        "cron(0 7 ? * 2#1 *)",  # first Monday
        "rate(1 day)",
        "at(2027-01-01T00:00:00)",
        "cron(0 7 ? * MON)",
        "cron(0 25 ? * MON *)",
    ],
)
def test_schedules_that_are_not_weekly_are_refused(schedule: str) -> None:
    with pytest.raises(UnsupportedSchedule):
        weekly_firings(schedule)


def test_night_scale_down_halves_the_week() -> None:
    windows = capacity_windows(
        2,
        4,
        [
            ScheduledCapacity("Night", "cron(0 20 * * ? *)", None, 1, 2),
            ScheduledCapacity("Day", "cron(0 8 * * ? *)", None, 2, 4),
        ],
    )
    assert {(w.min_capacity, w.max_capacity): w.share for w in windows.windows} == {
        (1, 2): 0.5,
        (2, 4): 0.5,
    }
    assert windows.weighted(2) == (1.5, 2.0, 3.0)
    assert windows.weighted(3) == (1.5, 2.5, 3.0)  # 3 is above the night maximum of 2


def test_weekend_shutdown_of_the_maximum_only_keeps_the_targets_minimum() -> None:
    # Friday 18:00 -> Monday 06:00 at most 1; the minimum is never set by an action.
    windows = capacity_windows(
        1,
        3,
        [
            ScheduledCapacity("Weekend", "cron(0 18 ? * FRI *)", max_capacity=1),
            ScheduledCapacity("Week", "cron(0 6 ? * MON *)", max_capacity=3),
        ],
    )
    weekend = (2 * DAY + 12 * 60) / WEEK_MINUTES
    assert {(w.min_capacity, w.max_capacity): w.share for w in windows.windows} == {
        (1, 1): pytest.approx(weekend),
        (1, 3): pytest.approx(1 - weekend),
    }


def test_unsupported_actions_are_left_out_with_a_note() -> None:
    windows = capacity_windows(2, 4, [ScheduledCapacity("Monthly", "cron(0 0 1 * ? *)", None, 1)])
    assert [(w.share, w.min_capacity, w.max_capacity) for w in windows.windows] == [(1.0, 2, 4)]
    assert windows.notes == (
        "scheduled action 'Monthly' left out: 'cron(0 0 1 * ? *)' is not weekly (day of "
        "month, month and year must be * or ?)",
    )
