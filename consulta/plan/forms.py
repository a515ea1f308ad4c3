"""Forms of plan editions (admin)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import NumberRange, Optional, ValidationError

from consulta.core.forms import (
    FlaskForm,
    ItalianDateField,
    ItalianIntegerField,
    max_length,
    plain,
    plain_multiline,
    required,
)

PLAN_TITLE_MAX = 200
PLAN_DESCRIPTION_MAX = 4000
REFERENCE_MAX = 200
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _year_range():
    return NumberRange(min=FIRST_YEAR, max=LAST_YEAR,
                       message=_l("Indica un anno fra %(first)d e %(last)d.", first=FIRST_YEAR, last=LAST_YEAR))


class PlanForm(FlaskForm):
    title = StringField(_l("Titolo"), filters=[plain], validators=[required(), max_length(PLAN_TITLE_MAX)],
                        description=_l("Per esempio: Piano Sociale di Zona 2025–2027."))
    period_start = ItalianIntegerField(_l("Primo anno"), validators=[required(_l("Indica il primo anno del periodo.")),
                                                                    _year_range()])
    period_end = ItalianIntegerField(_l("Ultimo anno"), validators=[required(_l("Indica l'ultimo anno del periodo.")),
                                                                   _year_range()])
    description = TextAreaField(
        _l("Descrizione"), filters=[plain_multiline], validators=[Optional(), max_length(PLAN_DESCRIPTION_MAX)],
        description=_l("Puoi usare Markdown: **grassetto**, _corsivo_, elenchi e link."),
    )

    def validate_period_end(self, field):
        start = self.period_start.data
        if field.data is not None and start is not None and field.data < start:
            raise ValidationError(_l("L'ultimo anno non può precedere il primo."))


class AdoptionForm(FlaskForm):
    """What adoption requires (issue 6 builds the full adoption flow)."""

    adoption_reference = StringField(
        _l("Riferimento della deliberazione"), filters=[plain],
        validators=[required(_l("Indica il riferimento della deliberazione.")), max_length(REFERENCE_MAX)],
        description=_l("Per esempio: Deliberazione del Coordinamento Istituzionale n. 4."),
    )
    adoption_date = ItalianDateField(_l("Data della deliberazione"),
                                     validators=[required(_l("Indica la data della deliberazione."))])
