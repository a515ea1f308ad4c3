"""Forms of the comments domain."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from consulta.comments.models import STANCE_LABELS
from consulta.comments.queries import BODY_MAX_LENGTH
from consulta.core.forms import FlaskForm
from consulta.core.input_guard import parse_id
from consulta.core.submissions import OneTimeSubmission
from consulta.core.text import clean_plain

NO_STANCE = ""


def _stance_choices():
    return [SelectChoice(NO_STANCE, _l("Nessuna posizione"))] + [
        SelectChoice(key, label) for key, label in STANCE_LABELS.items()]


def _not_blank(form, field):
    # Text made only of spaces or control characters would render as nothing.
    if field.data and not clean_plain(field.data, multiline=True):
        raise ValidationError(_l("Scrivi il testo del commento."))


class CommentEditForm(FlaskForm):
    body = TextAreaField(
        _l("Il tuo commento"),
        validators=[
            DataRequired(message=_l("Scrivi il testo del commento.")),
            Length(max=BODY_MAX_LENGTH, message=_l("Il commento può contenere al massimo %(max)d caratteri.")),
            _not_blank,
        ],
        description=_l("Puoi usare Markdown: **grassetto**, *corsivo*, elenchi e link. Al massimo 10.000 caratteri."),
    )
    stance = RadioField(
        _l("La tua posizione (facoltativa)"),
        choices=_stance_choices(),
        default=NO_STANCE,
        validators=[Optional()],
        validate_choice=False,
    )

    def validate_stance(self, field):
        if field.data not in (None, NO_STANCE, *STANCE_LABELS):
            raise ValidationError(_l("Scegli una posizione fra quelle proposte."))

    @property
    def stance_value(self) -> str | None:
        return self.stance.data or None


class CommentForm(OneTimeSubmission, CommentEditForm):
    parent_id = HiddenField()

    def validate_parent_id(self, field):
        if field.data in (None, ""):
            return
        if parse_id(field.data) is None:
            raise ValidationError(_l("Il commento a cui rispondi non esiste."))

    @property
    def parent_value(self) -> int | None:
        return int(self.parent_id.data) if self.parent_id.data else None
