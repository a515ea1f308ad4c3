"""Forms of the plan record, with Italian messages for every refusal."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, StopValidation, ValidationError

from consulta.core.forms import (
    ChoiceRadioField,
    FlaskForm,
    ItalianDateField,
    ItalianIntegerField,
    choice_values,
    max_length,
    plain,
    plain_multiline,
    required,
)
from consulta.core.input_guard import parse_id
from consulta.plan.record import (
    ACTION_STATUS_LABELS,
    FUNDING_SOURCE_LABELS,
)

AREA_TITLE_MAX = 200
ITEM_TITLE_MAX = 300
DESCRIPTION_MAX = 20_000
BENEFICIARIES_MAX = 1000
RESPONSIBLE_MAX = 200
INDICATOR_NAME_MAX = 200
UNIT_MAX = 40
NOTE_MAX = 300
REASON_MAX = 1000
REFERENCE_MAX = 200
PROGRESS_TEXT_MAX = 4000
MARKDOWN_HINT = _l("Puoi usare Markdown: **grassetto**, _corsivo_, elenchi e link.")

_DIGITS = re.compile(r"^\d+(?:\.\d+)?$")
_GROUPED = re.compile(r"^\d{1,3}(?:\.\d{3})+$")


class AmountProblem(ValueError):
    pass


def parse_decimal(raw: str) -> Decimal | None:
    """An amount typed the Italian way (12.500,50) or with a decimal point (12500.50).

    A single dot is a decimal point, never a thousands separator: "1.500" is 1,5 with
    three decimals and is refused, rather than silently read as millecinquecento.
    """
    text = (raw or "").strip().replace("€", "").replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not text:
        return None
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in "+-" else text
    if "," in body and "." in body:
        if body.rfind(",") > body.rfind("."):
            body = body.replace(".", "").replace(",", ".")
        else:
            body = body.replace(",", "")
    elif "," in body:
        if body.count(",") > 1:
            raise AmountProblem(_l("Numero non valido: usa la virgola una volta sola, per i decimali."))
        body = body.replace(",", ".")
    elif body.count(".") > 1:
        if not _GROUPED.match(body):
            raise AmountProblem(_l("Numero non valido: scrivi per esempio 12.500,00."))
        body = body.replace(".", "")
    if not _DIGITS.match(body):
        raise AmountProblem(_l("Inserisci un numero, per esempio 12.500,00."))
    try:
        value = Decimal(body) * sign
    except InvalidOperation:  # pragma: no cover - the pattern above already refuses it
        raise AmountProblem(_l("Inserisci un numero, per esempio 12.500,00.")) from None
    return value


def present(message):
    """Required, for values whose zero is meaningful (0 is not "missing"); quiet after a parse error."""

    def check(form, field):
        if field.process_errors:
            raise StopValidation()
        if field.data is None:
            raise StopValidation(message)

    check.field_flags = {"required": True}
    return check


def int_or_none(value):
    """Coerce for selects of ids: a malformed value becomes None and is refused as an unknown choice."""
    return parse_id(value)


def _decimals(value: Decimal) -> int:
    return max(0, -value.as_tuple().exponent)


class DecimalTextField(StringField):
    """A decimal typed as text (inputmode=decimal), parsed exactly, never through float."""

    def __init__(self, *args, allow_zero: bool = True, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(*args, **kwargs)
        self.allow_zero = allow_zero
        self.raw = ""

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        try:
            self.data = parse_decimal(self.raw)
        except AmountProblem as problem:
            raise ValueError(str(problem)) from None

    def _value(self):
        if self.raw:
            return self.raw
        if isinstance(self.data, Decimal):
            return f"{self.data:.2f}".replace(".", ",")
        return ""

    def post_validate(self, form, validation_stopped):
        if self.errors or self.data is None:
            return
        if self.data < 0:
            self.errors.append(_l("Il valore non può essere negativo."))
        elif _decimals(self.data) > 2:
            self.errors.append(_l("Al massimo due decimali: per le migliaia scrivi per esempio 1.500,00."))
        elif self.data == 0 and not self.allow_zero:
            self.errors.append(_l("Il valore deve essere maggiore di zero."))
        elif self.data > Decimal("999999999999.99"):
            self.errors.append(_l("Il valore è troppo grande."))


class EuroField(DecimalTextField):
    def post_validate(self, form, validation_stopped):
        if self.errors or self.data is None:
            return
        if self.data < 0:
            self.errors.append(_l("L'importo non può essere negativo."))
        elif _decimals(self.data) > 2:
            self.errors.append(_l("L'importo può avere al massimo due decimali (i centesimi): per le migliaia "
                                  "scrivi per esempio 1.500,00."))
        elif self.data == 0:
            self.errors.append(_l("L'importo deve essere maggiore di zero."))
        elif self.data > Decimal("999999999999.99"):
            self.errors.append(_l("L'importo è troppo grande."))


class CheckboxIdsField(SelectMultipleField):
    """Ids picked with checkboxes from `choices`; an id outside them is refused with `invalid_message`."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def __init__(self, *args, invalid_message=None, **kwargs):
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("choices", [])
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message or _l("Una delle voci scelte non è disponibile.")

    def process_formdata(self, valuelist):
        self.data = [parse_id(v) for v in valuelist]
        if None in self.data:
            self.data = []
            raise ValueError(_l("Valore non valido."))

    def pre_validate(self, form):
        allowed = choice_values(self.choices)
        if any(v not in allowed for v in self.data or []):
            raise ValidationError(self.invalid_message)


