"""Forms of the proposals domain."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import ValidationError

from consulta.core.text import clean_plain
from consulta.extensions import db
from consulta.tavoli.models import Objective, ObjectiveStatus

TITLE_MAX = 200  # Proposal.title is String(200)
BODY_MAX = 20_000
WITHDRAW_REASON_MAX = 500
# Value of the "presented by" choice meaning "as myself".
AS_CITIZEN = "citizen"


def _cleaned_length(maximum: int, message: str, *, multiline: bool = False):
    """Length limit measured on the text as it will be stored (after clean_plain)."""

    def check(form, field):
        if len(clean_plain(field.data, multiline=multiline)) > maximum:
            raise ValidationError(message)

    return check


def _not_blank(message: str, *, multiline: bool = False):
    def check(form, field):
        if not clean_plain(field.data, multiline=multiline):
            raise ValidationError(message)

    return check


class _ProposalTextForm(FlaskForm):
    """Title, text and linked objective: shared by the new and the edit forms."""

    title = StringField(
        _l("Titolo"),
        validators=[
            _not_blank(_l("Scrivi il titolo della proposta.")),
            _cleaned_length(TITLE_MAX, _l("Il titolo può avere al massimo %(max)d caratteri.", max=TITLE_MAX)),
        ],
        description=_l("Una frase breve che riassume la proposta (massimo %(max)d caratteri).", max=TITLE_MAX),
    )
    body = TextAreaField(
        _l("Testo della proposta"),
        validators=[
            _not_blank(_l("Scrivi il testo della proposta."), multiline=True),
            _cleaned_length(BODY_MAX, _l("Il testo può avere al massimo %(max)d caratteri.", max=BODY_MAX),
                            multiline=True),
        ],
        description=_l("Descrivi che cosa proponi e perché. Puoi usare Markdown: **grassetto**, *corsivo*, "
                       "elenchi con «-» e collegamenti. Massimo %(max)d caratteri.", max=BODY_MAX),
    )
    objective = SelectField(
        _l("Obiettivo collegato"),
        choices=[],
        validate_choice=False,  # validated below, so a foreign id gets a clear message
        description=_l("Facoltativo: l'obiettivo del tavolo a cui la proposta si riferisce."),
    )

    def __init__(self, tavolo, *args, current_objective: Objective | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tavolo = tavolo
        # An edited proposal may keep its objective even once that is approved or dropped.
        self.current_objective = current_objective
        self.linked_objective: Objective | None = None
        objectives = db.session.execute(
            select(Objective.id, Objective.title)
            .where(Objective.tavolo_id == tavolo.id, Objective.status == ObjectiveStatus.published)
            .order_by(Objective.position, Objective.id)
        ).all()
        choices = [(str(oid), title) for oid, title in objectives]
        if current_objective is not None and current_objective.status != ObjectiveStatus.published:
            choices.insert(0, (str(current_objective.id), current_objective.title))
        self.objective.choices = [("", str(_l("Nessun obiettivo in particolare")))] + choices

    def validate_objective(self, field):
        raw = (field.data or "").strip()
        if not raw:
            return
        if not raw.isdigit() or len(raw) > 18:
            raise ValidationError(_l("L'obiettivo scelto non è valido."))
        objective = db.session.get(Objective, int(raw))
        if objective is None:
            raise ValidationError(_l("L'obiettivo scelto non esiste."))
        if objective.tavolo_id != self.tavolo.id:
            raise ValidationError(_l("L'obiettivo scelto appartiene a un altro tavolo: scegli un obiettivo di "
                                     "questo tavolo."))
        if objective.status != ObjectiveStatus.published and objective != self.current_objective:
            raise ValidationError(_l("L'obiettivo scelto non è aperto alle proposte."))
        self.linked_objective = objective

    @property
    def clean_title(self) -> str:
        return clean_plain(self.title.data)


class ProposalForm(_ProposalTextForm):
    presenter = RadioField(
        _l("Presenti la proposta"),
        choices=[],
        validate_choice=False,  # validated below with a clear message
        description=_l("Una proposta a nome dell'organizzazione conta nella sua categoria di portatori di "
                       "interesse."),
    )
    submit = SubmitField(_l("Invia la proposta"))

    def __init__(self, tavolo, user, *args, **kwargs):
        super().__init__(tavolo, *args, **kwargs)
        self.organisation = user.represented_organisation
        self.presenter.choices = [(AS_CITIZEN, str(_l("A titolo personale (cittadino/a)")))]
        if self.organisation is not None:
            self.presenter.choices.append(
                (str(self.organisation.id), str(_l("A nome di %(name)s", name=self.organisation.name))))
            if not self.presenter.data:
                self.presenter.data = str(self.organisation.id)
        elif not self.presenter.data:
            self.presenter.data = AS_CITIZEN

    @property
    def shows_presenter(self) -> bool:
        return self.organisation is not None

    def validate_presenter(self, field):
        raw = (field.data or AS_CITIZEN).strip()
        if raw == AS_CITIZEN:
            return
        if self.organisation is None or raw != str(self.organisation.id):
            raise ValidationError(_l("Puoi presentare proposte solo a tuo nome o a nome dell'organizzazione "
                                     "verificata che rappresenti."))

    @property
    def on_behalf_of(self):
        """The organisation the proposal is presented for, or None (as a citizen)."""
        if self.organisation is not None and self.presenter.data == str(self.organisation.id):
            return self.organisation
        return None


class EditProposalForm(_ProposalTextForm):
    submit = SubmitField(_l("Salva le modifiche"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivo del ritiro"),
        validators=[_cleaned_length(WITHDRAW_REASON_MAX, _l("Il motivo può avere al massimo %(max)d caratteri.",
                                                            max=WITHDRAW_REASON_MAX), multiline=True)],
        description=_l("Facoltativo: sarà mostrato sulla pagina della proposta."),
    )
    submit = SubmitField(_l("Sì, ritira la proposta"))


class FollowForm(FlaskForm):
    """Only the CSRF token: following is a button."""

