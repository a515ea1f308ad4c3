"""Form fields every domain shares."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import DateField, IntegerField, RadioField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, StopValidation, ValidationError

from consulta.core.text import clean_plain


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


class FlaskForm(_FlaskForm):
    """The base of every form: a file sent where a field expects text is a field error, not a crash.

    A multipart part with a filename reaches WTForms as a FileStorage; string, integer and choice
    fields would call len()/strip()/int() on it. Here such values are replaced by an empty string
    before any field sees them, and the field reports "this field takes text, not a file"."""

    file_refused_message = _l("Questo campo accetta solo testo, non un file.")

    class Meta(_FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            formdata = super().wrap_formdata(form, formdata)
            file_fields = {field.name for field in form._fields.values() if isinstance(field, FileField)}
            # Views that pass formdata=request.form leave the files out: they are refused all the same.
            form._sent_as_file = ({key for key in request.files if key not in file_fields}
                                  if formdata is not None and has_request_context() else set())
            if formdata is None:
                return None
            cleaned = MultiDict()
            for key, value in formdata.items(multi=True):
                if isinstance(value, FileStorage) and key not in file_fields:
                    form._sent_as_file.add(key)
                    value = ""
                cleaned.add(key, value)
            return cleaned

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        sent_as_file = getattr(self, "_sent_as_file", set())
        for field in self._fields.values():
            if field.name in sent_as_file:
                field.errors = [str(self.file_refused_message)]
                ok = False
        return ok


# --- filters, validators and fields with Italian messages, shared by the domains' forms ---

def plain(value):
    return clean_plain(value) if isinstance(value, str) else value


def plain_multiline(value):
    return clean_plain(value, multiline=True) if isinstance(value, str) else value


def rome() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Rome"))


def choice_values(choices) -> set:
    return {c.value if isinstance(c, SelectChoice) else c[0] for c in choices or []}


class Required(DataRequired):
    """DataRequired that stays quiet when the value could not even be parsed (one message is enough)."""

    def __call__(self, form, field):
        if field.process_errors:
            raise StopValidation()
        super().__call__(form, field)


def required(message=None):
    return Required(message=message or _l("Questo campo è obbligatorio."))


def max_length(limit: int):
    return Length(max=limit, message=_l("Al massimo %(max)d caratteri.", max=limit))


class ItalianIntegerField(IntegerField):
    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Inserisci un numero intero.")) from None


class ChoiceRadioField(RadioField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "RadioField"  # rendered by the shared form macro as radio buttons

    def pre_validate(self, form):
        if self.data not in choice_values(self.choices):
            raise ValidationError(_l("Scegli una delle opzioni proposte."))
