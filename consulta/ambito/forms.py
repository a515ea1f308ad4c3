"""The admin page that names the Ambito and its comuni."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from consulta.ambito.istat import registry
from consulta.core.forms import FlaskForm


class AmbitoForm(FlaskForm):
    name = StringField(_l("Nome dell'Ambito"), validators=[
        DataRequired(_l("Indica il nome dell'Ambito.")),
        Length(max=200, message=_l("Il nome può avere al massimo %(max)d caratteri."))],
        description=_l("Per esempio «Ambito Territoriale Sociale di Poggiardo»."))
    number = StringField(_l("Numero (facoltativo)"), validators=[
        Optional(), Length(max=20, message=_l("Il numero può avere al massimo %(max)d caratteri."))])
    region = SelectField(_l("Regione"), validate_choice=False)
    comuni = TextAreaField(_l("Comuni dell'Ambito"), validators=[
        DataRequired(_l("Indica almeno un comune dell'Ambito.")),
        Length(max=20_000, message=_l("L'elenco è troppo lungo."))],
        description=_l("Uno per riga, come nell'elenco ISTAT. Se due comuni hanno lo stesso nome aggiungi la "
                       "sigla della provincia, per esempio «Castro (LE)», o scrivi il codice ISTAT."))
    lead = StringField(_l("Comune capofila"), validators=[
        DataRequired(_l("Indica il comune capofila.")), Length(max=120)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = [("", _l("Scegli la regione"))] + [(r, r) for r in registry().regions]
