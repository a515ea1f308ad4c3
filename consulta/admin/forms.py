"""Forms of the admin area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length

from consulta.accounts.models import ROLE_LABELS, Role
from consulta.core.forms import FlaskForm
from consulta.core.text import clean_plain


class _ReasonForm(FlaskForm):
    max_reason = 1000

    def validate_reason(self, field):
        if not clean_plain(field.data, multiline=True):
            raise ValidationError(_l("Indica il motivo."))

    @property
    def cleaned_reason(self) -> str:
        return clean_plain(self.reason.data, multiline=True)


class RejectForm(_ReasonForm):
    """Reject or revoke an organisation or a membership."""

    reason = TextAreaField(
        _l("Motivo"),
        description=_l("Sarà comunicato alla persona che ha fatto la richiesta."),
        validators=[DataRequired(_l("Indica il motivo.")),
                    Length(max=1000, message=_l("Il motivo può avere al massimo %(max)d caratteri."))],
    )


class BlockForm(_ReasonForm):
    reason = TextAreaField(
        _l("Motivo del blocco"),
        description=_l("La persona lo vedrà quando accede: potrà leggere ma non partecipare."),
        validators=[DataRequired(_l("Indica il motivo del blocco.")),
                    Length(max=500, message=_l("Il motivo può avere al massimo %(max)d caratteri."))],
    )


class RoleForm(FlaskForm):
    role = SelectField(_l("Ruolo"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [(r.value, ROLE_LABELS[r.value]) for r in Role]

    def validate_role(self, field):
        if field.data not in {r.value for r in Role}:
            raise ValidationError(_l("Scegli un ruolo dall'elenco."))


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""