class ChoiceSelectField(SelectField):
    """A select whose refusal of an unknown value speaks Italian."""

    def __init__(self, *args, invalid_message=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message or _l("Scegli una delle opzioni proposte.")
        self.type = "SelectField"  # rendered by the shared form macro as a select

    def pre_validate(self, form):
        if self.validate_choice:
            self.check_choice()

    def check_choice(self):
        if self.data not in choice_values(self.choices):
            raise ValidationError(self.invalid_message)


def _description():
    return TextAreaField(_l("Descrizione"), filters=[plain_multiline], validators=[Optional(), max_length(DESCRIPTION_MAX)],
                         description=MARKDOWN_HINT)


# --------------------------------------------------------------------------- structure

class AreaForm(FlaskForm):
    title = StringField(_l("Nome dell'area"), filters=[plain], validators=[required(), max_length(AREA_TITLE_MAX)],
                        description=_l("Per esempio: Anziani e non autosufficienza."))
    description = _description()
    tavoli = CheckboxIdsField(_l("Tavoli collegati"), invalid_message=_l("Si possono collegare solo tavoli di "
                                                                         "questo piano."),
                              description=_l("I facilitatori dei tavoli collegati possono lavorare su quest'area."))


class PlanObjectiveForm(FlaskForm):
    title = StringField(_l("Titolo dell'obiettivo"), filters=[plain],
                        validators=[required(), max_length(ITEM_TITLE_MAX)])
    description = _description()


class ActionForm(FlaskForm):
    title = StringField(_l("Titolo dell'azione"), filters=[plain], validators=[required(), max_length(ITEM_TITLE_MAX)])
    description = _description()
    beneficiaries = TextAreaField(_l("Destinatari"), filters=[plain_multiline],
                                  validators=[Optional(), max_length(BENEFICIARIES_MAX)],
                                  description=_l("Chi beneficia dell'azione, per esempio: anziani soli over 75."))
    responsible_body = StringField(_l("Soggetto responsabile"), filters=[plain],
                                   validators=[Optional(), max_length(RESPONSIBLE_MAX)],
                                   description=_l("Per esempio: Ufficio di Piano, Comune di Narni, ASL."))
    start_date = ItalianDateField(_l("Data di inizio"), validators=[Optional()])
    end_date = ItalianDateField(_l("Data di fine"), validators=[Optional()])
    scope = ChoiceRadioField(_l("Comuni interessati"), default="all", choices=[
        SelectChoice("all", _l("Tutti i comuni dell'Ambito")),
        SelectChoice("some", _l("Solo i comuni scelti qui sotto")),
    ])
    comuni = CheckboxIdsField(_l("Comuni"), invalid_message=_l("Si possono indicare solo comuni dell'Ambito."))

    def validate_end_date(self, field):
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("La data di fine non può precedere la data di inizio."))

    def validate_comuni(self, field):
        if self.scope.data == "some" and not field.data and not field.errors:
            raise ValidationError(_l("Scegli almeno un comune, oppure «Tutti i comuni dell'Ambito»."))


