"""Template filters and globals shared by every page."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import g, request
from flask_babel import get_locale, get_translations
from flask_babel import lazy_gettext as _l

from consulta.core.db import utcnow
from consulta.core.formatting import format_date, format_datetime
from consulta.core.keyset import PARAM
from consulta.core.submissions import new_token
from consulta.core.text import record_html, safe_html


def days_left(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    delta = moment - utcnow()
    return max(delta.days + (1 if delta.seconds else 0), 0) if delta.total_seconds() > 0 else 0


def url_with(**changes) -> str:
    """The current URL with some query parameters changed (None removes one)."""
    args = request.args.to_dict(flat=True)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    query = urlencode(args)
    return request.path + (f"?{query}" if query else "")


def next_page_url(pagination, page_param: str, anchor: str = "") -> str | None:
    """The "next page" link of a list paginated by consulta.core.keyset (None without a next page)."""
    cursor = getattr(pagination, "next_cursor", None)
    return url_with(**{PARAM: cursor, page_param: None}) + anchor if cursor else None


def translations():
    """flask_babel's get_translations(), remembered beside the locale it is for.

    Jinja asks for the translations at every `_()`, and flask_babel's lookup reads `g` a dozen times to
    answer (the plan page says some 2,000 strings). The answer is kept on flask_babel's own namespace of the
    context with the locale object it was found for: force_locale() and refresh() change that object, and
    then it is looked up again."""
    try:
        state = g._get_current_object()._flask_babel
    except (RuntimeError, AttributeError):  # no context yet, or flask_babel has not looked yet
        return get_translations()
    kept = getattr(state, "consulta_translations", None)
    locale = getattr(state, "babel_locale", None)
    if kept is not None and locale is not None and kept[0] is locale:
        return kept[1]
    found = get_translations()
    state.consulta_translations = (getattr(state, "babel_locale", None), found)
    return found


def register(app) -> None:
    from consulta.ambito.models import Ambito

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    from consulta.organisations.models import CATEGORY_LABELS

    app.jinja_env.filters["rome"] = lambda value, fmt="d MMMM yyyy, HH:mm": (
        format_datetime(value, fmt) if value else "")
    app.jinja_env.filters["date_it"] = lambda value, fmt="d MMMM yyyy": format_date(value, fmt) if value else ""
    app.jinja_env.filters["iso"] = iso_datetime
    app.jinja_env.filters["user_html"] = safe_html
    app.jinja_env.filters["record_html"] = record_html
    app.jinja_env.filters["category_label"] = lambda key: str(CATEGORY_LABELS.get(key, key))
    app.jinja_env.globals["days_left"] = days_left
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["next_page_url"] = next_page_url
    app.jinja_env.globals["now"] = utcnow
    # A fresh one-time token for each hand-written creating form (see core/submissions.py).
    app.jinja_env.globals["submission_token"] = new_token
    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def _inject():
        return {
            "ambito": Ambito.current(),
            "current_locale": str(get_locale() or "it"),
            "site_name": _l("Consulta"),
        }


def iso_datetime(value) -> str:
    """For <time datetime>: whole seconds, as HTML's valid date strings allow no microseconds."""
    if not value:
        return ""
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else value.isoformat()

