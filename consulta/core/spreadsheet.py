"""CSV for spreadsheets: the one writer every CSV export of the application uses.

OWASP CSV-injection rule: a cell that a spreadsheet would evaluate as a formula — it starts with
`=`, `+`, `-`, `@`, a tab or a carriage return — is written with a leading `'`, which spreadsheets
show as text. Numbers the application writes itself (ids, amounts, years) are not strings and are
kept as they are; the JSON open data keeps every true value.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def safe_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """RFC 4180 CSV (comma, CRLF), a header row, every cell through `safe_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(v) for v in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()
