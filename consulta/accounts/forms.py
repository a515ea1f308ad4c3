"""Account forms. Limits match the User columns; every message is Italian."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    StopValidation,
    ValidationError,
)

from consulta.accounts.models import DigestFrequency, Locale, RegisteredAs
from consulta.accounts.passwords import password_problem
from consulta.core.forms import FlaskForm
from consulta.core.text import clean_plain

NAME_MAX = 120
EMAIL_MAX = 254
PASSWORD_MAX = 200
# The value of the "Altro comune" option: resident outside the Ambito.
OTHER_COMUNE = "altro"

REGISTERED_AS_CHOICES = [
    SelectChoice(RegisteredAs.citizen.value, _l("Cittadino o cittadina")),
    SelectChoice(RegisteredAs.representative.value, _l("Rappresentante di un'organizzazione")),
]
DIGEST_CHOICES = [
    SelectChoice(DigestFrequency.weekly.value, _l("Ogni settimana")),
    SelectChoice(DigestFrequency.daily.value, _l("Ogni giorno")),
    SelectChoice(DigestFrequency.off.value, _l("Mai: non voglio riepiloghi")),
]
LOCALE_CHOICES = [
    SelectChoice(Locale.it.value, "Italiano", render_kw={"lang": "it"}),
    SelectChoice(Locale.en.value, "English", render_kw={"lang": "en"}),
]


def one_of_choices(message):
    """Validate a choice against the field's own choices with an Italian message."""
    def check(form, field):
        if not field.data or field.data not in {str(choice.value) for choice in field.choices}:
            raise ValidationError(message)
    return check


def _email_field(label=None):
    return EmailField(label or _l("E-mail"), validators=[
        DataRequired(_l("Indica il tuo indirizzo e-mail.")),
        Length(max=EMAIL_MAX, message=_l("L'indirizzo e-mail può avere al massimo %(max)d caratteri.")),
        Email(_l("Questo non sembra un indirizzo e-mail valido: controlla che sia scritto come nome@esempio.it.")),
    ], filters=[lambda value: value.strip() if isinstance(value, str) else value])


def _visible(message):
    """At least one letter, digit or symbol: a name of only invisible characters is no name."""
    def check(form, field):
        if not any(unicodedata.category(ch)[0] in "LNS" for ch in field.data or ""):
            raise StopValidation(message)
    return check


def _display_name_field():
    required = _l("Indica il nome con cui comparirai nella consultazione.")
    return StringField(_l("Nome e cognome (o nome visualizzato)"), validators=[
        DataRequired(required),
        _visible(required),
        Length(max=NAME_MAX, message=_l("Il nome può avere al massimo %(max)d caratteri.")),
    ], filters=[lambda value: clean_plain(value) if isinstance(value, str) else value])


def _new_password_fields(label):
    password = PasswordField(label, validators=[
        InputRequired(_l("Scegli una password.")),
        Length(max=PASSWORD_MAX, message=_l("La password può avere al massimo %(max)d caratteri.")),
    ])
    confirm = PasswordField(_l("Ripeti la password"), validators=[
        InputRequired(_l("Ripeti la password per conferma.")),
        EqualTo("password", _l("Le due password non coincidono.")),
    ])
    return password, confirm


def _comune_field():
    return SelectField(
        _l("Comune di residenza"), validate_choice=False,
        validators=[one_of_choices(_l("Scegli un comune dall'elenco oppure «Altro comune»."))],
    )


def comune_choices(comuni) -> list[SelectChoice]:
    # No comune chosen for the person: a pre-selected first one would be answered without being read.
    return [SelectChoice("", str(_l("Scegli il comune")))] + [SelectChoice(str(c.id), c.name) for c in comuni] + [
        SelectChoice(OTHER_COMUNE, str(_l("Altro comune (fuori dall'Ambito)")))]


def comune_id_from(value: str) -> int | None:
    return None if value == OTHER_COMUNE else int(value)


