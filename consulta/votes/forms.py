"""Forms of the votes domain."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from consulta.core.forms import FlaskForm
from consulta.votes.models import VOTE_LABELS

REMOVE = "remove"


class VoteForm(FlaskForm):
    """Three buttons named `value` (for, against, abstain) and "ritira il voto" (remove)."""

    value = SelectField(
        _l("Il tuo voto"),
        choices=[*(SelectChoice(key, label) for key, label in VOTE_LABELS.items()),
                 SelectChoice(REMOVE, _l("Ritira il voto"))],
        validators=[InputRequired(message=_l("Scegli un voto."))],
        validate_choice=True,
    )

    @property
    def removes(self) -> bool:
        return self.value.data == REMOVE
