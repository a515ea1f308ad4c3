"""Dates and numbers in the reader's language and time zone, through Babel objects prepared once.

flask_babel's format_* functions look up the configuration at every call and convert the time zone
through pytz, and Babel parses a number pattern at every call; a proposal page with 300 comments
formats some 600 dates. Here each (locale, time zone, pattern) becomes a formatter once (the parsed
pattern and the zone as a zoneinfo object) and is kept. The strings are the same as flask_babel's:
naive datetimes are UTC, shown in the configured time zone (Europe/Rome).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from flask_babel import get_locale, get_timezone


def format_datetime(value: datetime | date, pattern: str) -> str:
    """A moment in the reader's time zone, e.g. pattern "d MMMM yyyy, HH:mm" -> "4 marzo 2025, 13:30"."""
    return _datetime_formatter(get_locale(), get_timezone(), pattern)(value)


def format_date(value: datetime | date, pattern: str) -> str:
    """A date; a datetime is first moved to the reader's time zone."""
    return _date_formatter(get_locale(), get_timezone(), pattern)(value)


def format_decimal(value: int | float | Decimal, pattern: str) -> str:
    """A number with the locale's separators, e.g. pattern "#,##0.##" -> "1.234,5" in Italian."""
    return _number_pattern(pattern).apply(value, get_locale())


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(zone)


@lru_cache(maxsize=128)
def _datetime_formatter(locale: Locale, zone: tzinfo, pattern: str) -> Callable[[datetime | date], str]:
    compiled, local_zone = dates.parse_pattern(pattern), ZoneInfo(str(zone))

    def formatter(value: datetime | date) -> str:
        if not isinstance(value, datetime):  # a date: its midnight, as Babel takes it
            value = datetime.combine(value, time())
        return compiled.apply(_local(value, local_zone), locale)

    return formatter


@lru_cache(maxsize=128)
def _date_formatter(locale: Locale, zone: tzinfo, pattern: str) -> Callable[[datetime | date], str]:
    compiled, local_zone = dates.parse_pattern(pattern), ZoneInfo(str(zone))

    def formatter(value: datetime | date) -> str:
        if isinstance(value, datetime):
            value = _local(value, local_zone).date()
        return compiled.apply(value, locale)

    return formatter


@lru_cache(maxsize=32)
def _number_pattern(pattern: str) -> numbers.NumberPattern:
    return numbers.parse_pattern(pattern)
