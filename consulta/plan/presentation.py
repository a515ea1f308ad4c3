"""How the plan record's history and figures read on the page: labels and formats."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, numbers
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from consulta.core.events import is_phrase, say
from consulta.core.formatting import format_date, format_decimal
from consulta.plan.record import ACTION_STATUS_LABELS, FUNDING_SOURCE_LABELS

ITEM_LABELS = {
    "area": _l("Area"),
    "objective": _l("Obiettivo"),
    "action": _l("Azione"),
    "indicator": _l("Indicatore"),
    "budget_line": _l("Voce di spesa"),
    "input": _l("Provenienza"),
    "progress": _l("Avanzamento"),
}

OPERATION_LABELS = {
    "create": _l("Creazione"),
    "update": _l("Modifica"),
    "delete": _l("Eliminazione"),
    "link": _l("Collegamento a una decisione"),
    "unlink": _l("Scollegamento da una decisione"),
    "status": _l("Cambio di stato"),
    "progress": _l("Avanzamento registrato"),
}

FIELD_LABELS = {
    "title": _l("Titolo"),
    "name": _l("Nome"),
    "description": _l("Descrizione"),
    "tavoli": _l("Tavoli collegati"),
    "area": _l("Area"),
    "objective": _l("Obiettivo"),
    "beneficiaries": _l("Destinatari"),
    "responsible_body": _l("Soggetto responsabile"),
    "start_date": _l("Data di inizio"),
    "end_date": _l("Data di fine"),
    "comuni": _l("Comuni"),
    "status": _l("Stato"),
    "unit": _l("Unità di misura"),
    "baseline": _l("Valore di partenza"),
    "target": _l("Valore obiettivo"),
    "amount": _l("Importo"),
    "funding_source": _l("Fonte di finanziamento"),
    "year": _l("Anno"),
    "note": _l("Nota"),
    "decision": _l("Decisione"),
    "text": _l("Testo"),
}

# Item kinds in URLs of the history pages.
HISTORY_KINDS = {"area": "area", "obiettivo": "objective", "azione": "action"}
HISTORY_SLUGS = {v: k for k, v in HISTORY_KINDS.items()}


def euro(amount) -> str:
    if amount is None:
        return ""
    return _euro(Decimal(amount), get_locale())


@lru_cache(maxsize=4096)
def _euro(amount: Decimal, locale: Locale | None) -> str:
    """flask_babel's format_currency, once per amount and locale: a plan page shows some 450 amounts, many
    of them the same (an action's total twice, recurring lines), and Babel parses and rounds at each call."""
    return numbers.format_currency(amount, "EUR", locale=locale)


def number(value) -> str:
    if value is None:
        return ""
    value = Decimal(value)
    return format_decimal(value, "#,##0.##")


def field_label(field: str | None) -> str:
    if not field:
        return ""
    if field.startswith("indicator:"):
        return str(_l("Valore di un indicatore"))
    return str(FIELD_LABELS.get(field, field))


def item_text(item_type: str, label: str) -> str:
    """The name of an item in the history (a progress update is named by its date)."""
    if item_type == "budget_line" and is_phrase(label):  # its source and year
        return say(label)
    if item_type == "progress":
        try:
            return format_date(date.fromisoformat(label), "d MMMM yyyy")
        except ValueError:
            return label
    return label


def field_value(field: str | None, raw: str | None) -> str:
    """A stored history value as a person reads it (euro, dates, labels, the system's phrases)."""
    if raw is None:
        return ""
    if field in ("decision", "comuni") and is_phrase(raw):  # written by the system, said in the reader's words
        return say(raw)
    if field and field.startswith("indicator:") and ": " in raw:
        name, _sep, value = raw.rpartition(": ")
        try:
            return f"{name}: {number(value)}"
        except InvalidOperation:
            return raw
    try:
        if field == "amount":
            return euro(raw)
        if field in ("baseline", "target"):
            return number(raw)
        if field in ("start_date", "end_date"):
            return format_date(date.fromisoformat(raw), "d MMMM yyyy")
    except (InvalidOperation, ValueError):
        return raw
    if field == "funding_source":
        return str(FUNDING_SOURCE_LABELS.get(raw, raw))
    if field == "status":
        return str(ACTION_STATUS_LABELS.get(raw, raw))
    return raw


def register(app_or_bp) -> None:
    from consulta.plan.charts import bar_chart
    from consulta.plan.queries import progress_of

    app_or_bp.add_app_template_global(progress_of, "plan_progress")
    app_or_bp.add_app_template_global(bar_chart, "plan_bar_chart")
    app_or_bp.add_app_template_filter(euro, "euro")
    app_or_bp.add_app_template_filter(number, "plan_number")
    app_or_bp.add_app_template_global(field_label, "plan_field_label")
    app_or_bp.add_app_template_global(field_value, "plan_field_value")
    app_or_bp.add_app_template_global(item_text, "plan_item_text")
    app_or_bp.add_app_template_global(lambda key: str(ITEM_LABELS.get(key, key)), "plan_item_label")
    app_or_bp.add_app_template_global(lambda key: str(OPERATION_LABELS.get(key, key)), "plan_operation_label")
