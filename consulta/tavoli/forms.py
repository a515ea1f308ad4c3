"""Forms of the tavoli domain, with Italian messages for every refusal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from flask_babel import lazy_gettext as _l
from wtforms import (
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    NumberRange,
    Optional,
    ValidationError,
)

from consulta.core.forms import (
    ChoiceRadioField,
    FlaskForm,
    ItalianDateField,
    ItalianIntegerField,
    ItalianTimeField,
    choice_values,
    max_length,
    plain,
    plain_multiline,
    required,
    rome,
)

TITLE_MAX = 200
AREA_MAX = 120
SLUG_MAX = 120
DESCRIPTION_MAX = 20_000
OBJECTIVE_TITLE_MAX = 300
OBJECTIVE_BODY_MAX = 20_000
NOTE_MAX = 500
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# --- fields whose parse errors speak Italian --------------------------------


class IdMultipleField(SelectMultipleField):
    """Several ids picked from `choices`; unknown or malformed ids are refused in Italian."""

    def process_formdata(self, valuelist):
        try:
            self.data = [int(v) for v in valuelist]
        except ValueError:
            self.data = []
            raise ValueError(_l("Valore non valido.")) from None

    def pre_validate(self, form):
        allowed = choice_values(self.choices)
        if any(v not in allowed for v in self.data or []):
            raise ValidationError(_l("Una delle persone scelte non esiste o non può facilitare un tavolo."))


# --- tavolo -----------------------------------------------------------------

class TavoloForm(FlaskForm):
    title = StringField(_l("Titolo"), filters=[plain], validators=[required(), max_length(TITLE_MAX)])
    slug = StringField(
        _l("Indirizzo breve"), filters=[plain], validators=[Optional(), max_length(SLUG_MAX)],
        description=_l("Compare nell'indirizzo della pagina (/tavoli/…/). Lascialo vuoto per ricavarlo dal titolo: "
                       "solo lettere minuscole, cifre e trattini."),
    )
    area = StringField(
        _l("Area di intervento"), filters=[plain], validators=[required(), max_length(AREA_MAX)],
        description=_l("Per esempio: Anziani, Disabilità, Povertà e inclusione."),
    )
    description = TextAreaField(
        _l("Descrizione"), filters=[plain_multiline], validators=[Optional(), max_length(DESCRIPTION_MAX)],
        description=_l("Puoi usare Markdown: **grassetto**, _corsivo_, elenchi e link."),
    )
    facilitators = IdMultipleField(_l("Facilitatori"), coerce=int, choices=[])
    deadline_date = ItalianDateField(
        _l("Termine per le proposte: giorno"), validators=[Optional()],
        description=_l("Ora italiana. Lascia vuoto se non c'è un termine."),
    )
    deadline_time = ItalianTimeField(
        _l("Termine per le proposte: ora"), validators=[Optional()],
        description=_l("Se la lasci vuota il termine è alle 23:59."),
    )
    moderation = ChoiceRadioField(
        _l("Moderazione"), default="post",
        choices=[SelectChoice("post", _l("Successiva: i contributi compaiono subito e possono essere nascosti")),
                 SelectChoice("pre", _l("Preventiva: i contributi compaiono dopo l'approvazione di un facilitatore"))],
    )
    vote_mode = ChoiceRadioField(
        _l("Chi vota"), default="person",
        choices=[SelectChoice("person", _l("Ogni persona registrata")),
                 SelectChoice("organisation", _l("Una voce per organizzazione, espressa dal suo rappresentante"))],
    )
    quorum = ItalianIntegerField(
        _l("Quorum"), validators=[Optional(), NumberRange(min=1, max=10_000,
                                                         message=_l("Il quorum deve essere un numero intero positivo."))],
        description=_l("Numero minimo di organizzazioni presenti perché un incontro sia valido (facoltativo)."),
    )

    def validate_slug(self, field):
        if field.data and not SLUG_PATTERN.match(field.data):
            raise ValidationError(_l("Usa solo lettere minuscole senza accenti, cifre e trattini (es. anziani-2025)."))

    def validate_deadline_time(self, field):
        if field.data is not None and self.deadline_date.data is None and not self.deadline_date.errors:
            raise ValidationError(_l("Indica anche il giorno del termine."))

    def deadline_utc(self) -> datetime | None:
        """The deadline typed in Italian local time, as an aware UTC datetime."""
        if self.deadline_date.data is None:
            return None
        local = datetime.combine(self.deadline_date.data, self.deadline_time.data or time(23, 59))
        return local.replace(tzinfo=rome()).astimezone(UTC)

    def set_deadline(self, value: datetime | None) -> None:
        if value is None:
            return
        local = value.astimezone(rome())
        self.deadline_date.data = local.date()
        self.deadline_time.data = local.time().replace(second=0, microsecond=0)


# --- objectives --------------------------------------------------------------

class ObjectiveForm(FlaskForm):
    title = StringField(_l("Titolo dell'obiettivo"), filters=[plain],
                        validators=[required(), max_length(OBJECTIVE_TITLE_MAX)])
    body = TextAreaField(
        _l("Testo"), filters=[plain_multiline], validators=[required(), max_length(OBJECTIVE_BODY_MAX)],
        description=_l("Puoi usare Markdown: **grassetto**, _corsivo_, elenchi e link."),
    )
    note = StringField(
        _l("Motivo della modifica"), filters=[plain], validators=[Optional(), max_length(NOTE_MAX)],
        description=_l("Facoltativo: compare nell'elenco delle revisioni."),
    )
