"""Form fields every domain shares."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import DateField, TimeField


class _ParsedField:
    """Parse the typed text with each accepted format in turn; a clear Italian error otherwise."""

    invalid_message = ""

    def _parse(self, raw: str):  # pragma: no cover - overridden
        raise NotImplementedError

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = " ".join(valuelist).strip()
        self.data = None
        if not raw:
            return
        for fmt in self.strptime_format:
            try:
                self.data = self._parse(datetime.strptime(raw, fmt))
                return
            except ValueError:
                continue
        raise ValueError(self.invalid_message)


class ItalianDateField(_ParsedField, DateField):
    """A date from <input type="date"> (aaaa-mm-gg) or typed as gg/mm/aaaa."""

    invalid_message = _l("Data non valida: usa il formato gg/mm/aaaa.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", ["%Y-%m-%d", "%d/%m/%Y"])
        super().__init__(*args, **kwargs)

    def _parse(self, moment: datetime):
        return moment.date()


class ItalianTimeField(_ParsedField, TimeField):
    """A time from <input type="time"> or typed as hh:mm / hh.mm."""

    invalid_message = _l("Ora non valida: usa il formato hh:mm (per esempio 17:30).")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", ["%H:%M", "%H.%M"])
        super().__init__(*args, **kwargs)

    def _parse(self, moment: datetime):
        return moment.time()