class IndicatorForm(FlaskForm):
    name = StringField(_l("Indicatore"), filters=[plain], validators=[required(), max_length(INDICATOR_NAME_MAX)],
                       description=_l("Per esempio: anziani raggiunti dal servizio."))
    unit = StringField(_l("Unità di misura"), filters=[plain], validators=[Optional(), max_length(UNIT_MAX)],
                       description=_l("Per esempio: persone, ore, %."))
    baseline = DecimalTextField(_l("Valore di partenza"), validators=[Optional()],
                                description=_l("Facoltativo. Al massimo due decimali."))
    target = DecimalTextField(_l("Valore obiettivo"), validators=[present(_l("Indica il valore obiettivo."))],
                              description=_l("Il valore da raggiungere entro la fine del piano."))


def funding_choices():
    return [SelectChoice(key, label) for key, label in FUNDING_SOURCE_LABELS.items()]


class BudgetLineForm(FlaskForm):
    amount = EuroField(_l("Importo in euro"), validators=[present(_l("Indica l'importo."))],
                       description=_l("Per esempio 12.500,00 (al massimo due decimali)."))
    funding_source = ChoiceSelectField(_l("Fonte di finanziamento"), choices=funding_choices,
                                       invalid_message=_l("Scegli una fonte di finanziamento dell'elenco."))
    year = ItalianIntegerField(_l("Anno"), validators=[present(_l("Indica l'anno."))])
    note = StringField(_l("Nota"), filters=[plain], validators=[Optional(), max_length(NOTE_MAX)],
                       description=_l("Facoltativa, per esempio il capitolo di bilancio."))

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        if plan is not None:
            self.year.description = _l("Un anno del periodo del piano (%(period)s).", period=plan.period_label)

    def validate_year(self, field):
        if self.plan is not None and field.data is not None and not (
                self.plan.period_start <= field.data <= self.plan.period_end):
            raise ValidationError(_l("L'anno deve essere compreso nel periodo del piano (%(period)s).",
                                     period=self.plan.period_label))


# --------------------------------------------------------------------------- from inputs to plan

class TakeInForm(FlaskForm):
    """Turn approved decisions into a new objective or action, or attach them to an existing item."""

    decisions = CheckboxIdsField(
        _l("Decisioni da recepire"),
        invalid_message=_l("Una delle decisioni scelte non si può recepire: servono decisioni di accoglimento, anche "
                           "parziale, di verbali approvati dei tavoli di questo piano."))
    mode = ChoiceRadioField(_l("Che cosa vuoi fare"), default="new_objective", choices=[
        SelectChoice("new_objective", _l("Creare un nuovo obiettivo del piano")),
        SelectChoice("new_action", _l("Creare una nuova azione")),
        SelectChoice("attach", _l("Collegarle a un obiettivo o a un'azione che esiste già")),
    ])
    area = ChoiceSelectField(_l("Area del nuovo obiettivo"), coerce=int_or_none, choices=[], validate_choice=False,
                             invalid_message=_l("Scegli un'area su cui puoi lavorare."))
    objective = ChoiceSelectField(_l("Obiettivo della nuova azione"), coerce=int_or_none, choices=[], validate_choice=False,
                                  invalid_message=_l("Scegli un obiettivo su cui puoi lavorare."))
    target = ChoiceSelectField(_l("Voce del piano a cui collegarle"), choices=[], validate_choice=False,
                               invalid_message=_l("Scegli una voce del piano su cui puoi lavorare."))
    # No Optional(): it would stop the chain before validate_title asks for a title for new items.
    title = StringField(_l("Titolo"), filters=[plain], validators=[max_length(ITEM_TITLE_MAX)],
                        description=_l("Il titolo del nuovo obiettivo o della nuova azione."))
    description = _description()

    def validate_decisions(self, field):
        if not field.data and not field.errors:
            raise ValidationError(_l("Scegli almeno una decisione da recepire."))

    def validate_title(self, field):
        if self.mode.data in ("new_objective", "new_action") and not field.data:
            raise ValidationError(_l("Indica il titolo."))

    def validate_area(self, field):
        if self.mode.data == "new_objective":
            field.check_choice()

    def validate_objective(self, field):
        if self.mode.data == "new_action":
            field.check_choice()

    def validate_target(self, field):
        if self.mode.data == "attach":
            field.check_choice()