class RegisterForm(FlaskForm):
    display_name = _display_name_field()
    email = _email_field()
    password, password_confirm = _new_password_fields(_l("Password"))
    comune = _comune_field()
    registered_as = RadioField(
        _l("Partecipi come"), choices=REGISTERED_AS_CHOICES, default=RegisteredAs.citizen.value,
        validate_choice=False,
        validators=[InputRequired(_l("Indica se partecipi come cittadino o per un'organizzazione.")),
                    one_of_choices(_l("Scelta non valida."))],
    )
    digest_frequency = RadioField(
        _l("Riepilogo per e-mail delle novità"), choices=DIGEST_CHOICES, default=DigestFrequency.weekly.value,
        validate_choice=False,
        validators=[InputRequired(_l("Scegli ogni quanto ricevere il riepilogo.")),
                    one_of_choices(_l("Scelta non valida."))],
    )
    privacy = BooleanField(
        _l("Ho letto l'informativa sul trattamento dei dati personali e acconsento al trattamento"),
        validators=[DataRequired(_l("Per registrarti devi dichiarare di aver letto l'informativa privacy."))],
    )
    submit = SubmitField(_l("Registrati"))

    def validate_password(self, field):
        problem = password_problem(field.data or "", email=self.email.data or "",
                                   display_name=self.display_name.data or "")
        if problem:
            raise ValidationError(problem)


class Needed(InputRequired):
    """InputRequired without the `required` flag: the login form shows no asterisks, both
    fields being obviously needed, so its labels read exactly "E-mail" and "Password"."""

    def __init__(self, message=None):
        super().__init__(message)
        self.field_flags = {}


class LoginForm(FlaskForm):
    # No format check here: every failure gets the same answer.
    email = EmailField(_l("E-mail"), validators=[
        Needed(_l("Indica il tuo indirizzo e-mail.")),
        Length(max=EMAIL_MAX, message=_l("L'indirizzo e-mail può avere al massimo %(max)d caratteri.")),
    ], filters=[lambda value: value.strip() if isinstance(value, str) else value])
    password = PasswordField(_l("Password"), validators=[
        Needed(_l("Indica la password.")),
        Length(max=PASSWORD_MAX, message=_l("La password può avere al massimo %(max)d caratteri.")),
    ])
    remember = BooleanField(_l("Ricordami"))
    submit = SubmitField(_l("Accedi"))


class ForgotPasswordForm(FlaskForm):
    email = _email_field()
    submit = SubmitField(_l("Inviami il link"))


class ResetPasswordForm(FlaskForm):
    password, password_confirm = _new_password_fields(_l("Nuova password"))
    submit = SubmitField(_l("Salva la nuova password"))

    # Set by the view: the account whose password is being chosen.
    email_for_rules = ""

    def validate_password(self, field):
        problem = password_problem(field.data or "", email=self.email_for_rules)
        if problem:
            raise ValidationError(problem)


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Password attuale"), validators=[
        InputRequired(_l("Indica la password attuale.")),
        Length(max=PASSWORD_MAX, message=_l("La password può avere al massimo %(max)d caratteri.")),
    ])
    password, password_confirm = _new_password_fields(_l("Nuova password"))
    submit = SubmitField(_l("Cambia password"))

    email_for_rules = ""

    def validate_password(self, field):
        problem = password_problem(field.data or "", email=self.email_for_rules)
        if problem:
            raise ValidationError(problem)
        if field.data and field.data == self.current_password.data:
            raise ValidationError(_l("La nuova password deve essere diversa da quella attuale."))


class ChangeEmailForm(FlaskForm):
    email = _email_field(_l("Nuovo indirizzo e-mail"))
    current_password = PasswordField(_l("Password attuale"), validators=[
        InputRequired(_l("Indica la password attuale per confermare.")),
        Length(max=PASSWORD_MAX, message=_l("La password può avere al massimo %(max)d caratteri.")),
    ])
    submit = SubmitField(_l("Invia il link di conferma"))


class ProfileForm(FlaskForm):
    display_name = _display_name_field()
    comune = _comune_field()
    digest_frequency = RadioField(
        _l("Riepilogo per e-mail delle novità"), choices=DIGEST_CHOICES, validate_choice=False,
        validators=[InputRequired(_l("Scegli ogni quanto ricevere il riepilogo.")),
                    one_of_choices(_l("Scelta non valida."))],
    )
    locale = SelectField(
        _l("Lingua del sito e delle e-mail"), choices=LOCALE_CHOICES, validate_choice=False,
        validators=[one_of_choices(_l("Scegli una lingua dall'elenco."))],
    )
    submit = SubmitField(_l("Salva le modifiche"))
