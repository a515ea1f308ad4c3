"""Forms of the moderation area and of the flag a participant files."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from consulta.core.forms import FlaskForm
from consulta.core.input_guard import parse_id
from consulta.core.text import clean_plain
from consulta.moderation.models import FLAG_REASONS, HIDE_REASONS, REASON_LABELS

# Proposal/Comment.hidden_note is String(500); the audit row's reason keeps the same words.
NOTE_MAX = 400
FLAG_NOTE_MAX = 500  # Flag.note
# How a queue item is named in the bulk form: "p-12" (proposal 12), "c-34" (comment 34).
ITEM_TOKEN = re.compile(r"^([pc])-([1-9][0-9]{0,9})$")
BULK_MAX = 200


def _max_length(maximum: int):
    def check(form, field):
        if len(clean_plain(field.data, multiline=True)) > maximum:
            raise ValidationError(_l("Il testo può avere al massimo %(max)d caratteri.", max=maximum))

    return check


def _reason_choices(codes):
    return [SelectChoice(code, str(REASON_LABELS[code]).capitalize()) for code in codes]


def _chosen(message):
    def check(form, field):
        if not field.data or field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(message)

    return check


class ActionForm(FlaskForm):
    """Approve, start review: a button and the CSRF token."""


class HideForm(FlaskForm):
    reason = RadioField(
        _l("Motivo"),
        choices=[],
        validate_choice=False,
        validators=[_chosen(_l("Scegli il motivo per cui nascondi il contenuto."))],
        description=_l("Il motivo è pubblico: compare al posto del testo e nel registro di moderazione del tavolo."),
    )
    note = TextAreaField(
        _l("Spiegazione (facoltativa, pubblica)"),
        validators=[_max_length(NOTE_MAX)],
        description=_l("Una frase che aiuti a capire la scelta, senza riportare il contenuto nascosto. "
                       "Massimo %(max)d caratteri.", max=NOTE_MAX),
    )
    submit = SubmitField(_l("Nascondi"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = _reason_choices(HIDE_REASONS)


class RestoreForm(FlaskForm):
    note = TextAreaField(
        _l("Nota (facoltativa)"),
        validators=[_max_length(NOTE_MAX)],
        description=_l("Perché il contenuto torna visibile; resta nel registro. Massimo %(max)d caratteri.",
                       max=NOTE_MAX),
    )
    submit = SubmitField(_l("Ripristina"))


class DismissForm(FlaskForm):
    note = TextAreaField(
        _l("Nota (facoltativa)"),
        validators=[_max_length(NOTE_MAX)],
        description=_l("Perché il contenuto resta visibile nonostante le segnalazioni. Massimo %(max)d caratteri.",
                       max=NOTE_MAX),
    )
    submit = SubmitField(_l("Mantieni visibile"))


class FlagForm(FlaskForm):
    reason = RadioField(
        _l("Che cosa non va?"),
        choices=[],
        validate_choice=False,
        validators=[_chosen(_l("Scegli il motivo della segnalazione."))],
    )
    note = TextAreaField(
        _l("Dettagli"),
        validators=[_max_length(FLAG_NOTE_MAX)],
        description=_l("Facoltativo, obbligatorio se scegli «Altro motivo». Lo leggono solo i facilitatori. "
                       "Massimo %(max)d caratteri.", max=FLAG_NOTE_MAX),
    )
    submit = SubmitField(_l("Invia la segnalazione"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = _reason_choices(FLAG_REASONS)

    def validate_note(self, field):
        if self.reason.data == "other" and not clean_plain(field.data, multiline=True):
            raise ValidationError(_l("Spiega in breve il motivo della segnalazione."))


class BulkForm(FlaskForm):
    """The queue's bulk bar: the chosen items arrive as `items` checkboxes.

    Its fields have their own names: the per-item buttons post the same <form> elsewhere.
    """

    bulk_action = SelectField(
        _l("Azione sui contenuti selezionati"),
        choices=[SelectChoice("approve", _l("Approva e pubblica")), SelectChoice("hide", _l("Nascondi"))],
        validate_choice=False,
        validators=[_chosen(_l("Scegli l'azione da applicare."))],
    )
    bulk_reason = SelectField(
        _l("Motivo (per nascondere)"),
        choices=[],
        validate_choice=False,
    )
    bulk_note = TextAreaField(
        _l("Spiegazione (facoltativa, pubblica)"),
        validators=[_max_length(NOTE_MAX)],
        description=_l("Vale per tutti i contenuti selezionati. Massimo %(max)d caratteri.", max=NOTE_MAX),
    )
    submit = SubmitField(_l("Applica ai selezionati"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bulk_reason.choices = [SelectChoice("", str(_l("— scegli il motivo —")))] + _reason_choices(HIDE_REASONS)
        self.tokens: list[tuple[str, int]] = []

    def validate_bulk_reason(self, field):
        if self.bulk_action.data == "hide" and field.data not in HIDE_REASONS:
            raise ValidationError(_l("Per nascondere scegli il motivo dall'elenco."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        from flask import request

        raw = request.form.getlist("items")
        if not raw:
            self.form_errors.append(str(_l("Seleziona almeno un contenuto dall'elenco.")))
            return False
        if len(raw) > BULK_MAX:
            self.form_errors.append(str(_l("Si possono moderare al massimo %(max)d contenuti per volta.",
                                           max=BULK_MAX)))
            return False
        tokens = []
        for value in raw:
            match = ITEM_TOKEN.match(value or "")
            if match is None or parse_id(match.group(2)) is None:
                self.form_errors.append(str(_l("La selezione contiene un elemento non valido.")))
                return False
            tokens.append((match.group(1), int(match.group(2))))
        self.tokens = list(dict.fromkeys(tokens))
        return valid
