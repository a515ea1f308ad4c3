"""Forms of the notifications, preferences and outbox pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, RadioField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length

from consulta.core.forms import FlaskForm
from consulta.digests.models import OUTBOX_STATUS_LABELS

FREQUENCY_CHOICES = [
    SelectChoice("weekly", _l("Settimanale: un riepilogo a settimana (consigliato)")),
    SelectChoice("daily", _l("Giornaliero: un riepilogo al giorno, solo se ci sono novità")),
    SelectChoice("off", _l("Nessun riepilogo: le notifiche restano visibili sul sito")),
]
LOCALE_CHOICES = [SelectChoice("it", "Italiano"), SelectChoice("en", "English")]
STATUS_CHOICES = [SelectChoice("", _l("Tutti gli stati"))] + [
    SelectChoice(key, label) for key, label in OUTBOX_STATUS_LABELS.items()]


class PreferencesForm(FlaskForm):
    # validate_choice=False: our own Italian message replaces WTForms' English one.
    digest_frequency = RadioField(
        _l("Riepilogo via e-mail"), choices=FREQUENCY_CHOICES, validate_choice=False,
        validators=[InputRequired(message=_l("Scegli ogni quanto ricevere il riepilogo.")),
                    AnyOf([choice.value for choice in FREQUENCY_CHOICES],
                          message=_l("Scegli una delle frequenze proposte."))])
    locale = RadioField(
        _l("Lingua del sito e delle e-mail"), choices=LOCALE_CHOICES, validate_choice=False,
        validators=[InputRequired(message=_l("Scegli la lingua.")),
                    AnyOf([choice.value for choice in LOCALE_CHOICES], message=_l("Scegli l'italiano o l'inglese."))])
    submit = SubmitField(_l("Salva le preferenze"))


class OutboxFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    stato = SelectField(
        _l("Stato"), choices=STATUS_CHOICES,
        validate_choice=False, default="",
        validators=[AnyOf([""] + list(OUTBOX_STATUS_LABELS), message=_l("Stato non valido: scegline uno dall'elenco."))])


class SendNowForm(FlaskForm):
    email = EmailField(
        _l("E-mail del destinatario"),
        validators=[InputRequired(message=_l("Indica l'e-mail della persona a cui inviare il riepilogo.")),
                    Length(max=254, message=_l("L'indirizzo e-mail può avere al massimo %(max)d caratteri."))])
    submit = SubmitField(_l("Invia ora il riepilogo"))
