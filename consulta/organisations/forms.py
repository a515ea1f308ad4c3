"""Forms of the organisations domain."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.it import codicefiscale
from wtforms import SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from consulta.ambito.models import Comune
from consulta.core.forms import FlaskForm
from consulta.core.text import clean_plain
from consulta.organisations.models import CATEGORY_LABELS, OrganisationType

# The value of the "outside the Ambito" choice of the comune select.
OTHER_COMUNE = "altro"


def normalise_tax_code(value: str | None) -> str:
    return "".join((value or "").split()).upper()


def tax_code_problem(value: str) -> str | None:
    """An Italian message saying what is wrong with a codice fiscale, or None.

    Bodies have an 11-digit code (the same rules as the partita IVA, check digit
    included); a 16-character code is a person's and is accepted only if valid.
    """
    if not value:
        return str(_l("Indica il codice fiscale dell'organizzazione."))
    if not ((len(value) == 11 and value.isdigit()) or (len(value) == 16 and value.isalnum())):
        return str(_l("Il codice fiscale di un ente ha 11 cifre (16 caratteri se è quello di una persona)."))
    try:
        codicefiscale.validate(value)
    except InvalidChecksum:
        return str(_l("Il codice fiscale non è valido: la cifra di controllo non corrisponde. Controlla di averlo scritto bene."))
    except StdnumError:
        return str(_l("Il codice fiscale non è valido: controlla di averlo scritto bene."))
    return None


def website_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        return str(_l("Indica un indirizzo completo che inizi con http:// o https://."))
    return None


class OrganisationRequestForm(FlaskForm):
    name = StringField(
        _l("Nome dell'organizzazione"),
        validators=[DataRequired(_l("Indica il nome dell'organizzazione.")),
                    Length(max=200, message=_l("Il nome può avere al massimo %(max)d caratteri."))],
    )
    type = SelectField(_l("Tipo di organizzazione"), validate_choice=False,
                       validators=[DataRequired(_l("Scegli il tipo di organizzazione."))])
    tax_code = StringField(
        _l("Codice fiscale"),
        description=_l("11 cifre per un ente; 16 caratteri solo se l'ente usa il codice fiscale di una persona."),
        validators=[DataRequired(_l("Indica il codice fiscale dell'organizzazione.")),
                    Length(max=20, message=_l("Il codice fiscale ha 11 cifre (o 16 caratteri)."))],
    )
    runts_number = StringField(
        _l("Numero di iscrizione al RUNTS (facoltativo)"),
        description=_l("Registro unico nazionale del Terzo settore."),
        validators=[Optional(), Length(max=40, message=_l("Il numero RUNTS può avere al massimo %(max)d caratteri."))],
    )
    comune = SelectField(_l("Comune della sede"), validate_choice=False,
                         validators=[DataRequired(_l("Scegli il comune della sede."))])
    website = StringField(
        _l("Sito web (facoltativo)"),
        description=_l("Per esempio https://www.esempio.it"),
        validators=[Optional(), Length(max=300, message=_l("L'indirizzo può avere al massimo %(max)d caratteri."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type.choices = [("", _l("Scegli il tipo…"))] + [
            (t.value, CATEGORY_LABELS[t.value]) for t in OrganisationType
        ]
        self.comune.choices = [("", _l("Scegli il comune…"))] + [
            (str(c.id), c.name) for c in Comune.all_sorted()
        ] + [(OTHER_COMUNE, _l("Altro comune, fuori dall'Ambito"))]

    def validate_type(self, field):
        if field.data not in {t.value for t in OrganisationType}:
            raise ValidationError(_l("Scegli un tipo di organizzazione dall'elenco."))

    def validate_comune(self, field):
        if field.data not in {value for value, _label in field.choices if value}:
            raise ValidationError(_l("Scegli un comune dall'elenco."))

    def validate_tax_code(self, field):
        problem = tax_code_problem(normalise_tax_code(field.data))
        if problem:
            raise ValidationError(problem)

    def validate_website(self, field):
        if field.data:
            problem = website_problem(field.data.strip())
            if problem:
                raise ValidationError(problem)

    # Cleaned values for the operation.
    @property
    def cleaned(self) -> dict:
        comune = self.comune.data
        return {
            "name": clean_plain(self.name.data),
            "type": self.type.data,
            "tax_code": normalise_tax_code(self.tax_code.data),
            "runts_number": clean_plain(self.runts_number.data) or None,
            "comune_id": None if comune == OTHER_COMUNE else int(comune),
            "website": (self.website.data or "").strip() or None,
        }

    def validate_name(self, field):
        if not clean_plain(field.data):
            raise ValidationError(_l("Indica il nome dell'organizzazione."))


class JoinSearchForm(FlaskForm):
    """The search box of the join page (GET, no CSRF needed)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Cerca per nome o codice fiscale"),
        validators=[Optional(), Length(max=100, message=_l("La ricerca può avere al massimo %(max)d caratteri."))],
    )


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""
