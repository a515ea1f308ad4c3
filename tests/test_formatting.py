"""Dates and numbers through cached Babel objects (consulta/core/formatting.py) read exactly as
flask_babel's formatting would print them, in both languages, across daylight saving changes."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import flask_babel
import pytest
from flask_babel import force_locale

from consulta import create_app
from consulta.core import formatting

PATTERNS = ["d MMMM yyyy, HH:mm", "HH:mm", "d MMMM yyyy", "d MMM yyyy, HH:mm", "EEEE d MMMM yyyy, 'ore' HH:mm",
            "MMM yyyy", "d", "d MMM, HH:mm"]
MOMENTS = [
    datetime(2025, 3, 30, 0, 59), datetime(2025, 3, 30, 1, 0),      # summer time starts at 01:00 UTC
    datetime(2025, 10, 25, 23, 30), datetime(2025, 10, 26, 1, 30),  # and ends at 01:00 UTC
    datetime(2024, 12, 31, 23, 15, 42, 123456), datetime(2026, 7, 4, 12, 0),
    datetime(2025, 6, 1, 22, 30, tzinfo=UTC), datetime(2025, 6, 1, 9, 0, tzinfo=timezone(timedelta(hours=-5))),
    date(2025, 8, 15),
]


@pytest.fixture(scope="module")
def shell_app():
    return create_app("testing")


@pytest.mark.parametrize("locale", ["it", "en"])
def test_dates_read_as_flask_babel_prints_them(shell_app, locale):
    with shell_app.test_request_context("/"), force_locale(locale):
        for pattern in PATTERNS:
            for moment in MOMENTS:
                assert formatting.format_datetime(moment, pattern) == flask_babel.format_datetime(moment, pattern)
                if "H" not in pattern:
                    assert formatting.format_date(moment, pattern) == flask_babel.format_date(moment, pattern)


@pytest.mark.parametrize("locale", ["it", "en"])
def test_numbers_read_as_flask_babel_prints_them(shell_app, locale):
    with shell_app.test_request_context("/"), force_locale(locale):
        for value in (0, 7, 1234.5, Decimal("1234567.891"), -42, Decimal("0.005")):
            assert formatting.format_decimal(value, "#,##0.##") == flask_babel.format_decimal(value, "#,##0.##")


def test_a_pattern_is_prepared_once_per_language(shell_app):
    formatting._datetime_formatter.cache_clear()
    with shell_app.test_request_context("/"):
        for locale in ("it", "en", "it"):
            with force_locale(locale):
                for moment in MOMENTS[:4]:
                    formatting.format_datetime(moment, "d MMMM yyyy, HH:mm")
    info = formatting._datetime_formatter.cache_info()
    assert (info.misses, info.hits) == (2, 10)
    with shell_app.test_request_context("/"), force_locale("it"):
        assert formatting.format_datetime(datetime(2025, 3, 4, 12, 30), "d MMMM yyyy, HH:mm") == "4 marzo 2025, 13:30"