class AttachForm(FlaskForm):
    """On an item's page: attach more decisions to it."""

    decisions = CheckboxIdsField(
        _l("Decisioni da collegare"),
        invalid_message=_l("Una delle decisioni scelte non si può recepire: servono decisioni di accoglimento, anche "
                           "parziale, di verbali approvati dei tavoli di questo piano."))

    def validate_decisions(self, field):
        if not field.data and not field.errors:
            raise ValidationError(_l("Scegli almeno una decisione da collegare."))


# --------------------------------------------------------------------------- adoption and aggiornamenti

class AggiornamentoForm(FlaskForm):
    reason = TextAreaField(_l("Motivo dell'aggiornamento"), filters=[plain_multiline],
                           validators=[required(_l("Indica il motivo dell'aggiornamento.")), max_length(REASON_MAX)],
                           description=_l("Per esempio: aggiornamento annuale 2026 dopo il riparto del FNPS."))


class CloseAggiornamentoForm(FlaskForm):
    approval_reference = StringField(_l("Riferimento della deliberazione"), filters=[plain],
                                     validators=[Optional(), max_length(REFERENCE_MAX)],
                                     description=_l("Facoltativo: la deliberazione che approva l'aggiornamento."))
    approval_date = ItalianDateField(_l("Data della deliberazione"), validators=[Optional()])

    def validate_approval_date(self, field):
        if bool(field.data) != bool(self.approval_reference.data) and not field.errors:
            raise ValidationError(_l("Indica sia il riferimento sia la data della deliberazione, oppure nessuno dei due."))


# --------------------------------------------------------------------------- monitoring

class ActionStatusForm(FlaskForm):
    status = ChoiceSelectField(_l("Stato dell'azione"), choices=[SelectChoice(k, v) for k, v in ACTION_STATUS_LABELS.items()],
                               invalid_message=_l("Scegli uno stato dell'elenco."))


class ProgressFormBase(FlaskForm):
    reported_on = ItalianDateField(_l("Data"), validators=[required(_l("Indica la data dell'avanzamento."))])
    text = TextAreaField(_l("Che cosa è stato fatto"), filters=[plain_multiline],
                         validators=[required(_l("Descrivi l'avanzamento.")), max_length(PROGRESS_TEXT_MAX)],
                         description=MARKDOWN_HINT)

    indicator_fields: list = []

    def indicator_values(self) -> dict[int, Decimal]:
        return {ident: getattr(self, name).data for ident, name in self.indicator_fields
                if getattr(self, name).data is not None}


def progress_form_class(indicators):
    """A progress form with one optional value field per indicator of the action."""
    attrs = {"indicator_fields": []}
    for indicator in indicators:
        name = f"value_{indicator.id}"
        label = indicator.name + (f" ({indicator.unit})" if indicator.unit else "")
        attrs[name] = DecimalTextField(label, validators=[Optional()], description=_l(
            "Valore raggiunto. Obiettivo: %(target)s.", target=f"{indicator.target:.2f}".replace(".", ",")))
        attrs["indicator_fields"].append((indicator.id, name))
    return type("ProgressForm", (ProgressFormBase,), attrs)
